//! The Merkle tree a host commits its PoC artifacts with.
//!
//! Leaf `i` is `H(u64_le(i) ‖ artifact_i)` ([`leaf_hash`]), so a leaf can only be shown at
//! its own index. An inner node is `H(0x01 ‖ left ‖ right)`. A level with an odd number of
//! nodes lifts its last node to the next level unchanged (no duplication, so no two leaf
//! sets share a root). The shape of the tree follows from the leaf count alone, so a proof
//! has exactly one sibling per level where its node had one, and [`verify`] rejects
//! proofs of any other length. The root of an empty tree is all zeroes and proves nothing.

use crate::{hash_concat, H256};
use alloc::vec::Vec;

/// The tag hashed in front of an inner node's children.
pub const NODE_TAG: u8 = 0x01;

/// The leaf of artifact `artifact` at index `index`.
pub fn leaf_hash(index: u64, artifact: &[u8]) -> H256 {
	H256(hash_concat(&[&index.to_le_bytes(), artifact]))
}

fn node_hash(left: &H256, right: &H256) -> H256 {
	H256(hash_concat(&[&[NODE_TAG], left.as_bytes(), right.as_bytes()]))
}

/// A Merkle tree kept whole, to answer proof requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerkleTree {
	/// `levels[0]` are the leaves, the last level is the root alone.
	levels: Vec<Vec<H256>>,
}

/// The siblings from a leaf up to the root, lowest first.
pub type MerkleProof = Vec<H256>;

impl MerkleTree {
	/// Builds the tree over `leaves` (already hashed with [`leaf_hash`]).
	pub fn from_leaves(leaves: Vec<H256>) -> Self {
		let mut levels = Vec::new();
		let mut level = leaves;
		while level.len() > 1 {
			let next = level
				.chunks(2)
				.map(|pair| match pair {
					[left, right] => node_hash(left, right),
					[lifted] => *lifted,
					_ => unreachable!("chunks(2) yields one or two nodes"),
				})
				.collect();
			levels.push(core::mem::replace(&mut level, next));
		}
		levels.push(level);
		Self { levels }
	}

	/// Builds the tree over artifacts `0..n` in order.
	pub fn from_artifacts<'a>(artifacts: impl IntoIterator<Item = &'a [u8]>) -> Self {
		Self::from_leaves(
			artifacts
				.into_iter()
				.enumerate()
				.map(|(index, artifact)| leaf_hash(index as u64, artifact))
				.collect(),
		)
	}

	/// The number of leaves.
	pub fn leaf_count(&self) -> u64 {
		self.levels.first().map_or(0, |leaves| leaves.len() as u64)
	}

	/// The root; all zeroes for an empty tree.
	pub fn root(&self) -> H256 {
		self.levels.last().and_then(|top| top.first().copied()).unwrap_or_default()
	}

	/// The proof of leaf `index`, or `None` when there is no such leaf.
	pub fn proof(&self, index: u64) -> Option<MerkleProof> {
		if index >= self.leaf_count() {
			return None;
		}
		let mut position = index as usize;
		let mut proof = Vec::new();
		for level in &self.levels[..self.levels.len() - 1] {
			if let Some(sibling) = level.get(position ^ 1) {
				proof.push(*sibling);
			}
			position /= 2;
		}
		Some(proof)
	}
}

/// Whether `proof` shows `leaf` at `index` in the tree of `count` leaves with root `root`.
pub fn verify(root: &H256, count: u64, index: u64, leaf: &H256, proof: &[H256]) -> bool {
	if index >= count {
		return false;
	}
	let mut siblings = proof.iter();
	let (mut position, mut width, mut node) = (index, count, *leaf);
	while width > 1 {
		if position ^ 1 < width {
			let Some(sibling) = siblings.next() else { return false };
			node = if position % 2 == 0 {
				node_hash(&node, sibling)
			} else {
				node_hash(sibling, &node)
			};
		}
		position /= 2;
		width = width.div_ceil(2);
	}
	siblings.next().is_none() && node == *root
}

#[cfg(test)]
mod tests {
	use super::*;

	fn artifacts(n: u64) -> Vec<[u8; 24]> {
		(0..n).map(|i| [(i % 251) as u8; 24]).collect()
	}

	fn tree(artifacts: &[[u8; 24]]) -> MerkleTree {
		MerkleTree::from_artifacts(artifacts.iter().map(|a| a.as_slice()))
	}

	#[test]
	fn leaf_is_hash_of_index_and_artifact() {
		let mut data = 3u64.to_le_bytes().to_vec();
		data.extend_from_slice(&[9u8; 24]);
		assert_eq!(leaf_hash(3, &[9u8; 24]), H256(crate::hash(&data)));
	}

	#[test]
	fn every_leaf_of_every_tree_size_proves_against_the_root() {
		for n in 1..=33u64 {
			let artifacts = artifacts(n);
			let tree = tree(&artifacts);
			assert_eq!(tree.leaf_count(), n);
			for i in 0..n {
				let proof = tree.proof(i).unwrap();
				let leaf = leaf_hash(i, &artifacts[i as usize]);
				assert!(verify(&tree.root(), n, i, &leaf, &proof), "n={n} i={i}");
			}
			assert_eq!(tree.proof(n), None);
		}
	}

	#[test]
	fn single_leaf_tree_has_the_leaf_as_root() {
		let tree = tree(&artifacts(1));
		assert_eq!(tree.root(), leaf_hash(0, &[0u8; 24]));
		assert_eq!(tree.proof(0), Some(vec![]));
	}

	#[test]
	fn empty_tree_proves_nothing() {
		let tree = MerkleTree::from_leaves(vec![]);
		assert_eq!(tree.root(), H256::zero());
		assert_eq!(tree.proof(0), None);
		assert!(!verify(&H256::zero(), 0, 0, &H256::zero(), &[]));
	}

	#[test]
	fn a_changed_artifact_fails_verification() {
		let artifacts = artifacts(10);
		let tree = tree(&artifacts);
		let proof = tree.proof(4).unwrap();
		let mut forged = artifacts[4];
		forged[0] ^= 1;
		assert!(!verify(&tree.root(), 10, 4, &leaf_hash(4, &forged), &proof));
	}

	#[test]
	fn a_leaf_cannot_be_shown_at_another_index() {
		let artifacts = artifacts(8);
		let tree = tree(&artifacts);
		// Leaf 2's artifact with leaf 3's proof, claimed at index 3.
		let leaf = leaf_hash(3, &artifacts[2]);
		assert!(!verify(&tree.root(), 8, 3, &leaf, &tree.proof(3).unwrap()));
		// Leaf 2 claimed at index 3 with its own proof.
		let leaf = leaf_hash(2, &artifacts[2]);
		assert!(!verify(&tree.root(), 8, 3, &leaf, &tree.proof(2).unwrap()));
	}

	#[test]
	fn proofs_of_the_wrong_length_or_count_fail() {
		let artifacts = artifacts(9);
		let tree = tree(&artifacts);
		let leaf = leaf_hash(5, &artifacts[5]);
		let proof = tree.proof(5).unwrap();
		let mut longer = proof.clone();
		longer.push(H256::repeat_byte(1));
		assert!(!verify(&tree.root(), 9, 5, &leaf, &longer));
		assert!(!verify(&tree.root(), 9, 5, &leaf, &proof[..proof.len() - 1]));
		// A count whose tree has another shape (leaf 5 is lifted at the second level of a
		// 6-leaf tree). Counts with the same shape on this leaf's path verify alike: the
		// committed count, not the proof, fixes the tree a validator samples from.
		assert!(!verify(&tree.root(), 6, 5, &leaf, &proof));
		assert!(!verify(&tree.root(), 9, 9, &leaf, &proof));
	}

	#[test]
	fn an_inner_node_cannot_pass_as_a_leaf() {
		let artifacts = artifacts(4);
		let tree = tree(&artifacts);
		// The left child of the root, with the right child as its proof, at index 0.
		let inner = tree.levels[1][0];
		assert!(!verify(&tree.root(), 4, 0, &inner, &[tree.levels[1][1]]));
	}
}
