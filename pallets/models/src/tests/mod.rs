//! Every rule of the registry and of governance, and bad input, by concern:
//!
//! - `registry`: the registry's life cycle, changes at the next epoch start, bounds;
//! - `checks`: invalid records and governance parameters, oversized fields;
//! - `proposals`: proposing and voting, the deposit and the snapshot;
//! - `tally`: quorum, threshold and veto at their boundaries, closing early;
//! - `closing`: the `ComputeMajority` dispatch, the bounds of `close`, cleaning up;
//! - `expiry`: proposals closed by the chain after their closing period, a passed one lapsing;
//! - `migrations`: each storage migration, from a state written in the old layout.
//!
//! Every test runs in `ExtBuilder::build_and_execute`, which checks the pallet's
//! invariants (`do_try_state`) when the test ends. The helpers below are shared.

mod checks;
mod closing;
mod expiry;
mod migrations;
mod proposals;
mod registry;
mod tally;

use crate::{mock::*, *};
use codec::Encode;
use polkadot_sdk::{
	frame_support::{
		assert_noop, assert_ok,
		traits::{fungible::InspectHold, EnsureOrigin},
		weights::Weight,
	},
	frame_system::{self, RawOrigin},
	sp_arithmetic::{FixedU128, Perbill},
	sp_runtime::{DispatchError, TokenError},
};

type ModelsCall = crate::Call<Test>;

fn root() -> RuntimeOrigin {
	RawOrigin::Root.into()
}

fn signed(who: u64) -> RuntimeOrigin {
	RawOrigin::Signed(who).into()
}

fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Models(event) => Some(event),
			_ => None,
		})
		.collect()
}

fn register_call(name: &str) -> Box<RuntimeCall> {
	Box::new(RuntimeCall::Models(ModelsCall::register_model { record: record(name) }))
}

fn open(proposer: u64, call: Box<RuntimeCall>) -> ProposalIndex {
	let index = ProposalCount::<Test>::get();
	assert_ok!(Models::propose(signed(proposer), call));
	index
}

fn close(
	index: ProposalIndex,
) -> polkadot_sdk::frame_support::dispatch::DispatchResultWithPostInfo {
	Models::close(signed(9), index, Weight::MAX, 16)
}

fn held(who: u64) -> u64 {
	Balances::balance_on_hold(&HoldReason::ProposalDeposit.into(), &who)
}

fn closed_with(index: ProposalIndex) -> Outcome {
	events()
		.into_iter()
		.find_map(|event| match event {
			Event::Closed { index: closed, outcome, .. } if closed == index => Some(outcome),
			_ => None,
		})
		.expect("the proposal closed")
}

/// Sets the hosts' power: `powers[i]` for host `i + 1`, nobody else.
fn powers(powers: &[u128]) {
	for host in 1..=8 {
		TestPower::set(host, 0);
	}
	for (i, power) in powers.iter().enumerate() {
		TestPower::set(i as u64 + 1, *power);
	}
}
