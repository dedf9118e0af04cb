//! The validator's side of channels (`gonka_worker::channel::validator`, the endpoint's
//! `channel_payload` and `channel_ack`): an executor's book serves a sample's payload with
//! its proof, the validator checks it against the settlement and replays it with the real
//! model, and its book says what is due in which verdict window. The attacks: payloads
//! that are not the sample's, payloads that do not match their receipt, completions cut
//! short or from another model, fetches by validators the chain did not draw.

mod common;

use common::model_path;
use gonka_primitives::{
	channel::{
		sample_seed, tail_digest, Anchor, ChannelMessage, ChannelSettle, FailReason, FailureReport,
		PayloadAccess, SampleOf, SumNode, MAX_VERDICTS,
	},
	duty::Duty,
	inference::SamplingParams,
	HostId, H256,
};
use gonka_worker::{
	api::{
		channels::{
			ChannelEndpoint, ChannelViews, ExecutorClient, GateFuture, KeyFuture, SampleGate,
			SampleGrant, NOT_DRAWN,
		},
		proofs::{ProofBook, ProofServer},
	},
	channel::{
		developer::{DeveloperChannel, DeveloperView, Member},
		executor::{ChannelView, Delivery, ExecutorChannel, Payload, SignedAck},
		prompt::{self, ChatMessage, Role},
		validator::{
			check_delivery, delivery_ack, judge, Checked, Checks, Due, Jury, SettlementInfo,
			ValidatorBook,
		},
	},
	engine::ModelEngine,
	inference::{generate::generate_from, sampler, score::Tolerance, tokenizer::ChatTokenizer},
	model::Llama,
};
use jsonrpsee::core::ClientError;
use polkadot_sdk::{
	sp_arithmetic::Perbill,
	sp_core::{sr25519, Pair},
};
use std::{
	collections::BTreeMap,
	sync::{Arc, OnceLock},
};

const GENESIS: H256 = H256::repeat_byte(0x42);
const CHANNEL: u64 = 7;
const PRICE: u128 = 1_000;
const OVERHEAD: u32 = gonka_primitives::inference::SMOLLM2_TEMPLATE_OVERHEAD;
const SETTLEMENT: u64 = 11;
const THRESHOLD: f64 = 0.9;

fn engine() -> Arc<ModelEngine> {
	static ENGINE: OnceLock<Arc<ModelEngine>> = OnceLock::new();
	ENGINE
		.get_or_init(|| {
			let (model, content) = Llama::load(&model_path(), &candle_core::Device::Cpu).unwrap();
			let tokenizer = ChatTokenizer::from_gguf(&content).unwrap();
			Arc::new(ModelEngine { model_id: 0, model, tokenizer, tolerance: Tolerance::default() })
		})
		.clone()
}

fn key(uri: &str) -> sr25519::Pair {
	sr25519::Pair::from_string(uri, None).unwrap()
}

fn host(uri: &str) -> HostId {
	HostId::new(key(uri).public().0)
}

/// How the executor changes the completion it receipts.
#[derive(Clone, Copy)]
enum Completion {
	Honest,
	/// Ends it with an end token after its first token.
	CutShort,
	/// Tokens of no model: counting up from 300, then an end token.
	Made,
}

/// An executor's book (Alice) and a gateway's (Charlie's channel) with `requests` real
/// requests served, the first `vouchered` vouchered; returns the books and the settlement.
struct Served {
	_dir: tempfile::TempDir,
	executor: ExecutorChannel,
	settle: ChannelSettle,
	channel_key: sr25519::Pair,
}

fn serve(questions: &[(&str, Completion)], vouchered: usize) -> Served {
	let engine = engine();
	let tokenizer = &engine.tokenizer;
	let dir = tempfile::tempdir().unwrap();
	let channel_key = key("//Charlie//channel//0");
	let worker_key = key("//Alice//stash");
	let alice = host("//Alice");
	let view = ChannelView {
		channel: CHANNEL,
		genesis_hash: GENESIS,
		channel_key: channel_key.public(),
		price: PRICE,
		template_overhead: OVERHEAD,
		max_request_tokens: 512,
		allowance: u128::MAX / 4,
		ends: 100,
	};
	let mut executor =
		ExecutorChannel::open(&dir.path().join("executor.log"), view, alice.clone()).unwrap();
	let members = BTreeMap::from([(
		alice.clone(),
		Member { worker_key: worker_key.public(), allowance: u128::MAX / 4 },
	)]);
	let mut developer = DeveloperChannel::open(
		&dir.path().join("gateway.log"),
		DeveloperView {
			channel: CHANNEL,
			genesis_hash: GENESIS,
			price: PRICE,
			template_overhead: OVERHEAD,
			max_request_tokens: 512,
			members,
		},
		channel_key.clone(),
	)
	.unwrap();
	let mut voucher = None;
	for (index, (question, completion)) in questions.iter().enumerate() {
		let messages = vec![
			ChatMessage::new(Role::System, "Answer briefly."),
			ChatMessage::new(Role::User, *question),
		];
		let signed = developer
			.request(&alice, None, 0, &messages, 8, SamplingParams::GREEDY)
			.unwrap()
			.unwrap();
		let payload = Payload {
			request: signed.request.clone(),
			request_signature: signed.signature,
			salt: signed.salt,
			messages: messages.clone(),
		};
		let admission = executor.admit(&payload, 10).unwrap();
		let prompt_ids = tokenizer.chat_conversation(&prompt::turns(&messages)).unwrap();
		let params = sampler::SamplingParams { temperature: 0.0, top_p: 1.0, seed: admission.seed };
		let generated = generate_from(
			&engine.model,
			tokenizer,
			prompt_ids.clone(),
			8,
			&params,
			&mut |_| Ok(()),
		)
		.unwrap()
		.completion_token_ids;
		let end = tokenizer.end_tokens()[0];
		let ids = match completion {
			Completion::Honest => generated,
			Completion::CutShort => vec![generated[0], end],
			Completion::Made => vec![300, 301, 302, end],
		};
		let served = executor
			.complete(
				payload,
				prompt_ids.len() as u32,
				ids.clone(),
				tokenizer.end_tokens(),
				&worker_key,
			)
			.unwrap();
		let signed_voucher = developer
			.accept(
				&signed.request,
				served.receipt,
				&served.signature,
				&ids,
				prompt_ids.len() as u32,
				tokenizer.end_tokens(),
			)
			.unwrap()
			.unwrap();
		if index < vouchered {
			voucher = Some(signed_voucher);
		}
	}
	if let Some(voucher) = voucher {
		assert_eq!(executor.accept_voucher(voucher).unwrap(), Ok(true));
	}
	let settle = executor.settlement();
	Served { _dir: dir, executor, settle, channel_key }
}

fn info(served: &Served) -> SettlementInfo {
	let settle = &served.settle;
	let leaves: Vec<SumNode> =
		settle.tail.iter().map(|claim| SumNode::leaf(&claim.receipt)).collect();
	SettlementInfo {
		settlement: SETTLEMENT,
		channel: CHANNEL,
		executor: host("//Alice"),
		at: 120,
		seed: sample_seed(&GENESIS, &H256::repeat_byte(7), SETTLEMENT),
		root: settle.voucher.as_ref().map_or(H256::zero(), |signed| signed.voucher.root),
		count: settle.vouchered(),
		from: 0,
		to: settle.vouchered_amount(),
		receipts: settle.vouchered(),
		target: Perbill::one(),
		tail: settle.tail.len() as u32,
		tails: tail_digest(&leaves),
		model: 0,
		channel_key: served.channel_key.public(),
		price: PRICE,
		template_overhead: OVERHEAD,
	}
}

/// Every sample a settlement can draw: a point in each vouchered receipt, each tail.
fn every_sample(served: &Served) -> Vec<SampleOf> {
	let mut samples = Vec::new();
	let mut offset = 0u128;
	for entry in served.executor.served().iter().take(served.settle.vouchered() as usize) {
		samples.push(SampleOf::Tree(offset + entry.receipt.cost / 2));
		offset += entry.receipt.cost;
	}
	samples.extend((0..served.settle.tail.len() as u32).map(SampleOf::Tail));
	samples
}

fn delivery(served: &Served, what: impl Into<Checks>) -> Delivery {
	let settle = &served.settle;
	served.executor.delivery(settle.vouchered(), settle.tail.len() as u32, what).unwrap()
}

/// Three receipts, two vouchered and one claimed as tail, the second completed as
/// `second`.
fn three_served(second: Completion) -> Served {
	serve(
		&[
			("What is the capital of France?", Completion::Honest),
			("Name a colour.", second),
			("Count to three.", Completion::Honest),
		],
		2,
	)
}

#[test]
fn a_sampled_receipts_payload_checks_out_and_replays_as_a_pass() {
	let served = three_served(Completion::Honest);
	let info = info(&served);
	assert_eq!((info.count, info.tail), (2, 1));
	let samples = every_sample(&served);
	assert_eq!(samples.len(), 3);
	for (index, what) in samples.into_iter().enumerate() {
		let delivery = delivery(&served, what);
		assert_eq!(delivery.served.receipt.seq, index as u32, "{what:?} is its own receipt");
		let Checked::Sample(evidence) = check_delivery(&GENESIS, &info, what, &delivery) else {
			panic!("{what:?}: an honest payload checks out");
		};
		assert_eq!(evidence.receipt, delivery.served.receipt);
		assert_eq!(judge(engine().as_ref(), &delivery, THRESHOLD).unwrap(), None, "{what:?}");
		let ack = delivery_ack(&info, 0, &evidence);
		assert_eq!(ack.leaf, SumNode::leaf(&delivery.served.receipt).hash);
	}
}

/// A developer's challenge names a leaf: the executor serves that receipt with its proof
/// (a tail leaf as the tail sample at its place), and the juror's check holds it to the
/// leaf: the receipt's own `seq`, one the settlement added; past the settlement's leaves,
/// nothing is challenged.
#[test]
fn a_challenged_leaf_is_served_with_its_proof_and_checks_out() {
	let served = three_served(Completion::CutShort);
	let info = info(&served);
	assert_eq!(Checks::of_leaf(0, 2, 1), Some(Checks::Leaf(0)));
	assert_eq!(Checks::of_leaf(2, 2, 1), Some(Checks::Tail(0)));
	assert_eq!(Checks::of_leaf(3, 2, 1), None);
	for seq in 0..3 {
		let what = Checks::of_leaf(seq, info.count, info.tail).unwrap();
		let delivery = delivery(&served, what);
		assert_eq!(delivery.served.receipt.seq, seq);
		assert!(matches!(check_delivery(&GENESIS, &info, what, &delivery), Checked::Sample(_)));
		// The cut-short completion passes the check and fails its replay.
		let why = judge(engine().as_ref(), &delivery, THRESHOLD).unwrap();
		assert_eq!(why.is_some(), seq == 1, "leaf {seq}: {why:?}");
	}
	// An honest neighbour served for the challenged leaf is not it, nor a leaf the
	// settlement did not add (its interval before `from`).
	let neighbour = delivery(&served, Checks::Leaf(0));
	assert_eq!(check_delivery(&GENESIS, &info, Checks::Leaf(1), &neighbour), Checked::NotTheSample);
	let later = SettlementInfo { from: neighbour.served.receipt.cost, ..info.clone() };
	assert_eq!(
		check_delivery(&GENESIS, &later, Checks::Leaf(0), &neighbour),
		Checked::NotTheSample
	);
}

#[test]
fn a_completion_cut_short_or_of_another_model_fails_its_replay() {
	let served = serve(
		&[
			("What is the capital of France?", Completion::CutShort),
			("Name a colour.", Completion::Made),
		],
		2,
	);
	let info = info(&served);
	for what in every_sample(&served) {
		let delivery = delivery(&served, what);
		// The payload is the receipt's: the failure is the replay's, with the receipt.
		assert!(matches!(check_delivery(&GENESIS, &info, what, &delivery), Checked::Sample(_)));
		let why = judge(engine().as_ref(), &delivery, THRESHOLD).unwrap();
		assert!(why.is_some(), "{what:?} passed a replay it must fail");
	}
}

#[test]
fn a_payload_not_the_samples_is_none_and_one_that_does_not_match_its_receipt_fails() {
	let served = serve(
		&[
			("What is the capital of France?", Completion::Honest),
			("Name a colour.", Completion::Honest),
		],
		2,
	);
	let info = info(&served);
	let first = SampleOf::Tree(0);
	let honest = delivery(&served, first);

	// Another receipt than the one the point falls in, or a proof that does not lead to
	// the root: as if nothing was served.
	let other = delivery(&served, SampleOf::Tree(info.to - 1));
	assert_eq!(check_delivery(&GENESIS, &info, first, &other), Checked::NotTheSample);
	let mut bad_proof = honest.clone();
	bad_proof.proof[0].sum += 1;
	assert_eq!(check_delivery(&GENESIS, &info, first, &bad_proof), Checked::NotTheSample);
	let mut other_receipt = honest.clone();
	other_receipt.served.receipt.completion_tokens += 1;
	assert_eq!(check_delivery(&GENESIS, &info, first, &other_receipt), Checked::NotTheSample);

	// The sample's receipt with another prompt, another completion or another request:
	// a failure with the receipt as evidence.
	let mut prompt = honest.clone();
	prompt.served.payload.messages[1].content = "What is the capital of Spain?".into();
	let mut completion = honest.clone();
	completion.served.token_ids[0] += 1;
	let mut request = honest.clone();
	request.served.payload.request.max_tokens += 1;
	let mut signature = honest.clone();
	signature.served.payload.request_signature =
		signature.served.payload.request.sign(&GENESIS, &key("//Eve"));
	for (tampered, what) in [
		(prompt, "prompt"),
		(completion, "completion"),
		(request, "request"),
		(signature, "signature"),
	] {
		match check_delivery(&GENESIS, &info, first, &tampered) {
			Checked::Mismatch(evidence, _) => {
				assert_eq!(evidence.receipt, honest.served.receipt, "{what}")
			}
			other => panic!("{what}: {other:?}"),
		}
	}
	assert!(matches!(check_delivery(&GENESIS, &info, first, &honest), Checked::Sample(_)));
}

fn settlement(settlement: u64, at: u32) -> SettlementInfo {
	SettlementInfo {
		settlement,
		channel: CHANNEL,
		executor: host("//Alice"),
		at,
		seed: H256::repeat_byte(1),
		root: H256::repeat_byte(2),
		count: 10,
		from: 0,
		to: 1_000,
		receipts: 10,
		target: Perbill::one(),
		tail: 0,
		tails: H256::zero(),
		model: 0,
		channel_key: key("//Charlie//channel//0").public(),
		price: PRICE,
		template_overhead: OVERHEAD,
	}
}

fn mismatch(settlement: u64, sample: u32) -> FailureReport {
	FailureReport {
		settlement,
		anchor: Anchor { number: 0, hash: H256::zero() },
		sample,
		reason: FailReason::Mismatch,
		evidence: None,
	}
}

#[test]
fn passes_wait_for_their_window_and_every_sample_then_go_in_parts_and_failures_at_once() {
	let dir = tempfile::tempdir().unwrap();
	// Periods of 50 blocks, a margin of 10.
	let mut book = ValidatorBook::open(dir.path(), 50, 10).unwrap();
	// Two settlements in period 2 (blocks 100..150): answered in 150..200.
	book.seen(1, 110).unwrap();
	book.seen(2, 120).unwrap();
	assert_eq!(book.undrawn(), vec![(1, 110), (2, 120)]);
	let many: Vec<(u32, SampleOf)> =
		(0..(MAX_VERDICTS + 3)).map(|k| (k, SampleOf::Tree(0))).collect();
	book.drawn(settlement(1, 110), many.clone()).unwrap();
	assert_eq!(book.undrawn(), vec![(2, 120)]);
	for (sample, _) in &many {
		book.pass(&settlement(1, 110), *sample).unwrap();
	}
	assert!(book.due(160).is_empty(), "a settlement of the period is not drawn yet");
	book.drawn(settlement(2, 120), vec![(0, SampleOf::Tree(5)), (1, SampleOf::Tail(0))]).unwrap();
	book.fail(&settlement(2, 120), mismatch(2, 1)).unwrap();
	assert_eq!(book.pending().len(), 1);
	// Before the window: nothing; a failure as soon as the window opens, passes only once
	// every sample is decided.
	assert!(book.due(149).is_empty());
	assert_eq!(book.due(150), vec![Due::Report(Box::new(mismatch(2, 1)))]);
	book.pass(&settlement(2, 120), 0).unwrap();
	// The passes first (near a window's end, they are the pay), then the failure.
	let due = book.due(150);
	assert_eq!(due.len(), 3);
	assert_eq!(due[2], Due::Report(Box::new(mismatch(2, 1))));
	let Due::Verdicts { period: 2, part: 0, entries } = &due[0] else { panic!("{due:?}") };
	assert_eq!(entries.len(), MAX_VERDICTS as usize);
	let Due::Verdicts { period: 2, part: 1, entries: rest } = &due[1] else { panic!("{due:?}") };
	assert_eq!(rest.len(), 4, "the rest and the second settlement's pass");
	assert_eq!(rest.last(), Some(&(2, 0)));

	// Sent: not due again, here or after a restart; the window closed: pruned.
	book.reported(2, 1).unwrap();
	book.sent(2, 0, entries.clone()).unwrap();
	book.sent(2, 1, rest.clone()).unwrap();
	assert!(book.due(151).is_empty());
	drop(book);
	let mut book = ValidatorBook::open(dir.path(), 50, 10).unwrap();
	assert!(book.due(151).is_empty());
	assert_eq!(book.periods(), vec![2]);
	book.pass(&settlement(1, 110), 0).unwrap();
	assert!(book.due(151).is_empty(), "a sample decided once stays decided");
	book.prune(199).unwrap();
	assert_eq!(book.periods(), vec![2]);
	book.prune(200).unwrap();
	assert!(book.periods().is_empty());
	assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "its log is deleted");
}

#[test]
fn a_payload_never_served_is_reported_unavailable_before_the_window_ends() {
	let dir = tempfile::tempdir().unwrap();
	let mut book = ValidatorBook::open(dir.path(), 50, 10).unwrap();
	book.drawn(settlement(4, 60), vec![(0, SampleOf::Tree(1)), (3, SampleOf::Tree(9))]).unwrap();
	book.pass(&settlement(4, 60), 0).unwrap();
	book.not_served(4, 3);
	// Period 1's window is 100..150: asked again until 140.
	assert!(book.due(120).is_empty(), "a sample still pending holds the passes back");
	assert_eq!(book.give_up(139).unwrap(), 0);
	assert_eq!(book.give_up(140).unwrap(), 1);
	let due = book.due(140);
	assert_eq!(due[0], Due::Verdicts { period: 1, part: 0, entries: vec![(4, 0)] });
	let Due::Report(report) = &due[1] else { panic!("{due:?}") };
	assert_eq!((report.settlement, report.sample, report.reason), (4, 3, FailReason::Unavailable));
	assert!(report.evidence.is_none());
	// A payload served late changes nothing decided.
	book.pass(&settlement(4, 60), 3).unwrap();
	assert_eq!(book.due(140).len(), 2);
}

#[test]
fn a_sample_never_asked_for_is_left_unanswered_not_reported_unavailable() {
	let dir = tempfile::tempdir().unwrap();
	let mut book = ValidatorBook::open(dir.path(), 50, 10).unwrap();
	let samples = vec![(0, SampleOf::Tree(1)), (1, SampleOf::Tree(4)), (2, SampleOf::Tree(9))];
	book.drawn(settlement(5, 60), samples).unwrap();
	// The validator's replays of samples 0 and 1 took the window: it never asked the
	// executor for sample 2, which an honest executor would have served.
	book.pass(&settlement(5, 60), 0).unwrap();
	book.pass(&settlement(5, 60), 1).unwrap();
	assert_eq!(book.give_up(140).unwrap(), 0, "nothing asked for went unserved");
	// Its passes go out before the window ends, and no report names the executor.
	assert_eq!(
		book.due(140),
		vec![Due::Verdicts { period: 1, part: 0, entries: vec![(5, 0), (5, 1)] }]
	);
	// Asked for and not served: given up at the next look, whatever the order.
	book.not_served(5, 2);
	assert_eq!(book.give_up(141).unwrap(), 1);
	let Due::Report(report) = &book.due(141)[1] else { panic!("a report") };
	assert_eq!((report.sample, report.reason), (2, FailReason::Unavailable));
}

/// The chain as the executor's gate sees it: Bob is drawn for sample 0 of the settlement.
struct Gate {
	grant: SampleGrant,
	validator: HostId,
	validator_key: sr25519::Public,
	/// Sits on the jury of dispute `DISPUTE` on the sample (with its worker key).
	juror: (HostId, sr25519::Public),
	sample: u32,
}

const DISPUTE: u64 = 5;

impl SampleGate for Gate {
	fn worker_key(&self, host: HostId) -> KeyFuture<'_> {
		let key = if host == self.validator {
			Some(self.validator_key)
		} else if host == self.juror.0 {
			Some(self.juror.1)
		} else if host == self::host("//Eve") {
			Some(key("//Eve").public())
		} else {
			None
		};
		Box::pin(async move { Ok(key.map(|key| (key, GENESIS))) })
	}
	fn grant(
		&self,
		settlement: u64,
		sample: u32,
		validator: HostId,
		dispute: Option<u64>,
	) -> GateFuture<'_> {
		let drawn = match dispute {
			None => validator == self.validator,
			Some(dispute) => dispute == DISPUTE && validator == self.juror.0,
		};
		let grant = (drawn && settlement == SETTLEMENT && sample == self.sample)
			.then(|| self.grant.clone());
		Box::pin(async move { Ok(grant) })
	}
}

struct NoViews;

impl ChannelViews for NoViews {
	fn view(&self, _channel: u64) -> Option<ChannelView> {
		None
	}

	fn best_block(&self) -> u32 {
		0
	}
}

fn code(error: ClientError) -> i32 {
	match error {
		ClientError::Call(object) => object.code(),
		other => panic!("not an error answer: {other}"),
	}
}

/// What the chain grants for `what` of Alice's settlement `info`.
fn grant(info: &SettlementInfo, what: Checks) -> SampleGrant {
	SampleGrant {
		genesis_hash: GENESIS,
		channel: CHANNEL,
		executor: host("//Alice"),
		count: info.count,
		tail: info.tail,
		what,
		seed: info.seed,
	}
}

/// Alice's endpoint over the journal of `served` as a channel that has ended (no view: the
/// chain pruned it), behind `gate`: its journals' directory, the endpoint, its server and
/// a client of it.
async fn ended_channel_endpoint(
	served: &Served,
	gate: Gate,
) -> (tempfile::TempDir, Arc<ChannelEndpoint>, ProofServer, ExecutorClient) {
	let executors = tempfile::tempdir().unwrap();
	std::fs::copy(served._dir.path().join("executor.log"), executors.path().join("channel-7.log"))
		.unwrap();
	let endpoint = ChannelEndpoint::with_gate(
		host("//Alice"),
		key("//Alice//stash"),
		executors.path().to_path_buf(),
		Arc::new(NoViews),
		engine(),
		Some(Arc::new(gate)),
	)
	.unwrap();
	let server =
		ProofServer::start_with("127.0.0.1:0", ProofBook::default(), endpoint.methods().unwrap())
			.unwrap();
	let client = ExecutorClient::connect(&format!("http://{}", server.address())).await.unwrap();
	(executors, endpoint, server, client)
}

#[tokio::test]
async fn a_payload_is_served_only_to_the_validator_the_chain_draws_and_its_acknowledgement_is_kept()
{
	let served = serve(&[("What is the capital of France?", Completion::Honest)], 1);
	let info = info(&served);
	let bob = host("//Bob");
	let bob_key = key("//Bob//stash");
	let what = SampleOf::Tree(0);
	let gate = Gate {
		grant: grant(&info, what.into()),
		validator: bob.clone(),
		validator_key: bob_key.public(),
		juror: (host("//Dave"), key("//Dave//stash").public()),
		sample: 0,
	};
	let (executors, endpoint, _server, client) = ended_channel_endpoint(&served, gate).await;

	// Bob, drawn, signs: served.
	let access =
		PayloadAccess { settlement: SETTLEMENT, sample: 0, validator: bob.clone(), dispute: None };
	let delivery = client.payload(&access, &access.sign(&GENESIS, &bob_key)).await.unwrap();
	let Checked::Sample(evidence) = check_delivery(&GENESIS, &info, what, &delivery) else {
		panic!("the served payload checks out");
	};
	// Signed by another key, or asked by a validator not drawn, or for another sample:
	// refused.
	let forged = access.sign(&GENESIS, &key("//Eve"));
	assert_eq!(code(client.payload(&access, &forged).await.unwrap_err()), NOT_DRAWN);
	let eve = PayloadAccess { validator: host("//Eve"), ..access.clone() };
	let eves = eve.sign(&GENESIS, &key("//Eve"));
	assert_eq!(code(client.payload(&eve, &eves).await.unwrap_err()), NOT_DRAWN);
	let other = PayloadAccess { sample: 1, ..access.clone() };
	let others = other.sign(&GENESIS, &bob_key);
	assert_eq!(code(client.payload(&other, &others).await.unwrap_err()), NOT_DRAWN);
	// A juror of the sample's dispute is served; Bob naming a dispute whose jury he does
	// not sit on, or the juror naming no dispute, is not.
	let dave_key = key("//Dave//stash");
	let dave =
		PayloadAccess { validator: host("//Dave"), dispute: Some(DISPUTE), ..access.clone() };
	let daves = dave.sign(&GENESIS, &dave_key);
	assert_eq!(client.payload(&dave, &daves).await.unwrap(), delivery);
	let bob_as_juror = PayloadAccess { dispute: Some(DISPUTE), ..access.clone() };
	let signed = bob_as_juror.sign(&GENESIS, &bob_key);
	assert_eq!(code(client.payload(&bob_as_juror, &signed).await.unwrap_err()), NOT_DRAWN);
	let dave_alone = PayloadAccess { dispute: None, ..dave.clone() };
	let signed = dave_alone.sign(&GENESIS, &dave_key);
	assert_eq!(code(client.payload(&dave_alone, &signed).await.unwrap_err()), NOT_DRAWN);

	// Bob's acknowledgement is kept (journaled); one naming another leaf, or signed by
	// another key, is not.
	let ack = delivery_ack(&info, 0, &evidence);
	let mut wrong_leaf = ack.clone();
	wrong_leaf.leaf = H256::repeat_byte(3);
	let bad = SignedAck {
		validator: bob.clone(),
		signature: wrong_leaf.sign(&GENESIS, &bob, &bob_key),
		ack: wrong_leaf,
	};
	assert_eq!(code(client.ack(&bad).await.unwrap_err()), NOT_DRAWN);
	let forged = SignedAck {
		validator: bob.clone(),
		signature: ack.sign(&GENESIS, &bob, &key("//Eve")),
		ack: ack.clone(),
	};
	assert_eq!(code(client.ack(&forged).await.unwrap_err()), NOT_DRAWN);
	assert_eq!(endpoint.kept_ack(CHANNEL, GENESIS, SETTLEMENT, 0, &bob).unwrap(), None);
	let signed = SignedAck {
		validator: bob.clone(),
		signature: ack.sign(&GENESIS, &bob, &bob_key),
		ack: ack.clone(),
	};
	client.ack(&signed).await.unwrap();
	assert_eq!(
		endpoint.kept_ack(CHANNEL, GENESIS, SETTLEMENT, 0, &bob).unwrap(),
		Some(signed.clone())
	);
	// Acknowledgements are kept by validator: Eve's (not drawn) is refused, and none of
	// hers stands in for Bob's.
	let eve = host("//Eve");
	let eves = SignedAck {
		validator: eve.clone(),
		signature: ack.sign(&GENESIS, &eve, &key("//Eve")),
		ack: ack.clone(),
	};
	assert_eq!(code(client.ack(&eves).await.unwrap_err()), NOT_DRAWN);
	assert_eq!(endpoint.kept_ack(CHANNEL, GENESIS, SETTLEMENT, 0, &eve).unwrap(), None);
	// After a restart, from the journal.
	let reopened = ExecutorChannel::open(
		&executors.path().join("channel-7.log"),
		ChannelView {
			channel: CHANNEL,
			genesis_hash: GENESIS,
			channel_key: served.channel_key.public(),
			price: PRICE,
			template_overhead: OVERHEAD,
			max_request_tokens: 512,
			allowance: 0,
			ends: 0,
		},
		host("//Alice"),
	)
	.unwrap();
	assert_eq!(reopened.ack(SETTLEMENT, 0, &bob), Some(&signed));
}

/// A developer's challenge names a receipt's leaf (the dispute's `sample` is its `seq`):
/// the chain grants the challenge's jurors that leaf (`Checks::Leaf`), and the executor's
/// endpoint serves it, with its siblings up to the voucher's root, to a juror naming the
/// dispute, and to nobody else; the juror's check holds it to the challenged leaf.
#[tokio::test]
async fn a_challenged_leaf_is_served_to_a_juror_of_the_challenge_only() {
	let served = serve(
		&[
			("What is the capital of France?", Completion::Honest),
			("Name a colour.", Completion::Honest),
		],
		2,
	);
	let info = info(&served);
	let gate = Gate {
		grant: grant(&info, Checks::Leaf(1)),
		// Drawn for no sample here (it asks nothing).
		validator: host("//Ferdie"),
		validator_key: key("//Ferdie//stash").public(),
		juror: (host("//Dave"), key("//Dave//stash").public()),
		sample: 1,
	};
	let (_executors, _endpoint, _server, client) = ended_channel_endpoint(&served, gate).await;
	let dave_key = key("//Dave//stash");
	let access = PayloadAccess {
		settlement: SETTLEMENT,
		sample: 1,
		validator: host("//Dave"),
		dispute: Some(DISPUTE),
	};
	let delivery = client.payload(&access, &access.sign(&GENESIS, &dave_key)).await.unwrap();
	assert_eq!(delivery.served.receipt.seq, 1);
	assert!(matches!(
		check_delivery(&GENESIS, &info, Checks::Leaf(1), &delivery),
		Checked::Sample(_)
	));
	assert_eq!(
		check_delivery(&GENESIS, &info, Checks::Leaf(0), &delivery),
		Checked::NotTheSample,
		"the leaf served is the challenged one, no other"
	);
	// Another leaf, the dispute unnamed, or a host off the jury: not served.
	let other = PayloadAccess { sample: 0, ..access.clone() };
	let signed = other.sign(&GENESIS, &dave_key);
	assert_eq!(code(client.payload(&other, &signed).await.unwrap_err()), NOT_DRAWN);
	let unnamed = PayloadAccess { dispute: None, ..access.clone() };
	let signed = unnamed.sign(&GENESIS, &dave_key);
	assert_eq!(code(client.payload(&unnamed, &signed).await.unwrap_err()), NOT_DRAWN);
	let eve = PayloadAccess { validator: host("//Eve"), ..access.clone() };
	let signed = eve.sign(&GENESIS, &key("//Eve"));
	assert_eq!(code(client.payload(&eve, &signed).await.unwrap_err()), NOT_DRAWN);
}

#[test]
fn a_jurors_book_keeps_its_dispute_until_the_jury_ends_and_votes_once() {
	let dir = tempfile::tempdir().unwrap();
	let mut book = ValidatorBook::open(dir.path(), 50, 10).unwrap();
	// An unavailable payload's dispute opened in block 160 (period 3): votes until 360.
	book.dispute_seen(9, 160, 360).unwrap();
	book.dispute_seen(9, 160, 360).unwrap();
	assert_eq!(book.undecided_disputes(), vec![(9, 160, 360)]);
	let jury = Jury {
		dispute: 9,
		info: settlement(4, 120),
		sample: 3,
		what: Checks::Tree(9),
		reason: FailReason::Unavailable,
		ends: 360,
	};
	book.sit(jury.clone()).unwrap();
	assert!(book.undecided_disputes().is_empty());
	// A restart: still on the jury, not voted.
	drop(book);
	let mut book = ValidatorBook::open(dir.path(), 50, 10).unwrap();
	assert_eq!(book.juries(), vec![jury]);
	// Its period's verdict window closed (250), its jury has not: kept.
	book.prune(300).unwrap();
	assert_eq!(book.periods(), vec![3]);
	book.voted(9).unwrap();
	assert!(book.juries().is_empty());
	drop(book);
	let mut book = ValidatorBook::open(dir.path(), 50, 10).unwrap();
	assert!(book.juries().is_empty() && book.undecided_disputes().is_empty(), "voted once");
	book.prune(361).unwrap();
	assert!(book.periods().is_empty());
}
