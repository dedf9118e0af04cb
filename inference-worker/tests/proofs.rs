//! The PoC proof server and client over real HTTP (`jsonrpsee`): a validator fetches a
//! host's leaves and their proofs verify against the committed root; what a host does not
//! serve, an unreachable endpoint, and a port already taken are clear errors; a flood of
//! connections, huge bodies and batches do not keep validators out, and a validator asks
//! again before it judges "no proofs".

use gonka_primitives::merkle::{leaf_hash, verify, MerkleTree};
use gonka_worker::{
	api::proofs::{
		ProofBook, ProofServer, RpcProofs, FETCH_BACKOFF, MAX_CONNECTIONS_PER_PEER,
		MAX_REQUEST_BYTES,
	},
	duty::{
		artifacts::ARTIFACT_BYTES,
		poc::{FetchError, ProofSource},
	},
};

fn block_on<F: std::future::Future>(future: F) -> F::Output {
	tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(future)
}

fn artifacts(n: u64) -> Vec<[u8; ARTIFACT_BYTES]> {
	(0..n).map(|i| [(i % 250) as u8 + 1; ARTIFACT_BYTES]).collect()
}

#[test]
fn poc_proofs_over_http_verify_against_the_committed_root() {
	let book = ProofBook::default();
	let artifacts = artifacts(1_000);
	let tree = MerkleTree::from_artifacts(artifacts.iter().map(|a| a.as_slice()));
	assert!(book.publish(5, 0, artifacts.clone(), &tree.root()));
	let server = ProofServer::start("127.0.0.1:0", book).unwrap();
	let endpoint = format!("http://{}", server.address());
	// 300 indices: more than one call's 256.
	let indices: Vec<u64> = (0..300).map(|i| i * 3).collect();
	let leaves = block_on(RpcProofs::default().fetch(&endpoint, 5, 0, 1_000, &indices)).unwrap();
	assert_eq!(leaves.len(), 300);
	for (leaf, index) in leaves.iter().zip(&indices) {
		assert_eq!(leaf.index, *index);
		assert_eq!(leaf.artifact, artifacts[*index as usize].to_vec());
		let hash = leaf_hash(*index, &leaf.artifact);
		assert!(verify(&tree.root(), 1_000, *index, &hash, &leaf.proof), "leaf {index}");
	}
	let unknown =
		block_on(RpcProofs::default().fetch(&endpoint, 6, 0, 1_000, &[0])).unwrap_err().to_string();
	assert!(unknown.contains("no commitment served for epoch 6"), "{unknown}");
	let beyond = block_on(RpcProofs::default().fetch(&endpoint, 5, 0, 1_000, &[1_000]))
		.unwrap_err()
		.to_string();
	assert!(beyond.contains("beyond"), "{beyond}");
	// A validator that found a larger commitment on chain than the one served (the host
	// has not seen its last one included yet) is told so, not given failing proofs.
	let other =
		block_on(RpcProofs::default().fetch(&endpoint, 5, 0, 1_200, &[0])).unwrap_err().to_string();
	assert!(other.contains("not yet the one of 1200"), "{other}");
}

#[test]
fn poc_proofs_unreachable_endpoint_is_an_error() {
	let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
	// The listener is dropped: nothing listens there any more.
	let error =
		block_on(RpcProofs::default().fetch(&format!("http://{closed}"), 5, 0, COUNT, &[0]))
			.unwrap_err()
			.to_string();
	assert!(error.contains(&closed.to_string()), "{error}");
	let error = block_on(RpcProofs::default().fetch("not a url", 5, 0, COUNT, &[0]))
		.unwrap_err()
		.to_string();
	assert!(error.contains("not a url"), "{error}");
}

#[test]
fn poc_proof_server_on_a_taken_port_says_so() {
	let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
	let address = taken.local_addr().unwrap().to_string();
	let error = ProofServer::start(&address, ProofBook::default()).err().expect("refused");
	assert!(error.to_string().contains(&format!("cannot listen on {address}")), "{error}");
}

/// The leaves [`serving`] publishes.
const COUNT: u64 = 1_000;

/// A server with 1,000 published leaves of epoch 5, model 0; returns it and its endpoint.
fn serving() -> (ProofServer, String) {
	let book = ProofBook::default();
	let artifacts = artifacts(COUNT);
	let tree = MerkleTree::from_artifacts(artifacts.iter().map(|a| a.as_slice()));
	assert!(book.publish(5, 0, artifacts, &tree.root()));
	let server = ProofServer::start("127.0.0.1:0", book).unwrap();
	let endpoint = format!("http://{}", server.address());
	(server, endpoint)
}

/// Attack (`docs/security.md`): a validator that gets no answer judges the host invalid,
/// so a peer floods a host's proof server with connections to make it look like a
/// cheater. Rule: the server holds at most `MAX_CONNECTIONS_PER_PEER` connections from one
/// IP address (more are closed at once), so another peer's validator still gets its
/// proofs.
#[test]
fn a_connection_flood_from_one_peer_does_not_keep_validators_out() {
	let (server, endpoint) = serving();
	// One runtime for the whole test: the flood's connections belong to it.
	let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
	let flood = runtime.block_on(async {
		let mut held = Vec::new();
		for _ in 0..160 {
			let socket = tokio::net::TcpSocket::new_v4().unwrap();
			socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
			held.push(socket.connect(server.address()).await.unwrap());
		}
		held
	});
	assert_eq!(flood.len(), 160);
	// The validator, from another address, is served while the flood is held.
	let leaves =
		runtime.block_on(RpcProofs::default().fetch(&endpoint, 5, 0, COUNT, &[0, 1, 2])).unwrap();
	assert_eq!(leaves.len(), 3);
	// The flood's connections beyond the limit were closed by the server.
	let closed = runtime.block_on(async {
		use tokio::io::AsyncReadExt;
		let mut closed = 0;
		for mut stream in flood {
			let mut byte = [0u8; 1];
			let read =
				tokio::time::timeout(std::time::Duration::from_millis(200), stream.read(&mut byte))
					.await;
			if matches!(read, Ok(Ok(0)) | Ok(Err(_))) {
				closed += 1;
			}
		}
		closed
	});
	assert_eq!(closed, 160 - MAX_CONNECTIONS_PER_PEER);
}

/// Attack: a peer sends a huge body or a batch of calls to tie the server up. Rule: a
/// body above `MAX_REQUEST_BYTES` is refused unread (HTTP 413), and batches are refused.
#[test]
fn a_huge_request_or_a_batch_is_refused() {
	use std::io::{Read, Write};
	let (server, endpoint) = serving();
	let mut stream = std::net::TcpStream::connect(server.address()).unwrap();
	let size = MAX_REQUEST_BYTES as usize + 1;
	write!(
		stream,
		"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
		 Content-Length: {size}\r\n\r\n"
	)
	.unwrap();
	let _ = stream.write_all(&vec![b' '; size]);
	let mut answer = String::new();
	let _ = stream.read_to_string(&mut answer);
	assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

	let batch = r#"[{"jsonrpc":"2.0","id":1,"method":"poc_proofs","params":[5,0,[0]]},
		{"jsonrpc":"2.0","id":2,"method":"poc_proofs","params":[5,0,[1]]}]"#;
	let answer = post(&server, batch);
	assert!(!answer.contains("\"result\""), "{answer}");
	// A plain call is served.
	assert!(block_on(RpcProofs::default().fetch(&endpoint, 5, 0, COUNT, &[0])).is_ok());
}

/// `body` posted to the server; the whole HTTP answer.
fn post(server: &ProofServer, body: &str) -> String {
	use std::io::{Read, Write};
	let mut stream = std::net::TcpStream::connect(server.address()).unwrap();
	write!(
		stream,
		"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
		 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
		body.len()
	)
	.unwrap();
	let mut answer = String::new();
	stream.read_to_string(&mut answer).unwrap();
	answer
}

/// Fault: a host's proof server restarts while a validator asks. Rule: the validator asks
/// up to `FETCH_ATTEMPTS` times, with a pause, before it judges "no proofs".
#[test]
fn a_validator_asks_again_before_it_judges_no_proofs() {
	let address = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
	let starting = std::thread::spawn(move || {
		std::thread::sleep(FETCH_BACKOFF / 2);
		let book = ProofBook::default();
		let artifacts = artifacts(10);
		let tree = MerkleTree::from_artifacts(artifacts.iter().map(|a| a.as_slice()));
		assert!(book.publish(5, 0, artifacts, &tree.root()));
		ProofServer::start(&address.to_string(), book).unwrap()
	});
	let leaves =
		block_on(RpcProofs::default().fetch(&format!("http://{address}"), 5, 0, 10, &[0, 9]))
			.unwrap();
	assert_eq!(leaves.len(), 2);
	drop(starting.join().unwrap());
}

/// Serves one connection at a time on a free port: reads a request, waits `delay`, then
/// writes `answer` (nothing if `None`, holding the connection open); returns the endpoint.
fn raw_server(delay: std::time::Duration, answer: Option<&'static str>) -> String {
	use std::io::{Read, Write};
	let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
	let endpoint = format!("http://{}", listener.local_addr().unwrap());
	std::thread::spawn(move || {
		let mut held = Vec::new();
		for mut stream in listener.incoming().flatten() {
			let mut buffer = [0u8; 4096];
			let _ = stream.read(&mut buffer);
			std::thread::sleep(delay);
			if let Some(body) = answer {
				let _ = write!(
					stream,
					"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
					 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
					body.len()
				);
			}
			held.push(stream);
		}
	});
	endpoint
}

/// Attack (`docs/security.md`): a host's endpoint holds every call open until the
/// validator's timeout, or answers an error just before it, so that a validator asking
/// again would spend its validation waiting. Rule: a fetch that took the whole timeout or
/// a quarter of it to serve nothing is `FetchError::Slow`, which the duties do not ask
/// again; a quick failure is asked again.
#[test]
fn a_host_that_fails_slowly_is_not_worth_asking_again() {
	let proofs = RpcProofs { timeout: std::time::Duration::from_secs(1) };
	let held = raw_server(std::time::Duration::ZERO, None);
	let error = block_on(proofs.fetch(&held, 5, 0, COUNT, &[0])).unwrap_err();
	assert!(matches!(error, FetchError::Slow { .. }), "{error}");
	assert!(!error.worth_asking_again());
	let slow_error = raw_server(
		std::time::Duration::from_millis(400),
		Some(r#"{"jsonrpc":"2.0","id":0,"error":{"code":-32001,"message":"not yet"}}"#),
	);
	let error = block_on(proofs.fetch(&slow_error, 5, 0, COUNT, &[0])).unwrap_err();
	assert!(matches!(error, FetchError::Slow { .. }), "{error}");
	let quick_error = raw_server(
		std::time::Duration::ZERO,
		Some(r#"{"jsonrpc":"2.0","id":0,"error":{"code":-32001,"message":"not yet"}}"#),
	);
	let error = block_on(proofs.fetch(&quick_error, 5, 0, COUNT, &[0])).unwrap_err();
	assert!(matches!(error, FetchError::Endpoint { .. }), "{error}");
	assert!(error.worth_asking_again());
}
