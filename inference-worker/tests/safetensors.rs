//! Models in the Hugging Face layout (safetensors): the default model exported from its
//! GGUF file (dequantized, the query and key rows put back in Hugging Face's order) loads,
//! tokenizes and answers as the GGUF file does; broken directories give clear errors.

use common::model_path;
use gonka_worker::{
	catalog,
	inference::{generate::generate, sampler::SamplingParams},
	model::{hf, open},
	Error,
};
use std::{path::Path, sync::OnceLock};

mod common;

/// The default model exported to f16 safetensors, once for every test here.
fn exported() -> &'static Path {
	static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
	DIR.get_or_init(|| {
		let dir = tempfile::tempdir().unwrap();
		hf::export(&model_path(), dir.path(), candle_core::DType::F16).unwrap();
		dir
	})
	.path()
}

#[test]
fn a_safetensors_model_answers_as_its_gguf_file_does() {
	let (model, tokenizer) = open(exported(), &candle_core::Device::Cpu).unwrap();
	let config = model.config();
	assert_eq!(
		(config.layers, config.hidden, config.heads, config.kv_heads, config.vocab),
		(30, 576, 9, 3, 49_152)
	);
	let prompt = "What is the capital of France?";
	assert_eq!(
		tokenizer.chat_prompt(prompt).unwrap(),
		[1, 4093, 198, 1780, 314, 260, 3575, 282, 4649, 47, 2, 198, 1, 520, 9531, 198]
	);
	// Wrong rotary pairing or unpermuted rows would make this text garbage.
	let generation = generate(&model, &tokenizer, prompt, 16, &SamplingParams::GREEDY).unwrap();
	assert_eq!(generation.text, "The capital of France is Paris.");
}

#[test]
fn a_safetensors_file_path_opens_its_directory() {
	let file = exported().join("model.safetensors");
	let (model, tokenizer) = open(&file, &candle_core::Device::Cpu).unwrap();
	let ids = tokenizer.chat_prompt("Hi").unwrap();
	let logits = model.token_logits(&ids, None).unwrap();
	assert_eq!(logits.dims(), &[ids.len(), 49_152]);
}

/// A copy of the exported model with `change` applied to the copy's directory.
fn broken(change: impl FnOnce(&Path)) -> tempfile::TempDir {
	let dir = tempfile::tempdir().unwrap();
	for entry in std::fs::read_dir(exported()).unwrap() {
		let entry = entry.unwrap();
		std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
	}
	change(dir.path());
	dir
}

/// Attack (`docs/security.md`): the worker checks its model against the digest the chain
/// registered before it serves; a host keeps the registered `model.safetensors` but adds
/// another weight file that the loader reads after it (its tensors override), or edits
/// `config.json` (fewer layers: a cheaper model). Rule: the digest covers a manifest of
/// every file the loader reads, in order, the config included.
#[test]
fn the_weights_digest_covers_every_file_the_loader_reads() {
	let registered = catalog::weights_digest(exported()).unwrap();
	// The same files elsewhere: the same digest; a file path in the directory: the same.
	assert_eq!(catalog::weights_digest(broken(|_| ()).path()).unwrap(), registered);
	let file = exported().join("model.safetensors");
	assert_eq!(catalog::weights_digest(&file).unwrap(), registered);
	let with_override = broken(|dir| {
		std::fs::copy(dir.join("model.safetensors"), dir.join("model-2.safetensors")).unwrap();
	});
	assert_eq!(hf::loaded_files(with_override.path()).unwrap().len(), 4);
	assert_ne!(catalog::weights_digest(with_override.path()).unwrap(), registered);
	let fewer_layers = broken(|dir| {
		let config = std::fs::read_to_string(dir.join("config.json")).unwrap();
		assert!(config.contains("\"num_hidden_layers\": 30"), "{config}");
		let config = config.replace("\"num_hidden_layers\": 30", "\"num_hidden_layers\": 20");
		std::fs::write(dir.join("config.json"), config).unwrap();
	});
	assert_ne!(catalog::weights_digest(fewer_layers.path()).unwrap(), registered);
}

fn open_error(dir: &Path) -> Error {
	open(dir, &candle_core::Device::Cpu).err().expect("an error")
}

#[test]
fn a_broken_safetensors_model_gives_a_clear_error() {
	// No such directory or file.
	let error = open_error(&exported().join("absent"));
	assert!(matches!(error, Error::MissingModelFile { .. }), "{error}");
	// No config.json, no tokenizer.json.
	for file in ["config.json", "tokenizer.json"] {
		let dir = broken(|dir| std::fs::remove_file(dir.join(file)).unwrap());
		let error = open_error(dir.path());
		assert!(matches!(error, Error::MissingModelFile { .. }), "{error}");
		assert!(error.to_string().contains(file), "{error}");
	}
	// No weights.
	let dir = broken(|dir| std::fs::remove_file(dir.join("model.safetensors")).unwrap());
	let error = open_error(dir.path());
	assert!(error.to_string().contains("safetensors"), "{error}");
	// Another architecture, and scaled rotary embeddings.
	let edit = |key: &str, value: serde_json::Value| {
		broken(|dir| {
			let path = dir.join("config.json");
			let mut config: serde_json::Value =
				serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
			config[key] = value;
			std::fs::write(&path, config.to_string()).unwrap();
		})
	};
	let error = open_error(edit("model_type", "mistral".into()).path());
	assert!(matches!(error, Error::UnsupportedModel { .. }), "{error}");
	assert!(error.to_string().contains("mistral"), "{error}");
	let error =
		open_error(edit("rope_scaling", serde_json::json!({"type": "linear", "factor": 2})).path());
	assert!(error.to_string().contains("rope_scaling"), "{error}");
	// A config whose shapes are not the weights'.
	let error = open_error(edit("intermediate_size", 1000.into()).path());
	assert!(error.to_string().contains("gate_proj"), "{error}");
	// Truncated weights.
	let dir = broken(|dir| {
		let path = dir.join("model.safetensors");
		let bytes = std::fs::read(&path).unwrap();
		std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
	});
	let error = open_error(dir.path());
	assert!(matches!(error, Error::LoadModel { .. }), "{error}");
	// Weights without a tensor the model needs.
	let dir = broken(|dir| {
		let path = dir.join("model.safetensors");
		let mut tensors = candle_core::safetensors::load(&path, &candle_core::Device::Cpu).unwrap();
		tensors.remove("model.layers.7.mlp.down_proj.weight");
		candle_core::safetensors::save(&tensors, &path).unwrap();
	});
	let error = open_error(dir.path());
	assert!(error.to_string().contains("model.layers.7.mlp.down_proj.weight"), "{error}");
}

#[test]
fn export_refuses_a_quantized_target_dtype() {
	let dir = tempfile::tempdir().unwrap();
	let error = hf::export(&model_path(), dir.path(), candle_core::DType::U8).unwrap_err();
	assert!(error.to_string().contains("f32, f16 or bf16"), "{error}");
}
