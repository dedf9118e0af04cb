//! The executor's channel endpoint (`channels.md`, section 13), served by jsonrpsee beside
//! the PoC proofs on the host's registered endpoint (HTTP and WebSocket):
//!
//! - `channel_infer(payload)`: a subscription (WebSocket). `payload` is the `0x` hex of
//!   the SCALE-encoded [`Payload`] (the signed request, its salt and its messages). If the
//!   request is taken ([`ExecutorChannel::admit`]), the subscription streams
//!   `{"event":"tokens","ids":[…]}` as the model draws them, then
//!   `{"event":"receipt","receipt":"0x…","signature":"0x…"}` (the SCALE receipt, synced
//!   to the channel's journal before it is sent), or `{"event":"failed","reason":…}` if
//!   the model failed (nothing is owed). If it is not taken, the subscription is refused
//!   with an error: [`NOT_SERVING`] (no channel of this host by that id, or it ended: ask
//!   another member), [`REFUSED`] (a bad request), [`ALLOWANCE`] (the executor's
//!   allowance is spent: HTTP 402 for the developer), [`VOUCHER_LAG`] (too many receipts
//!   unvouchered: 429), [`BUSY`] (the queue is full: ask another member).
//! - `channel_voucher(voucher)`: the `0x` hex of a SCALE `SignedVoucher`; answers
//!   `{"counted":true}` (a newer voucher, journaled), `{"counted":false}` (the one
//!   already counted), or [`BAD_VOUCHER`] with the reason (it counts as no voucher).
//! - `channel_status(channel)`: `{"served":n,"vouchered":n,"owed":"…"}`, the receipts
//!   signed, those the latest voucher covers and what all of them cost.
//!
//! The model runs on one thread of its own, fed in the order requests are taken, so a
//! channel's receipts are numbered in the order its requests were taken. A gateway that
//! leaves mid-stream does not stop the generation: the receipt is journaled all the
//! same, and claimable as tail if it is never vouchered. At most [`MAX_QUEUED`] requests
//! wait or run at once.

use crate::{
	channel::{
		executor::{ChannelView, ExecutorChannel, Payload, Refusal, Served},
		prompt::ChatMessage,
	},
	inference::sampler::SamplingParams,
	Error, Result,
};
use codec::{Decode, Encode};
use gonka_primitives::{
	channel::{ChannelId, SignedVoucher},
	HostId,
};
use jsonrpsee::{
	types::{ErrorObjectOwned, Params},
	PendingSubscriptionSink, RpcModule, SubscriptionMessage,
};
use polkadot_sdk::sp_core::sr25519;
use serde::{Deserialize, Serialize};
use std::{
	collections::BTreeMap,
	path::PathBuf,
	sync::{
		atomic::{AtomicUsize, Ordering},
		mpsc, Arc, Mutex,
	},
};

/// No channel of this host by that id takes requests: it is unknown, not yet drawn and
/// finalized, not one this host is a member of, or it ended.
pub const NOT_SERVING: i32 = -32010;
/// The request is not one the executor takes (signature, nonce, prompt, size).
pub const REFUSED: i32 = -32011;
/// The executor's allowance of the channel is spent.
pub const ALLOWANCE: i32 = -32012;
/// Too many of the channel's receipts are unvouchered or in flight.
pub const VOUCHER_LAG: i32 = -32013;
/// The voucher counts as none.
pub const BAD_VOUCHER: i32 = -32014;
/// The executor's queue is full.
pub const BUSY: i32 = -32015;

/// Requests waiting or running at once.
pub const MAX_QUEUED: usize = 64;

/// What the chain says of the channels this host serves.
pub trait ChannelViews: Send + Sync + 'static {
	/// The channel as this host's book needs it, if this host is a member of its committee
	/// and its opening and committee are finalized.
	fn view(&self, channel: ChannelId) -> Option<ChannelView>;
	/// The best block's number.
	fn best_block(&self) -> u32;
}

/// The model as the endpoint runs it.
pub trait Generator: Send + Sync + 'static {
	/// The templated conversation's token ids.
	fn prompt_ids(&self, messages: &[ChatMessage]) -> Result<Vec<u32>>;
	/// Generates after `prompt_ids`, calling `on_token` with each token drawn; returns the
	/// completion's ids.
	fn generate(
		&self,
		prompt_ids: Vec<u32>,
		max_tokens: u32,
		params: &SamplingParams,
		on_token: &mut dyn FnMut(u32),
	) -> Result<Vec<u32>>;
	/// The tokens that end a completion.
	fn end_tokens(&self) -> Vec<u32>;
}

/// One event of a `channel_infer` subscription.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum InferEvent {
	/// Tokens drawn.
	Tokens {
		/// Their ids.
		ids: Vec<u32>,
	},
	/// The signed receipt: the last event.
	Receipt {
		/// `0x` hex of the SCALE receipt.
		receipt: String,
		/// `0x` hex of the worker key's signature.
		signature: String,
	},
	/// The model failed; no receipt.
	Failed {
		/// Why.
		reason: String,
	},
}

/// The answer to `channel_voucher`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoucherAnswer {
	/// Whether it is newer than the voucher counted before.
	pub counted: bool,
}

/// The answer to `channel_status`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelStatus {
	/// Receipts signed.
	pub served: u32,
	/// Receipts the latest voucher covers.
	pub vouchered: u32,
	/// What the receipts signed cost (decimal).
	pub owed: String,
}

/// `0x` hex.
pub fn to_hex(bytes: &[u8]) -> String {
	format!("0x{}", hex::encode(bytes))
}

/// SCALE from `0x` hex.
pub fn decode_hex<T: Decode>(text: &str) -> Option<T> {
	let bytes = hex::decode(text.strip_prefix("0x")?).ok()?;
	T::decode(&mut bytes.as_slice()).ok()
}

fn error(code: i32, message: impl Into<String>) -> ErrorObjectOwned {
	ErrorObjectOwned::owned(code, message.into(), None::<()>)
}

/// A request taken, for the model's thread.
struct Job {
	payload: Payload,
	seed: u64,
	events: tokio::sync::mpsc::UnboundedSender<InferEvent>,
}

/// The books of every channel this host serves, and who signs.
struct Books {
	host: HostId,
	worker_key: sr25519::Pair,
	dir: PathBuf,
	views: Arc<dyn ChannelViews>,
	open: Mutex<BTreeMap<ChannelId, ExecutorChannel>>,
	queued: AtomicUsize,
}

impl Books {
	fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<ChannelId, ExecutorChannel>> {
		self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
	}

	/// Runs `f` on the channel's book, opened from its journal if it is not open, with the
	/// chain's view of it (`None` if this host does not serve it).
	fn with<T>(
		&self,
		books: &mut BTreeMap<ChannelId, ExecutorChannel>,
		channel: ChannelId,
		f: impl FnOnce(&mut ExecutorChannel) -> T,
	) -> Result<Option<T>> {
		let Some(view) = self.views.view(channel) else { return Ok(None) };
		let book = match books.entry(channel) {
			std::collections::btree_map::Entry::Occupied(entry) => entry.into_mut(),
			std::collections::btree_map::Entry::Vacant(entry) => {
				let path = self.dir.join(format!("channel-{channel}.log"));
				entry.insert(ExecutorChannel::open(&path, view.clone(), self.host.clone())?)
			}
		};
		book.set_view(view);
		Ok(Some(f(book)))
	}
}

/// The executor's endpoint: its methods (to serve with the PoC proofs, see
/// [`crate::api::proofs::ProofServer::start_with`]) and the model's thread.
pub struct ChannelEndpoint {
	books: Arc<Books>,
	jobs: mpsc::Sender<Job>,
}

impl ChannelEndpoint {
	/// Serves the channels `views` shows for `host`, signing receipts with `worker_key`
	/// and journaling them under `dir`, running `generator` on a thread of its own.
	pub fn new(
		host: HostId,
		worker_key: sr25519::Pair,
		dir: PathBuf,
		views: Arc<dyn ChannelViews>,
		generator: Arc<dyn Generator>,
	) -> Result<Arc<Self>> {
		std::fs::create_dir_all(&dir).map_err(Error::io(format!("creating {}", dir.display())))?;
		let books = Arc::new(Books {
			host,
			worker_key,
			dir,
			views,
			open: Mutex::new(BTreeMap::new()),
			queued: AtomicUsize::new(0),
		});
		let (jobs, receiver) = mpsc::channel();
		let thread_books = books.clone();
		std::thread::Builder::new()
			.name("channel-model".into())
			.spawn(move || run(&thread_books, generator.as_ref(), receiver))
			.map_err(Error::io("starting the channels' model thread"))?;
		Ok(Arc::new(Self { books, jobs }))
	}

	/// Takes a request (or says why not) and queues it for the model; its events come on
	/// the returned receiver.
	pub fn infer(
		&self,
		payload: Payload,
	) -> std::result::Result<tokio::sync::mpsc::UnboundedReceiver<InferEvent>, ErrorObjectOwned> {
		if self.books.queued.load(Ordering::SeqCst) >= MAX_QUEUED {
			return Err(error(BUSY, format!("{MAX_QUEUED} requests are queued")));
		}
		let channel = payload.request.channel;
		let best = self.books.views.best_block();
		let mut open = self.books.lock();
		let admitted = self
			.books
			.with(&mut open, channel, |book| book.admit(&payload, best))
			.map_err(|failure| error(NOT_SERVING, failure.to_string()))?
			.ok_or_else(|| error(NOT_SERVING, format!("this host serves no channel {channel}")))?;
		let admission = admitted.map_err(|refusal| {
			let code = match refusal {
				Refusal::Ended { .. } | Refusal::Full(_) => NOT_SERVING,
				Refusal::Allowance { .. } => ALLOWANCE,
				Refusal::VoucherLag(_) => VOUCHER_LAG,
				_ => REFUSED,
			};
			error(code, refusal.to_string())
		})?;
		let (events, receiver) = tokio::sync::mpsc::unbounded_channel();
		let request = payload.request.clone();
		// Queued under the books' lock: the model's thread takes requests in the order
		// they were taken.
		self.books.queued.fetch_add(1, Ordering::SeqCst);
		if self.jobs.send(Job { payload, seed: admission.seed, events }).is_err() {
			self.books.queued.fetch_sub(1, Ordering::SeqCst);
			if let Some(book) = open.get_mut(&channel) {
				book.abandon(&request);
			}
			return Err(error(BUSY, "the model's thread stopped"));
		}
		Ok(receiver)
	}

	/// Counts a voucher (see [`ExecutorChannel::accept_voucher`]).
	pub fn voucher(
		&self,
		signed: SignedVoucher,
	) -> std::result::Result<VoucherAnswer, ErrorObjectOwned> {
		let channel = signed.voucher.channel;
		let mut open = self.books.lock();
		match self.books.with(&mut open, channel, |book| book.accept_voucher(signed)) {
			Ok(Some(Ok(Ok(counted)))) => Ok(VoucherAnswer { counted }),
			Ok(Some(Ok(Err(bad)))) => Err(error(BAD_VOUCHER, bad.to_string())),
			Ok(Some(Err(failure))) | Err(failure) => Err(error(BAD_VOUCHER, failure.to_string())),
			Ok(None) => Err(error(NOT_SERVING, format!("this host serves no channel {channel}"))),
		}
	}

	/// The channel's book in numbers.
	pub fn status(
		&self,
		channel: ChannelId,
	) -> std::result::Result<ChannelStatus, ErrorObjectOwned> {
		let mut open = self.books.lock();
		let status = |book: &mut ExecutorChannel| ChannelStatus {
			served: book.served().len() as u32,
			vouchered: book.voucher().map_or(0, |signed| signed.voucher.count),
			owed: book.owed().to_string(),
		};
		match self.books.with(&mut open, channel, status) {
			Ok(Some(status)) => Ok(status),
			Ok(None) => Err(error(NOT_SERVING, format!("this host serves no channel {channel}"))),
			Err(failure) => Err(error(NOT_SERVING, failure.to_string())),
		}
	}

	/// The requests of `channel` taken and still running or queued (0 if its book is not
	/// open).
	pub fn in_flight(&self, channel: ChannelId) -> usize {
		self.books.lock().get(&channel).map_or(0, ExecutorChannel::in_flight)
	}

	/// The settlement this host would send for `channel` now.
	pub fn settlement(
		&self,
		channel: ChannelId,
	) -> Result<Option<gonka_primitives::channel::ChannelSettle>> {
		let mut open = self.books.lock();
		self.books.with(&mut open, channel, |book| book.settlement())
	}

	/// The endpoint's JSON-RPC methods.
	pub fn methods(self: &Arc<Self>) -> Result<RpcModule<Arc<Self>>> {
		let mut module = RpcModule::new(self.clone());
		let register =
			|failure: jsonrpsee::core::RegisterMethodError| Error::Poc(failure.to_string());
		module
			.register_subscription(
				"channel_infer",
				"channel_event",
				"channel_unsubscribe",
				|params: Params<'static>, pending: PendingSubscriptionSink, endpoint, _| async move {
					let payload =
						params.one::<String>().ok().and_then(|text| decode_hex::<Payload>(&text));
					let Some(payload) = payload else {
						pending.reject(error(REFUSED, "the payload is not SCALE hex")).await;
						return;
					};
					let mut events = match endpoint.infer(payload) {
						Ok(events) => events,
						Err(refused) => {
							pending.reject(refused).await;
							return;
						}
					};
					let Ok(sink) = pending.accept().await else { return };
					while let Some(event) = events.recv().await {
						let Ok(message) = SubscriptionMessage::from_json(&event) else { return };
						// A gateway that left: the generation goes on and is journaled.
						if sink.send(message).await.is_err() {
							return;
						}
					}
				},
			)
			.map_err(register)?;
		module
			.register_method("channel_voucher", |params: Params, endpoint: &Arc<Self>, _| {
				let voucher: String = params.one()?;
				let signed = decode_hex::<SignedVoucher>(&voucher)
					.ok_or_else(|| error(BAD_VOUCHER, "the voucher is not SCALE hex"))?;
				endpoint.voucher(signed)
			})
			.map_err(register)?;
		module
			.register_method("channel_status", |params: Params, endpoint: &Arc<Self>, _| {
				let channel: ChannelId = params.one()?;
				endpoint.status(channel)
			})
			.map_err(register)?;
		Ok(module)
	}
}

/// The model's thread: runs each request taken, streams its tokens, then journals and
/// sends its receipt.
fn run(books: &Books, generator: &dyn Generator, jobs: mpsc::Receiver<Job>) {
	let end_tokens = generator.end_tokens();
	while let Ok(job) = jobs.recv() {
		let Job { payload, seed, events } = job;
		let request = payload.request.clone();
		let params = crate::engine::sampler_params(&request.sampling, seed);
		// The prompt is tokenized here, after the request was taken (its signature and
		// hash checked), off the server's thread.
		let mut prompt_tokens = 0;
		let generated = generator.prompt_ids(&payload.messages).and_then(|prompt_ids| {
			prompt_tokens = prompt_ids.len() as u32;
			generator.generate(prompt_ids, request.max_tokens, &params, &mut |id| {
				let _ = events.send(InferEvent::Tokens { ids: vec![id] });
			})
		});
		let event = {
			let mut open = books.lock();
			let outcome = match (generated, open.get_mut(&request.channel)) {
				(Ok(ids), Some(book)) => {
					book.complete(payload, prompt_tokens, ids, &end_tokens, &books.worker_key)
				}
				(Err(failure), book) => {
					if let Some(book) = book {
						book.abandon(&request);
					}
					Err(failure)
				}
				(Ok(_), None) => Err(Error::Channel("the channel's book was closed".into())),
			};
			match outcome {
				Ok(Served { receipt, signature, .. }) => InferEvent::Receipt {
					receipt: to_hex(&receipt.encode()),
					signature: to_hex(&signature.0),
				},
				Err(failure) => {
					tracing::warn!(channel = request.channel, nonce = request.nonce, %failure, "a channel request failed");
					InferEvent::Failed { reason: failure.to_string() }
				}
			}
		};
		books.queued.fetch_sub(1, Ordering::SeqCst);
		let _ = events.send(event);
	}
}

/// A gateway's connection to a committee member's endpoint.
pub struct ExecutorClient {
	client: jsonrpsee::ws_client::WsClient,
}

/// The WebSocket URL of a registered endpoint (`http://` → `ws://`, `https://` →
/// `wss://`).
pub fn websocket_url(endpoint: &str) -> String {
	if let Some(rest) = endpoint.strip_prefix("http://") {
		format!("ws://{rest}")
	} else if let Some(rest) = endpoint.strip_prefix("https://") {
		format!("wss://{rest}")
	} else {
		endpoint.to_string()
	}
}

impl ExecutorClient {
	/// Connects to the endpoint `endpoint` registered on chain (HTTP or WebSocket URL).
	pub async fn connect(
		endpoint: &str,
	) -> std::result::Result<Self, jsonrpsee::core::ClientError> {
		let client = jsonrpsee::ws_client::WsClientBuilder::default()
			.max_request_size(crate::api::proofs::MAX_REQUEST_BYTES)
			// A member that does not answer is skipped quickly for the next.
			.connection_timeout(std::time::Duration::from_secs(5))
			.request_timeout(std::time::Duration::from_secs(30))
			.build(websocket_url(endpoint))
			.await?;
		Ok(Self { client })
	}

	/// Whether the connection is still open.
	pub fn is_connected(&self) -> bool {
		self.client.is_connected()
	}

	/// Sends a request: its events, or the executor's refusal.
	pub async fn infer(
		&self,
		payload: &Payload,
	) -> std::result::Result<
		jsonrpsee::core::client::Subscription<InferEvent>,
		jsonrpsee::core::ClientError,
	> {
		use jsonrpsee::core::client::SubscriptionClientT;
		self.client
			.subscribe(
				"channel_infer",
				jsonrpsee::rpc_params![to_hex(&payload.encode())],
				"channel_unsubscribe",
			)
			.await
	}

	/// Sends a voucher.
	pub async fn voucher(
		&self,
		signed: &SignedVoucher,
	) -> std::result::Result<VoucherAnswer, jsonrpsee::core::ClientError> {
		use jsonrpsee::core::client::ClientT;
		self.client
			.request("channel_voucher", jsonrpsee::rpc_params![to_hex(&signed.encode())])
			.await
	}

	/// The executor's book of `channel` in numbers.
	pub async fn status(
		&self,
		channel: ChannelId,
	) -> std::result::Result<ChannelStatus, jsonrpsee::core::ClientError> {
		use jsonrpsee::core::client::ClientT;
		self.client.request("channel_status", jsonrpsee::rpc_params![channel]).await
	}
}
