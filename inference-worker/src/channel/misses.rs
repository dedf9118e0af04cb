//! An executor's book of its validators' duties (`docs/channels.md`, "Lazy validators"; the
//! chain's rule is `pallet-channels`' `misses.rs`): the samples of its settlements the
//! chain drew each validator for, by verdict period, and the reports of the validators
//! that answered none of a period's samples.
//!
//! - **Drawn**: the chain shows who is drawn for a settlement's samples only while its
//!   window is open (`samples_for`), so the executor asks once for every registered host,
//!   from the block after its settlement's, and journals the answer: a restart forgets
//!   none of them (one journal a verdict period, `period-<i>.log`, deleted once the period's
//!   report period ended).
//! - **Reported**: in period `i + 2` (the answers of `i` are final, and the records kept),
//!   each validator that is not marked as having answered anything of period `i` is shown
//!   missed for the samples drawn for it that nobody answered, in ascending (settlement,
//!   sample) order, leaving out those shown before, at most `MAX_MISSES` a period in all
//!   ([`missed`]). The chain checks every one of them again (the hash rule, the answers, the
//!   marks), so only a true report passes; one it refuses is not sent again.

use super::log::Log;
use crate::Result;
use codec::{Decode, Encode};
use gonka_primitives::{
	channel::{MissedSamples, SettlementId, MAX_MISSES},
	HostId,
};
use std::{
	collections::{BTreeMap, BTreeSet},
	path::{Path, PathBuf},
};

/// The samples of one settlement of this host the chain drew, by validator.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Drawn {
	/// The settlement.
	pub settlement: SettlementId,
	/// Each validator drawn, and its samples.
	pub by: Vec<(HostId, Vec<u32>)>,
}

/// What the chain notes of a validator for a verdict period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mark {
	/// Nothing yet.
	None,
	/// It answered some of the period's samples: never shown missed for it.
	Answered,
	/// It was shown missed for these samples already.
	Reported(Vec<(SettlementId, u32)>),
}

/// The report of `validator`'s misses of verdict period `period`, if it has any: the samples
/// drawn for it (`drawn`) that nobody answered (`answered`), leaving out those shown before
/// (`mark`), in ascending order, at most `MAX_MISSES` a period in all. `None` if it answered
/// anything of the period, or nothing is left to show.
pub fn missed(
	period: u32,
	validator: &HostId,
	drawn: &BTreeSet<(SettlementId, u32)>,
	mark: &Mark,
	answered: impl Fn(SettlementId, u32) -> bool,
) -> Option<MissedSamples> {
	let before: &[(SettlementId, u32)] = match mark {
		Mark::Answered => return None,
		Mark::Reported(before) => before,
		Mark::None => &[],
	};
	let room = (MAX_MISSES as usize).saturating_sub(before.len());
	let samples: Vec<(SettlementId, u32)> = drawn
		.iter()
		.filter(|shown| !before.contains(shown))
		.filter(|(settlement, sample)| !answered(*settlement, *sample))
		.take(room)
		.copied()
		.collect();
	if samples.is_empty() {
		return None;
	}
	Some(MissedSamples { period, validator: validator.clone(), samples: samples.try_into().ok()? })
}

/// The draws of this host's settlements, by verdict period, journaled under a directory.
pub struct MissBook {
	dir: PathBuf,
	periods: BTreeMap<u32, Period>,
}

struct Period {
	log: Log<Drawn>,
	drawn: Vec<Drawn>,
}

impl MissBook {
	/// Opens the book under `dir`, taking up every period's journal there.
	pub fn open(dir: &Path) -> Result<Self> {
		std::fs::create_dir_all(dir)
			.map_err(crate::Error::io(format!("creating {}", dir.display())))?;
		let mut periods = BTreeMap::new();
		let entries = std::fs::read_dir(dir)
			.map_err(crate::Error::io(format!("reading {}", dir.display())))?;
		for entry in entries.flatten() {
			let name = entry.file_name();
			let Some(period) = name
				.to_str()
				.and_then(|name| name.strip_prefix("period-")?.strip_suffix(".log")?.parse().ok())
			else {
				continue;
			};
			let (log, drawn) = Log::open(&entry.path())?;
			periods.insert(period, Period { log, drawn });
		}
		Ok(Self { dir: dir.to_path_buf(), periods })
	}

	/// Whether the draws of `settlement` (of verdict period `period`) are noted.
	pub fn has(&self, period: u32, settlement: SettlementId) -> bool {
		self.periods
			.get(&period)
			.is_some_and(|noted| noted.drawn.iter().any(|drawn| drawn.settlement == settlement))
	}

	/// Notes (journaled) the draws of a settlement of verdict period `period`.
	pub fn note(&mut self, period: u32, drawn: Drawn) -> Result<()> {
		if self.has(period, drawn.settlement) {
			return Ok(());
		}
		let noted = match self.periods.entry(period) {
			std::collections::btree_map::Entry::Occupied(entry) => entry.into_mut(),
			std::collections::btree_map::Entry::Vacant(entry) => {
				let path = self.dir.join(format!("period-{period}.log"));
				let (log, drawn) = Log::open(&path)?;
				entry.insert(Period { log, drawn })
			}
		};
		noted.log.append(&drawn)?;
		noted.drawn.push(drawn);
		Ok(())
	}

	/// The samples each validator was drawn for in verdict period `period`'s settlements.
	pub fn drawn(&self, period: u32) -> BTreeMap<HostId, BTreeSet<(SettlementId, u32)>> {
		let mut by: BTreeMap<HostId, BTreeSet<(SettlementId, u32)>> = BTreeMap::new();
		for drawn in self.periods.get(&period).map_or(&[][..], |noted| &noted.drawn) {
			for (validator, samples) in &drawn.by {
				let shown = by.entry(validator.clone()).or_default();
				shown.extend(samples.iter().map(|sample| (drawn.settlement, *sample)));
			}
		}
		by
	}

	/// The periods noted.
	pub fn periods(&self) -> Vec<u32> {
		self.periods.keys().copied().collect()
	}

	/// Forgets verdict period `period` (its report period ended): deletes its journal.
	pub fn forget(&mut self, period: u32) -> Result<()> {
		if let Some(noted) = self.periods.remove(&period) {
			let path = noted.log.path().to_path_buf();
			drop(noted);
			std::fs::remove_file(&path)
				.map_err(crate::Error::io(format!("removing {}", path.display())))?;
		}
		Ok(())
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn host(byte: u8) -> HostId {
		HostId::new([byte; 32])
	}

	fn set(samples: &[(SettlementId, u32)]) -> BTreeSet<(SettlementId, u32)> {
		samples.iter().copied().collect()
	}

	#[test]
	fn a_validator_that_answered_nothing_is_shown_missed_for_its_unanswered_samples_in_order() {
		let drawn = set(&[(4, 1), (3, 0), (3, 2), (4, 0)]);
		// Sample 2 of settlement 3 was answered by another validator drawn for it.
		let report = missed(7, &host(1), &drawn, &Mark::None, |s, n| (s, n) == (3, 2)).unwrap();
		assert_eq!(report.period, 7);
		assert_eq!(report.validator, host(1));
		assert_eq!(report.samples.into_inner(), vec![(3, 0), (4, 0), (4, 1)]);
	}

	#[test]
	fn a_validator_that_answered_anything_of_the_period_is_never_shown_missed() {
		let drawn = set(&[(3, 0), (3, 1)]);
		assert_eq!(missed(7, &host(1), &drawn, &Mark::Answered, |_, _| false), None);
	}

	#[test]
	fn samples_shown_before_are_left_out_and_a_period_shows_at_most_max_misses() {
		let drawn: BTreeSet<_> = (0..100).map(|sample| (9, sample)).collect();
		let before: Vec<_> = (0..10).map(|sample| (9, sample)).collect();
		let report = missed(7, &host(1), &drawn, &Mark::Reported(before), |_, _| false).unwrap();
		let samples = report.samples.into_inner();
		assert_eq!(samples.len(), MAX_MISSES as usize - 10);
		assert_eq!(samples.first(), Some(&(9, 10)));
		let full: Vec<_> = (0..MAX_MISSES).map(|sample| (9, sample)).collect();
		assert_eq!(missed(7, &host(1), &drawn, &Mark::Reported(full), |_, _| false), None);
		// Every sample answered: nothing to show.
		assert_eq!(missed(7, &host(1), &drawn, &Mark::None, |_, _| true), None);
	}

	#[test]
	fn the_draws_are_journaled_by_period_and_a_period_is_forgotten_with_its_journal() {
		let dir = tempfile::tempdir().unwrap();
		{
			let mut book = MissBook::open(dir.path()).unwrap();
			book.note(3, Drawn { settlement: 5, by: vec![(host(1), vec![0, 2])] }).unwrap();
			book.note(3, Drawn { settlement: 6, by: vec![(host(1), vec![1]), (host(2), vec![0])] })
				.unwrap();
			// Noted again (a restart follows the block again): kept once.
			book.note(3, Drawn { settlement: 5, by: vec![(host(1), vec![0, 2])] }).unwrap();
			book.note(4, Drawn { settlement: 7, by: vec![] }).unwrap();
		}
		let mut book = MissBook::open(dir.path()).unwrap();
		assert_eq!(book.periods(), vec![3, 4]);
		let drawn = book.drawn(3);
		assert_eq!(drawn[&host(1)], set(&[(5, 0), (5, 2), (6, 1)]));
		assert_eq!(drawn[&host(2)], set(&[(6, 0)]));
		assert!(book.has(3, 6) && !book.has(4, 6));
		book.forget(3).unwrap();
		assert!(!dir.path().join("period-3.log").exists());
		assert_eq!(MissBook::open(dir.path()).unwrap().periods(), vec![4]);
	}
}
