//! What the runtime API reads (`runtime_api.rs`).

use crate::{
	runtime_api::{ChannelQuote, ChannelView},
	ChannelPricing, Channels, Committees, Config, Pallet, Settlements,
};
use alloc::vec::Vec;
use gonka_primitives::channel::{sample_of, SampleOf, SettlementId};
use gonka_primitives::{channel::ChannelId, HostId, ModelId};
use polkadot_sdk::frame_system::pallet_prelude::BlockNumberFor;

impl<T: Config> Pallet<T> {
	/// `ChannelsApi::channel`: a live channel and its committee.
	pub fn channel_view(channel: ChannelId) -> Option<ChannelView<BlockNumberFor<T>>> {
		let info = Channels::<T>::get(channel)?;
		let committee = Committees::<T>::get(channel).map(|c| c.into_inner()).unwrap_or_default();
		Some(ChannelView { info, committee })
	}

	/// `ChannelsApi::samples_for`: the samples of settlement `id` the hash rule draws
	/// `validator` for, each with what it checks; empty while the seed is not known, or
	/// once the window closed (the record is kept a period longer, to show misses: it is
	/// answered no more).
	pub fn samples_for(id: SettlementId, validator: &HostId) -> Vec<(u32, SampleOf)> {
		if !Self::window_open(id) {
			return Vec::new();
		}
		let Some(record) = Settlements::<T>::get(id) else { return Vec::new() };
		let Some(seed) = Self::seed_of(id, &record) else { return Vec::new() };
		let tree = Self::tree_samples(&record, &seed);
		let power = pallet_poc::Pallet::<T>::power_in(&record.snapshot, validator);
		(0..tree.saturating_add(record.tail))
			.filter(|sample| record.draws(&seed, *sample, validator, power))
			.filter_map(|sample| {
				sample_of(&seed, sample, tree, record.from, record.to, record.tail)
					.map(|what| (sample, what))
			})
			.collect()
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
