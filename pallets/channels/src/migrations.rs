//! Storage migrations, one module per storage version.

use crate::*;
use alloc::vec::Vec;
use polkadot_sdk::frame_support::{
	migrations::VersionedMigration, pallet_prelude::*, storage_alias,
	traits::UncheckedOnRuntimeUpgrade,
};

/// Version 1: disputes (issue 22, step 5b). A settlement record keeps its channel's
/// developer, what it paid and its tail receipts' digest; `OpenInEpoch` counts the open
/// records of each epoch.
pub mod v1 {
	use super::*;
	use gonka_primitives::{channel::SettlementId, EpochIndex, HostId, PowerSnapshot, H256};
	use pallet_inference::WorkLedger;
	use polkadot_sdk::{frame_system::pallet_prelude::BlockNumberFor, sp_runtime::Perbill};

	/// The layouts of version 0.
	pub mod v0 {
		use super::*;

		/// A settlement's record in version 0.
		#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo, MaxEncodedLen)]
		pub struct SettlementRecord<BlockNumber> {
			pub channel: gonka_primitives::channel::ChannelId,
			pub executor: HostId,
			pub at: BlockNumber,
			pub epoch: EpochIndex,
			pub root: H256,
			pub count: u32,
			pub from: u128,
			pub to: u128,
			pub receipts: u32,
			pub tail: u32,
			pub target: Perbill,
			pub snapshot: PowerSnapshot,
			pub total_power: u128,
			pub executor_power: u128,
			pub share: u128,
			pub validator_paid: u128,
			pub passes: u32,
			pub fails: u32,
			pub answered: BoundedVec<u8, ConstU32<ANSWERED_BYTES>>,
		}

		/// The settlements in version 0.
		#[storage_alias]
		pub type Settlements<T: Config> =
			StorageMap<Pallet<T>, Twox64Concat, SettlementId, SettlementRecord<BlockNumberFor<T>>>;
	}

	/// Rewrites every settlement record (those of the last two verdict periods): the
	/// developer from its channel (`FeeTo` if the channel is finalized: an invalidation's
	/// refund then goes to the community pool), what it paid from its validators' share
	/// (`share / validator_share`, rounded down), no tail digest (a tail sample of a
	/// version-0 record can only be reported unavailable); and counts them by epoch.
	pub struct UncheckedMigrateV0ToV1<T>(PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for UncheckedMigrateV0ToV1<T> {
		fn on_runtime_upgrade() -> Weight {
			let records: Vec<_> = v0::Settlements::<T>::drain().collect();
			let moved = records.len() as u64;
			let share = T::Work::validator_share();
			for (id, old) in records {
				let developer = Channels::<T>::get(old.channel)
					.map(|info| info.developer)
					.unwrap_or_else(T::FeeTo::get);
				let paid = if share.is_zero() {
					0
				} else {
					share.saturating_reciprocal_mul_floor(old.share)
				};
				Pallet::<T>::note_open(old.epoch);
				Settlements::<T>::insert(
					id,
					SettlementRecord {
						channel: old.channel,
						developer,
						executor: old.executor,
						at: old.at,
						epoch: old.epoch,
						root: old.root,
						count: old.count,
						from: old.from,
						to: old.to,
						receipts: old.receipts,
						tail: old.tail,
						tails: H256::zero(),
						paid,
						target: old.target,
						snapshot: old.snapshot,
						total_power: old.total_power,
						executor_power: old.executor_power,
						share: old.share,
						validator_paid: old.validator_paid,
						passes: old.passes,
						fails: old.fails,
						answered: old.answered,
					},
				);
			}
			T::DbWeight::get().reads_writes(moved.saturating_mul(2), moved.saturating_mul(3))
		}

		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<Vec<u8>, polkadot_sdk::sp_runtime::TryRuntimeError> {
			Ok((v0::Settlements::<T>::iter().count() as u32).encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: Vec<u8>) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
			let before = u32::decode(&mut &state[..])
				.map_err(|_| "the pre-upgrade state does not decode")?;
			ensure!(
				Settlements::<T>::iter().count() as u32 == before,
				"every settlement record is kept"
			);
			let open: u32 = OpenInEpoch::<T>::iter_values().sum();
			ensure!(open == before, "every record is counted in its epoch");
			Ok(())
		}
	}

	/// [`UncheckedMigrateV0ToV1`], run once: from storage version 0 to 1.
	pub type MigrateV0ToV1<T> = VersionedMigration<
		0,
		1,
		UncheckedMigrateV0ToV1<T>,
		Pallet<T>,
		<T as polkadot_sdk::frame_system::Config>::DbWeight,
	>;
}

/// Version 2: unavailable payloads' disputes (amendment 8) vote for `UnavailableWindow` and
/// end from a queue of their own (`UnavailableQueue`); the dispute-id cursor passes over
/// them. The disputes of an unavailable payload open at the upgrade (at most
/// `MaxDisputesPerBlock × JuryWindow`: those of the last jury window) are queued in id order
/// (which is the order they opened): their windows grow to `UnavailableWindow`; they keep
/// no settlement seed (an acknowledgement refutes none of them) and their juries stay as
/// drawn (`V2DisputesFrom` marks the first dispute of version 2's rules). No record
/// changes (a challenge is a dispute of a new reason, its fee kept apart).
pub mod v2 {
	use super::*;
	use gonka_primitives::channel::{DisputeId, FailReason};

	/// Queues the open unavailable payloads' disputes.
	pub struct UncheckedMigrateV1ToV2<T>(PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for UncheckedMigrateV1ToV2<T> {
		fn on_runtime_upgrade() -> Weight {
			let mut read = 0u64;
			let mut unavailable: Vec<DisputeId> = Disputes::<T>::iter()
				.filter_map(|(id, record)| {
					read = read.saturating_add(1);
					(record.reason == FailReason::Unavailable).then_some(id)
				})
				.collect();
			unavailable.sort_unstable();
			let queued = unavailable.len() as u64;
			for (place, id) in unavailable.into_iter().enumerate() {
				UnavailableQueue::<T>::insert(place as u64, id);
			}
			NextUnavailable::<T>::put(queued);
			NextUnavailableToEnd::<T>::put(0);
			V2DisputesFrom::<T>::put(NextDisputeId::<T>::get());
			T::DbWeight::get().reads_writes(read.saturating_add(1), queued.saturating_add(3))
		}

		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<Vec<u8>, polkadot_sdk::sp_runtime::TryRuntimeError> {
			let unavailable = Disputes::<T>::iter_values()
				.filter(|record| record.reason == FailReason::Unavailable)
				.count() as u64;
			Ok(unavailable.encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: Vec<u8>) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
			let before = u64::decode(&mut &state[..])
				.map_err(|_| "the pre-upgrade state does not decode")?;
			ensure!(NextUnavailable::<T>::get() == before, "every unavailable dispute is queued");
			let mut last = None;
			for place in 0..before {
				let id = UnavailableQueue::<T>::get(place).ok_or("the queue has no gap")?;
				ensure!(last < Some(id), "queued in id order");
				last = Some(id);
			}
			Ok(())
		}
	}

	/// [`UncheckedMigrateV1ToV2`], run once: from storage version 1 to 2.
	pub type MigrateV1ToV2<T> = VersionedMigration<
		1,
		2,
		UncheckedMigrateV1ToV2<T>,
		Pallet<T>,
		<T as polkadot_sdk::frame_system::Config>::DbWeight,
	>;
}

/// Version 3: a closed settlement's record is kept for the period after its window's
/// close, in which a validator that answered nothing of its period is shown
/// (`misses.rs`), and pruned from `ToPrune`; each new settlement keeps its model
/// (`SettlementModels`); validators' answers mark them for their period (`PeriodMarks`).
/// No record changes: the records kept at the upgrade are all open (version 2 removed a
/// record at its close) and have no model entry, so none of their samples is shown missed
/// (their validators' answers before the upgrade left no mark). The prune cursor starts at
/// the close cursor (nothing closed is kept), the marks' cursor at the period before the
/// upgrade's (the first whose marks may be written).
pub mod v3 {
	use super::*;
	use crate::{NextMarksToClear, NextToClose, NextToPrune};

	/// Sets the prune and marks cursors.
	pub struct UncheckedMigrateV2ToV3<T>(PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for UncheckedMigrateV2ToV3<T> {
		fn on_runtime_upgrade() -> Weight {
			NextToPrune::<T>::put(NextToClose::<T>::get());
			let now = polkadot_sdk::frame_system::Pallet::<T>::block_number();
			NextMarksToClear::<T>::put(Pallet::<T>::period_of(now).saturating_sub(1));
			T::DbWeight::get().reads_writes(2, 2)
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(_state: Vec<u8>) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
			ensure!(
				NextToPrune::<T>::get() == NextToClose::<T>::get(),
				"no closed settlement is kept at the upgrade"
			);
			Ok(())
		}
	}

	/// [`UncheckedMigrateV2ToV3`], run once: from storage version 2 to 3.
	pub type MigrateV2ToV3<T> = VersionedMigration<
		2,
		3,
		UncheckedMigrateV2ToV3<T>,
		Pallet<T>,
		<T as polkadot_sdk::frame_system::Config>::DbWeight,
	>;
}

/// Version 4: an unavailable payload's open dispute keeps, besides its settlement's seed,
/// what its report's answer paid (`UnavailableReports`, which replaces `UnavailableSeeds`):
/// a rejection by its jury takes that back and no more, with no miss (an executor that
/// withholds the payload from the validator drawn for it and serves the jury fines
/// nobody: `disputes.rs`). The disputes open at the upgrade (at most those of one
/// `UnavailableWindow`) keep their seeds, with nothing to take back: what their answers
/// paid is not known (their settlements' records may be pruned).
pub mod v4 {
	use super::*;
	use gonka_primitives::{channel::DisputeId, H256};

	/// The layouts of version 3.
	pub mod v3 {
		use super::*;

		/// The settlement seed of each open unavailable payload's dispute, in version 3.
		#[storage_alias]
		pub type UnavailableSeeds<T: Config> = StorageMap<Pallet<T>, Twox64Concat, DisputeId, H256>;
	}

	/// Moves each open unavailable payload's dispute's seed into its report.
	pub struct UncheckedMigrateV3ToV4<T>(PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for UncheckedMigrateV3ToV4<T> {
		fn on_runtime_upgrade() -> Weight {
			let mut moved = 0u64;
			for (id, seed) in v3::UnavailableSeeds::<T>::drain() {
				UnavailableReports::<T>::insert(id, UnavailableReport { seed, paid: 0 });
				moved = moved.saturating_add(1);
			}
			T::DbWeight::get().reads_writes(moved.saturating_add(1), moved.saturating_mul(2))
		}

		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<Vec<u8>, polkadot_sdk::sp_runtime::TryRuntimeError> {
			Ok((v3::UnavailableSeeds::<T>::iter().count() as u64).encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: Vec<u8>) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
			let before = u64::decode(&mut &state[..])
				.map_err(|_| "the pre-upgrade state does not decode")?;
			ensure!(v3::UnavailableSeeds::<T>::iter().next().is_none(), "every seed is moved");
			ensure!(
				UnavailableReports::<T>::iter().count() as u64 == before,
				"every seed is kept in its report"
			);
			Ok(())
		}
	}

	/// [`UncheckedMigrateV3ToV4`], run once: from storage version 3 to 4.
	pub type MigrateV3ToV4<T> = VersionedMigration<
		3,
		4,
		UncheckedMigrateV3ToV4<T>,
		Pallet<T>,
		<T as polkadot_sdk::frame_system::Config>::DbWeight,
	>;
}

/// Version 5: a developer's challenge votes for `UnavailableWindow` and ends from the long
/// windows' queue (`UnavailableQueue`) beside the unavailable payloads' disputes
/// (`FailReason::long_window`): the developer picks a challenge's moment, which may be an
/// executor's restart, and the jurors vote invalid for a payload never served only near
/// the window's end. The challenges open at the upgrade (at most those of one
/// `JuryWindow`, above the dispute cursor) are queued with the open unavailable payloads'
/// disputes, all in id order (the order they opened, so with one window length the order
/// they end), from the queue's cursor (the places of refuted disputes dropped): their
/// windows grow to `UnavailableWindow`. No record changes.
pub mod v5 {
	use super::*;
	use gonka_primitives::channel::DisputeId;

	/// Queues the open challenges with the open unavailable payloads' disputes.
	pub struct UncheckedMigrateV4ToV5<T>(PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for UncheckedMigrateV4ToV5<T> {
		fn on_runtime_upgrade() -> Weight {
			let (from, end) = (NextUnavailableToEnd::<T>::get(), NextUnavailable::<T>::get());
			// The queue's open places, and every dispute: the open ones of the long windows
			// are queued again (a refuted dispute's place, which the sweep would pass, is
			// dropped).
			let places: Vec<DisputeId> =
				(from..end).filter_map(UnavailableQueue::<T>::take).collect();
			let mut read = end.saturating_sub(from).saturating_add(2);
			let mut queued = Vec::new();
			for (id, record) in Disputes::<T>::iter() {
				read = read.saturating_add(1);
				if record.reason.long_window() {
					queued.push(id);
				}
			}
			queued.sort_unstable();
			let written = queued.len() as u64;
			for (offset, id) in queued.into_iter().enumerate() {
				UnavailableQueue::<T>::insert(from.saturating_add(offset as u64), id);
			}
			NextUnavailable::<T>::put(from.saturating_add(written));
			// The disputes read are bounded by the windows: at most `MaxDisputesPerBlock`
			// a block over `UnavailableWindow` (a chain's few disputes in practice); each
			// record read whole counts in the proof.
			let record = DisputeRecordOf::<T>::max_encoded_len() as u64;
			T::DbWeight::get()
				.reads_writes(read, (places.len() as u64).saturating_add(written).saturating_add(1))
				.saturating_add(Weight::from_parts(0, read.saturating_mul(record)))
		}

		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<Vec<u8>, polkadot_sdk::sp_runtime::TryRuntimeError> {
			let open = Disputes::<T>::iter_values()
				.filter(|record| record.reason.long_window())
				.count() as u64;
			Ok(open.encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: Vec<u8>) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
			let open = u64::decode(&mut &state[..])
				.map_err(|_| "the pre-upgrade state does not decode")?;
			let (from, end) = (NextUnavailableToEnd::<T>::get(), NextUnavailable::<T>::get());
			ensure!(end.saturating_sub(from) == open, "each open long window's dispute is queued");
			let mut last = None;
			for place in from..end {
				let id = UnavailableQueue::<T>::get(place).ok_or("the queue has no gap")?;
				ensure!(last < Some(id), "queued in id order");
				ensure!(Disputes::<T>::contains_key(id), "only open disputes are queued");
				last = Some(id);
			}
			Ok(())
		}
	}

	/// [`UncheckedMigrateV4ToV5`], run once: from storage version 4 to 5.
	pub type MigrateV4ToV5<T> = VersionedMigration<
		4,
		5,
		UncheckedMigrateV4ToV5<T>,
		Pallet<T>,
		<T as polkadot_sdk::frame_system::Config>::DbWeight,
	>;
}
