//! Inference on the runtime with the development preset: a developer's request for the
//! default model is priced from the model registry, drawn to one of the two genesis hosts,
//! finished by that host's worker key through the runtime's `authorize` path, validated by
//! the other host (the hash rule samples it: it holds all the power besides the
//! executor's) and closed validated; the runtime API reads it back.

use gonka_primitives::{
	duty::{Duty, InferenceFinish, InferenceValidation},
	inference::SamplingParams,
};
use gonka_runtime::{
	configs::DEFAULT_MODEL, Balances, Inference, Poc, Runtime, RuntimeCall, RuntimeOrigin, System,
};
use pallet_inference::{HoldReason, Outcome, RequestStatus, Requests};
use polkadot_sdk::{
	frame_support::{
		assert_ok,
		traits::{fungible::InspectHold, Authorize, Hooks},
	},
	frame_system::{self, RawOrigin},
	sp_genesis_builder::DEV_RUNTIME_PRESET,
	sp_keyring::Sr25519Keyring,
	sp_runtime::{
		traits::Dispatchable, transaction_validity::TransactionSource, BoundedVec, Perbill,
	},
};

mod common;
use common::chain_from_preset;

/// Runs blocks up to `n`: each records its parent's hash, then PoC's and inference's hooks.
fn run_to(n: u32) {
	while System::block_number() < n {
		let now = System::block_number();
		frame_system::BlockHash::<Runtime>::insert(now, System::parent_hash());
		System::set_block_number(now + 1);
		Poc::on_initialize(now + 1);
		Inference::on_initialize(now + 1);
	}
}

/// The worker key of a genesis host (`dev_hosts`: Alice's worker is `//Alice//stash`).
fn worker_of(host: &gonka_runtime::AccountId) -> Sr25519Keyring {
	if *host == Sr25519Keyring::Alice.to_account_id() {
		Sr25519Keyring::AliceStash
	} else {
		Sr25519Keyring::BobStash
	}
}

/// Authorizes a duty call as the pool would and dispatches it as the block builder would.
fn duty(call: pallet_inference::Call<Runtime>) {
	assert_ok!(call
		.authorize(TransactionSource::External)
		.expect("a duty call has an authorize rule"));
	assert_ok!(RuntimeCall::Inference(call).dispatch(RawOrigin::Authorized.into()));
}

#[test]
fn a_developers_request_is_executed_validated_and_paid_on_the_development_chain() {
	chain_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		run_to(2);
		let developer = Sr25519Keyring::Charlie.to_account_id();
		let record = pallet_models::Registry::<Runtime>::get(DEFAULT_MODEL)
			.expect("the default model is registered")
			.record;
		let prompt = b"What is the capital of France?".to_vec();
		let quote = Inference::quote(DEFAULT_MODEL, prompt.len() as u32, 16);
		assert_ok!(Inference::request(
			RuntimeOrigin::signed(developer.clone()),
			DEFAULT_MODEL,
			BoundedVec::truncate_from(prompt.clone()),
			16,
			SamplingParams::GREEDY,
		));
		let queued = Requests::<Runtime>::get(0).expect("the request is stored");
		assert_eq!(queued.status, RequestStatus::Queued);
		// Its executor is drawn in the next block.
		run_to(3);
		let request = Requests::<Runtime>::get(0).expect("the request is stored");
		assert_eq!(request.status, RequestStatus::Assigned);
		// The tokens' escrow and the timer deposit.
		let escrow = (prompt.len() as u128 + u128::from(record.template_overhead) + 16)
			* record.price
			+ Inference::timer_deposit(&pallet_inference::Params::<Runtime>::get());
		assert_eq!(request.escrow, escrow);
		assert_eq!(quote, Some(escrow));
		let hosts = [Sr25519Keyring::Alice.to_account_id(), Sr25519Keyring::Bob.to_account_id()];
		assert!(hosts.contains(&request.executor));

		// The executor's worker answers with five tokens and the end of its turn.
		let executor = request.executor.clone();
		let result = InferenceFinish {
			request: 0,
			token_ids: BoundedVec::truncate_from(vec![504, 3575, 282, 4649, 30, 2]),
			text: BoundedVec::truncate_from(b"Paris.".to_vec()),
			prompt_tokens: 20,
		};
		let signature = result.sign(&Poc::genesis_hash(), &executor, &worker_of(&executor).pair());
		duty(pallet_inference::Call::finish { executor: executor.clone(), result, signature });
		let cost = (20 + 6) * record.price;
		let held = |who| Balances::balance_on_hold(&HoldReason::WorkBalance.into(), who);
		assert_eq!(held(&executor), cost);
		assert_eq!(Balances::balance_on_hold(&HoldReason::Escrow.into(), &developer), 0);

		// The other host validates from the next block on.
		run_to(4);
		let validator = hosts.iter().find(|h| **h != executor).expect("two hosts").clone();
		let report = InferenceValidation { request: 0, similarity: Perbill::one() };
		let signature =
			report.sign(&Poc::genesis_hash(), &validator, &worker_of(&validator).pair());
		duty(pallet_inference::Call::validate { validator: validator.clone(), report, signature });

		let window = pallet_inference::Params::<Runtime>::get().validation_window;
		run_to(3 + window);
		let view = Inference::request_view(0).expect("kept until the retention ends");
		assert_eq!(view.request.status, RequestStatus::Closed(Outcome::Validated));
		assert_eq!(view.text, b"Paris.".to_vec());
		// The validator's half of the cost (Gonka's 50%), the executor the rest.
		let share = cost / 2;
		assert_eq!(Inference::host_view(&executor).pending_work, cost - share);
		assert_eq!(Inference::host_view(&validator).pending_work, share);
		assert_eq!(Inference::host_view(&executor).stats.validated, 1);
	});
}

/// The validator sample is drawn from the hash of the block that included `finish`, which
/// frame-system keeps for `BlockHashCount` blocks: the live network's validation window
/// must end well within that, and governance may not set one that does not
/// (`pallet-inference` refuses it with `WindowBeyondBlockHashes`).
#[test]
fn the_validation_window_ends_before_the_block_hashes_are_pruned() {
	let horizon: u32 = <Runtime as frame_system::Config>::BlockHashCount::get();
	let live = pallet_inference::InferenceParams::<u32>::live_network();
	assert!(live.validation_window < horizon, "{} ≥ {horizon}", live.validation_window);
	chain_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		let params = pallet_inference::Params::<Runtime>::get();
		assert!(params.validation_window < horizon);
		let long = pallet_inference::InferenceParams { validation_window: horizon, ..params };
		assert!(Inference::set_params(RuntimeOrigin::root(), long).is_err());
	});
}

/// The timer deposit with the runtime's weights and the live rules: the fee of eight
/// assignment timers (refusal after 20 of 150 blocks), each at least the existential
/// deposit, so that it reaches the community pool whatever that account holds. Run with
/// `--nocapture` to print the amounts `docs/inference.md` gives.
#[test]
fn the_timer_deposit_pays_eight_timers_of_at_least_the_existential_deposit_each() {
	let live = pallet_inference::InferenceParams::<u32>::live_network();
	let fee = Inference::timer_fee();
	let deposit = Inference::timer_deposit(&live);
	println!("timer fee {fee} nGNK, deposit {deposit} nGNK");
	assert_eq!((live.expiration - 1).div_ceil(live.refusal_timeout), 8);
	assert_eq!(deposit, 8 * fee);
	assert!(fee >= gonka_runtime::EXISTENTIAL_DEPOSIT, "{fee}");
}
