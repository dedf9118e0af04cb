//! The registry's life cycle: who changes it, and every change taking effect at the next
//! epoch start (approval, update, retirement), at once for a model not yet approved; its
//! bounds.

use super::*;

#[test]
fn genesis_models_are_approved_from_the_start() {
	ExtBuilder::default().build_and_execute(|| {
		assert!(Models::is_approved(0));
		assert_eq!(Models::coefficient(0), Some(FixedU128::from_u32(1)));
		assert_eq!(NextModelId::<Test>::get(), 1);
		assert!(!Models::is_approved(1));
		assert_eq!(Models::coefficient(1), None);
	});
}

#[test]
fn only_governance_registers_updates_and_retires_models() {
	ExtBuilder::default().build_and_execute(|| {
		let bad = DispatchError::BadOrigin;
		assert_noop!(Models::register_model(signed(1), record("m")), bad);
		assert_noop!(Models::update_model(signed(1), 0, record("m")), bad);
		assert_noop!(Models::retire_model(signed(1), 0), bad);
		assert_noop!(Models::set_governance_params(signed(1), governance()), bad);
		// Root (development chains) and a passed proposal's origin are governance.
		assert_ok!(Models::register_model(root(), record("by root")));
		assert_ok!(Models::register_model(Origin::ComputeMajority.into(), record("by vote")));
		assert_eq!(NextModelId::<Test>::get(), 3);
	});
}

#[test]
fn a_registered_model_is_approved_when_the_next_epoch_starts() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Models::register_model(root(), record("second")));
		assert_eq!(Registry::<Test>::get(1).unwrap().status, ModelStatus::Proposed);
		assert!(!Models::is_approved(1));
		assert_eq!(PendingChanges::<Test>::get().to_vec(), vec![1]);
		Models::on_epoch_start(7);
		assert!(Models::is_approved(1));
		assert!(PendingChanges::<Test>::get().is_empty());
		assert!(events().contains(&Event::ModelApproved { model: 1, epoch: 7 }));
	});
}

#[test]
fn a_model_update_changes_its_parameters_only_from_the_next_epoch() {
	ExtBuilder::default().build_and_execute(|| {
		let mut changed = record("SmolLM2-135M-Instruct");
		changed.poc.seq_len = 128;
		changed.poc.dist_threshold = Perbill::from_percent(25);
		assert_ok!(Models::update_model(root(), 0, changed.clone()));
		// The epoch in progress keeps its parameters.
		assert_eq!(Models::approved(0).unwrap().poc.seq_len, 64);
		assert!(events().contains(&Event::ModelUpdateScheduled { model: 0 }));
		Models::on_epoch_start(3);
		assert_eq!(Models::approved(0).unwrap(), changed);
		assert!(events().contains(&Event::ModelUpdated { model: 0, epoch: 3 }));
	});
}

#[test]
fn a_second_update_waits_for_the_first() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Models::update_model(root(), 0, record("first")));
		assert_noop!(
			Models::update_model(root(), 0, record("second")),
			Error::<Test>::ChangePending
		);
		Models::on_epoch_start(1);
		assert_ok!(Models::update_model(root(), 0, record("second")));
	});
}

#[test]
fn updating_a_proposed_model_replaces_its_record_at_once() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Models::register_model(root(), record("draft")));
		assert_ok!(Models::update_model(root(), 1, record("final")));
		assert_eq!(Registry::<Test>::get(1).unwrap().record, record("final"));
		assert!(!Models::is_approved(1));
		Models::on_epoch_start(1);
		assert_eq!(Models::approved(1), Some(record("final")));
	});
}

#[test]
fn retiring_an_approved_model_takes_effect_from_the_next_epoch() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Models::retire_model(root(), 0));
		assert!(Models::is_approved(0), "served until the epoch ends");
		assert!(events().contains(&Event::ModelRetirementScheduled { model: 0 }));
		Models::on_epoch_start(5);
		assert!(!Models::is_approved(0));
		assert_eq!(Models::coefficient(0), None, "its PoC weight no longer counts");
		assert_eq!(Registry::<Test>::get(0), None, "its entry is gone");
		assert!(events().contains(&Event::ModelRetired { model: 0, epoch: Some(5) }));
	});
}

#[test]
fn retiring_a_proposed_model_is_immediate_and_cancels_its_approval() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Models::register_model(root(), record("never served")));
		assert_ok!(Models::retire_model(root(), 1));
		assert_eq!(Registry::<Test>::get(1), None);
		assert!(PendingChanges::<Test>::get().is_empty());
		Models::on_epoch_start(1);
		assert!(!Models::is_approved(1));
	});
}

#[test]
fn retiring_drops_a_scheduled_update() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Models::update_model(root(), 0, record("update")));
		assert_ok!(Models::retire_model(root(), 0));
		assert_eq!(PendingChanges::<Test>::get().to_vec(), vec![0]);
		Models::on_epoch_start(1);
		assert_eq!(Registry::<Test>::get(0), None);
		assert!(!events().iter().any(|event| matches!(event, Event::ModelUpdated { .. })));
	});
}

#[test]
fn a_retired_model_cannot_be_updated_or_retired_again() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Models::retire_model(root(), 0));
		assert_noop!(Models::retire_model(root(), 0), Error::<Test>::ModelRetired);
		Models::on_epoch_start(1);
		assert_noop!(Models::retire_model(root(), 0), Error::<Test>::ModelRetired);
		assert_noop!(Models::update_model(root(), 0, record("x")), Error::<Test>::ModelRetired);
	});
}

/// Attack (`docs/security.md`): retired models kept their registry entries and counted
/// against `MaxModels`, so registrations (cheap for governance to pass, or spammed by a
/// compute majority) filled the registry for good and no model could ever be added again.
/// Rule: a retired model's entry is removed and frees its slot; its id is never reused
/// and stays refused as retired.
#[test]
fn a_retired_model_frees_its_registry_slot() {
	ExtBuilder::default().build_and_execute(|| {
		// The mock's registry holds 8: the genesis model and seven more (approved three at
		// a time: four changes may wait for an epoch start), the last one proposed.
		for i in 1..8 {
			assert_ok!(Models::register_model(root(), record(&format!("model {i}"))));
			if i % 3 == 0 {
				Models::on_epoch_start(i);
			}
		}
		assert_noop!(Models::register_model(root(), record("ninth")), Error::<Test>::TooManyModels);
		// A proposed model retired at once, an approved one at the next epoch start.
		assert_ok!(Models::retire_model(root(), 7));
		assert_ok!(Models::register_model(root(), record("ninth")));
		assert_ok!(Models::retire_model(root(), 0));
		Models::on_epoch_start(7);
		assert_eq!(Registry::<Test>::get(0), None);
		assert_eq!(Registry::<Test>::get(7), None);
		assert_ok!(Models::register_model(root(), record("tenth")));
		assert_eq!(NextModelId::<Test>::get(), 10);
		assert_noop!(Models::retire_model(root(), 7), Error::<Test>::ModelRetired);
		assert_noop!(Models::update_model(root(), 0, record("x")), Error::<Test>::ModelRetired);
	});
}

#[test]
fn an_unknown_model_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(Models::update_model(root(), 42, record("x")), Error::<Test>::UnknownModel);
		assert_noop!(Models::retire_model(root(), 42), Error::<Test>::UnknownModel);
	});
}

#[test]
fn the_registry_and_the_schedule_are_bounded() {
	ExtBuilder::default().build_and_execute(|| {
		// Four changes may be scheduled for one epoch start (the mock's bound).
		for i in 0..4 {
			assert_ok!(Models::register_model(root(), record(&format!("m{i}"))));
		}
		assert_noop!(
			Models::register_model(root(), record("fifth")),
			Error::<Test>::TooManyPendingChanges
		);
		Models::on_epoch_start(1);
		// Eight models in all (the mock's bound).
		for i in 4..7 {
			assert_ok!(Models::register_model(root(), record(&format!("m{i}"))));
		}
		assert_eq!(Registry::<Test>::count(), 8);
		Models::on_epoch_start(2);
		assert_noop!(Models::register_model(root(), record("ninth")), Error::<Test>::TooManyModels);
	});
}
