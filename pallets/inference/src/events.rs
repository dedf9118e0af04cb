//! The pallet's events and errors: a pallet section (`#[pallet_section]`), imported into
//! the pallet module in `lib.rs`, where the rest of the pallet is declared.

use polkadot_sdk::frame_support::pallet_macros::pallet_section;

/// Every event the pallet deposits and every error its calls return.
#[pallet_section]
mod inference_events {
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A request was made and its escrow held; its executor is drawn in the next block
		/// (`RequestAssigned`).
		RequestSubmitted {
			/// The new request's id.
			request: RequestId,
			/// Who made it and pays.
			developer: T::AccountId,
			/// The model asked.
			model: ModelId,
			/// The price per token, fixed for the request.
			price: u128,
			/// The amount held from the developer: the tokens' escrow and the timer deposit.
			escrow: u128,
		},
		/// The executor did not finish in time (a miss) and another host was drawn.
		RequestReassigned {
			/// The request.
			request: RequestId,
			/// The executor that lost it.
			from: T::AccountId,
			/// The newly drawn executor.
			to: T::AccountId,
			/// The new assignment's number (0 was the first).
			attempt: u32,
		},
		/// The executor's result: the cost is held on it, the rest of the escrow refunded.
		RequestFinished {
			/// The request.
			request: RequestId,
			/// The executor that finished it.
			executor: T::AccountId,
			/// The templated prompt's tokens, as the executor reported them.
			prompt_tokens: u32,
			/// The completion's tokens, as the chain counted them.
			completion_tokens: u32,
			/// What the developer pays, held on the executor as pending work.
			cost: u128,
			/// The escrow beyond the cost, released to the developer.
			refund: u128,
			/// The hash of the output (SCALE of the token ids and the text).
			output_hash: H256,
		},
		/// A sampled validator reported its replay similarity.
		ValidationReported {
			/// The request.
			request: RequestId,
			/// The validator that reported.
			validator: T::AccountId,
			/// The fraction of positions whose replay passed.
			similarity: Perbill,
			/// Whether `similarity` reached the model's validation threshold.
			passed: bool,
		},
		/// A sampled validator did not report on a request within the validation window.
		ValidationMissed {
			/// The request.
			request: RequestId,
			/// The sampled validator that did not report.
			validator: T::AccountId,
			/// The epoch whose ledger records the missed validation (the request's).
			epoch: EpochIndex,
			/// The host that showed it.
			reporter: T::AccountId,
		},
		/// A failed validation opened an invalidation vote.
		VoteOpened {
			/// The request.
			request: RequestId,
			/// The validator whose failing report opened it.
			by: T::AccountId,
		},
		/// A host voted in an invalidation vote with its power.
		Voted {
			/// The request.
			request: RequestId,
			/// The host that voted.
			voter: T::AccountId,
			/// Whether it voted the result invalid.
			invalid: bool,
			/// Its voting power in the request's snapshot.
			power: u128,
		},
		/// A request closed.
		RequestClosed {
			/// The request.
			request: RequestId,
			/// How it ended.
			outcome: Outcome,
			/// What went back to the developer: an expired one's escrow, an invalidated one's cost.
			refund: u128,
		},
		/// A validator whose report passed was paid its part of the validators' share of a
		/// validated request's cost, moved from the executor's pending work to its own.
		ValidatorPaid {
			/// The validated request.
			request: RequestId,
			/// The validator paid.
			validator: T::AccountId,
			/// The epoch whose pending work the part joins (released at its settlement unless
			/// the validator was INVALID in it).
			epoch: EpochIndex,
			/// The part moved.
			amount: u128,
		},
		/// A host's executor missed an assigned request.
		Missed {
			/// The host.
			host: T::AccountId,
			/// The request it did not finish in time.
			request: RequestId,
			/// The epoch whose ledger records the miss.
			epoch: EpochIndex,
		},
		/// The invalidation test marked a host INVALID for an epoch: no reward for it, and
		/// no voting power until the next weight formation (`pallet-poc`'s `PowerRevoked`).
		HostInvalid {
			/// The host.
			host: T::AccountId,
			/// The epoch it is INVALID in.
			epoch: EpochIndex,
		},
		/// A model's price changed.
		PriceChanged {
			/// The model.
			model: ModelId,
			/// Its new price per token.
			price: u128,
		},
		/// A closed request's payloads and votes were removed (its hashes stay in events).
		RequestPruned {
			/// The request.
			request: RequestId,
		},
		/// A host's pending work balance of an old epoch was released to it or forfeited.
		WorkSettled {
			/// The settled epoch.
			epoch: EpochIndex,
			/// The host.
			host: T::AccountId,
			/// The amount released or forfeited.
			amount: u128,
			/// Whether it went to the community pool (`ForfeitTo`): the host was INVALID then.
			forfeited: bool,
		},
		/// Every host record of an epoch was settled and removed.
		EpochSettled {
			/// The settled epoch.
			epoch: EpochIndex,
		},
		/// Governance set new rules.
		ParamsSet {
			/// The rules now in force.
			params: ParamsOf<T>,
		},
		/// A departed host's reputation was deleted.
		ReputationPruned {
			/// The host, no longer registered.
			host: T::AccountId,
		},
		/// A failing report was rejected by its vote (more than half of the power besides
		/// the executor's said valid): its sender has a miss on its reputation and a fine
		/// on its pending work of the request's epoch, forfeited to the community pool when
		/// that epoch settles.
		ReportRejected {
			/// The validated request.
			request: RequestId,
			/// The validator whose report failed the result.
			reporter: T::AccountId,
			/// The epoch whose pending work the fine is taken from (the request's).
			epoch: EpochIndex,
			/// The fine: the request's cost, at most the reporter's pending work of the
			/// epoch (none without work in it).
			fine: u128,
		},
		/// An assignment timer fired (a reassignment or the expiry): its fee went from the
		/// request's timer deposit to the community pool.
		TimerCharged {
			/// The request.
			request: RequestId,
			/// The fee moved.
			amount: u128,
		},
		/// A queued request's executor was drawn, from the hash of a block after the one
		/// that included the request.
		RequestAssigned {
			/// The request.
			request: RequestId,
			/// The host drawn to execute it.
			executor: T::AccountId,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The model is not approved.
		UnknownModel,
		/// An empty prompt.
		EmptyPrompt,
		/// `max_tokens` of zero.
		ZeroMaxTokens,
		/// `max_tokens` above the model's context or the most completion tokens a result
		/// carries (`MaxOutputTokens`).
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
		/// A completion with no tokens.
		EmptyCompletion,
		/// Fewer than `max_tokens` tokens and no end token last: the completion stopped early.
		CompletionTruncated,
		/// An end token before the completion's last token.
		TokensAfterEnd,
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
		/// The prompt's bytes, the template's tokens and `max_tokens` exceed the model's
		/// context: no worker could serve the request.
		ExceedsContext,
		/// The prompt is not UTF-8 text.
		PromptNotUtf8,
		/// The hash that sampled the request's validators is no longer kept
		/// (`BlockHashCount` blocks after `finish`): the sample cannot be shown.
		SampleExpired,
		/// A validation window as long as `BlockHashCount` or longer: the sample's hash
		/// would be gone before the window ends.
		WindowBeyondBlockHashes,
		/// The request's result went to a vote, which may close it before the validation
		/// window ends: a sampled validator's missing report proves nothing.
		VoteWasOpened,
		/// The prompt is only whitespace: no worker would answer it.
		BlankPrompt,
		/// `MaxPendingDraws` requests wait for their executor draw already: try again in a
		/// block or two (nothing was held).
		DrawQueueFull,
	}
}
