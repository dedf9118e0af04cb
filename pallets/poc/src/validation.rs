//! Validation rosters and tallies (`protocol.md`, "Proof of Compute"): from the end of
//! generation, a few models per block, each model's roster lists the registered hosts that
//! committed, sorted by account, with empty tallies (`Tallies`); validation batches are
//! accepted once every roster of the epoch is built (`RostersBuilt`). Each verdict of a
//! batch adds the validator's voting power to the valid or invalid side of its host's tally. Who may send a batch is in
//! `authorize.rs`; how tallies become weights in `formation.rs`.

use crate::{
	Commitments, Config, Event, Hosts, Pallet, RosterCursor, RosterOf, RostersBuilt, Tallies,
	Tally, WeightInfo,
};
use gonka_primitives::{duty::Verdict, EpochIndex, ModelId};
use polkadot_sdk::{
	frame_support::{defensive, weights::WeightMeter},
	sp_core::Get,
};

impl<T: Config> Pallet<T> {
	/// Whether `epoch`'s validation rosters are to start now (in its delay or validation
	/// phase): they have not started, and no formation runs (a formation running late
	/// judges with the total its own rosters kept, and puts a new generation of voting
	/// power in force, which must not happen during a validation).
	pub(crate) fn rosters_due(epoch: EpochIndex) -> bool {
		crate::RostersBuilt::<T>::get() != Some(epoch)
			&& !RosterCursor::<T>::exists()
			&& !crate::Formation::<T>::exists()
	}

	/// Starts building `epoch`'s validation rosters (its generation ended: the commitments
	/// are final), and keeps the total voting power the formation compares the verdicts
	/// with, whoever leaves meanwhile.
	pub(crate) fn start_rosters(epoch: EpochIndex) {
		crate::ValidationTotal::<T>::put(crate::TotalVotingPower::<T>::get());
		RosterCursor::<T>::put((epoch, None::<(ModelId, T::AccountId)>));
	}

	/// Builds the validation rosters within `meter`: the next commitments in order of
	/// model, each of a registered host added to its model's roster (sorted, empty tally).
	/// Each model's step pays for reading and writing its roster, which may hold `MaxHosts`
	/// hosts, whatever the commitments added. When every commitment is in, the epoch's
	/// rosters are built (`RostersBuilt`, `ValidationOpened`).
	pub(crate) fn build_rosters(meter: &mut WeightMeter) {
		let Some((epoch, last)) = RosterCursor::<T>::get() else { return };
		let (base, per_commitment) = Self::linear(T::WeightInfo::open_validation);
		let keys = match &last {
			Some(key) => Commitments::<T>::iter_key_prefix_from(
				(epoch,),
				Commitments::<T>::hashed_key_for((epoch, key.0, &key.1)),
			),
			None => Commitments::<T>::iter_key_prefix((epoch,)),
		};
		let mut keys = keys.peekable();
		let mut last = last;
		while let Some((model, _)) = keys.peek().cloned() {
			let room = Self::records_fitting(meter, base, per_commitment, T::MaxHosts::get());
			if room == 0 {
				RosterCursor::<T>::put((epoch, last));
				return;
			}
			let mut roster = Tallies::<T>::get(epoch, model).into_inner();
			let mut added = 0u32;
			while added < room {
				let Some((_, host)) = keys.next_if(|(next, _)| *next == model) else {
					break;
				};
				added = added.saturating_add(1);
				// A host that left during generation is not judged, nor one that left and
				// registered again since it committed.
				if Hosts::<T>::contains_key(&host) && Self::joined_before(&host, epoch) {
					roster.push((host.clone(), Tally::default()));
				}
				last = Some((model, host));
			}
			Self::consume_records(meter, base, per_commitment, added);
			// One commitment per host and model: no host twice (the sort is stable: a host
			// already rostered keeps its entry).
			roster.sort_by(|a, b| a.0.cmp(&b.0));
			roster.dedup_by(|later, earlier| later.0 == earlier.0);
			// At most one commitment per registered host: never more than `MaxHosts`.
			match RosterOf::<T>::try_from(roster) {
				Ok(roster) => Tallies::<T>::insert(epoch, model, roster),
				Err(_) => {
					defensive!("at most MaxHosts hosts are registered");
				}
			}
		}
		RosterCursor::<T>::kill();
		RostersBuilt::<T>::put(epoch);
		Self::deposit_event(Event::ValidationOpened { epoch });
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
