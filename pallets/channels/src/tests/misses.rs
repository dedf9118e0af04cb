//! Validators that answered nothing (`misses.rs`): shown in the period after the window's
//! close, once a period, never once they answered anything of it; the records pruned and
//! the marks cleared after.

use super::{
	disputes::{report, unavailable_report},
	settlement::{drawn, refused, settle, settlement, voucher},
	verdicts::{samples_of, settle_one, submit, validators_of, verdicts, HOSTS},
	*,
};
use crate::{
	Error, Event, NextMarksToClear, NextToPrune, PeriodMark, PeriodMarks, SecondRounds,
	SettlementModels, Settlements,
};
use gonka_primitives::{
	channel::{MissedSamples, MAX_MISSES},
	duty::Duty,
};
use polkadot_sdk::{
	frame_support::{assert_ok, BoundedVec},
	sp_runtime::transaction_validity::InvalidTransaction,
};

/// A channel of one slot whose member settled `receipts` vouchered receipts in block 2
/// (verdict period 0; a sample each, at the mock's target of one). Returns the member and
/// the settlement.
fn settled_with(receipts: u32) -> (u8, u64) {
	let (channel, member) = drawn(1, 8_000);
	assert_ok!(settle(
		member,
		settlement(channel, Some(voucher(channel, member, receipts)), vec![])
	));
	(member, 0)
}

/// A channel of one slot whose member settled 300 vouchered receipts in block 2
/// (settlement 0, each validator drawn for more than `MAX_MISSES` of its samples); returns
/// the member.
fn settled_at_length() -> u8 {
	use polkadot_sdk::frame_support::traits::fungible::Mutate;
	let _ = <Balances as Mutate<_>>::set_balance(&account(20), 100_000);
	let (channel, member) = drawn(1, 50_000);
	assert_ok!(settle(member, settlement(channel, Some(voucher(channel, member, 300)), vec![])));
	member
}

/// The samples of settlement `id` the hash rule draws host `i` for, in order.
fn drawn_for(id: u64, i: u8) -> Vec<(u64, u32)> {
	(0..samples_of(id))
		.filter(|sample| validators_of(id, *sample).contains(&i))
		.map(|sample| (id, sample))
		.collect()
}

/// The validators of settlement `id` (never its executor `member`) with at least `least`
/// samples of it, each with them.
fn validators_with(id: u64, member: u8, least: usize) -> Vec<(u8, Vec<(u64, u32)>)> {
	HOSTS
		.into_iter()
		.filter(|i| *i != member)
		.map(|i| (i, drawn_for(id, i)))
		.filter(|(_, samples)| samples.len() >= least)
		.collect()
}

/// One of `samples` (settlement `id`'s, drawn for `validator`) the hash rule also draws
/// another validator for, and that one.
fn shared_sample(id: u64, validator: u8, samples: &[(u64, u32)]) -> (u32, u8) {
	samples
		.iter()
		.find_map(|&(_, sample)| {
			validators_of(id, sample)
				.into_iter()
				.find(|v| *v != validator)
				.map(|other| (sample, other))
		})
		.expect("a sample drawn for two validators")
}

fn missed(period: u32, validator: u8, samples: &[(u64, u32)]) -> MissedSamples {
	MissedSamples {
		period,
		validator: account(validator),
		samples: BoundedVec::truncate_from(samples.to_vec()),
	}
}

fn missed_call(reporter: u8, missed: MissedSamples) -> crate::Call<Test> {
	let signature = missed.sign(&Poc::genesis_hash(), &account(reporter), &worker(reporter));
	crate::Call::report_missed_samples { reporter: account(reporter), missed, signature }
}

/// Host `reporter`'s report, through the pool and dispatch.
fn report_missed(reporter: u8, missed: MissedSamples) -> Result<(), Refused> {
	run_duty(missed_call(reporter, missed))
}

/// The rule: a validator that answered none of a period's samples is shown in the period
/// after its window (each sample shown a missed duty), and the record is pruned, the
/// marks cleared, when that period ends.
#[test]
fn a_validator_that_answered_nothing_of_a_period_is_shown_missed_in_the_period_after_its_window() {
	ExtBuilder::default().hosts(&HOSTS).build_and_execute(|| {
		let (member, id) = settled_with(30);
		run_to_block(VERDICT_PERIOD);
		let (lazy, samples) = validators_with(id, member, 2).remove(0);
		// Period 0's window closes when period 1 ends; the record stays, its snapshot
		// pinned, for period 2.
		run_to_block(2 * VERDICT_PERIOD);
		let record = Settlements::<Test>::get(id).expect("kept for its report period");
		let round = SecondRounds::<Test>::get(id).expect("its round");
		assert_eq!((round.prunes_at, round.snapshot), (3 * VERDICT_PERIOD, record.snapshot));
		assert_eq!(SettlementModels::<Test>::get(id), Some((1, Some(0))));
		let shown = &samples[..samples.len().min(MAX_MISSES as usize)];
		// Any host shows it: the executor's own worker, here.
		assert_ok!(report_missed(member, missed(0, lazy, shown)));
		assert_eq!(duties(&account(lazy)), (0, shown.len() as u32));
		assert!(channel_events().contains(&Event::SamplesMissed {
			period: 0,
			validator: account(lazy),
			reporter: account(member),
			samples: shown.len() as u32,
		}));
		assert_eq!(
			PeriodMarks::<Test>::get(0, account(lazy)),
			Some(PeriodMark::Reported(BoundedVec::truncate_from(shown.to_vec())))
		);
		// Pruned when period 2 ends, and the period's marks cleared.
		run_to_block(3 * VERDICT_PERIOD);
		assert!(!Settlements::<Test>::contains_key(id));
		assert!(!SettlementModels::<Test>::contains_key(id));
		assert!(!SecondRounds::<Test>::contains_key(id));
		assert_eq!(NextToPrune::<Test>::get(), 1);
		assert_eq!(PeriodMarks::<Test>::iter().count(), 0);
		assert_eq!(NextMarksToClear::<Test>::get(), 1);
	});
}

/// The attack: a developer that is its own executor floods a validator with more samples
/// than it can answer and has the rest shown missed (the downtime test would withhold its
/// rewards and slash it). A validator that answered anything of the period (a verdict, a
/// failure report) is not shown missed for it: the unanswered samples cost it their pay,
/// no more.
#[test]
fn a_flooded_validator_that_answers_anything_of_the_period_is_not_shown_missed() {
	ExtBuilder::default().hosts(&HOSTS).build_and_execute(|| {
		let (member, id) = settled_with(30);
		run_to_block(VERDICT_PERIOD);
		let validators = validators_with(id, member, 2);
		assert_eq!(validators.len(), 2, "both other hosts validate");
		// One answers a single sample with a verdict, the other reports one failed.
		let (verdict, by_verdict) = (validators[0].1[0], validators[0].0);
		assert_ok!(submit(by_verdict, verdicts(0, 0, &[(id, verdict.1, true)])));
		assert_eq!(duties(&account(by_verdict)), (1, 0));
		let (failed, by_report) = (validators[1].1[0], validators[1].0);
		assert_ok!(report(by_report, unavailable_report(id, failed.1)));
		assert_eq!(duties(&account(by_report)), (1, 0));
		run_to_block(2 * VERDICT_PERIOD);
		for (validator, samples) in &validators {
			let rest: Vec<_> = samples[1..].iter().copied().take(MAX_MISSES as usize).collect();
			assert_eq!(
				report_missed(member, missed(0, *validator, &rest)),
				Err(Refused::Pool(InvalidTransaction::Stale.into()))
			);
			assert_eq!(
				dispatch_duty(missed_call(member, missed(0, *validator, &rest))),
				Err(Refused::Call(Error::<Test>::ValidatorAnswered.into()))
			);
			assert_eq!(duties(&account(*validator)).1, 0);
		}
	});
}

/// Only a true report passes: in the period after the window, of samples of the period's
/// settlements that the hash rule drew the validator for and nobody answered, in order,
/// signed by the reporter's worker key; once a validator and period.
#[test]
fn a_report_shows_true_misses_only_once_a_period_after_the_window() {
	ExtBuilder::default().hosts(&HOSTS).build_and_execute(|| {
		// A second channel, settled in period 1: its window is open in period 2.
		let later = open(21, terms(1), 8_000);
		let (member, id) = settled_with(30);
		run_to_block(VERDICT_PERIOD);
		let later_member = HOSTS
			.into_iter()
			.find(|i| crate::Committees::<Test>::get(later).unwrap().contains(&account(*i)))
			.unwrap();
		assert_ok!(settle(
			later_member,
			settlement(later, Some(voucher(later, later_member, 30)), vec![])
		));
		let (lazy, samples) = validators_with(id, member, 2).remove(0);
		// Another validator answers a sample the hash rule also drew `lazy` for.
		let (shared, other) = shared_sample(id, lazy, &samples);
		assert_ok!(submit(other, verdicts(0, 0, &[(id, shared, true)])));
		let unanswered: Vec<_> =
			samples.iter().copied().filter(|(_, sample)| *sample != shared).collect();
		// In the verdict window: too early (the pool refuses it as future: the reporter
		// signs and sends it again in period 2); a block refuses it.
		assert_eq!(
			report_missed(member, missed(0, lazy, &unanswered)),
			Err(Refused::Pool(InvalidTransaction::Future.into()))
		);
		assert_eq!(
			dispatch_duty(missed_call(member, missed(0, lazy, &unanswered))),
			Err(Refused::Call(Error::<Test>::NotReportWindow.into()))
		);
		run_to_block(2 * VERDICT_PERIOD);
		let bad = |samples: &[(u64, u32)], error: Error<Test>| {
			assert_eq!(report_missed(member, missed(0, lazy, samples)), Err(refused(error)));
		};
		bad(&[], Error::NoMisses);
		bad(&[unanswered[1], unanswered[0]], Error::MissesOutOfOrder);
		bad(&[unanswered[0], unanswered[0]], Error::MissesOutOfOrder);
		bad(&[(id, samples_of(id))], Error::NotASample);
		bad(&[(id, shared)], Error::AlreadyAnswered);
		// A settlement of period 1, whose window is open: not period 0's.
		let not_drawn = (0..samples_of(id))
			.find(|sample| !validators_of(id, *sample).contains(&lazy))
			.expect("a sample not drawn for it");
		bad(&[(id, not_drawn)], Error::NotSampled);
		bad(&[(1, 0)], Error::WrongPeriod);
		// A settlement that was never recorded (or is pruned).
		assert_eq!(
			report_missed(member, missed(0, lazy, &[(99, 0)])),
			Err(Refused::Pool(InvalidTransaction::Stale.into()))
		);
		assert_eq!(
			dispatch_duty(missed_call(member, missed(0, lazy, &[(99, 0)]))),
			Err(Refused::Call(Error::<Test>::UnknownSettlement.into()))
		);
		// Signed by another key.
		let mut forged = missed_call(member, missed(0, lazy, &unanswered));
		if let crate::Call::report_missed_samples { reporter, .. } = &mut forged {
			*reporter = account(other);
		}
		assert_eq!(run_duty(forged), Err(Refused::Pool(InvalidTransaction::BadProof.into())));
		assert_ok!(report_missed(member, missed(0, lazy, &unanswered)));
		assert_eq!(duties(&account(lazy)).1, unanswered.len() as u32);
		// Once: the pool drops a repeat, a block refuses it.
		run_to_block(2 * VERDICT_PERIOD + 1);
		assert_eq!(
			report_missed(other, missed(0, lazy, &unanswered[..1])),
			Err(Refused::Pool(InvalidTransaction::Stale.into()))
		);
		assert_eq!(
			dispatch_duty(missed_call(other, missed(0, lazy, &unanswered[..1]))),
			Err(Refused::Call(Error::<Test>::AlreadyReported.into()))
		);
		assert_eq!(duties(&account(lazy)).1, unanswered.len() as u32);
		// After the report period: stale.
		run_to_block(3 * VERDICT_PERIOD);
		assert_eq!(
			report_missed(member, missed(0, other, &[(id, shared)])),
			Err(Refused::Pool(InvalidTransaction::Stale.into()))
		);
	});
}

/// A host that did not serve the channel's model cannot replay its receipts: the hash rule
/// may draw it (validators are drawn by power), but it never misses such a sample. Serving
/// is the PoC commitment to the model behind the roster in force when the settlement was
/// recorded (the registered models for the genesis rosters): adding the model since adds no
/// duty (no honest host is convicted for samples it could not replay then), dropping it
/// since lifts none (a lazy one does not escape by changing its registration before the
/// report); nor does a host that is no longer registered miss.
#[test]
fn a_validator_that_did_not_serve_the_model_never_misses_its_samples() {
	ExtBuilder::default().hosts(&HOSTS).build_and_execute(|| {
		let (member, id) = settled_with(30);
		run_to_block(2 * VERDICT_PERIOD);
		let (lazy, samples) = validators_with(id, member, 1).remove(0);
		let serving = |models: Vec<u32>| {
			pallet_poc::Hosts::<Test>::mutate(account(lazy), |host| {
				host.as_mut().unwrap().models = BoundedVec::truncate_from(models)
			})
		};
		let refused_as = |error| {
			assert_eq!(report_missed(member, missed(0, lazy, &samples)), Err(refused(error)))
		};
		// The genesis roster: the registered models. It serves model 2 only; the channel's
		// is model 1.
		assert_eq!(SettlementModels::<Test>::get(id), Some((1, Some(0))));
		serving(vec![2]);
		refused_as(Error::NotServing);
		serving(vec![1, 2]);
		// A roster formed by epoch 1's PoC, to which it committed nothing for model 1: it
		// registered the model since, but could not replay it then.
		SettlementModels::<Test>::insert(id, (1, Some(1)));
		refused_as(Error::NotServing);
		pallet_poc::Commitments::<Test>::insert(
			(1, 1, account(lazy)),
			pallet_poc::Commitment { count: 1, root: Default::default(), submissions: 1 },
		);
		// A settlement with no model (recorded before storage version 3).
		SettlementModels::<Test>::remove(id);
		refused_as(Error::NotServing);
		SettlementModels::<Test>::insert(id, (1, Some(1)));
		// A host no longer registered.
		let host = pallet_poc::Hosts::<Test>::take(account(lazy)).unwrap();
		refused_as(Error::NotServing);
		pallet_poc::Hosts::<Test>::insert(account(lazy), host);
		// A model with no roster: nobody served it.
		SettlementModels::<Test>::insert(id, (1, None::<u32>));
		refused_as(Error::NotServing);
		SettlementModels::<Test>::insert(id, (1, Some(1)));
		// A roster whose epoch's commitments left PoC's retention window (its formations
		// carried over since): the registered models stand in.
		let at = |index| {
			pallet_poc::CurrentEpoch::<Test>::mutate(|epoch| epoch.as_mut().unwrap().index = index)
		};
		at(1 + 2 + 1);
		serving(vec![2]);
		refused_as(Error::NotServing);
		serving(vec![1, 2]);
		let validity = {
			use polkadot_sdk::{
				frame_support::traits::Authorize,
				sp_runtime::transaction_validity::TransactionSource,
			};
			missed_call(member, missed(0, lazy, &samples))
				.authorize(TransactionSource::External)
				.expect("a duty call")
		};
		assert!(validity.is_ok(), "{validity:?}");
		at(0);
		// Committed to the model, it dropped it from its registration since: still its duty.
		serving(vec![2]);
		assert_ok!(report_missed(member, missed(0, lazy, &samples)));
		// (PoC keeps no commitment of an epoch to come.)
		pallet_poc::Commitments::<Test>::remove((1, 1, account(lazy)));
	});
}

/// A validator's answers are duties done, at most `MAX_MISSES` a period (as many as a
/// period's misses may be shown): a validator that blindly passes thousands of channel
/// samples cannot dilute its misses elsewhere (the on-chain path's) without bound.
#[test]
fn a_periods_answers_count_as_at_most_max_misses_duties_done() {
	ExtBuilder::default().hosts(&HOSTS).build_and_execute(|| {
		let member = settled_at_length();
		run_to_block(VERDICT_PERIOD);
		let most = MAX_MISSES as usize;
		let (validator, samples) = validators_with(0, member, most + 2).remove(0);
		let entries = |range: core::ops::Range<usize>| -> Vec<(u64, u32, bool)> {
			samples[range].iter().map(|&(id, sample)| (id, sample, true)).collect()
		};
		assert_ok!(submit(validator, verdicts(0, 0, &entries(0..most - 1))));
		assert_eq!(duties(&account(validator)), (MAX_MISSES - 1, 0));
		assert_ok!(submit(validator, verdicts(0, 1, &entries(most - 1..most + 2))));
		assert_eq!(duties(&account(validator)), (MAX_MISSES, 0));
		assert_eq!(
			PeriodMarks::<Test>::get(0, account(validator)),
			Some(PeriodMark::Answered(MAX_MISSES))
		);
	});
}

/// The attack: a lazy validator (or a friend's worker) sends a report of one of its own
/// samples first, to be shown one miss instead of `MAX_MISSES`. A later report shows other
/// samples, up to `MAX_MISSES` in all a period, and of two reports of a validator the pool
/// keeps the larger.
#[test]
fn a_report_of_one_sample_sent_first_does_not_cap_what_a_validator_is_shown() {
	use polkadot_sdk::{
		frame_support::traits::Authorize, sp_runtime::transaction_validity::TransactionSource,
	};
	ExtBuilder::default().hosts(&HOSTS).build_and_execute(|| {
		let member = settled_at_length();
		run_to_block(2 * VERDICT_PERIOD);
		let most = MAX_MISSES as usize;
		let (lazy, samples) = validators_with(0, member, most + 1).remove(0);
		let priority = |missed| {
			missed_call(member, missed)
				.authorize(TransactionSource::External)
				.expect("a duty call")
				.expect("a valid report")
				.0
				.priority
		};
		assert!(
			priority(missed(0, lazy, &samples[..2])) > priority(missed(0, lazy, &samples[..1]))
		);
		// The lazy validator shows one of its own.
		assert_ok!(report_missed(lazy, missed(0, lazy, &samples[..1])));
		assert_eq!(duties(&account(lazy)).1, 1);
		// Another host shows others, up to `MAX_MISSES` in all.
		run_to_block(2 * VERDICT_PERIOD + 1);
		assert_ok!(report_missed(member, missed(0, lazy, &samples[1..most])));
		assert_eq!(duties(&account(lazy)).1, MAX_MISSES);
		run_to_block(2 * VERDICT_PERIOD + 2);
		let over = missed(0, lazy, &samples[most..most + 1]);
		assert_eq!(
			report_missed(member, over.clone()),
			Err(Refused::Pool(InvalidTransaction::Stale.into()))
		);
		assert_eq!(
			dispatch_duty(missed_call(member, over)),
			Err(Refused::Call(Error::<Test>::TooManyMisses.into()))
		);
		assert_eq!(duties(&account(lazy)).1, MAX_MISSES);
	});
}

/// A block takes at most `MaxMissReportsPerBlock` reports; the next block takes the rest.
#[test]
fn a_block_takes_at_most_max_miss_reports() {
	ExtBuilder::default().hosts(&HOSTS).build_and_execute(|| {
		let (member, id) = settled_with(30);
		run_to_block(2 * VERDICT_PERIOD);
		let validators = validators_with(id, member, 1);
		assert_eq!(validators.len(), 2);
		assert_eq!(MAX_MISS_REPORTS, 1);
		let first = missed(0, validators[0].0, &validators[0].1);
		let second = missed(0, validators[1].0, &validators[1].1);
		assert_ok!(report_missed(member, first));
		assert_eq!(
			report_missed(member, second.clone()),
			Err(Refused::Pool(InvalidTransaction::ExhaustsResources.into()))
		);
		assert_eq!(
			dispatch_duty(missed_call(member, second.clone())),
			Err(Refused::Call(Error::<Test>::TooManyMissReports.into()))
		);
		run_to_block(2 * VERDICT_PERIOD + 1);
		assert_ok!(report_missed(member, second));
	});
}

/// A block prunes at most `MaxClosesPerBlock` closed records, oldest first, and only once
/// their report period ended; the power snapshot is pinned until then.
#[test]
fn a_block_prunes_at_most_max_closes_records_after_their_report_period() {
	ExtBuilder::default().hosts(&HOSTS).build_and_execute(|| {
		let channels: Vec<_> = (0..3).map(|_| open(20, terms(1), 500)).collect();
		for (block, channel) in [(2, &channels[0]), (2, &channels[1]), (3, &channels[2])] {
			run_to_block(block);
			assert_ok!(settle_one(channel));
		}
		run_to_block(2 * VERDICT_PERIOD + 1);
		assert_eq!(SecondRounds::<Test>::iter().count(), 3);
		// The closed records keep their snapshots pinned until their prune.
		let generation = Settlements::<Test>::get(0).unwrap().snapshot.generation;
		let pins = || pallet_poc::PowerGenerations::<Test>::get(generation).unwrap().pins;
		let pinned = pins();
		assert!(pinned >= 3);
		run_to_block(3 * VERDICT_PERIOD - 1);
		assert_eq!(NextToPrune::<Test>::get(), 0);
		run_to_block(3 * VERDICT_PERIOD);
		assert_eq!(NextToPrune::<Test>::get(), u64::from(MAX_CLOSES));
		assert!(Settlements::<Test>::contains_key(2));
		run_to_block(3 * VERDICT_PERIOD + 1);
		assert_eq!(NextToPrune::<Test>::get(), 3);
		assert_eq!(Settlements::<Test>::iter().count(), 0);
		// Each record's snapshot released at its prune, once.
		assert_eq!(pins(), pinned - 3);
	});
}

/// A batch whose samples others answered first answers nothing: a block may take it (the
/// pool would not), but it marks nobody answered, nor counts a duty done. Otherwise a lazy
/// validator's friend in a block author's seat would buy it a period's immunity.
#[test]
fn a_batch_that_answers_nothing_marks_nobody() {
	ExtBuilder::default().hosts(&HOSTS).build_and_execute(|| {
		let (member, id) = settled_with(30);
		run_to_block(VERDICT_PERIOD);
		let (lazy, samples) = validators_with(id, member, 2).remove(0);
		let (shared, other) = shared_sample(id, lazy, &samples);
		assert_ok!(submit(other, verdicts(0, 0, &[(id, shared, true)])));
		assert_eq!(
			submit(lazy, verdicts(0, 0, &[(id, shared, true)])),
			Err(Refused::Pool(InvalidTransaction::Stale.into()))
		);
		let call = {
			let verdicts = verdicts(0, 0, &[(id, shared, true)]);
			let signature = verdicts.sign(&Poc::genesis_hash(), &account(lazy), &worker(lazy));
			crate::Call::submit_verdicts { validator: account(lazy), verdicts, signature }
		};
		assert_ok!(dispatch_duty(call));
		assert_eq!(PeriodMarks::<Test>::get(0, account(lazy)), None);
		assert_eq!(duties(&account(lazy)), (0, 0));
		run_to_block(2 * VERDICT_PERIOD);
		let rest: Vec<_> = samples.iter().copied().filter(|(_, s)| *s != shared).collect();
		assert_ok!(report_missed(member, missed(0, lazy, &rest)));
	});
}
