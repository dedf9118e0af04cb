//! The per-model price (`protocol.md`, "Inference", pricing): like EIP-1559, each block's
//! utilisation moves the next block's price (unchanged at 40–60%, at most 2% per block,
//! never below the floor). Applied lazily: a model's state keeps the last block it was
//! used in, and the idle blocks since are compounded when it is next used or quoted.

use super::*;
use gonka_primitives::ModelId;
use polkadot_sdk::{
	frame_system::pallet_prelude::BlockNumberFor,
	sp_runtime::{
		traits::{One, Saturating, UniqueSaturatedInto},
		Perbill,
	},
};

impl<T: Config> Pallet<T> {
	/// `model`'s price state for block `now`: the last used block's step at its
	/// utilisation, then the idle blocks after it compounded at once, with nothing used
	/// yet in `now`. Not stored.
	pub fn price_state(
		model: ModelId,
		terms: &ModelTerms,
		rules: &ParamsOf<T>,
		now: BlockNumberFor<T>,
	) -> PriceState<BlockNumberFor<T>> {
		let Some(state) = Prices::<T>::get(model) else {
			return PriceState {
				price: terms.base_price.max(rules.min_price),
				block: now,
				used: 0,
			};
		};
		if state.block >= now {
			return state;
		}
		let utilisation = Perbill::from_rational(state.used, rules.block_capacity);
		let price = rules.price_rule.next_price(state.price, utilisation, rules.min_price);
		// The blocks in between were idle: each lowers the price by the largest step.
		let idle: u32 =
			now.saturating_sub(state.block).saturating_sub(One::one()).unique_saturated_into();
		let price = rules.price_rule.idle_price(price, idle, rules.min_price);
		PriceState { price, block: now, used: 0 }
	}

	/// Stores a model's price state; an event when the price moved.
	pub(crate) fn store_price(model: ModelId, state: PriceState<BlockNumberFor<T>>) {
		let before = Prices::<T>::get(model).map(|previous| previous.price);
		Prices::<T>::insert(model, state);
		if before != Some(state.price) {
			Self::deposit_event(Event::PriceChanged { model, price: state.price });
		}
	}
}
