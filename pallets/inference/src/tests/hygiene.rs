//! Storage hygiene: pruning closed requests and settling old epochs' ledgers.

use super::*;

#[test]
fn a_closed_requests_payloads_and_votes_are_pruned_after_the_retention_window() {
	ExtBuilder::default().hosts(&[1, 2, 3, 4]).build_and_execute(|| {
		let (id, executor, validator) = failed_validation();
		let voter = [1, 2, 3, 4].into_iter().find(|&i| i != executor && i != validator).unwrap();
		// The second invalid vote: 2 of 3 units, the vote closes now.
		assert_ok!(vote_as(voter, id, true));
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Invalidated));
		let closed_at = System::block_number();
		run_to_block(closed_at + 4);
		assert!(Requests::<Test>::contains_key(id));
		run_to_block(closed_at + 5);
		assert!(!Requests::<Test>::contains_key(id));
		assert!(!Prompts::<Test>::contains_key(id));
		assert!(!Outputs::<Test>::contains_key(id));
		assert_eq!(Reports::<Test>::iter_prefix(id).count(), 0);
		assert_eq!(Votes::<Test>::iter_prefix(id).count(), 0);
		assert!(events().contains(&Event::RequestPruned { request: id }));
		assert_eq!(Inference::request_view(id), None);
	});
}

#[test]
fn an_epochs_pending_work_is_released_when_the_ledger_settles_it() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		let (_, _) = finished();
		assert_eq!(work_held(1), COST);
		// Epoch 0's ledger is kept through epoch 1 and settled when epoch 2 starts (41).
		run_to_block(40);
		assert_eq!(work_held(1), COST);
		let free_before = free(1);
		run_to_block(41);
		assert_eq!(work_held(1), 0);
		assert_eq!(free(1), free_before + COST);
		assert_eq!(Ledger::<Test>::iter_prefix(0).count(), 0);
		assert!(events().contains(&Event::WorkSettled {
			epoch: 0,
			host: account(1),
			amount: COST,
			forfeited: false
		}));
		assert!(events().contains(&Event::EpochSettled { epoch: 0 }));
		assert_eq!(UnsettledEpoch::<Test>::get(), 1);
	});
}

/// What an inference channel's settlement pays (`WorkLedger::credit_work`) is pending work
/// of the epoch in progress like a finished request's: held, then released when the epoch's
/// ledger settles.
#[test]
fn a_channel_settlements_pay_is_pending_work_released_with_the_epochs_ledger() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		let free_before = free(1);
		let reputation = Reputations::<Test>::get(account(1));
		assert_ok!(<Inference as WorkLedger<_>>::credit_work(&account(1), 500));
		assert_eq!(Reputations::<Test>::get(account(1)), reputation, "no activity noted");
		assert_eq!(work_held(1), 500);
		assert_eq!(free(1), free_before - 500);
		assert_eq!(Ledger::<Test>::get(0, account(1)).pending_work, 500);
		// More than its free balance: refused, nothing held.
		assert!(<Inference as WorkLedger<_>>::credit_work(&account(1), u128::MAX).is_err());
		assert_eq!(work_held(1), 500);
		run_to_block(41);
		assert_eq!(work_held(1), 0);
		assert_eq!(free(1), free_before);
		assert!(events().contains(&Event::WorkSettled {
			epoch: 0,
			host: account(1),
			amount: 500,
			forfeited: false
		}));
	});
}

/// A rejected channel report's fine (`WorkLedger::fine`) is a miss on the reporter's
/// reputation and up to the cost of its pending work; an answer's pay taken back
/// (`WorkLedger::take_back`: an unavailable report whose jury found the payload served) is
/// the same take from its pending work without the miss. Both are forfeited when the
/// epoch's ledger settles.
#[test]
fn an_answers_pay_taken_back_is_forfeited_with_no_miss_a_fine_with_one() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		let epoch = pallet_poc::Pallet::<Test>::epoch_now();
		let misses = |i| Inference::reputation_at(&account(i), epoch).misses;
		assert_ok!(<Inference as WorkLedger<_>>::credit_work(&account(1), 500));
		assert_ok!(<Inference as WorkLedger<_>>::credit_work(&account(2), 500));
		assert_eq!(<Inference as WorkLedger<_>>::take_back(&account(1), epoch, 30), 30);
		assert_eq!(<Inference as WorkLedger<_>>::fine(&account(2), epoch, 30), 30);
		assert_eq!((misses(1), misses(2)), (0, 1));
		// At most what the fines noted leave of the pending work.
		assert_eq!(<Inference as WorkLedger<_>>::take_back(&account(1), epoch, 1_000), 470);
		assert_eq!(<Inference as WorkLedger<_>>::take_back(&account(1), epoch, 1), 0);
		assert_eq!(crate::Fines::<Test>::get(epoch, account(1)), 500);
		run_to_block(41);
		let settled = events();
		for (host, amount, forfeited) in [(1, 500, true), (2, 30, true), (2, 470, false)] {
			assert!(settled.contains(&Event::WorkSettled {
				epoch,
				host: account(host),
				amount,
				forfeited
			}));
		}
		assert_eq!((work_held(1), work_held(2)), (0, 0));
	});
}

/// A channel validator's answered samples are duties done and its reported misses duties
/// missed, in the epoch in progress, as the on-chain path's validations and missed
/// validations: the downtime test weighs them together.
#[test]
fn a_channel_validators_answers_and_misses_are_duties_the_downtime_test_counts() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		<Inference as WorkLedger<_>>::note_duties(&account(1), 3, 0);
		<Inference as WorkLedger<_>>::note_duties(&account(1), 0, 2);
		<Inference as WorkLedger<_>>::note_duties(&account(1), 0, 0);
		let stats = Ledger::<Test>::get(0, account(1));
		assert_eq!((stats.validations, stats.missed_validations), (3, 2));
		assert_eq!((stats.duties(), stats.duties_missed()), (5, 2));
		let totals = crate::EpochTotals::<Test>::get(0);
		assert_eq!((totals.assigned, totals.missed), (5, 2));
	});
}

#[test]
fn an_invalid_hosts_pending_work_is_forfeited_to_the_pool() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		// Host 1 keeps one validated result, then is invalidated until INVALID.
		let mut kept = None;
		let mut invalidations = 0;
		while invalidations < 6 {
			for (id, executor) in finished_pair() {
				if executor != 1 {
					continue;
				}
				if kept.is_none() {
					assert_ok!(validate_as(2, id, Perbill::one()));
					kept = Some(id);
					continue;
				}
				assert_ok!(validate_as(2, id, Perbill::zero()));
				invalidations += 1;
			}
		}
		assert!(Ledger::<Test>::get(0, account(1)).invalid);
		// The kept result was validated: host 2 has its share, host 1 the rest.
		run_to_block(System::block_number() + 4);
		assert_eq!(work_held(1), COST - SHARE);
		assert!(events().contains(&Event::ValidatorPaid {
			request: kept.unwrap(),
			validator: account(2),
			epoch: 0,
			amount: SHARE
		}));
		// Host 2's own results and its share.
		let validator_work = work_held(2);
		let validator_before = free(2);
		let pool = free(99);
		run_to_block(41);
		assert_eq!(work_held(1), 0);
		assert_eq!(free(99), pool + COST - SHARE);
		assert!(events().contains(&Event::WorkSettled {
			epoch: 0,
			host: account(1),
			amount: COST - SHARE,
			forfeited: true
		}));
		// The validator did its work: its share is released to it.
		assert_eq!(free(2), validator_before + validator_work);
		assert!(events().contains(&Event::WorkSettled {
			epoch: 0,
			host: account(2),
			amount: validator_work,
			forfeited: false
		}));
	});
}

#[test]
fn settlement_is_bounded_per_block() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		for seed in 0..30 {
			TestRandomness::set(seed);
			let id = submit();
			assert_ok!(finish_as(executor_of(id), result(id, 5)));
		}
		let hosts = Ledger::<Test>::iter_prefix(0).count();
		assert!(hosts >= 3);
		// Two host records per block.
		run_to_block(41);
		assert_eq!(Ledger::<Test>::iter_prefix(0).count(), hosts - 2);
		run_to_block(42);
		assert_eq!(Ledger::<Test>::iter_prefix(0).count(), hosts.saturating_sub(4));
		run_to_block(45);
		assert_eq!(UnsettledEpoch::<Test>::get(), 1);
	});
}

/// The upgrade to the deferred draw (spec_version 7) adds a request status and a timer
/// queue without a migration: each is appended, so requests and timers stored by the
/// runtime before decode unchanged, and requests assigned before the upgrade go on as
/// they were.
#[test]
fn the_queued_status_and_the_draw_queue_are_appended_so_stored_requests_and_timers_decode_unchanged(
) {
	use codec::Encode;
	let statuses = [
		(RequestStatus::Assigned, vec![0]),
		(RequestStatus::Finished, vec![1]),
		(RequestStatus::Voting, vec![2]),
		(RequestStatus::Closed(Outcome::Expired), vec![3, 0]),
		(RequestStatus::Queued, vec![4]),
	];
	for (status, encoded) in statuses {
		assert_eq!(status.encode(), encoded, "{status:?}");
	}
	let timers =
		[(Timer::Assignment, 0u8), (Timer::Validation, 1), (Timer::Vote, 2), (Timer::Prune, 3)];
	for (timer, index) in timers {
		assert_eq!(timer.encode(), vec![index], "{timer:?}");
	}
	assert_eq!(Timer::Draw.encode(), vec![4]);
}
