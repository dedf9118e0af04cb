//! The pallet's invariants (`do_try_state`), checked after every block of every test and by
//! `try-runtime`.

use crate::{
	ChannelOf, ChannelStatus, Channels, Committees, Config, DisputeRecordOf, DrawSlots, HoldReason,
	NextChannelId, Pallet, Params, Settled, ToDraw, ToFinalize,
};
use alloc::{collections::BTreeMap, vec::Vec};
use gonka_primitives::{
	channel::{ChannelId, DisputeId, FailReason},
	EpochIndex, HostId,
};
use polkadot_sdk::{
	frame_support::{
		ensure,
		traits::{fungible::InspectHold, Get},
	},
	frame_system::{self, pallet_prelude::BlockNumberFor},
	sp_runtime::{Saturating, TryRuntimeError},
};

impl<T: Config> Pallet<T> {
	/// Checks every invariant of the pallet's storage, in this order:
	///
	/// - the channels' rules are rules governance may set;
	/// - channel ids are below the counter;
	/// - a channel pays at most its deposit;
	/// - a channel's settlement records hold one entry a member;
	/// - only committee members settle;
	/// - a member is paid at most its share of the deposit;
	/// - a member's voucher is within its receipts;
	/// - a channel's settled total is its members' pay;
	/// - a channel ends by its planned end, and an open channel at its planned end;
	/// - a channel is finalized after its planned end, and removed when it is;
	/// - a channel is queued once for its finalization;
	/// - a drawn committee has every slot of its channel; a channel without one waits for
	///   its draw, once;
	/// - a developer's escrow held is the sum of its channels' deposits less their pay;
	/// - a channel key signs for a live channel of that key, and every live channel's key
	///   is reserved;
	/// - settlement records of live channels only;
	/// - voucher amounts of members that settled live channels only, one a member;
	/// - tail charges of members that settled live channels only, one a member, its fees
	///   within what it claimed;
	/// - committees of live channels only;
	/// - draws are queued for blocks to come, of live channels only; a block's slots count
	///   its draws' and are at most `MaxDrawSlotsPerBlock`; slots are counted for queued
	///   draws only;
	/// - the close cursor is at most the settlement counter;
	/// - only settlements whose verdict window is open are kept (ids from the cursor to
	///   the counter), every one of them;
	/// - a settlement's validators are paid at most its share; its passes and fails are its
	///   answered samples; its tree samples fall in what its voucher adds;
	/// - a settlement's failed samples are answered samples of a kept settlement, at most
	///   its fails;
	/// - second rounds are of closed, kept settlements, of their executor, epoch, snapshot
	///   and prune block; a round holds what the window did not pay of the share and pays
	///   at most that;
	/// - the pot holds the open settlements' unpaid shares and the rounds' unpaid holds,
	///   exactly; receipts disputed (`Challenged`) in kept settlements only, each once;
	/// - the dispute cursor is at most the counter, the unavailable queue's at most its
	///   end; only disputes from the cursor (the unavailable payloads' from their queue's,
	///   queued in id order, each once, with its settlement's seed if opened since version
	///   2) are kept, until their jury's window ends; each juror votes once, never its
	///   executor, its reporter or its developer; a challenge (and nothing else) holds its
	///   fee of its developer, and a developer holds exactly its open challenges' fees; a
	///   receipt is challenged once in a kept settlement; contradictions of open
	///   mismatches' disputes only, each passer once, with pay; pays of the periods kept;
	/// - each epoch counts its open settlement records, second rounds and disputes (a
	///   dispute in its settlement's epoch and in its report's: `OpenInEpoch`);
	/// - the closed settlements are kept until their report period ends, each with its
	///   second round or (closed before spec version 20) indexed in `ToPrune` with its
	///   snapshot, one of the two, every kept one with at most one model; the marks
	///   are of periods from the marks' cursor to the one before now's, and a block took at
	///   most `MaxMissReportsPerBlock` reports;
	/// - finalizations are queued for blocks to come, of live channels only;
	/// - waivers are of ended live channels only, of their committee's slots, all of a
	///   member's slots or none, and never of every slot (the channel is finalized then).
	pub fn do_try_state() -> Result<(), TryRuntimeError> {
		ensure!(
			Self::params_allowed(&Params::<T>::get()),
			"the channels' rules are rules governance may set"
		);
		let now = frame_system::Pallet::<T>::block_number();
		Self::check_channels(now)?;
		Self::check_channel_maps(now)?;
		let mut open: BTreeMap<EpochIndex, u32> = BTreeMap::new();
		Self::check_settlements(&mut open)?;
		Self::check_kept(now)?;
		Self::check_disputes(now, &mut open)?;
		ensure!(
			crate::OpenInEpoch::<T>::iter().collect::<BTreeMap<_, _>>() == open,
			"each epoch counts its open settlement records and disputes, and no other"
		);
		Self::check_waivers(now)
	}

	/// The live channels, their members' pay, and the developers' escrow.
	fn check_channels(now: BlockNumberFor<T>) -> Result<(), TryRuntimeError> {
		let next = NextChannelId::<T>::get();
		let mut held: BTreeMap<HostId, u128> = BTreeMap::new();
		let drawing: Vec<_> = ToDraw::<T>::iter_values().flatten().collect();
		for (channel, info) in Channels::<T>::iter() {
			ensure!(channel < next, "channel ids are below the counter");
			ensure!(info.settled <= info.deposited, "a channel pays at most its deposit");
			let escrow = held.entry(info.developer.clone()).or_default();
			*escrow = escrow.saturating_add(info.deposited.saturating_sub(info.settled));
			Self::check_members(channel, &info)?;
			Self::check_schedule(channel, &info, now)?;
			match Committees::<T>::get(channel) {
				Some(committee) => ensure!(
					committee.len() == usize::from(info.terms.committee),
					"a committee has every slot of the channel"
				),
				None => ensure!(
					drawing.iter().filter(|id| **id == channel).count() == 1,
					"a channel without a committee waits for its draw, once"
				),
			}
		}
		for (developer, deposited) in held {
			ensure!(
				<T as Config>::Currency::balance_on_hold(
					&<T as Config>::RuntimeHoldReason::from(HoldReason::ChannelEscrow),
					&developer
				) == deposited,
				"a developer's escrow held is the sum of its channels' deposits less their pay"
			);
		}
		Ok(())
	}

	/// A live channel's members' settlements: one entry a member of its committee, each
	/// paid at most its share, summing to the channel's settled total.
	fn check_members(channel: ChannelId, info: &ChannelOf<T>) -> Result<(), TryRuntimeError> {
		let committee = Committees::<T>::get(channel).unwrap_or_default();
		let mut paid = 0u128;
		let members = Settled::<T>::get(channel);
		for (index, (member, settled)) in members.iter().enumerate() {
			ensure!(
				members.iter().skip(index + 1).all(|(other, _)| other != member),
				"one entry a member"
			);
			let slots = committee.iter().filter(|host| *host == member).count() as u32;
			ensure!(slots > 0, "only committee members settle");
			ensure!(
				settled.paid <= Self::share(info, slots),
				"a member is paid at most its share of the deposit"
			);
			ensure!(settled.vouchered <= settled.receipts, "a voucher is within the receipts");
			paid = paid.saturating_add(settled.paid);
		}
		ensure!(paid == info.settled, "a channel's settled total is its members' pay");
		Ok(())
	}

	/// A live channel's end and finalization: by its planned end, queued once.
	fn check_schedule(
		channel: ChannelId,
		info: &ChannelOf<T>,
		now: BlockNumberFor<T>,
	) -> Result<(), TryRuntimeError> {
		let planned = info.opened.saturating_add(info.terms.duration);
		ensure!(info.ends <= planned, "a channel ends by its planned end");
		ensure!(
			info.status == ChannelStatus::Closed || info.ends == planned,
			"an open channel ends at its planned end"
		);
		ensure!(info.finalizes >= planned, "a channel is finalized after its planned end");
		ensure!(info.finalizes > now, "a channel past its finalization is removed");
		ensure!(
			ToFinalize::<T>::get(info.finalizes).iter().filter(|id| **id == channel).count() == 1,
			"a channel is queued once for its finalization"
		);
		Ok(())
	}

	/// The maps kept beside the channels (keys, settlements, voucher amounts, committees)
	/// and the queues of draws and finalizations: of live channels only.
	fn check_channel_maps(now: BlockNumberFor<T>) -> Result<(), TryRuntimeError> {
		for (key, channel) in crate::ChannelKeys::<T>::iter() {
			ensure!(
				Channels::<T>::get(channel).is_some_and(|info| info.terms.channel_key == key),
				"a channel key signs for a live channel of that key"
			);
		}
		ensure!(
			crate::ChannelKeys::<T>::iter().count() == Channels::<T>::iter().count(),
			"every live channel's key is reserved"
		);
		for channel in Settled::<T>::iter_keys() {
			ensure!(Channels::<T>::contains_key(channel), "settlements of live channels only");
		}
		for (channel, amounts) in crate::VoucheredAmounts::<T>::iter() {
			let settled = Settled::<T>::get(channel);
			for (index, (member, _)) in amounts.iter().enumerate() {
				ensure!(
					settled.iter().any(|(settled, _)| settled == member),
					"voucher amounts of members that settled live channels only"
				);
				ensure!(
					amounts.iter().skip(index + 1).all(|(other, _)| other != member),
					"one voucher amount a member"
				);
			}
		}
		for (channel, charges) in crate::TailFees::<T>::iter() {
			let settled = Settled::<T>::get(channel);
			for (index, (member, charge)) in charges.iter().enumerate() {
				ensure!(
					settled.iter().any(|(settled, _)| settled == member),
					"tail charges of members that settled live channels only"
				);
				// Each fee is at most what its settlement's total added beyond the highest
				// before (`validator_share` ≤ 1, rounded up on whole units).
				ensure!(
					charge.fees <= charge.claimed,
					"a member's tail fees are within what it claimed"
				);
				ensure!(
					charges.iter().skip(index + 1).all(|(other, _)| other != member),
					"one tail charge a member"
				);
			}
		}
		for channel in Committees::<T>::iter_keys() {
			ensure!(Channels::<T>::contains_key(channel), "committees of live channels only");
		}
		Self::check_queues(now)
	}

	/// The draws and finalizations queued: for blocks to come, of live channels, a block's
	/// slots counted.
	fn check_queues(now: BlockNumberFor<T>) -> Result<(), TryRuntimeError> {
		for (block, queue) in ToDraw::<T>::iter() {
			ensure!(block > now, "draws are queued for blocks to come");
			let mut slots = 0u32;
			for channel in queue {
				let info = Channels::<T>::get(channel).ok_or("draws of live channels only")?;
				slots = slots.saturating_add(u32::from(info.terms.committee));
			}
			ensure!(DrawSlots::<T>::get(block) == slots, "a block's slots count its draws'");
			ensure!(slots <= T::MaxDrawSlotsPerBlock::get(), "a block draws at most its slots");
		}
		for (block, _) in DrawSlots::<T>::iter() {
			ensure!(ToDraw::<T>::contains_key(block), "slots are counted for queued draws only");
		}
		for (block, queue) in ToFinalize::<T>::iter() {
			ensure!(block > now, "finalizations are queued for blocks to come");
			for channel in queue {
				ensure!(
					Channels::<T>::contains_key(channel),
					"finalizations of live channels only"
				);
			}
		}
		Ok(())
	}

	/// The settlement records whose window is open (counted in `open` by epoch), the pot,
	/// and the receipts disputed in them.
	fn check_settlements(open: &mut BTreeMap<EpochIndex, u32>) -> Result<(), TryRuntimeError> {
		let (first, end) = (crate::NextToClose::<T>::get(), crate::NextSettlementId::<T>::get());
		ensure!(first <= end, "the close cursor is at most the settlement counter");
		let mut unpaid = 0u128;
		let mut records = 0u64;
		for (id, record) in crate::Settlements::<T>::iter() {
			ensure!(
				crate::NextToPrune::<T>::get() <= id && id < end,
				"only settlements not pruned yet are kept"
			);
			if id < first {
				// Closed, kept for its report period (`check_kept`).
				continue;
			}
			records = records.saturating_add(1);
			*open.entry(record.epoch).or_default() += 1;
			ensure!(record.validator_paid <= record.share, "validators are paid at most the share");
			let answered: u32 = record.answered.iter().map(|bits| bits.count_ones()).sum();
			ensure!(
				record.passes.saturating_add(record.fails) == answered,
				"a settlement's passes and fails are its answered samples"
			);
			ensure!(record.from <= record.to, "tree samples fall in what the voucher adds");
			unpaid = unpaid.saturating_add(record.share.saturating_sub(record.validator_paid));
		}
		ensure!(records == end.saturating_sub(first), "every open settlement is kept");
		let pruned = crate::NextToPrune::<T>::get();
		for (id, failed) in crate::FailedSamples::<T>::iter() {
			let record = crate::Settlements::<T>::get(id)
				.filter(|_| pruned <= id && id < end)
				.ok_or("failed samples of kept settlements only")?;
			let count: u32 = failed.iter().map(|bits| bits.count_ones()).sum();
			ensure!(
				count <= record.fails
					&& failed.iter().zip(record.answered.iter()).all(|(f, a)| f & !a == 0)
					&& failed.len() <= record.answered.len(),
				"a settlement's failed samples are answered, at most its fails"
			);
		}
		for (id, round) in crate::SecondRounds::<T>::iter() {
			ensure!(pruned <= id && id < first, "second rounds of closed, kept settlements only");
			let record =
				crate::Settlements::<T>::get(id).ok_or("a second round's settlement is kept")?;
			ensure!(
				round.executor == record.executor
					&& round.epoch == record.epoch
					&& round.snapshot == record.snapshot
					&& round.prunes_at == Self::prunes_at(record.at),
				"a second round is of its settlement's executor, epoch, snapshot and prune block"
			);
			ensure!(
				round.held == record.share.saturating_sub(record.validator_paid)
					&& round.paid <= round.held,
				"a second round holds what the window did not pay of the share, pays at most that"
			);
			*open.entry(round.epoch).or_default() += 1;
			unpaid = unpaid.saturating_add(round.held.saturating_sub(round.paid));
		}
		ensure!(
			<T as Config>::Currency::balance_on_hold(
				&<T as Config>::RuntimeHoldReason::from(HoldReason::ChannelEscrow),
				&Self::pot()
			) == unpaid,
			"the pot holds the open settlements' unpaid shares and the rounds' unpaid holds"
		);
		for (settlement, seqs) in crate::Challenged::<T>::iter() {
			ensure!(
				pruned <= settlement && settlement < end,
				"disputed receipts of kept settlements only"
			);
			for (index, seq) in seqs.iter().enumerate() {
				ensure!(
					!seqs.iter().skip(index + 1).any(|other| other == seq),
					"a receipt challenged once"
				);
			}
		}
		Ok(())
	}

	/// The closed settlements kept for their report period, their index and models, the
	/// periods' marks and the block's reports.
	fn check_kept(now: BlockNumberFor<T>) -> Result<(), TryRuntimeError> {
		let (pruned, closed, end) = (
			crate::NextToPrune::<T>::get(),
			crate::NextToClose::<T>::get(),
			crate::NextSettlementId::<T>::get(),
		);
		ensure!(pruned <= closed, "the prune cursor is at most the close cursor");
		for id in pruned..closed {
			let record = crate::Settlements::<T>::get(id).ok_or("a closed settlement is kept")?;
			// Closed since spec version 20: its round (`check_settlements`); before: its
			// index entry.
			match (crate::SecondRounds::<T>::contains_key(id), crate::ToPrune::<T>::get(id)) {
				(true, None) => {}
				(false, Some((at, snapshot))) => ensure!(
					at == Self::prunes_at(record.at) && snapshot == record.snapshot,
					"a closed settlement's index is its prune block and snapshot"
				),
				_ => return Err("a closed settlement has its round or its index entry, one".into()),
			}
		}
		ensure!(
			crate::ToPrune::<T>::iter_keys().all(|id| pruned <= id && id < closed),
			"only closed, kept settlements are indexed"
		);
		ensure!(
			crate::SettlementModels::<T>::iter_keys().all(|id| pruned <= id && id < end),
			"models of kept settlements only"
		);
		let marks_from = crate::NextMarksToClear::<T>::get();
		let period = Self::period_of(now);
		ensure!(
			crate::PeriodMarks::<T>::iter_keys()
				.all(|(marked, _)| marks_from <= marked && marked < period),
			"marks of the periods from the marks' cursor to the one before now's only"
		);
		for mark in crate::PeriodMarks::<T>::iter_values() {
			match mark {
				crate::PeriodMark::Reported(shown) => ensure!(
					!shown.is_empty() && shown.windows(2).all(|pair| pair[0] < pair[1]),
					"a validator's samples shown missed are some, in order, each once"
				),
				crate::PeriodMark::Answered(done) => ensure!(
					done <= gonka_primitives::channel::MAX_MISSES,
					"a period's answers count as at most MAX_MISSES duties done"
				),
			}
		}
		let (_, reports) = crate::BlockMissReports::<T>::get();
		ensure!(
			reports <= T::MaxMissReportsPerBlock::get(),
			"a block takes at most its reports of misses"
		);
		Ok(())
	}

	/// The long windows' queue from its cursor: in id order, places of disputes
	/// that opened. Returns each queued dispute's place.
	fn check_unavailable_queue(
		end: DisputeId,
	) -> Result<BTreeMap<DisputeId, u64>, TryRuntimeError> {
		let (queued, queue_end) =
			(crate::NextUnavailableToEnd::<T>::get(), crate::NextUnavailable::<T>::get());
		ensure!(queued <= queue_end, "the queue's cursor is at most its end");
		let mut in_queue = BTreeMap::new();
		let mut last = None;
		for place in queued..queue_end {
			// A refuted dispute's place stays until the cursor passes it.
			if let Some(id) = crate::UnavailableQueue::<T>::get(place) {
				ensure!(last < Some(id), "the long windows' disputes are queued in id order");
				ensure!(id < end, "the queue holds disputes that opened");
				last = Some(id);
				in_queue.insert(id, place);
			}
		}
		ensure!(
			crate::UnavailableQueue::<T>::iter_keys()
				.all(|place| queued <= place && place < queue_end),
			"only places from the queue's cursor are kept"
		);
		Ok(in_queue)
	}

	/// The open disputes (counted in `open` in their two epochs), the unavailable payloads'
	/// queue and seeds, and the challenges' fees.
	fn check_disputes(
		now: BlockNumberFor<T>,
		open: &mut BTreeMap<EpochIndex, u32>,
	) -> Result<(), TryRuntimeError> {
		let end = crate::NextDisputeId::<T>::get();
		let first = crate::NextDisputeToEnd::<T>::get();
		ensure!(first <= end, "the dispute cursor is at most the dispute counter");
		let mut in_queue = Self::check_unavailable_queue(end)?;
		let mut fees: BTreeMap<HostId, u128> = BTreeMap::new();
		for (id, record) in crate::Disputes::<T>::iter() {
			let long = record.reason.long_window();
			ensure!(
				(long || first <= id) && id < end,
				"only disputes whose jury may vote are kept"
			);
			ensure!(
				long == in_queue.remove(&id).is_some(),
				"the long windows' disputes are queued, and only they"
			);
			ensure!(
				now <= Self::jury_ends(record.at, record.reason),
				"a dispute is kept until its jury's window ends"
			);
			Self::check_dispute(id, &record, &mut fees)?;
			*open.entry(record.epoch).or_default() += 1;
			*open.entry(record.report_epoch).or_default() += 1;
		}
		ensure!(
			crate::UnavailableReports::<T>::iter_keys().all(crate::Disputes::<T>::contains_key),
			"unavailable reports of open disputes only"
		);
		ensure!(
			crate::ChallengeFees::<T>::iter_keys().all(crate::Disputes::<T>::contains_key),
			"challenge fees of open challenges only"
		);
		Self::check_contradictions()?;
		let fee_reason = <T as Config>::RuntimeHoldReason::from(HoldReason::ChallengeFee);
		for (developer, fee) in fees {
			ensure!(
				<T as Config>::Currency::balance_on_hold(&fee_reason, &developer) == fee,
				"a developer holds its open challenges' fees"
			);
		}
		Ok(())
	}

	/// One open dispute: its seed (an unavailable payload's, under version 2's rules), its
	/// fee (a challenge's, added to `fees` by developer), its voters.
	fn check_dispute(
		id: DisputeId,
		record: &DisputeRecordOf<T>,
		fees: &mut BTreeMap<HostId, u128>,
	) -> Result<(), TryRuntimeError> {
		let fee = crate::ChallengeFees::<T>::get(id);
		ensure!(
			fee.is_some() == (record.reason == FailReason::Challenged),
			"a challenge holds its fee, and only a challenge"
		);
		// An unavailable payload's dispute keeps its settlement's seed (but those opened
		// under storage version 1's rules, which have none).
		let v2 = id >= crate::V2DisputesFrom::<T>::get();
		ensure!(
			crate::UnavailableReports::<T>::contains_key(id)
				== (record.reason == FailReason::Unavailable && v2),
			"an unavailable payload's dispute keeps its settlement's seed, and only it"
		);
		if let Some(fee) = fee {
			ensure!(record.reporter == record.developer, "the developer challenges");
			let held = fees.entry(record.developer.clone()).or_default();
			*held = held.saturating_add(fee);
		}
		for (index, voter) in record.voters.iter().enumerate() {
			ensure!(
				*voter != record.executor
					&& *voter != record.reporter
					&& (*voter != record.developer || !v2),
				"the executor, the reporter and the developer never vote"
			);
			ensure!(
				record.voters.iter().skip(index + 1).all(|other| other != voter),
				"a juror votes once"
			);
		}
		Ok(())
	}

	/// The contradictions (`forfeits.rs`): of open mismatches' disputes only, each passer
	/// shown once, with pay to forfeit; and the pays, of the periods kept.
	fn check_contradictions() -> Result<(), TryRuntimeError> {
		for (id, contradiction) in crate::Contradictions::<T>::iter() {
			let record = crate::Disputes::<T>::get(id).ok_or("contradictions of open disputes")?;
			ensure!(
				record.reason == FailReason::Mismatch,
				"only a mismatch's dispute contradicts passes"
			);
			let passers = &contradiction.passers;
			for (index, passer) in passers.iter().enumerate() {
				ensure!(passer.forfeit > 0, "a passer shown has pay to forfeit");
				ensure!(passer.validator != record.executor, "an executor passes nothing");
				ensure!(
					passers.iter().skip(index + 1).all(|other| other.validator != passer.validator),
					"a passer is shown once"
				);
			}
		}
		let marks_from = crate::NextMarksToClear::<T>::get();
		ensure!(
			crate::PeriodPays::<T>::iter().all(|(period, _, pay)| {
				period.saturating_add(crate::PAYS_KEPT) >= marks_from
					&& (pay.paid > 0 || !pay.keys.is_empty())
					&& pay.forfeited <= pay.paid
			}),
			"pays of the periods kept only, each of some pay or a batch, forfeited at most whole"
		);
		Ok(())
	}

	/// The waivers: of ended live channels, of their committee's slots, all of a member's
	/// or none, never of every slot.
	fn check_waivers(now: BlockNumberFor<T>) -> Result<(), TryRuntimeError> {
		for (channel, waived) in crate::Waived::<T>::iter() {
			let info = Channels::<T>::get(channel).ok_or("waivers of live channels only")?;
			ensure!(info.ends <= now, "waivers of ended channels only");
			let committee = Committees::<T>::get(channel).ok_or("waivers of drawn committees")?;
			let slots = u32::try_from(committee.len()).unwrap_or(u32::MAX);
			let every = if slots >= 64 { u64::MAX } else { (1u64 << slots).saturating_sub(1) };
			ensure!(waived != 0 && waived & !every == 0, "waivers of the committee's slots");
			ensure!(waived != every, "a channel every member waived is finalized");
			for member in committee.iter() {
				let mask = Self::slot_mask(channel, member);
				ensure!(
					waived & mask == 0 || waived & mask == mask,
					"a member waives all its slots or none"
				);
			}
		}
		Ok(())
	}
}
