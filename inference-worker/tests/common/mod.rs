//! The default model's file for the integration tests: fetched once into
//! `$GONKA_MODEL_DIR` (default `~/.cache/gonka/models`) by `scripts/test.sh`, fetched here
//! if missing.

use gonka_worker::{
	catalog::{self, SMOLLM2_135M},
	model::{requantize, Llama},
	tokenizer::ChatTokenizer,
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
	use candle_core::quantized::gguf_file;
	let device = candle_core::Device::Cpu;
	let mut reader = std::io::BufReader::new(std::fs::File::open(model_path()).unwrap());
	let content = gguf_file::Content::read(&mut reader).unwrap();
	let layers = content.metadata["llama.block_count"].to_u32().unwrap() as usize;
	let kept = layers - dropped;
	let outside = |name: &str| {
		name.strip_prefix("blk.")
			.and_then(|rest| rest.split('.').next())
			.and_then(|index| index.parse::<usize>().ok())
			.is_some_and(|index| index >= kept)
	};
	let mut names: Vec<&String> =
		content.tensor_infos.keys().filter(|name| !outside(name)).collect();
	names.sort();
	let tensors: Vec<(&str, candle_core::quantized::QTensor)> = names
		.iter()
		.map(|name| (name.as_str(), content.tensor(&mut reader, name, &device).unwrap()))
		.collect();
	let block_count = gguf_file::Value::U32(kept as u32);
	let mut metadata: Vec<(&str, &gguf_file::Value)> = content
		.metadata
		.iter()
		.map(|(key, value)| {
			(key.as_str(), if key == "llama.block_count" { &block_count } else { value })
		})
		.collect();
	metadata.sort_by_key(|(key, _)| *key);
	let dir = tempfile::tempdir().unwrap();
	let path = dir.path().join("pruned.gguf");
	let mut writer = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
	let tensors: Vec<(&str, &candle_core::quantized::QTensor)> =
		tensors.iter().map(|(name, tensor)| (*name, tensor)).collect();
	gguf_file::write(&mut writer, &metadata, &tensors).unwrap();
	std::io::Write::flush(&mut writer).unwrap();
	drop(writer);
	let (model, content) = Llama::load(&path, &device).unwrap();
	assert_eq!(model.config().layers, kept);
	(model, ChatTokenizer::from_gguf(&content).unwrap())
}
