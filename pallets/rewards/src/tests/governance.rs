//! Governance: only `PoolOrigin` spends the community pool, which stays alive; the rules
//! are set only by `UpdateOrigin` and only when they pass their checks.

use super::*;
use polkadot_sdk::{
	frame_support::{assert_noop, assert_ok, traits::fungible::Inspect},
	frame_system::RawOrigin,
	sp_runtime::{DispatchError, Perbill},
};

#[test]
fn only_governance_spends_the_community_pool() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(Rewards::spend_from_pool(signed(1), account(7), 10), DispatchError::BadOrigin);
		assert_noop!(
			Rewards::spend_from_pool(RawOrigin::Root.into(), account(7), BALANCE),
			Error::<Test>::PoolTooLow
		);
		assert_noop!(
			Rewards::spend_from_pool(RawOrigin::Root.into(), account(7), 0),
			Error::<Test>::ZeroAmount
		);
		let before = Balances::balance(&account(7));
		assert_ok!(Rewards::spend_from_pool(RawOrigin::Root.into(), account(7), 1_000));
		assert_eq!(Balances::balance(&account(7)), before + 1_000);
		assert_eq!(Balances::balance(&account(POOL)), BALANCE - 1_000);
	});
}

#[test]
fn governance_sets_checked_rules() {
	ExtBuilder::default().build_and_execute(|| {
		let params = test_params();
		assert_noop!(Rewards::set_params(signed(1), params), DispatchError::BadOrigin);
		let bad = [
			(
				RewardParams { vesting_epochs: MAX_VESTING + 1, ..params },
				Error::<Test>::VestingTooLong,
			),
			(
				RewardParams { downtime_p_value: Perbill::zero(), ..params },
				Error::<Test>::BadDowntimeTest,
			),
			(
				RewardParams { downtime_p_value: Perbill::from_percent(50), ..params },
				Error::<Test>::BadDowntimeTest,
			),
			(RewardParams { reward_cap: Perbill::zero(), ..params }, Error::<Test>::ZeroRewardCap),
		];
		for (params, error) in bad {
			assert_noop!(Rewards::set_params(RawOrigin::Root.into(), params), error);
		}
		let new = RewardParams { vesting_epochs: 2, ..params };
		assert_ok!(Rewards::set_params(RawOrigin::Root.into(), new));
		assert_eq!(Params::<Test>::get(), new);
	});
}
