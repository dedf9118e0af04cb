//! The pallet's stored types.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use gonka_primitives::{issuance::NGNK_PER_GNK, EpochIndex};
use polkadot_sdk::{
	sp_core::Get,
	sp_runtime::{BoundedVec, Perbill},
};
use scale_info::TypeInfo;

/// The governable rules of rewards, collateral and slashing.
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
pub struct RewardParams {
	/// The largest share of an epoch's reward one host may receive (30%; the cap rule of
	/// `gonka_primitives::cap`, with its small-network exception).
	pub reward_cap: Perbill,
	/// Epochs a reward vests over, one slot unlocking per epoch (0: paid free at once).
	pub vesting_epochs: u32,
	/// The share of a host's consensus weight that needs no collateral (20%).
	pub free_weight_share: Perbill,
	/// Collateral (nGNK) that covers one unit of consensus weight beyond the free share.
	pub collateral_per_weight_unit: u128,
	/// Rewarded epochs (counted from `e = 1`) during which no collateral is required.
	pub grace_epochs: u32,
	/// The share of its collateral an INVALID host loses (20%).
	pub invalid_slash: Perbill,
	/// The share of its collateral a host that fails the downtime test loses (10%).
	pub downtime_slash: Perbill,
	/// The downtime test's smallest null miss rate (40%).
	pub downtime_floor: Perbill,
	/// What the downtime test adds to the network's miss rate (2%).
	pub downtime_margin: Perbill,
	/// The downtime test's level (5%): a host whose misses are less likely than this
	/// under the null rate fails.
	pub downtime_p_value: Perbill,
}

impl RewardParams {
	/// The live network's rules (Gonka): 30% cap, 180 epochs of vesting, 20% free weight,
	/// 20% / 10% slashes, downtime p0 = max(40%, network rate + 2%). Collateral: 1 GNK per
	/// unit of weight after 180 rewarded epochs of grace (our choice; `docs/rewards.md`).
	pub const fn live_network() -> Self {
		Self {
			reward_cap: Perbill::from_percent(30),
			vesting_epochs: 180,
			free_weight_share: Perbill::from_percent(20),
			collateral_per_weight_unit: NGNK_PER_GNK,
			grace_epochs: 180,
			invalid_slash: Perbill::from_percent(20),
			downtime_slash: Perbill::from_percent(10),
			downtime_floor: Perbill::from_percent(40),
			downtime_margin: Perbill::from_percent(2),
			downtime_p_value: Perbill::from_percent(5),
		}
	}

	/// Checks the rules against the pallet's bound on vesting slots.
	pub fn check<MaxSlots: Get<u32>>(&self) -> Result<(), InvalidRewardParams> {
		if self.vesting_epochs > MaxSlots::get() {
			return Err(InvalidRewardParams::VestingTooLong);
		}
		// The downtime test's median shortcut needs p_value below one half (and a level of
		// zero would never judge anyone down).
		if self.downtime_p_value.is_zero() || self.downtime_p_value >= Perbill::from_percent(50) {
			return Err(InvalidRewardParams::BadDowntimeTest);
		}
		if self.reward_cap.is_zero() {
			return Err(InvalidRewardParams::ZeroRewardCap);
		}
		Ok(())
	}
}

/// Why reward parameters were refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidRewardParams {
	/// More vesting epochs than `MaxVestingEpochs`.
	VestingTooLong,
	/// The downtime test's level must be above 0% and below 50%.
	BadDowntimeTest,
	/// A reward cap of zero would pay nobody.
	ZeroRewardCap,
}

/// An epoch whose weights were formed and whose reward is being distributed.
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
pub struct EpochReward {
	/// Its index on the reward curve (`e = 1` the first epoch whose weights came from PoC).
	pub index: u32,
	/// `R(e)`, minted in full: paid to hosts or sent to the community pool.
	pub reward: u128,
	/// The sum of the hosts' consensus weights (uncapped): every share is of this total.
	pub total_weight: u128,
	/// The level the reward cap cuts weights at (`None`: no cut).
	pub cap_level: Option<u128>,
	/// Hosts with weight in the epoch.
	pub hosts: u32,
	/// Hosts whose share has been decided so far.
	pub decided: u32,
	/// Paid to hosts so far.
	pub paid: u128,
}

/// A host's vesting rewards: `slots[j]` unlocks at the start of epoch `first_epoch + j`;
/// unlocked amounts are `claimable` (still held) until claimed.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(MaxSlots))]
#[codec(mel_bound())]
pub struct VestingState<MaxSlots: Get<u32>> {
	/// The epoch the first slot unlocks in.
	pub first_epoch: EpochIndex,
	/// The amounts still vesting, one per epoch.
	pub slots: BoundedVec<u128, MaxSlots>,
	/// Unlocked and not yet claimed.
	pub claimable: u128,
}

impl<MaxSlots: Get<u32>> VestingState<MaxSlots> {
	/// Nothing vesting, nothing claimable.
	pub fn empty(first_epoch: EpochIndex) -> Self {
		Self { first_epoch, slots: BoundedVec::new(), claimable: 0 }
	}

	/// Moves every slot that has unlocked by epoch `now` to `claimable`.
	pub fn roll(&mut self, now: EpochIndex) {
		if now < self.first_epoch {
			return;
		}
		let due =
			(now.saturating_sub(self.first_epoch) as usize).saturating_add(1).min(self.slots.len());
		let unlocked =
			self.slots.iter().take(due).fold(0u128, |sum, slot| sum.saturating_add(*slot));
		self.claimable = self.claimable.saturating_add(unlocked);
		let rest: alloc::vec::Vec<u128> = self.slots.iter().skip(due).copied().collect();
		self.slots = BoundedVec::truncate_from(rest);
		self.first_epoch = if self.slots.is_empty() {
			now.saturating_add(1)
		} else {
			self.first_epoch.saturating_add(due as u32)
		};
	}

	/// Adds `amount` vesting over `epochs` slots unlocking from epoch `now + 1` on (the
	/// remainder of the split in the first); `roll(now)` must have run. Returns `false`,
	/// changing nothing, if the slots would pass `MaxSlots`.
	pub fn add(&mut self, now: EpochIndex, amount: u128, epochs: u32) -> bool {
		if epochs == 0 || epochs > MaxSlots::get() {
			return false;
		}
		if self.slots.is_empty() {
			self.first_epoch = now.saturating_add(1);
		}
		let offset = now.saturating_add(1).saturating_sub(self.first_epoch) as usize;
		let needed = offset.saturating_add(epochs as usize);
		if needed > MaxSlots::get() as usize {
			return false;
		}
		let mut slots = self.slots.to_vec();
		slots.resize(slots.len().max(needed), 0);
		let per_slot = amount / u128::from(epochs);
		let remainder = amount % u128::from(epochs);
		for (i, slot) in slots.iter_mut().skip(offset).take(epochs as usize).enumerate() {
			let extra = if i == 0 { remainder } else { 0 };
			*slot = slot.saturating_add(per_slot).saturating_add(extra);
		}
		self.slots = BoundedVec::truncate_from(slots);
		true
	}

	/// Still vesting (not unlocked).
	pub fn vesting(&self) -> u128 {
		self.slots.iter().fold(0u128, |sum, slot| sum.saturating_add(*slot))
	}

	/// Everything held: vesting and claimable.
	pub fn held(&self) -> u128 {
		self.vesting().saturating_add(self.claimable)
	}
}

/// Why collateral is slashed.
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
pub enum SlashReason {
	/// The host was INVALID in the epoch (inference validation's SPRT).
	Invalid,
	/// The host failed the downtime test in the epoch.
	Downtime,
}

/// Why a host's share of an epoch's reward went to the community pool.
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
pub enum Withheld {
	/// The host was INVALID in the epoch.
	Invalid,
	/// The host failed the downtime test in the epoch.
	Downtime,
	/// The share could not be minted to the host's account (below the existential deposit
	/// of an account that no longer exists).
	Unpayable,
}

/// A host's collateral.
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
pub struct CollateralState {
	/// Bonded: covers weight, slashable.
	pub bonded: u128,
	/// Unbonding: covers no weight, still slashable until withdrawn.
	pub unbonding: u128,
	/// The epoch of the last unbonding (withdrawable from the next epoch on, once every
	/// epoch up to it is distributed).
	pub unbond_epoch: EpochIndex,
	/// The last epoch slashed for INVALID.
	pub slashed_invalid: Option<EpochIndex>,
	/// The last epoch slashed for downtime.
	pub slashed_downtime: Option<EpochIndex>,
}

impl CollateralState {
	/// Bonded and unbonding.
	pub fn total(&self) -> u128 {
		self.bonded.saturating_add(self.unbonding)
	}

	/// The last epoch slashed for `reason`.
	pub fn last_slash(&mut self, reason: SlashReason) -> &mut Option<EpochIndex> {
		match reason {
			SlashReason::Invalid => &mut self.slashed_invalid,
			SlashReason::Downtime => &mut self.slashed_downtime,
		}
	}

	/// Takes `amount` from bonded first, then from unbonding.
	pub fn take(&mut self, amount: u128) {
		let from_bonded = amount.min(self.bonded);
		self.bonded = self.bonded.saturating_sub(from_bonded);
		self.unbonding = self.unbonding.saturating_sub(amount.saturating_sub(from_bonded));
	}
}

/// A host's effective weight: the free share of `raw`, plus what `bonded` covers at
/// `per_unit` per weight unit, at most `raw` (all of it when `per_unit` is zero).
pub fn effective_weight(raw: u128, bonded: u128, free: Perbill, per_unit: u128) -> u128 {
	if per_unit == 0 {
		return raw;
	}
	let covered = bonded / per_unit;
	free.mul_floor(raw).saturating_add(covered).min(raw)
}

/// The collateral that covers all of `raw` beyond the free share.
pub fn collateral_required(raw: u128, free: Perbill, per_unit: u128) -> u128 {
	raw.saturating_sub(free.mul_floor(raw)).saturating_mul(per_unit)
}
