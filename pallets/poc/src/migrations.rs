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
