//! Proposals end by themselves (`docs/governance.md`, "Expiry"). An open proposal holds its
//! snapshot's generation of voting power, which `pallet-poc` cannot prune while any
//! proposal holds it, and its deposit: left open, one proposal would stop that pruning for
//! good. So:
//!
//! - after its end, anyone may close a proposal (`close`), and a passed one's call is
//!   dispatched, for `ClosingPeriod` blocks (a constant: no change of governance's rules
//!   moves an open proposal's deadline);
//! - a proposal still open `ClosingPeriod` blocks after its end is closed by the chain: with
//!   its outcome, except that a passed one **lapses** (`Outcome::Lapsed`: its call is not
//!   dispatched, the deposit is returned), and `close` then lapses it too;
//! - the chain looks at one open proposal per block, in storage order, going round
//!   (`ExpiryCursor`), and a block does at most one proposal's closing work, with at most
//!   [`EXPIRY_VOTES_PER_BLOCK`] votes: a proposal with more has its votes deleted that many
//!   a block first (it stays under the cursor, and `votes` counts those left), then is
//!   closed. So a proposal is closed within `MaxProposals × ⌈MaxVoters /
//!   EXPIRY_VOTES_PER_BLOCK⌉` blocks of its deadline (32 × 16 with the runtime's bounds).

/// The most votes the expiry hook deletes in a block: its worst case is `close` of this
/// many votes (`runtime/tests/poc_block_budget.rs` bounds it).
pub const EXPIRY_VOTES_PER_BLOCK: u32 = 128;

use crate::*;
use alloc::vec::Vec;
use codec::MaxEncodedLen;
use polkadot_sdk::{
	frame_support::{traits::Get, weights::Weight},
	frame_system::{self, pallet_prelude::BlockNumberFor},
	sp_runtime::traits::Saturating,
};

impl<T: Config> Pallet<T> {
	/// Whether `proposal` is past its closing period (`ClosingPeriod` blocks after its end)
	/// at block `now`: a passed proposal lapses, any other is closed by the chain.
	pub fn past_closing_period(proposal: &ProposalOf<T>, now: BlockNumberFor<T>) -> bool {
		now >= proposal.end.saturating_add(T::ClosingPeriod::get())
	}

	/// The hook: looks at the open proposal after the last one looked at (the first when
	/// the last was the final one), and closes it if it is past its closing period.
	/// Returns the weight used: the reads (a proposal's proof at its largest) and the
	/// cursor's write, and a closing's or a batch's work (`close`'s weight, with no call
	/// dispatched).
	pub(crate) fn expire_next(now: BlockNumberFor<T>) -> Weight {
		let db = <T as frame_system::Config>::DbWeight::get();
		let Some(params) = Governance::<T>::get() else {
			return db.reads(1);
		};
		// Governance, the cursor, at most two steps of the iteration and the proposal; the
		// cursor's write. The proof: a proposal at its largest, and the rest.
		let proof = (ProposalOf::<T>::max_encoded_len() as u64).saturating_add(1_024);
		let weight = db.reads_writes(5, 1).saturating_add(Weight::from_parts(0, proof));
		let after = ExpiryCursor::<T>::get();
		let next = after
			.and_then(|index| {
				Proposals::<T>::iter_from(Proposals::<T>::hashed_key_for(index)).next()
			})
			.or_else(|| Proposals::<T>::iter().next());
		let Some((index, mut proposal)) = next else {
			ExpiryCursor::<T>::kill();
			return weight;
		};
		if !Self::past_closing_period(&proposal, now) {
			ExpiryCursor::<T>::put(index);
			return weight;
		}
		if proposal.votes > EXPIRY_VOTES_PER_BLOCK {
			// Votes can no longer change: delete a batch, and look at it again next block
			// (the cursor stays where it was).
			let batch: Vec<T::AccountId> =
				Votes::<T>::iter_key_prefix(index).take(EXPIRY_VOTES_PER_BLOCK as usize).collect();
			for voter in &batch {
				Votes::<T>::remove(index, voter);
			}
			// (No vote found would contradict `votes`: count none left, to end regardless.)
			let deleted = u32::try_from(batch.len()).unwrap_or(u32::MAX);
			proposal.votes = if deleted == 0 { 0 } else { proposal.votes.saturating_sub(deleted) };
			Proposals::<T>::insert(index, proposal);
			return weight.saturating_add(T::WeightInfo::close(EXPIRY_VOTES_PER_BLOCK));
		}
		ExpiryCursor::<T>::put(index);
		let outcome = match Self::outcome(&proposal.tally, proposal.total_power, &params) {
			Outcome::Passed => Outcome::Lapsed,
			outcome => outcome,
		};
		let votes = proposal.votes;
		Self::finish_proposal(index, proposal, outcome, None);
		weight.saturating_add(T::WeightInfo::close(votes))
	}
}
