//! The community pool: a keyless account (`CommunityPool`) that only `PoolOrigin`
//! (compute-weighted governance) spends from, keeping it alive. It receives each epoch's
//! unpaid remainder (here, when the epoch closes) and the slashes (`collateral.rs`).

use crate::*;
use polkadot_sdk::frame_support::{
	defensive, ensure,
	pallet_prelude::DispatchResult,
	traits::{fungible::Mutate, tokens::Preservation, Get},
};

impl<T: Config> Pallet<T> {
	/// Pays `amount` from the community pool to `to`; the pool stays alive.
	pub(crate) fn do_spend_from_pool(to: T::AccountId, amount: u128) -> DispatchResult {
		ensure!(amount > 0, Error::<T>::ZeroAmount);
		Funds::<T>::transfer(&T::CommunityPool::get(), &to, amount, Preservation::Preserve)
			.map_err(|_| Error::<T>::PoolTooLow)?;
		Self::deposit_event(Event::PoolSpent { to, amount });
		Ok(())
	}

	/// Mints an epoch's unpaid remainder `to_pool` to the community pool. Should the pool
	/// not receive it (it is endowed at genesis, so never), the curve un-mints it.
	pub(crate) fn mint_to_pool(to_pool: u128) {
		if to_pool > 0 && Funds::<T>::mint_into(&T::CommunityPool::get(), to_pool).is_err() {
			defensive!("the community pool receives the remainder");
			Curve::<T>::mutate(|curve| curve.minted = curve.minted.saturating_sub(to_pool));
		}
	}
}
