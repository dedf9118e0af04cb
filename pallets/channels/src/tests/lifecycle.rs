//! Opening, topping up, closing and finalizing a channel.

use super::*;
use crate::{ChannelStatus, Error, Event};
use polkadot_sdk::frame_support::{assert_noop, assert_ok, traits::fungible::Inspect as _};

#[test]
fn a_channel_opens_with_its_escrow_held_its_fee_paid_and_its_price_fixed() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let channel = open(20, terms(4), 5_000);
		assert_eq!(held(20), 5_000);
		// The open fee and the four members' first settlements' fees.
		let fee = OPEN_FEE + 4 * SETTLE_FEE;
		assert_eq!(Channels::channel_fee(4), fee);
		assert_eq!(Balances::balance(&account(20)), 10_000 - 5_000 - fee);
		assert_eq!(Balances::balance(&Pool::get()), fee);
		let info = crate::Channels::<Test>::get(channel).unwrap();
		assert_eq!(
			(info.price, info.opened, info.ends, info.finalizes),
			(10, 1, 21, 21 + SETTLE_WINDOW)
		);
		assert_eq!(info.status, ChannelStatus::Open);
		assert!(channel_events().contains(&Event::ChannelOpened {
			channel,
			developer: account(20),
			model: 1,
			price: 10,
			deposit: 5_000,
			ends: 21,
		}));
	});
}

#[test]
fn bad_terms_are_refused_and_nothing_held() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let refuse = |terms: ChannelTerms<u64>, deposit: u128, error: Error<Test>| {
			assert_noop!(
				Channels::open_channel(
					RuntimeOrigin::signed(account(20)),
					terms,
					proof(20, UNUSED),
					deposit
				),
				error
			);
		};
		refuse(terms(0), 5_000, Error::BadCommittee);
		refuse(terms(65), 100_000, Error::BadCommittee);
		refuse(ChannelTerms { duration: 0, ..terms(1) }, 5_000, Error::BadDuration);
		refuse(
			ChannelTerms { duration: MAX_CHANNEL_BLOCKS + 1, ..terms(1) },
			5_000,
			Error::BadDuration,
		);
		// A request is a prompt byte, the template's token and a completion token at least.
		refuse(ChannelTerms { max_request_tokens: 2, ..terms(1) }, 5_000, Error::BadRequestTokens);
		// A key the caller does not prove it holds, or proven for another developer.
		refuse(
			ChannelTerms { channel_key: key(1).public(), ..terms(1) },
			5_000,
			Error::BadKeyProof,
		);
		assert_noop!(
			Channels::open_channel(
				RuntimeOrigin::signed(account(21)),
				terms(1),
				proof(20, UNUSED),
				5_000
			),
			Error::<Test>::BadKeyProof
		);
		refuse(ChannelTerms { model: 3, ..terms(1) }, 5_000, Error::UnknownModel);
		refuse(ChannelTerms { price_cap: 9, ..terms(1) }, 5_000, Error::PriceAboveCap);
		// Four slots of one 10-token request at 10: 400 at least.
		refuse(terms(4), 399, Error::DepositTooSmall);
		refuse(terms(4), 10_000, Error::InsufficientBalance);
		refuse(
			ChannelTerms { max_request_tokens: u32::MAX, ..terms(64) },
			9_999,
			Error::DepositTooSmall,
		);
		assert_eq!(held(20), 0);
		assert_eq!(Balances::balance(&account(20)), 10_000);
		assert_eq!(crate::NextChannelId::<Test>::get(), 0);
	});
}

/// Review of step 2: a full queue refused every other developer's channel, so an attacker
/// filling it each block stopped everyone from opening one. A block with `MaxOpensPerBlock`
/// draws (or finalizations) delays a channel to the next block with room; only the next
/// `SCHEDULE_SEARCH` blocks all full refuse it.
#[test]
fn a_full_block_delays_a_channel_and_does_not_refuse_it() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		for _ in 0..MAX_OPENS {
			open(20, terms(1), 100);
		}
		let delayed = open(21, terms(1), 100);
		assert!(crate::ToDraw::<Test>::get(3).contains(&delayed));
		let info = crate::Channels::<Test>::get(delayed).unwrap();
		assert_eq!(info.finalizes, 21 + SETTLE_WINDOW + 1, "its finalization too");
		run_to_block(2);
		assert!(crate::Committees::<Test>::get(delayed).is_none());
		run_to_block(3);
		assert!(crate::Committees::<Test>::get(delayed).is_some());
		// Every one of the next `SCHEDULE_SEARCH` blocks full: refused.
		let room = MAX_OPENS * crate::SCHEDULE_SEARCH;
		let mut opened = 0;
		while opened < room {
			open(22, terms(1), 100);
			opened += 1;
		}
		let next = crate::NextChannelId::<Test>::get();
		assert_noop!(
			Channels::open_channel(
				RuntimeOrigin::signed(account(22)),
				ChannelTerms { channel_key: key(next).public(), ..terms(1) },
				proof(22, next),
				100
			),
			Error::<Test>::TooManyChannels
		);
		run_to_block(60);
	});
}

/// A block draws at most `MaxDrawSlotsPerBlock` slots: a large committee that finds a
/// block's slots taken waits for the next block, a small one still fits.
#[test]
fn a_block_draws_at_most_its_slots() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let first = open(20, terms(64), 6_400);
		let second = open(21, terms(64), 6_400);
		let small = open(22, terms(36), 3_600);
		assert_eq!(crate::DrawSlots::<Test>::get(2), 100);
		assert_eq!(crate::ToDraw::<Test>::get(2).to_vec(), vec![first, small]);
		assert_eq!(crate::ToDraw::<Test>::get(3).to_vec(), vec![second]);
		run_to_block(2);
		assert!(crate::Committees::<Test>::get(second).is_none());
		assert_eq!(crate::DrawSlots::<Test>::get(2), 0, "a block's count goes with its draws");
		run_to_block(3);
		assert_eq!(crate::Committees::<Test>::get(second).map(|c| c.len()), Some(64));
	});
}

#[test]
fn only_the_developer_tops_up_or_closes_and_only_before_the_end() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let channel = open(20, terms(2), 2_000);
		assert_noop!(
			Channels::top_up(RuntimeOrigin::signed(account(21)), channel, 100),
			Error::<Test>::NotDeveloper
		);
		assert_noop!(
			Channels::close_channel(RuntimeOrigin::signed(account(21)), channel),
			Error::<Test>::NotDeveloper
		);
		assert_noop!(
			Channels::top_up(RuntimeOrigin::signed(account(20)), 7, 100),
			Error::<Test>::UnknownChannel
		);
		assert_noop!(
			Channels::top_up(RuntimeOrigin::signed(account(20)), channel, 100_000),
			Error::<Test>::InsufficientBalance
		);
		assert_ok!(Channels::top_up(RuntimeOrigin::signed(account(20)), channel, 500));
		assert_eq!(held(20), 2_500);
		assert_eq!(crate::Channels::<Test>::get(channel).unwrap().deposited, 2_500);
		run_to_block(5);
		assert_ok!(Channels::close_channel(RuntimeOrigin::signed(account(20)), channel));
		let info = crate::Channels::<Test>::get(channel).unwrap();
		assert_eq!((info.ends, info.status), (5, ChannelStatus::Closed));
		assert_noop!(
			Channels::top_up(RuntimeOrigin::signed(account(20)), channel, 100),
			Error::<Test>::ChannelEnded
		);
		assert_noop!(
			Channels::close_channel(RuntimeOrigin::signed(account(20)), channel),
			Error::<Test>::ChannelEnded
		);
	});
}

/// A channel is finalized a settle window after its planned end, closed early or not, and
/// the rest of its escrow refunded (nothing settled here).
#[test]
fn a_channel_is_finalized_a_settle_window_after_its_end_and_its_escrow_refunded() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let kept = open(20, terms(2), 2_000);
		let closed = open(21, terms(2), 3_000);
		run_to_block(3);
		assert_ok!(Channels::close_channel(RuntimeOrigin::signed(account(21)), closed));
		// Both a settle window after the planned end (closing early does not move it).
		run_to_block(20 + SETTLE_WINDOW);
		assert_eq!(held(20), 2_000);
		assert_eq!(held(21), 3_000);
		run_to_block(21 + SETTLE_WINDOW);
		assert_eq!(held(20), 0);
		assert_eq!(held(21), 0);
		assert_eq!(Balances::balance(&account(20)), 10_000 - Channels::channel_fee(2));
		assert!(crate::Channels::<Test>::get(kept).is_none());
		assert!(crate::Committees::<Test>::get(kept).is_none());
		for (channel, refund) in [(kept, 2_000), (closed, 3_000)] {
			assert!(channel_events().contains(&Event::ChannelFinalized { channel, refund }));
		}
	});
}

/// A channel key signs for one channel until that channel is finalized: a request or a
/// voucher signed for one channel never counts for another (amendment 3).
#[test]
fn a_channel_key_serves_one_channel_until_it_is_finalized() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let first = open(20, terms(1), 100);
		// Its developer proves it holds the key again: still one channel at a time.
		let reused = ChannelTerms { channel_key: key(first).public(), ..terms(1) };
		assert_noop!(
			Channels::open_channel(
				RuntimeOrigin::signed(account(20)),
				reused.clone(),
				proof(20, first),
				100
			),
			Error::<Test>::ChannelKeyInUse
		);
		run_to_block(21 + SETTLE_WINDOW);
		assert!(crate::Channels::<Test>::get(first).is_none());
		assert_ok!(Channels::open_channel(
			RuntimeOrigin::signed(account(20)),
			reused,
			proof(20, first),
			100
		));
	});
}

/// The runtime API's quote is what `open_channel` asks: a deposit one unit short of it is
/// refused, the quoted one accepted; the view shows the channel and its committee.
#[test]
fn the_quote_is_what_opening_a_channel_takes() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		let quote = Channels::quote_channel(1, 3, 10).unwrap();
		assert_eq!(quote.price, 10);
		assert_eq!(quote.fee, OPEN_FEE + 3 * SETTLE_FEE);
		assert_eq!(quote.min_deposit, 3 * 10 * 10);
		assert_eq!(Channels::quote_channel(3, 3, 10), None, "model 3 has no price");
		let next = crate::NextChannelId::<Test>::get();
		assert_noop!(
			Channels::open_channel(
				RuntimeOrigin::signed(account(20)),
				ChannelTerms { channel_key: key(next).public(), ..terms(3) },
				proof(20, next),
				quote.min_deposit - 1
			),
			Error::<Test>::DepositTooSmall
		);
		let channel = open(20, terms(3), quote.min_deposit);
		assert_eq!(Channels::channel_view(channel).unwrap().committee, vec![]);
		run_to_block(2);
		let view = Channels::channel_view(channel).unwrap();
		assert_eq!(view.info.deposited, quote.min_deposit);
		assert_eq!(view.committee, crate::Committees::<Test>::get(channel).unwrap().to_vec());
		assert_eq!(view.committee.len(), 3);
	});
}

/// Governance sets the channels' rules (`UpdateOrigin`: root in the mock) within bounds;
/// they apply to channels opened from then on.
#[test]
fn governance_sets_the_channels_rules_for_channels_opened_from_then_on() {
	use crate::{ChannelParams, Params};
	use polkadot_sdk::sp_runtime::DispatchError;
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let before = open(20, terms(1), 100);
		let before_finalizes = crate::Channels::<Test>::get(before).unwrap().finalizes;
		let params = ChannelParams { open_fee: 7, max_channel_blocks: 30, settle_window: 25 };
		assert_noop!(
			Channels::set_params(RuntimeOrigin::signed(account(20)), params),
			DispatchError::BadOrigin
		);
		for bad in [
			ChannelParams { max_channel_blocks: 0, ..params },
			ChannelParams { max_channel_blocks: MAX_CHANNEL_BLOCKS + 1, ..params },
			ChannelParams { settle_window: crate::MIN_SETTLE_WINDOW as u64 - 1, ..params },
			ChannelParams { settle_window: crate::MAX_SETTLE_WINDOW as u64 + 1, ..params },
		] {
			assert_noop!(
				Channels::set_params(RuntimeOrigin::root(), bad),
				crate::Error::<Test>::BadParams
			);
		}
		assert_ok!(Channels::set_params(RuntimeOrigin::root(), params));
		assert_eq!(Params::<Test>::get(), params);
		assert!(channel_events().contains(&crate::Event::ParamsSet { params }));
		// The channel opened before keeps its finalization.
		assert_eq!(crate::Channels::<Test>::get(before).unwrap().finalizes, before_finalizes);
		// A channel opened now: the new fee, the new window; longer than allowed refused.
		let fee = Channels::channel_fee(1);
		assert_eq!(fee, 7 + SETTLE_FEE);
		let pool = Balances::free_balance(Pool::get());
		let after = open(21, terms(1), 100);
		assert_eq!(Balances::free_balance(Pool::get()), pool + fee);
		let info = crate::Channels::<Test>::get(after).unwrap();
		assert_eq!(info.finalizes, info.opened + 20 + 25);
		let id = crate::NextChannelId::<Test>::get();
		let long = ChannelTerms { duration: 31, channel_key: key(id).public(), ..terms(1) };
		assert_noop!(
			Channels::open_channel(RuntimeOrigin::signed(account(22)), long, proof(22, id), 100),
			crate::Error::<Test>::BadDuration
		);
	});
}

/// `do_try_state` refuses rules governance could not have set.
#[test]
fn try_state_refuses_rules_outside_their_bounds() {
	use crate::{ChannelParams, Params};
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		assert!(Channels::do_try_state().is_ok());
		Params::<Test>::put(ChannelParams {
			open_fee: 0,
			max_channel_blocks: 10,
			settle_window: crate::MIN_SETTLE_WINDOW as u64 - 1,
		});
		assert!(Channels::do_try_state().is_err());
		Params::<Test>::put(ChannelParams {
			open_fee: 0,
			max_channel_blocks: 10,
			settle_window: 20,
		});
	});
}
