//! Executor rosters (`protocol.md`, "Inference": who executes a request): each model's hosts
//! with PoC weight on it, as the last weight formation (or genesis) left them, in chunks of
//! `RosterChunk` (`ExecutorRoster`), sorted by account, with the cumulative weight at each
//! chunk's end (`RosterTotals`): the PoC weights in force. `pick_executor` draws a host with probability proportional to its PoC
//! weight, reading the totals and one chunk, never the whole roster. An entry *stands*
//! (`stands`) while its host is registered, and registered before the epoch whose PoC
//! formed the roster (`RosterEpoch`): a host that left and registered again keeps no weight
//! from before it left.

use crate::{Config, ExecutorRoster, Hosts, JoinedEpoch, Pallet, RosterEpoch, RosterTotals};
use alloc::{collections::BTreeMap, vec::Vec};
use gonka_primitives::{EpochIndex, ModelId, NonceCount};
use polkadot_sdk::frame_support::{defensive, pallet_prelude::*};

/// The most chunks of an executor roster: `MaxHosts / RosterChunk`, rounded up.
pub struct MaxRosterChunks<T>(core::marker::PhantomData<T>);
impl<T: Config> polkadot_sdk::sp_core::Get<u32> for MaxRosterChunks<T> {
	fn get() -> u32 {
		T::MaxHosts::get().div_ceil(T::RosterChunk::get().max(1))
	}
}

impl<T: Config> Pallet<T> {
	/// Replaces every model's executor roster, at once (genesis, tests and benchmarks; a
	/// formation replaces them over blocks, `formation.rs`), each sorted by account, as
	/// formed by the PoC of epoch `formed`.
	pub(crate) fn write_rosters(
		rosters: BTreeMap<ModelId, Vec<(T::AccountId, NonceCount)>>,
		formed: EpochIndex,
	) {
		let _ = ExecutorRoster::<T>::clear(u32::MAX, None);
		let _ = RosterTotals::<T>::clear(u32::MAX, None);
		let _ = RosterEpoch::<T>::clear(u32::MAX, None);
		let chunk = T::RosterChunk::get().max(1) as usize;
		for (model, mut roster) in rosters {
			roster.sort_by(|a, b| a.0.cmp(&b.0));
			let mut totals = Vec::new();
			let mut sum = 0u128;
			for (index, hosts) in roster.chunks(chunk).enumerate() {
				sum = hosts
					.iter()
					.fold(sum, |sum, (_, weight)| sum.saturating_add(u128::from(*weight)));
				totals.push(sum);
				let hosts = BoundedVec::truncate_from(hosts.to_vec());
				ExecutorRoster::<T>::insert(model, index as u32, hosts);
			}
			RosterTotals::<T>::insert(model, BoundedVec::truncate_from(totals));
			RosterEpoch::<T>::insert(model, formed);
		}
	}

	/// Whether `host`'s entry in `model`'s executor roster in force stands: the host is
	/// registered, and registered before the epoch whose PoC formed the roster. An entry
	/// that does not stand gives no PoC weight, is not drawn and is not carried over. (A
	/// host that stops serving a model keeps its entry, and its duties: it is drawn, and
	/// misses.)
	pub fn stands(host: &T::AccountId, model: ModelId) -> bool {
		Self::stands_in(host, RosterEpoch::<T>::get(model).unwrap_or(0))
	}

	/// [`Self::stands`] for a roster formed by the PoC of epoch `formed`.
	pub fn stands_in(host: &T::AccountId, formed: EpochIndex) -> bool {
		Hosts::<T>::contains_key(host) && Self::joined_before(host, formed)
	}

	/// Whether `host` registered (the last time) before epoch `epoch` started: true for the
	/// genesis hosts and those registered before `JoinedEpoch` was kept.
	pub(crate) fn joined_before(host: &T::AccountId, epoch: EpochIndex) -> bool {
		JoinedEpoch::<T>::get(host).is_none_or(|joined| joined < epoch)
	}

	/// The executor a `draw` picks for `model`: a host with PoC weight on it, with
	/// probability proportional to that weight (`gonka_primitives::inference`). Reads
	/// the roster's chunk totals and one chunk. `None` when nobody has weight on the
	/// model. The host's entry may not stand any more (it left since the formation): the
	/// caller checks [`Self::stands`] and draws again.
	pub fn pick_executor(model: ModelId, draw: &[u8; 32]) -> Option<T::AccountId> {
		let totals = RosterTotals::<T>::get(model);
		let point = gonka_primitives::inference::pick_point(draw, *totals.last()?)?;
		let chunk = totals.partition_point(|&sum| sum <= point);
		let before = chunk.checked_sub(1).and_then(|previous| totals.get(previous)).copied();
		let mut rest = point.saturating_sub(before.unwrap_or(0));
		for (host, weight) in ExecutorRoster::<T>::get(model, chunk as u32) {
			let weight = u128::from(weight);
			if rest < weight {
				return Some(host);
			}
			rest = rest.saturating_sub(weight);
		}
		defensive!("a roster's totals match its chunks");
		None
	}

	/// Whether some host has PoC weight on `model` (an executor can be drawn, unless every
	/// such host has left since the formation). Reads the roster's chunk totals.
	pub fn has_executors(model: ModelId) -> bool {
		RosterTotals::<T>::get(model).last().is_some_and(|total| *total > 0)
	}

	/// `model`'s executor roster in force, sorted by account (at most `MaxHosts` hosts, in
	/// `MaxRosterChunks` reads).
	pub fn roster(model: ModelId) -> Vec<(T::AccountId, NonceCount)> {
		let chunks = RosterTotals::<T>::get(model).len() as u32;
		(0..chunks).flat_map(|chunk| ExecutorRoster::<T>::get(model, chunk)).collect()
	}

	/// `host`'s PoC weight in force on `model`: the nonce count of its last accepted
	/// commitment, as its executor roster holds it; zero if it has none or its entry does
	/// not stand ([`Self::stands`]).
	pub fn poc_weight(host: &T::AccountId, model: ModelId) -> NonceCount {
		if !Self::stands(host, model) {
			return 0;
		}
		let roster = Self::roster(model);
		roster
			.binary_search_by(|(rostered, _)| rostered.cmp(host))
			.ok()
			.and_then(|position| roster.get(position))
			.map_or(0, |(_, weight)| *weight)
	}

	/// Replaces every executor roster with `hosts` on `model`, as the next epoch's weight
	/// formation would (benchmarks of pallets that draw executors): the hosts registered
	/// by now stand.
	#[cfg(feature = "runtime-benchmarks")]
	pub fn force_roster(model: ModelId, hosts: Vec<(T::AccountId, NonceCount)>) {
		let next = crate::CurrentEpoch::<T>::get().map_or(0, |epoch| epoch.index.saturating_add(1));
		Self::write_rosters(BTreeMap::from([(model, hosts)]), next);
	}
}
