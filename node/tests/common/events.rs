//! Reading the chain's events in end-to-end tests.

use gonka_client::{subxt::events::DecodeAsEvent, ChainClient};
use std::time::{Duration, Instant};

/// Every event `E` in finalized blocks `from..=to`, with its block number.
pub async fn events<E: DecodeAsEvent>(client: &ChainClient, from: u32, to: u32) -> Vec<(u32, E)> {
	let mut found = Vec::new();
	for number in from..=to {
		let at = client.api().at_block(u64::from(number)).await.expect("a finalized block");
		let events = at.events().fetch().await.expect("its events");
		for event in events.iter() {
			let event = event.expect("an event decodes");
			if let Some(decoded) = event.decode_fields_as::<E>() {
				found.push((number, decoded.expect("the event's fields decode")));
			}
		}
	}
	found
}

/// Waits up to `deadline` for the first event `E` from finalized block `from` on that
/// `matches`; returns it with its block number. Each block is read once. Panics saying what
/// did not happen, with `context()` (logs).
pub async fn wait_event<E: DecodeAsEvent>(
	client: &ChainClient,
	what: &str,
	deadline: Duration,
	from: u32,
	matches: impl Fn(&E) -> bool,
	context: impl FnOnce() -> String,
) -> (u32, E) {
	let started = Instant::now();
	let mut next = from;
	loop {
		let to = client.block_number().await.unwrap_or(0);
		if to >= next {
			let found = events::<E>(client, next, to).await.into_iter().find(|(_, e)| matches(e));
			if let Some(found) = found {
				return found;
			}
			next = to + 1;
		}
		assert!(started.elapsed() < deadline, "{what} within {deadline:?}:\n{}", context());
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
}
