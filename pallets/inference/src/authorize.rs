//! The duty calls' rules (`finish`, `validate`, `vote`, `report_missing`): each `check_*`
//! is what the chain's state must allow, run both by the call's `#[pallet::authorize]`
//! rule (before the pool takes the transaction, with the worker key's signature) and again
//! at dispatch (the state may have moved since). Also the validation hash rule
//! (`protocol.md`, "Inference" 3): who is sampled to validate a finished request.

use super::*;
use gonka_primitives::{
	duty::{Duty, InferenceValidation, InvalidationVote, MissingValidation},
	inference::{self as rules, RequestId},
	H256,
};
use pallet_poc::validity::{duty_validity, error_code};
use pallet_poc::Hosts;
use polkadot_sdk::{
	frame_support::pallet_prelude::*, frame_system, sp_core::sr25519,
	sp_runtime::traits::Saturating,
};

impl<T: Config> Pallet<T> {
	/// The worker key of a registered host.
	fn worker_key(host: &T::AccountId) -> Result<sr25519::Public, Error<T>> {
		Hosts::<T>::get(host).map(|info| info.worker_key).ok_or(Error::<T>::NotRegistered)
	}

	/// Checks a result against the chain's state; returns its request.
	pub(crate) fn check_finish(
		executor: &T::AccountId,
		result: &FinishOf<T>,
	) -> Result<RequestOf<T>, Error<T>> {
		let request = Requests::<T>::get(result.request).ok_or(Error::<T>::UnknownRequest)?;
		ensure!(request.status == RequestStatus::Assigned, Error::<T>::NotAssigned);
		// Expired from `expiration` blocks on, even before its timer refunds it.
		let now = frame_system::Pallet::<T>::block_number();
		let expiry = request.created.saturating_add(Params::<T>::get().expiration);
		ensure!(now < expiry, Error::<T>::NotAssigned);
		ensure!(request.executor == *executor, Error::<T>::NotExecutor);
		ensure!(result.token_ids.len() as u32 <= request.max_tokens, Error::<T>::TooManyTokens);
		// Complete: ended by one of the model's end tokens, or at `max_tokens`.
		let end_tokens =
			T::ModelTerms::end_tokens(request.model).ok_or(Error::<T>::UnknownModel)?;
		rules::completion_end(&result.token_ids, request.max_tokens, &end_tokens).map_err(
			|unfinished| match unfinished {
				rules::Unfinished::Empty => Error::<T>::EmptyCompletion,
				rules::Unfinished::Truncated => Error::<T>::CompletionTruncated,
				rules::Unfinished::TokensAfterEnd => Error::<T>::TokensAfterEnd,
				rules::Unfinished::TooLong => Error::<T>::TooManyTokens,
			},
		)?;
		let bound = request.prompt_bytes.saturating_add(request.template_overhead);
		ensure!(result.prompt_tokens <= bound, Error::<T>::PromptTokensAboveBound);
		Ok(request)
	}

	/// The `authorize` rule of [`Pallet::finish`]: the result fits the request and the
	/// executor's worker key signed it for this chain.
	pub(crate) fn authorize_finish(
		_source: TransactionSource,
		executor: &T::AccountId,
		result: &FinishOf<T>,
		signature: &sr25519::Signature,
	) -> TransactionValidityWithRefund {
		let key = Self::worker_key(executor).map_err(|_| InvalidTransaction::BadSigner)?;
		let request = Self::check_finish(executor, result).map_err(|error| match error {
			Error::<T>::UnknownRequest | Error::<T>::NotAssigned => InvalidTransaction::Stale,
			other => InvalidTransaction::Custom(error_code(other)),
		})?;
		if !result.verify(&pallet_poc::Pallet::<T>::genesis_hash(), executor, &key, signature) {
			return Err(InvalidTransaction::BadProof.into());
		}
		let expiry = request.created.saturating_add(Params::<T>::get().expiration);
		duty_validity::<T>("GonkaInferenceFinish", result.request, expiry)
	}

	/// Checks a validation report; returns the request, its finish record and the
	/// validator's power in the request's snapshot.
	pub(crate) fn check_validate(
		validator: &T::AccountId,
		report: &InferenceValidation,
	) -> Result<(RequestOf<T>, FinishRecordOf<T>, u128), Error<T>> {
		let request = Requests::<T>::get(report.request).ok_or(Error::<T>::UnknownRequest)?;
		let finish = match (request.status, request.finish) {
			(RequestStatus::Finished | RequestStatus::Voting, Some(finish)) => finish,
			_ => return Err(Error::<T>::NotValidating),
		};
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now > finish.at, Error::<T>::TooEarly);
		let window = Params::<T>::get().validation_window;
		ensure!(now < finish.at.saturating_add(window), Error::<T>::NotValidating);
		ensure!(*validator != request.executor, Error::<T>::SelfValidation);
		ensure!(
			!Reports::<T>::contains_key(report.request, validator),
			Error::<T>::AlreadyReported
		);
		let power = pallet_poc::Pallet::<T>::power_in(&finish.snapshot, validator);
		ensure!(
			Self::is_sampled(report.request, &request, &finish, validator, power),
			Error::<T>::NotSampled
		);
		Ok((request, finish, power))
	}

	/// Whether the hash that samples `finish`'s validators, that of the block that
	/// included it, is known: from the next block on, and while frame-system keeps it
	/// (`BlockHashCount` blocks; after that it reads as zero).
	pub(crate) fn sample_known(finish: &FinishRecordOf<T>) -> bool {
		let now = frame_system::Pallet::<T>::block_number();
		now > finish.at && now <= finish.at.saturating_add(T::BlockHashCount::get())
	}

	/// Whether the hash rule samples `validator` (with `power` in the request's
	/// snapshot) to validate finished request `id`: from the hash of the block that
	/// included `finish`, so only from the next block on.
	pub(crate) fn is_sampled(
		id: RequestId,
		request: &RequestOf<T>,
		finish: &FinishRecordOf<T>,
		validator: &T::AccountId,
		power: u128,
	) -> bool {
		let block = frame_system::Pallet::<T>::block_hash(finish.at);
		rules::is_validator(
			&H256::from_slice(block.as_ref()),
			id,
			validator,
			&request.executor,
			finish.target,
			power,
			finish.total_power,
			finish.executor_power,
		)
	}

	/// The `authorize` rule of [`Pallet::validate`].
	pub(crate) fn authorize_validate(
		_source: TransactionSource,
		validator: &T::AccountId,
		report: &InferenceValidation,
		signature: &sr25519::Signature,
	) -> TransactionValidityWithRefund {
		let key = Self::worker_key(validator).map_err(|_| InvalidTransaction::BadSigner)?;
		let (_, finish, _) =
			Self::check_validate(validator, report).map_err(|error| match error {
				Error::<T>::TooEarly => InvalidTransaction::Future,
				Error::<T>::UnknownRequest
				| Error::<T>::NotValidating
				| Error::<T>::AlreadyReported => InvalidTransaction::Stale,
				other => InvalidTransaction::Custom(error_code(other)),
			})?;
		if !report.verify(&pallet_poc::Pallet::<T>::genesis_hash(), validator, &key, signature) {
			return Err(InvalidTransaction::BadProof.into());
		}
		let until = finish.at.saturating_add(Params::<T>::get().validation_window);
		duty_validity::<T>("GonkaInferenceValidation", (report.request, validator), until)
	}

	/// Checks a vote; returns the request and the voter's power in its snapshot.
	pub(crate) fn check_vote(
		voter: &T::AccountId,
		ballot: &InvalidationVote,
	) -> Result<(RequestOf<T>, u128), Error<T>> {
		let request = Requests::<T>::get(ballot.request).ok_or(Error::<T>::UnknownRequest)?;
		let (Some(finish), Some(tally)) = (request.finish, request.vote) else {
			return Err(Error::<T>::NoOpenVote);
		};
		ensure!(request.status == RequestStatus::Voting, Error::<T>::NoOpenVote);
		let now = frame_system::Pallet::<T>::block_number();
		let window = Params::<T>::get().vote_window;
		ensure!(now < tally.opened.saturating_add(window), Error::<T>::NoOpenVote);
		ensure!(*voter != request.executor, Error::<T>::SelfVote);
		ensure!(!Votes::<T>::contains_key(ballot.request, voter), Error::<T>::AlreadyVoted);
		let power = pallet_poc::Pallet::<T>::power_in(&finish.snapshot, voter);
		ensure!(power > 0, Error::<T>::NoVotingPower);
		Ok((request, power))
	}

	/// The `authorize` rule of [`Pallet::vote`].
	pub(crate) fn authorize_vote(
		_source: TransactionSource,
		voter: &T::AccountId,
		ballot: &InvalidationVote,
		signature: &sr25519::Signature,
	) -> TransactionValidityWithRefund {
		let key = Self::worker_key(voter).map_err(|_| InvalidTransaction::BadSigner)?;
		let (request, _) = Self::check_vote(voter, ballot).map_err(|error| match error {
			Error::<T>::UnknownRequest | Error::<T>::NoOpenVote | Error::<T>::AlreadyVoted => {
				InvalidTransaction::Stale
			}
			other => InvalidTransaction::Custom(error_code(other)),
		})?;
		if !ballot.verify(&pallet_poc::Pallet::<T>::genesis_hash(), voter, &key, signature) {
			return Err(InvalidTransaction::BadProof.into());
		}
		let opened = request.vote.map_or(Zero::zero(), |tally| tally.opened);
		let until = opened.saturating_add(Params::<T>::get().vote_window);
		duty_validity::<T>("GonkaInvalidationVote", (ballot.request, voter), until)
	}

	/// Checks a missing-validation claim; returns the request's finish record.
	pub(crate) fn check_missing(claim: &MissingValidation) -> Result<FinishRecordOf<T>, Error<T>> {
		let request = Requests::<T>::get(claim.request).ok_or(Error::<T>::UnknownRequest)?;
		let finish = request.finish.ok_or(Error::<T>::NeverFinished)?;
		let now = frame_system::Pallet::<T>::block_number();
		let window = Params::<T>::get().validation_window;
		ensure!(now >= finish.at.saturating_add(window), Error::<T>::ValidationOpen);
		ensure!(Self::sample_known(&finish), Error::<T>::SampleExpired);
		ensure!(claim.validator != request.executor, Error::<T>::SelfValidation);
		// A vote may close the request before the window ends, and a validator's vote
		// stands for its report: only a request that never went to a vote shows a miss.
		ensure!(request.vote.is_none(), Error::<T>::VoteWasOpened);
		ensure!(
			!Reports::<T>::contains_key(claim.request, &claim.validator),
			Error::<T>::ValidatorReported
		);
		ensure!(
			!Missed::<T>::contains_key(claim.request, &claim.validator)
				&& finish.epoch >= UnsettledEpoch::<T>::get(),
			Error::<T>::AlreadyRecorded
		);
		let power = pallet_poc::Pallet::<T>::power_in(&finish.snapshot, &claim.validator);
		// A host that does not serve the model cannot replay it: never a miss.
		let serves = pallet_poc::Hosts::<T>::get(&claim.validator)
			.is_some_and(|host| host.models.contains(&request.model));
		ensure!(
			serves && Self::is_sampled(claim.request, &request, &finish, &claim.validator, power),
			Error::<T>::NotSampled
		);
		Ok(finish)
	}

	/// The `authorize` rule of [`Pallet::report_missing`].
	pub(crate) fn authorize_report_missing(
		_source: TransactionSource,
		reporter: &T::AccountId,
		claim: &MissingValidation,
		signature: &sr25519::Signature,
	) -> TransactionValidityWithRefund {
		let key = Self::worker_key(reporter).map_err(|_| InvalidTransaction::BadSigner)?;
		let finish = Self::check_missing(claim).map_err(|error| match error {
			Error::<T>::ValidationOpen => InvalidTransaction::Future,
			Error::<T>::UnknownRequest
			| Error::<T>::AlreadyRecorded
			| Error::<T>::SampleExpired
			| Error::<T>::VoteWasOpened => InvalidTransaction::Stale,
			other => InvalidTransaction::Custom(error_code(other)),
		})?;
		if !claim.verify(&pallet_poc::Pallet::<T>::genesis_hash(), reporter, &key, signature) {
			return Err(InvalidTransaction::BadProof.into());
		}
		let rules = Params::<T>::get();
		let until = finish
			.at
			.saturating_add(rules.validation_window)
			.saturating_add(rules.vote_window)
			.saturating_add(rules.retention);
		duty_validity::<T>("GonkaMissingValidation", (claim.request, &claim.validator), until)
	}
}
