//! # Rewards pallet
//!
//! Implements "GNK issuance" of the protocol (`shared/spec/protocol.md`):
//!
//! - **The curve**: the `e`-th epoch whose weights came from PoC mints
//!   `R(e) = 323,000 GNK × exp(−0.000475 × (e − 1))` (`gonka_primitives::issuance`, fixed
//!   point), until the hosts' cumulative issuance reaches 680,000,000 GNK. The curve's next
//!   reward and decay are governable.
//! - **Distribution**: when PoC forms an epoch's weights ([`pallet_poc::OnWeightsFormed`])
//!   the epoch takes `R(e)` and records each host's consensus weight. Once the epoch's
//!   inference ledger is final (`LedgerEpochs` later) its hosts are decided,
//!   `MaxPayoutsPerBlock` per block: a host gets `R(e) × min(eff, c) / Σ w` (`eff` its
//!   effective weight, `c` the 30% cap level of the weights), unless it was INVALID or
//!   failed the downtime test; what is not paid (collateral shortfalls, caps, exclusions,
//!   rounding) is minted to the community pool, so `paid + to_pool = R(e)`.
//!   The epoch's inference ledger waits for the distribution (`SettlementHold`), and
//!   pallet-inference then releases the executors' pending work (forfeited if INVALID).
//! - **Vesting**: a reward is minted to the host and held (`HoldReason::Vesting`), split
//!   into `vesting_epochs` slots that unlock one per epoch; `claim` releases what has
//!   unlocked.
//! - **Collateral**: hosts `bond` collateral (held); a host's effective weight is the free
//!   20% of its consensus weight plus what its bonded collateral covers at
//!   `collateral_per_weight_unit` when the epoch is distributed (all of it during the grace
//!   epochs). Collateral limits rewards only: voting power comes from compute alone. `unbond` starts an
//!   unbonding that can be withdrawn from the next epoch on, once every epoch up to it is
//!   distributed (collateral stays slashable for the epochs it backed).
//! - **Slashing**: 20% of the collateral for INVALID, 10% for downtime, once per epoch and
//!   reason, to the community pool.
//! - **The community pool**: a keyless account; only `PoolOrigin` (compute-weighted
//!   governance) spends from it. The rules and the curve are set by PoC's `UpdateOrigin`.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;

mod types;

pub mod runtime_api;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;

#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

use polkadot_sdk::frame_support::weights::Weight;

/// The weights of the pallet's calls and hooks. The runtime's implementation is generated
/// from the benchmarks (`scripts/benchmarks.sh`).
pub trait WeightInfo {
	fn bond() -> Weight;
	fn unbond() -> Weight;
	fn withdraw_unbonded() -> Weight;
	fn claim() -> Weight;
	fn spend_from_pool() -> Weight;
	fn set_params() -> Weight;
	fn set_curve() -> Weight;
	/// Recording a formation of `n` hosts.
	fn weights_formed(n: u32) -> Weight;
	/// Deciding one host's share in its worst case: the downtime test at its most work,
	/// then paid into a full vesting state (its weight record's drain is added by the
	/// pallet).
	fn distribute_host() -> Weight;
	/// Deciding one host that was INVALID and down: its share withheld, its collateral
	/// slashed for both reasons.
	fn distribute_host_slashed() -> Weight;
	/// Closing an epoch's distribution: the remainder minted to the pool.
	fn close_epoch() -> Weight;
	/// `on_initialize` with nothing to distribute.
	fn on_initialize_idle() -> Weight;
}

/// Zero weights, for test runtimes.
impl WeightInfo for () {
	fn bond() -> Weight {
		Weight::zero()
	}
	fn unbond() -> Weight {
		Weight::zero()
	}
	fn withdraw_unbonded() -> Weight {
		Weight::zero()
	}
	fn claim() -> Weight {
		Weight::zero()
	}
	fn spend_from_pool() -> Weight {
		Weight::zero()
	}
	fn set_params() -> Weight {
		Weight::zero()
	}
	fn set_curve() -> Weight {
		Weight::zero()
	}
	fn weights_formed(_n: u32) -> Weight {
		Weight::zero()
	}
	fn distribute_host() -> Weight {
		Weight::zero()
	}
	fn distribute_host_slashed() -> Weight {
		Weight::zero()
	}
	fn close_epoch() -> Weight {
		Weight::zero()
	}
	fn on_initialize_idle() -> Weight {
		Weight::zero()
	}
}

/// The most epochs waiting for their distribution at once (an epoch waits `LedgerEpochs`
/// epochs; more than this many formed epochs would mean a stalled distribution).
pub const MAX_QUEUED_EPOCHS: u32 = 16;

#[polkadot_sdk::frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use gonka_primitives::{
		issuance::{self, RewardCurve, REWARD_SCALE},
		EpochIndex,
	};
	use pallet_poc::CurrentEpoch;
	use polkadot_sdk::{
		frame_support::{
			defensive,
			pallet_prelude::*,
			storage::with_storage_layer,
			traits::{
				fungible::{Inspect, Mutate, MutateHold},
				tokens::{Fortitude, Precision, Preservation, Restriction},
				Contains,
			},
		},
		frame_system::pallet_prelude::*,
		sp_runtime::Perbill,
	};

	/// The currency of rewards and collateral.
	pub(crate) type Funds<T> = <T as Config>::Currency;
	/// The pallet's weights.
	pub(crate) type Weights<T> = <T as Config>::WeightInfo;
	/// A host's vesting state with the runtime's bound.
	pub type VestingOf<T> = VestingState<<T as Config>::MaxVestingEpochs>;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config + pallet_inference::Config {
		/// Mints rewards and holds vesting rewards and collateral (in nGNK).
		type Currency: MutateHold<
				Self::AccountId,
				Reason = <Self as Config>::RuntimeHoldReason,
				Balance = u128,
			> + Mutate<Self::AccountId>;
		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;
		/// The community pool: receives what rewards do not pay, and slashes.
		#[pallet::constant]
		type CommunityPool: Get<Self::AccountId>;
		/// Who may spend from the community pool (compute-weighted governance).
		type PoolOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// The longest vesting, in epochs (slots per host).
		#[pallet::constant]
		type MaxVestingEpochs: Get<u32>;
		/// The most hosts whose share is decided in one block.
		#[pallet::constant]
		type MaxPayoutsPerBlock: Get<u32>;
		/// The weights of the calls and hooks.
		type WeightInfo: WeightInfo;
	}

	/// Why the pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// Rewards still vesting, or unlocked and not yet claimed.
		Vesting,
		/// Bonded or unbonding collateral.
		Collateral,
	}

	/// The governable rules.
	#[pallet::storage]
	pub type Params<T: Config> = StorageValue<_, RewardParams, ValueQuery, LiveParams>;

	/// The live network's rules, until governance sets others.
	pub struct LiveParams;
	impl Get<RewardParams> for LiveParams {
		fn get() -> RewardParams {
			RewardParams::live_network()
		}
	}

	/// The reward curve: the next rewarded epoch, its reward, the decay, what it minted.
	#[pallet::storage]
	pub type Curve<T: Config> = StorageValue<_, RewardCurve, ValueQuery, LiveCurve>;

	/// The live network's curve.
	pub struct LiveCurve;
	impl Get<RewardCurve> for LiveCurve {
		fn get() -> RewardCurve {
			RewardCurve::live_network()
		}
	}

	/// The total issuance at genesis: the total issuance is always this plus what the curve
	/// minted, less what the epochs being distributed have not minted yet.
	#[pallet::storage]
	pub type GenesisIssuance<T: Config> = StorageValue<_, u128, ValueQuery>;

	/// The formed epochs waiting for (or in) their distribution, oldest first.
	#[pallet::storage]
	pub type Queue<T: Config> =
		StorageValue<_, BoundedVec<EpochIndex, ConstU32<MAX_QUEUED_EPOCHS>>, ValueQuery>;

	/// Each queued epoch's reward and progress.
	#[pallet::storage]
	pub type Epochs<T: Config> = StorageMap<_, Twox64Concat, EpochIndex, EpochReward>;

	/// Each queued epoch's hosts and their weights; removed as their shares are decided.
	#[pallet::storage]
	pub type EpochWeights<T: Config> =
		StorageDoubleMap<_, Twox64Concat, EpochIndex, Blake2_128Concat, T::AccountId, u128>;

	/// The last epoch whose weights were formed (its weights show a host's collateral
	/// requirement until it is distributed).
	#[pallet::storage]
	pub type LastFormed<T: Config> = StorageValue<_, EpochIndex, OptionQuery>;

	/// Each host's vesting rewards.
	#[pallet::storage]
	pub type Vesting<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, VestingOf<T>>;

	/// Each host's collateral.
	#[pallet::storage]
	pub type Collateral<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, CollateralState>;

	#[pallet::genesis_config]
	#[derive(polkadot_sdk::frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The rules (`None`: the live network's).
		pub params: Option<RewardParams>,
		/// The first rewarded epoch's reward in nGNK and the decay in parts per 10^18
		/// (`None`: the live network's curve).
		pub curve: Option<(u128, u64)>,
		#[serde(skip)]
		pub _phantom: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			if let Some(params) = self.params {
				params.check::<T::MaxVestingEpochs>().expect("the genesis reward rules are valid");
				Params::<T>::put(params);
			}
			if let Some((initial, decay)) = self.curve {
				let curve = RewardCurve::new(initial, decay, issuance::HOST_ISSUANCE);
				assert!(curve.is_valid(), "the genesis curve's decay is in (0, 1]");
				Curve::<T>::put(curve);
			}
			// Built after the balances: everything that exists at genesis.
			GenesisIssuance::<T>::put(Funds::<T>::total_issuance());
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// An epoch's weights were formed: it is the `index`-th rewarded epoch and will
		/// distribute `reward` over `hosts` hosts once its ledger is final.
		EpochRewardScheduled { epoch: EpochIndex, index: u32, reward: u128, hosts: u32 },
		/// A host's share of an epoch's reward was minted to it, vesting over
		/// `vesting_epochs` epochs.
		HostRewarded { epoch: EpochIndex, host: T::AccountId, amount: u128, vesting_epochs: u32 },
		/// A host's share of an epoch's reward went to the community pool.
		RewardWithheld { epoch: EpochIndex, host: T::AccountId, amount: u128, reason: Withheld },
		/// An epoch's reward is distributed: `paid` to hosts, `to_pool` to the community pool
		/// (`paid + to_pool = reward`).
		EpochRewarded { epoch: EpochIndex, index: u32, reward: u128, paid: u128, to_pool: u128 },
		/// A host claimed its unlocked rewards.
		Claimed { host: T::AccountId, amount: u128 },
		/// A host bonded collateral.
		Bonded { host: T::AccountId, amount: u128 },
		/// A host started unbonding collateral.
		Unbonding { host: T::AccountId, amount: u128, epoch: EpochIndex },
		/// A host withdrew its unbonded collateral.
		Withdrawn { host: T::AccountId, amount: u128 },
		/// A host's collateral was slashed to the community pool.
		Slashed { host: T::AccountId, epoch: EpochIndex, reason: SlashReason, amount: u128 },
		/// Governance spent from the community pool.
		PoolSpent { to: T::AccountId, amount: u128 },
		/// New rules are in force.
		ParamsSet { params: RewardParams },
		/// The curve's next reward and decay were set.
		CurveSet { next_reward: u128, decay: u64 },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// An amount of zero.
		ZeroAmount,
		/// The free balance cannot cover the amount.
		InsufficientBalance,
		/// More than the bonded collateral.
		NotBonded,
		/// Nothing is unbonding.
		NothingUnbonding,
		/// Unbonding collateral can be withdrawn from the epoch after the last unbonding.
		UnbondingNotDue,
		/// The collateral backed an epoch whose distribution (and slashing) is not done.
		StillSlashable,
		/// Nothing has unlocked.
		NothingToClaim,
		/// The community pool cannot pay the amount and stay alive.
		PoolTooLow,
		/// More vesting epochs than `MaxVestingEpochs`.
		VestingTooLong,
		/// The downtime test's level must be above 0% and below 50%.
		BadDowntimeTest,
		/// A reward cap of zero.
		ZeroRewardCap,
		/// The decay must be in (0, 1].
		BadDecay,
		/// The next reward is more than the curve may still mint.
		RewardAboveCap,
		/// No epoch has started yet.
		NoEpoch,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(_now: BlockNumberFor<T>) -> Weight {
			Weights::<T>::on_initialize_idle().saturating_add(Self::distribute())
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(
			_now: BlockNumberFor<T>,
		) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Bonds `amount` of the caller's free balance as collateral (held).
		#[pallet::call_index(0)]
		#[pallet::weight(Weights::<T>::bond())]
		pub fn bond(origin: OriginFor<T>, #[pallet::compact] amount: u128) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(amount > 0, Error::<T>::ZeroAmount);
			Funds::<T>::hold(&HoldReason::Collateral.into(), &who, amount)
				.map_err(|_| Error::<T>::InsufficientBalance)?;
			Collateral::<T>::mutate(&who, |state| {
				let state = state.get_or_insert_with(Default::default);
				state.bonded = state.bonded.saturating_add(amount);
			});
			Self::deposit_event(Event::Bonded { host: who, amount });
			Ok(())
		}

		/// Starts unbonding `amount` of the caller's bonded collateral: it covers no weight
		/// from now on, and can be withdrawn from the next epoch on once every epoch up to
		/// this one is distributed (until then it can still be slashed).
		#[pallet::call_index(1)]
		#[pallet::weight(Weights::<T>::unbond())]
		pub fn unbond(origin: OriginFor<T>, #[pallet::compact] amount: u128) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(amount > 0, Error::<T>::ZeroAmount);
			let epoch = Self::epoch_now().ok_or(Error::<T>::NoEpoch)?;
			Collateral::<T>::try_mutate(&who, |state| {
				let state = state.as_mut().ok_or(Error::<T>::NotBonded)?;
				ensure!(amount <= state.bonded, Error::<T>::NotBonded);
				state.bonded = state.bonded.saturating_sub(amount);
				state.unbonding = state.unbonding.saturating_add(amount);
				state.unbond_epoch = epoch;
				Ok::<_, Error<T>>(())
			})?;
			Self::deposit_event(Event::Unbonding { host: who, amount, epoch });
			Ok(())
		}

		/// Releases the caller's unbonding collateral, from the epoch after its last
		/// `unbond` on, once every epoch up to that one is distributed.
		#[pallet::call_index(2)]
		#[pallet::weight(Weights::<T>::withdraw_unbonded())]
		pub fn withdraw_unbonded(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let now = Self::epoch_now().ok_or(Error::<T>::NoEpoch)?;
			let mut state = Collateral::<T>::get(&who).ok_or(Error::<T>::NothingUnbonding)?;
			ensure!(state.unbonding > 0, Error::<T>::NothingUnbonding);
			ensure!(now > state.unbond_epoch, Error::<T>::UnbondingNotDue);
			let backed = state.unbond_epoch;
			ensure!(
				Queue::<T>::get().first().is_none_or(|oldest| *oldest > backed),
				Error::<T>::StillSlashable
			);
			let amount = state.unbonding;
			Funds::<T>::release(&HoldReason::Collateral.into(), &who, amount, Precision::Exact)
				.map_err(|_| Error::<T>::NothingUnbonding)?;
			state.unbonding = 0;
			Self::store_collateral(&who, state);
			Self::deposit_event(Event::Withdrawn { host: who, amount });
			Ok(())
		}

		/// Releases the caller's unlocked rewards.
		#[pallet::call_index(3)]
		#[pallet::weight(Weights::<T>::claim())]
		pub fn claim(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let now = Self::epoch_now().ok_or(Error::<T>::NoEpoch)?;
			let mut state = Vesting::<T>::get(&who).ok_or(Error::<T>::NothingToClaim)?;
			state.roll(now);
			let amount = state.claimable;
			ensure!(amount > 0, Error::<T>::NothingToClaim);
			Funds::<T>::release(&HoldReason::Vesting.into(), &who, amount, Precision::Exact)
				.map_err(|_| Error::<T>::NothingToClaim)?;
			state.claimable = 0;
			if state.slots.is_empty() {
				Vesting::<T>::remove(&who);
			} else {
				Vesting::<T>::insert(&who, state);
			}
			Self::deposit_event(Event::Claimed { host: who, amount });
			Ok(())
		}

		/// Pays `amount` from the community pool to `to` (compute-weighted governance
		/// only). The pool stays alive.
		#[pallet::call_index(4)]
		#[pallet::weight(Weights::<T>::spend_from_pool())]
		pub fn spend_from_pool(
			origin: OriginFor<T>,
			to: T::AccountId,
			#[pallet::compact] amount: u128,
		) -> DispatchResult {
			T::PoolOrigin::ensure_origin(origin)?;
			ensure!(amount > 0, Error::<T>::ZeroAmount);
			Funds::<T>::transfer(&T::CommunityPool::get(), &to, amount, Preservation::Preserve)
				.map_err(|_| Error::<T>::PoolTooLow)?;
			Self::deposit_event(Event::PoolSpent { to, amount });
			Ok(())
		}

		/// Sets the rules (governance). They apply to the next formation and distribution;
		/// rewards already vesting keep their slots.
		#[pallet::call_index(5)]
		#[pallet::weight(Weights::<T>::set_params())]
		pub fn set_params(origin: OriginFor<T>, params: RewardParams) -> DispatchResult {
			<T as pallet_poc::Config>::UpdateOrigin::ensure_origin(origin)?;
			params.check::<T::MaxVestingEpochs>().map_err(|error| match error {
				InvalidRewardParams::VestingTooLong => Error::<T>::VestingTooLong,
				InvalidRewardParams::BadDowntimeTest => Error::<T>::BadDowntimeTest,
				InvalidRewardParams::ZeroRewardCap => Error::<T>::ZeroRewardCap,
			})?;
			Params::<T>::put(params);
			Self::deposit_event(Event::ParamsSet { params });
			Ok(())
		}

		/// Sets the curve's next reward (nGNK) and its decay per epoch (parts per 10^18)
		/// (governance). What the curve minted and its cap are kept.
		#[pallet::call_index(6)]
		#[pallet::weight(Weights::<T>::set_curve())]
		pub fn set_curve(origin: OriginFor<T>, next_reward: u128, decay: u64) -> DispatchResult {
			<T as pallet_poc::Config>::UpdateOrigin::ensure_origin(origin)?;
			let mut curve = Curve::<T>::get();
			ensure!(
				next_reward <= curve.cap.saturating_sub(curve.minted),
				Error::<T>::RewardAboveCap
			);
			curve.scaled_reward = next_reward.saturating_mul(REWARD_SCALE);
			curve.decay = decay;
			ensure!(curve.is_valid(), Error::<T>::BadDecay);
			Curve::<T>::put(curve);
			Self::deposit_event(Event::CurveSet { next_reward, decay });
			Ok(())
		}
	}

	impl<T: Config> pallet_poc::OnWeightsFormed<T::AccountId> for Pallet<T> {
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
			let raw: Vec<u128> = weights.iter().map(|(_, weight)| *weight).collect();
			let total_weight = raw.iter().fold(0u128, |sum, w| sum.saturating_add(*w));
			let cap_level = gonka_primitives::cap::cap_level(&raw, Params::<T>::get().reward_cap);
			let mut hosts = 0u32;
			for (host, weight) in weights {
				EpochWeights::<T>::insert(epoch, host, weight);
				hosts = hosts.saturating_add(1);
			}
			Queue::<T>::put(queue);
			LastFormed::<T>::put(epoch);
			Epochs::<T>::insert(
				epoch,
				EpochReward { index, reward, total_weight, cap_level, hosts, decided: 0, paid: 0 },
			);
			Self::deposit_event(Event::EpochRewardScheduled { epoch, index, reward, hosts });
			weight
		}
	}

	/// Holds back pallet-inference's settlement of an epoch's ledger while the epoch's
	/// reward is being distributed (the distribution reads INVALID and the misses).
	pub struct DistributionPending<T>(core::marker::PhantomData<T>);
	impl<T: Config> Contains<EpochIndex> for DistributionPending<T> {
		fn contains(epoch: &EpochIndex) -> bool {
			Epochs::<T>::contains_key(epoch)
		}
	}

	impl<T: Config> Pallet<T> {
		/// The epoch in progress.
		pub(crate) fn epoch_now() -> Option<EpochIndex> {
			CurrentEpoch::<T>::get().map(|epoch| epoch.index)
		}

		/// Decides up to `MaxPayoutsPerBlock` hosts' shares of the oldest queued epoch, once
		/// its inference ledger is final; closes the epoch when every host is decided.
		pub(crate) fn distribute() -> Weight {
			let Some(epoch) = Queue::<T>::get().first().copied() else {
				return Weight::zero();
			};
			let Some(now) = Self::epoch_now() else {
				return Weight::zero();
			};
			if epoch.saturating_add(<T as pallet_inference::Config>::LedgerEpochs::get()) >= now {
				return Weight::zero();
			}
			let Some(mut info) = Epochs::<T>::get(epoch) else {
				defensive!("a queued epoch has its reward");
				Queue::<T>::mutate(|queue| queue.retain(|queued| *queued != epoch));
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
			// The worse of a paid and a slashed host; each decided host's weight record is
			// also read and removed by the drain.
			let per_host = Weights::<T>::distribute_host()
				.max(Weights::<T>::distribute_host_slashed())
				.saturating_add(T::DbWeight::get().reads_writes(1, 1));
			weight.saturating_add(per_host.saturating_mul(decided.into()))
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
			totals: &pallet_inference::DutyTotals,
		) -> u128 {
			let effective = Self::effective_weight(host, weight, info.index, params);
			let capped = info.cap_level.map_or(effective, |level| effective.min(level));
			let share = issuance::reward_share(info.reward, capped, info.total_weight);
			let stats = pallet_inference::Ledger::<T>::get(epoch, host);
			let invalid = stats.invalid;
			// Misses are recorded in the epoch they happen in, assignments in the epoch they
			// are made in: an epoch's misses may exceed its assignments at the boundary.
			let down = issuance::fails_downtime_test(
				stats.missed.min(stats.assigned),
				stats.assigned,
				totals.missed.min(totals.assigned),
				totals.assigned,
				params.downtime_floor,
				params.downtime_margin,
				params.downtime_p_value,
			);
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
			match withheld {
				Some(reason) => {
					Self::deposit_event(Event::RewardWithheld {
						epoch,
						host: host.clone(),
						amount: share,
						reason,
					});
					0
				}
				None => {
					if share > 0 {
						Self::deposit_event(Event::HostRewarded {
							epoch,
							host: host.clone(),
							amount: share,
							vesting_epochs: params.vesting_epochs,
						});
					}
					share
				}
			}
		}

		/// Mints `amount` to `host`, held and vesting over `epochs` slots from epoch
		/// `now + 1` (free at once when `epochs` is zero). All or nothing.
		fn pay(host: &T::AccountId, now: EpochIndex, amount: u128, epochs: u32) -> DispatchResult {
			with_storage_layer(|| {
				Funds::<T>::mint_into(host, amount)?;
				if epochs == 0 {
					return Ok(());
				}
				Funds::<T>::hold(&HoldReason::Vesting.into(), host, amount)?;
				let mut state = Vesting::<T>::get(host).unwrap_or_else(|| VestingState::empty(now));
				state.roll(now);
				ensure!(state.add(now, amount, epochs), Error::<T>::VestingTooLong);
				Vesting::<T>::insert(host, state);
				Ok(())
			})
		}

		/// Slashes `share` of `host`'s collateral (bonded first, then unbonding) to the
		/// community pool, unless it was already slashed for `reason` in `epoch`.
		pub(crate) fn slash(
			host: &T::AccountId,
			epoch: EpochIndex,
			reason: SlashReason,
			share: Perbill,
		) {
			let Some(mut state) = Collateral::<T>::get(host) else {
				return;
			};
			if *state.last_slash(reason) == Some(epoch) {
				return;
			}
			*state.last_slash(reason) = Some(epoch);
			let amount = share.mul_floor(state.total());
			let slashed = Funds::<T>::transfer_on_hold(
				&HoldReason::Collateral.into(),
				host,
				&T::CommunityPool::get(),
				amount,
				Precision::BestEffort,
				Restriction::Free,
				Fortitude::Force,
			)
			.unwrap_or_else(|_| {
				defensive!("collateral is held and the pool exists");
				0
			});
			state.take(slashed);
			Self::store_collateral(host, state);
			Self::deposit_event(Event::Slashed {
				host: host.clone(),
				epoch,
				reason,
				amount: slashed,
			});
		}

		/// Mints what `epoch`'s hosts were not paid to the community pool and removes the
		/// epoch from the queue.
		pub(crate) fn close(epoch: EpochIndex, info: &EpochReward) {
			let to_pool = info.reward.saturating_sub(info.paid);
			if to_pool > 0 && Funds::<T>::mint_into(&T::CommunityPool::get(), to_pool).is_err() {
				// The pool is endowed at genesis; if it cannot receive, the curve un-mints.
				defensive!("the community pool receives the remainder");
				Curve::<T>::mutate(|curve| curve.minted = curve.minted.saturating_sub(to_pool));
			}
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

		/// Stores a host's collateral, removing an empty record.
		fn store_collateral(host: &T::AccountId, state: CollateralState) {
			if state.total() == 0 {
				Collateral::<T>::remove(host);
			} else {
				Collateral::<T>::insert(host, state);
			}
		}

		/// `host`'s effective weight in the `index`-th rewarded epoch: all of `weight` during
		/// the grace epochs, else its free share plus what its bonded collateral covers.
		pub(crate) fn effective_weight(
			host: &T::AccountId,
			weight: u128,
			index: u32,
			params: &RewardParams,
		) -> u128 {
			if index <= params.grace_epochs {
				return weight;
			}
			let bonded = Collateral::<T>::get(host).map_or(0, |state| state.bonded);
			effective_weight(
				weight,
				bonded,
				params.free_weight_share,
				params.collateral_per_weight_unit,
			)
		}

		/// What the runtime API shows of a host.
		pub fn host_view(host: &T::AccountId) -> runtime_api::HostRewards {
			let now = Self::epoch_now().unwrap_or_default();
			let (vesting, claimable) = Vesting::<T>::get(host).map_or((0, 0), |mut state| {
				state.roll(now);
				(state.vesting(), state.claimable)
			});
			let collateral = Collateral::<T>::get(host).unwrap_or_default();
			let params = Params::<T>::get();
			let weight = LastFormed::<T>::get()
				.and_then(|epoch| EpochWeights::<T>::get(epoch, host))
				.unwrap_or_default();
			let next_index = Curve::<T>::get().next_epoch;
			runtime_api::HostRewards {
				pending_work: pallet_inference::Pallet::<T>::host_view(host).pending_work,
				vesting,
				claimable,
				bonded: collateral.bonded,
				unbonding: collateral.unbonding,
				unbond_epoch: collateral.unbond_epoch,
				weight,
				effective_weight: Self::effective_weight(host, weight, next_index, &params),
				collateral_required: collateral_required(
					weight,
					params.free_weight_share,
					params.collateral_per_weight_unit,
				),
				in_grace: next_index <= params.grace_epochs,
			}
		}

		/// The next rewarded epoch's index and reward.
		pub fn next_reward() -> (u32, u128) {
			let curve = Curve::<T>::get();
			(curve.next_epoch, curve.next_reward())
		}

		/// The pallet's invariants: the total issuance is the genesis issuance plus what the
		/// curve minted, less what queued epochs have not minted yet; vesting and collateral
		/// records equal their holds; every queued epoch has its reward and only queued
		/// epochs have weights; the curve stays under its cap.
		#[cfg(any(feature = "std", feature = "try-runtime"))]
		pub fn do_try_state() -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
			use polkadot_sdk::frame_support::traits::fungible::InspectHold;
			let curve = Curve::<T>::get();
			ensure!(curve.minted <= curve.cap, "the curve never mints past its cap");
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
			ensure!(
				Funds::<T>::total_issuance().saturating_add(unminted)
					== GenesisIssuance::<T>::get().saturating_add(curve.minted),
				"total issuance = genesis + minted by the curve"
			);
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
}
