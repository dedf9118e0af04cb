//! Duties bound to their fork (`docs/channels.md`, step 5f). Settlement and dispute ids
//! are counters: on two forks the same id can be two settlements, and a duty signed on one
//! fork (a validator's pass, a failure report, a juror's vote) could be replayed on the
//! other, where it speaks of another receipt. Each such duty carries an [`Anchor`], a
//! block its signer saw at or after every record it names; the chain takes it only if the
//! anchor is one of its own blocks. Below the anchor the two forks are one chain, so the
//! ids name the same records.

use crate::{Config, Error, Pallet};
use gonka_primitives::channel::Anchor;
use polkadot_sdk::{
	frame_support::ensure,
	frame_system::{self, pallet_prelude::BlockNumberFor},
	sp_runtime::traits::Saturating,
};

impl<T: Config> Pallet<T> {
	/// Checks that `anchor` is a block of this chain (its number's hash, still kept, is
	/// the anchor's), from block `from` on and before the current one. A number not yet
	/// reached is [`Error::AnchorAhead`] (`Future` in the pool, which refuses it: a signer
	/// anchors to a block its node has); a block the chain does not have there, or no
	/// longer keeps (its hash reads as zero), [`Error::AnchorNotOnChain`].
	pub(crate) fn check_anchor(anchor: &Anchor, from: BlockNumberFor<T>) -> Result<(), Error<T>> {
		let number = BlockNumberFor::<T>::from(anchor.number);
		ensure!(number >= from, Error::<T>::AnchorTooEarly);
		ensure!(number < frame_system::Pallet::<T>::block_number(), Error::<T>::AnchorAhead);
		let hash = frame_system::Pallet::<T>::block_hash(number);
		ensure!(
			hash != T::Hash::default() && hash.as_ref() == anchor.hash.as_bytes(),
			Error::<T>::AnchorNotOnChain
		);
		Ok(())
	}

	/// The first block a verdict batch of `period` may anchor to: the period's last, at or
	/// after every settlement of it.
	pub(crate) fn verdicts_anchor_from(period: u32) -> BlockNumberFor<T> {
		Self::period_start(period.saturating_add(1)).saturating_sub(1u32.into())
	}
}
