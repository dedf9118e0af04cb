#![doc = include_str!("../README.md")]
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use assignment::{MAX_DRAWS, RANDOMNESS_SUBJECT};
pub use pallet::*;
use polkadot_sdk::frame_support::pallet_macros::import_section;
pub use types::*;
pub use weights::WeightInfo;

mod assignment;
mod authorize;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod dispatchable_impls;
mod events;
mod fees;
#[cfg(test)]
mod mock;
mod outcomes;
mod pricing;
pub mod runtime_api;
mod settlement;
mod status;
#[cfg(test)]
mod tests;
mod timers;
#[cfg(any(feature = "std", feature = "try-runtime"))]
mod try_state;
mod types;
mod views;
mod votes;
pub mod weights;

/// The events and errors are a pallet section of their own (`events.rs`).
#[import_section(events::inference_events)]
#[polkadot_sdk::frame_support::pallet]
pub mod pallet {
	use super::*;
	use gonka_primitives::{
		duty::{InferenceValidation, InvalidationVote, MissingValidation},
		inference::{RequestId, SamplingParams},
		EpochIndex, ModelId, H256,
	};
	use polkadot_sdk::{
		frame_support::{
			pallet_prelude::*,
			traits::{
				fungible::{Mutate, MutateHold},
				Contains, Randomness,
			},
			weights::WeightToFee,
		},
		frame_system::{self, pallet_prelude::*},
		sp_core::sr25519,
		sp_runtime::Perbill,
	};

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
		/// when the ledger settles it, the fees of the timers requests caused and the fines
		/// of rejected reports (the community pool).
		#[pallet::constant]
		type ForfeitTo: Get<Self::AccountId>;
		/// Converts weight to a fee as transactions pay it: an assignment timer's fee, which
		/// a request's timer deposit pays (`fees.rs`).
		type WeightToFee: WeightToFee<Balance = u128>;
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
		/// The most requests waiting for their executor draw: `request` is refused
		/// (`DrawQueueFull`, nothing held) beyond it, so a flood of requests cannot grow the
		/// draws' backlog without end (each waits at most a few blocks for its draw).
		#[pallet::constant]
		type MaxPendingDraws: Get<u32>;
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

	/// Each host's reputation state (a departed host's is pruned, `status.rs`).
	#[pallet::storage]
	pub type Reputations<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, ReputationState, ValueQuery>;

	/// Fines on a host's pending work of an epoch, for its failing reports the votes
	/// rejected: forfeited to the community pool (at most that pending work) when the
	/// epoch settles, and removed then (`fees.rs`, `settlement.rs`).
	#[pallet::storage]
	pub type Fines<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		EpochIndex,
		Blake2_128Concat,
		T::AccountId,
		u128,
		ValueQuery,
	>;

	/// The host whose reputation the pruning hook looked at last (`status.rs`).
	#[pallet::storage]
	pub type ReputationCursor<T: Config> = StorageValue<_, T::AccountId, OptionQuery>;

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

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Serves the due timers, settles a batch of an old epoch's ledger and prunes a
		/// departed host's reputation.
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::do_tick(now)
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
		/// Asks `model` for a completion of `prompt` of at most `max_tokens` tokens: holds
		/// the escrow `(prompt_bytes + template_overhead + max_tokens) × price` and queues
		/// the request: its executor is drawn in the next block, in proportion to PoC weight
		/// on the model, from randomness the developer cannot know when signing
		/// (`RequestAssigned`). Beside it, the escrow holds a
		/// timer deposit: the fee of the most assignment timers the request can cause; each
		/// timer that fires (a reassignment, the expiry) pays its fee from it to the
		/// community pool, and the rest comes back with the escrow. Fails without holding
		/// anything if the escrow is more than the free balance.
		///
		/// The dispatch origin must be signed by the developer, who pays.
		///
		/// - `model`: an approved model.
		/// - `prompt`: not empty, at most `MaxPromptBytes` (a longer one does not decode).
		/// - `max_tokens`: the most completion tokens, from 1 to the model's context and at
		///   most `MaxOutputTokens`.
		/// - `params`: how to sample (temperature at most 2.0, a nonempty nucleus).
		///
		/// Emits `RequestSubmitted` (after `PriceChanged` if the model's price moved).
		#[pallet::call_index(0)]
		#[pallet::weight(Pallet::<T>::request_weight(prompt.len() as u32))]
		pub fn request(
			origin: OriginFor<T>,
			model: ModelId,
			prompt: BoundedVec<u8, T::MaxPromptBytes>,
			max_tokens: u32,
			params: SamplingParams,
		) -> DispatchResult {
			let developer = ensure_signed(origin)?;
			Self::do_request(developer, model, prompt, max_tokens, params)
		}

		/// The executor's result for a request: holds the cost on the executor as pending
		/// work, refunds the rest of the escrow and opens the validation window. Emits
		/// `RequestFinished`.
		///
		/// The dispatch origin must be `Authorized`: no signer and no fee, valid only
		/// through `Pallet::authorize_finish`.
		///
		/// - `executor`: the request's executor.
		/// - `result`: the request, the completion's token ids and text, the prompt tokens.
		/// - `_signature`: `result` signed for this chain by the executor's worker key.
		#[pallet::call_index(1)]
		#[pallet::weight(Pallet::<T>::finish_weight(
			result.token_ids.len() as u32,
			result.text.len() as u32,
		))]
		#[pallet::weight_of_authorize(Pallet::<T>::authorize_finish_weight(
			result.token_ids.len() as u32,
			result.text.len() as u32,
		))]
		#[pallet::authorize(Self::authorize_finish)]
		pub fn finish(
			origin: OriginFor<T>,
			executor: T::AccountId,
			result: FinishOf<T>,
			_signature: sr25519::Signature,
		) -> DispatchResult {
			frame_system::ensure_authorized(origin)?;
			Self::do_finish(executor, result)
		}

		/// A sampled validator's replay similarity for a finished request. At or above the
		/// model's threshold it passes; below, it opens an invalidation vote in which this
		/// report counts as an invalid vote (a report during a vote is the validator's vote).
		///
		/// The dispatch origin must be `Authorized` (`Pallet::authorize_validate`).
		///
		/// - `validator`: a host the hash rule sampled for the request.
		/// - `report`: the request and the similarity.
		/// - `_signature`: `report` signed for this chain by the validator's worker key.
		///
		/// Emits `ValidationReported`; `VoteOpened` for the first failing report; `Voted`
		/// when it counts as a vote, and `RequestClosed` if that decides it.
		#[pallet::call_index(2)]
		#[pallet::weight(Pallet::<T>::report_weight(true, true, T::MaxPaidValidators::get()))]
		#[pallet::weight_of_authorize(Weights::<T>::authorize_validate())]
		#[pallet::authorize(Self::authorize_validate)]
		pub fn validate(
			origin: OriginFor<T>,
			validator: T::AccountId,
			report: InferenceValidation,
			_signature: sr25519::Signature,
		) -> DispatchResultWithPostInfo {
			frame_system::ensure_authorized(origin)?;
			Self::do_validate(validator, report)
		}

		/// A host's vote in a request's invalidation vote, with its voting power in the
		/// request's snapshot. Closes the vote as soon as its outcome is certain. Emits
		/// `Voted`, and `RequestClosed` if it decides the vote.
		///
		/// The dispatch origin must be `Authorized` (`Pallet::authorize_vote`).
		///
		/// - `voter`: a host with power in the request's snapshot, not the executor.
		/// - `ballot`: the request and whether the voter finds the result invalid.
		/// - `_signature`: `ballot` signed for this chain by the voter's worker key.
		#[pallet::call_index(3)]
		#[pallet::weight(Pallet::<T>::vote_weight(T::MaxPaidValidators::get()))]
		#[pallet::weight_of_authorize(Weights::<T>::authorize_vote())]
		#[pallet::authorize(Self::authorize_vote)]
		pub fn vote(
			origin: OriginFor<T>,
			voter: T::AccountId,
			ballot: InvalidationVote,
			_signature: sr25519::Signature,
		) -> DispatchResultWithPostInfo {
			frame_system::ensure_authorized(origin)?;
			Self::do_vote(voter, ballot)
		}

		/// Shows that `claim.validator`, sampled by the hash rule to validate
		/// `claim.request`, did not report within the validation window: a missed
		/// validation in its ledger for the request's epoch. Free, once per request and
		/// validator; only a true claim passes, since the chain checks it by the same rule.
		/// Emits `ValidationMissed`.
		///
		/// The dispatch origin must be `Authorized` (`Pallet::authorize_report_missing`).
		///
		/// - `reporter`: any registered host.
		/// - `claim`: the request and the validator that did not report.
		/// - `_signature`: `claim` signed for this chain by the reporter's worker key.
		#[pallet::call_index(5)]
		#[pallet::weight(Pallet::<T>::missing_weight())]
		#[pallet::weight_of_authorize(Weights::<T>::authorize_report_missing())]
		#[pallet::authorize(Self::authorize_report_missing)]
		pub fn report_missing(
			origin: OriginFor<T>,
			reporter: T::AccountId,
			claim: MissingValidation,
			_signature: sr25519::Signature,
		) -> DispatchResult {
			frame_system::ensure_authorized(origin)?;
			Self::do_report_missing(reporter, claim)
		}

		/// Sets the rules. Windows apply to timers scheduled from now on; prices move by the
		/// new rule from the next step. Emits `ParamsSet`.
		///
		/// The dispatch origin must be `pallet-poc`'s `UpdateOrigin` (`ComputeMajority`).
		///
		/// - `params`: the new rules, refused unless [`InferenceParams::check`] passes.
		#[pallet::call_index(4)]
		#[pallet::weight(Weights::<T>::set_params())]
		pub fn set_params(origin: OriginFor<T>, params: ParamsOf<T>) -> DispatchResult {
			<T as pallet_poc::Config>::UpdateOrigin::ensure_origin(origin)?;
			Self::do_set_params(params)
		}
	}
}
