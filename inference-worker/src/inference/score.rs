//! Replay scoring (`protocol.md`, "Inference", step 4): a validator re-scores the
//! executor's exact tokens with one teacher-forced pass (it never regenerates text),
//! checks the text and the prompt's token count, and replays the seeded sampler: at every
//! position, with the same draw, the executor's token must be the one the sampler picks
//! from the validator's distribution, or a neighbour when the draw lies within `epsilon`
//! of the boundary between them (kernels differ in the last bits). `similarity` is the
//! fraction of positions that pass. A completion must be complete (the chain's rule,
//! `completion_end`), and one that ends with an end token must end where the validator's
//! sampler would end it (within the tolerance, and for sampled decoding within the end
//! token's own probability): a completion cut short fails whole.

use super::{
	sampler::{self, Draws, SamplingParams},
	tokenizer::ChatTokenizer,
};
use crate::{model::Llama, Error, Result};
use gonka_primitives::inference::{completion_end, Ended, Unfinished};

/// What a validator is given: the request and the executor's result.
#[derive(Debug, Clone)]
pub struct Claim<'a> {
	/// The developer's prompt (before the template).
	pub prompt: &'a str,
	/// The sampling parameters of the request.
	pub params: SamplingParams,
	/// The prompt token count the executor reported.
	pub prompt_tokens: usize,
	/// The completion's token ids.
	pub completion_token_ids: &'a [u32],
	/// The request's limit on completion tokens.
	pub max_tokens: usize,
	/// The completion's text.
	pub text: &'a str,
}

/// How a completion replays.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
	/// Positions replayed.
	pub positions: usize,
	/// Positions whose token the sampler accepts.
	pub passed: usize,
	/// `passed / positions`.
	pub similarity: f64,
	/// Per position, how far the executor's token is from being the validator's own pick
	/// ([`distance`]): 0 when the validator's sampler picks it exactly. For calibrating
	/// the tolerance and for a validator's logs.
	pub distances: Vec<f64>,
}

/// Why a claim fails before any replay.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mismatch {
	/// The reported prompt token count is not the templated prompt's.
	#[error("the prompt has {actual} tokens, {claimed} were reported")]
	PromptTokens { claimed: usize, actual: usize },
	/// The text is not the detokenized completion.
	#[error("the text is not the completion's tokens detokenized")]
	Text,
	/// A token id outside the vocabulary.
	#[error("token id {0} is outside the vocabulary")]
	Token(u32),
	/// The completion is not complete: empty, stopped early without an end token, an end
	/// token before the last, or longer than `max_tokens`.
	#[error("the completion is not complete ({0:?})")]
	Unfinished(Unfinished),
	/// The completion ends with an end token that the validator's sampler would not have
	/// drawn there: the executor cut it short.
	#[error("the completion ends at position {position}, where the model goes on")]
	EarlyEnd { position: usize },
}

/// Replay tolerance: how far outside the token's interval (in cumulative probability) the
/// draw may fall for the token to pass, and for greedy decoding how far below the best
/// logit the chosen token's logit may be. Quantized kernels amplify rounding differences
/// (an activation rounded to the other 8-bit step), so an honest executor's logits can
/// differ from the validator's by tenths of a logit, not just in the last bits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
	/// In cumulative probability.
	pub draw: f64,
	/// In logits, greedy only.
	pub logit: f32,
}

impl Tolerance {
	/// The largest [`distance`] that passes for a request with `params`.
	pub fn limit(&self, params: &SamplingParams) -> f64 {
		if params.is_greedy() {
			f64::from(self.logit)
		} else {
			self.draw
		}
	}
}

/// The calibrated defaults (`docs/verification.md`): honest replays of SmolLM2 Q4_1 stay
/// within them at ≥ 99% of positions, a Q4_0 requantization passes ≤ 64% of its positions.
impl Default for Tolerance {
	fn default() -> Self {
		let calibration = crate::catalog::SMOLLM2_135M.calibration;
		Self { draw: calibration.draw_tolerance, logit: calibration.logit_tolerance }
	}
}

/// Scores a claim. `Ok(Err(mismatch))` when the claim fails its exact checks.
pub fn score(
	model: &Llama,
	tokenizer: &ChatTokenizer,
	claim: &Claim,
	tolerance: Tolerance,
) -> Result<std::result::Result<Score, Mismatch>> {
	claim.params.validate()?;
	let prompt_ids = tokenizer.chat_prompt(claim.prompt)?;
	if claim.prompt_tokens != prompt_ids.len() {
		return Ok(Err(Mismatch::PromptTokens {
			claimed: claim.prompt_tokens,
			actual: prompt_ids.len(),
		}));
	}
	let vocab = model.config().vocab;
	if let Some(bad) = claim.completion_token_ids.iter().find(|id| **id as usize >= vocab) {
		return Ok(Err(Mismatch::Token(*bad)));
	}
	if tokenizer.decode(claim.completion_token_ids)? != claim.text {
		return Ok(Err(Mismatch::Text));
	}
	replay(
		model,
		tokenizer,
		&prompt_ids,
		claim.completion_token_ids,
		claim.max_tokens,
		&claim.params,
		tolerance,
	)
}

/// Replays `completion` after the templated prompt `prompt_ids` (the strict rules of
/// [`score`] past its prompt and text checks: ids in the vocabulary, a complete
/// completion, an end where the model ends, then every position replayed). The channels'
/// validators call it with a conversation's ids; a channel's receipt carries no text.
pub fn replay(
	model: &Llama,
	tokenizer: &ChatTokenizer,
	prompt_ids: &[u32],
	completion: &[u32],
	max_tokens: usize,
	params: &SamplingParams,
	tolerance: Tolerance,
) -> Result<std::result::Result<Score, Mismatch>> {
	params.validate()?;
	let vocab = model.config().vocab;
	if let Some(bad) = completion.iter().find(|id| **id as usize >= vocab) {
		return Ok(Err(Mismatch::Token(*bad)));
	}
	let max_tokens = u32::try_from(max_tokens).unwrap_or(u32::MAX);
	let ended = match completion_end(completion, max_tokens, tokenizer.end_tokens()) {
		Ok(ended) => ended,
		Err(unfinished) => return Ok(Err(Mismatch::Unfinished(unfinished))),
	};
	if prompt_ids.is_empty() {
		return Err(Error::InvalidSampling("an empty prompt cannot be replayed".into()));
	}
	// Not empty: `completion_end` refuses an empty completion.
	let positions = completion.len();
	let context = model.config().context;
	if prompt_ids.len() + positions > context {
		return Err(Error::ContextExceeded {
			prompt_tokens: prompt_ids.len(),
			max_tokens: positions,
			context,
		});
	}
	// One pass over the prompt and every completion token but the last; the logits at
	// prompt position P − 1 + i predict completion token i.
	let mut sequence = prompt_ids.to_vec();
	sequence.extend_from_slice(&completion[..positions - 1]);
	let logits = model.token_logits(&sequence, None)?;
	let logits = logits.narrow(0, prompt_ids.len() - 1, positions)?.to_vec2::<f32>()?;
	let draws = Draws::new(params.seed);
	let distances: Vec<f64> = logits
		.iter()
		.zip(completion)
		.enumerate()
		.map(|(i, (row, token))| distance(row, *token, params, draws.at(i as u64)))
		.collect();
	let limit = tolerance.limit(params);
	// The end is checked on its own: a completion cut short and ended there fails whole,
	// however well its other positions replay. For sampled decoding the draw may miss the
	// end token's interval by no more than the tolerance and by no more than the token's
	// own probability: the end tokens have the lowest ids, so their intervals start near 0
	// in the cumulative order, and without the second bound an end appended wherever the
	// draw is below the tolerance (5% of positions) would pass, however unlikely the end.
	if ended == Ended::EndToken {
		let last = positions - 1;
		let end = completion[last];
		let end_limit = if params.is_greedy() {
			limit
		} else {
			let candidates = sampler::candidates(&logits[last], params);
			let probability = candidates.iter().find(|(id, _)| *id == end).map_or(0.0, |c| c.1);
			limit.min(probability)
		};
		if distances[last] > end_limit {
			return Ok(Err(Mismatch::EarlyEnd { position: last }));
		}
	}
	let passed = distances.iter().filter(|d| **d <= limit).count();
	Ok(Ok(Score { positions, passed, similarity: passed as f64 / positions as f64, distances }))
}

/// How far `token` is from being the sampler's pick from `logits` with draw `draw`: for
/// sampled decoding, the distance (in cumulative probability) from the draw to the token's
/// interval; for greedy decoding, how far (in logits) the token's logit is below the best.
/// 0 when the sampler picks `token`; infinite for a token outside the candidates.
pub fn distance(logits: &[f32], token: u32, params: &SamplingParams, draw: f64) -> f64 {
	let Some(&chosen) = logits.get(token as usize) else { return f64::INFINITY };
	if params.is_greedy() {
		let best = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
		return f64::from(best - chosen);
	}
	let mut low = 0.0;
	for (id, probability) in sampler::candidates(logits, params) {
		let high = low + probability;
		if id == token {
			return if draw < low {
				low - draw
			} else if draw >= high {
				draw - high
			} else {
				0.0
			};
		}
		low = high;
	}
	f64::INFINITY
}

/// Whether the sampler, with draw `draw`, picks `token` from `logits` (within tolerance).
pub fn accepts(
	logits: &[f32],
	token: u32,
	params: &SamplingParams,
	draw: f64,
	tolerance: Tolerance,
) -> bool {
	distance(logits, token, params, draw) <= tolerance.limit(params)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_draw_near_a_boundary_accepts_either_neighbour() {
		// Probabilities 0.5 / 0.25 / 0.25 (logits ln 2, 0, 0).
		let logits = [2f32.ln(), 0.0, 0.0];
		let params = SamplingParams { temperature: 1.0, top_p: 1.0, seed: 0 };
		let tolerance = Tolerance { draw: 1e-3, logit: 0.0 };
		assert!(accepts(&logits, 0, &params, 0.25, tolerance));
		assert!(!accepts(&logits, 1, &params, 0.25, tolerance));
		// Just below the boundary at 0.5: token 0 picks, token 1 passes within epsilon.
		assert!(accepts(&logits, 0, &params, 0.4995, tolerance));
		assert!(accepts(&logits, 1, &params, 0.4995, tolerance));
		assert!(!accepts(&logits, 2, &params, 0.4995, tolerance));
		assert!(!accepts(&logits, 0, &params, 0.6, tolerance));
		// A token outside the vocabulary never passes.
		assert!(!accepts(&logits, 7, &params, 0.1, tolerance));
	}

	#[test]
	fn the_distance_is_how_far_the_draw_lies_outside_the_interval() {
		// Intervals in id order: 0 → [0, 0.5), 1 → [0.5, 0.75), 2 → [0.75, 1).
		let logits = [2f32.ln(), 0.0, 0.0];
		let params = SamplingParams { temperature: 1.0, top_p: 1.0, seed: 0 };
		assert_eq!(distance(&logits, 1, &params, 0.6), 0.0);
		assert!((distance(&logits, 1, &params, 0.4) - 0.1).abs() < 1e-9);
		assert!((distance(&logits, 1, &params, 0.8) - 0.05).abs() < 1e-9);
		// Outside the vocabulary, or outside the nucleus: infinitely far.
		assert_eq!(distance(&logits, 9, &params, 0.6), f64::INFINITY);
		let nucleus = SamplingParams { top_p: 0.5, ..params };
		assert_eq!(distance(&logits, 2, &nucleus, 0.6), f64::INFINITY);
		// Greedy: logits below the best.
		assert!((distance(&[1.0, 3.0, 2.5], 2, &SamplingParams::GREEDY, 0.0) - 0.5).abs() < 1e-6);
	}

	#[test]
	fn greedy_accepts_the_best_token_or_a_near_tie() {
		let tolerance = Tolerance::default();
		let greedy = SamplingParams::GREEDY;
		// Default logit tolerance 0.3.
		assert!(accepts(&[1.0, 3.0, 2.8], 1, &greedy, 0.0, tolerance));
		assert!(accepts(&[1.0, 3.0, 2.8], 2, &greedy, 0.0, tolerance));
		assert!(!accepts(&[1.0, 3.0, 2.6], 2, &greedy, 0.0, tolerance));
		assert!(!accepts(&[1.0, 3.0, 2.6], 0, &greedy, 0.0, tolerance));
	}
}
