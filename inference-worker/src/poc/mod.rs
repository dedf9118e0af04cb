//! Proof of Compute artifacts (`protocol.md`, "Proof of Compute"). For nonce `n` of host
//! `h` in an epoch with seed `s`:
//!
//! 1. the input is a `seq_len × hidden` matrix of standard normals drawn from
//!    [`nonce_input_key`]`(s, h, n)`, fed in place of token embeddings;
//! 2. after every transformer layer `i` the hidden state is reflected,
//!    `x ← x − 2(v_i·x)v_i`, with the unit vector `v_i` drawn from
//!    [`layer_reflection_key`]`(s, i)`;
//! 3. the last position's final (normalised) hidden state is scaled to unit length, `k = 12`
//!    coordinates are picked by [`pick_coordinates`] from
//!    [`coordinate_pick_key`]`(s, h, n)`, rotated by `k − 1` Householder reflections whose
//!    unit vectors are drawn from the same pick key, and scaled to unit length again;
//! 4. the artifact is those 12 values as f16 (24 bytes, little-endian).
//!
//! Nonces are computed in batches: one forward pass over `(batch, seq_len, hidden)`. A
//! nonce's artifact is the same bits in any batch (every operation works row by row), so
//! a validator that recomputes only its sample finds an honest host's leaves exactly.

pub mod rng;

use crate::{
	model::{KvCache, Llama},
	Result,
};
use candle_core::{DType, Tensor, D};
use gonka_primitives::{
	seed::{coordinate_pick_key, layer_reflection_key, nonce_input_key, pick_coordinates, Seed},
	HostId,
};
use half::f16;

/// Coordinates in an artifact.
pub const ARTIFACT_COORDINATES: usize = 12;

/// One nonce's artifact: 12 coordinates of a unit vector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Artifact(pub [f16; ARTIFACT_COORDINATES]);

impl Artifact {
	/// The 24 bytes that are committed (Merkle leaf) and served.
	pub fn to_bytes(&self) -> [u8; 2 * ARTIFACT_COORDINATES] {
		let mut bytes = [0u8; 2 * ARTIFACT_COORDINATES];
		for (chunk, value) in bytes.chunks_exact_mut(2).zip(self.0) {
			chunk.copy_from_slice(&value.to_le_bytes());
		}
		bytes
	}

	/// The artifact of 24 served bytes.
	pub fn from_bytes(bytes: &[u8; 2 * ARTIFACT_COORDINATES]) -> Self {
		let mut values = [f16::ZERO; ARTIFACT_COORDINATES];
		for (value, chunk) in values.iter_mut().zip(bytes.chunks_exact(2)) {
			*value = f16::from_le_bytes([chunk[0], chunk[1]]);
		}
		Self(values)
	}

	/// Euclidean distance to another artifact (in f64).
	pub fn distance(&self, other: &Artifact) -> f64 {
		self.0
			.iter()
			.zip(other.0)
			.map(|(a, b)| (f64::from(a.to_f32()) - f64::from(b.to_f32())).powi(2))
			.sum::<f64>()
			.sqrt()
	}
}

/// Computes the artifacts of one epoch's seed on one model.
pub struct PocEngine<'a> {
	model: &'a Llama,
	seed: Seed,
	seq_len: usize,
	/// `v_i` per layer, `(1, hidden)`, on the model's device.
	reflections: Vec<Tensor>,
}

impl<'a> PocEngine<'a> {
	/// The engine of epoch seed `seed` with `seq_len` input positions.
	pub fn new(model: &'a Llama, seed: Seed, seq_len: usize) -> Result<Self> {
		let hidden = model.config().hidden;
		let reflections = (0..model.config().layers)
			.map(|layer| {
				let v = rng::unit_vector(&layer_reflection_key(&seed, layer as u32), hidden);
				Ok(Tensor::from_vec(v, (1, hidden), model.device())?)
			})
			.collect::<Result<Vec<_>>>()?;
		Ok(Self { model, seed, seq_len, reflections })
	}

	/// The input matrix of one nonce, `seq_len × hidden` values, row-major.
	pub fn input(&self, host: &HostId, nonce: u64) -> Vec<f32> {
		rng::normals(
			&nonce_input_key(&self.seed, host, nonce),
			self.seq_len * self.model.config().hidden,
		)
	}

	/// The artifacts of `nonces` of `host`, in one batched forward pass.
	pub fn artifacts(&self, host: &HostId, nonces: &[u64]) -> Result<Vec<Artifact>> {
		let states = self.final_states(host, nonces, None)?;
		nonces.iter().zip(states).map(|(nonce, state)| self.finish(host, *nonce, &state)).collect()
	}

	/// The same artifacts computed another way: the first `split` positions in one pass,
	/// the rest in a second pass through the KV cache. The numbers are the same; the
	/// kernels' shapes (and so their rounding) differ, as on another machine. The
	/// calibration (`docs/verification.md`) measures honest distances with it.
	pub fn artifacts_split(
		&self,
		host: &HostId,
		nonces: &[u64],
		split: usize,
	) -> Result<Vec<Artifact>> {
		if self.seq_len < 2 {
			return self.artifacts(host, nonces);
		}
		let split = split.clamp(1, self.seq_len - 1);
		let states = self.final_states(host, nonces, Some(split))?;
		nonces.iter().zip(states).map(|(nonce, state)| self.finish(host, *nonce, &state)).collect()
	}

	/// The last position's final hidden state of every nonce.
	fn final_states(
		&self,
		host: &HostId,
		nonces: &[u64],
		split: Option<usize>,
	) -> Result<Vec<Vec<f32>>> {
		let hidden = self.model.config().hidden;
		let mut inputs = Vec::with_capacity(nonces.len() * self.seq_len * hidden);
		for nonce in nonces {
			inputs.extend(self.input(host, *nonce));
		}
		let input =
			Tensor::from_vec(inputs, (nonces.len(), self.seq_len, hidden), self.model.device())?;
		let mut reflect = |layer: usize, x: Tensor| -> Result<Tensor> {
			// `(1, hidden)`: `v_i` as a row.
			let v = &self.reflections[layer];
			// (batch, positions, 1): v·x at every position, summed row by row. Not a matrix
			// product: the matrix kernel blocks its sums by the number of rows, so a nonce's
			// artifact moved with the batch it was computed in (measured: 0.38 away for one
			// nonce in 48, batches of 4 against 8), and a validator recomputing only its sample
			// judged an honest host's leaf a mismatch.
			let dot = x.broadcast_mul(v)?.sum_keepdim(D::Minus1)?;
			Ok(x.broadcast_sub(&dot.broadcast_mul(&(v * 2.0)?)?)?)
		};
		let output = match split {
			None => self.model.forward(input, None, &mut reflect)?,
			Some(split) => {
				let mut cache = KvCache::new();
				self.model.forward(input.narrow(1, 0, split)?, Some(&mut cache), &mut reflect)?;
				self.model.forward(
					input.narrow(1, split, self.seq_len - split)?.contiguous()?,
					Some(&mut cache),
					&mut reflect,
				)?
			}
		};
		let positions = output.dim(1)?;
		Ok(output
			.narrow(1, positions - 1, 1)?
			.squeeze(1)?
			.to_dtype(DType::F32)?
			.to_vec2::<f32>()?)
	}

	/// Step 3: unit length, pick, rotate, unit length, f16.
	fn finish(&self, host: &HostId, nonce: u64, state: &[f32]) -> Result<Artifact> {
		let pick_key = coordinate_pick_key(&self.seed, host, nonce);
		let coordinates =
			pick_coordinates(&pick_key, state.len() as u32, ARTIFACT_COORDINATES as u32)
				.map_err(|error| candle_core::Error::Msg(format!("{error:?}")))?;
		let norm = state.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>().sqrt();
		let mut picked: Vec<f64> =
			coordinates.iter().map(|c| f64::from(state[*c as usize]) / norm).collect();
		// k − 1 reflections, their unit vectors drawn in one stream from the pick key.
		let directions = rng::normals(&pick_key, (ARTIFACT_COORDINATES - 1) * ARTIFACT_COORDINATES);
		for direction in directions.chunks_exact(ARTIFACT_COORDINATES) {
			let length = direction.iter().map(|d| f64::from(*d).powi(2)).sum::<f64>().sqrt();
			let dot: f64 =
				direction.iter().zip(&picked).map(|(d, x)| f64::from(*d) / length * x).sum();
			for (x, d) in picked.iter_mut().zip(direction) {
				*x -= 2.0 * dot * f64::from(*d) / length;
			}
		}
		let length = picked.iter().map(|x| x * x).sum::<f64>().sqrt();
		let mut artifact = [f16::ZERO; ARTIFACT_COORDINATES];
		for (value, x) in artifact.iter_mut().zip(&picked) {
			*value = f16::from_f64(x / length);
		}
		Ok(Artifact(artifact))
	}
}
