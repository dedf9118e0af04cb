//! What runs every block (`on_initialize`): the committees of the channels opened in the
//! block before are drawn, and the channels whose settle window ends are finalized (the
//! rest of their escrow refunded). At most `MaxOpensPerBlock` of each (`open_channel`
//! refuses more), so the work per block is bounded.

use crate::{
	Channels, Committees, Config, Event, HoldReason, Pallet, ToDraw, ToFinalize, WeightInfo,
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
		for channel in ToDraw::<T>::take(now) {
			let slots = Self::draw_committee(channel);
			// Its benchmark: every draw of every slot redrawn `MAX_DRAWS` times, and the
			// channel finalized for want of a committee.
			weight = weight.saturating_add(<T as Config>::WeightInfo::draw_committee(slots.into()));
		}
		for channel in ToFinalize::<T>::take(now) {
			Self::finalize(channel);
			weight = weight.saturating_add(<T as Config>::WeightInfo::finalize_channel());
		}
		weight
	}

	/// Finalizes `channel`: its committee and record removed, the rest of its escrow
	/// refunded to its developer (`ChannelFinalized`).
	pub(crate) fn finalize(channel: ChannelId) {
		let Some(info) = Channels::<T>::take(channel) else { return };
		Committees::<T>::remove(channel);
		crate::ChannelKeys::<T>::remove(info.terms.channel_key);
		let refund = <T as Config>::Currency::release(
			&<T as Config>::RuntimeHoldReason::from(HoldReason::ChannelEscrow),
			&info.developer,
			info.deposited,
			Precision::BestEffort,
		)
		.unwrap_or_else(|_| {
			defensive!("a channel's deposit is held for its developer");
			0
		});
		Self::deposit_event(Event::ChannelFinalized { channel, refund });
	}
}
