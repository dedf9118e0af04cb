//! The pallet's types: epoch parameters and phases, hosts, commitments, the model registry.

// `HostInfo`'s derives (`MaxEncodedLen`, `DecodeWithMemTracking`, ...) repeat the bound of its
// `Balance` parameter in their own `where` clauses.
#![allow(clippy::multiple_bound_locations)]

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use gonka_primitives::{EpochIndex, ModelId, NonceCount, H256};
use polkadot_sdk::{
	frame_support::{pallet_prelude::*, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound},
	sp_arithmetic::FixedU128,
	sp_core::sr25519,
	sp_runtime::traits::AtLeast32BitUnsigned,
};
use scale_info::TypeInfo;

/// The phase lengths of an epoch, in blocks (`protocol.md`, "Epochs"). With `S` the first
/// block of the epoch: PoC generation is `[S, S+G)`, validation `[S+G+D, S+G+D+V)`, the new
/// weights are formed from `S+G+D+V`, and inference runs the rest of the epoch.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
	serde::Serialize,
	serde::Deserialize,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EpochParams<BlockNumber> {
	/// Blocks per epoch (`epoch_length`).
	pub epoch_length: BlockNumber,
	/// Blocks of PoC generation (`G`).
	pub poc_generation: BlockNumber,
	/// Blocks between the end of generation and the start of validation (`D`, at least 1:
	/// the validators' sample is seeded by the hash of block `S+G`, which must exist).
	pub validation_delay: BlockNumber,
	/// Blocks of PoC validation (`V`).
	pub poc_validation: BlockNumber,
}

/// Why epoch parameters were refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidParams {
	/// `G`, `D` or `V` is zero.
	ZeroPhase,
	/// `G + D + V` does not leave at least one block of the epoch for inference.
	PhasesExceedEpoch,
}

impl<BlockNumber: AtLeast32BitUnsigned + Copy> EpochParams<BlockNumber> {
	/// The live Gonka network's values (`protocol.md`): a 15,391-block epoch with 35 blocks
	/// of generation, 5 of delay and 240 of validation.
	pub fn live_network() -> Self {
		Self {
			epoch_length: 15_391u32.into(),
			poc_generation: 35u32.into(),
			validation_delay: 5u32.into(),
			poc_validation: 240u32.into(),
		}
	}

	/// Checks that the phases fit in the epoch.
	pub fn check(&self) -> Result<(), InvalidParams> {
		if self.poc_generation.is_zero()
			|| self.validation_delay.is_zero()
			|| self.poc_validation.is_zero()
		{
			return Err(InvalidParams::ZeroPhase);
		}
		let phases = self
			.poc_generation
			.checked_add(&self.validation_delay)
			.and_then(|sum| sum.checked_add(&self.poc_validation))
			.ok_or(InvalidParams::PhasesExceedEpoch)?;
		if phases >= self.epoch_length {
			return Err(InvalidParams::PhasesExceedEpoch);
		}
		Ok(())
	}
}

/// Where in its epoch a block is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo, MaxEncodedLen)]
pub enum Phase {
	/// Hosts compute PoC nonces and commit to them.
	Generation,
	/// Generation is over; validation has not started (the sample seed is being fixed).
	ValidationDelay,
	/// Validators check each other's commitments and vote.
	Validation,
	/// The rest of the epoch: the new weights are formed, inference goes on.
	Inference,
}

/// The epoch in progress.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct EpochInfo<BlockNumber> {
	/// The epoch's index (the first is 0).
	pub index: EpochIndex,
	/// Its first block (`S`).
	pub start: BlockNumber,
	/// The parameters in force for all of it.
	pub params: EpochParams<BlockNumber>,
	/// The PoC seed: the hash of block `S-1`.
	pub seed: H256,
}

impl<BlockNumber: AtLeast32BitUnsigned + Copy> EpochInfo<BlockNumber> {
	/// The first block after generation (`S+G`).
	pub fn generation_end(&self) -> BlockNumber {
		self.start.saturating_add(self.params.poc_generation)
	}

	/// The first block of validation (`S+G+D`).
	pub fn validation_start(&self) -> BlockNumber {
		self.generation_end().saturating_add(self.params.validation_delay)
	}

	/// The first block after validation (`S+G+D+V`), where the new weights are formed.
	pub fn validation_end(&self) -> BlockNumber {
		self.validation_start().saturating_add(self.params.poc_validation)
	}

	/// The first block of the next epoch.
	pub fn next_start(&self) -> BlockNumber {
		self.start.saturating_add(self.params.epoch_length)
	}

	/// The phase of block `now` (a block of this epoch).
	pub fn phase_at(&self, now: BlockNumber) -> Phase {
		if now < self.generation_end() {
			Phase::Generation
		} else if now < self.validation_start() {
			Phase::ValidationDelay
		} else if now < self.validation_end() {
			Phase::Validation
		} else {
			Phase::Inference
		}
	}
}

/// A registered host.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
#[scale_info(skip_type_params(MaxEndpointLength, MaxModels))]
#[codec(mel_bound())]
pub struct HostInfo<
	MaxEndpointLength: Get<u32>,
	MaxModels: Get<u32>,
	Balance: MaxEncodedLen + Clone + PartialEq + Eq + core::fmt::Debug,
> {
	/// The key its worker signs duties with.
	pub worker_key: sr25519::Public,
	/// Where other workers reach it (an `http://` or `https://` URL).
	pub endpoint: BoundedVec<u8, MaxEndpointLength>,
	/// The models it serves, without duplicates.
	pub models: BoundedVec<ModelId, MaxModels>,
	/// The registration deposit held from its account.
	pub deposit: Balance,
}

/// A host's PoC commitment for one model in one epoch.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Commitment {
	/// Nonces computed (only grows).
	pub count: NonceCount,
	/// Merkle root of their artifacts.
	pub root: H256,
	/// How many commitments the host sent for this model in this epoch (bounded by the
	/// per-host budget).
	pub submissions: u32,
}

/// What the chain knows of models; `pallet-models` implements it.
pub trait ModelRegistry {
	/// Whether governance approved `model` (hosts may serve and commit only approved ones).
	fn is_approved(model: ModelId) -> bool;
	/// The factor that makes PoC weight on `model` comparable across models
	/// (`weight_scale_factor`); `None` for an unknown model.
	fn coefficient(model: ModelId) -> Option<FixedU128>;
	/// Called when epoch `epoch` starts, before anything else of the epoch: the registry
	/// applies the changes scheduled for it (approvals, parameter updates, retirements).
	/// Returns the weight it used.
	fn on_epoch_start(epoch: EpochIndex) -> Weight;
	/// Makes `model` approved, so benchmarks can use it.
	#[cfg(feature = "runtime-benchmarks")]
	fn approve_for_benchmark(model: ModelId);
}

/// What a weight formation tells other pallets; `pallet-rewards` implements it (the epoch's
/// reward is scheduled over these weights). `()` ignores formations.
pub trait OnWeightsFormed<AccountId> {
	/// The weights of `epoch` are formed: `weights` are the hosts' consensus weights
	/// (uncapped, sorted by account), which the formation then puts in force (rosters, then
	/// voting power, over the next blocks: a host may still leave or lose its power before
	/// then). Also called when the epoch accepted nobody and carries the previous weights
	/// over, with those weights (of the roster entries that stand). Returns the weight it
	/// used.
	fn weights_formed(epoch: EpochIndex, weights: &[(AccountId, u128)]) -> Weight;
	/// The most weight [`Self::weights_formed`] uses for `hosts` weights.
	fn weights_formed_weight(hosts: u32) -> Weight;
}

impl<AccountId> OnWeightsFormed<AccountId> for () {
	fn weights_formed(_epoch: EpochIndex, _weights: &[(AccountId, u128)]) -> Weight {
		Weight::zero()
	}
	fn weights_formed_weight(_hosts: u32) -> Weight {
		Weight::zero()
	}
}

/// A step of the weight formation (`formation.rs`), with its cursor.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo, MaxEncodedLen)]
pub enum FormationStep<AccountId> {
	/// Judging the rosters, in order of model: the model being judged (`None`: none yet),
	/// the position in its roster of the next commitment, and whether any was accepted.
	Judge { model: Option<ModelId>, position: u32, accepted_any: bool },
	/// Nobody was accepted: summing the consensus weights in force, from the executor
	/// rosters, after the given chunk of a model (`None`: from the first).
	Carry { after: Option<(ModelId, u32)> },
	/// Nobody was accepted: removing the next executor rosters the judging formed.
	Discard,
	/// Scheduling the epoch's reward over the weights formed (or carried over).
	Reward { carried: bool },
	/// Removing the executor rosters of the models without a next roster, after the given
	/// model (`None`: from the first).
	Retire { after: Option<ModelId> },
	/// Putting the next executor rosters in force, model by model.
	Install,
	/// Writing the new generation of voting power: the weights capped (once), then written
	/// after the given host (`None`: from the first); then put in force.
	Power { capped: bool, after: Option<AccountId> },
}

/// The weight formation in progress: its epoch and its step.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo, MaxEncodedLen)]
pub struct FormationState<AccountId> {
	/// The epoch whose weights are formed.
	pub epoch: EpochIndex,
	/// The step in progress.
	pub step: FormationStep<AccountId>,
}

/// The voting power that judged a (host, model) commitment valid and invalid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Encode, Decode, TypeInfo, MaxEncodedLen)]
pub struct Tally {
	/// Power of the validators that said valid.
	pub valid: u128,
	/// Power of the validators that said invalid.
	pub invalid: u128,
}

/// How a (host, model) commitment was judged at the end of validation.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum Outcome {
	/// More than 2/3 of the other hosts' power said valid: the weight is the count.
	Accepted,
	/// More than 2/3 of the other hosts' power said invalid: the weight is zero.
	Rejected,
	/// Neither: the host keeps the smaller of its previous weight and its count.
	QuorumFailed,
}

/// A generation of voting power that pallet-poc keeps (`PowerGenerations`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Encode, Decode, TypeInfo, MaxEncodedLen)]
pub struct GenerationInfo {
	/// Hosts with power when the generation was formed.
	pub hosts: u32,
	/// Hosts that have left since (numbered 0, 1, … in `Departures`).
	pub departures: u32,
	/// Governance snapshots that hold this generation (it is pruned only at zero, once a
	/// newer generation is in force).
	pub pins: u32,
}
