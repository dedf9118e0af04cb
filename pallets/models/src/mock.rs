//! A test runtime: System, Balances and this pallet; voting power set per test.

use crate::{
	self as pallet_models, GovernanceParams, ModelRecord, PocParams, PowerSnapshot,
	VotingPowerSource,
};
use polkadot_sdk::{
	frame_support::{
		derive_impl, parameter_types,
		traits::{EitherOfDiverse, Hooks as _},
	},
	frame_system::{self, EnsureRoot},
	pallet_balances,
	sp_arithmetic::{FixedU128, Perbill},
	sp_core::ConstU32,
	sp_io::TestExternalities,
	sp_runtime::BuildStorage,
};
use std::{cell::RefCell, collections::BTreeMap};

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
	pub type Models = pallet_models;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<u64>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
}

thread_local! {
	/// Each account's voting power (as `pallet-poc` would report it).
	static POWER: RefCell<BTreeMap<u64, u128>> = const { RefCell::new(BTreeMap::new()) };
	/// Snapshots taken: the powers then and whether one is still held.
	static SNAPSHOTS: RefCell<Vec<(BTreeMap<u64, u128>, bool)>> = const { RefCell::new(Vec::new()) };
}

/// Voting power as the tests set it; snapshots as copies (pallet-poc keeps generations).
pub struct TestPower;
impl TestPower {
	pub fn set(who: u64, power: u128) {
		POWER.with(|map| {
			if power == 0 {
				map.borrow_mut().remove(&who);
			} else {
				map.borrow_mut().insert(who, power);
			}
		});
	}

	/// The snapshots still held.
	pub fn held_snapshots() -> usize {
		SNAPSHOTS.with(|snapshots| snapshots.borrow().iter().filter(|(_, held)| *held).count())
	}

	pub fn reset() {
		POWER.with(|map| map.borrow_mut().clear());
		SNAPSHOTS.with(|snapshots| snapshots.borrow_mut().clear());
	}
}
impl VotingPowerSource<u64> for TestPower {
	fn power(who: &u64) -> u128 {
		POWER.with(|map| map.borrow().get(who).copied().unwrap_or(0))
	}
	fn take_snapshot() -> (PowerSnapshot, u128, u32) {
		let powers = POWER.with(|map| map.borrow().clone());
		let total = powers.values().sum();
		let hosts = powers.len() as u32;
		let generation = SNAPSHOTS.with(|snapshots| {
			let mut snapshots = snapshots.borrow_mut();
			snapshots.push((powers, true));
			snapshots.len() as u32 - 1
		});
		(PowerSnapshot { generation, departures: 0 }, total, hosts)
	}
	fn power_in(snapshot: &PowerSnapshot, who: &u64) -> u128 {
		SNAPSHOTS.with(|snapshots| {
			let snapshots = snapshots.borrow();
			let (powers, held) = &snapshots[snapshot.generation as usize];
			assert!(*held, "a released snapshot is not read");
			powers.get(who).copied().unwrap_or(0)
		})
	}
	fn release_snapshot(snapshot: &PowerSnapshot) {
		SNAPSHOTS.with(|snapshots| {
			let mut snapshots = snapshots.borrow_mut();
			let entry = &mut snapshots[snapshot.generation as usize];
			assert!(entry.1, "a snapshot is released once");
			entry.1 = false;
		});
	}
	#[cfg(feature = "runtime-benchmarks")]
	fn set_powers(powers: &[(u64, u128)]) {
		POWER.with(|map| map.borrow_mut().clear());
		for (who, power) in powers {
			Self::set(*who, *power);
		}
	}
}

/// The community pool's account.
pub const POOL: u64 = 999;
/// The proposal deposit.
pub const DEPOSIT: u64 = 50;
/// The voting period of the tests, in blocks.
pub const VOTING_PERIOD: u64 = 10;

parameter_types! {
	pub const ProposalDeposit: u64 = DEPOSIT;
	pub const CommunityPool: u64 = POOL;
}

impl pallet_models::Config for Test {
	type RuntimeOrigin = RuntimeOrigin;
	type RuntimeCall = RuntimeCall;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type UpdateOrigin = EitherOfDiverse<EnsureRoot<u64>, crate::EnsureComputeMajority>;
	type Power = TestPower;
	type ProposalDeposit = ProposalDeposit;
	type CommunityPool = CommunityPool;
	type MaxModels = ConstU32<8>;
	type MaxPendingChanges = ConstU32<4>;
	type MaxNameLength = ConstU32<64>;
	type MaxLabelLength = ConstU32<16>;
	type MaxCallLength = ConstU32<512>;
	type MaxProposals = ConstU32<3>;
	type ClosingPeriod = polkadot_sdk::frame_support::traits::ConstU64<VOTING_PERIOD>;
	type MaxVoters = ConstU32<16>;
	/// Tests check behaviour, not weights (those come from the benchmarks).
	type WeightInfo = ();
}

/// A valid record (the default model's values) named `name`.
pub fn record(name: &str) -> crate::ModelRecordOf<Test> {
	ModelRecord {
		name: name.as_bytes().to_vec().try_into().unwrap(),
		architecture: b"llama".to_vec().try_into().unwrap(),
		quantization: b"Q4_1".to_vec().try_into().unwrap(),
		weights_digest: [1; 32],
		tokenizer_digest: [1; 32],
		poc: PocParams {
			seq_len: 64,
			dist_threshold: Perbill::from_percent(20),
			p_mismatch: Perbill::from_rational(1u32, 1000),
			p_value: Perbill::from_percent(2),
		},
		coefficient: FixedU128::from_u32(1),
		validation_threshold: Perbill::from_percent(90),
		template_overhead: 9,
		price: 10,
		max_context: 8192,
		end_tokens: vec![0, 2].try_into().unwrap(),
	}
}

/// The live network's rules with the tests' voting period.
pub fn governance() -> crate::GovernanceParamsOf<Test> {
	GovernanceParams {
		voting_period: VOTING_PERIOD,
		quorum: Perbill::from_percent(25),
		threshold: Perbill::from_percent(50),
		veto_threshold: Perbill::from_parts(334_000_000),
	}
}

/// Builds the test runtime's state. By default: model 0 (`SmolLM2-135M-Instruct`) approved
/// at genesis with the tests' governance; accounts 1–9 funded with 1,000 and the community
/// pool with 1; hosts 1–4 with voting power 10, 20, 30, 40; at block 1.
pub struct ExtBuilder {
	/// The accounts with voting power, and their power.
	powers: Vec<(u64, u128)>,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		Self { powers: (1..=4).map(|host| (host, u128::from(host) * 10)).collect() }
	}
}

impl ExtBuilder {
	/// Gives `who` voting power `power` too (an account without funds, for instance).
	pub fn power(mut self, who: u64, power: u128) -> Self {
		self.powers.push((who, power));
		self
	}

	/// The test runtime's externalities, at block 1.
	pub fn build(self) -> TestExternalities {
		TestPower::reset();
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> {
			balances: (1..10).map(|who| (who, 1_000)).chain([(POOL, 1)]).collect(),
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		pallet_models::GenesisConfig::<Test> {
			models: vec![record("SmolLM2-135M-Instruct")],
			governance: governance(),
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		let mut ext = TestExternalities::new(storage);
		ext.execute_with(|| {
			for (who, power) in self.powers {
				TestPower::set(who, power);
			}
			System::set_block_number(1);
		});
		ext
	}

	/// Runs `test` in the built runtime, then checks the pallet's invariants
	/// (`do_try_state`): every test ends with them.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			Models::do_try_state().expect("the pallet's invariants hold");
		});
	}
}

/// Moves to block `n`, checking the invariants at every block.
pub fn run_to_block(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Models::on_initialize(next);
		Models::do_try_state().expect("the pallet's invariants hold");
	}
}
