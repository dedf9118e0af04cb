//! Governance's rules (`protocol.md`, "Models and governance"): valid parameters, the
//! tally rules (quorum, threshold, veto, compared exactly), when a proposal may close
//! (after its voting period, or before when it is certain to pass), how a passed call is
//! dispatched (with the `ComputeMajority` origin, within the closer's weight bound), and
//! where the deposit goes (the community pool when vetoed, back to the proposer otherwise).

use crate::*;
use polkadot_sdk::{
	frame_support::{
		dispatch::{extract_actual_weight, DispatchResult, GetDispatchInfo},
		ensure,
		traits::{
			fungible::MutateHold,
			tokens::{Fortitude, Precision, Restriction},
			Get,
		},
		weights::Weight,
		MAX_EXTRINSIC_DEPTH,
	},
	frame_system,
	sp_arithmetic::PerThing,
	sp_core::U256,
	sp_runtime::{
		traits::{Dispatchable, Zero},
		DispatchError, Perbill,
	},
};

impl<T: Config> Pallet<T> {
	/// Checks governance's parameters: a voting period, a quorum and a veto threshold above
	/// zero, a threshold below 100%.
	pub fn check_governance(params: &GovernanceParamsOf<T>) -> Result<(), Error<T>> {
		ensure!(
			!params.voting_period.is_zero()
				&& !params.quorum.is_zero()
				&& params.threshold < Perbill::one()
				&& !params.veto_threshold.is_zero(),
			Error::<T>::InvalidGovernanceParams
		);
		Ok(())
	}

	/// Genesis: sets governance's rules; panics if they are not valid.
	pub(crate) fn genesis_governance(governance: GovernanceParamsOf<T>) {
		Self::check_governance(&governance).expect("genesis governance parameters are valid");
		Governance::<T>::put(governance);
	}

	/// `part / whole` compared with `ratio`, exactly: `part · 10⁹` against
	/// `ratio_parts · whole`.
	fn compare(part: u128, ratio: Perbill, whole: u128) -> core::cmp::Ordering {
		let left = U256::from(part) * U256::from(Perbill::ACCURACY);
		let right = U256::from(ratio.deconstruct()) * U256::from(whole);
		left.cmp(&right)
	}

	/// The result of a tally at the end of the voting period: `Expired` without the quorum
	/// of the snapshot's power `total`, then `Vetoed` with vetoes at or above their
	/// threshold of the power cast, then `Passed` with ayes above the threshold of the power
	/// cast, `Rejected` otherwise.
	pub fn outcome(tally: &Tally, total: u128, params: &GovernanceParamsOf<T>) -> Outcome {
		let cast = tally.cast();
		if total == 0 || Self::compare(cast, params.quorum, total).is_lt() {
			return Outcome::Expired;
		}
		if Self::compare(tally.veto, params.veto_threshold, cast).is_ge() {
			return Outcome::Vetoed;
		}
		if Self::compare(tally.aye, params.threshold, cast).is_gt() {
			Outcome::Passed
		} else {
			Outcome::Rejected
		}
	}

	/// Whether the proposal passes however the power not yet cast votes: quorum met,
	/// ayes above the threshold even if all the rest voted nay, vetoes below theirs even
	/// if all the rest vetoed.
	pub fn certain_to_pass(tally: &Tally, total: u128, params: &GovernanceParamsOf<T>) -> bool {
		let cast = tally.cast();
		let rest = total.saturating_sub(cast);
		total > 0
			&& Self::compare(cast, params.quorum, total).is_ge()
			&& Self::compare(tally.aye, params.threshold, total).is_gt()
			&& Self::compare(tally.veto.saturating_add(rest), params.veto_threshold, total).is_lt()
	}

	/// The outcome of closing `proposal` now: its tally's [`Self::outcome`] once the voting
	/// period is over (`Lapsed` instead of `Passed` past the closing period, `expiry.rs`);
	/// before, `Passed` if it is [`Self::certain_to_pass`], and `VotingOpen` otherwise.
	pub(crate) fn closing_outcome(
		proposal: &ProposalOf<T>,
		params: &GovernanceParamsOf<T>,
	) -> Result<Outcome, Error<T>> {
		let now = frame_system::Pallet::<T>::block_number();
		if now >= proposal.end {
			let outcome = Self::outcome(&proposal.tally, proposal.total_power, params);
			if outcome == Outcome::Passed && Self::past_closing_period(proposal, now) {
				Ok(Outcome::Lapsed)
			} else {
				Ok(outcome)
			}
		} else if Self::certain_to_pass(&proposal.tally, proposal.total_power, params) {
			Ok(Outcome::Passed)
		} else {
			Err(Error::<T>::VotingOpen)
		}
	}

	/// Dispatches a passed proposal's encoded `call` with the `ComputeMajority` origin,
	/// if its weight is within `call_weight_bound` (`WeightBoundTooLow` otherwise). Returns
	/// the call's actual weight and its result; a call that no longer decodes (a runtime
	/// upgrade changed its encoding) is reported as an error, not dispatched.
	pub(crate) fn execute(
		call: &[u8],
		call_weight_bound: Weight,
	) -> Result<(Weight, DispatchResult), DispatchError> {
		let decoded =
			<<T as Config>::RuntimeCall as codec::DecodeLimit>::decode_all_with_depth_limit(
				MAX_EXTRINSIC_DEPTH,
				&mut &call[..],
			);
		let Ok(call) = decoded else {
			return Ok((Weight::zero(), Err(DispatchError::Other("the call no longer decodes"))));
		};
		let info = call.get_dispatch_info();
		ensure!(info.call_weight.all_lte(call_weight_bound), Error::<T>::WeightBoundTooLow);
		let origin: <T as Config>::RuntimeOrigin = Origin::ComputeMajority.into();
		let result = call.dispatch(origin);
		let weight = extract_actual_weight(&result, &info);
		Ok((weight, result.map(|_| ()).map_err(|error| error.error)))
	}

	/// Settles a closing proposal's deposit: a vetoed proposal's goes to the community
	/// pool, any other's back to the proposer (best effort: a deposit already gone is not
	/// an error).
	pub(crate) fn settle_deposit(proposal: &ProposalOf<T>, outcome: Outcome) {
		let reason = HoldReason::ProposalDeposit.into();
		if outcome == Outcome::Vetoed {
			let _ = T::Currency::transfer_on_hold(
				&reason,
				&proposal.proposer,
				&T::CommunityPool::get(),
				proposal.deposit,
				Precision::BestEffort,
				Restriction::Free,
				Fortitude::Force,
			);
		} else {
			let _ = T::Currency::release(
				&reason,
				&proposal.proposer,
				proposal.deposit,
				Precision::BestEffort,
			);
		}
	}
}
