//! Proof of Compute for 1,000 hosts against the block's limits, from the runtime's generated
//! weights (`runtime/src/weights/pallet_poc.rs`) and the real encoded size of the duty
//! transactions. No timing is measured here: the weights come from the benchmarks, and this
//! test checks the arithmetic of `docs/benchmarks.md` whenever they are regenerated. Run
//! with `--nocapture` to print the table.

use gonka_primitives::{
	duty::{PocCommit, PocValidation, Verdict},
	HostId, H256,
};
use gonka_runtime::{
	configs::{PocHookBudget, RuntimeBlockLength, RuntimeBlockWeights},
	weights::{pallet_poc::WeightInfo as PocWeights, pallet_rewards::WeightInfo as RewardsWeights},
	Runtime, RuntimeCall, TxExtension, UncheckedExtrinsic,
};
use pallet_poc::WeightInfo;
use pallet_rewards::WeightInfo as _;
use polkadot_sdk::{
	frame_support::{
		dispatch::DispatchClass,
		traits::Get,
		weights::{constants::WEIGHT_REF_TIME_PER_SECOND, Weight},
	},
	sp_core::sr25519,
	sp_runtime::generic::Era,
	*,
};

/// The network size the issue asks for.
const HOSTS: u32 = 1_000;
/// The live network's phases (`protocol.md`, `EpochParams::live_network`), in blocks.
fn live() -> pallet_poc::EpochParams<u32> {
	pallet_poc::EpochParams::live_network()
}

type MaxCommits = <Runtime as pallet_poc::Config>::MaxCommitsPerModel;
type MaxHosts = <Runtime as pallet_poc::Config>::MaxHosts;

fn host(i: u32) -> HostId {
	let mut bytes = [0u8; 32];
	bytes[..4].copy_from_slice(&i.to_le_bytes());
	HostId::new(bytes)
}

/// A general transaction (no signature) of `call`, as `gonka-client` sends it.
fn encoded_len(call: RuntimeCall) -> u64 {
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
	UncheckedExtrinsic::new_transaction(call, extension).encode().len() as u64
}

fn commit_call() -> RuntimeCall {
	RuntimeCall::Poc(pallet_poc::Call::commit_poc {
		host: host(0),
		commit: PocCommit { epoch: 1, model: 0, count: u64::MAX, root: H256::repeat_byte(1) },
		signature: sr25519::Signature::from_raw([1; 64]),
	})
}

fn validation_call(verdicts: u32) -> RuntimeCall {
	let verdicts: Vec<Verdict> =
		(1..=verdicts).map(|i| Verdict { host: host(i), valid: true }).collect();
	RuntimeCall::Poc(pallet_poc::Call::submit_poc_validations {
		validator: host(0),
		validation: PocValidation::<MaxHosts> {
			epoch: 1,
			model: 0,
			verdicts: verdicts.try_into().expect("fewer than MaxHosts"),
		},
		signature: sr25519::Signature::from_raw([1; 64]),
	})
}

/// A transaction's full weight: the base, its `authorize` rule and its call.
fn tx_weight(authorize: Weight, call: Weight) -> Weight {
	let base = RuntimeBlockWeights::get().get(DispatchClass::Normal).base_extrinsic;
	base.saturating_add(authorize).saturating_add(call)
}

struct Limits {
	normal: Weight,
	block: Weight,
	normal_length: u64,
}

fn limits() -> Limits {
	let weights = RuntimeBlockWeights::get();
	Limits {
		normal: weights.get(DispatchClass::Normal).max_total.expect("a normal limit"),
		block: weights.max_block,
		normal_length: u64::from(*RuntimeBlockLength::get().max.get(DispatchClass::Normal)),
	}
}

fn percent(part: u64, whole: u64) -> f64 {
	part as f64 * 100.0 / whole as f64
}

/// One row: what a block carries, as a share of the given limit.
fn row(what: &str, load: Weight, limit: Weight) -> (f64, f64) {
	let (time, proof) = (
		percent(load.ref_time(), limit.ref_time()),
		percent(load.proof_size(), limit.proof_size()),
	);
	println!(
		"| {what} | {:.1} ms | {:.1} KiB | {time:.1}% | {proof:.1}% |",
		load.ref_time() as f64 * 1e3 / WEIGHT_REF_TIME_PER_SECOND as f64,
		load.proof_size() as f64 / 1024.0,
	);
	(time, proof)
}

#[test]
fn the_poc_duties_of_1000_hosts_fit_under_half_of_the_normal_block_limits() {
	let limits = limits();
	println!(
		"| load per block | ref time | proof size | % of normal ref time | % of normal proof |"
	);
	println!("|---|---|---|---|---|");

	// Generation: every host spends its whole commitment budget (the worst case).
	let commits = HOSTS * <MaxCommits as Get<u32>>::get();
	let (generation_blocks, validation_blocks) = (live().poc_generation, live().poc_validation);
	let per_block = commits.div_ceil(generation_blocks);
	let one = tx_weight(
		PocWeights::<Runtime>::authorize_commit_poc(),
		PocWeights::<Runtime>::commit_poc(),
	);
	let commit_len = encoded_len(commit_call());
	let (time, proof) = row(
		&format!("{per_block} commitments ({commits} in {generation_blocks} blocks)"),
		one.saturating_mul(u64::from(per_block)),
		limits.normal,
	);
	assert!(time < 50.0 && proof < 50.0, "commitments: {time:.1}% / {proof:.1}%");
	assert!(u64::from(per_block) * commit_len * 2 < limits.normal_length);

	// Validation: every host sends one batch judging all the others, spread over the phase.
	let verdicts = HOSTS - 1;
	let one = tx_weight(
		PocWeights::<Runtime>::authorize_submit_poc_validations(verdicts),
		PocWeights::<Runtime>::submit_poc_validations(verdicts),
	);
	let batch_len = encoded_len(validation_call(verdicts));
	let per_block = HOSTS.div_ceil(validation_blocks);
	let (time, proof) = row(
		&format!(
			"{per_block} batches of {verdicts} verdicts ({HOSTS} in {validation_blocks} blocks)"
		),
		one.saturating_mul(u64::from(per_block)),
		limits.normal,
	);
	assert!(time < 50.0 && proof < 50.0, "batches: {time:.1}% / {proof:.1}%");
	assert!(u64::from(per_block) * batch_len * 2 < limits.normal_length);
	println!(
		"\nencoded: commitment {commit_len} bytes, batch of {verdicts} verdicts {batch_len} bytes; \
		 normal length limit {} bytes",
		limits.normal_length
	);
	// A burst: every batch at once. The length limit admits this many per block.
	let burst = limits.normal_length / batch_len;
	println!(
		"burst: at most {burst} batches per block by length: {:.1}% of normal ref time \
		 before reclaim, body {:.1}% of the proof limit",
		percent(one.ref_time() * burst, limits.normal.ref_time()),
		percent(batch_len * burst, limits.normal.proof_size()),
	);
}

#[test]
fn the_epoch_transition_of_1000_hosts_fits_under_half_of_a_block() {
	let limits = limits();
	println!("| hook block (n = {HOSTS} commitments) | ref time | proof size | % of block ref time | % of block proof |");
	println!("|---|---|---|---|---|");
	let start = PocWeights::<Runtime>::on_initialize_epoch_start();
	let idle = PocWeights::<Runtime>::on_initialize_idle();
	// Any other block: at most the spread work's budget (formation, rosters, pruning).
	let spread = PocWeights::<Runtime>::on_initialize_idle().saturating_add(PocHookBudget::get());
	for (what, load) in [
		("epoch start", start),
		("a block of spread work (formation, rosters, pruning): its budget", spread),
		("any other block", idle),
	] {
		let (time, proof) = row(what, load, limits.block);
		assert!(time < 50.0 && proof < 50.0, "{what}: {time:.1}% / {proof:.1}%");
	}
}

/// The fixed part and the per-record part of a linear weight.
fn linear(step: impl Fn(u32) -> Weight) -> (Weight, Weight) {
	let base = step(0);
	(base, step(1).saturating_sub(base))
}

/// How many records of a spread step of weight `step(n)` one block's budget holds.
fn records_per_block(step: impl Fn(u32) -> Weight) -> u64 {
	let (base, per) = linear(step);
	let left = PocHookBudget::get().saturating_sub(base);
	(left.ref_time() / per.ref_time().max(1)).min(left.proof_size() / per.proof_size().max(1))
}

/// The blocks `work` takes at `per_block` a block, the worse of ref time and proof.
fn blocks_for(work: Weight, per_block: Weight) -> u64 {
	work.ref_time()
		.div_ceil(per_block.ref_time().max(1))
		.max(work.proof_size().div_ceil(per_block.proof_size().max(1)))
}

#[test]
fn the_spread_work_at_max_hosts_times_max_models_keeps_up_within_its_budget() {
	let pallet_poc::EpochParams {
		epoch_length: epoch_blocks,
		validation_delay: delay_blocks,
		poc_validation: validation_blocks,
		..
	} = live();
	let limits = limits();
	let hosts: u64 = <MaxHosts as Get<u32>>::get().into();
	let models_per_host: u64 =
		<<Runtime as pallet_poc::Config>::MaxModelsPerHost as Get<u32>>::get().into();
	let models: u64 = <<Runtime as pallet_models::Config>::MaxModels as Get<u32>>::get().into();
	// The true worst case: every host commits on every model it may serve.
	let commitments = hosts * models_per_host;
	let budget = PocHookBudget::get();
	let (time, proof) = row("the spread work's budget per block", budget, limits.block);
	assert!(time <= 12.0 && proof <= 15.0, "the budget: {time:.1}% / {proof:.1}%");
	// Rosters: each model's step pays for its roster (`MaxHosts` hosts) read and written,
	// and each commitment its own part. All the work: every model's step once, every
	// commitment once; each block does all but one step's worth of its budget, and splits
	// at most one model's step (paying its base twice).
	let (base, per) = linear(PocWeights::<Runtime>::open_validation);
	assert!(base.saturating_add(per).all_lte(budget), "a roster step exceeds the budget");
	let work = base.saturating_mul(models).saturating_add(per.saturating_mul(commitments));
	let per_block = budget.saturating_sub(base.saturating_mul(2)).saturating_sub(per);
	let blocks = blocks_for(work, per_block);
	println!(
		"rosters: {commitments} commitments of up to {models} models: built in at most \
		 {blocks} blocks (delay {delay_blocks} + validation {validation_blocks})"
	);
	// Validators have at least half of the validation phase with the rosters built.
	assert!(blocks <= u64::from(delay_blocks + validation_blocks / 2), "rosters: {blocks} blocks");
	// Pruning an epoch: its commitments, batches (one per validator and model) and rosters.
	let records = commitments + hosts * models_per_host + models;
	let per_block = records_per_block(PocWeights::<Runtime>::prune_epoch);
	let blocks = records.div_ceil(per_block);
	println!("pruning an epoch: {records} records, {per_block} a block: {blocks} blocks");
	assert!(blocks < u64::from(epoch_blocks) / 10, "an epoch's pruning: {blocks} blocks");
	// A generation of voting power: a power and a departure per host.
	let records = 2 * hosts;
	let per_block = records_per_block(PocWeights::<Runtime>::prune_power_generation);
	let blocks = records.div_ceil(per_block);
	println!("pruning a generation of voting power: {records} records, {per_block} a block: {blocks} blocks");
	assert!(blocks < u64::from(epoch_blocks) / 10, "a generation's pruning: {blocks} blocks");
}

#[test]
fn the_reward_distribution_of_1000_hosts_is_bounded_per_block() {
	let limits = limits();
	let per_block: u32 = <Runtime as pallet_rewards::Config>::MaxPayoutsPerBlock::get();
	// What `pallet_rewards::Pallet::distribute` charges per decided host: the worse of a
	// paid and a slashed host, and the drain of its weight record.
	let per_host = RewardsWeights::<Runtime>::distribute_host()
		.max(RewardsWeights::<Runtime>::distribute_host_slashed())
		.saturating_add(<Runtime as frame_system::Config>::DbWeight::get().reads_writes(1, 1));
	let block = RewardsWeights::<Runtime>::on_initialize_idle()
		.saturating_add(per_host.saturating_mul(per_block.into()))
		.saturating_add(RewardsWeights::<Runtime>::close_epoch());
	println!(
		"| distribution block | ref time | proof size | % of block ref time | % of block proof |"
	);
	println!("|---|---|---|---|---|");
	let (time, proof) = row(&format!("{per_block} hosts decided"), block, limits.block);
	assert!(time < 10.0 && proof < 10.0, "a distribution block: {time:.1}% / {proof:.1}%");
	println!(
		"per host: {:.2} ms, {:.1} KiB; {HOSTS} hosts in {} blocks, {} (MaxHosts) in {}",
		per_host.ref_time() as f64 / 1e9,
		per_host.proof_size() as f64 / 1024.0,
		HOSTS.div_ceil(per_block),
		<MaxHosts as Get<u32>>::get(),
		<MaxHosts as Get<u32>>::get().div_ceil(per_block),
	);
}

#[test]
fn the_expiry_of_a_proposal_every_host_voted_on_is_bounded_per_block() {
	use pallet_models::WeightInfo as _;
	let limits = limits();
	// `pallet-models`'s expiry hook at its worst, whatever the votes (up to `MaxVoters`,
	// every host): a closing, or a batch of deletions, of `EXPIRY_VOTES_PER_BLOCK` votes,
	// plus the hook's reads and the cursor's write (`docs/benchmarks.md`).
	let voters = pallet_models::EXPIRY_VOTES_PER_BLOCK;
	assert!(voters <= <Runtime as pallet_models::Config>::MaxVoters::get());
	let db = <Runtime as frame_system::Config>::DbWeight::get();
	let hook = gonka_runtime::weights::pallet_models::WeightInfo::<Runtime>::close(voters)
		.saturating_add(db.reads_writes(4, 1));
	let (time, proof) = row(&format!("an expiry block ({voters} votes)"), hook, limits.block);
	assert!(time < 10.0 && proof < 10.0, "the expiry hook: {time:.1}% / {proof:.1}%");
}

#[test]
fn the_formation_at_max_hosts_times_max_models_keeps_up_within_its_budget() {
	let hosts: u64 = <MaxHosts as Get<u32>>::get().into();
	let models_per_host: u64 =
		<<Runtime as pallet_poc::Config>::MaxModelsPerHost as Get<u32>>::get().into();
	let models: u64 = <<Runtime as pallet_models::Config>::MaxModels as Get<u32>>::get().into();
	let chunk: u64 = <<Runtime as pallet_poc::Config>::RosterChunk as Get<u32>>::get().into();
	let commitments = hosts * models_per_host;
	let budget = PocHookBudget::get();
	let max_hosts = <MaxHosts as Get<u32>>::get();
	// Every step that runs whole, and one record of every other, fits the budget with the
	// formation's state (read and written every block): none has to run alone, past it.
	let state = <Runtime as frame_system::Config>::DbWeight::get().reads_writes(1, 1);
	let cap = PocWeights::<Runtime>::cap_weights(max_hosts);
	for (what, step) in [
		("a judging step of one commitment", PocWeights::<Runtime>::form_weights(1)),
		("a carrying step of one chunk", PocWeights::<Runtime>::carry_weights(1)),
		(
			"the reward of MaxHosts hosts scheduled (with the forming weights' read)",
			RewardsWeights::<Runtime>::weights_formed(max_hosts).saturating_add(PocWeights::<
				Runtime,
			>::cap_weights(
				0
			)),
		),
		("a model's roster retired", PocWeights::<Runtime>::retire_roster()),
		("a model's roster installed", PocWeights::<Runtime>::install_roster()),
		("MaxHosts weights capped", cap),
		("a power written", PocWeights::<Runtime>::write_power(1)),
	] {
		let step = step.saturating_add(state);
		assert!(step.all_lte(budget), "{what}: {step} above the budget {budget}");
	}
	// Judging: each model's step pays for its roster and executor roster (`MaxHosts` hosts)
	// and the forming weights; each block splits at most one model's step.
	let (base, per) = linear(PocWeights::<Runtime>::form_weights);
	let work = base.saturating_mul(models).saturating_add(per.saturating_mul(commitments));
	let judging =
		blocks_for(work, budget.saturating_sub(base.saturating_mul(2)).saturating_sub(per));
	// Carrying over (an epoch that accepts nobody): every chunk of the rosters in force.
	let chunks = commitments.div_ceil(chunk) + models;
	let carrying = chunks.div_ceil(records_per_block(PocWeights::<Runtime>::carry_weights));
	// Retiring and installing: a model each, whole.
	let per_model = PocWeights::<Runtime>::retire_roster()
		.saturating_add(PocWeights::<Runtime>::install_roster());
	let rosters = blocks_for(per_model.saturating_mul(models), budget.saturating_sub(per_model));
	// Writing the powers: a host each.
	let powers = hosts.div_ceil(records_per_block(PocWeights::<Runtime>::write_power));
	// The reward and the cap: a block each at most.
	let blocks = judging.max(carrying) + rosters + powers + 2;
	println!(
		"formation of {commitments} commitments of up to {models} models: judging {judging} \
		 blocks (carrying over {carrying}), rosters {rosters}, powers {powers}: at most \
		 {blocks} blocks"
	);
	let live = live();
	let inference =
		live.epoch_length - live.poc_generation - live.validation_delay - live.poc_validation;
	// The new weights are in force within the first 5% of the inference phase.
	assert!(blocks * 20 <= u64::from(inference), "the formation: {blocks} blocks");
}
