//! End to end: two real `gonka-worker run` processes (Alice's and Bob's hosts of the
//! development chain, SmolLM2-135M on CPU) against `gonka-node --dev`. A developer's
//! request is executed by its executor's worker with the real model, the other worker is
//! sampled, replays the result and reports it passing, and the request closes validated
//! with the validator's share of the fee. A second request comes from the command line
//! (`gonka-worker infer`: the answer and its cost), bad ones are refused, and the workers'
//! Prometheus metrics count the executions. Then the node is stopped and started again on
//! the same database: the workers reconnect by themselves and serve a second request.

mod common;

use common::{
	worker::{self, Worker, DEFAULT_MODEL},
	DevNode,
};
use gonka_client::{ChainClient, Outcome, RequestStatus};
use gonka_primitives::{inference::SamplingParams, HostId};
use polkadot_sdk::sp_keyring::Sr25519Keyring;
use std::time::Duration;

/// PoC goes on meanwhile, kept small (the PoC test is `poc_workers.rs`). Two nonces a
/// batch: at ~1.7 nonces/s (this machine's CPU) a batch of four took most of the 4-block
/// generation phase at 1 s blocks, and a host whose only commitment came after the phase
/// had ended had no weight, hence no power, and was never sampled to validate.
const POC: &str = "poc_max_nonces = 4\npoc_batch = 2\n";

/// Execution, replay, and the 20-block validation window at 1 s blocks, with slack.
const CLOSE_DEADLINE: Duration = Duration::from_secs(240);

/// Waits for `check`, or fails with the node's and the workers' logs.
async fn until<F, Fut>(node: &DevNode, workers: &[Worker], what: &str, check: F)
where
	F: FnMut() -> Fut,
	Fut: std::future::Future<Output = bool>,
{
	let logs = || {
		let workers: Vec<String> = workers.iter().map(Worker::log).collect();
		format!("workers:\n{}\nnode:\n{}", workers.join("\n---\n"), node.log_tail())
	};
	common::wait_until(what, CLOSE_DEADLINE, Duration::from_millis(500), check, logs).await
}

/// Submits a request and waits until it closes; returns its executor, cost and outcome.
async fn served(
	client: &ChainClient,
	node: &DevNode,
	workers: &[Worker],
) -> (HostId, u128, Outcome) {
	let developer = subxt_signer::sr25519::dev::charlie();
	let submitted = client
		.request(
			&developer,
			DEFAULT_MODEL,
			b"What is the capital of France?",
			8,
			SamplingParams::GREEDY,
		)
		.await
		.expect("the developer's request is included");
	let id = submitted.request;
	until(node, workers, "the request closes", || async {
		matches!(
			client.request_view(id).await.ok().flatten().map(|view| view.request.status),
			Some(RequestStatus::Closed(_))
		)
	})
	.await;
	let view = client.request_view(id).await.unwrap().expect("kept until its retention ends");
	let RequestStatus::Closed(outcome) = view.request.status else { unreachable!() };
	let finish = view.request.finish.expect("the executor's worker finished it");
	assert!(!view.token_ids.is_empty(), "a completion was generated");
	(submitted.executor, finish.cost, outcome)
}

#[tokio::test(flavor = "multi_thread")]
async fn two_workers_execute_validate_and_carry_on_after_the_node_restarts() {
	let base = tempfile::tempdir().expect("temporary base path");
	let mut node = DevNode::start(base.path(), "node.log", 1000);
	let client = ChainClient::new(node.connect().await);
	let workers = vec![
		Worker::start(base.path(), Sr25519Keyring::Alice, node.rpc_port, POC),
		Worker::start(base.path(), Sr25519Keyring::Bob, node.rpc_port, POC),
	];
	until(&node, &workers, "both workers follow the chain", || async {
		workers.iter().all(Worker::following)
	})
	.await;

	let (executor, cost, outcome) = served(&client, &node, &workers).await;
	assert!(
		matches!(outcome, Outcome::Validated),
		"closed {outcome:?}\n{}",
		workers.iter().map(Worker::log).collect::<Vec<_>>().join("\n---\n")
	);
	let alice = Sr25519Keyring::Alice.to_account_id();
	let validator = if executor == alice { Sr25519Keyring::Bob.to_account_id() } else { alice };
	let held = client.inference_host(&validator).await.unwrap().pending_work;
	assert!(held >= cost / 2, "the validator holds its share: {held} of {cost}");

	// A developer's request from the command line: answered with its cost.
	let key = base.path().join("charlie.key");
	std::fs::write(&key, "//Charlie\n").unwrap();
	let node_url = format!("ws://127.0.0.1:{}", node.rpc_port);
	let (ok, stdout, stderr) = worker::command(&[
		"infer",
		"--node",
		&node_url,
		"--account-key-file",
		key.to_str().unwrap(),
		"--model",
		"smollm2-135m",
		"--prompt",
		"Name a colour.",
		"--max-tokens",
		"6",
		"--timeout-secs",
		"180",
	]);
	assert!(ok, "infer failed:\n{stderr}");
	assert!(
		stdout.contains("completion tokens, cost ") && stdout.contains("executed by"),
		"{stdout}"
	);
	assert!(stdout.lines().next().is_some_and(|answer| !answer.is_empty()), "{stdout}");
	// Bad input: an empty prompt, a model the chain does not have (by id, by name).
	for (flag, value, says) in [
		("--prompt", "", "the prompt is empty"),
		("--model", "7", "model 7 is not approved"),
		("--model", "llama-70b", "no model `llama-70b` on this chain"),
	] {
		let mut args =
			vec!["infer", "--node", &node_url, "--account-key-file", key.to_str().unwrap()];
		if flag == "--model" {
			args.extend(["--prompt", "Hi"]);
		}
		args.extend([flag, value]);
		let (ok, _, stderr) = worker::command(&args);
		assert!(!ok && stderr.contains(says), "{stderr}");
	}

	// Both executions show in the workers' metrics.
	let scrapes: Vec<String> = workers.iter().map(|w| worker::scrape(w.metrics_port)).collect();
	let sum = |name: &str| scrapes.iter().map(|s| worker::metric(s, name)).sum::<f64>();
	assert!(sum("gonka_worker_tokens_total") > 0.0, "{scrapes:?}");
	assert!(sum("gonka_worker_jobs_total") >= 2.0, "{scrapes:?}");
	assert!(sum("gonka_worker_finalized_block") > 0.0, "{scrapes:?}");

	// The node goes away and comes back on the same database; the workers reconnect.
	let port = node.rpc_port;
	let before = client.block_number().await.unwrap();
	node.stop();
	let mut node = DevNode::start_on(base.path(), "node-2.log", 1000, port);
	let client = ChainClient::new(node.connect().await);
	// Both workers back on the chain (their backoff reaches 16 s) before the request: the
	// validator has 20 one-second blocks to report.
	until(&node, &workers, "both workers follow the restarted node", || async {
		workers.iter().all(|w| {
			worker::metric(&worker::scrape(w.metrics_port), "gonka_worker_finalized_block")
				> f64::from(before)
		})
	})
	.await;
	let (_, _, outcome) = served(&client, &node, &workers).await;
	assert!(
		matches!(outcome, Outcome::Validated),
		"after the restart: {outcome:?}\n{}",
		workers.iter().map(Worker::log).collect::<Vec<_>>().join("\n---\n")
	);
	assert!(workers.iter().any(|w| w.log().contains("reconnecting")));
}
