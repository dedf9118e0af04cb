//! One test per rule of `protocol.md`'s "Inference" section, and the attacks and bad input,
//! in one file per concern; this module holds what they share. Every test runs in
//! [`ExtBuilder::build_and_execute`], so it ends with the pallet's `do_try_state()` (and
//! `run_to_block` checks it after every block).

use crate::{mock::*, *};
use polkadot_sdk::{
	frame_support::{
		assert_ok,
		traits::fungible::{Inspect, InspectHold},
	},
	sp_runtime::Perbill,
};

mod abuse;
mod fees;
mod governance;
mod hygiene;
mod missing_validations;
mod pricing;
mod refusal_and_expiry;
mod requests;
mod results;
mod runtime_api;
mod status;
mod validation;
mod votes;

/// Developer 20's held escrow.
fn escrow_held() -> u128 {
	Balances::balance_on_hold(&HoldReason::Escrow.into(), &account(DEVELOPER))
}

/// Host `i`'s held pending work.
fn work_held(i: u8) -> u128 {
	Balances::balance_on_hold(&HoldReason::WorkBalance.into(), &account(i))
}

/// Host or developer `i`'s free balance.
fn free(i: u8) -> u128 {
	Balances::balance(&account(i))
}

/// Request `id`'s status.
fn status(id: u64) -> RequestStatus {
	Requests::<Test>::get(id).expect("the request exists").status
}

/// Model 1's tokens' escrow for `submit()`: (10 prompt bytes + 10 overhead + 8 tokens) × 2.
const TOKENS_ESCROW: u128 = 56;
/// What `submit()` holds: the tokens' escrow and the timer deposit.
const ESCROW: u128 = TOKENS_ESCROW + TIMER_DEPOSIT;
/// `result(id, 5)`'s cost: (12 + 5) × 2.
const COST: u128 = 34;
/// The validators' half of `COST` when the request is validated.
const SHARE: u128 = COST / 2;

/// A request made now and finished in the next block (where its executor is drawn; block
/// 2 when made at block 1) by its executor with 5 tokens; returns (id, executor).
fn finished() -> (u64, u8) {
	let id = submit();
	let executor = executor_of(id);
	assert_ok!(finish_as(executor, result(id, 5)));
	(id, executor)
}

/// Two requests made in one block (the timer budget draws two a block) and finished in the
/// next by their executors; the chain is moved to the block after, where validators
/// report. Returns each one's (id, executor): a result a block, as tests of a whole epoch
/// need.
fn finished_pair() -> Vec<(u64, u8)> {
	let ids = [queue(), queue()];
	run_to_block(System::block_number() + 1);
	let done = ids
		.into_iter()
		.map(|id| {
			let executor = executor_of(id);
			assert_ok!(finish_as(executor, result(id, 5)));
			(id, executor)
		})
		.collect();
	run_to_block(System::block_number() + 1);
	done
}

/// A finished request ([`finished`]) that the hash rule gives at least one validator among
/// `hosts`; the chain is moved to the block after `finish`, where the validators can
/// report.
fn finished_with_validators(hosts: &[u8]) -> (u64, u8, Vec<u8>) {
	for _ in 0..20 {
		let (id, executor) = finished();
		run_to_block(System::block_number() + 1);
		let validators = sampled(id, hosts);
		if !validators.is_empty() {
			return (id, executor, validators);
		}
	}
	panic!("twenty requests without a sampled validator")
}

/// Four hosts of equal power (each other host is sampled with probability 1/3): a request
/// finished by its executor that the hash rule left one host out of; the chain is moved to
/// the block after `finish`. Returns (request, executor, the host left out).
fn finished_with_an_outsider() -> (u64, u8, u8) {
	for _ in 0..20 {
		let (id, executor) = finished();
		run_to_block(System::block_number() + 1);
		let chosen = sampled(id, &[1, 2, 3, 4]);
		if let Some(&outsider) =
			[1, 2, 3, 4].iter().find(|&&i| i != executor && !chosen.contains(&i))
		{
			return (id, executor, outsider);
		}
	}
	panic!("no request left a host unsampled");
}

/// Four hosts; a finished request whose sampled validator reports a failing similarity.
/// Returns (request, executor, the failing validator).
fn failed_validation() -> (u64, u8, u8) {
	let (id, executor, validators) = finished_with_validators(&[1, 2, 3, 4]);
	let validator = validators[0];
	assert_ok!(validate_as(validator, id, Perbill::from_percent(50)));
	(id, executor, validator)
}
