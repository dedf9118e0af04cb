//! Which PoC leaves a validator checks (`protocol.md`, "Validation").
//!
//! Validator `v`'s leaf indices for host `h`, model `m` in an epoch are the first
//! `min(N, count)` distinct values of
//!
//! ```text
//! u64_le(blake2_256("gonka/poc-sample/v1" ‖ genesis_hash ‖ hash(block S+G) ‖ v ‖ h ‖ u32_le(m) ‖ u32_le(j))[0..8]) mod count
//! ```
//!
//! for `j = 0, 1, …`, where block `S+G` is the first block after PoC generation ends: its
//! hash does not exist while hosts compute, so no host can know which nonces will be
//! checked. `v` and `h` are the 32 bytes of the account ids.

use crate::{hash_concat, u64_le_prefix, HostId, ModelId, NonceCount, H256};
use alloc::{collections::BTreeSet, vec::Vec};

/// The domain of the sample hash.
pub const SAMPLE_DOMAIN: &[u8] = b"gonka/poc-sample/v1";

/// What the sample of one (validator, host, model) in one epoch is drawn from.
#[derive(Clone, Copy, Debug)]
pub struct SampleSeed<'a> {
	/// The chain's genesis hash.
	pub genesis_hash: &'a H256,
	/// The hash of block `S+G`, the first after PoC generation.
	pub generation_end_hash: &'a H256,
	/// The validating host.
	pub validator: &'a HostId,
	/// The host whose commitment is checked.
	pub host: &'a HostId,
	/// The model of the commitment.
	pub model: ModelId,
}

impl SampleSeed<'_> {
	/// Draw `j` of the formula, before `mod count`.
	pub fn draw(&self, j: u32) -> u64 {
		u64_le_prefix(&hash_concat(&[
			SAMPLE_DOMAIN,
			self.genesis_hash.as_bytes(),
			self.generation_end_hash.as_bytes(),
			self.validator.as_ref(),
			self.host.as_ref(),
			&self.model.to_le_bytes(),
			&j.to_le_bytes(),
		]))
	}

	/// The leaf indices to check in a commitment of `count` leaves, at most `n` of them.
	///
	/// When `count ≤ n` every leaf is checked and the result is `0..count` in order: the same
	/// set the formula yields, without drawing a coupon collector's worth of hashes. Otherwise
	/// the indices come in draw order.
	pub fn leaf_indices(&self, count: NonceCount, n: u32) -> Vec<NonceCount> {
		if count <= u64::from(n) {
			return (0..count).collect();
		}
		let mut indices = Vec::with_capacity(n as usize);
		let mut seen = BTreeSet::new();
		let mut j: u32 = 0;
		// `count > n`, so each draw is new with probability above 1 - n/count and the loop
		// ends after about n draws; `j` never wraps in practice (2^32 draws).
		while (indices.len() as u32) < n {
			let index = self.draw(j) % count;
			if seen.insert(index) {
				indices.push(index);
			}
			j = j.wrapping_add(1);
		}
		indices
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn account(byte: u8) -> HostId {
		HostId::new([byte; 32])
	}

	static GENESIS: H256 = H256::repeat_byte(1);
	static GENERATION_END: H256 = H256::repeat_byte(2);
	static VALIDATOR: HostId = HostId::new([3; 32]);
	static HOST: HostId = HostId::new([4; 32]);

	/// Genesis `0x01…`, block `S+G` `0x02…`, validator `0x03…`, host `0x04…`.
	fn seed(model: ModelId) -> SampleSeed<'static> {
		SampleSeed {
			genesis_hash: &GENESIS,
			generation_end_hash: &GENERATION_END,
			validator: &VALIDATOR,
			host: &HOST,
			model,
		}
	}

	#[test]
	fn sample_follows_the_spec_formula() {
		let seed = seed(7);
		let mut data = b"gonka/poc-sample/v1".to_vec();
		data.extend_from_slice(&[1u8; 32]);
		data.extend_from_slice(&[2u8; 32]);
		data.extend_from_slice(&[3u8; 32]);
		data.extend_from_slice(&[4u8; 32]);
		data.extend_from_slice(&7u32.to_le_bytes());
		data.extend_from_slice(&0u32.to_le_bytes());
		let expected = u64::from_le_bytes(crate::hash(&data)[..8].try_into().unwrap()) % 1_000_000;
		assert_eq!(seed.leaf_indices(1_000_000, 200)[0], expected);
	}

	#[test]
	fn sample_is_distinct_in_range_and_of_size_n() {
		let seed = seed(0);
		for count in [201u64, 250, 400, 10_000, u64::MAX] {
			let indices = seed.leaf_indices(count, 200);
			assert_eq!(indices.len(), 200, "count {count}");
			assert!(indices.iter().all(|i| *i < count));
			assert_eq!(indices.iter().collect::<BTreeSet<_>>().len(), 200);
		}
	}

	#[test]
	fn small_commitments_are_checked_whole() {
		let seed = seed(0);
		assert_eq!(seed.leaf_indices(0, 200), Vec::<u64>::new());
		assert_eq!(seed.leaf_indices(5, 200), vec![0, 1, 2, 3, 4]);
		assert_eq!(seed.leaf_indices(200, 200).len(), 200);
	}

	#[test]
	fn sample_depends_on_block_hash_chain_validator_host_and_model() {
		let base = seed(0);
		let sample = base.leaf_indices(1 << 40, 20);
		let (other_hash, other_account) = (H256::repeat_byte(9), account(9));
		for changed in [
			SampleSeed { generation_end_hash: &other_hash, ..base },
			SampleSeed { genesis_hash: &other_hash, ..base },
			SampleSeed { validator: &other_account, ..base },
			SampleSeed { host: &other_account, ..base },
			SampleSeed { model: 1, ..base },
		] {
			assert_ne!(changed.leaf_indices(1 << 40, 20), sample);
		}
		assert_eq!(base.leaf_indices(1 << 40, 20), sample, "deterministic");
	}
}
