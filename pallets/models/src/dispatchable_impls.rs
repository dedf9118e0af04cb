//! What each call does once its origin is checked: the `do_*` functions the calls in
//! `lib.rs` delegate to, with every check of the call in order. The rules they apply
//! live in `registry.rs` (records, scheduling) and `governance.rs` (tally, dispatch,
//! deposit).

use crate::*;
use alloc::boxed::Box;
use codec::Encode;
use gonka_primitives::ModelId;
use polkadot_sdk::{
	frame_support::{
		dispatch::{DispatchResult, DispatchResultWithPostInfo},
		ensure,
		traits::{fungible::MutateHold, Get},
		weights::Weight,
		BoundedVec,
	},
	frame_system,
	sp_runtime::traits::Saturating,
};

impl<T: Config> Pallet<T> {
	/// `register_model`: checks the record and the registry's bound, schedules the
	/// model's approval and stores it as proposed under the next id.
	pub(crate) fn do_register_model(record: ModelRecordOf<T>) -> DispatchResult {
		Self::check_record(&record)?;
		ensure!(Registry::<T>::count() < T::MaxModels::get(), Error::<T>::TooManyModels);
		let model = NextModelId::<T>::get();
		Self::schedule(model)?;
		Registry::<T>::insert(
			model,
			ModelInfo {
				record,
				status: ModelStatus::Proposed,
				pending: Some(PendingChange::Approve),
			},
		);
		NextModelId::<T>::put(model.saturating_add(1));
		Self::deposit_event(Event::ModelRegistered { model });
		Ok(())
	}

	/// `update_model`: a proposed model's record is replaced at once; an approved model
	/// without a scheduled change gets the record scheduled for the next epoch start.
	pub(crate) fn do_update_model(model: ModelId, record: ModelRecordOf<T>) -> DispatchResult {
		Self::check_record(&record)?;
		let mut info = Self::entry(model)?;
		match info.status {
			ModelStatus::Retired => return Err(Error::<T>::ModelRetired.into()),
			ModelStatus::Proposed => {
				info.record = record;
				Registry::<T>::insert(model, info);
				Self::deposit_event(Event::ModelRecordReplaced { model });
			}
			ModelStatus::Approved => {
				ensure!(info.pending.is_none(), Error::<T>::ChangePending);
				Self::schedule(model)?;
				info.pending = Some(PendingChange::Update(record));
				Registry::<T>::insert(model, info);
				Self::deposit_event(Event::ModelUpdateScheduled { model });
			}
		}
		Ok(())
	}

	/// `retire_model`: a proposed model is retired at once (its approval unscheduled); an
	/// approved model's retirement replaces any scheduled update.
	pub(crate) fn do_retire_model(model: ModelId) -> DispatchResult {
		let mut info = Self::entry(model)?;
		match (info.status, &info.pending) {
			(ModelStatus::Retired, _) | (_, Some(PendingChange::Retire)) => {
				return Err(Error::<T>::ModelRetired.into())
			}
			(ModelStatus::Proposed, _) => {
				Self::unschedule(model);
				// A retired model's entry goes, and its registry slot is free again.
				Registry::<T>::remove(model);
				Self::deposit_event(Event::ModelRetired { model, epoch: None });
			}
			(ModelStatus::Approved, pending) => {
				if pending.is_none() {
					Self::schedule(model)?;
				}
				info.pending = Some(PendingChange::Retire);
				Registry::<T>::insert(model, info);
				Self::deposit_event(Event::ModelRetirementScheduled { model });
			}
		}
		Ok(())
	}

	/// `model`'s registry entry: `ModelRetired` for an id that was given out and is gone
	/// (ids are never reused), `UnknownModel` for one never given out.
	fn entry(model: ModelId) -> Result<ModelInfoOf<T>, Error<T>> {
		Registry::<T>::get(model).ok_or(if model < NextModelId::<T>::get() {
			Error::<T>::ModelRetired
		} else {
			Error::<T>::UnknownModel
		})
	}

	/// `set_governance_params`: checks and stores the new rules.
	pub(crate) fn do_set_governance_params(params: GovernanceParamsOf<T>) -> DispatchResult {
		Self::check_governance(&params)?;
		Governance::<T>::put(params);
		Self::deposit_event(Event::GovernanceParamsSet { params });
		Ok(())
	}

	/// `propose`: the proposer has voting power, the call fits, a proposal slot is free;
	/// holds the deposit, takes the snapshot and opens the proposal until the end of the
	/// voting period.
	pub(crate) fn do_propose(
		proposer: T::AccountId,
		call: Box<<T as Config>::RuntimeCall>,
	) -> DispatchResult {
		let params = Governance::<T>::get().ok_or(Error::<T>::GovernanceNotConfigured)?;
		ensure!(T::Power::power(&proposer) > 0, Error::<T>::NoVotingPower);
		let call: BoundedVec<u8, T::MaxCallLength> =
			call.encode().try_into().map_err(|_| Error::<T>::CallTooLong)?;
		ensure!(Proposals::<T>::count() < T::MaxProposals::get(), Error::<T>::TooManyProposals);
		let deposit = T::ProposalDeposit::get();
		T::Currency::hold(&HoldReason::ProposalDeposit.into(), &proposer, deposit)?;

		let index = ProposalCount::<T>::get();
		let (snapshot, total_power, voters) = T::Power::take_snapshot();
		let end = frame_system::Pallet::<T>::block_number().saturating_add(params.voting_period);
		Proposals::<T>::insert(
			index,
			Proposal {
				proposer: proposer.clone(),
				call,
				deposit,
				end,
				snapshot,
				total_power,
				voters,
				votes: 0,
				tally: Tally::default(),
			},
		);
		ProposalCount::<T>::put(index.saturating_add(1));
		Self::deposit_event(Event::Proposed { index, proposer, end, total_power, voters });
		Ok(())
	}

	/// `vote`: before the end, with the voter's power in the snapshot; a changed vote moves
	/// the voter's power from the old vote to the new one.
	pub(crate) fn do_vote(voter: T::AccountId, index: ProposalIndex, vote: Vote) -> DispatchResult {
		let mut proposal = Proposals::<T>::get(index).ok_or(Error::<T>::UnknownProposal)?;
		ensure!(frame_system::Pallet::<T>::block_number() < proposal.end, Error::<T>::VotingClosed);
		let power = T::Power::power_in(&proposal.snapshot, &voter);
		ensure!(power > 0, Error::<T>::NotInSnapshot);
		if let Some(previous) = Votes::<T>::get(index, &voter) {
			ensure!(previous != vote, Error::<T>::AlreadyVoted);
			proposal.tally.count(previous, power, false);
		} else {
			proposal.votes = proposal.votes.saturating_add(1);
		}
		proposal.tally.count(vote, power, true);
		Votes::<T>::insert(index, &voter, vote);
		Proposals::<T>::insert(index, proposal);
		Self::deposit_event(Event::Voted { index, voter, vote, power });
		Ok(())
	}

	/// `close`: decides the outcome (or refuses while the voting is open), dispatches a
	/// passed call, settles the deposit and removes the proposal, its votes and its
	/// snapshot. The actual weight counts the votes deleted and the call's actual weight.
	pub(crate) fn do_close(
		index: ProposalIndex,
		call_weight_bound: Weight,
		votes: u32,
	) -> DispatchResultWithPostInfo {
		let proposal = Proposals::<T>::get(index).ok_or(Error::<T>::UnknownProposal)?;
		ensure!(proposal.votes <= votes, Error::<T>::VotesBoundTooLow);
		let params = Governance::<T>::get().ok_or(Error::<T>::GovernanceNotConfigured)?;
		let outcome = Self::closing_outcome(&proposal, &params)?;
		let (call_weight, execution) = if outcome == Outcome::Passed {
			let (weight, result) = Self::execute(&proposal.call, call_weight_bound)?;
			(weight, Some(result))
		} else {
			(Weight::zero(), None)
		};

		let votes = proposal.votes;
		Self::finish_proposal(index, proposal, outcome, execution);
		Ok(Some(T::WeightInfo::close(votes).saturating_add(call_weight)).into())
	}

	/// Closing's end, for `close` and the expiry hook: settles the deposit, removes the
	/// proposal and its votes, releases its snapshot; emits `Executed` (with a dispatched
	/// call's result) and `Closed`.
	pub(crate) fn finish_proposal(
		index: ProposalIndex,
		proposal: ProposalOf<T>,
		outcome: Outcome,
		execution: Option<DispatchResult>,
	) {
		Self::settle_deposit(&proposal, outcome);
		Proposals::<T>::remove(index);
		T::Power::release_snapshot(&proposal.snapshot);
		let _ = Votes::<T>::clear_prefix(index, proposal.votes, None);
		if let Some(result) = execution {
			Self::deposit_event(Event::Executed { index, result });
		}
		Self::deposit_event(Event::Closed {
			index,
			outcome,
			tally: proposal.tally,
			total_power: proposal.total_power,
		});
	}
}
