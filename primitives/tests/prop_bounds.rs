//! Property tests of the vote thresholds (`bounds.rs`): the majority and two-thirds rules
//! agree with plain arithmetic wherever it does not overflow, are monotone in the power
//! for and against, and a majority for one side excludes a majority for the other.

use gonka_primitives::bounds::{is_at_least_half, is_majority, is_two_thirds};
use proptest::prelude::*;

/// Power small enough that `3 × power` fits `u128`, with ties likely.
fn small() -> impl Strategy<Value = u128> {
	prop_oneof![3 => 0..=1_000u128, 1 => 0..=(u128::MAX / 4)]
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(256))]

	/// Where nothing overflows, the rules are `2p > w`, `2p ≥ w` and `3p > 2w`.
	#[test]
	fn thresholds_agree_with_plain_arithmetic(part in small(), whole in small()) {
		prop_assert_eq!(is_majority(part, whole), part * 2 > whole);
		prop_assert_eq!(is_at_least_half(part, whole), part * 2 >= whole);
		prop_assert_eq!(is_two_thirds(part, whole), part * 3 > whole * 2);
	}

	/// More power for never loses a threshold; more total never wins one.
	#[test]
	fn thresholds_are_monotone(part in any::<u128>(), whole in any::<u128>(), more in any::<u128>()) {
		let (bigger, larger) = (part.saturating_add(more), whole.saturating_add(more));
		for rule in [is_majority, is_at_least_half, is_two_thirds] {
			prop_assert!(!rule(part, whole) || rule(bigger, whole));
			prop_assert!(!rule(part, larger) || rule(part, whole));
		}
	}

	/// Two disjoint parts of one total are never both a majority, nor both two thirds.
	#[test]
	fn two_sides_never_both_win(total in any::<u128>(), split in any::<u128>(), rest in any::<u128>()) {
		let valid = split % total.saturating_add(1);
		let invalid = rest % (total - valid).saturating_add(1);
		prop_assert!(!(is_majority(valid, total) && is_majority(invalid, total)));
		prop_assert!(!(is_two_thirds(valid, total) && is_two_thirds(invalid, total)));
	}

	/// Exact at any size: `p` beats `w / 2` for a majority of `w` and `2w / 3` for two
	/// thirds, checked against the quotient (no multiplication, no overflow).
	#[test]
	fn thresholds_are_exact_at_any_size(part in any::<u128>(), whole in any::<u128>()) {
		prop_assert_eq!(is_majority(part, whole), part > whole / 2);
		let two_thirds_floor = whole / 3 * 2 + (whole % 3) * 2 / 3;
		prop_assert_eq!(is_two_thirds(part, whole), part > two_thirds_floor);
	}
}
