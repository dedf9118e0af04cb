//! Property tests of the PoC commitment (`merkle.rs`) and of what a validator checks of it
//! (`sample.rs`, `seed.rs`): a proof shows one leaf at one index of one tree and nothing
//! else; proofs from a host are untrusted, so verification never panics; a validator's
//! sample and a nonce's coordinates are distinct, in range and of the size asked for.

use gonka_primitives::{
	merkle::{leaf_hash, verify, MerkleTree},
	sample::SampleSeed,
	seed::{pick_coordinates, PickError},
	AccountId32, H256,
};
use proptest::{collection::vec, prelude::*, sample::Index};
use std::collections::BTreeSet;

// ---- strategies and helpers --------------------------------------------------------------

fn h256() -> impl Strategy<Value = H256> {
	any::<[u8; 32]>().prop_map(H256)
}

/// 1 to 100 artifacts of 0 to 8 bytes (short, so that equal artifacts occur too).
fn artifacts() -> impl Strategy<Value = Vec<Vec<u8>>> {
	vec(vec(any::<u8>(), 0..8), 1..=100)
}

fn tree(artifacts: &[Vec<u8>]) -> MerkleTree {
	MerkleTree::from_artifacts(artifacts.iter().map(|artifact| artifact.as_slice()))
}

fn leaves(artifacts: &[Vec<u8>]) -> Vec<H256> {
	artifacts.iter().enumerate().map(|(i, artifact)| leaf_hash(i as u64, artifact)).collect()
}

/// How to derive a second leaf set from a first: the same, one more artifact, one fewer,
/// or one artifact changed.
#[derive(Clone, Debug)]
enum Change {
	Same,
	Push(Vec<u8>),
	Pop,
	Set(Index, Vec<u8>),
}

fn change() -> impl Strategy<Value = Change> {
	prop_oneof![
		Just(Change::Same),
		vec(any::<u8>(), 0..8).prop_map(Change::Push),
		Just(Change::Pop),
		(any::<Index>(), vec(any::<u8>(), 0..8)).prop_map(|(at, a)| Change::Set(at, a)),
	]
}

/// The siblings a proof of leaf `index` has below level `level` in a tree of `count`
/// leaves (one per level where the node has a sibling).
fn siblings_below(index: u64, count: u64, level: u32) -> usize {
	let (mut position, mut width, mut siblings) = (index, count, 0);
	for _ in 0..level {
		if position ^ 1 < width {
			siblings += 1;
		}
		position /= 2;
		width = width.div_ceil(2);
	}
	siblings
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(256))]

	/// Every leaf's proof verifies against the root at its index, and there is no proof
	/// past the last leaf.
	#[test]
	fn every_leaf_proves_against_the_root(artifacts in artifacts(), at in any::<Index>()) {
		let tree = tree(&artifacts);
		let count = artifacts.len() as u64;
		prop_assert_eq!(tree.leaf_count(), count);
		let index = at.index(artifacts.len());
		let proof = tree.proof(index as u64).unwrap();
		let leaf = leaf_hash(index as u64, &artifacts[index]);
		prop_assert!(verify(&tree.root(), count, index as u64, &leaf, &proof));
		prop_assert_eq!(tree.proof(count), None);
	}

	/// A proof for one leaf never verifies another: at index `j` of a tree, leaf `i`'s hash,
	/// leaf `i`'s artifact hashed at `j` and leaf `j`'s hash, each with leaf `i`'s or leaf
	/// `j`'s proof, verify exactly when they are leaf `j`'s hash and proof.
	#[test]
	fn a_proof_for_one_leaf_never_verifies_another(
		artifacts in artifacts(),
		i in any::<Index>(),
		j in any::<Index>(),
	) {
		let tree = tree(&artifacts);
		let (count, root) = (artifacts.len() as u64, tree.root());
		let (i, j) = (i.index(artifacts.len()), j.index(artifacts.len()));
		let leaf_j = leaf_hash(j as u64, &artifacts[j]);
		let proof_j = tree.proof(j as u64).unwrap();
		let leaves =
			[leaf_hash(i as u64, &artifacts[i]), leaf_hash(j as u64, &artifacts[i]), leaf_j];
		let proofs = [tree.proof(i as u64).unwrap(), proof_j.clone()];
		for leaf in &leaves {
			for proof in &proofs {
				let expected = *leaf == leaf_j && *proof == proof_j;
				let verified = verify(&root, count, j as u64, leaf, proof);
				prop_assert_eq!(verified, expected, "i {} j {}", i, j);
			}
		}
		if i != j {
			prop_assert_ne!(&proofs[0], &proofs[1]);
		}
	}

	/// A changed artifact, a changed sibling, one sibling more or one fewer all fail.
	#[test]
	fn a_tampered_leaf_or_proof_fails(
		artifacts in artifacts(),
		at in any::<Index>(),
		bit in 0u8..8,
		sibling in any::<Index>(),
		extra in h256(),
	) {
		let tree = tree(&artifacts);
		let (count, root) = (artifacts.len() as u64, tree.root());
		let index = at.index(artifacts.len());
		let proof = tree.proof(index as u64).unwrap();
		let mut forged = artifacts[index].clone();
		match forged.first_mut() {
			Some(byte) => *byte ^= 1 << bit,
			None => forged.push(bit),
		}
		let leaf = leaf_hash(index as u64, &artifacts[index]);
		let forged = leaf_hash(index as u64, &forged);
		prop_assert!(!verify(&root, count, index as u64, &forged, &proof));
		let mut longer = proof.clone();
		longer.push(extra);
		prop_assert!(!verify(&root, count, index as u64, &leaf, &longer));
		if !proof.is_empty() {
			let mut changed = proof.clone();
			let s = sibling.index(proof.len());
			changed[s].0[usize::from(bit)] ^= 1 << bit;
			prop_assert!(!verify(&root, count, index as u64, &leaf, &changed));
			prop_assert!(!verify(&root, count, index as u64, &leaf, &proof[..proof.len() - 1]));
		}
	}

	/// An inner node of the tree never passes as a leaf: not with the rest of the proof
	/// above it, not with any leaf's proof, at no index.
	#[test]
	fn an_inner_node_never_passes_as_a_leaf(
		artifacts in vec(vec(any::<u8>(), 0..8), 2..=64),
		level in any::<Index>(),
		position in any::<Index>(),
	) {
		let leaves = leaves(&artifacts);
		let tree = MerkleTree::from_leaves(leaves.clone());
		let (count, root) = (leaves.len() as u64, tree.root());
		// Level 1 up to the root's, and a node there over at least two leaves: the root of
		// the aligned run of leaves under it.
		let height = usize::BITS - (leaves.len() - 1).leading_zeros();
		let level = 1 + level.index(height as usize) as u32;
		let span = 1usize << level;
		let nodes = leaves.len().div_ceil(span);
		let inner_nodes = if leaves.len() - (nodes - 1) * span >= 2 { nodes } else { nodes - 1 };
		let first = position.index(inner_nodes) * span;
		let under = &leaves[first..(first + span).min(leaves.len())];
		prop_assert!(under.len() >= 2);
		let inner = MerkleTree::from_leaves(under.to_vec()).root();
		let full = tree.proof(first as u64).unwrap();
		let above = &full[siblings_below(first as u64, count, level)..];
		for index in 0..count {
			prop_assert!(!verify(&root, count, index, &inner, above), "index {}", index);
			let proof = tree.proof(index).unwrap();
			prop_assert!(!verify(&root, count, index, &inner, &proof), "index {}", index);
		}
	}

	/// Verification of arbitrary (untrusted) input never panics, and an index at or past
	/// the count never verifies.
	#[test]
	fn verify_never_panics_and_refuses_indices_past_the_count(
		root in h256(),
		count in prop_oneof![0..300u64, any::<u64>()],
		index in prop_oneof![0..300u64, any::<u64>()],
		leaf in h256(),
		proof in vec(h256(), 0..70),
	) {
		let verified = verify(&root, count, index, &leaf, &proof);
		if index >= count {
			prop_assert!(!verified);
		}
	}

	/// No two leaf sets share a root: changing, adding or removing an artifact changes it.
	#[test]
	fn different_leaf_sets_have_different_roots(artifacts in artifacts(), change in change()) {
		let mut other = artifacts.clone();
		match change {
			Change::Same => {}
			Change::Push(artifact) => other.push(artifact),
			Change::Pop => {
				other.pop();
			}
			Change::Set(at, artifact) => {
				let at = at.index(other.len());
				other[at] = artifact;
			}
		}
		prop_assert_eq!(tree(&artifacts).root() == tree(&other).root(), artifacts == other);
		prop_assert_eq!(tree(&artifacts), MerkleTree::from_leaves(leaves(&artifacts)));
	}

	/// A validator's sample of a commitment of `count` leaves is `min(n, count)` distinct
	/// indices below `count` (all of `0..count`, in order, when `count ≤ n`), the same
	/// every time, and a smaller sample of a larger commitment is a prefix of a larger one.
	#[test]
	fn a_sample_is_distinct_in_range_and_of_size_min_n_count(
		hashes in (h256(), h256()),
		accounts in (any::<[u8; 32]>(), any::<[u8; 32]>()),
		model in any::<u32>(),
		count in prop_oneof![0..300u64, any::<u64>()],
		n in 0..=64u32,
		smaller in 0..=64u32,
	) {
		let (validator, host) = (AccountId32::new(accounts.0), AccountId32::new(accounts.1));
		let seed = SampleSeed {
			genesis_hash: &hashes.0,
			generation_end_hash: &hashes.1,
			validator: &validator,
			host: &host,
			model,
		};
		let indices = seed.leaf_indices(count, n);
		prop_assert_eq!(indices.len() as u64, count.min(u64::from(n)));
		prop_assert!(indices.iter().all(|index| *index < count));
		prop_assert_eq!(indices.iter().collect::<BTreeSet<_>>().len(), indices.len());
		prop_assert_eq!(&seed.leaf_indices(count, n), &indices);
		if count <= u64::from(n) {
			prop_assert_eq!(&indices, &(0..count).collect::<Vec<_>>());
		} else {
			let smaller = smaller.min(n);
			prop_assert_eq!(&seed.leaf_indices(count, smaller)[..], &indices[..smaller as usize]);
		}
	}

	/// A nonce's `k` coordinates of a `hidden`-wide state are `k` distinct coordinates
	/// below `hidden`, the same every time; more than `hidden` are refused.
	#[test]
	fn picked_coordinates_are_distinct_in_range_and_k_of_them(
		key in any::<[u8; 32]>(),
		hidden in 0..=600u32,
		k in 0..=602u32,
	) {
		match pick_coordinates(&key, hidden, k) {
			Ok(picked) => {
				prop_assert!(k <= hidden);
				prop_assert_eq!(picked.len() as u32, k);
				prop_assert!(picked.iter().all(|c| *c < hidden));
				prop_assert_eq!(picked.iter().collect::<BTreeSet<_>>().len(), picked.len());
				prop_assert_eq!(pick_coordinates(&key, hidden, k), Ok(picked));
			}
			Err(error) => {
				prop_assert!(k > hidden);
				prop_assert_eq!(error, PickError::TooManyCoordinates { k, hidden });
			}
		}
	}
}
