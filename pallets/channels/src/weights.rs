//! The weights of the pallet's calls and hooks. The runtime's come from the benchmarks
//! (`runtime/src/weights/pallet_channels.rs`); `()` is for tests.

use polkadot_sdk::frame_support::weights::Weight;

/// The weights of the calls and hooks.
pub trait WeightInfo {
	/// `open_channel`.
	fn open_channel() -> Weight;
	/// `top_up`.
	fn top_up() -> Weight;
	/// `close_channel`.
	fn close_channel() -> Weight;
	/// Drawing a committee of `k` slots, each draw redrawn `MAX_DRAWS` times, and
	/// finalizing the channel when no slot was filled (the worst case).
	fn draw_committee(k: u32) -> Weight;
	/// Finalizing a channel.
	fn finalize_channel() -> Weight;
	/// `on_initialize` with nothing to draw or finalize.
	fn on_initialize_idle() -> Weight;
	/// `settle` with a voucher and `t` tail claims.
	fn settle(t: u32) -> Weight;
	/// `settle`'s authorize rule with a voucher and `t` tail claims.
	fn authorize_settle(t: u32) -> Weight;
	/// `submit_verdicts` with `n` verdicts, each on a settlement of its own (the worst case).
	fn submit_verdicts(n: u32) -> Weight;
	/// `submit_verdicts`' authorize rule with `n` verdicts, each on a settlement of its own.
	fn authorize_verdicts(n: u32) -> Weight;
	/// Closing a settlement's verdict window (in `on_initialize`).
	fn close_settlement() -> Weight;
	/// `set_params`.
	fn set_params() -> Weight;
	/// `report_failure` (a mismatch with the longest proof).
	fn report_failure() -> Weight;
	/// `report_failure`'s `authorize` rule.
	fn authorize_failure() -> Weight;
	/// `vote_receipt`.
	fn vote_receipt() -> Weight;
	/// `vote_receipt`'s `authorize` rule.
	fn authorize_vote() -> Weight;
	/// Ending a dispute (`MAX_JURORS` votes removed, an invalidation's moves, `MAX_PASSERS`
	/// passers fined).
	fn end_dispute() -> Weight;
	/// `waive_channel` at its worst: the last waiver of a committee of `MAX_COMMITTEE_SLOTS`,
	/// which finalizes the channel and takes it off a full queue.
	fn waive_channel() -> Weight;
	/// `waive_channel`'s `authorize` rule.
	fn authorize_waiver() -> Weight;
	/// Ending a challenge the jury did not uphold (`MAX_JURORS` votes removed, the fee to
	/// `FeeTo`).
	fn end_challenge() -> Weight;
	/// `challenge_receipt` (a vouchered receipt with the longest proof).
	fn challenge_receipt() -> Weight;
	/// `refute_unavailable` (ending the dispute: `MAX_JURORS` votes removed, the fine).
	fn refute_unavailable() -> Weight;
	/// `refute_unavailable`'s `authorize` rule.
	fn authorize_refute() -> Weight;
	/// `report_missed_samples` showing `n` samples, each of a settlement of its own (the
	/// worst case).
	fn report_missed_samples(n: u32) -> Weight;
	/// `report_missed_samples`' `authorize` rule showing `n` samples, each of a settlement
	/// of its own.
	fn authorize_missed(n: u32) -> Weight;
	/// `submit_verdicts` with `n` second answers, each on a settlement of its own.
	fn submit_second_verdicts(n: u32) -> Weight;
	/// `submit_verdicts`' `authorize` rule with `n` second answers.
	fn authorize_second_verdicts(n: u32) -> Weight;
	/// `report_failure` as a second answer, with the longest proof.
	fn report_second_failure() -> Weight;
	/// `report_failure`'s `authorize` rule as a second answer, with the longest proof.
	fn authorize_second_failure() -> Weight;
	/// Pruning a closed settlement's record (in `on_initialize`).
	fn prune_settlement() -> Weight;
	/// Clearing `n` marks of a period (in `on_initialize`).
	fn clear_marks(n: u32) -> Weight;
	/// Clearing `n` validators' pays for a period (in `on_initialize`).
	fn clear_pays(n: u32) -> Weight;
	/// `show_pass` with a batch of `n` verdicts, the pass shown last, on a second
	/// failure's dispute (both draws checked), taking the place of a passer shown before.
	fn show_pass(n: u32) -> Weight;
	/// `show_pass`'s `authorize` rule with a batch of `n` verdicts.
	fn authorize_show_pass(n: u32) -> Weight;
}

impl WeightInfo for () {
	fn submit_second_verdicts(_n: u32) -> Weight {
		Weight::zero()
	}
	fn authorize_second_verdicts(_n: u32) -> Weight {
		Weight::zero()
	}
	fn report_second_failure() -> Weight {
		Weight::zero()
	}
	fn authorize_second_failure() -> Weight {
		Weight::zero()
	}
	fn open_channel() -> Weight {
		Weight::zero()
	}
	fn top_up() -> Weight {
		Weight::zero()
	}
	fn close_channel() -> Weight {
		Weight::zero()
	}
	fn draw_committee(_k: u32) -> Weight {
		Weight::zero()
	}
	fn finalize_channel() -> Weight {
		Weight::zero()
	}
	fn on_initialize_idle() -> Weight {
		Weight::zero()
	}
	fn settle(_t: u32) -> Weight {
		Weight::zero()
	}
	fn authorize_settle(_t: u32) -> Weight {
		Weight::zero()
	}
	fn submit_verdicts(_n: u32) -> Weight {
		Weight::zero()
	}
	fn authorize_verdicts(_n: u32) -> Weight {
		Weight::zero()
	}
	fn close_settlement() -> Weight {
		Weight::zero()
	}
	fn set_params() -> Weight {
		Weight::zero()
	}
	fn report_failure() -> Weight {
		Weight::zero()
	}
	fn authorize_failure() -> Weight {
		Weight::zero()
	}
	fn vote_receipt() -> Weight {
		Weight::zero()
	}
	fn authorize_vote() -> Weight {
		Weight::zero()
	}
	fn end_dispute() -> Weight {
		Weight::zero()
	}
	fn waive_channel() -> Weight {
		Weight::zero()
	}
	fn authorize_waiver() -> Weight {
		Weight::zero()
	}
	fn end_challenge() -> Weight {
		Weight::zero()
	}
	fn challenge_receipt() -> Weight {
		Weight::zero()
	}
	fn refute_unavailable() -> Weight {
		Weight::zero()
	}
	fn authorize_refute() -> Weight {
		Weight::zero()
	}
	fn report_missed_samples(_n: u32) -> Weight {
		Weight::zero()
	}
	fn authorize_missed(_n: u32) -> Weight {
		Weight::zero()
	}
	fn prune_settlement() -> Weight {
		Weight::zero()
	}
	fn clear_marks(_n: u32) -> Weight {
		Weight::zero()
	}
	fn clear_pays(_n: u32) -> Weight {
		Weight::zero()
	}
	fn show_pass(_n: u32) -> Weight {
		Weight::zero()
	}
	fn authorize_show_pass(_n: u32) -> Weight {
		Weight::zero()
	}
}
