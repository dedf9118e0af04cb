//! Contradicted passes (the rest of amendment 6, `forfeits.rs`): a pass of a sample whose
//! receipt a jury invalidates forfeits its validator's pay for the period.

use super::{
	disputes::{evidence, mismatch, report, sample_at, seq_of, vote},
	seconds::{
		doubled_with_two_seconds, doubled_with_validators, firsts, seconds, settled_many, MANY,
		RECEIPTS,
	},
	verdicts::{submit, verdicts},
	*,
};
use crate::{Contradictions, Disputes, Error, Event, PeriodPays};
use gonka_primitives::{
	channel::{FailReason, ReceiptVerdicts},
	duty::Duty,
};
use polkadot_sdk::{
	frame_support::assert_ok,
	sp_runtime::transaction_validity::{InvalidTransaction, TransactionValidityError},
};

/// Validator `i`'s signature of `batch`.
fn signed(i: u8, batch: &ReceiptVerdicts) -> polkadot_sdk::sp_core::sr25519::Signature {
	batch.sign(&Poc::genesis_hash(), &account(i), &worker(i))
}

/// The call showing validator `i`'s `batch` (signed by `signer`) on dispute `dispute`.
fn show_call(dispute: u64, i: u8, batch: ReceiptVerdicts, signer: u8) -> crate::Call<Test> {
	let signature = signed(signer, &batch);
	crate::Call::show_pass { dispute, validator: account(i), verdicts: batch, signature }
}

/// Shows validator `i`'s `batch` on dispute `dispute`, through the pool and dispatch.
fn show(dispute: u64, i: u8, batch: ReceiptVerdicts) -> Result<(), Refused> {
	run_duty(show_call(dispute, i, batch, i))
}

/// Each sample of settlement 0 passed by the first host drawn for it, one batch a
/// validator, as sent (anchored to the block before the current one). Returns the batches.
fn first_batches() -> std::collections::BTreeMap<u8, ReceiptVerdicts> {
	let mut entries: std::collections::BTreeMap<u8, Vec<(u64, u32, bool)>> = Default::default();
	for sample in 0..RECEIPTS {
		if let Some(first) = firsts(sample).first() {
			entries.entry(*first).or_default().push((0, sample, true));
		}
	}
	entries
		.into_iter()
		.map(|(validator, entries)| {
			let batch = verdicts(0, 0, &entries);
			assert_ok!(submit(validator, batch.clone()));
			(validator, batch)
		})
		.collect()
}

/// Every juror of dispute `dispute` votes, `invalid` or not.
fn jury_votes(dispute: u64, invalid: bool) {
	let record = Disputes::<Test>::get(dispute).expect("the dispute is open");
	for juror in MANY {
		if Channels::sits_on(dispute, &record, &account(juror)).is_some() {
			assert_ok!(vote(juror, dispute, invalid));
		}
	}
}

/// A channel settled as `settled_many` does, its samples passed first (`first_batches`),
/// its window closed, and a doubled sample with a first and a second validator failed by
/// the second (dispute 0). Returns the sample, the first validator and its batch, and the
/// second validator.
fn contradicted() -> (u32, u8, ReceiptVerdicts, u8) {
	let (channel, member) = settled_many();
	let batches = first_batches();
	let (sample, first, second) = doubled_with_validators();
	run_to_block(2 * VERDICT_PERIOD);
	let seq = seq_of(sample_at(0, sample));
	assert_ok!(report(second, mismatch(0, sample, evidence(channel, member, RECEIPTS, seq))));
	(sample, first, batches[&first].clone(), second)
}

/// The attack the rest of amendment 6 answers: a rubber stamp that passes its samples
/// unchecked is paid for every pass, and a second validator's failure alone costs it
/// nothing. Shown in the chain's blocks, its signed pass of the invalid receipt forfeits
/// its pay for the period when the jury invalidates the receipt.
#[test]
fn a_pass_the_jury_contradicts_forfeits_its_validators_pay_for_the_period() {
	ExtBuilder::default().hosts(&MANY).build_and_execute(|| {
		let (_, first, batch, _) = contradicted();
		let record = crate::Settlements::<Test>::get(0).unwrap();
		let pay = Channels::answer_pay(record.share, RECEIPTS);
		let passes = batch.entries.len() as u128;
		let period_pay = PeriodPays::<Test>::get(0, account(first)).expect("its pay is noted");
		assert_eq!(period_pay.paid, pay * passes, "its pay for the period's answers");
		assert!(Contradictions::<Test>::get(0).is_some_and(|shown| shown.passers.is_empty()));
		assert_ok!(show(0, first, batch.clone()));
		assert!(channel_events().contains(&Event::PassShown {
			dispute: 0,
			validator: account(first),
			forfeit: pay * passes,
		}));
		// Shown once.
		assert_eq!(show(0, first, batch), Err(Refused::Pool(InvalidTransaction::Stale.into())));
		run_to_block(2 * VERDICT_PERIOD + 1);
		jury_votes(0, true);
		assert_eq!(fined(&account(first)), 0);
		run_to_block(2 * VERDICT_PERIOD + JURY_WINDOW + 1);
		assert!(Disputes::<Test>::get(0).is_none() && Contradictions::<Test>::get(0).is_none());
		assert_eq!(fined(&account(first)), pay * passes);
		assert!(channel_events().contains(&Event::PassForfeited {
			dispute: 0,
			validator: account(first),
			fine: pay * passes,
		}));
	});
}

#[test]
fn a_pass_the_jury_upholds_forfeits_nothing() {
	ExtBuilder::default().hosts(&MANY).build_and_execute(|| {
		let (_, first, batch, _) = contradicted();
		assert_ok!(show(0, first, batch));
		run_to_block(2 * VERDICT_PERIOD + 1);
		jury_votes(0, false);
		run_to_block(2 * VERDICT_PERIOD + JURY_WINDOW + 1);
		assert!(Contradictions::<Test>::get(0).is_none());
		assert_eq!(fined(&account(first)), 0);
		assert!(!channel_events().iter().any(|event| matches!(event, Event::PassForfeited { .. })));
	});
}

/// A second validator's pass is contradicted as a first one's is: an executor's friend drawn
/// second that passes the sample first, before an honest second validator fails it.
#[test]
fn a_second_validators_pass_is_contradicted_too() {
	ExtBuilder::default().hosts(&MANY).build_and_execute(|| {
		let (channel, member) = settled_many();
		let _ = first_batches();
		let (sample, friend, honest) = doubled_with_two_seconds();
		run_to_block(2 * VERDICT_PERIOD);
		let batch = verdicts(0, 0, &[(0, sample, true)]);
		assert_ok!(submit(friend, batch.clone()));
		let seq = seq_of(sample_at(0, sample));
		assert_ok!(report(honest, mismatch(0, sample, evidence(channel, member, RECEIPTS, seq))));
		let forfeit = PeriodPays::<Test>::get(0, account(friend)).unwrap().paid;
		assert!(forfeit > 0);
		assert!(!firsts(sample).contains(&friend), "drawn second, not first");
		assert_ok!(show(0, friend, batch));
		run_to_block(2 * VERDICT_PERIOD + 1);
		jury_votes(0, true);
		run_to_block(2 * VERDICT_PERIOD + JURY_WINDOW + 1);
		assert_eq!(fined(&account(friend)), forfeit);
	});
}

/// Nobody is shown to have passed what it did not: the batch must be the validator's,
/// signed, of the settlement's period, anchored to this chain, passing the disputed sample,
/// by a validator the hash rule drew for it and that was paid for the period; and only a
/// validator's mismatch report contradicts passes.
#[test]
fn only_a_signed_pass_of_the_disputed_sample_by_a_validator_drawn_for_it_is_shown() {
	ExtBuilder::default().hosts(&MANY).build_and_execute(|| {
		let (sample, first, batch, second) = contradicted();
		let refused = |error: Error<Test>| Err(Refused::Call(error.into()));
		// Signed by another key.
		assert_eq!(
			run_duty(show_call(0, first, batch.clone(), second)),
			Err(Refused::Pool(TransactionValidityError::Invalid(InvalidTransaction::BadProof)))
		);
		// A batch that does not pass the sample (another of its samples, or a fail).
		let others: Vec<_> = batch
			.entries
			.iter()
			.filter(|entry| entry.sample != sample)
			.map(|entry| (entry.settlement, entry.sample, true))
			.collect();
		let without = ReceiptVerdicts { entries: verdicts(0, 0, &others).entries, ..batch.clone() };
		assert_eq!(
			dispatch_duty(show_call(0, first, without, first)),
			refused(Error::PassNotInBatch)
		);
		let failing = verdicts(0, 0, &[(0, sample, false)]);
		let failing = ReceiptVerdicts { anchor: batch.anchor, ..failing };
		assert_eq!(
			dispatch_duty(show_call(0, first, failing, first)),
			refused(Error::PassNotInBatch)
		);
		// Of another period.
		let later = ReceiptVerdicts { period: 1, ..batch.clone() };
		assert_eq!(dispatch_duty(show_call(0, first, later, first)), refused(Error::WrongPeriod));
		// Anchored to a block this chain does not have (signed on another fork, where the
		// settlement's id may be another settlement).
		let mut forked = batch.clone();
		forked.anchor.hash = gonka_primitives::H256::repeat_byte(0xf0);
		assert_eq!(
			dispatch_duty(show_call(0, first, forked, first)),
			refused(Error::AnchorNotOnChain)
		);
		// A host the hash rule did not draw for the sample, that signed a pass of it.
		let record = crate::Settlements::<Test>::get(0).unwrap();
		let stranger = MANY
			.into_iter()
			.find(|i| {
				account(*i) != record.executor
					&& !firsts(sample).contains(i)
					&& !seconds(sample).contains(i)
			})
			.expect("a host drawn neither first nor second");
		let pass = ReceiptVerdicts {
			entries: verdicts(0, 0, &[(0, sample, true)]).entries,
			..batch.clone()
		};
		assert_eq!(
			dispatch_duty(show_call(0, stranger, pass.clone(), stranger)),
			refused(Error::NotSampled)
		);
		// The second validator drawn for it (it failed it) signed a pass too: it was paid
		// for the period, so its pass would forfeit; one with no pay forfeits nothing.
		PeriodPays::<Test>::remove(0, account(second));
		assert_eq!(
			dispatch_duty(show_call(0, second, pass, second)),
			refused(Error::NothingToForfeit)
		);
		// No other dispute contradicts.
		assert_eq!(
			dispatch_duty(show_call(1, first, batch.clone(), first)),
			refused(Error::NoContradiction)
		);
		assert_ok!(show(0, first, batch));
	});
}

/// An unavailable report contradicts no pass: the first validator may have had the payload.
#[test]
fn an_unavailable_report_contradicts_no_pass() {
	ExtBuilder::default().hosts(&MANY).build_and_execute(|| {
		let _ = settled_many();
		let batches = first_batches();
		let (sample, first, second) = doubled_with_validators();
		run_to_block(2 * VERDICT_PERIOD);
		let unavailable = gonka_primitives::channel::FailureReport {
			settlement: 0,
			anchor: anchor(),
			sample,
			reason: FailReason::Unavailable,
			evidence: None,
		};
		assert_ok!(report(second, unavailable));
		assert!(Disputes::<Test>::get(0).is_some() && Contradictions::<Test>::get(0).is_none());
		assert_eq!(
			dispatch_duty(show_call(0, first, batches[&first].clone(), first)),
			Err(Refused::Call(Error::<Test>::NoContradiction.into()))
		);
	});
}

/// A period's pays are kept while its disputes may still be shown passes, and cleared with
/// the marks of the period `PAYS_KEPT` later.
#[test]
fn a_periods_pays_are_cleared_with_the_marks_of_the_period_two_later() {
	ExtBuilder::default().hosts(&MANY).build_and_execute(|| {
		let (_, first, _, _) = contradicted();
		assert!(PeriodPays::<Test>::get(0, account(first)).is_some());
		// The marks of period 2 are cleared from period 5 on.
		run_to_block(5 * VERDICT_PERIOD - 1);
		assert!(PeriodPays::<Test>::get(0, account(first)).is_some());
		run_to_block(5 * VERDICT_PERIOD + 1);
		assert_eq!(PeriodPays::<Test>::iter_prefix(0).count(), 0);
	});
}

/// Gives host `i` the worker key `key` (`pallet-poc`'s `update_host`).
fn rotate(i: u8, key: &polkadot_sdk::sp_core::sr25519::Pair) {
	use polkadot_sdk::sp_core::Pair as _;
	let message = gonka_primitives::duty::key_ownership_message(&Poc::genesis_hash(), &account(i));
	assert_ok!(Poc::update_host(
		RuntimeOrigin::signed(account(i)),
		Some((key.public(), key.sign(&message))),
		None,
		None
	));
}

/// The attack: a rubber stamp changes its worker key after sending its batches, so that
/// its signed passes no longer check against the key it holds, and nothing can be shown.
/// The keys that signed a period's batches are kept with its pay: its pass is still shown.
#[test]
fn a_validator_that_changes_its_worker_key_still_has_its_passes_shown() {
	use polkadot_sdk::sp_core::Pair as _;
	ExtBuilder::default().hosts(&MANY).build_and_execute(|| {
		let (_, first, batch, _) = contradicted();
		let fresh = polkadot_sdk::sp_core::sr25519::Pair::from_string("//fresh", None).unwrap();
		rotate(first, &fresh);
		// The batch as sent, signed with the old key: shown.
		assert_ok!(show(0, first, batch));
	});
}

/// A validator signs a period's batches with at most `MAX_PERIOD_KEYS` keys: another key's
/// batch of the period is refused, so every pass it was paid for can be checked.
#[test]
fn a_periods_batches_are_signed_with_at_most_two_keys() {
	use polkadot_sdk::sp_core::Pair as _;
	ExtBuilder::default().hosts(&MANY).build_and_execute(|| {
		let _ = settled_many();
		let mut samples: std::collections::BTreeMap<u8, Vec<u32>> = Default::default();
		for sample in 0..RECEIPTS {
			if let Some(first) = firsts(sample).first() {
				samples.entry(*first).or_default().push(sample);
			}
		}
		let (validator, mine) =
			samples.into_iter().find(|(_, mine)| mine.len() >= 3).expect("a busy validator");
		let batch = |part: u8, sample: u32| verdicts(0, part, &[(0, sample, true)]);
		assert_ok!(submit(validator, batch(0, mine[0])));
		let second = polkadot_sdk::sp_core::sr25519::Pair::from_string("//second", None).unwrap();
		rotate(validator, &second);
		let signed_with = |key: &polkadot_sdk::sp_core::sr25519::Pair, part: u8, sample: u32| {
			let verdicts = batch(part, sample);
			let signature = verdicts.sign(&Poc::genesis_hash(), &account(validator), key);
			crate::Call::submit_verdicts { validator: account(validator), verdicts, signature }
		};
		assert_ok!(run_duty(signed_with(&second, 1, mine[1])));
		let third = polkadot_sdk::sp_core::sr25519::Pair::from_string("//third", None).unwrap();
		rotate(validator, &third);
		assert_eq!(
			dispatch_duty(signed_with(&third, 2, mine[2])),
			Err(Refused::Call(Error::<Test>::TooManyKeys.into()))
		);
		let pay = PeriodPays::<Test>::get(0, account(validator)).unwrap();
		assert_eq!(pay.keys.to_vec(), vec![worker(validator).public(), second.public()]);
	});
}

/// A period's pay is forfeited once: a second contradicted pass of the same period fines
/// nothing more (so an executor that gets an honest passer's receipts invalidated one by
/// one takes its pay once, and pays a bounty and an invalidation step each time).
#[test]
fn a_periods_pay_is_forfeited_once() {
	ExtBuilder::default().hosts(&MANY).build_and_execute(|| {
		let (channel, member) = settled_many();
		let batches = first_batches();
		// Two doubled samples the same validator passed first, each with a second validator.
		let mut by_first: std::collections::BTreeMap<u8, Vec<(u32, u8)>> = Default::default();
		for sample in super::seconds::doubled() {
			if let (Some(first), Some(second)) =
				(firsts(sample).first().copied(), seconds(sample).first().copied())
			{
				by_first.entry(first).or_default().push((sample, second));
			}
		}
		let (first, caught) = by_first
			.into_iter()
			.find(|(_, caught)| caught.len() >= 2)
			.expect("a validator with two doubled samples");
		run_to_block(2 * VERDICT_PERIOD);
		for (sample, second) in &caught[..2] {
			let seq = seq_of(sample_at(0, *sample));
			assert_ok!(report(
				*second,
				mismatch(0, *sample, evidence(channel, member, RECEIPTS, seq))
			));
		}
		let pay = PeriodPays::<Test>::get(0, account(first)).unwrap().paid;
		for dispute in [0, 1] {
			assert_ok!(show(dispute, first, batches[&first].clone()));
		}
		run_to_block(2 * VERDICT_PERIOD + 1);
		jury_votes(0, true);
		jury_votes(1, true);
		run_to_block(2 * VERDICT_PERIOD + JURY_WINDOW + 1);
		assert_eq!(fined(&account(first)), pay);
		let fines: Vec<u128> = channel_events()
			.into_iter()
			.filter_map(|event| match event {
				Event::PassForfeited { fine, .. } => Some(fine),
				_ => None,
			})
			.collect();
		assert_eq!(fines, vec![pay, 0]);
		assert_eq!(PeriodPays::<Test>::get(0, account(first)).unwrap().forfeited, pay);
	});
}

/// Passers with little pay shown first cannot keep a rubber stamp out: when `MAX_PASSERS`
/// are shown, a passer that forfeits more takes the place of the one that forfeits least.
#[test]
fn a_passer_that_forfeits_more_takes_the_place_of_the_least() {
	ExtBuilder::default().hosts(&MANY).build_and_execute(|| {
		let (_, first, batch, _) = contradicted();
		let forfeit = PeriodPays::<Test>::get(0, account(first)).unwrap().paid;
		let fillers: Vec<crate::Passer<gonka_primitives::HostId>> = (0..crate::MAX_PASSERS)
			.map(|i| crate::Passer { validator: account(30 + i as u8), forfeit: 1, epoch: 0 })
			.collect();
		Contradictions::<Test>::mutate(0, |shown| {
			shown.as_mut().unwrap().passers =
				polkadot_sdk::sp_runtime::BoundedVec::truncate_from(fillers);
		});
		assert_ok!(show(0, first, batch));
		let passers = Contradictions::<Test>::get(0).unwrap().passers;
		assert_eq!(passers.len() as u32, crate::MAX_PASSERS);
		assert!(passers.iter().any(|p| p.validator == account(first) && p.forfeit == forfeit));
	});
}
