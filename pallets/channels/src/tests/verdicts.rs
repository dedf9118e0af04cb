//! The settlements' samples and the validators' verdicts: records, the pot, pay per
//! answered sample, the verdict window, the close (`sampling.rs`).

use super::{
	settlement::{drawn, refused, settle, settlement, tail, voucher, RECEIPT_COST},
	*,
};
use crate::{Error, Event, NextToClose, Settlements};
use gonka_primitives::{
	channel::{
		most_samples, validates_sample, Anchor, ReceiptVerdict, ReceiptVerdicts, SampleOf,
		MAX_VERDICT_PARTS,
	},
	duty::Duty,
	H256,
};
use polkadot_sdk::{
	frame_support::{assert_ok, traits::fungible::InspectHold, BoundedVec},
	sp_runtime::{transaction_validity::InvalidTransaction, Perbill},
};

/// The hosts of the tests: 1–3, equal power.
pub(super) const HOSTS: [u8; 3] = [1, 2, 3];

/// The pot's held shares.
fn pot() -> u128 {
	Balances::balance_on_hold(
		&RuntimeHoldReason::Channels(crate::HoldReason::ChannelEscrow),
		&Channels::pot(),
	)
}

/// The hosts the hash rule draws for sample `sample` of settlement `id`.
pub(super) fn validators_of(id: u64, sample: u32) -> Vec<u8> {
	let record = Settlements::<Test>::get(id).expect("the settlement is open");
	let seed = Channels::seed_of(id, &record).expect("its block's hash is known");
	HOSTS
		.into_iter()
		.filter(|i| {
			let power = Poc::power_in(&record.snapshot, &account(*i));
			validates_sample(
				&seed,
				sample,
				&account(*i),
				&record.executor,
				power,
				record.total_power,
				record.executor_power,
			)
		})
		.collect()
}

/// The samples of settlement `id`: tree samples, then its tail's.
pub(super) fn samples_of(id: u64) -> u32 {
	let record = Settlements::<Test>::get(id).expect("the settlement is open");
	let seed = Channels::seed_of(id, &record).expect("its block's hash is known");
	Channels::tree_samples(&record, &seed) + record.tail
}

/// A sample of settlement `id` that the hash rule gives a validator, and that validator.
fn a_sample_with_its_validator(id: u64) -> (u32, u8) {
	(0..samples_of(id))
		.find_map(|sample| validators_of(id, sample).first().map(|v| (sample, *v)))
		.expect("some sample has a validator")
}

pub(super) fn verdicts(period: u32, part: u8, entries: &[(u64, u32, bool)]) -> ReceiptVerdicts {
	ReceiptVerdicts {
		period,
		anchor: anchor(),
		part,
		entries: BoundedVec::truncate_from(
			entries
				.iter()
				.map(|&(settlement, sample, pass)| ReceiptVerdict { settlement, sample, pass })
				.collect(),
		),
	}
}

/// Validator `i`'s verdicts, anchored to the block before the current one (as a worker
/// signs them when it sends them).
fn verdicts_call(i: u8, verdicts: ReceiptVerdicts) -> crate::Call<Test> {
	signed_verdicts_call(i, ReceiptVerdicts { anchor: anchor(), ..verdicts })
}

/// Validator `i`'s verdicts, with the anchor they carry.
fn signed_verdicts_call(i: u8, verdicts: ReceiptVerdicts) -> crate::Call<Test> {
	let signature = verdicts.sign(&Poc::genesis_hash(), &account(i), &worker(i));
	crate::Call::submit_verdicts { validator: account(i), verdicts, signature }
}

/// Validator `i`'s verdicts, through the pool and dispatch.
pub(super) fn submit(i: u8, verdicts: ReceiptVerdicts) -> Result<(), Refused> {
	run_duty(verdicts_call(i, verdicts))
}

/// A channel of one slot whose member settled 6 vouchered receipts in block 2 (verdict
/// period 0); returns the channel, the member and the settlement.
pub(super) fn settled() -> (u64, u8, u64) {
	let (channel, member) = drawn(1, 2_000);
	assert_ok!(settle(member, settlement(channel, Some(voucher(channel, member, 6)), vec![])));
	(channel, member, 0)
}

#[test]
fn a_settlement_is_recorded_with_its_validators_share_in_the_pot() {
	ExtBuilder::default().hosts(&HOSTS).build_and_execute(|| {
		let (channel, member, id) = settled();
		let share = VALIDATOR_SHARE.mul_floor(6 * RECEIPT_COST);
		assert_eq!(pot(), share);
		let record = Settlements::<Test>::get(id).unwrap();
		assert_eq!((record.channel, record.executor.clone()), (channel, account(member)));
		assert_eq!((record.count, record.from, record.to), (6, 0, 6 * RECEIPT_COST));
		assert_eq!((record.receipts, record.tail, record.share), (6, 0, share));
		assert_eq!(record.target, Perbill::one());
		assert!(channel_events().contains(&Event::SettlementSampled {
			settlement: id,
			receipts: 6,
			tail: 0,
			target: Perbill::one(),
			share,
		}));
		// At a target of one, every vouchered receipt expects a check.
		run_to_block(3);
		assert_eq!(samples_of(id), 6);
	});
}

#[test]
fn a_sampled_validator_is_paid_per_answered_sample_into_its_pending_work() {
	ExtBuilder::default().hosts(&HOSTS).build_and_execute(|| {
		let (_, member, id) = settled();
		run_to_block(VERDICT_PERIOD);
		let (sample, validator) = a_sample_with_its_validator(id);
		assert_ne!(validator, member, "never the executor");
		let share = Settlements::<Test>::get(id).unwrap().share;
		// The share over the samples and their most second answers (`⌈6 / 10⌉`).
		let samples = samples_of(id);
		assert_eq!(samples, 6);
		let pay = share / 7;
		assert_eq!(Channels::answer_pay(share, samples), pay);
		let before = credited(&account(validator));
		assert_ok!(submit(validator, verdicts(0, 0, &[(id, sample, true)])));
		assert_eq!(credited(&account(validator)) - before, pay);
		assert_eq!(pot(), share - pay);
		let record = Settlements::<Test>::get(id).unwrap();
		assert!(record.is_answered(sample));
		assert_eq!((record.passes, record.fails, record.validator_paid), (1, 0, pay));
		assert!(channel_events().contains(&Event::VerdictsSubmitted {
			validator: account(validator),
			period: 0,
			part: 0,
			passes: 1,
			paid: pay,
		}));
	});
}

#[test]
fn the_window_close_judges_the_passes_and_the_pruning_returns_the_unpaid_share() {
	ExtBuilder::default().hosts(&HOSTS).build_and_execute(|| {
		let (_, member, id) = settled();
		run_to_block(VERDICT_PERIOD);
		let (sample, validator) = a_sample_with_its_validator(id);
		assert_ok!(submit(validator, verdicts(0, 0, &[(id, sample, true)])));
		let record = Settlements::<Test>::get(id).unwrap();
		let executor_before = credited(&account(member));
		// Period 0's window closes when period 1 ends.
		run_to_block(2 * VERDICT_PERIOD - 1);
		assert!(Channels::window_open(id));
		run_to_block(2 * VERDICT_PERIOD);
		assert!(!Channels::window_open(id));
		assert_eq!(NextToClose::<Test>::get(), 1);
		assert_eq!(judged(), vec![(account(member), 0, 1, 0)]);
		// The unpaid share is held for the second round (`seconds.rs`) until the pruning.
		let held = record.share - record.validator_paid;
		assert_eq!(pot(), held);
		assert!(channel_events().contains(&Event::SettlementClosed {
			settlement: id,
			passes: 1,
			fails: 0,
			held,
		}));
		run_to_block(3 * VERDICT_PERIOD);
		assert_eq!(credited(&account(member)) - executor_before, held);
		assert_eq!(pot(), 0);
	});
}

/// Rubber-stamping: a host the hash rule does not draw for a sample cannot answer it (nor
/// be paid), and the executor never answers its own.
#[test]
fn only_the_drawn_validators_answer_a_sample_and_never_the_executor() {
	ExtBuilder::default().hosts(&HOSTS).build_and_execute(|| {
		let (_, member, id) = settled();
		run_to_block(VERDICT_PERIOD);
		let (sample, outsider) = (0..samples_of(id))
			.find_map(|sample| {
				let drawn = validators_of(id, sample);
				HOSTS
					.into_iter()
					.find(|i| *i != member && !drawn.contains(i))
					.map(|outsider| (sample, outsider))
			})
			.expect("some sample leaves a host out");
		assert_eq!(
			submit(outsider, verdicts(0, 0, &[(id, sample, true)])),
			Err(refused(Error::NotSampled))
		);
		assert_eq!(
			submit(member, verdicts(0, 0, &[(id, sample, true)])),
			Err(refused(Error::NotSampled))
		);
		assert_eq!(pot(), Settlements::<Test>::get(id).unwrap().share);
	});
}

#[test]
fn a_sample_is_answered_once() {
	ExtBuilder::default().hosts(&HOSTS).build_and_execute(|| {
		let (_, _, id) = settled();
		run_to_block(VERDICT_PERIOD);
		// A validator drawn for two samples.
		let (validator, first, second) = HOSTS
			.into_iter()
			.find_map(|i| match Channels::samples_for(id, &account(i))[..] {
				[(first, _), (second, _), ..] => Some((i, first, second)),
				_ => None,
			})
			.expect("a validator drawn twice");
		assert_ok!(submit(validator, verdicts(0, 0, &[(id, first, true)])));
		let paid = Settlements::<Test>::get(id).unwrap().validator_paid;
		// Again, as another part: the pool refuses it.
		assert_eq!(
			submit(validator, verdicts(0, 1, &[(id, first, true)])),
			Err(Refused::Pool(InvalidTransaction::Stale.into()))
		);
		// Had a block included it anyway, the answered sample counts nothing.
		assert_ok!(dispatch_duty(verdicts_call(validator, verdicts(0, 1, &[(id, first, true)]))));
		let record = Settlements::<Test>::get(id).unwrap();
		assert_eq!((record.passes, record.fails, record.validator_paid), (1, 0, paid));
		// Half new: taken, the answered one skipped.
		assert_ok!(submit(validator, verdicts(0, 2, &[(id, first, true), (id, second, true)])));
		let record = Settlements::<Test>::get(id).unwrap();
		assert_eq!((record.passes, record.fails, record.validator_paid), (2, 0, 2 * paid));
	});
}

#[test]
fn verdicts_are_taken_in_the_period_after_the_settlements_only() {
	ExtBuilder::default().hosts(&HOSTS).build_and_execute(|| {
		let (_, _, id) = settled();
		run_to_block(VERDICT_PERIOD - 1);
		let (sample, validator) = a_sample_with_its_validator(id);
		let answer = verdicts(0, 0, &[(id, sample, true)]);
		assert_eq!(
			submit(validator, answer.clone()),
			Err(Refused::Pool(InvalidTransaction::Future.into()))
		);
		// A settlement of period 0 named as another period's.
		run_to_block(2 * VERDICT_PERIOD - 1);
		assert_eq!(
			submit(validator, verdicts(1, 0, &[(id, sample, true)])),
			Err(Refused::Pool(InvalidTransaction::Future.into()))
		);
		// The first round's window closed: a validator drawn first answers the period no
		// more (the next period's answers are the second round's, never its).
		run_to_block(2 * VERDICT_PERIOD);
		assert!(submit(validator, answer.clone()).is_err());
		run_to_block(3 * VERDICT_PERIOD);
		assert_eq!(submit(validator, answer), Err(Refused::Pool(InvalidTransaction::Stale.into())));
	});
}

/// Fork-bound duties (step 5f): settlement ids are counters, so on another fork the same
/// id can be another settlement. A validator's pass signed on another fork (its anchor a
/// block this chain does not have) is refused, and so is one anchored before the period's
/// last block, below which the forks may differ in the period's settlements; one anchored
/// at the current block or later waits in the pool.
#[test]
fn a_verdict_signed_on_another_fork_is_refused() {
	ExtBuilder::default().hosts(&HOSTS).build_and_execute(|| {
		let (_, _, id) = settled();
		run_to_block(VERDICT_PERIOD + 3);
		let (sample, validator) = a_sample_with_its_validator(id);
		let now = System::block_number();
		let answer = verdicts(0, 0, &[(id, sample, true)]);
		let anchored = |number: u64, hash: H256| {
			let anchor = Anchor { number: number as u32, hash };
			run_duty(signed_verdicts_call(validator, ReceiptVerdicts { anchor, ..answer.clone() }))
		};
		assert_eq!(
			anchored(now - 1, H256::repeat_byte(0xf0)),
			Err(refused(Error::AnchorNotOnChain))
		);
		let early = VERDICT_PERIOD - 2;
		assert_eq!(anchored(early, block_hash(early)), Err(refused(Error::AnchorTooEarly)));
		assert_eq!(
			anchored(now, block_hash(now)),
			Err(Refused::Pool(InvalidTransaction::Future.into()))
		);
		// A block whose hash the chain no longer keeps (it reads as zero).
		polkadot_sdk::frame_system::BlockHash::<Test>::remove(VERDICT_PERIOD);
		assert_eq!(anchored(VERDICT_PERIOD, H256::zero()), Err(refused(Error::AnchorNotOnChain)));
		let last = VERDICT_PERIOD - 1;
		assert_ok!(anchored(last, block_hash(last)));
		assert_eq!(Settlements::<Test>::get(id).unwrap().passes, 1);
	});
}

#[test]
fn a_batch_is_sorted_within_its_parts_and_names_real_samples() {
	ExtBuilder::default().hosts(&HOSTS).build_and_execute(|| {
		let (_, _, id) = settled();
		run_to_block(VERDICT_PERIOD);
		let (sample, validator) = a_sample_with_its_validator(id);
		assert_eq!(submit(validator, verdicts(0, 0, &[])), Err(refused(Error::NoVerdicts)));
		assert_eq!(
			submit(validator, verdicts(0, 0, &[(id, sample, true), (id, sample, true)])),
			Err(refused(Error::VerdictsOutOfOrder))
		);
		assert_eq!(
			submit(validator, verdicts(0, MAX_VERDICT_PARTS, &[(id, sample, true)])),
			Err(refused(Error::BadPart))
		);
		assert_eq!(
			submit(validator, verdicts(0, 0, &[(id, samples_of(id), true)])),
			Err(refused(Error::NotASample))
		);
		assert_eq!(
			submit(validator, verdicts(0, 0, &[(id + 1, 0, true)])),
			Err(Refused::Pool(InvalidTransaction::Stale.into()))
		);
		// Signed by another key: refused.
		let answer = verdicts(0, 0, &[(id, sample, true)]);
		let other = if validator == 1 { 2 } else { 1 };
		let signature = answer.sign(&Poc::genesis_hash(), &account(validator), &worker(other));
		assert_eq!(
			run_duty(crate::Call::submit_verdicts {
				validator: account(validator),
				verdicts: answer,
				signature
			}),
			Err(Refused::Pool(InvalidTransaction::BadProof.into()))
		);
	});
}

#[test]
fn every_tail_receipt_is_sampled() {
	ExtBuilder::default().hosts(&HOSTS).build_and_execute(|| {
		let (channel, member) = drawn(1, 2_000);
		assert_ok!(settle(member, settlement(channel, None, tail(channel, member, 0, 2))));
		run_to_block(3);
		let record = Settlements::<Test>::get(0).unwrap();
		assert_eq!((record.receipts, record.tail), (0, 2));
		assert_eq!(samples_of(0), 2, "no tree sample, one per tail claim");
	});
}

/// Amendment 4: no silent cap. At a target of one, a voucher of more than `MAX_SAMPLES`
/// new receipts is refused (an executor settles in parts instead); at a lower target more
/// fit.
#[test]
fn a_settlement_needing_more_than_max_samples_is_refused() {
	ExtBuilder::default().hosts(&HOSTS).build_and_execute(|| {
		let (channel, member) = drawn(1, 9_000);
		let most = gonka_primitives::channel::MAX_SAMPLES;
		assert_eq!(
			settle(member, settlement(channel, Some(voucher(channel, member, most + 1)), vec![])),
			Err(refused(Error::TooManySamples))
		);
		assert_ok!(settle(
			member,
			settlement(channel, Some(voucher(channel, member, most)), vec![])
		));
	});
	ExtBuilder::default().hosts(&HOSTS).build_and_execute(|| {
		set_target(Perbill::from_percent(50));
		let (channel, member) = drawn(1, 9_000);
		let most = gonka_primitives::channel::MAX_SAMPLES;
		assert_ok!(settle(
			member,
			settlement(channel, Some(voucher(channel, member, 2 * most)), vec![])
		));
	});
}

/// A later settlement's samples fall in the cost its voucher adds: the receipts vouchered
/// since the executor's earlier settlement.
#[test]
fn a_later_settlements_samples_fall_on_the_receipts_it_adds() {
	ExtBuilder::default().hosts(&HOSTS).build_and_execute(|| {
		let (channel, member, _) = settled();
		assert_ok!(settle(member, settlement(channel, Some(voucher(channel, member, 8)), vec![])));
		let second = Settlements::<Test>::get(1).unwrap();
		assert_eq!(second.receipts, 2);
		assert_eq!((second.from, second.to), (6 * RECEIPT_COST, 8 * RECEIPT_COST));
		run_to_block(3);
		assert_eq!(samples_of(1), 2);
	});
}

/// Amendment 1: traffic counts tokens, not leaves.
#[test]
fn a_settlements_traffic_is_its_tokens_not_its_receipts() {
	ExtBuilder::default().hosts(&HOSTS).build_and_execute(|| {
		let (_, member, _) = settled();
		// Six receipts of 8 tokens: no thousand tokens, no request of traffic.
		assert_eq!(traffic_of(&account(member)), 0);
	});
}

/// The member of `channel`'s one slot settles one vouchered receipt.
pub(super) fn settle_one(channel: &u64) -> Result<(), Refused> {
	let host = crate::Committees::<Test>::get(channel).unwrap()[0].clone();
	let i = HOSTS.into_iter().find(|i| account(*i) == host).unwrap();
	settle(i, settlement(*channel, Some(voucher(*channel, i, 1)), vec![]))
}

/// A block records at most `MaxClosesPerBlock` settlements (the pool keeps the rest for
/// the next block), so the windows' closes, as many a block, keep up; they close oldest
/// first.
#[test]
fn a_block_closes_at_most_max_closes_windows_oldest_first() {
	ExtBuilder::default().hosts(&HOSTS).build_and_execute(|| {
		let channels: Vec<_> = (0..3).map(|_| open(20, terms(1), 500)).collect();
		run_to_block(2);
		assert_ok!(settle_one(&channels[0]));
		assert_ok!(settle_one(&channels[1]));
		assert_eq!(
			settle_one(&channels[2]),
			Err(Refused::Pool(InvalidTransaction::ExhaustsResources.into()))
		);
		run_to_block(3);
		assert_ok!(settle_one(&channels[2]));
		run_to_block(2 * VERDICT_PERIOD);
		assert_eq!(NextToClose::<Test>::get(), u64::from(MAX_CLOSES));
		assert!(Settlements::<Test>::contains_key(2));
		run_to_block(2 * VERDICT_PERIOD + 1);
		assert_eq!(NextToClose::<Test>::get(), 3);
		assert_eq!(judged().len(), 3);
	});
}

/// The target of settlement `id` as recorded.
fn target_of(id: u64) -> Perbill {
	Settlements::<Test>::get(id).expect("the settlement is open").target
}

/// What a settlement must pay for: its validators' share pays `SampleFee` for each answer
/// at the executor's target, at worst; else its samples are the lottery its share pays for
/// in expectation (two answers a sample), and it settles: small receipts are never
/// unsettleable.
#[test]
fn a_settlement_whose_share_does_not_pay_every_sample_is_checked_by_the_lottery_it_pays_for() {
	// Six receipts at a target of one: six samples and at most one second answer, seven
	// answers; a share of 48. At 6 each, the share pays them all.
	ExtBuilder::default().hosts(&HOSTS).build_and_execute(|| {
		let (channel, member) = drawn(1, 2_000);
		SampleFee::set(6);
		assert_ok!(settle(member, settlement(channel, Some(voucher(channel, member, 6)), vec![])));
		assert_eq!(target_of(0), Perbill::one());
	});
	// At 7, it pays 48 / 14 samples in expectation: of 6 receipts, a rate of 4/7.
	ExtBuilder::default().hosts(&HOSTS).build_and_execute(|| {
		let (channel, member) = drawn(1, 2_000);
		SampleFee::set(7);
		assert_ok!(settle(member, settlement(channel, Some(voucher(channel, member, 6)), vec![])));
		let lottery = Perbill::from_parts(571_428_571);
		assert_eq!(target_of(0), lottery);
		assert_eq!(most_samples(lottery, 6), 4);
		run_to_block(3);
		assert!(samples_of(0) <= 4);
	});
}

/// The flood the sample rule stops: tiny receipts settled in numbers buy the verdicts their
/// share pays for, in expectation, not one free verdict each. A share of a tenth of a
/// sample's two answers draws a sample with a probability of a tenth.
#[test]
fn a_flood_of_tiny_receipts_draws_samples_at_the_rate_its_share_pays_for() {
	ExtBuilder::default().hosts(&HOSTS).build_and_execute(|| {
		let (channel, member) = drawn(1, 2_000);
		SampleFee::set(240);
		assert_ok!(settle(member, settlement(channel, Some(voucher(channel, member, 6)), vec![])));
		// 48 / (2 × 240 × 6): an expected tenth of a sample, one at most.
		assert_eq!(target_of(0), Perbill::from_parts(16_666_666));
		assert_eq!(most_samples(target_of(0), 6), 1);
		// Over seeds, a tenth of the draws have a sample.
		let drawn = (0..10_000u32)
			.filter(|i| {
				let seed = H256::from_low_u64_be(u64::from(*i));
				gonka_primitives::channel::tree_samples(&seed, target_of(0), 6, 0, 6 * RECEIPT_COST)
					> 0
			})
			.count();
		assert!((800..1_200).contains(&drawn), "{drawn} of 10,000 draws sampled");
	});
}

/// The tail's answers are paid by the tail's own part of the share (its value's share and
/// its tail fee), never by the tree's: a settlement that cannot pay its tree's samples
/// and whose tail does not pay its own is refused. Cheap tail claims beside a voucher of
/// costly receipts would otherwise eat the share that checks the voucher's receipts.
#[test]
fn cheap_tail_claims_cannot_eat_the_tree_samples_share() {
	ExtBuilder::default().hosts(&HOSTS).build_and_execute(|| {
		let (channel, member) = drawn(1, 2_000);
		let with_tail =
			|| settlement(channel, Some(voucher(channel, member, 6)), tail(channel, member, 6, 8));
		// Six vouchered receipts and two tail claims of 80: a share of 48 + 16 + the tail
		// fee 16 = 80, of which the tail's part is 32. At 11 a verdict the eight samples'
		// nine answers cost 99; the tail's three 33, beyond its part (though the whole
		// share would pay them).
		SampleFee::set(11);
		assert_eq!(settle(member, with_tail()), Err(refused(Error::SamplesUnpaid)));
		// At 10, the tail's part pays its 30 and the tree's 48 buys a lottery of
		// 48 / (2 × 10 × 6) = 0.4.
		SampleFee::set(10);
		assert_ok!(settle(member, with_tail()));
		assert_eq!(target_of(0), Perbill::from_percent(40));
	});
}

/// `ChannelsApi::samples_for` lists exactly the samples the hash rule draws a validator
/// for, each with the receipt it checks; nothing before the seed is known.
#[test]
fn the_api_lists_each_validators_samples() {
	ExtBuilder::default().hosts(&HOSTS).build_and_execute(|| {
		let (channel, member) = drawn(1, 2_000);
		assert_ok!(settle(
			member,
			settlement(channel, Some(voucher(channel, member, 6)), tail(channel, member, 6, 8))
		));
		assert!(HOSTS.iter().all(|i| Channels::samples_for(0, &account(*i)).is_empty()));
		run_to_block(3);
		let mut listed = 0;
		for i in HOSTS {
			let samples = Channels::samples_for(0, &account(i));
			let drawn: Vec<u32> =
				(0..samples_of(0)).filter(|k| validators_of(0, *k).contains(&i)).collect();
			assert_eq!(samples.iter().map(|(k, _)| *k).collect::<Vec<_>>(), drawn);
			for (k, what) in samples {
				let expected = if k < 6 {
					let SampleOf::Tree(point) = what else { panic!("{what:?}") };
					assert!(point < 6 * RECEIPT_COST);
					continue;
				} else {
					SampleOf::Tail(k - 6)
				};
				assert_eq!(what, expected);
			}
			listed += drawn.len();
		}
		assert!(listed > 0);
		assert!(Channels::samples_for(0, &account(member)).is_empty(), "never the executor");
	});
}
