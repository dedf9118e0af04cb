//! Requests (`protocol.md`, "Inference" 1): the escrow, the executor draw, bad input.

use super::*;
use gonka_primitives::inference::SamplingParams;
use polkadot_sdk::{
	frame_support::{assert_noop, traits::fungible::Mutate as _},
	sp_runtime::{BoundedVec, DispatchError},
};

#[test]
fn a_request_holds_its_escrow_and_draws_an_executor() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let id = submit();
		let request = Requests::<Test>::get(id).unwrap();
		assert!([1, 2, 3].contains(&executor_of(id)));
		assert_eq!(request.escrow, ESCROW);
		assert_eq!(request.price, 2);
		assert_eq!(request.status, RequestStatus::Assigned);
		assert_eq!(escrow_held(), ESCROW);
		assert_eq!(free(DEVELOPER), BALANCE - ESCROW);
		assert_eq!(Prompts::<Test>::get(id).unwrap().into_inner(), vec![b'a'; 10]);
		assert_eq!(Ledger::<Test>::get(0, &request.executor).assigned, 1);
		assert!(events().contains(&Event::RequestSubmitted {
			request: id,
			developer: account(DEVELOPER),
			model: 1,
			executor: request.executor,
			price: 2,
			escrow: ESCROW,
		}));
	});
}

#[test]
fn executors_are_drawn_among_the_models_hosts_and_spread_over_them() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let mut counts = [0u32; 4];
		for seed in 0..60 {
			TestRandomness::set(seed);
			counts[usize::from(executor_of(submit()))] += 1;
		}
		// Equal PoC weight: each host gets a share (expected 20 each).
		assert!(counts[1..].iter().all(|&count| (8..=32).contains(&count)), "{counts:?}");
	});
}

#[test]
fn a_host_that_left_is_never_drawn() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		assert_ok!(Poc::leave(RuntimeOrigin::signed(account(1))));
		for seed in 0..10 {
			TestRandomness::set(seed);
			assert_eq!(executor_of(submit()), 2);
		}
	});
}

#[test]
fn a_request_for_a_model_that_is_not_approved_is_refused() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		assert_noop!(
			Inference::request(
				RuntimeOrigin::signed(account(DEVELOPER)),
				3,
				prompt(10),
				8,
				SamplingParams::GREEDY
			),
			Error::<Test>::UnknownModel
		);
	});
}

#[test]
fn bad_request_input_is_refused_with_a_clear_error_and_nothing_held() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		let ask = |prompt, max_tokens, params| {
			Inference::request(
				RuntimeOrigin::signed(account(DEVELOPER)),
				1,
				prompt,
				max_tokens,
				params,
			)
		};
		let greedy = SamplingParams::GREEDY;
		assert_noop!(ask(prompt(0), 8, greedy), Error::<Test>::EmptyPrompt);
		assert_noop!(ask(prompt(10), 0, greedy), Error::<Test>::ZeroMaxTokens);
		assert_noop!(ask(prompt(10), 1_001, greedy), Error::<Test>::MaxTokensAboveLimit);
		let hot = SamplingParams { temperature_milli: 2_001, ..greedy };
		assert_noop!(ask(prompt(10), 8, hot), Error::<Test>::BadSamplingParams);
		let empty = SamplingParams { top_p: Perbill::zero(), ..greedy };
		assert_noop!(ask(prompt(10), 8, empty), Error::<Test>::BadSamplingParams);
		assert_noop!(
			Inference::request(RuntimeOrigin::none(), 1, prompt(10), 8, greedy),
			DispatchError::BadOrigin
		);
		assert_eq!(escrow_held(), 0);
	});
}

/// Attack (`docs/security.md`): a developer asks for what no worker can serve (a prompt
/// and completion longer than the model's context, or a prompt that is not text), so
/// that up to eight executors in turn miss it, its escrow pushes the price up, and it is
/// refunded in full. Rule: refused at `request`, nothing held: a prompt must be UTF-8,
/// and its bytes (at least its tokens), the template's tokens and `max_tokens` must fit
/// the model's context.
#[test]
fn a_request_no_worker_can_serve_is_refused_and_nothing_held() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		let ask = |prompt| {
			let origin = RuntimeOrigin::signed(account(DEVELOPER));
			move |max_tokens| {
				Inference::request(origin.clone(), 1, prompt, max_tokens, SamplingParams::GREEDY)
			}
		};
		// Model 1: context 1,000 tokens, template 10; a 10-byte prompt leaves 980.
		assert_noop!(ask(prompt(10))(981), Error::<Test>::ExceedsContext);
		let not_text = BoundedVec::truncate_from(vec![b'a', 0xff, 0xfe, b'b']);
		assert_noop!(ask(not_text)(8), Error::<Test>::PromptNotUtf8);
		assert_eq!(escrow_held(), 0);
		assert_eq!(NextRequestId::<Test>::get(), 0);
		// What fits exactly is accepted, and multi-byte text is text.
		assert_ok!(ask(prompt(10))(980));
		let text = BoundedVec::truncate_from("héllo, 世界".as_bytes().to_vec());
		assert_ok!(ask(text)(8));
	});
}

#[test]
fn a_prompt_longer_than_max_prompt_bytes_does_not_decode() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		use codec::{Decode, Encode};
		// A call with a 65-byte prompt, encoded by hand: the runtime cannot even decode it.
		let mut encoded = RuntimeCall::Inference(crate::Call::request {
			model: 1,
			prompt: prompt(64),
			max_tokens: 8,
			params: SamplingParams::GREEDY,
		})
		.encode();
		assert!(RuntimeCall::decode(&mut &encoded[..]).is_ok());
		// Pallet and call index, model, then the prompt's compact length 64 (0x01 0x01).
		let at = 2 + 4;
		assert_eq!(&encoded[at..at + 2], &[0x01, 0x01]);
		encoded.splice(at..at + 2, [0x05, 0x01]);
		encoded.insert(at + 2, b'a');
		assert!(RuntimeCall::decode(&mut &encoded[..]).is_err());
	});
}

#[test]
fn an_escrow_larger_than_the_balance_is_refused_and_nothing_is_held() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		let poor = account(21);
		assert_ok!(Balances::transfer_allow_death(
			RuntimeOrigin::signed(poor.clone()),
			account(22),
			BALANCE - 50
		));
		assert_noop!(
			Inference::request(
				RuntimeOrigin::signed(poor.clone()),
				1,
				prompt(10),
				8,
				SamplingParams::GREEDY
			),
			Error::<Test>::InsufficientBalance
		);
		assert_eq!(Balances::balance_on_hold(&HoldReason::Escrow.into(), &poor), 0);
		assert_eq!(NextRequestId::<Test>::get(), 0);
	});
}

#[test]
fn a_request_is_refused_when_nobody_serves_the_model() {
	ExtBuilder::default().hosts(&[]).build_and_execute(|| {
		assert_noop!(
			Inference::request(
				RuntimeOrigin::signed(account(DEVELOPER)),
				1,
				prompt(10),
				8,
				SamplingParams::GREEDY
			),
			Error::<Test>::NoExecutor
		);
	});
}

#[test]
fn a_developer_who_spends_their_balance_keeps_the_escrow_covered() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		let id = submit();
		let developer = account(DEVELOPER);
		// Everything free goes (the account is kept alive by its hold).
		let spendable = Balances::reducible_balance(
			&developer,
			polkadot_sdk::frame_support::traits::tokens::Preservation::Expendable,
			polkadot_sdk::frame_support::traits::tokens::Fortitude::Polite,
		);
		assert_ok!(Balances::transfer(
			&developer,
			&account(22),
			spendable,
			polkadot_sdk::frame_support::traits::tokens::Preservation::Expendable
		));
		let left = Balances::balance(&developer);
		assert_eq!(escrow_held(), ESCROW);
		assert_ok!(finish_as(1, result(id, 5)));
		assert_eq!(work_held(1), COST);
		assert_eq!(escrow_held(), 0);
		assert_eq!(Balances::balance(&developer), left + ESCROW - COST);
	});
}
