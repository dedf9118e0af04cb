//! After generation: serving this host's committed proofs, and validating the other
//! hosts of the roster — the spec's sample from the hash of block `S+G`, their leaves
//! fetched and judged ([`judge`](super::judge)), one batch of verdicts per model.

use super::{
	judge, FetchError, PocChain, PocDuty, PocEpoch, PocModel, PocProgress, PocStepError,
	ProofSource, Prover,
};
use crate::duty::SubmitError;
use gonka_primitives::{
	bounds::POC_SAMPLE_SIZE, duty::Verdict, sample::SampleSeed, HostId, ModelId, H256,
};

impl<C: PocChain, P: Prover, S: ProofSource> PocDuty<C, P, S> {
	/// Serves the commitment the chain holds for this host (once per model and epoch).
	pub(super) async fn serve(
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

	/// Judges every other host of the roster and sends one batch, once the chain has
	/// built the epoch's rosters.
	pub(super) async fn validate(
		&mut self,
		epoch: &PocEpoch,
		model: ModelId,
		progress: &mut PocProgress,
	) -> Result<(), PocStepError> {
		let Some(info) = self.chain.model(model).await? else { return Ok(()) };
		let host = self.chain.host().clone();
		let Some(roster) = self.chain.roster(epoch.index, model).await? else {
			// The chain is still building the rosters: validate on a later block.
			return Ok(());
		};
		let generation_end = self.chain.block_hash(epoch.generation_end()).await?;
		let genesis = self.chain.genesis_hash();
		let mut verdicts = Vec::new();
		for other in roster.iter().filter(|other| **other != host) {
			let seeds = (&genesis, &generation_end);
			if let Some(verdict) = self.judge_host(epoch, model, &info, seeds, other).await? {
				verdicts.push(verdict);
			}
		}
		if !verdicts.is_empty() {
			self.send_verdicts(epoch, model, verdicts, progress).await?;
		}
		self.journal.state.validated.insert(model);
		self.journal.save()?;
		Ok(())
	}

	/// This host's verdict on `other`'s commitment (none if it has none): the sample drawn
	/// from the genesis hash and the hash of block `S+G` (`seeds`), its leaves fetched from
	/// `other`'s endpoint and judged.
	async fn judge_host(
		&self,
		epoch: &PocEpoch,
		model: ModelId,
		info: &PocModel,
		(genesis, generation_end): (&H256, &H256),
		other: &HostId,
	) -> Result<Option<Verdict>, PocStepError> {
		let Some(commitment) = self.chain.commitment(epoch.index, other, model).await? else {
			return Ok(None);
		};
		let host = self.chain.host();
		let seed = SampleSeed {
			genesis_hash: genesis,
			generation_end_hash: generation_end,
			validator: host,
			host: other,
			model,
		};
		let indices = seed.leaf_indices(commitment.count, POC_SAMPLE_SIZE);
		let served = match self.chain.endpoint(other).await? {
			Some(endpoint) => self.proofs.fetch(&endpoint, epoch.index, model, &indices).await,
			None => Err(FetchError::NotRegistered),
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
		Ok(Some(Verdict { host: other.clone(), valid: judgement.valid }))
	}

	/// Sends one batch of verdicts; a refusal is logged (the chain takes one batch per
	/// validator, model and epoch).
	async fn send_verdicts(
		&mut self,
		epoch: &PocEpoch,
		model: ModelId,
		verdicts: Vec<Verdict>,
		progress: &mut PocProgress,
	) -> Result<(), PocStepError> {
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
		Ok(())
	}
}
