//! The property test: over random formations, with INVALID and down hosts and dominant
//! ones, every epoch mints its reward (`paid + to_pool = R(e)`) and no host gets more than
//! 30% of it.

use super::*;
use pallet_inference::{DutyTotals, EpochStats, Ledger};

/// A small deterministic generator for the property test (xorshift).
struct Rng(u64);
impl Rng {
	fn next(&mut self) -> u64 {
		self.0 ^= self.0 << 13;
		self.0 ^= self.0 >> 7;
		self.0 ^= self.0 << 17;
		self.0
	}
	fn below(&mut self, n: u64) -> u64 {
		self.next() % n
	}
}

/// 1–8 hosts with weights from 1 to 10^6, sometimes one dominant host.
fn draw_weights(rng: &mut Rng) -> Vec<(u8, u128)> {
	let hosts = 1 + rng.below(8) as u8;
	let mut weights: Vec<(u8, u128)> =
		(1..=hosts).map(|i| (i, 1 + u128::from(rng.below(1_000_000)))).collect();
	if rng.below(3) == 0 {
		weights[0].1 *= 1_000;
	}
	weights
}

/// Records `epoch`'s ledger: some of the hosts of `weights` INVALID or down (every
/// assigned request missed), the rest of the network (account 40) served 1,000 requests
/// without a miss.
fn draw_exclusions(rng: &mut Rng, epoch: EpochIndex, weights: &[(u8, u128)]) {
	let mut totals = DutyTotals { assigned: 1_000, missed: 0 };
	Ledger::<Test>::insert(
		epoch,
		account(40),
		EpochStats { assigned: 1_000, ..Default::default() },
	);
	for (i, _) in weights {
		match rng.below(6) {
			0 => Ledger::<Test>::insert(
				epoch,
				account(*i),
				EpochStats { invalid: true, ..Default::default() },
			),
			1 => {
				Ledger::<Test>::insert(
					epoch,
					account(*i),
					EpochStats { assigned: 20, missed: 20, ..Default::default() },
				);
				totals.assigned += 20;
				totals.missed += 20;
			}
			_ => {}
		}
	}
	pallet_inference::EpochTotals::<Test>::insert(epoch, totals);
}

/// `epoch` closed with `paid + to_pool = R(e)`, `paid` the sum of its payouts, no withheld
/// host paid, and (from 4 hosts on) no payout above 30% of `R(e)`.
fn assert_epoch_minted_its_reward_within_the_cap(epoch: EpochIndex) {
	let (reward, paid, to_pool) = closed(epoch).expect("every epoch closes");
	assert_eq!(paid + to_pool, reward, "epoch {epoch}: paid + to_pool = R(e)");
	let paid_to = payouts(epoch);
	assert_eq!(paid_to.iter().map(|(_, amount)| amount).sum::<u128>(), paid);
	let hosts = Epochs::<Test>::get(epoch).map_or(0, |info| info.hosts);
	assert_eq!(hosts, 0, "closed epochs are removed");
	let withheld_hosts = withheld(epoch);
	for (host, amount) in &paid_to {
		assert!(
			!withheld_hosts.iter().any(|(withheld, _)| withheld == host),
			"a withheld host is not paid"
		);
		if paid_to.len() + withheld_hosts.len() >= 4 {
			assert!(amount * 10 <= reward * 3, "epoch {epoch}: {amount} of {reward}");
		}
	}
}

/// The draws of the first `epochs` epochs exercised both exclusions and the cap.
fn assert_the_draws_exercised_the_exclusions_and_the_cap(epochs: EpochIndex) {
	let reasons: Vec<Withheld> = (0..epochs).flat_map(withheld).map(|(_, reason)| reason).collect();
	assert!(reasons.contains(&Withheld::Invalid) && reasons.contains(&Withheld::Downtime));
	assert!((0..epochs).any(|epoch| {
		let (reward, paid, _) = closed(epoch).unwrap();
		paid < reward / 2 && withheld(epoch).is_empty()
	}));
}

#[test]
fn property_every_epoch_mints_its_reward_and_no_host_gets_more_than_30_percent() {
	ExtBuilder::default().build_and_execute(|| {
		let mut rng = Rng(0x5eed_1234_abcd_0001);
		let epochs = 24u32;
		let mut expected_minted = 0u128;
		for epoch in 0..epochs {
			let weights = draw_weights(&mut rng);
			draw_exclusions(&mut rng, epoch, &weights);
			form(epoch, &weights);
			expected_minted += FIRST_REWARD >> epoch;
			run_to_epoch(epoch + 1);
		}
		run_until_distributed(epochs - 1);
		assert_eq!(Curve::<Test>::get().minted, expected_minted);
		for epoch in 0..epochs {
			assert_epoch_minted_its_reward_within_the_cap(epoch);
		}
		assert_the_draws_exercised_the_exclusions_and_the_cap(epochs);
		// The invariants (issuance = genesis + minted, holds = records) are checked after
		// every block by `run_to_block`.
	});
}
