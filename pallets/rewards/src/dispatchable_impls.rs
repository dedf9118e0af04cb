//! The governance calls: `set_params` (the rules of rewards, collateral and slashing,
//! checked by `RewardParams::check`) and `set_curve` (the curve's next reward and decay,
//! within what the curve may still mint). The other calls' `do_*` functions live with
//! their rules: `bond`, `unbond` and `withdraw_unbonded` in `collateral.rs`, `claim` in
//! `vesting.rs`, `spend_from_pool` in `pool.rs`.

use crate::*;
use gonka_primitives::issuance::REWARD_SCALE;
use polkadot_sdk::frame_support::{ensure, pallet_prelude::DispatchResult};

impl<T: Config> Pallet<T> {
	/// Sets the rules once they pass their checks.
	pub(crate) fn do_set_params(params: RewardParams) -> DispatchResult {
		params.check::<T::MaxVestingEpochs>().map_err(|error| match error {
			InvalidRewardParams::VestingTooLong => Error::<T>::VestingTooLong,
			InvalidRewardParams::BadDowntimeTest => Error::<T>::BadDowntimeTest,
			InvalidRewardParams::ZeroRewardCap => Error::<T>::ZeroRewardCap,
		})?;
		Params::<T>::put(params);
		Self::deposit_event(Event::ParamsSet { params });
		Ok(())
	}

	/// Sets the curve's next reward and decay, keeping what it minted and its cap.
	pub(crate) fn do_set_curve(next_reward: u128, decay: u64) -> DispatchResult {
		let mut curve = Curve::<T>::get();
		ensure!(next_reward <= curve.cap.saturating_sub(curve.minted), Error::<T>::RewardAboveCap);
		curve.scaled_reward = next_reward.saturating_mul(REWARD_SCALE);
		curve.decay = decay;
		ensure!(curve.is_valid(), Error::<T>::BadDecay);
		Curve::<T>::put(curve);
		Self::deposit_event(Event::CurveSet { next_reward, decay });
		Ok(())
	}
}
