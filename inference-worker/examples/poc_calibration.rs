//! Proof of Compute calibration (`docs/verification.md`): distances between a host's
//! artifacts and a validator's recomputation, for honest hosts whose kernels round
//! differently and for cheaters, so that `dist_threshold` and `p_mismatch` can be chosen
//! between them.
//!
//! ```text
//! cargo run --example poc_calibration -- MODEL.gguf [NONCES] [SEQ_LEN]
//! ```
//!
//! The validator's reference is `PocEngine::artifacts` on the real model file. Compared
//! with it: the same file computed in two passes through the KV cache (split at half the
//! positions, and before the last position: other kernel shapes over the same numbers, as
//! on another machine); the same file on candle's kernels (a CPU without AVX2); the same
//! weights requantized to Q8_0 (numerically near, not the
//! file); a cheaper quantization (Q4_0); and random unit vectors (a faker).

use candle_core::{quantized::GgmlDType, Device};
use gonka_primitives::HostId;
use gonka_worker::{
	model::{requantize, CpuKernels, Llama},
	poc::{Artifact, PocEngine, ARTIFACT_COORDINATES},
};
use half::f16;
use rand_chacha::{
	rand_core::{RngCore, SeedableRng},
	ChaCha20Rng,
};
use std::path::PathBuf;

const THRESHOLDS: [f64; 8] = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5];
const BATCH: usize = 8;

/// What every artifact set is computed for: the epoch seed, the host, its nonces and the
/// input positions per nonce.
struct Setup {
	seed: [u8; 32],
	host: HostId,
	nonces: Vec<u64>,
	seq_len: usize,
}

impl Setup {
	/// The artifacts of every nonce on `model`, in one pass or split at `split`.
	fn compute(&self, model: &Llama, split: Option<usize>) -> anyhow::Result<Vec<Artifact>> {
		let engine = PocEngine::new(model, self.seed, self.seq_len)?;
		let mut artifacts = Vec::new();
		for chunk in self.nonces.chunks(BATCH) {
			artifacts.extend(match split {
				None => engine.artifacts(&self.host, chunk)?,
				Some(split) => engine.artifacts_split(&self.host, chunk, split)?,
			});
		}
		Ok(artifacts)
	}
}

fn main() -> anyhow::Result<()> {
	let mut args = std::env::args().skip(1);
	let path =
		PathBuf::from(args.next().expect("usage: poc_calibration MODEL.gguf [NONCES] [SEQ_LEN]"));
	let nonces: u64 = args.next().map_or(Ok(64), |n| n.parse())?;
	let seq_len: usize = args.next().map_or(Ok(64), |n| n.parse())?;
	let device = Device::Cpu;
	let setup = Setup {
		seed: [7u8; 32],
		host: HostId::new([1u8; 32]),
		nonces: (0..nonces).collect(),
		seq_len,
	};
	let (real, _) = Llama::load(&path, &device)?;
	let reference = setup.compute(&real, None)?;
	let mut rows: Vec<(String, Vec<Artifact>)> = vec![
		(format!("same file, split at {}", seq_len / 2), setup.compute(&real, Some(seq_len / 2))?),
		(format!("same file, split at {}", seq_len - 1), setup.compute(&real, Some(seq_len - 1))?),
	];
	let (candle_kernels, _) = Llama::load_with(&path, &device, CpuKernels::Candle)?;
	rows.push(("same file, candle's kernels".into(), setup.compute(&candle_kernels, None)?));
	let dir = tempfile::tempdir()?;
	for dtype in [GgmlDType::Q8_0, GgmlDType::Q4_0] {
		let target = dir.path().join(format!("{dtype:?}.gguf"));
		requantize(&path, &target, dtype)?;
		let (model, _) = Llama::load(&target, &device)?;
		rows.push((format!("requantized {dtype:?}"), setup.compute(&model, None)?));
	}
	rows.push(("random unit vectors".into(), random_artifacts(nonces)));
	println!("seq_len {seq_len}, {nonces} nonces, batch {BATCH}; L2 distance to the reference");
	print_table(&rows, &reference);
	Ok(())
}

/// `count` random unit vectors: a faker's artifacts.
fn random_artifacts(count: u64) -> Vec<Artifact> {
	let mut rng = ChaCha20Rng::from_seed([9u8; 32]);
	(0..count)
		.map(|_| {
			let normals: Vec<f64> = (0..ARTIFACT_COORDINATES)
				.map(|_| {
					// Box–Muller; the faker's distribution does not need to be exact.
					let u1 = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 + 1e-300;
					let u2 = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
					(-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
				})
				.collect();
			let length = normals.iter().map(|x| x * x).sum::<f64>().sqrt();
			let mut artifact = [f16::ZERO; ARTIFACT_COORDINATES];
			for (value, x) in artifact.iter_mut().zip(&normals) {
				*value = f16::from_f64(x / length);
			}
			Artifact(artifact)
		})
		.collect()
}

/// One row per artifact set: its distances to `reference`, and how many exceed each
/// threshold.
fn print_table(rows: &[(String, Vec<Artifact>)], reference: &[Artifact]) {
	print!("| artifacts | min | median | p99 | max |");
	for threshold in THRESHOLDS {
		print!(" > {threshold} |");
	}
	println!();
	for (name, artifacts) in rows {
		let mut distances: Vec<f64> =
			artifacts.iter().zip(reference).map(|(a, b)| a.distance(b)).collect();
		distances.sort_by(f64::total_cmp);
		let at =
			|q: f64| distances[((distances.len() as f64 * q) as usize).min(distances.len() - 1)];
		print!(
			"| {name} | {:.4} | {:.4} | {:.4} | {:.4} |",
			distances[0],
			at(0.5),
			at(0.99),
			distances[distances.len() - 1]
		);
		for threshold in THRESHOLDS {
			let over = distances.iter().filter(|d| **d > threshold).count();
			print!(" {over}/{} |", distances.len());
		}
		println!();
	}
}
