//! The `InferenceApi` views.

use super::*;

#[test]
fn the_runtime_api_lists_the_validators_the_hash_rule_samples() {
	ExtBuilder::default().hosts(&[1, 2, 3, 4, 5, 6, 7, 8]).build_and_execute(|| {
		let (id, executor) = finished();
		// In the block that included `finish` nobody knows its hash yet.
		assert_eq!(Inference::sampled_validators(id), None);
		assert_eq!(Inference::sampled_validators(id + 1), None);
		run_to_block(3);
		let listed = Inference::sampled_validators(id).expect("finished before this block");
		let expected: Vec<gonka_primitives::HostId> =
			sampled(id, &[1, 2, 3, 4, 5, 6, 7, 8]).into_iter().map(account).collect();
		let mut listed_sorted = listed.clone();
		listed_sorted.sort();
		let mut expected_sorted = expected.clone();
		expected_sorted.sort();
		assert_eq!(listed_sorted, expected_sorted);
		assert!(!listed.contains(&account(executor)));
		// Exactly the listed hosts may report.
		for i in [1u8, 2, 3, 4, 5, 6, 7, 8].into_iter().filter(|&i| i != executor) {
			let outcome = validate_as(i, id, Perbill::one());
			if listed.contains(&account(i)) {
				assert_ok!(outcome);
			} else {
				assert_eq!(outcome, Err(custom(Error::<Test>::NotSampled)));
			}
		}
	});
}

#[test]
fn the_runtime_api_shows_a_request_with_its_payloads_and_a_hosts_standing() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		let (id, _) = finished();
		let view = Inference::request_view(id).unwrap();
		assert_eq!(view.prompt, vec![b'a'; 10]);
		assert_eq!(view.token_ids, vec![0, 1, 2, 3, END_TOKEN]);
		assert_eq!(view.text, b"an answer".to_vec());
		assert_eq!(view.request.status, RequestStatus::Finished);
		let host = Inference::host_view(&account(1));
		assert_eq!(host.pending_work, COST);
		assert_eq!(host.stats.finished, 1);
		assert_eq!(host.reputation, 0);
	});
}
