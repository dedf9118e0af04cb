//! Closing a proposal: the `ComputeMajority` origin and the dispatch of a passed call, its
//! weight bound, the votes bound, the deposit, and the records removed.

use super::*;
use polkadot_sdk::sp_runtime::traits::Dispatchable;

#[test]
fn the_compute_majority_origin_comes_only_from_passed_proposals() {
	ExtBuilder::default().build_and_execute(|| {
		assert!(
			EnsureComputeMajority::try_origin(RuntimeOrigin::from(Origin::ComputeMajority)).is_ok()
		);
		assert!(EnsureComputeMajority::try_origin(root()).is_err());
		assert!(EnsureComputeMajority::try_origin(signed(4)).is_err());
	});
}

#[test]
fn a_passed_proposal_is_dispatched_with_the_compute_majority_origin() {
	ExtBuilder::default().build_and_execute(|| {
		let index = open(1, register_call("second"));
		assert_ok!(Models::vote(signed(1), index, Vote::Nay));
		assert_ok!(Models::vote(signed(4), index, Vote::Aye));
		assert_ok!(Models::vote(signed(3), index, Vote::Aye));
		run_to_block(1 + VOTING_PERIOD);
		assert_ok!(close(index));
		assert_eq!(closed_with(index), Outcome::Passed);
		assert!(events().contains(&Event::Executed { index, result: Ok(()) }));
		assert_eq!(Registry::<Test>::get(1).unwrap().record, record("second"));
		assert_eq!(held(1), 0, "the deposit is returned");
		assert_eq!(Balances::free_balance(1), 1_000);
	});
}

#[test]
fn a_runtime_upgrade_is_authorized_by_a_passed_proposal_and_by_no_account() {
	ExtBuilder::default().build_and_execute(|| {
		let code_hash = polkadot_sdk::sp_core::H256::repeat_byte(7);
		let authorized = || {
			System::events().iter().any(|record| {
				record.event
					== RuntimeEvent::System(frame_system::Event::UpgradeAuthorized {
						code_hash,
						check_version: true,
					})
			})
		};
		// No account, not even one with voting power, authorizes an upgrade; the system
		// pallet's own call takes root only, which production has no key for.
		assert_noop!(Models::authorize_upgrade(signed(1), code_hash), DispatchError::BadOrigin);
		let system_call = frame_system::Call::<Test>::authorize_upgrade { code_hash };
		let from_vote = RuntimeOrigin::from(Origin::ComputeMajority);
		assert_noop!(
			RuntimeCall::System(system_call).dispatch(from_vote),
			DispatchError::BadOrigin
		);
		let call = Box::new(RuntimeCall::Models(ModelsCall::authorize_upgrade { code_hash }));
		let index = open(1, call);
		assert_ok!(Models::vote(signed(4), index, Vote::Aye));
		assert_ok!(Models::vote(signed(3), index, Vote::Aye));
		assert_ok!(close(index));
		assert!(events().contains(&Event::Executed { index, result: Ok(()) }));
		assert!(authorized(), "the upgrade is authorized, with the version check");
	});
}

#[test]
fn an_expired_proposal_returns_the_deposit_and_dispatches_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		let index = open(1, register_call("late"));
		run_to_block(1 + VOTING_PERIOD);
		assert_noop!(Models::vote(signed(2), index, Vote::Aye), Error::<Test>::VotingClosed);
		assert_ok!(close(index));
		assert_eq!(closed_with(index), Outcome::Expired);
		assert!(Registry::<Test>::get(1).is_none());
		assert_eq!(held(1), 0);
		assert!(!events().iter().any(|event| matches!(event, Event::Executed { .. })));
	});
}

#[test]
fn a_passed_call_that_fails_is_reported_and_the_deposit_returned() {
	ExtBuilder::default().build_and_execute(|| {
		let call = Box::new(RuntimeCall::Models(ModelsCall::retire_model { model: 77 }));
		let index = open(1, call);
		assert_ok!(Models::vote(signed(4), index, Vote::Aye));
		assert_ok!(Models::vote(signed(3), index, Vote::Aye));
		assert_ok!(close(index));
		assert_eq!(closed_with(index), Outcome::Passed);
		assert!(events()
			.contains(&Event::Executed { index, result: Err(Error::<Test>::UnknownModel.into()) }));
		assert_eq!(held(1), 0);
		assert!(Proposals::<Test>::get(index).is_none());
	});
}

#[test]
fn a_call_heavier_than_the_bound_is_not_closed() {
	ExtBuilder::default().build_and_execute(|| {
		let remark =
			Box::new(RuntimeCall::System(frame_system::Call::remark { remark: vec![0; 8] }));
		let index = open(1, remark);
		assert_ok!(Models::vote(signed(4), index, Vote::Aye));
		assert_ok!(Models::vote(signed(3), index, Vote::Aye));
		assert_noop!(
			Models::close(signed(9), index, Weight::zero(), 16),
			Error::<Test>::WeightBoundTooLow
		);
		assert!(Proposals::<Test>::get(index).is_some());
	});
}

#[test]
fn closing_removes_every_record_of_the_proposal() {
	ExtBuilder::default().build_and_execute(|| {
		let index = open(1, register_call("c"));
		assert_ok!(Models::vote(signed(3), index, Vote::Nay));
		run_to_block(1 + VOTING_PERIOD);
		assert_ok!(close(index));
		assert_eq!(closed_with(index), Outcome::Rejected);
		assert!(Proposals::<Test>::get(index).is_none());
		assert_eq!(Votes::<Test>::iter_prefix(index).count(), 0);
		// The snapshot is released: the power source may prune it.
		assert_eq!(TestPower::held_snapshots(), 0);
	});
}

#[test]
fn the_votes_bound_of_close_must_cover_the_votes() {
	ExtBuilder::default().build_and_execute(|| {
		let index = open(1, register_call("w"));
		assert_ok!(Models::vote(signed(4), index, Vote::Aye));
		assert_ok!(Models::vote(signed(3), index, Vote::Aye));
		// A changed vote is still one host's vote.
		assert_ok!(Models::vote(signed(3), index, Vote::Nay));
		assert_ok!(Models::vote(signed(3), index, Vote::Aye));
		assert_eq!(Proposals::<Test>::get(index).unwrap().votes, 2);
		assert_noop!(
			Models::close(signed(9), index, Weight::MAX, 1),
			Error::<Test>::VotesBoundTooLow
		);
		assert_ok!(Models::close(signed(9), index, Weight::MAX, 2));
	});
}
