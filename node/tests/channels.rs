//! End to end: inference channels through the developer's gateway. `gonka-node --dev`,
//! Alice's and Bob's workers (SmolLM2-135M on CPU, serving the channel endpoint beside
//! their PoC proofs) and `gonka-worker gateway` funded by Charlie. The gateway opens a
//! channel on chain; the official `openai` Python client streams a chat completion
//! through it and gets the tokens a local greedy generation gives; `curl -N` sees
//! well-formed Server-Sent Events; a plain answer carries the receipt. The gateway is
//! killed mid-stream and restarted: it takes up its channel from its journal, and the
//! receipt it never saw is countersigned with that member's next (`channel_receipts`),
//! so nothing is left to claim as tail. Alice's worker, a validator of Bob's settlement, is
//! killed once the settlements are sampled, before her verdicts, and restarted: every
//! sample is still answered once. When the channel
//! ends, each member that served settles exactly its receipts once and waives it, the
//! channel finalizes early, and Charlie's refund is exactly the deposit less what the
//! members were paid. Each settlement's samples are checked off chain by the other host:
//! it fetches each payload from the executor's endpoint, replays it and passes it in its
//! verdict batch, so every settlement closes with all its samples passed.

mod common;

use common::{
	gateway::{post, stream_started, system, GatewayProcess, GatewayTerms, MODEL, POC, QUESTION},
	worker::{default_model, Worker},
	DevNode,
};
use gonka_client::{
	runtime::channels::events::SettlementSampled, ChainClient, ChannelFinalized, ChannelOpened,
	ChannelSettled, DisputeOpened, SettlementClosed, VerdictsSubmitted,
};
use gonka_primitives::HostId;
use gonka_worker::inference::{generate::generate_from, sampler::SamplingParams};
use polkadot_sdk::sp_keyring::Sr25519Keyring;
use serde_json::{json, Value};
use std::{cell::RefCell, collections::BTreeMap, path::PathBuf, process::Command, time::Duration};

const MAX_TOKENS: usize = 10;
/// Blocks of 2 s: a validator replays each sample (a 1,400-token prefill) in about 25 s
/// on one CPU thread, and a settlement's samples must be replayed before its verdict
/// window (the rest of its 50-block period and the next) nears its end: at 1-second
/// blocks three samples of one executor left a margin of seconds.
const BLOCK_MS: u64 = 2_000;
/// A channel of 300 blocks: the test closes it once its requests are answered
/// (the developer's `close_channel`), rather than wait for its end.
const DURATION: u32 = 300;
const DEADLINE: Duration = Duration::from_secs(400);

fn host(key: Sr25519Keyring) -> HostId {
	HostId::new(*AsRef::<[u8; 32]>::as_ref(&key.to_account_id()))
}

/// The Python with the `openai` package (`scripts/test.sh` installs it).
fn openai_python() -> PathBuf {
	let path = std::env::var_os("GONKA_OPENAI_PYTHON").map(PathBuf::from).unwrap_or_else(|| {
		PathBuf::from(std::env::var_os("HOME").expect("HOME"))
			.join(".cache/gonka/python/openai/bin/python")
	});
	assert!(
		path.exists(),
		"{} is missing: scripts/test.sh installs the openai package there",
		path.display()
	);
	path
}

/// The gateway's answer to `body` once it answers (503 until its channel is drawn): 200,
/// and its JSON.
async fn answered(
	what: &str,
	url: &dyn Fn() -> String,
	body: &Value,
	logs: &dyn Fn() -> String,
) -> Value {
	let mut answer = None;
	common::wait_until(
		what,
		DEADLINE,
		Duration::from_millis(500),
		|| {
			answer = post(&url(), body).filter(|(status, _)| *status != 503);
			std::future::ready(answer.is_some())
		},
		logs,
	)
	.await;
	let (status, body) = answer.expect("answered");
	assert_eq!(status, 200, "{body}\n{}", logs());
	serde_json::from_str(&body).unwrap()
}

const OPENAI_SCRIPT: &str = r#"
import json, sys
import openai
client = openai.OpenAI(base_url=sys.argv[1] + "/v1", api_key="unused")
stream = client.chat.completions.create(
    model=sys.argv[2],
    messages=json.loads(sys.argv[3]),
    max_tokens=int(sys.argv[4]),
    temperature=0,
    stream=True,
    stream_options={"include_usage": True},
)
text, chunks, usage, receipt = "", 0, None, None
for chunk in stream:
    if chunk.choices:
        chunks += 1
        if chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
        extra = (chunk.model_extra or {}).get("x_gonka")
        if extra:
            receipt = extra
    if chunk.usage:
        usage = chunk.usage.completion_tokens
print(json.dumps({"text": text, "chunks": chunks, "completion_tokens": usage, "x_gonka": receipt}))
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_developer_streams_through_the_gateway_and_each_member_settles_its_receipts_once() {
	let base = tempfile::tempdir().expect("temporary base path");
	let mut node = DevNode::start(base.path(), "node.log", BLOCK_MS);
	let client = ChainClient::new(node.connect().await);
	// Alice's is killed and restarted below.
	let workers = RefCell::new([
		Worker::start(base.path(), Sr25519Keyring::Alice, node.rpc_port, POC),
		Worker::start(base.path(), Sr25519Keyring::Bob, node.rpc_port, POC),
	]);
	let first_block = client.block_number().await.unwrap();
	// A channel longer than the chain allows: the gateway says so and stops at once.
	let mut long = GatewayProcess::start(
		&base.path().join("too-long"),
		node.rpc_port,
		&GatewayTerms {
			committee: 2,
			duration: 1_000_000,
			requests_per_slot: 8,
			max_request_tokens: 2048,
		},
	);
	let status = long.exit_within(Duration::from_secs(120));
	assert!(status.is_some_and(|status| !status.success()), "{}", long.log());
	assert!(long.log().contains("is longer than this chain allows"), "{}", long.log());
	let terms = GatewayTerms {
		committee: 2,
		duration: DURATION,
		requests_per_slot: 8,
		max_request_tokens: 2048,
	};
	// Killed and restarted below.
	let gateway = RefCell::new(GatewayProcess::start(base.path(), node.rpc_port, &terms));
	let url = || gateway.borrow().url.clone();
	let logs = || {
		let workers: Vec<String> = workers.borrow().iter().map(Worker::log).collect();
		format!(
			"gateway:\n{}\nworkers:\n{}\nnode:\n{}",
			gateway.borrow().log(),
			workers.join("\n---\n"),
			node.log_tail()
		)
	};
	// The validators' side of the workers' logs (a failure's message leads with it: the
	// full logs are long, and CI shows their head).
	let duty_logs = || {
		let lines: Vec<String> = workers
			.borrow()
			.iter()
			.flat_map(|worker| {
				let log = worker.log();
				log.lines()
					.filter(|line| {
						(line.contains("chain::validation")
							|| line.contains("chain::channels")
							|| line.contains("WARN")
							|| line.contains("ERROR"))
							&& !line.contains("::poc")
					})
					.map(str::to_string)
					.collect::<Vec<_>>()
			})
			.collect();
		lines.join("\n")
	};

	// The first answer: once the gateway's channel and its committee are finalized.
	let messages = json!([
		{"role": "system", "content": system()},
		{"role": "user", "content": QUESTION},
	]);
	let plain = json!({
		"model": MODEL, "messages": messages, "max_tokens": MAX_TOKENS, "temperature": 0,
	});
	let answer = answered("the gateway answers a chat completion", &url, &plain, &logs).await;
	let device = gonka_worker::config::DeviceChoice::Cpu.open().unwrap();
	let (model, tokenizer) = gonka_worker::model::open(&default_model(), &device).unwrap();
	let prompt = tokenizer.chat_conversation(&[("system", &system()), ("user", QUESTION)]).unwrap();
	let local =
		generate_from(&model, &tokenizer, prompt, MAX_TOKENS, &SamplingParams::GREEDY, &mut |_| {
			Ok(())
		})
		.unwrap();
	assert_eq!(answer["choices"][0]["message"]["content"], json!(local.text));
	// Receipts countersigned, by channel and executor: the count of the latest voucher (the
	// gateway may rotate to its next channel between two requests).
	let mut served: BTreeMap<u64, BTreeMap<String, u32>> = BTreeMap::new();
	let note = |served: &mut BTreeMap<u64, BTreeMap<String, u32>>, receipt: &Value| {
		let channel = receipt["channel"].as_u64().expect("the receipt's channel");
		let executor = receipt["executor"].as_str().expect("the receipt's executor").to_string();
		let count = receipt["voucher"]["count"].as_u64().expect("the voucher's count") as u32;
		let counted = served.entry(channel).or_default().entry(executor).or_default();
		*counted = (*counted).max(count);
	};
	note(&mut served, &answer["x_gonka"]);

	// The official client streams the same tokens.
	let script = base.path().join("stream.py");
	std::fs::write(&script, OPENAI_SCRIPT).unwrap();
	let output = Command::new(openai_python())
		.arg(&script)
		.args([&url(), MODEL, &messages.to_string(), &MAX_TOKENS.to_string()])
		.output()
		.expect("python runs");
	assert!(output.status.success(), "{}\n{}", String::from_utf8_lossy(&output.stderr), logs());
	let streamed: Value = serde_json::from_slice(&output.stdout).unwrap();
	assert_eq!(streamed["text"], json!(local.text));
	assert_eq!(streamed["completion_tokens"], json!(local.completion_token_ids.len()));
	assert!(streamed["chunks"].as_u64().unwrap() > 2, "the text came in pieces: {streamed}");
	note(&mut served, &streamed["x_gonka"]);

	// curl -N sees well-formed Server-Sent Events.
	let request = json!({
		"model": MODEL, "max_tokens": 4, "stream": true,
		"messages": [{"role": "system", "content": system()}, {"role": "user", "content": "Name a colour."}],
	});
	let output = Command::new("curl")
		.args(["-sN", "-H", "Content-Type: application/json", "-d", &request.to_string()])
		.arg(format!("{}/v1/chat/completions", url()))
		.output()
		.expect("curl runs");
	let sse = String::from_utf8_lossy(&output.stdout).into_owned();
	let events: Vec<&str> = sse.split("\n\n").filter(|event| !event.is_empty()).collect();
	assert!(events.iter().all(|event| event.starts_with("data: ")), "{sse}");
	assert_eq!(events.last(), Some(&"data: [DONE]"), "{sse}");
	let last: Value = serde_json::from_str(&events[events.len() - 2]["data: ".len()..]).unwrap();
	note(&mut served, &last["x_gonka"]);

	// Killed mid-stream (SIGKILL once text came): the member finishes and journals the
	// receipt all the same. Restarted on its data directory, the gateway takes up its
	// channel from its journal; its next request goes to the member with the most
	// allowance left by its book, which lacks the lost receipt: that member's receipt
	// comes after one the gateway never saw, which the gateway fetches from it
	// (`channel_receipts`) and countersigns first. Every receipt is vouchered.
	let answered_before = 3;
	let long = json!({"model": MODEL, "max_tokens": 40, "stream": true, "messages": messages});
	let started =
		stream_started(&url(), &long).unwrap_or_else(|| panic!("the stream starts\n{}", logs()));
	gateway.borrow_mut().kill();
	drop(started);
	*gateway.borrow_mut() = GatewayProcess::start(base.path(), node.rpc_port, &terms);
	let mut after = 0;
	while served.values().flat_map(BTreeMap::values).sum::<u32>() < answered_before + after + 1 {
		assert!(after < 3, "the lost receipt is countersigned with its member's next\n{}", logs());
		let answer = answered("the restarted gateway answers", &url, &plain, &logs).await;
		assert_eq!(answer["choices"][0]["message"]["content"], json!(local.text));
		note(&mut served, &answer["x_gonka"]);
		after += 1;
	}
	assert!(logs().contains("lost receipts countersigned"), "{}", logs());

	// Charlie closes the channels; each member that served settles its receipts once, and
	// the waivers finalize each early: the refund is the deposit less what was paid.
	let charlie = subxt_signer::sr25519::dev::charlie();
	// A validator replays each of its samples on one CPU thread (about 20 s for this
	// prompt on the 2-core machine), and a new host's receipts are all sampled: the
	// channels close early in a verdict period, so that the settlements land there and
	// their validators get the longest window (the rest of that period and all the next).
	// A host validates only with voting power, which a PoC it was too busy to commit in
	// time takes away for an epoch (the requests' prefills and the local generation above
	// share the two cores with the workers' PoC): they close when both hosts have power.
	let period = client.verdict_period().await.unwrap();
	let hosts = [host(Sr25519Keyring::Alice), host(Sr25519Keyring::Bob)];
	common::wait_until(
		"early in a verdict period, both hosts have voting power",
		DEADLINE,
		Duration::from_millis(300),
		|| {
			let (client, hosts) = (&client, &hosts);
			async move {
				if client.block_number().await.unwrap() % period >= period / 5 {
					return false;
				}
				for host in hosts {
					let power =
						client.poc_host(host).await.unwrap().map_or(0, |view| view.voting_power);
					if power == 0 {
						return false;
					}
				}
				true
			}
		},
		logs,
	)
	.await;
	let mut closed_at = BTreeMap::new();
	for channel in served.keys() {
		client.close_channel(&charlie, *channel).await.expect("Charlie closes his channel");
		// The close is in a finalized block at or before this one.
		closed_at.insert(*channel, client.block_number().await.unwrap());
	}
	let mut next = first_block;
	let mut opened: BTreeMap<u64, (u32, u128)> = BTreeMap::new();
	let mut settled: BTreeMap<u64, Vec<(HostId, u32, u32, u128)>> = BTreeMap::new();
	// Settlement → (executor, receipts it added); what its validators answered.
	let mut executors: BTreeMap<u64, HostId> = BTreeMap::new();
	let mut sampled: BTreeMap<u64, u32> = BTreeMap::new();
	// Settlement → the block that included it, and the samples the hash rule drew for the
	// other hosts (asked while its window is open: from the block after it).
	let mut included: BTreeMap<u64, u32> = BTreeMap::new();
	let mut drawn: BTreeMap<u64, u32> = BTreeMap::new();
	// What happened at which block: the timeline a failure's message leads with.
	let mut timeline: Vec<String> = Vec::new();
	let mut closed: BTreeMap<u64, (u32, u32)> = BTreeMap::new();
	let mut verdicts: Vec<(HostId, u32)> = Vec::new();
	let mut disputes = 0;
	let mut finalized: BTreeMap<u64, (u32, u128)> = BTreeMap::new();
	let alice = host(Sr25519Keyring::Alice);
	let mut restarted = false;
	let started = std::time::Instant::now();
	let done = |finalized: &BTreeMap<u64, (u32, u128)>,
	            executors: &BTreeMap<u64, HostId>,
	            closed: &BTreeMap<u64, (u32, u32)>| {
		served.keys().all(|channel| finalized.contains_key(channel))
			&& executors.keys().all(|settlement| closed.contains_key(settlement))
	};
	while !done(&finalized, &executors, &closed) {
		assert!(
			started.elapsed() < DEADLINE,
			"the channels are settled and finalized within {DEADLINE:?}\n{}",
			logs()
		);
		let last = client.block_number().await.unwrap();
		while next <= last {
			let at = client.api().at_block(u64::from(next)).await.unwrap();
			let events = at.events().fetch().await.unwrap();
			for event in events.find::<ChannelOpened>().flatten() {
				opened.insert(event.channel, (next, event.deposit));
			}
			for event in events.find::<ChannelSettled>().flatten() {
				let record =
					(HostId::new(event.executor.0), event.receipts, event.tail, event.paid);
				settled.entry(event.channel).or_default().push(record);
				executors.insert(event.settlement, HostId::new(event.executor.0));
				timeline.push(format!(
					"{next}: settlement {} of channel {} by {} ({} receipts)",
					event.settlement, event.channel, event.executor.0[0], event.receipts
				));
			}
			// What each settlement added (`ChannelSettled` counts a member's receipts
			// settled so far): at a new host's target, one sample each.
			for event in events.find::<SettlementSampled>().flatten() {
				sampled.insert(event.settlement, event.receipts + event.tail);
				included.insert(event.settlement, next);
				timeline.push(format!(
					"{next}: settlement {} sampled at target {:?}",
					event.settlement, event.target
				));
			}
			for event in events.find::<SettlementClosed>().flatten() {
				closed.insert(event.settlement, (event.passes, event.fails));
				timeline.push(format!(
					"{next}: settlement {} closed, {} passes, {} fails",
					event.settlement, event.passes, event.fails
				));
			}
			for event in events.find::<VerdictsSubmitted>().flatten() {
				verdicts.push((HostId::new(event.validator.0), event.passes));
				timeline.push(format!(
					"{next}: verdicts of period {} by {}: {} passes",
					event.period, event.validator.0[0], event.passes
				));
			}
			disputes += events.find::<DisputeOpened>().count();
			for event in events.find::<ChannelFinalized>().flatten() {
				finalized.insert(event.channel, (next, event.refund));
			}
			next += 1;
		}
		// A validator killed before its batch (SIGKILL once the settlements are sampled,
		// before Alice sent any verdict: a replay takes about 25 s) and restarted on its
		// data directory: it takes up its samples from its journal, and every sample is
		// answered once (the closes below).
		if !restarted && !sampled.is_empty() && verdicts.iter().all(|(by, _)| *by != alice) {
			let mut workers = workers.borrow_mut();
			workers[0].kill();
			workers[0] = Worker::start(base.path(), Sr25519Keyring::Alice, node.rpc_port, POC);
			timeline.push(format!("{last}: Alice's worker killed and restarted"));
			restarted = true;
		}
		for (settlement, at) in &included {
			if drawn.contains_key(settlement) || last <= *at {
				continue;
			}
			let mut count = 0;
			for validator in hosts.iter().filter(|validator| **validator != executors[settlement]) {
				count += client.samples_for(*settlement, validator).await.unwrap().len() as u32;
			}
			timeline.push(format!("{last}: settlement {settlement} drew {count} samples"));
			drawn.insert(*settlement, count);
		}
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
	for (channel, served) in &served {
		let (opened_at, deposit) = opened[channel];
		let (at, refund) = finalized[channel];
		let mut by_executor: BTreeMap<String, u32> = BTreeMap::new();
		let mut paid = 0u128;
		let settlements = settled.get(channel).cloned().unwrap_or_default();
		for (executor, receipts, tail, amount) in &settlements {
			assert_eq!(*tail, 0, "every receipt was vouchered");
			assert!(
				by_executor.insert(executor.to_string(), *receipts).is_none(),
				"{executor} settled channel {channel} once: {settlements:?}"
			);
			paid += amount;
		}
		assert_eq!(
			&by_executor,
			served,
			"each member settled exactly the receipts it served in channel {channel}\n{}",
			logs()
		);
		assert_eq!(refund, deposit - paid, "the refund is the deposit less the members' pay");
		// Finalized early, by the members' waivers: within blocks of its close, long before
		// its planned end plus the 20-block window.
		let closed = closed_at[channel];
		assert!(at <= closed + 15, "channel {channel} finalized at {at}, closed by {closed}");
		assert!(opened_at < closed);
	}

	// Validation off chain: a new host's receipts are all sampled, and with two hosts the
	// other one is drawn for each sample if it has voting power in the settlement's
	// snapshot (none: nobody checks it). It fetched each payload from the executor's
	// endpoint, replayed it and passed it in its verdict batch; no dispute.
	let timeline = format!("channels closed by blocks {closed_at:?}\n{}", timeline.join("\n"));
	let context = || format!("{timeline}\n{}\n{}", duty_logs(), logs());
	eprintln!("{timeline}");
	assert_eq!(disputes, 0, "{}", context());
	for (settlement, executor) in &executors {
		let receipts = sampled[settlement];
		let drawn = drawn.get(settlement).copied().unwrap_or_default();
		assert!(
			drawn == receipts || drawn == 0,
			"settlement {settlement}'s {receipts} receipts are all sampled, or none (its \
			 validator had no power): {drawn} drawn\n{}",
			context()
		);
		assert_eq!(
			closed[settlement],
			(drawn, 0),
			"settlement {settlement}'s {drawn} samples drawn all passed\n{}",
			context()
		);
		if drawn > 0 {
			assert!(
				verdicts.iter().any(|(validator, passes)| validator != executor && *passes > 0),
				"another host sent verdicts on {executor}'s settlement: {verdicts:?}"
			);
		}
	}
	assert!(restarted, "Alice's worker was restarted before her verdicts\n{}", context());
	assert!(
		drawn.values().sum::<u32>() > 0,
		"the hosts had power when the channels closed: samples were drawn\n{}",
		context()
	);
}
