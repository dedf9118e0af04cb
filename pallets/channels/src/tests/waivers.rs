//! Early finalization (amendment 15): members waive an ended channel; once every member
//! has, it is finalized at once.

use super::{
	settlement::{drawn, paid, refused, settle, settlement, voucher, RECEIPT_COST},
	*,
};
use crate::{Error, Event};
use gonka_primitives::{channel::ChannelWaiver, duty::Duty, HostId};
use polkadot_sdk::{
	frame_support::assert_ok, sp_runtime::transaction_validity::InvalidTransaction,
};

/// The distinct members of `channel`'s committee, by host index (1–3), in slot order.
fn members(channel: u64) -> Vec<u8> {
	let committee = crate::Committees::<Test>::get(channel).unwrap();
	let mut members: Vec<u8> = Vec::new();
	for host in committee.iter() {
		let index = (1..=3).find(|i| account(*i) == *host).unwrap();
		if !members.contains(&index) {
			members.push(index);
		}
	}
	members
}

/// Host `i`'s waiver of `channel` as the chain would accept it now.
fn waiver(channel: u64, i: u8) -> ChannelWaiver {
	ChannelWaiver {
		channel,
		channel_key: key(channel).public(),
		receipts: Channels::settled(channel, &account(i)).map_or(0, |settled| settled.receipts),
	}
}

/// Host `i` sends `waiver`, signed by its worker key, through the pool and dispatch.
fn waive_with(i: u8, waiver: ChannelWaiver) -> Result<(), Refused> {
	let signature = waiver.sign(&Poc::genesis_hash(), &account(i), &worker(i));
	run_duty(crate::Call::waive_channel { member: account(i), waiver, signature })
}

fn waive(channel: u64, i: u8) -> Result<(), Refused> {
	waive_with(i, waiver(channel, i))
}

fn finalized(channel: u64) -> Vec<u128> {
	channel_events()
		.into_iter()
		.filter_map(|event| match event {
			Event::ChannelFinalized { channel: c, refund } if c == channel => Some(refund),
			_ => None,
		})
		.collect()
}

#[test]
fn a_channel_every_member_waived_is_finalized_at_once_and_its_escrow_refunded() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		// Four slots over three hosts: some member holds two, and waives both at once.
		let (channel, member) = drawn(4, 4_000);
		let members = members(channel);
		assert!(members.len() < 4, "a member holds several slots");
		assert_ok!(settle(member, settlement(channel, Some(voucher(channel, member, 3)), vec![])));
		assert_ok!(Channels::close_channel(RuntimeOrigin::signed(account(20)), channel));
		run_to_block(3);
		let finalizes = crate::Channels::<Test>::get(channel).unwrap().finalizes;
		let (last, rest) = members.split_last().unwrap();
		for i in rest {
			assert_ok!(waive(channel, *i));
			assert!(
				channel_events().contains(&Event::ChannelWaived { channel, member: account(*i) })
			);
			assert!(crate::Channels::<Test>::contains_key(channel), "not every member yet");
		}
		assert_eq!(held(20), 4_000 - 3 * RECEIPT_COST);
		assert_ok!(waive(channel, *last));
		// Finalized in that call, long before its settle window ends.
		assert!(3 < finalizes);
		assert_eq!(finalized(channel), vec![4_000 - 3 * RECEIPT_COST]);
		assert_eq!(held(20), 0);
		assert!(!crate::Channels::<Test>::contains_key(channel));
		assert!(!crate::Waived::<Test>::contains_key(channel), "removed with the channel");
		assert!(!crate::ToFinalize::<Test>::get(finalizes).contains(&channel));
		// Its planned finalization finds nothing to do.
		run_to_block(finalizes);
		assert_eq!(finalized(channel).len(), 1);
		// Its key is free again.
		let reused = ChannelTerms { channel_key: key(channel).public(), ..terms(1) };
		assert_ok!(Channels::open_channel(
			RuntimeOrigin::signed(account(20)),
			reused,
			proof(20, channel),
			100
		));
	});
}

#[test]
fn a_member_waives_only_an_ended_channel_it_serves_once_naming_its_settlement() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (channel, member) = drawn(2, 2_000);
		assert_ok!(settle(member, settlement(channel, Some(voucher(channel, member, 2)), vec![])));
		// Before its end: the pool keeps it for later.
		assert_eq!(waive(channel, member), Err(Refused::Pool(InvalidTransaction::Future.into())));
		let ends = crate::Channels::<Test>::get(channel).unwrap().ends;
		run_to_block(ends);
		// A host with no slot.
		let outsider = (1..=3).find(|i| Channels::slot_mask(channel, &account(*i)) == 0);
		if let Some(outsider) = outsider {
			assert_eq!(waive(channel, outsider), Err(refused(Error::NotInCommittee)));
		}
		// A waiver for another channel of the same id (another key, as on another fork),
		// or for another settlement than the member's.
		let mut other = waiver(channel, member);
		other.channel_key = key(channel + 1).public();
		assert_eq!(waive_with(member, other), Err(refused(Error::WaiverOutdated)));
		let mut behind = waiver(channel, member);
		behind.receipts = 1;
		assert_eq!(waive_with(member, behind), Err(refused(Error::WaiverOutdated)));
		// Signed after a settlement not included yet: the pool keeps it for later.
		let mut ahead = waiver(channel, member);
		ahead.receipts = 3;
		assert_eq!(
			waive_with(member, ahead),
			Err(Refused::Pool(InvalidTransaction::Future.into()))
		);
		// Signed by another key.
		let signature =
			waiver(channel, member).sign(&Poc::genesis_hash(), &account(member), &worker(20));
		assert_eq!(
			run_duty(crate::Call::waive_channel {
				member: account(member),
				waiver: waiver(channel, member),
				signature
			}),
			Err(Refused::Pool(InvalidTransaction::BadProof.into()))
		);
		assert_ok!(waive(channel, member));
		// Once.
		assert_eq!(waive(channel, member), Err(Refused::Pool(InvalidTransaction::Stale.into())));
		assert_eq!(
			dispatch_duty(crate::Call::waive_channel {
				member: account(member),
				waiver: waiver(channel, member),
				signature: waiver(channel, member).sign(
					&Poc::genesis_hash(),
					&account(member),
					&worker(member)
				),
			}),
			Err(Refused::Call(Error::<Test>::Waived.into()))
		);
	});
}

/// Two slots held by two hosts: channels opened until one's committee has two members.
fn two_member_channel() -> (u64, Vec<u8>) {
	loop {
		let channel = open(20, terms(2), 1_000);
		run_to_block(System::block_number() + 1);
		let members = members(channel);
		if members.len() == 2 {
			return (channel, members);
		}
		assert!(channel < 5, "a committee of two hosts is drawn");
	}
}

#[test]
fn a_waived_member_settles_no_more() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (channel, members) = two_member_channel();
		let member = members[0];
		assert_ok!(settle(member, settlement(channel, Some(voucher(channel, member, 2)), vec![])));
		let ends = crate::Channels::<Test>::get(channel).unwrap().ends;
		run_to_block(ends);
		assert_ok!(waive(channel, member));
		let later = settlement(channel, Some(voucher(channel, member, 3)), vec![]);
		assert_eq!(
			settle(member, later.clone()),
			Err(Refused::Pool(InvalidTransaction::Stale.into()))
		);
		let signature = later.sign(&Poc::genesis_hash(), &account(member), &worker(member));
		assert_eq!(
			dispatch_duty(crate::Call::settle {
				executor: account(member),
				settle: later,
				signature
			}),
			Err(Refused::Call(Error::<Test>::Waived.into()))
		);
		assert_eq!(paid(channel, member), 2 * RECEIPT_COST);
	});
}

#[test]
fn a_member_that_never_waives_leaves_the_channel_to_its_planned_finalization() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (channel, members) = two_member_channel();
		let (waiving, silent): (HostId, u8) = (account(members[0]), members[1]);
		assert_ok!(settle(silent, settlement(channel, Some(voucher(channel, silent, 2)), vec![])));
		let info = crate::Channels::<Test>::get(channel).unwrap();
		run_to_block(info.ends);
		assert_ok!(waive(channel, members[0]));
		assert!(channel_events().contains(&Event::ChannelWaived { channel, member: waiving }));
		run_to_block(info.finalizes - 1);
		assert!(crate::Channels::<Test>::contains_key(channel));
		run_to_block(info.finalizes);
		// What the silent member did not settle of its allowance comes back too.
		assert_eq!(finalized(channel), vec![1_000 - 2 * RECEIPT_COST]);
	});
}
