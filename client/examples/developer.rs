//! A developer's request with subxt, as `docs/developer.md` shows it: sign
//! `inference.request` with a funded account, follow the finalized blocks until the
//! executor's `RequestFinished`, read the completion from chain state, print it with its
//! cost. The calls, events and storage are subxt's code generated from the runtime's
//! metadata (`gonka_client::runtime`; in your own crate:
//! `#[subxt::subxt(runtime_metadata_path = "metadata.scale")] pub mod gonka {}`).
//!
//! Usage: `developer [ws://127.0.0.1:9944] [prompt]` (node/tests/network.rs runs it).

use gonka_client::runtime::{self, inference::events, runtime_types};
use std::str::FromStr;
use subxt::{OnlineClient, PolkadotConfig};
use subxt_signer::{sr25519::Keypair, SecretUri};

/// SmolLM2-135M-Instruct on the dev chain (`models.registry` lists the models).
const MODEL: u32 = 0;
const MAX_TOKENS: u32 = 32;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
	let mut args = std::env::args().skip(1);
	let url = args.next().unwrap_or_else(|| "ws://127.0.0.1:9944".into());
	let prompt = args.next().unwrap_or_else(|| "What is the capital of France?".into());

	let api = OnlineClient::<PolkadotConfig>::from_url(&url).await?;
	let developer = Keypair::from_uri(&SecretUri::from_str("//Charlie")?)?;

	// Greedy decoding, no nucleus cut (`top_p` in parts per billion).
	let sampling = runtime_types::gonka_primitives::inference::SamplingParams {
		temperature_milli: 0,
		top_p: runtime_types::sp_arithmetic::per_things::Perbill(1_000_000_000),
	};
	let prompt_bytes = runtime_types::bounded_collections::bounded_vec::BoundedVec(prompt.into());
	let call =
		runtime::transactions().inference().request(MODEL, prompt_bytes, MAX_TOKENS, sampling);
	let included = api
		.at_current_block()
		.await?
		.transactions()
		.sign_and_submit_then_watch_default(&call, &developer)
		.await?
		.wait_for_finalized()
		.await?
		.wait_for_success()
		.await?;
	let submitted =
		included.find_first::<events::RequestSubmitted>().ok_or("no RequestSubmitted event")??;
	let id = submitted.request;
	eprintln!("request {id}: escrow {} nGNK", submitted.escrow);

	// Follow the finalized blocks: the executor is drawn in the next block, then its result.
	let mut blocks = api.stream_blocks().await?;
	let finished = loop {
		let block = blocks.next().await.ok_or("the block stream ended")??;
		let events = block.at().await?.events().fetch().await?;
		for event in events.find::<events::RequestAssigned>() {
			let event = event?;
			if event.request == id {
				eprintln!("request {id}: executor {}", event.executor);
			}
		}
		let mut found = None;
		for event in events.find::<events::RequestFinished>() {
			let event = event?;
			if event.request == id {
				found = Some(event);
			}
		}
		for event in events.find::<events::RequestClosed>() {
			let event = event?;
			if event.request == id && found.is_none() {
				return Err(
					format!("request {id} closed without a result: {:?}", event.outcome).into()
				);
			}
		}
		if let Some(finished) = found {
			break finished;
		}
	};

	// The completion, kept on chain with the request.
	let output = api
		.at_current_block()
		.await?
		.storage()
		.try_fetch(runtime::storage().inference().outputs(), (id,))
		.await?
		.ok_or("the output was pruned")?
		.decode()?;
	println!("{}", String::from_utf8_lossy(&output.text.0));
	println!(
		"request {id}: {} prompt + {} completion tokens, cost {} nGNK, refund {} nGNK, executed by {}",
		finished.prompt_tokens, finished.completion_tokens, finished.cost, finished.refund,
		finished.executor
	);
	Ok(())
}
