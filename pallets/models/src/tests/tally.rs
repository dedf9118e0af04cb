//! The tally rules at their exact boundaries: quorum, threshold, veto (and where the
//! deposit goes), and closing early only when passing is certain.

use super::*;

#[test]
fn the_quorum_counts_from_its_exact_boundary() {
	ExtBuilder::default().build_and_execute(|| {
		// Quorum 25% of 100: 25 cast is enough, 24 is not.
		for (power, expected) in [(25, Outcome::Passed), (24, Outcome::Expired)] {
			powers(&[power, 100 - power]);
			let index = open(1, register_call("q"));
			assert_ok!(Models::vote(signed(1), index, Vote::Aye));
			run_to_block(System::block_number() + VOTING_PERIOD);
			assert_ok!(close(index));
			assert_eq!(closed_with(index), expected, "{power} of 100 cast");
		}
	});
}

#[test]
fn the_threshold_needs_more_than_half_of_the_power_cast() {
	ExtBuilder::default().build_and_execute(|| {
		// 50 aye against 50 nay is not more than half; 51 against 49 is.
		for (aye, expected) in [(50, Outcome::Rejected), (51, Outcome::Passed)] {
			powers(&[aye, 100 - aye]);
			let index = open(1, register_call("t"));
			assert_ok!(Models::vote(signed(1), index, Vote::Aye));
			assert_ok!(Models::vote(signed(2), index, Vote::Nay));
			run_to_block(System::block_number() + VOTING_PERIOD);
			assert_ok!(close(index));
			assert_eq!(closed_with(index), expected, "{aye} aye of 100");
			assert_eq!(held(1), 0);
		}
	});
}

#[test]
fn a_veto_at_its_threshold_sends_the_deposit_to_the_community_pool() {
	ExtBuilder::default().build_and_execute(|| {
		// Veto 33.4% of the power cast: 334 of 1,000 vetoes, 333 does not (and the 667
		// ayes then pass).
		for (veto, expected) in [(334, Outcome::Vetoed), (333, Outcome::Passed)] {
			powers(&[1_000 - veto, veto]);
			let pool = Balances::free_balance(POOL);
			let index = open(1, register_call("v"));
			assert_ok!(Models::vote(signed(1), index, Vote::Aye));
			assert_ok!(Models::vote(signed(2), index, Vote::Veto));
			run_to_block(System::block_number() + VOTING_PERIOD);
			assert_ok!(close(index));
			assert_eq!(closed_with(index), expected, "{veto} veto of 1,000");
			assert_eq!(held(1), 0);
			let paid = if expected == Outcome::Vetoed { DEPOSIT } else { 0 };
			assert_eq!(Balances::free_balance(POOL), pool + paid);
		}
	});
}

#[test]
fn a_proposal_closes_early_only_when_passing_is_certain() {
	ExtBuilder::default().build_and_execute(|| {
		let index = open(1, register_call("early"));
		assert_noop!(close(index), Error::<Test>::VotingOpen);
		assert_ok!(Models::vote(signed(4), index, Vote::Aye));
		// 40 of 100: the other 60 could still vote nay.
		assert_noop!(close(index), Error::<Test>::VotingOpen);
		assert_ok!(Models::vote(signed(3), index, Vote::Aye));
		// 70 of 100 aye: more than half even if the other 30 vote nay; 30 vetoes would
		// stay under 33.4%.
		assert_ok!(close(index));
		assert_eq!(closed_with(index), Outcome::Passed);
		assert!(Registry::<Test>::get(1).is_some());
	});
}
