//! The cheating inference engines of the end-to-end tests' cheating worker
//! (`gonka-worker-cheats`): a lazy executor (`[cheat] truncate_completions`). (The model
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
