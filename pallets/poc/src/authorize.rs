//! The duty rules of the signed PoC payloads (`protocol.md`, "Proof of Compute"): when a
//! host may commit to its nonces (`commit_poc`) and a validator send its verdicts
//! (`submit_poc_validations`). The same checks serve the `#[pallet::authorize]` rules, which
//! map each refusal to what the transaction pool should hear (`BadSigner`, `Future`,
//! `Stale`, `ExhaustsResources`, `Custom(error index)`, then `BadProof` for the signature,
//! checked last), and dispatch, which checks them again since the state may have changed.

use crate::{
	validity::{duty_validity, error_code},
	Commitment, Commitments, Config, EpochInfoOf, Error, HostOf, Hosts, JoinedEpoch, ModelRegistry,
	Pallet, Phase, RosterOf, RostersBuilt, Tallies, Validated,
};
use alloc::vec::Vec;
use gonka_primitives::{
	duty::{Duty, PocCommit, PocValidation, Verdict},
	H256,
};
use polkadot_sdk::{
	frame_support::pallet_prelude::*,
	frame_system::{self, pallet_prelude::BlockNumberFor},
	sp_core::sr25519,
	sp_runtime::traits::Zero,
};

impl<T: Config> Pallet<T> {
	/// The chain's genesis hash, part of every signed duty payload.
	pub fn genesis_hash() -> H256 {
		H256::from_slice(
			frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero()).as_ref(),
		)
	}

	/// Checks a commitment against the chain's state at block `now`, in this order: the host
	/// is registered, the commitment is for the epoch in progress and its generation phase,
	/// the host serves the model, registered before the epoch started, and governance
	/// approved the model, the count is positive and
	/// larger than the host's last one for the model, and the host has commitments left in
	/// its budget. Returns the host, its previous commitment for the model and the epoch.
	#[allow(clippy::type_complexity)]
	pub(crate) fn check_commit(
		host: &T::AccountId,
		commit: &PocCommit,
		now: BlockNumberFor<T>,
	) -> Result<(HostOf<T>, Option<Commitment>, EpochInfoOf<T>), Error<T>> {
		let info = Hosts::<T>::get(host).ok_or(Error::<T>::NotRegistered)?;
		let (epoch, phase) = Self::phase(now).ok_or(Error::<T>::NoEpoch)?;
		ensure!(commit.epoch == epoch.index, Error::<T>::WrongEpoch);
		ensure!(phase == Phase::Generation, Error::<T>::WrongPhase);
		ensure!(info.models.contains(&commit.model), Error::<T>::ModelNotServed);
		ensure!(
			JoinedEpoch::<T>::get(host).is_none_or(|joined| joined < epoch.index),
			Error::<T>::JoinedThisEpoch
		);
		ensure!(T::Models::is_approved(commit.model), Error::<T>::UnknownModel);
		ensure!(commit.count > 0, Error::<T>::ZeroCount);
		let previous = Commitments::<T>::get((epoch.index, commit.model, host));
		if let Some(previous) = previous {
			ensure!(commit.count > previous.count, Error::<T>::CountNotGrowing);
			ensure!(
				previous.submissions < T::MaxCommitsPerModel::get(),
				Error::<T>::CommitBudgetExhausted
			);
		}
		Ok((info, previous, epoch))
	}

	/// The `authorize` rule of [`Pallet::commit_poc`]: the commitment fits the chain's
	/// state and the host's worker key signed it for this chain. Cheap checks first, the
	/// signature last. Tagged `(host, epoch, model)`, one pool slot, with `DutyPriority +
	/// count` so that a higher count replaces a lower one; valid until generation ends.
	pub(crate) fn authorize_commit_poc(
		_source: TransactionSource,
		host: &T::AccountId,
		commit: &PocCommit,
		signature: &sr25519::Signature,
	) -> TransactionValidityWithRefund {
		let now = frame_system::Pallet::<T>::block_number();
		let (info, _, epoch) = Self::check_commit(host, commit, now)
			.map_err(|error| Self::commit_refusal(error, commit))?;
		if !commit.verify(&Self::genesis_hash(), host, &info.worker_key, signature) {
			return Err(InvalidTransaction::BadProof.into());
		}
		// One pool slot per (host, epoch, model): a higher count outranks, so replaces, a
		// lower one still in the pool.
		duty_validity::<T>(
			"GonkaPocCommit",
			(host, commit.epoch, commit.model),
			epoch.generation_end(),
		)
		.map(|(mut validity, refund)| {
			// Capped: a huge claimed count must not outrank every other duty by much.
			let bump = commit.count.min(u64::from(u32::MAX));
			validity.priority = validity.priority.saturating_add(bump);
			(validity, refund)
		})
	}

	/// What the pool hears of a commitment `check_commit` refused: an unregistered host is
	/// `BadSigner`, a later epoch `Future`, an earlier epoch, another phase or a count that
	/// does not grow `Stale`, a spent budget `ExhaustsResources`, the rest `Custom`.
	fn commit_refusal(error: Error<T>, commit: &PocCommit) -> InvalidTransaction {
		match error {
			Error::<T>::NotRegistered => InvalidTransaction::BadSigner,
			Error::<T>::WrongEpoch if commit.epoch > Self::epoch_now() => {
				InvalidTransaction::Future
			}
			Error::<T>::WrongEpoch | Error::<T>::WrongPhase | Error::<T>::CountNotGrowing => {
				InvalidTransaction::Stale
			}
			Error::<T>::CommitBudgetExhausted => InvalidTransaction::ExhaustsResources,
			other => InvalidTransaction::Custom(error_code(other)),
		}
	}

	/// Checks a validation batch against the chain's state at block `now`, in this order:
	/// the validator is registered, the batch is for the epoch in progress and its
	/// validation phase, the epoch's rosters are built, governance approved the model, the
	/// validator serves it and has voting power and
	/// sent no batch for the model yet, and the verdicts are non-empty, sorted by host, never
	/// on the validator, each on a host in the model's roster. Returns the validator, the
	/// epoch, the validator's voting power, the model's roster and the roster position of
	/// each verdict's host.
	#[allow(clippy::type_complexity)]
	pub(crate) fn check_validation(
		validator: &T::AccountId,
		validation: &PocValidation<T::MaxHosts>,
		now: BlockNumberFor<T>,
	) -> Result<(HostOf<T>, EpochInfoOf<T>, u128, RosterOf<T>, Vec<usize>), Error<T>> {
		let info = Hosts::<T>::get(validator).ok_or(Error::<T>::NotRegistered)?;
		let (epoch, phase) = Self::phase(now).ok_or(Error::<T>::NoEpoch)?;
		ensure!(validation.epoch == epoch.index, Error::<T>::WrongEpoch);
		ensure!(phase == Phase::Validation, Error::<T>::WrongPhase);
		ensure!(RostersBuilt::<T>::get() == Some(epoch.index), Error::<T>::RostersNotBuilt);
		ensure!(T::Models::is_approved(validation.model), Error::<T>::UnknownModel);
		ensure!(info.models.contains(&validation.model), Error::<T>::ModelNotServed);
		let power = Self::voting_power(validator);
		ensure!(power > 0, Error::<T>::NoVotingPower);
		ensure!(
			!Validated::<T>::contains_key(epoch.index, (validation.model, validator)),
			Error::<T>::AlreadyValidated
		);
		ensure!(!validation.verdicts.is_empty(), Error::<T>::NoVerdicts);
		ensure!(
			validation.verdicts.windows(2).all(|pair| pair[0].host < pair[1].host),
			Error::<T>::UnsortedVerdicts
		);
		let roster = Tallies::<T>::get(epoch.index, validation.model);
		let positions = Self::roster_positions(validator, &validation.verdicts, &roster)?;
		Ok((info, epoch, power, roster, positions))
	}

	/// The position in `roster` of each verdict's host; a verdict on the validator itself is
	/// `SelfVerdict`, one on a host not in the roster `NoCommitment`. Both are sorted by
	/// host: one walk finds every verdict's host in the roster.
	fn roster_positions(
		validator: &T::AccountId,
		verdicts: &[Verdict],
		roster: &RosterOf<T>,
	) -> Result<Vec<usize>, Error<T>> {
		let mut positions = Vec::with_capacity(verdicts.len());
		let mut next = 0;
		for verdict in verdicts {
			ensure!(verdict.host != *validator, Error::<T>::SelfVerdict);
			while roster.get(next).is_some_and(|(host, _)| *host < verdict.host) {
				next = next.saturating_add(1);
			}
			ensure!(
				roster.get(next).is_some_and(|(host, _)| *host == verdict.host),
				Error::<T>::NoCommitment
			);
			positions.push(next);
		}
		Ok(positions)
	}

	/// The `authorize` rule of [`Pallet::submit_poc_validations`]: the batch fits the
	/// chain's state and the validator's worker key signed it for this chain. Tagged
	/// `(validator, epoch, model)`; valid until validation ends.
	pub(crate) fn authorize_submit_poc_validations(
		_source: TransactionSource,
		validator: &T::AccountId,
		validation: &PocValidation<T::MaxHosts>,
		signature: &sr25519::Signature,
	) -> TransactionValidityWithRefund {
		let now = frame_system::Pallet::<T>::block_number();
		let (info, epoch, ..) = Self::check_validation(validator, validation, now)
			.map_err(|error| Self::validation_refusal(error, validation, now))?;
		if !validation.verify(&Self::genesis_hash(), validator, &info.worker_key, signature) {
			return Err(InvalidTransaction::BadProof.into());
		}
		duty_validity::<T>(
			"GonkaPocValidation",
			(validator, validation.epoch, validation.model),
			epoch.validation_end(),
		)
	}

	/// What the pool hears of a batch `check_validation` refused: an unregistered validator
	/// is `BadSigner`, a later epoch, a batch sent in generation or the delay or before the
	/// rosters are built `Future`, an
	/// earlier epoch, a batch after validation or a second batch `Stale`, the rest `Custom`.
	fn validation_refusal(
		error: Error<T>,
		validation: &PocValidation<T::MaxHosts>,
		now: BlockNumberFor<T>,
	) -> InvalidTransaction {
		match error {
			Error::<T>::NotRegistered => InvalidTransaction::BadSigner,
			Error::<T>::WrongEpoch if validation.epoch > Self::epoch_now() => {
				InvalidTransaction::Future
			}
			Error::<T>::RostersNotBuilt => InvalidTransaction::Future,
			Error::<T>::WrongPhase
				if matches!(
					Self::phase(now).map(|(_, phase)| phase),
					Some(Phase::Generation | Phase::ValidationDelay)
				) =>
			{
				InvalidTransaction::Future
			}
			Error::<T>::WrongEpoch | Error::<T>::WrongPhase | Error::<T>::AlreadyValidated => {
				InvalidTransaction::Stale
			}
			other => InvalidTransaction::Custom(error_code(other)),
		}
	}
}
