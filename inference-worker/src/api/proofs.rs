//! PoC proofs over JSON-RPC (`jsonrpsee`): a host's worker serves the artifacts it
//! committed with their Merkle proofs at its registered endpoint; validators fetch them.
//!
//! One method, `poc_proofs(epoch, model, indices)`, answers an array of
//! `{ "index": n, "artifact": "0x<24 bytes>", "proof": ["0x<32 bytes>", …] }`, one per
//! index asked, the proof's siblings lowest first (`gonka_primitives::merkle`). At most
//! [`MAX_INDICES`] indices per call. Errors: `-32001` nothing committed is served for
//! that epoch and model, `-32602` too many indices or an index beyond the commitment.
//!
//! The server runs on its own thread (its own single-threaded async runtime), so it keeps
//! answering while the duties' thread computes. [`RpcProofs`] is the validators' client,
//! the PoC duties' [`ProofSource`].

use crate::{
	duty::{
		artifacts::ARTIFACT_BYTES,
		poc::{FetchError, ProofSource, ServedLeaf},
	},
	Error, Result,
};
use gonka_primitives::{merkle::MerkleTree, EpochIndex, ModelId, H256};
use jsonrpsee::{
	core::client::ClientT,
	http_client::HttpClientBuilder,
	rpc_params,
	server::{RpcModule, Server, ServerHandle},
	types::{ErrorObjectOwned, Params},
};
use serde::{Deserialize, Serialize};
use std::{
	collections::BTreeMap,
	net::SocketAddr,
	sync::{Arc, RwLock},
	time::Duration,
};

/// The most indices one `poc_proofs` call may ask for: room for the whole sample.
pub const MAX_INDICES: usize = 256;
const _: () = assert!(gonka_primitives::bounds::POC_SAMPLE_SIZE as usize <= MAX_INDICES);

/// How long a validator waits for a host's answer.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(20);

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
		let (sender, receiver) = std::sync::mpsc::channel();
		let listen = listen.to_string();
		std::thread::Builder::new()
			.name("poc-proofs".into())
			.spawn(move || serve(&listen, book, sender))
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
fn serve(listen: &str, book: ProofBook, started: Started) {
	let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
		Ok(runtime) => runtime,
		Err(error) => {
			let _ = started.send(Err(Error::Poc(error.to_string())));
			return;
		}
	};
	runtime.block_on(async move {
		match listen_on(listen, book).await {
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

/// Binds `listen` and starts answering `poc_proofs` from `book`.
async fn listen_on(listen: &str, book: ProofBook) -> Result<(SocketAddr, ServerHandle)> {
	let server = Server::builder()
		.build(listen)
		.await
		.map_err(|error| Error::Poc(format!("cannot listen on {listen}: {error}")))?;
	let address = server.local_addr().map_err(|error| Error::Poc(error.to_string()))?;
	let mut module = RpcModule::new(book);
	module
		.register_method("poc_proofs", |params: Params, book: &ProofBook, _| {
			let (epoch, model, indices): (EpochIndex, ModelId, Vec<u64>) = params.parse()?;
			book.answer(epoch, model, &indices)
		})
		.map_err(|error| Error::Poc(error.to_string()))?;
	Ok((address, server.start(module)))
}

impl Drop for ProofServer {
	fn drop(&mut self) {
		let _ = self.handle.stop();
	}
}

/// Fetches proofs from other hosts' endpoints over HTTP.
#[derive(Clone, Copy, Debug, Default)]
pub struct RpcProofs;

impl ProofSource for RpcProofs {
	async fn fetch(
		&self,
		endpoint: &str,
		epoch: EpochIndex,
		model: ModelId,
		indices: &[u64],
	) -> std::result::Result<Vec<ServedLeaf>, FetchError> {
		let failed = |error: &dyn std::fmt::Display| FetchError::Endpoint {
			endpoint: endpoint.to_string(),
			reason: error.to_string(),
		};
		let client = HttpClientBuilder::default()
			.request_timeout(FETCH_TIMEOUT)
			.build(endpoint)
			.map_err(|error| failed(&error))?;
		let mut leaves = Vec::with_capacity(indices.len());
		for chunk in indices.chunks(MAX_INDICES) {
			let wire: Vec<WireLeaf> = client
				.request("poc_proofs", rpc_params![epoch, model, chunk])
				.await
				.map_err(|error| failed(&error))?;
			leaves.extend(wire.iter().map(WireLeaf::parse));
		}
		Ok(leaves)
	}
}
