//! The chain's bootstrap, before any PoC has run: the first epoch's parameters, and the
//! genesis hosts registered with their deposits held, equal voting power
//! (`GENESIS_HOST_POWER` each, generation 0) and equal PoC weight on each model they serve
//! (`GENESIS_HOST_POC_WEIGHT`), so requests have executors from the first block.

use crate::{
	Config, EpochParamsOf, GenerationInfo, GenesisHostOf, NextEpochParams, Pallet,
	PowerGenerations, PowerHistory, TotalVotingPower, GENESIS_HOST_POC_WEIGHT, GENESIS_HOST_POWER,
};
use alloc::{collections::BTreeMap, vec::Vec};
use gonka_primitives::{ModelId, NonceCount};

impl<T: Config> Pallet<T> {
	/// Builds the genesis state: `params` for the first epoch, and `hosts` registered.
	pub(crate) fn build_genesis(params: EpochParamsOf<T>, hosts: &[GenesisHostOf<T>]) {
		params.check().expect("the genesis epoch parameters are valid");
		NextEpochParams::<T>::put(params);
		let mut rosters: BTreeMap<ModelId, Vec<(T::AccountId, NonceCount)>> = BTreeMap::new();
		for (account, worker_key, endpoint, models) in hosts {
			// Bootstrap: genesis hosts serve their models with equal PoC weight until the
			// first formation, so requests have executors from the first block.
			for model in models {
				rosters.entry(*model).or_default().push((account.clone(), GENESIS_HOST_POC_WEIGHT));
			}
			// The registry's genesis may be built after this one: genesis hosts' models are
			// not checked against it (the runtime's tests check the presets'), the rest is.
			Self::do_register(account, *worker_key, endpoint.clone(), models.clone(), false)
				.expect("genesis hosts are valid and can hold their deposit");
			// Bootstrap: no PoC has run yet, so genesis hosts have equal power.
			PowerHistory::<T>::insert(0, account, GENESIS_HOST_POWER);
		}
		TotalVotingPower::<T>::put(GENESIS_HOST_POWER.saturating_mul(hosts.len() as u128));
		PowerGenerations::<T>::insert(
			0,
			GenerationInfo { hosts: hosts.len() as u32, departures: 0, pins: 0 },
		);
		Self::write_rosters(rosters, 0);
	}
}
