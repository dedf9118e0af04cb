#![doc = include_str!("../README.md")]
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use expiry::EXPIRY_VOTES_PER_BLOCK;
pub use gonka_primitives::PowerSnapshot;
pub use pallet::*;
pub use pallet_poc::ModelRegistry;
pub use types::*;
pub use weights::WeightInfo;

mod dispatchable_impls;
mod expiry;
mod governance;
pub mod migrations;
mod registry;
mod try_state;
mod types;
pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;

#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

/// The hosts' voting power, from Proof of Compute (`pallet-poc`).
pub trait VotingPowerSource<AccountId> {
	/// `who`'s voting power now.
	fn power(who: &AccountId) -> u128;
	/// Takes a snapshot of the voting power now and keeps it until
	/// [`Self::release_snapshot`]; returns it with its total power and its number of hosts
	/// with power. O(1): the source keeps the powers, the snapshot only names them.
	fn take_snapshot() -> (PowerSnapshot, u128, u32);
	/// `who`'s voting power in a snapshot.
	fn power_in(snapshot: &PowerSnapshot, who: &AccountId) -> u128;
	/// The snapshot is no longer needed.
	fn release_snapshot(snapshot: &PowerSnapshot);
	/// Gives exactly these hosts voting power, for the benchmarks.
	#[cfg(feature = "runtime-benchmarks")]
	fn set_powers(powers: &[(AccountId, u128)]);
}

#[polkadot_sdk::frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::{boxed::Box, vec::Vec};
	use gonka_primitives::{EpochIndex, ModelId};
	use polkadot_sdk::{
		frame_support::{
			dispatch::{GetDispatchInfo, PostDispatchInfo},
			pallet_prelude::*,
			traits::fungible::{Inspect, Mutate, MutateHold},
		},
		frame_system::{self, pallet_prelude::*},
		sp_runtime::traits::Dispatchable,
	};

	/// The balance type of the deposit currency.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	/// A model record with the runtime's bounds.
	pub type ModelRecordOf<T> =
		ModelRecord<<T as Config>::MaxNameLength, <T as Config>::MaxLabelLength, BalanceOf<T>>;
	/// A registry entry with the runtime's bounds.
	pub type ModelInfoOf<T> =
		ModelInfo<<T as Config>::MaxNameLength, <T as Config>::MaxLabelLength, BalanceOf<T>>;
	/// A scheduled change with the runtime's bounds.
	pub type PendingChangeOf<T> =
		PendingChange<<T as Config>::MaxNameLength, <T as Config>::MaxLabelLength, BalanceOf<T>>;
	/// Governance parameters with the runtime's block number.
	pub type GovernanceParamsOf<T> = GovernanceParams<BlockNumberFor<T>>;
	/// A proposal with the runtime's types.
	pub type ProposalOf<T> = Proposal<
		<T as frame_system::Config>::AccountId,
		BalanceOf<T>,
		BlockNumberFor<T>,
		<T as Config>::MaxCallLength,
	>;
	/// A proposal's index.
	pub type ProposalIndex = u32;

	/// The storage layout's version: 1 added `end_tokens` to the model record
	/// ([`migrations::v1`]).
	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config {
		/// The overarching origin: passed proposals are dispatched with [`Origin`].
		type RuntimeOrigin: From<Origin>;
		/// The calls governance may propose.
		type RuntimeCall: Parameter
			+ Dispatchable<
				RuntimeOrigin = <Self as Config>::RuntimeOrigin,
				PostInfo = PostDispatchInfo,
			> + GetDispatchInfo
			+ From<frame_system::Call<Self>>;
		/// Holds proposal deposits; pays the community pool.
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ Mutate<Self::AccountId>;
		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;
		/// Who registers, updates and retires models and sets governance's parameters: the
		/// runtime's governance ([`EnsureComputeMajority`], and root on development chains).
		type UpdateOrigin: EnsureOrigin<<Self as frame_system::Config>::RuntimeOrigin>;
		/// The hosts' voting power.
		type Power: VotingPowerSource<Self::AccountId>;
		/// The deposit a proposer holds while its proposal is open.
		#[pallet::constant]
		type ProposalDeposit: Get<BalanceOf<Self>>;
		/// The community pool (a keyless account): vetoed deposits go there.
		#[pallet::constant]
		type CommunityPool: Get<Self::AccountId>;
		/// The most models the registry holds (retired ones included).
		#[pallet::constant]
		type MaxModels: Get<u32>;
		/// The most registry changes scheduled for one epoch start.
		#[pallet::constant]
		type MaxPendingChanges: Get<u32>;
		/// The longest model name, in bytes.
		#[pallet::constant]
		type MaxNameLength: Get<u32>;
		/// The longest architecture or quantization label, in bytes.
		#[pallet::constant]
		type MaxLabelLength: Get<u32>;
		/// The longest encoded call a proposal may carry, in bytes.
		#[pallet::constant]
		type MaxCallLength: Get<u32>;
		/// The most proposals open at once.
		#[pallet::constant]
		type MaxProposals: Get<u32>;
		/// How long after its end a proposal may still be closed by anyone (a passed one
		/// dispatched); after it, the chain closes it and a passed one lapses (`expiry.rs`).
		/// A constant, so that no change of governance's rules moves an open proposal's
		/// deadline.
		#[pallet::constant]
		type ClosingPeriod: Get<BlockNumberFor<Self>>;
		/// The most hosts with voting power, so the most votes on a proposal (the PoC
		/// pallet's host bound).
		#[pallet::constant]
		type MaxVoters: Get<u32>;
		/// Weights from the benchmarks.
		type WeightInfo: WeightInfo;
	}

	/// The origin a passed proposal's call is dispatched with.
	#[pallet::origin]
	#[derive(
		Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
	)]
	pub enum Origin {
		/// Hosts holding the required share of voting power voted for the call.
		ComputeMajority,
	}

	/// Why the pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The deposit of an open proposal.
		ProposalDeposit,
	}

	/// The model registry.
	#[pallet::storage]
	pub type Registry<T: Config> = CountedStorageMap<_, Twox64Concat, ModelId, ModelInfoOf<T>>;

	/// The id the next registered model gets.
	#[pallet::storage]
	pub type NextModelId<T: Config> = StorageValue<_, ModelId, ValueQuery>;

	/// The models with a change scheduled for the next epoch start, in scheduling order.
	#[pallet::storage]
	pub type PendingChanges<T: Config> =
		StorageValue<_, BoundedVec<ModelId, T::MaxPendingChanges>, ValueQuery>;

	/// Governance's rules.
	#[pallet::storage]
	pub type Governance<T: Config> = StorageValue<_, GovernanceParamsOf<T>, OptionQuery>;

	/// The index the next proposal gets.
	#[pallet::storage]
	pub type ProposalCount<T: Config> = StorageValue<_, ProposalIndex, ValueQuery>;

	/// Open proposals.
	#[pallet::storage]
	pub type Proposals<T: Config> =
		CountedStorageMap<_, Twox64Concat, ProposalIndex, ProposalOf<T>>;

	/// The open proposal the expiry hook looked at last; it looks at the next one in
	/// storage order each block (`expiry.rs`).
	#[pallet::storage]
	pub type ExpiryCursor<T: Config> = StorageValue<_, ProposalIndex, OptionQuery>;

	/// The votes on open proposals.
	#[pallet::storage]
	pub type Votes<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		ProposalIndex,
		Blake2_128Concat,
		T::AccountId,
		Vote,
		OptionQuery,
	>;

	#[pallet::genesis_config]
	pub struct GenesisConfig<T: Config> {
		/// Models approved at genesis, with ids 0, 1, …
		pub models: Vec<ModelRecordOf<T>>,
		/// Governance's rules.
		pub governance: GovernanceParamsOf<T>,
	}

	impl<T: Config> Default for GenesisConfig<T> {
		/// No models; the live network's governance (48 h of 6-second blocks).
		fn default() -> Self {
			Self { models: Vec::new(), governance: GovernanceParams::live_network() }
		}
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		/// Sets governance's rules, then approves the models with ids 0, 1, …; panics on
		/// invalid parameters or records, or more models than `MaxModels`.
		fn build(&self) {
			Pallet::<T>::genesis_governance(self.governance);
			Pallet::<T>::genesis_models(&self.models);
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A model was registered; it is approved when the next epoch starts.
		ModelRegistered {
			/// The new model's id.
			model: ModelId,
		},
		/// A proposed model's record was replaced before its approval.
		ModelRecordReplaced {
			/// The model.
			model: ModelId,
		},
		/// A new record for an approved model takes effect when the next epoch starts.
		ModelUpdateScheduled {
			/// The model.
			model: ModelId,
		},
		/// The model is retired when the next epoch starts.
		ModelRetirementScheduled {
			/// The model.
			model: ModelId,
		},
		/// The model is approved from this epoch.
		ModelApproved {
			/// The model.
			model: ModelId,
			/// The epoch that just started.
			epoch: EpochIndex,
		},
		/// The model's new record is in force from this epoch.
		ModelUpdated {
			/// The model.
			model: ModelId,
			/// The epoch that just started.
			epoch: EpochIndex,
		},
		/// The model is retired from this epoch (a proposed model: at once).
		ModelRetired {
			/// The model.
			model: ModelId,
			/// The epoch that just started; `None` for a proposed model, retired at once.
			epoch: Option<EpochIndex>,
		},
		/// Governance's rules changed.
		GovernanceParamsSet {
			/// The new rules.
			params: GovernanceParamsOf<T>,
		},
		/// A proposal opened.
		Proposed {
			/// The proposal's index.
			index: ProposalIndex,
			/// Who proposed it (and holds its deposit).
			proposer: T::AccountId,
			/// The first block at which votes are no longer taken.
			end: BlockNumberFor<T>,
			/// The total voting power of the proposal's snapshot.
			total_power: u128,
			/// The hosts with power in the snapshot.
			voters: u32,
		},
		/// A host voted (or changed its vote).
		Voted {
			/// The proposal's index.
			index: ProposalIndex,
			/// The host.
			voter: T::AccountId,
			/// Its vote.
			vote: Vote,
			/// Its power in the proposal's snapshot.
			power: u128,
		},
		/// A proposal closed.
		Closed {
			/// The proposal's index.
			index: ProposalIndex,
			/// How it ended.
			outcome: Outcome,
			/// The power cast, by vote.
			tally: Tally,
			/// The total voting power of its snapshot.
			total_power: u128,
		},
		/// A passed proposal's call was dispatched, with this result.
		Executed {
			/// The proposal's index.
			index: ProposalIndex,
			/// The call's result (an error when the call no longer decodes).
			result: DispatchResult,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No model with this id.
		UnknownModel,
		/// The model is retired.
		ModelRetired,
		/// The registry is full.
		TooManyModels,
		/// Too many registry changes are scheduled for the next epoch start.
		TooManyPendingChanges,
		/// A change is already scheduled for this model; it takes effect first.
		ChangePending,
		/// A model record needs a name.
		EmptyName,
		/// PoC `seq_len` must be positive.
		ZeroSeqLen,
		/// The coefficient must be positive.
		ZeroCoefficient,
		/// `dist_threshold` must be positive.
		ZeroDistThreshold,
		/// `p_mismatch` and `p_value` must be strictly between 0 and 1.
		InvalidProbability,
		/// `validation_threshold` must be positive.
		ZeroValidationThreshold,
		/// `max_context` must be positive and larger than `template_overhead`.
		InvalidContext,
		/// The price must be positive.
		ZeroPrice,
		/// `end_tokens` must be in ascending order, without repeats.
		UnsortedEndTokens,
		/// Governance's parameters are not valid: a voting period, a quorum and a veto
		/// threshold above zero, a threshold below 100%.
		InvalidGovernanceParams,
		/// Governance's parameters are not set (genesis sets them).
		GovernanceNotConfigured,
		/// Only hosts with voting power propose.
		NoVotingPower,
		/// The call encodes to more than `MaxCallLength` bytes.
		CallTooLong,
		/// Too many proposals are open.
		TooManyProposals,
		/// No open proposal with this index.
		UnknownProposal,
		/// The voting period is over.
		VotingClosed,
		/// The voter had no voting power when the proposal opened.
		NotInSnapshot,
		/// The voter already cast this vote.
		AlreadyVoted,
		/// The voting period is not over and the result is not yet certain.
		VotingOpen,
		/// The call weighs more than the weight bound given to `close`.
		WeightBoundTooLow,
		/// More hosts voted on the proposal than the `votes` bound given to `close`.
		VotesBoundTooLow,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Closes a proposal left open past its closing period, looking at one per block
		/// (`expiry.rs`).
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::expire_next(now)
		}

		fn integrity_test() {
			Self::do_integrity_test()
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
		/// Registers a model. It is proposed now and approved when the next epoch starts.
		///
		/// The dispatch origin must be `Config::UpdateOrigin` (governance).
		///
		/// - `record`: the model's record; every field is checked (`EmptyName`,
		///   `ZeroSeqLen`, ... otherwise).
		///
		/// Emits `ModelRegistered` (then `ModelApproved` when the next epoch starts).
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_model())]
		pub fn register_model(origin: OriginFor<T>, record: ModelRecordOf<T>) -> DispatchResult {
			T::UpdateOrigin::ensure_origin(origin)?;
			Self::do_register_model(record)
		}

		/// Replaces a model's record: at once for a model not yet approved, from the next
		/// epoch start for an approved one (which may have one change scheduled at a time).
		///
		/// The dispatch origin must be `Config::UpdateOrigin` (governance).
		///
		/// - `model`: the model's id; it must not be retired.
		/// - `record`: the new record; every field is checked.
		///
		/// Emits `ModelRecordReplaced` for a proposed model, `ModelUpdateScheduled` for an
		/// approved one (then `ModelUpdated` when the next epoch starts).
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::update_model())]
		pub fn update_model(
			origin: OriginFor<T>,
			model: ModelId,
			record: ModelRecordOf<T>,
		) -> DispatchResult {
			T::UpdateOrigin::ensure_origin(origin)?;
			Self::do_update_model(model, record)
		}

		/// Retires a model: from the next epoch start for an approved model (a scheduled
		/// update is dropped), at once for one not yet approved.
		///
		/// The dispatch origin must be `Config::UpdateOrigin` (governance).
		///
		/// - `model`: the model's id; it must not be retired or have its retirement
		///   scheduled.
		///
		/// Emits `ModelRetired` (epoch `None`) for a proposed model,
		/// `ModelRetirementScheduled` for an approved one (then `ModelRetired` when the next
		/// epoch starts).
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::retire_model())]
		pub fn retire_model(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			T::UpdateOrigin::ensure_origin(origin)?;
			Self::do_retire_model(model)
		}

		/// Sets governance's rules. Open proposals keep their end; the new quorum and
		/// thresholds apply when they close.
		///
		/// The dispatch origin must be `Config::UpdateOrigin` (governance).
		///
		/// - `params`: the voting period, quorum, threshold and veto threshold; a voting
		///   period, a quorum and a veto threshold above zero, a threshold below 100%.
		///
		/// Emits `GovernanceParamsSet`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::set_governance_params())]
		pub fn set_governance_params(
			origin: OriginFor<T>,
			params: GovernanceParamsOf<T>,
		) -> DispatchResult {
			T::UpdateOrigin::ensure_origin(origin)?;
			Self::do_set_governance_params(params)
		}

		/// Proposes `call`, holding `ProposalDeposit` from the proposer. The voting power of
		/// every host now is the proposal's snapshot (kept by the power source, so opening
		/// costs the same whatever the number of hosts); voting ends after the voting
		/// period.
		///
		/// The dispatch origin must be signed by an account with voting power.
		///
		/// - `call`: the runtime call to dispatch with the `ComputeMajority` origin if the
		///   proposal passes; it encodes to at most `MaxCallLength` bytes.
		///
		/// Emits `Proposed`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::propose())]
		pub fn propose(
			origin: OriginFor<T>,
			call: Box<<T as Config>::RuntimeCall>,
		) -> DispatchResult {
			let proposer = ensure_signed(origin)?;
			Self::do_propose(proposer, call)
		}

		/// Votes on an open proposal with the power the voter had when it opened; a second
		/// vote replaces the first (the same vote twice is refused).
		///
		/// The dispatch origin must be signed by a host with power in the proposal's
		/// snapshot, before the proposal's `end` block.
		///
		/// - `index`: the proposal's index.
		/// - `vote`: aye, nay or veto.
		///
		/// Emits `Voted`.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::vote())]
		pub fn vote(origin: OriginFor<T>, index: ProposalIndex, vote: Vote) -> DispatchResult {
			let voter = ensure_signed(origin)?;
			Self::do_vote(voter, index, vote)
		}

		/// Closes a proposal whose voting period is over, or earlier when it passes whatever
		/// the remaining power votes. A passed call is dispatched with the `ComputeMajority`
		/// origin (the closer pays for its weight). The deposit goes to the community pool if
		/// the proposal is vetoed and back to the proposer otherwise; the votes are deleted
		/// and the snapshot released.
		///
		/// The dispatch origin must be signed (anyone may close).
		///
		/// - `index`: the proposal's index.
		/// - `call_weight_bound`: at least the weight of the proposal's call.
		/// - `votes`: at least the number of hosts that voted on it (the proposal's `votes`;
		///   closing deletes one vote per host).
		///
		/// Emits `Executed` for a passed proposal, then `Closed`.
		#[pallet::call_index(6)]
		#[pallet::weight(
			T::WeightInfo::close((*votes).min(T::MaxVoters::get())).saturating_add(*call_weight_bound)
		)]
		pub fn close(
			origin: OriginFor<T>,
			index: ProposalIndex,
			call_weight_bound: Weight,
			votes: u32,
		) -> DispatchResultWithPostInfo {
			ensure_signed(origin)?;
			Self::do_close(index, call_weight_bound, votes)
		}

		/// Authorizes the runtime upgrade to the wasm whose hash is `code_hash`: anyone may
		/// then apply it with `System::apply_authorized_upgrade(code)`, which refuses code that
		/// changes the spec name or does not raise `spec_version` and, on the parachain, has
		/// the relay chain validate it first. This is governance's way to
		/// `System::authorize_upgrade`, which only root may call; a later authorization
		/// replaces an earlier one.
		///
		/// The dispatch origin must be `Config::UpdateOrigin` (governance).
		///
		/// - `code_hash`: the runtime's wasm hashed with the chain's hasher (blake2-256), as
		///   it will be applied (compressed if it is sent compressed).
		///
		/// Emits `System::UpgradeAuthorized`.
		#[pallet::call_index(7)]
		#[pallet::weight(
			<<T as frame_system::Config>::SystemWeightInfo as frame_system::WeightInfo>::authorize_upgrade()
		)]
		pub fn authorize_upgrade(origin: OriginFor<T>, code_hash: T::Hash) -> DispatchResult {
			T::UpdateOrigin::ensure_origin(origin)?;
			frame_system::Pallet::<T>::do_authorize_upgrade(code_hash, true);
			Ok(())
		}
	}
}

/// Accepts only origins from passed proposals ([`Origin::ComputeMajority`]).
pub struct EnsureComputeMajority;
impl<O> polkadot_sdk::frame_support::traits::EnsureOrigin<O> for EnsureComputeMajority
where
	O: polkadot_sdk::frame_support::traits::OriginTrait + From<Origin>,
	for<'a> &'a O::PalletsOrigin: TryInto<&'a Origin>,
{
	type Success = ();

	fn try_origin(o: O) -> Result<Self::Success, O> {
		let from_vote = matches!(o.caller().try_into(), Ok(Origin::ComputeMajority));
		if from_vote {
			Ok(())
		} else {
			Err(o)
		}
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn try_successful_origin() -> Result<O, ()> {
		Ok(O::from(Origin::ComputeMajority))
	}
}
