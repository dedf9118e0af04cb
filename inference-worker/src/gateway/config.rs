//! `gateway.toml`: what `gonka-worker gateway` needs. Every field is documented in
//! `docs/developer.md` with its default; unknown fields are refused.

use crate::config::ConfigError;
use gonka_primitives::{channel::MAX_COMMITTEE, ModelId};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The gateway's configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
	/// The node's RPC endpoint.
	#[serde(default = "default_node")]
	pub node: String,
	/// Where the OpenAI-compatible API listens.
	#[serde(default = "default_listen")]
	pub listen: String,
	/// Where the channels' keys and journals are kept.
	#[serde(default = "default_data_dir")]
	pub data_dir: PathBuf,
	/// A file with the secret of the account that funds the channels (a secret URI or a
	/// 0x-hex seed): it signs only `open_channel`, `top_up` and `close_channel`. Requests
	/// and vouchers are signed by each channel's own key.
	pub account_key_file: PathBuf,
	/// Milliseconds between two looks at the chain.
	#[serde(default = "default_poll_ms")]
	pub poll_ms: u64,
	/// The models served, each through channels of its own.
	pub models: Vec<GatewayModel>,
	/// Hosted mode: the API keys requests must carry, each with its limits
	/// (`gateway::keys`); none, the gateway is open to whoever reaches it.
	#[serde(default)]
	pub api_keys: Vec<ApiKeyConfig>,
}

/// `[[api_keys]]`: a key of the hosted mode.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyConfig {
	/// A name for the key (in logs and errors).
	pub name: String,
	/// The key's BLAKE2b-256 hash, 64 hex digits (`gonka-worker gateway-key` prints it).
	pub key_hash: String,
	/// The most requests the key starts in 60 seconds.
	#[serde(default = "default_requests_per_minute")]
	pub requests_per_minute: u32,
	/// The most its receipts may cost in all, in the smallest unit of GNK (none: no limit).
	#[serde(default)]
	pub max_spend: Option<u64>,
}

fn default_requests_per_minute() -> u32 {
	60
}

/// `[[models]]`: a model the gateway serves.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayModel {
	/// The model's id on chain.
	pub model_id: ModelId,
	/// The model file whose tokenizer the gateway uses (to count prompt tokens and decode
	/// the completions it streams).
	pub model_file: PathBuf,
	/// Slots of each channel's committee.
	#[serde(default = "default_committee")]
	pub committee: u8,
	/// How long a channel takes requests, in blocks.
	#[serde(default = "default_duration")]
	pub duration: u32,
	/// The most tokens one request may use (prompt bytes, template overhead, completion).
	#[serde(default = "default_max_request_tokens")]
	pub max_request_tokens: u32,
	/// The deposit, in largest requests per slot: `committee × requests_per_slot ×
	/// max_cost(max_request_tokens)` at the price cap.
	#[serde(default = "default_requests_per_slot")]
	pub requests_per_slot: u32,
	/// Opens the next channel this many blocks before the current one ends.
	#[serde(default = "default_rotate_before")]
	pub rotate_before: u32,
	/// The price cap, as a multiple of the price when the channel is opened.
	#[serde(default = "default_price_margin")]
	pub price_margin: u32,
}

fn default_node() -> String {
	"ws://127.0.0.1:9944".into()
}

fn default_listen() -> String {
	"127.0.0.1:8080".into()
}

fn default_data_dir() -> PathBuf {
	PathBuf::from("gonka-gateway-data")
}

fn default_poll_ms() -> u64 {
	1_000
}

fn default_committee() -> u8 {
	2
}

fn default_duration() -> u32 {
	300
}

fn default_max_request_tokens() -> u32 {
	512
}

fn default_requests_per_slot() -> u32 {
	64
}

fn default_rotate_before() -> u32 {
	10
}

fn default_price_margin() -> u32 {
	2
}

impl GatewayConfig {
	/// Reads and checks `path`.
	pub fn load(path: &Path) -> Result<Self, ConfigError> {
		let fail = |reason: String| ConfigError { path: path.display().to_string(), reason };
		let text = std::fs::read_to_string(path).map_err(|error| fail(error.to_string()))?;
		let config: Self = toml::from_str(&text).map_err(|error| fail(error.to_string()))?;
		if config.listen.parse::<std::net::SocketAddr>().is_err() {
			return Err(fail(format!("listen: `{}` is not an address and port", config.listen)));
		}
		if config.poll_ms == 0 {
			return Err(fail("poll_ms must be at least 1".into()));
		}
		if config.models.is_empty() {
			return Err(fail("models: at least one [[models]] is needed".into()));
		}
		let (mut hashes, mut names) =
			(std::collections::BTreeSet::new(), std::collections::BTreeSet::new());
		for (at, key) in config.api_keys.iter().enumerate() {
			let field = |name: &str| format!("api_keys[{at}].{name}");
			if key.name.trim().is_empty() || !names.insert(key.name.clone()) {
				return Err(fail(format!("{}: empty, or another key's", field("name"))));
			}
			if super::keys::parse_hash(&key.key_hash).is_none() {
				return Err(fail(format!(
					"{}: 64 hex digits (`gonka-worker gateway-key` prints a key and its hash)",
					field("key_hash")
				)));
			}
			if !hashes.insert(key.key_hash.trim_start_matches("0x").to_ascii_lowercase()) {
				return Err(fail(format!("{}: listed twice", field("key_hash"))));
			}
			if key.requests_per_minute == 0 {
				return Err(fail(format!("{} must be at least 1", field("requests_per_minute"))));
			}
		}
		for (at, model) in config.models.iter().enumerate() {
			let field = |name: &str| format!("models[{at}].{name}");
			if model.committee == 0 || model.committee > MAX_COMMITTEE {
				return Err(fail(format!("{}: 1 to {MAX_COMMITTEE}", field("committee"))));
			}
			if model.duration == 0 || model.rotate_before >= model.duration {
				return Err(fail(format!(
					"{} must be at least 1 and above {}",
					field("duration"),
					field("rotate_before")
				)));
			}
			for (name, value) in [
				("max_request_tokens", model.max_request_tokens),
				("requests_per_slot", model.requests_per_slot),
				("price_margin", model.price_margin),
			] {
				if value == 0 {
					return Err(fail(format!("{} must be at least 1", field(name))));
				}
			}
		}
		Ok(config)
	}
}
