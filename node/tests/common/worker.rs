//! A real `gonka-worker run` process for end-to-end tests.

use polkadot_sdk::{sp_core::crypto::Ss58Codec, sp_keyring::Sr25519Keyring};
use std::{
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
};

/// The dev chain's model (`gonka_runtime::configs::DEFAULT_MODEL`).
pub const DEFAULT_MODEL: u32 = 0;

/// The worker binary, built beside the node by the workspace's test build.
pub fn worker_bin() -> PathBuf {
	if let Some(path) = std::env::var_os("GONKA_WORKER_BIN") {
		return PathBuf::from(path);
	}
	let exe = std::env::current_exe().expect("the test's path");
	exe.parent().and_then(Path::parent).expect("target/<profile>/deps").join("gonka-worker")
}

/// The cheating worker (`gonka-worker-cheats`, the worker built alone with its `test-cheats`
/// feature), which `scripts/env.sh`'s `gonka_build` builds beside the workspace's binaries.
pub fn cheat_worker_bin() -> PathBuf {
	if let Some(path) = std::env::var_os("GONKA_CHEAT_WORKER_BIN") {
		return PathBuf::from(path);
	}
	let path = worker_bin().with_file_name("gonka-worker-cheats");
	assert!(
		path.exists(),
		"{} is missing: build it with `source scripts/env.sh && gonka_build` (scripts/test.sh \
		 does), which builds it first and the honest workspace after",
		path.display()
	);
	path
}

/// A running `gonka-worker run`, killed when dropped.
pub struct Worker {
	child: Child,
	log: PathBuf,
	data_dir: PathBuf,
	/// Its configuration file.
	pub config: PathBuf,
	/// The port of its Prometheus metrics.
	pub metrics_port: u16,
}

impl Worker {
	/// Starts the worker of dev host `key` (its genesis worker key `//<key>//stash`,
	/// proofs served on the genesis endpoint's port: 8400 for Alice, 8401 for Bob), with
	/// `extra` lines of `worker.toml`.
	pub fn start(dir: &Path, key: Sr25519Keyring, rpc_port: u16, extra: &str) -> Worker {
		Self::start_with_model(dir, key, rpc_port, extra, &default_model(), poc_port(key))
	}

	/// As [`Worker::start`], serving the model file `model` and listening for proof
	/// requests on `listen_port`.
	pub fn start_with_model(
		dir: &Path,
		key: Sr25519Keyring,
		rpc_port: u16,
		extra: &str,
		model: &Path,
		listen_port: u16,
	) -> Worker {
		Self::spawn(&worker_bin(), dir, key, rpc_port, extra, model, listen_port)
	}

	/// As [`Worker::start_with_model`], with the cheating worker ([`cheat_worker_bin`]):
	/// `extra` may hold a `[cheat]` section.
	pub fn start_cheater(
		dir: &Path,
		key: Sr25519Keyring,
		rpc_port: u16,
		extra: &str,
		model: &Path,
		listen_port: u16,
	) -> Worker {
		Self::spawn(&cheat_worker_bin(), dir, key, rpc_port, extra, model, listen_port)
	}

	fn spawn(
		binary: &Path,
		dir: &Path,
		key: Sr25519Keyring,
		rpc_port: u16,
		extra: &str,
		model: &Path,
		listen_port: u16,
	) -> Worker {
		let name = key.to_string().to_lowercase();
		let data_dir = dir.join(&name);
		std::fs::create_dir_all(&data_dir).unwrap();
		let key_file = data_dir.join("worker.key");
		std::fs::write(&key_file, format!("//{key}//stash\n")).unwrap();
		let config = data_dir.join("worker.toml");
		let metrics_port = super::free_port();
		std::fs::write(
			&config,
			format!(
				"node = \"ws://127.0.0.1:{rpc_port}\"\nhost = \"{}\"\nworker_key_file = \"{}\"\n\
				 data_dir = \"{}\"\nmodel_id = {DEFAULT_MODEL}\nmodel_file = \"{}\"\n\
				 threads = 1\npoll_ms = 300\npoc_listen = \"127.0.0.1:{}\"\n\
				 metrics_listen = \"127.0.0.1:{metrics_port}\"\n{extra}",
				key.to_account_id().to_ss58check(),
				key_file.display(),
				data_dir.display(),
				model.display(),
				listen_port,
			),
		)
		.unwrap();
		let log = data_dir.join("worker.log");
		// A restarted worker's log goes on in the same file.
		let output = std::fs::OpenOptions::new().create(true).append(true).open(&log).unwrap();
		let child = Command::new(binary)
			.args(["run", "--config"])
			.arg(&config)
			.env("RUST_LOG", "info")
			.stdin(Stdio::null())
			.stdout(output.try_clone().unwrap())
			.stderr(output)
			.spawn()
			.expect("gonka-worker starts");
		Worker { child, log, data_dir, config, metrics_port }
	}

	/// Waits up to `deadline` for the process to exit by itself.
	pub fn exit_within(
		&mut self,
		deadline: std::time::Duration,
	) -> Option<std::process::ExitStatus> {
		let started = std::time::Instant::now();
		while started.elapsed() < deadline {
			if let Ok(Some(status)) = self.child.try_wait() {
				return Some(status);
			}
			std::thread::sleep(std::time::Duration::from_millis(200));
		}
		None
	}

	/// Kills it at once (SIGKILL: no shutdown of any kind).
	pub fn kill(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}

	/// Its output so far.
	pub fn log(&self) -> String {
		std::fs::read_to_string(&self.log).unwrap_or_default()
	}

	/// Whether it has handled a finalized block (its journal exists).
	pub fn following(&self) -> bool {
		self.data_dir.join(gonka_worker::duty::journal::JOURNAL_FILE).exists()
	}
}

impl Drop for Worker {
	fn drop(&mut self) {
		self.kill();
	}
}

/// The port of a dev host's registered endpoint.
pub fn poc_port(key: Sr25519Keyring) -> u16 {
	match key {
		Sr25519Keyring::Alice => 8400,
		Sr25519Keyring::Bob => 8401,
		other => panic!("{other} is not a dev host"),
	}
}

/// The default model's file, fetched offline into the model cache.
pub fn default_model() -> PathBuf {
	gonka_worker::catalog::fetch(
		&gonka_worker::catalog::SMOLLM2_135M,
		&std::env::var_os("GONKA_MODEL_DIR").map(PathBuf::from).unwrap_or_else(|| {
			PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/gonka/models")
		}),
	)
	.expect("the default model")
}

/// Runs `gonka-worker <args>` to completion: (success, stdout, stderr).
pub fn command(args: &[&str]) -> (bool, String, String) {
	let output = Command::new(worker_bin()).args(args).output().expect("gonka-worker runs");
	(
		output.status.success(),
		String::from_utf8_lossy(&output.stdout).into_owned(),
		String::from_utf8_lossy(&output.stderr).into_owned(),
	)
}

/// The text of `http://127.0.0.1:<port>/metrics`.
pub fn scrape(port: u16) -> String {
	use std::io::{Read, Write};
	let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
		return String::new();
	};
	let request = "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
	let mut response = String::new();
	if stream.write_all(request.as_bytes()).is_ok() {
		let _ = stream.read_to_string(&mut response);
	}
	response
}

/// A metric's value in a scrape (the sum over its label sets), 0 if absent.
pub fn metric(scrape: &str, name: &str) -> f64 {
	scrape
		.lines()
		.filter(|line| {
			line.strip_prefix(name)
				.is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
		})
		.filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
		.sum()
}
