//! The calls' rules: opening a channel, topping it up, closing it early.

use crate::{
	ChannelInfo, ChannelKeys, ChannelPricing, ChannelStatus, Channels, Config, DrawSlots, Error,
	Event, HoldReason, NextChannelId, Pallet, Params, QueueOf, ToDraw, ToFinalize,
	MAX_COMMITTEE_SLOTS, SCHEDULE_SEARCH,
};
use gonka_primitives::{
	channel::{verify_channel_key, ChannelId, ChannelTerms},
	HostId,
};
use polkadot_sdk::{
	frame_support::{
		pallet_prelude::*,
		storage::StorageMap,
		traits::{
			fungible::{Mutate, MutateHold},
			tokens::Preservation,
		},
	},
	frame_system::{self, pallet_prelude::BlockNumberFor},
	sp_core::sr25519,
	sp_runtime::traits::{One, Saturating, Zero},
};

impl<T: Config> Pallet<T> {
	/// `open_channel`: checks the terms (a committee of 1 to 64 slots, a duration of 1 to
	/// `Params::max_channel_blocks` blocks, an approved model whose price is at most the cap, a
	/// request size above the model's template overhead, a channel key the caller proves it
	/// holds and no live channel uses) and the deposit (at least one request of
	/// `max_request_tokens` at the price for every slot), queues the committee's draw for
	/// the first block from the next one with room and the finalization for the first block
	/// from the end of the settle window with room, pays the open fee and holds the deposit.
	pub(crate) fn do_open(
		developer: HostId,
		terms: ChannelTerms<BlockNumberFor<T>>,
		key_proof: sr25519::Signature,
		deposit: u128,
	) -> DispatchResult {
		let (params, price, overhead) = Self::check_terms(&developer, &terms, &key_proof, deposit)?;
		let now = frame_system::Pallet::<T>::block_number();
		let ends = now.saturating_add(terms.duration);
		let channel = NextChannelId::<T>::get();
		NextChannelId::<T>::put(channel.checked_add(1).ok_or(Error::<T>::Overflow)?);
		Self::schedule_draw(now.saturating_add(One::one()), channel, terms.committee)?;
		let finalizes =
			Self::schedule::<ToFinalize<T>>(ends.saturating_add(params.settle_window), channel)?;
		<T as Config>::Currency::transfer(
			&developer,
			&T::FeeTo::get(),
			Self::fee_of(params.open_fee, terms.committee),
			Preservation::Preserve,
		)
		.map_err(|_| Error::<T>::InsufficientBalance)?;
		<T as Config>::Currency::hold(
			&<T as Config>::RuntimeHoldReason::from(HoldReason::ChannelEscrow),
			&developer,
			deposit,
		)
		.map_err(|_| Error::<T>::InsufficientBalance)?;
		Self::deposit_event(Event::ChannelOpened {
			channel,
			developer: developer.clone(),
			model: terms.model,
			price,
			deposit,
			ends,
		});
		ChannelKeys::<T>::insert(terms.channel_key, channel);
		Channels::<T>::insert(
			channel,
			ChannelInfo {
				developer,
				terms,
				opened: now,
				ends,
				finalizes,
				price,
				deposited: deposit,
				status: ChannelStatus::Open,
				template_overhead: overhead,
				settled: 0,
				roster_epoch: 0,
			},
		);
		Ok(())
	}

	/// Checks a channel's terms and deposit (see [`Self::do_open`]); returns the rules in
	/// force, the model's price and its template overhead.
	fn check_terms(
		developer: &HostId,
		terms: &ChannelTerms<BlockNumberFor<T>>,
		key_proof: &sr25519::Signature,
		deposit: u128,
	) -> Result<(crate::ParamsOf<T>, u128, u32), DispatchError> {
		ensure!(
			terms.committee > 0 && u32::from(terms.committee) <= MAX_COMMITTEE_SLOTS,
			Error::<T>::BadCommittee
		);
		let params = Params::<T>::get();
		// The configuration's ceiling too, should an upgrade lower it below the rules.
		ensure!(
			!terms.duration.is_zero()
				&& terms.duration <= params.max_channel_blocks.min(T::MaxChannelBlocks::get()),
			Error::<T>::BadDuration
		);
		let price = T::Pricing::price(terms.model).ok_or(Error::<T>::UnknownModel)?;
		let overhead =
			T::Pricing::template_overhead(terms.model).ok_or(Error::<T>::UnknownModel)?;
		ensure!(price <= terms.price_cap, Error::<T>::PriceAboveCap);
		// A request is a prompt of a byte at least, the template and a token at least.
		ensure!(
			terms.max_request_tokens > overhead.saturating_add(1),
			Error::<T>::BadRequestTokens
		);
		ensure!(
			verify_channel_key(
				&pallet_poc::Pallet::<T>::genesis_hash(),
				developer,
				&terms.channel_key,
				key_proof
			),
			Error::<T>::BadKeyProof
		);
		ensure!(!ChannelKeys::<T>::contains_key(terms.channel_key), Error::<T>::ChannelKeyInUse);
		let least = Self::min_deposit(terms.committee, terms.max_request_tokens, price)
			.ok_or(Error::<T>::Overflow)?;
		ensure!(deposit >= least, Error::<T>::DepositTooSmall);
		Ok((params, price, overhead))
	}

	/// What opening a channel of `committee` slots costs, whatever happens to it: the open
	/// fee, and the fee of each member's first settlement, prepaid (spec section 9).
	pub fn channel_fee(committee: u8) -> u128 {
		Self::fee_of(Params::<T>::get().open_fee, committee)
	}

	/// The channel fee of `committee` slots at an open fee of `open_fee`.
	fn fee_of(open_fee: u128, committee: u8) -> u128 {
		T::SettleFee::get().saturating_mul(u128::from(committee)).saturating_add(open_fee)
	}

	/// Whether governance may set `params`: a longest channel of 1 to `MaxChannelBlocks`
	/// blocks, a settle window of `MIN_SETTLE_WINDOW` to `MAX_SETTLE_WINDOW` blocks.
	pub fn params_allowed(params: &crate::ParamsOf<T>) -> bool {
		!params.max_channel_blocks.is_zero()
			&& params.max_channel_blocks <= T::MaxChannelBlocks::get()
			&& params.settle_window >= crate::MIN_SETTLE_WINDOW.into()
			&& params.settle_window <= crate::MAX_SETTLE_WINDOW.into()
	}

	/// `set_params`: stores the rules if allowed; emits `ParamsSet`.
	pub(crate) fn do_set_params(params: crate::ParamsOf<T>) -> DispatchResult {
		ensure!(Self::params_allowed(&params), Error::<T>::BadParams);
		Params::<T>::put(params);
		Self::deposit_event(Event::ParamsSet { params });
		Ok(())
	}

	/// Queues `channel` in `Queue` at the first block from `from` with room (at most
	/// `MaxOpensPerBlock` channels, and `room` holds), looking `SCHEDULE_SEARCH` blocks
	/// ahead: a full block delays a channel, it does not refuse it. Returns the block.
	fn schedule_in<Queue>(
		from: BlockNumberFor<T>,
		channel: ChannelId,
		room: impl Fn(BlockNumberFor<T>) -> bool,
	) -> Result<BlockNumberFor<T>, DispatchError>
	where
		Queue: StorageMap<BlockNumberFor<T>, QueueOf, Query = QueueOf>,
	{
		let most = T::MaxOpensPerBlock::get() as usize;
		let mut block = from;
		for _ in 0..SCHEDULE_SEARCH {
			let mut queue = Queue::get(block);
			if queue.len() < most && room(block) && queue.try_push(channel).is_ok() {
				Queue::insert(block, queue);
				return Ok(block);
			}
			block = block.saturating_add(One::one());
		}
		Err(Error::<T>::TooManyChannels.into())
	}

	/// Queues `channel` for finalization at the first block from `from` with room.
	fn schedule<Queue>(
		from: BlockNumberFor<T>,
		channel: ChannelId,
	) -> Result<BlockNumberFor<T>, DispatchError>
	where
		Queue: StorageMap<BlockNumberFor<T>, QueueOf, Query = QueueOf>,
	{
		Self::schedule_in::<Queue>(from, channel, |_| true)
	}

	/// Queues the draw of `channel`'s `slots` at the first block from `from` with room: at
	/// most `MaxOpensPerBlock` channels and `MaxDrawSlotsPerBlock` slots a block.
	fn schedule_draw(from: BlockNumberFor<T>, channel: ChannelId, slots: u8) -> DispatchResult {
		let slots = u32::from(slots);
		let most = T::MaxDrawSlotsPerBlock::get();
		let block = Self::schedule_in::<ToDraw<T>>(from, channel, |block| {
			DrawSlots::<T>::get(block).saturating_add(slots) <= most
		})?;
		DrawSlots::<T>::mutate(block, |queued| *queued = queued.saturating_add(slots));
		Ok(())
	}

	/// `top_up`: the channel's developer holds `amount` more for it, before its end.
	pub(crate) fn do_top_up(developer: HostId, channel: ChannelId, amount: u128) -> DispatchResult {
		let mut info = Self::developers_open_channel(&developer, channel)?;
		info.deposited = info.deposited.checked_add(amount).ok_or(Error::<T>::Overflow)?;
		<T as Config>::Currency::hold(
			&<T as Config>::RuntimeHoldReason::from(HoldReason::ChannelEscrow),
			&developer,
			amount,
		)
		.map_err(|_| Error::<T>::InsufficientBalance)?;
		Self::deposit_event(Event::ChannelToppedUp { channel, amount, deposited: info.deposited });
		Channels::<T>::insert(channel, info);
		Ok(())
	}

	/// `close_channel`: the channel's developer ends it now.
	pub(crate) fn do_close(developer: HostId, channel: ChannelId) -> DispatchResult {
		let mut info = Self::developers_open_channel(&developer, channel)?;
		info.ends = frame_system::Pallet::<T>::block_number();
		info.status = ChannelStatus::Closed;
		Self::deposit_event(Event::ChannelClosed { channel, ends: info.ends });
		Channels::<T>::insert(channel, info);
		Ok(())
	}

	/// `developer`'s channel `channel`, before its end.
	fn developers_open_channel(
		developer: &HostId,
		channel: ChannelId,
	) -> Result<crate::ChannelOf<T>, DispatchError> {
		let info = Channels::<T>::get(channel).ok_or(Error::<T>::UnknownChannel)?;
		ensure!(info.developer == *developer, Error::<T>::NotDeveloper);
		ensure!(frame_system::Pallet::<T>::block_number() < info.ends, Error::<T>::ChannelEnded);
		Ok(info)
	}
}
