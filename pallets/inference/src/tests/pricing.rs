//! The per-model price (`protocol.md`, "Inference", pricing) and quotes.

use super::*;
use gonka_primitives::inference::SamplingParams;

/// Developer 20 asks model 2 (base price 1,000) for 28 tokens of escrow.
fn submit_model_2() {
	assert_ok!(Inference::request(
		RuntimeOrigin::signed(account(DEVELOPER)),
		2,
		prompt(10),
		8,
		SamplingParams::GREEDY
	));
}

/// Model 2's price for a request made in the block in progress.
fn price_now() -> u128 {
	let now = System::block_number();
	Inference::price_state(2, &TestModels::terms(2).unwrap(), &Params::<Test>::get(), now).price
}

#[test]
fn the_price_rises_after_a_full_block_and_falls_after_idle_ones_never_below_the_floor() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		assert_eq!(price_now(), 1_000);
		// Four requests of 28 tokens: 112 of a capacity of 100, full utilisation: +2%.
		for _ in 0..4 {
			submit_model_2();
		}
		run_to_block(2);
		assert_eq!(price_now(), 1_020);
		submit_model_2();
		assert_eq!(Requests::<Test>::get(4).unwrap().price, 1_020);
		assert!(events().contains(&Event::PriceChanged { model: 2, price: 1_020 }));
		// Block 2 at 28%: below 40%, so down by 2% × (40 − 28) / 40 = 0.6%, rounded down.
		run_to_block(3);
		assert_eq!(price_now(), 1_020 - 6);
		// The next block's price counts this block as idle: another 2% off.
		assert_eq!(Inference::price(2), Some(1_014 - 20));
		// A long idle stretch takes it to the floor and no further.
		Params::<Test>::mutate(|params| params.min_price = 900);
		run_to_block(200);
		assert_eq!(price_now(), 900);
	});
}

#[test]
fn the_price_is_unchanged_between_forty_and_sixty_percent_utilisation() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		// Two requests of 28 tokens: 56% of 100.
		submit_model_2();
		submit_model_2();
		run_to_block(2);
		assert_eq!(price_now(), 1_000);
	});
}

#[test]
fn a_quote_is_the_escrow_a_request_would_hold() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		// The next block's price of model 1: 2 (a 2% fall of 2 rounds to nothing).
		assert_eq!(Inference::quote(1, 10, 8), Some(ESCROW));
		assert_eq!(Inference::quote(3, 10, 8), None);
		assert_eq!(
			Inference::quote(1, u32::MAX, u32::MAX),
			Some((u32::MAX as u128 * 2 + 10) * 2 + TIMER_DEPOSIT)
		);
	});
}
