//! Storage migrations, one module per storage version.

use crate::*;
use alloc::vec::Vec;
use polkadot_sdk::frame_support::{
	migrations::VersionedMigration, pallet_prelude::*, storage_alias,
	traits::UncheckedOnRuntimeUpgrade,
};

/// Version 1: the epoch's spread work (issue 21, hole 11). Commitments are keyed by epoch,
/// model and host (a model's commitments adjacent, so the rosters are built a few models
/// per block); the rosters, the pruning of epochs and of generations of voting power have
/// cursors (`RostersBuilt`, `PrunedBefore`, `PowerPrunedBefore`).
pub mod v1 {
	use super::*;
	use gonka_primitives::{EpochIndex, ModelId};

	/// The layouts of version 0.
	pub mod v0 {
		use super::*;

		/// Commitments by epoch and (host, model).
		#[storage_alias]
		pub type Commitments<T: Config> = StorageDoubleMap<
			Pallet<T>,
			Twox64Concat,
			EpochIndex,
			Blake2_128Concat,
			(<T as polkadot_sdk::frame_system::Config>::AccountId, ModelId),
			Commitment,
		>;
	}

	/// Moves every commitment to its version-1 key and sets the cursors to what version 0
	/// left: every epoch below `current - RetentionEpochs` pruned (version 0 pruned it at
	/// the epoch's start), every generation below the oldest kept pruned, and the current
	/// epoch's rosters built if its validation opened (version 0 built them at the first
	/// validation block), else the previous epoch's, and those of the current epoch started
	/// if its generation ended. The commitments are those of the retention window: the
	/// weight counts each.
	pub struct UncheckedMigrateV0ToV1<T>(PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for UncheckedMigrateV0ToV1<T> {
		fn on_runtime_upgrade() -> Weight {
			let commitments: Vec<_> = v0::Commitments::<T>::drain().collect();
			let moved = commitments.len() as u64;
			for (epoch, (host, model), commitment) in commitments {
				Commitments::<T>::insert((epoch, model, host), commitment);
			}
			let now = polkadot_sdk::frame_system::Pallet::<T>::block_number();
			if let Some(epoch) = CurrentEpoch::<T>::get() {
				PrunedBefore::<T>::put(epoch.index.saturating_sub(T::RetentionEpochs::get()));
				let built = if now >= epoch.validation_start() {
					Some(epoch.index)
				} else {
					// Generation ended: the rosters version 0 would build at the validation
					// start are built from now.
					if now >= epoch.generation_end() {
						Pallet::<T>::start_rosters(epoch.index);
					}
					epoch.index.checked_sub(1)
				};
				if let Some(built) = built {
					RostersBuilt::<T>::put(built);
				}
			}
			PowerPrunedBefore::<T>::put(OldestPowerGeneration::<T>::get());
			T::DbWeight::get()
				.reads_writes(moved.saturating_add(4), moved.saturating_mul(2).saturating_add(5))
		}

		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<Vec<u8>, polkadot_sdk::sp_runtime::TryRuntimeError> {
			Ok((v0::Commitments::<T>::iter().count() as u32).encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: Vec<u8>) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
			let before = u32::decode(&mut &state[..])
				.map_err(|_| "the pre-upgrade state does not decode")?;
			ensure!(Commitments::<T>::iter().count() as u32 == before, "commitments were lost");
			Ok(())
		}
	}

	/// [`UncheckedMigrateV0ToV1`] run once, from storage version 0 to 1.
	pub type MigrateV0ToV1<T> = VersionedMigration<
		0,
		1,
		UncheckedMigrateV0ToV1<T>,
		Pallet<T>,
		<T as polkadot_sdk::frame_system::Config>::DbWeight,
	>;
}

/// Version 2: the weight formation spread over blocks (issue 21, hole 11). The PoC weights
/// in force are the executor rosters (sorted by account), no longer a map of their own
/// (`PocWeights` removed), and the voting power in force is the current generation's
/// (`VotingPower` removed: `Pallet::voting_power`).
pub mod v2 {
	use super::*;
	use alloc::collections::BTreeMap;
	use gonka_primitives::{ModelId, NonceCount};

	/// The maps of version 1 that version 2 removes.
	pub mod v1 {
		use super::*;

		/// The PoC weight in force of each (host, model).
		#[storage_alias]
		pub type PocWeights<T: Config> = StorageDoubleMap<
			Pallet<T>,
			Blake2_128Concat,
			<T as polkadot_sdk::frame_system::Config>::AccountId,
			Twox64Concat,
			ModelId,
			NonceCount,
			ValueQuery,
		>;

		/// Each host's voting power in force.
		#[storage_alias]
		pub type VotingPower<T: Config> = StorageMap<
			Pallet<T>,
			Blake2_128Concat,
			<T as polkadot_sdk::frame_system::Config>::AccountId,
			u128,
			ValueQuery,
		>;
	}

	/// Removes `PocWeights` and `VotingPower` (at most `MaxHosts × MaxModelsPerHost` and
	/// `MaxHosts` entries; the rosters and the current generation hold the same values) and
	/// sorts each executor roster by account (genesis wrote them in the hosts' order). The
	/// weight counts every entry.
	pub struct UncheckedMigrateV1ToV2<T>(PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for UncheckedMigrateV1ToV2<T> {
		fn on_runtime_upgrade() -> Weight {
			let weights = v1::PocWeights::<T>::clear(u32::MAX, None).unique;
			let powers = v1::VotingPower::<T>::clear(u32::MAX, None).unique;
			let mut rosters: BTreeMap<ModelId, Vec<(T::AccountId, NonceCount)>> = BTreeMap::new();
			let mut chunks = 0u64;
			for (model, _, chunk) in ExecutorRoster::<T>::iter() {
				chunks = chunks.saturating_add(1);
				rosters.entry(model).or_default().extend(chunk);
			}
			let models = rosters.len() as u64;
			Pallet::<T>::write_rosters(rosters, LastFormedEpoch::<T>::get().unwrap_or(0));
			let removed = u64::from(weights.saturating_add(powers));
			T::DbWeight::get().reads_writes(
				removed.saturating_add(chunks.saturating_mul(2)).saturating_add(models),
				removed
					.saturating_add(chunks.saturating_mul(2))
					.saturating_add(models.saturating_mul(2)),
			)
		}

		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<Vec<u8>, polkadot_sdk::sp_runtime::TryRuntimeError> {
			let entries: u32 =
				ExecutorRoster::<T>::iter_values().map(|chunk| chunk.len() as u32).sum();
			Ok(entries.encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: Vec<u8>) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
			let before = u32::decode(&mut &state[..])
				.map_err(|_| "the pre-upgrade state does not decode")?;
			let after: u32 =
				ExecutorRoster::<T>::iter_values().map(|chunk| chunk.len() as u32).sum();
			ensure!(after == before, "rostered hosts were lost");
			ensure!(v1::PocWeights::<T>::iter().next().is_none(), "PoC weights are removed");
			ensure!(v1::VotingPower::<T>::iter().next().is_none(), "voting powers are removed");
			Ok(())
		}
	}

	/// [`UncheckedMigrateV1ToV2`] run once, from storage version 1 to 2.
	pub type MigrateV1ToV2<T> = VersionedMigration<
		1,
		2,
		UncheckedMigrateV1ToV2<T>,
		Pallet<T>,
		<T as polkadot_sdk::frame_system::Config>::DbWeight,
	>;
}

/// Version 3: each executor roster in force records the epoch whose PoC formed it
/// (`RosterEpoch`), so that an entry from before its host left and registered again does
/// not stand (issue 21, review of hole 11).
pub mod v3 {
	use super::*;

	/// Gives each executor roster in force its epoch. Version 2 did not keep it: a roster
	/// gets the last formed epoch (0 if none: the genesis rosters), or, if the formation in
	/// progress already put it in force, that formation's epoch. For a roster older than a
	/// carried-over epoch the last formed epoch is later than the one that formed it:
	/// entries of hosts that left and registered again in between stand until the next
	/// formation replaces them. At most `MaxModels` rosters: the weight counts each.
	pub struct UncheckedMigrateV2ToV3<T>(PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for UncheckedMigrateV2ToV3<T> {
		fn on_runtime_upgrade() -> Weight {
			let last = LastFormedEpoch::<T>::get().unwrap_or(0);
			// The formation installing its rosters: those it installed are its own.
			let installing = Formation::<T>::get().and_then(|formation| {
				matches!(formation.step, FormationStep::Install | FormationStep::Power { .. })
					.then_some(formation.epoch)
			});
			let models: Vec<_> = RosterTotals::<T>::iter_keys().collect();
			for model in &models {
				let formed = match installing {
					Some(epoch) if !NextTotals::<T>::contains_key(model) => epoch,
					_ => last,
				};
				RosterEpoch::<T>::insert(model, formed);
			}
			let models = models.len() as u64;
			T::DbWeight::get().reads_writes(models.saturating_mul(2).saturating_add(2), models)
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(_: Vec<u8>) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
			for model in RosterTotals::<T>::iter_keys() {
				ensure!(RosterEpoch::<T>::contains_key(model), "every roster has its epoch");
			}
			Ok(())
		}
	}

	/// [`UncheckedMigrateV2ToV3`] run once, from storage version 2 to 3.
	pub type MigrateV2ToV3<T> = VersionedMigration<
		2,
		3,
		UncheckedMigrateV2ToV3<T>,
		Pallet<T>,
		<T as polkadot_sdk::frame_system::Config>::DbWeight,
	>;
}
