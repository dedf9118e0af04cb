//! # Models pallet: the model registry and compute-weighted governance
//!
//! Implements "Models and governance" of the protocol (`shared/spec/protocol.md`):
//!
//! - **Registry**: a record per model (id, name, architecture and quantization, weights
//!   and tokenizer digests, PoC parameters, coefficient, validation threshold, template
//!   overhead, price, max context) with a status, proposed → approved → retired. Only
//!   `Config::UpdateOrigin` (governance) registers, updates or retires. Every change takes
//!   effect when the next epoch starts (`pallet-poc` calls [`ModelRegistry::on_epoch_start`]):
//!   a registered model is approved then, an update replaces the record then, a
//!   retirement ends the model's service then. So the parameters of an epoch never change
//!   while it runs, and hosts have the rest of an epoch to fetch a new model.
//! - **Governance**: any host with voting power proposes a runtime call, holding a
//!   deposit; hosts vote aye / nay / veto with the power they had when the proposal opened
//!   (a snapshot); after the voting period (or as soon as passing is certain) anyone closes
//!   it. It passes iff the power cast is at least the quorum of the snapshot's power, the
//!   ayes are more than the threshold of the power cast and the vetoes are less than the
//!   veto threshold of it; a passed call is dispatched with the [`Origin::ComputeMajority`]
//!   origin. A vetoed proposal's deposit goes to the community pool; otherwise it is
//!   returned.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use gonka_primitives::PowerSnapshot;
pub use pallet::*;
pub use pallet_poc::ModelRegistry;
pub use types::*;

mod types;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;

#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

use polkadot_sdk::frame_support::weights::Weight;

/// The weights of the pallet's calls and hooks, from its benchmarks.
pub trait WeightInfo {
	fn register_model() -> Weight;
	fn update_model() -> Weight;
	fn retire_model() -> Weight;
	fn set_governance_params() -> Weight;
	/// A proposal opened (its snapshot costs the same for any number of hosts).
	fn propose() -> Weight;
	fn vote() -> Weight;
	/// Closing a proposal on which `n` hosts voted (the call's own weight apart).
	fn close(n: u32) -> Weight;
	/// Applying `n` scheduled registry changes at an epoch start.
	fn on_epoch_start(n: u32) -> Weight;
}

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
			traits::{
				fungible::{Inspect, Mutate, MutateHold},
				tokens::{Fortitude, Precision, Restriction},
			},
		},
		frame_system::{self, pallet_prelude::*},
		sp_arithmetic::PerThing,
		sp_core::U256,
		sp_runtime::{
			traits::{Dispatchable, Saturating, Zero},
			Perbill,
		},
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

	#[pallet::pallet]
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
		fn build(&self) {
			let governance = self.governance;
			Pallet::<T>::check_governance(&governance)
				.expect("genesis governance parameters are valid");
			Governance::<T>::put(governance);
			assert!(self.models.len() <= T::MaxModels::get() as usize, "too many genesis models");
			for (id, record) in self.models.iter().enumerate() {
				Pallet::<T>::check_record(record).expect("genesis model records are valid");
				Registry::<T>::insert(
					id as ModelId,
					ModelInfo {
						record: record.clone(),
						status: ModelStatus::Approved,
						pending: None,
					},
				);
			}
			NextModelId::<T>::put(self.models.len() as ModelId);
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A model was registered; it is approved when the next epoch starts.
		ModelRegistered { model: ModelId },
		/// A proposed model's record was replaced before its approval.
		ModelRecordReplaced { model: ModelId },
		/// A new record for an approved model takes effect when the next epoch starts.
		ModelUpdateScheduled { model: ModelId },
		/// The model is retired when the next epoch starts.
		ModelRetirementScheduled { model: ModelId },
		/// The model is approved from this epoch.
		ModelApproved { model: ModelId, epoch: EpochIndex },
		/// The model's new record is in force from this epoch.
		ModelUpdated { model: ModelId, epoch: EpochIndex },
		/// The model is retired from this epoch (a proposed model: at once).
		ModelRetired { model: ModelId, epoch: Option<EpochIndex> },
		/// Governance's rules changed.
		GovernanceParamsSet { params: GovernanceParamsOf<T> },
		/// A proposal opened.
		Proposed {
			index: ProposalIndex,
			proposer: T::AccountId,
			end: BlockNumberFor<T>,
			total_power: u128,
			voters: u32,
		},
		/// A host voted (or changed its vote).
		Voted { index: ProposalIndex, voter: T::AccountId, vote: Vote, power: u128 },
		/// A proposal closed.
		Closed { index: ProposalIndex, outcome: Outcome, tally: Tally, total_power: u128 },
		/// A passed proposal's call was dispatched, with this result.
		Executed { index: ProposalIndex, result: DispatchResult },
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

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Registers a model (governance). It is approved when the next epoch starts.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_model())]
		pub fn register_model(origin: OriginFor<T>, record: ModelRecordOf<T>) -> DispatchResult {
			T::UpdateOrigin::ensure_origin(origin)?;
			Self::check_record(&record)?;
			ensure!(Registry::<T>::count() < T::MaxModels::get(), Error::<T>::TooManyModels);
			let model = NextModelId::<T>::get();
			Self::schedule(model)?;
			Registry::<T>::insert(
				model,
				ModelInfo {
					record,
					status: ModelStatus::Proposed,
					pending: Some(PendingChange::Approve),
				},
			);
			NextModelId::<T>::put(model.saturating_add(1));
			Self::deposit_event(Event::ModelRegistered { model });
			Ok(())
		}

		/// Replaces a model's record (governance): at once for a model not yet approved,
		/// from the next epoch start for an approved one.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::update_model())]
		pub fn update_model(
			origin: OriginFor<T>,
			model: ModelId,
			record: ModelRecordOf<T>,
		) -> DispatchResult {
			T::UpdateOrigin::ensure_origin(origin)?;
			Self::check_record(&record)?;
			let mut info = Registry::<T>::get(model).ok_or(Error::<T>::UnknownModel)?;
			match info.status {
				ModelStatus::Retired => return Err(Error::<T>::ModelRetired.into()),
				ModelStatus::Proposed => {
					info.record = record;
					Registry::<T>::insert(model, info);
					Self::deposit_event(Event::ModelRecordReplaced { model });
				}
				ModelStatus::Approved => {
					ensure!(info.pending.is_none(), Error::<T>::ChangePending);
					Self::schedule(model)?;
					info.pending = Some(PendingChange::Update(record));
					Registry::<T>::insert(model, info);
					Self::deposit_event(Event::ModelUpdateScheduled { model });
				}
			}
			Ok(())
		}

		/// Retires a model (governance): from the next epoch start for an approved model
		/// (a scheduled update is dropped), at once for one not yet approved.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::retire_model())]
		pub fn retire_model(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			T::UpdateOrigin::ensure_origin(origin)?;
			let mut info = Registry::<T>::get(model).ok_or(Error::<T>::UnknownModel)?;
			match (info.status, &info.pending) {
				(ModelStatus::Retired, _) | (_, Some(PendingChange::Retire)) => {
					return Err(Error::<T>::ModelRetired.into())
				}
				(ModelStatus::Proposed, _) => {
					Self::unschedule(model);
					info.status = ModelStatus::Retired;
					info.pending = None;
					Registry::<T>::insert(model, info);
					Self::deposit_event(Event::ModelRetired { model, epoch: None });
				}
				(ModelStatus::Approved, pending) => {
					if pending.is_none() {
						Self::schedule(model)?;
					}
					info.pending = Some(PendingChange::Retire);
					Registry::<T>::insert(model, info);
					Self::deposit_event(Event::ModelRetirementScheduled { model });
				}
			}
			Ok(())
		}

		/// Sets governance's rules (governance). Open proposals keep their end; the new
		/// quorum and thresholds apply when they close.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::set_governance_params())]
		pub fn set_governance_params(
			origin: OriginFor<T>,
			params: GovernanceParamsOf<T>,
		) -> DispatchResult {
			T::UpdateOrigin::ensure_origin(origin)?;
			Self::check_governance(&params)?;
			Governance::<T>::put(params);
			Self::deposit_event(Event::GovernanceParamsSet { params });
			Ok(())
		}

		/// Proposes `call`, holding `ProposalDeposit`; the proposer must have voting power.
		/// The voting power of every host now is the proposal's snapshot (kept by the power
		/// source, so opening costs the same whatever the number of hosts).
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::propose())]
		pub fn propose(
			origin: OriginFor<T>,
			call: Box<<T as Config>::RuntimeCall>,
		) -> DispatchResult {
			let proposer = ensure_signed(origin)?;
			let params = Governance::<T>::get().ok_or(Error::<T>::GovernanceNotConfigured)?;
			ensure!(T::Power::power(&proposer) > 0, Error::<T>::NoVotingPower);
			let call: BoundedVec<u8, T::MaxCallLength> =
				call.encode().try_into().map_err(|_| Error::<T>::CallTooLong)?;
			ensure!(Proposals::<T>::count() < T::MaxProposals::get(), Error::<T>::TooManyProposals);
			let deposit = T::ProposalDeposit::get();
			T::Currency::hold(&HoldReason::ProposalDeposit.into(), &proposer, deposit)?;

			let index = ProposalCount::<T>::get();
			let (snapshot, total_power, voters) = T::Power::take_snapshot();
			let end =
				frame_system::Pallet::<T>::block_number().saturating_add(params.voting_period);
			Proposals::<T>::insert(
				index,
				Proposal {
					proposer: proposer.clone(),
					call,
					deposit,
					end,
					snapshot,
					total_power,
					voters,
					votes: 0,
					tally: Tally::default(),
				},
			);
			ProposalCount::<T>::put(index.saturating_add(1));
			Self::deposit_event(Event::Proposed { index, proposer, end, total_power, voters });
			Ok(())
		}

		/// Votes on an open proposal with the power the voter had when it opened; a second
		/// vote replaces the first.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::vote())]
		pub fn vote(origin: OriginFor<T>, index: ProposalIndex, vote: Vote) -> DispatchResult {
			let voter = ensure_signed(origin)?;
			let mut proposal = Proposals::<T>::get(index).ok_or(Error::<T>::UnknownProposal)?;
			ensure!(
				frame_system::Pallet::<T>::block_number() < proposal.end,
				Error::<T>::VotingClosed
			);
			let power = T::Power::power_in(&proposal.snapshot, &voter);
			ensure!(power > 0, Error::<T>::NotInSnapshot);
			if let Some(previous) = Votes::<T>::get(index, &voter) {
				ensure!(previous != vote, Error::<T>::AlreadyVoted);
				proposal.tally.count(previous, power, false);
			} else {
				proposal.votes = proposal.votes.saturating_add(1);
			}
			proposal.tally.count(vote, power, true);
			Votes::<T>::insert(index, &voter, vote);
			Proposals::<T>::insert(index, proposal);
			Self::deposit_event(Event::Voted { index, voter, vote, power });
			Ok(())
		}

		/// Closes a proposal whose voting period is over, or earlier when it passes whatever
		/// the remaining power votes. A passed call is dispatched with the
		/// `ComputeMajority` origin; `call_weight_bound` must cover its weight (the closer
		/// pays for it). `votes` is at least the number of hosts that voted on it (the
		/// proposal's `votes`; closing deletes one vote per host). Anyone may close.
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
			let proposal = Proposals::<T>::get(index).ok_or(Error::<T>::UnknownProposal)?;
			ensure!(proposal.votes <= votes, Error::<T>::VotesBoundTooLow);
			let params = Governance::<T>::get().ok_or(Error::<T>::GovernanceNotConfigured)?;
			let ended = frame_system::Pallet::<T>::block_number() >= proposal.end;
			let outcome = if ended {
				Self::outcome(&proposal.tally, proposal.total_power, &params)
			} else if Self::certain_to_pass(&proposal.tally, proposal.total_power, &params) {
				Outcome::Passed
			} else {
				return Err(Error::<T>::VotingOpen.into());
			};

			let mut call_weight = Weight::zero();
			let mut execution = None;
			if outcome == Outcome::Passed {
				match <<T as Config>::RuntimeCall as codec::DecodeLimit>::decode_all_with_depth_limit(
					polkadot_sdk::frame_support::MAX_EXTRINSIC_DEPTH,
					&mut &proposal.call[..],
				) {
					Ok(call) => {
						let info = call.get_dispatch_info();
						ensure!(
							info.call_weight.all_lte(call_weight_bound),
							Error::<T>::WeightBoundTooLow
						);
						let origin: <T as Config>::RuntimeOrigin = Origin::ComputeMajority.into();
						let result = call.dispatch(origin);
						call_weight =
							polkadot_sdk::frame_support::dispatch::extract_actual_weight(&result, &info);
						execution = Some(result.map(|_| ()).map_err(|error| error.error));
					}
					// A runtime upgrade changed the call's encoding: reported, not dispatched.
					Err(_) => {
						execution = Some(Err(DispatchError::Other("the call no longer decodes")))
					}
				}
			}

			let reason = HoldReason::ProposalDeposit.into();
			if outcome == Outcome::Vetoed {
				let _ = T::Currency::transfer_on_hold(
					&reason,
					&proposal.proposer,
					&T::CommunityPool::get(),
					proposal.deposit,
					Precision::BestEffort,
					Restriction::Free,
					Fortitude::Force,
				);
			} else {
				let _ = T::Currency::release(
					&reason,
					&proposal.proposer,
					proposal.deposit,
					Precision::BestEffort,
				);
			}
			Proposals::<T>::remove(index);
			T::Power::release_snapshot(&proposal.snapshot);
			let _ = Votes::<T>::clear_prefix(index, proposal.votes, None);
			if let Some(result) = execution {
				Self::deposit_event(Event::Executed { index, result });
			}
			Self::deposit_event(Event::Closed {
				index,
				outcome,
				tally: proposal.tally,
				total_power: proposal.total_power,
			});
			Ok(Some(T::WeightInfo::close(proposal.votes).saturating_add(call_weight)).into())
		}
	}

	impl<T: Config> Pallet<T> {
		/// Checks a record's fields.
		pub fn check_record(record: &ModelRecordOf<T>) -> Result<(), Error<T>> {
			ensure!(!record.name.is_empty(), Error::<T>::EmptyName);
			ensure!(record.poc.seq_len > 0, Error::<T>::ZeroSeqLen);
			ensure!(!record.coefficient.is_zero(), Error::<T>::ZeroCoefficient);
			ensure!(!record.poc.dist_threshold.is_zero(), Error::<T>::ZeroDistThreshold);
			for probability in [record.poc.p_mismatch, record.poc.p_value] {
				ensure!(
					!probability.is_zero() && probability < Perbill::one(),
					Error::<T>::InvalidProbability
				);
			}
			ensure!(!record.validation_threshold.is_zero(), Error::<T>::ZeroValidationThreshold);
			ensure!(record.max_context > record.template_overhead, Error::<T>::InvalidContext);
			ensure!(!record.price.is_zero(), Error::<T>::ZeroPrice);
			Ok(())
		}

		/// Checks governance's parameters.
		pub fn check_governance(params: &GovernanceParamsOf<T>) -> Result<(), Error<T>> {
			ensure!(
				!params.voting_period.is_zero()
					&& !params.quorum.is_zero()
					&& params.threshold < Perbill::one()
					&& !params.veto_threshold.is_zero(),
				Error::<T>::InvalidGovernanceParams
			);
			Ok(())
		}

		/// Adds `model` to the changes of the next epoch start.
		fn schedule(model: ModelId) -> Result<(), Error<T>> {
			PendingChanges::<T>::try_mutate(|pending| {
				pending.try_push(model).map_err(|_| Error::<T>::TooManyPendingChanges)
			})
		}

		/// Removes `model` from the changes of the next epoch start.
		fn unschedule(model: ModelId) {
			PendingChanges::<T>::mutate(|pending| pending.retain(|scheduled| *scheduled != model));
		}

		/// `part / whole` compared with `ratio`, exactly: `part · 10⁹` against
		/// `ratio_parts · whole`.
		fn compare(part: u128, ratio: Perbill, whole: u128) -> core::cmp::Ordering {
			let left = U256::from(part) * U256::from(Perbill::ACCURACY);
			let right = U256::from(ratio.deconstruct()) * U256::from(whole);
			left.cmp(&right)
		}

		/// The result of a tally at the end of the voting period.
		pub fn outcome(tally: &Tally, total: u128, params: &GovernanceParamsOf<T>) -> Outcome {
			let cast = tally.cast();
			if total == 0 || Self::compare(cast, params.quorum, total).is_lt() {
				return Outcome::Expired;
			}
			if Self::compare(tally.veto, params.veto_threshold, cast).is_ge() {
				return Outcome::Vetoed;
			}
			if Self::compare(tally.aye, params.threshold, cast).is_gt() {
				Outcome::Passed
			} else {
				Outcome::Rejected
			}
		}

		/// Whether the proposal passes however the power not yet cast votes: quorum met,
		/// ayes above the threshold even if all the rest voted nay, vetoes below theirs even
		/// if all the rest vetoed.
		pub fn certain_to_pass(tally: &Tally, total: u128, params: &GovernanceParamsOf<T>) -> bool {
			let cast = tally.cast();
			let rest = total.saturating_sub(cast);
			total > 0
				&& Self::compare(cast, params.quorum, total).is_ge()
				&& Self::compare(tally.aye, params.threshold, total).is_gt()
				&& Self::compare(tally.veto.saturating_add(rest), params.veto_threshold, total)
					.is_lt()
		}

		/// Applies the registry changes scheduled for the epoch `epoch`; returns how many.
		pub(crate) fn apply_pending(epoch: EpochIndex) -> u32 {
			let pending = PendingChanges::<T>::take();
			let count = pending.len() as u32;
			for model in pending {
				let Some(mut info) = Registry::<T>::get(model) else {
					{
						polkadot_sdk::frame_support::defensive!("a scheduled model exists");
					}
					continue;
				};
				let Some(change) = info.pending.take() else {
					polkadot_sdk::frame_support::defensive!("a scheduled model has a change");
					continue;
				};
				match change {
					PendingChange::Approve => {
						info.status = ModelStatus::Approved;
						Self::deposit_event(Event::ModelApproved { model, epoch });
					}
					PendingChange::Update(record) => {
						info.record = record;
						Self::deposit_event(Event::ModelUpdated { model, epoch });
					}
					PendingChange::Retire => {
						info.status = ModelStatus::Retired;
						Self::deposit_event(Event::ModelRetired { model, epoch: Some(epoch) });
					}
				}
				Registry::<T>::insert(model, info);
			}
			count
		}

		/// The record in force of an approved model.
		pub fn approved(model: ModelId) -> Option<ModelRecordOf<T>> {
			Registry::<T>::get(model)
				.filter(|info| info.status == ModelStatus::Approved)
				.map(|info| info.record)
		}

		/// The pallet's invariants.
		#[cfg(any(test, feature = "try-runtime"))]
		pub fn do_try_state() -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
			let params = Governance::<T>::get().ok_or("governance is configured")?;
			Self::check_governance(&params).map_err(|_| "governance parameters are valid")?;
			ensure!(Registry::<T>::count() <= T::MaxModels::get(), "the registry is bounded");
			let next = NextModelId::<T>::get();
			let pending = PendingChanges::<T>::get();
			let mut scheduled: Vec<ModelId> = pending.to_vec();
			scheduled.sort_unstable();
			scheduled.dedup();
			ensure!(scheduled.len() == pending.len(), "a model is scheduled once");
			for (model, info) in Registry::<T>::iter() {
				ensure!(model < next, "ids are below the next id");
				Self::check_record(&info.record).map_err(|_| "records are valid")?;
				if let Some(PendingChange::Update(record)) = &info.pending {
					Self::check_record(record).map_err(|_| "scheduled records are valid")?;
				}
				let consistent = match (info.status, &info.pending) {
					(ModelStatus::Proposed, pending) => {
						matches!(pending, Some(PendingChange::Approve))
					}
					(ModelStatus::Approved, pending) => {
						!matches!(pending, Some(PendingChange::Approve))
					}
					(ModelStatus::Retired, pending) => pending.is_none(),
				};
				ensure!(consistent, "a model's pending change fits its status");
				ensure!(
					info.pending.is_some() == scheduled.binary_search(&model).is_ok(),
					"exactly the models with a pending change are scheduled"
				);
			}
			ensure!(Proposals::<T>::count() <= T::MaxProposals::get(), "proposals are bounded");
			let count = ProposalCount::<T>::get();
			for (index, proposal) in Proposals::<T>::iter() {
				ensure!(index < count, "indices are below the count");
				let mut tally = Tally::default();
				let mut votes = 0u32;
				for (voter, vote) in Votes::<T>::iter_prefix(index) {
					let power = T::Power::power_in(&proposal.snapshot, &voter);
					ensure!(power > 0, "voters have power in the snapshot");
					tally.count(vote, power, true);
					votes = votes.saturating_add(1);
				}
				ensure!(votes == proposal.votes, "the proposal counts its votes");
				ensure!(tally == proposal.tally, "the tally is the sum of the votes");
				ensure!(
					tally.cast() <= proposal.total_power,
					"no more power is cast than the snapshot's"
				);
				ensure!(votes <= proposal.voters, "no more hosts vote than the snapshot's");
			}
			for (index, _, _) in Votes::<T>::iter() {
				ensure!(Proposals::<T>::contains_key(index), "votes belong to open proposals");
			}
			Ok(())
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxVoters::get() > 0 && T::MaxProposals::get() > 0);
			assert!(T::MaxPendingChanges::get() > 0 && T::MaxModels::get() > 0);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(
			_now: BlockNumberFor<T>,
		) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	impl<T: Config> ModelRegistry for Pallet<T> {
		fn is_approved(model: ModelId) -> bool {
			Registry::<T>::get(model).is_some_and(|info| info.status == ModelStatus::Approved)
		}

		fn coefficient(model: ModelId) -> Option<polkadot_sdk::sp_arithmetic::FixedU128> {
			Self::approved(model).map(|record| record.coefficient)
		}

		fn on_epoch_start(epoch: EpochIndex) -> Weight {
			let applied = Self::apply_pending(epoch);
			T::WeightInfo::on_epoch_start(applied)
		}

		#[cfg(feature = "runtime-benchmarks")]
		fn approve_for_benchmark(model: ModelId) {
			let record = benchmarking::record::<T>();
			Registry::<T>::insert(
				model,
				ModelInfo { record, status: ModelStatus::Approved, pending: None },
			);
			if NextModelId::<T>::get() <= model {
				NextModelId::<T>::put(model.saturating_add(1));
			}
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
