//! Requests, their outcomes, the per-epoch ledger of hosts, prices and parameters, and
//! these types with the runtime's (`RequestOf`, `ParamsOf`, ...).

use crate::Config;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use gonka_primitives::{
	bounds::MaxEndTokens,
	duty::InferenceFinish,
	inference::{PriceRule, SamplingParams, Sprt, LIVE_SPRT_P0, LIVE_SPRT_P1, LIVE_SPRT_UPPER},
	EpochIndex, ModelId, PowerSnapshot, H256,
};
use polkadot_sdk::{
	frame_support::{pallet_prelude::*, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound},
	frame_system::{self, pallet_prelude::BlockNumberFor},
	sp_arithmetic::Perbill,
	sp_runtime::traits::AtLeast32BitUnsigned,
};
use scale_info::TypeInfo;

/// What inference needs to know of an approved model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelTerms {
	/// Tokens the chat template adds to a prompt.
	pub template_overhead: u32,
	/// The longest prompt plus completion, in tokens; `max_tokens` may not exceed it.
	pub max_context: u32,
	/// The replay similarity a completion needs to pass validation.
	pub validation_threshold: Perbill,
	/// The price per token a model starts at (its registry record's price).
	pub base_price: u128,
}

/// The ledger of executors' work, as the inference channels (`pallet-channels`) use it:
/// a channel's settlement is paid into the same pending work balance as a finished
/// request, settled with the epoch's ledger (released, or forfeited if the host is INVALID
/// in the epoch).
pub trait WorkLedger<AccountId> {
	/// Holds `amount` of `executor`'s free balance (what a settlement just paid it) as its
	/// pending work in the epoch in progress.
	fn credit_work(executor: &AccountId, amount: u128) -> polkadot_sdk::sp_runtime::DispatchResult;
	/// The share of an inference's cost that its validators earn.
	fn validator_share() -> Perbill;
	/// The validation target of `executor`'s work if it served `traffic` more requests in
	/// the epoch in progress (read only).
	fn target_of(executor: &AccountId, traffic: u32) -> Perbill;
	/// Counts `traffic` more requests served by `executor` in the epoch in progress.
	fn note_traffic(executor: &AccountId, traffic: u32);
	/// `passes` validated and `invalidations` invalidated outcomes of `executor`'s work
	/// settled in `epoch`: steps of its invalidation test in that epoch's ledger (the
	/// epoch in progress if that one is settled already), INVALID when it crosses the
	/// boundary.
	fn judge_many(executor: &AccountId, epoch: EpochIndex, passes: u32, invalidations: u32);
	/// Moves up to `amount` of `executor`'s pending work of `epoch` to `to`'s free balance
	/// (an invalidated receipt's cost back to its developer, a bounty to its reporter).
	/// Returns what moved: nothing once the epoch is settled, at most what is pending.
	fn take_work(executor: &AccountId, epoch: EpochIndex, amount: u128, to: &AccountId) -> u128;
	/// A failure report the jury rejected costs `reporter` a miss on its reputation in the
	/// epoch in progress and a fine of up to `amount` on its pending work of `epoch`
	/// (taken when that epoch settles). Returns the fine.
	fn fine(reporter: &AccountId, epoch: EpochIndex, amount: u128) -> u128;
	/// An answer's pay taken back from `host`: up to `amount` of its pending work of
	/// `epoch`, taken when that epoch settles, as a fine is, but no miss on its reputation
	/// (an unavailable payload's report whose jury found the payload served). Returns what
	/// is taken.
	fn take_back(host: &AccountId, epoch: EpochIndex, amount: u128) -> u128;
	/// `validator`'s duties as a sampled validator of channels, in the epoch in progress:
	/// `done` samples answered, `missed` samples it was drawn for and left unanswered
	/// (shown by a report): counted by the downtime test as the on-chain path's
	/// validations and missed validations are.
	fn note_duties(validator: &AccountId, done: u32, missed: u32);
}

/// The model registry as inference sees it.
pub trait InferenceModels {
	/// `model`'s terms if it is approved (only approved models take requests).
	fn terms(model: ModelId) -> Option<ModelTerms>;
	/// The tokens that end `model`'s completions, if it is approved (`finish` reads them:
	/// a completion must end with one or have `max_tokens` tokens).
	fn end_tokens(model: ModelId) -> Option<BoundedVec<u32, MaxEndTokens>>;
}

/// The invalidation test's rates and boundary (`protocol.md`, "Inference" 5).
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct SprtParams {
	/// The invalidation rate of an honest host (Gonka: 0.05).
	pub p0: Perbill,
	/// The invalidation rate of a cheater (Gonka: 0.10).
	pub p1: Perbill,
	/// INVALID at `LLR ≥ upper`, in units of `LLR_ONE` = 10^9 (Gonka: 4.0).
	pub upper: i64,
}

impl SprtParams {
	/// The test these parameters define, `None` if they do not define one.
	pub fn sprt(&self) -> Option<Sprt> {
		Sprt::new(self.p0, self.p1, self.upper).ok()
	}
}

/// The live network's inference rules, by name ([`InferenceParams::live_network`]).
pub mod live {
	use polkadot_sdk::sp_arithmetic::Perbill;

	/// Blocks an executor has to finish a request before it is reassigned (ours: 20, two
	/// minutes of 6-second blocks).
	pub const REFUSAL_TIMEOUT: u32 = 20;
	/// Blocks after which an unfinished request expires (Gonka: 150).
	pub const EXPIRATION: u32 = 150;
	/// Blocks after `finish` in which sampled validators report (ours: 20).
	pub const VALIDATION_WINDOW: u32 = 20;
	/// Blocks an invalidation vote stays open (ours: 20).
	pub const VOTE_WINDOW: u32 = 20;
	/// Blocks a closed request's payloads are kept: a day of 6-second blocks.
	pub const RETENTION: u32 = 14_400;
	/// The floor price per token (Gonka: 1).
	pub const MIN_PRICE: u128 = 1;
	/// Tokens per model and block that count as 100% utilisation (ours: 100,000).
	pub const BLOCK_CAPACITY: u64 = 100_000;
	/// The validators' part of a validated request's cost (Gonka: 50%).
	pub const VALIDATOR_SHARE: Perbill = Perbill::from_percent(50);
}

/// The governable rules of inference.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct InferenceParams<BlockNumber> {
	/// Blocks an executor has to finish a request before it is reassigned (a miss).
	pub refusal_timeout: BlockNumber,
	/// Blocks after which an unfinished request expires and is refunded in full.
	pub expiration: BlockNumber,
	/// Blocks after the `finish` block in which sampled validators report.
	pub validation_window: BlockNumber,
	/// Blocks an invalidation vote stays open.
	pub vote_window: BlockNumber,
	/// Blocks a closed request's payloads (prompt, token ids, text) are kept.
	pub retention: BlockNumber,
	/// How prices follow utilisation.
	pub price_rule: PriceRule,
	/// No model's price goes below this (Gonka: 1).
	pub min_price: u128,
	/// Tokens per model and block that count as 100% utilisation.
	pub block_capacity: u64,
	/// The invalidation test.
	pub sprt: SprtParams,
	/// The part of a validated request's cost paid to the validators whose reports passed,
	/// in equal parts, from the executor's pending work (Gonka: 50%).
	pub validator_share: Perbill,
}

/// Why inference parameters are refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidParams {
	/// A timeout or window of zero blocks.
	ZeroWindow,
	/// The refusal timeout is not shorter than the expiration.
	RefusalNotBeforeExpiration,
	/// The price rule's bounds are crossed or it may change a price by 100% or more.
	PriceRule,
	/// A floor price of zero.
	ZeroFloor,
	/// A block capacity of zero tokens.
	ZeroCapacity,
	/// The SPRT rates or boundary do not define a test.
	Sprt,
}

impl<BlockNumber: AtLeast32BitUnsigned + Copy> InferenceParams<BlockNumber> {
	/// The live network's rules where Gonka has them (expiration 150 blocks, the 40–60% ±2%
	/// price rule with floor 1, p0 = 0.05 / p1 = 0.10 / INVALID at 4, validators' share 50%)
	/// and ours elsewhere: reassignment after 20 blocks, 20 blocks to validate, 20 to vote,
	/// payloads kept a day (14,400 blocks of 6 s), 100,000 tokens per model and block at full
	/// utilisation.
	pub fn live_network() -> Self {
		InferenceParams {
			refusal_timeout: live::REFUSAL_TIMEOUT.into(),
			expiration: live::EXPIRATION.into(),
			validation_window: live::VALIDATION_WINDOW.into(),
			vote_window: live::VOTE_WINDOW.into(),
			retention: live::RETENTION.into(),
			price_rule: PriceRule::live_network(),
			min_price: live::MIN_PRICE,
			block_capacity: live::BLOCK_CAPACITY,
			sprt: SprtParams { p0: LIVE_SPRT_P0, p1: LIVE_SPRT_P1, upper: LIVE_SPRT_UPPER },
			validator_share: live::VALIDATOR_SHARE,
		}
	}

	/// Whether these rules can be used.
	pub fn check(&self) -> Result<(), InvalidParams> {
		let windows = [
			self.refusal_timeout,
			self.expiration,
			self.validation_window,
			self.vote_window,
			self.retention,
		];
		if windows.iter().any(|window| window.is_zero()) {
			return Err(InvalidParams::ZeroWindow);
		}
		if self.refusal_timeout >= self.expiration {
			return Err(InvalidParams::RefusalNotBeforeExpiration);
		}
		if !self.price_rule.is_valid() {
			return Err(InvalidParams::PriceRule);
		}
		if self.min_price == 0 {
			return Err(InvalidParams::ZeroFloor);
		}
		if self.block_capacity == 0 {
			return Err(InvalidParams::ZeroCapacity);
		}
		self.sprt.sprt().ok_or(InvalidParams::Sprt)?;
		Ok(())
	}
}

/// Where a request is in its life.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum RequestStatus {
	/// Waiting for its executor's result.
	Assigned,
	/// Finished; sampled validators may report until the validation window closes.
	Finished,
	/// A validation failed: hosts vote on whether the result is invalid.
	Voting,
	/// Nothing more happens to it; its payloads are pruned after the retention window.
	Closed(Outcome),
	/// Made, its escrow held; its executor is drawn in a later block (the next one unless
	/// the timer budget is spent) from randomness its developer could not know when
	/// signing (`assignment.rs`). Until then `executor` is the developer and means nothing.
	/// Last, so that the encoding of the other statuses is unchanged.
	Queued,
}

/// How a request ended.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum Outcome {
	/// Not finished in time (or nobody could take it): refunded in full.
	Expired,
	/// Finished; no sampled validator reported. Paid.
	Unchecked,
	/// Finished and passed validation (or survived a vote). Paid.
	Validated,
	/// Voted invalid: the developer was refunded the cost, the executor lost the fee.
	Invalidated,
}

/// What `finish` recorded, and the voting power validation is sampled and voted with.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct FinishRecord<BlockNumber> {
	/// The block that included `finish` (`b_f`): validators are sampled from its hash.
	pub at: BlockNumber,
	/// The epoch the work belongs to (its pending work balance is that epoch's).
	pub epoch: EpochIndex,
	/// The templated prompt's tokens, as the executor reported them.
	pub prompt_tokens: u32,
	/// The completion's tokens, as the chain counted them.
	pub completion_tokens: u32,
	/// What the developer pays: `(prompt_tokens + completion_tokens) × price`.
	pub cost: u128,
	/// The hash of the output (SCALE of token ids and text): kept after the payloads go.
	pub output_hash: H256,
	/// The generation of voting power that samples validators and votes (held until the
	/// request closes).
	pub snapshot: PowerSnapshot,
	/// All voting power in the snapshot.
	pub total_power: u128,
	/// The executor's voting power in the snapshot.
	pub executor_power: u128,
	/// The expected number of validators (`validation_target`).
	pub target: Perbill,
	/// Validations that passed.
	pub passes: u32,
	/// Validations reported (passed or failed).
	pub reports: u32,
}

/// An open or closed invalidation vote, in voting power.
#[derive(
	Clone,
	Copy,
	Debug,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct VoteTally<BlockNumber> {
	/// The block the vote opened in.
	pub opened: BlockNumber,
	/// Power that said invalid.
	pub invalid: u128,
	/// Power that said valid.
	pub valid: u128,
}

/// An inference request.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct Request<AccountId, BlockNumber> {
	/// Who asked and pays.
	pub developer: AccountId,
	/// The model.
	pub model: ModelId,
	/// The most completion tokens.
	pub max_tokens: u32,
	/// How to sample.
	pub params: SamplingParams,
	/// The prompt's length in bytes (its tokens after the template are at most this plus
	/// the template overhead).
	pub prompt_bytes: u32,
	/// The model's template overhead when the request was made.
	pub template_overhead: u32,
	/// The model's validation threshold when the request was made.
	pub validation_threshold: Perbill,
	/// The hash of the prompt: kept after the prompt goes.
	pub prompt_hash: H256,
	/// The price per token, fixed when the request was made.
	pub price: u128,
	/// What is held from the developer until `finish` (then only the cost).
	pub escrow: u128,
	/// The block the request was made in.
	pub created: BlockNumber,
	/// The host assigned to execute it.
	pub executor: AccountId,
	/// 0 for the first assignment, one more per reassignment.
	pub attempt: u32,
	/// Where it is.
	pub status: RequestStatus,
	/// Set by `finish`.
	pub finish: Option<FinishRecord<BlockNumber>>,
	/// Set when a validation fails.
	pub vote: Option<VoteTally<BlockNumber>>,
}

/// A finished request's output, kept until the retention window ends.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
#[scale_info(skip_type_params(MaxTokens, MaxText))]
pub struct Output<MaxTokens: Get<u32>, MaxText: Get<u32>> {
	/// The completion's token ids.
	pub token_ids: BoundedVec<u32, MaxTokens>,
	/// The completion's text.
	pub text: BoundedVec<u8, MaxText>,
}

/// A host's record for one epoch: what it was given and did, its invalidation test and
/// the pending work balance it earned (held until the epoch is settled).
#[derive(
	Clone,
	Copy,
	Debug,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct EpochStats {
	/// Requests assigned to it (reassignments to it included).
	pub assigned: u32,
	/// Assigned requests it did not finish in time.
	pub missed: u32,
	/// Requests it finished.
	pub finished: u32,
	/// Its finished requests that passed validation.
	pub validated: u32,
	/// Its finished requests voted invalid.
	pub invalidated: u32,
	/// Validations it reported as a sampled validator.
	pub validations: u32,
	/// Validations it was sampled for and did not report in time (shown by another host).
	pub missed_validations: u32,
	/// The invalidation test's log-likelihood ratio, in units of `LLR_ONE`.
	pub llr: i64,
	/// Whether the test marked it INVALID this epoch (it stays so for the epoch).
	pub invalid: bool,
	/// The cost of its finished requests of this epoch (less the validators' shares of
	/// the validated ones) and its shares as a validator of requests finished this epoch,
	/// held on it until settlement.
	pub pending_work: u128,
}

impl EpochStats {
	/// The host's duties in the epoch (`protocol.md`, downtime): the requests assigned to
	/// it and the validations it was sampled for (reported, or shown missed).
	pub fn duties(&self) -> u32 {
		self.assigned.saturating_add(self.validations).saturating_add(self.missed_validations)
	}

	/// The duties it missed: requests not finished in time, validations not reported.
	pub fn duties_missed(&self) -> u32 {
		self.missed.saturating_add(self.missed_validations)
	}
}

/// The network's duties and misses in an epoch (the sums of [`EpochStats::duties`] and
/// [`EpochStats::duties_missed`] over its hosts).
#[derive(
	Clone,
	Copy,
	Debug,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct DutyTotals {
	/// Duties of any host: requests assigned (reassignments included) and sampled
	/// validations (reported, or shown missed).
	pub assigned: u64,
	/// Duties missed: requests not finished in time, validations not reported.
	pub missed: u64,
}

/// What a host's reputation is made of: clean epochs, and the last epoch it was active in
/// (assigned work) with that epoch's misses and status, folded in once a later epoch is
/// reached.
#[derive(
	Clone,
	Copy,
	Debug,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct ReputationState {
	/// Clean epochs before `epoch` (reputation 100 at 30).
	pub clean_epochs: u32,
	/// The epoch of `active`, `misses` and `invalid`.
	pub epoch: EpochIndex,
	/// Whether the host finished or missed work in `epoch` (only such epochs count).
	pub active: bool,
	/// Misses in `epoch`.
	pub misses: u32,
	/// Whether it was INVALID in `epoch`.
	pub invalid: bool,
}

impl ReputationState {
	/// The state as of epoch `epoch`: an earlier active epoch folded into the clean count
	/// (clean if it had no miss and was not INVALID; epochs without work do not count).
	pub fn at(self, epoch: EpochIndex) -> ReputationState {
		if self.epoch >= epoch {
			return self;
		}
		let clean_epochs = if self.active {
			gonka_primitives::inference::next_clean_epochs(
				self.clean_epochs,
				self.misses,
				self.invalid,
			)
		} else {
			self.clean_epochs
		};
		ReputationState { clean_epochs, epoch, active: false, misses: 0, invalid: false }
	}
}

/// A model's price and the tokens requested in the block the price is for.
#[derive(
	Clone,
	Copy,
	Debug,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct PriceState<BlockNumber> {
	/// The price per token in block `block`.
	pub price: u128,
	/// The block of `price` and `used`.
	pub block: BlockNumber,
	/// Tokens requested (escrowed) in `block`.
	pub used: u64,
}

/// The pallet's timer queues: each holds (deadline, request, attempt) in deadline order,
/// because each kind's deadline is its event's block plus one parameter.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum Timer {
	/// The executor's time to finish, `refusal_timeout` after each assignment: a request
	/// still assigned then is reassigned (a miss), or refunded if it has reached its
	/// expiration.
	Assignment,
	/// The end of the validation window (`validation_window` after `finish`).
	Validation,
	/// The end of an invalidation vote (`vote_window` after it opened).
	Vote,
	/// The end of the retention of a closed request's payloads.
	Prune,
	/// A queued request's executor draw, in the block after the one that included the
	/// request. Last, so that the other queues' keys are unchanged.
	Draw,
}

impl Timer {
	/// Every kind, in the order `on_initialize` serves them: draws first, so that a
	/// request waits for its executor no longer than it must.
	pub const ALL: [Timer; 5] =
		[Timer::Draw, Timer::Assignment, Timer::Validation, Timer::Vote, Timer::Prune];
}

/// A timer queue's bounds: entries `head..tail` are pending.
#[derive(
	Clone,
	Copy,
	Debug,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Queue {
	/// The next entry to serve.
	pub head: u64,
	/// The next free slot.
	pub tail: u64,
}

// ---- with the runtime's types ---------------------------------------------------------

/// The currency of escrows and pending work balances.
pub(crate) type Funds<T> = <T as Config>::Currency;
/// The pallet's weights.
pub(crate) type Weights<T> = <T as Config>::WeightInfo;
/// Parameters with the runtime's block number.
pub type ParamsOf<T> = InferenceParams<BlockNumberFor<T>>;
/// A request with the runtime's types.
pub type RequestOf<T> = Request<<T as frame_system::Config>::AccountId, BlockNumberFor<T>>;
/// A finish record with the runtime's block number.
pub type FinishRecordOf<T> = FinishRecord<BlockNumberFor<T>>;
/// An output with the runtime's bounds.
pub type OutputOf<T> = Output<<T as Config>::MaxOutputTokens, <T as Config>::MaxOutputBytes>;
/// A `finish` payload with the runtime's bounds.
pub type FinishOf<T> =
	InferenceFinish<<T as Config>::MaxOutputTokens, <T as Config>::MaxOutputBytes>;

/// The live network's rules, until governance sets others.
pub struct LiveParams<T>(core::marker::PhantomData<T>);
impl<T: Config> Get<ParamsOf<T>> for LiveParams<T> {
	fn get() -> ParamsOf<T> {
		InferenceParams::live_network()
	}
}
