//! Contradicted passes (`docs/channels.md`, step 5i; the rest of the spec's amendment 6): a
//! pass of a sample whose receipt a jury invalidates forfeits its validator's pay for the
//! settlement's verdict period.
//!
//! - **Who passed is shown, not stored**: a settlement's record keeps one bit a sample
//!   (answered or not), and storing each pass's validator would cost every verdict a write.
//!   A pass is in a signed verdict batch, which stays in the chain's blocks; while a
//!   mismatch's dispute on a sample is open (`Contradictions`: a validator's failure
//!   report with the receipt, first or second answer), anyone may show the batch of a
//!   validator that passed that sample (`show_pass`). The chain takes it if a worker key
//!   that signed the validator's batches of the period (kept with its pay, at most
//!   `MAX_PERIOD_KEYS`: a batch of the period signed by another is refused) or the key
//!   it holds now signed it, its period is the settlement's, its anchor is a block of this
//!   chain (so it speaks of this chain's settlement: `forks.rs`), it passes the sample,
//!   and the hash rule drew the validator for the sample, first (on the sample seed) or
//!   second (on the round's seed, if the failure is a second answer). A pass sent after
//!   another validator's answer (skipped, unpaid) is shown all the same: it says the
//!   receipt is valid.
//! - **What it forfeits**: the validator's pay for its answers (first and second) to the
//!   samples of the settlement's verdict period (`PeriodPays`: noted with each answer's
//!   pay) not forfeited yet: what it was when shown, and what was added since. If the
//!   jury invalidates the receipt, each passer shown is fined that on its pending work of
//!   the epoch of its latest pay when shown (one fine: the hook's worst case is one a
//!   passer), and takes a miss on its reputation (`WorkLedger::fine`, as a rejected
//!   failure report): the fine is forfeited when the epoch settles, at most its pending
//!   work. That epoch is not settled while the dispute is open (the dispute
//!   holds its settlement's epoch, which is not later, and epochs settle in order). Any
//!   other outcome fines nobody. A period's pay is forfeited once: a second contradicted
//!   pass of the period fines only pay added since.
//! - **Bounds**: at most `MAX_PASSERS` (2) passers a dispute, each once (a passer shown
//!   when they are takes the place of the one that forfeits least, if it forfeits more);
//!   a period's pay is
//!   kept until the marks of the period `PAYS_KEPT` (2) later are cleared (so at least
//!   five periods from the period's start: a second failure is reported by its
//!   settlement's pruning, three periods after, and its jury votes for `JuryWindow`, less
//!   than two periods); a pass shown after that forfeits nothing and is refused
//!   (`NothingToForfeit`).
//! - **Not**: an unavailable payload's dispute contradicts no pass (the passer may have
//!   had the payload), nor does a developer's challenge (a receipt, not a sample).

use crate::{
	Config, Contradiction, ContradictionOf, Contradictions, DisputeRecordOf, Disputes, Error,
	Event, Pallet, Passer, PeriodPay, PeriodPays, SettlementRecordOf,
};
use gonka_primitives::{
	channel::{is_doubled, validates_sample, DisputeId, ReceiptVerdicts},
	duty::Duty,
	HostId, H256,
};
use pallet_inference::WorkLedger;
use pallet_poc::validity::{duty_validity, error_code};
use polkadot_sdk::{
	frame_support::{defensive, pallet_prelude::*},
	sp_core::sr25519,
	sp_runtime::traits::{One, Saturating},
};

/// A shown pass, checked.
pub(crate) struct ShownPass<T: Config> {
	/// The dispute's record.
	pub record: DisputeRecordOf<T>,
	/// Its contradiction.
	pub contradiction: ContradictionOf,
	/// The passer, with what it forfeits.
	pub passer: Passer<HostId>,
	/// The keys that signed its verdict batches of the period.
	pub keys: crate::PeriodKeys,
}

impl<T: Config> Pallet<T> {
	/// The worker key `validator` signs a verdict batch of period `period` with (its key
	/// now): one of the keys that signed its batches of the period, or a new one while
	/// fewer than `MAX_PERIOD_KEYS` did (`TooManyKeys` otherwise: a validator that rotated
	/// its key again and again would leave passes no key kept can check).
	pub(crate) fn period_key(period: u32, validator: &HostId) -> Result<sr25519::Public, Error<T>> {
		let key = pallet_poc::Hosts::<T>::get(validator)
			.map(|host| host.worker_key)
			.ok_or(Error::<T>::NoWorkerKey)?;
		let keys = PeriodPays::<T>::get(period, validator).map(|pay| pay.keys).unwrap_or_default();
		ensure!(
			keys.contains(&key) || (keys.len() as u32) < crate::MAX_PERIOD_KEYS,
			Error::<T>::TooManyKeys
		);
		Ok(key)
	}

	/// Adds `paid` to `validator`'s pay for its answers to the samples of verdict period
	/// `period`, paid in the epoch in progress, and `key` (that signed a verdict batch of
	/// it, checked by [`Self::period_key`]) to its keys.
	pub(crate) fn note_pay(
		period: u32,
		validator: &HostId,
		paid: u128,
		key: Option<sr25519::Public>,
	) {
		if paid == 0 && key.is_none() {
			return;
		}
		let epoch = pallet_poc::Pallet::<T>::epoch_now();
		PeriodPays::<T>::mutate(period, validator, |pay| {
			let pay = pay.get_or_insert_with(PeriodPay::default);
			if paid > 0 {
				pay.epoch = epoch;
				pay.paid = pay.paid.saturating_add(paid);
			}
			if let Some(key) = key {
				if !pay.keys.contains(&key) && pay.keys.try_push(key).is_err() {
					defensive!("a batch's key is one of the period's, or there is room");
				}
			}
		});
	}

	/// Notes that mismatch dispute `dispute` on a sample of settlement `record` (sample
	/// seed `seed`; `second_seed`: its round's, if the failure is a second answer)
	/// contradicts the passes of that sample.
	pub(crate) fn open_contradiction(
		dispute: DisputeId,
		record: &SettlementRecordOf<T>,
		seed: H256,
		second_seed: Option<H256>,
	) {
		Contradictions::<T>::insert(
			dispute,
			Contradiction {
				period: Self::period_of(record.at),
				seed,
				second_seed,
				total_power: record.total_power,
				executor_power: record.executor_power,
				passers: Default::default(),
			},
		);
	}

	/// Checks a shown pass: `dispute` is an open mismatch's dispute with room for a passer;
	/// `verdicts` are of its settlement's period, anchored to a block of this chain, and
	/// pass its sample; the hash rule drew `validator` for the sample (first, or second on
	/// the round's seed), it is not shown yet, and it was paid for the period's answers.
	/// The signature is checked apart, against the keys that signed the validator's batches
	/// of the period (`authorize_pass`; the call is authorized).
	pub(crate) fn check_pass(
		dispute: DisputeId,
		validator: &HostId,
		verdicts: &ReceiptVerdicts,
	) -> Result<ShownPass<T>, Error<T>> {
		let contradiction = Contradictions::<T>::get(dispute).ok_or(Error::<T>::NoContradiction)?;
		let record = Disputes::<T>::get(dispute).ok_or(Error::<T>::NoContradiction)?;
		ensure!(verdicts.period == contradiction.period, Error::<T>::WrongPeriod);
		Self::check_anchor(&verdicts.anchor, Self::verdicts_anchor_from(verdicts.period))?;
		ensure!(
			verdicts.entries.iter().any(|entry| {
				entry.settlement == record.settlement && entry.sample == record.sample && entry.pass
			}),
			Error::<T>::PassNotInBatch
		);
		let passers = &contradiction.passers;
		ensure!(
			!passers.iter().any(|shown| shown.validator == *validator),
			Error::<T>::PasserShown
		);
		let power = pallet_poc::Pallet::<T>::power_in(&record.snapshot, validator);
		// Drawn by the hash rule on `seed`, by the settlement snapshot's powers.
		let drawn_on = |seed: &H256| {
			validates_sample(
				seed,
				record.sample,
				validator,
				&record.executor,
				power,
				contradiction.total_power,
				contradiction.executor_power,
			)
		};
		// First, or second (`validates_second`: drawn on the round's seed for a doubled
		// sample, and not first).
		let drawn = drawn_on(&contradiction.seed)
			|| contradiction
				.second_seed
				.as_ref()
				.is_some_and(|second| is_doubled(second, record.sample) && drawn_on(second));
		ensure!(drawn, Error::<T>::NotSampled);
		let pay = PeriodPays::<T>::get(contradiction.period, validator)
			.filter(|pay| pay.paid > pay.forfeited)
			.ok_or(Error::<T>::NothingToForfeit)?;
		let forfeit = pay.paid.saturating_sub(pay.forfeited);
		// Full: it takes the place of the passer that forfeits least, if it forfeits more.
		ensure!(
			(passers.len() as u32) < crate::MAX_PASSERS
				|| passers.iter().any(|shown| shown.forfeit < forfeit),
			Error::<T>::TooManyPassers
		);
		let passer = Passer { validator: validator.clone(), forfeit, epoch: pay.epoch };
		Ok(ShownPass { record, contradiction, passer, keys: pay.keys })
	}

	/// The `authorize` rule of [`Pallet::show_pass`]: [`Self::check_pass`] holds, and one
	/// of the worker keys that signed the validator's verdict batches of the period signed
	/// this one for this chain (checked last: the batch may be long; a key the validator
	/// holds now and did not sign with then checks nothing, so rotating keys hides no
	/// pass). One showing a validator and dispute (`provides`), valid until the jury's
	/// window ends.
	pub(crate) fn authorize_pass(
		_source: TransactionSource,
		dispute: &DisputeId,
		validator: &HostId,
		verdicts: &ReceiptVerdicts,
		signature: &sr25519::Signature,
	) -> TransactionValidityWithRefund {
		let shown =
			Self::check_pass(*dispute, validator, verdicts).map_err(|error| match error {
				Error::<T>::NoContradiction
				| Error::<T>::PasserShown
				| Error::<T>::TooManyPassers
				| Error::<T>::NothingToForfeit => InvalidTransaction::Stale,
				Error::<T>::AnchorAhead => InvalidTransaction::Future,
				other => InvalidTransaction::Custom(error_code(other)),
			})?;
		// The kept keys, then the key it holds now (a batch the chain never took, signed
		// with it).
		let genesis = pallet_poc::Pallet::<T>::genesis_hash();
		let now = pallet_poc::Hosts::<T>::get(validator).map(|host| host.worker_key);
		if !shown
			.keys
			.iter()
			.chain(now.iter())
			.any(|key| verdicts.verify(&genesis, validator, key, signature))
		{
			return Err(InvalidTransaction::BadProof.into());
		}
		duty_validity::<T>(
			"GonkaShownPass",
			(dispute, validator),
			Self::jury_ends(shown.record.at, shown.record.reason).saturating_add(One::one()),
		)
	}

	/// `show_pass`: adds the validator to the dispute's passers, with its pay for the
	/// period as its forfeit; emits `PassShown`.
	pub(crate) fn do_show_pass(
		dispute: DisputeId,
		validator: HostId,
		verdicts: ReceiptVerdicts,
	) -> DispatchResult {
		let ShownPass { mut contradiction, passer, .. } =
			Self::check_pass(dispute, &validator, &verdicts)?;
		let forfeit = passer.forfeit;
		let passers = &mut contradiction.passers;
		if let Err(passer) = passers.try_push(passer) {
			// Full: in place of the one that forfeits least (`check_pass`: it forfeits less).
			let least = passers
				.iter_mut()
				.min_by_key(|shown| shown.forfeit)
				.ok_or(Error::<T>::TooManyPassers)?;
			*least = passer;
		}
		Contradictions::<T>::insert(dispute, contradiction);
		Self::deposit_event(Event::PassShown { dispute, validator, forfeit });
		Ok(())
	}

	/// Ends dispute `dispute`'s contradiction (if it has one): if the jury invalidated the
	/// receipt (`invalidated`), each passer shown forfeits its pay for the period not
	/// forfeited yet (what it was when shown, and what was added since, while the pay is
	/// kept), in one fine on its pending work of the epoch of its latest pay when it was
	/// shown (which holds at least the pay shown; pay added since in a later epoch is fined
	/// there too, at most that epoch's pending work), with a miss (`WorkLedger::fine`);
	/// emits `PassForfeited` for each (a fine of nothing, and no miss, if the period's pay
	/// was forfeited already).
	pub(crate) fn end_contradiction(dispute: DisputeId, invalidated: bool) {
		let Some(contradiction) = Contradictions::<T>::take(dispute) else {
			return;
		};
		if !invalidated {
			return;
		}
		let period = contradiction.period;
		for Passer { validator, forfeit, epoch } in contradiction.passers {
			let due = match PeriodPays::<T>::get(period, &validator) {
				Some(mut pay) => {
					let due = pay.paid.saturating_sub(pay.forfeited);
					pay.forfeited = pay.paid;
					PeriodPays::<T>::insert(period, &validator, pay);
					due
				}
				// No longer kept (the configuration keeps it while a dispute of the period
				// is open): as shown.
				None => forfeit,
			};
			let fine = if due > 0 { T::Work::fine(&validator, epoch, due) } else { 0 };
			Self::deposit_event(Event::PassForfeited { dispute, validator, fine });
		}
	}

	/// Clears up to `most` of period `period`'s pays (`PeriodPays`); says whether none is
	/// left, and how many it cleared.
	pub(crate) fn clear_pays(period: u32, most: u32) -> (bool, u32) {
		let result = PeriodPays::<T>::clear_prefix(period, most, None);
		(result.maybe_cursor.is_none(), result.loops)
	}
}
