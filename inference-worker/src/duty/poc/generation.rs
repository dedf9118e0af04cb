//! PoC generation: one batch of nonces per step, appended to the epoch's artifact file,
//! and the commitments `(epoch, model, count, root)` sent every `⌈G/8⌉` blocks and in each
//! of the last two generation blocks.

use super::{
	PocChain, PocCheat, PocDuty, PocEpoch, PocModel, PocProgress, PocStepError, ProofSource, Prover,
};
use crate::{
	duty::{artifacts::ARTIFACT_BYTES, SubmitError},
	Result,
};
use gonka_primitives::{bounds::MAX_COMMITS_PER_MODEL, duty::PocCommit, ModelId};

/// Commitments per model spread over generation: half of the chain's budget, so that the
/// two sent in the last two generation blocks (and a resend) always fit.
const COMMITS_PER_GENERATION: u32 = MAX_COMMITS_PER_MODEL / 2;
const _: () = assert!(COMMITS_PER_GENERATION + 2 <= MAX_COMMITS_PER_MODEL);

impl<C: PocChain, P: Prover, S: ProofSource> PocDuty<C, P, S> {
	/// A generation step for `model`, with `remaining` generation blocks counting the
	/// next one: computes a batch (unless the last commitment is sent or the limit is
	/// reached), then commits if one is due.
	pub(super) async fn generate(
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
			let computed = self.compute(epoch, model, &info, count, batch)?;
			progress.computed = progress.computed.saturating_add(computed);
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

	/// Computes the artifacts of nonces `count..count + batch` (as the settings' cheat
	/// does), appends them to the epoch's file and returns how many were computed.
	fn compute(
		&mut self,
		epoch: &PocEpoch,
		model: ModelId,
		info: &PocModel,
		count: u64,
		batch: u64,
	) -> Result<u64> {
		let nonces: Vec<u64> = (count..count.saturating_add(batch)).collect();
		let host = self.chain.host().clone();
		let started = std::time::Instant::now();
		let computed: Vec<[u8; ARTIFACT_BYTES]> = match self.settings.cheat {
			PocCheat::Honest => {
				self.prover.artifacts(model, &epoch.seed, &host, info.params.seq_len, &nonces)?
			}
			#[cfg(feature = "test-cheats")]
			cheat => super::cheats::artifacts(cheat, &self.prover, model, epoch, &host, info, &nonces)?,
		};
		let batch = computed.len() as u64;
		self.store.append(epoch.index, model, count, &computed)?;
		self.loaded(epoch.index, model)?.extend_from_slice(&computed);
		self.computed.0 = self.computed.0.saturating_add(batch);
		self.computed.1 = self.computed.1.saturating_add(started.elapsed());
		Ok(batch)
	}

	/// Sends the commitment of the first `count` artifacts; a refusal is logged, the
	/// block it was sent at recorded either way.
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
}
