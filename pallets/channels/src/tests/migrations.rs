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

/// An unavailable payload's dispute open at the upgrade to version 2 (opened when every
/// dispute ended by one cursor) is queued, in id order, and ends from the queue after the
/// longer window; a mismatch's dispute stays with the id cursor.
#[test]
fn open_unavailable_disputes_of_version_1_are_queued() {
	use super::disputes::{mismatch_then_another_sample, report, unavailable_report};
	use crate::{
		migrations::v2, Disputes, NextUnavailable, NextUnavailableToEnd, UnavailableQueue,
	};
	use gonka_primitives::{duty::Duty, H256};
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (second, by_second) = mismatch_then_another_sample();
		run_to_block(VERDICT_PERIOD + 1);
		// Dispute 1, an unavailable payload's, as version 1 kept it: no queue.
		assert_ok!(report(by_second, unavailable_report(0, second)));
		UnavailableQueue::<Test>::remove(0);
		NextUnavailable::<Test>::kill();
		crate::UnavailableReports::<Test>::remove(1);
		StorageVersion::new(1).put::<Channels>();

		v2::MigrateV1ToV2::<Test>::on_runtime_upgrade();

		assert_eq!(Channels::on_chain_storage_version(), StorageVersion::new(2));
		assert_eq!(UnavailableQueue::<Test>::get(0), Some(1));
		assert_eq!((NextUnavailable::<Test>::get(), NextUnavailableToEnd::<Test>::get()), (1, 0));
		assert_eq!(crate::V2DisputesFrom::<Test>::get(), 2);
		// It keeps no seed: no acknowledgement refutes it (its jury decides).
		let ack = gonka_primitives::channel::DeliveryAck {
			settlement: 0,
			sample: second,
			seed: Channels::seed_of(0, &crate::Settlements::<Test>::get(0).unwrap()).unwrap(),
			leaf: H256::repeat_byte(7),
		};
		let signature = ack.sign(&Poc::genesis_hash(), &account(by_second), &worker(by_second));
		assert_eq!(
			run_duty(crate::Call::refute_unavailable { dispute: 1, ack, signature }),
			Err(super::settlement::refused(crate::Error::AckNotForDispute))
		);
		// Once only: a second run would queue the dispute again.
		UnavailableQueue::<Test>::remove(0);
		v2::MigrateV1ToV2::<Test>::on_runtime_upgrade();
		assert_eq!(UnavailableQueue::<Test>::get(0), None);
		UnavailableQueue::<Test>::insert(0, 1);
		run_to_block(VERDICT_PERIOD + JURY_WINDOW + 1);
		assert!(Disputes::<Test>::get(0).is_none());
		assert!(Disputes::<Test>::get(1).is_some(), "its window grew");
		run_to_block(VERDICT_PERIOD + 1 + UNAVAILABLE_WINDOW + 1);
		assert!(Disputes::<Test>::get(1).is_none());
		assert_eq!(NextUnavailableToEnd::<Test>::get(), 1);
	});
}

/// Version 2 removed a record at its close: at the upgrade to version 3 no closed record
/// is kept, so the prune cursor starts at the close cursor and the marks' at the period
/// before the upgrade's. The records open then have no model: none of their samples is
/// shown missed (their validators' answers before the upgrade left no mark); they are kept
/// after their close, and pruned after their report period.
#[test]
fn version_3_starts_its_cursors_where_version_2_left_its_records() {
	use crate::{migrations::v3, NextMarksToClear, NextToClose, NextToPrune, SettlementModels};
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (channel, member) = drawn(1, 8_000);
		assert_ok!(settle(member, settlement(channel, Some(voucher(channel, member, 6)), vec![])));
		run_to_block(2 * VERDICT_PERIOD + 1);
		assert_ok!(settle(member, settlement(channel, Some(voucher(channel, member, 9)), vec![])));
		// As version 2 left them: settlement 0 removed at its close, 1 with no model.
		let round = crate::SecondRounds::<Test>::take(0).unwrap();
		let snapshot = round.snapshot;
		// Version 2's close returned the unpaid share and released the epoch.
		Channels::return_share(&round.executor, round.held);
		Channels::note_closed(round.epoch);
		Settlements::<Test>::remove(0);
		SettlementModels::<Test>::remove(0);
		SettlementModels::<Test>::remove(1);
		Poc::release_snapshot(&snapshot);
		NextToPrune::<Test>::kill();
		NextMarksToClear::<Test>::kill();
		StorageVersion::new(2).put::<Channels>();

		v3::MigrateV2ToV3::<Test>::on_runtime_upgrade();

		assert_eq!(Channels::on_chain_storage_version(), StorageVersion::new(3));
		assert_eq!(NextToPrune::<Test>::get(), NextToClose::<Test>::get());
		assert_eq!(NextToPrune::<Test>::get(), 1);
		assert_eq!(NextMarksToClear::<Test>::get(), 1);
		// Settlement 1 (period 2) closes when period 3 ends, is kept through period 4.
		run_to_block(4 * VERDICT_PERIOD);
		assert!(Settlements::<Test>::contains_key(1));
		let sample = (0..6u32)
			.find_map(|sample| {
				[1u8, 2, 3].into_iter().filter(|i| *i != member).find_map(|i| {
					let record = Settlements::<Test>::get(1).unwrap();
					let seed = Channels::seed_of(1, &record).unwrap();
					let power = Poc::power_in(&record.snapshot, &account(i));
					gonka_primitives::channel::validates_sample(
						&seed,
						sample,
						&account(i),
						&record.executor,
						power,
						record.total_power,
						record.executor_power,
					)
					.then_some((i, sample))
				})
			})
			.expect("a sample with a validator");
		let missed = gonka_primitives::channel::MissedSamples {
			period: 2,
			validator: account(sample.0),
			samples: polkadot_sdk::frame_support::BoundedVec::truncate_from(vec![(1, sample.1)]),
		};
		use gonka_primitives::duty::Duty;
		let signature = missed.sign(&Poc::genesis_hash(), &account(member), &worker(member));
		assert_eq!(
			run_duty(crate::Call::report_missed_samples {
				reporter: account(member),
				missed,
				signature
			}),
			Err(super::settlement::refused(crate::Error::NotServing))
		);
		run_to_block(5 * VERDICT_PERIOD);
		assert_eq!(Settlements::<Test>::iter().count(), 0);
		assert_eq!(NextToPrune::<Test>::get(), 2);
	});
}

/// An unavailable payload's dispute open at the upgrade to version 4 keeps its seed (its
/// reporter's acknowledgement still refutes it), with no answer's pay to take back (not
/// known then): a rejection takes nothing.
#[test]
fn open_unavailable_disputes_of_version_3_keep_their_seeds() {
	use super::disputes::{third, unavailable_with_work, vote};
	use crate::{migrations::v4, DisputeOutcome, Event, UnavailableReport, UnavailableReports};
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (member, reporter, _) = unavailable_with_work(1_000);
		// As version 3 kept it: its seed alone.
		let seed = UnavailableReports::<Test>::take(0).unwrap().seed;
		v4::v3::UnavailableSeeds::<Test>::insert(0, seed);
		StorageVersion::new(3).put::<Channels>();

		v4::MigrateV3ToV4::<Test>::on_runtime_upgrade();

		assert_eq!(Channels::on_chain_storage_version(), StorageVersion::new(4));
		assert_eq!(UnavailableReports::<Test>::get(0), Some(UnavailableReport { seed, paid: 0 }));
		assert_eq!(v4::v3::UnavailableSeeds::<Test>::iter().count(), 0);
		// Once only.
		v4::v3::UnavailableSeeds::<Test>::insert(7, seed);
		v4::MigrateV3ToV4::<Test>::on_runtime_upgrade();
		assert_eq!(UnavailableReports::<Test>::get(7), None);
		v4::v3::UnavailableSeeds::<Test>::remove(7);
		// Its jury finds the payload served: nothing taken back, no miss.
		run_to_block(VERDICT_PERIOD + 1);
		assert_ok!(vote(third(&[1, 2, 3], member, reporter), 0, false));
		run_to_block(VERDICT_PERIOD + UNAVAILABLE_WINDOW + 1);
		assert_eq!((fined(&account(reporter)), reputation_misses(&account(reporter))), (0, 0));
		assert!(channel_events().contains(&Event::DisputeEnded {
			dispute: 0,
			outcome: DisputeOutcome::Validated { rejected: true },
			refund: 0,
			bounty: 0,
			fine: 0,
		}));
	});
}

/// A developer's challenge open at the upgrade to version 5 (when its jury voted for
/// `JuryWindow` and it ended by the id cursor) joins the long windows' queue, in id order
/// with the open unavailable payloads' disputes, and ends from it after `UnavailableWindow`.
#[test]
fn open_challenges_of_version_4_join_the_long_windows_queue() {
	use super::disputes::{
		evidence, report, sample_at, samples_with_validators, seq_of, unavailable_report,
	};
	use crate::{
		migrations::v5, Disputes, NextUnavailable, NextUnavailableToEnd, UnavailableQueue,
	};
	use gonka_primitives::channel::ReceiptChallenge;
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (channel, member) = drawn(1, 2_000);
		assert_ok!(settle(member, settlement(channel, Some(voucher(channel, member, 6)), vec![])));
		// Dispute 0: the developer's challenge of receipt 2, in block 2.
		assert_ok!(Channels::challenge_receipt(
			RuntimeOrigin::signed(account(20)),
			ReceiptChallenge {
				settlement: 0,
				tail: None,
				evidence: evidence(channel, member, 6, 2)
			},
		));
		// Dispute 1: an unavailable payload of another receipt, in the next period.
		run_to_block(VERDICT_PERIOD + 1);
		let (sample, validator) = samples_with_validators(0, &[1, 2, 3])
			.into_iter()
			.find(|(sample, _)| seq_of(sample_at(0, *sample)) != 2)
			.expect("a sample of another receipt with a validator");
		assert_ok!(report(validator, unavailable_report(0, sample)));
		// As version 4 kept them: the challenge not queued, the unavailable payload's first,
		// then the place of one refuted since (its record removed, its place left for the
		// cursor to pass).
		UnavailableQueue::<Test>::remove(0);
		UnavailableQueue::<Test>::remove(1);
		UnavailableQueue::<Test>::insert(0, 1);
		UnavailableQueue::<Test>::insert(1, 2);
		NextUnavailable::<Test>::put(2);
		crate::NextDisputeId::<Test>::put(3);
		StorageVersion::new(4).put::<Channels>();

		v5::MigrateV4ToV5::<Test>::on_runtime_upgrade();

		assert_eq!(Channels::on_chain_storage_version(), StorageVersion::new(5));
		assert_eq!(
			(
				UnavailableQueue::<Test>::get(0),
				UnavailableQueue::<Test>::get(1),
				UnavailableQueue::<Test>::get(2)
			),
			(Some(0), Some(1), None),
			"the open ones, in id order"
		);
		assert_eq!((NextUnavailable::<Test>::get(), NextUnavailableToEnd::<Test>::get()), (2, 0));
		// Once only.
		v5::MigrateV4ToV5::<Test>::on_runtime_upgrade();
		assert_eq!(NextUnavailable::<Test>::get(), 2);
		run_to_block(2 + JURY_WINDOW + 1);
		assert!(Disputes::<Test>::get(0).is_some(), "its window grew");
		run_to_block(2 + UNAVAILABLE_WINDOW + 1);
		assert!(Disputes::<Test>::get(0).is_none());
		assert!(Disputes::<Test>::get(1).is_some());
		run_to_block(VERDICT_PERIOD + 1 + UNAVAILABLE_WINDOW + 1);
		assert!(Disputes::<Test>::get(1).is_none());
		assert_eq!(NextUnavailableToEnd::<Test>::get(), 2);
	});
}
