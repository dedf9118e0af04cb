//! Requests (`protocol.md`, "Inference" 1): the escrow, the executor draw, bad input.

use super::*;
use gonka_primitives::inference::SamplingParams;
use polkadot_sdk::{
	frame_support::{assert_noop, traits::fungible::Mutate as _, weights::Weight},
	sp_runtime::{transaction_validity::InvalidTransaction, BoundedVec, DispatchError},
};

#[test]
fn a_request_holds_its_escrow_and_its_executor_is_drawn_in_the_next_block() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let id = queue();
		let request = Requests::<Test>::get(id).unwrap();
		assert_eq!(request.status, RequestStatus::Queued);
		assert_eq!(request.escrow, ESCROW);
		assert_eq!(request.price, 2);
		assert_eq!(escrow_held(), ESCROW);
		assert_eq!(free(DEVELOPER), BALANCE - ESCROW);
		assert_eq!(Prompts::<Test>::get(id).unwrap().into_inner(), vec![b'a'; 10]);
		assert_eq!(EpochTotals::<Test>::get(0).assigned, 0);
		assert!(events().contains(&Event::RequestSubmitted {
			request: id,
			developer: account(DEVELOPER),
			model: 1,
			price: 2,
			escrow: ESCROW,
		}));
		// No result is taken before the draw, whoever sends it.
		for host in [1, 2, 3] {
			assert!(finish_as(host, result(id, 5)).is_err());
		}

		run_to_block(System::block_number() + 1);
		let request = Requests::<Test>::get(id).unwrap();
		assert_eq!(request.status, RequestStatus::Assigned);
		assert!([1, 2, 3].contains(&executor_of(id)));
		assert_eq!(Ledger::<Test>::get(0, &request.executor).assigned, 1);
		assert!(events()
			.contains(&Event::RequestAssigned { request: id, executor: request.executor.clone() }));
		assert_ok!(finish_as(executor_of(id), result(id, 5)));
	});
}

/// Attack (`docs/security.md`, issue 21 hole 6): a developer colluding with host 1 wants
/// host 1 to execute its requests. When it signs, it knows everything the chain knows:
/// the randomness of the block its request would be drawn in if drawn at once, and the
/// next request id; so it submits only in blocks whose draw lands on host 1, and waits
/// otherwise. Rule: the draw is made in a later block, from randomness of that block,
/// which nobody could know when the request was signed: grinding gains nothing, and host
/// 1 executes about its weight's share (a quarter) of what the developer submits.
#[test]
fn a_developer_grinding_its_submissions_cannot_raise_a_hosts_share_above_its_weight() {
	ExtBuilder::default().hosts(&[1, 2, 3, 4]).build_and_execute(|| {
		use crate::RANDOMNESS_SUBJECT;
		use gonka_primitives::inference::executor_draw;
		use polkadot_sdk::frame_support::traits::Randomness as _;
		let mut executors = Vec::new();
		for _ in 0..400 {
			let next = NextRequestId::<Test>::get();
			let (seen, _) = TestRandomness::random(RANDOMNESS_SUBJECT);
			let predicted = Poc::pick_executor(1, &executor_draw(&seen, next, 0));
			let submitted = (predicted.as_ref().map(host_number) == Some(1)).then(queue);
			run_to_block(System::block_number() + 1);
			executors.extend(submitted.map(executor_of));
		}
		let submitted = executors.len();
		let to_host_1 = executors.iter().filter(|host| **host == 1).count();
		// About 100 submissions; host 1's weight is a quarter: the grinder's share stays
		// near it (without the rule, every one of them went to host 1).
		assert!(submitted >= 60, "{submitted} submissions");
		assert!(to_host_1 * 100 <= submitted * 40, "{to_host_1} of {submitted}");
	});
}

/// A queued request whose draw finds no host (every host with weight on the model left
/// after it was made) expires at its draw: its draws and expiry, an assignment timer's
/// work, are paid with one timer fee from its deposit, the rest refunded. Without the
/// fee, hosts holding a model's weight could leave and have requests drawn in vain at
/// the chain's expense.
#[test]
fn a_queued_request_whose_draw_finds_no_host_expires_paying_one_timer() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		let id = queue();
		assert_ok!(Poc::leave(RuntimeOrigin::signed(account(1))));
		run_to_block(System::block_number() + 1);
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Expired));
		assert_eq!(escrow_held(), 0);
		assert_eq!(free(DEVELOPER), BALANCE - TIMER_FEE);
		assert_eq!(free(99), TIMER_FEE);
		assert!(events().contains(&Event::RequestClosed {
			request: id,
			outcome: Outcome::Expired,
			refund: ESCROW - TIMER_FEE,
		}));
	});
}

/// Attack (review of hole 6): a draw the timer budget delayed until less than
/// `refusal_timeout` is left before the request's expiration (or governance shortened
/// it) would give a host work it has too little time for, or whose result `finish`
/// refuses, then a miss. Rule: such a draw expires the request undrawn, refunded in
/// full; no host is assigned.
#[test]
fn a_request_drawn_too_late_for_a_full_refusal_timeout_expires_undrawn_and_refunded() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		let id = queue();
		// No timer is served until block 8; made at 1, the request expires at 11, and a
		// host drawn at 9 would have 2 of its 3 blocks.
		TimerBudget::set(&Weight::zero());
		run_to_block(8);
		assert_eq!(status(id), RequestStatus::Queued);
		TimerBudget::set(&Weight::from_parts(TIMER_UNITS, u64::MAX));
		run_to_block(9);
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Expired));
		assert_eq!(free(DEVELOPER), BALANCE);
		assert_eq!(EpochTotals::<Test>::get(0).assigned, 0);
		assert!(!events().iter().any(|e| matches!(e, Event::RequestAssigned { .. })));
	});
}

/// Attack (second review of hole 6): a flood of requests, block after block, would make
/// the draws (served within the timer budget) fall behind for good, every request waiting
/// longer for its executor. Rule: at most `MaxPendingDraws` requests wait for a draw; a
/// request beyond is refused with `DrawQueueFull`, nothing held.
#[test]
fn requests_beyond_the_pending_draws_bound_are_refused_and_nothing_held() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		TimerBudget::set(&Weight::zero());
		let ids: Vec<u64> = (0..MAX_PENDING_DRAWS).map(|_| queue()).collect();
		let held = escrow_held();
		assert_noop!(
			Inference::request(
				RuntimeOrigin::signed(account(DEVELOPER)),
				1,
				prompt(10),
				8,
				SamplingParams::GREEDY
			),
			Error::<Test>::DrawQueueFull
		);
		assert_eq!(escrow_held(), held);
		// Once drawn, requests are taken again.
		TimerBudget::set(&Weight::from_parts(TIMER_UNITS, u64::MAX));
		run_to_block(System::block_number() + 1);
		assert!(ids.iter().filter(|&&id| status(id) == RequestStatus::Assigned).count() >= 2);
		queue();
	});
}

/// A developer that is itself a host cannot serve its own request before the draw (nor
/// after, unless the draw picks it).
#[test]
fn a_host_cannot_finish_its_own_request_before_the_draw() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
		let id = NextRequestId::<Test>::get();
		assert_ok!(Inference::request(
			RuntimeOrigin::signed(account(1)),
			1,
			prompt(10),
			8,
			SamplingParams::GREEDY
		));
		assert_eq!(finish_as(1, result(id, 5)), Err(pool(InvalidTransaction::Stale)));
		assert_eq!(
			dispatch_duty(finish_call(1, result(id, 5))),
			Err(call_error(Error::<Test>::NotAssigned))
		);
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
		// More tokens than a result can carry (`MaxOutputTokens`), though within the context:
		// its executor could not send `finish` for a completion that long.
		MaxOutputTokens::set(&16);
		assert_noop!(ask(prompt(10))(17), Error::<Test>::MaxTokensAboveLimit);
		MaxOutputTokens::set(&1_000);
		// Only whitespace (the worker answers no such prompt), Unicode's included.
		for blank in [" ", " \n\t ", "\u{3000}\u{a0}"] {
			let blank = BoundedVec::truncate_from(blank.as_bytes().to_vec());
			assert_noop!(ask(blank)(8), Error::<Test>::BlankPrompt);
		}
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
