//! Invalidation votes (`protocol.md`, "Inference" 5): a failing validation report opens a
//! vote among the hosts with power in the request's snapshot; it closes as soon as more
//! than half of the power besides the executor's says invalid (Invalidated) or at least
//! half says valid (Validated), and at the end of its window without a majority it keeps
//! the result (Validated).

use super::*;
use gonka_primitives::{
	bounds::{is_at_least_half, is_majority},
	inference::RequestId,
};
use polkadot_sdk::{
	frame_support::defensive, frame_system::pallet_prelude::BlockNumberFor,
	sp_runtime::traits::Saturating,
};

impl<T: Config> Pallet<T> {
	/// A failing report by `by` opens request `id`'s invalidation vote at block `now` and
	/// schedules its end. The caller stores the request.
	pub(crate) fn open_vote(
		id: RequestId,
		request: &mut RequestOf<T>,
		by: &T::AccountId,
		now: BlockNumberFor<T>,
	) {
		request.status = RequestStatus::Voting;
		request.vote = Some(VoteTally { opened: now, ..Default::default() });
		let window = Params::<T>::get().vote_window;
		Self::schedule(Timer::Vote, now.saturating_add(window), id, 0);
		Self::deposit_event(Event::VoteOpened { request: id, by: by.clone() });
	}

	/// Adds `voter`'s vote to the request's tally and closes the vote once its outcome
	/// is certain: more than half of the power besides the executor's said invalid, or
	/// at least half said valid. The caller stores the request. Returns the reports read
	/// to pay validators.
	pub(crate) fn count_vote(
		id: RequestId,
		request: &mut RequestOf<T>,
		voter: &T::AccountId,
		invalid: bool,
		power: u128,
		now: BlockNumberFor<T>,
	) -> u32 {
		let (Some(finish), Some(mut tally)) = (request.finish, request.vote) else {
			defensive!("a vote is counted only on a finished request with a tally");
			return 0;
		};
		Votes::<T>::insert(id, voter, invalid);
		if invalid {
			tally.invalid = tally.invalid.saturating_add(power);
		} else {
			tally.valid = tally.valid.saturating_add(power);
		}
		request.vote = Some(tally);
		Self::deposit_event(Event::Voted { request: id, voter: voter.clone(), invalid, power });
		let eligible = finish.total_power.saturating_sub(finish.executor_power);
		if is_majority(tally.invalid, eligible) {
			Self::close(id, request, Outcome::Invalidated, now)
		} else if is_at_least_half(tally.valid, eligible) {
			Self::close(id, request, Outcome::Validated, now)
		} else {
			0
		}
	}

	/// Whether the request's vote rejected its failing reports: more than half of the power
	/// besides the executor's said valid. A vote that keeps the result with exactly half,
	/// or ends without a majority (too few hosts voted), rejects nothing: its reports cost
	/// nobody.
	pub(crate) fn claim_rejected(request: &RequestOf<T>) -> bool {
		let (Some(finish), Some(tally)) = (request.finish, request.vote) else {
			return false;
		};
		is_majority(tally.valid, finish.total_power.saturating_sub(finish.executor_power))
	}

	/// The outcome of a vote whose window ended: Invalidated if more than half of the
	/// power besides the executor's said invalid, otherwise Validated.
	pub(crate) fn vote_outcome_at_end(request: &RequestOf<T>) -> Outcome {
		let eligible = request
			.finish
			.map_or(0, |finish| finish.total_power.saturating_sub(finish.executor_power));
		let invalid = request.vote.map_or(0, |tally| tally.invalid);
		if is_majority(invalid, eligible) {
			Outcome::Invalidated
		} else {
			Outcome::Validated
		}
	}
}
