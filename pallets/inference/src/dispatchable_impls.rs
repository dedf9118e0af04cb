//! What each call does once its origin is checked (`protocol.md`, "Inference" 1–5): a
//! request's admission and escrow, a result's cost and finish record, a validation report
//! (which may open or decide a vote), a vote, a missed validation, governance's rules.

use super::*;
use gonka_primitives::{
	duty::{InferenceValidation, InvalidationVote, MissingValidation},
	inference::{self as rules, RequestId, SamplingParams},
	ModelId, H256,
};
use polkadot_sdk::{
	frame_support::{pallet_prelude::*, traits::fungible::MutateHold},
	frame_system,
	sp_runtime::{
		traits::{One, Saturating},
		Perbill,
	},
};

impl<T: Config> Pallet<T> {
	/// [`Pallet::request`]: checks the input, fixes the price and the escrow (the tokens'
	/// and the timer deposit) and holds it (nothing is held if any of it fails), then
	/// queues the request for its executor draw in the next block.
	pub(crate) fn do_request(
		developer: T::AccountId,
		model: ModelId,
		prompt: BoundedVec<u8, T::MaxPromptBytes>,
		max_tokens: u32,
		params: SamplingParams,
	) -> DispatchResult {
		let terms = Self::check_request(model, &prompt, max_tokens, &params)?;
		let now = frame_system::Pallet::<T>::block_number();
		let rules = Params::<T>::get();
		let prompt_bytes = prompt.len() as u32;
		let mut price = Self::price_state(model, &terms, &rules, now);
		let escrow = rules::escrow(prompt_bytes, terms.template_overhead, max_tokens, price.price)
			.and_then(|tokens| tokens.checked_add(Self::timer_deposit(&rules)))
			.ok_or(Error::<T>::EscrowOverflow)?;
		ensure!(pallet_poc::Pallet::<T>::has_executors(model), Error::<T>::NoExecutor);
		let draws = Queues::<T>::get(Timer::Draw);
		let pending = draws.tail.saturating_sub(draws.head);
		ensure!(pending < u64::from(T::MaxPendingDraws::get()), Error::<T>::DrawQueueFull);
		Funds::<T>::hold(&HoldReason::Escrow.into(), &developer, escrow)
			.map_err(|_| Error::<T>::InsufficientBalance)?;

		let tokens = u64::from(prompt_bytes)
			.saturating_add(u64::from(terms.template_overhead))
			.saturating_add(u64::from(max_tokens));
		price.used = price.used.saturating_add(tokens);
		Self::store_price(model, price);
		let request = Request {
			developer: developer.clone(),
			model,
			max_tokens,
			params,
			prompt_bytes,
			template_overhead: terms.template_overhead,
			validation_threshold: terms.validation_threshold,
			prompt_hash: H256(gonka_primitives::hash(&prompt)),
			price: price.price,
			escrow,
			created: now,
			executor: developer,
			attempt: 0,
			status: RequestStatus::Queued,
			finish: None,
			vote: None,
		};
		Self::admit(request, prompt);
		Ok(())
	}

	/// Checks a request's input against `model`'s terms; returns the terms. A request is
	/// accepted only if a worker can serve it: the prompt is UTF-8 text, not only whitespace
	/// (`gonka_primitives::inference::prompt_text`), and its bytes (no
	/// fewer than its tokens, for a byte-level tokenizer), the template's tokens and
	/// `max_tokens` fit the model's context.
	fn check_request(
		model: ModelId,
		prompt: &BoundedVec<u8, T::MaxPromptBytes>,
		max_tokens: u32,
		params: &SamplingParams,
	) -> Result<ModelTerms, Error<T>> {
		let terms = T::ModelTerms::terms(model).ok_or(Error::<T>::UnknownModel)?;
		ensure!(!prompt.is_empty(), Error::<T>::EmptyPrompt);
		ensure!(max_tokens > 0, Error::<T>::ZeroMaxTokens);
		let most = terms.max_context.min(T::MaxOutputTokens::get());
		ensure!(max_tokens <= most, Error::<T>::MaxTokensAboveLimit);
		ensure!(params.is_valid(), Error::<T>::BadSamplingParams);
		let needed = (prompt.len() as u64)
			.saturating_add(u64::from(terms.template_overhead))
			.saturating_add(u64::from(max_tokens));
		ensure!(needed <= u64::from(terms.max_context), Error::<T>::ExceedsContext);
		rules::prompt_text(prompt).map_err(|bad| match bad {
			rules::BadPrompt::NotUtf8 => Error::<T>::PromptNotUtf8,
			rules::BadPrompt::Blank => Error::<T>::BlankPrompt,
		})?;
		Ok(terms)
	}

	/// Stores the next request (its escrow held) and its prompt, and schedules its
	/// executor draw for the next block.
	fn admit(request: RequestOf<T>, prompt: BoundedVec<u8, T::MaxPromptBytes>) {
		let id = NextRequestId::<T>::get();
		NextRequestId::<T>::put(id.saturating_add(1));
		Prompts::<T>::insert(id, prompt);
		let event = Event::RequestSubmitted {
			request: id,
			developer: request.developer.clone(),
			model: request.model,
			price: request.price,
			escrow: request.escrow,
		};
		let draw_at = request.created.saturating_add(One::one());
		Requests::<T>::insert(id, request);
		Self::schedule(Timer::Draw, draw_at, id, 0);
		Self::deposit_event(event);
	}

	/// [`Pallet::finish`]: checks the result again, takes its cost from the escrow as the
	/// executor's pending work, counts it in the executor's ledger, keeps the output and
	/// the power snapshot validation uses, and opens the validation window.
	pub(crate) fn do_finish(executor: T::AccountId, result: FinishOf<T>) -> DispatchResult {
		let request = Self::check_finish(&executor, &result)?;
		let now = frame_system::Pallet::<T>::block_number();
		let completion_tokens = result.token_ids.len() as u32;
		let cost = rules::cost(result.prompt_tokens, completion_tokens, request.price)
			.map(|cost| cost.min(request.escrow))
			.ok_or(Error::<T>::EscrowOverflow)?;
		let refund = Self::take_cost(&request, &executor, cost)?;

		let epoch = pallet_poc::Pallet::<T>::epoch_now();
		let target = Self::note_finished(&executor, epoch, cost);
		let (snapshot, total_power, _) = pallet_poc::Pallet::<T>::take_snapshot();
		let executor_power = pallet_poc::Pallet::<T>::power_in(&snapshot, &executor);
		let output = Output { token_ids: result.token_ids, text: result.text };
		let output_hash = H256(gonka_primitives::hash(&output.encode()));
		Outputs::<T>::insert(result.request, output);
		let record = FinishRecord {
			at: now,
			epoch,
			prompt_tokens: result.prompt_tokens,
			completion_tokens,
			cost,
			output_hash,
			snapshot,
			total_power,
			executor_power,
			target,
			passes: 0,
			reports: 0,
		};
		Self::await_validation(result.request, request, record, refund);
		Ok(())
	}

	/// Stores finished request `id` with its `record` and opens its validation window.
	fn await_validation(
		id: RequestId,
		mut request: RequestOf<T>,
		record: FinishRecordOf<T>,
		refund: u128,
	) {
		let executor = request.executor.clone();
		request.status = RequestStatus::Finished;
		request.finish = Some(record);
		Requests::<T>::insert(id, request);
		let window = Params::<T>::get().validation_window;
		Self::schedule(Timer::Validation, record.at.saturating_add(window), id, 0);
		Self::deposit_event(Event::RequestFinished {
			request: id,
			executor,
			prompt_tokens: record.prompt_tokens,
			completion_tokens: record.completion_tokens,
			cost: record.cost,
			refund,
			output_hash: record.output_hash,
		});
	}

	/// [`Pallet::validate`]: records the report; a failing one opens the vote if none is
	/// open, and a report made while a vote is open counts as the validator's vote.
	/// Returns the weight of what happened.
	pub(crate) fn do_validate(
		validator: T::AccountId,
		report: InferenceValidation,
	) -> DispatchResultWithPostInfo {
		let (mut request, finish, power) = Self::check_validate(&validator, &report)?;
		let id = report.request;
		let passed = report.similarity >= request.validation_threshold;
		Self::record_report(id, &mut request, finish, &validator, report.similarity, passed);
		let now = frame_system::Pallet::<T>::block_number();
		let opened = request.status == RequestStatus::Finished && !passed;
		if opened {
			Self::open_vote(id, &mut request, &validator, now);
		}
		let mut read = 0;
		if request.status == RequestStatus::Voting && !Votes::<T>::contains_key(id, &validator) {
			// A report made while a vote is open is that validator's vote, unless it voted
			// already: one count per host and request, whatever the order.
			read = Self::count_vote(id, &mut request, &validator, !passed, power, now);
		}
		Requests::<T>::insert(id, request);
		Ok(Some(Self::report_weight(opened, passed, read)).into())
	}

	/// Records `validator`'s report on request `id` (in storage, its ledger and the
	/// request's finish record `finish`); the caller stores the request.
	fn record_report(
		id: RequestId,
		request: &mut RequestOf<T>,
		finish: FinishRecordOf<T>,
		validator: &T::AccountId,
		similarity: Perbill,
		passed: bool,
	) {
		Reports::<T>::insert(id, validator, similarity);
		Self::record_validation(pallet_poc::Pallet::<T>::epoch_now(), validator);
		let mut record = finish;
		record.reports = record.reports.saturating_add(1);
		if passed {
			record.passes = record.passes.saturating_add(1);
		}
		request.finish = Some(record);
		Self::deposit_event(Event::ValidationReported {
			request: id,
			validator: validator.clone(),
			similarity,
			passed,
		});
	}

	/// [`Pallet::vote`]: counts the vote, which closes the vote once its outcome is
	/// certain. Returns the weight of what happened.
	pub(crate) fn do_vote(
		voter: T::AccountId,
		ballot: InvalidationVote,
	) -> DispatchResultWithPostInfo {
		let (mut request, power) = Self::check_vote(&voter, &ballot)?;
		let now = frame_system::Pallet::<T>::block_number();
		let paid =
			Self::count_vote(ballot.request, &mut request, &voter, ballot.invalid, power, now);
		Requests::<T>::insert(ballot.request, request);
		Ok(Some(Self::vote_weight(paid)).into())
	}

	/// [`Pallet::report_missing`]: a missed validation in the validator's ledger for the
	/// request's epoch.
	pub(crate) fn do_report_missing(
		reporter: T::AccountId,
		claim: MissingValidation,
	) -> DispatchResult {
		let finish = Self::check_missing(&claim)?;
		Missed::<T>::insert(claim.request, &claim.validator, ());
		Self::record_missed_validation(finish.epoch, &claim.validator);
		Self::deposit_event(Event::ValidationMissed {
			request: claim.request,
			validator: claim.validator,
			epoch: finish.epoch,
			reporter,
		});
		Ok(())
	}

	/// [`Pallet::set_params`]: stores the rules if they can be used.
	pub(crate) fn do_set_params(params: ParamsOf<T>) -> DispatchResult {
		params.check().map_err(|error| match error {
			InvalidParams::ZeroWindow => Error::<T>::ZeroWindow,
			InvalidParams::RefusalNotBeforeExpiration => Error::<T>::RefusalNotBeforeExpiration,
			InvalidParams::PriceRule => Error::<T>::BadPriceRule,
			InvalidParams::ZeroFloor => Error::<T>::ZeroFloor,
			InvalidParams::ZeroCapacity => Error::<T>::ZeroCapacity,
			InvalidParams::Sprt => Error::<T>::BadSprt,
		})?;
		// Validators are sampled from a block hash, which frame-system keeps only so long.
		ensure!(
			params.validation_window < T::BlockHashCount::get(),
			Error::<T>::WindowBeyondBlockHashes
		);
		Params::<T>::put(params);
		Self::deposit_event(Event::ParamsSet { params });
		Ok(())
	}
}
