//! End to end: `gonka-node --dev` produces blocks, includes a signed transfer, keeps its
//! chain across a restart, and refuses bad `--chain` files with a clear message.

mod common;

use common::{DevNode, NODE_BIN};
use std::{process::Command, time::Duration};
use subxt::{
	dynamic,
	events::DecodeAsEvent,
	ext::scale_decode::{self, DecodeAsType},
	utils::AccountId32,
	OnlineClient, PolkadotConfig,
};
use subxt_signer::sr25519::dev;

/// How long the chain may take to produce a few blocks once it serves RPC.
const BLOCKS_DEADLINE: Duration = Duration::from_secs(180);

/// `Balances::Transfer`, decoded from the node's events.
#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "scale_decode")]
struct Transfer {
	from: AccountId32,
	to: AccountId32,
	amount: u128,
}

impl DecodeAsEvent for Transfer {
	fn is_event(pallet: &str, event: &str) -> bool {
		pallet == "Balances" && event == "Transfer"
	}
}

/// `frame_system::AccountInfo`, only the fields the test reads.
#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "scale_decode")]
struct AccountInfo {
	data: AccountData,
}

#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "scale_decode")]
struct AccountData {
	free: u128,
}

/// Waits until the best block number reaches `target`; returns the number seen.
async fn wait_for_best_block(api: &OnlineClient<PolkadotConfig>, target: u64, node: &DevNode) -> u64 {
	let mut blocks = api.stream_best_blocks().await.expect("best-block subscription");
	let wait = async {
		while let Some(block) = blocks.next().await {
			let number = block.expect("block from the subscription").number();
			if number >= target {
				return number;
			}
		}
		panic!("the best-block subscription ended");
	};
	match tokio::time::timeout(BLOCKS_DEADLINE, wait).await {
		Ok(number) => number,
		Err(_) => panic!("block #{target} not reached in {BLOCKS_DEADLINE:?}:\n{}", node.log_tail()),
	}
}

/// Current best block number.
async fn best_number(api: &OnlineClient<PolkadotConfig>) -> u64 {
	let mut blocks = api.stream_best_blocks().await.expect("best-block subscription");
	blocks.next().await.expect("a best block").expect("a valid block").number()
}

async fn free_balance(api: &OnlineClient<PolkadotConfig>, account: [u8; 32]) -> u128 {
	let at = api.at_current_block().await.expect("finalized block");
	let address = dynamic::storage::<([u8; 32],), AccountInfo>("System", "Account");
	let value = at.storage().fetch(address, (account,)).await.expect("System.Account is readable");
	value.decode().expect("AccountInfo decodes").data.free
}

#[tokio::test(flavor = "multi_thread")]
async fn dev_node_produces_blocks_includes_a_transfer_and_resumes_after_restart() {
	let base = tempfile::tempdir().expect("temporary base path");

	// 1. `--dev` alone (plus ports and a base path) runs a chain that produces blocks.
	let mut node = DevNode::start(base.path(), "first-run.log", 1000);
	let api = node.connect().await;
	let start = best_number(&api).await;
	let reached = wait_for_best_block(&api, start + 3, &node).await;
	assert!(reached >= start + 3);

	// 2. A transfer signed by //Alice is included and its event is in that block.
	let (alice, dave) = (dev::alice(), dev::dave());
	let dave_before = free_balance(&api, dave.public_key().0).await;
	let amount: u128 = 1_234_000_000_000; // 1,234 GNK
	let transfer = dynamic::transaction(
		"Balances",
		"transfer_keep_alive",
		(dave.public_key().to_address::<()>(), amount),
	);
	let in_block = api
		.at_current_block()
		.await
		.expect("finalized block")
		.transactions()
		.sign_and_submit_then_watch_default(&transfer, &alice)
		.await
		.expect("the transfer is accepted by the pool")
		.wait_for_finalized()
		.await
		.expect("the transfer is finalized");
	let included_in = in_block.block_hash();
	let events = in_block.wait_for_success().await.expect("the transfer succeeds");
	let transfer_event = events
		.iter()
		.filter_map(|event| event.ok())
		.find_map(|event| event.decode_fields_as::<Transfer>())
		.expect("a Balances::Transfer event in the transfer's block")
		.expect("the Transfer event decodes");
	assert_eq!(transfer_event.from, AccountId32(alice.public_key().0));
	assert_eq!(transfer_event.to, AccountId32(dave.public_key().0));
	assert_eq!(transfer_event.amount, amount);
	assert_eq!(free_balance(&api, dave.public_key().0).await, dave_before + amount);

	// 3. Stop (as Ctrl-C does) and start again on the same base path: the chain resumes
	// from its stored head, with the transfer's block and its effect still there.
	let head_before_stop = best_number(&api).await;
	drop(api);
	let status = node.stop();
	assert!(status.success(), "the node exits cleanly on SIGINT: {status}\n{}", node.log_tail());

	let mut node = DevNode::start(base.path(), "second-run.log", 1000);
	let api = node.connect().await;
	let resumed_at = best_number(&api).await;
	assert!(
		resumed_at >= head_before_stop,
		"the restarted node starts from its stored head #{head_before_stop}, not #{resumed_at}"
	);
	let stored = api.at_block(included_in).await.expect("the transfer's block is still stored");
	assert_eq!(stored.block_hash(), included_in);
	assert_eq!(free_balance(&api, dave.public_key().0).await, dave_before + amount);
	let reached = wait_for_best_block(&api, resumed_at + 2, &node).await;
	assert!(reached >= resumed_at + 2, "the restarted node keeps producing blocks");
}

/// Runs `gonka-node --chain <path>` and returns (exit success, stderr + stdout).
fn run_with_chain(path: &std::path::Path, base: &std::path::Path) -> (bool, String) {
	let output = Command::new(NODE_BIN)
		.arg("--chain")
		.arg(path)
		.arg("--base-path")
		.arg(base)
		.args(["--no-prometheus", "--no-telemetry", "--no-mdns", "--rpc-port", "0", "--port", "0"])
		.output()
		.expect("gonka-node runs");
	let text = format!(
		"{}{}",
		String::from_utf8_lossy(&output.stderr),
		String::from_utf8_lossy(&output.stdout)
	);
	(output.status.success(), text)
}

#[test]
fn missing_chain_spec_file_exits_non_zero_naming_the_file() {
	let base = tempfile::tempdir().expect("temporary base path");
	let missing = base.path().join("no-such-spec.json");
	let (success, output) = run_with_chain(&missing, base.path());
	assert!(!success, "a missing chain spec must fail:\n{output}");
	assert!(output.contains(&missing.display().to_string()), "the message names the file:\n{output}");
	assert!(output.contains("does not exist"), "the message says what is wrong:\n{output}");
}

#[test]
fn malformed_chain_spec_file_exits_non_zero_naming_the_file() {
	let base = tempfile::tempdir().expect("temporary base path");
	let malformed = base.path().join("broken-spec.json");
	std::fs::write(&malformed, "{ \"name\": \"half a spec\", ").expect("write the file");
	let (success, output) = run_with_chain(&malformed, base.path());
	assert!(!success, "a malformed chain spec must fail:\n{output}");
	assert!(output.contains(&malformed.display().to_string()), "the message names the file:\n{output}");
	assert!(output.contains("not a valid chain spec"), "the message says what is wrong:\n{output}");
}
