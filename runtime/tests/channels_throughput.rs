//! Inferences per second that inference channels settle and validate, from the runtime's
//! generated weights (`runtime/src/weights/pallet_channels.rs`) and the real encoded
//! transactions (`../shared/spec/channels.md`, section 14, amendment 19). No timing is
//! measured here: the weights come from the benchmarks, and this test checks the
//! arithmetic of `docs/benchmarks.md` whenever they are regenerated. Run with
//! `--nocapture` to print the table.
//!
//! An inference's share of the chain's work, with `N` receipts a settlement, sampling rate
//! `t` and `k` committee members each settling `N` receipts of a channel:
//! - a settlement (a transaction: `settle` and its authorize rule), its window's close and
//!   its record's pruning (in later blocks' hooks), over `N`;
//! - `t` verdicts (a part of a full batch of `MAX_VERDICTS`: `submit_verdicts` and its
//!   authorize rule), each on a settlement of its own (the worst case), a tenth as many
//!   second answers (amendment 6: a batch of second answers, `submit_verdicts` in the
//!   period after), and for `MISS_PERCENT`% of the verdicts a report of a validator that
//!   answered nothing (a part of a full report of `MAX_MISSES` samples,
//!   `report_missed_samples` and its authorize rule);
//! - the channel (`open_channel`, its committee's draw and its finalization), over `k·N`.
//!
//! The first test uses the charged weights (proof sizes from `MaxEncodedLen` estimates:
//! what a block admits before `StorageWeightReclaim` refunds anything) and asserts the goal
//! at 100 receipts a settlement. Proof binds, and the verdicts take most of it at 1,000
//! receipts; the second test measures the proof a block records for a full batch of
//! verdicts (`execute_and_prove` on the development chain's state holding the most open
//! settlements) and asserts the goal at 1,000 receipts (20,000 a second) with it, the rest
//! charged (the issue: "if proof size binds, measure what StorageWeightReclaim and measured
//! proof sizes give, and use them").

use gonka_primitives::channel::{
	Anchor, ChannelSettle, ChannelTerms, MissedSamples, ReceiptVerdict, ReceiptVerdicts,
	SignedVoucher, Voucher, MAX_MISSES, MAX_SECOND_VERDICTS, MAX_VERDICTS, SECOND_EVERY,
};
use gonka_runtime::{
	configs::{RuntimeBlockLength, RuntimeBlockWeights},
	weights::pallet_channels::WeightInfo as ChannelWeights,
	Runtime, RuntimeCall, TxExtension, UncheckedExtrinsic,
};
use pallet_channels::WeightInfo;
use polkadot_sdk::{
	frame_support::{
		dispatch::DispatchClass,
		traits::Get,
		weights::{constants::WEIGHT_REF_TIME_PER_SECOND, Weight},
	},
	sp_core::{sr25519, H256},
	sp_runtime::{generic::Era, BoundedVec, Perbill},
	*,
};

type Charged = ChannelWeights<Runtime>;

/// Gonka's classic on-chain ceiling, in inferences per second (the anchor).
const GONKA_PER_SECOND: f64 = 277.0;
/// The goal at 100 receipts a settlement and a 1% sampling rate: ten times Gonka's.
const GOAL_PER_SECOND: f64 = 2_770.0;
/// The goal at 1,000 receipts a settlement (with the verdicts' proof measured).
const GOAL_AT_1000_PER_SECOND: f64 = 20_000.0;
/// Seconds per block.
const BLOCK_SECONDS: f64 = 6.0;
/// Committee slots of a channel (the spec's default).
const COMMITTEE: u8 = 8;
/// The share of samples whose validator answered nothing and is shown missed (a network
/// where one validator in twenty is offline for a period).
const MISS_PERCENT: u64 = 5;

/// The encoded length of a transaction of `call`: signed (a developer's) or general
/// without a signer (a worker's duty, as `gonka-client` sends it).
fn encoded_len(call: RuntimeCall, signed: bool) -> u64 {
	use codec::Encode;
	let extension: TxExtension = (
		frame_system::AuthorizeCall::<Runtime>::new(),
		frame_system::CheckNonZeroSender::<Runtime>::new(),
		frame_system::CheckSpecVersion::<Runtime>::new(),
		frame_system::CheckTxVersion::<Runtime>::new(),
		frame_system::CheckGenesis::<Runtime>::new(),
		frame_system::CheckEra::<Runtime>::from(Era::Immortal),
		frame_system::CheckNonce::<Runtime>::from(0),
		frame_system::CheckWeight::<Runtime>::new(),
		pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(0),
	)
		.into();
	let general = UncheckedExtrinsic::new_transaction(call, extension).encode().len() as u64;
	// A signed transaction adds its address (33 bytes) and signature (65 bytes).
	if signed {
		general + 98
	} else {
		general
	}
}

/// A share of a weight.
fn scaled(weight: Weight, numerator: u64, denominator: u64) -> Weight {
	let denominator = denominator.max(1);
	Weight::from_parts(
		weight.ref_time().saturating_mul(numerator) / denominator,
		weight.proof_size().saturating_mul(numerator) / denominator,
	)
}

/// A load of `count` inferences: what its transactions are charged, what its hooks use
/// in later blocks, its encoded bytes.
struct Load {
	transactions: Weight,
	hooks: Weight,
	bytes: u64,
	count: u64,
}

/// The chain's work for the receipts of one channel of `COMMITTEE` members, each settling
/// `receipts` receipts once, sampled at `target`.
fn channel_load<Weights: WeightInfo>(receipts: u32, target: Perbill) -> Load {
	channel_load_with::<Weights>(receipts, target, None)
}

/// [`channel_load`], with each verdict's proof and each second answer's `verdict_proof`
/// bytes if given (measured, what a block records once `StorageWeightReclaim` refunds the
/// charge).
fn channel_load_with<Weights: WeightInfo>(
	receipts: u32,
	target: Perbill,
	verdict_proof: Option<(u64, u64)>,
) -> Load {
	let base = RuntimeBlockWeights::get().get(DispatchClass::Normal).base_extrinsic;
	let members = u64::from(COMMITTEE);
	let count = members * u64::from(receipts);
	// The settlements and their closes.
	let settle =
		base.saturating_add(Weights::settle(0)).saturating_add(Weights::authorize_settle(0));
	let close = Weights::close_settlement().saturating_add(Weights::prune_settlement());
	// The verdicts: `t` a receipt, each a part of a full batch.
	let batch = base
		.saturating_add(Weights::submit_verdicts(MAX_VERDICTS))
		.saturating_add(Weights::authorize_verdicts(MAX_VERDICTS));
	let second_batch = base
		.saturating_add(Weights::submit_second_verdicts(MAX_SECOND_VERDICTS))
		.saturating_add(Weights::authorize_second_verdicts(MAX_SECOND_VERDICTS));
	let (batch, second_batch) = match verdict_proof {
		Some((first, second)) => (
			Weight::from_parts(batch.ref_time(), first * u64::from(MAX_VERDICTS)),
			Weight::from_parts(second_batch.ref_time(), second * u64::from(MAX_SECOND_VERDICTS)),
		),
		None => (batch, second_batch),
	};
	let verdicts = (target * count).max(1);
	// A tenth of the samples get a second answer (`SECOND_EVERY`).
	let seconds = verdicts.div_ceil(u64::from(SECOND_EVERY));
	// The reports of misses: full reports, each showing `MAX_MISSES` samples.
	let report = base
		.saturating_add(Weights::report_missed_samples(MAX_MISSES))
		.saturating_add(Weights::authorize_missed(MAX_MISSES))
		.saturating_add(
			pallet_channels::Pallet::<Runtime>::missed_samples_proof(MAX_MISSES as usize)
				.saturating_mul(2),
		);
	let missed = verdicts * MISS_PERCENT;
	// The channel: opened (its draw and finalization prepaid), drawn and finalized later.
	let open = base.saturating_add(Weights::open_channel());
	let channel_hooks =
		Weights::draw_committee(COMMITTEE.into()).saturating_add(Weights::finalize_channel());
	let transactions = settle
		.saturating_mul(members)
		.saturating_add(scaled(batch, verdicts, MAX_VERDICTS.into()))
		.saturating_add(scaled(second_batch, seconds, MAX_SECOND_VERDICTS.into()))
		.saturating_add(scaled(report, missed, 100 * u64::from(MAX_MISSES)))
		.saturating_add(open);
	let hooks = close.saturating_mul(members).saturating_add(channel_hooks);

	let settle_len = encoded_len(
		RuntimeCall::Channels(pallet_channels::Call::settle {
			executor: [1u8; 32].into(),
			settle: ChannelSettle {
				channel: u64::MAX,
				voucher: Some(SignedVoucher {
					voucher: Voucher {
						channel: u64::MAX,
						executor: [1u8; 32].into(),
						count: receipts,
						root: H256::repeat_byte(1),
						amount: u128::MAX,
						last: (u64::MAX, 0),
					},
					signature: sr25519::Signature::from_raw([1; 64]),
				}),
				tail: BoundedVec::new(),
			},
			signature: sr25519::Signature::from_raw([1; 64]),
		}),
		false,
	);
	let entries: Vec<ReceiptVerdict> = (0..MAX_VERDICTS)
		.map(|i| ReceiptVerdict { settlement: u64::MAX - u64::from(i), sample: 1_000, pass: true })
		.collect();
	let batch_len = encoded_len(
		RuntimeCall::Channels(pallet_channels::Call::submit_verdicts {
			validator: [2u8; 32].into(),
			verdicts: ReceiptVerdicts {
				period: u32::MAX,
				anchor: Anchor { number: u32::MAX, hash: H256::repeat_byte(1) },
				part: 0,
				entries: BoundedVec::truncate_from(entries),
			},
			signature: sr25519::Signature::from_raw([1; 64]),
		}),
		false,
	);
	let open_len = encoded_len(
		RuntimeCall::Channels(pallet_channels::Call::open_channel {
			terms: ChannelTerms {
				model: 0,
				channel_key: sr25519::Public::from_raw([3; 32]),
				price_cap: u128::MAX,
				committee: COMMITTEE,
				duration: u32::MAX,
				max_request_tokens: u32::MAX,
			},
			key_proof: sr25519::Signature::from_raw([1; 64]),
			deposit: u128::MAX,
		}),
		true,
	);
	let report_len = encoded_len(
		RuntimeCall::Channels(pallet_channels::Call::report_missed_samples {
			reporter: [1u8; 32].into(),
			missed: MissedSamples {
				period: u32::MAX,
				validator: [2u8; 32].into(),
				samples: BoundedVec::truncate_from(
					(0..MAX_MISSES).map(|i| (u64::MAX - u64::from(i), u32::MAX)).collect(),
				),
			},
			signature: sr25519::Signature::from_raw([1; 64]),
		}),
		false,
	);
	let bytes = settle_len * members
		+ batch_len * (verdicts + seconds) / u64::from(MAX_VERDICTS)
		+ report_len * missed / (100 * u64::from(MAX_MISSES))
		+ open_len;
	Load { transactions, hooks, bytes, count }
}

/// How many inferences of `load` fit in `limit` (a share of a load counts), and which
/// dimension binds.
fn fit(load: &Load, weight: Weight, limit: Weight) -> (u64, &'static str) {
	let count = u128::from(load.count);
	let by_time = u128::from(limit.ref_time()) * count / u128::from(weight.ref_time().max(1));
	let by_proof = u128::from(limit.proof_size()) * count / u128::from(weight.proof_size().max(1));
	if by_time <= by_proof {
		(by_time as u64, "ref time")
	} else {
		(by_proof as u64, "proof size")
	}
}

/// Inferences a block settles and validates at `receipts` a settlement and `target`: in a
/// steady state a block carries the channels' transactions it admits (within the normal
/// class) and the hooks of earlier ones (within the block), and their bytes within its
/// length, at most `MaxClosesPerBlock` settlements; with the bound that binds.
fn per_block<Weights: WeightInfo>(receipts: u32, target: Perbill) -> (u64, &'static str) {
	per_block_with::<Weights>(receipts, target, None)
}

fn per_block_with<Weights: WeightInfo>(
	receipts: u32,
	target: Perbill,
	verdict_proof: Option<(u64, u64)>,
) -> (u64, &'static str) {
	let weights = RuntimeBlockWeights::get();
	let normal = weights.get(DispatchClass::Normal).max_total.expect("a normal limit");
	let normal_length = u64::from(*RuntimeBlockLength::get().max.get(DispatchClass::Normal));
	let load = channel_load_with::<Weights>(receipts, target, verdict_proof);
	let by_normal = fit(&load, load.transactions, normal);
	let by_block = fit(&load, load.transactions.saturating_add(load.hooks), weights.max_block);
	let (count, bound) = if by_normal.0 <= by_block.0 { by_normal } else { by_block };
	let by_length = normal_length * load.count / load.bytes.max(1);
	// A block records at most `MaxClosesPerBlock` settlements.
	let settlements: u32 = <Runtime as pallet_channels::Config>::MaxClosesPerBlock::get();
	let by_settlements = u64::from(settlements) * u64::from(receipts);
	[(count, bound), (by_length, "length"), (by_settlements, "settlements a block")]
		.into_iter()
		.min_by_key(|(count, _)| *count)
		.unwrap_or((0, "nothing"))
}

fn per_second<Weights: WeightInfo>(receipts: u32, target: Perbill) -> f64 {
	per_block::<Weights>(receipts, target).0 as f64 / BLOCK_SECONDS
}

/// The sampling rate (in whole percent) from which `GOAL_PER_SECOND` stops holding at
/// `receipts` a settlement.
fn goal_limit<Weights: WeightInfo>(receipts: u32) -> Option<Perbill> {
	(1..=100u32)
		.map(Perbill::from_percent)
		.find(|target| per_second::<Weights>(receipts, *target) < GOAL_PER_SECOND)
}

#[test]
fn channels_settle_and_validate_ten_times_gonkas_ceiling() {
	println!(
		"| receipts a settlement | sampling rate | ref time | proof | bytes | per block | per second | vs Gonka 277/s | bound |"
	);
	println!("|---|---|---|---|---|---|---|---|---|");
	for (receipts, target) in [
		(100, Perbill::from_percent(1)),
		(1_000, Perbill::from_percent(1)),
		(100, Perbill::from_percent(10)),
		(100, Perbill::one()),
		(1_000, Perbill::one()),
	] {
		let load = channel_load::<Charged>(receipts, target);
		let all = load.transactions.saturating_add(load.hooks);
		let (block, bound) = per_block::<Charged>(receipts, target);
		let second = block as f64 / BLOCK_SECONDS;
		println!(
			"| {receipts} | {:.0}% | {:.2} µs | {:.3} KiB | {:.1} | {block} | {second:.0} | {:.1}x | {bound} |",
			target.deconstruct() as f64 / 1e7,
			all.ref_time() as f64 * 1e6 / WEIGHT_REF_TIME_PER_SECOND as f64 / load.count as f64,
			all.proof_size() as f64 / 1024.0 / load.count as f64,
			load.bytes as f64 / load.count as f64,
			second / GONKA_PER_SECOND,
		);
	}
	match goal_limit::<Charged>(100) {
		Some(target) => println!(
			"at 100 receipts a settlement the goal (2,770/s) holds below a {:.0}% sampling rate",
			target.deconstruct() as f64 / 1e7
		),
		None => println!("at 100 receipts a settlement the goal holds at every sampling rate"),
	}
	let at_1000 = per_second::<Charged>(1_000, Perbill::from_percent(1));
	println!(
		"at 1,000 receipts a settlement and 1%: {at_1000:.0} a second ({:.0}% of the {GOAL_AT_1000_PER_SECOND:.0} goal)",
		at_1000 * 100.0 / GOAL_AT_1000_PER_SECOND
	);
	let at_100 = per_second::<Charged>(100, Perbill::from_percent(1));
	assert!(at_100 >= GOAL_PER_SECOND, "{at_100:.0} inferences a second at 100 receipts, 1%");
}

mod common;

/// The most settlement records kept at once: a block records at most `MaxClosesPerBlock`,
/// a window closes within two verdict periods, and its record is pruned a period later.
fn most_open_settlements() -> u32 {
	use polkadot_sdk::frame_support::traits::Get;
	let closes: u32 = <Runtime as pallet_channels::Config>::MaxClosesPerBlock::get();
	let period: u32 = <Runtime as pallet_channels::Config>::VerdictPeriod::get();
	closes * 3 * period
}

/// The proof a block records for a full batch of verdicts, measured: the development
/// chain's state with the most settlements open at once (so the records' part of the trie
/// is as deep as it gets), the batch's 500 verdicts on 500 of them, run through the
/// authorize rule alone and through the authorize rule and the dispatch, as a block does.
/// With `second`, a batch of second answers: each of the 500 settlements with a second
/// round (read besides the record) that doubles a sample Alice answers second. Returns
/// (authorize alone, both), in bytes.
fn measured_verdict_proof(second: bool) -> (u64, u64) {
	use codec::Encode;
	use gonka_primitives::duty::Duty;
	use gonka_runtime::{Balances, Channels, Poc, System};
	use polkadot_sdk::{
		frame_support::traits::{
			fungible::{Mutate, MutateHold},
			Authorize,
		},
		sp_genesis_builder::DEV_RUNTIME_PRESET,
		sp_keyring::Sr25519Keyring,
		sp_runtime::{traits::Dispatchable, transaction_validity::TransactionSource},
	};
	let mut ext = common::chain_from_preset(DEV_RUNTIME_PRESET);
	let validator = Sr25519Keyring::Alice.to_account_id();
	let executor = Sr25519Keyring::Bob.to_account_id();
	let period: u32 = <Runtime as pallet_channels::Config>::VerdictPeriod::get();
	let open = most_open_settlements();
	let call = ext.execute_with(|| {
		System::set_block_number(period);
		let (snapshot, total_power, _) = Poc::take_snapshot();
		let executor_power = Poc::power_in(&snapshot, &executor);
		let share = 1_000_000u128;
		let pot = Channels::pot();
		let held = share * u128::from(open);
		Balances::set_balance(&pot, held + 1_000_000);
		Balances::hold(&pallet_channels::HoldReason::ChannelEscrow.into(), &pot, held)
			.expect("the pot holds the shares");
		for id in 0..u64::from(open) {
			let at = period + (id as u32 % period);
			pallet_channels::Settlements::<Runtime>::insert(
				id,
				pallet_channels::SettlementRecord {
					channel: id,
					developer: executor.clone(),
					executor: executor.clone(),
					at,
					epoch: 0,
					root: H256::repeat_byte(1),
					count: 100,
					from: 0,
					to: 100,
					receipts: 100,
					tail: 0,
					tails: H256::zero(),
					paid: 2 * share,
					target: Perbill::one(),
					snapshot,
					total_power,
					executor_power,
					share,
					validator_paid: 0,
					passes: 0,
					fails: 0,
					answered: Default::default(),
				},
			);
		}
		for at in period..3 * period {
			frame_system::BlockHash::<Runtime>::insert(at, H256::repeat_byte(at as u8));
		}
		pallet_channels::NextSettlementId::<Runtime>::put(u64::from(open));
		if second {
			// Closed: their rounds lasting.
			pallet_channels::NextToClose::<Runtime>::put(u64::from(open));
		}
		pallet_channels::OpenInEpoch::<Runtime>::insert(0, open);
		System::set_block_number(if second { 3 * period } else { 2 * period });
		// Every 38th settlement (spread over the map), sample 0: Alice holds all the power
		// but Bob's, so the hash rule draws her for every sample (second answers: every
		// 76th, a full part of `MAX_SECOND_VERDICTS`).
		let parts = if second { MAX_SECOND_VERDICTS } else { MAX_VERDICTS };
		let entries: Vec<ReceiptVerdict> = (0..parts)
			.map(|i| {
				let settlement = u64::from(i) * u64::from(open / parts);
				let sample = if second { second_round(settlement, &validator) } else { 0 };
				ReceiptVerdict { settlement, sample, pass: true }
			})
			.collect();
		// Anchored to the period's last block (a hash read).
		let last = 2 * period - 1;
		let verdicts = ReceiptVerdicts {
			period: Channels::period_of(period),
			anchor: Anchor { number: last, hash: H256::repeat_byte(last as u8) },
			part: 0,
			entries: BoundedVec::truncate_from(entries),
		};
		let signature =
			verdicts.sign(&Poc::genesis_hash(), &validator, &Sr25519Keyring::AliceStash.pair());
		pallet_channels::Call::<Runtime>::submit_verdicts {
			validator: validator.clone(),
			verdicts,
			signature,
		}
	});
	ext.commit_all().expect("the state commits");
	let (_, alone) = ext.execute_and_prove(|| {
		call.authorize(TransactionSource::InBlock)
			.expect("a duty call")
			.expect("the verdicts are valid");
	});
	let (_, both) = ext.execute_and_prove(|| {
		call.authorize(TransactionSource::InBlock)
			.expect("a duty call")
			.expect("the verdicts are valid");
		RuntimeCall::Channels(call.clone())
			.dispatch(frame_system::RawOrigin::Authorized.into())
			.expect("the verdicts are taken");
	});
	(alone.encoded_size() as u64, both.encoded_size() as u64)
}

/// Gives settlement `id` a second round (as its close starts it) in which `validator`
/// answers a doubled sample: the record's total power set so that she is drawn with
/// probability 1/2, a thousand samples, a failure noted in the window (its bitmap read),
/// and the first sample the round doubles that the hash rule draws her for on the second
/// seed and not on the sample seed. Returns the sample.
fn second_round(id: u64, validator: &gonka_primitives::HostId) -> u32 {
	use gonka_primitives::channel::validates_second;
	use gonka_runtime::{Channels, Poc};
	let mut record = pallet_channels::Settlements::<Runtime>::get(id).expect("set up");
	let power = Poc::power_in(&record.snapshot, validator);
	record.total_power = record.executor_power + 2 * power;
	record.receipts = 1_000;
	record.fails = 1;
	record.answered = BoundedVec::truncate_from(vec![1]);
	let seed = Channels::seed_of(id, &record).expect("the settlement's block is sealed");
	let second = Channels::second_seed_of(id, record.at).expect("the window's last block is kept");
	let sample = (1..record.receipts)
		.find(|sample| {
			validates_second(
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
		.expect("of a thousand samples, one is doubled and drawn second for her");
	let mut failed = BoundedVec::default();
	assert!(pallet_channels::set_bit(&mut failed, 0));
	pallet_channels::FailedSamples::<Runtime>::insert(id, failed);
	pallet_channels::SecondRounds::<Runtime>::insert(
		id,
		pallet_channels::SecondRound {
			prunes_at: Channels::prunes_at(record.at),
			snapshot: record.snapshot,
			executor: record.executor.clone(),
			epoch: 0,
			held: record.share,
			paid: 0,
			answered: Default::default(),
			disputed: Default::default(),
			unavailable: Default::default(),
		},
	);
	pallet_channels::Settlements::<Runtime>::insert(id, record);
	sample
}

/// A block records a settlement's record once for the authorize rule and the dispatch of a
/// verdict, which the weights charge twice (each benchmarked cold, each read at the
/// `MaxEncodedLen` estimate of a read in a large trie); `StorageWeightReclaim` refunds the
/// difference after each transaction. With the verdicts' proof as measured, the goal at
/// 1,000 receipts a settlement holds.
#[test]
fn with_the_verdicts_proof_measured_channels_settle_20000_a_second_at_1000_receipts() {
	let (alone, both) = measured_verdict_proof(false);
	let (second_alone, second_both) = measured_verdict_proof(true);
	let seconds = u64::from(MAX_SECOND_VERDICTS);
	let n = u64::from(MAX_VERDICTS);
	let charged_authorize = Charged::authorize_verdicts(MAX_VERDICTS).proof_size();
	let charged = charged_authorize + Charged::submit_verdicts(MAX_VERDICTS).proof_size();
	println!(
		"a batch of {n} verdicts among {} open settlements: authorize rule {alone} B ({} B a verdict), with the dispatch {both} B ({} B a verdict); charged {charged} B ({} B a verdict)",
		most_open_settlements(),
		alone / n,
		both / n,
		charged / n,
	);
	let charged_second = Charged::authorize_second_verdicts(MAX_SECOND_VERDICTS).proof_size()
		+ Charged::submit_second_verdicts(MAX_SECOND_VERDICTS).proof_size();
	println!(
		"a batch of {seconds} second answers: authorize rule {second_alone} B, with the dispatch {second_both} B ({} B an answer); charged {charged_second} B ({} B an answer)",
		second_both / seconds,
		charged_second / seconds,
	);
	assert!(both < charged_authorize, "the recorded proof is below the authorize rule's charge");
	assert!(second_both < charged_second, "the recorded proof is below the charge");
	// The verdicts at their measured proof (with a margin of half again: a production
	// state's upper trie is larger than the development chain's), the rest as charged.
	let verdict = ((both / n) * 3 / 2, (second_both / seconds) * 3 / 2);
	println!("| receipts a settlement | sampling rate | per second, charged | per second, verdicts measured |");
	println!("|---|---|---|---|");
	for (receipts, target) in [
		(100, Perbill::from_percent(1)),
		(1_000, Perbill::from_percent(1)),
		(100, Perbill::from_percent(10)),
		(100, Perbill::one()),
	] {
		let charged = per_second::<Charged>(receipts, target);
		let measured =
			per_block_with::<Charged>(receipts, target, Some(verdict)).0 as f64 / BLOCK_SECONDS;
		println!(
			"| {receipts} | {:.0}% | {charged:.0} | {measured:.0} |",
			target.deconstruct() as f64 / 1e7
		);
	}
	let at_1000 = per_block_with::<Charged>(1_000, Perbill::from_percent(1), Some(verdict)).0
		as f64 / BLOCK_SECONDS;
	assert!(
		at_1000 >= GOAL_AT_1000_PER_SECOND,
		"{at_1000:.0} inferences a second at 1,000 receipts, 1%, the verdicts' proof measured"
	);
}

/// A full part of first answers (`MAX_VERDICTS`) and of second answers
/// (`MAX_SECOND_VERDICTS`) each fits one transaction of the normal class, by the charged
/// weights of its dispatch and its authorize rule (a part that did not would never be
/// included, and its validator never paid).
#[test]
fn a_full_part_of_first_or_second_answers_or_a_shown_part_fits_a_transaction() {
	let weights = RuntimeBlockWeights::get();
	let normal = weights.get(DispatchClass::Normal);
	let most = normal.max_extrinsic.expect("a normal transaction's limit");
	let base = normal.base_extrinsic;
	for (what, part) in [
		(
			"first",
			Charged::submit_verdicts(MAX_VERDICTS)
				.saturating_add(Charged::authorize_verdicts(MAX_VERDICTS)),
		),
		(
			"second",
			Charged::submit_second_verdicts(MAX_SECOND_VERDICTS)
				.saturating_add(Charged::authorize_second_verdicts(MAX_SECOND_VERDICTS)),
		),
		// A full part shown as a pass a jury's invalidation contradicts (`show_pass`).
		(
			"shown",
			Charged::show_pass(MAX_VERDICTS)
				.saturating_add(Charged::authorize_show_pass(MAX_VERDICTS)),
		),
	] {
		let part = part.saturating_add(base);
		println!(
			"a full part of {what} answers: {:.1} ms, {:.0} KiB of {:.0} KiB",
			part.ref_time() as f64 / 1e9,
			part.proof_size() as f64 / 1024.0,
			most.proof_size() as f64 / 1024.0
		);
		assert!(part.all_lte(most), "a full part of {what} answers fits a transaction");
	}
}
