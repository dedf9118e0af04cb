//! The weights of the pallet's calls, `authorize` rules and hooks: the [`WeightInfo`]
//! trait (the runtime's implementation is generated from `benchmarking.rs`), and the
//! weights composed from it that the calls are charged: the timer work a call leaves for
//! later blocks, and what validating and voting may pay out.

use super::*;
use polkadot_sdk::frame_support::{traits::Get, weights::Weight};

/// The proof size a hand-charged storage access adds: about what the benchmarks estimate
/// for an account-keyed entry (`System::Account`: 2,603 bytes).
const ENTRY_PROOF: u64 = 2_700;

/// The weights of the pallet's calls and hooks.
pub trait WeightInfo {
	/// `request` with a prompt of `p` bytes (it queues the request; the draw is a timer).
	fn request(p: u32) -> Weight;
	/// `finish` with `t` token ids and `b` bytes of text.
	fn finish(t: u32, b: u32) -> Weight;
	/// Validating a `finish` transaction (its `authorize` rule).
	fn authorize_finish(t: u32, b: u32) -> Weight;
	/// `validate`, the worst case (it opens or closes a vote).
	fn validate() -> Weight;
	/// Validating a `validate` transaction.
	fn authorize_validate() -> Weight;
	/// `vote`, the worst case (it closes the vote).
	fn vote() -> Weight;
	/// Validating a `vote` transaction.
	fn authorize_vote() -> Weight;
	/// `report_missing`.
	fn report_missing() -> Weight;
	/// Validating a `report_missing` transaction.
	fn authorize_report_missing() -> Weight;
	/// `set_params`.
	fn set_params() -> Weight;
	/// `on_initialize` with no timer due.
	fn on_initialize_idle() -> Weight;
	/// One assignment timer that reassigns (a miss and the most draws), served from its
	/// queue.
	fn timer_refusal() -> Weight;
	/// One assignment timer that expires its request (a full refund), served from its queue.
	fn timer_expiry() -> Weight;
	/// One validation-window timer: the request closes.
	fn timer_validation() -> Weight;
	/// One vote timer: the vote closes with an invalidation (the dearer outcome).
	fn timer_vote() -> Weight;
	/// One prune timer removing `v` validation reports and votes.
	fn timer_prune(v: u32) -> Weight;
	/// A timer whose request has moved on.
	fn timer_skip() -> Weight;
	/// One draw timer: a queued request's executor found in `d` draws and assigned.
	fn timer_draw(d: u32) -> Weight;
	/// Settling one host's record of an old epoch.
	fn settle_host() -> Weight;
	/// Paying the validators' share of a validated request's cost, `v` of its reports read
	/// (all passing: each one a payment to a validator with no record in the epoch yet).
	fn pay_validators(v: u32) -> Weight;
}

/// Weights for tests: zero everywhere.
impl WeightInfo for () {
	fn request(_p: u32) -> Weight {
		Weight::zero()
	}
	fn finish(_t: u32, _b: u32) -> Weight {
		Weight::zero()
	}
	fn authorize_finish(_t: u32, _b: u32) -> Weight {
		Weight::zero()
	}
	fn validate() -> Weight {
		Weight::zero()
	}
	fn authorize_validate() -> Weight {
		Weight::zero()
	}
	fn vote() -> Weight {
		Weight::zero()
	}
	fn authorize_vote() -> Weight {
		Weight::zero()
	}
	fn report_missing() -> Weight {
		Weight::zero()
	}
	fn authorize_report_missing() -> Weight {
		Weight::zero()
	}
	fn set_params() -> Weight {
		Weight::zero()
	}
	fn on_initialize_idle() -> Weight {
		Weight::zero()
	}
	fn timer_refusal() -> Weight {
		Weight::zero()
	}
	fn timer_expiry() -> Weight {
		Weight::zero()
	}
	fn timer_validation() -> Weight {
		Weight::zero()
	}
	fn timer_vote() -> Weight {
		Weight::zero()
	}
	fn timer_prune(_v: u32) -> Weight {
		Weight::zero()
	}
	fn timer_skip() -> Weight {
		Weight::zero()
	}
	fn timer_draw(_d: u32) -> Weight {
		Weight::zero()
	}
	fn settle_host() -> Weight {
		Weight::zero()
	}
	fn pay_validators(_v: u32) -> Weight {
		Weight::zero()
	}
}

impl<T: Config> Pallet<T> {
	/// The timer work a call leaves for later blocks, charged to the call (and so paid by
	/// its fee and counted against the block that admits it): `request` leaves its
	/// executor draw (one draw: more only when drawn hosts have left since the formation)
	/// and an assignment timer that is skipped when the executor finishes in time; `finish` a
	/// validation window that closes and a prune; `validate` possibly a vote's end (and
	/// a passing report its payment at the close: [`Self::report_weight`]).
	/// Reassignments and expiries are paid from the request's timer deposit
	/// ([`Self::timer_deposit`]); they and more than one payment per passing report are
	/// the exception and wait within `TimerBudget`.
	pub fn prepaid_timers(scheduled: Timer) -> Weight {
		match scheduled {
			Timer::Draw => Weights::<T>::timer_draw(1),
			Timer::Assignment => Weights::<T>::timer_skip(),
			Timer::Validation => {
				Weights::<T>::timer_validation().saturating_add(Weights::<T>::timer_prune(0))
			}
			Timer::Vote => Weights::<T>::timer_vote(),
			Timer::Prune => Weights::<T>::timer_prune(0),
		}
	}

	/// `request`'s weight with a prompt of `prompt_bytes`: the call and the timers it
	/// leaves (its draw, its assignment timer).
	pub fn request_weight(prompt_bytes: u32) -> Weight {
		Weights::<T>::request(prompt_bytes)
			.saturating_add(Self::prepaid_timers(Timer::Draw))
			.saturating_add(Self::prepaid_timers(Timer::Assignment))
	}

	/// `validate`'s weight: a report that `opened` a vote prepays its end; a `passed` one
	/// prepays its validator's payment when the request closes validated; closing a vote
	/// now paid validators after reading `read` reports. Declared with all of them and
	/// the most reports, refunded to what happened.
	pub fn report_weight(opened: bool, passed: bool, read: u32) -> Weight {
		let vote_end = if opened { Self::prepaid_timers(Timer::Vote) } else { Weight::zero() };
		let mut paid = Self::paid_weight(read).saturating_add(Self::fined_weight(read));
		if passed {
			paid = paid.max(Weights::<T>::pay_validators(1));
		}
		Weights::<T>::validate()
			.saturating_add(vote_end)
			.saturating_add(paid)
			.saturating_add(Self::duty_total_weight())
	}

	/// `finish`'s weight with `t` tokens and `b` bytes of text: its benchmarked weight, the
	/// model's end tokens read for the completeness rule (since its last benchmark run:
	/// `end_tokens_weight`) and the validation window's end it schedules.
	pub fn finish_weight(t: u32, b: u32) -> Weight {
		Weights::<T>::finish(t, b)
			.saturating_add(Self::end_tokens_weight())
			.saturating_add(Self::prepaid_timers(Timer::Validation))
	}

	/// Validating a `finish` transaction: its benchmarked weight and the model's end tokens.
	pub fn authorize_finish_weight(t: u32, b: u32) -> Weight {
		Weights::<T>::authorize_finish(t, b).saturating_add(Self::end_tokens_weight())
	}

	/// Reading the model's end tokens (one registry entry), which `finish` does since its
	/// last benchmark run: added to its benchmarked weight until the next run measures it.
	pub(crate) fn end_tokens_weight() -> Weight {
		<T as polkadot_sdk::frame_system::Config>::DbWeight::get().reads(1)
	}

	/// `report_missing`'s weight.
	pub fn missing_weight() -> Weight {
		Weights::<T>::report_missing().saturating_add(Self::duty_total_weight())
	}

	/// Counting a validation duty in the epoch's totals (`EpochTotals`, one read and one
	/// write), which `validate` and `report_missing` do since their last benchmark run:
	/// added to their benchmarked weights until the next run measures it with them.
	pub(crate) fn duty_total_weight() -> Weight {
		<T as polkadot_sdk::frame_system::Config>::DbWeight::get().reads_writes(1, 1)
	}

	/// `vote`'s weight when closing the vote read `read` reports to pay validators (and
	/// fine the rejected ones).
	pub fn vote_weight(read: u32) -> Weight {
		Weights::<T>::vote()
			.saturating_add(Self::paid_weight(read))
			.saturating_add(Self::fined_weight(read))
	}

	/// The payment of validators after reading `read` reports (nothing if none was read).
	pub(crate) fn paid_weight(read: u32) -> Weight {
		if read == 0 {
			Weight::zero()
		} else {
			Weights::<T>::pay_validators(read)
		}
	}

	/// The fines of rejected reports among `read` reports: each reads its sender's ledger
	/// entry and writes its reputation and its fine (since the last benchmark run, by hand:
	/// three reads and two writes of entries the benchmarks size at about 2.6 KiB of proof
	/// each). Only a vote closed by a vote (`vote`, or `validate` while the vote is open)
	/// rejects reports: a vote that ends with its window has less than half valid, and the
	/// validation window's end has no vote.
	pub(crate) fn fined_weight(read: u32) -> Weight {
		<T as polkadot_sdk::frame_system::Config>::DbWeight::get()
			.reads_writes(3, 2)
			.saturating_add(Weight::from_parts(0, 3 * ENTRY_PROOF))
			.saturating_mul(u64::from(read))
	}

	/// An assignment timer's fee moved from the escrow to the community pool (since the
	/// timers' last benchmark run, by hand: the developer's and the pool's accounts and
	/// the developer's holds, read and written).
	pub(crate) fn timer_charge_weight() -> Weight {
		<T as polkadot_sdk::frame_system::Config>::DbWeight::get()
			.reads_writes(3, 3)
			.saturating_add(Weight::from_parts(0, 3 * ENTRY_PROOF))
	}

	/// A fine forfeited when an epoch settles: the fine read and removed, the pool's
	/// account read and written (by hand, per host settled).
	pub(crate) fn settle_fine_weight() -> Weight {
		<T as polkadot_sdk::frame_system::Config>::DbWeight::get()
			.reads_writes(2, 2)
			.saturating_add(Weight::from_parts(0, 2 * ENTRY_PROOF))
	}

	/// The reports, votes and missed validations a prune removes within `room`:
	/// `PruneBatch`, fewer if they do not fit (at least one: a prune is served only when
	/// one removal fits), the rest on later blocks. So a closed request's prune never needs
	/// room for a whole batch, which the queues served before it would rarely leave.
	pub(crate) fn prune_batch(room: Weight) -> u32 {
		let base = Weights::<T>::timer_prune(0);
		let item = Weights::<T>::timer_prune(1).saturating_sub(base);
		let left = room.saturating_sub(base);
		let fit = |left: u64, item: u64| left.checked_div(item).unwrap_or(u64::MAX);
		let fits =
			fit(left.ref_time(), item.ref_time()).min(fit(left.proof_size(), item.proof_size()));
		u32::try_from(fits).unwrap_or(u32::MAX).clamp(1, T::PruneBatch::get().max(1))
	}

	/// The most a timer of this kind can cost (a prune: one removal; it removes no more
	/// than fits, [`Self::prune_batch`]).
	pub fn timer_weight(timer: Timer) -> Weight {
		let most_paid = Weights::<T>::pay_validators(T::MaxPaidValidators::get());
		match timer {
			Timer::Draw => Weights::<T>::timer_draw(MAX_DRAWS)
				.saturating_add(Weights::<T>::timer_expiry())
				.saturating_add(Self::timer_charge_weight()),
			Timer::Assignment => Weights::<T>::timer_refusal()
				.max(Weights::<T>::timer_expiry())
				.saturating_add(Self::timer_charge_weight()),
			Timer::Validation => Weights::<T>::timer_validation().saturating_add(most_paid),
			Timer::Vote => Weights::<T>::timer_vote().saturating_add(most_paid),
			Timer::Prune => Weights::<T>::timer_prune(1),
		}
		.max(Weights::<T>::timer_skip())
	}
}
