//! Weight formation (`protocol.md`, "Proof of Compute"), from the first inference block,
//! once per epoch, spread over blocks within `HookBudget` (its work grows with the
//! commitments, up to `MaxHosts × MaxModelsPerHost`). The weights in force stay in force
//! until the new ones replace them.
//!
//! Each rostered commitment of a host still registered is judged by its tally against the
//! power of the *other* hosts, `P_other = P_total − power(h)`, `P_total` the total when the
//! rosters were started (`ValidationTotal`: departures since do not lower it): accepted iff
//! `3·valid > 2·P_other` (PoC weight = its count), rejected iff `3·invalid > 2·P_other`
//! (weight 0), else a quorum failure, not fraud (the smaller of the previous weight and the
//! count). A host's consensus weight is `Σ_m coefficient(m) × poc_weight(h, m)`; capped at
//! `MaxWeightShare`, it becomes its voting power. An epoch that accepts nobody carries the
//! previous weights and power over.
//!
//! The steps (`Formation`, `FormationStep`), each resumed where the budget stopped it:
//!
//! 1. **judge**, in order of model and account: each commitment's new PoC weight goes to
//!    the model's next executor roster (`NextRoster`, `NextTotals`) and its consensus
//!    weight to the host's (`FormingWeights`);
//! 2. if nobody was accepted, **carry**: the consensus weights in force (the executor
//!    rosters) of the hosts still registered replace `FormingWeights`, and **discard** the
//!    next rosters;
//! 3. **reward**: `OnWeightsFormed` schedules the epoch's reward over `FormingWeights`;
//!    a carried epoch ends here (`WeightsCarriedOver`);
//! 4. **retire** the executor rosters of the models without a next roster, then
//!    **install** the next rosters, model by model;
//! 5. **power**: the capped weights are written as the next generation of voting power,
//!    then put in force in one step (`WeightsFormed`).
//!
//! A host that leaves during the formation loses its place in `FormingWeights` and in the
//! generation being written (`forget_forming`); a host whose power is revoked (INVALID)
//! during it gets no power in that generation (`FormingRevoked`, taken out before the
//! cap), and keeps its consensus weight for the epoch's reward (which `pallet-rewards`
//! withholds if it is INVALID in that epoch). A
//! commitment of a host that left and registered again since is not judged, and a roster
//! entry from before it left gives it nothing (`Pallet::stands`).
//!
//! The formation of an epoch starts once its rosters are built, and the next epoch's
//! rosters start once it ended (`tick_impls.rs`): it judges with the total of its own
//! validation, and the generation of voting power never changes during a validation. A
//! whole step (the reward, the cap) larger than what is left of the budget waits for the
//! next block, and runs alone in a block if it is larger than the budget.

use crate::{
	Commitments, Config, EpochInfoOf, Event, ExecutorRoster, Formation, FormationState,
	FormationStep, FormingRevoked, FormingWeights, Hosts, LastFormedEpoch, ModelRegistry,
	NextRoster, NextTotals, OnWeightsFormed, Outcome, Pallet, PowerGeneration, PowerHistory,
	RosterCursor, RosterEpoch, RosterTotals, Tallies, TotalVotingPower, ValidationTotal,
	WeightInfo,
};
use alloc::vec::Vec;
use gonka_primitives::{bounds::is_two_thirds, EpochIndex, ModelId, NonceCount};
use polkadot_sdk::{
	frame_support::{defensive, pallet_prelude::*, weights::WeightMeter},
	sp_runtime::{FixedPointNumber, FixedU128},
};

/// The consensus weights being formed, sorted by account.
type Forming<T> = Vec<(<T as polkadot_sdk::frame_system::Config>::AccountId, u128)>;

impl<T: Config> Pallet<T> {
	/// Starts forming `epoch`'s weights (from its first inference block), unless a
	/// formation is in progress, rosters are still being built, or they are formed
	/// already.
	pub(crate) fn start_formation(epoch: &EpochInfoOf<T>) -> bool {
		if Formation::<T>::exists()
			|| RosterCursor::<T>::exists()
			|| LastFormedEpoch::<T>::get() >= Some(epoch.index)
		{
			return false;
		}
		FormingWeights::<T>::kill();
		FormingRevoked::<T>::kill();
		Formation::<T>::put(FormationState {
			epoch: epoch.index,
			step: FormationStep::Judge { model: None, position: 0, accepted_any: false },
		});
		true
	}

	/// Runs the formation in progress within `meter`, step after step, until it ends or
	/// the budget stops it. Returns the weight used beyond `meter`'s limit (a whole step
	/// larger than the budget, run alone).
	pub(crate) fn form_weights(meter: &mut WeightMeter) -> Weight {
		let mut whole = Whole { alone: false, excess: Weight::zero() };
		let Some(mut formation) = Formation::<T>::get() else { return whole.excess };
		// The formation's state, read and written.
		let state = T::DbWeight::get().reads_writes(1, 1);
		if !meter.can_consume(state) {
			return whole.excess;
		}
		meter.consume(state);
		loop {
			let epoch = formation.epoch;
			// Nothing else ran in this block yet: a whole step may take it all.
			whole.alone = meter.consumed() == state;
			let next = match formation.step.clone() {
				FormationStep::Judge { model, position, accepted_any } => {
					Self::judge_step(meter, epoch, model, position, accepted_any)
				}
				FormationStep::Carry { after } => Self::carry_step(meter, after),
				FormationStep::Discard => Self::discard_step(meter),
				FormationStep::Reward { carried } => {
					Self::reward_step(meter, epoch, carried, &mut whole)
				}
				FormationStep::Retire { after } => Self::retire_step(meter, after),
				FormationStep::Install => Self::install_step(meter, epoch),
				FormationStep::Power { capped, after } => {
					Self::power_step(meter, epoch, capped, after, &mut whole)
				}
			};
			match next {
				// The budget stopped the step: it resumes in the next block.
				Progress::Paused(step) => {
					formation.step = step;
					Formation::<T>::put(formation);
					return whole.excess;
				}
				Progress::Next(step) => formation.step = step,
				Progress::Done => {
					Formation::<T>::kill();
					FormingRevoked::<T>::kill();
					LastFormedEpoch::<T>::put(epoch);
					return whole.excess;
				}
			}
		}
	}

	/// Judges the next commitments of the rosters, in order of model and account.
	pub(crate) fn judge_step(
		meter: &mut WeightMeter,
		epoch: EpochIndex,
		mut model: Option<ModelId>,
		mut position: u32,
		mut accepted_any: bool,
	) -> Progress<T::AccountId> {
		let (base, per) = Self::linear(T::WeightInfo::form_weights);
		let total = ValidationTotal::<T>::get().unwrap_or_else(TotalVotingPower::<T>::get);
		let mut forming: Option<Forming<T>> = None;
		let progress = loop {
			let Some((current, at)) = Self::model_to_judge(epoch, model, position) else {
				break None;
			};
			(model, position) = (Some(current), at);
			let room = Self::records_fitting(meter, base, per, T::MaxHosts::get());
			if room == 0 {
				break Some(FormationStep::Judge { model, position, accepted_any });
			}
			let forming = forming.get_or_insert_with(|| FormingWeights::<T>::get().into_inner());
			let (judged, accepted) =
				Self::judge_model(epoch, current, position, room, total, forming);
			Self::consume_records(meter, base, per, judged);
			accepted_any |= accepted;
			position = position.saturating_add(judged.max(1));
		};
		if let Some(forming) = forming {
			FormingWeights::<T>::put(BoundedVec::truncate_from(forming));
		}
		match progress {
			Some(step) => Progress::Paused(step),
			None => {
				ValidationTotal::<T>::kill();
				// An epoch that accepts nobody (no worker ran, or no quorum anywhere) must
				// not take the chain's voting power away: the previous weights stay.
				if accepted_any && FormingWeights::<T>::decode_len().unwrap_or(0) > 0 {
					Progress::Next(FormationStep::Reward { carried: false })
				} else {
					FormingWeights::<T>::kill();
					Progress::Next(FormationStep::Carry { after: None })
				}
			}
		}
	}

	/// The model to judge from `position`: `model` while its roster has commitments left
	/// there, else the next model of the epoch with a roster (from its start); `None` when
	/// every roster is judged.
	fn model_to_judge(
		epoch: EpochIndex,
		model: Option<ModelId>,
		position: u32,
	) -> Option<(ModelId, u32)> {
		if let Some(current) = model {
			let len = Tallies::<T>::decode_len(epoch, current).map_or(0, |len| len as u32);
			if position < len {
				return Some((current, position));
			}
		}
		let next = match model {
			Some(done) => {
				Tallies::<T>::iter_key_prefix_from(epoch, Tallies::<T>::hashed_key_for(epoch, done))
					.next()
			}
			None => Tallies::<T>::iter_key_prefix(epoch).next(),
		}?;
		Some((next, 0))
	}

	/// Judges at most `room` commitments of `model`'s roster from `position`: each one's
	/// `PocJudged`, its new PoC weight appended to the model's next executor roster and its
	/// consensus weight added to `forming`. Returns how many it judged and whether one was
	/// accepted.
	pub(crate) fn judge_model(
		epoch: EpochIndex,
		model: ModelId,
		position: u32,
		room: u32,
		total: u128,
		forming: &mut Forming<T>,
	) -> (u32, bool) {
		let roster = Tallies::<T>::get(epoch, model);
		let previous = Self::roster(model);
		let previous_epoch = RosterEpoch::<T>::get(model).unwrap_or(0);
		let coefficient = T::Models::coefficient(model).unwrap_or_default();
		let mut next: Vec<(T::AccountId, NonceCount)> = Vec::new();
		let mut judged = 0u32;
		let mut accepted_any = false;
		for (host, tally) in roster.iter().skip(position as usize).take(room as usize) {
			judged = judged.saturating_add(1);
			let Some(commitment) = Commitments::<T>::get((epoch, model, host)) else {
				defensive!("a rostered host has a commitment");
				continue;
			};
			// A host that left after the rosters were built is not judged, nor one that
			// left and registered again since it committed.
			if !Hosts::<T>::contains_key(host) || !Self::joined_before(host, epoch) {
				continue;
			}
			// Its weight in force, unless it is from before it left and registered again.
			let before = previous
				.binary_search_by(|(rostered, _)| rostered.cmp(host))
				.ok()
				.and_then(|at| previous.get(at))
				.filter(|_| Self::joined_before(host, previous_epoch))
				.map_or(0, |(_, weight)| *weight);
			let others = total.saturating_sub(Self::voting_power(host));
			let (outcome, weight) = if is_two_thirds(tally.valid, others) {
				(Outcome::Accepted, commitment.count)
			} else if is_two_thirds(tally.invalid, others) {
				(Outcome::Rejected, 0)
			} else {
				// Too few votes either way: not fraud, so no loss beyond the new count.
				(Outcome::QuorumFailed, before.min(commitment.count))
			};
			accepted_any |= outcome == Outcome::Accepted;
			Self::deposit_event(Event::PocJudged {
				host: host.clone(),
				epoch,
				model,
				outcome,
				weight,
			});
			if weight > 0 {
				next.push((host.clone(), weight));
				add_weight(forming, host, coefficient, weight);
			}
		}
		Self::append_next_roster(model, next);
		(judged, accepted_any)
	}

	/// Appends `hosts` (sorted by account, after those already there) to `model`'s next
	/// executor roster.
	pub(crate) fn append_next_roster(model: ModelId, hosts: Vec<(T::AccountId, NonceCount)>) {
		if hosts.is_empty() {
			return;
		}
		let mut totals = NextTotals::<T>::get(model).unwrap_or_default().into_inner();
		let mut index = (totals.len() as u32).saturating_sub(1);
		let mut chunk = NextRoster::<T>::get(model, index);
		let mut sum = totals.last().copied().unwrap_or(0);
		if totals.is_empty() {
			totals.push(0);
		}
		for host in hosts {
			if chunk.is_full() {
				NextRoster::<T>::insert(model, index, core::mem::take(&mut chunk));
				index = index.saturating_add(1);
				totals.push(sum);
			}
			sum = sum.saturating_add(u128::from(host.1));
			if chunk.try_push(host).is_err() {
				defensive!("a chunk with room takes a host");
			}
			if let Some(last) = totals.last_mut() {
				*last = sum;
			}
		}
		NextRoster::<T>::insert(model, index, chunk);
		match BoundedVec::try_from(totals) {
			Ok(totals) => NextTotals::<T>::insert(model, totals),
			Err(_) => {
				defensive!("a roster holds at most MaxHosts hosts");
			}
		}
	}

	/// Nobody was accepted: sums the consensus weights in force, from the executor rosters'
	/// entries that stand (`Pallet::stands`), a chunk at a time after `after`.
	pub(crate) fn carry_step(
		meter: &mut WeightMeter,
		after: Option<(ModelId, u32)>,
	) -> Progress<T::AccountId> {
		let (base, per) = Self::linear(T::WeightInfo::carry_weights);
		let room = Self::records_fitting(meter, base, per, u32::MAX);
		if room == 0 {
			return Progress::Paused(FormationStep::Carry { after });
		}
		let mut forming = FormingWeights::<T>::get().into_inner();
		let mut chunks = match after {
			Some((model, chunk)) => {
				ExecutorRoster::<T>::iter_from(ExecutorRoster::<T>::hashed_key_for(model, chunk))
			}
			None => ExecutorRoster::<T>::iter(),
		};
		// The model's coefficient and its roster's epoch.
		let mut coefficient: Option<(ModelId, FixedU128, EpochIndex)> = None;
		let mut last = after;
		let mut read = 0u32;
		while read < room {
			let Some((model, index, hosts)) = chunks.next() else { break };
			read = read.saturating_add(1);
			let (factor, formed) = match coefficient {
				Some((cached, factor, formed)) if cached == model => (factor, formed),
				_ => {
					let factor = T::Models::coefficient(model).unwrap_or_default();
					let formed = RosterEpoch::<T>::get(model).unwrap_or(0);
					coefficient = Some((model, factor, formed));
					(factor, formed)
				}
			};
			for (host, weight) in hosts {
				if Self::stands_in(&host, formed) {
					add_weight(&mut forming, &host, factor, weight);
				}
			}
			last = Some((model, index));
		}
		let exhausted = read < room || chunks.next().is_none();
		Self::consume_records(meter, base, per, read);
		FormingWeights::<T>::put(BoundedVec::truncate_from(forming));
		if exhausted {
			Progress::Next(FormationStep::Discard)
		} else {
			Progress::Paused(FormationStep::Carry { after: last })
		}
	}

	/// Nobody was accepted: removes the next executor rosters the judging formed, a model
	/// at a time (its chunks and totals together).
	pub(crate) fn discard_step(meter: &mut WeightMeter) -> Progress<T::AccountId> {
		let per = T::WeightInfo::retire_roster();
		loop {
			if !meter.can_consume(per) {
				return Progress::Paused(FormationStep::Discard);
			}
			let Some(model) = NextTotals::<T>::iter_keys().next() else { break };
			meter.consume(per);
			let _ = NextRoster::<T>::clear_prefix(model, u32::MAX, None);
			NextTotals::<T>::remove(model);
		}
		Progress::Next(FormationStep::Reward { carried: true })
	}

	/// Schedules the epoch's reward over the weights formed (or carried over): a carried
	/// epoch ends here.
	pub(crate) fn reward_step(
		meter: &mut WeightMeter,
		epoch: EpochIndex,
		carried: bool,
		whole: &mut Whole,
	) -> Progress<T::AccountId> {
		let weights = FormingWeights::<T>::get();
		// The hook's work, and the forming weights read and removed (the cap's fixed part,
		// which reads and writes them).
		let most = T::OnWeightsFormed::weights_formed_weight(weights.len() as u32)
			.saturating_add(T::WeightInfo::cap_weights(0));
		// A step larger than the budget (the runtime's holds it at `MaxHosts`,
		// `runtime/tests/poc_block_budget.rs`) runs alone in a block rather than never.
		if !meter.can_consume(most) && !whole.alone {
			return Progress::Paused(FormationStep::Reward { carried });
		}
		if carried {
			Self::deposit_event(Event::WeightsCarriedOver { epoch });
		}
		// The epoch is rewarded (and its INVALID and down hosts slashed) with the weights it
		// formed, or carries over.
		let mut used = T::WeightInfo::cap_weights(0);
		if !weights.is_empty() {
			used = used.saturating_add(T::OnWeightsFormed::weights_formed(epoch, &weights));
		}
		whole.consume(meter, used);
		if carried {
			FormingWeights::<T>::kill();
			return Progress::Done;
		}
		Progress::Next(FormationStep::Retire { after: None })
	}

	/// Removes the executor rosters of the models that have no next roster, a model at a
	/// time.
	pub(crate) fn retire_step(
		meter: &mut WeightMeter,
		after: Option<ModelId>,
	) -> Progress<T::AccountId> {
		let per = T::WeightInfo::retire_roster();
		let mut models = match after {
			Some(model) => {
				RosterTotals::<T>::iter_keys_from(RosterTotals::<T>::hashed_key_for(model))
			}
			None => RosterTotals::<T>::iter_keys(),
		};
		let mut last = after;
		loop {
			if !meter.can_consume(per) {
				return Progress::Paused(FormationStep::Retire { after: last });
			}
			let Some(model) = models.next() else { break };
			meter.consume(per);
			if !NextTotals::<T>::contains_key(model) {
				let _ = ExecutorRoster::<T>::clear_prefix(model, u32::MAX, None);
				RosterTotals::<T>::remove(model);
				RosterEpoch::<T>::remove(model);
			}
			last = Some(model);
		}
		Progress::Next(FormationStep::Install)
	}

	/// Puts the next executor rosters, formed by `epoch`'s PoC, in force, a model at a time
	/// (each model's roster, totals and epoch in one block, so a draw never sees them
	/// apart).
	pub(crate) fn install_step(
		meter: &mut WeightMeter,
		epoch: EpochIndex,
	) -> Progress<T::AccountId> {
		let per = T::WeightInfo::install_roster();
		loop {
			if !meter.can_consume(per) {
				return Progress::Paused(FormationStep::Install);
			}
			let Some((model, totals)) = NextTotals::<T>::iter().next() else { break };
			meter.consume(per);
			let chunks = totals.len() as u32;
			let old = RosterTotals::<T>::decode_len(model).map_or(0, |len| len as u32);
			for index in 0..chunks {
				ExecutorRoster::<T>::insert(model, index, NextRoster::<T>::take(model, index));
			}
			for index in chunks..old {
				ExecutorRoster::<T>::remove(model, index);
			}
			RosterTotals::<T>::insert(model, totals);
			RosterEpoch::<T>::insert(model, epoch);
			NextTotals::<T>::remove(model);
		}
		Progress::Next(FormationStep::Power { capped: false, after: None })
	}

	/// Writes the capped weights as the next generation of voting power, a host at a time
	/// after `after` (the first step caps them), then puts it in force (`WeightsFormed`).
	pub(crate) fn power_step(
		meter: &mut WeightMeter,
		epoch: EpochIndex,
		capped: bool,
		after: Option<T::AccountId>,
		whole: &mut Whole,
	) -> Progress<T::AccountId> {
		let mut weights = FormingWeights::<T>::get().into_inner();
		if !capped {
			// The rewards are scheduled: the weights become powers, capped.
			let cap = T::WeightInfo::cap_weights(weights.len() as u32);
			if !meter.can_consume(cap) && !whole.alone {
				return Progress::Paused(FormationStep::Power { capped, after });
			}
			whole.consume(meter, cap);
			Self::cap_forming(&mut weights);
		}
		let (base, per) = Self::linear(T::WeightInfo::write_power);
		let room = Self::records_fitting(meter, base, per, u32::MAX);
		if room == 0 {
			return Progress::Paused(FormationStep::Power { capped: true, after });
		}
		let generation = PowerGeneration::<T>::get().saturating_add(1);
		let start =
			after.as_ref().map_or(0, |after| weights.partition_point(|(host, _)| host <= after));
		let mut written = 0u32;
		let mut last = after;
		for (host, power) in weights.iter().skip(start) {
			if written >= room {
				Self::consume_records(meter, base, per, written);
				return Progress::Paused(FormationStep::Power { capped: true, after: last });
			}
			written = written.saturating_add(1);
			if *power > 0 {
				PowerHistory::<T>::insert(generation, host, power);
			}
			last = Some(host.clone());
		}
		Self::consume_records(meter, base, per, written);
		let holders = weights.iter().filter(|(_, power)| *power > 0).count() as u32;
		let total = weights.iter().fold(0u128, |sum, (_, power)| sum.saturating_add(*power));
		Self::put_generation_in_force(generation, total, holders);
		FormingWeights::<T>::kill();
		Self::deposit_event(Event::WeightsFormed { epoch, hosts: holders, total_power: total });
		Progress::Done
	}

	/// The rewards are scheduled: the hosts whose power was revoked during the formation
	/// leave `weights` (`FormingRevoked`, taken), and the rest are capped, in the forming
	/// weights.
	pub(crate) fn cap_forming(weights: &mut Forming<T>) {
		let revoked = FormingRevoked::<T>::take();
		weights.retain(|(host, _)| revoked.binary_search(host).is_err());
		let raw: Vec<u128> = weights.iter().map(|(_, weight)| *weight).collect();
		let capped = gonka_primitives::cap::apply_cap(&raw, T::MaxWeightShare::get());
		for ((_, weight), power) in weights.iter_mut().zip(capped) {
			*weight = power;
		}
		FormingWeights::<T>::put(BoundedVec::truncate_from(weights.clone()));
	}

	/// `who` left during the formation in progress: it has no consensus weight in it and
	/// no power in the generation it writes.
	pub(crate) fn forget_forming(who: &T::AccountId) {
		if !Formation::<T>::exists() {
			return;
		}
		FormingWeights::<T>::mutate(|forming| {
			if let Ok(at) = forming.binary_search_by(|(host, _)| host.cmp(who)) {
				forming.remove(at);
			}
		});
		PowerHistory::<T>::remove(PowerGeneration::<T>::get().saturating_add(1), who);
	}

	/// `host`'s power was revoked (INVALID) during the formation in progress: it gets no
	/// power in the generation that formation puts in force. Until the reward is scheduled
	/// it keeps its consensus weight (`pallet-rewards` withholds the share of a host
	/// INVALID in the rewarded epoch and pays it to the community pool, never to the
	/// others), and is listed (`FormingRevoked`), to be taken out before the cap; afterwards it leaves the
	/// forming weights at once. Returns whether a formation was in progress.
	pub(crate) fn revoke_forming(host: &T::AccountId) -> bool {
		let Some(formation) = Formation::<T>::get() else { return false };
		let rewarded = matches!(
			formation.step,
			FormationStep::Retire { .. } | FormationStep::Install | FormationStep::Power { .. }
		);
		if rewarded {
			Self::forget_forming(host);
		} else {
			FormingRevoked::<T>::mutate(|revoked| {
				if let Err(at) = revoked.binary_search(host) {
					// At most `MaxHosts` registered hosts: a fuller list would take more
					// accounts registered, served and marked INVALID within one formation.
					if revoked.try_insert(at, host.clone()).is_err() {
						defensive!("fewer hosts are revoked during a formation than MaxHosts");
					}
				}
			});
		}
		true
	}
}

/// What a block allows a whole step (the reward, the cap), which runs in one block.
pub(crate) struct Whole {
	/// Nothing else ran in the block yet: the step runs even if larger than the budget.
	pub(crate) alone: bool,
	/// The weight used beyond the meter's limit.
	pub(crate) excess: Weight,
}

impl Whole {
	/// Consumes `used` from `meter`; what is beyond its limit (a step run alone) is excess.
	fn consume(&mut self, meter: &mut WeightMeter, used: Weight) {
		let fits = used.min(meter.remaining());
		meter.consume(fits);
		self.excess = self.excess.saturating_add(used.saturating_sub(fits));
	}
}

/// Where a formation step left off.
pub(crate) enum Progress<AccountId> {
	/// The budget stopped the step: it resumes from this step in the next block.
	Paused(FormationStep<AccountId>),
	/// The step is done: the formation goes on with this one.
	Next(FormationStep<AccountId>),
	/// The formation is done.
	Done,
}

/// Adds `coefficient × weight` to `host`'s consensus weight in `forming` (sorted by
/// account; a zero contribution adds no host).
fn add_weight<AccountId: Ord + Clone>(
	forming: &mut Vec<(AccountId, u128)>,
	host: &AccountId,
	coefficient: FixedU128,
	weight: NonceCount,
) {
	let added = coefficient.saturating_mul_int(u128::from(weight));
	if added == 0 {
		return;
	}
	match forming.binary_search_by(|(formed, _)| formed.cmp(host)) {
		Ok(at) => {
			if let Some((_, sum)) = forming.get_mut(at) {
				*sum = sum.saturating_add(added);
			}
		}
		Err(at) => forming.insert(at, (host.clone(), added)),
	}
}
