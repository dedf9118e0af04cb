//! The executor's channel endpoint (`gonka_worker::api::channels`) served beside the PoC
//! proofs, with the real model, and a gateway's book talking to it over WebSocket.

mod common;

use codec::Decode;
use common::model_path;
use gonka_primitives::{
	channel::{ChannelMessage, Receipt, ReceiptsQuery},
	inference::SamplingParams,
	HostId, H256,
};
use gonka_worker::{
	api::{
		channels::{
			decode_hex, ChannelEndpoint, ChannelViews, ExecutorClient, InferEvent, ALLOWANCE,
			BAD_VOUCHER, NOT_SERVING, REFUSED,
		},
		proofs::{ProofBook, ProofServer},
	},
	channel::{
		developer::{DeveloperChannel, DeveloperView, Fault, Member},
		executor::{ChannelView, Payload, Served},
		prompt::{self, ChatMessage, Role},
	},
	engine::ModelEngine,
	inference::{generate::generate_from, sampler, score::Tolerance, tokenizer::ChatTokenizer},
	model::Llama,
};
use jsonrpsee::core::ClientError;
use polkadot_sdk::sp_core::{sr25519, Pair};
use std::{collections::BTreeMap, sync::Arc, time::Duration};

const GENESIS: H256 = H256::repeat_byte(0x42);
const CHANNEL: u64 = 3;
const PRICE: u128 = 1_000;
const OVERHEAD: u32 = gonka_primitives::inference::SMOLLM2_TEMPLATE_OVERHEAD;

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
			max_request_tokens: 512,
			allowance: self.allowance,
			ends: 1_000,
		})
	}

	fn best_block(&self) -> u32 {
		10
	}
}

fn engine() -> Arc<ModelEngine> {
	let (model, content) = Llama::load(&model_path(), &candle_core::Device::Cpu).unwrap();
	let tokenizer = ChatTokenizer::from_gguf(&content).unwrap();
	Arc::new(ModelEngine { model_id: 0, model, tokenizer, tolerance: Tolerance::default() })
}

struct Setup {
	_server: ProofServer,
	_dir: tempfile::TempDir,
	url: String,
	host: HostId,
	channel_key: sr25519::Pair,
	developer: DeveloperChannel,
	engine: Arc<ModelEngine>,
	endpoint: Arc<ChannelEndpoint>,
}

fn setup(allowance: u128) -> Setup {
	let dir = tempfile::tempdir().unwrap();
	let channel_key = sr25519::Pair::from_string("//Charlie//channel//0", None).unwrap();
	let worker_key = sr25519::Pair::from_string("//Alice//stash", None).unwrap();
	let host = HostId::new(sr25519::Pair::from_string("//Alice", None).unwrap().public().0);
	let engine = engine();
	let views = Arc::new(Views { channel_key: channel_key.public(), allowance });
	let endpoint = ChannelEndpoint::new(
		host.clone(),
		worker_key.clone(),
		dir.path().join("executor"),
		views,
		engine.clone(),
	)
	.unwrap();
	let server =
		ProofServer::start_with("127.0.0.1:0", ProofBook::default(), endpoint.methods().unwrap())
			.unwrap();
	let url = format!("http://{}", server.address());
	let view = DeveloperView {
		channel: CHANNEL,
		genesis_hash: GENESIS,
		price: PRICE,
		template_overhead: OVERHEAD,
		max_request_tokens: 512,
		members: BTreeMap::from([(
			host.clone(),
			Member { worker_key: worker_key.public(), allowance },
		)]),
	};
	let developer =
		DeveloperChannel::open(&dir.path().join("gateway.log"), view, channel_key.clone()).unwrap();
	Setup { _server: server, _dir: dir, url, host, channel_key, developer, engine, endpoint }
}

fn payload(setup: &mut Setup, messages: &[ChatMessage], max_tokens: u32) -> Payload {
	let signed = setup
		.developer
		.request(&setup.host, None, 0, messages, max_tokens, SamplingParams::GREEDY)
		.unwrap()
		.unwrap();
	Payload {
		request: signed.request,
		request_signature: signed.signature,
		salt: signed.salt,
		messages: messages.to_vec(),
	}
}

fn code(error: ClientError) -> i32 {
	match error {
		ClientError::Call(object) => object.code(),
		other => panic!("not an error answer: {other}"),
	}
}

#[tokio::test]
async fn a_gateway_streams_a_request_from_an_executor_endpoint_and_its_voucher_counts() {
	let mut setup = setup(u128::MAX);
	let messages = vec![ChatMessage::new(Role::User, "What is the capital of France?")];
	let payload = payload(&mut setup, &messages, 12);
	let client = ExecutorClient::connect(&setup.url).await.unwrap();
	let mut events = client.infer(&payload).await.unwrap();
	let mut streamed = Vec::new();
	let (receipt, signature) = loop {
		match events.next().await.expect("an event").unwrap() {
			InferEvent::Tokens { ids } => streamed.extend(ids),
			InferEvent::Receipt { receipt, signature } => break (receipt, signature),
			InferEvent::Failed { reason } => panic!("failed: {reason}"),
		}
	};
	let receipt: Receipt = decode_hex(&receipt).unwrap();
	let signature =
		sr25519::Signature::decode(&mut hex::decode(&signature[2..]).unwrap().as_slice()).unwrap();

	// The tokens are those of a local greedy generation of the same conversation.
	let (model, tokenizer) = (&setup.engine.model, &setup.engine.tokenizer);
	let prompt_ids = tokenizer.chat_conversation(&prompt::turns(&messages)).unwrap();
	let seed = receipt.seed;
	let local = generate_from(
		model,
		tokenizer,
		prompt_ids.clone(),
		12,
		&sampler::SamplingParams { temperature: 0.0, top_p: 1.0, seed },
		&mut |_| Ok(()),
	)
	.unwrap();
	assert_eq!(streamed, local.completion_token_ids);

	let voucher = setup
		.developer
		.accept(
			&payload.request,
			receipt,
			&signature,
			&streamed,
			prompt_ids.len() as u32,
			tokenizer.end_tokens(),
		)
		.unwrap()
		.unwrap();
	assert!(client.voucher(&voucher).await.unwrap().counted);
	assert!(!client.voucher(&voucher).await.unwrap().counted, "the same voucher again");
	let status = client.status(CHANNEL).await.unwrap();
	assert_eq!((status.served, status.vouchered), (1, 1));
	assert_eq!(status.owed, voucher.voucher.amount.to_string());
	let settlement = setup.endpoint.settlement(CHANNEL).unwrap().unwrap();
	assert_eq!(settlement.voucher, Some(voucher));
	assert!(settlement.tail.is_empty());
}

#[tokio::test]
async fn the_endpoint_refuses_with_the_code_the_gateway_acts_on() {
	let mut setup = setup(40 * PRICE);
	let client = ExecutorClient::connect(&setup.url).await.unwrap();
	let hi = vec![ChatMessage::new(Role::User, "hi")];

	// Another channel: not served here (ask another member).
	let mut elsewhere = payload(&mut setup, &hi, 4);
	elsewhere.request.channel = CHANNEL + 1;
	elsewhere.request_signature = elsewhere.request.sign(&GENESIS, &setup.channel_key);
	assert_eq!(code(client.infer(&elsewhere).await.expect_err("refused")), NOT_SERVING);
	// Another prompt than the request names.
	let mut changed = payload(&mut setup, &hi, 4);
	changed.messages = vec![ChatMessage::new(Role::User, "ho")];
	assert_eq!(code(client.infer(&changed).await.expect_err("refused")), REFUSED);
	// Beyond the allowance: (10 + 9 + 30) × price > 40 × price.
	let costly = payload(&mut setup, &hi, 30);
	assert_eq!(code(client.infer(&costly).await.expect_err("refused")), ALLOWANCE);
	// Taken once, then stale.
	let first = payload(&mut setup, &hi, 2);
	let mut events = client.infer(&first).await.unwrap();
	assert_eq!(code(client.infer(&first).await.expect_err("refused")), REFUSED);
	while let Some(event) = events.next().await {
		if !matches!(event.unwrap(), InferEvent::Tokens { .. }) {
			break;
		}
	}
	// A voucher that is not SCALE, or not the receipts'.
	let garbage = jsonrpsee::core::client::ClientT::request::<serde_json::Value, _>(
		&jsonrpsee::ws_client::WsClientBuilder::default()
			.build(gonka_worker::api::channels::websocket_url(&setup.url))
			.await
			.unwrap(),
		"channel_voucher",
		jsonrpsee::rpc_params!["0x00"],
	)
	.await;
	assert_eq!(code(garbage.expect_err("refused")), BAD_VOUCHER);
	let voucher = gonka_primitives::channel::Voucher {
		channel: CHANNEL,
		executor: setup.host.clone(),
		count: 1,
		root: H256::repeat_byte(7),
		amount: 1,
		last: (first.request.nonce, 0),
	};
	let signed = gonka_primitives::channel::SignedVoucher {
		signature: voucher.sign(&GENESIS, &setup.channel_key),
		voucher: voucher.clone(),
	};
	assert_eq!(code(client.voucher(&signed).await.expect_err("refused")), BAD_VOUCHER);
	assert_eq!(client.status(CHANNEL).await.unwrap().vouchered, 0);
}

#[tokio::test]
async fn a_gateway_that_leaves_mid_stream_loses_nothing() {
	let mut setup = setup(u128::MAX);
	let messages = vec![ChatMessage::new(Role::User, "Tell me a long story about a cat.")];
	let payload = payload(&mut setup, &messages, 24);
	{
		let client = ExecutorClient::connect(&setup.url).await.unwrap();
		let mut events = client.infer(&payload).await.unwrap();
		assert!(matches!(events.next().await.unwrap().unwrap(), InferEvent::Tokens { .. }));
	}
	// The executor finishes and journals the receipt all the same: claimable as tail.
	let client = ExecutorClient::connect(&setup.url).await.unwrap();
	let mut served = 0;
	for _ in 0..600 {
		served = client.status(CHANNEL).await.unwrap().served;
		if served == 1 {
			break;
		}
		tokio::time::sleep(Duration::from_millis(50)).await;
	}
	assert_eq!(served, 1, "the receipt was journaled");
	let settlement = setup.endpoint.settlement(CHANNEL).unwrap().unwrap();
	assert_eq!(settlement.tail.len(), 1);
	assert_eq!(settlement.tail[0].request, payload.request);
}

/// Leaves a request's stream after its first tokens, then waits until the executor has
/// journaled `served` receipts.
async fn leave_mid_stream(setup: &Setup, payload: &Payload, served: u32) {
	{
		let client = ExecutorClient::connect(&setup.url).await.unwrap();
		let mut events = client.infer(payload).await.unwrap();
		assert!(matches!(events.next().await.unwrap().unwrap(), InferEvent::Tokens { .. }));
	}
	let client = ExecutorClient::connect(&setup.url).await.unwrap();
	for _ in 0..600 {
		if client.status(CHANNEL).await.unwrap().served == served {
			return;
		}
		tokio::time::sleep(Duration::from_millis(50)).await;
	}
	panic!("the executor journaled {served} receipts");
}

/// The gateway's count of each served prompt.
fn counts(setup: &Setup, served: &[Served]) -> Vec<u32> {
	served
		.iter()
		.map(|one| {
			let turns = prompt::turns(&one.payload.messages);
			setup.engine.tokenizer.chat_conversation(&turns).unwrap().len() as u32
		})
		.collect()
}

#[tokio::test]
async fn a_developer_recovers_the_receipts_it_lost_and_nobody_else_reads_them() {
	let mut setup = setup(u128::MAX);
	let messages = vec![ChatMessage::new(Role::User, "Tell me a long story about a cat.")];
	let lost = payload(&mut setup, &messages, 12);
	leave_mid_stream(&setup, &lost, 1).await;
	let client = ExecutorClient::connect(&setup.url).await.unwrap();
	let (query, signature) = setup.developer.receipts_query(&setup.host, 1);
	assert_eq!((query.from, query.to), (0, 1));

	// Only the channel key reads them, and only from the executor the query names.
	let stranger = sr25519::Pair::from_string("//Eve//channel//0", None).unwrap();
	let forged = query.sign(&GENESIS, &stranger);
	assert_eq!(code(client.receipts(&query, &forged).await.expect_err("refused")), REFUSED);
	let elsewhere = ReceiptsQuery {
		executor: HostId::new(sr25519::Pair::from_string("//Bob", None).unwrap().public().0),
		..query.clone()
	};
	let signed = elsewhere.sign(&GENESIS, &setup.channel_key);
	assert_eq!(code(client.receipts(&elsewhere, &signed).await.expect_err("refused")), REFUSED);
	let other = ReceiptsQuery { channel: CHANNEL + 1, ..query.clone() };
	let signed = other.sign(&GENESIS, &setup.channel_key);
	assert_eq!(code(client.receipts(&other, &signed).await.expect_err("refused")), NOT_SERVING);

	// The developer's own query: the lost request, its prompt, completion and receipt.
	let served = client.receipts(&query, &signature).await.unwrap();
	assert_eq!(served.len(), 1);
	assert_eq!(served[0].payload, lost);
	assert_eq!(served[0].receipt.seq, 0);

	// Served otherwise than signed, it is not countersigned: another prompt under the
	// request's hash, a request the channel key did not sign.
	let end_tokens = setup.engine.tokenizer.end_tokens().to_vec();
	let mut other_prompt = served.clone();
	other_prompt[0].payload.messages =
		vec![ChatMessage::new(Role::User, "Tell me a long story about a dog.")];
	let (voucher, fault) = setup
		.developer
		.recover(&setup.host, &other_prompt, &counts(&setup, &served), &end_tokens)
		.unwrap();
	assert_eq!((voucher, fault), (None, Some(Fault::Request)));
	let mut unsigned = served.clone();
	unsigned[0].payload.request_signature = unsigned[0].payload.request.sign(&GENESIS, &stranger);
	let (voucher, fault) = setup
		.developer
		.recover(&setup.host, &unsigned, &counts(&setup, &served), &end_tokens)
		.unwrap();
	assert_eq!((voucher, fault), (None, Some(Fault::Request)));
	// Nor with a prompt count that is not the gateway's.
	let (voucher, fault) = setup
		.developer
		.recover(&setup.host, &served, &[counts(&setup, &served)[0] + 1], &end_tokens)
		.unwrap();
	assert!(voucher.is_none());
	assert!(matches!(fault, Some(Fault::PromptTokens { .. })), "{fault:?}");
	assert!(setup.developer.receipts(&setup.host).is_empty());

	// As served, it is countersigned: the executor counts the voucher and claims no tail.
	let (voucher, fault) = setup
		.developer
		.recover(&setup.host, &served, &counts(&setup, &served), &end_tokens)
		.unwrap();
	assert_eq!(fault, None);
	let voucher = voucher.expect("countersigned");
	assert_eq!((voucher.voucher.count, voucher.voucher.amount), (1, served[0].receipt.cost));
	assert!(client.voucher(&voucher).await.unwrap().counted);
	let settlement = setup.endpoint.settlement(CHANNEL).unwrap().unwrap();
	assert!(settlement.tail.is_empty());
	// Recovered again (a second gateway task): nothing new is signed.
	let (again, fault) = setup
		.developer
		.recover(&setup.host, &served, &counts(&setup, &served), &end_tokens)
		.unwrap();
	assert_eq!((again, fault), (None, None));

	// The query's range is fixed: its signature reads no receipt signed after it.
	let next = payload(&mut setup, &messages, 4);
	leave_mid_stream(&setup, &next, 2).await;
	assert_eq!(client.receipts(&query, &signature).await.unwrap(), served);

	// A request its member said it declined is never paid, even after the gateway's restart
	// (the journal keeps it), nor a second receipt for a request answered already.
	let declined = payload(&mut setup, &messages, 4);
	setup.developer.declined(&declined.request).unwrap();
	leave_mid_stream(&setup, &declined, 3).await;
	let view = setup.developer.view().clone();
	setup.developer = DeveloperChannel::open(
		&setup._dir.path().join("gateway.log"),
		view,
		setup.channel_key.clone(),
	)
	.unwrap();
	let (query, signature) = setup.developer.receipts_query(&setup.host, 3);
	let later = client.receipts(&query, &signature).await.unwrap();
	assert_eq!(later.iter().map(|one| one.receipt.seq).collect::<Vec<_>>(), vec![1, 2]);
	let (voucher, fault) =
		setup.developer.recover(&setup.host, &later, &counts(&setup, &later), &end_tokens).unwrap();
	assert_eq!(
		voucher.map(|signed| signed.voucher.count),
		Some(2),
		"the lost one, not the declined"
	);
	assert_eq!(fault, Some(Fault::NotOpen));
	let worker_key = sr25519::Pair::from_string("//Alice//stash", None).unwrap();
	let mut copy = served[0].clone();
	copy.receipt.seq = 2;
	copy.signature = copy.receipt.sign(&GENESIS, &worker_key);
	let (voucher, fault) = setup
		.developer
		.recover(&setup.host, &[copy], &counts(&setup, &served), &end_tokens)
		.unwrap();
	assert_eq!((voucher, fault), (None, Some(Fault::NotOpen)));
	assert_eq!(setup.developer.receipts(&setup.host).len(), 2);
}
