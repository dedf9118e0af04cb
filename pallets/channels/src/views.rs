//! What the runtime API reads (`runtime_api.rs`).

use crate::{
	runtime_api::{ChannelQuote, ChannelView},
	ChannelPricing, Channels, Committees, Config, Pallet,
};
use gonka_primitives::{channel::ChannelId, ModelId};
use polkadot_sdk::frame_system::pallet_prelude::BlockNumberFor;

impl<T: Config> Pallet<T> {
	/// `ChannelsApi::channel`: a live channel and its committee.
	pub fn channel_view(channel: ChannelId) -> Option<ChannelView<BlockNumberFor<T>>> {
		let info = Channels::<T>::get(channel)?;
		let committee = Committees::<T>::get(channel).map(|c| c.into_inner()).unwrap_or_default();
		Some(ChannelView { info, committee })
	}

	/// `ChannelsApi::quote_channel`: the price, the fee and the least deposit of a channel of
	/// `committee` slots on `model` with requests of at most `max_request_tokens`, as
	/// `open_channel` would require them in this block.
	pub fn quote_channel(
		model: ModelId,
		committee: u8,
		max_request_tokens: u32,
	) -> Option<ChannelQuote> {
		let price = T::Pricing::price(model)?;
		let min_deposit = Self::min_deposit(committee, max_request_tokens, price)?;
		Some(ChannelQuote { price, fee: Self::channel_fee(committee), min_deposit })
	}
}
