//! A developer's challenges of receipts (`challenges.rs`).

use super::{
	disputes::{evidence, mismatch, report, sample_at, sampled, samples_with_validators, seq_of},
	settlement::{drawn, refused, settle, settlement, voucher},
	*,
};
use crate::{
	ChallengeFees, DisputeOutcome, Disputes, Error, Event, HoldReason, NextDisputeToEnd,
	NextUnavailableToEnd, Settlements, UnavailableQueue,
};
use gonka_primitives::channel::{FailReason, ReceiptChallenge, ReceiptEvidence, JURY_SIZE};
use polkadot_sdk::{
	frame_support::{
		assert_noop, assert_ok,
		traits::fungible::{Inspect, InspectHold, Mutate},
	},
	sp_runtime::transaction_validity::InvalidTransaction,
};

/// What a vouchered receipt costs in these tests.
const COST: u128 = super::settlement::RECEIPT_COST;

/// Developer `who`'s challenge of `evidence` (a vouchered receipt) in settlement `id`.
fn challenge(
	who: u8,
	id: u64,
	evidence: ReceiptEvidence,
) -> polkadot_sdk::sp_runtime::DispatchResult {
	Channels::challenge_receipt(
		RuntimeOrigin::signed(account(who)),
		ReceiptChallenge { settlement: id, tail: None, evidence },
	)
}

/// What developer `who` holds for its challenges.
fn fees_held(who: u8) -> u128 {
	Balances::balance_on_hold(&RuntimeHoldReason::Channels(HoldReason::ChallengeFee), &account(who))
}

/// A channel of developer 20 of one slot whose member settled 6 vouchered receipts in
/// block 2 (settlement 0). Returns the channel and the member.
fn settled() -> (u64, u8) {
	let (channel, member) = drawn(1, 2_000);
	assert_ok!(settle(member, settlement(channel, Some(voucher(channel, member, 6)), vec![])));
	(channel, member)
}

/// Juror `i`'s vote on dispute `dispute` (a challenge names the receipt's leaf).
fn vote(i: u8, dispute: u64, invalid: bool) -> Result<(), Refused> {
	super::disputes::vote(i, dispute, invalid)
}

/// The attack a challenge answers: an executor whose bad receipt no sample fell on. The
/// developer challenges it; the jury invalidates it: the cost comes back from the
/// executor's pending work and the fee is returned.
#[test]
fn a_challenged_receipt_the_jury_invalidates_is_refunded_with_the_fee() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (channel, member) = settled();
		let free = Balances::balance(&account(20));
		assert_ok!(challenge(20, 0, evidence(channel, member, 6, 2)));
		let fee = CHALLENGE_FEE + u128::from(JURY_SIZE) * COST;
		assert_eq!(fees_held(20), fee);
		assert_eq!(ChallengeFees::<Test>::get(0), Some(fee));
		let record = Disputes::<Test>::get(0).unwrap();
		assert_eq!(
			(record.reason, record.reporter.clone(), record.sample, record.cost),
			(FailReason::Challenged, account(20), 2, COST)
		);
		assert!(channel_events().contains(&Event::DisputeOpened {
			dispute: 0,
			settlement: 0,
			sample: 2,
			reporter: account(20),
			reason: FailReason::Challenged,
			cost: COST,
		}));
		// The jury: the hosts but the executor (the developer is none).
		let jurors: Vec<u8> = [1u8, 2, 3].into_iter().filter(|i| *i != member).collect();
		run_to_block(3);
		assert_eq!(vote(member, 0, false), Err(refused(Error::NotAJuror)));
		for juror in &jurors {
			assert_ok!(vote(*juror, 0, true));
		}
		// The settlement's window closes first, and its record is pruned (its unpaid share
		// back to the executor).
		run_to_block(2 + UNAVAILABLE_WINDOW);
		assert!(Disputes::<Test>::get(0).is_some());
		let executor_work = credited(&account(member));
		run_to_block(2 + UNAVAILABLE_WINDOW + 1);
		assert!(Disputes::<Test>::get(0).is_none());
		assert_eq!(fees_held(20), 0);
		assert_eq!(ChallengeFees::<Test>::get(0), None);
		assert_eq!(Balances::balance(&account(20)), free + COST, "the fee back, the cost refunded");
		assert_eq!(credited(&account(member)), executor_work - COST);
		assert!(judged().contains(&(account(member), 0, 0, 1)));
		assert!(channel_events().contains(&Event::DisputeEnded {
			dispute: 0,
			outcome: DisputeOutcome::Invalidated,
			refund: COST,
			bounty: 0,
			fine: 0,
		}));
	});
}

/// A challenge the jury does not uphold (rejected, or no majority) pays its fee to the
/// pool, never to the executor, and is no step of the executor's test (a developer that
/// is its own executor gains nothing: no money, no pass).
#[test]
fn a_challenge_the_jury_does_not_uphold_pays_its_fee_to_the_pool() {
	for votes in [true, false] {
		ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
			let (channel, member) = settled();
			let (free, pool) = (Balances::balance(&account(20)), Balances::balance(&Pool::get()));
			assert_ok!(challenge(20, 0, evidence(channel, member, 6, 4)));
			let fee = CHALLENGE_FEE + u128::from(JURY_SIZE) * COST;
			run_to_block(3);
			if votes {
				for juror in [1u8, 2, 3].into_iter().filter(|i| *i != member) {
					assert_ok!(vote(juror, 0, false));
				}
			}
			run_to_block(2 + UNAVAILABLE_WINDOW);
			let executor_work = credited(&account(member));
			run_to_block(2 + UNAVAILABLE_WINDOW + 1);
			assert!(Disputes::<Test>::get(0).is_none());
			assert_eq!(fees_held(20), 0);
			assert_eq!(Balances::balance(&account(20)), free - fee);
			assert_eq!(Balances::balance(&Pool::get()), pool + fee);
			assert_eq!(credited(&account(member)), executor_work, "nothing taken");
			// No step of the executor's test: a challenge a developer lets fail buys no pass.
			assert!(!judged()
				.iter()
				.any(|(who, _, passes, _)| *who == account(member) && *passes > 0));
			assert!(channel_events().contains(&Event::DisputeEnded {
				dispute: 0,
				outcome: DisputeOutcome::Validated { rejected: votes },
				refund: 0,
				bounty: 0,
				fine: fee,
			}));
		});
	}
}

/// Only the channel's developer challenges, only a receipt the settlement added (an
/// earlier settlement's receipts are that one's), only while the settlement's record is
/// open, and only with the fee.
#[test]
fn a_developer_challenges_only_a_receipt_its_settlement_added_while_its_window_is_open() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (channel, member) = settled();
		assert_noop!(
			challenge(21, 0, evidence(channel, member, 6, 2)),
			Error::<Test>::NotDeveloper
		);
		assert_noop!(
			challenge(20, 7, evidence(channel, member, 6, 2)),
			Error::<Test>::UnknownSettlement
		);
		// A proof against another tree.
		assert_noop!(challenge(20, 0, evidence(channel, member, 7, 2)), Error::<Test>::BadEvidence);
		// A delta settlement (receipts 6 and 7): its receipts only.
		run_to_block(3);
		assert_ok!(settle(member, settlement(channel, Some(voucher(channel, member, 8)), vec![])));
		assert_eq!(Settlements::<Test>::get(1).unwrap().from, 6 * COST);
		assert_noop!(challenge(20, 1, evidence(channel, member, 8, 3)), Error::<Test>::BadEvidence);
		// A developer that cannot hold the fee.
		let held = Balances::balance(&account(20));
		let _ = <Balances as Mutate<_>>::set_balance(&account(20), CHALLENGE_FEE);
		assert_noop!(
			challenge(20, 1, evidence(channel, member, 8, 7)),
			Error::<Test>::CannotPayChallenge
		);
		let _ = <Balances as Mutate<_>>::set_balance(&account(20), held);
		assert_ok!(challenge(20, 1, evidence(channel, member, 8, 7)));
		// Settlement 0's window closes at the end of the period after its own: its record
		// is kept a period longer (to show its validators' misses), but challenged no more.
		run_to_block(2 * VERDICT_PERIOD);
		assert!(Settlements::<Test>::get(0).is_some());
		assert_noop!(
			challenge(20, 0, evidence(channel, member, 6, 2)),
			Error::<Test>::WindowClosed
		);
		run_to_block(3 * VERDICT_PERIOD);
		assert_noop!(
			challenge(20, 0, evidence(channel, member, 6, 2)),
			Error::<Test>::UnknownSettlement
		);
	});
}

/// Challenges take at most half of a block's disputes: developers never crowd the
/// validators' reports out.
#[test]
fn challenges_take_at_most_half_of_a_blocks_disputes() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (channel, member) = settled();
		run_to_block(VERDICT_PERIOD);
		assert_eq!(Channels::max_challenges_per_block(), MAX_DISPUTES / 2);
		for seq in 0..MAX_DISPUTES / 2 {
			assert_ok!(challenge(20, 0, evidence(channel, member, 6, seq)));
		}
		assert_noop!(
			challenge(20, 0, evidence(channel, member, 6, 5)),
			Error::<Test>::TooManyChallenges
		);
		// A validator's report still finds room.
		let (sample, reporter) = sampled(0, &[1, 2, 3]);
		let seq = seq_of(sample_at(0, sample));
		assert_ok!(report(reporter, mismatch(0, sample, evidence(channel, member, 6, seq))));
		assert_eq!(
			report(reporter, mismatch(0, sample, evidence(channel, member, 6, seq))),
			Err(Refused::Pool(InvalidTransaction::Stale.into()))
		);
		run_to_block(VERDICT_PERIOD + 1);
		assert_ok!(challenge(20, 0, evidence(channel, member, 6, 5)));
	});
}

/// A receipt is challenged once in a settlement (each invalidation would refund it again),
/// and a settlement at most `MAX_DISPUTED` times.
#[test]
fn a_receipt_is_disputed_once_and_a_settlement_at_most_max_disputed_times() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (channel, member) = settled();
		assert_ok!(challenge(20, 0, evidence(channel, member, 6, 2)));
		run_to_block(3);
		assert_noop!(
			challenge(20, 0, evidence(channel, member, 6, 2)),
			Error::<Test>::AlreadyDisputed
		);
		// Full: the other receipts' challenges taken (as if in earlier blocks).
		crate::Challenged::<Test>::insert(
			0,
			polkadot_sdk::sp_runtime::BoundedVec::truncate_from(
				(100..100 + crate::MAX_DISPUTED).collect::<Vec<_>>(),
			),
		);
		assert_noop!(
			challenge(20, 0, evidence(channel, member, 6, 3)),
			Error::<Test>::SettlementChallengesFull
		);
		crate::Challenged::<Test>::insert(
			0,
			polkadot_sdk::sp_runtime::BoundedVec::truncate_from(vec![2]),
		);
		assert_ok!(challenge(20, 0, evidence(channel, member, 6, 3)));
		assert_eq!(crate::Challenged::<Test>::get(0).to_vec(), vec![2, 3]);
		// Kept until the settlement is pruned (a second failure disputes them no more),
		// challenged no more once its window closes.
		run_to_block(2 * VERDICT_PERIOD);
		assert!(crate::Challenged::<Test>::contains_key(0));
		run_to_block(3 * VERDICT_PERIOD);
		assert!(!crate::Challenged::<Test>::contains_key(0));
	});
}

/// The attack: a developer that sees a validator's mismatch report (its receipt in the
/// event's evidence) challenges the same receipt, to be refunded twice when the juries
/// agree. A receipt a validator reported is disputed: it is challenged no more.
#[test]
fn a_developer_does_not_challenge_a_receipt_a_validator_disputed() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (channel, member) = settled();
		run_to_block(VERDICT_PERIOD);
		let (sample, reporter) = sampled(0, &[1, 2, 3]);
		let seq = seq_of(sample_at(0, sample));
		assert_ok!(report(reporter, mismatch(0, sample, evidence(channel, member, 6, seq))));
		assert_eq!(crate::Challenged::<Test>::get(0).to_vec(), vec![seq]);
		run_to_block(VERDICT_PERIOD + 1);
		assert_noop!(
			challenge(20, 0, evidence(channel, member, 6, seq)),
			Error::<Test>::AlreadyDisputed
		);
		assert_ok!(challenge(20, 0, evidence(channel, member, 6, (seq + 1) % 6)));
	});
}

/// The same attack the other way round: the developer challenges a receipt first, then a
/// validator whose sample fell on it reports it: two disputes would refund it twice. A
/// receipt the developer challenged is not disputed again by a validator's report.
#[test]
fn a_validator_does_not_dispute_a_receipt_the_developer_challenged() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (channel, member) = settled();
		run_to_block(VERDICT_PERIOD);
		let (sample, reporter) = sampled(0, &[1, 2, 3]);
		let seq = seq_of(sample_at(0, sample));
		assert_ok!(challenge(20, 0, evidence(channel, member, 6, seq)));
		run_to_block(VERDICT_PERIOD + 1);
		assert_eq!(
			report(reporter, mismatch(0, sample, evidence(channel, member, 6, seq))),
			Err(Refused::Pool(InvalidTransaction::Stale.into()))
		);
		assert_eq!(Disputes::<Test>::iter().count(), 1, "the challenge alone");
	});
}

/// A challenge nobody may judge (the executor holds all the power) is refused, not
/// charged: its fee would go to the pool without a jury.
#[test]
fn a_challenge_no_jury_may_sit_on_is_refused() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		let (channel, member) = drawn(1, 2_000);
		assert_eq!(member, 1);
		assert_ok!(settle(member, settlement(channel, Some(voucher(channel, member, 6)), vec![])));
		assert_noop!(challenge(20, 0, evidence(channel, member, 6, 2)), Error::<Test>::NoJury);
	});
}

/// The attack the long window answers: a developer challenges an honest executor's receipt
/// at a moment of its choosing, when the executor's endpoint is down (a restart, an
/// outage it watched for); its jurors vote invalid for a payload never served near the
/// window's end, so a jury of `JuryWindow` would convict an executor back a little later.
/// A challenge's jury votes for `UnavailableWindow`, as an unavailable payload's: votes
/// past `JuryWindow` count, it ends from the long windows' queue, and a mismatch opened
/// after it ends at its own window's end, unheld by the longer one.
#[test]
fn a_challenge_is_heard_for_the_long_window_so_an_executor_back_from_a_restart_serves_it() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (channel, member) = settled();
		assert_ok!(challenge(20, 0, evidence(channel, member, 6, 2)));
		assert_eq!(UnavailableQueue::<Test>::get(0), Some(0), "queued with the long windows");
		// A validator's mismatch on another receipt, in the period after the settlement's.
		run_to_block(VERDICT_PERIOD);
		let (sample, validator) = samples_with_validators(0, &[1, 2, 3])
			.into_iter()
			.find(|(sample, _)| seq_of(sample_at(0, *sample)) != 2)
			.expect("a sample of another receipt with a validator");
		let seq = seq_of(sample_at(0, sample));
		assert_ok!(report(validator, mismatch(0, sample, evidence(channel, member, 6, seq))));
		run_to_block(VERDICT_PERIOD + JURY_WINDOW + 1);
		assert!(Disputes::<Test>::get(1).is_none(), "the mismatch ended");
		assert_eq!(NextDisputeToEnd::<Test>::get(), 2, "the id cursor passed the challenge");
		assert!(Disputes::<Test>::get(0).is_some(), "the challenge's jury votes on");
		// The executor is back and serves its jurors, past `JuryWindow`: their votes count.
		for juror in [1u8, 2, 3].into_iter().filter(|i| *i != member) {
			assert_ok!(vote(juror, 0, false));
		}
		run_to_block(2 + UNAVAILABLE_WINDOW);
		assert!(Disputes::<Test>::get(0).is_some());
		run_to_block(2 + UNAVAILABLE_WINDOW + 1);
		assert!(Disputes::<Test>::get(0).is_none());
		assert_eq!(NextUnavailableToEnd::<Test>::get(), 1);
		assert!(channel_events().iter().any(|event| matches!(
			event,
			Event::DisputeEnded {
				dispute: 0,
				outcome: DisputeOutcome::Validated { rejected: true },
				..
			}
		)));
	});
}
