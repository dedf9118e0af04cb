//! The validators' share of a validated fee (`protocol.md`, "Inference" 6).

use super::*;

/// Every host's worker reports `similarity` on request `id` if the hash rule sampled it.
fn all_report(id: u64, hosts: &[u8], similarity: Perbill) -> Vec<u8> {
	let validators = sampled(id, hosts);
	for &validator in &validators {
		assert_ok!(validate_as(validator, id, similarity));
	}
	validators
}

#[test]
fn a_validated_fee_is_shared_by_the_passing_validators_in_equal_parts() {
	ExtBuilder::default().hosts(&[1, 2, 3, 4, 5, 6, 7, 8]).build_and_execute(|| {
		// A request with at least two sampled validators (reputation 0: target 1.0).
		let (id, executor, validators) = loop {
			let (id, executor, validators) = finished_with_validators(&[1, 2, 3, 4, 5, 6, 7, 8]);
			if validators.len() >= 2 {
				break (id, executor, validators);
			}
		};
		all_report(id, &[1, 2, 3, 4, 5, 6, 7, 8], Perbill::one());
		let finished_at = Requests::<Test>::get(id).unwrap().finish.unwrap().at;
		let executor_before = work_held(executor);
		let others_before: Vec<u128> = validators.iter().map(|&v| work_held(v)).collect();
		run_to_block(finished_at + 4);
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Validated));
		let count = validators.len() as u128;
		let part = SHARE / count;
		for (&validator, before) in validators.iter().zip(others_before) {
			assert_eq!(work_held(validator), before + part);
			assert!(events().contains(&Event::ValidatorPaid {
				request: id,
				validator: account(validator),
				epoch: 0,
				amount: part,
			}));
		}
		// Rounding stays with the executor: nothing is created or lost.
		assert_eq!(work_held(executor), executor_before - part * count);
		assert_eq!(Ledger::<Test>::get(0, account(executor)).pending_work, work_held(executor));
	});
}

#[test]
fn a_failing_report_earns_no_share_when_the_vote_keeps_the_result() {
	ExtBuilder::default().hosts(&[1, 2, 3, 4]).build_and_execute(|| {
		let (id, executor, opener) = failed_validation();
		let others: Vec<u8> =
			[1, 2, 3, 4].into_iter().filter(|&i| i != executor && i != opener).collect();
		let before = |i: u8| Ledger::<Test>::get(0, account(i)).pending_work;
		let (opener_before, reporter_before) = (before(opener), before(others[0]));
		// A passing report made during the vote is a valid vote; a plain vote closes it.
		Requests::<Test>::mutate(id, |made| {
			// The hash rule may not have sampled `others[0]`: give it a report as if it had.
			let record = made.as_mut().unwrap().finish.as_mut().unwrap();
			record.passes += 1;
			record.reports += 1;
		});
		Reports::<Test>::insert(id, account(others[0]), Perbill::one());
		assert_ok!(vote_as(others[0], id, false));
		assert_ok!(vote_as(others[1], id, false));
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Validated));
		// The passing reporter alone has the validators' half; the opener nothing.
		assert_eq!(before(others[0]), reporter_before + SHARE);
		assert_eq!(before(opener), opener_before);
		assert!(!events().iter().any(
			|e| matches!(e, Event::ValidatorPaid { validator, .. } if *validator == account(opener))
		));
	});
}

#[test]
fn an_invalidated_request_pays_no_validator() {
	ExtBuilder::default().hosts(&[1, 2, 3, 4]).build_and_execute(|| {
		let (id, executor, opener) = failed_validation();
		let voter = [1, 2, 3, 4].into_iter().find(|&i| i != executor && i != opener).unwrap();
		let held = work_held(executor);
		assert_ok!(vote_as(voter, id, true));
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Invalidated));
		assert!(!events().iter().any(|e| matches!(e, Event::ValidatorPaid { .. })));
		assert_eq!(work_held(executor), held - COST);
	});
}

#[test]
fn at_most_max_paid_validators_reports_are_read_for_the_share() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		let (id, executor) = finished();
		// Five passing reports (written directly: two hosts cannot sample five), three read.
		for validator in 3..=7 {
			Reports::<Test>::insert(id, account(validator), Perbill::one());
		}
		Requests::<Test>::mutate(id, |made| {
			let record = made.as_mut().unwrap().finish.as_mut().unwrap();
			record.passes = 5;
			record.reports = 5;
		});
		run_to_block(6);
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Validated));
		let paid: Vec<u128> = events()
			.into_iter()
			.filter_map(|e| match e {
				Event::ValidatorPaid { amount, .. } => Some(amount),
				_ => None,
			})
			.collect();
		assert_eq!(paid, vec![SHARE / 3; 3]);
		assert_eq!(work_held(executor), COST - 3 * (SHARE / 3));
	});
}

#[test]
fn a_validators_share_is_forfeited_if_the_validator_is_invalid_in_that_epoch() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		let (id, executor) = finished();
		let validator = 3 - executor;
		run_to_block(3);
		assert_ok!(validate_as(validator, id, Perbill::one()));
		run_to_block(6);
		assert_eq!(work_held(validator), SHARE);
		// The validator's own results made it INVALID in the same epoch.
		Ledger::<Test>::mutate(0, account(validator), |stats| stats.invalid = true);
		let pool = free(99);
		run_to_block(41);
		assert_eq!(work_held(validator), 0);
		assert_eq!(free(99), pool + SHARE);
		assert!(events().contains(&Event::WorkSettled {
			epoch: 0,
			host: account(validator),
			amount: SHARE,
			forfeited: true
		}));
	});
}

#[test]
fn a_zero_validator_share_leaves_the_fee_with_the_executor() {
	let params = InferenceParams { validator_share: Perbill::zero(), ..test_params() };
	ExtBuilder::default().hosts(&[1, 2]).params(params).build_and_execute(|| {
		let (id, executor) = finished();
		run_to_block(3);
		assert_ok!(validate_as(3 - executor, id, Perbill::one()));
		run_to_block(6);
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Validated));
		assert_eq!(work_held(executor), COST);
		assert_eq!(work_held(3 - executor), 0);
	});
}
