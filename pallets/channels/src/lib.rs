#![doc = include_str!("../README.md")]
//!
//! Layout (as `pallet-broker`): this file declares the configuration and the calls (each
//! a few lines that call a `do_*` function); `storage.rs` the storage, `events.rs` the
//! events and errors, `genesis.rs` the genesis. The rules are in files named by concern: `dispatchable_impls.rs`
//! (opening, top-ups, closing), `committee.rs` (the draw, allowances), `settlement.rs`
//! (vouchers, tail claims, payment), `sampling.rs` (settlement records, samples, verdicts,
//! the windows' close), `disputes.rs` (failure reports, juries, outcomes, refutations),
//! `challenges.rs` (developers' challenges), `waivers.rs` (early finalization), `misses.rs`
//! (validators that answered nothing, the records' pruning), `seconds.rs` (second validators),
//! `forfeits.rs` (passes a mismatch's invalidation contradicts),
//! `tick_impls.rs` (the hooks), `try_state.rs` (the invariants), `migrations.rs`, `types.rs`.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use polkadot_sdk::frame_support::pallet_macros::import_section;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod challenges;
mod committee;
mod dispatchable_impls;
mod disputes;
mod events;
mod forfeits;
mod forks;
mod genesis;
pub mod migrations;
mod misses;
pub mod runtime_api;
mod sampling;
mod seconds;
mod settlement;
mod storage;
mod tick_impls;
#[cfg(any(feature = "std", feature = "try-runtime"))]
mod try_state;
mod types;
mod views;
mod waivers;
pub mod weights;

#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

/// The storage, the events and errors, and the genesis, are pallet sections of their own
/// (`storage.rs`, `events.rs`, `genesis.rs`).
#[import_section(events::channels_events)]
#[import_section(storage::channels_storage)]
#[import_section(genesis::channels_genesis)]
#[polkadot_sdk::frame_support::pallet]
pub mod pallet {
	use super::*;
	use gonka_primitives::{
		channel::{
			ChannelId, ChannelTerms, ChannelWaiver, DeliveryAck, DisputeId, FailReason,
			FailureReport, MissedSamples, ReceiptChallenge, ReceiptVerdicts, ReceiptVote,
			SettlementId,
		},
		EpochIndex, HostId, ModelId,
	};
	use polkadot_sdk::{
		frame_support::{
			pallet_prelude::*,
			traits::fungible::{Mutate, MutateHold},
		},
		frame_system::pallet_prelude::*,
	};

	/// A channel's record.
	pub type ChannelOf<T> = ChannelInfo<HostId, BlockNumberFor<T>>;
	/// The channels' rules.
	pub type ParamsOf<T> = ChannelParams<BlockNumberFor<T>>;
	/// A committee: the host of each slot, in slot order (a host may hold several).
	pub type CommitteeOf = BoundedVec<HostId, ConstU32<{ MAX_COMMITTEE_SLOTS }>>;
	/// A settlement's record, kept until its report period ends.
	pub type SettlementRecordOf<T> = SettlementRecord<HostId, BlockNumberFor<T>>;
	/// A dispute's record, kept until its jury's window ends.
	pub type DisputeRecordOf<T> = DisputeRecord<HostId, BlockNumberFor<T>>;
	/// A closed settlement's second round.
	pub type SecondRoundOf<T> = SecondRound<HostId, BlockNumberFor<T>>;
	/// An open mismatch's dispute, for the passes it contradicts.
	pub type ContradictionOf = Contradiction<HostId>;
	/// The amounts of the members' latest settled vouchers: one entry a member.
	pub type VoucheredOf = BoundedVec<(HostId, u128), ConstU32<{ MAX_COMMITTEE_SLOTS }>>;
	/// What the members' tail claims were charged: one entry a member that settled a tail.
	pub type TailChargesOf = BoundedVec<(HostId, TailCharge), ConstU32<{ MAX_COMMITTEE_SLOTS }>>;
	/// What the members of a committee settled: one entry a member that settled.
	pub type SettledOf = BoundedVec<(HostId, SettledInfo), ConstU32<{ MAX_COMMITTEE_SLOTS }>>;
	/// The channels a block draws the committees of, or finalizes (at most
	/// `MaxOpensPerBlock`, which may not exceed [`MAX_QUEUE`]: a fixed bound, so lowering
	/// `MaxOpensPerBlock` never makes a stored queue undecodable).
	pub type QueueOf = BoundedVec<ChannelId, ConstU32<{ MAX_QUEUE }>>;

	/// The storage version: 1 since settlement records keep their developer, what they
	/// paid and their tail receipts' digest (`migrations::v1`); 2 since unavailable
	/// payloads' disputes end by a cursor of their own (`migrations::v2`); 3 since closed
	/// records are kept a period to show validators' misses (`migrations::v3`); 4 since an
	/// unavailable payload's dispute keeps its answer's pay (`migrations::v4`); 5 since a
	/// developer's challenge votes for the long window and ends from its queue
	/// (`migrations::v5`).
	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(5);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config + pallet_poc::Config {
		/// Holds the channels' escrow (in the smallest unit of GNK).
		type Currency: MutateHold<
				Self::AccountId,
				Reason = <Self as Config>::RuntimeHoldReason,
				Balance = u128,
			> + Mutate<Self::AccountId>;
		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;
		/// The models' prices and template overheads (`pallet-inference`'s, in the runtime).
		type Pricing: ChannelPricing;
		/// The randomness the committee draw uses (the parent block's hash on the dev chain;
		/// `docs/channels.md` says what a block author can bias).
		type Randomness: polkadot_sdk::frame_support::traits::Randomness<
			gonka_primitives::H256,
			BlockNumberFor<Self>,
		>;
		/// Who receives the channels' fees (the community pool).
		#[pallet::constant]
		type FeeTo: Get<Self::AccountId>;
		/// The open fee until governance sets another (`Params`).
		#[pallet::constant]
		type OpenFee: Get<u128>;
		/// The longest channel governance may allow, in blocks, and the longest until it
		/// sets another (`Params`).
		#[pallet::constant]
		type MaxChannelBlocks: Get<BlockNumberFor<Self>>;
		/// The settle window until governance sets another (`Params`).
		#[pallet::constant]
		type SettleWindow: Get<BlockNumberFor<Self>>;
		/// The most channels whose committee one block draws, and that one block finalizes
		/// (at most [`MAX_QUEUE`]); a channel that finds a block full goes to the next one
		/// with room.
		#[pallet::constant]
		type MaxOpensPerBlock: Get<u32>;
		/// The most committee slots one block draws (at least [`MAX_COMMITTEE_SLOTS`]): a
		/// draw's work grows with its slots, so a block of large committees draws fewer.
		#[pallet::constant]
		type MaxDrawSlotsPerBlock: Get<u32>;
		/// What a settlement costs (to `FeeTo`): the developer prepays each member's first
		/// one when it opens the channel; a later one pays it from what it is paid, and must
		/// pay more.
		#[pallet::constant]
		type SettleFee: Get<u128>;
		/// The executors' ledger of pending work, which settlements pay into
		/// (`pallet-inference`, in the runtime): also the validators' share, the validation
		/// target and the invalidation test.
		type Work: pallet_inference::WorkLedger<Self::AccountId>;
		/// The length of a verdict period, in blocks (`L`): the samples of the settlements
		/// included in period `i` are answered in period `i + 1`, and their window closes
		/// when it ends; the misses are shown in period `i + 2`. At most a third of
		/// `BlockHashCount` (the hash that seeds a settlement's samples must be known until
		/// its record is pruned), and `MARK_CLEARS` times it at least `MaxHosts` (a period's
		/// marks, and its pays, are cleared within a period).
		#[pallet::constant]
		type VerdictPeriod: Get<BlockNumberFor<Self>>;
		/// The most verdict windows one block closes, and the most settlements one block
		/// records (so the closes keep up with them).
		#[pallet::constant]
		type MaxClosesPerBlock: Get<u32>;
		/// The least each sample of a settlement must pay its validators (the chain's cost
		/// of a verdict): a settlement whose validators' share is below its samples' is
		/// refused.
		#[pallet::constant]
		type SampleFee: Get<u128>;
		/// The blocks a dispute's jury votes in, from the block after its report's. At
		/// most `BlockHashCount` (the report block's hash seeds the jury).
		#[pallet::constant]
		type JuryWindow: Get<BlockNumberFor<Self>>;
		/// The most disputes one block opens (the rest wait in the pool for the next
		/// block): each draws about `JURY_SIZE` votes, all free duties.
		#[pallet::constant]
		type MaxDisputesPerBlock: Get<u32>;
		/// The blocks the jury of an unavailable payload's dispute votes in (at least
		/// `JuryWindow`, below `BlockHashCount`): long, so an executor briefly offline can
		/// still serve the jury, or show the reporter's delivery acknowledgement
		/// (`refute_unavailable`), before a silence counts as an invalidation (amendment 8).
		#[pallet::constant]
		type UnavailableWindow: Get<BlockNumberFor<Self>>;
		/// What a developer's challenge of a receipt holds beyond the receipt's cost (the
		/// chain's cost of a jury): returned if the jury invalidates the receipt, to
		/// `FeeTo` otherwise.
		#[pallet::constant]
		type ChallengeFee: Get<u128>;
		/// The most reports of validators' misses (`report_missed_samples`) one block takes.
		#[pallet::constant]
		type MaxMissReportsPerBlock: Get<u32>;
		/// The weights of the calls and hooks.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A channel's escrow.
		ChannelEscrow,
		/// A developer's challenge fee, until the jury decides.
		ChallengeFee,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::tick(now)
		}

		fn integrity_test() {
			Self::check_configuration();
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(
			_now: BlockNumberFor<T>,
		) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Opens a channel with `terms` (`key_proof`: the channel key's proof that the caller
		/// holds it), holding `deposit` of the caller's balance as its escrow and paying the
		/// open fee; its committee is drawn in a later block. Its weight prepays the draw
		/// and the finalization it schedules.
		#[pallet::call_index(0)]
		#[pallet::weight(
			<T as Config>::WeightInfo::open_channel()
				.saturating_add(<T as Config>::WeightInfo::draw_committee(terms.committee.into()))
				.saturating_add(<T as Config>::WeightInfo::finalize_channel())
		)]
		pub fn open_channel(
			origin: OriginFor<T>,
			terms: ChannelTerms<BlockNumberFor<T>>,
			key_proof: polkadot_sdk::sp_core::sr25519::Signature,
			deposit: u128,
		) -> DispatchResult {
			let developer = ensure_signed(origin)?;
			Self::do_open(developer, terms, key_proof, deposit)
		}

		/// Holds `amount` more of the developer's balance for its channel, before its end.
		#[pallet::call_index(1)]
		#[pallet::weight(<T as Config>::WeightInfo::top_up())]
		pub fn top_up(origin: OriginFor<T>, channel: ChannelId, amount: u128) -> DispatchResult {
			let developer = ensure_signed(origin)?;
			Self::do_top_up(developer, channel, amount)
		}

		/// A committee member's settlement of a channel: the developer's latest voucher to
		/// it and the receipts after it claimed with their signed requests. Pays what the
		/// settlement's total adds to the member's earlier settlements, within its
		/// allowance, from the channel's escrow into the member's pending work (settled with
		/// the epoch's ledger). Emits `ChannelSettled`.
		///
		/// The dispatch origin must be `Authorized`: no signer and no fee, valid only
		/// through `Pallet::authorize_settle` (the member's worker key signed `settle`).
		#[pallet::call_index(3)]
		#[pallet::weight(<T as Config>::WeightInfo::settle(settle.tail.len() as u32))]
		#[pallet::weight_of_authorize(
			<T as Config>::WeightInfo::authorize_settle(settle.tail.len() as u32)
		)]
		#[pallet::authorize(Self::authorize_settle)]
		pub fn settle(
			origin: OriginFor<T>,
			executor: HostId,
			settle: gonka_primitives::channel::ChannelSettle,
			_signature: polkadot_sdk::sp_core::sr25519::Signature,
		) -> DispatchResult {
			polkadot_sdk::frame_system::ensure_authorized(origin)?;
			Self::do_settle(executor, settle)
		}

		/// A validator's verdicts on samples of the settlements included in verdict period
		/// `verdicts.period` (a part of at most `MAX_VERDICTS`), in period `period + 1`.
		/// Each answered sample pays the validator its part of the settlement's share from
		/// the pot, into its pending work; a pass is a step of the executor's invalidation
		/// test when the settlement's window closes. A sample answered already counts
		/// nothing; every entry is a pass (`FailWithoutReport` otherwise: a failed sample is
		/// reported with `report_failure`). In period `period + 2`, second answers to the
		/// samples the settlements' second rounds double (`seconds.rs`). Emits
		/// `VerdictsSubmitted`.
		///
		/// The dispatch origin must be `Authorized`: no signer and no fee, valid only
		/// through `Pallet::authorize_verdicts` (the validator's worker key signed them, and
		/// the hash rule draws it for each sample).
		#[pallet::call_index(4)]
		#[pallet::weight(Pallet::<T>::verdicts_weight(verdicts, false))]
		#[pallet::weight_of_authorize(Pallet::<T>::verdicts_weight(verdicts, true))]
		#[pallet::authorize(Self::authorize_verdicts)]
		pub fn submit_verdicts(
			origin: OriginFor<T>,
			validator: HostId,
			verdicts: ReceiptVerdicts,
			_signature: polkadot_sdk::sp_core::sr25519::Signature,
		) -> DispatchResult {
			polkadot_sdk::frame_system::ensure_authorized(origin)?;
			Self::do_verdicts(validator, verdicts)
		}

		/// Sets the channels' rules (the open fee, the longest channel, the settle window),
		/// for channels opened from now on. Emits `ParamsSet`.
		///
		/// The dispatch origin must be `pallet-poc`'s `UpdateOrigin` (`ComputeMajority`).
		///
		/// - `params`: the new rules: a longest channel of 1 to `MaxChannelBlocks` blocks, a
		///   settle window of `MIN_SETTLE_WINDOW` to `MAX_SETTLE_WINDOW` blocks (`BadParams`
		///   otherwise).
		#[pallet::call_index(5)]
		#[pallet::weight(<T as Config>::WeightInfo::set_params())]
		pub fn set_params(origin: OriginFor<T>, params: ParamsOf<T>) -> DispatchResult {
			<T as pallet_poc::Config>::UpdateOrigin::ensure_origin(origin)?;
			Self::do_set_params(params)
		}

		/// A validator's report of a sample it failed, in the verdict period after its
		/// settlement's (a second answer: two after, `seconds.rs`): answers the sample (paid
		/// as a verdict) and opens a dispute that a jury drawn by power decides within
		/// `JuryWindow`. Emits `DisputeOpened`.
		///
		/// The dispatch origin must be `Authorized`: no signer and no fee, valid only
		/// through `Pallet::authorize_failure` (the validator's worker key signed it, the
		/// hash rule draws it for the sample, and a mismatch shows the sampled receipt).
		///
		/// - `validator`: the reporting host.
		/// - `report`: the settlement, the sample, why it failed and, for a mismatch, the
		///   receipt with its proof.
		/// - `_signature`: the validator's worker key's signature of `report`.
		#[pallet::call_index(6)]
		#[pallet::weight(
			// An unavailable payload's queue place and seed besides the benchmarked mismatch.
			<T as Config>::WeightInfo::report_failure()
				.max(<T as Config>::WeightInfo::report_second_failure())
				.saturating_add(T::DbWeight::get().reads_writes(1, 3))
		)]
		#[pallet::weight_of_authorize(
			<T as Config>::WeightInfo::authorize_failure()
				.max(<T as Config>::WeightInfo::authorize_second_failure())
		)]
		#[pallet::authorize(Self::authorize_failure)]
		pub fn report_failure(
			origin: OriginFor<T>,
			validator: HostId,
			report: FailureReport,
			_signature: polkadot_sdk::sp_core::sr25519::Signature,
		) -> DispatchResult {
			polkadot_sdk::frame_system::ensure_authorized(origin)?;
			Self::do_report_failure(validator, report)
		}

		/// A juror's vote on a dispute, within its window: weighs `juror_weight`; the
		/// dispute is decided when its window ends (`jury_verdict`). Emits `JurorVoted`.
		///
		/// The dispatch origin must be `Authorized`: valid only through
		/// `Pallet::authorize_vote` (the juror's worker key signed it, and the hash rule
		/// draws it for the dispute's jury).
		///
		/// - `juror`: the voting host.
		/// - `vote`: the dispute (with its settlement and sample) and whether the receipt is
		///   invalid.
		/// - `_signature`: the juror's worker key's signature of `vote`.
		#[pallet::call_index(7)]
		#[pallet::weight(<T as Config>::WeightInfo::vote_receipt())]
		#[pallet::weight_of_authorize(<T as Config>::WeightInfo::authorize_vote())]
		#[pallet::authorize(Self::authorize_vote)]
		pub fn vote_receipt(
			origin: OriginFor<T>,
			juror: HostId,
			vote: ReceiptVote,
			_signature: polkadot_sdk::sp_core::sr25519::Signature,
		) -> DispatchResult {
			polkadot_sdk::frame_system::ensure_authorized(origin)?;
			Self::do_vote(juror, vote)
		}

		/// A committee member's waiver of a channel that has ended: it settles the channel no
		/// more. When every member has waived, the channel is finalized in this call, its
		/// escrow refunded (its weight prepays that). Emits `ChannelWaived` (and
		/// `ChannelFinalized`).
		///
		/// The dispatch origin must be `Authorized`: no signer and no fee, valid only
		/// through `Pallet::authorize_waiver` (the member's worker key signed the waiver).
		///
		/// - `member`: the waiving host.
		/// - `waiver`: the channel, its key and the receipts the member settled of it.
		/// - `_signature`: the member's worker key's signature of `waiver`.
		#[pallet::call_index(8)]
		#[pallet::weight(<T as Config>::WeightInfo::waive_channel())]
		#[pallet::weight_of_authorize(<T as Config>::WeightInfo::authorize_waiver())]
		#[pallet::authorize(Self::authorize_waiver)]
		pub fn waive_channel(
			origin: OriginFor<T>,
			member: HostId,
			waiver: ChannelWaiver,
			_signature: polkadot_sdk::sp_core::sr25519::Signature,
		) -> DispatchResult {
			polkadot_sdk::frame_system::ensure_authorized(origin)?;
			Self::do_waive(member, waiver)
		}

		/// The developer's challenge of a receipt a settlement added, while the settlement's
		/// record is kept (until its verdict window closes): a jury drawn by power replays
		/// it within `JuryWindow`. Holds `ChallengeFee` and `JURY_SIZE` times the receipt's
		/// cost (`Pallet::challenge_fee`): all of it
		/// returned with the cost refunded if the jury invalidates the receipt, the hold to
		/// `FeeTo` otherwise. Emits `DisputeOpened` (reason `Challenged`).
		///
		/// The dispatch origin must be signed by the channel's developer.
		///
		/// - `challenge`: the settlement, the receipt with its proof (against the voucher,
		///   or among the settlement's tail receipts).
		#[pallet::call_index(9)]
		#[pallet::weight(<T as Config>::WeightInfo::challenge_receipt())]
		pub fn challenge_receipt(
			origin: OriginFor<T>,
			challenge: ReceiptChallenge,
		) -> DispatchResult {
			let developer = ensure_signed(origin)?;
			Self::do_challenge(developer, challenge)
		}

		/// Ends an unavailable payload's dispute at once with the reporter's signed delivery
		/// acknowledgement of that sample (amendment 8): the failure is rejected (the
		/// reporter fined, a validated step of the executor's test). Emits `DisputeEnded`
		/// (outcome `Refuted`).
		///
		/// The dispatch origin must be `Authorized`: no signer and no fee, valid only
		/// through `Pallet::authorize_refute` (the acknowledgement is the reporter's worker
		/// key's signature; anyone holding it may send it).
		///
		/// - `dispute`: the dispute.
		/// - `ack`: the acknowledgement (its settlement and sample are the dispute's).
		/// - `_signature`: the reporter's worker key's signature of `ack`.
		#[pallet::call_index(10)]
		#[pallet::weight(<T as Config>::WeightInfo::refute_unavailable())]
		#[pallet::weight_of_authorize(<T as Config>::WeightInfo::authorize_refute())]
		#[pallet::authorize(Self::authorize_refute)]
		pub fn refute_unavailable(
			origin: OriginFor<T>,
			dispute: DisputeId,
			ack: DeliveryAck,
			_signature: polkadot_sdk::sp_core::sr25519::Signature,
		) -> DispatchResult {
			polkadot_sdk::frame_system::ensure_authorized(origin)?;
			Self::do_refute(dispute, ack)
		}

		/// A host's report that `missed.validator` answered none of verdict period
		/// `missed.period`'s samples, in period `period + 2`: each sample shown (one the hash
		/// rule drew it for, nobody answered, of a model it serves) is a missed duty, which
		/// the downtime test weighs. At most `MAX_MISSES` samples a validator and period in
		/// all, each once. Emits `SamplesMissed`.
		///
		/// The dispatch origin must be `Authorized`: no signer and no fee, valid only
		/// through `Pallet::authorize_missed` (the reporter's worker key signed it).
		///
		/// - `reporter`: the reporting host.
		/// - `missed`: the period, the validator and up to `MAX_MISSES` of its samples.
		/// - `_signature`: the reporter's worker key's signature of `missed`.
		#[pallet::call_index(11)]
		#[pallet::weight(
			<T as Config>::WeightInfo::report_missed_samples(missed.samples.len() as u32)
				.saturating_add(Pallet::<T>::missed_samples_proof(missed.samples.len()))
		)]
		#[pallet::weight_of_authorize(
			<T as Config>::WeightInfo::authorize_missed(missed.samples.len() as u32)
				.saturating_add(Pallet::<T>::missed_samples_proof(missed.samples.len()))
		)]
		#[pallet::authorize(Self::authorize_missed)]
		pub fn report_missed_samples(
			origin: OriginFor<T>,
			reporter: HostId,
			missed: MissedSamples,
			_signature: polkadot_sdk::sp_core::sr25519::Signature,
		) -> DispatchResult {
			polkadot_sdk::frame_system::ensure_authorized(origin)?;
			Self::do_report_missed(reporter, missed)
		}

		/// Shows that `validator` passed the sample an open mismatch's dispute is on: its
		/// signed verdict batch (from the chain's blocks) with the pass. If the jury
		/// invalidates the receipt, the validator forfeits its pay for the settlement's
		/// verdict period (`forfeits.rs`). Emits `PassShown`.
		///
		/// The dispatch origin must be `Authorized`: no signer and no fee, valid only
		/// through `Pallet::authorize_pass` (the batch is the validator's, of the period,
		/// anchored to this chain, and the hash rule drew it for the sample).
		///
		/// - `dispute`: the dispute (a validator's failure report with the receipt).
		/// - `validator`: the host that passed the sample.
		/// - `verdicts`: its verdict batch that passes the sample.
		/// - `_signature`: the validator's worker key's signature of `verdicts`.
		#[pallet::call_index(12)]
		#[pallet::weight(<T as Config>::WeightInfo::show_pass(verdicts.entries.len() as u32))]
		#[pallet::weight_of_authorize(
			<T as Config>::WeightInfo::authorize_show_pass(verdicts.entries.len() as u32)
		)]
		#[pallet::authorize(Self::authorize_pass)]
		pub fn show_pass(
			origin: OriginFor<T>,
			dispute: DisputeId,
			validator: HostId,
			verdicts: ReceiptVerdicts,
			_signature: polkadot_sdk::sp_core::sr25519::Signature,
		) -> DispatchResult {
			polkadot_sdk::frame_system::ensure_authorized(origin)?;
			Self::do_show_pass(dispute, validator, verdicts)
		}

		/// Ends the developer's channel now: no request is accepted from here, and its
		/// executors may settle.
		#[pallet::call_index(2)]
		#[pallet::weight(<T as Config>::WeightInfo::close_channel())]
		pub fn close_channel(origin: OriginFor<T>, channel: ChannelId) -> DispatchResult {
			let developer = ensure_signed(origin)?;
			Self::do_close(developer, channel)
		}
	}
}
