//! The Proof-of-Compute duties (`protocol.md`, "Proof of Compute"), as job logic over
//! three traits so that they run (and are tested) without a node, a model or a network:
//!
//! - [`PocChain`]: the epoch, the models' PoC parameters, commitments, rosters and
//!   endpoints, and the two PoC duty transactions (signed with the worker key by the
//!   implementation);
//! - [`Prover`]: computing artifacts ([`crate::poc::PocEngine`] on the loaded model);
//! - [`ProofSource`]: fetching another host's artifacts with their Merkle proofs from its
//!   registered endpoint ([`super::proofs`] over JSON-RPC).
//!
//! Each [`PocDuty::step`] looks at the newest finalized block and, for every model this
//! worker serves:
//!
//! - **generation** (the next block is in `[S, S+G)`): computes one batch of nonces,
//!   appends their artifacts to the epoch's file ([`ArtifactStore`]), and commits
//!   `(epoch, model, count, root)` every `⌈G/8⌉` blocks and in each of the last two
//!   generation blocks (so the last commitment before generation ends counts, within the
//!   chain's 16 commitments per model and epoch);
//! - **after generation**: serves the committed prefix of its artifacts with their proofs
//!   ([`ProofBook`]) — the commitment the chain holds, read back from the chain, so a
//!   restarted worker serves exactly what it committed;
//! - **validation** (once the block opening validation is finalized): for every other host
//!   of the chain's roster, draws the spec's sample from the hash of block `S+G`, fetches
//!   those leaves, checks each proof against the committed root, recomputes the artifacts
//!   and counts mismatches (a leaf not shown, or shown with a bad proof, is a mismatch; a
//!   host whose endpoint serves nothing is invalid), runs the binomial test with the
//!   model's parameters ([`judge`]), and sends **one** batch of verdicts for the model.
//!
//! The [`PocState`] journal (epoch, last commitment per model, batches sent) and the
//! artifact files let a killed worker carry on in the same epoch: it resumes generation at
//! the count on disk, never commits a smaller count, and never sends a second batch (a
//! copy the chain refuses is recorded as sent).

use super::{
	artifacts::{ArtifactStore, ARTIFACT_BYTES},
	journal::Journal,
	proofs::{ProofBook, ServedLeaf},
	SubmitError,
};
use crate::{poc::Artifact, Error, Result};
use gonka_client::{Commitment, PocParams};
use gonka_primitives::{
	binomial,
	duty::{PocCommit, Verdict},
	merkle::{leaf_hash, verify},
	sample::SampleSeed,
	EpochIndex, HostId, ModelId, H256,
};
use polkadot_sdk::sp_arithmetic::{PerThing, Perbill};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Leaves a validator checks per commitment (`N` of the spec).
pub const SAMPLE_SIZE: u32 = 200;

/// Commitments per model spread over generation (the chain allows 16; two more are sent
/// in the last two generation blocks).
const COMMITS_PER_GENERATION: u32 = 8;

/// The epoch in progress, as the PoC duties need it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PocEpoch {
	/// Its index.
	pub index: EpochIndex,
	/// Its first block (`S`).
	pub start: u32,
	/// Its length in blocks.
	pub length: u32,
	/// Blocks of generation (`G`).
	pub generation: u32,
	/// Blocks between generation and validation (`D`).
	pub delay: u32,
	/// Blocks of validation (`V`).
	pub validation: u32,
	/// The PoC seed (hash of block `S-1`).
	pub seed: H256,
	/// The newest finalized block.
	pub finalized: u32,
}

/// Where the next block falls in an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PocPhase {
	/// Generation, with the blocks of it left counting the next one (1: the next block is
	/// its last).
	Generation { remaining: u32 },
	/// Between generation and validation.
	Delay,
	/// Validation; the roster exists once the block opening it is finalized.
	Validation { roster_built: bool },
	/// The rest of the epoch.
	Inference,
}

impl PocPhase {
	/// The phase's name, for logs.
	pub fn name(&self) -> &'static str {
		match self {
			PocPhase::Generation { .. } => "generation",
			PocPhase::Delay => "validation delay",
			PocPhase::Validation { .. } => "validation",
			PocPhase::Inference => "inference",
		}
	}
}

impl PocEpoch {
	/// The phase of the block after the newest finalized one; `None` when that block
	/// belongs to the next epoch (its seed is not known yet).
	pub fn next_phase(&self) -> Option<PocPhase> {
		let offset = self.finalized.saturating_add(1).checked_sub(self.start)?;
		if offset >= self.length {
			return None;
		}
		let validation_start = self.generation.saturating_add(self.delay);
		Some(if offset < self.generation {
			PocPhase::Generation { remaining: self.generation.saturating_sub(offset) }
		} else if offset < validation_start {
			PocPhase::Delay
		} else if offset < validation_start.saturating_add(self.validation) {
			PocPhase::Validation { roster_built: offset > validation_start }
		} else {
			PocPhase::Inference
		})
	}

	/// The first block after generation (`S+G`): its hash seeds the validators' samples.
	pub fn generation_end(&self) -> u32 {
		self.start.saturating_add(self.generation)
	}
}

/// A model as the PoC duties need it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PocModel {
	/// Whether hosts may commit for it this epoch.
	pub approved: bool,
	/// Its PoC parameters in force.
	pub params: PocParams,
}

/// The chain as the PoC duties see it. The implementation signs every duty with the host's
/// worker key.
pub trait PocChain {
	/// This host's account.
	fn host(&self) -> &HostId;
	/// The chain's genesis hash (part of the validators' sample seed).
	fn genesis_hash(&self) -> H256;
	/// The epoch in progress at the newest finalized block.
	fn poc_epoch(
		&self,
	) -> impl core::future::Future<Output = Result<Option<PocEpoch>, SubmitError>>;
	/// The hash of finalized block `number`.
	fn block_hash(
		&self,
		number: u32,
	) -> impl core::future::Future<Output = Result<H256, SubmitError>>;
	/// A model of the registry.
	fn model(
		&self,
		model: ModelId,
	) -> impl core::future::Future<Output = Result<Option<PocModel>, SubmitError>>;
	/// The hosts that committed for `model` in `epoch` (built when validation opens).
	fn roster(
		&self,
		epoch: EpochIndex,
		model: ModelId,
	) -> impl core::future::Future<Output = Result<Vec<HostId>, SubmitError>>;
	/// A host's commitment.
	fn commitment(
		&self,
		epoch: EpochIndex,
		host: &HostId,
		model: ModelId,
	) -> impl core::future::Future<Output = Result<Option<Commitment>, SubmitError>>;
	/// A host's registered endpoint, `None` if it is not registered.
	fn endpoint(
		&self,
		host: &HostId,
	) -> impl core::future::Future<Output = Result<Option<String>, SubmitError>>;
	/// Sends a commitment; returns once the chain's pool accepted it (a worker goes on
	/// computing meanwhile; what was included shows in [`PocChain::commitment`]).
	fn commit(
		&self,
		commit: &PocCommit,
	) -> impl core::future::Future<Output = Result<(), SubmitError>>;
	/// Sends a validator's batch of verdicts on one model.
	fn submit_verdicts(
		&self,
		epoch: EpochIndex,
		model: ModelId,
		verdicts: Vec<Verdict>,
	) -> impl core::future::Future<Output = Result<(), SubmitError>>;
}

/// Computes artifacts: this host's while generating, another host's while validating.
pub trait Prover {
	/// Whether this worker has `model` loaded.
	fn serves(&self, model: ModelId) -> bool;
	/// The artifacts of `nonces` of `host` on `model`, for the epoch seed `seed` and
	/// `seq_len` input positions, as the 24 bytes each that are committed.
	fn artifacts(
		&self,
		model: ModelId,
		seed: &H256,
		host: &HostId,
		seq_len: u32,
		nonces: &[u64],
	) -> Result<Vec<[u8; ARTIFACT_BYTES]>>;
}

/// Fetches another host's artifacts with their proofs.
pub trait ProofSource {
	/// Asks `endpoint` for the leaves `indices` of its commitment for `model` in `epoch`.
	/// An error means it served nothing (unreachable, refused, malformed answer).
	fn fetch(
		&self,
		endpoint: &str,
		epoch: EpochIndex,
		model: ModelId,
		indices: &[u64],
	) -> impl core::future::Future<Output = Result<Vec<ServedLeaf>, String>>;
}

/// What the PoC duties keep on disk besides the artifacts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PocState {
	/// The epoch the rest is about.
	pub epoch: Option<EpochIndex>,
	/// The count of the last commitment the chain's pool accepted per model.
	pub committed: BTreeMap<ModelId, u64>,
	/// The finalized block at the last commitment sent.
	pub last_commit_block: Option<u32>,
	/// The models whose batch of verdicts was sent (included or refused).
	pub validated: BTreeSet<ModelId>,
}

/// A validator's finding on one commitment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judgement {
	/// Whether the commitment holds up.
	pub valid: bool,
	/// Leaves checked.
	pub sampled: u32,
	/// Leaves not shown, shown with a bad proof, or recomputed too far from the shown one.
	pub mismatches: u32,
	/// Why it is invalid, when it is.
	pub reason: Option<String>,
}

/// Judges one commitment of `count` leaves under `root`: `indices` is the sample drawn,
/// `served` what the host's endpoint answered, `recompute` the validator's own artifacts
/// of the given nonces. Leaves whose proofs fail are mismatches and not recomputed.
pub fn judge(
	count: u64,
	root: &H256,
	indices: &[u64],
	served: std::result::Result<Vec<ServedLeaf>, String>,
	params: &PocParams,
	recompute: impl FnOnce(&[u64]) -> Result<Vec<[u8; ARTIFACT_BYTES]>>,
) -> Result<Judgement> {
	let sampled = indices.len() as u32;
	let invalid = |mismatches: u32, reason: String| Judgement {
		valid: false,
		sampled,
		mismatches,
		reason: Some(reason),
	};
	let served = match served {
		Ok(leaves) => leaves,
		Err(reason) => return Ok(invalid(sampled, format!("served no proofs: {reason}"))),
	};
	let by_index: BTreeMap<u64, &ServedLeaf> =
		served.iter().map(|leaf| (leaf.index, leaf)).collect();
	let mut proven = Vec::new();
	let mut shown = Vec::new();
	for index in indices {
		let Some(leaf) = by_index.get(index) else { continue };
		let Ok(artifact) = <[u8; ARTIFACT_BYTES]>::try_from(leaf.artifact.as_slice()) else {
			continue;
		};
		if verify(root, count, *index, &leaf_hash(*index, &artifact), &leaf.proof) {
			proven.push(*index);
			shown.push(artifact);
		}
	}
	let mut mismatches = sampled.saturating_sub(proven.len() as u32);
	if !proven.is_empty() {
		let recomputed = recompute(&proven)?;
		let threshold =
			f64::from(params.dist_threshold.deconstruct()) / f64::from(Perbill::ACCURACY);
		for (theirs, ours) in shown.iter().zip(&recomputed) {
			let distance = Artifact::from_bytes(theirs).distance(&Artifact::from_bytes(ours));
			if distance > threshold {
				mismatches = mismatches.saturating_add(1);
			}
		}
	}
	let rejected = binomial::rejects(sampled, mismatches, params.p_mismatch, params.p_value)
		.map_err(|error| Error::Poc(format!("binomial test: {error:?}")))?;
	Ok(if rejected {
		invalid(
			mismatches,
			format!(
				"{mismatches} of {sampled} sampled leaves mismatch ({} not proven)",
				sampled.saturating_sub(proven.len() as u32)
			),
		)
	} else {
		Judgement { valid: true, sampled, mismatches, reason: None }
	})
}

/// What one [`PocDuty::step`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PocProgress {
	/// Nonces computed.
	pub computed: u64,
	/// Commitments the chain's pool accepted.
	pub committed: u32,
	/// Commitments now served to validators.
	pub served: u32,
	/// Batches of verdicts sent.
	pub validated: u32,
	/// Commitments judged valid in the batches sent.
	pub judged_valid: u32,
	/// Commitments judged invalid in the batches sent.
	pub judged_invalid: u32,
}

/// Why a step stopped.
#[derive(Debug, thiserror::Error)]
pub enum PocStepError {
	/// The node went away: reconnect and step again.
	#[error("node unavailable: {0}")]
	Unavailable(String),
	/// The journal or the artifact files cannot be written, or the model failed: stop.
	#[error(transparent)]
	Local(#[from] Error),
}

impl From<SubmitError> for PocStepError {
	fn from(error: SubmitError) -> Self {
		match error {
			SubmitError::Unavailable(reason) | SubmitError::Refused(reason) => {
				PocStepError::Unavailable(reason)
			}
		}
	}
}

/// How a worker computes PoC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PocSettings {
	/// Nonces per forward pass (and per step).
	pub batch: u32,
	/// The most nonces per model and epoch (`None`: as many as generation allows).
	pub max_nonces: Option<u64>,
	/// How it cheats: only with the `test-cheats` feature, which release builds never
	/// enable; otherwise always honest.
	pub cheat: PocCheat,
}

/// A PoC cheat, for the tests that must catch it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PocCheat {
	/// Computes every nonce on the model.
	#[default]
	Honest,
	/// Commits random artifacts without running the model.
	#[cfg(feature = "test-cheats")]
	RandomArtifacts,
	/// Computes half its nonces and pads each batch with as many copies: a count twice
	/// what it computed, with leaves whose proofs hold but whose artifacts are wrong.
	#[cfg(feature = "test-cheats")]
	InflatedCount,
}

/// The cheats' artifacts (`test-cheats` only).
#[cfg(feature = "test-cheats")]
mod cheats {
	use super::*;

	pub(super) fn artifacts<P: Prover>(
		cheat: PocCheat,
		prover: &P,
		model: ModelId,
		epoch: &PocEpoch,
		host: &HostId,
		info: &PocModel,
		nonces: &[u64],
	) -> Result<Vec<[u8; ARTIFACT_BYTES]>> {
		match cheat {
			PocCheat::Honest => {
				prover.artifacts(model, &epoch.seed, host, info.params.seq_len, nonces)
			}
			PocCheat::RandomArtifacts => Ok(nonces
				.iter()
				.map(|nonce| {
					let hash = gonka_primitives::hash_concat(&[
						b"cheat",
						epoch.seed.as_bytes(),
						&nonce.to_le_bytes(),
					]);
					let mut artifact = [0u8; ARTIFACT_BYTES];
					for (value, chunk) in artifact.chunks_exact_mut(2).zip(hash.chunks_exact(2)) {
						let x = (f32::from(chunk[0]) - 128.0) / 128.0;
						value.copy_from_slice(&half::f16::from_f32(x).to_le_bytes());
					}
					artifact
				})
				.collect()),
			PocCheat::InflatedCount => {
				let half = &nonces[..nonces.len().div_ceil(2)];
				let honest =
					prover.artifacts(model, &epoch.seed, host, info.params.seq_len, half)?;
				let padding = nonces.len() - honest.len();
				let copy = honest.first().copied().unwrap_or([0; ARTIFACT_BYTES]);
				Ok(honest.into_iter().chain(std::iter::repeat_n(copy, padding)).collect())
			}
		}
	}
}

/// The PoC duties of one host.
pub struct PocDuty<C, P, S> {
	chain: C,
	prover: P,
	proofs: S,
	store: ArtifactStore,
	journal: Journal<PocState>,
	book: ProofBook,
	models: Vec<ModelId>,
	settings: PocSettings,
	/// The current epoch's artifacts per model, as on disk.
	artifacts: BTreeMap<ModelId, Vec<[u8; ARTIFACT_BYTES]>>,
	/// Models whose commitment is served (or could not be) this epoch.
	serving: BTreeSet<ModelId>,
	/// The epoch and phase last logged.
	phase_logged: Option<(EpochIndex, &'static str)>,
	/// Nonces computed by this process in the epoch, and the time it took.
	computed: (u64, std::time::Duration),
}

impl<C: PocChain, P: Prover, S: ProofSource> PocDuty<C, P, S> {
	/// The duties for `models` (those the prover serves), keeping artifacts in `store`,
	/// state in `journal`, and serving proofs through `book`.
	#[allow(clippy::too_many_arguments)]
	pub fn new(
		chain: C,
		prover: P,
		proofs: S,
		store: ArtifactStore,
		journal: Journal<PocState>,
		book: ProofBook,
		models: Vec<ModelId>,
		settings: PocSettings,
	) -> Self {
		Self {
			chain,
			prover,
			proofs,
			store,
			journal,
			book,
			models,
			settings,
			artifacts: BTreeMap::new(),
			serving: BTreeSet::new(),
			phase_logged: None,
			computed: (0, std::time::Duration::ZERO),
		}
	}

	/// Gives back the prover and the journal (to reconnect with a new chain).
	pub fn into_parts(self) -> (P, Journal<PocState>) {
		(self.prover, self.journal)
	}

	/// The journal's state.
	pub fn state(&self) -> &PocState {
		&self.journal.state
	}

	/// Handles the newest finalized block: generation, serving, or validation.
	pub async fn step(&mut self) -> Result<PocProgress, PocStepError> {
		let mut progress = PocProgress::default();
		let Some(epoch) = self.chain.poc_epoch().await? else { return Ok(progress) };
		self.enter(epoch.index)?;
		let Some(phase) = epoch.next_phase() else { return Ok(progress) };
		if self.phase_logged != Some((epoch.index, phase.name())) {
			self.phase_logged = Some((epoch.index, phase.name()));
			tracing::info!(
				epoch = epoch.index,
				phase = phase.name(),
				next_block = epoch.finalized.saturating_add(1),
				"PoC phase"
			);
		}
		if let PocPhase::Generation { remaining } = phase {
			for model in self.models.clone() {
				self.generate(&epoch, model, remaining, &mut progress).await?;
			}
			return Ok(progress);
		}
		for model in self.models.clone() {
			self.serve(&epoch, model, &mut progress).await?;
		}
		if phase == (PocPhase::Validation { roster_built: true }) {
			for model in self.models.clone() {
				if !self.journal.state.validated.contains(&model) {
					self.validate(&epoch, model, &mut progress).await?;
				}
			}
		}
		Ok(progress)
	}

	/// Starts a new epoch's state (and drops the older epochs' artifacts) when `index` is
	/// not the journal's epoch.
	fn enter(&mut self, index: EpochIndex) -> Result<()> {
		if self.journal.state.epoch == Some(index) {
			return Ok(());
		}
		self.journal.state = PocState { epoch: Some(index), ..PocState::default() };
		self.journal.save()?;
		self.artifacts.clear();
		self.serving.clear();
		self.computed = (0, std::time::Duration::ZERO);
		self.book.retain_from(index);
		self.store.prune_before(index)
	}

	fn loaded(&mut self, epoch: EpochIndex, model: ModelId) -> Result<&mut Vec<[u8; 24]>> {
		if !self.artifacts.contains_key(&model) {
			let artifacts = self.store.load(epoch, model)?;
			self.artifacts.insert(model, artifacts);
		}
		Ok(self.artifacts.entry(model).or_default())
	}

	async fn generate(
		&mut self,
		epoch: &PocEpoch,
		model: ModelId,
		remaining: u32,
		progress: &mut PocProgress,
	) -> Result<(), PocStepError> {
		let Some(info) = self.chain.model(model).await? else { return Ok(()) };
		if !info.approved || !self.prover.serves(model) {
			return Ok(());
		}
		let last_blocks = remaining <= 2;
		// Nonces computed after the commitment sent for the last generation block would
		// never be committed: stop there.
		let done = remaining <= 1 && self.journal.state.last_commit_block == Some(epoch.finalized);
		let count = self.loaded(epoch.index, model)?.len() as u64;
		let room = match self.settings.max_nonces {
			_ if done => 0,
			Some(max) => max.saturating_sub(count),
			None => u64::MAX,
		};
		let batch = u64::from(self.settings.batch.max(1)).min(room);
		if batch > 0 {
			let nonces: Vec<u64> = (count..count.saturating_add(batch)).collect();
			let host = self.chain.host().clone();
			let started = std::time::Instant::now();
			let computed = match self.settings.cheat {
				PocCheat::Honest => self.prover.artifacts(
					model,
					&epoch.seed,
					&host,
					info.params.seq_len,
					&nonces,
				)?,
				#[cfg(feature = "test-cheats")]
				cheat => cheats::artifacts(cheat, &self.prover, model, epoch, &host, &info, &nonces)?,
			};
			let batch = computed.len() as u64;
			self.store.append(epoch.index, model, count, &computed)?;
			self.loaded(epoch.index, model)?.extend_from_slice(&computed);
			progress.computed = progress.computed.saturating_add(batch);
			self.computed.0 = self.computed.0.saturating_add(batch);
			self.computed.1 = self.computed.1.saturating_add(started.elapsed());
		}
		let count = self.loaded(epoch.index, model)?.len() as u64;
		let committed = self.journal.state.committed.get(&model).copied().unwrap_or(0);
		let interval = epoch.generation.div_ceil(COMMITS_PER_GENERATION).max(1);
		let due = match self.journal.state.last_commit_block {
			None => true,
			Some(last) if last_blocks => epoch.finalized > last,
			Some(last) => epoch.finalized >= last.saturating_add(interval),
		};
		if count > committed && due {
			self.commit(epoch, model, count, progress).await?;
		}
		Ok(())
	}

	async fn commit(
		&mut self,
		epoch: &PocEpoch,
		model: ModelId,
		count: u64,
		progress: &mut PocProgress,
	) -> Result<(), PocStepError> {
		let artifacts = self.loaded(epoch.index, model)?;
		let tree = gonka_primitives::merkle::MerkleTree::from_artifacts(
			artifacts.iter().take(count as usize).map(|a| a.as_slice()),
		);
		let commit = PocCommit { epoch: epoch.index, model, count, root: tree.root() };
		self.journal.state.last_commit_block = Some(epoch.finalized);
		match self.chain.commit(&commit).await {
			Ok(()) => {
				let seconds = self.computed.1.as_secs_f64();
				let rate = if seconds > 0.0 { self.computed.0 as f64 / seconds } else { 0.0 };
				tracing::info!(
					epoch = epoch.index,
					model,
					count,
					nonces_per_s = format!("{rate:.2}"),
					"PoC commitment sent"
				);
				self.journal.state.committed.insert(model, count);
				progress.committed = progress.committed.saturating_add(1);
			}
			Err(SubmitError::Refused(reason)) => {
				tracing::warn!(epoch = epoch.index, model, count, %reason, "PoC commitment refused");
			}
			Err(SubmitError::Unavailable(reason)) => {
				self.journal.save()?;
				return Err(PocStepError::Unavailable(reason));
			}
		}
		self.journal.save()?;
		Ok(())
	}

	/// Serves the commitment the chain holds for this host (once per model and epoch).
	async fn serve(
		&mut self,
		epoch: &PocEpoch,
		model: ModelId,
		progress: &mut PocProgress,
	) -> Result<(), PocStepError> {
		if self.serving.contains(&model) {
			return Ok(());
		}
		let host = self.chain.host().clone();
		let Some(commitment) = self.chain.commitment(epoch.index, &host, model).await? else {
			self.serving.insert(model);
			return Ok(());
		};
		self.serving.insert(model);
		let artifacts = self.loaded(epoch.index, model)?;
		let Some(prefix) = artifacts.get(..commitment.count as usize) else {
			tracing::error!(
				epoch = epoch.index,
				model,
				committed = commitment.count,
				on_disk = artifacts.len(),
				"the committed artifacts are not on disk: validators will find no proofs"
			);
			return Ok(());
		};
		let prefix = prefix.to_vec();
		if !self.book.publish(epoch.index, model, prefix, &commitment.root) {
			tracing::error!(
				epoch = epoch.index,
				model,
				"the artifacts on disk do not match the committed root: validators will \
				 find no proofs"
			);
			return Ok(());
		}
		tracing::info!(epoch = epoch.index, model, count = commitment.count, "serving PoC proofs");
		progress.served = progress.served.saturating_add(1);
		Ok(())
	}

	/// Judges every other host of the roster and sends one batch.
	async fn validate(
		&mut self,
		epoch: &PocEpoch,
		model: ModelId,
		progress: &mut PocProgress,
	) -> Result<(), PocStepError> {
		let Some(info) = self.chain.model(model).await? else { return Ok(()) };
		let host = self.chain.host().clone();
		let roster = self.chain.roster(epoch.index, model).await?;
		let generation_end = self.chain.block_hash(epoch.generation_end()).await?;
		let genesis = self.chain.genesis_hash();
		let mut verdicts = Vec::new();
		for other in roster.iter().filter(|other| **other != host) {
			let Some(commitment) = self.chain.commitment(epoch.index, other, model).await? else {
				continue;
			};
			let seed = SampleSeed {
				genesis_hash: &genesis,
				generation_end_hash: &generation_end,
				validator: &host,
				host: other,
				model,
			};
			let indices = seed.leaf_indices(commitment.count, SAMPLE_SIZE);
			let served = match self.chain.endpoint(other).await? {
				Some(endpoint) => self.proofs.fetch(&endpoint, epoch.index, model, &indices).await,
				None => Err("not registered".to_string()),
			};
			let prover = &self.prover;
			let judgement =
				judge(commitment.count, &commitment.root, &indices, served, &info.params, |n| {
					prover.artifacts(model, &epoch.seed, other, info.params.seq_len, n)
				})?;
			tracing::info!(
				epoch = epoch.index,
				model,
				host = %other,
				valid = judgement.valid,
				sampled = judgement.sampled,
				mismatches = judgement.mismatches,
				reason = judgement.reason.as_deref().unwrap_or(""),
				"PoC judged"
			);
			verdicts.push(Verdict { host: other.clone(), valid: judgement.valid });
		}
		if verdicts.is_empty() {
			self.journal.state.validated.insert(model);
			self.journal.save()?;
			return Ok(());
		}
		let valid = verdicts.iter().filter(|verdict| verdict.valid).count() as u32;
		let invalid = verdicts.len() as u32 - valid;
		match self.chain.submit_verdicts(epoch.index, model, verdicts).await {
			Ok(()) => {
				tracing::info!(epoch = epoch.index, model, valid, invalid, "PoC verdicts sent");
				progress.validated = progress.validated.saturating_add(1);
				progress.judged_valid = progress.judged_valid.saturating_add(valid);
				progress.judged_invalid = progress.judged_invalid.saturating_add(invalid);
			}
			Err(SubmitError::Refused(reason)) => {
				tracing::warn!(epoch = epoch.index, model, %reason, "PoC verdicts refused");
			}
			Err(SubmitError::Unavailable(reason)) => return Err(PocStepError::Unavailable(reason)),
		}
		self.journal.state.validated.insert(model);
		self.journal.save()?;
		Ok(())
	}
}
