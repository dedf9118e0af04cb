//! The seeded sampler. Every draw comes from a counter-based generator (ChaCha20 keyed by
//! the request's seed, one block position per token position), so the executor and every
//! validator draw the same number at the same position without sharing any state, and a
//! validator can replay the executor's choices from its own logits.
//!
//! A draw `u ∈ [0, 1)` is an integer-exact conversion of 53 random bits. The candidates are
//! the tokens of the `top_p` nucleus in token-id order (see [`candidates`]); the token
//! picked is the one whose interval of their cumulative distribution holds `u`.

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

/// The candidates of one position: token ids with their probabilities, **in token-id
/// order**, restricted to the `top_p` nucleus.
///
/// Probabilities are `softmax(logits / T)` in f64. The nucleus is capped by mass: ranking
/// the tokens by probability (lower id first among equals), a token keeps
/// `clamp(top_p − mass ranked above it, 0, p)`, so the kept mass is exactly `top_p` and
/// only the token straddling the cut is trimmed. The kept weights are divided by `top_p`.
///
/// Both choices make every interval boundary a continuous function of the logits, which
/// is what lets a validator replay the draw within a small tolerance: in probability order
/// two near-equal tokens swapping places would move a boundary by a whole token's mass, and
/// renormalising by the kept mass would move every boundary when a tail token enters or
/// leaves the nucleus. In id order with a mass cap, a logit drift `δ` moves a boundary by at
/// most about `δ / T`. One jump remains: two near-equal tokens straddling the cut trade
/// their kept mass, which moves later boundaries by at most the smaller one's probability
/// (tail tokens are small; the replay's similarity threshold absorbs the rare large case).
pub fn candidates(logits: &[f32], params: &SamplingParams) -> Vec<(u32, f64)> {
	let temperature = f64::from(params.temperature.max(f32::MIN_POSITIVE));
	let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
	let mut weighted: Vec<(u32, f64)> = logits
		.iter()
		.enumerate()
		.map(|(id, logit)| (id as u32, ((f64::from(*logit) - f64::from(max)) / temperature).exp()))
		.collect();
	let total: f64 = weighted.iter().map(|(_, weight)| weight).sum();
	for (_, weight) in &mut weighted {
		*weight /= total;
	}
	let top_p = f64::from(params.top_p);
	if top_p < 1.0 {
		weighted.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
		let mut above = 0.0;
		for (_, probability) in &mut weighted {
			let kept = (top_p - above).clamp(0.0, *probability);
			above += *probability;
			*probability = kept / top_p;
		}
		weighted.retain(|(_, probability)| *probability > 0.0);
		weighted.sort_by_key(|(id, _)| *id);
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
	fn the_nucleus_keeps_exactly_top_p_of_the_mass() {
		// Probabilities 0.5, 0.25, 0.125, 0.125 at temperature 1.
		let logits = [2f32.ln() * 3.0, 2f32.ln() * 2.0, 2f32.ln(), 2f32.ln()];
		let params = SamplingParams { temperature: 1.0, top_p: 0.7, seed: 0 };
		let kept = candidates(&logits, &params);
		// 0.5 whole, then 0.2 of the 0.25: divided by 0.7.
		assert_eq!(kept.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![0, 1]);
		assert!((kept[0].1 - 0.5 / 0.7).abs() < 1e-6);
		assert!((kept[1].1 - 0.2 / 0.7).abs() < 1e-6);
		// Everything at top_p = 1, in id order, summing to 1.
		let all = candidates(&logits, &SamplingParams { top_p: 1.0, ..params });
		assert_eq!(all.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![0, 1, 2, 3]);
		assert!((all.iter().map(|(_, p)| p).sum::<f64>() - 1.0).abs() < 1e-12);
	}

	#[test]
	fn candidates_are_in_id_order_whatever_their_probabilities() {
		// Token 2 is the most likely, token 0 the least.
		let logits = [0.0, 1.0, 2.0];
		let params = SamplingParams { temperature: 1.0, top_p: 1.0, seed: 0 };
		let kept = candidates(&logits, &params);
		assert_eq!(kept.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![0, 1, 2]);
		assert!(kept[2].1 > kept[1].1 && kept[1].1 > kept[0].1);
	}

	#[test]
	fn near_tied_tokens_swapping_rank_move_no_boundary() {
		// Tokens 1 and 2 nearly tied, inside the nucleus (p = 0.570, 0.210, 0.210, 0.010;
		// the cut trims token 3): which one ranks first must not move the boundaries by
		// more than the drift itself.
		let params = SamplingParams { temperature: 1.0, top_p: 0.995, seed: 0 };
		let boundaries = |logits: &[f32]| {
			let mut low = 0.0;
			candidates(logits, &params)
				.into_iter()
				.map(|(id, p)| {
					low += p;
					(id, low)
				})
				.collect::<Vec<_>>()
		};
		let a = boundaries(&[3.0, 2.0, 2.0 + 1e-4, -1.0]);
		let b = boundaries(&[3.0, 2.0 + 1e-4, 2.0, -1.0]);
		assert_eq!(a.len(), b.len());
		for ((id_a, high_a), (id_b, high_b)) in a.iter().zip(&b) {
			assert_eq!(id_a, id_b);
			assert!((high_a - high_b).abs() < 1e-3, "{a:?} vs {b:?}");
		}
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
