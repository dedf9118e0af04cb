//! Genesis presets: the starting state of each chain the runtime knows by name.
//!
//! - `development`: `gonka-node --dev`, one machine; Alice is sudo, Alice and Bob are the
//!   collators and the two PoC hosts, the well-known dev accounts are funded, and a PoC
//!   epoch lasts 16 blocks (48 s at the dev node's 3-second blocks).
//! - `local_testnet`: a relay-backed test network (zombienet) with the same accounts and
//!   hosts, and 100-block epochs (10 min at 6-second blocks).
//!
//! Both are test chains: sudo exists only here, never in a production preset.

use crate::{
	configs::DEFAULT_MODEL, AccountId, AuraId, Balance, BalancesConfig, BlockNumber,
	CollatorSelectionConfig, ParachainInfoConfig, PocConfig, PolkadotXcmConfig,
	RuntimeGenesisConfig, SessionConfig, SessionKeys, SudoConfig, EXISTENTIAL_DEPOSIT, GNK,
	PARACHAIN_ID,
};
use alloc::{vec, vec::Vec};
use pallet_poc::EpochParams;
use polkadot_sdk::{
	cumulus_primitives_core::ParaId,
	frame_support::build_struct_json_patch,
	sp_core::sr25519,
	sp_genesis_builder::{PresetId, DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET},
	sp_keyring::Sr25519Keyring,
	staging_xcm as xcm,
};

/// The XCM version the chain speaks to destinations whose version it has not yet learnt.
pub const SAFE_XCM_VERSION: u32 = xcm::prelude::XCM_VERSION;

/// What each well-known dev account holds at genesis on the test chains.
pub const DEV_ACCOUNT_BALANCE: Balance = 1_000_000 * GNK;

/// The bond a collator candidate (beyond the invulnerables) must put up.
pub const CANDIDACY_BOND: Balance = 16 * EXISTENTIAL_DEPOSIT;

/// PoC epochs of the development chain: 16 blocks (48 s at the dev node's 3-second blocks):
/// 4 of generation, 1 of delay, 4 of validation, 7 of inference.
pub const DEV_EPOCH: EpochParams<BlockNumber> =
	EpochParams { epoch_length: 16, poc_generation: 4, validation_delay: 1, poc_validation: 4 };

/// PoC epochs of the local test network: 100 blocks (10 min at 6-second blocks).
pub const LOCAL_TESTNET_EPOCH: EpochParams<BlockNumber> =
	EpochParams { epoch_length: 100, poc_generation: 10, validation_delay: 2, poc_validation: 10 };

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

/// The genesis state given its collators (account and Aura key), funded accounts, sudo
/// key, parachain id and PoC epochs and hosts.
fn testnet_genesis(
	invulnerables: Vec<(AccountId, AuraId)>,
	endowed_accounts: Vec<AccountId>,
	root: AccountId,
	id: ParaId,
	epoch_params: EpochParams<BlockNumber>,
	hosts: Vec<GenesisHost>,
) -> serde_json::Value {
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed_accounts
				.iter()
				.cloned()
				.map(|account| (account, DEV_ACCOUNT_BALANCE))
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
	testnet_genesis(
		dev_collators(),
		dev_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
		PARACHAIN_ID.into(),
		DEV_EPOCH,
		dev_hosts(),
	)
}

fn local_testnet_genesis() -> serde_json::Value {
	testnet_genesis(
		dev_collators(),
		dev_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
		PARACHAIN_ID.into(),
		LOCAL_TESTNET_EPOCH,
		dev_hosts(),
	)
}

/// The JSON patch of the preset `id`, if the runtime has one by that name.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		DEV_RUNTIME_PRESET => development_config_genesis(),
		LOCAL_TESTNET_RUNTIME_PRESET => local_testnet_genesis(),
		_ => return None,
	};
	serde_json::to_vec(&patch).ok()
}

/// The names of the presets.
pub fn preset_names() -> Vec<PresetId> {
	vec![PresetId::from(DEV_RUNTIME_PRESET), PresetId::from(LOCAL_TESTNET_RUNTIME_PRESET)]
}
