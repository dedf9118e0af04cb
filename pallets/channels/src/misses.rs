//! Validators that answered nothing (`docs/channels.md`, "Lazy validators"; the spec's
//! section 8): a settlement's record outlives its verdict window by one verdict period, in
//! which any host may show that a validator the hash rule drew for samples of that period
//! answered none of the period's samples (`report_missed_samples`): each sample shown is a
//! missed duty, which the downtime test weighs as it weighs a missed validation on the
//! on-chain path. Answered samples are duties done (`WorkLedger::note_duties`).
//!
//! - **Answered anything, never missed**: a validator that answered anything of period
//!   `i` (a verdict part, a failure report) is marked for it (`PeriodMarks`) and is not
//!   shown missed for `i`. Its answers are bounded (`MAX_VERDICT_PARTS` parts a period,
//!   and block space) while the samples drawn for it are not: a developer that is its own
//!   executor could flood a validator with more samples than it can answer, almost for
//!   free, and have the rest shown missed. So an offline validator is caught, a flooded one
//!   that answers is not; a validator that skips some of its samples loses their pay (a
//!   validator is paid per answer), and amendment 6's second validator is the check of it.
//! - **`MAX_MISSES` a period**: reports show up to `MAX_MISSES` of a validator's
//!   unanswered samples of a period in all, each once, in ascending (settlement, sample)
//!   order (a later report adds others): misses are bounded by validators, not by samples;
//!   at most `MaxMissReportsPerBlock` reports a block. Its answers count as duties done up
//!   to as many a period, so channel answers weigh in the downtime test no more than
//!   channel misses can.
//! - **What is checked**: the report is sent in period `i + 2` (the window of `i` closed
//!   when `i + 1` ended, so the answers are final; the records of `i` are kept until
//!   `i + 2` ends); each sample is one of a settlement of period `i`, nobody answered it,
//!   the hash rule draws the validator for it by the settlement snapshot's power (the rule
//!   the verdicts are checked by, so only a true report passes), and the validator is
//!   registered and serves the channel's model (a host that cannot replay a model never
//!   misses its samples). A settlement recorded before storage version 3 has no model
//!   entry: none of its samples is shown missed (its validators' answers before the
//!   upgrade left no mark).
//! - **Pruned**: the records at the end of their report period (`prune_settlements`, at
//!   most `MaxClosesPerBlock` a block, from the second round the close writes, which ends
//!   then (`seconds.rs`; `ToPrune` for a settlement closed before spec version 20): the
//!   records, their models, their power snapshots); the marks of a period once its
//!   report period ended (`clear_marks`, `MARK_CLEARS` a block).

use crate::{
	BlockMissReports, Config, Error, Event, NextMarksToClear, NextSettlementId, NextToClose,
	NextToPrune, Pallet, PeriodMark, PeriodMarks, SettlementModels, SettlementRecordOf,
	Settlements, ShownOf, WeightInfo, MARK_CLEARS, PAYS_KEPT,
};
use alloc::vec::Vec;
use gonka_primitives::{
	channel::{MissedSamples, SettlementId, MAX_MISSES},
	EpochIndex, HostId, PowerSnapshot, H256,
};
use pallet_inference::WorkLedger;
use pallet_poc::validity::{duty_validity_at, error_code};
use polkadot_sdk::{
	frame_support::pallet_prelude::*,
	frame_system::{self, pallet_prelude::BlockNumberFor},
	sp_core::sr25519,
};

/// A sample's proof beyond its record's in a report of misses: three reads (its
/// settlement's model, the validator's PoC commitment, the settlement block's hash), each
/// at the benchmark's estimate of a record's read (2,911 bytes, rounded up).
pub const MISSED_SAMPLE_PROOF: u64 = 3 * 3_000;

/// What a report's check read once: the validator's power in each snapshot met, and
/// whether it served each (model, roster epoch) met.
#[derive(Default)]
struct Reads {
	powers: Vec<(PowerSnapshot, u128)>,
	served: Vec<((gonka_primitives::ModelId, Option<EpochIndex>), bool)>,
}

/// A settlement a report's samples fall in, as the check reads it once.
struct Shown<T: Config> {
	settlement: SettlementId,
	record: SettlementRecordOf<T>,
	seed: H256,
	samples: u32,
	power: u128,
}

impl<T: Config> Pallet<T> {
	/// The block a settlement included in block `at` is pruned at: the end of the period
	/// after its window's close, in which its validators' misses are shown.
	pub fn prunes_at(at: BlockNumberFor<T>) -> BlockNumberFor<T> {
		Self::period_start(Self::period_of(at).saturating_add(3))
	}

	/// The proof of `samples` samples' reads beyond their records' (each sample's
	/// settlement model, PoC commitment and block hash): the benchmark charges a
	/// component's reads at the largest one's alone (the record's), so these are added by
	/// hand, each at a record's estimate (a read in a large trie).
	pub fn missed_samples_proof(samples: usize) -> Weight {
		Weight::from_parts(0, MISSED_SAMPLE_PROOF.saturating_mul(samples as u64))
	}

	/// Whether settlement `id`'s verdict window is still open (its record is kept after the
	/// close, for the report period).
	pub fn window_open(id: SettlementId) -> bool {
		id >= NextToClose::<T>::get() && id < NextSettlementId::<T>::get()
	}

	/// Notes that `validator` answered `answers` samples of verdict period `period`: it is
	/// not shown missed for it, and they are duties done, up to `MAX_MISSES` a period in
	/// all (the most misses a period may show: `docs/channels.md`, step 5e).
	pub(crate) fn note_answers(period: u32, validator: &HostId, answers: u32) {
		let noted = match PeriodMarks::<T>::get(period, validator) {
			Some(PeriodMark::Answered(noted)) => noted,
			_ => 0,
		};
		let done = answers.min(MAX_MISSES.saturating_sub(noted));
		PeriodMarks::<T>::insert(
			period,
			validator,
			PeriodMark::Answered(noted.saturating_add(done)),
		);
		T::Work::note_duties(validator, done, 0);
	}

	/// Checks `missed`: sent in period `period + 2`, of a validator not marked answered for
	/// the period, in a block with room, each sample in order, not shown before, and one of
	/// a settlement of the period that nobody answered, that the hash rule draws the
	/// validator for, of a model it served. Returns the samples shown before.
	pub(crate) fn check_missed(missed: &MissedSamples) -> Result<ShownOf, Error<T>> {
		ensure!(!missed.samples.is_empty(), Error::<T>::NoMisses);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(
			Self::period_of(now) == missed.period.saturating_add(2),
			Error::<T>::NotReportWindow
		);
		let before = match PeriodMarks::<T>::get(missed.period, &missed.validator) {
			Some(PeriodMark::Answered(_)) => return Err(Error::<T>::ValidatorAnswered),
			Some(PeriodMark::Reported(before)) => before,
			None => ShownOf::default(),
		};
		ensure!(
			before.len().saturating_add(missed.samples.len()) <= MAX_MISSES as usize,
			Error::<T>::TooManyMisses
		);
		let (block, count) = BlockMissReports::<T>::get();
		ensure!(
			block != now || count < T::MaxMissReportsPerBlock::get(),
			Error::<T>::TooManyMissReports
		);
		let mut reads = Reads::default();
		let mut current: Option<Shown<T>> = None;
		let mut last = None;
		for &(settlement, sample) in missed.samples.iter() {
			ensure!(last < Some((settlement, sample)), Error::<T>::MissesOutOfOrder);
			last = Some((settlement, sample));
			ensure!(!before.contains(&(settlement, sample)), Error::<T>::AlreadyReported);
			if current.as_ref().is_none_or(|shown| shown.settlement != settlement) {
				current = Some(Self::shown(settlement, missed, &mut reads)?);
			}
			let Some(shown) = current.as_ref() else {
				return Err(Error::<T>::UnknownSettlement);
			};
			let record = &shown.record;
			ensure!(sample < shown.samples, Error::<T>::NotASample);
			ensure!(!record.is_answered(sample), Error::<T>::AlreadyAnswered);
			ensure!(
				record.draws(&shown.seed, sample, &missed.validator, shown.power),
				Error::<T>::NotSampled
			);
		}
		Ok(before)
	}

	/// Settlement `settlement` as `missed` shows it: kept, of its period, of a model the
	/// validator served; its seed, samples and the validator's power.
	fn shown(
		settlement: SettlementId,
		missed: &MissedSamples,
		reads: &mut Reads,
	) -> Result<Shown<T>, Error<T>> {
		let record = Settlements::<T>::get(settlement).ok_or(Error::<T>::UnknownSettlement)?;
		ensure!(Self::period_of(record.at) == missed.period, Error::<T>::WrongPeriod);
		let (model, formed) =
			SettlementModels::<T>::get(settlement).ok_or(Error::<T>::NotServing)?;
		let serves = match reads.served.iter().find(|(seen, _)| *seen == (model, formed)) {
			Some((_, serves)) => *serves,
			None => {
				let serves = Self::served(&missed.validator, model, formed);
				reads.served.push(((model, formed), serves));
				serves
			}
		};
		ensure!(serves, Error::<T>::NotServing);
		let seed = Self::seed_of(settlement, &record).ok_or(Error::<T>::NotReportWindow)?;
		let samples = Self::tree_samples(&record, &seed).saturating_add(record.tail);
		let power = Self::power_once(&mut reads.powers, &record.snapshot, &missed.validator);
		Ok(Shown { settlement, record, seed, samples, power })
	}

	/// Whether `validator` served `model` for a settlement recorded while the model's
	/// executor roster in force was formed by epoch `formed`'s PoC (`None`: the model had
	/// no roster, nobody served it): it still stands (it is registered, and was before that
	/// epoch), and it committed PoC to the model in that epoch: its claim to serve the
	/// model, which the roster and its executor work rest on (dropping the model from its
	/// registration since lifts none of its duties, and adding it since adds none). The
	/// models it registered stand in where no commitment can say: the genesis rosters
	/// (`formed` 0, which rest on none) and a roster whose epoch's commitments are pruned
	/// (formations carried over for `RetentionEpochs`).
	pub fn served(
		validator: &HostId,
		model: gonka_primitives::ModelId,
		formed: Option<EpochIndex>,
	) -> bool {
		let Some(formed) = formed else { return false };
		if !pallet_poc::Pallet::<T>::stands_in(validator, formed) {
			return false;
		}
		// The epochs below this one left PoC's retention window: their commitments are
		// pruned, or being pruned.
		let kept = pallet_poc::Pallet::<T>::epoch_now()
			.saturating_sub(<T as pallet_poc::Config>::RetentionEpochs::get());
		if formed > 0 && formed >= kept {
			return pallet_poc::Commitments::<T>::contains_key((formed, model, validator));
		}
		pallet_poc::Hosts::<T>::get(validator).is_some_and(|host| host.models.contains(&model))
	}

	/// The `authorize` rule of [`Pallet::report_missed_samples`]: the reporter's worker key
	/// signed the report for this chain (checked first), and [`Self::check_missed`] holds.
	/// One transaction a period, validator and samples shown before (`provides`), valid
	/// until the period's report period ends; below the verdicts' priority (a report has a
	/// whole period, and must never crowd out the answers it would show missing), higher
	/// the more samples it shows (of two reports of the same validator, the pool keeps the
	/// larger).
	pub(crate) fn authorize_missed(
		_source: TransactionSource,
		reporter: &HostId,
		missed: &MissedSamples,
		signature: &sr25519::Signature,
	) -> TransactionValidityWithRefund {
		crate::tick_impls::verify_duty::<T, _>(reporter, missed, signature)?;
		let before = Self::check_missed(missed).map_err(|error| match error {
			Error::<T>::NotReportWindow
				if Self::period_of(frame_system::Pallet::<T>::block_number())
					< missed.period.saturating_add(2) =>
			{
				InvalidTransaction::Future
			}
			Error::<T>::NotReportWindow
			| Error::<T>::UnknownSettlement
			| Error::<T>::ValidatorAnswered
			| Error::<T>::AlreadyReported
			| Error::<T>::TooManyMisses => InvalidTransaction::Stale,
			Error::<T>::TooManyMissReports => InvalidTransaction::ExhaustsResources,
			other => InvalidTransaction::Custom(error_code(other)),
		})?;
		let priority = (<T as pallet_poc::Config>::DutyPriority::get() / 4)
			.saturating_add(missed.samples.len() as u64);
		duty_validity_at::<T>(
			priority,
			"GonkaMissedSamples",
			(missed.period, &missed.validator, before.len() as u32),
			Self::period_start(missed.period.saturating_add(3)),
		)
	}

	/// `report_missed_samples`: adds the samples to those shown missed of the validator in
	/// the period and notes each as a missed duty; emits `SamplesMissed`.
	pub(crate) fn do_report_missed(reporter: HostId, missed: MissedSamples) -> DispatchResult {
		let before = Self::check_missed(&missed)?;
		let mut shown: Vec<(SettlementId, u32)> = before.into_inner();
		shown.extend(missed.samples.iter().copied());
		shown.sort_unstable();
		let shown = ShownOf::try_from(shown).map_err(|_| Error::<T>::TooManyMisses)?;
		PeriodMarks::<T>::insert(missed.period, &missed.validator, PeriodMark::Reported(shown));
		crate::tick_impls::count_in_block::<T, BlockMissReports<T>>();
		let samples = missed.samples.len() as u32;
		T::Work::note_duties(&missed.validator, 0, samples);
		Self::deposit_event(Event::SamplesMissed {
			period: missed.period,
			validator: missed.validator,
			reporter,
			samples,
		});
		Ok(())
	}

	/// Prunes the closed settlements whose report period ended by `now`, oldest first, at
	/// most `MaxClosesPerBlock` (`Pallet::prune_settlement`: their second rounds ended,
	/// their records removed). Returns the weight used.
	pub(crate) fn prune_settlements(now: BlockNumberFor<T>) -> Weight {
		let (next, weight) = crate::tick_impls::sweep(
			NextToPrune::<T>::get(),
			NextToClose::<T>::get(),
			T::MaxClosesPerBlock::get(),
			<T as Config>::WeightInfo::prune_settlement(),
			|id| Self::prune_settlement(id, now),
		);
		NextToPrune::<T>::put(next);
		weight
	}

	/// Clears the marks of the oldest period kept once its report period ended by `now`, and
	/// the pays of the period `PAYS_KEPT` before it: at most `MARK_CLEARS` of each a block;
	/// the next period's from the block after the last of them. Returns the weight used.
	pub(crate) fn clear_marks(now: BlockNumberFor<T>) -> Weight {
		let period = NextMarksToClear::<T>::get();
		if Self::period_of(now) < period.saturating_add(3) {
			return <T as Config>::WeightInfo::clear_marks(0);
		}
		let result = PeriodMarks::<T>::clear_prefix(period, MARK_CLEARS, None);
		// The pays of the period `PAYS_KEPT` before, as many at most (`forfeits.rs`: kept
		// for the passes its disputes contradict).
		let (pays_cleared, pays) = match period.checked_sub(PAYS_KEPT) {
			Some(paid) => Self::clear_pays(paid, MARK_CLEARS),
			None => (true, 0),
		};
		if result.maybe_cursor.is_none() && pays_cleared {
			NextMarksToClear::<T>::put(period.saturating_add(1));
		}
		<T as Config>::WeightInfo::clear_marks(result.loops)
			.saturating_add(<T as Config>::WeightInfo::clear_pays(pays))
	}
}
