//! The channels a host serves, as the chain shows them, and the member's duties on them
//! (`docs/channels.md`): [`ChannelWatch`] is what the executor's endpoint reads
//! ([`ChannelViews`]: the channels whose committee this host sits on, their price,
//! allowance and end), kept by [`follow`] from finalized blocks; and once a channel has
//! ended, the member settles it (its latest voucher counted and the receipts after it as
//! tail claims, `ChannelSettle`) and waives it, so that it finalizes early once every
//! member has. It settles once no request it took is still running (a request taken just
//! before the end is receipted after it, within the settle window).
//!
//! The follower runs on a thread of its own with its own connection, so the duties' loop
//! never waits for it. At each (re)connection it reads every live channel's committee
//! (`Committees`), then follows finalized blocks: a channel whose committee is drawn,
//! topped up, closed or finalized is read again. The settlement is idempotent across
//! restarts: the member settles only while the chain records fewer of its receipts
//! settled than its book holds, and a waiver the chain refuses (already waived) is done.

use super::chain;
use crate::{
	api::channels::{ChannelEndpoint, ChannelViews},
	channel::executor::ChannelView,
};
use gonka_client::{
	ChainClient, ChannelClosed, ChannelFinalized, ChannelSettled, ChannelState, ChannelToppedUp,
	CommitteeDrawn, DisputeOpened,
};
use gonka_primitives::{
	channel::{allowance, ChannelId, ChannelWaiver, DisputeId, FailReason},
	HostId,
};
use polkadot_sdk::sp_core::sr25519;
use std::{
	collections::{BTreeMap, BTreeSet},
	sync::{
		atomic::{AtomicU32, Ordering},
		Arc, RwLock,
	},
	time::Duration,
};

/// The channels this host sits on, for the endpoint.
#[derive(Default)]
pub struct ChannelWatch {
	channels: RwLock<BTreeMap<ChannelId, Watched>>,
	finalized: AtomicU32,
}

#[derive(Clone)]
struct Watched {
	view: ChannelView,
	finalizes: u32,
}

impl ChannelViews for ChannelWatch {
	fn view(&self, channel: ChannelId) -> Option<ChannelView> {
		let channels = self.channels.read().unwrap_or_else(|poisoned| poisoned.into_inner());
		channels.get(&channel).map(|watched| watched.view.clone())
	}

	fn best_block(&self) -> u32 {
		self.finalized.load(Ordering::SeqCst)
	}
}

impl ChannelWatch {
	fn set(&self, channel: ChannelId, watched: Option<Watched>) {
		let mut channels = self.channels.write().unwrap_or_else(|poisoned| poisoned.into_inner());
		match watched {
			Some(watched) => channels.insert(channel, watched),
			None => channels.remove(&channel),
		};
	}

	/// The channels watched that ended by block `number` and are not yet finalized.
	fn ended(&self, number: u32) -> Vec<(ChannelId, Watched)> {
		let channels = self.channels.read().unwrap_or_else(|poisoned| poisoned.into_inner());
		channels
			.iter()
			.filter(|(_, watched)| watched.view.ends <= number && number < watched.finalizes)
			.map(|(channel, watched)| (*channel, watched.clone()))
			.collect()
	}
}

/// The blocks an executor keeps trying to refute an unavailable report (its jury votes
/// for `UnavailableWindow`, 200 blocks).
const REFUTE_BLOCKS: u32 = 200;

/// A refutation to send.
#[derive(Clone, Debug)]
struct Refute {
	dispute: DisputeId,
	settlement: u64,
	sample: u32,
	reporter: HostId,
	until: u32,
}

/// What the member's follower holds.
pub struct Member {
	/// The host.
	pub host: HostId,
	/// Its worker key.
	pub worker_key: sr25519::Pair,
	/// The endpoint that serves its channels (its books).
	pub endpoint: Arc<ChannelEndpoint>,
	/// The watch it keeps.
	pub watch: Arc<ChannelWatch>,
	/// The gate its endpoint serves payloads through (it keeps its settlements' bases).
	pub gate: Arc<crate::chain::validation::ChainGate>,
	/// Refutations to send.
	refutes: std::sync::Mutex<Vec<Refute>>,
}

impl Member {
	/// The member `host` with `worker_key`, its endpoint, its watch and its gate.
	pub fn new(
		host: HostId,
		worker_key: sr25519::Pair,
		endpoint: Arc<ChannelEndpoint>,
		watch: Arc<ChannelWatch>,
		gate: Arc<crate::chain::validation::ChainGate>,
	) -> Self {
		Self { host, worker_key, endpoint, watch, gate, refutes: Default::default() }
	}
}

fn watched(
	host: &HostId,
	genesis: gonka_primitives::H256,
	channel: ChannelId,
	state: &ChannelState,
) -> Option<Watched> {
	let slots = state.committee.iter().filter(|member| *member == host).count() as u32;
	if slots == 0 {
		return None;
	}
	Some(Watched {
		view: ChannelView {
			channel,
			genesis_hash: genesis,
			channel_key: state.terms.channel_key,
			price: state.price,
			template_overhead: state.template_overhead,
			max_request_tokens: state.terms.max_request_tokens,
			allowance: allowance(slots, state.deposited, state.terms.committee),
			ends: state.ends,
		},
		finalizes: state.finalizes,
	})
}

impl Member {
	async fn read(
		&self,
		client: &ChainClient,
		channel: ChannelId,
		number: u32,
	) -> Result<(), gonka_client::Error> {
		let state = client.channel_at(channel, Some(number)).await?;
		let watched =
			state.and_then(|state| watched(&self.host, client.genesis_hash(), channel, &state));
		self.watch.set(channel, watched);
		Ok(())
	}

	/// Reads every live channel this host sits on.
	async fn sync(&self, client: &ChainClient) -> Result<u32, gonka_client::Error> {
		let number = client.block_number().await?;
		for (channel, committee) in client.live_channels().await? {
			if committee.contains(&self.host) {
				self.read(client, channel, number).await?;
			}
		}
		self.watch.finalized.store(number, Ordering::SeqCst);
		Ok(number)
	}

	/// Follows finalized block `number`: reads again the channels its events touch.
	async fn block(&self, client: &ChainClient, number: u32) -> Result<(), gonka_client::Error> {
		let at = client.api().at_block(u64::from(number)).await.map_err(chain)?;
		let events = at.events().fetch().await.map_err(chain)?;
		let mut touched = BTreeSet::new();
		let mut finalized = BTreeSet::new();
		for event in events.iter() {
			let event = event.map_err(chain)?;
			if event.pallet_name() != "Channels" {
				continue;
			}
			if let Some(e) = event.decode_fields_as::<DisputeOpened>() {
				let e = e.map_err(chain)?;
				if e.reason.0 == FailReason::Unavailable {
					let refute = Refute {
						dispute: e.dispute,
						settlement: e.settlement,
						sample: e.sample,
						reporter: HostId::new(e.reporter.0),
						until: number.saturating_add(REFUTE_BLOCKS),
					};
					self.refutes
						.lock()
						.unwrap_or_else(|poisoned| poisoned.into_inner())
						.push(refute);
				}
				continue;
			}
			if let Some(e) = event.decode_fields_as::<ChannelSettled>() {
				let e = e.map_err(chain)?;
				// Its own settlement: its basis kept now, while the chain shows it, to serve
				// the payloads to juries after its window.
				if e.executor.0 == *AsRef::<[u8; 32]>::as_ref(&self.host) {
					if let Err(error) = self.gate.basis(e.settlement).await {
						tracing::warn!(settlement = e.settlement, %error, "the settlement's basis was not kept");
					}
				}
				continue;
			}
			let channel = if let Some(e) = event.decode_fields_as::<CommitteeDrawn>() {
				let e = e.map_err(chain)?;
				if !e
					.committee
					.iter()
					.any(|member| member.0 == *AsRef::<[u8; 32]>::as_ref(&self.host))
				{
					continue;
				}
				e.channel
			} else if let Some(e) = event.decode_fields_as::<ChannelToppedUp>() {
				e.map_err(chain)?.channel
			} else if let Some(e) = event.decode_fields_as::<ChannelClosed>() {
				e.map_err(chain)?.channel
			} else if let Some(e) = event.decode_fields_as::<ChannelFinalized>() {
				let channel = e.map_err(chain)?.channel;
				finalized.insert(channel);
				channel
			} else {
				continue;
			};
			touched.insert(channel);
		}
		for channel in touched {
			self.read(client, channel, number).await?;
		}
		// A finalized channel takes no more requests: its book leaves memory (its journal
		// stays, for its payloads).
		for channel in finalized {
			self.endpoint.close_book(channel);
		}
		self.watch.finalized.store(number, Ordering::SeqCst);
		Ok(())
	}

	/// Refutes a report that this host's payload of `sample` was unavailable, with the
	/// reporter's acknowledgement of its delivery, if it keeps one (amendment 8).
	/// Sends the refutations pending at finalized block `number`: each is tried until it
	/// is taken or refused, or its time is up (a node unavailable: again next block).
	async fn refute_pending(&self, client: &ChainClient, number: u32) {
		let pending: Vec<Refute> = std::mem::take(
			&mut *self.refutes.lock().unwrap_or_else(|poisoned| poisoned.into_inner()),
		);
		for refute in pending {
			if number > refute.until || !self.refute(client, &refute).await {
				continue;
			}
			self.refutes.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(refute);
		}
	}

	/// Refutes a report that this host's payload of a sample was unavailable, with the
	/// reporter's acknowledgement of its delivery, if it keeps one (amendment 8). `true`:
	/// try again later.
	async fn refute(&self, client: &ChainClient, refute: &Refute) -> bool {
		let Refute { dispute, settlement, sample, .. } = *refute;
		let basis = match self.gate.basis(settlement).await {
			Ok(Some(basis)) if basis.executor == self.host => basis,
			Ok(_) => return false,
			Err(error) => {
				tracing::warn!(dispute, %error, "cannot read the disputed settlement");
				return true;
			}
		};
		let kept = self.endpoint.kept_ack(
			basis.channel,
			client.genesis_hash(),
			settlement,
			sample,
			&refute.reporter,
		);
		let Ok(Some(signed)) = kept else {
			tracing::warn!(
				dispute,
				settlement,
				sample,
				"reported unavailable, with no acknowledgement kept"
			);
			return false;
		};
		match super::submitted(
			client.refute_unavailable(dispute, &signed.ack, &signed.signature).await,
		) {
			Ok(()) => {
				tracing::info!(
					dispute,
					settlement,
					sample,
					"refuted a report of an unavailable payload"
				);
				false
			}
			Err(crate::duty::SubmitError::Refused(reason)) => {
				tracing::warn!(dispute, %reason, "the refutation was refused");
				false
			}
			Err(crate::duty::SubmitError::Unavailable(reason)) => {
				tracing::warn!(dispute, %reason, "the refutation waits for the node");
				true
			}
		}
	}

	/// Settles and waives every channel that ended (once each: `done`).
	async fn settle(&self, client: &ChainClient, number: u32, done: &mut BTreeSet<ChannelId>) {
		for (channel, watched) in self.watch.ended(number) {
			if done.contains(&channel) {
				continue;
			}
			match self.settle_one(client, channel, &watched).await {
				Ok(()) => {
					done.insert(channel);
				}
				Err(error) => {
					tracing::warn!(channel, %error, "a channel was not settled (tried again next block)")
				}
			}
		}
	}

	async fn settle_one(
		&self,
		client: &ChainClient,
		channel: ChannelId,
		watched: &Watched,
	) -> Result<(), gonka_client::Error> {
		// A request taken before the end may still be running: its receipt is settled too.
		let running = self.endpoint.in_flight(channel);
		if running > 0 {
			return Err(gonka_client::Error::Unexpected(format!(
				"{running} of its requests still running"
			)));
		}
		let settlement = self
			.endpoint
			.settlement(channel)
			.map_err(|error| gonka_client::Error::Unexpected(error.to_string()))?;
		let receipts = settlement.as_ref().and_then(|settle| settle.receipts()).unwrap_or(0);
		let settled = client.channel_settled(channel, &self.host).await?.unwrap_or(0);
		let mut waived = settled;
		if let Some(settle) = settlement.filter(|_| receipts > settled) {
			match super::submitted(client.settle(&self.host, &settle, &self.worker_key).await) {
				Ok(()) => {
					tracing::info!(channel, receipts, "settled a channel");
					waived = receipts;
				}
				// Refused for good (the chain's rules: its samples unpaid, say): retrying
				// cannot help; the member waives, so the developer's escrow comes back.
				Err(crate::duty::SubmitError::Refused(reason)) => {
					tracing::error!(channel, receipts, %reason, "the chain refused the settlement")
				}
				Err(crate::duty::SubmitError::Unavailable(reason)) => {
					return Err(gonka_client::Error::Unexpected(reason))
				}
			}
		}
		// The waiver names the receipts the chain records settled.
		let waiver =
			ChannelWaiver { channel, channel_key: watched.view.channel_key, receipts: waived };
		match super::submitted(client.waive_channel(&self.host, &waiver, &self.worker_key).await) {
			Ok(()) => tracing::info!(channel, "waived a channel"),
			// Refused: waived before (a restart), or the channel finalized meanwhile.
			Err(crate::duty::SubmitError::Refused(reason)) => {
				tracing::info!(channel, %reason, "the waiver was refused")
			}
			Err(crate::duty::SubmitError::Unavailable(reason)) => {
				return Err(gonka_client::Error::Unexpected(reason))
			}
		}
		Ok(())
	}
}

/// Follows the chain at `node` for `member` on a thread of its own, reconnecting with a
/// backoff, polling every `poll`.
pub fn follow(node: String, member: Member, poll: Duration) -> std::io::Result<()> {
	let state = (node, member, BTreeSet::new());
	super::on_thread("channels", "the channels' follower", state, move |(node, member, done)| {
		Box::pin(run(node.as_str(), &*member, poll, done))
	})
}

async fn run(
	node: &str,
	member: &Member,
	poll: Duration,
	done: &mut BTreeSet<ChannelId>,
) -> Result<(), gonka_client::Error> {
	let client = ChainClient::connect(node).await?;
	let mut next = member.sync(&client).await?.saturating_add(1);
	loop {
		let finalized = client.block_number().await?;
		while next <= finalized {
			member.block(&client, next).await?;
			next += 1;
		}
		member.settle(&client, finalized, done).await;
		member.refute_pending(&client, finalized).await;
		tokio::time::sleep(poll).await;
	}
}
