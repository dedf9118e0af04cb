//! A validator's judgement of one commitment (`protocol.md`, "Proof of Compute",
//! validation): check each sampled leaf's proof against the committed root, recompute the
//! proven ones, count mismatches, and run the binomial test at the model's parameters
//! (never rejecting on fewer than [`POC_MIN_MISMATCHES`] leaves recomputed too far away
//! when every leaf is proven).

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

/// The fewest leaves recomputed too far away (beyond `dist_threshold`) that judge a PoC
/// commitment invalid, whatever its size. One is as likely an honest host's rounding
/// amplified past the threshold on other kernels (`docs/verification.md`, "Batches": one
/// nonce in 48) as a lie, and in a commitment of 20 leaves or fewer the binomial test alone
/// rejects from one. The floor costs nothing at scale (at 200 samples the test rejects
/// from 2) and lets a small committer fake at most one leaf of its sample. A leaf not shown
/// or not proven is the host's doing alone: the floor does not cover it.
pub const POC_MIN_MISMATCHES: u32 = 2;

/// Whether a validator judges a PoC commitment invalid (`protocol.md`, "Validation"): the
/// mismatches (`unproven` leaves not shown or not proven, `far` recomputed too far away)
/// in `n` sampled leaves reject at `p_value`, and either some leaf is unproven or at least
/// [`POC_MIN_MISMATCHES`] are far.
pub fn poc_rejects(
	n: u32,
	unproven: u32,
	far: u32,
	p_mismatch: Perbill,
	p_value: Perbill,
) -> std::result::Result<bool, binomial::BinomialError> {
	let mismatches = unproven.saturating_add(far);
	Ok((unproven > 0 || far >= POC_MIN_MISMATCHES)
		&& binomial::rejects(n, mismatches, p_mismatch, p_value)?)
}

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
	let unproven = sampled.saturating_sub(proven.len() as u32);
	let mut far = 0u32;
	if !proven.is_empty() {
		let recomputed = recompute(&proven)?;
		let threshold =
			f64::from(params.dist_threshold.deconstruct()) / f64::from(Perbill::ACCURACY);
		for (theirs, ours) in shown.iter().zip(&recomputed) {
			let distance = Artifact::from_bytes(theirs).distance(&Artifact::from_bytes(ours));
			if distance > threshold {
				far = far.saturating_add(1);
			}
		}
	}
	let mismatches = unproven.saturating_add(far);
	let rejected = poc_rejects(sampled, unproven, far, params.p_mismatch, params.p_value)
		.map_err(|error| Error::Poc(format!("binomial test: {error:?}")))?;
	Ok(if rejected {
		invalid(
			mismatches,
			format!("{mismatches} of {sampled} sampled leaves mismatch ({unproven} not proven)"),
		)
	} else {
		Judgement { valid: true, sampled, mismatches, reason: None }
	})
}
