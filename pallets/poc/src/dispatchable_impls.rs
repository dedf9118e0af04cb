//! The bodies of the pallet's calls: `do_*` functions that the calls in `lib.rs` run once
//! they have checked the origin. The rules they apply live in the files of their concern:
//! `hosts.rs` (what a host may register), `authorize.rs` (the duty rules, checked again at
//! dispatch), `validation.rs` (how verdicts count), `power.rs` (a departure's power),
//! `epochs.rs` (the epoch parameters).

use crate::{
	Commitment, Commitments, Config, CurrentEpoch, EpochParamsOf, Error, Event, HoldReason,
	HostInfo, Hosts, InvalidParams, JoinedEpoch, NextEpochParams, Pallet, Phase, Tallies,
	Validated, WorkerKeys,
};
use alloc::vec::Vec;
use gonka_primitives::{
	duty::{PocCommit, PocValidation},
	ModelId,
};
use polkadot_sdk::{
	frame_support::{
		pallet_prelude::*,
		traits::{fungible::MutateHold, tokens::Precision},
	},
	frame_system,
	sp_core::sr25519,
};

impl<T: Config> Pallet<T> {
	/// Registers `who`; `approved_models` checks that it serves approved models only (the
	/// genesis hosts' models are not checked: the registry's genesis may come later).
	pub(crate) fn do_register(
		who: &T::AccountId,
		worker_key: sr25519::Public,
		endpoint: Vec<u8>,
		models: Vec<ModelId>,
		approved_models: bool,
	) -> DispatchResult {
		ensure!(!Hosts::<T>::contains_key(who), Error::<T>::AlreadyRegistered);
		ensure!(Hosts::<T>::count() < T::MaxHosts::get(), Error::<T>::TooManyHosts);
		ensure!(!WorkerKeys::<T>::contains_key(worker_key), Error::<T>::WorkerKeyInUse);
		let endpoint = Self::checked_endpoint(endpoint)?;
		let models = Self::checked_models(models, approved_models)?;
		let deposit = T::HostDeposit::get();
		T::Currency::hold(&HoldReason::HostRegistration.into(), who, deposit)
			.map_err(|_| Error::<T>::InsufficientDeposit)?;
		Self::deposit_event(Event::HostRegistered {
			host: who.clone(),
			worker_key,
			models: models.to_vec(),
		});
		WorkerKeys::<T>::insert(worker_key, who);
		Hosts::<T>::insert(who, HostInfo { worker_key, endpoint, models, deposit });
		// It commits PoC from the next epoch on (genesis hosts from the first).
		if let Some(epoch) = CurrentEpoch::<T>::get() {
			JoinedEpoch::<T>::insert(who, epoch.index);
		}
		Ok(())
	}

	/// `update_host`: replaces each of the host's endpoint, models and worker key that is
	/// given, after checking it; the models change in the inference phase only.
	pub(crate) fn do_update_host(
		who: T::AccountId,
		worker_key: Option<(sr25519::Public, sr25519::Signature)>,
		endpoint: Option<Vec<u8>>,
		models: Option<Vec<ModelId>>,
	) -> DispatchResult {
		let mut host = Hosts::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
		if let Some(endpoint) = endpoint {
			host.endpoint = Self::checked_endpoint(endpoint)?;
		}
		if let Some(models) = models {
			let models = Self::checked_models(models, true)?;
			if models != host.models {
				// The models a host commits on and validates stay fixed through PoC: no
				// more than `MaxModelsPerHost` of them in an epoch.
				let now = frame_system::Pallet::<T>::block_number();
				ensure!(
					Self::phase(now).is_none_or(|(_, phase)| phase == Phase::Inference),
					Error::<T>::ModelsLockedDuringPoc
				);
			}
			host.models = models;
		}
		if let Some((worker_key, key_proof)) = worker_key {
			Self::check_key_proof(&who, &worker_key, &key_proof)?;
			Self::change_worker_key(&who, &mut host, worker_key)?;
		}
		Self::deposit_event(Event::HostUpdated {
			host: who.clone(),
			worker_key: host.worker_key,
			models: host.models.to_vec(),
		});
		Hosts::<T>::insert(&who, host);
		Ok(())
	}

	/// `leave`: removes the host, its worker key, voting power and PoC weights, and
	/// releases its deposit.
	pub(crate) fn do_leave(who: T::AccountId) -> DispatchResult {
		let host = Hosts::<T>::take(&who).ok_or(Error::<T>::NotRegistered)?;
		WorkerKeys::<T>::remove(host.worker_key);
		JoinedEpoch::<T>::remove(&who);
		Self::remove_voting_power(&who);
		T::Currency::release(
			&HoldReason::HostRegistration.into(),
			&who,
			host.deposit,
			Precision::BestEffort,
		)?;
		Self::deposit_event(Event::HostLeft { host: who });
		Ok(())
	}

	/// `commit_poc`: checks the commitment again (the state may have changed since the
	/// transaction was validated) and stores it in place of the previous one.
	pub(crate) fn do_commit_poc(host: T::AccountId, commit: PocCommit) -> DispatchResult {
		let now = frame_system::Pallet::<T>::block_number();
		let (_, previous, epoch) = Self::check_commit(&host, &commit, now)?;
		let submissions = previous.map_or(1, |previous| previous.submissions.saturating_add(1));
		Commitments::<T>::insert(
			(epoch.index, commit.model, &host),
			Commitment { count: commit.count, root: commit.root, submissions },
		);
		Self::deposit_event(Event::PocCommitted {
			host,
			epoch: commit.epoch,
			model: commit.model,
			count: commit.count,
			root: commit.root,
		});
		Ok(())
	}

	/// `submit_poc_validations`: checks the batch again, marks the validator's batch as sent
	/// and adds its voting power to each verdict's tally.
	pub(crate) fn do_submit_poc_validations(
		validator: T::AccountId,
		validation: PocValidation<T::MaxHosts>,
	) -> DispatchResult {
		let now = frame_system::Pallet::<T>::block_number();
		let (_, epoch, power, mut roster, positions) =
			Self::check_validation(&validator, &validation, now)?;
		Validated::<T>::insert(epoch.index, (validation.model, &validator), ());
		Self::count_verdicts(&mut roster, &validation.verdicts, &positions, power);
		Tallies::<T>::insert(epoch.index, validation.model, roster);
		Self::deposit_event(Event::PocValidationsSubmitted {
			validator,
			epoch: validation.epoch,
			model: validation.model,
			verdicts: validation.verdicts.len() as u32,
		});
		Ok(())
	}

	/// `set_epoch_params`: checks the phase lengths and schedules them for the next epoch.
	pub(crate) fn do_set_epoch_params(params: EpochParamsOf<T>) -> DispatchResult {
		params.check().map_err(|e| match e {
			InvalidParams::ZeroPhase => Error::<T>::ZeroPhase,
			InvalidParams::PhasesExceedEpoch => Error::<T>::PhasesExceedEpoch,
		})?;
		NextEpochParams::<T>::put(params);
		let from_epoch = CurrentEpoch::<T>::get().map_or(0, |epoch| epoch.index.saturating_add(1));
		Self::deposit_event(Event::EpochParamsScheduled { params, from_epoch });
		Ok(())
	}
}
