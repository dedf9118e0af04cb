//! Validation sampling and reports (`protocol.md`, "Inference" 3, 4).

use super::*;
use gonka_primitives::inference::Sprt;
use pallet_poc::PowerGenerations;
use polkadot_sdk::sp_runtime::transaction_validity::InvalidTransaction;

#[test]
fn validators_are_sampled_from_the_finish_block_so_not_before_the_next_block() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		// Two hosts: the other host holds all the power besides the executor's, so target
		// 1.0 samples it for every request.
		let (id, executor) = finished();
		let validator = 3 - executor;
		assert_eq!(
			validate_as(validator, id, Perbill::one()),
			Err(pool(InvalidTransaction::Future))
		);
		run_to_block(3);
		assert_eq!(sampled(id, &[1, 2]), vec![validator]);
		assert_ok!(validate_as(validator, id, Perbill::one()));
		assert_eq!(Reports::<Test>::get(id, account(validator)), Some(Perbill::one()));
		assert_eq!(Ledger::<Test>::get(0, account(validator)).validations, 1);
	});
}

#[test]
fn the_executor_never_validates_its_own_request() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		let (id, executor) = finished();
		run_to_block(3);
		assert_eq!(
			validate_as(executor, id, Perbill::one()),
			Err(custom(Error::<Test>::SelfValidation))
		);
	});
}

#[test]
fn a_host_the_hash_rule_did_not_sample_cannot_validate() {
	ExtBuilder::default().hosts(&[1, 2, 3, 4]).build_and_execute(|| {
		let (id, _, outsider) = finished_with_an_outsider();
		assert_eq!(
			validate_as(outsider, id, Perbill::one()),
			Err(custom(Error::<Test>::NotSampled))
		);
	});
}

#[test]
fn the_number_of_validators_follows_the_target() {
	ExtBuilder::default().hosts(&[1, 2, 3, 4]).build_and_execute(|| {
		// New executors: target 1.0, so one validator per request on average.
		let mut validators = 0usize;
		let requests = 60;
		for _ in 0..requests {
			let (id, _) = finished();
			run_to_block(System::block_number() + 1);
			validators += sampled(id, &[1, 2, 3, 4]).len();
		}
		assert!((35..=85).contains(&validators), "{validators} validators for {requests}");
	});
}

#[test]
fn a_passing_validation_validates_the_request_when_the_window_closes() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		let (id, executor) = finished();
		let pins = |generation| PowerGenerations::<Test>::get(generation).unwrap().pins;
		assert_eq!(pins(0), 1);
		run_to_block(3);
		assert_ok!(validate_as(3 - executor, id, Perbill::from_percent(95)));
		assert_eq!(status(id), RequestStatus::Finished);
		// Finished at 2, window 4: closed at 6.
		run_to_block(6);
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Validated));
		// The snapshot is held until the payloads go (missing validators can be shown).
		assert_eq!(pins(0), 1);
		run_to_block(11);
		assert!(!Requests::<Test>::contains_key(id));
		assert_eq!(pins(0), 0);
		let stats = Ledger::<Test>::get(0, account(executor));
		assert_eq!(stats.validated, 1);
		assert_eq!(stats.llr, Sprt::live_network().step(0, false));
		// The executor keeps its pending work but the validator's half.
		assert_eq!(work_held(executor), COST - SHARE);
		assert_eq!(work_held(3 - executor), SHARE);
	});
}

#[test]
fn a_request_no_validator_reported_on_closes_unchecked() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		let (id, executor) = finished();
		run_to_block(6);
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Unchecked));
		assert_eq!(Ledger::<Test>::get(0, account(executor)).llr, 0);
		assert_eq!(work_held(executor), COST);
	});
}

#[test]
fn a_report_after_the_validation_window_is_refused() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		let (id, executor) = finished();
		run_to_block(6);
		assert_eq!(
			validate_as(3 - executor, id, Perbill::one()),
			Err(pool(InvalidTransaction::Stale))
		);
	});
}

#[test]
fn a_validator_reports_once() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (id, _, validators) = finished_with_validators(&[1, 2, 3]);
		let validator = validators[0];
		assert_ok!(validate_as(validator, id, Perbill::one()));
		assert_eq!(
			validate_as(validator, id, Perbill::one()),
			Err(pool(InvalidTransaction::Stale))
		);
	});
}

#[test]
fn a_validation_for_a_request_not_finished_is_refused() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		let id = submit();
		run_to_block(3);
		assert_eq!(validate_as(1, id, Perbill::one()), Err(pool(InvalidTransaction::Stale)));
	});
}
