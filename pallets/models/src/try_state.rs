//! The pallet's invariants: the bounds the runtime's configuration must respect (checked
//! once by `integrity_test`) and the storage invariants `do_try_state` checks (after every
//! test, and by `try-runtime`).

use crate::*;
use polkadot_sdk::frame_support::traits::Get;
#[cfg(any(test, feature = "try-runtime"))]
use {
	alloc::vec::Vec,
	gonka_primitives::ModelId,
	polkadot_sdk::{frame_support::ensure, frame_system, sp_runtime::TryRuntimeError},
};

impl<T: Config> Pallet<T> {
	/// The configuration's bounds are positive: `MaxVoters`, `MaxProposals`,
	/// `MaxPendingChanges` and `MaxModels`.
	pub(crate) fn do_integrity_test() {
		assert!(T::MaxVoters::get() > 0 && T::MaxProposals::get() > 0);
		assert!(T::MaxPendingChanges::get() > 0 && T::MaxModels::get() > 0);
	}

	/// The pallet's invariants, checked in this order:
	///
	/// - governance is configured;
	/// - governance's parameters are valid;
	/// - the registry holds at most `MaxModels` models;
	/// - a model is scheduled at most once;
	/// - for every model in the registry:
	///   - its id is below `NextModelId`;
	///   - its record is valid;
	///   - a scheduled record is valid;
	///   - its pending change fits its status (a proposed model's is its approval, an
	///     approved model's is not an approval, a retired model has none);
	///   - it is scheduled iff it has a pending change;
	/// - at most `MaxProposals` proposals are open;
	/// - for every open proposal:
	///   - its index is below `ProposalCount`;
	///   - every voter has power in its snapshot;
	///   - its `votes` is the number of its votes;
	///   - its tally is the sum of its votes' power, or, once it is past its closing period
	///     (the expiry hook deletes its votes in batches), at least that sum in each kind;
	///   - no more power is cast than its snapshot's total;
	///   - no more hosts voted than its snapshot's voters;
	/// - every vote belongs to an open proposal.
	#[cfg(any(test, feature = "try-runtime"))]
	pub fn do_try_state() -> Result<(), TryRuntimeError> {
		Self::try_state_governance()?;
		Self::try_state_registry()?;
		Self::try_state_proposals()?;
		Self::try_state_votes()
	}

	/// Governance is configured, with valid parameters.
	#[cfg(any(test, feature = "try-runtime"))]
	fn try_state_governance() -> Result<(), TryRuntimeError> {
		let params = Governance::<T>::get().ok_or("governance is configured")?;
		Self::check_governance(&params).map_err(|_| "governance parameters are valid")?;
		Ok(())
	}

	/// The registry is bounded, the schedule has no duplicate, and every model is
	/// consistent with the next id and the schedule.
	#[cfg(any(test, feature = "try-runtime"))]
	fn try_state_registry() -> Result<(), TryRuntimeError> {
		ensure!(Registry::<T>::count() <= T::MaxModels::get(), "the registry is bounded");
		let next = NextModelId::<T>::get();
		let pending = PendingChanges::<T>::get();
		let mut scheduled: Vec<ModelId> = pending.to_vec();
		scheduled.sort_unstable();
		scheduled.dedup();
		ensure!(scheduled.len() == pending.len(), "a model is scheduled once");
		for (model, info) in Registry::<T>::iter() {
			Self::try_state_model(model, &info, next, &scheduled)?;
		}
		Ok(())
	}

	/// One model: its id, its records, its pending change against its status and the
	/// schedule (`scheduled`: the scheduled ids, sorted).
	#[cfg(any(test, feature = "try-runtime"))]
	fn try_state_model(
		model: ModelId,
		info: &ModelInfoOf<T>,
		next: ModelId,
		scheduled: &[ModelId],
	) -> Result<(), TryRuntimeError> {
		ensure!(model < next, "ids are below the next id");
		Self::check_record(&info.record).map_err(|_| "records are valid")?;
		if let Some(PendingChange::Update(record)) = &info.pending {
			Self::check_record(record).map_err(|_| "scheduled records are valid")?;
		}
		let consistent = match (info.status, &info.pending) {
			(ModelStatus::Proposed, pending) => matches!(pending, Some(PendingChange::Approve)),
			(ModelStatus::Approved, pending) => !matches!(pending, Some(PendingChange::Approve)),
			(ModelStatus::Retired, pending) => pending.is_none(),
		};
		ensure!(consistent, "a model's pending change fits its status");
		ensure!(
			info.pending.is_some() == scheduled.binary_search(&model).is_ok(),
			"exactly the models with a pending change are scheduled"
		);
		Ok(())
	}

	/// Proposals are bounded, and every open proposal's index, vote count and tally agree
	/// with its votes and its snapshot.
	#[cfg(any(test, feature = "try-runtime"))]
	fn try_state_proposals() -> Result<(), TryRuntimeError> {
		ensure!(Proposals::<T>::count() <= T::MaxProposals::get(), "proposals are bounded");
		let count = ProposalCount::<T>::get();
		for (index, proposal) in Proposals::<T>::iter() {
			ensure!(index < count, "indices are below the count");
			let mut tally = Tally::default();
			let mut votes = 0u32;
			for (voter, vote) in Votes::<T>::iter_prefix(index) {
				let power = T::Power::power_in(&proposal.snapshot, &voter);
				ensure!(power > 0, "voters have power in the snapshot");
				tally.count(vote, power, true);
				votes = votes.saturating_add(1);
			}
			ensure!(votes == proposal.votes, "the proposal counts its votes");
			let now = frame_system::Pallet::<T>::block_number();
			if Self::past_closing_period(&proposal, now) {
				ensure!(
					tally.aye <= proposal.tally.aye
						&& tally.nay <= proposal.tally.nay
						&& tally.veto <= proposal.tally.veto,
					"the votes left are within the tally"
				);
			} else {
				ensure!(tally == proposal.tally, "the tally is the sum of the votes");
			}
			ensure!(
				tally.cast() <= proposal.total_power,
				"no more power is cast than the snapshot's"
			);
			ensure!(votes <= proposal.voters, "no more hosts vote than the snapshot's");
		}
		Ok(())
	}

	/// Every vote belongs to an open proposal.
	#[cfg(any(test, feature = "try-runtime"))]
	fn try_state_votes() -> Result<(), TryRuntimeError> {
		for (index, _, _) in Votes::<T>::iter() {
			ensure!(Proposals::<T>::contains_key(index), "votes belong to open proposals");
		}
		Ok(())
	}
}
