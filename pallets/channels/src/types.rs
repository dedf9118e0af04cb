//! The pallet's types: a channel's record and what the runtime tells it of the models.

use gonka_primitives::{channel::ChannelTerms, ModelId};
use polkadot_sdk::{frame_support::pallet_prelude::*, sp_runtime::Perbill};

/// The most slots a committee has (`gonka_primitives::channel::MAX_COMMITTEE`).
pub const MAX_COMMITTEE_SLOTS: u32 = gonka_primitives::channel::MAX_COMMITTEE as u32;
/// The bound of a block's queue of draws or finalizations (`MaxOpensPerBlock` at most).
pub const MAX_QUEUE: u32 = 256;
/// The most receipts of one settlement kept as disputed (`Challenged`: challenged by the
/// developer, or reported by a validator with the receipt); a developer challenges no more.
pub const MAX_DISPUTED: u32 = 64;
/// How many blocks from the first one possible a draw or a finalization looks for room.
pub const SCHEDULE_SEARCH: u32 = 16;
/// The most period marks (`PeriodMarks`) one block clears: with a verdict period of `L`
/// blocks, `MARK_CLEARS × L` marks a period, which must exceed the validators that may
/// answer in a period (`integrity_test`: at least `MaxHosts`).
pub const MARK_CLEARS: u32 = 64;

/// What a validator did with a verdict period's samples, noted until the period's report
/// period ends (`PeriodMarks`).
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub enum PeriodMark {
	/// It answered some (a verdict part, a failure report): it is not shown missed. The
	/// duties done noted for the period so far: each answer one, at most `MAX_MISSES` a
	/// period, as many as a period's misses may be shown (so a validator's channel answers
	/// weigh in the downtime test no more than its misses can).
	Answered(u32),
	/// It was shown missed: the samples shown so far, (settlement, sample) in order (at
	/// most `MAX_MISSES`; a later report shows others, so a report of one sample sent
	/// first, by the validator or a friend, does not cap what it is shown).
	Reported(ShownOf),
}

/// The samples shown missed of a validator in a period.
pub type ShownOf = BoundedVec<
	(gonka_primitives::channel::SettlementId, u32),
	ConstU32<{ gonka_primitives::channel::MAX_MISSES }>,
>;

/// What the runtime tells the pallet of a model: its price per token now and the tokens its
/// chat template adds to a prompt (`pallet-inference`'s, in the runtime).
pub trait ChannelPricing {
	/// The model's price per token, `None` if it is not approved for inference.
	fn price(model: ModelId) -> Option<u128>;
	/// The tokens the model's chat template adds to a prompt.
	fn template_overhead(model: ModelId) -> Option<u32>;
	/// A model with a price (benchmarks).
	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_model() -> ModelId;
}

/// The channels' rules governance sets (`set_params`): the open fee, the longest channel,
/// the settle window. Apply to channels opened from then on.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
	serde::Serialize,
	serde::Deserialize,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChannelParams<BlockNumber> {
	/// What opening a channel costs, whatever happens to it (to `FeeTo`).
	pub open_fee: u128,
	/// The longest channel, in blocks (at most the `MaxChannelBlocks` constant).
	pub max_channel_blocks: BlockNumber,
	/// The blocks after a channel's end in which its executors settle; the rest of the
	/// escrow is refunded at its end ([`MIN_SETTLE_WINDOW`] to [`MAX_SETTLE_WINDOW`]).
	pub settle_window: BlockNumber,
}

/// The longest settle window governance may set: a day of 6-second blocks.
pub const MAX_SETTLE_WINDOW: u32 = 14_400;

/// The shortest settle window governance may set: 20 blocks, so that a channel is never
/// finalized before its committee is drawn (a draw waits at most `SCHEDULE_SEARCH` blocks
/// after the opening) and its executors' settlements have blocks to land in.
pub const MIN_SETTLE_WINDOW: u32 = 20;
const _: () = assert!(MIN_SETTLE_WINDOW > SCHEDULE_SEARCH);

/// Where a channel is in its life.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum ChannelStatus {
	/// Requests are served until `ends`.
	#[codec(index = 0)]
	Open,
	/// The developer closed it early (`ends` is when).
	#[codec(index = 1)]
	Closed,
}

/// A channel's record.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct ChannelInfo<AccountId, BlockNumber> {
	/// Who opened it, and whose escrow it holds.
	pub developer: AccountId,
	/// Its terms.
	pub terms: ChannelTerms<BlockNumber>,
	/// The block that opened it (whose hash draws the committee).
	pub opened: BlockNumber,
	/// The first block in which it takes no request: `opened + duration`, or earlier if
	/// the developer closed it.
	pub ends: BlockNumber,
	/// The block that finalizes it (the end of its settle window, counted from its planned
	/// end: closing early moves no finalization).
	pub finalizes: BlockNumber,
	/// The price per token, fixed when it opened.
	pub price: u128,
	/// The escrow deposited, top-ups included.
	pub deposited: u128,
	/// Open, or closed early.
	pub status: ChannelStatus,
	/// The tokens the model's chat template adds to a prompt, fixed when it opened.
	pub template_overhead: u32,
	/// The escrow paid to the committee so far (the rest of `deposited` is held).
	pub settled: u128,
	/// The epoch whose PoC formed the roster the committee was drawn from (0 until it is
	/// drawn): a member stands, and is paid, only if it registered before it
	/// (`pallet_poc::Pallet::stands_in`).
	pub roster_epoch: gonka_primitives::EpochIndex,
}

/// What a committee member has settled of a channel so far.
#[derive(
	Clone,
	Copy,
	Debug,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct SettledInfo {
	/// The receipts its settlements covered: leaves `0..receipts`.
	pub receipts: u32,
	/// The receipts its latest voucher covered.
	pub vouchered: u32,
	/// What it was paid in all (at most its allowance).
	pub paid: u128,
	/// Its settlements of the channel.
	pub settlements: u32,
}

/// What a member's tail claims of a channel were charged (amendment 10's tail fee).
#[derive(
	Clone,
	Copy,
	Debug,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct TailCharge {
	/// The highest total (its voucher's amount and its tail's costs) of the member's
	/// settlements with a tail. A settlement's tail fee is charged on what its total adds
	/// beyond this and beyond its own voucher's amount: money, not leaf numbers, which the
	/// executor writes, so the same receipts are never charged twice however they are
	/// numbered or regrouped.
	pub claimed: u128,
	/// The tail fees charged, in all.
	pub fees: u128,
}

/// The bytes of a settlement's bitmap of answered samples: one bit for each of its at most
/// `MAX_SAMPLES` tree samples and `MAX_TAIL` tail samples.
pub const ANSWERED_BYTES: u32 =
	(gonka_primitives::channel::MAX_SAMPLES + gonka_primitives::channel::MAX_TAIL).div_ceil(8);

/// A settlement, kept until its verdict window closes: what its samples are drawn from,
/// and what its validators answered.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct SettlementRecord<AccountId, BlockNumber> {
	/// The channel.
	pub channel: gonka_primitives::channel::ChannelId,
	/// The channel's developer (an invalidated receipt's cost goes back to it, the channel
	/// may be finalized by then).
	pub developer: AccountId,
	/// The committee member that settled.
	pub executor: AccountId,
	/// The block that included it (whose hash seeds its samples).
	pub at: BlockNumber,
	/// The epoch it was settled in: its outcomes are steps of the executor's invalidation
	/// test in that epoch.
	pub epoch: gonka_primitives::EpochIndex,
	/// The voucher's root (zero without a voucher).
	pub root: gonka_primitives::H256,
	/// The receipts the voucher covers (its tree's leaves).
	pub count: u32,
	/// The cost of the receipts vouchered before (the executor's earlier voucher): tree
	/// samples fall in `from..to`.
	pub from: u128,
	/// The voucher's amount.
	pub to: u128,
	/// The receipts vouchered since the executor's earlier settlement: the tree samples'
	/// count is drawn from them.
	pub receipts: u32,
	/// The tail claims (leaves `count..count + tail`), each checked.
	pub tail: u32,
	/// The digest of the tail receipts' leaves (`gonka_primitives::channel::tail_digest`):
	/// a tail sample's failure shows its receipt against it.
	pub tails: gonka_primitives::H256,
	/// What the settlement paid for its receipts (its fee and tail fee excluded): an
	/// unavailable sample refunds its average receipt, `⌈paid / (receipts + tail)⌉`.
	pub paid: u128,
	/// The validation target of the executor's work when it settled.
	pub target: Perbill,
	/// The power snapshot the validators are drawn from (held until the record closes).
	pub snapshot: gonka_primitives::PowerSnapshot,
	/// The snapshot's total power.
	pub total_power: u128,
	/// The executor's power in the snapshot.
	pub executor_power: u128,
	/// The validators' share of what the settlement paid, held in the pot.
	pub share: u128,
	/// What the pot paid the validators of its samples so far (at most `share`).
	pub validator_paid: u128,
	/// Samples answered with a pass.
	pub passes: u32,
	/// Samples reported failed (each opened a dispute).
	pub fails: u32,
	/// One bit a sample, set once it is answered (sized as the samples are answered).
	pub answered: BoundedVec<u8, ConstU32<ANSWERED_BYTES>>,
}

impl<AccountId, BlockNumber> SettlementRecord<AccountId, BlockNumber> {
	/// Counts `pay` of the validators' share as paid for an answer, never beyond the share
	/// (a sample may have several validators); returns what it pays.
	pub fn pay_answer(&mut self, pay: u128) -> u128 {
		let part = pay.min(self.share.saturating_sub(self.validator_paid));
		self.validator_paid = self.validator_paid.saturating_add(part);
		part
	}

	/// Whether sample `sample` is answered.
	pub fn is_answered(&self, sample: u32) -> bool {
		bit_is_set(&self.answered, sample)
	}

	/// Marks sample `sample` answered; `false` if it is past the bitmap's bound.
	pub fn answer(&mut self, sample: u32) -> bool {
		set_bit(&mut self.answered, sample)
	}
}

impl<BlockNumber> SettlementRecord<gonka_primitives::HostId, BlockNumber> {
	/// Whether the hash rule draws `validator` (of `power` in the record's snapshot) for
	/// sample `sample` on `seed` (`gonka_primitives::channel::validates_sample`, by the
	/// snapshot's powers): never the executor.
	pub fn draws(
		&self,
		seed: &gonka_primitives::H256,
		sample: u32,
		validator: &gonka_primitives::HostId,
		power: u128,
	) -> bool {
		gonka_primitives::channel::validates_sample(
			seed,
			sample,
			validator,
			&self.executor,
			power,
			self.total_power,
			self.executor_power,
		)
	}
}

/// Whether bit `index` of `bits` is set (bits past its end are not).
pub fn bit_is_set(bits: &[u8], index: u32) -> bool {
	let (byte, bit) = ((index / 8) as usize, index % 8);
	bits.get(byte).is_some_and(|bits| bits & (1 << bit) != 0)
}

/// Sets bit `index` of `bits`, growing it as needed; `false` if it is past the bound.
pub fn set_bit<const N: u32>(bits: &mut BoundedVec<u8, ConstU32<N>>, index: u32) -> bool {
	let (byte, bit) = ((index / 8) as usize, index % 8);
	while bits.len() <= byte {
		if bits.try_push(0).is_err() {
			return false;
		}
	}
	match bits.get_mut(byte) {
		Some(bits) => {
			*bits |= 1 << bit;
			true
		}
		None => false,
	}
}

/// The bits of a settlement's samples (`ANSWERED_BYTES`): its answered ones, its failed ones.
pub type SampleBits = BoundedVec<u8, ConstU32<ANSWERED_BYTES>>;

/// The bytes of a second round's bitmaps: one bit for each doubled sample, at most
/// `⌈(MAX_SAMPLES + MAX_TAIL) / SECOND_EVERY⌉`, indexed by `sample / SECOND_EVERY`.
pub const SECOND_BYTES: u32 = (gonka_primitives::channel::MAX_SAMPLES
	+ gonka_primitives::channel::MAX_TAIL)
	.div_ceil(gonka_primitives::channel::SECOND_EVERY)
	.div_ceil(8);

/// A closed settlement, from its window's close to its pruning: what the pruning needs, and
/// its second round (amendment 6, `seconds.rs`): the unpaid share held for the second
/// answers to about a tenth of its samples, drawn from the hash of the window's last block.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct SecondRound<AccountId, BlockNumber> {
	/// The block the settlement is pruned at (`Pallet::prunes_at`).
	pub prunes_at: BlockNumber,
	/// The power snapshot the record pins, released at the pruning.
	pub snapshot: gonka_primitives::PowerSnapshot,
	/// The settlement's executor: what the round does not pay goes back to it.
	pub executor: AccountId,
	/// The settlement's epoch: its ledger waits for the round (an upheld second failure
	/// takes the refund and the bounty from the executor's pending work of it).
	pub epoch: gonka_primitives::EpochIndex,
	/// What the pot holds for the round: the share the window's answers did not take.
	pub held: u128,
	/// What the round's answers were paid so far (at most `held`).
	pub paid: u128,
	/// The doubled samples given a paid second answer, by `sample / SECOND_EVERY`.
	pub answered: BoundedVec<u8, ConstU32<SECOND_BYTES>>,
	/// The doubled samples a second mismatch disputes, by `sample / SECOND_EVERY`.
	pub disputed: BoundedVec<u8, ConstU32<SECOND_BYTES>>,
	/// The doubled samples a second validator reported unavailable, by `sample /
	/// SECOND_EVERY`: apart from the mismatches, so a friend of the executor reporting one
	/// unavailable (and refuted with its own acknowledgement) silences no mismatch.
	pub unavailable: BoundedVec<u8, ConstU32<SECOND_BYTES>>,
}

impl<AccountId, BlockNumber> SecondRound<AccountId, BlockNumber> {
	/// Whether `sample` was given a paid second answer.
	pub fn is_answered(&self, sample: u32) -> bool {
		bit_is_set(&self.answered, sample / gonka_primitives::channel::SECOND_EVERY)
	}

	/// Whether a second mismatch disputes `sample`.
	pub fn is_disputed(&self, sample: u32) -> bool {
		bit_is_set(&self.disputed, sample / gonka_primitives::channel::SECOND_EVERY)
	}

	/// Whether a second validator reported `sample` unavailable.
	pub fn is_unavailable(&self, sample: u32) -> bool {
		bit_is_set(&self.unavailable, sample / gonka_primitives::channel::SECOND_EVERY)
	}

	/// Marks `sample`'s second answer given and pays `pay` for it (never beyond `held`);
	/// returns what it pays: nothing if it was answered before.
	pub fn answer(&mut self, sample: u32, pay: u128) -> u128 {
		if self.is_answered(sample)
			|| !set_bit(&mut self.answered, sample / gonka_primitives::channel::SECOND_EVERY)
		{
			return 0;
		}
		let part = pay.min(self.held.saturating_sub(self.paid));
		self.paid = self.paid.saturating_add(part);
		part
	}

	/// Marks `sample` disputed by a second mismatch, or reported unavailable (`unavailable`);
	/// `false` past the bitmap's bound.
	pub fn dispute(&mut self, sample: u32, unavailable: bool) -> bool {
		let bits = if unavailable { &mut self.unavailable } else { &mut self.disputed };
		set_bit(bits, sample / gonka_primitives::channel::SECOND_EVERY)
	}

	/// Whether a second failure for `unavailable` (or a mismatch) may still be reported on
	/// `sample`: one mismatch a sample, and an unavailable report only before either and
	/// before any second answer (another second validator was served it; a report then
	/// would be paid nothing, so its rejection would take nothing back).
	pub fn may_fail(&self, sample: u32, unavailable: bool) -> bool {
		!self.is_disputed(sample)
			&& (!unavailable || !(self.is_unavailable(sample) || self.is_answered(sample)))
	}
}

/// The most passes one dispute shows contradicted (`forfeits.rs`): a sample expects one
/// validator drawn first and one second. When they are shown, another passer takes the
/// place of the one that forfeits least if it forfeits more, so passers with little pay
/// shown first cannot keep a rubber stamp out. Each is fined in the hook that ends the
/// dispute: two keep its worst case small.
pub const MAX_PASSERS: u32 = 2;
/// How many periods the pays (`PeriodPays`) outlive the marks: a period's are cleared with
/// the marks of the period this many later.
pub const PAYS_KEPT: u32 = 2;

/// The most worker keys a validator signs one verdict period's batches with: a batch of
/// the period signed by another key is refused (`TooManyKeys`), so every batch of the
/// period can be checked against a key kept here, whatever key the validator holds later.
pub const MAX_PERIOD_KEYS: u32 = 2;

/// The worker keys that signed a validator's verdict batches of a period.
pub type PeriodKeys = BoundedVec<polkadot_sdk::sp_core::sr25519::Public, ConstU32<MAX_PERIOD_KEYS>>;

/// A validator's answers to the samples of one verdict period (first and second answers),
/// kept a few periods (`PeriodPays`): what a contradicted pass of that period forfeits,
/// and the keys its verdict batches were signed with (`forfeits.rs`).
#[derive(
	Clone,
	Debug,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct PeriodPay {
	/// The epoch of its latest pay for the period: a forfeit is a fine on its pending work
	/// of it (which holds at least that pay, and is not settled while the dispute is open:
	/// the dispute holds an earlier epoch, its settlement's).
	pub epoch: gonka_primitives::EpochIndex,
	/// What it was paid for the period's answers.
	pub paid: u128,
	/// The worker keys that signed its verdict batches of the period taken on chain.
	pub keys: PeriodKeys,
	/// What contradicted passes forfeited of it so far: a period's pay is forfeited once,
	/// and pay added later is forfeited by a later contradicted pass.
	pub forfeited: u128,
}

/// A validator shown to have signed a pass of a sample that a mismatch disputes.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct Passer<AccountId> {
	/// The validator.
	pub validator: AccountId,
	/// Its pay for the period's answers when it was shown (what it forfeits if that pay
	/// is no longer kept when the dispute ends; the larger of this and the pay then).
	pub forfeit: u128,
	/// The epoch of that pay.
	pub epoch: gonka_primitives::EpochIndex,
}

/// An open mismatch's dispute on a sample (a validator's failure report with the receipt):
/// what a pass of the sample is checked by, and the passers shown so far, which forfeit
/// their pay for the period if the jury invalidates the receipt (`forfeits.rs`).
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct Contradiction<AccountId> {
	/// The settlement's verdict period: the passes are in a batch of it.
	pub period: u32,
	/// The settlement's sample seed (a first validator is drawn on it).
	pub seed: gonka_primitives::H256,
	/// Its second round's seed, if the failure is a second answer (a second validator is
	/// drawn on it; a sample failed in the window is not doubled, so no second pass).
	pub second_seed: Option<gonka_primitives::H256>,
	/// The power of the settlement's snapshot.
	pub total_power: u128,
	/// The executor's power in it.
	pub executor_power: u128,
	/// The validators shown to have passed the sample, each once (at most `MAX_PASSERS`).
	pub passers: BoundedVec<Passer<AccountId>, ConstU32<MAX_PASSERS>>,
}

/// How a dispute ended.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum DisputeOutcome {
	/// The jury found the receipt invalid: its cost back to the developer, a bounty to the
	/// reporter, an invalidation step of the executor's test.
	Invalidated,
	/// The receipt holds up (the jury said so, or found no majority in its window): a
	/// validated step of the executor's test (not for a developer's challenge); the
	/// reporter is fined if the jury rejected its failure (`rejected`; a challenge's fee
	/// goes to the pool either way).
	Validated {
		/// Whether at least half of the jury power (estimated) said valid: the reporter of
		/// a mismatch is fined; the reporter of an unavailable payload pays back its
		/// answer's pay, no more (the jury cannot tell whether the executor served the
		/// reporter too).
		rejected: bool,
	},
	/// The executor showed the reporter's acknowledgement that it delivered the payload
	/// reported unavailable (`refute_unavailable`): a validated step, the reporter fined.
	Refuted,
}

/// What an unavailable payload's open dispute keeps besides its record (`UnavailableReports`).
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct UnavailableReport {
	/// The sample seed of the settlement it is on: a delivery acknowledgement refutes it
	/// only if it names that seed (a settlement id is not unique across forks; the seed,
	/// from its block's hash, is).
	pub seed: gonka_primitives::H256,
	/// What the report's answer paid its reporter: taken back if the jury finds the
	/// payload served (`DisputeOutcome::Validated { rejected: true }`).
	pub paid: u128,
}

/// A failed sample's dispute, kept until its jury's window ends: what its outcome moves,
/// and its jury's tally.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct DisputeRecord<AccountId, BlockNumber> {
	/// The settlement.
	pub settlement: gonka_primitives::channel::SettlementId,
	/// The sample of it that failed (a challenge: the challenged receipt's leaf, `seq`).
	pub sample: u32,
	/// The channel's developer (an invalidation refunds it).
	pub developer: AccountId,
	/// The executor of the receipt.
	pub executor: AccountId,
	/// The validator that reported the failure (a challenge: the developer).
	pub reporter: AccountId,
	/// The settlement's epoch: the outcome is a step of the executor's test there, and the
	/// refund, the bounty and the fine are taken from pending work of it.
	pub epoch: gonka_primitives::EpochIndex,
	/// The epoch of the report: the reporter's pay for the answer is pending work of it,
	/// and a fine is taken from that.
	pub report_epoch: gonka_primitives::EpochIndex,
	/// Why it failed.
	pub reason: gonka_primitives::channel::FailReason,
	/// What an invalidation refunds: the receipt's cost (a mismatch or a challenge shows
	/// the receipt), or the settlement's average receipt (unavailable).
	pub cost: u128,
	/// The block that included the report: its hash seeds the jury; the jury votes until
	/// `at + JuryWindow` (`UnavailableWindow` for an unavailable payload).
	pub at: BlockNumber,
	/// The power snapshot the jurors are drawn from (the settlement's, held once more
	/// until the dispute ends).
	pub snapshot: gonka_primitives::PowerSnapshot,
	/// The power that may sit on the jury: the snapshot's, but the executor's and the
	/// reporter's.
	pub others: u128,
	/// The weight of the votes that said invalid (`juror_weight`: in units of `1 / J` of
	/// power).
	pub invalid: u128,
	/// The weight of the votes that said valid.
	pub valid: u128,
	/// The jurors that voted, in their votes' order (at most `MAX_JURORS`): kept in the
	/// record, so a vote and the dispute's end read and write one record.
	pub voters: BoundedVec<AccountId, ConstU32<{ gonka_primitives::channel::MAX_JURORS }>>,
}

use crate::{Config, OpenInEpoch, ParamsOf};
use gonka_primitives::EpochIndex;

/// The configuration's rules, before governance sets any.
pub struct DefaultParams<T>(core::marker::PhantomData<T>);
impl<T: Config> Get<ParamsOf<T>> for DefaultParams<T> {
	fn get() -> ParamsOf<T> {
		ChannelParams {
			open_fee: T::OpenFee::get(),
			max_channel_blocks: T::MaxChannelBlocks::get(),
			settle_window: T::SettleWindow::get(),
		}
	}
}

/// The epochs whose ledger waits for the channels (`pallet-inference`'s
/// `SettlementHold`): those with a settlement record or a dispute open.
pub struct EpochsInUse<T>(core::marker::PhantomData<T>);
impl<T: Config> polkadot_sdk::frame_support::traits::Contains<EpochIndex> for EpochsInUse<T> {
	fn contains(epoch: &EpochIndex) -> bool {
		OpenInEpoch::<T>::get(epoch) > 0
	}
}
