//! Collateral: bonding and its checks, slashing once per epoch and reason (bonded
//! first), the effective weight it makes after the grace epochs, and unbonding.

use super::*;
use pallet_inference::{EpochStats, Ledger};
use polkadot_sdk::{
	frame_support::{assert_noop, assert_ok, traits::fungible::Inspect},
	sp_runtime::Perbill,
};

#[test]
fn slash_once_per_epoch_and_reason() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Rewards::bond(signed(2), 1_000));
		let invalid = Perbill::from_percent(20);
		Rewards::slash(&account(2), 3, SlashReason::Invalid, invalid);
		Rewards::slash(&account(2), 3, SlashReason::Invalid, invalid);
		assert_eq!(held(HoldReason::Collateral, 2), 800, "the second slash of epoch 3 is void");
		Rewards::slash(&account(2), 3, SlashReason::Downtime, Perbill::from_percent(10));
		assert_eq!(held(HoldReason::Collateral, 2), 720, "another reason slashes");
		Rewards::slash(&account(2), 4, SlashReason::Invalid, invalid);
		assert_eq!(held(HoldReason::Collateral, 2), 576, "another epoch slashes");
	});
}

#[test]
fn unbonding_collateral_is_slashed_after_the_bonded() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Rewards::bond(signed(2), 1_000));
		assert_ok!(Rewards::unbond(signed(2), 950));
		Rewards::slash(&account(2), 0, SlashReason::Invalid, Perbill::from_percent(20));
		let state = Collateral::<Test>::get(account(2)).unwrap();
		assert_eq!((state.bonded, state.unbonding), (0, 800));
		assert_eq!(held(HoldReason::Collateral, 2), 800);
	});
}

#[test]
fn collateral_shortfall_limits_the_reward_share_after_the_grace_epochs() {
	ExtBuilder::default().build_and_execute(|| {
		let hosts = [(1, 100), (2, 100), (3, 100), (4, 100)];
		// Host 1 is covered, 2 and 3 partly, 4 not at all (1 unit of collateral per weight
		// unit beyond the free 20).
		assert_ok!(Rewards::bond(signed(1), 5_000));
		assert_ok!(Rewards::bond(signed(2), 30));
		assert_ok!(Rewards::bond(signed(3), 80));
		// Grace: the first two rewarded epochs pay the whole weight.
		form(0, &hosts);
		form(1, &hosts);
		// From e = 3 on: effective 100, 50, 100, 20.
		form(2, &hosts);
		run_until_distributed(2);
		for epoch in 0..2 {
			let reward = closed(epoch).unwrap().0;
			let shares: Vec<u128> = payouts(epoch).into_iter().map(|(_, amount)| amount).collect();
			assert_eq!(shares, vec![reward / 4; 4], "epoch {epoch}: grace");
		}
		let (reward, paid, to_pool) = closed(2).unwrap();
		let shares: Vec<u128> = payouts(2).into_iter().map(|(_, amount)| amount).collect();
		// The cap level of four equal weights cuts nothing; shares of the uncapped 400.
		assert_eq!(shares, vec![reward / 4, reward / 8, reward / 4, reward / 20]);
		assert_eq!(to_pool, reward - paid, "the shortfall goes to the pool");
		assert!(to_pool >= reward * 3 / 10);
	});
}

#[test]
fn unbonding_collateral_covers_no_weight_and_the_view_shows_the_requirement() {
	// The next formation is the third rewarded epoch: past the two grace epochs.
	ExtBuilder::default().next_rewarded_epoch(3).build_and_execute(|| {
		form(0, &[(1, 100), (2, 100), (3, 100), (4, 100)]);
		assert_ok!(Rewards::bond(signed(2), 5_000));
		let view = Rewards::host_view(&account(2));
		assert_eq!((view.weight, view.effective_weight, view.collateral_required), (100, 100, 80));
		assert!(!view.in_grace);
		assert_ok!(Rewards::unbond(signed(2), 4_950));
		let view = Rewards::host_view(&account(2));
		assert_eq!((view.effective_weight, view.bonded, view.unbonding), (70, 50, 4_950));
		assert_eq!(Rewards::host_view(&account(4)).effective_weight, 20);
	});
}

#[test]
fn unbonding_takes_one_epoch() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Rewards::bond(signed(5), 100));
		assert_ok!(Rewards::unbond(signed(5), 40));
		assert_noop!(Rewards::withdraw_unbonded(signed(5)), Error::<Test>::UnbondingNotDue);
		run_to_block(epoch_start(1) - 1);
		assert_noop!(Rewards::withdraw_unbonded(signed(5)), Error::<Test>::UnbondingNotDue);
		run_to_epoch(1);
		let free = Balances::balance(&account(5));
		assert_ok!(Rewards::withdraw_unbonded(signed(5)));
		assert_eq!(Balances::balance(&account(5)), free + 40);
		assert_eq!(held(HoldReason::Collateral, 5), 60);
		assert_noop!(Rewards::withdraw_unbonded(signed(5)), Error::<Test>::NothingUnbonding);
	});
}

#[test]
fn unbonding_waits_until_the_epochs_it_backed_are_distributed() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Rewards::bond(signed(2), 1_000));
		form(0, &[(1, 10), (2, 10), (3, 10), (4, 10)]);
		assert_ok!(Rewards::unbond(signed(2), 1_000));
		run_to_epoch(1);
		// Epoch 0 is not distributed: its slash could still come.
		assert_noop!(Rewards::withdraw_unbonded(signed(2)), Error::<Test>::StillSlashable);
		Ledger::<Test>::insert(0, account(2), EpochStats { invalid: true, ..Default::default() });
		run_until_distributed(0);
		assert_eq!(held(HoldReason::Collateral, 2), 800, "slashed while unbonding");
		assert_ok!(Rewards::withdraw_unbonded(signed(2)));
		assert_eq!(held(HoldReason::Collateral, 2), 0);
		assert!(!Collateral::<Test>::contains_key(account(2)));
	});
}

#[test]
fn bond_checks_its_input_and_holds_nothing_on_failure() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(Rewards::bond(signed(5), 0), Error::<Test>::ZeroAmount);
		assert_noop!(Rewards::bond(signed(5), BALANCE + 1), Error::<Test>::InsufficientBalance);
		assert_noop!(Rewards::bond(signed(60), 10), Error::<Test>::InsufficientBalance);
		assert_ok!(Rewards::bond(signed(5), 10));
		assert_ok!(Rewards::bond(signed(5), 15));
		assert_eq!(Collateral::<Test>::get(account(5)).unwrap().bonded, 25);
		assert_noop!(Rewards::unbond(signed(5), 26), Error::<Test>::NotBonded);
		assert_noop!(Rewards::unbond(signed(5), 0), Error::<Test>::ZeroAmount);
		assert_noop!(Rewards::unbond(signed(6), 1), Error::<Test>::NotBonded);
		assert_noop!(Rewards::withdraw_unbonded(signed(6)), Error::<Test>::NothingUnbonding);
		assert_noop!(Rewards::claim(signed(6)), Error::<Test>::NothingToClaim);
	});
}
