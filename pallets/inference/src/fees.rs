//! The escrow and the pending work balance (`protocol.md`, "Inference" 1, 2, 5, 6): what
//! moves on hold when a request finishes (its cost from the developer's escrow to the
//! executor's pending work, the rest refunded), expires (the escrow refunded), is
//! invalidated (the cost back to the developer) or is validated (the validators' share
//! of the cost, from the executor's pending work to the validators whose reports passed;
//! a failing report the vote rejected costs its sender a fine), and the timer deposit
//! every escrow holds, from which each assignment timer that fires pays its fee to the
//! community pool.
//! Pending work is released or forfeited when its epoch settles (`settlement.rs`).

use super::*;
use alloc::vec::Vec;
use gonka_primitives::{
	inference::{self as rules, RequestId},
	EpochIndex,
};
use polkadot_sdk::{
	frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::MutateHold,
			tokens::{Fortitude, Precision, Restriction},
		},
		weights::WeightToFee as _,
	},
	sp_runtime::{traits::SaturatedConversion, Perbill},
};

impl<T: Config> Pallet<T> {
	/// The fee of one assignment timer, as transactions pay for weight (`WeightToFee`): its
	/// worst case (a reassignment or the expiry) and the prune an expiry schedules.
	pub fn timer_fee() -> u128 {
		let weight = Self::timer_weight(Timer::Assignment)
			.saturating_add(Self::prepaid_timers(Timer::Prune));
		T::WeightToFee::weight_to_fee(&weight)
	}

	/// The timer deposit a request's escrow holds under `rules`: the fee of the most
	/// assignment timers it can cause. Its executor, drawn a block after the request at the
	/// earliest, has `refusal_timeout` blocks, then it is reassigned or, from `expiration`
	/// blocks after the request on, expires: `⌈(expiration − 1) / refusal_timeout⌉`, at
	/// least one (`set_params` keeps `refusal_timeout` below `expiration`).
	pub fn timer_deposit(rules: &ParamsOf<T>) -> u128 {
		let expiration: u64 = rules.expiration.saturated_into();
		let timeout: u64 = rules.refusal_timeout.saturated_into();
		let timers = expiration.saturating_sub(1).div_ceil(timeout.max(1)).max(1);
		Self::timer_fee().saturating_mul(u128::from(timers))
	}

	/// A request's tokens' escrow (what its cost can take), from its own terms; `None` if
	/// it overflows (`request` refuses such a request).
	pub(crate) fn tokens_escrow(request: &RequestOf<T>) -> Option<u128> {
		rules::escrow(
			request.prompt_bytes,
			request.template_overhead,
			request.max_tokens,
			request.price,
		)
	}

	/// What is left of a request's timer deposit: its escrow beyond the tokens' escrow.
	pub(crate) fn deposit_left(request: &RequestOf<T>) -> u128 {
		request.escrow.saturating_sub(Self::tokens_escrow(request).unwrap_or(request.escrow))
	}

	/// An assignment timer of request `id` fired: its fee (at most the deposit left) moves
	/// from the developer's escrow to the community pool. The caller stores the request.
	/// Returns whether the deposit left pays for another timer (not if this one could not
	/// be paid in full).
	///
	/// Held funds move whatever locks the account carries (`Fortitude::Force`, here and
	/// in every move of this file): a hold is already committed, and a vesting lock over
	/// the whole balance must not make a request's timers, cost or refunds free.
	pub(crate) fn charge_timer(id: RequestId, request: &mut RequestOf<T>) -> bool {
		let fee = Self::timer_fee();
		let left = Self::deposit_left(request);
		let due = fee.min(left);
		let amount = Funds::<T>::transfer_on_hold(
			&HoldReason::Escrow.into(),
			&request.developer,
			&T::ForfeitTo::get(),
			due,
			Precision::BestEffort,
			Restriction::Free,
			Fortitude::Force,
		)
		.unwrap_or(0);
		if amount > 0 {
			request.escrow = request.escrow.saturating_sub(amount);
			Self::deposit_event(Event::TimerCharged { request: id, amount });
		}
		amount >= due && left.saturating_sub(amount) >= fee
	}

	/// A result costing `cost`: refunds the escrow beyond it to the developer and moves
	/// the cost to `executor`, held as its pending work. Returns the refund.
	pub(crate) fn take_cost(
		request: &RequestOf<T>,
		executor: &T::AccountId,
		cost: u128,
	) -> Result<u128, DispatchError> {
		let refund = request.escrow.saturating_sub(cost);
		let escrow = HoldReason::Escrow.into();
		Funds::<T>::release(&escrow, &request.developer, refund, Precision::Exact)?;
		Funds::<T>::transfer_on_hold(
			&escrow,
			&request.developer,
			executor,
			cost,
			Precision::Exact,
			Restriction::Free,
			Fortitude::Force,
		)?;
		Funds::<T>::hold(&HoldReason::WorkBalance.into(), executor, cost)?;
		Ok(refund)
	}

	/// An expired request's escrow, released to its developer in full. Returns the refund.
	pub(crate) fn refund_escrow(request: &RequestOf<T>) -> u128 {
		Funds::<T>::release(
			&HoldReason::Escrow.into(),
			&request.developer,
			request.escrow,
			Precision::BestEffort,
		)
		.unwrap_or_else(|_| {
			defensive!("a request's escrow is held until it closes");
			0
		})
	}

	/// An invalidated request's cost, moved from the executor's pending work back to the
	/// developer. Returns the refund.
	pub(crate) fn refund_cost(request: &RequestOf<T>) -> u128 {
		// The work of an epoch already settled was paid out: nothing to take back
		// (windows are far shorter than the ledger's epochs, so this is defensive).
		let Some(finish) = request.finish else {
			return 0;
		};
		Self::move_work(&request.executor, finish.epoch, finish.cost, &request.developer)
	}

	/// Moves up to `amount` of `host`'s pending work of `epoch` to `to`'s free balance:
	/// nothing once the epoch is settled (its work was paid out), at most what is pending;
	/// to `ForfeitTo` if `to` cannot receive it. Returns what reached `to`.
	pub(crate) fn move_work(
		host: &T::AccountId,
		epoch: EpochIndex,
		amount: u128,
		to: &T::AccountId,
	) -> u128 {
		if epoch < UnsettledEpoch::<T>::get() || amount == 0 {
			return 0;
		}
		let pending = Ledger::<T>::get(epoch, host).pending_work;
		let take = |to: &T::AccountId| {
			Funds::<T>::transfer_on_hold(
				&HoldReason::WorkBalance.into(),
				host,
				to,
				amount.min(pending),
				Precision::BestEffort,
				Restriction::Free,
				Fortitude::Force,
			)
		};
		// An account that cannot receive it (gone, and the amount below the existential
		// deposit): the amount is forfeited to `ForfeitTo`, never left with the host.
		let (moved, taken) = match take(to) {
			Ok(moved) => (moved, moved),
			Err(_) => (
				0,
				take(&T::ForfeitTo::get()).unwrap_or_else(|_| {
					defensive!("an unsettled epoch's pending work is held on its host");
					0
				}),
			),
		};
		Ledger::<T>::mutate(epoch, host, |stats| {
			stats.pending_work = stats.pending_work.saturating_sub(taken)
		});
		moved
	}

	/// Settles the reports of a validated request: the validators' share of its cost goes
	/// to the passing reports among the first `MaxPaidValidators` in storage, and, if its
	/// vote `rejected` the failing ones, each failing report among them costs its sender
	/// ([`Self::charge_reporter`]). Returns the reports read.
	pub(crate) fn settle_reports(id: RequestId, request: &RequestOf<T>, rejected: bool) -> u32 {
		let Some(finish) = request.finish.filter(|finish| finish.passes > 0 || rejected) else {
			return 0;
		};
		let (passing, failing, read) = Self::read_reports(id, request.validation_threshold);
		Self::share_fee(id, request, &finish, passing);
		if rejected {
			for reporter in failing {
				Self::charge_reporter(id, &finish, reporter);
			}
		}
		read
	}

	/// Pays the validators' share of a validated request's cost to the `passing`
	/// validators in equal parts (rounded down; the rest stays with the executor), moved on
	/// hold from the executor's pending work to theirs in the ledger of the request's
	/// epoch. Nothing once that epoch is settled (windows are far shorter than the ledger's
	/// epochs: defensive). A part that cannot be moved (a validator account that cannot
	/// receive it) stays with the executor.
	fn share_fee(
		id: RequestId,
		request: &RequestOf<T>,
		finish: &FinishRecordOf<T>,
		passing: Vec<T::AccountId>,
	) {
		let share = Params::<T>::get().validator_share.mul_floor(finish.cost);
		if share == 0 || passing.is_empty() || finish.epoch < UnsettledEpoch::<T>::get() {
			return;
		}
		let count = u128::try_from(passing.len()).unwrap_or(u128::MAX);
		let part = share.checked_div(count).unwrap_or(0);
		if part == 0 {
			return;
		}
		let mut moved = 0u128;
		for validator in passing {
			moved = moved.saturating_add(Self::pay_validator(id, request, finish, validator, part));
		}
		if moved > 0 {
			Ledger::<T>::mutate(finish.epoch, &request.executor, |stats| {
				stats.pending_work = stats.pending_work.saturating_sub(moved)
			});
		}
	}

	/// The validators whose reports on request `id` reach `threshold` and those whose
	/// reports do not, among the first `MaxPaidValidators` reports in storage, and the
	/// number of reports read.
	fn read_reports(
		id: RequestId,
		threshold: Perbill,
	) -> (Vec<T::AccountId>, Vec<T::AccountId>, u32) {
		let limit = T::MaxPaidValidators::get();
		let mut read = 0u32;
		let (mut passing, mut failing) = (Vec::new(), Vec::new());
		for (validator, similarity) in Reports::<T>::iter_prefix(id) {
			if read >= limit {
				break;
			}
			read = read.saturating_add(1);
			if similarity >= threshold {
				passing.push(validator);
			} else {
				failing.push(validator);
			}
		}
		(passing, failing, read)
	}

	/// A failing report on a validated request that its vote rejected costs `reporter`: a
	/// miss on its reputation in the epoch in progress (more of its own results are
	/// checked), and a fine of the request's cost, at most its pending work of the
	/// request's epoch (none without work in that epoch, or once it is settled), on that
	/// pending work. The fine is taken when the epoch settles (`settlement.rs`), from what
	/// is left then: until then the pending work still backs the reporter's own results
	/// (refunds, validators' shares). The vote the report opened made every host re-check.
	fn charge_reporter(id: RequestId, finish: &FinishRecordOf<T>, reporter: T::AccountId) {
		let fine = Self::fine_reporter(&reporter, finish.epoch, finish.cost, true);
		Self::deposit_event(Event::ReportRejected {
			request: id,
			reporter,
			epoch: finish.epoch,
			fine,
		});
	}

	/// A rejected failure report's cost to `reporter`: a miss on its reputation in the
	/// epoch in progress if `miss`, and a fine of up to `amount`, at most its pending work
	/// of `epoch` (none without work in that epoch, or once it is settled), noted in
	/// `Fines` and taken when the epoch settles. Returns the fine.
	pub(crate) fn fine_reporter(
		reporter: &T::AccountId,
		epoch: EpochIndex,
		amount: u128,
		miss: bool,
	) -> u128 {
		if miss {
			let now = pallet_poc::Pallet::<T>::epoch_now();
			Self::note_activity(reporter, now, |state| {
				state.misses = state.misses.saturating_add(1)
			});
		}
		let mut fine = 0;
		if epoch >= UnsettledEpoch::<T>::get() {
			if let Ok(stats) = Ledger::<T>::try_get(epoch, reporter) {
				// What the fines noted already leave of the pending work.
				let left = stats.pending_work.saturating_sub(Fines::<T>::get(epoch, reporter));
				fine = amount.min(left);
			}
		}
		if fine > 0 {
			Fines::<T>::mutate(epoch, reporter, |fines| *fines = fines.saturating_add(fine));
		}
		fine
	}

	/// Moves `part` of request `id`'s cost on hold from its executor to `validator`, into
	/// the validator's pending work of the request's epoch. Returns the amount moved
	/// (nothing if the validator's account cannot receive it).
	fn pay_validator(
		id: RequestId,
		request: &RequestOf<T>,
		finish: &FinishRecordOf<T>,
		validator: T::AccountId,
		part: u128,
	) -> u128 {
		let Ok(amount) = Funds::<T>::transfer_on_hold(
			&HoldReason::WorkBalance.into(),
			&request.executor,
			&validator,
			part,
			Precision::Exact,
			Restriction::OnHold,
			Fortitude::Force,
		) else {
			return 0;
		};
		Ledger::<T>::mutate(finish.epoch, &validator, |stats| {
			stats.pending_work = stats.pending_work.saturating_add(amount)
		});
		Self::deposit_event(Event::ValidatorPaid {
			request: id,
			validator,
			epoch: finish.epoch,
			amount,
		});
		amount
	}
}

impl<T: Config> WorkLedger<T::AccountId> for Pallet<T> {
	fn credit_work(executor: &T::AccountId, amount: u128) -> DispatchResult {
		if amount == 0 {
			return Ok(());
		}
		Funds::<T>::hold(&HoldReason::WorkBalance.into(), executor, amount)?;
		// No activity noted: a settlement is no validated work yet, and must not build the
		// host's reputation (the channels' samples will feed its invalidation test).
		let epoch = pallet_poc::Pallet::<T>::epoch_now();
		Ledger::<T>::mutate(epoch, executor, |stats| {
			stats.pending_work = stats.pending_work.saturating_add(amount)
		});
		Ok(())
	}

	fn validator_share() -> Perbill {
		Params::<T>::get().validator_share
	}

	fn target_of(executor: &T::AccountId, traffic: u32) -> Perbill {
		let epoch = pallet_poc::Pallet::<T>::epoch_now();
		let served = Ledger::<T>::get(epoch, executor).finished.saturating_add(traffic);
		let reputation = Self::reputation_at(executor, epoch);
		rules::validation_target(rules::reputation(reputation.clean_epochs), u64::from(served))
	}

	fn note_traffic(executor: &T::AccountId, traffic: u32) {
		if traffic == 0 {
			return;
		}
		let epoch = pallet_poc::Pallet::<T>::epoch_now();
		Ledger::<T>::mutate(epoch, executor, |stats| {
			stats.finished = stats.finished.saturating_add(traffic)
		});
	}

	fn judge_many(executor: &T::AccountId, epoch: EpochIndex, passes: u32, invalidations: u32) {
		// The settlement's epoch (amendment 12), unless its ledger is settled already.
		let epoch = if epoch >= UnsettledEpoch::<T>::get() {
			epoch
		} else {
			pallet_poc::Pallet::<T>::epoch_now()
		};
		if passes > 0 || invalidations > 0 {
			// Validated work builds the host's reputation, as a finished request does.
			Self::note_activity(executor, epoch, |_| {});
		}
		Self::judge_in(executor, epoch, passes, invalidations);
	}

	fn take_work(
		executor: &T::AccountId,
		epoch: EpochIndex,
		amount: u128,
		to: &T::AccountId,
	) -> u128 {
		Self::move_work(executor, epoch, amount, to)
	}

	fn fine(reporter: &T::AccountId, epoch: EpochIndex, amount: u128) -> u128 {
		Self::fine_reporter(reporter, epoch, amount, true)
	}

	fn take_back(host: &T::AccountId, epoch: EpochIndex, amount: u128) -> u128 {
		Self::fine_reporter(host, epoch, amount, false)
	}

	fn note_duties(validator: &T::AccountId, done: u32, missed: u32) {
		if done == 0 && missed == 0 {
			return;
		}
		Self::record_duties(pallet_poc::Pallet::<T>::epoch_now(), validator, done, missed);
	}
}
