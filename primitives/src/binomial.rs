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

/// The most trials [`rejects_any_size`] looks at: larger counts are scaled down to this
/// many at the same failure rate (a more lenient test, with bounded work).
pub const MAX_SCALED_TRIALS: u32 = 100_000;

/// Whether `k` failures in `n` trials reject "fails with probability at most `p`" at level
/// `p_value` (`P(X ≥ k) < p_value`), for any `n`: the downtime test, whose counts reach
/// the thousands where [`upper_tail`]'s `(1 - p)^n` underflows.
///
/// The masses are computed relative to the mode (`P(X = mode)` is one, 10^18 units), up
/// and down by the ratio of neighbouring masses until they fall below one unit, so the
/// test costs O(√n) steps (about 18 standard deviations). `n` above
/// [`MAX_SCALED_TRIALS`] is scaled down to it with `k` at the same rate, rounded down.
pub fn rejects_any_size(n: u32, k: u32, p: Perbill, p_value: Perbill) -> bool {
	const MODE: u128 = 1_000_000_000_000_000_000;
	if k == 0 || p.is_one() {
		return false; // P(X ≥ 0) = 1, or every trial fails
	}
	if k > n || p.is_zero() {
		return !p_value.is_zero(); // P(X ≥ k) = 0
	}
	let (n, k) = if n > MAX_SCALED_TRIALS {
		let scaled = u64::from(k) * u64::from(MAX_SCALED_TRIALS) / u64::from(n);
		(MAX_SCALED_TRIALS, scaled as u32)
	} else {
		(n, k)
	};
	if k == 0 {
		return false;
	}
	let p_parts = u128::from(p.deconstruct());
	let q_parts = BILLION - p_parts;
	let mode = ((u128::from(n) + 1) * p_parts / BILLION).min(u128::from(n)) as u32;
	let (mut total, mut tail) = (0u128, 0u128);
	// Up from the mode: P(X = i+1) = P(X = i) · (n - i)·p / ((i + 1)·q).
	let (mut mass, mut i) = (MODE, mode);
	while mass > 0 {
		total += mass;
		if i >= k {
			tail += mass;
		}
		if i == n {
			break;
		}
		mass = mass * u128::from(n - i) * p_parts / (u128::from(i + 1) * q_parts);
		i += 1;
	}
	// Down from the mode: P(X = i-1) = P(X = i) · i·q / ((n - i + 1)·p).
	let (mut mass, mut i) = (MODE, mode);
	while i > 0 {
		mass = mass * u128::from(i) * q_parts / (u128::from(n - i + 1) * p_parts);
		i -= 1;
		if mass == 0 {
			break;
		}
		total += mass;
		if i >= k {
			tail += mass;
		}
	}
	tail * BILLION < u128::from(p_value.deconstruct()) * total
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
	fn any_size_test_agrees_with_the_exact_tail() {
		// Wherever the exact test computes, the mode-relative one decides the same.
		for (n, p) in [(90, 40), (60, 42), (40, 50), (200, 5), (200, 10), (30, 70)] {
			let p = Perbill::from_percent(p);
			for alpha in [Perbill::from_percent(5), Perbill::from_percent(1)] {
				for k in 0..=n + 1 {
					let exact = upper_tail(n, k, p).unwrap() < probability(alpha);
					assert_eq!(rejects_any_size(n, k, p, alpha), exact, "n {n} k {k} p {p:?}");
				}
			}
		}
	}

	#[test]
	fn any_size_test_handles_large_counts() {
		let (p, alpha) = (Perbill::from_percent(40), Perbill::from_percent(5));
		// Bin(10,000, 0.4): mean 4,000, σ = 49; the 5% critical count is mean + 1.645σ ≈ 4,081.
		assert!(!rejects_any_size(10_000, 4_075, p, alpha));
		assert!(rejects_any_size(10_000, 4_085, p, alpha));
		assert!(rejects_any_size(10_000, 10_000, p, alpha));
		assert!(!rejects_any_size(10_000, 0, p, alpha));
		// Beyond MAX_SCALED_TRIALS the rate is what counts: 45% of u32::MAX fails, 40% passes.
		assert!(rejects_any_size(u32::MAX, u32::MAX / 100 * 45, p, alpha));
		assert!(!rejects_any_size(u32::MAX, u32::MAX / 100 * 40, p, alpha));
		// Edges.
		assert!(!rejects_any_size(0, 0, p, alpha));
		assert!(rejects_any_size(10, 11, p, alpha));
		assert!(!rejects_any_size(10, 10, Perbill::one(), alpha));
		assert!(rejects_any_size(10, 1, Perbill::zero(), alpha));
		assert!(!rejects_any_size(10, 10, p, Perbill::zero()));
	}

	#[test]
	fn tail_decreases_with_k() {
		let p = Perbill::from_percent(5);
		let tails: Vec<u128> = (0..=200).map(|k| upper_tail(200, k, p).unwrap()).collect();
		assert!(tails.windows(2).all(|w| w[0] >= w[1]));
	}
}
