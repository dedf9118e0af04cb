//! Helpers the pallet's concerns share: the epoch in progress, and what every duty
//! transaction's `authorize` rule returns (its validity, the code of a refusal).
//! `pallet-poc` has the same helpers; they are to be shared from `gonka-primitives`.

use super::*;
use gonka_primitives::EpochIndex;
use pallet_poc::CurrentEpoch;
use polkadot_sdk::{
	frame_support::pallet_prelude::*,
	frame_system::{self, pallet_prelude::BlockNumberFor},
	sp_runtime::traits::{Saturating, UniqueSaturatedInto},
};

impl<T: Config> Pallet<T> {
	/// The epoch in progress (0 before the first).
	pub fn epoch_now() -> EpochIndex {
		CurrentEpoch::<T>::get().map_or(0, |epoch| epoch.index)
	}
}

/// The code an error has in `InvalidTransaction::Custom`: its index in [`Error`].
pub(crate) fn error_code<T: Config>(error: Error<T>) -> u8 {
	let error: DispatchError = error.into();
	match error {
		DispatchError::Module(module) => module.error[0],
		_ => u8::MAX,
	}
}

/// Builds a duty transaction's validity: priority, one `provides` tag, longevity.
pub(crate) fn duty_validity<T: Config>(
	prefix: &'static str,
	tag: impl Encode,
	until: BlockNumberFor<T>,
) -> TransactionValidityWithRefund {
	let now = frame_system::Pallet::<T>::block_number();
	let remaining: u64 = until.saturating_sub(now).unique_saturated_into();
	ValidTransaction::with_tag_prefix(prefix)
		.priority(<T as pallet_poc::Config>::DutyPriority::get())
		.and_provides(tag)
		.longevity(remaining.max(1))
		.propagate(true)
		.build()
		.map(|validity| (validity, Weight::zero()))
}
