//! The model registry's rules (`protocol.md`, "Models and governance"): what a valid
//! record is, the schedule of changes for the next epoch start, applying those changes when
//! an epoch starts (approvals, updates, retirements), the genesis models, and the
//! [`ModelRegistry`] view other pallets have of it (only approved models count).

use crate::*;
use gonka_primitives::{EpochIndex, ModelId};
use polkadot_sdk::{
	frame_support::{defensive, ensure, traits::Get, weights::Weight},
	sp_arithmetic::FixedU128,
	sp_runtime::{traits::Zero, Perbill},
};

impl<T: Config> Pallet<T> {
	/// Checks a record's fields: a name, a positive `seq_len`, coefficient and
	/// `dist_threshold`, probabilities strictly between 0 and 1, a positive validation
	/// threshold, a context longer than the template overhead, a positive price, end tokens
	/// in ascending order without repeats.
	pub fn check_record(record: &ModelRecordOf<T>) -> Result<(), Error<T>> {
		ensure!(!record.name.is_empty(), Error::<T>::EmptyName);
		ensure!(record.poc.seq_len > 0, Error::<T>::ZeroSeqLen);
		ensure!(!record.coefficient.is_zero(), Error::<T>::ZeroCoefficient);
		ensure!(!record.poc.dist_threshold.is_zero(), Error::<T>::ZeroDistThreshold);
		for probability in [record.poc.p_mismatch, record.poc.p_value] {
			ensure!(
				!probability.is_zero() && probability < Perbill::one(),
				Error::<T>::InvalidProbability
			);
		}
		ensure!(!record.validation_threshold.is_zero(), Error::<T>::ZeroValidationThreshold);
		ensure!(record.max_context > record.template_overhead, Error::<T>::InvalidContext);
		ensure!(!record.price.is_zero(), Error::<T>::ZeroPrice);
		ensure!(
			record.end_tokens.windows(2).all(|pair| pair[0] < pair[1]),
			Error::<T>::UnsortedEndTokens
		);
		Ok(())
	}

	/// The record in force of an approved model.
	pub fn approved(model: ModelId) -> Option<ModelRecordOf<T>> {
		Registry::<T>::get(model)
			.filter(|info| info.status == ModelStatus::Approved)
			.map(|info| info.record)
	}

	/// Adds `model` to the changes of the next epoch start.
	pub(crate) fn schedule(model: ModelId) -> Result<(), Error<T>> {
		PendingChanges::<T>::try_mutate(|pending| {
			pending.try_push(model).map_err(|_| Error::<T>::TooManyPendingChanges)
		})
	}

	/// Removes `model` from the changes of the next epoch start.
	pub(crate) fn unschedule(model: ModelId) {
		PendingChanges::<T>::mutate(|pending| pending.retain(|scheduled| *scheduled != model));
	}

	/// Applies the registry changes scheduled for the epoch `epoch`, in scheduling order;
	/// returns how many.
	pub(crate) fn apply_pending(epoch: EpochIndex) -> u32 {
		let pending = PendingChanges::<T>::take();
		let count = pending.len() as u32;
		for model in pending {
			let Some(mut info) = Registry::<T>::get(model) else {
				defensive!("a scheduled model exists");
				continue;
			};
			let Some(change) = info.pending.take() else {
				defensive!("a scheduled model has a change");
				continue;
			};
			Self::apply_change(model, &mut info, change, epoch);
			if info.status == ModelStatus::Retired {
				// Its entry goes, and its registry slot is free again.
				Registry::<T>::remove(model);
			} else {
				Registry::<T>::insert(model, info);
			}
		}
		count
	}

	/// Applies one model's scheduled `change` to its entry `info` at the start of `epoch`:
	/// approves it, puts the new record in force or retires it.
	fn apply_change(
		model: ModelId,
		info: &mut ModelInfoOf<T>,
		change: PendingChangeOf<T>,
		epoch: EpochIndex,
	) {
		match change {
			PendingChange::Approve => {
				info.status = ModelStatus::Approved;
				Self::deposit_event(Event::ModelApproved { model, epoch });
			}
			PendingChange::Update(record) => {
				info.record = record;
				Self::deposit_event(Event::ModelUpdated { model, epoch });
			}
			PendingChange::Retire => {
				info.status = ModelStatus::Retired;
				Self::deposit_event(Event::ModelRetired { model, epoch: Some(epoch) });
			}
		}
	}

	/// Genesis: approves `models` with ids 0, 1, …; panics if there are more than
	/// `MaxModels` or a record is not valid.
	pub(crate) fn genesis_models(models: &[ModelRecordOf<T>]) {
		assert!(models.len() <= T::MaxModels::get() as usize, "too many genesis models");
		for (id, record) in models.iter().enumerate() {
			Self::check_record(record).expect("genesis model records are valid");
			Registry::<T>::insert(
				id as ModelId,
				ModelInfo { record: record.clone(), status: ModelStatus::Approved, pending: None },
			);
		}
		NextModelId::<T>::put(models.len() as ModelId);
	}
}

impl<T: Config> ModelRegistry for Pallet<T> {
	fn is_approved(model: ModelId) -> bool {
		Registry::<T>::get(model).is_some_and(|info| info.status == ModelStatus::Approved)
	}

	fn coefficient(model: ModelId) -> Option<FixedU128> {
		Self::approved(model).map(|record| record.coefficient)
	}

	fn on_epoch_start(epoch: EpochIndex) -> Weight {
		let applied = Self::apply_pending(epoch);
		T::WeightInfo::on_epoch_start(applied)
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn approve_for_benchmark(model: ModelId) {
		let record = crate::benchmarking::record::<T>();
		Registry::<T>::insert(
			model,
			ModelInfo { record, status: ModelStatus::Approved, pending: None },
		);
		if NextModelId::<T>::get() <= model {
			NextModelId::<T>::put(model.saturating_add(1));
		}
	}
}
