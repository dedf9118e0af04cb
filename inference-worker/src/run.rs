//! `gonka-worker run`: the inference duties against a node, for as long as the process
//! lives. The node may go away and come back: the worker reconnects with a backoff (1 s,
//! doubling to 30 s) and carries on from its journal.

use crate::{
	config::WorkerConfig,
	duty::{
		engine::ModelEngine,
		inference::{InferenceDuty, StepError},
		journal::Journal,
		node::NodeChain,
	},
	score::Tolerance,
};
use gonka_client::ChainClient;
use std::time::Duration;

/// The longest wait between two connection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The journal's file in the data directory.
pub const JOURNAL_FILE: &str = "inference-journal.json";

/// Loads the model and runs the duties until an error that retrying cannot fix (the
/// journal cannot be written).
pub async fn run(config: WorkerConfig) -> anyhow::Result<()> {
	let host = config.host().map_err(anyhow::Error::msg)?;
	let worker = config.worker_key().map_err(anyhow::Error::msg)?;
	std::fs::create_dir_all(&config.data_dir)?;
	let (model, tokenizer) = crate::model::open(&config.model_file, &candle_core::Device::Cpu)?;
	let mut engine = ModelEngine {
		model_id: config.model_id,
		model,
		tokenizer,
		tolerance: Tolerance::default(),
	};
	let mut journal = Journal::open(&config.data_dir.join(JOURNAL_FILE))?;
	let poll = Duration::from_millis(config.poll_ms);
	let mut backoff = Duration::from_secs(1);
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
		let chain = NodeChain::new(client, host.clone(), worker.clone());
		let mut duty = InferenceDuty::new(chain, engine, journal);
		let stopped = loop {
			match duty.step().await {
				Ok(progress) => {
					if progress != Default::default() {
						tracing::info!(?progress, "step");
					}
					tokio::time::sleep(poll).await;
				}
				Err(error) => break error,
			}
		};
		(engine, journal) = duty.into_parts();
		match stopped {
			StepError::Unavailable(reason) => {
				tracing::warn!(%reason, retry_in = ?backoff, "lost the node; reconnecting");
				tokio::time::sleep(backoff).await;
			}
			StepError::Journal(error) => return Err(error.into()),
		}
	}
}
