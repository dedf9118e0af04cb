//! Settlement of the per-epoch ledger (`protocol.md`, "Inference" 6): once an epoch has
//! left the ledger's window (`LedgerEpochs`) and `pallet-rewards` no longer reads it
//! (`SettlementHold`), each host's pending work balance of that epoch is released to it,
//! or forfeited to the community pool (`ForfeitTo`) if the host was INVALID in it, a
//! bounded number of hosts per block; then the epoch's records are gone.

use super::*;
use gonka_primitives::EpochIndex;
use polkadot_sdk::frame_support::{
	pallet_prelude::*,
	traits::{
		fungible::MutateHold,
		tokens::{Fortitude, Precision, Restriction},
		Contains,
	},
};

impl<T: Config> Pallet<T> {
	/// Settles (and removes) up to `MaxSettlementsPerBlock` host records of the oldest
	/// epoch that has left the ledger's window: each host's pending work balance is
	/// released to it, or forfeited to `ForfeitTo` if it was INVALID in that epoch. Waits
	/// while `SettlementHold` holds the epoch.
	pub(crate) fn settle_old_epoch() -> Weight {
		let epoch = UnsettledEpoch::<T>::get();
		let current = pallet_poc::Pallet::<T>::epoch_now();
		if epoch.saturating_add(T::LedgerEpochs::get()) >= current
			|| T::SettlementHold::contains(&epoch)
		{
			return Weight::zero();
		}
		let mut settled = 0u32;
		let mut drained = Ledger::<T>::drain_prefix(epoch);
		while settled < T::MaxSettlementsPerBlock::get() {
			let Some((host, stats)) = drained.next() else {
				UnsettledEpoch::<T>::put(epoch.saturating_add(1));
				EpochTotals::<T>::remove(epoch);
				Self::deposit_event(Event::EpochSettled { epoch });
				break;
			};
			settled = settled.saturating_add(1);
			Self::settle(epoch, &host, &stats);
		}
		Weights::<T>::settle_host().saturating_mul(u64::from(settled.max(1)))
	}

	/// Releases or forfeits one host's pending work balance of `epoch`.
	fn settle(epoch: EpochIndex, host: &T::AccountId, stats: &EpochStats) {
		if stats.pending_work == 0 {
			return;
		}
		let reason = HoldReason::WorkBalance.into();
		let amount = if stats.invalid {
			Funds::<T>::transfer_on_hold(
				&reason,
				host,
				&T::ForfeitTo::get(),
				stats.pending_work,
				Precision::BestEffort,
				Restriction::Free,
				Fortitude::Force,
			)
		} else {
			Funds::<T>::release(&reason, host, stats.pending_work, Precision::BestEffort)
		}
		.unwrap_or_else(|_| {
			defensive!("a host's pending work is held on it");
			0
		});
		Self::deposit_event(Event::WorkSettled {
			epoch,
			host: host.clone(),
			amount,
			forfeited: stats.invalid,
		});
	}
}
