//! End to end through `@polkadot/api`, the library Polkadot.js Apps is built on: the
//! scripts in `tests/polkadot-js/` run with Node.js against a real `gonka-node --dev`.
//! `scripts/test.sh` installs Node.js and the npm packages (`npm ci`) before the tests.

mod common;

use common::DevNode;
use std::{
	path::PathBuf,
	process::{Command, Stdio},
};

/// The npm project holding the scripts.
fn scripts_dir() -> PathBuf {
	PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/polkadot-js")
}

/// Runs `node <script> ws://127.0.0.1:<port>` against the node and fails the test with the
/// script's and the node's output when it exits unsuccessfully.
fn run_script(script: &str, node: &DevNode) {
	let dir = scripts_dir();
	assert!(
		dir.join("node_modules/@polkadot/api").is_dir(),
		"{}/node_modules lacks @polkadot/api: run scripts/test.sh (it runs `npm ci` there)",
		dir.display()
	);
	let url = format!("ws://127.0.0.1:{}", node.rpc_port);
	let output = Command::new("node")
		.arg(script)
		.arg(&url)
		.current_dir(&dir)
		.stdin(Stdio::null())
		.output()
		.expect("Node.js runs (`node` on PATH; scripts/env.sh installs it)");
	let stdout = String::from_utf8_lossy(&output.stdout);
	let stderr = String::from_utf8_lossy(&output.stderr);
	println!("{stdout}");
	assert!(
		output.status.success(),
		"{script} failed ({}):\n{stdout}\n{stderr}\nnode log:\n{}",
		output.status,
		node.log_tail()
	);
}

/// `docs/governance.md`'s Polkadot.js walkthrough: Alice proposes registering a second model,
/// Alice and Bob (the genesis hosts, whose power carries over with no worker running) vote
/// aye, Charlie closes; the record is read back, then approved at the next epoch start.
#[tokio::test(flavor = "multi_thread")]
async fn governance_registers_a_model_through_polkadot_js() {
	let base = tempfile::tempdir().expect("temporary base path");
	let mut node = DevNode::start(base.path(), "node.log", 1000);
	// Wait until the node serves RPC (the script connects once).
	drop(node.connect().await);
	run_script("governance.mjs", &node);
}

/// `docs/channels.md`'s walkthrough: Charlie opens an inference channel with a channel key
/// he proves he holds, its committee is drawn from the genesis hosts in a later block, he
/// tops it up, a second channel with the same key is refused, he closes it; a committee
/// member settles it with Charlie's voucher in a duty transaction its worker key signs (a
/// general transaction with no signer, built by the script) and is paid from the escrow;
/// every member waives the ended channel, and the last waiver finalizes it at once: Charlie
/// gets back the escrow less what the settlement paid.
#[tokio::test(flavor = "multi_thread")]
async fn a_developer_opens_a_channel_a_member_settles_it_and_it_is_finalized_through_polkadot_js() {
	let base = tempfile::tempdir().expect("temporary base path");
	let mut node = DevNode::start(base.path(), "node.log", 1000);
	drop(node.connect().await);
	run_script("channels.mjs", &node);
}
