//! The seeded sampler. Every draw comes from a counter-based generator (ChaCha20 keyed by
//! the request's seed, one block position per token position), so the executor and every
//! validator draw the same number at the same position without sharing any state, and a
//! validator can replay the executor's choices from its own logits.
//!
//! A draw `u ∈ [0, 1)` is an integer-exact conversion of 53 random bits. The candidates are
//! the tokens sorted by probability (highest first, lower id first among equals), cut to
//! the smallest prefix whose mass reaches `top_p`; the token picked is the one whose
//! interval of the cumulative distribution holds `u`.

use crate::{Error, Result};
use rand_chacha::{
	rand_core::{RngCore, SeedableRng},
	ChaCha20Rng,
};
use sha2::{Digest, Sha256};

/// Domain of the sampler's key derivation.
const DOMAIN: &[u8] = b"gonka/sampler/v1";

/// How a completion is sampled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SamplingParams {
	/// Softmax temperature; `0` means greedy (always the most likely token).
	pub temperature: f32,
	/// Nucleus mass in `(0, 1]`; `1` keeps every token.
	pub top_p: f32,
	/// The request's seed.
	pub seed: u64,
}

impl SamplingParams {
	/// Greedy decoding.
	pub const GREEDY: Self = Self { temperature: 0.0, top_p: 1.0, seed: 0 };

	/// Checks the ranges.
	pub fn validate(&self) -> Result<()> {
		if !self.temperature.is_finite() || self.temperature < 0.0 {
			return Err(Error::InvalidSampling(format!(
				"temperature {} must be a finite number ≥ 0",
				self.temperature
			)));
		}
		if !(self.top_p > 0.0 && self.top_p <= 1.0) {
			return Err(Error::InvalidSampling(format!("top_p {} must be in (0, 1]", self.top_p)));
		}
		Ok(())
	}

	/// Whether this is greedy decoding.
	pub fn is_greedy(&self) -> bool {
		self.temperature == 0.0
	}
}

/// The counter-based generator of one request.
#[derive(Clone)]
pub struct Draws {
	key: [u8; 32],
}

impl Draws {
	/// The generator of the request seeded with `seed`.
	pub fn new(seed: u64) -> Self {
		let mut hasher = Sha256::new();
		hasher.update(DOMAIN);
		hasher.update(seed.to_le_bytes());
		Self { key: hasher.finalize().into() }
	}

	/// The uniform draw in `[0, 1)` at completion position `position`.
	pub fn at(&self, position: u64) -> f64 {
		let mut rng = ChaCha20Rng::from_seed(self.key);
		// 16 words per ChaCha block: one block per position.
		rng.set_word_pos(u128::from(position) * 16);
		(rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
	}
}

/// The candidates of one position: token ids with their probabilities, highest first,
/// cut to the `top_p` nucleus and renormalised.
pub fn candidates(logits: &[f32], params: &SamplingParams) -> Vec<(u32, f64)> {
	let temperature = f64::from(params.temperature.max(f32::MIN_POSITIVE));
	let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
	let mut weighted: Vec<(u32, f64)> = logits
		.iter()
		.enumerate()
		.map(|(id, logit)| (id as u32, ((f64::from(*logit) - f64::from(max)) / temperature).exp()))
		.collect();
	weighted.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
	let total: f64 = weighted.iter().map(|(_, weight)| weight).sum();
	let nucleus = f64::from(params.top_p) * total;
	let mut kept = 0.0;
	let mut cut = weighted.len();
	for (i, (_, weight)) in weighted.iter().enumerate() {
		kept += weight;
		if kept >= nucleus {
			cut = i + 1;
			break;
		}
	}
	weighted.truncate(cut);
	let kept: f64 = weighted.iter().map(|(_, weight)| weight).sum();
	for (_, weight) in &mut weighted {
		*weight /= kept;
	}
	weighted
}

/// The token whose cumulative interval holds `draw`.
pub fn pick(candidates: &[(u32, f64)], draw: f64) -> u32 {
	let mut cumulative = 0.0;
	for (id, probability) in candidates {
		cumulative += probability;
		if draw < cumulative {
			return *id;
		}
	}
	candidates.last().map_or(0, |(id, _)| *id)
}

/// The next token from `logits` at completion position `position`.
pub fn sample(logits: &[f32], params: &SamplingParams, draws: &Draws, position: u64) -> u32 {
	if params.is_greedy() {
		return argmax(logits);
	}
	pick(&candidates(logits, params), draws.at(position))
}

/// The index of the largest logit (the lowest index among equals).
pub fn argmax(logits: &[f32]) -> u32 {
	let mut best = 0usize;
	for (i, logit) in logits.iter().enumerate() {
		if *logit > logits[best] {
			best = i;
		}
	}
	best as u32
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn draws_are_a_function_of_seed_and_position_only() {
		let draws = Draws::new(7);
		let forward: Vec<f64> = (0..64).map(|i| draws.at(i)).collect();
		let backward: Vec<f64> = (0..64).rev().map(|i| Draws::new(7).at(i)).collect();
		assert_eq!(forward, backward.into_iter().rev().collect::<Vec<_>>());
		assert_ne!(Draws::new(8).at(0), forward[0]);
		assert!(forward.iter().all(|u| (0.0..1.0).contains(u)));
		// Not constant: the draws spread over [0, 1).
		let mean = forward.iter().sum::<f64>() / 64.0;
		assert!((0.3..0.7).contains(&mean), "{mean}");
	}

	#[test]
	fn the_nucleus_keeps_the_smallest_prefix_reaching_top_p() {
		// Probabilities 0.5, 0.25, 0.125, 0.125 at temperature 1.
		let logits = [2f32.ln() * 3.0, 2f32.ln() * 2.0, 2f32.ln(), 2f32.ln()];
		let params = SamplingParams { temperature: 1.0, top_p: 0.7, seed: 0 };
		let kept = candidates(&logits, &params);
		assert_eq!(kept.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![0, 1]);
		assert!((kept[0].1 - 2.0 / 3.0).abs() < 1e-9);
		// Equal probabilities: the lower id first.
		let all = candidates(&logits, &SamplingParams { top_p: 1.0, ..params });
		assert_eq!(all.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![0, 1, 2, 3]);
	}

	#[test]
	fn pick_follows_the_cumulative_intervals() {
		let candidates = [(5, 0.5), (9, 0.25), (1, 0.25)];
		assert_eq!(pick(&candidates, 0.0), 5);
		assert_eq!(pick(&candidates, 0.4999), 5);
		assert_eq!(pick(&candidates, 0.5), 9);
		assert_eq!(pick(&candidates, 0.7499), 9);
		assert_eq!(pick(&candidates, 0.9999), 1);
	}

	#[test]
	fn greedy_takes_the_most_likely_token() {
		assert_eq!(sample(&[0.1, 3.0, 2.9], &SamplingParams::GREEDY, &Draws::new(0), 0), 1);
		assert_eq!(argmax(&[1.0, 1.0]), 0);
	}

	#[test]
	fn bad_sampling_parameters_are_refused() {
		for (temperature, top_p) in [(-1.0, 1.0), (f32::NAN, 1.0), (1.0, 0.0), (1.0, 1.5)] {
			let params = SamplingParams { temperature, top_p, seed: 0 };
			assert!(matches!(params.validate(), Err(Error::InvalidSampling(_))), "{params:?}");
		}
		assert!(SamplingParams::GREEDY.validate().is_ok());
	}
}
