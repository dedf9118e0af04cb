//! Benchmarks (v2) of every call, authorize rule and hook path of the pallet, each in its
//! worst case; the runtime's weights are generated from them.

use super::*;
use alloc::{format, vec, vec::Vec};
use gonka_primitives::{
	duty::{Duty, InferenceFinish, InferenceValidation, InvalidationVote, MissingValidation},
	inference::{executor_draw, RequestId, SamplingParams},
	HostId, ModelId, NonceCount, H256,
};
use pallet_poc::ModelRegistry;
use polkadot_sdk::{
	frame_benchmarking::v2::*,
	frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Mutate, MutateHold},
			Authorize, Hooks, Randomness,
		},
	},
	frame_system::{self, pallet_prelude::BlockNumberFor, RawOrigin},
	sp_core::{crypto::KeyTypeId, sr25519},
	sp_runtime::{traits::One, Perbill, Saturating},
};

/// The key type of the benchmarks' worker keys in the keystore.
const WORKER: KeyTypeId = KeyTypeId(*b"gwrk");
/// The model every benchmark uses.
const MODEL: ModelId = 1;

fn worker_key(i: u32) -> sr25519::Public {
	polkadot_sdk::sp_io::crypto::sr25519_generate(
		WORKER,
		Some(format!("//bench-inference-worker-{i}").into_bytes()),
	)
}

fn sign<T: Config, D: Duty>(host: &HostId, key: &sr25519::Public, duty: &D) -> sr25519::Signature {
	let message = duty.signing_message(&pallet_poc::Pallet::<T>::genesis_hash(), host);
	polkadot_sdk::sp_io::crypto::sr25519_sign(WORKER, key, &message)
		.expect("the key is in the keystore")
}

/// Plenty for escrows and deposits, far from overflowing the issuance.
fn fund<T: Config>(who: &HostId) {
	Funds::<T>::set_balance(who, 1_000_000_000_000_000_000_000_000);
}

/// The model approved, and its terms.
fn model<T: Config>() -> ModelTerms {
	<T as pallet_poc::Config>::Models::approve_for_benchmark(MODEL);
	T::ModelTerms::terms(MODEL).expect("an approved model has terms")
}

/// Host `i`, funded and registered for the model with worker key `i`.
fn register<T: Config>(i: u32) -> HostId {
	let _ = model::<T>();
	let who: HostId = account("host", i, 0);
	fund::<T>(&who);
	pallet_poc::Pallet::<T>::register_for_benchmark(&who, worker_key(i), vec![MODEL])
		.expect("the benchmark host registers");
	who
}

/// `n` registered hosts, the model's executors with equal weight and voting power 1 each.
fn hosts<T: Config>(n: u32) -> Vec<HostId> {
	let hosts: Vec<HostId> = (0..n).map(register::<T>).collect();
	pallet_poc::Pallet::<T>::force_roster(MODEL, hosts.iter().map(|h| (h.clone(), 1)).collect());
	let powers: Vec<(HostId, u128)> = hosts.iter().map(|h| (h.clone(), 1)).collect();
	pallet_poc::Pallet::<T>::force_voting_power(&powers);
	hosts
}

/// The worker key index of a benchmark host.
fn key_of(hosts: &[HostId], who: &HostId) -> sr25519::Public {
	let index = hosts.iter().position(|h| h == who).expect("a benchmark host");
	worker_key(index as u32)
}

/// An executor draw for request `id` on `attempt` that takes `draws` draws: a roster of
/// up to 256 hosts in which the hosts the earlier draws land on never registered, so each
/// of them is repeated. Registers the host of draw number `draws` and returns it.
fn drawn_in<T: Config>(id: RequestId, attempt: u32, draws: u32) -> HostId {
	let _ = model::<T>();
	let size = <T as pallet_poc::Config>::MaxHosts::get().min(256);
	let roster: Vec<(HostId, NonceCount)> =
		(0..size).map(|i| (account::<HostId>("roster", i, 0), 1)).collect();
	pallet_poc::Pallet::<T>::force_roster(MODEL, roster.clone());
	let (randomness, _) = T::Randomness::random(RANDOMNESS_SUBJECT);
	let mut draw = executor_draw(&randomness, id, attempt);
	let mut last = None;
	for _ in 0..draws {
		last = pallet_poc::Pallet::<T>::pick_executor(MODEL, &draw);
		draw = gonka_primitives::hash(&draw);
	}
	let chosen = last.expect("the roster has weight");
	let index = roster.iter().position(|(h, _)| *h == chosen).unwrap_or(0) as u32;
	fund::<T>(&chosen);
	pallet_poc::Pallet::<T>::register_for_benchmark(
		&chosen,
		worker_key(1_000 + index),
		vec![MODEL],
	)
	.expect("the drawn host registers");
	chosen
}

/// The largest prompt.
fn prompt<T: Config>() -> BoundedVec<u8, T::MaxPromptBytes> {
	BoundedVec::truncate_from(vec![b'p'; T::MaxPromptBytes::get() as usize])
}

/// The most completion tokens a request may ask for here.
/// The runtime's benchmark model has room for both bounds (16,384 tokens of context); a
/// test runtime's smaller context takes what is left beside the largest prompt.
fn max_tokens<T: Config>(terms: &ModelTerms) -> u32 {
	let room = terms
		.max_context
		.saturating_sub(T::MaxPromptBytes::get())
		.saturating_sub(terms.template_overhead);
	T::MaxOutputTokens::get().min(room)
}

/// A request by a funded developer with the largest prompt, its executor drawn; returns
/// its id.
fn make_request<T: Config>() -> RequestId {
	let id = queue_request::<T>();
	serve_one::<T>(
		Timer::Draw,
		frame_system::Pallet::<T>::block_number().saturating_add(One::one()),
	);
	id
}

/// A request by a funded developer with the largest prompt, queued for its draw; returns
/// its id.
fn queue_request<T: Config>() -> RequestId {
	let terms = model::<T>();
	let developer: HostId = account("developer", 0, 0);
	fund::<T>(&developer);
	let id = NextRequestId::<T>::get();
	Pallet::<T>::request(
		RawOrigin::Signed(developer).into(),
		MODEL,
		prompt::<T>(),
		max_tokens::<T>(&terms),
		SamplingParams::GREEDY,
	)
	.expect("the benchmark request is accepted");
	id
}

/// The largest result the request allows, `t` tokens (the model's end token last, every
/// other one checked against all end tokens) and `b` bytes of text.
fn result<T: Config>(id: RequestId, t: u32, b: u32) -> FinishOf<T> {
	let request = Requests::<T>::get(id).expect("the request exists");
	// At most what the request allows ([`max_tokens`]: all of `MaxOutputTokens` in the
	// runtime).
	let t = t.min(request.max_tokens);
	let end = T::ModelTerms::end_tokens(request.model).unwrap_or_default();
	let filler = (0u32..).find(|id| !end.contains(id)).unwrap_or(u32::MAX);
	let mut token_ids = vec![filler; t.saturating_sub(1) as usize];
	token_ids.push(end.first().copied().unwrap_or(filler));
	InferenceFinish {
		request: id,
		token_ids: BoundedVec::truncate_from(token_ids),
		text: BoundedVec::truncate_from(vec![b't'; b as usize]),
		prompt_tokens: request.prompt_bytes.saturating_add(request.template_overhead),
	}
}

/// A request finished by its executor (one of `hosts`); the chain moved to the next block,
/// where validators report. Returns the request and its executor.
fn finished<T: Config>(hosts: &[HostId]) -> (RequestId, HostId) {
	let id = make_request::<T>();
	let executor = Requests::<T>::get(id).expect("the request exists").executor;
	let key = key_of(hosts, &executor);
	let result = result::<T>(id, 16, 64);
	let signature = sign::<T, _>(&executor, &key, &result);
	Pallet::<T>::finish(RawOrigin::Authorized.into(), executor.clone(), result, signature)
		.expect("the executor finishes");
	next_block::<T>();
	(id, executor)
}

/// Moves to the next block, recording the hash of the one left.
fn next_block<T: Config>() {
	let now = frame_system::Pallet::<T>::block_number();
	frame_system::BlockHash::<T>::insert(now, T::Hash::default());
	frame_system::Pallet::<T>::set_block_number(now.saturating_add(One::one()));
}

/// A finished request in an open invalidation vote with `invalid` power against it.
fn in_vote<T: Config>(hosts: &[HostId], invalid: u128) -> (RequestId, HostId) {
	let (id, executor) = finished::<T>(hosts);
	let now = frame_system::Pallet::<T>::block_number();
	Requests::<T>::mutate(id, |made| {
		let made = made.as_mut().expect("the request exists");
		made.status = RequestStatus::Voting;
		made.vote = Some(VoteTally { opened: now, invalid, valid: 0 });
	});
	(id, executor)
}

/// Two hosts and a request finished by one of them: the other (always sampled, holding all
/// the power besides the executor's) signs a failing report. Returns its call's parts.
fn failing_report<T: Config>() -> (RequestId, HostId, InferenceValidation, sr25519::Signature) {
	let hosts = hosts::<T>(2);
	let (id, executor) = finished::<T>(&hosts);
	let validator = hosts.iter().find(|h| **h != executor).expect("two hosts").clone();
	let report = InferenceValidation { request: id, similarity: Perbill::zero() };
	let signature = sign::<T, _>(&validator, &key_of(&hosts, &validator), &report);
	(id, validator, report, signature)
}

/// Three hosts and a request in a vote with one invalid unit of the two besides the
/// executor's: another host signs an invalid vote that closes it. Returns its call's parts.
fn closing_ballot<T: Config>() -> (RequestId, HostId, InvalidationVote, sr25519::Signature) {
	let hosts = hosts::<T>(3);
	let (id, executor) = in_vote::<T>(&hosts, 1);
	let voter = hosts.iter().find(|h| **h != executor).expect("three hosts").clone();
	let ballot = InvalidationVote { request: id, invalid: true };
	let signature = sign::<T, _>(&voter, &key_of(&hosts, &voter), &ballot);
	(id, voter, ballot, signature)
}

/// Two hosts and a request whose validation window is over without the sampled other
/// host's report: the executor signs the claim. Returns its call's parts.
fn missing_claim<T: Config>() -> (HostId, MissingValidation, sr25519::Signature) {
	let hosts = hosts::<T>(2);
	let (id, executor) = finished::<T>(&hosts);
	let validator = hosts.iter().find(|h| **h != executor).expect("two hosts").clone();
	let finished_at = frame_system::Pallet::<T>::block_number().saturating_sub(One::one());
	at::<T>(finished_at.saturating_add(Params::<T>::get().validation_window));
	let claim = MissingValidation { request: id, validator };
	let signature = sign::<T, _>(&executor, &key_of(&hosts, &executor), &claim);
	(executor, claim, signature)
}

/// Makes request `id`'s timer the only entry of `timer`'s queue, due at `deadline`.
fn only_timer<T: Config>(timer: Timer, deadline: BlockNumberFor<T>, id: RequestId) {
	let _ = Timers::<T>::clear_prefix(timer, u32::MAX, None);
	Queues::<T>::insert(timer, Queue { head: 0, tail: 1 });
	Timers::<T>::insert(timer, 0, (deadline, id, 0));
}

/// Serves `timer`'s queue at block `now` with no budget limit.
fn serve_one<T: Config>(timer: Timer, now: BlockNumberFor<T>) {
	let mut used = Weight::zero();
	Pallet::<T>::serve_queue(timer, now, Weight::MAX, &mut used);
}

/// Sets the block number to `n`.
fn at<T: Config>(n: BlockNumberFor<T>) {
	frame_system::Pallet::<T>::set_block_number(n);
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn request(p: Linear<1, { T::MaxPromptBytes::get() }>) {
		let terms = model::<T>();
		let developer: HostId = account("developer", 0, 0);
		fund::<T>(&developer);
		// The price last moved long ago, after a busy block: its step and the idle blocks
		// since are applied.
		Prices::<T>::insert(MODEL, PriceState { price: u128::MAX / 4, block: One::one(), used: 1 });
		at::<T>(1_000_000u32.into());
		let _ = hosts::<T>(1);
		let prompt = BoundedVec::truncate_from(vec![b'p'; p as usize]);

		#[extrinsic_call]
		_(
			RawOrigin::Signed(developer),
			MODEL,
			prompt,
			max_tokens::<T>(&terms),
			SamplingParams::GREEDY,
		);

		assert_eq!(Requests::<T>::get(0).map(|made| made.status), Some(RequestStatus::Queued));
	}

	#[benchmark]
	fn timer_draw(d: Linear<1, MAX_DRAWS>) {
		// The request's executor is found on draw `d`: the earlier draws land on hosts
		// that left. The block is set first: the draw's randomness may depend on it.
		at::<T>(One::one());
		let _ = hosts::<T>(1);
		let id = queue_request::<T>();
		let to = drawn_in::<T>(id, 0, d);
		let now = frame_system::Pallet::<T>::block_number().saturating_add(One::one());

		#[block]
		{
			serve_one::<T>(Timer::Draw, now);
		}

		let made = Requests::<T>::get(id).expect("the request exists");
		assert_eq!((made.executor, made.status), (to, RequestStatus::Assigned));
	}

	#[benchmark]
	fn finish(
		t: Linear<1, { T::MaxOutputTokens::get() }>,
		b: Linear<0, { T::MaxOutputBytes::get() }>,
	) {
		let hosts = hosts::<T>(2);
		let id = make_request::<T>();
		let executor = Requests::<T>::get(id).expect("the request exists").executor;
		let result = result::<T>(id, t, b);
		let signature = sign::<T, _>(&executor, &key_of(&hosts, &executor), &result);

		#[extrinsic_call]
		_(RawOrigin::Authorized, executor, result, signature);

		assert_eq!(Requests::<T>::get(id).map(|r| r.status), Some(RequestStatus::Finished));
	}

	#[benchmark]
	fn authorize_finish(
		t: Linear<1, { T::MaxOutputTokens::get() }>,
		b: Linear<0, { T::MaxOutputBytes::get() }>,
	) -> Result<(), BenchmarkError> {
		let hosts = hosts::<T>(2);
		let id = make_request::<T>();
		let executor = Requests::<T>::get(id).expect("the request exists").executor;
		let result = result::<T>(id, t, b);
		let signature = sign::<T, _>(&executor, &key_of(&hosts, &executor), &result);
		let call = Call::<T>::finish { executor, result, signature };

		#[block]
		{
			call.authorize(TransactionSource::External)
				.ok_or(BenchmarkError::Weightless)?
				.map_err(|_| BenchmarkError::Weightless)?;
		}

		Ok(())
	}

	#[benchmark]
	fn validate() {
		// The failing report opens the vote and, holding all the eligible power, closes it
		// invalid at once.
		let (id, validator, report, signature) = failing_report::<T>();

		#[extrinsic_call]
		_(RawOrigin::Authorized, validator, report, signature);

		assert_eq!(
			Requests::<T>::get(id).map(|r| r.status),
			Some(RequestStatus::Closed(Outcome::Invalidated))
		);
	}

	#[benchmark]
	fn authorize_validate() -> Result<(), BenchmarkError> {
		let (_, validator, report, signature) = failing_report::<T>();
		let call = Call::<T>::validate { validator, report, signature };

		#[block]
		{
			call.authorize(TransactionSource::External)
				.ok_or(BenchmarkError::Weightless)?
				.map_err(|_| BenchmarkError::Weightless)?;
		}

		Ok(())
	}

	#[benchmark]
	fn vote() {
		let (id, voter, ballot, signature) = closing_ballot::<T>();

		#[extrinsic_call]
		_(RawOrigin::Authorized, voter, ballot, signature);

		assert_eq!(
			Requests::<T>::get(id).map(|r| r.status),
			Some(RequestStatus::Closed(Outcome::Invalidated))
		);
	}

	#[benchmark]
	fn authorize_vote() -> Result<(), BenchmarkError> {
		let (_, voter, ballot, signature) = closing_ballot::<T>();
		let call = Call::<T>::vote { voter, ballot, signature };

		#[block]
		{
			call.authorize(TransactionSource::External)
				.ok_or(BenchmarkError::Weightless)?
				.map_err(|_| BenchmarkError::Weightless)?;
		}

		Ok(())
	}

	#[benchmark]
	fn report_missing() {
		let (reporter, claim, signature) = missing_claim::<T>();
		let (id, validator) = (claim.request, claim.validator.clone());

		#[extrinsic_call]
		_(RawOrigin::Authorized, reporter, claim, signature);

		assert!(Missed::<T>::contains_key(id, &validator));
	}

	#[benchmark]
	fn authorize_report_missing() -> Result<(), BenchmarkError> {
		let (reporter, claim, signature) = missing_claim::<T>();
		let call = Call::<T>::report_missing { reporter, claim, signature };

		#[block]
		{
			call.authorize(TransactionSource::External)
				.ok_or(BenchmarkError::Weightless)?
				.map_err(|_| BenchmarkError::Weightless)?;
		}

		Ok(())
	}

	#[benchmark]
	fn set_params() -> Result<(), BenchmarkError> {
		let origin = <T as pallet_poc::Config>::UpdateOrigin::try_successful_origin()
			.map_err(|_| BenchmarkError::Weightless)?;
		let live = InferenceParams::<BlockNumberFor<T>>::live_network();
		// Within the block hashes kept (a test runtime keeps few).
		let kept = <T as frame_system::Config>::BlockHashCount::get();
		let validation_window = live.validation_window.min(kept.saturating_sub(One::one()));
		let params = InferenceParams { validation_window, ..live };

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, params);

		assert_eq!(Params::<T>::get(), params);
		Ok(())
	}

	#[benchmark]
	fn on_initialize_idle() {
		// A timer pending in every queue, none due: each queue's head is read.
		let now = frame_system::Pallet::<T>::block_number();
		for timer in Timer::ALL {
			Pallet::<T>::schedule(timer, now.saturating_add(1_000u32.into()), 0, 0);
		}

		#[block]
		{
			Pallet::<T>::on_initialize(now);
		}
	}

	#[benchmark]
	fn timer_refusal() {
		// The request's executor did not finish: a miss, and the new draw takes the most
		// draws.
		let _ = hosts::<T>(1);
		let id = make_request::<T>();
		let created = frame_system::Pallet::<T>::block_number();
		let deadline = created.saturating_add(Params::<T>::get().refusal_timeout);
		only_timer::<T>(Timer::Assignment, deadline, id);
		// The draws are found at the deadline's block: the randomness may depend on it.
		at::<T>(deadline);
		let to = drawn_in::<T>(id, 1, MAX_DRAWS);

		#[block]
		{
			serve_one::<T>(Timer::Assignment, deadline);
		}

		assert_eq!(Requests::<T>::get(id).map(|r| r.executor), Some(to));
	}

	#[benchmark]
	fn timer_expiry() {
		let _ = hosts::<T>(1);
		let id = make_request::<T>();
		let created = frame_system::Pallet::<T>::block_number();
		let deadline = created.saturating_add(Params::<T>::get().expiration);
		only_timer::<T>(Timer::Assignment, deadline, id);
		at::<T>(deadline);

		#[block]
		{
			serve_one::<T>(Timer::Assignment, deadline);
		}

		assert_eq!(
			Requests::<T>::get(id).map(|r| r.status),
			Some(RequestStatus::Closed(Outcome::Expired))
		);
	}

	#[benchmark]
	fn timer_validation() {
		// A request with a passing report: it closes validated, a step of the test.
		let hosts = hosts::<T>(2);
		let (id, _) = finished::<T>(&hosts);
		Requests::<T>::mutate(id, |made| {
			if let Some(record) = made.as_mut().and_then(|r| r.finish.as_mut()) {
				record.passes = 1;
				record.reports = 1;
			}
		});
		let now = frame_system::Pallet::<T>::block_number();
		only_timer::<T>(Timer::Validation, now, id);

		#[block]
		{
			serve_one::<T>(Timer::Validation, now);
		}

		assert_eq!(
			Requests::<T>::get(id).map(|r| r.status),
			Some(RequestStatus::Closed(Outcome::Validated))
		);
	}

	#[benchmark]
	fn timer_vote() {
		// The dearer outcome: invalid, a refund from the pending work.
		let hosts = hosts::<T>(3);
		let (id, _) = in_vote::<T>(&hosts, 2);
		let now = frame_system::Pallet::<T>::block_number();
		only_timer::<T>(Timer::Vote, now, id);

		#[block]
		{
			serve_one::<T>(Timer::Vote, now);
		}

		assert_eq!(
			Requests::<T>::get(id).map(|r| r.status),
			Some(RequestStatus::Closed(Outcome::Invalidated))
		);
	}

	#[benchmark]
	fn timer_prune(v: Linear<0, { T::PruneBatch::get() }>) {
		let hosts = hosts::<T>(2);
		let (id, _) = finished::<T>(&hosts);
		// Reports, votes and missed validations cost the same to remove (one key each under
		// the request); the benchmark fills one of the maps so the fit sees one slope.
		for i in 0..v {
			let who: HostId = account("voter", i, 0);
			Reports::<T>::insert(id, &who, Perbill::one());
		}
		let now = frame_system::Pallet::<T>::block_number();
		only_timer::<T>(Timer::Prune, now, id);

		#[block]
		{
			serve_one::<T>(Timer::Prune, now);
		}

		assert!(!Requests::<T>::contains_key(id));
	}

	#[benchmark]
	fn timer_skip() {
		// The assignment timer of a request that was finished in time.
		let hosts = hosts::<T>(2);
		let (id, _) = finished::<T>(&hosts);
		let now = frame_system::Pallet::<T>::block_number();
		only_timer::<T>(Timer::Assignment, now, id);

		#[block]
		{
			serve_one::<T>(Timer::Assignment, now);
		}

		assert_eq!(Queues::<T>::get(Timer::Assignment).head, 1);
	}

	#[benchmark]
	fn settle_host() {
		// An INVALID host's pending work of a settled epoch, forfeited to the pool.
		let hosts = hosts::<T>(1);
		let host = hosts[0].clone();
		let amount = 1_000_000_000_000u128;
		Funds::<T>::hold(&HoldReason::WorkBalance.into(), &host, amount)
			.expect("the host is funded");
		Ledger::<T>::insert(
			0,
			&host,
			EpochStats { pending_work: amount, invalid: true, ..Default::default() },
		);
		let epoch = pallet_poc::EpochInfo {
			index: T::LedgerEpochs::get().saturating_add(1),
			start: One::one(),
			params: pallet_poc::EpochParams {
				epoch_length: 100u32.into(),
				poc_generation: 10u32.into(),
				validation_delay: 1u32.into(),
				poc_validation: 10u32.into(),
			},
			seed: H256::repeat_byte(1),
		};
		pallet_poc::CurrentEpoch::<T>::put(epoch);

		#[block]
		{
			Pallet::<T>::settle_old_epoch();
		}

		assert_eq!(Ledger::<T>::iter_prefix(0).count(), 0);
	}

	#[benchmark]
	fn pay_validators(v: Linear<1, { T::MaxPaidValidators::get() }>) {
		// A validated request with `v` passing reports, each validator new to the epoch's
		// ledger: `v` moves of held funds and `v` new ledger records.
		let hosts = hosts::<T>(2);
		let (id, executor) = finished::<T>(&hosts);
		let validators: Vec<HostId> = (0..v).map(|i| account("validator", i, 0)).collect();
		for validator in &validators {
			fund::<T>(validator);
			Reports::<T>::insert(id, validator, Perbill::one());
		}
		Requests::<T>::mutate(id, |made| {
			if let Some(record) = made.as_mut().and_then(|r| r.finish.as_mut()) {
				record.passes = v;
				record.reports = v;
			}
		});
		let made = Requests::<T>::get(id).expect("the request exists");
		let cost = made.finish.map_or(0, |record| record.cost);

		#[block]
		{
			Pallet::<T>::settle_reports(id, &made, false);
		}

		let epoch = pallet_poc::Pallet::<T>::epoch_now();
		for validator in &validators {
			assert!(Ledger::<T>::get(epoch, validator).pending_work > 0);
		}
		assert!(Ledger::<T>::get(epoch, &executor).pending_work < cost);
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_bench_ext(), crate::mock::Test);
}
