//! Generations of voting power and governance snapshots.

use super::*;
use crate::{
	Departures, OldestPowerGeneration, PowerGeneration, PowerGenerations, PowerHistory,
	PowerPrunedBefore,
};

fn powers(powers: &[(u8, u128)]) {
	let powers: Vec<_> = powers.iter().map(|(i, power)| (account(*i), *power)).collect();
	Poc::force_voting_power(&powers);
}

fn next_block() {
	run_to_block(System::block_number() + 1);
}

#[test]
fn a_snapshot_is_the_generation_in_force_with_its_total_and_hosts() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (snapshot, total, hosts) = Poc::take_snapshot();
		assert_eq!((snapshot.generation, snapshot.departures, total, hosts), (0, 0, 3, 3));
		assert_eq!(PowerGenerations::<Test>::get(0).unwrap().pins, 1);
		for i in [1, 2, 3] {
			assert_eq!(Poc::power_in(&snapshot, &account(i)), 1);
		}
		assert_eq!(Poc::power_in(&snapshot, &account(4)), 0);
	});
}

#[test]
fn power_formed_after_a_snapshot_does_not_change_it() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (snapshot, _, _) = Poc::take_snapshot();
		assert_ok!(register(4, vec![1]));
		powers(&[(1, 50), (2, 70), (4, 9)]);
		next_block();
		assert_eq!(PowerGeneration::<Test>::get(), 1);
		assert_eq!(Poc::voting_power(&account(1)), 50);
		assert_eq!(Poc::voting_power(&account(3)), 0);
		assert_eq!(Poc::power_in(&snapshot, &account(1)), 1);
		assert_eq!(Poc::power_in(&snapshot, &account(3)), 1);
		assert_eq!(Poc::power_in(&snapshot, &account(4)), 0);
	});
}

#[test]
fn a_held_generation_is_kept_and_pruned_the_block_after_its_release() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (snapshot, _, _) = Poc::take_snapshot();
		powers(&[(1, 5)]);
		next_block();
		next_block();
		assert_eq!(PowerHistory::<Test>::iter_prefix(0).count(), 3);
		assert_eq!(OldestPowerGeneration::<Test>::get(), 0);
		Poc::release_snapshot(&snapshot);
		assert_eq!(PowerGenerations::<Test>::get(0).unwrap().pins, 0);
		next_block();
		assert_eq!(PowerHistory::<Test>::iter_prefix(0).count(), 0);
		assert_eq!(PowerGenerations::<Test>::get(0), None);
		assert_eq!(OldestPowerGeneration::<Test>::get(), 1);
		assert!(poc_events().contains(&Event::PowerGenerationPruned { generation: 0 }));
		// The generation in force is never pruned.
		next_block();
		assert_eq!(OldestPowerGeneration::<Test>::get(), 1);
		assert_eq!(PowerHistory::<Test>::get(1, account(1)), Some(5));
	});
}

#[test]
fn unheld_generations_are_pruned_in_the_next_block() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		powers(&[(1, 5)]);
		powers(&[(1, 6)]);
		powers(&[(1, 7)]);
		assert_eq!(PowerGeneration::<Test>::get(), 3);
		next_block();
		assert_eq!(OldestPowerGeneration::<Test>::get(), 3);
		assert_eq!(PowerPrunedBefore::<Test>::get(), 3);
		assert_eq!(PowerGenerations::<Test>::iter().count(), 1);
		assert_eq!(PowerHistory::<Test>::iter().count(), 1);
	});
}

#[test]
fn the_records_of_an_unheld_generation_are_removed_within_the_hook_budget() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		// Generation 0 holds 3 powers and a departure.
		assert_ok!(Poc::leave(RuntimeOrigin::signed(account(3))));
		powers(&[(1, 5)]);
		// A step releases the generation, or removes one record.
		HookBudget::set(&spread(1));
		next_block();
		assert_eq!(OldestPowerGeneration::<Test>::get(), 1);
		assert!(poc_events().contains(&Event::PowerGenerationPruned { generation: 0 }));
		assert_eq!(PowerPrunedBefore::<Test>::get(), 0);
		let records = || {
			PowerHistory::<Test>::iter_prefix(0).count()
				+ Departures::<Test>::iter_prefix(0).count()
		};
		assert_eq!(records(), 4);
		// Each block removes at least one record, within the budget, until none is left.
		let mut blocks = 0;
		while PowerPrunedBefore::<Test>::get() == 0 {
			let before = records();
			next_block();
			assert!(records() < before || before == 0, "a block removes records");
			blocks += 1;
		}
		assert_eq!(records(), 0);
		assert!(blocks > 1, "the records take more than a block");
		assert_eq!(PowerPrunedBefore::<Test>::get(), 1);
	});
}

#[test]
fn a_host_that_left_before_a_snapshot_has_no_power_in_it_one_that_left_after_keeps_it() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		assert_ok!(Poc::leave(RuntimeOrigin::signed(account(3))));
		let (snapshot, total, hosts) = Poc::take_snapshot();
		assert_eq!((snapshot.departures, total, hosts), (1, 2, 2));
		assert_eq!(Poc::power_in(&snapshot, &account(3)), 0);
		assert_ok!(Poc::leave(RuntimeOrigin::signed(account(2))));
		assert_eq!(Poc::power_in(&snapshot, &account(2)), 1);
		// Coming back does not bring the power back, in force or in the snapshot.
		assert_ok!(register(3, vec![1]));
		assert_eq!(Poc::voting_power(&account(3)), 0);
		assert_eq!(Poc::power_in(&snapshot, &account(3)), 0);
		let (later, total, hosts) = Poc::take_snapshot();
		assert_eq!((later.departures, total, hosts), (2, 1, 1));
		assert_eq!(Poc::power_in(&later, &account(2)), 0);
		assert_eq!(Poc::power_in(&later, &account(1)), 1);
		next_block();
	});
}

#[test]
fn leaving_twice_in_a_generation_is_one_departure() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		assert_ok!(Poc::leave(RuntimeOrigin::signed(account(3))));
		assert_ok!(register(3, vec![1]));
		assert_ok!(Poc::leave(RuntimeOrigin::signed(account(3))));
		assert_eq!(PowerGenerations::<Test>::get(0).unwrap().departures, 1);
		next_block();
	});
}
