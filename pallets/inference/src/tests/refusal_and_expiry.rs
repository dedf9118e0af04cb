//! The refusal timeout and the expiry (`protocol.md`, "Inference" 1), and the bounded timer
//! work per block.

use super::*;
use polkadot_sdk::sp_runtime::transaction_validity::InvalidTransaction;

#[test]
fn an_executor_that_does_not_finish_in_time_loses_the_request_with_a_miss() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let id = submit();
		let first = executor_of(id);
		run_to_block(3);
		assert_eq!(executor_of(id), first);
		run_to_block(4);
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
		// Made at 1, expiration 10: reassigned at 4, 7 and 10; from 11 on it is expired.
		run_to_block(10);
		assert_eq!(Requests::<Test>::get(id).unwrap().attempt, 3);
		// Three timers fired, each paying its fee from the deposit.
		assert_eq!(escrow_held(), ESCROW - 3 * TIMER_FEE);
		run_to_block(11);
		let executor = executor_of(id);
		assert_eq!(finish_as(executor, result(id, 5)), Err(pool(InvalidTransaction::Stale)));
		assert_eq!(
			dispatch_duty(finish_call(executor, result(id, 5))),
			Err(call_error(Error::<Test>::NotAssigned))
		);
		// Refunded at the next assignment deadline (13).
		run_to_block(13);
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Expired));
		assert_eq!(escrow_held(), 0);
		// The escrow comes back but for the four timers' fees (its whole timer deposit).
		assert_eq!(free(DEVELOPER), BALANCE - TIMER_DEPOSIT);
		assert!(events().contains(&Event::RequestClosed {
			request: id,
			outcome: Outcome::Expired,
			refund: ESCROW - TIMER_DEPOSIT
		}));
		// Four assignments, four misses (the last one's at the expiry).
		let missed: u32 = (1..=3).map(|i| Ledger::<Test>::get(0, account(i)).missed).sum();
		assert_eq!(missed, 4);
		assert_eq!(finish_as(executor, result(id, 5)), Err(pool(InvalidTransaction::Stale)));
	});
}

#[test]
fn a_request_nobody_else_can_take_expires_at_its_refusal() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		let id = submit();
		run_to_block(4);
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Expired));
		assert_eq!(Ledger::<Test>::get(0, account(1)).missed, 1);
		assert_eq!(free(DEVELOPER), BALANCE - TIMER_FEE);
	});
}

#[test]
fn at_most_max_timers_per_block_are_served_and_the_rest_wait() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		let ids: Vec<u64> = (0..5).map(|_| submit()).collect();
		run_to_block(4);
		let reassigned = ids.iter().filter(|&&id| Requests::<Test>::get(id).unwrap().attempt == 1);
		assert_eq!(reassigned.count(), MAX_TIMERS as usize);
		run_to_block(5);
		assert!(ids.iter().all(|&id| Requests::<Test>::get(id).unwrap().attempt == 1));
	});
}
