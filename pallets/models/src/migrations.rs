//! Storage migrations, one module per storage version.

use crate::*;
use alloc::vec::Vec;
use polkadot_sdk::{
	frame_support::{
		migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade,
	},
	sp_runtime::traits::Convert,
};

/// Version 1: the model record gained `end_tokens` (the tokens that end a completion),
/// which the inference pallet's completeness rule reads.
pub mod v1 {
	use super::*;
	use gonka_primitives::bounds::MaxEndTokens;

	/// The layouts of version 0.
	pub mod v0 {
		use super::*;
		use polkadot_sdk::sp_arithmetic::{FixedU128, Perbill};

		/// The model record without `end_tokens`.
		#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug)]
		pub struct ModelRecord<Balance> {
			pub name: Vec<u8>,
			pub architecture: Vec<u8>,
			pub quantization: Vec<u8>,
			pub weights_digest: [u8; 32],
			pub tokenizer_digest: [u8; 32],
			pub poc: PocParams,
			pub coefficient: FixedU128,
			pub validation_threshold: Perbill,
			pub template_overhead: u32,
			pub price: Balance,
			pub max_context: u32,
		}

		/// A scheduled change holding a version-0 record.
		#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug)]
		#[allow(clippy::large_enum_variant)]
		pub enum PendingChange<Balance> {
			Approve,
			Update(ModelRecord<Balance>),
			Retire,
		}

		/// A registry entry holding version-0 records.
		#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug)]
		pub struct ModelInfo<Balance> {
			pub record: ModelRecord<Balance>,
			pub status: ModelStatus,
			pub pending: Option<PendingChange<Balance>>,
		}
	}

	/// Rewrites every registry entry with the end tokens `EndTokens` gives for its weights
	/// digest (the runtime knows the models it registered; any other gets none, so its
	/// completions are complete only at `max_tokens` until governance updates its record).
	/// An entry that does not decode is left as it is (`translate` logs it and skips it), and
	/// the try-runtime check after the upgrade fails on it.
	pub struct UncheckedMigrateV0ToV1<T, EndTokens>(PhantomData<(T, EndTokens)>);

	impl<T, EndTokens> UncheckedOnRuntimeUpgrade for UncheckedMigrateV0ToV1<T, EndTokens>
	where
		T: Config,
		EndTokens: Convert<[u8; 32], BoundedVec<u32, MaxEndTokens>>,
	{
		fn on_runtime_upgrade() -> Weight {
			let mut entries = 0u64;
			Registry::<T>::translate::<v0::ModelInfo<BalanceOf<T>>, _>(|_, old| {
				entries = entries.saturating_add(1);
				// An update whose record no longer fits the bounds is dropped, the entry kept.
				let pending = old.pending.and_then(|change| match change {
					v0::PendingChange::Approve => Some(PendingChange::Approve),
					v0::PendingChange::Update(record) => {
						upgrade::<T, EndTokens>(record).map(PendingChange::Update)
					}
					v0::PendingChange::Retire => Some(PendingChange::Retire),
				});
				Some(ModelInfo {
					record: upgrade::<T, EndTokens>(old.record)?,
					status: old.status,
					pending,
				})
			});
			T::DbWeight::get().reads_writes(entries.saturating_add(1), entries.saturating_add(1))
		}

		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<Vec<u8>, polkadot_sdk::sp_runtime::TryRuntimeError> {
			Ok(Registry::<T>::count().encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: Vec<u8>) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
			let before = u32::decode(&mut &state[..])
				.map_err(|_| "the pre-upgrade state does not decode")?;
			ensure!(Registry::<T>::count() == before, "registry entries were lost");
			ensure!(
				Registry::<T>::iter_values().count() as u32 == before,
				"an entry does not decode"
			);
			Ok(())
		}
	}

	/// A version-0 record with its end tokens, or `None` if it no longer fits the bounds.
	fn upgrade<T: Config, EndTokens: Convert<[u8; 32], BoundedVec<u32, MaxEndTokens>>>(
		old: v0::ModelRecord<BalanceOf<T>>,
	) -> Option<ModelRecordOf<T>> {
		Some(ModelRecord {
			name: old.name.try_into().ok()?,
			architecture: old.architecture.try_into().ok()?,
			quantization: old.quantization.try_into().ok()?,
			weights_digest: old.weights_digest,
			tokenizer_digest: old.tokenizer_digest,
			poc: old.poc,
			coefficient: old.coefficient,
			validation_threshold: old.validation_threshold,
			template_overhead: old.template_overhead,
			price: old.price,
			max_context: old.max_context,
			end_tokens: EndTokens::convert(old.weights_digest),
		})
	}

	/// [`UncheckedMigrateV0ToV1`] run once, from storage version 0 to 1.
	pub type MigrateV0ToV1<T, EndTokens> = VersionedMigration<
		0,
		1,
		UncheckedMigrateV0ToV1<T, EndTokens>,
		Pallet<T>,
		<T as polkadot_sdk::frame_system::Config>::DbWeight,
	>;
}
