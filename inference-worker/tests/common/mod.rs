//! The default model's file for the integration tests: fetched once into
//! `$GONKA_MODEL_DIR` (default `~/.cache/gonka/models`) by `scripts/test.sh`, fetched here
//! if missing.

use gonka_worker::{
	catalog::{self, SMOLLM2_135M},
	inference::tokenizer::ChatTokenizer,
	model::{prune_layers, requantize, Llama},
};
use std::{path::PathBuf, sync::OnceLock};

/// The checked path of SmolLM2-135M-Instruct Q4_1.
pub fn model_path() -> PathBuf {
	static PATH: OnceLock<PathBuf> = OnceLock::new();
	PATH.get_or_init(|| {
		let dir = std::env::var_os("GONKA_MODEL_DIR").map(PathBuf::from).unwrap_or_else(|| {
			PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/gonka/models")
		});
		catalog::fetch(&SMOLLM2_135M, &dir).expect("the default model")
	})
	.clone()
}

/// The default model requantized to `dtype` (a cheaper quantization, as a cheating host
/// would run it), loaded with its tokenizer.
#[allow(dead_code)] // Not every test file uses every helper.
pub fn requantized(dtype: candle_core::quantized::GgmlDType) -> (Llama, ChatTokenizer) {
	let dir = tempfile::tempdir().unwrap();
	let path = dir.path().join(format!("requantized-{dtype:?}.gguf"));
	requantize(&model_path(), &path, dtype).unwrap();
	let (model, content) = Llama::load(&path, &candle_core::Device::Cpu).unwrap();
	let tokenizer = ChatTokenizer::from_gguf(&content).unwrap();
	(model, tokenizer)
}

/// Another, cheaper model: the default one with its last `dropped` layers cut off (a host
/// skipping work), loaded with its tokenizer.
#[allow(dead_code)] // Not every test file uses every helper.
pub fn pruned(dropped: usize) -> (Llama, ChatTokenizer) {
	let dir = tempfile::tempdir().unwrap();
	let path = dir.path().join("pruned.gguf");
	prune_layers(&model_path(), &path, dropped).unwrap();
	let (model, content) = Llama::load(&path, &candle_core::Device::Cpu).unwrap();
	assert_eq!(model.config().layers + dropped, 30);
	(model, ChatTokenizer::from_gguf(&content).unwrap())
}
