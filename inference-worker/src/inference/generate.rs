//! Local generation: the templated prompt in one pass (prefill), then one token at a time
//! with the KV cache (decode), sampled by [`super::sampler`]. Used by `gonka-worker
//! generate` for hosts checking their setup, and by the benchmarks.

use super::{
	sampler::{self, Draws, SamplingParams},
	tokenizer::ChatTokenizer,
};
use crate::{
	model::{KvCache, Llama},
	Error, Result,
};
use serde::Serialize;
use std::time::Instant;

/// A finished generation and how fast it ran.
#[derive(Debug, Clone, Serialize)]
pub struct Generation {
	/// The templated prompt's token ids.
	pub prompt_token_ids: Vec<u32>,
	/// The completion's token ids: the end token last when the model ended its turn,
	/// otherwise exactly `max_tokens` tokens (`gonka_primitives::inference::completion_end`).
	pub completion_token_ids: Vec<u32>,
	/// The request's limit on completion tokens.
	pub max_tokens: usize,
	/// The completion's text.
	pub text: String,
	/// Prompt tokens per second in the prefill pass.
	pub prefill_tok_s: f64,
	/// Completion tokens per second after the first (each one a decode step).
	pub decode_tok_s: f64,
}

/// Generates up to `max_tokens` tokens answering `prompt`.
pub fn generate(
	model: &Llama,
	tokenizer: &ChatTokenizer,
	prompt: &str,
	max_tokens: usize,
	params: &SamplingParams,
) -> Result<Generation> {
	let prompt_token_ids = tokenizer.chat_prompt(prompt)?;
	generate_from(model, tokenizer, prompt_token_ids, max_tokens, params, &mut |_| Ok(()))
}

/// Generates up to `max_tokens` tokens after the templated prompt `prompt_token_ids`,
/// calling `on_token` with each completion token as soon as it is drawn (an executor
/// streams them; an error from it stops the generation).
pub fn generate_from(
	model: &Llama,
	tokenizer: &ChatTokenizer,
	prompt_token_ids: Vec<u32>,
	max_tokens: usize,
	params: &SamplingParams,
	on_token: &mut dyn FnMut(u32) -> Result<()>,
) -> Result<Generation> {
	params.validate()?;
	let context = model.config().context;
	if prompt_token_ids.len().saturating_add(max_tokens) > context {
		return Err(Error::ContextExceeded {
			prompt_tokens: prompt_token_ids.len(),
			max_tokens,
			context,
		});
	}
	let draws = Draws::new(params.seed);
	let mut cache = KvCache::new();
	let mut completion_token_ids = Vec::with_capacity(max_tokens);

	let started = Instant::now();
	let hidden =
		model.forward(model.embed(&prompt_token_ids)?, Some(&mut cache), &mut |_, x| Ok(x))?;
	let mut logits = model.last_logits(&hidden)?.to_vec1::<f32>()?;
	let prefill = started.elapsed();

	let started = Instant::now();
	let mut decode_steps = 0usize;
	for position in 0..max_tokens {
		let token = sampler::sample(&logits, params, &draws, position as u64);
		completion_token_ids.push(token);
		on_token(token)?;
		if tokenizer.is_end(token) || position + 1 == max_tokens {
			break;
		}
		let hidden = model.forward(model.embed(&[token])?, Some(&mut cache), &mut |_, x| Ok(x))?;
		logits = model.last_logits(&hidden)?.to_vec1::<f32>()?;
		decode_steps += 1;
	}
	let decode = started.elapsed();

	let text = tokenizer.decode(&completion_token_ids)?;
	Ok(Generation {
		prefill_tok_s: prompt_token_ids.len() as f64 / prefill.as_secs_f64(),
		decode_tok_s: if decode_steps == 0 {
			0.0
		} else {
			decode_steps as f64 / decode.as_secs_f64()
		},
		prompt_token_ids,
		completion_token_ids,
		max_tokens,
		text,
	})
}
