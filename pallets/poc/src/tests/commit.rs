//! PoC commitments: the `authorize` rule of `commit_poc` and its dispatch.

use super::*;
use crate::{Call, Commitment, Commitments};
use gonka_primitives::{
	duty::{Duty, PocCommit, PocValidation},
	H256,
};
use polkadot_sdk::{
	frame_support::{pallet_prelude::*, traits::Authorize},
	frame_system::RawOrigin,
	sp_core::{sr25519, ConstU32},
};

fn commit(count: u64) -> PocCommit {
	PocCommit { epoch: 0, model: 1, count, root: H256::repeat_byte(count as u8) }
}

fn signed(i: u8, commit: &PocCommit) -> sr25519::Signature {
	commit.sign(&Poc::genesis_hash(), &account(i), &worker(i))
}

fn call(i: u8, commit: PocCommit, signature: sr25519::Signature) -> Call<Test> {
	Call::commit_poc { host: account(i), commit, signature }
}

/// What the transaction pool hears from `authorize`.
fn authorize(call: &Call<Test>) -> Result<ValidTransaction, TransactionValidityError> {
	call.authorize(TransactionSource::External)
		.expect("commit_poc has an authorize rule")
		.map(|(validity, _refund)| validity)
}

/// Authorizes and dispatches as the transaction pool and the block builder would.
fn submit(i: u8, commit: PocCommit) -> DispatchResult {
	let signature = signed(i, &commit);
	authorize(&call(i, commit.clone(), signature)).map_err(|_| "not authorized")?;
	Poc::commit_poc(RawOrigin::Authorized.into(), account(i), commit, signature)
}

#[test]
fn a_commit_in_generation_is_authorized_and_stored() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		let c = commit(100);
		let validity = authorize(&call(1, c.clone(), signed(1, &c))).unwrap();
		assert_eq!(validity.priority, u64::MAX / 2 + 100, "the duty priority, plus the count");
		assert_eq!(validity.longevity, 5, "until generation ends at block 6");
		assert_ok!(submit(1, c.clone()));
		assert_eq!(
			Commitments::<Test>::get((0, 1, account(1))),
			Some(Commitment { count: 100, root: c.root, submissions: 1 })
		);
		assert_eq!(
			poc_events().last(),
			Some(&Event::PocCommitted {
				host: account(1),
				epoch: 0,
				model: 1,
				count: 100,
				root: c.root
			})
		);
	});
}

#[test]
fn the_count_only_grows_and_the_last_commit_counts() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		assert_ok!(submit(1, commit(100)));
		assert_ok!(submit(1, commit(250)));
		let stored = Commitments::<Test>::get((0, 1, account(1))).unwrap();
		assert_eq!((stored.count, stored.root, stored.submissions), (250, commit(250).root, 2));
		// Shrinking or repeating the count is stale, to the pool and to dispatch.
		for count in [250, 249] {
			let c = commit(count);
			assert_eq!(
				authorize(&call(1, c.clone(), signed(1, &c))),
				Err(InvalidTransaction::Stale.into())
			);
			assert_noop!(
				Poc::commit_poc(RawOrigin::Authorized.into(), account(1), c.clone(), signed(1, &c)),
				Error::<Test>::CountNotGrowing
			);
		}
	});
}

#[test]
fn a_replayed_commit_is_stale() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		let c = commit(100);
		let signature = signed(1, &c);
		assert_ok!(submit(1, c.clone()));
		assert_eq!(authorize(&call(1, c, signature)), Err(InvalidTransaction::Stale.into()));
	});
}

/// Attack (`docs/security.md`): a host signs many valid commitments of distinct counts
/// for one model and keeps them all in the transaction pool (each valid until generation
/// ends). Rule: one pool slot per (host, epoch, model): every commitment of it provides the
/// same tag, and a higher count has a higher priority, so the pool keeps only the highest.
#[test]
fn one_pool_slot_per_host_epoch_and_model_the_higher_count_replacing_the_lower() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		let flood: Vec<_> = (1..=64u64)
			.map(|count| {
				let c = commit(count * 10);
				authorize(&call(1, c.clone(), signed(1, &c))).unwrap()
			})
			.collect();
		assert!(flood.iter().all(|validity| validity.provides == flood[0].provides));
		assert_eq!(flood[0].provides.len(), 1);
		assert!(flood.windows(2).all(|pair| pair[1].priority > pair[0].priority));
		// Another host, or the same host's other model, has its own slot.
		let c = commit(100);
		let other_host = authorize(&call(2, c.clone(), signed(2, &c))).unwrap();
		assert_ne!(other_host.provides, flood[0].provides);
		let other_model = PocCommit { model: 2, ..commit(100) };
		let other_model =
			authorize(&call(1, other_model.clone(), signed(1, &other_model))).unwrap();
		assert_ne!(other_model.provides, flood[0].provides);
	});
}

#[test]
fn a_forged_signature_is_refused() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		let c = commit(100);
		// Host 2's worker key signs for host 1.
		assert_eq!(
			authorize(&call(1, c.clone(), signed(2, &c))),
			Err(InvalidTransaction::BadProof.into())
		);
		// A signature of another payload.
		assert_eq!(
			authorize(&call(1, c, signed(1, &commit(101)))),
			Err(InvalidTransaction::BadProof.into())
		);
	});
}

#[test]
fn a_signature_for_another_chain_is_refused() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		let c = commit(100);
		let other_chain = c.sign(&H256::repeat_byte(0xee), &account(1), &worker(1));
		assert_eq!(authorize(&call(1, c, other_chain)), Err(InvalidTransaction::BadProof.into()));
	});
}

#[test]
fn a_signature_for_another_purpose_is_refused() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		let c = commit(100);
		// A validation payload for the same epoch and model, signed by the same key.
		let validation =
			PocValidation::<ConstU32<4>> { epoch: 0, model: 1, verdicts: Default::default() };
		let signature = validation.sign(&Poc::genesis_hash(), &account(1), &worker(1));
		assert_eq!(authorize(&call(1, c, signature)), Err(InvalidTransaction::BadProof.into()));
	});
}

#[test]
fn a_commit_outside_generation_is_refused() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		run_to_block(6); // generation of epoch 0 is [1, 6)
		let c = commit(100);
		assert_eq!(
			authorize(&call(1, c.clone(), signed(1, &c))),
			Err(InvalidTransaction::Stale.into())
		);
		assert_noop!(
			Poc::commit_poc(RawOrigin::Authorized.into(), account(1), c.clone(), signed(1, &c)),
			Error::<Test>::WrongPhase
		);
	});
}

#[test]
fn a_commit_for_another_epoch_is_refused() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		let future = PocCommit { epoch: 1, ..commit(100) };
		assert_eq!(
			authorize(&call(1, future.clone(), signed(1, &future))),
			Err(InvalidTransaction::Future.into())
		);
		run_to_block(21); // epoch 1
		let past = commit(100);
		assert_eq!(
			authorize(&call(1, past.clone(), signed(1, &past))),
			Err(InvalidTransaction::Stale.into())
		);
	});
}

#[test]
fn a_commit_for_a_model_not_served_or_not_approved_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(register(1, vec![2]));
		let not_served = commit(100); // model 1
		assert_eq!(
			authorize(&call(1, not_served.clone(), signed(1, &not_served))),
			Err(InvalidTransaction::Custom(error_index(Error::<Test>::ModelNotServed)).into())
		);
		let unapproved = PocCommit { model: 9, ..commit(100) };
		assert!(authorize(&call(1, unapproved.clone(), signed(1, &unapproved))).is_err());
	});
}

#[test]
fn a_commit_of_zero_nonces_is_refused() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		let c = commit(0);
		assert_eq!(
			authorize(&call(1, c.clone(), signed(1, &c))),
			Err(InvalidTransaction::Custom(error_index(Error::<Test>::ZeroCount)).into())
		);
	});
}

#[test]
fn an_unregistered_host_cannot_commit() {
	ExtBuilder::default().build_and_execute(|| {
		let c = commit(100);
		assert_eq!(
			authorize(&call(1, c.clone(), signed(1, &c))),
			Err(InvalidTransaction::BadSigner.into())
		);
	});
}

#[test]
fn a_host_has_a_budget_of_commits_per_model_and_epoch() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		for count in 1..=MAX_COMMITS as u64 {
			assert_ok!(submit(1, commit(count * 10)));
		}
		let c = commit(1_000);
		assert_eq!(
			authorize(&call(1, c.clone(), signed(1, &c))),
			Err(InvalidTransaction::ExhaustsResources.into())
		);
		// Another model has its own budget.
		let other = PocCommit { model: 2, ..commit(1_000) };
		assert!(authorize(&call(1, other.clone(), signed(1, &other))).is_ok());
	});
}

#[test]
fn commit_poc_needs_the_authorized_origin() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		let c = commit(100);
		for origin in
			[RuntimeOrigin::signed(account(1)), RuntimeOrigin::none(), RuntimeOrigin::root()]
		{
			assert_noop!(
				Poc::commit_poc(origin, account(1), c.clone(), signed(1, &c)),
				DispatchError::BadOrigin
			);
		}
	});
}

fn error_index(error: Error<Test>) -> u8 {
	match DispatchError::from(error) {
		DispatchError::Module(module) => module.error[0],
		_ => unreachable!("pallet errors are module errors"),
	}
}

/// Hole 11 (review): accounts that leave and register again during generation each
/// committed, so an epoch's committers (and a roster) were not bounded by `MaxHosts`, nor
/// the commitments by `MaxHosts × MaxModelsPerHost`: an attacker could overfill a roster
/// (dropping honest hosts from it) or stretch the roster building past validation. A host
/// commits from the epoch after the one it registered in.
#[test]
fn a_host_registered_during_an_epoch_commits_from_the_next() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		// Host 1 (genesis) commits; host 2 registers during generation and cannot.
		assert_ok!(submit(1, commit(10)));
		assert_ok!(register(2, vec![1]));
		let c = commit(10);
		assert_eq!(
			authorize(&call(2, c.clone(), signed(2, &c))),
			Err(InvalidTransaction::Custom(crate::validity::error_code(
				Error::<Test>::JoinedThisEpoch
			))
			.into())
		);
		assert_noop!(
			Poc::commit_poc(RawOrigin::Authorized.into(), account(2), c.clone(), signed(2, &c)),
			Error::<Test>::JoinedThisEpoch
		);
		// Leaving and registering again does not reset it: host 1 is now new.
		assert_ok!(Poc::leave(RuntimeOrigin::signed(account(1))));
		assert_ok!(register(1, vec![1]));
		let again = commit(20);
		assert_noop!(
			Poc::commit_poc(
				RawOrigin::Authorized.into(),
				account(1),
				again.clone(),
				signed(1, &again)
			),
			Error::<Test>::JoinedThisEpoch
		);
		// From the next epoch on (it starts at block 21), both commit.
		run_to_block(21);
		let next = PocCommit { epoch: 1, ..commit(10) };
		assert_ok!(submit(1, next.clone()));
		assert_ok!(submit(2, next));
	});
}
