//! What runs every block: the timer queues (`protocol.md`, "Inference" 1, 3, 5) and, after
//! them, a batch of the ledger's settlement (`settlement.rs`) and one step of the pruning
//! of departed hosts' reputations (`status.rs`). Each kind of deadline has
//! its own FIFO queue ([`Timer`]), sorted because a deadline is its event's block plus one
//! parameter; due timers are served while the block's `TimerBudget` lasts. A draw timer
//! draws a queued request's executor (`assignment.rs`), an assignment
//! timer (paid from the request's timer deposit) reassigns or expires a request its
//! executor did not finish in time, a validation
//! timer closes a finished request when its window ends, a vote timer ends a vote, and a
//! prune timer removes a closed request's payloads in batches.

use super::*;
use gonka_primitives::inference::RequestId;
use polkadot_sdk::{
	frame_support::pallet_prelude::*, frame_system::pallet_prelude::BlockNumberFor,
	sp_runtime::traits::Saturating,
};

impl<T: Config> Pallet<T> {
	/// `on_initialize`: the due timers, then a batch of an old epoch's settlement, then one
	/// reputation looked at for pruning; returns the weight used.
	pub(crate) fn do_tick(now: BlockNumberFor<T>) -> Weight {
		Weights::<T>::on_initialize_idle()
			.saturating_add(Self::serve_timers(now))
			.saturating_add(Self::settle_old_epoch())
			.saturating_add(Self::prune_departed_reputation())
	}

	/// Appends a timer to its queue.
	pub(crate) fn schedule(timer: Timer, deadline: BlockNumberFor<T>, id: RequestId, attempt: u32) {
		Queues::<T>::mutate(timer, |queue| {
			Timers::<T>::insert(timer, queue.tail, (deadline, id, attempt));
			queue.tail = queue.tail.saturating_add(1);
		});
	}

	/// Serves due timers of every queue, in the order of [`Timer::ALL`], while the
	/// block's `TimerBudget` lasts; returns the weight used. Each queue leaves room for
	/// one timer, at its worst case, of every queue served after it: a backlog in one
	/// queue (draws, served first) never starves the others, and every queue with a due
	/// timer serves at least one a block.
	pub(crate) fn serve_timers(now: BlockNumberFor<T>) -> Weight {
		let budget = T::TimerBudget::get();
		let mut used = Weight::zero();
		for (position, timer) in Timer::ALL.into_iter().enumerate() {
			let later = Timer::ALL.get(position.saturating_add(1)..).unwrap_or_default();
			let reserve = later.iter().fold(Weight::zero(), |reserve, later| {
				reserve.saturating_add(Self::timer_weight(*later))
			});
			Self::serve_queue(timer, now, budget.saturating_sub(reserve), &mut used);
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
		while head < Queues::<T>::get(timer).tail && used.saturating_add(worst).all_lte(budget) {
			let Some((deadline, id, attempt)) = Timers::<T>::get(timer, head) else {
				defensive!("a queue's entries between head and tail exist");
				head = head.saturating_add(1);
				continue;
			};
			if deadline > now {
				break;
			}
			let room = budget.saturating_sub(*used);
			let (weight, done) = Self::fire(timer, id, attempt, now, room);
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

	/// Fires one timer within `room` (a prune removes what fits in it); returns its weight
	/// and whether it is done. A timer whose request has moved on (finished, reassigned,
	/// closed, pruned) is skipped.
	pub(crate) fn fire(
		timer: Timer,
		id: RequestId,
		attempt: u32,
		now: BlockNumberFor<T>,
		room: Weight,
	) -> (Weight, bool) {
		let Some(request) = Requests::<T>::get(id) else {
			return Self::skipped();
		};
		match timer {
			Timer::Draw => Self::fire_draw(id, request, now),
			Timer::Assignment => Self::fire_assignment(id, request, attempt, now),
			Timer::Validation => Self::fire_validation(id, request, now),
			Timer::Vote => Self::fire_vote(id, request, now),
			Timer::Prune => Self::fire_prune(id, &request, room),
		}
	}

	/// A skipped timer's weight; it is done.
	fn skipped() -> (Weight, bool) {
		(Weights::<T>::timer_skip(), true)
	}

	/// A queued request's executor is drawn (`assignment.rs`).
	fn fire_draw(
		id: RequestId,
		mut request: RequestOf<T>,
		now: BlockNumberFor<T>,
	) -> (Weight, bool) {
		if request.status != RequestStatus::Queued {
			return Self::skipped();
		}
		let (draws, expired) = Self::draw_queued(id, &mut request, now);
		Requests::<T>::insert(id, request);
		let weight = Weights::<T>::timer_draw(draws);
		if expired {
			// A draw that found no host paid a timer fee; one too late drew nothing.
			let charged = if draws > 0 { Self::timer_charge_weight() } else { Weight::zero() };
			return (
				weight.saturating_add(Weights::<T>::timer_expiry()).saturating_add(charged),
				true,
			);
		}
		(weight, true)
	}

	/// The executor's time to finish assignment `attempt` is over: a miss, then the
	/// request goes to another host, or is refunded if it has reached its expiration.
	fn fire_assignment(
		id: RequestId,
		mut request: RequestOf<T>,
		attempt: u32,
		now: BlockNumberFor<T>,
	) -> (Weight, bool) {
		if request.status != RequestStatus::Assigned || request.attempt != attempt {
			return Self::skipped();
		}
		let rules = Params::<T>::get();
		let expiry = request.created.saturating_add(rules.expiration);
		// Either way the executor had its full time (no assignment is made with less time
		// than `refusal_timeout` before the expiration): a miss, and the timer's fee from
		// the request's deposit. A deposit that cannot pay another timer (governance
		// shortened the refusal timeout since the request was made) expires the request
		// now, and so does an expiration too close for another executor's full time.
		Self::record_miss(id, &request.executor);
		let paid_ahead = Self::charge_timer(id, &mut request);
		let charged = Self::timer_charge_weight();
		let cut_short = now >= expiry || now.saturating_add(rules.refusal_timeout) > expiry;
		if cut_short || !paid_ahead {
			Self::close(id, &mut request, Outcome::Expired, now);
			Requests::<T>::insert(id, request);
			return (Weights::<T>::timer_expiry().saturating_add(charged), true);
		}
		Self::reassign(id, &mut request, now);
		Requests::<T>::insert(id, request);
		(Weights::<T>::timer_refusal().saturating_add(charged), true)
	}

	/// The validation window is over: a request with a passing report closes Validated,
	/// one without any Unchecked.
	fn fire_validation(
		id: RequestId,
		mut request: RequestOf<T>,
		now: BlockNumberFor<T>,
	) -> (Weight, bool) {
		if request.status != RequestStatus::Finished {
			return Self::skipped();
		}
		let passed = request.finish.is_some_and(|finish| finish.passes > 0);
		let outcome = if passed { Outcome::Validated } else { Outcome::Unchecked };
		let read = Self::close(id, &mut request, outcome, now);
		Requests::<T>::insert(id, request);
		let paid = Self::paid_weight(read);
		(Weights::<T>::timer_validation().saturating_add(paid), true)
	}

	/// The vote window is over: the vote closes with its outcome at the end.
	fn fire_vote(
		id: RequestId,
		mut request: RequestOf<T>,
		now: BlockNumberFor<T>,
	) -> (Weight, bool) {
		if request.status != RequestStatus::Voting {
			return Self::skipped();
		}
		let outcome = Self::vote_outcome_at_end(&request);
		let read = Self::close(id, &mut request, outcome, now);
		Requests::<T>::insert(id, request);
		let paid = Self::paid_weight(read);
		(Weights::<T>::timer_vote().saturating_add(paid), true)
	}

	/// The retention window is over: removes up to `PruneBatch` of the request's reports,
	/// votes and missed validations (fewer if they do not fit in `room`, at least one), and
	/// once none is left the request and its payloads (releasing its power snapshot). Not
	/// done while some are left.
	fn fire_prune(id: RequestId, request: &RequestOf<T>, room: Weight) -> (Weight, bool) {
		let batch = Self::prune_batch(room);
		let reports = Reports::<T>::clear_prefix(id, batch, None);
		let left = batch.saturating_sub(reports.backend);
		let votes = Votes::<T>::clear_prefix(id, left, None);
		let left = left.saturating_sub(votes.backend);
		let missed = Missed::<T>::clear_prefix(id, left, None);
		let removed = reports.unique.saturating_add(votes.unique).saturating_add(missed.unique);
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
