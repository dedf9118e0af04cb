//! The PoC proof server and client over real HTTP (`jsonrpsee`): a validator fetches a
//! host's leaves and their proofs verify against the committed root; what a host does not
//! serve, an unreachable endpoint, and a port already taken are clear errors.

use gonka_primitives::merkle::{leaf_hash, verify, MerkleTree};
use gonka_worker::{
	api::proofs::{ProofBook, ProofServer, RpcProofs},
	duty::{artifacts::ARTIFACT_BYTES, poc::ProofSource},
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
	let leaves = block_on(RpcProofs.fetch(&endpoint, 5, 0, &indices)).unwrap();
	assert_eq!(leaves.len(), 300);
	for (leaf, index) in leaves.iter().zip(&indices) {
		assert_eq!(leaf.index, *index);
		assert_eq!(leaf.artifact, artifacts[*index as usize].to_vec());
		let hash = leaf_hash(*index, &leaf.artifact);
		assert!(verify(&tree.root(), 1_000, *index, &hash, &leaf.proof), "leaf {index}");
	}
	let unknown = block_on(RpcProofs.fetch(&endpoint, 6, 0, &[0])).unwrap_err().to_string();
	assert!(unknown.contains("no commitment served for epoch 6"), "{unknown}");
	let beyond = block_on(RpcProofs.fetch(&endpoint, 5, 0, &[1_000])).unwrap_err().to_string();
	assert!(beyond.contains("beyond"), "{beyond}");
}

#[test]
fn poc_proofs_unreachable_endpoint_is_an_error() {
	let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
	// The listener is dropped: nothing listens there any more.
	let error =
		block_on(RpcProofs.fetch(&format!("http://{closed}"), 5, 0, &[0])).unwrap_err().to_string();
	assert!(error.contains(&closed.to_string()), "{error}");
	let error = block_on(RpcProofs.fetch("not a url", 5, 0, &[0])).unwrap_err().to_string();
	assert!(error.contains("not a url"), "{error}");
}

#[test]
fn poc_proof_server_on_a_taken_port_says_so() {
	let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
	let address = taken.local_addr().unwrap().to_string();
	let error = ProofServer::start(&address, ProofBook::default()).err().expect("refused");
	assert!(error.to_string().contains(&format!("cannot listen on {address}")), "{error}");
}
