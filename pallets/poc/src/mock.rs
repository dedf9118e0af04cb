//! A test runtime: System, Balances and this pallet, with models 1 and 2 approved.

use crate::{self as pallet_poc, EpochParams, ModelRegistry};
use gonka_primitives::{HostId, ModelId};
use polkadot_sdk::{
	frame_support::{
		derive_impl, parameter_types,
		traits::Hooks as _,
		weights::{RuntimeDbWeight, Weight},
	},
	frame_system::{self, EnsureRoot},
	pallet_balances,
	sp_arithmetic::FixedU128,
	sp_core::{sr25519, ConstU32, ConstU64, Pair, H256},
	sp_io::TestExternalities,
	sp_runtime::{traits::IdentityLookup, BuildStorage, Perbill},
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
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountId = HostId;
	type Lookup = IdentityLookup<HostId>;
	type AccountData = pallet_balances::AccountData<u64>;
	type DbWeight = TestDbWeight;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
}

/// `OnWeightsFormed` calls: (epoch, consensus weights).
pub type Formed = Vec<(gonka_primitives::EpochIndex, Vec<(HostId, u128)>)>;

std::thread_local! {
	static FORMED: core::cell::RefCell<Formed> = const { core::cell::RefCell::new(Vec::new()) };
}

/// Records every `OnWeightsFormed` call of the test's thread (what pallet-rewards hears).
pub struct FormedLog;
impl pallet_poc::OnWeightsFormed<HostId> for FormedLog {
	fn weights_formed(epoch: gonka_primitives::EpochIndex, weights: &[(HostId, u128)]) -> Weight {
		FORMED.with(|formed| formed.borrow_mut().push((epoch, weights.to_vec())));
		Self::weights_formed_weight(weights.len() as u32)
	}
	fn weights_formed_weight(_hosts: u32) -> Weight {
		spread(0)
	}
}

impl FormedLog {
	/// The calls so far: (epoch, consensus weights).
	pub fn calls() -> Formed {
		FORMED.with(|formed| formed.borrow().clone())
	}
}

/// Models 1 and 2 are approved, with coefficients 1 and 2.
pub struct TestModels;
impl ModelRegistry for TestModels {
	fn is_approved(model: ModelId) -> bool {
		matches!(model, 1 | 2)
	}
	fn coefficient(model: ModelId) -> Option<FixedU128> {
		Self::is_approved(model).then(|| FixedU128::from_u32(model))
	}
	fn on_epoch_start(_epoch: gonka_primitives::EpochIndex) -> Weight {
		Weight::zero()
	}
	#[cfg(feature = "runtime-benchmarks")]
	fn approve_for_benchmark(model: ModelId) {
		assert!(Self::is_approved(model), "the test runtime approves models 1 and 2 only");
	}
}

pub const DEPOSIT: u64 = 100;
pub const MAX_HOSTS: u32 = 6;
pub const MAX_COMMITS: u32 = 3;

parameter_types! {
	pub const HostDeposit: u64 = DEPOSIT;
	pub const MaxWeightShare: Perbill = Perbill::from_percent(25);
	/// Unbounded unless a test spreads the work over blocks.
	pub storage HookBudget: Weight = Weight::MAX;
	/// Free reads and writes, unless a test prices them.
	pub storage TestDbWeight: RuntimeDbWeight = RuntimeDbWeight { read: 0, write: 0 };
	/// The weight of capping the consensus weights (`cap_weights`), whatever their number.
	pub storage CapWeight: Weight = spread(0);
}

/// The weights of the spread work: `10 + 10·n` ref time for `n` records (rosters, judged
/// commitments, pruned records, ...), so a test sets `HookBudget` to spread them over
/// blocks; zero for the rest
/// (tests check behaviour, not weights: those come from the benchmarks).
pub struct TestWeights;
impl pallet_poc::WeightInfo for TestWeights {
	fn register_host() -> Weight {
		Weight::zero()
	}
	fn update_host() -> Weight {
		Weight::zero()
	}
	fn leave() -> Weight {
		Weight::zero()
	}
	fn set_epoch_params() -> Weight {
		Weight::zero()
	}
	fn commit_poc() -> Weight {
		Weight::zero()
	}
	fn authorize_commit_poc() -> Weight {
		Weight::zero()
	}
	fn submit_poc_validations(_n: u32) -> Weight {
		Weight::zero()
	}
	fn authorize_submit_poc_validations(_n: u32) -> Weight {
		Weight::zero()
	}
	fn form_weights(n: u32) -> Weight {
		spread(n)
	}
	fn carry_weights(n: u32) -> Weight {
		spread(n)
	}
	fn retire_roster() -> Weight {
		spread(1)
	}
	fn install_roster() -> Weight {
		spread(1)
	}
	fn cap_weights(_n: u32) -> Weight {
		CapWeight::get()
	}
	fn write_power(n: u32) -> Weight {
		spread(n)
	}
	fn prune_epoch(n: u32) -> Weight {
		spread(n)
	}
	fn open_validation(n: u32) -> Weight {
		spread(n)
	}
	fn on_initialize_epoch_start() -> Weight {
		Weight::zero()
	}
	fn on_initialize_idle() -> Weight {
		Weight::zero()
	}
	fn prune_power_generation(n: u32) -> Weight {
		spread(n)
	}
}

/// The test weight of a step of spread work over `n` records.
pub fn spread(n: u32) -> Weight {
	Weight::from_parts(10u64.saturating_add(10u64.saturating_mul(n.into())), 0)
}

impl pallet_poc::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type HostDeposit = HostDeposit;
	type UpdateOrigin = EnsureRoot<HostId>;
	type Models = TestModels;
	type MaxHosts = ConstU32<MAX_HOSTS>;
	type MaxModelsPerHost = ConstU32<2>;
	type MaxEndpointLength = ConstU32<64>;
	type MaxCommitsPerModel = ConstU32<MAX_COMMITS>;
	type DutyPriority = ConstU64<{ u64::MAX / 2 }>;
	type MaxWeightShare = MaxWeightShare;
	type RosterChunk = ConstU32<2>;
	type RetentionEpochs = ConstU32<2>;
	type OnWeightsFormed = FormedLog;
	type HookBudget = HookBudget;
	type WeightInfo = TestWeights;
}

/// The test epochs: 20 blocks, 5 of generation, 1 of delay, 5 of validation.
pub const PARAMS: EpochParams<u64> =
	EpochParams { epoch_length: 20, poc_generation: 5, validation_delay: 1, poc_validation: 5 };

/// Account `i`.
pub fn account(i: u8) -> HostId {
	HostId::new([i; 32])
}

/// The worker key of host `i`.
pub fn worker(i: u8) -> sr25519::Pair {
	sr25519::Pair::from_string(&format!("//worker{i}"), None).expect("a valid derivation")
}

pub fn endpoint(i: u8) -> Vec<u8> {
	format!("http://10.0.0.{i}:8080").into_bytes()
}

/// The test chain's genesis, built with [`ExtBuilder::build`]: accounts 1..=9 with 1,000
/// units each, the [`PARAMS`] epochs, and the genesis hosts (none by default), each with its
/// worker key, endpoint and models 1 and 2.
#[derive(Default)]
pub struct ExtBuilder {
	hosts: Vec<u8>,
}

impl ExtBuilder {
	/// Hosts `hosts` registered at genesis (models 1 and 2).
	pub fn hosts(mut self, hosts: &[u8]) -> Self {
		self.hosts = hosts.to_vec();
		self
	}

	/// The externalities of the genesis, advanced to block 1 (the first epoch started).
	pub fn build(self) -> TestExternalities {
		FORMED.with(|formed| formed.borrow_mut().clear());
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> {
			balances: (1..=9).map(|i| (account(i), 1_000)).collect(),
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		pallet_poc::GenesisConfig::<Test> {
			epoch_params: PARAMS,
			hosts: self
				.hosts
				.iter()
				.map(|&i| (account(i), worker(i).public(), endpoint(i), vec![1, 2]))
				.collect(),
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		let mut ext = TestExternalities::new(storage);
		ext.execute_with(|| run_to_block(1));
		ext
	}

	/// Runs `test` in the built chain, then checks the pallet's invariants: every test ends
	/// with `do_try_state`.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			Poc::do_try_state().expect("the pallet's invariants hold after the test");
		});
	}
}

/// The hash tests give block `n`: distinct per block.
pub fn block_hash(n: u64) -> H256 {
	H256::from_low_u64_be(0xb10c_0000 + n)
}

/// Advances to block `n`, running this pallet's `on_initialize` and checking the pallet's
/// invariants after every block.
pub fn run_to_block(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		System::set_parent_hash(block_hash(next - 1));
		Poc::on_initialize(next);
		Poc::do_try_state().expect("the pallet's invariants hold");
	}
}

/// The pallet's events so far, oldest first.
pub fn poc_events() -> Vec<pallet_poc::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Poc(event) => Some(event),
			_ => None,
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
