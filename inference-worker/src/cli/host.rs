//! The host's and the developer's commands against a node: `register` (the host account
//! registers its worker key, endpoint and models, or updates them), `status` (what the
//! chain and the worker's journals say about this host), and `infer` (a developer's
//! request: signed, waited for, answered with its cost).

use super::{args::InferArgs, runtime};
use crate::{
	config::WorkerConfig,
	duty::{
		journal::{self, Journal, JOURNAL_FILE, POC_JOURNAL_FILE},
		poc::PocState,
	},
};
use anyhow::{bail, Context};
use gonka_client::{ChainClient, Keypair, Outcome, RequestStatus, SecretUri};
use gonka_primitives::{inference::SamplingParams, HostId, ModelId};
use polkadot_sdk::sp_core::{crypto::Ss58Codec, Pair};
use std::{fmt::Write, path::Path, str::FromStr, time::Duration};

/// `gonka-worker register`: registers (or updates) the host of `config`, signed with the
/// account in `account_key_file`, serving `models` (the configuration's when empty), and
/// prints what was done.
pub(crate) fn register_command(
	config: &WorkerConfig,
	account_key_file: &Path,
	endpoint: &str,
	models: Vec<ModelId>,
) -> anyhow::Result<()> {
	let account = account_key(account_key_file)?;
	let models = if models.is_empty() { vec![config.model_id] } else { models };
	let done = runtime()?.block_on(register(config, &account, endpoint, &models))?;
	println!("{done}");
	Ok(())
}

/// `gonka-worker infer`: a developer's request, signed with the account in
/// `--account-key-file`; prints the answer and its cost.
pub(crate) fn infer_command(args: &InferArgs) -> anyhow::Result<()> {
	let developer = account_key(&args.account_key_file)?;
	let sampling = SamplingParams {
		temperature_milli: args.temperature_milli,
		top_p: polkadot_sdk::sp_arithmetic::Perbill::from_parts(args.top_p_parts),
	};
	let answer = runtime()?.block_on(infer(
		&args.node,
		&developer,
		&args.model,
		&args.prompt,
		args.max_tokens,
		sampling,
		Duration::from_secs(args.timeout_secs),
	))?;
	println!("{answer}");
	Ok(())
}

/// An amount of the smallest unit as GNK.
pub fn gnk(amount: u128) -> String {
	let unit = gonka_primitives::issuance::NGNK_PER_GNK;
	let fraction = format!("{:09}", amount % unit);
	let fraction = fraction.trim_end_matches('0');
	if fraction.is_empty() {
		format!("{} GNK", amount / unit)
	} else {
		format!("{}.{fraction} GNK", amount / unit)
	}
}

/// The on-chain id of the model a developer names: an id (`0`), a catalogue name
/// (`smollm2-135m`: the approved model whose weights digest is the catalogue file's), or a
/// registry name (`SmolLM2-135M-Instruct`, any case; an approved one first).
pub async fn resolve_model(client: &ChainClient, spec: &str) -> anyhow::Result<ModelId> {
	if let Ok(id) = spec.parse::<ModelId>() {
		return Ok(id);
	}
	let models = client.models().await?;
	let by_digest = crate::catalog::find(spec).ok().and_then(|known| {
		let digest = hex::decode(known.sha256).ok()?;
		models
			.iter()
			.filter(|(_, view)| view.weights_digest[..] == digest[..])
			.min_by_key(|(_, view)| !view.approved)
	});
	let by_name = || {
		models
			.iter()
			.filter(|(_, view)| view.name.eq_ignore_ascii_case(spec))
			.min_by_key(|(_, view)| !view.approved)
	};
	if let Some((id, _)) = by_digest.or_else(by_name) {
		return Ok(*id);
	}
	let known: Vec<String> = models
		.iter()
		.map(|(id, view)| {
			let status = if view.approved { "" } else { ", not approved" };
			format!("{id} ({}{status})", view.name)
		})
		.collect();
	bail!(
		"no model `{spec}` on this chain: give an id, a catalogue name or a registry name; \
		 the chain has {}",
		if known.is_empty() { "none".to_string() } else { known.join(", ") }
	)
}

/// An account key from a file holding a secret URI (`//Alice`) or a 0x-hex seed.
pub fn account_key(path: &Path) -> anyhow::Result<Keypair> {
	let secret = std::fs::read_to_string(path)
		.with_context(|| format!("account key file {}", path.display()))?;
	let uri = SecretUri::from_str(secret.trim())
		.map_err(|error| anyhow::anyhow!("account key file {}: {error}", path.display()))?;
	Keypair::from_uri(&uri)
		.map_err(|error| anyhow::anyhow!("account key file {}: {error}", path.display()))
}

/// Registers the host of `config` (signed by `account`, which must be that host) with the
/// worker key of `config`, `endpoint` and `models`; a registered host is updated instead.
/// Returns what was done, for the operator.
pub async fn register(
	config: &WorkerConfig,
	account: &Keypair,
	endpoint: &str,
	models: &[ModelId],
) -> anyhow::Result<String> {
	let host = config.host()?;
	let signer = account.public_key().0;
	if signer != *AsRef::<[u8; 32]>::as_ref(&host) {
		bail!(
			"the account key is {}, not the host {host} of the configuration",
			polkadot_sdk::sp_core::crypto::AccountId32::new(signer).to_ss58check()
		);
	}
	if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
		bail!("the endpoint `{endpoint}` is not an http:// or https:// URL");
	}
	if models.is_empty() {
		bail!("a host serves at least one model");
	}
	let worker = config.worker_key()?;
	let client = ChainClient::connect(&config.node).await?;
	let registered = client.poc_host(&host).await?.is_some();
	if registered {
		client.update_host(account, &worker, endpoint.as_bytes(), models).await?;
	} else {
		client.register_host(account, &worker, endpoint.as_bytes(), models).await?;
	}
	Ok(format!(
		"{} host {host}: worker key {}, endpoint {endpoint}, models {models:?}",
		if registered { "updated" } else { "registered" },
		worker.public().to_ss58check(),
	))
}

/// What the chain and the journals say about the host of `config`.
pub async fn status(config: &WorkerConfig) -> anyhow::Result<String> {
	let host = config.host()?;
	let client = ChainClient::connect(&config.node).await?;
	let mut out = String::new();
	let number = client.block_number().await?;
	writeln!(out, "node {}: finalized block {number}", config.node)?;
	let epoch = client.epoch().await?;
	match &epoch {
		Some(epoch) => writeln!(
			out,
			"epoch {} from block {} ({} blocks); next block: {:?}",
			epoch.index, epoch.start, epoch.length, epoch.next_block_phase
		)?,
		None => writeln!(out, "no epoch yet")?,
	}
	let Some(registered) = client.poc_host(&host).await? else {
		writeln!(out, "host {host}: not registered (`gonka-worker register`)")?;
		return Ok(out);
	};
	let key = match config.worker_key() {
		Ok(pair) if pair.public().0 == registered.worker_key => "the worker_key_file's".into(),
		Ok(_) => "NOT the worker_key_file's: its duties would be refused".to_string(),
		Err(reason) => format!("unchecked ({reason})"),
	};
	writeln!(
		out,
		"host {host}: endpoint {}, models {:?}, worker key {}, voting power {}",
		registered.endpoint, registered.models, key, registered.voting_power
	)?;
	let epoch = epoch.map(|epoch| epoch.index);
	for model in &registered.models {
		out += &model_status(&client, &host, *model, epoch).await?;
	}
	out += &inference_status(&client, &host).await?;
	out += &journals_status(&config.data_dir)?;
	Ok(out)
}

/// A model's line of `status`: the host's PoC weight and this epoch's commitment.
async fn model_status(
	client: &ChainClient,
	host: &HostId,
	model: ModelId,
	epoch: Option<gonka_primitives::EpochIndex>,
) -> anyhow::Result<String> {
	let weight = client.poc_weight(host, model).await?;
	let committed = match epoch {
		Some(epoch) => client.commitment(epoch, host, model).await?,
		None => None,
	};
	let committed =
		committed.map_or("none".to_string(), |c| format!("{} nonces, root {:?}", c.count, c.root));
	Ok(format!("model {model}: PoC weight {weight}; this epoch's commitment: {committed}\n"))
}

/// The inference line of `status`: reputation, this epoch's record, pending work.
async fn inference_status(client: &ChainClient, host: &HostId) -> anyhow::Result<String> {
	let inference = client.inference_host(host).await?;
	let stats = &inference.stats;
	Ok(format!(
		"inference: reputation {}; this epoch assigned {}, missed {}, finished {}, validated \
		 {}, invalidated {}, validations {}, missed validations {}{}; pending work {}\n",
		inference.reputation,
		stats.assigned,
		stats.missed,
		stats.finished,
		stats.validated,
		stats.invalidated,
		stats.validations,
		stats.missed_validations,
		if stats.invalid { ", INVALID" } else { "" },
		gnk(inference.pending_work),
	))
}

/// The journals' lines of `status` (none for a journal that cannot be read).
fn journals_status(data_dir: &Path) -> anyhow::Result<String> {
	let mut out = String::new();
	if let Ok(journal) = Journal::<journal::State>::open(&data_dir.join(JOURNAL_FILE)) {
		let state = journal.state;
		writeln!(
			out,
			"worker journal: next block {}, {} jobs waiting, {} duties sent on open requests",
			state.next_block.map_or("-".to_string(), |n| n.to_string()),
			state.jobs.len(),
			state.sent.len(),
		)?;
	}
	if let Ok(journal) = Journal::<PocState>::open(&data_dir.join(POC_JOURNAL_FILE)) {
		let state = journal.state;
		writeln!(
			out,
			"worker PoC journal: epoch {}, commitments sent {:?}, verdicts sent for models {:?}",
			state.epoch.map_or("-".to_string(), |e| e.to_string()),
			state.committed,
			state.validated,
		)?;
	}
	Ok(out)
}

/// A developer's answered request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
	/// The request's id.
	pub request: u64,
	/// The completion.
	pub text: String,
	/// The templated prompt's tokens.
	pub prompt_tokens: u32,
	/// The completion's tokens.
	pub completion_tokens: u32,
	/// What it cost.
	pub cost: u128,
	/// What was held while it ran (all but the cost and the fees of any timers it caused
	/// comes back).
	pub escrow: u128,
	/// The host that executed it.
	pub executor: String,
}

impl std::fmt::Display for Answer {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		writeln!(f, "{}", self.text)?;
		write!(
			f,
			"\nrequest {}: {} prompt + {} completion tokens, cost {} (of {} held), executed by {}",
			self.request,
			self.prompt_tokens,
			self.completion_tokens,
			gnk(self.cost),
			gnk(self.escrow),
			self.executor,
		)
	}
}

/// Sends a request signed by `developer` and waits (up to `timeout`) for its result.
pub async fn infer(
	node: &str,
	developer: &Keypair,
	model: &str,
	prompt: &str,
	max_tokens: u32,
	sampling: SamplingParams,
	timeout: Duration,
) -> anyhow::Result<Answer> {
	if prompt.is_empty() {
		bail!("the prompt is empty");
	}
	let client = ChainClient::connect(node).await?;
	let model = resolve_model(&client, model).await?;
	if client.quote(model, prompt.len() as u32, max_tokens).await?.is_none() {
		bail!("model {model} is not approved on this chain, or the request cannot be priced");
	}
	let submitted = client
		.request(developer, model, prompt.as_bytes(), max_tokens, sampling)
		.await
		.context("the request was refused, or its executor was not drawn (the error says which)")?;
	let id = submitted.request;
	tracing::info!(request = id, executor = %submitted.executor, escrow = %gnk(submitted.escrow), "request included");
	let wait = wait_for_answer(&client, id, submitted.escrow);
	match tokio::time::timeout(timeout, wait).await {
		Ok(answer) => answer,
		Err(_) => bail!(
			"no result for request {id} within {timeout:?}; it stays on chain (escrow held \
			 until it finishes or expires)"
		),
	}
}

/// Polls request `id` until it finishes (its answer; `escrow` is what was held for it) or
/// closes without a result (an error).
async fn wait_for_answer(client: &ChainClient, id: u64, escrow: u128) -> anyhow::Result<Answer> {
	loop {
		if let Some(view) = client.request_view(id).await? {
			if let Some(finish) = &view.request.finish {
				return Ok(Answer {
					request: id,
					text: String::from_utf8_lossy(&view.text).into_owned(),
					prompt_tokens: finish.prompt_tokens,
					completion_tokens: finish.completion_tokens,
					cost: finish.cost,
					escrow,
					executor: polkadot_sdk::sp_core::crypto::AccountId32::new(
						view.request.executor.0,
					)
					.to_ss58check(),
				});
			}
			if let RequestStatus::Closed(outcome) = view.request.status {
				let expired = matches!(outcome, Outcome::Expired);
				bail!(
					"request {id} closed without a result ({outcome:?}){}",
					if expired { "; the escrow was refunded but for its timers' fees" } else { "" }
				);
			}
		}
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
}
