//! One test per rule of the host registry and the epochs, plus bad input.

use crate::{
	mock::*, EpochInfo, EpochParams, Error, Event, HoldReason, Hosts, NextEpochParams, Phase,
	WorkerKeys,
};
use polkadot_sdk::{
	frame_support::{assert_noop, assert_ok, traits::fungible::InspectHold as _},
	sp_core::Pair,
	sp_runtime::DispatchError,
};

fn register(i: u8, models: Vec<u32>) -> polkadot_sdk::frame_support::dispatch::DispatchResult {
	Poc::register_host(RuntimeOrigin::signed(account(i)), worker(i).public(), endpoint(i), models)
}

fn held(i: u8) -> u64 {
	Balances::balance_on_hold(&RuntimeHoldReason::Poc(HoldReason::HostRegistration), &account(i))
}

// ---- host registry -------------------------------------------------------------------------

#[test]
fn registration_stores_the_host_indexes_its_worker_key_and_holds_the_deposit() {
	new_test_ext(&[]).execute_with(|| {
		assert_ok!(register(1, vec![1]));
		let host = Hosts::<Test>::get(account(1)).unwrap();
		assert_eq!(host.worker_key, worker(1).public());
		assert_eq!(host.endpoint.to_vec(), endpoint(1));
		assert_eq!(host.models.to_vec(), vec![1]);
		assert_eq!(WorkerKeys::<Test>::get(worker(1).public()), Some(account(1)));
		assert_eq!(held(1), DEPOSIT);
		assert_eq!(
			poc_events().last(),
			Some(&Event::HostRegistered {
				host: account(1),
				worker_key: worker(1).public(),
				models: vec![1]
			})
		);
	});
}

#[test]
fn genesis_hosts_are_registered_with_their_deposit() {
	new_test_ext(&[1, 2]).execute_with(|| {
		assert_eq!(Hosts::<Test>::count(), 2);
		assert_eq!(held(1), DEPOSIT);
		assert_eq!(WorkerKeys::<Test>::get(worker(2).public()), Some(account(2)));
	});
}

#[test]
fn registering_twice_fails() {
	new_test_ext(&[1]).execute_with(|| {
		assert_noop!(register(1, vec![1]), Error::<Test>::AlreadyRegistered);
	});
}

#[test]
fn a_worker_key_serves_one_host_only() {
	new_test_ext(&[1]).execute_with(|| {
		assert_noop!(
			Poc::register_host(
				RuntimeOrigin::signed(account(2)),
				worker(1).public(),
				endpoint(2),
				vec![1]
			),
			Error::<Test>::WorkerKeyInUse
		);
	});
}

#[test]
fn the_registry_holds_at_most_max_hosts() {
	new_test_ext(&[]).execute_with(|| {
		for i in 1..=MAX_HOSTS as u8 {
			assert_ok!(register(i, vec![1]));
		}
		assert_noop!(register(MAX_HOSTS as u8 + 1, vec![1]), Error::<Test>::TooManyHosts);
	});
}

#[test]
fn bad_endpoints_are_refused() {
	new_test_ext(&[]).execute_with(|| {
		let try_endpoint = |endpoint: &[u8]| {
			Poc::register_host(
				RuntimeOrigin::signed(account(1)),
				worker(1).public(),
				endpoint.to_vec(),
				vec![1],
			)
		};
		assert_noop!(try_endpoint(&[b'h'; 65]), Error::<Test>::EndpointTooLong);
		for bad in [
			&b""[..],
			b"10.0.0.1:8080",
			b"ftp://10.0.0.1",
			b"http://",
			b"https://",
			b"http://host name",
			b"http://h\xc3\xb6st",
			b"http://host\n",
		] {
			assert_noop!(try_endpoint(bad), Error::<Test>::InvalidEndpoint);
		}
		assert_ok!(try_endpoint(b"https://worker.example.org:8443/poc"));
	});
}

#[test]
fn bad_model_lists_are_refused() {
	new_test_ext(&[]).execute_with(|| {
		assert_noop!(register(1, vec![]), Error::<Test>::NoModels);
		assert_noop!(register(1, vec![1, 2, 1]), Error::<Test>::TooManyModels);
		assert_noop!(register(1, vec![1, 1]), Error::<Test>::DuplicateModel);
		assert_noop!(register(1, vec![1, 7]), Error::<Test>::UnknownModel);
	});
}

#[test]
fn a_host_that_cannot_hold_the_deposit_is_not_registered() {
	new_test_ext(&[]).execute_with(|| {
		let poor = account(42);
		assert_noop!(
			Poc::register_host(
				RuntimeOrigin::signed(poor),
				worker(42).public(),
				endpoint(42),
				vec![1]
			),
			Error::<Test>::InsufficientDeposit
		);
	});
}

#[test]
fn registration_needs_a_signed_origin() {
	new_test_ext(&[]).execute_with(|| {
		assert_noop!(
			Poc::register_host(RuntimeOrigin::none(), worker(1).public(), endpoint(1), vec![1]),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn update_changes_key_endpoint_and_models() {
	new_test_ext(&[1]).execute_with(|| {
		let new_key = worker(11).public();
		assert_ok!(Poc::update_host(
			RuntimeOrigin::signed(account(1)),
			Some(new_key),
			Some(b"https://new.example".to_vec()),
			Some(vec![2]),
		));
		let host = Hosts::<Test>::get(account(1)).unwrap();
		assert_eq!(host.worker_key, new_key);
		assert_eq!(host.endpoint.to_vec(), b"https://new.example".to_vec());
		assert_eq!(host.models.to_vec(), vec![2]);
		assert_eq!(WorkerKeys::<Test>::get(new_key), Some(account(1)));
		assert_eq!(WorkerKeys::<Test>::get(worker(1).public()), None);
		assert_eq!(
			poc_events().last(),
			Some(&Event::HostUpdated { host: account(1), worker_key: new_key, models: vec![2] })
		);
	});
}

#[test]
fn a_bad_update_changes_nothing() {
	new_test_ext(&[1, 2]).execute_with(|| {
		let update = |key, endpoint, models| {
			Poc::update_host(RuntimeOrigin::signed(account(1)), key, endpoint, models)
		};
		assert_noop!(update(Some(worker(2).public()), None, None), Error::<Test>::WorkerKeyInUse);
		assert_noop!(
			update(Some(worker(11).public()), Some(b"nope".to_vec()), None),
			Error::<Test>::InvalidEndpoint
		);
		assert_noop!(update(None, None, Some(vec![3])), Error::<Test>::UnknownModel);
		assert_noop!(
			Poc::update_host(RuntimeOrigin::signed(account(3)), None, None, None),
			Error::<Test>::NotRegistered
		);
	});
}

#[test]
fn leaving_releases_the_deposit_and_the_worker_key() {
	new_test_ext(&[1]).execute_with(|| {
		assert_ok!(Poc::leave(RuntimeOrigin::signed(account(1))));
		assert!(Hosts::<Test>::get(account(1)).is_none());
		assert_eq!(held(1), 0);
		assert_eq!(Balances::free_balance(account(1)), 1_000);
		assert_eq!(poc_events().last(), Some(&Event::HostLeft { host: account(1) }));
		// The key is free for another host.
		assert_ok!(Poc::register_host(
			RuntimeOrigin::signed(account(2)),
			worker(1).public(),
			endpoint(2),
			vec![1]
		));
		assert_noop!(Poc::leave(RuntimeOrigin::signed(account(1))), Error::<Test>::NotRegistered);
	});
}

// ---- epochs and phases ---------------------------------------------------------------------

#[test]
fn the_first_epoch_starts_at_the_first_block_with_the_genesis_hash_as_seed() {
	new_test_ext(&[]).execute_with(|| {
		assert_eq!(
			crate::CurrentEpoch::<Test>::get(),
			Some(EpochInfo { index: 0, start: 1, params: PARAMS, seed: block_hash(0) })
		);
		assert_eq!(
			poc_events(),
			vec![Event::EpochStarted { index: 0, start: 1, seed: block_hash(0) }]
		);
	});
}

#[test]
fn epoch_seed_is_the_hash_of_the_block_before_the_epoch() {
	new_test_ext(&[]).execute_with(|| {
		run_to_block(21);
		let epoch = crate::CurrentEpoch::<Test>::get().unwrap();
		assert_eq!((epoch.index, epoch.start), (1, 21));
		assert_eq!(epoch.seed, block_hash(20));
		run_to_block(41);
		assert_eq!(crate::CurrentEpoch::<Test>::get().unwrap().seed, block_hash(40));
	});
}

#[test]
fn phases_follow_block_offsets_from_the_epoch_start() {
	new_test_ext(&[]).execute_with(|| {
		// Epoch 1 starts at 21: generation [21, 26), delay [26, 27), validation [27, 32).
		run_to_block(21);
		let phase = |n| Poc::phase(n).unwrap().1;
		assert_eq!(phase(21), Phase::Generation);
		assert_eq!(phase(25), Phase::Generation);
		assert_eq!(phase(26), Phase::ValidationDelay);
		assert_eq!(phase(27), Phase::Validation);
		assert_eq!(phase(31), Phase::Validation);
		assert_eq!(phase(32), Phase::Inference);
		assert_eq!(phase(40), Phase::Inference);
	});
}

#[test]
fn a_parameter_change_during_poc_applies_from_the_next_epoch() {
	new_test_ext(&[]).execute_with(|| {
		run_to_block(3); // epoch 0, generation
		let longer = EpochParams {
			epoch_length: 30,
			poc_generation: 8,
			validation_delay: 2,
			poc_validation: 6,
		};
		assert_ok!(Poc::set_epoch_params(RuntimeOrigin::root(), longer));
		assert_eq!(
			poc_events().last(),
			Some(&Event::EpochParamsScheduled { params: longer, from_epoch: 1 })
		);
		// The epoch in flight keeps its parameters and phases.
		assert_eq!(crate::CurrentEpoch::<Test>::get().unwrap().params, PARAMS);
		assert_eq!(Poc::phase(6).unwrap().1, Phase::ValidationDelay);
		run_to_block(21);
		let epoch = crate::CurrentEpoch::<Test>::get().unwrap();
		assert_eq!((epoch.index, epoch.start, epoch.params), (1, 21, longer));
		assert_eq!(NextEpochParams::<Test>::get(), None);
		// Epoch 1 lasts 30 blocks; epoch 2 keeps its parameters.
		run_to_block(50);
		assert_eq!(crate::CurrentEpoch::<Test>::get().unwrap().index, 1);
		run_to_block(51);
		let epoch = crate::CurrentEpoch::<Test>::get().unwrap();
		assert_eq!((epoch.index, epoch.start, epoch.params), (2, 51, longer));
	});
}

#[test]
fn invalid_epoch_parameters_are_refused() {
	new_test_ext(&[]).execute_with(|| {
		let set = |params| Poc::set_epoch_params(RuntimeOrigin::root(), params);
		assert_noop!(set(EpochParams { poc_generation: 0, ..PARAMS }), Error::<Test>::ZeroPhase);
		assert_noop!(set(EpochParams { validation_delay: 0, ..PARAMS }), Error::<Test>::ZeroPhase);
		assert_noop!(set(EpochParams { poc_validation: 0, ..PARAMS }), Error::<Test>::ZeroPhase);
		// 5 + 1 + 5 = 11 blocks leave no inference block in an 11-block epoch.
		assert_noop!(
			set(EpochParams { epoch_length: 11, ..PARAMS }),
			Error::<Test>::PhasesExceedEpoch
		);
		assert_noop!(
			set(EpochParams { poc_generation: u64::MAX, ..PARAMS }),
			Error::<Test>::PhasesExceedEpoch
		);
		assert_ok!(set(EpochParams { epoch_length: 12, ..PARAMS }));
	});
}

#[test]
fn only_the_update_origin_sets_epoch_parameters() {
	new_test_ext(&[1]).execute_with(|| {
		assert_noop!(
			Poc::set_epoch_params(RuntimeOrigin::signed(account(1)), PARAMS),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn the_default_genesis_uses_the_live_network_phases() {
	let params = crate::GenesisConfig::<Test>::default().epoch_params;
	assert_eq!(
		params,
		EpochParams {
			epoch_length: 15_391,
			poc_generation: 35,
			validation_delay: 5,
			poc_validation: 240
		}
	);
	assert!(params.check().is_ok());
}

// ---- PoC commitments -------------------------------------------------------------------------

mod commit {
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
		commit.sign(&Poc::genesis_hash(), &worker(i))
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
		new_test_ext(&[1]).execute_with(|| {
			let c = commit(100);
			let validity = authorize(&call(1, c.clone(), signed(1, &c))).unwrap();
			assert_eq!(validity.priority, u64::MAX / 2);
			assert_eq!(validity.longevity, 5, "until generation ends at block 6");
			assert_ok!(submit(1, c.clone()));
			assert_eq!(
				Commitments::<Test>::get(0, (account(1), 1)),
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
		new_test_ext(&[1]).execute_with(|| {
			assert_ok!(submit(1, commit(100)));
			assert_ok!(submit(1, commit(250)));
			let stored = Commitments::<Test>::get(0, (account(1), 1)).unwrap();
			assert_eq!((stored.count, stored.root, stored.submissions), (250, commit(250).root, 2));
			// Shrinking or repeating the count is stale, to the pool and to dispatch.
			for count in [250, 249] {
				let c = commit(count);
				assert_eq!(
					authorize(&call(1, c.clone(), signed(1, &c))),
					Err(InvalidTransaction::Stale.into())
				);
				assert_noop!(
					Poc::commit_poc(
						RawOrigin::Authorized.into(),
						account(1),
						c.clone(),
						signed(1, &c)
					),
					Error::<Test>::CountNotGrowing
				);
			}
		});
	}

	#[test]
	fn a_replayed_commit_is_stale() {
		new_test_ext(&[1]).execute_with(|| {
			let c = commit(100);
			let signature = signed(1, &c);
			assert_ok!(submit(1, c.clone()));
			assert_eq!(authorize(&call(1, c, signature)), Err(InvalidTransaction::Stale.into()));
		});
	}

	#[test]
	fn distinct_counts_have_distinct_pool_tags() {
		new_test_ext(&[1]).execute_with(|| {
			let (a, b) = (commit(100), commit(200));
			let tags_a = authorize(&call(1, a.clone(), signed(1, &a))).unwrap().provides;
			let tags_b = authorize(&call(1, b.clone(), signed(1, &b))).unwrap().provides;
			assert_ne!(tags_a, tags_b);
			assert_eq!(tags_a, authorize(&call(1, a.clone(), signed(1, &a))).unwrap().provides);
		});
	}

	#[test]
	fn a_forged_signature_is_refused() {
		new_test_ext(&[1, 2]).execute_with(|| {
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
		new_test_ext(&[1]).execute_with(|| {
			let c = commit(100);
			let other_chain = c.sign(&H256::repeat_byte(0xee), &worker(1));
			assert_eq!(
				authorize(&call(1, c, other_chain)),
				Err(InvalidTransaction::BadProof.into())
			);
		});
	}

	#[test]
	fn a_signature_for_another_purpose_is_refused() {
		new_test_ext(&[1]).execute_with(|| {
			let c = commit(100);
			// A validation payload for the same epoch and model, signed by the same key.
			let validation =
				PocValidation::<ConstU32<4>> { epoch: 0, model: 1, verdicts: Default::default() };
			let signature = validation.sign(&Poc::genesis_hash(), &worker(1));
			assert_eq!(authorize(&call(1, c, signature)), Err(InvalidTransaction::BadProof.into()));
		});
	}

	#[test]
	fn a_commit_outside_generation_is_refused() {
		new_test_ext(&[1]).execute_with(|| {
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
		new_test_ext(&[1]).execute_with(|| {
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
		new_test_ext(&[]).execute_with(|| {
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
		new_test_ext(&[1]).execute_with(|| {
			let c = commit(0);
			assert_eq!(
				authorize(&call(1, c.clone(), signed(1, &c))),
				Err(InvalidTransaction::Custom(error_index(Error::<Test>::ZeroCount)).into())
			);
		});
	}

	#[test]
	fn an_unregistered_host_cannot_commit() {
		new_test_ext(&[]).execute_with(|| {
			let c = commit(100);
			assert_eq!(
				authorize(&call(1, c.clone(), signed(1, &c))),
				Err(InvalidTransaction::BadSigner.into())
			);
		});
	}

	#[test]
	fn a_host_has_a_budget_of_commits_per_model_and_epoch() {
		new_test_ext(&[1]).execute_with(|| {
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
		new_test_ext(&[1]).execute_with(|| {
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
}

// ---- batched PoC validation ----------------------------------------------------------------

mod validation {
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

	/// Hosts 1, 2, 3 (power 1 each) commit on model 1 in epoch 0; then block 7, the first
	/// of validation.
	fn committed_epoch() -> polkadot_sdk::sp_io::TestExternalities {
		let mut ext = new_test_ext(&[1, 2, 3]);
		ext.execute_with(|| {
			for i in [1u8, 2, 3] {
				let commit =
					PocCommit { epoch: 0, model: 1, count: 50, root: H256::repeat_byte(i) };
				let signature = commit.sign(&Poc::genesis_hash(), &worker(i));
				assert_ok!(Poc::commit_poc(
					RawOrigin::Authorized.into(),
					account(i),
					commit,
					signature
				));
			}
			run_to_block(7);
		});
		ext
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
		let signature = batch.sign(&Poc::genesis_hash(), &worker(i));
		call(i, batch.clone(), signature)
			.authorize(TransactionSource::External)
			.expect("submit_poc_validations has an authorize rule")
			.map(|(validity, _)| validity)
	}

	fn submit(i: u8, batch: Batch) -> DispatchResult {
		authorize(i, &batch).map_err(|_| "not authorized")?;
		let signature = batch.sign(&Poc::genesis_hash(), &worker(i));
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
		new_test_ext(&[1, 2, 3]).execute_with(|| {
			for i in [1u8, 2, 3] {
				assert_eq!(VotingPower::<Test>::get(account(i)), 1);
			}
			assert_eq!(TotalVotingPower::<Test>::get(), 3);
		});
	}

	#[test]
	fn a_batch_adds_the_validators_power_to_each_verdict() {
		committed_epoch().execute_with(|| {
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
		committed_epoch().execute_with(|| {
			assert_ok!(submit(1, batch(&[(2, true)])));
			assert_eq!(authorize(1, &batch(&[(3, true)])), Err(InvalidTransaction::Stale.into()));
			let b = batch(&[(3, true)]);
			let signature = b.sign(&Poc::genesis_hash(), &worker(1));
			assert_noop!(
				Poc::submit_poc_validations(RawOrigin::Authorized.into(), account(1), b, signature),
				Error::<Test>::AlreadyValidated
			);
		});
	}

	#[test]
	fn validation_opens_with_a_sorted_roster_of_the_registered_hosts_that_committed() {
		let mut ext = new_test_ext(&[1, 2, 3]);
		ext.execute_with(|| {
			for i in [3u8, 1, 2] {
				let commit =
					PocCommit { epoch: 0, model: 1, count: 50, root: H256::repeat_byte(i) };
				let signature = commit.sign(&Poc::genesis_hash(), &worker(i));
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
		committed_epoch().execute_with(|| {
			assert_eq!(
				authorize(1, &batch(&[(1, true), (2, true)])),
				Err(custom(Error::<Test>::SelfVerdict))
			);
		});
	}

	#[test]
	fn a_validator_with_no_power_is_refused() {
		committed_epoch().execute_with(|| {
			assert_ok!(register(4, vec![1]));
			assert_eq!(
				authorize(4, &batch(&[(1, true)])),
				Err(custom(Error::<Test>::NoVotingPower))
			);
		});
	}

	#[test]
	fn unsorted_duplicate_empty_or_uncommitted_verdicts_are_refused() {
		committed_epoch().execute_with(|| {
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
		let mut ext = new_test_ext(&[1, 2]);
		ext.execute_with(|| {
			// In generation the batch is early.
			assert_eq!(authorize(1, &batch(&[(2, true)])), Err(InvalidTransaction::Future.into()));
		});
		committed_epoch().execute_with(|| {
			run_to_block(12); // validation is [7, 12)
			assert_eq!(authorize(1, &batch(&[(2, true)])), Err(InvalidTransaction::Stale.into()));
		});
	}

	#[test]
	fn a_forged_or_replayed_signature_is_refused() {
		committed_epoch().execute_with(|| {
			let b = batch(&[(2, true)]);
			// Signed by host 3's worker key, submitted as host 1.
			let forged = b.sign(&Poc::genesis_hash(), &worker(3));
			assert_eq!(
				call(1, b.clone(), forged)
					.authorize(TransactionSource::External)
					.unwrap()
					.map(|_| ()),
				Err(InvalidTransaction::BadProof.into())
			);
			// A commitment's signature by the right key, for another purpose.
			let commit = PocCommit { epoch: 0, model: 1, count: 50, root: H256::zero() };
			let other_purpose = commit.sign(&Poc::genesis_hash(), &worker(1));
			assert_eq!(
				call(1, b, other_purpose)
					.authorize(TransactionSource::External)
					.unwrap()
					.map(|_| ()),
				Err(InvalidTransaction::BadProof.into())
			);
		});
	}

	#[test]
	fn a_host_that_leaves_takes_its_power_with_it() {
		new_test_ext(&[1, 2, 3]).execute_with(|| {
			assert_ok!(Poc::leave(RuntimeOrigin::signed(account(3))));
			assert_eq!(VotingPower::<Test>::get(account(3)), 0);
			assert_eq!(TotalVotingPower::<Test>::get(), 2);
		});
	}
}

// ---- weight formation ----------------------------------------------------------------------

mod formation {
	use super::*;
	use crate::{
		Commitments, CurrentEpoch, Outcome, PocWeights, Tallies, TotalVotingPower, VotingPower,
	};
	use gonka_primitives::{
		duty::{Duty, PocCommit, PocValidation, Verdict},
		H256,
	};
	use polkadot_sdk::{frame_support::pallet_prelude::*, frame_system::RawOrigin};

	/// Epoch `e` starts at block `20e + 1`; validation ends (weights form) at `20e + 12`.
	fn epoch_start(e: u32) -> u64 {
		20 * e as u64 + 1
	}

	fn set_power(powers: &[(u8, u128)]) {
		let powers: Vec<_> = powers.iter().map(|(i, power)| (account(*i), *power)).collect();
		Poc::force_voting_power(&powers);
	}

	fn commit(i: u8, model: u32, count: u64) {
		let epoch = CurrentEpoch::<Test>::get().unwrap().index;
		let commit = PocCommit { epoch, model, count, root: H256::repeat_byte(i) };
		let signature = commit.sign(&Poc::genesis_hash(), &worker(i));
		assert_ok!(Poc::commit_poc(RawOrigin::Authorized.into(), account(i), commit, signature));
	}

	fn validate(i: u8, model: u32, verdicts: &[(u8, bool)]) {
		let epoch = CurrentEpoch::<Test>::get().unwrap().index;
		let mut verdicts: Vec<Verdict> =
			verdicts.iter().map(|&(h, valid)| Verdict { host: account(h), valid }).collect();
		verdicts.sort_by(|a, b| a.host.cmp(&b.host));
		let batch = PocValidation::<ConstU32<MAX_HOSTS>> {
			epoch,
			model,
			verdicts: verdicts.try_into().unwrap(),
		};
		let signature = batch.sign(&Poc::genesis_hash(), &worker(i));
		assert_ok!(Poc::submit_poc_validations(
			RawOrigin::Authorized.into(),
			account(i),
			batch,
			signature
		));
	}

	/// One whole epoch from its start: `running` hosts commit `count` nonces on model 1, and
	/// every running host with power says valid on every other; then the weights form.
	fn honest_epoch(running: &[u8], count: u64) {
		let e = CurrentEpoch::<Test>::get().unwrap().index;
		for &i in running {
			commit(i, 1, count);
		}
		run_to_block(epoch_start(e) + 6);
		for &v in running {
			let others: Vec<(u8, bool)> =
				running.iter().filter(|&&h| h != v).map(|&h| (h, true)).collect();
			if VotingPower::<Test>::get(account(v)) > 0 && !others.is_empty() {
				validate(v, 1, &others);
			}
		}
		run_to_block(epoch_start(e + 1));
	}

	fn judged(host: u8) -> Option<(Outcome, u64)> {
		poc_events().into_iter().rev().find_map(|event| match event {
			Event::PocJudged { host: h, outcome, weight, .. } if h == account(host) => {
				Some((outcome, weight))
			}
			_ => None,
		})
	}

	#[test]
	fn votes_exactly_at_two_thirds_do_not_accept_and_just_above_do() {
		new_test_ext(&[1, 2, 3, 4]).execute_with(|| {
			// Host 4 is judged; the others' power is 3 + 1 + 2 = 6, so acceptance needs valid
			// power above 4.
			set_power(&[(1, 3), (2, 1), (3, 2), (4, 1)]);
			commit(4, 1, 100);
			commit(1, 1, 100);
			run_to_block(7);
			validate(1, 1, &[(4, true)]); // 3
			validate(2, 1, &[(4, true)]); // + 1 = 4: exactly 2/3
			run_to_block(12);
			// Not accepted: the smaller of its genesis weight (1) and its count.
			assert_eq!(judged(4), Some((Outcome::QuorumFailed, 1)));
		});
		new_test_ext(&[1, 2, 3, 4]).execute_with(|| {
			set_power(&[(1, 3), (2, 1), (3, 2), (4, 1)]);
			commit(4, 1, 100);
			run_to_block(7);
			validate(1, 1, &[(4, true)]); // 3
			validate(3, 1, &[(4, true)]); // + 2 = 5: above 2/3
			run_to_block(12);
			assert_eq!(judged(4), Some((Outcome::Accepted, 100)));
			assert_eq!(PocWeights::<Test>::get(account(4), 1), 100);
			assert_eq!(VotingPower::<Test>::get(account(4)), 100);
		});
	}

	#[test]
	fn a_host_judged_invalid_by_two_thirds_loses_its_weight() {
		new_test_ext(&[1, 2, 3]).execute_with(|| {
			for i in [1, 2, 3] {
				commit(i, 1, 100);
			}
			run_to_block(7);
			validate(1, 1, &[(2, true), (3, false)]);
			validate(2, 1, &[(1, true), (3, false)]);
			validate(3, 1, &[(1, true), (2, true)]);
			run_to_block(12);
			assert_eq!(judged(3), Some((Outcome::Rejected, 0)));
			assert_eq!(PocWeights::<Test>::get(account(3), 1), 0);
			assert_eq!(VotingPower::<Test>::get(account(3)), 0);
			assert_eq!(VotingPower::<Test>::get(account(1)), 100);
			assert_eq!(TotalVotingPower::<Test>::get(), 200);
		});
	}

	#[test]
	fn a_quorum_failure_keeps_the_smaller_of_previous_weight_and_count() {
		new_test_ext(&[1, 2, 3]).execute_with(|| {
			honest_epoch(&[1, 2, 3], 100);
			assert_eq!(PocWeights::<Test>::get(account(3), 1), 100);
			// Epoch 1: host 3 commits 500 but only host 1 votes on it (1/2 of the others).
			for i in [1, 2, 3] {
				commit(i, 1, if i == 3 { 500 } else { 100 });
			}
			run_to_block(epoch_start(1) + 6);
			validate(1, 1, &[(2, true), (3, true)]);
			validate(2, 1, &[(1, true)]);
			validate(3, 1, &[(1, true), (2, true)]);
			run_to_block(epoch_start(1) + 11);
			assert_eq!(
				judged(3),
				Some((Outcome::QuorumFailed, 100)),
				"min(previous 100, count 500)"
			);
			assert_eq!(judged(1), Some((Outcome::Accepted, 100)));
		});
	}

	#[test]
	fn a_host_that_commits_but_gets_no_valid_votes_gets_no_new_weight() {
		new_test_ext(&[1, 2, 3]).execute_with(|| {
			for i in [1, 2, 3] {
				commit(i, 1, 100);
			}
			run_to_block(7);
			// Everyone judges hosts 1 and 2; nobody judges host 3.
			validate(1, 1, &[(2, true)]);
			validate(2, 1, &[(1, true)]);
			validate(3, 1, &[(1, true), (2, true)]);
			run_to_block(12);
			assert_eq!(judged(1), Some((Outcome::Accepted, 100)));
			// Host 3 keeps only the smaller of its genesis weight (1) and its count.
			assert_eq!(judged(3), Some((Outcome::QuorumFailed, 1)));
			assert_eq!(VotingPower::<Test>::get(account(3)), 1);
			assert_eq!(TotalVotingPower::<Test>::get(), 201);
		});
	}

	#[test]
	fn the_replaced_generation_is_pruned_the_block_after_formation_not_with_it() {
		new_test_ext(&[1, 2, 3]).execute_with(|| {
			// Block 12 forms the weights: generation 1; generation 0 stays for a block.
			validated_first_epoch(&[(1, 100), (2, 100), (3, 100)]);
			assert_eq!(crate::PowerGeneration::<Test>::get(), 1);
			assert_eq!(crate::OldestPowerGeneration::<Test>::get(), 0);
			run_to_block(13);
			assert_eq!(crate::OldestPowerGeneration::<Test>::get(), 1);
		});
	}

	/// Epoch 0: each host commits its count on model 1 and every host judges the others
	/// valid; runs to block 12, where the weights form.
	fn validated_first_epoch(counts: &[(u8, u64)]) {
		for (i, count) in counts {
			commit(*i, 1, *count);
		}
		run_to_block(epoch_start(0) + 6);
		for (v, _) in counts {
			let others: Vec<(u8, bool)> =
				counts.iter().filter(|(h, _)| h != v).map(|(h, _)| (*h, true)).collect();
			validate(*v, 1, &others);
		}
		run_to_block(12);
	}

	/// How often each of hosts 1..=3 is picked for `model` over 3,000 draws.
	fn picks(model: u32) -> [u32; 3] {
		let mut counts = [0u32; 3];
		for request in 0..3_000u64 {
			let draw =
				gonka_primitives::inference::executor_draw(&H256::repeat_byte(2), request, 0);
			let host = Poc::pick_executor(model, &draw).expect("a model with executors");
			let index = (1..=3u8).position(|i| account(i) == host).expect("a rostered host");
			counts[index] += 1;
		}
		counts
	}

	#[test]
	fn genesis_hosts_execute_their_models_with_equal_weight_until_the_first_formation() {
		new_test_ext(&[1, 2, 3]).execute_with(|| {
			// Three hosts in chunks of two: totals 2 and 3.
			assert_eq!(crate::RosterTotals::<Test>::get(1).to_vec(), vec![2, 3]);
			for count in picks(1) {
				assert!((850..1_150).contains(&count), "{:?}", picks(1));
			}
			assert_eq!(Poc::pick_executor(3, &[0; 32]), None, "nobody serves model 3");
		});
	}

	#[test]
	fn formation_replaces_each_models_roster_with_the_new_poc_weights() {
		new_test_ext(&[1, 2, 3]).execute_with(|| {
			validated_first_epoch(&[(1, 100), (2, 200), (3, 300)]);
			assert_eq!(crate::RosterTotals::<Test>::get(1).to_vec(), vec![300, 600]);
			// Picked in proportion to 100 : 200 : 300.
			let counts = picks(1);
			for (count, expected) in counts.iter().zip([500, 1_000, 1_500]) {
				assert!(count.abs_diff(expected) < 150, "{counts:?}");
			}
			// Nobody committed on model 2: it has no executors any more.
			assert!(crate::RosterTotals::<Test>::get(2).is_empty());
			assert_eq!(crate::ExecutorRoster::<Test>::iter_prefix(2).count(), 0);
			assert_eq!(Poc::pick_executor(2, &[0; 32]), None);
		});
	}

	#[test]
	fn an_epoch_that_accepts_nobody_carries_every_weight_over() {
		new_test_ext(&[1, 2, 3]).execute_with(|| {
			honest_epoch(&[1, 2, 3], 100);
			let before: Vec<u128> =
				[1, 2, 3].iter().map(|&i| VotingPower::<Test>::get(account(i))).collect();
			// The formation made generation 1 of voting power.
			assert_eq!(crate::PowerGeneration::<Test>::get(), 1);
			// Epoch 1: nobody runs a worker.
			run_to_block(epoch_start(2));
			let after: Vec<u128> =
				[1, 2, 3].iter().map(|&i| VotingPower::<Test>::get(account(i))).collect();
			assert_eq!(before, after);
			// Carried over: the same generation stays in force.
			assert_eq!(crate::PowerGeneration::<Test>::get(), 1);
			assert_eq!(PocWeights::<Test>::get(account(1), 1), 100);
			assert!(poc_events().contains(&Event::WeightsCarriedOver { epoch: 1 }));
		});
	}

	#[test]
	fn consensus_weight_sums_pocs_weights_times_model_coefficients() {
		new_test_ext(&[1, 2, 3]).execute_with(|| {
			for i in [1, 2, 3] {
				commit(i, 1, 100);
			}
			commit(1, 2, 30); // model 2 has coefficient 2
			run_to_block(7);
			for v in [1, 2, 3] {
				let others: Vec<(u8, bool)> =
					[1, 2, 3].iter().filter(|&&h| h != v).map(|&h| (h, true)).collect();
				validate(v, 1, &others);
			}
			validate(2, 2, &[(1, true)]);
			validate(3, 2, &[(1, true)]);
			run_to_block(12);
			assert_eq!(PocWeights::<Test>::get(account(1), 2), 30);
			assert_eq!(VotingPower::<Test>::get(account(1)), 100 + 2 * 30);
			assert_eq!(VotingPower::<Test>::get(account(2)), 100);
		});
	}

	#[test]
	fn a_host_above_a_quarter_of_the_weight_is_capped() {
		new_test_ext(&[1, 2, 3, 4, 5]).execute_with(|| {
			commit(1, 1, 1_000);
			for i in [2, 3, 4, 5] {
				commit(i, 1, 10);
			}
			run_to_block(7);
			for v in [1, 2, 3, 4, 5] {
				let others: Vec<(u8, bool)> =
					[1, 2, 3, 4, 5].iter().filter(|&&h| h != v).map(|&h| (h, true)).collect();
				validate(v, 1, &others);
			}
			run_to_block(12);
			// PoC weight stays the count; voting power is cut: c = (40 + c) / 4 → 13.
			assert_eq!(PocWeights::<Test>::get(account(1), 1), 1_000);
			assert_eq!(VotingPower::<Test>::get(account(1)), 13);
			assert_eq!(TotalVotingPower::<Test>::get(), 53);
		});
	}

	#[test]
	fn small_networks_never_lose_all_power_over_five_epochs() {
		// (genesis hosts, hosts running in each of 5 epochs)
		let cases: [(&[u8], [&[u8]; 5]); 5] = [
			(&[1, 2], [&[1, 2]; 5]),
			(&[1, 2, 3], [&[1, 2, 3]; 5]),
			(&[1, 2, 3], [&[1, 2]; 5]),
			(&[1, 2], [&[1], &[1], &[1, 2], &[1], &[1, 2]]),
			(&[1, 2, 3], [&[]; 5]),
		];
		for (genesis, epochs) in cases {
			new_test_ext(genesis).execute_with(|| {
				for running in epochs {
					honest_epoch(running, 100);
					assert!(TotalVotingPower::<Test>::get() > 0, "{genesis:?} running {running:?}");
				}
			});
		}
		// Two honest hosts: both accepted each epoch.
		new_test_ext(&[1, 2]).execute_with(|| {
			for _ in 0..5 {
				honest_epoch(&[1, 2], 100);
			}
			assert_eq!(VotingPower::<Test>::get(account(1)), 100);
			assert_eq!(VotingPower::<Test>::get(account(2)), 100);
		});
		// Three equal hosts, one absent: each running host's verdict comes from half of the
		// others' power, short of 2/3, so nobody is accepted and the weights carry over: the
		// chain keeps its power (the absent host's third included) rather than losing it.
		new_test_ext(&[1, 2, 3]).execute_with(|| {
			for _ in 0..5 {
				honest_epoch(&[1, 2], 100);
			}
			assert_eq!(VotingPower::<Test>::get(account(3)), 1);
			assert_eq!(TotalVotingPower::<Test>::get(), 3);
		});
		// Once the running hosts hold the power, an absent host loses its weight.
		new_test_ext(&[1, 2, 3]).execute_with(|| {
			honest_epoch(&[1, 2, 3], 100);
			set_power(&[(1, 100), (2, 100), (3, 10)]);
			honest_epoch(&[1, 2], 100);
			assert_eq!(VotingPower::<Test>::get(account(3)), 0);
			assert_eq!(TotalVotingPower::<Test>::get(), 200);
		});
	}

	#[test]
	fn records_older_than_the_retention_window_are_pruned() {
		new_test_ext(&[1, 2]).execute_with(|| {
			honest_epoch(&[1, 2], 100); // epoch 0
			assert!(Commitments::<Test>::contains_key(0, (account(1), 1)));
			honest_epoch(&[1, 2], 100); // 1
			honest_epoch(&[1, 2], 100); // 2; epoch 3 starts and prunes epoch 0
			assert!(!Commitments::<Test>::contains_key(0, (account(1), 1)));
			assert_eq!(Tallies::<Test>::iter_prefix(0).count(), 0);
			assert!(Commitments::<Test>::contains_key(1, (account(1), 1)));
		});
	}
}

// ---- what PocApi returns ---------------------------------------------------------------------

#[test]
fn the_api_shows_the_next_blocks_phase_and_hosts_with_their_power() {
	new_test_ext(&[1]).execute_with(|| {
		// Block 5 is the last of generation: a duty sent now lands in block 6, the delay.
		run_to_block(5);
		let (epoch, phase) = Poc::epoch_and_next_phase().unwrap();
		assert_eq!((epoch.index, phase), (0, Phase::ValidationDelay));
		let view = Poc::host_view(&account(1)).unwrap();
		assert_eq!(view.worker_key, worker(1).public());
		assert_eq!(view.endpoint, endpoint(1));
		assert_eq!(view.models, vec![1, 2]);
		assert_eq!(view.voting_power, 1);
		assert_eq!(Poc::host_view(&account(2)), None);
	});
}

// ---- generations of voting power (governance snapshots) ------------------------------------

mod power_generations {
	use super::*;
	use crate::{
		OldestPowerGeneration, PowerGeneration, PowerGenerations, PowerHistory, VotingPower,
	};

	fn powers(powers: &[(u8, u128)]) {
		let powers: Vec<_> = powers.iter().map(|(i, power)| (account(*i), *power)).collect();
		Poc::force_voting_power(&powers);
	}

	fn next_block() {
		run_to_block(System::block_number() + 1);
	}

	#[test]
	fn a_snapshot_is_the_generation_in_force_with_its_total_and_hosts() {
		new_test_ext(&[1, 2, 3]).execute_with(|| {
			let (snapshot, total, hosts) = Poc::take_snapshot();
			assert_eq!((snapshot.generation, snapshot.departures, total, hosts), (0, 0, 3, 3));
			assert_eq!(PowerGenerations::<Test>::get(0).unwrap().pins, 1);
			for i in [1, 2, 3] {
				assert_eq!(Poc::power_in(&snapshot, &account(i)), 1);
			}
			assert_eq!(Poc::power_in(&snapshot, &account(4)), 0);
		});
	}

	#[test]
	fn power_formed_after_a_snapshot_does_not_change_it() {
		new_test_ext(&[1, 2, 3]).execute_with(|| {
			let (snapshot, _, _) = Poc::take_snapshot();
			assert_ok!(register(4, vec![1]));
			powers(&[(1, 50), (2, 70), (4, 9)]);
			next_block();
			assert_eq!(PowerGeneration::<Test>::get(), 1);
			assert_eq!(VotingPower::<Test>::get(account(1)), 50);
			assert_eq!(VotingPower::<Test>::get(account(3)), 0);
			assert_eq!(Poc::power_in(&snapshot, &account(1)), 1);
			assert_eq!(Poc::power_in(&snapshot, &account(3)), 1);
			assert_eq!(Poc::power_in(&snapshot, &account(4)), 0);
		});
	}

	#[test]
	fn a_held_generation_is_kept_and_pruned_the_block_after_its_release() {
		new_test_ext(&[1, 2, 3]).execute_with(|| {
			let (snapshot, _, _) = Poc::take_snapshot();
			powers(&[(1, 5)]);
			next_block();
			next_block();
			assert_eq!(PowerHistory::<Test>::iter_prefix(0).count(), 3);
			assert_eq!(OldestPowerGeneration::<Test>::get(), 0);
			Poc::release_snapshot(&snapshot);
			assert_eq!(PowerGenerations::<Test>::get(0).unwrap().pins, 0);
			next_block();
			assert_eq!(PowerHistory::<Test>::iter_prefix(0).count(), 0);
			assert_eq!(PowerGenerations::<Test>::get(0), None);
			assert_eq!(OldestPowerGeneration::<Test>::get(), 1);
			assert!(poc_events().contains(&Event::PowerGenerationPruned { generation: 0 }));
			// The generation in force is never pruned.
			next_block();
			assert_eq!(OldestPowerGeneration::<Test>::get(), 1);
			assert_eq!(PowerHistory::<Test>::get(1, account(1)), Some(5));
		});
	}

	#[test]
	fn unheld_generations_are_pruned_one_per_block() {
		new_test_ext(&[1, 2]).execute_with(|| {
			powers(&[(1, 5)]);
			powers(&[(1, 6)]);
			powers(&[(1, 7)]);
			assert_eq!(PowerGeneration::<Test>::get(), 3);
			for oldest in 1..=3 {
				next_block();
				assert_eq!(OldestPowerGeneration::<Test>::get(), oldest);
			}
			next_block();
			assert_eq!(OldestPowerGeneration::<Test>::get(), 3);
			assert_eq!(PowerGenerations::<Test>::iter().count(), 1);
		});
	}

	#[test]
	fn a_host_that_left_before_a_snapshot_has_no_power_in_it_one_that_left_after_keeps_it() {
		new_test_ext(&[1, 2, 3]).execute_with(|| {
			assert_ok!(Poc::leave(RuntimeOrigin::signed(account(3))));
			let (snapshot, total, hosts) = Poc::take_snapshot();
			assert_eq!((snapshot.departures, total, hosts), (1, 2, 2));
			assert_eq!(Poc::power_in(&snapshot, &account(3)), 0);
			assert_ok!(Poc::leave(RuntimeOrigin::signed(account(2))));
			assert_eq!(Poc::power_in(&snapshot, &account(2)), 1);
			// Coming back does not bring the power back, in force or in the snapshot.
			assert_ok!(register(3, vec![1]));
			assert_eq!(VotingPower::<Test>::get(account(3)), 0);
			assert_eq!(Poc::power_in(&snapshot, &account(3)), 0);
			let (later, total, hosts) = Poc::take_snapshot();
			assert_eq!((later.departures, total, hosts), (2, 1, 1));
			assert_eq!(Poc::power_in(&later, &account(2)), 0);
			assert_eq!(Poc::power_in(&later, &account(1)), 1);
			next_block();
		});
	}

	#[test]
	fn leaving_twice_in_a_generation_is_one_departure() {
		new_test_ext(&[1, 2, 3]).execute_with(|| {
			assert_ok!(Poc::leave(RuntimeOrigin::signed(account(3))));
			assert_ok!(register(3, vec![1]));
			assert_ok!(Poc::leave(RuntimeOrigin::signed(account(3))));
			assert_eq!(PowerGenerations::<Test>::get(0).unwrap().departures, 1);
			next_block();
		});
	}
}
