//! Settlement of the per-epoch ledger (`protocol.md`, "Inference" 6): once an epoch has
//! left the ledger's window (`LedgerEpochs`) and `pallet-rewards` no longer reads it
//! (`SettlementHold`), each host's pending work balance of that epoch is released to it,
//! or forfeited to the community pool (`ForfeitTo`) if the host was INVALID in it, and its
//! fines for rejected reports (`Fines`) are forfeited first, from what is left; a bounded
//! number of hosts per block; then the epoch's records are gone.

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
		let mut cleared = 0u32;
		let mut drained = Ledger::<T>::drain_prefix(epoch);
		while settled < T::MaxSettlementsPerBlock::get() {
			let Some((host, stats)) = drained.next() else {
				UnsettledEpoch::<T>::put(epoch.saturating_add(1));
				EpochTotals::<T>::remove(epoch);
				// Every fine is on a ledger entry (taken with it): none is left, defensively
				// bounded.
				cleared =
					Fines::<T>::clear_prefix(epoch, T::MaxSettlementsPerBlock::get(), None).backend;
				Self::deposit_event(Event::EpochSettled { epoch });
				break;
			};
			settled = settled.saturating_add(1);
			Self::settle(epoch, &host, &stats);
		}
		let db = <T as polkadot_sdk::frame_system::Config>::DbWeight::get();
		Weights::<T>::settle_host()
			.saturating_add(Self::settle_fine_weight())
			.saturating_mul(u64::from(settled.max(1)))
			.saturating_add(db.reads_writes(1, u64::from(cleared)))
	}

	/// Releases or forfeits one host's pending work balance of `epoch`, its fines forfeited
	/// first (at most the pending work).
	fn settle(epoch: EpochIndex, host: &T::AccountId, stats: &EpochStats) {
		let fine = Fines::<T>::take(epoch, host).min(stats.pending_work);
		if stats.pending_work == 0 {
			return;
		}
		let reason = HoldReason::WorkBalance.into();
		let mut pending = stats.pending_work;
		if fine > 0 && !stats.invalid {
			let forfeited = Funds::<T>::transfer_on_hold(
				&reason,
				host,
				&T::ForfeitTo::get(),
				fine,
				Precision::BestEffort,
				Restriction::Free,
				Fortitude::Force,
			)
			.unwrap_or_else(|_| {
				defensive!("a host's pending work is held on it");
				0
			});
			pending = pending.saturating_sub(forfeited);
			Self::deposit_event(Event::WorkSettled {
				epoch,
				host: host.clone(),
				amount: forfeited,
				forfeited: true,
			});
			if pending == 0 {
				return;
			}
		}
		let amount = if stats.invalid {
			Funds::<T>::transfer_on_hold(
				&reason,
				host,
				&T::ForfeitTo::get(),
				pending,
				Precision::BestEffort,
				Restriction::Free,
				Fortitude::Force,
			)
		} else {
			Funds::<T>::release(&reason, host, pending, Precision::BestEffort)
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
