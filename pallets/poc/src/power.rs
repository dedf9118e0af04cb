//! Voting power and its governance snapshots. Each weight formation puts a new
//! *generation* of voting power in force (`PowerHistory`, never changed afterwards); a
//! host's power in force is its power in that generation unless it left since: a host that
//! leaves (or whose power is revoked) is recorded as a departure of the generation in
//! force. A snapshot is a generation and the number of departures at the time
//! it was taken: it holds (pins) the generation, which is pruned once it is not in force
//! and no snapshot holds it, its records a few per block.

use crate::epochs::{remove_in_order, remove_keys};
use crate::{
	Config, Departures, Event, GenerationInfo, OldestPowerGeneration, Pallet, PowerGeneration,
	PowerGenerations, PowerHistory, PowerPrunedBefore, TotalVotingPower, WeightInfo,
};
use gonka_primitives::PowerSnapshot;
use polkadot_sdk::frame_support::{defensive, weights::WeightMeter};

impl<T: Config> Pallet<T> {
	/// `who`'s voting power in force: its power in the generation in force, unless it left
	/// (or its power was revoked) since.
	pub fn voting_power(who: &T::AccountId) -> u128 {
		let generation = PowerGeneration::<T>::get();
		if Departures::<T>::contains_key(generation, who) {
			return 0;
		}
		PowerHistory::<T>::get(generation, who).unwrap_or(0)
	}

	/// Takes `who`'s voting power away (it left): thresholds count the power still present.
	/// A host that had power is recorded as a departure of the generation in force. It has
	/// no power in the generation a formation in progress forms either.
	pub(crate) fn remove_voting_power(who: &T::AccountId) {
		let power = Self::voting_power(who);
		TotalVotingPower::<T>::mutate(|total| *total = total.saturating_sub(power));
		if power > 0 {
			Self::record_departure(who);
		}
		Self::forget_forming(who);
	}

	/// Takes `host`'s voting power away until a weight formation started after this puts
	/// new power in force, as if it had left (`PowerRevoked`): `pallet-inference` does so
	/// when it marks a host INVALID, which means no power (`protocol.md`, "Inference" 5).
	/// A formation in progress gives it no power in the generation it forms
	/// (`revoke_forming`). Returns the power taken from the generation in force (0: none).
	pub fn revoke_power(host: &T::AccountId) -> u128 {
		let power = Self::voting_power(host);
		if power > 0 {
			TotalVotingPower::<T>::mutate(|total| *total = total.saturating_sub(power));
			Self::record_departure(host);
		}
		let forming = Self::revoke_forming(host);
		if power > 0 || forming {
			Self::deposit_event(Event::PowerRevoked { host: host.clone(), power });
		}
		power
	}

	/// Records that `who`, with power in the generation in force, left.
	fn record_departure(who: &T::AccountId) {
		let generation = PowerGeneration::<T>::get();
		PowerGenerations::<T>::mutate(generation, |info| {
			let Some(info) = info else {
				defensive!("the generation in force is kept");
				return;
			};
			if !Departures::<T>::contains_key(generation, who) {
				Departures::<T>::insert(generation, who, info.departures);
				info.departures = info.departures.saturating_add(1);
			}
		});
	}

	/// Puts `powers` (zeros skipped) in force as a new generation of voting power, at once
	/// (tests and benchmarks; a formation writes its generation over blocks,
	/// `formation.rs`); the previous one is kept while governance snapshots hold it. At
	/// most MaxHosts entries.
	#[cfg(any(test, feature = "runtime-benchmarks"))]
	pub(crate) fn new_power_generation(powers: impl IntoIterator<Item = (T::AccountId, u128)>) {
		let generation = PowerGeneration::<T>::get().saturating_add(1);
		let mut total = 0u128;
		let mut holders = 0u32;
		for (host, power) in powers.into_iter().filter(|(_, power)| *power > 0) {
			PowerHistory::<T>::insert(generation, &host, power);
			total = total.saturating_add(power);
			holders = holders.saturating_add(1);
		}
		Self::put_generation_in_force(generation, total, holders);
	}

	/// Puts `generation`, whose powers are written (`holders` of them, `total` in all), in
	/// force.
	pub(crate) fn put_generation_in_force(generation: u32, total: u128, holders: u32) {
		TotalVotingPower::<T>::put(total);
		PowerGenerations::<T>::insert(
			generation,
			GenerationInfo { hosts: holders, departures: 0, pins: 0 },
		);
		PowerGeneration::<T>::put(generation);
	}

	/// Prunes, within `meter`, the generations of voting power no longer held: the oldest
	/// kept generation, once not in force and held by no snapshot, stops being kept
	/// (`PowerGenerationPruned`), and the records (powers, departures) of the generations
	/// no longer kept are removed, oldest first (`PowerPrunedBefore`).
	pub(crate) fn prune_power_generations(meter: &mut WeightMeter) {
		let (base, per_record) = Self::linear(T::WeightInfo::prune_power_generation);
		loop {
			let cleared = PowerPrunedBefore::<T>::get();
			let oldest = OldestPowerGeneration::<T>::get();
			if cleared < oldest {
				let room = Self::records_fitting(meter, base, per_record, u32::MAX);
				if room == 0 {
					return;
				}
				// Departures, then powers (a departed host had power).
				let steps: [&dyn Fn(usize) -> (usize, bool); 2] = [
					&|limit| {
						remove_keys(Departures::<T>::iter_key_prefix(cleared), limit, |host| {
							Departures::<T>::remove(cleared, host)
						})
					},
					&|limit| {
						remove_keys(PowerHistory::<T>::iter_key_prefix(cleared), limit, |host| {
							PowerHistory::<T>::remove(cleared, host)
						})
					},
				];
				let (removed, done) = remove_in_order(&steps, room);
				Self::consume_records(meter, base, per_record, removed);
				if !done {
					return;
				}
				PowerPrunedBefore::<T>::put(cleared.saturating_add(1));
				continue;
			}
			if oldest >= PowerGeneration::<T>::get()
				|| PowerGenerations::<T>::get(oldest).unwrap_or_default().pins > 0
				|| !meter.can_consume(base)
			{
				return;
			}
			meter.consume(base);
			PowerGenerations::<T>::remove(oldest);
			OldestPowerGeneration::<T>::put(oldest.saturating_add(1));
			Self::deposit_event(Event::PowerGenerationPruned { generation: oldest });
		}
	}

	/// Takes a governance snapshot of the voting power in force: holds its generation
	/// until [`Self::release_snapshot`]. Returns it with its total power and host count.
	pub fn take_snapshot() -> (PowerSnapshot, u128, u32) {
		let generation = PowerGeneration::<T>::get();
		let info = PowerGenerations::<T>::mutate(generation, |info| {
			let info = info.get_or_insert_with(|| {
				defensive!("the generation in force is kept");
				GenerationInfo::default()
			});
			info.pins = info.pins.saturating_add(1);
			*info
		});
		(
			PowerSnapshot { generation, departures: info.departures },
			TotalVotingPower::<T>::get(),
			info.hosts.saturating_sub(info.departures),
		)
	}

	/// `who`'s voting power in a snapshot: its power in the generation, unless it had
	/// left before the snapshot was taken.
	pub fn power_in(snapshot: &PowerSnapshot, who: &T::AccountId) -> u128 {
		let left_before = Departures::<T>::get(snapshot.generation, who)
			.is_some_and(|departure| departure < snapshot.departures);
		if left_before {
			return 0;
		}
		PowerHistory::<T>::get(snapshot.generation, who).unwrap_or(0)
	}

	/// Holds a snapshot taken before once more (another record that reads it, released on
	/// its own with [`Self::release_snapshot`]).
	pub fn hold_snapshot(snapshot: &PowerSnapshot) {
		PowerGenerations::<T>::mutate(snapshot.generation, |info| {
			if let Some(info) = info {
				info.pins = info.pins.saturating_add(1);
			} else {
				defensive!("a held generation is kept");
			}
		});
	}

	/// Releases a snapshot: its generation may be pruned once no snapshot holds it.
	pub fn release_snapshot(snapshot: &PowerSnapshot) {
		PowerGenerations::<T>::mutate(snapshot.generation, |info| {
			if let Some(info) = info {
				info.pins = info.pins.saturating_sub(1);
			} else {
				defensive!("a held generation is kept");
			}
		});
	}

	/// Replaces the voting power with `powers` as a new generation, as a weight
	/// formation would (tests and benchmarks).
	#[cfg(any(test, feature = "runtime-benchmarks"))]
	pub fn force_voting_power(powers: &[(T::AccountId, u128)]) {
		Self::new_power_generation(powers.iter().cloned());
	}
}
