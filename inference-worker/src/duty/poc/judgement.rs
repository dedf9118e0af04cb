//! A validator's judgement of one commitment (`protocol.md`, "Proof of Compute",
//! validation): check each sampled leaf's proof against the committed root, recompute the
//! proven ones, count mismatches, and run the binomial test at the model's parameters.

use super::{FetchError, ServedLeaf};
use crate::{duty::artifacts::ARTIFACT_BYTES, poc::Artifact, Error, Result};
use gonka_client::PocParams;
use gonka_primitives::{
	binomial,
	merkle::{leaf_hash, verify},
	H256,
};
use polkadot_sdk::sp_arithmetic::{PerThing, Perbill};
use std::collections::BTreeMap;

/// A validator's finding on one commitment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judgement {
	/// Whether the commitment holds up.
	pub valid: bool,
	/// Leaves checked.
	pub sampled: u32,
	/// Leaves not shown, shown with a bad proof, or recomputed too far from the shown one.
	pub mismatches: u32,
	/// Why it is invalid, when it is.
	pub reason: Option<String>,
}

/// Judges one commitment of `count` leaves under `root`: `indices` is the sample drawn,
/// `served` what the host's endpoint answered, `recompute` the validator's own artifacts
/// of the given nonces. Leaves whose proofs fail are mismatches and not recomputed.
pub fn judge(
	count: u64,
	root: &H256,
	indices: &[u64],
	served: std::result::Result<Vec<ServedLeaf>, FetchError>,
	params: &PocParams,
	recompute: impl FnOnce(&[u64]) -> Result<Vec<[u8; ARTIFACT_BYTES]>>,
) -> Result<Judgement> {
	let sampled = indices.len() as u32;
	let invalid = |mismatches: u32, reason: String| Judgement {
		valid: false,
		sampled,
		mismatches,
		reason: Some(reason),
	};
	let served = match served {
		Ok(leaves) => leaves,
		Err(reason) => return Ok(invalid(sampled, format!("served no proofs: {reason}"))),
	};
	let by_index: BTreeMap<u64, &ServedLeaf> =
		served.iter().map(|leaf| (leaf.index, leaf)).collect();
	let mut proven = Vec::new();
	let mut shown = Vec::new();
	for index in indices {
		let Some(leaf) = by_index.get(index) else { continue };
		let Ok(artifact) = <[u8; ARTIFACT_BYTES]>::try_from(leaf.artifact.as_slice()) else {
			continue;
		};
		if verify(root, count, *index, &leaf_hash(*index, &artifact), &leaf.proof) {
			proven.push(*index);
			shown.push(artifact);
		}
	}
	let mut mismatches = sampled.saturating_sub(proven.len() as u32);
	if !proven.is_empty() {
		let recomputed = recompute(&proven)?;
		let threshold =
			f64::from(params.dist_threshold.deconstruct()) / f64::from(Perbill::ACCURACY);
		for (theirs, ours) in shown.iter().zip(&recomputed) {
			let distance = Artifact::from_bytes(theirs).distance(&Artifact::from_bytes(ours));
			if distance > threshold {
				mismatches = mismatches.saturating_add(1);
			}
		}
	}
	let rejected = binomial::rejects(sampled, mismatches, params.p_mismatch, params.p_value)
		.map_err(|error| Error::Poc(format!("binomial test: {error:?}")))?;
	Ok(if rejected {
		invalid(
			mismatches,
			format!(
				"{mismatches} of {sampled} sampled leaves mismatch ({} not proven)",
				sampled.saturating_sub(proven.len() as u32)
			),
		)
	} else {
		Judgement { valid: true, sampled, mismatches, reason: None }
	})
}
