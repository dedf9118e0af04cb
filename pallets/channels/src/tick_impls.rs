//! What runs every block (`on_initialize`): the committees of the channels opened in the
//! block before are drawn, the verdict windows and the juries' windows that ended are
//! closed (`sampling.rs`, `disputes.rs`), and the channels whose settle window ends are
//! finalized (the rest of their escrow refunded). At most `MaxOpensPerBlock` of each (`open_channel`
//! refuses more), so the work per block is bounded.

use crate::{
	Channels, Committees, Config, DrawSlots, Event, HoldReason, Pallet, ToDraw, ToFinalize,
	WeightInfo,
};
use gonka_primitives::channel::ChannelId;
use polkadot_sdk::{
	frame_support::{
		defensive,
		traits::{fungible::MutateHold, tokens::Precision},
		weights::Weight,
	},
	frame_system::pallet_prelude::BlockNumberFor,
};

impl<T: Config> Pallet<T> {
	/// `on_initialize` at block `now`; returns the weight used.
	pub(crate) fn tick(now: BlockNumberFor<T>) -> Weight {
		let mut weight = <T as Config>::WeightInfo::on_initialize_idle();
		DrawSlots::<T>::remove(now);
		for channel in ToDraw::<T>::take(now) {
			let (slots, finalized) = Self::draw_committee(channel);
			// Its benchmark: every slot on a roster chunk of its own, the committee stored;
			// a channel nobody serves is finalized at once (its finalization is then taken
			// from the block it was queued in, which `open_channel` prepaid).
			weight = weight.saturating_add(<T as Config>::WeightInfo::draw_committee(slots.into()));
			if finalized {
				weight = weight.saturating_add(<T as Config>::WeightInfo::finalize_channel());
			}
		}
		weight = weight.saturating_add(Self::close_windows(now));
		weight = weight.saturating_add(Self::end_disputes(now));
		for channel in ToFinalize::<T>::take(now) {
			Self::finalize(channel);
			weight = weight.saturating_add(<T as Config>::WeightInfo::finalize_channel());
		}
		weight
	}

	/// Finalizes `channel` (at the end of its settle window, or once every member waived
	/// it): its committee, its members' settlements and waivers and its record removed,
	/// the rest of its escrow (what was not settled) refunded to its developer
	/// (`ChannelFinalized`).
	pub(crate) fn finalize(channel: ChannelId) {
		let Some(info) = Channels::<T>::take(channel) else { return };
		Committees::<T>::remove(channel);
		crate::Settled::<T>::remove(channel);
		crate::VoucheredAmounts::<T>::remove(channel);
		crate::Waived::<T>::remove(channel);
		crate::ChannelKeys::<T>::remove(info.terms.channel_key);
		let refund = <T as Config>::Currency::release(
			&<T as Config>::RuntimeHoldReason::from(HoldReason::ChannelEscrow),
			&info.developer,
			info.deposited.saturating_sub(info.settled),
			Precision::BestEffort,
		)
		.unwrap_or_else(|_| {
			defensive!("a channel's deposit is held for its developer");
			0
		});
		Self::deposit_event(Event::ChannelFinalized { channel, refund });
	}
}

/// Walks the records of ids `next..end` (settlements, disputes: kept in id order, which is
/// the order they end), at most `most` of them, each charged `each`: `visit(id)` ends the
/// record if it is due and says so; the walk stops at the first one that is not. Returns
/// the first id not ended and the weight used.
pub(crate) fn sweep(
	mut next: u64,
	end: u64,
	most: u32,
	each: Weight,
	mut visit: impl FnMut(u64) -> bool,
) -> (u64, Weight) {
	let mut weight = Weight::zero();
	let mut looked = 0u32;
	while next < end && looked < most {
		// Each record looked at is charged, the one not due included.
		weight = weight.saturating_add(each);
		if !visit(next) {
			break;
		}
		next = next.saturating_add(1);
		looked = looked.saturating_add(1);
	}
	(next, weight)
}
