//! Invalidation votes (`protocol.md`, "Inference" 5).

use super::*;
use gonka_primitives::inference::Sprt;
use polkadot_sdk::{sp_core::Pair as _, sp_runtime::transaction_validity::InvalidTransaction};

#[test]
fn a_failed_validation_opens_a_vote_in_which_the_report_counts_as_invalid() {
	ExtBuilder::default().hosts(&[1, 2, 3, 4]).build_and_execute(|| {
		let (id, _, validator) = failed_validation();
		assert_eq!(status(id), RequestStatus::Voting);
		let tally = Requests::<Test>::get(id).unwrap().vote.unwrap();
		assert_eq!((tally.invalid, tally.valid), (1, 0));
		assert!(events().contains(&Event::VoteOpened { request: id, by: account(validator) }));
	});
}

#[test]
fn more_than_half_the_power_invalid_refunds_the_developer_from_the_pending_work() {
	ExtBuilder::default().hosts(&[1, 2, 3, 4]).build_and_execute(|| {
		let (id, executor, validator) = failed_validation();
		let developer_before = free(DEVELOPER);
		// The executor's pending work (this result and any the search finished before).
		let held = work_held(executor);
		let voter = [1, 2, 3, 4].into_iter().find(|&i| i != executor && i != validator).unwrap();
		// 2 of the 3 units of power besides the executor's: more than half.
		assert_ok!(vote_as(voter, id, true));
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Invalidated));
		assert_eq!(free(DEVELOPER), developer_before + COST);
		assert_eq!(work_held(executor), held - COST);
		let stats = Ledger::<Test>::get(0, account(executor));
		assert_eq!((stats.pending_work, stats.invalidated), (held - COST, 1));
		assert_eq!(stats.llr, Sprt::live_network().invalid_step);
		assert!(events().contains(&Event::RequestClosed {
			request: id,
			outcome: Outcome::Invalidated,
			refund: COST
		}));
	});
}

#[test]
fn half_the_power_valid_keeps_the_result() {
	ExtBuilder::default().hosts(&[1, 2, 3, 4]).build_and_execute(|| {
		let (id, executor, validator) = failed_validation();
		let held = work_held(executor);
		let others: Vec<u8> =
			[1, 2, 3, 4].into_iter().filter(|&i| i != executor && i != validator).collect();
		// One valid vote: 1 of 3 units, not yet certain.
		assert_ok!(vote_as(others[0], id, false));
		assert_eq!(status(id), RequestStatus::Voting);
		// Two valid of three: invalid can no longer pass half.
		assert_ok!(vote_as(others[1], id, false));
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Validated));
		assert_eq!(work_held(executor), held);
	});
}

#[test]
fn a_vote_without_a_majority_keeps_the_result_when_its_window_ends() {
	ExtBuilder::default().hosts(&[1, 2, 3, 4]).build_and_execute(|| {
		let (id, executor, _) = failed_validation();
		let held = work_held(executor);
		let opened = System::block_number();
		run_to_block(opened + 4);
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Validated));
		assert_eq!(work_held(executor), held);
	});
}

#[test]
fn a_host_votes_once_and_not_after_the_vote_closed() {
	ExtBuilder::default().hosts(&[1, 2, 3, 4]).build_and_execute(|| {
		let (id, executor, validator) = failed_validation();
		// The failing validator's report was its vote.
		assert_eq!(vote_as(validator, id, true), Err(pool(InvalidTransaction::Stale)));
		let others: Vec<u8> =
			[1, 2, 3, 4].into_iter().filter(|&i| i != executor && i != validator).collect();
		assert_ok!(vote_as(others[0], id, true));
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Invalidated));
		assert_eq!(vote_as(others[1], id, false), Err(pool(InvalidTransaction::Stale)));
		assert_eq!(
			dispatch_duty(vote_call(others[1], id, false)),
			Err(call_error(Error::<Test>::NoOpenVote))
		);
	});
}

#[test]
fn the_executor_does_not_vote_and_a_host_without_power_cannot() {
	ExtBuilder::default().hosts(&[1, 2, 3, 4]).build_and_execute(|| {
		let (id, executor, _) = failed_validation();
		assert_eq!(vote_as(executor, id, false), Err(custom(Error::<Test>::SelfVote)));
		// Host 5 registered after genesis: no power in the snapshot.
		assert_ok!(Poc::register_host(
			RuntimeOrigin::signed(account(5)),
			worker(5).public(),
			gonka_primitives::duty::prove_key_ownership(
				&Poc::genesis_hash(),
				&account(5),
				&worker(5)
			),
			b"http://10.0.0.5:8080".to_vec(),
			vec![1]
		));
		assert_eq!(vote_as(5, id, true), Err(custom(Error::<Test>::NoVotingPower)));
	});
}

#[test]
fn a_vote_on_a_request_without_an_open_vote_is_refused() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		let (id, executor) = finished();
		run_to_block(System::block_number() + 1);
		assert_eq!(vote_as(3 - executor, id, true), Err(pool(InvalidTransaction::Stale)));
	});
}

/// Attack (`docs/security.md`): a host votes invalid on an open vote, then, sampled to
/// validate the same request, reports a failing similarity so that its power is counted a
/// second time. Rule: one count per host per request, whatever the order; the report is
/// recorded, the tally is not changed by it.
#[test]
fn a_host_that_voted_and_then_validates_is_counted_once() {
	let hosts = [1, 2, 3, 4, 5];
	ExtBuilder::default().hosts(&hosts).build_and_execute(|| {
		// A request with two sampled validators: the first opens the vote, the second
		// is the attacker.
		let (id, executor, opener, attacker) = (0..40)
			.find_map(|_| {
				let (id, executor) = finished();
				run_to_block(System::block_number() + 1);
				match sampled(id, &hosts)[..] {
					[opener, attacker, ..] => Some((id, executor, opener, attacker)),
					_ => None,
				}
			})
			.expect("a request with two sampled validators");
		let held = work_held(executor);
		assert_ok!(validate_as(opener, id, Perbill::from_percent(50)));
		// Four units of power besides the executor's: 2 invalid is not more than half.
		assert_ok!(vote_as(attacker, id, true));
		assert_eq!(status(id), RequestStatus::Voting);
		assert_ok!(validate_as(attacker, id, Perbill::from_percent(50)));
		let tally = Requests::<Test>::get(id).unwrap().vote.unwrap();
		assert_eq!((tally.invalid, tally.valid), (2, 0));
		assert_eq!(status(id), RequestStatus::Voting);
		assert_eq!(work_held(executor), held);
		assert_eq!(Reports::<Test>::get(id, account(attacker)), Some(Perbill::from_percent(50)));
	});
}
