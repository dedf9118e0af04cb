//! The committee (`docs/channels.md`): slot `i` of a channel opened in block `b_o` is drawn
//! in a later block (the next one with room), in proportion to PoC weight on the channel's
//! model, with the draw `gonka_primitives::channel::committee_draw(r, channel, i)`, `r` the
//! runtime's randomness in that block (on the dev chain the hash of its parent, `b_o` or
//! later), which the developer could not know when it signed `open_channel`; a draw that lands on an entry that does
//! not stand (`pallet_poc::Pallet::stands`: its host left, or left and registered again)
//! is drawn again by hashing it, at most `MAX_DRAWS` times. A host may hold several slots.
//! Each committee member is paid at most its allowance, its share of the slots of the
//! deposit (`allowance`). A channel whose model has no executor is refunded at once.

use crate::{Channels, CommitteeOf, Committees, Config, Event, Pallet, ToFinalize};
use gonka_primitives::{
	channel::{self, ChannelId},
	HostId,
};
use polkadot_sdk::frame_support::traits::Randomness;

/// How many times a slot is drawn before it stays empty.
pub const MAX_DRAWS: u32 = 8;
/// The subject of the randomness the committee draw asks the runtime for.
pub const COMMITTEE_SUBJECT: &[u8] = b"gonka/channel/committee";

impl<T: Config> Pallet<T> {
	/// Draws `channel`'s committee from the runtime's randomness. A channel nobody can
	/// serve is finalized at once. Returns the channel's slots (0: no such channel).
	pub(crate) fn draw_committee(channel: ChannelId) -> u8 {
		let Some(info) = Channels::<T>::get(channel) else { return 0 };
		let (opening, _) = T::Randomness::random(COMMITTEE_SUBJECT);
		let mut committee = CommitteeOf::new();
		'slots: for slot in 0..u32::from(info.terms.committee) {
			let mut draw = channel::committee_draw(&opening, channel, slot);
			for _ in 0..MAX_DRAWS {
				let Some(host) = pallet_poc::Pallet::<T>::pick_executor(info.terms.model, &draw)
				else {
					// Nobody has weight on the model.
					break 'slots;
				};
				if pallet_poc::Pallet::<T>::stands(&host, info.terms.model) {
					// At most `committee` ≤ 64 slots: always room.
					let _ = committee.try_push(host);
					break;
				}
				draw = gonka_primitives::hash(&draw);
			}
		}
		Self::deposit_event(Event::CommitteeDrawn { channel, committee: committee.to_vec() });
		if committee.is_empty() {
			ToFinalize::<T>::mutate(info.finalizes, |queue| queue.retain(|id| *id != channel));
			Self::finalize(channel);
		} else {
			Committees::<T>::insert(channel, committee);
		}
		info.terms.committee
	}

	/// The most `host` may be paid from `channel`: its share of the committee's slots of the
	/// deposit, rounded down (zero if it holds no slot or the committee is not drawn yet).
	pub fn allowance(channel: ChannelId, host: &HostId) -> u128 {
		let Some(info) = Channels::<T>::get(channel) else { return 0 };
		let slots = Committees::<T>::get(channel)
			.map_or(0, |committee| committee.iter().filter(|member| *member == host).count());
		channel::allowance(slots as u32, info.deposited, info.terms.committee)
	}
}
