//! What runs every block (`on_initialize`): the committees of the channels opened in the
//! block before are drawn, the verdict windows and the juries' windows that ended are
//! closed (`sampling.rs`, `disputes.rs`), the closed settlements whose report period ended
//! are pruned and the marks of its period cleared (`misses.rs`), and the channels whose
//! settle window ends are
//! finalized (the rest of their escrow refunded). At most `MaxOpensPerBlock` of each (`open_channel`
//! refuses more), so the work per block is bounded.

use crate::{
	Channels, Committees, Config, DefaultParams, DrawSlots, Event, HoldReason, Pallet, ToDraw,
	ToFinalize, WeightInfo, MAX_COMMITTEE_SLOTS, MAX_QUEUE,
};
use gonka_primitives::channel::ChannelId;
use polkadot_sdk::{
	frame_support::{
		defensive,
		traits::{fungible::MutateHold, tokens::Precision},
		weights::Weight,
	},
	frame_system::pallet_prelude::BlockNumberFor,
	sp_runtime::{
		traits::{Get, Zero},
		SaturatedConversion,
	},
};

impl<T: Config> Pallet<T> {
	/// `on_initialize` at block `now`; returns the weight used.
	pub(crate) fn tick(now: BlockNumberFor<T>) -> Weight {
		let mut weight = <T as Config>::WeightInfo::on_initialize_idle();
		DrawSlots::<T>::remove(now);
		for channel in ToDraw::<T>::take(now) {
			let (slots, finalized) = Self::draw_committee(channel);
			// Its benchmark: every slot on a roster chunk of its own, the committee stored;
			// a channel nobody serves is finalized at once (its finalization is then taken
			// from the block it was queued in, which `open_channel` prepaid).
			weight = weight.saturating_add(<T as Config>::WeightInfo::draw_committee(slots.into()));
			if finalized {
				weight = weight.saturating_add(<T as Config>::WeightInfo::finalize_channel());
			}
		}
		weight = weight.saturating_add(Self::close_windows(now));
		weight = weight.saturating_add(Self::prune_settlements(now));
		weight = weight.saturating_add(Self::clear_marks(now));
		weight = weight.saturating_add(Self::end_disputes(now));
		for channel in ToFinalize::<T>::take(now) {
			Self::finalize(channel);
			weight = weight.saturating_add(<T as Config>::WeightInfo::finalize_channel());
		}
		weight
	}

	/// `integrity_test`: the configuration keeps the hooks bounded and the hashes that seed
	/// the samples and the juries known while they are needed.
	pub(crate) fn check_configuration() {
		let most = T::MaxOpensPerBlock::get();
		assert!(most > 0 && most <= MAX_QUEUE, "MaxOpensPerBlock is within 1..=MAX_QUEUE");
		assert!(
			T::MaxDrawSlotsPerBlock::get() >= MAX_COMMITTEE_SLOTS,
			"a block draws the largest committee"
		);
		let period = T::VerdictPeriod::get();
		assert!(!period.is_zero(), "a verdict period lasts a block at least");
		assert!(
			polkadot_sdk::sp_runtime::traits::Saturating::saturating_mul(period, 3u32.into())
				<= <T as polkadot_sdk::frame_system::Config>::BlockHashCount::get(),
			// Closes and prunes take as many settlements a block as a block records, so a
			// settlement is pruned within three periods of its block, and its window's last
			// block (its second seed) is younger still.
			"a settlement's seeds are known until its record is pruned"
		);
		let period_blocks: u64 = period.saturated_into();
		assert!(
			u64::from(crate::MARK_CLEARS).saturating_mul(period_blocks)
				>= u64::from(<T as pallet_poc::Config>::MaxHosts::get()),
			"a period's marks (and its pays) are cleared within a period"
		);
		assert!(T::MaxMissReportsPerBlock::get() > 0, "a block takes a report of misses");
		assert!(T::MaxClosesPerBlock::get() > 0, "a block closes a verdict window");
		assert!(
			Self::params_allowed(&DefaultParams::<T>::get()),
			"the configuration's rules are rules governance may set"
		);
		let jury = T::JuryWindow::get();
		assert!(!jury.is_zero(), "a jury votes for a block at least");
		assert!(
			jury < <T as polkadot_sdk::frame_system::Config>::BlockHashCount::get(),
			"a dispute's seed is known until its jury's window ends"
		);
		assert!(
			jury < polkadot_sdk::sp_runtime::traits::Saturating::saturating_mul(
				period,
				crate::PAYS_KEPT.into()
			),
			// A second failure opens by its settlement's pruning (three periods after its
			// period's start); its passes are shown until its jury ends, while the period's
			// pays are kept (five periods: `forfeits.rs`).
			"a period's pays are kept until the disputes of its second rounds end"
		);
		assert!(
			polkadot_sdk::sp_runtime::traits::Saturating::saturating_add(
				polkadot_sdk::sp_runtime::traits::Saturating::saturating_mul(period, 2u32.into()),
				jury
			) < <T as polkadot_sdk::frame_system::Config>::BlockHashCount::get(),
			// A shown batch's anchor (from its period's last block on) is checked until the
			// jury ends.
			"a verdict batch's anchor is known until the disputes of its period end"
		);
		assert!(T::MaxDisputesPerBlock::get() > 0, "a block opens a dispute");
		let unavailable = T::UnavailableWindow::get();
		assert!(
			unavailable >= jury
				&& unavailable < <T as polkadot_sdk::frame_system::Config>::BlockHashCount::get(),
			"an unavailable payload's jury votes at least as long as another's, while its \
			 seed is known"
		);
	}

	/// Finalizes `channel` (at the end of its settle window, or once every member waived
	/// it): its committee, its members' settlements, tail fees and waivers and its record
	/// removed,
	/// the rest of its escrow (what was not settled) refunded to its developer
	/// (`ChannelFinalized`).
	pub(crate) fn finalize(channel: ChannelId) {
		let Some(info) = Channels::<T>::take(channel) else { return };
		Committees::<T>::remove(channel);
		crate::Settled::<T>::remove(channel);
		crate::VoucheredAmounts::<T>::remove(channel);
		crate::TailFees::<T>::remove(channel);
		crate::Waived::<T>::remove(channel);
		crate::ChannelKeys::<T>::remove(info.terms.channel_key);
		let refund = <T as Config>::Currency::release(
			&<T as Config>::RuntimeHoldReason::from(HoldReason::ChannelEscrow),
			&info.developer,
			info.deposited.saturating_sub(info.settled),
			Precision::BestEffort,
		)
		.unwrap_or_else(|_| {
			defensive!("a channel's deposit is held for its developer");
			0
		});
		Self::deposit_event(Event::ChannelFinalized { channel, refund });
	}
}

/// Walks the records of ids `next..end` (settlements, disputes: kept in id order, which is
/// the order they end), at most `most` of them, each charged `each`: `visit(id)` ends the
/// record if it is due and says so; the walk stops at the first one that is not. Returns
/// the first id not ended and the weight used.
pub(crate) fn sweep(
	mut next: u64,
	end: u64,
	most: u32,
	each: Weight,
	mut visit: impl FnMut(u64) -> bool,
) -> (u64, Weight) {
	let mut weight = Weight::zero();
	let mut looked = 0u32;
	while next < end && looked < most {
		// Each record looked at is charged, the one not due included.
		weight = weight.saturating_add(each);
		if !visit(next) {
			break;
		}
		next = next.saturating_add(1);
		looked = looked.saturating_add(1);
	}
	(next, weight)
}

/// Counts one more in a block's counter `S` (the block, the count so far), which starts
/// again at one in a new block.
pub(crate) fn count_in_block<T: Config, S>()
where
	S: polkadot_sdk::frame_support::storage::StorageValue<
		(BlockNumberFor<T>, u32),
		Query = (BlockNumberFor<T>, u32),
	>,
{
	let now = polkadot_sdk::frame_system::Pallet::<T>::block_number();
	S::mutate(|(block, count)| {
		*count = if *block == now { count.saturating_add(1) } else { 1 };
		*block = now;
	});
}

/// Takes the next id of counter `S` (and counts it).
pub(crate) fn take_next<S>() -> u64
where
	S: polkadot_sdk::frame_support::storage::StorageValue<u64, Query = u64>,
{
	S::mutate(|next| {
		let id = *next;
		*next = next.saturating_add(1);
		id
	})
}

/// Whether `host`'s worker key signed `duty` for this chain: the first check of every duty
/// transaction's `authorize` rule (`BadSigner` for a host not registered, `BadProof` for
/// another signature).
pub(crate) fn verify_duty<T: Config, D: gonka_primitives::duty::Duty>(
	host: &gonka_primitives::HostId,
	duty: &D,
	signature: &polkadot_sdk::sp_core::sr25519::Signature,
) -> Result<(), polkadot_sdk::sp_runtime::transaction_validity::TransactionValidityError> {
	use polkadot_sdk::sp_runtime::transaction_validity::InvalidTransaction;
	let key = pallet_poc::Hosts::<T>::get(host)
		.map(|host| host.worker_key)
		.ok_or(InvalidTransaction::BadSigner)?;
	if !duty.verify(&pallet_poc::Pallet::<T>::genesis_hash(), host, &key, signature) {
		return Err(InvalidTransaction::BadProof.into());
	}
	Ok(())
}
