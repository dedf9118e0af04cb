//! The payloads a worker signs for its duties.
//!
//! Duty transactions have no transaction signer: the call carries a payload and a
//! signature by the host's registered worker key (sr25519), and the pallet checks it in
//! `#[pallet::authorize]`. What is signed is
//!
//! ```text
//! "gonka/duty" ‖ u8(PAYLOAD_VERSION) ‖ u8(kind) ‖ genesis_hash ‖ SCALE(host) ‖ SCALE(payload)
//! ```
//!
//! so a signature made for one duty kind, one payload version, one chain or one host never
//! verifies for another: a worker key that passes to another host (re-registered after its
//! host left) does not carry the old host's signatures with it. The replay of the same
//! payload on the same chain is stopped by the pallet (phases, `provides` tags, counts that
//! only grow), not here.
//!
//! A host proves it holds its worker key when it registers it ([`key_ownership_message`]):
//! nobody can register a key someone else published, which would lock its owner out.

use crate::{inference::RequestId, EpochIndex, HostId, ModelId, NonceCount, H256};
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use polkadot_sdk::{
	sp_arithmetic::Perbill,
	sp_core::{sr25519, Get},
	sp_runtime::BoundedVec,
};
use scale_info::TypeInfo;

/// The signing domain of every duty payload.
pub const SIGNING_DOMAIN: &[u8] = b"gonka/duty";
/// The version of the signed-payload layout (2: the host is signed).
pub const PAYLOAD_VERSION: u8 = 2;
/// The signing domain of a worker key's proof of ownership.
pub const KEY_OWNERSHIP_DOMAIN: &[u8] = b"gonka/worker-key";
/// The version of the proof of ownership's layout.
pub const KEY_OWNERSHIP_VERSION: u8 = 1;

/// The bytes a worker key signs to prove that `host` holds it on the chain with genesis
/// hash `genesis_hash`: `"gonka/worker-key" ‖ u8(1) ‖ genesis_hash ‖ SCALE(host)`.
pub fn key_ownership_message<A: Encode>(genesis_hash: &H256, host: &A) -> Vec<u8> {
	let mut message = Vec::with_capacity(KEY_OWNERSHIP_DOMAIN.len() + 1 + 32 + host.size_hint());
	message.extend_from_slice(KEY_OWNERSHIP_DOMAIN);
	message.push(KEY_OWNERSHIP_VERSION);
	message.extend_from_slice(genesis_hash.as_bytes());
	host.encode_to(&mut message);
	message
}

/// Whether `proof` is `worker_key`'s proof that `host` holds it on this chain.
pub fn verify_key_ownership<A: Encode>(
	genesis_hash: &H256,
	host: &A,
	worker_key: &sr25519::Public,
	proof: &sr25519::Signature,
) -> bool {
	polkadot_sdk::sp_io::crypto::sr25519_verify(
		proof,
		&key_ownership_message(genesis_hash, host),
		worker_key,
	)
}

/// The worker key's proof that `host` holds it (the host's side, when it registers).
#[cfg(feature = "std")]
pub fn prove_key_ownership<A: Encode>(
	genesis_hash: &H256,
	host: &A,
	worker_key: &sr25519::Pair,
) -> sr25519::Signature {
	use polkadot_sdk::sp_core::Pair;
	worker_key.sign(&key_ownership_message(genesis_hash, host))
}

/// What a signed payload is for; its byte is part of what is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo, MaxEncodedLen)]
pub enum DutyKind {
	/// A PoC commitment ([`PocCommit`]).
	#[codec(index = 0)]
	PocCommit,
	/// A validator's batched PoC verdicts ([`PocValidation`]).
	#[codec(index = 1)]
	PocValidation,
	/// An executor's result for an inference request ([`InferenceFinish`]).
	#[codec(index = 2)]
	InferenceFinish,
	/// A sampled validator's replay score of a finished request ([`InferenceValidation`]).
	#[codec(index = 3)]
	InferenceValidation,
	/// A vote in an invalidation vote ([`InvalidationVote`]).
	#[codec(index = 4)]
	InvalidationVote,
	/// A sampled validator's missing report ([`MissingValidation`]).
	#[codec(index = 5)]
	MissingValidation,
	// Indices 6 and 7 are kept for confirmation PoC.
	/// An executor's settlement of an inference channel
	/// ([`crate::channel::ChannelSettle`]).
	#[codec(index = 8)]
	ChannelSettle,
	/// A validator's verdicts on channel settlements' samples
	/// ([`crate::channel::ReceiptVerdicts`]).
	#[codec(index = 9)]
	ReceiptVerdicts,
	/// A validator's report of a failed channel sample
	/// ([`crate::channel::FailureReport`]).
	#[codec(index = 10)]
	FailureReport,
	/// A juror's vote on a channel dispute ([`crate::channel::ReceiptVote`]).
	#[codec(index = 11)]
	ReceiptVote,
	/// A committee member's waiver of an ended channel
	/// ([`crate::channel::ChannelWaiver`]).
	#[codec(index = 12)]
	ChannelWaiver,
	/// A report of a channel validator's unanswered samples
	/// ([`crate::channel::MissedSamples`]).
	#[codec(index = 13)]
	MissedSamples,
	/// A validator's acknowledgement of a delivered payload
	/// ([`crate::channel::DeliveryAck`]): signed, never sent as a transaction of its own.
	#[codec(index = 14)]
	DeliveryAck,
}

impl DutyKind {
	/// The byte that stands for this kind in the signed message.
	pub fn tag(self) -> u8 {
		match self {
			DutyKind::PocCommit => 0,
			DutyKind::PocValidation => 1,
			DutyKind::InferenceFinish => 2,
			DutyKind::InferenceValidation => 3,
			DutyKind::InvalidationVote => 4,
			DutyKind::MissingValidation => 5,
			DutyKind::ChannelSettle => 8,
			DutyKind::ReceiptVerdicts => 9,
			DutyKind::FailureReport => 10,
			DutyKind::ReceiptVote => 11,
			DutyKind::ChannelWaiver => 12,
			DutyKind::MissedSamples => 13,
			DutyKind::DeliveryAck => 14,
		}
	}
}

/// A payload a worker signs with its worker key.
pub trait Duty: Encode {
	/// What the payload is for.
	const KIND: DutyKind;

	/// The exact bytes `host`'s worker key signs on the chain with genesis hash
	/// `genesis_hash`.
	fn signing_message<A: Encode>(&self, genesis_hash: &H256, host: &A) -> Vec<u8> {
		let mut message =
			Vec::with_capacity(SIGNING_DOMAIN.len() + 2 + 32 + host.size_hint() + self.size_hint());
		message.extend_from_slice(SIGNING_DOMAIN);
		message.push(PAYLOAD_VERSION);
		message.push(Self::KIND.tag());
		message.extend_from_slice(genesis_hash.as_bytes());
		host.encode_to(&mut message);
		self.encode_to(&mut message);
		message
	}

	/// Whether `signature` is `worker_key`'s signature of this payload for `host` on this
	/// chain.
	fn verify<A: Encode>(
		&self,
		genesis_hash: &H256,
		host: &A,
		worker_key: &sr25519::Public,
		signature: &sr25519::Signature,
	) -> bool {
		polkadot_sdk::sp_io::crypto::sr25519_verify(
			signature,
			&self.signing_message(genesis_hash, host),
			worker_key,
		)
	}

	/// Signs this payload for `host` on the chain with genesis hash `genesis_hash` (the
	/// worker's side).
	#[cfg(feature = "std")]
	fn sign<A: Encode>(
		&self,
		genesis_hash: &H256,
		host: &A,
		worker_key: &sr25519::Pair,
	) -> sr25519::Signature {
		use polkadot_sdk::sp_core::Pair;
		worker_key.sign(&self.signing_message(genesis_hash, host))
	}
}

/// A host's PoC commitment for one model in one epoch: it computed `count` nonces whose
/// artifacts have Merkle root `root`. Sent repeatedly during generation; `count` may only
/// grow and the last one counts.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct PocCommit {
	/// The epoch of the PoC.
	pub epoch: EpochIndex,
	/// The model the nonces were computed on.
	pub model: ModelId,
	/// The number of nonces (leaves `0..count`).
	pub count: NonceCount,
	/// The Merkle root of the artifacts (`crate::merkle`).
	pub root: H256,
}

impl Duty for PocCommit {
	const KIND: DutyKind = DutyKind::PocCommit;
}

/// A validator's verdict on one host's commitment.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct Verdict {
	/// The host judged.
	pub host: HostId,
	/// Whether its sampled artifacts held up (`false`: the binomial test rejected it, or it
	/// served no proofs).
	pub valid: bool,
}

/// A validator's verdicts on every other host's commitment for one model in one epoch, in
/// one transaction.
#[derive(Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen)]
#[scale_info(skip_type_params(MaxVerdicts))]
pub struct PocValidation<MaxVerdicts: Get<u32>> {
	/// The epoch of the PoC.
	pub epoch: EpochIndex,
	/// The model validated.
	pub model: ModelId,
	/// One verdict per host judged.
	pub verdicts: BoundedVec<Verdict, MaxVerdicts>,
}

// By hand rather than derived: a derive would require the bound type `MaxVerdicts` itself
// to be `Clone`, `PartialEq` and `Debug`.
impl<MaxVerdicts: Get<u32>> Clone for PocValidation<MaxVerdicts> {
	fn clone(&self) -> Self {
		Self { epoch: self.epoch, model: self.model, verdicts: self.verdicts.clone() }
	}
}

impl<MaxVerdicts: Get<u32>> PartialEq for PocValidation<MaxVerdicts> {
	fn eq(&self, other: &Self) -> bool {
		self.epoch == other.epoch && self.model == other.model && self.verdicts == other.verdicts
	}
}

impl<MaxVerdicts: Get<u32>> Eq for PocValidation<MaxVerdicts> {}

impl<MaxVerdicts: Get<u32>> core::fmt::Debug for PocValidation<MaxVerdicts> {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		f.debug_struct("PocValidation")
			.field("epoch", &self.epoch)
			.field("model", &self.model)
			.field("verdicts", &self.verdicts)
			.finish()
	}
}

impl<MaxVerdicts: Get<u32>> Duty for PocValidation<MaxVerdicts> {
	const KIND: DutyKind = DutyKind::PocValidation;
}

/// The executor's result for request `request`: the completion's token ids (what
/// validators replay), its text (what the developer reads) and the number of prompt tokens
/// after the chat template (what validators check exactly). The chain counts the completion
/// tokens itself.
#[derive(Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen)]
#[scale_info(skip_type_params(MaxTokens, MaxText))]
pub struct InferenceFinish<MaxTokens: Get<u32>, MaxText: Get<u32>> {
	/// The request.
	pub request: RequestId,
	/// The completion's token ids, in order.
	pub token_ids: BoundedVec<u32, MaxTokens>,
	/// The completion's text (UTF-8, the detokenization of `token_ids`).
	pub text: BoundedVec<u8, MaxText>,
	/// The templated prompt's length in tokens.
	pub prompt_tokens: u32,
}

// By hand rather than derived, for the reason given at `PocValidation`.
impl<MaxTokens: Get<u32>, MaxText: Get<u32>> Clone for InferenceFinish<MaxTokens, MaxText> {
	fn clone(&self) -> Self {
		Self {
			request: self.request,
			token_ids: self.token_ids.clone(),
			text: self.text.clone(),
			prompt_tokens: self.prompt_tokens,
		}
	}
}

impl<MaxTokens: Get<u32>, MaxText: Get<u32>> PartialEq for InferenceFinish<MaxTokens, MaxText> {
	fn eq(&self, other: &Self) -> bool {
		self.request == other.request
			&& self.token_ids == other.token_ids
			&& self.text == other.text
			&& self.prompt_tokens == other.prompt_tokens
	}
}

impl<MaxTokens: Get<u32>, MaxText: Get<u32>> Eq for InferenceFinish<MaxTokens, MaxText> {}

impl<MaxTokens: Get<u32>, MaxText: Get<u32>> core::fmt::Debug
	for InferenceFinish<MaxTokens, MaxText>
{
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		f.debug_struct("InferenceFinish")
			.field("request", &self.request)
			.field("token_ids", &self.token_ids.len())
			.field("text", &self.text.len())
			.field("prompt_tokens", &self.prompt_tokens)
			.finish()
	}
}

impl<MaxTokens: Get<u32>, MaxText: Get<u32>> Duty for InferenceFinish<MaxTokens, MaxText> {
	const KIND: DutyKind = DutyKind::InferenceFinish;
}

/// A sampled validator's replay score of a finished request: the fraction of the
/// completion's positions whose token its replay of the seeded sampler accepts.
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
pub struct InferenceValidation {
	/// The request.
	pub request: RequestId,
	/// The replay similarity; the request passes at `≥ validation_threshold` of its model.
	pub similarity: Perbill,
}

impl Duty for InferenceValidation {
	const KIND: DutyKind = DutyKind::InferenceValidation;
}

/// A host's vote in the invalidation vote a failed validation opened.
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
pub struct InvalidationVote {
	/// The request.
	pub request: RequestId,
	/// `true`: the result is invalid; `false`: it holds up.
	pub invalid: bool,
}

impl Duty for InvalidationVote {
	const KIND: DutyKind = DutyKind::InvalidationVote;
}

/// A host's claim that `validator`, sampled to validate `request`, did not report within
/// the validation window. The chain checks it by the same hash rule.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct MissingValidation {
	/// The request.
	pub request: RequestId,
	/// The validator that did not report.
	pub validator: HostId,
}

impl Duty for MissingValidation {
	const KIND: DutyKind = DutyKind::MissingValidation;
}

#[cfg(all(test, feature = "std"))]
mod tests {
	use super::*;
	use polkadot_sdk::sp_core::{ConstU32, Pair};

	fn commit() -> PocCommit {
		PocCommit { epoch: 3, model: 1, count: 1_000, root: H256::repeat_byte(7) }
	}

	fn host() -> HostId {
		HostId::new([9; 32])
	}

	fn worker() -> sr25519::Pair {
		sr25519::Pair::from_string("//Alice//worker", None).unwrap()
	}

	#[test]
	fn signed_message_is_domain_version_kind_genesis_host_and_payload() {
		let genesis = H256::repeat_byte(1);
		let mut expected = b"gonka/duty".to_vec();
		expected.extend_from_slice(&[PAYLOAD_VERSION, 0]);
		expected.extend_from_slice(&[1u8; 32]);
		expected.extend_from_slice(&[9u8; 32]);
		expected.extend_from_slice(&commit().encode());
		assert_eq!(commit().signing_message(&genesis, &host()), expected);
	}

	#[test]
	fn signature_verifies_for_its_payload_key_and_chain() {
		let genesis = H256::repeat_byte(1);
		let signature = commit().sign(&genesis, &host(), &worker());
		assert!(commit().verify(&genesis, &host(), &worker().public(), &signature));
	}

	#[test]
	fn signature_for_another_chain_is_rejected() {
		let signature = commit().sign(&H256::repeat_byte(1), &host(), &worker());
		assert!(!commit().verify(&H256::repeat_byte(2), &host(), &worker().public(), &signature));
	}

	/// Hole 14 of the soundness review, the duties' half: a worker key that passes to
	/// another host (its host left and another registered it) does not carry the old
	/// host's signatures with it.
	#[test]
	fn signature_for_another_host_is_rejected() {
		let genesis = H256::repeat_byte(1);
		let signature = commit().sign(&genesis, &host(), &worker());
		let next_host = HostId::new([8; 32]);
		assert!(!commit().verify(&genesis, &next_host, &worker().public(), &signature));
	}

	#[test]
	fn a_key_ownership_proof_holds_for_its_host_key_and_chain_only() {
		let genesis = H256::repeat_byte(1);
		let proof = prove_key_ownership(&genesis, &host(), &worker());
		assert!(verify_key_ownership(&genesis, &host(), &worker().public(), &proof));
		let other = HostId::new([8; 32]);
		assert!(!verify_key_ownership(&genesis, &other, &worker().public(), &proof));
		assert!(!verify_key_ownership(&H256::repeat_byte(2), &host(), &worker().public(), &proof));
		let other_key = sr25519::Pair::from_string("//Bob//worker", None).unwrap();
		assert!(!verify_key_ownership(&genesis, &host(), &other_key.public(), &proof));
		// A duty signature is no proof of ownership, and a proof no duty signature.
		let duty = commit().sign(&genesis, &host(), &worker());
		assert!(!verify_key_ownership(&genesis, &host(), &worker().public(), &duty));
		assert!(!commit().verify(&genesis, &host(), &worker().public(), &proof));
	}

	#[test]
	fn signature_by_another_key_is_rejected() {
		let genesis = H256::repeat_byte(1);
		let other = sr25519::Pair::from_string("//Bob//worker", None).unwrap();
		let signature = commit().sign(&genesis, &host(), &other);
		assert!(!commit().verify(&genesis, &host(), &worker().public(), &signature));
	}

	#[test]
	fn signature_for_a_changed_payload_is_rejected() {
		let genesis = H256::repeat_byte(1);
		let signature = commit().sign(&genesis, &host(), &worker());
		let grown = PocCommit { count: 1_001, ..commit() };
		assert!(!grown.verify(&genesis, &host(), &worker().public(), &signature));
	}

	#[test]
	fn each_duty_kind_has_its_own_tag() {
		let kinds = [
			DutyKind::PocCommit,
			DutyKind::PocValidation,
			DutyKind::InferenceFinish,
			DutyKind::InferenceValidation,
			DutyKind::InvalidationVote,
			DutyKind::MissingValidation,
		];
		for (index, kind) in kinds.iter().enumerate() {
			assert_eq!(usize::from(kind.tag()), index);
			assert_eq!(kind.encode(), vec![kind.tag()]);
		}
		// 6 and 7 are kept for confirmation PoC.
		assert_eq!(DutyKind::ChannelSettle.tag(), 8);
		assert_eq!(DutyKind::ChannelSettle.encode(), vec![8]);
		assert_eq!(DutyKind::ReceiptVerdicts.tag(), 9);
		assert_eq!(DutyKind::ReceiptVerdicts.encode(), vec![9]);
		assert_eq!(DutyKind::FailureReport.encode(), vec![10]);
		assert_eq!(DutyKind::ReceiptVote.encode(), vec![11]);
		assert_eq!((DutyKind::FailureReport.tag(), DutyKind::ReceiptVote.tag()), (10, 11));
		assert_eq!(DutyKind::ChannelWaiver.encode(), vec![DutyKind::ChannelWaiver.tag()]);
		assert_eq!(DutyKind::ChannelWaiver.tag(), 12);
		assert_eq!(DutyKind::MissedSamples.encode(), vec![DutyKind::MissedSamples.tag()]);
		assert_eq!(DutyKind::MissedSamples.tag(), 13);
		assert_eq!(DutyKind::DeliveryAck.encode(), vec![DutyKind::DeliveryAck.tag()]);
		assert_eq!(DutyKind::DeliveryAck.tag(), 14);
	}

	#[test]
	fn a_validation_signature_is_not_a_vote_signature() {
		// The same request in both payloads; a vote of `true` encodes like a similarity
		// byte would not, but the kind byte alone must already separate them.
		let genesis = H256::repeat_byte(1);
		let validation = InferenceValidation { request: 9, similarity: Perbill::one() };
		let signature = validation.sign(&genesis, &host(), &worker());
		let mut as_vote = validation.signing_message(&genesis, &host());
		as_vote[SIGNING_DOMAIN.len() + 1] = DutyKind::InvalidationVote.tag();
		assert!(!polkadot_sdk::sp_io::crypto::sr25519_verify(
			&signature,
			&as_vote,
			&worker().public()
		));
	}

	#[test]
	fn signature_for_another_purpose_is_rejected() {
		// A validation payload whose SCALE bytes equal a commitment's: only the kind byte
		// tells them apart, and it is signed.
		let genesis = H256::repeat_byte(1);
		let validation =
			PocValidation::<ConstU32<4>> { epoch: 3, model: 1, verdicts: Default::default() };
		let signature = validation.sign(&genesis, &host(), &worker());
		assert!(validation.verify(&genesis, &host(), &worker().public(), &signature));
		let mut as_commit = validation.signing_message(&genesis, &host());
		as_commit[SIGNING_DOMAIN.len() + 1] = DutyKind::PocCommit.tag();
		assert!(!polkadot_sdk::sp_io::crypto::sr25519_verify(
			&signature,
			&as_commit,
			&worker().public()
		));
	}
}
