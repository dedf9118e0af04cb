//! Benchmarks (v2) of the calls and hooks, each at its worst case.

use super::*;
use gonka_primitives::{
	channel::{
		channel_key_message, fold_proof, request_seed, Anchor, ChannelId, ChannelMessage,
		ChannelRequest, ChannelSettle, ChannelTerms, ChannelWaiver, DeliveryAck, FailReason,
		FailureReport, FinishReason, MissedSamples, Receipt, ReceiptChallenge, ReceiptEvidence,
		ReceiptVerdict, ReceiptVerdicts, ReceiptVote, SignedVoucher, SumNode, TailClaim, Voucher,
		JURY_SIZE, MAX_JURORS, MAX_MISSES, MAX_PROOF, MAX_SAMPLES, MAX_SECOND_VERDICTS, MAX_TAIL,
		MAX_VERDICTS,
	},
	duty::Duty,
	HostId, NonceCount,
};
use pallet_inference::WorkLedger as _;
use polkadot_sdk::{
	frame_benchmarking::v2::*,
	frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, Mutate, MutateHold},
			Authorize,
		},
	},
	frame_system::{self, pallet_prelude::BlockNumberFor, RawOrigin},
	sp_core::{crypto::KeyTypeId, sr25519},
	sp_runtime::{
		traits::{One, Saturating},
		SaturatedConversion,
	},
};

/// The key type of the benchmarks' channel keys in the keystore.
const CHANNEL: KeyTypeId = KeyTypeId(*b"gchn");

fn developer<T: Config>() -> HostId {
	let who: HostId = account("developer", 0, 0);
	<T as Config>::Currency::set_balance(&who, u128::MAX / 4);
	who
}

/// Channel key `i` and its proof that `developer` holds it.
fn channel_key<T: Config>(developer: &HostId, i: u32) -> (sr25519::Public, sr25519::Signature) {
	let key = polkadot_sdk::sp_io::crypto::sr25519_generate(
		CHANNEL,
		Some(alloc::format!("//bench-channel-{i}").into_bytes()),
	);
	let message = channel_key_message(&pallet_poc::Pallet::<T>::genesis_hash(), developer);
	let proof = polkadot_sdk::sp_io::crypto::sr25519_sign(CHANNEL, &key, &message)
		.expect("the key is in the keystore");
	(key, proof)
}

/// Terms of `committee` slots with `key`, the smallest requests, the longest duration, and
/// the deposit they need at least.
fn terms<T: Config>(
	committee: u8,
	key: sr25519::Public,
) -> (ChannelTerms<BlockNumberFor<T>>, u128) {
	let model = T::Pricing::benchmark_model();
	let price = T::Pricing::price(model).unwrap_or(1);
	let tokens = T::Pricing::template_overhead(model).unwrap_or(0).saturating_add(2);
	let terms = ChannelTerms {
		model,
		channel_key: key,
		price_cap: u128::MAX,
		committee,
		duration: Params::<T>::get().max_channel_blocks,
		max_request_tokens: tokens,
	};
	(terms, price.saturating_mul(u128::from(committee)).saturating_mul(u128::from(tokens)))
}

/// The queues (written by `put`) of the next `SCHEDULE_SEARCH - 1` blocks from `from`
/// full, and the one after full but for one place: a schedule looks at every block it may.
fn crowd<T: Config>(from: BlockNumberFor<T>, put: impl Fn(BlockNumberFor<T>, QueueOf)) {
	let most = T::MaxOpensPerBlock::get();
	let mut block = from;
	for searched in 0..SCHEDULE_SEARCH {
		let fill = if searched + 1 == SCHEDULE_SEARCH { most.saturating_sub(1) } else { most };
		let queue: alloc::vec::Vec<ChannelId> =
			(0..u64::from(fill)).map(|i| 1_000_000 + u64::from(searched) * 1_000 + i).collect();
		put(block, QueueOf::truncate_from(queue));
		block = block.saturating_add(One::one());
	}
}

/// Opens a channel of `committee` slots for the benchmarks' developer.
fn opened<T: Config>(committee: u8) -> (HostId, ChannelId) {
	let who = developer::<T>();
	let (key, proof) = channel_key::<T>(&who, 0);
	let (terms, deposit) = terms::<T>(committee, key);
	let channel = NextChannelId::<T>::get();
	Pallet::<T>::do_open(who.clone(), terms, proof, deposit).expect("the benchmark channel opens");
	(who, channel)
}

/// The key type of the benchmarks' worker keys in the keystore.
const WORKER: KeyTypeId = KeyTypeId(*b"gwrk");
/// The receipts the benchmarks' voucher covers.
const VOUCHERED: u32 = 1_000;

/// The amount of the benchmark settlement's voucher: its receipts, more than the
/// settlement's fee, and a share that pays every sample and its second answers (each
/// receipt sampled, at a new host's target).
fn settlement_amount<T: Config>(model: gonka_primitives::ModelId) -> u128 {
	let price = T::Pricing::price(model).unwrap_or(1);
	let cost = price.saturating_mul(2);
	let samples = gonka_primitives::channel::answers_cost(
		VOUCHERED + MAX_TAIL,
		<T as Config>::SampleFee::get(),
	);
	let for_samples = {
		use pallet_inference::WorkLedger;
		T::Work::validator_share().saturating_reciprocal_mul_ceil(samples)
	};
	cost.saturating_mul(u128::from(VOUCHERED))
		.max(for_samples)
		.saturating_add(T::SettleFee::get().saturating_mul(4))
}

/// `member` settled `channel` once before (so the next settlement pays its fee), last of
/// a full list of settled members, each with a voucher's amount and tail fees.
fn fill_settled<T: Config>(channel: ChannelId, member: &HostId) {
	TailFees::<T>::insert(
		channel,
		TailChargesOf::truncate_from(
			(1..MAX_COMMITTEE_SLOTS)
				.map(|i| (account::<HostId>("other", i, 0), TailCharge::default()))
				.collect(),
		),
	);
	let before = SettledInfo { receipts: 0, vouchered: 0, paid: 0, settlements: 1 };
	let others = (1..MAX_COMMITTEE_SLOTS).map(|i| (account::<HostId>("other", i, 0), before));
	Settled::<T>::insert(
		channel,
		SettledOf::truncate_from(others.chain([(member.clone(), before)]).collect()),
	);
	VoucheredAmounts::<T>::insert(
		channel,
		VoucheredOf::truncate_from(
			(1..MAX_COMMITTEE_SLOTS)
				.map(|i| (account::<HostId>("other", i, 0), 1))
				.chain([(member.clone(), 0)])
				.collect(),
		),
	);
}

/// Tail claim `i` of `member` in `channel` (after `VOUCHERED` vouchered receipts): a
/// request of one prompt byte and one token, its receipt of `cost`, signed with `key`.
fn tail_claim<T: Config>(
	channel: ChannelId,
	member: &HostId,
	i: u32,
	cost: u128,
	key: &sr25519::Public,
) -> TailClaim {
	let genesis = pallet_poc::Pallet::<T>::genesis_hash();
	let request = ChannelRequest {
		channel,
		nonce: u64::from(VOUCHERED + i),
		attempt: 0,
		executor: member.clone(),
		prompt_hash: gonka_primitives::H256::repeat_byte(2),
		prompt_bytes: 1,
		max_tokens: 1,
		sampling: gonka_primitives::inference::SamplingParams {
			temperature_milli: 0,
			top_p: polkadot_sdk::sp_runtime::Perbill::one(),
		},
	};
	let receipt = Receipt {
		channel,
		seq: VOUCHERED + i,
		nonce: request.nonce,
		attempt: 0,
		request_hash: request.hash(),
		prompt_hash: request.prompt_hash,
		output_hash: gonka_primitives::H256::repeat_byte(3),
		prompt_tokens: 1,
		completion_tokens: 1,
		finish: FinishReason::Stop,
		seed: request_seed(&genesis, channel, request.nonce, 0),
		cost,
	};
	let request_signature =
		polkadot_sdk::sp_io::crypto::sr25519_sign(CHANNEL, key, &request.signing_message(&genesis))
			.expect("the channel key is in the keystore");
	TailClaim { request_signature, request, receipt }
}

/// A channel of one slot whose committee is drawn, held by a registered host whose worker
/// key is in the keystore, which settled once before (this settlement pays its fee) and
/// is last in a full list of settled members; and the settlement of that member: a voucher
/// of `VOUCHERED` receipts and `t` tail claims, signed. Returns the call's arguments.
fn settling<T: Config>(
	t: u32,
) -> (HostId, ChannelSettle, polkadot_sdk::sp_core::sr25519::Signature) {
	let model = T::Pricing::benchmark_model();
	let member: HostId = account("member", 0, 0);
	<T as Config>::Currency::set_balance(&member, u128::MAX / 1_000_000);
	let worker =
		polkadot_sdk::sp_io::crypto::sr25519_generate(WORKER, Some(b"//bench-worker".to_vec()));
	pallet_poc::Pallet::<T>::register_for_benchmark(&member, worker, alloc::vec![model])
		.expect("the benchmark member registers");
	pallet_poc::Pallet::<T>::force_roster(model, alloc::vec![(member.clone(), 1 as NonceCount)]);
	// A generation of voting power in force, which the settlement's snapshot pins.
	pallet_poc::Pallet::<T>::force_voting_power(&[(member.clone(), 1)]);
	let who = developer::<T>();
	let (key, proof) = channel_key::<T>(&who, 0);
	let (terms, deposit) = terms::<T>(1, key);
	let amount = settlement_amount::<T>(model);
	let channel = NextChannelId::<T>::get();
	Pallet::<T>::do_open(who, terms, proof, deposit.saturating_add(amount.saturating_mul(2)))
		.expect("the benchmark channel opens");
	Pallet::<T>::draw_committee(channel);
	let info = Channels::<T>::get(channel).expect("the channel is open");
	fill_settled::<T>(channel, &member);
	let genesis = pallet_poc::Pallet::<T>::genesis_hash();
	let sign = |message: alloc::vec::Vec<u8>| {
		polkadot_sdk::sp_io::crypto::sr25519_sign(CHANNEL, &key, &message)
			.expect("the channel key is in the keystore")
	};
	let cost = info.price.saturating_mul(2);
	let voucher = Voucher {
		channel,
		executor: member.clone(),
		count: VOUCHERED,
		root: gonka_primitives::H256::repeat_byte(1),
		amount,
		last: (u64::from(VOUCHERED) - 1, 0),
	};
	let voucher = SignedVoucher { signature: sign(voucher.signing_message(&genesis)), voucher };
	let tail: alloc::vec::Vec<TailClaim> =
		(0..t).map(|i| tail_claim::<T>(channel, &member, i, cost, &key)).collect();
	let settle =
		ChannelSettle { channel, voucher: Some(voucher), tail: BoundedVec::truncate_from(tail) };
	let signature = polkadot_sdk::sp_io::crypto::sr25519_sign(
		WORKER,
		&worker,
		&settle.signing_message(&genesis, &member),
	)
	.expect("the worker key is in the keystore");
	(member, settle, signature)
}

/// The last waiver of a channel of `MAX_COMMITTEE_SLOTS` slots, ended, whose other 63 slots
/// are held by members that settled and waived; the waiving member (a registered host whose
/// worker key is in the keystore, last in the committee and in a full list of settled
/// members) settled too; the channel's finalization is queued last of a full block. Returns
/// the call's arguments.
fn waiving<T: Config>() -> (HostId, ChannelWaiver, polkadot_sdk::sp_core::sr25519::Signature) {
	let model = T::Pricing::benchmark_model();
	let member: HostId = account("member", 0, 0);
	<T as Config>::Currency::set_balance(&member, u128::MAX / 1_000_000);
	let worker =
		polkadot_sdk::sp_io::crypto::sr25519_generate(WORKER, Some(b"//bench-worker".to_vec()));
	pallet_poc::Pallet::<T>::register_for_benchmark(&member, worker, alloc::vec![model])
		.expect("the benchmark member registers");
	let (_, channel) = opened::<T>(MAX_COMMITTEE_SLOTS as u8);
	let info = Channels::<T>::get(channel).expect("the channel is open");
	let others: alloc::vec::Vec<HostId> =
		(1..MAX_COMMITTEE_SLOTS).map(|i| account("other", i, 0)).collect();
	let settled = SettledInfo { receipts: 1, vouchered: 1, paid: 0, settlements: 1 };
	let members = || others.iter().cloned().chain([member.clone()]);
	Committees::<T>::insert(channel, CommitteeOf::truncate_from(members().collect()));
	Settled::<T>::insert(
		channel,
		SettledOf::truncate_from(members().map(|m| (m, settled)).collect()),
	);
	VoucheredAmounts::<T>::insert(
		channel,
		VoucheredOf::truncate_from(members().map(|m| (m, 1)).collect()),
	);
	Waived::<T>::insert(channel, u64::MAX >> 1);
	// The finalization's queue full, the channel last in it.
	let most = u64::from(T::MaxOpensPerBlock::get());
	let queue: alloc::vec::Vec<ChannelId> =
		(1..most).map(|i| 1_000_000 + i).chain([channel]).collect();
	ToFinalize::<T>::insert(info.finalizes, QueueOf::truncate_from(queue));
	frame_system::Pallet::<T>::set_block_number(info.ends);
	let waiver = ChannelWaiver { channel, channel_key: info.terms.channel_key, receipts: 1 };
	let genesis = pallet_poc::Pallet::<T>::genesis_hash();
	let signature = polkadot_sdk::sp_io::crypto::sr25519_sign(
		WORKER,
		&worker,
		&waiver.signing_message(&genesis, &member),
	)
	.expect("the worker key is in the keystore");
	(member, waiver, signature)
}

/// The validators' share of each benchmark settlement.
const SHARE: u128 = 1_000;

/// Settlement `id`'s record as `verdicts` sets it up: included in block `at` by `executor`
/// (without power), one receipt, the validators' share `SHARE`, a snapshot of its own.
fn bench_record<T: Config>(
	id: u64,
	at: BlockNumberFor<T>,
	snapshot: gonka_primitives::PowerSnapshot,
	total_power: u128,
	executor: &HostId,
) -> SettlementRecordOf<T> {
	SettlementRecord {
		channel: 0,
		developer: executor.clone(),
		executor: executor.clone(),
		at,
		epoch: 0,
		root: gonka_primitives::H256::repeat_byte(1),
		count: 1,
		from: 0,
		to: 1,
		receipts: 1,
		tail: 0,
		tails: gonka_primitives::H256::zero(),
		paid: SHARE,
		target: polkadot_sdk::sp_runtime::Perbill::one(),
		snapshot: gonka_primitives::PowerSnapshot {
			departures: snapshot.departures.saturating_add(id as u32),
			..snapshot
		},
		total_power,
		executor_power: 0,
		share: SHARE,
		validator_paid: 0,
		passes: 0,
		fails: 0,
		answered: Default::default(),
	}
}

/// `n` settlements of one vouchered receipt each (one sample, at a target of one), included
/// in verdict period 1 by an executor without power, each with a power snapshot of its own
/// (the validator's power read for each); the pot holding their shares; a registered
/// validator with all the power, whose worker key is in the keystore; and now in period 2.
/// Returns the validator and its signed verdicts: a pass on each settlement's sample.
fn verdicts<T: Config>(
	n: u32,
) -> (HostId, ReceiptVerdicts, polkadot_sdk::sp_core::sr25519::Signature) {
	let model = T::Pricing::benchmark_model();
	let validator: HostId = account("validator", 0, 0);
	<T as Config>::Currency::set_balance(&validator, u128::MAX / 1_000_000);
	let worker =
		polkadot_sdk::sp_io::crypto::sr25519_generate(WORKER, Some(b"//bench-validator".to_vec()));
	pallet_poc::Pallet::<T>::register_for_benchmark(&validator, worker, alloc::vec![model])
		.expect("the benchmark validator registers");
	pallet_poc::Pallet::<T>::force_voting_power(&[(validator.clone(), 1)]);
	let pot = Pallet::<T>::pot();
	frame_system::Pallet::<T>::inc_providers(&pot);
	let total = SHARE.saturating_mul(u128::from(n.max(1)));
	// The existential deposit stays free: the hold takes the rest.
	let free = <T as Config>::Currency::minimum_balance();
	<T as Config>::Currency::set_balance(&pot, total.saturating_add(free));
	<T as Config>::Currency::hold(&HoldReason::ChannelEscrow.into(), &pot, total)
		.expect("the pot holds the shares");
	let period = T::VerdictPeriod::get();
	frame_system::Pallet::<T>::set_block_number(period);
	let (snapshot, total_power, _) = pallet_poc::Pallet::<T>::take_snapshot();
	// The settlements spread over the period's blocks: a block hash read for each block.
	let blocks: u32 = period.saturated_into();
	let executor: HostId = account("executor", 0, 0);
	let mut entries = alloc::vec::Vec::new();
	for id in 0..u64::from(n) {
		let at = period.saturating_add(((id as u32) % blocks.max(1)).into());
		frame_system::BlockHash::<T>::insert(at, T::Hash::default());
		let record = bench_record::<T>(id, at, snapshot, total_power, &executor);
		Settlements::<T>::insert(id, record);
		Pallet::<T>::note_open(0);
		entries.push(ReceiptVerdict { settlement: id, sample: 0, pass: true });
	}
	NextSettlementId::<T>::put(u64::from(n));
	frame_system::Pallet::<T>::set_block_number(period.saturating_mul(2u32.into()));
	let verdicts = ReceiptVerdicts {
		period: Pallet::<T>::period_of(period),
		anchor: bench_anchor::<T>(),
		part: 0,
		entries: BoundedVec::truncate_from(entries),
	};
	let signature = polkadot_sdk::sp_io::crypto::sr25519_sign(
		WORKER,
		&worker,
		&verdicts.signing_message(&pallet_poc::Pallet::<T>::genesis_hash(), &validator),
	)
	.expect("the worker key is in the keystore");
	(validator, verdicts, signature)
}

/// Settlement `id` (as `verdicts` sets it up) closed, its second round holding its share,
/// in which `validator` answers a doubled sample: the most samples, the validator with half
/// the power (the record's total power 2), a failure reported in the window (the failed
/// samples read), and the first sample the round doubles that the hash rule draws the
/// validator for on the second seed and not on the sample seed. Returns the sample.
fn second_round_for<T: Config>(id: u64, validator: &HostId) -> u32 {
	let mut record = Settlements::<T>::get(id).expect("the settlement is set up");
	record.receipts = MAX_SAMPLES;
	record.total_power = 2;
	record.fails = 1;
	// A share whose answers pay something (the pot holds `SHARE` for each settlement).
	record.share = SHARE.saturating_mul(20);
	let seed = Pallet::<T>::seed_of(id, &record).expect("the settlement's block is sealed");
	let second =
		Pallet::<T>::second_seed_of(id, record.at).expect("the window's last block is kept");
	let power = pallet_poc::Pallet::<T>::power_in(&record.snapshot, validator);
	let sample = (1..MAX_SAMPLES)
		.find(|sample| {
			gonka_primitives::channel::validates_second(
				&seed,
				&second,
				*sample,
				validator,
				&record.executor,
				power,
				record.total_power,
				record.executor_power,
			)
		})
		.expect("of a thousand samples, one is doubled and drawn second for the validator");
	// Sample 0 failed in the window.
	record.answered = BoundedVec::truncate_from(alloc::vec![1]);
	Pallet::<T>::note_failed(id, 0);
	Pallet::<T>::start_second_round(id, &record);
	Settlements::<T>::insert(id, record);
	sample
}

/// `verdicts`' `n` settlements, each with a second round (`second_round_for`), now in the
/// period of their second answers. Returns the validator and its signed second answers: a
/// pass on each settlement's doubled sample.
fn second_verdicts<T: Config>(
	n: u32,
) -> (HostId, ReceiptVerdicts, polkadot_sdk::sp_core::sr25519::Signature) {
	let (validator, first, _) = verdicts::<T>(n);
	frame_system::Pallet::<T>::set_block_number(Pallet::<T>::period_start(
		first.period.saturating_add(2),
	));
	NextToClose::<T>::put(u64::from(n));
	// The anchor (the window's last block) first: its hash seeds the rounds.
	let anchor = bench_anchor::<T>();
	let entries = (0..u64::from(n))
		.map(|id| ReceiptVerdict {
			settlement: id,
			sample: second_round_for::<T>(id, &validator),
			pass: true,
		})
		.collect();
	let verdicts = ReceiptVerdicts {
		period: first.period,
		anchor,
		part: 0,
		entries: BoundedVec::truncate_from(entries),
	};
	let signature = worker_sign::<T, _>(&validator, &verdicts);
	(validator, verdicts, signature)
}

/// `duty` signed by `host`'s worker key (in the keystore).
fn worker_sign<T: Config, D: Duty>(host: &HostId, duty: &D) -> sr25519::Signature {
	let worker = pallet_poc::Hosts::<T>::get(host).expect("registered").worker_key;
	polkadot_sdk::sp_io::crypto::sr25519_sign(
		WORKER,
		&worker,
		&duty.signing_message(&pallet_poc::Pallet::<T>::genesis_hash(), host),
	)
	.expect("the worker key is in the keystore")
}

/// `failing`'s report made a second answer: settlement 0 with a second round that doubles
/// a sample the validator was not drawn for first, now in the period of second answers.
fn second_failing<T: Config>() -> (HostId, FailureReport, sr25519::Signature) {
	let (validator, report, _) = failing::<T>();
	let period = Pallet::<T>::period_of(frame_system::Pallet::<T>::block_number());
	frame_system::Pallet::<T>::set_block_number(Pallet::<T>::period_start(
		period.saturating_add(1),
	));
	NextToClose::<T>::put(1);
	// The anchor (the window's last block) first: its hash seeds the round.
	let anchor = bench_anchor::<T>();
	let sample = second_round_for::<T>(0, &validator);
	let report = FailureReport { sample, anchor, ..report };
	let signature = worker_sign::<T, _>(&validator, &report);
	(validator, report, signature)
}

/// `second_failing`'s report made, settlement 0's dispute 0 (a second failure's, so its
/// passes may have been drawn first or second) showing `MAX_PASSERS` passers that forfeit
/// little (the shown one takes a place), and the reporting validator paid for the period.
/// Returns the validator and its signed batch of `n` verdicts whose last passes the
/// disputed sample (the others name other settlements).
fn showing<T: Config>(n: u32) -> (HostId, ReceiptVerdicts, sr25519::Signature) {
	let (validator, report, _) = second_failing::<T>();
	Pallet::<T>::do_report_failure(validator.clone(), report.clone())
		.expect("the second failure is reported");
	let period = Contradictions::<T>::get(0).expect("a mismatch contradicts passes").period;
	// Its batches of the period signed with two other keys: its own, tried last, checks.
	PeriodPays::<T>::insert(period, &validator, full_pay::<T>(SHARE, &[]));
	Contradictions::<T>::mutate(0, |contradiction| {
		if let Some(contradiction) = contradiction {
			contradiction.passers = BoundedVec::truncate_from(
				(0..MAX_PASSERS)
					.map(|i| Passer { validator: account("passer", i, 0), forfeit: 1, epoch: 0 })
					.collect(),
			);
		}
	});
	let entries = (1..n)
		.map(|i| ReceiptVerdict { settlement: u64::from(i), sample: 0, pass: true })
		.chain(core::iter::once(ReceiptVerdict {
			settlement: 0,
			sample: report.sample,
			pass: true,
		}))
		.collect();
	let verdicts = ReceiptVerdicts {
		period,
		anchor: report.anchor,
		part: 0,
		entries: BoundedVec::truncate_from(entries),
	};
	let signature = worker_sign::<T, _>(&validator, &verdicts);
	(validator, verdicts, signature)
}

/// A period's pay of `paid` with `MAX_PERIOD_KEYS` keys, `keys` the last of them (the
/// largest value).
fn full_pay<T: Config>(paid: u128, keys: &[sr25519::Public]) -> PeriodPay {
	let filler = (0..MAX_PERIOD_KEYS.saturating_sub(keys.len() as u32))
		.map(|i| sr25519::Public::from_raw([i as u8 + 100; 32]));
	PeriodPay {
		epoch: pallet_poc::Pallet::<T>::epoch_now(),
		paid,
		keys: BoundedVec::truncate_from(filler.chain(keys.iter().copied()).collect()),
		forfeited: 0,
	}
}

/// The block before the current one, kept with a hash of its own: a duty's anchor (the
/// check reads that hash).
fn bench_anchor<T: Config>() -> Anchor {
	let number = frame_system::Pallet::<T>::block_number().saturating_sub(One::one());
	let hash = gonka_primitives::H256::repeat_byte(0xa7);
	let kept = T::Hash::decode(&mut hash.as_bytes()).expect("a 32-byte hash");
	frame_system::BlockHash::<T>::insert(number, kept);
	Anchor { number: number.saturated_into(), hash }
}

/// The cost of the benchmark's disputed receipt: the 32 siblings of its proof cost one each.
const DISPUTED_COST: u128 = 1_000_000_000_000_000_000_000_000_000_000;

/// A validator's report of a mismatch on settlement 0's only sample (as `verdicts` sets
/// it up, the validator drawn for it for certain), with the longest proof: the receipt at
/// leaf 0 of a tree of `u32::MAX` leaves, 32 siblings. Returns the validator, the report
/// and its signature.
fn failing<T: Config>() -> (HostId, FailureReport, polkadot_sdk::sp_core::sr25519::Signature) {
	let (validator, _, _) = verdicts::<T>(1);
	let genesis = pallet_poc::Pallet::<T>::genesis_hash();
	let receipt = Receipt {
		channel: 0,
		seq: 0,
		nonce: 0,
		attempt: 0,
		request_hash: gonka_primitives::H256::repeat_byte(1),
		prompt_hash: gonka_primitives::H256::repeat_byte(2),
		output_hash: gonka_primitives::H256::repeat_byte(3),
		prompt_tokens: 1,
		completion_tokens: 1,
		finish: FinishReason::Stop,
		seed: request_seed(&genesis, 0, 0, 0),
		cost: DISPUTED_COST,
	};
	let proof: alloc::vec::Vec<SumNode> = (0..MAX_PROOF)
		.map(|level| SumNode { hash: gonka_primitives::H256::repeat_byte(level as u8), sum: 1 })
		.collect();
	let (root, _) =
		fold_proof(u64::from(u32::MAX), &receipt, &proof).expect("a proof of 32 siblings");
	Settlements::<T>::mutate(0, |record| {
		if let Some(record) = record {
			record.root = root.hash;
			record.count = u32::MAX;
			record.to = root.sum;
			// A developer other than the executor: its power is read for the jury.
			record.developer = developer::<T>();
			// The validator holds all the power but the executor's: drawn for certain.
			record.total_power = 1;
		}
	});
	let report = FailureReport {
		settlement: 0,
		anchor: bench_anchor::<T>(),
		sample: 0,
		reason: FailReason::Mismatch,
		evidence: Some(ReceiptEvidence { receipt, proof: BoundedVec::truncate_from(proof) }),
	};
	let worker = pallet_poc::Hosts::<T>::get(&validator).expect("registered").worker_key;
	let signature = polkadot_sdk::sp_io::crypto::sr25519_sign(
		WORKER,
		&worker,
		&report.signing_message(&genesis, &validator),
	)
	.expect("the worker key is in the keystore");
	(validator, report, signature)
}

/// A dispute (0) whose jury votes now, on an executor with pending work: the jury power
/// `JURY_SIZE` times a juror's, so every juror sits. Returns the dispute's record.
fn disputing<T: Config>() -> DisputeRecordOf<T> {
	let juror: HostId = account("juror", 0, 0);
	<T as Config>::Currency::set_balance(&juror, u128::MAX / 1_000_000);
	let worker =
		polkadot_sdk::sp_io::crypto::sr25519_generate(WORKER, Some(b"//bench-juror".to_vec()));
	pallet_poc::Pallet::<T>::register_for_benchmark(
		&juror,
		worker,
		alloc::vec![T::Pricing::benchmark_model()],
	)
	.expect("the benchmark juror registers");
	pallet_poc::Pallet::<T>::force_voting_power(&[(juror, 1)]);
	let (snapshot, _, _) = pallet_poc::Pallet::<T>::take_snapshot();
	let executor: HostId = account("executor", 0, 0);
	<T as Config>::Currency::set_balance(&executor, u128::MAX / 1_000_000);
	// Enough for the refund and the bounty of an invalidation.
	let _ = T::Work::credit_work(&executor, DISPUTED_COST.saturating_mul(3));
	let reporter: HostId = account("reporter", 0, 0);
	<T as Config>::Currency::set_balance(&reporter, u128::MAX / 1_000_000);
	let at = frame_system::Pallet::<T>::block_number().saturating_add(One::one());
	frame_system::BlockHash::<T>::insert(at, T::Hash::default());
	frame_system::Pallet::<T>::set_block_number(at.saturating_add(One::one()));
	let record = DisputeRecord {
		settlement: 0,
		sample: 0,
		developer: developer::<T>(),
		executor,
		reporter,
		epoch: pallet_poc::Pallet::<T>::epoch_now(),
		report_epoch: pallet_poc::Pallet::<T>::epoch_now(),
		reason: FailReason::Mismatch,
		cost: DISPUTED_COST,
		at,
		snapshot,
		others: u128::from(JURY_SIZE),
		invalid: 0,
		valid: 0,
		// All but one juror voted: a vote scans them all and takes the last place.
		voters: BoundedVec::truncate_from(
			(0..MAX_JURORS - 1).map(|i| account::<HostId>("voter", i, 0)).collect(),
		),
	};
	Disputes::<T>::insert(0, record.clone());
	NextDisputeId::<T>::put(1);
	Pallet::<T>::note_open(record.epoch);
	Pallet::<T>::note_open(record.report_epoch);
	record
}

/// The developer's challenge of settlement 0's receipt at leaf 0 of a tree of `u32::MAX`
/// leaves (the longest proof, 32 siblings), the settlement set up as `failing` does, its
/// developer a funded account other than its executor, who holds power in its snapshot
/// (its power is read). Returns the developer and the challenge.
fn challenging<T: Config>() -> (HostId, ReceiptChallenge) {
	let (_, report, _) = failing::<T>();
	let developer = developer::<T>();
	Settlements::<T>::mutate(0, |record| {
		if let Some(record) = record {
			record.developer = developer.clone();
		}
	});
	// All but one of the settlement's challenges taken: the check scans them.
	Challenged::<T>::insert(
		0,
		BoundedVec::truncate_from((1..MAX_DISPUTED).collect::<alloc::vec::Vec<_>>()),
	);
	let evidence = report.evidence.expect("a mismatch shows its receipt");
	(developer, ReceiptChallenge { settlement: 0, tail: None, evidence })
}

/// Dispute 0 (as `disputing` sets it up) made an unavailable payload's, queued, every
/// juror's vote in, its reporter a registered host with pending work (a fine takes it),
/// and the reporter's signed acknowledgement of its sample. Returns the acknowledgement
/// and its signature.
fn refuting<T: Config>() -> (DeliveryAck, polkadot_sdk::sp_core::sr25519::Signature) {
	let mut record = disputing::<T>();
	let worker =
		polkadot_sdk::sp_io::crypto::sr25519_generate(WORKER, Some(b"//bench-reporter".to_vec()));
	pallet_poc::Pallet::<T>::register_for_benchmark(
		&record.reporter,
		worker,
		alloc::vec![T::Pricing::benchmark_model()],
	)
	.expect("the benchmark reporter registers");
	let _ = T::Work::credit_work(&record.reporter, DISPUTED_COST);
	record.reason = FailReason::Unavailable;
	record.voters = BoundedVec::truncate_from(
		(0..MAX_JURORS).map(|i| account::<HostId>("voter", i, 0)).collect(),
	);
	Disputes::<T>::insert(0, record.clone());
	UnavailableQueue::<T>::insert(0, 0);
	NextUnavailable::<T>::put(1);
	let seed = gonka_primitives::H256::repeat_byte(5);
	// Its answer's pay, taken back should the jury find the payload served.
	UnavailableReports::<T>::insert(0, UnavailableReport { seed, paid: DISPUTED_COST });
	let ack = DeliveryAck {
		settlement: record.settlement,
		sample: record.sample,
		seed,
		leaf: gonka_primitives::H256::repeat_byte(7),
	};
	let signature = polkadot_sdk::sp_io::crypto::sr25519_sign(
		WORKER,
		&worker,
		&ack.signing_message(&pallet_poc::Pallet::<T>::genesis_hash(), &record.reporter),
	)
	.expect("the worker key is in the keystore");
	(ack, signature)
}

/// The juror's signed vote on dispute 0.
fn juror_vote<T: Config>() -> (HostId, ReceiptVote, polkadot_sdk::sp_core::sr25519::Signature) {
	let juror: HostId = account("juror", 0, 0);
	let vote = ReceiptVote {
		dispute: 0,
		anchor: bench_anchor::<T>(),
		settlement: 0,
		sample: 0,
		invalid: true,
	};
	let worker = pallet_poc::Hosts::<T>::get(&juror).expect("registered").worker_key;
	let signature = polkadot_sdk::sp_io::crypto::sr25519_sign(
		WORKER,
		&worker,
		&vote.signing_message(&pallet_poc::Pallet::<T>::genesis_hash(), &juror),
	)
	.expect("the worker key is in the keystore");
	(juror, vote, signature)
}

/// `n` settlements as `verdicts` sets them up (verdict period 1, each a sample drawn for
/// the validator for certain, of the benchmark model, which it serves), nobody answered,
/// and now in period 3; a reporter registered with its worker key in the keystore. Returns
/// the reporter, its report of the validator's misses (a sample of each settlement) and
/// its signature.
fn missing<T: Config>(
	n: u32,
) -> (HostId, MissedSamples, polkadot_sdk::sp_core::sr25519::Signature) {
	let (validator, verdicts, _) = verdicts::<T>(n);
	let model = T::Pricing::benchmark_model();
	// Each settlement's model roster formed by an epoch of its own, the validator's PoC
	// commitment to it read for each.
	for id in 0..u64::from(n) {
		let formed = (id as u32).saturating_add(1);
		SettlementModels::<T>::insert(id, (model, Some(formed)));
		pallet_poc::Commitments::<T>::insert(
			(formed, model, &validator),
			pallet_poc::Commitment { count: 1, root: Default::default(), submissions: 1 },
		);
	}
	let reporter: HostId = account("reporter", 0, 0);
	<T as Config>::Currency::set_balance(&reporter, u128::MAX / 1_000_000);
	let worker =
		polkadot_sdk::sp_io::crypto::sr25519_generate(WORKER, Some(b"//bench-reporter".to_vec()));
	pallet_poc::Pallet::<T>::register_for_benchmark(&reporter, worker, alloc::vec![model])
		.expect("the benchmark reporter registers");
	frame_system::Pallet::<T>::set_block_number(Pallet::<T>::period_start(3));
	let missed = MissedSamples {
		period: verdicts.period,
		validator,
		samples: BoundedVec::truncate_from((0..u64::from(n)).map(|id| (id, 0)).collect()),
	};
	let signature = polkadot_sdk::sp_io::crypto::sr25519_sign(
		WORKER,
		&worker,
		&missed.signing_message(&pallet_poc::Pallet::<T>::genesis_hash(), &reporter),
	)
	.expect("the worker key is in the keystore");
	(reporter, missed, signature)
}

/// Runs `call`'s `authorize` rule as the pool would: the benchmarked block of every
/// authorize rule's weight.
fn authorized<T: Config>(call: &Call<T>) -> Result<(), BenchmarkError> {
	call.authorize(polkadot_sdk::sp_runtime::transaction_validity::TransactionSource::External)
		.ok_or(BenchmarkError::Weightless)?
		.map_err(|_| BenchmarkError::Weightless)?;
	Ok(())
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// Opening a channel whose draw and finalization each look at `SCHEDULE_SEARCH` blocks
	/// before finding room (each draw block read whole: its channels and its slots).
	#[benchmark]
	fn open_channel() {
		let who = developer::<T>();
		let (key, proof) = channel_key::<T>(&who, 0);
		let (terms, deposit) = terms::<T>(MAX_COMMITTEE_SLOTS as u8, key);
		let now = frame_system::Pallet::<T>::block_number();
		// Each draw block short of a channel, its slots taken but for the last block's.
		crowd::<T>(now.saturating_add(One::one()), |block, mut queue| {
			queue.pop();
			ToDraw::<T>::insert(block, queue);
			DrawSlots::<T>::insert(block, T::MaxDrawSlotsPerBlock::get());
		});
		let last = now.saturating_add(SCHEDULE_SEARCH.into());
		DrawSlots::<T>::insert(last, T::MaxDrawSlotsPerBlock::get() - MAX_COMMITTEE_SLOTS);
		crowd::<T>(
			now.saturating_add(Params::<T>::get().max_channel_blocks)
				.saturating_add(Params::<T>::get().settle_window),
			ToFinalize::<T>::insert,
		);

		#[extrinsic_call]
		_(RawOrigin::Signed(who), terms, proof, deposit);

		assert_eq!(NextChannelId::<T>::get(), 1);
	}

	#[benchmark]
	fn top_up() {
		let (who, channel) = opened::<T>(1);
		let before = Channels::<T>::get(channel).map_or(0, |info| info.deposited);

		#[extrinsic_call]
		_(RawOrigin::Signed(who), channel, 1_000);

		assert_eq!(Channels::<T>::get(channel).map(|info| info.deposited), Some(before + 1_000));
	}

	#[benchmark]
	fn close_channel() {
		let (who, channel) = opened::<T>(1);

		#[extrinsic_call]
		_(RawOrigin::Signed(who), channel);

		assert_eq!(
			Channels::<T>::get(channel).map(|info| info.status),
			Some(ChannelStatus::Closed)
		);
	}

	/// Drawing a committee of `k` slots from a roster of `MaxHosts` hosts (its most chunks:
	/// each slot reads the chunk its draw lands in), and storing it.
	#[benchmark]
	fn draw_committee(k: Linear<1, MAX_COMMITTEE_SLOTS>) {
		let model = T::Pricing::benchmark_model();
		let hosts: alloc::vec::Vec<(HostId, NonceCount)> = (0
			..<T as pallet_poc::Config>::MaxHosts::get())
			.map(|i| (account("host", i, 0), 1 as NonceCount))
			.collect();
		pallet_poc::Pallet::<T>::force_roster(model, hosts);
		let (_, channel) = opened::<T>(k as u8);

		#[block]
		{
			Pallet::<T>::draw_committee(channel);
		}

		assert_eq!(
			Committees::<T>::get(channel).map(|committee| committee.len()),
			Some(k as usize)
		);
	}

	/// Finalizing a channel with a committee of 64 members, each of which settled.
	#[benchmark]
	fn finalize_channel() {
		let (_, channel) = opened::<T>(MAX_COMMITTEE_SLOTS as u8);
		let members: alloc::vec::Vec<HostId> =
			(0..MAX_COMMITTEE_SLOTS).map(|i| account("member", i, 0)).collect();
		let settled = SettledInfo { receipts: 1, vouchered: 1, paid: 0, settlements: 1 };
		Settled::<T>::insert(
			channel,
			SettledOf::truncate_from(members.iter().map(|m| (m.clone(), settled)).collect()),
		);
		VoucheredAmounts::<T>::insert(
			channel,
			VoucheredOf::truncate_from(members.iter().map(|m| (m.clone(), 1)).collect()),
		);
		Committees::<T>::insert(channel, CommitteeOf::truncate_from(members));

		#[block]
		{
			Pallet::<T>::finalize(channel);
		}

		assert!(Channels::<T>::get(channel).is_none());
		assert!(!Settled::<T>::contains_key(channel));
	}

	/// A member's settlement with a voucher and `t` tail claims (each a request signature
	/// to check), paid into its pending work.
	#[benchmark]
	fn settle(t: Linear<0, MAX_TAIL>) {
		let (member, settlement, signature) = settling::<T>(t);
		let channel = settlement.channel;

		#[extrinsic_call]
		_(RawOrigin::Authorized, member.clone(), settlement, signature);

		assert_eq!(
			Pallet::<T>::settled(channel, &member).map(|settled| settled.receipts),
			Some(VOUCHERED + t)
		);
	}

	/// The authorize rule of a settlement with a voucher and `t` tail claims: the checks
	/// and the worker key's signature.
	#[benchmark]
	fn authorize_settle(t: Linear<0, MAX_TAIL>) -> Result<(), BenchmarkError> {
		let (executor, settlement, signature) = settling::<T>(t);
		let call = Call::<T>::settle { executor, settle: settlement, signature };

		#[block]
		{
			authorized(&call)?;
		}

		Ok(())
	}

	/// A validator's `n` verdicts, each on a settlement of its own, paid from the pot.
	#[benchmark]
	fn submit_verdicts(n: Linear<1, MAX_VERDICTS>) {
		let (validator, verdicts, signature) = verdicts::<T>(n);

		#[extrinsic_call]
		_(RawOrigin::Authorized, validator, verdicts, signature);

		assert_eq!(Settlements::<T>::get(0).map(|record| record.passes), Some(1));
	}

	/// The authorize rule of `n` verdicts, each on a settlement of its own: the hash rule
	/// for each, and the worker key's signature.
	#[benchmark]
	fn authorize_verdicts(n: Linear<1, MAX_VERDICTS>) -> Result<(), BenchmarkError> {
		let (validator, verdicts, signature) = verdicts::<T>(n);
		let call = Call::<T>::submit_verdicts { validator, verdicts, signature };

		#[block]
		{
			authorized(&call)?;
		}

		Ok(())
	}

	/// Closing a settlement's verdict window: its passes judged (the most a settlement has,
	/// each a step of the invalidation test), its second round written holding the unpaid
	/// share.
	#[benchmark]
	fn close_settlement() {
		let _ = verdicts::<T>(1);
		let executor: HostId = account("executor", 0, 0);
		<T as Config>::Currency::set_balance(&executor, u128::MAX / 1_000_000);
		Settlements::<T>::mutate(0, |record| {
			if let Some(record) = record {
				record.passes = MAX_SAMPLES + MAX_TAIL;
			}
		});
		let closes = Pallet::<T>::closes_at(T::VerdictPeriod::get());

		#[block]
		{
			Pallet::<T>::close_windows(closes);
		}

		assert!(SecondRounds::<T>::contains_key(0));
		assert_eq!(NextToClose::<T>::get(), 1);
	}

	#[benchmark]
	fn set_params() -> Result<(), BenchmarkError> {
		let origin = <T as pallet_poc::Config>::UpdateOrigin::try_successful_origin()
			.map_err(|_| BenchmarkError::Weightless)?;
		let params = ChannelParams {
			open_fee: 1,
			max_channel_blocks: One::one(),
			settle_window: crate::MIN_SETTLE_WINDOW.into(),
		};

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, params);

		assert_eq!(Params::<T>::get(), params);
		Ok(())
	}

	/// A mismatch's report with the longest proof: the proof folded, the sample answered
	/// and paid, the dispute opened.
	#[benchmark]
	fn report_failure() {
		let (validator, report, signature) = failing::<T>();

		#[extrinsic_call]
		_(RawOrigin::Authorized, validator, report, signature);

		assert!(Disputes::<T>::contains_key(0));
	}

	/// The authorize rule of a mismatch's report with the longest proof.
	#[benchmark]
	fn authorize_failure() -> Result<(), BenchmarkError> {
		let (validator, report, signature) = failing::<T>();
		let call = Call::<T>::report_failure { validator, report, signature };

		#[block]
		{
			authorized(&call)?;
		}

		Ok(())
	}

	/// A second answer's report of a mismatch with the longest proof: its round read and
	/// written, the dispute opened.
	#[benchmark]
	fn report_second_failure() {
		let (validator, report, signature) = second_failing::<T>();

		#[extrinsic_call]
		report_failure(RawOrigin::Authorized, validator, report, signature);

		assert!(Disputes::<T>::contains_key(0));
	}

	/// The authorize rule of a second answer's report of a mismatch with the longest proof.
	#[benchmark]
	fn authorize_second_failure() -> Result<(), BenchmarkError> {
		let (validator, report, signature) = second_failing::<T>();
		let call = Call::<T>::report_failure { validator, report, signature };

		#[block]
		{
			authorized(&call)?;
		}

		Ok(())
	}

	/// A validator's `n` second answers, each on a settlement of its own: each settlement's
	/// record and second round read, the round written.
	#[benchmark]
	fn submit_second_verdicts(n: Linear<1, MAX_SECOND_VERDICTS>) {
		let (validator, verdicts, signature) = second_verdicts::<T>(n);

		#[extrinsic_call]
		submit_verdicts(RawOrigin::Authorized, validator, verdicts, signature);

		assert!(SecondRounds::<T>::get(0).is_some_and(|round| round.paid > 0));
		assert!(SecondRounds::<T>::get(u64::from(n) - 1).is_some_and(|round| round.paid > 0));
	}

	/// The authorize rule of `n` second answers, each on a settlement of its own.
	#[benchmark]
	fn authorize_second_verdicts(n: Linear<1, MAX_SECOND_VERDICTS>) -> Result<(), BenchmarkError> {
		let (validator, verdicts, signature) = second_verdicts::<T>(n);
		let call = Call::<T>::submit_verdicts { validator, verdicts, signature };

		#[block]
		{
			authorized(&call)?;
		}

		Ok(())
	}

	/// A juror's vote.
	#[benchmark]
	fn vote_receipt() {
		let _ = disputing::<T>();
		let (juror, vote, signature) = juror_vote::<T>();

		#[extrinsic_call]
		_(RawOrigin::Authorized, juror, vote, signature);

		assert_eq!(
			Disputes::<T>::get(0).map(|record| record.voters.len() as u32),
			Some(MAX_JURORS)
		);
	}

	/// The authorize rule of a juror's vote: the jury draw and the worker key's signature.
	#[benchmark]
	fn authorize_vote() -> Result<(), BenchmarkError> {
		let _ = disputing::<T>();
		let (juror, vote, signature) = juror_vote::<T>();
		let call = Call::<T>::vote_receipt { juror, vote, signature };

		#[block]
		{
			authorized(&call)?;
		}

		Ok(())
	}

	/// Ending a dispute at the end of its window: `MAX_JURORS` votes removed, an
	/// invalidation (the refund and the bounty from the executor's pending work, the
	/// bounty held as the reporter's, a step of the executor's test), its snapshot
	/// released.
	#[benchmark]
	fn end_dispute() {
		let mut record = disputing::<T>();
		record.voters = BoundedVec::truncate_from(
			(0..MAX_JURORS).map(|i| account::<HostId>("voter", i, 0)).collect(),
		);
		record.invalid = record.others.saturating_mul(u128::from(JURY_SIZE));
		Disputes::<T>::insert(0, record.clone());
		// `MAX_PASSERS` passes shown, each fined on pending work.
		let epoch = pallet_poc::Pallet::<T>::epoch_now();
		let passers = (0..MAX_PASSERS)
			.map(|i| {
				let validator: HostId = account("passer", i, 0);
				<T as Config>::Currency::set_balance(&validator, u128::MAX / 1_000_000);
				let _ = T::Work::credit_work(&validator, SHARE);
				// Its pay for the period still kept, not forfeited yet: read and written.
				PeriodPays::<T>::insert(0, &validator, full_pay::<T>(SHARE, &[]));
				Passer { validator, forfeit: SHARE, epoch }
			})
			.collect();
		Contradictions::<T>::insert(
			0,
			Contradiction {
				period: 0,
				seed: Default::default(),
				second_seed: Some(Default::default()),
				total_power: 2,
				executor_power: 0,
				passers: BoundedVec::truncate_from(passers),
			},
		);
		let now = Pallet::<T>::jury_ends(record.at, record.reason).saturating_add(One::one());

		#[block]
		{
			Pallet::<T>::end_disputes(now);
		}

		assert!(!Disputes::<T>::contains_key(0));
		assert!(!Contradictions::<T>::contains_key(0));
		assert_eq!(NextDisputeToEnd::<T>::get(), 1);
	}

	/// Showing a pass of the sample a second failure disputes, in a batch of `n` verdicts
	/// whose last is the pass (the batch scanned whole), by a validator drawn second (both
	/// draws checked), taking the place of a passer shown before.
	#[benchmark]
	fn show_pass(n: Linear<1, MAX_VERDICTS>) {
		let (validator, verdicts, signature) = showing::<T>(n);

		#[extrinsic_call]
		_(RawOrigin::Authorized, 0, validator, verdicts, signature);

		assert!(Contradictions::<T>::get(0).is_some_and(|shown| {
			shown.passers.len() as u32 == MAX_PASSERS && shown.passers.iter().any(|p| p.forfeit > 1)
		}));
	}

	/// The authorize rule of a shown pass in a batch of `n` verdicts: the checks and the
	/// batch's signature.
	#[benchmark]
	fn authorize_show_pass(n: Linear<1, MAX_VERDICTS>) -> Result<(), BenchmarkError> {
		let (validator, verdicts, signature) = showing::<T>(n);
		let call = Call::<T>::show_pass { dispute: 0, validator, verdicts, signature };

		#[block]
		{
			authorized(&call)?;
		}

		Ok(())
	}

	/// Ending a developer's challenge the jury upheld (the dearer end: a rejected one only
	/// moves the fee to `FeeTo`): `MAX_JURORS` votes removed, the receipt's cost refunded
	/// from the executor's pending work, an invalidation step of its test, the fee
	/// released, the snapshot released.
	#[benchmark]
	fn end_challenge() {
		let mut record = disputing::<T>();
		record.voters = BoundedVec::truncate_from(
			(0..MAX_JURORS).map(|i| account::<HostId>("voter", i, 0)).collect(),
		);
		record.invalid = record.others.saturating_mul(u128::from(JURY_SIZE));
		record.reason = FailReason::Challenged;
		record.reporter = record.developer.clone();
		Disputes::<T>::insert(0, record.clone());
		// A challenge ends from the long windows' queue (its place read and removed).
		UnavailableQueue::<T>::insert(0, 0);
		NextUnavailable::<T>::put(1);
		let fee = Pallet::<T>::challenge_fee(record.cost);
		<T as Config>::Currency::hold(&HoldReason::ChallengeFee.into(), &record.developer, fee)
			.expect("the developer holds the fee");
		ChallengeFees::<T>::insert(0, fee);
		let now = Pallet::<T>::jury_ends(record.at, record.reason).saturating_add(One::one());

		#[block]
		{
			Pallet::<T>::end_disputes(now);
		}

		assert!(!Disputes::<T>::contains_key(0));
		assert!(!ChallengeFees::<T>::contains_key(0));
	}

	/// A developer's challenge of a vouchered receipt with the longest proof: the proof
	/// folded, the fee held, the dispute opened.
	#[benchmark]
	fn challenge_receipt() {
		let (developer, challenge) = challenging::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(developer), challenge);

		assert!(Disputes::<T>::contains_key(0));
		assert!(ChallengeFees::<T>::contains_key(0));
	}

	/// Refuting an unavailable payload with the reporter's acknowledgement: the dispute
	/// ended at once (`MAX_JURORS` votes removed, the reporter fined).
	#[benchmark]
	fn refute_unavailable() {
		let (ack, signature) = refuting::<T>();

		#[extrinsic_call]
		_(RawOrigin::Authorized, 0, ack, signature);

		assert!(!Disputes::<T>::contains_key(0));
	}

	/// The authorize rule of a refutation: the checks and the acknowledgement's signature.
	#[benchmark]
	fn authorize_refute() -> Result<(), BenchmarkError> {
		let (ack, signature) = refuting::<T>();
		let call = Call::<T>::refute_unavailable { dispute: 0, ack, signature };

		#[block]
		{
			authorized(&call)?;
		}

		Ok(())
	}

	/// The last member's waiver of a channel of `MAX_COMMITTEE_SLOTS` slots: it finalizes
	/// the channel (every member settled) and takes it off a full queue.
	#[benchmark]
	fn waive_channel() {
		let (member, waiver, signature) = waiving::<T>();
		let channel = waiver.channel;

		#[extrinsic_call]
		_(RawOrigin::Authorized, member, waiver, signature);

		assert!(!Channels::<T>::contains_key(channel));
		assert!(!Waived::<T>::contains_key(channel));
	}

	/// The authorize rule of a waiver: the checks and the worker key's signature.
	#[benchmark]
	fn authorize_waiver() -> Result<(), BenchmarkError> {
		let (member, waiver, signature) = waiving::<T>();
		let call = Call::<T>::waive_channel { member, waiver, signature };

		#[block]
		{
			authorized(&call)?;
		}

		Ok(())
	}

	/// A report of a validator's `n` missed samples, each of a settlement of its own (a
	/// record, a model and a seed read for each).
	#[benchmark]
	fn report_missed_samples(n: Linear<1, MAX_MISSES>) {
		let (reporter, missed, signature) = missing::<T>(n);
		let validator = missed.validator.clone();

		#[extrinsic_call]
		_(RawOrigin::Authorized, reporter, missed, signature);

		assert!(matches!(
			PeriodMarks::<T>::get(1, &validator),
			Some(PeriodMark::Reported(shown)) if shown.len() == n as usize
		));
	}

	/// The authorize rule of a report of `n` missed samples, each of a settlement of its
	/// own: the hash rule for each, and the worker key's signature.
	#[benchmark]
	fn authorize_missed(n: Linear<1, MAX_MISSES>) -> Result<(), BenchmarkError> {
		let (reporter, missed, signature) = missing::<T>(n);
		let call = Call::<T>::report_missed_samples { reporter, missed, signature };

		#[block]
		{
			authorized(&call)?;
		}

		Ok(())
	}

	/// Pruning a closed settlement at the end of its report period: its second round read
	/// and ended (what it did not pay back to the executor's pending work), its record,
	/// model, failed samples and disputed receipts removed unread, its snapshot released.
	#[benchmark]
	fn prune_settlement() {
		let _ = missing::<T>(1);
		let executor: HostId = account("executor", 0, 0);
		<T as Config>::Currency::set_balance(&executor, u128::MAX / 1_000_000);
		let period = T::VerdictPeriod::get();
		// Its round holds the whole share (nothing answered), which the pruning returns.
		Pallet::<T>::close_windows(Pallet::<T>::closes_at(period));
		let prunes = Pallet::<T>::prunes_at(period);

		#[block]
		{
			Pallet::<T>::prune_settlements(prunes);
		}

		assert!(!Settlements::<T>::contains_key(0));
		assert!(!SecondRounds::<T>::contains_key(0));
		assert_eq!(NextToPrune::<T>::get(), 1);
	}

	/// Clearing `n` marks of a period whose report period ended.
	#[benchmark]
	fn clear_marks(n: Linear<0, MARK_CLEARS>) {
		for i in 0..n {
			PeriodMarks::<T>::insert(
				0,
				account::<HostId>("validator", i, 0),
				PeriodMark::Answered(MAX_MISSES),
			);
		}
		let now = Pallet::<T>::period_start(3);

		#[block]
		{
			Pallet::<T>::clear_marks(now);
		}

		assert_eq!(PeriodMarks::<T>::iter_prefix(0).count(), 0);
		assert_eq!(NextMarksToClear::<T>::get(), 1);
	}

	/// Clearing `n` validators' pays for a period.
	#[benchmark]
	fn clear_pays(n: Linear<0, MARK_CLEARS>) {
		for i in 0..n {
			PeriodPays::<T>::insert(
				0,
				account::<HostId>("validator", i, 0),
				full_pay::<T>(SHARE, &[]),
			);
		}

		#[block]
		{
			let _ = Pallet::<T>::clear_pays(0, MARK_CLEARS);
		}

		assert_eq!(PeriodPays::<T>::iter_prefix(0).count(), 0);
	}

	/// A block with nothing to draw or finalize.
	#[benchmark]
	fn on_initialize_idle() {
		let now = frame_system::Pallet::<T>::block_number();

		#[block]
		{
			Pallet::<T>::tick(now.saturating_add(One::one()));
		}
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_bench_ext(), crate::mock::Test);
}
