//! PoC proofs over JSON-RPC (`jsonrpsee`): a host's worker serves the artifacts it
//! committed with their Merkle proofs at its registered endpoint; validators fetch them.
//!
//! One method, `poc_proofs(epoch, model, indices, count)`, answers an array of
//! `{ "index": n, "artifact": "0x<24 bytes>", "proof": ["0x<32 bytes>", …] }`, one per
//! index asked, the proof's siblings lowest first (`gonka_primitives::merkle`). At most
//! [`MAX_INDICES`] indices per call. `count` (optional) is the count of the commitment the
//! validator found on chain: a host that serves another one (it has not yet seen its last
//! commitment included) answers `-32001` rather than leaves whose proofs would fail
//! against that root. Errors: `-32001` nothing committed is served for that epoch and
//! model (or not the commitment of `count` leaves), `-32602` too many indices or an index
//! beyond the commitment.
//!
//! The server runs on its own thread (its own single-threaded async runtime), so it keeps
//! answering while the duties' thread computes. A validator that gets no answer judges
//! the host invalid, so the server is bounded against a flood meant to make an honest
//! host look like a cheater (`docs/security.md`): no batches, request bodies
//! of at most [`MAX_REQUEST_BYTES`], at most [`MAX_CONNECTIONS`] connections in all and
//! [`MAX_CONNECTIONS_PER_PEER`] from one IP address (more are closed at once).
//!
//! [`RpcProofs`] is the validators' client, the PoC duties' [`ProofSource`]: it asks up to
//! [`FETCH_ATTEMPTS`] times, pausing [`FETCH_BACKOFF`] and then twice that between
//! attempts, all within its timeout ([`FETCH_TIMEOUT`]), before it reports that a host
//! served no proofs; [`FetchError::Slow`] when that took the whole timeout or a quarter of
//! it (a host the duties then judge at once rather than ask again).

use crate::{
	duty::{
		artifacts::ARTIFACT_BYTES,
		poc::{FetchError, ProofSource, ServedLeaf},
	},
	Error, Result,
};
use gonka_primitives::{merkle::MerkleTree, EpochIndex, ModelId, H256};
use jsonrpsee::{
	core::{client::ClientT, ClientError},
	http_client::HttpClientBuilder,
	rpc_params,
	server::{
		serve_with_graceful_shutdown, stop_channel, BatchRequestConfig, Methods, RpcModule, Server,
		ServerHandle, StopHandle,
	},
	types::{ErrorObjectOwned, Params},
};
use serde::{Deserialize, Serialize};
use std::{
	collections::BTreeMap,
	net::{IpAddr, SocketAddr},
	sync::{Arc, Mutex, RwLock},
	time::Duration,
};

/// The most indices one `poc_proofs` call may ask for: room for the whole sample.
pub const MAX_INDICES: usize = 256;
const _: () = assert!(gonka_primitives::bounds::POC_SAMPLE_SIZE as usize <= MAX_INDICES);

/// How long a validator waits for a host's proofs, all attempts included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(20);
/// How many times a validator asks a host before it judges "no proofs".
pub const FETCH_ATTEMPTS: u32 = 3;
/// The pause after a validator's first failed attempt (doubled after each later one).
pub const FETCH_BACKOFF: Duration = Duration::from_secs(1);

/// The largest request body (or WebSocket message) the server reads: a call with
/// [`MAX_INDICES`] indices is about 6 KiB; a channel request carries its prompt, in hex.
pub const MAX_REQUEST_BYTES: u32 = 1024 * 1024;
/// The largest answer: [`MAX_INDICES`] leaves with proofs of up to 40 siblings, about
/// 1.4 MiB in hex.
pub const MAX_RESPONSE_BYTES: u32 = 4 * 1024 * 1024;
/// Connections the server holds at once, from everyone (a validator needs one).
pub const MAX_CONNECTIONS: u32 = 256;
/// Connections the server holds at once from one IP address; more are closed at once.
pub const MAX_CONNECTIONS_PER_PEER: usize = 8;

/// Subscriptions one connection may hold (a gateway streams a request per subscription;
/// the channels' queue bounds the requests of all connections together).
pub const MAX_SUBSCRIPTIONS_PER_CONNECTION: u32 = 16;

/// Nothing committed is served for the epoch and model asked.
pub const NOT_SERVED: i32 = -32001;
/// Invalid parameters (JSON-RPC's code).
pub const INVALID_PARAMS: i32 = -32602;

/// One leaf on the wire.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WireLeaf {
	/// The leaf's index.
	pub index: u64,
	/// `0x`-prefixed hex of the artifact.
	pub artifact: String,
	/// `0x`-prefixed hex of each sibling.
	pub proof: Vec<String>,
}

fn to_hex(bytes: &[u8]) -> String {
	format!("0x{}", hex::encode(bytes))
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
	hex::decode(text.strip_prefix("0x")?).ok()
}

impl WireLeaf {
	/// The leaf as received; malformed hex leaves an empty artifact or drops a sibling, so
	/// the proof fails and the leaf counts as a mismatch.
	pub fn parse(&self) -> ServedLeaf {
		ServedLeaf {
			index: self.index,
			artifact: from_hex(&self.artifact).unwrap_or_default(),
			proof: self
				.proof
				.iter()
				.filter_map(|sibling| {
					let bytes: [u8; 32] = from_hex(sibling)?.try_into().ok()?;
					Some(H256(bytes))
				})
				.collect(),
		}
	}
}

/// A commitment being served: its artifacts and their tree.
#[derive(Debug)]
struct Served {
	artifacts: Vec<[u8; ARTIFACT_BYTES]>,
	tree: MerkleTree,
}

/// The served commitments by epoch and model.
type Shelf = BTreeMap<(EpochIndex, ModelId), Arc<Served>>;

/// The commitments this worker serves, shared between the duties (which publish) and the
/// server (which answers).
#[derive(Clone, Debug, Default)]
pub struct ProofBook {
	served: Arc<RwLock<Shelf>>,
}

impl ProofBook {
	/// Serves `artifacts` for `(epoch, model)` if their tree's root is `root`; `false`
	/// (and nothing served) otherwise.
	pub fn publish(
		&self,
		epoch: EpochIndex,
		model: ModelId,
		artifacts: Vec<[u8; ARTIFACT_BYTES]>,
		root: &H256,
	) -> bool {
		let tree = MerkleTree::from_artifacts(artifacts.iter().map(|a| a.as_slice()));
		if tree.root() != *root {
			return false;
		}
		if let Ok(mut served) = self.served.write() {
			served.insert((epoch, model), Arc::new(Served { artifacts, tree }));
		}
		true
	}

	/// Stops serving epochs before `epoch`.
	pub fn retain_from(&self, epoch: EpochIndex) {
		if let Ok(mut served) = self.served.write() {
			served.retain(|(served_epoch, _), _| *served_epoch >= epoch);
		}
	}

	/// The answer to `poc_proofs(epoch, model, indices)`.
	pub fn answer(
		&self,
		epoch: EpochIndex,
		model: ModelId,
		indices: &[u64],
		count: Option<u64>,
	) -> std::result::Result<Vec<WireLeaf>, ErrorObjectOwned> {
		if indices.len() > MAX_INDICES {
			return Err(ErrorObjectOwned::owned(
				INVALID_PARAMS,
				format!("at most {MAX_INDICES} indices per call, {} asked", indices.len()),
				None::<()>,
			));
		}
		let served = self
			.served
			.read()
			.ok()
			.and_then(|served| served.get(&(epoch, model)).cloned())
			.ok_or_else(|| {
				ErrorObjectOwned::owned(
					NOT_SERVED,
					format!("no commitment served for epoch {epoch}, model {model}"),
					None::<()>,
				)
			})?;
		let served_count = served.artifacts.len() as u64;
		if let Some(count) = count.filter(|count| *count != served_count) {
			return Err(ErrorObjectOwned::owned(
				NOT_SERVED,
				format!(
					"epoch {epoch}, model {model}: serving the commitment of {served_count} \
					 leaves, not yet the one of {count}"
				),
				None::<()>,
			));
		}
		indices
			.iter()
			.map(|index| {
				let artifact = served.artifacts.get(*index as usize);
				let proof = served.tree.proof(*index);
				match (artifact, proof) {
					(Some(artifact), Some(proof)) => Ok(WireLeaf {
						index: *index,
						artifact: to_hex(artifact),
						proof: proof.iter().map(|sibling| to_hex(sibling.as_bytes())).collect(),
					}),
					_ => Err(ErrorObjectOwned::owned(
						INVALID_PARAMS,
						format!(
							"index {index} is beyond the commitment's {} leaves",
							served.artifacts.len()
						),
						None::<()>,
					)),
				}
			})
			.collect()
	}
}

/// The `poc_proofs` server, stopped when dropped.
pub struct ProofServer {
	address: SocketAddr,
	handle: ServerHandle,
}

impl ProofServer {
	/// Listens on `listen` (e.g. `0.0.0.0:8400`) and answers from `book`.
	pub fn start(listen: &str, book: ProofBook) -> Result<Self> {
		Self::start_with(listen, book, Methods::new())
	}

	/// Listens on `listen`, answers `poc_proofs` from `book` and `more` methods beside
	/// them (the channels' executor endpoint, [`crate::api::channels`]).
	pub fn start_with(listen: &str, book: ProofBook, more: impl Into<Methods>) -> Result<Self> {
		let (sender, receiver) = std::sync::mpsc::channel();
		let listen = listen.to_string();
		let more = more.into();
		std::thread::Builder::new()
			.name("poc-proofs".into())
			.spawn(move || serve(&listen, book, more, sender))
			.map_err(Error::io("starting the PoC proof server's thread"))?;
		let (address, handle) = receiver
			.recv()
			.map_err(|_| Error::Poc("the PoC proof server's thread ended".into()))??;
		tracing::info!(%address, "serving PoC proofs");
		Ok(Self { address, handle })
	}

	/// The address it listens on.
	pub fn address(&self) -> SocketAddr {
		self.address
	}
}

/// Where the server's thread reports that it listens (or why it cannot).
type Started = std::sync::mpsc::Sender<Result<(SocketAddr, ServerHandle)>>;

/// The server's thread: its own single-threaded runtime, serving until stopped.
fn serve(listen: &str, book: ProofBook, more: Methods, started: Started) {
	let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
		Ok(runtime) => runtime,
		Err(error) => {
			let _ = started.send(Err(Error::Poc(error.to_string())));
			return;
		}
	};
	runtime.block_on(async move {
		match listen_on(listen, book, more).await {
			Ok((address, handle)) => {
				let _ = started.send(Ok((address, handle.clone())));
				handle.stopped().await;
			}
			Err(error) => {
				let _ = started.send(Err(error));
			}
		}
	});
}

/// Binds `listen` and starts answering `poc_proofs` from `book`, within the server's
/// limits.
async fn listen_on(
	listen: &str,
	book: ProofBook,
	more: Methods,
) -> Result<(SocketAddr, ServerHandle)> {
	let listener = tokio::net::TcpListener::bind(listen)
		.await
		.map_err(|error| Error::Poc(format!("cannot listen on {listen}: {error}")))?;
	let address = listener.local_addr().map_err(|error| Error::Poc(error.to_string()))?;
	let mut module = RpcModule::new(book);
	module
		.register_method("poc_proofs", |params: Params, book: &ProofBook, _| {
			let mut params = params.sequence();
			let epoch: EpochIndex = params.next()?;
			let model: ModelId = params.next()?;
			let indices: Vec<u64> = params.next()?;
			let count: Option<u64> = params.optional_next()?;
			book.answer(epoch, model, &indices, count)
		})
		.map_err(|error| Error::Poc(error.to_string()))?;
	module.merge(more).map_err(|error| Error::Poc(error.to_string()))?;
	let (stop, handle) = stop_channel();
	tokio::spawn(accept(listener, module.into(), stop));
	Ok((address, handle))
}

/// Accepts connections until the server stops: each one served by jsonrpsee within the
/// body, batch and connection limits, unless its IP address holds
/// [`MAX_CONNECTIONS_PER_PEER`] already (then it is closed at once).
async fn accept(listener: tokio::net::TcpListener, methods: Methods, stop: StopHandle) {
	let builder = Server::builder()
		.max_request_body_size(MAX_REQUEST_BYTES)
		.max_subscriptions_per_connection(MAX_SUBSCRIPTIONS_PER_CONNECTION)
		.max_response_body_size(MAX_RESPONSE_BYTES)
		.max_connections(MAX_CONNECTIONS)
		.set_batch_request_config(BatchRequestConfig::Disabled)
		.to_service_builder();
	let peers = PeerCounts::default();
	loop {
		let (socket, remote) = tokio::select! {
			accepted = listener.accept() => match accepted {
				Ok(accepted) => accepted,
				Err(error) => {
					// Out of file descriptors, say: wait instead of spinning.
					tracing::warn!(%error, "PoC proof server: a connection was not accepted");
					tokio::time::sleep(Duration::from_millis(100)).await;
					continue;
				}
			},
			_ = stop.clone().shutdown() => break,
		};
		let Some(permit) = PeerPermit::take(&peers, remote.ip()) else {
			tracing::debug!(peer = %remote, "PoC proof server: too many connections from it");
			continue;
		};
		let service = builder.clone().build(methods.clone(), stop.clone());
		let stopped = stop.clone().shutdown();
		tokio::spawn(async move {
			let _permit = permit;
			let _ = serve_with_graceful_shutdown(socket, service, stopped).await;
		});
	}
}

/// Open connections by IP address.
type PeerCounts = Arc<Mutex<BTreeMap<IpAddr, usize>>>;

/// One connection of a peer, counted while it is open.
struct PeerPermit {
	peers: PeerCounts,
	ip: IpAddr,
}

impl PeerPermit {
	/// Counts a connection from `ip`, unless it holds the most already.
	fn take(peers: &PeerCounts, ip: IpAddr) -> Option<Self> {
		let mut counts = peers.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		let count = counts.entry(ip).or_default();
		if *count >= MAX_CONNECTIONS_PER_PEER {
			return None;
		}
		*count += 1;
		Some(Self { peers: peers.clone(), ip })
	}
}

impl Drop for PeerPermit {
	fn drop(&mut self) {
		let mut counts = self.peers.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		if let Some(count) = counts.get_mut(&self.ip) {
			*count = count.saturating_sub(1);
			if *count == 0 {
				counts.remove(&self.ip);
			}
		}
	}
}

impl Drop for ProofServer {
	fn drop(&mut self) {
		let _ = self.handle.stop();
	}
}

/// Fetches proofs from other hosts' endpoints over HTTP.
#[derive(Clone, Copy, Debug)]
pub struct RpcProofs {
	/// How long it waits for a host's proofs, all attempts included: [`FETCH_TIMEOUT`].
	pub timeout: Duration,
}

impl Default for RpcProofs {
	fn default() -> Self {
		Self { timeout: FETCH_TIMEOUT }
	}
}

impl ProofSource for RpcProofs {
	async fn fetch(
		&self,
		endpoint: &str,
		epoch: EpochIndex,
		model: ModelId,
		count: u64,
		indices: &[u64],
	) -> std::result::Result<Vec<ServedLeaf>, FetchError> {
		let started = std::time::Instant::now();
		let attempts = self.attempts(endpoint, epoch, model, count, indices);
		let slow = |reason: String| FetchError::Slow { endpoint: endpoint.to_string(), reason };
		match tokio::time::timeout(self.timeout, attempts).await {
			Err(_) => Err(slow(format!("no proofs within {:?}", self.timeout))),
			Ok(Err(error)) if started.elapsed() >= self.timeout / 4 => {
				Err(slow(format!("{error} (after {:.1} s)", started.elapsed().as_secs_f64())))
			}
			Ok(result) => result,
		}
	}
}

impl RpcProofs {
	/// Up to [`FETCH_ATTEMPTS`] attempts, with pauses between them.
	async fn attempts(
		&self,
		endpoint: &str,
		epoch: EpochIndex,
		model: ModelId,
		count: u64,
		indices: &[u64],
	) -> std::result::Result<Vec<ServedLeaf>, FetchError> {
		let mut pause = FETCH_BACKOFF;
		let mut attempt = 1;
		loop {
			match fetch_once(endpoint, epoch, model, count, indices, self.timeout).await {
				Ok(leaves) => return Ok(leaves),
				Err((error, Retry::No)) => return Err(error),
				Err((error, Retry::Yes)) if attempt >= FETCH_ATTEMPTS => return Err(error),
				Err((error, Retry::Yes)) => {
					tracing::info!(%error, attempt, "PoC proofs not fetched; asking again");
					tokio::time::sleep(pause).await;
					pause = pause.saturating_mul(2);
					attempt += 1;
				}
			}
		}
	}
}

/// Whether a failed attempt is worth another.
enum Retry {
	/// The host answered (an error, or something malformed), or the endpoint is not a URL.
	No,
	/// No answer: refused, unreachable, or the server was busy.
	Yes,
}

/// One attempt of [`RpcProofs::fetch`].
async fn fetch_once(
	endpoint: &str,
	epoch: EpochIndex,
	model: ModelId,
	count: u64,
	indices: &[u64],
	timeout: Duration,
) -> std::result::Result<Vec<ServedLeaf>, (FetchError, Retry)> {
	let failed = |error: &dyn std::fmt::Display| FetchError::Endpoint {
		endpoint: endpoint.to_string(),
		reason: error.to_string(),
	};
	let client = HttpClientBuilder::default()
		.request_timeout(timeout)
		.build(endpoint)
		.map_err(|error| (failed(&error), Retry::No))?;
	let mut leaves = Vec::with_capacity(indices.len());
	for chunk in indices.chunks(MAX_INDICES) {
		let wire: Vec<WireLeaf> = client
			.request("poc_proofs", rpc_params![epoch, model, chunk, count])
			.await
			.map_err(|error| {
				let retry = match error {
					// An answer, or a host that took the whole timeout: asking again
					// would only push the validation past its phase.
					ClientError::Call(_)
					| ClientError::ParseError(_)
					| ClientError::RequestTimeout => Retry::No,
					_ => Retry::Yes,
				};
				(failed(&error), retry)
			})?;
		leaves.extend(wire.iter().map(WireLeaf::parse));
	}
	Ok(leaves)
}
