//! What runs every block (`on_initialize`). An epoch's transition is spread over three
//! blocks, one O(hosts) step each: the epoch's first block starts it (and prunes the epoch
//! that left the retention window, and lets the model registry apply its scheduled
//! changes), the first validation block (`S+G+D`) opens validation, the first inference
//! block (`S+G+D+V`) forms the weights. Any other block prunes at most one generation of
//! voting power that is no longer held, so no block carries two heavy steps.

use crate::{Config, EpochInfoOf, LastFormedEpoch, ModelRegistry, Pallet, Phase, WeightInfo};
use polkadot_sdk::{
	frame_support::{traits::Get, weights::Weight},
	frame_system::pallet_prelude::BlockNumberFor,
};

impl<T: Config> Pallet<T> {
	/// `on_initialize` at block `now`; returns the weight used.
	pub(crate) fn tick(now: BlockNumberFor<T>) -> Weight {
		// One read of the epoch serves both the epoch start and the formation check.
		// `heavy`: this block runs one of the epoch's O(hosts) steps, so it prunes no
		// generation of voting power (no block carries two such steps).
		let (epoch, mut weight, mut heavy) = Self::tick_epoch(now);
		if let Some(epoch) = epoch {
			if let Some(used) = Self::tick_open_validation(&epoch, now) {
				weight = weight.saturating_add(used);
				heavy = true;
			}
			if let Some(used) = Self::tick_form_weights(&epoch, now) {
				weight = weight.saturating_add(used);
				heavy = true;
			}
		}
		if !heavy {
			if let Some(hosts) = Self::prune_power_generation() {
				weight = weight.saturating_add(T::WeightInfo::prune_power_generation(hosts));
			}
		}
		weight
	}

	/// The epoch in progress at `now`, starting it if the previous one ended (or none
	/// started yet); with the weight used and whether the block started an epoch.
	fn tick_epoch(now: BlockNumberFor<T>) -> (Option<EpochInfoOf<T>>, Weight, bool) {
		match crate::CurrentEpoch::<T>::get() {
			Some(epoch) if now < epoch.next_start() => {
				(Some(epoch), T::WeightInfo::on_initialize_idle(), false)
			}
			previous => {
				let started = Self::start_epoch(now, previous);
				let pruned = started.map_or(0, |(_, pruned)| pruned);
				let registry = started
					.map_or(Weight::zero(), |(epoch, _)| T::Models::on_epoch_start(epoch.index));
				(
					started.map(|(epoch, _)| epoch),
					T::WeightInfo::on_initialize_epoch_start()
						.saturating_add(T::WeightInfo::prune_epoch(pruned))
						.saturating_add(registry),
					true,
				)
			}
		}
	}

	/// Opens validation if `now` is the epoch's first validation block; the weight used.
	fn tick_open_validation(epoch: &EpochInfoOf<T>, now: BlockNumberFor<T>) -> Option<Weight> {
		if epoch.validation_start() != now {
			return None;
		}
		let rostered = Self::open_validation(epoch);
		// The total power kept for the formation (`ValidationTotal`).
		let total = T::DbWeight::get().reads_writes(1, 1);
		Some(T::WeightInfo::open_validation(rostered).saturating_add(total))
	}

	/// Forms the epoch's weights if `now` is in its inference phase and they are not formed
	/// yet (once per epoch); the weight used, `OnWeightsFormed`'s included.
	fn tick_form_weights(epoch: &EpochInfoOf<T>, now: BlockNumberFor<T>) -> Option<Weight> {
		if epoch.phase_at(now) != Phase::Inference
			|| LastFormedEpoch::<T>::get() == Some(epoch.index)
		{
			return None;
		}
		let (judged, hook) = Self::form_weights(epoch);
		LastFormedEpoch::<T>::put(epoch.index);
		Some(T::WeightInfo::form_weights(judged).saturating_add(hook))
	}
}
