//! The refusal timeout and the expiry (`protocol.md`, "Inference" 1), and the bounded timer
//! work per block.

use super::*;
use polkadot_sdk::{
	frame_support::weights::Weight, sp_runtime::transaction_validity::InvalidTransaction,
};

#[test]
fn an_executor_that_does_not_finish_in_time_loses_the_request_with_a_miss() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		// Made at 1, drawn at 2: the executor's time is over at 5.
		let id = submit();
		let first = executor_of(id);
		run_to_block(4);
		assert_eq!(executor_of(id), first);
		run_to_block(5);
		let second = executor_of(id);
		assert_ne!(second, first);
		assert_eq!(Requests::<Test>::get(id).unwrap().attempt, 1);
		assert_eq!(Ledger::<Test>::get(0, account(first)).missed, 1);
		assert_eq!(Reputations::<Test>::get(account(first)).misses, 1);
		assert_eq!(Ledger::<Test>::get(0, account(second)).assigned, 1);
		assert!(events().contains(&Event::Missed { host: account(first), request: id, epoch: 0 }));
		assert!(events().contains(&Event::RequestReassigned {
			request: id,
			from: account(first),
			to: account(second),
			attempt: 1,
		}));
		// The old executor's result is refused; the new executor's is taken.
		assert_eq!(finish_as(first, result(id, 5)), Err(custom(Error::<Test>::NotExecutor)));
		assert_ok!(finish_as(second, result(id, 5)));
	});
}

#[test]
fn unfinished_requests_expire_and_are_refunded_but_for_their_timers_fees() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let id = submit();
		// Made at 1, drawn at 2, expiration 10: reassigned at 5 and 8; from 11 on it is
		// expired.
		run_to_block(10);
		assert_eq!(Requests::<Test>::get(id).unwrap().attempt, 2);
		// Two timers fired, each paying its fee from the deposit.
		assert_eq!(escrow_held(), ESCROW - 2 * TIMER_FEE);
		// At 11 it is expired, and refunded by the assignment timer that falls due then.
		run_to_block(11);
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Expired));
		let executor = executor_of(id);
		assert_eq!(finish_as(executor, result(id, 5)), Err(pool(InvalidTransaction::Stale)));
		assert_eq!(
			dispatch_duty(finish_call(executor, result(id, 5))),
			Err(call_error(Error::<Test>::NotAssigned))
		);
		assert_eq!(escrow_held(), 0);
		// The escrow comes back but for the three timers' fees (its whole timer deposit).
		assert_eq!(free(DEVELOPER), BALANCE - TIMER_DEPOSIT);
		assert!(events().contains(&Event::RequestClosed {
			request: id,
			outcome: Outcome::Expired,
			refund: ESCROW - TIMER_DEPOSIT
		}));
		// Three assignments, three misses (the last one's at the expiry).
		let missed: u32 = (1..=3).map(|i| Ledger::<Test>::get(0, account(i)).missed).sum();
		assert_eq!(missed, 3);
		assert_eq!(finish_as(executor, result(id, 5)), Err(pool(InvalidTransaction::Stale)));
	});
	// Refusal after 4 blocks: drawn at 2, reassigned at 6; at 10 a third host would have
	// one of its four blocks before the expiration (11), so the request expires there,
	// not reassigned: no host takes a miss for a window cut short.
	let params = InferenceParams { refusal_timeout: 4, ..test_params() };
	ExtBuilder::default().hosts(&[1, 2, 3]).params(params).build_and_execute(|| {
		let id = submit();
		run_to_block(9);
		assert_eq!(Requests::<Test>::get(id).unwrap().attempt, 1);
		run_to_block(10);
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Expired));
		assert_eq!(escrow_held(), 0);
		let missed: u32 = (1..=3).map(|i| Ledger::<Test>::get(0, account(i)).missed).sum();
		assert_eq!(missed, 2);
	});
}

#[test]
fn a_request_nobody_else_can_take_expires_at_its_refusal() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		let id = submit();
		run_to_block(5);
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Expired));
		assert_eq!(Ledger::<Test>::get(0, account(1)).missed, 1);
		assert_eq!(free(DEVELOPER), BALANCE - TIMER_FEE);
	});
}

#[test]
fn at_most_max_timers_per_block_are_served_and_the_rest_wait() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		// Five requests queued in block 1: a draw's worst case is two units of the three
		// the draws have, so two are drawn per block.
		let ids: Vec<u64> = (0..5).map(|_| queue()).collect();
		let drawn = || ids.iter().filter(|&&id| status(id) != RequestStatus::Queued).count();
		run_to_block(2);
		assert_eq!(drawn(), 2);
		run_to_block(3);
		assert_eq!(drawn(), 4);
		run_to_block(4);
		assert_eq!(drawn(), 5);
	});
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		// Five requests drawn in one block (a budget that allowed it), whose executors'
		// time is over in the same block: four reassigned, the fifth a block later.
		TimerBudget::set(&Weight::from_parts(100, u64::MAX));
		let ids: Vec<u64> = (0..5).map(|_| queue()).collect();
		run_to_block(2);
		assert!(ids.iter().all(|&id| status(id) == RequestStatus::Assigned));
		TimerBudget::set(&Weight::from_parts(TIMER_UNITS, u64::MAX));
		run_to_block(5);
		let reassigned = ids.iter().filter(|&&id| Requests::<Test>::get(id).unwrap().attempt == 1);
		assert_eq!(reassigned.count(), MAX_TIMERS as usize);
		run_to_block(6);
		assert!(ids.iter().all(|&id| Requests::<Test>::get(id).unwrap().attempt == 1));
	});
}
