//! Inference channels against the block's limits, from the runtime's generated weights
//! (`runtime/src/weights/pallet_channels.rs`): the hook's work at its worst case (every
//! block's queues full, every committee of 64 slots drawn at its longest) and how many
//! channels a block opens. No timing is measured here: this test checks the arithmetic of
//! `docs/benchmarks.md` whenever the weights are regenerated. Run with `--nocapture` to
//! print the table.

use gonka_runtime::{configs::RuntimeBlockWeights, weights::pallet_channels::WeightInfo, Runtime};
use pallet_channels::{WeightInfo as _, MAX_COMMITTEE_SLOTS};
use polkadot_sdk::frame_support::{
	dispatch::DispatchClass,
	traits::Get,
	weights::{constants::WEIGHT_REF_TIME_PER_SECOND, Weight},
};

type Weights = WeightInfo<Runtime>;

fn percent(part: u64, whole: u64) -> f64 {
	part as f64 * 100.0 / whole as f64
}

/// One row: a load as a share of `limit`.
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

/// The committees a block draws at the most: `MaxOpensPerBlock` channels sharing
/// `MaxDrawSlotsPerBlock` slots (the draw's weight is linear in the slots, so how they
/// share them does not matter; each has one slot at least and 64 at most).
fn worst_draws() -> Vec<u32> {
	let most: u32 = <Runtime as pallet_channels::Config>::MaxOpensPerBlock::get();
	let slots: u32 = <Runtime as pallet_channels::Config>::MaxDrawSlotsPerBlock::get();
	let channels = most.min(slots);
	(0..channels)
		.map(|i| (slots / channels + u32::from(i < slots % channels)).min(MAX_COMMITTEE_SLOTS))
		.collect()
}

#[test]
fn the_channel_hook_at_its_worst_case_fits_its_share_of_a_block_and_closes_keep_up() {
	let most: u32 = <Runtime as pallet_channels::Config>::MaxOpensPerBlock::get();
	assert!(most > 0 && most <= pallet_channels::MAX_QUEUE);
	// A block's queues full: its committees drawn (each finalized at once, as if nobody
	// served its model, the dearer way), `most` channels finalized, its verdict windows
	// closed and its disputes ended.
	let draws = worst_draws();
	let closes: u32 = <Runtime as pallet_channels::Config>::MaxClosesPerBlock::get();
	let disputes: u32 = <Runtime as pallet_channels::Config>::MaxDisputesPerBlock::get();
	let hook = draws
		.iter()
		.map(|k| Weights::draw_committee(*k).saturating_add(Weights::finalize_channel()))
		.fold(Weights::on_initialize_idle(), |sum, draw| sum.saturating_add(draw))
		.saturating_add(Weights::finalize_channel().saturating_mul(most.into()))
		.saturating_add(Weights::close_settlement().saturating_mul(closes.into()))
		// As many closed records pruned, and a period's marks cleared.
		.saturating_add(Weights::prune_settlement().saturating_mul(closes.into()))
		.saturating_add(Weights::clear_marks(pallet_channels::MARK_CLEARS))
		// And a period's pays (`PeriodPays`), as many at most.
		.saturating_add(Weights::clear_pays(pallet_channels::MARK_CLEARS))
		// Two cursors (the unavailable payloads' queue, the other disputes), each ending
		// `disputes` a block at its dearest end and looking at one more that is not due,
		// the queue's places read and removed too, and their seeds.
		.saturating_add(
			Weights::end_dispute()
				.max(Weights::end_challenge())
				.saturating_mul(2 * (u64::from(disputes) + 1))
				.saturating_add(
					<Runtime as polkadot_sdk::frame_system::Config>::DbWeight::get()
						.reads_writes(u64::from(disputes) + 1, 2 * (u64::from(disputes) + 1)),
				),
		);
	let block = RuntimeBlockWeights::get().max_block;
	println!("| channels' hook | ref time | proof size | % of block ref time | % of block proof |");
	println!("|---|---|---|---|---|");
	let (time, proof) = row(
		&format!(
			"{} draws of {} slots, {most} finalizations, {closes} verdict windows closed, \
			 {closes} records pruned, {} marks and as many pays cleared, 2 × {disputes} \
			 disputes ended",
			draws.len(),
			draws.iter().sum::<u32>(),
			pallet_channels::MARK_CLEARS
		),
		hook,
		block,
	);
	// Under 30% of the ref time and 35% of the proof: the closes and the prunes of as many
	// records (the goal's settlements; both run at once at a steady full load; a prune
	// returns what the second round did not pay, a transfer), the marks' and pays'
	// clearing and the disputes' ends (8 a block by each cursor, each fining its shown
	// passers) beside the draws. The proof's bound was 30% until the second rounds and the
	// contradicted passes (`docs/benchmarks.md`).
	assert!(time < 30.0 && proof < 35.0, "the channels' hook: {time:.1}% / {proof:.1}%");
	// The closes keep up with the settlements of the throughput goal: 2,770 inferences a
	// second at 100 receipts a settlement, in 6-second blocks.
	let goal = (2_770u32 * 6).div_ceil(100);
	assert!(closes >= goal, "{closes} closes a block, the goal settles {goal}");
	// The largest committee fits a block's draws.
	let slots: u32 = <Runtime as pallet_channels::Config>::MaxDrawSlotsPerBlock::get();
	assert!(slots >= MAX_COMMITTEE_SLOTS);
}

/// The gateways keep a channel open per developer and model, each opened at most once per
/// `MaxChannelBlocks` (an hour): the hook's rate sustains this many open at once.
const CONCURRENT_CHANNELS: u32 = 5_000;

#[test]
fn the_hook_rate_keeps_5000_channels_of_an_hour_open_and_a_block_holds_that_rate_of_openings() {
	let most: u32 = <Runtime as pallet_channels::Config>::MaxOpensPerBlock::get();
	let longest: u32 = <Runtime as pallet_channels::Config>::MaxChannelBlocks::get();
	let sustained = most.saturating_mul(longest);
	println!("{most} openings a block: {sustained} channels of {longest} blocks open at once");
	assert!(sustained >= CONCURRENT_CHANNELS, "{sustained} channels open at once");
	// `open_channel` prepays its draw and its finalization; a block of normal transactions
	// holds the openings the hook draws in a block with room to spare.
	let class = RuntimeBlockWeights::get().get(DispatchClass::Normal).clone();
	let limit = class.max_total.expect("a normal limit");
	let draws = worst_draws();
	let openings = draws
		.iter()
		.map(|k| {
			class
				.base_extrinsic
				.saturating_add(Weights::open_channel())
				.saturating_add(Weights::draw_committee(*k))
				.saturating_add(Weights::finalize_channel())
		})
		.fold(Weight::zero(), |sum, open| sum.saturating_add(open));
	println!("| openings | ref time | proof size | % of normal ref time | % of normal proof |");
	println!("|---|---|---|---|---|");
	let (time, proof) = row(
		&format!("{} openings of {} slots", draws.len(), draws.iter().sum::<u32>()),
		openings,
		limit,
	);
	assert!(time < 50.0 && proof < 50.0, "a block's openings: {time:.1}% / {proof:.1}%");
}
