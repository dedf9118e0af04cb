//! Models in the Hugging Face layout: a directory with `config.json`, `tokenizer.json` and
//! the weights in one or more `*.safetensors` files (f32, f16 or bf16).
//!
//! The matrices keep the file's dtype: a product casts the f32 activations to it and the
//! result back, as llama.cpp does for f16 weights; norms, attention and the residual
//! stream stay f32. Hugging Face stores the query and key rows in the rotary embedding's
//! "halves" order (GGUF files permute them for the interleaved one), so these models use
//! candle's `rope`, not `rope_i`.
//!
//! [`export`] writes a GGUF model in this layout (dequantized): what a host would convert
//! to run an unquantized model, and how the tests obtain a safetensors model offline.

use super::{
	gguf::{open_model_file, read_gguf},
	layer::{Attention, Layer, Mlp, RmsNorm, RopeStyle},
	llama::{Llama, LlamaConfig},
	matrix::{Matrix, Projections},
};
use crate::{error::Unsupported, inference::tokenizer::ChatTokenizer, Error, Result};
use candle_core::{quantized::gguf_file::Content, DType, Device, Tensor};
use serde::{Deserialize, Serialize};
use std::{
	collections::HashMap,
	io::BufReader,
	path::{Path, PathBuf},
};

/// The `config.json` fields a llama-family model needs.
#[derive(Debug, Serialize, Deserialize)]
struct HfConfig {
	#[serde(default)]
	architectures: Vec<String>,
	model_type: String,
	hidden_size: usize,
	intermediate_size: usize,
	num_attention_heads: usize,
	#[serde(default)]
	num_key_value_heads: Option<usize>,
	num_hidden_layers: usize,
	vocab_size: usize,
	max_position_embeddings: usize,
	rms_norm_eps: f64,
	#[serde(default = "default_rope_theta")]
	rope_theta: f32,
	#[serde(default)]
	tie_word_embeddings: bool,
	#[serde(default, skip_serializing_if = "Option::is_none")]
	rope_scaling: Option<serde_json::Value>,
	#[serde(default, skip_serializing_if = "Option::is_none")]
	head_dim: Option<usize>,
	#[serde(default, skip_serializing_if = "Option::is_none")]
	torch_dtype: Option<String>,
}

fn default_rope_theta() -> f32 {
	10_000.0
}

impl HfConfig {
	fn llama(&self) -> Result<LlamaConfig, Unsupported> {
		if self.model_type != "llama" {
			return Err(Unsupported::ModelType(self.model_type.clone()));
		}
		if self.rope_scaling.as_ref().is_some_and(|scaling| !scaling.is_null()) {
			return Err(Unsupported::RopeScaling);
		}
		let (hidden, heads) = (self.hidden_size, self.num_attention_heads);
		let kv_heads = self.num_key_value_heads.unwrap_or(heads);
		if heads == 0 || kv_heads == 0 || hidden % heads != 0 || heads % kv_heads != 0 {
			return Err(Unsupported::Heads { heads, kv_heads, hidden });
		}
		let head_dim = hidden / heads;
		if self.head_dim.is_some_and(|declared| declared != head_dim) {
			return Err(Unsupported::HeadDim(self.head_dim));
		}
		Ok(LlamaConfig {
			layers: self.num_hidden_layers,
			hidden,
			heads,
			kv_heads,
			head_dim,
			vocab: self.vocab_size,
			context: self.max_position_embeddings,
			rms_eps: self.rms_norm_eps,
			rope_base: self.rope_theta,
		})
	}
}

/// Whether `path` is a model in this layout (a directory, or a `.safetensors` file in one).
pub fn is_hf_model(path: &Path) -> bool {
	path.is_dir() || path.extension().is_some_and(|extension| extension == "safetensors")
}

/// The model directory of `path` and its weight files.
fn weight_files(path: &Path) -> Result<(PathBuf, Vec<PathBuf>)> {
	if !path.exists() {
		return Err(Error::MissingModelFile { path: path.to_owned() });
	}
	if !path.is_dir() {
		let dir = path.parent().map(Path::to_owned).unwrap_or_default();
		return Ok((dir, vec![path.to_owned()]));
	}
	let mut files: Vec<PathBuf> = std::fs::read_dir(path)
		.map_err(Error::io(format!("listing {}", path.display())))?
		.filter_map(|entry| entry.ok().map(|entry| entry.path()))
		.filter(|file| file.extension().is_some_and(|extension| extension == "safetensors"))
		.collect();
	files.sort();
	if files.is_empty() {
		return Err(Error::unsupported(path, Unsupported::NoSafetensors));
	}
	Ok((path.to_owned(), files))
}

/// The files [`load`] reads for the model at `path`, in the order it reads them:
/// `config.json` (the model's shape), `tokenizer.json` (its tokens and chat template),
/// then every `*.safetensors` weight file, sorted (a later file's tensors override an
/// earlier one's).
pub fn loaded_files(path: &Path) -> Result<Vec<PathBuf>> {
	let (dir, files) = weight_files(path)?;
	let fixed = [dir.join("config.json"), dir.join("tokenizer.json")];
	Ok(fixed.into_iter().chain(files).collect())
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
	serde_json::from_reader(BufReader::new(open_model_file(path)?))
		.map_err(|error| Error::unsupported(path, Unsupported::Config(error)))
}

/// The weights by name, each in its file's dtype.
struct Weights {
	tensors: HashMap<String, Tensor>,
}

impl Weights {
	fn take(&mut self, name: &str) -> Result<Tensor, Unsupported> {
		self.tensors.remove(name).ok_or_else(|| Unsupported::MissingTensor(name.into()))
	}

	/// A matrix `(rows, columns)`.
	fn matrix(&mut self, name: &str, rows: usize, columns: usize) -> Result<Tensor, Unsupported> {
		let tensor = self.take(name)?;
		match tensor.dims2() {
			Ok(shape) if shape == (rows, columns) => {}
			_ => {
				let shape = tensor.shape().clone();
				return Err(Unsupported::MatrixShape { name: name.into(), shape, rows, columns });
			}
		}
		match tensor.dtype() {
			DType::F32 | DType::F16 | DType::BF16 => Ok(tensor),
			dtype => Err(Unsupported::WeightDType { name: name.into(), dtype }),
		}
	}

	/// A norm's weights, as f32.
	fn vector(&mut self, name: &str, length: usize) -> Result<Tensor, Unsupported> {
		let tensor = self.take(name)?;
		if tensor.dims() != [length] {
			let shape = tensor.shape().clone();
			return Err(Unsupported::VectorShape { name: name.into(), shape, length });
		}
		tensor
			.to_dtype(DType::F32)
			.map_err(|error| Unsupported::Weight { name: name.into(), error })
	}
}

/// Loads a model in the Hugging Face layout and its tokenizer onto `device`.
pub fn load(path: &Path, device: &Device) -> Result<(Llama, ChatTokenizer)> {
	let (dir, files) = weight_files(path)?;
	let hf: HfConfig = read_json(&dir.join("config.json"))?;
	let unsupported = |reason| Error::unsupported(path, reason);
	let config = hf.llama().map_err(unsupported)?;
	let tokenizer_path = dir.join("tokenizer.json");
	if !tokenizer_path.exists() {
		return Err(Error::MissingModelFile { path: tokenizer_path });
	}
	let tokenizer = ChatTokenizer::from_file(&tokenizer_path)?;
	let mut tensors = HashMap::new();
	for file in &files {
		let loaded = candle_core::safetensors::load(file, device)
			.map_err(|source| Error::LoadModel { path: file.clone(), source })?;
		tensors.extend(loaded);
	}
	let model = from_weights(&config, &hf, Weights { tensors }, device).map_err(unsupported)?;
	Ok((model, tokenizer))
}

fn from_weights(
	config: &LlamaConfig,
	hf: &HfConfig,
	mut weights: Weights,
	device: &Device,
) -> Result<Llama, Unsupported> {
	let hidden = config.hidden;
	let embedding_table = weights.matrix("model.embed_tokens.weight", config.vocab, hidden)?;
	let embeddings = embedding_table.to_dtype(DType::F32).map_err(Unsupported::Tensor)?;
	let output = match weights.matrix("lm_head.weight", config.vocab, hidden) {
		Ok(output) => Matrix::Dense(output),
		Err(_) if hf.tie_word_embeddings => Matrix::Dense(embedding_table),
		Err(error) => return Err(error),
	};
	let layers = (0..config.layers)
		.map(|i| layer(config, hf.intermediate_size, i, &mut weights))
		.collect::<Result<_, _>>()?;
	let norm = weights.vector("model.norm.weight", hidden)?;
	Llama::new(config.clone(), embeddings, layers, norm, output, device)
		.map_err(Unsupported::Tensor)
}

/// Layer `i` (`model.layers.<i>.*`), its MLP `inner` wide.
fn layer(
	config: &LlamaConfig,
	inner: usize,
	i: usize,
	weights: &mut Weights,
) -> Result<Layer, Unsupported> {
	let hidden = config.hidden;
	let kv_width = config.kv_heads * config.head_dim;
	let name = |part: &str| format!("model.layers.{i}.{part}.weight");
	let qkv = Projections::dense(vec![
		weights.matrix(&name("self_attn.q_proj"), hidden, hidden)?,
		weights.matrix(&name("self_attn.k_proj"), kv_width, hidden)?,
		weights.matrix(&name("self_attn.v_proj"), kv_width, hidden)?,
	])
	.map_err(Unsupported::Tensor)?;
	let gate_up = Projections::dense(vec![
		weights.matrix(&name("mlp.gate_proj"), inner, hidden)?,
		weights.matrix(&name("mlp.up_proj"), inner, hidden)?,
	])
	.map_err(Unsupported::Tensor)?;
	let attention_norm = weights.vector(&name("input_layernorm"), hidden)?;
	let output = Matrix::Dense(weights.matrix(&name("self_attn.o_proj"), hidden, hidden)?);
	let mlp_norm = weights.vector(&name("post_attention_layernorm"), hidden)?;
	let down = Matrix::Dense(weights.matrix(&name("mlp.down_proj"), hidden, inner)?);
	let eps = config.rms_eps;
	Ok(Layer {
		attention: Attention::new(
			RmsNorm::new(attention_norm, eps),
			qkv,
			output,
			config,
			RopeStyle::Halves,
		),
		mlp: Mlp::new(RmsNorm::new(mlp_norm, eps), gate_up, down),
	})
}

/// Writes the GGUF model at `source` to the directory `target` in the Hugging Face layout,
/// every weight dequantized to `dtype` (f32, f16 or bf16): `config.json`,
/// `tokenizer.json` and `model.safetensors`.
pub fn export(source: &Path, target: &Path, dtype: DType) -> Result<()> {
	if !matches!(dtype, DType::F32 | DType::F16 | DType::BF16) {
		return Err(Error::unsupported(target, Unsupported::ExportDType(dtype)));
	}
	let (content, mut reader) = read_gguf(source)?;
	let config =
		LlamaConfig::from_gguf(&content).map_err(|reason| Error::unsupported(source, reason))?;
	let tokenizer = ChatTokenizer::from_gguf(&content)?;
	let mut tensor = |name: &str| -> Result<Tensor> {
		let load = |error| Error::LoadModel { path: source.to_owned(), source: error };
		Ok(content
			.tensor(&mut reader, name, &Device::Cpu)
			.map_err(load)?
			.dequantize(&Device::Cpu)?)
	};
	let (tensors, intermediate) = hf_tensors(&content, &config, &mut tensor)?;
	let tensors = tensors
		.into_iter()
		.map(|(name, tensor)| Ok((name, tensor.to_dtype(dtype)?)))
		.collect::<Result<HashMap<_, _>>>()?;
	std::fs::create_dir_all(target).map_err(Error::io(format!("creating {}", target.display())))?;
	candle_core::safetensors::save(&tensors, target.join("model.safetensors"))?;
	let tied = !content.tensor_infos.contains_key("output.weight");
	let hf = hf_config(&config, intermediate, tied, dtype);
	let config_path = target.join("config.json");
	let json = serde_json::to_string_pretty(&hf).map_err(|error| Error::Io {
		context: "encoding config.json".into(),
		source: error.into(),
	})?;
	std::fs::write(&config_path, json)
		.map_err(Error::io(format!("writing {}", config_path.display())))?;
	tokenizer.save(&target.join("tokenizer.json"))
}

/// A GGUF model's weights under their Hugging Face names (the query and key rows put back
/// in Hugging Face's order), dequantized by `tensor`, and the MLP's inner width.
fn hf_tensors(
	content: &Content,
	config: &LlamaConfig,
	tensor: &mut impl FnMut(&str) -> Result<Tensor>,
) -> Result<(HashMap<String, Tensor>, usize)> {
	// GGUF's query and key rows, per head, are (pair index, half); Hugging Face's are
	// (half, pair index).
	let unpermute = |weights: Tensor, heads: usize| -> Result<Tensor> {
		let (rows, columns) = weights.dims2()?;
		Ok(weights
			.reshape((heads, rows / heads / 2, 2, columns))?
			.transpose(1, 2)?
			.contiguous()?
			.reshape((rows, columns))?)
	};
	let mut tensors: HashMap<String, Tensor> = HashMap::new();
	tensors.insert("model.embed_tokens.weight".into(), tensor("token_embd.weight")?);
	tensors.insert("model.norm.weight".into(), tensor("output_norm.weight")?);
	if content.tensor_infos.contains_key("output.weight") {
		tensors.insert("lm_head.weight".into(), tensor("output.weight")?);
	}
	let mut intermediate = 0;
	for i in 0..config.layers {
		let ours = |part: &str| format!("blk.{i}.{part}.weight");
		let theirs = |part: &str| format!("model.layers.{i}.{part}.weight");
		tensors
			.insert(theirs("self_attn.q_proj"), unpermute(tensor(&ours("attn_q"))?, config.heads)?);
		tensors.insert(
			theirs("self_attn.k_proj"),
			unpermute(tensor(&ours("attn_k"))?, config.kv_heads)?,
		);
		for (gguf, hf) in [
			("attn_v", "self_attn.v_proj"),
			("attn_output", "self_attn.o_proj"),
			("ffn_up", "mlp.up_proj"),
			("ffn_down", "mlp.down_proj"),
			("attn_norm", "input_layernorm"),
			("ffn_norm", "post_attention_layernorm"),
		] {
			tensors.insert(theirs(hf), tensor(&ours(gguf))?);
		}
		let gate = tensor(&ours("ffn_gate"))?;
		intermediate = gate.dims2()?.0;
		tensors.insert(theirs("mlp.gate_proj"), gate);
	}
	Ok((tensors, intermediate))
}

/// The `config.json` of a model of shape `config` with weights in `dtype`.
fn hf_config(config: &LlamaConfig, intermediate: usize, tied: bool, dtype: DType) -> HfConfig {
	HfConfig {
		architectures: vec!["LlamaForCausalLM".into()],
		model_type: "llama".into(),
		hidden_size: config.hidden,
		intermediate_size: intermediate,
		num_attention_heads: config.heads,
		num_key_value_heads: Some(config.kv_heads),
		num_hidden_layers: config.layers,
		vocab_size: config.vocab,
		max_position_embeddings: config.context,
		rms_norm_eps: config.rms_eps,
		rope_theta: config.rope_base,
		tie_word_embeddings: tied,
		rope_scaling: None,
		head_dim: Some(config.head_dim),
		torch_dtype: Some(
			match dtype {
				DType::F32 => "float32",
				DType::F16 => "float16",
				_ => "bfloat16",
			}
			.into(),
		),
	}
}
