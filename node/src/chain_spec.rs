//! The chains `gonka-node` knows by name, and loading of chain spec files.
//!
//! Named chains are built from the genesis presets of the runtime embedded in this binary,
//! so `gonka-node --dev` always runs the runtime it was built with. The committed files in
//! `chain-specs/` are exported from these same definitions (`scripts/chain-specs.sh`) and a
//! test fails when they drift.

use gonka_primitives::issuance::FOUNDERS;
use gonka_runtime::genesis_config_presets::{get_preset, PRODUCTION_RUNTIME_PRESET};
use polkadot_sdk::{
	polkadot_omni_node_lib::chain_spec::{ChainSpec, Extensions, GenericChainSpec, LoadSpec},
	sc_chain_spec::{ChainSpecBuilder, ChainType},
	sp_genesis_builder::{PresetId, DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET},
	sp_maybe_compressed_blob::{compress_weakly, CODE_BLOB_BOMB_LIMIT},
};
use std::path::Path;

/// The relay chain the test chains are meant for (zombienet's `rococo-local`).
pub const RELAY_CHAIN: &str = "rococo-local";

/// The relay chain of the production chain.
pub const PRODUCTION_RELAY_CHAIN: &str = "polkadot";

/// Loads the named chains, or a chain spec file from a path.
pub struct GonkaChainSpecLoader;

impl LoadSpec for GonkaChainSpecLoader {
	fn load_spec(&self, id: &str) -> Result<Box<dyn ChainSpec>, String> {
		if let Some(path) = id.strip_prefix(LAUNCH_PREFIX) {
			let path = Path::new(path);
			return Ok(Box::new(
				launch_chain_spec(path)
					.map_err(|e| format!("launch file `{}`: {e}", path.display()))?,
			));
		}
		Ok(Box::new(match id {
			// `--dev` without `--chain` asks for "dev".
			"" | "dev" | DEV_RUNTIME_PRESET => development_chain_spec()?,
			"local" | LOCAL_TESTNET_RUNTIME_PRESET => local_testnet_chain_spec()?,
			PRODUCTION_RUNTIME_PRESET => production_chain_spec()?,
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
	Ok(builder(RELAY_CHAIN)?
		.with_name("Gonka Development")
		.with_id("gonka_dev")
		.with_chain_type(ChainType::Development)
		.with_genesis_config_preset_name(DEV_RUNTIME_PRESET)
		.build())
}

/// The `local_testnet` chain: a relay-backed test network of Alice and Bob collators.
pub fn local_testnet_chain_spec() -> Result<GenericChainSpec, String> {
	Ok(builder(RELAY_CHAIN)?
		.with_name("Gonka Local Testnet")
		.with_id("gonka_local_testnet")
		.with_chain_type(ChainType::Local)
		.with_protocol_id("gonka-local")
		.with_genesis_config_preset_name(LOCAL_TESTNET_RUNTIME_PRESET)
		.build())
}

/// The `production` chain: the launch template (the live network's rules, the community
/// pool, no sudo, no participants yet) for Polkadot. `--chain launch:<file>` adds the
/// launch ceremony's collators, genesis hosts and founders (docs/launch.md).
pub fn production_chain_spec() -> Result<GenericChainSpec, String> {
	Ok(production_builder()?.with_genesis_config_preset_name(PRODUCTION_RUNTIME_PRESET).build())
}

/// A chain's builder with what every named chain shares: the embedded runtime, the para id
/// on `relay_chain`, the token's properties.
fn builder(relay_chain: &str) -> Result<ChainSpecBuilder<Extensions>, String> {
	Ok(GenericChainSpec::builder(
		&runtime_code()?,
		Extensions::new(relay_chain.into(), gonka_runtime::PARACHAIN_ID),
	)
	.with_properties(properties()))
}

/// The production chain's name, ids and relay chain.
fn production_builder() -> Result<ChainSpecBuilder<Extensions>, String> {
	Ok(builder(PRODUCTION_RELAY_CHAIN)?
		.with_name("Gonka")
		.with_id("gonka")
		.with_chain_type(ChainType::Live)
		.with_protocol_id("gonka"))
}

/// `--chain launch:<file>`: the production template with a launch ceremony's patch.
pub const LAUNCH_PREFIX: &str = "launch:";

/// The only fields a launch patch may set (pallet, field): the chain's first participants.
/// Every rule comes from the runtime's `production` preset.
pub const LAUNCH_FIELDS: &[(&str, &str)] = &[
	("balances", "balances"),
	("vesting", "vesting"),
	("collatorSelection", "invulnerables"),
	("session", "keys"),
	("poc", "hosts"),
	("models", "models"),
];

/// The production chain launched with the participants in the patch at `path`: its
/// arrays are appended to the template's (the balances after the community pool's).
pub fn launch_chain_spec(path: &Path) -> Result<GenericChainSpec, String> {
	let text = std::fs::read_to_string(path).map_err(|e| format!("cannot be read: {e}"))?;
	let launch: serde_json::Value =
		serde_json::from_str(&text).map_err(|e| format!("is not JSON: {e}"))?;
	let template = get_preset(&PresetId::from(PRODUCTION_RUNTIME_PRESET))
		.ok_or("the runtime has no production preset")?;
	let mut genesis: serde_json::Value =
		serde_json::from_slice(&template).map_err(|e| format!("the production preset: {e}"))?;
	apply_launch(&mut genesis, &launch)?;
	Ok(production_builder()?.with_genesis_config_patch(genesis).build())
}

/// Appends the launch's participants to the template `genesis`, after checking that the
/// launch sets nothing else, shares out exactly the founders' allocation and gives every
/// collator its session keys.
pub fn apply_launch(
	genesis: &mut serde_json::Value,
	launch: &serde_json::Value,
) -> Result<(), String> {
	let allowed =
		|| LAUNCH_FIELDS.iter().map(|(p, f)| format!("`{p}.{f}`")).collect::<Vec<_>>().join(", ");
	let launch = launch.as_object().ok_or("a launch patch is a JSON object")?;
	for (pallet, fields) in launch {
		let fields = fields
			.as_object()
			.ok_or_else(|| format!("`{pallet}` is not an object of participant lists"))?;
		for (field, items) in fields {
			if !LAUNCH_FIELDS.contains(&(pallet.as_str(), field.as_str())) {
				return Err(format!(
					"`{pallet}.{field}` is not the launch's to set: the rules are the runtime's \
					 `production` preset; a launch sets only {}",
					allowed()
				));
			}
			let items =
				items.as_array().ok_or_else(|| format!("`{pallet}.{field}` is not an array"))?;
			let slot = genesis
				.as_object_mut()
				.ok_or("the production preset is not an object")?
				.entry(pallet.clone())
				.or_insert_with(|| serde_json::json!({}))
				.as_object_mut()
				.ok_or_else(|| format!("the production preset's `{pallet}` is not an object"))?
				.entry(field.clone())
				.or_insert_with(|| serde_json::json!([]));
			slot.as_array_mut()
				.ok_or_else(|| format!("the production preset's `{pallet}.{field}` is not a list"))?
				.extend(items.iter().cloned());
		}
	}

	// The launch's balances are the founders' allocation, to the nGNK.
	let mut shared: u128 = 0;
	let balances = launch.get("balances").and_then(|b| b.get("balances"));
	for entry in balances.and_then(|b| b.as_array()).into_iter().flatten() {
		let amount = entry
			.get(1)
			.and_then(serde_json::Value::as_u64)
			.ok_or_else(|| format!("balance {entry} is not [account, whole nGNK]"))?;
		shared = shared.saturating_add(u128::from(amount));
	}
	if shared != FOUNDERS {
		return Err(format!(
			"the launch's balances share out {shared} nGNK; they must be exactly the founders' \
			 allocation, {FOUNDERS} nGNK (200,000,000 GNK)"
		));
	}

	// A collator without session keys would never author.
	let keyed: Vec<&serde_json::Value> = launch
		.get("session")
		.and_then(|s| s.get("keys"))
		.and_then(|k| k.as_array())
		.into_iter()
		.flatten()
		.filter_map(|entry| entry.get(0))
		.collect();
	let collators = launch
		.get("collatorSelection")
		.and_then(|c| c.get("invulnerables"))
		.and_then(|i| i.as_array())
		.filter(|collators| !collators.is_empty())
		.ok_or("the launch has no collators (`collatorSelection.invulnerables`)")?;
	for collator in collators {
		if !keyed.contains(&collator) {
			return Err(format!("collator {collator} has no session keys (`session.keys`)"));
		}
	}
	Ok(())
}

/// Reads a chain spec file; every error names the file.
fn chain_spec_from_file(path: &Path) -> Result<GenericChainSpec, String> {
	if !path.is_file() {
		return Err(format!(
			"chain spec file `{}` does not exist (named chains: `dev`/`{DEV_RUNTIME_PRESET}`, \
			 `local`/`{LOCAL_TESTNET_RUNTIME_PRESET}`, `{PRODUCTION_RUNTIME_PRESET}`, \
			 `{LAUNCH_PREFIX}<launch patch>`)",
			path.display()
		));
	}
	GenericChainSpec::from_json_file(path.to_path_buf())
		.map_err(|e| format!("chain spec file `{}` is not a valid chain spec: {e}", path.display()))
}
