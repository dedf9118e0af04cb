//! Property tests of the weight cap (`cap.rs`: PoC's 25%, rewards' 30%), of the shares of
//! an epoch's reward and of the reward curve (`issuance.rs`).
//!
//! The cap: when `n × cap ≥ 1` for the `n` hosts with weight, no capped weight is above
//! `cap` of the capped total, and the cut is at the largest level that achieves it;
//! otherwise nothing is cut. The shares: host `i` gets `reward × min(w_i, c) / Σ w`,
//! rounded down, so they sum to at most the reward and none is above `cap` of it.

use gonka_primitives::{
	cap::{apply_cap, cap_level},
	issuance::{reward_share, reward_shares, RewardCurve, DECAY_ONE, INITIAL_EPOCH_REWARD},
};
use polkadot_sdk::{
	sp_arithmetic::Perbill,
	sp_core::{U256, U512},
};
use proptest::{collection::vec, prelude::*};

const BILLION: u128 = 1_000_000_000;

// ---- strategies and helpers --------------------------------------------------------------

/// A host's weight: none, small (so that ties and exact shares occur) or up to 2^64.
fn weight() -> impl Strategy<Value = u128> {
	prop_oneof![
		1 => Just(0u128),
		3 => 1..=1_000u128,
		3 => (0..=u64::MAX).prop_map(u128::from),
	]
}

/// Up to 24 hosts' weights (their sum never saturates).
fn weights() -> impl Strategy<Value = Vec<u128>> {
	vec(weight(), 0..=24)
}

/// At least `min` hosts with weight, among some without.
fn weights_of_at_least(min: usize) -> impl Strategy<Value = Vec<u128>> {
	(vec(prop_oneof![1..=1_000u128, 1..=u128::from(u64::MAX)], min..=24), vec(Just(0u128), 0..4))
		.prop_map(|(mut weights, zeros)| {
			weights.extend(zeros);
			weights
		})
		.prop_shuffle()
}

/// Weights of fewer hosts with weight than `1 / cap`, and the cap.
fn too_few_for_the_cap() -> impl Strategy<Value = (Vec<u128>, Perbill)> {
	(0..=24usize)
		.prop_flat_map(|n| {
			let most = (BILLION as u32 - 1) / n.max(1) as u32;
			let positive = prop_oneof![1..=1_000u128, 1..=u128::from(u64::MAX)];
			(vec(positive, n), vec(Just(0u128), 0..4), 0..=most)
		})
		.prop_flat_map(|(mut weights, zeros, parts)| {
			weights.extend(zeros);
			(Just(weights).prop_shuffle(), Just(Perbill::from_parts(parts)))
		})
}

/// A cap: PoC's 25%, rewards' 30%, or any.
fn cap() -> impl Strategy<Value = Perbill> {
	prop_oneof![
		Just(Perbill::from_percent(25)),
		Just(Perbill::from_percent(30)),
		(0..=1_000_000_000u32).prop_map(Perbill::from_parts),
	]
}

/// An epoch's reward: small, the live first epoch's, or any.
fn reward() -> impl Strategy<Value = u128> {
	prop_oneof![0..=1_000_000u128, Just(INITIAL_EPOCH_REWARD), any::<u128>()]
}

fn parts(cap: Perbill) -> u128 {
	u128::from(cap.deconstruct())
}

/// The hosts with weight.
fn with_weight(weights: &[u128]) -> u128 {
	weights.iter().filter(|w| **w > 0).count() as u128
}

/// Whether `n × cap ≥ 1` for the hosts with weight: a cap is possible.
fn cap_possible(weights: &[u128], cap: Perbill) -> bool {
	with_weight(weights) * parts(cap) >= BILLION
}

/// Whether no weight is above `cap` of the total.
fn within_cap(weights: &[u128], cap: Perbill) -> bool {
	let total: u128 = weights.iter().sum();
	weights.iter().all(|w| w * BILLION <= parts(cap) * total)
}

fn cut_at(weights: &[u128], level: u128) -> Vec<u128> {
	weights.iter().map(|w| (*w).min(level)).collect()
}

fn wide(x: u128) -> U256 {
	U256::from(x)
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(256))]

	/// When a cap is possible (`n × cap ≥ 1`), no capped weight is above `cap` of the
	/// capped total.
	#[test]
	fn capped_weights_are_within_the_cap(weights in weights(), cap in cap()) {
		prop_assume!(cap_possible(&weights, cap));
		let capped = apply_cap(&weights, cap);
		prop_assert!(within_cap(&capped, cap), "{:?} capped to {:?}", weights, capped);
	}

	/// PoC's cap: with at least 4 hosts with weight, no capped weight is above 25% of the
	/// capped total.
	#[test]
	fn no_host_keeps_more_than_25_percent_of_the_weight(weights in weights_of_at_least(4)) {
		let capped = apply_cap(&weights, Perbill::from_percent(25));
		let total: u128 = capped.iter().sum();
		prop_assert!(capped.iter().all(|w| w * 4 <= total), "{:?} capped to {:?}", weights, capped);
	}

	/// Below `1 / cap` hosts with weight nothing is cut.
	#[test]
	fn nothing_is_cut_below_one_over_cap_hosts((weights, cap) in too_few_for_the_cap()) {
		prop_assert!(!cap_possible(&weights, cap));
		prop_assert_eq!(cap_level(&weights, cap), None);
		prop_assert_eq!(apply_cap(&weights, cap), weights);
	}

	/// The cut is at the largest level that keeps every share within the cap: a level
	/// below the largest weight whose cut is within the cap while a cut one unit higher is
	/// not; no cut when the weights are within the cap already.
	#[test]
	fn the_cut_is_the_largest_level_within_the_cap(weights in weights(), cap in cap()) {
		prop_assume!(cap_possible(&weights, cap));
		let largest = weights.iter().copied().max().unwrap_or(0);
		match cap_level(&weights, cap) {
			Some(level) => {
				prop_assert!(level < largest);
				prop_assert!(within_cap(&cut_at(&weights, level), cap));
				prop_assert!(!within_cap(&cut_at(&weights, level + 1), cap), "level {}", level);
			}
			None => prop_assert!(within_cap(&weights, cap)),
		}
	}

	/// On small weights the cut is what a brute-force search over every level finds.
	#[test]
	fn the_cut_matches_a_brute_force_search(weights in vec(0..=60u128, 0..=10), cap in cap()) {
		let largest = weights.iter().copied().max().unwrap_or(0);
		let best =
			(0..=largest).rev().find(|c| within_cap(&cut_at(&weights, *c), cap)).unwrap_or(0);
		let cut = cap_possible(&weights, cap) && best < largest;
		let expected = cut.then_some(best);
		prop_assert_eq!(cap_level(&weights, cap), expected);
	}

	/// The cap only cuts: no weight grows, a weight at or below the level is kept, no host
	/// with weight loses all of it, and a larger weight never ends below a smaller one.
	#[test]
	fn the_cap_only_cuts_and_keeps_the_order(weights in weights(), cap in cap()) {
		let capped = apply_cap(&weights, cap);
		let level = cap_level(&weights, cap);
		prop_assert_eq!(capped.len(), weights.len());
		for (w, c) in weights.iter().zip(&capped) {
			prop_assert!(c <= w);
			prop_assert_eq!(*c == 0, *w == 0);
			if level.is_none_or(|level| *w <= level) {
				prop_assert_eq!(c, w);
			}
		}
		for (weight, cut) in weights.iter().zip(&capped) {
			for (other_weight, other_cut) in weights.iter().zip(&capped) {
				if weight <= other_weight {
					prop_assert!(cut <= other_cut);
				}
			}
		}
	}

	/// Capped weights are within the cap: capping them again changes nothing.
	#[test]
	fn capping_twice_is_capping_once(weights in weights(), cap in cap()) {
		let capped = apply_cap(&weights, cap);
		prop_assert_eq!(apply_cap(&capped, cap), capped);
	}

	/// The cut does not depend on the hosts' order.
	#[test]
	fn the_cut_ignores_the_order_of_hosts(
		(weights, shuffled) in
			weights().prop_flat_map(|w| (Just(w.clone()), Just(w).prop_shuffle())),
		cap in cap(),
	) {
		prop_assert_eq!(cap_level(&weights, cap), cap_level(&shuffled, cap));
	}

	// ---- reward shares ----

	/// The shares of an epoch's reward never sum to more than the reward.
	#[test]
	fn shares_sum_to_at_most_the_reward(reward in reward(), weights in weights(), cap in cap()) {
		let shares = reward_shares(reward, &weights, cap);
		prop_assert_eq!(shares.len(), weights.len());
		let paid = shares.iter().fold(U256::zero(), |sum, share| sum + wide(*share));
		prop_assert!(paid <= wide(reward), "{:?} of {}", shares, reward);
	}

	/// When a cap is possible, no share is above `cap` of the reward.
	#[test]
	fn no_share_is_above_the_cap_of_the_reward(
		reward in reward(),
		weights in weights(),
		cap in cap(),
	) {
		prop_assume!(cap_possible(&weights, cap));
		for share in reward_shares(reward, &weights, cap) {
			prop_assert!(wide(share) * wide(BILLION) <= wide(parts(cap)) * wide(reward));
		}
	}

	/// The rewards' cap: with at least 4 hosts with weight, no host gets more than 30% of
	/// the epoch's reward.
	#[test]
	fn no_host_gets_more_than_30_percent_of_the_reward(
		reward in reward(),
		weights in weights_of_at_least(4),
	) {
		for share in reward_shares(reward, &weights, Perbill::from_percent(30)) {
			prop_assert!(wide(share) * 10 <= wide(reward) * 3, "{} of {}", share, reward);
		}
	}

	/// Without a cut only rounding is left unpaid: less than one unit per host with weight.
	#[test]
	fn without_a_cut_only_rounding_is_left_over(
		reward in reward(),
		weights in weights(),
		cap in cap(),
	) {
		prop_assume!(cap_level(&weights, cap).is_none() && weights.iter().any(|w| *w > 0));
		let paid = reward_shares(reward, &weights, cap).iter().sum::<u128>();
		prop_assert!(reward - paid < with_weight(&weights), "{} of {}", paid, reward);
	}

	/// A host with more weight never gets a smaller share; a host without weight gets
	/// nothing.
	#[test]
	fn shares_follow_the_weights(reward in reward(), weights in weights(), cap in cap()) {
		let shares = reward_shares(reward, &weights, cap);
		for (weight, share) in weights.iter().zip(&shares) {
			if *weight == 0 {
				prop_assert_eq!(*share, 0);
			}
			for (other_weight, other_share) in weights.iter().zip(&shares) {
				if weight <= other_weight {
					prop_assert!(share <= other_share);
				}
			}
		}
	}

	/// One share is `reward × min(weight, total) / total` rounded down, computed exactly;
	/// nothing when the total is zero.
	#[test]
	fn a_share_is_the_floor_of_the_exact_quotient(
		reward in reward(),
		weight in prop_oneof![0..=1_000u128, any::<u128>()],
		total in prop_oneof![0..=1_000u128, any::<u128>()],
	) {
		let share = reward_share(reward, weight, total);
		if total == 0 {
			prop_assert_eq!(share, 0);
		} else {
			let exact = wide(reward).full_mul(wide(weight.min(total))) / U512::from(total);
			prop_assert_eq!(U512::from(share), exact);
			prop_assert!(share <= reward);
		}
	}

	// ---- the reward curve ----

	/// Epoch after epoch the reward never grows, the epochs count up from 1, and the
	/// curve mints the sum of its rewards, never more than its cap.
	#[test]
	fn the_reward_never_grows_and_minting_stops_at_the_cap(
		initial in prop_oneof![
			0..=1_000_000u128,
			Just(INITIAL_EPOCH_REWARD),
			0..=u128::MAX / 1_000_000_000,
		],
		decay in prop_oneof![Just(DECAY_ONE), 1..=DECAY_ONE],
		cap in prop_oneof![0..=10_000_000u128, any::<u128>()],
		epochs in 1..=64u32,
	) {
		let mut curve = RewardCurve::new(initial, decay, cap);
		prop_assert!(curve.is_valid());
		let (mut last, mut minted) = (u128::MAX, 0u128);
		for e in 1..=epochs {
			let next = curve.next_reward();
			let (index, reward) = curve.take();
			prop_assert_eq!((index, reward), (e, next));
			prop_assert!(reward <= last, "epoch {}: {} after {}", e, reward, last);
			minted += reward;
			prop_assert_eq!(curve.minted, minted);
			prop_assert!(minted <= cap);
			last = reward;
		}
	}
}
