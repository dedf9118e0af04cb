//! The distribution of each epoch's reward: the rules of "GNK issuance" from a formation
//! to the epoch's `EpochRewarded`.
//!
//! - **Scheduling** (`OnWeightsFormed`, when PoC forms an epoch's weights): the epoch takes
//!   `R(e)` from the curve (counting it as minted), records each host's consensus weight,
//!   their total and the level at which the reward cap (30%) cuts them, and is queued.
//! - **When**: the oldest queued epoch is distributed once its inference ledger is final
//!   (`epoch + LedgerEpochs < now`), `MaxPayoutsPerBlock` hosts per block; its ledger's
//!   settlement waits for it (`DistributionPending`).
//! - **A host's share**: `R(e) × min(eff, c) / Σ w`, `eff` its effective weight (see
//!   `collateral.rs`), `c` the cap level, `Σ w` the uncapped total: what the cap and
//!   collateral shortfalls cut is not redistributed.
//! - **Exclusions**: a host INVALID in the epoch, or failing the downtime test, gets
//!   nothing and is slashed (once per reason); a share that cannot be minted to the host is
//!   withheld too.
//! - **Closing**: what was not paid is minted to the community pool, so
//!   `paid + to_pool = R(e)`.

use crate::*;
use alloc::vec::Vec;
use gonka_primitives::{issuance, EpochIndex};
use pallet_inference::{DutyTotals, EpochStats};
use polkadot_sdk::frame_support::{
	defensive,
	traits::{Contains, Get},
	weights::Weight,
};

/// Holds back pallet-inference's settlement of an epoch's ledger while the epoch's
/// reward is being distributed (the distribution reads INVALID and the misses).
pub struct DistributionPending<T>(core::marker::PhantomData<T>);
impl<T: Config> Contains<EpochIndex> for DistributionPending<T> {
	fn contains(epoch: &EpochIndex) -> bool {
		Epochs::<T>::contains_key(epoch)
	}
}

impl<T: Config> pallet_poc::OnWeightsFormed<T::AccountId> for Pallet<T> {
	/// Schedules `epoch`'s reward: takes `R(e)` from the curve, records the hosts'
	/// `weights` and queues the epoch. Emits `EpochRewardScheduled`.
	fn weights_formed(epoch: EpochIndex, weights: &[(T::AccountId, u128)]) -> Weight {
		let weight = Weights::<T>::weights_formed(weights.len() as u32);
		if Epochs::<T>::contains_key(epoch) {
			defensive!("an epoch forms its weights once");
			return weight;
		}
		let mut queue = Queue::<T>::get();
		if queue.try_push(epoch).is_err() {
			defensive!("the distribution keeps up with the formations");
			return weight;
		}
		let mut curve = Curve::<T>::get();
		let (index, reward) = curve.take();
		Curve::<T>::put(curve);
		let (total_weight, cap_level) = Self::total_and_cap_level(weights);
		let hosts = Self::record_weights(epoch, weights);
		Queue::<T>::put(queue);
		LastFormed::<T>::put(epoch);
		Epochs::<T>::insert(
			epoch,
			EpochReward { index, reward, total_weight, cap_level, hosts, decided: 0, paid: 0 },
		);
		Self::deposit_event(Event::EpochRewardScheduled { epoch, index, reward, hosts });
		weight
	}

	fn weights_formed_weight(hosts: u32) -> Weight {
		Weights::<T>::weights_formed(hosts)
	}
}

impl<T: Config> Pallet<T> {
	/// The sum of the consensus `weights` (uncapped) and the level at which the reward cap
	/// cuts them (`None`: no cut, e.g. a small network).
	fn total_and_cap_level(weights: &[(T::AccountId, u128)]) -> (u128, Option<u128>) {
		let raw: Vec<u128> = weights.iter().map(|(_, weight)| *weight).collect();
		let total_weight = raw.iter().fold(0u128, |sum, w| sum.saturating_add(*w));
		let cap_level = gonka_primitives::cap::cap_level(&raw, Params::<T>::get().reward_cap);
		(total_weight, cap_level)
	}

	/// Records each host's weight in `epoch`; returns the number of hosts.
	fn record_weights(epoch: EpochIndex, weights: &[(T::AccountId, u128)]) -> u32 {
		let mut hosts = 0u32;
		for (host, weight) in weights {
			EpochWeights::<T>::insert(epoch, host, weight);
			hosts = hosts.saturating_add(1);
		}
		hosts
	}

	/// Decides up to `MaxPayoutsPerBlock` hosts' shares of the oldest queued epoch, once
	/// its inference ledger is final; closes the epoch when every host is decided.
	pub(crate) fn distribute() -> Weight {
		let Some((epoch, now, mut info)) = Self::due_epoch() else {
			return Weight::zero();
		};
		let params = Params::<T>::get();
		let totals = pallet_inference::EpochTotals::<T>::get(epoch);
		let mut decided = 0u32;
		let mut drained = EpochWeights::<T>::drain_prefix(epoch);
		let mut weight = Weight::zero();
		loop {
			if decided >= T::MaxPayoutsPerBlock::get() {
				Epochs::<T>::insert(epoch, info);
				break;
			}
			let Some((host, host_weight)) = drained.next() else {
				weight = weight.saturating_add(Weights::<T>::close_epoch());
				Self::close(epoch, &info);
				break;
			};
			decided = decided.saturating_add(1);
			let paid = Self::decide(epoch, now, &info, &host, host_weight, &params, &totals);
			info.paid = info.paid.saturating_add(paid);
			info.decided = info.decided.saturating_add(1);
		}
		weight.saturating_add(Self::weight_per_decided_host().saturating_mul(decided.into()))
	}

	/// The oldest queued epoch if its inference ledger is final (`epoch + LedgerEpochs` is
	/// over), with the epoch in progress and the queued epoch's reward. A queued epoch
	/// without its reward (never) is dropped from the queue.
	fn due_epoch() -> Option<(EpochIndex, EpochIndex, EpochReward)> {
		let epoch = Queue::<T>::get().first().copied()?;
		let now = pallet_poc::Pallet::<T>::epoch_in_progress()?;
		if epoch.saturating_add(<T as pallet_inference::Config>::LedgerEpochs::get()) >= now {
			return None;
		}
		let Some(info) = Epochs::<T>::get(epoch) else {
			defensive!("a queued epoch has its reward");
			Queue::<T>::mutate(|queue| queue.retain(|queued| *queued != epoch));
			return None;
		};
		Some((epoch, now, info))
	}

	/// What `distribute` charges per decided host: the worse of a paid and a slashed host;
	/// each decided host's weight record is also read and removed by the drain.
	fn weight_per_decided_host() -> Weight {
		Weights::<T>::distribute_host()
			.max(Weights::<T>::distribute_host_slashed())
			.saturating_add(T::DbWeight::get().reads_writes(1, 1))
	}

	/// Decides one host's share of `epoch`'s reward: slashes it for INVALID and
	/// downtime, and pays its share unless either applies. Returns what it paid.
	pub(crate) fn decide(
		epoch: EpochIndex,
		now: EpochIndex,
		info: &EpochReward,
		host: &T::AccountId,
		weight: u128,
		params: &RewardParams,
		totals: &DutyTotals,
	) -> u128 {
		// The share is of the collateral bonded before this epoch's slashes.
		let share = Self::share(info, host, weight, params);
		let stats = pallet_inference::Ledger::<T>::get(epoch, host);
		let invalid = stats.invalid;
		let down = Self::fails_downtime_test(&stats, totals, params);
		if invalid {
			Self::slash(host, epoch, SlashReason::Invalid, params.invalid_slash);
		}
		if down {
			Self::slash(host, epoch, SlashReason::Downtime, params.downtime_slash);
		}
		let withheld = if invalid {
			Some(Withheld::Invalid)
		} else if down {
			Some(Withheld::Downtime)
		} else if share > 0 && Self::pay(host, now, share, params.vesting_epochs).is_err() {
			Some(Withheld::Unpayable)
		} else {
			None
		};
		Self::announce_share(epoch, host, share, withheld, params.vesting_epochs)
	}

	/// `host`'s share of the epoch's reward `R(e) × min(eff, c) / Σ w`: its effective
	/// weight, cut at the cap level, over the uncapped total weight.
	fn share(info: &EpochReward, host: &T::AccountId, weight: u128, params: &RewardParams) -> u128 {
		let effective = Self::effective_weight(host, weight, info.index, params);
		let capped = info.cap_level.map_or(effective, |level| effective.min(level));
		issuance::reward_share(info.reward, capped, info.total_weight)
	}

	/// Whether a host with `stats` fails the downtime test against the network's `totals`:
	/// `P(X ≥ missed) < p_value` for `X ~ Binomial(duties, max(floor, rate + margin))`,
	/// its duties being its assigned requests and sampled validations, its misses the
	/// requests it did not finish and the validations it did not report.
	fn fails_downtime_test(stats: &EpochStats, totals: &DutyTotals, params: &RewardParams) -> bool {
		// Misses are recorded in the epoch they happen in, assignments in the epoch they
		// are made in: an epoch's misses may exceed its assignments at the boundary.
		issuance::fails_downtime_test(
			stats.duties_missed().min(stats.duties()),
			stats.duties(),
			totals.missed.min(totals.assigned),
			totals.assigned,
			params.downtime_floor,
			params.downtime_margin,
			params.downtime_p_value,
		)
	}

	/// Emits `RewardWithheld` if the share was `withheld`, else `HostRewarded` (for a
	/// share above zero). Returns what was paid.
	fn announce_share(
		epoch: EpochIndex,
		host: &T::AccountId,
		share: u128,
		withheld: Option<Withheld>,
		vesting_epochs: u32,
	) -> u128 {
		if let Some(reason) = withheld {
			let host = host.clone();
			Self::deposit_event(Event::RewardWithheld { epoch, host, amount: share, reason });
			return 0;
		}
		if share > 0 {
			let host = host.clone();
			Self::deposit_event(Event::HostRewarded { epoch, host, amount: share, vesting_epochs });
		}
		share
	}

	/// Mints what `epoch`'s hosts were not paid to the community pool and removes the
	/// epoch from the queue.
	pub(crate) fn close(epoch: EpochIndex, info: &EpochReward) {
		let to_pool = info.reward.saturating_sub(info.paid);
		Self::mint_to_pool(to_pool);
		Epochs::<T>::remove(epoch);
		Queue::<T>::mutate(|queue| queue.retain(|queued| *queued != epoch));
		Self::deposit_event(Event::EpochRewarded {
			epoch,
			index: info.index,
			reward: info.reward,
			paid: info.paid,
			to_pool,
		});
	}
}
