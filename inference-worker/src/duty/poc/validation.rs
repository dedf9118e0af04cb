//! From generation on: serving this host's committed proofs; and validating the other
//! hosts of the roster — the spec's sample from the hash of block `S+G`, their leaves
//! fetched and judged ([`judge`](super::judge)), one batch of verdicts per model.

use super::{
	judge, FetchError, PocChain, PocDuty, PocEpoch, PocModel, PocProgress, PocStepError,
	ProofSource, Prover, ServedLeaf,
};
use crate::duty::SubmitError;
use gonka_client::Commitment;
use gonka_primitives::{
	bounds::POC_SAMPLE_SIZE, duty::Verdict, sample::SampleSeed, HostId, ModelId,
};

/// A host whose endpoint served no proofs is asked again on later blocks, and judged
/// "no proofs" only at the last chance: once half of validation is left, or this many
/// blocks (the next one included) if that is more. The batch then still has blocks to
/// spare to be included, also where the best block runs ahead of the finalized one the
/// worker counts from. Before, an honest host whose worker was busy for a block
/// (replaying an inference, say) was convicted on one try.
pub const LAST_CHANCE_BLOCKS: u32 = 2;

/// Whether validation has come to its last chance (see [`LAST_CHANCE_BLOCKS`]).
pub fn last_chance(epoch: &PocEpoch) -> bool {
	epoch.validation_blocks_left() <= (epoch.validation / 2).max(LAST_CHANCE_BLOCKS)
}

/// Asks of a host that served nothing, before the last chance, wait 1, 2, 4, … blocks
/// after the one before (at most this many doublings): an offline host costs a validator
/// a few asks an epoch, not one a block.
const MAX_BACKOFF_DOUBLINGS: u32 = 16;

/// Where a validator stands with one host in an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Judged {
	/// The host holds no commitment: no verdict.
	Uncommitted,
	/// Its endpoint served nothing when last asked, at finalized block `asked_at`, after
	/// `asks` asks in all; asked again on a later block.
	Waiting { asked_at: u32, asks: u32 },
	/// The verdict: valid or not.
	Verdict(bool),
}

/// What this worker serves of a model in the epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Serving {
	/// The chain's commitment last read, served if it is in the book.
	pub commitment: Option<Commitment>,
	/// Read after generation: final.
	pub settled: bool,
}

/// A host asked for its proofs on this step.
struct Ask {
	host: HostId,
	commitment: Commitment,
	indices: Vec<u64>,
	endpoint: Option<String>,
	/// Its asks before this one.
	before: u32,
}

impl<C: PocChain, P: Prover, S: ProofSource> PocDuty<C, P, S> {
	/// Serves the commitment the chain holds for this host: read at every step of
	/// generation (served as soon as a commitment is included), then once more after it
	/// (the chain's commitment is final from the first block after generation on: the last
	/// one, included in generation's last block, is served from then).
	pub(super) async fn serve(
		&mut self,
		epoch: &PocEpoch,
		model: ModelId,
		generating: bool,
		progress: &mut PocProgress,
	) -> Result<(), PocStepError> {
		if self.serving.get(&model).is_some_and(|serving| serving.settled) {
			return Ok(());
		}
		let host = self.chain.host().clone();
		let commitment = self.chain.commitment(epoch.index, &host, model).await?;
		let unchanged = self.serving.get(&model).is_some_and(|s| s.commitment == commitment);
		self.serving.insert(model, Serving { commitment, settled: !generating });
		let Some(commitment) = commitment.filter(|_| !unchanged) else { return Ok(()) };
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
	/// built the epoch's rosters. The hosts still to judge are asked for their proofs all
	/// at once (one slow endpoint does not hold up the others), then judged one by one.
	/// Hosts whose endpoints served nothing are asked again on later blocks (1, 2, 4, …
	/// blocks apart) until the [`last_chance`]; the verdicts reached meanwhile are kept,
	/// and the batch waits for the last of them.
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
		let last_chance = last_chance(epoch);
		let mut waiting = 0usize;
		let mut asks = Vec::new();
		for other in roster.iter().filter(|other| **other != host) {
			let before = match self.judged.get(&model).and_then(|judged| judged.get(other)) {
				Some(Judged::Uncommitted | Judged::Verdict(_)) => continue,
				Some(Judged::Waiting { asked_at, asks }) => {
					let pause = 1u32 << asks.saturating_sub(1).min(MAX_BACKOFF_DOUBLINGS);
					if !last_chance && epoch.finalized < asked_at.saturating_add(pause) {
						waiting = waiting.saturating_add(1);
						continue;
					}
					*asks
				}
				None => 0,
			};
			let Some(commitment) = self.chain.commitment(epoch.index, other, model).await? else {
				self.judged.entry(model).or_default().insert(other.clone(), Judged::Uncommitted);
				continue;
			};
			let seed = SampleSeed {
				genesis_hash: &genesis,
				generation_end_hash: &generation_end,
				validator: &host,
				host: other,
				model,
			};
			let indices = seed.leaf_indices(commitment.count, POC_SAMPLE_SIZE);
			let endpoint = self.chain.endpoint(other).await?;
			asks.push(Ask { host: other.clone(), commitment, indices, endpoint, before });
		}
		let proofs = &self.proofs;
		let served = futures::future::join_all(asks.iter().map(|ask| async move {
			match &ask.endpoint {
				Some(endpoint) => {
					let count = ask.commitment.count;
					proofs.fetch(endpoint, epoch.index, model, count, &ask.indices).await
				}
				None => Err(FetchError::NotRegistered),
			}
		}))
		.await;
		for (ask, served) in asks.iter().zip(served) {
			let judged = match served {
				Err(reason) if !last_chance && reason.worth_asking_again() => {
					tracing::info!(
						epoch = epoch.index,
						model,
						host = %ask.host,
						%reason,
						blocks_left = epoch.validation_blocks_left(),
						"PoC proofs not served yet: asking again on a later block"
					);
					waiting = waiting.saturating_add(1);
					Judged::Waiting {
						asked_at: epoch.finalized,
						asks: ask.before.saturating_add(1),
					}
				}
				served => Judged::Verdict(self.judge_host(epoch, model, &info, ask, served)?),
			};
			self.judged.entry(model).or_default().insert(ask.host.clone(), judged);
		}
		if waiting > 0 {
			return Ok(());
		}
		let judged = self.judged.get(&model);
		let verdicts: Vec<Verdict> = roster
			.iter()
			.filter_map(|other| match judged.and_then(|judged| judged.get(other)) {
				Some(Judged::Verdict(valid)) => {
					Some(Verdict { host: other.clone(), valid: *valid })
				}
				_ => None,
			})
			.collect();
		if !verdicts.is_empty() {
			self.send_verdicts(epoch, model, verdicts, progress).await?;
		}
		self.journal.state.validated.insert(model);
		self.journal.save()?;
		Ok(())
	}

	/// This host's verdict on what `ask.host` served for its sample: proofs checked
	/// against the committed root, the proven leaves recomputed.
	fn judge_host(
		&self,
		epoch: &PocEpoch,
		model: ModelId,
		info: &PocModel,
		ask: &Ask,
		served: Result<Vec<ServedLeaf>, FetchError>,
	) -> Result<bool, PocStepError> {
		let Ask { host: other, commitment, indices, .. } = ask;
		let prover = &self.prover;
		let judgement =
			judge(commitment.count, &commitment.root, indices, served, &info.params, |n| {
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
		Ok(judgement.valid)
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
