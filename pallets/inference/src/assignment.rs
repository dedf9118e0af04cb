//! Who executes a request (`protocol.md`, "Inference" 1): the executor draw, in proportion
//! to PoC weight on the model, and the reassignment of a request whose executor did not
//! finish within `refusal_timeout` (its miss is recorded by `status.rs`).

use super::*;
use gonka_primitives::{
	inference::{self as rules, RequestId},
	ModelId,
};
use pallet_poc::Hosts;
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
	/// `model`, skipping hosts that left and `exclude`; `None` after [`MAX_DRAWS`]
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
			if Some(&host) != exclude && Hosts::<T>::contains_key(&host) {
				return (Some(host), made);
			}
			draw = gonka_primitives::hash(&draw);
		}
		(None, MAX_DRAWS)
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
