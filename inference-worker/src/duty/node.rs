//! [`InferenceChain`] over a real node: `gonka-client`'s generated calls, events and
//! runtime APIs, every duty signed with the host's worker key.

use super::{
	poc::{PocChain, PocEpoch, PocModel},
	Block, Execution, InferenceChain, InferenceEvent, RequestInfo, Status, SubmitError,
};
use gonka_client::{
	runtime::runtime_types, AccountId32, ChainClient, RequestClosed, RequestFinished,
	RequestReassigned, RequestStatus, RequestSubmitted, ValidationReported, VoteOpened,
};
use gonka_primitives::{
	duty::{
		InferenceFinish, InferenceValidation, InvalidationVote, MissingValidation, PocCommit,
		PocValidation, Verdict,
	},
	inference::{RequestId, SamplingParams},
	EpochIndex, HostId, ModelId, H256,
};
use polkadot_sdk::{
	sp_arithmetic::Perbill,
	sp_core::{sr25519, ConstU32},
};

/// The runtime's bounds on a result (`MaxOutputTokens`, `MaxOutputBytes`); the chain
/// refuses a longer one anyway.
type Finish = InferenceFinish<ConstU32<4_096>, ConstU32<32_768>>;

/// The runtime's bound on a batch of verdicts (`MaxHosts`).
type Verdicts = PocValidation<ConstU32<2_048>>;

/// A host's view of a node.
pub struct NodeChain {
	client: ChainClient,
	host: HostId,
	worker: sr25519::Pair,
}

impl NodeChain {
	/// The duties of `host` through `client`, signed with `worker` (the host's registered
	/// worker key).
	pub fn new(client: ChainClient, host: HostId, worker: sr25519::Pair) -> Self {
		Self { client, host, worker }
	}
}

/// A read that failed: the node is unreachable or answered something unexpected.
fn unavailable(error: impl std::fmt::Display) -> SubmitError {
	SubmitError::Unavailable(error.to_string())
}

/// A submission's error: the pool's refusal (an invalid transaction: stale, out of its
/// window, not sampled, ...) or a failed dispatch is final; anything else (connection,
/// timeout) is worth retrying.
fn submitted<T>(result: Result<T, gonka_client::Error>) -> Result<(), SubmitError> {
	match result {
		Ok(_) => Ok(()),
		Err(gonka_client::Error::Failed(reason)) => Err(SubmitError::Refused(reason)),
		Err(error) => {
			let message = error.to_string();
			let lower = message.to_lowercase();
			// The pool refused it when submitted (`1010`), or dropped it as invalid later.
			if ["invalid transaction", "1010", "transaction is not valid"]
				.iter()
				.any(|refusal| lower.contains(refusal))
			{
				Err(SubmitError::Refused(message))
			} else {
				Err(SubmitError::Unavailable(message))
			}
		}
	}
}

fn host_id(account: &AccountId32) -> HostId {
	HostId::new(account.0)
}

impl InferenceChain for NodeChain {
	fn host(&self) -> &HostId {
		&self.host
	}

	async fn finalized(&self) -> Result<u32, SubmitError> {
		self.client.block_number().await.map_err(unavailable)
	}

	async fn block(&self, number: u32) -> Result<Block, SubmitError> {
		let at = self.client.api().at_block(number).await.map_err(unavailable)?;
		let events = at.events().fetch().await.map_err(unavailable)?;
		let mut block = Block { number, events: Vec::new() };
		for event in events.iter() {
			let event = event.map_err(unavailable)?;
			if event.pallet_name() != "Inference" {
				continue;
			}
			let decoded = if let Some(e) = event.decode_fields_as::<RequestSubmitted>() {
				let e = e.map_err(unavailable)?;
				InferenceEvent::Assigned { request: e.request, executor: host_id(&e.executor) }
			} else if let Some(e) = event.decode_fields_as::<RequestReassigned>() {
				let e = e.map_err(unavailable)?;
				InferenceEvent::Assigned { request: e.request, executor: host_id(&e.to) }
			} else if let Some(e) = event.decode_fields_as::<RequestFinished>() {
				let e = e.map_err(unavailable)?;
				InferenceEvent::Finished { request: e.request, executor: host_id(&e.executor) }
			} else if let Some(e) = event.decode_fields_as::<ValidationReported>() {
				let e = e.map_err(unavailable)?;
				InferenceEvent::Reported { request: e.request, validator: host_id(&e.validator) }
			} else if let Some(e) = event.decode_fields_as::<VoteOpened>() {
				InferenceEvent::VoteOpened { request: e.map_err(unavailable)?.request }
			} else if let Some(e) = event.decode_fields_as::<RequestClosed>() {
				InferenceEvent::Closed { request: e.map_err(unavailable)?.request }
			} else {
				continue;
			};
			block.events.push(decoded);
		}
		Ok(block)
	}

	async fn request(&self, request: RequestId) -> Result<Option<RequestInfo>, SubmitError> {
		let Some(view) = self.client.request_view(request).await.map_err(unavailable)? else {
			return Ok(None);
		};
		let made = view.request;
		let status = match made.status {
			RequestStatus::Assigned => Status::Assigned,
			RequestStatus::Finished => Status::Finished,
			RequestStatus::Voting => Status::Voting,
			RequestStatus::Closed(_) => Status::Closed,
		};
		let runtime_types::sp_arithmetic::per_things::Perbill(top_p) = made.params.top_p;
		let runtime_types::sp_arithmetic::per_things::Perbill(threshold) =
			made.validation_threshold;
		Ok(Some(RequestInfo {
			model: made.model,
			prompt: view.prompt,
			max_tokens: made.max_tokens,
			params: SamplingParams {
				temperature_milli: made.params.temperature_milli,
				top_p: Perbill::from_parts(top_p),
			},
			executor: host_id(&made.executor),
			status,
			validation_threshold: Perbill::from_parts(threshold),
			prompt_tokens: made.finish.map_or(0, |finish| finish.prompt_tokens),
			token_ids: view.token_ids,
			text: view.text,
		}))
	}

	async fn validators(&self, request: RequestId) -> Result<Option<Vec<HostId>>, SubmitError> {
		self.client.validators(request).await.map_err(unavailable)
	}

	async fn finish(&self, request: RequestId, execution: &Execution) -> Result<(), SubmitError> {
		let result = Finish {
			request,
			token_ids: execution.token_ids.clone().try_into().map_err(|_| {
				SubmitError::Refused("more completion tokens than the chain takes".into())
			})?,
			text: execution.text.clone().try_into().map_err(|_| {
				SubmitError::Refused("a longer completion than the chain takes".into())
			})?,
			prompt_tokens: execution.prompt_tokens,
		};
		submitted(self.client.finish(&self.host, &result, &self.worker).await)
	}

	async fn validate(&self, request: RequestId, similarity: Perbill) -> Result<(), SubmitError> {
		let report = InferenceValidation { request, similarity };
		submitted(self.client.validate(&self.host, &report, &self.worker).await)
	}

	async fn vote(&self, request: RequestId, invalid: bool) -> Result<(), SubmitError> {
		let ballot = InvalidationVote { request, invalid };
		submitted(self.client.vote(&self.host, &ballot, &self.worker).await)
	}

	async fn report_missing(
		&self,
		request: RequestId,
		validator: &HostId,
	) -> Result<(), SubmitError> {
		let claim = MissingValidation { request, validator: validator.clone() };
		submitted(self.client.report_missing(&self.host, &claim, &self.worker).await)
	}
}

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

	async fn roster(&self, epoch: EpochIndex, model: ModelId) -> Result<Vec<HostId>, SubmitError> {
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
		submitted(self.client.submit_poc_validations(&self.host, &batch, &self.worker).await)
	}
}
