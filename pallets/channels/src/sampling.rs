//! Validation of settlements (`docs/channels.md`, step 5): each settlement is recorded with
//! what its samples are drawn from, the validators' share of what it paid goes to the pot,
//! and the validators drawn for its samples answer them in verdict batches.
//!
//! - **Samples**: seeded by the hash of the settlement's block
//!   (`gonka_primitives::channel::sample_seed`), `⌊t·N⌋` (+1 with probability `frac(t·N)`)
//!   points in the cost the settlement's voucher adds (`N`: the receipts it vouchered since
//!   the executor's earlier settlement, `t`: the executor's validation target), and every
//!   tail receipt (`sample_of`). A settlement whose `⌈t·N⌉` is above `MAX_SAMPLES` is
//!   refused (`TooManySamples`): never capped silently. `t` is the executor's target when
//!   the validators' share pays `SampleFee` for every answer, else the lottery the share
//!   pays for in expectation (`gonka_primitives::channel::paid_target`); a share whose
//!   tail's own part does not pay the tail's answers is refused (`SamplesUnpaid`).
//! - **Validators**: the hash rule draws each sample's validators by the power of the
//!   snapshot the settlement pinned (`validates_sample`); never the executor.
//! - **Verdicts**: settlements included in verdict period `i` (`⌊block / L⌋`) are answered
//!   by `submit_verdicts` in period `i + 1`, in parts of at most `MAX_VERDICTS` entries,
//!   each a pass (a fail is reported with its receipt and opens a dispute: `disputes.rs`). The first answer to a sample counts, later ones are
//!   skipped; the pool refuses a batch more than half of whose entries are answered (its
//!   worker drops them and sends the rest).
//! - **Pay**: each answer (pass or fail: validators earn per answered sample, not per pass)
//!   pays its validator the settlement's share over its samples, from the pot into its
//!   pending work (`WorkLedger::credit_work`), one transfer a batch.
//! - **Close**: when period `i + 1` ends, the passes are steps of the executor's
//!   invalidation test in the settlement's epoch and the share its validators were not
//!   paid goes back to the executor's pending work (`MaxClosesPerBlock` a block, in
//!   settlement order). The record, and the power snapshot it pins, are kept until period
//!   `i + 2` ends, in which a validator that answered nothing of period `i` is shown
//!   (`misses.rs`); a validator's answers mark it for the period, and are duties done.
//!
//! A fail is no pass: its dispute (`disputes.rs`) takes the step of the test when it ends.

use crate::{
	BlockSettlements, Config, Error, Event, HoldReason, NextSettlementId, NextToClose, Pallet,
	SettlementRecord, SettlementRecordOf, Settlements, WeightInfo,
};
use alloc::vec::Vec;
use gonka_primitives::{
	channel::{
		most_samples, sample_seed, tail_digest, traffic, ChannelSettle, ReceiptVerdicts,
		SettlementId, SumNode, MAX_SAMPLES, MAX_SECOND_VERDICTS, MAX_VERDICT_PARTS,
	},
	HostId, PowerSnapshot, H256,
};
use pallet_inference::WorkLedger;
use pallet_poc::validity::{duty_validity, error_code};
use polkadot_sdk::{
	frame_support::{
		defensive,
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, Mutate, MutateHold},
			tokens::{Fortitude, Precision, Restriction},
		},
		PalletId,
	},
	frame_system::{self, pallet_prelude::BlockNumberFor},
	sp_core::sr25519,
	sp_runtime::{
		traits::{AccountIdConversion, Saturating},
		Perbill, SaturatedConversion,
	},
};

/// The pot's id: the validators' shares wait on its account, on hold, until they are paid.
pub const POT_ID: PalletId = PalletId(*b"gonka/ch");

/// What a settlement about to be recorded covers.
pub(crate) struct NewSettlement {
	/// The receipts vouchered since the executor's earlier settlement.
	pub receipts: u32,
	/// The cost vouchered before.
	pub from: u128,
	/// The executor's validation target for them.
	pub target: Perbill,
	/// Their traffic (`gonka_primitives::channel::traffic`).
	pub traffic: u32,
}

/// A batch's verdicts on one settlement, checked.
pub(crate) struct Answers<T: Config> {
	pub settlement: SettlementId,
	pub record: SettlementRecordOf<T>,
	/// Its second round, when the batch gives second answers (`seconds.rs`).
	pub round: Option<crate::seconds::SecondCheck<T>>,
	/// The samples answered (not answered before), each a pass.
	pub samples: Vec<u32>,
	/// What each answer pays.
	pub pay: u128,
}

impl<T: Config> Pallet<T> {
	/// The pot's account.
	pub fn pot() -> HostId {
		POT_ID.into_account_truncating()
	}

	/// The verdict period of block `block`: `⌊block / L⌋`.
	pub fn period_of(block: BlockNumberFor<T>) -> u32 {
		let length = T::VerdictPeriod::get();
		if length.is_zero() {
			return 0;
		}
		(block / length).saturated_into()
	}

	/// The first block of verdict period `period`.
	pub fn period_start(period: u32) -> BlockNumberFor<T> {
		T::VerdictPeriod::get().saturating_mul(period.into())
	}

	/// The block a settlement included in block `at` closes: the end of the period after
	/// its own.
	pub fn closes_at(at: BlockNumberFor<T>) -> BlockNumberFor<T> {
		Self::period_start(Self::period_of(at).saturating_add(2))
	}

	/// The sample seed of a settlement, once its block's hash is known (from the next
	/// block on; `integrity_test` keeps it known until the record closes).
	pub fn seed_of(id: SettlementId, record: &SettlementRecordOf<T>) -> Option<H256> {
		let now = frame_system::Pallet::<T>::block_number();
		if now <= record.at {
			return None;
		}
		let block = frame_system::Pallet::<T>::block_hash(record.at);
		let genesis = pallet_poc::Pallet::<T>::genesis_hash();
		Some(sample_seed(&genesis, &H256::from_slice(block.as_ref()), id))
	}

	/// The tree samples of a settlement with seed `seed` (its tail samples follow them).
	pub fn tree_samples(record: &SettlementRecordOf<T>, seed: &H256) -> u32 {
		gonka_primitives::channel::tree_samples(
			seed,
			record.target,
			record.receipts,
			record.from,
			record.to,
		)
	}

	/// What a settlement of `executor` that adds `settle` beyond `before` (what it vouchered
	/// and the cost of it) and pays `amount`, `tail_fee` of it its tail fee on the
	/// `new_tail` its tail adds, covers, and whether its samples fit `MAX_SAMPLES` and are
	/// paid for (`paid_target`: the tail's answers by the tail's own part of the share).
	pub(crate) fn check_samples(
		executor: &HostId,
		settle: &ChannelSettle,
		before: (u32, u128),
		(amount, tail_fee, new_tail): (u128, u128, u128),
		price: u128,
	) -> Result<NewSettlement, Error<T>> {
		let (vouchered, from) = before;
		ensure!(settle.vouchered_amount() >= from, Error::<T>::VoucherBehind);
		let (block, count) = BlockSettlements::<T>::get();
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(
			block != now || count < T::MaxClosesPerBlock::get(),
			Error::<T>::TooManySettlements
		);
		let receipts = settle.vouchered().saturating_sub(vouchered);
		let tail = settle.tail.len() as u32;
		// Traffic is what the receipts cost, the tail fee excluded.
		let traffic =
			traffic(receipts.saturating_add(tail), amount.saturating_sub(tail_fee), price);
		let share = Self::validators_share(amount, tail_fee);
		// The tail's own part of the share: its value's share and its tail fee.
		let tail_share =
			T::Work::validator_share().mul_ceil(new_tail).saturating_add(tail_fee).min(share);
		let target = gonka_primitives::channel::paid_target(
			T::Work::target_of(executor, traffic),
			receipts,
			tail,
			(share, tail_share),
			T::SampleFee::get(),
		)
		.ok_or(Error::<T>::SamplesUnpaid)?;
		ensure!(
			most_samples(target, receipts) <= u64::from(MAX_SAMPLES),
			Error::<T>::TooManySamples
		);
		Ok(NewSettlement { receipts, from, target, traffic })
	}

	/// The validators' share of a settlement that pays `paid` (its fee excluded), `tail_fee`
	/// of it its tail fee: the validators' share of the rest, and the tail fee.
	pub(crate) fn validators_share(paid: u128, tail_fee: u128) -> u128 {
		T::Work::validator_share().mul_floor(paid.saturating_sub(tail_fee)).saturating_add(tail_fee)
	}

	/// Records a settlement of `channel` (of `model`) by `executor` that paid `paid` (its
	/// fee excluded), `tail_fee` of it its tail fee: its validators' share
	/// ([`Self::validators_share`]) moves from the developer's escrow to the pot, the rest
	/// is the executor's. Returns the settlement's id and the share.
	pub(crate) fn record_settlement(
		(channel, model): (gonka_primitives::channel::ChannelId, gonka_primitives::ModelId),
		developer: &HostId,
		executor: &HostId,
		settle: &ChannelSettle,
		new: NewSettlement,
		(paid, tail_fee): (u128, u128),
	) -> Result<(SettlementId, u128), DispatchError> {
		let share = Self::validators_share(paid, tail_fee);
		let now = frame_system::Pallet::<T>::block_number();
		crate::tick_impls::count_in_block::<T, BlockSettlements<T>>();
		Self::share_to_pot(developer, share)?;
		T::Work::note_traffic(executor, new.traffic);
		let (snapshot, total_power, _) = pallet_poc::Pallet::<T>::take_snapshot();
		let executor_power = pallet_poc::Pallet::<T>::power_in(&snapshot, executor);
		let id = crate::tick_impls::take_next::<NextSettlementId<T>>();
		let tail = settle.tail.len() as u32;
		let tails = Self::tails_of(settle);
		let epoch = pallet_poc::Pallet::<T>::epoch_now();
		Self::note_open(epoch);
		let record = SettlementRecord {
			channel,
			developer: developer.clone(),
			executor: executor.clone(),
			at: now,
			epoch,
			root: settle.voucher.as_ref().map(|signed| signed.voucher.root).unwrap_or_default(),
			count: settle.vouchered(),
			from: new.from,
			to: settle.vouchered_amount(),
			receipts: new.receipts,
			tail,
			tails,
			paid: paid.saturating_sub(tail_fee),
			target: new.target,
			snapshot,
			total_power,
			executor_power,
			share,
			validator_paid: 0,
			passes: 0,
			fails: 0,
			answered: Default::default(),
		};
		Settlements::<T>::insert(id, record);
		let formed = pallet_poc::RosterEpoch::<T>::get(model);
		crate::SettlementModels::<T>::insert(id, (model, formed));
		Self::deposit_event(Event::SettlementSampled {
			settlement: id,
			receipts: new.receipts,
			tail,
			target: new.target,
			share,
		});
		Ok((id, share))
	}

	/// Moves a settlement's validators' `share` from the developer's escrow to the pot,
	/// which holds the shares on hold beside the existential deposit, free, which keeps its
	/// account (minted once, as a treasury's: a share may be below it).
	fn share_to_pot(developer: &HostId, share: u128) -> DispatchResult {
		if share == 0 {
			return Ok(());
		}
		let pot = Self::pot();
		let least = <T as Config>::Currency::minimum_balance();
		let free = <T as Config>::Currency::balance(&pot);
		if free < least {
			<T as Config>::Currency::mint_into(&pot, least.saturating_sub(free))?;
		}
		<T as Config>::Currency::transfer_on_hold(
			&HoldReason::ChannelEscrow.into(),
			developer,
			&pot,
			share,
			Precision::Exact,
			Restriction::OnHold,
			Fortitude::Force,
		)?;
		Ok(())
	}

	/// The digest of a settlement's tail receipts' leaves (zero without a tail claim).
	fn tails_of(settle: &ChannelSettle) -> H256 {
		if settle.tail.is_empty() {
			return H256::zero();
		}
		let leaves: Vec<SumNode> =
			settle.tail.iter().map(|claim| SumNode::leaf(&claim.receipt)).collect();
		tail_digest(&leaves)
	}

	/// Checks `validator`'s verdicts against the chain's state; returns what they answer,
	/// settlement by settlement. Samples answered already are skipped; in the pool
	/// (`in_block` false) a batch more than half of whose entries are answered is refused:
	/// another validator drawn for a sample may have answered it first, and a resent batch
	/// costs its checks at most twice over. Also returns the worker key the batch is signed
	/// with (one the period's batches may be signed with: `forfeits.rs`).
	pub(crate) fn check_verdicts(
		validator: &HostId,
		verdicts: &ReceiptVerdicts,
		in_block: bool,
	) -> Result<(Vec<Answers<T>>, sr25519::Public), Error<T>> {
		ensure!(!verdicts.entries.is_empty(), Error::<T>::NoVerdicts);
		ensure!(verdicts.part < MAX_VERDICT_PARTS, Error::<T>::BadPart);
		let second = Self::answers_second(verdicts.period)?;
		ensure!(
			!second || verdicts.entries.len() as u32 <= MAX_SECOND_VERDICTS,
			Error::<T>::TooManySecondAnswers
		);
		Self::check_anchor(&verdicts.anchor, Self::verdicts_anchor_from(verdicts.period))?;
		// Signed by a key the period's batches may be signed with (`forfeits.rs`).
		let key = Self::period_key(verdicts.period, validator)?;
		let mut answers: Vec<Answers<T>> = Vec::new();
		// The validator's power in the snapshots met so far (usually one).
		let mut powers: Vec<(PowerSnapshot, u128)> = Vec::new();
		// The current settlement's seed and sample count.
		let mut drawn = (H256::zero(), 0u32);
		let mut last: Option<(SettlementId, u32)> = None;
		let mut answered = 0u32;
		for entry in &verdicts.entries {
			let key = (entry.settlement, entry.sample);
			ensure!(last.is_none_or(|last| last < key), Error::<T>::VerdictsOutOfOrder);
			last = Some(key);
			if answers.last().is_none_or(|answers| answers.settlement != entry.settlement) {
				let (next, seed, samples) =
					Self::answers_to(entry.settlement, verdicts.period, second)?;
				drawn = (seed, samples);
				answers.push(next);
			}
			let Some(current) = answers.last_mut() else {
				return Err(Error::<T>::UnknownSettlement);
			};
			let record = &current.record;
			ensure!(entry.pass, Error::<T>::FailWithoutReport);
			ensure!(entry.sample < drawn.1, Error::<T>::NotASample);
			let power = Self::power_once(&mut powers, &record.snapshot, validator);
			let new = match &current.round {
				Some(check) => {
					Self::check_second(record, check, &drawn.0, entry.sample, validator, power)?;
					!check.round.is_answered(entry.sample) && !check.round.is_disputed(entry.sample)
				}
				None => {
					ensure!(
						record.draws(&drawn.0, entry.sample, validator, power),
						Error::<T>::NotSampled
					);
					!record.is_answered(entry.sample)
				}
			};
			if !new {
				answered = answered.saturating_add(1);
				continue;
			}
			current.samples.push(entry.sample);
		}
		// The pool takes a batch at least half new (`check_verdicts`' doc).
		ensure!(
			in_block || answered.saturating_mul(2) <= verdicts.entries.len() as u32,
			Error::<T>::AlreadyAnswered
		);
		Ok((answers, key))
	}

	/// `validator`'s power in `snapshot`, read once a batch (`powers`: those read so far).
	pub(crate) fn power_once(
		powers: &mut Vec<(PowerSnapshot, u128)>,
		snapshot: &PowerSnapshot,
		validator: &HostId,
	) -> u128 {
		if let Some((_, power)) = powers.iter().find(|(seen, _)| seen == snapshot) {
			return *power;
		}
		let power = pallet_poc::Pallet::<T>::power_in(snapshot, validator);
		powers.push((*snapshot, power));
		power
	}

	/// Whether answers to the samples of settlements of verdict period `period` sent now
	/// are second answers (sent from period `period + 2` on, while the settlements' rounds
	/// last, `seconds.rs`) or first ones (in `period + 1`); `NotVerdictWindow` before.
	pub(crate) fn answers_second(period: u32) -> Result<bool, Error<T>> {
		let now = Self::period_of(frame_system::Pallet::<T>::block_number());
		if now == period.saturating_add(1) {
			return Ok(false);
		}
		ensure!(now > period.saturating_add(1), Error::<T>::NotVerdictWindow);
		Ok(true)
	}

	/// The weight of `submit_verdicts` with `verdicts` (its dispatch, or with `authorize` its
	/// authorize rule): of first or of second answers, as the current period makes them.
	pub fn verdicts_weight(verdicts: &ReceiptVerdicts, authorize: bool) -> Weight {
		let n = verdicts.entries.len() as u32;
		match (Self::answers_second(verdicts.period).unwrap_or(false), authorize) {
			(false, false) => <T as Config>::WeightInfo::submit_verdicts(n),
			(false, true) => <T as Config>::WeightInfo::authorize_verdicts(n),
			(true, false) => <T as Config>::WeightInfo::submit_second_verdicts(n),
			(true, true) => <T as Config>::WeightInfo::authorize_second_verdicts(n),
		}
	}

	/// The answers a batch of verdict period `period` starts to settlement `settlement`
	/// (second answers if `second`: its second round read too), the settlement's seed and
	/// its samples: the settlement is kept and of that period.
	fn answers_to(
		settlement: SettlementId,
		period: u32,
		second: bool,
	) -> Result<(Answers<T>, H256, u32), Error<T>> {
		let record = Settlements::<T>::get(settlement).ok_or(Error::<T>::UnknownSettlement)?;
		ensure!(Self::period_of(record.at) == period, Error::<T>::WrongPeriod);
		let seed = Self::seed_of(settlement, &record).ok_or(Error::<T>::WrongPeriod)?;
		let samples = Self::tree_samples(&record, &seed).saturating_add(record.tail);
		let round = if second { Some(Self::second_check(settlement, &record)?) } else { None };
		let pay = Self::answer_pay(record.share, samples);
		Ok((Answers { settlement, record, round, samples: Vec::new(), pay }, seed, samples))
	}

	/// The `authorize` rule of [`Pallet::submit_verdicts`]: the validator's worker key
	/// signed them for this chain (checked first), their anchor is a block of this chain
	/// from the period's last on, each is a sample the hash rule draws it for (second
	/// answers: one its settlement's second round doubles, `seconds.rs`), and at least half
	/// of them are not answered yet. One transaction per validator, period, round and part
	/// (`provides`), valid until the period's window closes (second answers: until the
	/// period's records are pruned).
	pub(crate) fn authorize_verdicts(
		source: TransactionSource,
		validator: &HostId,
		verdicts: &ReceiptVerdicts,
		signature: &sr25519::Signature,
	) -> TransactionValidityWithRefund {
		// The signature first: the checks read a record for each settlement named.
		crate::tick_impls::verify_duty::<T, _>(validator, verdicts, signature)?;
		let in_block = source == TransactionSource::InBlock;
		Self::check_verdicts(validator, verdicts, in_block).map_err(|error| match error {
			Error::<T>::NotVerdictWindow
				if Self::period_of(frame_system::Pallet::<T>::block_number())
					<= verdicts.period =>
			{
				InvalidTransaction::Future
			}
			Error::<T>::AnchorAhead | Error::<T>::RoundNotDrawn => InvalidTransaction::Future,
			Error::<T>::NotVerdictWindow
			| Error::<T>::UnknownSettlement
			| Error::<T>::AlreadyAnswered
			| Error::<T>::NotDoubled => InvalidTransaction::Stale,
			other => InvalidTransaction::Custom(error_code(other)),
		})?;
		let second = Self::answers_second(verdicts.period).is_ok_and(|second| second);
		// Second answers: until the period's settlements are pruned (the cursor may take
		// a period to reach them).
		let until = Self::period_start(verdicts.period.saturating_add(if second { 4 } else { 2 }));
		duty_validity::<T>(
			if second { "GonkaSecondVerdicts" } else { "GonkaReceiptVerdicts" },
			(verdicts.period, validator, verdicts.part),
			until,
		)
	}

	/// `submit_verdicts`: marks each new answer on its settlement (a second answer: on its
	/// second round), pays the validator for them from the pot into its pending work (one
	/// transfer; noted as its pay for the period with the batch's key, `forfeits.rs`), marks
	/// the validator answered for the period and notes its first answers as duties done
	/// (second answers are not duties, `seconds.rs`), and emits `VerdictsSubmitted`.
	pub(crate) fn do_verdicts(validator: HostId, verdicts: ReceiptVerdicts) -> DispatchResult {
		let (answers, key) = Self::check_verdicts(&validator, &verdicts, true)?;
		let (mut passes, mut seconds, mut paid) = (0u32, 0u32, 0u128);
		for Answers { settlement, mut record, round, samples, pay } in answers {
			if samples.is_empty() {
				continue;
			}
			if let Some(mut check) = round {
				for sample in samples {
					seconds = seconds.saturating_add(1);
					paid = paid.saturating_add(check.round.answer(sample, pay));
				}
				crate::SecondRounds::<T>::insert(settlement, check.round);
				continue;
			}
			for sample in samples {
				if !record.answer(sample) {
					defensive!("a sample's bit is within the bitmap");
					continue;
				}
				record.passes = record.passes.saturating_add(1);
				passes = passes.saturating_add(1);
				paid = paid.saturating_add(record.pay_answer(pay));
			}
			Settlements::<T>::insert(settlement, record);
		}
		Self::pay_from_pot(&validator, paid)?;
		Self::note_pay(verdicts.period, &validator, paid, Some(key));
		// Answers mark the validator, and are duties done (a batch whose samples others
		// answered first answers nothing).
		if passes > 0 {
			Self::note_answers(verdicts.period, &validator, passes);
		}
		Self::deposit_event(Event::VerdictsSubmitted {
			validator,
			period: verdicts.period,
			part: verdicts.part,
			passes: passes.saturating_add(seconds),
			paid,
		});
		Ok(())
	}

	/// Pays `validator` `amount` from the pot (its answers' part of the settlements'
	/// shares) into its pending work.
	pub(crate) fn pay_from_pot(validator: &HostId, amount: u128) -> DispatchResult {
		if amount == 0 {
			return Ok(());
		}
		<T as Config>::Currency::transfer_on_hold(
			&HoldReason::ChannelEscrow.into(),
			&Self::pot(),
			validator,
			amount,
			Precision::Exact,
			Restriction::Free,
			Fortitude::Force,
		)?;
		T::Work::credit_work(validator, amount)
	}

	/// Closes the verdict windows that ended by `now`, oldest first, at most
	/// `MaxClosesPerBlock`; returns the weight used (at most `MaxClosesPerBlock` closes).
	pub(crate) fn close_windows(now: BlockNumberFor<T>) -> Weight {
		let (next, weight) = crate::tick_impls::sweep(
			NextToClose::<T>::get(),
			NextSettlementId::<T>::get(),
			T::MaxClosesPerBlock::get(),
			<T as Config>::WeightInfo::close_settlement(),
			|id| match Settlements::<T>::get(id) {
				Some(record) if Self::closes_at(record.at) > now => false,
				Some(record) => {
					Self::close_settlement(id, record);
					true
				}
				None => {
					defensive!("a settlement is kept until its window closes");
					true
				}
			},
		);
		NextToClose::<T>::put(next);
		weight
	}

	/// Closes settlement `id`'s verdict window: its passes are steps of its executor's
	/// invalidation test in its epoch, and the share not paid to validators stays in the pot
	/// for its second round (`seconds.rs`), which keeps the epoch's ledger waiting and the
	/// record (with the snapshot it pins) until its pruning a period later; emits
	/// `SettlementClosed`.
	fn close_settlement(id: SettlementId, record: SettlementRecordOf<T>) {
		T::Work::judge_many(&record.executor, record.epoch, record.passes, 0);
		let held = Self::start_second_round(id, &record);
		Self::deposit_event(Event::SettlementClosed {
			settlement: id,
			passes: record.passes,
			fails: record.fails,
			held,
		});
	}

	/// Returns `amount` of a settlement's share from the pot to its executor's pending work,
	/// both steps or neither (a hook is not a transaction); should that fail, to `FeeTo`:
	/// the pot keeps no share of a pruned settlement. Returns what the executor got.
	pub(crate) fn return_share(executor: &HostId, amount: u128) -> u128 {
		let escrow = <T as Config>::RuntimeHoldReason::from(HoldReason::ChannelEscrow);
		polkadot_sdk::frame_support::storage::with_storage_layer(|| {
			if amount > 0 {
				<T as Config>::Currency::transfer_on_hold(
					&escrow,
					&Self::pot(),
					executor,
					amount,
					Precision::Exact,
					Restriction::Free,
					Fortitude::Force,
				)?;
				T::Work::credit_work(executor, amount)?;
			}
			Ok::<_, DispatchError>(amount)
		})
		.unwrap_or_else(|_| {
			defensive!("an executor takes its returned share");
			let _ = <T as Config>::Currency::transfer_on_hold(
				&escrow,
				&Self::pot(),
				&T::FeeTo::get(),
				amount,
				Precision::BestEffort,
				Restriction::Free,
				Fortitude::Force,
			);
			0
		})
	}
}
