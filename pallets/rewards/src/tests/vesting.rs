//! Vesting: one slot unlocks per epoch, several rewards add up, `claim` releases what
//! has unlocked, and no vesting pays free at once.

use super::*;
use polkadot_sdk::{
	frame_support::{assert_noop, assert_ok, traits::fungible::Inspect},
	frame_system::RawOrigin,
};

#[test]
fn rewards_vest_one_slot_per_epoch() {
	ExtBuilder::default().build_and_execute(|| {
		form(0, &[(1, 1)]);
		run_until_distributed(0);
		// Distributed in epoch 2: 4 slots unlock at the starts of epochs 3, 4, 5 and 6.
		assert_eq!(held(HoldReason::Vesting, 1), FIRST_REWARD);
		assert_noop!(Rewards::claim(signed(1)), Error::<Test>::NothingToClaim);
		let view = Rewards::host_view(&account(1));
		assert_eq!((view.vesting, view.claimable), (FIRST_REWARD, 0));
		let free = Balances::balance(&account(1));
		run_to_epoch(3);
		assert_eq!(Rewards::host_view(&account(1)).claimable, FIRST_REWARD / 4);
		assert_ok!(Rewards::claim(signed(1)));
		assert_eq!(Balances::balance(&account(1)), free + FIRST_REWARD / 4);
		assert_noop!(Rewards::claim(signed(1)), Error::<Test>::NothingToClaim);
		run_to_epoch(5);
		assert_ok!(Rewards::claim(signed(1)));
		assert_eq!(Balances::balance(&account(1)), free + 3 * (FIRST_REWARD / 4));
		run_to_epoch(6);
		assert_ok!(Rewards::claim(signed(1)));
		assert_eq!(Balances::balance(&account(1)), free + FIRST_REWARD);
		assert_eq!(held(HoldReason::Vesting, 1), 0);
		assert!(!Vesting::<Test>::contains_key(account(1)), "an empty state is removed");
	});
}

#[test]
fn vesting_streams_of_several_epochs_add_up_and_the_remainder_unlocks_first() {
	ExtBuilder::default().build_and_execute(|| {
		// Epoch 0 pays 1,000,000 and epoch 1 500,000 (the test curve halves), both to host 1,
		// distributed in epochs 2 and 3, vesting over 4 epochs each.
		form(0, &[(1, 1)]);
		form(1, &[(1, 1)]);
		run_until_distributed(1);
		let state = Vesting::<Test>::get(account(1)).unwrap();
		// Epoch 3's slot (250,000 of epoch 0) unlocked when epoch 1's reward was added.
		assert_eq!((state.first_epoch, state.claimable), (4, 250_000));
		let view = Rewards::host_view(&account(1));
		assert_eq!(view.claimable, 250_000);
		assert_eq!(view.vesting, 3 * 250_000 + 500_000);
		run_to_epoch(7);
		assert_eq!(Rewards::host_view(&account(1)).claimable, 1_500_000);
		assert_eq!(Rewards::host_view(&account(1)).vesting, 0);
		assert_ok!(Rewards::claim(signed(1)));
		assert_eq!(held(HoldReason::Vesting, 1), 0);
	});
	// An odd amount: the remainder of the split unlocks in the first slot.
	let mut state = VestingOf::<Test>::empty(0);
	assert!(state.add(0, 10, 4));
	assert_eq!(state.slots.to_vec(), vec![4, 2, 2, 2]);
	assert_eq!(state.first_epoch, 1);
	state.roll(2);
	assert_eq!((state.claimable, state.vesting(), state.first_epoch), (6, 4, 3));
	// Slots beyond the bound are refused, changing nothing.
	assert!(!state.add(2, 10, MAX_VESTING + 1));
	assert!(!state.add(10, 10, 0));
}

#[test]
fn no_vesting_pays_free_at_once() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Rewards::set_params(
			RawOrigin::Root.into(),
			RewardParams { vesting_epochs: 0, ..test_params() }
		));
		let free = Balances::balance(&account(1));
		form(0, &[(1, 1)]);
		run_until_distributed(0);
		assert_eq!(Balances::balance(&account(1)), free + FIRST_REWARD);
		assert_eq!(held(HoldReason::Vesting, 1), 0);
	});
}
