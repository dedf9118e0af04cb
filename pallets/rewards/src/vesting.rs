//! Vesting: a host's share is minted to it and held (`HoldReason::Vesting`), split into
//! `vesting_epochs` slots (the remainder of the split in the first) that unlock one per
//! epoch from the epoch after the distribution; `claim` releases what has unlocked. The
//! slots of several rewards add up in one bounded state per host (`VestingState` in
//! `types.rs`); `vesting_epochs = 0` pays free at once.

use crate::*;
use gonka_primitives::EpochIndex;
use polkadot_sdk::frame_support::{
	ensure,
	pallet_prelude::DispatchResult,
	storage::with_storage_layer,
	traits::{
		fungible::{Mutate, MutateHold},
		tokens::Precision,
	},
};

impl<T: Config> Pallet<T> {
	/// Mints `amount` to `host`, held and vesting over `epochs` slots from epoch
	/// `now + 1` (free at once when `epochs` is zero). All or nothing.
	pub(crate) fn pay(
		host: &T::AccountId,
		now: EpochIndex,
		amount: u128,
		epochs: u32,
	) -> DispatchResult {
		with_storage_layer(|| {
			Funds::<T>::mint_into(host, amount)?;
			if epochs == 0 {
				return Ok(());
			}
			Funds::<T>::hold(&HoldReason::Vesting.into(), host, amount)?;
			let mut state = Vesting::<T>::get(host).unwrap_or_else(|| VestingState::empty(now));
			state.roll(now);
			ensure!(state.add(now, amount, epochs), Error::<T>::VestingTooLong);
			Vesting::<T>::insert(host, state);
			Ok(())
		})
	}

	/// Releases `who`'s unlocked rewards; an emptied vesting state is removed.
	pub(crate) fn do_claim(who: T::AccountId) -> DispatchResult {
		let now = pallet_poc::Pallet::<T>::epoch_in_progress().ok_or(Error::<T>::NoEpoch)?;
		let mut state = Vesting::<T>::get(&who).ok_or(Error::<T>::NothingToClaim)?;
		state.roll(now);
		let amount = state.claimable;
		ensure!(amount > 0, Error::<T>::NothingToClaim);
		Funds::<T>::release(&HoldReason::Vesting.into(), &who, amount, Precision::Exact)
			.map_err(|_| Error::<T>::NothingToClaim)?;
		state.claimable = 0;
		if state.slots.is_empty() {
			Vesting::<T>::remove(&who);
		} else {
			Vesting::<T>::insert(&who, state);
		}
		Self::deposit_event(Event::Claimed { host: who, amount });
		Ok(())
	}
}
