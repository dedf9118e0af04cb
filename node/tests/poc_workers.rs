//! End to end: Proof of Compute by two real `gonka-worker run` processes (Alice's and
//! Bob's hosts of the development chain, SmolLM2-135M on CPU) against `gonka-node --dev`.
//! In an epoch's generation phase each computes nonces on the model and commits them;
//! each serves its artifacts with Merkle proofs at its registered endpoint; in the
//! validation phase each samples the other's leaves, fetches and checks them, recomputes
//! them and sends one batch of verdicts; when the weights are formed both hosts' PoC
//! weight is their committed count (the genesis weight is 1). A worker whose model file
//! is not the chain's refuses to start and names both digests.

mod common;

use common::{
	worker::{default_model, Worker, DEFAULT_MODEL},
	DevNode,
};
use gonka_client::ChainClient;
use gonka_primitives::HostId;
use polkadot_sdk::sp_keyring::Sr25519Keyring;
use std::time::Duration;

/// Blocks long enough for two CPU workers on two cores to recompute each other's nonces
/// within the dev chain's 4-block validation phase.
const BLOCK_MS: u64 = 3_000;

/// The most nonces per host and epoch: a quick epoch.
const NONCES: u64 = 6;

/// A few 48-second epochs: the workers may start in the middle of one.
const DEADLINE: Duration = Duration::from_secs(360);

/// Whether `host` holds, as its PoC weight, its commitment in the epoch in progress or the
/// one before (more than the genesis weight, 1).
async fn gained(client: &ChainClient, host: &HostId) -> bool {
	let Ok(Some(epoch)) = client.epoch().await else { return false };
	let Ok(weight) = client.poc_weight(host, DEFAULT_MODEL).await else { return false };
	for index in [epoch.index, epoch.index.saturating_sub(1)] {
		if let Ok(Some(commitment)) = client.commitment(index, host, DEFAULT_MODEL).await {
			if commitment.count > 1 && weight == commitment.count {
				return true;
			}
		}
	}
	false
}

#[tokio::test(flavor = "multi_thread")]
async fn two_workers_commit_validate_each_other_and_gain_poc_weight() {
	let base = tempfile::tempdir().expect("temporary base path");
	let mut node = DevNode::start(base.path(), "node.log", BLOCK_MS);
	let client = ChainClient::new(node.connect().await);
	let poc = format!("poc_max_nonces = {NONCES}\npoc_batch = 3\n");
	let workers = [
		Worker::start(base.path(), Sr25519Keyring::Alice, node.rpc_port, &poc),
		Worker::start(base.path(), Sr25519Keyring::Bob, node.rpc_port, &poc),
	];
	let hosts = [Sr25519Keyring::Alice.to_account_id(), Sr25519Keyring::Bob.to_account_id()];
	let logs = || {
		let workers: Vec<String> = workers.iter().map(Worker::log).collect();
		format!("workers:\n{}\nnode:\n{}", workers.join("\n---\n"), node.log_tail())
	};
	common::wait_until(
		"both hosts' PoC weight becomes their committed count",
		DEADLINE,
		Duration::from_secs(1),
		|| async {
			let mut all = true;
			for host in &hosts {
				all &= gained(&client, host).await;
			}
			all
		},
		logs,
	)
	.await;
	for worker in &workers {
		let log = worker.log();
		assert!(log.contains("PoC commitment sent"), "{log}");
		assert!(log.contains("serving PoC proofs"), "{log}");
		assert!(log.contains("PoC verdicts sent"), "{log}");
		assert!(!log.contains("valid=false"), "no host judged invalid:\n{log}");
	}

	// Another file than the chain's record: refused before serving, naming both digests.
	let other = base.path().join("other.gguf");
	let mut bytes = std::fs::read(default_model()).unwrap();
	let last = bytes.len() - 1;
	bytes[last] ^= 0xff;
	std::fs::write(&other, bytes).unwrap();
	let mut refused = Worker::start_with_model(
		&base.path().join("tampered"),
		Sr25519Keyring::Alice,
		node.rpc_port,
		"",
		&other,
		common::free_port(),
	);
	let status = refused.exit_within(Duration::from_secs(180)).expect("the worker stops by itself");
	assert!(!status.success());
	let log = refused.log();
	let found = gonka_worker::catalog::sha256_file(&other).unwrap();
	let expected = gonka_worker::catalog::SMOLLM2_135M.sha256;
	assert!(log.contains("refusing to serve model 0"), "{log}");
	assert!(log.contains(&found) && log.contains(expected), "both digests named:\n{log}");
}
