//! Benchmarks (v2) of every call and of the epoch-start hook, at their worst cases.

use super::*;
use alloc::{boxed::Box, vec, vec::Vec};
use polkadot_sdk::{
	frame_benchmarking::v2::*,
	frame_support::{
		traits::{fungible::Mutate, EnsureOrigin, Get},
		weights::Weight,
	},
	frame_system::{self, RawOrigin},
	sp_arithmetic::{FixedU128, Perbill},
	sp_runtime::traits::Bounded,
};

/// A valid record with every bounded field at its longest.
pub fn record<T: Config>() -> ModelRecordOf<T> {
	ModelRecord {
		name: vec![b'n'; T::MaxNameLength::get() as usize].try_into().unwrap_or_default(),
		architecture: vec![b'a'; T::MaxLabelLength::get() as usize].try_into().unwrap_or_default(),
		quantization: vec![b'q'; T::MaxLabelLength::get() as usize].try_into().unwrap_or_default(),
		weights_digest: [1; 32],
		tokenizer_digest: [2; 32],
		poc: PocParams {
			seq_len: 64,
			dist_threshold: Perbill::from_percent(20),
			p_mismatch: Perbill::from_rational(1u32, 1000),
			p_value: Perbill::from_percent(2),
		},
		coefficient: FixedU128::from_u32(1),
		validation_threshold: Perbill::from_percent(90),
		template_overhead: 9,
		price: 1u32.into(),
		// Room for the largest request: 8 KiB of prompt, the template, 4,096 tokens out.
		max_context: 16_384,
		end_tokens: (0..gonka_primitives::bounds::MAX_END_TOKENS)
			.collect::<Vec<_>>()
			.try_into()
			.unwrap_or_default(),
	}
}

fn governance_origin<T: Config>() -> <T as frame_system::Config>::RuntimeOrigin {
	T::UpdateOrigin::try_successful_origin().expect("the update origin can be produced")
}

/// `n` hosts with voting power (and nobody else), the first one funded for a deposit;
/// governance's rules set (benchmarks may start from an empty genesis).
fn hosts<T: Config>(n: u32) -> Vec<T::AccountId> {
	if Governance::<T>::get().is_none() {
		Governance::<T>::put(GovernanceParams::live_network());
	}
	let hosts: Vec<T::AccountId> = (0..n.max(1)).map(|i| account("host", i, 0)).collect();
	let powers: Vec<(T::AccountId, u128)> =
		hosts.iter().map(|host| (host.clone(), 1_000)).collect();
	T::Power::set_powers(&powers);
	if let Some(first) = hosts.first() {
		T::Currency::set_balance(first, BalanceOf::<T>::max_value() / 4u32.into());
	}
	hosts
}

/// A proposal by the first of `n` hosts, with a call that fails at once when dispatched
/// (retiring an unknown model), so `close` measures itself.
fn proposal<T: Config>(n: u32) -> (Vec<T::AccountId>, ProposalIndex) {
	let hosts = hosts::<T>(n.max(1));
	let call: <T as Config>::RuntimeCall =
		frame_system::Call::<T>::remark { remark: vec![0; 32] }.into();
	let index = ProposalCount::<T>::get();
	Pallet::<T>::propose(RawOrigin::Signed(hosts[0].clone()).into(), Box::new(call))
		.expect("the first host proposes");
	(hosts, index)
}

/// Fills the registry and the schedule to one below their bounds.
fn fill_registry<T: Config>() {
	let origin = governance_origin::<T>();
	let room = T::MaxPendingChanges::get().min(T::MaxModels::get()).saturating_sub(1);
	for _ in 0..room.saturating_sub(Registry::<T>::count()) {
		Pallet::<T>::register_model(origin.clone(), record::<T>()).expect("room in the registry");
	}
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_model() {
		fill_registry::<T>();
		let origin = governance_origin::<T>();
		#[extrinsic_call]
		_(origin as <T as frame_system::Config>::RuntimeOrigin, record::<T>());
		assert!(Registry::<T>::contains_key(NextModelId::<T>::get() - 1));
	}

	#[benchmark]
	fn update_model() {
		<Pallet<T> as ModelRegistry>::approve_for_benchmark(0);
		let origin = governance_origin::<T>();
		#[extrinsic_call]
		_(origin as <T as frame_system::Config>::RuntimeOrigin, 0, record::<T>());
		assert!(Registry::<T>::get(0).is_some_and(|info| info.pending.is_some()));
	}

	#[benchmark]
	fn retire_model() {
		<Pallet<T> as ModelRegistry>::approve_for_benchmark(0);
		let origin = governance_origin::<T>();
		#[extrinsic_call]
		_(origin as <T as frame_system::Config>::RuntimeOrigin, 0);
		assert!(Registry::<T>::get(0).is_some_and(|info| info.pending.is_some()));
	}

	#[benchmark]
	fn set_governance_params() {
		let params = GovernanceParams {
			voting_period: 100u32.into(),
			quorum: Perbill::from_percent(25),
			threshold: Perbill::from_percent(50),
			veto_threshold: Perbill::from_parts(334_000_000),
		};
		let origin = governance_origin::<T>();
		#[extrinsic_call]
		_(origin as <T as frame_system::Config>::RuntimeOrigin, params);
		assert_eq!(Governance::<T>::get(), Some(params));
	}

	/// The snapshot is one call to the power source, whatever the number of hosts.
	#[benchmark]
	fn propose() {
		let hosts = hosts::<T>(T::MaxVoters::get());
		let call: <T as Config>::RuntimeCall = frame_system::Call::<T>::remark {
			remark: vec![0; (T::MaxCallLength::get() as usize).saturating_sub(16)],
		}
		.into();
		#[extrinsic_call]
		_(RawOrigin::Signed(hosts[0].clone()), Box::new(call));
		assert_eq!(Proposals::<T>::count(), 1);
	}

	#[benchmark]
	fn vote() {
		let (hosts, index) = proposal::<T>(2);
		let voter = hosts[1].clone();
		// The worst case: a changed vote.
		Pallet::<T>::vote(RawOrigin::Signed(voter.clone()).into(), index, Vote::Nay)
			.expect("a host votes");
		#[extrinsic_call]
		_(RawOrigin::Signed(voter), index, Vote::Aye);
		assert!(Proposals::<T>::get(index).is_some_and(|p| p.tally.aye > 0));
	}

	/// Closing a proposal on which `n` hosts voted.
	#[benchmark]
	fn close(n: Linear<1, { T::MaxVoters::get() }>) {
		let (hosts, index) = proposal::<T>(n);
		for voter in hosts {
			Pallet::<T>::vote(RawOrigin::Signed(voter).into(), index, Vote::Aye)
				.expect("every host votes");
		}
		let closer: T::AccountId = whitelisted_caller();
		#[extrinsic_call]
		_(RawOrigin::Signed(closer), index, Weight::MAX, n);
		assert!(Proposals::<T>::get(index).is_none());
	}

	#[benchmark]
	fn on_epoch_start(n: Linear<0, { T::MaxPendingChanges::get().min(T::MaxModels::get()) }>) {
		let origin = governance_origin::<T>();
		for _ in 0..n {
			Pallet::<T>::register_model(origin.clone(), record::<T>()).expect("room to register");
		}
		#[block]
		{
			<Pallet<T> as ModelRegistry>::on_epoch_start(1);
		}
		assert!(PendingChanges::<T>::get().is_empty());
	}

	impl_benchmark_test_suite!(
		Pallet,
		crate::mock::ExtBuilder::default().build(),
		crate::mock::Test
	);
}
