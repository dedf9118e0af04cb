//! The developer's gateway (`gonka-worker gateway`, `docs/developer.md`): an
//! OpenAI-compatible HTTP API ([`http`], [`openai`]) over inference channels. It holds
//! each channel's key (never the account key), sends each request to a committee member
//! with allowance left, fails over to another when one does not take it, streams the
//! completion as it comes, checks the receipt and signs the voucher
//! ([`crate::channel::developer`]), and sends the voucher to the executor.
//!
//! Where the channels come from is a [`ChannelSupply`]: the chain's (opening and rotating
//! channels, `supply`) or, in tests, a fixed one.
//!
//! **Choosing a member.** The members whose allowance left covers the request's maximum
//! cost and that sent no bad receipt, the one running fewest of this gateway's requests
//! first (an executor runs its requests one after another: requests at once spread over
//! the committee), then the most allowance left. The first try takes a new
//! nonce; each next try is the same nonce's next try, to the next member, while the
//! member did not take it (not serving it, busy, unreachable, its allowance or voucher
//! lag). When none takes it: 402 `insufficient_quota` if a member's allowance was the
//! reason (or no member has allowance left), 429 `rate_limit_exceeded` if a voucher lag
//! was, 503 otherwise. Once a member streams, the request is its: a failure then is an
//! error event (the tokens already sent cannot be taken back).
//!
//! **Receipts.** A receipt that fails the gateway's checks is not countersigned and the
//! client gets a 502 `bad_receipt` error event. The member is not asked again when the
//! receipt proves it cheated (a bad signature or encoding, a receipt that is not the
//! request's, or not the tokens streamed, or more tokens than asked for), not for what a
//! lost receipt (`seq`) or an allowance the gateway has not yet seen grow explains.

pub mod config;
pub mod http;
pub mod keys;
pub mod openai;
pub mod supply;

use crate::{
	api::channels::{decode_hex, to_hex, ExecutorClient, InferEvent, ALLOWANCE, VOUCHER_LAG},
	channel::{
		developer::{DeveloperChannel, Fault},
		executor::Payload,
		prompt::{self},
	},
	inference::tokenizer::ChatTokenizer,
};
use codec::Decode;
use gonka_primitives::{
	channel::{max_cost, FinishReason, Receipt},
	HostId,
};
use openai::{ApiError, CompletionRequest, Usage};
use polkadot_sdk::sp_core::sr25519;
use serde_json::{json, Value};
use std::{
	collections::{BTreeMap, BTreeSet},
	sync::{Arc, Mutex},
	time::Duration,
};

/// How long the gateway waits for a member's next event (a token or the receipt).
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(120);

/// A channel the gateway sends a model's requests to.
pub struct ModelChannel {
	/// The model's name, as clients ask for it.
	pub name: String,
	/// The model's tokenizer (the gateway counts prompt tokens and decodes completions).
	pub tokenizer: Arc<ChatTokenizer>,
	/// The channel's book.
	pub book: Mutex<DeveloperChannel>,
	/// Each member's endpoint.
	pub endpoints: BTreeMap<HostId, String>,
}

/// Where the gateway's channels come from.
pub trait ChannelSupply: Send + Sync + 'static {
	/// The models served, by name.
	fn models(&self) -> Vec<String>;
	/// The channel to send `model`'s next request to, if one is open.
	fn channel(&self, model: &str) -> Option<Arc<ModelChannel>>;
}

/// What a completion streams.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
	/// More text.
	Text(String),
	/// The end: why, the token counts, and the receipt with its voucher (`x_gonka`).
	Done {
		/// Why the completion ended.
		finish: FinishReason,
		/// Its token counts.
		usage: Usage,
		/// The receipt, its signature, the voucher signed for it.
		receipt: Value,
	},
	/// It failed after it started.
	Error(ApiError),
}

/// The gateway.
pub struct Gateway {
	supply: Arc<dyn ChannelSupply>,
	clients: tokio::sync::Mutex<BTreeMap<String, Arc<ExecutorClient>>>,
	avoided: Mutex<BTreeSet<HostId>>,
	/// The requests each member is running for this gateway now.
	busy: Mutex<BTreeMap<HostId, u32>>,
	keys: Option<Arc<keys::ApiKeys>>,
}

/// A request a member runs, counted in [`Gateway::busy`] until dropped.
struct Busy {
	gateway: Arc<Gateway>,
	host: HostId,
}

impl Busy {
	fn new(gateway: &Arc<Gateway>, host: &HostId) -> Self {
		*lock(&gateway.busy).entry(host.clone()).or_default() += 1;
		Self { gateway: gateway.clone(), host: host.clone() }
	}
}

impl Drop for Busy {
	fn drop(&mut self) {
		let mut busy = lock(&self.gateway.busy);
		if let Some(count) = busy.get_mut(&self.host) {
			*count = count.saturating_sub(1);
			if *count == 0 {
				busy.remove(&self.host);
			}
		}
	}
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
	mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn unavailable(message: impl Into<String>) -> ApiError {
	ApiError::new(503, "service_unavailable", "service_unavailable", message)
}

impl Gateway {
	/// A gateway over `supply`'s channels, open to whoever reaches it.
	pub fn new(supply: Arc<dyn ChannelSupply>) -> Arc<Self> {
		Self::hosted(supply, None)
	}

	/// A gateway over `supply`'s channels that serves only the holders of `keys` (open
	/// if `None`).
	pub fn hosted(supply: Arc<dyn ChannelSupply>, keys: Option<Arc<keys::ApiKeys>>) -> Arc<Self> {
		Arc::new(Self {
			supply,
			clients: tokio::sync::Mutex::new(BTreeMap::new()),
			avoided: Mutex::new(BTreeSet::new()),
			busy: Mutex::new(BTreeMap::new()),
			keys,
		})
	}

	/// The hosted mode's keys, if any.
	pub fn keys(&self) -> Option<&Arc<keys::ApiKeys>> {
		self.keys.as_ref()
	}

	/// The models served.
	pub fn models(&self) -> Vec<String> {
		self.supply.models()
	}

	async fn client(&self, endpoint: &str) -> Option<Arc<ExecutorClient>> {
		let mut clients = self.clients.lock().await;
		if let Some(client) = clients.get(endpoint).filter(|client| client.is_connected()) {
			return Some(client.clone());
		}
		match ExecutorClient::connect(endpoint).await {
			Ok(client) => {
				let client = Arc::new(client);
				clients.insert(endpoint.to_string(), client.clone());
				Some(client)
			}
			Err(error) => {
				tracing::info!(endpoint, %error, "a committee member's endpoint does not answer");
				clients.remove(endpoint);
				None
			}
		}
	}

	/// Starts a completion (for the hosted mode's `key`, whose spending room holds the
	/// request's maximum cost until its receipt is charged): sends the request to a member
	/// that takes it, and streams its events; or says why no member took it.
	pub async fn complete(
		self: &Arc<Self>,
		request: CompletionRequest,
		key: Option<keys::KeyHash>,
	) -> Result<tokio::sync::mpsc::UnboundedReceiver<Event>, ApiError> {
		let channel = self.supply.channel(&request.model).ok_or_else(|| {
			if self.supply.models().contains(&request.model) {
				unavailable(format!(
					"no channel of `{}` is open yet; try again shortly",
					request.model
				))
			} else {
				ApiError::new(
					404,
					"invalid_request_error",
					"model_not_found",
					format!(
						"the model `{}` does not exist; GET /v1/models lists the models",
						request.model
					),
				)
			}
		})?;
		let bytes = prompt::check(&request.messages)
			.map_err(|bad| ApiError::invalid(bad.to_string(), Some("messages"), "invalid_value"))?;
		let prompt_ids =
			channel.tokenizer.chat_conversation(&prompt::turns(&request.messages)).map_err(
				|error| ApiError::invalid(error.to_string(), Some("messages"), "invalid_value"),
			)?;
		let (view, allowances) = {
			let book = lock(&channel.book);
			let view = book.view().clone();
			let left: Vec<(HostId, u128)> = view
				.members
				.iter()
				.map(|(host, member)| {
					(host.clone(), member.allowance.saturating_sub(book.total(host)))
				})
				.collect();
			(view, left)
		};
		let room = u64::from(view.max_request_tokens)
			.saturating_sub(u64::from(bytes))
			.saturating_sub(u64::from(view.template_overhead));
		let max_tokens = match request.max_tokens {
			Some(asked) if u64::from(asked) > room => {
				return Err(ApiError::invalid(
					format!(
						"the prompt and max_tokens take {} tokens; a request of this channel may take {}",
						u64::from(bytes) + u64::from(view.template_overhead) + u64::from(asked),
						view.max_request_tokens
					),
					Some("max_tokens"),
					"context_length_exceeded",
				))
			}
			Some(asked) => asked,
			None if room == 0 => {
				return Err(ApiError::invalid(
					format!(
						"the prompt leaves no room in a request of {} tokens",
						view.max_request_tokens
					),
					Some("messages"),
					"context_length_exceeded",
				))
			}
			None => room as u32,
		};
		let most =
			max_cost(bytes, view.template_overhead, max_tokens, view.price).unwrap_or(u128::MAX);
		let reservation = match (&self.keys, key) {
			(Some(keys), Some(key)) => Some(keys.reserve(key, most)?),
			_ => None,
		};
		let funded: Vec<(HostId, u128)> =
			allowances.into_iter().filter(|(_, left)| *left >= most).collect();
		if funded.is_empty() {
			return Err(ApiError::new(
				402,
				"insufficient_quota",
				"insufficient_quota",
				"no committee member has allowance left for this request; the channel needs a top-up",
			));
		}
		let mut candidates: Vec<(HostId, u128)> = {
			let avoided = lock(&self.avoided);
			funded.into_iter().filter(|(host, _)| !avoided.contains(host)).collect()
		};
		if candidates.is_empty() {
			return Err(unavailable(
				"no committee member can take the request: members that sent bad receipts are not asked again",
			));
		}
		// The least busy first (a member runs its requests one after another), then the
		// most allowance left.
		{
			let busy = lock(&self.busy);
			let running = |host: &HostId| busy.get(host).copied().unwrap_or(0);
			candidates.sort_by(|a, b| {
				running(&a.0)
					.cmp(&running(&b.0))
					.then_with(|| b.1.cmp(&a.1))
					.then_with(|| a.0.cmp(&b.0))
			});
		}
		let (mut nonce, mut refusals) = (None, Vec::new());
		for (attempt, (host, _)) in candidates.iter().enumerate() {
			let Ok(attempt) = u8::try_from(attempt) else { break };
			let Some(endpoint) = channel.endpoints.get(host) else { continue };
			// Counted busy from its choice on (no await since the sort): requests at once
			// see each other's choice. Dropped if the member does not take it.
			let busy = Busy::new(self, host);
			let signed = {
				let mut book = lock(&channel.book);
				match book.request(
					host,
					nonce,
					attempt,
					&request.messages,
					max_tokens,
					request.sampling,
				) {
					Ok(Ok(signed)) => signed,
					Ok(Err(bad)) => {
						return Err(ApiError::invalid(
							bad.to_string(),
							Some("messages"),
							"invalid_value",
						))
					}
					Err(error) => {
						return Err(unavailable(format!("the gateway's journal: {error}")))
					}
				}
			};
			nonce = Some(signed.request.nonce);
			let payload = Payload {
				request: signed.request,
				request_signature: signed.signature,
				salt: signed.salt,
				messages: request.messages.clone(),
			};
			let Some(client) = self.client(endpoint).await else {
				refusals.push(0);
				continue;
			};
			match client.infer(&payload).await {
				Ok(subscription) => {
					let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
					let gateway = self.clone();
					let stream = Stream {
						channel: channel.clone(),
						client,
						payload,
						prompt_tokens: prompt_ids.len() as u32,
						reservation: Mutex::new(reservation),
						_busy: busy,
					};
					tokio::spawn(async move { gateway.drive(stream, subscription, sender).await });
					return Ok(receiver);
				}
				Err(jsonrpsee::core::ClientError::Call(refused)) => {
					tracing::info!(host = %host, code = refused.code(), reason = refused.message(), "a member did not take a request");
					refusals.push(refused.code());
					// It said so: no receipt of it is ever countersigned.
					if let Err(error) = lock(&channel.book).declined(&payload.request) {
						tracing::warn!(%error, "the gateway's journal");
					}
				}
				Err(error) => {
					tracing::info!(host = %host, %error, "a member's endpoint failed");
					self.clients.lock().await.remove(endpoint);
					refusals.push(0);
				}
			}
		}
		Err(if refusals.contains(&ALLOWANCE) {
			ApiError::new(
				402,
				"insufficient_quota",
				"insufficient_quota",
				"the committee's allowance is spent; the channel needs a top-up",
			)
		} else if refusals.contains(&VOUCHER_LAG) {
			ApiError::new(
				429,
				"rate_limit_exceeded",
				"rate_limit_exceeded",
				"the committee waits for vouchers; retry shortly",
			)
		} else {
			unavailable("no committee member took the request")
		})
	}

	async fn drive(
		self: Arc<Self>,
		stream: Stream,
		mut subscription: jsonrpsee::core::client::Subscription<InferEvent>,
		events: tokio::sync::mpsc::UnboundedSender<Event>,
	) {
		let tokenizer = stream.channel.tokenizer.clone();
		let (mut ids, mut sent) = (Vec::<u32>::new(), 0usize);
		let failed =
			|message: String| Event::Error(ApiError::new(502, "api_error", "bad_gateway", message));
		loop {
			let next = match tokio::time::timeout(EVENT_TIMEOUT, subscription.next()).await {
				Ok(Some(Ok(event))) => event,
				Ok(Some(Err(error))) => {
					let _ = events
						.send(failed(format!("the executor sent a malformed event: {error}")));
					return;
				}
				Ok(None) => {
					let _ = events
						.send(failed("the executor closed the stream before its receipt".into()));
					return;
				}
				Err(_) => {
					let _ = events
						.send(failed(format!("no event from the executor in {EVENT_TIMEOUT:?}")));
					return;
				}
			};
			match next {
				InferEvent::Tokens { ids: more } => {
					ids.extend(more);
					// More tokens than asked for: no receipt could be countersigned.
					if ids.len() > stream.payload.request.max_tokens as usize {
						self.avoid(&stream);
						let _ = events.send(failed(format!(
							"the executor streamed more than the {} tokens asked for",
							stream.payload.request.max_tokens
						)));
						return;
					}
					// An incomplete character at the end is held back for the next token.
					if let Some(more) =
						unsent(&tokenizer, &ids, sent).filter(|more| !more.ends_with('\u{FFFD}'))
					{
						sent += more.len();
						let _ = events.send(Event::Text(more));
					}
				}
				InferEvent::Failed { reason } => {
					let _ = events.send(failed(format!("the executor failed: {reason}")));
					return;
				}
				InferEvent::Receipt { receipt, signature } => {
					// The text held back (an incomplete character) goes out with the end.
					if let Some(rest) = unsent(&tokenizer, &ids, sent) {
						let _ = events.send(Event::Text(rest));
					}
					let (event, cheated) = self.receipt(&stream, &ids, &receipt, &signature).await;
					// A member is not asked again only for what proves it cheated (a bad
					// signature, a receipt that is not the request's or the tokens'), not for
					// what a lost receipt or a stale allowance explains.
					if cheated {
						self.avoid(&stream);
					}
					let _ = events.send(event);
					return;
				}
			}
		}
	}

	/// A member whose stream proved it cheated: not asked again, and its try journaled as
	/// refused (after a restart, no receipt of it is recovered as lost).
	fn avoid(&self, stream: &Stream) {
		lock(&self.avoided).insert(stream.payload.request.executor.clone());
		if let Err(error) = lock(&stream.channel.book).refused(&stream.payload.request) {
			tracing::warn!(%error, "the gateway's journal");
		}
	}

	/// Checks a receipt, signs its voucher, sends it to the executor: the last event, and
	/// whether the receipt proves the executor cheated.
	async fn receipt(
		&self,
		stream: &Stream,
		ids: &[u32],
		receipt: &str,
		signature: &str,
	) -> (Event, bool) {
		let bad =
			|message: String| Event::Error(ApiError::new(502, "api_error", "bad_receipt", message));
		let Some(receipt) = decode_hex::<Receipt>(receipt) else {
			return (bad("the receipt does not decode".into()), true);
		};
		let Some(signature) = signature
			.strip_prefix("0x")
			.and_then(|text| hex::decode(text).ok())
			.and_then(|bytes| sr25519::Signature::decode(&mut bytes.as_slice()).ok())
		else {
			return (bad("the receipt's signature does not decode".into()), true);
		};
		let tokenizer = &stream.channel.tokenizer;
		let executor = &stream.payload.request.executor;
		let mut recovered = false;
		let voucher = loop {
			let accepted = {
				let mut book = lock(&stream.channel.book);
				// Countersigned already: another request's task recovered it as lost.
				match book.countersigned(executor, &receipt) {
					Some(voucher) => Ok(Ok(voucher.clone())),
					None => book.accept(
						&stream.payload.request,
						receipt.clone(),
						&signature,
						ids,
						stream.prompt_tokens,
						tokenizer.end_tokens(),
					),
				}
			};
			match accepted {
				Ok(Ok(voucher)) => {
					// Signed: the key pays it, whether or not its client is still there.
					if let Some(reservation) = lock(&stream.reservation).take() {
						reservation.charge(receipt.cost);
					}
					break voucher;
				}
				// Receipts before it were lost (a restart, a broken stream): countersigned
				// first, if the member serves them and they pass.
				Ok(Err(Fault::Seq { expected, got })) if got > expected && !recovered => {
					recovered = true;
					if let Err(fault) =
						recover(&stream.channel, &stream.client, executor, got).await
					{
						tracing::warn!(%executor, %fault, "lost receipts were not recovered");
						if let Recovery::Fault(cause) = &fault {
							if cause.proves_cheating() {
								return (
									bad(format!(
										"the executor's lost receipts were refused: {fault}"
									)),
									true,
								);
							}
						}
					}
				}
				Ok(Err(fault)) => {
					tracing::warn!(executor = %stream.payload.request.executor, %fault, "a receipt was not countersigned");
					return (
						bad(format!("the executor's receipt was not countersigned: {fault}")),
						fault.proves_cheating(),
					);
				}
				Err(error) => return (bad(format!("the gateway's journal: {error}")), false),
			}
		};
		if let Err(error) = stream.client.voucher(&voucher).await {
			// Signed and journaled: sent again with the next receipt's voucher, or claimed
			// by the executor as tail.
			tracing::info!(executor = %stream.payload.request.executor, %error, "a voucher was not delivered");
		}
		let done = Event::Done {
			finish: receipt.finish,
			usage: Usage::new(receipt.prompt_tokens, receipt.completion_tokens),
			receipt: json!({
				"channel": receipt.channel,
				"executor": stream.payload.request.executor.to_string(),
				"nonce": receipt.nonce,
				"attempt": receipt.attempt,
				"seq": receipt.seq,
				"cost": receipt.cost.to_string(),
				"receipt": to_hex(&codec::Encode::encode(&receipt)),
				"signature": to_hex(&signature.0),
				"voucher": { "count": voucher.voucher.count, "amount": voucher.voucher.amount.to_string() },
			}),
		};
		(done, false)
	}
}

/// Why lost receipts were not (all) countersigned.
#[derive(Debug, thiserror::Error)]
enum Recovery {
	/// The member did not serve them (unreachable, or it refused the query).
	#[error("the member did not serve them: {0}")]
	Unserved(String),
	/// One did not pass (a receipt the member should not have signed, or not served as
	/// signed).
	#[error(transparent)]
	Fault(Fault),
	/// The gateway's journal failed.
	#[error("the gateway's journal: {0}")]
	Journal(crate::Error),
}

/// Countersigns `executor`'s receipts of `channel` that the gateway lost, up to `seq` `to`
/// (exclusive): asks the member for them (`channel_receipts`, in parts) and checks each
/// ([`DeveloperChannel::recover`]).
async fn recover(
	channel: &ModelChannel,
	client: &ExecutorClient,
	executor: &HostId,
	to: u32,
) -> Result<(), Recovery> {
	loop {
		let (query, signature) = lock(&channel.book).receipts_query(executor, to);
		if query.from >= to {
			return Ok(());
		}
		let served = client
			.receipts(&query, &signature)
			.await
			.map_err(|error| Recovery::Unserved(error.to_string()))?;
		if served.is_empty() {
			return Err(Recovery::Unserved(format!("no receipt from seq {}", query.from)));
		}
		let counts: Vec<u32> = served
			.iter()
			.map(|one| {
				let turns = prompt::turns(&one.payload.messages);
				channel.tokenizer.chat_conversation(&turns).map_or(u32::MAX, |ids| ids.len() as u32)
			})
			.collect();
		let (voucher, fault) = lock(&channel.book)
			.recover(executor, &served, &counts, channel.tokenizer.end_tokens())
			.map_err(Recovery::Journal)?;
		if let Some(voucher) = &voucher {
			tracing::info!(%executor, count = voucher.voucher.count, "lost receipts countersigned");
		}
		if let Some(fault) = fault {
			return Err(Recovery::Fault(fault));
		}
		// No receipt was the next: another task recovered them meanwhile, or the member
		// served others than those asked for.
		let now = lock(&channel.book).receipts(executor).len() as u32;
		if voucher.is_none() && now <= query.from {
			return Err(Recovery::Fault(Fault::Seq {
				expected: query.from,
				got: served[0].receipt.seq,
			}));
		}
	}
}

/// The text of the completion `ids` (end tokens left out) after its first `sent` bytes, if
/// there is more.
fn unsent(tokenizer: &ChatTokenizer, ids: &[u32], sent: usize) -> Option<String> {
	let text: Vec<u32> = ids.iter().copied().filter(|id| !tokenizer.is_end(*id)).collect();
	let decoded = tokenizer.decode(&text).ok()?;
	decoded.get(sent..).filter(|more| !more.is_empty()).map(str::to_string)
}

/// A request a member took.
struct Stream {
	channel: Arc<ModelChannel>,
	client: Arc<ExecutorClient>,
	payload: Payload,
	prompt_tokens: u32,
	/// Its hold on its API key's spending room (hosted mode): charged when the voucher is
	/// signed, freed if it ends without one.
	reservation: Mutex<Option<keys::Reservation>>,
	/// Counts it in its member's requests running.
	_busy: Busy,
}
