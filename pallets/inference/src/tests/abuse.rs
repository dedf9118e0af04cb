//! What abuse costs its author (`docs/security.md`, hole 7): every assignment timer a
//! request causes (a reassignment, the expiry) pays its fee from the timer deposit its
//! escrow holds, and a failing report whose vote rejects it costs its sender a miss on its
//! reputation and a fine on its pending work, taken when the epoch settles.

use super::*;
use polkadot_sdk::frame_support::weights::WeightToFee as _;

/// The hosts of `hosts` but those in `not`.
fn other(hosts: &[u8], not: &[u8]) -> Vec<u8> {
	hosts.iter().copied().filter(|i| !not.contains(i)).collect()
}

/// The `TimerCharged` amounts of request `id` so far.
fn timer_fees(id: u64) -> Vec<u128> {
	events()
		.into_iter()
		.filter_map(|event| match event {
			Event::TimerCharged { request, amount } if request == id => Some(amount),
			_ => None,
		})
		.collect()
}

/// The `ReportRejected` events so far: (request, reporter, fine).
fn rejected() -> Vec<(u64, u8, u128)> {
	events()
		.into_iter()
		.filter_map(|event| match event {
			Event::ReportRejected { request, reporter, fine, .. } => {
				Some((request, host_number(&reporter), fine))
			}
			_ => None,
		})
		.collect()
}

/// Host `i`'s misses on its reputation in the epoch in progress.
fn misses(i: u8) -> u32 {
	Inference::reputation_at(&account(i), pallet_poc::Pallet::<Test>::epoch_now()).misses
}

/// Runs blocks until request `id` is closed (at most 20).
fn run_until_closed(id: u64) {
	for _ in 0..20 {
		if matches!(status(id), RequestStatus::Closed(_)) {
			return;
		}
		run_to_block(System::block_number() + 1);
	}
	panic!("request {id} still open after twenty blocks");
}

/// Requests until one is drawn for `host`, which finishes it (its only work, if it had
/// none); returns the request.
fn finished_by(host: u8) -> u64 {
	for _ in 0..100 {
		let id = submit();
		if executor_of(id) == host {
			assert_ok!(finish_as(host, result(id, 5)));
			return id;
		}
	}
	panic!("no request drawn for host {host}");
}

/// Requests until one is drawn for `host` and the hash rule gives it a validator among
/// `hosts`; `host` finishes it and the chain moves to the next block. Returns the request
/// and its validators.
fn finished_by_with_validators(host: u8, hosts: &[u8]) -> (u64, Vec<u8>) {
	for _ in 0..20 {
		let id = finished_by(host);
		run_to_block(System::block_number() + 1);
		let validators = sampled(id, hosts);
		if !validators.is_empty() {
			return (id, validators);
		}
	}
	panic!("no request of host {host} with a validator");
}

/// A request finished by a host other than `reporter` (whose own assignments are left
/// unserved) that the hash rule gives `reporter` to validate; the chain is moved to the
/// block after `finish`. Returns the request and its executor.
fn to_validate_by(reporter: u8, hosts: &[u8]) -> (u64, u8) {
	for _ in 0..50 {
		let id = submit();
		let executor = executor_of(id);
		if executor == reporter {
			continue;
		}
		assert_ok!(finish_as(executor, result(id, 5)));
		run_to_block(System::block_number() + 1);
		if sampled(id, hosts).contains(&reporter) {
			return (id, executor);
		}
	}
	panic!("no request for host {reporter} to validate");
}

/// `voters` vote request `id` valid, one after another, until its vote closes.
fn vote_valid_until_closed(id: u64, voters: &[u8]) {
	for &voter in voters {
		if status(id) == RequestStatus::Voting {
			assert_ok!(vote_as(voter, id, false));
		}
	}
}

/// The cost of finished request `id`.
fn cost_of(id: u64) -> u128 {
	Requests::<Test>::get(id).and_then(|request| request.finish).expect("finished").cost
}

/// Rules whose validation and vote windows outlast the tests' searches for a request.
fn long_windows() -> InferenceParams<u64> {
	InferenceParams { validation_window: 12, vote_window: 12, ..test_params() }
}

#[test]
fn a_request_nobody_serves_pays_each_timer_it_causes_from_its_deposit() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let id = submit();
		assert_eq!(escrow_held(), TOKENS_ESCROW + TIMER_DEPOSIT);
		// Made at 1, drawn at 2: reassigned at 5 and 8, expired at 11, each timer paying its
		// fee.
		run_to_block(11);
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Expired));
		assert_eq!(timer_fees(id), vec![TIMER_FEE; 3]);
		assert_eq!(free(99), TIMER_DEPOSIT);
		assert_eq!(free(DEVELOPER), BALANCE - TIMER_DEPOSIT);
		assert!(events().contains(&Event::RequestClosed {
			request: id,
			outcome: Outcome::Expired,
			refund: TOKENS_ESCROW
		}));
	});
}

#[test]
fn a_request_served_in_time_pays_no_timer_and_a_reassigned_one_pays_its_timer() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let served = submit();
		assert_ok!(finish_as(executor_of(served), result(served, 5)));
		assert_eq!(free(DEVELOPER), BALANCE - COST);
		// Drawn at 3, reassigned once (at 6), then served: one timer's fee, the rest of the
		// deposit back.
		let late = submit();
		run_to_block(6);
		assert_eq!(Requests::<Test>::get(late).unwrap().attempt, 1);
		assert_ok!(finish_as(executor_of(late), result(late, 5)));
		assert_eq!(timer_fees(served), Vec::<u128>::new());
		assert_eq!(timer_fees(late), vec![TIMER_FEE]);
		assert_eq!(free(DEVELOPER), BALANCE - 2 * COST - TIMER_FEE);
		assert_eq!(free(99), TIMER_FEE);
	});
}

#[test]
fn the_timer_deposit_covers_the_most_timers_a_request_can_cause() {
	// For every refusal timeout shorter than the expiration, a request no executor
	// finishes fires its assignment timers (reassignments, then the expiry): its deposit
	// covers the fee of as many timers at their worst case (exactly, when the refusal
	// timeout divides the expiration less the draw's block), and pays each of them.
	for refusal_timeout in 1..10u64 {
		let params = InferenceParams { refusal_timeout, ..test_params() };
		ExtBuilder::default().hosts(&[1, 2, 3]).params(params).build_and_execute(|| {
			let id = submit();
			run_until_closed(id);
			assert_eq!(status(id), RequestStatus::Closed(Outcome::Expired));
			// It lasted until no executor could have its full time before the expiration: a
			// deposit too small would have closed it earlier.
			let closed = System::block_number();
			assert!(closed + refusal_timeout > 1 + params.expiration, "refusal {refusal_timeout}");
			let timers = events()
				.iter()
				.filter(|event| matches!(event, Event::Missed { request, .. } if *request == id))
				.count();
			let worst = Inference::timer_weight(Timer::Assignment)
				.saturating_add(Inference::prepaid_timers(Timer::Prune));
			let fee = TestFee::weight_to_fee(&worst);
			assert_eq!(fee, TIMER_FEE);
			let deposit = Inference::timer_deposit(&params);
			assert!(fee * timers as u128 <= deposit, "refusal after {refusal_timeout}");
			if (params.expiration - 1) % refusal_timeout == 0 {
				assert_eq!(deposit, fee * timers as u128, "refusal after {refusal_timeout}");
			}
			assert_eq!(timer_fees(id), vec![fee; timers], "refusal after {refusal_timeout}");
			assert_eq!(free(DEVELOPER), BALANCE - fee * timers as u128);
		});
	}
}

#[test]
fn a_deposit_that_cannot_pay_another_timer_expires_the_request() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		// Three timers paid for (drawn at 2, refusal after 3 of 10 blocks) ...
		let id = submit();
		// ... then governance shortens the refusal timeout to one block.
		assert_ok!(Inference::set_params(
			RuntimeOrigin::root(),
			InferenceParams { refusal_timeout: 1, ..test_params() }
		));
		// Timers at 5 (scheduled before the change), 6 and 7: the third leaves no deposit,
		// and the request expires before its expiration (11).
		run_to_block(7);
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Expired));
		assert_eq!(timer_fees(id), vec![TIMER_FEE; 3]);
		assert_eq!(free(DEVELOPER), BALANCE - TIMER_DEPOSIT);
	});
}

#[test]
fn a_report_the_vote_rejects_fines_its_sender_at_settlement_and_costs_it_reputation() {
	let hosts = [1, 2, 3, 4];
	ExtBuilder::default().hosts(&hosts).params(long_windows()).build_and_execute(|| {
		// Host 1 has work of its own (one result), then fails another host's honest one.
		finished_by(1);
		let (id, executor) = to_validate_by(1, &hosts);
		assert_ok!(validate_as(1, id, Perbill::zero()));
		assert_eq!(Ledger::<Test>::get(0, account(1)).pending_work, COST);
		let (missed, executor_held) = (misses(1), work_held(executor));
		// Two of the three units besides the executor's say valid: rejected.
		let voters = other(&hosts, &[executor, 1]);
		assert_ok!(vote_as(voters[0], id, false));
		assert_eq!(status(id), RequestStatus::Voting);
		assert_ok!(vote_as(voters[1], id, false));
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Validated));
		assert_eq!(rejected(), vec![(id, 1, COST)]);
		assert_eq!(Fines::<Test>::get(0, account(1)), COST);
		assert_eq!(misses(1), missed + 1);
		// The fine waits for the settlement: the pending work still backs its own result.
		assert_eq!(work_held(1), COST);
		// The executor keeps its result; the voters are fined nothing.
		assert_eq!(work_held(executor), executor_held);
		for voter in voters {
			assert_eq!(Fines::<Test>::get(0, account(voter)), 0);
		}
		// Epoch 0 settles in epoch 2 (from block 40, two hosts a block): the fine goes to
		// the pool.
		let pool = free(99);
		run_to_block(45);
		assert!(events().contains(&Event::WorkSettled {
			epoch: 0,
			host: account(1),
			amount: COST,
			forfeited: true
		}));
		assert_eq!(work_held(1), 0);
		assert!(free(99) >= pool + COST);
		assert_eq!(Fines::<Test>::iter().count(), 0);
	});
}

#[test]
fn a_fine_leaves_the_reporters_own_results_backed_until_settlement() {
	let hosts = [1, 2, 3, 4];
	ExtBuilder::default().hosts(&hosts).params(long_windows()).build_and_execute(|| {
		// Host 1's work: results of its own, one with a sampled validator.
		let (own, validators) = finished_by_with_validators(1, &hosts);
		// It fails another host's honest result and is fined: that result's cost, at most
		// its pending work.
		let (id, executor) = to_validate_by(1, &hosts);
		assert_ok!(validate_as(1, id, Perbill::zero()));
		let (work, held) = (Ledger::<Test>::get(0, account(1)).pending_work, work_held(1));
		vote_valid_until_closed(id, &other(&hosts, &[executor, 1]));
		let fine = cost_of(id).min(work);
		assert_eq!(rejected(), vec![(id, 1, fine)]);
		assert_eq!(work_held(1), held);
		// Its own result is then invalidated: its developer gets the whole cost back from
		// host 1's pending work, fine or not.
		let opener = validators[0];
		assert_eq!(status(own), RequestStatus::Finished, "still in its validation window");
		assert_ok!(validate_as(opener, own, Perbill::zero()));
		let voter = other(&hosts, &[1, opener])[0];
		assert_ok!(vote_as(voter, own, true));
		assert!(events().contains(&Event::RequestClosed {
			request: own,
			outcome: Outcome::Invalidated,
			refund: cost_of(own)
		}));
		// The fine takes at most what is left when the epoch settles; the rest is released.
		let left = Ledger::<Test>::get(0, account(1)).pending_work;
		assert_eq!(left, work - cost_of(own));
		run_to_block(45);
		let settled = |forfeited: bool| -> u128 {
			events()
				.into_iter()
				.filter_map(|event| match event {
					Event::WorkSettled { epoch: 0, host, amount, forfeited: f }
						if host == account(1) && f == forfeited =>
					{
						Some(amount)
					}
					_ => None,
				})
				.sum()
		};
		assert_eq!(settled(true), fine.min(left));
		assert_eq!(settled(false), left - fine.min(left));
		assert_eq!(work_held(1), 0);
		assert_eq!(Fines::<Test>::iter().count(), 0);
	});
}

#[test]
fn a_rejected_reporter_without_work_in_the_epoch_is_fined_nothing_but_loses_reputation() {
	let hosts = [1, 2, 3, 4];
	ExtBuilder::default().hosts(&hosts).params(long_windows()).build_and_execute(|| {
		let (id, executor) = to_validate_by(1, &hosts);
		assert_ok!(validate_as(1, id, Perbill::zero()));
		assert_eq!(Ledger::<Test>::get(0, account(1)).pending_work, 0);
		let missed = misses(1);
		vote_valid_until_closed(id, &other(&hosts, &[executor, 1]));
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Validated));
		assert_eq!(rejected(), vec![(id, 1, 0)]);
		assert_eq!(Fines::<Test>::iter().count(), 0);
		assert_eq!(misses(1), missed + 1);
	});
}

#[test]
fn a_report_upheld_tied_or_left_undecided_costs_its_sender_nothing() {
	// Upheld: more than half of the power says invalid.
	ExtBuilder::default().hosts(&[1, 2, 3, 4]).build_and_execute(|| {
		let (id, executor, reporter) = failed_validation();
		let missed = misses(reporter);
		let voters = other(&[1, 2, 3, 4], &[executor, reporter]);
		assert_ok!(vote_as(voters[0], id, true));
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Invalidated));
		assert!(rejected().is_empty());
		assert_eq!(misses(reporter), missed);
	});
	// Tied: of three hosts, the reporter says invalid and the other valid (one unit each):
	// the result is kept (half valid), the report is not rejected (no majority).
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (id, executor, validators) = finished_with_validators(&[1, 2, 3]);
		let reporter = validators[0];
		assert_ok!(validate_as(reporter, id, Perbill::zero()));
		let missed = misses(reporter);
		assert_ok!(vote_as(other(&[1, 2, 3], &[executor, reporter])[0], id, false));
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Validated));
		assert!(rejected().is_empty());
		assert_eq!(misses(reporter), missed);
	});
	// Undecided: one valid vote of three units, and the window ends.
	ExtBuilder::default().hosts(&[1, 2, 3, 4]).build_and_execute(|| {
		let (id, executor, reporter) = failed_validation();
		let missed = misses(reporter);
		let voters = other(&[1, 2, 3, 4], &[executor, reporter]);
		assert_ok!(vote_as(voters[0], id, false));
		run_until_closed(id);
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Validated));
		assert!(rejected().is_empty());
		assert_eq!(misses(reporter), missed);
	});
}

#[test]
fn a_developer_whose_whole_balance_is_locked_still_pays_its_timers_and_its_results() {
	use polkadot_sdk::frame_support::traits::{LockableCurrency, WithdrawReasons};
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		// A lock over the whole balance, as a vesting schedule the developer gave itself.
		<Balances as LockableCurrency<_>>::set_lock(
			*b"vesting ",
			&account(DEVELOPER),
			BALANCE,
			WithdrawReasons::all(),
		);
		let unserved = submit();
		let served = submit();
		let executor = executor_of(served);
		let held = work_held(executor);
		assert_ok!(finish_as(executor, result(served, 5)));
		assert_eq!(work_held(executor), held + cost_of(served));
		run_to_block(12);
		assert_eq!(status(unserved), RequestStatus::Closed(Outcome::Expired));
		assert_eq!(timer_fees(unserved), vec![TIMER_FEE; 3]);
		assert_eq!(free(99), TIMER_DEPOSIT);
	});
}
