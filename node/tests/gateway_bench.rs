//! A measurement, not a test (`#[ignore]`, no threshold): the developer's gateway against
//! the worker's local generation and the on-chain `request` path, on the dev chain with
//! Alice's and Bob's workers (SmolLM2-135M on CPU) and a gateway funded by Charlie, all on
//! this machine. `docs/benchmarks.md` ("The gateway against local generation and the
//! on-chain path") has the numbers. Run it by hand:
//!
//! ```text
//! source scripts/env.sh && gonka_build
//! RAYON_NUM_THREADS=1 gonka_cargo test --workspace --test gateway_bench -- --ignored --nocapture
//! ```
//!
//! It prints, for the same conversation: the time to the first token and to the last,
//! locally (in this process, the model warm; `RAYON_NUM_THREADS=1` gives it the one
//! thread each worker runs with), through the gateway (an SSE stream read
//! from a raw socket), and by the on-chain path (`gonka-worker infer`'s function: a
//! `request` transaction, then the chain polled every 500 ms for the answer); then the
//! gateway's requests per second with 1, 2 and 4 clients at once; then, once the channels
//! are closed and every settlement's window has closed, the chain's transactions per
//! inference on each path.

mod common;

use common::{
	gateway::{
		millis, post, stream_timed, system, GatewayProcess, GatewayTerms, StreamTiming, MODEL, POC,
		QUESTION,
	},
	worker::{default_model, Worker},
	DevNode,
};
use gonka_client::{ChainClient, ChannelSettled, SettlementClosed};
use gonka_worker::inference::{generate::generate_from, sampler::SamplingParams};
use polkadot_sdk::sp_keyring::Sr25519Keyring;
use serde_json::json;
use std::{
	collections::BTreeSet,
	sync::{
		atomic::{AtomicBool, AtomicU32, Ordering},
		Arc,
	},
	time::{Duration, Instant},
};

/// The devnet's blocks (`scripts/dev.sh`).
const BLOCK_MS: u64 = 3_000;
/// Tokens of each measured completion.
const MAX_TOKENS: usize = 16;
/// Timed runs of each path (after one warm-up run).
const RUNS: usize = 5;
/// Clients at once, and how long each load runs.
const CLIENTS: [usize; 3] = [1, 2, 4];
const LOAD: Duration = Duration::from_secs(45);
/// Tokens of each completion under load.
const LOAD_TOKENS: usize = 4;
const DEADLINE: Duration = Duration::from_secs(600);

/// The median and the spread of `samples`.
fn summary(mut samples: Vec<Duration>) -> String {
	samples.sort();
	format!(
		"{} ms (min {}, max {})",
		millis(samples[samples.len() / 2]),
		millis(samples[0]),
		millis(samples[samples.len() - 1])
	)
}

/// What the chain carried, block by block, as the bench follows it (a block's state is
/// pruned a few hundred blocks later): the transactions of `Channels` and of `Inference`.
#[derive(Default)]
struct Carried {
	/// The next block to read.
	next: u32,
	/// (block, `Channels` transactions, `Inference` transactions).
	blocks: Vec<(u32, u32, u32)>,
	channels: BTreeSet<u64>,
	settlements: BTreeSet<u64>,
	closed: BTreeSet<u64>,
}

impl Carried {
	/// Reads the finalized blocks not read yet.
	async fn follow(&mut self, client: &ChainClient) {
		let last = client.block_number().await.unwrap();
		while self.next <= last {
			let at = client.api().at_block(u64::from(self.next)).await.unwrap();
			let (mut channels, mut inference) = (0, 0);
			for extrinsic in at.extrinsics().fetch().await.unwrap().iter() {
				match extrinsic.unwrap().pallet_name() {
					"Channels" => channels += 1,
					"Inference" => inference += 1,
					_ => {}
				}
			}
			let events = at.events().fetch().await.unwrap();
			for event in events.find::<gonka_client::ChannelOpened>().flatten() {
				self.channels.insert(event.channel);
			}
			for event in events.find::<ChannelSettled>().flatten() {
				self.settlements.insert(event.settlement);
			}
			for event in events.find::<SettlementClosed>().flatten() {
				self.closed.insert(event.settlement);
			}
			self.blocks.push((self.next, channels, inference));
			self.next += 1;
		}
	}

	/// The transactions of blocks from `from` on: (`Channels`, `Inference`).
	fn since(&self, from: u32) -> (u32, u32) {
		self.blocks
			.iter()
			.filter(|(block, _, _)| *block >= from)
			.fold((0, 0), |(c, i), (_, channels, inference)| (c + channels, i + inference))
	}
}

/// Follows the chain into `carried` every 2 seconds until `stop`.
fn follow_in_background(
	client: ChainClient,
	carried: Arc<tokio::sync::Mutex<Carried>>,
	stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<()> {
	tokio::spawn(async move {
		while !stop.load(Ordering::Relaxed) {
			carried.lock().await.follow(&client).await;
			tokio::time::sleep(Duration::from_secs(2)).await;
		}
	})
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement, run by hand (docs/benchmarks.md)"]
async fn gateway_latency_and_throughput_against_local_and_on_chain() {
	let base = tempfile::tempdir().expect("temporary base path");
	let mut node = DevNode::start(base.path(), "node.log", BLOCK_MS);
	let client = ChainClient::new(node.connect().await);
	let workers = [
		Worker::start(base.path(), Sr25519Keyring::Alice, node.rpc_port, POC),
		Worker::start(base.path(), Sr25519Keyring::Bob, node.rpc_port, POC),
	];
	let gateway = GatewayProcess::start(
		base.path(),
		node.rpc_port,
		&GatewayTerms {
			committee: 2,
			duration: 300,
			requests_per_slot: 400,
			max_request_tokens: 2_048,
		},
	);
	let carried = Arc::new(tokio::sync::Mutex::new(Carried { next: 1, ..Default::default() }));
	let following = Arc::new(AtomicBool::new(false));
	let follower = follow_in_background(client.clone(), carried.clone(), following.clone());
	let logs = || {
		let workers: Vec<String> = workers.iter().map(Worker::log).collect();
		format!(
			"gateway:\n{}\nworkers:\n{}\nnode:\n{}",
			gateway.log(),
			workers.join("\n---\n"),
			node.log_tail()
		)
	};
	let messages = json!([
		{"role": "system", "content": system()},
		{"role": "user", "content": QUESTION},
	]);
	let request = |max_tokens: usize| {
		json!({
			"model": MODEL, "messages": messages, "max_tokens": max_tokens, "temperature": 0,
			"stream": true,
		})
	};
	let mut answered = false;
	common::wait_until(
		"the gateway answers a chat completion",
		DEADLINE,
		Duration::from_millis(500),
		|| {
			answered = answered || post(&gateway.url, &request(1)).is_some_and(|(s, _)| s == 200);
			std::future::ready(answered)
		},
		logs,
	)
	.await;

	// Local: the same conversation, greedy, in this process (one warm-up run).
	let device = gonka_worker::config::DeviceChoice::Cpu.open().unwrap();
	let (model, tokenizer) = gonka_worker::model::open(&default_model(), &device).unwrap();
	let prompt = tokenizer.chat_conversation(&[("system", &system()), ("user", QUESTION)]).unwrap();
	let prompt_tokens = prompt.len();
	let mut local = Vec::new();
	for _ in 0..=RUNS {
		let started = Instant::now();
		let mut first = None;
		let generation = generate_from(
			&model,
			&tokenizer,
			prompt.clone(),
			MAX_TOKENS,
			&SamplingParams::GREEDY,
			&mut |_| {
				first.get_or_insert_with(|| started.elapsed());
				Ok(())
			},
		)
		.unwrap();
		local.push((first.unwrap(), started.elapsed(), generation.completion_token_ids.len()));
	}
	local.remove(0);

	// Through the gateway, one request at a time (one warm-up run).
	let url = gateway.url.clone();
	let body = request(MAX_TOKENS);
	let mut through = Vec::new();
	while through.len() <= RUNS {
		let timing = stream_timed(&url, &body);
		assert!(timing.is_some(), "a streamed answer\n{}", logs());
		through.extend(timing);
	}
	through.remove(0);

	let local_first: Vec<_> = local.iter().map(|run| run.0).collect();
	let local_total: Vec<_> = local.iter().map(|run| run.1).collect();
	println!(
		"\nprompt {prompt_tokens} tokens, completion {} tokens, {RUNS} runs each (median)\n",
		local[0].2
	);
	println!("| path | first token | last token |\n|---|---|---|");
	println!(
		"| local `generate` (warm, in process) | {} | {} |",
		summary(local_first),
		summary(local_total)
	);
	println!(
		"| gateway, SSE stream | {} | {} |",
		summary(through.iter().map(|timing| timing.first_token).collect()),
		summary(through.iter().map(|timing| timing.total).collect())
	);

	// The on-chain path: the prompt as one user turn (its template adds the rest).
	let dave = subxt_signer::sr25519::dev::dave();
	let node_url = format!("ws://127.0.0.1:{}", node.rpc_port);
	let on_chain_prompt = format!("{}\n{QUESTION}", system());
	let on_chain_from = client.block_number().await.unwrap();
	let mut on_chain = Vec::new();
	for _ in 0..RUNS {
		let started = Instant::now();
		let answer = gonka_worker::cli::host::infer(
			&node_url,
			&dave,
			MODEL,
			&on_chain_prompt,
			MAX_TOKENS as u32,
			gonka_primitives::inference::SamplingParams::GREEDY,
			Duration::from_secs(120),
		)
		.await;
		assert!(answer.is_ok(), "{answer:?}\n{}", logs());
		on_chain.push(started.elapsed());
	}
	println!("| on-chain `request` ({BLOCK_MS} ms blocks) | — | {} |", summary(on_chain));

	// Load: `clients` streams at once, each asking again as soon as it is answered.
	let load_from = client.block_number().await.unwrap();
	let mut loads = Vec::new();
	for clients in CLIENTS {
		let (done, failed, stop) = (
			Arc::new(AtomicU32::new(0)),
			Arc::new(AtomicU32::new(0)),
			Arc::new(AtomicBool::new(false)),
		);
		let started = Instant::now();
		let threads: Vec<_> = (0..clients)
			.map(|_| {
				let (url, body) = (url.clone(), request(LOAD_TOKENS));
				let (done, failed, stop) = (done.clone(), failed.clone(), stop.clone());
				std::thread::spawn(move || {
					let mut timings: Vec<StreamTiming> = Vec::new();
					while !stop.load(Ordering::Relaxed) {
						match stream_timed(&url, &body) {
							Some(timing) => {
								done.fetch_add(1, Ordering::Relaxed);
								timings.push(timing);
							}
							None => {
								failed.fetch_add(1, Ordering::Relaxed);
								std::thread::sleep(Duration::from_millis(200));
							}
						}
					}
					timings
				})
			})
			.collect();
		std::thread::sleep(LOAD);
		stop.store(true, Ordering::Relaxed);
		let timings: Vec<StreamTiming> =
			threads.into_iter().flat_map(|thread| thread.join().unwrap()).collect();
		let elapsed = started.elapsed();
		let served = done.load(Ordering::Relaxed);
		let latency = if timings.is_empty() {
			"—".to_string()
		} else {
			summary(timings.iter().map(|timing| timing.total).collect())
		};
		loads.push((
			clients,
			served,
			failed.load(Ordering::Relaxed),
			f64::from(served) / elapsed.as_secs_f64(),
			latency,
		));
	}
	println!("\n| clients | answered | refused | per second | latency |\n|---|---|---|---|---|");
	for (clients, served, failed, rate, latency) in &loads {
		println!("| {clients} | {served} | {failed} | {rate:.2} | {latency} |");
	}

	// The chain's work: the gateway's channels closed, every settlement's window closed
	// (its verdicts in); the on-chain requests' transactions over the same blocks.
	let charlie = subxt_signer::sr25519::dev::charlie();
	let started = Instant::now();
	let opened: Vec<u64> = carried.lock().await.channels.iter().copied().collect();
	for channel in opened {
		let _ = client.close_channel(&charlie, channel).await;
	}
	loop {
		{
			let carried = carried.lock().await;
			if !carried.settlements.is_empty() && carried.settlements.is_subset(&carried.closed) {
				break;
			}
		}
		assert!(started.elapsed() < DEADLINE, "every settlement closes\n{}", logs());
		tokio::time::sleep(Duration::from_secs(3)).await;
	}
	following.store(true, Ordering::Relaxed);
	follower.await.unwrap();
	let carried = carried.lock().await;
	let (channel_transactions, _) = carried.since(1);
	let (_, inference_transactions) = carried.since(on_chain_from);
	let (channels, settlements) = (&carried.channels, &carried.settlements);
	let last = carried.next - 1;
	let through_gateway = RUNS as u32 + 2 + loads.iter().map(|load| load.1).sum::<u32>();
	println!(
		"\nchannels: {} opened, {} settlements, {channel_transactions} `Channels` transactions \
		 for {through_gateway} inferences ({:.4} a inference); on-chain: \
		 {inference_transactions} `Inference` transactions for {RUNS} requests ({:.2} a request); \
		 blocks {load_from}..{last}",
		channels.len(),
		settlements.len(),
		f64::from(channel_transactions) / f64::from(through_gateway),
		f64::from(inference_transactions) / RUNS as f64,
	);
}
