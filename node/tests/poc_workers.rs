//! End to end: Proof of Compute by two real `gonka-worker run` processes (Alice's and
//! Bob's hosts of the development chain, SmolLM2-135M on CPU) against `gonka-node --dev`.
//! In an epoch's generation phase each computes nonces on the model and commits them;
//! each serves its artifacts with Merkle proofs at its registered endpoint; in the
//! validation phase each samples the other's leaves, fetches and checks them, recomputes
//! them and sends one batch of verdicts; when the weights are formed both hosts' PoC
//! weight is their committed count (the genesis weight is 1), which `gonka-worker status`
//! and the metrics show. A new host registers (and updates itself) with `gonka-worker
//! register`. A worker whose model file is not the chain's refuses to start and names both
//! digests.

mod common;

use common::{
	worker::{self, default_model, Worker, DEFAULT_MODEL},
	DevNode,
};
use gonka_client::ChainClient;
use gonka_primitives::HostId;
use polkadot_sdk::{sp_core::crypto::Ss58Codec, sp_keyring::Sr25519Keyring};
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

	// The host's view from the command line.
	let alice_config = workers[0].config.to_str().unwrap().to_string();
	let (ok, status, stderr) = worker::command(&["status", "--config", &alice_config]);
	assert!(ok, "{stderr}");
	assert!(status.contains("endpoint http://127.0.0.1:8400"), "{status}");
	assert!(status.contains("worker key the worker_key_file's"), "{status}");
	assert!(status.contains("model 0: PoC weight"), "{status}");
	assert!(status.contains("worker PoC journal: epoch"), "{status}");
	let scrape = worker::scrape(workers[0].metrics_port);
	assert!(worker::metric(&scrape, "gonka_worker_poc_nonces_total") > 0.0, "{scrape}");
	assert!(worker::metric(&scrape, "gonka_worker_poc_verdicts_total") > 0.0, "{scrape}");

	// A new host registers from the command line: Dave, with a generated worker key.
	let dave = base.path().join("dave");
	std::fs::create_dir_all(&dave).unwrap();
	let worker_key = dave.join("worker.key");
	let (ok, _, stderr) =
		worker::command(&["key", "generate", "--out", worker_key.to_str().unwrap()]);
	assert!(ok, "{stderr}");
	let config = dave.join("worker.toml");
	std::fs::write(
		&config,
		format!(
			"node = \"ws://127.0.0.1:{}\"\nhost = \"{}\"\nworker_key_file = \"{}\"\n\
			 model_file = \"model.gguf\"\n",
			node.rpc_port,
			Sr25519Keyring::Dave.to_account_id().to_ss58check(),
			worker_key.display()
		),
	)
	.unwrap();
	let account = |name: &str| {
		let path = dave.join(format!("{name}.key"));
		std::fs::write(&path, format!("//{name}\n")).unwrap();
		path.to_str().unwrap().to_string()
	};
	let (dave_key, eve_key) = (account("Dave"), account("Eve"));
	let config = config.to_str().unwrap();
	let register = |key: &str, endpoint: &str| {
		worker::command(&[
			"register",
			"--config",
			config,
			"--account-key-file",
			key,
			"--endpoint",
			endpoint,
		])
	};
	let (ok, _, stderr) = register(&eve_key, "http://127.0.0.1:8402");
	assert!(!ok && stderr.contains("not the host"), "another account's key: {stderr}");
	let (ok, _, stderr) = register(&dave_key, "ftp://127.0.0.1:8402");
	assert!(!ok && stderr.contains("not an http"), "{stderr}");
	let (ok, stdout, stderr) = register(&dave_key, "http://127.0.0.1:8402");
	assert!(ok && stdout.starts_with("registered host"), "{stdout}{stderr}");
	let (ok, stdout, stderr) = register(&dave_key, "http://127.0.0.1:8403");
	assert!(ok && stdout.starts_with("updated host"), "{stdout}{stderr}");
	let (ok, status, stderr) = worker::command(&["status", "--config", config]);
	assert!(ok, "{stderr}");
	assert!(status.contains("endpoint http://127.0.0.1:8403"), "{status}");

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
