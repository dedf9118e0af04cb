//! One test per rule of `protocol.md`'s "Inference" section, and the attacks and bad input.
//! Every test ends with the pallet's `do_try_state()` (and `run_to_block` checks it after
//! every block).

use crate::{mock::*, *};
use gonka_primitives::inference::{self as rules, SamplingParams, Sprt};
use pallet_poc::PowerGenerations;
use polkadot_sdk::{
	frame_support::{
		assert_noop, assert_ok,
		traits::fungible::{Inspect as _, InspectHold as _, Mutate as _},
	},
	sp_core::Pair as _,
	sp_runtime::{transaction_validity::InvalidTransaction, DispatchError, Perbill},
};

/// Developer 20's held escrow.
fn escrow_held() -> u128 {
	Balances::balance_on_hold(&HoldReason::Escrow.into(), &account(DEVELOPER))
}

/// Host `i`'s held pending work.
fn work_held(i: u8) -> u128 {
	Balances::balance_on_hold(&HoldReason::WorkBalance.into(), &account(i))
}

fn free(i: u8) -> u128 {
	Balances::balance(&account(i))
}

fn status(id: u64) -> RequestStatus {
	Requests::<Test>::get(id).expect("the request exists").status
}

/// Model 1's escrow for `submit()`: (10 prompt bytes + 10 overhead + 8 tokens) × 2.
const ESCROW: u128 = 56;
/// `result(id, 5)`'s cost: (12 + 5) × 2.
const COST: u128 = 34;
/// The validators' half of `COST` when the request is validated.
const SHARE: u128 = COST / 2;

/// A request finished at block 1 by its executor with 5 tokens; returns (id, executor).
fn finished() -> (u64, u8) {
	let id = submit();
	let executor = executor_of(id);
	assert_ok!(finish_as(executor, result(id, 5)));
	(id, executor)
}

/// A finished request (block 1) that the hash rule gives at least one validator among
/// `hosts`; the chain is moved to block 2, where the validators can report.
fn finished_with_validators(hosts: &[u8]) -> (u64, u8, Vec<u8>) {
	for _ in 0..20 {
		let (id, executor) = finished();
		run_to_block(System::block_number() + 1);
		let validators = sampled(id, hosts);
		if !validators.is_empty() {
			return (id, executor, validators);
		}
	}
	panic!("twenty requests without a sampled validator")
}

// ---- requests ---------------------------------------------------------------------------

#[test]
fn a_request_holds_its_escrow_and_draws_an_executor() {
	with_hosts(&[1, 2, 3], || {
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
	with_hosts(&[1, 2, 3], || {
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
	with_hosts(&[1, 2], || {
		assert_ok!(Poc::leave(RuntimeOrigin::signed(account(1))));
		for seed in 0..10 {
			TestRandomness::set(seed);
			assert_eq!(executor_of(submit()), 2);
		}
	});
}

#[test]
fn a_request_for_a_model_that_is_not_approved_is_refused() {
	with_hosts(&[1], || {
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
	with_hosts(&[1], || {
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

#[test]
fn a_prompt_longer_than_max_prompt_bytes_does_not_decode() {
	with_hosts(&[1], || {
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
	with_hosts(&[1], || {
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
	with_hosts(&[], || {
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
	with_hosts(&[1], || {
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

// ---- results ----------------------------------------------------------------------------

#[test]
fn finish_refunds_the_escrow_beyond_the_cost_and_holds_the_cost_as_pending_work() {
	with_hosts(&[1, 2], || {
		let id = submit();
		let executor = executor_of(id);
		let before = free(executor);
		assert_ok!(finish_as(executor, result(id, 5)));
		let request = Requests::<Test>::get(id).unwrap();
		let finish = request.finish.unwrap();
		assert_eq!(request.status, RequestStatus::Finished);
		assert_eq!((finish.prompt_tokens, finish.completion_tokens), (12, 5));
		assert_eq!(finish.cost, COST);
		assert_eq!(escrow_held(), 0);
		assert_eq!(free(DEVELOPER), BALANCE - COST);
		assert_eq!(work_held(executor), COST);
		assert_eq!(free(executor), before);
		assert_eq!(Ledger::<Test>::get(0, account(executor)).pending_work, COST);
		assert_eq!(Ledger::<Test>::get(0, account(executor)).finished, 1);
		let output = Outputs::<Test>::get(id).unwrap();
		assert_eq!(output.token_ids.into_inner(), vec![0, 1, 2, 3, 4]);
		assert_eq!(output.text.into_inner(), b"an answer".to_vec());
		assert!(events().iter().any(|event| matches!(
			event,
			Event::RequestFinished { request, cost: COST, refund, completion_tokens: 5, .. }
				if *request == id && *refund == ESCROW - COST
		)));
	});
}

#[test]
fn the_chain_counts_completion_tokens_up_to_max_tokens() {
	with_hosts(&[1], || {
		let id = submit();
		// max_tokens is 8: nine token ids are refused, eight are accepted.
		assert_eq!(finish_as(1, result(id, 9)), Err(custom(Error::<Test>::TooManyTokens)));
		assert_ok!(finish_as(1, result(id, 8)));
		assert_eq!(Requests::<Test>::get(id).unwrap().finish.unwrap().completion_tokens, 8);
		assert_eq!(work_held(1), (12 + 8) * 2);
	});
}

#[test]
fn prompt_tokens_may_not_exceed_the_prompt_bytes_plus_the_template_overhead() {
	with_hosts(&[1], || {
		let id = submit();
		// 10 bytes + 10 template tokens.
		let over = InferenceFinishOf { prompt_tokens: 21, ..result(id, 5) };
		assert_eq!(finish_as(1, over), Err(custom(Error::<Test>::PromptTokensAboveBound)));
		let at_bound = InferenceFinishOf { prompt_tokens: 20, ..result(id, 5) };
		assert_ok!(finish_as(1, at_bound));
	});
}

/// The `finish` payload type of the test runtime.
type InferenceFinishOf = FinishOf<Test>;

#[test]
fn finish_by_a_host_that_is_not_the_executor_is_refused() {
	with_hosts(&[1, 2], || {
		let id = submit();
		let other = 3 - executor_of(id);
		assert_eq!(finish_as(other, result(id, 5)), Err(custom(Error::<Test>::NotExecutor)));
		// An account that is no host at all.
		assert_eq!(finish_as(7, result(id, 5)), Err(pool(InvalidTransaction::BadSigner)));
		// The executor's account, another worker's signature.
		let executor = executor_of(id);
		let forged = crate::Call::finish {
			executor: account(executor),
			result: result(id, 5),
			signature: sign(other, &result(id, 5)),
		};
		assert_eq!(run_duty(forged), Err(pool(InvalidTransaction::BadProof)));
		assert_eq!(status(id), RequestStatus::Assigned);
	});
}

#[test]
fn a_second_finish_is_refused() {
	with_hosts(&[1], || {
		let id = submit();
		assert_ok!(finish_as(1, result(id, 5)));
		assert_eq!(finish_as(1, result(id, 6)), Err(pool(InvalidTransaction::Stale)));
		// Dispatched anyway (validated before the first was included): the call refuses it.
		assert_eq!(
			dispatch_duty(finish_call(1, result(id, 6))),
			Err(call_error(Error::<Test>::NotAssigned))
		);
		assert_eq!(work_held(1), COST);
	});
}

#[test]
fn finish_for_an_unknown_request_is_stale() {
	with_hosts(&[1], || {
		assert_eq!(finish_as(1, result(42, 5)), Err(pool(InvalidTransaction::Stale)));
	});
}

// ---- refusal timeout and expiry -----------------------------------------------------------

#[test]
fn an_executor_that_does_not_finish_in_time_loses_the_request_with_a_miss() {
	with_hosts(&[1, 2, 3], || {
		let id = submit();
		let first = executor_of(id);
		run_to_block(3);
		assert_eq!(executor_of(id), first);
		run_to_block(4);
		let second = executor_of(id);
		assert_ne!(second, first);
		assert_eq!(Requests::<Test>::get(id).unwrap().attempt, 1);
		assert_eq!(Ledger::<Test>::get(0, account(first)).missed, 1);
		assert_eq!(Reputations::<Test>::get(account(first)).misses, 1);
		assert_eq!(Ledger::<Test>::get(0, account(second)).assigned, 1);
		assert!(events().contains(&Event::Missed { host: account(first), request: id, epoch: 0 }));
		assert!(events().contains(&Event::RequestReassigned {
			request: id,
			from: account(first),
			to: account(second),
			attempt: 1,
		}));
		// The old executor's result is refused; the new executor's is taken.
		assert_eq!(finish_as(first, result(id, 5)), Err(custom(Error::<Test>::NotExecutor)));
		assert_ok!(finish_as(second, result(id, 5)));
	});
}

#[test]
fn unfinished_requests_expire_and_are_refunded_in_full() {
	with_hosts(&[1, 2, 3], || {
		let id = submit();
		// Made at 1, expiration 10: reassigned at 4, 7 and 10; from 11 on it is expired.
		run_to_block(10);
		assert_eq!(Requests::<Test>::get(id).unwrap().attempt, 3);
		assert_eq!(escrow_held(), ESCROW);
		run_to_block(11);
		let executor = executor_of(id);
		assert_eq!(finish_as(executor, result(id, 5)), Err(pool(InvalidTransaction::Stale)));
		assert_eq!(
			dispatch_duty(finish_call(executor, result(id, 5))),
			Err(call_error(Error::<Test>::NotAssigned))
		);
		// Refunded at the next assignment deadline (13).
		run_to_block(13);
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Expired));
		assert_eq!(escrow_held(), 0);
		assert_eq!(free(DEVELOPER), BALANCE);
		assert!(events().contains(&Event::RequestClosed {
			request: id,
			outcome: Outcome::Expired,
			refund: ESCROW
		}));
		// Four assignments, four misses (the last one's at the expiry).
		let missed: u32 = (1..=3).map(|i| Ledger::<Test>::get(0, account(i)).missed).sum();
		assert_eq!(missed, 4);
		assert_eq!(finish_as(executor, result(id, 5)), Err(pool(InvalidTransaction::Stale)));
	});
}

#[test]
fn a_request_nobody_else_can_take_expires_at_its_refusal() {
	with_hosts(&[1], || {
		let id = submit();
		run_to_block(4);
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Expired));
		assert_eq!(Ledger::<Test>::get(0, account(1)).missed, 1);
		assert_eq!(free(DEVELOPER), BALANCE);
	});
}

#[test]
fn at_most_max_timers_per_block_are_served_and_the_rest_wait() {
	with_hosts(&[1, 2], || {
		let ids: Vec<u64> = (0..5).map(|_| submit()).collect();
		run_to_block(4);
		let reassigned = ids.iter().filter(|&&id| Requests::<Test>::get(id).unwrap().attempt == 1);
		assert_eq!(reassigned.count(), MAX_TIMERS as usize);
		run_to_block(5);
		assert!(ids.iter().all(|&id| Requests::<Test>::get(id).unwrap().attempt == 1));
	});
}

// ---- validation -------------------------------------------------------------------------

#[test]
fn validators_are_sampled_from_the_finish_block_so_not_before_the_next_block() {
	with_hosts(&[1, 2], || {
		// Two hosts: the other host holds all the power besides the executor's, so target
		// 1.0 samples it for every request.
		let (id, executor) = finished();
		let validator = 3 - executor;
		assert_eq!(
			validate_as(validator, id, Perbill::one()),
			Err(pool(InvalidTransaction::Future))
		);
		run_to_block(2);
		assert_eq!(sampled(id, &[1, 2]), vec![validator]);
		assert_ok!(validate_as(validator, id, Perbill::one()));
		assert_eq!(Reports::<Test>::get(id, account(validator)), Some(Perbill::one()));
		assert_eq!(Ledger::<Test>::get(0, account(validator)).validations, 1);
	});
}

#[test]
fn the_executor_never_validates_its_own_request() {
	with_hosts(&[1, 2], || {
		let (id, executor) = finished();
		run_to_block(2);
		assert_eq!(
			validate_as(executor, id, Perbill::one()),
			Err(custom(Error::<Test>::SelfValidation))
		);
	});
}

/// Four hosts of equal power (each other host is sampled with probability 1/3): a request
/// finished by its executor that the hash rule left one host out of; the chain is moved to
/// the block after `finish`. Returns (request, executor, the host left out).
fn finished_with_an_outsider() -> (u64, u8, u8) {
	for _ in 0..20 {
		let (id, executor) = finished();
		run_to_block(System::block_number() + 1);
		let chosen = sampled(id, &[1, 2, 3, 4]);
		if let Some(&outsider) =
			[1, 2, 3, 4].iter().find(|&&i| i != executor && !chosen.contains(&i))
		{
			return (id, executor, outsider);
		}
	}
	panic!("no request left a host unsampled");
}

#[test]
fn a_host_the_hash_rule_did_not_sample_cannot_validate() {
	with_hosts(&[1, 2, 3, 4], || {
		let (id, _, outsider) = finished_with_an_outsider();
		assert_eq!(
			validate_as(outsider, id, Perbill::one()),
			Err(custom(Error::<Test>::NotSampled))
		);
	});
}

#[test]
fn the_number_of_validators_follows_the_target() {
	with_hosts(&[1, 2, 3, 4], || {
		// New executors: target 1.0, so one validator per request on average.
		let mut validators = 0usize;
		let requests = 60;
		for _ in 0..requests {
			let (id, _) = finished();
			run_to_block(System::block_number() + 1);
			validators += sampled(id, &[1, 2, 3, 4]).len();
		}
		assert!((35..=85).contains(&validators), "{validators} validators for {requests}");
	});
}

#[test]
fn a_passing_validation_validates_the_request_when_the_window_closes() {
	with_hosts(&[1, 2], || {
		let (id, executor) = finished();
		let pins = |generation| PowerGenerations::<Test>::get(generation).unwrap().pins;
		assert_eq!(pins(0), 1);
		run_to_block(2);
		assert_ok!(validate_as(3 - executor, id, Perbill::from_percent(95)));
		assert_eq!(status(id), RequestStatus::Finished);
		// Finished at 1, window 4: closed at 5.
		run_to_block(5);
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Validated));
		// The snapshot is held until the payloads go (missing validators can be shown).
		assert_eq!(pins(0), 1);
		run_to_block(10);
		assert!(!Requests::<Test>::contains_key(id));
		assert_eq!(pins(0), 0);
		let stats = Ledger::<Test>::get(0, account(executor));
		assert_eq!(stats.validated, 1);
		assert_eq!(stats.llr, Sprt::live_network().step(0, false));
		// The executor keeps its pending work but the validator's half.
		assert_eq!(work_held(executor), COST - SHARE);
		assert_eq!(work_held(3 - executor), SHARE);
	});
}

#[test]
fn a_request_no_validator_reported_on_closes_unchecked() {
	with_hosts(&[1, 2], || {
		let (id, executor) = finished();
		run_to_block(5);
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Unchecked));
		assert_eq!(Ledger::<Test>::get(0, account(executor)).llr, 0);
		assert_eq!(work_held(executor), COST);
	});
}

#[test]
fn a_report_after_the_validation_window_is_refused() {
	with_hosts(&[1, 2], || {
		let (id, executor) = finished();
		run_to_block(5);
		assert_eq!(
			validate_as(3 - executor, id, Perbill::one()),
			Err(pool(InvalidTransaction::Stale))
		);
	});
}

#[test]
fn a_validator_reports_once() {
	with_hosts(&[1, 2, 3], || {
		let (id, _, validators) = finished_with_validators(&[1, 2, 3]);
		let validator = validators[0];
		assert_ok!(validate_as(validator, id, Perbill::one()));
		assert_eq!(
			validate_as(validator, id, Perbill::one()),
			Err(pool(InvalidTransaction::Stale))
		);
	});
}

#[test]
fn a_validation_for_a_request_not_finished_is_refused() {
	with_hosts(&[1, 2], || {
		let id = submit();
		run_to_block(2);
		assert_eq!(validate_as(1, id, Perbill::one()), Err(pool(InvalidTransaction::Stale)));
	});
}

// ---- missing validations ------------------------------------------------------------------

#[test]
fn a_sampled_validator_that_did_not_report_is_recorded_missing() {
	with_hosts(&[1, 2], || {
		let (id, executor) = finished();
		let validator = 3 - executor;
		// Finished at 1, window 4: from 5 on the report is missing.
		run_to_block(5);
		assert_ok!(report_missing_as(executor, id, validator));
		assert_eq!(Ledger::<Test>::get(0, account(validator)).missed_validations, 1);
		assert!(Missed::<Test>::contains_key(id, account(validator)));
		assert!(events().contains(&Event::ValidationMissed {
			request: id,
			validator: account(validator),
			epoch: 0,
			reporter: account(executor),
		}));
		// Once only.
		assert_eq!(
			report_missing_as(executor, id, validator),
			Err(pool(InvalidTransaction::Stale))
		);
		// Pruned with the request; a later claim is stale.
		run_to_block(10);
		assert!(!Missed::<Test>::contains_key(id, account(validator)));
		assert_eq!(
			report_missing_as(executor, id, validator),
			Err(pool(InvalidTransaction::Stale))
		);
	});
}

#[test]
fn a_missing_report_cannot_be_shown_while_the_window_is_open() {
	with_hosts(&[1, 2], || {
		let (id, executor) = finished();
		run_to_block(4);
		assert_eq!(
			report_missing_as(executor, id, 3 - executor),
			Err(pool(InvalidTransaction::Future))
		);
	});
}

#[test]
fn a_validator_that_reported_is_not_missing() {
	with_hosts(&[1, 2], || {
		let (id, executor) = finished();
		run_to_block(2);
		assert_ok!(validate_as(3 - executor, id, Perbill::one()));
		run_to_block(5);
		assert_eq!(
			report_missing_as(executor, id, 3 - executor),
			Err(custom(Error::<Test>::ValidatorReported))
		);
	});
}

#[test]
fn a_host_the_hash_rule_did_not_sample_is_not_missing() {
	with_hosts(&[1, 2, 3, 4], || {
		let (id, executor, outsider) = finished_with_an_outsider();
		run_to_block(System::block_number() + 4);
		assert_eq!(
			report_missing_as(executor, id, outsider),
			Err(custom(Error::<Test>::NotSampled))
		);
		assert_eq!(
			report_missing_as(executor, id, executor),
			Err(custom(Error::<Test>::SelfValidation))
		);
	});
}

#[test]
fn an_unfinished_request_has_no_missing_validators_and_strangers_cannot_claim() {
	with_hosts(&[1, 2], || {
		let id = submit();
		let other = 3 - executor_of(id);
		run_to_block(5);
		assert_eq!(
			report_missing_as(other, id, executor_of(id)),
			Err(custom(Error::<Test>::NeverFinished))
		);
		let (done, executor) = finished();
		run_to_block(System::block_number() + 5);
		assert_eq!(
			report_missing_as(7, done, 3 - executor),
			Err(pool(InvalidTransaction::BadSigner))
		);
	});
}

// ---- invalidation votes -------------------------------------------------------------------

/// Four hosts; a finished request whose sampled validator reports a failing similarity.
/// Returns (request, executor, the failing validator).
fn failed_validation() -> (u64, u8, u8) {
	let (id, executor, validators) = finished_with_validators(&[1, 2, 3, 4]);
	let validator = validators[0];
	assert_ok!(validate_as(validator, id, Perbill::from_percent(50)));
	(id, executor, validator)
}

#[test]
fn a_failed_validation_opens_a_vote_in_which_the_report_counts_as_invalid() {
	with_hosts(&[1, 2, 3, 4], || {
		let (id, _, validator) = failed_validation();
		assert_eq!(status(id), RequestStatus::Voting);
		let tally = Requests::<Test>::get(id).unwrap().vote.unwrap();
		assert_eq!((tally.invalid, tally.valid), (1, 0));
		assert!(events().contains(&Event::VoteOpened { request: id, by: account(validator) }));
	});
}

#[test]
fn more_than_half_the_power_invalid_refunds_the_developer_from_the_pending_work() {
	with_hosts(&[1, 2, 3, 4], || {
		let (id, executor, validator) = failed_validation();
		let developer_before = free(DEVELOPER);
		let voter = [1, 2, 3, 4].into_iter().find(|&i| i != executor && i != validator).unwrap();
		// 2 of the 3 units of power besides the executor's: more than half.
		assert_ok!(vote_as(voter, id, true));
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Invalidated));
		assert_eq!(free(DEVELOPER), developer_before + COST);
		assert_eq!(work_held(executor), 0);
		let stats = Ledger::<Test>::get(0, account(executor));
		assert_eq!((stats.pending_work, stats.invalidated), (0, 1));
		assert_eq!(stats.llr, Sprt::live_network().invalid_step);
		assert!(events().contains(&Event::RequestClosed {
			request: id,
			outcome: Outcome::Invalidated,
			refund: COST
		}));
	});
}

#[test]
fn half_the_power_valid_keeps_the_result() {
	with_hosts(&[1, 2, 3, 4], || {
		let (id, executor, validator) = failed_validation();
		let others: Vec<u8> =
			[1, 2, 3, 4].into_iter().filter(|&i| i != executor && i != validator).collect();
		// One valid vote: 1 of 3 units, not yet certain.
		assert_ok!(vote_as(others[0], id, false));
		assert_eq!(status(id), RequestStatus::Voting);
		// Two valid of three: invalid can no longer pass half.
		assert_ok!(vote_as(others[1], id, false));
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Validated));
		assert_eq!(work_held(executor), COST);
	});
}

#[test]
fn a_vote_without_a_majority_keeps_the_result_when_its_window_ends() {
	with_hosts(&[1, 2, 3, 4], || {
		let (id, executor, _) = failed_validation();
		let opened = System::block_number();
		run_to_block(opened + 4);
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Validated));
		assert_eq!(work_held(executor), COST);
	});
}

#[test]
fn a_host_votes_once_and_not_after_the_vote_closed() {
	with_hosts(&[1, 2, 3, 4], || {
		let (id, executor, validator) = failed_validation();
		// The failing validator's report was its vote.
		assert_eq!(vote_as(validator, id, true), Err(pool(InvalidTransaction::Stale)));
		let others: Vec<u8> =
			[1, 2, 3, 4].into_iter().filter(|&i| i != executor && i != validator).collect();
		assert_ok!(vote_as(others[0], id, true));
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Invalidated));
		assert_eq!(vote_as(others[1], id, false), Err(pool(InvalidTransaction::Stale)));
		assert_eq!(
			dispatch_duty(vote_call(others[1], id, false)),
			Err(call_error(Error::<Test>::NoOpenVote))
		);
	});
}

#[test]
fn the_executor_does_not_vote_and_a_host_without_power_cannot() {
	with_hosts(&[1, 2, 3, 4], || {
		let (id, executor, _) = failed_validation();
		assert_eq!(vote_as(executor, id, false), Err(custom(Error::<Test>::SelfVote)));
		// Host 5 registered after genesis: no power in the snapshot.
		assert_ok!(Poc::register_host(
			RuntimeOrigin::signed(account(5)),
			worker(5).public(),
			b"http://10.0.0.5:8080".to_vec(),
			vec![1]
		));
		assert_eq!(vote_as(5, id, true), Err(custom(Error::<Test>::NoVotingPower)));
	});
}

#[test]
fn a_vote_on_a_request_without_an_open_vote_is_refused() {
	with_hosts(&[1, 2], || {
		let (id, executor) = finished();
		run_to_block(2);
		assert_eq!(vote_as(3 - executor, id, true), Err(pool(InvalidTransaction::Stale)));
	});
}

// ---- validators' share of a validated fee --------------------------------------------------

/// Every host's worker reports `similarity` on request `id` if the hash rule sampled it.
fn all_report(id: u64, hosts: &[u8], similarity: Perbill) -> Vec<u8> {
	let validators = sampled(id, hosts);
	for &validator in &validators {
		assert_ok!(validate_as(validator, id, similarity));
	}
	validators
}

#[test]
fn a_validated_fee_is_shared_by_the_passing_validators_in_equal_parts() {
	with_hosts(&[1, 2, 3, 4, 5, 6, 7, 8], || {
		// A request with at least two sampled validators (reputation 0: target 1.0).
		let (id, executor, validators) = loop {
			let (id, executor, validators) = finished_with_validators(&[1, 2, 3, 4, 5, 6, 7, 8]);
			if validators.len() >= 2 {
				break (id, executor, validators);
			}
		};
		all_report(id, &[1, 2, 3, 4, 5, 6, 7, 8], Perbill::one());
		let finished_at = Requests::<Test>::get(id).unwrap().finish.unwrap().at;
		let executor_before = work_held(executor);
		let others_before: Vec<u128> = validators.iter().map(|&v| work_held(v)).collect();
		run_to_block(finished_at + 4);
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Validated));
		let count = validators.len() as u128;
		let part = SHARE / count;
		for (&validator, before) in validators.iter().zip(others_before) {
			assert_eq!(work_held(validator), before + part);
			assert!(events().contains(&Event::ValidatorPaid {
				request: id,
				validator: account(validator),
				epoch: 0,
				amount: part,
			}));
		}
		// Rounding stays with the executor: nothing is created or lost.
		assert_eq!(work_held(executor), executor_before - part * count);
		assert_eq!(Ledger::<Test>::get(0, account(executor)).pending_work, work_held(executor));
	});
}

#[test]
fn a_failing_report_earns_no_share_when_the_vote_keeps_the_result() {
	with_hosts(&[1, 2, 3, 4], || {
		let (id, executor, opener) = failed_validation();
		let others: Vec<u8> =
			[1, 2, 3, 4].into_iter().filter(|&i| i != executor && i != opener).collect();
		let before = |i: u8| Ledger::<Test>::get(0, account(i)).pending_work;
		let (opener_before, reporter_before) = (before(opener), before(others[0]));
		// A passing report made during the vote is a valid vote; a plain vote closes it.
		Requests::<Test>::mutate(id, |made| {
			// The hash rule may not have sampled `others[0]`: give it a report as if it had.
			let record = made.as_mut().unwrap().finish.as_mut().unwrap();
			record.passes += 1;
			record.reports += 1;
		});
		Reports::<Test>::insert(id, account(others[0]), Perbill::one());
		assert_ok!(vote_as(others[0], id, false));
		assert_ok!(vote_as(others[1], id, false));
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Validated));
		// The passing reporter alone has the validators' half; the opener nothing.
		assert_eq!(before(others[0]), reporter_before + SHARE);
		assert_eq!(before(opener), opener_before);
		assert!(!events().iter().any(
			|e| matches!(e, Event::ValidatorPaid { validator, .. } if *validator == account(opener))
		));
	});
}

#[test]
fn an_invalidated_request_pays_no_validator() {
	with_hosts(&[1, 2, 3, 4], || {
		let (id, executor, opener) = failed_validation();
		let voter = [1, 2, 3, 4].into_iter().find(|&i| i != executor && i != opener).unwrap();
		assert_ok!(vote_as(voter, id, true));
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Invalidated));
		assert!(!events().iter().any(|e| matches!(e, Event::ValidatorPaid { .. })));
		assert_eq!(work_held(executor), 0);
	});
}

#[test]
fn at_most_max_paid_validators_reports_are_read_for_the_share() {
	with_hosts(&[1, 2], || {
		let (id, executor) = finished();
		// Five passing reports (written directly: two hosts cannot sample five), three read.
		for validator in 3..=7 {
			Reports::<Test>::insert(id, account(validator), Perbill::one());
		}
		Requests::<Test>::mutate(id, |made| {
			let record = made.as_mut().unwrap().finish.as_mut().unwrap();
			record.passes = 5;
			record.reports = 5;
		});
		run_to_block(5);
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Validated));
		let paid: Vec<u128> = events()
			.into_iter()
			.filter_map(|e| match e {
				Event::ValidatorPaid { amount, .. } => Some(amount),
				_ => None,
			})
			.collect();
		assert_eq!(paid, vec![SHARE / 3; 3]);
		assert_eq!(work_held(executor), COST - 3 * (SHARE / 3));
	});
}

#[test]
fn a_validators_share_is_forfeited_if_the_validator_is_invalid_in_that_epoch() {
	with_hosts(&[1, 2], || {
		let (id, executor) = finished();
		let validator = 3 - executor;
		run_to_block(2);
		assert_ok!(validate_as(validator, id, Perbill::one()));
		run_to_block(5);
		assert_eq!(work_held(validator), SHARE);
		// The validator's own results made it INVALID in the same epoch.
		Ledger::<Test>::mutate(0, account(validator), |stats| stats.invalid = true);
		run_to_block(41);
		assert_eq!(work_held(validator), 0);
		assert_eq!(free(99), SHARE);
		assert!(events().contains(&Event::WorkSettled {
			epoch: 0,
			host: account(validator),
			amount: SHARE,
			forfeited: true
		}));
	});
}

#[test]
fn a_zero_validator_share_leaves_the_fee_with_the_executor() {
	with_hosts(&[1, 2], || {
		Params::<Test>::mutate(|params| params.validator_share = Perbill::zero());
		let (id, executor) = finished();
		run_to_block(2);
		assert_ok!(validate_as(3 - executor, id, Perbill::one()));
		run_to_block(5);
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Validated));
		assert_eq!(work_held(executor), COST);
		assert_eq!(work_held(3 - executor), 0);
	});
}

// ---- status: the invalidation test ----------------------------------------------------------

#[test]
fn six_invalidations_in_a_row_mark_an_executor_invalid_for_the_epoch_and_five_do_not() {
	with_hosts(&[1, 2], || {
		// Two hosts: the other is always sampled and alone holds the power besides the
		// executor's, so its failing report invalidates at once.
		let mut invalidations = [0u32; 3];
		while invalidations[1] < 6 {
			let (id, executor) = finished();
			run_to_block(System::block_number() + 1);
			assert_ok!(validate_as(3 - executor, id, Perbill::zero()));
			assert_eq!(status(id), RequestStatus::Closed(Outcome::Invalidated));
			invalidations[usize::from(executor)] += 1;
			let stats = Ledger::<Test>::get(0, account(executor));
			assert_eq!(stats.invalid, invalidations[usize::from(executor)] >= 6, "{stats:?}");
		}
		assert!(events().contains(&Event::HostInvalid { host: account(1), epoch: 0 }));
		assert!(Reputations::<Test>::get(account(1)).invalid);
	});
}

#[test]
fn reputation_grows_with_clean_epochs_and_misses_take_it_back() {
	with_hosts(&[1], || {
		// An epoch with a finished request and no miss is clean.
		let (_, _) = finished();
		run_to_block(21);
		assert_eq!(Inference::reputation_at(&account(1), 1).clean_epochs, 1);
		// A miss in epoch 1 (a single host: the request expires at its refusal).
		submit();
		run_to_block(25);
		assert_eq!(Reputations::<Test>::get(account(1)).misses, 1);
		run_to_block(41);
		assert_eq!(Inference::reputation_at(&account(1), 2).clean_epochs, 0);
		assert_eq!(Inference::host_view(&account(1)).reputation, 0);
	});
}

#[test]
fn the_target_falls_with_reputation_and_traffic() {
	with_hosts(&[1, 2], || {
		Reputations::<Test>::insert(
			account(1),
			ReputationState { clean_epochs: 30, epoch: 0, active: true, misses: 0, invalid: false },
		);
		Ledger::<Test>::mutate(0, account(1), |stats| stats.finished = 9_999);
		let mut checked = false;
		for seed in 0..20 {
			TestRandomness::set(seed);
			let id = submit();
			if executor_of(id) == 1 {
				assert_ok!(finish_as(1, result(id, 5)));
				let target = Requests::<Test>::get(id).unwrap().finish.unwrap().target;
				assert_eq!(target, rules::validation_target(100, 10_000));
				assert_eq!(target, Perbill::from_percent(1));
				checked = true;
				break;
			}
		}
		assert!(checked);
	});
}

// ---- price ------------------------------------------------------------------------------

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
	with_hosts(&[1], || {
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
	with_hosts(&[1], || {
		// Two requests of 28 tokens: 56% of 100.
		submit_model_2();
		submit_model_2();
		run_to_block(2);
		assert_eq!(price_now(), 1_000);
	});
}

#[test]
fn a_quote_is_the_escrow_a_request_would_hold() {
	with_hosts(&[1], || {
		// The next block's price of model 1: 2 (a 2% fall of 2 rounds to nothing).
		assert_eq!(Inference::quote(1, 10, 8), Some(ESCROW));
		assert_eq!(Inference::quote(3, 10, 8), None);
		assert_eq!(Inference::quote(1, u32::MAX, u32::MAX), Some((u32::MAX as u128 * 2 + 10) * 2));
	});
}

// ---- governance -------------------------------------------------------------------------

#[test]
fn governance_sets_the_rules_and_bad_rules_are_refused() {
	with_hosts(&[1], || {
		let params = InferenceParams { refusal_timeout: 5, ..test_params() };
		assert_noop!(
			Inference::set_params(RuntimeOrigin::signed(account(1)), params),
			DispatchError::BadOrigin
		);
		assert_ok!(Inference::set_params(RuntimeOrigin::root(), params));
		assert_eq!(Params::<Test>::get(), params);
		assert!(events().contains(&Event::ParamsSet { params }));
		let refused = [
			(InferenceParams { vote_window: 0, ..params }, Error::<Test>::ZeroWindow),
			(
				InferenceParams { refusal_timeout: 10, ..params },
				Error::<Test>::RefusalNotBeforeExpiration,
			),
			(
				InferenceParams {
					price_rule: rules::PriceRule {
						lower: Perbill::from_percent(70),
						..params.price_rule
					},
					..params
				},
				Error::<Test>::BadPriceRule,
			),
			(InferenceParams { min_price: 0, ..params }, Error::<Test>::ZeroFloor),
			(InferenceParams { block_capacity: 0, ..params }, Error::<Test>::ZeroCapacity),
			(
				InferenceParams {
					sprt: SprtParams { p1: Perbill::from_percent(5), ..params.sprt },
					..params
				},
				Error::<Test>::BadSprt,
			),
		];
		for (bad, error) in refused {
			assert_noop!(Inference::set_params(RuntimeOrigin::root(), bad), error);
		}
	});
}

#[test]
fn the_default_rules_are_the_live_networks() {
	let live = InferenceParams::<u64>::live_network();
	assert_eq!(live.expiration, 150);
	assert_eq!(live.min_price, 1);
	assert_eq!(live.price_rule, rules::PriceRule::live_network());
	assert_eq!(live.sprt.sprt(), Some(Sprt::live_network()));
	assert_eq!(live.check(), Ok(()));
}

// ---- storage hygiene ----------------------------------------------------------------------

#[test]
fn a_closed_requests_payloads_and_votes_are_pruned_after_the_retention_window() {
	with_hosts(&[1, 2, 3, 4], || {
		let (id, executor, validator) = failed_validation();
		let voter = [1, 2, 3, 4].into_iter().find(|&i| i != executor && i != validator).unwrap();
		// The second invalid vote: 2 of 3 units, the vote closes now.
		assert_ok!(vote_as(voter, id, true));
		assert_eq!(status(id), RequestStatus::Closed(Outcome::Invalidated));
		let closed_at = System::block_number();
		run_to_block(closed_at + 4);
		assert!(Requests::<Test>::contains_key(id));
		run_to_block(closed_at + 5);
		assert!(!Requests::<Test>::contains_key(id));
		assert!(!Prompts::<Test>::contains_key(id));
		assert!(!Outputs::<Test>::contains_key(id));
		assert_eq!(Reports::<Test>::iter_prefix(id).count(), 0);
		assert_eq!(Votes::<Test>::iter_prefix(id).count(), 0);
		assert!(events().contains(&Event::RequestPruned { request: id }));
		assert_eq!(Inference::request_view(id), None);
	});
}

#[test]
fn an_epochs_pending_work_is_released_when_the_ledger_settles_it() {
	with_hosts(&[1], || {
		let (_, _) = finished();
		assert_eq!(work_held(1), COST);
		// Epoch 0's ledger is kept through epoch 1 and settled when epoch 2 starts (41).
		run_to_block(40);
		assert_eq!(work_held(1), COST);
		let free_before = free(1);
		run_to_block(41);
		assert_eq!(work_held(1), 0);
		assert_eq!(free(1), free_before + COST);
		assert_eq!(Ledger::<Test>::iter_prefix(0).count(), 0);
		assert!(events().contains(&Event::WorkSettled {
			epoch: 0,
			host: account(1),
			amount: COST,
			forfeited: false
		}));
		assert!(events().contains(&Event::EpochSettled { epoch: 0 }));
		assert_eq!(UnsettledEpoch::<Test>::get(), 1);
	});
}

#[test]
fn an_invalid_hosts_pending_work_is_forfeited_to_the_pool() {
	with_hosts(&[1, 2], || {
		// Host 1 keeps one validated result, then is invalidated until INVALID.
		let mut kept = None;
		let mut invalidations = 0;
		while invalidations < 6 {
			let (id, executor) = finished();
			run_to_block(System::block_number() + 1);
			if executor != 1 {
				continue;
			}
			if kept.is_none() {
				assert_ok!(validate_as(2, id, Perbill::one()));
				kept = Some(id);
				continue;
			}
			assert_ok!(validate_as(2, id, Perbill::zero()));
			invalidations += 1;
		}
		assert!(Ledger::<Test>::get(0, account(1)).invalid);
		// The kept result was validated: host 2 has its share, host 1 the rest.
		run_to_block(System::block_number() + 4);
		assert_eq!(work_held(1), COST - SHARE);
		assert!(events().contains(&Event::ValidatorPaid {
			request: kept.unwrap(),
			validator: account(2),
			epoch: 0,
			amount: SHARE
		}));
		// Host 2's own results and its share.
		let validator_work = work_held(2);
		let validator_before = free(2);
		run_to_block(41);
		assert_eq!(work_held(1), 0);
		assert_eq!(free(99), COST - SHARE);
		assert!(events().contains(&Event::WorkSettled {
			epoch: 0,
			host: account(1),
			amount: COST - SHARE,
			forfeited: true
		}));
		// The validator did its work: its share is released to it.
		assert_eq!(free(2), validator_before + validator_work);
		assert!(events().contains(&Event::WorkSettled {
			epoch: 0,
			host: account(2),
			amount: validator_work,
			forfeited: false
		}));
	});
}

#[test]
fn settlement_is_bounded_per_block() {
	with_hosts(&[1, 2, 3], || {
		for seed in 0..30 {
			TestRandomness::set(seed);
			let id = submit();
			assert_ok!(finish_as(executor_of(id), result(id, 5)));
		}
		let hosts = Ledger::<Test>::iter_prefix(0).count();
		assert!(hosts >= 3);
		// Two host records per block.
		run_to_block(41);
		assert_eq!(Ledger::<Test>::iter_prefix(0).count(), hosts - 2);
		run_to_block(42);
		assert_eq!(Ledger::<Test>::iter_prefix(0).count(), hosts.saturating_sub(4));
		run_to_block(45);
		assert_eq!(UnsettledEpoch::<Test>::get(), 1);
	});
}

// ---- runtime API ----------------------------------------------------------------------------

#[test]
fn the_runtime_api_lists_the_validators_the_hash_rule_samples() {
	with_hosts(&[1, 2, 3, 4, 5, 6, 7, 8], || {
		let (id, executor) = finished();
		// In the block that included `finish` nobody knows its hash yet.
		assert_eq!(Inference::sampled_validators(id), None);
		assert_eq!(Inference::sampled_validators(id + 1), None);
		run_to_block(2);
		let listed = Inference::sampled_validators(id).expect("finished before this block");
		let expected: Vec<gonka_primitives::HostId> =
			sampled(id, &[1, 2, 3, 4, 5, 6, 7, 8]).into_iter().map(account).collect();
		let mut listed_sorted = listed.clone();
		listed_sorted.sort();
		let mut expected_sorted = expected.clone();
		expected_sorted.sort();
		assert_eq!(listed_sorted, expected_sorted);
		assert!(!listed.contains(&account(executor)));
		// Exactly the listed hosts may report.
		for i in [1u8, 2, 3, 4, 5, 6, 7, 8].into_iter().filter(|&i| i != executor) {
			let outcome = validate_as(i, id, Perbill::one());
			if listed.contains(&account(i)) {
				assert_ok!(outcome);
			} else {
				assert_eq!(outcome, Err(custom(Error::<Test>::NotSampled)));
			}
		}
	});
}

#[test]
fn the_runtime_api_shows_a_request_with_its_payloads_and_a_hosts_standing() {
	with_hosts(&[1], || {
		let (id, _) = finished();
		let view = Inference::request_view(id).unwrap();
		assert_eq!(view.prompt, vec![b'a'; 10]);
		assert_eq!(view.token_ids, vec![0, 1, 2, 3, 4]);
		assert_eq!(view.text, b"an answer".to_vec());
		assert_eq!(view.request.status, RequestStatus::Finished);
		let host = Inference::host_view(&account(1));
		assert_eq!(host.pending_work, COST);
		assert_eq!(host.stats.finished, 1);
		assert_eq!(host.reputation, 0);
	});
}
