//! Inference lifecycles per block against the block's limits, from the runtime's generated
//! weights (`runtime/src/weights/pallet_inference.rs`) and the real encoded size of the
//! transactions. No timing is measured here: the weights come from the benchmarks, and this
//! test checks the arithmetic of `docs/benchmarks.md` whenever they are regenerated. Run
//! with `--nocapture` to print the table.
//!
//! A lifecycle is what one request costs the chain from `request` to its pruning: the
//! developer's `request` (its executor found in one draw, as when no host has left since
//! the last formation: the weight charged for more draws is refunded), the executor's
//! `finish`, `target` validation reports on average, and three timers served later in
//! `on_initialize` (the assignment timer, skipped because the request finished; the
//! validation window closing, paying each passing validator its share; the prune), which
//! `request`, `finish` and the passing reports are charged for.
//! Settlement is per host and epoch, not per request.

use gonka_primitives::{
	bounds,
	duty::{InferenceFinish, InferenceValidation},
	inference::SamplingParams,
	HostId,
};
use gonka_runtime::{
	configs::{InferenceTimerBudget, RuntimeBlockLength, RuntimeBlockWeights},
	weights::pallet_inference::WeightInfo as InferenceWeights,
	Runtime, RuntimeCall, TxExtension, UncheckedExtrinsic,
};
use pallet_inference::{Timer, WeightInfo};
use polkadot_sdk::{
	frame_support::{
		dispatch::DispatchClass,
		traits::Get,
		weights::{constants::WEIGHT_REF_TIME_PER_SECOND, Weight},
	},
	sp_core::sr25519,
	sp_runtime::{generic::Era, BoundedVec, Perbill},
	*,
};

/// Gonka's classic on-chain ceiling, in inferences per second (the anchor).
const GONKA_PER_SECOND: f64 = 277.0;
/// Seconds per block.
const BLOCK_SECONDS: f64 = 6.0;

/// A transaction of `call`: signed (a developer's `request`) or general without a signer
/// (a worker's duty, as `gonka-client` sends it).
fn encoded_len(call: RuntimeCall, signed: bool) -> u64 {
	use codec::Encode;
	let extension: TxExtension = (
		frame_system::AuthorizeCall::<Runtime>::new(),
		frame_system::CheckNonZeroSender::<Runtime>::new(),
		frame_system::CheckSpecVersion::<Runtime>::new(),
		frame_system::CheckTxVersion::<Runtime>::new(),
		frame_system::CheckGenesis::<Runtime>::new(),
		frame_system::CheckEra::<Runtime>::from(Era::Immortal),
		frame_system::CheckNonce::<Runtime>::from(0),
		frame_system::CheckWeight::<Runtime>::new(),
		pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(0),
	)
		.into();
	let general = UncheckedExtrinsic::new_transaction(call, extension).encode().len() as u64;
	// A signed transaction adds its address (33 bytes) and signature (65 bytes).
	if signed {
		general + 98
	} else {
		general
	}
}

/// The payload sizes of one kind of request.
#[derive(Clone, Copy)]
struct Shape {
	name: &'static str,
	prompt_bytes: u32,
	tokens: u32,
	text_bytes: u32,
	/// Validation reports per request (`target`).
	target: Perbill,
}

/// The chain's cost of one lifecycle of `shape`: (transactions, timers, encoded bytes).
fn lifecycle(shape: Shape) -> (Weight, Weight, u64) {
	let base = RuntimeBlockWeights::get().get(DispatchClass::Normal).base_extrinsic;
	let request = base.saturating_add(InferenceWeights::<Runtime>::request(shape.prompt_bytes));
	let finish = base
		.saturating_add(InferenceWeights::<Runtime>::authorize_finish(
			shape.tokens,
			shape.text_bytes,
		))
		.saturating_add(InferenceWeights::<Runtime>::finish(shape.tokens, shape.text_bytes));
	let validate = base
		.saturating_add(InferenceWeights::<Runtime>::authorize_validate())
		.saturating_add(InferenceWeights::<Runtime>::validate());
	let validations = Weight::from_parts(
		shape.target * validate.ref_time(),
		shape.target * validate.proof_size(),
	);
	// The timers a lifecycle leaves: its draw, its assignment timer (skipped: it finished in time),
	// its validation window closing with the passing validators' payments, its prune. The
	// calls are charged for them (a passing report for its payment).
	let payment = InferenceWeights::<Runtime>::pay_validators(1);
	let payments =
		Weight::from_parts(shape.target * payment.ref_time(), shape.target * payment.proof_size());
	let timers = pallet_inference::Pallet::<Runtime>::prepaid_timers(Timer::Draw)
		.saturating_add(pallet_inference::Pallet::<Runtime>::prepaid_timers(Timer::Assignment))
		.saturating_add(pallet_inference::Pallet::<Runtime>::prepaid_timers(Timer::Validation))
		.saturating_add(payments);
	let transactions =
		request.saturating_add(finish).saturating_add(validations).saturating_add(timers);

	let request_len = encoded_len(
		RuntimeCall::Inference(pallet_inference::Call::request {
			model: 0,
			prompt: BoundedVec::truncate_from(vec![b'p'; shape.prompt_bytes as usize]),
			max_tokens: shape.tokens,
			params: SamplingParams::GREEDY,
		}),
		true,
	);
	let finish_len = encoded_len(
		RuntimeCall::Inference(pallet_inference::Call::finish {
			executor: HostId::new([1; 32]),
			result: InferenceFinish {
				request: u64::MAX,
				token_ids: BoundedVec::truncate_from(vec![u32::MAX; shape.tokens as usize]),
				text: BoundedVec::truncate_from(vec![b't'; shape.text_bytes as usize]),
				prompt_tokens: u32::MAX,
			},
			signature: sr25519::Signature::from_raw([1; 64]),
		}),
		false,
	);
	let validate_len = encoded_len(
		RuntimeCall::Inference(pallet_inference::Call::validate {
			validator: HostId::new([2; 32]),
			report: InferenceValidation { request: u64::MAX, similarity: Perbill::one() },
			signature: sr25519::Signature::from_raw([1; 64]),
		}),
		false,
	);
	let bytes = request_len + finish_len + shape.target * validate_len;
	(transactions, timers, bytes)
}

/// How many `load`s fit in `limit`, and which dimension binds.
fn fit(load: Weight, limit: Weight) -> (u64, &'static str) {
	let by_time = limit.ref_time() / load.ref_time().max(1);
	let by_proof = limit.proof_size() / load.proof_size().max(1);
	if by_time <= by_proof {
		(by_time, "ref time")
	} else {
		(by_proof, "proof size")
	}
}

const SHAPES: [Shape; 4] = [
	Shape {
		name: "chat: 1 KiB prompt, 256 tokens / 1 KiB out, new hosts (target 1.0)",
		prompt_bytes: 1_024,
		tokens: 256,
		text_bytes: 1_024,
		target: Perbill::one(),
	},
	Shape {
		name: "chat: same, reputed hosts at traffic (target 0.01)",
		prompt_bytes: 1_024,
		tokens: 256,
		text_bytes: 1_024,
		target: Perbill::from_percent(1),
	},
	Shape {
		name: "largest: 8 KiB prompt, 4,096 tokens / 32 KiB out (target 0.01)",
		prompt_bytes: bounds::MAX_PROMPT_BYTES,
		tokens: bounds::MAX_OUTPUT_TOKENS,
		text_bytes: bounds::MAX_OUTPUT_BYTES,
		target: Perbill::from_percent(1),
	},
	Shape {
		name: "payloads off chain: hashes only (target 0.01)",
		prompt_bytes: 32,
		tokens: 0,
		text_bytes: 32,
		target: Perbill::from_percent(1),
	},
];

#[test]
fn inference_lifecycles_per_block_against_gonkas_ceiling() {
	let weights = RuntimeBlockWeights::get();
	let normal = weights.get(DispatchClass::Normal).max_total.expect("a normal limit");
	let block = weights.max_block;
	let normal_length = u64::from(*RuntimeBlockLength::get().max.get(DispatchClass::Normal));
	println!(
		"| request shape | charged ref time | charged proof | bytes | by weight | by length | per block | per second | vs Gonka 277/s |"
	);
	println!("|---|---|---|---|---|---|---|---|---|");
	for shape in SHAPES {
		let (transactions, timers, bytes) = lifecycle(shape);
		// In a steady state a block carries the lifecycles it admits (charged for their
		// timers, within the normal limit) and the timers of earlier ones (in its hooks):
		// both within the block's limit.
		let by_normal = fit(transactions, normal);
		let by_block = fit(transactions.saturating_add(timers), block);
		let (by_tx, tx_bound) = if by_normal.0 <= by_block.0 { by_normal } else { by_block };
		let by_length = normal_length / bytes.max(1);
		let per_block = by_tx.min(by_length);
		let per_second = per_block as f64 / BLOCK_SECONDS;
		println!(
			"| {} | {:.3} ms | {:.1} KiB | {bytes} | {by_tx} ({tx_bound}) | {by_length} | {per_block} | {per_second:.0} | {:.2}x |",
			shape.name,
			transactions.ref_time() as f64 * 1e3 / WEIGHT_REF_TIME_PER_SECOND as f64,
			transactions.proof_size() as f64 / 1024.0,
			per_second / GONKA_PER_SECOND,
		);
		assert!(per_block > 0, "{}: a lifecycle fits in a block", shape.name);
	}
}

#[test]
fn the_timer_budget_keeps_up_with_the_requests_a_block_can_take() {
	// A block full of lifecycles (each charged for its timers) leaves timer work for the
	// next blocks' `on_initialize`; if it were more than the budget serves, the queues
	// would grow for ever. In a steady state a block carries the lifecycles it admits
	// beside the timers of earlier ones in its hooks (frame-system admits transactions
	// only within what the hooks leave of the block), as in the table above.
	let normal =
		RuntimeBlockWeights::get().get(DispatchClass::Normal).max_total.expect("a normal limit");
	let block = RuntimeBlockWeights::get().max_block;
	let budget = InferenceTimerBudget::get();
	// A queue serves a timer only while its worst case fits beside what was used and the
	// room kept for one timer of every later queue: all of them together are budget that
	// a full block may leave unused.
	let inference = pallet_inference::Pallet::<Runtime>::timer_weight;
	let unused =
		Timer::ALL.into_iter().fold(Weight::zero(), |sum, t| sum.saturating_add(inference(t)));
	for shape in SHAPES {
		let (charged, timers, _) = lifecycle(shape);
		let (by_normal, _) = fit(charged, normal);
		let (by_block, _) = fit(charged.saturating_add(timers), block);
		let per_block = by_normal.min(by_block);
		let left = timers.saturating_mul(per_block).saturating_add(unused);
		assert!(
			left.all_lte(budget),
			"{}: {per_block} lifecycles a block leave {left:?} of timers, the budget is {budget:?}",
			shape.name
		);
	}
	// A block of requests only (none finished yet) leaves their draws for the next
	// blocks, served first, in the room the draws have: the budget less one timer of every
	// other queue at its worst case (kept for them) and one draw's worst case (the last
	// draw served must fit whole). A block full of requests is drawn within two blocks,
	// and the most requests that may wait for a draw (`MaxPendingDraws`: more are refused)
	// within three.
	let base = RuntimeBlockWeights::get().get(DispatchClass::Normal).base_extrinsic;
	let kept = [Timer::Assignment, Timer::Validation, Timer::Vote, Timer::Prune]
		.into_iter()
		.fold(inference(Timer::Draw), |kept, timer| kept.saturating_add(inference(timer)));
	let room = budget.saturating_sub(kept);
	for shape in SHAPES {
		let request = base.saturating_add(pallet_inference::Pallet::<Runtime>::request_weight(
			shape.prompt_bytes,
		));
		let (per_block, _) = fit(request, normal);
		let draws = pallet_inference::Pallet::<Runtime>::prepaid_timers(Timer::Draw)
			.saturating_mul(per_block);
		assert!(
			draws.all_lte(room.saturating_mul(2)),
			"{}: {per_block} requests a block leave {draws:?} of draws, two blocks' room is \
			 {:?}",
			shape.name,
			room.saturating_mul(2)
		);
	}
	let pending: u32 = <Runtime as pallet_inference::Config>::MaxPendingDraws::get();
	let most = pallet_inference::Pallet::<Runtime>::prepaid_timers(Timer::Draw)
		.saturating_mul(u64::from(pending));
	assert!(
		most.all_lte(room.saturating_mul(3)),
		"{pending} pending draws: {most:?}, room {room:?}"
	);
}
