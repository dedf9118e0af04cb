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

pub mod attention;
pub mod hf;
pub mod kernel;

use crate::{tokenizer::ChatTokenizer, Error, Result};
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

/// Which CPU kernels run the quantized matrix products. Both compute the same products of
/// the same quantized numbers; they sum in different orders, so results differ in the
/// last bits, as between two hosts' machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CpuKernels {
	/// Ours ([`kernel`]) where they apply (Q4_1 and Q8_0 on x86-64 with AVX2, FMA and
	/// F16C), candle's otherwise. Several times faster; the default.
	#[default]
	Native,
	/// candle's `QMatMul` for every matrix: what a CPU without AVX2 runs. The calibration
	/// (docs/verification.md) measures honest hosts on the two against each other.
	Candle,
}

/// A weight matrix `(out, in)`: quantized, with our AVX2 kernels for Q4_1 and Q8_0 on x86
/// CPUs (see [`kernel`]) and candle's `QMatMul` for everything else; or dense (f32, f16,
/// bf16: safetensors models), multiplied in its own dtype.
enum Matrix {
	Kernel(kernel::KernelMatrix),
	Candle(QMatMul),
	Dense(Tensor),
}

impl Matrix {
	fn new(tensor: QTensor, kernels: CpuKernels) -> Result<Self> {
		if kernels == CpuKernels::Candle {
			return Ok(Self::Candle(QMatMul::from_qtensor(tensor)?));
		}
		Ok(match kernel::KernelMatrix::from_qtensor(&tensor)? {
			Some(matrix) => Self::Kernel(matrix),
			None => Self::Candle(QMatMul::from_qtensor(tensor)?),
		})
	}

	fn forward(&self, x: &Tensor) -> Result<Tensor> {
		Ok(match self {
			Self::Kernel(matrix) => x.contiguous()?.apply_op1_no_bwd(matrix)?,
			Self::Candle(matrix) => matrix.forward(x)?,
			Self::Dense(weights) => x
				.to_dtype(weights.dtype())?
				.broadcast_matmul(&weights.t()?)?
				.to_dtype(DType::F32)?,
		})
	}
}

/// Matrices applied to the same input (query, key and value; gate and up): one product
/// over their stacked rows where our kernel runs them — each output is computed as it
/// would be alone, so the numbers are the same, with one pass over the activations and
/// one hand-off to the threads instead of several.
enum Projections {
	Fused { matrix: Matrix, widths: Vec<usize> },
	Separate(Vec<Matrix>),
}

impl Projections {
	fn new(tensors: Vec<QTensor>, kernels: CpuKernels) -> Result<Self> {
		let ours = match kernels {
			CpuKernels::Native => tensors
				.iter()
				.map(kernel::KernelMatrix::from_qtensor)
				.collect::<candle_core::Result<Option<Vec<_>>>>()?,
			CpuKernels::Candle => None,
		};
		if let Some(matrix) = ours.and_then(kernel::KernelMatrix::stack) {
			let widths = tensors.iter().map(|tensor| tensor.shape().dims()[0]).collect();
			return Ok(Self::Fused { matrix: Matrix::Kernel(matrix), widths });
		}
		let matrices = tensors.into_iter().map(|tensor| Matrix::new(tensor, kernels));
		Ok(Self::Separate(matrices.collect::<Result<_>>()?))
	}

	/// Dense matrices of one dtype, stacked into one product.
	fn dense(matrices: Vec<Tensor>) -> candle_core::Result<Self> {
		let widths =
			matrices.iter().map(|matrix| matrix.dim(0)).collect::<candle_core::Result<_>>()?;
		Ok(Self::Fused { matrix: Matrix::Dense(Tensor::cat(&matrices, 0)?), widths })
	}

	/// Every projection of `x`, in the order they were given.
	fn forward(&self, x: &Tensor) -> Result<Vec<Tensor>> {
		match self {
			Self::Fused { matrix, widths } => {
				let all = matrix.forward(x)?;
				let mut start = 0;
				let mut parts = Vec::with_capacity(widths.len());
				for &width in widths {
					parts.push(all.narrow(candle_core::D::Minus1, start, width)?);
					start += width;
				}
				Ok(parts)
			}
			Self::Separate(matrices) => matrices.iter().map(|matrix| matrix.forward(x)).collect(),
		}
	}
}

/// One transformer layer: pre-norm attention, then a pre-norm SwiGLU MLP.
struct Layer {
	attention_norm: Tensor,
	/// Query, key, value.
	qkv: Projections,
	attention_output: Matrix,
	mlp_norm: Tensor,
	/// Gate, up.
	gate_up: Projections,
	down: Matrix,
}

/// Positions a layer's cache holds before it grows (by as many again).
const CACHE_CHUNK: usize = 256;

/// The keys and values of the positions seen so far, per layer, `(batch, kv_heads,
/// positions, head_dim)` in preallocated buffers: generation feeds one token at a time
/// after the prompt, and a step writes its position in place instead of copying the past.
#[derive(Default)]
pub struct KvCache {
	layers: Vec<candle_nn::kv_cache::KvCache>,
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

/// How the rotary embedding pairs a head's coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RopeStyle {
	/// Coordinates `2i` and `2i + 1` (GGUF files: llama.cpp permutes the rows for it).
	Interleaved,
	/// Coordinates `i` and `i + head_dim / 2` (Hugging Face's layout).
	Halves,
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
	rope: RopeStyle,
	device: Device,
}

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

impl Llama {
	/// Loads a GGUF model file onto `device`.
	pub fn load(path: &Path, device: &Device) -> Result<(Self, gguf_file::Content)> {
		Self::load_with(path, device, CpuKernels::default())
	}

	/// [`Llama::load`] with a choice of CPU kernels.
	pub fn load_with(
		path: &Path,
		device: &Device,
		kernels: CpuKernels,
	) -> Result<(Self, gguf_file::Content)> {
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
		let (content, mut reader) = read_gguf(path)?;
		let load = |source| Error::LoadModel { path: path.to_owned(), source };
		let model =
			Self::from_gguf(&content, &mut reader, device, kernels).map_err(
				|error| match error {
					Error::Tensor(source) => load(source),
					Error::UnsupportedModel { reason, .. } => {
						Error::UnsupportedModel { path: path.to_owned(), reason }
					}
					other => other,
				},
			)?;
		Ok((model, content))
	}

	fn from_gguf<R: Read + Seek>(
		content: &gguf_file::Content,
		reader: &mut R,
		device: &Device,
		kernels: CpuKernels,
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
			Ok(output) => Matrix::new(output, kernels)?,
			// Tied embeddings: the output projection is the embedding table.
			Err(_) if !content.tensor_infos.contains_key("output.weight") => {
				Matrix::new(embeddings_q, kernels)?
			}
			Err(error) => return Err(error.into()),
		};
		let mut layers = Vec::with_capacity(config.layers);
		for i in 0..config.layers {
			let name = |part: &str| format!("blk.{i}.{part}.weight");
			let qkv = Projections::new(
				vec![tensor(&name("attn_q"))?, tensor(&name("attn_k"))?, tensor(&name("attn_v"))?],
				kernels,
			)?;
			let gate_up = Projections::new(
				vec![tensor(&name("ffn_gate"))?, tensor(&name("ffn_up"))?],
				kernels,
			)?;
			let attention_output = Matrix::new(tensor(&name("attn_output"))?, kernels)?;
			let down = Matrix::new(tensor(&name("ffn_down"))?, kernels)?;
			layers.push(Layer {
				attention_norm: tensor(&name("attn_norm"))?.dequantize(device)?,
				qkv,
				attention_output,
				mlp_norm: tensor(&name("ffn_norm"))?.dequantize(device)?,
				gate_up,
				down,
			});
		}
		let (cos, sin) = rotary_tables(&config, device)?;
		Ok(Self {
			config,
			embeddings,
			layers,
			norm,
			output,
			cos,
			sin,
			rope: RopeStyle::Interleaved,
			device: device.clone(),
		})
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
		cache: Option<&mut KvCache>,
		after_layer: &mut (dyn FnMut(usize, Tensor) -> Result<Tensor> + Send),
	) -> Result<Tensor> {
		on_pool(|| self.forward_here(input, cache, after_layer))
	}

	fn forward_here(
		&self,
		input: Tensor,
		mut cache: Option<&mut KvCache>,
		after_layer: &mut (dyn FnMut(usize, Tensor) -> Result<Tensor> + Send),
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
			cache.layers.resize_with(self.layers.len(), || {
				candle_nn::kv_cache::KvCache::new(2, CACHE_CHUNK)
			});
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
		on_pool(|| Ok(self.output.forward(&last)?.flatten_all()?))
	}

	/// Tokens in, logits of every position out, `(positions, vocab)`: one teacher-forced
	/// pass (replay scoring).
	pub fn token_logits(&self, tokens: &[u32], cache: Option<&mut KvCache>) -> Result<Tensor> {
		let hidden = self.forward(self.embed(tokens)?, cache, &mut |_, x| Ok(x))?;
		Ok(self.logits(&hidden)?.squeeze(0)?)
	}

	#[allow(clippy::too_many_arguments)]
	fn layer(
		&self,
		layer: &Layer,
		x: &Tensor,
		mask: Option<&Tensor>,
		cos: &Tensor,
		sin: &Tensor,
		cache: Option<&mut candle_nn::kv_cache::KvCache>,
	) -> Result<Tensor> {
		let config = &self.config;
		let (batch, positions, _) = x.dims3()?;
		let eps = config.rms_eps as f32;
		let normed = candle_nn::ops::rms_norm(&x.contiguous()?, &layer.attention_norm, eps)?;
		let heads = |projection: &Tensor, count: usize| -> Result<Tensor> {
			Ok(projection
				.reshape((batch, positions, count, config.head_dim))?
				.transpose(1, 2)?
				.contiguous()?)
		};
		let [query, key, value]: [Tensor; 3] = layer
			.qkv
			.forward(&normed)?
			.try_into()
			.map_err(|_| candle_core::Error::Msg("three attention projections".into()))?;
		let rope = match self.rope {
			RopeStyle::Interleaved => candle_nn::rotary_emb::rope_i,
			RopeStyle::Halves => candle_nn::rotary_emb::rope,
		};
		let query = rope(&heads(&query, config.heads)?, cos, sin)?;
		let mut key = rope(&heads(&key, config.kv_heads)?, cos, sin)?;
		let mut value = heads(&value, config.kv_heads)?;
		if let Some(cache) = cache {
			(key, value) = cache.append(&key, &value)?;
		}
		let attention = attention::attend(&query, &key, &value, mask)?;
		let x = (x + layer.attention_output.forward(&attention)?)?;

		let normed = candle_nn::ops::rms_norm(&x.contiguous()?, &layer.mlp_norm, eps)?;
		let [gate, up]: [Tensor; 2] = layer
			.gate_up
			.forward(&normed)?
			.try_into()
			.map_err(|_| candle_core::Error::Msg("two MLP projections".into()))?;
		let gated = (candle_nn::ops::silu(&gate)? * up)?;
		Ok((x + layer.down.forward(&gated)?)?)
	}
}

/// Runs `work` on a thread of rayon's pool. The matrix products split their rows over the
/// pool; called from outside it, every product is handed over and waited for (two thread
/// wake-ups each, ~125 per decoded token), from inside the caller takes its share.
fn on_pool<T: Send>(work: impl FnOnce() -> T + Send) -> T {
	if rayon::current_thread_index().is_some() {
		work()
	} else {
		rayon::scope(|_| work())
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

/// Opens `path` for reading; a missing file is [`Error::MissingModelFile`].
fn open_model_file(path: &Path) -> Result<File> {
	File::open(path).map_err(|source| match source.kind() {
		std::io::ErrorKind::NotFound => Error::MissingModelFile { path: path.to_owned() },
		_ => Error::io(format!("opening {}", path.display()))(source),
	})
}

/// A GGUF file's header (metadata and tensor index) and the reader its tensors are read
/// from.
fn read_gguf(path: &Path) -> Result<(gguf_file::Content, BufReader<File>)> {
	let mut reader = BufReader::new(open_model_file(path)?);
	let content = gguf_file::Content::read(&mut reader)
		.map_err(|source| Error::LoadModel { path: path.to_owned(), source })?;
	Ok((content, reader))
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
	let (content, mut reader) = read_gguf(source)?;
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
	let metadata: Vec<(&str, &gguf_file::Value)> =
		content.metadata.iter().map(|(key, value)| (key.as_str(), value)).collect();
	write_gguf(target, metadata, &tensors)
}

/// Writes `source` (a GGUF llama model) to `target` without its last `dropped` transformer
/// layers: another, cheaper model with the same tokenizer and vocabulary, whose answers
/// read plausibly but are not the registered model's (a host skipping work). The tests
/// and the cheating test worker use it; refused when it would leave no layer.
pub fn prune_layers(source: &Path, target: &Path, dropped: usize) -> Result<()> {
	let device = Device::Cpu;
	let load = |error| Error::LoadModel { path: source.to_owned(), source: error };
	let (content, mut reader) = read_gguf(source)?;
	let unsupported = |reason: String| Error::UnsupportedModel { path: source.to_owned(), reason };
	let layers = content
		.metadata
		.get("llama.block_count")
		.and_then(|count| count.to_u32().ok())
		.ok_or_else(|| unsupported("no llama.block_count".into()))? as usize;
	let kept = layers
		.checked_sub(dropped)
		.filter(|kept| *kept > 0)
		.ok_or_else(|| unsupported(format!("dropping {dropped} of {layers} layers leaves none")))?;
	let dropped_layer = |name: &str| {
		name.strip_prefix("blk.")
			.and_then(|rest| rest.split('.').next())
			.and_then(|index| index.parse::<usize>().ok())
			.is_some_and(|index| index >= kept)
	};
	let mut names: Vec<&String> =
		content.tensor_infos.keys().filter(|name| !dropped_layer(name)).collect();
	names.sort();
	let mut tensors = Vec::with_capacity(names.len());
	for name in names {
		tensors.push((name.as_str(), content.tensor(&mut reader, name, &device).map_err(load)?));
	}
	let block_count = gguf_file::Value::U32(kept as u32);
	let metadata: Vec<(&str, &gguf_file::Value)> = content
		.metadata
		.iter()
		.map(|(key, value)| {
			(key.as_str(), if key == "llama.block_count" { &block_count } else { value })
		})
		.collect();
	write_gguf(target, metadata, &tensors)
}

/// Writes a GGUF file: `metadata` and `tensors`, each in name order.
fn write_gguf(
	target: &Path,
	mut metadata: Vec<(&str, &gguf_file::Value)>,
	tensors: &[(&str, QTensor)],
) -> Result<()> {
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
