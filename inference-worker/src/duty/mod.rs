//! The host's duties on chain: the job logic only, over traits, so that it runs (and is
//! tested) without a node, a model or a network.
//!
//! - [`InferenceChain`]: what the worker reads of the chain (finalized blocks' inference
//!   events, a request, the validators the hash rule samples) and the duty transactions it
//!   sends, signed with the worker key by the implementation ([`crate::chain::NodeChain`]
//!   over a node);
//! - [`Engine`]: executing a request and replay-scoring another executor's result
//!   ([`crate::engine::ModelEngine`] on the loaded model).
//!
//! [`inference::InferenceDuty`] follows finalized blocks and, for this host: executes the
//! requests assigned to it and sends `finish`; when the hash rule samples it, replays the
//! executor's result and sends `validate`; in an invalidation vote, re-checks and votes;
//! once its own requests close, shows the sampled validators that did not report. Its
//! [`journal::Journal`] on disk (the last block handled, the jobs waiting, the duties
//! sent) lets a killed worker carry on where it stopped without sending a duty twice.
//!
//! [`poc::PocDuty`] does the same for Proof of Compute (generate and commit, serve the
//! committed proofs, validate the other hosts), keeping its artifacts in an
//! [`artifacts::ArtifactStore`].

pub mod artifacts;
pub mod inference;
pub mod journal;
pub mod poc;

use gonka_primitives::{
	inference::{RequestId, SamplingParams},
	HostId, ModelId,
};
use polkadot_sdk::sp_arithmetic::Perbill;

/// An inference event of a finalized block, as the duties need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InferenceEvent {
	/// A request was assigned (`RequestAssigned`) or reassigned (`RequestReassigned`) to
	/// `executor`.
	Assigned { request: RequestId, executor: HostId },
	/// `executor` finished a request (`RequestFinished`).
	Finished { request: RequestId, executor: HostId },
	/// A sampled validator reported (`ValidationReported`).
	Reported { request: RequestId, validator: HostId },
	/// A failed validation opened an invalidation vote (`VoteOpened`).
	VoteOpened { request: RequestId },
	/// A request closed (`RequestClosed`).
	Closed { request: RequestId },
}

/// A finalized block's inference events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Block {
	/// Its number.
	pub number: u32,
	/// Its inference events, in order.
	pub events: Vec<InferenceEvent>,
}

/// Where a request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
	/// Made; its executor is drawn in a later block.
	Queued,
	/// Waiting for its executor's result.
	Assigned,
	/// Finished, in its validation window.
	Finished,
	/// In an invalidation vote.
	Voting,
	/// Closed (validated, invalidated, unchecked or expired).
	Closed,
}

/// A request as the duties need it (`InferenceApi::request`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestInfo {
	/// The model.
	pub model: ModelId,
	/// The developer's prompt (empty once pruned).
	pub prompt: Vec<u8>,
	/// The most completion tokens.
	pub max_tokens: u32,
	/// The sampling parameters (the sampler's seed is the request id).
	pub params: SamplingParams,
	/// The current executor.
	pub executor: HostId,
	/// Its status.
	pub status: Status,
	/// The similarity at or above which a replay passes.
	pub validation_threshold: Perbill,
	/// The prompt token count the executor reported (once finished).
	pub prompt_tokens: u32,
	/// The completion's token ids (once finished, until pruned).
	pub token_ids: Vec<u32>,
	/// The completion's text (once finished, until pruned).
	pub text: Vec<u8>,
}

/// Why a duty transaction was not included.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
	/// The chain does not want it (already done, out of its window, not sampled, ...):
	/// sending it again would not help.
	#[error("refused: {0}")]
	Refused(String),
	/// The node could not be reached or did not answer: try again later.
	#[error("node unavailable: {0}")]
	Unavailable(String),
}

/// The chain as the inference duties see it. The implementation signs every duty with the
/// host's worker key.
pub trait InferenceChain {
	/// This host's account.
	fn host(&self) -> &HostId;
	/// The number of the newest finalized block.
	fn finalized(&self) -> impl core::future::Future<Output = Result<u32, SubmitError>>;
	/// Finalized block `number`'s inference events.
	fn block(&self, number: u32) -> impl core::future::Future<Output = Result<Block, SubmitError>>;
	/// A request, `None` if unknown or pruned.
	fn request(
		&self,
		request: RequestId,
	) -> impl core::future::Future<Output = Result<Option<RequestInfo>, SubmitError>>;
	/// The hosts the hash rule samples to validate a finished request, `None` before the
	/// block after its `finish` is finalized.
	fn validators(
		&self,
		request: RequestId,
	) -> impl core::future::Future<Output = Result<Option<Vec<HostId>>, SubmitError>>;
	/// Sends the executor's result.
	fn finish(
		&self,
		request: RequestId,
		execution: &Execution,
	) -> impl core::future::Future<Output = Result<(), SubmitError>>;
	/// Sends a validation report.
	fn validate(
		&self,
		request: RequestId,
		similarity: Perbill,
	) -> impl core::future::Future<Output = Result<(), SubmitError>>;
	/// Sends a vote.
	fn vote(
		&self,
		request: RequestId,
		invalid: bool,
	) -> impl core::future::Future<Output = Result<(), SubmitError>>;
	/// Shows that `validator` did not report on `request`.
	fn report_missing(
		&self,
		request: RequestId,
		validator: &HostId,
	) -> impl core::future::Future<Output = Result<(), SubmitError>>;
}

/// An executor's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Execution {
	/// The templated prompt's token count.
	pub prompt_tokens: u32,
	/// The completion's token ids.
	pub token_ids: Vec<u32>,
	/// The completion's text.
	pub text: Vec<u8>,
}

/// The model runtime, as the duties use it.
pub trait Engine {
	/// Whether this engine runs `model` (a host serves only the models it has loaded).
	fn serves(&self, model: ModelId) -> bool;
	/// Executes a request: `max_tokens` at most, sampled with the request's parameters and
	/// its id as the sampler's seed.
	fn execute(&self, request: RequestId, info: &RequestInfo) -> crate::Result<Execution>;
	/// Replay-scores the executor's result: the fraction of positions that pass (0 when
	/// the result fails an exact check: prompt tokens, text, token ids).
	fn replay(&self, request: RequestId, info: &RequestInfo) -> crate::Result<Perbill>;
}

/// One loaded model shared by the duties and the channels' endpoint (another thread).
impl<T: Engine + ?Sized> Engine for std::sync::Arc<T> {
	fn serves(&self, model: ModelId) -> bool {
		(**self).serves(model)
	}

	fn execute(&self, request: RequestId, info: &RequestInfo) -> crate::Result<Execution> {
		(**self).execute(request, info)
	}

	fn replay(&self, request: RequestId, info: &RequestInfo) -> crate::Result<Perbill> {
		(**self).replay(request, info)
	}
}

/// One loaded model shared by the inference and the PoC duties.
impl<T: Engine + ?Sized> Engine for std::rc::Rc<T> {
	fn serves(&self, model: ModelId) -> bool {
		(**self).serves(model)
	}

	fn execute(&self, request: RequestId, info: &RequestInfo) -> crate::Result<Execution> {
		(**self).execute(request, info)
	}

	fn replay(&self, request: RequestId, info: &RequestInfo) -> crate::Result<Perbill> {
		(**self).replay(request, info)
	}
}
