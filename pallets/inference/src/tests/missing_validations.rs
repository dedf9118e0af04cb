//! Missing validations (`protocol.md`, "Inference" 3): a sampled validator that did not report.

use super::*;
use gonka_primitives::H256;
use polkadot_sdk::{
	frame_support::traits::Get, sp_runtime::transaction_validity::InvalidTransaction,
};

#[test]
fn a_sampled_validator_that_did_not_report_is_recorded_missing() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		let (id, executor) = finished();
		let validator = 3 - executor;
		// Finished at 2, window 4: from 6 on the report is missing.
		run_to_block(6);
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
		run_to_block(11);
		assert!(!Missed::<Test>::contains_key(id, account(validator)));
		assert_eq!(
			report_missing_as(executor, id, validator),
			Err(pool(InvalidTransaction::Stale))
		);
	});
}

/// A sampled validation is a duty of the validator (`protocol.md`, downtime): reported,
/// it counts as done; shown missing, as missed, in the host's ledger and the network's
/// totals that the downtime test compares it with.
#[test]
fn a_sampled_validation_is_a_duty_and_a_missed_one_a_duty_missed() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		let (id, executor) = finished();
		let validator = 3 - executor;
		let before = EpochTotals::<Test>::get(0);
		run_to_block(6);
		assert_ok!(report_missing_as(executor, id, validator));
		let stats = Ledger::<Test>::get(0, account(validator));
		assert_eq!((stats.duties(), stats.duties_missed()), (1, 1));
		let after = EpochTotals::<Test>::get(0);
		assert_eq!((after.assigned, after.missed), (before.assigned + 1, before.missed + 1));

		let (id, executor) = finished();
		run_to_block(System::block_number() + 1);
		assert_ok!(validate_as(3 - executor, id, Perbill::one()));
		let stats = Ledger::<Test>::get(0, account(3 - executor));
		assert_eq!(stats.validations, 1);
		let totals = EpochTotals::<Test>::get(0);
		assert_eq!((totals.assigned, totals.missed), (after.assigned + 2, after.missed));
	});
}

/// Attack (`docs/security.md`): frame-system keeps the hashes of the last
/// `BlockHashCount` blocks only; later, the hash of the block that included a request's
/// `finish` reads as zero and the hash rule samples other validators, so a host shows a
/// validator that was never sampled as missing. Rule: the sample is known only while the
/// hash is kept (from the block after `finish` to `BlockHashCount` blocks after it); a
/// claim or a query after that is refused, and governance cannot set a validation window
/// that reaches past it.
#[test]
fn a_missing_report_after_the_block_hash_is_gone_is_refused() {
	let hosts = [1, 2, 3, 4];
	let params = InferenceParams { retention: 40, ..test_params() };
	ExtBuilder::default().hosts(&hosts).params(params).build_and_execute(|| {
		let (id, executor, innocent) = (0..40)
			.find_map(|_| {
				let (id, executor) = finished();
				run_to_block(System::block_number() + 1);
				let real = sampled(id, &hosts);
				sampled_by(&H256::zero(), id, &hosts)
					.into_iter()
					.find(|i| *i != executor && !real.contains(i))
					.map(|innocent| (id, executor, innocent))
			})
			.expect("a host sampled on the zero hash only");
		let at = Requests::<Test>::get(id).unwrap().finish.unwrap().at;
		let horizon: u64 = <Test as polkadot_sdk::frame_system::Config>::BlockHashCount::get();
		run_to_block(at + horizon + 2);
		assert_eq!(System::block_hash(at), H256::zero());
		assert_eq!(report_missing_as(executor, id, innocent), Err(pool(InvalidTransaction::Stale)));
		assert_eq!(
			dispatch_duty(report_missing_call(executor, id, innocent)),
			Err(call_error(Error::<Test>::SampleExpired))
		);
		assert_eq!(Ledger::<Test>::get(0, account(innocent)).missed_validations, 0);
		assert_eq!(Inference::sampled_validators(id), None);
		// Governance cannot open a window the hashes do not cover.
		let long = InferenceParams { validation_window: horizon, ..test_params() };
		assert_eq!(
			Inference::set_params(RuntimeOrigin::root(), long),
			Err(Error::<Test>::WindowBeyondBlockHashes.into())
		);
	});
}

/// Review of hole 4 (`docs/security.md`): once missed validations count as missed duties,
/// an honest validator must never be shown missing. A vote may close the request before
/// the window ends (its `validate` is then refused), and a host that does not serve the
/// request's model cannot replay it: neither is a miss.
#[test]
fn a_validator_that_could_not_report_is_never_shown_missing() {
	ExtBuilder::default().hosts(&[1, 2, 3, 4]).build_and_execute(|| {
		let (id, executor, opener) = failed_validation();
		let others: Vec<u8> =
			[1, 2, 3, 4].into_iter().filter(|&i| i != executor && i != opener).collect();
		// Two valid votes of three units close it validated at once.
		assert_ok!(vote_as(others[0], id, false));
		assert_ok!(vote_as(others[1], id, false));
		let at = Requests::<Test>::get(id).unwrap().finish.unwrap().at;
		run_to_block(at + 4);
		for &other in &others {
			assert_eq!(
				dispatch_duty(report_missing_call(executor, id, other)),
				Err(call_error(Error::<Test>::VoteWasOpened))
			);
		}

		// A request without a vote, whose sampled validator serves another model now.
		let (id, executor) = finished();
		let validator = [1, 2, 3, 4]
			.into_iter()
			.find(|&i| {
				run_to_block(System::block_number().max(at + 5));
				i != executor && sampled(id, &[i]) == vec![i]
			})
			.expect("a sampled validator");
		pallet_poc::Hosts::<Test>::mutate(account(validator), |host| {
			let host = host.as_mut().expect("registered");
			host.models = vec![2].try_into().expect("within the bound");
		});
		run_to_block(System::block_number() + 4);
		assert_eq!(
			dispatch_duty(report_missing_call(executor, id, validator)),
			Err(call_error(Error::<Test>::NotSampled))
		);
		assert_eq!(Ledger::<Test>::get(0, account(validator)).missed_validations, 0);
	});
}

#[test]
fn a_missing_report_cannot_be_shown_while_the_window_is_open() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		let (id, executor) = finished();
		run_to_block(5);
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
		run_to_block(3);
		assert_ok!(validate_as(3 - executor, id, Perbill::one()));
		run_to_block(6);
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
