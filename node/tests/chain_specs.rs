//! The committed chain specs in `chain-specs/` are exactly what the runtime in this tree
//! produces. When this fails, regenerate them with `scripts/chain-specs.sh`.
//!
//! The wasm is compared byte for byte, which holds for builds made through the scripts
//! (`scripts/test.sh`, `scripts/chain-specs.sh`): they build from one fixed path with
//! remapped source paths (docs/build.md). A plain `cargo test` from another directory
//! builds a wasm whose symbol hashes differ.

mod common;

use common::NODE_BIN;
use std::{path::PathBuf, process::Command};

/// Every named chain and its committed plain spec.
const CHAINS: &[(&str, &str)] = &[
	("development", "development.json"),
	("local_testnet", "local_testnet.json"),
	("production", "production.json"),
];

fn committed_spec(file: &str) -> PathBuf {
	PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../chain-specs").join(file)
}

fn export_spec(chain: &str) -> String {
	let dir = tempfile::tempdir().expect("temporary directory");
	let output = dir.path().join("spec.json");
	let status = Command::new(NODE_BIN)
		.args(["export-chain-spec", "--chain", chain, "--output"])
		.arg(&output)
		.status()
		.expect("gonka-node runs");
	assert!(status.success(), "export-chain-spec --chain {chain} failed: {status}");
	std::fs::read_to_string(&output).expect("the exported spec is readable")
}

#[test]
fn committed_chain_specs_match_the_runtime() {
	for (chain, file) in CHAINS {
		let path = committed_spec(file);
		let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
			panic!("{} is missing ({e}): run scripts/chain-specs.sh", path.display())
		});
		let exported = export_spec(chain);
		let committed_json: serde_json::Value =
			serde_json::from_str(&committed).expect("the committed spec is JSON");
		let exported_json: serde_json::Value =
			serde_json::from_str(&exported).expect("the exported spec is JSON");

		// Compare everything but the wasm first, for a readable message.
		let without_code = |spec: &serde_json::Value| {
			let mut spec = spec.clone();
			if let Some(code) = spec.pointer_mut("/genesis/runtimeGenesis/code") {
				*code = serde_json::Value::Null;
			}
			spec
		};
		assert_eq!(
			without_code(&committed_json),
			without_code(&exported_json),
			"{} drifted from the runtime's `{chain}` preset: run scripts/chain-specs.sh",
			path.display()
		);
		assert!(
			committed_json == exported_json,
			"{}: the runtime wasm changed since the spec was exported: run scripts/chain-specs.sh \
			 (and build through scripts/test.sh: docs/build.md, reproducible wasm)",
			path.display()
		);
	}
}

#[test]
fn committed_chain_specs_carry_gnk_token_properties() {
	for (chain, file) in CHAINS {
		let spec: serde_json::Value = serde_json::from_str(
			&std::fs::read_to_string(committed_spec(file)).expect("committed spec"),
		)
		.expect("JSON");
		assert_eq!(spec["properties"]["tokenSymbol"], "GNK", "{file}");
		assert_eq!(spec["properties"]["tokenDecimals"], 9, "{file}");
		assert_eq!(spec["para_id"], 2000, "{file}");
		let (relay, chain_type) = match *chain {
			"production" => ("polkadot", "Live"),
			"development" => ("rococo-local", "Development"),
			_ => ("rococo-local", "Local"),
		};
		assert_eq!(spec["relay_chain"], relay, "{file}");
		assert_eq!(spec["chainType"], chain_type, "{file}");
	}
}
