//! Benchmarks (v2) of every call, authorize rule and hook path of the pallet; `weights.rs` is
//! generated from them.

use super::*;
use alloc::{format, vec::Vec};
use gonka_primitives::{
	duty::{Duty, PocCommit, PocValidation, Verdict},
	EpochIndex, HostId, ModelId, NonceCount, H256,
};
use polkadot_sdk::{
	frame_benchmarking::v2::*,
	frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, Mutate},
			Authorize, Hooks,
		},
		weights::WeightMeter,
	},
	frame_system::{self, RawOrigin},
	sp_core::{crypto::KeyTypeId, sr25519},
	sp_runtime::{traits::One, Saturating},
};

/// The key type of the benchmarks' worker keys in the keystore.
const WORKER: KeyTypeId = KeyTypeId(*b"gwrk");

fn worker_key(i: u32) -> sr25519::Public {
	polkadot_sdk::sp_io::crypto::sr25519_generate(
		WORKER,
		Some(format!("//bench-worker-{i}").into_bytes()),
	)
}

fn sign<T: Config, D: Duty>(host: &HostId, key: &sr25519::Public, duty: &D) -> sr25519::Signature {
	let message = duty.signing_message(&Pallet::<T>::genesis_hash(), host);
	polkadot_sdk::sp_io::crypto::sr25519_sign(WORKER, key, &message)
		.expect("the key is in the keystore")
}

/// Worker key `key`'s proof of ownership for `host`.
fn key_proof<T: Config>(host: &HostId, key: &sr25519::Public) -> sr25519::Signature {
	let message = gonka_primitives::duty::key_ownership_message(&Pallet::<T>::genesis_hash(), host);
	polkadot_sdk::sp_io::crypto::sr25519_sign(WORKER, key, &message)
		.expect("the key is in the keystore")
}

fn host(i: u32) -> HostId {
	account("host", i, 0)
}

/// The largest model list a host may have, every model approved.
fn models<T: Config>() -> Vec<ModelId> {
	let models: Vec<ModelId> = (1..=T::MaxModelsPerHost::get()).collect();
	for model in &models {
		T::Models::approve_for_benchmark(*model);
	}
	models
}

fn endpoint<T: Config>() -> Vec<u8> {
	let mut endpoint = b"https://".to_vec();
	endpoint.resize(T::MaxEndpointLength::get() as usize, b'a');
	endpoint
}

/// Enough for the deposit, twice over (a balance near the maximum would overflow the total
/// issuance with many hosts).
fn fund<T: Config>(who: &HostId) {
	let amount = T::Currency::minimum_balance()
		.saturating_add(T::HostDeposit::get())
		.saturating_mul(2u32.into());
	T::Currency::set_balance(who, amount);
}

/// Registers host `i` with a worker key, the longest endpoint and the most models.
fn register<T: Config>(i: u32) -> (HostId, sr25519::Public) {
	let who = host(i);
	fund::<T>(&who);
	let key = worker_key(i);
	Pallet::<T>::do_register(&who, key, endpoint::<T>(), models::<T>(), true)
		.expect("the benchmark host registers");
	(who, key)
}

/// Makes epoch `index` the epoch in progress, started at block 1 with the given phases, and
/// moves to the first block of `phase`.
fn enter<T: Config>(index: u32, phase: Phase) -> EpochInfoOf<T> {
	let params = EpochParams {
		epoch_length: 100u32.into(),
		poc_generation: 10u32.into(),
		validation_delay: 1u32.into(),
		poc_validation: 10u32.into(),
	};
	let epoch = EpochInfo { index, start: One::one(), params, seed: H256::repeat_byte(1) };
	CurrentEpoch::<T>::put(epoch);
	let now = match phase {
		Phase::Generation => epoch.start,
		Phase::ValidationDelay => epoch.generation_end(),
		Phase::Validation => epoch.validation_start(),
		Phase::Inference => epoch.validation_end(),
	};
	frame_system::Pallet::<T>::set_block_number(now);
	epoch
}

fn commitment(count: u64) -> Commitment {
	Commitment { count, root: H256::repeat_byte(7), submissions: 1 }
}

/// `n` registered hosts with commitments on model 1 in `epoch`, each with power 1, and
/// without the roster.
fn committed_hosts_unrostered<T: Config>(epoch: EpochIndex, n: u32) -> Vec<HostId> {
	let hosts: Vec<HostId> = (0..n)
		.map(|i| {
			let (who, _) = register::<T>(i);
			Commitments::<T>::insert((epoch, 1, &who), commitment(100));
			who
		})
		.collect();
	let powers: Vec<(HostId, u128)> = hosts.iter().map(|who| (who.clone(), 1)).collect();
	Pallet::<T>::force_voting_power(&powers);
	Pallet::<T>::force_roster(1, hosts.iter().map(|who| (who.clone(), 50)).collect());
	hosts
}

/// `n` registered hosts with commitments on model 1 in `epoch`, each with power 1, in the
/// model's roster with a tally of valid votes; host 0 is the validator.
fn committed_hosts<T: Config>(epoch: EpochIndex, n: u32) -> Vec<HostId> {
	let hosts = committed_hosts_unrostered::<T>(epoch, n);
	let mut roster: Vec<(HostId, Tally)> =
		hosts.iter().map(|who| (who.clone(), Tally { valid: u128::from(n), invalid: 0 })).collect();
	roster.sort_by(|a, b| a.0.cmp(&b.0));
	Tallies::<T>::insert(epoch, 1, RosterOf::<T>::try_from(roster).expect("n <= MaxHosts"));
	hosts
}

/// In the generation phase of epoch 0, a registered host that already committed 10 nonces
/// and its signed commitment to 20: the update path.
fn signed_commit<T: Config>() -> (HostId, PocCommit, sr25519::Signature) {
	let (who, key) = register::<T>(0);
	// Registered before the epoch (its join is read, whether there or not).
	JoinedEpoch::<T>::remove(&who);
	let epoch = enter::<T>(0, Phase::Generation);
	Commitments::<T>::insert((epoch.index, 1, &who), commitment(10));
	let commit = PocCommit { epoch: epoch.index, model: 1, count: 20, root: H256::repeat_byte(2) };
	let signature = sign::<T, _>(&who, &key, &commit);
	(who, commit, signature)
}

/// In the validation phase of epoch 0, with `n + 1` committed hosts: host 0's signed batch
/// of verdicts on the `n` others.
fn validation_batch<T: Config>(n: u32) -> (HostId, PocValidation<T::MaxHosts>, sr25519::Signature) {
	let hosts = committed_hosts::<T>(0, n + 1);
	let (validator, key) = (hosts[0].clone(), worker_key(0));
	enter::<T>(0, Phase::Validation);
	RostersBuilt::<T>::put(0);
	let mut judged: Vec<HostId> = hosts[1..].to_vec();
	judged.sort();
	let verdicts: Vec<Verdict> =
		judged.into_iter().map(|host| Verdict { host, valid: true }).collect();
	let validation =
		PocValidation { epoch: 0, model: 1, verdicts: verdicts.try_into().expect("n < MaxHosts") };
	let signature = sign::<T, _>(&validator, &key, &validation);
	(validator, validation, signature)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_host() {
		let caller = host(0);
		fund::<T>(&caller);
		let (key, endpoint, models) = (worker_key(0), endpoint::<T>(), models::<T>());
		let proof = key_proof::<T>(&caller, &key);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), key, proof, endpoint, models);

		assert!(Hosts::<T>::contains_key(&caller));
	}

	#[benchmark]
	fn update_host() {
		let (caller, _) = register::<T>(0);
		let (key, endpoint, models) = (worker_key(1), endpoint::<T>(), models::<T>());
		let proof = key_proof::<T>(&caller, &key);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), Some((key, proof)), Some(endpoint), Some(models));

		assert_eq!(WorkerKeys::<T>::get(key), Some(caller));
	}

	/// During a formation's last step: the host leaves the forming weights of `MaxHosts`
	/// hosts and the generation being written.
	#[benchmark]
	fn leave() {
		let (caller, _) = register::<T>(0);
		// With power: leaving records a departure from the generation in force.
		Pallet::<T>::force_voting_power(&[(caller.clone(), 10)]);
		let mut forming: Vec<(HostId, u128)> =
			(0..T::MaxHosts::get()).map(|i| (host(i), 10)).collect();
		forming.sort();
		FormingWeights::<T>::put(BoundedVec::truncate_from(forming));
		Formation::<T>::put(FormationState {
			epoch: 0,
			step: FormationStep::Power { capped: true, after: None },
		});
		PowerHistory::<T>::insert(PowerGeneration::<T>::get() + 1, &caller, 10);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()));

		assert!(!Hosts::<T>::contains_key(&caller));
		assert_eq!(FormingWeights::<T>::get().len() as u32, T::MaxHosts::get() - 1);
	}

	#[benchmark]
	fn set_epoch_params() -> Result<(), BenchmarkError> {
		let origin =
			T::UpdateOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		enter::<T>(0, Phase::Generation);
		let params = EpochParams {
			epoch_length: 200u32.into(),
			poc_generation: 20u32.into(),
			validation_delay: 2u32.into(),
			poc_validation: 20u32.into(),
		};

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, params);

		assert_eq!(NextEpochParams::<T>::get(), Some(params));
		Ok(())
	}

	/// The update path: the host already committed once.
	#[benchmark]
	fn commit_poc() {
		let (who, commit, signature) = signed_commit::<T>();

		#[extrinsic_call]
		_(RawOrigin::Authorized, who.clone(), commit, signature);

		assert_eq!(Commitments::<T>::get((0, 1, &who)).map(|c| c.count), Some(20));
	}

	#[benchmark]
	fn authorize_commit_poc() -> Result<(), BenchmarkError> {
		let (who, commit, signature) = signed_commit::<T>();
		let call = Call::<T>::commit_poc { host: who, commit, signature };

		#[block]
		{
			call.authorize(TransactionSource::External)
				.ok_or("commit_poc has an authorize rule")?
				.map_err(|_| "the commitment is authorized")?;
		}
		Ok(())
	}

	/// A batch judging `n` hosts.
	#[benchmark]
	fn submit_poc_validations(n: Linear<1, { T::MaxHosts::get().saturating_sub(1) }>) {
		let (validator, validation, signature) = validation_batch::<T>(n);

		#[extrinsic_call]
		_(RawOrigin::Authorized, validator.clone(), validation, signature);

		assert!(Validated::<T>::contains_key(0, (1, validator)));
	}

	#[benchmark]
	fn authorize_submit_poc_validations(
		n: Linear<1, { T::MaxHosts::get().saturating_sub(1) }>,
	) -> Result<(), BenchmarkError> {
		let (validator, validation, signature) = validation_batch::<T>(n);
		let call = Call::<T>::submit_poc_validations { validator, validation, signature };

		#[block]
		{
			call.authorize(TransactionSource::External)
				.ok_or("submit_poc_validations has an authorize rule")?
				.map_err(|_| "the batch is authorized")?;
		}
		Ok(())
	}

	/// A judging step: `n` commitments of model 1 in epoch 1 judged (accepted), of hosts
	/// registered in epoch 0 with entries in force (their registrations read), the model's
	/// roster and executor roster of `MaxHosts` hosts read, each judged host inserted into
	/// forming weights already holding `MaxHosts - n` others, read and written, and
	/// appended to a next roster already holding `MaxHosts - n` others.
	#[benchmark]
	fn form_weights(n: Linear<1, { T::MaxHosts::get() }>) {
		committed_hosts::<T>(1, T::MaxHosts::get());
		TotalVotingPower::<T>::put(u128::from(T::MaxHosts::get()));
		enter::<T>(1, Phase::Inference);
		let others = T::MaxHosts::get().saturating_sub(n);
		let mut forming: Vec<(HostId, u128)> =
			(0..others).map(|i| (account("forming", i, 0), 1)).collect();
		forming.sort();
		FormingWeights::<T>::put(BoundedVec::truncate_from(forming.clone()));
		Pallet::<T>::append_next_roster(
			1,
			forming.iter().map(|(who, _)| (who.clone(), 100)).collect(),
		);
		let total = TotalVotingPower::<T>::get();

		#[block]
		{
			let mut forming = FormingWeights::<T>::get().into_inner();
			Pallet::<T>::judge_model(1, 1, 0, n, total, &mut forming);
			FormingWeights::<T>::put(BoundedVec::truncate_from(forming));
		}

		assert_eq!(
			NextTotals::<T>::get(1).map(|totals| totals.last().copied()),
			Some(Some(u128::from(T::MaxHosts::get()) * 100))
		);
		assert_eq!(FormingWeights::<T>::get().len() as u32, T::MaxHosts::get());
	}

	/// A carrying step: `n` chunks of the executor rosters read, each host's entry
	/// standing (its registration and the epoch it joined read) and inserted into the
	/// forming weights, which end at their largest, read and written.
	#[benchmark]
	fn carry_weights(n: Linear<1, { MaxRosterChunks::<T>::get() }>) {
		let hosts = n.saturating_mul(T::RosterChunk::get()).min(T::MaxHosts::get());
		let rostered: Vec<(HostId, NonceCount)> =
			(0..hosts).map(|i| (register::<T>(i).0, 10)).collect();
		Pallet::<T>::force_roster(1, rostered);
		let mut forming: Vec<(HostId, u128)> = (0..T::MaxHosts::get().saturating_sub(hosts))
			.map(|i| (account("forming", i, 0), 1))
			.collect();
		forming.sort();
		FormingWeights::<T>::put(BoundedVec::truncate_from(forming));
		let mut meter = WeightMeter::new();

		#[block]
		{
			Pallet::<T>::carry_step(&mut meter, None);
		}

		assert_eq!(
			FormingWeights::<T>::get().len() as u32,
			T::MaxHosts::get(),
			"every rostered host's entry stands"
		);
	}

	/// Removing a model's executor roster of `MaxRosterChunks` chunks.
	#[benchmark]
	fn retire_roster() {
		Pallet::<T>::force_roster(1, (0..T::MaxHosts::get()).map(|i| (host(i), 10)).collect());
		let mut meter = WeightMeter::new();

		#[block]
		{
			Pallet::<T>::retire_step(&mut meter, None);
		}

		assert!(!RosterTotals::<T>::contains_key(1));
	}

	/// Putting a model's next executor roster of `MaxRosterChunks` chunks in force, in place
	/// of one as long.
	#[benchmark]
	fn install_roster() {
		let roster: Vec<(HostId, NonceCount)> =
			(0..T::MaxHosts::get()).map(|i| (host(i), 10)).collect();
		Pallet::<T>::force_roster(1, roster.clone());
		Pallet::<T>::append_next_roster(1, {
			let mut roster = roster;
			roster.sort();
			roster
		});
		let mut meter = WeightMeter::new();

		#[block]
		{
			Pallet::<T>::install_step(&mut meter, 0);
		}

		assert!(!NextTotals::<T>::contains_key(1));
	}

	/// Capping the consensus weights of `n` hosts, after taking out the hosts revoked
	/// during the formation, `MaxHosts` of them listed (none of the `n`).
	#[benchmark]
	fn cap_weights(n: Linear<1, { T::MaxHosts::get() }>) {
		let mut forming: Vec<(HostId, u128)> =
			(0..n).map(|i| (host(i), u128::from(i) + 1)).collect();
		forming.sort();
		FormingWeights::<T>::put(BoundedVec::truncate_from(forming));
		let mut revoked: Vec<HostId> =
			(0..T::MaxHosts::get()).map(|i| account("revoked", i, 0)).collect();
		revoked.sort();
		FormingRevoked::<T>::put(BoundedVec::truncate_from(revoked));

		#[block]
		{
			let mut weights = FormingWeights::<T>::get().into_inner();
			Pallet::<T>::cap_forming(&mut weights);
		}

		assert_eq!(FormingWeights::<T>::get().len() as u32, n);
		assert!(FormingRevoked::<T>::get().is_empty());
	}

	/// A step writing the last `n` hosts' powers of the next generation (of `MaxHosts`),
	/// then putting it in force.
	#[benchmark]
	fn write_power(n: Linear<1, { T::MaxHosts::get() }>) {
		let mut forming: Vec<(HostId, u128)> =
			(0..T::MaxHosts::get()).map(|i| (host(i), 10)).collect();
		forming.sort();
		let skip = T::MaxHosts::get().saturating_sub(n) as usize;
		let after = skip.checked_sub(1).and_then(|last| forming.get(last)).map(|(h, _)| h.clone());
		FormingWeights::<T>::put(BoundedVec::truncate_from(forming));
		let generation = PowerGeneration::<T>::get();
		let mut meter = WeightMeter::new();

		#[block]
		{
			Pallet::<T>::power_step(
				&mut meter,
				0,
				true,
				after,
				&mut crate::formation::Whole { alone: false, excess: Weight::zero() },
			);
		}

		assert_eq!(PowerGeneration::<T>::get(), generation + 1);
	}

	/// A step of building the rosters: `n` commitments of one model in epoch 1, of hosts
	/// registered in epoch 0 (their registrations and the epoch they joined read), added to
	/// its roster, which already holds `MaxHosts - n` hosts (the largest roster read and
	/// written).
	#[benchmark]
	fn open_validation(n: Linear<1, { T::MaxHosts::get() }>) {
		committed_hosts_unrostered::<T>(1, n);
		let mut roster: Vec<(HostId, Tally)> = (n..T::MaxHosts::get())
			.map(|i| (account("rostered", i, 0), Tally::default()))
			.collect();
		roster.sort_by(|a, b| a.0.cmp(&b.0));
		Tallies::<T>::insert(1, 1, RosterOf::<T>::try_from(roster).expect("< MaxHosts"));
		enter::<T>(1, Phase::ValidationDelay);
		RosterCursor::<T>::put((1, None::<(ModelId, HostId)>));
		let mut meter = WeightMeter::new();

		#[block]
		{
			Pallet::<T>::build_rosters(&mut meter);
		}

		assert_eq!(Tallies::<T>::get(1, 1).len() as u32, T::MaxHosts::get());
		assert_eq!(RostersBuilt::<T>::get(), Some(1));
	}

	/// A step of pruning an epoch that left the retention window: `n` commitments removed.
	#[benchmark]
	fn prune_epoch(n: Linear<1, { T::MaxHosts::get() }>) {
		for i in 0..n {
			Commitments::<T>::insert((0, 1, host(i)), commitment(100));
		}
		enter::<T>(T::RetentionEpochs::get().saturating_add(1), Phase::Generation);
		let mut meter = WeightMeter::new();

		#[block]
		{
			Pallet::<T>::prune_epochs(&mut meter);
		}

		assert_eq!(Commitments::<T>::iter_prefix((0,)).count(), 0);
		assert_eq!(PrunedBefore::<T>::get(), 1);
	}

	/// `on_initialize` in a block that starts an epoch (with new parameters to apply),
	/// pruning and formation excluded (benchmarked above).
	#[benchmark]
	fn on_initialize_epoch_start() {
		let epoch = enter::<T>(0, Phase::Inference);
		LastFormedEpoch::<T>::put(0);
		NextEpochParams::<T>::put(epoch.params);
		let next = epoch.next_start();
		frame_system::Pallet::<T>::set_block_number(next);

		#[block]
		{
			Pallet::<T>::on_initialize(next);
		}

		assert_eq!(CurrentEpoch::<T>::get().map(|e| e.index), Some(1));
	}

	/// `on_initialize` in a block that neither starts an epoch nor forms weights; the older
	/// generation of voting power is held by a snapshot, so it is checked, not pruned.
	#[benchmark]
	fn on_initialize_idle() {
		let epoch = enter::<T>(0, Phase::Generation);
		let now = epoch.start + One::one();
		frame_system::Pallet::<T>::set_block_number(now);
		Pallet::<T>::force_voting_power(&[(host(0), 1)]);
		let (snapshot, _, _) = Pallet::<T>::take_snapshot();
		OldestPowerGeneration::<T>::put(snapshot.generation);
		Pallet::<T>::force_voting_power(&[(host(0), 1)]);

		#[block]
		{
			Pallet::<T>::on_initialize(now);
		}

		assert_eq!(OldestPowerGeneration::<T>::get(), snapshot.generation);
	}

	/// A step of pruning the generations of voting power: one generation no longer held
	/// released and `n` of its records (powers) removed.
	#[benchmark]
	fn prune_power_generation(n: Linear<1, { T::MaxHosts::get() }>) {
		let hosts: Vec<(HostId, u128)> = (0..n).map(|i| (host(i), 1)).collect();
		Pallet::<T>::force_voting_power(&hosts);
		let old = PowerGeneration::<T>::get();
		OldestPowerGeneration::<T>::put(old);
		PowerPrunedBefore::<T>::put(old);
		Pallet::<T>::force_voting_power(&hosts);
		let mut meter = WeightMeter::new();

		#[block]
		{
			Pallet::<T>::prune_power_generations(&mut meter);
		}

		assert_eq!(OldestPowerGeneration::<T>::get(), old + 1);
		assert_eq!(PowerPrunedBefore::<T>::get(), old + 1);
		assert_eq!(PowerHistory::<T>::iter_prefix(old).count(), 0);
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_bench_ext(), crate::mock::Test);
}
