//! The cheating inference engines of the end-to-end tests' cheating worker
//! (`gonka-worker-cheats`): a lazy executor (`[cheat] truncate_completions`), on chain and
//! over channels. (The model
//! files a cheating host runs, `[cheat] inference_model_file`, are written by
//! [`crate::model::requantize`] and [`crate::model::prune_layers`].) Only in builds with
//! the `test-cheats` feature, which no workspace build has.

use crate::{
	duty::{Engine, Execution, RequestInfo},
	engine::ModelEngine,
	Result,
};
use gonka_primitives::{inference::RequestId, ModelId};
use polkadot_sdk::sp_arithmetic::Perbill;
use std::sync::Arc;

/// A lazy executor: executes as `inner` does, then keeps the first `keep` tokens of the
/// completion and ends it there with the end-of-turn token, so that the result looks
/// complete to the chain. Validates honestly.
pub struct Truncating {
	/// The engine that runs the model.
	pub inner: Arc<ModelEngine>,
	/// The completion tokens kept.
	pub keep: usize,
}

impl Engine for Truncating {
	fn serves(&self, model: ModelId) -> bool {
		self.inner.serves(model)
	}

	fn execute(&self, request: RequestId, info: &RequestInfo) -> Result<Execution> {
		let mut execution = self.inner.execute(request, info)?;
		if execution.token_ids.len() > self.keep + 1 {
			execution.token_ids.truncate(self.keep);
			execution.token_ids.push(self.inner.tokenizer.end_of_turn());
			execution.text = self.inner.tokenizer.decode(&execution.token_ids)?.into_bytes();
		}
		Ok(execution)
	}

	fn replay(&self, request: RequestId, info: &RequestInfo) -> Result<Perbill> {
		self.inner.replay(request, info)
	}
}

/// The same lazy executor over channels: generates as `inner` does, then cuts the
/// completion the same way before it is receipted (the tokens already streamed are the
/// honest ones: the receipt names the cut ids, which the gateway accepts, as they end with
/// an end token). Validates honestly.
impl crate::api::channels::Generator for Truncating {
	fn prompt_ids(&self, messages: &[crate::channel::prompt::ChatMessage]) -> Result<Vec<u32>> {
		self.inner.prompt_ids(messages)
	}

	fn generate(
		&self,
		prompt_ids: Vec<u32>,
		max_tokens: u32,
		params: &crate::inference::sampler::SamplingParams,
		on_token: &mut dyn FnMut(u32),
	) -> Result<Vec<u32>> {
		let mut token_ids = self.inner.generate(prompt_ids, max_tokens, params, &mut |_| {})?;
		if token_ids.len() > self.keep + 1 {
			token_ids.truncate(self.keep);
			token_ids.push(self.inner.tokenizer.end_of_turn());
		}
		for id in &token_ids {
			on_token(*id);
		}
		Ok(token_ids)
	}

	fn end_tokens(&self) -> Vec<u32> {
		crate::api::channels::Generator::end_tokens(self.inner.as_ref())
	}
}
