//! Benchmarks (v2) of every call and hook path of the pallet, each in its worst case; the
//! runtime's weights are generated from them.

use super::*;
use alloc::{vec, vec::Vec};
use gonka_primitives::{binomial::MAX_SCALED_TRIALS, EpochIndex, HostId, H256};
use pallet_inference::{DutyTotals, EpochStats};
use pallet_poc::OnWeightsFormed;
use polkadot_sdk::{
	frame_benchmarking::v2::*,
	frame_support::{
		pallet_prelude::*,
		traits::fungible::{Inspect, Mutate, MutateHold},
	},
	frame_system::RawOrigin,
	sp_runtime::{traits::One, BoundedVec},
};

/// The epoch the benchmarks run in.
const NOW: EpochIndex = 10;

/// Plenty, far from overflowing the issuance.
fn fund<T: Config>(who: &HostId) {
	Funds::<T>::set_balance(who, 1_000_000_000_000_000_000_000);
}

fn host<T: Config>(i: u32) -> HostId {
	let who: HostId = account("host", i, 0);
	fund::<T>(&who);
	who
}

/// Epoch `NOW` in progress.
fn start_epoch<T: Config>() {
	pallet_poc::CurrentEpoch::<T>::put(pallet_poc::EpochInfo {
		index: NOW,
		start: One::one(),
		params: pallet_poc::EpochParams {
			epoch_length: 100u32.into(),
			poc_generation: 10u32.into(),
			validation_delay: 1u32.into(),
			poc_validation: 10u32.into(),
		},
		seed: H256::repeat_byte(1),
	});
}

/// The longest vesting the pallet allows, in force.
fn longest_vesting<T: Config>() -> RewardParams {
	let params = RewardParams {
		vesting_epochs: T::MaxVestingEpochs::get(),
		grace_epochs: 0,
		..RewardParams::live_network()
	};
	Params::<T>::put(params);
	params
}

/// `who` with a full vesting state from epoch `first` on, held.
fn full_vesting<T: Config>(who: &HostId, first: EpochIndex) -> u128 {
	let slots = vec![1_000_000u128; T::MaxVestingEpochs::get() as usize];
	let state =
		VestingState { first_epoch: first, slots: BoundedVec::truncate_from(slots), claimable: 0 };
	let held = state.held();
	Funds::<T>::hold(&HoldReason::Vesting.into(), who, held).expect("funded");
	Vesting::<T>::insert(who, state);
	held
}

/// `who` with `state` as its collateral, held.
fn with_collateral<T: Config>(who: &HostId, state: CollateralState) {
	Funds::<T>::hold(&HoldReason::Collateral.into(), who, state.total()).expect("funded");
	Collateral::<T>::insert(who, state);
}

/// `n` hosts with weights and collateral.
fn weighted_hosts<T: Config>(n: u32) -> Vec<(HostId, u128)> {
	(0..n)
		.map(|i| {
			let who = host::<T>(i);
			Collateral::<T>::insert(&who, CollateralState { bonded: 1_000, ..Default::default() });
			(who, 1_000u128.saturating_add(u128::from(i)))
		})
		.collect()
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn bond() {
		let who = host::<T>(0);
		with_collateral::<T>(&who, CollateralState { bonded: 1, ..Default::default() });

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), 1_000);

		assert_eq!(Collateral::<T>::get(&who).map(|state| state.bonded), Some(1_001));
	}

	#[benchmark]
	fn unbond() {
		start_epoch::<T>();
		let who = host::<T>(0);
		with_collateral::<T>(&who, CollateralState { bonded: 1_000, ..Default::default() });

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), 400);

		assert_eq!(Collateral::<T>::get(&who).map(|state| state.unbonding), Some(400));
	}

	#[benchmark]
	fn withdraw_unbonded() {
		start_epoch::<T>();
		let who = host::<T>(0);
		with_collateral::<T>(
			&who,
			CollateralState {
				bonded: 600,
				unbonding: 400,
				unbond_epoch: NOW - 1,
				..Default::default()
			},
		);
		// A queued epoch after the unbonding one (read, and not in the way).
		Queue::<T>::put(BoundedVec::truncate_from(vec![NOW]));
		Epochs::<T>::insert(NOW, EpochReward::default());

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert_eq!(Collateral::<T>::get(&who).map(|state| state.unbonding), Some(0));
	}

	#[benchmark]
	fn claim() {
		start_epoch::<T>();
		let who = host::<T>(0);
		// Half the slots have unlocked.
		let first = NOW.saturating_sub(T::MaxVestingEpochs::get() / 2);
		full_vesting::<T>(&who, first);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert!(Vesting::<T>::get(&who).is_some_and(|state| state.claimable == 0));
	}

	#[benchmark]
	fn spend_from_pool() -> Result<(), BenchmarkError> {
		let pool = T::CommunityPool::get();
		fund::<T>(&pool);
		let to: HostId = account("to", 0, 0);
		let origin =
			T::PoolOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, to.clone(), 1_000_000);

		assert_eq!(Funds::<T>::balance(&to), 1_000_000);
		Ok(())
	}

	#[benchmark]
	fn set_params() -> Result<(), BenchmarkError> {
		let origin = <T as pallet_poc::Config>::UpdateOrigin::try_successful_origin()
			.map_err(|_| BenchmarkError::Weightless)?;
		let params = RewardParams { vesting_epochs: 1, ..RewardParams::live_network() };

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, params);

		assert_eq!(Params::<T>::get(), params);
		Ok(())
	}

	#[benchmark]
	fn set_curve() -> Result<(), BenchmarkError> {
		let origin = <T as pallet_poc::Config>::UpdateOrigin::try_successful_origin()
			.map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, 1_000, gonka_primitives::issuance::LIVE_DECAY);

		assert_eq!(Pallet::<T>::next_reward().1, 1_000);
		Ok(())
	}

	/// Recording a formation of `n` hosts.
	#[benchmark]
	fn weights_formed(n: Linear<1, { <T as pallet_poc::Config>::MaxHosts::get() }>) {
		let hosts = weighted_hosts::<T>(n);

		#[block]
		{
			<Pallet<T> as OnWeightsFormed<HostId>>::weights_formed(NOW, &hosts);
		}

		assert_eq!(Epochs::<T>::get(NOW).map(|info| info.hosts), Some(n));
	}

	/// One host decided in its worst case: its collateral read for its effective weight
	/// (after the grace epochs), the downtime test at its most work (the most trials, a miss
	/// count at the null rate, so it passes), then paid into a full vesting state.
	#[benchmark]
	fn distribute_host() {
		start_epoch::<T>();
		let params = longest_vesting::<T>();
		let who = host::<T>(0);
		// Every slot taken, from NOW + 1 on: the new reward adds to each of them.
		full_vesting::<T>(&who, NOW.saturating_add(1));
		// Collateral for 1,000 weight units: the whole weight counts.
		let bonded = 1_000u128.saturating_mul(params.collateral_per_weight_unit);
		with_collateral::<T>(&who, CollateralState { bonded, ..Default::default() });
		let epoch = NOW.saturating_sub(2);
		pallet_inference::Ledger::<T>::insert(
			epoch,
			&who,
			EpochStats {
				assigned: MAX_SCALED_TRIALS,
				missed: MAX_SCALED_TRIALS / 100 * 40,
				..Default::default()
			},
		);
		let totals = DutyTotals { assigned: u64::from(MAX_SCALED_TRIALS), missed: 0 };
		let info = EpochReward {
			index: 1,
			reward: 1_000_000_000,
			total_weight: 10,
			cap_level: None,
			hosts: 1,
			decided: 0,
			paid: 0,
		};
		let weight = 5u128;
		let paid;

		#[block]
		{
			paid = Pallet::<T>::decide(epoch, NOW, &info, &who, weight, &params, &totals);
		}

		assert_eq!(paid, 500_000_000);
	}

	/// One host decided that was INVALID and failed the downtime test: both slashes.
	#[benchmark]
	fn distribute_host_slashed() {
		start_epoch::<T>();
		let params = longest_vesting::<T>();
		let who = host::<T>(0);
		with_collateral::<T>(
			&who,
			CollateralState { bonded: 1_000, unbonding: 1_000, ..Default::default() },
		);
		fund::<T>(&T::CommunityPool::get());
		let epoch = NOW.saturating_sub(2);
		pallet_inference::Ledger::<T>::insert(
			epoch,
			&who,
			EpochStats {
				assigned: MAX_SCALED_TRIALS,
				missed: MAX_SCALED_TRIALS,
				invalid: true,
				..Default::default()
			},
		);
		let totals = DutyTotals { assigned: u64::from(MAX_SCALED_TRIALS) * 2, missed: 0 };
		let info = EpochReward {
			index: 1,
			reward: 1_000_000_000,
			total_weight: 10,
			hosts: 1,
			..Default::default()
		};
		let weight = 5u128;
		let paid;

		#[block]
		{
			paid = Pallet::<T>::decide(epoch, NOW, &info, &who, weight, &params, &totals);
		}

		assert_eq!(paid, 0);
		assert_eq!(Collateral::<T>::get(&who).map(|state| state.total()), Some(1_440));
	}

	/// Closing an epoch: the remainder minted to the pool, the queue updated.
	#[benchmark]
	fn close_epoch() {
		start_epoch::<T>();
		fund::<T>(&T::CommunityPool::get());
		let epoch = NOW.saturating_sub(2);
		let queued: Vec<EpochIndex> =
			(0..MAX_QUEUED_EPOCHS).map(|i| epoch.saturating_add(i)).collect();
		Queue::<T>::put(BoundedVec::truncate_from(queued));
		let info = EpochReward {
			index: 1,
			reward: 1_000,
			hosts: 1,
			decided: 1,
			paid: 1,
			..Default::default()
		};
		Epochs::<T>::insert(epoch, info);

		#[block]
		{
			Pallet::<T>::close(epoch, &info);
		}

		assert!(!Epochs::<T>::contains_key(epoch));
	}

	#[benchmark]
	fn on_initialize_idle() {
		start_epoch::<T>();

		#[block]
		{
			Pallet::<T>::distribute();
		}

		assert!(Queue::<T>::get().is_empty());
	}

	impl_benchmark_test_suite!(
		Pallet,
		crate::mock::ExtBuilder::default().build(),
		crate::mock::Test
	);
}
