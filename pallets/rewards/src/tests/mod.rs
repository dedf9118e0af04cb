//! The rules of "GNK issuance", one test (or more) each, and the attacks and bad input,
//! split by concern as the pallet is. Every test runs in
//! `ExtBuilder::default().build_and_execute(|| ..)`, so it ends with `do_try_state`. This
//! module holds the helpers the tests share.

mod collateral;
mod curve;
mod distribution;
mod exclusions;
mod governance;
mod properties;
mod vesting;

use crate::{mock::*, *};
use gonka_primitives::{EpochIndex, HostId};
use polkadot_sdk::frame_support::traits::fungible::InspectHold;

/// This pallet's events so far, oldest first.
fn rewards_events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Rewards(event) => Some(event),
			_ => None,
		})
		.collect()
}

/// The amount each host was paid for `epoch`, by host.
fn payouts(epoch: EpochIndex) -> Vec<(HostId, u128)> {
	let mut paid: Vec<(HostId, u128)> = rewards_events()
		.into_iter()
		.filter_map(|event| match event {
			Event::HostRewarded { epoch: e, host, amount, .. } if e == epoch => {
				Some((host, amount))
			}
			_ => None,
		})
		.collect();
	paid.sort();
	paid
}

/// The hosts whose share of `epoch`'s reward was withheld, with the reason.
fn withheld(epoch: EpochIndex) -> Vec<(HostId, Withheld)> {
	rewards_events()
		.into_iter()
		.filter_map(|event| match event {
			Event::RewardWithheld { epoch: e, host, reason, .. } if e == epoch => {
				Some((host, reason))
			}
			_ => None,
		})
		.collect()
}

/// The `EpochRewarded` event of `epoch`: (reward, paid, to_pool).
fn closed(epoch: EpochIndex) -> Option<(u128, u128, u128)> {
	rewards_events().into_iter().find_map(|event| match event {
		Event::EpochRewarded { epoch: e, reward, paid, to_pool, .. } if e == epoch => {
			Some((reward, paid, to_pool))
		}
		_ => None,
	})
}

/// What account `who` has on hold for `reason`.
fn held(reason: HoldReason, who: u8) -> u128 {
	Balances::balance_on_hold(&RuntimeHoldReason::Rewards(reason), &account(who))
}

/// A signed origin of account `who`.
fn signed(who: u8) -> RuntimeOrigin {
	RuntimeOrigin::signed(account(who))
}

/// Runs until `epoch`'s distribution is closed.
fn run_until_distributed(epoch: EpochIndex) {
	run_to_epoch(epoch + 2);
	let mut guard = 0;
	while Epochs::<Test>::contains_key(epoch) {
		run_to_block(System::block_number() + 1);
		guard += 1;
		assert!(guard < 100, "the distribution ends");
	}
}
