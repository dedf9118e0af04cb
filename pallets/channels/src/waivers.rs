//! Early finalization (`docs/channels.md`, amendment 15): once a channel has ended, each
//! committee member that has nothing more to settle waives it (`waive_channel`, a free duty
//! its worker key signs, naming the channel's key and the receipts it settled); a waived
//! member settles the channel no more. When every member has waived, the channel is
//! finalized in that call, its escrow refunded at once rather than at the end of its settle
//! window. A member that never waives (offline, or gone) leaves the channel to its planned
//! finalization, which refunds what it did not settle all the same.

use crate::{Channels, Config, Error, Event, Pallet, ToFinalize, Waived};
use gonka_primitives::{
	channel::{ChannelId, ChannelWaiver},
	HostId,
};
use pallet_poc::validity::{duty_validity, error_code};
use polkadot_sdk::{
	frame_support::pallet_prelude::*,
	frame_system::{self, pallet_prelude::BlockNumberFor},
	sp_core::sr25519,
};

impl<T: Config> Pallet<T> {
	/// The committee slots `host` holds in `channel`, as a bitmask (bit `i`: slot `i`).
	pub fn slot_mask(channel: ChannelId, host: &HostId) -> u64 {
		crate::Committees::<T>::get(channel).map_or(0, |committee| {
			committee
				.iter()
				.enumerate()
				.filter(|(_, member)| *member == host)
				.fold(0u64, |mask, (slot, _)| mask | (1u64 << (slot as u32 % 64)))
		})
	}

	/// Checks `member`'s waiver: the channel has ended, the member holds a slot of it and
	/// has not waived, and the waiver names the channel's key and what the member settled.
	/// Returns the member's slots (a bitmask) and the channel's finalization block.
	pub(crate) fn check_waiver(
		member: &HostId,
		waiver: &ChannelWaiver,
	) -> Result<(u64, BlockNumberFor<T>), Error<T>> {
		let info = Channels::<T>::get(waiver.channel).ok_or(Error::<T>::UnknownChannel)?;
		ensure!(
			frame_system::Pallet::<T>::block_number() >= info.ends,
			Error::<T>::ChannelNotEnded
		);
		let mask = Self::slot_mask(waiver.channel, member);
		ensure!(mask != 0, Error::<T>::NotInCommittee);
		ensure!(Waived::<T>::get(waiver.channel) & mask != mask, Error::<T>::Waived);
		let receipts = Self::settled(waiver.channel, member).map_or(0, |settled| settled.receipts);
		ensure!(
			waiver.channel_key == info.terms.channel_key && waiver.receipts == receipts,
			Error::<T>::WaiverOutdated
		);
		Ok((mask, info.finalizes))
	}

	/// The `authorize` rule of [`Pallet::waive_channel`]: the member's worker key signed
	/// the waiver for this chain (checked first), and [`Self::check_waiver`] holds. One
	/// transaction a member and channel (`provides`), valid until the channel's planned
	/// finalization.
	pub(crate) fn authorize_waiver(
		_source: TransactionSource,
		member: &HostId,
		waiver: &ChannelWaiver,
		signature: &sr25519::Signature,
	) -> TransactionValidityWithRefund {
		crate::tick_impls::verify_duty::<T, _>(member, waiver, signature)?;
		let (_, finalizes) = Self::check_waiver(member, waiver).map_err(|error| match error {
			Error::<T>::ChannelNotEnded => InvalidTransaction::Future,
			// Signed after a settlement the chain has not included yet: the pool keeps it.
			Error::<T>::WaiverOutdated
				if Self::settled(waiver.channel, member).map_or(0, |settled| settled.receipts)
					< waiver.receipts =>
			{
				InvalidTransaction::Future
			}
			Error::<T>::UnknownChannel | Error::<T>::Waived => InvalidTransaction::Stale,
			other => InvalidTransaction::Custom(error_code(other)),
		})?;
		duty_validity::<T>("GonkaChannelWaiver", (waiver.channel, member), finalizes)
	}

	/// `waive_channel`: marks the member's slots waived (`ChannelWaived`); if every slot is,
	/// finalizes the channel now and takes it off its finalization's queue.
	pub(crate) fn do_waive(member: HostId, waiver: ChannelWaiver) -> DispatchResult {
		let (mask, finalizes) = Self::check_waiver(&member, &waiver)?;
		let channel = waiver.channel;
		let waived = Waived::<T>::get(channel) | mask;
		Self::deposit_event(Event::ChannelWaived { channel, member });
		let slots = Channels::<T>::get(channel).map_or(0, |info| u32::from(info.terms.committee));
		let every = if slots >= 64 { u64::MAX } else { (1u64 << slots).saturating_sub(1) };
		if waived & every == every {
			ToFinalize::<T>::mutate_exists(finalizes, |queue| {
				if let Some(channels) = queue {
					channels.retain(|queued| *queued != channel);
					if channels.is_empty() {
						*queue = None;
					}
				}
			});
			// `finalize` removes the waivers with the channel.
			Self::finalize(channel);
		} else {
			Waived::<T>::insert(channel, waived);
		}
		Ok(())
	}
}
