//! Validation rosters and tallies (`protocol.md`, "Proof of Compute"): when validation
//! opens, each model's roster lists the registered hosts that committed, sorted by account,
//! with empty tallies (`Tallies`); each verdict of a batch adds the validator's voting power
//! to the valid or invalid side of its host's tally. Who may send a batch is in
//! `authorize.rs`; how tallies become weights in `formation.rs`.

use crate::{Commitments, Config, EpochInfoOf, Hosts, Pallet, RosterOf, Tallies, Tally};
use alloc::{collections::BTreeMap, vec::Vec};
use gonka_primitives::{duty::Verdict, EpochIndex, ModelId};
use polkadot_sdk::frame_support::defensive;

impl<T: Config> Pallet<T> {
	/// Opens validation for `epoch`: the roster of each model, the registered hosts that
	/// committed, sorted, with empty tallies. Returns the number of commitments read.
	pub(crate) fn open_validation(epoch: &EpochInfoOf<T>) -> u32 {
		// The total the formation will compare the verdicts with, whoever leaves meanwhile.
		crate::ValidationTotal::<T>::put(crate::TotalVotingPower::<T>::get());
		let mut rosters: BTreeMap<ModelId, Vec<(T::AccountId, Tally)>> = BTreeMap::new();
		let mut read: u32 = 0;
		for ((host, model), _) in Commitments::<T>::iter_prefix(epoch.index) {
			read = read.saturating_add(1);
			// A host that left during generation is not judged.
			if Hosts::<T>::contains_key(&host) {
				rosters.entry(model).or_default().push((host, Tally::default()));
			}
		}
		for (model, mut roster) in rosters {
			roster.sort_by(|a, b| a.0.cmp(&b.0));
			// At most one commitment per registered host: never more than `MaxHosts`.
			match RosterOf::<T>::try_from(roster) {
				Ok(roster) => Tallies::<T>::insert(epoch.index, model, roster),
				Err(_) => {
					defensive!("at most MaxHosts hosts are registered");
				}
			}
		}
		read
	}

	/// Adds `power` to the tally of each verdict's host, at its position in `roster`
	/// (`positions`, from `check_validation`): to `valid` or `invalid` as the verdict says.
	pub(crate) fn count_verdicts(
		roster: &mut RosterOf<T>,
		verdicts: &[Verdict],
		positions: &[usize],
		power: u128,
	) {
		for (verdict, position) in verdicts.iter().zip(positions) {
			if let Some((_, tally)) = roster.get_mut(*position) {
				if verdict.valid {
					tally.valid = tally.valid.saturating_add(power);
				} else {
					tally.invalid = tally.invalid.saturating_add(power);
				}
			}
		}
	}

	/// The tally on `host`'s commitment for `model` in `epoch` (zero when it has none).
	pub fn tally(epoch: EpochIndex, host: &T::AccountId, model: ModelId) -> Tally {
		let roster = Tallies::<T>::get(epoch, model);
		roster
			.binary_search_by(|(rostered, _)| rostered.cmp(host))
			.ok()
			.and_then(|position| roster.get(position))
			.map_or_else(Tally::default, |(_, tally)| *tally)
	}
}
