//! A test runtime: System, Balances, PoC and this pallet, and its [`ExtBuilder`]. Genesis
//! hosts (`ExtBuilder::hosts`) serve models 1 and 2 (PoC weight 1 each, voting power 1
//! each); developers are 20–22.

use crate::{self as pallet_inference, InferenceModels, InferenceParams, ModelTerms, Requests};
use gonka_primitives::{
	bounds::MaxEndTokens,
	duty::{Duty, InferenceFinish, InferenceValidation, InvalidationVote, MissingValidation},
	inference::{self as rules, RequestId, SamplingParams},
	HostId, ModelId,
};
use pallet_poc::{EpochParams, ModelRegistry};
use polkadot_sdk::{
	frame_support::{
		derive_impl, parameter_types,
		traits::{Authorize as _, Hooks as _, Randomness},
		weights::Weight,
	},
	frame_system::{self, EnsureRoot, RawOrigin},
	pallet_balances,
	sp_arithmetic::FixedU128,
	sp_core::{sr25519, ConstU32, ConstU64, Pair, H256},
	sp_io::TestExternalities,
	sp_runtime::{
		traits::{Dispatchable as _, IdentityLookup},
		transaction_validity::{InvalidTransaction, TransactionSource, TransactionValidityError},
		BoundedVec, BuildStorage, DispatchError, Perbill,
	},
};
use std::cell::Cell;

type Block = frame_system::mocking::MockBlock<Test>;

#[polkadot_sdk::frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Test;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(2)]
	pub type Poc = pallet_poc;
	#[runtime::pallet_index(3)]
	pub type Inference = pallet_inference;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountId = HostId;
	type Lookup = IdentityLookup<HostId>;
	type AccountData = pallet_balances::AccountData<u128>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = u128;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
}

/// Models 1 and 2 are approved for PoC; inference knows their terms.
pub struct TestModels;
impl ModelRegistry for TestModels {
	fn is_approved(model: ModelId) -> bool {
		matches!(model, 1 | 2)
	}
	fn coefficient(model: ModelId) -> Option<FixedU128> {
		Self::is_approved(model).then(|| FixedU128::from_u32(1))
	}
	fn on_epoch_start(_epoch: gonka_primitives::EpochIndex) -> Weight {
		Weight::zero()
	}
	#[cfg(feature = "runtime-benchmarks")]
	fn approve_for_benchmark(model: ModelId) {
		assert!(Self::is_approved(model), "the test runtime approves models 1 and 2 only");
	}
}

/// Model 1: template overhead 10, context 1,000, threshold 90%, base price 2 (model 2:
/// base price 1,000).
pub const TERMS: ModelTerms = ModelTerms {
	template_overhead: 10,
	max_context: 1_000,
	validation_threshold: Perbill::from_percent(90),
	base_price: 2,
};

/// The end token of models 1 and 2.
pub const END_TOKEN: u32 = 99;

impl InferenceModels for TestModels {
	fn terms(model: ModelId) -> Option<ModelTerms> {
		match model {
			1 => Some(TERMS),
			2 => Some(ModelTerms { base_price: 1_000, ..TERMS }),
			_ => None,
		}
	}
	fn end_tokens(model: ModelId) -> Option<BoundedVec<u32, MaxEndTokens>> {
		Self::terms(model).map(|_| BoundedVec::truncate_from(vec![END_TOKEN]))
	}
}

thread_local! {
	/// The randomness the executor draw sees.
	static RANDOMNESS: Cell<[u8; 32]> = const { Cell::new([7; 32]) };
}

/// Randomness the tests set, mixed with the parent block's hash (as the runtime's
/// `ParentHashRandomness`) and the block number.
pub struct TestRandomness;
impl TestRandomness {
	pub fn set(seed: u8) {
		RANDOMNESS.with(|cell| cell.set([seed; 32]));
	}
}
impl Randomness<H256, u64> for TestRandomness {
	fn random(subject: &[u8]) -> (H256, u64) {
		let seed = RANDOMNESS.with(|cell| cell.get());
		let now = System::block_number();
		let parent = System::parent_hash();
		let hash = gonka_primitives::hash_concat(&[&seed, subject, &now.to_le_bytes(), &parent.0]);
		(H256(hash), now)
	}
}

/// Weights for the tests: one unit of ref time per timer (so `TimerBudget` counts timers),
/// zero elsewhere.
pub struct TestWeights;
impl crate::WeightInfo for TestWeights {
	fn request(_p: u32) -> Weight {
		Weight::zero()
	}
	fn finish(_t: u32, _b: u32) -> Weight {
		Weight::zero()
	}
	fn authorize_finish(_t: u32, _b: u32) -> Weight {
		Weight::zero()
	}
	fn validate() -> Weight {
		Weight::zero()
	}
	fn authorize_validate() -> Weight {
		Weight::zero()
	}
	fn vote() -> Weight {
		Weight::zero()
	}
	fn authorize_vote() -> Weight {
		Weight::zero()
	}
	fn report_missing() -> Weight {
		Weight::zero()
	}
	fn authorize_report_missing() -> Weight {
		Weight::zero()
	}
	fn set_params() -> Weight {
		Weight::zero()
	}
	fn on_initialize_idle() -> Weight {
		Weight::zero()
	}
	fn timer_refusal() -> Weight {
		Weight::from_parts(1, 0)
	}
	fn timer_expiry() -> Weight {
		Weight::from_parts(1, 0)
	}
	fn timer_validation() -> Weight {
		Weight::from_parts(1, 0)
	}
	fn timer_vote() -> Weight {
		Weight::from_parts(1, 0)
	}
	fn timer_prune(_v: u32) -> Weight {
		Weight::from_parts(1, 0)
	}
	fn timer_skip() -> Weight {
		Weight::from_parts(1, 0)
	}
	fn timer_draw(_d: u32) -> Weight {
		Weight::from_parts(1, 0)
	}
	fn settle_host() -> Weight {
		Weight::zero()
	}
	fn pay_validators(_v: u32) -> Weight {
		Weight::zero()
	}
}

/// Ten units of balance per unit of ref time: a timer's fee is 10.
pub struct TestFee;
impl polkadot_sdk::frame_support::weights::WeightToFee for TestFee {
	type Balance = u128;
	fn weight_to_fee(weight: &Weight) -> u128 {
		u128::from(weight.ref_time()).saturating_mul(10)
	}
}

/// An assignment timer's fee at [`TestFee`]: its one unit of ref time and the one of the
/// prune an expiry schedules.
pub const TIMER_FEE: u128 = 20;
/// A request's timer deposit under [`test_params`]: ⌈(10 − 1) / 3⌉ = 3 assignment timers
/// (drawn a block after it is made, at 2, 5 and 8 blocks after that the executor's time is
/// over, and the third is the expiry, 10 blocks after the request).
pub const TIMER_DEPOSIT: u128 = 3 * TIMER_FEE;

pub const DEPOSIT: u128 = 100;
/// Each timer weighs one unit of ref time in the tests (a draw's worst case two: its draws,
/// then an expiry), and a block's budget is seven: each queue keeps one unit for each
/// queue served after it, so draws, served first, have three units (two draws), and
/// assignment timers, next, four units less what the draws used.
pub const TIMER_UNITS: u64 = 7;
/// The assignment timers a block serves when no draw is due.
pub const MAX_TIMERS: u32 = 4;
/// Requests waiting for their draw, at most.
pub const MAX_PENDING_DRAWS: u32 = 16;
/// Reports and votes removed per block by a prune.
pub const PRUNE_BATCH: u32 = 2;

parameter_types! {
	/// The PoC hooks' spread work is not what these tests check: unbounded.
	pub const PocHookBudget: Weight = Weight::MAX;
	pub const HostDeposit: u128 = DEPOSIT;
	pub const MaxWeightShare: Perbill = Perbill::from_percent(100);
	pub Pool: HostId = account(99);
}

parameter_types! {
	/// The most completion tokens of a result: model 1's context, unless a test lowers it
	/// (`MaxOutputTokens::set`).
	pub storage MaxOutputTokens: u32 = 1_000;
	/// A test may change it (`TimerBudget::set`).
	pub storage TimerBudget: Weight = Weight::from_parts(TIMER_UNITS, u64::MAX);
}

impl pallet_poc::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type HostDeposit = HostDeposit;
	type UpdateOrigin = EnsureRoot<HostId>;
	type Models = TestModels;
	type MaxHosts = ConstU32<8>;
	type MaxModelsPerHost = ConstU32<2>;
	type MaxEndpointLength = ConstU32<64>;
	type MaxCommitsPerModel = ConstU32<3>;
	type DutyPriority = ConstU64<{ u64::MAX / 2 }>;
	type MaxWeightShare = MaxWeightShare;
	type RosterChunk = ConstU32<2>;
	type RetentionEpochs = ConstU32<2>;
	type OnWeightsFormed = ();
	/// PoC's weights are not under test here.
	type HookBudget = PocHookBudget;
	type WeightInfo = ();
}

impl pallet_inference::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ModelTerms = TestModels;
	type Randomness = TestRandomness;
	type ForfeitTo = Pool;
	type WeightToFee = TestFee;
	type MaxPromptBytes = ConstU32<64>;
	type MaxOutputTokens = MaxOutputTokens;
	type MaxOutputBytes = ConstU32<64>;
	type TimerBudget = TimerBudget;
	type PruneBatch = ConstU32<PRUNE_BATCH>;
	type MaxPendingDraws = ConstU32<MAX_PENDING_DRAWS>;
	type MaxSettlementsPerBlock = ConstU32<2>;
	type MaxPaidValidators = ConstU32<3>;
	type LedgerEpochs = ConstU32<1>;
	type SettlementHold = polkadot_sdk::frame_support::traits::Nothing;
	type WeightInfo = TestWeights;
}

/// The test epochs: 20 blocks, 5 of generation, 1 of delay, 5 of validation.
pub const EPOCH: EpochParams<u64> =
	EpochParams { epoch_length: 20, poc_generation: 5, validation_delay: 1, poc_validation: 5 };

/// The test rules: reassignment after 3 blocks, expiry after 10, 4 blocks to validate and to
/// vote, payloads kept 5 blocks, 100 tokens per block at full utilisation.
pub fn test_params() -> InferenceParams<u64> {
	InferenceParams {
		refusal_timeout: 3,
		expiration: 10,
		validation_window: 4,
		vote_window: 4,
		retention: 5,
		block_capacity: 100,
		..InferenceParams::live_network()
	}
}

/// Account `i`.
pub fn account(i: u8) -> HostId {
	HostId::new([i; 32])
}

/// The worker key of host `i`.
pub fn worker(i: u8) -> sr25519::Pair {
	sr25519::Pair::from_string(&format!("//worker{i}"), None).expect("a valid derivation")
}

/// The host number of a host account.
pub fn host_number(host: &HostId) -> u8 {
	let bytes: &[u8] = host.as_ref();
	bytes[0]
}

pub const DEVELOPER: u8 = 20;
pub const BALANCE: u128 = 1_000_000;

/// The test chain's genesis and rules. `ExtBuilder::default()` has no hosts and
/// [`test_params`]; accounts 1–8 and the developers 20–22 have [`BALANCE`] each.
pub struct ExtBuilder {
	/// The genesis hosts, registered for models 1 and 2.
	hosts: Vec<u8>,
	/// The inference rules from block 1.
	params: InferenceParams<u64>,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		ExtBuilder { hosts: Vec::new(), params: test_params() }
	}
}

impl ExtBuilder {
	/// Hosts `hosts` registered at genesis for models 1 and 2 (PoC weight 1 and voting
	/// power 1 each).
	pub fn hosts(mut self, hosts: &[u8]) -> Self {
		self.hosts = hosts.to_vec();
		self
	}

	/// The inference rules in force from block 1.
	pub fn params(mut self, params: InferenceParams<u64>) -> Self {
		self.params = params;
		self
	}

	/// The chain at block 1: the genesis, then the rules set.
	pub fn build(self) -> TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> {
			balances: (1..=8).chain(20..=22).map(|i| (account(i), BALANCE)).collect(),
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		pallet_poc::GenesisConfig::<Test> {
			epoch_params: EPOCH,
			hosts: self
				.hosts
				.iter()
				.map(|&i| {
					let endpoint = format!("http://10.0.0.{i}:8080").into_bytes();
					(account(i), worker(i).public(), endpoint, vec![1, 2])
				})
				.collect(),
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		let mut ext = TestExternalities::new(storage);
		ext.execute_with(|| {
			pallet_inference::Params::<Test>::put(self.params);
			run_to_block(1);
		});
		ext
	}

	/// Runs `test` in the built chain, then checks the pallet's invariants (as
	/// [`run_to_block`] does after every block).
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			Inference::do_try_state().expect("the pallet's invariants hold after the test");
		});
	}
}

/// The hash tests give block `n`: as a real block's, it depends on what the block did
/// (here the requests made and the events deposited up to its end), so nobody who
/// submits a transaction to it knows it beforehand.
pub fn block_hash(n: u64) -> H256 {
	let number = H256::from_low_u64_be(0xb10c_0000 + n);
	let requests = pallet_inference::NextRequestId::<Test>::get().to_le_bytes();
	let events = System::event_count().to_le_bytes();
	H256(gonka_primitives::hash_concat(&[&number.0, &requests, &events]))
}

/// Advances to block `n`: each block records its parent's hash (and, as frame-system
/// does, forgets the hash `BlockHashCount` + 1 blocks older) and runs PoC's and this
/// pallet's `on_initialize`; the pallet's invariants are checked after every block.
pub fn run_to_block(n: u64) {
	use polkadot_sdk::frame_support::traits::Get;
	let kept: u64 = <Test as frame_system::Config>::BlockHashCount::get();
	while System::block_number() < n {
		let next = System::block_number() + 1;
		if let Some(old) = (next - 1).checked_sub(kept + 1).filter(|old| *old > 0) {
			frame_system::BlockHash::<Test>::remove(old);
		}
		let hash = block_hash(next - 1);
		frame_system::BlockHash::<Test>::insert(next - 1, hash);
		System::set_block_number(next);
		System::set_parent_hash(hash);
		Poc::on_initialize(next);
		Inference::on_initialize(next);
		Inference::do_try_state().expect("the pallet's invariants hold");
	}
}

/// The pallet's events so far, oldest first.
pub fn events() -> Vec<pallet_inference::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Inference(event) => Some(event),
			_ => None,
		})
		.collect()
}

/// A prompt of `n` bytes.
pub fn prompt(n: usize) -> BoundedVec<u8, ConstU32<64>> {
	BoundedVec::truncate_from(vec![b'a'; n])
}

/// Developer 20 asks model 1 for 10 bytes of prompt and 8 tokens, greedy, and the chain
/// moves to the next block, where its executor is drawn; returns the id.
pub fn submit() -> RequestId {
	let id = queue();
	run_to_block(System::block_number() + 1);
	id
}

/// Developer 20 asks model 1 for 10 bytes of prompt and 8 tokens, greedy; returns the id.
/// The request is queued: its executor is drawn in the next block.
pub fn queue() -> RequestId {
	let id = pallet_inference::NextRequestId::<Test>::get();
	Inference::request(
		RuntimeOrigin::signed(account(DEVELOPER)),
		1,
		prompt(10),
		8,
		SamplingParams::GREEDY,
	)
	.expect("the request is accepted");
	id
}

/// The host number of a request's executor.
pub fn executor_of(id: RequestId) -> u8 {
	host_number(&Requests::<Test>::get(id).expect("the request exists").executor)
}

/// A complete result of `tokens` token ids (`0, 1, ...` and the end token last) and 12
/// prompt tokens.
pub fn result(id: RequestId, tokens: u32) -> pallet_inference::FinishOf<Test> {
	let ids = (0..tokens.saturating_sub(1)).chain((tokens > 0).then_some(END_TOKEN));
	InferenceFinish {
		request: id,
		token_ids: BoundedVec::truncate_from(ids.collect()),
		text: BoundedVec::truncate_from(b"an answer".to_vec()),
		prompt_tokens: 12,
	}
}

/// Host `i`'s worker signs `payload` for this chain.
pub fn sign<D: Duty>(i: u8, payload: &D) -> sr25519::Signature {
	payload.sign(&Poc::genesis_hash(), &account(i), &worker(i))
}

/// Why a duty transaction did not go through.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
	/// Its `authorize` rule refused it: the pool never takes it.
	Pool(TransactionValidityError),
	/// The call failed when dispatched.
	Call(DispatchError),
}

/// Authorizes and dispatches a duty call as the pool and the block builder would.
pub fn run_duty(call: crate::Call<Test>) -> Result<(), Refused> {
	call.authorize(TransactionSource::External)
		.expect("a duty call has an authorize rule")
		.map_err(Refused::Pool)?;
	dispatch_duty(call)
}

/// Dispatches a duty call without asking its `authorize` rule (the state may have changed
/// since the pool validated it): the call checks again.
pub fn dispatch_duty(call: crate::Call<Test>) -> Result<(), Refused> {
	RuntimeCall::Inference(call)
		.dispatch(RawOrigin::Authorized.into())
		.map(|_| ())
		.map_err(|error| Refused::Call(error.error))
}

/// Host `i`'s `finish` call, signed by its worker.
pub fn finish_call(i: u8, result: pallet_inference::FinishOf<Test>) -> crate::Call<Test> {
	let signature = sign(i, &result);
	crate::Call::finish { executor: account(i), result, signature }
}

/// Host `i`'s result.
pub fn finish_as(i: u8, result: pallet_inference::FinishOf<Test>) -> Result<(), Refused> {
	run_duty(finish_call(i, result))
}

/// Host `i`'s `validate` call.
pub fn validate_call(i: u8, request: RequestId, similarity: Perbill) -> crate::Call<Test> {
	let report = InferenceValidation { request, similarity };
	let signature = sign(i, &report);
	crate::Call::validate { validator: account(i), report, signature }
}

/// Host `i`'s validation report.
pub fn validate_as(i: u8, request: RequestId, similarity: Perbill) -> Result<(), Refused> {
	run_duty(validate_call(i, request, similarity))
}

/// Host `i`'s `vote` call.
pub fn vote_call(i: u8, request: RequestId, invalid: bool) -> crate::Call<Test> {
	let ballot = InvalidationVote { request, invalid };
	let signature = sign(i, &ballot);
	crate::Call::vote { voter: account(i), ballot, signature }
}

/// Host `i`'s vote.
pub fn vote_as(i: u8, request: RequestId, invalid: bool) -> Result<(), Refused> {
	run_duty(vote_call(i, request, invalid))
}

/// Host `i`'s claim that `validator` did not report on `request`.
pub fn report_missing_as(i: u8, request: RequestId, validator: u8) -> Result<(), Refused> {
	run_duty(report_missing_call(i, request, validator))
}

/// Host `i`'s `report_missing` call: `validator` did not report on `request`.
pub fn report_missing_call(i: u8, request: RequestId, validator: u8) -> crate::Call<Test> {
	let claim = MissingValidation { request, validator: account(validator) };
	let signature = sign(i, &claim);
	crate::Call::report_missing { reporter: account(i), claim, signature }
}

/// The code a pallet error has in `InvalidTransaction::Custom`.
pub fn custom(error: crate::Error<Test>) -> Refused {
	let DispatchError::Module(module) = DispatchError::from(error) else {
		unreachable!("pallet errors are module errors")
	};
	Refused::Pool(InvalidTransaction::Custom(module.error[0]).into())
}

/// A pallet error raised by the call.
pub fn call_error(error: crate::Error<Test>) -> Refused {
	Refused::Call(error.into())
}

/// An `authorize` refusal.
pub fn pool(error: InvalidTransaction) -> Refused {
	Refused::Pool(error.into())
}

/// The hosts among `hosts` the hash rule samples to validate a finished request.
pub fn sampled(id: RequestId, hosts: &[u8]) -> Vec<u8> {
	let request = Requests::<Test>::get(id).expect("the request exists");
	let finish = request.finish.expect("the request is finished");
	sampled_by(&System::block_hash(finish.at), id, hosts)
}

/// The hosts among `hosts` the hash rule would sample for finished request `id` from the
/// block hash `block`.
pub fn sampled_by(block: &H256, id: RequestId, hosts: &[u8]) -> Vec<u8> {
	let request = Requests::<Test>::get(id).expect("the request exists");
	let finish = request.finish.expect("the request is finished");
	hosts
		.iter()
		.copied()
		.filter(|&i| {
			rules::is_validator(
				block,
				id,
				&account(i),
				&request.executor,
				finish.target,
				Poc::power_in(&finish.snapshot, &account(i)),
				finish.total_power,
				finish.executor_power,
			)
		})
		.collect()
}

/// The benchmarks' externalities: no hosts, and a keystore for the worker keys.
#[cfg(feature = "runtime-benchmarks")]
pub fn new_bench_ext() -> TestExternalities {
	use polkadot_sdk::sp_keystore::{testing::MemoryKeystore, KeystoreExt};
	let mut ext = ExtBuilder::default().build();
	ext.register_extension(KeystoreExt::new(MemoryKeystore::new()));
	ext
}
