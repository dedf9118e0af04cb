//! A host's standing (`protocol.md`, "Inference" 3, 5, 7): its per-epoch ledger
//! (assignments, misses, finished and validated requests, validations), the epoch's
//! network totals (the downtime test's miss rate), the invalidation test (SPRT) that marks
//! it INVALID for the epoch, and its reputation from clean epochs, which sets the
//! validation target of its results (pruned once the host has left: one host looked at per
//! block, round robin).

use super::*;
use gonka_primitives::{
	inference::{self as rules, RequestId},
	EpochIndex,
};
use polkadot_sdk::{
	frame_support::{defensive, pallet_prelude::Weight, traits::Get},
	frame_system,
	sp_runtime::Perbill,
};

impl<T: Config> Pallet<T> {
	/// A request was assigned to `host` in `epoch`.
	pub(crate) fn record_assignment(epoch: EpochIndex, host: &T::AccountId) {
		Ledger::<T>::mutate(epoch, host, |stats| stats.assigned = stats.assigned.saturating_add(1));
		EpochTotals::<T>::mutate(epoch, |totals| {
			totals.assigned = totals.assigned.saturating_add(1)
		});
	}

	/// `validator`, sampled to validate a request, reported in `epoch`: a duty done.
	pub(crate) fn record_validation(epoch: EpochIndex, validator: &T::AccountId) {
		Ledger::<T>::mutate(epoch, validator, |stats| {
			stats.validations = stats.validations.saturating_add(1)
		});
		EpochTotals::<T>::mutate(epoch, |totals| {
			totals.assigned = totals.assigned.saturating_add(1)
		});
	}

	/// `validator`, a sampled validator of channel settlements, answered `done` samples and
	/// left `missed` unanswered (shown by reports), noted in `epoch`: duties done and
	/// missed, as [`Self::record_validation`] and [`Self::record_missed_validation`] count
	/// them, in one write of each.
	pub(crate) fn record_duties(
		epoch: EpochIndex,
		validator: &T::AccountId,
		done: u32,
		missed: u32,
	) {
		Ledger::<T>::mutate(epoch, validator, |stats| {
			stats.validations = stats.validations.saturating_add(done);
			stats.missed_validations = stats.missed_validations.saturating_add(missed);
		});
		EpochTotals::<T>::mutate(epoch, |totals| {
			totals.assigned =
				totals.assigned.saturating_add(u64::from(done).saturating_add(u64::from(missed)));
			totals.missed = totals.missed.saturating_add(u64::from(missed));
		});
	}

	/// `validator`, sampled to validate a request finished in `epoch`, did not report in
	/// time: a duty missed, which the downtime test counts as a missed request.
	pub(crate) fn record_missed_validation(epoch: EpochIndex, validator: &T::AccountId) {
		Ledger::<T>::mutate(epoch, validator, |stats| {
			stats.missed_validations = stats.missed_validations.saturating_add(1)
		});
		EpochTotals::<T>::mutate(epoch, |totals| {
			totals.assigned = totals.assigned.saturating_add(1);
			totals.missed = totals.missed.saturating_add(1);
		});
	}

	/// An executor did not finish an assigned request in time.
	pub(crate) fn record_miss(id: RequestId, host: &T::AccountId) {
		let epoch = pallet_poc::Pallet::<T>::epoch_now();
		Ledger::<T>::mutate(epoch, host, |stats| stats.missed = stats.missed.saturating_add(1));
		EpochTotals::<T>::mutate(epoch, |totals| totals.missed = totals.missed.saturating_add(1));
		Self::note_activity(host, epoch, |state| state.misses = state.misses.saturating_add(1));
		Self::deposit_event(Event::Missed { host: host.clone(), request: id, epoch });
	}

	/// `executor` finished a request costing `cost` in `epoch`: its ledger counts it and
	/// its pending work. Returns the validation target of the result, from the executor's
	/// reputation and the requests it finished in the epoch.
	pub(crate) fn note_finished(executor: &T::AccountId, epoch: EpochIndex, cost: u128) -> Perbill {
		let reputation = Self::note_activity(executor, epoch, |_| {});
		let served = Ledger::<T>::mutate(epoch, executor, |stats| {
			stats.finished = stats.finished.saturating_add(1);
			stats.pending_work = stats.pending_work.saturating_add(cost);
			stats.finished
		});
		rules::validation_target(rules::reputation(reputation.clean_epochs), u64::from(served))
	}

	/// One more validation outcome for `executor` in the epoch in progress: a step of
	/// the invalidation test, and INVALID when it crosses the boundary.
	pub(crate) fn judge(executor: &T::AccountId, invalidated: bool) {
		let epoch = pallet_poc::Pallet::<T>::epoch_now();
		Self::judge_in(executor, epoch, u32::from(!invalidated), u32::from(invalidated));
	}

	/// `passes` validated and then `invalidations` invalidated outcomes for `executor` in
	/// `epoch`'s ledger: steps of the invalidation test, and INVALID when it crosses the
	/// boundary.
	pub(crate) fn judge_in(
		executor: &T::AccountId,
		epoch: EpochIndex,
		passes: u32,
		invalidations: u32,
	) {
		if passes == 0 && invalidations == 0 {
			return;
		}
		let Some(sprt) = Params::<T>::get().sprt.sprt() else {
			defensive!("set_params refuses parameters that define no test");
			return;
		};
		let marked = Ledger::<T>::mutate(epoch, executor, |stats| {
			stats.validated = stats.validated.saturating_add(passes);
			stats.invalidated = stats.invalidated.saturating_add(invalidations);
			let mut newly = false;
			let steps = core::iter::repeat_n(false, passes as usize)
				.chain(core::iter::repeat_n(true, invalidations as usize));
			for invalidated in steps {
				stats.llr = sprt.step(stats.llr, invalidated);
				newly |= !stats.invalid && sprt.is_invalid(stats.llr);
			}
			stats.invalid |= newly;
			newly
		});
		if marked {
			Self::note_activity(executor, epoch, |state| state.invalid = true);
			Self::deposit_event(Event::HostInvalid { host: executor.clone(), epoch });
			// INVALID means no power: none until the next weight formation.
			pallet_poc::Pallet::<T>::revoke_power(executor);
		}
	}

	/// Records that `host` had work in `epoch` (its earlier active epoch folded into the
	/// clean count first), applies `change`, and returns the new state.
	pub(crate) fn note_activity(
		host: &T::AccountId,
		epoch: EpochIndex,
		change: impl FnOnce(&mut ReputationState),
	) -> ReputationState {
		Reputations::<T>::mutate(host, |state| {
			*state = state.at(epoch);
			state.active = true;
			change(state);
			*state
		})
	}

	/// The hook's pruning of departed hosts' reputations: looks at the host after the one
	/// looked at last in `Reputations` (the first after the final one) and deletes its
	/// reputation if it is no longer a registered host. Should it register again it starts
	/// with none, the reputation whose results are checked most, so leaving gains nothing;
	/// an outcome recorded after it left (a request it finished before) writes an entry
	/// again, which a later round deletes. Returns the weight used (reads and writes,
	/// charged by hand: the hook's benchmark does not include it).
	pub(crate) fn prune_departed_reputation() -> Weight {
		let db = <T as frame_system::Config>::DbWeight::get();
		let after = ReputationCursor::<T>::get();
		let next = after
			.and_then(|host| {
				Reputations::<T>::iter_keys_from(Reputations::<T>::hashed_key_for(&host)).next()
			})
			.or_else(|| Reputations::<T>::iter_keys().next());
		// The cursor, at most two steps of the iteration, the host's registration; the
		// cursor's write. The proof: an account key each, a reputation and a host record.
		let looked = db.reads_writes(4, 1).saturating_add(Weight::from_parts(0, 2_048));
		let Some(host) = next else {
			ReputationCursor::<T>::kill();
			return looked;
		};
		ReputationCursor::<T>::put(&host);
		if pallet_poc::Hosts::<T>::contains_key(&host) {
			return looked;
		}
		Reputations::<T>::remove(&host);
		Self::deposit_event(Event::ReputationPruned { host });
		looked.saturating_add(db.writes(1))
	}

	/// `host`'s reputation state as of `epoch` (read only).
	pub fn reputation_at(host: &T::AccountId, epoch: EpochIndex) -> ReputationState {
		Reputations::<T>::get(host).at(epoch)
	}
}
