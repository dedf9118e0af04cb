//! Property tests of the channels' sum tree and allowance (`channel.rs`).
//!
//! The sum tree: for any receipts, every receipt's proof verifies against the root and the
//! total, and returns the cost before it; each point of the total falls in exactly the
//! receipt whose interval holds it; a proof never verifies for another receipt, another
//! place or another total. The allowance: a committee's allowances never sum above the
//! deposit, whatever the split of its slots. The sample rule: a settlement's samples never
//! cost its validators' share more than it pays, at worst at the executor's target, in
//! expectation in the lottery.

use gonka_primitives::{
	channel::{
		allowance, answers_cost, most_samples, paid_target, verify_receipt, FinishReason, Receipt,
		SumTree,
	},
	H256,
};
use polkadot_sdk::sp_arithmetic::Perbill;
use proptest::{collection::vec, prelude::*};

fn receipt(seq: u32, cost: u128) -> Receipt {
	Receipt {
		channel: 1,
		seq,
		nonce: u64::from(seq),
		attempt: 0,
		request_hash: H256::repeat_byte(1),
		prompt_hash: H256::repeat_byte(2),
		output_hash: H256::repeat_byte(3),
		prompt_tokens: 1,
		completion_tokens: 1,
		finish: FinishReason::Length,
		seed: 0,
		cost,
	}
}

/// Up to 40 receipts' costs (zero included), whose total never overflows.
fn costs() -> impl Strategy<Value = Vec<u128>> {
	vec(prop_oneof![1 => Just(0u128), 3 => 1..=1_000u128, 2 => 0..=u128::from(u64::MAX)], 1..=40)
}

proptest! {
	#[test]
	fn every_receipt_proves_its_interval_in_the_total(costs in costs()) {
		let receipts: Vec<Receipt> =
			costs.iter().enumerate().map(|(i, cost)| receipt(i as u32, *cost)).collect();
		let tree = SumTree::from_receipts(&receipts).expect("no overflow");
		let root = tree.root();
		let count = receipts.len() as u64;
		prop_assert_eq!(root.sum, costs.iter().sum::<u128>());
		let mut before = 0u128;
		for r in &receipts {
			let proof = tree.proof(u64::from(r.seq)).expect("a leaf");
			prop_assert_eq!(verify_receipt(&root.hash, root.sum, count, r, &proof), Some(before));
			prop_assert_eq!(verify_receipt(&root.hash, root.sum.wrapping_add(1), count, r, &proof), None);
			let mut other = r.clone();
			other.cost = r.cost.wrapping_add(1);
			prop_assert_eq!(verify_receipt(&root.hash, root.sum, count, &other, &proof), None);
			if r.cost > 0 {
				prop_assert_eq!(tree.leaf_at(before), Some(u64::from(r.seq)));
				prop_assert_eq!(tree.leaf_at(before + r.cost - 1), Some(u64::from(r.seq)));
			}
			before += r.cost;
		}
		prop_assert_eq!(tree.leaf_at(root.sum), None);
	}

	#[test]
	fn a_committees_allowances_never_exceed_its_deposit(
		slots in vec(0u32..=64, 1..=64),
		deposited in any::<u128>(),
	) {
		let committee: u32 = slots.iter().sum::<u32>().clamp(1, 64);
		// The slots as drawn: at most `committee` in all.
		let mut left = committee;
		let mut total = 0u128;
		for held in slots {
			let held = held.min(left);
			left -= held;
			total = total.checked_add(allowance(held, deposited, committee as u8)).expect("no overflow");
		}
		prop_assert!(total <= deposited);
	}
}

proptest! {
	/// `paid_target`: the executor's target when the share pays every answer at worst;
	/// else refused if the tail's own part of the share does not pay the tail's answers,
	/// and otherwise never above the target, with the lottery's expected tree answers (two
	/// a sample, `t'·N` samples) within the rest of the share, and the highest such rate.
	#[test]
	fn a_settlements_samples_cost_no_more_than_its_share_pays(
		target in (0..=1_000_000_000u32).prop_map(Perbill::from_parts),
		receipts in 0..=5_000u32,
		tail in 0..=16u32,
		share in prop_oneof![0..=10_000u128, 0..=u128::from(u64::MAX)],
		tail_part in 0..=1_000u32,
		fee in prop_oneof![Just(0u128), 1..=1_000u128, 1..=u128::from(u32::MAX)],
	) {
		let tail_share = share / 1_000 * u128::from(tail_part);
		let most = u32::try_from(most_samples(target, receipts)).unwrap();
		let full = answers_cost(most + tail, fee);
		match paid_target(target, receipts, tail, (share, tail_share), fee) {
			None => prop_assert!(share < full && tail_share < answers_cost(tail, fee)),
			Some(paid) if share >= full => prop_assert_eq!(paid, target),
			Some(paid) => {
				prop_assert!(paid <= target);
				prop_assert!(tail_share >= answers_cost(tail, fee));
				// In parts per billion of an answer.
				let rest = (share - tail_share) * 1_000_000_000;
				let cost = |parts: u32| u128::from(parts) * u128::from(receipts) * 2 * fee;
				prop_assert!(cost(paid.deconstruct()) <= rest, "{paid:?} of {receipts}");
				prop_assert!(paid == target || cost(paid.deconstruct() + 1) > rest);
			}
		}
	}
}
