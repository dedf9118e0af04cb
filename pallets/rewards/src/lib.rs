#![doc = include_str!("../README.md")]
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use distribution::DistributionPending;
pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

mod collateral;
mod dispatchable_impls;
mod distribution;
mod pool;
#[cfg(any(feature = "std", feature = "try-runtime"))]
mod try_state;
mod types;
mod vesting;

pub mod runtime_api;
pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;

#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

/// The most epochs waiting for their distribution at once (an epoch waits `LedgerEpochs`
/// epochs; more than this many formed epochs would mean a stalled distribution).
pub const MAX_QUEUED_EPOCHS: u32 = 16;

#[polkadot_sdk::frame_support::pallet]
pub mod pallet {
	use super::*;
	use gonka_primitives::{
		issuance::{self, RewardCurve},
		EpochIndex,
	};
	use polkadot_sdk::{
		frame_support::{
			pallet_prelude::*,
			traits::fungible::{Inspect, Mutate, MutateHold},
		},
		frame_system::pallet_prelude::*,
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
		EpochRewardScheduled {
			/// The epoch whose weights were formed.
			epoch: EpochIndex,
			/// Its index `e` on the reward curve.
			index: u32,
			/// `R(e)` in nGNK, minted when the epoch is distributed.
			reward: u128,
			/// The hosts with weight in the epoch.
			hosts: u32,
		},
		/// A host's share of an epoch's reward was minted to it, vesting over
		/// `vesting_epochs` epochs.
		HostRewarded {
			/// The rewarded epoch.
			epoch: EpochIndex,
			/// The host paid.
			host: T::AccountId,
			/// Its share in nGNK.
			amount: u128,
			/// The epochs the share vests over (0: paid free).
			vesting_epochs: u32,
		},
		/// A host's share of an epoch's reward went to the community pool.
		RewardWithheld {
			/// The rewarded epoch.
			epoch: EpochIndex,
			/// The host not paid.
			host: T::AccountId,
			/// The share it would have been paid, in nGNK.
			amount: u128,
			/// Why it was not paid.
			reason: Withheld,
		},
		/// An epoch's reward is distributed: `paid` to hosts, `to_pool` to the community pool
		/// (`paid + to_pool = reward`).
		EpochRewarded {
			/// The distributed epoch.
			epoch: EpochIndex,
			/// Its index `e` on the reward curve.
			index: u32,
			/// `R(e)` in nGNK.
			reward: u128,
			/// Paid to hosts, in nGNK.
			paid: u128,
			/// Minted to the community pool, in nGNK.
			to_pool: u128,
		},
		/// A host claimed its unlocked rewards.
		Claimed {
			/// The host that claimed.
			host: T::AccountId,
			/// The amount released, in nGNK.
			amount: u128,
		},
		/// A host bonded collateral.
		Bonded {
			/// The host that bonded.
			host: T::AccountId,
			/// The amount bonded, in nGNK.
			amount: u128,
		},
		/// A host started unbonding collateral.
		Unbonding {
			/// The host that unbonds.
			host: T::AccountId,
			/// The amount moved to unbonding, in nGNK.
			amount: u128,
			/// The epoch of the unbonding (withdrawable from the next one on).
			epoch: EpochIndex,
		},
		/// A host withdrew its unbonded collateral.
		Withdrawn {
			/// The host that withdrew.
			host: T::AccountId,
			/// The amount released, in nGNK.
			amount: u128,
		},
		/// A host's collateral was slashed to the community pool.
		Slashed {
			/// The slashed host.
			host: T::AccountId,
			/// The epoch it is slashed for.
			epoch: EpochIndex,
			/// Why it is slashed.
			reason: SlashReason,
			/// The amount sent to the community pool, in nGNK.
			amount: u128,
		},
		/// Governance spent from the community pool.
		PoolSpent {
			/// The account paid.
			to: T::AccountId,
			/// The amount paid, in nGNK.
			amount: u128,
		},
		/// New rules are in force.
		ParamsSet {
			/// The rules now in force.
			params: RewardParams,
		},
		/// The curve's next reward and decay were set.
		CurveSet {
			/// The next rewarded epoch's reward, in nGNK.
			next_reward: u128,
			/// The decay per epoch, in parts per 10^18.
			decay: u64,
		},
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
		/// Decides the hosts' shares of the oldest queued epoch whose ledger is final
		/// (`distribution.rs`).
		fn on_initialize(_now: BlockNumberFor<T>) -> Weight {
			Weights::<T>::on_initialize_idle().saturating_add(Self::distribute())
		}

		/// Checks the pallet's invariants (`try_state.rs`).
		#[cfg(feature = "try-runtime")]
		fn try_state(
			_now: BlockNumberFor<T>,
		) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Bonds `amount` of the caller's free balance as collateral (held with
		/// `HoldReason::Collateral`). From the end of the grace epochs on, bonded collateral
		/// is what lets a host's weight beyond its free share count for its reward.
		///
		/// The dispatch origin must be signed by the host.
		///
		/// - `amount`: the collateral to bond, in nGNK (not zero).
		///
		/// Emits `Bonded`.
		#[pallet::call_index(0)]
		#[pallet::weight(Weights::<T>::bond())]
		pub fn bond(origin: OriginFor<T>, #[pallet::compact] amount: u128) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_bond(who, amount)
		}

		/// Starts unbonding `amount` of the caller's bonded collateral: it covers no weight
		/// from now on, and can be withdrawn from the next epoch on once every epoch up to
		/// this one is distributed (until then it can still be slashed).
		///
		/// The dispatch origin must be signed by the host.
		///
		/// - `amount`: the bonded collateral to unbond, in nGNK (not zero, at most what is
		///   bonded).
		///
		/// Emits `Unbonding`.
		#[pallet::call_index(1)]
		#[pallet::weight(Weights::<T>::unbond())]
		pub fn unbond(origin: OriginFor<T>, #[pallet::compact] amount: u128) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_unbond(who, amount)
		}

		/// Releases the caller's unbonding collateral, from the epoch after its last
		/// `unbond` on, once every epoch up to that one is distributed.
		///
		/// The dispatch origin must be signed by the host.
		///
		/// Emits `Withdrawn`.
		#[pallet::call_index(2)]
		#[pallet::weight(Weights::<T>::withdraw_unbonded())]
		pub fn withdraw_unbonded(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_withdraw_unbonded(who)
		}

		/// Releases the caller's unlocked rewards (every vesting slot whose epoch has
		/// started).
		///
		/// The dispatch origin must be signed by the host.
		///
		/// Emits `Claimed`.
		#[pallet::call_index(3)]
		#[pallet::weight(Weights::<T>::claim())]
		pub fn claim(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_claim(who)
		}

		/// Pays `amount` from the community pool to `to`. The pool stays alive.
		///
		/// The dispatch origin must be `PoolOrigin` (a passed compute-weighted proposal).
		///
		/// - `to`: the account paid.
		/// - `amount`: the amount paid, in nGNK (not zero).
		///
		/// Emits `PoolSpent`.
		#[pallet::call_index(4)]
		#[pallet::weight(Weights::<T>::spend_from_pool())]
		pub fn spend_from_pool(
			origin: OriginFor<T>,
			to: T::AccountId,
			#[pallet::compact] amount: u128,
		) -> DispatchResult {
			T::PoolOrigin::ensure_origin(origin)?;
			Self::do_spend_from_pool(to, amount)
		}

		/// Sets the rules. They apply to the next formation and distribution; rewards
		/// already vesting keep their slots.
		///
		/// The dispatch origin must be PoC's `UpdateOrigin` (governance).
		///
		/// - `params`: the new rules (checked: vesting within `MaxVestingEpochs`, a downtime
		///   level above 0% and below 50%, a reward cap above zero).
		///
		/// Emits `ParamsSet`.
		#[pallet::call_index(5)]
		#[pallet::weight(Weights::<T>::set_params())]
		pub fn set_params(origin: OriginFor<T>, params: RewardParams) -> DispatchResult {
			<T as pallet_poc::Config>::UpdateOrigin::ensure_origin(origin)?;
			Self::do_set_params(params)
		}

		/// Sets the curve's next reward and its decay per epoch. What the curve minted and
		/// its cap are kept.
		///
		/// The dispatch origin must be PoC's `UpdateOrigin` (governance).
		///
		/// - `next_reward`: the next rewarded epoch's reward, in nGNK (at most what the curve
		///   may still mint).
		/// - `decay`: the factor between two epochs' rewards, in parts per 10^18 (in (0, 1]).
		///
		/// Emits `CurveSet`.
		#[pallet::call_index(6)]
		#[pallet::weight(Weights::<T>::set_curve())]
		pub fn set_curve(origin: OriginFor<T>, next_reward: u128, decay: u64) -> DispatchResult {
			<T as pallet_poc::Config>::UpdateOrigin::ensure_origin(origin)?;
			Self::do_set_curve(next_reward, decay)
		}
	}
}
