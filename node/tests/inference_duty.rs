//! End to end through `gonka-client`'s generated code against `gonka-node --dev`: a
//! developer's requests, signed by its account; the executor's `finish` and the other
//! host's `validate` and `report_missing`, duty transactions signed by their worker keys.
//! One request is validated and its fee shared with the validator, one invalidated and
//! refunded, and on one the validator's missing report is shown.

mod common;

use common::DevNode;
use gonka_client::{ChainClient, Outcome, RequestStatus, Submitted, ValidationMissed};
use gonka_primitives::{
	bounds::BoundedFinish as Finish,
	duty::{InferenceValidation, MissingValidation},
	inference::SamplingParams,
	HostId,
};
use polkadot_sdk::{
	sp_core::{sr25519, Pair},
	sp_keyring::Sr25519Keyring,
	sp_runtime::{BoundedVec, Perbill},
};
use std::time::Duration;

/// The dev chain's model (`gonka_runtime::configs::DEFAULT_MODEL`).
const DEFAULT_MODEL: u32 = 0;

/// A request's validation window (20 blocks of 1 s) and some slack.
const CLOSE_DEADLINE: Duration = Duration::from_secs(120);

/// A dev host and its worker key (the development preset's `//<Name>//stash`).
struct Host {
	account: HostId,
	worker: sr25519::Pair,
}

fn host(key: Sr25519Keyring) -> Host {
	let worker = sr25519::Pair::from_string(&format!("//{key}//stash"), None).expect("a dev key");
	Host { account: key.to_account_id(), worker }
}

/// The request's executor among `hosts`, and the other host.
fn roles(submitted: &Submitted, hosts: &[Host; 2]) -> (usize, usize) {
	let executor = hosts
		.iter()
		.position(|h| h.account == submitted.executor)
		.expect("a dev host executes the request");
	(executor, 1 - executor)
}

fn result(request: u64) -> Finish {
	Finish {
		request,
		token_ids: BoundedVec::truncate_from(vec![504, 3575, 282, 4649, 30, 2]),
		text: BoundedVec::truncate_from(b"Paris.".to_vec()),
		prompt_tokens: 20,
	}
}

/// Waits until `check` holds for the chain, or fails with the node's log.
async fn until<F, Fut>(node: &DevNode, what: &str, check: F)
where
	F: FnMut() -> Fut,
	Fut: std::future::Future<Output = bool>,
{
	let every = Duration::from_millis(300);
	common::wait_until(what, CLOSE_DEADLINE, every, check, || node.log_tail()).await
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_are_finished_validated_shared_refunded_and_missed_through_the_client() {
	let base = tempfile::tempdir().expect("temporary base path");
	let mut node = DevNode::start(base.path(), "node.log", 1000);
	let client = ChainClient::new(node.connect().await);
	let hosts = [host(Sr25519Keyring::Alice), host(Sr25519Keyring::Bob)];
	let developer = subxt_signer::sr25519::dev::charlie();
	let prompt = b"What is the capital of France?";

	// Three requests, signed by the developer's account.
	let quote = client.quote(DEFAULT_MODEL, prompt.len() as u32, 16).await.expect("a quote");
	let mut submitted = Vec::new();
	for _ in 0..3 {
		let request = client
			.request(&developer, DEFAULT_MODEL, prompt, 16, SamplingParams::GREEDY)
			.await
			.expect("the developer's request is included");
		assert!(hosts.iter().any(|h| h.account == request.executor));
		submitted.push(request);
	}
	assert!(quote.is_some_and(|escrow| escrow > 0), "the model is priced");
	assert!(submitted.iter().all(|request| request.escrow > 0));

	// Each executor finishes with the worker key's signature.
	for request in &submitted {
		let (executor, _) = roles(request, &hosts);
		let executor = &hosts[executor];
		client
			.finish(&executor.account, &result(request.request), &executor.worker)
			.await
			.expect("the executor's result is included");
	}
	let view = client.request_view(submitted[0].request).await.unwrap().expect("the request");
	assert_eq!(view.text, b"Paris.".to_vec());
	let finish = view.request.finish.expect("a finish record");
	let cost = finish.cost;
	// Validators report from the block after the one that included `finish`.
	let last_finish = client
		.request_view(submitted[2].request)
		.await
		.unwrap()
		.and_then(|view| view.request.finish)
		.expect("the last request is finished")
		.at;
	until(&node, "a block after the last finish", || async {
		client.block_number().await.is_ok_and(|number| number > last_finish)
	})
	.await;

	// With two hosts the other one is always sampled (`InferenceApi::validators` says so):
	// it passes the first result and fails the second (holding all the eligible power, its
	// report closes the vote at once).
	for request in &submitted {
		let (_, validator) = roles(request, &hosts);
		let listed = client.validators(request.request).await.expect("the runtime API answers");
		assert_eq!(listed, Some(vec![hosts[validator].account.clone()]));
	}
	for (request, similarity) in [(&submitted[0], Perbill::one()), (&submitted[1], Perbill::zero())]
	{
		let (_, validator) = roles(request, &hosts);
		let validator = &hosts[validator];
		let report = InferenceValidation { request: request.request, similarity };
		client
			.validate(&validator.account, &report, &validator.worker)
			.await
			.expect("the validator's report is included");
	}
	let status = |id| {
		let client = client.clone();
		async move { client.request_view(id).await.ok().flatten().map(|view| view.request.status) }
	};
	assert!(matches!(
		status(submitted[1].request).await,
		Some(RequestStatus::Closed(Outcome::Invalidated))
	));

	// The validation window closes the first validated: the validator holds half its fee.
	let (_, validator) = roles(&submitted[0], &hosts);
	let validator_work_before =
		client.inference_host(&hosts[validator].account).await.unwrap().pending_work;
	until(&node, "the validated request closes", || async {
		matches!(
			status(submitted[0].request).await,
			Some(RequestStatus::Closed(Outcome::Validated))
		)
	})
	.await;
	let validator_work =
		client.inference_host(&hosts[validator].account).await.unwrap().pending_work;
	assert_eq!(validator_work, validator_work_before + cost / 2);

	// Nobody reported on the third: once its window is over, its executor shows it.
	let (executor, validator) = roles(&submitted[2], &hosts);
	until(&node, "the unchecked request closes", || async {
		matches!(
			status(submitted[2].request).await,
			Some(RequestStatus::Closed(Outcome::Unchecked))
		)
	})
	.await;
	let claim = MissingValidation {
		request: submitted[2].request,
		validator: hosts[validator].account.clone(),
	};
	let shown = client
		.report_missing(&hosts[executor].account, &claim, &hosts[executor].worker)
		.await
		.expect("the missing report is shown");
	let missed = shown
		.events
		.find_first::<ValidationMissed>()
		.expect("a ValidationMissed event")
		.expect("the event decodes");
	assert_eq!(missed.request, submitted[2].request);
	assert_eq!(missed.validator.0, *AsRef::<[u8; 32]>::as_ref(&hosts[validator].account));
	// Shown once: a second claim is refused by the pool.
	assert!(client
		.report_missing(&hosts[executor].account, &claim, &hosts[executor].worker)
		.await
		.is_err());
}
