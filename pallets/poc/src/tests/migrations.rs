//! Storage migrations, each run on a state written in the old layout.

use super::*;
use crate::{
	migrations::v1::{v0, MigrateV0ToV1},
	Commitment, Commitments, CurrentEpoch, OldestPowerGeneration, PowerPrunedBefore, PrunedBefore,
	RosterCursor, RostersBuilt,
};
use gonka_primitives::H256;
use polkadot_sdk::frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};

fn commitment(count: u64) -> Commitment {
	Commitment { count, root: H256::repeat_byte(count as u8), submissions: 1 }
}

/// Runs the v1 migration at block `now` of epoch 3 (which started at block 61), on
/// commitments of epochs 1 to 3 written as version 0 laid them out.
fn migrate_at(now: u64) {
	// Generations 1 and 2 replace generation 0, which is pruned.
	Poc::force_voting_power(&[(account(1), 1)]);
	Poc::force_voting_power(&[(account(1), 2)]);
	run_to_block(61);
	assert_eq!(OldestPowerGeneration::<Test>::get(), 2);
	assert_eq!(CurrentEpoch::<Test>::get().map(|epoch| epoch.index), Some(3));
	System::set_block_number(now);
	StorageVersion::new(0).put::<Poc>();
	PrunedBefore::<Test>::kill();
	PowerPrunedBefore::<Test>::kill();
	RostersBuilt::<Test>::kill();
	for epoch in 1..=3u32 {
		v0::Commitments::<Test>::insert(epoch, (account(1), 1), commitment(epoch.into()));
		v0::Commitments::<Test>::insert(epoch, (account(2), 2), commitment(10 + u64::from(epoch)));
	}
	MigrateV0ToV1::<Test>::on_runtime_upgrade();
	assert_eq!(Poc::on_chain_storage_version(), 1);
	assert_eq!(Commitments::<Test>::iter().count(), 6, "every key is in the new layout");
	for epoch in 1..=3u32 {
		assert_eq!(
			Commitments::<Test>::get((epoch, 1, account(1))),
			Some(commitment(epoch.into()))
		);
		assert_eq!(
			Commitments::<Test>::get((epoch, 2, account(2))),
			Some(commitment(10 + u64::from(epoch)))
		);
	}
	// Version 0 pruned every epoch below `3 - RetentionEpochs` (2) at epoch 3's start.
	assert_eq!(PrunedBefore::<Test>::get(), 1);
	assert_eq!(PowerPrunedBefore::<Test>::get(), 2);
}

#[test]
fn the_v1_migration_moves_every_commitment_and_sets_the_cursors_before_validation_opens() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		// Block 66: epoch 3's delay; version 0 had not built its rosters: they are built
		// from the upgrade on.
		migrate_at(66);
		assert_eq!(RostersBuilt::<Test>::get(), Some(2));
		assert_eq!(RosterCursor::<Test>::get(), Some((3, None)));
		run_to_block(67);
		assert_eq!(RostersBuilt::<Test>::get(), Some(3));
		assert_eq!(crate::Tallies::<Test>::get(3, 1).len(), 1);
		// Ran again, it does nothing: the version is 1.
		v0::Commitments::<Test>::insert(9, (account(1), 1), commitment(9));
		MigrateV0ToV1::<Test>::on_runtime_upgrade();
		assert_eq!(Commitments::<Test>::iter_prefix((9,)).count(), 0);
		v0::Commitments::<Test>::remove(9, (account(1), 1));
	});
}

#[test]
fn the_v1_migration_counts_the_rosters_version_0_built_at_validation() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		// Block 67: epoch 3's first validation block; version 0 built its rosters there.
		migrate_at(67);
		assert_eq!(RostersBuilt::<Test>::get(), Some(3));
		assert_eq!(RosterCursor::<Test>::get(), None);
	});
}

#[test]
fn the_v2_migration_removes_the_weight_and_power_maps_and_sorts_the_rosters() {
	use crate::{
		migrations::v2::{v1 as old, MigrateV1ToV2},
		ExecutorRoster, RosterTotals,
	};
	use polkadot_sdk::frame_support::BoundedVec;
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		StorageVersion::new(1).put::<Poc>();
		for i in [1u8, 2, 3] {
			old::PocWeights::<Test>::insert(account(i), 1, 7);
			old::VotingPower::<Test>::insert(account(i), 1);
		}
		// Model 1's roster as an older genesis wrote it: in the hosts' order, not sorted.
		let mut hosts = [account(3), account(1), account(2)];
		hosts.sort_by(|a, b| b.cmp(a));
		ExecutorRoster::<Test>::insert(
			1,
			0,
			BoundedVec::truncate_from(vec![(hosts[0].clone(), 1), (hosts[1].clone(), 2)]),
		);
		ExecutorRoster::<Test>::insert(
			1,
			1,
			BoundedVec::truncate_from(vec![(hosts[2].clone(), 4)]),
		);
		RosterTotals::<Test>::insert(1, BoundedVec::truncate_from(vec![3, 7]));
		MigrateV1ToV2::<Test>::on_runtime_upgrade();
		assert_eq!(Poc::on_chain_storage_version(), 2);
		assert_eq!(old::PocWeights::<Test>::iter().count(), 0);
		assert_eq!(old::VotingPower::<Test>::iter().count(), 0);
		let roster = Poc::roster(1);
		let mut sorted = roster.clone();
		sorted.sort();
		assert_eq!(roster, sorted, "sorted by account");
		assert_eq!(RosterTotals::<Test>::get(1).last().copied(), Some(7));
		assert_eq!(Poc::poc_weight(&hosts[2], 1), 4);
		// The powers in force are the generation's: the genesis hosts' 1 each.
		assert_eq!(Poc::voting_power(&account(1)), 1);
	});
}

#[test]
fn the_v3_migration_gives_each_roster_in_force_the_epoch_that_formed_it() {
	use super::formation::{commit, epoch_start, validate};
	use crate::{migrations::v3::MigrateV2ToV3, Formation, FormationStep, NextTotals, RosterEpoch};
	use polkadot_sdk::frame_support::weights::Weight;
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		// Epoch 0 accepts nobody (carried over); epoch 1's formation puts its rosters in
		// force, a model a block, and is stopped with one of the two installed.
		run_to_block(epoch_start(1));
		for i in [1u8, 2, 3] {
			commit(i, 1, 100);
			commit(i, 2, 50);
		}
		run_to_block(epoch_start(1) + 6);
		for v in [1u8, 2, 3] {
			let others: Vec<(u8, bool)> =
				[1u8, 2, 3].iter().filter(|&&h| h != v).map(|&h| (h, true)).collect();
			for model in [1, 2] {
				validate(v, model, &others);
			}
		}
		// An install, not two, fits in a block.
		HookBudget::set(&spread(2));
		let mut n = System::block_number();
		while !(matches!(
			Formation::<Test>::get().map(|formation| formation.step),
			Some(FormationStep::Install)
		) && NextTotals::<Test>::iter().count() == 1)
		{
			n += 1;
			assert!(n < epoch_start(2), "the formation installs its rosters");
			run_to_block(n);
		}
		let pending = NextTotals::<Test>::iter_keys().next().expect("one roster to install");
		let installed = 3 - pending;
		// Version 2 kept no roster's epoch.
		StorageVersion::new(2).put::<Poc>();
		let _ = RosterEpoch::<Test>::clear(u32::MAX, None);
		MigrateV2ToV3::<Test>::on_runtime_upgrade();
		assert_eq!(Poc::on_chain_storage_version(), 3);
		assert_eq!(RosterEpoch::<Test>::get(installed), Some(1), "installed by epoch 1's");
		assert_eq!(RosterEpoch::<Test>::get(pending), Some(0), "the last formed epoch");
		assert!(Poc::stands(&account(1), pending));
		assert!(Poc::stands(&account(1), installed));
		HookBudget::set(&Weight::MAX);
		run_to_block(n + 1);
		assert_eq!(RosterEpoch::<Test>::get(pending), Some(1));
		assert_eq!(Poc::poc_weight(&account(1), 1), 100);
	});
}
