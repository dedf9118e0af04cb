//! `gonka-worker`'s commands: the binary's edge, and the only place `anyhow` is used (the
//! library's modules return typed errors; a command adds the context a host needs).
//!
//! - `args.rs`: the grammar ([`Cli`], clap);
//! - [`model`]: `model fetch` and `model verify`, and loading a model for the local
//!   commands;
//! - [`generate`]: `generate` and `score`, locally (no chain);
//! - [`poc`]: `poc compute` and `poc bench`, locally;
//! - [`key`]: `key generate`;
//! - [`run`]: `run`, the duties against a node, for as long as the process lives;
//! - [`gateway`]: `gateway`, the developer's OpenAI-compatible gateway;
//! - [`host`]: `register`, `status` and `infer`;
//! - [`watch`]: `watch`, a network's progress, block by block, for people.

mod args;
pub mod gateway;
pub mod generate;
pub mod host;
pub mod key;
pub mod model;
pub mod poc;
pub mod run;
pub mod watch;

pub use args::Cli;

use crate::config::WorkerConfig;
use args::{Command, KeyCommand, ModelCommand, PocCommand};

impl Cli {
	/// Runs the command given.
	pub fn run(self) -> anyhow::Result<()> {
		match self.command {
			Command::Key { command: KeyCommand::Generate { out } } => key::generate(&out),
			Command::Run { config } => {
				let config = WorkerConfig::load(&config)?;
				rayon_threads(config.threads)?;
				runtime()?.block_on(run::run(config))
			}
			Command::Register { config, account_key_file, endpoint, models } => {
				let config = WorkerConfig::load(&config)?;
				host::register_command(&config, &account_key_file, &endpoint, models)
			}
			Command::Status { config } => {
				let config = WorkerConfig::load(&config)?;
				print!("{}", runtime()?.block_on(host::status(&config))?);
				Ok(())
			}
			Command::Infer(args) => host::infer_command(&args),
			Command::Watch { node, from } => watch::watch_command(&node, from),
			Command::Gateway { config } => {
				let config = crate::gateway::config::GatewayConfig::load(&config)?;
				runtime()?.block_on(gateway::gateway(config))
			}
			Command::GatewayKey { name } => gateway::new_key(&name),
			Command::Model { command: ModelCommand::Fetch { model, data_dir } } => {
				model::fetch(&model, &data_dir)
			}
			Command::Model { command: ModelCommand::Verify { path, model } } => {
				model::verify(&path, &model)
			}
			Command::Generate(args) => generate::generate(&args),
			Command::Score(args) => generate::score(&args),
			Command::Poc {
				command: PocCommand::Compute { model, seed, host, first, count, seq_len, batch },
			} => poc::compute(&model, seed, host, (first, count), seq_len, batch),
			Command::Poc { command: PocCommand::Bench { model, seq_len, batch, nonces } } => {
				poc::bench(&model, seq_len, batch, nonces)
			}
		}
	}
}

/// Logs to standard error, at `RUST_LOG`'s levels (default `info`).
pub fn init_logging() {
	tracing_subscriber::fmt()
		.with_env_filter(
			tracing_subscriber::EnvFilter::try_from_default_env()
				.unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
		)
		.with_writer(std::io::stderr)
		// Colours only on a terminal: log files and journals get plain text.
		.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
		.init();
}

/// The async runtime of the commands that talk to a node.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
	Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

/// candle's CPU kernels size their thread pools from these variables, read once on first
/// use: set them before any tensor exists.
fn rayon_threads(threads: Option<usize>) -> anyhow::Result<()> {
	let Some(threads) = threads else { return Ok(()) };
	anyhow::ensure!(threads > 0, "--threads must be at least 1");
	std::env::set_var("RAYON_NUM_THREADS", threads.to_string());
	std::env::set_var("CANDLE_NUM_THREADS", threads.to_string());
	Ok(())
}
