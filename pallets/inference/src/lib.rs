//! # Inference pallet
//!
//! Implements the "Inference" section of the protocol (`shared/spec/protocol.md`):
//!
//! - **Requests**: a developer's signed `request` holds the escrow
//!   `(prompt_bytes + template_overhead + max_tokens) × price` (a fungible hold) and is
//!   assigned to an executor drawn in proportion to its PoC weight on the model
//!   (`pallet-poc`'s rosters). An executor that does not finish within `refusal_timeout`
//!   loses the request to another host (a miss); a request not finished within
//!   `expiration` is refunded in full.
//! - **Results**: the executor's worker sends `finish` (a duty transaction: no signer, a
//!   payload signed by the worker key, checked in `#[pallet::authorize]`). The chain counts
//!   the completion's tokens, refunds the escrow beyond the cost at once and holds the cost
//!   on the executor as its *pending work balance* for that epoch.
//! - **Validation**: a host validates a request iff the spec's hash rule samples it (from
//!   the hash of the `finish` block, in proportion to its voting power, with a `target` from
//!   the executor's reputation and traffic). A report below the model's threshold opens an
//!   invalidation vote weighted by voting power: > 50% invalid refunds the developer from
//!   the pending work balance.
//! - **Status**: per epoch and host, the misses, the invalidation test (SPRT, fixed point)
//!   and INVALID; reputation from clean epochs.
//! - **Price**: one per model, moved every block by its utilisation (lazily: a block's
//!   step is applied when the model is next used or quoted).
//! - **Hygiene**: per-request timers in deadline order, served a bounded number per block;
//!   payloads pruned after a retention window; each epoch's ledger settled and pruned in
//!   bounded batches.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;

mod types;

pub mod runtime_api;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;

#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

use polkadot_sdk::frame_support::weights::Weight;

/// The weights of the pallet's calls and hooks.
pub trait WeightInfo {
	/// `request` with a prompt of `p` bytes whose executor took `d` draws.
	fn request(p: u32, d: u32) -> Weight;
	/// `finish` with `t` token ids and `b` bytes of text.
	fn finish(t: u32, b: u32) -> Weight;
	/// Validating a `finish` transaction (its `authorize` rule).
	fn authorize_finish(t: u32, b: u32) -> Weight;
	/// `validate`, the worst case (it opens or closes a vote).
	fn validate() -> Weight;
	/// Validating a `validate` transaction.
	fn authorize_validate() -> Weight;
	/// `vote`, the worst case (it closes the vote).
	fn vote() -> Weight;
	/// Validating a `vote` transaction.
	fn authorize_vote() -> Weight;
	/// `report_missing`.
	fn report_missing() -> Weight;
	/// Validating a `report_missing` transaction.
	fn authorize_report_missing() -> Weight;
	/// `set_params`.
	fn set_params() -> Weight;
	/// `on_initialize` with no timer due.
	fn on_initialize_idle() -> Weight;
	/// One assignment timer that reassigns (a miss and the most draws), served from its
	/// queue.
	fn timer_refusal() -> Weight;
	/// One assignment timer that expires its request (a full refund), served from its queue.
	fn timer_expiry() -> Weight;
	/// One validation-window timer: the request closes.
	fn timer_validation() -> Weight;
	/// One vote timer: the vote closes with an invalidation (the dearer outcome).
	fn timer_vote() -> Weight;
	/// One prune timer removing `v` validation reports and votes.
	fn timer_prune(v: u32) -> Weight;
	/// A timer whose request has moved on.
	fn timer_skip() -> Weight;
	/// Settling one host's record of an old epoch.
	fn settle_host() -> Weight;
	/// Paying the validators' share of a validated request's cost, `v` of its reports read
	/// (all passing: each one a payment to a validator with no record in the epoch yet).
	fn pay_validators(v: u32) -> Weight;
}

/// Weights for tests: zero everywhere.
impl WeightInfo for () {
	fn request(_p: u32, _d: u32) -> Weight {
		Weight::zero()
	}
	fn finish(_t: u32, _b: u32) -> Weight {
		Weight::zero()
	}
	fn authorize_finish(_t: u32, _b: u32) -> Weight {
		Weight::zero()
	}
	fn validate() -> Weight {
		Weight::zero()
	}
	fn authorize_validate() -> Weight {
		Weight::zero()
	}
	fn vote() -> Weight {
		Weight::zero()
	}
	fn authorize_vote() -> Weight {
		Weight::zero()
	}
	fn report_missing() -> Weight {
		Weight::zero()
	}
	fn authorize_report_missing() -> Weight {
		Weight::zero()
	}
	fn set_params() -> Weight {
		Weight::zero()
	}
	fn on_initialize_idle() -> Weight {
		Weight::zero()
	}
	fn timer_refusal() -> Weight {
		Weight::zero()
	}
	fn timer_expiry() -> Weight {
		Weight::zero()
	}
	fn timer_validation() -> Weight {
		Weight::zero()
	}
	fn timer_vote() -> Weight {
		Weight::zero()
	}
	fn timer_prune(_v: u32) -> Weight {
		Weight::zero()
	}
	fn timer_skip() -> Weight {
		Weight::zero()
	}
	fn settle_host() -> Weight {
		Weight::zero()
	}
	fn pay_validators(_v: u32) -> Weight {
		Weight::zero()
	}
}

/// How many times the executor draw is repeated when it lands on a host that left (or on
/// the host a request is being taken from) before the assignment fails.
pub const MAX_DRAWS: u32 = 8;

/// Domain of the randomness the executor draw asks the runtime for.
pub const RANDOMNESS_SUBJECT: &[u8] = b"gonka/inference/executor";

#[polkadot_sdk::frame_support::pallet]
pub mod pallet {
	use super::*;
	use gonka_primitives::{
		duty::{Duty, InferenceFinish, InferenceValidation, InvalidationVote, MissingValidation},
		inference::{self as rules, RequestId, SamplingParams},
		EpochIndex, ModelId, H256,
	};
	use pallet_poc::{CurrentEpoch, Hosts};
	use polkadot_sdk::{
		frame_support::{
			defensive,
			pallet_prelude::*,
			traits::{
				fungible::{InspectHold, Mutate, MutateHold},
				tokens::{Fortitude, Precision, Restriction},
				Contains, Randomness,
			},
		},
		frame_system::{self, pallet_prelude::*},
		sp_runtime::{
			traits::{One, Saturating, UniqueSaturatedInto, Zero},
			Perbill,
		},
	};

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

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config + pallet_poc::Config {
		/// Holds escrows and pending work balances (in the smallest unit of GNK).
		type Currency: MutateHold<
				Self::AccountId,
				Reason = <Self as Config>::RuntimeHoldReason,
				Balance = u128,
			> + Mutate<Self::AccountId>;
		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;
		/// The approved models' inference terms.
		type ModelTerms: InferenceModels;
		/// The randomness the executor draw uses (`docs/inference.md` says what a collator
		/// can bias).
		type Randomness: Randomness<H256, BlockNumberFor<Self>>;
		/// Who receives the pending work balance of a host that was INVALID in its epoch,
		/// when the ledger settles it (the community pool).
		#[pallet::constant]
		type ForfeitTo: Get<Self::AccountId>;
		/// The longest prompt, in bytes.
		#[pallet::constant]
		type MaxPromptBytes: Get<u32>;
		/// The most completion tokens of a result.
		#[pallet::constant]
		type MaxOutputTokens: Get<u32>;
		/// The longest completion text, in bytes.
		#[pallet::constant]
		type MaxOutputBytes: Get<u32>;
		/// The weight `on_initialize` may spend on timers in one block; due timers beyond it
		/// wait for the next block.
		#[pallet::constant]
		type TimerBudget: Get<Weight>;
		/// The most reports and votes of a closed request removed in one block (a request
		/// with more is pruned over several blocks).
		#[pallet::constant]
		type PruneBatch: Get<u32>;
		/// The most host records of an old epoch settled in one block.
		#[pallet::constant]
		type MaxSettlementsPerBlock: Get<u32>;
		/// Epochs a host's ledger is kept before it is settled and pruned.
		#[pallet::constant]
		type LedgerEpochs: Get<u32>;
		/// The most reports of a validated request read to pay the validators' share: the
		/// passing ones among the first this many (in storage order) are paid. The hash rule
		/// samples about `target` ≤ 1 validator per request on average, so more is rare.
		#[pallet::constant]
		type MaxPaidValidators: Get<u32>;
		/// Epochs whose ledger must not be settled yet: `pallet-rewards` reads an epoch's
		/// ledger (INVALID, misses) while it distributes that epoch's reward.
		type SettlementHold: Contains<EpochIndex>;
		/// The weights of the calls and hooks.
		type WeightInfo: WeightInfo;
	}

	/// Why the pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A developer's escrow for a request in flight.
		Escrow,
		/// An executor's pending work balance: the cost of its finished requests, until the
		/// epoch is settled.
		WorkBalance,
	}

	/// The governable rules.
	#[pallet::storage]
	pub type Params<T: Config> = StorageValue<_, ParamsOf<T>, ValueQuery, LiveParams<T>>;

	/// The live network's rules, until governance sets others.
	pub struct LiveParams<T>(core::marker::PhantomData<T>);
	impl<T: Config> Get<ParamsOf<T>> for LiveParams<T> {
		fn get() -> ParamsOf<T> {
			InferenceParams::live_network()
		}
	}

	/// The id the next request gets.
	#[pallet::storage]
	pub type NextRequestId<T: Config> = StorageValue<_, RequestId, ValueQuery>;

	/// Requests, until pruned after the retention window.
	#[pallet::storage]
	pub type Requests<T: Config> = StorageMap<_, Twox64Concat, RequestId, RequestOf<T>>;

	/// Prompts, until pruned.
	#[pallet::storage]
	pub type Prompts<T: Config> =
		StorageMap<_, Twox64Concat, RequestId, BoundedVec<u8, T::MaxPromptBytes>>;

	/// Outputs of finished requests, until pruned.
	#[pallet::storage]
	pub type Outputs<T: Config> = StorageMap<_, Twox64Concat, RequestId, OutputOf<T>>;

	/// The validation reports of a request, by validator: its similarity.
	#[pallet::storage]
	pub type Reports<T: Config> =
		StorageDoubleMap<_, Twox64Concat, RequestId, Blake2_128Concat, T::AccountId, Perbill>;

	/// The votes of a request's invalidation vote, by host: `true` for invalid.
	#[pallet::storage]
	pub type Votes<T: Config> =
		StorageDoubleMap<_, Twox64Concat, RequestId, Blake2_128Concat, T::AccountId, bool>;

	/// Sampled validators shown not to have reported on a request, by validator.
	#[pallet::storage]
	pub type Missed<T: Config> =
		StorageDoubleMap<_, Twox64Concat, RequestId, Blake2_128Concat, T::AccountId, ()>;

	/// Each model's price state (created at the model's first request).
	#[pallet::storage]
	pub type Prices<T: Config> =
		StorageMap<_, Twox64Concat, ModelId, PriceState<BlockNumberFor<T>>>;

	/// Each host's record per epoch; kept `LedgerEpochs` epochs, then settled and pruned.
	#[pallet::storage]
	pub type Ledger<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		EpochIndex,
		Blake2_128Concat,
		T::AccountId,
		EpochStats,
		ValueQuery,
	>;

	/// Every host's assignments and misses per epoch, summed (the network's miss rate of
	/// the downtime test); removed with the epoch's ledger.
	#[pallet::storage]
	pub type EpochTotals<T: Config> =
		StorageMap<_, Twox64Concat, EpochIndex, DutyTotals, ValueQuery>;

	/// The oldest epoch whose ledger is not yet settled.
	#[pallet::storage]
	pub type UnsettledEpoch<T: Config> = StorageValue<_, EpochIndex, ValueQuery>;

	/// Each host's reputation state.
	#[pallet::storage]
	pub type Reputations<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, ReputationState, ValueQuery>;

	/// The timer queues' bounds.
	#[pallet::storage]
	pub type Queues<T: Config> = StorageMap<_, Twox64Concat, Timer, Queue, ValueQuery>;

	/// The timers: (deadline, request, attempt) by queue and position.
	#[pallet::storage]
	pub type Timers<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		Timer,
		Twox64Concat,
		u64,
		(BlockNumberFor<T>, RequestId, u32),
	>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A request was made, its escrow held and its executor drawn.
		RequestSubmitted {
			request: RequestId,
			developer: T::AccountId,
			model: ModelId,
			executor: T::AccountId,
			price: u128,
			escrow: u128,
		},
		/// The executor did not finish in time (a miss) and another host was drawn.
		RequestReassigned { request: RequestId, from: T::AccountId, to: T::AccountId, attempt: u32 },
		/// The executor's result: the cost is held on it, the rest of the escrow refunded.
		RequestFinished {
			request: RequestId,
			executor: T::AccountId,
			prompt_tokens: u32,
			completion_tokens: u32,
			cost: u128,
			refund: u128,
			output_hash: H256,
		},
		/// A sampled validator reported its replay similarity.
		ValidationReported {
			request: RequestId,
			validator: T::AccountId,
			similarity: Perbill,
			passed: bool,
		},
		/// A sampled validator did not report on a request within the validation window, as
		/// `reporter` showed.
		ValidationMissed {
			request: RequestId,
			validator: T::AccountId,
			epoch: EpochIndex,
			reporter: T::AccountId,
		},
		/// A failed validation opened an invalidation vote.
		VoteOpened { request: RequestId, by: T::AccountId },
		/// A host voted in an invalidation vote with its power.
		Voted { request: RequestId, voter: T::AccountId, invalid: bool, power: u128 },
		/// A request closed; `refund` went back to the developer at closing.
		RequestClosed { request: RequestId, outcome: Outcome, refund: u128 },
		/// A validator whose report passed was paid its part of the validators' share of a
		/// validated request's cost, moved from the executor's pending work to its own in
		/// `epoch`'s ledger (released at settlement unless it was INVALID in that epoch).
		ValidatorPaid {
			request: RequestId,
			validator: T::AccountId,
			epoch: EpochIndex,
			amount: u128,
		},
		/// A host's executor missed an assigned request.
		Missed { host: T::AccountId, request: RequestId, epoch: EpochIndex },
		/// The invalidation test marked a host INVALID for an epoch.
		HostInvalid { host: T::AccountId, epoch: EpochIndex },
		/// A model's price changed.
		PriceChanged { model: ModelId, price: u128 },
		/// A closed request's payloads and votes were removed (its hashes stay in events).
		RequestPruned { request: RequestId },
		/// A host's pending work balance of an old epoch was released to it, or forfeited
		/// to the community pool because the host was INVALID in that epoch.
		WorkSettled { epoch: EpochIndex, host: T::AccountId, amount: u128, forfeited: bool },
		/// Every host record of an epoch was settled and removed.
		EpochSettled { epoch: EpochIndex },
		/// Governance set new rules.
		ParamsSet { params: ParamsOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The model is not approved.
		UnknownModel,
		/// An empty prompt.
		EmptyPrompt,
		/// `max_tokens` of zero.
		ZeroMaxTokens,
		/// `max_tokens` above the model's context.
		MaxTokensAboveLimit,
		/// A temperature above 2.0 or an empty nucleus.
		BadSamplingParams,
		/// The escrow does not fit in a balance.
		EscrowOverflow,
		/// No host serves the model.
		NoExecutor,
		/// The developer's free balance does not cover the escrow (nothing was held).
		InsufficientBalance,
		/// No such request (or it was pruned).
		UnknownRequest,
		/// The sender is not a registered host.
		NotRegistered,
		/// The sender is not the request's executor (or no longer: it was reassigned).
		NotExecutor,
		/// The request is not waiting for a result (finished, expired or closed).
		NotAssigned,
		/// More completion tokens than the request's `max_tokens`.
		TooManyTokens,
		/// More prompt tokens than the prompt's bytes plus the template overhead.
		PromptTokensAboveBound,
		/// The request is not finished, or its validation window has closed.
		NotValidating,
		/// Validation is sampled from the hash of the `finish` block: not before the next.
		TooEarly,
		/// The executor never validates its own request.
		SelfValidation,
		/// The hash rule did not sample this validator for the request.
		NotSampled,
		/// This validator already reported on the request.
		AlreadyReported,
		/// The request has no open invalidation vote.
		NoOpenVote,
		/// The request was never finished: nobody was sampled to validate it.
		NeverFinished,
		/// The validation window is still open: a missing report cannot be shown yet.
		ValidationOpen,
		/// The validator did report on the request.
		ValidatorReported,
		/// This validator's missing report is already recorded, or the request's epoch is
		/// settled.
		AlreadyRecorded,
		/// The executor does not vote on its own result.
		SelfVote,
		/// This host already voted.
		AlreadyVoted,
		/// The host has no voting power in the request's snapshot.
		NoVotingPower,
		/// A timeout or window of zero blocks.
		ZeroWindow,
		/// The refusal timeout must be shorter than the expiration.
		RefusalNotBeforeExpiration,
		/// The price rule's bounds are crossed or it changes a price by 100% or more.
		BadPriceRule,
		/// A floor price of zero.
		ZeroFloor,
		/// A block capacity of zero.
		ZeroCapacity,
		/// The SPRT rates (0 < p0 < p1 < 1) or boundary (> 0) do not define a test.
		BadSprt,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Weights::<T>::on_initialize_idle()
				.saturating_add(Self::serve_timers(now))
				.saturating_add(Self::settle_old_epoch())
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(
			_n: BlockNumberFor<T>,
		) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Asks `model` for a completion of `prompt` of at most `max_tokens` tokens. Holds
		/// the escrow `(prompt_bytes + template_overhead + max_tokens) × price` and draws an
		/// executor in proportion to PoC weight on the model. Fails without holding
		/// anything if the escrow is more than the free balance.
		#[pallet::call_index(0)]
		#[pallet::weight(
			Weights::<T>::request(prompt.len() as u32, MAX_DRAWS)
				.saturating_add(Pallet::<T>::prepaid_timers(Timer::Assignment))
		)]
		pub fn request(
			origin: OriginFor<T>,
			model: ModelId,
			prompt: BoundedVec<u8, T::MaxPromptBytes>,
			max_tokens: u32,
			params: SamplingParams,
		) -> DispatchResultWithPostInfo {
			let developer = ensure_signed(origin)?;
			let terms = T::ModelTerms::terms(model).ok_or(Error::<T>::UnknownModel)?;
			ensure!(!prompt.is_empty(), Error::<T>::EmptyPrompt);
			ensure!(max_tokens > 0, Error::<T>::ZeroMaxTokens);
			ensure!(max_tokens <= terms.max_context, Error::<T>::MaxTokensAboveLimit);
			ensure!(params.is_valid(), Error::<T>::BadSamplingParams);
			let now = frame_system::Pallet::<T>::block_number();
			let rules = Params::<T>::get();
			let prompt_bytes = prompt.len() as u32;
			let mut price = Self::price_state(model, &terms, &rules, now);
			let escrow =
				rules::escrow(prompt_bytes, terms.template_overhead, max_tokens, price.price)
					.ok_or(Error::<T>::EscrowOverflow)?;
			let id = NextRequestId::<T>::get();
			let (executor, draws) = Self::draw_executor(model, id, 0, None);
			let executor = executor.ok_or(Error::<T>::NoExecutor)?;
			Funds::<T>::hold(&HoldReason::Escrow.into(), &developer, escrow)
				.map_err(|_| Error::<T>::InsufficientBalance)?;

			let tokens = u64::from(prompt_bytes)
				.saturating_add(u64::from(terms.template_overhead))
				.saturating_add(u64::from(max_tokens));
			price.used = price.used.saturating_add(tokens);
			Self::store_price(model, price);
			NextRequestId::<T>::put(id.saturating_add(1));
			let epoch = Self::epoch_now();
			Self::record_assignment(epoch, &executor);
			let prompt_hash = H256(gonka_primitives::hash(&prompt));
			Prompts::<T>::insert(id, prompt);
			Requests::<T>::insert(
				id,
				Request {
					developer: developer.clone(),
					model,
					max_tokens,
					params,
					prompt_bytes,
					template_overhead: terms.template_overhead,
					validation_threshold: terms.validation_threshold,
					prompt_hash,
					price: price.price,
					escrow,
					created: now,
					executor: executor.clone(),
					attempt: 0,
					status: RequestStatus::Assigned,
					finish: None,
					vote: None,
				},
			);
			Self::schedule(Timer::Assignment, now.saturating_add(rules.refusal_timeout), id, 0);
			Self::deposit_event(Event::RequestSubmitted {
				request: id,
				developer,
				model,
				executor,
				price: price.price,
				escrow,
			});
			// Charged for the most draws; refunded to the draws made.
			let actual = Weights::<T>::request(prompt_bytes, draws)
				.saturating_add(Pallet::<T>::prepaid_timers(Timer::Assignment));
			Ok(Some(actual).into())
		}

		/// The executor's result for a request, signed by its worker key: a transaction with
		/// no signer and no fee, valid only through its `authorize` rule. Holds the cost on
		/// the executor as pending work and refunds the rest of the escrow.
		#[pallet::call_index(1)]
		#[pallet::weight(Weights::<T>::finish(
			result.token_ids.len() as u32,
			result.text.len() as u32,
		).saturating_add(Pallet::<T>::prepaid_timers(Timer::Validation)))]
		#[pallet::weight_of_authorize(Weights::<T>::authorize_finish(
			result.token_ids.len() as u32,
			result.text.len() as u32,
		))]
		#[pallet::authorize(Self::authorize_finish)]
		pub fn finish(
			origin: OriginFor<T>,
			executor: T::AccountId,
			result: FinishOf<T>,
			// Checked in `authorize_finish`.
			_signature: sr25519::Signature,
		) -> DispatchResult {
			frame_system::ensure_authorized(origin)?;
			let mut request = Self::check_finish(&executor, &result)?;
			let id = result.request;
			let now = frame_system::Pallet::<T>::block_number();
			let completion_tokens = result.token_ids.len() as u32;
			let cost = rules::cost(result.prompt_tokens, completion_tokens, request.price)
				.map(|cost| cost.min(request.escrow))
				.ok_or(Error::<T>::EscrowOverflow)?;
			let refund = request.escrow.saturating_sub(cost);
			let escrow = HoldReason::Escrow.into();
			Funds::<T>::release(&escrow, &request.developer, refund, Precision::Exact)?;
			Funds::<T>::transfer_on_hold(
				&escrow,
				&request.developer,
				&executor,
				cost,
				Precision::Exact,
				Restriction::Free,
				Fortitude::Polite,
			)?;
			Funds::<T>::hold(&HoldReason::WorkBalance.into(), &executor, cost)?;

			let epoch = Self::epoch_now();
			let reputation = Self::note_activity(&executor, epoch, |_| {});
			let served = Ledger::<T>::mutate(epoch, &executor, |stats| {
				stats.finished = stats.finished.saturating_add(1);
				stats.pending_work = stats.pending_work.saturating_add(cost);
				stats.finished
			});
			let target = rules::validation_target(
				rules::reputation(reputation.clean_epochs),
				u64::from(served),
			);
			let (snapshot, total_power, _) = pallet_poc::Pallet::<T>::take_snapshot();
			let executor_power = pallet_poc::Pallet::<T>::power_in(&snapshot, &executor);
			let output = Output { token_ids: result.token_ids, text: result.text };
			let output_hash = H256(gonka_primitives::hash(&output.encode()));
			Outputs::<T>::insert(id, output);
			request.status = RequestStatus::Finished;
			request.finish = Some(FinishRecord {
				at: now,
				epoch,
				prompt_tokens: result.prompt_tokens,
				completion_tokens,
				cost,
				output_hash,
				snapshot,
				total_power,
				executor_power,
				target,
				passes: 0,
				reports: 0,
			});
			Requests::<T>::insert(id, request);
			let window = Params::<T>::get().validation_window;
			Self::schedule(Timer::Validation, now.saturating_add(window), id, 0);
			Self::deposit_event(Event::RequestFinished {
				request: id,
				executor,
				prompt_tokens: result.prompt_tokens,
				completion_tokens,
				cost,
				refund,
				output_hash,
			});
			Ok(())
		}

		/// A sampled validator's replay similarity for a finished request, signed by its
		/// worker key. At or above the model's threshold it passes; below, it opens an
		/// invalidation vote in which this report counts as an invalid vote.
		#[pallet::call_index(2)]
		#[pallet::weight(Pallet::<T>::report_weight(true, true, T::MaxPaidValidators::get()))]
		#[pallet::weight_of_authorize(Weights::<T>::authorize_validate())]
		#[pallet::authorize(Self::authorize_validate)]
		pub fn validate(
			origin: OriginFor<T>,
			validator: T::AccountId,
			report: InferenceValidation,
			// Checked in `authorize_validate`.
			_signature: sr25519::Signature,
		) -> DispatchResultWithPostInfo {
			frame_system::ensure_authorized(origin)?;
			let (mut request, finish, power) = Self::check_validate(&validator, &report)?;
			let id = report.request;
			let passed = report.similarity >= request.validation_threshold;
			Reports::<T>::insert(id, &validator, report.similarity);
			Ledger::<T>::mutate(Self::epoch_now(), &validator, |stats| {
				stats.validations = stats.validations.saturating_add(1)
			});
			let mut record = finish;
			record.reports = record.reports.saturating_add(1);
			if passed {
				record.passes = record.passes.saturating_add(1);
			}
			request.finish = Some(record);
			Self::deposit_event(Event::ValidationReported {
				request: id,
				validator: validator.clone(),
				similarity: report.similarity,
				passed,
			});
			let now = frame_system::Pallet::<T>::block_number();
			let opened = request.status == RequestStatus::Finished && !passed;
			if opened {
				request.status = RequestStatus::Voting;
				request.vote = Some(VoteTally { opened: now, ..Default::default() });
				let window = Params::<T>::get().vote_window;
				Self::schedule(Timer::Vote, now.saturating_add(window), id, 0);
				Self::deposit_event(Event::VoteOpened { request: id, by: validator.clone() });
			}
			let mut read = 0;
			if request.status == RequestStatus::Voting {
				// A report made while a vote is open is that validator's vote.
				read = Self::count_vote(id, &mut request, &validator, !passed, power, now);
			}
			Requests::<T>::insert(id, request);
			Ok(Some(Self::report_weight(opened, passed, read)).into())
		}

		/// A host's vote in a request's invalidation vote, signed by its worker key, with
		/// its voting power in the request's snapshot. Closes the vote as soon as its
		/// outcome is certain.
		#[pallet::call_index(3)]
		#[pallet::weight(Pallet::<T>::vote_weight(T::MaxPaidValidators::get()))]
		#[pallet::weight_of_authorize(Weights::<T>::authorize_vote())]
		#[pallet::authorize(Self::authorize_vote)]
		pub fn vote(
			origin: OriginFor<T>,
			voter: T::AccountId,
			ballot: InvalidationVote,
			// Checked in `authorize_vote`.
			_signature: sr25519::Signature,
		) -> DispatchResultWithPostInfo {
			frame_system::ensure_authorized(origin)?;
			let (mut request, power) = Self::check_vote(&voter, &ballot)?;
			let now = frame_system::Pallet::<T>::block_number();
			let paid =
				Self::count_vote(ballot.request, &mut request, &voter, ballot.invalid, power, now);
			Requests::<T>::insert(ballot.request, request);
			Ok(Some(Self::vote_weight(paid)).into())
		}

		/// Shows that `claim.validator`, sampled by the hash rule to validate
		/// `claim.request`, did not report within the validation window: a missed
		/// validation in its ledger for the request's epoch. Any registered host may send
		/// it (a duty signed by its worker key, free, once per request and validator);
		/// only a true claim passes, since the chain checks it by the same rule.
		#[pallet::call_index(5)]
		#[pallet::weight(Weights::<T>::report_missing())]
		#[pallet::weight_of_authorize(Weights::<T>::authorize_report_missing())]
		#[pallet::authorize(Self::authorize_report_missing)]
		pub fn report_missing(
			origin: OriginFor<T>,
			reporter: T::AccountId,
			claim: MissingValidation,
			// Checked in `authorize_report_missing`.
			_signature: sr25519::Signature,
		) -> DispatchResult {
			frame_system::ensure_authorized(origin)?;
			let finish = Self::check_missing(&claim)?;
			Missed::<T>::insert(claim.request, &claim.validator, ());
			Ledger::<T>::mutate(finish.epoch, &claim.validator, |stats| {
				stats.missed_validations = stats.missed_validations.saturating_add(1)
			});
			Self::deposit_event(Event::ValidationMissed {
				request: claim.request,
				validator: claim.validator,
				epoch: finish.epoch,
				reporter,
			});
			Ok(())
		}

		/// Sets the rules (governance: the `ComputeMajority` origin). Windows apply to
		/// timers scheduled from now on; prices move by the new rule from the next step.
		#[pallet::call_index(4)]
		#[pallet::weight(Weights::<T>::set_params())]
		pub fn set_params(origin: OriginFor<T>, params: ParamsOf<T>) -> DispatchResult {
			<T as pallet_poc::Config>::UpdateOrigin::ensure_origin(origin)?;
			params.check().map_err(|error| match error {
				InvalidParams::ZeroWindow => Error::<T>::ZeroWindow,
				InvalidParams::RefusalNotBeforeExpiration => Error::<T>::RefusalNotBeforeExpiration,
				InvalidParams::PriceRule => Error::<T>::BadPriceRule,
				InvalidParams::ZeroFloor => Error::<T>::ZeroFloor,
				InvalidParams::ZeroCapacity => Error::<T>::ZeroCapacity,
				InvalidParams::Sprt => Error::<T>::BadSprt,
			})?;
			Params::<T>::put(params);
			Self::deposit_event(Event::ParamsSet { params });
			Ok(())
		}
	}

	/// The code an error has in `InvalidTransaction::Custom`: its index in [`Error`].
	fn error_code<T: Config>(error: Error<T>) -> u8 {
		let error: DispatchError = error.into();
		match error {
			DispatchError::Module(module) => module.error[0],
			_ => u8::MAX,
		}
	}

	/// Builds a duty transaction's validity: priority, one `provides` tag, longevity.
	fn duty_validity<T: Config>(
		prefix: &'static str,
		tag: impl Encode,
		until: BlockNumberFor<T>,
	) -> TransactionValidityWithRefund {
		let now = frame_system::Pallet::<T>::block_number();
		let remaining: u64 = until.saturating_sub(now).unique_saturated_into();
		ValidTransaction::with_tag_prefix(prefix)
			.priority(<T as pallet_poc::Config>::DutyPriority::get())
			.and_provides(tag)
			.longevity(remaining.max(1))
			.propagate(true)
			.build()
			.map(|validity| (validity, Weight::zero()))
	}

	use polkadot_sdk::sp_core::sr25519;

	impl<T: Config> Pallet<T> {
		/// The epoch in progress (0 before the first).
		pub fn epoch_now() -> EpochIndex {
			CurrentEpoch::<T>::get().map_or(0, |epoch| epoch.index)
		}

		/// The worker key of a registered host.
		fn worker_key(host: &T::AccountId) -> Result<sr25519::Public, Error<T>> {
			Hosts::<T>::get(host).map(|info| info.worker_key).ok_or(Error::<T>::NotRegistered)
		}

		/// Checks a result against the chain's state; returns its request.
		fn check_finish(
			executor: &T::AccountId,
			result: &FinishOf<T>,
		) -> Result<RequestOf<T>, Error<T>> {
			let request = Requests::<T>::get(result.request).ok_or(Error::<T>::UnknownRequest)?;
			ensure!(request.status == RequestStatus::Assigned, Error::<T>::NotAssigned);
			// Expired from `expiration` blocks on, even before its timer refunds it.
			let now = frame_system::Pallet::<T>::block_number();
			let expiry = request.created.saturating_add(Params::<T>::get().expiration);
			ensure!(now < expiry, Error::<T>::NotAssigned);
			ensure!(request.executor == *executor, Error::<T>::NotExecutor);
			ensure!(result.token_ids.len() as u32 <= request.max_tokens, Error::<T>::TooManyTokens);
			let bound = request.prompt_bytes.saturating_add(request.template_overhead);
			ensure!(result.prompt_tokens <= bound, Error::<T>::PromptTokensAboveBound);
			Ok(request)
		}

		/// The `authorize` rule of [`Pallet::finish`]: the result fits the request and the
		/// executor's worker key signed it for this chain.
		pub(crate) fn authorize_finish(
			_source: TransactionSource,
			executor: &T::AccountId,
			result: &FinishOf<T>,
			signature: &sr25519::Signature,
		) -> TransactionValidityWithRefund {
			let key = Self::worker_key(executor).map_err(|_| InvalidTransaction::BadSigner)?;
			let request = Self::check_finish(executor, result).map_err(|error| match error {
				Error::<T>::UnknownRequest | Error::<T>::NotAssigned => InvalidTransaction::Stale,
				other => InvalidTransaction::Custom(error_code(other)),
			})?;
			if !result.verify(&pallet_poc::Pallet::<T>::genesis_hash(), &key, signature) {
				return Err(InvalidTransaction::BadProof.into());
			}
			let expiry = request.created.saturating_add(Params::<T>::get().expiration);
			duty_validity::<T>("GonkaInferenceFinish", result.request, expiry)
		}

		/// Checks a validation report; returns the request, its finish record and the
		/// validator's power in the request's snapshot.
		fn check_validate(
			validator: &T::AccountId,
			report: &InferenceValidation,
		) -> Result<(RequestOf<T>, FinishRecordOf<T>, u128), Error<T>> {
			let request = Requests::<T>::get(report.request).ok_or(Error::<T>::UnknownRequest)?;
			let finish = match (request.status, request.finish) {
				(RequestStatus::Finished | RequestStatus::Voting, Some(finish)) => finish,
				_ => return Err(Error::<T>::NotValidating),
			};
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(now > finish.at, Error::<T>::TooEarly);
			let window = Params::<T>::get().validation_window;
			ensure!(now < finish.at.saturating_add(window), Error::<T>::NotValidating);
			ensure!(*validator != request.executor, Error::<T>::SelfValidation);
			ensure!(
				!Reports::<T>::contains_key(report.request, validator),
				Error::<T>::AlreadyReported
			);
			let power = pallet_poc::Pallet::<T>::power_in(&finish.snapshot, validator);
			ensure!(
				Self::is_sampled(report.request, &request, &finish, validator, power),
				Error::<T>::NotSampled
			);
			Ok((request, finish, power))
		}

		/// Whether the hash rule samples `validator` (with `power` in the request's
		/// snapshot) to validate finished request `id`: from the hash of the block that
		/// included `finish`, so only from the next block on.
		fn is_sampled(
			id: RequestId,
			request: &RequestOf<T>,
			finish: &FinishRecordOf<T>,
			validator: &T::AccountId,
			power: u128,
		) -> bool {
			let block = frame_system::Pallet::<T>::block_hash(finish.at);
			rules::is_validator(
				&H256::from_slice(block.as_ref()),
				id,
				validator,
				&request.executor,
				finish.target,
				power,
				finish.total_power,
				finish.executor_power,
			)
		}

		/// The registered hosts the hash rule samples to validate finished request `id`
		/// (`InferenceApi::validators`): what each worker computes for itself, and what a
		/// host showing a missing report checks. `None` for an unknown or unfinished
		/// request, and in the block that included `finish` (its hash is not known yet).
		/// Off-chain only: one hash per registered host.
		pub fn sampled_validators(id: RequestId) -> Option<alloc::vec::Vec<T::AccountId>> {
			let request = Requests::<T>::get(id)?;
			let finish = request.finish?;
			if frame_system::Pallet::<T>::block_number() <= finish.at {
				return None;
			}
			let sampled = Hosts::<T>::iter_keys()
				.filter(|host| *host != request.executor)
				.filter(|host| {
					let power = pallet_poc::Pallet::<T>::power_in(&finish.snapshot, host);
					Self::is_sampled(id, &request, &finish, host, power)
				})
				.collect();
			Some(sampled)
		}

		/// The `authorize` rule of [`Pallet::validate`].
		pub(crate) fn authorize_validate(
			_source: TransactionSource,
			validator: &T::AccountId,
			report: &InferenceValidation,
			signature: &sr25519::Signature,
		) -> TransactionValidityWithRefund {
			let key = Self::worker_key(validator).map_err(|_| InvalidTransaction::BadSigner)?;
			let (_, finish, _) =
				Self::check_validate(validator, report).map_err(|error| match error {
					Error::<T>::TooEarly => InvalidTransaction::Future,
					Error::<T>::UnknownRequest
					| Error::<T>::NotValidating
					| Error::<T>::AlreadyReported => InvalidTransaction::Stale,
					other => InvalidTransaction::Custom(error_code(other)),
				})?;
			if !report.verify(&pallet_poc::Pallet::<T>::genesis_hash(), &key, signature) {
				return Err(InvalidTransaction::BadProof.into());
			}
			let until = finish.at.saturating_add(Params::<T>::get().validation_window);
			duty_validity::<T>("GonkaInferenceValidation", (report.request, validator), until)
		}

		/// Checks a vote; returns the request and the voter's power in its snapshot.
		fn check_vote(
			voter: &T::AccountId,
			ballot: &InvalidationVote,
		) -> Result<(RequestOf<T>, u128), Error<T>> {
			let request = Requests::<T>::get(ballot.request).ok_or(Error::<T>::UnknownRequest)?;
			let (Some(finish), Some(tally)) = (request.finish, request.vote) else {
				return Err(Error::<T>::NoOpenVote);
			};
			ensure!(request.status == RequestStatus::Voting, Error::<T>::NoOpenVote);
			let now = frame_system::Pallet::<T>::block_number();
			let window = Params::<T>::get().vote_window;
			ensure!(now < tally.opened.saturating_add(window), Error::<T>::NoOpenVote);
			ensure!(*voter != request.executor, Error::<T>::SelfVote);
			ensure!(!Votes::<T>::contains_key(ballot.request, voter), Error::<T>::AlreadyVoted);
			let power = pallet_poc::Pallet::<T>::power_in(&finish.snapshot, voter);
			ensure!(power > 0, Error::<T>::NoVotingPower);
			Ok((request, power))
		}

		/// The `authorize` rule of [`Pallet::vote`].
		pub(crate) fn authorize_vote(
			_source: TransactionSource,
			voter: &T::AccountId,
			ballot: &InvalidationVote,
			signature: &sr25519::Signature,
		) -> TransactionValidityWithRefund {
			let key = Self::worker_key(voter).map_err(|_| InvalidTransaction::BadSigner)?;
			let (request, _) = Self::check_vote(voter, ballot).map_err(|error| match error {
				Error::<T>::UnknownRequest | Error::<T>::NoOpenVote | Error::<T>::AlreadyVoted => {
					InvalidTransaction::Stale
				}
				other => InvalidTransaction::Custom(error_code(other)),
			})?;
			if !ballot.verify(&pallet_poc::Pallet::<T>::genesis_hash(), &key, signature) {
				return Err(InvalidTransaction::BadProof.into());
			}
			let opened = request.vote.map_or(Zero::zero(), |tally| tally.opened);
			let until = opened.saturating_add(Params::<T>::get().vote_window);
			duty_validity::<T>("GonkaInvalidationVote", (ballot.request, voter), until)
		}

		/// Checks a missing-validation claim; returns the request's finish record.
		fn check_missing(claim: &MissingValidation) -> Result<FinishRecordOf<T>, Error<T>> {
			let request = Requests::<T>::get(claim.request).ok_or(Error::<T>::UnknownRequest)?;
			let finish = request.finish.ok_or(Error::<T>::NeverFinished)?;
			let now = frame_system::Pallet::<T>::block_number();
			let window = Params::<T>::get().validation_window;
			ensure!(now >= finish.at.saturating_add(window), Error::<T>::ValidationOpen);
			ensure!(claim.validator != request.executor, Error::<T>::SelfValidation);
			ensure!(
				!Reports::<T>::contains_key(claim.request, &claim.validator),
				Error::<T>::ValidatorReported
			);
			ensure!(
				!Missed::<T>::contains_key(claim.request, &claim.validator)
					&& finish.epoch >= UnsettledEpoch::<T>::get(),
				Error::<T>::AlreadyRecorded
			);
			let power = pallet_poc::Pallet::<T>::power_in(&finish.snapshot, &claim.validator);
			ensure!(
				Self::is_sampled(claim.request, &request, &finish, &claim.validator, power),
				Error::<T>::NotSampled
			);
			Ok(finish)
		}

		/// The `authorize` rule of [`Pallet::report_missing`].
		pub(crate) fn authorize_report_missing(
			_source: TransactionSource,
			reporter: &T::AccountId,
			claim: &MissingValidation,
			signature: &sr25519::Signature,
		) -> TransactionValidityWithRefund {
			let key = Self::worker_key(reporter).map_err(|_| InvalidTransaction::BadSigner)?;
			let finish = Self::check_missing(claim).map_err(|error| match error {
				Error::<T>::ValidationOpen => InvalidTransaction::Future,
				Error::<T>::UnknownRequest | Error::<T>::AlreadyRecorded => {
					InvalidTransaction::Stale
				}
				other => InvalidTransaction::Custom(error_code(other)),
			})?;
			if !claim.verify(&pallet_poc::Pallet::<T>::genesis_hash(), &key, signature) {
				return Err(InvalidTransaction::BadProof.into());
			}
			let rules = Params::<T>::get();
			let until = finish
				.at
				.saturating_add(rules.validation_window)
				.saturating_add(rules.vote_window)
				.saturating_add(rules.retention);
			duty_validity::<T>("GonkaMissingValidation", (claim.request, &claim.validator), until)
		}

		/// Adds `voter`'s vote to the request's tally and closes the vote once its outcome
		/// is certain: more than half of the power besides the executor's said invalid, or
		/// at least half said valid.
		fn count_vote(
			id: RequestId,
			request: &mut RequestOf<T>,
			voter: &T::AccountId,
			invalid: bool,
			power: u128,
			now: BlockNumberFor<T>,
		) -> u32 {
			let (Some(finish), Some(mut tally)) = (request.finish, request.vote) else {
				defensive!("a vote is counted only on a finished request with a tally");
				return 0;
			};
			Votes::<T>::insert(id, voter, invalid);
			if invalid {
				tally.invalid = tally.invalid.saturating_add(power);
			} else {
				tally.valid = tally.valid.saturating_add(power);
			}
			request.vote = Some(tally);
			Self::deposit_event(Event::Voted { request: id, voter: voter.clone(), invalid, power });
			let eligible = finish.total_power.saturating_sub(finish.executor_power);
			if tally.invalid.saturating_mul(2) > eligible {
				Self::close(id, request, Outcome::Invalidated, now)
			} else if tally.valid.saturating_mul(2) >= eligible {
				Self::close(id, request, Outcome::Validated, now)
			} else {
				0
			}
		}

		/// Closes a request with `outcome`: refunds (expiry, invalidation), pays the
		/// validators' share (validated), updates the executor's invalidation test and
		/// schedules the payloads' pruning (the power snapshot stays held until then, so
		/// missing validators can still be shown). The caller stores the request. Returns the
		/// reports read to pay validators.
		fn close(
			id: RequestId,
			request: &mut RequestOf<T>,
			outcome: Outcome,
			now: BlockNumberFor<T>,
		) -> u32 {
			let mut refund = 0u128;
			let mut read = 0;
			match outcome {
				Outcome::Expired => {
					refund = Funds::<T>::release(
						&HoldReason::Escrow.into(),
						&request.developer,
						request.escrow,
						Precision::BestEffort,
					)
					.unwrap_or_else(|_| {
						defensive!("a request's escrow is held until it closes");
						0
					});
				}
				Outcome::Invalidated => {
					// The work of an epoch already settled was paid out: nothing to take back
					// (windows are far shorter than the ledger's epochs, so this is defensive).
					let unsettled =
						|finish: &FinishRecordOf<T>| finish.epoch >= UnsettledEpoch::<T>::get();
					if let Some(finish) = request.finish.filter(unsettled) {
						refund = Funds::<T>::transfer_on_hold(
							&HoldReason::WorkBalance.into(),
							&request.executor,
							&request.developer,
							finish.cost,
							Precision::BestEffort,
							Restriction::Free,
							Fortitude::Polite,
						)
						.unwrap_or_else(|_| {
							defensive!("an unsettled cost is held on the executor");
							0
						});
						Ledger::<T>::mutate(finish.epoch, &request.executor, |stats| {
							stats.pending_work = stats.pending_work.saturating_sub(refund)
						});
					}
					Self::judge(&request.executor, true);
				}
				Outcome::Validated => {
					read = Self::share_fee(id, request);
					Self::judge(&request.executor, false);
				}
				Outcome::Unchecked => {}
			}
			request.status = RequestStatus::Closed(outcome);
			let retention = Params::<T>::get().retention;
			Self::schedule(Timer::Prune, now.saturating_add(retention), id, 0);
			Self::deposit_event(Event::RequestClosed { request: id, outcome, refund });
			read
		}

		/// Pays the validators' share of a validated request's cost: the passing reports
		/// among the first `MaxPaidValidators` in storage get equal parts (rounded down; the
		/// rest stays with the executor), moved on hold from the executor's pending work to
		/// theirs in the ledger of the request's epoch. Nothing once that epoch is settled
		/// (windows are far shorter than the ledger's epochs: defensive). A part that cannot
		/// be moved (a validator account that cannot receive it) stays with the executor.
		/// Returns the reports read.
		pub(crate) fn share_fee(id: RequestId, request: &RequestOf<T>) -> u32 {
			let Some(finish) = request.finish.filter(|finish| finish.passes > 0) else {
				return 0;
			};
			let share = Params::<T>::get().validator_share.mul_floor(finish.cost);
			if share == 0 || finish.epoch < UnsettledEpoch::<T>::get() {
				return 0;
			}
			let limit = T::MaxPaidValidators::get();
			let mut read = 0u32;
			let mut passing = alloc::vec::Vec::new();
			for (validator, similarity) in Reports::<T>::iter_prefix(id) {
				if read >= limit {
					break;
				}
				read = read.saturating_add(1);
				if similarity >= request.validation_threshold {
					passing.push(validator);
				}
			}
			let count = u128::try_from(passing.len()).unwrap_or(u128::MAX);
			let part = share.checked_div(count).unwrap_or(0);
			if part == 0 {
				return read;
			}
			let reason = HoldReason::WorkBalance.into();
			let mut moved = 0u128;
			for validator in passing {
				let Ok(amount) = Funds::<T>::transfer_on_hold(
					&reason,
					&request.executor,
					&validator,
					part,
					Precision::Exact,
					Restriction::OnHold,
					Fortitude::Polite,
				) else {
					continue;
				};
				moved = moved.saturating_add(amount);
				Ledger::<T>::mutate(finish.epoch, &validator, |stats| {
					stats.pending_work = stats.pending_work.saturating_add(amount)
				});
				Self::deposit_event(Event::ValidatorPaid {
					request: id,
					validator,
					epoch: finish.epoch,
					amount,
				});
			}
			if moved > 0 {
				Ledger::<T>::mutate(finish.epoch, &request.executor, |stats| {
					stats.pending_work = stats.pending_work.saturating_sub(moved)
				});
			}
			read
		}

		/// One more validation outcome for `executor` in the epoch in progress: a step of
		/// the invalidation test, and INVALID when it crosses the boundary.
		fn judge(executor: &T::AccountId, invalidated: bool) {
			let epoch = Self::epoch_now();
			let Some(sprt) = Params::<T>::get().sprt.sprt() else {
				defensive!("set_params refuses parameters that define no test");
				return;
			};
			let marked = Ledger::<T>::mutate(epoch, executor, |stats| {
				if invalidated {
					stats.invalidated = stats.invalidated.saturating_add(1);
				} else {
					stats.validated = stats.validated.saturating_add(1);
				}
				stats.llr = sprt.step(stats.llr, invalidated);
				let newly = !stats.invalid && sprt.is_invalid(stats.llr);
				stats.invalid |= newly;
				newly
			});
			if marked {
				Self::note_activity(executor, epoch, |state| state.invalid = true);
				Self::deposit_event(Event::HostInvalid { host: executor.clone(), epoch });
			}
		}

		/// Records that `host` had work in `epoch` (its earlier active epoch folded into the
		/// clean count first), applies `change`, and returns the new state.
		fn note_activity(
			host: &T::AccountId,
			epoch: EpochIndex,
			change: impl FnOnce(&mut ReputationState),
		) -> ReputationState {
			Reputations::<T>::mutate(host, |state| {
				*state = state.at(epoch);
				state.active = true;
				change(state);
				*state
			})
		}

		/// `host`'s reputation state as of `epoch` (read only).
		pub fn reputation_at(host: &T::AccountId, epoch: EpochIndex) -> ReputationState {
			Reputations::<T>::get(host).at(epoch)
		}

		/// Draws request `id`'s executor on `attempt` among the hosts with PoC weight on
		/// `model`, skipping hosts that left and `exclude`; `None` after [`MAX_DRAWS`]
		/// draws without one. Returns the host and the number of draws made.
		pub(crate) fn draw_executor(
			model: ModelId,
			id: RequestId,
			attempt: u32,
			exclude: Option<&T::AccountId>,
		) -> (Option<T::AccountId>, u32) {
			let (randomness, _) = T::Randomness::random(RANDOMNESS_SUBJECT);
			let mut draw = rules::executor_draw(&randomness, id, attempt);
			for made in 1..=MAX_DRAWS {
				let Some(host) = pallet_poc::Pallet::<T>::pick_executor(model, &draw) else {
					return (None, made);
				};
				if Some(&host) != exclude && Hosts::<T>::contains_key(&host) {
					return (Some(host), made);
				}
				draw = gonka_primitives::hash(&draw);
			}
			(None, MAX_DRAWS)
		}

		/// `model`'s price state for block `now`: the last used block's step at its
		/// utilisation, then the idle blocks after it compounded at once, with nothing used
		/// yet in `now`. Not stored.
		pub fn price_state(
			model: ModelId,
			terms: &ModelTerms,
			rules: &ParamsOf<T>,
			now: BlockNumberFor<T>,
		) -> PriceState<BlockNumberFor<T>> {
			let Some(state) = Prices::<T>::get(model) else {
				return PriceState {
					price: terms.base_price.max(rules.min_price),
					block: now,
					used: 0,
				};
			};
			if state.block >= now {
				return state;
			}
			let utilisation = Perbill::from_rational(state.used, rules.block_capacity);
			let price = rules.price_rule.next_price(state.price, utilisation, rules.min_price);
			// The blocks in between were idle: each lowers the price by the largest step.
			let idle: u32 =
				now.saturating_sub(state.block).saturating_sub(One::one()).unique_saturated_into();
			let price = rules.price_rule.idle_price(price, idle, rules.min_price);
			PriceState { price, block: now, used: 0 }
		}

		/// Stores a model's price state; an event when the price moved.
		fn store_price(model: ModelId, state: PriceState<BlockNumberFor<T>>) {
			let before = Prices::<T>::get(model).map(|previous| previous.price);
			Prices::<T>::insert(model, state);
			if before != Some(state.price) {
				Self::deposit_event(Event::PriceChanged { model, price: state.price });
			}
		}

		/// `InferenceApi::price`: `model`'s price per token in the next block.
		pub fn price(model: ModelId) -> Option<u128> {
			let terms = T::ModelTerms::terms(model)?;
			let next = frame_system::Pallet::<T>::block_number().saturating_add(One::one());
			Some(Self::price_state(model, &terms, &Params::<T>::get(), next).price)
		}

		/// `InferenceApi::quote`: the escrow a request would hold in the next block.
		pub fn quote(model: ModelId, prompt_bytes: u32, max_tokens: u32) -> Option<u128> {
			let terms = T::ModelTerms::terms(model)?;
			rules::escrow(prompt_bytes, terms.template_overhead, max_tokens, Self::price(model)?)
		}

		/// `InferenceApi::request`: a request with its payloads while they are kept.
		pub fn request_view(id: RequestId) -> Option<runtime_api::RequestView<BlockNumberFor<T>>> {
			let request = Requests::<T>::get(id)?;
			let prompt =
				Prompts::<T>::get(id).map(|prompt| prompt.into_inner()).unwrap_or_default();
			let (token_ids, text) = Outputs::<T>::get(id)
				.map(|output| (output.token_ids.into_inner(), output.text.into_inner()))
				.unwrap_or_default();
			Some(runtime_api::RequestView { request, prompt, token_ids, text })
		}

		/// `InferenceApi::host`: a host's reputation, record of the epoch in progress and
		/// pending work over the unsettled epochs.
		pub fn host_view(host: &T::AccountId) -> runtime_api::HostInferenceView {
			let epoch = Self::epoch_now();
			let pending_work = Funds::<T>::balance_on_hold(&HoldReason::WorkBalance.into(), host);
			runtime_api::HostInferenceView {
				epoch,
				reputation: rules::reputation(Self::reputation_at(host, epoch).clean_epochs),
				stats: Ledger::<T>::get(epoch, host),
				pending_work,
			}
		}

		/// Appends a timer to its queue.
		pub(crate) fn schedule(
			timer: Timer,
			deadline: BlockNumberFor<T>,
			id: RequestId,
			attempt: u32,
		) {
			Queues::<T>::mutate(timer, |queue| {
				Timers::<T>::insert(timer, queue.tail, (deadline, id, attempt));
				queue.tail = queue.tail.saturating_add(1);
			});
		}

		/// Serves due timers of every queue, in the order of [`Timer::ALL`], while the
		/// block's `TimerBudget` lasts; returns the weight used.
		pub(crate) fn serve_timers(now: BlockNumberFor<T>) -> Weight {
			let budget = T::TimerBudget::get();
			let mut used = Weight::zero();
			for timer in Timer::ALL {
				Self::serve_queue(timer, now, budget, &mut used);
			}
			used
		}

		/// Serves the due timers of one queue while a timer's worst-case weight still fits
		/// in `budget` beside `used`, adding what each cost to `used`. Firing a timer may
		/// schedule another (a reassignment, a prune): the tail is read afresh each time,
		/// and only the head is written back.
		pub(crate) fn serve_queue(
			timer: Timer,
			now: BlockNumberFor<T>,
			budget: Weight,
			used: &mut Weight,
		) {
			let worst = Self::timer_weight(timer);
			let mut head = Queues::<T>::get(timer).head;
			let start = head;
			while head < Queues::<T>::get(timer).tail && used.saturating_add(worst).all_lte(budget)
			{
				let Some((deadline, id, attempt)) = Timers::<T>::get(timer, head) else {
					defensive!("a queue's entries between head and tail exist");
					head = head.saturating_add(1);
					continue;
				};
				if deadline > now {
					break;
				}
				let (weight, done) = Self::fire(timer, id, attempt, now);
				used.saturating_accrue(weight);
				if !done {
					// A prune that did not finish within its batch goes on next block.
					break;
				}
				Timers::<T>::remove(timer, head);
				head = head.saturating_add(1);
			}
			if head != start {
				Queues::<T>::mutate(timer, |queue| queue.head = head);
			}
		}

		/// The timer work a call leaves for later blocks, charged to the call (and so paid by
		/// its fee and counted against the block that admits it): `request` leaves an
		/// assignment timer that is skipped when the executor finishes in time; `finish` a
		/// validation window that closes and a prune; `validate` possibly a vote's end (and
		/// a passing report its payment at the close: [`Self::report_weight`]).
		/// Reassignments, expiries and more than one payment per passing report are the
		/// exception and wait within `TimerBudget`.
		pub fn prepaid_timers(scheduled: Timer) -> Weight {
			match scheduled {
				Timer::Assignment => Weights::<T>::timer_skip(),
				Timer::Validation => {
					Weights::<T>::timer_validation().saturating_add(Weights::<T>::timer_prune(0))
				}
				Timer::Vote => Weights::<T>::timer_vote(),
				Timer::Prune => Weights::<T>::timer_prune(0),
			}
		}

		/// `validate`'s weight: a report that `opened` a vote prepays its end; a `passed` one
		/// prepays its validator's payment when the request closes validated; closing a vote
		/// now paid validators after reading `read` reports. Declared with all of them and
		/// the most reports, refunded to what happened.
		pub fn report_weight(opened: bool, passed: bool, read: u32) -> Weight {
			let vote_end = if opened { Self::prepaid_timers(Timer::Vote) } else { Weight::zero() };
			let mut paid = Self::paid_weight(read);
			if passed {
				paid = paid.max(Weights::<T>::pay_validators(1));
			}
			Weights::<T>::validate().saturating_add(vote_end).saturating_add(paid)
		}

		/// `vote`'s weight when closing the vote read `read` reports to pay validators.
		pub fn vote_weight(read: u32) -> Weight {
			Weights::<T>::vote().saturating_add(Self::paid_weight(read))
		}

		/// The payment of validators after reading `read` reports (nothing if none was read).
		fn paid_weight(read: u32) -> Weight {
			if read == 0 {
				Weight::zero()
			} else {
				Weights::<T>::pay_validators(read)
			}
		}

		/// The most a timer of this kind can cost.
		fn timer_weight(timer: Timer) -> Weight {
			let most_paid = Weights::<T>::pay_validators(T::MaxPaidValidators::get());
			match timer {
				Timer::Assignment => {
					Weights::<T>::timer_refusal().max(Weights::<T>::timer_expiry())
				}
				Timer::Validation => Weights::<T>::timer_validation().saturating_add(most_paid),
				Timer::Vote => Weights::<T>::timer_vote().saturating_add(most_paid),
				Timer::Prune => Weights::<T>::timer_prune(T::PruneBatch::get()),
			}
			.max(Weights::<T>::timer_skip())
		}

		/// Fires one timer; returns its weight and whether it is done. A timer whose request
		/// has moved on (finished, reassigned, closed, pruned) is skipped.
		pub(crate) fn fire(
			timer: Timer,
			id: RequestId,
			attempt: u32,
			now: BlockNumberFor<T>,
		) -> (Weight, bool) {
			let skip = (Weights::<T>::timer_skip(), true);
			let Some(mut request) = Requests::<T>::get(id) else {
				return skip;
			};
			match timer {
				Timer::Assignment => {
					if request.status != RequestStatus::Assigned || request.attempt != attempt {
						return skip;
					}
					let expiry = request.created.saturating_add(Params::<T>::get().expiration);
					// Either way the executor had its full time: a miss.
					Self::record_miss(id, &request.executor);
					if now >= expiry {
						Self::close(id, &mut request, Outcome::Expired, now);
						Requests::<T>::insert(id, request);
						return (Weights::<T>::timer_expiry(), true);
					}
					Self::reassign(id, &mut request, now);
					Requests::<T>::insert(id, request);
					(Weights::<T>::timer_refusal(), true)
				}
				Timer::Validation => {
					if request.status != RequestStatus::Finished {
						return skip;
					}
					let passed = request.finish.is_some_and(|finish| finish.passes > 0);
					let outcome = if passed { Outcome::Validated } else { Outcome::Unchecked };
					let read = Self::close(id, &mut request, outcome, now);
					Requests::<T>::insert(id, request);
					let paid = Self::paid_weight(read);
					(Weights::<T>::timer_validation().saturating_add(paid), true)
				}
				Timer::Vote => {
					if request.status != RequestStatus::Voting {
						return skip;
					}
					let eligible = request.finish.map_or(0, |finish| {
						finish.total_power.saturating_sub(finish.executor_power)
					});
					let invalid = request.vote.map_or(0, |tally| tally.invalid);
					let outcome = if invalid.saturating_mul(2) > eligible {
						Outcome::Invalidated
					} else {
						Outcome::Validated
					};
					let read = Self::close(id, &mut request, outcome, now);
					Requests::<T>::insert(id, request);
					let paid = Self::paid_weight(read);
					(Weights::<T>::timer_vote().saturating_add(paid), true)
				}
				Timer::Prune => {
					let batch = T::PruneBatch::get();
					let reports = Reports::<T>::clear_prefix(id, batch, None);
					let left = batch.saturating_sub(reports.backend);
					let votes = Votes::<T>::clear_prefix(id, left, None);
					let left = left.saturating_sub(votes.backend);
					let missed = Missed::<T>::clear_prefix(id, left, None);
					let removed =
						reports.unique.saturating_add(votes.unique).saturating_add(missed.unique);
					let weight = Weights::<T>::timer_prune(removed);
					let unfinished = reports.maybe_cursor.is_some()
						|| votes.maybe_cursor.is_some()
						|| missed.maybe_cursor.is_some();
					if unfinished {
						return (weight, false);
					}
					if let Some(finish) = request.finish {
						pallet_poc::Pallet::<T>::release_snapshot(&finish.snapshot);
					}
					Requests::<T>::remove(id);
					Prompts::<T>::remove(id);
					Outputs::<T>::remove(id);
					Self::deposit_event(Event::RequestPruned { request: id });
					(weight, true)
				}
			}
		}

		/// A request was assigned to `host` in `epoch`.
		fn record_assignment(epoch: EpochIndex, host: &T::AccountId) {
			Ledger::<T>::mutate(epoch, host, |stats| {
				stats.assigned = stats.assigned.saturating_add(1)
			});
			EpochTotals::<T>::mutate(epoch, |totals| {
				totals.assigned = totals.assigned.saturating_add(1)
			});
		}

		/// An executor did not finish an assigned request in time.
		fn record_miss(id: RequestId, host: &T::AccountId) {
			let epoch = Self::epoch_now();
			Ledger::<T>::mutate(epoch, host, |stats| stats.missed = stats.missed.saturating_add(1));
			EpochTotals::<T>::mutate(epoch, |totals| {
				totals.missed = totals.missed.saturating_add(1)
			});
			Self::note_activity(host, epoch, |state| state.misses = state.misses.saturating_add(1));
			Self::deposit_event(Event::Missed { host: host.clone(), request: id, epoch });
		}

		/// The executor did not finish in time (its miss is recorded): the request goes to
		/// another host, or expires now if there is none.
		fn reassign(id: RequestId, request: &mut RequestOf<T>, now: BlockNumberFor<T>) {
			let epoch = Self::epoch_now();
			let from = request.executor.clone();
			let attempt = request.attempt.saturating_add(1);
			match Self::draw_executor(request.model, id, attempt, Some(&from)).0 {
				Some(to) => {
					Self::record_assignment(epoch, &to);
					request.executor = to.clone();
					request.attempt = attempt;
					let timeout = Params::<T>::get().refusal_timeout;
					Self::schedule(Timer::Assignment, now.saturating_add(timeout), id, attempt);
					Self::deposit_event(Event::RequestReassigned {
						request: id,
						from,
						to,
						attempt,
					});
				}
				None => {
					Self::close(id, request, Outcome::Expired, now);
				}
			}
		}

		/// Settles (and removes) up to `MaxSettlementsPerBlock` host records of the oldest
		/// epoch that has left the ledger's window: each host's pending work balance is
		/// released to it, or forfeited to `ForfeitTo` if it was INVALID in that epoch. Waits
		/// while `SettlementHold` holds the epoch.
		pub(crate) fn settle_old_epoch() -> Weight {
			let epoch = UnsettledEpoch::<T>::get();
			let current = Self::epoch_now();
			if epoch.saturating_add(T::LedgerEpochs::get()) >= current
				|| T::SettlementHold::contains(&epoch)
			{
				return Weight::zero();
			}
			let mut settled = 0u32;
			let mut drained = Ledger::<T>::drain_prefix(epoch);
			while settled < T::MaxSettlementsPerBlock::get() {
				let Some((host, stats)) = drained.next() else {
					UnsettledEpoch::<T>::put(epoch.saturating_add(1));
					EpochTotals::<T>::remove(epoch);
					Self::deposit_event(Event::EpochSettled { epoch });
					break;
				};
				settled = settled.saturating_add(1);
				Self::settle(epoch, &host, &stats);
			}
			Weights::<T>::settle_host().saturating_mul(u64::from(settled.max(1)))
		}

		/// Releases or forfeits one host's pending work balance of `epoch`.
		fn settle(epoch: EpochIndex, host: &T::AccountId, stats: &EpochStats) {
			if stats.pending_work == 0 {
				return;
			}
			let reason = HoldReason::WorkBalance.into();
			let amount = if stats.invalid {
				Funds::<T>::transfer_on_hold(
					&reason,
					host,
					&T::ForfeitTo::get(),
					stats.pending_work,
					Precision::BestEffort,
					Restriction::Free,
					Fortitude::Force,
				)
			} else {
				Funds::<T>::release(&reason, host, stats.pending_work, Precision::BestEffort)
			}
			.unwrap_or_else(|_| {
				defensive!("a host's pending work is held on it");
				0
			});
			Self::deposit_event(Event::WorkSettled {
				epoch,
				host: host.clone(),
				amount,
				forfeited: stats.invalid,
			});
		}

		/// The pallet's invariants: the escrow held on each developer is the sum of its open
		/// requests' escrows; the work balance held on each host is the sum of its unsettled
		/// epochs' pending work; every pending timer exists; every request in a vote has a
		/// tally.
		#[cfg(any(feature = "std", feature = "try-runtime"))]
		pub fn do_try_state() -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
			use alloc::collections::BTreeMap;
			let mut escrows: BTreeMap<T::AccountId, u128> = BTreeMap::new();
			for (_, request) in Requests::<T>::iter() {
				if request.status == RequestStatus::Assigned {
					let sum = escrows.entry(request.developer.clone()).or_default();
					*sum = sum.saturating_add(request.escrow);
				}
				if request.status == RequestStatus::Voting {
					ensure!(request.vote.is_some(), "a request in a vote has a tally");
				}
				if request.status != RequestStatus::Assigned {
					let expired = request.status == RequestStatus::Closed(Outcome::Expired);
					ensure!(
						expired || request.finish.is_some(),
						"a finished request has its record"
					);
				}
			}
			let escrow_reason = HoldReason::Escrow.into();
			for (developer, sum) in &escrows {
				ensure!(
					Funds::<T>::balance_on_hold(&escrow_reason, developer) == *sum,
					"held escrow equals the open requests' escrows"
				);
			}
			let mut work: BTreeMap<T::AccountId, u128> = BTreeMap::new();
			let mut totals: BTreeMap<EpochIndex, DutyTotals> = BTreeMap::new();
			for (epoch, host, stats) in Ledger::<T>::iter() {
				let sum = work.entry(host).or_default();
				*sum = sum.saturating_add(stats.pending_work);
				let total = totals.entry(epoch).or_default();
				total.assigned = total.assigned.saturating_add(u64::from(stats.assigned));
				total.missed = total.missed.saturating_add(u64::from(stats.missed));
			}
			// The epoch being settled has lost some of its records already.
			let unsettled = UnsettledEpoch::<T>::get();
			for (epoch, total) in totals.iter().filter(|(epoch, _)| **epoch > unsettled) {
				ensure!(
					EpochTotals::<T>::get(epoch) == *total,
					"an epoch's totals are the sums of its ledger"
				);
			}
			let work_reason = HoldReason::WorkBalance.into();
			for (host, sum) in &work {
				ensure!(
					Funds::<T>::balance_on_hold(&work_reason, host) == *sum,
					"held work balance equals the unsettled pending work"
				);
			}
			for (_, request) in Requests::<T>::iter() {
				for account in [&request.developer, &request.executor] {
					if !escrows.contains_key(account) {
						ensure!(
							Funds::<T>::balance_on_hold(&escrow_reason, account) == 0,
							"no escrow is held without an open request"
						);
					}
					if !work.contains_key(account) {
						ensure!(
							Funds::<T>::balance_on_hold(&work_reason, account) == 0,
							"no work balance is held without a ledger entry"
						);
					}
				}
			}
			for timer in Timer::ALL {
				let queue = Queues::<T>::get(timer);
				ensure!(queue.head <= queue.tail, "a queue's head is not past its tail");
				for position in queue.head..queue.tail {
					ensure!(Timers::<T>::contains_key(timer, position), "a pending timer exists");
				}
			}
			Ok(())
		}
	}
}
