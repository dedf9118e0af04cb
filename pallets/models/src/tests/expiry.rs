//! Proposals end by themselves: the chain closes a proposal still open `ClosingPeriod` blocks
//! after its end, a passed one lapsing, one proposal looked at per block.

use super::*;

/// The block from which the chain closes a proposal opened at block 1 (the mock's
/// `ClosingPeriod` is its voting period).
const CLOSED_BY_THE_CHAIN: u64 = 1 + VOTING_PERIOD + VOTING_PERIOD;

#[test]
fn a_proposal_left_open_is_closed_by_the_chain_a_closing_period_after_its_end() {
	ExtBuilder::default().build_and_execute(|| {
		// Nobody votes and nobody closes: the snapshot would be held for good.
		let index = open(1, register_call("abandoned"));
		run_to_block(CLOSED_BY_THE_CHAIN - 1);
		assert!(Proposals::<Test>::get(index).is_some(), "anyone may still close it");
		assert_eq!(TestPower::held_snapshots(), 1);
		run_to_block(CLOSED_BY_THE_CHAIN);
		assert!(Proposals::<Test>::get(index).is_none());
		assert_eq!(closed_with(index), Outcome::Expired);
		assert_eq!(TestPower::held_snapshots(), 0, "the snapshot is released");
		assert_eq!(held(1), 0, "the deposit is returned");
	});
}

#[test]
fn a_passed_proposal_is_enacted_until_its_closing_period_ends_and_then_lapses() {
	ExtBuilder::default().build_and_execute(|| {
		let enacted = open(1, register_call("enacted"));
		let lapsed = open(2, register_call("lapsed"));
		for index in [enacted, lapsed] {
			assert_ok!(Models::vote(signed(4), index, Vote::Aye));
			assert_ok!(Models::vote(signed(3), index, Vote::Aye));
		}
		// The last block of the closing period: a closer still enacts it.
		run_to_block(CLOSED_BY_THE_CHAIN - 1);
		assert_ok!(close(enacted));
		assert_eq!(closed_with(enacted), Outcome::Passed);
		assert_eq!(Registry::<Test>::get(1).unwrap().record, record("enacted"));
		// Nobody closed the other: the chain does, without dispatching it.
		run_to_block(CLOSED_BY_THE_CHAIN);
		assert_eq!(closed_with(lapsed), Outcome::Lapsed);
		assert!(!events().contains(&Event::Executed { index: lapsed, result: Ok(()) }));
		assert_eq!(NextModelId::<Test>::get(), 2, "the lapsed registration never ran");
		assert_eq!(held(2), 0, "the deposit is returned");
		assert_eq!(TestPower::held_snapshots(), 0);
	});
}

#[test]
fn a_passed_proposal_closed_after_its_closing_period_lapses() {
	ExtBuilder::default().build_and_execute(|| {
		let index = open(1, register_call("late"));
		assert_ok!(Models::vote(signed(4), index, Vote::Aye));
		assert_ok!(Models::vote(signed(3), index, Vote::Aye));
		// Past the closing period before the hook looked at it.
		System::set_block_number(CLOSED_BY_THE_CHAIN);
		assert_ok!(close(index));
		assert_eq!(closed_with(index), Outcome::Lapsed);
		assert!(Registry::<Test>::get(1).is_none());
	});
}

#[test]
fn the_chain_looks_at_one_proposal_per_block_and_reaches_every_one() {
	ExtBuilder::default().build_and_execute(|| {
		let indices: Vec<_> = (1..=3).map(|proposer| open(proposer, register_call("p"))).collect();
		let closed =
			|| events().iter().filter(|event| matches!(event, Event::Closed { .. })).count();
		run_to_block(CLOSED_BY_THE_CHAIN - 1);
		assert_eq!(closed(), 0);
		// Each block closes at most one; within `MaxProposals` (3) blocks all are closed.
		for block in CLOSED_BY_THE_CHAIN..CLOSED_BY_THE_CHAIN + 3 {
			let before = closed();
			run_to_block(block);
			assert!(closed() <= before + 1, "one proposal's closing work per block");
		}
		for index in indices {
			assert_eq!(closed_with(index), Outcome::Expired);
		}
		assert_eq!(Proposals::<Test>::count(), 0);
		// With nothing open the hook only reads.
		run_to_block(CLOSED_BY_THE_CHAIN + 4);
		assert_eq!(ExpiryCursor::<Test>::get(), None);
	});
}

#[test]
fn a_passed_proposal_with_many_votes_has_them_deleted_in_batches_then_lapses() {
	let voters = EXPIRY_VOTES_PER_BLOCK + 44;
	let mut builder = ExtBuilder::default();
	for who in 100..100 + u64::from(voters) {
		builder = builder.power(who, 1);
	}
	builder.build_and_execute(|| {
		let index = open(1, register_call("crowded"));
		for who in 100..100 + u64::from(voters) {
			assert_ok!(Models::vote(signed(who), index, Vote::Aye));
		}
		run_to_block(CLOSED_BY_THE_CHAIN);
		// The first block past the closing period deletes one batch only.
		let left = Proposals::<Test>::get(index).expect("still open").votes;
		assert_eq!(left, voters - EXPIRY_VOTES_PER_BLOCK);
		assert_eq!(Votes::<Test>::iter_prefix(index).count() as u32, left);
		run_to_block(CLOSED_BY_THE_CHAIN + 1);
		assert_eq!(closed_with(index), Outcome::Lapsed);
		assert!(!events().iter().any(|event| matches!(event, Event::Executed { .. })));
		assert_eq!(Votes::<Test>::iter_prefix(index).count(), 0);
		assert_eq!(TestPower::held_snapshots(), 0);
	});
}

#[test]
fn a_vetoed_proposal_the_chain_closes_pays_its_deposit_to_the_community_pool() {
	ExtBuilder::default().build_and_execute(|| {
		let pool = Balances::free_balance(POOL);
		let index = open(1, register_call("vetoed"));
		assert_ok!(Models::vote(signed(4), index, Vote::Veto));
		run_to_block(CLOSED_BY_THE_CHAIN);
		assert_eq!(closed_with(index), Outcome::Vetoed);
		assert_eq!(Balances::free_balance(POOL), pool + DEPOSIT);
		assert_eq!(held(1), 0);
	});
}

#[test]
fn a_change_of_the_voting_period_moves_no_open_proposals_deadline() {
	ExtBuilder::default().build_and_execute(|| {
		let index = open(1, register_call("steady"));
		assert_ok!(Models::vote(signed(4), index, Vote::Aye));
		assert_ok!(Models::vote(signed(3), index, Vote::Aye));
		// Governance shortens the voting period to one block: the passed proposal may still
		// be enacted until `ClosingPeriod` after its own end.
		let mut params = governance();
		params.voting_period = 1;
		assert_ok!(Models::set_governance_params(root(), params));
		run_to_block(CLOSED_BY_THE_CHAIN - 1);
		assert_ok!(close(index));
		assert_eq!(closed_with(index), Outcome::Passed);
	});
}
