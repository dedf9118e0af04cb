//! Second validators (amendment 6, `seconds.rs`): a tenth of a settlement's samples,
//! drawn after its window, answered once more by validators that could not answer first.

use super::{
	disputes::{evidence, mismatch, report, sample_at, seq_of},
	settlement::{settle, settlement, voucher},
	verdicts::{submit, verdicts},
	*,
};
use crate::{
	DisputeOutcome, Disputes, EpochsInUse, Error, Event, PeriodMarks, SecondRounds, Settlements,
};
use gonka_primitives::channel::{
	doubled_residue, second_seed, validates_sample, validates_second, ReceiptChallenge,
	SECOND_EVERY,
};
use gonka_primitives::duty::Duty;
use polkadot_sdk::{
	frame_support::{assert_ok, traits::fungible::InspectHold, traits::Contains},
	sp_runtime::transaction_validity::InvalidTransaction,
};

/// The hosts of these tests: 1–8 (the mock's `MaxHosts`), equal power, so a sample has
/// second validators.
pub(super) const MANY: [u8; 8] = [1, 2, 3, 4, 5, 6, 7, 8];
/// The receipts settled: 400 samples at a target of one, 40 of them doubled.
pub(super) const RECEIPTS: u32 = 400;

/// The pot's held shares.
fn pot() -> u128 {
	Balances::balance_on_hold(
		&RuntimeHoldReason::Channels(crate::HoldReason::ChannelEscrow),
		&Channels::pot(),
	)
}

/// The hosts drawn first for sample `sample` of settlement 0.
pub(super) fn firsts(sample: u32) -> Vec<u8> {
	let record = Settlements::<Test>::get(0).unwrap();
	let seed = Channels::seed_of(0, &record).unwrap();
	MANY.into_iter()
		.filter(|i| {
			validates_sample(
				&seed,
				sample,
				&account(*i),
				&record.executor,
				Poc::power_in(&record.snapshot, &account(*i)),
				record.total_power,
				record.executor_power,
			)
		})
		.collect()
}

/// The hosts that give sample `sample` of settlement 0 its second answer, by the hash rule
/// on the seed the close will draw (the mock's block hashes are known in advance).
pub(super) fn seconds(sample: u32) -> Vec<u8> {
	let record = Settlements::<Test>::get(0).unwrap();
	let seed = Channels::seed_of(0, &record).unwrap();
	MANY.into_iter()
		.filter(|i| {
			validates_second(
				&seed,
				&the_second_seed(),
				sample,
				&account(*i),
				&record.executor,
				Poc::power_in(&record.snapshot, &account(*i)),
				record.total_power,
				record.executor_power,
			)
		})
		.collect()
}

/// Settlement 0's second seed: from the hash of the last block of its window.
pub(super) fn the_second_seed() -> gonka_primitives::H256 {
	second_seed(&Poc::genesis_hash(), &block_hash(2 * VERDICT_PERIOD - 1), 0)
}

/// The samples settlement 0's round doubles, if none failed first.
pub(super) fn doubled() -> Vec<u32> {
	(doubled_residue(&the_second_seed())..RECEIPTS).step_by(SECOND_EVERY as usize).collect()
}

/// A channel of one slot whose member settled `RECEIPTS` vouchered receipts in block 2
/// (verdict period 0), now in block `VERDICT_PERIOD` (its window). Returns the channel and
/// the member.
pub(super) fn settled_many() -> (u64, u8) {
	use polkadot_sdk::frame_support::traits::fungible::Mutate as _;
	Balances::set_balance(&account(20), 1_000_000);
	let channel = open(20, terms(1), 40_000);
	run_to_block(2);
	let committee = crate::Committees::<Test>::get(channel).unwrap();
	let member = *MANY.iter().find(|i| committee.contains(&account(**i))).unwrap();
	assert_ok!(settle(
		member,
		settlement(channel, Some(voucher(channel, member, RECEIPTS)), vec![])
	));
	run_to_block(VERDICT_PERIOD);
	(channel, member)
}

/// Each sample of settlement 0 but `except` passed by the first host drawn for it, in one
/// batch a validator.
fn first_passes(except: &[u32]) {
	let mut batches: std::collections::BTreeMap<u8, Vec<(u64, u32, bool)>> = Default::default();
	for sample in (0..RECEIPTS).filter(|sample| !except.contains(sample)) {
		if let Some(first) = firsts(sample).first() {
			batches.entry(*first).or_default().push((0, sample, true));
		}
	}
	for (validator, entries) in batches {
		assert_ok!(submit(validator, verdicts(0, 0, &entries)));
	}
}

/// A doubled sample of settlement 0 with a host drawn first for it and one drawn second.
pub(super) fn doubled_with_validators() -> (u32, u8, u8) {
	doubled()
		.into_iter()
		.find_map(|sample| {
			let (first, second) = (firsts(sample), seconds(sample));
			Some((sample, *first.first()?, *second.first()?))
		})
		.expect("a doubled sample has a first and a second validator")
}

/// A doubled sample of settlement 0 that `wanted` accepts, with a host drawn second for it.
pub(super) fn doubled_with_a_second(wanted: impl Fn(u32) -> bool) -> (u32, u8) {
	doubled()
		.into_iter()
		.filter(|sample| wanted(*sample))
		.find_map(|sample| Some((sample, *seconds(sample).first()?)))
		.expect("a doubled sample with a second validator")
}

/// A doubled sample of settlement 0 with two hosts drawn second for it.
pub(super) fn doubled_with_two_seconds() -> (u32, u8, u8) {
	doubled()
		.into_iter()
		.find_map(|sample| match seconds(sample)[..] {
			[a, b, ..] => Some((sample, a, b)),
			_ => None,
		})
		.expect("a doubled sample with two second validators")
}

#[test]
fn a_tenth_of_the_samples_get_a_second_answer_paid_from_the_share() {
	ExtBuilder::default().hosts(&MANY).build_and_execute(|| {
		let (_, member) = settled_many();
		let record = Settlements::<Test>::get(0).unwrap();
		let pay = record.share / u128::from(RECEIPTS + RECEIPTS / SECOND_EVERY);
		assert_eq!(Channels::answer_pay(record.share, RECEIPTS), pay);
		first_passes(&[]);
		let (sample, _, second) = doubled_with_validators();
		// Before the window closes there is no round: nobody knows which samples.
		assert!(SecondRounds::<Test>::get(0).is_none());
		let paid = Settlements::<Test>::get(0).unwrap().validator_paid;
		assert_eq!(paid, pay * u128::from(passes_of(&[])));
		run_to_block(2 * VERDICT_PERIOD);
		let round = SecondRounds::<Test>::get(0).expect("the close started the round");
		// The round holds what the window did not pay, at least the pay of every doubled
		// sample.
		let held = record.share - paid;
		assert_eq!((round.held, round.paid), (held, 0));
		assert!(held >= pay * doubled().len() as u128);
		assert!(channel_events().contains(&Event::SettlementClosed {
			settlement: 0,
			passes: passes_of(&[]),
			fails: 0,
			held,
		}));
		assert_eq!(pot(), held);
		let before = credited(&account(second));
		assert_ok!(submit(second, verdicts(0, 0, &[(0, sample, true)])));
		assert_eq!(credited(&account(second)) - before, pay);
		assert_eq!(pot(), held - pay);
		let round = SecondRounds::<Test>::get(0).unwrap();
		assert!(round.is_answered(sample));
		assert_eq!(round.paid, pay);
		// The first round is untouched.
		assert_eq!(Settlements::<Test>::get(0).unwrap().validator_paid, paid);
		// Ended with the record: the rest back to the executor's pending work.
		let executor = credited(&account(member));
		run_to_block(3 * VERDICT_PERIOD);
		assert!(SecondRounds::<Test>::get(0).is_none() && Settlements::<Test>::get(0).is_none());
		assert_eq!(credited(&account(member)) - executor, held - pay);
		assert_eq!(pot(), 0);
		assert!(channel_events().contains(&Event::SecondRoundEnded {
			settlement: 0,
			answers: 1,
			returned: held - pay,
		}));
	});
}

/// The samples `first_passes(except)` passes.
fn passes_of(except: &[u32]) -> u32 {
	(0..RECEIPTS).filter(|sample| !except.contains(sample) && !firsts(*sample).is_empty()).count()
		as u32
}

/// Validator `i`'s verdicts, dispatched without the pool's check.
fn dispatch_duty_verdicts(
	i: u8,
	verdicts: gonka_primitives::channel::ReceiptVerdicts,
) -> Result<(), Refused> {
	let signature = verdicts.sign(&Poc::genesis_hash(), &account(i), &worker(i));
	dispatch_duty(crate::Call::submit_verdicts { validator: account(i), verdicts, signature })
}

#[test]
fn a_validator_drawn_first_never_gives_the_second_answer() {
	ExtBuilder::default().hosts(&MANY).build_and_execute(|| {
		let _ = settled_many();
		first_passes(&[]);
		// A doubled sample whose first validator the hash rule draws on the second seed too:
		// only the exclusion keeps it out of the round.
		let (sample, first) = doubled()
			.into_iter()
			.find_map(|sample| {
				let record = Settlements::<Test>::get(0).unwrap();
				let both = firsts(sample).into_iter().find(|i| {
					validates_sample(
						&the_second_seed(),
						sample,
						&account(*i),
						&record.executor,
						Poc::power_in(&record.snapshot, &account(*i)),
						record.total_power,
						record.executor_power,
					)
				})?;
				Some((sample, both))
			})
			.expect("a first validator drawn on the second seed too");
		run_to_block(2 * VERDICT_PERIOD);
		assert_eq!(
			dispatch_duty_verdicts(first, verdicts(0, 0, &[(0, sample, true)])),
			Err(Refused::Call(Error::<Test>::NotSampled.into()))
		);
		// A sample the round does not double has no second answer.
		let other = (0..RECEIPTS).find(|sample| !doubled().contains(sample)).unwrap();
		let host = MANY.into_iter().find(|i| !firsts(other).contains(i)).unwrap();
		assert_eq!(
			submit(host, verdicts(0, 0, &[(0, other, true)])),
			Err(Refused::Pool(InvalidTransaction::Stale.into()))
		);
		assert_eq!(
			dispatch_duty_verdicts(host, verdicts(0, 0, &[(0, other, true)])),
			Err(Refused::Call(Error::<Test>::NotDoubled.into()))
		);
	});
}

/// A second pass is paid once, and shuts no failure out: an executor's friend drawn second
/// that passes a doubled sample first does not stop an honest second validator's failure.
#[test]
fn a_second_pass_is_paid_once_and_shuts_no_failure_out() {
	ExtBuilder::default().hosts(&MANY).build_and_execute(|| {
		let (channel, member) = settled_many();
		first_passes(&[]);
		let (sample, friend, honest) = doubled_with_two_seconds();
		run_to_block(2 * VERDICT_PERIOD);
		assert_ok!(submit(friend, verdicts(0, 0, &[(0, sample, true)])));
		let paid = SecondRounds::<Test>::get(0).unwrap().paid;
		assert!(paid > 0, "the friend's pass was paid");
		assert_eq!(
			submit(honest, verdicts(0, 0, &[(0, sample, true)])),
			Err(Refused::Pool(InvalidTransaction::Stale.into()))
		);
		// Skipped in a block: not paid again.
		assert_ok!(dispatch_duty_verdicts(honest, verdicts(0, 1, &[(0, sample, true)])));
		assert_eq!(SecondRounds::<Test>::get(0).unwrap().paid, paid);
		// The honest one's failure opens the dispute (unpaid: the pass took the pay).
		let before = credited(&account(honest));
		let seq = seq_of(sample_at(0, sample));
		let failure = mismatch(0, sample, evidence(channel, member, RECEIPTS, seq));
		assert_ok!(report(honest, failure.clone()));
		assert_eq!(credited(&account(honest)), before);
		assert!(Disputes::<Test>::get(0).is_some_and(|dispute| dispute.sample == sample));
		// One dispute a sample.
		assert_eq!(report(friend, failure), Err(Refused::Pool(InvalidTransaction::Stale.into())));
	});
}

/// The attack amendment 6 answers: a validator that passes its samples without replaying
/// them (a rubber stamp) gains nothing when a second validator, drawn after the window,
/// fails a receipt it passed: the jury invalidates it, the developer is refunded and the
/// second validator paid the bounty, from the executor's pending work of the settlement's
/// epoch, which the round kept open.
#[test]
fn a_receipt_a_rubber_stamp_passed_is_caught_by_its_second_validator() {
	ExtBuilder::default().hosts(&MANY).build_and_execute(|| {
		let (channel, member) = settled_many();
		first_passes(&[]);
		let (sample, first, second) = doubled_with_validators();
		assert!(Settlements::<Test>::get(0).unwrap().is_answered(sample), "passed first");
		run_to_block(2 * VERDICT_PERIOD);
		assert!(EpochsInUse::<Test>::contains(&0), "the round keeps the epoch");
		let seq = seq_of(sample_at(0, sample));
		let failure = mismatch(0, sample, evidence(channel, member, RECEIPTS, seq));
		// Only a second validator reports it now.
		assert!(report(first, failure.clone()).is_err());
		let before = credited(&account(second));
		assert_ok!(report(second, failure));
		let round = SecondRounds::<Test>::get(0).unwrap();
		assert!(round.is_answered(sample) && round.is_disputed(sample));
		let pay = Channels::answer_pay(Settlements::<Test>::get(0).unwrap().share, RECEIPTS);
		assert_eq!(credited(&account(second)) - before, pay);
		let dispute = Disputes::<Test>::get(0).expect("the failure opened a dispute");
		assert_eq!((dispute.sample, dispute.reporter.clone()), (sample, account(second)));
		run_to_block(2 * VERDICT_PERIOD + 1);
		for juror in MANY {
			if Channels::sits_on(0, &dispute, &account(juror)).is_some() {
				assert_ok!(super::disputes::vote(juror, 0, true));
			}
		}
		let developer = Balances::free_balance(account(20));
		let (executor, reporter) = (credited(&account(member)), credited(&account(second)));
		run_to_block(2 * VERDICT_PERIOD + JURY_WINDOW + 1);
		assert!(Disputes::<Test>::get(0).is_none());
		let cost = super::settlement::RECEIPT_COST;
		assert_eq!(Balances::free_balance(account(20)), developer + cost);
		assert_eq!(credited(&account(second)), reporter + cost, "the bounty");
		// The round ended in between (with the record): what it did not pay went back.
		assert!(SecondRounds::<Test>::get(0).is_none());
		let returned = channel_events()
			.iter()
			.find_map(|event| match event {
				Event::SecondRoundEnded { settlement: 0, returned, .. } => Some(*returned),
				_ => None,
			})
			.unwrap();
		assert_eq!(credited(&account(member)), executor - 2 * cost + returned);
		assert!(judged().contains(&(account(member), 0, 0, 1)));
		assert!(channel_events().iter().any(|event| matches!(
			event,
			Event::DisputeEnded { dispute: 0, outcome: DisputeOutcome::Invalidated, .. }
		)));
		run_to_block(3 * VERDICT_PERIOD + JURY_WINDOW);
		assert!(!EpochsInUse::<Test>::contains(&0));
	});
}

#[test]
fn a_sample_failed_in_its_window_is_not_doubled() {
	ExtBuilder::default().hosts(&MANY).build_and_execute(|| {
		let (channel, member) = settled_many();
		// A doubled sample failed first: its dispute is open, the round leaves it out.
		let failed = *doubled()
			.iter()
			.find(|sample| !firsts(**sample).is_empty())
			.expect("a doubled sample has a first validator");
		let seq = seq_of(sample_at(0, failed));
		let reporter = firsts(failed)[0];
		assert_ok!(report(reporter, mismatch(0, failed, evidence(channel, member, RECEIPTS, seq))));
		assert!(crate::FailedSamples::<Test>::get(0).is_some());
		first_passes(&[failed]);
		run_to_block(2 * VERDICT_PERIOD);
		let host = MANY.into_iter().find(|i| *i != member).unwrap();
		assert_eq!(
			dispatch_duty_verdicts(host, verdicts(0, 0, &[(0, failed, true)])),
			Err(Refused::Call(Error::<Test>::NotDoubled.into()))
		);
		// The other doubled samples are the round's.
		let (sample, second) = doubled_with_a_second(|sample| sample != failed);
		assert_ok!(submit(second, verdicts(0, 0, &[(0, sample, true)])));
		// Pruned with the record.
		run_to_block(3 * VERDICT_PERIOD);
		assert!(crate::FailedSamples::<Test>::get(0).is_none());
	});
}

/// A receipt disputed in the window (a developer's challenge, a first failure) is not
/// disputed again by a second failure: it would be refunded twice.
#[test]
fn a_receipt_disputed_in_the_window_is_not_disputed_again_by_the_round() {
	ExtBuilder::default().hosts(&MANY).build_and_execute(|| {
		let (channel, member) = settled_many();
		first_passes(&[]);
		let (sample, _, second) = doubled_with_validators();
		let seq = seq_of(sample_at(0, sample));
		let proof = evidence(channel, member, RECEIPTS, seq);
		assert_ok!(Channels::challenge_receipt(
			RuntimeOrigin::signed(account(20)),
			ReceiptChallenge { settlement: 0, tail: None, evidence: proof.clone() },
		));
		run_to_block(2 * VERDICT_PERIOD);
		let failure = mismatch(0, sample, proof);
		assert_eq!(
			report(second, failure.clone()),
			Err(Refused::Pool(InvalidTransaction::Stale.into()))
		);
		assert_eq!(
			dispatch_report(second, failure),
			Err(Refused::Call(Error::<Test>::AlreadyDisputed.into()))
		);
		// Another doubled sample's receipt, not disputed, is: the control.
		let (other, host) = doubled_with_a_second(|other| seq_of(sample_at(0, other)) != seq);
		let other_seq = seq_of(sample_at(0, other));
		assert_ok!(report(
			host,
			mismatch(0, other, evidence(channel, member, RECEIPTS, other_seq))
		));
	});
}

/// Validator `i`'s failure report, dispatched without the pool's check.
fn dispatch_report(i: u8, report: gonka_primitives::channel::FailureReport) -> Result<(), Refused> {
	let report = gonka_primitives::channel::FailureReport { anchor: anchor(), ..report };
	let signature = report.sign(&Poc::genesis_hash(), &account(i), &worker(i));
	dispatch_duty(crate::Call::report_failure { validator: account(i), report, signature })
}

#[test]
fn a_second_answer_is_paid_work_not_a_duty() {
	ExtBuilder::default().hosts(&MANY).build_and_execute(|| {
		let _ = settled_many();
		first_passes(&[]);
		let (sample, _, second) = doubled_with_validators();
		run_to_block(2 * VERDICT_PERIOD);
		let (mark, duties) = (PeriodMarks::<Test>::get(0, account(second)), duties_of(second));
		let before = credited(&account(second));
		assert_ok!(submit(second, verdicts(0, 0, &[(0, sample, true)])));
		assert!(SecondRounds::<Test>::get(0).unwrap().is_answered(sample));
		assert!(credited(&account(second)) > before, "paid");
		// It marks nothing for the period (a validator drawn first that answered none of its
		// samples is still shown missed) and counts no duty.
		assert_eq!(PeriodMarks::<Test>::get(0, account(second)), mark);
		assert_eq!(duties_of(second), duties);
	});
}

/// The duties the ledger noted of host `i`: (done, missed).
fn duties_of(i: u8) -> (u32, u32) {
	duties(&account(i))
}

/// A settlement whose failures were reported before spec version 20 has no failed samples
/// noted (or fewer than its failures): its round doubles nothing (a doubled sample could be
/// one already disputed).
#[test]
fn a_settlement_failed_before_the_upgrade_doubles_nothing() {
	ExtBuilder::default().hosts(&MANY).build_and_execute(|| {
		let (channel, member) = settled_many();
		let failed = (0..RECEIPTS).find(|sample| !firsts(*sample).is_empty()).unwrap();
		let seq = seq_of(sample_at(0, failed));
		let reporter = firsts(failed)[0];
		assert_ok!(report(reporter, mismatch(0, failed, evidence(channel, member, RECEIPTS, seq))));
		// As the state stood before the upgrade.
		crate::FailedSamples::<Test>::remove(0);
		first_passes(&[failed]);
		let (sample, second) = doubled_with_a_second(|sample| sample != failed);
		run_to_block(2 * VERDICT_PERIOD);
		assert_eq!(
			dispatch_duty_verdicts(second, verdicts(0, 0, &[(0, sample, true)])),
			Err(Refused::Call(Error::<Test>::NotDoubled.into()))
		);
	});
}

/// A friend of the executor drawn second reports a doubled sample unavailable (the executor
/// would refute it with the friend's own acknowledgement): an honest second validator's
/// mismatch on that sample is still taken.
#[test]
fn a_second_unavailable_report_silences_no_mismatch() {
	ExtBuilder::default().hosts(&MANY).build_and_execute(|| {
		let (channel, member) = settled_many();
		first_passes(&[]);
		let (sample, friend, honest) = doubled_with_two_seconds();
		run_to_block(2 * VERDICT_PERIOD);
		assert_ok!(report(friend, super::disputes::unavailable_report(0, sample)));
		// Once.
		assert_eq!(
			report(friend, super::disputes::unavailable_report(0, sample)),
			Err(Refused::Pool(InvalidTransaction::Stale.into()))
		);
		let seq = seq_of(sample_at(0, sample));
		assert_ok!(report(honest, mismatch(0, sample, evidence(channel, member, RECEIPTS, seq))));
		let round = SecondRounds::<Test>::get(0).unwrap();
		assert!(round.is_unavailable(sample) && round.is_disputed(sample));
		assert_eq!(Disputes::<Test>::iter().count(), 2);
	});
}

/// A second validator that passed a doubled sample was served it: another second
/// validator's unavailable report on it is refused (it would be paid nothing, so its
/// rejection would cost it nothing), while a mismatch on it is still taken.
#[test]
fn no_second_unavailable_report_after_a_second_answer() {
	ExtBuilder::default().hosts(&MANY).build_and_execute(|| {
		let (channel, member) = settled_many();
		first_passes(&[]);
		let (sample, passer, other) = doubled_with_two_seconds();
		run_to_block(2 * VERDICT_PERIOD);
		assert_ok!(dispatch_duty_verdicts(passer, verdicts(0, 0, &[(0, sample, true)])));
		assert_eq!(
			report(other, super::disputes::unavailable_report(0, sample)),
			Err(Refused::Pool(InvalidTransaction::Stale.into()))
		);
		let seq = seq_of(sample_at(0, sample));
		assert_ok!(report(other, mismatch(0, sample, evidence(channel, member, RECEIPTS, seq))));
	});
}

/// A settlement closed before spec version 20 has its prune index (`ToPrune`), no round:
/// it is pruned through the index (nothing returned: its close returned the share), and
/// takes no second answer.
#[test]
fn a_settlement_closed_before_the_upgrade_is_pruned_by_its_index() {
	ExtBuilder::default().hosts(&MANY).build_and_execute(|| {
		let _ = settled_many();
		first_passes(&[]);
		let (sample, _, second) = doubled_with_validators();
		run_to_block(2 * VERDICT_PERIOD);
		// As the close before the upgrade left it.
		let round = SecondRounds::<Test>::take(0).unwrap();
		Channels::return_share(&round.executor, round.held);
		Channels::note_closed(round.epoch);
		crate::ToPrune::<Test>::insert(0, (round.prunes_at, round.snapshot));
		assert_eq!(
			dispatch_duty_verdicts(second, verdicts(0, 0, &[(0, sample, true)])),
			Err(Refused::Call(Error::<Test>::NotDoubled.into()))
		);
		let events = channel_events().len();
		run_to_block(3 * VERDICT_PERIOD);
		assert!(Settlements::<Test>::get(0).is_none() && crate::ToPrune::<Test>::get(0).is_none());
		assert!(!channel_events()[events..]
			.iter()
			.any(|event| matches!(event, Event::SecondRoundEnded { .. })));
		assert_eq!(pot(), 0);
	});
}
