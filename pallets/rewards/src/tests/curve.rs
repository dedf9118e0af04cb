//! The curve: what it mints follows it and never passes its cap, and governance sets its
//! next reward and decay within the cap.

use super::*;
use gonka_primitives::issuance::DECAY_ONE;
use polkadot_sdk::{
	frame_support::{assert_noop, assert_ok},
	frame_system::RawOrigin,
	sp_runtime::DispatchError,
};

#[test]
fn total_minted_follows_the_curve_and_never_passes_the_cap() {
	ExtBuilder::default().build_and_execute(|| {
		// The test curve halves: 1,000,000, 500,000, 250,000, … Six epochs.
		let mut expected = 0u128;
		for epoch in 0..6 {
			form(epoch, &[(1, 3), (2, 5), (3, 7), (4, 11), (5, 13)]);
			expected += FIRST_REWARD >> epoch;
			run_to_epoch(epoch + 1);
		}
		run_until_distributed(5);
		assert_eq!(Curve::<Test>::get().minted, expected);
		for epoch in 0..6 {
			let (reward, paid, to_pool) = closed(epoch).unwrap();
			assert_eq!(reward, FIRST_REWARD >> epoch);
			assert_eq!(paid + to_pool, reward, "epoch {epoch}");
			for (_, amount) in payouts(epoch) {
				assert!(amount * 10 <= reward * 3, "no payout above 30%");
			}
		}
		// Near the cap the curve pays only what is left, then nothing.
		Curve::<Test>::mutate(|curve| curve.cap = curve.minted + 7);
		form(6, &[(1, 1)]);
		form(7, &[(1, 1)]);
		assert_eq!(Epochs::<Test>::get(6).unwrap().reward, 7);
		assert_eq!(Epochs::<Test>::get(7).unwrap().reward, 0);
		assert_eq!(Curve::<Test>::get().minted, Curve::<Test>::get().cap);
		run_until_distributed(7);
	});
}

#[test]
fn governance_sets_the_curve_within_its_cap() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(Rewards::set_curve(signed(1), 5, DECAY_ONE / 2), DispatchError::BadOrigin);
		assert_noop!(Rewards::set_curve(RawOrigin::Root.into(), 5, 0), Error::<Test>::BadDecay);
		assert_noop!(
			Rewards::set_curve(RawOrigin::Root.into(), 5, DECAY_ONE + 1),
			Error::<Test>::BadDecay
		);
		let cap = Curve::<Test>::get().cap;
		assert_noop!(
			Rewards::set_curve(RawOrigin::Root.into(), cap + 1, DECAY_ONE),
			Error::<Test>::RewardAboveCap
		);
		assert_ok!(Rewards::set_curve(RawOrigin::Root.into(), 777, DECAY_ONE));
		assert_eq!(Rewards::next_reward(), (1, 777));
		form(0, &[(1, 1)]);
		assert_eq!(Rewards::next_reward(), (2, 777), "a decay of one keeps the reward");
		run_until_distributed(0);
	});
}
