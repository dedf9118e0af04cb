//! Proof of Compute artifacts on the default model: deterministic, distinct per nonce, unit
//! length, independent of batching and of the thread count.

use common::model_path;
use gonka_primitives::{merkle, HostId};
use gonka_worker::{
	model::Llama,
	poc::{Artifact, PocEngine},
};
use std::{process::Command, sync::OnceLock};

mod common;

const SEQ_LEN: usize = 16;

fn model() -> &'static Llama {
	static MODEL: OnceLock<Llama> = OnceLock::new();
	MODEL.get_or_init(|| Llama::load(&model_path(), &candle_core::Device::Cpu).unwrap().0)
}

fn host() -> HostId {
	HostId::new([5u8; 32])
}

#[test]
fn the_same_nonce_gives_the_same_artifact_batched_or_not() {
	let engine = PocEngine::new(model(), [1u8; 32], SEQ_LEN).unwrap();
	let batched = engine.artifacts(&host(), &[0, 1, 2]).unwrap();
	let single: Vec<Artifact> =
		(0..3).map(|nonce| engine.artifacts(&host(), &[nonce]).unwrap()[0]).collect();
	assert_eq!(batched, single);
	assert_eq!(batched, engine.artifacts(&host(), &[0, 1, 2]).unwrap());
}

#[test]
fn artifacts_differ_by_nonce_host_and_seed() {
	let engine = PocEngine::new(model(), [1u8; 32], SEQ_LEN).unwrap();
	let other_seed = PocEngine::new(model(), [2u8; 32], SEQ_LEN).unwrap();
	let a = engine.artifacts(&host(), &[0, 1]).unwrap();
	let other_host = engine.artifacts(&HostId::new([6u8; 32]), &[0]).unwrap();
	let reseeded = other_seed.artifacts(&host(), &[0]).unwrap();
	for (x, y) in [(a[0], a[1]), (a[0], other_host[0]), (a[0], reseeded[0])] {
		assert!(x.distance(&y) > 0.1, "{x:?} vs {y:?}");
	}
}

#[test]
fn an_artifact_is_a_unit_vector_of_12_coordinates() {
	let engine = PocEngine::new(model(), [1u8; 32], SEQ_LEN).unwrap();
	let artifact = engine.artifacts(&host(), &[9]).unwrap()[0];
	let norm = artifact.0.iter().map(|v| f64::from(v.to_f32()).powi(2)).sum::<f64>().sqrt();
	assert!((norm - 1.0).abs() < 2e-3, "{norm}");
	assert_eq!(Artifact::from_bytes(&artifact.to_bytes()), artifact);
}

#[test]
fn committed_artifacts_prove_against_the_root() {
	let engine = PocEngine::new(model(), [1u8; 32], SEQ_LEN).unwrap();
	let artifacts = engine.artifacts(&host(), &[0, 1, 2, 3, 4]).unwrap();
	let bytes: Vec<[u8; 24]> = artifacts.iter().map(Artifact::to_bytes).collect();
	let tree = merkle::MerkleTree::from_artifacts(bytes.iter().map(|b| &b[..]));
	let root = tree.root();
	let proof = tree.proof(3).unwrap();
	assert!(merkle::verify(&root, 5, 3, &merkle::leaf_hash(3, &bytes[3]), &proof));
	// A recomputed artifact served for another index fails.
	assert!(!merkle::verify(&root, 5, 2, &merkle::leaf_hash(2, &bytes[3]), &proof));
}

fn artifacts_with_threads(threads: usize) -> String {
	let output = Command::new(env!("CARGO_BIN_EXE_gonka-worker"))
		.args(["poc", "compute", "--seq-len", &SEQ_LEN.to_string(), "--count", "3"])
		.args(["--seed", &hex::encode([1u8; 32]), "--host", &hex::encode([5u8; 32])])
		.args(["--threads", &threads.to_string(), "--model"])
		.arg(model_path())
		.output()
		.unwrap();
	assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
	String::from_utf8(output.stdout).unwrap()
}

#[test]
fn artifacts_do_not_depend_on_the_thread_count() {
	let one = artifacts_with_threads(1);
	assert_eq!(one, artifacts_with_threads(2));
	// And the command line computes what the library does.
	let engine = PocEngine::new(model(), [1u8; 32], SEQ_LEN).unwrap();
	let expected: Vec<String> = engine
		.artifacts(&host(), &[0, 1, 2])
		.unwrap()
		.iter()
		.map(|a| hex::encode(a.to_bytes()))
		.collect();
	let printed: serde_json::Value = serde_json::from_str(&one).unwrap();
	assert_eq!(printed["artifacts"], serde_json::json!(expected));
}
