//! `worker.toml`: what `gonka-worker run` needs. Every field is documented in
//! `docs/worker.md` with its default; unknown fields are refused (a misspelt field would
//! otherwise silently take its default).
//!
//! Errors: [`ConfigError`] for a file that cannot be used (naming the file and the
//! field), [`FieldError`] for a field read later (the host, the worker key, the device),
//! [`AccountError`], [`UnknownDevice`] and [`DeviceUnavailable`] for the values.

use gonka_primitives::{HostId, ModelId};
use polkadot_sdk::sp_core::{
	crypto::{PublicError, SecretStringError, Ss58Codec},
	sr25519, Pair,
};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A configuration error, naming the file and the field.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct ConfigError {
	/// The configuration file.
	pub path: String,
	/// What is wrong.
	pub reason: String,
}

/// A field of the configuration whose value cannot be used, named in the message.
#[derive(Debug, thiserror::Error)]
pub enum FieldError {
	/// `host` is not an account.
	#[error("host: {0}")]
	Host(AccountError),
	/// `device` is not `cpu`, `cuda` or `cuda:N`.
	#[error("device: {0}")]
	Device(UnknownDevice),
	/// `worker_key_file` cannot be read.
	#[error("worker_key_file {}: {error}", path.display())]
	KeyFileUnreadable {
		/// The key file.
		path: PathBuf,
		/// Why it cannot be read.
		error: std::io::Error,
	},
	/// `worker_key_file` does not hold a secret URI or seed.
	#[error("worker_key_file {}: not a secret URI or seed ({error:?})", path.display())]
	NotAKey {
		/// The key file.
		path: PathBuf,
		/// What the key parser says.
		error: SecretStringError,
	},
}

/// Text that is not an account (SS58 or 0x-prefixed hex).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
	/// `0x` followed by something else than 32 bytes of hex.
	#[error("`{0}` is not 32 bytes of hex")]
	Hex(String),
	/// Not an SS58 address.
	#[error("`{text}` is not an account: {error:?}")]
	Ss58 {
		/// The text given.
		text: String,
		/// What the SS58 decoder says.
		error: PublicError,
	},
}

/// A device name that is not `cpu`, `cuda` or `cuda:N`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}`: expected cpu, cuda or cuda:N")]
pub struct UnknownDevice(pub String);

/// A CUDA device that cannot be opened (no GPU, or a build without the `cuda` feature).
#[derive(Debug, thiserror::Error)]
#[error("opening CUDA device {ordinal}: {error}")]
pub struct DeviceUnavailable {
	/// The GPU asked for.
	pub ordinal: usize,
	/// What candle says.
	pub error: candle_core::Error,
}

/// The worker's configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerConfig {
	/// The node's RPC endpoint (`ws://` on this machine, `wss://` elsewhere).
	#[serde(default = "default_node")]
	pub node: String,
	/// The host's account: SS58 or 0x-prefixed hex.
	pub host: String,
	/// A file holding the worker key's secret: a secret URI (`//Alice//stash`) or a
	/// 0x-prefixed 32-byte seed, as `gonka-worker key generate` writes it.
	pub worker_key_file: PathBuf,
	/// Where the journal and model files are kept.
	#[serde(default = "default_data_dir")]
	pub data_dir: PathBuf,
	/// The on-chain id of the model this worker serves.
	#[serde(default)]
	pub model_id: ModelId,
	/// The model file (GGUF, or a safetensors directory).
	pub model_file: PathBuf,
	/// The device the model runs on: `cpu`, `cuda` or `cuda:N` (a build with the `cuda`
	/// feature).
	#[serde(default = "default_device")]
	pub device: String,
	/// CPU threads for the model (all cores when absent).
	#[serde(default)]
	pub threads: Option<usize>,
	/// Milliseconds between two steps when the chain is idle.
	#[serde(default = "default_poll_ms")]
	pub poll_ms: u64,
	/// Where the PoC proof server listens: the host's registered endpoint must reach it.
	#[serde(default = "default_poc_listen")]
	pub poc_listen: String,
	/// PoC nonces per forward pass.
	#[serde(default = "default_poc_batch")]
	pub poc_batch: u32,
	/// The most PoC nonces per model and epoch (no limit when absent).
	#[serde(default)]
	pub poc_max_nonces: Option<u64>,
	/// Where the Prometheus metrics are served (`http://<metrics_listen>/metrics`).
	#[serde(default = "default_metrics_listen")]
	pub metrics_listen: String,
	/// Cheat modes, for tests only (`test-cheats` feature).
	#[cfg(feature = "test-cheats")]
	#[serde(default)]
	pub cheat: CheatConfig,
}

/// `[cheat]`: how a test worker cheats (`test-cheats` feature only).
#[cfg(feature = "test-cheats")]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheatConfig {
	/// `random-artifacts` or `inflated-count` (honest when absent).
	#[serde(default)]
	pub poc: crate::duty::poc::PocCheat,
	/// Executes and replays inference with this model file instead of `model_file` (another
	/// model, or a cheaper quantization of the same); `model_file` still passes the chain's
	/// digest check and computes PoC.
	#[serde(default)]
	pub inference_model_file: Option<PathBuf>,
	/// A lazy executor: keeps only this many tokens of each completion and ends it there
	/// with the model's end-of-turn token.
	#[serde(default)]
	pub truncate_completions: Option<u32>,
}

fn default_node() -> String {
	"ws://127.0.0.1:9944".into()
}

fn default_data_dir() -> PathBuf {
	PathBuf::from("gonka-worker-data")
}

fn default_device() -> String {
	"cpu".into()
}

fn default_poll_ms() -> u64 {
	1_000
}

fn default_poc_listen() -> String {
	"0.0.0.0:8400".into()
}

fn default_poc_batch() -> u32 {
	8
}

fn default_metrics_listen() -> String {
	"127.0.0.1:9616".into()
}

impl WorkerConfig {
	/// Reads and checks `path`.
	pub fn load(path: &Path) -> Result<Self, ConfigError> {
		let fail = |reason: String| ConfigError { path: path.display().to_string(), reason };
		let text = std::fs::read_to_string(path).map_err(|error| fail(error.to_string()))?;
		let config: Self = toml::from_str(&text).map_err(|error| fail(error.to_string()))?;
		config.host().map_err(|error| fail(error.to_string()))?;
		if config.poll_ms == 0 {
			return Err(fail("poll_ms must be at least 1".into()));
		}
		config.device().map_err(|error| fail(error.to_string()))?;
		if config.poc_batch == 0 {
			return Err(fail("poc_batch must be at least 1".into()));
		}
		for (field, value, example) in [
			("poc_listen", &config.poc_listen, "0.0.0.0:8400"),
			("metrics_listen", &config.metrics_listen, "127.0.0.1:9616"),
		] {
			if value.parse::<std::net::SocketAddr>().is_err() {
				return Err(fail(format!(
					"{field}: `{value}` is not an address and port (e.g. {example})"
				)));
			}
		}
		Ok(config)
	}

	/// The host's account.
	pub fn host(&self) -> Result<HostId, FieldError> {
		parse_account(&self.host).map_err(FieldError::Host)
	}

	/// The worker key, read from `worker_key_file`.
	pub fn worker_key(&self) -> Result<sr25519::Pair, FieldError> {
		let path = || self.worker_key_file.clone();
		let secret = std::fs::read_to_string(&self.worker_key_file)
			.map_err(|error| FieldError::KeyFileUnreadable { path: path(), error })?;
		sr25519::Pair::from_string(secret.trim(), None)
			.map_err(|error| FieldError::NotAKey { path: path(), error })
	}
}

/// A compute device: `cpu`, `cuda` (the first GPU) or `cuda:N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceChoice {
	/// The CPU (our AVX2 kernels where available).
	Cpu,
	/// The N-th CUDA GPU.
	Cuda(usize),
}

impl DeviceChoice {
	/// Parses `cpu`, `cuda` or `cuda:N`.
	pub fn parse(text: &str) -> Result<Self, UnknownDevice> {
		match text {
			"cpu" => Ok(Self::Cpu),
			"cuda" => Ok(Self::Cuda(0)),
			_ => text
				.strip_prefix("cuda:")
				.and_then(|ordinal| ordinal.parse().ok())
				.map(Self::Cuda)
				.ok_or_else(|| UnknownDevice(text.to_string())),
		}
	}

	/// Opens the device (a CUDA device needs a build with the `cuda` feature and a GPU).
	pub fn open(self) -> Result<candle_core::Device, DeviceUnavailable> {
		match self {
			Self::Cpu => Ok(candle_core::Device::Cpu),
			Self::Cuda(ordinal) => candle_core::Device::new_cuda(ordinal)
				.map_err(|error| DeviceUnavailable { ordinal, error }),
		}
	}
}

impl WorkerConfig {
	/// The configured device (checked by [`WorkerConfig::load`]).
	pub fn device(&self) -> Result<DeviceChoice, FieldError> {
		DeviceChoice::parse(&self.device).map_err(FieldError::Device)
	}
}

/// An account from SS58 or 0x-prefixed hex.
pub fn parse_account(text: &str) -> Result<HostId, AccountError> {
	if let Some(hex) = text.strip_prefix("0x") {
		let bytes: [u8; 32] = hex::decode(hex)
			.ok()
			.and_then(|bytes| bytes.try_into().ok())
			.ok_or_else(|| AccountError::Hex(text.to_string()))?;
		return Ok(HostId::new(bytes));
	}
	HostId::from_ss58check(text).map_err(|error| AccountError::Ss58 { text: text.into(), error })
}
