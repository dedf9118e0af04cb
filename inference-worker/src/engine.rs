//! The loaded model as the duties see it: [`ModelEngine`] is the inference duties'
//! [`Engine`] (executing with [`crate::inference::generate`], replaying with
//! [`crate::inference::score`]) and the PoC duties' [`Prover`] (artifacts with
//! [`crate::poc::PocEngine`]). It is to the model what
//! [`crate::chain`] is to the node.

use crate::{
	channel::prompt::ChatMessage,
	duty::{artifacts::ARTIFACT_BYTES, poc::Prover, Engine, Execution, RequestInfo},
	inference::{
		generate::{generate, generate_from},
		sampler::SamplingParams,
		score::{replay, score, Claim, Tolerance},
		tokenizer::ChatTokenizer,
	},
	model::Llama,
	poc::PocEngine,
	Error, Result,
};
use gonka_primitives::{
	inference::{RequestId, SamplingParams as ChainSampling},
	HostId, ModelId, H256,
};
use polkadot_sdk::sp_arithmetic::{PerThing, Perbill};

/// A loaded model serving one on-chain model id.
pub struct ModelEngine {
	/// The on-chain id of the model it serves.
	pub model_id: ModelId,
	/// The forward pass.
	pub model: Llama,
	/// Its tokenizer and chat template.
	pub tokenizer: ChatTokenizer,
	/// The replay tolerance of the model's calibration.
	pub tolerance: Tolerance,
}

/// The sampler's parameters of a request: the chain's integer temperature and nucleus, and
/// the request id as the seed (`docs/inference.md`).
pub fn sampling(request: RequestId, info: &RequestInfo) -> SamplingParams {
	sampler_params(&info.params, request)
}

/// The sampler's parameters of the chain's integer temperature and nucleus, with `seed`.
pub fn sampler_params(params: &ChainSampling, seed: u64) -> SamplingParams {
	let top_p = f64::from(params.top_p.deconstruct()) / f64::from(Perbill::ACCURACY);
	SamplingParams {
		temperature: params.temperature_milli as f32 / 1000.0,
		top_p: top_p as f32,
		seed,
	}
}

/// The channels' executor runs the model through [`crate::api::channels::ChannelEndpoint`].
impl crate::api::channels::Generator for ModelEngine {
	fn prompt_ids(&self, messages: &[ChatMessage]) -> Result<Vec<u32>> {
		self.tokenizer.chat_conversation(&crate::channel::prompt::turns(messages))
	}

	fn generate(
		&self,
		prompt_ids: Vec<u32>,
		max_tokens: u32,
		params: &SamplingParams,
		on_token: &mut dyn FnMut(u32),
	) -> Result<Vec<u32>> {
		let generation = generate_from(
			&self.model,
			&self.tokenizer,
			prompt_ids,
			max_tokens as usize,
			params,
			&mut |id| {
				on_token(id);
				Ok(())
			},
		)?;
		Ok(generation.completion_token_ids)
	}

	fn end_tokens(&self) -> Vec<u32> {
		self.tokenizer.end_tokens().to_vec()
	}
}

/// The channels' validators replay with [`crate::inference::score::replay`].
impl crate::channel::validator::Replayer for ModelEngine {
	fn serves(&self, model: ModelId) -> bool {
		model == self.model_id
	}

	fn replay(
		&self,
		messages: &[ChatMessage],
		prompt_tokens: u32,
		completion: &[u32],
		max_tokens: u32,
		params: &SamplingParams,
	) -> Result<std::result::Result<f64, String>> {
		let prompt_ids =
			self.tokenizer.chat_conversation(&crate::channel::prompt::turns(messages))?;
		if prompt_ids.len() != prompt_tokens as usize {
			return Ok(Err(format!(
				"the prompt has {} tokens, {prompt_tokens} were claimed",
				prompt_ids.len()
			)));
		}
		let scored = replay(
			&self.model,
			&self.tokenizer,
			&prompt_ids,
			completion,
			max_tokens as usize,
			params,
			self.tolerance,
		)?;
		Ok(scored.map(|score| score.similarity).map_err(|mismatch| mismatch.to_string()))
	}
}

fn prompt(info: &RequestInfo) -> Result<&str> {
	std::str::from_utf8(&info.prompt)
		.map_err(|_| Error::InvalidSampling("the prompt is not UTF-8 text".into()))
}

impl Engine for ModelEngine {
	fn serves(&self, model: ModelId) -> bool {
		model == self.model_id
	}

	fn execute(&self, request: RequestId, info: &RequestInfo) -> Result<Execution> {
		let params = sampling(request, info);
		let generation = generate(
			&self.model,
			&self.tokenizer,
			prompt(info)?,
			info.max_tokens as usize,
			&params,
		)?;
		Ok(Execution {
			prompt_tokens: u32::try_from(generation.prompt_token_ids.len()).unwrap_or(u32::MAX),
			token_ids: generation.completion_token_ids,
			text: generation.text.into_bytes(),
		})
	}

	fn replay(&self, request: RequestId, info: &RequestInfo) -> Result<Perbill> {
		// Text that is not UTF-8 cannot be any tokenizer's output: it fails exactly.
		let Ok(text) = std::str::from_utf8(&info.text) else { return Ok(Perbill::zero()) };
		let claim = Claim {
			prompt: prompt(info)?,
			params: sampling(request, info),
			prompt_tokens: info.prompt_tokens as usize,
			completion_token_ids: &info.token_ids,
			max_tokens: info.max_tokens as usize,
			text,
		};
		Ok(match score(&self.model, &self.tokenizer, &claim, self.tolerance)? {
			Ok(replayed) => Perbill::from_float(replayed.similarity),
			Err(mismatch) => {
				tracing::info!(request, ?mismatch, "the result fails an exact check");
				Perbill::zero()
			}
		})
	}
}

impl Prover for ModelEngine {
	fn serves(&self, model: ModelId) -> bool {
		model == self.model_id
	}

	fn artifacts(
		&self,
		_model: ModelId,
		seed: &H256,
		host: &HostId,
		seq_len: u32,
		nonces: &[u64],
	) -> Result<Vec<[u8; ARTIFACT_BYTES]>> {
		let engine = PocEngine::new(&self.model, seed.0, seq_len as usize)?;
		Ok(engine.artifacts(host, nonces)?.iter().map(|artifact| artifact.to_bytes()).collect())
	}
}
