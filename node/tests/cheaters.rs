//! End to end: a cheating host among honest ones, with the real binaries and the real model.
//! `gonka-node --dev`, Alice's and Bob's honest workers, and Eve, registered when the chain
//! starts, whose worker is `gonka-worker-cheats` (the worker built alone with the
//! `test-cheats` feature; `scripts/env.sh`'s `gonka_build` builds it):
//!
//! 1. Eve commits random artifacts instead of running the model: the honest workers sample
//!    her leaves, recompute them, and the chain rejects her commitment (weight 0);
//! 2. Eve's worker comes back computing PoC honestly but answering requests with a cheaper
//!    quantization of the model (Q4_0 instead of the registered Q4_1), which passes the
//!    digest check because its `model_file` is the real one: her PoC is accepted, so she is
//!    drawn to execute requests; the validators' replays of her answers fail, the hosts
//!    vote, the request is invalidated and the developer refunded its cost;
//! 3. Eve's worker comes back answering with another model (the registered one without its
//!    last 6 of 30 layers, same tokenizer): her sampled answers fail the replay too, and one
//!    is invalidated and refunded;
//! 4. Eve's worker comes back as a lazy executor: the registered model, each completion cut
//!    after two tokens and ended there with the end-of-turn token (an empty or unended
//!    completion the chain refuses outright: `pallet-inference`'s
//!    `a_completion_is_complete_only_at_an_end_token_or_at_max_tokens`). The validators'
//!    samplers would not end it there: invalidated and refunded.

mod common;

use common::{
	events::{events, wait_event},
	worker::{default_model, Worker, DEFAULT_MODEL},
	DevNode,
};
use gonka_client::{
	runtime::{inference::events as inf, poc::events as poc, runtime_types},
	AccountId32, ChainClient,
};
use gonka_primitives::inference::SamplingParams;
use gonka_worker::model::GgmlDType;
use polkadot_sdk::{
	sp_arithmetic::Perbill,
	sp_core::{sr25519, Pair},
	sp_keyring::Sr25519Keyring,
};
use std::time::{Duration, Instant};
use subxt_signer::sr25519::dev;

/// Three CPU workers on two cores: 5-second blocks leave each the time to recompute the
/// others' samples within the 4-block validation phase (`network.rs`).
const BLOCK_MS: u64 = 5_000;

/// Three nonces per host and epoch.
const POC: &str = "poc_max_nonces = 3\npoc_batch = 3\n";

/// Eve's proof endpoint.
const EVE_PORT: u16 = 8403;

/// Long enough for a few 80-second epochs.
const EPOCHS: Duration = Duration::from_secs(900);

fn account(key: Sr25519Keyring) -> AccountId32 {
	AccountId32(*AsRef::<[u8; 32]>::as_ref(&key.to_account_id()))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cheating_host_is_rejected_in_poc_and_its_answers_invalidated() {
	let base = tempfile::tempdir().expect("temporary base path");
	let mut node = DevNode::start(base.path(), "node.log", BLOCK_MS);
	let rpc_port = node.rpc_port;
	let client = ChainClient::new(node.connect().await);
	let eve_worker = sr25519::Pair::from_string("//Eve//stash", None).expect("a dev key");
	let endpoint = format!("http://127.0.0.1:{EVE_PORT}");
	client
		.register_host(&dev::eve(), &eve_worker, endpoint.as_bytes(), &[DEFAULT_MODEL])
		.await
		.expect("Eve registers");
	let alice = Worker::start(base.path(), Sr25519Keyring::Alice, rpc_port, POC);
	let _bob = Worker::start(base.path(), Sr25519Keyring::Bob, rpc_port, POC);
	let eve_dir = base.path().join("cheat");
	let start_eve = |cheat: &str| {
		Worker::start_cheater(
			&eve_dir,
			Sr25519Keyring::Eve,
			rpc_port,
			&format!("{POC}[cheat]\n{cheat}\n"),
			&default_model(),
			EVE_PORT,
		)
	};
	let eve = account(Sr25519Keyring::Eve);

	// 1. Random artifacts: rejected by the honest hosts' power, weight 0.
	let mut cheater = start_eve("poc = \"random-artifacts\"");
	let (_, rejected) = wait_event::<poc::PocJudged>(
		&client,
		"Eve's random artifacts judged",
		EPOCHS,
		1,
		|e| e.host == eve,
		|| format!("alice:\n{}\neve:\n{}\n{}", alice.log(), cheater.log(), node.log_tail()),
	)
	.await;
	assert!(
		matches!(rejected.outcome, runtime_types::pallet_poc::types::Outcome::Rejected),
		"{:?}",
		rejected.outcome
	);
	assert_eq!(rejected.weight, 0);
	let log = alice.log();
	assert!(log.contains("valid=false"), "Alice judged a host invalid:\n{log}");
	drop(cheater);

	// 2. Honest PoC, cheaper answers: accepted, drawn, invalidated, refunded.
	let cheap = base.path().join("q4_0.gguf");
	gonka_worker::model::requantize(&default_model(), &cheap, GgmlDType::Q4_0)
		.expect("requantized");
	cheater = start_eve(&format!("inference_model_file = \"{}\"", cheap.display()));
	let from = client.block_number().await.unwrap();
	let (_, accepted) = wait_event::<poc::PocJudged>(
		&client,
		"Eve's honest PoC accepted",
		EPOCHS,
		from,
		|e| {
			e.host == eve
				&& e.weight > 0
				&& matches!(e.outcome, runtime_types::pallet_poc::types::Outcome::Accepted)
		},
		|| format!("eve:\n{}\n{}", cheater.log(), node.log_tail()),
	)
	.await;
	// Wait until her weight is in force, then send requests until she executes some; the
	// first of hers that a validator replays is voted invalid and refunded.
	let eve_host = Sr25519Keyring::Eve.to_account_id();
	let started = Instant::now();
	while client.poc_weight(&eve_host, DEFAULT_MODEL).await.unwrap_or(0) == 0 {
		assert!(started.elapsed() < EPOCHS, "Eve's weight of epoch {} in force", accepted.epoch);
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
	let greedy = SamplingParams { temperature_milli: 0, top_p: Perbill::one() };
	let context =
		|| format!("eve:\n{}\nalice:\n{}\n{}", cheater.log(), alice.log(), node.log_tail());
	an_answer_of_hers_is_invalidated(&client, &eve, greedy, context).await;
	drop(cheater);

	// 3. Honest PoC, another model's answers (the registered model without its last 6 of 30
	// layers, same tokenizer): still drawn, her sampled answers fail the replay.
	let other = base.path().join("pruned.gguf");
	gonka_worker::model::prune_layers(&default_model(), &other, 6).expect("pruned");
	let cheater = start_eve(&format!("inference_model_file = \"{}\"", other.display()));
	let sampled = SamplingParams { temperature_milli: 700, top_p: Perbill::from_percent(95) };
	let context =
		|| format!("eve:\n{}\nalice:\n{}\n{}", cheater.log(), alice.log(), node.log_tail());
	an_answer_of_hers_is_invalidated(&client, &eve, sampled, context).await;
	drop(cheater);

	// 4. Honest PoC, lazy answers (hole 1 of the soundness review): the registered model,
	// every completion cut after two tokens and ended there with the end-of-turn token, so
	// the chain takes it as complete. The validators' replays would not end it there.
	let cheater = start_eve("truncate_completions = 2");
	let started = Instant::now();
	while client.poc_weight(&eve_host, DEFAULT_MODEL).await.unwrap_or(0) == 0 {
		assert!(started.elapsed() < EPOCHS, "Eve's weight in force:\n{}", cheater.log());
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
	let context =
		|| format!("eve:\n{}\nalice:\n{}\n{}", cheater.log(), alice.log(), node.log_tail());
	let completion_tokens = an_answer_of_hers_is_invalidated(&client, &eve, greedy, context).await;
	assert_eq!(completion_tokens, 3, "two tokens and the end of the turn");
}

/// Sends requests until Eve executes some (at most three of hers open at once: each
/// invalidation is a step of her SPRT, and INVALID would take her weight away before the
/// test sees one), then waits until one of them is voted invalid: her result was on chain,
/// a validator's replay failed, the hosts voted it invalid and the developer was refunded
/// the cost. One of hers that closes otherwise (about one validator is sampled per
/// request, so some close unchecked; a busy validator may miss the window) makes room
/// for another. Returns the invalidated completion's token count.
async fn an_answer_of_hers_is_invalidated(
	client: &ChainClient,
	eve: &AccountId32,
	sampling: SamplingParams,
	context: impl Fn() -> String,
) -> u32 {
	let eve_host = Sr25519Keyring::Eve.to_account_id();
	let developers = [dev::charlie(), dev::dave(), dev::ferdie()];
	let mut hers = Vec::new();
	let mut open = 0;
	let from = client.block_number().await.unwrap();
	let started = Instant::now();
	let (closed_at, closed) = loop {
		assert!(
			started.elapsed() < EPOCHS,
			"an answer of Eve's invalidated (hers: {hers:?}, {open} open):\n{}",
			context()
		);
		if open < 3 {
			// One request per developer at a time (each signs its own nonce).
			let sent = futures_requests(client, &developers, sampling).await;
			hers.extend(sent.into_iter().filter(|s| s.executor == eve_host).map(|s| s.request));
		}
		let to = client.block_number().await.unwrap();
		let closings = events::<inf::RequestClosed>(client, from, to).await;
		let closed_hers: Vec<_> =
			closings.into_iter().filter(|(_, e)| hers.contains(&e.request)).collect();
		open = hers.len().saturating_sub(closed_hers.len());
		if let Some(found) = closed_hers.into_iter().find(|(_, e)| {
			matches!(e.outcome, runtime_types::pallet_inference::types::Outcome::Invalidated)
		}) {
			break found;
		}
		tokio::time::sleep(Duration::from_secs(2)).await;
	};
	let to = client.block_number().await.unwrap();
	let finished = events::<inf::RequestFinished>(client, from, to).await;
	let (_, finish) = finished
		.iter()
		.find(|(_, e)| e.request == closed.request)
		.expect("Eve's result was on chain");
	assert_eq!(&finish.executor, eve);
	assert_eq!(closed.refund, finish.cost, "the developer gets the cost back");
	let reports = events::<inf::ValidationReported>(client, from, closed_at).await;
	assert!(
		reports.iter().any(|(_, e)| e.request == closed.request && !e.passed),
		"a validator's replay failed"
	);
	let votes = events::<inf::Voted>(client, from, closed_at).await;
	assert!(votes.iter().any(|(_, e)| e.request == closed.request && e.invalid));
	finish.completion_tokens
}

/// Sends one request from each developer, concurrently; the ones accepted.
async fn futures_requests(
	client: &ChainClient,
	developers: &[subxt_signer::sr25519::Keypair],
	sampling: SamplingParams,
) -> Vec<gonka_client::Submitted> {
	let sends = developers.iter().map(|developer| {
		client.request(developer, DEFAULT_MODEL, b"What is the capital of France?", 16, sampling)
	});
	gonka_client::subxt::ext::futures::future::join_all(sends).await.into_iter().flatten().collect()
}
