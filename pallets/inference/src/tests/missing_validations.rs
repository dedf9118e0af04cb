//! Missing validations (`protocol.md`, "Inference" 3): a sampled validator that did not report.

use super::*;
use polkadot_sdk::sp_runtime::transaction_validity::InvalidTransaction;

#[test]
fn a_sampled_validator_that_did_not_report_is_recorded_missing() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		let (id, executor) = finished();
		let validator = 3 - executor;
		// Finished at 1, window 4: from 5 on the report is missing.
		run_to_block(5);
		assert_ok!(report_missing_as(executor, id, validator));
		assert_eq!(Ledger::<Test>::get(0, account(validator)).missed_validations, 1);
		assert!(Missed::<Test>::contains_key(id, account(validator)));
		assert!(events().contains(&Event::ValidationMissed {
			request: id,
			validator: account(validator),
			epoch: 0,
			reporter: account(executor),
		}));
		// Once only.
		assert_eq!(
			report_missing_as(executor, id, validator),
			Err(pool(InvalidTransaction::Stale))
		);
		// Pruned with the request; a later claim is stale.
		run_to_block(10);
		assert!(!Missed::<Test>::contains_key(id, account(validator)));
		assert_eq!(
			report_missing_as(executor, id, validator),
			Err(pool(InvalidTransaction::Stale))
		);
	});
}

#[test]
fn a_missing_report_cannot_be_shown_while_the_window_is_open() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		let (id, executor) = finished();
		run_to_block(4);
		assert_eq!(
			report_missing_as(executor, id, 3 - executor),
			Err(pool(InvalidTransaction::Future))
		);
	});
}

#[test]
fn a_validator_that_reported_is_not_missing() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		let (id, executor) = finished();
		run_to_block(2);
		assert_ok!(validate_as(3 - executor, id, Perbill::one()));
		run_to_block(5);
		assert_eq!(
			report_missing_as(executor, id, 3 - executor),
			Err(custom(Error::<Test>::ValidatorReported))
		);
	});
}

#[test]
fn a_host_the_hash_rule_did_not_sample_is_not_missing() {
	ExtBuilder::default().hosts(&[1, 2, 3, 4]).build_and_execute(|| {
		let (id, executor, outsider) = finished_with_an_outsider();
		run_to_block(System::block_number() + 4);
		assert_eq!(
			report_missing_as(executor, id, outsider),
			Err(custom(Error::<Test>::NotSampled))
		);
		assert_eq!(
			report_missing_as(executor, id, executor),
			Err(custom(Error::<Test>::SelfValidation))
		);
	});
}

#[test]
fn an_unfinished_request_has_no_missing_validators_and_strangers_cannot_claim() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		let id = submit();
		let other = 3 - executor_of(id);
		run_to_block(5);
		assert_eq!(
			report_missing_as(other, id, executor_of(id)),
			Err(custom(Error::<Test>::NeverFinished))
		);
		let (done, executor) = finished();
		run_to_block(System::block_number() + 5);
		assert_eq!(
			report_missing_as(7, done, 3 - executor),
			Err(pool(InvalidTransaction::BadSigner))
		);
	});
}
