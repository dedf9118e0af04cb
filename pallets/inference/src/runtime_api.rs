//! `InferenceApi`: what developers, workers and explorers read of inference through the
//! node's `state_call` RPC. The runtime implements it with the `Pallet` functions named in
//! each method's documentation.

use crate::{EpochStats, Request};
use alloc::vec::Vec;
use codec::{Codec, Decode, Encode};
use gonka_primitives::{inference::RequestId, EpochIndex, HostId, ModelId};
use scale_info::TypeInfo;

/// A request with its payloads, while they are kept.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct RequestView<BlockNumber> {
	/// The request, its status and accounting.
	pub request: Request<HostId, BlockNumber>,
	/// The prompt (empty once pruned).
	pub prompt: Vec<u8>,
	/// The completion's token ids (empty until finished or once pruned).
	pub token_ids: Vec<u32>,
	/// The completion's text (empty until finished or once pruned).
	pub text: Vec<u8>,
}

/// A host as inference sees it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct HostInferenceView {
	/// The epoch in progress.
	pub epoch: EpochIndex,
	/// Reputation, 0–100.
	pub reputation: u8,
	/// Its record in the epoch in progress (assignments, misses, invalidation test, INVALID).
	pub stats: EpochStats,
	/// Its pending work balance over every unsettled epoch.
	pub pending_work: u128,
}

polkadot_sdk::sp_api::decl_runtime_apis! {
	/// Inference state for clients.
	pub trait InferenceApi<BlockNumber> where BlockNumber: Codec {
		/// A request, its status, and its prompt and output while they are kept
		/// (`Pallet::request_view`).
		fn request(request: RequestId) -> Option<RequestView<BlockNumber>>;
		/// The escrow a request would hold in the next block for a prompt of `prompt_bytes`
		/// bytes and `max_tokens`: the tokens' escrow and the timer deposit (`None`: the
		/// model is not approved, or it overflows)
		/// (`Pallet::quote`).
		fn quote(model: ModelId, prompt_bytes: u32, max_tokens: u32) -> Option<u128>;
		/// A model's price per token in the next block (`Pallet::price`).
		fn price(model: ModelId) -> Option<u128>;
		/// A host's reputation, status and pending work (`Pallet::host_view`).
		fn host(host: HostId) -> HostInferenceView;
		/// The registered hosts the hash rule samples to validate a finished request;
		/// `None` if unknown, unfinished, or asked in the block that included `finish`
		/// (`Pallet::sampled_validators`).
		fn validators(request: RequestId) -> Option<Vec<HostId>>;
	}
}
