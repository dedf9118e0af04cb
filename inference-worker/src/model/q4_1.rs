//! Q4_1 matrix products on x86-64 CPUs with AVX2.
//!
//! candle 0.11 multiplies Q4_1 weights on x86 with a scalar loop (it has AVX2 kernels for
//! Q4_0, Q8_0 and the k-quants only), which made SmolLM2's decode several times slower
//! than the memory bound. This kernel computes **exactly the same numbers** as candle's
//! CPU path — the activations quantized to Q8_1 blocks the same way, the integer dot
//! product of each block exact, and the per-block f32 terms added in the same order with
//! the same operations — only the integer part runs in 256-bit registers. The outputs
//! are bit-identical to `QMatMul` (tested), so PoC artifacts and replay scores do not
//! depend on which of the two ran.

use candle_core::{
	quantized::{GgmlDType, QTensor},
	CpuStorage, CustomOp1, Layout, Shape,
};
use half::f16;
use rayon::prelude::*;

/// Weights per block.
const BLOCK: usize = 32;
/// Bytes of one Q4_1 block in a GGUF file: `d` and `m` (f16), then 16 bytes of nibbles.
const BLOCK_BYTES: usize = 20;
/// Output columns computed together (one activation block load serves four weight rows).
const COLUMNS: usize = 4;

/// One Q4_1 block: weight `j` is `d · q_j + m`; byte `j` holds `q_j` in its low nibble and
/// `q_{j+16}` in its high nibble. `d` and `m` are widened from f16 once, at load.
#[derive(Clone, Copy)]
struct WeightBlock {
	d: f32,
	m: f32,
	qs: [u8; 16],
}

/// One row of activations quantized as candle's `BlockQ8_1::from_float` does.
#[derive(Clone, Copy)]
struct ActivationBlock {
	d: f32,
	s: f32,
	qs: [i8; BLOCK],
}

/// A Q4_1 weight matrix `(n, k)`: `n` output features, `k` inputs.
pub struct Q41Matrix {
	n: usize,
	k: usize,
	blocks: Vec<WeightBlock>,
}

impl Q41Matrix {
	/// The matrix of `tensor` when this kernel can run it: a 2-D Q4_1 tensor on the CPU of
	/// a machine with AVX2. `None` otherwise (candle's own path is used then).
	pub fn from_qtensor(tensor: &QTensor) -> candle_core::Result<Option<Self>> {
		if !available() || tensor.dtype() != GgmlDType::Q4_1 || !tensor.device().is_cpu() {
			return Ok(None);
		}
		let Ok((n, k)) = tensor.shape().dims2() else { return Ok(None) };
		if k % BLOCK != 0 {
			return Ok(None);
		}
		let data = tensor.data()?;
		if data.len() != n * k / BLOCK * BLOCK_BYTES {
			candle_core::bail!("a Q4_1 tensor of {n}×{k} holds {} bytes", data.len());
		}
		let blocks = data
			.chunks_exact(BLOCK_BYTES)
			.map(|bytes| {
				let mut qs = [0u8; 16];
				qs.copy_from_slice(&bytes[4..]);
				WeightBlock {
					d: f16::from_le_bytes([bytes[0], bytes[1]]).to_f32(),
					m: f16::from_le_bytes([bytes[2], bytes[3]]).to_f32(),
					qs,
				}
			})
			.collect();
		Ok(Some(Self { n, k, blocks }))
	}

	fn row(&self, i: usize) -> &[WeightBlock] {
		let per_row = self.k / BLOCK;
		&self.blocks[i * per_row..(i + 1) * per_row]
	}
}

/// Whether this CPU runs the kernel.
pub fn available() -> bool {
	#[cfg(target_arch = "x86_64")]
	{
		std::is_x86_feature_detected!("avx2")
	}
	#[cfg(not(target_arch = "x86_64"))]
	{
		false
	}
}

/// `quantize_row_q8_1` as candle writes it (same rounding, same f16 steps), over every
/// row of `xs` (rows are whole blocks long).
fn quantize_activations(xs: &[f32], out: &mut Vec<ActivationBlock>) {
	for chunk in xs.chunks_exact(BLOCK) {
		let amax = chunk.iter().fold(0f32, |amax, x| amax.max(x.abs()));
		let d = amax / 127.0;
		let inverse = if d != 0.0 { 1.0 / d } else { 0.0 };
		let d16 = f16::from_f32(d);
		let mut qs = [0i8; BLOCK];
		let mut sum = 0i32;
		for (q, x) in qs.iter_mut().zip(chunk) {
			*q = f32::round(x * inverse) as i8;
			sum += i32::from(*q);
		}
		out.push(ActivationBlock {
			d: d16.to_f32(),
			s: (f16::from_f32(sum as f32) * d16).to_f32(),
			qs,
		});
	}
}

/// The integer dot product of one weight block and one activation block.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn block_dot(weights: &[u8; 16], activations: &[i8; BLOCK]) -> i32 {
	use std::arch::x86_64::*;
	// SAFETY: unaligned loads of exactly 16 and 32 bytes from arrays of those sizes.
	let packed = unsafe { _mm_loadu_si128(weights.as_ptr().cast()) };
	let mask = _mm_set1_epi8(0x0F);
	let low = _mm_and_si128(packed, mask);
	let high = _mm_and_si128(_mm_srli_epi16(packed, 4), mask);
	// Lanes 0–15: weights 0–15 (low nibbles); lanes 16–31: weights 16–31 (high nibbles).
	let weights = _mm256_set_m128i(high, low);
	let activations = unsafe { _mm256_loadu_si256(activations.as_ptr().cast()) };
	// u8 × i8 pairs summed to i16 (at most 2 · 15 · 128, no saturation), then to i32.
	let pairs = _mm256_maddubs_epi16(weights, activations);
	let quads = _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
	let sum = _mm_add_epi32(_mm256_castsi256_si128(quads), _mm256_extracti128_si256(quads, 1));
	let sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, 0b01_00_11_10));
	let sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, 0b10_11_00_01));
	_mm_cvtsi128_si32(sum)
}

/// `C` dot products of weight rows against one quantized activation row, each
/// accumulated exactly as candle's `vec_dot` for Q4_1 does (block by block, in order).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn dot_columns<const C: usize>(
	rows: [&[WeightBlock]; C],
	activations: &[ActivationBlock],
) -> [f32; C] {
	let mut sums = [0f32; C];
	for (b, y) in activations.iter().enumerate() {
		for (sum, row) in sums.iter_mut().zip(rows) {
			let x = &row[b];
			// SAFETY: AVX2 is enabled on this function, and so available.
			let integer = unsafe { block_dot(&x.qs, &y.qs) };
			*sum += integer as f32 * x.d * y.d + x.m * y.s;
		}
	}
	sums
}

/// One output row: `out[j] = row(j) · activations` for the columns `first..first + out.len()`.
fn output_row(matrix: &Q41Matrix, activations: &[ActivationBlock], first: usize, out: &mut [f32]) {
	#[cfg(target_arch = "x86_64")]
	{
		let mut chunks = out.chunks_exact_mut(COLUMNS);
		let mut column = first;
		for chunk in &mut chunks {
			let rows: [_; COLUMNS] = std::array::from_fn(|c| matrix.row(column + c));
			// SAFETY: a `Q41Matrix` exists only where `available()` found AVX2.
			chunk.copy_from_slice(&unsafe { dot_columns(rows, activations) });
			column += COLUMNS;
		}
		for value in chunks.into_remainder() {
			// SAFETY: as above.
			*value = unsafe { dot_columns([matrix.row(column)], activations) }[0];
			column += 1;
		}
	}
	#[cfg(not(target_arch = "x86_64"))]
	{
		let _ = (matrix, activations, first, out);
		unreachable!("Q41Matrix is only built where AVX2 is available");
	}
}

impl CustomOp1 for Q41Matrix {
	fn name(&self) -> &'static str {
		"gonka-q4_1-matmul"
	}

	fn cpu_fwd(
		&self,
		storage: &CpuStorage,
		layout: &Layout,
	) -> candle_core::Result<(CpuStorage, Shape)> {
		let CpuStorage::F32(data) = storage else {
			candle_core::bail!("the Q4_1 kernel takes f32 activations")
		};
		let Some((start, end)) = layout.contiguous_offsets() else {
			candle_core::bail!("the Q4_1 kernel takes contiguous activations")
		};
		let xs = &data[start..end];
		let mut dims = layout.shape().dims().to_vec();
		if dims.last() != Some(&self.k) {
			candle_core::bail!("activations {:?} against a {}×{} matrix", dims, self.n, self.k)
		}
		let m = xs.len() / self.k;
		let mut activations = Vec::with_capacity(xs.len() / BLOCK);
		quantize_activations(xs, &mut activations);
		let per_row = self.k / BLOCK;
		let mut out = vec![0f32; m * self.n];
		if m == 1 {
			// Decode: split the output columns over the threads.
			let columns = (self.n / rayon::current_num_threads().max(1))
				.next_multiple_of(COLUMNS)
				.max(COLUMNS);
			out.par_chunks_mut(columns)
				.enumerate()
				.for_each(|(i, chunk)| output_row(self, &activations, i * columns, chunk));
		} else {
			out.par_chunks_mut(self.n)
				.zip(activations.par_chunks(per_row))
				.for_each(|(row, activations)| output_row(self, activations, 0, row));
		}
		dims.pop();
		dims.push(self.n);
		Ok((CpuStorage::F32(out), Shape::from(dims)))
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use candle_core::{quantized::QMatMul, Device, Module, Tensor};
	use rand_chacha::{
		rand_core::{RngCore, SeedableRng},
		ChaCha20Rng,
	};

	fn values(rng: &mut ChaCha20Rng, count: usize, scale: f32) -> Vec<f32> {
		(0..count)
			.map(|_| ((rng.next_u32() >> 8) as f32 / (1 << 24) as f32 - 0.5) * scale)
			.collect()
	}

	#[test]
	fn the_q4_1_kernel_is_bit_identical_to_candle() {
		if !available() {
			eprintln!("no AVX2 on this CPU: the kernel is not used, nothing to compare");
			return;
		}
		let device = Device::Cpu;
		let mut rng = ChaCha20Rng::from_seed([3; 32]);
		// Odd output counts exercise the columns left after the groups of four.
		for (n, k) in [(576, 576), (576, 1536), (7, 64), (130, 128)] {
			let weights = Tensor::from_vec(values(&mut rng, n * k, 0.2), (n, k), &device).unwrap();
			let quantized = QTensor::quantize(&weights, GgmlDType::Q4_1).unwrap();
			let ours = Q41Matrix::from_qtensor(&quantized).unwrap().expect("a Q4_1 CPU matrix");
			let candle = QMatMul::from_qtensor(quantized).unwrap();
			for shape in [vec![1, k], vec![5, k], vec![2, 3, k]] {
				let count = shape.iter().product();
				// Activations with outliers, like a transformer's, and an all-zero block.
				let mut xs = values(&mut rng, count, 8.0);
				xs[count / 3] = 240.0;
				xs[..32.min(count)].fill(0.0);
				let xs = Tensor::from_vec(xs, shape.as_slice(), &device).unwrap();
				let expected = candle.forward(&xs).unwrap();
				let actual = xs.apply_op1_no_bwd(&ours).unwrap();
				assert_eq!(actual.dims(), expected.dims());
				let expected = expected.flatten_all().unwrap().to_vec1::<f32>().unwrap();
				let actual = actual.flatten_all().unwrap().to_vec1::<f32>().unwrap();
				let differing = expected
					.iter()
					.zip(&actual)
					.filter(|(e, a)| e.to_bits() != a.to_bits())
					.count();
				assert_eq!(differing, 0, "{n}×{k}, activations {shape:?}");
			}
		}
	}

	#[test]
	fn other_quantizations_stay_with_candle() {
		let device = Device::Cpu;
		let weights = Tensor::zeros((64, 64), candle_core::DType::F32, &device).unwrap();
		let q4_0 = QTensor::quantize(&weights, GgmlDType::Q4_0).unwrap();
		assert!(Q41Matrix::from_qtensor(&q4_0).unwrap().is_none());
	}
}
