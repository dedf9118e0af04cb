//! The pallet's invariants, checked after every test block and by `try-runtime`.

use crate::*;
use polkadot_sdk::{
	frame_support::{
		ensure,
		traits::{
			fungible::{Inspect, InspectHold},
			Get,
		},
	},
	sp_runtime::TryRuntimeError,
};

impl<T: Config> Pallet<T> {
	/// The pallet's invariants, in the order they are checked:
	///
	/// - the curve never mints past its cap;
	/// - every queued epoch has its reward;
	/// - a queued epoch pays at most its reward;
	/// - a queued epoch decides at most its hosts;
	/// - every epoch with a reward is queued;
	/// - only queued epochs have weights;
	/// - the total issuance, plus what the queued epochs have not minted yet, is the
	///   genesis issuance plus what the curve minted;
	/// - each host's held vesting rewards equal its slots plus its claimable amount;
	/// - each host's vesting slots are at most `MaxVestingEpochs`;
	/// - each host's held collateral equals its bonded plus its unbonding collateral.
	pub fn do_try_state() -> Result<(), TryRuntimeError> {
		let curve = Curve::<T>::get();
		ensure!(curve.minted <= curve.cap, "the curve never mints past its cap");
		let unminted = Self::check_queue()?;
		ensure!(
			Funds::<T>::total_issuance().saturating_add(unminted)
				== GenesisIssuance::<T>::get().saturating_add(curve.minted),
			"total issuance = genesis + minted by the curve"
		);
		Self::check_vesting()?;
		Self::check_collateral()
	}

	/// The queued epochs: each has its reward, pays at most it and decides at most its
	/// hosts; every epoch with a reward is queued; only queued epochs have weights.
	/// Returns what the queued epochs have not minted yet.
	fn check_queue() -> Result<u128, TryRuntimeError> {
		let queue = Queue::<T>::get();
		let mut unminted = 0u128;
		for epoch in &queue {
			let info = Epochs::<T>::get(epoch).ok_or("a queued epoch has its reward")?;
			ensure!(info.paid <= info.reward, "an epoch pays at most its reward");
			ensure!(info.decided <= info.hosts, "an epoch decides at most its hosts");
			unminted = unminted.saturating_add(info.reward.saturating_sub(info.paid));
		}
		ensure!(
			Epochs::<T>::iter_keys().count() == queue.len(),
			"every epoch with a reward is queued"
		);
		for (epoch, _, _) in EpochWeights::<T>::iter() {
			ensure!(queue.contains(&epoch), "only queued epochs have weights");
		}
		Ok(unminted)
	}

	/// Each host's vesting: held as its slots plus claimable, within `MaxVestingEpochs`.
	fn check_vesting() -> Result<(), TryRuntimeError> {
		let vesting_reason = HoldReason::Vesting.into();
		for (host, state) in Vesting::<T>::iter() {
			ensure!(
				Funds::<T>::balance_on_hold(&vesting_reason, &host) == state.held(),
				"held vesting rewards equal the host's slots and claimable"
			);
			ensure!(
				state.slots.len() <= T::MaxVestingEpochs::get() as usize,
				"vesting slots are bounded"
			);
		}
		Ok(())
	}

	/// Each host's collateral: held as its bonded plus unbonding.
	fn check_collateral() -> Result<(), TryRuntimeError> {
		let collateral_reason = HoldReason::Collateral.into();
		for (host, state) in Collateral::<T>::iter() {
			ensure!(
				Funds::<T>::balance_on_hold(&collateral_reason, &host) == state.total(),
				"held collateral equals bonded plus unbonding"
			);
		}
		Ok(())
	}
}
