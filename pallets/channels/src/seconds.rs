//! Second validators (`docs/channels.md`, step 5h; the spec's amendment 6): about a tenth of
//! a settlement's samples are answered once more, by a validator that could not have
//! answered them first, after every first answer was sent.
//!
//! - **Drawn at the close**: when a settlement's verdict window closes, its **second seed**
//!   (`gonka_primitives::channel::second_seed`) comes from the hash of the window's last
//!   block, sealed after every first answer was sent: a first validator cannot know which
//!   of its samples will be checked again, so passing a sample unchecked is a risk on every
//!   sample. The seed draws a residue modulo `SECOND_EVERY` (10); the samples of that
//!   residue that were not failed in the window (a failure's dispute is open already) are
//!   **doubled**: at most `⌈m / 10⌉` of `m` samples.
//! - **Paid from the share**: each answer, first or second, pays `share / (m + ⌈m / 10⌉)`,
//!   so the share always covers the second answers; the close holds their pay in the pot
//!   (the round's `held`) and returns the rest to the executor as before.
//! - **Answered in the next verdict period** (the settlement's record is kept for it
//!   anyway, `misses.rs`): a pass in `submit_verdicts`, a failure in `report_failure`,
//!   which opens a dispute as a first failure does (the bounty, the refund and the step of
//!   the executor's test in the settlement's epoch, whose ledger the round holds until its
//!   end). The validator: drawn by the hash rule on the second seed and **not** on the
//!   sample seed (`validates_second`), so never one that could have answered first. A
//!   doubled sample is answered once more, once.
//! - **Not a duty**: a second answer is paid work, not a duty; a validator drawn second
//!   that answers nothing is not shown missed, and a second answer marks nothing for the
//!   period (a first validator that answered none of its samples is still shown missed).
//! - **Ended at the pruning**: what the round did not pay goes back to the executor's
//!   pending work, and the settlement's epoch is released.

use crate::{
	Config, Error, Event, FailedSamples, Pallet, SampleBits, SecondRound, SecondRounds,
	SettlementRecordOf,
};
use gonka_primitives::{
	channel::{
		doubled_residue, most_doubled, second_seed, validates_second, SettlementId, SECOND_EVERY,
	},
	HostId, H256,
};
use polkadot_sdk::{
	frame_support::{defensive, pallet_prelude::*},
	frame_system::{self, pallet_prelude::BlockNumberFor},
	sp_runtime::traits::{One, Saturating},
};

impl<T: Config> Pallet<T> {
	/// What each answer to a settlement of `samples` samples pays of its validators'
	/// `share`: `share / (samples + ⌈samples / 10⌉)`, so the share covers the second
	/// answers too.
	pub fn answer_pay(share: u128, samples: u32) -> u128 {
		let answers = samples.saturating_add(most_doubled(samples));
		share.checked_div(u128::from(answers)).unwrap_or(0)
	}

	/// The second seed of a settlement included in block `at`: from the hash of the last
	/// block of its verdict window (known from the window's close on).
	pub fn second_seed_of(id: SettlementId, at: BlockNumberFor<T>) -> H256 {
		let last = Self::closes_at(at).saturating_sub(One::one());
		let block = frame_system::Pallet::<T>::block_hash(last);
		let genesis = pallet_poc::Pallet::<T>::genesis_hash();
		second_seed(&genesis, &H256::from_slice(block.as_ref()), id)
	}

	/// Draws settlement `id`'s second round as its window closes, with `rest` of its share
	/// unpaid: the samples of the second seed's residue not failed in the window
	/// (`FailedSamples`, taken) are doubled, and their pay is held. Returns what the round
	/// holds, `None` when it doubles nothing (no round is kept).
	pub(crate) fn draw_second_round(
		id: SettlementId,
		record: &SettlementRecordOf<T>,
		rest: u128,
	) -> Option<u128> {
		let failed: SampleBits = if record.fails > 0 {
			// A settlement with failures recorded before `FailedSamples` existed (spec
			// version 20) gets no round: which of its samples are disputed is not known.
			match FailedSamples::<T>::take(id) {
				Some(failed) => failed,
				None => return None,
			}
		} else {
			Default::default()
		};
		let Some(seed) = Self::seed_of(id, record) else {
			defensive!("a closing settlement's block is sealed");
			return None;
		};
		let samples = Self::tree_samples(record, &seed).saturating_add(record.tail);
		let second = Self::second_seed_of(id, record.at);
		let mut round = SecondRound {
			executor: record.executor.clone(),
			epoch: record.epoch,
			seed: second,
			pay: Self::answer_pay(record.share, samples),
			held: 0,
			paid: 0,
			doubled: Default::default(),
			answered: Default::default(),
		};
		let mut doubled = 0u32;
		let mut sample = doubled_residue(&second);
		while sample < samples {
			if !crate::bit_is_set(&failed, sample)
				&& crate::set_bit(&mut round.doubled, sample / SECOND_EVERY)
			{
				doubled = doubled.saturating_add(1);
			}
			sample = sample.saturating_add(SECOND_EVERY);
		}
		round.held = round.pay.saturating_mul(u128::from(doubled)).min(rest);
		if doubled == 0 {
			return None;
		}
		let held = round.held;
		SecondRounds::<T>::insert(id, round);
		Self::deposit_event(Event::SecondRoundDrawn { settlement: id, doubled, held });
		Some(held)
	}

	/// Whether `validator` (of `power` in the settlement's snapshot) may give `sample` of
	/// settlement `record` (sample seed `seed`) its second answer in `round`: the round
	/// doubles it, the hash rule draws the validator on the second seed and not on the
	/// first; `Ok(false)` if it was answered already.
	pub(crate) fn check_second(
		record: &SettlementRecordOf<T>,
		round: &SecondRound<HostId>,
		seed: &H256,
		sample: u32,
		validator: &HostId,
		power: u128,
	) -> Result<bool, Error<T>> {
		ensure!(round.doubles(sample), Error::<T>::NotDoubled);
		ensure!(
			validates_second(
				seed,
				&round.seed,
				sample,
				validator,
				&record.executor,
				power,
				record.total_power,
				record.executor_power,
			),
			Error::<T>::NotSampled
		);
		Ok(!round.is_answered(sample))
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

	/// Ends settlement `id`'s second round, if it has one, as the settlement is pruned:
	/// what its answers were not paid goes back to the executor's pending work, and the
	/// settlement's epoch is released.
	pub(crate) fn end_second_round(id: SettlementId) {
		let Some(round) = SecondRounds::<T>::take(id) else {
			return;
		};
		Self::note_closed(round.epoch);
		let returned = Self::return_share(&round.executor, round.held.saturating_sub(round.paid));
		let answers = round.answered.iter().map(|bits| bits.count_ones()).sum();
		Self::deposit_event(Event::SecondRoundEnded { settlement: id, answers, returned });
	}
}
