//! # Gonka runtime
//!
//! The Cumulus parachain runtime of Gonka on Polkadot: a decentralized AI-inference network
//! whose hosts earn GNK for model computation that other hosts check.
//!
//! This crate composes the chain from FRAME pallets. Its layout:
//! - [`configs`]: the `Config` of every pallet, one place per concern (system, money,
//!   collators, XCM);
//! - [`genesis_config_presets`]: the `development`, `local_testnet` and `production`
//!   genesis presets;
//! - `apis`: the runtime APIs the collator and clients call (`state_call`);
//! - [`weights`]: the weights of our own pallets, generated from their benchmarks.
//!
//! Block numbers are `u32` and consensus is Aura with sr25519 keys, the conventions
//! `polkadot-omni-node-lib` (and so `gonka-node`) runs.

#![cfg_attr(not(feature = "std"), no_std)]
// `construct_runtime!`/`#[frame_support::runtime]` does a lot of recursion.
#![recursion_limit = "256"]

// The wasm blob built by `build.rs` (`WASM_BINARY` is `None` under `SKIP_WASM_BUILD`).
#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

extern crate alloc;

// Defines `list_benchmarks!`/`add_benchmarks!`, used by the `Benchmark` API in `apis`.
#[cfg(feature = "runtime-benchmarks")]
#[macro_use]
mod benchmarks;
mod apis;
pub mod configs;
pub mod genesis_config_presets;
pub mod weights;

use alloc::vec::Vec;
use polkadot_sdk::{
	frame_support::weights::{
		constants::WEIGHT_REF_TIME_PER_SECOND, Weight, WeightToFeeCoefficient,
		WeightToFeeCoefficients, WeightToFeePolynomial,
	},
	sp_runtime::{
		generic, impl_opaque_keys,
		traits::{BlakeTwo256, IdentifyAccount, Verify},
		MultiAddress, MultiSignature, Perbill,
	},
	*,
};
use smallvec::smallvec;
use sp_version::RuntimeVersion;

pub use polkadot_sdk::sp_consensus_aura::sr25519::AuthorityId as AuraId;

/// An index to a block. `u32`, as `polkadot-omni-node-lib` expects by default.
pub type BlockNumber = u32;

/// Alias to 512-bit hash when used in the context of a transaction signature on the chain.
pub type Signature = MultiSignature;

/// An account on the chain: the public key of its signer (sr25519, ed25519 or ecdsa).
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;

/// Balance of an account, in base units of GNK (10^-9 GNK).
pub type Balance = u128;

/// Index of a transaction in the chain.
pub type Nonce = u32;

/// A hash of some data used by the chain.
pub type Hash = polkadot_sdk::sp_core::H256;

/// The address format for describing accounts.
pub type Address = MultiAddress<AccountId, ()>;

/// Block header type as expected by this runtime.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;

/// Block type as expected by this runtime.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;

/// A block with its justifications.
pub type SignedBlock = generic::SignedBlock<Block>;

/// BlockId type as expected by this runtime.
pub type BlockId = generic::BlockId<Block>;

/// The transaction extensions, in order. `AuthorizeCall` comes first: it lets calls with a
/// `#[pallet::authorize]` rule (the workers' duty transactions) be valid without a
/// transaction signer, checked by their own signed payload. The whole tuple is wrapped in
/// `StorageWeightReclaim`, which refunds unused proof size after dispatch.
#[docify::export(template_signed_extra)]
pub type TxExtension = cumulus_pallet_weight_reclaim::StorageWeightReclaim<
	Runtime,
	(
		frame_system::AuthorizeCall<Runtime>,
		frame_system::CheckNonZeroSender<Runtime>,
		frame_system::CheckSpecVersion<Runtime>,
		frame_system::CheckTxVersion<Runtime>,
		frame_system::CheckGenesis<Runtime>,
		frame_system::CheckEra<Runtime>,
		frame_system::CheckNonce<Runtime>,
		frame_system::CheckWeight<Runtime>,
		pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	),
>;

/// Unchecked extrinsic type as expected by this runtime.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;

/// Migrations to apply on runtime upgrade, in order; each runs once, gated by its pallet's
/// storage version (a chain started from this runtime's genesis is at the newest already).
pub type Migrations = (
	// spec_version 2: model records gained their end tokens.
	pallet_models::migrations::v1::MigrateV0ToV1<Runtime, configs::KnownEndTokens>,
	// spec_version 8: commitments keyed by model, the epoch's work spread over blocks.
	pallet_poc::migrations::v1::MigrateV0ToV1<Runtime>,
	// spec_version 9: the weight formation spread over blocks.
	pallet_poc::migrations::v2::MigrateV1ToV2<Runtime>,
	// spec_version 10: each executor roster keeps the epoch that formed it.
	pallet_poc::migrations::v3::MigrateV2ToV3<Runtime>,
	// spec_version 14: channel settlements keep their developer, pay and tail digest.
	// spec_version 15: channel members waive ended channels (early finalization).
	pallet_channels::migrations::v1::MigrateV0ToV1<Runtime>,
	// spec_version 16: unavailable payloads' disputes end by a cursor of their own;
	// developers challenge receipts.
	pallet_channels::migrations::v2::MigrateV1ToV2<Runtime>,
	// spec_version 17: closed settlements kept a period to show validators' misses.
	// spec_version 18 (no storage change): verdicts, failure reports and jury votes
	// carry an anchor that binds them to their fork (transaction_version 4).
	// spec_version 19 (a new storage item, nothing to migrate): channel settlements
	// charge the tail fee (`TailFees`).
	// spec_version 20 (new storage items, nothing to migrate): second validators
	// (`FailedSamples`, `SecondRounds`); a settlement with failures reported before it
	// gets no second round (which of its samples are disputed is not known).
	// spec_version 21 (new storage items, nothing to migrate): a pass a mismatch's
	// invalidation contradicts forfeits its validator's pay for the period (`PeriodPays`,
	// `Contradictions`, the `show_pass` call at a new index: transaction_version 4 still).
	pallet_channels::migrations::v3::MigrateV2ToV3<Runtime>,
	// spec_version 22: an unavailable payload's report whose jury finds the payload served
	// pays back its answer's pay, no more (no fine of the cost, no miss).
	pallet_channels::migrations::v4::MigrateV3ToV4<Runtime>,
	// spec_version 23 (no storage change): a settlement whose validators' share does not
	// pay every sample at its executor's target is sampled by the lottery its share pays
	// for (its recorded target), no longer refused.
	// spec_version 24: a developer's challenge votes for the long window and ends from its
	// queue.
	pallet_channels::migrations::v5::MigrateV4ToV5<Runtime>,
);

/// Executive: handles dispatch to the various pallets.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

/// Converts a weight to a fee: one unit of `ExtrinsicBaseWeight` (the cost of the simplest
/// transaction) costs `MILLI_GNK / 10`.
pub struct WeightToFee;
impl WeightToFeePolynomial for WeightToFee {
	type Balance = Balance;
	fn polynomial() -> WeightToFeeCoefficients<Self::Balance> {
		let p = MILLI_GNK / 10;
		let q = Balance::from(configs::ExtrinsicBaseWeight::get().ref_time());
		smallvec![WeightToFeeCoefficient {
			degree: 1,
			negative: false,
			coeff_frac: Perbill::from_rational(p % q, q),
			coeff_integer: p / q,
		}]
	}
}

/// Opaque types, for the CLI and clients that know the block format but not the calls.
pub mod opaque {
	use super::*;
	use polkadot_sdk::sp_runtime::generic;
	pub use polkadot_sdk::sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Opaque block header type.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Opaque block type.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// Opaque block identifier type.
	pub type BlockId = generic::BlockId<Block>;
	/// Opaque block hash type.
	pub type Hash = <BlakeTwo256 as polkadot_sdk::sp_runtime::traits::Hash>::Output;
}

impl_opaque_keys! {
	/// The session keys of a collator: its Aura key.
	pub struct SessionKeys {
		pub aura: Aura,
	}
}

/// The runtime's version: bump `spec_version` on every change to runtime logic and
/// `transaction_version` when calls or extensions change their encoding.
#[cfg(not(feature = "next-version"))]
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("gonka"),
	impl_name: alloc::borrow::Cow::Borrowed("gonka"),
	authoring_version: 1,
	spec_version: 24,
	impl_version: 0,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 4,
	system_version: 1,
};

// `next-version` belongs in `gonka-runtime-next`'s wasm build only (which builds this crate
// without `std`): a native build with it would also put it into this crate's own wasm, the
// one the node and the chain specs embed.
#[cfg(all(feature = "std", feature = "next-version"))]
compile_error!("`next-version` is for gonka-runtime-next's wasm build only");

/// The same runtime one `spec_version` later (the `next-version` feature, which only
/// `gonka-runtime-next`'s wasm build enables): the runtime the upgrade tests enact. The
/// version attribute reads literals only, hence the second definition; the upgrade test
/// checks that it is exactly one above [`VERSION`].
#[cfg(feature = "next-version")]
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("gonka"),
	impl_name: alloc::borrow::Cow::Borrowed("gonka"),
	authoring_version: 1,
	spec_version: 25,
	impl_version: 0,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 4,
	system_version: 1,
};

/// The token's symbol, shown by wallets.
pub const TOKEN_SYMBOL: &str = "GNK";
/// Decimal places of GNK: 1 GNK = 10^9 base units.
pub const TOKEN_DECIMALS: u32 = 9;
/// SS58 address prefix (the generic Substrate prefix until one is registered).
pub const SS58_PREFIX: u16 = 42;
/// The parachain id of the `development` and `local_testnet` chains.
pub const PARACHAIN_ID: u32 = 2000;

/// One GNK in base units.
pub const GNK: Balance = 1_000_000_000;
/// 10^-3 GNK.
pub const MILLI_GNK: Balance = 1_000_000;
/// 10^-6 GNK.
pub const MICRO_GNK: Balance = 1_000;

/// The smallest balance an account may hold; below it the account is reaped.
pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_GNK;

/// Parachain block time: one block per relay chain slot (async backing allows building
/// ahead; see `UNINCLUDED_SEGMENT_CAPACITY`).
#[docify::export]
pub const MILLI_SECS_PER_BLOCK: u64 = 6000;
/// Aura slot duration: equal to the block time.
pub const SLOT_DURATION: u64 = MILLI_SECS_PER_BLOCK;

/// Time measured in blocks.
pub const MINUTES: BlockNumber = 60_000 / (MILLI_SECS_PER_BLOCK as BlockNumber);
/// One hour in blocks.
pub const HOURS: BlockNumber = MINUTES * 60;
/// One day in blocks.
pub const DAYS: BlockNumber = HOURS * 24;

/// Share of a block's weight the `on_initialize` hooks may use.
pub const AVERAGE_ON_INITIALIZE_RATIO: Perbill = Perbill::from_percent(5);
/// Share of a block's weight normal (non-operational) transactions may fill.
pub const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);
/// Compute and proof size a block may use: 2 s of compute (async backing) and the relay
/// chain's maximum proof size.
pub const MAXIMUM_BLOCK_WEIGHT: Weight = Weight::from_parts(
	WEIGHT_REF_TIME_PER_SECOND.saturating_mul(2),
	cumulus_primitives_core::relay_chain::MAX_POV_SIZE as u64,
);

/// How many parachain blocks the relay chain may include per relay block.
pub const BLOCK_PROCESSING_VELOCITY: u32 = 1;
/// How many blocks may be built ahead of inclusion in the relay chain.
pub const UNINCLUDED_SEGMENT_CAPACITY: u32 = 3;
/// The relay chain's slot duration.
pub const RELAY_CHAIN_SLOT_DURATION_MILLIS: u32 = 6000;

// The pallets of the runtime, with their indices (stable: the indices are part of every
// call's encoding).
#[frame_support::runtime]
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
	pub struct Runtime;

	// System support.
	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type ParachainSystem = cumulus_pallet_parachain_system;
	#[runtime::pallet_index(2)]
	pub type Timestamp = pallet_timestamp;
	#[runtime::pallet_index(3)]
	pub type ParachainInfo = staging_parachain_info;
	#[runtime::pallet_index(4)]
	pub type WeightReclaim = cumulus_pallet_weight_reclaim;

	// Money.
	#[runtime::pallet_index(10)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(11)]
	pub type TransactionPayment = pallet_transaction_payment;
	#[runtime::pallet_index(12)]
	pub type Vesting = pallet_vesting;

	// Governance (dev chains only).
	#[runtime::pallet_index(15)]
	pub type Sudo = pallet_sudo;

	// Collators. The order matters: Authorship, then CollatorSelection before Session.
	#[runtime::pallet_index(20)]
	pub type Authorship = pallet_authorship;
	#[runtime::pallet_index(21)]
	pub type CollatorSelection = pallet_collator_selection;
	#[runtime::pallet_index(22)]
	pub type Session = pallet_session;
	#[runtime::pallet_index(23)]
	pub type Aura = pallet_aura;
	#[runtime::pallet_index(24)]
	pub type AuraExt = cumulus_pallet_aura_ext;

	// XCM.
	#[runtime::pallet_index(30)]
	pub type XcmpQueue = cumulus_pallet_xcmp_queue;
	#[runtime::pallet_index(31)]
	pub type PolkadotXcm = pallet_xcm;
	#[runtime::pallet_index(32)]
	pub type CumulusXcm = cumulus_pallet_xcm;
	#[runtime::pallet_index(33)]
	pub type MessageQueue = pallet_message_queue;

	// Utilities.
	#[runtime::pallet_index(40)]
	pub type Utility = pallet_utility;

	// Gonka.
	#[runtime::pallet_index(50)]
	pub type Poc = pallet_poc;
	#[runtime::pallet_index(51)]
	pub type Models = pallet_models;
	#[runtime::pallet_index(52)]
	pub type Inference = pallet_inference;
	#[runtime::pallet_index(53)]
	pub type Rewards = pallet_rewards;
	#[runtime::pallet_index(54)]
	pub type Channels = pallet_channels;
}

cumulus_pallet_parachain_system::register_validate_block! {
	Runtime = Runtime,
	BlockExecutor = cumulus_pallet_aura_ext::BlockExecutor::<Runtime, Executive>,
}
