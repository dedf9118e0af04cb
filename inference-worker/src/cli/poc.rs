//! `gonka-worker poc compute` and `poc bench`: Proof-of-Compute artifacts computed
//! locally (what a validator recomputes, to compare with another machine's), and this
//! machine's nonces per second.

use super::args::ModelArgs;
use crate::poc::PocEngine;
use gonka_primitives::HostId;

/// Prints the artifacts of nonces `first..first + count` (`nonces`) of `host` for the
/// epoch seed `seed`, as hex.
pub(crate) fn compute(
	model: &ModelArgs,
	seed: [u8; 32],
	host: [u8; 32],
	(first, count): (u64, u64),
	seq_len: usize,
	batch: usize,
) -> anyhow::Result<()> {
	anyhow::ensure!(seq_len > 0 && batch > 0, "--seq-len and --batch must be positive");
	let (model, _) = model.load()?;
	let engine = PocEngine::new(&model, seed, seq_len)?;
	let host = HostId::new(host);
	let nonces: Vec<u64> = (first..first.saturating_add(count)).collect();
	let mut artifacts = Vec::with_capacity(nonces.len());
	for chunk in nonces.chunks(batch) {
		artifacts.extend(engine.artifacts(&host, chunk)?.iter().map(|a| hex::encode(a.to_bytes())));
	}
	println!("{}", serde_json::json!({ "first": first, "artifacts": artifacts }));
	Ok(())
}

/// Computes `nonces` nonces in batches of `batch` and prints the rate.
pub(crate) fn bench(
	model: &ModelArgs,
	seq_len: usize,
	batch: usize,
	nonces: u64,
) -> anyhow::Result<()> {
	anyhow::ensure!(
		seq_len > 0 && batch > 0 && nonces > 0,
		"--seq-len, --batch and --nonces must be positive"
	);
	let (model, _) = model.load()?;
	let engine = PocEngine::new(&model, [7u8; 32], seq_len)?;
	let host = HostId::new([1u8; 32]);
	let started = std::time::Instant::now();
	let mut done = 0u64;
	while done < nonces {
		let batch: Vec<u64> = (done..nonces.min(done + batch as u64)).collect();
		engine.artifacts(&host, &batch)?;
		done += batch.len() as u64;
	}
	let seconds = started.elapsed().as_secs_f64();
	println!(
		"{}",
		serde_json::json!({
			"seq_len": seq_len,
			"batch": batch,
			"nonces": nonces,
			"seconds": seconds,
			"nonces_per_s": nonces as f64 / seconds,
		})
	);
	Ok(())
}
