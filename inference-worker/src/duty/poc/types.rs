//! The PoC duties' data: the epoch and its phases as the duties see them, a model's PoC
//! record, the journal's [`PocState`], what a step did and why it stopped, the worker's
//! PoC settings and cheats, and the leaves another host serves.

use crate::{duty::SubmitError, Error};
use gonka_client::PocParams;
use gonka_primitives::{EpochIndex, ModelId, H256};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

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

	/// The blocks left until validation ends, the next one included (0 once it has ended).
	pub fn validation_blocks_left(&self) -> u32 {
		let end = self
			.start
			.saturating_add(self.generation)
			.saturating_add(self.delay)
			.saturating_add(self.validation);
		end.saturating_sub(self.finalized.saturating_add(1))
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

/// One leaf as a validator receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServedLeaf {
	/// The leaf's index (its nonce).
	pub index: u64,
	/// The artifact shown (24 bytes when well formed).
	pub artifact: Vec<u8>,
	/// The Merkle proof shown.
	pub proof: Vec<H256>,
}

/// Why another host served no proofs.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
	/// The host has no registered endpoint.
	#[error("not registered")]
	NotRegistered,
	/// Its endpoint could not be reached, refused the call or answered something malformed.
	#[error("{endpoint}: {reason}")]
	Endpoint {
		/// The endpoint asked.
		endpoint: String,
		/// What went wrong, in the client's words.
		reason: String,
	},
	/// Its endpoint served nothing, slowly: no proofs within the validator's timeout, or
	/// a failure that took a good part of it.
	#[error("{endpoint}: {reason}")]
	Slow {
		/// The endpoint asked.
		endpoint: String,
		/// What went wrong, and how long it took.
		reason: String,
	},
}

impl FetchError {
	/// Whether asking again on a later block may get proofs: not from an endpoint that
	/// fails slowly (asked again, one that holds each call open, or answers an error just
	/// before the timeout, would cost a validator that much on every ask, and its batch the
	/// end of validation).
	pub fn worth_asking_again(&self) -> bool {
		!matches!(self, FetchError::Slow { .. })
	}
}
