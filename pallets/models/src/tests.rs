//! Every rule of the registry and of governance, and bad input.

use crate::{mock::*, *};
use codec::Encode;
use polkadot_sdk::{
	frame_support::{
		assert_noop, assert_ok,
		traits::{fungible::InspectHold, EnsureOrigin},
		weights::Weight,
	},
	frame_system::{self, RawOrigin},
	sp_arithmetic::{FixedU128, Perbill},
	sp_runtime::{DispatchError, TokenError},
};

type ModelsCall = crate::Call<Test>;

fn root() -> RuntimeOrigin {
	RawOrigin::Root.into()
}

fn signed(who: u64) -> RuntimeOrigin {
	RawOrigin::Signed(who).into()
}

fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Models(event) => Some(event),
			_ => None,
		})
		.collect()
}

fn register_call(name: &str) -> Box<RuntimeCall> {
	Box::new(RuntimeCall::Models(ModelsCall::register_model { record: record(name) }))
}

fn open(proposer: u64, call: Box<RuntimeCall>) -> ProposalIndex {
	let index = ProposalCount::<Test>::get();
	assert_ok!(Models::propose(signed(proposer), call));
	index
}

fn close(
	index: ProposalIndex,
) -> polkadot_sdk::frame_support::dispatch::DispatchResultWithPostInfo {
	Models::close(signed(9), index, Weight::MAX, 16)
}

fn held(who: u64) -> u64 {
	Balances::balance_on_hold(&HoldReason::ProposalDeposit.into(), &who)
}

fn closed_with(index: ProposalIndex) -> Outcome {
	events()
		.into_iter()
		.find_map(|event| match event {
			Event::Closed { index: closed, outcome, .. } if closed == index => Some(outcome),
			_ => None,
		})
		.expect("the proposal closed")
}

/// Sets the hosts' power: `powers[i]` for host `i + 1`, nobody else.
fn powers(powers: &[u128]) {
	for host in 1..=8 {
		TestPower::set(host, 0);
	}
	for (i, power) in powers.iter().enumerate() {
		TestPower::set(i as u64 + 1, *power);
	}
}

mod registry {
	use super::*;

	#[test]
	fn genesis_models_are_approved_from_the_start() {
		run(|| {
			assert!(Models::is_approved(0));
			assert_eq!(Models::coefficient(0), Some(FixedU128::from_u32(1)));
			assert_eq!(NextModelId::<Test>::get(), 1);
			assert!(!Models::is_approved(1));
			assert_eq!(Models::coefficient(1), None);
		});
	}

	#[test]
	fn only_governance_registers_updates_and_retires_models() {
		run(|| {
			let bad = DispatchError::BadOrigin;
			assert_noop!(Models::register_model(signed(1), record("m")), bad);
			assert_noop!(Models::update_model(signed(1), 0, record("m")), bad);
			assert_noop!(Models::retire_model(signed(1), 0), bad);
			assert_noop!(Models::set_governance_params(signed(1), governance()), bad);
			// Root (development chains) and a passed proposal's origin are governance.
			assert_ok!(Models::register_model(root(), record("by root")));
			assert_ok!(Models::register_model(Origin::ComputeMajority.into(), record("by vote")));
			assert_eq!(NextModelId::<Test>::get(), 3);
		});
	}

	#[test]
	fn the_compute_majority_origin_comes_only_from_passed_proposals() {
		run(|| {
			assert!(EnsureComputeMajority::try_origin(RuntimeOrigin::from(
				Origin::ComputeMajority
			))
			.is_ok());
			assert!(EnsureComputeMajority::try_origin(root()).is_err());
			assert!(EnsureComputeMajority::try_origin(signed(4)).is_err());
		});
	}

	#[test]
	fn a_registered_model_is_approved_when_the_next_epoch_starts() {
		run(|| {
			assert_ok!(Models::register_model(root(), record("second")));
			assert_eq!(Registry::<Test>::get(1).unwrap().status, ModelStatus::Proposed);
			assert!(!Models::is_approved(1));
			assert_eq!(PendingChanges::<Test>::get().to_vec(), vec![1]);
			Models::on_epoch_start(7);
			assert!(Models::is_approved(1));
			assert!(PendingChanges::<Test>::get().is_empty());
			assert!(events().contains(&Event::ModelApproved { model: 1, epoch: 7 }));
		});
	}

	#[test]
	fn a_model_update_changes_its_parameters_only_from_the_next_epoch() {
		run(|| {
			let mut changed = record("SmolLM2-135M-Instruct");
			changed.poc.seq_len = 128;
			changed.poc.dist_threshold = Perbill::from_percent(25);
			assert_ok!(Models::update_model(root(), 0, changed.clone()));
			// The epoch in progress keeps its parameters.
			assert_eq!(Models::approved(0).unwrap().poc.seq_len, 64);
			assert!(events().contains(&Event::ModelUpdateScheduled { model: 0 }));
			Models::on_epoch_start(3);
			assert_eq!(Models::approved(0).unwrap(), changed);
			assert!(events().contains(&Event::ModelUpdated { model: 0, epoch: 3 }));
		});
	}

	#[test]
	fn a_second_update_waits_for_the_first() {
		run(|| {
			assert_ok!(Models::update_model(root(), 0, record("first")));
			assert_noop!(
				Models::update_model(root(), 0, record("second")),
				Error::<Test>::ChangePending
			);
			Models::on_epoch_start(1);
			assert_ok!(Models::update_model(root(), 0, record("second")));
		});
	}

	#[test]
	fn updating_a_proposed_model_replaces_its_record_at_once() {
		run(|| {
			assert_ok!(Models::register_model(root(), record("draft")));
			assert_ok!(Models::update_model(root(), 1, record("final")));
			assert_eq!(Registry::<Test>::get(1).unwrap().record, record("final"));
			assert!(!Models::is_approved(1));
			Models::on_epoch_start(1);
			assert_eq!(Models::approved(1), Some(record("final")));
		});
	}

	#[test]
	fn retiring_an_approved_model_takes_effect_from_the_next_epoch() {
		run(|| {
			assert_ok!(Models::retire_model(root(), 0));
			assert!(Models::is_approved(0), "served until the epoch ends");
			assert!(events().contains(&Event::ModelRetirementScheduled { model: 0 }));
			Models::on_epoch_start(5);
			assert!(!Models::is_approved(0));
			assert_eq!(Models::coefficient(0), None, "its PoC weight no longer counts");
			assert_eq!(Registry::<Test>::get(0).unwrap().status, ModelStatus::Retired);
			assert!(events().contains(&Event::ModelRetired { model: 0, epoch: Some(5) }));
		});
	}

	#[test]
	fn retiring_a_proposed_model_is_immediate_and_cancels_its_approval() {
		run(|| {
			assert_ok!(Models::register_model(root(), record("never served")));
			assert_ok!(Models::retire_model(root(), 1));
			assert_eq!(Registry::<Test>::get(1).unwrap().status, ModelStatus::Retired);
			assert!(PendingChanges::<Test>::get().is_empty());
			Models::on_epoch_start(1);
			assert!(!Models::is_approved(1));
		});
	}

	#[test]
	fn retiring_drops_a_scheduled_update() {
		run(|| {
			assert_ok!(Models::update_model(root(), 0, record("update")));
			assert_ok!(Models::retire_model(root(), 0));
			assert_eq!(PendingChanges::<Test>::get().to_vec(), vec![0]);
			Models::on_epoch_start(1);
			let info = Registry::<Test>::get(0).unwrap();
			assert_eq!(info.status, ModelStatus::Retired);
			assert_eq!(info.record, record("SmolLM2-135M-Instruct"));
		});
	}

	#[test]
	fn a_retired_model_cannot_be_updated_or_retired_again() {
		run(|| {
			assert_ok!(Models::retire_model(root(), 0));
			assert_noop!(Models::retire_model(root(), 0), Error::<Test>::ModelRetired);
			Models::on_epoch_start(1);
			assert_noop!(Models::retire_model(root(), 0), Error::<Test>::ModelRetired);
			assert_noop!(Models::update_model(root(), 0, record("x")), Error::<Test>::ModelRetired);
		});
	}

	#[test]
	fn an_unknown_model_is_refused() {
		run(|| {
			assert_noop!(
				Models::update_model(root(), 42, record("x")),
				Error::<Test>::UnknownModel
			);
			assert_noop!(Models::retire_model(root(), 42), Error::<Test>::UnknownModel);
		});
	}

	#[test]
	fn bad_records_are_refused() {
		run(|| {
			let cases: Vec<(fn(&mut ModelRecordOf<Test>), Error<Test>)> = vec![
				(|r| r.name = Default::default(), Error::<Test>::EmptyName),
				(|r| r.poc.seq_len = 0, Error::<Test>::ZeroSeqLen),
				(|r| r.coefficient = FixedU128::from_u32(0), Error::<Test>::ZeroCoefficient),
				(|r| r.poc.dist_threshold = Perbill::zero(), Error::<Test>::ZeroDistThreshold),
				(|r| r.poc.p_mismatch = Perbill::zero(), Error::<Test>::InvalidProbability),
				(|r| r.poc.p_mismatch = Perbill::one(), Error::<Test>::InvalidProbability),
				(|r| r.poc.p_value = Perbill::one(), Error::<Test>::InvalidProbability),
				(
					|r| r.validation_threshold = Perbill::zero(),
					Error::<Test>::ZeroValidationThreshold,
				),
				(|r| r.max_context = 0, Error::<Test>::InvalidContext),
				(|r| r.template_overhead = r.max_context, Error::<Test>::InvalidContext),
				(|r| r.price = 0, Error::<Test>::ZeroPrice),
			];
			for (spoil, error) in cases {
				let error = DispatchError::from(error);
				let mut bad = record("bad");
				spoil(&mut bad);
				assert_noop!(Models::register_model(root(), bad.clone()), error);
				assert_noop!(Models::update_model(root(), 0, bad), error);
			}
		});
	}

	#[test]
	fn oversized_fields_do_not_decode() {
		run(|| {
			// A call whose name is one byte over the bound: the same encoding as the
			// register call with a plain vector, which the runtime refuses to decode.
			let call = register_call("n");
			let mut encoded = call.encode();
			let name_at = 2; // pallet index, call index
			let long = vec![b'x'; 65];
			encoded.splice(name_at..name_at + 2, long.encode());
			assert!(<RuntimeCall as codec::Decode>::decode(&mut &encoded[..]).is_err());
			let fits = vec![b'x'; 64];
			let mut encoded = register_call("n").encode();
			encoded.splice(name_at..name_at + 2, fits.encode());
			assert!(<RuntimeCall as codec::Decode>::decode(&mut &encoded[..]).is_ok());
		});
	}

	#[test]
	fn the_registry_and_the_schedule_are_bounded() {
		run(|| {
			// Four changes may be scheduled for one epoch start (the mock's bound).
			for i in 0..4 {
				assert_ok!(Models::register_model(root(), record(&format!("m{i}"))));
			}
			assert_noop!(
				Models::register_model(root(), record("fifth")),
				Error::<Test>::TooManyPendingChanges
			);
			Models::on_epoch_start(1);
			// Eight models in all (the mock's bound).
			for i in 4..7 {
				assert_ok!(Models::register_model(root(), record(&format!("m{i}"))));
			}
			assert_eq!(Registry::<Test>::count(), 8);
			Models::on_epoch_start(2);
			assert_noop!(
				Models::register_model(root(), record("ninth")),
				Error::<Test>::TooManyModels
			);
		});
	}

	#[test]
	fn governance_params_are_checked() {
		run(|| {
			let invalid = [
				GovernanceParams { voting_period: 0, ..governance() },
				GovernanceParams { quorum: Perbill::zero(), ..governance() },
				GovernanceParams { threshold: Perbill::one(), ..governance() },
				GovernanceParams { veto_threshold: Perbill::zero(), ..governance() },
			];
			for params in invalid {
				assert_noop!(
					Models::set_governance_params(root(), params),
					Error::<Test>::InvalidGovernanceParams
				);
			}
			let params = GovernanceParams { voting_period: 3, ..governance() };
			assert_ok!(Models::set_governance_params(root(), params));
			assert_eq!(Governance::<Test>::get(), Some(params));
			assert!(events().contains(&Event::GovernanceParamsSet { params }));
		});
	}
}

mod governance {
	use super::*;

	#[test]
	fn the_default_genesis_has_the_live_networks_rules() {
		// What a chain without a test preset (production) starts with: 48 hours of
		// 6-second blocks, quorum 25%, threshold > 50%, veto 33.4%.
		let params = GenesisConfig::<Test>::default().governance;
		assert_eq!(params.voting_period, 48 * 60 * 60 / 6);
		assert_eq!(params.quorum, Perbill::from_percent(25));
		assert_eq!(params.threshold, Perbill::from_percent(50));
		assert_eq!(params.veto_threshold, Perbill::from_parts(334_000_000));
		assert!(Models::check_governance(&params).is_ok());
	}

	#[test]
	fn only_hosts_with_voting_power_propose() {
		run(|| {
			assert_noop!(
				Models::propose(signed(5), register_call("x")),
				Error::<Test>::NoVotingPower
			);
			assert_ok!(Models::propose(signed(1), register_call("x")));
		});
	}

	#[test]
	fn a_proposal_holds_the_deposit_and_snapshots_voting_power() {
		run(|| {
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
		run(|| {
			TestPower::set(20, 5);
			assert_noop!(
				Models::propose(signed(20), register_call("x")),
				TokenError::FundsUnavailable
			);
		});
	}

	#[test]
	fn power_gained_after_the_proposal_opens_does_not_count() {
		run(|| {
			let index = open(1, register_call("second"));
			TestPower::set(5, 1_000);
			TestPower::set(1, 1_000);
			assert_noop!(Models::vote(signed(5), index, Vote::Aye), Error::<Test>::NotInSnapshot);
			assert_ok!(Models::vote(signed(1), index, Vote::Aye));
			assert_eq!(Proposals::<Test>::get(index).unwrap().tally.aye, 10);
			assert!(events().contains(&Event::Voted {
				index,
				voter: 1,
				vote: Vote::Aye,
				power: 10
			}));
		});
	}

	#[test]
	fn a_passed_proposal_is_dispatched_with_the_compute_majority_origin() {
		run(|| {
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
	fn the_quorum_counts_from_its_exact_boundary() {
		run(|| {
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
		run(|| {
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
		run(|| {
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
	fn a_double_vote_is_refused_and_a_vote_can_change() {
		run(|| {
			let index = open(1, register_call("d"));
			assert_ok!(Models::vote(signed(4), index, Vote::Aye));
			assert_noop!(Models::vote(signed(4), index, Vote::Aye), Error::<Test>::AlreadyVoted);
			assert_ok!(Models::vote(signed(4), index, Vote::Veto));
			let tally = Proposals::<Test>::get(index).unwrap().tally;
			assert_eq!(tally, Tally { aye: 0, nay: 0, veto: 40 });
		});
	}

	#[test]
	fn a_proposal_closes_early_only_when_passing_is_certain() {
		run(|| {
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

	#[test]
	fn an_expired_proposal_returns_the_deposit_and_dispatches_nothing() {
		run(|| {
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
		run(|| {
			let call = Box::new(RuntimeCall::Models(ModelsCall::retire_model { model: 77 }));
			let index = open(1, call);
			assert_ok!(Models::vote(signed(4), index, Vote::Aye));
			assert_ok!(Models::vote(signed(3), index, Vote::Aye));
			assert_ok!(close(index));
			assert_eq!(closed_with(index), Outcome::Passed);
			assert!(events().contains(&Event::Executed {
				index,
				result: Err(Error::<Test>::UnknownModel.into())
			}));
			assert_eq!(held(1), 0);
			assert!(Proposals::<Test>::get(index).is_none());
		});
	}

	#[test]
	fn a_call_heavier_than_the_bound_is_not_closed() {
		run(|| {
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
	fn proposals_are_bounded_and_long_calls_refused() {
		run(|| {
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
	fn closing_removes_every_record_of_the_proposal() {
		run(|| {
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
		run(|| {
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
		run(|| {
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
		run(|| {
			assert_noop!(Models::vote(signed(1), 5, Vote::Aye), Error::<Test>::UnknownProposal);
			assert_noop!(close(5), Error::<Test>::UnknownProposal);
		});
	}
}
