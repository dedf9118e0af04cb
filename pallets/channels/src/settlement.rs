//! Settlements (`docs/channels.md`, step 4): a committee member that stands settles a
//! channel with the developer's latest voucher to it (signed by the channel key, naming
//! the channel and the member) and the receipts after the voucher's count claimed as tail,
//! each with the request the channel key signed (bound to the channel and the member,
//! numbered on from the voucher's count, and answering its request
//! at the channel's price: `gonka_primitives::channel::check_receipt`). Settlements are
//! cumulative: each must cover more receipts than the member's earlier ones, with a voucher
//! at least as far as its last, and pays what its total (the voucher's amount and the tail
//! receipts' costs) adds to what the member was paid, within its allowance, from the
//! channel's escrow into the member's pending work (`pallet_inference::WorkLedger`), which
//! the epoch's ledger settles. A member's first settlement is prepaid by the channel's fee;
//! each later one pays `SettleFee` (to `FeeTo`) from what it is paid, and one that pays no
//! more than its fee is refused. A settlement is accepted from the
//! committee's draw until the channel is finalized. Tail claims are above the voucher's
//! last (nonce, try) and increasing: an executor numbers its receipts in that order, so a
//! receipt vouchered once can never be claimed again as tail.
//!
//! Each `check_*` is what the chain's state must allow, run by the call's
//! `#[pallet::authorize]` rule and again at dispatch.

use crate::{
	ChannelOf, Channels, Config, Error, Event, HoldReason, Pallet, Settled, SettledInfo, TailCharge,
};
use gonka_primitives::{
	channel::{check_receipt, ChannelId, ChannelMessage, ChannelSettle},
	HostId,
};
use pallet_inference::WorkLedger;
use pallet_poc::validity::{duty_validity_at, error_code};
use polkadot_sdk::{
	frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::MutateHold,
			tokens::{Fortitude, Precision, Restriction},
		},
	},
	sp_core::sr25519,
};

/// What a settlement that passes its checks does.
pub(crate) struct Checked<T: Config> {
	/// The channel.
	pub info: ChannelOf<T>,
	/// The member's settlements so far.
	pub before: SettledInfo,
	/// What it takes from the escrow now, its fee and tail fee included.
	pub amount: u128,
	/// Its fee (none for a member's first settlement, prepaid when the channel opened).
	pub fee: u128,
	/// Its tail fee: the validators' share once more of the cost of the tail receipts
	/// claimed for the first time, taken first of what it takes beyond its fee.
	pub tail_fee: u128,
	/// What its samples are drawn from.
	pub new: crate::sampling::NewSettlement,
}

impl<T: Config> Pallet<T> {
	/// What `host` settled of `channel` so far (`None`: nothing).
	pub fn settled(channel: ChannelId, host: &HostId) -> Option<SettledInfo> {
		Settled::<T>::get(channel)
			.into_iter()
			.find_map(|(member, settled)| (member == *host).then_some(settled))
	}

	/// The amount of `host`'s latest settled voucher of `channel` (0: none).
	pub fn vouchered_amount(channel: ChannelId, host: &HostId) -> u128 {
		crate::VoucheredAmounts::<T>::get(channel)
			.into_iter()
			.find_map(|(member, amount)| (member == *host).then_some(amount))
			.unwrap_or(0)
	}

	/// Checks `executor`'s settlement `settle` against the chain's state; with
	/// `signatures`, the channel key's signatures too (the `authorize` rule runs them in
	/// the pool and again in the block, right before dispatch, which therefore skips them).
	pub(crate) fn check_settle(
		executor: &HostId,
		settle: &ChannelSettle,
		signatures: bool,
	) -> Result<Checked<T>, Error<T>> {
		let info = Channels::<T>::get(settle.channel).ok_or(Error::<T>::UnknownChannel)?;
		let mask = Self::slot_mask(settle.channel, executor);
		let slots = mask.count_ones();
		ensure!(slots > 0, Error::<T>::NotInCommittee);
		ensure!(crate::Waived::<T>::get(settle.channel) & mask == 0, Error::<T>::Waived);
		ensure!(Self::stands(&info, executor), Error::<T>::NotStanding);
		let before = Self::settled(settle.channel, executor).unwrap_or_default();
		let receipts = settle.receipts().ok_or(Error::<T>::Overflow)?;
		ensure!(receipts > before.receipts, Error::<T>::NothingNew);
		Self::check_voucher(executor, settle, &before, &info, signatures)?;
		let total = Self::check_tail(executor, settle, &info, signatures)?;
		// Amendment 10: each tail receipt costs its developer the validators' share once
		// more, charged on what the settlement's total adds beyond the member's earlier
		// tails and its own voucher (`TailCharge`), and counted in the member's allowance
		// with the rest (the allowances sum to the deposit: a fee beyond them would
		// overdraw the escrow).
		let charge = Self::tail_charge(settle.channel, executor);
		let new_tail = total.saturating_sub(charge.claimed.max(settle.vouchered_amount()));
		let tail_fee = T::Work::validator_share().mul_ceil(new_tail);
		let owed = total.saturating_add(charge.fees).saturating_add(tail_fee);
		let amount = owed.min(Self::share(&info, slots)).saturating_sub(before.paid);
		// A member's first settlement was prepaid when the channel opened; each later one
		// pays its fee from what it is paid. None may pay nothing (or only its fee): free
		// duty transactions would be spam.
		let fee = if before.settlements == 0 { 0 } else { T::SettleFee::get() };
		ensure!(amount > fee, Error::<T>::PaysTooLittle);
		// At its allowance, the tail fee is taken first: the member is paid less.
		let tail_fee = tail_fee.min(amount.saturating_sub(fee));
		let new = Self::check_samples(
			executor,
			settle,
			(before.vouchered, Self::vouchered_amount(settle.channel, executor)),
			(amount.saturating_sub(fee), tail_fee, new_tail),
			info.price,
		)?;
		Ok(Checked { info, before, amount, fee, tail_fee, new })
	}

	/// What `host`'s tail claims of `channel` were charged so far.
	pub fn tail_charge(channel: ChannelId, host: &HostId) -> TailCharge {
		crate::TailFees::<T>::get(channel)
			.into_iter()
			.find_map(|(member, charge)| (member == *host).then_some(charge))
			.unwrap_or_default()
	}

	/// The settlement's voucher, if any: the channel's and the member's, at least as far
	/// as the member's last, signed by the channel key (`signatures`); none only if the
	/// member never settled one.
	fn check_voucher(
		executor: &HostId,
		settle: &ChannelSettle,
		before: &SettledInfo,
		info: &ChannelOf<T>,
		signatures: bool,
	) -> Result<(), Error<T>> {
		let Some(signed) = &settle.voucher else {
			ensure!(before.vouchered == 0, Error::<T>::VoucherBehind);
			return Ok(());
		};
		let voucher = &signed.voucher;
		ensure!(
			voucher.channel == settle.channel && voucher.executor == *executor,
			Error::<T>::VoucherNotForExecutor
		);
		ensure!(voucher.count >= before.vouchered, Error::<T>::VoucherBehind);
		let genesis = pallet_poc::Pallet::<T>::genesis_hash();
		ensure!(
			!signatures || voucher.verify(&genesis, &info.terms.channel_key, &signed.signature),
			Error::<T>::BadVoucherSignature
		);
		Ok(())
	}

	/// The settlement's tail claims: each the channel's and the member's, in increasing
	/// (nonce, try) order above the voucher's last and numbered on from its count, within
	/// `max_request_tokens`, its receipt answering it at the channel's terms; the channel
	/// key's signatures (`signatures`) last. Returns the voucher's amount and the tail's
	/// costs.
	fn check_tail(
		executor: &HostId,
		settle: &ChannelSettle,
		info: &ChannelOf<T>,
		signatures: bool,
	) -> Result<u128, Error<T>> {
		let genesis = pallet_poc::Pallet::<T>::genesis_hash();
		// The cheap checks of every claim first, the signatures last.
		let first = settle.vouchered();
		let mut above = settle.floor();
		let mut total = settle.vouchered_amount();
		for (index, claim) in settle.tail.iter().enumerate() {
			let request = &claim.request;
			ensure!(
				request.channel == settle.channel && request.executor == *executor,
				Error::<T>::TailNotForExecutor
			);
			let order = (request.nonce, request.attempt);
			let seq = first.checked_add(index as u32).ok_or(Error::<T>::Overflow)?;
			ensure!(
				above.is_none_or(|below| below < order) && claim.receipt.seq == seq,
				Error::<T>::TailOutOfOrder
			);
			above = Some(order);
			let tokens = u64::from(request.prompt_bytes)
				.saturating_add(u64::from(info.template_overhead))
				.saturating_add(u64::from(request.max_tokens));
			ensure!(
				tokens <= u64::from(info.terms.max_request_tokens),
				Error::<T>::RequestTooLarge
			);
			check_receipt(&genesis, request, &claim.receipt, info.price, info.template_overhead)
				.map_err(|_| Error::<T>::BadReceipt)?;
			total = total.checked_add(claim.receipt.cost).ok_or(Error::<T>::Overflow)?;
		}
		if signatures {
			let key = &info.terms.channel_key;
			for claim in &settle.tail {
				ensure!(
					claim.request.verify(&genesis, key, &claim.request_signature),
					Error::<T>::BadRequestSignature
				);
			}
		}
		Ok(total)
	}

	/// The `authorize` rule of [`Pallet::settle`]: the member's worker key signed the
	/// settlement for this chain (checked first: it is one signature, the rest up to 17),
	/// and it passes its checks. One transaction per member and settlement
	/// (`provides`), valid until the channel is finalized.
	pub(crate) fn authorize_settle(
		_source: TransactionSource,
		executor: &HostId,
		settle: &ChannelSettle,
		signature: &sr25519::Signature,
	) -> TransactionValidityWithRefund {
		crate::tick_impls::verify_duty::<T, _>(executor, settle, signature)?;
		let checked = Self::check_settle(executor, settle, true).map_err(|error| match error {
			Error::<T>::UnknownChannel | Error::<T>::NothingNew | Error::<T>::Waived => {
				InvalidTransaction::Stale
			}
			// The block is full of settlements: the next block takes it.
			Error::<T>::TooManySettlements => InvalidTransaction::ExhaustsResources,
			other => InvalidTransaction::Custom(error_code(other)),
		})?;
		// Below the other duties' priority: a settlement has the settle window at least
		// (`MIN_SETTLE_WINDOW` blocks; half an hour by default), a PoC commitment or a
		// request's result a few blocks.
		duty_validity_at::<T>(
			<T as pallet_poc::Config>::DutyPriority::get() / 2,
			"GonkaChannelSettle",
			(settle.channel, executor, checked.before.settlements),
			checked.info.finalizes,
		)
	}

	/// `settle`: pays the member what its settlement adds, within its allowance, less its
	/// fee (to `FeeTo`; none for its first settlement).
	pub(crate) fn do_settle(executor: HostId, settle: ChannelSettle) -> DispatchResult {
		let Checked { mut info, before, amount, fee, tail_fee, new } =
			Self::check_settle(&executor, &settle, false)?;
		let escrow = <T as Config>::RuntimeHoldReason::from(HoldReason::ChannelEscrow);
		// The validators' share and the tail fee to the pot, the rest to the member.
		let (id, share) = Self::record_settlement(
			(settle.channel, info.terms.model),
			&info.developer,
			&executor,
			&settle,
			new,
			(amount.saturating_sub(fee), tail_fee),
		)?;
		Self::note_tail(&executor, &settle, tail_fee)?;
		let credited = amount.saturating_sub(fee).saturating_sub(share);
		// All from the escrow: the member's own balance plays no part.
		for (to, part) in [(T::FeeTo::get(), fee), (executor.clone(), credited)] {
			if part > 0 {
				<T as Config>::Currency::transfer_on_hold(
					&escrow,
					&info.developer,
					&to,
					part,
					Precision::Exact,
					Restriction::Free,
					Fortitude::Force,
				)?;
			}
		}
		T::Work::credit_work(&executor, credited)?;
		let after = SettledInfo {
			receipts: settle.receipts().ok_or(Error::<T>::Overflow)?,
			vouchered: settle.vouchered(),
			paid: before.paid.saturating_add(amount),
			settlements: before.settlements.saturating_add(1),
		};
		Self::note_settled(&executor, &settle, after)?;
		info.settled = info.settled.saturating_add(amount);
		Channels::<T>::insert(settle.channel, info);
		Self::deposit_event(Event::ChannelSettled {
			settlement: id,
			channel: settle.channel,
			executor,
			receipts: after.receipts,
			tail: settle.tail.len() as u32,
			root: settle.voucher.as_ref().map(|signed| signed.voucher.root),
			amount: credited,
			fee,
			tail_fee,
			paid: after.paid,
		});
		Ok(())
	}

	/// Notes what member `executor`'s settlement with a tail claimed (its total) and was
	/// charged (`tail_fee`). A settlement without a tail changes nothing: its voucher's
	/// amount is all its total, and a later one's voucher is at least as far.
	fn note_tail(executor: &HostId, settle: &ChannelSettle, tail_fee: u128) -> DispatchResult {
		if settle.tail.is_empty() {
			return Ok(());
		}
		let total = settle.tail.iter().fold(settle.vouchered_amount(), |total, claim| {
			total.saturating_add(claim.receipt.cost)
		});
		crate::TailFees::<T>::try_mutate(settle.channel, |charges| {
			let charge = member_entry::<T, _>(charges, executor)?;
			charge.claimed = charge.claimed.max(total);
			charge.fees = charge.fees.saturating_add(tail_fee);
			Ok::<_, Error<T>>(())
		})?;
		Ok(())
	}

	/// Notes what member `executor` settled of the channel (`after`, its total) and the
	/// amount of its latest voucher.
	fn note_settled(
		executor: &HostId,
		settle: &ChannelSettle,
		after: SettledInfo,
	) -> DispatchResult {
		crate::VoucheredAmounts::<T>::try_mutate(settle.channel, |amounts| {
			let amount = settle.vouchered_amount();
			// A member without a voucher keeps no entry.
			if amount > 0 || amounts.iter().any(|(member, _)| member == executor) {
				*member_entry::<T, _>(amounts, executor)? = amount;
			}
			Ok::<_, Error<T>>(())
		})?;
		Settled::<T>::try_mutate(settle.channel, |members| {
			*member_entry::<T, _>(members, executor)? = after;
			Ok::<_, Error<T>>(())
		})?;
		Ok(())
	}
}

/// `member`'s entry in a channel's list of one entry a committee member, pushed with the
/// default value if it has none (only committee members settle: at most
/// `MAX_COMMITTEE_SLOTS`, the lists' bound; `Overflow` past it).
fn member_entry<'a, T: Config, V: Default>(
	list: &'a mut BoundedVec<(HostId, V), ConstU32<{ crate::MAX_COMMITTEE_SLOTS }>>,
	member: &HostId,
) -> Result<&'a mut V, Error<T>> {
	let index = match list.iter().position(|(kept, _)| kept == member) {
		Some(index) => index,
		None => {
			list.try_push((member.clone(), V::default())).map_err(|_| Error::<T>::Overflow)?;
			list.len().saturating_sub(1)
		}
	};
	list.get_mut(index).map(|(_, value)| value).ok_or(Error::<T>::Overflow)
}
