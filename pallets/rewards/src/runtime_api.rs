//! `RewardsApi`: what hosts, developers and explorers read of rewards through the node's
//! `state_call` RPC. The runtime implements it with the `Pallet` functions named in each
//! method's documentation, defined here: `Pallet::next_reward` and `Pallet::host_view`.

use crate::{
	collateral_required, Collateral, Config, Curve, EpochWeights, LastFormed, Pallet, Params,
	Vesting,
};
use codec::{Decode, Encode};
use gonka_primitives::{EpochIndex, HostId};
use scale_info::TypeInfo;

/// A host's money as rewards and inference hold it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct HostRewards {
	/// Its pending work balance (fees of finished requests, until their epoch settles).
	pub pending_work: u128,
	/// Rewards still vesting.
	pub vesting: u128,
	/// Rewards unlocked and not yet claimed (`claim` releases them).
	pub claimable: u128,
	/// Bonded collateral.
	pub bonded: u128,
	/// Unbonding collateral.
	pub unbonding: u128,
	/// The epoch of its last unbonding.
	pub unbond_epoch: EpochIndex,
	/// Its consensus weight at the last formation (0 once that epoch is distributed and no
	/// newer formation exists).
	pub weight: u128,
	/// What its bonded collateral makes of that weight now (its reward share's weight).
	pub effective_weight: u128,
	/// The collateral that covers all of that weight beyond the free share.
	pub collateral_required: u128,
	/// Whether the next formation is still in the grace epochs (no collateral needed).
	pub in_grace: bool,
}

polkadot_sdk::sp_api::decl_runtime_apis! {
	/// Rewards state for clients.
	pub trait RewardsApi {
		/// The next rewarded epoch's index `e` and its reward `R(e)` in nGNK
		/// (`Pallet::next_reward`).
		fn next_reward() -> (u32, u128);
		/// A host's pending, vesting and claimable amounts, collateral and the collateral its
		/// weight requires (`Pallet::host_view`).
		fn host(host: HostId) -> HostRewards;
	}
}

impl<T: Config> Pallet<T> {
	/// What the runtime API shows of a host (`RewardsApi::host`): its pending work, its
	/// vesting and claimable rewards as of the epoch in progress, its collateral, and the
	/// weight of the last formation with what its collateral makes of it for the next
	/// rewarded epoch.
	pub fn host_view(host: &T::AccountId) -> HostRewards {
		let now = pallet_poc::Pallet::<T>::epoch_in_progress().unwrap_or_default();
		let (vesting, claimable) = Vesting::<T>::get(host).map_or((0, 0), |mut state| {
			state.roll(now);
			(state.vesting(), state.claimable)
		});
		let collateral = Collateral::<T>::get(host).unwrap_or_default();
		let params = Params::<T>::get();
		let weight = LastFormed::<T>::get()
			.and_then(|epoch| EpochWeights::<T>::get(epoch, host))
			.unwrap_or_default();
		let next_index = Curve::<T>::get().next_epoch;
		HostRewards {
			pending_work: pallet_inference::Pallet::<T>::host_view(host).pending_work,
			vesting,
			claimable,
			bonded: collateral.bonded,
			unbonding: collateral.unbonding,
			unbond_epoch: collateral.unbond_epoch,
			weight,
			effective_weight: Self::effective_weight(host, weight, next_index, &params),
			collateral_required: collateral_required(
				weight,
				params.free_weight_share,
				params.collateral_per_weight_unit,
			),
			in_grace: next_index <= params.grace_epochs,
		}
	}

	/// The next rewarded epoch's index `e` and its reward `R(e)` (`RewardsApi::next_reward`).
	pub fn next_reward() -> (u32, u128) {
		let curve = Curve::<T>::get();
		(curve.next_epoch, curve.next_reward())
	}
}
