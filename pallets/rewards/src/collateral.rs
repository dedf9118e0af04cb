//! Collateral and slashing.
//!
//! - `bond` holds collateral from the host's free balance (`HoldReason::Collateral`).
//! - `unbond` moves bonded collateral to unbonding: it covers no weight from then on.
//! - `withdraw_unbonded` releases it from the epoch after the last `unbond` on, and only
//!   once every formed epoch up to that one is distributed: collateral stays slashable for
//!   the epochs it backed.
//! - A host's **effective weight** (its reward share's weight) is all of its consensus
//!   weight during the grace epochs, else its free share plus what its bonded collateral
//!   covers at `collateral_per_weight_unit`, read when the epoch is distributed.
//!   Collateral limits rewards only: voting power comes from compute alone.
//! - **Slashing**: a share of the bonded and unbonding collateral (bonded first) goes to
//!   the community pool, at most once per epoch and reason (20% for INVALID, 10% for
//!   downtime by the live rules).

use crate::*;
use gonka_primitives::EpochIndex;
use polkadot_sdk::{
	frame_support::{
		defensive, ensure,
		pallet_prelude::DispatchResult,
		traits::{
			fungible::MutateHold,
			tokens::{Fortitude, Precision, Restriction},
			Get,
		},
	},
	sp_runtime::Perbill,
};

impl<T: Config> Pallet<T> {
	/// Bonds `amount` of `who`'s free balance as collateral.
	pub(crate) fn do_bond(who: T::AccountId, amount: u128) -> DispatchResult {
		ensure!(amount > 0, Error::<T>::ZeroAmount);
		Funds::<T>::hold(&HoldReason::Collateral.into(), &who, amount)
			.map_err(|_| Error::<T>::InsufficientBalance)?;
		Collateral::<T>::mutate(&who, |state| {
			let state = state.get_or_insert_with(Default::default);
			state.bonded = state.bonded.saturating_add(amount);
		});
		Self::deposit_event(Event::Bonded { host: who, amount });
		Ok(())
	}

	/// Moves `amount` of `who`'s bonded collateral to unbonding, as of the epoch in
	/// progress.
	pub(crate) fn do_unbond(who: T::AccountId, amount: u128) -> DispatchResult {
		ensure!(amount > 0, Error::<T>::ZeroAmount);
		let epoch = pallet_poc::Pallet::<T>::epoch_in_progress().ok_or(Error::<T>::NoEpoch)?;
		Collateral::<T>::try_mutate(&who, |state| {
			let state = state.as_mut().ok_or(Error::<T>::NotBonded)?;
			ensure!(amount <= state.bonded, Error::<T>::NotBonded);
			state.bonded = state.bonded.saturating_sub(amount);
			state.unbonding = state.unbonding.saturating_add(amount);
			state.unbond_epoch = epoch;
			Ok::<_, Error<T>>(())
		})?;
		Self::deposit_event(Event::Unbonding { host: who, amount, epoch });
		Ok(())
	}

	/// Releases `who`'s unbonding collateral: from the epoch after its last unbonding on,
	/// once no queued epoch is at or before that one (the epochs it backed are
	/// distributed, so no slash for them can come).
	pub(crate) fn do_withdraw_unbonded(who: T::AccountId) -> DispatchResult {
		let now = pallet_poc::Pallet::<T>::epoch_in_progress().ok_or(Error::<T>::NoEpoch)?;
		let mut state = Collateral::<T>::get(&who).ok_or(Error::<T>::NothingUnbonding)?;
		ensure!(state.unbonding > 0, Error::<T>::NothingUnbonding);
		ensure!(now > state.unbond_epoch, Error::<T>::UnbondingNotDue);
		let backed = state.unbond_epoch;
		ensure!(
			Queue::<T>::get().first().is_none_or(|oldest| *oldest > backed),
			Error::<T>::StillSlashable
		);
		let amount = state.unbonding;
		Funds::<T>::release(&HoldReason::Collateral.into(), &who, amount, Precision::Exact)
			.map_err(|_| Error::<T>::NothingUnbonding)?;
		state.unbonding = 0;
		Self::store_collateral(&who, state);
		Self::deposit_event(Event::Withdrawn { host: who, amount });
		Ok(())
	}

	/// `host`'s effective weight in the `index`-th rewarded epoch: all of `weight` during
	/// the grace epochs, else its free share plus what its bonded collateral covers.
	pub(crate) fn effective_weight(
		host: &T::AccountId,
		weight: u128,
		index: u32,
		params: &RewardParams,
	) -> u128 {
		if index <= params.grace_epochs {
			return weight;
		}
		let bonded = Collateral::<T>::get(host).map_or(0, |state| state.bonded);
		effective_weight(
			weight,
			bonded,
			params.free_weight_share,
			params.collateral_per_weight_unit,
		)
	}

	/// Slashes `share` of `host`'s collateral (bonded first, then unbonding) to the
	/// community pool, unless it was already slashed for `reason` in `epoch`.
	pub(crate) fn slash(
		host: &T::AccountId,
		epoch: EpochIndex,
		reason: SlashReason,
		share: Perbill,
	) {
		let Some(mut state) = Collateral::<T>::get(host) else {
			return;
		};
		if *state.last_slash(reason) == Some(epoch) {
			return;
		}
		*state.last_slash(reason) = Some(epoch);
		let amount = share.mul_floor(state.total());
		let slashed = Funds::<T>::transfer_on_hold(
			&HoldReason::Collateral.into(),
			host,
			&T::CommunityPool::get(),
			amount,
			Precision::BestEffort,
			Restriction::Free,
			Fortitude::Force,
		)
		.unwrap_or_else(|_| {
			defensive!("collateral is held and the pool exists");
			0
		});
		state.take(slashed);
		Self::store_collateral(host, state);
		Self::deposit_event(Event::Slashed { host: host.clone(), epoch, reason, amount: slashed });
	}

	/// Stores a host's collateral, removing an empty record.
	fn store_collateral(host: &T::AccountId, state: CollateralState) {
		if state.total() == 0 {
			Collateral::<T>::remove(host);
		} else {
			Collateral::<T>::insert(host, state);
		}
	}
}
