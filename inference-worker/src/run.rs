//! `gonka-worker run`: the host's duties against a node, for as long as the process lives:
//! the inference duties ([`InferenceDuty`]) and the Proof-of-Compute duties ([`PocDuty`]),
//! one step of each in turn, with the PoC proof server on its own thread. The node may go
//! away and come back: the worker reconnects with a backoff (1 s, doubling to 30 s) and
//! carries on from its journals.
//!
//! Before serving, the worker checks that its model file's sha256 is the one the chain's
//! registry records for `model_id`, and refuses to start otherwise, naming both digests.

use crate::{
	catalog,
	config::WorkerConfig,
	duty::{
		artifacts::ArtifactStore,
		engine::ModelEngine,
		inference::{InferenceDuty, StepError},
		journal::Journal,
		node::NodeChain,
		poc::{PocDuty, PocSettings, PocState, PocStepError},
		proofs::{ProofBook, ProofServer, RpcProofs},
		InferenceChain,
	},
	metrics::Metrics,
	score::Tolerance,
};
use gonka_client::ChainClient;
use std::{rc::Rc, time::Duration};

/// The longest wait between two connection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The inference journal's file in the data directory.
pub const JOURNAL_FILE: &str = "inference-journal.json";

/// The PoC journal's file in the data directory.
pub const POC_JOURNAL_FILE: &str = "poc-journal.json";

/// The folder of PoC artifact files in the data directory.
pub const POC_DIR: &str = "poc";

/// Why the worker stopped serving until it reconnects.
enum Stopped {
	Unavailable(String),
	Fatal(anyhow::Error),
}

/// Checks the model file against the chain's record of `model_id`.
async fn check_model(client: &ChainClient, config: &WorkerConfig) -> anyhow::Result<()> {
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
	let host = config.host().map_err(anyhow::Error::msg)?;
	let worker = config.worker_key().map_err(anyhow::Error::msg)?;
	std::fs::create_dir_all(&config.data_dir)?;
	let device = config.device().and_then(|device| device.open()).map_err(anyhow::Error::msg)?;
	let (model, tokenizer) = crate::model::open(&config.model_file, &device)?;
	let engine = Rc::new(ModelEngine {
		model_id: config.model_id,
		model,
		tokenizer,
		tolerance: Tolerance::default(),
	});
	let mut journal = Journal::open(&config.data_dir.join(JOURNAL_FILE))?;
	let mut poc_journal = Journal::<PocState>::open(&config.data_dir.join(POC_JOURNAL_FILE))?;
	let store = ArtifactStore::open(&config.data_dir.join(POC_DIR))?;
	let book = ProofBook::default();
	let _server = ProofServer::start(&config.poc_listen, book.clone())?;
	let registry = polkadot_sdk::substrate_prometheus_endpoint::Registry::new();
	let metrics = Metrics::new(&registry)?;
	crate::metrics::serve(&config.metrics_listen, registry)?;
	#[cfg(not(feature = "test-cheats"))]
	let (cheat, inference_engine) = (crate::duty::poc::PocCheat::Honest, engine.clone());
	#[cfg(feature = "test-cheats")]
	let (cheat, inference_engine) = match &config.cheat.inference_model_file {
		Some(file) => {
			tracing::warn!(file = %file.display(), "CHEATING: inference with another model file");
			let (model, tokenizer) = crate::model::open(file, &device)?;
			let other = ModelEngine {
				model_id: config.model_id,
				model,
				tokenizer,
				tolerance: Tolerance::default(),
			};
			(config.cheat.poc, Rc::new(other))
		}
		None => (config.cheat.poc, engine.clone()),
	};
	let settings =
		PocSettings { batch: config.poc_batch, max_nonces: config.poc_max_nonces, cheat };
	let poll = Duration::from_millis(config.poll_ms);
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
			check_model(&client, &config).await?;
			checked = true;
		}
		let chain = NodeChain::new(client.clone(), host.clone(), worker.clone());
		let poc_chain = NodeChain::new(client, host.clone(), worker.clone());
		let mut duty = InferenceDuty::new(chain, inference_engine.clone(), journal);
		let mut poc = PocDuty::new(
			poc_chain,
			engine.clone(),
			RpcProofs,
			store.clone(),
			poc_journal,
			book.clone(),
			vec![config.model_id],
			settings,
		);
		let stopped = loop {
			let progress = match duty.step().await {
				Ok(progress) => progress,
				Err(StepError::Unavailable(reason)) => break Stopped::Unavailable(reason),
				Err(StepError::Journal(error)) => break Stopped::Fatal(error.into()),
			};
			if progress != Default::default() {
				tracing::info!(?progress, "inference step");
			}
			metrics.inference(&progress);
			if let Ok(finalized) = duty.chain().finalized().await {
				metrics.chain(finalized, duty.journal().state.next_block);
			}
			let poc_progress = match poc.step().await {
				Ok(progress) => progress,
				Err(PocStepError::Unavailable(reason)) => break Stopped::Unavailable(reason),
				Err(PocStepError::Local(error)) => break Stopped::Fatal(error.into()),
			};
			if poc_progress != Default::default() {
				tracing::debug!(?poc_progress, "PoC step");
			}
			metrics.poc(&poc_progress);
			// Generation computes back to back; otherwise wait for the chain.
			if poc_progress.computed == 0 {
				tokio::time::sleep(poll).await;
			}
		};
		(_, journal) = duty.into_parts();
		(_, poc_journal) = poc.into_parts();
		match stopped {
			Stopped::Unavailable(reason) => {
				metrics.node_lost();
				tracing::warn!(%reason, retry_in = ?backoff, "lost the node; reconnecting");
				tokio::time::sleep(backoff).await;
			}
			Stopped::Fatal(error) => return Err(error),
		}
	}
}
