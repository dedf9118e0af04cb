//! `ChannelsApi`: what gateways, workers and explorers read of inference channels through
//! the node's `state_call` RPC. The runtime implements it with the `Pallet` functions named
//! in each method's documentation (`views.rs`).

use crate::{ChannelInfo, DisputeRecord, SettledInfo, SettlementRecord};
use alloc::vec::Vec;
use codec::{Codec, Decode, Encode};
use gonka_primitives::{
	channel::{ChannelId, DisputeId, SampleOf, SettlementId},
	HostId, ModelId,
};
use scale_info::TypeInfo;

/// A channel and its committee.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct ChannelView<BlockNumber> {
	/// The channel's record.
	pub info: ChannelInfo<HostId, BlockNumber>,
	/// The host of each slot (empty until drawn).
	pub committee: Vec<HostId>,
}

/// What opening a channel takes now.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct ChannelQuote {
	/// The model's price per token in the block the state is of (a channel opened in a
	/// later block pays that block's price: cap it with a margin).
	pub price: u128,
	/// The channel's fee, paid to the community pool whatever happens to the channel: the
	/// open fee and each member's first settlement's fee.
	pub fee: u128,
	/// The least deposit at that price: one largest request for every slot.
	pub min_deposit: u128,
}

polkadot_sdk::sp_api::decl_runtime_apis! {
	/// Inference channels' state for clients. Version 2 (step 5b): settlement records
	/// gained their developer, pay and tail digest; disputes and their juries. Version 3
	/// (step 5d): a dispute may be a developer's challenge (`FailReason::Challenged`, its
	/// `sample` the receipt's leaf) and end `Refuted`; what a challenge holds.
	#[api_version(2)]
	pub trait ChannelsApi<BlockNumber> where BlockNumber: Codec {
		/// A live channel and its committee (`Pallet::channel_view`).
		fn channel(channel: ChannelId) -> Option<ChannelView<BlockNumber>>;
		/// The most `host` may be paid from `channel` (`Pallet::allowance`).
		fn allowance(channel: ChannelId, host: HostId) -> u128;
		/// What `host` settled of `channel` so far (`Pallet::settled`).
		fn settled(channel: ChannelId, host: HostId) -> Option<SettledInfo>;
		/// What opening a channel of `committee` slots on `model` with requests of at most
		/// `max_request_tokens` takes (`None`: the model has no price, or it overflows)
		/// (`Pallet::quote_channel`).
		fn quote_channel(model: ModelId, committee: u8, max_request_tokens: u32) -> Option<ChannelQuote>;
		/// A settlement whose verdict window is open (`Settlements`).
		fn settlement(settlement: SettlementId) -> Option<SettlementRecord<HostId, BlockNumber>>;
		/// The samples of `settlement` the hash rule draws `validator` for, and what each
		/// checks (empty until the block after the settlement's) (`Pallet::samples_for`).
		fn samples_for(settlement: SettlementId, validator: HostId) -> Vec<(u32, SampleOf)>;
		/// A dispute whose jury's window has not ended (`Disputes`).
		#[api_version(2)]
		fn dispute(dispute: DisputeId) -> Option<DisputeRecord<HostId, BlockNumber>>;
		/// Whether `host` sits on the jury of `dispute` (from the block after its report's)
		/// (`Pallet::sits_on`).
		#[api_version(2)]
		fn sits_on(dispute: DisputeId, host: HostId) -> bool;
		/// What a challenge of a receipt of `cost` holds of the developer
		/// (`Pallet::challenge_fee`).
		#[api_version(3)]
		fn challenge_fee(cost: u128) -> u128;
	}
}
