//! Disputes: failure reports with their receipts, the jury drawn by power, the outcomes
//! (`disputes.rs`).

use super::{
	settlement::{drawn, receipt, refused, request, settle, settlement, tail, voucher},
	*,
};
use crate::{
	DisputeOutcome, Disputes, EpochsInUse, Error, Event, NextDisputeToEnd, NextUnavailableToEnd,
	OpenInEpoch, Settlements, UnavailableQueue, UnavailableReports,
};
use gonka_primitives::{
	channel::{
		sample_of, validates_sample, Anchor, DeliveryAck, FailReason, FailureReport,
		ReceiptEvidence, ReceiptVote, SampleOf, SumNode, SumTree,
	},
	duty::Duty,
	H256,
};
use polkadot_sdk::{
	frame_support::{assert_ok, traits::Contains},
	sp_runtime::transaction_validity::InvalidTransaction,
};

/// What a vouchered receipt costs in these tests.
const COST: u128 = super::settlement::RECEIPT_COST;

/// What sample `sample` of settlement `id` checks.
pub(super) fn sample_at(id: u64, sample: u32) -> SampleOf {
	let record = Settlements::<Test>::get(id).expect("the settlement is open");
	let seed = Channels::seed_of(id, &record).expect("its block's hash is known");
	let tree = Channels::tree_samples(&record, &seed);
	sample_of(&seed, sample, tree, record.from, record.to, record.tail).expect("a sample")
}

/// The first sample of settlement `id` that the hash rule draws one of `hosts` for, and
/// that host.
pub(super) fn sampled(id: u64, hosts: &[u8]) -> (u32, u8) {
	samples_with_validators(id, hosts).first().copied().expect("some sample has a validator")
}

/// Each sample of settlement `id` that the hash rule draws one of `hosts` for, with the
/// first such host.
pub(super) fn samples_with_validators(id: u64, hosts: &[u8]) -> Vec<(u32, u8)> {
	let record = Settlements::<Test>::get(id).expect("the settlement is open");
	let seed = Channels::seed_of(id, &record).expect("its block's hash is known");
	let samples = Channels::tree_samples(&record, &seed) + record.tail;
	(0..samples)
		.filter_map(|sample| {
			hosts
				.iter()
				.find(|i| {
					validates_sample(
						&seed,
						sample,
						&account(**i),
						&record.executor,
						Poc::power_in(&record.snapshot, &account(**i)),
						record.total_power,
						record.executor_power,
					)
				})
				.map(|i| (sample, *i))
		})
		.collect()
}

/// The evidence of vouchered receipt `seq` among `count` of `member`'s in `channel`.
pub(super) fn evidence(channel: u64, member: u8, count: u32, seq: u32) -> ReceiptEvidence {
	let receipts: Vec<_> =
		(0..count).map(|s| receipt(&request(channel, member, u64::from(s)), s)).collect();
	let tree = SumTree::from_receipts(&receipts).unwrap();
	ReceiptEvidence {
		receipt: receipts[seq as usize].clone(),
		proof: tree.proof(u64::from(seq)).unwrap().try_into().unwrap(),
	}
}

/// The vouchered receipt a tree sample falls on (every receipt costs `COST`).
pub(super) fn seq_of(sample: SampleOf) -> u32 {
	match sample {
		SampleOf::Tree(point) => (point / COST) as u32,
		SampleOf::Tail(_) => panic!("a tree sample"),
	}
}

pub(super) fn mismatch(settlement: u64, sample: u32, evidence: ReceiptEvidence) -> FailureReport {
	FailureReport {
		settlement,
		anchor: anchor(),
		sample,
		reason: FailReason::Mismatch,
		evidence: Some(evidence),
	}
}

/// Validator `i`'s report, anchored to the block before the current one.
fn report_call(i: u8, report: FailureReport) -> crate::Call<Test> {
	signed_report_call(i, FailureReport { anchor: anchor(), ..report })
}

/// Validator `i`'s report, with the anchor it carries.
pub(super) fn signed_report_call(i: u8, report: FailureReport) -> crate::Call<Test> {
	let signature = report.sign(&Poc::genesis_hash(), &account(i), &worker(i));
	crate::Call::report_failure { validator: account(i), report, signature }
}

/// Validator `i`'s report, through the pool and dispatch.
pub(super) fn report(i: u8, report: FailureReport) -> Result<(), Refused> {
	run_duty(report_call(i, report))
}

/// Juror `i`'s vote, through the pool and dispatch.
pub(super) fn vote(i: u8, dispute: u64, invalid: bool) -> Result<(), Refused> {
	let (settlement, sample) =
		Disputes::<Test>::get(dispute).map_or((0, 0), |record| (record.settlement, record.sample));
	run_duty(vote_call(i, ReceiptVote { dispute, anchor: anchor(), settlement, sample, invalid }))
}

/// Juror `i`'s vote, with the anchor it carries.
pub(super) fn vote_call(i: u8, vote: ReceiptVote) -> crate::Call<Test> {
	let signature = vote.sign(&Poc::genesis_hash(), &account(i), &worker(i));
	crate::Call::vote_receipt { juror: account(i), vote, signature }
}

/// A channel of one slot whose member settled 6 vouchered receipts in block 2 (verdict
/// period 0), in period 1 a validator's report of a mismatch on a sample it was drawn for
/// (dispute 0, opened in block `VERDICT_PERIOD`). Returns the channel, the member, the
/// reporter and the sample.
fn disputed(hosts: &[u8]) -> (u64, u8, u8, u32) {
	let (channel, member, reporter, failure) = mismatch_to_report(hosts);
	let sample = failure.sample;
	assert_ok!(report(reporter, failure));
	(channel, member, reporter, sample)
}

/// The setting of [`disputed`] before the report: the channel, the member, the reporter
/// and its report, not sent yet (block `VERDICT_PERIOD`).
fn mismatch_to_report(hosts: &[u8]) -> (u64, u8, u8, FailureReport) {
	let channel = open(20, terms(1), 2_000);
	run_to_block(2);
	let committee = crate::Committees::<Test>::get(channel).unwrap();
	let member = *hosts.iter().find(|i| committee.contains(&account(**i))).unwrap();
	assert_ok!(settle(member, settlement(channel, Some(voucher(channel, member, 6)), vec![])));
	run_to_block(VERDICT_PERIOD);
	let (sample, reporter) = sampled(0, hosts);
	let seq = seq_of(sample_at(0, sample));
	(channel, member, reporter, mismatch(0, sample, evidence(channel, member, 6, seq)))
}

/// Fork-bound duties (step 5f): settlement and dispute ids are counters, so on another
/// fork the same ids can be other receipts'. A failure report or a juror's vote signed on
/// another fork (its anchor a block this chain does not have) is refused, and so is one
/// anchored before the settlement's block (a report) or the dispute's (a vote), below
/// which the forks may differ in what the ids name.
#[test]
fn a_report_or_a_vote_signed_on_another_fork_is_refused() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (_, member, reporter, failure) = mismatch_to_report(&[1, 2, 3]);
		let forked = H256::repeat_byte(0xf0);
		let at = |number: u64, hash: H256| Anchor { number: number as u32, hash };
		let anchored = |anchor: Anchor| {
			signed_report_call(reporter, FailureReport { anchor, ..failure.clone() })
		};
		assert_eq!(
			run_duty(anchored(at(VERDICT_PERIOD - 1, forked))),
			Err(refused(Error::AnchorNotOnChain))
		);
		assert_eq!(
			run_duty(anchored(at(VERDICT_PERIOD, block_hash(VERDICT_PERIOD)))),
			Err(Refused::Pool(InvalidTransaction::Future.into())),
			"the current block is not kept yet"
		);
		// Settlement 0 is block 2's.
		assert_eq!(run_duty(anchored(at(1, block_hash(1)))), Err(refused(Error::AnchorTooEarly)));
		assert_ok!(run_duty(anchored(at(2, block_hash(2)))));
		// Dispute 0 is block `VERDICT_PERIOD`'s.
		run_to_block(VERDICT_PERIOD + 2);
		let juror = third(&[1, 2, 3], member, reporter);
		let vote = |anchor: Anchor| {
			let vote = ReceiptVote {
				dispute: 0,
				anchor,
				settlement: 0,
				sample: failure.sample,
				invalid: true,
			};
			vote_call(juror, vote)
		};
		assert_eq!(
			run_duty(vote(at(VERDICT_PERIOD + 1, forked))),
			Err(refused(Error::AnchorNotOnChain))
		);
		assert_eq!(
			run_duty(vote(at(VERDICT_PERIOD - 1, block_hash(VERDICT_PERIOD - 1)))),
			Err(refused(Error::AnchorTooEarly))
		);
		assert_eq!(
			run_duty(vote(at(VERDICT_PERIOD + 2, block_hash(VERDICT_PERIOD + 2)))),
			Err(Refused::Pool(InvalidTransaction::Future.into())),
			"the current block is not kept yet"
		);
		assert_ok!(run_duty(vote(at(VERDICT_PERIOD, block_hash(VERDICT_PERIOD)))));
	});
}

/// The host of `hosts` that is neither `a` nor `b`.
pub(super) fn third(hosts: &[u8], a: u8, b: u8) -> u8 {
	*hosts.iter().find(|i| **i != a && **i != b).unwrap()
}

#[test]
fn a_failed_sample_is_reported_with_its_receipt_and_opens_a_dispute() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (_, member, reporter, sample) = disputed(&[1, 2, 3]);
		assert_ne!(reporter, member);
		let record = Settlements::<Test>::get(0).unwrap();
		assert!(record.is_answered(sample));
		assert_eq!((record.passes, record.fails), (0, 1));
		// Paid as an answer: the share over 6 samples and their most second answers (1).
		assert_eq!(record.validator_paid, record.share / 7);
		assert_eq!(credited(&account(reporter)), record.share / 7);
		let dispute = Disputes::<Test>::get(0).unwrap();
		assert_eq!(
			(dispute.executor.clone(), dispute.reporter.clone()),
			(account(member), account(reporter))
		);
		assert_eq!(
			(dispute.developer, dispute.cost, dispute.at),
			(account(20), COST, VERDICT_PERIOD)
		);
		assert!(channel_events().contains(&Event::DisputeOpened {
			dispute: 0,
			settlement: 0,
			sample,
			reporter: account(reporter),
			reason: FailReason::Mismatch,
			cost: COST,
		}));
		// The settlement, and its dispute in the settlement's and the report's epochs.
		assert_eq!(OpenInEpoch::<Test>::get(0), 3);
	});
}

#[test]
fn a_failure_shows_the_receipt_its_sample_checked() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (channel, member) = drawn(1, 2_000);
		assert_ok!(settle(member, settlement(channel, Some(voucher(channel, member, 6)), vec![])));
		run_to_block(VERDICT_PERIOD);
		let (sample, reporter) = sampled(0, &[1, 2, 3]);
		let seq = seq_of(sample_at(0, sample));
		let other = (seq + 1) % 6;
		assert_eq!(
			report(reporter, mismatch(0, sample, evidence(channel, member, 6, other))),
			Err(refused(Error::BadEvidence))
		);
		let mut changed = evidence(channel, member, 6, seq);
		changed.receipt.output_hash = gonka_primitives::H256::repeat_byte(1);
		assert_eq!(
			report(reporter, mismatch(0, sample, changed)),
			Err(refused(Error::BadEvidence))
		);
		let bare = FailureReport {
			evidence: None,
			..mismatch(0, sample, evidence(channel, member, 6, seq))
		};
		assert_eq!(report(reporter, bare), Err(refused(Error::NoEvidence)));
		let shown = FailureReport {
			reason: FailReason::Unavailable,
			..mismatch(0, sample, evidence(channel, member, 6, seq))
		};
		assert_eq!(report(reporter, shown), Err(refused(Error::NoEvidence)));
		// Not drawn for the sample (the executor never is).
		assert_eq!(
			report(member, mismatch(0, sample, evidence(channel, member, 6, seq))),
			Err(refused(Error::NotSampled))
		);
		// Signed by another worker key.
		let good = mismatch(0, sample, evidence(channel, member, 6, seq));
		let signature = good.sign(&Poc::genesis_hash(), &account(reporter), &worker(member));
		assert_eq!(
			run_duty(crate::Call::report_failure {
				validator: account(reporter),
				report: good.clone(),
				signature
			}),
			Err(Refused::Pool(InvalidTransaction::BadProof.into()))
		);
		assert_ok!(report(reporter, good.clone()));
		// Once: the sample is answered.
		assert_eq!(report(reporter, good), Err(Refused::Pool(InvalidTransaction::Stale.into())));
	});
}

#[test]
fn failures_are_reported_in_the_period_after_the_settlements_only() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (channel, member) = drawn(1, 2_000);
		assert_ok!(settle(member, settlement(channel, Some(voucher(channel, member, 6)), vec![])));
		run_to_block(VERDICT_PERIOD - 1);
		let (sample, reporter) = sampled(0, &[1, 2, 3]);
		let seq = seq_of(sample_at(0, sample));
		let early = mismatch(0, sample, evidence(channel, member, 6, seq));
		assert_eq!(
			report(reporter, early.clone()),
			Err(Refused::Pool(InvalidTransaction::Stale.into()))
		);
		// The window closed: a validator drawn first reports the period no more (the next
		// period's answers are the second round's, never its).
		run_to_block(2 * VERDICT_PERIOD);
		assert!(report(reporter, early.clone()).is_err());
		run_to_block(3 * VERDICT_PERIOD);
		assert_eq!(report(reporter, early), Err(Refused::Pool(InvalidTransaction::Stale.into())));
	});
}

#[test]
fn a_fail_in_a_verdict_batch_is_refused_it_is_reported_with_its_receipt() {
	use gonka_primitives::channel::{ReceiptVerdict, ReceiptVerdicts};
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (channel, member) = drawn(1, 2_000);
		assert_ok!(settle(member, settlement(channel, Some(voucher(channel, member, 6)), vec![])));
		run_to_block(VERDICT_PERIOD);
		let (sample, validator) = sampled(0, &[1, 2, 3]);
		let verdicts = ReceiptVerdicts {
			period: 0,
			anchor: anchor(),
			part: 0,
			entries: vec![ReceiptVerdict { settlement: 0, sample, pass: false }]
				.try_into()
				.unwrap(),
		};
		let signature =
			verdicts.sign(&Poc::genesis_hash(), &account(validator), &worker(validator));
		assert_eq!(
			run_duty(crate::Call::submit_verdicts {
				validator: account(validator),
				verdicts,
				signature
			}),
			Err(refused(Error::FailWithoutReport))
		);
	});
}

#[test]
fn the_jury_is_drawn_by_power_without_the_executor_or_the_reporter() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (_, member, reporter, _) = disputed(&[1, 2, 3]);
		// Its seed is the report block's hash: no vote in that block.
		let juror = third(&[1, 2, 3], member, reporter);
		assert_eq!(vote(juror, 0, true), Err(Refused::Pool(InvalidTransaction::Future.into())));
		run_to_block(VERDICT_PERIOD + 1);
		for host in [member, reporter] {
			assert_eq!(vote(host, 0, false), Err(refused(Error::NotAJuror)));
		}
		// The only other host holds all of the jury's power: it sits for certain.
		let record = Disputes::<Test>::get(0).unwrap();
		assert_eq!(Channels::sits_on(0, &record, &account(juror)), Some(record.others));
		assert_eq!(vote(juror, 1, true), Err(Refused::Pool(InvalidTransaction::Stale.into())));
		// A vote naming another sample of the settlement (a dispute of the same id on
		// another fork): refused.
		let record = Disputes::<Test>::get(0).unwrap();
		let elsewhere = ReceiptVote {
			dispute: 0,
			anchor: anchor(),
			settlement: record.settlement,
			sample: record.sample + 1,
			invalid: true,
		};
		let signature = elsewhere.sign(&Poc::genesis_hash(), &account(juror), &worker(juror));
		assert_eq!(
			run_duty(crate::Call::vote_receipt {
				juror: account(juror),
				vote: elsewhere,
				signature
			}),
			Err(Refused::Pool(InvalidTransaction::Stale.into()))
		);
	});
}

#[test]
fn an_upheld_failure_refunds_the_developer_pays_the_reporter_and_is_an_invalidation() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (_, member, reporter, _) = disputed(&[1, 2, 3]);
		run_to_block(VERDICT_PERIOD + 1);
		assert_ok!(vote(third(&[1, 2, 3], member, reporter), 0, true));
		// Decided when the window ends, not at the first majority; the settlement's
		// window closes before (its unpaid share back to the executor).
		run_to_block(2 * VERDICT_PERIOD);
		assert!(Disputes::<Test>::get(0).is_some());
		let developer = Balances::free_balance(account(20));
		let (executor_work, reporter_work) =
			(credited(&account(member)), credited(&account(reporter)));
		run_to_block(VERDICT_PERIOD + JURY_WINDOW + 1);
		assert!(Disputes::<Test>::get(0).is_none());
		assert_eq!(Balances::free_balance(account(20)), developer + COST);
		assert_eq!(credited(&account(reporter)), reporter_work + COST, "the bounty");
		assert_eq!(credited(&account(member)), executor_work - 2 * COST);
		assert!(judged().contains(&(account(member), 0, 0, 1)));
		assert!(channel_events().contains(&Event::DisputeEnded {
			dispute: 0,
			outcome: DisputeOutcome::Invalidated,
			refund: COST,
			bounty: COST,
			fine: 0,
		}));
	});
}

#[test]
fn a_rejected_failure_fines_its_reporter_and_is_a_validation() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (_, member, reporter, _) = disputed(&[1, 2, 3]);
		run_to_block(VERDICT_PERIOD + 1);
		assert_ok!(vote(third(&[1, 2, 3], member, reporter), 0, false));
		run_to_block(2 * VERDICT_PERIOD);
		let executor_work = credited(&account(member));
		run_to_block(VERDICT_PERIOD + JURY_WINDOW + 1);
		assert!(Disputes::<Test>::get(0).is_none());
		// The reporter's pending work (its answer's pay) bounds the fine.
		let fine = COST.min(credited(&account(reporter)));
		assert!(fine > 0);
		assert_eq!(fined(&account(reporter)), fine);
		assert_eq!(credited(&account(member)), executor_work, "nothing taken");
		assert!(judged().contains(&(account(member), 0, 1, 0)));
		assert!(channel_events().contains(&Event::DisputeEnded {
			dispute: 0,
			outcome: DisputeOutcome::Validated { rejected: true },
			refund: 0,
			bounty: 0,
			fine,
		}));
	});
}

#[test]
fn a_dispute_without_a_majority_ends_validated_when_its_window_ends() {
	ExtBuilder::default().hosts(&[1, 2, 3, 4]).build_and_execute(|| {
		let (_, member, reporter, _) = disputed(&[1, 2, 3, 4]);
		run_to_block(VERDICT_PERIOD + 1);
		// Two other hosts of equal power, each sitting for certain: one invalid vote is
		// half of the jury power, no majority.
		let juror = third(&[1, 2, 3, 4], member, reporter);
		assert_ok!(vote(juror, 0, true));
		assert_eq!(Disputes::<Test>::get(0).unwrap().voters.to_vec(), vec![account(juror)]);
		// A juror votes once.
		assert_eq!(vote(juror, 0, false), Err(Refused::Pool(InvalidTransaction::Stale.into())));
		run_to_block(VERDICT_PERIOD + JURY_WINDOW);
		assert!(Disputes::<Test>::get(0).is_some(), "the last block it votes in");
		run_to_block(VERDICT_PERIOD + JURY_WINDOW + 1);
		assert!(Disputes::<Test>::get(0).is_none());
		assert_eq!(fined(&account(reporter)), 0, "not rejected: no fine");
		assert!(channel_events().contains(&Event::DisputeEnded {
			dispute: 0,
			outcome: DisputeOutcome::Validated { rejected: false },
			refund: 0,
			bounty: 0,
			fine: 0,
		}));
		assert_eq!(vote(juror, 0, true), Err(Refused::Pool(InvalidTransaction::Stale.into())));
	});
}

#[test]
fn an_unavailable_payload_refunds_the_settlements_average_receipt_and_pays_no_bounty() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (channel, member) = drawn(1, 2_000);
		assert_ok!(settle(member, settlement(channel, Some(voucher(channel, member, 6)), vec![])));
		run_to_block(VERDICT_PERIOD);
		let (sample, reporter) = sampled(0, &[1, 2, 3]);
		assert_ok!(report(reporter, unavailable_report(0, sample)));
		assert_eq!(Disputes::<Test>::get(0).unwrap().cost, 6 * COST / 6);
		// Upheld: the developer is refunded, the reporter gets no bounty (the report
		// showed nothing but the executor's silence).
		run_to_block(VERDICT_PERIOD + 1);
		let reporter_work = credited(&account(reporter));
		assert_ok!(vote(third(&[1, 2, 3], member, reporter), 0, true));
		// Its jury votes for the longer window.
		run_to_block(VERDICT_PERIOD + UNAVAILABLE_WINDOW);
		assert!(Disputes::<Test>::get(0).is_some());
		run_to_block(VERDICT_PERIOD + UNAVAILABLE_WINDOW + 1);
		assert!(Disputes::<Test>::get(0).is_none());
		assert_eq!(credited(&account(reporter)), reporter_work);
		assert!(channel_events().contains(&Event::DisputeEnded {
			dispute: 0,
			outcome: DisputeOutcome::Invalidated,
			refund: COST,
			bounty: 0,
			fine: 0,
		}));
	});
}

#[test]
fn a_tail_samples_failure_shows_its_receipt_among_the_tail_leaves() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (channel, member) = drawn(1, 2_000);
		let claims = tail(channel, member, 0, 2);
		assert_ok!(settle(member, settlement(channel, None, claims.clone())));
		run_to_block(VERDICT_PERIOD);
		let leaves: Vec<SumNode> =
			claims.iter().map(|claim| SumNode::leaf(&claim.receipt)).collect();
		let record = Settlements::<Test>::get(0).unwrap();
		let seed = Channels::seed_of(0, &record).unwrap();
		let tree = Channels::tree_samples(&record, &seed);
		assert_eq!((tree, record.tail), (0, 2));
		let (sample, reporter) = sampled(0, &[1, 2, 3]);
		let SampleOf::Tail(index) = sample_at(0, sample) else { panic!("a tail sample") };
		let shown = |index: u32| ReceiptEvidence {
			receipt: claims[index as usize].receipt.clone(),
			proof: leaves.clone().try_into().unwrap(),
		};
		assert_eq!(
			report(reporter, mismatch(0, sample, shown(1 - index))),
			Err(refused(Error::BadEvidence))
		);
		assert_ok!(report(reporter, mismatch(0, sample, shown(index))));
		assert_eq!(Disputes::<Test>::get(0).unwrap().cost, claims[index as usize].receipt.cost);
	});
}

#[test]
fn a_block_opens_at_most_max_disputes() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (channel, member) = drawn(1, 2_000);
		assert_ok!(settle(member, settlement(channel, Some(voucher(channel, member, 6)), vec![])));
		run_to_block(VERDICT_PERIOD);
		// Samples on distinct receipts (a receipt is disputed once).
		let mut seqs = std::collections::BTreeSet::new();
		let mut reports = samples_with_validators(0, &[1, 2, 3])
			.into_iter()
			.filter(|(sample, _)| seqs.insert(seq_of(sample_at(0, *sample))))
			.map(|(sample, i)| (i, sample));
		for _ in 0..MAX_DISPUTES {
			let (i, sample) = reports.next().expect("enough samples with validators");
			let seq = seq_of(sample_at(0, sample));
			assert_ok!(report(i, mismatch(0, sample, evidence(channel, member, 6, seq))));
		}
		let (i, sample) = reports.next().expect("one more");
		let seq = seq_of(sample_at(0, sample));
		assert_eq!(
			report(i, mismatch(0, sample, evidence(channel, member, 6, seq))),
			Err(Refused::Pool(InvalidTransaction::ExhaustsResources.into()))
		);
		run_to_block(VERDICT_PERIOD + 1);
		assert_ok!(report(i, mismatch(0, sample, evidence(channel, member, 6, seq))));
	});
}

#[test]
fn an_epochs_ledger_waits_for_its_open_settlements_and_disputes() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		assert!(!EpochsInUse::<Test>::contains(&0));
		let _ = disputed(&[1, 2, 3]);
		assert!(EpochsInUse::<Test>::contains(&0));
		// The settlement's window closes; the dispute (nobody votes) ends later.
		run_to_block(2 * VERDICT_PERIOD);
		assert!(!Channels::window_open(0));
		assert!(EpochsInUse::<Test>::contains(&0), "its dispute is open");
		run_to_block(VERDICT_PERIOD + JURY_WINDOW + 1);
		assert!(Disputes::<Test>::get(0).is_none());
		// The settlement's second round holds it until the pruning (`seconds.rs`).
		assert!(EpochsInUse::<Test>::contains(&0), "its second round lasts");
		run_to_block(3 * VERDICT_PERIOD);
		assert!(!EpochsInUse::<Test>::contains(&0));
	});
}

/// A channel of one slot whose member settled 6 vouchered receipts in block 2, and in
/// period 1 a validator's report that the payload of a sample it was drawn for was
/// unavailable (dispute 0). Returns the member, the reporter and the sample.
fn unavailable(hosts: &[u8]) -> (u8, u8, u32) {
	let (channel, member) = drawn(1, 2_000);
	assert_ok!(settle(member, settlement(channel, Some(voucher(channel, member, 6)), vec![])));
	run_to_block(VERDICT_PERIOD);
	let (sample, reporter) = sampled(0, hosts);
	assert_ok!(report(reporter, unavailable_report(0, sample)));
	(member, reporter, sample)
}

/// As [`unavailable`] on hosts 1 to 3, the reporter holding `work` of other pending work
/// when it reports. Returns the member, the reporter and what the report's answer paid.
pub(super) fn unavailable_with_work(work: u128) -> (u8, u8, u128) {
	let (channel, member) = drawn(1, 2_000);
	assert_ok!(settle(member, settlement(channel, Some(voucher(channel, member, 6)), vec![])));
	run_to_block(VERDICT_PERIOD);
	let (sample, reporter) = sampled(0, &[1, 2, 3]);
	assert_ok!(<TestLedger as pallet_inference::WorkLedger<_>>::credit_work(
		&account(reporter),
		work
	));
	let before = credited(&account(reporter));
	assert_ok!(report(reporter, unavailable_report(0, sample)));
	(member, reporter, credited(&account(reporter)) - before)
}

/// A report that sample `sample` of settlement `settlement` was unavailable.
pub(super) fn unavailable_report(settlement: u64, sample: u32) -> FailureReport {
	FailureReport {
		settlement,
		anchor: anchor(),
		sample,
		reason: FailReason::Unavailable,
		evidence: None,
	}
}

/// A channel of one slot whose member settled 6 vouchered receipts in block 2, and in
/// period 1 a mismatch reported on its first sample with a validator (dispute 0). Returns
/// the next such sample and its validator, for a second dispute.
pub(super) fn mismatch_then_another_sample() -> (u32, u8) {
	let (channel, member) = drawn(1, 2_000);
	assert_ok!(settle(member, settlement(channel, Some(voucher(channel, member, 6)), vec![])));
	run_to_block(VERDICT_PERIOD);
	let samples = samples_with_validators(0, &[1, 2, 3]);
	let (first, by_first) = samples[0];
	let seq = seq_of(sample_at(0, first));
	assert_ok!(report(by_first, mismatch(0, first, evidence(channel, member, 6, seq))));
	samples[1]
}

/// The sample seed of settlement `id` (kept while its record is).
fn seed(id: u64) -> H256 {
	let record = Settlements::<Test>::get(id).expect("the settlement is open");
	Channels::seed_of(id, &record).expect("its block's hash is known")
}

/// `signer`'s worker key's acknowledgement, as host `host`, of the delivery of `sample` of
/// settlement `settlement` (of sample seed `seed`), sent to refute dispute `dispute`.
fn refute_call(
	signer: u8,
	host: u8,
	dispute: u64,
	(settlement, seed): (u64, H256),
	sample: u32,
) -> crate::Call<Test> {
	let ack = DeliveryAck { settlement, sample, seed, leaf: H256::repeat_byte(7) };
	let signature = ack.sign(&Poc::genesis_hash(), &account(host), &worker(signer));
	crate::Call::refute_unavailable { dispute, ack, signature }
}

/// The attack: a validator fetches the payload (and acknowledges it), then reports it
/// unavailable, so that a jury that cannot see the delivery refunds an honest executor's
/// receipt. The executor shows the acknowledgement: the dispute ends at once, the failure
/// rejected, the reporter fined.
#[test]
fn an_unavailable_report_is_refuted_by_the_reporters_delivery_acknowledgement() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (member, reporter, sample) = unavailable(&[1, 2, 3]);
		let cost = Disputes::<Test>::get(0).unwrap().cost;
		run_to_block(VERDICT_PERIOD + 1);
		// A juror's vote that it could not fetch either counts for nothing then.
		assert_ok!(vote(third(&[1, 2, 3], member, reporter), 0, true));
		let executor_work = credited(&account(member));
		let fine = cost.min(credited(&account(reporter)));
		assert!(fine > 0);
		// Anyone holding it may send it: the reporter's signature is the proof.
		assert_ok!(run_duty(refute_call(reporter, reporter, 0, (0, seed(0)), sample)));
		assert!(Disputes::<Test>::get(0).is_none());
		assert_eq!(UnavailableReports::<Test>::get(0), None);
		assert_eq!(fined(&account(reporter)), fine);
		assert_eq!(reputation_misses(&account(reporter)), 1, "a miss on its reputation");
		assert_eq!(credited(&account(member)), executor_work, "nothing taken");
		assert!(judged().contains(&(account(member), 0, 1, 0)));
		assert!(channel_events().contains(&Event::DisputeEnded {
			dispute: 0,
			outcome: DisputeOutcome::Refuted,
			refund: 0,
			bounty: 0,
			fine,
		}));
		// Once.
		assert_eq!(
			run_duty(refute_call(reporter, reporter, 0, (0, seed(0)), sample)),
			Err(Refused::Pool(InvalidTransaction::Stale.into()))
		);
		// Its place in the queue is passed when the cursor reaches it.
		assert_eq!(UnavailableQueue::<Test>::get(0), Some(0));
		run_to_block(VERDICT_PERIOD + 2);
		assert_eq!(UnavailableQueue::<Test>::get(0), None);
		assert_eq!(NextUnavailableToEnd::<Test>::get(), 1);
	});
}

/// The attack: an executor withholds a sample's payload from the validator drawn for it
/// and serves the jury, whose valid votes reject the validator's honest unavailable report
/// (the jurors cannot tell whom the executor served). The report counts as a missed
/// sample: the answer's pay taken back and a missed duty, no fine of the cost, no miss on
/// its reputation. (A reporter that fetched the payload is refuted by its own
/// acknowledgement and fined: the test above.)
#[test]
fn an_unavailable_report_the_jury_finds_served_takes_back_the_answers_pay_only() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		// The reporter's other pending work in the epoch (a fine of the cost would reach it).
		let (member, reporter, paid) = unavailable_with_work(10 * COST);
		let cost = Disputes::<Test>::get(0).unwrap().cost;
		assert!(paid > 0 && paid < cost, "the answer's pay ({paid}) is not the cost ({cost})");
		// The executor serves the jury: it votes the receipt valid.
		run_to_block(VERDICT_PERIOD + 1);
		assert_ok!(vote(third(&[1, 2, 3], member, reporter), 0, false));
		run_to_block(VERDICT_PERIOD + UNAVAILABLE_WINDOW + 1);
		assert!(Disputes::<Test>::get(0).is_none());
		assert_eq!(fined(&account(reporter)), paid, "the answer's pay, not the cost");
		assert_eq!(reputation_misses(&account(reporter)), 0, "no miss on its reputation");
		// A missed duty besides the one its report counted done: a validator that reports
		// unavailable without fetching fails the downtime test as one that skips does.
		assert_eq!(duties(&account(reporter)), (1, 1));
		assert!(judged().contains(&(account(member), 0, 1, 0)));
		assert!(channel_events().contains(&Event::DisputeEnded {
			dispute: 0,
			outcome: DisputeOutcome::Validated { rejected: true },
			refund: 0,
			bounty: 0,
			fine: paid,
		}));
	});
}

#[test]
fn a_refutation_is_the_reporters_acknowledgement_of_the_disputed_sample() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (member, reporter, sample) = unavailable(&[1, 2, 3]);
		// The executor cannot sign it for the reporter, nor can a juror.
		let juror = third(&[1, 2, 3], member, reporter);
		for forger in [member, juror] {
			assert_eq!(
				run_duty(refute_call(forger, reporter, 0, (0, seed(0)), sample)),
				Err(Refused::Pool(InvalidTransaction::BadProof.into()))
			);
		}
		// The reporter's acknowledgement of another sample, or another settlement.
		assert_eq!(
			run_duty(refute_call(reporter, reporter, 0, (0, seed(0)), sample + 1)),
			Err(refused(Error::AckNotForDispute))
		);
		assert_eq!(
			run_duty(refute_call(reporter, reporter, 0, (1, seed(0)), sample)),
			Err(refused(Error::AckNotForDispute))
		);
		// The settlement of this id on another fork: another seed.
		assert_eq!(
			run_duty(refute_call(reporter, reporter, 0, (0, H256::repeat_byte(3)), sample)),
			Err(refused(Error::AckNotForDispute))
		);
		assert_eq!(
			run_duty(refute_call(reporter, reporter, 7, (0, seed(0)), sample)),
			Err(Refused::Pool(InvalidTransaction::Stale.into()))
		);
		assert!(Disputes::<Test>::get(0).is_some());
	});
	// A mismatch shows the receipt a jury replays: an acknowledgement refutes nothing.
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (_, _, reporter, sample) = disputed(&[1, 2, 3]);
		assert_eq!(
			run_duty(refute_call(reporter, reporter, 0, (0, seed(0)), sample)),
			Err(refused(Error::NotUnavailable))
		);
	});
}

/// An unavailable payload's jury votes for `UnavailableWindow` (an executor briefly
/// offline still serves it); a mismatch opened after it ends at its own window's end,
/// unheld by the longer one.
#[test]
fn an_unavailable_payloads_jury_votes_longer_and_other_disputes_end_in_between() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (member, reporter, sample) = unavailable(&[1, 2, 3]);
		let (other, validator) = samples_with_validators(0, &[1, 2, 3])
			.into_iter()
			.find(|(s, _)| *s != sample)
			.expect("another sample with a validator");
		let seq = seq_of(sample_at(0, other));
		let channel = Settlements::<Test>::get(0).unwrap().channel;
		assert_ok!(report(validator, mismatch(0, other, evidence(channel, member, 6, seq))));
		run_to_block(VERDICT_PERIOD + JURY_WINDOW + 1);
		assert!(Disputes::<Test>::get(1).is_none(), "the mismatch ended");
		assert!(Disputes::<Test>::get(0).is_some(), "the unavailable payload's jury votes on");
		assert_eq!(NextDisputeToEnd::<Test>::get(), 2);
		assert_ok!(vote(third(&[1, 2, 3], member, reporter), 0, true));
		run_to_block(VERDICT_PERIOD + UNAVAILABLE_WINDOW);
		assert!(Disputes::<Test>::get(0).is_some());
		run_to_block(VERDICT_PERIOD + UNAVAILABLE_WINDOW + 1);
		assert!(Disputes::<Test>::get(0).is_none());
		assert!(channel_events().iter().any(|event| matches!(
			event,
			Event::DisputeEnded { dispute: 0, outcome: DisputeOutcome::Invalidated, .. }
		)));
		assert_eq!(NextUnavailableToEnd::<Test>::get(), 1);
	});
}

/// A validator reports a mismatch or an unavailable payload; a challenge is the
/// developer's, with its fee.
#[test]
fn a_validator_never_reports_a_challenge() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (channel, member) = drawn(1, 2_000);
		assert_ok!(settle(member, settlement(channel, Some(voucher(channel, member, 6)), vec![])));
		run_to_block(VERDICT_PERIOD);
		let (sample, reporter) = sampled(0, &[1, 2, 3]);
		let seq = seq_of(sample_at(0, sample));
		let challenged = FailureReport {
			reason: FailReason::Challenged,
			..mismatch(0, sample, evidence(channel, member, 6, seq))
		};
		assert_eq!(report(reporter, challenged), Err(refused(Error::BadReason)));
	});
}

/// A refutation that lands before the dispute-id cursor reaches its dispute (held back by
/// an earlier mismatch's): the cursor passes the gap when it gets there.
#[test]
fn a_dispute_refuted_before_the_cursor_reaches_it_is_passed() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (second, by_second) = mismatch_then_another_sample();
		assert_ok!(report(by_second, unavailable_report(0, second)));
		assert_ok!(run_duty(refute_call(by_second, by_second, 1, (0, seed(0)), second)));
		assert!(Disputes::<Test>::get(1).is_none());
		run_to_block(VERDICT_PERIOD + JURY_WINDOW + 1);
		assert!(Disputes::<Test>::get(0).is_none());
		assert_eq!(NextDisputeToEnd::<Test>::get(), 2);
		assert_eq!(NextUnavailableToEnd::<Test>::get(), 1);
	});
}

/// A developer that is also a host sits on no jury over its own channel's receipts (an
/// invalidation refunds it), and its power is not the jury's.
#[test]
fn the_developer_sits_on_no_jury_of_its_own_channel() {
	ExtBuilder::default().hosts(&[1, 2, 3, 4]).build_and_execute(|| {
		let channel = open(4, terms(1), 2_000);
		run_to_block(2);
		let committee = crate::Committees::<Test>::get(channel).unwrap();
		let member = *[1u8, 2, 3].iter().find(|i| committee.contains(&account(**i))).expect(
			"the committee's one slot is not the developer's (else pick another developer)",
		);
		assert_ok!(settle(member, settlement(channel, Some(voucher(channel, member, 6)), vec![])));
		run_to_block(VERDICT_PERIOD);
		let (sample, reporter) = samples_with_validators(0, &[1, 2, 3])
			.into_iter()
			.find(|(_, by)| *by != member)
			.expect("a sample another host validates");
		let seq = seq_of(sample_at(0, sample));
		assert_ok!(report(reporter, mismatch(0, sample, evidence(channel, member, 6, seq))));
		run_to_block(VERDICT_PERIOD + 1);
		let record = Disputes::<Test>::get(0).unwrap();
		assert_eq!(record.developer, account(4));
		assert!(Channels::sits_on(0, &record, &account(4)).is_none());
		let juror = *[1u8, 2, 3].iter().find(|i| **i != member && **i != reporter).unwrap();
		assert!(Channels::sits_on(0, &record, &account(juror)).is_some());
		let snapshot = Settlements::<Test>::get(0).unwrap().snapshot;
		assert_eq!(
			record.others,
			Poc::power_in(&snapshot, &account(juror)),
			"the jury's power is the juror's alone"
		);
		assert_eq!(vote(4, 0, true), Err(refused(Error::NotAJuror)));
		// Its own challenge: its power is not the jury's either.
		let other = (seq + 1) % 6;
		assert_ok!(Channels::challenge_receipt(
			RuntimeOrigin::signed(account(4)),
			gonka_primitives::channel::ReceiptChallenge {
				settlement: 0,
				tail: None,
				evidence: evidence(channel, member, 6, other),
			}
		));
		let challenge = Disputes::<Test>::get(1).unwrap();
		assert_eq!(
			challenge.others,
			Poc::power_in(&snapshot, &account(juror))
				+ Poc::power_in(&snapshot, &account(reporter))
		);
		run_to_block(VERDICT_PERIOD + 2);
		assert!(Channels::sits_on(1, &challenge, &account(4)).is_none());
	});
}
