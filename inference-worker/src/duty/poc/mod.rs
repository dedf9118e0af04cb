//! The Proof-of-Compute duties (`protocol.md`, "Proof of Compute"), as job logic over
//! three traits so that they run (and are tested) without a node, a model or a network:
//!
//! - [`PocChain`]: the epoch, the models' PoC parameters, commitments, rosters and
//!   endpoints, and the two PoC duty transactions (signed with the worker key by the
//!   implementation);
//! - [`Prover`]: computing artifacts ([`crate::poc::PocEngine`] on the loaded model);
//! - [`ProofSource`]: fetching another host's artifacts with their Merkle proofs from its
//!   registered endpoint ([`crate::api::proofs::RpcProofs`] over JSON-RPC).
//!
//! Each [`PocDuty::step`] looks at the newest finalized block and, for every model this
//! worker serves:
//!
//! - **generation** (the next block is in `[S, S+G)`): computes one batch of nonces,
//!   appends their artifacts to the epoch's file ([`ArtifactStore`]), and commits
//!   `(epoch, model, count, root)` every `⌈G/8⌉` blocks and in each of the last two
//!   generation blocks (so the last commitment before generation ends counts, within the
//!   chain's 16 commitments per model and epoch);
//! - **serving**, from generation on: the committed prefix of its artifacts with their
//!   proofs ([`ProofBook`]) — the commitment the chain holds, read back from the chain at
//!   every step of generation and once after it, so a restarted worker serves exactly
//!   what it committed, and a worker busy when validation opens (replaying an inference,
//!   say) already serves;
//! - **validation** (once the block opening validation is finalized and the chain has built
//!   the epoch's rosters, a few models per block): for every other host of the roster, draws the spec's sample from the hash of block `S+G`, fetches
//!   those leaves, checks each proof against the committed root, recomputes the artifacts
//!   and counts mismatches (a leaf not shown, or shown with a bad proof, is a mismatch),
//!   runs the binomial test with the model's parameters ([`judge`]), and sends **one**
//!   batch of verdicts for the model. A host whose endpoint serves nothing is asked again
//!   on later blocks, and judged invalid only at the [`last_chance`] (half of validation
//!   left, at least [`LAST_CHANCE_BLOCKS`]: the batch then has blocks to spare).
//!
//! The [`PocState`] journal (epoch, last commitment per model, batches sent) and the
//! artifact files let a killed worker carry on in the same epoch: it resumes generation at
//! the count on disk, never commits a smaller count, and never sends a second batch (a
//! copy the chain refuses is recorded as sent).
//!
//! Files: `types.rs` (the epoch, the journal's state, progress, settings), `generation.rs`
//! (compute and commit), `validation.rs` (serve and validate), `judgement.rs` (one
//! commitment's judgement), `cheats.rs` (`test-cheats` only).

#[cfg(feature = "test-cheats")]
mod cheats;
mod generation;
mod judgement;
mod types;
mod validation;

pub use judgement::{judge, Judgement};
pub use types::{
	FetchError, PocCheat, PocEpoch, PocModel, PocPhase, PocProgress, PocSettings, PocState,
	PocStepError, ServedLeaf,
};
pub use validation::{last_chance, LAST_CHANCE_BLOCKS};

use super::{
	artifacts::{ArtifactStore, ARTIFACT_BYTES},
	journal::Journal,
	SubmitError,
};
use crate::{api::proofs::ProofBook, Result};
use gonka_client::Commitment;
use gonka_primitives::{duty::PocCommit, duty::Verdict, EpochIndex, HostId, ModelId, H256};
use std::collections::BTreeMap;

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
	/// The hosts that committed for `model` in `epoch`; `None` while the chain is still
	/// building the epoch's rosters (from the end of generation, a few models per block).
	fn roster(
		&self,
		epoch: EpochIndex,
		model: ModelId,
	) -> impl core::future::Future<Output = Result<Option<Vec<HostId>>, SubmitError>>;
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
	/// Sends a validator's batch of verdicts on one model; returns once the chain's pool
	/// accepted it (the worker's other duties go on meanwhile).
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
	/// Asks `endpoint` for the leaves `indices` of its commitment of `count` leaves for
	/// `model` in `epoch`. An error means it served nothing (unreachable, refused, not that
	/// commitment, malformed answer).
	fn fetch(
		&self,
		endpoint: &str,
		epoch: EpochIndex,
		model: ModelId,
		count: u64,
		indices: &[u64],
	) -> impl core::future::Future<Output = Result<Vec<ServedLeaf>, FetchError>>;
}

/// One loaded model shared by the duties and the channels' endpoint (another thread).
impl<T: Prover + ?Sized> Prover for std::sync::Arc<T> {
	fn serves(&self, model: ModelId) -> bool {
		(**self).serves(model)
	}

	fn artifacts(
		&self,
		model: ModelId,
		seed: &H256,
		host: &HostId,
		seq_len: u32,
		nonces: &[u64],
	) -> Result<Vec<[u8; ARTIFACT_BYTES]>> {
		(**self).artifacts(model, seed, host, seq_len, nonces)
	}
}

/// One loaded model shared by the inference and the PoC duties.
impl<T: Prover + ?Sized> Prover for std::rc::Rc<T> {
	fn serves(&self, model: ModelId) -> bool {
		(**self).serves(model)
	}

	fn artifacts(
		&self,
		model: ModelId,
		seed: &H256,
		host: &HostId,
		seq_len: u32,
		nonces: &[u64],
	) -> Result<Vec<[u8; ARTIFACT_BYTES]>> {
		(**self).artifacts(model, seed, host, seq_len, nonces)
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
	/// Per model, the chain's commitment this epoch's proofs are served for.
	serving: BTreeMap<ModelId, validation::Serving>,
	/// Per model, where this validator stands with each host it has asked this epoch.
	judged: BTreeMap<ModelId, BTreeMap<HostId, validation::Judged>>,
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
			serving: BTreeMap::new(),
			judged: BTreeMap::new(),
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
		let generating = matches!(phase, PocPhase::Generation { .. });
		for model in self.models.clone() {
			if let PocPhase::Generation { remaining } = phase {
				self.generate(&epoch, model, remaining, &mut progress).await?;
			}
			self.serve(&epoch, model, generating, &mut progress).await?;
		}
		if generating {
			return Ok(progress);
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
		self.judged.clear();
		self.computed = (0, std::time::Duration::ZERO);
		self.book.retain_from(index);
		self.store.prune_before(index)
	}

	/// The current epoch's artifacts of `model`, read from disk the first time.
	fn loaded(
		&mut self,
		epoch: EpochIndex,
		model: ModelId,
	) -> Result<&mut Vec<[u8; ARTIFACT_BYTES]>> {
		if !self.artifacts.contains_key(&model) {
			let artifacts = self.store.load(epoch, model)?;
			self.artifacts.insert(model, artifacts);
		}
		Ok(self.artifacts.entry(model).or_default())
	}
}
