//! Reproducible randomness for Proof of Compute: every host and validator must draw the
//! same inputs bit for bit, on any CPU or GPU host. Uniforms come from ChaCha20 (a
//! counter-based generator) as integer-exact 53-bit fractions; normals from Box–Muller with
//! a logarithm, sine and cosine computed here from `+ − × ÷` and `sqrt` only (all
//! correctly rounded by IEEE 754), never from the platform's libm, whose results differ
//! between systems in the last bits.

use rand_chacha::{
	rand_core::{RngCore, SeedableRng},
	ChaCha20Rng,
};

const TWO_TO_MINUS_53: f64 = 1.0 / (1u64 << 53) as f64;
const LN_2: f64 = core::f64::consts::LN_2;
const FRAC_1_SQRT_2: f64 = core::f64::consts::FRAC_1_SQRT_2;
const FRAC_PI_4: f64 = core::f64::consts::FRAC_PI_4;

/// `count` standard-normal values drawn from the generator keyed by `key`, as f32.
pub fn normals(key: &[u8; 32], count: usize) -> Vec<f32> {
	let mut rng = ChaCha20Rng::from_seed(*key);
	let mut values = Vec::with_capacity(count + 1);
	while values.len() < count {
		// u1 ∈ (0, 1] so that its logarithm is finite; u2 ∈ [0, 1).
		let u1 = ((rng.next_u64() >> 11) + 1) as f64 * TWO_TO_MINUS_53;
		let u2 = (rng.next_u64() >> 11) as f64 * TWO_TO_MINUS_53;
		let radius = (-2.0 * ln(u1)).sqrt();
		let (sin, cos) = sin_cos_turns(u2);
		values.push((radius * cos) as f32);
		values.push((radius * sin) as f32);
	}
	values.truncate(count);
	values
}

/// A unit vector of `len` coordinates drawn from `key` (normals, normalised in f64).
pub fn unit_vector(key: &[u8; 32], len: usize) -> Vec<f32> {
	let values = normals(key, len);
	let norm = values.iter().map(|v| f64::from(*v) * f64::from(*v)).sum::<f64>().sqrt();
	values.iter().map(|v| (f64::from(*v) / norm) as f32).collect()
}

/// Natural logarithm of a positive, finite, normal `x`.
pub fn ln(x: f64) -> f64 {
	debug_assert!(x > 0.0 && x.is_finite());
	let bits = x.to_bits();
	let mut exponent = ((bits >> 52) & 0x7ff) as i64 - 1023;
	// The mantissa as a number in [1, 2), then moved into [1/√2, √2).
	let mut mantissa = f64::from_bits((bits & ((1u64 << 52) - 1)) | (1023u64 << 52));
	if mantissa > core::f64::consts::SQRT_2 {
		mantissa /= 2.0;
		exponent += 1;
	}
	// ln(m) = 2·atanh(s) = 2·(s + s³/3 + s⁵/5 + …) with s = (m − 1)/(m + 1), |s| ≤ 0.1716:
	// eleven terms leave an error below 10⁻¹⁷.
	let s = (mantissa - 1.0) / (mantissa + 1.0);
	let s2 = s * s;
	let mut series = 0.0;
	for k in (0..11).rev() {
		series = series * s2 + 1.0 / (2 * k + 1) as f64;
	}
	exponent as f64 * LN_2 + 2.0 * s * series
}

/// `sin(2π·turns)` and `cos(2π·turns)` for `turns ∈ [0, 1)`.
pub fn sin_cos_turns(turns: f64) -> (f64, f64) {
	debug_assert!((0.0..1.0).contains(&turns));
	// Eighths of a turn: `8·turns` and its floor are exact, so is the remainder.
	let eighths = turns * 8.0;
	let octant = eighths.floor();
	let theta = (eighths - octant) * FRAC_PI_4;
	let (sin_theta, cos_theta) = sin_cos_small(theta);
	// sin and cos of octant·π/4, exactly representable up to 1/√2.
	let (sin_base, cos_base) = match octant as u32 {
		0 => (0.0, 1.0),
		1 => (FRAC_1_SQRT_2, FRAC_1_SQRT_2),
		2 => (1.0, 0.0),
		3 => (FRAC_1_SQRT_2, -FRAC_1_SQRT_2),
		4 => (0.0, -1.0),
		5 => (-FRAC_1_SQRT_2, -FRAC_1_SQRT_2),
		6 => (-1.0, 0.0),
		_ => (-FRAC_1_SQRT_2, FRAC_1_SQRT_2),
	};
	(sin_base * cos_theta + cos_base * sin_theta, cos_base * cos_theta - sin_base * sin_theta)
}

/// Taylor series of sine and cosine for `θ ∈ [0, π/4)`, to θ¹⁹ and θ¹⁸ (error < 10⁻¹⁸).
fn sin_cos_small(theta: f64) -> (f64, f64) {
	let t2 = theta * theta;
	let (mut sin, mut cos) = (0.0, 0.0);
	// sin: Σ (−1)^k θ^(2k+1)/(2k+1)!, cos: Σ (−1)^k θ^(2k)/(2k)!, by Horner from k = 9.
	for k in (0..10usize).rev() {
		let sign = if k % 2 == 0 { 1.0 } else { -1.0 };
		sin = sin * t2 + sign * INVERSE_FACTORIALS[2 * k + 1];
		cos = cos * t2 + sign * INVERSE_FACTORIALS[2 * k];
	}
	(sin * theta, cos)
}

/// `1 / n!` for `n = 0..20`, evaluated by the compiler (IEEE arithmetic, same everywhere).
const INVERSE_FACTORIALS: [f64; 20] = {
	let mut table = [1.0; 20];
	let mut factorial = 1.0;
	let mut n = 1;
	while n < 20 {
		factorial *= n as f64;
		table[n] = 1.0 / factorial;
		n += 1;
	}
	table
};

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_software_logarithm_matches_the_true_one() {
		for x in [1e-16, 2f64.powi(-53), 0.1, 0.5, 0.7, 1.0, 1.5, 2.0, 1e10] {
			assert!((ln(x) - x.ln()).abs() <= 4.0 * f64::EPSILON * x.ln().abs().max(1.0), "{x}");
		}
		assert_eq!(ln(1.0), 0.0);
	}

	#[test]
	fn the_software_sine_and_cosine_match_the_true_ones() {
		for i in 0..1000 {
			let turns = i as f64 / 1000.0;
			let (sin, cos) = sin_cos_turns(turns);
			let angle = turns * 2.0 * core::f64::consts::PI;
			assert!((sin - angle.sin()).abs() < 1e-15, "{turns}");
			assert!((cos - angle.cos()).abs() < 1e-15, "{turns}");
		}
	}

	#[test]
	fn normals_are_reproducible_and_standard() {
		let key = [3u8; 32];
		let values = normals(&key, 100_001);
		assert_eq!(values, normals(&key, 100_001));
		assert_eq!(values[..10], normals(&key, 10)[..]);
		assert_ne!(values[..10], normals(&[4u8; 32], 10)[..]);
		let n = values.len() as f64;
		let mean = values.iter().map(|v| f64::from(*v)).sum::<f64>() / n;
		let variance = values.iter().map(|v| (f64::from(*v) - mean).powi(2)).sum::<f64>() / n;
		// Standard errors: 0.003 for the mean, 0.0045 for the variance.
		assert!(mean.abs() < 0.02, "mean {mean}");
		assert!((variance - 1.0).abs() < 0.03, "variance {variance}");
	}

	#[test]
	fn a_unit_vector_has_length_one() {
		let v = unit_vector(&[9u8; 32], 576);
		let norm = v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
		assert!((norm - 1.0).abs() < 1e-6);
	}
}
