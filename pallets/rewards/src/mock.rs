//! A test runtime: System, Balances, PoC, inference and this pallet. Hosts 1–4 are genesis
//! hosts of model 1; 5–8 are funded accounts; the community pool is account 99. Tests run
//! in `ExtBuilder::default().build_and_execute(|| ..)`, which checks the invariants after
//! every block and after the test.

use crate::{self as pallet_rewards, RewardParams};
use gonka_primitives::{bounds::MaxEndTokens, issuance::DECAY_ONE, EpochIndex, HostId, ModelId};
use pallet_inference::{InferenceModels, InferenceParams, ModelTerms};
use pallet_poc::{EpochParams, ModelRegistry, OnWeightsFormed};
use polkadot_sdk::{
	frame_support::{
		derive_impl, parameter_types,
		traits::{Hooks as _, Randomness},
		weights::Weight,
	},
	frame_system::{self, EnsureRoot},
	pallet_balances,
	sp_arithmetic::FixedU128,
	sp_core::{sr25519, ConstU128, ConstU32, ConstU64, Pair, H256},
	sp_io::TestExternalities,
	sp_runtime::{traits::IdentityLookup, BoundedVec, BuildStorage, Perbill},
};

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
	#[runtime::pallet_index(4)]
	pub type Rewards = pallet_rewards;
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
	type ExistentialDeposit = ConstU128<ED>;
}

/// Model 1 is approved, coefficient 1.
pub struct TestModels;
impl ModelRegistry for TestModels {
	fn is_approved(model: ModelId) -> bool {
		model == 1
	}
	fn coefficient(model: ModelId) -> Option<FixedU128> {
		Self::is_approved(model).then(|| FixedU128::from_u32(1))
	}
	fn on_epoch_start(_epoch: EpochIndex) -> Weight {
		Weight::zero()
	}
	#[cfg(feature = "runtime-benchmarks")]
	fn approve_for_benchmark(model: ModelId) {
		assert!(Self::is_approved(model), "the test runtime approves model 1 only");
	}
}
impl InferenceModels for TestModels {
	fn terms(model: ModelId) -> Option<ModelTerms> {
		Self::is_approved(model).then_some(ModelTerms {
			template_overhead: 10,
			max_context: 1_000,
			validation_threshold: Perbill::from_percent(90),
			base_price: 2,
		})
	}
	fn end_tokens(model: ModelId) -> Option<BoundedVec<u32, MaxEndTokens>> {
		Self::is_approved(model).then(|| BoundedVec::truncate_from(vec![99]))
	}
}

/// Fixed randomness (the executor draw is not under test here).
pub struct TestRandomness;
impl Randomness<H256, u64> for TestRandomness {
	fn random(subject: &[u8]) -> (H256, u64) {
		let now = System::block_number();
		(H256(gonka_primitives::hash_concat(&[subject, &now.to_le_bytes()])), now)
	}
}

pub const ED: u128 = 10;
pub const DEPOSIT: u128 = 100;
pub const BALANCE: u128 = 1_000_000;
pub const POOL: u8 = 99;
/// Hosts decided per block.
pub const PAYOUTS_PER_BLOCK: u32 = 3;
/// Vesting slots at most.
pub const MAX_VESTING: u32 = 6;

parameter_types! {
	/// The PoC hooks' spread work is not what these tests check: unbounded.
	pub const PocHookBudget: Weight = Weight::MAX;
	pub const HostDeposit: u128 = DEPOSIT;
	pub const MaxWeightShare: Perbill = Perbill::from_percent(100);
	pub Pool: HostId = account(POOL);
	pub TimerBudget: Weight = Weight::from_parts(u64::MAX, u64::MAX);
}

impl pallet_poc::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type HostDeposit = HostDeposit;
	type UpdateOrigin = EnsureRoot<HostId>;
	type Models = TestModels;
	type MaxHosts = ConstU32<16>;
	type MaxModelsPerHost = ConstU32<2>;
	type MaxEndpointLength = ConstU32<64>;
	type MaxCommitsPerModel = ConstU32<3>;
	type DutyPriority = ConstU64<{ u64::MAX / 2 }>;
	type MaxWeightShare = MaxWeightShare;
	type RosterChunk = ConstU32<4>;
	type RetentionEpochs = ConstU32<2>;
	/// This pallet, when the test lets PoC form the weights ([`ExtBuilder::poc_formation`]);
	/// otherwise the test forms them itself ([`form`]) and PoC's formations are ignored.
	type OnWeightsFormed = PocFormation;
	type HookBudget = PocHookBudget;
	type WeightInfo = ();
}

std::thread_local! {
	static POC_FORMS: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

/// PoC's formations, told to this pallet only in tests that let PoC form the weights
/// (`ExtBuilder::poc_formation`); the other tests stand in for PoC with [`form`], and
/// PoC's own formations (every epoch, carried over ones included) would schedule the same
/// epochs a second time.
pub struct PocFormation;
impl OnWeightsFormed<HostId> for PocFormation {
	fn weights_formed(epoch: EpochIndex, weights: &[(HostId, u128)]) -> Weight {
		if POC_FORMS.with(|forms| forms.get()) {
			<Rewards as OnWeightsFormed<HostId>>::weights_formed(epoch, weights)
		} else {
			Weight::zero()
		}
	}
	fn weights_formed_weight(hosts: u32) -> Weight {
		<Rewards as OnWeightsFormed<HostId>>::weights_formed_weight(hosts)
	}
}

impl pallet_inference::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ModelTerms = TestModels;
	type Randomness = TestRandomness;
	type ForfeitTo = Pool;
	type WeightToFee = polkadot_sdk::frame_support::weights::IdentityFee<u128>;
	type MaxPromptBytes = ConstU32<64>;
	type MaxOutputTokens = ConstU32<16>;
	type MaxOutputBytes = ConstU32<64>;
	type TimerBudget = TimerBudget;
	type PruneBatch = ConstU32<4>;
	type MaxPendingDraws = ConstU32<16>;
	type MaxSettlementsPerBlock = ConstU32<4>;
	type MaxPaidValidators = ConstU32<8>;
	type LedgerEpochs = ConstU32<1>;
	type SettlementHold = pallet_rewards::DistributionPending<Test>;
	type WeightInfo = ();
}

impl pallet_rewards::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type CommunityPool = Pool;
	type PoolOrigin = EnsureRoot<HostId>;
	type MaxVestingEpochs = ConstU32<MAX_VESTING>;
	type MaxPayoutsPerBlock = ConstU32<PAYOUTS_PER_BLOCK>;
	type WeightInfo = ();
}

/// The test epochs: 20 blocks, 5 of generation, 1 of delay, 5 of validation; epoch `k`
/// starts at block `1 + 20k` and forms its weights at block `12 + 20k`.
pub const EPOCH: EpochParams<u64> =
	EpochParams { epoch_length: 20, poc_generation: 5, validation_delay: 1, poc_validation: 5 };

/// The first reward of the test curve: 1,000,000 units, halving every epoch.
pub const FIRST_REWARD: u128 = 1_000_000;

/// The test rules: 4 vesting epochs, 1 unit of collateral per weight unit after 2 grace
/// epochs, and the live network's slashes and downtime test.
pub fn test_params() -> RewardParams {
	RewardParams {
		vesting_epochs: 4,
		grace_epochs: 2,
		collateral_per_weight_unit: 1,
		..RewardParams::live_network()
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

/// The test externalities. Genesis: hosts 1–4 registered for model 1; accounts 1–8 with
/// `BALANCE`; the pool with `BALANCE`; the test curve and rules (`test_params`); short
/// inference windows; then block 1. `build_and_execute` runs a test and checks the
/// invariants of inference and this pallet after it.
#[derive(Default)]
pub struct ExtBuilder {
	/// The curve's next rewarded epoch `e` once block 1 runs (`None`: 1, the genesis
	/// curve's).
	next_rewarded_epoch: Option<u32>,
	/// Whether PoC's formations schedule the epochs' rewards (else the test does, with
	/// [`form`]).
	poc_formation: bool,
}

impl ExtBuilder {
	/// Starts the curve at rewarded epoch `e` (with the genesis curve's reward): `e` beyond
	/// the grace epochs makes collateral count from the first formation.
	pub fn next_rewarded_epoch(mut self, e: u32) -> Self {
		self.next_rewarded_epoch = Some(e);
		self
	}

	/// Lets PoC's formations schedule the epochs' rewards, as in the runtime.
	pub fn poc_formation(mut self) -> Self {
		self.poc_formation = true;
		self
	}

	/// The externalities at block 1.
	pub fn build(self) -> TestExternalities {
		POC_FORMS.with(|forms| forms.set(self.poc_formation));
		let mut ext = TestExternalities::new(genesis_storage());
		ext.execute_with(|| {
			pallet_inference::Params::<Test>::put(InferenceParams {
				refusal_timeout: 3,
				expiration: 10,
				validation_window: 4,
				vote_window: 4,
				retention: 5,
				block_capacity: 100,
				..InferenceParams::live_network()
			});
			run_to_block(1);
			if let Some(e) = self.next_rewarded_epoch {
				pallet_rewards::Curve::<Test>::mutate(|curve| curve.next_epoch = e);
			}
		});
		ext
	}

	/// Runs `test` in the built externalities, then checks the invariants of inference and
	/// this pallet (`do_try_state`).
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			Inference::do_try_state().expect("inference's invariants hold after the test");
			Rewards::do_try_state().expect("the pallet's invariants hold after the test");
		});
	}
}

/// The genesis storage of System, Balances, PoC and this pallet.
fn genesis_storage() -> polkadot_sdk::sp_runtime::Storage {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: (1..=8).chain([POOL]).map(|i| (account(i), BALANCE)).collect(),
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	pallet_poc::GenesisConfig::<Test> {
		epoch_params: EPOCH,
		hosts: (1..=4)
			.map(|i| {
				let endpoint = format!("http://10.0.0.{i}:8080").into_bytes();
				(account(i), worker(i).public(), endpoint, vec![1])
			})
			.collect(),
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	pallet_rewards::GenesisConfig::<Test> {
		params: Some(test_params()),
		curve: Some((FIRST_REWARD, DECAY_ONE / 2)),
		_phantom: Default::default(),
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	storage
}

/// Advances to block `n`, running every pallet's `on_initialize`; the invariants of
/// inference and this pallet are checked after every block.
pub fn run_to_block(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		System::set_parent_hash(H256::from_low_u64_be(next - 1));
		Poc::on_initialize(next);
		Inference::on_initialize(next);
		Rewards::on_initialize(next);
		Inference::do_try_state().expect("inference's invariants hold");
		Rewards::do_try_state().expect("the pallet's invariants hold");
	}
}

/// The first block of epoch `k`.
pub fn epoch_start(k: EpochIndex) -> u64 {
	1 + 20 * u64::from(k)
}

/// Runs to the first block of epoch `k`.
pub fn run_to_epoch(k: EpochIndex) {
	run_to_block(epoch_start(k));
}

/// Forms `epoch`'s weights as PoC would tell the pallet: hosts by number with their
/// consensus weights.
pub fn form(epoch: EpochIndex, weights: &[(u8, u128)]) {
	let mut weights: Vec<(HostId, u128)> =
		weights.iter().map(|(i, weight)| (account(*i), *weight)).collect();
	weights.sort();
	<Rewards as OnWeightsFormed<HostId>>::weights_formed(epoch, &weights);
}
