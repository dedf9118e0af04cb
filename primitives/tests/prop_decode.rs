//! Property tests of what the chain decodes from untrusted bytes: every duty payload (the
//! SCALE bytes of a duty transaction), the other SCALE types of `gonka-primitives` that
//! calls and storage carry, and the signed message of a duty (`duty.rs`).
//!
//! Decoding any bytes must return a value or an error, never panic; a value decoded from
//! bytes re-encodes to exactly the bytes it was read from (one encoding per value, so a
//! signature covers one payload); every value round-trips within its `MaxEncodedLen`.

#![cfg(feature = "std")]

use codec::{Decode, DecodeAll, Encode, MaxEncodedLen};
use core::fmt::Debug;
use gonka_primitives::{
	duty::{
		Duty, DutyKind, InferenceFinish, InferenceValidation, InvalidationVote, MissingValidation,
		PocCommit, PocValidation, Verdict, PAYLOAD_VERSION, SIGNING_DOMAIN,
	},
	inference::{PriceRule, SamplingParams},
	issuance::RewardCurve,
	AccountId32, PowerSnapshot, H256,
};
use polkadot_sdk::{
	sp_arithmetic::Perbill,
	sp_core::{sr25519, ConstU32, Pair},
	sp_runtime::BoundedVec,
};
use proptest::{collection::vec, prelude::*, test_runner::TestCaseError};

/// A validation of at most 16 verdicts (the bound is a type parameter; the rules do not
/// depend on its value).
type Validation = PocValidation<ConstU32<16>>;
/// A result of at most 64 tokens and 256 bytes of text.
type Finish = InferenceFinish<ConstU32<64>, ConstU32<256>>;

// ---- strategies --------------------------------------------------------------------------

fn h256() -> impl Strategy<Value = H256> {
	any::<[u8; 32]>().prop_map(H256)
}

fn account() -> impl Strategy<Value = AccountId32> {
	any::<[u8; 32]>().prop_map(AccountId32::new)
}

/// Any `Perbill`, with its ends as likely as the inside.
fn perbill() -> impl Strategy<Value = Perbill> {
	prop_oneof![
		Just(Perbill::zero()),
		Just(Perbill::one()),
		(0..=1_000_000_000u32).prop_map(Perbill::from_parts),
	]
}

fn poc_commit() -> impl Strategy<Value = PocCommit> {
	(any::<u32>(), any::<u32>(), any::<u64>(), h256())
		.prop_map(|(epoch, model, count, root)| PocCommit { epoch, model, count, root })
}

fn verdict() -> impl Strategy<Value = Verdict> {
	(account(), any::<bool>()).prop_map(|(host, valid)| Verdict { host, valid })
}

fn poc_validation() -> impl Strategy<Value = Validation> {
	(any::<u32>(), any::<u32>(), vec(verdict(), 0..=16)).prop_map(|(epoch, model, verdicts)| {
		Validation { epoch, model, verdicts: BoundedVec::truncate_from(verdicts) }
	})
}

fn inference_finish() -> impl Strategy<Value = Finish> {
	(any::<u64>(), vec(any::<u32>(), 0..=64), vec(any::<u8>(), 0..=256), any::<u32>()).prop_map(
		|(request, token_ids, text, prompt_tokens)| Finish {
			request,
			token_ids: BoundedVec::truncate_from(token_ids),
			text: BoundedVec::truncate_from(text),
			prompt_tokens,
		},
	)
}

fn inference_validation() -> impl Strategy<Value = InferenceValidation> {
	(any::<u64>(), perbill())
		.prop_map(|(request, similarity)| InferenceValidation { request, similarity })
}

fn invalidation_vote() -> impl Strategy<Value = InvalidationVote> {
	(any::<u64>(), any::<bool>())
		.prop_map(|(request, invalid)| InvalidationVote { request, invalid })
}

fn missing_validation() -> impl Strategy<Value = MissingValidation> {
	(any::<u64>(), account())
		.prop_map(|(request, validator)| MissingValidation { request, validator })
}

fn power_snapshot() -> impl Strategy<Value = PowerSnapshot> {
	(any::<u32>(), any::<u32>())
		.prop_map(|(generation, departures)| PowerSnapshot { generation, departures })
}

fn sampling_params() -> impl Strategy<Value = SamplingParams> {
	(any::<u32>(), perbill())
		.prop_map(|(temperature_milli, top_p)| SamplingParams { temperature_milli, top_p })
}

fn price_rule() -> impl Strategy<Value = PriceRule> {
	(perbill(), perbill(), perbill()).prop_map(|(lower, upper, max_change)| PriceRule {
		lower,
		upper,
		max_change,
	})
}

fn reward_curve() -> impl Strategy<Value = RewardCurve> {
	(any::<u32>(), any::<u128>(), any::<u64>(), any::<u128>(), any::<u128>()).prop_map(
		|(next_epoch, scaled_reward, decay, minted, cap)| RewardCurve {
			next_epoch,
			scaled_reward,
			decay,
			minted,
			cap,
		},
	)
}

/// Random bytes, mostly short (what a fixed-size payload reads) but up to a full result.
fn bytes() -> impl Strategy<Value = Vec<u8>> {
	prop_oneof![vec(any::<u8>(), 0..=80), vec(any::<u8>(), 0..=700)]
}

/// Where and how to corrupt an encoding: the byte at `index` (modulo the length) is set to
/// `byte`, then the encoding is cut to `keep` bytes (modulo one more than its length).
#[derive(Clone, Debug)]
struct Corruption {
	index: prop::sample::Index,
	byte: u8,
	keep: prop::sample::Index,
}

fn corruption() -> impl Strategy<Value = Corruption> {
	(any::<prop::sample::Index>(), any::<u8>(), any::<prop::sample::Index>())
		.prop_map(|(index, byte, keep)| Corruption { index, byte, keep })
}

impl Corruption {
	fn apply(&self, mut bytes: Vec<u8>) -> Vec<u8> {
		if !bytes.is_empty() {
			let at = self.index.index(bytes.len());
			bytes[at] = self.byte;
		}
		let keep = self.keep.index(bytes.len() + 1);
		bytes.truncate(keep);
		bytes
	}
}

// ---- checks ------------------------------------------------------------------------------

/// Decodes a `T` from the front of `bytes` (never panicking); when it decodes, the value
/// re-encodes to exactly the bytes read.
fn decodes_canonically<T: Decode + Encode + Debug>(bytes: &[u8]) -> Result<(), TestCaseError> {
	let mut input = bytes;
	if let Ok(value) = T::decode(&mut input) {
		let read = bytes.len() - input.len();
		prop_assert_eq!(value.encode(), bytes[..read].to_vec(), "{:?}", value);
	}
	Ok(())
}

/// `value` encodes within its `MaxEncodedLen`, decodes back to itself with nothing left
/// over, and no strict prefix of its encoding decodes.
fn round_trips<T>(value: &T) -> Result<(), TestCaseError>
where
	T: Decode + Encode + MaxEncodedLen + PartialEq + Debug,
{
	let bytes = value.encode();
	prop_assert_eq!(bytes.len(), value.encoded_size());
	prop_assert!(bytes.len() <= T::max_encoded_len(), "{} > {}", bytes.len(), T::max_encoded_len());
	prop_assert_eq!(&T::decode_all(&mut &bytes[..])?, value);
	for cut in 0..bytes.len() {
		prop_assert!(
			T::decode(&mut &bytes[..cut]).is_err(),
			"{} of {} bytes decode",
			cut,
			bytes.len()
		);
	}
	Ok(())
}

/// `payload`'s signed message is the domain, the payload version, its kind's tag, the
/// genesis hash and the host, followed by the payload's SCALE bytes and nothing else.
fn frames_the_payload<D>(payload: &D, genesis: &H256) -> Result<(), TestCaseError>
where
	D: Duty + Decode + PartialEq + Debug,
{
	let message = payload.signing_message(genesis, &HOST);
	let head = SIGNING_DOMAIN.len() + 2 + 32 + 32;
	prop_assert!(message.len() >= head);
	prop_assert_eq!(&message[..SIGNING_DOMAIN.len()], SIGNING_DOMAIN);
	prop_assert_eq!(message[SIGNING_DOMAIN.len()], PAYLOAD_VERSION);
	prop_assert_eq!(message[SIGNING_DOMAIN.len() + 1], D::KIND.tag());
	prop_assert_eq!(&message[SIGNING_DOMAIN.len() + 2..head - 32], genesis.as_bytes());
	prop_assert_eq!(&message[head - 32..head], AsRef::<[u8]>::as_ref(&HOST));
	prop_assert_eq!(&D::decode_all(&mut &message[head..])?, payload);
	Ok(())
}

/// The kind byte's position in a signed message.
const KIND_AT: usize = SIGNING_DOMAIN.len() + 1;

/// The host the property tests' duties are signed for.
const HOST: gonka_primitives::HostId = gonka_primitives::HostId::new([5; 32]);

proptest! {
	#![proptest_config(ProptestConfig::with_cases(256))]

	/// Random bytes never make a duty payload's decoder panic, and whatever decodes
	/// re-encodes to the bytes it was read from.
	#[test]
	fn random_bytes_never_panic_and_decode_canonically_as_duty_payloads(bytes in bytes()) {
		decodes_canonically::<DutyKind>(&bytes)?;
		decodes_canonically::<PocCommit>(&bytes)?;
		decodes_canonically::<Verdict>(&bytes)?;
		decodes_canonically::<Validation>(&bytes)?;
		decodes_canonically::<Finish>(&bytes)?;
		decodes_canonically::<InferenceValidation>(&bytes)?;
		decodes_canonically::<InvalidationVote>(&bytes)?;
		decodes_canonically::<MissingValidation>(&bytes)?;
	}

	/// Random bytes never make the decoders of the other SCALE types (voting snapshot,
	/// sampling parameters, price rule, reward curve) panic, and whatever decodes
	/// re-encodes to the bytes it was read from.
	#[test]
	fn random_bytes_never_panic_and_decode_canonically_as_other_types(bytes in bytes()) {
		decodes_canonically::<PowerSnapshot>(&bytes)?;
		decodes_canonically::<SamplingParams>(&bytes)?;
		decodes_canonically::<PriceRule>(&bytes)?;
		decodes_canonically::<RewardCurve>(&bytes)?;
		decodes_canonically::<Perbill>(&bytes)?;
	}

	/// A corrupted or cut encoding of a valid payload (the bytes most likely to pass the
	/// first fields) never makes a decoder panic, and whatever decodes re-encodes to the
	/// bytes it was read from.
	#[test]
	fn corrupted_payloads_never_panic_and_decode_canonically(
		validation in poc_validation(),
		finish in inference_finish(),
		missing in missing_validation(),
		how in corruption(),
	) {
		decodes_canonically::<Validation>(&how.apply(validation.encode()))?;
		decodes_canonically::<Finish>(&how.apply(finish.encode()))?;
		decodes_canonically::<MissingValidation>(&how.apply(missing.encode()))?;
	}

	/// A bounded list whose length prefix passes its bound is refused, whatever follows.
	#[test]
	fn a_list_longer_than_its_bound_never_decodes(
		epoch in any::<u32>(),
		model in any::<u32>(),
		extra in 1u32..1_000,
		tail in vec(any::<u8>(), 0..700),
	) {
		let mut bytes = (epoch, model, codec::Compact(16 + extra)).encode();
		bytes.extend_from_slice(&tail);
		prop_assert!(Validation::decode(&mut &bytes[..]).is_err());
		let mut bytes = (7u64, codec::Compact(64 + extra)).encode();
		bytes.extend_from_slice(&tail);
		prop_assert!(Finish::decode(&mut &bytes[..]).is_err());
	}

	/// A duty kind decodes from its tag byte (0–5) and from no other byte.
	#[test]
	fn a_duty_kind_decodes_only_from_its_tag(byte in any::<u8>()) {
		match DutyKind::decode(&mut &[byte][..]) {
			Ok(kind) => prop_assert_eq!(kind.tag(), byte),
			Err(_) => prop_assert!(byte >= 6, "{} refused", byte),
		}
	}

	/// Every duty payload round-trips, within its `MaxEncodedLen`, and no strict prefix of
	/// its encoding decodes.
	#[test]
	fn duty_payloads_round_trip(
		commit in poc_commit(),
		validation in poc_validation(),
		finish in inference_finish(),
		replay in inference_validation(),
		vote in invalidation_vote(),
		missing in missing_validation(),
	) {
		round_trips(&commit)?;
		round_trips(&validation)?;
		round_trips(&finish)?;
		round_trips(&replay)?;
		round_trips(&vote)?;
		round_trips(&missing)?;
	}

	/// The other SCALE types round-trip, within their `MaxEncodedLen`, and no strict
	/// prefix of their encoding decodes.
	#[test]
	fn other_types_round_trip(
		snapshot in power_snapshot(),
		params in sampling_params(),
		rule in price_rule(),
		curve in reward_curve(),
	) {
		round_trips(&snapshot)?;
		round_trips(&params)?;
		round_trips(&rule)?;
		round_trips(&curve)?;
	}

	/// Every duty's signed message is `domain ‖ version ‖ kind ‖ genesis ‖ SCALE(payload)`,
	/// and the payload decodes back from it with nothing left over.
	#[test]
	fn signed_messages_frame_the_payload(
		genesis in h256(),
		commit in poc_commit(),
		validation in poc_validation(),
		finish in inference_finish(),
		replay in inference_validation(),
		vote in invalidation_vote(),
		missing in missing_validation(),
	) {
		frames_the_payload(&commit, &genesis)?;
		frames_the_payload(&validation, &genesis)?;
		frames_the_payload(&finish, &genesis)?;
		frames_the_payload(&replay, &genesis)?;
		frames_the_payload(&vote, &genesis)?;
		frames_the_payload(&missing, &genesis)?;
	}

	/// Messages signed for different duty kinds never coincide, whatever the payloads
	/// and chains: each carries its own kind byte at the same place.
	#[test]
	fn messages_of_different_kinds_never_coincide(
		genesis in (h256(), h256(), h256(), h256(), h256(), h256()),
		commit in poc_commit(),
		validation in poc_validation(),
		finish in inference_finish(),
		replay in inference_validation(),
		vote in invalidation_vote(),
		missing in missing_validation(),
	) {
		let messages = [
			commit.signing_message(&genesis.0, &HOST),
			validation.signing_message(&genesis.1, &HOST),
			finish.signing_message(&genesis.2, &HOST),
			replay.signing_message(&genesis.3, &HOST),
			vote.signing_message(&genesis.4, &HOST),
			missing.signing_message(&genesis.5, &HOST),
		];
		for (i, a) in messages.iter().enumerate() {
			prop_assert_eq!(usize::from(a[KIND_AT]), i);
			for b in &messages[i + 1..] {
				prop_assert_ne!(a, b);
			}
		}
	}

	/// A signature verifies for its payload, host, key and chain, and for no other chain,
	/// host, key or payload.
	#[test]
	fn a_signature_verifies_only_for_its_payload_host_key_and_chain(
		commit in poc_commit(),
		other_host in any::<[u8; 32]>(),
		other_count in any::<u64>(),
		genesis in h256(),
		other_genesis in h256(),
		seed in any::<[u8; 32]>(),
		other_seed in any::<[u8; 32]>(),
	) {
		let key = sr25519::Pair::from_seed(&seed);
		let signature = commit.sign(&genesis, &HOST, &key);
		prop_assert!(commit.verify(&genesis, &HOST, &key.public(), &signature));
		let other_host = gonka_primitives::HostId::new(other_host);
		if other_host != HOST {
			prop_assert!(!commit.verify(&genesis, &other_host, &key.public(), &signature));
		}
		if other_genesis != genesis {
			prop_assert!(!commit.verify(&other_genesis, &HOST, &key.public(), &signature));
		}
		if other_seed != seed {
			let other = sr25519::Pair::from_seed(&other_seed);
			prop_assert!(!commit.verify(&genesis, &HOST, &other.public(), &signature));
		}
		if other_count != commit.count {
			let changed = PocCommit { count: other_count, ..commit.clone() };
			prop_assert!(!changed.verify(&genesis, &HOST, &key.public(), &signature));
		}
	}

	/// Random signature and key bytes (what an attacker sends) never verify, and never
	/// make verification panic.
	#[test]
	fn random_signatures_never_verify(
		vote in invalidation_vote(),
		genesis in h256(),
		key in any::<[u8; 32]>(),
		signature in vec(any::<u8>(), 64),
	) {
		let key = sr25519::Public::from_raw(key);
		let mut raw = [0u8; 64];
		raw.copy_from_slice(&signature);
		let signature = sr25519::Signature::from_raw(raw);
		prop_assert!(!vote.verify(&genesis, &HOST, &key, &signature));
	}
}
