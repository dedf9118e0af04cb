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

/// A host computes its nonces in batches of its choosing; a validator recomputes only the
/// leaves it sampled, all in one batch. At the model's `seq_len` a batch of 8 nonces is 512
/// rows, where a matrix product over all rows rounded otherwise than over 64 and moved an
/// honest artifact 0.38 away (beyond `dist_threshold`). Every artifact must be the same
/// bits whatever the batch.
#[test]
fn a_validator_recomputing_its_sample_in_one_batch_finds_the_hosts_artifacts_exactly() {
	let seq_len = gonka_worker::catalog::SMOLLM2_135M.calibration.poc_seq_len;
	// The seed of the development chain's first epoch (its genesis hash) under which an
	// honest host was judged invalid, and Bob's host id.
	let seed = hex::decode("bd5b984459bd685c07dfbbd2c0b705897c1682b381a8e88d69e90d97755bad97")
		.unwrap()
		.try_into()
		.unwrap();
	let bob = HostId::new(
		hex::decode("8eaf04151687736326c9fea17e25fc5287613693c912909cb226aa4794f26a48")
			.unwrap()
			.try_into()
			.unwrap(),
	);
	let engine = PocEngine::new(model(), seed, seq_len).unwrap();
	let nonces: Vec<u64> = (0..8).collect();
	let generated: Vec<Artifact> =
		nonces.chunks(3).flat_map(|batch| engine.artifacts(&bob, batch).unwrap()).collect();
	let recomputed = engine.artifacts(&bob, &nonces).unwrap();
	for (nonce, (host, validator)) in generated.iter().zip(&recomputed).enumerate() {
		assert_eq!(
			host,
			validator,
			"nonce {nonce}: {} away in a batch of 8 from its batch of 3",
			host.distance(validator)
		);
	}
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

/// Calibration separations (`docs/verification.md`), at the default model's PoC `seq_len`
/// and with its `dist_threshold`: honest recomputations on other kernel shapes fall well
/// inside, a cheaper quantization and random artifacts fall outside.
mod separation {
	use super::*;
	use gonka_primitives::binomial::{critical_mismatches, upper_tail, PROB_ONE};
	use gonka_worker::catalog::SMOLLM2_135M;
	use polkadot_sdk::sp_arithmetic::Perbill;

	const NONCES: [u64; 6] = [0, 1, 2, 3, 4, 5];

	fn threshold() -> f64 {
		SMOLLM2_135M.calibration.dist_threshold
	}

	fn reference() -> &'static Vec<Artifact> {
		static REFERENCE: OnceLock<Vec<Artifact>> = OnceLock::new();
		REFERENCE.get_or_init(|| {
			let seq_len = SMOLLM2_135M.calibration.poc_seq_len;
			PocEngine::new(model(), [7u8; 32], seq_len)
				.unwrap()
				.artifacts(&host(), &NONCES)
				.unwrap()
		})
	}

	#[test]
	fn an_honest_recomputation_on_other_kernel_shapes_stays_well_inside_dist_threshold() {
		let seq_len = SMOLLM2_135M.calibration.poc_seq_len;
		let engine = PocEngine::new(model(), [7u8; 32], seq_len).unwrap();
		for split in [seq_len / 2, seq_len - 1] {
			let other = engine.artifacts_split(&host(), &NONCES, split).unwrap();
			for (a, b) in reference().iter().zip(&other) {
				// Measured at most 0.088 over 128 nonces: half the threshold is the margin.
				assert!(a.distance(b) < threshold() / 2.0, "split {split}: {}", a.distance(b));
			}
		}
	}

	#[test]
	fn an_honest_recomputation_on_other_kernels_stays_inside_dist_threshold() {
		// A host whose CPU runs candle's kernels (no AVX2): same file, sums in another order.
		let (other, _) = Llama::load_with(
			&common::model_path(),
			&candle_core::Device::Cpu,
			gonka_worker::model::CpuKernels::Candle,
		)
		.unwrap();
		let seq_len = SMOLLM2_135M.calibration.poc_seq_len;
		let artifacts = PocEngine::new(&other, [7u8; 32], seq_len)
			.unwrap()
			.artifacts(&host(), &NONCES)
			.unwrap();
		for (a, b) in reference().iter().zip(&artifacts) {
			assert!(a.distance(b) < threshold(), "{}", a.distance(b));
		}
	}

	#[test]
	fn a_cheaper_quantization_lands_outside_dist_threshold() {
		let (cheap, _) = common::requantized(candle_core::quantized::GgmlDType::Q4_0);
		let seq_len = SMOLLM2_135M.calibration.poc_seq_len;
		let artifacts = PocEngine::new(&cheap, [7u8; 32], seq_len)
			.unwrap()
			.artifacts(&host(), &NONCES)
			.unwrap();
		let mismatches =
			reference().iter().zip(&artifacts).filter(|(a, b)| a.distance(b) > threshold()).count();
		// Measured: 58 of 64 nonces beyond 0.2. Two mismatches already convict (below).
		assert!(mismatches >= 3, "{mismatches} of {}", NONCES.len());
	}

	#[test]
	fn faked_artifacts_land_outside_dist_threshold() {
		// A faker's artifact: any unit vector not computed; here each honest one negated
		// and a fixed one.
		let fixed = Artifact::from_bytes(&[0x00, 0x3c].repeat(12).try_into().unwrap());
		for honest in reference() {
			let negated = Artifact(honest.0.map(|x| -x));
			assert!(honest.distance(&negated) > threshold());
			assert!(honest.distance(&fixed) > threshold(), "{}", honest.distance(&fixed));
		}
	}

	#[test]
	fn two_mismatches_in_200_samples_convict_and_catch_a_4_percent_faker() {
		let calibration = SMOLLM2_135M.calibration;
		let p_mismatch = Perbill::from_parts(calibration.p_mismatch_ppb);
		let p_value = Perbill::from_parts(calibration.p_value_ppb);
		assert_eq!(critical_mismatches(200, p_mismatch, p_value).unwrap(), 2);
		// A host faking 4% of its nonces shows ≥ 2 mismatches in ≥ 99% of samples.
		let caught = upper_tail(200, 2, Perbill::from_percent(4)).unwrap();
		assert!(caught * 100 >= PROB_ONE * 99, "{}", caught as f64 / PROB_ONE as f64);
		// An honest host mismatching at 1 in 10,000 (none seen in 128 recomputations,
		// the largest distance a third of the threshold) is reported by one validator
		// with probability ≈ 2·10⁻⁴.
		let reported = upper_tail(200, 2, Perbill::from_parts(100_000)).unwrap();
		assert!(reported * 4_000 <= PROB_ONE, "{}", reported as f64 / PROB_ONE as f64);
	}
}
