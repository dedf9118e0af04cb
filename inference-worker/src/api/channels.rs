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
//! - `channel_receipts(query, signature)`: the receipts a developer lost (a gateway that
//!   restarted, or whose stream broke before the receipt): `query` is the `0x` hex of a
//!   SCALE `ReceiptsQuery` (channel, this executor, the `seq` range), `signature` the
//!   channel key's (kind 4 of the `gonka/channel` domain); the answer is the `0x` hex of
//!   the SCALE `Vec<Served>` (request, prompt, completion ids, signed receipt) from the
//!   range's first, at most `MAX_TAIL` of them and [`RECEIPTS_BYTES`] (the developer
//!   asks again from the next). A prompt reaches only the key that signed its request.
//! - `channel_payload(access, signature)`: a sampled validator's fetch of a sample's
//!   payload: `access` is the `0x` hex of a SCALE `PayloadAccess` (settlement, sample,
//!   validator), `signature` its validator's worker key's signature (kind 3 of the
//!   `gonka/channel` domain). Served only if the chain draws that validator for that
//!   sample of a settlement of this host, or it sits on the jury of the dispute `access`
//!   names (a developer's challenge: `sample` is the challenged receipt's leaf)
//!   ([`SampleGate`]); the answer is the `0x` hex of the SCALE [`Delivery`] (request,
//!   prompt, completion ids, signed receipt, proof). [`NOT_DRAWN`] otherwise.
//! - `channel_ack(ack)`: the `0x` hex of a SCALE [`SignedAck`], a validator's signed
//!   acknowledgement of a delivery: kept (journaled) if it is that validator's, for a
//!   sample it is drawn for, of the receipt this host delivers; it refutes that
//!   validator's report of the payload as unavailable.
//!
//! The model runs on one thread of its own, fed in the order requests are taken, so a
//! channel's receipts are numbered in the order its requests were taken. A gateway that
//! leaves mid-stream does not stop the generation: the receipt is journaled all the
//! same, and claimable as tail if it is never vouchered. At most [`MAX_QUEUED`] requests
//! wait or run at once.

use crate::{
	channel::{
		executor::{ChannelView, Delivery, ExecutorChannel, Payload, Refusal, Served, SignedAck},
		prompt::ChatMessage,
	},
	inference::sampler::SamplingParams,
	Error, Result,
};
use codec::{Decode, Encode};
use gonka_primitives::{
	channel::{
		ChannelId, ChannelMessage, DisputeId, PayloadAccess, ReceiptsQuery, SettlementId,
		SignedVoucher, SumNode,
	},
	duty::Duty,
	HostId, H256,
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

/// The chain does not draw the asking validator for that sample of a settlement of this
/// host (or the settlement's window closed), or its signature does not check out.
pub const NOT_DRAWN: i32 = -32016;

/// Requests waiting or running at once.
pub const MAX_QUEUED: usize = 64;

/// The most bytes of receipts (SCALE) one `channel_receipts` answer carries (at least one
/// receipt): in hex, half of the endpoint's largest answer.
pub const RECEIPTS_BYTES: usize = crate::api::proofs::MAX_RESPONSE_BYTES as usize / 4;

/// What the chain says of the channels this host serves.
pub trait ChannelViews: Send + Sync + 'static {
	/// The channel as this host's book needs it, if this host is a member of its committee
	/// and its opening and committee are finalized.
	fn view(&self, channel: ChannelId) -> Option<ChannelView>;
	/// The best block's number.
	fn best_block(&self) -> u32;
}

/// What the chain says of a sample of a settlement, for serving its payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SampleGrant {
	/// The chain's genesis hash.
	pub genesis_hash: H256,
	/// The settlement's channel.
	pub channel: ChannelId,
	/// The member that settled.
	pub executor: HostId,
	/// The receipts its voucher covers.
	pub count: u32,
	/// Its tail claims.
	pub tail: u32,
	/// What the sample checks (a developer's challenge: its leaf).
	pub what: crate::channel::validator::Checks,
	/// The settlement's sample seed.
	pub seed: H256,
}

/// A boxed future (the gate's answers come from the chain).
pub type GateFuture<'a> = std::pin::Pin<
	Box<
		dyn std::future::Future<Output = std::result::Result<Option<SampleGrant>, String>>
			+ Send
			+ 'a,
	>,
>;

/// A boxed future of a host's registered worker key, with the chain's genesis hash (in
/// every signed message).
pub type KeyFuture<'a> = std::pin::Pin<
	Box<
		dyn std::future::Future<
				Output = std::result::Result<Option<(sr25519::Public, H256)>, String>,
			> + Send
			+ 'a,
	>,
>;

/// Who may fetch a sample's payload: the chain's sampling and jury rules.
pub trait SampleGate: Send + Sync + 'static {
	/// The worker key `host` registered (`None`: not a registered host). Asked first, so
	/// that a request its signature does not back costs no other read.
	fn worker_key(&self, host: HostId) -> KeyFuture<'_>;
	/// Sample `sample` of settlement `settlement`, if the chain draws `validator` for it
	/// (`None` otherwise, or once the settlement's window closed), or, with `dispute`, if
	/// `validator` sits on the jury of that dispute on the sample; `Err` if the chain
	/// cannot be asked.
	fn grant(
		&self,
		settlement: SettlementId,
		sample: u32,
		validator: HostId,
		dispute: Option<DisputeId>,
	) -> GateFuture<'_>;
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

/// A signature from `0x` hex.
pub fn decode_signature(text: &str) -> Option<sr25519::Signature> {
	let bytes = hex::decode(text.strip_prefix("0x")?).ok()?;
	Some(sr25519::Signature::from_raw(bytes.try_into().ok()?))
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
	gate: Option<Arc<dyn SampleGate>>,
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

	/// Runs `f` on the channel's book as its journal holds it, whether or not the channel
	/// still takes requests (a payload is served after the channel finalized): the open
	/// book, or one read from the journal for this call. `None` if there is no journal.
	fn stored<T>(
		&self,
		books: &mut BTreeMap<ChannelId, ExecutorChannel>,
		channel: ChannelId,
		genesis_hash: H256,
		f: impl FnOnce(&mut ExecutorChannel) -> T,
	) -> Result<Option<T>> {
		if let Some(book) = books.get_mut(&channel) {
			return Ok(Some(f(book)));
		}
		let path = self.dir.join(format!("channel-{channel}.log"));
		if !path.exists() {
			return Ok(None);
		}
		// Taking no requests: a view that ended (the chain's replaces it if the book is
		// opened to serve).
		let view = ChannelView {
			channel,
			genesis_hash,
			channel_key: sr25519::Public::from_raw([0; 32]),
			price: 0,
			template_overhead: 0,
			max_request_tokens: 0,
			allowance: 0,
			ends: 0,
		};
		let mut book = ExecutorChannel::open(&path, view, self.host.clone())?;
		Ok(Some(f(&mut book)))
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
		Self::with_gate(host, worker_key, dir, views, generator, None)
	}

	/// [`Self::new`], serving samples' payloads to the validators `gate` says are drawn
	/// for them (none without a gate).
	pub fn with_gate(
		host: HostId,
		worker_key: sr25519::Pair,
		dir: PathBuf,
		views: Arc<dyn ChannelViews>,
		generator: Arc<dyn Generator>,
		gate: Option<Arc<dyn SampleGate>>,
	) -> Result<Arc<Self>> {
		std::fs::create_dir_all(&dir).map_err(Error::io(format!("creating {}", dir.display())))?;
		let books = Arc::new(Books {
			host,
			worker_key,
			dir,
			views,
			gate,
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

	/// The receipts of `query` (see [`ExecutorChannel::receipts`]), within
	/// [`RECEIPTS_BYTES`], if the channel key signed it for this executor.
	pub fn receipts(
		&self,
		query: ReceiptsQuery,
		signature: sr25519::Signature,
	) -> std::result::Result<Vec<Served>, ErrorObjectOwned> {
		if query.executor != self.books.host {
			return Err(error(REFUSED, "the query names another executor"));
		}
		let channel = query.channel;
		let mut open = self.books.lock();
		let answer = self.books.with(&mut open, channel, |book| {
			let view = book.view();
			if !query.verify(&view.genesis_hash, &view.channel_key, &signature) {
				return None;
			}
			let (mut served, mut bytes) = (Vec::new(), 0usize);
			for one in book.receipts(query.from, query.to) {
				bytes = bytes.saturating_add(one.encoded_size());
				if bytes > RECEIPTS_BYTES && !served.is_empty() {
					break;
				}
				served.push(one.clone());
			}
			Some(served)
		});
		match answer {
			Ok(Some(Some(served))) => Ok(served),
			Ok(Some(None)) => Err(error(REFUSED, "the query is not signed by the channel's key")),
			Ok(None) => Err(error(NOT_SERVING, format!("this host serves no channel {channel}"))),
			Err(failure) => Err(error(NOT_SERVING, failure.to_string())),
		}
	}

	/// The requests of `channel` taken and still running or queued (0 if its book is not
	/// open).
	pub fn in_flight(&self, channel: ChannelId) -> usize {
		self.books.lock().get(&channel).map_or(0, ExecutorChannel::in_flight)
	}

	/// Drops `channel`'s book from memory unless a request of it runs (its journal stays:
	/// it is read again to serve a payload, or if the channel is served again).
	pub fn close_book(&self, channel: ChannelId) {
		let mut open = self.books.lock();
		if open.get(&channel).is_some_and(|book| book.in_flight() == 0) {
			open.remove(&channel);
		}
	}

	/// The settlement this host would send for `channel` now.
	pub fn settlement(
		&self,
		channel: ChannelId,
	) -> Result<Option<gonka_primitives::channel::ChannelSettle>> {
		let mut open = self.books.lock();
		self.books.with(&mut open, channel, |book| book.settlement())
	}

	/// Checks `signed` against `validator`'s registered worker key (read first: nothing
	/// else is read for a request its signature does not back).
	async fn signed_by(
		&self,
		validator: &HostId,
		verify: impl FnOnce(&sr25519::Public, &H256) -> bool,
	) -> std::result::Result<(), ErrorObjectOwned> {
		let gate = self
			.books
			.gate
			.as_ref()
			.ok_or_else(|| error(NOT_DRAWN, "this host serves no payloads"))?;
		let (key, genesis_hash) = gate
			.worker_key(validator.clone())
			.await
			.map_err(|failure| error(BUSY, format!("the chain cannot be read: {failure}")))?
			.ok_or_else(|| error(NOT_DRAWN, "the asker is not a registered host"))?;
		if !verify(&key, &genesis_hash) {
			return Err(error(NOT_DRAWN, "not signed by the asker's worker key"));
		}
		Ok(())
	}

	/// Asks the chain whether `validator` is drawn for the sample, of a settlement of
	/// this host.
	async fn grant(
		&self,
		settlement: SettlementId,
		sample: u32,
		validator: &HostId,
		dispute: Option<DisputeId>,
	) -> std::result::Result<SampleGrant, ErrorObjectOwned> {
		let gate = self
			.books
			.gate
			.as_ref()
			.ok_or_else(|| error(NOT_DRAWN, "this host serves no payloads"))?;
		let grant = gate
			.grant(settlement, sample, validator.clone(), dispute)
			.await
			.map_err(|failure| error(BUSY, format!("the chain cannot be read: {failure}")))?
			.filter(|grant| grant.executor == self.books.host)
			.ok_or_else(|| {
				error(
					NOT_DRAWN,
					format!("no sample {sample} of settlement {settlement} for it here"),
				)
			})?;
		Ok(grant)
	}

	/// Serves a sample's payload to the validator drawn for it.
	pub async fn payload(
		&self,
		access: PayloadAccess,
		signature: sr25519::Signature,
	) -> std::result::Result<Delivery, ErrorObjectOwned> {
		self.signed_by(&access.validator, |key, genesis| access.verify(genesis, key, &signature))
			.await?;
		let grant =
			self.grant(access.settlement, access.sample, &access.validator, access.dispute).await?;
		let mut open = self.books.lock();
		let delivery = self
			.books
			.stored(&mut open, grant.channel, grant.genesis_hash, |book| {
				book.delivery(grant.count, grant.tail, grant.what)
			})
			.map_err(|failure| error(NOT_SERVING, failure.to_string()))?
			.flatten();
		delivery.ok_or_else(|| {
			error(
				NOT_SERVING,
				format!("the journal of channel {} holds no such receipt", grant.channel),
			)
		})
	}

	/// Keeps a validator's acknowledgement of a delivery, if it is one.
	pub async fn ack(&self, signed: SignedAck) -> std::result::Result<(), ErrorObjectOwned> {
		let ack = &signed.ack;
		self.signed_by(&signed.validator, |key, genesis| {
			ack.verify(genesis, &signed.validator, key, &signed.signature)
		})
		.await?;
		let grant = self.grant(ack.settlement, ack.sample, &signed.validator, None).await?;
		if ack.seed != grant.seed {
			return Err(error(NOT_DRAWN, "not that validator's acknowledgement of this sample"));
		}
		let mut open = self.books.lock();
		let kept = self
			.books
			.stored(&mut open, grant.channel, grant.genesis_hash, |book| {
				let delivered = book.delivery(grant.count, grant.tail, grant.what);
				match delivered {
					Some(delivery) if SumNode::leaf(&delivery.served.receipt).hash == ack.leaf => {
						book.note_ack(signed.clone()).map(|()| true)
					}
					_ => Ok(false),
				}
			})
			.map_err(|failure| error(NOT_SERVING, failure.to_string()))?;
		match kept {
			Some(Ok(true)) => Ok(()),
			Some(Err(failure)) => Err(error(NOT_SERVING, failure.to_string())),
			_ => Err(error(NOT_DRAWN, "the acknowledgement names a receipt not delivered")),
		}
	}

	/// `validator`'s acknowledgement of a sample's delivery kept for `channel`, if any.
	pub fn kept_ack(
		&self,
		channel: ChannelId,
		genesis_hash: H256,
		settlement: SettlementId,
		sample: u32,
		validator: &HostId,
	) -> Result<Option<SignedAck>> {
		let mut open = self.books.lock();
		Ok(self
			.books
			.stored(&mut open, channel, genesis_hash, |book| {
				book.ack(settlement, sample, validator).cloned()
			})?
			.flatten())
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
		module
			.register_method("channel_receipts", |params: Params, endpoint: &Arc<Self>, _| {
				let (query, signature): (String, String) = params.parse()?;
				let query = decode_hex::<ReceiptsQuery>(&query)
					.ok_or_else(|| error(REFUSED, "the query is not SCALE hex"))?;
				let signature = decode_signature(&signature)
					.ok_or_else(|| error(REFUSED, "the signature is not 64 bytes of hex"))?;
				let served = endpoint.receipts(query, signature)?;
				Ok::<_, ErrorObjectOwned>(to_hex(&served.encode()))
			})
			.map_err(register)?;
		module
			.register_async_method("channel_payload", |params, endpoint, _| async move {
				let (access, signature): (String, String) = params.parse()?;
				let access = decode_hex::<PayloadAccess>(&access)
					.ok_or_else(|| error(REFUSED, "the access is not SCALE hex"))?;
				let signature = decode_signature(&signature)
					.ok_or_else(|| error(REFUSED, "the signature is not 64 bytes of hex"))?;
				let delivery = endpoint.payload(access, signature).await?;
				Ok::<_, ErrorObjectOwned>(to_hex(&delivery.encode()))
			})
			.map_err(register)?;
		module
			.register_async_method("channel_ack", |params, endpoint, _| async move {
				let ack: String = params.one()?;
				let signed = decode_hex::<SignedAck>(&ack)
					.ok_or_else(|| error(REFUSED, "the acknowledgement is not SCALE hex"))?;
				endpoint.ack(signed).await?;
				Ok::<_, ErrorObjectOwned>(true)
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

	/// A sample's payload, for validator `access.validator` (signed with its worker key).
	pub async fn payload(
		&self,
		access: &PayloadAccess,
		signature: &sr25519::Signature,
	) -> std::result::Result<Delivery, jsonrpsee::core::ClientError> {
		use jsonrpsee::core::client::ClientT;
		let answer: String = self
			.client
			.request(
				"channel_payload",
				jsonrpsee::rpc_params![to_hex(&access.encode()), to_hex(&signature.0)],
			)
			.await?;
		decode_hex(&answer).ok_or_else(|| {
			jsonrpsee::core::ClientError::Custom("the payload is not SCALE hex".into())
		})
	}

	/// Sends a delivery's acknowledgement.
	pub async fn ack(
		&self,
		signed: &SignedAck,
	) -> std::result::Result<(), jsonrpsee::core::ClientError> {
		use jsonrpsee::core::client::ClientT;
		let _: bool = self
			.client
			.request("channel_ack", jsonrpsee::rpc_params![to_hex(&signed.encode())])
			.await?;
		Ok(())
	}

	/// The receipts `query` asks for (signed `signature` by the channel key).
	pub async fn receipts(
		&self,
		query: &ReceiptsQuery,
		signature: &sr25519::Signature,
	) -> std::result::Result<Vec<Served>, jsonrpsee::core::ClientError> {
		use jsonrpsee::core::client::ClientT;
		let answer: String = self
			.client
			.request(
				"channel_receipts",
				jsonrpsee::rpc_params![to_hex(&query.encode()), to_hex(&signature.0)],
			)
			.await?;
		decode_hex(&answer).ok_or_else(|| {
			jsonrpsee::core::ClientError::Custom("the receipts are not SCALE hex".into())
		})
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
