//! GNK issuance on the runtime with the development preset: the community pool holds its
//! 120 M at genesis, the curve starts at 323,000 GNK, a PoC formation of the two genesis
//! hosts schedules epoch 0's reward, which is distributed by weight once the epoch's ledger
//! is final (the rest to the pool), vests on the hosts, and the total issuance is the
//! genesis issuance plus what the curve minted.

use gonka_primitives::issuance::{COMMUNITY_POOL, INITIAL_EPOCH_REWARD};
use gonka_runtime::{
	configs::{CommunityPool, DEFAULT_MODEL},
	genesis_config_presets::{test_rewards, DEV_EPOCH},
	Balances, Inference, Poc, Rewards, Runtime, RuntimeEvent, RuntimeOrigin, System,
};
use pallet_poc::{Commitment, Tallies, Tally};
use pallet_rewards::{Event, HoldReason};
use polkadot_sdk::{
	frame_support::{
		assert_noop, assert_ok,
		traits::{
			fungible::{Inspect, InspectHold},
			Hooks,
		},
	},
	frame_system,
	sp_genesis_builder::{DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET},
	sp_keyring::Sr25519Keyring,
	sp_runtime::DispatchError,
};

mod common;
use common::chain_from_preset;

/// Runs blocks up to `n` with PoC's, inference's and rewards' hooks; the invariants of
/// inference and rewards are checked after every block.
fn run_to(n: u32) {
	while System::block_number() < n {
		let now = System::block_number();
		frame_system::BlockHash::<Runtime>::insert(now, System::parent_hash());
		System::set_block_number(now + 1);
		Poc::on_initialize(now + 1);
		Inference::on_initialize(now + 1);
		Rewards::on_initialize(now + 1);
		Inference::do_try_state().expect("inference's invariants hold");
		Rewards::do_try_state().expect("rewards' invariants hold");
	}
}

fn rewards_events() -> Vec<Event<Runtime>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Rewards(event) => Some(event),
			_ => None,
		})
		.collect()
}

#[test]
fn presets_endow_the_community_pool_and_start_the_curve() {
	for name in [DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET] {
		chain_from_preset(name).execute_with(|| {
			assert_eq!(Balances::balance(&CommunityPool::get()), COMMUNITY_POOL, "{name}");
			assert_eq!(
				pallet_rewards::GenesisIssuance::<Runtime>::get(),
				Balances::total_issuance(),
				"{name}: the genesis issuance is recorded after the balances"
			);
			assert_eq!(Rewards::next_reward(), (1, INITIAL_EPOCH_REWARD), "{name}");
			assert_eq!(pallet_rewards::Params::<Runtime>::get(), test_rewards(), "{name}");
			Rewards::do_try_state().expect("the invariants hold at genesis");
		});
	}
}

#[test]
fn founders_hold_200_million_that_vest_linearly_from_genesis() {
	use gonka_primitives::issuance::FOUNDERS;
	use gonka_runtime::{
		genesis_config_presets::{DEV_FOUNDER_VESTING, LOCAL_TESTNET_FOUNDER_VESTING},
		Vesting,
	};
	use polkadot_sdk::frame_support::traits::VestingSchedule;
	for (name, length) in [
		(DEV_RUNTIME_PRESET, DEV_FOUNDER_VESTING),
		(LOCAL_TESTNET_RUNTIME_PRESET, LOCAL_TESTNET_FOUNDER_VESTING),
	] {
		chain_from_preset(name).execute_with(|| {
			let founders = [Sr25519Keyring::One, Sr25519Keyring::Two];
			let total = FOUNDERS / 2;
			let per_block = total / u128::from(length);
			for founder in founders {
				let who = founder.to_account_id();
				assert_eq!(Balances::total_balance(&who), total, "{name}");
				// Block 1: one block's worth has vested.
				assert_eq!(Vesting::vesting_balance(&who), Some(total - per_block), "{name}");
			}
			let (one, dave) = (founders[0].to_account_id(), Sr25519Keyring::Dave.to_account_id());
			let transfer = |amount| {
				polkadot_sdk::pallet_balances::Pallet::<Runtime>::transfer_keep_alive(
					RuntimeOrigin::signed(one.clone()),
					dave.clone().into(),
					amount,
				)
			};
			// Locked until `vest` updates the lock; then only the vested part moves.
			assert!(transfer(per_block / 2).is_err(), "{name}: the genesis lock holds all");
			assert_ok!(Vesting::vest(RuntimeOrigin::signed(one.clone())));
			assert!(transfer(2 * per_block).is_err(), "{name}: unvested funds are locked");
			assert_ok!(transfer(per_block / 2));
			// Half-way, half has vested.
			let half = length / 2;
			System::set_block_number(half);
			assert_ok!(Vesting::vest(RuntimeOrigin::signed(one.clone())));
			let locked = total - per_block * u128::from(half);
			assert_eq!(Vesting::vesting_balance(&one), Some(locked), "{name}");
			assert_ok!(transfer(total / 4));
			// After the schedule, everything.
			System::set_block_number(2 * length);
			assert_ok!(Vesting::vest(RuntimeOrigin::signed(one.clone())));
			assert_eq!(Vesting::vesting_balance(&one), None, "{name}");
		});
	}
}

#[test]
fn the_community_pool_is_spent_only_by_a_passed_proposal_not_by_sudo() {
	chain_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		let dave = Sr25519Keyring::Dave.to_account_id();
		assert_noop!(
			Rewards::spend_from_pool(RuntimeOrigin::root(), dave.clone(), 1),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Rewards::spend_from_pool(RuntimeOrigin::signed(dave.clone()), dave.clone(), 1),
			DispatchError::BadOrigin
		);
		let majority: RuntimeOrigin = pallet_models::Origin::ComputeMajority.into();
		let before = Balances::balance(&dave);
		assert_ok!(Rewards::spend_from_pool(majority, dave.clone(), 5));
		assert_eq!(Balances::balance(&dave), before + 5);
	});
}

#[test]
fn a_poc_formation_pays_the_epoch_reward_by_weight_after_the_ledger_is_final() {
	chain_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		let (alice, bob) =
			(Sr25519Keyring::Alice.to_account_id(), Sr25519Keyring::Bob.to_account_id());
		// Block 1 starts epoch 0.
		Poc::on_initialize(1);
		Inference::on_initialize(1);
		Rewards::on_initialize(1);
		// Epoch 0: Alice commits 300 nonces and Bob 100; each judges the other valid.
		for (host, count) in [(&alice, 300u64), (&bob, 100)] {
			pallet_poc::Commitments::<Runtime>::insert(
				(0, DEFAULT_MODEL, host.clone()),
				Commitment { count, root: Default::default(), submissions: 1 },
			);
		}
		let validation_start = 1 + DEV_EPOCH.poc_generation + DEV_EPOCH.validation_delay;
		run_to(validation_start);
		Tallies::<Runtime>::mutate(0, DEFAULT_MODEL, |roster| {
			for (_, tally) in roster.iter_mut() {
				*tally = Tally { valid: 1, invalid: 0 };
			}
		});
		run_to(validation_start + DEV_EPOCH.poc_validation);
		let info = pallet_rewards::Epochs::<Runtime>::get(0).expect("epoch 0 formed weights");
		assert_eq!((info.index, info.reward, info.hosts), (1, INITIAL_EPOCH_REWARD, 2));
		assert_eq!(Rewards::next_reward().0, 2);

		// The ledger of epoch 0 is final when epoch 3 starts (LedgerEpochs = 2).
		let pool_before = Balances::balance(&CommunityPool::get());
		run_to(1 + 3 * DEV_EPOCH.epoch_length);
		let closed = rewards_events().into_iter().find_map(|event| match event {
			Event::EpochRewarded { epoch: 0, reward, paid, to_pool, .. } => {
				Some((reward, paid, to_pool))
			}
			_ => None,
		});
		let (reward, paid, to_pool) = closed.expect("epoch 0 distributed");
		assert_eq!(paid + to_pool, reward);
		// Two hosts: no cap is possible (2 × 30% < 1); 3/4 and 1/4 of R(1).
		assert_eq!(paid, reward, "nothing withheld, no rounding at these weights");
		let reason = HoldReason::Vesting.into();
		assert_eq!(Balances::balance_on_hold(&reason, &alice), reward / 4 * 3);
		assert_eq!(Balances::balance_on_hold(&reason, &bob), reward / 4);
		assert_eq!(Balances::balance(&CommunityPool::get()), pool_before + to_pool);
		let view = Rewards::host_view(&alice);
		assert_eq!(view.vesting, reward / 4 * 3);
		assert_eq!(view.claimable, 0);

		// Vesting over 4 epochs: a quarter unlocks at the start of epoch 4.
		run_to(1 + 4 * DEV_EPOCH.epoch_length);
		let free = Balances::balance(&alice);
		assert_ok!(Rewards::claim(RuntimeOrigin::signed(alice.clone())));
		assert_eq!(Balances::balance(&alice), free + reward / 16 * 3);
	});
}
