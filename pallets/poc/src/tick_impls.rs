//! What runs every block (`on_initialize`). The epoch's first block starts it (and lets the
//! model registry apply its scheduled changes); its first block after generation (`S+G`)
//! starts building the validation rosters, or the first block after it in which no
//! formation runs, in its delay or validation phase; the first inference block
//! (`S+G+D+V`) starts the weight formation, or the first one after it in which no other
//! formation runs and the rosters are built. So a formation running late (very short
//! phases at the true worst case) judges with its own validation's total, and the
//! generation of voting power never changes during a validation. The work that grows with the commitments (up to `MaxHosts ×
//! MaxModelsPerHost`) or the hosts is spread over blocks, within `HookBudget` per block,
//! in this order: the formation (`formation.rs`), the rosters of the epoch in progress
//! (`validation.rs`), the records of the epochs that left the retention window
//! (`epochs.rs`), the records of the generations of voting power no longer held
//! (`power.rs`).

use crate::{Config, EpochInfoOf, ModelRegistry, Pallet, Phase, WeightInfo};
use polkadot_sdk::{
	frame_support::{
		traits::Get,
		weights::{Weight, WeightMeter},
	},
	frame_system::pallet_prelude::BlockNumberFor,
};

impl<T: Config> Pallet<T> {
	/// `on_initialize` at block `now`; returns the weight used.
	pub(crate) fn tick(now: BlockNumberFor<T>) -> Weight {
		let (epoch, mut weight) = Self::tick_epoch(now);
		if let Some(epoch) = epoch {
			let phase = epoch.phase_at(now);
			if matches!(phase, Phase::ValidationDelay | Phase::Validation) {
				// The rosters built, the cursor and the formation; when they start, the
				// total power kept for the formation and the cursor.
				let started = Self::rosters_due(epoch.index) && {
					Self::start_rosters(epoch.index);
					true
				};
				weight = weight.saturating_add(
					T::DbWeight::get().reads_writes(4, if started { 2 } else { 0 }),
				);
			}
			if phase == Phase::Inference {
				// The formation in progress, the roster cursor and the last formed epoch;
				// when it starts, the formation and its weights.
				let started = Self::start_formation(&epoch);
				weight = weight.saturating_add(
					T::DbWeight::get().reads_writes(3, if started { 2 } else { 0 }),
				);
			}
		}
		weight.saturating_add(Self::spread_work())
	}

	/// The spread work of one block, within `HookBudget`; the weight used.
	pub(crate) fn spread_work() -> Weight {
		let mut meter = WeightMeter::with_limit(T::HookBudget::get());
		let excess = Self::form_weights(&mut meter);
		Self::build_rosters(&mut meter);
		Self::prune_epochs(&mut meter);
		Self::prune_power_generations(&mut meter);
		meter.consumed().saturating_add(excess)
	}

	/// The epoch in progress at `now`, starting it if the previous one ended (or none
	/// started yet); with the weight used.
	fn tick_epoch(now: BlockNumberFor<T>) -> (Option<EpochInfoOf<T>>, Weight) {
		match crate::CurrentEpoch::<T>::get() {
			Some(epoch) if now < epoch.next_start() => {
				(Some(epoch), T::WeightInfo::on_initialize_idle())
			}
			previous => {
				let started = Self::start_epoch(now, previous);
				let registry =
					started.map_or(Weight::zero(), |epoch| T::Models::on_epoch_start(epoch.index));
				(started, T::WeightInfo::on_initialize_epoch_start().saturating_add(registry))
			}
		}
	}

	/// How many records of `per_record` weight beyond `base` fit in what is left of
	/// `meter`, at most `most`; zero when not one fits. Consumes nothing: the caller
	/// consumes what it used ([`Self::consume_records`]).
	pub(crate) fn records_fitting(
		meter: &WeightMeter,
		base: Weight,
		per_record: Weight,
		most: u32,
	) -> u32 {
		if most == 0 || !meter.can_consume(base.saturating_add(per_record)) {
			return 0;
		}
		let left = meter.remaining().saturating_sub(base);
		let fit = |left: u64, per: u64| left.checked_div(per).unwrap_or(u64::MAX);
		let fits = fit(left.ref_time(), per_record.ref_time())
			.min(fit(left.proof_size(), per_record.proof_size()));
		u32::try_from(fits).unwrap_or(u32::MAX).clamp(1, most)
	}

	/// Consumes `base` and `records` records of `per_record` weight from `meter`.
	pub(crate) fn consume_records(
		meter: &mut WeightMeter,
		base: Weight,
		per_record: Weight,
		records: u32,
	) {
		meter.consume(base.saturating_add(per_record.saturating_mul(u64::from(records))));
	}

	/// The fixed part and the per-record part of a linear weight `weight(n)`.
	pub(crate) fn linear(weight: impl Fn(u32) -> Weight) -> (Weight, Weight) {
		let base = weight(0);
		(base, weight(1).saturating_sub(base))
	}
}
