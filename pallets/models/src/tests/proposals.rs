//! Proposing and voting: who may propose, the deposit, the snapshot of voting power (and
//! its constant cost), votes and changed votes, the bounds.

use super::*;

#[test]
fn only_hosts_with_voting_power_propose() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(Models::propose(signed(5), register_call("x")), Error::<Test>::NoVotingPower);
		assert_ok!(Models::propose(signed(1), register_call("x")));
	});
}

#[test]
fn a_proposal_holds_the_deposit_and_snapshots_voting_power() {
	ExtBuilder::default().build_and_execute(|| {
		let index = open(2, register_call("second"));
		assert_eq!(held(2), DEPOSIT);
		let proposal = Proposals::<Test>::get(index).unwrap();
		assert_eq!((proposal.total_power, proposal.voters, proposal.votes), (100, 4, 0));
		assert_eq!(proposal.end, 1 + VOTING_PERIOD);
		assert_eq!(TestPower::power_in(&proposal.snapshot, &3), 30);
		assert_eq!(TestPower::held_snapshots(), 1);
		assert!(events().contains(&Event::Proposed {
			index,
			proposer: 2,
			end: 1 + VOTING_PERIOD,
			total_power: 100,
			voters: 4
		}));
	});
}

#[test]
fn a_proposer_without_the_deposit_is_refused() {
	// Account 20 has voting power but no funds.
	ExtBuilder::default().power(20, 5).build_and_execute(|| {
		assert_noop!(Models::propose(signed(20), register_call("x")), TokenError::FundsUnavailable);
	});
}

#[test]
fn power_gained_after_the_proposal_opens_does_not_count() {
	ExtBuilder::default().build_and_execute(|| {
		let index = open(1, register_call("second"));
		TestPower::set(5, 1_000);
		TestPower::set(1, 1_000);
		assert_noop!(Models::vote(signed(5), index, Vote::Aye), Error::<Test>::NotInSnapshot);
		assert_ok!(Models::vote(signed(1), index, Vote::Aye));
		assert_eq!(Proposals::<Test>::get(index).unwrap().tally.aye, 10);
		assert!(events().contains(&Event::Voted { index, voter: 1, vote: Vote::Aye, power: 10 }));
	});
}

#[test]
fn a_double_vote_is_refused_and_a_vote_can_change() {
	ExtBuilder::default().build_and_execute(|| {
		let index = open(1, register_call("d"));
		assert_ok!(Models::vote(signed(4), index, Vote::Aye));
		assert_noop!(Models::vote(signed(4), index, Vote::Aye), Error::<Test>::AlreadyVoted);
		assert_ok!(Models::vote(signed(4), index, Vote::Veto));
		let tally = Proposals::<Test>::get(index).unwrap().tally;
		assert_eq!(tally, Tally { aye: 0, nay: 0, veto: 40 });
	});
}

#[test]
fn proposals_are_bounded_and_long_calls_refused() {
	ExtBuilder::default().build_and_execute(|| {
		let long =
			Box::new(RuntimeCall::System(frame_system::Call::remark { remark: vec![0; 600] }));
		assert_noop!(Models::propose(signed(1), long), Error::<Test>::CallTooLong);
		for _ in 0..3 {
			open(1, register_call("p"));
		}
		assert_noop!(
			Models::propose(signed(2), register_call("p")),
			Error::<Test>::TooManyProposals
		);
	});
}

#[test]
fn opening_a_proposal_costs_the_same_for_any_number_of_hosts() {
	// The snapshot is taken from the power source in one call, not copied per host: the
	// pallet writes the same storage entries whatever the number of hosts.
	fn pallet_keys() -> usize {
		let prefix = polkadot_sdk::sp_io::hashing::twox_128(b"Models");
		polkadot_sdk::frame_support::storage::KeyPrefixIterator::new(
			prefix.to_vec(),
			prefix.to_vec(),
			|_| Ok(()),
		)
		.count()
	}
	ExtBuilder::default().build_and_execute(|| {
		// The first proposal also writes the proposal count and the map's counter.
		open(1, register_call("w"));
		let before = pallet_keys();
		let few = open(1, register_call("w"));
		let with_four = pallet_keys() - before;
		for host in 5..=8 {
			TestPower::set(host, 1);
		}
		let before = pallet_keys();
		let many = open(1, register_call("w"));
		assert_eq!(pallet_keys() - before, with_four);
		assert_eq!(with_four, 1);
		let size = |index| Proposals::<Test>::get(index).unwrap().encode().len();
		assert_eq!(size(few), size(many));
		assert_eq!(Proposals::<Test>::get(many).unwrap().voters, 8);
	});
}

#[test]
fn an_unknown_proposal_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(Models::vote(signed(1), 5, Vote::Aye), Error::<Test>::UnknownProposal);
		assert_noop!(close(5), Error::<Test>::UnknownProposal);
	});
}
