//! The model: token embeddings, the transformer layers ([`super::layer`]), the final norm
//! and the output projection, with the forward pass over embeddings (a hook after every
//! layer), the logits of every position, and the KV cache of generation.

use super::{
	layer::{Layer, Positions, RmsNorm},
	matrix::Matrix,
};
use crate::{Error, Result};
use candle_core::{DType, Device, Tensor};

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

/// A llama-family model.
pub struct Llama {
	config: LlamaConfig,
	/// Token embeddings, dequantized, `(vocab, hidden)`.
	embeddings: Tensor,
	layers: Vec<Layer>,
	norm: RmsNorm,
	/// The output projection (tied to the embeddings when the file has none).
	output: Matrix,
	/// Rotary tables, `(context, head_dim / 2)`.
	cos: Tensor,
	sin: Tensor,
	device: Device,
}

impl Llama {
	/// The model of these weights on `device` (`norm`: the final norm's weights, f32).
	pub(crate) fn new(
		config: LlamaConfig,
		embeddings: Tensor,
		layers: Vec<Layer>,
		norm: Tensor,
		output: Matrix,
		device: &Device,
	) -> candle_core::Result<Self> {
		let (cos, sin) = rotary_tables(&config, device)?;
		let norm = RmsNorm::new(norm, config.rms_eps);
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
		let shared = Positions {
			mask: causal_mask(positions, offset, &self.device)?,
			cos: self.cos.narrow(0, offset, positions)?,
			sin: self.sin.narrow(0, offset, positions)?,
		};
		let mut x = input;
		for (i, layer) in self.layers.iter().enumerate() {
			let layer_cache = cache.as_deref_mut().map(|cache| &mut cache.layers[i]);
			x = layer.forward(&x, &shared, layer_cache)?;
			x = after_layer(i, x)?;
		}
		if let Some(cache) = cache {
			cache.len = offset + positions;
		}
		self.norm.forward(&x)
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
fn rotary_tables(config: &LlamaConfig, device: &Device) -> candle_core::Result<(Tensor, Tensor)> {
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
