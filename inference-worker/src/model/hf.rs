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
	open_model_file, read_gguf, rotary_tables, Layer, Llama, LlamaConfig, Matrix, Projections,
	RopeStyle,
};
use crate::{tokenizer::ChatTokenizer, Error, Result};
use candle_core::{DType, Device, Tensor};
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
	fn llama(&self) -> Result<LlamaConfig, String> {
		if self.model_type != "llama" {
			return Err(format!(
				"model_type `{}` is not supported (only `llama`)",
				self.model_type
			));
		}
		if self.rope_scaling.as_ref().is_some_and(|scaling| !scaling.is_null()) {
			return Err("rope_scaling is not supported".into());
		}
		let (hidden, heads) = (self.hidden_size, self.num_attention_heads);
		let kv_heads = self.num_key_value_heads.unwrap_or(heads);
		if heads == 0 || kv_heads == 0 || hidden % heads != 0 || heads % kv_heads != 0 {
			return Err(format!(
				"inconsistent heads: {heads} heads, {kv_heads} kv heads, width {hidden}"
			));
		}
		let head_dim = hidden / heads;
		if self.head_dim.is_some_and(|declared| declared != head_dim) {
			return Err(format!("head_dim {:?} is not hidden_size / heads", self.head_dim));
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
		return Err(Error::UnsupportedModel {
			path: path.to_owned(),
			reason: "a model directory needs its weights in *.safetensors files".into(),
		});
	}
	Ok((path.to_owned(), files))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
	serde_json::from_reader(BufReader::new(open_model_file(path)?)).map_err(|error| {
		Error::UnsupportedModel {
			path: path.to_owned(),
			reason: format!("not a valid config: {error}"),
		}
	})
}

/// The weights by name, each in its file's dtype.
struct Weights {
	tensors: HashMap<String, Tensor>,
}

impl Weights {
	fn take(&mut self, name: &str) -> Result<Tensor, String> {
		self.tensors.remove(name).ok_or_else(|| format!("no tensor `{name}`"))
	}

	/// A matrix `(rows, columns)`.
	fn matrix(&mut self, name: &str, rows: usize, columns: usize) -> Result<Tensor, String> {
		let tensor = self.take(name)?;
		match tensor.dims2() {
			Ok(shape) if shape == (rows, columns) => {}
			_ => {
				return Err(format!(
					"`{name}` has shape {:?}, expected ({rows}, {columns})",
					tensor.shape()
				))
			}
		}
		match tensor.dtype() {
			DType::F32 | DType::F16 | DType::BF16 => Ok(tensor),
			other => Err(format!("`{name}` is {other:?} (f32, f16 or bf16 are supported)")),
		}
	}

	/// A norm's weights, as f32.
	fn vector(&mut self, name: &str, length: usize) -> Result<Tensor, String> {
		let tensor = self.take(name)?;
		if tensor.dims() != [length] {
			return Err(format!("`{name}` has shape {:?}, expected ({length})", tensor.shape()));
		}
		tensor.to_dtype(DType::F32).map_err(|error| format!("`{name}`: {error}"))
	}
}

/// Loads a model in the Hugging Face layout and its tokenizer onto `device`.
pub fn load(path: &Path, device: &Device) -> Result<(Llama, ChatTokenizer)> {
	let (dir, files) = weight_files(path)?;
	let hf: HfConfig = read_json(&dir.join("config.json"))?;
	let unsupported = |reason: String| Error::UnsupportedModel { path: path.to_owned(), reason };
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
) -> Result<Llama, String> {
	let (hidden, inner) = (config.hidden, hf.intermediate_size);
	let kv_width = config.kv_heads * config.head_dim;
	let tensor_error = |error: candle_core::Error| error.to_string();
	let embedding_table = weights.matrix("model.embed_tokens.weight", config.vocab, hidden)?;
	let embeddings = embedding_table.to_dtype(DType::F32).map_err(tensor_error)?;
	let output = match weights.matrix("lm_head.weight", config.vocab, hidden) {
		Ok(output) => Matrix::Dense(output),
		Err(_) if hf.tie_word_embeddings => Matrix::Dense(embedding_table),
		Err(error) => return Err(error),
	};
	let mut layers = Vec::with_capacity(config.layers);
	for i in 0..config.layers {
		let name = |part: &str| format!("model.layers.{i}.{part}.weight");
		let qkv = Projections::dense(vec![
			weights.matrix(&name("self_attn.q_proj"), hidden, hidden)?,
			weights.matrix(&name("self_attn.k_proj"), kv_width, hidden)?,
			weights.matrix(&name("self_attn.v_proj"), kv_width, hidden)?,
		])
		.map_err(|error| error.to_string())?;
		let gate_up = Projections::dense(vec![
			weights.matrix(&name("mlp.gate_proj"), inner, hidden)?,
			weights.matrix(&name("mlp.up_proj"), inner, hidden)?,
		])
		.map_err(|error| error.to_string())?;
		layers.push(Layer {
			attention_norm: weights.vector(&name("input_layernorm"), hidden)?,
			qkv,
			attention_output: Matrix::Dense(weights.matrix(
				&name("self_attn.o_proj"),
				hidden,
				hidden,
			)?),
			mlp_norm: weights.vector(&name("post_attention_layernorm"), hidden)?,
			gate_up,
			down: Matrix::Dense(weights.matrix(&name("mlp.down_proj"), hidden, inner)?),
		});
	}
	let norm = weights.vector("model.norm.weight", hidden)?;
	let (cos, sin) = rotary_tables(config, device).map_err(|error| error.to_string())?;
	Ok(Llama {
		config: config.clone(),
		embeddings,
		layers,
		norm,
		output,
		cos,
		sin,
		rope: RopeStyle::Halves,
		device: device.clone(),
	})
}

/// Writes the GGUF model at `source` to the directory `target` in the Hugging Face layout,
/// every weight dequantized to `dtype` (f32, f16 or bf16): `config.json`,
/// `tokenizer.json` and `model.safetensors`.
pub fn export(source: &Path, target: &Path, dtype: DType) -> Result<()> {
	if !matches!(dtype, DType::F32 | DType::F16 | DType::BF16) {
		return Err(Error::UnsupportedModel {
			path: target.to_owned(),
			reason: format!("cannot write {dtype:?} weights (f32, f16 or bf16)"),
		});
	}
	let device = Device::Cpu;
	let load = |error| Error::LoadModel { path: source.to_owned(), source: error };
	let (content, mut reader) = read_gguf(source)?;
	let config = LlamaConfig::from_gguf(&content)
		.map_err(|reason| Error::UnsupportedModel { path: source.to_owned(), reason })?;
	let tokenizer = ChatTokenizer::from_gguf(&content)?;
	let mut tensor = |name: &str| -> Result<Tensor> {
		Ok(content.tensor(&mut reader, name, &device).map_err(load)?.dequantize(&device)?)
	};
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
	let tied = !content.tensor_infos.contains_key("output.weight");
	if !tied {
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
	let tensors = tensors
		.into_iter()
		.map(|(name, tensor)| Ok((name, tensor.to_dtype(dtype)?)))
		.collect::<Result<HashMap<_, _>>>()?;
	std::fs::create_dir_all(target).map_err(Error::io(format!("creating {}", target.display())))?;
	candle_core::safetensors::save(&tensors, target.join("model.safetensors"))?;
	let hf = HfConfig {
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
	};
	let config_path = target.join("config.json");
	let json = serde_json::to_string_pretty(&hf).map_err(|error| Error::Io {
		context: "encoding config.json".into(),
		source: error.into(),
	})?;
	std::fs::write(&config_path, json)
		.map_err(Error::io(format!("writing {}", config_path.display())))?;
	tokenizer.save(&target.join("tokenizer.json"))
}
