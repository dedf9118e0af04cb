//! Second validators (`docs/channels.md`, step 5h; the spec's amendment 6): about a tenth of
//! a settlement's samples are answered once more, by validators that could not have
//! answered them first, after every first answer was sent.
//!
//! - **The round**: when a settlement's verdict window closes, the share its validators
//!   were not paid stays in the pot (`SecondRound::held`, in `SecondRounds`, which also
//!   holds what the pruning needs), until the pruning returns the rest to the executor.
//!   Each answer, first or second, pays `share / (m + ⌈m / 10⌉)` (`answer_pay`), so what is
//!   held always covers the second answers.
//! - **Doubled samples, known only after the window**: the **second seed**
//!   (`gonka_primitives::channel::second_seed`) comes from the hash of the window's last
//!   block, sealed after every first answer was sent: a first validator cannot know which
//!   of its passes will be checked again. It draws a residue modulo `SECOND_EVERY` (10); the
//!   samples of that residue are doubled (`is_doubled`: at most `⌈m / 10⌉`), but those
//!   failed in the window (`FailedSamples`: their disputes are open), and none of a
//!   settlement whose failures were reported before these rules (spec version 20: which
//!   samples are disputed is not known).
//! - **Who, when**: a validator the hash rule draws on the second seed and **not** on the
//!   sample seed (`validates_second`), so never one that could have answered first; from
//!   the close to the pruning (a period, whenever the cursors reach the settlement): a pass
//!   in `submit_verdicts`, a failure in `report_failure`, which opens a dispute as a first
//!   failure does (refund, bounty and the step of the executor's test in the settlement's
//!   epoch, whose ledger the round keeps open until the pruning). The first answer is paid;
//!   a failure may follow a pass (another second validator's: a friend of the executor
//!   passing first shuts nobody out), one dispute a sample, and a receipt disputed already
//!   in the settlement (`Challenged`, kept until the pruning) is not disputed again.
//! - **Not a duty**: a second answer is paid work; a validator drawn second that answers
//!   nothing is not shown missed, and a second answer marks nothing for the period (a first
//!   validator that answered none of its samples is still shown missed).

use crate::{
	Config, Error, Event, FailedSamples, Pallet, SampleBits, SecondRound, SecondRoundOf,
	SecondRounds, SettlementRecordOf, ToPrune,
};
use gonka_primitives::{
	channel::{is_doubled, most_doubled, second_seed, validates_second, SettlementId},
	HostId, H256,
};
use polkadot_sdk::{
	frame_support::{defensive, pallet_prelude::*},
	frame_system::{self, pallet_prelude::BlockNumberFor},
	sp_runtime::traits::{One, Saturating},
};

/// A settlement's second round as a second answer's check reads it once.
pub(crate) struct SecondCheck<T: Config> {
	/// The round.
	pub round: SecondRoundOf<T>,
	/// Its seed.
	pub seed: H256,
	/// The samples failed in the window (none doubled); `None`: failures reported before
	/// these rules, nothing doubled.
	pub failed: Option<SampleBits>,
}

impl<T: Config> Pallet<T> {
	/// What each answer to a settlement of `samples` samples pays of its validators'
	/// `share`: `share / (samples + ⌈samples / 10⌉)`, so the share covers the second
	/// answers too.
	pub fn answer_pay(share: u128, samples: u32) -> u128 {
		let answers = samples.saturating_add(most_doubled(samples));
		share.checked_div(u128::from(answers)).unwrap_or(0)
	}

	/// The second seed of a settlement included in block `at`: from the hash of the last
	/// block of its verdict window (known from the window's close on; `integrity_test`
	/// keeps it until the pruning). `None` if that hash is not kept (a zero hash would make
	/// the seed known in advance).
	pub fn second_seed_of(id: SettlementId, at: BlockNumberFor<T>) -> Option<H256> {
		let last = Self::closes_at(at).saturating_sub(One::one());
		let block = H256::from_slice(frame_system::Pallet::<T>::block_hash(last).as_ref());
		if block.is_zero() {
			return None;
		}
		let genesis = pallet_poc::Pallet::<T>::genesis_hash();
		Some(second_seed(&genesis, &block, id))
	}

	/// Starts settlement `id`'s second round as its window closes: the share its validators
	/// were not paid stays held for the round, and the record's pruning is scheduled.
	pub(crate) fn start_second_round(id: SettlementId, record: &SettlementRecordOf<T>) -> u128 {
		let held = record.share.saturating_sub(record.validator_paid);
		SecondRounds::<T>::insert(
			id,
			SecondRound {
				prunes_at: Self::prunes_at(record.at),
				snapshot: record.snapshot,
				executor: record.executor.clone(),
				epoch: record.epoch,
				held,
				paid: 0,
				answered: Default::default(),
				disputed: Default::default(),
				unavailable: Default::default(),
			},
		);
		held
	}

	/// Settlement `id`'s second round, for a second answer's check: `RoundNotDrawn` while
	/// its window is open.
	pub(crate) fn second_check(
		id: SettlementId,
		record: &SettlementRecordOf<T>,
	) -> Result<SecondCheck<T>, Error<T>> {
		let round = SecondRounds::<T>::get(id).ok_or(if Self::window_open(id) {
			Error::<T>::RoundNotDrawn
		} else {
			Error::<T>::NotDoubled
		})?;
		let failed = if record.fails == 0 {
			Some(SampleBits::default())
		} else {
			FailedSamples::<T>::get(id).filter(|failed| {
				failed.iter().map(|bits| bits.count_ones()).sum::<u32>() == record.fails
			})
		};
		let seed = Self::second_seed_of(id, record.at).ok_or(Error::<T>::NotDoubled)?;
		Ok(SecondCheck { round, seed, failed })
	}

	/// Whether `validator` (of `power` in the settlement's snapshot) may answer `sample` of
	/// settlement `record` (sample seed `seed`) in its round (`check`): the round doubles it
	/// and the hash rule draws the validator on the second seed and not on the first.
	pub(crate) fn check_second(
		record: &SettlementRecordOf<T>,
		check: &SecondCheck<T>,
		seed: &H256,
		sample: u32,
		validator: &HostId,
		power: u128,
	) -> Result<(), Error<T>> {
		let failed = check.failed.as_ref().ok_or(Error::<T>::NotDoubled)?;
		ensure!(
			is_doubled(&check.seed, sample) && !crate::bit_is_set(failed, sample),
			Error::<T>::NotDoubled
		);
		ensure!(
			validates_second(
				seed,
				&check.seed,
				sample,
				validator,
				&record.executor,
				power,
				record.total_power,
				record.executor_power,
			),
			Error::<T>::NotSampled
		);
		Ok(())
	}

	/// Notes a first-round failure of `sample` of settlement `id`: its second round will
	/// not double it.
	pub(crate) fn note_failed(id: SettlementId, sample: u32) {
		FailedSamples::<T>::mutate(id, |failed| {
			if !crate::set_bit(failed.get_or_insert_with(Default::default), sample) {
				defensive!("a sample's bit is within the bitmap");
			}
		});
	}

	/// Prunes closed settlement `id` if its report period ended by `now`; says whether it
	/// did (`false`: not yet, the cursor stops). Its round ends: what its answers were not
	/// paid goes back to the executor's pending work and its epoch is released; its
	/// record, model, failed samples and disputed receipts are removed (unread), its
	/// snapshot released. A settlement closed before spec version 20 has its `ToPrune`
	/// entry instead.
	pub(crate) fn prune_settlement(id: SettlementId, now: BlockNumberFor<T>) -> bool {
		let snapshot = match SecondRounds::<T>::get(id) {
			Some(round) if round.prunes_at > now => return false,
			Some(round) => {
				SecondRounds::<T>::remove(id);
				Self::note_closed(round.epoch);
				let returned =
					Self::return_share(&round.executor, round.held.saturating_sub(round.paid));
				let answers = round.answered.iter().map(|bits| bits.count_ones()).sum();
				Self::deposit_event(Event::SecondRoundEnded { settlement: id, answers, returned });
				Some(round.snapshot)
			}
			None => match ToPrune::<T>::get(id) {
				Some((at, _)) if at > now => return false,
				Some((_, snapshot)) => {
					ToPrune::<T>::remove(id);
					Some(snapshot)
				}
				None => {
					defensive!("a closed settlement is indexed until it is pruned");
					None
				}
			},
		};
		crate::Settlements::<T>::remove(id);
		crate::SettlementModels::<T>::remove(id);
		FailedSamples::<T>::remove(id);
		crate::Challenged::<T>::remove(id);
		if let Some(snapshot) = snapshot {
			pallet_poc::Pallet::<T>::release_snapshot(&snapshot);
		}
		true
	}
}
