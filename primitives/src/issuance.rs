//! GNK issuance (`protocol.md`, "GNK issuance"): the supply, the epoch reward curve and
//! the shares of an epoch's reward.
//!
//! The hosts' 680 M GNK are minted over time: the `e`-th rewarded epoch (`e = 1` the first
//! whose weights came from PoC) pays `R(e) = 323,000 GNK × exp(−0.000475 × (e − 1))`.
//! The curve is computed without floats: the reward is kept in units of 10^-9 nGNK and
//! multiplied by a fixed-point decay factor (`exp(−0.000475)` to 18 digits) once per
//! rewarded epoch, and each epoch pays the whole nGNK below it. Minting stops when the
//! hosts' cumulative issuance reaches its cap (the curve alone would sum to 680.16 M).
//!
//! Rounding: each epoch's reward is within 1 nGNK below the exact curve `R(e)` (the floor,
//! plus a representation error of the decay factor below 10^-17 per epoch, compounded
//! over 17,580 epochs still below 10^-12 of `R(e)`), so after `N` epochs the minted total
//! is within `N` nGNK below the curve's exact sum.

use polkadot_sdk::sp_arithmetic::{
	helpers_128bit::multiply_by_rational_with_rounding, traits::Saturating, Perbill, Rounding,
};

/// Base units (nGNK) per GNK.
pub const NGNK_PER_GNK: u128 = 1_000_000_000;
/// The total supply: 1,000,000,000 GNK.
pub const TOTAL_SUPPLY: u128 = 1_000_000_000 * NGNK_PER_GNK;
/// What the curve mints to hosts over time, at most: 680,000,000 GNK.
pub const HOST_ISSUANCE: u128 = 680_000_000 * NGNK_PER_GNK;
/// The community pool's genesis balance: 120,000,000 GNK.
pub const COMMUNITY_POOL: u128 = 120_000_000 * NGNK_PER_GNK;
/// The founders' vested genesis allocation: 200,000,000 GNK.
pub const FOUNDERS: u128 = 200_000_000 * NGNK_PER_GNK;
/// The first rewarded epoch's reward: 323,000 GNK.
pub const INITIAL_EPOCH_REWARD: u128 = 323_000 * NGNK_PER_GNK;
/// One, for the decay factor: parts per 10^18.
pub const DECAY_ONE: u64 = 1_000_000_000_000_000_000;
/// `exp(−0.000475)` in parts per 10^18 (0.999525112794640141741…, rounded).
pub const LIVE_DECAY: u64 = 999_525_112_794_640_142;
/// The reward is kept in units of 10^-9 nGNK between epochs.
pub const REWARD_SCALE: u128 = 1_000_000_000;

/// The state of the reward curve: the next rewarded epoch, its reward, the decay and how
/// much the curve has minted.
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
pub struct RewardCurve {
	/// The index `e` of the next rewarded epoch (1 for the first).
	pub next_epoch: u32,
	/// `R(next_epoch)` in units of 10^-9 nGNK, before the issuance cap.
	pub scaled_reward: u128,
	/// The factor between two epochs' rewards, in parts per 10^18 (below one).
	pub decay: u64,
	/// What the curve has minted so far, in nGNK.
	pub minted: u128,
	/// The most the curve may ever mint, in nGNK.
	pub cap: u128,
}

impl RewardCurve {
	/// The live network's curve: 323,000 GNK decaying by `exp(−0.000475)`, capped at 680 M.
	pub const fn live_network() -> Self {
		Self::new(INITIAL_EPOCH_REWARD, LIVE_DECAY, HOST_ISSUANCE)
	}

	/// A curve that starts at `initial` nGNK per epoch, decays by `decay` (parts per
	/// 10^18) each epoch and mints at most `cap`.
	pub const fn new(initial: u128, decay: u64, cap: u128) -> Self {
		Self {
			next_epoch: 1,
			scaled_reward: initial.saturating_mul(REWARD_SCALE),
			decay,
			minted: 0,
			cap,
		}
	}

	/// The next rewarded epoch's reward in nGNK, within what is left under the cap.
	pub fn next_reward(&self) -> u128 {
		(self.scaled_reward / REWARD_SCALE).min(self.cap.saturating_sub(self.minted))
	}

	/// Takes the next rewarded epoch's reward: returns `(e, R(e))` and moves the curve to
	/// `e + 1`. The reward counts as minted.
	pub fn take(&mut self) -> (u32, u128) {
		let epoch = self.next_epoch;
		let reward = self.next_reward();
		self.minted = self.minted.saturating_add(reward);
		self.next_epoch = self.next_epoch.saturating_add(1);
		self.scaled_reward = multiply_by_rational_with_rounding(
			self.scaled_reward,
			u128::from(self.decay),
			u128::from(DECAY_ONE),
			Rounding::Down,
		)
		.unwrap_or(0);
		(epoch, reward)
	}

	/// Whether the decay is a factor in `(0, 1]`.
	pub fn is_valid(&self) -> bool {
		self.decay > 0 && self.decay <= DECAY_ONE
	}
}

/// The downtime test (`protocol.md`, "Inference", 7): whether a host that missed `missed`
/// of its `duties` (assigned requests and sampled validations) in an epoch missed more
/// than a binomial test at level `p_value` allows, with the null hypothesis "it misses
/// with probability at most `p0 = max(floor, network rate + margin)`", the network rate
/// being `network_missed / network_duties` over every host of the epoch.
pub fn fails_downtime_test(
	missed: u32,
	duties: u32,
	network_missed: u64,
	network_duties: u64,
	floor: Perbill,
	margin: Perbill,
	p_value: Perbill,
) -> bool {
	let network_rate = if network_duties == 0 {
		Perbill::zero()
	} else {
		Perbill::from_rational(network_missed.min(network_duties), network_duties)
	};
	let p0 = floor.max(network_rate.saturating_add(margin));
	crate::binomial::rejects_any_size(duties, missed, p0, p_value)
}

/// Host shares of one epoch's reward `reward`: host `i` gets
/// `reward × min(w_i, c) / Σ_j w_j` with `c` the cap level of `cap` over `weights` (the
/// excess a cap cuts is not redistributed), rounded down. What the shares leave of
/// `reward` (caps, rounding) is the community pool's. `weights` with a zero total pay
/// nothing.
pub fn reward_shares(reward: u128, weights: &[u128], cap: Perbill) -> alloc::vec::Vec<u128> {
	let total = weights.iter().fold(0u128, |sum, w| sum.saturating_add(*w));
	let level = crate::cap::cap_level(weights, cap);
	weights
		.iter()
		.map(|w| {
			let capped = level.map_or(*w, |level| (*w).min(level));
			reward_share(reward, capped, total)
		})
		.collect()
}

/// `reward × weight / total`, rounded down; nothing when `total` is zero.
pub fn reward_share(reward: u128, weight: u128, total: u128) -> u128 {
	if total == 0 {
		return 0;
	}
	multiply_by_rational_with_rounding(reward, weight.min(total), total, Rounding::Down)
		.unwrap_or(0)
}

#[cfg(test)]
mod tests {
	use super::*;

	/// The curve's exact `R(e)` in nGNK, in f64 (tests only).
	fn exact(e: u32) -> f64 {
		323_000e9 * (-0.000475f64 * f64::from(e - 1)).exp()
	}

	#[test]
	fn live_decay_is_exp_of_the_rate() {
		let decay = LIVE_DECAY as f64 / DECAY_ONE as f64;
		assert!((decay - (-0.000475f64).exp()).abs() < 1e-17);
	}

	#[test]
	fn epoch_reward_follows_the_curve() {
		let mut curve = RewardCurve::live_network();
		assert_eq!(curve.take(), (1, 323_000 * NGNK_PER_GNK));
		for e in 2..=5_000u32 {
			let (index, reward) = curve.take();
			assert_eq!(index, e);
			let exact = exact(e);
			// At most 1 nGNK below the exact value (plus f64's own error).
			assert!(reward as f64 <= exact + 0.5, "epoch {e}: {reward} above {exact}");
			assert!(reward as f64 >= exact - 1.5, "epoch {e}: {reward} below {exact}");
		}
	}

	#[test]
	fn reward_halves_in_about_1459_epochs() {
		let mut curve = RewardCurve::live_network();
		let first = curve.next_reward();
		let mut e = 1;
		while curve.next_reward() > first / 2 {
			curve.take();
			e += 1;
		}
		assert!((1_459..=1_461).contains(&e), "halved at epoch {e}");
	}

	#[test]
	fn total_minted_follows_the_curve_sum_and_stops_at_680_million() {
		let mut curve = RewardCurve::live_network();
		let mut exact_sum = 0f64;
		let mut epochs = 0u32;
		loop {
			let before = curve.minted;
			let (e, reward) = curve.take();
			if reward == 0 {
				break;
			}
			epochs = e;
			exact_sum += exact(e);
			assert!(curve.minted <= HOST_ISSUANCE, "never past 680 M");
			if curve.minted < HOST_ISSUANCE {
				// Within N nGNK below the exact sum (and f64's relative 1e-13).
				let diff = exact_sum - curve.minted as f64;
				assert!(diff <= f64::from(e) + exact_sum * 1e-13, "epoch {e}: {diff}");
				assert!(diff >= -(exact_sum * 1e-13), "epoch {e}: {diff}");
			}
			assert_eq!(curve.minted, before + reward);
		}
		assert_eq!(curve.minted, HOST_ISSUANCE, "minting stops at exactly 680 M");
		// The curve reaches 680 M after ~17,580 epochs (its tail beyond sums to 0.16 M).
		assert!((17_500..17_700).contains(&epochs), "{epochs} epochs");
		// Once the cap is reached nothing more is minted.
		assert_eq!(curve.take().1, 0);
		assert_eq!(curve.minted, HOST_ISSUANCE);
	}

	#[test]
	fn supply_adds_up_to_one_billion() {
		assert_eq!(HOST_ISSUANCE + COMMUNITY_POOL + FOUNDERS, TOTAL_SUPPLY);
	}

	#[test]
	fn shares_never_exceed_the_reward_and_the_cap() {
		let reward = INITIAL_EPOCH_REWARD;
		let cap = Perbill::from_percent(30);
		for weights in [
			vec![1_000u128, 1, 1, 1],
			vec![5, 5, 5, 5, 80],
			vec![7, 11, 13, 17, 19, 23, 29],
			vec![1, 2, 3],
			vec![0, 0, 9],
		] {
			let shares = reward_shares(reward, &weights, cap);
			let paid: u128 = shares.iter().sum();
			assert!(paid <= reward);
			if weights.iter().filter(|w| **w > 0).count() >= 4 {
				for share in &shares {
					assert!(*share * 10 <= reward * 3, "{weights:?}: {share}");
				}
			}
		}
		// Below 4 hosts no cap is possible: a lone host gets everything.
		assert_eq!(reward_shares(reward, &[0, 0, 9], cap), vec![0, 0, reward]);
		// The cut excess is not redistributed: 1,000 is cut to the level, the others keep
		// their share of the uncapped total.
		let shares = reward_shares(reward, &[1_000, 1, 1, 1], cap);
		assert_eq!(shares[1], reward / 1_003);
		assert!(shares.iter().sum::<u128>() < reward / 100);
	}

	#[test]
	fn downtime_test_uses_the_larger_of_the_floor_and_the_network_rate() {
		let pct = Perbill::from_percent;
		let test = |missed, duties, net_missed, net_duties| {
			fails_downtime_test(missed, duties, net_missed, net_duties, pct(40), pct(2), pct(5))
		};
		// Against p0 = 40%: 30 of 50 missed fails, 20 of 50 passes.
		assert!(test(30, 50, 0, 1_000));
		assert!(!test(20, 50, 0, 1_000));
		// A network missing 50% raises p0 to 52%: 30 of 50 is within it.
		assert!(!test(30, 50, 500, 1_000));
		// Nothing assigned, nothing missed: never down.
		assert!(!test(0, 0, 0, 0));
		assert!(!test(0, 1_000, 0, 1_000));
		// Everything missed over many duties fails; a 10% miss rate over a million passes.
		assert!(test(10_000, 10_000, 0, 10_000));
		assert!(!test(100_000, 1_000_000, 0, 1_000_000));
	}

	#[test]
	fn shares_of_nothing_are_nothing() {
		assert_eq!(reward_shares(100, &[0, 0], Perbill::from_percent(30)), vec![0, 0]);
		assert_eq!(reward_share(100, 5, 0), 0);
		assert_eq!(reward_share(100, 5, 10), 50);
	}
}
