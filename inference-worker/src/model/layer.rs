//! One transformer layer of a llama-family model: pre-norm grouped-query [`Attention`]
//! with rotary embeddings and a KV cache, then a pre-norm SwiGLU [`Mlp`], each added to
//! the residual stream. Each block owns its weights and has its own `forward`.

use super::{attention, llama::LlamaConfig, matrix::Matrix, matrix::Projections};
use crate::Result;
use candle_core::Tensor;

/// How the rotary embedding pairs a head's coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RopeStyle {
	/// Coordinates `2i` and `2i + 1` (GGUF files: llama.cpp permutes the rows for it).
	Interleaved,
	/// Coordinates `i` and `i + head_dim / 2` (Hugging Face's layout).
	Halves,
}

/// What every layer of one forward pass shares: the rotary tables of the positions fed,
/// `(positions, head_dim / 2)`, and their causal mask (none for one position).
pub(crate) struct Positions {
	pub(crate) cos: Tensor,
	pub(crate) sin: Tensor,
	pub(crate) mask: Option<Tensor>,
}

/// An RMS norm: its weights and epsilon.
pub(crate) struct RmsNorm {
	weight: Tensor,
	eps: f32,
}

impl RmsNorm {
	/// The norm with `weight` (f32) and the model's epsilon.
	pub(crate) fn new(weight: Tensor, eps: f64) -> Self {
		Self { weight, eps: eps as f32 }
	}

	/// `x` normalised over its last dimension.
	pub(crate) fn forward(&self, x: &Tensor) -> Result<Tensor> {
		Ok(candle_nn::ops::rms_norm(&x.contiguous()?, &self.weight, self.eps)?)
	}
}

/// The attention block: norm, query/key/value projections, rotary embedding, attention
/// over the cache, output projection.
pub(crate) struct Attention {
	norm: RmsNorm,
	/// Query, key, value.
	qkv: Projections,
	output: Matrix,
	heads: usize,
	kv_heads: usize,
	head_dim: usize,
	rope: RopeStyle,
}

impl Attention {
	/// The block of a model of shape `config`, its rotary embedding paired as `rope`.
	pub(crate) fn new(
		norm: RmsNorm,
		qkv: Projections,
		output: Matrix,
		config: &LlamaConfig,
		rope: RopeStyle,
	) -> Self {
		let (heads, kv_heads, head_dim) = (config.heads, config.kv_heads, config.head_dim);
		Self { norm, qkv, output, heads, kv_heads, head_dim, rope }
	}

	/// What the block adds to the residual stream `x` (`(batch, positions, hidden)`),
	/// appending the positions' keys and values to `cache` if given.
	pub(crate) fn forward(
		&self,
		x: &Tensor,
		positions: &Positions,
		cache: Option<&mut candle_nn::kv_cache::KvCache>,
	) -> Result<Tensor> {
		let (batch, count, _) = x.dims3()?;
		let normed = self.norm.forward(x)?;
		let heads = |projection: &Tensor, heads: usize| -> Result<Tensor> {
			Ok(projection
				.reshape((batch, count, heads, self.head_dim))?
				.transpose(1, 2)?
				.contiguous()?)
		};
		let [query, key, value]: [Tensor; 3] = self
			.qkv
			.forward(&normed)?
			.try_into()
			.map_err(|_| candle_core::Error::Msg("three attention projections".into()))?;
		let rope = match self.rope {
			RopeStyle::Interleaved => candle_nn::rotary_emb::rope_i,
			RopeStyle::Halves => candle_nn::rotary_emb::rope,
		};
		let (cos, sin) = (&positions.cos, &positions.sin);
		let query = rope(&heads(&query, self.heads)?, cos, sin)?;
		let mut key = rope(&heads(&key, self.kv_heads)?, cos, sin)?;
		let mut value = heads(&value, self.kv_heads)?;
		if let Some(cache) = cache {
			(key, value) = cache.append(&key, &value)?;
		}
		let attention = attention::attend(&query, &key, &value, positions.mask.as_ref())?;
		self.output.forward(&attention)
	}
}

/// The SwiGLU MLP block: norm, `down(silu(gate(x)) · up(x))`.
pub(crate) struct Mlp {
	norm: RmsNorm,
	/// Gate, up.
	gate_up: Projections,
	down: Matrix,
}

impl Mlp {
	/// The block of these weights.
	pub(crate) fn new(norm: RmsNorm, gate_up: Projections, down: Matrix) -> Self {
		Self { norm, gate_up, down }
	}

	/// What the block adds to the residual stream `x`.
	pub(crate) fn forward(&self, x: &Tensor) -> Result<Tensor> {
		let normed = self.norm.forward(x)?;
		let [gate, up]: [Tensor; 2] = self
			.gate_up
			.forward(&normed)?
			.try_into()
			.map_err(|_| candle_core::Error::Msg("two MLP projections".into()))?;
		let gated = (candle_nn::ops::silu(&gate)? * up)?;
		self.down.forward(&gated)
	}
}

/// One transformer layer: pre-norm attention, then a pre-norm SwiGLU MLP.
pub(crate) struct Layer {
	pub(crate) attention: Attention,
	pub(crate) mlp: Mlp,
}

impl Layer {
	/// The residual stream `x` after this layer.
	pub(crate) fn forward(
		&self,
		x: &Tensor,
		positions: &Positions,
		cache: Option<&mut candle_nn::kv_cache::KvCache>,
	) -> Result<Tensor> {
		let x = (x + self.attention.forward(x, positions, cache)?)?;
		Ok((&x + self.mlp.forward(&x)?)?)
	}
}
