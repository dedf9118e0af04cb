//! `PocApi`: what clients (the worker, wallets, explorers) read of Proof of Compute, through
//! the node's `state_call` RPC. The runtime implements it with the `Pallet` functions of the
//! same names (the two that are not storage reads or `genesis_hash` are below).

use crate::{Commitment, Config, CurrentEpoch, EpochInfo, EpochInfoOf, Hosts, Pallet, Phase};
use alloc::vec::Vec;
use codec::{Codec, Decode, Encode};
use gonka_primitives::{EpochIndex, HostId, ModelId, NonceCount, H256};
use polkadot_sdk::{
	frame_system,
	sp_core::sr25519,
	sp_runtime::{traits::One, Saturating},
};
use scale_info::TypeInfo;

/// A registered host as clients see it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct HostView {
	/// The key its worker signs duties with.
	pub worker_key: sr25519::Public,
	/// Where other workers reach it.
	pub endpoint: Vec<u8>,
	/// The models it serves.
	pub models: Vec<ModelId>,
	/// Its voting power (consensus weight) in the epoch in progress.
	pub voting_power: u128,
}

polkadot_sdk::sp_api::decl_runtime_apis! {
	/// Proof of Compute state for clients.
	pub trait PocApi<BlockNumber> where BlockNumber: Codec {
		/// The epoch in progress (index, start, phase lengths, seed) and the phase of the next
		/// block, the one a duty transaction sent now is checked against.
		fn epoch() -> Option<(EpochInfo<BlockNumber>, Phase)>;
		/// The genesis hash every duty payload is signed with.
		fn genesis_hash() -> H256;
		/// A registered host.
		fn host(host: HostId) -> Option<HostView>;
		/// A host's commitment for a model in an epoch still kept.
		fn commitment(epoch: EpochIndex, host: HostId, model: ModelId) -> Option<Commitment>;
		/// A host's PoC weight in force for a model.
		fn poc_weight(host: HostId, model: ModelId) -> NonceCount;
		/// A host's voting power (consensus weight) in force.
		fn voting_power(host: HostId) -> u128;
		/// The sum of all voting power in force.
		fn total_voting_power() -> u128;
	}
}

impl<T: Config> Pallet<T> {
	/// `PocApi::epoch`: the epoch in progress and the phase of the next block.
	pub fn epoch_and_next_phase() -> Option<(EpochInfoOf<T>, Phase)> {
		let next = frame_system::Pallet::<T>::block_number().saturating_add(One::one());
		CurrentEpoch::<T>::get().map(|epoch| (epoch, epoch.phase_at(next)))
	}

	/// `PocApi::host`: a registered host with its voting power.
	pub fn host_view(host: &T::AccountId) -> Option<HostView> {
		Hosts::<T>::get(host).map(|info| HostView {
			worker_key: info.worker_key,
			endpoint: info.endpoint.into_inner(),
			models: info.models.into_inner(),
			voting_power: Self::voting_power(host),
		})
	}
}
