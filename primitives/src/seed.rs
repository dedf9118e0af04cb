//! The seeds of Proof of Compute (`protocol.md`, "Proof of Compute").
//!
//! For nonce `n` of host `h` in an epoch with seed `s` (the hash of the block before the
//! epoch starts):
//! - the nonce's input matrix is drawn from a counter-based generator keyed by
//!   [`nonce_input_key`] `= H(s ‖ h ‖ u64_le(n))`;
//! - the Householder reflection after transformer layer `i` uses a unit vector drawn from
//!   [`layer_reflection_key`] `= H(s ‖ "layer" ‖ u32_le(i))` (the same for every host);
//! - the `k` coordinates of the artifact are picked by [`pick_coordinates`] from
//!   [`coordinate_pick_key`] `= H(s ‖ h ‖ u64_le(n) ‖ "pick")`.
//!
//! `h` is the 32 bytes of the host's account id (not its worker key, which a host may
//! rotate: a rotation must not change the artifacts already computed). `H` is BLAKE2b-256.

use crate::{hash_concat, u64_le_prefix, HostId};
use alloc::{collections::BTreeSet, vec::Vec};

/// An epoch's PoC seed: the hash of the block before the epoch starts.
pub type Seed = [u8; 32];

/// The tag of the per-layer reflection seed.
pub const LAYER_TAG: &[u8] = b"layer";
/// The tag of the coordinate-pick seed.
pub const PICK_TAG: &[u8] = b"pick";

/// The key of the counter-based generator that draws nonce `nonce`'s input matrix.
pub fn nonce_input_key(seed: &Seed, host: &HostId, nonce: u64) -> [u8; 32] {
	hash_concat(&[seed, host.as_ref(), &nonce.to_le_bytes()])
}

/// The key from which the reflection vector after transformer layer `layer` is drawn.
pub fn layer_reflection_key(seed: &Seed, layer: u32) -> [u8; 32] {
	hash_concat(&[seed, LAYER_TAG, &layer.to_le_bytes()])
}

/// The key that picks the artifact's coordinates (and seeds their rotation) for a nonce.
pub fn coordinate_pick_key(seed: &Seed, host: &HostId, nonce: u64) -> [u8; 32] {
	hash_concat(&[seed, host.as_ref(), &nonce.to_le_bytes(), PICK_TAG])
}

/// Why coordinates could not be picked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PickError {
	/// More coordinates were asked for than the hidden state has.
	TooManyCoordinates { k: u32, hidden: u32 },
}

/// The `k` distinct coordinates of a `hidden`-wide state picked by `pick_key`, in pick
/// order: the first `k` distinct values of `u64_le(H(pick_key ‖ u32_le(j))[0..8]) mod hidden`
/// for `j = 0, 1, …`.
pub fn pick_coordinates(pick_key: &[u8; 32], hidden: u32, k: u32) -> Result<Vec<u32>, PickError> {
	if k > hidden {
		return Err(PickError::TooManyCoordinates { k, hidden });
	}
	let mut picked = Vec::with_capacity(k as usize);
	let mut seen = BTreeSet::new();
	let mut j: u32 = 0;
	while (picked.len() as u32) < k {
		let draw = u64_le_prefix(&hash_concat(&[pick_key, &j.to_le_bytes()]));
		// `hidden > 0` here: `k ≥ 1` and `k ≤ hidden`.
		let coordinate = (draw % u64::from(hidden)) as u32;
		if seen.insert(coordinate) {
			picked.push(coordinate);
		}
		j = j.wrapping_add(1);
	}
	Ok(picked)
}

#[cfg(test)]
mod tests {
	use super::*;

	fn host(byte: u8) -> HostId {
		HostId::new([byte; 32])
	}

	#[test]
	fn nonce_input_key_is_the_hash_of_seed_host_and_nonce() {
		let seed = [7u8; 32];
		let mut data = Vec::new();
		data.extend_from_slice(&seed);
		data.extend_from_slice(&[1u8; 32]);
		data.extend_from_slice(&5u64.to_le_bytes());
		assert_eq!(nonce_input_key(&seed, &host(1), 5), crate::hash(&data));
	}

	#[test]
	fn seeds_differ_by_seed_host_nonce_and_purpose() {
		let (s1, s2) = ([1u8; 32], [2u8; 32]);
		let base = nonce_input_key(&s1, &host(1), 0);
		assert_ne!(base, nonce_input_key(&s2, &host(1), 0));
		assert_ne!(base, nonce_input_key(&s1, &host(2), 0));
		assert_ne!(base, nonce_input_key(&s1, &host(1), 1));
		assert_ne!(base, coordinate_pick_key(&s1, &host(1), 0));
		assert_ne!(layer_reflection_key(&s1, 0), layer_reflection_key(&s1, 1));
		assert_ne!(layer_reflection_key(&s1, 0), layer_reflection_key(&s2, 0));
	}

	#[test]
	fn layer_reflection_key_does_not_depend_on_the_host() {
		let seed = [3u8; 32];
		let mut data = Vec::new();
		data.extend_from_slice(&seed);
		data.extend_from_slice(b"layer");
		data.extend_from_slice(&29u32.to_le_bytes());
		assert_eq!(layer_reflection_key(&seed, 29), crate::hash(&data));
	}

	#[test]
	fn pick_coordinates_are_distinct_in_range_and_deterministic() {
		let key = coordinate_pick_key(&[9u8; 32], &host(4), 77);
		let picked = pick_coordinates(&key, 576, 12).unwrap();
		assert_eq!(picked.len(), 12);
		assert!(picked.iter().all(|c| *c < 576));
		assert_eq!(picked.iter().collect::<BTreeSet<_>>().len(), 12);
		assert_eq!(picked, pick_coordinates(&key, 576, 12).unwrap());
		assert_ne!(picked, pick_coordinates(&[0u8; 32], 576, 12).unwrap());
	}

	#[test]
	fn pick_coordinates_follows_the_formula() {
		let key = [5u8; 32];
		let first = u64_le_prefix(&hash_concat(&[&key, &0u32.to_le_bytes()])) % 576;
		assert_eq!(pick_coordinates(&key, 576, 1).unwrap(), vec![first as u32]);
	}

	#[test]
	fn pick_coordinates_can_take_every_coordinate_and_no_more() {
		let mut all = pick_coordinates(&[1u8; 32], 12, 12).unwrap();
		all.sort();
		assert_eq!(all, (0..12).collect::<Vec<_>>());
		assert_eq!(
			pick_coordinates(&[1u8; 32], 11, 12),
			Err(PickError::TooManyCoordinates { k: 12, hidden: 11 })
		);
		assert_eq!(pick_coordinates(&[1u8; 32], 0, 0), Ok(vec![]));
	}
}
