//! Storage migrations (`migrations.rs`).

use super::settlement::{drawn, settle, settlement, voucher};
use super::*;
use crate::{migrations::v1, OpenInEpoch, Settlements};
use polkadot_sdk::frame_support::{
	assert_ok,
	traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion},
};

/// A settlement recorded before version 1 keeps everything it had, gains its channel's
/// developer and what it paid (from its share), and is counted in its epoch.
#[test]
fn settlement_records_of_version_0_gain_their_developer_and_pay() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (channel, member) = drawn(1, 2_000);
		assert_ok!(settle(member, settlement(channel, Some(voucher(channel, member, 6)), vec![])));
		let now = Settlements::<Test>::get(0).unwrap();
		// As version 0 stored it.
		let old = v1::v0::SettlementRecord {
			channel: now.channel,
			executor: now.executor.clone(),
			at: now.at,
			epoch: now.epoch,
			root: now.root,
			count: now.count,
			from: now.from,
			to: now.to,
			receipts: now.receipts,
			tail: now.tail,
			target: now.target,
			snapshot: now.snapshot,
			total_power: now.total_power,
			executor_power: now.executor_power,
			share: now.share,
			validator_paid: now.validator_paid,
			passes: now.passes,
			fails: now.fails,
			answered: now.answered.clone(),
		};
		v1::v0::Settlements::<Test>::insert(0, old);
		OpenInEpoch::<Test>::remove(0);
		StorageVersion::new(0).put::<Channels>();

		v1::MigrateV0ToV1::<Test>::on_runtime_upgrade();

		assert_eq!(Channels::on_chain_storage_version(), StorageVersion::new(1));
		assert_eq!(Settlements::<Test>::get(0), Some(now.clone()));
		assert_eq!(now.paid, 6 * super::settlement::RECEIPT_COST);
		assert_eq!(OpenInEpoch::<Test>::get(0), 1);
		// Once only.
		v1::MigrateV0ToV1::<Test>::on_runtime_upgrade();
		assert_eq!(Settlements::<Test>::get(0), Some(now));
	});
}
