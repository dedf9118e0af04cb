//! How a request closes (`protocol.md`, "Inference" 1, 5, 6): its [`Outcome`] decides
//! what moves (an expired request's escrow refunded, an invalidated one's cost taken back
//! from the executor's pending work, a validated one's validators' share paid: `fees.rs`)
//! and the step of the executor's invalidation test (`status.rs`); its payloads are pruned
//! after the retention window (`timers.rs`).

use super::*;
use gonka_primitives::inference::RequestId;
use polkadot_sdk::{frame_system::pallet_prelude::BlockNumberFor, sp_runtime::traits::Saturating};

impl<T: Config> Pallet<T> {
	/// Closes a request with `outcome`: refunds (expiry, invalidation), pays the
	/// validators' share and charges the failing reports its vote rejected (validated), updates the executor's invalidation test and
	/// schedules the payloads' pruning (the power snapshot stays held until then, so
	/// missing validators can still be shown). The caller stores the request. Returns the
	/// reports read to pay validators.
	pub(crate) fn close(
		id: RequestId,
		request: &mut RequestOf<T>,
		outcome: Outcome,
		now: BlockNumberFor<T>,
	) -> u32 {
		let (refund, read) = match outcome {
			Outcome::Expired => (Self::refund_escrow(request), 0),
			Outcome::Invalidated => {
				let refund = Self::refund_cost(request);
				Self::judge(&request.executor, true);
				(refund, 0)
			}
			Outcome::Validated => {
				let read = Self::settle_reports(id, request, Self::claim_rejected(request));
				Self::judge(&request.executor, false);
				(0, read)
			}
			Outcome::Unchecked => (0, 0),
		};
		request.status = RequestStatus::Closed(outcome);
		let retention = Params::<T>::get().retention;
		Self::schedule(Timer::Prune, now.saturating_add(retention), id, 0);
		Self::deposit_event(Event::RequestClosed { request: id, outcome, refund });
		read
	}
}
