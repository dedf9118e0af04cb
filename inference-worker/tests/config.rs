//! `worker.toml` and the worker key: the documented defaults, and every kind of bad input
//! refused with a message that names the file and the field.

use gonka_worker::config::{parse_account, DeviceChoice, WorkerConfig};
use polkadot_sdk::sp_core::{crypto::Ss58Codec, sr25519, Pair};
use std::path::{Path, PathBuf};

/// Alice's account, SS58.
const ALICE: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
	let path = dir.join(name);
	std::fs::write(&path, text).unwrap();
	path
}

fn minimal(host: &str) -> String {
	format!("host = \"{host}\"\nworker_key_file = \"worker.key\"\nmodel_file = \"model.gguf\"\n")
}

fn refusal(dir: &Path, text: &str) -> String {
	let path = write(dir, "worker.toml", text);
	WorkerConfig::load(&path).unwrap_err().to_string()
}

#[test]
fn a_config_with_only_the_required_fields_takes_the_documented_defaults() {
	let dir = tempfile::tempdir().unwrap();
	let config = WorkerConfig::load(&write(dir.path(), "worker.toml", &minimal(ALICE))).unwrap();
	assert_eq!(config.node, "ws://127.0.0.1:9944");
	assert_eq!(config.data_dir, PathBuf::from("gonka-worker-data"));
	assert_eq!((config.model_id, config.threads, config.poll_ms), (0, None, 1_000));
	assert_eq!(config.host().unwrap().to_ss58check(), ALICE);
	assert_eq!(config.poc_listen, "0.0.0.0:8400");
	assert_eq!((config.poc_batch, config.poc_max_nonces), (8, None));
	assert_eq!(config.metrics_listen, "127.0.0.1:9616");
	assert_eq!(config.device().unwrap(), DeviceChoice::Cpu);
}

#[test]
fn devices_parse_and_anything_else_is_refused_naming_the_field() {
	assert_eq!(DeviceChoice::parse("cuda"), Ok(DeviceChoice::Cuda(0)));
	assert_eq!(DeviceChoice::parse("cuda:1"), Ok(DeviceChoice::Cuda(1)));
	let dir = tempfile::tempdir().unwrap();
	for bad in ["gpu", "cuda:", "cuda:x", "CPU"] {
		let error = refusal(dir.path(), &format!("{}device = \"{bad}\"\n", minimal(ALICE)));
		assert!(error.contains("device") && error.contains(bad), "{error}");
	}
}

#[cfg(not(feature = "cuda"))]
#[test]
fn a_cuda_device_without_the_cuda_build_is_a_clear_error() {
	let error = DeviceChoice::Cuda(0).open().unwrap_err().to_string();
	assert!(error.contains("opening CUDA device 0"), "{error}");
}

#[test]
fn a_metrics_address_without_a_port_is_refused() {
	let dir = tempfile::tempdir().unwrap();
	let error = refusal(dir.path(), &format!("{}metrics_listen = \"localhost\"\n", minimal(ALICE)));
	assert!(error.contains("metrics_listen") && error.contains("localhost"), "{error}");
}

#[cfg(not(feature = "test-cheats"))]
#[test]
fn a_cheat_section_is_refused_without_the_test_cheats_feature() {
	let dir = tempfile::tempdir().unwrap();
	let error =
		refusal(dir.path(), &format!("{}[cheat]\npoc = \"random-artifacts\"\n", minimal(ALICE)));
	assert!(error.contains("cheat"), "{error}");
}

#[cfg(feature = "test-cheats")]
#[test]
fn a_cheat_section_names_the_cheats_and_refuses_others() {
	use gonka_worker::duty::poc::PocCheat;
	let dir = tempfile::tempdir().unwrap();
	let path = write(
		dir.path(),
		"worker.toml",
		&format!(
			"{}[cheat]\npoc = \"inflated-count\"\ninference_model_file = \"q4_0.gguf\"\n\
			 truncate_completions = 2\n",
			minimal(ALICE)
		),
	);
	let config = WorkerConfig::load(&path).unwrap();
	assert_eq!(config.cheat.poc, PocCheat::InflatedCount);
	assert_eq!(config.cheat.inference_model_file, Some(PathBuf::from("q4_0.gguf")));
	assert_eq!(config.cheat.truncate_completions, Some(2));
	let honest = WorkerConfig::load(&write(dir.path(), "honest.toml", &minimal(ALICE))).unwrap();
	assert_eq!(honest.cheat.poc, PocCheat::Honest);
	assert_eq!(honest.cheat.truncate_completions, None);
	let error = refusal(dir.path(), &format!("{}[cheat]\npoc = \"lazy\"\n", minimal(ALICE)));
	assert!(error.contains("lazy"), "{error}");
}

#[test]
fn a_zero_poc_batch_and_a_listen_address_without_a_port_are_refused() {
	let dir = tempfile::tempdir().unwrap();
	let error = refusal(dir.path(), &format!("{}poc_batch = 0\n", minimal(ALICE)));
	assert!(error.contains("poc_batch"), "{error}");
	for bad in ["localhost", "127.0.0.1", "0.0.0.0:port"] {
		let error = refusal(dir.path(), &format!("{}poc_listen = \"{bad}\"\n", minimal(ALICE)));
		assert!(error.contains("poc_listen") && error.contains(bad), "{error}");
	}
	let dir = tempfile::tempdir().unwrap();
	let path = write(
		dir.path(),
		"worker.toml",
		&format!("{}poc_listen = \"127.0.0.1:9000\"\npoc_max_nonces = 64\n", minimal(ALICE)),
	);
	let config = WorkerConfig::load(&path).unwrap();
	assert_eq!((config.poc_listen.as_str(), config.poc_max_nonces), ("127.0.0.1:9000", Some(64)));
}

#[test]
fn an_unknown_field_is_refused_naming_the_file_and_the_field() {
	let dir = tempfile::tempdir().unwrap();
	let error = refusal(dir.path(), &format!("{}pol_ms = 5\n", minimal(ALICE)));
	assert!(error.contains("worker.toml") && error.contains("pol_ms"), "{error}");
}

#[test]
fn a_missing_required_field_is_refused() {
	let dir = tempfile::tempdir().unwrap();
	let error = refusal(dir.path(), &format!("host = \"{ALICE}\"\nmodel_file = \"m.gguf\"\n"));
	assert!(error.contains("worker_key_file"), "{error}");
}

#[test]
fn a_host_that_is_not_an_account_is_refused() {
	let dir = tempfile::tempdir().unwrap();
	for bad in ["alice", "0x1234", "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQZ"] {
		let error = refusal(dir.path(), &minimal(bad));
		assert!(error.contains("host") && error.contains(bad), "{error}");
	}
}

#[test]
fn a_zero_poll_interval_is_refused() {
	let dir = tempfile::tempdir().unwrap();
	let error = refusal(dir.path(), &format!("{}poll_ms = 0\n", minimal(ALICE)));
	assert!(error.contains("poll_ms"), "{error}");
}

#[test]
fn a_file_that_is_not_there_is_refused_with_its_path() {
	let error = WorkerConfig::load(Path::new("/nonexistent/worker.toml")).unwrap_err();
	assert!(error.to_string().contains("/nonexistent/worker.toml"), "{error}");
}

#[test]
fn accounts_parse_from_ss58_and_hex() {
	let alice = parse_account(ALICE).unwrap();
	let hex = format!("0x{}", hex::encode(AsRef::<[u8; 32]>::as_ref(&alice)));
	assert_eq!(parse_account(&hex).unwrap(), alice);
}

#[test]
fn the_worker_key_file_holds_a_seed_or_a_secret_uri_and_anything_else_is_refused() {
	let dir = tempfile::tempdir().unwrap();
	let config_for = |key: &str| {
		let key_file = write(dir.path(), "worker.key", key);
		let text = format!(
			"host = \"{ALICE}\"\nworker_key_file = \"{}\"\nmodel_file = \"m.gguf\"\n",
			key_file.display()
		);
		WorkerConfig::load(&write(dir.path(), "worker.toml", &text)).unwrap()
	};
	let uri = config_for("//Alice//stash\n").worker_key().unwrap();
	let expected = sr25519::Pair::from_string("//Alice//stash", None).unwrap();
	assert_eq!(uri.public(), expected.public());
	let seed = config_for(&format!("0x{}\n", hex::encode([7u8; 32]))).worker_key().unwrap();
	assert_eq!(seed.public(), sr25519::Pair::from_seed(&[7u8; 32]).public());
	let Err(error) = config_for("not a key").worker_key() else {
		panic!("text that is not a key is refused")
	};
	let error = error.to_string();
	assert!(error.contains("worker.key"), "{error}");
}

#[test]
fn key_generate_writes_a_private_seed_file_and_never_overwrites_one() {
	let dir = tempfile::tempdir().unwrap();
	let out = dir.path().join("worker.key");
	let run = || {
		std::process::Command::new(env!("CARGO_BIN_EXE_gonka-worker"))
			.args(["key", "generate", "--out"])
			.arg(&out)
			.output()
			.unwrap()
	};
	let first = run();
	assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
	let printed = String::from_utf8(first.stdout).unwrap();
	let ss58 = printed.lines().next().expect("the public key, SS58");
	let seed = std::fs::read_to_string(&out).unwrap();
	let pair = sr25519::Pair::from_string(seed.trim(), None).expect("a seed file");
	assert_eq!(pair.public().to_ss58check(), ss58);
	#[cfg(unix)]
	{
		use std::os::unix::fs::PermissionsExt;
		let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
		assert_eq!(mode, 0o600);
	}
	let second = run();
	assert!(!second.status.success());
	assert!(String::from_utf8_lossy(&second.stderr).contains("not overwriting"));
	assert_eq!(std::fs::read_to_string(&out).unwrap(), seed);
}
