//! A llama-family decoder on candle, written for the protocol's two uses beyond chat:
//! validators score every position of a completion in one teacher-forced pass (so
//! [`Llama::logits`] returns the logits of every position), and Proof of Compute feeds
//! seeded vectors in place of token embeddings and transforms the hidden state after every
//! layer (so [`Llama::forward`] takes embeddings and a per-layer hook).
//!
//! Weights come from a GGUF file, kept in their quantization (the file fixes the
//! numerics: matrix products run on the quantized blocks as llama.cpp does); norms and
//! activations are f32. llama.cpp stores the query and key rows permuted for the
//! interleaved rotary embedding, so this model uses the interleaved variant (`rope_i`).

pub mod q4_1;

use crate::{Error, Result};
use candle_core::{
	quantized::{gguf_file, QMatMul, QTensor},
	DType, Device, Module, Tensor,
};
use std::{
	fs::File,
	io::{BufReader, Read, Seek},
	path::Path,
};

/// The shape of a llama-family model, read from the GGUF metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct LlamaConfig {
	/// Transformer layers.
	pub layers: usize,
	/// Width of the hidden state.
	pub hidden: usize,
	/// Query heads.
	pub heads: usize,
	/// Key/value heads (grouped-query attention).
	pub kv_heads: usize,
	/// Width of one head.
	pub head_dim: usize,
	/// Tokens in the vocabulary.
	pub vocab: usize,
	/// The longest sequence the model was trained for.
	pub context: usize,
	/// RMS norm epsilon.
	pub rms_eps: f64,
	/// Rotary embedding base.
	pub rope_base: f32,
}

impl LlamaConfig {
	fn from_gguf(content: &gguf_file::Content) -> Result<Self, String> {
		let get = |key: &str| {
			content.metadata.get(key).ok_or_else(|| format!("no `{key}` in the metadata"))
		};
		let architecture = get("general.architecture")?.to_string().map_err(|e| e.to_string())?;
		if architecture != "llama" {
			return Err(format!("architecture `{architecture}` is not supported (only `llama`)"));
		}
		let number = |key: &str| -> Result<usize, String> {
			get(key)?.to_u32().map(|value| value as usize).map_err(|e| format!("`{key}`: {e}"))
		};
		let float = |key: &str| -> Result<f32, String> {
			get(key)?.to_f32().map_err(|e| format!("`{key}`: {e}"))
		};
		let hidden = number("llama.embedding_length")?;
		let heads = number("llama.attention.head_count")?;
		let kv_heads = number("llama.attention.head_count_kv")?;
		if heads == 0 || kv_heads == 0 || hidden % heads != 0 || heads % kv_heads != 0 {
			return Err(format!(
				"inconsistent heads: {heads} heads, {kv_heads} kv heads, width {hidden}"
			));
		}
		let head_dim = hidden / heads;
		if number("llama.rope.dimension_count")? != head_dim {
			return Err("partial rotary embeddings are not supported".into());
		}
		Ok(Self {
			layers: number("llama.block_count")?,
			hidden,
			heads,
			kv_heads,
			head_dim,
			vocab: number("llama.vocab_size").or_else(|_| {
				get("tokenizer.ggml.tokens")?.to_vec().map(Vec::len).map_err(|e| e.to_string())
			})?,
			context: number("llama.context_length")?,
			rms_eps: f64::from(float("llama.attention.layer_norm_rms_epsilon")?),
			rope_base: float("llama.rope.freq_base").unwrap_or(10_000.0),
		})
	}
}

/// A quantized weight matrix: our AVX2 kernel for Q4_1 on x86 CPUs (bit-identical to
/// candle's, see [`q4_1`]), candle's `QMatMul` for everything else.
enum Matrix {
	Q41(q4_1::Q41Matrix),
	Candle(QMatMul),
}

impl Matrix {
	fn new(tensor: QTensor) -> Result<Self> {
		Ok(match q4_1::Q41Matrix::from_qtensor(&tensor)? {
			Some(matrix) => Self::Q41(matrix),
			None => Self::Candle(QMatMul::from_qtensor(tensor)?),
		})
	}

	fn forward(&self, x: &Tensor) -> Result<Tensor> {
		Ok(match self {
			Self::Q41(matrix) => x.contiguous()?.apply_op1_no_bwd(matrix)?,
			Self::Candle(matrix) => matrix.forward(x)?,
		})
	}
}

/// One transformer layer: pre-norm attention, then a pre-norm SwiGLU MLP.
struct Layer {
	attention_norm: Tensor,
	query: Matrix,
	key: Matrix,
	value: Matrix,
	attention_output: Matrix,
	mlp_norm: Tensor,
	gate: Matrix,
	up: Matrix,
	down: Matrix,
}

/// The keys and values of the positions seen so far, per layer: generation feeds one
/// token at a time after the prompt.
#[derive(Default)]
pub struct KvCache {
	layers: Vec<Option<(Tensor, Tensor)>>,
	len: usize,
}

impl KvCache {
	/// An empty cache.
	pub fn new() -> Self {
		Self::default()
	}

	/// Positions already in the cache.
	pub fn len(&self) -> usize {
		self.len
	}

	/// Whether nothing has been fed yet.
	pub fn is_empty(&self) -> bool {
		self.len == 0
	}
}

/// A llama-family model.
pub struct Llama {
	config: LlamaConfig,
	/// Token embeddings, dequantized, `(vocab, hidden)`.
	embeddings: Tensor,
	layers: Vec<Layer>,
	norm: Tensor,
	/// The output projection (tied to the embeddings when the file has none).
	output: Matrix,
	/// Rotary tables, `(context, head_dim / 2)`.
	cos: Tensor,
	sin: Tensor,
	device: Device,
}

impl Llama {
	/// Loads a GGUF model file onto `device`.
	pub fn load(path: &Path, device: &Device) -> Result<(Self, gguf_file::Content)> {
		// candle reads these once to dequantize every matrix: that would silently change the
		// numerics the model file fixes, and every PoC and replay comparison with them.
		for variable in ["CANDLE_DEQUANTIZE_ALL", "CANDLE_DEQUANTIZE_ALL_F16"] {
			if std::env::var_os(variable).is_some_and(|value| !value.is_empty() && value != "0") {
				return Err(Error::UnsupportedModel {
					path: path.to_owned(),
					reason: format!(
						"{variable} is set: it replaces the file's quantization; unset it"
					),
				});
			}
		}
		let file = File::open(path).map_err(|source| match source.kind() {
			std::io::ErrorKind::NotFound => Error::MissingModelFile { path: path.to_owned() },
			_ => Error::io(format!("opening {}", path.display()))(source),
		})?;
		let mut reader = BufReader::new(file);
		let load = |source| Error::LoadModel { path: path.to_owned(), source };
		let content = gguf_file::Content::read(&mut reader).map_err(load)?;
		let model =
			Self::from_gguf(&content, &mut reader, device).map_err(|error| match error {
				Error::Tensor(source) => load(source),
				Error::UnsupportedModel { reason, .. } => {
					Error::UnsupportedModel { path: path.to_owned(), reason }
				}
				other => other,
			})?;
		Ok((model, content))
	}

	fn from_gguf<R: Read + Seek>(
		content: &gguf_file::Content,
		reader: &mut R,
		device: &Device,
	) -> Result<Self> {
		let config = LlamaConfig::from_gguf(content)
			.map_err(|reason| Error::UnsupportedModel { path: Default::default(), reason })?;
		let mut tensor = |name: &str| content.tensor(reader, name, device);
		let embeddings_q = tensor("token_embd.weight")?;
		let embeddings = embeddings_q.dequantize(device)?;
		if embeddings.dims2()? != (config.vocab, config.hidden) {
			return Err(Error::UnsupportedModel {
				path: Default::default(),
				reason: format!("token embeddings of shape {:?}", embeddings.shape()),
			});
		}
		let norm = tensor("output_norm.weight")?.dequantize(device)?;
		let output = match tensor("output.weight") {
			Ok(output) => Matrix::new(output)?,
			// Tied embeddings: the output projection is the embedding table.
			Err(_) if !content.tensor_infos.contains_key("output.weight") => {
				Matrix::new(embeddings_q)?
			}
			Err(error) => return Err(error.into()),
		};
		let mut layers = Vec::with_capacity(config.layers);
		for i in 0..config.layers {
			let mut matrix = |name: &str| -> Result<Matrix> {
				Matrix::new(tensor(&format!("blk.{i}.{name}.weight"))?)
			};
			let query = matrix("attn_q")?;
			let key = matrix("attn_k")?;
			let value = matrix("attn_v")?;
			let attention_output = matrix("attn_output")?;
			let gate = matrix("ffn_gate")?;
			let up = matrix("ffn_up")?;
			let down = matrix("ffn_down")?;
			layers.push(Layer {
				attention_norm: tensor(&format!("blk.{i}.attn_norm.weight"))?.dequantize(device)?,
				query,
				key,
				value,
				attention_output,
				mlp_norm: tensor(&format!("blk.{i}.ffn_norm.weight"))?.dequantize(device)?,
				gate,
				up,
				down,
			});
		}
		let (cos, sin) = rotary_tables(&config, device)?;
		Ok(Self { config, embeddings, layers, norm, output, cos, sin, device: device.clone() })
	}

	/// The model's shape.
	pub fn config(&self) -> &LlamaConfig {
		&self.config
	}

	/// The device the model runs on.
	pub fn device(&self) -> &Device {
		&self.device
	}

	/// The embeddings of `tokens`, `(1, tokens, hidden)`.
	pub fn embed(&self, tokens: &[u32]) -> Result<Tensor> {
		if let Some(&bad) = tokens.iter().find(|&&token| token as usize >= self.config.vocab) {
			return Err(Error::Tokenizer(format!(
				"token id {bad} is outside the vocabulary of {}",
				self.config.vocab
			)));
		}
		let ids = Tensor::new(tokens, &self.device)?;
		Ok(self.embeddings.index_select(&ids, 0)?.unsqueeze(0)?)
	}

	/// Runs the layers over `input` (`(batch, positions, hidden)`, f32), continuing the
	/// sequence in `cache` if given, and returns the final normalised hidden state of every
	/// position. `after_layer(i, x)` sees layer `i`'s output and returns what the next
	/// layer gets (the identity for inference; PoC's reflections).
	pub fn forward(
		&self,
		input: Tensor,
		mut cache: Option<&mut KvCache>,
		after_layer: &mut dyn FnMut(usize, Tensor) -> Result<Tensor>,
	) -> Result<Tensor> {
		let (_batch, positions, hidden) = input.dims3()?;
		if hidden != self.config.hidden {
			return Err(Error::Tensor(candle_core::Error::Msg(format!(
				"input width {hidden}, the model's is {}",
				self.config.hidden
			))));
		}
		let offset = cache.as_ref().map_or(0, |cache| cache.len);
		if offset + positions > self.config.context {
			return Err(Error::ContextExceeded {
				prompt_tokens: offset + positions,
				max_tokens: 0,
				context: self.config.context,
			});
		}
		if let Some(cache) = cache.as_deref_mut() {
			cache.layers.resize(self.layers.len(), None);
		}
		let mask = causal_mask(positions, offset, &self.device)?;
		let cos = self.cos.narrow(0, offset, positions)?;
		let sin = self.sin.narrow(0, offset, positions)?;
		let mut x = input;
		for (i, layer) in self.layers.iter().enumerate() {
			let layer_cache = cache.as_deref_mut().map(|cache| &mut cache.layers[i]);
			x = self.layer(layer, &x, mask.as_ref(), &cos, &sin, layer_cache)?;
			x = after_layer(i, x)?;
		}
		if let Some(cache) = cache {
			cache.len = offset + positions;
		}
		Ok(candle_nn::ops::rms_norm(&x.contiguous()?, &self.norm, self.config.rms_eps as f32)?)
	}

	/// Logits of every position of a final hidden state: `(batch, positions, vocab)`.
	pub fn logits(&self, hidden: &Tensor) -> Result<Tensor> {
		self.output.forward(hidden)
	}

	/// Logits of the last position only, `(vocab)`, for batch 1 (what generation needs).
	pub fn last_logits(&self, hidden: &Tensor) -> Result<Tensor> {
		let (_, positions, _) = hidden.dims3()?;
		let last = hidden.narrow(1, positions - 1, 1)?.contiguous()?;
		Ok(self.output.forward(&last)?.flatten_all()?)
	}

	/// Tokens in, logits of every position out, `(positions, vocab)`: one teacher-forced
	/// pass (replay scoring).
	pub fn token_logits(&self, tokens: &[u32], cache: Option<&mut KvCache>) -> Result<Tensor> {
		let hidden = self.forward(self.embed(tokens)?, cache, &mut |_, x| Ok(x))?;
		Ok(self.logits(&hidden)?.squeeze(0)?)
	}

	fn layer(
		&self,
		layer: &Layer,
		x: &Tensor,
		mask: Option<&Tensor>,
		cos: &Tensor,
		sin: &Tensor,
		cache: Option<&mut Option<(Tensor, Tensor)>>,
	) -> Result<Tensor> {
		let config = &self.config;
		let (batch, positions, hidden) = x.dims3()?;
		let eps = config.rms_eps as f32;
		let normed = candle_nn::ops::rms_norm(&x.contiguous()?, &layer.attention_norm, eps)?;
		let heads = |projection: &Matrix, count: usize| -> Result<Tensor> {
			Ok(projection
				.forward(&normed)?
				.reshape((batch, positions, count, config.head_dim))?
				.transpose(1, 2)?
				.contiguous()?)
		};
		let query = candle_nn::rotary_emb::rope_i(&heads(&layer.query, config.heads)?, cos, sin)?;
		let mut key =
			candle_nn::rotary_emb::rope_i(&heads(&layer.key, config.kv_heads)?, cos, sin)?;
		let mut value = heads(&layer.value, config.kv_heads)?;
		if let Some(cache) = cache {
			if let Some((past_key, past_value)) = cache.as_ref() {
				key = Tensor::cat(&[past_key, &key], 2)?;
				value = Tensor::cat(&[past_value, &value], 2)?;
			}
			*cache = Some((key.clone(), value.clone()));
		}
		let group = config.heads / config.kv_heads;
		let key = candle_transformers::utils::repeat_kv(key, group)?.contiguous()?;
		let value = candle_transformers::utils::repeat_kv(value, group)?.contiguous()?;
		let scale = 1.0 / (config.head_dim as f64).sqrt();
		let mut scores = (query.matmul(&key.t()?)? * scale)?;
		if let Some(mask) = mask {
			scores = scores.broadcast_add(mask)?;
		}
		let attention = candle_nn::ops::softmax_last_dim(&scores)?.matmul(&value)?;
		let attention = attention.transpose(1, 2)?.reshape((batch, positions, hidden))?;
		let x = (x + layer.attention_output.forward(&attention)?)?;

		let normed = candle_nn::ops::rms_norm(&x.contiguous()?, &layer.mlp_norm, eps)?;
		let gated =
			(candle_nn::ops::silu(&layer.gate.forward(&normed)?)? * layer.up.forward(&normed)?)?;
		Ok((x + layer.down.forward(&gated)?)?)
	}
}

/// `cos` and `sin` of `position × base^(-2i / head_dim)` for every position of the context.
fn rotary_tables(config: &LlamaConfig, device: &Device) -> Result<(Tensor, Tensor)> {
	let half = config.head_dim / 2;
	let inverse: Vec<f32> = (0..half)
		.map(|i| 1.0 / config.rope_base.powf((2 * i) as f32 / config.head_dim as f32))
		.collect();
	let inverse = Tensor::from_vec(inverse, (1, half), device)?;
	let positions = Tensor::arange(0u32, config.context as u32, device)?
		.to_dtype(DType::F32)?
		.reshape((config.context, 1))?;
	let angles = positions.matmul(&inverse)?;
	Ok((angles.cos()?.contiguous()?, angles.sin()?.contiguous()?))
}

/// Additive mask for `positions` new positions after `offset` cached ones:
/// `(positions, offset + positions)`, `-inf` above the diagonal. None for one position.
fn causal_mask(positions: usize, offset: usize, device: &Device) -> Result<Option<Tensor>> {
	if positions <= 1 {
		return Ok(None);
	}
	let total = offset + positions;
	let values: Vec<f32> = (0..positions)
		.flat_map(|i| (0..total).map(move |j| if j > offset + i { f32::NEG_INFINITY } else { 0.0 }))
		.collect();
	Ok(Some(Tensor::from_vec(values, (positions, total), device)?))
}

/// Writes `source` (a GGUF file) to `target` with every quantized matrix requantized to
/// `dtype`: same metadata, tokenizer and shapes, cheaper weights. What a host cutting costs
/// would run; the replay calibration (`docs/verification.md`) and the tests use it to
/// measure how far such a model's completions are from the real one's.
pub fn requantize(
	source: &Path,
	target: &Path,
	dtype: candle_core::quantized::GgmlDType,
) -> Result<()> {
	use candle_core::quantized::GgmlDType;
	let device = Device::Cpu;
	let load = |error| Error::LoadModel { path: source.to_owned(), source: error };
	let mut reader = BufReader::new(
		File::open(source).map_err(Error::io(format!("opening {}", source.display())))?,
	);
	let content = gguf_file::Content::read(&mut reader).map_err(load)?;
	let mut names: Vec<&String> = content.tensor_infos.keys().collect();
	names.sort();
	let mut tensors = Vec::with_capacity(names.len());
	for name in names {
		let tensor = content.tensor(&mut reader, name, &device).map_err(load)?;
		let tensor = match tensor.dtype() {
			GgmlDType::F32 | GgmlDType::F16 | GgmlDType::BF16 => tensor,
			_ => QTensor::quantize(&tensor.dequantize(&device)?, dtype)?,
		};
		tensors.push((name.as_str(), tensor));
	}
	let mut metadata: Vec<(&str, &gguf_file::Value)> =
		content.metadata.iter().map(|(key, value)| (key.as_str(), value)).collect();
	metadata.sort_by_key(|(key, _)| *key);
	let tensors: Vec<(&str, &QTensor)> =
		tensors.iter().map(|(name, tensor)| (*name, tensor)).collect();
	let mut writer = std::io::BufWriter::new(
		File::create(target).map_err(Error::io(format!("creating {}", target.display())))?,
	);
	gguf_file::write(&mut writer, &metadata, &tensors)?;
	std::io::Write::flush(&mut writer)
		.map_err(Error::io(format!("writing {}", target.display())))?;
	Ok(())
}
