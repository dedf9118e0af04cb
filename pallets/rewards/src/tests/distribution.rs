//! The distribution of an epoch's reward: shares by weight, the 30% cap and its
//! small-network exception, the pace of the distribution, the settlement it holds back,
//! shares that cannot be paid, and the formation that schedules it.

use super::*;
use gonka_primitives::issuance::reward_shares;
use pallet_inference::{DutyTotals, EpochStats, Ledger};
use polkadot_sdk::{frame_support::traits::fungible::Inspect, sp_runtime::Perbill};

#[test]
fn epoch_reward_is_paid_by_weight_and_the_rest_goes_to_the_pool() {
	ExtBuilder::default().build_and_execute(|| {
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
	ExtBuilder::default().build_and_execute(|| {
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
	ExtBuilder::default().build_and_execute(|| {
		form(0, &[(1, 5)]);
		run_until_distributed(0);
		assert_eq!(payouts(0), vec![(account(1), FIRST_REWARD)]);
		assert_eq!(closed(0), Some((FIRST_REWARD, FIRST_REWARD, 0)));
	});
}

#[test]
fn distribution_waits_for_the_ledger_and_is_bounded_per_block() {
	ExtBuilder::default().build_and_execute(|| {
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
	ExtBuilder::default().build_and_execute(|| {
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
fn a_share_that_cannot_be_minted_goes_to_the_pool() {
	ExtBuilder::default().build_and_execute(|| {
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

/// An epoch that accepts nobody carries the weights over and is rewarded with them
/// (`docs/security.md`): the curve counts it, and its hosts are paid (or slashed).
#[test]
fn a_carried_over_epoch_is_rewarded_with_the_carried_weights() {
	ExtBuilder::default().poc_formation().build_and_execute(|| {
		// Nobody commits in epoch 0: the genesis weights (hosts 1–4) carry over.
		run_to_block(12);
		let info = Epochs::<Test>::get(0).expect("the carried-over epoch is scheduled");
		assert_eq!((info.index, info.reward, info.hosts), (1, FIRST_REWARD, 4));
		run_until_distributed(0);
		assert_eq!(payouts(0).len(), 4);
		// The next carried-over epoch takes the curve's next reward.
		run_to_block(epoch_start(1) + 11);
		assert_eq!(Epochs::<Test>::get(1).map(|info| info.index), Some(2));
	});
}

#[test]
fn poc_formation_schedules_the_epoch_reward() {
	ExtBuilder::default().poc_formation().build_and_execute(|| {
		use pallet_poc::{Commitment, Tallies, Tally};
		// Hosts 1–4 commit in epoch 0; validation opens at block 7 and builds the roster.
		for i in 1..=4u8 {
			pallet_poc::Commitments::<Test>::insert(
				(0, 1, account(i)),
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
