//! The pallet's types: a channel's record and what the runtime tells it of the models.

use gonka_primitives::{channel::ChannelTerms, ModelId};
use polkadot_sdk::frame_support::pallet_prelude::*;

/// The most slots a committee has (`gonka_primitives::channel::MAX_COMMITTEE`).
pub const MAX_COMMITTEE_SLOTS: u32 = gonka_primitives::channel::MAX_COMMITTEE as u32;
/// The bound of a block's queue of draws or finalizations (`MaxOpensPerBlock` at most).
pub const MAX_QUEUE: u32 = 256;
/// How many blocks from the first one possible a draw or a finalization looks for room.
pub const SCHEDULE_SEARCH: u32 = 16;

/// What the runtime tells the pallet of a model: its price per token now and the tokens its
/// chat template adds to a prompt (`pallet-inference`'s, in the runtime).
pub trait ChannelPricing {
	/// The model's price per token, `None` if it is not approved for inference.
	fn price(model: ModelId) -> Option<u128>;
	/// The tokens the model's chat template adds to a prompt.
	fn template_overhead(model: ModelId) -> Option<u32>;
	/// A model with a price (benchmarks).
	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_model() -> ModelId;
}

/// Where a channel is in its life.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum ChannelStatus {
	/// Requests are served until `ends`.
	#[codec(index = 0)]
	Open,
	/// The developer closed it early (`ends` is when).
	#[codec(index = 1)]
	Closed,
}

/// A channel's record.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct ChannelInfo<AccountId, BlockNumber> {
	/// Who opened it, and whose escrow it holds.
	pub developer: AccountId,
	/// Its terms.
	pub terms: ChannelTerms<BlockNumber>,
	/// The block that opened it (whose hash draws the committee).
	pub opened: BlockNumber,
	/// The first block in which it takes no request: `opened + duration`, or earlier if
	/// the developer closed it.
	pub ends: BlockNumber,
	/// The block that finalizes it (the end of its settle window, counted from its planned
	/// end: closing early moves no finalization).
	pub finalizes: BlockNumber,
	/// The price per token, fixed when it opened.
	pub price: u128,
	/// The escrow deposited, top-ups included.
	pub deposited: u128,
	/// Open, or closed early.
	pub status: ChannelStatus,
	/// The tokens the model's chat template adds to a prompt, fixed when it opened.
	pub template_overhead: u32,
	/// The escrow paid to the committee so far (the rest of `deposited` is held).
	pub settled: u128,
	/// The epoch whose PoC formed the roster the committee was drawn from (0 until it is
	/// drawn): a member stands, and is paid, only if it registered before it
	/// (`pallet_poc::Pallet::stands_in`).
	pub roster_epoch: gonka_primitives::EpochIndex,
}

/// What a committee member has settled of a channel so far.
#[derive(
	Clone,
	Copy,
	Debug,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct SettledInfo {
	/// The receipts its settlements covered: leaves `0..receipts`.
	pub receipts: u32,
	/// The receipts its latest voucher covered.
	pub vouchered: u32,
	/// What it was paid in all (at most its allowance).
	pub paid: u128,
	/// Its settlements of the channel.
	pub settlements: u32,
}
