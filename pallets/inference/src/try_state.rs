//! The pallet's invariants, checked by `try-runtime`, after every block of the tests and at
//! the end of every test.

use super::*;
use alloc::collections::BTreeMap;
use gonka_primitives::EpochIndex;
use polkadot_sdk::{
	frame_support::{ensure, traits::fungible::InspectHold},
	sp_runtime::TryRuntimeError,
};

/// Sums per account.
type Sums<AccountId> = BTreeMap<AccountId, u128>;

impl<T: Config> Pallet<T> {
	/// The pallet's invariants, checked in this order:
	///
	/// - a request in a vote has a tally;
	/// - a queued request has had no assignment and no result;
	/// - a request past `Queued` and `Assigned` has its finish record, unless it expired;
	/// - the escrow held on each developer equals its open requests' escrows;
	/// - each epoch's assignment and miss totals are the sums of its ledger (but the epoch
	///   being settled, which has lost some of its records already);
	/// - the work balance held on each host equals its pending work over the unsettled
	///   epochs;
	/// - no escrow is held on a request's developer or executor without an open request;
	/// - no work balance is held on them without a ledger entry;
	/// - every fine is on a ledger entry of an unsettled epoch;
	/// - an open request's escrow covers at least its tokens' escrow (the timer deposit
	///   only is spent before it finishes);
	/// - no timer queue's head is past its tail;
	/// - every timer between a queue's head and tail exists;
	/// - every queued request has a pending draw.
	pub fn do_try_state() -> Result<(), TryRuntimeError> {
		let escrows = Self::try_requests()?;
		Self::try_escrows(&escrows)?;
		let work = Self::try_ledger()?;
		Self::try_no_stray_holds(&escrows, &work)?;
		Self::try_fines()?;
		Self::try_timers()
	}

	/// Every request's status agrees with its records; returns the open requests' escrows
	/// by developer.
	fn try_requests() -> Result<Sums<T::AccountId>, TryRuntimeError> {
		let mut escrows = Sums::new();
		for (_, request) in Requests::<T>::iter() {
			let unfinished =
				matches!(request.status, RequestStatus::Queued | RequestStatus::Assigned);
			if unfinished {
				let sum = escrows.entry(request.developer.clone()).or_default();
				*sum = sum.saturating_add(request.escrow);
				ensure!(
					Self::tokens_escrow(&request).is_some_and(|tokens| tokens <= request.escrow),
					"an open request's escrow covers its tokens"
				);
			}
			if request.status == RequestStatus::Voting {
				ensure!(request.vote.is_some(), "a request in a vote has a tally");
			}
			if request.status == RequestStatus::Queued {
				ensure!(
					request.attempt == 0 && request.finish.is_none(),
					"a queued request has had no assignment and no result"
				);
			}
			if !unfinished {
				let expired = request.status == RequestStatus::Closed(Outcome::Expired);
				ensure!(expired || request.finish.is_some(), "a finished request has its record");
			}
		}
		Ok(escrows)
	}

	/// The escrow held on each developer is its open requests' escrows.
	fn try_escrows(escrows: &Sums<T::AccountId>) -> Result<(), TryRuntimeError> {
		let escrow_reason = HoldReason::Escrow.into();
		for (developer, sum) in escrows {
			ensure!(
				Funds::<T>::balance_on_hold(&escrow_reason, developer) == *sum,
				"held escrow equals the open requests' escrows"
			);
		}
		Ok(())
	}

	/// Each epoch's totals are the sums of its ledger, and the work balance held on each
	/// host is its pending work; returns that pending work by host.
	fn try_ledger() -> Result<Sums<T::AccountId>, TryRuntimeError> {
		let mut work = Sums::new();
		let mut totals: BTreeMap<EpochIndex, DutyTotals> = BTreeMap::new();
		for (epoch, host, stats) in Ledger::<T>::iter() {
			let sum = work.entry(host).or_default();
			*sum = sum.saturating_add(stats.pending_work);
			let total = totals.entry(epoch).or_default();
			total.assigned = total.assigned.saturating_add(u64::from(stats.duties()));
			total.missed = total.missed.saturating_add(u64::from(stats.duties_missed()));
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
		Ok(work)
	}

	/// No escrow or work balance is held on a request's developer or executor without an
	/// open request or a ledger entry.
	fn try_no_stray_holds(
		escrows: &Sums<T::AccountId>,
		work: &Sums<T::AccountId>,
	) -> Result<(), TryRuntimeError> {
		let escrow_reason = HoldReason::Escrow.into();
		let work_reason = HoldReason::WorkBalance.into();
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
		Ok(())
	}

	/// Every fine is on a ledger entry of an unsettled epoch.
	fn try_fines() -> Result<(), TryRuntimeError> {
		let unsettled = UnsettledEpoch::<T>::get();
		for (epoch, host, _) in Fines::<T>::iter() {
			ensure!(
				epoch >= unsettled && Ledger::<T>::contains_key(epoch, &host),
				"a fine is on a ledger entry of an unsettled epoch"
			);
		}
		Ok(())
	}

	/// Every pending timer exists, and every queued request has a pending draw.
	fn try_timers() -> Result<(), TryRuntimeError> {
		let mut draws = alloc::collections::BTreeSet::new();
		for timer in Timer::ALL {
			let queue = Queues::<T>::get(timer);
			ensure!(queue.head <= queue.tail, "a queue's head is not past its tail");
			for position in queue.head..queue.tail {
				let pending = Timers::<T>::get(timer, position);
				ensure!(pending.is_some(), "a pending timer exists");
				if let (Timer::Draw, Some((_, id, _))) = (timer, pending) {
					draws.insert(id);
				}
			}
		}
		for (id, request) in Requests::<T>::iter() {
			if request.status == RequestStatus::Queued {
				ensure!(draws.contains(&id), "a queued request has a pending draw");
			}
		}
		Ok(())
	}
}
