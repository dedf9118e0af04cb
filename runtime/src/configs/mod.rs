//! The configuration of every pallet in the runtime.
//!
//! Grouped by concern: system and block limits, money (balances, fees), governance (sudo,
//! dev chains only), collators (authorship, collator selection, session, Aura) and the
//! parachain plumbing (parachain system, message queues). XCM lives in [`xcm_config`].

pub mod xcm_config;

use crate::{
	AccountId, Aura, Balance, Balances, Block, BlockNumber, CollatorSelection, Hash, MessageQueue,
	Nonce, PalletInfo, ParachainSystem, Runtime, RuntimeCall, RuntimeEvent, RuntimeFreezeReason,
	RuntimeHoldReason, RuntimeOrigin, RuntimeTask, Session, SessionKeys, System, WeightToFee,
	XcmpQueue, AVERAGE_ON_INITIALIZE_RATIO, BLOCK_PROCESSING_VELOCITY, EXISTENTIAL_DEPOSIT, GNK,
	HOURS, MAXIMUM_BLOCK_WEIGHT, MICRO_GNK, MILLI_GNK, NORMAL_DISPATCH_RATIO,
	RELAY_CHAIN_SLOT_DURATION_MILLIS, SLOT_DURATION, SS58_PREFIX, UNINCLUDED_SEGMENT_CAPACITY,
	VERSION,
};
use polkadot_sdk::{
	cumulus_pallet_parachain_system::RelayNumberMonotonicallyIncreases,
	cumulus_primitives_core::{AggregateMessageOrigin, ParaId},
	frame_support::{
		derive_impl,
		dispatch::DispatchClass,
		parameter_types,
		traits::{
			tokens::imbalance::ResolveTo, ConstBool, ConstU32, ConstU64, ConstU8, EitherOfDiverse,
			QueuePausedQuery, TransformOrigin, VariantCountOf, WithdrawReasons,
		},
		weights::{ConstantMultiplier, Weight},
		PalletId,
	},
	frame_system::{
		limits::{BlockLength, BlockWeights},
		EnsureRoot,
	},
	pallet_message_queue::OnQueueChanged,
	polkadot_runtime_common::{
		xcm_sender::NoPriceForMessageDelivery, BlockHashCount, SlowAdjustingFeeUpdate,
	},
	sp_runtime::{
		traits::{Convert, ConvertInto},
		BoundedVec, Perbill,
	},
	sp_version::RuntimeVersion,
	staging_parachain_info as parachain_info, *,
};
use xcm_config::XcmOriginToTransactDispatchOrigin;

pub use polkadot_sdk::frame_support::weights::constants::{
	BlockExecutionWeight, ExtrinsicBaseWeight, RocksDbWeight,
};

// ---- System -------------------------------------------------------------------------------

parameter_types! {
	pub const Version: RuntimeVersion = VERSION;

	/// A block holds at most 5 MiB of transactions, 75% of it for normal ones.
	pub RuntimeBlockLength: BlockLength =
		BlockLength::builder()
			.max_length(5 * 1024 * 1024)
			.modify_max_length_for_class(DispatchClass::Normal, |max| {
				*max = NORMAL_DISPATCH_RATIO * *max
			})
			.build();
	/// Block weight limits: `MAXIMUM_BLOCK_WEIGHT`, 75% for normal transactions, the rest
	/// reserved for operational ones.
	pub RuntimeBlockWeights: BlockWeights = BlockWeights::builder()
		.base_block(BlockExecutionWeight::get())
		.for_class(DispatchClass::all(), |weights| {
			weights.base_extrinsic = ExtrinsicBaseWeight::get();
		})
		.for_class(DispatchClass::Normal, |weights| {
			weights.max_total = Some(NORMAL_DISPATCH_RATIO * MAXIMUM_BLOCK_WEIGHT);
		})
		.for_class(DispatchClass::Operational, |weights| {
			weights.max_total = Some(MAXIMUM_BLOCK_WEIGHT);
			// Operational transactions are included even when a block is full of normal ones.
			weights.reserved = Some(
				MAXIMUM_BLOCK_WEIGHT.saturating_sub(NORMAL_DISPATCH_RATIO * MAXIMUM_BLOCK_WEIGHT)
			);
		})
		.avg_block_initialization(AVERAGE_ON_INITIALIZE_RATIO)
		.build_or_panic();
	pub const SS58Prefix: u16 = SS58_PREFIX;
}

/// Defaults from `ParaChainDefaultConfig`, with the chain's own types.
#[derive_impl(frame_system::config_preludes::ParaChainDefaultConfig)]
impl frame_system::Config for Runtime {
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type Block = Block;
	/// Block hashes kept for mortal transactions (oldest pruned first).
	type BlockHashCount = BlockHashCount;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type DbWeight = RocksDbWeight;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type SS58Prefix = SS58Prefix;
	/// Runtime upgrades go through the relay chain's validation-code upgrade process.
	type OnSetCode = cumulus_pallet_parachain_system::ParachainSetCode<Self>;
	type MaxConsumers = ConstU32<16>;
}

/// Refunds the proof size a transaction did not use.
impl cumulus_pallet_weight_reclaim::Config for Runtime {
	type WeightInfo = ();
}

impl pallet_timestamp::Config for Runtime {
	/// Milliseconds since the Unix epoch.
	type Moment = u64;
	type OnTimestampSet = Aura;
	type MinimumPeriod = ConstU64<0>;
	type WeightInfo = pallet_timestamp::weights::SubstrateWeight<Runtime>;
}

impl pallet_utility::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type PalletsOrigin = crate::OriginCaller;
	type WeightInfo = pallet_utility::weights::SubstrateWeight<Runtime>;
}

// ---- Money -------------------------------------------------------------------------------

parameter_types! {
	pub const ExistentialDeposit: Balance = EXISTENTIAL_DEPOSIT;
}

impl pallet_balances::Config for Runtime {
	type MaxLocks = ConstU32<50>;
	type Balance = Balance;
	type RuntimeEvent = RuntimeEvent;
	/// Dust of reaped accounts goes to the community pool: nothing is burnt, so the total
	/// issuance is the genesis issuance plus what the reward curve minted.
	type DustRemoval = ResolveTo<CommunityPool, Balances>;
	type ExistentialDeposit = ExistentialDeposit;
	type AccountStore = System;
	type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
	type MaxReserves = ConstU32<50>;
	type ReserveIdentifier = [u8; 8];
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type DoneSlashHandler = ();
}

parameter_types! {
	/// The smallest vested transfer (`vesting.vestedTransfer`): schedules cost storage.
	pub const MinVestedTransfer: Balance = GNK;
	/// Vesting funds may pay fees and be held, not transferred.
	pub UnvestedFundsAllowedWithdrawReasons: WithdrawReasons =
		WithdrawReasons::except(WithdrawReasons::TRANSFER | WithdrawReasons::RESERVE);
}

/// Block-based vesting of genesis allocations (the founders' 200 M GNK). Hosts' rewards
/// vest per epoch in `pallet-rewards` instead (`docs/rewards.md`).
impl pallet_vesting::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type BlockNumberToBalance = ConvertInto;
	type MinVestedTransfer = MinVestedTransfer;
	type WeightInfo = pallet_vesting::weights::SubstrateWeight<Runtime>;
	type UnvestedFundsAllowedWithdrawReasons = UnvestedFundsAllowedWithdrawReasons;
	type BlockNumberProvider = System;
	const MAX_VESTING_SCHEDULES: u32 = 28;
}

parameter_types! {
	/// Fee per byte of a transaction.
	pub const TransactionByteFee: Balance = 10 * MICRO_GNK;
}

/// Transaction fees and tips go to the community pool (nothing is burnt).
impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type OnChargeTransaction =
		pallet_transaction_payment::FungibleAdapter<Balances, ResolveTo<CommunityPool, Balances>>;
	type WeightToFee = WeightToFee;
	type LengthToFee = ConstantMultiplier<Balance, TransactionByteFee>;
	type FeeMultiplierUpdate = SlowAdjustingFeeUpdate<Self>;
	type OperationalFeeMultiplier = ConstU8<5>;
	type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}

// ---- Governance ----------------------------------------------------------------------------

/// Sudo: a key with root on the development and local test chains only.
impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}

// ---- Parachain plumbing -----------------------------------------------------------------

/// Aura consensus hook: at most `BLOCK_PROCESSING_VELOCITY` blocks per relay block and
/// `UNINCLUDED_SEGMENT_CAPACITY` blocks built ahead of inclusion.
pub type ConsensusHook = cumulus_pallet_aura_ext::FixedVelocityConsensusHook<
	Runtime,
	RELAY_CHAIN_SLOT_DURATION_MILLIS,
	BLOCK_PROCESSING_VELOCITY,
	UNINCLUDED_SEGMENT_CAPACITY,
>;

parameter_types! {
	pub const ReservedXcmpWeight: Weight = MAXIMUM_BLOCK_WEIGHT.saturating_div(4);
	pub const ReservedDmpWeight: Weight = MAXIMUM_BLOCK_WEIGHT.saturating_div(4);
	pub const RelayOrigin: AggregateMessageOrigin = AggregateMessageOrigin::Parent;
}

impl cumulus_pallet_parachain_system::Config for Runtime {
	type WeightInfo = cumulus_pallet_parachain_system::weights::SubstrateWeight<Runtime>;
	type RuntimeEvent = RuntimeEvent;
	type OnSystemEvent = ();
	type SelfParaId = parachain_info::Pallet<Runtime>;
	type OutboundXcmpMessageSource = XcmpQueue;
	type DmpQueue = frame_support::traits::EnqueueWithOrigin<MessageQueue, RelayOrigin>;
	type ReservedDmpWeight = ReservedDmpWeight;
	type XcmpMessageHandler = XcmpQueue;
	type ReservedXcmpWeight = ReservedXcmpWeight;
	type CheckAssociatedRelayNumber = RelayNumberMonotonicallyIncreases;
	type ConsensusHook = ConsensusHook;
	/// Build on the relay chain's tip.
	type RelayParentOffset = ConstU32<0>;
	/// V3 scheduling (scheduling signatures) is not enabled.
	type SchedulingSignatureVerifier = ();
}

impl parachain_info::Config for Runtime {}

impl cumulus_pallet_aura_ext::Config for Runtime {}

/// Maps a sibling parachain's id to its message-queue origin.
pub struct ParaIdToSibling;
impl Convert<ParaId, AggregateMessageOrigin> for ParaIdToSibling {
	fn convert(para_id: ParaId) -> AggregateMessageOrigin {
		AggregateMessageOrigin::Sibling(para_id)
	}
}

/// Forwards queue events and pause queries of sibling origins to `Inner`, which knows
/// sibling queues by `ParaId` (the XCMP queue); other origins are never paused.
pub struct NarrowOriginToSibling<Inner>(core::marker::PhantomData<Inner>);
impl<Inner: QueuePausedQuery<ParaId>> QueuePausedQuery<AggregateMessageOrigin>
	for NarrowOriginToSibling<Inner>
{
	fn is_paused(origin: &AggregateMessageOrigin) -> bool {
		match origin {
			AggregateMessageOrigin::Sibling(id) => Inner::is_paused(id),
			_ => false,
		}
	}
}
impl<Inner: OnQueueChanged<ParaId>> OnQueueChanged<AggregateMessageOrigin>
	for NarrowOriginToSibling<Inner>
{
	fn on_queue_changed(
		origin: AggregateMessageOrigin,
		footprint: frame_support::traits::QueueFootprint,
	) {
		if let AggregateMessageOrigin::Sibling(id) = origin {
			Inner::on_queue_changed(id, footprint)
		}
	}
}

parameter_types! {
	pub MessageQueueServiceWeight: Weight =
		Perbill::from_percent(35) * RuntimeBlockWeights::get().max_block;
}

impl pallet_message_queue::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_message_queue::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type MessageProcessor =
		pallet_message_queue::mock_helpers::NoopMessageProcessor<AggregateMessageOrigin>;
	#[cfg(not(feature = "runtime-benchmarks"))]
	type MessageProcessor = polkadot_sdk::staging_xcm_builder::ProcessXcmMessage<
		AggregateMessageOrigin,
		polkadot_sdk::staging_xcm_executor::XcmExecutor<xcm_config::XcmConfig>,
		RuntimeCall,
	>;
	type Size = u32;
	// The XCMP queue only handles the `Sibling(ParaId)` origin.
	type QueueChangeHandler = NarrowOriginToSibling<XcmpQueue>;
	type QueuePausedQuery = NarrowOriginToSibling<XcmpQueue>;
	type HeapSize = ConstU32<{ 103 * 1024 }>;
	type MaxStale = ConstU32<8>;
	type ServiceWeight = MessageQueueServiceWeight;
	type IdleMaxServiceWeight = MessageQueueServiceWeight;
}

impl cumulus_pallet_xcmp_queue::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type ChannelInfo = ParachainSystem;
	type VersionWrapper = crate::PolkadotXcm;
	// Messages from siblings are enqueued for later processing.
	type XcmpQueue = TransformOrigin<MessageQueue, AggregateMessageOrigin, ParaId, ParaIdToSibling>;
	type MaxInboundSuspended = ConstU32<1_000>;
	type MaxActiveOutboundChannels = ConstU32<128>;
	type MaxPageSize = ConstU32<{ 1 << 16 }>;
	/// Suspending and resuming XCM execution: governance, or root (the relay chain).
	type ControllerOrigin = GovernanceOrigin;
	type ControllerOriginConverter = XcmOriginToTransactDispatchOrigin;
	type WeightInfo = cumulus_pallet_xcmp_queue::weights::SubstrateWeight<Runtime>;
	type PriceForSiblingDelivery = NoPriceForMessageDelivery<ParaId>;
}

// ---- Collators -----------------------------------------------------------------------------

impl pallet_authorship::Config for Runtime {
	type FindAuthor = pallet_session::FindAccountFromAuthorIndex<Self, Aura>;
	type EventHandler = (CollatorSelection,);
}

parameter_types! {
	/// A session (collator set rotation) lasts six hours.
	pub const Period: u32 = 6 * HOURS;
	pub const Offset: u32 = 0;
	/// Collators' session keys need no deposit: only collator candidates (who bond) and
	/// invulnerables set keys.
	pub const SessionKeyDeposit: Balance = 0;
}

impl pallet_session::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorId = <Self as frame_system::Config>::AccountId;
	// Collators have no stash/controller split: the id is the account.
	type ValidatorIdOf = pallet_collator_selection::IdentityCollator;
	type ShouldEndSession = pallet_session::PeriodicSessions<Period, Offset>;
	type NextSessionRotation = pallet_session::PeriodicSessions<Period, Offset>;
	type SessionManager = CollatorSelection;
	type SessionHandler = <SessionKeys as sp_runtime::traits::OpaqueKeys>::KeyTypeIdProviders;
	type Keys = SessionKeys;
	type DisablingStrategy = ();
	type WeightInfo = pallet_session::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type KeyDeposit = SessionKeyDeposit;
}

impl pallet_aura::Config for Runtime {
	type AuthorityId = crate::AuraId;
	type DisabledValidators = ();
	type MaxAuthorities = ConstU32<100_000>;
	type AllowMultipleBlocksPerSlot = ConstBool<true>;
	type SlotDuration = ConstU64<SLOT_DURATION>;
}

parameter_types! {
	pub const PotId: PalletId = PalletId(*b"PotStake");
}

impl pallet_collator_selection::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	/// Governance (a passed proposal), or root (the relay chain's governance; sudo on the
	/// test chains) manages invulnerables and bonds.
	type UpdateOrigin = GovernanceOrigin;
	type PotId = PotId;
	type MaxCandidates = ConstU32<100>;
	type MinEligibleCollators = ConstU32<2>;
	type MaxInvulnerables = ConstU32<20>;
	// A multiple of the session length.
	type KickThreshold = Period;
	type ValidatorId = <Self as frame_system::Config>::AccountId;
	type ValidatorIdOf = pallet_collator_selection::IdentityCollator;
	type ValidatorRegistration = Session;
	type WeightInfo = pallet_collator_selection::weights::SubstrateWeight<Runtime>;
}

/// Block numbers are `u32` (checked at compile time: the omni-node relies on it).
const _: () = assert!(core::mem::size_of::<BlockNumber>() == 4);

// ---- Proof of Compute ----------------------------------------------------------------------

/// The model every host of the test chains serves: model `0`, registered at genesis.
pub const DEFAULT_MODEL: gonka_primitives::ModelId = 0;

parameter_types! {
	/// A host's registration deposit: it makes filling the host registry costly.
	pub const HostDeposit: Balance = 100 * GNK;
	/// No host holds more than 25% of the total consensus weight (`protocol.md`).
	pub const MaxWeightShare: Perbill = Perbill::from_percent(25);
	/// Duty transactions (PoC commitments and votes) come before ordinary transactions
	/// in the pool: a host that misses its phase loses its epoch's weight.
	pub const DutyPriority: polkadot_sdk::sp_runtime::transaction_validity::TransactionPriority =
		u64::MAX / 2;
	/// `on_initialize` spends at most 12% of a block's ref time and 15% of its proof size
	/// on PoC's spread work: the weight formation, building the validation rosters,
	/// pruning old epochs and generations of voting power (`runtime/tests/poc_block_budget.rs`
	/// checks the worst case, `MaxHosts × MaxModelsPerHost` commitments, against it; the
	/// largest whole step, the rewards scheduled for `MaxHosts` hosts, is 10.7%).
	pub PocHookBudget: Weight = Weight::from_parts(
		Perbill::from_percent(12).mul_floor(MAXIMUM_BLOCK_WEIGHT.ref_time()),
		Perbill::from_percent(15).mul_floor(MAXIMUM_BLOCK_WEIGHT.proof_size()),
	);
}

impl pallet_poc::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type HostDeposit = HostDeposit;
	/// Governance (a passed proposal), or root (sudo on development chains).
	type UpdateOrigin = GovernanceOrigin;
	type Models = crate::Models;
	/// The bounds the worker shares (`gonka_primitives::bounds`).
	type MaxHosts = gonka_primitives::bounds::MaxHosts;
	type MaxModelsPerHost = gonka_primitives::bounds::MaxModelsPerHost;
	type MaxEndpointLength = ConstU32<256>;
	type MaxCommitsPerModel = gonka_primitives::bounds::MaxCommitsPerModel;
	type MaxWeightShare = MaxWeightShare;
	type RosterChunk = ConstU32<64>;
	type RetentionEpochs = ConstU32<4>;
	/// Collateral limits the effective weights; each formation schedules its epoch's reward.
	type OnWeightsFormed = crate::Rewards;
	type DutyPriority = DutyPriority;
	type HookBudget = PocHookBudget;
	type WeightInfo = crate::weights::pallet_poc::WeightInfo<Runtime>;
}

// ---- Models and governance -------------------------------------------------------------------

/// Who governs: a passed proposal ([`pallet_models::EnsureComputeMajority`]), or root. Root
/// is the relay chain's governance (an XCM `Transact` from the relay chain with the
/// `Superuser` origin kind, [`xcm_config::XcmOriginToTransactDispatchOrigin`]) and, on the
/// test chains only, sudo. Every lever that would otherwise be root-only takes this origin,
/// and `pallet_models::Call::authorize_upgrade` gives governance the runtime upgrade.
pub type GovernanceOrigin =
	EitherOfDiverse<EnsureRoot<AccountId>, pallet_models::EnsureComputeMajority>;

/// The hosts' voting power as Proof of Compute formed it.
pub struct PocVotingPower;
impl pallet_models::VotingPowerSource<AccountId> for PocVotingPower {
	fn power(who: &AccountId) -> u128 {
		pallet_poc::Pallet::<Runtime>::voting_power(who)
	}

	fn take_snapshot() -> (pallet_models::PowerSnapshot, u128, u32) {
		pallet_poc::Pallet::<Runtime>::take_snapshot()
	}

	fn power_in(snapshot: &pallet_models::PowerSnapshot, who: &AccountId) -> u128 {
		pallet_poc::Pallet::<Runtime>::power_in(snapshot, who)
	}

	fn release_snapshot(snapshot: &pallet_models::PowerSnapshot) {
		pallet_poc::Pallet::<Runtime>::release_snapshot(snapshot)
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn set_powers(powers: &[(AccountId, u128)]) {
		pallet_poc::Pallet::<Runtime>::force_voting_power(powers);
	}
}

parameter_types! {
	/// A proposal's deposit: returned unless the proposal is vetoed.
	pub const ProposalDeposit: Balance = 100 * GNK;
	/// The community pool's id: its account is keyless, and only governance spends from it
	/// (`pallet-rewards` funds it).
	pub const CommunityPoolId: PalletId = PalletId(*b"gk/cmpol");
	pub CommunityPool: AccountId =
		polkadot_sdk::sp_runtime::traits::AccountIdConversion::into_account_truncating(&CommunityPoolId::get());
}

impl pallet_models::Config for Runtime {
	type RuntimeOrigin = RuntimeOrigin;
	type RuntimeCall = RuntimeCall;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type UpdateOrigin = GovernanceOrigin;
	type Power = PocVotingPower;
	type ProposalDeposit = ProposalDeposit;
	type CommunityPool = CommunityPool;
	type MaxModels = ConstU32<256>;
	type MaxPendingChanges = ConstU32<16>;
	type MaxNameLength = ConstU32<64>;
	type MaxLabelLength = ConstU32<32>;
	/// A model registration encodes to ~250 bytes. Runtime upgrades (megabytes) will need
	/// preimages; they are not proposable yet.
	type MaxCallLength = ConstU32<4_096>;
	type MaxProposals = ConstU32<32>;
	/// A passed proposal may be closed (enacted) for 48 hours after its end, then lapses.
	type ClosingPeriod = ConstU32<{ 48 * HOURS }>;
	/// Every host PoC allows.
	type MaxVoters = <Runtime as pallet_poc::Config>::MaxHosts;
	type WeightInfo = crate::weights::pallet_models::WeightInfo<Runtime>;
}

// ---- Inference -------------------------------------------------------------------------------

/// An approved model's inference terms, from the model registry.
pub struct RegistryTerms;
impl pallet_inference::InferenceModels for RegistryTerms {
	fn terms(model: gonka_primitives::ModelId) -> Option<pallet_inference::ModelTerms> {
		let info = pallet_models::Registry::<Runtime>::get(model)?;
		(info.status == pallet_models::ModelStatus::Approved).then_some(
			pallet_inference::ModelTerms {
				template_overhead: info.record.template_overhead,
				max_context: info.record.max_context,
				validation_threshold: info.record.validation_threshold,
				base_price: info.record.price,
			},
		)
	}
	fn end_tokens(
		model: gonka_primitives::ModelId,
	) -> Option<BoundedVec<u32, gonka_primitives::bounds::MaxEndTokens>> {
		let info = pallet_models::Registry::<Runtime>::get(model)?;
		(info.status == pallet_models::ModelStatus::Approved).then_some(info.record.end_tokens)
	}
}

/// The end tokens of the models this runtime registered before model records had them
/// (storage version 0 of `pallet-models`): the default model's; none for any other, whose
/// completions are then complete only at `max_tokens` until governance updates its record.
pub struct KnownEndTokens;
impl Convert<[u8; 32], BoundedVec<u32, gonka_primitives::bounds::MaxEndTokens>> for KnownEndTokens {
	fn convert(
		weights_digest: [u8; 32],
	) -> BoundedVec<u32, gonka_primitives::bounds::MaxEndTokens> {
		if weights_digest == crate::genesis_config_presets::SMOLLM2_DIGEST {
			BoundedVec::truncate_from(crate::genesis_config_presets::SMOLLM2_END_TOKENS.to_vec())
		} else {
			BoundedVec::new()
		}
	}
}

/// The executor draw's randomness: the parent block's hash under a subject. Known to
/// everyone from the parent block on, and to its author while it built it
/// (`docs/inference.md` says what that author could bias and why it gains little).
pub struct ParentHashRandomness;
impl polkadot_sdk::frame_support::traits::Randomness<Hash, BlockNumber> for ParentHashRandomness {
	fn random(subject: &[u8]) -> (Hash, BlockNumber) {
		let parent = System::parent_hash();
		let mixed = gonka_primitives::hash_concat(&[subject, parent.as_ref()]);
		(Hash::from(mixed), System::block_number().saturating_sub(1))
	}
}

parameter_types! {
	/// `on_initialize` spends at most 35% of a block's ref time and 40% of its proof size
	/// on inference timers (requests' executor draws, closing validation windows and
	/// votes, pruning, reassignments, expiries); later ones wait a block, and each queue
	/// keeps room for one timer of every queue after it. The calls that schedule timers
	/// pay for them in their own weight, so a block full of requests leaves no more timer
	/// work than this serves (tested in `runtime/tests/inference_throughput.rs`); normal
	/// transactions get what the hooks leave of the block. The proof share is the larger:
	/// a lifecycle's timers read more than its transactions (each timer reads its request
	/// again; the draw, the executor's ledger), 38% of a block full of reputed hosts'
	/// lifecycles.
	pub InferenceTimerBudget: Weight = Weight::from_parts(
		Perbill::from_percent(35).mul_floor(MAXIMUM_BLOCK_WEIGHT.ref_time()),
		Perbill::from_percent(40).mul_floor(MAXIMUM_BLOCK_WEIGHT.proof_size()),
	);
}

impl pallet_inference::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ModelTerms = RegistryTerms;
	type Randomness = ParentHashRandomness;
	/// An INVALID host's pending work, the fees of the timers requests cause and the fines
	/// of rejected reports go to the community pool.
	type ForfeitTo = CommunityPool;
	/// A timer's fee (paid from a request's timer deposit) is what its weight would cost
	/// as a transaction.
	type WeightToFee = WeightToFee;
	/// The bounds the worker shares (`gonka_primitives::bounds`): 8 KiB of prompt, 4,096
	/// tokens and 32 KiB of text out.
	type MaxPromptBytes = gonka_primitives::bounds::MaxPromptBytes;
	type MaxOutputTokens = gonka_primitives::bounds::MaxOutputTokens;
	type MaxOutputBytes = gonka_primitives::bounds::MaxOutputBytes;
	type TimerBudget = InferenceTimerBudget;
	type PruneBatch = ConstU32<256>;
	/// About three blocks of draws at the timer budget (`docs/benchmarks.md`).
	type MaxPendingDraws = ConstU32<1_000>;
	type MaxSettlementsPerBlock = ConstU32<64>;
	/// An epoch's ledger is kept through the two epochs after it (rewards settle it).
	type LedgerEpochs = ConstU32<2>;
	/// About one validator is sampled per request (`target` ≤ 1): more than eight passing
	/// reports on one request is a one-in-a-million event (Poisson(1)).
	type MaxPaidValidators = ConstU32<8>;
	/// An epoch's ledger waits while pallet-rewards distributes the epoch's reward, and
	/// while a channel settlement's record or dispute of the epoch is open (its outcome
	/// moves the epoch's pending work).
	type SettlementHold =
		(pallet_rewards::DistributionPending<Runtime>, pallet_channels::EpochsInUse<Runtime>);
	type WeightInfo = crate::weights::pallet_inference::WeightInfo<Runtime>;
}

// ---- Inference channels ----------------------------------------------------------------------

/// A channel's price and template overhead: `pallet-inference`'s price in the block that
/// opens it, and the model record's overhead (approved models only).
pub struct InferencePricing;
impl pallet_channels::ChannelPricing for InferencePricing {
	fn price(model: gonka_primitives::ModelId) -> Option<u128> {
		pallet_inference::Pallet::<Runtime>::price_now(model)
	}
	fn template_overhead(model: gonka_primitives::ModelId) -> Option<u32> {
		use pallet_inference::InferenceModels;
		RegistryTerms::terms(model).map(|terms| terms.template_overhead)
	}
	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_model() -> gonka_primitives::ModelId {
		use pallet_poc::ModelRegistry;
		<Runtime as pallet_poc::Config>::Models::approve_for_benchmark(1);
		1
	}
}

parameter_types! {
	/// Opening a channel costs a thousand tokens at the default model's base price, ten
	/// times the simplest transaction's fee: what a developer pays for each committee draw
	/// it tries (`docs/channels.md`).
	pub const ChannelOpenFee: Balance = MILLI_GNK;
	/// A settlement's fee, taken from its pay: what its weight with the most tail claims
	/// (its dispatch and its authorize rule) would cost as a transaction.
	pub ChannelSettleFee: Balance = {
		use pallet_channels::WeightInfo as _;
		use polkadot_sdk::frame_support::weights::WeightToFee as _;
		type Weights = crate::weights::pallet_channels::WeightInfo<Runtime>;
		let tail = gonka_primitives::channel::MAX_TAIL;
		WeightToFee::weight_to_fee(&Weights::settle(tail).saturating_add(Weights::authorize_settle(tail)))
	};
}

parameter_types! {
	/// What a sample's verdict costs the chain: a verdict's share of the weight of a full
	/// batch (its dispatch and its authorize rule, of first or of second answers, the
	/// heavier) as a transaction's fee. A settlement's validators' share must pay it for
	/// each of its answers, its second answers included.
	pub ChannelSampleFee: Balance = {
		use pallet_channels::WeightInfo as _;
		use polkadot_sdk::frame_support::weights::WeightToFee as _;
		type Weights = crate::weights::pallet_channels::WeightInfo<Runtime>;
		let (most, seconds) = (
			gonka_primitives::channel::MAX_VERDICTS,
			gonka_primitives::channel::MAX_SECOND_VERDICTS,
		);
		let batch = Weights::submit_verdicts(most).saturating_add(Weights::authorize_verdicts(most));
		let second = Weights::submit_second_verdicts(seconds)
			.saturating_add(Weights::authorize_second_verdicts(seconds));
		(WeightToFee::weight_to_fee(&batch) / Balance::from(most))
			.max(WeightToFee::weight_to_fee(&second) / Balance::from(seconds))
	};
}

parameter_types! {
	/// What a developer's challenge costs the chain beyond the receipt's cost it also holds:
	/// the weight of a jury (the challenge, `JURY_SIZE` votes with their authorize rules,
	/// the dispute's end) as a transaction's fee. Returned if the jury invalidates the
	/// receipt.
	pub ChannelChallengeFee: Balance = {
		use pallet_channels::WeightInfo as _;
		use polkadot_sdk::frame_support::weights::WeightToFee as _;
		type Weights = crate::weights::pallet_channels::WeightInfo<Runtime>;
		let votes = Weights::vote_receipt()
			.saturating_add(Weights::authorize_vote())
			.saturating_mul(u64::from(gonka_primitives::channel::JURY_SIZE));
		let jury = Weights::challenge_receipt()
			.saturating_add(votes)
			.saturating_add(Weights::end_challenge());
		WeightToFee::weight_to_fee(&jury)
	};
}

impl pallet_channels::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Pricing = InferencePricing;
	/// The parent block's hash, as the on-chain executor draw (issue 24 brings the relay
	/// chain's randomness).
	type Randomness = ParentHashRandomness;
	type FeeTo = CommunityPool;
	type OpenFee = ChannelOpenFee;
	type SettleFee = ChannelSettleFee;
	/// One hour (`channels.md`).
	type MaxChannelBlocks = ConstU32<HOURS>;
	/// Half an hour to settle after a channel's end.
	type SettleWindow = ConstU32<{ HOURS / 2 }>;
	/// A block's committee draws and finalizations at their worst case fit in a tenth of
	/// it (`runtime/tests/channels_block_budget.rs`): 16 channels, 128 slots (16 of the
	/// default 8 slots, 2 of the largest 64).
	type MaxOpensPerBlock = ConstU32<16>;
	type MaxDrawSlotsPerBlock = ConstU32<128>;
	/// Settlements pay into `pallet-inference`'s ledger of pending work, which also gives
	/// the validators' share, the validation target and the invalidation test.
	type Work = crate::Inference;
	/// The spec's `L`: 50 blocks. A settlement's samples are answered in the period after
	/// its own (between 50 and 100 blocks after it), its validators' misses shown in the
	/// period after that, far below `BlockHashCount` (4,096); a period's marks are cleared
	/// 64 a block (3,200 a period, above the 2,048 hosts at most).
	type VerdictPeriod = ConstU32<50>;
	/// Enough to keep up with the settlements of the throughput goal (2,770 inferences a
	/// second at 100 receipts a settlement: 167 settlements a block), within a quarter of a
	/// block with the rest of the hook (`runtime/tests/channels_block_budget.rs`).
	type MaxClosesPerBlock = ConstU32<192>;
	type SampleFee = ChannelSampleFee;
	/// A dispute's jury votes for 50 blocks (5 minutes) after its report.
	type JuryWindow = ConstU32<50>;
	/// 8 disputes a block, about 192 jury votes; failures are rare (an honest executor's
	/// fail rate is the SPRT's 5% of its few samples at most).
	type MaxDisputesPerBlock = ConstU32<8>;
	/// An unavailable payload's jury votes for 200 blocks (20 minutes): an executor offline
	/// for a while still serves it, or shows the reporter's delivery acknowledgement.
	type UnavailableWindow = ConstU32<200>;
	type ChallengeFee = ChannelChallengeFee;
	/// 8 reports of validators that answered nothing a block, 400 a period: a full report
	/// shows a validator's 64 samples at once, and few of the 2,048 hosts at most are
	/// offline in a period (a report of fewer samples is topped up by a later one).
	type MaxMissReportsPerBlock = ConstU32<8>;
	type WeightInfo = crate::weights::pallet_channels::WeightInfo<Runtime>;
}

// ---- Rewards -------------------------------------------------------------------------------

impl pallet_rewards::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type CommunityPool = CommunityPool;
	/// Only a passed compute-weighted proposal spends the pool (not sudo).
	type PoolOrigin = pallet_models::EnsureComputeMajority;
	/// Gonka's 180 epochs of vesting.
	type MaxVestingEpochs = ConstU32<180>;
	/// 1,000 hosts are decided in 16 blocks.
	type MaxPayoutsPerBlock = ConstU32<64>;
	type WeightInfo = crate::weights::pallet_rewards::WeightInfo<Runtime>;
}
