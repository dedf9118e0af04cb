//! Property tests of the rest of the inference arithmetic (`inference.rs`): escrow and
//! cost, the executor draw, which validators check a request, the validation target and
//! reputation.

use gonka_primitives::{
	inference::{
		completion_end, cost, escrow, executor_draw, is_validator, next_clean_epochs, pick_point,
		pick_weighted, reputation, validation_target, Ended, Unfinished, EPOCHS_TO_FULL_REPUTATION,
		FULL_CHECK_REQUESTS, LEAST_CHECK_REQUESTS, LEAST_TARGET, MAX_REPUTATION,
	},
	AccountId32, H256,
};
use polkadot_sdk::{sp_arithmetic::Perbill, sp_core::U256};
use proptest::{collection::vec, prelude::*};

// ---- strategies --------------------------------------------------------------------------

fn h256() -> impl Strategy<Value = H256> {
	any::<[u8; 32]>().prop_map(H256)
}

/// Any `Perbill`, with its ends as likely as the inside.
fn perbill() -> impl Strategy<Value = Perbill> {
	prop_oneof![
		Just(Perbill::zero()),
		Just(Perbill::one()),
		(0..=1_000_000_000u32).prop_map(Perbill::from_parts),
	]
}

/// A price: small, up to 10^18, or any.
fn price() -> impl Strategy<Value = u128> {
	prop_oneof![0..=1_000u128, 0..=1_000_000_000_000_000_000u128, any::<u128>()]
}

/// A voting power or weight: none, small or up to 2^64.
fn power() -> impl Strategy<Value = u128> {
	prop_oneof![Just(0u128), 1..=1_000u128, (0..=u64::MAX).prop_map(u128::from)]
}

fn wide(x: u128) -> U256 {
	U256::from(x)
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(256))]

	// ---- a complete completion ----

	/// What a generator produces is complete: it samples tokens until one is an end token
	/// (kept, last) or it has `max_tokens`. Cut anywhere earlier, it is not (with an end
	/// token appended, it is complete to this rule: the replay's end check catches that).
	#[test]
	fn a_generated_completion_is_complete_and_its_prefixes_are_not(
		sampled in vec(0..64u32, 1..80),
		end_tokens in vec(0..64u32, 0..4),
		max_tokens in 1..64u32,
	) {
		let mut end_tokens = end_tokens;
		end_tokens.sort_unstable();
		end_tokens.dedup();
		let mut completion = Vec::new();
		for token in sampled {
			completion.push(token);
			if end_tokens.contains(&token) || completion.len() as u32 == max_tokens {
				break;
			}
		}
		let ended = completion_end(&completion, max_tokens, &end_tokens);
		let last = *completion.last().unwrap();
		if end_tokens.contains(&last) {
			prop_assert_eq!(ended, Ok(Ended::EndToken));
		} else if completion.len() as u32 == max_tokens {
			prop_assert_eq!(ended, Ok(Ended::MaxTokens));
		} else {
			// The sampled tokens ran out first: an unfinished generation.
			prop_assert_eq!(ended, Err(Unfinished::Truncated));
		}
		for cut in 0..completion.len() {
			let prefix = &completion[..cut];
			let expected = if cut == 0 { Unfinished::Empty } else { Unfinished::Truncated };
			prop_assert_eq!(completion_end(prefix, max_tokens, &end_tokens), Err(expected));
		}
	}

	// ---- escrow and cost ----

	/// The escrow is `(prompt_bytes + template_overhead + max_tokens) × price` exactly, or
	/// `None` when that does not fit; the same for the cost.
	#[test]
	fn escrow_and_cost_are_exact_or_refused(
		counts in (any::<u32>(), any::<u32>(), any::<u32>()),
		price in price(),
	) {
		let (bytes, overhead, max_tokens) = counts;
		let tokens = u128::from(bytes) + u128::from(overhead) + u128::from(max_tokens);
		let exact = wide(tokens) * wide(price);
		let fits = exact <= wide(u128::MAX);
		prop_assert_eq!(escrow(bytes, overhead, max_tokens, price), fits.then(|| exact.low_u128()));
		let exact = wide(u128::from(bytes) + u128::from(max_tokens)) * wide(price);
		let fits = exact <= wide(u128::MAX);
		prop_assert_eq!(cost(bytes, max_tokens, price), fits.then(|| exact.low_u128()));
	}

	/// A result within its request's bounds (prompt tokens at most the prompt's bytes plus
	/// the template overhead, completion tokens at most `max_tokens`) never costs more than
	/// the escrow: the refund is never negative.
	#[test]
	fn the_cost_never_exceeds_the_escrow(
		counts in (any::<u32>(), any::<u32>(), any::<u32>()),
		used in (any::<prop::sample::Index>(), any::<prop::sample::Index>()),
		price in price(),
	) {
		let (bytes, overhead, max_tokens) = counts;
		let bound = u64::from(bytes) + u64::from(overhead);
		let prompt_tokens = used.0.index(bound.min(u64::from(u32::MAX)) as usize + 1) as u32;
		let completion_tokens = used.1.index(max_tokens as usize + 1) as u32;
		if let Some(escrow) = escrow(bytes, overhead, max_tokens, price) {
			let cost = cost(prompt_tokens, completion_tokens, price);
			prop_assert!(cost.is_some_and(|cost| cost <= escrow), "{:?} > {}", cost, escrow);
		}
	}

	// ---- the executor ----

	/// The executor pick lands on a host with weight, with every host's point range in
	/// `0..total`; nobody is picked when no host has weight.
	#[test]
	fn the_executor_pick_lands_on_a_host_with_weight(
		weights in vec(power(), 0..=64),
		randomness in h256(),
		request in any::<u64>(),
		attempt in any::<u32>(),
	) {
		let cumulative: Vec<u128> = weights
			.iter()
			.scan(0u128, |sum, w| {
				*sum += w;
				Some(*sum)
			})
			.collect();
		let total = cumulative.last().copied().unwrap_or(0);
		let draw = executor_draw(&randomness, request, attempt);
		match pick_weighted(&cumulative, &draw) {
			Some(index) => {
				prop_assert!(weights[index] > 0, "{:?} picked {}", weights, index);
				let point = pick_point(&draw, total).unwrap();
				prop_assert!(point < total);
				let range = cumulative[index] - weights[index]..cumulative[index];
				prop_assert!(range.contains(&point), "{} outside {:?}", point, range);
			}
			None => prop_assert_eq!(total, 0),
		}
	}

	// ---- validation sampling ----

	/// A sampled validator stays sampled with more power or a higher target, and with less
	/// (but some) power besides the executor's; the executor and a host without power never
	/// are.
	#[test]
	fn validation_sampling_is_monotone_in_power_and_target(
		block in h256(),
		request in any::<u64>(),
		hosts in (any::<[u8; 32]>(), any::<[u8; 32]>()),
		targets in (perbill(), perbill()),
		powers in (power(), power()),
		others in (power(), power()),
		executor_power in power(),
	) {
		let (validator, executor) = (AccountId32::new(hosts.0), AccountId32::new(hosts.1));
		let (target, more_target) = (targets.0.min(targets.1), targets.0.max(targets.1));
		let (power, more_power) = (powers.0.min(powers.1), powers.0.max(powers.1));
		let (fewer, more) = (others.0.min(others.1), others.0.max(others.1));
		let sampled = |target, power, others: u128| {
			let (total, own) = (others + executor_power, executor_power);
			is_validator(&block, request, &validator, &executor, target, power, total, own)
		};
		if sampled(target, power, more) {
			prop_assert!(sampled(more_target, power, more), "a higher target");
			prop_assert!(sampled(target, more_power, more), "more power");
			if fewer > 0 {
				prop_assert!(sampled(target, power, fewer), "less other power");
			}
		}
		prop_assert!(!sampled(target, 0, more));
		let (target, power) = (more_target, more_power);
		let total = more + executor_power;
		prop_assert!(!is_validator(
			&block, request, &executor, &executor, target, power, total, executor_power
		));
	}

	/// With target 100% and all the other power, a host always validates.
	#[test]
	fn the_only_other_host_always_validates_at_target_one(
		block in h256(),
		request in any::<u64>(),
		hosts in (any::<[u8; 32]>(), any::<[u8; 32]>()),
		power in 1..=u128::from(u64::MAX),
		executor_power in power(),
	) {
		prop_assume!(hosts.0 != hosts.1);
		let (validator, executor) = (AccountId32::new(hosts.0), AccountId32::new(hosts.1));
		let total = power + executor_power;
		prop_assert!(is_validator(
			&block, request, &validator, &executor, Perbill::one(), power, total, executor_power
		));
	}

	// ---- target and reputation ----

	/// The validation target is between 1% and 100%: 100% for a new executor or up to 100
	/// requests, 1% at full reputation from 10,000 requests.
	#[test]
	fn the_validation_target_stays_between_its_ends(
		reputation in any::<u8>(),
		requests in any::<u64>(),
	) {
		let target = validation_target(reputation, requests);
		prop_assert!(target >= LEAST_TARGET && target <= Perbill::one(), "{:?}", target);
		if reputation == 0 || requests <= FULL_CHECK_REQUESTS {
			prop_assert_eq!(target, Perbill::one());
		}
		if reputation >= MAX_REPUTATION && requests >= LEAST_CHECK_REQUESTS {
			prop_assert_eq!(target, LEAST_TARGET);
		}
	}

	/// More reputation or more traffic never raises the validation target.
	#[test]
	fn the_validation_target_never_rises_with_reputation_or_traffic(
		reputations in (any::<u8>(), any::<u8>()),
		requests in (
			prop_oneof![0..=20_000u64, any::<u64>()],
			prop_oneof![0..=20_000u64, any::<u64>()],
		),
	) {
		let (low, high) = (reputations.0.min(reputations.1), reputations.0.max(reputations.1));
		let (few, many) = (requests.0.min(requests.1), requests.0.max(requests.1));
		prop_assert!(validation_target(high, few) <= validation_target(low, few));
		prop_assert!(validation_target(low, many) <= validation_target(low, few));
	}

	/// Reputation grows with clean epochs up to 100; a clean epoch never lowers the count,
	/// a miss never raises it, an INVALID epoch starts it over, and it never passes 30.
	#[test]
	fn reputation_follows_clean_epochs(
		clean in prop_oneof![0..=40u32, any::<u32>()],
		misses in prop_oneof![0..=40u32, any::<u32>()],
	) {
		prop_assert!(reputation(clean) <= MAX_REPUTATION);
		prop_assert!(reputation(clean) <= reputation(clean.saturating_add(1)));
		let kept = clean.min(EPOCHS_TO_FULL_REPUTATION);
		let next = next_clean_epochs(kept, misses, false);
		prop_assert!(next <= EPOCHS_TO_FULL_REPUTATION);
		if misses == 0 {
			prop_assert!(next >= kept);
		} else {
			prop_assert!(next < kept || kept == 0);
		}
		prop_assert_eq!(next_clean_epochs(kept, misses, true), 0);
	}
}
