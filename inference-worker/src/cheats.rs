//! The model files a cheating host would run, for the end-to-end tests' cheating workers
//! (`[cheat] inference_model_file`). Only in builds with the `test-cheats` feature, which
//! release builds of the worker never have.

use crate::{
	model::{prune_layers, requantize},
	Result,
};
use std::path::Path;

/// Writes `source` (the real GGUF file) requantized to Q4_0 to `target`: a cheaper
/// quantization of the same model, whose completions fail the validators' replay
/// (`docs/verification.md`: similarity at most 0.792 against the 0.9 threshold).
pub fn cheaper_quantization(source: &Path, target: &Path) -> Result<()> {
	requantize(source, target, candle_core::quantized::GgmlDType::Q4_0)
}

/// Writes another model to `target`: `source` without its last 6 of 30 layers, same
/// tokenizer. Its answers are fluent but not the registered model's, so the validators'
/// replay with the real model fails them (`inference-worker/tests/smollm2.rs` measures it).
pub fn another_model(source: &Path, target: &Path) -> Result<()> {
	prune_layers(source, target, 6)
}
