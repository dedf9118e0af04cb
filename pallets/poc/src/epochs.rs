//! Epochs and phases (`protocol.md`, "Epochs"): an epoch starts when the previous one ends,
//! with the parameters scheduled during the previous epoch (else the previous epoch's) and
//! the hash of the block before it as its seed; the phase of a block follows from its
//! offset in the epoch (`types.rs`, `EpochInfo::phase_at`). An epoch's start also prunes the
//! records of the epoch that left the retention window.

use crate::{
	Commitments, Config, CurrentEpoch, EpochInfo, EpochInfoOf, Event, NextEpochParams, Pallet,
	Phase, Tallies, Validated,
};
use gonka_primitives::{EpochIndex, H256};
use polkadot_sdk::{
	frame_support::defensive,
	frame_system::{self, pallet_prelude::BlockNumberFor},
	sp_core::Get,
};

impl<T: Config> Pallet<T> {
	/// The epoch in progress and the phase of block `now` in it.
	pub fn phase(now: BlockNumberFor<T>) -> Option<(EpochInfoOf<T>, Phase)> {
		CurrentEpoch::<T>::get().map(|epoch| (epoch, epoch.phase_at(now)))
	}

	/// Starts the epoch after `previous` at block `now`; returns it and the number of
	/// commitments pruned.
	pub(crate) fn start_epoch(
		now: BlockNumberFor<T>,
		previous: Option<EpochInfoOf<T>>,
	) -> Option<(EpochInfoOf<T>, u32)> {
		let index = previous.map_or(0, |epoch| epoch.index.saturating_add(1));
		// The parameters set during the previous epoch, else the previous epoch's.
		let Some(params) = NextEpochParams::<T>::take().or(previous.map(|epoch| epoch.params))
		else {
			defensive!("genesis sets the first epoch's parameters");
			return None;
		};
		let seed = H256::from_slice(frame_system::Pallet::<T>::parent_hash().as_ref());
		let epoch = EpochInfo { index, start: now, params, seed };
		CurrentEpoch::<T>::put(epoch);
		Self::deposit_event(Event::EpochStarted { index, start: now, seed });
		Some((epoch, Self::prune(index)))
	}

	/// Removes the commitments, tallies and batches of the epoch that just left the
	/// retention window; returns how many commitments it held.
	pub(crate) fn prune(current: EpochIndex) -> u32 {
		let Some(old) = current.checked_sub(T::RetentionEpochs::get().saturating_add(1)) else {
			return 0;
		};
		// Each holds at most MaxHosts × MaxModelsPerHost entries per epoch.
		let removed = Commitments::<T>::clear_prefix(old, u32::MAX, None).unique;
		let _ = Tallies::<T>::clear_prefix(old, u32::MAX, None);
		let _ = Validated::<T>::clear_prefix(old, u32::MAX, None);
		removed
	}
}
