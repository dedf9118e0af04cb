//! [`PocChain`] over a node: the epoch, block hashes, models, rosters, commitments and
//! endpoints, and the two PoC duties (commitments, batches of verdicts).

use super::{submitted, unavailable, NodeChain};
use crate::duty::{
	poc::{PocChain, PocEpoch, PocModel},
	SubmitError,
};
use gonka_primitives::{
	duty::{PocCommit, Verdict},
	EpochIndex, HostId, ModelId, H256,
};

/// A batch of verdicts within the runtime's bound (`MaxHosts`).
type Verdicts = gonka_primitives::bounds::BoundedPocValidation;

impl PocChain for NodeChain {
	fn host(&self) -> &HostId {
		&self.host
	}

	fn genesis_hash(&self) -> H256 {
		self.client.genesis_hash()
	}

	async fn poc_epoch(&self) -> Result<Option<PocEpoch>, SubmitError> {
		// The epoch first: a block finalized in between only makes `finalized` newer.
		let Some(epoch) = self.client.epoch().await.map_err(unavailable)? else {
			return Ok(None);
		};
		let finalized = self.client.block_number().await.map_err(unavailable)?;
		Ok(Some(PocEpoch {
			index: epoch.index,
			start: epoch.start,
			length: epoch.length,
			generation: epoch.generation,
			delay: epoch.validation_delay,
			validation: epoch.validation,
			seed: epoch.seed,
			finalized,
		}))
	}

	async fn block_hash(&self, number: u32) -> Result<H256, SubmitError> {
		self.client.block_hash(number).await.map_err(unavailable)
	}

	async fn model(&self, model: ModelId) -> Result<Option<PocModel>, SubmitError> {
		let view = self.client.model(model).await.map_err(unavailable)?;
		Ok(view.map(|view| PocModel { approved: view.approved, params: view.poc }))
	}

	async fn roster(
		&self,
		epoch: EpochIndex,
		model: ModelId,
	) -> Result<Option<Vec<HostId>>, SubmitError> {
		self.client.roster(epoch, model).await.map_err(unavailable)
	}

	async fn commitment(
		&self,
		epoch: EpochIndex,
		host: &HostId,
		model: ModelId,
	) -> Result<Option<gonka_client::Commitment>, SubmitError> {
		self.client.commitment(epoch, host, model).await.map_err(unavailable)
	}

	async fn endpoint(&self, host: &HostId) -> Result<Option<String>, SubmitError> {
		let view = self.client.poc_host(host).await.map_err(unavailable)?;
		Ok(view.map(|view| view.endpoint))
	}

	async fn commit(&self, commit: &PocCommit) -> Result<(), SubmitError> {
		submitted(self.client.send_poc_commit(&self.host, commit, &self.worker).await)
	}

	async fn submit_verdicts(
		&self,
		epoch: EpochIndex,
		model: ModelId,
		verdicts: Vec<Verdict>,
	) -> Result<(), SubmitError> {
		let batch = Verdicts {
			epoch,
			model,
			verdicts: verdicts.try_into().map_err(|_| {
				SubmitError::Refused("more verdicts than the chain takes in a batch".into())
			})?,
		};
		submitted(self.client.send_poc_validations(&self.host, &batch, &self.worker).await)
	}
}
