//! The pallet's events and errors: a pallet section (`#[pallet_section]`), imported into
//! the pallet module in `lib.rs`, where the rest of the pallet is declared.

use polkadot_sdk::frame_support::pallet_macros::pallet_section;

/// Every event the pallet deposits and every error its calls return.
#[pallet_section]
mod channels_events {
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A channel opened: its escrow held, its price fixed.
		ChannelOpened {
			channel: ChannelId,
			developer: HostId,
			model: gonka_primitives::ModelId,
			price: u128,
			deposit: u128,
			ends: BlockNumberFor<T>,
		},
		/// A channel's committee was drawn: the host of each slot.
		CommitteeDrawn { channel: ChannelId, committee: alloc::vec::Vec<HostId> },
		/// More escrow for a channel.
		ChannelToppedUp { channel: ChannelId, amount: u128, deposited: u128 },
		/// The developer ended a channel early.
		ChannelClosed { channel: ChannelId, ends: BlockNumberFor<T> },
		/// A channel was finalized: the rest of its escrow refunded.
		ChannelFinalized { channel: ChannelId, refund: u128 },
		/// A committee member settled a channel: `receipts` receipts in all so far
		/// (`tail` of them claimed without a voucher, whose voucher has root `root`),
		/// `amount` more into its pending work, `fee` to the pool (none for its first
		/// settlement) and `tail_fee` (the validators' share once more of the tail receipts
		/// it claims for the first time) to the pot with the validators' share, `paid` from
		/// the escrow in all.
		ChannelSettled {
			settlement: SettlementId,
			channel: ChannelId,
			executor: HostId,
			receipts: u32,
			tail: u32,
			root: Option<gonka_primitives::H256>,
			amount: u128,
			fee: u128,
			tail_fee: u128,
			paid: u128,
		},
		/// The settlement's validators' share of what it paid went to the pot; its
		/// samples are drawn from the hash of this block, with validation target `target`.
		SettlementSampled {
			settlement: SettlementId,
			receipts: u32,
			tail: u32,
			target: polkadot_sdk::sp_runtime::Perbill,
			share: u128,
		},
		/// A validator answered samples of the settlements of verdict period `period`
		/// (`passes` passed), and was paid `paid` from the pot into its pending work.
		VerdictsSubmitted { validator: HostId, period: u32, part: u8, passes: u32, paid: u128 },
		/// A settlement's verdict window closed: its `passes` are steps of its executor's
		/// invalidation test, and what its validators were not paid of the share (`held`)
		/// stays in the pot for its second round, until its pruning returns the rest to the
		/// executor (`SecondRoundEnded`).
		SettlementClosed { settlement: SettlementId, passes: u32, fails: u32, held: u128 },
		/// Governance set the channels' rules, for channels opened from now on.
		ParamsSet { params: ParamsOf<T> },
		/// A validator reported a failed sample, or a developer challenged a receipt: a jury
		/// decides the dispute.
		DisputeOpened {
			/// The dispute.
			dispute: DisputeId,
			/// The settlement.
			settlement: SettlementId,
			/// The sample that failed (a challenge: the receipt's leaf, its `seq`).
			sample: u32,
			/// The validator that reported it (a challenge: the developer).
			reporter: HostId,
			/// Why it failed.
			reason: FailReason,
			/// What an invalidation refunds.
			cost: u128,
		},
		/// A juror voted on a dispute.
		JurorVoted {
			/// The dispute.
			dispute: DisputeId,
			/// The juror.
			juror: HostId,
			/// Whether it said invalid.
			invalid: bool,
			/// What its vote weighs (`juror_weight`).
			weight: u128,
		},
		/// A dispute ended.
		DisputeEnded {
			/// The dispute.
			dispute: DisputeId,
			/// Its outcome.
			outcome: DisputeOutcome,
			/// What went back to the developer from the executor's pending work.
			refund: u128,
			/// What the reporter was paid from the executor's pending work.
			bounty: u128,
			/// The reporter's fine (a rejected failure, a refuted unavailable payload; a
			/// rejected unavailable payload's: its answer's pay taken back), or the challenge
			/// fee a challenge that did not invalidate the receipt paid the pool.
			fine: u128,
		},
		/// A committee member waived an ended channel: it settles it no more.
		ChannelWaived {
			/// The channel.
			channel: ChannelId,
			/// The member.
			member: HostId,
		},
		/// A settlement's second round ended with its pruning: what its answers were not
		/// paid of the share (`returned`) went back to the executor's pending work.
		SecondRoundEnded {
			/// The settlement.
			settlement: SettlementId,
			/// The second answers given.
			answers: u32,
			/// What went back to the executor.
			returned: u128,
		},
		/// A validator drawn for samples of a verdict period answered none of that period's:
		/// the samples shown are missed duties.
		SamplesMissed {
			/// The verdict period.
			period: u32,
			/// The validator that answered nothing.
			validator: HostId,
			/// The host that showed it.
			reporter: HostId,
			/// The samples shown (each a missed duty).
			samples: u32,
		},
		/// A validator was shown to have signed a pass of the sample a mismatch's dispute is
		/// on: if the jury invalidates the receipt, it forfeits `forfeit`, its pay for the
		/// settlement's verdict period.
		PassShown {
			/// The dispute.
			dispute: DisputeId,
			/// The validator that passed the sample.
			validator: HostId,
			/// Its pay for the period's answers.
			forfeit: u128,
		},
		/// The jury invalidated a receipt whose sample a validator passed: it forfeits its
		/// pay for the period not forfeited yet (a fine on its pending work, and a miss: a
		/// second contradicted pass of the period fines only pay added since).
		PassForfeited {
			/// The dispute.
			dispute: DisputeId,
			/// The validator that passed the sample.
			validator: HostId,
			/// The fine (at most its pending work of its pay's epoch).
			fine: u128,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The model has no price (not approved for inference).
		UnknownModel,
		/// The model's price is above the channel's price cap.
		PriceAboveCap,
		/// A committee has 1 to 64 slots.
		BadCommittee,
		/// A channel lasts 1 to `Params::max_channel_blocks` blocks.
		BadDuration,
		/// A request may use no tokens: `max_request_tokens` must be positive.
		BadRequestTokens,
		/// The deposit does not cover one request of `max_request_tokens` at the price for
		/// every slot.
		DepositTooSmall,
		/// The developer cannot pay the fee and hold the deposit.
		InsufficientBalance,
		/// The next `SCHEDULE_SEARCH` blocks draw (or finalize) as many channels as a block
		/// handles: open it later.
		TooManyChannels,
		/// The channel key's proof of ownership does not verify for the caller.
		BadKeyProof,
		/// No such channel.
		UnknownChannel,
		/// Only the channel's developer may do this.
		NotDeveloper,
		/// The channel has ended.
		ChannelEnded,
		/// An amount overflows.
		Overflow,
		/// The channel key signs for another channel until that one is finalized.
		ChannelKeyInUse,
		/// The host holds no slot of the channel's committee (or it is not drawn yet).
		NotInCommittee,
		/// The host left, or left and registered again, since the PoC of the committee's
		/// roster: it is not paid.
		NotStanding,
		/// The voucher names another channel or executor.
		VoucherNotForExecutor,
		/// The voucher's signature is not the channel key's.
		BadVoucherSignature,
		/// The voucher covers fewer receipts than one the host settled before.
		VoucherBehind,
		/// The settlement covers no receipt beyond the host's earlier settlements.
		NothingNew,
		/// A tail request names another channel or executor.
		TailNotForExecutor,
		/// A tail request's signature is not the channel key's.
		BadRequestSignature,
		/// Tail claims are in increasing (nonce, try) order, above the voucher's last, and
		/// their receipts numbered on from the voucher's count.
		TailOutOfOrder,
		/// A tail request asks for more than the channel's `max_request_tokens` (its prompt
		/// bytes, the template and its completion tokens).
		RequestTooLarge,
		/// A tail receipt does not answer its request at the channel's terms
		/// (`gonka_primitives::channel::check_receipt`).
		BadReceipt,
		/// The settlement would pay no more than its fee.
		PaysTooLittle,
		/// The settlement's vouchered receipts would need more than `MAX_SAMPLES` samples
		/// at the executor's validation target: settle fewer at a time.
		TooManySamples,
		/// A verdict batch has no entry.
		NoVerdicts,
		/// A verdict batch's entries are not in increasing (settlement, sample) order.
		VerdictsOutOfOrder,
		/// A validator sends at most `MAX_VERDICT_PARTS` parts a period.
		BadPart,
		/// The verdicts of period `i` are taken in period `i + 1` only.
		NotVerdictWindow,
		/// No such settlement, or its verdict window closed.
		UnknownSettlement,
		/// The settlement was included in another verdict period.
		WrongPeriod,
		/// The settlement has no such sample.
		NotASample,
		/// The validator is not drawn to check the sample.
		NotSampled,
		/// More than half of the batch's samples are answered already.
		AlreadyAnswered,
		/// The block records as many settlements as `MaxClosesPerBlock`: settle in a later
		/// block.
		TooManySettlements,
		/// The validators' share of the settlement does not pay `SampleFee` for each of its
		/// samples, and its tail's part of it does not pay its tail samples' answers
		/// (`gonka_primitives::channel::paid_target`): claim fewer cheap receipts as tail.
		SamplesUnpaid,
		/// Rules governance may not set: a longest channel of 1 to `MaxChannelBlocks` blocks, a
		/// settle window of `MIN_SETTLE_WINDOW` to `MAX_SETTLE_WINDOW` blocks.
		BadParams,
		/// A verdict batch carries passes only: a failed sample is reported with
		/// `report_failure`, which opens its dispute.
		FailWithoutReport,
		/// A mismatch carries its receipt and proof; an unavailable payload carries none.
		NoEvidence,
		/// The receipt shown is not the one the sample checked (or its proof is wrong).
		BadEvidence,
		/// No such dispute open (of the settlement and sample the vote names).
		UnknownDispute,
		/// The dispute's jury does not vote now (before the block after its report, or after
		/// its window).
		NotJuryWindow,
		/// The hash rule does not draw this host for the dispute's jury (the executor and
		/// the reporter never sit).
		NotAJuror,
		/// The juror voted already.
		AlreadyVoted,
		/// The dispute took `MAX_JURORS` votes.
		TooManyVotes,
		/// The block opened `MaxDisputesPerBlock` disputes (the next block takes it).
		TooManyDisputes,
		/// A member waives a channel once it has ended.
		ChannelNotEnded,
		/// The member waived the channel: it settles it no more, and waives it once.
		Waived,
		/// The waiver names another channel key, or other receipts than the member settled.
		WaiverOutdated,
		/// A validator reports a mismatch or an unavailable payload (a challenge is the
		/// developer's).
		BadReason,
		/// Only an unavailable payload's dispute is refuted by a delivery acknowledgement.
		NotUnavailable,
		/// The acknowledgement names another settlement or sample than the dispute's.
		AckNotForDispute,
		/// The block opened as many challenges as it takes (half of `MaxDisputesPerBlock`):
		/// the next block takes it.
		TooManyChallenges,
		/// The developer cannot hold the challenge's fee.
		CannotPayChallenge,
		/// The receipt was challenged in this settlement already, or a validator reported
		/// it with a mismatch.
		AlreadyDisputed,
		/// `MAX_DISPUTED` receipts of the settlement are disputed.
		SettlementChallengesFull,
		/// Nobody may sit on the challenge's jury (the executor and the developer hold all
		/// the power of the settlement's snapshot).
		NoJury,
		/// The settlement's verdict window closed: its record is kept only to show its
		/// missed samples.
		WindowClosed,
		/// A validator's misses of period `i` are reported in period `i + 2` (its verdict
		/// window closed), and only then.
		NotReportWindow,
		/// The validator answered samples of the period (a verdict, a failure report): it
		/// is not shown missed for it.
		ValidatorAnswered,
		/// The sample was shown missed already.
		AlreadyReported,
		/// The validator's samples shown missed in the period would be more than
		/// `MAX_MISSES`.
		TooManyMisses,
		/// A report shows at least one sample.
		NoMisses,
		/// A report's samples are in ascending (settlement, sample) order, each once.
		MissesOutOfOrder,
		/// The validator did not serve the channel's model when the settlement was recorded
		/// (it committed no PoC to it for the roster in force, or is not registered, or the
		/// settlement was recorded before storage version 3): it misses none of its samples.
		NotServing,
		/// The block took `MaxMissReportsPerBlock` reports (the next block takes it).
		TooManyMissReports,
		/// A duty's anchor is before the first block it may name (the last block of the
		/// verdicts' period, the settlement's block, the dispute's).
		AnchorTooEarly,
		/// A duty's anchor is the current block or later.
		AnchorAhead,
		/// A duty's anchor is not a block of this chain (signed on another fork), or one it
		/// no longer keeps the hash of.
		AnchorNotOnChain,
		/// A second answer names a sample the settlement's second round does not double
		/// (not of the round's residue, failed in the window, or the settlement had failures
		/// before its round's rules: spec version 20).
		NotDoubled,
		/// A second answer names a settlement whose window has not closed yet: its second
		/// round is not drawn.
		RoundNotDrawn,
		/// A part of second answers carries more than `MAX_SECOND_VERDICTS` entries.
		TooManySecondAnswers,
		/// The dispute contradicts no pass: it is not open, not a validator's mismatch
		/// report, or was opened before spec version 21.
		NoContradiction,
		/// The batch shown has no pass of the dispute's sample.
		PassNotInBatch,
		/// The validator's pass of the sample is shown already.
		PasserShown,
		/// The dispute shows `MAX_PASSERS` passes already, each forfeiting at least as much.
		TooManyPassers,
		/// The validator was paid nothing for its answers to the period's samples (or that
		/// pay is no longer kept): its pass forfeits nothing.
		NothingToForfeit,
		/// The validator signed the period's verdict batches with `MAX_PERIOD_KEYS` other
		/// worker keys already: a batch of the period signed by another is refused.
		TooManyKeys,
		/// The validator is not registered: its worker key is not known.
		NoWorkerKey,
	}
}
