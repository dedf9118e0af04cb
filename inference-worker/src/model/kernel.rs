//! Quantized matrix products on x86-64 CPUs with AVX2, FMA and F16C: Q4_1 (SmolLM2's
//! layers) and Q8_0 (its tied embeddings, the output projection).
//!
//! Decode multiplies every weight of the model by one activation row per token, so it is
//! bound by how fast the weights stream from memory (docs/benchmarks.md). candle 0.11 runs
//! Q4_1 with a scalar loop on x86, and neither of its paths asks for the weights before
//! they are needed. These kernels compute as llama.cpp's AVX2 `vec_dot`s do: the
//! activations quantized to 8-bit blocks (`d`, and for Q4_1 the block sum `s`, exactly as
//! candle's `BlockQ8_1::from_float` rounds them), the 32 integer products of a block summed
//! in eight i32 lanes, scaled by `d_w · d_a` into eight f32 lanes, one horizontal sum per
//! output; the weights of the rows a few steps ahead are prefetched, and the blocks stay
//! in the file's layout (20 or 34 bytes). The sums run in a different order than candle's
//! scalar loops, so outputs differ from candle's per-block dot products in the last bits
//! (tested against `vec_dot_unopt`; candle's `QMatMul` itself quantizes the activations per
//! 256 values for some Q8_0 shapes on AVX512-VNNI CPUs, a coarser rounding);
//! the verification tolerances (docs/verification.md) are measured with these kernels.

use candle_core::{
	quantized::{GgmlDType, QTensor},
	CpuStorage, CustomOp1, Layout, Shape,
};
use half::f16;
use rayon::prelude::*;

/// Weights per block, in both formats.
const BLOCK: usize = 32;
/// Output rows computed together (one activation block load serves four weight rows).
const COLUMNS: usize = 4;
/// Rows ahead of the ones being computed whose weights are requested from memory.
const PREFETCH_AHEAD: usize = 8;
/// Pieces per thread a decode product's rows are split into.
const DECODE_PIECES: usize = 4;

/// One Q4_1 block as the file stores it: weight `j` is `d · q_j + m` (`d`, `m` the f16
/// bits); byte `j` holds `q_j` in its low nibble and `q_{j+16}` in its high nibble.
#[derive(Clone, Copy)]
#[repr(C)]
struct Q41Block {
	d: u16,
	m: u16,
	qs: [u8; 16],
}

/// One Q8_0 block as the file stores it: weight `j` is `d · q_j`.
#[derive(Clone, Copy)]
#[repr(C)]
struct Q80Block {
	d: u16,
	qs: [i8; BLOCK],
}

/// One block of a row of activations: `x_j ≈ d · q_j`, `s = d · Σ q_j` (both rounded
/// through f16 as candle's Q8_1 blocks are).
#[derive(Clone, Copy)]
struct ActivationBlock {
	d: f32,
	s: f32,
	qs: [i8; BLOCK],
}

/// A weight format the kernels run.
trait Format: Copy + Send + Sync + 'static {
	const DTYPE: GgmlDType;
	/// Bytes of one block in a GGUF file.
	const BYTES: usize;
	fn parse(bytes: &[u8]) -> Self;
	/// Adds this block's product with `y` (whose quants are loaded in `ys`): the scaled
	/// integer sums to `lanes`, any per-block constant term to `offset`.
	///
	/// # Safety
	/// The CPU has AVX2, FMA and F16C.
	#[cfg(target_arch = "x86_64")]
	unsafe fn accumulate(
		&self,
		y: &ActivationBlock,
		ys: std::arch::x86_64::__m256i,
		lanes: &mut std::arch::x86_64::__m256,
		offset: &mut f32,
	);
}

impl Format for Q41Block {
	const DTYPE: GgmlDType = GgmlDType::Q4_1;
	const BYTES: usize = 20;

	fn parse(bytes: &[u8]) -> Self {
		let mut qs = [0u8; 16];
		qs.copy_from_slice(&bytes[4..20]);
		Self {
			d: u16::from_le_bytes([bytes[0], bytes[1]]),
			m: u16::from_le_bytes([bytes[2], bytes[3]]),
			qs,
		}
	}

	#[cfg(target_arch = "x86_64")]
	#[target_feature(enable = "avx2,fma,f16c")]
	unsafe fn accumulate(
		&self,
		y: &ActivationBlock,
		ys: std::arch::x86_64::__m256i,
		lanes: &mut std::arch::x86_64::__m256,
		offset: &mut f32,
	) {
		use std::arch::x86_64::*;
		// SAFETY: an unaligned load of exactly the 16 bytes of the array.
		let packed = unsafe { _mm_loadu_si128(self.qs.as_ptr().cast()) };
		let mask = _mm_set1_epi8(0x0F);
		let low = _mm_and_si128(packed, mask);
		let high = _mm_and_si128(_mm_srli_epi16(packed, 4), mask);
		// Lanes 0–15: weights 0–15 (low nibbles); lanes 16–31: weights 16–31.
		let weights = _mm256_set_m128i(high, low);
		// u8 × i8 pairs summed to i16 (at most 2 · 15 · 128, no saturation), then to i32.
		let sums = _mm256_madd_epi16(_mm256_maddubs_epi16(weights, ys), _mm256_set1_epi16(1));
		// `d` and `m` widened together: lane 0 `d`, lane 1 `m`.
		let dm = _mm_cvtph_ps(_mm_cvtsi32_si128(i32::from(self.d) | (i32::from(self.m) << 16)));
		let d = _mm_cvtss_f32(dm);
		let m = _mm_cvtss_f32(_mm_movehdup_ps(dm));
		*lanes = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), _mm256_set1_ps(d * y.d), *lanes);
		*offset += m * y.s;
	}
}

impl Format for Q80Block {
	const DTYPE: GgmlDType = GgmlDType::Q8_0;
	const BYTES: usize = 34;

	fn parse(bytes: &[u8]) -> Self {
		let mut qs = [0i8; BLOCK];
		for (q, &byte) in qs.iter_mut().zip(&bytes[2..34]) {
			*q = byte as i8;
		}
		Self { d: u16::from_le_bytes([bytes[0], bytes[1]]), qs }
	}

	#[cfg(target_arch = "x86_64")]
	#[target_feature(enable = "avx2,fma,f16c")]
	unsafe fn accumulate(
		&self,
		y: &ActivationBlock,
		ys: std::arch::x86_64::__m256i,
		lanes: &mut std::arch::x86_64::__m256,
		_offset: &mut f32,
	) {
		use std::arch::x86_64::*;
		// SAFETY: an unaligned load of exactly the 32 bytes of the array.
		let xs = unsafe { _mm256_loadu_si256(self.qs.as_ptr().cast()) };
		// i8 × i8 as |x| × (y · sign x), the form `maddubs` takes (u8 × i8); quants are
		// in -127..=127 (weights as the file has them, activations as quantized here), so
		// a pair sums to at most 2 · 127 · 127 and i16 does not saturate.
		let pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(xs, xs), _mm256_sign_epi8(ys, xs));
		let sums = _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
		let d = _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(i32::from(self.d))));
		*lanes = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), _mm256_set1_ps(d * y.d), *lanes);
	}
}

/// The blocks of a matrix, row after row.
enum Blocks {
	Q41(Vec<Q41Block>),
	Q80(Vec<Q80Block>),
}

/// A quantized weight matrix `(n, k)` (`n` output features, `k` inputs) in a format these
/// kernels run, applied to f32 activations `(.., k)` as a candle custom op.
pub struct KernelMatrix {
	n: usize,
	k: usize,
	blocks: Blocks,
}

fn parse<F: Format>(data: &[u8]) -> Vec<F> {
	data.chunks_exact(F::BYTES).map(F::parse).collect()
}

impl KernelMatrix {
	/// The matrix of `tensor` when these kernels can run it: a 2-D Q4_1 or Q8_0 tensor on
	/// the CPU of a machine with AVX2, FMA and F16C. `None` otherwise (candle's own path is
	/// used then).
	pub fn from_qtensor(tensor: &QTensor) -> candle_core::Result<Option<Self>> {
		if !available() || !tensor.device().is_cpu() {
			return Ok(None);
		}
		let (bytes, blocks): (usize, fn(&[u8]) -> Blocks) = match tensor.dtype() {
			GgmlDType::Q4_1 => (Q41Block::BYTES, |data| Blocks::Q41(parse(data))),
			GgmlDType::Q8_0 => (Q80Block::BYTES, |data| Blocks::Q80(parse(data))),
			_ => return Ok(None),
		};
		let Ok((n, k)) = tensor.shape().dims2() else { return Ok(None) };
		if k % BLOCK != 0 {
			return Ok(None);
		}
		let data = tensor.data()?;
		if data.len() != n * k / BLOCK * bytes {
			candle_core::bail!(
				"a {:?} tensor of {n}×{k} holds {} bytes",
				tensor.dtype(),
				data.len()
			);
		}
		Ok(Some(Self { n, k, blocks: blocks(&data) }))
	}

	/// One matrix of the rows of `parts`, in order, when they take the same input width and
	/// have the same format (None otherwise, or when there is nothing to stack). Each
	/// output is the number the part alone gives: outputs are computed row by row.
	pub fn stack(parts: Vec<Self>) -> Option<Self> {
		let k = parts.first()?.k;
		if parts.iter().any(|part| part.k != k) {
			return None;
		}
		let n = parts.iter().map(|part| part.n).sum();
		let mut q41 = Vec::new();
		let mut q80 = Vec::new();
		for part in parts {
			match part.blocks {
				Blocks::Q41(blocks) if q80.is_empty() => q41.extend(blocks),
				Blocks::Q80(blocks) if q41.is_empty() => q80.extend(blocks),
				_ => return None,
			}
		}
		let blocks = if q80.is_empty() { Blocks::Q41(q41) } else { Blocks::Q80(q80) };
		Some(Self { n, k, blocks })
	}

	/// The weight format.
	pub fn dtype(&self) -> GgmlDType {
		match self.blocks {
			Blocks::Q41(_) => Q41Block::DTYPE,
			Blocks::Q80(_) => Q80Block::DTYPE,
		}
	}

	/// `out[j] = row(first + j) · activations`.
	fn output_rows(&self, activations: &[ActivationBlock], first: usize, out: &mut [f32]) {
		match &self.blocks {
			Blocks::Q41(blocks) => output_rows(blocks, self.k / BLOCK, activations, first, out),
			Blocks::Q80(blocks) => output_rows(blocks, self.k / BLOCK, activations, first, out),
		}
	}
}

/// Whether this CPU runs the kernels.
pub fn available() -> bool {
	#[cfg(target_arch = "x86_64")]
	{
		std::is_x86_feature_detected!("avx2")
			&& std::is_x86_feature_detected!("fma")
			&& std::is_x86_feature_detected!("f16c")
	}
	#[cfg(not(target_arch = "x86_64"))]
	{
		false
	}
}

/// Every row of `xs` (rows are whole blocks long) quantized to 8 bits per value, as
/// candle's `quantize_row_q8_1` rounds them (the same `d` and quants as its Q8_0).
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

/// `C` dot products of weight rows against one quantized activation row.
///
/// # Safety
/// The CPU has AVX2, FMA and F16C.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn dot_rows<F: Format, const C: usize>(
	rows: [&[F]; C],
	activations: &[ActivationBlock],
) -> [f32; C] {
	use std::arch::x86_64::*;
	for row in rows {
		assert_eq!(row.len(), activations.len(), "a row is as long as the activations");
	}
	let mut lanes = [_mm256_setzero_ps(); C];
	let mut offsets = [0f32; C];
	for (b, y) in activations.iter().enumerate() {
		// SAFETY: an unaligned load of exactly the 32 bytes of the array.
		let ys = unsafe { _mm256_loadu_si256(y.qs.as_ptr().cast()) };
		for c in 0..C {
			// SAFETY: the caller's CPU has the features `accumulate` needs.
			unsafe { rows[c][b].accumulate(y, ys, &mut lanes[c], &mut offsets[c]) };
		}
	}
	std::array::from_fn(|c| {
		let v = lanes[c];
		let quad = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
		let pair = _mm_add_ps(quad, _mm_movehl_ps(quad, quad));
		let one = _mm_add_ss(pair, _mm_movehdup_ps(pair));
		_mm_cvtss_f32(one) + offsets[c]
	})
}

/// Asks for `blocks` to be brought into the cache.
#[cfg(target_arch = "x86_64")]
fn prefetch<F>(blocks: &[F]) {
	use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
	let bytes = blocks.as_ptr_range();
	let (mut line, end) = (bytes.start.cast::<u8>(), bytes.end.cast::<u8>());
	while line < end {
		// SAFETY: a prefetch is a hint that reads nothing; `line` stays within `blocks`.
		unsafe { _mm_prefetch::<_MM_HINT_T0>(line.cast()) };
		line = line.wrapping_add(64);
	}
}

/// `out[j] = row(first + j) · activations` for a matrix of `blocks` with `per_row` blocks
/// in a row.
fn output_rows<F: Format>(
	blocks: &[F],
	per_row: usize,
	activations: &[ActivationBlock],
	first: usize,
	out: &mut [f32],
) {
	#[cfg(target_arch = "x86_64")]
	{
		let row = |i: usize| &blocks[i * per_row..(i + 1) * per_row];
		let end = first + out.len();
		// The first rows: the loop below asks for the rows `PREFETCH_AHEAD` after its own.
		prefetch(&blocks[first * per_row..(first + PREFETCH_AHEAD).min(end) * per_row]);
		let mut chunks = out.chunks_exact_mut(COLUMNS);
		let mut column = first;
		for chunk in &mut chunks {
			let ahead = (column + PREFETCH_AHEAD).min(end);
			prefetch(&blocks[ahead * per_row..(ahead + COLUMNS).min(end) * per_row]);
			let rows: [_; COLUMNS] = std::array::from_fn(|c| row(column + c));
			// SAFETY: a `KernelMatrix` exists only where `available()` found the features.
			chunk.copy_from_slice(&unsafe { dot_rows(rows, activations) });
			column += COLUMNS;
		}
		for value in chunks.into_remainder() {
			// SAFETY: as above.
			*value = unsafe { dot_rows([row(column)], activations) }[0];
			column += 1;
		}
	}
	#[cfg(not(target_arch = "x86_64"))]
	{
		let _ = (blocks, per_row, activations, first, out);
		unreachable!("a KernelMatrix is only built where AVX2 is available");
	}
}

impl CustomOp1 for KernelMatrix {
	fn name(&self) -> &'static str {
		"gonka-quantized-matmul"
	}

	fn cpu_fwd(
		&self,
		storage: &CpuStorage,
		layout: &Layout,
	) -> candle_core::Result<(CpuStorage, Shape)> {
		let CpuStorage::F32(data) = storage else {
			candle_core::bail!("the quantized kernels take f32 activations")
		};
		let Some((start, end)) = layout.contiguous_offsets() else {
			candle_core::bail!("the quantized kernels take contiguous activations")
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
			// Decode: split the output rows over the threads, four pieces each, so that a
			// thread that started late (it ran the ops before) takes fewer (measured: 7%
			// faster decode than one piece per thread, docs/benchmarks.md).
			let columns = (self.n / (DECODE_PIECES * rayon::current_num_threads().max(1)))
				.next_multiple_of(COLUMNS)
				.max(COLUMNS);
			out.par_chunks_mut(columns)
				.enumerate()
				.for_each(|(i, chunk)| self.output_rows(&activations, i * columns, chunk));
		} else {
			out.par_chunks_mut(self.n)
				.zip(activations.par_chunks(per_row))
				.for_each(|(row, activations)| self.output_rows(activations, 0, row));
		}
		dims.pop();
		dims.push(self.n);
		Ok((CpuStorage::F32(out), Shape::from(dims)))
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use candle_core::{
		quantized::k_quants::{BlockQ4_1, BlockQ8_0, GgmlType},
		Device, Tensor,
	};
	use rand_chacha::{
		rand_core::{RngCore, SeedableRng},
		ChaCha20Rng,
	};

	fn values(rng: &mut ChaCha20Rng, count: usize, scale: f32) -> Vec<f32> {
		(0..count)
			.map(|_| ((rng.next_u32() >> 8) as f32 / (1 << 24) as f32 - 0.5) * scale)
			.collect()
	}

	fn quantized(rng: &mut ChaCha20Rng, n: usize, k: usize, dtype: GgmlDType) -> QTensor {
		let weights = Tensor::from_vec(values(rng, n * k, 0.2), (n, k), &Device::Cpu).unwrap();
		QTensor::quantize(&weights, dtype).unwrap()
	}

	/// What candle's per-block path computes for `weights` `(n, k)` quantized as `T`
	/// against each row of `xs`: the row quantized to `T::VecDotType` block by block, then
	/// `vec_dot_unopt` with each weight row. `QMatMul` is not the reference: since candle
	/// 0.11, on CPUs with AVX512-VNNI it repacks Q8_0 matrices whose `k` is a multiple of 256
	/// and quantizes the activations per 256 values (Q8_K), another rounding than the
	/// format's (measured on an AMD EPYC: 1.37 off in 38 for a 576×1536 product).
	fn reference<T: GgmlType>(weights: &[f32], n: usize, k: usize, xs: &[f32]) -> Vec<f32> {
		let per_row = k / T::BLCK_SIZE;
		let mut blocks = vec![T::zeros(); n * per_row];
		T::from_float(weights, &mut blocks);
		let mut out = Vec::with_capacity(xs.len() / k * n);
		for x in xs.chunks_exact(k) {
			let mut ys = vec![T::VecDotType::zeros(); k / T::VecDotType::BLCK_SIZE];
			T::VecDotType::from_float(x, &mut ys);
			out.extend(blocks.chunks_exact(per_row).map(|row| T::vec_dot_unopt(k, row, &ys)));
		}
		out
	}

	fn flat(tensor: &Tensor) -> Vec<f32> {
		tensor.flatten_all().unwrap().to_vec1::<f32>().unwrap()
	}

	#[test]
	fn the_kernels_agree_with_candle_to_rounding() {
		if !available() {
			eprintln!("no AVX2/FMA/F16C on this CPU: the kernels are not used");
			return;
		}
		let mut rng = ChaCha20Rng::from_seed([3; 32]);
		for dtype in [GgmlDType::Q4_1, GgmlDType::Q8_0] {
			// Odd output counts exercise the rows left after the groups of four.
			for (n, k) in [(576, 576), (576, 1536), (7, 64), (130, 128)] {
				let weights = values(&mut rng, n * k, 0.2);
				let matrix = Tensor::from_vec(weights.clone(), (n, k), &Device::Cpu).unwrap();
				let quantized = QTensor::quantize(&matrix, dtype).unwrap();
				let ours = KernelMatrix::from_qtensor(&quantized).unwrap().expect("a CPU matrix");
				assert_eq!(ours.dtype(), dtype);
				for shape in [vec![1, k], vec![5, k], vec![2, 3, k]] {
					let count = shape.iter().product();
					// Activations with outliers, like a transformer's, and an all-zero block.
					let mut xs = values(&mut rng, count, 8.0);
					xs[count / 3] = 240.0;
					xs[..32.min(count)].fill(0.0);
					let expected = match dtype {
						GgmlDType::Q4_1 => reference::<BlockQ4_1>(&weights, n, k, &xs),
						_ => reference::<BlockQ8_0>(&weights, n, k, &xs),
					};
					let xs = Tensor::from_vec(xs, shape.as_slice(), &Device::Cpu).unwrap();
					let actual = xs.apply_op1_no_bwd(&ours).unwrap();
					assert_eq!(actual.dims()[..shape.len() - 1], shape[..shape.len() - 1]);
					assert_eq!(actual.dims().last(), Some(&n));
					let actual = flat(&actual);
					let largest = expected.iter().fold(1f32, |m, e| m.max(e.abs()));
					let worst = expected
						.iter()
						.zip(&actual)
						.map(|(e, a)| (e - a).abs())
						.fold(0f32, f32::max);
					// Same quantized numbers, summed in another order: f32 rounding only.
					assert!(
						worst <= 1e-5 * largest,
						"{dtype:?} {n}×{k}, activations {shape:?}: off by {worst} of {largest}"
					);
				}
			}
		}
	}

	#[test]
	fn stacked_matrices_give_each_part_bit_for_bit() {
		if !available() {
			eprintln!("no AVX2/FMA/F16C on this CPU: the kernels are not used");
			return;
		}
		let mut rng = ChaCha20Rng::from_seed([5; 32]);
		let k = 128;
		let parts: Vec<QTensor> =
			[64, 13, 30].iter().map(|&n| quantized(&mut rng, n, k, GgmlDType::Q4_1)).collect();
		let kernel = |part: &QTensor| KernelMatrix::from_qtensor(part).unwrap().unwrap();
		let stacked = KernelMatrix::stack(parts.iter().map(kernel).collect()).expect("same k");
		for rows in [1, 3] {
			let xs = values(&mut rng, rows * k, 8.0);
			let xs = Tensor::from_vec(xs, (rows, k), &Device::Cpu).unwrap();
			let all = xs.apply_op1_no_bwd(&stacked).unwrap();
			let mut start = 0;
			for part in &parts {
				let n = part.shape().dims()[0];
				let alone = flat(&xs.apply_op1_no_bwd(&kernel(part)).unwrap());
				let slice = flat(&all.narrow(1, start, n).unwrap());
				assert_eq!(slice, alone, "rows {start}..{}", start + n);
				start += n;
			}
		}
		// Different input widths or formats do not stack; nothing does not either.
		let narrow = quantized(&mut rng, 4, 64, GgmlDType::Q4_1);
		assert!(KernelMatrix::stack(vec![kernel(&parts[0]), kernel(&narrow)]).is_none());
		let q8 = quantized(&mut rng, 4, k, GgmlDType::Q8_0);
		assert!(KernelMatrix::stack(vec![kernel(&parts[0]), kernel(&q8)]).is_none());
		assert!(KernelMatrix::stack(Vec::new()).is_none());
	}

	#[test]
	fn other_formats_stay_with_candle() {
		let mut rng = ChaCha20Rng::from_seed([7; 32]);
		for dtype in [GgmlDType::Q4_0, GgmlDType::Q6K] {
			let tensor = quantized(&mut rng, 64, 256, dtype);
			assert!(KernelMatrix::from_qtensor(&tensor).unwrap().is_none(), "{dtype:?}");
		}
	}
}
