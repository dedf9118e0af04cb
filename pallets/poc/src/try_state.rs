//! The pallet's invariants (`do_try_state`), checked after every block and every test, and by
//! `try-runtime`: one function per group of storage items.

use crate::{
	Commitments, Config, CurrentEpoch, Departures, ExecutorRoster, Formation, FormationStep,
	FormingRevoked, FormingWeights, HoldReason, Hosts, JoinedEpoch, NextEpochParams, NextRoster,
	NextTotals, OldestPowerGeneration, Pallet, PowerGeneration, PowerGenerations, PowerHistory,
	PowerPrunedBefore, PrunedBefore, RosterCursor, RosterEpoch, RosterTotals, RostersBuilt,
	Tallies, TotalVotingPower, Validated, WorkerKeys,
};
use alloc::vec::Vec;
use gonka_primitives::NonceCount;
use polkadot_sdk::{
	frame_support::{ensure, traits::fungible::InspectHold},
	frame_system,
	sp_core::Get,
	sp_runtime::TryRuntimeError,
};

impl<T: Config> Pallet<T> {
	/// The pallet's invariants, checked in this order:
	///
	/// Hosts:
	/// - the host counter matches the hosts;
	/// - at most `MaxHosts` hosts;
	/// - one worker key per host;
	/// - a worker key names a registered host;
	/// - the worker key index matches the host;
	/// - a host's deposit is held.
	///
	/// Voting power:
	/// - the total is the sum of the powers in force;
	/// - only registered hosts have power.
	///
	/// Executor rosters (those in force, then the next ones), per model:
	/// - a roster has no empty chunk;
	/// - rostered hosts have weight;
	/// - a roster is sorted by account, each host once;
	/// - roster totals are the chunks' cumulative sums;
	/// - a roster has one total per chunk;
	/// - every roster has its totals.
	///
	/// The formation in progress:
	/// - it forms an epoch that started;
	/// - next rosters and forming weights exist only during a formation;
	/// - the forming weights are sorted by account, each host once;
	/// - powers of the next generation are written only during a formation's last step.
	///
	/// Generations of voting power:
	/// - the generation in force is kept (the oldest kept is not newer);
	/// - only generations no longer kept lose their records (`PowerPrunedBefore`);
	/// - the records of generations below `PowerPrunedBefore` are removed;
	/// - generations older than the oldest kept or newer than the one in force are pruned;
	/// - a generation counts its hosts;
	/// - departed hosts had power in the generation;
	/// - a generation's departures are numbered 0, 1, …;
	/// - every generation from the oldest kept one to the one in force is kept;
	/// - the hosts with power are the generation's less those that left.
	///
	/// Epochs (once the first has started):
	/// - the epoch's parameters are valid;
	/// - only past epochs are pruned (`PrunedBefore`; raising `RetentionEpochs` keeps what
	///   was pruned pruned);
	/// - only registered hosts have joined, in a started epoch;
	/// - the commitments of pruned epochs are removed, none are of a later epoch;
	/// - the batches of pruned epochs are removed, none are of a later epoch;
	/// - rosters being built, or built, are of a started epoch;
	/// - the validation rosters of pruned epochs are removed, none are of a later epoch;
	/// - a validation roster is sorted, each host once;
	/// - a rostered host committed;
	/// - the epoch in progress contains the current block.
	///
	/// Scheduled parameters:
	/// - the next epoch's parameters, when set, are valid.
	pub fn do_try_state() -> Result<(), TryRuntimeError> {
		Self::try_state_hosts()?;
		Self::try_state_voting_power()?;
		Self::try_state_executor_rosters()?;
		Self::try_state_formation()?;
		Self::try_state_generations()?;
		Self::try_state_epochs()
	}

	fn try_state_hosts() -> Result<(), TryRuntimeError> {
		let hosts = Hosts::<T>::iter().count() as u32;
		ensure!(hosts == Hosts::<T>::count(), "the host counter matches the hosts");
		ensure!(hosts <= T::MaxHosts::get(), "at most MaxHosts hosts");
		ensure!(WorkerKeys::<T>::iter().count() as u32 == hosts, "one worker key per host");
		for (key, account) in WorkerKeys::<T>::iter() {
			let host = Hosts::<T>::get(&account).ok_or("a worker key names a registered host")?;
			ensure!(host.worker_key == key, "the worker key index matches the host");
		}
		for (account, host) in Hosts::<T>::iter() {
			ensure!(
				T::Currency::balance_on_hold(&HoldReason::HostRegistration.into(), &account)
					>= host.deposit,
				"a host's deposit is held"
			);
		}
		Ok(())
	}

	fn try_state_voting_power() -> Result<(), TryRuntimeError> {
		let generation = PowerGeneration::<T>::get();
		let mut total = 0u128;
		for (account, _) in PowerHistory::<T>::iter_prefix(generation) {
			let power = Self::voting_power(&account);
			total = total.saturating_add(power);
			if power > 0 {
				ensure!(Hosts::<T>::contains_key(&account), "only registered hosts have power");
			}
		}
		ensure!(total == TotalVotingPower::<T>::get(), "the total is the sum of the powers");
		Ok(())
	}

	fn try_state_executor_rosters() -> Result<(), TryRuntimeError> {
		let in_force: Vec<_> = RosterTotals::<T>::iter().collect();
		for (model, totals) in in_force {
			let chunks = totals.len() as u32;
			let roster = (0..chunks).map(|index| ExecutorRoster::<T>::get(model, index));
			Self::try_state_roster(roster, &totals)?;
			ensure!(
				ExecutorRoster::<T>::iter_prefix(model).count() == totals.len(),
				"a roster has one total per chunk"
			);
		}
		for (model, _, _) in ExecutorRoster::<T>::iter() {
			ensure!(RosterTotals::<T>::contains_key(model), "every roster has its totals");
		}
		let now = CurrentEpoch::<T>::get().map_or(0, |epoch| epoch.index);
		for model in RosterTotals::<T>::iter_keys() {
			ensure!(RosterEpoch::<T>::contains_key(model), "every roster in force has its epoch");
		}
		for (model, formed) in RosterEpoch::<T>::iter() {
			ensure!(RosterTotals::<T>::contains_key(model), "only rosters in force have an epoch");
			ensure!(formed <= now, "a roster was formed by a started epoch's PoC");
		}
		let revoked = FormingRevoked::<T>::get();
		ensure!(
			revoked.windows(2).all(|pair| pair[0] < pair[1]),
			"the hosts revoked during the formation are sorted, each once"
		);
		ensure!(
			revoked.is_empty() || Formation::<T>::exists(),
			"hosts are revoked during a formation only"
		);
		for (model, totals) in NextTotals::<T>::iter() {
			let chunks = totals.len() as u32;
			let roster = (0..chunks).map(|index| NextRoster::<T>::get(model, index));
			Self::try_state_roster(roster, &totals)?;
			ensure!(
				NextRoster::<T>::iter_prefix(model).count() == totals.len(),
				"a roster has one total per chunk"
			);
		}
		for (model, _, _) in NextRoster::<T>::iter() {
			ensure!(NextTotals::<T>::contains_key(model), "every roster has its totals");
		}
		Ok(())
	}

	/// Checks a roster's `chunks` against its `totals`.
	fn try_state_roster<Chunk: IntoIterator<Item = (T::AccountId, NonceCount)>>(
		chunks: impl Iterator<Item = Chunk>,
		totals: &[u128],
	) -> Result<(), TryRuntimeError> {
		let mut sum = 0u128;
		let mut previous: Option<T::AccountId> = None;
		for (chunk, total) in chunks.zip(totals) {
			let mut empty = true;
			for (host, weight) in chunk {
				empty = false;
				ensure!(weight > 0, "rostered hosts have weight");
				ensure!(
					previous.as_ref().is_none_or(|before| *before < host),
					"a roster is sorted by account, each host once"
				);
				previous = Some(host);
				sum = sum.saturating_add(u128::from(weight));
			}
			ensure!(!empty, "a roster has no empty chunk");
			ensure!(sum == *total, "roster totals are the chunks' cumulative sums");
		}
		Ok(())
	}

	fn try_state_formation() -> Result<(), TryRuntimeError> {
		let formation = Formation::<T>::get();
		if let Some(formation) = &formation {
			let current = CurrentEpoch::<T>::get().map(|epoch| epoch.index);
			ensure!(Some(formation.epoch) <= current, "it forms an epoch that started");
		} else {
			ensure!(
				NextTotals::<T>::iter().next().is_none()
					&& NextRoster::<T>::iter().next().is_none()
					&& FormingWeights::<T>::get().is_empty(),
				"next rosters and forming weights exist only during a formation"
			);
		}
		let forming = FormingWeights::<T>::get();
		ensure!(
			forming.windows(2).all(|pair| pair[0].0 < pair[1].0),
			"the forming weights are sorted by account, each host once"
		);
		let writing =
			matches!(formation.map(|formation| formation.step), Some(FormationStep::Power { .. }));
		let next = PowerGeneration::<T>::get().saturating_add(1);
		ensure!(
			writing || PowerHistory::<T>::iter_prefix(next).next().is_none(),
			"powers of the next generation are written only during a formation's last step"
		);
		Ok(())
	}

	fn try_state_generations() -> Result<(), TryRuntimeError> {
		let current = PowerGeneration::<T>::get();
		let oldest = OldestPowerGeneration::<T>::get();
		ensure!(oldest <= current, "the generation in force is kept");
		let cleared = PowerPrunedBefore::<T>::get();
		ensure!(cleared <= oldest, "only generations no longer kept lose their records");
		for (generation, _, _) in PowerHistory::<T>::iter() {
			ensure!(generation >= cleared, "the records of pruned generations are removed");
		}
		for (generation, _, _) in Departures::<T>::iter() {
			ensure!(generation >= cleared, "the records of pruned generations are removed");
		}
		for (generation, info) in PowerGenerations::<T>::iter() {
			ensure!(generation >= oldest && generation <= current, "generations are pruned");
			let hosts = PowerHistory::<T>::iter_prefix(generation).count() as u32;
			ensure!(hosts == info.hosts, "a generation counts its hosts");
			Self::try_state_departures(generation, info.departures)?;
		}
		for generation in oldest..=current {
			ensure!(
				PowerGenerations::<T>::contains_key(generation),
				"every generation from the oldest kept one to the one in force is kept"
			);
		}
		let info = PowerGenerations::<T>::get(current).unwrap_or_default();
		let holders = PowerHistory::<T>::iter_prefix(current)
			.filter(|(account, _)| Self::voting_power(account) > 0)
			.count() as u32;
		ensure!(
			holders == info.hosts.saturating_sub(info.departures),
			"the hosts with power are the generation's less those that left"
		);
		Ok(())
	}

	/// Checks the `departures` departures recorded in `generation`.
	fn try_state_departures(generation: u32, departures: u32) -> Result<(), TryRuntimeError> {
		let mut order: Vec<u32> = Departures::<T>::iter_prefix(generation)
			.map(|(account, departure)| {
				ensure!(
					PowerHistory::<T>::contains_key(generation, &account),
					"departed hosts had power in the generation"
				);
				Ok(departure)
			})
			.collect::<Result<_, &'static str>>()?;
		order.sort_unstable();
		ensure!(order.iter().copied().eq(0..departures), "departures are numbered 0, 1, …");
		Ok(())
	}

	fn try_state_epochs() -> Result<(), TryRuntimeError> {
		if let Some(epoch) = CurrentEpoch::<T>::get() {
			ensure!(epoch.params.check().is_ok(), "the epoch's parameters are valid");
			let pruned = PrunedBefore::<T>::get();
			ensure!(pruned <= epoch.index, "only past epochs are pruned");
			for (host, joined) in JoinedEpoch::<T>::iter() {
				ensure!(Hosts::<T>::contains_key(&host), "only registered hosts have joined");
				ensure!(joined <= epoch.index, "hosts joined in a started epoch");
			}
			for ((index, _, _), _) in Commitments::<T>::iter() {
				ensure!(index >= pruned && index <= epoch.index, "commitments are pruned");
			}
			for (index, _, _) in Validated::<T>::iter() {
				ensure!(index >= pruned && index <= epoch.index, "batches are pruned");
			}
			if let Some((index, _)) = RosterCursor::<T>::get() {
				ensure!(index <= epoch.index, "rosters are built for a started epoch");
			}
			if let Some(index) = RostersBuilt::<T>::get() {
				ensure!(index <= epoch.index, "rosters are built for a started epoch");
			}
			for (index, model, roster) in Tallies::<T>::iter() {
				ensure!(index >= pruned && index <= epoch.index, "rosters are pruned");
				ensure!(
					roster.windows(2).all(|pair| pair[0].0 < pair[1].0),
					"a roster is sorted, each host once"
				);
				for (host, _) in roster.iter() {
					ensure!(
						Commitments::<T>::contains_key((index, model, host)),
						"a rostered host committed"
					);
				}
			}
			ensure!(
				frame_system::Pallet::<T>::block_number() < epoch.next_start(),
				"the epoch in progress contains the current block"
			);
		}
		if let Some(params) = NextEpochParams::<T>::get() {
			ensure!(params.check().is_ok(), "the next epoch's parameters are valid");
		}
		Ok(())
	}
}
