//! The worker's one-sided binomial test (`protocol.md`, "Validation").
//!
//! A validator recomputes `n` sampled artifacts of a host and counts `k` mismatches. Under
//! the null hypothesis (an honest host) each sample mismatches with probability at most
//! `p_mismatch`. The host is judged invalid when the test rejects the null hypothesis at
//! level `p_value`: `P(X ≥ k) < p_value` for `X ~ Binomial(n, p_mismatch)`.
//!
//! Everything is integer arithmetic on probabilities in units of 10^-36, so every validator
//! reaches the same verdict from the same counts on any machine. The probability of no
//! mismatch, `(1 - p)^n`, must stay above 10^-21 (for `n = 200`: `p_mismatch ≤ 21%`), or the
//! rounding could matter; beyond that the functions return [`BinomialError::OutOfRange`].

use polkadot_sdk::sp_arithmetic::{
	helpers_128bit::multiply_by_rational_with_rounding, Perbill, Rounding,
};

/// Probability one, in the units the test computes in.
pub const PROB_ONE: u128 = 1_000_000_000_000_000_000_000_000_000_000_000_000;
/// The smallest `(1 - p)^n` (in units of [`PROB_ONE`]) the test accepts: 10^-21.
pub const MIN_NO_MISMATCH_PROBABILITY: u128 = 1_000_000_000_000_000;
const BILLION: u128 = 1_000_000_000;

/// Why a test could not be computed exactly enough.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinomialError {
	/// `(1 - p_mismatch)^n` is below [`MIN_NO_MISMATCH_PROBABILITY`]: use fewer samples or a
	/// smaller `p_mismatch`.
	OutOfRange { trials: u32, p_mismatch: Perbill },
}

/// `a · b / c`, rounded down; `b / c ≤ n` here, so the result never exceeds `a · n`.
fn mul_ratio(a: u128, b: u128, c: u128) -> u128 {
	multiply_by_rational_with_rounding(a, b, c, Rounding::Down).unwrap_or(u128::MAX)
}

/// The probability masses `P(X = 0), P(X = 1), …` of `X ~ Binomial(n, p)` for `0 < p < 1`.
fn masses(n: u32, p: Perbill) -> Result<impl Iterator<Item = u128>, BinomialError> {
	let p_parts = u128::from(p.deconstruct());
	let q_parts = BILLION - p_parts;
	let mut mass = PROB_ONE;
	for _ in 0..n {
		mass = mul_ratio(mass, q_parts, BILLION);
	}
	if mass < MIN_NO_MISMATCH_PROBABILITY {
		return Err(BinomialError::OutOfRange { trials: n, p_mismatch: p });
	}
	let mut i: u32 = 0;
	Ok(core::iter::from_fn(move || {
		if i > n {
			return None;
		}
		let current = mass;
		// P(X = i+1) = P(X = i) · (n - i) / (i + 1) · p / (1 - p).
		mass = mul_ratio(mass, u128::from(n - i) * p_parts, u128::from(i + 1) * q_parts);
		i += 1;
		Some(current)
	}))
}

/// `P(X ≥ k)` for `X ~ Binomial(n, p)`, in units of [`PROB_ONE`].
pub fn upper_tail(n: u32, k: u32, p: Perbill) -> Result<u128, BinomialError> {
	if k == 0 {
		return Ok(PROB_ONE);
	}
	if k > n || p.is_zero() {
		return Ok(0);
	}
	if p.is_one() {
		return Ok(PROB_ONE);
	}
	let below_k = masses(n, p)?.take(k as usize).fold(0u128, u128::saturating_add);
	Ok(PROB_ONE.saturating_sub(below_k))
}

/// Whether `k` mismatches in `n` samples reject "this host mismatches with probability at
/// most `p_mismatch`" at level `p_value`, i.e. whether the host is judged invalid.
pub fn rejects(
	n: u32,
	k: u32,
	p_mismatch: Perbill,
	p_value: Perbill,
) -> Result<bool, BinomialError> {
	Ok(upper_tail(n, k, p_mismatch)? < probability(p_value))
}

/// The fewest mismatches in `n` samples that reject at level `p_value`; `n + 1` when no
/// count does (`p_value` zero).
pub fn critical_mismatches(
	n: u32,
	p_mismatch: Perbill,
	p_value: Perbill,
) -> Result<u32, BinomialError> {
	let alpha = probability(p_value);
	for k in 0..=n {
		if upper_tail(n, k, p_mismatch)? < alpha {
			return Ok(k);
		}
	}
	Ok(n + 1)
}

fn probability(p: Perbill) -> u128 {
	u128::from(p.deconstruct()) * (PROB_ONE / BILLION)
}

#[cfg(test)]
mod tests {
	use super::*;

	/// Within 10^-20 of the exact value (computed with rational arithmetic).
	fn assert_close(actual: u128, exact: u128) {
		let tolerance = PROB_ONE / 100_000_000_000_000_000_000;
		assert!(actual.abs_diff(exact) <= tolerance, "{actual} vs exact {exact}");
	}

	#[test]
	fn upper_tail_matches_exact_values() {
		// P(X ≥ 8), X ~ Bin(10, 1/2) = 56/1024.
		assert_close(upper_tail(10, 8, Perbill::from_percent(50)).unwrap(), PROB_ONE / 1024 * 56);
		// P(X ≥ 5), X ~ Bin(200, 1/100), exact to 36 digits.
		assert_close(
			upper_tail(200, 5, Perbill::from_percent(1)).unwrap(),
			51_746_263_630_785_888_462_141_492_540_488_474,
		);
	}

	#[test]
	fn critical_mismatches_match_exact_values() {
		let pct = Perbill::from_percent;
		assert_eq!(critical_mismatches(200, pct(1), pct(5)), Ok(6));
		assert_eq!(critical_mismatches(200, pct(10), pct(5)), Ok(28));
		assert_eq!(
			critical_mismatches(200, Perbill::from_perthousand(1), Perbill::from_parts(1_000)),
			Ok(6)
		);
		assert_eq!(critical_mismatches(10, pct(50), pct(5)), Ok(9));
	}

	#[test]
	fn rejects_exactly_from_the_critical_count() {
		let (p, alpha) = (Perbill::from_percent(1), Perbill::from_percent(5));
		assert_eq!(rejects(200, 5, p, alpha), Ok(false));
		assert_eq!(rejects(200, 6, p, alpha), Ok(true));
		assert_eq!(rejects(200, 0, p, alpha), Ok(false));
		assert_eq!(rejects(200, 200, p, alpha), Ok(true));
	}

	#[test]
	fn a_four_percent_faker_is_rejected_and_an_honest_host_is_not() {
		// 200 samples, honest mismatch rate below 0.1%, test at 10^-6.
		let (p, alpha) = (Perbill::from_perthousand(1), Perbill::from_parts(1_000));
		assert_eq!(rejects(200, 8, p, alpha), Ok(true), "~8 mismatches from 4% fakes");
		assert_eq!(rejects(200, 1, p, alpha), Ok(false), "one honest outlier");
	}

	#[test]
	fn edge_probabilities() {
		assert_eq!(upper_tail(200, 0, Perbill::from_percent(1)), Ok(PROB_ONE));
		assert_eq!(upper_tail(200, 201, Perbill::from_percent(1)), Ok(0));
		assert_eq!(upper_tail(200, 1, Perbill::zero()), Ok(0));
		assert_eq!(upper_tail(200, 200, Perbill::one()), Ok(PROB_ONE));
		assert_eq!(upper_tail(0, 0, Perbill::from_percent(1)), Ok(PROB_ONE));
		assert_eq!(critical_mismatches(10, Perbill::from_percent(1), Perbill::zero()), Ok(11));
	}

	#[test]
	fn out_of_range_parameters_are_refused_not_misjudged() {
		let p = Perbill::from_percent(50);
		assert_eq!(
			upper_tail(200, 150, p),
			Err(BinomialError::OutOfRange { trials: 200, p_mismatch: p })
		);
		assert!(rejects(200, 1, Perbill::from_percent(30), Perbill::from_percent(5)).is_err());
		assert!(rejects(200, 1, Perbill::from_percent(20), Perbill::from_percent(5)).is_ok());
	}

	#[test]
	fn tail_decreases_with_k() {
		let p = Perbill::from_percent(5);
		let tails: Vec<u128> = (0..=200).map(|k| upper_tail(200, k, p).unwrap()).collect();
		assert!(tails.windows(2).all(|w| w[0] >= w[1]));
	}
}
