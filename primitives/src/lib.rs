//! # Gonka primitives
//!
//! The types and pure functions that the runtime and the worker must agree on bit for bit,
//! in one `no_std` crate so that both compile the same code:
//!
//! - [`duty`]: the payloads a worker signs for its duties (PoC commitments, batched PoC
//!   validations, inference results, replay validations and invalidation votes), with the signing domain that stops a signature
//!   for one purpose, version or chain from being replayed for another;
//! - [`seed`]: the seeds of Proof of Compute (nonce inputs, layer reflections, coordinate
//!   pick) as pure functions over bytes;
//! - [`merkle`]: the Merkle tree over PoC artifacts, its proofs and their verification;
//! - [`sample`]: the leaf indices a validator checks, seeded by a block hash that exists
//!   only after PoC generation ends;
//! - [`cap`]: the 25% cap on any one host's share of the weight;
//! - [`binomial`]: the worker's deterministic one-sided binomial test, in integer
//!   arithmetic;
//! - [`bounds`]: the payload bounds, the PoC sample size and commit budget, and the vote
//!   thresholds (majority, two thirds), defined once for the runtime and the worker;
//! - [`issuance`]: the GNK supply, the epoch reward curve, reward shares and the downtime
//!   test;
//! - [`inference`]: escrow and cost, the executor draw, validation sampling and its
//!   `target`, reputation, the invalidation test (SPRT) and the per-block price rule;
//! - [`channel`]: inference channels' messages and signatures, the committee draw, the
//!   allowance, the sum tree of receipts and the sampling of settlements.
//!
//! Nothing here uses floating point: every result is the same on every machine.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod binomial;
pub mod bounds;
pub mod cap;
pub mod channel;
pub mod duty;
pub mod inference;
pub mod issuance;
pub mod merkle;
pub mod sample;
pub mod seed;

pub use polkadot_sdk::sp_core::{crypto::AccountId32, H256};

/// The index of an epoch (the first epoch is 0).
pub type EpochIndex = u32;
/// A model's id in the model registry.
pub type ModelId = u32;
/// A number of PoC nonces.
pub type NonceCount = u64;
/// A host is identified by its account.
pub type HostId = AccountId32;

/// A governance snapshot of the hosts' voting power, as Proof of Compute keeps it: the
/// generation of power (each weight formation makes one) in force when the snapshot was
/// taken, and how many hosts had left during that generation by then (they do not vote
/// with it). Taking one costs O(1): the powers themselves are not copied.
#[derive(
	Clone,
	Copy,
	Debug,
	Default,
	PartialEq,
	Eq,
	codec::Encode,
	codec::Decode,
	codec::DecodeWithMemTracking,
	scale_info::TypeInfo,
	codec::MaxEncodedLen,
)]
pub struct PowerSnapshot {
	/// The generation of voting power.
	pub generation: u32,
	/// Departures during that generation before the snapshot.
	pub departures: u32,
}

/// The hash every Gonka commitment uses: BLAKE2b-256.
pub fn hash(data: &[u8]) -> [u8; 32] {
	polkadot_sdk::sp_crypto_hashing::blake2_256(data)
}

/// Hashes the concatenation of `parts` without building it first.
pub fn hash_concat(parts: &[&[u8]]) -> [u8; 32] {
	let len = parts.iter().map(|part| part.len()).sum();
	let mut data = alloc::vec::Vec::with_capacity(len);
	for part in parts {
		data.extend_from_slice(part);
	}
	hash(&data)
}

/// The first eight bytes of a hash as a little-endian `u64`.
pub fn u64_le_prefix(hash: &[u8; 32]) -> u64 {
	let mut bytes = [0u8; 8];
	bytes.copy_from_slice(&hash[..8]);
	u64::from_le_bytes(bytes)
}
