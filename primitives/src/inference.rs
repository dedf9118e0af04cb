//! The rules of inference (`protocol.md`, "Inference") that the runtime and the worker
//! compute alike: escrow and cost, the choice of the executor, which validators check a
//! request, how often an executor is checked, the invalidation test (SPRT) and the
//! per-block price adjustment.
//!
//! Integer and fixed-point arithmetic only: every node and every worker reaches the same
//! numbers. Logarithms (for the SPRT steps and the traffic scale) come from [`log2_q32`],
//! a binary logarithm with 32 fractional bits computed by repeated squaring.

use crate::{hash_concat, HostId, H256};
use polkadot_sdk::{
	sp_arithmetic::{
		helpers_128bit::multiply_by_rational_with_rounding, PerThing, Perbill, Rounding,
	},
	sp_core::{U256, U512},
};

/// A request's id: its index in the chain's request counter.
pub type RequestId = u64;

/// The highest sampling temperature a request may ask for, in thousandths (2.0).
pub const MAX_TEMPERATURE_MILLI: u32 = 2_000;

/// How the executor samples a request's completion. The sampler's seed is not a parameter:
/// it comes from the request id, so validators replay the same draws.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	codec::Encode,
	codec::Decode,
	codec::DecodeWithMemTracking,
	scale_info::TypeInfo,
	codec::MaxEncodedLen,
)]
pub struct SamplingParams {
	/// Softmax temperature in thousandths; `0` is greedy. At most [`MAX_TEMPERATURE_MILLI`].
	pub temperature_milli: u32,
	/// The nucleus mass, in `(0, 1]`; `1` keeps every token.
	pub top_p: Perbill,
}

impl SamplingParams {
	/// Greedy decoding.
	pub const GREEDY: SamplingParams =
		SamplingParams { temperature_milli: 0, top_p: Perbill::from_percent(100) };

	/// Whether a request may ask for these: a temperature up to 2.0 and a non-empty nucleus.
	pub fn is_valid(&self) -> bool {
		self.temperature_milli <= MAX_TEMPERATURE_MILLI && !self.top_p.is_zero()
	}
}

/// The escrow a request holds: `(prompt_bytes + template_overhead + max_tokens) × price`
/// (a prompt byte is an upper bound on its tokens). `None` if it overflows.
pub fn escrow(
	prompt_bytes: u32,
	template_overhead: u32,
	max_tokens: u32,
	price: u128,
) -> Option<u128> {
	let tokens = u128::from(prompt_bytes)
		.checked_add(u128::from(template_overhead))?
		.checked_add(u128::from(max_tokens))?;
	tokens.checked_mul(price)
}

/// What a finished request costs: `(prompt_tokens + completion_tokens) × price`.
pub fn cost(prompt_tokens: u32, completion_tokens: u32, price: u128) -> Option<u128> {
	(u128::from(prompt_tokens) + u128::from(completion_tokens)).checked_mul(price)
}

// ---- a complete completion --------------------------------------------------------------

/// How a complete completion ended (`protocol.md`, "Inference" 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
	/// Its last token is one of the model's end tokens: the model ended its turn there.
	EndToken,
	/// It has exactly `max_tokens` tokens, none of them an end token: the request's limit.
	MaxTokens,
}

/// The tokens SmolLM2's chat template adds around one user turn:
/// `<|im_start|>user\n` before the prompt, `<|im_end|>\n<|im_start|>assistant\n` after. The
/// default model's `template_overhead` on chain; the worker's tests check, on its real
/// tokenizer, that a templated prompt never has more tokens than its bytes plus this, so a
/// request whose bytes, this and `max_tokens` fit the context always fits it.
pub const SMOLLM2_TEMPLATE_OVERHEAD: u32 = 9;

/// Why a prompt cannot be served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadPrompt {
	/// Not UTF-8 text.
	NotUtf8,
	/// Empty, or only whitespace: there is nothing to answer.
	Blank,
}

/// The prompt rule, the same on chain (`request` is refused otherwise) and in the worker
/// (which renders the text into the model's chat template): a prompt is UTF-8 text with
/// at least one character that is not whitespace (Unicode `White_Space`, as `str::trim`).
/// A request the chain accepts is one the worker serves, so no executor takes a miss for
/// a prompt it could not take.
pub fn prompt_text(prompt: &[u8]) -> Result<&str, BadPrompt> {
	let text = core::str::from_utf8(prompt).map_err(|_| BadPrompt::NotUtf8)?;
	if text.trim().is_empty() {
		return Err(BadPrompt::Blank);
	}
	Ok(text)
}

/// Why a completion is not complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unfinished {
	/// No tokens at all.
	Empty,
	/// Fewer than `max_tokens` tokens and no end token last: the executor stopped early.
	Truncated,
	/// An end token before the last position: the completion went on past its end.
	TokensAfterEnd,
	/// More than `max_tokens` tokens.
	TooLong,
}

/// The completeness rule, the same on chain (`finish` is refused otherwise) and in the
/// validator's replay: a completion is complete when its last token is one of the model's
/// `end_tokens` (and no other token is) or when it has exactly `max_tokens` tokens and no
/// end token. An executor that returns nothing, or stops after a few tokens, is not paid
/// for it; one that appends an end token early is caught by the replay, whose sampler
/// would not have drawn it there.
pub fn completion_end(
	token_ids: &[u32],
	max_tokens: u32,
	end_tokens: &[u32],
) -> Result<Ended, Unfinished> {
	let Some((last, body)) = token_ids.split_last() else { return Err(Unfinished::Empty) };
	if token_ids.len() as u64 > u64::from(max_tokens) {
		return Err(Unfinished::TooLong);
	}
	if body.iter().any(|id| end_tokens.contains(id)) {
		return Err(Unfinished::TokensAfterEnd);
	}
	if end_tokens.contains(last) {
		Ok(Ended::EndToken)
	} else if token_ids.len() as u64 == u64::from(max_tokens) {
		Ok(Ended::MaxTokens)
	} else {
		Err(Unfinished::Truncated)
	}
}

// ---- the executor -----------------------------------------------------------------------

/// The domain of the executor draw.
pub const EXECUTOR_DOMAIN: &[u8] = b"gonka/executor/v1";

/// The draw that picks request `request`'s executor on `attempt` (0 for the first
/// assignment, one more per reassignment) from the chain's `randomness`.
pub fn executor_draw(randomness: &H256, request: RequestId, attempt: u32) -> [u8; 32] {
	hash_concat(&[
		EXECUTOR_DOMAIN,
		randomness.as_bytes(),
		&request.to_le_bytes(),
		&attempt.to_le_bytes(),
	])
}

/// Picks an index with probability proportional to its weight: `cumulative[i]` is the sum
/// of the weights `0..=i` (non-decreasing). The draw, a 256-bit big-endian number, is
/// reduced modulo the total (a bias below 2^-128 for totals under 2^128). `None` when the
/// total is zero.
pub fn pick_weighted(cumulative: &[u128], draw: &[u8; 32]) -> Option<usize> {
	let point = pick_point(draw, *cumulative.last()?)?;
	// The first index whose cumulative weight exceeds the point.
	Some(cumulative.partition_point(|&sum| sum <= point))
}

/// The point in `0..total` a draw falls on (the draw, big-endian, modulo `total`); `None`
/// when `total` is zero.
pub fn pick_point(draw: &[u8; 32], total: u128) -> Option<u128> {
	if total == 0 {
		return None;
	}
	Some((U256::from_big_endian(draw) % U256::from(total)).low_u128())
}

// ---- validation sampling ----------------------------------------------------------------

/// The hash a validator's sampling compares: `blake2_256(hash(b_f) ‖ u64_le(r) ‖ v)`, where
/// `b_f` is the block that included the request's `finish` (its hash exists only once that
/// block is sealed, so the executor cannot know its validators in advance).
pub fn validation_draw(finish_block: &H256, request: RequestId, validator: &HostId) -> U256 {
	let validator: &[u8] = validator.as_ref();
	U256::from_big_endian(&hash_concat(&[
		finish_block.as_bytes(),
		&request.to_le_bytes(),
		validator,
	]))
}

/// Whether `validator` validates `request`: `draw < 2^256 × target × power(v) / (P_total −
/// power(executor))`, compared exactly (in 512-bit integers). The executor never validates
/// its own request; a validator without power never validates; with no power besides the
/// executor's nobody does. The expected number of validators is `target`.
#[allow(clippy::too_many_arguments)]
pub fn is_validator(
	finish_block: &H256,
	request: RequestId,
	validator: &HostId,
	executor: &HostId,
	target: Perbill,
	validator_power: u128,
	total_power: u128,
	executor_power: u128,
) -> bool {
	if validator == executor || validator_power == 0 || target.is_zero() {
		return false;
	}
	let others = total_power.saturating_sub(executor_power);
	if others == 0 {
		return false;
	}
	let draw = U512::from(validation_draw(finish_block, request, validator));
	// draw × others × 10^9 < 2^256 × target_parts × power(v)
	let lhs = draw * U512::from(others) * U512::from(Perbill::ACCURACY);
	let rhs = (U512::one() << 256) * U512::from(target.deconstruct()) * U512::from(validator_power);
	lhs < rhs
}

/// Requests per epoch up to which an executor is always checked.
pub const FULL_CHECK_REQUESTS: u64 = 100;
/// Requests per epoch from which a fully reputed executor is checked least.
pub const LEAST_CHECK_REQUESTS: u64 = 10_000;
/// The least `target`: 1% of requests.
pub const LEAST_TARGET: Perbill = Perbill::from_percent(1);
/// The highest reputation.
pub const MAX_REPUTATION: u8 = 100;

/// `target` of the validation sampling for an executor with `reputation` (0–100) that has
/// served `requests` requests this epoch: 1.0 for a new executor (reputation 0) or up to
/// 100 requests, falling to 0.01 at reputation 100 and 10,000 requests. In between it falls
/// linearly with reputation and logarithmically with traffic (each tenfold of traffic
/// counts the same):
/// `target = 1 − 0.99 × (reputation / 100) × log(requests / 100) / log(100)`.
pub fn validation_target(reputation: u8, requests: u64) -> Perbill {
	let reputation = u64::from(reputation.min(MAX_REPUTATION));
	if reputation == 0 || requests <= FULL_CHECK_REQUESTS {
		return Perbill::one();
	}
	let requests = requests.min(LEAST_CHECK_REQUESTS);
	// Traffic's share of the fall, in units of 2^-32.
	let traffic = (log2_q32(requests) - log2_q32(FULL_CHECK_REQUESTS)) as u128;
	let span = (log2_q32(LEAST_CHECK_REQUESTS) - log2_q32(FULL_CHECK_REQUESTS)) as u128;
	let fall = u128::from(Perbill::one().deconstruct() - LEAST_TARGET.deconstruct());
	let fall = multiply_by_rational_with_rounding(
		fall * u128::from(reputation),
		traffic,
		span * 100,
		Rounding::Down,
	)
	.unwrap_or(fall);
	Perbill::from_parts(Perbill::ACCURACY.saturating_sub(fall as u32))
}

// ---- reputation -------------------------------------------------------------------------

/// Clean epochs after which reputation is 100.
pub const EPOCHS_TO_FULL_REPUTATION: u32 = 30;

/// Reputation (0–100) from a count of clean epochs: 100 after 30.
pub fn reputation(clean_epochs: u32) -> u8 {
	(clean_epochs.min(EPOCHS_TO_FULL_REPUTATION) * u32::from(MAX_REPUTATION)
		/ EPOCHS_TO_FULL_REPUTATION) as u8
}

/// The count of clean epochs after an epoch in which the host missed `misses` of its
/// assigned requests: a clean epoch (no miss, not INVALID) adds one (up to 30), each miss
/// takes one off, and an INVALID epoch starts it over.
pub fn next_clean_epochs(clean_epochs: u32, misses: u32, invalid: bool) -> u32 {
	if invalid {
		0
	} else if misses == 0 {
		clean_epochs.saturating_add(1).min(EPOCHS_TO_FULL_REPUTATION)
	} else {
		clean_epochs.saturating_sub(misses)
	}
}

// ---- the invalidation test (SPRT) -------------------------------------------------------

/// Fixed-point unit of log-likelihood ratios: 10^9 is 1.0 (natural log).
pub const LLR_ONE: i64 = 1_000_000_000;
/// The live network's honest invalidation rate `p0` (Gonka: 5%).
pub const LIVE_SPRT_P0: Perbill = Perbill::from_percent(5);
/// The live network's cheating invalidation rate `p1` (Gonka: 10%).
pub const LIVE_SPRT_P1: Perbill = Perbill::from_percent(10);
/// The live network's INVALID boundary: an LLR of 4 (Gonka).
pub const LIVE_SPRT_UPPER: i64 = 4 * LLR_ONE;
/// `ln 2 × 10^15`.
const LN_2: i128 = 693_147_180_559_945;
/// The scale of [`LN_2`].
const LN_2_SCALE: i128 = 1_000_000_000_000_000;

/// The sequential probability ratio test on a host's validations in one epoch: invalidations
/// are Bernoulli with rate `p0` for an honest host and `p1` for a cheater.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sprt {
	/// Added per invalidation: `ln(p1 / p0)`, in units of [`LLR_ONE`].
	pub invalid_step: i64,
	/// Added per passed validation: `ln((1 − p1) / (1 − p0))` (negative).
	pub pass_step: i64,
	/// INVALID at `LLR ≥ upper`.
	pub upper: i64,
	/// The LLR is kept `≥ lower`: Wald's acceptance boundary. Crossing it ends one test
	/// (the host looks honest) and starts the next from there, so a long honest record
	/// cannot be banked to hide later cheating.
	pub lower: i64,
}

/// Why SPRT parameters are refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SprtError {
	/// Needs `0 < p0 < p1 < 1`.
	Rates,
	/// Needs a positive upper boundary.
	Boundary,
}

impl Sprt {
	/// The test for rates `p0 < p1`, INVALID at `LLR ≥ upper` (Gonka: p0 = 0.05, p1 = 0.10,
	/// upper 4.0), kept above `−upper`.
	pub fn new(p0: Perbill, p1: Perbill, upper: i64) -> Result<Sprt, SprtError> {
		if p0.is_zero() || p1 <= p0 || p1 == Perbill::one() {
			return Err(SprtError::Rates);
		}
		if upper <= 0 {
			return Err(SprtError::Boundary);
		}
		let one = u64::from(Perbill::ACCURACY);
		let (p0, p1) = (u64::from(p0.deconstruct()), u64::from(p1.deconstruct()));
		Ok(Sprt {
			invalid_step: ln_ratio(p1, p0),
			pass_step: ln_ratio(one - p1, one - p0),
			upper,
			lower: -upper,
		})
	}

	/// Gonka's live test: p0 = 0.05, p1 = 0.10, INVALID at 4 ([`LIVE_SPRT_P0`],
	/// [`LIVE_SPRT_P1`], [`LIVE_SPRT_UPPER`]).
	pub fn live_network() -> Sprt {
		Sprt::new(LIVE_SPRT_P0, LIVE_SPRT_P1, LIVE_SPRT_UPPER).unwrap_or(Sprt {
			invalid_step: 0,
			pass_step: 0,
			upper: 0,
			lower: 0,
		})
	}

	/// The LLR after one more validation (`invalidated` or passed), kept `≥ lower`.
	pub fn step(&self, llr: i64, invalidated: bool) -> i64 {
		let step = if invalidated { self.invalid_step } else { self.pass_step };
		llr.saturating_add(step).max(self.lower)
	}

	/// Whether the host is INVALID at this LLR.
	pub fn is_invalid(&self, llr: i64) -> bool {
		llr >= self.upper
	}
}

/// `ln(a / b)` in units of [`LLR_ONE`], for `a, b ≥ 1`.
fn ln_ratio(a: u64, b: u64) -> i64 {
	let log2 = i128::from(log2_q32(a)) - i128::from(log2_q32(b));
	// log2 × 2^-32 × ln 2 × 10^9
	let scaled = log2 * LN_2 / (LN_2_SCALE / i128::from(LLR_ONE));
	(scaled >> 32) as i64
}

/// `log2(x)` for `x ≥ 1` with 32 fractional bits (`0` for `x = 0`), exact to within one unit
/// of the last bit: the integer part is the highest set bit, the fraction comes bit by bit
/// from squaring the mantissa.
pub fn log2_q32(x: u64) -> u64 {
	if x == 0 {
		return 0;
	}
	let int = u64::from(63 - x.leading_zeros());
	// The mantissa x / 2^int in [1, 2), with 62 fractional bits.
	let mut mantissa: u128 = (u128::from(x) << 62) >> int;
	let mut fraction: u64 = 0;
	for bit in (0..32).rev() {
		mantissa = (mantissa * mantissa) >> 62;
		if mantissa >= 2 << 62 {
			mantissa >>= 1;
			fraction |= 1 << bit;
		}
	}
	(int << 32) | fraction
}

// ---- price ------------------------------------------------------------------------------

/// How a model's price follows its utilisation, block by block (EIP-1559-like).
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	codec::Encode,
	codec::Decode,
	codec::DecodeWithMemTracking,
	scale_info::TypeInfo,
	codec::MaxEncodedLen,
)]
pub struct PriceRule {
	/// No change from `lower` to `upper` utilisation (Gonka: 40%–60%).
	pub lower: Perbill,
	/// See `lower`.
	pub upper: Perbill,
	/// The largest change per block, reached at 0% and 100% utilisation (Gonka: 2%).
	pub max_change: Perbill,
}

impl PriceRule {
	/// Gonka's live rule: unchanged at 40–60%, at most ±2% per block.
	pub const fn live_network() -> PriceRule {
		PriceRule {
			lower: Perbill::from_percent(40),
			upper: Perbill::from_percent(60),
			max_change: Perbill::from_percent(2),
		}
	}

	/// Whether the rule is usable: `lower ≤ upper` and a change per block below 100%.
	pub fn is_valid(&self) -> bool {
		self.lower <= self.upper && self.max_change < Perbill::one()
	}

	/// The price after `blocks` idle blocks (0% utilisation) from `price`, never below
	/// `floor`: `price × (1 − max_change)^blocks`, the power taken in 18-decimal fixed
	/// point by repeated squaring and the product rounded up (as one step of
	/// [`Self::next_price`] rounds its fall down, so the two agree on one block). O(log
	/// blocks), where applying the blocks one by one would cost one step each.
	pub fn idle_price(&self, price: u128, blocks: u32, floor: u128) -> u128 {
		use polkadot_sdk::sp_arithmetic::{traits::Saturating, FixedPointNumber, FixedU128};
		let price = price.max(floor);
		if blocks == 0 {
			return price;
		}
		let keep = FixedU128::from_perbill(Perbill::one().saturating_sub(self.max_change))
			.saturating_pow(blocks as usize);
		multiply_by_rational_with_rounding(price, keep.into_inner(), FixedU128::DIV, Rounding::Up)
			.unwrap_or(price)
			.max(floor)
	}

	/// The next block's price after a block at `utilisation`, never below `floor`. Above
	/// `upper` the price rises by `max_change × (u − upper) / (1 − upper)`, rounded up (so
	/// a price of one unit can still rise); below `lower` it falls by
	/// `max_change × (lower − u) / lower`, rounded down.
	pub fn next_price(&self, price: u128, utilisation: Perbill, floor: u128) -> u128 {
		let price = price.max(floor);
		let billion = u128::from(Perbill::ACCURACY);
		let max_change = u128::from(self.max_change.deconstruct());
		if utilisation > self.upper {
			let over = u128::from((utilisation.deconstruct()) - self.upper.deconstruct());
			let room = billion - u128::from(self.upper.deconstruct());
			// price × max_change × over / (room × 10^9), rounded up.
			let rise = multiply_by_rational_with_rounding(
				price,
				max_change * over,
				room * billion,
				Rounding::Up,
			)
			.unwrap_or(u128::MAX);
			price.saturating_add(rise)
		} else if utilisation < self.lower {
			let under = u128::from(self.lower.deconstruct() - utilisation.deconstruct());
			let room = u128::from(self.lower.deconstruct());
			let fall = multiply_by_rational_with_rounding(
				price,
				max_change * under,
				room * billion,
				Rounding::Down,
			)
			.unwrap_or(0);
			price.saturating_sub(fall).max(floor)
		} else {
			price
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn sampling_params_allow_greedy_to_temperature_two_with_a_non_empty_nucleus() {
		assert!(SamplingParams::GREEDY.is_valid());
		let hot = SamplingParams { temperature_milli: 2_000, top_p: Perbill::from_percent(90) };
		assert!(hot.is_valid());
		assert!(!SamplingParams { temperature_milli: 2_001, ..hot }.is_valid());
		assert!(!SamplingParams { top_p: Perbill::zero(), ..hot }.is_valid());
	}

	fn host(i: u8) -> HostId {
		HostId::new([i; 32])
	}

	// ---- escrow and cost ----

	#[test]
	fn escrow_is_prompt_bytes_plus_template_overhead_plus_max_tokens_times_price() {
		assert_eq!(escrow(100, 9, 50, 1_000), Some(159_000));
		assert_eq!(escrow(0, 0, 0, 1_000), Some(0));
		assert_eq!(escrow(u32::MAX, u32::MAX, u32::MAX, u128::MAX), None);
	}

	#[test]
	fn cost_is_prompt_tokens_plus_completion_tokens_times_price() {
		assert_eq!(cost(30, 20, 1_000), Some(50_000));
		assert_eq!(cost(1, 1, u128::MAX), None);
	}

	// ---- the executor ----

	#[test]
	fn the_executor_is_picked_in_proportion_to_poc_weight() {
		// Weights 1, 0, 3: cumulative 1, 1, 4. Over 4,000 draws: ≈ 1,000, 0, 3,000.
		let cumulative = [1u128, 1, 4];
		let mut counts = [0u32; 3];
		for request in 0..4_000u64 {
			let draw = executor_draw(&H256::repeat_byte(9), request, 0);
			counts[pick_weighted(&cumulative, &draw).unwrap()] += 1;
		}
		assert_eq!(counts[1], 0, "a host without weight is never picked");
		assert!((850..1_150).contains(&counts[0]), "{counts:?}");
		assert!((2_850..3_150).contains(&counts[2]), "{counts:?}");
	}

	#[test]
	fn the_pick_maps_each_point_to_the_host_whose_range_holds_it() {
		let cumulative = [2u128, 5, 6];
		let at = |point: u8| {
			let mut draw = [0u8; 32];
			draw[31] = point;
			pick_weighted(&cumulative, &draw).unwrap()
		};
		assert_eq!((at(0), at(1), at(2), at(4), at(5), at(6)), (0, 0, 1, 1, 2, 0));
		assert_eq!(pick_weighted(&[], &[0; 32]), None);
		assert_eq!(pick_weighted(&[0, 0], &[7; 32]), None);
	}

	#[test]
	fn a_reassignment_draws_again() {
		let randomness = H256::repeat_byte(1);
		assert_ne!(executor_draw(&randomness, 5, 0), executor_draw(&randomness, 5, 1));
		assert_ne!(executor_draw(&randomness, 5, 0), executor_draw(&randomness, 6, 0));
	}

	// ---- validation sampling ----

	#[test]
	fn the_executor_never_validates_its_own_request() {
		let block = H256::repeat_byte(3);
		for request in 0..100 {
			assert!(!is_validator(&block, request, &host(1), &host(1), Perbill::one(), 10, 20, 10));
		}
	}

	#[test]
	fn with_target_one_and_one_other_host_that_host_always_validates() {
		let block = H256::repeat_byte(3);
		for request in 0..100 {
			assert!(is_validator(&block, request, &host(2), &host(1), Perbill::one(), 10, 20, 10));
		}
	}

	#[test]
	fn validators_are_sampled_in_proportion_to_power_with_target_expected_in_all() {
		// Executor 1 (power 100); validators 2, 3, 4 with power 100, 300, 600 (others 1,000);
		// target 0.5: expected validations per request 0.05, 0.15, 0.30, 0.5 in all.
		let block = H256::repeat_byte(4);
		let powers = [(2u8, 100u128), (3, 300), (4, 600)];
		let mut counts = [0u32; 3];
		let requests = 20_000u64;
		for request in 0..requests {
			for (i, (v, power)) in powers.iter().enumerate() {
				if is_validator(
					&block,
					request,
					&host(*v),
					&host(1),
					Perbill::from_percent(50),
					*power,
					1_100,
					100,
				) {
					counts[i] += 1;
				}
			}
		}
		let expect = [1_000.0, 3_000.0, 6_000.0];
		for (count, expected) in counts.iter().zip(expect) {
			let deviation = (f64::from(*count) - expected).abs() / expected;
			assert!(deviation < 0.1, "{counts:?}");
		}
	}

	#[test]
	fn validation_sampling_depends_on_the_finish_block() {
		let chosen = |byte| {
			(0..64u64)
				.filter(|&r| {
					is_validator(
						&H256::repeat_byte(byte),
						r,
						&host(2),
						&host(1),
						Perbill::from_percent(50),
						1,
						2,
						1,
					)
				})
				.collect::<alloc::vec::Vec<_>>()
		};
		assert_ne!(chosen(1), chosen(2));
	}

	#[test]
	fn nobody_validates_without_power_or_without_other_power() {
		let block = H256::repeat_byte(5);
		assert!(!is_validator(&block, 1, &host(2), &host(1), Perbill::one(), 0, 20, 10));
		assert!(!is_validator(&block, 1, &host(2), &host(1), Perbill::one(), 10, 10, 10));
		assert!(!is_validator(&block, 1, &host(2), &host(1), Perbill::zero(), 10, 20, 10));
	}

	#[test]
	fn the_sampling_comparison_is_exact_at_the_boundary() {
		// With power(v) / others = 1 / 2 and target 1: sampled iff draw < 2^255.
		let block = H256::repeat_byte(6);
		for request in 0..200 {
			let draw = validation_draw(&block, request, &host(2));
			let expected = draw < (U256::one() << 255);
			assert_eq!(
				is_validator(&block, request, &host(2), &host(1), Perbill::one(), 5, 20, 10),
				expected
			);
		}
	}

	// ---- target and reputation ----

	#[test]
	fn a_new_executor_or_one_with_at_most_100_requests_is_always_checked() {
		assert_eq!(validation_target(0, 1_000_000), Perbill::one());
		assert_eq!(validation_target(100, 100), Perbill::one());
		assert_eq!(validation_target(100, 0), Perbill::one());
	}

	#[test]
	fn a_fully_reputed_executor_with_10000_requests_is_checked_one_time_in_100() {
		assert_eq!(validation_target(100, 10_000), Perbill::from_percent(1));
		assert_eq!(validation_target(100, 1_000_000), Perbill::from_percent(1));
	}

	#[test]
	fn target_falls_with_reputation_and_with_each_tenfold_of_traffic() {
		// Reputation 100, 1,000 requests: half of the fall: 1 − 0.99 / 2 = 0.505.
		let target = validation_target(100, 1_000);
		assert!(target.deconstruct().abs_diff(505_000_000) <= 1, "{target:?}");
		// Reputation 50, 10,000 requests: the same.
		let target = validation_target(50, 10_000);
		assert!(target.deconstruct().abs_diff(505_000_000) <= 1, "{target:?}");
		let mut previous = Perbill::one();
		for requests in [200, 500, 1_000, 5_000, 10_000] {
			let target = validation_target(80, requests);
			assert!(target < previous, "{requests}: {target:?}");
			previous = target;
		}
	}

	#[test]
	fn reputation_reaches_100_after_30_clean_epochs_and_falls_with_misses() {
		assert_eq!(reputation(0), 0);
		assert_eq!(reputation(15), 50);
		assert_eq!(reputation(30), 100);
		assert_eq!(reputation(1_000), 100);
		let mut clean = 0;
		for _ in 0..40 {
			clean = next_clean_epochs(clean, 0, false);
		}
		assert_eq!(clean, 30);
		assert_eq!(next_clean_epochs(clean, 3, false), 27);
		assert_eq!(next_clean_epochs(2, 5, false), 0);
		assert_eq!(next_clean_epochs(30, 0, true), 0);
	}

	// ---- SPRT ----

	#[test]
	fn log2_is_exact_to_the_last_bit() {
		for x in [1u64, 2, 3, 5, 10, 100, 1_000, 10_000, 950_000_000, 1_000_000_000, u64::MAX] {
			let expected = (x as f64).log2() * 4_294_967_296.0;
			let got = log2_q32(x) as f64;
			assert!((got - expected).abs() <= 2.0 + expected * 1e-15, "{x}: {got} vs {expected}");
		}
		assert_eq!(log2_q32(1), 0);
		assert_eq!(log2_q32(1 << 40), 40 << 32);
	}

	#[test]
	fn sprt_steps_are_ln_p1_over_p0_and_ln_q1_over_q0() {
		let sprt = Sprt::live_network();
		// ln 2 = 0.693147181, ln(0.90 / 0.95) = −0.054067221.
		assert!((sprt.invalid_step - 693_147_181).abs() <= 2, "{sprt:?}");
		assert!((sprt.pass_step + 54_067_221).abs() <= 2, "{sprt:?}");
		assert_eq!((sprt.upper, sprt.lower), (4 * LLR_ONE, -4 * LLR_ONE));
	}

	#[test]
	fn six_invalidations_in_a_row_make_a_host_invalid_five_do_not() {
		let sprt = Sprt::live_network();
		let mut llr = 0;
		for _ in 0..5 {
			llr = sprt.step(llr, true);
		}
		assert!(!sprt.is_invalid(llr), "5 × ln 2 = 3.47 < 4");
		llr = sprt.step(llr, true);
		assert!(sprt.is_invalid(llr), "6 × ln 2 = 4.16 ≥ 4");
	}

	#[test]
	fn passes_lower_the_llr_but_never_below_the_lower_boundary() {
		let sprt = Sprt::live_network();
		let mut llr = 0;
		for _ in 0..10_000 {
			llr = sprt.step(llr, false);
		}
		assert_eq!(llr, sprt.lower);
		// From the floor, a cheater still trips the test within a bounded number of checks.
		let mut steps = 0;
		while !sprt.is_invalid(llr) {
			llr = sprt.step(llr, true);
			steps += 1;
		}
		assert_eq!(steps, 12, "8 / ln 2 = 11.5");
	}

	#[test]
	fn sprt_refuses_rates_out_of_order() {
		let p = Perbill::from_percent;
		assert_eq!(Sprt::new(p(10), p(5), LLR_ONE), Err(SprtError::Rates));
		assert_eq!(Sprt::new(p(0), p(5), LLR_ONE), Err(SprtError::Rates));
		assert_eq!(Sprt::new(p(5), p(100), LLR_ONE), Err(SprtError::Rates));
		assert_eq!(Sprt::new(p(5), p(10), 0), Err(SprtError::Boundary));
	}

	// ---- price ----

	#[test]
	fn price_is_unchanged_between_40_and_60_percent_utilisation() {
		let rule = PriceRule::live_network();
		for u in [40, 50, 60] {
			assert_eq!(rule.next_price(1_000_000, Perbill::from_percent(u), 1), 1_000_000);
		}
	}

	#[test]
	fn price_moves_at_most_2_percent_per_block() {
		let rule = PriceRule::live_network();
		assert_eq!(rule.next_price(1_000_000, Perbill::one(), 1), 1_020_000);
		assert_eq!(rule.next_price(1_000_000, Perbill::zero(), 1), 980_000);
		// Halfway between 60% and 100%: +1%; halfway between 0% and 40%: −1%.
		assert_eq!(rule.next_price(1_000_000, Perbill::from_percent(80), 1), 1_010_000);
		assert_eq!(rule.next_price(1_000_000, Perbill::from_percent(20), 1), 990_000);
	}

	#[test]
	fn idle_blocks_compound_the_largest_fall_and_one_agrees_with_a_step() {
		let rule = PriceRule::live_network();
		for price in [1u128, 49, 50, 1_000, 123_456_789, u128::MAX / 3] {
			assert_eq!(rule.idle_price(price, 1, 1), rule.next_price(price, Perbill::zero(), 1));
			assert_eq!(rule.idle_price(price, 0, 1), price);
		}
		// 0.98^10 = 0.8170728...: 1,000,000 → 817,073 (rounded up).
		assert_eq!(rule.idle_price(1_000_000, 10, 1), 817_073);
		// Applied block by block the rounding differs by at most one unit per block.
		let mut stepped = 1_000_000u128;
		for _ in 0..10 {
			stepped = rule.next_price(stepped, Perbill::zero(), 1);
		}
		assert!(stepped.abs_diff(817_073) <= 10, "{stepped}");
		// A long idle stretch ends at the floor, whatever the price.
		assert_eq!(rule.idle_price(u128::MAX, u32::MAX, 7), 7);
		assert_eq!(rule.idle_price(1_000, 10_000, 900), 900);
	}

	#[test]
	fn price_never_falls_below_the_floor_and_can_rise_from_one_unit() {
		let rule = PriceRule::live_network();
		assert_eq!(rule.next_price(100, Perbill::zero(), 99), 99);
		assert_eq!(rule.next_price(5, Perbill::zero(), 10), 10);
		assert_eq!(rule.next_price(1, Perbill::one(), 1), 2);
		assert_eq!(rule.next_price(u128::MAX, Perbill::one(), 1), u128::MAX);
	}

	#[test]
	fn a_price_rule_with_its_band_inverted_is_refused() {
		let mut rule = PriceRule::live_network();
		assert!(rule.is_valid());
		rule.lower = Perbill::from_percent(70);
		assert!(!rule.is_valid());
		let rule = PriceRule { max_change: Perbill::one(), ..PriceRule::live_network() };
		assert!(!rule.is_valid());
	}

	#[test]
	fn a_completion_is_complete_only_at_an_end_token_or_at_max_tokens() {
		let end = [0, 2];
		assert_eq!(completion_end(&[5, 6, 2], 16, &end), Ok(Ended::EndToken));
		assert_eq!(completion_end(&[2], 16, &end), Ok(Ended::EndToken));
		assert_eq!(completion_end(&[5, 6, 7], 3, &end), Ok(Ended::MaxTokens));
		assert_eq!(completion_end(&[5, 6, 0], 3, &end), Ok(Ended::EndToken));
		assert_eq!(completion_end(&[], 16, &end), Err(Unfinished::Empty));
		assert_eq!(completion_end(&[5, 6, 7], 16, &end), Err(Unfinished::Truncated));
		assert_eq!(completion_end(&[5, 2, 7, 2], 16, &end), Err(Unfinished::TokensAfterEnd));
		assert_eq!(completion_end(&[5, 6, 7, 2], 3, &end), Err(Unfinished::TooLong));
		// A model without end tokens: only a full-length completion is complete.
		assert_eq!(completion_end(&[5, 6, 2], 3, &[]), Ok(Ended::MaxTokens));
		assert_eq!(completion_end(&[5, 6, 2], 4, &[]), Err(Unfinished::Truncated));
	}
}
