//! Genesis presets: the starting state of each chain the runtime knows by name.
//!
//! - `development`: `gonka-node --dev`, one machine; Alice is sudo, Alice and Bob are the
//!   collators, the well-known dev accounts are funded.
//! - `local_testnet`: a relay-backed test network (zombienet) with the same accounts.
//!
//! Both are test chains: sudo exists only here, never in a production preset.

use crate::{
	AccountId, AuraId, Balance, BalancesConfig, CollatorSelectionConfig, ParachainInfoConfig,
	PolkadotXcmConfig, RuntimeGenesisConfig, SessionConfig, SessionKeys, SudoConfig,
	EXISTENTIAL_DEPOSIT, GNK, PARACHAIN_ID,
};
use alloc::{vec, vec::Vec};
use polkadot_sdk::{
	cumulus_primitives_core::ParaId,
	frame_support::build_struct_json_patch,
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

/// The genesis state given its collators (account and Aura key), funded accounts, sudo
/// key and parachain id.
fn testnet_genesis(
	invulnerables: Vec<(AccountId, AuraId)>,
	endowed_accounts: Vec<AccountId>,
	root: AccountId,
	id: ParaId,
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
	)
}

fn local_testnet_genesis() -> serde_json::Value {
	testnet_genesis(
		dev_collators(),
		dev_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
		PARACHAIN_ID.into(),
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
