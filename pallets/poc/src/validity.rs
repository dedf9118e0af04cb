//! Transaction-validity helpers of the duty transactions (`authorize.rs`): the pool's code
//! for a pallet error, the epoch a duty is compared with, and the `ValidTransaction` every
//! duty gets. `pallet-inference` has the same helpers for its duties.

use crate::{Config, CurrentEpoch, Error};
use codec::Encode;
use gonka_primitives::EpochIndex;
use polkadot_sdk::{
	frame_support::pallet_prelude::*,
	frame_system::{self, pallet_prelude::BlockNumberFor},
	sp_runtime::traits::{Saturating, UniqueSaturatedInto},
};

/// The index of the epoch in progress (0 before the first).
pub(crate) fn epoch_index<T: Config>() -> EpochIndex {
	CurrentEpoch::<T>::get().map_or(0, |epoch| epoch.index)
}

/// The code an error has in `InvalidTransaction::Custom`: its index in [`Error`].
pub(crate) fn error_code<T: Config>(error: Error<T>) -> u8 {
	let error: DispatchError = error.into();
	match error {
		DispatchError::Module(module) => module.error[0],
		_ => u8::MAX,
	}
}

/// A duty transaction's validity: `DutyPriority`, tag prefix `prefix` with the one
/// `provides` tag `tag`, propagated, and valid until block `until` (at least one block).
pub(crate) fn duty_validity<T: Config>(
	prefix: &'static str,
	tag: impl Encode,
	until: BlockNumberFor<T>,
) -> TransactionValidityWithRefund {
	let now = frame_system::Pallet::<T>::block_number();
	let remaining: u64 = until.saturating_sub(now).unique_saturated_into();
	ValidTransaction::with_tag_prefix(prefix)
		.priority(T::DutyPriority::get())
		.and_provides(tag)
		.longevity(remaining.max(1))
		.propagate(true)
		.build()
		.map(|validity| (validity, Weight::zero()))
}
