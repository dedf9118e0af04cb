//! The bounds and thresholds the runtime and the worker must agree on, defined once.
//!
//! The runtime configures its pallets with these (`runtime/src/configs/mod.rs`); the
//! worker bounds the payloads it encodes with the same types, samples the same number of
//! PoC leaves and spreads its commitments within the same budget. A payload the worker
//! builds within these bounds is never refused for its size.
//!
//! The vote rules ([`is_majority`], [`is_at_least_half`], [`is_two_thirds`]) are the only
//! place a count of voting power is compared with its total: the invalidation vote of
//! `pallet-inference` and the PoC verdicts of `pallet-poc` both call them. They compare
//! exactly (in 256-bit arithmetic), whatever the size of the power.

use crate::duty::{InferenceFinish, PocValidation};
use polkadot_sdk::sp_core::{ConstU32, U256};

/// Hosts the chain registers at most (`pallet-poc`'s `MaxHosts`): the spec's benchmark
/// target is 1,000 hosts per epoch; room for as many again. A batch of PoC verdicts names
/// at most this many hosts.
pub const MAX_HOSTS: u32 = 2_048;
/// Models one host serves at most (`pallet-poc`'s `MaxModelsPerHost`).
pub const MAX_MODELS_PER_HOST: u32 = 8;
/// PoC commitments one host may send per model and epoch (`pallet-poc`'s
/// `MaxCommitsPerModel`): the worker's commit budget.
pub const MAX_COMMITS_PER_MODEL: u32 = 16;
/// Leaves a validator checks per PoC commitment (`N` of the spec's binomial test).
pub const POC_SAMPLE_SIZE: u32 = 200;
/// A request's prompt bytes at most (`pallet-inference`'s `MaxPromptBytes`): 8 KiB.
pub const MAX_PROMPT_BYTES: u32 = 8_192;
/// A completion's tokens at most (`MaxOutputTokens`): half of the default model's
/// 8,192-token context.
pub const MAX_OUTPUT_TOKENS: u32 = 4_096;
/// A completion's text bytes at most (`MaxOutputBytes`): eight bytes a token, room for
/// any tokenizer's pieces.
pub const MAX_OUTPUT_BYTES: u32 = 32_768;
/// End tokens a model has at most (a chat model's end of turn, end of text, ...).
pub const MAX_END_TOKENS: u32 = 4;

/// [`MAX_HOSTS`] as a type.
pub type MaxHosts = ConstU32<MAX_HOSTS>;
/// [`MAX_MODELS_PER_HOST`] as a type.
pub type MaxModelsPerHost = ConstU32<MAX_MODELS_PER_HOST>;
/// [`MAX_COMMITS_PER_MODEL`] as a type.
pub type MaxCommitsPerModel = ConstU32<MAX_COMMITS_PER_MODEL>;
/// [`MAX_PROMPT_BYTES`] as a type.
pub type MaxPromptBytes = ConstU32<MAX_PROMPT_BYTES>;
/// [`MAX_OUTPUT_TOKENS`] as a type.
pub type MaxOutputTokens = ConstU32<MAX_OUTPUT_TOKENS>;
/// [`MAX_OUTPUT_BYTES`] as a type.
pub type MaxOutputBytes = ConstU32<MAX_OUTPUT_BYTES>;

/// [`MAX_END_TOKENS`] as a type.
pub type MaxEndTokens = ConstU32<MAX_END_TOKENS>;

/// An inference result as the runtime bounds it.
pub type BoundedFinish = InferenceFinish<MaxOutputTokens, MaxOutputBytes>;
/// A batch of PoC verdicts as the runtime bounds it.
pub type BoundedPocValidation = PocValidation<MaxHosts>;

/// Whether `part` is more than half of `whole`: an invalidation vote convicts.
pub fn is_majority(part: u128, whole: u128) -> bool {
	U256::from(part) * 2 > U256::from(whole)
}

/// Whether `part` is at least half of `whole`: an invalidation vote acquits before its
/// window ends (the rest can no longer form a majority).
pub fn is_at_least_half(part: u128, whole: u128) -> bool {
	U256::from(part) * 2 >= U256::from(whole)
}

/// Whether `part` is more than two thirds of `whole`: PoC verdicts accept or reject a
/// commitment.
pub fn is_two_thirds(part: u128, whole: u128) -> bool {
	U256::from(part) * 3 > U256::from(whole) * 2
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn majority_is_strictly_more_than_half() {
		assert!(!is_majority(0, 0));
		assert!(!is_majority(5, 10));
		assert!(is_majority(6, 10));
		assert!(is_majority(6, 11));
		assert!(!is_majority(5, 11));
		assert!(is_majority(u128::MAX, u128::MAX));
		assert!(!is_majority(u128::MAX / 2, u128::MAX));
	}

	#[test]
	fn at_least_half_includes_the_tie() {
		assert!(is_at_least_half(0, 0));
		assert!(is_at_least_half(5, 10));
		assert!(!is_at_least_half(4, 10));
		assert!(!is_at_least_half(5, 11));
		assert!(is_at_least_half(6, 11));
		assert!(is_at_least_half(u128::MAX / 2 + 1, u128::MAX));
	}

	#[test]
	fn two_thirds_is_strictly_more_than_two_thirds() {
		assert!(!is_two_thirds(0, 0));
		assert!(!is_two_thirds(2, 3));
		assert!(is_two_thirds(3, 4));
		assert!(!is_two_thirds(20, 30));
		assert!(is_two_thirds(21, 30));
		// Exact where `part * 3` overflows `u128`.
		assert!(is_two_thirds(u128::MAX, u128::MAX));
		assert!(!is_two_thirds(u128::MAX / 3 * 2, u128::MAX));
	}
}
