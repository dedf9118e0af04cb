//! # Proof of Compute pallet
//!
//! Implements the "Epochs" and "Proof of Compute" sections of the protocol
//! (`shared/spec/protocol.md`):
//!
//! - **Host registry**: a host registers its account with a worker key (sr25519), an
//!   endpoint URL and the models it serves, holding a deposit; it may update or leave.
//! - **Epochs and phases** from block offsets (PoC generation, validation delay, validation,
//!   inference). The epoch seed is the hash of the block before the epoch starts. Phase
//!   lengths are changed by `Config::UpdateOrigin`, and a change applies from the next
//!   epoch, never to the one in flight.
//!
//! Duty transactions (PoC commitments and batched validations, authorized by a payload
//! signed with the worker key) and weight formation build on these.

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

/// The weights of the pallet's calls and hooks. The runtime's implementation is generated
/// from the benchmarks (`scripts/benchmarks.sh`).
pub trait WeightInfo {
	fn register_host() -> polkadot_sdk::frame_support::weights::Weight;
	fn update_host() -> polkadot_sdk::frame_support::weights::Weight;
	fn leave() -> polkadot_sdk::frame_support::weights::Weight;
	fn set_epoch_params() -> polkadot_sdk::frame_support::weights::Weight;
	fn commit_poc() -> polkadot_sdk::frame_support::weights::Weight;
	/// Validating a `commit_poc` transaction (its `authorize` rule).
	fn authorize_commit_poc() -> polkadot_sdk::frame_support::weights::Weight;
	/// A batch of `n` verdicts.
	fn submit_poc_validations(n: u32) -> polkadot_sdk::frame_support::weights::Weight;
	/// Validating a batch of `n` verdicts (its `authorize` rule).
	fn authorize_submit_poc_validations(n: u32) -> polkadot_sdk::frame_support::weights::Weight;
	/// Weight formation over `n` commitments (in `on_initialize`).
	fn form_weights(n: u32) -> polkadot_sdk::frame_support::weights::Weight;
	/// Pruning one epoch's records of `n` commitments (in `on_initialize`).
	fn prune_epoch(n: u32) -> polkadot_sdk::frame_support::weights::Weight;
	/// Opening validation over `n` commitments: the rosters (in `on_initialize`).
	fn open_validation(n: u32) -> polkadot_sdk::frame_support::weights::Weight;
	/// `on_initialize` in a block that starts an epoch.
	fn on_initialize_epoch_start() -> polkadot_sdk::frame_support::weights::Weight;
	/// `on_initialize` in any other block.
	fn on_initialize_idle() -> polkadot_sdk::frame_support::weights::Weight;
	/// Pruning a generation of voting power that `n` hosts held (in `on_initialize`).
	fn prune_power_generation(n: u32) -> polkadot_sdk::frame_support::weights::Weight;
}

/// Zero weights, for test runtimes of other pallets that need PoC but not its weights.
impl WeightInfo for () {
	fn register_host() -> polkadot_sdk::frame_support::weights::Weight {
		Default::default()
	}
	fn update_host() -> polkadot_sdk::frame_support::weights::Weight {
		Default::default()
	}
	fn leave() -> polkadot_sdk::frame_support::weights::Weight {
		Default::default()
	}
	fn set_epoch_params() -> polkadot_sdk::frame_support::weights::Weight {
		Default::default()
	}
	fn commit_poc() -> polkadot_sdk::frame_support::weights::Weight {
		Default::default()
	}
	fn authorize_commit_poc() -> polkadot_sdk::frame_support::weights::Weight {
		Default::default()
	}
	fn submit_poc_validations(_n: u32) -> polkadot_sdk::frame_support::weights::Weight {
		Default::default()
	}
	fn authorize_submit_poc_validations(_n: u32) -> polkadot_sdk::frame_support::weights::Weight {
		Default::default()
	}
	fn form_weights(_n: u32) -> polkadot_sdk::frame_support::weights::Weight {
		Default::default()
	}
	fn prune_epoch(_n: u32) -> polkadot_sdk::frame_support::weights::Weight {
		Default::default()
	}
	fn open_validation(_n: u32) -> polkadot_sdk::frame_support::weights::Weight {
		Default::default()
	}
	fn on_initialize_epoch_start() -> polkadot_sdk::frame_support::weights::Weight {
		Default::default()
	}
	fn on_initialize_idle() -> polkadot_sdk::frame_support::weights::Weight {
		Default::default()
	}
	fn prune_power_generation(_n: u32) -> polkadot_sdk::frame_support::weights::Weight {
		Default::default()
	}
}

/// The most chunks of an executor roster: `MaxHosts / RosterChunk`, rounded up.
pub struct MaxRosterChunks<T>(core::marker::PhantomData<T>);
impl<T: Config> polkadot_sdk::sp_core::Get<u32> for MaxRosterChunks<T> {
	fn get() -> u32 {
		T::MaxHosts::get().div_ceil(T::RosterChunk::get().max(1))
	}
}

#[polkadot_sdk::frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::collections::BTreeMap;
	use alloc::vec::Vec;
	use gonka_primitives::{
		duty::{Duty, PocCommit, PocValidation},
		EpochIndex, HostId, ModelId, NonceCount, PowerSnapshot, H256,
	};
	use polkadot_sdk::{
		frame_support::{
			defensive,
			pallet_prelude::*,
			traits::{
				fungible::{Inspect, Mutate, MutateHold},
				tokens::Precision,
			},
		},
		frame_system::{self, pallet_prelude::*},
		sp_core::sr25519,
		sp_runtime::{
			traits::{One, Saturating, UniqueSaturatedInto, Zero},
			FixedPointNumber, Perbill,
		},
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
	/// The committed hosts of an (epoch, model), sorted, with their tallies.
	pub type RosterOf<T> =
		BoundedVec<(<T as frame_system::Config>::AccountId, Tally), <T as Config>::MaxHosts>;

	#[pallet::pallet]
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

	/// Which host a worker key belongs to (a key serves one host only).
	#[pallet::storage]
	pub type WorkerKeys<T: Config> = StorageMap<_, Blake2_128Concat, sr25519::Public, T::AccountId>;

	/// The epoch in progress; `None` before the first block.
	#[pallet::storage]
	pub type CurrentEpoch<T: Config> = StorageValue<_, EpochInfoOf<T>>;

	/// PoC commitments by epoch, host and model.
	#[pallet::storage]
	pub type Commitments<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		EpochIndex,
		Blake2_128Concat,
		(T::AccountId, ModelId),
		Commitment,
	>;

	/// The roster of each (epoch, model): the registered hosts that committed, sorted by
	/// account, each with the validators' tally on its commitment (the voting power that
	/// said valid and invalid). Built when validation opens; one read and one write per
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

	/// The PoC weight in force of each (host, model): the nonce count of its last accepted
	/// commitment. It routes inference for the model and shares the model's work.
	#[pallet::storage]
	pub type PocWeights<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		Twox64Concat,
		ModelId,
		NonceCount,
		ValueQuery,
	>;

	/// The last epoch whose weights were formed.
	#[pallet::storage]
	pub type LastFormedEpoch<T: Config> = StorageValue<_, EpochIndex, OptionQuery>;

	/// Each host's voting power in the epoch in progress (its consensus weight from the
	/// last weight formation; equal for genesis hosts in the first epoch).
	#[pallet::storage]
	pub type VotingPower<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, u128, ValueQuery>;

	/// The sum of [`VotingPower`].
	#[pallet::storage]
	pub type TotalVotingPower<T: Config> = StorageValue<_, u128, ValueQuery>;

	/// The generation of voting power in force: 0 from genesis, one more with each weight
	/// formation that replaces the power (a carried-over epoch keeps it).
	#[pallet::storage]
	pub type PowerGeneration<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// The voting power each kept generation gave each host, as formed (never changed
	/// afterwards): governance snapshots are a generation, not a copy of the powers.
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

	/// The oldest kept generation: generations below it are pruned; it is pruned (at most
	/// one generation per block) once it is not in force and no snapshot holds it.
	#[pallet::storage]
	pub type OldestPowerGeneration<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// Each model's executor roster, in chunks of `RosterChunk` hosts: the hosts with PoC
	/// weight on the model and that weight, as the last weight formation left them.
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

	/// The parameters the next epoch will start with.
	#[pallet::storage]
	pub type NextEpochParams<T: Config> = StorageValue<_, EpochParamsOf<T>, OptionQuery>;

	#[pallet::genesis_config]
	pub struct GenesisConfig<T: Config> {
		/// The parameters of the first epoch.
		pub epoch_params: EpochParamsOf<T>,
		/// Hosts registered at genesis: account, worker key, endpoint, models. Their
		/// deposits are held at genesis.
		pub hosts: Vec<(T::AccountId, sr25519::Public, Vec<u8>, Vec<ModelId>)>,
	}

	impl<T: Config> Default for GenesisConfig<T> {
		/// The live Gonka network's phase lengths, and no hosts.
		fn default() -> Self {
			Self { epoch_params: EpochParams::live_network(), hosts: Vec::new() }
		}
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			let params = self.epoch_params;
			params.check().expect("the genesis epoch parameters are valid");
			NextEpochParams::<T>::put(params);
			let mut rosters: BTreeMap<ModelId, Vec<(T::AccountId, NonceCount)>> = BTreeMap::new();
			for (account, worker_key, endpoint, models) in &self.hosts {
				// Bootstrap: genesis hosts serve their models with equal PoC weight until the
				// first formation, so requests have executors from the first block.
				for model in models {
					PocWeights::<T>::insert(account, model, GENESIS_HOST_POC_WEIGHT);
					rosters
						.entry(*model)
						.or_default()
						.push((account.clone(), GENESIS_HOST_POC_WEIGHT));
				}
				// The registry's genesis may be built after this one: genesis hosts' models are
				// not checked against it (the runtime's tests check the presets'), the rest is.
				Pallet::<T>::do_register(
					account,
					*worker_key,
					endpoint.clone(),
					models.clone(),
					false,
				)
				.expect("genesis hosts are valid and can hold their deposit");
				// Bootstrap: no PoC has run yet, so genesis hosts have equal power.
				VotingPower::<T>::insert(account, GENESIS_HOST_POWER);
				PowerHistory::<T>::insert(0, account, GENESIS_HOST_POWER);
			}
			TotalVotingPower::<T>::put(GENESIS_HOST_POWER.saturating_mul(self.hosts.len() as u128));
			PowerGenerations::<T>::insert(
				0,
				GenerationInfo { hosts: self.hosts.len() as u32, departures: 0, pins: 0 },
			);
			Pallet::<T>::write_rosters(rosters);
		}
	}

	/// The voting power of each genesis host in the first epoch.
	pub const GENESIS_HOST_POWER: u128 = 1;
	/// The PoC weight of each genesis host on each of its models until the first formation.
	pub const GENESIS_HOST_POC_WEIGHT: NonceCount = 1;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A host registered.
		HostRegistered { host: T::AccountId, worker_key: sr25519::Public, models: Vec<ModelId> },
		/// A host changed its worker key, endpoint or models.
		HostUpdated { host: T::AccountId, worker_key: sr25519::Public, models: Vec<ModelId> },
		/// A host left; its deposit was released.
		HostLeft { host: T::AccountId },
		/// An epoch started.
		EpochStarted { index: EpochIndex, start: BlockNumberFor<T>, seed: H256 },
		/// New epoch parameters were set; they apply from epoch `from_epoch`.
		EpochParamsScheduled { params: EpochParamsOf<T>, from_epoch: EpochIndex },
		/// A host committed to `count` PoC nonces with Merkle root `root`.
		PocCommitted {
			host: T::AccountId,
			epoch: EpochIndex,
			model: ModelId,
			count: NonceCount,
			root: H256,
		},
		/// A (host, model) commitment was judged at the end of validation; `weight` is its new
		/// PoC weight.
		PocJudged {
			host: T::AccountId,
			epoch: EpochIndex,
			model: ModelId,
			outcome: Outcome,
			weight: NonceCount,
		},
		/// New weights and voting power are in force: `hosts` hosts hold `total_power`.
		WeightsFormed { epoch: EpochIndex, hosts: u32, total_power: u128 },
		/// The epoch accepted no host: the previous weights and power stay in force.
		WeightsCarriedOver { epoch: EpochIndex },
		/// A generation of voting power that no snapshot holds any more was deleted.
		PowerGenerationPruned { generation: u32 },
		/// A validator sent its verdicts on `verdicts` hosts' commitments for a model.
		PocValidationsSubmitted {
			validator: T::AccountId,
			epoch: EpochIndex,
			model: ModelId,
			verdicts: u32,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account is already a registered host.
		AlreadyRegistered,
		/// The account is not a registered host.
		NotRegistered,
		/// The registry holds `MaxHosts` hosts.
		TooManyHosts,
		/// Another host uses this worker key.
		WorkerKeyInUse,
		/// The endpoint is longer than `MaxEndpointLength`.
		EndpointTooLong,
		/// The endpoint is not an `http://` or `https://` URL of visible ASCII characters.
		InvalidEndpoint,
		/// A host must serve at least one model.
		NoModels,
		/// More models than `MaxModelsPerHost`.
		TooManyModels,
		/// A model is listed twice.
		DuplicateModel,
		/// A model is not approved by governance.
		UnknownModel,
		/// Every phase must last at least one block.
		ZeroPhase,
		/// Generation, delay and validation must leave at least one block of the epoch.
		PhasesExceedEpoch,
		/// The registration deposit could not be held.
		InsufficientDeposit,
		/// No epoch has started yet.
		NoEpoch,
		/// The duty is for another epoch than the one in progress.
		WrongEpoch,
		/// The duty is not allowed in the current phase.
		WrongPhase,
		/// The host does not serve this model.
		ModelNotServed,
		/// A commitment must count at least one nonce.
		ZeroCount,
		/// A new commitment must count more nonces than the last one.
		CountNotGrowing,
		/// The host sent `MaxCommitsPerModel` commitments for this model in this epoch.
		CommitBudgetExhausted,
		/// Only hosts with voting power validate.
		NoVotingPower,
		/// The validator already sent its batch for this model in this epoch.
		AlreadyValidated,
		/// A batch must hold at least one verdict.
		NoVerdicts,
		/// Verdicts must be sorted by host, each host once.
		UnsortedVerdicts,
		/// A host never votes on itself.
		SelfVerdict,
		/// A verdict names a host with no commitment for the model in the epoch.
		NoCommitment,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			// One read of the epoch serves both the epoch start and the formation check.
			// `heavy`: this block runs one of the epoch's O(hosts) steps, so it prunes no
			// generation of voting power (no block carries two such steps).
			let (epoch, mut weight, mut heavy) = match CurrentEpoch::<T>::get() {
				Some(epoch) if now < epoch.next_start() => {
					(Some(epoch), T::WeightInfo::on_initialize_idle(), false)
				}
				previous => {
					let started = Self::start_epoch(now, previous);
					let pruned = started.map_or(0, |(_, pruned)| pruned);
					let registry = started.map_or(Weight::zero(), |(epoch, _)| {
						T::Models::on_epoch_start(epoch.index)
					});
					(
						started.map(|(epoch, _)| epoch),
						T::WeightInfo::on_initialize_epoch_start()
							.saturating_add(T::WeightInfo::prune_epoch(pruned))
							.saturating_add(registry),
						true,
					)
				}
			};
			if let Some(epoch) = epoch.filter(|epoch| epoch.validation_start() == now) {
				let rostered = Self::open_validation(&epoch);
				weight = weight.saturating_add(T::WeightInfo::open_validation(rostered));
				heavy = true;
			}
			if let Some(epoch) = epoch.filter(|epoch| epoch.phase_at(now) == Phase::Inference) {
				if LastFormedEpoch::<T>::get() != Some(epoch.index) {
					let (judged, hook) = Self::form_weights(&epoch);
					LastFormedEpoch::<T>::put(epoch.index);
					weight = weight
						.saturating_add(T::WeightInfo::form_weights(judged))
						.saturating_add(hook);
					heavy = true;
				}
			}
			if !heavy {
				if let Some(hosts) = Self::prune_power_generation() {
					weight = weight.saturating_add(T::WeightInfo::prune_power_generation(hosts));
				}
			}
			weight
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
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_host())]
		pub fn register_host(
			origin: OriginFor<T>,
			worker_key: sr25519::Public,
			endpoint: Vec<u8>,
			models: Vec<ModelId>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_register(&who, worker_key, endpoint, models, true)
		}

		/// Changes the caller's worker key, endpoint or models (each when given).
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::update_host())]
		pub fn update_host(
			origin: OriginFor<T>,
			worker_key: Option<sr25519::Public>,
			endpoint: Option<Vec<u8>>,
			models: Option<Vec<ModelId>>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut host = Hosts::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
			if let Some(endpoint) = endpoint {
				host.endpoint = Self::checked_endpoint(endpoint)?;
			}
			if let Some(models) = models {
				host.models = Self::checked_models(models, true)?;
			}
			if let Some(worker_key) = worker_key {
				if worker_key != host.worker_key {
					ensure!(!WorkerKeys::<T>::contains_key(worker_key), Error::<T>::WorkerKeyInUse);
					WorkerKeys::<T>::remove(host.worker_key);
					WorkerKeys::<T>::insert(worker_key, &who);
					host.worker_key = worker_key;
				}
			}
			Self::deposit_event(Event::HostUpdated {
				host: who.clone(),
				worker_key: host.worker_key,
				models: host.models.to_vec(),
			});
			Hosts::<T>::insert(&who, host);
			Ok(())
		}

		/// Removes the caller from the registry and releases its deposit.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::leave())]
		pub fn leave(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let host = Hosts::<T>::take(&who).ok_or(Error::<T>::NotRegistered)?;
			WorkerKeys::<T>::remove(host.worker_key);
			// A host that left no longer votes: thresholds count the power still present.
			let power = VotingPower::<T>::take(&who);
			TotalVotingPower::<T>::mutate(|total| *total = total.saturating_sub(power));
			if power > 0 {
				Self::record_departure(&who);
			}
			let _ = PocWeights::<T>::clear_prefix(&who, T::MaxModelsPerHost::get(), None);
			T::Currency::release(
				&HoldReason::HostRegistration.into(),
				&who,
				host.deposit,
				Precision::BestEffort,
			)?;
			Self::deposit_event(Event::HostLeft { host: who });
			Ok(())
		}

		/// A host's PoC commitment for one model in the generation phase: `commit.count`
		/// nonces with Merkle root `commit.root`, signed by the host's worker key. A
		/// transaction with no signer and no fee, valid only through its `authorize` rule;
		/// the count only grows and the last commitment counts.
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
			// The state may have changed since the transaction was validated.
			let now = frame_system::Pallet::<T>::block_number();
			let (_, previous, epoch) = Self::check_commit(&host, &commit, now)?;
			let submissions = previous.map_or(1, |previous| previous.submissions.saturating_add(1));
			Commitments::<T>::insert(
				epoch.index,
				(&host, commit.model),
				Commitment { count: commit.count, root: commit.root, submissions },
			);
			Self::deposit_event(Event::PocCommitted {
				host,
				epoch: commit.epoch,
				model: commit.model,
				count: commit.count,
				root: commit.root,
			});
			Ok(())
		}

		/// A validator's verdicts on the other hosts' commitments for one model, in the
		/// validation phase: one batch per validator, model and epoch, signed by its worker
		/// key. Each verdict adds the validator's voting power to the host's tally. A
		/// transaction with no signer and no fee, valid only through its `authorize` rule.
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
			let now = frame_system::Pallet::<T>::block_number();
			let (_, epoch, power, mut roster, positions) =
				Self::check_validation(&validator, &validation, now)?;
			Validated::<T>::insert(epoch.index, (validation.model, &validator), ());
			for (verdict, position) in validation.verdicts.iter().zip(positions) {
				if let Some((_, tally)) = roster.get_mut(position) {
					if verdict.valid {
						tally.valid = tally.valid.saturating_add(power);
					} else {
						tally.invalid = tally.invalid.saturating_add(power);
					}
				}
			}
			Tallies::<T>::insert(epoch.index, validation.model, roster);
			Self::deposit_event(Event::PocValidationsSubmitted {
				validator,
				epoch: validation.epoch,
				model: validation.model,
				verdicts: validation.verdicts.len() as u32,
			});
			Ok(())
		}

		/// Sets the phase lengths; they apply from the next epoch on.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::set_epoch_params())]
		pub fn set_epoch_params(origin: OriginFor<T>, params: EpochParamsOf<T>) -> DispatchResult {
			T::UpdateOrigin::ensure_origin(origin)?;
			params.check().map_err(|e| match e {
				InvalidParams::ZeroPhase => Error::<T>::ZeroPhase,
				InvalidParams::PhasesExceedEpoch => Error::<T>::PhasesExceedEpoch,
			})?;
			NextEpochParams::<T>::put(params);
			let from_epoch =
				CurrentEpoch::<T>::get().map_or(0, |epoch| epoch.index.saturating_add(1));
			Self::deposit_event(Event::EpochParamsScheduled { params, from_epoch });
			Ok(())
		}
	}

	/// The index of the epoch in progress (0 before the first).
	fn epoch_index<T: Config>() -> EpochIndex {
		CurrentEpoch::<T>::get().map_or(0, |epoch| epoch.index)
	}

	/// The code an error has in `InvalidTransaction::Custom`: its index in [`Error`].
	fn error_code<T: Config>(error: Error<T>) -> u8 {
		let error: DispatchError = error.into();
		match error {
			DispatchError::Module(module) => module.error[0],
			_ => u8::MAX,
		}
	}

	impl<T: Config> Pallet<T> {
		/// `PocApi::epoch`: the epoch in progress and the phase of the next block.
		pub fn epoch_and_next_phase() -> Option<(EpochInfoOf<T>, Phase)> {
			let next = frame_system::Pallet::<T>::block_number().saturating_add(One::one());
			CurrentEpoch::<T>::get().map(|epoch| (epoch, epoch.phase_at(next)))
		}

		/// `PocApi::host`: a registered host with its voting power.
		pub fn host_view(host: &T::AccountId) -> Option<runtime_api::HostView> {
			Hosts::<T>::get(host).map(|info| runtime_api::HostView {
				worker_key: info.worker_key,
				endpoint: info.endpoint.into_inner(),
				models: info.models.into_inner(),
				voting_power: VotingPower::<T>::get(host),
			})
		}

		/// The chain's genesis hash, part of every signed duty payload.
		pub fn genesis_hash() -> H256 {
			H256::from_slice(
				frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero()).as_ref(),
			)
		}

		/// Checks a commitment against the chain's state at block `now`; returns the host and
		/// its previous commitment for the model.
		fn check_commit(
			host: &T::AccountId,
			commit: &PocCommit,
			now: BlockNumberFor<T>,
		) -> Result<(HostOf<T>, Option<Commitment>, EpochInfoOf<T>), Error<T>> {
			let info = Hosts::<T>::get(host).ok_or(Error::<T>::NotRegistered)?;
			let (epoch, phase) = Self::phase(now).ok_or(Error::<T>::NoEpoch)?;
			ensure!(commit.epoch == epoch.index, Error::<T>::WrongEpoch);
			ensure!(phase == Phase::Generation, Error::<T>::WrongPhase);
			ensure!(info.models.contains(&commit.model), Error::<T>::ModelNotServed);
			ensure!(T::Models::is_approved(commit.model), Error::<T>::UnknownModel);
			ensure!(commit.count > 0, Error::<T>::ZeroCount);
			let previous = Commitments::<T>::get(epoch.index, (host, commit.model));
			if let Some(previous) = previous {
				ensure!(commit.count > previous.count, Error::<T>::CountNotGrowing);
				ensure!(
					previous.submissions < T::MaxCommitsPerModel::get(),
					Error::<T>::CommitBudgetExhausted
				);
			}
			Ok((info, previous, epoch))
		}

		/// The `authorize` rule of [`Pallet::commit_poc`]: the commitment fits the chain's
		/// state and the host's worker key signed it for this chain. Cheap checks first, the
		/// signature last.
		pub(crate) fn authorize_commit_poc(
			_source: TransactionSource,
			host: &T::AccountId,
			commit: &PocCommit,
			signature: &sr25519::Signature,
		) -> TransactionValidityWithRefund {
			let now = frame_system::Pallet::<T>::block_number();
			let (info, _, epoch) =
				Self::check_commit(host, commit, now).map_err(|error| match error {
					Error::<T>::NotRegistered => InvalidTransaction::BadSigner,
					Error::<T>::WrongEpoch if commit.epoch > epoch_index::<T>() => {
						InvalidTransaction::Future
					}
					Error::<T>::WrongEpoch
					| Error::<T>::WrongPhase
					| Error::<T>::CountNotGrowing => InvalidTransaction::Stale,
					Error::<T>::CommitBudgetExhausted => InvalidTransaction::ExhaustsResources,
					other => InvalidTransaction::Custom(error_code(other)),
				})?;
			if !commit.verify(&Self::genesis_hash(), &info.worker_key, signature) {
				return Err(InvalidTransaction::BadProof.into());
			}
			let remaining: u64 = epoch.generation_end().saturating_sub(now).unique_saturated_into();
			ValidTransaction::with_tag_prefix("GonkaPocCommit")
				.priority(T::DutyPriority::get())
				.and_provides((host, commit.epoch, commit.model, commit.count))
				.longevity(remaining.max(1))
				.propagate(true)
				.build()
				.map(|validity| (validity, Weight::zero()))
		}

		/// Checks a validation batch against the chain's state at block `now`; returns the
		/// validator, the epoch, the validator's voting power, the model's roster and the
		/// roster position of each verdict's host.
		#[allow(clippy::type_complexity)]
		fn check_validation(
			validator: &T::AccountId,
			validation: &PocValidation<T::MaxHosts>,
			now: BlockNumberFor<T>,
		) -> Result<(HostOf<T>, EpochInfoOf<T>, u128, RosterOf<T>, Vec<usize>), Error<T>> {
			let info = Hosts::<T>::get(validator).ok_or(Error::<T>::NotRegistered)?;
			let (epoch, phase) = Self::phase(now).ok_or(Error::<T>::NoEpoch)?;
			ensure!(validation.epoch == epoch.index, Error::<T>::WrongEpoch);
			ensure!(phase == Phase::Validation, Error::<T>::WrongPhase);
			ensure!(T::Models::is_approved(validation.model), Error::<T>::UnknownModel);
			let power = VotingPower::<T>::get(validator);
			ensure!(power > 0, Error::<T>::NoVotingPower);
			ensure!(
				!Validated::<T>::contains_key(epoch.index, (validation.model, validator)),
				Error::<T>::AlreadyValidated
			);
			ensure!(!validation.verdicts.is_empty(), Error::<T>::NoVerdicts);
			ensure!(
				validation.verdicts.windows(2).all(|pair| pair[0].host < pair[1].host),
				Error::<T>::UnsortedVerdicts
			);
			// Both are sorted by host: one walk finds every verdict's host in the roster.
			let roster = Tallies::<T>::get(epoch.index, validation.model);
			let mut positions = Vec::with_capacity(validation.verdicts.len());
			let mut next = 0;
			for verdict in &validation.verdicts {
				ensure!(verdict.host != *validator, Error::<T>::SelfVerdict);
				while roster.get(next).is_some_and(|(host, _)| *host < verdict.host) {
					next = next.saturating_add(1);
				}
				ensure!(
					roster.get(next).is_some_and(|(host, _)| *host == verdict.host),
					Error::<T>::NoCommitment
				);
				positions.push(next);
			}
			Ok((info, epoch, power, roster, positions))
		}

		/// The `authorize` rule of [`Pallet::submit_poc_validations`]: the batch fits the
		/// chain's state and the validator's worker key signed it for this chain.
		pub(crate) fn authorize_submit_poc_validations(
			_source: TransactionSource,
			validator: &T::AccountId,
			validation: &PocValidation<T::MaxHosts>,
			signature: &sr25519::Signature,
		) -> TransactionValidityWithRefund {
			let now = frame_system::Pallet::<T>::block_number();
			let (info, epoch, ..) = Self::check_validation(validator, validation, now).map_err(
				|error| match error {
					Error::<T>::NotRegistered => InvalidTransaction::BadSigner,
					Error::<T>::WrongEpoch if validation.epoch > epoch_index::<T>() => {
						InvalidTransaction::Future
					}
					Error::<T>::WrongPhase
						if matches!(
							Self::phase(now).map(|(_, phase)| phase),
							Some(Phase::Generation | Phase::ValidationDelay)
						) =>
					{
						InvalidTransaction::Future
					}
					Error::<T>::WrongEpoch
					| Error::<T>::WrongPhase
					| Error::<T>::AlreadyValidated => InvalidTransaction::Stale,
					other => InvalidTransaction::Custom(error_code(other)),
				},
			)?;
			if !validation.verify(&Self::genesis_hash(), &info.worker_key, signature) {
				return Err(InvalidTransaction::BadProof.into());
			}
			let remaining: u64 = epoch.validation_end().saturating_sub(now).unique_saturated_into();
			ValidTransaction::with_tag_prefix("GonkaPocValidation")
				.priority(T::DutyPriority::get())
				.and_provides((validator, validation.epoch, validation.model))
				.longevity(remaining.max(1))
				.propagate(true)
				.build()
				.map(|validity| (validity, Weight::zero()))
		}

		/// The epoch in progress and the phase of block `now` in it.
		pub fn phase(now: BlockNumberFor<T>) -> Option<(EpochInfoOf<T>, Phase)> {
			CurrentEpoch::<T>::get().map(|epoch| (epoch, epoch.phase_at(now)))
		}

		/// Opens validation for `epoch`: the roster of each model, the registered hosts that
		/// committed, sorted, with empty tallies. Returns the number of commitments read.
		pub(crate) fn open_validation(epoch: &EpochInfoOf<T>) -> u32 {
			let mut rosters: BTreeMap<ModelId, Vec<(T::AccountId, Tally)>> = BTreeMap::new();
			let mut read: u32 = 0;
			for ((host, model), _) in Commitments::<T>::iter_prefix(epoch.index) {
				read = read.saturating_add(1);
				// A host that left during generation is not judged.
				if Hosts::<T>::contains_key(&host) {
					rosters.entry(model).or_default().push((host, Tally::default()));
				}
			}
			for (model, mut roster) in rosters {
				roster.sort_by(|a, b| a.0.cmp(&b.0));
				// At most one commitment per registered host: never more than `MaxHosts`.
				match RosterOf::<T>::try_from(roster) {
					Ok(roster) => Tallies::<T>::insert(epoch.index, model, roster),
					Err(_) => {
						defensive!("at most MaxHosts hosts are registered");
					}
				}
			}
			read
		}

		/// The tally on `host`'s commitment for `model` in `epoch` (zero when it has none).
		pub fn tally(epoch: EpochIndex, host: &T::AccountId, model: ModelId) -> Tally {
			let roster = Tallies::<T>::get(epoch, model);
			roster
				.binary_search_by(|(rostered, _)| rostered.cmp(host))
				.ok()
				.and_then(|position| roster.get(position))
				.map_or_else(Tally::default, |(_, tally)| *tally)
		}

		/// Judges every commitment of `epoch` by its tally and forms the new PoC weights,
		/// consensus weights (capped) and voting power, and tells `OnWeightsFormed`;
		/// returns the number of commitments and the weight `OnWeightsFormed` used.
		pub(crate) fn form_weights(epoch: &EpochInfoOf<T>) -> (u32, Weight) {
			let total = TotalVotingPower::<T>::get();
			let mut judged: Vec<(T::AccountId, ModelId, NonceCount)> = Vec::new();
			let mut accepted_any = false;
			let mut commitments: u32 = 0;
			let rosters = Tallies::<T>::iter_prefix(epoch.index)
				.flat_map(|(model, roster)| roster.into_iter().map(move |entry| (model, entry)));
			for (model, (host, tally)) in rosters {
				commitments = commitments.saturating_add(1);
				let Some(commitment) = Commitments::<T>::get(epoch.index, (&host, model)) else {
					defensive!("a rostered host has a commitment");
					continue;
				};
				// A host that left after validation opened is not judged.
				if !Hosts::<T>::contains_key(&host) {
					continue;
				}
				// A host never votes on itself: the threshold counts the others' power.
				let others = total.saturating_sub(VotingPower::<T>::get(&host));
				let threshold = others.saturating_mul(2);
				let (outcome, weight) = if tally.valid.saturating_mul(3) > threshold {
					accepted_any = true;
					(Outcome::Accepted, commitment.count)
				} else if tally.invalid.saturating_mul(3) > threshold {
					(Outcome::Rejected, 0)
				} else {
					// Too few votes either way: not fraud, so no loss beyond the new count.
					(
						Outcome::QuorumFailed,
						PocWeights::<T>::get(&host, model).min(commitment.count),
					)
				};
				Self::deposit_event(Event::PocJudged {
					host: host.clone(),
					epoch: epoch.index,
					model,
					outcome,
					weight,
				});
				judged.push((host, model, weight));
			}

			let mut consensus: BTreeMap<T::AccountId, u128> = BTreeMap::new();
			for (host, model, weight) in &judged {
				let coefficient = T::Models::coefficient(*model).unwrap_or_default();
				let entry = consensus.entry(host.clone()).or_default();
				*entry = entry.saturating_add(coefficient.saturating_mul_int(u128::from(*weight)));
			}
			let hosts: Vec<(T::AccountId, u128)> =
				consensus.into_iter().filter(|(_, weight)| *weight > 0).collect();
			// An epoch that accepts nobody (no worker ran, or no quorum anywhere) must not take
			// the chain's voting power away: the previous weights stay.
			if !accepted_any || hosts.is_empty() {
				Self::deposit_event(Event::WeightsCarriedOver { epoch: epoch.index });
				return (commitments, Weight::zero());
			}
			let weights: Vec<u128> = hosts.iter().map(|(_, weight)| *weight).collect();
			let capped = gonka_primitives::cap::apply_cap(&weights, T::MaxWeightShare::get());
			let total_power = capped.iter().fold(0u128, |sum, weight| sum.saturating_add(*weight));
			let hook = T::OnWeightsFormed::weights_formed(epoch.index, &hosts);

			// Both maps hold at most MaxHosts × MaxModelsPerHost entries.
			let _ = PocWeights::<T>::clear(u32::MAX, None);
			let mut rosters: BTreeMap<ModelId, Vec<(T::AccountId, NonceCount)>> = BTreeMap::new();
			for (host, model, weight) in judged {
				if weight > 0 {
					PocWeights::<T>::insert(&host, model, weight);
					rosters.entry(model).or_default().push((host, weight));
				}
			}
			Self::write_rosters(rosters);
			Self::new_power_generation(hosts.iter().map(|(host, _)| host.clone()).zip(capped));
			Self::deposit_event(Event::WeightsFormed {
				epoch: epoch.index,
				hosts: hosts.len() as u32,
				total_power,
			});
			(commitments, hook)
		}

		/// Replaces every model's executor roster (at most MaxHosts × MaxModelsPerHost
		/// entries in all, in chunks of `RosterChunk`).
		fn write_rosters(rosters: BTreeMap<ModelId, Vec<(T::AccountId, NonceCount)>>) {
			let _ = ExecutorRoster::<T>::clear(u32::MAX, None);
			let _ = RosterTotals::<T>::clear(u32::MAX, None);
			let chunk = T::RosterChunk::get().max(1) as usize;
			for (model, roster) in rosters {
				let mut totals = Vec::new();
				let mut sum = 0u128;
				for (index, hosts) in roster.chunks(chunk).enumerate() {
					sum = hosts
						.iter()
						.fold(sum, |sum, (_, weight)| sum.saturating_add(u128::from(*weight)));
					totals.push(sum);
					let hosts = BoundedVec::truncate_from(hosts.to_vec());
					ExecutorRoster::<T>::insert(model, index as u32, hosts);
				}
				RosterTotals::<T>::insert(model, BoundedVec::truncate_from(totals));
			}
		}

		/// The executor a `draw` picks for `model`: a host with PoC weight on it, with
		/// probability proportional to that weight (`gonka_primitives::inference`). Reads
		/// the roster's chunk totals and one chunk. `None` when nobody has weight on the
		/// model. The host may have left since the formation (its `PocWeights` are then
		/// zero): the caller checks and draws again.
		pub fn pick_executor(model: ModelId, draw: &[u8; 32]) -> Option<T::AccountId> {
			let totals = RosterTotals::<T>::get(model);
			let point = gonka_primitives::inference::pick_point(draw, *totals.last()?)?;
			let chunk = totals.partition_point(|&sum| sum <= point);
			let before = chunk.checked_sub(1).and_then(|previous| totals.get(previous)).copied();
			let mut rest = point.saturating_sub(before.unwrap_or(0));
			for (host, weight) in ExecutorRoster::<T>::get(model, chunk as u32) {
				let weight = u128::from(weight);
				if rest < weight {
					return Some(host);
				}
				rest = rest.saturating_sub(weight);
			}
			defensive!("a roster's totals match its chunks");
			None
		}

		/// Records that `who`, with power in the generation in force, left.
		fn record_departure(who: &T::AccountId) {
			let generation = PowerGeneration::<T>::get();
			PowerGenerations::<T>::mutate(generation, |info| {
				let Some(info) = info else {
					defensive!("the generation in force is kept");
					return;
				};
				if !Departures::<T>::contains_key(generation, who) {
					Departures::<T>::insert(generation, who, info.departures);
					info.departures = info.departures.saturating_add(1);
				}
			});
		}

		/// Prunes the oldest kept generation of voting power if it is no longer in force
		/// and no snapshot holds it; returns the number of hosts it held (`None`: nothing
		/// to prune).
		pub(crate) fn prune_power_generation() -> Option<u32> {
			let oldest = OldestPowerGeneration::<T>::get();
			if oldest >= PowerGeneration::<T>::get() {
				return None;
			}
			let info = PowerGenerations::<T>::get(oldest).unwrap_or_default();
			if info.pins > 0 {
				return None;
			}
			// A generation holds at most MaxHosts powers and departures.
			let _ = PowerHistory::<T>::clear_prefix(oldest, T::MaxHosts::get(), None);
			let _ = Departures::<T>::clear_prefix(oldest, T::MaxHosts::get(), None);
			PowerGenerations::<T>::remove(oldest);
			OldestPowerGeneration::<T>::put(oldest.saturating_add(1));
			Self::deposit_event(Event::PowerGenerationPruned { generation: oldest });
			Some(info.hosts)
		}

		/// Takes a governance snapshot of the voting power in force: holds its generation
		/// until [`Self::release_snapshot`]. Returns it with its total power and host count.
		pub fn take_snapshot() -> (PowerSnapshot, u128, u32) {
			let generation = PowerGeneration::<T>::get();
			let info = PowerGenerations::<T>::mutate(generation, |info| {
				let info = info.get_or_insert_with(|| {
					defensive!("the generation in force is kept");
					GenerationInfo::default()
				});
				info.pins = info.pins.saturating_add(1);
				*info
			});
			(
				PowerSnapshot { generation, departures: info.departures },
				TotalVotingPower::<T>::get(),
				info.hosts.saturating_sub(info.departures),
			)
		}

		/// `who`'s voting power in a snapshot: its power in the generation, unless it had
		/// left before the snapshot was taken.
		pub fn power_in(snapshot: &PowerSnapshot, who: &T::AccountId) -> u128 {
			let left_before = Departures::<T>::get(snapshot.generation, who)
				.is_some_and(|departure| departure < snapshot.departures);
			if left_before {
				return 0;
			}
			PowerHistory::<T>::get(snapshot.generation, who).unwrap_or(0)
		}

		/// Releases a snapshot: its generation may be pruned once no snapshot holds it.
		pub fn release_snapshot(snapshot: &PowerSnapshot) {
			PowerGenerations::<T>::mutate(snapshot.generation, |info| {
				if let Some(info) = info {
					info.pins = info.pins.saturating_sub(1);
				} else {
					defensive!("a held generation is kept");
				}
			});
		}

		/// Registers `who` serving `models` with `worker_key` and an endpoint, holding the
		/// deposit (benchmarks of pallets that need hosts).
		#[cfg(feature = "runtime-benchmarks")]
		pub fn register_for_benchmark(
			who: &T::AccountId,
			worker_key: sr25519::Public,
			models: Vec<ModelId>,
		) -> DispatchResult {
			Self::do_register(who, worker_key, b"http://bench.local:8080".to_vec(), models, true)
		}

		/// Replaces every executor roster with `hosts` on `model`, as a weight formation
		/// would (benchmarks of pallets that draw executors).
		#[cfg(feature = "runtime-benchmarks")]
		pub fn force_roster(model: ModelId, hosts: Vec<(T::AccountId, NonceCount)>) {
			let _ = PocWeights::<T>::clear(u32::MAX, None);
			for (host, weight) in &hosts {
				PocWeights::<T>::insert(host, model, weight);
			}
			Self::write_rosters(BTreeMap::from([(model, hosts)]));
		}

		/// Replaces the voting power with `powers` as a new generation, as a weight
		/// formation would (tests and benchmarks).
		#[cfg(any(test, feature = "runtime-benchmarks"))]
		pub fn force_voting_power(powers: &[(T::AccountId, u128)]) {
			Self::new_power_generation(powers.iter().cloned());
		}

		/// Puts `powers` (zeros skipped) in force as a new generation of voting power; the
		/// previous one is kept while governance snapshots hold it
		/// (`prune_power_generation`). At most MaxHosts entries.
		fn new_power_generation(powers: impl IntoIterator<Item = (T::AccountId, u128)>) {
			let generation = PowerGeneration::<T>::get().saturating_add(1);
			let _ = VotingPower::<T>::clear(u32::MAX, None);
			let mut total = 0u128;
			let mut holders = 0u32;
			for (host, power) in powers.into_iter().filter(|(_, power)| *power > 0) {
				VotingPower::<T>::insert(&host, power);
				PowerHistory::<T>::insert(generation, &host, power);
				total = total.saturating_add(power);
				holders = holders.saturating_add(1);
			}
			TotalVotingPower::<T>::put(total);
			PowerGenerations::<T>::insert(
				generation,
				GenerationInfo { hosts: holders, departures: 0, pins: 0 },
			);
			PowerGeneration::<T>::put(generation);
		}

		/// Removes the commitments, tallies and batches of the epoch that just left the
		/// retention window; returns how many commitments it held.
		pub(crate) fn prune(current: EpochIndex) -> u32 {
			let Some(old) = current.checked_sub(T::RetentionEpochs::get().saturating_add(1)) else {
				return 0;
			};
			// Each holds at most MaxHosts × MaxModelsPerHost entries per epoch.
			let removed = Commitments::<T>::clear_prefix(old, u32::MAX, None).unique;
			let _ = Tallies::<T>::clear_prefix(old, u32::MAX, None);
			let _ = Validated::<T>::clear_prefix(old, u32::MAX, None);
			removed
		}

		/// Starts the epoch after `previous` at block `now`; returns it and the number of
		/// commitments pruned.
		fn start_epoch(
			now: BlockNumberFor<T>,
			previous: Option<EpochInfoOf<T>>,
		) -> Option<(EpochInfoOf<T>, u32)> {
			let index = previous.map_or(0, |epoch| epoch.index.saturating_add(1));
			// The parameters set during the previous epoch, else the previous epoch's.
			let Some(params) = NextEpochParams::<T>::take().or(previous.map(|epoch| epoch.params))
			else {
				defensive!("genesis sets the first epoch's parameters");
				return None;
			};
			let seed = H256::from_slice(frame_system::Pallet::<T>::parent_hash().as_ref());
			let epoch = EpochInfo { index, start: now, params, seed };
			CurrentEpoch::<T>::put(epoch);
			Self::deposit_event(Event::EpochStarted { index, start: now, seed });
			Some((epoch, Self::prune(index)))
		}

		/// Registers `who`; `approved_models` checks that it serves approved models only.
		pub(crate) fn do_register(
			who: &T::AccountId,
			worker_key: sr25519::Public,
			endpoint: Vec<u8>,
			models: Vec<ModelId>,
			approved_models: bool,
		) -> DispatchResult {
			ensure!(!Hosts::<T>::contains_key(who), Error::<T>::AlreadyRegistered);
			ensure!(Hosts::<T>::count() < T::MaxHosts::get(), Error::<T>::TooManyHosts);
			ensure!(!WorkerKeys::<T>::contains_key(worker_key), Error::<T>::WorkerKeyInUse);
			let endpoint = Self::checked_endpoint(endpoint)?;
			let models = Self::checked_models(models, approved_models)?;
			let deposit = T::HostDeposit::get();
			T::Currency::hold(&HoldReason::HostRegistration.into(), who, deposit)
				.map_err(|_| Error::<T>::InsufficientDeposit)?;
			Self::deposit_event(Event::HostRegistered {
				host: who.clone(),
				worker_key,
				models: models.to_vec(),
			});
			WorkerKeys::<T>::insert(worker_key, who);
			Hosts::<T>::insert(who, HostInfo { worker_key, endpoint, models, deposit });
			Ok(())
		}

		fn checked_endpoint(
			endpoint: Vec<u8>,
		) -> Result<BoundedVec<u8, T::MaxEndpointLength>, DispatchError> {
			let endpoint: BoundedVec<u8, T::MaxEndpointLength> =
				endpoint.try_into().map_err(|_| Error::<T>::EndpointTooLong)?;
			let address = endpoint
				.strip_prefix(b"https://".as_slice())
				.or_else(|| endpoint.strip_prefix(b"http://".as_slice()));
			ensure!(
				matches!(address, Some(address) if !address.is_empty())
					&& endpoint.iter().all(u8::is_ascii_graphic),
				Error::<T>::InvalidEndpoint
			);
			Ok(endpoint)
		}

		fn checked_models(
			models: Vec<ModelId>,
			approved: bool,
		) -> Result<BoundedVec<ModelId, T::MaxModelsPerHost>, DispatchError> {
			ensure!(!models.is_empty(), Error::<T>::NoModels);
			let models: BoundedVec<ModelId, T::MaxModelsPerHost> =
				models.try_into().map_err(|_| Error::<T>::TooManyModels)?;
			for (i, model) in models.iter().enumerate() {
				ensure!(!models[..i].contains(model), Error::<T>::DuplicateModel);
				ensure!(!approved || T::Models::is_approved(*model), Error::<T>::UnknownModel);
			}
			Ok(models)
		}

		/// The pallet's invariants.
		#[cfg(any(test, feature = "try-runtime"))]
		pub fn do_try_state() -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
			let hosts = Hosts::<T>::iter().count() as u32;
			ensure!(hosts == Hosts::<T>::count(), "the host counter matches the hosts");
			ensure!(hosts <= T::MaxHosts::get(), "at most MaxHosts hosts");
			ensure!(WorkerKeys::<T>::iter().count() as u32 == hosts, "one worker key per host");
			for (key, account) in WorkerKeys::<T>::iter() {
				let host =
					Hosts::<T>::get(&account).ok_or("a worker key names a registered host")?;
				ensure!(host.worker_key == key, "the worker key index matches the host");
			}
			for (account, host) in Hosts::<T>::iter() {
				ensure!(
					<T::Currency as polkadot_sdk::frame_support::traits::fungible::InspectHold<
						_,
					>>::balance_on_hold(&HoldReason::HostRegistration.into(), &account)
						>= host.deposit,
					"a host's deposit is held"
				);
			}
			let power: u128 = VotingPower::<T>::iter_values().fold(0, u128::saturating_add);
			ensure!(power == TotalVotingPower::<T>::get(), "the total is the sum of the powers");
			for (account, _) in VotingPower::<T>::iter() {
				ensure!(Hosts::<T>::contains_key(&account), "only registered hosts have power");
			}
			for (model, totals) in RosterTotals::<T>::iter() {
				let mut sum = 0u128;
				for (index, total) in totals.iter().enumerate() {
					let chunk = ExecutorRoster::<T>::get(model, index as u32);
					ensure!(!chunk.is_empty(), "a roster has no empty chunk");
					for (host, weight) in chunk.iter() {
						ensure!(*weight > 0, "rostered hosts have weight");
						// A host that left since has no weight (and may have registered again).
						let current = PocWeights::<T>::get(host, model);
						ensure!(
							current == 0 || current == *weight,
							"a roster holds the hosts' PoC weights"
						);
						sum = sum.saturating_add(u128::from(*weight));
					}
					ensure!(sum == *total, "roster totals are the chunks' cumulative sums");
				}
				ensure!(
					ExecutorRoster::<T>::iter_prefix(model).count() == totals.len(),
					"a roster has one total per chunk"
				);
			}
			for (model, _, _) in ExecutorRoster::<T>::iter() {
				ensure!(RosterTotals::<T>::contains_key(model), "every roster has its totals");
			}
			let current = PowerGeneration::<T>::get();
			let oldest = OldestPowerGeneration::<T>::get();
			ensure!(oldest <= current, "the generation in force is kept");
			for (generation, info) in PowerGenerations::<T>::iter() {
				ensure!(generation >= oldest && generation <= current, "generations are pruned");
				let hosts = PowerHistory::<T>::iter_prefix(generation).count() as u32;
				ensure!(hosts == info.hosts, "a generation counts its hosts");
				let mut order: Vec<u32> = Departures::<T>::iter_prefix(generation)
					.map(|(account, departure)| {
						ensure!(
							PowerHistory::<T>::contains_key(generation, &account),
							"departed hosts had power in the generation"
						);
						Ok(departure)
					})
					.collect::<Result<_, &'static str>>()?;
				order.sort_unstable();
				ensure!(
					order.iter().copied().eq(0..info.departures),
					"departures are numbered 0, 1, …"
				);
			}
			for generation in oldest..=current {
				ensure!(
					PowerGenerations::<T>::contains_key(generation),
					"every generation from the oldest kept one to the one in force is kept"
				);
			}
			for (account, power) in VotingPower::<T>::iter() {
				ensure!(
					PowerHistory::<T>::get(current, &account) == Some(power),
					"the power in force is the current generation's"
				);
			}
			let info = PowerGenerations::<T>::get(current).unwrap_or_default();
			ensure!(
				VotingPower::<T>::iter().count() as u32
					== info.hosts.saturating_sub(info.departures),
				"the hosts with power are the generation's less those that left"
			);
			for (account, _, weight) in PocWeights::<T>::iter() {
				ensure!(
					Hosts::<T>::contains_key(&account),
					"only registered hosts have PoC weight"
				);
				ensure!(weight > 0, "zero weights are not stored");
			}
			if let Some(epoch) = CurrentEpoch::<T>::get() {
				ensure!(epoch.params.check().is_ok(), "the epoch's parameters are valid");
				let oldest = epoch.index.saturating_sub(T::RetentionEpochs::get());
				for (index, _, _) in Commitments::<T>::iter() {
					ensure!(index >= oldest && index <= epoch.index, "commitments are pruned");
				}
				for (index, model, roster) in Tallies::<T>::iter() {
					ensure!(index >= oldest && index <= epoch.index, "rosters are pruned");
					ensure!(
						roster.windows(2).all(|pair| pair[0].0 < pair[1].0),
						"a roster is sorted, each host once"
					);
					for (host, _) in roster.iter() {
						ensure!(
							Commitments::<T>::contains_key(index, (host, model)),
							"a rostered host committed"
						);
					}
				}
				ensure!(
					frame_system::Pallet::<T>::block_number() < epoch.next_start(),
					"the epoch in progress contains the current block"
				);
			}
			if let Some(params) = NextEpochParams::<T>::get() {
				ensure!(params.check().is_ok(), "the next epoch's parameters are valid");
			}
			Ok(())
		}
	}
}
