//! The escrow and the pending work balance (`protocol.md`, "Inference" 1, 2, 5, 6): what
//! moves on hold when a request finishes (its cost from the developer's escrow to the
//! executor's pending work, the rest refunded), expires (the escrow refunded), is
//! invalidated (the cost back to the developer) or is validated (the validators' share
//! of the cost, from the executor's pending work to the validators whose reports passed).
//! Pending work is released or forfeited when its epoch settles (`settlement.rs`).

use super::*;
use alloc::vec::Vec;
use gonka_primitives::inference::RequestId;
use polkadot_sdk::{
	frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::MutateHold,
			tokens::{Fortitude, Precision, Restriction},
		},
	},
	sp_runtime::Perbill,
};

impl<T: Config> Pallet<T> {
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
			Fortitude::Polite,
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
		let unsettled = |finish: &FinishRecordOf<T>| finish.epoch >= UnsettledEpoch::<T>::get();
		let Some(finish) = request.finish.filter(unsettled) else {
			return 0;
		};
		let refund = Funds::<T>::transfer_on_hold(
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
		refund
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
		let (passing, read) = Self::passing_validators(id, request.validation_threshold);
		let count = u128::try_from(passing.len()).unwrap_or(u128::MAX);
		let part = share.checked_div(count).unwrap_or(0);
		if part == 0 {
			return read;
		}
		let mut moved = 0u128;
		for validator in passing {
			moved =
				moved.saturating_add(Self::pay_validator(id, request, &finish, validator, part));
		}
		if moved > 0 {
			Ledger::<T>::mutate(finish.epoch, &request.executor, |stats| {
				stats.pending_work = stats.pending_work.saturating_sub(moved)
			});
		}
		read
	}

	/// The validators whose reports on request `id` reach `threshold`, among the first
	/// `MaxPaidValidators` reports in storage, and the number of reports read.
	fn passing_validators(id: RequestId, threshold: Perbill) -> (Vec<T::AccountId>, u32) {
		let limit = T::MaxPaidValidators::get();
		let mut read = 0u32;
		let mut passing = Vec::new();
		for (validator, similarity) in Reports::<T>::iter_prefix(id) {
			if read >= limit {
				break;
			}
			read = read.saturating_add(1);
			if similarity >= threshold {
				passing.push(validator);
			}
		}
		(passing, read)
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
			Fortitude::Polite,
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
