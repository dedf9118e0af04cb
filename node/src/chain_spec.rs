//! The chains `gonka-node` knows by name, and loading of chain spec files.
//!
//! Named chains are built from the genesis presets of the runtime embedded in this binary,
//! so `gonka-node --dev` always runs the runtime it was built with. The committed files in
//! `chain-specs/` are exported from these same definitions (`scripts/chain-specs.sh`) and a
//! test fails when they drift.

use polkadot_sdk::{
	polkadot_omni_node_lib::chain_spec::{ChainSpec, Extensions, GenericChainSpec, LoadSpec},
	sc_chain_spec::ChainType,
	sp_genesis_builder::{DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET},
	sp_maybe_compressed_blob::{compress_weakly, CODE_BLOB_BOMB_LIMIT},
};
use std::path::Path;

/// The relay chain the named chains are meant for (zombienet's `rococo-local`).
pub const RELAY_CHAIN: &str = "rococo-local";

/// Loads the named chains, or a chain spec file from a path.
pub struct GonkaChainSpecLoader;

impl LoadSpec for GonkaChainSpecLoader {
	fn load_spec(&self, id: &str) -> Result<Box<dyn ChainSpec>, String> {
		Ok(Box::new(match id {
			// `--dev` without `--chain` asks for "dev".
			"" | "dev" | DEV_RUNTIME_PRESET => development_chain_spec()?,
			"local" | LOCAL_TESTNET_RUNTIME_PRESET => local_testnet_chain_spec()?,
			path => chain_spec_from_file(Path::new(path))?,
		}))
	}
}

/// The runtime code of the named chains: the embedded wasm, zstd-compressed as on a live
/// chain. A dev-profile build embeds the uncompressed wasm (6 MB, 13 MB as hex in a chain
/// spec); compressed it is a quarter of that. A release build embeds an already compressed
/// blob, used as it is.
fn runtime_code() -> Result<Vec<u8>, String> {
	let wasm = gonka_runtime::WASM_BINARY.ok_or_else(|| {
		"this gonka-node was built with SKIP_WASM_BUILD and has no runtime wasm: rebuild it \
		 without SKIP_WASM_BUILD"
			.to_string()
	})?;
	if !wasm.starts_with(b"\0asm") {
		return Ok(wasm.to_vec());
	}
	compress_weakly(wasm, CODE_BLOB_BOMB_LIMIT).ok_or_else(|| {
		format!("the runtime wasm ({} bytes) is above the code size limit", wasm.len())
	})
}

/// Token properties shown by wallets and Polkadot.js Apps.
fn properties() -> polkadot_sdk::sc_chain_spec::Properties {
	let mut properties = polkadot_sdk::sc_chain_spec::Properties::new();
	properties.insert("tokenSymbol".into(), gonka_runtime::TOKEN_SYMBOL.into());
	properties.insert("tokenDecimals".into(), gonka_runtime::TOKEN_DECIMALS.into());
	properties.insert("ss58Format".into(), gonka_runtime::SS58_PREFIX.into());
	properties
}

/// The `development` chain: one machine, Alice and Bob collating, Alice as sudo.
pub fn development_chain_spec() -> Result<GenericChainSpec, String> {
	Ok(GenericChainSpec::builder(
		&runtime_code()?,
		Extensions::new(RELAY_CHAIN.into(), gonka_runtime::PARACHAIN_ID),
	)
	.with_name("Gonka Development")
	.with_id("gonka_dev")
	.with_chain_type(ChainType::Development)
	.with_genesis_config_preset_name(DEV_RUNTIME_PRESET)
	.with_properties(properties())
	.build())
}

/// The `local_testnet` chain: a relay-backed test network of Alice and Bob collators.
pub fn local_testnet_chain_spec() -> Result<GenericChainSpec, String> {
	Ok(GenericChainSpec::builder(
		&runtime_code()?,
		Extensions::new(RELAY_CHAIN.into(), gonka_runtime::PARACHAIN_ID),
	)
	.with_name("Gonka Local Testnet")
	.with_id("gonka_local_testnet")
	.with_chain_type(ChainType::Local)
	.with_protocol_id("gonka-local")
	.with_genesis_config_preset_name(LOCAL_TESTNET_RUNTIME_PRESET)
	.with_properties(properties())
	.build())
}

/// Reads a chain spec file; every error names the file.
fn chain_spec_from_file(path: &Path) -> Result<GenericChainSpec, String> {
	if !path.is_file() {
		return Err(format!(
			"chain spec file `{}` does not exist (named chains: `dev`/`{DEV_RUNTIME_PRESET}`, \
			 `local`/`{LOCAL_TESTNET_RUNTIME_PRESET}`)",
			path.display()
		));
	}
	GenericChainSpec::from_json_file(path.to_path_buf())
		.map_err(|e| format!("chain spec file `{}` is not a valid chain spec: {e}", path.display()))
}
