//! A llama-family decoder on candle, written for the protocol's two uses beyond chat:
//! validators score every position of a completion in one teacher-forced pass (so
//! [`Llama::logits`] returns the logits of every position), and Proof of Compute feeds
//! seeded vectors in place of token embeddings and transforms the hidden state after every
//! layer (so [`Llama::forward`] takes embeddings and a per-layer hook).
//!
//! Weights come from a GGUF file, kept in their quantization (the file fixes the
//! numerics: matrix products run on the quantized blocks as llama.cpp does); norms and
//! activations are f32. llama.cpp stores the query and key rows permuted for the
//! interleaved rotary embedding, so GGUF models use the interleaved variant (`rope_i`).
//!
//! - `llama.rs`: the model ([`Llama`]: embeddings, layers, final norm, output
//!   projection, the forward pass), its shape ([`LlamaConfig`]) and its [`KvCache`];
//! - `layer.rs`: one transformer layer, an `Attention` and an `Mlp`, each with its own
//!   `forward`;
//! - `matrix.rs`: the weight matrices and the choice of CPU kernels ([`CpuKernels`]);
//! - [`attention`]: the grouped-query attention op; [`kernel`]: our AVX2 quantized
//!   products;
//! - `gguf.rs`: loading a GGUF file ([`Llama::load`]); [`hf`]: loading (and exporting to)
//!   the Hugging Face layout;
//! - `surgery.rs`: GGUF files written from another ([`requantize`], [`prune_layers`]): the
//!   cheaper models a cheating host would run, apart from the forward pass.

pub mod attention;
mod gguf;
pub mod hf;
pub mod kernel;
mod layer;
mod llama;
mod matrix;
mod surgery;

pub use candle_core::quantized::GgmlDType;
pub use llama::{KvCache, Llama, LlamaConfig};
pub use matrix::CpuKernels;
pub use surgery::{prune_layers, requantize};

use crate::{inference::tokenizer::ChatTokenizer, Result};
use candle_core::Device;
use std::path::Path;

/// Loads the model at `path` and its tokenizer onto `device`: a GGUF file, or a model in
/// the Hugging Face layout (a directory with `config.json`, `tokenizer.json` and
/// `*.safetensors`, or one of its `.safetensors` files; see [`hf`]).
pub fn open(path: &Path, device: &Device) -> Result<(Llama, ChatTokenizer)> {
	if hf::is_hf_model(path) {
		return hf::load(path, device);
	}
	let (model, content) = Llama::load(path, device)?;
	Ok((model, ChatTokenizer::from_gguf(&content)?))
}

/// The tokenizer of the model at `path` alone, without its weights (a gateway counts and
/// decodes tokens; it runs no model): a GGUF file's metadata, or a Hugging Face
/// directory's `tokenizer.json`.
pub fn tokenizer(path: &Path) -> Result<ChatTokenizer> {
	if hf::is_hf_model(path) {
		return ChatTokenizer::from_file(&path.join("tokenizer.json"));
	}
	let mut file = std::fs::File::open(path)
		.map_err(|_| crate::Error::MissingModelFile { path: path.to_path_buf() })?;
	let content = candle_core::quantized::gguf_file::Content::read(&mut file)
		.map_err(|source| crate::Error::LoadModel { path: path.to_path_buf(), source })?;
	ChatTokenizer::from_gguf(&content)
}
