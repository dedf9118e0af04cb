//! End to end: a cheating executor over channels, caught off chain. `gonka-node --dev`,
//! Alice's and Bob's honest workers, and Eve's `gonka-worker-cheats`, registered when the
//! chain starts, which cuts every channel completion after two tokens and ends it there
//! with the end-of-turn token (`[cheat] truncate_completions = 2`): a receipt the developer
//! cannot tell from an honest one (it ends with an end token, its hashes and counts are
//! right), so the developer countersigns it.
//!
//! Charlie (this test, with the worker's developer book, as a gateway would) opens
//! channels until Eve holds a slot of one, sends its requests to Eve's endpoint,
//! countersigns each receipt and closes the channel. Eve settles her receipts; Alice and
//! Bob, drawn for their samples, fetch each payload from Eve's endpoint, replay it, and
//! report the failure with the receipt; the other honest host sits on each dispute's jury,
//! fetches the payload as a juror, replays it and votes invalid: each dispute ends
//! invalidated and refunds Charlie the receipt's cost, and no sample of Eve's passes.
//! Charlie also challenges Eve's last receipt himself as soon as she settles (before any
//! validator may report it): the honest hosts sit on the challenge's jury, fetch the
//! challenged leaf from Eve, replay it and vote invalid; its jury votes for the long
//! window (200 blocks), so it is still open when the validators' disputes, opened after
//! it, have ended (its end and refund are the pallet's tests' and the runtime's:
//! `runtime/tests/channels.rs`).

mod common;

use common::{
	events::wait_event,
	worker::{default_model, Worker, DEFAULT_MODEL},
	DevNode,
};
use gonka_client::{
	runtime::{channels::events as ch, runtime_types},
	AccountId32, ChainClient,
};
use gonka_primitives::{
	channel::{max_cost, ChannelTerms, ReceiptChallenge, ReceiptEvidence, SumTree},
	inference::SamplingParams,
	HostId,
};
use gonka_worker::{
	api::channels::{decode_hex, ExecutorClient, InferEvent},
	channel::{
		developer::{DeveloperChannel, DeveloperView, Member},
		executor::Payload,
		prompt::{self, ChatMessage, Role},
	},
};
use polkadot_sdk::{
	sp_core::{sr25519, Pair},
	sp_keyring::Sr25519Keyring,
};
use std::{collections::BTreeMap, time::Duration};
use subxt_signer::sr25519::dev;

/// Three CPU workers on two cores: 3-second blocks and two nonces a host leave each the
/// time to check the others' PoC within an epoch's 4-block validation phase (at 2-second
/// blocks the verdicts come too late, and Eve's weight is never formed).
const BLOCK_MS: u64 = 3_000;
const POC: &str = "poc_max_nonces = 2\npoc_batch = 2\n";
const DEADLINE: Duration = Duration::from_secs(600);
/// Eve's requests: each of her receipts is sampled (a new host's target is one) by Alice
/// or Bob or both (or, a quarter of the time, neither): six make a missed cheat unlikely
/// beyond measure (4^-6).
const REQUESTS: usize = 6;
const MAX_TOKENS: u32 = 8;
const MAX_REQUEST_TOKENS: u32 = 2048;
const COMMITTEE: u8 = 4;

/// Each receipt must pay its checks (`SampleFee`): a long system prompt, one token a digit.
fn system() -> String {
	format!("Remember this number: {}", "0123456789".repeat(140))
}

/// Dispute → its reporter and its jurors' votes (juror, invalid).
type Votes = BTreeMap<u64, (AccountId32, Vec<(AccountId32, bool)>)>;

fn account(key: Sr25519Keyring) -> AccountId32 {
	AccountId32(*AsRef::<[u8; 32]>::as_ref(&key.to_account_id()))
}

fn host(key: Sr25519Keyring) -> HostId {
	HostId::new(*AsRef::<[u8; 32]>::as_ref(&key.to_account_id()))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cheating_executor_is_caught_by_its_validators_and_the_jury_and_the_developer_refunded() {
	let base = tempfile::tempdir().expect("temporary base path");
	let mut node = DevNode::start(base.path(), "node.log", BLOCK_MS);
	let rpc_port = node.rpc_port;
	let client = ChainClient::new(node.connect().await);
	let eve_port = common::free_port();
	let eve_endpoint = format!("http://127.0.0.1:{eve_port}");
	let eve_worker = sr25519::Pair::from_string("//Eve//stash", None).expect("a dev key");
	client
		.register_host(&dev::eve(), &eve_worker, eve_endpoint.as_bytes(), &[DEFAULT_MODEL])
		.await
		.expect("Eve registers");
	let alice = Worker::start(base.path(), Sr25519Keyring::Alice, rpc_port, POC);
	let bob = Worker::start(base.path(), Sr25519Keyring::Bob, rpc_port, POC);
	let eve = Worker::start_cheater(
		&base.path().join("cheat"),
		Sr25519Keyring::Eve,
		rpc_port,
		&format!("{POC}[cheat]\ntruncate_completions = 2\n"),
		&default_model(),
		eve_port,
	);
	let logs = || {
		format!(
			"alice:\n{}\n---\nbob:\n{}\n---\neve:\n{}\n---\nnode:\n{}",
			alice.log(),
			bob.log(),
			eve.log(),
			node.log_tail()
		)
	};
	let eve_host = host(Sr25519Keyring::Eve);

	// Eve's PoC is honest: wait until her weight on the model is in force, so committees
	// (drawn by PoC weight on the channel's model) may draw her.
	let started = std::time::Instant::now();
	while client.poc_weight(&eve_host, DEFAULT_MODEL).await.unwrap_or(0) == 0 {
		assert!(started.elapsed() < DEADLINE, "Eve's PoC weight in force\n{}", logs());
		tokio::time::sleep(Duration::from_secs(2)).await;
	}

	// Charlie opens channels until Eve holds a slot of one (closing the others).
	let charlie = dev::charlie();

	let (channel, key, state) = {
		let mut tries = 0;
		loop {
			tries += 1;
			assert!(tries <= 8, "a committee with Eve in eight channels\n{}", logs());
			let quote = client
				.quote_channel(DEFAULT_MODEL, COMMITTEE, MAX_REQUEST_TOKENS)
				.await
				.unwrap()
				.expect("the model has a price");
			let cap = quote.price * 2;
			let largest = max_cost(0, 0, MAX_REQUEST_TOKENS, cap).unwrap();
			let deposit = largest * (REQUESTS as u128 + 2) * u128::from(COMMITTEE);
			let (key, _) = sr25519::Pair::generate();
			let before = client.block_number().await.unwrap();
			let terms = ChannelTerms {
				model: DEFAULT_MODEL,
				channel_key: key.public(),
				price_cap: cap,
				committee: COMMITTEE,
				duration: 400,
				max_request_tokens: MAX_REQUEST_TOKENS,
			};
			let opened = client
				.open_channel(&charlie, terms, &key, deposit)
				.await
				.expect("Charlie opens a channel");
			let (_, drawn) = wait_event::<ch::CommitteeDrawn>(
				&client,
				"the committee drawn",
				DEADLINE,
				before,
				|e| e.channel == opened.channel,
				logs,
			)
			.await;
			let state = client.channel(opened.channel).await.unwrap().expect("the channel");
			if drawn
				.committee
				.iter()
				.any(|member| member.0 == *AsRef::<[u8; 32]>::as_ref(&eve_host))
			{
				break (opened.channel, key, state);
			}
			client.close_channel(&charlie, opened.channel).await.expect("closed");
		}
	};

	// The developer's book, with the committee's worker keys and allowances.
	let mut members = BTreeMap::new();
	for member in &state.committee {
		let registered = client.poc_host(member).await.unwrap().expect("a registered host");
		let slots = state.committee.iter().filter(|other| *other == member).count() as u32;
		members.insert(
			member.clone(),
			Member {
				worker_key: sr25519::Public::from_raw(registered.worker_key),
				allowance: gonka_primitives::channel::allowance(
					slots,
					state.deposited,
					state.terms.committee,
				),
			},
		);
	}
	let view = DeveloperView {
		channel,
		genesis_hash: client.genesis_hash(),
		price: state.price,
		template_overhead: state.template_overhead,
		max_request_tokens: MAX_REQUEST_TOKENS,
		members,
	};
	let mut book =
		DeveloperChannel::open(&base.path().join("developer.log"), view, key).expect("the book");
	let tokenizer = gonka_worker::model::tokenizer(&default_model()).unwrap();
	let executor = ExecutorClient::connect(&eve_endpoint).await.expect("Eve's endpoint");
	let mut costs = Vec::new();
	for index in 0..REQUESTS {
		let messages = vec![
			ChatMessage::new(Role::System, system()),
			// Prompts of different lengths: receipts of different costs, so a refund names
			// the receipt it refunds (an unavailable payload refunds the average).
			ChatMessage::new(Role::User, format!("Name a colour{}.", " please".repeat(index))),
		];
		let signed = book
			.request(&eve_host, None, 0, &messages, MAX_TOKENS, SamplingParams::GREEDY)
			.unwrap()
			.unwrap();
		let payload = Payload {
			request: signed.request.clone(),
			request_signature: signed.signature,
			salt: signed.salt,
			messages: messages.clone(),
		};
		let mut events = executor.infer(&payload).await.expect("Eve takes the request");
		let mut ids = Vec::new();
		let (receipt, signature) = loop {
			match events.next().await.expect("an event").expect("it decodes") {
				InferEvent::Tokens { ids: more } => ids.extend(more),
				InferEvent::Receipt { receipt, signature } => break (receipt, signature),
				InferEvent::Failed { reason } => panic!("Eve failed: {reason}\n{}", logs()),
			}
		};
		let receipt: gonka_primitives::channel::Receipt = decode_hex(&receipt).unwrap();
		let signature = gonka_worker::api::channels::decode_signature(&signature).unwrap();
		assert!(ids.len() <= 3, "Eve cut the completion: {ids:?}");
		let own = tokenizer.chat_conversation(&prompt::turns(&messages)).unwrap().len() as u32;
		let cost = receipt.cost;
		let voucher = book
			.accept(&signed.request, receipt, &signature, &ids, own, tokenizer.end_tokens())
			.unwrap()
			.expect("the developer cannot tell the cut receipt from an honest one");
		executor.voucher(&voucher).await.expect("the voucher counts");
		costs.push(cost);
	}
	let from = client.block_number().await.unwrap();
	client.close_channel(&charlie, channel).await.expect("Charlie closes the channel");

	// Eve settles her receipts.
	let (_, settled) = wait_event::<ch::ChannelSettled>(
		&client,
		"Eve settles",
		DEADLINE,
		from,
		|e| e.channel == channel && e.executor == account(Sr25519Keyring::Eve),
		logs,
	)
	.await;
	assert_eq!(settled.receipts, REQUESTS as u32);
	let settlement = settled.settlement;

	// Charlie challenges Eve's last receipt at once, in the settlement's own verdict
	// period (the validators report in the next): the workers are its jury.
	let challenged = REQUESTS as u32 - 1;
	let receipts = book.receipts(&eve_host).to_vec();
	let tree = SumTree::from_receipts(receipts.iter()).expect("the voucher's tree");
	let challenge = ReceiptChallenge {
		settlement,
		tail: None,
		evidence: ReceiptEvidence {
			receipt: receipts[challenged as usize].clone(),
			proof: tree
				.proof(u64::from(challenged))
				.expect("its proof")
				.try_into()
				.expect("a bounded proof"),
		},
	};
	client.challenge_receipt(&charlie, &challenge).await.expect("Charlie challenges a receipt");

	// Her validators report the failures; the juries invalidate them; Charlie is refunded.
	let (_, closed) = wait_event::<ch::SettlementClosed>(
		&client,
		"Eve's settlement's verdict window closes",
		DEADLINE,
		from,
		|e| e.settlement == settlement,
		logs,
	)
	.await;
	assert_eq!(closed.passes, 0, "no cut receipt passes a replay\n{}", logs());
	assert!(closed.fails >= 1, "a validator reported Eve's receipts\n{}", logs());
	let mut disputes = Vec::new();
	let mut next = from;
	let started = std::time::Instant::now();
	let mut ended: BTreeMap<u64, (bool, u128)> = BTreeMap::new();
	// Dispute → its reporter and its jurors' votes.
	let mut votes: Votes = BTreeMap::new();
	let mut challenge = None;
	let honest_invalid = |votes: &Votes, dispute: &u64| {
		votes.get(dispute).is_some_and(|(_, jurors)| {
			jurors.iter().any(|(juror, invalid)| *juror != account(Sr25519Keyring::Eve) && *invalid)
		})
	};
	while disputes.is_empty()
		|| !disputes.iter().all(|dispute| ended.contains_key(dispute))
		|| !challenge.as_ref().is_some_and(|dispute| honest_invalid(&votes, dispute))
	{
		assert!(started.elapsed() < DEADLINE, "Eve's disputes end\n{}", logs());
		let last = client.block_number().await.unwrap();
		for (_, opened) in common::events::events::<ch::DisputeOpened>(&client, next, last).await {
			if opened.settlement == settlement
				&& matches!(opened.reason.0, gonka_primitives::channel::FailReason::Challenged)
			{
				assert_eq!(opened.sample, challenged, "the challenge names its leaf");
				challenge = Some(opened.dispute);
				votes.insert(opened.dispute, (opened.reporter, Vec::new()));
			} else if opened.settlement == settlement {
				assert_ne!(opened.reporter, account(Sr25519Keyring::Eve));
				assert!(
					matches!(opened.reason.0, gonka_primitives::channel::FailReason::Mismatch),
					"the replay failed, the payload was served: {:?}",
					opened.reason.0
				);
				disputes.push(opened.dispute);
				votes.insert(opened.dispute, (opened.reporter, Vec::new()));
			}
		}
		for (_, vote) in common::events::events::<ch::JurorVoted>(&client, next, last).await {
			if let Some((_, jurors)) = votes.get_mut(&vote.dispute) {
				jurors.push((vote.juror, vote.invalid));
			}
		}
		for (_, end) in common::events::events::<ch::DisputeEnded>(&client, next, last).await {
			let invalidated = matches!(
				end.outcome,
				runtime_types::pallet_channels::types::DisputeOutcome::Invalidated
			);
			ended.insert(end.dispute, (invalidated, end.refund));
		}
		next = last + 1;
		tokio::time::sleep(Duration::from_secs(1)).await;
	}
	// The challenge: the honest hosts fetched the leaf, replayed it and voted invalid, none
	// valid; opened before the validators' disputes, it votes on after they ended.
	let challenge = challenge.expect("the challenge's dispute");
	// Replayed, not voted invalid for want of the payload (which a juror does near the
	// window's end): a juror's log shows the challenged receipt's replay failing.
	let replayed = [&alice, &bob].iter().any(|worker| {
		worker.log().lines().any(|line| {
			line.contains("the disputed receipt fails its replay")
				&& line.contains(&format!("dispute={challenge} "))
		})
	});
	assert!(replayed, "a juror fetched the challenged leaf and replayed it\n{}", logs());
	let (_, jurors) = &votes[&challenge];
	assert!(
		jurors.iter().all(|(_, invalid)| *invalid),
		"the challenge's jurors voted invalid: {jurors:?}\n{}",
		logs()
	);
	assert!(
		!ended.contains_key(&challenge),
		"a challenge's jury votes for the long window: {ended:?}\n{}",
		logs()
	);
	assert_eq!(disputes.len() as u32, closed.fails, "one dispute per failed sample");
	for dispute in &disputes {
		let (invalidated, _) = ended[dispute];
		assert!(invalidated, "the jury invalidated dispute {dispute}\n{}", logs());
	}
	// Each invalidation refunds the receipt's cost (and pays the reporter as much) from
	// Eve's pending pay for the settlement, as far as it goes: the first dispute to end
	// refunds a whole receipt's cost, none refunds more than one, and Charlie gets back
	// more than any one receipt cost.
	let first = disputes.iter().min().expect("a dispute");
	let (_, refund) = ended[first];
	assert!(costs.contains(&refund), "dispute {first} refunded a receipt's cost: {refund}");
	let most = costs.iter().copied().max().unwrap_or(0);
	assert!(disputes.iter().all(|dispute| ended[dispute].1 <= most));
	let refunded: u128 = disputes.iter().map(|dispute| ended[dispute].1).sum();
	assert!(refunded >= refund, "refunds: {ended:?}");
	for dispute in &disputes {
		let (reporter, jurors) = &votes[dispute];
		assert!(
			jurors.iter().any(|(juror, invalid)| juror != reporter
				&& *juror != account(Sr25519Keyring::Eve)
				&& *invalid),
			"another honest host sat on dispute {dispute}'s jury and voted invalid: {jurors:?}\n{}",
			logs()
		);
	}
}
