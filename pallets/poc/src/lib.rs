#![doc = include_str!("../README.md")]
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
use polkadot_sdk::frame_support::pallet_macros::import_section;
pub use roster::MaxRosterChunks;
pub use types::*;
pub use weights::WeightInfo;

mod authorize;
mod dispatchable_impls;
mod epochs;
mod events;
mod formation;
mod genesis;
mod hosts;
pub mod migrations;
mod power;
mod roster;
mod tick_impls;
#[cfg(any(test, feature = "try-runtime"))]
mod try_state;
mod types;
mod validation;
pub mod validity;

pub mod runtime_api;
pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;

#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

/// The events and errors are a pallet section of their own (`events.rs`).
#[import_section(events::poc_events)]
#[polkadot_sdk::frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use gonka_primitives::{
		duty::{PocCommit, PocValidation},
		EpochIndex, HostId, ModelId, NonceCount, H256,
	};
	use polkadot_sdk::{
		frame_support::{
			pallet_prelude::*,
			traits::fungible::{Inspect, Mutate, MutateHold},
		},
		frame_system::{self, pallet_prelude::*},
		sp_core::sr25519,
		sp_runtime::Perbill,
	};

	/// The balance type of the deposit currency.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	/// A host as stored.
	pub type HostOf<T> =
		HostInfo<<T as Config>::MaxEndpointLength, <T as Config>::MaxModelsPerHost, BalanceOf<T>>;
	/// Epoch parameters with the runtime's block number.
	pub type EpochParamsOf<T> = EpochParams<BlockNumberFor<T>>;
	/// The epoch in progress with the runtime's block number.
	pub type EpochInfoOf<T> = EpochInfo<BlockNumberFor<T>>;
	/// A host registered at genesis: account, worker key, endpoint, models.
	pub type GenesisHostOf<T> =
		(<T as frame_system::Config>::AccountId, sr25519::Public, Vec<u8>, Vec<ModelId>);
	/// The weight formation in progress with the runtime's account.
	pub type FormationOf<T> = FormationState<<T as frame_system::Config>::AccountId>;
	/// The committed hosts of an (epoch, model), sorted, with their tallies.
	pub type RosterOf<T> =
		BoundedVec<(<T as frame_system::Config>::AccountId, Tally), <T as Config>::MaxHosts>;

	/// The storage version ([`migrations::v2`]).
	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(3);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config<AccountId = HostId> {
		/// Holds the hosts' registration deposits.
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ Mutate<Self::AccountId>;
		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;
		/// The deposit a host holds while registered (it makes filling the registry costly).
		#[pallet::constant]
		type HostDeposit: Get<BalanceOf<Self>>;
		/// Who may change the epoch parameters (governance).
		type UpdateOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// The approved models and their coefficients.
		type Models: ModelRegistry;
		/// The most hosts that may be registered at once.
		#[pallet::constant]
		type MaxHosts: Get<u32>;
		/// The most models one host may serve.
		#[pallet::constant]
		type MaxModelsPerHost: Get<u32>;
		/// The longest endpoint URL, in bytes.
		#[pallet::constant]
		type MaxEndpointLength: Get<u32>;
		/// The most commitments a host may send per model and epoch (its budget of free
		/// duty transactions: duties pay no fee).
		#[pallet::constant]
		type MaxCommitsPerModel: Get<u32>;
		/// The largest share of the total consensus weight one host may hold (25%).
		#[pallet::constant]
		type MaxWeightShare: Get<Perbill>;
		/// Hosts per chunk of a model's executor roster: picking an executor reads the
		/// roster's chunk totals and one chunk, never the whole roster.
		#[pallet::constant]
		type RosterChunk: Get<u32>;
		/// For how many past epochs commitments, tallies and batches are kept.
		#[pallet::constant]
		type RetentionEpochs: Get<u32>;
		/// The pool priority of duty transactions.
		#[pallet::constant]
		type DutyPriority: Get<TransactionPriority>;
		/// Told of each weight formation (the epoch's reward is scheduled over its weights).
		type OnWeightsFormed: OnWeightsFormed<Self::AccountId>;
		/// The most weight `on_initialize` spends per block on the epoch's spread work:
		/// building the validation rosters, pruning the epochs that left the retention
		/// window and the generations of voting power no longer held (`tick_impls.rs`). A
		/// step that does not fit waits for the next block; each block makes progress.
		#[pallet::constant]
		type HookBudget: Get<Weight>;
		/// The weights of this pallet.
		type WeightInfo: WeightInfo;
	}

	/// Why the pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The deposit of a registered host.
		HostRegistration,
	}

	/// Registered hosts by account.
	#[pallet::storage]
	pub type Hosts<T: Config> = CountedStorageMap<_, Blake2_128Concat, T::AccountId, HostOf<T>>;

	/// The epoch in progress when each host registered: a host commits PoC from the next
	/// epoch on, so an epoch's committers are hosts registered when it started (at most
	/// `MaxHosts`, however many accounts come and go during it). None for the genesis
	/// hosts and those registered before this rule.
	#[pallet::storage]
	pub type JoinedEpoch<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, EpochIndex, OptionQuery>;

	/// Which host a worker key belongs to (a key serves one host only).
	#[pallet::storage]
	pub type WorkerKeys<T: Config> = StorageMap<_, Blake2_128Concat, sr25519::Public, T::AccountId>;

	/// The epoch in progress; `None` before the first block.
	#[pallet::storage]
	pub type CurrentEpoch<T: Config> = StorageValue<_, EpochInfoOf<T>>;

	/// PoC commitments by epoch, model and host: a model's commitments are adjacent, so
	/// the rosters are built a few models per block (`validation.rs`).
	#[pallet::storage]
	pub type Commitments<T: Config> = StorageNMap<
		_,
		(
			NMapKey<Twox64Concat, EpochIndex>,
			NMapKey<Twox64Concat, ModelId>,
			NMapKey<Blake2_128Concat, T::AccountId>,
		),
		Commitment,
	>;

	/// The validation rosters being built: the epoch and the last commitment added (its
	/// model and host), `None` before the first. Absent when no roster is being built.
	#[pallet::storage]
	pub type RosterCursor<T: Config> =
		StorageValue<_, (EpochIndex, Option<(ModelId, T::AccountId)>), OptionQuery>;

	/// The last epoch whose validation rosters are complete: validation batches for an
	/// epoch are accepted once its rosters are built.
	#[pallet::storage]
	pub type RostersBuilt<T: Config> = StorageValue<_, EpochIndex, OptionQuery>;

	/// The first epoch whose commitments, rosters and batches are not pruned: the epochs
	/// below it hold none. Epochs that left the retention window are pruned a few records
	/// per block from it.
	#[pallet::storage]
	pub type PrunedBefore<T: Config> = StorageValue<_, EpochIndex, ValueQuery>;

	/// The roster of each (epoch, model): the registered hosts that committed, sorted by
	/// account, each with the validators' tally on its commitment (the voting power that
	/// said valid and invalid). Built from the end of generation, a few models per block
	/// (complete once `RostersBuilt` names the epoch); one read and one write per
	/// validation batch, however many hosts it judges.
	#[pallet::storage]
	pub type Tallies<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		EpochIndex,
		Twox64Concat,
		ModelId,
		RosterOf<T>,
		ValueQuery,
	>;

	/// Which validators sent their batch for a model in an epoch (one batch each).
	#[pallet::storage]
	pub type Validated<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		EpochIndex,
		Blake2_128Concat,
		(ModelId, T::AccountId),
		(),
		OptionQuery,
	>;

	/// The weight formation in progress (`formation.rs`): its epoch and its step, with the
	/// step's cursor. Absent outside a formation.
	#[pallet::storage]
	pub type Formation<T: Config> = StorageValue<_, FormationOf<T>, OptionQuery>;

	/// The consensus weights the formation in progress has formed so far, sorted by
	/// account (uncapped; capped once the rewards are scheduled).
	#[pallet::storage]
	pub type FormingWeights<T: Config> =
		StorageValue<_, BoundedVec<(T::AccountId, u128), <T as Config>::MaxHosts>, ValueQuery>;

	/// The executor rosters the formation in progress forms, as [`ExecutorRoster`] holds
	/// them: they replace them, model by model, once the epoch's reward is scheduled.
	#[pallet::storage]
	pub type NextRoster<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		ModelId,
		Twox64Concat,
		u32,
		BoundedVec<(T::AccountId, NonceCount), T::RosterChunk>,
		ValueQuery,
	>;

	/// The totals of [`NextRoster`], as [`RosterTotals`] holds them.
	#[pallet::storage]
	pub type NextTotals<T: Config> =
		StorageMap<_, Twox64Concat, ModelId, BoundedVec<u128, MaxRosterChunks<T>>, OptionQuery>;

	/// The last epoch whose weights were formed.
	#[pallet::storage]
	pub type LastFormedEpoch<T: Config> = StorageValue<_, EpochIndex, OptionQuery>;

	/// The sum of the voting power in force (`Pallet::voting_power`: each host's power in
	/// the generation in force, unless it left since).
	#[pallet::storage]
	pub type TotalVotingPower<T: Config> = StorageValue<_, u128, ValueQuery>;

	/// [`TotalVotingPower`] when the epoch's validation opened: the total the formation
	/// compares the verdicts with, which departures (and power revoked) during validation
	/// cannot lower. Taken by the formation; absent outside validation (the formation then
	/// uses [`TotalVotingPower`]).
	#[pallet::storage]
	pub type ValidationTotal<T: Config> = StorageValue<_, u128, OptionQuery>;

	/// The generation of voting power in force: 0 from genesis, one more with each weight
	/// formation that replaces the power (a carried-over epoch keeps it).
	#[pallet::storage]
	pub type PowerGeneration<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// The voting power each kept generation gave each host, as formed (never changed
	/// afterwards): the power in force is the current generation's, unless the host left
	/// (`Departures`); governance snapshots are a generation, not a copy of the powers. The
	/// formation in progress writes the next generation here before putting it in force.
	#[pallet::storage]
	pub type PowerHistory<T: Config> =
		StorageDoubleMap<_, Twox64Concat, u32, Blake2_128Concat, T::AccountId, u128, OptionQuery>;

	/// The hosts with power in a kept generation that left during it, numbered in order of
	/// departure: a snapshot taken after the `n`-th departure excludes departures `< n`.
	#[pallet::storage]
	pub type Departures<T: Config> =
		StorageDoubleMap<_, Twox64Concat, u32, Blake2_128Concat, T::AccountId, u32, OptionQuery>;

	/// The kept generations: formed host count, departures, snapshots holding them.
	#[pallet::storage]
	pub type PowerGenerations<T: Config> =
		StorageMap<_, Twox64Concat, u32, GenerationInfo, OptionQuery>;

	/// The oldest kept generation: generations below it are pruned; it is pruned once it is
	/// not in force and no snapshot holds it.
	#[pallet::storage]
	pub type OldestPowerGeneration<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// The first generation whose records (`PowerHistory`, `Departures`) may remain: the
	/// records of a generation no longer kept are removed a few per block, oldest first.
	#[pallet::storage]
	pub type PowerPrunedBefore<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// Each model's executor roster, in chunks of `RosterChunk` hosts, sorted by account:
	/// the hosts with PoC weight on the model and that weight (the nonce count of their last
	/// accepted commitment), as the last weight formation left them. The PoC weights in
	/// force (`Pallet::poc_weight`).
	#[pallet::storage]
	pub type ExecutorRoster<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		ModelId,
		Twox64Concat,
		u32,
		BoundedVec<(T::AccountId, NonceCount), T::RosterChunk>,
		ValueQuery,
	>;

	/// Each model's roster totals: the cumulative weight up to the end of each chunk.
	#[pallet::storage]
	pub type RosterTotals<T: Config> =
		StorageMap<_, Twox64Concat, ModelId, BoundedVec<u128, MaxRosterChunks<T>>, ValueQuery>;

	/// The epoch whose PoC formed each model's executor roster in force (0 for the genesis
	/// rosters): an entry stands only for a host registered before that epoch
	/// (`Pallet::stands`), so a host that leaves and registers again keeps no weight from
	/// before it left.
	#[pallet::storage]
	pub type RosterEpoch<T: Config> = StorageMap<_, Twox64Concat, ModelId, EpochIndex, OptionQuery>;

	/// The hosts whose voting power was revoked (INVALID) during the formation in
	/// progress, before it scheduled the reward, sorted: the formation takes them out of
	/// the forming weights before the cap and writes them no power, so the revocation lasts
	/// until a formation started after it. Read once at the cap (not a read per host);
	/// emptied when a formation starts and ends.
	#[pallet::storage]
	pub type FormingRevoked<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, <T as Config>::MaxHosts>, ValueQuery>;

	/// The parameters the next epoch will start with.
	#[pallet::storage]
	pub type NextEpochParams<T: Config> = StorageValue<_, EpochParamsOf<T>, OptionQuery>;

	#[pallet::genesis_config]
	pub struct GenesisConfig<T: Config> {
		/// The parameters of the first epoch.
		pub epoch_params: EpochParamsOf<T>,
		/// Hosts registered at genesis: account, worker key, endpoint, models. Their
		/// deposits are held at genesis.
		pub hosts: Vec<GenesisHostOf<T>>,
	}

	impl<T: Config> Default for GenesisConfig<T> {
		/// The live Gonka network's phase lengths, and no hosts.
		fn default() -> Self {
			Self { epoch_params: EpochParams::live_network(), hosts: Vec::new() }
		}
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		/// Schedules the first epoch's parameters and registers the genesis hosts with equal
		/// voting power and PoC weight (`genesis.rs`).
		fn build(&self) {
			Pallet::<T>::build_genesis(self.epoch_params, &self.hosts);
		}
	}

	/// The voting power of each genesis host in the first epoch.
	pub const GENESIS_HOST_POWER: u128 = 1;
	/// The PoC weight of each genesis host on each of its models until the first formation.
	pub const GENESIS_HOST_POC_WEIGHT: NonceCount = 1;

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Starts epochs, starts the rosters and forms the weights on their blocks, and spreads
		/// the rosters and the pruning over blocks within `HookBudget` (`tick_impls.rs`).
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::tick(now)
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
		/// Registers the caller as a host with `worker_key`, `endpoint` and `models`, holding
		/// `HostDeposit` from its account.
		///
		/// The dispatch origin must be signed by the account that becomes the host.
		///
		/// - `worker_key`: the sr25519 key the host's worker signs duties with; no other host
		///   may use it.
		/// - `key_proof`: the worker key's signature of
		///   `gonka_primitives::duty::key_ownership_message(genesis hash, caller)`: the caller
		///   holds the key (nobody can register a key someone else published).
		/// - `endpoint`: where other workers reach the host, an `http://` or `https://` URL of
		///   visible ASCII, at most `MaxEndpointLength` bytes.
		/// - `models`: the models the host serves: at least one, at most `MaxModelsPerHost`,
		///   no duplicate, each approved by governance.
		///
		/// Emits `HostRegistered`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_host())]
		pub fn register_host(
			origin: OriginFor<T>,
			worker_key: sr25519::Public,
			key_proof: sr25519::Signature,
			endpoint: Vec<u8>,
			models: Vec<ModelId>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::check_key_proof(&who, &worker_key, &key_proof)?;
			Self::do_register(&who, worker_key, endpoint, models, true)
		}

		/// Changes the caller's worker key, endpoint or models (each when given).
		///
		/// The dispatch origin must be signed by a registered host.
		///
		/// - `worker_key`: the new worker key and its proof of ownership (as in
		///   `register_host`), if any; no other host may use it.
		/// - `endpoint`: the new endpoint, if any, checked as in `register_host`.
		/// - `models`: the new list of models, if any, checked as in `register_host`; a
		///   different list only in the inference phase (a host's models stay fixed from
		///   the start of generation to the end of validation).
		///
		/// Emits `HostUpdated`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::update_host())]
		pub fn update_host(
			origin: OriginFor<T>,
			worker_key: Option<(sr25519::Public, sr25519::Signature)>,
			endpoint: Option<Vec<u8>>,
			models: Option<Vec<ModelId>>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_update_host(who, worker_key, endpoint, models)
		}

		/// Removes the caller from the registry and releases its deposit. The host's voting
		/// power goes with it (a governance snapshot taken before keeps its power), and its
		/// place in a formation in progress; its PoC weights stay in the executor rosters
		/// until the next formation, but a host that left is never drawn nor carried over.
		///
		/// The dispatch origin must be signed by a registered host.
		///
		/// Emits `HostLeft`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::leave())]
		pub fn leave(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_leave(who)
		}

		/// A host's PoC commitment for one model in the generation phase: `commit.count`
		/// nonces with Merkle root `commit.root`, signed by the host's worker key. A
		/// transaction with no signer and no fee, valid only through its `authorize` rule;
		/// the count only grows and the last commitment counts.
		///
		/// The dispatch origin must be `Authorized` (the `authorize` rule accepted the
		/// transaction); the commitment is checked again against the state at dispatch.
		///
		/// - `host`: the registered host committing.
		/// - `commit`: the epoch in progress, the model, the nonce count and their Merkle root.
		/// - `_signature`: the host's worker key's signature of the payload for this chain
		///   (checked by the `authorize` rule).
		///
		/// Emits `PocCommitted`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::commit_poc())]
		#[pallet::weight_of_authorize(T::WeightInfo::authorize_commit_poc())]
		#[pallet::authorize(Self::authorize_commit_poc)]
		pub fn commit_poc(
			origin: OriginFor<T>,
			host: T::AccountId,
			commit: PocCommit,
			// Checked in `authorize_commit_poc`.
			_signature: sr25519::Signature,
		) -> DispatchResult {
			frame_system::ensure_authorized(origin)?;
			Self::do_commit_poc(host, commit)
		}

		/// A validator's verdicts on the other hosts' commitments for one model, in the
		/// validation phase: one batch per validator, model and epoch, signed by its worker
		/// key. Each verdict adds the validator's voting power to the host's tally. A
		/// transaction with no signer and no fee, valid only through its `authorize` rule.
		///
		/// The dispatch origin must be `Authorized` (the `authorize` rule accepted the
		/// transaction); the batch is checked again against the state at dispatch.
		///
		/// - `validator`: the registered host with voting power that judges.
		/// - `validation`: the epoch in progress, the model and the verdicts, sorted by host,
		///   each on a host with a commitment for the model, never on the validator.
		/// - `_signature`: the validator's worker key's signature of the payload for this
		///   chain (checked by the `authorize` rule).
		///
		/// Emits `PocValidationsSubmitted`.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::submit_poc_validations(validation.verdicts.len() as u32))]
		#[pallet::weight_of_authorize(
			T::WeightInfo::authorize_submit_poc_validations(validation.verdicts.len() as u32)
		)]
		#[pallet::authorize(Self::authorize_submit_poc_validations)]
		pub fn submit_poc_validations(
			origin: OriginFor<T>,
			validator: T::AccountId,
			validation: PocValidation<T::MaxHosts>,
			// Checked in `authorize_submit_poc_validations`.
			_signature: sr25519::Signature,
		) -> DispatchResult {
			frame_system::ensure_authorized(origin)?;
			Self::do_submit_poc_validations(validator, validation)
		}

		/// Sets the phase lengths; they apply from the next epoch on.
		///
		/// The dispatch origin must be `UpdateOrigin` (governance).
		///
		/// - `params`: the epoch length and the generation, delay and validation phases:
		///   each phase at least one block, and at least one block of the epoch left for
		///   inference.
		///
		/// Emits `EpochParamsScheduled`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::set_epoch_params())]
		pub fn set_epoch_params(origin: OriginFor<T>, params: EpochParamsOf<T>) -> DispatchResult {
			T::UpdateOrigin::ensure_origin(origin)?;
			Self::do_set_epoch_params(params)
		}
	}
}
