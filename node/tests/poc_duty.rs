//! End to end: a worker's PoC commitment, sent by the Rust client (`gonka-client`) as a
//! duty transaction with no transaction signer, is included by `gonka-node --dev` and emits
//! its event; a commitment signed by another key never reaches a block.

mod common;

use common::DevNode;
use gonka_client::{ChainClient, Epoch, Error, Phase, PocCommitted};
use gonka_primitives::{duty::PocCommit, merkle::MerkleTree, HostId};
use polkadot_sdk::sp_core::{sr25519, Pair};
use std::time::Duration;

/// The dev chain's model (`gonka_runtime::configs::DEFAULT_MODEL`).
const DEFAULT_MODEL: u32 = 0;

/// How long to wait for the generation phase of an epoch (a dev epoch is 16 blocks).
const PHASE_DEADLINE: Duration = Duration::from_secs(180);

fn pair(uri: &str) -> sr25519::Pair {
	sr25519::Pair::from_string(uri, None).expect("a dev key")
}

/// Waits until the next block is in the generation phase of an epoch and returns it.
async fn next_generation_block(client: &ChainClient, node: &DevNode) -> Epoch {
	let wait = async {
		loop {
			match client.epoch().await.expect("PocApi::epoch answers") {
				Some(epoch) if epoch.next_block_phase == Phase::Generation => return epoch,
				_ => tokio::time::sleep(Duration::from_millis(200)).await,
			}
		}
	};
	match tokio::time::timeout(PHASE_DEADLINE, wait).await {
		Ok(epoch) => epoch,
		Err(_) => panic!("no generation phase in {PHASE_DEADLINE:?}:\n{}", node.log_tail()),
	}
}

#[tokio::test(flavor = "multi_thread")]
async fn commit_poc_from_the_rust_client_is_included_and_emits_its_event() {
	let base = tempfile::tempdir().expect("temporary base path");
	let mut node = DevNode::start(base.path(), "node.log", 1000);
	let client = ChainClient::new(node.connect().await);

	// The development preset registers Alice as a host whose worker signs with
	// `//Alice//stash`, serving the default model.
	let alice: HostId = polkadot_sdk::sp_keyring::Sr25519Keyring::Alice.to_account_id();
	let worker = pair("//Alice//stash");
	let artifacts: Vec<Vec<u8>> = (0u32..100).map(|i| i.to_le_bytes().to_vec()).collect();
	let root = MerkleTree::from_artifacts(artifacts.iter().map(Vec::as_slice)).root();

	// A commitment signed by a key that is not Alice's worker key is refused by the pool.
	let epoch = next_generation_block(&client, &node).await;
	let forged = PocCommit { epoch: epoch.index, model: DEFAULT_MODEL, count: 1_000, root };
	match client.commit_poc(&alice, &forged, &pair("//Bob//stash")).await {
		Err(Error::Chain(error)) => {
			let message = error.to_string();
			assert!(message.to_lowercase().contains("signature"), "refused as forged: {message}")
		}
		Err(other) => panic!("a forged commitment is refused by the pool, not {other}"),
		Ok(_) => panic!("a commitment signed by another key was included"),
	}

	// Alice's worker commits in the generation phase; a phase may end while the
	// transaction waits, so a later epoch is tried once.
	let mut included = None;
	for _ in 0..2 {
		let epoch = next_generation_block(&client, &node).await;
		let commit = PocCommit { epoch: epoch.index, model: DEFAULT_MODEL, count: 100, root };
		match client.commit_poc(&alice, &commit, &worker).await {
			Ok(in_block) => {
				included = Some((commit, in_block));
				break;
			}
			Err(error) => eprintln!("epoch {}: {error}; trying the next epoch", epoch.index),
		}
	}
	let (commit, in_block) = included.unwrap_or_else(|| {
		panic!("the commitment was not included in two epochs:\n{}", node.log_tail())
	});
	let event = in_block
		.events
		.find_first::<PocCommitted>()
		.expect("a Poc::PocCommitted event from the commitment")
		.expect("the event decodes");
	let alice_bytes: &[u8; 32] = alice.as_ref();
	assert_eq!(event.host.0, *alice_bytes);
	assert_eq!((event.epoch, event.model, event.count), (commit.epoch, DEFAULT_MODEL, 100));
	assert_eq!(event.root.0, root.0);
}
