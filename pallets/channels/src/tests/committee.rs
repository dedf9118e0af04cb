//! The committee draw and the allowances.

use super::*;
use crate::Event;
use polkadot_sdk::frame_support::assert_ok;

/// The committee is drawn in the block after the opening, from the opening block's hash,
/// which the developer could not know when it signed: it is what the primitives compute
/// from that hash and the PoC weights.
#[test]
fn the_committee_is_drawn_in_the_next_block_from_the_opening_blocks_hash() {
	ExtBuilder::default().hosts(&[1, 2, 3, 4]).build_and_execute(|| {
		run_to_block(4);
		let channel = open(20, terms(8), 800);
		assert!(crate::Committees::<Test>::get(channel).is_none(), "not in the opening block");
		run_to_block(5);
		let committee = crate::Committees::<Test>::get(channel).unwrap().to_vec();
		assert_eq!(committee, expected_committee(&[1, 2, 3, 4], channel, 4, 8));
		assert!(channel_events()
			.contains(&Event::CommitteeDrawn { channel, committee: committee.clone() }));
		// Another opening block, another committee.
		let other = open(20, terms(8), 800);
		run_to_block(6);
		assert_eq!(
			crate::Committees::<Test>::get(other).unwrap().to_vec(),
			expected_committee(&[1, 2, 3, 4], other, 5, 8)
		);
	});
}

/// A slot is drawn once, from the roster: a slot on a host that left, or that left and
/// registered again since the roster's PoC, stays with it but pays it nothing (its
/// allowance is zero, and its share goes back at finalize); the others' allowances are
/// their own shares, whatever happened to the rest.
#[test]
fn a_slot_on_a_host_that_does_not_stand_pays_it_nothing() {
	ExtBuilder::default().hosts(&[1, 2, 3, 4]).build_and_execute(|| {
		assert_ok!(Poc::leave(RuntimeOrigin::signed(account(2))));
		assert_ok!(Poc::leave(RuntimeOrigin::signed(account(3))));
		assert_ok!(Poc::register_host(
			RuntimeOrigin::signed(account(3)),
			worker(3).public(),
			gonka_primitives::duty::prove_key_ownership(
				&Poc::genesis_hash(),
				&account(3),
				&worker(3)
			),
			b"http://10.0.0.3:8080".to_vec(),
			vec![1, 2],
		));
		let channel = open(20, terms(32), 3_200);
		run_to_block(2);
		let committee = crate::Committees::<Test>::get(channel).unwrap();
		assert_eq!(committee.len(), 32, "every slot drawn once");
		let slots = |who: u8| committee.iter().filter(|host| **host == account(who)).count();
		for gone in [2, 3] {
			assert!(slots(gone) > 0, "the draw does not look at who left");
			assert_eq!(
				Channels::allowance(channel, &account(gone)),
				0,
				"host {gone} is paid nothing"
			);
		}
		for stays in [1, 4] {
			assert_eq!(
				Channels::allowance(channel, &account(stays)),
				gonka_primitives::channel::allowance(slots(stays) as u32, 3_200, 32),
				"host {stays} keeps its share"
			);
		}
	});
}

/// A channel whose model has no executor roster gets no committee and is refunded at once.
#[test]
fn a_channel_nobody_can_serve_is_refunded_at_once() {
	ExtBuilder::default().hosts(&[]).build_and_execute(|| {
		let channel = open(20, terms(2), 2_000);
		run_to_block(2);
		assert!(crate::Channels::<Test>::get(channel).is_none());
		assert_eq!(held(20), 0);
		assert!(channel_events().contains(&Event::ChannelFinalized { channel, refund: 2_000 }));
		assert!(crate::ToFinalize::<Test>::iter().all(|(_, queue)| !queue.contains(&channel)));
	});
}

/// Steering is capped by money: each member's allowance is its share of the slots of the
/// deposit, top-ups included, and the allowances never sum above the deposit.
#[test]
fn allowances_are_the_slot_shares_of_the_deposit() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let channel = open(20, terms(8), 801);
		assert_eq!(Channels::allowance(channel, &account(1)), 0, "no committee yet");
		run_to_block(2);
		let committee = crate::Committees::<Test>::get(channel).unwrap();
		let allowances: Vec<u128> =
			[1u8, 2, 3].iter().map(|i| Channels::allowance(channel, &account(*i))).collect();
		for (i, allowance) in [1u8, 2, 3].iter().zip(&allowances) {
			let slots = committee.iter().filter(|host| **host == account(*i)).count() as u128;
			assert_eq!(*allowance, slots * 801 / 8);
		}
		assert!(allowances.iter().sum::<u128>() <= 801);
		assert_ok!(Channels::top_up(RuntimeOrigin::signed(account(20)), channel, 799));
		let slots = committee.iter().filter(|host| **host == account(1)).count() as u128;
		assert_eq!(Channels::allowance(channel, &account(1)), slots * 1_600 / 8);
		assert_eq!(Channels::allowance(channel, &account(9)), 0, "not a member");
	});
}
