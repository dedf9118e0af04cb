//! A developer's challenge of a receipt (amendment 14; `docs/channels.md`, step 5d): the
//! developer of a channel shows a receipt that one of its settlements added, with its
//! proof, while the settlement's verdict window is open (its record is kept a period
//! longer, to show its validators' misses, but challenged no more), and a
//! jury drawn by power replays it as it would a validator's failed sample.
//!
//! - **What it shows** (`gonka_primitives::channel::challenged_cost`): a vouchered receipt
//!   proved against the settlement's voucher whose cost interval starts at or after the
//!   earlier voucher's amount (a receipt an earlier settlement added is that one's to
//!   challenge), or a tail receipt among the settlement's tail leaves.
//! - **What it costs**: `ChallengeFee` (the chain's cost of a jury) and `JURY_SIZE` times
//!   the receipt's cost (the jurors' replays at the channel's price), held on the developer
//!   until the jury decides: all returned, with the receipt's cost refunded from the
//!   executor's pending work, if the jury invalidates it (an invalidation step of the
//!   executor's test); to `FeeTo` otherwise, and no step of the test. So a developer that
//!   doubts every answer pays for the work it orders, and one that is its own executor
//!   gains nothing (the fee goes to the pool, never to the executor, and buys no pass).
//! - **Bounded**: a receipt is challenged once in a settlement, a settlement at most
//!   `MAX_DISPUTED` times (`Challenged`, cleared when it is pruned); a challenge is
//!   a dispute (one of the block's `MaxDisputesPerBlock`), and at most half of them a block
//!   are challenges (`BlockChallenges`), so developers never crowd the validators' reports
//!   out of a block.

use crate::{
	BlockChallenges, ChallengeFees, Challenged, Config, Error, HoldReason, Pallet,
	SettlementRecordOf, Settlements, MAX_DISPUTED,
};
use gonka_primitives::{
	channel::{challenged_cost, jury_power, FailReason, ReceiptChallenge, JURY_SIZE},
	HostId,
};
use polkadot_sdk::{
	frame_support::{pallet_prelude::*, traits::fungible::MutateHold},
	frame_system,
	sp_runtime::traits::Zero,
};

impl<T: Config> Pallet<T> {
	/// The most challenges a block opens: half of `MaxDisputesPerBlock`, at least one.
	pub fn max_challenges_per_block() -> u32 {
		(T::MaxDisputesPerBlock::get() / 2).max(1)
	}

	/// What a challenge of a receipt of `cost` holds: `ChallengeFee` and `JURY_SIZE` times
	/// the cost.
	pub fn challenge_fee(cost: u128) -> u128 {
		T::ChallengeFee::get().saturating_add(cost.saturating_mul(u128::from(JURY_SIZE)))
	}

	/// Checks `developer`'s challenge: the settlement's record is kept and is of one of
	/// its channels, the receipt is one the settlement added, and the block has room for
	/// a challenge and a jury to hear it. Returns the record, the receipt's cost and the
	/// developer's power in the settlement's snapshot.
	pub(crate) fn check_challenge(
		developer: &HostId,
		challenge: &ReceiptChallenge,
	) -> Result<(SettlementRecordOf<T>, u128, u128), Error<T>> {
		let record =
			Settlements::<T>::get(challenge.settlement).ok_or(Error::<T>::UnknownSettlement)?;
		ensure!(record.developer == *developer, Error::<T>::NotDeveloper);
		ensure!(Self::window_open(challenge.settlement), Error::<T>::WindowClosed);
		let cost = challenged_cost(
			challenge.tail,
			&challenge.evidence,
			&record.root,
			record.from,
			record.to,
			record.count,
			&record.tails,
		)
		.ok_or(Error::<T>::BadEvidence)?;
		let challenged = Challenged::<T>::get(challenge.settlement);
		ensure!(!challenged.contains(&challenge.evidence.receipt.seq), Error::<T>::AlreadyDisputed);
		ensure!((challenged.len() as u32) < MAX_DISPUTED, Error::<T>::SettlementChallengesFull);
		let now = frame_system::Pallet::<T>::block_number();
		let (block, count) = BlockChallenges::<T>::get();
		ensure!(
			block != now || count < Self::max_challenges_per_block(),
			Error::<T>::TooManyChallenges
		);
		Self::ensure_dispute_room()?;
		// A developer that is also a host sits on no jury of its own challenge (its power
		// is not the jury's; the executor's is out already).
		let power = if *developer == record.executor {
			0
		} else {
			pallet_poc::Pallet::<T>::power_in(&record.snapshot, developer)
		};
		ensure!(
			!jury_power(record.total_power, record.executor_power, power).is_zero(),
			Error::<T>::NoJury
		);
		Ok((record, cost, power))
	}

	/// `challenge_receipt`: holds the fee and opens the dispute (its `sample` is the
	/// receipt's leaf), its jury drawn without the executor or the developer.
	pub(crate) fn do_challenge(developer: HostId, challenge: ReceiptChallenge) -> DispatchResult {
		let (record, cost, power) = Self::check_challenge(&developer, &challenge)?;
		let fee = Self::challenge_fee(cost);
		<T as Config>::Currency::hold(
			&<T as Config>::RuntimeHoldReason::from(HoldReason::ChallengeFee),
			&developer,
			fee,
		)
		.map_err(|_| Error::<T>::CannotPayChallenge)?;
		Challenged::<T>::try_mutate(challenge.settlement, |seqs| {
			seqs.try_push(challenge.evidence.receipt.seq)
		})
		.map_err(|_| Error::<T>::SettlementChallengesFull)?;
		crate::tick_impls::count_in_block::<T, BlockChallenges<T>>();
		let dispute = Self::open_dispute(
			challenge.settlement,
			&record,
			challenge.evidence.receipt.seq,
			developer,
			power,
			FailReason::Challenged,
			cost,
		);
		ChallengeFees::<T>::insert(dispute, fee);
		Ok(())
	}
}
