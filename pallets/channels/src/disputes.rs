//! Disputes (`docs/channels.md`, step 5b): a validator that fails a sample reports it with
//! the receipt it checked, and a jury drawn by power decides.
//!
//! - **The report** (`report_failure`), in the verdict period after the settlement's, by a
//!   validator the hash rule draws for the sample: a mismatch shows the sampled receipt
//!   (`gonka_primitives::channel::evidence_cost`: its proof against the voucher's root and
//!   amount, or its leaf among the tail receipts), so an invalidation refunds that
//!   receipt's cost; an unavailable payload shows nothing and refunds the settlement's
//!   average receipt. It answers the sample (paid as a verdict) and opens the dispute; a
//!   block opens at most `MaxDisputesPerBlock`.
//! - **The jury**: each host but the executor and the reporter sits with probability
//!   `min(1, J × power / others)` from the report block's hash (`is_juror`, `J` =
//!   `JURY_SIZE`), by the power of the settlement's snapshot; a vote weighs the power it
//!   stands for (`juror_weight`), so the votes estimate how all the power would vote;
//!   when `JuryWindow` ends (never earlier: voting first wins nothing), **Invalidated** if
//!   the invalid votes estimate more than half of the jury power and outweigh the valid
//!   ones, else **Validated** (`jury_verdict`).
//! - **Outcomes**: Invalidated — the cost back to the developer and as much again to the
//!   reporter (a bounty, into its pending work), both from the executor's pending work
//!   of the settlement's epoch, and an invalidation step of the executor's test there;
//!   Validated — a validated step, and if the valid votes win (the failure rejected), the
//!   reporter is fined the cost on its pending work of the report's epoch (which holds
//!   its pay for the answer) and takes a miss on its reputation (`WorkLedger::fine`, as a
//!   rejected report on the on-chain path). An unavailable payload's invalidation
//!   refunds the developer but pays no bounty; its rejection counts as a missed sample: the
//!   answer's pay taken back (`WorkLedger::take_back`) and a missed duty, no fine and no
//!   miss on the reputation (the jury saw the payload served, but cannot tell whether the
//!   executor served the reporter too, and an executor that withholds from the validator
//!   drawn for it must not fine it).
//! - **Unavailable payloads** (amendment 8): their juries vote for `UnavailableWindow`,
//!   longer (an executor briefly offline still serves the jury), and the executor (or
//!   anyone holding it) ends the dispute at once with the reporter's signed delivery
//!   acknowledgement of the sample (`refute_unavailable`): the failure is rejected, the
//!   reporter fined the cost and a miss (it fetched the payload and said it did not).
//! - **The long windows**: an unavailable payload's dispute and a developer's challenge
//!   (since storage version 5: the developer picks its moment, which may be an executor's
//!   restart) vote for `UnavailableWindow` and end from a queue of their own
//!   (`UnavailableQueue`), the mismatches by the dispute ids (`NextDisputeToEnd`): each
//!   window length's disputes end in the order they opened.
//! - **The epochs wait**: while a settlement record or a dispute of an epoch is open (a
//!   dispute holds its settlement's epoch and its report's),
//!   the epoch's ledger is not settled (`OpenInEpoch`, `EpochsInUse`), so the outcome
//!   finds the pending work it moves.

use crate::{
	BlockDisputes, ChallengeFees, Config, DisputeOutcome, DisputeRecord, DisputeRecordOf, Disputes,
	Error, Event, HoldReason, NextDisputeId, NextDisputeToEnd, NextUnavailable,
	NextUnavailableToEnd, OpenInEpoch, Pallet, SecondRounds, SettlementRecordOf, Settlements,
	UnavailableQueue, UnavailableReport, UnavailableReports, WeightInfo,
};
use gonka_primitives::{
	channel::{
		evidence_cost, is_juror, juror_weight, jury_power, jury_seed, jury_verdict, sample_of,
		DeliveryAck, DisputeId, FailReason, FailureReport, ReceiptVote, SettlementId, MAX_JURORS,
	},
	EpochIndex, HostId, H256,
};
use pallet_inference::WorkLedger;
use pallet_poc::validity::{duty_validity, error_code};
use polkadot_sdk::{
	frame_support::{
		defensive,
		pallet_prelude::*,
		traits::{
			fungible::MutateHold,
			tokens::{Fortitude, Precision, Restriction},
		},
	},
	frame_system::{self, pallet_prelude::BlockNumberFor},
	sp_core::sr25519,
	sp_runtime::traits::Saturating,
};

/// A failure report checked against the chain's state.
pub(crate) struct CheckedFailure<T: Config> {
	/// The settlement's record.
	pub record: SettlementRecordOf<T>,
	/// Its samples (tree and tail).
	pub samples: u32,
	/// The reporter's power in the settlement's snapshot.
	pub power: u128,
	/// What an invalidation refunds.
	pub cost: u128,
	/// The settlement's sample seed.
	pub seed: H256,
	/// The settlement's second round, when the report is a second answer (`seconds.rs`).
	pub round: Option<crate::seconds::SecondCheck<T>>,
}

impl<T: Config> Pallet<T> {
	/// Checks `validator`'s report: the settlement's verdict period is the one before
	/// now's, the report's anchor a block of this chain from the settlement's on, the
	/// sample is one of its samples that the hash rule draws the validator for and nobody
	/// answered, and the evidence fits the reason (a mismatch's receipt is the sampled one,
	/// not disputed in the settlement already: `AlreadyDisputed`); the block has room for a
	/// dispute. A second answer (`seconds.rs`): the settlement's window closed and its
	/// round lasts, the sample is one the round doubles, drawn for the validator on the
	/// second seed, and not disputed by a second failure.
	pub(crate) fn check_failure(
		validator: &HostId,
		report: &FailureReport,
	) -> Result<CheckedFailure<T>, Error<T>> {
		let record =
			Settlements::<T>::get(report.settlement).ok_or(Error::<T>::UnknownSettlement)?;
		let round = if Self::answers_second(Self::period_of(record.at))? {
			Some(Self::second_check(report.settlement, &record)?)
		} else {
			None
		};
		Self::check_anchor(&report.anchor, record.at)?;
		let seed = Self::seed_of(report.settlement, &record).ok_or(Error::<T>::NotVerdictWindow)?;
		let tree = Self::tree_samples(&record, &seed);
		let sample = sample_of(&seed, report.sample, tree, record.from, record.to, record.tail)
			.ok_or(Error::<T>::NotASample)?;
		let power = pallet_poc::Pallet::<T>::power_in(&record.snapshot, validator);
		let new = match &round {
			Some(check) => {
				Self::check_second(&record, check, &seed, report.sample, validator, power)?;
				check.round.may_fail(report.sample, report.reason == FailReason::Unavailable)
			}
			None => {
				ensure!(
					record.draws(&seed, report.sample, validator, power),
					Error::<T>::NotSampled
				);
				!record.is_answered(report.sample)
			}
		};
		ensure!(new, Error::<T>::AlreadyAnswered);
		ensure!(report.reason != FailReason::Challenged, Error::<T>::BadReason);
		let cost = match (report.reason, &report.evidence) {
			(FailReason::Mismatch, Some(evidence)) => evidence_cost(
				sample,
				evidence,
				&record.root,
				record.to,
				record.count,
				&record.tails,
			)
			.ok_or(Error::<T>::BadEvidence)?,
			(FailReason::Unavailable, None) => {
				let receipts = record.receipts.saturating_add(record.tail).max(1);
				record.paid.div_ceil(u128::from(receipts))
			}
			_ => return Err(Error::<T>::NoEvidence),
		};
		// A receipt disputed already (challenged, or reported on another sample) would be
		// refunded twice.
		if let Some(evidence) = &report.evidence {
			ensure!(
				!crate::Challenged::<T>::get(report.settlement).contains(&evidence.receipt.seq),
				Error::<T>::AlreadyDisputed
			);
		}
		Self::ensure_dispute_room()?;
		let samples = tree.saturating_add(record.tail);
		Ok(CheckedFailure { record, samples, power, cost, seed, round })
	}

	/// The `authorize` rule of [`Pallet::report_failure`]: the validator's worker key
	/// signed the report for this chain (checked first, before the proof), and
	/// [`Self::check_failure`] holds. One transaction a sample (`provides`), valid until
	/// the settlement's window closes.
	pub(crate) fn authorize_failure(
		_source: TransactionSource,
		validator: &HostId,
		report: &FailureReport,
		signature: &sr25519::Signature,
	) -> TransactionValidityWithRefund {
		crate::tick_impls::verify_duty::<T, _>(validator, report, signature)?;
		let checked = Self::check_failure(validator, report).map_err(|error| match error {
			Error::<T>::UnknownSettlement
			| Error::<T>::NotVerdictWindow
			| Error::<T>::AlreadyAnswered
			| Error::<T>::AlreadyDisputed
			| Error::<T>::NotDoubled => InvalidTransaction::Stale,
			Error::<T>::TooManyDisputes => InvalidTransaction::ExhaustsResources,
			Error::<T>::AnchorAhead | Error::<T>::RoundNotDrawn => InvalidTransaction::Future,
			other => InvalidTransaction::Custom(error_code(other)),
		})?;
		// A second answer's until the record is pruned (the cursor may take a period to
		// reach it); its tag names the reason, so a friend's unavailable report in the pool
		// does not keep an honest mismatch out.
		let unavailable = report.reason == FailReason::Unavailable;
		match checked.round {
			Some(_) => duty_validity::<T>(
				"GonkaSecondFailure",
				(report.settlement, report.sample, unavailable),
				Self::period_start(Self::period_of(checked.record.at).saturating_add(4)),
			),
			None => duty_validity::<T>(
				"GonkaFailureReport",
				(report.settlement, report.sample),
				Self::closes_at(checked.record.at),
			),
		}
	}

	/// `report_failure`: answers the sample (a fail, paid as a verdict and noted as pay for
	/// the period; a first one marks the validator answered for the period and keeps the
	/// sample out of the second round, a second one is marked on the round) and opens its
	/// dispute, which a mismatch's invalidation makes a contradiction of the sample's
	/// passes (`forfeits.rs`); emits `DisputeOpened`.
	pub(crate) fn do_report_failure(validator: HostId, report: FailureReport) -> DispatchResult {
		let CheckedFailure { mut record, samples, power, cost, seed, round } =
			Self::check_failure(&validator, &report)?;
		let period = Self::period_of(record.at);
		let second_seed = round.as_ref().map(|check| check.seed);
		let part = if let Some(mut check) = round {
			let part = check.round.answer(report.sample, Self::answer_pay(record.share, samples));
			if !check.round.dispute(report.sample, report.reason == FailReason::Unavailable) {
				defensive!("a doubled sample's bit is within the bitmap");
			}
			SecondRounds::<T>::insert(report.settlement, check.round);
			part
		} else {
			if !record.answer(report.sample) {
				defensive!("a sample's bit is within the bitmap");
			}
			record.fails = record.fails.saturating_add(1);
			let part = record.pay_answer(Self::answer_pay(record.share, samples));
			Settlements::<T>::insert(report.settlement, &record);
			Self::note_failed(report.settlement, report.sample);
			Self::note_answers(period, &validator, 1);
			part
		};
		Self::pay_from_pot(&validator, part)?;
		Self::note_pay(period, &validator, part, None);
		let dispute = Self::open_dispute(
			report.settlement,
			&record,
			report.sample,
			validator,
			power,
			report.reason,
			cost,
		);
		match (&report.reason, &report.evidence) {
			(FailReason::Unavailable, _) => {
				UnavailableReports::<T>::insert(dispute, UnavailableReport { seed, paid: part })
			}
			// The receipt is disputed: the developer challenges it, and a second failure
			// disputes it, no more (it would be refunded twice). Past `MAX_DISPUTED`, not
			// kept: the report stands. An invalidation contradicts the sample's passes.
			(_, Some(evidence)) => {
				crate::Challenged::<T>::mutate(report.settlement, |seqs| {
					if !seqs.contains(&evidence.receipt.seq) {
						let _ = seqs.try_push(evidence.receipt.seq);
					}
				});
				Self::open_contradiction(dispute, &record, seed, second_seed);
			}
			_ => {}
		}
		Ok(())
	}

	/// Whether the block opens another dispute (`TooManyDisputes`: at most
	/// `MaxDisputesPerBlock`, so their ends keep up).
	pub(crate) fn ensure_dispute_room() -> Result<(), Error<T>> {
		let now = frame_system::Pallet::<T>::block_number();
		let (block, count) = BlockDisputes::<T>::get();
		ensure!(block != now || count < T::MaxDisputesPerBlock::get(), Error::<T>::TooManyDisputes);
		Ok(())
	}

	/// Opens a dispute on `sample` of settlement `settlement` (`record`), reported by
	/// `reporter` (of `power` in the settlement's snapshot) for `reason`, worth `cost`:
	/// counts it in the block, holds the snapshot and both epochs' ledgers, and emits
	/// `DisputeOpened`. Its jury's power is the snapshot's but the executor's, the
	/// reporter's and the developer's (should the developer be a host: the refund is its).
	/// Returns its id.
	pub(crate) fn open_dispute(
		settlement: SettlementId,
		record: &SettlementRecordOf<T>,
		sample: u32,
		reporter: HostId,
		power: u128,
		reason: FailReason,
		cost: u128,
	) -> DisputeId {
		let developer_power = if record.developer == record.executor || record.developer == reporter
		{
			0
		} else {
			pallet_poc::Pallet::<T>::power_in(&record.snapshot, &record.developer)
		};
		let now = frame_system::Pallet::<T>::block_number();
		crate::tick_impls::count_in_block::<T, BlockDisputes<T>>();
		let dispute = crate::tick_impls::take_next::<NextDisputeId<T>>();
		pallet_poc::Pallet::<T>::hold_snapshot(&record.snapshot);
		// Both epochs' ledgers wait: the settlement's (the executor's work) and this one
		// (the reporter's pay for the answer, which a fine takes back).
		let report_epoch = pallet_poc::Pallet::<T>::epoch_now();
		Self::note_open(record.epoch);
		Self::note_open(report_epoch);
		Disputes::<T>::insert(
			dispute,
			DisputeRecord {
				settlement,
				sample,
				developer: record.developer.clone(),
				executor: record.executor.clone(),
				reporter: reporter.clone(),
				epoch: record.epoch,
				report_epoch,
				reason,
				cost,
				at: now,
				snapshot: record.snapshot,
				others: jury_power(record.total_power, record.executor_power, power)
					.saturating_sub(developer_power),
				invalid: 0,
				valid: 0,
				voters: Default::default(),
			},
		);
		if reason.long_window() {
			let place = crate::tick_impls::take_next::<NextUnavailable<T>>();
			UnavailableQueue::<T>::insert(place, dispute);
		}
		Self::deposit_event(Event::DisputeOpened {
			dispute,
			settlement,
			sample,
			reporter,
			reason,
			cost,
		});
		dispute
	}

	/// The seed of a dispute's jury, once its report's block is sealed (from the next
	/// block on; `integrity_test` keeps its hash known until the jury's window ends).
	pub fn jury_seed_of(dispute: u64, record: &DisputeRecordOf<T>) -> Option<H256> {
		let now = frame_system::Pallet::<T>::block_number();
		if now <= record.at {
			return None;
		}
		let block = frame_system::Pallet::<T>::block_hash(record.at);
		let genesis = pallet_poc::Pallet::<T>::genesis_hash();
		Some(jury_seed(&genesis, &H256::from_slice(block.as_ref()), dispute))
	}

	/// The last block a dispute opened in block `at` for `reason` takes votes in:
	/// `UnavailableWindow` after it for the long windows (`FailReason::long_window`, read
	/// by the workers too: an unavailable payload's, a developer's challenge since storage
	/// version 5), `JuryWindow` for a mismatch.
	pub fn jury_ends(at: BlockNumberFor<T>, reason: FailReason) -> BlockNumberFor<T> {
		at.saturating_add(if reason.long_window() {
			T::UnavailableWindow::get()
		} else {
			T::JuryWindow::get()
		})
	}

	/// Whether `host` sits on the jury of `dispute` (`record`): drawn by the hash rule,
	/// never its executor, its reporter or its developer. `None` before the seed is known.
	pub fn sits_on(dispute: u64, record: &DisputeRecordOf<T>, host: &HostId) -> Option<u128> {
		if *host == record.executor || *host == record.reporter || *host == record.developer {
			return None;
		}
		let seed = Self::jury_seed_of(dispute, record)?;
		let power = pallet_poc::Pallet::<T>::power_in(&record.snapshot, host);
		is_juror(&seed, host, power, record.others).then_some(power)
	}

	/// Checks `juror`'s vote: the dispute is open and votes now, the vote's anchor is a
	/// block of this chain from the dispute's on, the hash rule draws the juror, who has
	/// not voted, and the dispute has room for the vote. Returns the record and what the
	/// vote weighs.
	pub(crate) fn check_vote(
		juror: &HostId,
		vote: &ReceiptVote,
	) -> Result<(DisputeRecordOf<T>, u128), Error<T>> {
		let record = Disputes::<T>::get(vote.dispute)
			.filter(|record| record.settlement == vote.settlement && record.sample == vote.sample)
			.ok_or(Error::<T>::UnknownDispute)?;
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(
			now > record.at && now <= Self::jury_ends(record.at, record.reason),
			Error::<T>::NotJuryWindow
		);
		Self::check_anchor(&vote.anchor, record.at)?;
		let power = Self::sits_on(vote.dispute, &record, juror).ok_or(Error::<T>::NotAJuror)?;
		ensure!(!record.voters.contains(juror), Error::<T>::AlreadyVoted);
		ensure!((record.voters.len() as u32) < MAX_JURORS, Error::<T>::TooManyVotes);
		let weight = juror_weight(power, record.others);
		Ok((record, weight))
	}

	/// The `authorize` rule of [`Pallet::vote_receipt`]: the juror's worker key signed the
	/// vote for this chain (checked first), and [`Self::check_vote`] holds. One vote a
	/// juror and dispute (`provides`), valid until the jury's window ends.
	pub(crate) fn authorize_vote(
		_source: TransactionSource,
		juror: &HostId,
		vote: &ReceiptVote,
		signature: &sr25519::Signature,
	) -> TransactionValidityWithRefund {
		crate::tick_impls::verify_duty::<T, _>(juror, vote, signature)?;
		let (record, _) = Self::check_vote(juror, vote).map_err(|error| match error {
			Error::<T>::NotJuryWindow
				if Disputes::<T>::get(vote.dispute).is_some_and(|record| {
					frame_system::Pallet::<T>::block_number() <= record.at
				}) =>
			{
				InvalidTransaction::Future
			}
			Error::<T>::AnchorAhead => InvalidTransaction::Future,
			Error::<T>::UnknownDispute
			| Error::<T>::NotJuryWindow
			| Error::<T>::AlreadyVoted
			| Error::<T>::TooManyVotes => InvalidTransaction::Stale,
			other => InvalidTransaction::Custom(error_code(other)),
		})?;
		duty_validity::<T>(
			"GonkaReceiptVote",
			(vote.dispute, juror),
			Self::jury_ends(record.at, record.reason).saturating_add(1u32.into()),
		)
	}

	/// `vote_receipt`: counts the vote (the dispute is decided when its window ends).
	/// Emits `JurorVoted`.
	pub(crate) fn do_vote(juror: HostId, vote: ReceiptVote) -> DispatchResult {
		let (mut record, weight) = Self::check_vote(&juror, &vote)?;
		if vote.invalid {
			record.invalid = record.invalid.saturating_add(weight);
		} else {
			record.valid = record.valid.saturating_add(weight);
		}
		record.voters.try_push(juror.clone()).map_err(|_| Error::<T>::TooManyVotes)?;
		Self::deposit_event(Event::JurorVoted {
			dispute: vote.dispute,
			juror,
			invalid: vote.invalid,
			weight,
		});
		Disputes::<T>::insert(vote.dispute, record);
		Ok(())
	}

	/// A dispute's outcome from its tally when its window ends (`jury_verdict`):
	/// Invalidated if the invalid votes estimate more than half of the jury power and
	/// outweigh the valid ones; else Validated, the failure rejected if the valid votes do.
	pub fn outcome_of(record: &DisputeRecordOf<T>) -> DisputeOutcome {
		match jury_verdict(record.invalid, record.valid, record.others) {
			Some(true) => DisputeOutcome::Invalidated,
			Some(false) => DisputeOutcome::Validated { rejected: true },
			None => DisputeOutcome::Validated { rejected: false },
		}
	}

	/// Ends the disputes whose jury's window ended before `now`, oldest first, by two
	/// cursors, each over disputes whose windows are of one length (so they end in the
	/// order they opened): one over the dispute ids, which passes over the long windows'
	/// disputes (`FailReason::long_window`), and one over `UnavailableQueue`, which holds
	/// them. Each looks at `MaxDisputesPerBlock` at most (as many as a block opens, so both keep up). Returns
	/// the weight used.
	pub(crate) fn end_disputes(now: BlockNumberFor<T>) -> Weight {
		let each = <T as Config>::WeightInfo::end_dispute()
			.max(<T as Config>::WeightInfo::end_challenge());
		let most = T::MaxDisputesPerBlock::get();
		let (next, first) = crate::tick_impls::sweep(
			NextDisputeToEnd::<T>::get(),
			NextDisputeId::<T>::get(),
			most,
			each,
			|id| match Disputes::<T>::get(id) {
				Some(record) if record.reason.long_window() => true,
				Some(record) => Self::end_if_due(now, id, record),
				// A long window's dispute that ended (or was refuted) before the cursor
				// reached it.
				None => true,
			},
		);
		NextDisputeToEnd::<T>::put(next);
		let (next, second) = crate::tick_impls::sweep(
			NextUnavailableToEnd::<T>::get(),
			NextUnavailable::<T>::get(),
			most,
			// Its place read and removed too, and its settlement's seed.
			each.saturating_add(T::DbWeight::get().reads_writes(1, 2)),
			|place| {
				let Some(id) = UnavailableQueue::<T>::get(place) else {
					defensive!("a place in the queue is kept until its dispute ends");
					return true;
				};
				match Disputes::<T>::get(id) {
					Some(record) => {
						let ended = Self::end_if_due(now, id, record);
						if ended {
							UnavailableQueue::<T>::remove(place);
						}
						ended
					}
					// Refuted: its place is passed.
					None => {
						UnavailableQueue::<T>::remove(place);
						true
					}
				}
			},
		);
		NextUnavailableToEnd::<T>::put(next);
		first.saturating_add(second)
	}

	/// Ends dispute `id` (`record`) with its tally's outcome if its jury's window ended
	/// before `now`; says whether it did.
	fn end_if_due(now: BlockNumberFor<T>, id: DisputeId, record: DisputeRecordOf<T>) -> bool {
		if Self::jury_ends(record.at, record.reason) >= now {
			return false;
		}
		Disputes::<T>::remove(id);
		let outcome = Self::outcome_of(&record);
		Self::end_dispute(id, record, outcome);
		true
	}

	/// The `authorize` rule of [`Pallet::refute_unavailable`]: [`Self::check_refute`]
	/// holds, the acknowledgement's signature (the reporter's worker key's) checked last.
	/// One refutation a dispute (`provides`), valid until its window ends.
	pub(crate) fn authorize_refute(
		_source: TransactionSource,
		dispute: &DisputeId,
		ack: &DeliveryAck,
		signature: &sr25519::Signature,
	) -> TransactionValidityWithRefund {
		let record = Self::check_refute(*dispute, ack).map_err(|error| match error {
			Error::<T>::UnknownDispute => InvalidTransaction::Stale,
			other => InvalidTransaction::Custom(error_code(other)),
		})?;
		crate::tick_impls::verify_duty::<T, _>(&record.reporter, ack, signature)?;
		duty_validity::<T>(
			"GonkaRefuteUnavailable",
			dispute,
			Self::jury_ends(record.at, record.reason).saturating_add(1u32.into()),
		)
	}

	/// Checks a refutation: the dispute is open, an unavailable payload's, and the
	/// acknowledgement names its settlement and sample.
	pub(crate) fn check_refute(
		dispute: DisputeId,
		ack: &DeliveryAck,
	) -> Result<DisputeRecordOf<T>, Error<T>> {
		let record = Disputes::<T>::get(dispute).ok_or(Error::<T>::UnknownDispute)?;
		ensure!(record.reason == FailReason::Unavailable, Error::<T>::NotUnavailable);
		ensure!(
			record.settlement == ack.settlement
				&& record.sample == ack.sample
				&& UnavailableReports::<T>::get(dispute).map(|report| report.seed)
					== Some(ack.seed),
			Error::<T>::AckNotForDispute
		);
		Ok(record)
	}

	/// `refute_unavailable`: ends the dispute at once, the failure rejected (`Refuted`).
	pub(crate) fn do_refute(dispute: DisputeId, ack: DeliveryAck) -> DispatchResult {
		let record = Self::check_refute(dispute, &ack)?;
		Disputes::<T>::remove(dispute);
		Self::end_dispute(dispute, record, DisputeOutcome::Refuted);
		Ok(())
	}

	/// Ends dispute `id` (its record removed already) with `outcome`: moves what the
	/// outcome moves, takes the step of the executor's test, releases its snapshot and
	/// its epochs; emits `DisputeEnded`; an invalidation fines the passes shown of its
	/// sample (`forfeits.rs`).
	fn end_dispute(id: DisputeId, record: DisputeRecordOf<T>, outcome: DisputeOutcome) {
		pallet_poc::Pallet::<T>::release_snapshot(&record.snapshot);
		Self::note_closed(record.epoch);
		Self::note_closed(record.report_epoch);
		let unavailable = if record.reason == FailReason::Unavailable {
			UnavailableReports::<T>::take(id)
		} else {
			None
		};
		if record.reason == FailReason::Challenged {
			return Self::end_challenge(id, record, outcome);
		}
		let (mut refund, mut bounty, mut fine) = (0, 0, 0);
		match outcome {
			DisputeOutcome::Invalidated => {
				refund = T::Work::take_work(
					&record.executor,
					record.epoch,
					record.cost,
					&record.developer,
				);
				// No bounty for an unavailable payload: the report shows nothing a jury can
				// check but the executor's silence, which pays nobody to report it.
				if record.reason == FailReason::Mismatch {
					bounty = T::Work::take_work(
						&record.executor,
						record.epoch,
						record.cost,
						&record.reporter,
					);
					if T::Work::credit_work(&record.reporter, bounty).is_err() {
						defensive!(
							"a bounty just paid to the reporter is held as its pending work"
						);
					}
				}
				T::Work::judge_many(&record.executor, record.epoch, 0, 1);
			}
			DisputeOutcome::Validated { rejected } => {
				T::Work::judge_many(&record.executor, record.epoch, 1, 0);
				// On the pending work of the report's epoch, which holds its pay for the
				// answer.
				fine = match (rejected, record.reason) {
					(false, _) => 0,
					// The jury found the payload served, and cannot tell whether the
					// executor served the reporter too: as if the sample were missed, the
					// answer's pay taken back and a missed duty (the downtime test's), no
					// fine and no miss on its reputation (an executor withholding from the
					// validator drawn for it fines nobody). A reporter that fetched it is
					// refuted by its own acknowledgement instead (`Refuted`).
					(true, FailReason::Unavailable) => {
						T::Work::note_duties(&record.reporter, 0, 1);
						unavailable.map_or(0, |report| {
							T::Work::take_back(&record.reporter, record.report_epoch, report.paid)
						})
					}
					(true, _) => T::Work::fine(&record.reporter, record.report_epoch, record.cost),
				};
			}
			DisputeOutcome::Refuted => {
				T::Work::judge_many(&record.executor, record.epoch, 1, 0);
				fine = T::Work::fine(&record.reporter, record.report_epoch, record.cost);
			}
		}
		Self::deposit_event(Event::DisputeEnded { dispute: id, outcome, refund, bounty, fine });
		Self::end_contradiction(id, outcome == DisputeOutcome::Invalidated);
	}

	/// Ends a developer's challenge with `outcome`: Invalidated — the receipt's cost back
	/// from the executor's pending work of the settlement's epoch and the fee returned,
	/// an invalidation step; otherwise the fee held goes to `FeeTo` (`fine`), and no step
	/// of the executor's test (a challenge a developer lets fail would otherwise buy its
	/// own executor passes).
	fn end_challenge(id: DisputeId, record: DisputeRecordOf<T>, outcome: DisputeOutcome) {
		let reason = <T as Config>::RuntimeHoldReason::from(HoldReason::ChallengeFee);
		let held = ChallengeFees::<T>::take(id).unwrap_or_else(|| {
			defensive!("a challenge's fee is kept until its dispute ends");
			0
		});
		let (mut refund, mut fine) = (0, 0);
		let mut release = held;
		if outcome == DisputeOutcome::Invalidated {
			refund =
				T::Work::take_work(&record.executor, record.epoch, record.cost, &record.developer);
			T::Work::judge_many(&record.executor, record.epoch, 0, 1);
		} else {
			match <T as Config>::Currency::transfer_on_hold(
				&reason,
				&record.developer,
				&T::FeeTo::get(),
				held,
				Precision::BestEffort,
				Restriction::Free,
				Fortitude::Force,
			) {
				Ok(paid) => {
					fine = paid;
					release = held.saturating_sub(paid);
				}
				Err(_) => {
					defensive!("the pool takes a challenge's fee");
				}
			}
		}
		if release > 0
			&& <T as Config>::Currency::release(
				&reason,
				&record.developer,
				release,
				Precision::BestEffort,
			)
			.is_err()
		{
			defensive!("a challenge's fee is held for its developer");
		}
		Self::deposit_event(Event::DisputeEnded { dispute: id, outcome, refund, bounty: 0, fine });
	}

	/// Counts a settlement record or dispute open in `epoch` (its ledger waits).
	pub(crate) fn note_open(epoch: EpochIndex) {
		OpenInEpoch::<T>::mutate(epoch, |open| *open = open.saturating_add(1));
	}

	/// Counts one fewer open in `epoch`.
	pub(crate) fn note_closed(epoch: EpochIndex) {
		OpenInEpoch::<T>::mutate_exists(epoch, |open| {
			let left = open.unwrap_or_else(|| {
				defensive!("an open record of the epoch was counted");
				0
			});
			*open = left.checked_sub(1).filter(|left| *left > 0);
		});
	}
}
