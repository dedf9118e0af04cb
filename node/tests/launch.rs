//! The production chain's launch: `--chain launch:<file>` adds a launch ceremony's
//! participants (collators, genesis hosts, the founders' allocation, launch models) to the
//! runtime's `production` template, refuses a launch that sets a rule, shares out anything
//! but exactly the founders' 200,000,000 GNK or leaves a collator without keys, and the
//! rehearsal launch (`chain-specs/launch-rehearsal.json`) runs with the live rules and no
//! sudo, and upgrades its runtime by a compute-weighted vote.

mod common;

use common::{DevNode, NODE_BIN};
use gonka_client::{
	runtime::{self, models::events as gov, runtime_types},
	AccountId32, ChainClient,
};
use gonka_primitives::issuance::{COMMUNITY_POOL, FOUNDERS, NGNK_PER_GNK};
use polkadot_sdk::sp_keyring::Sr25519Keyring;
use serde_json::{json, Value};
use std::{
	path::{Path, PathBuf},
	process::{Command, Output},
	time::Duration,
};
use subxt_signer::sr25519::dev;

fn spec_dir() -> PathBuf {
	PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../chain-specs")
}

fn rehearsal_path() -> PathBuf {
	spec_dir().join("launch-rehearsal.json")
}

fn rehearsal() -> Value {
	serde_json::from_str(&std::fs::read_to_string(rehearsal_path()).expect("the rehearsal"))
		.expect("the rehearsal is JSON")
}

fn node(args: &[&str]) -> Output {
	Command::new(NODE_BIN).args(args).output().expect("gonka-node runs")
}

/// `export-chain-spec --chain launch:<path>`: the spec, or the node's error output.
fn export_launch(path: &Path) -> Result<Value, String> {
	let dir = tempfile::tempdir().expect("temporary directory");
	let out = dir.path().join("spec.json");
	let chain = format!("launch:{}", path.display());
	let output = node(&["export-chain-spec", "--chain", &chain, "--output", out.to_str().unwrap()]);
	if !output.status.success() {
		return Err(String::from_utf8_lossy(&output.stderr).into_owned());
	}
	Ok(serde_json::from_str(&std::fs::read_to_string(out).expect("exported")).expect("JSON"))
}

fn ss58(key: Sr25519Keyring) -> String {
	key.to_account_id().to_string()
}

#[test]
fn a_launch_adds_its_participants_to_the_production_template() {
	let spec = export_launch(&rehearsal_path()).expect("the rehearsal launch exports");
	let template: Value = serde_json::from_str(
		&std::fs::read_to_string(spec_dir().join("production.json")).expect("production.json"),
	)
	.expect("JSON");
	for field in ["name", "id", "chainType", "protocolId", "properties", "relay_chain", "para_id"] {
		assert_eq!(spec[field], template[field], "{field}");
	}
	assert_eq!(spec["chainType"], "Live");
	let patch = &spec["genesis"]["runtimeGenesis"]["patch"];
	let base = &template["genesis"]["runtimeGenesis"]["patch"];
	let launch = rehearsal();
	// Every rule is the template's.
	for (pallet, field) in [
		("poc", "epochParams"),
		("models", "governance"),
		("rewards", "params"),
		("parachainInfo", "parachainId"),
		("collatorSelection", "candidacyBond"),
	] {
		assert_eq!(patch[pallet][field], base[pallet][field], "{pallet}.{field}");
	}
	assert!(patch["sudo"].get("key").is_none_or(Value::is_null), "no sudo key");
	// The pool first, then the launch's balances; the other lists are the launch's.
	let mut balances = base["balances"]["balances"].as_array().unwrap().clone();
	balances.extend(launch["balances"]["balances"].as_array().unwrap().iter().cloned());
	assert_eq!(patch["balances"]["balances"], Value::Array(balances));
	for (pallet, field) in [
		("vesting", "vesting"),
		("collatorSelection", "invulnerables"),
		("session", "keys"),
		("poc", "hosts"),
		("models", "models"),
	] {
		assert_eq!(patch[pallet][field], launch[pallet][field], "{pallet}.{field}");
	}
	// Its genesis builds: the raw spec of a launch is what collators start from.
	let chain = format!("launch:{}", rehearsal_path().display());
	let raw = node(&["build-spec", "--chain", &chain, "--raw"]);
	assert!(raw.status.success(), "{}", String::from_utf8_lossy(&raw.stderr));
	let raw: Value = serde_json::from_slice(&raw.stdout).expect("the raw spec is JSON");
	assert!(raw["genesis"]["raw"]["top"].as_object().is_some_and(|top| top.len() > 10));
}

#[test]
fn a_launch_that_sets_a_rule_misallocates_or_leaves_a_collator_without_keys_is_refused() {
	let dir = tempfile::tempdir().expect("temporary directory");
	let alice = ss58(Sr25519Keyring::Alice);
	let with = |edit: &dyn Fn(&mut Value)| {
		let mut launch = rehearsal();
		edit(&mut launch);
		launch.to_string()
	};
	let cases: Vec<(&str, String, &str)> = vec![
		(
			"a sudo key",
			with(&|l| l["sudo"] = json!({ "key": alice })),
			"`sudo.key` is not the launch's to set",
		),
		(
			"shorter epochs",
			with(&|l| l["poc"]["epochParams"] = json!({ "epochLength": 100 })),
			"`poc.epochParams` is not the launch's to set",
		),
		(
			"a different reward curve",
			with(&|l| l["rewards"] = json!({ "curve": [1, 1] })),
			"`rewards.curve` is not the launch's to set",
		),
		(
			"one nGNK more than the founders' allocation",
			with(&|l| {
				let amount = l["balances"]["balances"][0][1].as_u64().unwrap();
				l["balances"]["balances"][0][1] = json!(amount + 1);
			}),
			"they must be exactly the founders' allocation",
		),
		(
			"a fractional balance",
			with(&|l| l["balances"]["balances"][0][1] = json!(1.5)),
			"is not [account, whole nGNK]",
		),
		(
			"a collator without session keys",
			with(&|l| {
				let keys = l["session"]["keys"].as_array_mut().unwrap();
				keys.retain(|entry| entry[0] != json!(alice));
			}),
			"has no session keys",
		),
		(
			"no collators",
			with(&|l| l["collatorSelection"]["invulnerables"] = json!([])),
			"the launch has no collators",
		),
		("a list that is not a list", with(&|l| l["poc"]["hosts"] = json!({})), "is not an array"),
		("not JSON", "{ \"balances\": ".to_string(), "is not JSON"),
	];
	for (what, text, expected) in cases {
		let path = dir.path().join("launch.json");
		std::fs::write(&path, text).expect("written");
		let error = export_launch(&path).expect_err(what);
		assert!(error.contains(expected), "{what}: {error}");
		assert!(error.contains(&path.display().to_string()), "{what} names the file: {error}");
	}
	let missing = dir.path().join("no-such-launch.json");
	let error = export_launch(&missing).expect_err("a missing launch file");
	assert!(error.contains("cannot be read"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rehearsal_launch_runs_with_the_live_rules_and_no_sudo() {
	let base = tempfile::tempdir().expect("temporary base path");
	let chain = format!("launch:{}", rehearsal_path().display());
	let mut node = DevNode::start_chain(base.path(), "launch.log", &chain, 1000);
	let client = ChainClient::new(node.connect().await);
	common::wait_until(
		"the launched chain finalizes blocks",
		Duration::from_secs(180),
		Duration::from_millis(500),
		|| {
			let client = &client;
			async move { client.block_number().await.unwrap_or(0) >= 2 }
		},
		|| node.log_tail(),
	)
	.await;

	let at = client.api().at_current_block().await.expect("the finalized block");
	let sudo = at.storage().try_fetch(runtime::storage().sudo().key(), ()).await.expect("storage");
	assert!(sudo.is_none(), "no sudo key on the production chain");
	let epoch = client.epoch().await.expect("the PoC API").expect("epoch 0 started");
	assert_eq!(
		(epoch.length, epoch.generation, epoch.validation_delay, epoch.validation),
		(15_391, 35, 5, 240),
		"the live network's epoch"
	);
	let account = |who: AccountId32| {
		let at = &at;
		async move {
			let address = runtime::storage().system().account();
			at.storage()
				.try_fetch(address, (who,))
				.await
				.expect("storage answers")
				.map(|value| value.decode().expect("an account").data)
				.expect("the account exists")
		}
	};
	let id = |key: Sr25519Keyring| AccountId32(*AsRef::<[u8; 32]>::as_ref(&key.to_account_id()));
	let pool = gonka_runtime::configs::CommunityPool::get();
	let pool = account(AccountId32(*AsRef::<[u8; 32]>::as_ref(&pool))).await;
	assert_eq!(pool.free, COMMUNITY_POOL);
	// The founders' shares are locked by their vesting from genesis.
	let one = account(id(Sr25519Keyring::One)).await;
	assert_eq!(one.free, 99_999_000 * NGNK_PER_GNK);
	assert!(one.frozen > 0, "vesting locks the founders' share");
	let total = at
		.storage()
		.try_fetch(runtime::storage().balances().total_issuance(), ())
		.await
		.expect("storage")
		.expect("the total issuance")
		.decode()
		.expect("a balance");
	assert_eq!(total, COMMUNITY_POOL + FOUNDERS, "the genesis supply");
	// The genesis hosts are registered with equal power and serve the launch model.
	for key in [Sr25519Keyring::Alice, Sr25519Keyring::Bob] {
		let host = client.poc_host(&key.to_account_id()).await.unwrap().expect("a genesis host");
		assert_eq!(host.voting_power, 1, "{key:?}");
	}
	assert!(client.model(0).await.unwrap().is_some(), "the launch model");

	// A participant's signed transfer goes through.
	let ferdie = id(Sr25519Keyring::Ferdie);
	let transfer =
		runtime::transactions().balances().transfer_keep_alive(ferdie.into(), NGNK_PER_GNK);
	client.submit_signed(&transfer, &dev::alice()).await.expect("Alice's transfer");
	let at = client.api().at_current_block().await.expect("the finalized block");
	let ferdie = at
		.storage()
		.try_fetch(runtime::storage().system().account(), (ferdie,))
		.await
		.expect("storage")
		.expect("Ferdie's account")
		.decode()
		.expect("an account");
	assert_eq!(ferdie.data.free, NGNK_PER_GNK);
}

/// A runtime's wasm as the relay chain takes it: compressed (the dev profile's blob is not,
/// a release build's already is), under the relay chain's `max_code_size` (2 MiB on the
/// node's stand-in for it). Returns it with its blake2-256 hash.
fn upgrade_code(wasm: &[u8]) -> (Vec<u8>, subxt::utils::H256) {
	use polkadot_sdk::{
		sp_core::{Blake2Hasher, Hasher},
		sp_maybe_compressed_blob::{compress_strongly, CODE_BLOB_BOMB_LIMIT},
	};
	let code = if wasm.starts_with(b"\0asm") {
		compress_strongly(wasm, CODE_BLOB_BOMB_LIMIT).expect("the wasm compresses")
	} else {
		wasm.to_vec()
	};
	let hash = subxt::utils::H256(Blake2Hasher::hash(&code).0);
	(code, hash)
}

/// Alice proposes `models.authorizeUpgrade(code_hash)`, the two genesis hosts vote aye,
/// passing is certain and Bob closes it: the upgrade is authorized.
async fn vote_upgrade_through(client: &ChainClient, code_hash: subxt::utils::H256) {
	let authorize = runtime_types::gonka_runtime::RuntimeCall::Models(
		runtime_types::pallet_models::pallet::Call::authorize_upgrade { code_hash },
	);
	let proposed = client
		.submit_signed(&runtime::transactions().models().propose(authorize), &dev::alice())
		.await
		.expect("Alice proposes");
	let index = proposed.events.find_first::<gov::Proposed>().expect("proposed").unwrap().index;
	for voter in [dev::alice(), dev::bob()] {
		let aye = runtime_types::pallet_models::types::Vote::Aye;
		client
			.submit_signed(&runtime::transactions().models().vote(index, aye), &voter)
			.await
			.expect("a host votes");
	}
	let bound = runtime_types::sp_weights::weight_v2::Weight {
		ref_time: 1_000_000_000,
		proof_size: 100_000,
	};
	let closed = client
		.submit_signed(&runtime::transactions().models().close(index, bound, 2), &dev::bob())
		.await
		.expect("anyone closes");
	assert!(closed.events.find_first::<gov::Executed>().expect("executed").unwrap().result.is_ok());
	let authorized = closed
		.events
		.find_first::<runtime::system::events::UpgradeAuthorized>()
		.expect("the upgrade is authorized")
		.unwrap();
	assert_eq!((authorized.code_hash, authorized.check_version), (code_hash, true));
}

/// The `spec_version` of the runtime that ran the last finalized block's initialisation.
async fn spec_version(client: &ChainClient) -> u32 {
	let at = client.api().at_current_block().await.expect("the finalized block");
	at.storage()
		.try_fetch(runtime::storage().system().last_runtime_upgrade(), ())
		.await
		.expect("storage answers")
		.expect("set at genesis")
		.decode()
		.expect("the last upgrade")
		.spec_version
}

/// The production chain's upgrade path, as a chain without sudo takes it (`docs/governance.md`,
/// "Runtime upgrades"): a host proposes `models.authorizeUpgrade(hash)` for the next runtime's
/// wasm, the hosts vote it through, anyone applies the code with
/// `system.applyAuthorizedUpgrade`, the relay chain gives its go-ahead (here the node's
/// stand-in for it), and the chain goes on under the new `spec_version`. Unauthorized code is
/// refused, and a runtime that does not raise `spec_version` is rejected though voted through.
#[tokio::test(flavor = "multi_thread")]
async fn the_production_chain_upgrades_its_runtime_by_a_vote_of_its_hosts() {
	let next = gonka_runtime_next::WASM_BINARY.expect("the next runtime's wasm (a full build)");
	let (code, code_hash) = upgrade_code(next);
	let current = gonka_runtime::WASM_BINARY.expect("the runtime's wasm (a full build)");
	let (current_code, current_hash) = upgrade_code(current);
	let base = tempfile::tempdir().expect("temporary base path");
	let chain = format!("launch:{}", rehearsal_path().display());
	let mut node = DevNode::start_chain(base.path(), "upgrade.log", &chain, 1000);
	let client = ChainClient::new(node.connect().await);
	assert_eq!(spec_version(&client).await, gonka_runtime::VERSION.spec_version);

	// Applying code nobody authorized fails.
	let apply = runtime::transactions().system().apply_authorized_upgrade(code.clone());
	let Err(refused) = client.submit_signed(&apply, &dev::alice()).await else {
		panic!("unauthorized code is refused");
	};
	assert!(format!("{refused:?}").contains("NothingAuthorized"), "{refused:?}");

	// The running runtime again, though voted through, does not raise `spec_version`.
	vote_upgrade_through(&client, current_hash).await;
	let same = runtime::transactions().system().apply_authorized_upgrade(current_code);
	let rejected = client.submit_signed(&same, &dev::alice()).await.expect("included");
	assert!(rejected
		.events
		.find_first::<runtime::system::events::RejectedInvalidAuthorizedUpgrade>()
		.is_some());
	assert!(rejected
		.events
		.find_first::<runtime::parachain_system::events::ValidationFunctionStored>()
		.is_none());

	// The next runtime, voted through, applied by anyone; the parachain schedules it with the
	// relay chain.
	vote_upgrade_through(&client, code_hash).await;
	let applied = client.submit_signed(&apply, &dev::alice()).await.expect("the code is applied");
	assert!(
		applied
			.events
			.find_first::<runtime::parachain_system::events::ValidationFunctionStored>()
			.is_some(),
		"the new code waits for the relay chain's go-ahead"
	);
	// After the go-ahead, the new runtime runs the next blocks.
	let next = gonka_runtime::VERSION.spec_version + 1;
	common::wait_until(
		"the chain runs the next runtime",
		Duration::from_secs(180),
		Duration::from_millis(500),
		|| {
			let client = client.clone();
			async move { spec_version(&client).await == next }
		},
		|| node.log_tail(),
	)
	.await;
	// And goes on: a transfer signed for the new version, from a fresh client.
	let client = ChainClient::new(node.connect().await);
	let ferdie = AccountId32(*AsRef::<[u8; 32]>::as_ref(&Sr25519Keyring::Ferdie.to_account_id()));
	let transfer =
		runtime::transactions().balances().transfer_keep_alive(ferdie.into(), NGNK_PER_GNK);
	client.submit_signed(&transfer, &dev::alice()).await.expect("a transfer after the upgrade");
}
