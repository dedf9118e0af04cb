//! The PoC cheats' artifacts (`test-cheats` feature only, which release builds never
//! enable), for the tests that must catch them: random artifacts without running the
//! model, or half the nonces computed and the rest padded with copies.

use super::{PocCheat, PocEpoch, PocModel, Prover};
use crate::{duty::artifacts::ARTIFACT_BYTES, Result};
use gonka_primitives::{HostId, ModelId};

/// The artifacts of `nonces` as `cheat` computes them.
pub(super) fn artifacts<P: Prover>(
	cheat: PocCheat,
	prover: &P,
	model: ModelId,
	epoch: &PocEpoch,
	host: &HostId,
	info: &PocModel,
	nonces: &[u64],
) -> Result<Vec<[u8; ARTIFACT_BYTES]>> {
	match cheat {
		PocCheat::Honest => prover.artifacts(model, &epoch.seed, host, info.params.seq_len, nonces),
		PocCheat::RandomArtifacts => Ok(nonces
			.iter()
			.map(|nonce| {
				let hash = gonka_primitives::hash_concat(&[
					b"cheat",
					epoch.seed.as_bytes(),
					&nonce.to_le_bytes(),
				]);
				let mut artifact = [0u8; ARTIFACT_BYTES];
				for (value, chunk) in artifact.chunks_exact_mut(2).zip(hash.chunks_exact(2)) {
					let x = (f32::from(chunk[0]) - 128.0) / 128.0;
					value.copy_from_slice(&half::f16::from_f32(x).to_le_bytes());
				}
				artifact
			})
			.collect()),
		PocCheat::InflatedCount => {
			let half = &nonces[..nonces.len().div_ceil(2)];
			let honest = prover.artifacts(model, &epoch.seed, host, info.params.seq_len, half)?;
			let padding = nonces.len() - honest.len();
			let copy = honest.first().copied().unwrap_or([0; ARTIFACT_BYTES]);
			Ok(honest.into_iter().chain(std::iter::repeat_n(copy, padding)).collect())
		}
	}
}
