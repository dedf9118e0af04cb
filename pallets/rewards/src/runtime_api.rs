//! `RewardsApi`: what hosts, developers and explorers read of rewards through the node's
//! `state_call` RPC. The runtime implements it with the `Pallet` functions named in each
//! method's documentation.

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
