//! A real `gonka-worker gateway` for end-to-end tests, and plain HTTP to it.

use super::worker::{default_model, worker_bin};
use std::{
	io::{BufRead, BufReader, Read, Write},
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	time::{Duration, Instant},
};

/// The workers' PoC in the gateway's tests: few nonces, so that serving is not starved.
pub const POC: &str = "poc_max_nonces = 4\npoc_batch = 2\n";
/// The model the dev chain approves, by the name the gateway serves it by.
pub const MODEL: &str = "SmolLM2-135M-Instruct";
/// The question the tests ask.
pub const QUESTION: &str = "What is the capital of France?";

/// A system prompt long enough for a receipt to pay its checks: a new host's receipts are
/// all sampled, and the validators' share of a settlement must pay `SampleFee` (330
/// tokens' worth) for each sample and its second answers (two answers for a settlement of
/// one receipt: `docs/channels.md`, "Known limits"): 1,400 digits, one token each.
pub fn system() -> String {
	format!("Remember this number: {}", "0123456789".repeat(140))
}

/// What a test's gateway opens its channels with.
pub struct GatewayTerms {
	/// Slots of each channel's committee.
	pub committee: u8,
	/// How long a channel takes requests, in blocks.
	pub duration: u32,
	/// The deposit, in largest requests per slot.
	pub requests_per_slot: u32,
	/// The most tokens a request may use.
	pub max_request_tokens: u32,
}

/// A running `gonka-worker gateway` funded by Charlie, killed when dropped.
pub struct GatewayProcess {
	child: Child,
	log: PathBuf,
	/// Its OpenAI-compatible API.
	pub url: String,
}

impl GatewayProcess {
	/// Starts a gateway on a free port, its data under `dir/gateway` (a restarted one takes
	/// up its channels from there; its log goes on in the same file), on the node's RPC
	/// `rpc_port`, serving model 0 (SmolLM2-135M) with `terms`.
	pub fn start(dir: &Path, rpc_port: u16, terms: &GatewayTerms) -> Self {
		let data_dir = dir.join("gateway");
		std::fs::create_dir_all(&data_dir).unwrap();
		let key = data_dir.join("charlie.key");
		std::fs::write(&key, "//Charlie\n").unwrap();
		let port = super::free_port();
		let config = data_dir.join("gateway.toml");
		let GatewayTerms { committee, duration, requests_per_slot, max_request_tokens } = terms;
		std::fs::write(
			&config,
			format!(
				"node = \"ws://127.0.0.1:{rpc_port}\"\nlisten = \"127.0.0.1:{port}\"\n\
				 data_dir = \"{}\"\naccount_key_file = \"{}\"\npoll_ms = 300\n\n\
				 [[models]]\nmodel_id = 0\nmodel_file = \"{}\"\ncommittee = {committee}\n\
				 duration = {duration}\nrotate_before = 5\n\
				 max_request_tokens = {max_request_tokens}\n\
				 requests_per_slot = {requests_per_slot}\n",
				data_dir.display(),
				key.display(),
				default_model().display(),
			),
		)
		.unwrap();
		let log = data_dir.join("gateway.log");
		let output = std::fs::OpenOptions::new().create(true).append(true).open(&log).unwrap();
		let child = Command::new(worker_bin())
			.args(["gateway", "--config"])
			.arg(&config)
			.env("RUST_LOG", "info")
			.stdin(Stdio::null())
			.stdout(output.try_clone().unwrap())
			.stderr(output)
			.spawn()
			.expect("gonka-worker gateway starts");
		GatewayProcess { child, log, url: format!("http://127.0.0.1:{port}") }
	}

	/// Its log so far.
	pub fn log(&self) -> String {
		std::fs::read_to_string(&self.log).unwrap_or_default()
	}

	/// Kills it at once (SIGKILL: no shutdown of any kind).
	pub fn kill(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}

	/// Its exit status, if it exits within `within`.
	pub fn exit_within(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
		let started = Instant::now();
		while started.elapsed() < within {
			if let Ok(Some(status)) = self.child.try_wait() {
				return Some(status);
			}
			std::thread::sleep(Duration::from_millis(200));
		}
		None
	}
}

impl Drop for GatewayProcess {
	fn drop(&mut self) {
		self.kill();
	}
}

/// Sends a POST of `body` to `/v1/chat/completions` at `url`; `None` if nothing listens.
fn send(url: &str, body: &serde_json::Value) -> Option<std::net::TcpStream> {
	let address = url.strip_prefix("http://").unwrap();
	let mut stream = std::net::TcpStream::connect(address).ok()?;
	let body = body.to_string();
	write!(
		stream,
		"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
		 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
		body.len()
	)
	.ok()?;
	Some(stream)
}

/// A POST of `body` to the gateway: the status and the body (`None`: not listening yet).
pub fn post(url: &str, body: &serde_json::Value) -> Option<(u16, String)> {
	let mut stream = send(url, body)?;
	let mut answer = String::new();
	stream.read_to_string(&mut answer).ok()?;
	let status = answer.get(9..12)?.parse().ok()?;
	let (_, rest) = answer.split_once("\r\n\r\n")?;
	Some((status, rest.to_string()))
}

/// A streamed chat completion's timing, as its client sees it.
#[derive(Debug, Clone, Copy)]
pub struct StreamTiming {
	/// From sending the request to the first event carrying text.
	pub first_token: Duration,
	/// From sending the request to `[DONE]`.
	pub total: Duration,
	/// Events that carried text.
	pub chunks: u32,
}

/// A streamed answer: POSTs `body` (which asks for `stream`); `None` unless the status is
/// 200.
fn open_stream(url: &str, body: &serde_json::Value) -> Option<SseReader> {
	let mut reader = BufReader::new(send(url, body)?);
	let mut status = String::new();
	reader.read_line(&mut status).ok()?;
	(status.get(9..12) == Some("200")).then_some(reader)
}

/// A Server-Sent Events stream being read.
pub type SseReader = BufReader<std::net::TcpStream>;

/// The next event's data (`None` at the stream's end or on a read error).
fn next_data(reader: &mut SseReader) -> Option<String> {
	let mut line = String::new();
	loop {
		line.clear();
		if reader.read_line(&mut line).ok()? == 0 {
			return None;
		}
		if let Some(data) = line.trim_end().strip_prefix("data: ") {
			return Some(data.to_string());
		}
	}
}

/// The text an event's delta carries (empty if none).
fn delta_text(data: &str) -> Option<String> {
	let event: serde_json::Value = serde_json::from_str(data).ok()?;
	Some(event["choices"][0]["delta"]["content"].as_str().unwrap_or_default().to_string())
}

/// POSTs `body` (which asks for `stream`) and reads the Server-Sent Events to `[DONE]`:
/// `None` unless the status is 200 and the stream ends with `[DONE]` after some text.
pub fn stream_timed(url: &str, body: &serde_json::Value) -> Option<StreamTiming> {
	let started = Instant::now();
	let mut reader = open_stream(url, body)?;
	let (mut first_token, mut chunks) = (None, 0);
	loop {
		let data = next_data(&mut reader)?;
		if data == "[DONE]" {
			return Some(StreamTiming {
				first_token: first_token?,
				total: started.elapsed(),
				chunks,
			});
		}
		if !delta_text(&data)?.is_empty() {
			chunks += 1;
			first_token.get_or_insert_with(|| started.elapsed());
		}
	}
}

/// POSTs `body` (which asks for `stream`) and reads the Server-Sent Events until one
/// carries text: the stream, mid-way (`None` unless the status is 200 and text came).
pub fn stream_started(url: &str, body: &serde_json::Value) -> Option<SseReader> {
	let mut reader = open_stream(url, body)?;
	loop {
		if !delta_text(&next_data(&mut reader)?)?.is_empty() {
			return Some(reader);
		}
	}
}

/// `Duration` as milliseconds with one decimal.
pub fn millis(duration: Duration) -> String {
	format!("{:.1}", duration.as_secs_f64() * 1e3)
}
