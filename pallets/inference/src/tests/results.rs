//! Results (`protocol.md`, "Inference" 2): `finish`, its cost and refund, and who may send it.

use super::*;
use gonka_primitives::inference::RequestId;
use polkadot_sdk::{
	frame_support::{assert_noop, BoundedVec},
	frame_system::RawOrigin,
	sp_runtime::transaction_validity::InvalidTransaction,
};

#[test]
fn finish_refunds_the_escrow_beyond_the_cost_and_holds_the_cost_as_pending_work() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
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
		assert_eq!(output.token_ids.into_inner(), vec![0, 1, 2, 3, END_TOKEN]);
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
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
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
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		let id = submit();
		// 10 bytes + 10 template tokens.
		let over = InferenceFinishOf { prompt_tokens: 21, ..result(id, 5) };
		assert_eq!(finish_as(1, over), Err(custom(Error::<Test>::PromptTokensAboveBound)));
		let at_bound = InferenceFinishOf { prompt_tokens: 20, ..result(id, 5) };
		assert_ok!(finish_as(1, at_bound));
	});
}

/// A result of `token_ids` with 12 prompt tokens.
fn tokens(id: RequestId, token_ids: &[u32]) -> InferenceFinishOf {
	InferenceFinishOf { token_ids: BoundedVec::truncate_from(token_ids.to_vec()), ..result(id, 1) }
}

/// Hole 1 of the soundness review: a lazy executor returns nothing, or stops after a few
/// tokens, and is paid. A completion is complete only when its last token is an end token
/// or it has `max_tokens` tokens; anything else is refused before the pool takes it, and
/// the request stays assigned (its timer makes it a miss and reassigns it).
#[test]
fn a_completion_is_complete_only_at_an_end_token_or_at_max_tokens() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		let id = submit();
		let refused = [
			(tokens(id, &[]), Error::<Test>::EmptyCompletion),
			(tokens(id, &[5, 6, 7]), Error::<Test>::CompletionTruncated),
			(tokens(id, &[5, 6, 7, 8, 9, 10, 11]), Error::<Test>::CompletionTruncated),
			(tokens(id, &[5, END_TOKEN, 7, END_TOKEN]), Error::<Test>::TokensAfterEnd),
		];
		for (lazy, error) in refused {
			assert_eq!(finish_as(1, lazy), Err(custom(error)));
		}
		// Refused at dispatch too, not only by the pool.
		let lazy = tokens(id, &[5]);
		let signature = sign(1, &lazy);
		assert_noop!(
			Inference::finish(RawOrigin::Authorized.into(), account(1), lazy, signature),
			Error::<Test>::CompletionTruncated
		);
		assert_eq!(status(id), RequestStatus::Assigned);
		assert_eq!(escrow_held(), ESCROW);
		// max_tokens is 8: eight tokens without an end token are complete.
		assert_ok!(finish_as(1, tokens(id, &[5, 6, 7, 8, 9, 10, 11, 12])));
		// So is an end token at any length up to max_tokens.
		let id = submit();
		assert_ok!(finish_as(executor_of(id), tokens(id, &[END_TOKEN])));
	});
}

/// The `finish` payload type of the test runtime.
type InferenceFinishOf = FinishOf<Test>;

#[test]
fn finish_by_a_host_that_is_not_the_executor_is_refused() {
	ExtBuilder::default().hosts(&[1, 2]).build_and_execute(|| {
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
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
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
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		assert_eq!(finish_as(1, result(42, 5)), Err(pool(InvalidTransaction::Stale)));
	});
}
