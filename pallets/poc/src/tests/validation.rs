//! Batched PoC validation: the `authorize` rule of `submit_poc_validations`, rosters,
//! tallies and voting power.

use super::*;
use crate::{Call, Tally, TotalVotingPower, Validated, VotingPower};
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
			assert_eq!(VotingPower::<Test>::get(account(i)), 1);
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
		run_to_block(6);
		assert_eq!(crate::Tallies::<Test>::get(0, 1).len(), 0, "not before validation");
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
		assert_eq!(VotingPower::<Test>::get(account(3)), 0);
		assert_eq!(TotalVotingPower::<Test>::get(), 2);
	});
}
