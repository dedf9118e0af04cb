//! The host registry: registering, updating and leaving, and bad input.

use super::*;

#[test]
fn registration_stores_the_host_indexes_its_worker_key_and_holds_the_deposit() {
	ExtBuilder::default().build_and_execute(|| {
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
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		assert_eq!(Hosts::<Test>::count(), 2);
		assert_eq!(held(1), DEPOSIT);
		assert_eq!(WorkerKeys::<Test>::get(worker(2).public()), Some(account(2)));
	});
}

#[test]
fn registering_twice_fails() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		assert_noop!(register(1, vec![1]), Error::<Test>::AlreadyRegistered);
	});
}

#[test]
fn a_worker_key_serves_one_host_only() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		assert_noop!(
			Poc::register_host(
				RuntimeOrigin::signed(account(2)),
				worker(1).public(),
				key_proof(2, 1),
				endpoint(2),
				vec![1]
			),
			Error::<Test>::WorkerKeyInUse
		);
	});
}

#[test]
fn the_registry_holds_at_most_max_hosts() {
	ExtBuilder::default().build_and_execute(|| {
		for i in 1..=MAX_HOSTS as u8 {
			assert_ok!(register(i, vec![1]));
		}
		assert_noop!(register(MAX_HOSTS as u8 + 1, vec![1]), Error::<Test>::TooManyHosts);
	});
}

#[test]
fn bad_endpoints_are_refused() {
	ExtBuilder::default().build_and_execute(|| {
		let try_endpoint = |endpoint: &[u8]| {
			Poc::register_host(
				RuntimeOrigin::signed(account(1)),
				worker(1).public(),
				key_proof(1, 1),
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
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(register(1, vec![]), Error::<Test>::NoModels);
		assert_noop!(register(1, vec![1, 2, 1]), Error::<Test>::TooManyModels);
		assert_noop!(register(1, vec![1, 1]), Error::<Test>::DuplicateModel);
		assert_noop!(register(1, vec![1, 7]), Error::<Test>::UnknownModel);
	});
}

#[test]
fn a_host_that_cannot_hold_the_deposit_is_not_registered() {
	ExtBuilder::default().build_and_execute(|| {
		let poor = account(42);
		assert_noop!(
			Poc::register_host(
				RuntimeOrigin::signed(poor),
				worker(42).public(),
				key_proof(42, 42),
				endpoint(42),
				vec![1]
			),
			Error::<Test>::InsufficientDeposit
		);
	});
}

#[test]
fn registration_needs_a_signed_origin() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Poc::register_host(
				RuntimeOrigin::none(),
				worker(1).public(),
				key_proof(1, 1),
				endpoint(1),
				vec![1]
			),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn update_changes_key_endpoint_and_models() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		// The models change in the inference phase (epoch 0's starts at block 12).
		run_to_block(12);
		let new_key = worker(11).public();
		assert_ok!(Poc::update_host(
			RuntimeOrigin::signed(account(1)),
			Some((new_key, key_proof(1, 11))),
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
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		let update = |key, endpoint, models| {
			Poc::update_host(RuntimeOrigin::signed(account(1)), key, endpoint, models)
		};
		assert_noop!(
			update(Some((worker(2).public(), key_proof(1, 2))), None, None),
			Error::<Test>::WorkerKeyInUse
		);
		assert_noop!(
			update(Some((worker(11).public(), key_proof(1, 11))), Some(b"nope".to_vec()), None),
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
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		assert_ok!(Poc::leave(RuntimeOrigin::signed(account(1))));
		assert!(Hosts::<Test>::get(account(1)).is_none());
		assert_eq!(held(1), 0);
		assert_eq!(Balances::free_balance(account(1)), 1_000);
		assert_eq!(poc_events().last(), Some(&Event::HostLeft { host: account(1) }));
		// The key is free for another host (that holds it).
		assert_ok!(Poc::register_host(
			RuntimeOrigin::signed(account(2)),
			worker(1).public(),
			key_proof(2, 1),
			endpoint(2),
			vec![1]
		));
		assert_noop!(Poc::leave(RuntimeOrigin::signed(account(1))), Error::<Test>::NotRegistered);
	});
}

/// Hole 14 of the soundness review: registration carried no proof that the caller holds
/// the worker key, so anyone could register a key its owner had published (in a
/// configuration, a chain spec, a log) first, and lock the owner out (`WorkerKeyInUse`).
/// The key must sign `key_ownership_message(genesis hash, caller)`.
#[test]
fn a_worker_key_is_registered_only_with_its_proof_of_ownership() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		let victims_key = worker(3).public();
		let register_as = |i: u8, proof| {
			Poc::register_host(
				RuntimeOrigin::signed(account(i)),
				victims_key,
				proof,
				endpoint(i),
				vec![1],
			)
		};
		// The attacker signs with its own key, replays the owner's proof (made for the
		// owner's account), or one made on another chain.
		assert_noop!(register_as(2, key_proof(2, 2)), Error::<Test>::BadKeyProof);
		assert_noop!(register_as(2, key_proof(3, 3)), Error::<Test>::BadKeyProof);
		let other_chain = gonka_primitives::duty::prove_key_ownership(
			&gonka_primitives::H256::repeat_byte(0xee),
			&account(2),
			&worker(3),
		);
		assert_noop!(register_as(2, other_chain), Error::<Test>::BadKeyProof);
		// A registered host cannot take it by an update either.
		assert_noop!(
			Poc::update_host(
				RuntimeOrigin::signed(account(1)),
				Some((victims_key, key_proof(1, 1))),
				None,
				None
			),
			Error::<Test>::BadKeyProof
		);
		// Its owner registers it.
		assert_ok!(register_as(3, key_proof(3, 3)));
		assert_eq!(WorkerKeys::<Test>::get(victims_key), Some(account(3)));
	});
}

/// Hole 11 (review): a host that changed its models during PoC could commit on, and
/// validate, more than `MaxModelsPerHost` models in one epoch, past the bound the chain's
/// spread work is sized for.
#[test]
fn a_host_changes_its_models_in_the_inference_phase_only() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		let update = |models: Vec<u32>| {
			Poc::update_host(RuntimeOrigin::signed(account(1)), None, None, Some(models))
		};
		// Generation, the delay and validation of epoch 0: blocks 1 to 11.
		for block in [1, 6, 7, 11] {
			run_to_block(block);
			assert_noop!(update(vec![2]), Error::<Test>::ModelsLockedDuringPoc);
			// The same models (a worker registering again) are no change.
			assert_ok!(update(vec![1, 2]));
		}
		run_to_block(12);
		assert_ok!(update(vec![2]));
		assert_eq!(Hosts::<Test>::get(account(1)).unwrap().models.to_vec(), vec![2]);
	});
}
