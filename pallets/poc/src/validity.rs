//! What every duty transaction's `authorize` rule shares, here (`authorize.rs`) and in
//! `pallet-inference`: the epoch a duty is compared with, the pool's code for a pallet
//! error, and the `ValidTransaction` every duty gets. Defined once, used by both pallets.

use crate::{Config, CurrentEpoch, Pallet};
use codec::Encode;
use gonka_primitives::EpochIndex;
use polkadot_sdk::{
	frame_support::pallet_prelude::*,
	frame_system::{self, pallet_prelude::BlockNumberFor},
	sp_runtime::traits::{Saturating, UniqueSaturatedInto},
};

impl<T: Config> Pallet<T> {
	/// The index of the epoch in progress, `None` before the first.
	pub fn epoch_in_progress() -> Option<EpochIndex> {
		CurrentEpoch::<T>::get().map(|epoch| epoch.index)
	}

	/// The index of the epoch in progress (0 before the first).
	pub fn epoch_now() -> EpochIndex {
		Self::epoch_in_progress().unwrap_or(0)
	}
}

/// The code a pallet error has in `InvalidTransaction::Custom`: its index in the pallet's
/// `Error` enum (`u8::MAX` for an error that is not a module error).
pub fn error_code(error: impl Into<DispatchError>) -> u8 {
	match error.into() {
		DispatchError::Module(module) => module.error[0],
		_ => u8::MAX,
	}
}

/// A duty transaction's validity: `DutyPriority`, tag prefix `prefix` with the one
/// `provides` tag `tag`, propagated, and valid until block `until` (at least one block).
pub fn duty_validity<T: Config>(
	prefix: &'static str,
	tag: impl Encode,
	until: BlockNumberFor<T>,
) -> TransactionValidityWithRefund {
	duty_validity_at::<T>(T::DutyPriority::get(), prefix, tag, until)
}

/// [`duty_validity`] at `priority` (a duty that can wait, below the others).
pub fn duty_validity_at<T: Config>(
	priority: TransactionPriority,
	prefix: &'static str,
	tag: impl Encode,
	until: BlockNumberFor<T>,
) -> TransactionValidityWithRefund {
	let now = frame_system::Pallet::<T>::block_number();
	let remaining: u64 = until.saturating_sub(now).unique_saturated_into();
	ValidTransaction::with_tag_prefix(prefix)
		.priority(priority)
		.and_provides(tag)
		.longevity(remaining.max(1))
		.propagate(true)
		.build()
		.map(|validity| (validity, Weight::zero()))
}
