//! Who executes a request (`protocol.md`, "Inference" 1): the executor draw, in proportion
//! to PoC weight on the model, and the reassignment of a request whose executor did not
//! finish within `refusal_timeout` (its miss is recorded by `status.rs`).
//!
//! The first draw is not made by `request`: its randomness would be known to the developer
//! when signing (the parent hash, the next request id), who could submit only when the
//! draw falls on a host of its choice. The request is queued and drawn by a
//! [`Timer::Draw`] in a later block (the next one unless the timer budget is spent), from
//! `Config::Randomness` then: the hash of the including block or a later one, which no
//! transaction in that block could know (issue 21, hole 6).

use super::*;
use gonka_primitives::{
	inference::{self as rules, RequestId},
	ModelId,
};
use polkadot_sdk::{
	frame_support::traits::Randomness, frame_system::pallet_prelude::BlockNumberFor,
	sp_runtime::traits::Saturating,
};

/// How many times the executor draw is repeated when it lands on a host that left (or on
/// the host a request is being taken from) before the assignment fails.
pub const MAX_DRAWS: u32 = 8;

/// Domain of the randomness the executor draw asks the runtime for.
pub const RANDOMNESS_SUBJECT: &[u8] = b"gonka/inference/executor";

impl<T: Config> Pallet<T> {
	/// Draws request `id`'s executor on `attempt` among the hosts with PoC weight on
	/// `model`, skipping entries that no longer stand (the host left, dropped the model,
	/// or left and registered again: `pallet_poc::Pallet::stands`) and `exclude`; `None` after [`MAX_DRAWS`]
	/// draws without one. Returns the host and the number of draws made.
	pub(crate) fn draw_executor(
		model: ModelId,
		id: RequestId,
		attempt: u32,
		exclude: Option<&T::AccountId>,
	) -> (Option<T::AccountId>, u32) {
		let (randomness, _) = T::Randomness::random(RANDOMNESS_SUBJECT);
		let mut draw = rules::executor_draw(&randomness, id, attempt);
		for made in 1..=MAX_DRAWS {
			let Some(host) = pallet_poc::Pallet::<T>::pick_executor(model, &draw) else {
				return (None, made);
			};
			if Some(&host) != exclude && pallet_poc::Pallet::<T>::stands(&host, model) {
				return (Some(host), made);
			}
			draw = gonka_primitives::hash(&draw);
		}
		(None, MAX_DRAWS)
	}

	/// A queued request's draw: its executor is drawn, the assignment counted in its
	/// ledger and its time to finish (`refusal_timeout`) starts. A request whose draw comes
	/// too late for an executor's full time before its expiration (the timer budget was
	/// spent for that long, or governance shortened `expiration`) expires refunded in full,
	/// undrawn: no host is given work it could not be paid for, or less time than the rule
	/// that makes it a miss gives it. If no host can be drawn (every host of the model left since
	/// the formation) it expires, and the draws and the expiry, an assignment timer's work,
	/// are paid with one timer fee from its deposit. The caller stores the request.
	/// Returns the number of draws made and whether it expired.
	pub(crate) fn draw_queued(
		id: RequestId,
		request: &mut RequestOf<T>,
		now: BlockNumberFor<T>,
	) -> (u32, bool) {
		let rules = Params::<T>::get();
		let expiry = request.created.saturating_add(rules.expiration);
		if now.saturating_add(rules.refusal_timeout) > expiry {
			Self::close(id, request, Outcome::Expired, now);
			return (0, true);
		}
		let (drawn, draws) = Self::draw_executor(request.model, id, 0, None);
		let Some(executor) = drawn else {
			Self::charge_timer(id, request);
			Self::close(id, request, Outcome::Expired, now);
			return (draws, true);
		};
		Self::record_assignment(pallet_poc::Pallet::<T>::epoch_now(), &executor);
		request.executor = executor.clone();
		request.status = RequestStatus::Assigned;
		Self::schedule(Timer::Assignment, now.saturating_add(rules.refusal_timeout), id, 0);
		Self::deposit_event(Event::RequestAssigned { request: id, executor });
		(draws, false)
	}

	/// The executor did not finish in time (its miss is recorded): the request goes to
	/// another host, or expires now if there is none. The caller stores the request.
	pub(crate) fn reassign(id: RequestId, request: &mut RequestOf<T>, now: BlockNumberFor<T>) {
		let epoch = pallet_poc::Pallet::<T>::epoch_now();
		let from = request.executor.clone();
		let attempt = request.attempt.saturating_add(1);
		match Self::draw_executor(request.model, id, attempt, Some(&from)).0 {
			Some(to) => {
				Self::record_assignment(epoch, &to);
				request.executor = to.clone();
				request.attempt = attempt;
				let timeout = Params::<T>::get().refusal_timeout;
				Self::schedule(Timer::Assignment, now.saturating_add(timeout), id, attempt);
				Self::deposit_event(Event::RequestReassigned { request: id, from, to, attempt });
			}
			None => {
				Self::close(id, request, Outcome::Expired, now);
			}
		}
	}
}
