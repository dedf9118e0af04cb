//! The pallet's storage: a pallet section (`#[pallet_section]`), imported into the pallet
//! module in `lib.rs`, where the rest of the pallet is declared.

use polkadot_sdk::frame_support::pallet_macros::pallet_section;

/// Every storage item of the pallet.
#[pallet_section]
mod channels_storage {
	/// The channels' rules as governance set them (`set_params`); the configuration's
	/// `OpenFee`, `MaxChannelBlocks` and `SettleWindow` until then.
	#[pallet::storage]
	pub type Params<T: Config> = StorageValue<_, ParamsOf<T>, ValueQuery, DefaultParams<T>>;

	/// The next channel's id.
	#[pallet::storage]
	pub type NextChannelId<T: Config> = StorageValue<_, ChannelId, ValueQuery>;

	/// The channels, open or waiting to be finalized.
	#[pallet::storage]
	pub type Channels<T: Config> = StorageMap<_, Twox64Concat, ChannelId, ChannelOf<T>>;

	/// The channel each channel key signs for: a key serves one channel at a time, so a
	/// request or voucher signed for one channel never counts for another (amendment 3).
	#[pallet::storage]
	pub type ChannelKeys<T: Config> =
		StorageMap<_, Blake2_128Concat, polkadot_sdk::sp_core::sr25519::Public, ChannelId>;

	/// Each channel's committee, once drawn (the block after it opened).
	#[pallet::storage]
	pub type Committees<T: Config> = StorageMap<_, Twox64Concat, ChannelId, CommitteeOf>;

	/// The channels whose committee a block draws: those opened in the block before.
	#[pallet::storage]
	pub type ToDraw<T: Config> =
		StorageMap<_, Twox64Concat, BlockNumberFor<T>, QueueOf, ValueQuery>;

	/// What each committee member has settled of a channel so far (its settlements are
	/// cumulative), in the order they first settled: one entry a member, so at most
	/// `MAX_COMMITTEE_SLOTS`; removed when the channel is finalized.
	#[pallet::storage]
	pub type Settled<T: Config> = StorageMap<_, Twox64Concat, ChannelId, SettledOf, ValueQuery>;

	/// The committee slots a block draws: the sum of its queued channels' slots (at most
	/// `MaxDrawSlotsPerBlock`).
	#[pallet::storage]
	pub type DrawSlots<T: Config> = StorageMap<_, Twox64Concat, BlockNumberFor<T>, u32, ValueQuery>;

	/// The amount of each member's latest settled voucher (the cost of the receipts it
	/// covers; none: zero), in the order they first settled: a later settlement's samples
	/// fall in the cost its voucher adds beyond it. One entry a member that settled with a
	/// voucher (at most `MAX_COMMITTEE_SLOTS`); removed with the channel.
	#[pallet::storage]
	pub type VoucheredAmounts<T: Config> =
		StorageMap<_, Twox64Concat, ChannelId, VoucheredOf, ValueQuery>;

	/// What each member's tail claims of a channel were charged so far (amendment 10: a
	/// tail receipt costs its developer the validators' share once more, within the
	/// member's allowance), in the order they first settled a tail: one entry a member
	/// that settled a tail (at most `MAX_COMMITTEE_SLOTS`); removed with the channel.
	#[pallet::storage]
	pub type TailFees<T: Config> =
		StorageMap<_, Twox64Concat, ChannelId, TailChargesOf, ValueQuery>;

	/// The settlements recorded in a block so far (the block, the count): at most
	/// `MaxClosesPerBlock`, so that the windows' closes keep up with them.
	#[pallet::storage]
	pub type BlockSettlements<T: Config> = StorageValue<_, (BlockNumberFor<T>, u32), ValueQuery>;

	/// The next settlement's id.
	#[pallet::storage]
	pub type NextSettlementId<T: Config> = StorageValue<_, SettlementId, ValueQuery>;

	/// The settlements whose verdict window has not closed yet (closed in id order, which
	/// is the order of their blocks), and the closed ones until their report period ends
	/// (`NextToPrune..NextToClose`).
	#[pallet::storage]
	pub type Settlements<T: Config> =
		StorageMap<_, Twox64Concat, SettlementId, SettlementRecordOf<T>>;

	/// The oldest settlement whose verdict window is still open (all before it closed).
	#[pallet::storage]
	pub type NextToClose<T: Config> = StorageValue<_, SettlementId, ValueQuery>;

	/// The oldest settlement whose record is kept (all before it pruned).
	#[pallet::storage]
	pub type NextToPrune<T: Config> = StorageValue<_, SettlementId, ValueQuery>;

	/// Each closed, kept settlement's prune block and power snapshot, written by the close:
	/// all the prune reads (a record is many times its size).
	#[pallet::storage]
	pub type ToPrune<T: Config> = StorageMap<
		_,
		Twox64Concat,
		SettlementId,
		(BlockNumberFor<T>, gonka_primitives::PowerSnapshot),
	>;

	/// Each kept settlement's channel model and the epoch whose PoC formed the model's
	/// executor roster in force when it was recorded (`None`: it had none); a validator
	/// that did not serve the model then misses none of its samples. Removed with the
	/// record.
	#[pallet::storage]
	pub type SettlementModels<T: Config> =
		StorageMap<_, Twox64Concat, SettlementId, (ModelId, Option<EpochIndex>)>;

	/// Each settlement's samples failed in its verdict window, written by the failure
	/// reports (a settlement without one has none) and taken by its close: a second round
	/// doubles none of them (their disputes are open).
	#[pallet::storage]
	pub type FailedSamples<T: Config> = StorageMap<_, Twox64Concat, SettlementId, SampleBits>;

	/// Each closed, kept settlement (closed since spec version 20): what its pruning needs
	/// and its second round (amendment 6, `seconds.rs`), written by its close and read and
	/// removed by its pruning (a settlement closed before has its `ToPrune` entry instead).
	#[pallet::storage]
	pub type SecondRounds<T: Config> = StorageMap<_, Twox64Concat, SettlementId, SecondRoundOf<T>>;

	/// What each validator did with each verdict period's samples (answered some, or was
	/// shown missed): cleared `MARK_CLEARS` a block once the period's report period ends.
	#[pallet::storage]
	pub type PeriodMarks<T: Config> =
		StorageDoubleMap<_, Twox64Concat, u32, Blake2_128Concat, HostId, PeriodMark>;

	/// What each validator was paid for its answers to each verdict period's samples (first
	/// and second), and the epoch of its latest pay: what a pass of the period that a
	/// mismatch's invalidation contradicts forfeits (`forfeits.rs`). Cleared with the marks
	/// of the period two later (`MARK_CLEARS` a block, with them).
	#[pallet::storage]
	pub type PeriodPays<T: Config> =
		StorageDoubleMap<_, Twox64Concat, u32, Blake2_128Concat, HostId, PeriodPay>;

	/// The oldest verdict period whose marks may be kept (all before it cleared).
	#[pallet::storage]
	pub type NextMarksToClear<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// The reports of misses a block took so far (the block, the count): at most
	/// `MaxMissReportsPerBlock`.
	#[pallet::storage]
	pub type BlockMissReports<T: Config> = StorageValue<_, (BlockNumberFor<T>, u32), ValueQuery>;

	/// The next dispute's id.
	#[pallet::storage]
	pub type NextDisputeId<T: Config> = StorageValue<_, DisputeId, ValueQuery>;

	/// The disputes whose jury's window has not ended (ended in id order, which is the
	/// order of their blocks).
	#[pallet::storage]
	pub type Disputes<T: Config> = StorageMap<_, Twox64Concat, DisputeId, DisputeRecordOf<T>>;

	/// The oldest dispute that may still be open of those decided after `JuryWindow` (a
	/// mismatch: all before it ended, or are the long windows' disputes, which end by
	/// `UnavailableQueue`).
	#[pallet::storage]
	pub type NextDisputeToEnd<T: Config> = StorageValue<_, DisputeId, ValueQuery>;

	/// The long windows' disputes (decided after `UnavailableWindow`: an unavailable
	/// payload's, a developer's challenge), in the order they opened: a queue of their own,
	/// so they end in that order without passing over the mismatches. An entry is removed
	/// when its dispute ends.
	#[pallet::storage]
	pub type UnavailableQueue<T: Config> = StorageMap<_, Twox64Concat, u64, DisputeId>;

	/// The next place in `UnavailableQueue`.
	#[pallet::storage]
	pub type NextUnavailable<T: Config> = StorageValue<_, u64, ValueQuery>;

	/// The oldest place in `UnavailableQueue` whose dispute may still be open (all before
	/// it ended).
	#[pallet::storage]
	pub type NextUnavailableToEnd<T: Config> = StorageValue<_, u64, ValueQuery>;

	/// The developers' challenges opened in a block so far (the block, the count): at most
	/// half of `MaxDisputesPerBlock` (at least one), so challenges never take all of a
	/// block's disputes from the validators' reports.
	#[pallet::storage]
	pub type BlockChallenges<T: Config> = StorageValue<_, (BlockNumberFor<T>, u32), ValueQuery>;

	/// The receipts (leaves) disputed in each kept settlement: challenged, or reported with
	/// the receipt. A developer challenges a receipt not disputed yet, while fewer than
	/// [`MAX_DISPUTED`] are, and a second mismatch disputes none of them again. Removed
	/// when the settlement is pruned.
	#[pallet::storage]
	pub type Challenged<T: Config> = StorageMap<
		_,
		Twox64Concat,
		SettlementId,
		BoundedVec<u32, ConstU32<{ MAX_DISPUTED }>>,
		ValueQuery,
	>;

	/// Each open unavailable payload's dispute's settlement seed (what a refuting
	/// acknowledgement must name) and the pay its report's answer earned (what a rejection
	/// takes back): `UnavailableReport`. Removed when the dispute ends. (Version 3 kept the
	/// seed alone, as `UnavailableSeeds`: `migrations::v4`.)
	#[pallet::storage]
	pub type UnavailableReports<T: Config> =
		StorageMap<_, Twox64Concat, DisputeId, UnavailableReport>;

	/// The first dispute opened under storage version 2's rules (its settlement's seed kept
	/// if it is an unavailable payload's; the developer off its jury): the disputes open at
	/// the upgrade were opened under version 1's.
	#[pallet::storage]
	pub type V2DisputesFrom<T: Config> = StorageValue<_, DisputeId, ValueQuery>;

	/// Each open mismatch's dispute opened since spec version 21 (a validator's failure
	/// report with the receipt): the passes of its sample shown so far, which an
	/// invalidation contradicts (`forfeits.rs`). Removed when the dispute ends.
	#[pallet::storage]
	pub type Contradictions<T: Config> = StorageMap<_, Twox64Concat, DisputeId, ContradictionOf>;

	/// The fee each open challenge holds of its developer (kept apart from the dispute's
	/// record, which is a validator's report's too): removed when the dispute ends.
	#[pallet::storage]
	pub type ChallengeFees<T: Config> = StorageMap<_, Twox64Concat, DisputeId, u128>;

	/// The disputes opened in a block so far (the block, the count): at most
	/// `MaxDisputesPerBlock`.
	#[pallet::storage]
	pub type BlockDisputes<T: Config> = StorageValue<_, (BlockNumberFor<T>, u32), ValueQuery>;

	/// The settlement records and disputes open of each epoch (a dispute counts in its
	/// settlement's epoch and in its report's): while any is, the epoch's ledger waits
	/// (`EpochsInUse`), so their outcomes still find the pending work.
	#[pallet::storage]
	pub type OpenInEpoch<T: Config> = StorageMap<_, Twox64Concat, EpochIndex, u32, ValueQuery>;

	/// The channels a block finalizes: those whose settle window ends there.
	#[pallet::storage]
	pub type ToFinalize<T: Config> =
		StorageMap<_, Twox64Concat, BlockNumberFor<T>, QueueOf, ValueQuery>;

	/// The committee slots whose member waived the channel (bit `i`: slot `i`; a member's
	/// waiver sets all its slots): when every slot is, the channel is finalized at once.
	/// Removed with the channel.
	#[pallet::storage]
	pub type Waived<T: Config> = StorageMap<_, Twox64Concat, ChannelId, u64, ValueQuery>;
}
