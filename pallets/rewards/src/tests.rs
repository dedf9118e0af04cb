//! The rules of "GNK issuance", one test (or more) each, and the attacks and bad input.

use crate::{mock::*, *};
use gonka_primitives::{
	issuance::{reward_shares, DECAY_ONE},
	EpochIndex, HostId,
};
use pallet_inference::{DutyTotals, EpochStats, Ledger};
use polkadot_sdk::{
	frame_support::{
		assert_noop, assert_ok,
		traits::fungible::{Inspect, InspectHold},
	},
	frame_system::RawOrigin,
	sp_runtime::{DispatchError, Perbill},
};

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

fn held(reason: HoldReason, who: u8) -> u128 {
	Balances::balance_on_hold(&RuntimeHoldReason::Rewards(reason), &account(who))
}

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

#[test]
fn epoch_reward_is_paid_by_weight_and_the_rest_goes_to_the_pool() {
	test(|| {
		let weights = [(1, 10), (2, 20), (3, 30), (4, 40)];
		form(0, &weights);
		let pool_before = Balances::balance(&account(POOL));
		run_until_distributed(0);
		let (reward, paid, to_pool) = closed(0).expect("epoch 0 closed");
		assert_eq!(reward, FIRST_REWARD);
		assert_eq!(paid + to_pool, reward, "paid + to_pool = R(e)");
		let expected = reward_shares(reward, &[10, 20, 30, 40], Perbill::from_percent(30));
		let paid_to: Vec<(HostId, u128)> = payouts(0);
		assert_eq!(paid_to, (1..=4).map(account).zip(expected.iter().copied()).collect::<Vec<_>>());
		assert_eq!(paid, expected.iter().sum::<u128>());
		assert_eq!(Balances::balance(&account(POOL)), pool_before + to_pool);
		// Each share is held on the host, vesting.
		for (i, share) in (1..=4).zip(expected) {
			assert_eq!(held(HoldReason::Vesting, i), share);
		}
	});
}

#[test]
fn the_reward_cap_cuts_a_dominant_host_and_the_excess_goes_to_the_pool() {
	test(|| {
		// Host 4 holds 97% of the weight: it is cut to the 30% level; the others keep their
		// share of the uncapped total; nothing is redistributed.
		form(0, &[(1, 1), (2, 1), (3, 1), (4, 97)]);
		run_until_distributed(0);
		let (reward, paid, to_pool) = closed(0).unwrap();
		for (_, amount) in payouts(0) {
			assert!(amount * 10 <= reward * 3, "no payout exceeds 30% of R(e)");
		}
		assert_eq!(payouts(0)[0].1, reward / 100, "an uncut host gets w / Σw");
		assert!(to_pool > reward / 2, "the cut excess goes to the pool");
		assert_eq!(paid + to_pool, reward);
	});
}

#[test]
fn small_network_exception_a_lone_host_gets_the_whole_reward() {
	test(|| {
		form(0, &[(1, 5)]);
		run_until_distributed(0);
		assert_eq!(payouts(0), vec![(account(1), FIRST_REWARD)]);
		assert_eq!(closed(0), Some((FIRST_REWARD, FIRST_REWARD, 0)));
	});
}

#[test]
fn distribution_waits_for_the_ledger_and_is_bounded_per_block() {
	test(|| {
		form(0, &[(1, 1), (2, 1), (3, 1), (4, 1), (5, 1), (6, 1), (7, 1)]);
		// The ledger of epoch 0 is final once epoch 0 + LedgerEpochs (1) has ended.
		run_to_block(epoch_start(2) - 1);
		assert_eq!(Epochs::<Test>::get(0).unwrap().decided, 0);
		run_to_block(epoch_start(2));
		assert_eq!(Epochs::<Test>::get(0).unwrap().decided, PAYOUTS_PER_BLOCK);
		run_to_block(epoch_start(2) + 1);
		assert_eq!(Epochs::<Test>::get(0).unwrap().decided, 2 * PAYOUTS_PER_BLOCK);
		run_to_block(epoch_start(2) + 2);
		assert!(!Epochs::<Test>::contains_key(0), "7 hosts in 3 blocks");
		assert_eq!(payouts(0).len(), 7);
		assert!(Queue::<Test>::get().is_empty());
		assert_eq!(EpochWeights::<Test>::iter_prefix(0).count(), 0, "weights pruned");
	});
}

#[test]
fn inference_settles_an_epoch_only_after_its_distribution() {
	test(|| {
		form(0, &[(1, 1), (2, 1), (3, 1), (4, 1), (5, 1), (6, 1), (7, 1)]);
		Ledger::<Test>::insert(0, account(1), EpochStats { assigned: 1, ..Default::default() });
		pallet_inference::EpochTotals::<Test>::insert(0, DutyTotals { assigned: 1, missed: 0 });
		run_to_block(epoch_start(2) + 1);
		// Distribution in progress: the ledger is still there for it.
		assert!(Epochs::<Test>::contains_key(0));
		assert_eq!(pallet_inference::UnsettledEpoch::<Test>::get(), 0);
		assert!(Ledger::<Test>::contains_key(0, account(1)));
		run_to_block(epoch_start(2) + 4);
		assert!(!Epochs::<Test>::contains_key(0));
		assert_eq!(pallet_inference::UnsettledEpoch::<Test>::get(), 1);
		assert!(!Ledger::<Test>::contains_key(0, account(1)));
	});
}

#[test]
fn invalid_host_gets_no_reward_and_loses_20_percent_of_its_collateral() {
	test(|| {
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
	test(|| {
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

#[test]
fn downtime_threshold_follows_the_network_miss_rate() {
	test(|| {
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
	test(|| {
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

#[test]
fn slash_once_per_epoch_and_reason() {
	test(|| {
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
	test(|| {
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
	test(|| {
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
	test(|| {
		Curve::<Test>::mutate(|curve| curve.next_epoch = 3);
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
	test(|| {
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
	test(|| {
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
fn rewards_vest_one_slot_per_epoch() {
	test(|| {
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
	test(|| {
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
	test(|| {
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

#[test]
fn a_share_that_cannot_be_minted_goes_to_the_pool() {
	test(|| {
		// Account 50 does not exist and its share (7 of 1,000,000) is below the existential
		// deposit: it cannot receive it.
		let mut weights: Vec<(u8, u128)> = (1..=4).map(|i| (i, 1_000_000)).collect();
		weights.push((50, 30));
		form(0, &weights);
		run_until_distributed(0);
		assert_eq!(withheld(0), vec![(account(50), Withheld::Unpayable)]);
		let (reward, paid, to_pool) = closed(0).unwrap();
		assert_eq!(paid + to_pool, reward);
		assert_eq!(Balances::balance(&account(50)), 0);
	});
}

#[test]
fn total_minted_follows_the_curve_and_never_passes_the_cap() {
	test(|| {
		// The test curve halves: 1,000,000, 500,000, 250,000, … Six epochs.
		let mut expected = 0u128;
		for epoch in 0..6 {
			form(epoch, &[(1, 3), (2, 5), (3, 7), (4, 11), (5, 13)]);
			expected += FIRST_REWARD >> epoch;
			run_to_epoch(epoch + 1);
		}
		run_until_distributed(5);
		assert_eq!(Curve::<Test>::get().minted, expected);
		for epoch in 0..6 {
			let (reward, paid, to_pool) = closed(epoch).unwrap();
			assert_eq!(reward, FIRST_REWARD >> epoch);
			assert_eq!(paid + to_pool, reward, "epoch {epoch}");
			for (_, amount) in payouts(epoch) {
				assert!(amount * 10 <= reward * 3, "no payout above 30%");
			}
		}
		// Near the cap the curve pays only what is left, then nothing.
		Curve::<Test>::mutate(|curve| curve.cap = curve.minted + 7);
		form(6, &[(1, 1)]);
		form(7, &[(1, 1)]);
		assert_eq!(Epochs::<Test>::get(6).unwrap().reward, 7);
		assert_eq!(Epochs::<Test>::get(7).unwrap().reward, 0);
		assert_eq!(Curve::<Test>::get().minted, Curve::<Test>::get().cap);
		run_until_distributed(7);
	});
}

#[test]
fn poc_formation_schedules_the_epoch_reward() {
	test(|| {
		use pallet_poc::{Commitment, Tallies, Tally};
		// Hosts 1–4 commit in epoch 0; validation opens at block 7 and builds the roster.
		for i in 1..=4u8 {
			pallet_poc::Commitments::<Test>::insert(
				0,
				(account(i), 1),
				Commitment { count: 10 * u64::from(i), root: Default::default(), submissions: 1 },
			);
		}
		run_to_block(7);
		// Every other host says valid (power 1 each: 3 > 2·3 / 3).
		Tallies::<Test>::mutate(0, 1, |roster| {
			for (_, tally) in roster.iter_mut() {
				*tally = Tally { valid: 3, invalid: 0 };
			}
		});
		run_to_block(12);
		let info = Epochs::<Test>::get(0).expect("the formation scheduled epoch 0");
		assert_eq!(
			(info.index, info.reward, info.hosts, info.total_weight),
			(1, FIRST_REWARD, 4, 100)
		);
		assert_eq!(EpochWeights::<Test>::get(0, account(4)), Some(40));
		run_until_distributed(0);
		assert_eq!(payouts(0).len(), 4);
	});
}

#[test]
fn bond_checks_its_input_and_holds_nothing_on_failure() {
	test(|| {
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

#[test]
fn only_governance_spends_the_community_pool() {
	test(|| {
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
	test(|| {
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

#[test]
fn governance_sets_the_curve_within_its_cap() {
	test(|| {
		assert_noop!(Rewards::set_curve(signed(1), 5, DECAY_ONE / 2), DispatchError::BadOrigin);
		assert_noop!(Rewards::set_curve(RawOrigin::Root.into(), 5, 0), Error::<Test>::BadDecay);
		assert_noop!(
			Rewards::set_curve(RawOrigin::Root.into(), 5, DECAY_ONE + 1),
			Error::<Test>::BadDecay
		);
		let cap = Curve::<Test>::get().cap;
		assert_noop!(
			Rewards::set_curve(RawOrigin::Root.into(), cap + 1, DECAY_ONE),
			Error::<Test>::RewardAboveCap
		);
		assert_ok!(Rewards::set_curve(RawOrigin::Root.into(), 777, DECAY_ONE));
		assert_eq!(Rewards::next_reward(), (1, 777));
		form(0, &[(1, 1)]);
		assert_eq!(Rewards::next_reward(), (2, 777), "a decay of one keeps the reward");
		run_until_distributed(0);
	});
}

/// A small deterministic generator for the property test (xorshift).
struct Rng(u64);
impl Rng {
	fn next(&mut self) -> u64 {
		self.0 ^= self.0 << 13;
		self.0 ^= self.0 >> 7;
		self.0 ^= self.0 << 17;
		self.0
	}
	fn below(&mut self, n: u64) -> u64 {
		self.next() % n
	}
}

#[test]
fn property_every_epoch_mints_its_reward_and_no_host_gets_more_than_30_percent() {
	test(|| {
		let mut rng = Rng(0x5eed_1234_abcd_0001);
		let epochs = 24u32;
		let mut expected_minted = 0u128;
		for epoch in 0..epochs {
			// 1–8 hosts with weights from 1 to 10^6, sometimes one dominant host; some
			// INVALID or down.
			let hosts = 1 + rng.below(8) as u8;
			let mut weights: Vec<(u8, u128)> =
				(1..=hosts).map(|i| (i, 1 + u128::from(rng.below(1_000_000)))).collect();
			if rng.below(3) == 0 {
				weights[0].1 *= 1_000;
			}
			// The rest of the network (account 40) served 1,000 requests without a miss.
			let mut totals = DutyTotals { assigned: 1_000, missed: 0 };
			Ledger::<Test>::insert(
				epoch,
				account(40),
				EpochStats { assigned: 1_000, ..Default::default() },
			);
			for (i, _) in &weights {
				match rng.below(6) {
					0 => Ledger::<Test>::insert(
						epoch,
						account(*i),
						EpochStats { invalid: true, ..Default::default() },
					),
					1 => {
						Ledger::<Test>::insert(
							epoch,
							account(*i),
							EpochStats { assigned: 20, missed: 20, ..Default::default() },
						);
						totals.assigned += 20;
						totals.missed += 20;
					}
					_ => {}
				}
			}
			pallet_inference::EpochTotals::<Test>::insert(epoch, totals);
			form(epoch, &weights);
			expected_minted += FIRST_REWARD >> epoch;
			run_to_epoch(epoch + 1);
		}
		run_until_distributed(epochs - 1);
		assert_eq!(Curve::<Test>::get().minted, expected_minted);
		for epoch in 0..epochs {
			let (reward, paid, to_pool) = closed(epoch).expect("every epoch closes");
			assert_eq!(paid + to_pool, reward, "epoch {epoch}: paid + to_pool = R(e)");
			let paid_to = payouts(epoch);
			assert_eq!(paid_to.iter().map(|(_, amount)| amount).sum::<u128>(), paid);
			let hosts = Epochs::<Test>::get(epoch).map_or(0, |info| info.hosts);
			assert_eq!(hosts, 0, "closed epochs are removed");
			let withheld_hosts = withheld(epoch);
			for (host, amount) in &paid_to {
				assert!(
					!withheld_hosts.iter().any(|(withheld, _)| withheld == host),
					"a withheld host is not paid"
				);
				if paid_to.len() + withheld_hosts.len() >= 4 {
					assert!(amount * 10 <= reward * 3, "epoch {epoch}: {amount} of {reward}");
				}
			}
		}
		// The draws exercised both exclusions and the cap.
		let reasons: Vec<Withheld> =
			(0..epochs).flat_map(withheld).map(|(_, reason)| reason).collect();
		assert!(reasons.contains(&Withheld::Invalid) && reasons.contains(&Withheld::Downtime));
		assert!((0..epochs).any(|epoch| {
			let (reward, paid, _) = closed(epoch).unwrap();
			paid < reward / 2 && withheld(epoch).is_empty()
		}));
		// The invariants (issuance = genesis + minted, holds = records) are checked after
		// every block by `run_to_block`.
	});
}
