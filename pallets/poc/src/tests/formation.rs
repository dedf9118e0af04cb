//! Weight formation: judging commitments, PoC weights, consensus weights and the cap,
//! carried-over epochs, executor rosters and pruning.

use super::*;
use crate::{Commitments, CurrentEpoch, Outcome, Tallies, TotalVotingPower};
use gonka_primitives::{
	duty::{Duty, PocCommit, PocValidation, Verdict},
	H256,
};
use polkadot_sdk::{frame_support::pallet_prelude::*, frame_system::RawOrigin};

/// Epoch `e` starts at block `20e + 1`; validation ends (weights form) at `20e + 12`.
pub(super) fn epoch_start(e: u32) -> u64 {
	20 * e as u64 + 1
}

fn set_power(powers: &[(u8, u128)]) {
	let powers: Vec<_> = powers.iter().map(|(i, power)| (account(*i), *power)).collect();
	Poc::force_voting_power(&powers);
}

pub(super) fn commit(i: u8, model: u32, count: u64) {
	let epoch = CurrentEpoch::<Test>::get().unwrap().index;
	let commit = PocCommit { epoch, model, count, root: H256::repeat_byte(i) };
	let signature = commit.sign(&Poc::genesis_hash(), &account(i), &worker(i));
	assert_ok!(Poc::commit_poc(RawOrigin::Authorized.into(), account(i), commit, signature));
}

pub(super) fn validate(i: u8, model: u32, verdicts: &[(u8, bool)]) {
	let epoch = CurrentEpoch::<Test>::get().unwrap().index;
	let mut verdicts: Vec<Verdict> =
		verdicts.iter().map(|&(h, valid)| Verdict { host: account(h), valid }).collect();
	verdicts.sort_by(|a, b| a.host.cmp(&b.host));
	let batch = PocValidation::<ConstU32<MAX_HOSTS>> {
		epoch,
		model,
		verdicts: verdicts.try_into().unwrap(),
	};
	let signature = batch.sign(&Poc::genesis_hash(), &account(i), &worker(i));
	assert_ok!(Poc::submit_poc_validations(
		RawOrigin::Authorized.into(),
		account(i),
		batch,
		signature
	));
}

/// One whole epoch from its start: `running` hosts commit `count` nonces on model 1, and
/// every running host with power says valid on every other; then the weights form.
fn honest_epoch(running: &[u8], count: u64) {
	let e = CurrentEpoch::<Test>::get().unwrap().index;
	for &i in running {
		commit(i, 1, count);
	}
	run_to_block(epoch_start(e) + 6);
	for &v in running {
		let others: Vec<(u8, bool)> =
			running.iter().filter(|&&h| h != v).map(|&h| (h, true)).collect();
		if Poc::voting_power(&account(v)) > 0 && !others.is_empty() {
			validate(v, 1, &others);
		}
	}
	run_to_block(epoch_start(e + 1));
}

/// In epoch 0's validation, each of `hosts` says every other one's commitment on each of
/// `models` is valid; then to the last validation block.
fn everyone_says_valid(hosts: &[u8], models: &[u32]) {
	run_to_block(7);
	for &v in hosts {
		let others: Vec<(u8, bool)> =
			hosts.iter().filter(|&&h| h != v).map(|&h| (h, true)).collect();
		for &model in models {
			validate(v, model, &others);
		}
	}
	run_to_block(11);
}

fn judged(host: u8) -> Option<(Outcome, u64)> {
	poc_events().into_iter().rev().find_map(|event| match event {
		Event::PocJudged { host: h, outcome, weight, .. } if h == account(host) => {
			Some((outcome, weight))
		}
		_ => None,
	})
}

#[test]
fn votes_exactly_at_two_thirds_do_not_accept_and_just_above_do() {
	ExtBuilder::default().hosts(&[1, 2, 3, 4]).build_and_execute(|| {
		// Host 4 is judged; the others' power is 3 + 1 + 2 = 6, so acceptance needs valid
		// power above 4.
		set_power(&[(1, 3), (2, 1), (3, 2), (4, 1)]);
		commit(4, 1, 100);
		commit(1, 1, 100);
		run_to_block(7);
		validate(1, 1, &[(4, true)]); // 3
		validate(2, 1, &[(4, true)]); // + 1 = 4: exactly 2/3
		run_to_block(12);
		// Not accepted: the smaller of its genesis weight (1) and its count.
		assert_eq!(judged(4), Some((Outcome::QuorumFailed, 1)));
	});
	ExtBuilder::default().hosts(&[1, 2, 3, 4]).build_and_execute(|| {
		set_power(&[(1, 3), (2, 1), (3, 2), (4, 1)]);
		commit(4, 1, 100);
		run_to_block(7);
		validate(1, 1, &[(4, true)]); // 3
		validate(3, 1, &[(4, true)]); // + 2 = 5: above 2/3
		run_to_block(12);
		assert_eq!(judged(4), Some((Outcome::Accepted, 100)));
		assert_eq!(Poc::poc_weight(&account(4), 1), 100);
		assert_eq!(Poc::voting_power(&account(4)), 100);
	});
}

#[test]
fn a_host_judged_invalid_by_two_thirds_loses_its_weight() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		for i in [1, 2, 3] {
			commit(i, 1, 100);
		}
		run_to_block(7);
		validate(1, 1, &[(2, true), (3, false)]);
		validate(2, 1, &[(1, true), (3, false)]);
		validate(3, 1, &[(1, true), (2, true)]);
		run_to_block(12);
		assert_eq!(judged(3), Some((Outcome::Rejected, 0)));
		assert_eq!(Poc::poc_weight(&account(3), 1), 0);
		assert_eq!(Poc::voting_power(&account(3)), 0);
		assert_eq!(Poc::voting_power(&account(1)), 100);
		assert_eq!(TotalVotingPower::<Test>::get(), 200);
	});
}

#[test]
fn a_quorum_failure_keeps_the_smaller_of_previous_weight_and_count() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		honest_epoch(&[1, 2, 3], 100);
		assert_eq!(Poc::poc_weight(&account(3), 1), 100);
		// Epoch 1: host 3 commits 500 but only host 1 votes on it (1/2 of the others).
		for i in [1, 2, 3] {
			commit(i, 1, if i == 3 { 500 } else { 100 });
		}
		run_to_block(epoch_start(1) + 6);
		validate(1, 1, &[(2, true), (3, true)]);
		validate(2, 1, &[(1, true)]);
		validate(3, 1, &[(1, true), (2, true)]);
		run_to_block(epoch_start(1) + 11);
		assert_eq!(judged(3), Some((Outcome::QuorumFailed, 100)), "min(previous 100, count 500)");
		assert_eq!(judged(1), Some((Outcome::Accepted, 100)));
	});
}

#[test]
fn a_host_that_commits_but_gets_no_valid_votes_gets_no_new_weight() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		for i in [1, 2, 3] {
			commit(i, 1, 100);
		}
		run_to_block(7);
		// Everyone judges hosts 1 and 2; nobody judges host 3.
		validate(1, 1, &[(2, true)]);
		validate(2, 1, &[(1, true)]);
		validate(3, 1, &[(1, true), (2, true)]);
		run_to_block(12);
		assert_eq!(judged(1), Some((Outcome::Accepted, 100)));
		// Host 3 keeps only the smaller of its genesis weight (1) and its count.
		assert_eq!(judged(3), Some((Outcome::QuorumFailed, 1)));
		assert_eq!(Poc::voting_power(&account(3)), 1);
		assert_eq!(TotalVotingPower::<Test>::get(), 201);
	});
}

#[test]
fn the_replaced_generation_is_pruned_once_the_new_one_is_in_force() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		// Block 12 forms the weights: generation 1 in force, generation 0 pruned after it.
		validated_first_epoch(&[(1, 100), (2, 100), (3, 100)]);
		assert_eq!(crate::PowerGeneration::<Test>::get(), 1);
		assert_eq!(crate::OldestPowerGeneration::<Test>::get(), 1);
	});
}

/// Epoch 0: each host commits its count on model 1 and every host judges the others
/// valid; runs to block 12, where the weights form.
fn validated_first_epoch(counts: &[(u8, u64)]) {
	for (i, count) in counts {
		commit(*i, 1, *count);
	}
	run_to_block(epoch_start(0) + 6);
	for (v, _) in counts {
		let others: Vec<(u8, bool)> =
			counts.iter().filter(|(h, _)| h != v).map(|(h, _)| (*h, true)).collect();
		validate(*v, 1, &others);
	}
	run_to_block(12);
}

/// How often each of hosts 1..=3 is picked for `model` over 3,000 draws.
fn picks(model: u32) -> [u32; 3] {
	let mut counts = [0u32; 3];
	for request in 0..3_000u64 {
		let draw = gonka_primitives::inference::executor_draw(&H256::repeat_byte(2), request, 0);
		let host = Poc::pick_executor(model, &draw).expect("a model with executors");
		let index = (1..=3u8).position(|i| account(i) == host).expect("a rostered host");
		counts[index] += 1;
	}
	counts
}

#[test]
fn genesis_hosts_execute_their_models_with_equal_weight_until_the_first_formation() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		// Three hosts in chunks of two: totals 2 and 3.
		assert_eq!(crate::RosterTotals::<Test>::get(1).to_vec(), vec![2, 3]);
		for count in picks(1) {
			assert!((850..1_150).contains(&count), "{:?}", picks(1));
		}
		assert_eq!(Poc::pick_executor(3, &[0; 32]), None, "nobody serves model 3");
	});
}

#[test]
fn formation_replaces_each_models_roster_with_the_new_poc_weights() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		validated_first_epoch(&[(1, 100), (2, 200), (3, 300)]);
		assert_eq!(crate::RosterTotals::<Test>::get(1).to_vec(), vec![300, 600]);
		// Picked in proportion to 100 : 200 : 300.
		let counts = picks(1);
		for (count, expected) in counts.iter().zip([500, 1_000, 1_500]) {
			assert!(count.abs_diff(expected) < 150, "{counts:?}");
		}
		// Nobody committed on model 2: it has no executors any more.
		assert!(crate::RosterTotals::<Test>::get(2).is_empty());
		assert_eq!(crate::ExecutorRoster::<Test>::iter_prefix(2).count(), 0);
		assert_eq!(Poc::pick_executor(2, &[0; 32]), None);
	});
}

#[test]
fn an_epoch_that_accepts_nobody_carries_every_weight_over() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		honest_epoch(&[1, 2, 3], 100);
		let before: Vec<u128> = [1, 2, 3].iter().map(|&i| Poc::voting_power(&account(i))).collect();
		// The formation made generation 1 of voting power.
		assert_eq!(crate::PowerGeneration::<Test>::get(), 1);
		// Epoch 1: nobody runs a worker.
		run_to_block(epoch_start(2));
		let after: Vec<u128> = [1, 2, 3].iter().map(|&i| Poc::voting_power(&account(i))).collect();
		assert_eq!(before, after);
		// Carried over: the same generation stays in force.
		assert_eq!(crate::PowerGeneration::<Test>::get(), 1);
		assert_eq!(Poc::poc_weight(&account(1), 1), 100);
		assert!(poc_events().contains(&Event::WeightsCarriedOver { epoch: 1 }));
	});
}

/// Attack (`docs/security.md`): an epoch that accepts nobody carries the weights over; if
/// it told pallet-rewards nothing, the epoch paid no reward and slashed nobody, so an
/// INVALID or down host escaped its slash by making sure that no commitment passed (a
/// validation boycott), and the reward curve counted rewarded epochs, not epochs. Rule:
/// a carried-over epoch is scheduled with the carried weights, as a formed one is.
#[test]
fn an_epoch_that_carries_weights_over_schedules_its_reward_with_them() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		honest_epoch(&[1, 2, 3], 100);
		let formed = FormedLog::calls();
		assert_eq!(formed.len(), 1);
		let (epoch, weights) = formed[0].clone();
		assert_eq!(epoch, 0);
		run_to_block(epoch_start(2));
		assert!(poc_events().contains(&Event::WeightsCarriedOver { epoch: 1 }));
		assert_eq!(FormedLog::calls(), vec![(0, weights.clone()), (1, weights)]);
	});
}

/// Attack (`docs/security.md`): a verdict counts the validator's power when it is sent,
/// but the threshold counted the total power at formation, which departures lower: a 40%
/// coalition says "valid" and leaves, and a host that the other 40% judged invalid
/// passes. Rule: verdicts are tallied against the total power when validation opened,
/// which departures (and power revoked meanwhile) cannot change.
#[test]
fn validators_that_leave_after_voting_do_not_lower_the_threshold() {
	ExtBuilder::default().hosts(&[1, 2, 3, 4, 5]).build_and_execute(|| {
		set_power(&[(1, 1), (2, 1), (3, 1), (4, 1), (5, 1)]);
		commit(5, 1, 100);
		run_to_block(epoch_start(0) + 6);
		validate(1, 1, &[(5, true)]);
		validate(2, 1, &[(5, true)]);
		validate(3, 1, &[(5, false)]);
		validate(4, 1, &[(5, false)]);
		assert_ok!(Poc::leave(RuntimeOrigin::signed(account(1))));
		assert_ok!(Poc::leave(RuntimeOrigin::signed(account(2))));
		assert_eq!(TotalVotingPower::<Test>::get(), 3);
		run_to_block(epoch_start(1));
		// Of the others' 4 units when validation opened, 2 said valid and 2 invalid:
		// neither is more than two thirds.
		assert_eq!(judged(5).map(|(outcome, _)| outcome), Some(Outcome::QuorumFailed));
	});
}

#[test]
fn consensus_weight_sums_pocs_weights_times_model_coefficients() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		for i in [1, 2, 3] {
			commit(i, 1, 100);
		}
		commit(1, 2, 30); // model 2 has coefficient 2
		run_to_block(7);
		for v in [1, 2, 3] {
			let others: Vec<(u8, bool)> =
				[1, 2, 3].iter().filter(|&&h| h != v).map(|&h| (h, true)).collect();
			validate(v, 1, &others);
		}
		validate(2, 2, &[(1, true)]);
		validate(3, 2, &[(1, true)]);
		run_to_block(12);
		assert_eq!(Poc::poc_weight(&account(1), 2), 30);
		assert_eq!(Poc::voting_power(&account(1)), 100 + 2 * 30);
		assert_eq!(Poc::voting_power(&account(2)), 100);
	});
}

#[test]
fn a_host_above_a_quarter_of_the_weight_is_capped() {
	ExtBuilder::default().hosts(&[1, 2, 3, 4, 5]).build_and_execute(|| {
		commit(1, 1, 1_000);
		for i in [2, 3, 4, 5] {
			commit(i, 1, 10);
		}
		run_to_block(7);
		for v in [1, 2, 3, 4, 5] {
			let others: Vec<(u8, bool)> =
				[1, 2, 3, 4, 5].iter().filter(|&&h| h != v).map(|&h| (h, true)).collect();
			validate(v, 1, &others);
		}
		run_to_block(12);
		// PoC weight stays the count; voting power is cut: c = (40 + c) / 4 → 13.
		assert_eq!(Poc::poc_weight(&account(1), 1), 1_000);
		assert_eq!(Poc::voting_power(&account(1)), 13);
		assert_eq!(TotalVotingPower::<Test>::get(), 53);
	});
}

#[test]
fn small_networks_never_lose_all_power_over_five_epochs() {
	// (genesis hosts, hosts running in each of 5 epochs)
	let cases: [(&[u8], [&[u8]; 5]); 5] = [
		(&[1, 2], [&[1, 2]; 5]),
		(&[1, 2, 3], [&[1, 2, 3]; 5]),
		(&[1, 2, 3], [&[1, 2]; 5]),
		(&[1, 2], [&[1], &[1], &[1, 2], &[1], &[1, 2]]),
		(&[1, 2, 3], [&[]; 5]),
	];
	for (genesis, epochs) in cases {
		ExtBuilder::default().hosts(genesis).build_and_execute(|| {
			for running in epochs {
				honest_epoch(running, 100);
				assert!(TotalVotingPower::<Test>::get() > 0, "{genesis:?} running {running:?}");
			}
		});
	}
	// Two honest hosts: both accepted each epoch.
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		for _ in 0..5 {
			honest_epoch(&[1, 2], 100);
		}
		assert_eq!(Poc::voting_power(&account(1)), 100);
		assert_eq!(Poc::voting_power(&account(2)), 100);
	});
	// Three equal hosts, one absent: each running host's verdict comes from half of the
	// others' power, short of 2/3, so nobody is accepted and the weights carry over: the
	// chain keeps its power (the absent host's third included) rather than losing it.
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		for _ in 0..5 {
			honest_epoch(&[1, 2], 100);
		}
		assert_eq!(Poc::voting_power(&account(3)), 1);
		assert_eq!(TotalVotingPower::<Test>::get(), 3);
	});
	// Once the running hosts hold the power, an absent host loses its weight.
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		honest_epoch(&[1, 2, 3], 100);
		set_power(&[(1, 100), (2, 100), (3, 10)]);
		honest_epoch(&[1, 2], 100);
		assert_eq!(Poc::voting_power(&account(3)), 0);
		assert_eq!(TotalVotingPower::<Test>::get(), 200);
	});
}

#[test]
fn records_older_than_the_retention_window_are_pruned() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		honest_epoch(&[1, 2], 100); // epoch 0
		assert!(Commitments::<Test>::contains_key((0, 1, account(1))));
		honest_epoch(&[1, 2], 100); // 1
		honest_epoch(&[1, 2], 100); // 2; epoch 3 starts and prunes epoch 0
		assert!(!Commitments::<Test>::contains_key((0, 1, account(1))));
		assert_eq!(Tallies::<Test>::iter_prefix(0).count(), 0);
		assert!(Commitments::<Test>::contains_key((1, 1, account(1))));
	});
}

/// Runs blocks `from..=to` by hand, checking that PoC's spread work of each stays within
/// `budget`; returns the first block at which `done` holds.
fn blocks_within(budget: Weight, from: u64, to: u64, done: impl Fn() -> bool) -> Option<u64> {
	let mut at = None;
	for n in from..=to {
		System::set_block_number(n);
		System::set_parent_hash(block_hash(n - 1));
		let used = Poc::on_initialize(n);
		Poc::do_try_state().expect("the pallet's invariants hold");
		assert!(used.all_lte(budget), "block {n}: {used} above the budget {budget}");
		if at.is_none() && done() {
			at = Some(n);
		}
	}
	at
}

/// Hole 11: the formation judged every commitment, wrote every PoC weight and roster and
/// the new generation of voting power in one block, `MaxHosts × MaxModelsPerHost`
/// commitments at worst (≈ 47 MB of proof). It is spread over blocks within `HookBudget`,
/// and the weights in force stay in force until the new ones replace them.
#[test]
fn the_formation_is_spread_within_the_hook_budget_and_the_old_weights_hold_until_it_ends() {
	ExtBuilder::default().hosts(&[1, 2, 3, 4, 5, 6]).build_and_execute(|| {
		let hosts = [1u8, 2, 3, 4, 5, 6];
		for &i in &hosts {
			commit(i, 1, 100 + u64::from(i));
			commit(i, 2, 50);
		}
		everyone_says_valid(&hosts, &[1, 2]);
		// Three records a step: 12 commitments, 2 rosters, 6 powers take several blocks.
		let budget = spread(3);
		HookBudget::set(&budget);
		let formed =
			blocks_within(budget, 12, 40, || crate::LastFormedEpoch::<Test>::get() == Some(0));
		let formed = formed.expect("the weights form");
		assert!(formed > 15, "spread over blocks: formed at {formed}");
		// Until then, the genesis weights held: equal power, equal PoC weight.
		let judged =
			poc_events().iter().filter(|event| matches!(event, Event::PocJudged { .. })).count();
		assert_eq!(judged, 12);
		assert_eq!(Poc::poc_weight(&account(3), 1), 103);
		assert_eq!(Poc::poc_weight(&account(3), 2), 50);
		// 6 hosts of 100 + i + 2 × 50: none above a quarter.
		assert_eq!(Poc::voting_power(&account(3)), 203);
		assert_eq!(crate::PowerGeneration::<Test>::get(), 1);
	});
}

#[test]
fn the_weights_in_force_hold_while_the_formation_runs() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		for i in [1u8, 2, 3] {
			commit(i, 1, 100);
		}
		everyone_says_valid(&[1, 2, 3], &[1]);
		HookBudget::set(&spread(1));
		run_to_block(13);
		assert!(crate::Formation::<Test>::get().is_some(), "still forming");
		assert_eq!(Poc::voting_power(&account(1)), 1, "the genesis power holds");
		assert_eq!(Poc::poc_weight(&account(1), 1), 1, "the genesis PoC weight holds");
		assert!(pick_counts(1).iter().sum::<u32>() > 0);
		HookBudget::set(&Weight::MAX);
		run_to_block(14);
		assert_eq!(Poc::voting_power(&account(1)), 100);
		assert_eq!(Poc::poc_weight(&account(1), 1), 100);
	});
}

/// Draws on `model` from 64 fixed seeds, counted per host 1..=3.
fn pick_counts(model: u32) -> [u32; 3] {
	let mut counts = [0u32; 3];
	for seed in 0..64u8 {
		if let Some(host) = Poc::pick_executor(model, &[seed; 32]) {
			for i in 1..=3u8 {
				if host == account(i) {
					counts[usize::from(i - 1)] += 1;
				}
			}
		}
	}
	counts
}

#[test]
fn a_host_that_leaves_during_the_formation_gets_no_power_from_it() {
	ExtBuilder::default().hosts(&[1, 2, 3, 4]).build_and_execute(|| {
		let hosts = [1u8, 2, 3, 4];
		for &i in &hosts {
			commit(i, 1, 100);
		}
		everyone_says_valid(&hosts, &[1]);
		// One power written a block: host 4 leaves once the writing has started.
		HookBudget::set(&spread(1));
		let writing = || {
			matches!(
				crate::Formation::<Test>::get().map(|formation| formation.step),
				Some(crate::FormationStep::Power { capped: true, after: Some(_) })
			)
		};
		let mut n = 11;
		while !writing() {
			n += 1;
			run_to_block(n);
			assert!(n < 60, "the formation reaches its last step");
		}
		assert_ok!(Poc::leave(RuntimeOrigin::signed(account(4))));
		HookBudget::set(&Weight::MAX);
		run_to_block(n + 1);
		assert_eq!(crate::PowerGeneration::<Test>::get(), 1);
		assert_eq!(Poc::voting_power(&account(4)), 0);
		assert_eq!(crate::PowerHistory::<Test>::get(1, account(4)), None);
		assert_eq!(TotalVotingPower::<Test>::get(), 300);
		assert!(poc_events().contains(&Event::WeightsFormed {
			epoch: 0,
			hosts: 3,
			total_power: 300
		}));
	});
}

#[test]
fn a_carried_over_epoch_is_spread_within_the_hook_budget() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		// Commitments, but no validation: nobody is accepted.
		for i in [1u8, 2, 3] {
			commit(i, 1, 100);
		}
		run_to_block(11);
		let budget = spread(1);
		HookBudget::set(&budget);
		let carried =
			blocks_within(budget, 12, 60, || crate::LastFormedEpoch::<Test>::get() == Some(0));
		assert!(carried.expect("the epoch is carried over") > 13);
		assert!(poc_events().contains(&Event::WeightsCarriedOver { epoch: 0 }));
		assert_eq!(Poc::voting_power(&account(1)), 1);
		assert_eq!(Poc::poc_weight(&account(1), 1), 1);
		assert_eq!(crate::PowerGeneration::<Test>::get(), 0);
		// The carried weights were told to pallet-rewards: each genesis host's 1 + 2 × 1.
		let (_, weights) = FormedLog::calls()
			.into_iter()
			.find(|(epoch, _)| *epoch == 0)
			.expect("epoch 0's formation told");
		assert_eq!(weights.iter().map(|(_, weight)| *weight).collect::<Vec<_>>(), vec![3, 3, 3]);
	});
}

/// Runs blocks one by one from the current one until `reached` holds (at most to `limit`).
fn run_until(limit: u64, reached: impl Fn() -> bool) -> u64 {
	let mut n = System::block_number();
	while !reached() {
		n += 1;
		assert!(n <= limit, "reached by block {limit}");
		run_to_block(n);
	}
	n
}

fn forming_step() -> Option<crate::FormationStep<gonka_primitives::HostId>> {
	crate::Formation::<Test>::get().map(|formation| formation.step)
}

/// Review of hole 11: a host marked INVALID while a formation ran (its power revoked) got
/// power again when the formation put its generation in force. The revocation carries
/// into that generation, whether it came before the host was judged or after its power
/// was written; the INVALID host keeps its consensus weight for the epoch's reward (which
/// `pallet-rewards` withholds from it and pays to the community pool).
#[test]
fn a_host_marked_invalid_during_the_formation_gets_no_power_from_it() {
	ExtBuilder::default().hosts(&[1, 2, 3, 4]).build_and_execute(|| {
		let hosts = [1u8, 2, 3, 4];
		for &i in &hosts {
			commit(i, 1, 100);
		}
		everyone_says_valid(&hosts, &[1]);
		HookBudget::set(&spread(1));
		run_to_block(12);
		assert!(matches!(forming_step(), Some(crate::FormationStep::Judge { .. })));
		// Host 4 is marked INVALID before the formation judged it.
		assert_eq!(Poc::revoke_power(&account(4)), 1);
		// Host 1 once its power in the next generation is written.
		run_until(60, || {
			matches!(
				forming_step(),
				Some(crate::FormationStep::Power { capped: true, after: Some(_) })
			)
		});
		assert_eq!(crate::PowerHistory::<Test>::get(1, account(1)), Some(100));
		assert_eq!(Poc::revoke_power(&account(1)), 1);
		HookBudget::set(&Weight::MAX);
		run_to_block(System::block_number() + 1);
		assert_eq!(crate::PowerGeneration::<Test>::get(), 1);
		for i in [1u8, 4] {
			assert_eq!(Poc::voting_power(&account(i)), 0, "host {i} has no power");
			assert_eq!(crate::PowerHistory::<Test>::get(1, account(i)), None);
		}
		assert_eq!(Poc::voting_power(&account(2)), 100);
		assert_eq!(TotalVotingPower::<Test>::get(), 200);
		assert!(poc_events().contains(&Event::WeightsFormed {
			epoch: 0,
			hosts: 2,
			total_power: 200
		}));
		// The reward was scheduled over every accepted host.
		let (_, weights) = FormedLog::calls()
			.into_iter()
			.find(|(epoch, _)| *epoch == 0)
			.expect("epoch 0's formation told");
		assert_eq!(weights.len(), 4);
		assert!(crate::FormingRevoked::<Test>::get().is_empty(), "the list is taken");
	});
}

/// Review of hole 11: a host that left and registered again kept its entries in the
/// executor rosters in force (a PoC weight, draws, a carried-over epoch's reward, a
/// quorum failure's previous weight) until the next formation, and its commitment made
/// before it left was still judged. An entry stands only for a host registered before the
/// epoch whose PoC formed the roster, and a commitment is judged only for a host
/// registered before the epoch it committed in.
#[test]
fn a_host_that_leaves_and_registers_again_keeps_no_weight_from_before_it_left() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		assert_eq!(Poc::poc_weight(&account(3), 1), 1);
		assert_ok!(Poc::leave(RuntimeOrigin::signed(account(3))));
		assert_ok!(super::register(3, vec![1, 2]));
		// The genesis roster's entry does not stand: no PoC weight, no draw.
		assert_eq!(Poc::poc_weight(&account(3), 1), 0);
		assert!(!Poc::stands(&account(3), 1));
		assert!(Poc::stands(&account(1), 1));
		// Epoch 0 accepts nobody: the weights in force that stand are carried over.
		run_to_block(epoch_start(1));
		assert!(poc_events().contains(&Event::WeightsCarriedOver { epoch: 0 }));
		let (_, weights) = FormedLog::calls()
			.into_iter()
			.find(|(epoch, _)| *epoch == 0)
			.expect("epoch 0's formation told");
		assert_eq!(weights, vec![(account(1), 3), (account(2), 3)]);
		// In epoch 1 host 3 commits and gets no verdict: a quorum failure keeps the smaller
		// of its previous weight and its count, and its genesis entry is no previous weight.
		for i in [1u8, 2, 3] {
			commit(i, 1, 100);
		}
		run_to_block(epoch_start(1) + 6);
		validate(1, 1, &[(2, true)]);
		validate(2, 1, &[(1, true)]);
		run_to_block(epoch_start(2));
		assert_eq!(judged(1), Some((Outcome::Accepted, 100)));
		assert_eq!(judged(3), Some((Outcome::QuorumFailed, 0)));
		// In epoch 2 host 3 commits, leaves and registers again: that commitment is not
		// judged (nor rostered for validation), though validators say it is valid.
		for i in [1u8, 2, 3] {
			commit(i, 1, 200);
		}
		assert_ok!(Poc::leave(RuntimeOrigin::signed(account(3))));
		assert_ok!(super::register(3, vec![1, 2]));
		run_to_block(epoch_start(2) + 6);
		assert_eq!(Poc::tally(2, &account(1), 1), crate::Tally::default());
		assert!(Tallies::<Test>::get(2, 1).iter().all(|(host, _)| *host != account(3)));
		validate(1, 1, &[(2, true)]);
		validate(2, 1, &[(1, true)]);
		run_to_block(epoch_start(3));
		let judged_in_2 = |i: u8| {
			poc_events().into_iter().any(
				|event| matches!(event, Event::PocJudged { host, epoch: 2, .. } if host == account(i)),
			)
		};
		assert!(judged_in_2(1));
		assert!(!judged_in_2(3), "a commitment from before it left is not judged");
		assert_eq!(Poc::poc_weight(&account(3), 1), 0);
		assert_eq!(Poc::voting_power(&account(3)), 0);
		assert_eq!(Poc::poc_weight(&account(1), 1), 200);
	});
}

/// Review of hole 11: a formation running past its epoch's inference phase (very short
/// phases at the true worst case) judged with the next epoch's validation total, and put
/// a new generation of voting power in force during the next epoch's validation. The next
/// epoch's rosters start once the formation ended, so a validation sees one generation.
#[test]
fn a_formation_running_late_delays_the_next_epochs_rosters() {
	ExtBuilder::default().hosts(&[1, 2, 3, 4, 5, 6]).build_and_execute(|| {
		let hosts = [1u8, 2, 3, 4, 5, 6];
		for &i in &hosts {
			commit(i, 1, 100);
			commit(i, 2, 50);
		}
		everyone_says_valid(&hosts, &[1, 2]);
		// One commitment judged a block: the formation runs into epoch 1.
		HookBudget::set(&spread(1));
		run_to_block(epoch_start(1));
		for &i in &hosts {
			commit(i, 1, 200);
		}
		// Epoch 1's generation ended (block 26): the formation still runs, so its rosters
		// wait, and the generation of voting power in force is still genesis'.
		run_to_block(epoch_start(1) + 6);
		assert!(crate::Formation::<Test>::get().is_some(), "epoch 0's formation runs");
		assert_eq!(crate::RosterCursor::<Test>::get(), None);
		assert_eq!(crate::RostersBuilt::<Test>::get(), Some(0));
		assert_eq!(crate::PowerGeneration::<Test>::get(), 0);
		HookBudget::set(&Weight::MAX);
		// The formation ends; the rosters start in the next block, with its total.
		run_to_block(epoch_start(1) + 7);
		assert_eq!(crate::LastFormedEpoch::<Test>::get(), Some(0));
		assert_eq!(crate::PowerGeneration::<Test>::get(), 1);
		run_to_block(epoch_start(1) + 8);
		assert_eq!(crate::RostersBuilt::<Test>::get(), Some(1));
		assert_eq!(crate::ValidationTotal::<Test>::get(), Some(TotalVotingPower::<Test>::get()));
		assert_eq!(TotalVotingPower::<Test>::get(), 6 * 200);
		for &v in &hosts {
			let others: Vec<(u8, bool)> =
				hosts.iter().filter(|&&h| h != v).map(|&h| (h, true)).collect();
			validate(v, 1, &others);
		}
		run_to_block(epoch_start(2));
		assert_eq!(crate::LastFormedEpoch::<Test>::get(), Some(1));
		assert_eq!(judged(1), Some((Outcome::Accepted, 200)));
	});
}

/// Review of hole 11: a whole step of the formation (the reward, the cap) larger than the
/// budget waited for a block with room for it, which never came: the formation stalled.
/// It runs alone in a block.
#[test]
fn a_whole_step_larger_than_the_budget_runs_alone_in_a_block() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		for i in [1u8, 2, 3] {
			commit(i, 1, 100);
		}
		everyone_says_valid(&[1, 2, 3], &[1]);
		// Reads and writes cost, so the formation's state takes part of every block; the
		// cap is larger than the budget.
		TestDbWeight::set(&polkadot_sdk::frame_support::weights::RuntimeDbWeight {
			read: 1,
			write: 1,
		});
		HookBudget::set(&spread(1).saturating_add(Weight::from_parts(2, 0)));
		CapWeight::set(&spread(5));
		run_to_block(30);
		assert_eq!(crate::LastFormedEpoch::<Test>::get(), Some(0), "the formation ended");
		assert_eq!(Poc::voting_power(&account(1)), 100);
	});
}
