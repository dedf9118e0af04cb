//! Epochs and phases: starts, seeds, phase offsets and parameter changes.

use super::*;

#[test]
fn the_first_epoch_starts_at_the_first_block_with_the_genesis_hash_as_seed() {
	ExtBuilder::default().build_and_execute(|| {
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
	ExtBuilder::default().build_and_execute(|| {
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
	ExtBuilder::default().build_and_execute(|| {
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
	ExtBuilder::default().build_and_execute(|| {
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
	ExtBuilder::default().build_and_execute(|| {
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
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		assert_noop!(
			Poc::set_epoch_params(RuntimeOrigin::signed(account(1)), PARAMS),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn the_default_genesis_uses_the_live_network_phases() {
	// No chain state is needed; run in one all the same so the test ends with the invariants.
	ExtBuilder::default().build_and_execute(|| {
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
	});
}
