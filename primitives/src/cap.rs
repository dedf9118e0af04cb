//! The cap on any one host's share of the total weight (`protocol.md`, "Weights").
//!
//! No host may hold more than `cap` of the total consensus weight. The cap applies only
//! when `n × cap ≥ 1` for the `n` hosts with weight (below that no cap is possible).
//! Otherwise the weights are cut at the largest `c` with
//! `min(w_i, c) ≤ cap × Σ_j min(w_j, c)` for every `i`, and `w_i := min(w_i, c)`: the excess
//! is removed, not redistributed. The same rule caps rewards (at 30%).

use alloc::vec::Vec;
use polkadot_sdk::sp_arithmetic::{
	helpers_128bit::multiply_by_rational_with_rounding, PerThing, Perbill, Rounding,
};

/// The level to cut `weights` at, or `None` when no weight is cut (the largest share is
/// within `cap`, or fewer than `1 / cap` hosts have weight).
pub fn cap_level(weights: &[u128], cap: Perbill) -> Option<u128> {
	let mut sorted: Vec<u128> = weights.iter().copied().filter(|w| *w > 0).collect();
	sorted.sort_unstable();
	let n = sorted.len() as u128;
	let parts = u128::from(cap.deconstruct());
	let one = u128::from(Perbill::ACCURACY);
	// n × cap < 1: no cap is possible.
	if n.saturating_mul(parts) < one {
		return None;
	}
	let total = sorted.iter().fold(0u128, |sum, w| sum.saturating_add(*w));
	let largest = *sorted.last()?;
	if multiply_by_rational_with_rounding(largest, one, parts, Rounding::Up)? <= total {
		return None;
	}
	// For c in [w[k-1], w[k]] (w sorted, w[-1] = 0) the n - k weights from w[k] on are cut:
	// Σ min(w_j, c) = S_k + (n - k)·c with S_k = w[0] + … + w[k-1], and the condition at the
	// largest weight, c ≤ cap·(S_k + (n - k)·c), is c·(1 - cap·(n - k)) ≤ cap·S_k. The
	// condition holds for every c up to some level, so the first segment from the top with
	// a feasible point holds the answer.
	let mut below = total; // S_{k+1} as k runs down
	for k in (0..sorted.len()).rev() {
		below = below.saturating_sub(sorted[k]);
		let lower = if k == 0 { 0 } else { sorted[k - 1] };
		let cut = n - k as u128;
		let denominator = one.saturating_sub(parts.saturating_mul(cut));
		let level = if denominator == 0 {
			sorted[k]
		} else {
			multiply_by_rational_with_rounding(below, parts, denominator, Rounding::Down)
				.unwrap_or(u128::MAX)
				.min(sorted[k])
		};
		if level >= lower {
			return Some(level);
		}
	}
	None
}

/// `weights` with every weight above the cap level cut to it.
pub fn apply_cap(weights: &[u128], cap: Perbill) -> Vec<u128> {
	match cap_level(weights, cap) {
		Some(level) => weights.iter().map(|w| (*w).min(level)).collect(),
		None => weights.to_vec(),
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	const QUARTER: Perbill = Perbill::from_percent(25);

	fn share_ok(weights: &[u128]) -> bool {
		let total: u128 = weights.iter().sum();
		weights.iter().all(|w| w * 4 <= total)
	}

	#[test]
	fn no_cap_is_possible_below_one_over_cap_hosts() {
		// 3 hosts × 25% < 1: a dominant host keeps its weight.
		assert_eq!(cap_level(&[100, 1, 1], QUARTER), None);
		assert_eq!(apply_cap(&[100, 1, 1], QUARTER), vec![100, 1, 1]);
		// Hosts without weight do not count.
		assert_eq!(cap_level(&[100, 1, 1, 0, 0], QUARTER), None);
	}

	#[test]
	fn shares_within_the_cap_are_untouched() {
		assert_eq!(cap_level(&[25, 25, 25, 25], QUARTER), None);
		// 30 of 120 is exactly 25%.
		assert_eq!(cap_level(&[10, 20, 30, 30, 30], QUARTER), None);
		// 40 and 50 of 150 are above: both are cut to 30 (30 of 120).
		assert_eq!(cap_level(&[10, 20, 30, 40, 50], QUARTER), Some(30));
	}

	#[test]
	fn a_host_above_25_percent_is_cut_and_the_excess_removed() {
		// 4 hosts, one with 97: the level c satisfies c = (1 + 1 + 1 + c) / 4, i.e. c = 1.
		let capped = apply_cap(&[97, 1, 1, 1], QUARTER);
		assert_eq!(capped, vec![1, 1, 1, 1]);
		// 5 hosts: c = (10 + 10 + 10 + 10 + c)/4 → c = 13 (13.33 rounded down).
		let capped = apply_cap(&[1_000, 10, 10, 10, 10], QUARTER);
		assert_eq!(capped, vec![13, 10, 10, 10, 10]);
		assert!(share_ok(&capped));
	}

	#[test]
	fn several_large_hosts_are_cut_to_one_level() {
		let weights = [500, 400, 10, 10, 10, 10];
		let level = cap_level(&weights, QUARTER).unwrap();
		let capped = apply_cap(&weights, QUARTER);
		assert!(share_ok(&capped), "{capped:?}");
		// The largest level that keeps every share within 25%: one more breaks it.
		let above: Vec<u128> = weights.iter().map(|w| (*w).min(level + 1)).collect();
		assert!(!share_ok(&above), "{above:?} at level {}", level + 1);
		assert_eq!(capped, vec![20, 20, 10, 10, 10, 10]);
	}

	#[test]
	fn the_cut_is_the_largest_feasible_level_on_random_inputs() {
		// A deterministic spread of weights, checked against a brute-force search.
		let mut x: u128 = 7;
		for n in 4..12 {
			let weights: Vec<u128> = (0..n)
				.map(|_| {
					x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407)
						% 1_000;
					x + 1
				})
				.collect();
			let best = (0..=1_001u128)
				.rev()
				.find(|c| {
					let cut: Vec<u128> = weights.iter().map(|w| (*w).min(*c)).collect();
					share_ok(&cut)
				})
				.unwrap();
			let expected = if best >= *weights.iter().max().unwrap() { None } else { Some(best) };
			assert_eq!(cap_level(&weights, QUARTER), expected, "{weights:?}");
		}
	}

	#[test]
	fn no_weights_no_cap() {
		assert_eq!(cap_level(&[], QUARTER), None);
		assert_eq!(cap_level(&[0, 0, 0, 0], QUARTER), None);
	}
}
