//! Status (`protocol.md`, "Inference" 3, 5): the invalidation test, reputation and the
//! validation target.

use super::*;
use gonka_primitives::inference as rules;

#[test]
fn six_invalidations_in_a_row_mark_an_executor_invalid_for_the_epoch_and_five_do_not() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		// Two hosts: the other is always sampled and alone holds the power besides the
		// executor's, so its failing report invalidates at once.
		let mut invalidations = [0u32; 3];
		while invalidations[1] < 6 {
			for (id, executor) in finished_pair() {
				assert_ok!(validate_as(3 - executor, id, Perbill::zero()));
				assert_eq!(status(id), RequestStatus::Closed(Outcome::Invalidated));
				invalidations[usize::from(executor)] += 1;
				let stats = Ledger::<Test>::get(0, account(executor));
				assert_eq!(stats.invalid, invalidations[usize::from(executor)] >= 6, "{stats:?}");
			}
		}
		assert_eq!(Poc::epoch_now(), 0, "six invalidations within epoch 0");
		assert!(events().contains(&Event::HostInvalid { host: account(1), epoch: 0 }));
		assert!(Reputations::<Test>::get(account(1)).invalid);
	});
}

#[test]
fn reputation_grows_with_clean_epochs_and_misses_take_it_back() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		// An epoch with a finished request and no miss is clean.
		let (_, _) = finished();
		run_to_block(21);
		assert_eq!(Inference::reputation_at(&account(1), 1).clean_epochs, 1);
		// A miss in epoch 1 (a single host: the request expires at its refusal).
		submit();
		run_to_block(25);
		assert_eq!(Reputations::<Test>::get(account(1)).misses, 1);
		run_to_block(41);
		assert_eq!(Inference::reputation_at(&account(1), 2).clean_epochs, 0);
		assert_eq!(Inference::host_view(&account(1)).reputation, 0);
	});
}

#[test]
fn the_target_falls_with_reputation_and_traffic() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		Reputations::<Test>::insert(
			account(1),
			ReputationState { clean_epochs: 30, epoch: 0, active: true, misses: 0, invalid: false },
		);
		Ledger::<Test>::mutate(0, account(1), |stats| stats.finished = 9_999);
		let mut checked = false;
		for seed in 0..20 {
			TestRandomness::set(seed);
			let id = submit();
			if executor_of(id) == 1 {
				assert_ok!(finish_as(1, result(id, 5)));
				let target = Requests::<Test>::get(id).unwrap().finish.unwrap().target;
				assert_eq!(target, rules::validation_target(100, 10_000));
				assert_eq!(target, Perbill::from_percent(1));
				checked = true;
				break;
			}
		}
		assert!(checked);
	});
}

/// Attack (`docs/security.md`): a host the invalidation test marks INVALID keeps its voting
/// power for the rest of the epoch, so it still judges other hosts' PoC and votes in
/// invalidation votes and governance. Rule: INVALID means no power (`protocol.md`,
/// "Inference" 5): it is taken away when the host is marked, as when a host leaves, until
/// the next weight formation.
#[test]
fn an_invalid_host_loses_its_voting_power_at_once() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		let total = pallet_poc::TotalVotingPower::<Test>::get();
		let power = Poc::voting_power(&account(1));
		assert!(power > 0);
		for _ in 0..100 {
			if Ledger::<Test>::get(0, account(1)).invalid {
				break;
			}
			for (id, executor) in finished_pair() {
				if executor == 1 {
					assert_ok!(validate_as(2, id, Perbill::zero()));
				}
			}
		}
		assert!(Ledger::<Test>::get(0, account(1)).invalid);
		assert_eq!(Poc::voting_power(&account(1)), 0);
		assert_eq!(pallet_poc::TotalVotingPower::<Test>::get(), total - power);
		assert!(System::events().iter().any(|record| record.event
			== RuntimeEvent::Poc(pallet_poc::Event::PowerRevoked { host: account(1), power })));
	});
}

#[test]
fn a_departed_hosts_reputation_is_pruned_and_a_registered_hosts_is_kept() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		// Both hosts have a reputation entry once they have worked.
		for _ in 0..20 {
			if Reputations::<Test>::contains_key(account(1))
				&& Reputations::<Test>::contains_key(account(2))
			{
				break;
			}
			let _ = finished();
			run_to_block(System::block_number() + 1);
		}
		assert!(Reputations::<Test>::contains_key(account(1)), "host 1 worked");
		assert_ok!(Poc::leave(RuntimeOrigin::signed(account(1))));
		// One host looked at per block: two blocks reach both entries.
		run_to_block(System::block_number() + 2);
		assert!(!Reputations::<Test>::contains_key(account(1)), "the departed host's is gone");
		assert!(events().contains(&Event::ReputationPruned { host: account(1) }));
		assert!(Reputations::<Test>::contains_key(account(2)), "a registered host's stays");
		run_to_block(System::block_number() + 4);
		assert!(Reputations::<Test>::contains_key(account(2)));
		// Registered again, it starts from reputation 0: its results are checked the most.
		assert_eq!(Inference::host_view(&account(1)).reputation, 0);
	});
}

/// What inference channels ask of the ledger (`WorkLedger`): a settlement's traffic counts
/// toward its executor's validation target, and its samples' passes and invalidations are
/// steps of the same invalidation test, in the settlement's epoch while that epoch's ledger
/// is not settled.
#[test]
fn channel_outcomes_are_steps_of_the_same_invalidation_test_in_the_settlements_epoch() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		Reputations::<Test>::insert(
			account(1),
			ReputationState { clean_epochs: 30, epoch: 0, active: true, misses: 0, invalid: false },
		);
		assert_eq!(
			<Inference as WorkLedger<_>>::target_of(&account(1), 9_999),
			rules::validation_target(100, 9_999)
		);
		<Inference as WorkLedger<_>>::note_traffic(&account(1), 9_999);
		assert_eq!(Ledger::<Test>::get(0, account(1)).finished, 9_999);
		assert_eq!(
			<Inference as WorkLedger<_>>::target_of(&account(1), 1),
			rules::validation_target(100, 10_000)
		);
		// Passes: validated, no mark.
		<Inference as WorkLedger<_>>::judge_many(&account(1), 0, 40, 0);
		let stats = Ledger::<Test>::get(0, account(1));
		assert_eq!((stats.validated, stats.invalidated, stats.invalid), (40, 0, false));
		// Six invalidations cross the boundary from where the passes left the test.
		let sprt = Params::<Test>::get().sprt.sprt().unwrap();
		let mut llr = stats.llr;
		let mut steps = 0;
		while !sprt.is_invalid(llr) {
			llr = sprt.step(llr, true);
			steps += 1;
		}
		<Inference as WorkLedger<_>>::judge_many(&account(1), 0, 0, steps - 1);
		assert!(!Ledger::<Test>::get(0, account(1)).invalid);
		<Inference as WorkLedger<_>>::judge_many(&account(1), 0, 0, 1);
		assert!(Ledger::<Test>::get(0, account(1)).invalid);
		assert!(events().contains(&Event::HostInvalid { host: account(1), epoch: 0 }));
		// Epoch 0's ledger settled (from block 41): the outcome counts in the epoch in
		// progress.
		run_to_block(41);
		assert_eq!(UnsettledEpoch::<Test>::get(), 1);
		<Inference as WorkLedger<_>>::judge_many(&account(2), 0, 1, 0);
		assert_eq!(Ledger::<Test>::get(Poc::epoch_now(), account(2)).validated, 1);
		assert_eq!(
			<Inference as WorkLedger<_>>::validator_share(),
			Params::<Test>::get().validator_share
		);
	});
}
