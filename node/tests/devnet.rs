//! End to end: the README's run command. `scripts/dev.sh` starts `gonka-node --dev`, the
//! workers of the development chain's two hosts, `gonka-worker watch` and a gateway, and
//! sends a first request from a developer's account; a person watching sees each host's
//! nonces and PoC weight, the request answered within the first epoch and validated, and
//! the first epoch's reward paid; the developer's gateway answers the same question over
//! the channel it opened; Ctrl-C (SIGINT to the whole process group, as a terminal sends
//! it) stops every process.

mod common;

use std::{
	os::unix::process::CommandExt,
	path::PathBuf,
	process::{Command, Stdio},
	time::{Duration, Instant},
};

/// Node start-up (a debug node compiles its runtime), then three 48-second epochs: the first
/// epoch's reward is paid when its ledger is final, two epochs later.
const DEADLINE: Duration = Duration::from_secs(900);

/// The dev chain's epoch length in blocks.
const EPOCH_LENGTH: u32 = 16;

/// The block number of the first line of `output` containing `what` (`#N ...`).
fn block_of(output: &str, what: &str) -> Option<u32> {
	let line = output.lines().find(|line| line.contains(what))?;
	line.strip_prefix('#')?.split(' ').next()?.parse().ok()
}

fn group_alive(group: u32) -> bool {
	Command::new("kill")
		.args(["-0", "--", &format!("-{group}")])
		.stderr(Stdio::null())
		.status()
		.is_ok_and(|status| status.success())
}

#[test]
fn one_command_runs_the_network_and_ctrl_c_stops_it() {
	let base = tempfile::tempdir().expect("temporary directory");
	let dir = base.path().join("devnet");
	let (stdout_path, stderr_path) = (base.path().join("stdout"), base.path().join("stderr"));
	let worker = common::worker::worker_bin();
	let target = worker.parent().and_then(|debug| debug.parent()).expect("target/debug");
	let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/dev.sh");
	// Through `env --default-signal=INT`: a shell cannot trap a signal that was ignored
	// when it started, and a test run started in the background of a non-interactive shell
	// (`cmd &`) inherits SIGINT ignored; a terminal's Ctrl-C never meets that.
	let mut child = Command::new("env")
		.args(["--default-signal=INT", "bash"])
		.arg(&script)
		.args(["--port", &common::free_port().to_string(), "--no-prometheus", "--no-mdns"])
		.env("GONKA_DEV_PREBUILT", "1")
		.env("GONKA_DEV_DIR", &dir)
		.env("GONKA_DEV_RPC_PORT", common::free_port().to_string())
		.env("GONKA_DEV_GATEWAY_PORT", common::free_port().to_string())
		.env("CARGO_TARGET_DIR", target)
		// Not the machine's shared build path: this run builds nothing.
		.env("GONKA_BUILD_ROOT", base.path().join("build-root"))
		.stdin(Stdio::null())
		.stdout(std::fs::File::create(&stdout_path).unwrap())
		.stderr(std::fs::File::create(&stderr_path).unwrap())
		.process_group(0)
		.spawn()
		.expect("bash runs scripts/dev.sh");
	let group = child.id();
	let read = || {
		(
			std::fs::read_to_string(&stdout_path).unwrap_or_default(),
			std::fs::read_to_string(&stderr_path).unwrap_or_default(),
		)
	};
	let logs = || {
		let (out, err) = read();
		let worker = |name: &str| {
			std::fs::read_to_string(dir.join(name).join("worker.log")).unwrap_or_default()
		};
		let gateway = std::fs::read_to_string(dir.join("gateway/gateway.log")).unwrap_or_default();
		format!(
			"stdout:\n{out}\nstderr:\n{err}\nalice:\n{}\nbob:\n{}\ngateway:\n{gateway}",
			worker("alice"),
			worker("bob")
		)
	};
	let expected = [
		"alice committed",
		"bob committed",
		"alice PoC Accepted: weight",
		"bob PoC Accepted: weight",
		"weights of epoch 0 in force: 2 host(s)",
		"request 0 from charlie",
		"request 0 answered by",
		"passed",
		"epoch 0 reward to alice",
		"epoch 0 reward to bob",
		"epoch 0 rewarded: 323000 GNK minted",
	];
	let started = Instant::now();
	loop {
		let (out, err) = read();
		assert!(!err.contains("error: the gateway"), "{}", logs());
		if expected.iter().all(|line| out.contains(line))
			&& out.contains("==> answer:")
			&& out.contains("==> gateway answer:")
		{
			break;
		}
		if let Ok(Some(status)) = child.try_wait() {
			panic!("scripts/dev.sh exited by itself ({status}):\n{}", logs());
		}
		if started.elapsed() > DEADLINE {
			let _ = Command::new("kill").args(["-KILL", "--", &format!("-{group}")]).status();
			panic!("the network's progress within {DEADLINE:?}:\n{}", logs());
		}
		std::thread::sleep(Duration::from_secs(1));
	}
	let (out, _) = read();
	// The greedy answer to the first request, its cost, and when it was served.
	let answer = out.split("==> answer:").nth(1).unwrap_or_default();
	assert!(answer.contains("Paris"), "{}", logs());
	assert!(answer.contains("completion tokens, cost "), "{}", logs());
	let answered = block_of(&out, "request 0 answered by").expect("a block number");
	assert!(answered <= EPOCH_LENGTH, "answered in block {answered}, after epoch 0:\n{}", logs());
	let validated = out.lines().find(|line| line.contains("request 0 validated by"));
	assert!(validated.is_some_and(|line| line.ends_with("passed")), "{}", logs());
	// The same question through the gateway, over the channel it opened.
	let gateway = out.lines().find(|line| line.starts_with("==> gateway answer:"));
	assert!(gateway.is_some_and(|line| line.contains("Paris")), "{}", logs());
	// `watch` shows the gateway's channel and its committee.
	assert!(out.contains("channel 0 opened by dave"), "{}", logs());
	assert!(out.contains("channel 0: committee "), "{}", logs());

	// Ctrl-C: SIGINT to the foreground process group.
	let status = Command::new("kill").args(["-INT", "--", &format!("-{group}")]).status();
	assert!(status.is_ok_and(|status| status.success()));
	let stopping = Instant::now();
	let status = loop {
		if let Ok(Some(status)) = child.try_wait() {
			break status;
		}
		assert!(stopping.elapsed() < Duration::from_secs(90), "still running:\n{}", logs());
		std::thread::sleep(Duration::from_millis(200));
	};
	assert_eq!(status.code(), Some(130), "exit status of an interrupted script:\n{}", logs());
	let deadline = Instant::now() + Duration::from_secs(10);
	while group_alive(group) {
		assert!(Instant::now() < deadline, "a process of the network outlived Ctrl-C:\n{}", logs());
		std::thread::sleep(Duration::from_millis(200));
	}
	let (_, err) = read();
	assert!(err.contains("==> stopped"), "{}", logs());
}

/// `zombienet/run.sh` without the relay chain's binaries stops at once, before building,
/// saying which are missing and how to get them (exit status 2), in both of its modes.
#[test]
fn zombienet_without_the_relay_binaries_says_what_is_missing() {
	let base = tempfile::tempdir().expect("temporary directory");
	let worker = common::worker::worker_bin();
	let target = worker.parent().and_then(|debug| debug.parent()).expect("target/debug");
	let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../zombienet/run.sh");
	// The system's tools, and no directory that could hold a `polkadot` binary.
	let path = "/usr/sbin:/usr/bin:/sbin:/bin";
	let cargo_bin = std::env::var("CARGO_HOME")
		.map(PathBuf::from)
		.unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap()).join(".cargo"))
		.join("bin");
	for mode in [None, Some("--spawn")] {
		let output = Command::new("bash")
			.arg(&script)
			.args(mode)
			.env("PATH", format!("{path}:{}", cargo_bin.display()))
			.env("CARGO_TARGET_DIR", target)
			.env("GONKA_BUILD_ROOT", base.path().join("build-root"))
			.stdin(Stdio::null())
			.output()
			.expect("bash runs zombienet/run.sh");
		let stderr = String::from_utf8_lossy(&output.stderr);
		assert_eq!(output.status.code(), Some(2), "{mode:?}: {stderr}");
		assert!(
			stderr.contains(
				"missing relay chain binaries on PATH: polkadot polkadot-prepare-worker \
				 polkadot-execute-worker"
			),
			"{mode:?}: {stderr}"
		);
		assert!(stderr.contains("cargo install polkadot --locked"), "{mode:?}: {stderr}");
	}
}

/// Hole 19 of the soundness review: the cheat modes were compiled into the worker that
/// `scripts/dev.sh` runs whenever the workspace's tests had been built (a dev-dependency's
/// feature is unified into every build of the test run). That worker, the one this file's
/// other test starts through `dev.sh`, now refuses a `[cheat]` section; the end-to-end
/// tests' cheating worker is another binary, built alone with the feature.
#[test]
fn the_worker_that_dev_sh_runs_refuses_a_cheat_section() {
	use polkadot_sdk::{sp_core::crypto::Ss58Codec, sp_keyring::Sr25519Keyring};
	let dir = tempfile::tempdir().expect("temporary directory");
	let config = dir.path().join("worker.toml");
	let host = Sr25519Keyring::Alice.to_account_id().to_ss58check();
	std::fs::write(
		&config,
		format!(
			"host = \"{host}\"\nworker_key_file = \"worker.key\"\nmodel_file = \"model.gguf\"\n\
			 [cheat]\npoc = \"random-artifacts\"\n"
		),
	)
	.unwrap();
	let run = |binary: PathBuf| {
		let output = Command::new(binary).arg("run").arg("--config").arg(&config).output();
		let output = output.expect("the worker runs");
		(output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
	};
	let (ok, stderr) = run(common::worker::worker_bin());
	assert!(!ok && stderr.contains("unknown field `cheat`"), "{stderr}");
	// The cheating worker reads the section (and stops at the missing key file).
	let (ok, stderr) = run(common::worker::cheat_worker_bin());
	assert!(!ok && !stderr.contains("unknown field"), "{stderr}");
}
