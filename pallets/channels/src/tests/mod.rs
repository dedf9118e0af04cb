//! The pallet's tests, one file per concern; every test ends with `do_try_state`.

use crate::mock::*;
use gonka_primitives::{channel::ChannelTerms, inference::pick_weighted};
use polkadot_sdk::{sp_core::sr25519, sp_core::Pair};

mod challenges;
mod committee;
mod disputes;
mod forfeits;
mod lifecycle;
mod migrations;
mod misses;
mod seconds;
mod settlement;
mod verdicts;
mod waivers;

/// Developer `20`'s terms: model 1 (price 10, template overhead 1), a cap of 10,
/// `committee` slots, 20 blocks, requests of at most 10 tokens (so at least
/// `committee × 100` deposited).
fn terms(committee: u8) -> ChannelTerms<u64> {
	ChannelTerms {
		model: 1,
		channel_key: key(UNUSED).public(),
		price_cap: 10,
		committee,
		duration: 20,
		max_request_tokens: 10,
	}
}

/// Opens a channel for developer `who`, with a channel key of its own; returns its id.
fn open(who: u8, terms: ChannelTerms<u64>, deposit: u128) -> u64 {
	let id = crate::NextChannelId::<Test>::get();
	let terms = ChannelTerms { channel_key: key(id).public(), ..terms };
	polkadot_sdk::frame_support::assert_ok!(Channels::open_channel(
		RuntimeOrigin::signed(account(who)),
		terms,
		proof(who, id),
		deposit
	));
	id
}

/// A channel id no test reaches: its key is the one `terms` names.
const UNUSED: u64 = 9_999;

/// The channel key the tests give channel `id`.
fn key(id: u64) -> sr25519::Pair {
	sr25519::Pair::from_string(&format!("//channel{id}"), None).unwrap()
}

/// Channel `id`'s key's proof that developer `who` holds it.
fn proof(who: u8, id: u64) -> sr25519::Signature {
	gonka_primitives::channel::prove_channel_key(&Poc::genesis_hash(), &account(who), &key(id))
}

/// The escrow held for developer `who`.
fn held(who: u8) -> u128 {
	use polkadot_sdk::frame_support::traits::fungible::InspectHold as _;
	Balances::balance_on_hold(
		&RuntimeHoldReason::Channels(crate::HoldReason::ChannelEscrow),
		&account(who),
	)
}

/// The committee a channel opened at block `opened` on model 1 gets, computed from the
/// primitives (all rostered hosts standing): `pick_weighted` over equal weights.
fn expected_committee(
	hosts: &[u8],
	channel: u64,
	opened: u64,
	slots: u8,
) -> Vec<gonka_primitives::HostId> {
	let mut sorted: Vec<_> = hosts.iter().map(|i| account(*i)).collect();
	sorted.sort();
	let cumulative: Vec<u128> = (1..=sorted.len() as u128).collect();
	(0..u32::from(slots))
		.map(|slot| {
			let draw =
				gonka_primitives::channel::committee_draw(&block_hash(opened), channel, slot);
			sorted[pick_weighted(&cumulative, &draw).unwrap()].clone()
		})
		.collect()
}
