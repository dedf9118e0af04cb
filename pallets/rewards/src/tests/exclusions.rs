//! The exclusions: an INVALID host and a host that fails the downtime test get no reward
//! and are slashed, once per reason; the downtime threshold follows the network.

use super::*;
use pallet_inference::{DutyTotals, EpochStats, Ledger};
use polkadot_sdk::frame_support::{assert_ok, traits::fungible::Inspect};

#[test]
fn invalid_host_gets_no_reward_and_loses_20_percent_of_its_collateral() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Rewards::bond(signed(2), 1_000));
		form(0, &[(1, 10), (2, 10), (3, 10), (4, 10)]);
		Ledger::<Test>::insert(0, account(2), EpochStats { invalid: true, ..Default::default() });
		let pool_before = Balances::balance(&account(POOL));
		run_until_distributed(0);
		assert_eq!(withheld(0), vec![(account(2), Withheld::Invalid)]);
		assert_eq!(payouts(0).len(), 3);
		assert_eq!(held(HoldReason::Collateral, 2), 800);
		assert!(rewards_events().contains(&Event::Slashed {
			host: account(2),
			epoch: 0,
			reason: SlashReason::Invalid,
			amount: 200
		}));
		let (reward, paid, to_pool) = closed(0).unwrap();
		assert_eq!(paid, 3 * (reward / 4));
		assert_eq!(Balances::balance(&account(POOL)), pool_before + to_pool + 200);
	});
}

#[test]
fn downtime_host_gets_no_reward_and_loses_10_percent_of_its_collateral() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Rewards::bond(signed(3), 1_000));
		form(0, &[(1, 10), (2, 10), (3, 10), (4, 10)]);
		// Host 3 missed 40 of 50; the network missed 45 of 200 (22.5%): p0 = 40%.
		Ledger::<Test>::insert(
			0,
			account(3),
			EpochStats { assigned: 50, missed: 40, ..Default::default() },
		);
		// Host 1 missed 20 of 50: within p0.
		Ledger::<Test>::insert(
			0,
			account(1),
			EpochStats { assigned: 50, missed: 20, ..Default::default() },
		);
		pallet_inference::EpochTotals::<Test>::insert(0, DutyTotals { assigned: 200, missed: 60 });
		run_until_distributed(0);
		assert_eq!(withheld(0), vec![(account(3), Withheld::Downtime)]);
		assert_eq!(held(HoldReason::Collateral, 3), 900);
		assert_eq!(payouts(0).len(), 3);
	});
}

/// Attack (`docs/security.md`): a host takes every request assigned to it but never
/// validates when sampled (validation costs it compute and pays only when the result
/// passes). Rule: a sampled validation not reported is a duty missed, as a request not
/// finished is: the downtime test counts both.
#[test]
fn a_host_that_never_validates_fails_the_downtime_test() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Rewards::bond(signed(3), 1_000));
		form(0, &[(1, 10), (2, 10), (3, 10), (4, 10)]);
		// Host 3 finished its 10 requests and missed the 40 validations it was sampled
		// for; the network missed 45 of 200 duties (22.5%): p0 = 40%.
		Ledger::<Test>::insert(
			0,
			account(3),
			EpochStats { assigned: 10, missed_validations: 40, ..Default::default() },
		);
		pallet_inference::EpochTotals::<Test>::insert(0, DutyTotals { assigned: 200, missed: 45 });
		run_until_distributed(0);
		assert_eq!(withheld(0), vec![(account(3), Withheld::Downtime)]);
		assert_eq!(held(HoldReason::Collateral, 3), 900);
	});
}

#[test]
fn downtime_threshold_follows_the_network_miss_rate() {
	ExtBuilder::default().build_and_execute(|| {
		form(0, &[(1, 10), (2, 10), (3, 10), (4, 10)]);
		// Host 3 missed 30 of 50 (60%), but so did the network: p0 = 62%.
		Ledger::<Test>::insert(
			0,
			account(3),
			EpochStats { assigned: 50, missed: 30, ..Default::default() },
		);
		pallet_inference::EpochTotals::<Test>::insert(0, DutyTotals { assigned: 50, missed: 30 });
		run_until_distributed(0);
		assert!(withheld(0).is_empty());
		assert_eq!(payouts(0).len(), 4);
	});
}

#[test]
fn an_invalid_host_that_was_also_down_is_slashed_for_both_once_each() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Rewards::bond(signed(2), 1_000));
		form(0, &[(1, 10), (2, 10), (3, 10), (4, 10)]);
		Ledger::<Test>::insert(
			0,
			account(2),
			EpochStats { invalid: true, assigned: 10, missed: 10, ..Default::default() },
		);
		pallet_inference::EpochTotals::<Test>::insert(0, DutyTotals { assigned: 100, missed: 10 });
		run_until_distributed(0);
		// 20% of 1,000, then 10% of the 800 left.
		assert_eq!(held(HoldReason::Collateral, 2), 720);
		let slashes = rewards_events()
			.into_iter()
			.filter(|event| matches!(event, Event::Slashed { .. }))
			.count();
		assert_eq!(slashes, 2);
	});
}
