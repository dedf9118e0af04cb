//! The developer's gateway (`gonka_worker::gateway`) over HTTP, with two executors'
//! endpoints running the real model and a fixed channel (the chain's supply of channels
//! is tested end to end in `node/tests`): the OpenAI-compatible answers, the stream, the
//! failover, the errors, and a cheating executor's receipt.

mod common;

use common::model_path;
use gonka_primitives::{
	channel::{ChannelMessage, Receipt},
	HostId, H256,
};
use gonka_worker::{
	api::{
		channels::{decode_hex, to_hex, ChannelEndpoint, ChannelViews, ExecutorClient, InferEvent},
		proofs::{ProofBook, ProofServer},
	},
	channel::{
		developer::{DeveloperChannel, DeveloperView, Member},
		executor::{ChannelView, Payload},
		prompt::{ChatMessage, Role},
	},
	engine::ModelEngine,
	gateway::{
		config::ApiKeyConfig,
		http::GatewayServer,
		keys::{hash_key, new_key, ApiKeys},
		ChannelSupply, Gateway, ModelChannel,
	},
	inference::{generate::generate, sampler, score::Tolerance, tokenizer::ChatTokenizer},
	model::Llama,
};
use polkadot_sdk::sp_core::{sr25519, Pair};
use serde_json::{json, Value};
use std::{
	collections::BTreeMap,
	io::{Read, Write},
	sync::{Arc, Mutex, OnceLock},
};

const GENESIS: H256 = H256::repeat_byte(0x42);
const CHANNEL: u64 = 11;
const PRICE: u128 = 1_000;
const OVERHEAD: u32 = gonka_primitives::inference::SMOLLM2_TEMPLATE_OVERHEAD;
const MODEL: &str = "SmolLM2-135M-Instruct";

fn engine() -> Arc<ModelEngine> {
	static ENGINE: OnceLock<Arc<ModelEngine>> = OnceLock::new();
	ENGINE
		.get_or_init(|| {
			let (model, content) = Llama::load(&model_path(), &candle_core::Device::Cpu).unwrap();
			let tokenizer = ChatTokenizer::from_gguf(&content).unwrap();
			Arc::new(ModelEngine { model_id: 0, model, tokenizer, tolerance: Tolerance::default() })
		})
		.clone()
}

struct Views {
	channel_key: sr25519::Public,
	allowance: u128,
}

impl ChannelViews for Views {
	fn view(&self, channel: u64) -> Option<ChannelView> {
		(channel == CHANNEL).then_some(ChannelView {
			channel,
			genesis_hash: GENESIS,
			channel_key: self.channel_key,
			price: PRICE,
			template_overhead: OVERHEAD,
			max_request_tokens: 256,
			allowance: self.allowance,
			ends: 1_000,
		})
	}

	fn best_block(&self) -> u32 {
		10
	}
}

struct Supply(Arc<ModelChannel>);

impl ChannelSupply for Supply {
	fn models(&self) -> Vec<String> {
		vec![MODEL.to_string()]
	}

	fn channel(&self, model: &str) -> Option<Arc<ModelChannel>> {
		(model == MODEL).then(|| self.0.clone())
	}
}

struct Executor {
	host: HostId,
	worker_key: sr25519::Pair,
	endpoint: String,
	_server: Option<ProofServer>,
}

fn executor(
	name: &str,
	channel_key: &sr25519::Pair,
	allowance: u128,
	dir: &std::path::Path,
	serving: bool,
) -> Executor {
	let worker_key = sr25519::Pair::from_string(&format!("//{name}//stash"), None).unwrap();
	let host =
		HostId::new(sr25519::Pair::from_string(&format!("//{name}"), None).unwrap().public().0);
	if !serving {
		// An endpoint nobody listens on.
		let address = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
		return Executor { host, worker_key, endpoint: format!("http://{address}"), _server: None };
	}
	let views = Arc::new(Views { channel_key: channel_key.public(), allowance });
	let endpoint =
		ChannelEndpoint::new(host.clone(), worker_key.clone(), dir.join(name), views, engine())
			.unwrap();
	let server =
		ProofServer::start_with("127.0.0.1:0", ProofBook::default(), endpoint.methods().unwrap())
			.unwrap();
	Executor {
		host,
		worker_key,
		endpoint: format!("http://{}", server.address()),
		_server: Some(server),
	}
}

struct Setup {
	_dir: tempfile::TempDir,
	server: GatewayServer,
	gateway: Arc<Gateway>,
	channel: Arc<ModelChannel>,
	executors: Vec<Executor>,
}

fn setup(members: &[(&str, bool)], allowance: u128) -> Setup {
	setup_hosted(members, allowance, None)
}

fn setup_hosted(members: &[(&str, bool)], allowance: u128, keys: Option<Arc<ApiKeys>>) -> Setup {
	let dir = tempfile::tempdir().unwrap();
	let channel_key = sr25519::Pair::from_string("//Charlie//channel//0", None).unwrap();
	let executors: Vec<Executor> = members
		.iter()
		.map(|(name, serving)| executor(name, &channel_key, allowance, dir.path(), *serving))
		.collect();
	let view = DeveloperView {
		channel: CHANNEL,
		genesis_hash: GENESIS,
		price: PRICE,
		template_overhead: OVERHEAD,
		max_request_tokens: 256,
		members: executors
			.iter()
			.map(|e| (e.host.clone(), Member { worker_key: e.worker_key.public(), allowance }))
			.collect(),
	};
	let book = DeveloperChannel::open(&dir.path().join("gateway.log"), view, channel_key).unwrap();
	let (model, content) = Llama::load(&model_path(), &candle_core::Device::Cpu).unwrap();
	drop(model);
	let channel = Arc::new(ModelChannel {
		name: MODEL.to_string(),
		tokenizer: Arc::new(ChatTokenizer::from_gguf(&content).unwrap()),
		book: Mutex::new(book),
		endpoints: executors
			.iter()
			.map(|e| (e.host.clone(), e.endpoint.clone()))
			.collect::<BTreeMap<_, _>>(),
	});
	let gateway = Gateway::hosted(Arc::new(Supply(channel.clone())), keys);
	let server = GatewayServer::start("127.0.0.1:0", gateway.clone()).unwrap();
	Setup { _dir: dir, server, gateway, channel, executors }
}

/// An HTTP exchange: the status and the body.
fn http(server: &GatewayServer, method: &str, path: &str, body: &str) -> (u16, String) {
	http_as(server, None, method, path, body)
}

/// An HTTP exchange with the API key `key`, if any.
fn http_as(
	server: &GatewayServer,
	key: Option<&str>,
	method: &str,
	path: &str,
	body: &str,
) -> (u16, String) {
	let mut stream = std::net::TcpStream::connect(server.address()).unwrap();
	let authorization =
		key.map(|key| format!("Authorization: Bearer {key}\r\n")).unwrap_or_default();
	write!(
		stream,
		"{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
		 {authorization}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
		body.len()
	)
	.unwrap();
	let mut answer = String::new();
	stream.read_to_string(&mut answer).unwrap();
	let status = answer[9..12].parse().unwrap();
	let (head, rest) = answer.split_once("\r\n\r\n").unwrap();
	let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
		dechunk(rest)
	} else {
		rest.to_string()
	};
	(status, body)
}

fn dechunk(mut rest: &str) -> String {
	let mut body = String::new();
	loop {
		let (size, after) = rest.split_once("\r\n").unwrap();
		let size = usize::from_str_radix(size.trim(), 16).unwrap();
		if size == 0 {
			return body;
		}
		body.push_str(&after[..size]);
		rest = &after[size + 2..];
	}
}

fn local(text: &str, max_tokens: usize) -> String {
	let engine = engine();
	generate(&engine.model, &engine.tokenizer, text, max_tokens, &sampler::SamplingParams::GREEDY)
		.unwrap()
		.text
}

const QUESTION: &str = "What is the capital of France?";

#[test]
fn the_gateway_lists_its_models_and_answers_a_chat_completion_with_the_local_greedy_text() {
	let setup = setup(&[("Alice", true), ("Bob", true)], u128::MAX);
	let (status, body) = http(&setup.server, "GET", "/v1/models", "");
	assert_eq!(status, 200, "{body}");
	let models: Value = serde_json::from_str(&body).unwrap();
	assert_eq!(models["data"][0]["id"], json!(MODEL));

	let request = json!({"model": MODEL, "messages": [{"role": "user", "content": QUESTION}], "max_tokens": 12, "temperature": 0});
	let (status, body) = http(&setup.server, "POST", "/v1/chat/completions", &request.to_string());
	assert_eq!(status, 200, "{body}");
	let answer: Value = serde_json::from_str(&body).unwrap();
	assert_eq!(answer["object"], json!("chat.completion"));
	assert_eq!(answer["choices"][0]["message"]["content"], json!(local(QUESTION, 12)));
	let usage = &answer["usage"];
	assert_eq!(
		usage["total_tokens"],
		json!(
			usage["prompt_tokens"].as_u64().unwrap() + usage["completion_tokens"].as_u64().unwrap()
		)
	);
	// The receipt, and the voucher the gateway signed for it.
	let receipt: Receipt = decode_hex(answer["x_gonka"]["receipt"].as_str().unwrap()).unwrap();
	assert_eq!(receipt.channel, CHANNEL);
	assert_eq!(answer["x_gonka"]["voucher"]["count"], json!(1));
	let executor: HostId = answer["x_gonka"]["executor"].as_str().unwrap().parse().unwrap();
	assert_eq!(setup.channel.book.lock().unwrap().total(&executor), receipt.cost);
}

#[test]
fn the_gateway_streams_well_formed_server_sent_events_then_done() {
	let setup = setup(&[("Alice", true)], u128::MAX);
	let request = json!({
		"model": MODEL, "messages": [{"role": "user", "content": QUESTION}], "max_tokens": 12,
		"temperature": 0, "stream": true, "stream_options": {"include_usage": true},
	});
	let (status, body) = http(&setup.server, "POST", "/v1/chat/completions", &request.to_string());
	assert_eq!(status, 200, "{body}");
	let events: Vec<&str> = body.split("\n\n").filter(|event| !event.is_empty()).collect();
	assert!(events.iter().all(|event| event.starts_with("data: ")), "{body}");
	assert_eq!(*events.last().unwrap(), "data: [DONE]");
	let chunks: Vec<Value> = events[..events.len() - 1]
		.iter()
		.map(|event| serde_json::from_str(&event["data: ".len()..]).unwrap())
		.collect();
	assert!(chunks.iter().all(|chunk| chunk["object"] == json!("chat.completion.chunk")));
	assert_eq!(chunks[0]["choices"][0]["delta"]["role"], json!("assistant"));
	let text: String = chunks
		.iter()
		.filter_map(|chunk| chunk["choices"][0]["delta"]["content"].as_str())
		.collect();
	assert_eq!(text, local(QUESTION, 12));
	let finish = &chunks[chunks.len() - 2];
	assert!(["stop", "length"].contains(&finish["choices"][0]["finish_reason"].as_str().unwrap()));
	assert!(finish["x_gonka"]["receipt"].is_string());
	let usage = &chunks[chunks.len() - 1];
	assert_eq!(usage["choices"], json!([]));
	assert!(usage["usage"]["completion_tokens"].as_u64().unwrap() >= 1);
	// More than one content delta: the text came as it was drawn.
	assert!(
		chunks.iter().filter(|chunk| chunk["choices"][0]["delta"]["content"].is_string()).count()
			> 2
	);
}

#[test]
fn a_member_that_does_not_answer_is_skipped_for_the_next_try_of_the_same_nonce() {
	// The members are tried most allowance left first, then by account: the first one's
	// endpoint is down.
	let account = |name: &str| {
		HostId::new(sr25519::Pair::from_string(&format!("//{name}"), None).unwrap().public().0)
	};
	let (first, second) =
		if account("Alice") < account("Bob") { ("Alice", "Bob") } else { ("Bob", "Alice") };
	let setup = setup(&[(first, false), (second, true)], u128::MAX);
	for _ in 0..2 {
		let request = json!({"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 3});
		let (status, body) =
			http(&setup.server, "POST", "/v1/chat/completions", &request.to_string());
		assert_eq!(status, 200, "{body}");
		let answer: Value = serde_json::from_str(&body).unwrap();
		let executor: HostId = answer["x_gonka"]["executor"].as_str().unwrap().parse().unwrap();
		assert_eq!(executor, account(second));
		assert_eq!(answer["x_gonka"]["attempt"], json!(1), "the nonce's second try");
	}
}

#[test]
fn errors_answer_in_openais_shape_with_the_status_the_spec_names() {
	let setup = setup(&[("Alice", true)], 60 * PRICE);
	let error = |status: u16, body: &str| {
		let value: Value = serde_json::from_str(body).unwrap();
		(status, value["error"]["code"].as_str().unwrap_or_default().to_string())
	};
	let ask = |body: Value| {
		let (status, answer) =
			http(&setup.server, "POST", "/v1/chat/completions", &body.to_string());
		error(status, &answer)
	};
	let hi = json!([{"role": "user", "content": "Hi"}]);
	assert_eq!(
		ask(json!({"model": MODEL, "messages": hi, "n": 3})),
		(400, "unsupported_parameter".into())
	);
	assert_eq!(ask(json!({"model": "gpt-4", "messages": hi})), (404, "model_not_found".into()));
	assert_eq!(ask(json!({"model": MODEL, "messages": []})), (400, "invalid_value".into()));
	assert_eq!(
		ask(json!({"model": MODEL, "messages": hi, "max_tokens": 250})),
		(400, "context_length_exceeded".into())
	);
	// (2 + 4 + 4 + 9 + 50) × price > 60 × price: no member has allowance for it.
	assert_eq!(
		ask(json!({"model": MODEL, "messages": hi, "max_tokens": 50})),
		(402, "insufficient_quota".into())
	);
	let (status, body) = http(&setup.server, "GET", "/v1/other", "");
	assert_eq!(error(status, &body), (404, "not_found".into()));

	let down = self::setup(&[("Bob", false)], u128::MAX);
	let (status, body) = http(
		&down.server,
		"POST",
		"/v1/chat/completions",
		&json!({"model": MODEL, "messages": hi}).to_string(),
	);
	assert_eq!(error(status, &body), (503, "service_unavailable".into()));
}

/// An executor whose endpoint streams the tokens, then a receipt inflated by `extra`
/// prompt tokens (cost to match), signed by its worker key.
fn inflating_executor(worker_key: sr25519::Pair, extra: u32) -> ProofServer {
	let mut module = jsonrpsee::RpcModule::new(worker_key);
	module
		.register_subscription(
			"channel_infer",
			"channel_event",
			"channel_unsubscribe",
			move |params, pending, key, _| async move {
				let payload: Payload = decode_hex(&params.one::<String>().unwrap()).unwrap();
				let sink = pending.accept().await.unwrap();
				let engine = engine();
				let prompt = engine
					.tokenizer
					.chat_conversation(&gonka_worker::channel::prompt::turns(&payload.messages))
					.unwrap();
				let request = payload.request;
				let ids = vec![engine.tokenizer.end_of_turn()];
				let send =
					|event: InferEvent| jsonrpsee::SubscriptionMessage::from_json(&event).unwrap();
				sink.send(send(InferEvent::Tokens { ids: ids.clone() })).await.unwrap();
				let prompt_tokens = prompt.len() as u32 + extra;
				let receipt = Receipt {
					channel: request.channel,
					seq: 0,
					nonce: request.nonce,
					attempt: request.attempt,
					request_hash: request.hash(),
					prompt_hash: request.prompt_hash,
					output_hash: H256(gonka_primitives::hash(&codec::Encode::encode(&ids))),
					prompt_tokens,
					completion_tokens: 1,
					finish: gonka_primitives::channel::FinishReason::Stop,
					seed: gonka_primitives::channel::request_seed(
						&GENESIS,
						request.channel,
						request.nonce,
						request.attempt,
					),
					cost: u128::from(prompt_tokens + 1) * PRICE,
				};
				let signature = receipt.sign(&GENESIS, &key);
				let event = InferEvent::Receipt {
					receipt: to_hex(&codec::Encode::encode(&receipt)),
					signature: to_hex(&signature.0),
				};
				sink.send(send(event)).await.unwrap();
			},
		)
		.unwrap();
	ProofServer::start_with("127.0.0.1:0", ProofBook::default(), module).unwrap()
}

#[test]
fn an_executor_that_inflates_a_receipt_is_never_countersigned_and_not_asked_again() {
	let setup = setup(&[("Alice", false)], u128::MAX);
	let server = inflating_executor(setup.executors[0].worker_key.clone(), 3);
	// The same channel, its member's endpoint the inflating one.
	let channel = Arc::new(ModelChannel {
		name: MODEL.into(),
		tokenizer: setup.channel.tokenizer.clone(),
		book: Mutex::new(
			DeveloperChannel::open(
				&setup._dir.path().join("inflated.log"),
				setup.channel.book.lock().unwrap().view().clone(),
				sr25519::Pair::from_string("//Charlie//channel//0", None).unwrap(),
			)
			.unwrap(),
		),
		endpoints: BTreeMap::from([(
			setup.executors[0].host.clone(),
			format!("http://{}", server.address()),
		)]),
	});
	let gateway =
		GatewayServer::start("127.0.0.1:0", Gateway::new(Arc::new(Supply(channel.clone()))))
			.unwrap();
	let request =
		json!({"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 3});
	let (status, body) = http(&gateway, "POST", "/v1/chat/completions", &request.to_string());
	assert_eq!(status, 502, "{body}");
	assert!(body.contains("bad_receipt") && body.contains("prompt tokens"), "{body}");
	assert_eq!(
		channel.book.lock().unwrap().total(&setup.executors[0].host),
		0,
		"nothing countersigned"
	);
	// Not asked again: no member is left to take the next request.
	let (status, body) = http(&gateway, "POST", "/v1/chat/completions", &request.to_string());
	assert_eq!(status, 503, "{body}");
	assert!(body.contains("bad receipts"), "{body}");
}

/// Hosted mode: every route needs one of the gateway's API keys (kept hashed, never
/// written), a completion its key's rate and spending room; what a key spent survives a
/// restart.
#[test]
fn hosted_mode_serves_only_its_keys_within_their_rate_and_spending() {
	let (limited, capped) = (new_key().unwrap(), new_key().unwrap());
	assert_ne!(limited, capped);
	let configs = vec![
		ApiKeyConfig {
			name: "limited".into(),
			key_hash: hex::encode(hash_key(&limited)),
			requests_per_minute: 2,
			max_spend: None,
		},
		ApiKeyConfig {
			name: "capped".into(),
			key_hash: hex::encode(hash_key(&capped)),
			requests_per_minute: 60,
			// Room for one request of this test (its maximum cost is 41 tokens'), not two.
			max_spend: Some(50 * PRICE as u64),
		},
	];
	let keys_dir = tempfile::tempdir().unwrap();
	let keys = ApiKeys::open(&configs, keys_dir.path()).unwrap();
	let setup = setup_hosted(&[("Alice", true)], u128::MAX, keys);
	let request = json!({"model": MODEL, "messages": [{"role": "user", "content": QUESTION}], "max_tokens": 2})
		.to_string();
	let code = |body: &str| {
		serde_json::from_str::<Value>(body).unwrap()["error"]["code"].as_str().unwrap().to_string()
	};
	// No key, a key that is not the gateway's: 401, on every route.
	for key in [None, Some("gk-0123")] {
		let (status, body) = http_as(&setup.server, key, "GET", "/v1/models", "");
		assert_eq!((status, code(&body).as_str()), (401, "invalid_api_key"), "{body}");
		let (status, body) = http_as(&setup.server, key, "POST", "/v1/chat/completions", &request);
		assert_eq!((status, code(&body).as_str()), (401, "invalid_api_key"), "{body}");
	}
	let (status, body) = http_as(&setup.server, Some(&limited), "GET", "/v1/models", "");
	assert_eq!(status, 200, "{body}");
	// Two requests a minute, then 429.
	for _ in 0..2 {
		let (status, body) =
			http_as(&setup.server, Some(&limited), "POST", "/v1/chat/completions", &request);
		assert_eq!(status, 200, "{body}");
	}
	let (status, body) =
		http_as(&setup.server, Some(&limited), "POST", "/v1/chat/completions", &request);
	assert_eq!((status, code(&body).as_str()), (429, "rate_limit_exceeded"), "{body}");
	// A path the gateway does not serve needs a key too.
	let (status, _) = http_as(&setup.server, None, "GET", "/v1/nothing", "");
	assert_eq!(status, 401);
	let (status, _) = http_as(&setup.server, Some(&capped), "GET", "/v1/nothing", "");
	assert_eq!(status, 404);
	// The capped key's first request fits; its spending and the next one's maximum cost
	// do not: refused.
	let (status, body) =
		http_as(&setup.server, Some(&capped), "POST", "/v1/chat/completions", &request);
	assert_eq!(status, 200, "{body}");
	let cost: u128 = serde_json::from_str::<Value>(&body).unwrap()["x_gonka"]["cost"]
		.as_str()
		.unwrap()
		.parse()
		.unwrap();
	let hash = hash_key(&capped);
	assert_eq!(setup.gateway.keys().unwrap().spent(&hash), Some(cost));
	let (status, body) =
		http_as(&setup.server, Some(&capped), "POST", "/v1/chat/completions", &request);
	assert_eq!((status, code(&body).as_str()), (429, "insufficient_quota"), "{body}");
	// A restart reads what each key spent back.
	let reopened = ApiKeys::open(&configs, keys_dir.path()).unwrap().unwrap();
	assert_eq!(reopened.spent(&hash), Some(cost));
	let limited_spent = setup.gateway.keys().unwrap().spent(&hash_key(&limited));
	assert!(limited_spent.is_some_and(|spent| spent > 0));
	assert_eq!(reopened.spent(&hash_key(&limited)), limited_spent);
	// The scheme's case and spacing do not matter; the spending read back refuses the
	// next request's maximum cost.
	let checked = reopened.check(Some(&format!("bearer  {capped}")));
	assert_eq!(checked.map_err(|error| error.status), Ok(hash));
	assert!(reopened.admit(hash, std::time::Instant::now()).is_ok());
	let refused = reopened.reserve(hash, 41 * PRICE).map(|_| ());
	assert_eq!(refused.map_err(|error| error.status), Err(429));
	// Requests at once hold their maximum cost: a second cannot overspend before the
	// first's receipt; a request that ends without a receipt frees its room.
	let fresh = hash_key(&limited);
	let configs = vec![ApiKeyConfig { max_spend: Some(100), ..configs[0].clone() }];
	let keys = ApiKeys::open(&configs, tempfile::tempdir().unwrap().path()).unwrap().unwrap();
	let first = keys.reserve(fresh, 60).unwrap();
	assert_eq!(keys.reserve(fresh, 60).map(|_| ()).map_err(|error| error.status), Err(429));
	drop(first);
	keys.reserve(fresh, 60).unwrap().charge(30);
	assert_eq!(keys.spent(&fresh), Some(30));
	assert!(keys.reserve(fresh, 70).is_ok());
	// No key is written anywhere: only hashes.
	for entry in std::fs::read_dir(keys_dir.path()).unwrap() {
		let bytes = std::fs::read(entry.unwrap().path()).unwrap();
		let text = String::from_utf8_lossy(&bytes);
		assert!(!text.contains(&limited) && !text.contains(&capped));
		assert!(!bytes.windows(32).any(|w| w == &hex::decode(&capped[3..]).unwrap()[..]));
	}
}

/// Requests at once spread over the committee: an executor runs its requests one after
/// another, so the gateway sends each to the member running fewest of its requests.
#[test]
fn requests_at_once_go_to_different_members() {
	let setup = setup(&[("Alice", true), ("Bob", true)], u128::MAX);
	let request = json!({"model": MODEL, "messages": [{"role": "user", "content": QUESTION}], "max_tokens": 24})
		.to_string();
	let executors: Vec<String> = std::thread::scope(|scope| {
		let answers: Vec<_> = (0..2)
			.map(|_| {
				scope.spawn(|| {
					let (status, body) =
						http(&setup.server, "POST", "/v1/chat/completions", &request);
					assert_eq!(status, 200, "{body}");
					let answer: Value = serde_json::from_str(&body).unwrap();
					answer["x_gonka"]["executor"].as_str().unwrap().to_string()
				})
			})
			.collect();
		answers.into_iter().map(|answer| answer.join().unwrap()).collect()
	});
	assert_ne!(executors[0], executors[1], "both went to {}", executors[0]);
}

/// A receipt the gateway never saw (its stream broke after the executor journaled it, as
/// when the gateway restarts mid-stream): the member's next receipt is countersigned all
/// the same, the lost one before it, and the voucher covers both (the developer pays the
/// lost one at its price, not as a tail claim).
#[test]
fn a_receipt_lost_mid_stream_is_countersigned_with_the_members_next() {
	let setup = setup(&[("Alice", true)], u128::MAX);
	let alice = setup.executors[0].host.clone();
	let messages = vec![ChatMessage::new(Role::User, QUESTION)];
	let signed = setup
		.channel
		.book
		.lock()
		.unwrap()
		.request(&alice, None, 0, &messages, 8, gonka_primitives::inference::SamplingParams::GREEDY)
		.unwrap()
		.unwrap();
	let payload = Payload {
		request: signed.request,
		request_signature: signed.signature,
		salt: signed.salt,
		messages,
	};
	let runtime = tokio::runtime::Runtime::new().unwrap();
	runtime.block_on(async {
		{
			let client = ExecutorClient::connect(&setup.executors[0].endpoint).await.unwrap();
			let mut events = client.infer(&payload).await.unwrap();
			assert!(matches!(events.next().await.unwrap().unwrap(), InferEvent::Tokens { .. }));
		}
		let client = ExecutorClient::connect(&setup.executors[0].endpoint).await.unwrap();
		let mut served = 0;
		for _ in 0..600 {
			served = client.status(CHANNEL).await.unwrap().served;
			if served == 1 {
				break;
			}
			tokio::time::sleep(std::time::Duration::from_millis(50)).await;
		}
		assert_eq!(served, 1, "the lost receipt was journaled");
	});
	let request =
		json!({"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 3});
	let (status, body) = http(&setup.server, "POST", "/v1/chat/completions", &request.to_string());
	assert_eq!(status, 200, "{body}");
	let answer: Value = serde_json::from_str(&body).unwrap();
	assert_eq!(answer["x_gonka"]["seq"], json!(1));
	assert_eq!(answer["x_gonka"]["voucher"]["count"], json!(2));
	let book = setup.channel.book.lock().unwrap();
	let receipts = book.receipts(&alice);
	assert_eq!(receipts.len(), 2);
	assert_eq!((receipts[0].nonce, receipts[0].seq), (payload.request.nonce, 0));
	drop(book);
	let status = runtime.block_on(async {
		let client = ExecutorClient::connect(&setup.executors[0].endpoint).await.unwrap();
		client.status(CHANNEL).await.unwrap()
	});
	assert_eq!((status.served, status.vouchered), (2, 2), "nothing left to claim as tail");
}
