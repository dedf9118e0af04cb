//! The chain over a real node, the duties' [`InferenceChain`] and [`PocChain`]:
//! `gonka-client`'s generated calls, events and runtime APIs, every duty signed with the
//! host's worker key. `inference.rs` reads the inference events and requests and sends
//! the inference duties; `poc.rs` reads the epoch, models, rosters, commitments and
//! endpoints and sends commitments and verdicts.
//!
//! [`InferenceChain`]: crate::duty::InferenceChain
//! [`PocChain`]: crate::duty::poc::PocChain

pub mod channels;
mod inference;
pub mod misses;
mod poc;
pub mod validation;

use crate::duty::SubmitError;
use gonka_client::{AccountId32, ChainClient};
use gonka_primitives::HostId;
use polkadot_sdk::sp_core::sr25519;

/// A host's view of a node.
pub struct NodeChain {
	client: ChainClient,
	host: HostId,
	worker: sr25519::Pair,
}

impl NodeChain {
	/// The duties of `host` through `client`, signed with `worker` (the host's registered
	/// worker key).
	pub fn new(client: ChainClient, host: HostId, worker: sr25519::Pair) -> Self {
		Self { client, host, worker }
	}
}

/// A follower's read that failed on the chain.
fn chain(error: impl Into<gonka_client::subxt::Error>) -> gonka_client::Error {
	gonka_client::Error::Chain(error.into())
}

/// A follower's failure that is not the chain's (its journal, an unexpected answer).
fn unexpected(error: impl std::fmt::Display) -> gonka_client::Error {
	gonka_client::Error::Unexpected(error.to_string())
}

/// One connection of a follower: its work until it loses the node.
type Connection<'a> =
	std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), gonka_client::Error>> + 'a>>;

/// Runs a follower on a thread of its own named `name` (`what` in its logs), with its own
/// runtime: `connection` over `state`, again after each failure, with a backoff from 1 s
/// doubling to 30 s.
fn on_thread<S: Send + 'static>(
	name: &str,
	what: &'static str,
	mut state: S,
	connection: impl for<'a> Fn(&'a mut S) -> Connection<'a> + Send + 'static,
) -> std::io::Result<()> {
	std::thread::Builder::new().name(name.into()).spawn(move || {
		let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
			tracing::error!("{what} has no runtime");
			return;
		};
		runtime.block_on(async move {
			let mut backoff = std::time::Duration::from_secs(1);
			loop {
				if let Err(error) = connection(&mut state).await {
					tracing::warn!(%error, retry_in = ?backoff, "{what} lost the node");
					tokio::time::sleep(backoff).await;
					backoff = (backoff * 2).min(std::time::Duration::from_secs(30));
				}
			}
		});
	})?;
	Ok(())
}

/// The file under a follower's directory that holds the next finalized block it handles.
const NEXT_BLOCK: &str = "next-block";

/// The next finalized block the follower journaling under `dir` handles, if it has one.
fn read_next(dir: &std::path::Path) -> Option<u32> {
	std::fs::read_to_string(dir.join(NEXT_BLOCK)).ok()?.trim().parse().ok()
}

/// Journals `next` as the next finalized block the follower under `dir` handles (through
/// a temporary file and a rename).
fn write_next(dir: &std::path::Path, next: u32) -> crate::Result<()> {
	let path = dir.join(NEXT_BLOCK);
	let temporary = dir.join(format!("{NEXT_BLOCK}.tmp"));
	std::fs::write(&temporary, next.to_string())
		.map_err(crate::Error::io(format!("writing {}", temporary.display())))?;
	std::fs::rename(&temporary, &path)
		.map_err(crate::Error::io(format!("writing {}", path.display())))
}

/// A read that failed: the node is unreachable or answered something unexpected.
fn unavailable(error: impl std::fmt::Display) -> SubmitError {
	SubmitError::Unavailable(error.to_string())
}

/// A submission's error: the pool's refusal (an invalid transaction: stale, out of its
/// window, not sampled, ...) or a failed dispatch is final; anything else (connection,
/// timeout) is worth retrying.
fn submitted<T>(result: Result<T, gonka_client::Error>) -> Result<(), SubmitError> {
	match result {
		Ok(_) => Ok(()),
		Err(gonka_client::Error::Failed(reason)) => Err(SubmitError::Refused(reason)),
		Err(error) => {
			let message = error.to_string();
			let lower = message.to_lowercase();
			// The pool refused it when submitted (`1010`), or dropped it as invalid later.
			if ["invalid transaction", "1010", "transaction is not valid"]
				.iter()
				.any(|refusal| lower.contains(refusal))
			{
				Err(SubmitError::Refused(message))
			} else {
				Err(SubmitError::Unavailable(message))
			}
		}
	}
}

fn host_id(account: &AccountId32) -> HostId {
	HostId::new(account.0)
}
