//! End to end: `gonka-node --dev` produces blocks, includes a signed transfer, keeps its
//! chain across a restart, and refuses bad `--chain` files with a clear message.

mod common;

use common::{DevNode, NODE_BIN};
use std::{process::Command, time::Duration};
use subxt::{
	dynamic, events::DecodeAsEvent, ext::scale_decode::DecodeAsType, utils::AccountId32,
	OnlineClient, OnlineClientAtBlock, PolkadotConfig,
};
use subxt_signer::sr25519::dev;

/// How long the chain may take to produce a few blocks once it serves RPC.
const BLOCKS_DEADLINE: Duration = Duration::from_secs(180);

/// `Balances::Transfer`, decoded from the node's events.
#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
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

/// `frame_system::AccountInfo`, only the fields the test reads (the rest are skipped).
#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct AccountInfo {
	data: AccountData,
}

#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct AccountData {
	free: u128,
}

/// Waits until the finalized block number reaches `target`; returns the number seen.
/// (`--dev` seals and finalizes every block, so finalized is also the best block.)
async fn wait_for_finalized_block(
	api: &OnlineClient<PolkadotConfig>,
	target: u64,
	node: &DevNode,
) -> u64 {
	let mut blocks = api.stream_blocks().await.expect("finalized-block subscription");
	let wait = async {
		while let Some(block) = blocks.next().await {
			let number = block.expect("block from the subscription").number();
			if number >= target {
				return number;
			}
		}
		panic!("the finalized-block subscription ended");
	};
	match tokio::time::timeout(BLOCKS_DEADLINE, wait).await {
		Ok(number) => number,
		Err(_) => {
			panic!("block #{target} not finalized in {BLOCKS_DEADLINE:?}:\n{}", node.log_tail())
		}
	}
}

/// The current finalized block number.
async fn finalized_number(api: &OnlineClient<PolkadotConfig>) -> u64 {
	api.at_current_block().await.expect("the finalized block").block_number()
}

/// `System.Account[account].data.free` at the given block.
async fn free_balance(at: &OnlineClientAtBlock<PolkadotConfig>, account: [u8; 32]) -> u128 {
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
	let start = finalized_number(&api).await;
	let reached = wait_for_finalized_block(&api, start + 3, &node).await;
	assert!(reached >= start + 3);

	// 2. A transfer signed by //Alice is included and its event is in that block.
	let (alice, dave) = (dev::alice(), dev::dave());
	let amount: u128 = 1_234_000_000_000; // 1,234 GNK
	let (included_in, dave_after) = {
		let at_submission = api.at_current_block().await.expect("the finalized block");
		let dave_before = free_balance(&at_submission, dave.public_key().0).await;
		let transfer = dynamic::transaction(
			"Balances",
			"transfer_keep_alive",
			(dave.public_key().to_address::<()>(), amount),
		);
		let in_block = at_submission
			.transactions()
			.sign_and_submit_then_watch_default(&transfer, &alice)
			.await
			.expect("the transfer is accepted by the pool")
			.wait_for_finalized()
			.await
			.expect("the transfer is finalized");
		let events = in_block.wait_for_success().await.expect("the transfer succeeds");
		let transfer_event = events
			.find_first::<Transfer>()
			.expect("a Balances::Transfer event from the transfer")
			.expect("the Transfer event decodes");
		assert_eq!(transfer_event.from, alice.public_key().to_account_id());
		assert_eq!(transfer_event.to, dave.public_key().to_account_id());
		assert_eq!(transfer_event.amount, amount);

		let at_inclusion = in_block.at().await.expect("the transfer's block");
		let dave_after = free_balance(&at_inclusion, dave.public_key().0).await;
		assert_eq!(dave_after, dave_before + amount);
		(in_block.block_hash(), dave_after)
	};

	// 3. Stop (as Ctrl-C does) and start again on the same base path: the chain resumes
	// from its stored head, with the transfer's block and its effect still there.
	let head_before_stop = finalized_number(&api).await;
	drop(api);
	let status = node.stop();
	let log = node.log_tail();
	// Only RocksDB's upstream exit race is tolerated (`common::rocksdb_exit_race`); the
	// restart below checks that nothing stored was lost.
	let rocksdb_exit_race = common::rocksdb_exit_race(&status, &log);
	assert!(
		status.success() || rocksdb_exit_race,
		"the node exits cleanly on SIGINT: {status}\n{log}"
	);

	let mut node = DevNode::start(base.path(), "second-run.log", 1000);
	let api = node.connect().await;
	let resumed_at = finalized_number(&api).await;
	assert!(
		resumed_at >= head_before_stop,
		"the restarted node starts from its stored head #{head_before_stop}, not #{resumed_at}"
	);
	let stored = api.at_block(included_in).await.expect("the transfer's block is still stored");
	assert_eq!(free_balance(&stored, dave.public_key().0).await, dave_after);
	let now = api.at_current_block().await.expect("the finalized block");
	assert_eq!(free_balance(&now, dave.public_key().0).await, dave_after);
	let reached = wait_for_finalized_block(&api, resumed_at + 2, &node).await;
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
	assert!(
		output.contains(&missing.display().to_string()),
		"the message names the file:\n{output}"
	);
	assert!(output.contains("does not exist"), "the message says what is wrong:\n{output}");
}

#[test]
fn malformed_chain_spec_file_exits_non_zero_naming_the_file() {
	let base = tempfile::tempdir().expect("temporary base path");
	let malformed = base.path().join("broken-spec.json");
	std::fs::write(&malformed, "{ \"name\": \"half a spec\", ").expect("write the file");
	let (success, output) = run_with_chain(&malformed, base.path());
	assert!(!success, "a malformed chain spec must fail:\n{output}");
	assert!(
		output.contains(&malformed.display().to_string()),
		"the message names the file:\n{output}"
	);
	assert!(output.contains("not a valid chain spec"), "the message says what is wrong:\n{output}");
}
