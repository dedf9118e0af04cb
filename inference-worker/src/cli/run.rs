//! `gonka-worker run`: the host's duties against a node, for as long as the process lives:
//! the inference duties ([`InferenceDuty`]) and the Proof-of-Compute duties ([`PocDuty`]),
//! one step of each in turn, with the PoC proof server on its own thread. The node may go
//! away and come back: the worker reconnects with a backoff (1 s, doubling to 30 s) and
//! carries on from its journals.
//!
//! Before serving, the worker checks that its model file's sha256 is the one the chain's
//! registry records for `model_id`, and that its tokenizer ends completions with the tokens
//! the record names; it refuses to start otherwise, naming both.

use crate::{
	api::{
		channels::{ChannelEndpoint, Generator},
		metrics::{self, Metrics},
		proofs::{ProofBook, ProofServer, RpcProofs},
	},
	catalog,
	chain::{
		self,
		channels::{ChannelWatch, Member},
		NodeChain,
	},
	config::WorkerConfig,
	duty::{
		artifacts::{ArtifactStore, POC_DIR},
		inference::{InferenceDuty, StepError},
		journal::{Journal, JOURNAL_FILE, POC_JOURNAL_FILE},
		poc::{PocCheat, PocDuty, PocSettings, PocState, PocStepError},
		Engine, InferenceChain,
	},
	engine::ModelEngine,
	inference::{score::Tolerance, tokenizer::ChatTokenizer},
};
use candle_core::Device;
use gonka_client::ChainClient;
use gonka_primitives::{HostId, ModelId};
use polkadot_sdk::sp_core::sr25519;
use std::{sync::Arc, time::Duration};

/// The channels' journals' directory in the data directory.
const CHANNELS_DIR: &str = "channels";
/// The channels' validator's book, under the data directory.
const VERDICTS_DIR: &str = "verdicts";
const MISSES_DIR: &str = "misses";
/// The bases of the executor's settlements, under its channels' directory.
const SETTLEMENTS_DIR: &str = "settlements";

/// The longest wait between two connection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Why the worker stopped serving until it reconnects.
enum Stopped {
	Unavailable(String),
	Fatal(anyhow::Error),
}

/// What the duties keep across connections: the engines, the artifact store, the served
/// proofs, the settings and the metrics (the journals go from one connection's duties to
/// the next).
struct Worker {
	model_id: ModelId,
	poll: Duration,
	engine: Arc<ModelEngine>,
	inference_engine: Arc<dyn Engine>,
	store: ArtifactStore,
	book: ProofBook,
	settings: PocSettings,
	metrics: Metrics,
	/// The proof server, stopped when dropped.
	_server: ProofServer,
}

/// The inference and PoC journals.
type Journals = (Journal, Journal<PocState>);

/// Checks the model file against the chain's record of `model_id`: its digest, and the
/// tokens that end a completion (the chain refuses a completion that ends otherwise).
async fn check_model(
	client: &ChainClient,
	config: &WorkerConfig,
	tokenizer: &ChatTokenizer,
) -> anyhow::Result<()> {
	let Some(model) = client.model(config.model_id).await? else {
		anyhow::bail!("model {} is not in the chain's registry", config.model_id);
	};
	let found = catalog::weights_digest(&config.model_file)?;
	let expected = hex::encode(model.weights_digest);
	if found != expected {
		anyhow::bail!(
			"refusing to serve model {} ({}): {} has sha256 {found}, but the chain records \
			 {expected}",
			config.model_id,
			model.name,
			config.model_file.display(),
		);
	}
	if model.end_tokens != tokenizer.end_tokens() {
		anyhow::bail!(
			"refusing to serve model {} ({}): its tokenizer ends completions with tokens {:?}, \
			 but the chain's record names {:?}",
			config.model_id,
			model.name,
			tokenizer.end_tokens(),
			model.end_tokens,
		);
	}
	if !model.approved {
		tracing::warn!(
			model = config.model_id,
			"the model is not approved (yet): no PoC until it is"
		);
	}
	Ok(())
}

/// Loads the model and runs the duties until an error that retrying cannot fix (a journal
/// or artifact file cannot be written, the model file is not the chain's).
pub async fn run(config: WorkerConfig) -> anyhow::Result<()> {
	let host = config.host()?;
	let worker = config.worker_key()?;
	std::fs::create_dir_all(&config.data_dir)?;
	let device = config.device()?.open()?;
	let engine = Arc::new(load_engine(&config, &config.model_file, &device)?);
	let mut journals = (
		Journal::open(&config.data_dir.join(JOURNAL_FILE))?,
		Journal::<PocState>::open(&config.data_dir.join(POC_JOURNAL_FILE))?,
	);
	let state = Worker::start(&config, engine, &device, &host, &worker)?;
	let mut backoff = Duration::from_secs(1);
	let mut checked = false;
	tracing::info!(%host, node = %config.node, model = config.model_id, "worker started");
	loop {
		let client = match ChainClient::connect(&config.node).await {
			Ok(client) => client,
			Err(error) => {
				tracing::warn!(node = %config.node, %error, retry_in = ?backoff, "cannot reach the node");
				tokio::time::sleep(backoff).await;
				backoff = (backoff * 2).min(MAX_BACKOFF);
				continue;
			}
		};
		backoff = Duration::from_secs(1);
		tracing::info!(node = %config.node, "connected");
		if !checked {
			check_model(&client, &config, &state.engine.tokenizer).await?;
			checked = true;
		}
		let chain = NodeChain::new(client.clone(), host.clone(), worker.clone());
		let poc_chain = NodeChain::new(client, host.clone(), worker.clone());
		let stopped;
		(stopped, journals) = state.serve(chain, poc_chain, journals).await;
		match stopped {
			Stopped::Unavailable(reason) => {
				state.metrics.node_lost();
				tracing::warn!(%reason, retry_in = ?backoff, "lost the node; reconnecting");
				tokio::time::sleep(backoff).await;
			}
			Stopped::Fatal(error) => return Err(error),
		}
	}
}

impl Worker {
	/// Opens the artifact store, starts the proof and metrics servers, and loads a cheat's
	/// other model file.
	fn start(
		config: &WorkerConfig,
		engine: Arc<ModelEngine>,
		device: &Device,
		host: &HostId,
		worker: &sr25519::Pair,
	) -> anyhow::Result<Self> {
		let store = ArtifactStore::open(&config.data_dir.join(POC_DIR))?;
		let book = ProofBook::default();
		// The channels' endpoint beside the proofs, and the follower that keeps its view
		// of the chain and settles its channels.
		let (cheat, inference_engine, generator) = cheats(config, &engine, device)?;
		let watch = Arc::new(ChannelWatch::default());
		let gate = Arc::new(crate::chain::validation::ChainGate::new(
			config.node.clone(),
			host.clone(),
			config.data_dir.join(CHANNELS_DIR).join(SETTLEMENTS_DIR),
		));
		let endpoint = ChannelEndpoint::with_gate(
			host.clone(),
			worker.clone(),
			config.data_dir.join(CHANNELS_DIR),
			watch.clone(),
			generator,
			Some(gate.clone()),
		)?;
		let server =
			ProofServer::start_with(&config.poc_listen, book.clone(), endpoint.methods()?)?;
		let member = Member::new(host.clone(), worker.clone(), endpoint, watch, gate);
		chain::channels::follow(
			config.node.clone(),
			member,
			Duration::from_millis(config.poll_ms),
		)?;
		// The validator's duty over channels: samples of other hosts' settlements.
		let validator = crate::chain::validation::ChannelValidator {
			host: host.clone(),
			worker_key: worker.clone(),
			replayer: engine.clone(),
			dir: config.data_dir.join(VERDICTS_DIR),
		};
		crate::chain::validation::validate(
			config.node.clone(),
			validator,
			Duration::from_millis(config.poll_ms),
		)?;
		// The executor's reports of its settlements' validators that answered nothing.
		let reporter = crate::chain::misses::MissReporter {
			host: host.clone(),
			worker_key: worker.clone(),
			dir: config.data_dir.join(MISSES_DIR),
		};
		crate::chain::misses::report(
			config.node.clone(),
			reporter,
			Duration::from_millis(config.poll_ms),
		)?;
		let registry = polkadot_sdk::substrate_prometheus_endpoint::Registry::new();
		let metrics = Metrics::new(&registry)?;
		metrics::serve(&config.metrics_listen, registry)?;

		let settings =
			PocSettings { batch: config.poc_batch, max_nonces: config.poc_max_nonces, cheat };
		Ok(Self {
			model_id: config.model_id,
			poll: Duration::from_millis(config.poll_ms),
			engine,
			inference_engine,
			store,
			book,
			settings,
			metrics,
			_server: server,
		})
	}

	/// Steps the duties over one connection until the node goes away or an error that
	/// retrying cannot fix; gives the journals back for the next connection.
	async fn serve(
		&self,
		chain: NodeChain,
		poc_chain: NodeChain,
		(journal, poc_journal): Journals,
	) -> (Stopped, Journals) {
		let mut duty = InferenceDuty::new(chain, self.inference_engine.clone(), journal);
		let mut poc = PocDuty::new(
			poc_chain,
			self.engine.clone(),
			RpcProofs::default(),
			self.store.clone(),
			poc_journal,
			self.book.clone(),
			vec![self.model_id],
			self.settings,
		);
		let stopped = loop {
			if let Err(stopped) = self.step(&mut duty, &mut poc).await {
				break stopped;
			}
		};
		let ((_, journal), (_, poc_journal)) = (duty.into_parts(), poc.into_parts());
		(stopped, (journal, poc_journal))
	}

	/// One step of the inference duties, then one of the PoC duties; then waits for the
	/// chain unless PoC generation computed.
	async fn step(
		&self,
		duty: &mut InferenceDuty<NodeChain, Arc<dyn Engine>>,
		poc: &mut PocDuty<NodeChain, Arc<ModelEngine>, RpcProofs>,
	) -> Result<(), Stopped> {
		let progress = match duty.step().await {
			Ok(progress) => progress,
			Err(StepError::Unavailable(reason)) => return Err(Stopped::Unavailable(reason)),
			Err(StepError::Journal(error)) => return Err(Stopped::Fatal(error.into())),
		};
		if progress != Default::default() {
			tracing::info!(?progress, "inference step");
		}
		self.metrics.inference(&progress);
		if let Ok(finalized) = duty.chain().finalized().await {
			self.metrics.chain(finalized, duty.journal().state.next_block);
		}
		let poc_progress = match poc.step().await {
			Ok(progress) => progress,
			Err(PocStepError::Unavailable(reason)) => return Err(Stopped::Unavailable(reason)),
			Err(PocStepError::Local(error)) => return Err(Stopped::Fatal(error.into())),
		};
		if poc_progress != Default::default() {
			tracing::debug!(?poc_progress, "PoC step");
		}
		self.metrics.poc(&poc_progress);
		// Generation computes back to back; otherwise wait for the chain.
		if poc_progress.computed == 0 {
			tokio::time::sleep(self.poll).await;
		}
		Ok(())
	}
}

/// The engine of `model_file` on `device`, serving the configuration's `model_id`.
fn load_engine(
	config: &WorkerConfig,
	model_file: &std::path::Path,
	device: &Device,
) -> anyhow::Result<ModelEngine> {
	let (model, tokenizer) = crate::model::open(model_file, device)?;
	Ok(ModelEngine { model_id: config.model_id, model, tokenizer, tolerance: Tolerance::default() })
}

/// How this worker cheats and the engine its inference duties run: honest, on `engine`
/// (a build without the `test-cheats` feature).
/// How the worker cheats at PoC, the engine of its inference duties and the generator of
/// its channel endpoint.
type Cheats = (PocCheat, Arc<dyn Engine>, Arc<dyn Generator>);

#[cfg(not(feature = "test-cheats"))]
fn cheats(_: &WorkerConfig, engine: &Arc<ModelEngine>, _: &Device) -> anyhow::Result<Cheats> {
	Ok((PocCheat::Honest, engine.clone(), engine.clone()))
}

/// How this worker cheats (`[cheat] poc`), the engine its inference duties run and the
/// generator its channel endpoint runs: `engine`, or another model file's (`[cheat]
/// inference_model_file`), cutting its completions short or not (`[cheat]
/// truncate_completions`, on chain and over channels).
#[cfg(feature = "test-cheats")]
fn cheats(
	config: &WorkerConfig,
	engine: &Arc<ModelEngine>,
	device: &Device,
) -> anyhow::Result<Cheats> {
	let inference = match &config.cheat.inference_model_file {
		Some(file) => {
			tracing::warn!(file = %file.display(), "CHEATING: inference with another model file");
			Arc::new(load_engine(config, file, device)?)
		}
		None => engine.clone(),
	};
	let (inference, generator): (Arc<dyn Engine>, Arc<dyn Generator>) =
		match config.cheat.truncate_completions {
			Some(keep) => {
				tracing::warn!(keep, "CHEATING: completions cut short");
				let cheat =
					Arc::new(crate::cheats::Truncating { inner: inference, keep: keep as usize });
				(cheat.clone(), cheat)
			}
			None => (inference.clone(), inference),
		};
	Ok((config.cheat.poc, inference, generator))
}
