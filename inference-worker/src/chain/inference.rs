//! [`InferenceChain`] over a node: the inference events of finalized blocks, requests,
//! the sampled validators, and the four inference duties.

use super::{host_id, submitted, unavailable, NodeChain};
use crate::duty::{
	Block, Execution, InferenceChain, InferenceEvent, RequestInfo, Status, SubmitError,
};
use gonka_client::{
	runtime::runtime_types, RequestAssigned, RequestClosed, RequestFinished, RequestReassigned,
	RequestStatus, ValidationReported, VoteOpened,
};
use gonka_primitives::{
	duty::{InferenceValidation, InvalidationVote, MissingValidation},
	inference::{RequestId, SamplingParams},
	HostId,
};
use polkadot_sdk::sp_arithmetic::Perbill;

/// A result within the runtime's bounds (`MaxOutputTokens`, `MaxOutputBytes`).
type Finish = gonka_primitives::bounds::BoundedFinish;

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
			let decoded = if let Some(e) = event.decode_fields_as::<RequestAssigned>() {
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
			RequestStatus::Queued => Status::Queued,
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
