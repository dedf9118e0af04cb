//! The model registry's records and governance's proposals.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use gonka_primitives::{bounds::MaxEndTokens, PowerSnapshot};
use polkadot_sdk::{
	frame_support::{pallet_prelude::*, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound},
	sp_arithmetic::{FixedU128, Perbill},
};
use scale_info::TypeInfo;

/// A model's Proof of Compute parameters (`protocol.md`, "Proof of Compute").
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
pub struct PocParams {
	/// Input positions per nonce.
	pub seq_len: u32,
	/// The L2 distance between a host's artifact and a validator's recomputation above
	/// which a leaf is a mismatch (artifacts are unit vectors: distances are in [0, 2];
	/// thresholds above 1 would accept random vectors, so the range is [0, 1]).
	pub dist_threshold: Perbill,
	/// The mismatch rate an honest host is allowed.
	pub p_mismatch: Perbill,
	/// The binomial test's significance: a host is reported when its mismatches are this
	/// unlikely under `p_mismatch`.
	pub p_value: Perbill,
}

/// A model as governance registers it (`protocol.md`, "Models and governance").
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
	serde::Serialize,
	serde::Deserialize,
)]
#[scale_info(skip_type_params(MaxName, MaxLabel))]
#[codec(mel_bound(Balance: MaxEncodedLen))]
#[serde(
	rename_all = "camelCase",
	deny_unknown_fields,
	bound(
		serialize = "Balance: serde::Serialize",
		deserialize = "Balance: serde::Deserialize<'de>"
	)
)]
// The bounds are in a `where` clause only: serde's derive adds its own there, and bounds in
// two places trip clippy's `multiple_bound_locations` in the derived impls.
pub struct ModelRecord<MaxName, MaxLabel, Balance>
where
	MaxName: Get<u32>,
	MaxLabel: Get<u32>,
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
{
	/// Display name, UTF-8.
	pub name: BoundedVec<u8, MaxName>,
	/// Architecture (e.g. `llama`): with the quantization, it fixes the numerics.
	pub architecture: BoundedVec<u8, MaxLabel>,
	/// Quantization of the weights file (e.g. `Q4_1`).
	pub quantization: BoundedVec<u8, MaxLabel>,
	/// sha256 of the weights file: a worker refuses to serve a file with another digest.
	pub weights_digest: [u8; 32],
	/// sha256 of the tokenizer (for a GGUF file, which carries its tokenizer, the same).
	pub tokenizer_digest: [u8; 32],
	/// Proof of Compute parameters.
	pub poc: PocParams,
	/// The factor that makes PoC weight on this model comparable with other models'.
	pub coefficient: FixedU128,
	/// Inference: the replay similarity a completion needs to pass validation.
	pub validation_threshold: Perbill,
	/// Tokens the chat template adds to a prompt.
	pub template_overhead: u32,
	/// Price of one token (prompt or completion), in the smallest unit of GNK.
	pub price: Balance,
	/// The longest prompt plus completion, in tokens.
	pub max_context: u32,
	/// The tokens that end a completion (end of turn, end of text), in ascending order: a
	/// completion is complete when its last token is one of them, or when it has its
	/// request's `max_tokens` tokens (`gonka_primitives::inference::completion_end`). Empty
	/// for a model that never ends a turn on its own.
	pub end_tokens: BoundedVec<u32, MaxEndTokens>,
}

/// Where a model is in its life.
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
pub enum ModelStatus {
	/// Registered; approved when the next epoch starts (hosts fetch it meanwhile).
	Proposed,
	/// Hosts may commit PoC for it and serve it.
	Approved,
	/// No longer served. A retirement removes the model's entry (its registry slot is
	/// free again, its id never reused); the status is what the retirement applied.
	Retired,
}

/// A change governance scheduled for a model, applied when the next epoch starts.
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
#[scale_info(skip_type_params(MaxName, MaxLabel))]
#[codec(mel_bound(Balance: MaxEncodedLen))]
// Held once per model in storage, never in bulk in memory: boxing the record buys nothing.
#[allow(clippy::large_enum_variant)]
pub enum PendingChange<
	MaxName: Get<u32>,
	MaxLabel: Get<u32>,
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
> {
	/// Approve the (proposed) model.
	Approve,
	/// Replace the record.
	Update(ModelRecord<MaxName, MaxLabel, Balance>),
	/// Retire the model.
	Retire,
}

/// A model in the registry.
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
#[scale_info(skip_type_params(MaxName, MaxLabel))]
#[codec(mel_bound(Balance: MaxEncodedLen))]
pub struct ModelInfo<
	MaxName: Get<u32>,
	MaxLabel: Get<u32>,
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
> {
	/// The record in force.
	pub record: ModelRecord<MaxName, MaxLabel, Balance>,
	/// Its status in the epoch in progress.
	pub status: ModelStatus,
	/// What changes when the next epoch starts.
	pub pending: Option<PendingChange<MaxName, MaxLabel, Balance>>,
}

/// A vote on a proposal.
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
pub enum Vote {
	/// For.
	Aye,
	/// Against.
	Nay,
	/// Against, and the proposal is an abuse: enough vetoes send its deposit to the
	/// community pool.
	Veto,
}

/// The voting power cast on a proposal.
#[derive(
	Clone,
	Copy,
	Debug,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Tally {
	/// Power voting aye.
	pub aye: u128,
	/// Power voting nay.
	pub nay: u128,
	/// Power voting veto.
	pub veto: u128,
}

impl Tally {
	/// Power cast in all.
	pub fn cast(&self) -> u128 {
		self.aye.saturating_add(self.nay).saturating_add(self.veto)
	}

	/// `vote` counted `power` times more (or, with `add` false, less).
	pub fn count(&mut self, vote: Vote, power: u128, add: bool) {
		let slot = match vote {
			Vote::Aye => &mut self.aye,
			Vote::Nay => &mut self.nay,
			Vote::Veto => &mut self.veto,
		};
		*slot = if add { slot.saturating_add(power) } else { slot.saturating_sub(power) };
	}
}

/// Governance's rules (`protocol.md`: Gonka's live network votes 48 h, quorum 25%,
/// threshold > 50%, veto 33.4%).
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
pub struct GovernanceParams<BlockNumber> {
	/// Blocks a proposal is open for votes.
	pub voting_period: BlockNumber,
	/// The share of the snapshot's power that must vote for the result to count.
	pub quorum: Perbill,
	/// A proposal passes when its ayes are more than this share of the power cast.
	pub threshold: Perbill,
	/// A proposal is vetoed when its vetoes are at least this share of the power cast.
	pub veto_threshold: Perbill,
}

impl<BlockNumber: From<u32>> GovernanceParams<BlockNumber> {
	/// Gonka's live values: 48 hours of 6-second blocks, quorum 25%, threshold 50%, veto
	/// 33.4%.
	pub fn live_network() -> Self {
		Self {
			voting_period: 28_800u32.into(),
			quorum: Perbill::from_percent(25),
			threshold: Perbill::from_percent(50),
			veto_threshold: Perbill::from_parts(334_000_000),
		}
	}
}

/// How a closed proposal ended.
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
	/// Quorum, ayes above the threshold, vetoes below theirs: the call was dispatched.
	Passed,
	/// Quorum, but not enough ayes: the deposit is returned.
	Rejected,
	/// Quorum, and vetoes at or above their threshold: the deposit goes to the community
	/// pool.
	Vetoed,
	/// No quorum by the end of the voting period: the deposit is returned.
	Expired,
	/// Passed, but nobody closed it within one voting period after its end: its call was
	/// not dispatched; the deposit is returned.
	Lapsed,
}

/// An open proposal.
#[derive(
	CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, Encode, Decode, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(MaxCall))]
#[codec(mel_bound(AccountId: MaxEncodedLen, Balance: MaxEncodedLen, BlockNumber: MaxEncodedLen))]
pub struct Proposal<
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
	BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug,
	MaxCall: Get<u32>,
> {
	/// Who proposed it and holds its deposit.
	pub proposer: AccountId,
	/// The SCALE-encoded call to dispatch if it passes.
	pub call: BoundedVec<u8, MaxCall>,
	/// The deposit held from the proposer.
	pub deposit: Balance,
	/// The first block at which votes are no longer taken.
	pub end: BlockNumber,
	/// The snapshot of the voting power taken when it opened.
	pub snapshot: PowerSnapshot,
	/// The snapshot's total voting power.
	pub total_power: u128,
	/// Hosts with power in the snapshot.
	pub voters: u32,
	/// Hosts that voted so far.
	pub votes: u32,
	/// The power cast so far.
	pub tally: Tally,
}
