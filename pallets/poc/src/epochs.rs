//! Epochs and phases (`protocol.md`, "Epochs"): an epoch starts when the previous one ends,
//! with the parameters scheduled during the previous epoch (else the previous epoch's) and
//! the hash of the block before it as its seed; the phase of a block follows from its
//! offset in the epoch (`types.rs`, `EpochInfo::phase_at`). The records of the epochs that
//! left the retention window are pruned a few per block (`PrunedBefore`).

use crate::{
	Commitments, Config, CurrentEpoch, EpochInfo, EpochInfoOf, Event, NextEpochParams, Pallet,
	Phase, PrunedBefore, Tallies, Validated, WeightInfo,
};
use alloc::vec::Vec;
use gonka_primitives::H256;
use polkadot_sdk::{
	frame_support::{defensive, weights::WeightMeter},
	frame_system::{self, pallet_prelude::BlockNumberFor},
	sp_core::Get,
};

impl<T: Config> Pallet<T> {
	/// The epoch in progress and the phase of block `now` in it.
	pub fn phase(now: BlockNumberFor<T>) -> Option<(EpochInfoOf<T>, Phase)> {
		CurrentEpoch::<T>::get().map(|epoch| (epoch, epoch.phase_at(now)))
	}

	/// Starts the epoch after `previous` at block `now`; returns it.
	pub(crate) fn start_epoch(
		now: BlockNumberFor<T>,
		previous: Option<EpochInfoOf<T>>,
	) -> Option<EpochInfoOf<T>> {
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
		Some(epoch)
	}

	/// Prunes, within `meter`, the records of the epochs that left the retention window,
	/// oldest first: its rosters, its batches, then its commitments (a rostered host keeps
	/// its commitment until its roster is gone). `EpochPruned` when an epoch holds none.
	pub(crate) fn prune_epochs(meter: &mut WeightMeter) {
		let Some(current) = CurrentEpoch::<T>::get().map(|epoch| epoch.index) else { return };
		// The epochs below `current - RetentionEpochs` left the window.
		let end = current.saturating_sub(T::RetentionEpochs::get());
		let (base, per_record) = Self::linear(T::WeightInfo::prune_epoch);
		let mut old = PrunedBefore::<T>::get();
		while old < end {
			let room = Self::records_fitting(meter, base, per_record, u32::MAX);
			if room == 0 {
				return;
			}
			// Rosters, batches, then commitments; keys are read afresh each step, so the
			// removals of this block are seen.
			let steps: [&dyn Fn(usize) -> (usize, bool); 3] = [
				&|limit| {
					remove_keys(Tallies::<T>::iter_key_prefix(old), limit, |model| {
						Tallies::<T>::remove(old, model)
					})
				},
				&|limit| {
					remove_keys(Validated::<T>::iter_key_prefix(old), limit, |key| {
						Validated::<T>::remove(old, key)
					})
				},
				&|limit| {
					remove_keys(Commitments::<T>::iter_key_prefix((old,)), limit, |key| {
						Commitments::<T>::remove((old, key.0, key.1))
					})
				},
			];
			let (removed, done) = remove_in_order(&steps, room);
			Self::consume_records(meter, base, per_record, removed);
			if !done {
				return;
			}
			Self::deposit_event(Event::EpochPruned { epoch: old });
			old = old.saturating_add(1);
			PrunedBefore::<T>::put(old);
		}
	}
}

/// Removes at most `limit` of `keys` with `remove`; returns how many it removed and whether
/// none is left.
pub(crate) fn remove_keys<K>(
	mut keys: impl Iterator<Item = K>,
	limit: usize,
	remove: impl Fn(K),
) -> (usize, bool) {
	let batch: Vec<K> = keys.by_ref().take(limit).collect();
	let removed = batch.len();
	let exhausted = removed < limit || keys.next().is_none();
	batch.into_iter().for_each(remove);
	(removed, exhausted)
}

/// Runs removal `steps` in order, at most `records` removals in all; returns the number
/// removed and whether every step is done.
pub(crate) fn remove_in_order(
	steps: &[&dyn Fn(usize) -> (usize, bool)],
	records: u32,
) -> (u32, bool) {
	let mut left = records as usize;
	for step in steps {
		if left == 0 {
			return (records, false);
		}
		let (removed, exhausted) = step(left);
		left = left.saturating_sub(removed);
		if !exhausted {
			return (records.saturating_sub(left as u32), false);
		}
	}
	(records.saturating_sub(left as u32), true)
}
