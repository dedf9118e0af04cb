//! A test runtime: System, Balances, PoC and this pallet. Genesis hosts
//! (`ExtBuilder::hosts`) serve models 1 and 2 with PoC weight 1 each; developers are 20–22.

use crate::{self as pallet_channels, ChannelPricing};
use gonka_primitives::{HostId, ModelId};
use pallet_poc::{EpochParams, ModelRegistry};
use polkadot_sdk::{
	frame_support::{derive_impl, parameter_types, traits::Hooks as _, weights::Weight},
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
	#[runtime::pallet_index(3)]
	pub type Channels = pallet_channels;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountId = HostId;
	type Lookup = IdentityLookup<HostId>;
	type AccountData = pallet_balances::AccountData<u128>;
	/// Long enough for an unavailable payload's jury.
	type BlockHashCount = ConstU64<64>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = u128;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
}

/// Models 1 and 2 are approved, with prices 10 and 20; model 3 is not.
pub struct TestModels;
impl ModelRegistry for TestModels {
	fn is_approved(model: ModelId) -> bool {
		matches!(model, 1 | 2)
	}
	fn coefficient(model: ModelId) -> Option<FixedU128> {
		Self::is_approved(model).then_some(FixedU128::from_u32(1))
	}
	fn on_epoch_start(_epoch: gonka_primitives::EpochIndex) -> Weight {
		Weight::zero()
	}
	#[cfg(feature = "runtime-benchmarks")]
	fn approve_for_benchmark(_model: ModelId) {}
}

impl ChannelPricing for TestModels {
	fn price(model: ModelId) -> Option<u128> {
		match model {
			1 => Some(10),
			2 => Some(20),
			_ => None,
		}
	}
	fn template_overhead(model: ModelId) -> Option<u32> {
		Self::is_approved(model).then_some(1)
	}
	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_model() -> ModelId {
		1
	}
}

pub const MAX_CHANNEL_BLOCKS: u64 = 100;
pub const SETTLE_WINDOW: u64 = 20;
pub const MAX_OPENS: u32 = 3;
/// A block draws one committee of 64 slots and one more of up to 36.
pub const MAX_DRAW_SLOTS: u32 = 100;
pub const OPEN_FEE: u128 = 5;
/// What a settlement costs its member.
pub const SETTLE_FEE: u128 = 3;
/// The verdict period's length.
pub const VERDICT_PERIOD: u64 = 5;
/// The verdict windows a block closes.
pub const MAX_CLOSES: u32 = 2;
/// The blocks a jury votes in.
pub const JURY_WINDOW: u64 = 8;
/// The disputes a block opens.
pub const MAX_DISPUTES: u32 = 2;
/// The blocks an unavailable payload's jury votes in.
pub const UNAVAILABLE_WINDOW: u64 = 20;
/// What a challenge holds beyond the receipt's cost.
pub const CHALLENGE_FEE: u128 = 40;
/// The reports of misses a block takes.
pub const MAX_MISS_REPORTS: u32 = 1;
/// The validators' share of a settlement.
pub const VALIDATOR_SHARE: Perbill = Perbill::from_percent(10);

parameter_types! {
	/// What each sample must pay its validators (none, but where a test sets it).
	pub static SampleFee: u128 = 0;
	pub const HostDeposit: u128 = 100;
	pub const MaxWeightShare: Perbill = Perbill::from_percent(25);
	pub const PocHookBudget: Weight = Weight::MAX;
	pub Pool: HostId = HostId::new([99; 32]);
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
	type HookBudget = PocHookBudget;
	type WeightInfo = ();
}

/// The parent block's hash, as the dev chain's randomness.
pub struct ParentHash;
impl polkadot_sdk::frame_support::traits::Randomness<H256, u64> for ParentHash {
	fn random(_subject: &[u8]) -> (H256, u64) {
		(System::parent_hash(), System::block_number())
	}
}

impl pallet_channels::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Pricing = TestModels;
	type Randomness = ParentHash;
	type FeeTo = Pool;
	type OpenFee = ConstU128<OPEN_FEE>;
	type MaxChannelBlocks = ConstU64<MAX_CHANNEL_BLOCKS>;
	type SettleWindow = ConstU64<SETTLE_WINDOW>;
	type MaxOpensPerBlock = ConstU32<MAX_OPENS>;
	type MaxDrawSlotsPerBlock = ConstU32<MAX_DRAW_SLOTS>;
	type SettleFee = ConstU128<SETTLE_FEE>;
	type Work = TestLedger;
	type VerdictPeriod = ConstU64<VERDICT_PERIOD>;
	type MaxClosesPerBlock = ConstU32<MAX_CLOSES>;
	type SampleFee = SampleFee;
	type JuryWindow = ConstU64<JURY_WINDOW>;
	type MaxDisputesPerBlock = ConstU32<MAX_DISPUTES>;
	type UnavailableWindow = ConstU64<UNAVAILABLE_WINDOW>;
	type ChallengeFee = ConstU128<CHALLENGE_FEE>;
	type MaxMissReportsPerBlock = ConstU32<MAX_MISS_REPORTS>;
	type WeightInfo = ();
}

use polkadot_sdk::sp_core::ConstU128;

/// Long epochs: PoC does not run during these tests.
pub const EPOCH: EpochParams<u64> =
	EpochParams { epoch_length: 1_000, poc_generation: 5, validation_delay: 1, poc_validation: 5 };

/// Account `i`.
pub fn account(i: u8) -> HostId {
	HostId::new([i; 32])
}

/// The worker key of host `i`.
pub fn worker(i: u8) -> sr25519::Pair {
	sr25519::Pair::from_string(&format!("//worker{i}"), None).expect("a valid derivation")
}

std::thread_local! {
	static CREDITED: core::cell::RefCell<std::collections::BTreeMap<HostId, u128>> =
		Default::default();
	static TARGET: core::cell::Cell<Perbill> = const { core::cell::Cell::new(Perbill::one()) };
	static TRAFFIC: core::cell::RefCell<std::collections::BTreeMap<HostId, u32>> =
		Default::default();
	static JUDGED: core::cell::RefCell<Vec<(HostId, gonka_primitives::EpochIndex, u32, u32)>> =
		Default::default();
	static FINED: core::cell::RefCell<std::collections::BTreeMap<HostId, u128>> =
		Default::default();
	static DUTIES: core::cell::RefCell<std::collections::BTreeMap<HostId, (u32, u32)>> =
		Default::default();
	static MISSES: core::cell::RefCell<std::collections::BTreeMap<HostId, u32>> =
		Default::default();
}

/// The misses on its reputation the ledger noted for `reporter` (one a fine).
pub fn reputation_misses(reporter: &HostId) -> u32 {
	MISSES.with(|misses| misses.borrow().get(reporter).copied().unwrap_or(0))
}

/// The fines the ledger noted for `reporter`.
pub fn fined(reporter: &HostId) -> u128 {
	FINED.with(|fined| fined.borrow().get(reporter).copied().unwrap_or(0))
}

/// The duties the ledger noted of `validator`: (samples answered, samples missed).
pub fn duties(validator: &HostId) -> (u32, u32) {
	DUTIES.with(|duties| duties.borrow().get(validator).copied().unwrap_or_default())
}

/// Sets the validation target the ledger gives every settlement.
pub fn set_target(target: Perbill) {
	TARGET.with(|cell| cell.set(target));
}

/// The traffic the ledger counted for `executor`.
pub fn traffic_of(executor: &HostId) -> u32 {
	TRAFFIC.with(|traffic| traffic.borrow().get(executor).copied().unwrap_or(0))
}

/// The outcomes the ledger was told of: (executor, epoch, passes, invalidations).
pub fn judged() -> Vec<(HostId, gonka_primitives::EpochIndex, u32, u32)> {
	JUDGED.with(|judged| judged.borrow().clone())
}

/// The executors' ledger of pending work (`pallet-inference`'s in the runtime): records
/// what settlements credit, which must have reached the executor's free balance.
pub struct TestLedger;
impl pallet_inference::WorkLedger<HostId> for TestLedger {
	fn credit_work(executor: &HostId, amount: u128) -> polkadot_sdk::sp_runtime::DispatchResult {
		// Held as pending work, as `pallet-inference` does (here under the channels'
		// reason, the only one the mock has, on the executor's own account): it must
		// have reached the executor's free balance.
		use polkadot_sdk::frame_support::traits::fungible::MutateHold;
		Balances::hold(
			&RuntimeHoldReason::Channels(crate::HoldReason::ChannelEscrow),
			executor,
			amount,
		)?;
		CREDITED
			.with(|credited| *credited.borrow_mut().entry(executor.clone()).or_default() += amount);
		Ok(())
	}
	fn validator_share() -> Perbill {
		VALIDATOR_SHARE
	}
	fn target_of(_executor: &HostId, _traffic: u32) -> Perbill {
		TARGET.with(|cell| cell.get())
	}
	fn note_traffic(executor: &HostId, traffic: u32) {
		TRAFFIC.with(|map| *map.borrow_mut().entry(executor.clone()).or_default() += traffic);
	}
	fn judge_many(
		executor: &HostId,
		epoch: gonka_primitives::EpochIndex,
		passes: u32,
		invalidations: u32,
	) {
		JUDGED.with(|judged| {
			judged.borrow_mut().push((executor.clone(), epoch, passes, invalidations))
		});
	}
	fn take_work(
		executor: &HostId,
		_epoch: gonka_primitives::EpochIndex,
		amount: u128,
		to: &HostId,
	) -> u128 {
		use polkadot_sdk::frame_support::traits::{
			fungible::MutateHold,
			tokens::{Fortitude, Precision, Restriction},
		};
		let moved = amount.min(credited(executor));
		let moved = Balances::transfer_on_hold(
			&RuntimeHoldReason::Channels(crate::HoldReason::ChannelEscrow),
			executor,
			to,
			moved,
			Precision::Exact,
			Restriction::Free,
			Fortitude::Force,
		)
		.unwrap_or(0);
		CREDITED.with(|credited| {
			let mut credited = credited.borrow_mut();
			let entry = credited.entry(executor.clone()).or_default();
			*entry = entry.saturating_sub(moved);
		});
		moved
	}
	fn fine(reporter: &HostId, _epoch: gonka_primitives::EpochIndex, amount: u128) -> u128 {
		let fine = amount.min(credited(reporter));
		FINED.with(|fined| *fined.borrow_mut().entry(reporter.clone()).or_default() += fine);
		MISSES.with(|misses| *misses.borrow_mut().entry(reporter.clone()).or_default() += 1);
		fine
	}
	fn take_back(host: &HostId, _epoch: gonka_primitives::EpochIndex, amount: u128) -> u128 {
		let taken = amount.min(credited(host));
		FINED.with(|fined| *fined.borrow_mut().entry(host.clone()).or_default() += taken);
		taken
	}
	fn note_duties(validator: &HostId, done: u32, missed: u32) {
		DUTIES.with(|duties| {
			let mut duties = duties.borrow_mut();
			let entry = duties.entry(validator.clone()).or_default();
			entry.0 += done;
			entry.1 += missed;
		});
	}
}

/// What the ledger credited `executor` so far.
pub fn credited(executor: &HostId) -> u128 {
	CREDITED.with(|credited| credited.borrow().get(executor).copied().unwrap_or(0))
}

/// The chain's genesis: accounts 1–9 (hosts) and 20–22 (developers) with 10,000 each, the
/// genesis hosts serving models 1 and 2.
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

	pub fn build(self) -> TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> {
			balances: (1..=9).chain(20..=22).map(|i| (account(i), 10_000)).collect(),
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
					(
						account(i),
						worker(i).public(),
						format!("http://10.0.0.{i}:8080").into_bytes(),
						vec![1, 2],
					)
				})
				.collect(),
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		CREDITED.with(|credited| credited.borrow_mut().clear());
		TRAFFIC.with(|traffic| traffic.borrow_mut().clear());
		JUDGED.with(|judged| judged.borrow_mut().clear());
		FINED.with(|fined| fined.borrow_mut().clear());
		set_target(Perbill::one());
		SampleFee::set(0);
		let mut ext = TestExternalities::new(storage);
		ext.execute_with(|| run_to_block(1));
		ext
	}

	/// Runs `test`, then checks the pallets' invariants.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			check_invariants();
		});
	}
}

fn check_invariants() {
	pallet_channels::Pallet::<Test>::do_try_state().expect("the channels' invariants hold");
	#[cfg(feature = "try-runtime")]
	pallet_poc::Pallet::<Test>::do_try_state().expect("PoC's invariants hold");
}

/// The hash tests give block `n`: distinct per block.
pub fn block_hash(n: u64) -> H256 {
	H256::from_low_u64_be(0xb10c_0000 + n)
}

/// The anchor a duty signed now carries: the block before the current one, whose hash the
/// chain keeps.
pub fn anchor() -> gonka_primitives::channel::Anchor {
	let number = System::block_number().saturating_sub(1);
	gonka_primitives::channel::Anchor {
		number: number as u32,
		hash: frame_system::BlockHash::<Test>::get(number),
	}
}

/// Advances to block `n`, running the hooks and checking the invariants after each block.
pub fn run_to_block(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		System::set_parent_hash(block_hash(next - 1));
		frame_system::BlockHash::<Test>::insert(next - 1, block_hash(next - 1));
		Poc::on_initialize(next);
		Channels::on_initialize(next);
		check_invariants();
	}
}

/// This pallet's events so far, oldest first.
pub fn channel_events() -> Vec<pallet_channels::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Channels(event) => Some(event),
			_ => None,
		})
		.collect()
}

/// The benchmarks' externalities, with a keystore for the channel keys.
#[cfg(feature = "runtime-benchmarks")]
pub fn new_bench_ext() -> TestExternalities {
	use polkadot_sdk::sp_keystore::{testing::MemoryKeystore, KeystoreExt};
	let mut ext = ExtBuilder::default().build();
	ext.register_extension(KeystoreExt::new(MemoryKeystore::new()));
	ext
}

/// Why a duty transaction did not go through.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
	/// Its `authorize` rule refused it: the pool never takes it.
	Pool(polkadot_sdk::sp_runtime::transaction_validity::TransactionValidityError),
	/// The call failed when dispatched.
	Call(polkadot_sdk::sp_runtime::DispatchError),
}

/// Authorizes and dispatches a duty call as the pool and the block builder would.
pub fn run_duty(call: crate::Call<Test>) -> Result<(), Refused> {
	use polkadot_sdk::{
		frame_support::traits::Authorize, sp_runtime::transaction_validity::TransactionSource,
	};
	call.authorize(TransactionSource::External)
		.expect("a duty call has an authorize rule")
		.map_err(Refused::Pool)?;
	dispatch_duty(call)
}

/// Dispatches a duty call without asking its `authorize` rule (the state may have changed
/// since the pool validated it): the call checks again.
pub fn dispatch_duty(call: crate::Call<Test>) -> Result<(), Refused> {
	use polkadot_sdk::{frame_system::RawOrigin, sp_runtime::traits::Dispatchable as _};
	RuntimeCall::Channels(call)
		.dispatch(RawOrigin::Authorized.into())
		.map(|_| ())
		.map_err(|error| Refused::Call(error.error))
}
