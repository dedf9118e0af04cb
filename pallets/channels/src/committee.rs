//! The committee (`docs/channels.md`): slot `i` of a channel opened in block `b_o` is drawn
//! in a later block (the next one with room), in proportion to PoC weight on the channel's
//! model, with the draw `gonka_primitives::channel::committee_draw(r, channel, i)`, `r` the
//! runtime's randomness in that block (on the dev chain the hash of its parent, `b_o` or
//! later), which the developer could not know when it signed `open_channel`. A host may
//! hold several slots. A slot is drawn once and never again: whether its host still stands
//! (`pallet_poc::Pallet::stands_in`: it did not leave, nor leave and register again, since
//! the roster's PoC) is asked when it is paid, so a draw reads roster chunks only, never a
//! host's records. Each committee member that stands is paid at most its allowance, its
//! share of the slots of the deposit (`allowance`); the share of a slot whose host does not
//! stand goes back to the developer when the channel is finalized. A channel whose model
//! has no executor is refunded at once.

use crate::{ChannelOf, Channels, CommitteeOf, Committees, Config, Event, Pallet, ToFinalize};
use gonka_primitives::{
	channel::{self, ChannelId},
	HostId,
};
use polkadot_sdk::frame_support::traits::Randomness;

/// The subject of the randomness the committee draw asks the runtime for.
pub const COMMITTEE_SUBJECT: &[u8] = b"gonka/channel/committee";

impl<T: Config> Pallet<T> {
	/// Draws `channel`'s committee from the runtime's randomness. A channel nobody can
	/// serve is finalized at once. Returns the channel's slots (0: no such channel) and
	/// whether it was finalized.
	pub(crate) fn draw_committee(channel: ChannelId) -> (u8, bool) {
		let Some(mut info) = Channels::<T>::get(channel) else { return (0, false) };
		let (opening, _) = T::Randomness::random(COMMITTEE_SUBJECT);
		let model = info.terms.model;
		let committee: alloc::vec::Vec<HostId> = (0..u32::from(info.terms.committee))
			.map_while(|slot| {
				pallet_poc::Pallet::<T>::pick_executor(
					model,
					&channel::committee_draw(&opening, channel, slot),
				)
			})
			.collect();
		Self::deposit_event(Event::CommitteeDrawn { channel, committee: committee.clone() });
		if committee.is_empty() {
			// Nobody has weight on the model.
			ToFinalize::<T>::mutate(info.finalizes, |queue| queue.retain(|id| *id != channel));
			Self::finalize(channel);
			return (info.terms.committee, true);
		}
		let slots = info.terms.committee;
		info.roster_epoch = pallet_poc::RosterEpoch::<T>::get(model).unwrap_or(0);
		Channels::<T>::insert(channel, info);
		// At most `committee` ≤ 64 slots.
		Committees::<T>::insert(channel, CommitteeOf::truncate_from(committee));
		(slots, false)
	}

	/// Whether `host`, a member of `info`'s committee, stands: registered, and registered
	/// before the epoch whose PoC formed the roster the committee was drawn from. One that
	/// does not is never paid.
	pub fn stands(info: &ChannelOf<T>, host: &HostId) -> bool {
		pallet_poc::Pallet::<T>::stands_in(host, info.roster_epoch)
	}

	/// The slots `host` holds in `channel`'s committee (0 before it is drawn).
	pub fn slots_of(channel: ChannelId, host: &HostId) -> u32 {
		Committees::<T>::get(channel)
			.map_or(0, |committee| committee.iter().filter(|member| *member == host).count()) as u32
	}

	/// The share of `info`'s deposit that `slots` of its committee's slots stand for,
	/// rounded down: a member's allowance if it stands.
	pub(crate) fn share(info: &ChannelOf<T>, slots: u32) -> u128 {
		channel::allowance(slots, info.deposited, info.terms.committee)
	}

	/// The most `host` may be paid from `channel`: its share of the committee's slots of the
	/// deposit, rounded down (zero if it holds no slot, does not stand, or the committee is
	/// not drawn yet).
	pub fn allowance(channel: ChannelId, host: &HostId) -> u128 {
		let Some(info) = Channels::<T>::get(channel) else { return 0 };
		let slots = Self::slots_of(channel, host);
		if slots == 0 || !Self::stands(&info, host) {
			return 0;
		}
		Self::share(&info, slots)
	}

	/// The least deposit of a channel of `committee` slots whose requests use at most
	/// `max_request_tokens`, at `price`: one largest request for every slot (`None` if it
	/// overflows).
	pub fn min_deposit(committee: u8, max_request_tokens: u32, price: u128) -> Option<u128> {
		u128::from(committee).checked_mul(u128::from(max_request_tokens))?.checked_mul(price)
	}
}
