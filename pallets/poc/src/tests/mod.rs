//! The pallet's tests, one per rule of `protocol.md` it implements plus bad input, in files
//! by concern. Each test runs in `ExtBuilder::build_and_execute` (`mock.rs`), so it ends
//! with the pallet's invariants (`do_try_state`), which `run_to_block` also checks after
//! every block. This module holds the helpers the files share.

mod commit;
mod epochs;
mod formation;
mod hosts;
mod migrations;
mod power_generations;
mod runtime_api;
mod validation;

use crate::{
	mock::*, EpochInfo, EpochParams, Error, Event, HoldReason, Hosts, NextEpochParams, Phase,
	WorkerKeys,
};
use polkadot_sdk::{
	frame_support::{assert_noop, assert_ok, traits::fungible::InspectHold as _},
	sp_core::Pair,
	sp_runtime::DispatchError,
};

/// Host `i` registers with its worker key and endpoint, serving `models`.
fn register(i: u8, models: Vec<u32>) -> polkadot_sdk::frame_support::dispatch::DispatchResult {
	Poc::register_host(
		RuntimeOrigin::signed(account(i)),
		worker(i).public(),
		key_proof(i, i),
		endpoint(i),
		models,
	)
}

/// Worker key `key`'s proof of ownership for host `i` on this chain.
fn key_proof(i: u8, key: u8) -> polkadot_sdk::sp_core::sr25519::Signature {
	gonka_primitives::duty::prove_key_ownership(&Poc::genesis_hash(), &account(i), &worker(key))
}

/// The deposit held from account `i`.
fn held(i: u8) -> u64 {
	Balances::balance_on_hold(&RuntimeHoldReason::Poc(HoldReason::HostRegistration), &account(i))
}
