//! End to end: the network as its users meet it, with the real binaries and the real model
//! on short epochs. `gonka-node --dev`, the workers of its two genesis hosts (Alice's and
//! Bob's) and of a third host, Dave, registered when the chain starts (SmolLM2-135M on CPU;
//! three hosts, so that the other two still accept each other when one fails):
//!
//! 1. after the first PoC the hosts are accepted with weight above zero and voting power;
//! 2. a developer's greedy request returns the expected text, and the other host's
//!    validation is recorded and passes; `docs/developer.md`'s two programs (@polkadot/api
//!    and subxt) get the same answer and print its cost;
//! 3. when the first epoch's ledger is final its reward is the curve's `R`, split by the
//!    hosts' weights, the remainder minted to the community pool;
//! 4. a host proposes a community-pool spend with the voting power its compute earned, the
//!    hosts vote aye, it passes and the account is paid;
//! 5. Bob's worker (a small host) is killed after committing, before validation: the
//!    network keeps serving, and Bob loses that epoch's weight, not his registration;
//! 6. the node is restarted: the finalized blocks and the request are all there, Alice's
//!    and Dave's workers carry on by themselves, and Bob's, started again, earns weight
//!    again.

mod common;

use common::{
	events::{events, wait_event},
	worker::{default_model, Worker, DEFAULT_MODEL},
	DevNode,
};
use gonka_client::{
	runtime::{
		self, models::events as gov, poc::events as poc, rewards::events as rew, runtime_types,
	},
	AccountId32, ChainClient, Outcome, Phase, RequestStatus,
};
use gonka_primitives::{inference::SamplingParams, HostId};
use polkadot_sdk::{
	sp_arithmetic::Perbill,
	sp_core::{sr25519, Pair},
	sp_keyring::Sr25519Keyring,
};
use std::{
	path::PathBuf,
	process::{Command, Stdio},
	time::{Duration, Instant},
};
use subxt_signer::sr25519::dev;

/// Three CPU workers share two cores: 5-second blocks give each the time to recompute the
/// others' samples (4 nonces) within the dev chain's 4-block validation phase (measured:
/// about 2 s a nonce each while all three validate).
const BLOCK_MS: u64 = 5_000;

/// Three nonces per big host and epoch.
const POC: &str = "poc_max_nonces = 3\npoc_batch = 3\n";

/// Bob computes one nonce: a small host. When it fails, the two big ones (3 > 2 × 1) still
/// hold more than 2/3 of each other's judges' power and accept each other (with equal
/// weights, one dead host in three would leave every survivor without quorum, and the
/// weights would carry over).
const SMALL_POC: &str = "poc_max_nonces = 1\npoc_batch = 1\n";

/// Dave's proof endpoint.
const DAVE_PORT: u16 = 8402;

/// Long enough for a few 80-second epochs.
const EPOCHS: Duration = Duration::from_secs(600);

/// Polls `check` every half second until it gives a value; panics after [`EPOCHS`].
async fn poll<T, Fut: std::future::Future<Output = Option<T>>>(
	what: &str,
	mut check: impl FnMut() -> Fut,
	context: impl FnOnce() -> String,
) -> T {
	let started = Instant::now();
	loop {
		if let Some(value) = check().await {
			return value;
		}
		assert!(started.elapsed() < EPOCHS, "{what} within {EPOCHS:?}:\n{}", context());
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
}

/// An account's free balance.
async fn free(client: &ChainClient, who: &AccountId32) -> u128 {
	let at = client.api().at_current_block().await.expect("the finalized block");
	let address = runtime::storage().system().account();
	let value = at.storage().try_fetch(address, (*who,)).await.expect("storage answers");
	value.map(|value| value.decode().expect("an account").data.free).unwrap_or(0)
}

fn host(key: Sr25519Keyring) -> HostId {
	key.to_account_id()
}

fn account(key: Sr25519Keyring) -> AccountId32 {
	AccountId32(*AsRef::<[u8; 32]>::as_ref(&key.to_account_id()))
}

/// The finalized block number, once the node answers.
async fn finalized(client: &ChainClient) -> u32 {
	client.block_number().await.unwrap_or(0)
}

/// Waits until the next block is in `phase` of an epoch after `after`; returns that epoch.
async fn reach(
	client: &ChainClient,
	node: &DevNode,
	after: u32,
	phase: Phase,
) -> gonka_client::Epoch {
	poll(
		&format!("an epoch after {after} reaches {phase:?}"),
		|| async move {
			let epoch = client.epoch().await.ok().flatten()?;
			(epoch.next_block_phase == phase && epoch.index > after).then_some(epoch)
		},
		|| node.log_tail(),
	)
	.await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_network_serves_pays_governs_and_survives_faults() {
	let base = tempfile::tempdir().expect("temporary base path");
	let mut node = DevNode::start(base.path(), "node.log", BLOCK_MS);
	let rpc_port = node.rpc_port;
	let mut client = ChainClient::new(node.connect().await);
	// Dave registers (his account signs; his worker key is `//Dave//stash`).
	let dave_worker = sr25519::Pair::from_string("//Dave//stash", None).expect("a dev key");
	let endpoint = format!("http://127.0.0.1:{DAVE_PORT}");
	client
		.register_host(&dev::dave(), &dave_worker, endpoint.as_bytes(), &[DEFAULT_MODEL])
		.await
		.expect("Dave registers");
	let alice = Worker::start(base.path(), Sr25519Keyring::Alice, rpc_port, POC);
	let mut bob = Some(Worker::start(base.path(), Sr25519Keyring::Bob, rpc_port, SMALL_POC));
	let dave = Worker::start_with_model(
		base.path(),
		Sr25519Keyring::Dave,
		rpc_port,
		POC,
		&default_model(),
		DAVE_PORT,
	);
	let hosts = [Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Dave];

	// 1. The first weights formed from all three workers' PoC: accepted, weight > 0, power.
	let (formed_at, formed) = wait_event::<poc::WeightsFormed>(
		&client,
		"the first weights formed from the three workers' PoC",
		EPOCHS,
		1,
		|e| e.hosts == 3,
		|| format!("{}\n{}\n{}", alice.log(), dave.log(), node.log_tail()),
	)
	.await;
	let judged = events::<poc::PocJudged>(&client, 1, formed_at).await;
	let mut weights = Vec::new();
	for key in hosts {
		let (_, judged) = judged
			.iter()
			.find(|(_, e)| e.host == account(key) && e.epoch == formed.epoch)
			.unwrap_or_else(|| panic!("{key} judged in epoch {}", formed.epoch));
		assert!(matches!(judged.outcome, runtime_types::pallet_poc::types::Outcome::Accepted));
		assert!(judged.weight > 0, "{key}'s weight");
		assert_eq!(client.poc_weight(&host(key), DEFAULT_MODEL).await.unwrap(), judged.weight);
		let view = client.poc_host(&host(key)).await.unwrap().expect("registered");
		assert!(view.voting_power > 0, "{key}'s voting power");
		weights.push(judged.weight);
	}
	// Three hosts: below four the 25% cap does not apply.
	assert_eq!(formed.total_power, weights.iter().map(|w| u128::from(*w)).sum::<u128>());

	// 2. A greedy request: the expected text, and a sampled host's replay passes. Sampling
	// targets one validator on average (a new executor), so with two other hosts a request
	// has no validator about a quarter of the time: it then closes Unchecked, and the
	// developer asks again until the hash rule samples someone.
	let charlie = dev::charlie();
	let greedy = SamplingParams { temperature_milli: 0, top_p: Perbill::one() };
	let prompt = b"What is the capital of France?";
	let mut attempts = 0;
	let (submitted, sampled) = loop {
		attempts += 1;
		assert!(attempts <= 8, "eight requests, none sampled a validator");
		let submitted =
			client.request(&charlie, DEFAULT_MODEL, prompt, 32, greedy).await.expect("accepted");
		// `validators` answers from the block after the one that included `finish`.
		let sampled = poll(
			"the request is answered and its validators are known",
			|| {
				let client = &client;
				async move { client.validators(submitted.request).await.ok().flatten() }
			},
			|| format!("{}\n{}", alice.log(), node.log_tail()),
		)
		.await;
		let view = poll(
			"the request's validation window closes it",
			|| {
				let client = &client;
				async move {
					let view = client.request_view(submitted.request).await.ok().flatten()?;
					matches!(view.request.status, RequestStatus::Closed(_)).then_some(view)
				}
			},
			|| format!("{}\n{}", alice.log(), node.log_tail()),
		)
		.await;
		assert_eq!(String::from_utf8_lossy(&view.text), "The capital of France is Paris.");
		if sampled.is_empty() {
			assert!(matches!(view.request.status, RequestStatus::Closed(Outcome::Unchecked)));
			continue;
		}
		assert!(
			matches!(view.request.status, RequestStatus::Closed(Outcome::Validated)),
			"{:?} with validators {sampled:?}",
			view.request.status
		);
		break (submitted, sampled);
	};
	let to = finalized(&client).await;
	let reports = events::<gonka_client::ValidationReported>(&client, 1, to).await;
	let (_, report) = reports
		.iter()
		.find(|(_, e)| e.request == submitted.request)
		.expect("a validation is recorded");
	assert!(report.passed);
	assert_ne!(report.validator.0, *AsRef::<[u8; 32]>::as_ref(&submitted.executor));
	assert!(sampled.iter().any(|v| AsRef::<[u8; 32]>::as_ref(v) == &report.validator.0));

	// The developer's guide, run as written: @polkadot/api, then subxt.
	let url = format!("ws://127.0.0.1:{rpc_port}");
	let js = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/polkadot-js");
	let example = common::worker::worker_bin().with_file_name("examples").join("developer");
	for mut program in [
		{
			let mut node_js = Command::new("node");
			node_js.arg("developer.mjs").arg(&url).current_dir(&js);
			node_js
		},
		{
			let mut subxt = Command::new(&example);
			subxt.arg(&url);
			subxt
		},
	] {
		let output = program.stdin(Stdio::null()).output().expect("the developer's program runs");
		let (stdout, stderr) =
			(String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
		assert!(output.status.success(), "{program:?}:\n{stdout}\n{stderr}\n{}", alice.log());
		let mut lines = stdout.lines();
		assert_eq!(lines.next(), Some("The capital of France is Paris."), "{stdout}");
		assert!(lines.next().is_some_and(|line| line.contains("cost ")), "{stdout}");
	}

	// 4 (while the reward of 3 waits for its ledger). A host proposes with its computed
	// power; both vote aye; passing is then certain, so it closes at once and pays.
	let ferdie = account(Sr25519Keyring::Ferdie);
	let ferdie_before = free(&client, &ferdie).await;
	let spend = runtime_types::gonka_runtime::RuntimeCall::Rewards(
		runtime_types::pallet_rewards::pallet::Call::spend_from_pool {
			to: ferdie,
			amount: 1_000 * gonka_primitives::issuance::NGNK_PER_GNK,
		},
	);
	let proposed = client
		.submit_signed(&runtime::transactions().models().propose(spend), &dev::alice())
		.await
		.expect("Alice proposes");
	let proposal = proposed.events.find_first::<gov::Proposed>().unwrap().unwrap();
	let power_now: u128 = {
		let mut sum = 0;
		for key in hosts {
			sum += client.poc_host(&host(key)).await.unwrap().unwrap().voting_power;
		}
		sum
	};
	assert_eq!(proposal.total_power, power_now, "the snapshot is the computed power");
	for voter in [dev::alice(), dev::bob(), dev::dave()] {
		let aye = runtime_types::pallet_models::types::Vote::Aye;
		client
			.submit_signed(&runtime::transactions().models().vote(proposal.index, aye), &voter)
			.await
			.expect("a host votes");
	}
	let bound = runtime_types::sp_weights::weight_v2::Weight {
		ref_time: 1_000_000_000,
		proof_size: 100_000,
	};
	let closed = client
		.submit_signed(
			&runtime::transactions().models().close(proposal.index, bound, 3),
			&dev::charlie(),
		)
		.await
		.expect("anyone closes");
	let outcome = closed.events.find_first::<gov::Closed>().unwrap().unwrap().outcome;
	assert!(matches!(outcome, runtime_types::pallet_models::types::Outcome::Passed));
	assert!(closed.events.find_first::<gov::Executed>().unwrap().unwrap().result.is_ok());
	let spent = closed.events.find_first::<rew::PoolSpent>().unwrap().unwrap();
	assert_eq!(spent.to, ferdie);
	assert_eq!(free(&client, &ferdie).await, ferdie_before + spent.amount);

	// 3. The first formed epoch's reward, once its ledger is final: R split by weight.
	let (rewarded_at, rewarded) = wait_event::<rew::EpochRewarded>(
		&client,
		"the first formed epoch is rewarded",
		EPOCHS,
		formed_at,
		|e| e.epoch == formed.epoch,
		|| node.log_tail(),
	)
	.await;
	// The curve's `R` for the epoch's place among rewarded epochs (323,000 GNK first).
	let mut curve = gonka_primitives::issuance::RewardCurve::live_network();
	let reward = loop {
		let (index, reward) = curve.take();
		if index == rewarded.index {
			break reward;
		}
		assert!(index < rewarded.index, "index {}", rewarded.index);
	};
	assert_eq!(rewarded.reward, reward, "R({})", rewarded.index);
	let total: u128 = weights.iter().map(|w| u128::from(*w)).sum();
	let paid = events::<rew::HostRewarded>(&client, rewarded_at, rewarded_at).await;
	let mut paid_sum = 0;
	for (key, weight) in hosts.iter().zip(&weights) {
		let (_, share) = paid
			.iter()
			.find(|(_, e)| e.host == account(*key) && e.epoch == formed.epoch)
			.unwrap_or_else(|| panic!("{key} rewarded"));
		// Three hosts: below four the 30% cap does not apply.
		assert_eq!(share.amount, reward * u128::from(*weight) / total, "{key}'s share");
		paid_sum += share.amount;
	}
	assert_eq!(rewarded.paid, paid_sum);
	assert_eq!(rewarded.to_pool, reward - paid_sum, "the remainder to the pool");

	// 5. Bob's worker dies after committing, before validation.
	let epoch = reach(&client, &node, formed.epoch, Phase::ValidationDelay).await;
	let bob_host = host(Sr25519Keyring::Bob);
	let bob_committed = client.commitment(epoch.index, &bob_host, DEFAULT_MODEL).await.unwrap();
	assert!(bob_committed.is_some(), "Bob committed in epoch {}", epoch.index);
	drop(bob.take());
	let (_, judged) = wait_event::<poc::PocJudged>(
		&client,
		"Bob judged in the epoch his worker died",
		EPOCHS,
		epoch.start,
		|e| e.host == account(Sr25519Keyring::Bob) && e.epoch == epoch.index,
		|| format!("{}\n{}", alice.log(), node.log_tail()),
	)
	.await;
	assert!(matches!(judged.outcome, runtime_types::pallet_poc::types::Outcome::Rejected));
	assert_eq!(judged.weight, 0);
	assert_eq!(client.poc_weight(&host(Sr25519Keyring::Bob), DEFAULT_MODEL).await.unwrap(), 0);
	assert!(client.poc_weight(&host(Sr25519Keyring::Alice), DEFAULT_MODEL).await.unwrap() > 0);
	assert!(
		client.poc_host(&host(Sr25519Keyring::Bob)).await.unwrap().is_some(),
		"Bob is still registered"
	);
	// The network still serves, from the hosts with weight.
	let second = client
		.request(&dev::eve(), DEFAULT_MODEL, b"Name a colour.", 8, greedy)
		.await
		.expect("accepted");
	assert_ne!(second.executor, bob_host);
	common::wait_until(
		"a request is answered with Bob down",
		EPOCHS,
		Duration::from_secs(1),
		|| {
			let client = &client;
			async move {
				let view = client.request_view(second.request).await.ok().flatten();
				view.is_some_and(|view| view.request.finish.is_some())
			}
		},
		|| format!("{}\n{}", alice.log(), node.log_tail()),
	)
	.await;

	// 6. The node restarts on its database: nothing finalized is lost, the workers resume.
	let last = finalized(&client).await;
	let hashes = [
		client.block_hash(formed_at).await.unwrap(),
		client.block_hash(rewarded_at).await.unwrap(),
		client.block_hash(last).await.unwrap(),
	];
	drop(client);
	let status = node.stop();
	assert!(
		status.success() || common::rocksdb_exit_race(&status, &node.log()),
		"the node stops cleanly: {status}\n{}",
		node.log_tail()
	);
	let mut node = DevNode::start_on(base.path(), "node-restarted.log", BLOCK_MS, rpc_port);
	client = ChainClient::new(node.connect().await);
	common::wait_until(
		"the restarted node finalizes new blocks",
		EPOCHS,
		Duration::from_millis(500),
		|| {
			let client = &client;
			async move { finalized(client).await > last }
		},
		|| node.log_tail(),
	)
	.await;
	for (number, hash) in [formed_at, rewarded_at, last].into_iter().zip(hashes) {
		assert_eq!(client.block_hash(number).await.unwrap(), hash, "block {number} kept");
	}
	let kept = client.request_view(submitted.request).await.unwrap();
	assert!(kept.is_none_or(|view| view.text == b"The capital of France is Paris."));
	let _bob = Worker::start(base.path(), Sr25519Keyring::Bob, rpc_port, SMALL_POC);
	let restarted_at = finalized(&client).await;
	// Bob, without power, is accepted by the others'.
	let (_, rejoined) = wait_event::<poc::PocJudged>(
		&client,
		"Bob earns weight again after the restart",
		EPOCHS,
		restarted_at,
		|e| {
			e.host == account(Sr25519Keyring::Bob)
				&& e.weight > 0
				&& matches!(e.outcome, runtime_types::pallet_poc::types::Outcome::Accepted)
		},
		|| format!("alice:\n{}\nnode:\n{}", alice.log(), node.log_tail()),
	)
	.await;
	let judged = events::<poc::PocJudged>(&client, restarted_at, finalized(&client).await).await;
	for key in [Sr25519Keyring::Alice, Sr25519Keyring::Dave] {
		assert!(
			judged
				.iter()
				.any(|(_, e)| e.host == account(key) && e.epoch == rejoined.epoch && e.weight > 0),
			"{key}'s worker carried on through the restart:\n{}",
			if key == Sr25519Keyring::Alice { alice.log() } else { dave.log() }
		);
	}
}
