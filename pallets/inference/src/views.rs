//! What the runtime's `InferenceApi` (`runtime_api.rs`) returns: a request with its
//! payloads, a host's standing, a model's next price and a request's quote, and the
//! validators the hash rule samples for a finished request.

use super::*;
use alloc::vec::Vec;
use gonka_primitives::{
	inference::{self as rules, RequestId},
	ModelId,
};
use pallet_poc::Hosts;
use polkadot_sdk::{
	frame_support::traits::fungible::InspectHold,
	frame_system::{self, pallet_prelude::BlockNumberFor},
	sp_runtime::traits::{One, Saturating},
};

impl<T: Config> Pallet<T> {
	/// `InferenceApi::request`: a request with its payloads while they are kept.
	pub fn request_view(id: RequestId) -> Option<runtime_api::RequestView<BlockNumberFor<T>>> {
		let request = Requests::<T>::get(id)?;
		let prompt = Prompts::<T>::get(id).map(|prompt| prompt.into_inner()).unwrap_or_default();
		let (token_ids, text) = Outputs::<T>::get(id)
			.map(|output| (output.token_ids.into_inner(), output.text.into_inner()))
			.unwrap_or_default();
		Some(runtime_api::RequestView { request, prompt, token_ids, text })
	}

	/// `InferenceApi::host`: a host's reputation, record of the epoch in progress and
	/// pending work over the unsettled epochs.
	pub fn host_view(host: &T::AccountId) -> runtime_api::HostInferenceView {
		let epoch = pallet_poc::Pallet::<T>::epoch_now();
		let pending_work = Funds::<T>::balance_on_hold(&HoldReason::WorkBalance.into(), host);
		runtime_api::HostInferenceView {
			epoch,
			reputation: rules::reputation(Self::reputation_at(host, epoch).clean_epochs),
			stats: Ledger::<T>::get(epoch, host),
			pending_work,
		}
	}

	/// `InferenceApi::price`: `model`'s price per token in the next block.
	pub fn price(model: ModelId) -> Option<u128> {
		let terms = T::ModelTerms::terms(model)?;
		let next = frame_system::Pallet::<T>::block_number().saturating_add(One::one());
		Some(Self::price_state(model, &terms, &Params::<T>::get(), next).price)
	}

	/// `model`'s price per token in the block in progress (what a request or a channel
	/// opened in it pays).
	pub fn price_now(model: ModelId) -> Option<u128> {
		let terms = T::ModelTerms::terms(model)?;
		let now = frame_system::Pallet::<T>::block_number();
		Some(Self::price_state(model, &terms, &Params::<T>::get(), now).price)
	}

	/// `InferenceApi::quote`: the escrow a request would hold in the next block (its
	/// tokens' escrow and the timer deposit).
	pub fn quote(model: ModelId, prompt_bytes: u32, max_tokens: u32) -> Option<u128> {
		let terms = T::ModelTerms::terms(model)?;
		rules::escrow(prompt_bytes, terms.template_overhead, max_tokens, Self::price(model)?)?
			.checked_add(Self::timer_deposit(&Params::<T>::get()))
	}

	/// The registered hosts the hash rule samples to validate finished request `id`
	/// (`InferenceApi::validators`): what each worker computes for itself, and what a
	/// host showing a missing report checks. `None` for an unknown or unfinished
	/// request, in the block that included `finish` (its hash is not known yet), and
	/// once that hash is no longer kept (`BlockHashCount` blocks later).
	/// Off-chain only: one hash per registered host.
	pub fn sampled_validators(id: RequestId) -> Option<Vec<T::AccountId>> {
		let request = Requests::<T>::get(id)?;
		let finish = request.finish?;
		if !Self::sample_known(&finish) {
			return None;
		}
		let sampled = Hosts::<T>::iter_keys()
			.filter(|host| *host != request.executor)
			.filter(|host| {
				let power = pallet_poc::Pallet::<T>::power_in(&finish.snapshot, host);
				Self::is_sampled(id, &request, &finish, host, power)
			})
			.collect();
		Some(sampled)
	}
}
