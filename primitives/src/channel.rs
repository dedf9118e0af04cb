//! Inference channels (`../shared/spec/channels.md`, `docs/channels.md`): what the runtime,
//! the executors and the developer's gateway compute alike for the off-chain request path.
//!
//! - the messages ([`ChannelTerms`], [`ChannelRequest`], [`Receipt`], [`Voucher`]) and
//!   their signatures: `"gonka/channel" ‖ u8(1) ‖ u8(kind) ‖ genesis ‖ SCALE(message)`
//!   ([`ChannelMessage`]), a domain of its own, so that no channel message verifies as a
//!   duty or the other way round, nor on another chain or for another kind;
//! - the committee: slot `i` of channel `c` opened in block `b_o` is drawn in proportion
//!   to PoC weight from [`committee_draw`]`(hash(b_o), c, i)`, a hash the developer could
//!   not know when it signed `open_channel`;
//! - the **allowance**: a host holding `s` of the `k` slots is paid at most
//!   `s × deposited / k` ([`allowance`]): skipping and retrying requests lets a developer
//!   choose among its drawn hosts, never pay one more than its drawn share;
//! - the **sum tree** ([`SumTree`]): the receipts an executor's voucher covers, each leaf
//!   committing to its receipt and its cost, each inner node to its children and their
//!   sums, so the root commits to the total and a proof shows where a receipt's cost lies
//!   in it ([`verify_receipt`] checks the total against the voucher's amount);
//! - the request seed ([`request_seed`]), which neither side chooses;
//! - sampling: a settlement's samples ([`sample_count`]) are points drawn in its total
//!   cost ([`sample_point`]), so a receipt's chance to be checked is proportional to its
//!   cost (faking only the long completions does not escape), and each sample's
//!   validators follow the existing hash rule ([`validates_sample`], on
//!   `crate::inference::is_validator`), with the power of a snapshot;
//! - disputes: a failed sample's report shows the receipt it checked ([`evidence_cost`]),
//!   and a jury of about [`JURY_SIZE`] hosts drawn by power ([`is_juror`]) decides it, each
//!   vote weighing the power it stands for ([`juror_weight`], [`jury_verdict`]).
//!
//! Integer arithmetic only.

use crate::{
	hash, hash_concat,
	inference::{is_validator, pick_point, SamplingParams},
	merkle, HostId, ModelId, H256,
};
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use polkadot_sdk::{
	sp_arithmetic::{
		helpers_128bit::multiply_by_rational_with_rounding, PerThing, Perbill, Rounding,
	},
	sp_core::sr25519,
};
use scale_info::TypeInfo;

/// A channel's id: its index in the chain's channel counter.
pub type ChannelId = u64;
/// A settlement's id: its index in the chain's settlement counter.
pub type SettlementId = u64;

/// The signing domain of every off-chain channel message.
pub const CHANNEL_DOMAIN: &[u8] = b"gonka/channel";
/// The version of the channel messages' signed layout.
pub const CHANNEL_MESSAGE_VERSION: u8 = 1;
/// The domain of the committee draw.
pub const COMMITTEE_DOMAIN: &[u8] = b"gonka/channel-committee/v1";
/// The domain of a request's sampler seed.
pub const SEED_DOMAIN: &[u8] = b"gonka/channel-seed/v1";
/// The domain of a settlement's sample seed.
pub const SAMPLE_DOMAIN: &[u8] = b"gonka/channel-sample/v1";
/// The tag hashed in front of a sum tree's inner node (the PoC tree's is `0x01`).
pub const SUM_NODE_TAG: u8 = 0x02;
/// Committee slots a channel has at most.
pub const MAX_COMMITTEE: u8 = 64;
/// The signing domain of a channel key's proof that a developer holds it.
pub const CHANNEL_KEY_DOMAIN: &[u8] = b"gonka/channel-key";

/// The bytes a channel key signs to prove that `developer` holds it on the chain with
/// genesis hash `genesis_hash`: `"gonka/channel-key" ‖ u8(1) ‖ genesis ‖ SCALE(developer)`.
/// Without it anyone could open a channel with a key another developer is about to use,
/// and lock it out.
pub fn channel_key_message<A: Encode>(genesis_hash: &H256, developer: &A) -> Vec<u8> {
	let mut message = Vec::with_capacity(CHANNEL_KEY_DOMAIN.len() + 1 + 32 + developer.size_hint());
	message.extend_from_slice(CHANNEL_KEY_DOMAIN);
	message.push(CHANNEL_MESSAGE_VERSION);
	message.extend_from_slice(genesis_hash.as_bytes());
	developer.encode_to(&mut message);
	message
}

/// Whether `proof` is `key`'s proof that `developer` holds it on this chain.
pub fn verify_channel_key<A: Encode>(
	genesis_hash: &H256,
	developer: &A,
	key: &sr25519::Public,
	proof: &sr25519::Signature,
) -> bool {
	polkadot_sdk::sp_io::crypto::sr25519_verify(
		proof,
		&channel_key_message(genesis_hash, developer),
		key,
	)
}

/// The channel key's proof that `developer` holds it (the gateway's side).
#[cfg(feature = "std")]
pub fn prove_channel_key<A: Encode>(
	genesis_hash: &H256,
	developer: &A,
	key: &sr25519::Pair,
) -> sr25519::Signature {
	use polkadot_sdk::sp_core::Pair;
	key.sign(&channel_key_message(genesis_hash, developer))
}

/// What a channel message is for; its byte is part of what is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo, MaxEncodedLen)]
pub enum ChannelMessageKind {
	/// A developer's request to an executor (the channel key signs).
	#[codec(index = 0)]
	Request,
	/// An executor's receipt for a request it served (the worker key signs).
	#[codec(index = 1)]
	Receipt,
	/// A developer's cumulative voucher to an executor (the channel key signs).
	#[codec(index = 2)]
	Voucher,
	/// A validator's request for a sample's payload (its worker key signs).
	#[codec(index = 3)]
	PayloadAccess,
	/// A developer's request for receipts it has not seen (the channel key signs).
	#[codec(index = 4)]
	ReceiptsQuery,
}

impl ChannelMessageKind {
	/// The byte that stands for this kind in the signed message.
	pub fn tag(self) -> u8 {
		match self {
			ChannelMessageKind::Request => 0,
			ChannelMessageKind::Receipt => 1,
			ChannelMessageKind::Voucher => 2,
			ChannelMessageKind::PayloadAccess => 3,
			ChannelMessageKind::ReceiptsQuery => 4,
		}
	}
}

/// An off-chain message of a channel, signed by the channel key or a worker key.
pub trait ChannelMessage: Encode {
	/// What the message is for.
	const KIND: ChannelMessageKind;

	/// The exact bytes signed on the chain with genesis hash `genesis_hash`.
	fn signing_message(&self, genesis_hash: &H256) -> Vec<u8> {
		let mut message = Vec::with_capacity(CHANNEL_DOMAIN.len() + 2 + 32 + self.size_hint());
		message.extend_from_slice(CHANNEL_DOMAIN);
		message.push(CHANNEL_MESSAGE_VERSION);
		message.push(Self::KIND.tag());
		message.extend_from_slice(genesis_hash.as_bytes());
		self.encode_to(&mut message);
		message
	}

	/// Whether `signature` is `key`'s signature of this message on this chain.
	fn verify(
		&self,
		genesis_hash: &H256,
		key: &sr25519::Public,
		signature: &sr25519::Signature,
	) -> bool {
		polkadot_sdk::sp_io::crypto::sr25519_verify(
			signature,
			&self.signing_message(genesis_hash),
			key,
		)
	}

	/// Signs this message on the chain with genesis hash `genesis_hash`.
	#[cfg(feature = "std")]
	fn sign(&self, genesis_hash: &H256, key: &sr25519::Pair) -> sr25519::Signature {
		use polkadot_sdk::sp_core::Pair;
		key.sign(&self.signing_message(genesis_hash))
	}
}

/// What a developer fixes when it opens a channel.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct ChannelTerms<BlockNumber> {
	/// The model every request of the channel asks for.
	pub model: ModelId,
	/// The key that signs the channel's requests and vouchers (never the account key).
	pub channel_key: sr25519::Public,
	/// The highest price per token the developer accepts (the model's price when the
	/// channel opens must not be above it).
	pub price_cap: u128,
	/// The committee's slots, `1..=MAX_COMMITTEE`.
	pub committee: u8,
	/// How long the channel takes requests, in blocks from its opening.
	pub duration: BlockNumber,
	/// What one request may use at most: prompt bytes, template overhead and completion
	/// tokens together.
	pub max_request_tokens: u32,
}

/// A developer's request to an executor of its channel's committee.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct ChannelRequest {
	/// The channel.
	pub channel: ChannelId,
	/// The gateway's number for the request, never reused in the channel.
	pub nonce: u64,
	/// The try (0, then one more each time the gateway sends it to another executor).
	pub attempt: u8,
	/// The executor the request is for.
	pub executor: HostId,
	/// The prompt's hash, `H(SCALE(messages))` with the salt (`docs/channels.md`).
	pub prompt_hash: H256,
	/// The prompt's bytes.
	pub prompt_bytes: u32,
	/// The most completion tokens.
	pub max_tokens: u32,
	/// How the completion is sampled.
	pub sampling: SamplingParams,
}

impl ChannelRequest {
	/// The request's hash, which its receipt names.
	pub fn hash(&self) -> H256 {
		H256(hash(&self.encode()))
	}
}

impl ChannelMessage for ChannelRequest {
	const KIND: ChannelMessageKind = ChannelMessageKind::Request;
}

/// Why a completion ended.
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
pub enum FinishReason {
	/// At one of the model's end tokens (the last token, and no earlier one).
	#[codec(index = 0)]
	Stop,
	/// At `max_tokens` tokens, none of them an end token.
	#[codec(index = 1)]
	Length,
}

/// An executor's signed account of a request it served: leaf `seq` of its sum tree.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct Receipt {
	/// The channel.
	pub channel: ChannelId,
	/// The leaf's index in the executor's sum tree for the channel.
	pub seq: u32,
	/// The request's nonce.
	pub nonce: u64,
	/// The request's try.
	pub attempt: u8,
	/// The hash of the signed request ([`ChannelRequest::hash`]).
	pub request_hash: H256,
	/// The prompt's hash, as the request names it.
	pub prompt_hash: H256,
	/// `H(SCALE(ids))` of the completion's token ids, the end token included.
	pub output_hash: H256,
	/// The templated prompt's tokens.
	pub prompt_tokens: u32,
	/// The completion's tokens.
	pub completion_tokens: u32,
	/// Why the completion ended.
	pub finish: FinishReason,
	/// The sampler's seed ([`request_seed`]).
	pub seed: u64,
	/// What the request costs: its tokens at the channel's price.
	pub cost: u128,
}

impl ChannelMessage for Receipt {
	const KIND: ChannelMessageKind = ChannelMessageKind::Receipt;
}

/// A developer's cumulative voucher to an executor: it owes `amount` for the receipts
/// `0..count`, whose sum tree has root `root`.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct Voucher {
	/// The channel.
	pub channel: ChannelId,
	/// The executor paid.
	pub executor: HostId,
	/// The receipts covered: leaves `0..count`.
	pub count: u32,
	/// The root of their sum tree.
	pub root: H256,
	/// Their total cost: the root's sum.
	pub amount: u128,
	/// The (nonce, try) of the last receipt covered (leaf `count − 1`; zeros when `count`
	/// is 0). An executor numbers its receipts in increasing (nonce, try) order, so every
	/// receipt the voucher covers is at or below it, and a tail claim must be above it: a
	/// receipt vouchered once is never claimed again as tail.
	pub last: (u64, u8),
}

impl ChannelMessage for Voucher {
	const KIND: ChannelMessageKind = ChannelMessageKind::Voucher;
}

/// A validator's or juror's request to an executor for the payload of a sample of its
/// settlement (`channels.md`, section 8; signed by the asker's worker key): the executor
/// serves it only if the chain draws `validator` for that sample, or, with `dispute`, for
/// the jury of that sample's dispute. The payload (prompt, output) reaches no one the
/// sampling and jury rules do not name.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo, MaxEncodedLen)]
pub struct PayloadAccess {
	/// The settlement.
	pub settlement: SettlementId,
	/// The sample of it.
	pub sample: u32,
	/// The host asking (its worker key signs).
	pub validator: HostId,
	/// The dispute on the sample whose jury it sits on (`None`: it validates the sample).
	pub dispute: Option<DisputeId>,
}

impl ChannelMessage for PayloadAccess {
	const KIND: ChannelMessageKind = ChannelMessageKind::PayloadAccess;
}

/// A developer's request to an executor for its signed receipts `from..to` of a channel,
/// with their requests, prompts and completions (`channels.md`, section 10; signed by the
/// channel key): the receipts a gateway lost (a restart, a broken stream) before it could
/// countersign them. The range is fixed, so that the signature, seen once, reads no
/// receipt signed after it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo, MaxEncodedLen)]
pub struct ReceiptsQuery {
	/// The channel.
	pub channel: ChannelId,
	/// The executor asked.
	pub executor: HostId,
	/// The first receipt's `seq`.
	pub from: u32,
	/// The `seq` after the last.
	pub to: u32,
}

impl ChannelMessage for ReceiptsQuery {
	const KIND: ChannelMessageKind = ChannelMessageKind::ReceiptsQuery;
}

/// The most tail claims one settlement carries (`MaxTail`): an executor serves a channel
/// only while it holds fewer unvouchered receipts (`channels.md`, section 6).
pub const MAX_TAIL: u32 = 16;

/// A developer's voucher with the channel key's signature.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct SignedVoucher {
	/// The voucher.
	pub voucher: Voucher,
	/// The channel key's signature of it ([`ChannelMessage::signing_message`]).
	pub signature: sr25519::Signature,
}

/// A receipt the developer has not vouchered, claimed with the request it answers: the
/// request signed by the channel key shows the developer asked for it.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct TailClaim {
	/// The request, as the developer signed it.
	pub request: ChannelRequest,
	/// The channel key's signature of the request.
	pub request_signature: sr25519::Signature,
	/// The executor's receipt for it.
	pub receipt: Receipt,
}

/// An executor's settlement of a channel (a duty its worker key signs): the developer's
/// latest voucher to it, if any, and the receipts after the voucher's, claimed as tail.
/// Settlements of a channel are cumulative: each pays what its total adds to the earlier
/// ones', within the executor's allowance.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct ChannelSettle {
	/// The channel.
	pub channel: ChannelId,
	/// The latest voucher (none: the developer vouchered nothing yet).
	pub voucher: Option<SignedVoucher>,
	/// The receipts `count..count + tail.len()` after the voucher's `count`, in increasing
	/// (nonce, try) order, all above the voucher's `last`.
	pub tail:
		polkadot_sdk::sp_runtime::BoundedVec<TailClaim, polkadot_sdk::sp_core::ConstU32<MAX_TAIL>>,
}

impl ChannelSettle {
	/// The leaves the voucher covers (0 without one).
	pub fn vouchered(&self) -> u32 {
		self.voucher.as_ref().map_or(0, |signed| signed.voucher.count)
	}

	/// The voucher's amount (0 without one).
	pub fn vouchered_amount(&self) -> u128 {
		self.voucher.as_ref().map_or(0, |signed| signed.voucher.amount)
	}

	/// The (nonce, try) every tail claim must be above: the voucher's `last` (none without
	/// a voucher).
	pub fn floor(&self) -> Option<(u64, u8)> {
		self.voucher
			.as_ref()
			.filter(|signed| signed.voucher.count > 0)
			.map(|signed| signed.voucher.last)
	}

	/// The receipts the settlement covers: the voucher's and the tail's (`None` if it
	/// overflows).
	pub fn receipts(&self) -> Option<u32> {
		self.vouchered().checked_add(self.tail.len() as u32)
	}
}

impl crate::duty::Duty for ChannelSettle {
	const KIND: crate::duty::DutyKind = crate::duty::DutyKind::ChannelSettle;
}

/// A committee member's waiver of a channel that has ended (a duty its worker key signs):
/// it settles the channel no more. Once every member has waived, the channel is finalized
/// at once, its escrow refunded (amendment 15). It names the channel's key and the receipts
/// the member settled, so a waiver signed on one fork never waives another channel of the
/// same id, or a claim the member settled differently, on another.
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
pub struct ChannelWaiver {
	/// The channel.
	pub channel: ChannelId,
	/// Its channel key.
	pub channel_key: sr25519::Public,
	/// The receipts the member's settlements of it covered (0: it settled none).
	pub receipts: u32,
}

impl crate::duty::Duty for ChannelWaiver {
	const KIND: crate::duty::DutyKind = crate::duty::DutyKind::ChannelWaiver;
}

/// Why a receipt does not answer its request at the channel's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadReceipt {
	/// It names another channel, nonce, try, request or prompt than the request.
	NotTheRequest,
	/// Its seed is not the request's ([`request_seed`]).
	WrongSeed,
	/// No completion token, more than `max_tokens`, or `Length` short of `max_tokens`.
	BadCompletion,
	/// More prompt tokens than the prompt's bytes and the template allow.
	TooManyPromptTokens,
	/// Its cost is not its tokens at the channel's price, or above the request's maximum.
	WrongCost,
}

/// Checks that `receipt` answers `request` at `price` per token with a template of
/// `template_overhead` tokens on the chain with genesis hash `genesis_hash`: the chain's
/// rule for a tail claim, and the gateway's before it vouchers a receipt. (Whether the
/// completion is what the model would answer is the validators' to check.)
pub fn check_receipt(
	genesis_hash: &H256,
	request: &ChannelRequest,
	receipt: &Receipt,
	price: u128,
	template_overhead: u32,
) -> Result<(), BadReceipt> {
	let same = receipt.channel == request.channel
		&& receipt.nonce == request.nonce
		&& receipt.attempt == request.attempt
		&& receipt.request_hash == request.hash()
		&& receipt.prompt_hash == request.prompt_hash;
	if !same {
		return Err(BadReceipt::NotTheRequest);
	}
	if receipt.seed != request_seed(genesis_hash, request.channel, request.nonce, request.attempt) {
		return Err(BadReceipt::WrongSeed);
	}
	let tokens = receipt.completion_tokens;
	let complete = match receipt.finish {
		FinishReason::Stop => tokens >= 1 && tokens <= request.max_tokens,
		FinishReason::Length => tokens >= 1 && tokens == request.max_tokens,
	};
	if !complete {
		return Err(BadReceipt::BadCompletion);
	}
	if receipt.prompt_tokens > request.prompt_bytes.saturating_add(template_overhead) {
		return Err(BadReceipt::TooManyPromptTokens);
	}
	let cost = crate::inference::cost(receipt.prompt_tokens, tokens, price);
	let most = max_cost(request.prompt_bytes, template_overhead, request.max_tokens, price);
	match (cost, most) {
		(Some(cost), Some(most)) if cost == receipt.cost && cost <= most => Ok(()),
		_ => Err(BadReceipt::WrongCost),
	}
}

// ---- seeds and draws --------------------------------------------------------------------

/// The sampler's seed of request (`nonce`, `attempt`) of `channel`:
/// `u64_le(H("gonka/channel-seed/v1" ‖ genesis ‖ u64_le(channel) ‖ u64_le(nonce) ‖
/// u8(attempt))[0..8])`. Neither the developer nor the executor chooses it.
pub fn request_seed(genesis_hash: &H256, channel: ChannelId, nonce: u64, attempt: u8) -> u64 {
	crate::u64_le_prefix(&hash_concat(&[
		SEED_DOMAIN,
		genesis_hash.as_bytes(),
		&channel.to_le_bytes(),
		&nonce.to_le_bytes(),
		&[attempt],
	]))
}

/// The draw of committee slot `slot` of `channel`, from the hash of the block that opened
/// it: `H("gonka/channel-committee/v1" ‖ hash(b_o) ‖ u64_le(channel) ‖ u32_le(slot))`. The
/// runtime picks the slot's host in proportion to PoC weight with it (and redraws by
/// hashing it when the host's entry does not stand, as the executor draw does).
pub fn committee_draw(opening_block: &H256, channel: ChannelId, slot: u32) -> [u8; 32] {
	hash_concat(&[
		COMMITTEE_DOMAIN,
		opening_block.as_bytes(),
		&channel.to_le_bytes(),
		&slot.to_le_bytes(),
	])
}

/// The most a host holding `slots` of a committee's `committee` slots is paid from a
/// channel's `deposited` escrow: `slots × deposited / committee`, rounded down. The
/// allowances of a committee sum to at most `deposited`. Zero for an empty committee.
pub fn allowance(slots: u32, deposited: u128, committee: u8) -> u128 {
	if committee == 0 {
		return 0;
	}
	let slots = u128::from(slots.min(u32::from(committee)));
	multiply_by_rational_with_rounding(deposited, slots, u128::from(committee), Rounding::Down)
		.unwrap_or(0)
}

/// The seed of settlement `settlement`'s samples, from the hash of the block that included
/// it: `H("gonka/channel-sample/v1" ‖ genesis ‖ hash(b_s) ‖ u64_le(settlement))`. The
/// executor cannot know it when it settles.
pub fn sample_seed(genesis_hash: &H256, settlement_block: &H256, settlement: SettlementId) -> H256 {
	H256(hash_concat(&[
		SAMPLE_DOMAIN,
		genesis_hash.as_bytes(),
		settlement_block.as_bytes(),
		&settlement.to_le_bytes(),
	]))
}

/// How many samples a settlement of `receipts` receipts gets at validation target `target`:
/// `⌊t·N⌋`, plus one with probability `frac(t·N)` (drawn from the seed), so each receipt
/// expects `t` checks. The runtime refuses a settlement whose count is above its bound
/// rather than cap it silently.
pub fn sample_count(seed: &H256, target: Perbill, receipts: u32) -> u32 {
	let parts = u64::from(target.deconstruct()).saturating_mul(u64::from(receipts));
	let accuracy = u64::from(Perbill::ACCURACY);
	let whole = parts / accuracy;
	let fraction = parts % accuracy;
	// The round-up happens iff a uniform draw in `0..ACCURACY` falls below the fraction.
	let draw = crate::u64_le_prefix(&hash_concat(&[seed.as_bytes(), b"round"])) % accuracy;
	let extra = u64::from(draw < fraction);
	u32::try_from(whole.saturating_add(extra)).unwrap_or(u32::MAX)
}

/// The point sample `sample` checks in a settlement's total cost `amount`:
/// `H(seed ‖ "leaf" ‖ u32_le(sample))` modulo `amount`. The receipt checked is the one
/// whose cost interval holds it ([`SumTree::leaf_at`]), so a receipt is checked in
/// proportion to its cost. `None` when `amount` is zero.
pub fn sample_point(seed: &H256, sample: u32, amount: u128) -> Option<u128> {
	pick_point(&hash_concat(&[seed.as_bytes(), b"leaf", &sample.to_le_bytes()]), amount)
}

/// Whether `validator` checks sample `sample` of the settlement with sample seed `seed`:
/// the existing hash rule (`crate::inference::is_validator`) at a target of one check, with
/// the powers of the settlement's snapshot. The executor never checks its own receipts; a
/// sample expects one validator.
pub fn validates_sample(
	seed: &H256,
	sample: u32,
	validator: &HostId,
	executor: &HostId,
	validator_power: u128,
	total_power: u128,
	executor_power: u128,
) -> bool {
	is_validator(
		seed,
		u64::from(sample),
		validator,
		executor,
		Perbill::one(),
		validator_power,
		total_power,
		executor_power,
	)
}

/// The domain of a settlement's second seed (amendment 6's second validators).
pub const SECOND_DOMAIN: &[u8] = b"gonka/channel-second/v1";
/// One sample in this many gets a second validator (amendment 6: "about 10%").
pub const SECOND_EVERY: u32 = 10;

/// The seed of settlement `settlement`'s second round, from the hash of the last block of
/// its verdict window: `H("gonka/channel-second/v1" ‖ genesis ‖ hash(last) ‖
/// u64_le(settlement))`. Every first answer was sent before that block was sealed, so a
/// first validator cannot know which of its samples will be checked again.
pub fn second_seed(
	genesis_hash: &H256,
	window_last_block: &H256,
	settlement: SettlementId,
) -> H256 {
	H256(hash_concat(&[
		SECOND_DOMAIN,
		genesis_hash.as_bytes(),
		window_last_block.as_bytes(),
		&settlement.to_le_bytes(),
	]))
}

/// The residue of the samples a second round doubles: sample `s` is doubled iff
/// `s mod SECOND_EVERY` is it ([`is_doubled`]), so at most `⌈m / SECOND_EVERY⌉` of `m`
/// samples are ([`most_doubled`]).
pub fn doubled_residue(second_seed: &H256) -> u32 {
	(crate::u64_le_prefix(&second_seed.0) % u64::from(SECOND_EVERY)) as u32
}

/// Whether sample `sample` gets a second validator in the round with seed `second_seed`.
pub fn is_doubled(second_seed: &H256, sample: u32) -> bool {
	sample % SECOND_EVERY == doubled_residue(second_seed)
}

/// The most samples of `samples` a second round doubles: `⌈samples / SECOND_EVERY⌉`.
pub fn most_doubled(samples: u32) -> u32 {
	samples.div_ceil(SECOND_EVERY)
}

/// Whether `validator` gives sample `sample` its second answer: the hash rule
/// ([`validates_sample`]) draws it on the second seed and not on the sample seed, so it is
/// never a validator that could have answered the sample first (nor the executor).
#[allow(clippy::too_many_arguments)]
pub fn validates_second(
	seed: &H256,
	second_seed: &H256,
	sample: u32,
	validator: &HostId,
	executor: &HostId,
	validator_power: u128,
	total_power: u128,
	executor_power: u128,
) -> bool {
	let drawn = |seed: &H256| {
		validates_sample(
			seed,
			sample,
			validator,
			executor,
			validator_power,
			total_power,
			executor_power,
		)
	};
	is_doubled(second_seed, sample) && drawn(second_seed) && !drawn(seed)
}

/// The most samples a settlement's vouchered receipts get (`MaxSamples`): a settlement
/// whose `⌈t·N⌉` is above it is refused, never capped silently (amendment 4); an executor
/// settles a long channel in several smaller settlements instead.
pub const MAX_SAMPLES: u32 = 1_024;
/// The most verdicts one part of a validator's batch carries (amendment 9).
pub const MAX_VERDICTS: u32 = 500;
/// The most second answers one part of a validator's batch carries (amendment 6): each reads
/// a settlement's second round and failed samples besides its record, so a full part of
/// them is half as long as a part of first answers.
pub const MAX_SECOND_VERDICTS: u32 = MAX_VERDICTS / 2;
/// The most parts of one validator's verdicts in one period.
pub const MAX_VERDICT_PARTS: u8 = 16;
/// The tokens that count as one request of an executor's traffic (amendment 1): a
/// settlement's traffic is its cost over the price, not its leaves, so washing cheap
/// receipts through one's own channel does not lower one's sampling rate.
pub const TRAFFIC_TOKENS: u128 = 1_000;

/// The traffic a settlement of `receipts` new receipts costing `amount` at `price` per
/// token adds to its executor's epoch: its tokens in units of [`TRAFFIC_TOKENS`], at most
/// its receipts (a receipt is at most one request).
pub fn traffic(receipts: u32, amount: u128, price: u128) -> u32 {
	let units = amount.checked_div(price.saturating_mul(TRAFFIC_TOKENS)).unwrap_or(u128::MAX);
	u32::try_from(units).unwrap_or(u32::MAX).min(receipts)
}

/// The most samples [`sample_count`] can give `receipts` receipts at `target`: `⌈t·N⌉`.
pub fn most_samples(target: Perbill, receipts: u32) -> u64 {
	u64::from(target.deconstruct())
		.saturating_mul(u64::from(receipts))
		.div_ceil(u64::from(Perbill::ACCURACY))
}

/// What a verdict's answers cost at worst: `samples` answers, and the second answers of a
/// tenth of them (`pallet-channels`, `seconds.rs`), at `fee` each.
pub fn answers_cost(samples: u32, fee: u128) -> u128 {
	u128::from(samples.saturating_add(most_doubled(samples))).saturating_mul(fee)
}

/// The target a settlement's tree samples are drawn at (`docs/channels.md`, "What a
/// settlement must pay for"): the executor's `target` if the validators' `share` pays
/// `fee` (`SampleFee`, a verdict's cost to the chain) for every answer at worst (the
/// `⌈t·N⌉` tree samples of its `receipts`, its `tail` samples, the second answers). Else
/// the tail's own part of the share (`tail_share`: its value's share and its tail fee)
/// must pay the tail's answers (`None` otherwise: cheap tail claims cannot eat the tree's
/// checks), and the tree samples are the **lottery** the rest of the share pays for in
/// expectation, two answers a sample (the sample and at most its second answer):
/// `t' = (share − tail_share) / (2·fee·N)`, never above `target`. A settlement of small
/// receipts is then checked with the probability its value buys, never refused, and a
/// flood of tiny receipts buys no more verdicts than it pays for.
pub fn paid_target(
	target: Perbill,
	receipts: u32,
	tail: u32,
	(share, tail_share): (u128, u128),
	fee: u128,
) -> Option<Perbill> {
	let most = u32::try_from(most_samples(target, receipts)).unwrap_or(u32::MAX);
	if share >= answers_cost(most.saturating_add(tail), fee) {
		return Some(target);
	}
	if tail_share < answers_cost(tail, fee) {
		return None;
	}
	let tree_share = share.saturating_sub(tail_share);
	let per_rate = fee.saturating_mul(2).saturating_mul(u128::from(receipts));
	// `tree_share < per_rate` (the full rule would have held otherwise); no receipts, no
	// tree samples.
	let lottery = Perbill::from_rational_with_rounding(tree_share, per_rate, Rounding::Down)
		.unwrap_or(target);
	Some(lottery.min(target))
}

/// The tree samples of a settlement of `receipts` vouchered receipts adding the cost
/// `from..to` to its voucher, at target `target`, with sample seed `seed`: none when the
/// voucher adds no cost, else [`sample_count`]. Its tail samples follow them.
pub fn tree_samples(seed: &H256, target: Perbill, receipts: u32, from: u128, to: u128) -> u32 {
	if to <= from {
		return 0;
	}
	sample_count(seed, target, receipts)
}

/// What a sample of a settlement checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum SampleOf {
	/// The vouchered receipt whose cost interval holds this point of the voucher's tree.
	Tree(u128),
	/// The tail receipt of this index in the settlement (leaf `count + index`).
	Tail(u32),
}

/// What sample `sample` of a settlement checks: its first `tree_samples` samples are
/// points drawn in the cost the settlement's voucher adds (`from..to` of its tree: the
/// receipts vouchered since the executor's earlier settlement), the next `tail` samples
/// are its tail receipts, every one. `None` past them.
pub fn sample_of(
	seed: &H256,
	sample: u32,
	tree_samples: u32,
	from: u128,
	to: u128,
	tail: u32,
) -> Option<SampleOf> {
	if sample < tree_samples {
		let point = sample_point(seed, sample, to.checked_sub(from)?)?;
		return Some(SampleOf::Tree(from.checked_add(point)?));
	}
	let index = sample.checked_sub(tree_samples)?;
	(index < tail).then_some(SampleOf::Tail(index))
}

/// A block its signer saw, which binds a duty to its fork: settlement and dispute ids are
/// counters, and on another fork the same id can be another settlement or dispute. The
/// chain takes a duty only if the anchor is one of its own blocks (its number's hash is
/// the anchor's) at or after every record the duty names: below the anchor the forks
/// agree, so the ids name the same records.
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
pub struct Anchor {
	/// The block's number.
	pub number: u32,
	/// The block's hash.
	pub hash: H256,
}

/// A validator's answer to one sample: the replay matched (`pass`) or not.
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
pub struct ReceiptVerdict {
	/// The settlement.
	pub settlement: SettlementId,
	/// The sample of it.
	pub sample: u32,
	/// Whether the receipt passed its replay.
	pub pass: bool,
}

/// A part of a validator's verdicts on the samples of the settlements included in one
/// verdict period (a duty its worker key signs): entries in increasing (settlement,
/// sample) order.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct ReceiptVerdicts {
	/// The verdict period of the settlements (their block over the period's length).
	pub period: u32,
	/// A block of the signer's fork at or after the period's last block.
	pub anchor: Anchor,
	/// The part (at most [`MAX_VERDICT_PARTS`] a validator and period).
	pub part: u8,
	/// The verdicts.
	pub entries: polkadot_sdk::sp_runtime::BoundedVec<
		ReceiptVerdict,
		polkadot_sdk::sp_core::ConstU32<MAX_VERDICTS>,
	>,
}

impl crate::duty::Duty for ReceiptVerdicts {
	const KIND: crate::duty::DutyKind = crate::duty::DutyKind::ReceiptVerdicts;
}

// ---- disputes: failure reports and the jury ---------------------------------------------

/// A dispute's id: its index in the chain's dispute counter.
pub type DisputeId = u64;
/// The signing domain of a dispute's jury seed.
pub const JURY_DOMAIN: &[u8] = b"gonka/channel-jury/v1";
/// The jurors a dispute expects (amendment 7: 16 to 32; the most, so that a minority
/// rarely draws a majority of a jury): each host other than the executor and the reporter
/// is drawn with probability `min(1, J × power / others)`.
pub const JURY_SIZE: u32 = 32;
/// The most votes a dispute takes: the hosts drawn for certain (at most `JURY_SIZE`, each
/// with at least `1 / J` of the power) and about `JURY_SIZE` more; beyond it a vote is
/// refused. The jurors' count has a mean of at most `JURY_SIZE` at any split of the
/// power, and exceeds 96 with probability below 10^-17 (Chernoff).
pub const MAX_JURORS: u32 = 96;
/// The most siblings a receipt's proof has: one a level of a tree of at most 2^32 leaves;
/// a tail receipt's evidence is the settlement's tail leaves, at most [`MAX_TAIL`].
pub const MAX_PROOF: u32 = 32;

/// Why a validator failed a sample.
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
pub enum FailReason {
	/// The replay did not match the receipt (or the payload did not match its hashes).
	#[codec(index = 0)]
	Mismatch,
	/// The executor did not serve the sample's payload within the verdict window.
	#[codec(index = 1)]
	Unavailable,
	/// The developer challenged the receipt ([`ReceiptChallenge`]): never a validator's
	/// reason.
	#[codec(index = 2)]
	Challenged,
}

impl FailReason {
	/// Whether a dispute for this reason takes votes for the long window
	/// (`UnavailableWindow`, else `JuryWindow`): an unavailable payload's and a developer's
	/// challenge. Each asks the executor for a payload at a moment it did not choose (the
	/// reporter's, or the developer's, who may wait for the executor's endpoint to go
	/// down), and jurors vote invalid for a payload never served near the window's end: an
	/// executor briefly offline serves the jury when back. A mismatch's payload was
	/// served already.
	pub fn long_window(self) -> bool {
		match self {
			FailReason::Unavailable | FailReason::Challenged => true,
			FailReason::Mismatch => false,
		}
	}
}

/// The receipt a failed sample checked, and where it lies: for a sample of the voucher's
/// tree, the receipt's siblings up to the root ([`verify_receipt`]); for a tail sample, the
/// settlement's tail leaves in order ([`tail_digest`]).
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct ReceiptEvidence {
	/// The receipt.
	pub receipt: Receipt,
	/// Its proof.
	pub proof:
		polkadot_sdk::sp_runtime::BoundedVec<SumNode, polkadot_sdk::sp_core::ConstU32<MAX_PROOF>>,
}

/// A validator's report of a failed sample (a duty its worker key signs): it answers the
/// sample and opens a dispute that a jury decides. A mismatch carries the receipt, so an
/// upheld failure refunds that receipt's own cost; an unavailable payload carries none.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct FailureReport {
	/// The settlement.
	pub settlement: SettlementId,
	/// A block of the signer's fork at or after the settlement's.
	pub anchor: Anchor,
	/// The sample of it.
	pub sample: u32,
	/// Why it failed.
	pub reason: FailReason,
	/// The receipt, for a mismatch.
	pub evidence: Option<ReceiptEvidence>,
}

impl crate::duty::Duty for FailureReport {
	const KIND: crate::duty::DutyKind = crate::duty::DutyKind::FailureReport;
}

/// A validator's acknowledgement that the executor delivered a sample's payload (signed by
/// its worker key, as a duty, so the signature is good for nothing else; never a
/// transaction of its own): the validator signs it once the whole payload verifies (the
/// receipt's proof against the settlement's voucher or tail leaves at the sample, the
/// request's signature, the prompt's hash), before it replays; a payload that does not
/// verify gets no acknowledgement. The executor keeps it; should the validator report the
/// payload unavailable, the acknowledgement refutes the report (amendment 8).
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct DeliveryAck {
	/// The settlement.
	pub settlement: SettlementId,
	/// The sample of it.
	pub sample: u32,
	/// The settlement's sample seed ([`sample_seed`]): from its block's hash, so an
	/// acknowledgement signed on one fork refutes nothing on another where the settlement
	/// of that id is another.
	pub seed: H256,
	/// The leaf of the receipt delivered ([`SumNode::leaf`]'s hash).
	pub leaf: H256,
}

impl crate::duty::Duty for DeliveryAck {
	const KIND: crate::duty::DutyKind = crate::duty::DutyKind::DeliveryAck;
}

/// The most samples one report of a validator's misses shows ([`MissedSamples`]): the
/// downtime test weighs proportions, so a validator that answered nothing of a period is
/// shown by a bounded sample of what it missed; it bounds a report's work.
pub const MAX_MISSES: u32 = 64;

/// A host's report that a validator answered nothing of verdict period `period`'s samples
/// (a duty the reporter's worker key signs), sent in period `period + 2`, once the
/// period's verdict window has closed: up to [`MAX_MISSES`] samples of settlements included
/// in `period` that the hash rule drew the validator for and nobody answered, in
/// ascending (settlement, sample) order. Each is a missed duty of the validator. A
/// validator that answered anything of the period (a verdict part, a failure report) is
/// not reported for it; a validator is reported once a period.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct MissedSamples {
	/// The verdict period of the settlements.
	pub period: u32,
	/// The validator that answered nothing.
	pub validator: crate::HostId,
	/// The samples it was drawn for and left unanswered: (settlement, sample).
	pub samples: polkadot_sdk::sp_runtime::BoundedVec<
		(SettlementId, u32),
		polkadot_sdk::sp_core::ConstU32<MAX_MISSES>,
	>,
}

impl crate::duty::Duty for MissedSamples {
	const KIND: crate::duty::DutyKind = crate::duty::DutyKind::MissedSamples;
}

/// A developer's challenge of a receipt a settlement added (amendment 14): a jury replays
/// it, whether or not a sample fell on it. The receipt is shown with its proof: a
/// vouchered receipt against the settlement's voucher (`tail: None`; it must be one the
/// settlement added, its cost interval at or after the earlier voucher's amount), or tail
/// receipt `tail` among the settlement's tail leaves.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct ReceiptChallenge {
	/// The settlement.
	pub settlement: SettlementId,
	/// The tail receipt's index, or `None` for a vouchered one.
	pub tail: Option<u32>,
	/// The receipt and its proof.
	pub evidence: ReceiptEvidence,
}

/// The cost of the receipt a [`ReceiptChallenge`] shows, if it is one the settlement added:
/// a vouchered receipt proved against the voucher's `root`, `amount` (`to`) and `count`
/// whose cost interval starts at or after `from` (the cost vouchered before), or tail
/// receipt `index` among the tail leaves whose digest is `tails`.
pub fn challenged_cost(
	tail: Option<u32>,
	evidence: &ReceiptEvidence,
	root: &H256,
	from: u128,
	to: u128,
	count: u32,
	tails: &H256,
) -> Option<u128> {
	match tail {
		None => {
			let offset =
				verify_receipt(root, to, u64::from(count), &evidence.receipt, &evidence.proof)?;
			(offset >= from).then_some(evidence.receipt.cost)
		}
		Some(index) => evidence_cost(SampleOf::Tail(index), evidence, root, to, count, tails),
	}
}

/// A juror's vote on a dispute (a duty its worker key signs): it names the dispute's
/// settlement and sample too, and its [`Anchor`] binds it to the signer's fork, so a vote
/// signed for a dispute on one fork does not count for another receipt's dispute of the
/// same id on another.
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
pub struct ReceiptVote {
	/// The dispute.
	pub dispute: DisputeId,
	/// A block of the signer's fork at or after the one that opened the dispute.
	pub anchor: Anchor,
	/// Its settlement.
	pub settlement: SettlementId,
	/// Its sample.
	pub sample: u32,
	/// `true`: the receipt is invalid (the failure is upheld); `false`: it holds up.
	pub invalid: bool,
}

impl crate::duty::Duty for ReceiptVote {
	const KIND: crate::duty::DutyKind = crate::duty::DutyKind::ReceiptVote;
}

/// The digest of a settlement's tail leaves ([`SumNode::leaf`] of each tail receipt, in
/// order): `H("gonka/channel-jury/v1" ‖ "tail" ‖ SCALE(leaves))`. The chain keeps it in the
/// settlement's record so a tail sample's receipt can be shown later.
pub fn tail_digest(leaves: &[SumNode]) -> H256 {
	H256(hash_concat(&[JURY_DOMAIN, b"tail", &leaves.encode()]))
}

/// What a failed sample's evidence shows, checked against the settlement: `Some(cost)`,
/// the receipt's cost, if the receipt is the one the sample checks. A tree sample at
/// `point` needs a receipt whose cost interval holds the point, proved against the
/// voucher's `root`, `amount` (the tree's total) and `count`; tail sample `index` needs
/// the receipt's leaf at that place of the tail leaves the proof lists, whose digest is
/// `tail`.
pub fn evidence_cost(
	sample: SampleOf,
	evidence: &ReceiptEvidence,
	root: &H256,
	amount: u128,
	count: u32,
	tail: &H256,
) -> Option<u128> {
	let receipt = &evidence.receipt;
	match sample {
		SampleOf::Tree(point) => {
			let offset = verify_receipt(root, amount, u64::from(count), receipt, &evidence.proof)?;
			(offset <= point && point < offset.checked_add(receipt.cost)?).then_some(receipt.cost)
		}
		SampleOf::Tail(index) => {
			let leaf = evidence.proof.get(usize::try_from(index).ok()?)?;
			(*leaf == SumNode::leaf(receipt) && tail_digest(&evidence.proof) == *tail)
				.then_some(receipt.cost)
		}
	}
}

/// The seed of dispute `dispute`'s jury, from the hash of the block that included its
/// report: `H("gonka/channel-jury/v1" ‖ genesis ‖ hash(b_r) ‖ u64_le(dispute))`. Neither
/// the reporter nor the executor knows it before that block is sealed.
pub fn jury_seed(genesis_hash: &H256, report_block: &H256, dispute: DisputeId) -> H256 {
	H256(hash_concat(&[
		JURY_DOMAIN,
		genesis_hash.as_bytes(),
		report_block.as_bytes(),
		&dispute.to_le_bytes(),
	]))
}

/// The power of the hosts that may sit on a dispute's jury: all but the executor's and the
/// reporter's.
pub fn jury_power(total_power: u128, executor_power: u128, reporter_power: u128) -> u128 {
	total_power.saturating_sub(executor_power).saturating_sub(reporter_power)
}

/// Whether `host`, with `power` of the `others` power that may sit on the jury
/// ([`jury_power`]), is a juror of the dispute with seed `seed`: `H(seed ‖ host) <
/// 2^256 × J × power / others` ([`JURY_SIZE`]), compared exactly; so each host sits with
/// probability `min(1, J × power / others)` and a jury has about `J` jurors. The caller
/// excludes the executor and the reporter; a host without power never sits.
pub fn is_juror(seed: &H256, host: &HostId, power: u128, others: u128) -> bool {
	use polkadot_sdk::sp_core::{U256, U512};
	if power == 0 || others == 0 {
		return false;
	}
	let host: &[u8] = host.as_ref();
	let draw = U512::from(U256::from_big_endian(&hash_concat(&[seed.as_bytes(), host])));
	draw * U512::from(others) < (U512::one() << 256) * U512::from(JURY_SIZE) * U512::from(power)
}

/// What a juror's vote weighs, in units of `1 / J` of power (so exactly, in integers):
/// its power over its chance to sit (Horvitz–Thompson), `max(J × power, others)`. A host
/// drawn for certain weighs its power; any other juror stands for `others / J` of the
/// power. Summed over a dispute's votes, the invalid votes' weight estimates (times `J`)
/// the power that would vote invalid if every host voted ([`jury_verdict`]).
pub fn juror_weight(power: u128, others: u128) -> u128 {
	power.saturating_mul(u128::from(JURY_SIZE)).max(others)
}

/// A jury's verdict when its window ends, from the summed weights of its `invalid` and
/// `valid` votes ([`juror_weight`]) and the jury power `others`: `Some(true)` (invalid)
/// if the invalid weight estimates more than half of the jury power and outweighs the
/// valid votes, `Some(false)` (valid, the failure rejected) if the valid weight does,
/// `None` if neither side has a majority of the power (too few voted). Decided at the
/// window's end only, so that voting first wins nothing.
pub fn jury_verdict(invalid: u128, valid: u128, others: u128) -> Option<bool> {
	use polkadot_sdk::sp_core::U256;
	let half = U256::from(others) * U256::from(JURY_SIZE);
	let wins = |side: u128, other: u128| U256::from(side) * 2 > half && side > other;
	if wins(invalid, valid) {
		Some(true)
	} else if wins(valid, invalid) {
		Some(false)
	} else {
		None
	}
}

// ---- the sum tree -----------------------------------------------------------------------

/// A node of a sum tree: its hash and the total cost of the receipts under it.
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
pub struct SumNode {
	/// The node's hash: a leaf's is `merkle::leaf_hash(seq, SCALE(receipt))`; an inner
	/// node's commits to both children and their sums.
	pub hash: H256,
	/// The total cost under the node.
	pub sum: u128,
}

impl SumNode {
	/// The leaf of `receipt`: its hash at index `seq`, and its cost.
	pub fn leaf(receipt: &Receipt) -> Self {
		Self {
			hash: merkle::leaf_hash(u64::from(receipt.seq), &receipt.encode()),
			sum: receipt.cost,
		}
	}

	/// The parent of `left` and `right`: `H(0x02 ‖ left.hash ‖ u128_le(left.sum) ‖
	/// right.hash ‖ u128_le(right.sum))`, their sums added; `None` if the sum overflows.
	fn parent(left: &Self, right: &Self) -> Option<Self> {
		let sum = left.sum.checked_add(right.sum)?;
		let hash = H256(hash_concat(&[
			&[SUM_NODE_TAG],
			left.hash.as_bytes(),
			&left.sum.to_le_bytes(),
			right.hash.as_bytes(),
			&right.sum.to_le_bytes(),
		]));
		Some(Self { hash, sum })
	}
}

/// A sum tree kept whole (the executor's and the gateway's side). Its shape is the PoC
/// tree's (`crate::merkle`): a level with an odd number of nodes lifts its last node
/// unchanged, so the shape follows from the leaf count and a proof has one sibling per
/// level where its node had one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SumTree {
	/// `levels[0]` are the leaves, the last level is the root alone.
	levels: Vec<Vec<SumNode>>,
}

impl SumTree {
	/// The tree over `leaves` (from [`SumNode::leaf`], in order of `seq`); `None` if the
	/// total cost overflows.
	pub fn from_leaves(leaves: Vec<SumNode>) -> Option<Self> {
		let mut levels = Vec::new();
		let mut level = leaves;
		while level.len() > 1 {
			let mut next = Vec::with_capacity(level.len().div_ceil(2));
			for pair in level.chunks(2) {
				next.push(match pair {
					[left, right] => SumNode::parent(left, right)?,
					[lifted] => *lifted,
					_ => return None,
				});
			}
			levels.push(core::mem::replace(&mut level, next));
		}
		levels.push(level);
		Some(Self { levels })
	}

	/// The tree over `receipts` (leaf `i` is `receipts[i]`, whose `seq` should be `i`).
	pub fn from_receipts<'a>(receipts: impl IntoIterator<Item = &'a Receipt>) -> Option<Self> {
		Self::from_leaves(receipts.into_iter().map(SumNode::leaf).collect())
	}

	/// The number of leaves.
	pub fn leaf_count(&self) -> u64 {
		self.levels.first().map_or(0, |leaves| leaves.len() as u64)
	}

	/// The root: all zeroes with a zero sum for an empty tree.
	pub fn root(&self) -> SumNode {
		self.levels.last().and_then(|top| top.first().copied()).unwrap_or_default()
	}

	/// The proof of leaf `index` (its siblings, lowest first), or `None` if there is no
	/// such leaf.
	pub fn proof(&self, index: u64) -> Option<Vec<SumNode>> {
		if index >= self.leaf_count() {
			return None;
		}
		let mut position = usize::try_from(index).ok()?;
		let mut proof = Vec::new();
		for level in self.levels.iter().take(self.levels.len().saturating_sub(1)) {
			if let Some(sibling) = level.get(position ^ 1) {
				proof.push(*sibling);
			}
			position /= 2;
		}
		Some(proof)
	}

	/// The leaf whose cost interval holds `point` (`0 ≤ point < root sum`): the leaf `i`
	/// with `Σ_{j<i} cost_j ≤ point < Σ_{j≤i} cost_j`. `None` if `point` is not below the
	/// total.
	pub fn leaf_at(&self, point: u128) -> Option<u64> {
		if point >= self.root().sum {
			return None;
		}
		// Down from the root: at each level, left if the point falls in the left child.
		let mut position = 0usize;
		let mut rest = point;
		for level in self.levels.iter().rev().skip(1) {
			let left = position.checked_mul(2)?;
			// A lifted node (no right sibling) has its only child on the left.
			match (level.get(left), level.get(left.saturating_add(1))) {
				(Some(child), Some(_)) if rest >= child.sum => {
					rest = rest.saturating_sub(child.sum);
					position = left.saturating_add(1);
				}
				(Some(_), _) => position = left,
				(None, _) => return None,
			}
		}
		Some(position as u64)
	}
}

/// Checks that `proof` shows `receipt` at its `seq` in the sum tree of `count` leaves whose
/// root has hash `root` and sum `amount` (a voucher's): returns the cost before it (its
/// interval is `offset..offset + receipt.cost`), or `None` if the proof, the root or the
/// total does not match. A voucher whose amount is not its tree's total fails every
/// sample.
pub fn verify_receipt(
	root: &H256,
	amount: u128,
	count: u64,
	receipt: &Receipt,
	proof: &[SumNode],
) -> Option<u128> {
	let (node, offset) = fold_proof(count, receipt, proof)?;
	(node.hash == *root && node.sum == amount).then_some(offset)
}

/// The root a proof of `receipt` in a sum tree of `count` leaves leads to, and the cost
/// before the receipt: `None` if the receipt's place is outside the tree, the proof has
/// too few or too many siblings, or a sum overflows. [`verify_receipt`] compares it with
/// the voucher's.
pub fn fold_proof(count: u64, receipt: &Receipt, proof: &[SumNode]) -> Option<(SumNode, u128)> {
	let index = u64::from(receipt.seq);
	if index >= count {
		return None;
	}
	let mut siblings = proof.iter();
	let (mut position, mut width) = (index, count);
	let mut node = SumNode::leaf(receipt);
	let mut offset = 0u128;
	while width > 1 {
		if position ^ 1 < width {
			let sibling = siblings.next()?;
			node = if position % 2 == 0 {
				SumNode::parent(&node, sibling)?
			} else {
				offset = offset.checked_add(sibling.sum)?;
				SumNode::parent(sibling, &node)?
			};
		}
		position /= 2;
		width = width.div_ceil(2);
	}
	siblings.next().is_none().then_some((node, offset))
}

/// The most a request of `prompt_bytes` prompt bytes and `max_tokens` completion tokens can
/// cost at `price` (a prompt byte bounds its tokens): `(prompt_bytes + template_overhead +
/// max_tokens) × price`, as the on-chain request's escrow. `None` if it overflows.
pub fn max_cost(
	prompt_bytes: u32,
	template_overhead: u32,
	max_tokens: u32,
	price: u128,
) -> Option<u128> {
	crate::inference::escrow(prompt_bytes, template_overhead, max_tokens, price)
}

#[cfg(test)]
mod tests {
	use super::*;
	use polkadot_sdk::sp_core::Pair;

	fn receipt(seq: u32, cost: u128) -> Receipt {
		Receipt {
			channel: 7,
			seq,
			nonce: u64::from(seq) * 3,
			attempt: 0,
			request_hash: H256::repeat_byte(1),
			prompt_hash: H256::repeat_byte(2),
			output_hash: H256::repeat_byte(3),
			prompt_tokens: 10,
			completion_tokens: 20,
			finish: FinishReason::Stop,
			seed: 99,
			cost,
		}
	}

	fn receipts(costs: &[u128]) -> Vec<Receipt> {
		costs.iter().enumerate().map(|(i, cost)| receipt(i as u32, *cost)).collect()
	}

	/// A request and the receipt that answers it at price 3 with a template of 2 tokens.
	fn answered(genesis: &H256) -> (ChannelRequest, Receipt) {
		let request = ChannelRequest {
			channel: 7,
			nonce: 41,
			attempt: 1,
			executor: HostId::new([5; 32]),
			prompt_hash: H256::repeat_byte(2),
			prompt_bytes: 30,
			max_tokens: 16,
			sampling: SamplingParams {
				temperature_milli: 0,
				top_p: polkadot_sdk::sp_arithmetic::Perbill::one(),
			},
		};
		let receipt = Receipt {
			channel: 7,
			seq: 4,
			nonce: 41,
			attempt: 1,
			request_hash: request.hash(),
			prompt_hash: request.prompt_hash,
			output_hash: H256::repeat_byte(3),
			prompt_tokens: 12,
			completion_tokens: 5,
			finish: FinishReason::Stop,
			seed: request_seed(genesis, 7, 41, 1),
			cost: 17 * 3,
		};
		(request, receipt)
	}

	#[test]
	fn a_receipt_answers_its_own_request_at_the_channels_terms_only() {
		let genesis = H256::repeat_byte(9);
		let (request, receipt) = answered(&genesis);
		assert_eq!(check_receipt(&genesis, &request, &receipt, 3, 2), Ok(()));
		let bad = |change: fn(&mut Receipt)| {
			let mut changed = receipt.clone();
			change(&mut changed);
			check_receipt(&genesis, &request, &changed, 3, 2)
		};
		assert_eq!(bad(|r| r.channel = 8), Err(BadReceipt::NotTheRequest));
		assert_eq!(bad(|r| r.nonce = 42), Err(BadReceipt::NotTheRequest));
		assert_eq!(bad(|r| r.attempt = 0), Err(BadReceipt::NotTheRequest));
		assert_eq!(bad(|r| r.request_hash = H256::zero()), Err(BadReceipt::NotTheRequest));
		assert_eq!(bad(|r| r.prompt_hash = H256::zero()), Err(BadReceipt::NotTheRequest));
		assert_eq!(bad(|r| r.seed ^= 1), Err(BadReceipt::WrongSeed));
		assert_eq!(
			bad(|r| {
				r.completion_tokens = 0;
				r.cost = 36;
			}),
			Err(BadReceipt::BadCompletion)
		);
		assert_eq!(
			bad(|r| {
				r.completion_tokens = 17;
				r.cost = 87;
			}),
			Err(BadReceipt::BadCompletion)
		);
		assert_eq!(bad(|r| r.finish = FinishReason::Length), Err(BadReceipt::BadCompletion));
		assert_eq!(
			bad(|r| {
				r.prompt_tokens = 33;
				r.cost = 114;
			}),
			Err(BadReceipt::TooManyPromptTokens)
		);
		assert_eq!(bad(|r| r.cost += 1), Err(BadReceipt::WrongCost));
		// The most a request can cost: every prompt byte a token, the template, max_tokens.
		let mut longest = receipt.clone();
		longest.prompt_tokens = 32;
		longest.completion_tokens = 16;
		longest.finish = FinishReason::Length;
		longest.cost = 48 * 3;
		assert_eq!(check_receipt(&genesis, &request, &longest, 3, 2), Ok(()));
		// Another price: the cost no longer matches.
		assert_eq!(check_receipt(&genesis, &request, &receipt, 4, 2), Err(BadReceipt::WrongCost));
	}

	#[test]
	fn a_sum_trees_root_commits_to_the_total_and_each_proof_to_its_receipts_interval() {
		for n in [1usize, 2, 3, 5, 8, 13] {
			let costs: Vec<u128> = (0..n as u128).map(|i| i * 7 + 1).collect();
			let receipts = receipts(&costs);
			let tree = SumTree::from_receipts(&receipts).unwrap();
			let root = tree.root();
			assert_eq!(root.sum, costs.iter().sum::<u128>());
			let mut before = 0u128;
			for r in &receipts {
				let proof = tree.proof(u64::from(r.seq)).unwrap();
				assert_eq!(
					verify_receipt(&root.hash, root.sum, n as u64, r, &proof),
					Some(before),
					"leaf {} of {n}",
					r.seq
				);
				// Every point of its interval finds it.
				assert_eq!(tree.leaf_at(before), Some(u64::from(r.seq)));
				assert_eq!(tree.leaf_at(before + r.cost - 1), Some(u64::from(r.seq)));
				before += r.cost;
			}
			assert_eq!(tree.leaf_at(before), None, "no point past the total");
		}
	}

	#[test]
	fn a_voucher_whose_amount_is_not_its_trees_total_fails_every_sample() {
		let receipts = receipts(&[5, 10, 15, 20]);
		let tree = SumTree::from_receipts(&receipts).unwrap();
		let root = tree.root();
		for r in &receipts {
			let proof = tree.proof(u64::from(r.seq)).unwrap();
			assert!(verify_receipt(&root.hash, root.sum, 4, r, &proof).is_some());
			// Understated or overstated: refused.
			assert_eq!(verify_receipt(&root.hash, root.sum - 1, 4, r, &proof), None);
			assert_eq!(verify_receipt(&root.hash, root.sum + 1, 4, r, &proof), None);
		}
	}

	#[test]
	fn a_receipt_whose_cost_or_place_was_changed_does_not_verify() {
		let receipts = receipts(&[5, 10, 15, 20, 25]);
		let tree = SumTree::from_receipts(&receipts).unwrap();
		let root = tree.root();
		let proof = tree.proof(2).unwrap();
		let mut cheaper = receipts[2].clone();
		cheaper.cost = 1;
		assert_eq!(verify_receipt(&root.hash, root.sum, 5, &cheaper, &proof), None);
		let mut moved = receipts[2].clone();
		moved.seq = 3;
		assert_eq!(verify_receipt(&root.hash, root.sum, 5, &moved, &proof), None);
		// A sibling's sum shifted from one side to the other: the hash catches it.
		let mut forged = proof.clone();
		forged[0].sum += 5;
		assert_eq!(verify_receipt(&root.hash, root.sum + 5, 5, &receipts[2], &forged), None);
		// A leaf past the count, too long or too short a proof.
		assert_eq!(verify_receipt(&root.hash, root.sum, 2, &receipts[2], &proof), None);
		let mut longer = proof.clone();
		longer.push(proof[0]);
		assert_eq!(verify_receipt(&root.hash, root.sum, 5, &receipts[2], &longer), None);
		assert_eq!(verify_receipt(&root.hash, root.sum, 5, &receipts[2], &proof[1..]), None);
	}

	#[test]
	fn a_sum_tree_with_an_overflowing_total_is_refused() {
		assert!(SumTree::from_receipts(&receipts(&[u128::MAX, 1])).is_none());
		assert!(SumTree::from_receipts(&receipts(&[u128::MAX])).is_some());
	}

	#[test]
	fn the_sum_trees_nodes_are_not_the_poc_trees() {
		let receipts = receipts(&[1, 2]);
		let sums = SumTree::from_receipts(&receipts).unwrap();
		let leaves: Vec<Vec<u8>> = receipts.iter().map(Encode::encode).collect();
		let poc = merkle::MerkleTree::from_artifacts(leaves.iter().map(Vec::as_slice));
		assert_ne!(sums.root().hash, poc.root());
	}

	#[test]
	fn samples_fall_on_receipts_in_proportion_to_their_cost() {
		// One long receipt among cheap ones: it holds 90% of the cost, so ≈ 90% of the
		// samples, though it is one leaf of 10.
		let mut costs = vec![10u128; 9];
		costs.insert(4, 810);
		let tree = SumTree::from_receipts(&receipts(&costs)).unwrap();
		let total = tree.root().sum;
		let seed = H256::repeat_byte(9);
		let hits = (0..2_000u32)
			.filter(|k| tree.leaf_at(sample_point(&seed, *k, total).unwrap()) == Some(4))
			.count();
		assert!((1_700..=1_900).contains(&hits), "{hits} of 2,000 samples on the long one");
	}

	#[test]
	fn each_receipt_expects_target_checks() {
		// t·N = 0.35 × 10 = 3.5: three or four samples, four about half the time.
		let target = Perbill::from_percent(35);
		let counts: Vec<u32> = (0..1_000u32)
			.map(|s| {
				sample_count(
					&sample_seed(&H256::zero(), &H256::repeat_byte(4), s.into()),
					target,
					10,
				)
			})
			.collect();
		assert!(counts.iter().all(|m| *m == 3 || *m == 4));
		let fours = counts.iter().filter(|m| **m == 4).count();
		assert!((420..=580).contains(&fours), "{fours} of 1,000 round up");
		// Whole products never round.
		assert_eq!(sample_count(&H256::zero(), Perbill::from_percent(10), 100), 10);
		assert_eq!(sample_count(&H256::zero(), Perbill::one(), 1_000), 1_000);
		assert_eq!(sample_count(&H256::zero(), Perbill::zero(), 1_000), 0);
	}

	/// 4,000 channels of 8 slots over hosts of unequal PoC weight: each host's share of the
	/// slots is within 10% of its share of the weight.
	#[test]
	fn committee_slot_shares_follow_poc_weights() {
		let weights: [u128; 6] = [40, 25, 15, 10, 6, 4];
		let cumulative: Vec<u128> = weights
			.iter()
			.scan(0u128, |sum, weight| {
				*sum += weight;
				Some(*sum)
			})
			.collect();
		let total: u128 = weights.iter().sum();
		let mut slots = [0u64; 6];
		for channel in 0..4_000u64 {
			let opening = H256(hash(&channel.to_be_bytes()));
			for slot in 0..8u32 {
				let draw = committee_draw(&opening, channel, slot);
				slots[crate::inference::pick_weighted(&cumulative, &draw).unwrap()] += 1;
			}
		}
		for (host, weight) in weights.iter().enumerate() {
			let expected = 32_000.0 * *weight as f64 / total as f64;
			let got = slots[host] as f64;
			assert!(
				(got - expected).abs() <= expected * 0.10,
				"host {host}: {got} slots, {expected} expected"
			);
		}
	}

	/// Steering is capped by money: whatever slots the draw gave, a host's allowance is its
	/// share of the slots, and the allowances never sum above the deposit.
	#[test]
	fn allowances_are_the_slot_shares_and_never_exceed_the_deposit() {
		for committee in 1..=MAX_COMMITTEE {
			for deposited in [0u128, 1, 7, 1_000_003, u128::MAX] {
				// Every split of the slots between two hosts.
				for first in 0..=u32::from(committee) {
					let second = u32::from(committee) - first;
					let a = allowance(first, deposited, committee);
					let b = allowance(second, deposited, committee);
					assert!(a.checked_add(b).is_some_and(|sum| sum <= deposited));
					assert!(deposited - (a + b) < 2, "rounding loses less than a unit a host");
				}
				assert_eq!(allowance(u32::from(committee), deposited, committee), deposited);
				assert_eq!(allowance(u32::MAX, deposited, committee), deposited);
			}
		}
		assert_eq!(allowance(3, 100, 0), 0);
	}

	#[test]
	fn seeds_and_draws_are_domain_separated_and_deterministic() {
		let genesis = H256::repeat_byte(1);
		assert_eq!(request_seed(&genesis, 1, 2, 0), request_seed(&genesis, 1, 2, 0));
		assert_ne!(request_seed(&genesis, 1, 2, 0), request_seed(&genesis, 1, 2, 1));
		assert_ne!(request_seed(&genesis, 1, 2, 0), request_seed(&genesis, 2, 2, 0));
		assert_ne!(request_seed(&genesis, 1, 2, 0), request_seed(&H256::zero(), 1, 2, 0));
		let block = H256::repeat_byte(5);
		assert_ne!(committee_draw(&block, 1, 0), committee_draw(&block, 1, 1));
		assert_ne!(committee_draw(&block, 1, 0), committee_draw(&block, 2, 0));
		assert_ne!(sample_seed(&genesis, &block, 1), sample_seed(&genesis, &block, 2));
		assert_ne!(
			committee_draw(&block, 1, 0),
			crate::inference::executor_draw(&block, 1, 0),
			"not the on-chain executor draw"
		);
	}

	#[test]
	fn a_channel_signature_verifies_only_for_its_message_kind_and_chain() {
		let key = sr25519::Pair::from_string("//channel", None).unwrap();
		let genesis = H256::repeat_byte(1);
		let voucher = Voucher {
			channel: 1,
			executor: HostId::new([2; 32]),
			count: 3,
			root: H256::repeat_byte(3),
			amount: 100,
			last: (5, 0),
		};
		let signature = voucher.sign(&genesis, &key);
		assert!(voucher.verify(&genesis, &key.public(), &signature));
		assert!(!voucher.verify(&H256::zero(), &key.public(), &signature), "another chain");
		let mut more = voucher.clone();
		more.amount = 101;
		assert!(!more.verify(&genesis, &key.public(), &signature), "another amount");
		let other = sr25519::Pair::from_string("//other", None).unwrap();
		assert!(!voucher.verify(&genesis, &other.public(), &signature), "another key");
		// Not a duty: the same bytes under the duty domain differ.
		let message = voucher.signing_message(&genesis);
		assert!(message.starts_with(CHANNEL_DOMAIN));
		assert!(!message.starts_with(crate::duty::SIGNING_DOMAIN));
		// Not another kind: a receipt's message names its kind.
		let receipt = receipt(0, 5);
		assert_eq!(receipt.signing_message(&genesis)[CHANNEL_DOMAIN.len() + 1], 1);
		assert_eq!(message[CHANNEL_DOMAIN.len() + 1], 2);
	}

	#[test]
	fn a_sample_expects_one_validator_and_never_the_executor() {
		let executor = HostId::new([0; 32]);
		let validators: Vec<HostId> = (1..=10u8).map(|i| HostId::new([i; 32])).collect();
		let mut checks = 0u32;
		for sample in 0..2_000u32 {
			let seed = H256::repeat_byte(7);
			assert!(!validates_sample(&seed, sample, &executor, &executor, 10, 110, 10));
			checks += validators
				.iter()
				.filter(|v| validates_sample(&seed, sample, v, &executor, 10, 110, 10))
				.count() as u32;
		}
		// 10 validators of equal power, each drawn with probability 1/10 a sample.
		assert!((1_800..=2_200).contains(&checks), "{checks} checks of 2,000 samples");
	}

	#[test]
	fn a_tenth_of_the_samples_get_a_second_validator_never_one_that_could_answer_first() {
		let executor = HostId::new([0; 32]);
		let validators: Vec<HostId> = (1..=10u8).map(|i| HostId::new([i; 32])).collect();
		let (mut doubled, mut seconds, mut residues) = (0u32, 0u32, [0u32; 10]);
		for settlement in 0..400u64 {
			let seed = sample_seed(&H256::zero(), &H256::repeat_byte(1), settlement);
			let second = second_seed(&H256::zero(), &H256::repeat_byte(2), settlement);
			assert_ne!(second, seed);
			residues[doubled_residue(&second) as usize] += 1;
			let samples = settlement as u32 % 25;
			let count = (0..samples).filter(|sample| is_doubled(&second, *sample)).count() as u32;
			assert!(count <= most_doubled(samples), "{count} of {samples} doubled");
			doubled += count;
			for sample in 0..samples {
				assert!(!validates_second(
					&seed, &second, sample, &executor, &executor, 10, 110, 10
				));
				for v in &validators {
					let is_second =
						validates_second(&seed, &second, sample, v, &executor, 10, 110, 10);
					if is_second {
						// Doubled, drawn on the second seed, never drawn on the first.
						assert!(is_doubled(&second, sample));
						assert!(validates_sample(&second, sample, v, &executor, 10, 110, 10));
						assert!(!validates_sample(&seed, sample, v, &executor, 10, 110, 10));
						seconds += 1;
					}
				}
			}
		}
		// 4,800 samples: about 480 doubled, each with about 10 × 0.1 × 0.9 second validators.
		assert!((380..=580).contains(&doubled), "{doubled} doubled");
		assert!(seconds * 100 > doubled * 70 && seconds * 100 < doubled * 110, "{seconds}");
		// The residue is uniform: each of the ten is drawn.
		assert!(residues.iter().all(|count| *count > 15), "{residues:?}");
		assert_eq!(
			(most_doubled(0), most_doubled(1), most_doubled(10), most_doubled(11)),
			(0, 1, 1, 2)
		);
	}

	#[test]
	fn traffic_counts_tokens_not_leaves() {
		// 10,000 one-token washes at price 1: ten requests' worth of traffic.
		assert_eq!(traffic(10_000, 10_000, 1), 10);
		// Large requests count one each at most.
		assert_eq!(traffic(3, 3_000_000, 1), 3);
		assert_eq!(traffic(5, 0, 7), 0);
		assert_eq!(traffic(5, 1, 0), 5);
	}

	#[test]
	fn the_sample_count_is_at_most_its_ceiling() {
		for (target, receipts) in
			[(Perbill::from_percent(1), 150u32), (Perbill::one(), 1_024), (Perbill::zero(), 9)]
		{
			let most = most_samples(target, receipts);
			for round in 0..200u8 {
				let seed = H256::repeat_byte(round);
				assert!(u64::from(sample_count(&seed, target, receipts)) <= most);
			}
		}
		assert_eq!(most_samples(Perbill::from_percent(1), 150), 2);
		assert_eq!(most_samples(Perbill::one(), 1_024), 1_024);
	}

	#[test]
	fn tree_samples_fall_in_the_settlements_new_cost_and_tail_samples_on_each_claim() {
		let seed = H256::repeat_byte(3);
		for sample in 0..100 {
			match sample_of(&seed, sample, 100, 1_000, 1_500, 2) {
				Some(SampleOf::Tree(point)) => assert!((1_000..1_500).contains(&point)),
				other => panic!("{other:?}"),
			}
		}
		assert_eq!(sample_of(&seed, 100, 100, 1_000, 1_500, 2), Some(SampleOf::Tail(0)));
		assert_eq!(sample_of(&seed, 101, 100, 1_000, 1_500, 2), Some(SampleOf::Tail(1)));
		assert_eq!(sample_of(&seed, 102, 100, 1_000, 1_500, 2), None);
		// Nothing new vouchered: no tree sample.
		assert_eq!(sample_of(&seed, 0, 1, 1_000, 1_000, 0), None);
	}

	fn evidence(receipt: &Receipt, proof: Vec<SumNode>) -> ReceiptEvidence {
		ReceiptEvidence { receipt: receipt.clone(), proof: proof.try_into().unwrap() }
	}

	#[test]
	fn a_failure_shows_the_receipt_its_sample_checked_and_no_other() {
		let receipts = receipts(&[5, 10, 15, 20, 25]);
		let tree = SumTree::from_receipts(&receipts).unwrap();
		let root = tree.root();
		let show =
			|seq: u32| evidence(&receipts[seq as usize], tree.proof(u64::from(seq)).unwrap());
		// Point 17 lies in receipt 2 (costs 15..30).
		let at = |point| SampleOf::Tree(point);
		let tail = H256::zero();
		assert_eq!(evidence_cost(at(17), &show(2), &root.hash, root.sum, 5, &tail), Some(15));
		assert_eq!(evidence_cost(at(15), &show(2), &root.hash, root.sum, 5, &tail), Some(15));
		assert_eq!(evidence_cost(at(30), &show(2), &root.hash, root.sum, 5, &tail), None);
		// Another receipt of the tree: not the sampled one.
		assert_eq!(evidence_cost(at(17), &show(3), &root.hash, root.sum, 5, &tail), None);
		// A receipt whose cost was changed, or against another amount: no proof.
		let mut changed = show(2);
		changed.receipt.cost = 16;
		assert_eq!(evidence_cost(at(17), &changed, &root.hash, root.sum, 5, &tail), None);
		assert_eq!(evidence_cost(at(17), &show(2), &root.hash, root.sum + 1, 5, &tail), None);

		// Tail samples: the receipt's leaf at its place among the tail leaves shown.
		let tails = [receipt(5, 7), receipt(6, 9)];
		let leaves: Vec<SumNode> = tails.iter().map(SumNode::leaf).collect();
		let digest = tail_digest(&leaves);
		let tail_of = |receipt: &Receipt| evidence(receipt, leaves.clone());
		let h = H256::zero();
		assert_eq!(
			evidence_cost(SampleOf::Tail(1), &tail_of(&tails[1]), &h, 0, 0, &digest),
			Some(9)
		);
		assert_eq!(evidence_cost(SampleOf::Tail(0), &tail_of(&tails[1]), &h, 0, 0, &digest), None);
		assert_eq!(evidence_cost(SampleOf::Tail(2), &tail_of(&tails[1]), &h, 0, 0, &digest), None);
		// Leaves other than the settlement's: another digest.
		let forged = evidence(&tails[1], vec![leaves[0], SumNode::leaf(&receipt(6, 90))]);
		assert_eq!(evidence_cost(SampleOf::Tail(1), &forged, &h, 0, 0, &digest), None);
	}

	#[test]
	fn a_developer_challenges_only_a_receipt_its_settlement_added() {
		let receipts = receipts(&[5, 10, 15, 20, 25]);
		let tree = SumTree::from_receipts(&receipts).unwrap();
		let root = tree.root();
		let show =
			|seq: u32| evidence(&receipts[seq as usize], tree.proof(u64::from(seq)).unwrap());
		let tail = H256::zero();
		// The earlier voucher covered receipts 0 and 1 (cost 15): receipts 2.. are new.
		let cost = |seq| challenged_cost(None, &show(seq), &root.hash, 15, root.sum, 5, &tail);
		assert_eq!(cost(2), Some(15));
		assert_eq!(cost(4), Some(25));
		assert_eq!(cost(1), None, "a receipt an earlier settlement added");
		assert_eq!(cost(0), None);
		// A changed receipt, or another tree's amount: no proof.
		let mut changed = show(3);
		changed.receipt.cost = 21;
		assert_eq!(challenged_cost(None, &changed, &root.hash, 15, root.sum, 5, &tail), None);
		assert_eq!(challenged_cost(None, &show(3), &root.hash, 15, root.sum + 1, 5, &tail), None);

		// A tail receipt at its place among the settlement's tail leaves.
		let tails = [receipt(5, 7), receipt(6, 9)];
		let leaves: Vec<SumNode> = tails.iter().map(SumNode::leaf).collect();
		let digest = tail_digest(&leaves);
		let shown = evidence(&tails[1], leaves.clone());
		let h = H256::zero();
		assert_eq!(challenged_cost(Some(1), &shown, &h, 0, 0, 0, &digest), Some(9));
		assert_eq!(challenged_cost(Some(0), &shown, &h, 0, 0, 0, &digest), None);
		assert_eq!(challenged_cost(Some(2), &shown, &h, 0, 0, 0, &digest), None);
		assert_eq!(challenged_cost(Some(1), &shown, &h, 0, 0, 0, &H256::zero()), None);
	}

	#[test]
	fn a_delivery_acknowledgement_is_signed_for_its_sample_and_is_no_other_duty() {
		use crate::duty::Duty;
		let key = sr25519::Pair::from_seed(&[7; 32]);
		let genesis = H256::repeat_byte(1);
		let validator = HostId::new([2; 32]);
		let ack = DeliveryAck {
			settlement: 4,
			sample: 2,
			seed: H256::repeat_byte(8),
			leaf: H256::repeat_byte(9),
		};
		let signature = ack.sign(&genesis, &validator, &key);
		assert!(ack.verify(&genesis, &validator, &key.public(), &signature));
		let other = DeliveryAck { sample: 3, ..ack.clone() };
		assert!(!other.verify(&genesis, &validator, &key.public(), &signature));
		let forked = DeliveryAck { seed: H256::repeat_byte(6), ..ack.clone() };
		assert!(!forked.verify(&genesis, &validator, &key.public(), &signature));
		assert!(!ack.verify(&genesis, &HostId::new([3; 32]), &key.public(), &signature));
		assert!(!ack.verify(&H256::repeat_byte(5), &validator, &key.public(), &signature));
		// The same bytes signed as a vote (another kind) are not an acknowledgement.
		let anchor = Anchor { number: 7, hash: H256::repeat_byte(7) };
		let vote = ReceiptVote { dispute: 4, anchor, settlement: 2, sample: 0, invalid: false };
		let vote_signature = vote.sign(&genesis, &validator, &key);
		assert!(!ack.verify(&genesis, &validator, &key.public(), &vote_signature));
	}

	/// 200 hosts of uneven power (one of a fifth of it): a jury has about `JURY_SIZE`
	/// jurors, the large host sits on every one, and the weights of a fixed set of hosts
	/// that vote estimate their power (Horvitz–Thompson) within a few percent on average.
	#[test]
	fn a_jury_is_drawn_by_power_and_its_votes_weigh_the_power_they_stand_for() {
		let hosts: Vec<(HostId, u128)> = (0..200u32)
			.map(|i| {
				let mut bytes = [0u8; 32];
				bytes[..4].copy_from_slice(&i.to_le_bytes());
				(HostId::new(bytes), if i == 0 { 2_000 } else { u128::from(20 + i % 40) })
			})
			.collect();
		let others: u128 = hosts.iter().map(|(_, power)| power).sum();
		// The first 80 hosts (the large one among them) would vote invalid.
		let invalid_power: u128 = hosts[..80].iter().map(|(_, power)| power).sum();
		let rounds = 2_000u32;
		let (mut seats, mut estimate) = (0u64, 0u128);
		for round in 0..rounds {
			let seed = jury_seed(&H256::repeat_byte(1), &H256::repeat_byte(2), u64::from(round));
			let jury: Vec<usize> = (0..hosts.len())
				.filter(|i| is_juror(&seed, &hosts[*i].0, hosts[*i].1, others))
				.collect();
			assert!(jury.contains(&0), "a host with more than 1/J of the power always sits");
			assert!(jury.len() as u32 <= MAX_JURORS);
			seats += jury.len() as u64;
			estimate += jury
				.iter()
				.filter(|i| **i < 80)
				.map(|i| juror_weight(hosts[*i].1, others))
				.sum::<u128>();
		}
		let mean = seats as f64 / f64::from(rounds);
		let expected: f64 = hosts
			.iter()
			.map(|(_, power)| (f64::from(JURY_SIZE) * *power as f64 / others as f64).min(1.0))
			.sum();
		assert!((mean - expected).abs() < 1.0, "{expected} jurors expected, got {mean}");
		let estimated = estimate as f64 / f64::from(rounds) / f64::from(JURY_SIZE);
		let relative = (estimated - invalid_power as f64).abs() / invalid_power as f64;
		assert!(relative < 0.03, "estimate {estimated} of {invalid_power}");
		// Without power, or with no power to share: never.
		let seed = H256::repeat_byte(9);
		assert!(!is_juror(&seed, &hosts[1].0, 0, others));
		assert!(!is_juror(&seed, &hosts[1].0, 10, 0));
		assert_eq!(jury_power(100, 30, 20), 50);
		assert_eq!(juror_weight(1, 320), 320, "a small juror stands for others / J");
		assert_eq!(juror_weight(50, 320), 50 * 32, "a large one for its power");
		// The verdict: a majority of the power, estimated, and more than the other side.
		let others = 320;
		let small = juror_weight(1, others);
		assert_eq!(jury_verdict(17 * small, 0, others), Some(true));
		assert_eq!(jury_verdict(16 * small, 0, others), None, "exactly half is no majority");
		assert_eq!(jury_verdict(17 * small, 18 * small, others), Some(false));
		assert_eq!(jury_verdict(17 * small, 17 * small, others), None);
		assert_eq!(jury_verdict(0, 0, 0), None, "no jury: no verdict");
	}

	#[test]
	fn dispute_messages_have_kinds_of_their_own() {
		use crate::duty::Duty;
		let genesis = H256::repeat_byte(1);
		let host = HostId::new([4; 32]);
		let worker = sr25519::Pair::from_seed(&[7; 32]);
		let anchor = Anchor { number: 7, hash: H256::repeat_byte(7) };
		let vote = ReceiptVote { dispute: 3, anchor, settlement: 0, sample: 0, invalid: true };
		let signature = vote.sign(&genesis, &host, &worker);
		assert!(vote.verify(&genesis, &host, &worker.public(), &signature));
		// The same dispute id on another fork, of another receipt: another message.
		let elsewhere = ReceiptVote { sample: 1, ..vote };
		assert!(!elsewhere.verify(&genesis, &host, &worker.public(), &signature));
		// Signed on another fork (another anchor): another message.
		let forked =
			ReceiptVote { anchor: Anchor { hash: H256::repeat_byte(8), ..anchor }, ..vote };
		assert!(!forked.verify(&genesis, &host, &worker.public(), &signature));
		// A report's bytes under the vote's kind, or the other way round, never verify.
		let report = FailureReport {
			settlement: 3,
			anchor,
			sample: 0,
			reason: FailReason::Unavailable,
			evidence: None,
		};
		assert!(!report.verify(&genesis, &host, &worker.public(), &signature));
		assert_ne!(jury_seed(&genesis, &H256::zero(), 1), jury_seed(&genesis, &H256::zero(), 2));
	}
}
