//! Batched PoC validation: the `authorize` rule of `submit_poc_validations`, rosters,
//! tallies and voting power.

use super::*;
use crate::{Call, Tally, TotalVotingPower, Validated};
use gonka_primitives::{
	duty::{Duty, PocCommit, PocValidation, Verdict},
	H256,
};
use polkadot_sdk::{
	frame_support::{pallet_prelude::*, traits::Authorize},
	frame_system::RawOrigin,
	sp_core::sr25519,
};

type Batch = PocValidation<ConstU32<MAX_HOSTS>>;

/// Runs `test` once hosts 1, 2, 3 (power 1 each) committed on model 1 in epoch 0, at
/// block 7, the first of validation; then checks the invariants.
fn committed_epoch(test: impl FnOnce()) {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		for i in [1u8, 2, 3] {
			let commit = PocCommit { epoch: 0, model: 1, count: 50, root: H256::repeat_byte(i) };
			let signature = commit.sign(&Poc::genesis_hash(), &account(i), &worker(i));
			assert_ok!(Poc::commit_poc(
				RawOrigin::Authorized.into(),
				account(i),
				commit,
				signature
			));
		}
		run_to_block(7);
		test();
	});
}

fn batch(verdicts: &[(u8, bool)]) -> Batch {
	Batch {
		epoch: 0,
		model: 1,
		verdicts: verdicts
			.iter()
			.map(|&(i, valid)| Verdict { host: account(i), valid })
			.collect::<Vec<_>>()
			.try_into()
			.unwrap(),
	}
}

fn call(i: u8, batch: Batch, signature: sr25519::Signature) -> Call<Test> {
	Call::submit_poc_validations { validator: account(i), validation: batch, signature }
}

fn authorize(i: u8, batch: &Batch) -> Result<ValidTransaction, TransactionValidityError> {
	let signature = batch.sign(&Poc::genesis_hash(), &account(i), &worker(i));
	call(i, batch.clone(), signature)
		.authorize(TransactionSource::External)
		.expect("submit_poc_validations has an authorize rule")
		.map(|(validity, _)| validity)
}

fn submit(i: u8, batch: Batch) -> DispatchResult {
	authorize(i, &batch).map_err(|_| "not authorized")?;
	let signature = batch.sign(&Poc::genesis_hash(), &account(i), &worker(i));
	Poc::submit_poc_validations(RawOrigin::Authorized.into(), account(i), batch, signature)
}

fn custom(error: Error<Test>) -> TransactionValidityError {
	match DispatchError::from(error) {
		DispatchError::Module(module) => InvalidTransaction::Custom(module.error[0]).into(),
		_ => unreachable!("pallet errors are module errors"),
	}
}

#[test]
fn genesis_hosts_have_equal_power_in_the_first_epoch() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		for i in [1u8, 2, 3] {
			assert_eq!(Poc::voting_power(&account(i)), 1);
		}
		assert_eq!(TotalVotingPower::<Test>::get(), 3);
	});
}

#[test]
fn a_batch_adds_the_validators_power_to_each_verdict() {
	committed_epoch(|| {
		let validity = authorize(1, &batch(&[(2, true), (3, false)])).unwrap();
		assert_eq!(validity.longevity, 5, "until validation ends at block 12");
		assert_ok!(submit(1, batch(&[(2, true), (3, false)])));
		assert_ok!(submit(2, batch(&[(1, true), (3, false)])));
		assert_eq!(Poc::tally(0, &account(2), 1), Tally { valid: 1, invalid: 0 });
		assert_eq!(Poc::tally(0, &account(3), 1), Tally { valid: 0, invalid: 2 });
		assert_eq!(Poc::tally(0, &account(1), 1), Tally { valid: 1, invalid: 0 });
		assert!(Validated::<Test>::contains_key(0, (1, account(1))));
		assert_eq!(
			poc_events().last(),
			Some(&Event::PocValidationsSubmitted {
				validator: account(2),
				epoch: 0,
				model: 1,
				verdicts: 2
			})
		);
	});
}

#[test]
fn a_second_batch_is_refused() {
	committed_epoch(|| {
		assert_ok!(submit(1, batch(&[(2, true)])));
		assert_eq!(authorize(1, &batch(&[(3, true)])), Err(InvalidTransaction::Stale.into()));
		let b = batch(&[(3, true)]);
		let signature = b.sign(&Poc::genesis_hash(), &account(1), &worker(1));
		assert_noop!(
			Poc::submit_poc_validations(RawOrigin::Authorized.into(), account(1), b, signature),
			Error::<Test>::AlreadyValidated
		);
	});
}

#[test]
fn validation_opens_with_a_sorted_roster_of_the_registered_hosts_that_committed() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		for i in [3u8, 1, 2] {
			let commit = PocCommit { epoch: 0, model: 1, count: 50, root: H256::repeat_byte(i) };
			let signature = commit.sign(&Poc::genesis_hash(), &account(i), &worker(i));
			assert_ok!(Poc::commit_poc(
				RawOrigin::Authorized.into(),
				account(i),
				commit,
				signature
			));
		}
		// Host 3 leaves during generation: it is not judged.
		assert_ok!(Poc::leave(RuntimeOrigin::signed(account(3))));
		run_to_block(5);
		assert_eq!(crate::Tallies::<Test>::get(0, 1).len(), 0, "not during generation");
		// Generation ends at block 6: the rosters are built from there.
		run_to_block(6);
		assert_eq!(crate::RostersBuilt::<Test>::get(), Some(0));
		assert!(poc_events().contains(&Event::ValidationOpened { epoch: 0 }));
		run_to_block(7);
		let roster = crate::Tallies::<Test>::get(0, 1);
		let mut expected = vec![account(1), account(2)];
		expected.sort();
		assert_eq!(roster.iter().map(|(host, _)| host.clone()).collect::<Vec<_>>(), expected);
		assert!(roster.iter().all(|(_, tally)| *tally == Tally::default()));
		assert!(crate::Tallies::<Test>::get(0, 2).is_empty(), "no commitment on model 2");
		assert_eq!(
			authorize(1, &batch(&[(2, true), (3, true)])),
			Err(custom(Error::<Test>::NoCommitment))
		);
	});
}

#[test]
fn a_verdict_on_oneself_is_refused() {
	committed_epoch(|| {
		assert_eq!(
			authorize(1, &batch(&[(1, true), (2, true)])),
			Err(custom(Error::<Test>::SelfVerdict))
		);
	});
}

#[test]
fn a_validator_with_no_power_is_refused() {
	committed_epoch(|| {
		assert_ok!(register(4, vec![1]));
		assert_eq!(authorize(4, &batch(&[(1, true)])), Err(custom(Error::<Test>::NoVotingPower)));
	});
}

#[test]
fn unsorted_duplicate_empty_or_uncommitted_verdicts_are_refused() {
	committed_epoch(|| {
		assert_eq!(
			authorize(1, &batch(&[(3, true), (2, true)])),
			Err(custom(Error::<Test>::UnsortedVerdicts))
		);
		assert_eq!(
			authorize(1, &batch(&[(2, true), (2, false)])),
			Err(custom(Error::<Test>::UnsortedVerdicts))
		);
		assert_eq!(authorize(1, &batch(&[])), Err(custom(Error::<Test>::NoVerdicts)));
		assert_eq!(
			authorize(1, &batch(&[(2, true), (9, true)])),
			Err(custom(Error::<Test>::NoCommitment))
		);
	});
}

#[test]
fn a_batch_outside_validation_is_refused() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		// In generation the batch is early.
		assert_eq!(authorize(1, &batch(&[(2, true)])), Err(InvalidTransaction::Future.into()));
	});
	committed_epoch(|| {
		run_to_block(12); // validation is [7, 12)
		assert_eq!(authorize(1, &batch(&[(2, true)])), Err(InvalidTransaction::Stale.into()));
	});
}

#[test]
fn a_forged_or_replayed_signature_is_refused() {
	committed_epoch(|| {
		let b = batch(&[(2, true)]);
		// Signed by host 3's worker key, submitted as host 1.
		let forged = b.sign(&Poc::genesis_hash(), &account(3), &worker(3));
		assert_eq!(
			call(1, b.clone(), forged).authorize(TransactionSource::External).unwrap().map(|_| ()),
			Err(InvalidTransaction::BadProof.into())
		);
		// A commitment's signature by the right key, for another purpose.
		let commit = PocCommit { epoch: 0, model: 1, count: 50, root: H256::zero() };
		let other_purpose = commit.sign(&Poc::genesis_hash(), &account(1), &worker(1));
		assert_eq!(
			call(1, b, other_purpose).authorize(TransactionSource::External).unwrap().map(|_| ()),
			Err(InvalidTransaction::BadProof.into())
		);
	});
}

#[test]
fn a_host_that_leaves_takes_its_power_with_it() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		assert_ok!(Poc::leave(RuntimeOrigin::signed(account(3))));
		assert_eq!(Poc::voting_power(&account(3)), 0);
		assert_eq!(TotalVotingPower::<Test>::get(), 2);
	});
}

/// Commits `count` nonces for host `i` on `model` in epoch 0 (its generation phase).
fn commit(i: u8, model: u32) {
	let commit = PocCommit { epoch: 0, model, count: 50, root: H256::repeat_byte(i) };
	let signature = commit.sign(&Poc::genesis_hash(), &account(i), &worker(i));
	assert_ok!(Poc::commit_poc(RawOrigin::Authorized.into(), account(i), commit, signature));
}

#[test]
fn rosters_are_built_within_the_hook_budget_and_batches_wait_for_them() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		for i in [1u8, 2, 3] {
			commit(i, 1);
		}
		commit(2, 2);
		// One commitment per block: the four take blocks 6 to 9, into validation (block 7).
		HookBudget::set(&spread(1));
		run_to_block(6);
		assert_eq!(crate::RosterCursor::<Test>::get().map(|(epoch, _)| epoch), Some(0));
		run_to_block(7);
		assert_eq!(crate::RostersBuilt::<Test>::get(), None);
		assert_eq!(authorize(1, &batch(&[(2, true)])), Err(InvalidTransaction::Future.into()));
		let b = batch(&[(2, true)]);
		let signature = b.sign(&Poc::genesis_hash(), &account(1), &worker(1));
		assert_noop!(
			Poc::submit_poc_validations(RawOrigin::Authorized.into(), account(1), b, signature),
			Error::<Test>::RostersNotBuilt
		);
		run_to_block(8);
		assert_eq!(crate::RostersBuilt::<Test>::get(), None);
		run_to_block(9);
		assert_eq!(crate::RostersBuilt::<Test>::get(), Some(0));
		assert_eq!(crate::RosterCursor::<Test>::get(), None);
		let mut expected = vec![account(1), account(2), account(3)];
		expected.sort();
		let roster = crate::Tallies::<Test>::get(0, 1);
		assert_eq!(roster.iter().map(|(host, _)| host.clone()).collect::<Vec<_>>(), expected);
		let roster = crate::Tallies::<Test>::get(0, 2);
		assert_eq!(roster.iter().map(|(host, _)| host.clone()).collect::<Vec<_>>(), [account(2)]);
		assert_ok!(submit(1, batch(&[(2, true)])));
	});
}

#[test]
fn the_spread_work_of_a_block_never_exceeds_the_hook_budget_at_the_most_commitments() {
	// Every host of `MaxHosts` commits on every model it may serve (`MaxModelsPerHost`): the
	// true worst case of the rosters and of the pruning.
	ExtBuilder::default().hosts(&[1, 2, 3, 4, 5, 6]).build_and_execute(|| {
		for i in 1..=MAX_HOSTS as u8 {
			commit(i, 1);
			commit(i, 2);
		}
		let budget = spread(3);
		HookBudget::set(&budget);
		let mut built_at = None;
		// Through the epoch's rosters and, three epochs later, its pruning.
		for n in 2..=80u64 {
			System::set_block_number(n);
			System::set_parent_hash(block_hash(n - 1));
			let used = Poc::on_initialize(n);
			Poc::do_try_state().expect("the pallet's invariants hold");
			assert!(used.all_lte(budget), "block {n}: {used} above the budget {budget}");
			if built_at.is_none() && crate::RostersBuilt::<Test>::get() == Some(0) {
				built_at = Some(n);
				assert_eq!(crate::Tallies::<Test>::get(0, 1).len(), MAX_HOSTS as usize);
				assert_eq!(crate::Tallies::<Test>::get(0, 2).len(), MAX_HOSTS as usize);
			}
		}
		// 12 commitments, 3 per block, from block 6.
		assert_eq!(built_at, Some(9));
		// Epoch 0 left the retention window (2 epochs) when epoch 3 started, at block 61;
		// its 12 commitments, 2 rosters and 0 batches went 3 records per block.
		assert_eq!(crate::PrunedBefore::<Test>::get(), 1);
		assert_eq!(crate::Commitments::<Test>::iter_prefix((0,)).count(), 0);
		assert!(poc_events().contains(&Event::EpochPruned { epoch: 0 }));
	});
}

/// Hole 11 (review): a validator could send a batch for every approved model, whether it
/// serves it or not, so an epoch's batch markers were bounded by the registry's models, not
/// by `MaxModelsPerHost`; and it cannot judge a model it does not run.
#[test]
fn a_validator_judges_only_the_models_it_serves() {
	committed_epoch(|| {
		assert_ok!(Poc::leave(RuntimeOrigin::signed(account(3))));
		assert_ok!(register(3, vec![2]));
		Poc::force_voting_power(&[(account(1), 1), (account(2), 1), (account(3), 1)]);
		assert_eq!(
			authorize(3, &batch(&[(1, true), (2, true)])),
			Err(custom(Error::<Test>::ModelNotServed))
		);
		assert_ok!(submit(1, batch(&[(2, true)])));
	});
}
