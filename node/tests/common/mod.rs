//! Starting and stopping a real `gonka-node` for end-to-end tests.

#![allow(dead_code)]

pub mod events;
pub mod gateway;
pub mod worker;

use std::{
	net::TcpListener,
	path::{Path, PathBuf},
	process::{Child, Command, ExitStatus, Stdio},
	time::{Duration, Instant},
};
use subxt::{OnlineClient, PolkadotConfig};

/// The binary under test, built by cargo for this test run.
pub const NODE_BIN: &str = env!("CARGO_BIN_EXE_gonka-node");

/// How long a debug-profile node may take to start (genesis, wasm compilation).
pub const STARTUP_DEADLINE: Duration = Duration::from_secs(600);

/// A free TCP port on localhost.
pub fn free_port() -> u16 {
	TcpListener::bind("127.0.0.1:0")
		.and_then(|listener| listener.local_addr())
		.map(|address| address.port())
		.expect("the OS hands out a free port")
}

/// Polls `check` every `every` until it holds; after `deadline`, panics saying what did
/// not happen, with `context()` (logs) to explain why.
pub async fn wait_until<F, Fut>(
	what: &str,
	deadline: Duration,
	every: Duration,
	mut check: F,
	context: impl FnOnce() -> String,
) where
	F: FnMut() -> Fut,
	Fut: std::future::Future<Output = bool>,
{
	let wait = async {
		while !check().await {
			tokio::time::sleep(every).await;
		}
	};
	if tokio::time::timeout(deadline, wait).await.is_err() {
		panic!("{what} within {deadline:?}:\n{}", context());
	}
}

/// Whether a stopped node's `status` is RocksDB's upstream exit race rather than a failure:
/// an abort at process exit, after the service shut down, when its static task scheduler is
/// destroyed while the database closes on another thread (facebook/rocksdb#11349, "pthread
/// lock: Invalid argument"), seen once in many runs. Only that abort is tolerated; the tests
/// that stop a node restart it and check that nothing stored was lost.
pub fn rocksdb_exit_race(status: &ExitStatus, log: &str) -> bool {
	std::os::unix::process::ExitStatusExt::signal(status) == Some(6)
		&& log.contains("pthread lock: Invalid argument")
}

/// A running `gonka-node --dev`, killed when dropped.
pub struct DevNode {
	child: Option<Child>,
	pub rpc_port: u16,
	pub base_path: PathBuf,
	log_path: PathBuf,
}

impl DevNode {
	/// Starts `gonka-node --dev` on free ports, storing its database under `base_path` and
	/// its output in `base_path/<log_name>`.
	pub fn start(base_path: &Path, log_name: &str, block_time_ms: u64) -> DevNode {
		Self::start_on(base_path, log_name, block_time_ms, free_port())
	}

	/// As [`DevNode::start`], serving RPC on `rpc_port` (a restart where clients expect it).
	pub fn start_on(
		base_path: &Path,
		log_name: &str,
		block_time_ms: u64,
		rpc_port: u16,
	) -> DevNode {
		Self::spawn(base_path, log_name, &["--dev"], block_time_ms, rpc_port)
	}

	/// Runs the chain `chain` (a name or `--chain` argument) alone on this machine, as
	/// `--dev` runs the development chain: a block every `block_time_ms`, no relay chain.
	pub fn start_chain(
		base_path: &Path,
		log_name: &str,
		chain: &str,
		block_time_ms: u64,
	) -> DevNode {
		Self::spawn(base_path, log_name, &["--chain", chain], block_time_ms, free_port())
	}

	fn spawn(
		base_path: &Path,
		log_name: &str,
		chain: &[&str],
		block_time_ms: u64,
		rpc_port: u16,
	) -> DevNode {
		let log_path = base_path.join(log_name);
		let log = std::fs::File::create(&log_path).expect("log file can be created");
		let child = Command::new(NODE_BIN)
			.args(chain)
			.args(["--dev-block-time", &block_time_ms.to_string()])
			.arg("--base-path")
			.arg(base_path)
			.args(["--rpc-port", &rpc_port.to_string()])
			.args(["--port", &free_port().to_string()])
			.args(["--no-prometheus", "--no-telemetry", "--no-mdns"])
			.stdin(Stdio::null())
			.stdout(log.try_clone().expect("log file handle"))
			.stderr(log)
			.spawn()
			.expect("gonka-node starts");
		DevNode { child: Some(child), rpc_port, base_path: base_path.to_path_buf(), log_path }
	}

	/// The node's output so far (for failure messages).
	pub fn log(&self) -> String {
		std::fs::read_to_string(&self.log_path).unwrap_or_default()
	}

	/// The last lines of the node's output.
	pub fn log_tail(&self) -> String {
		let log = self.log();
		let lines: Vec<&str> = log.lines().collect();
		lines[lines.len().saturating_sub(40)..].join("\n")
	}

	/// Connects over WebSocket RPC, retrying until the node serves it.
	pub async fn connect(&mut self) -> OnlineClient<PolkadotConfig> {
		let url = format!("ws://127.0.0.1:{}", self.rpc_port);
		let deadline = Instant::now() + STARTUP_DEADLINE;
		loop {
			if let Some(status) =
				self.child.as_mut().and_then(|child| child.try_wait().ok().flatten())
			{
				panic!("gonka-node exited early with {status}:\n{}", self.log_tail());
			}
			match OnlineClient::<PolkadotConfig>::from_insecure_url(&url).await {
				Ok(client) => return client,
				// Not serving RPC yet (or still starting up): poll again shortly.
				Err(_) if Instant::now() < deadline => {
					tokio::time::sleep(Duration::from_millis(500)).await
				}
				Err(error) => panic!(
					"no RPC at {url} after {STARTUP_DEADLINE:?}: {error}\n{}",
					self.log_tail()
				),
			}
		}
	}

	/// Stops the node as Ctrl-C does (SIGINT) and waits for it to exit.
	pub fn stop(&mut self) -> ExitStatus {
		let mut child = self.child.take().expect("the node is running");
		let status = Command::new("kill")
			.args(["-INT", &child.id().to_string()])
			.status()
			.expect("kill runs");
		assert!(status.success(), "SIGINT delivered");
		let deadline = Instant::now() + Duration::from_secs(60);
		loop {
			if let Some(status) = child.try_wait().expect("wait on child") {
				return status;
			}
			if Instant::now() > deadline {
				let _ = child.kill();
				panic!("gonka-node did not stop within 60 s of SIGINT:\n{}", self.log_tail());
			}
			std::thread::sleep(Duration::from_millis(100));
		}
	}
}

impl Drop for DevNode {
	fn drop(&mut self) {
		if let Some(mut child) = self.child.take() {
			let _ = child.kill();
			let _ = child.wait();
		}
	}
}
