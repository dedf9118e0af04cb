//! Weight formation (`protocol.md`, "Proof of Compute"), in the first block after
//! validation, once per epoch. Each rostered commitment of a host still registered is judged
//! by its tally against the power of the *other* hosts, `P_other = P_total − power(h)`,
//! `P_total` the total when validation opened (`ValidationTotal`: departures since do not
//! lower it):
//! accepted iff `3·valid > 2·P_other` (PoC weight = its count), rejected iff
//! `3·invalid > 2·P_other` (weight 0), else a quorum failure, not fraud (the smaller of the
//! previous weight and the count). A host's consensus weight is
//! `Σ_m coefficient(m) × poc_weight(h, m)`; capped at `MaxWeightShare`, it becomes its voting
//! power. An epoch that accepts nobody carries the previous weights and power over.

use crate::{
	Commitment, Commitments, Config, EpochInfoOf, Event, Hosts, ModelRegistry, OnWeightsFormed,
	Outcome, Pallet, PocWeights, Tallies, Tally, TotalVotingPower, ValidationTotal, VotingPower,
};
use alloc::{collections::BTreeMap, vec::Vec};
use gonka_primitives::{bounds::is_two_thirds, EpochIndex, ModelId, NonceCount};
use polkadot_sdk::{
	frame_support::{defensive, weights::Weight},
	sp_core::Get,
	sp_runtime::FixedPointNumber,
};

/// The judged commitments of an epoch: host, model and new PoC weight.
type Judged<T> = Vec<(<T as polkadot_sdk::frame_system::Config>::AccountId, ModelId, NonceCount)>;

impl<T: Config> Pallet<T> {
	/// Judges every commitment of `epoch` by its tally and forms the new PoC weights,
	/// consensus weights (capped) and voting power, and tells `OnWeightsFormed`;
	/// returns the number of commitments and the weight `OnWeightsFormed` used.
	pub(crate) fn form_weights(epoch: &EpochInfoOf<T>) -> (u32, Weight) {
		let (judged, accepted_any, commitments) = Self::judge_commitments(epoch);
		let hosts = Self::consensus_weights(&judged);
		// An epoch that accepts nobody (no worker ran, or no quorum anywhere) must not take
		// the chain's voting power away: the previous weights stay.
		if !accepted_any || hosts.is_empty() {
			Self::deposit_event(Event::WeightsCarriedOver { epoch: epoch.index });
			// The epoch is still rewarded (and its INVALID and down hosts slashed), with
			// the weights it carries over.
			let (carried, entries) = Self::carried_weights();
			// Per PoC weight read: the weight, its host's registration, its coefficient.
			let mut hook = T::DbWeight::get().reads(u64::from(entries).saturating_mul(3));
			if !carried.is_empty() {
				let formed = T::OnWeightsFormed::weights_formed(epoch.index, &carried);
				hook = hook.saturating_add(formed);
			}
			return (commitments, hook);
		}
		let hook = Self::put_weights_in_force(epoch.index, judged, &hosts);
		(commitments, hook)
	}

	/// Judges each rostered commitment of `epoch` (`PocJudged` each); returns the judged
	/// ones, whether any was accepted, and the number of commitments read.
	fn judge_commitments(epoch: &EpochInfoOf<T>) -> (Judged<T>, bool, u32) {
		// The total when validation opened: departures since cannot lower the threshold.
		let total = ValidationTotal::<T>::take().unwrap_or_else(TotalVotingPower::<T>::get);
		let mut judged: Judged<T> = Vec::new();
		let mut accepted_any = false;
		let mut commitments: u32 = 0;
		let rosters = Tallies::<T>::iter_prefix(epoch.index)
			.flat_map(|(model, roster)| roster.into_iter().map(move |entry| (model, entry)));
		for (model, (host, tally)) in rosters {
			commitments = commitments.saturating_add(1);
			let Some(commitment) = Commitments::<T>::get((epoch.index, model, &host)) else {
				defensive!("a rostered host has a commitment");
				continue;
			};
			// A host that left after validation opened is not judged.
			if !Hosts::<T>::contains_key(&host) {
				continue;
			}
			let (outcome, weight) = Self::judge(total, &host, model, tally, &commitment);
			accepted_any |= outcome == Outcome::Accepted;
			Self::deposit_event(Event::PocJudged {
				host: host.clone(),
				epoch: epoch.index,
				model,
				outcome,
				weight,
			});
			judged.push((host, model, weight));
		}
		(judged, accepted_any, commitments)
	}

	/// The outcome of `host`'s `commitment` on `model` with `tally`, when `total` voting
	/// power is in force, and the host's new PoC weight on the model.
	fn judge(
		total: u128,
		host: &T::AccountId,
		model: ModelId,
		tally: Tally,
		commitment: &Commitment,
	) -> (Outcome, NonceCount) {
		// A host never votes on itself: the threshold counts the others' power.
		let others = total.saturating_sub(VotingPower::<T>::get(host));
		if is_two_thirds(tally.valid, others) {
			(Outcome::Accepted, commitment.count)
		} else if is_two_thirds(tally.invalid, others) {
			(Outcome::Rejected, 0)
		} else {
			// Too few votes either way: not fraud, so no loss beyond the new count.
			(Outcome::QuorumFailed, PocWeights::<T>::get(host, model).min(commitment.count))
		}
	}

	/// Each host's consensus weight, `Σ_m coefficient(m) × poc_weight(h, m)`, uncapped,
	/// sorted by account; hosts with zero weight left out.
	fn consensus_weights(judged: &Judged<T>) -> Vec<(T::AccountId, u128)> {
		let mut consensus: BTreeMap<T::AccountId, u128> = BTreeMap::new();
		for (host, model, weight) in judged {
			let coefficient = T::Models::coefficient(*model).unwrap_or_default();
			let entry = consensus.entry(host.clone()).or_default();
			*entry = entry.saturating_add(coefficient.saturating_mul_int(u128::from(*weight)));
		}
		consensus.into_iter().filter(|(_, weight)| *weight > 0).collect()
	}

	/// The consensus weights in force, of the hosts still registered: what an epoch that
	/// accepts nobody carries over; and the number of PoC weights read (at most
	/// `MaxHosts × MaxModelsPerHost`, as the formation that put them in force wrote).
	fn carried_weights() -> (Vec<(T::AccountId, u128)>, u32) {
		let mut entries: u32 = 0;
		let judged: Judged<T> = PocWeights::<T>::iter()
			.inspect(|_| entries = entries.saturating_add(1))
			.filter(|(host, _, _)| Hosts::<T>::contains_key(host))
			.collect();
		(Self::consensus_weights(&judged), entries)
	}

	/// Puts the formed weights in force: tells `OnWeightsFormed` the consensus weights
	/// `hosts`, replaces the PoC weights and executor rosters with `judged`, and makes the
	/// capped consensus weights the new generation of voting power (`WeightsFormed`).
	/// Returns the weight `OnWeightsFormed` used.
	fn put_weights_in_force(
		epoch: EpochIndex,
		judged: Judged<T>,
		hosts: &[(T::AccountId, u128)],
	) -> Weight {
		let weights: Vec<u128> = hosts.iter().map(|(_, weight)| *weight).collect();
		let capped = gonka_primitives::cap::apply_cap(&weights, T::MaxWeightShare::get());
		let total_power = capped.iter().fold(0u128, |sum, weight| sum.saturating_add(*weight));
		let hook = T::OnWeightsFormed::weights_formed(epoch, hosts);
		Self::replace_poc_weights(judged);
		Self::new_power_generation(hosts.iter().map(|(host, _)| host.clone()).zip(capped));
		Self::deposit_event(Event::WeightsFormed { epoch, hosts: hosts.len() as u32, total_power });
		hook
	}

	/// Replaces every PoC weight with the non-zero ones of `judged`, and the executor
	/// rosters with them.
	fn replace_poc_weights(judged: Judged<T>) {
		// Both maps hold at most MaxHosts × MaxModelsPerHost entries.
		let _ = PocWeights::<T>::clear(u32::MAX, None);
		let mut rosters: BTreeMap<ModelId, Vec<(T::AccountId, NonceCount)>> = BTreeMap::new();
		for (host, model, weight) in judged {
			if weight > 0 {
				PocWeights::<T>::insert(&host, model, weight);
				rosters.entry(model).or_default().push((host, weight));
			}
		}
		Self::write_rosters(rosters);
	}
}
