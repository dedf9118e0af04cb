//! Grouped-query attention: `softmax(q · kᵀ / sqrt(head_dim) + mask) · v`, where each
//! key/value head serves a group of consecutive query heads.
//!
//! Neither path copies the shared key/value heads once per query head (as a `repeat_kv`
//! does). Several positions (prefill, replay scoring, Proof of Compute) run as candle
//! matrix products, one per key/value head over its whole group. One new position on the
//! CPU (the decode step) runs [`DecodeAttention`]: there candle's batched products cost tens
//! of microseconds each for a few thousand multiply-adds, and the work is a dot product per
//! cached key and a weighted sum of values, done directly on the cache's storage.

use crate::Result;
use candle_core::{CpuStorage, CustomOp3, Layout, Shape, Tensor};
use rayon::prelude::*;

/// Attention of `query` `(batch, heads, positions, head_dim)` over `key` and `value`
/// `(batch, kv_heads, total, head_dim)` (the cached positions first), with `mask`
/// `(positions, total)` added to the scores when given. Returns `(batch, positions,
/// heads · head_dim)`.
pub fn attend(
	query: &Tensor,
	key: &Tensor,
	value: &Tensor,
	mask: Option<&Tensor>,
) -> Result<Tensor> {
	let (batch, heads, positions, head_dim) = query.dims4()?;
	let (_, kv_heads, total, _) = key.dims4()?;
	if kv_heads == 0 || heads % kv_heads != 0 {
		return Err(candle_core::Error::Msg(format!(
			"{heads} query heads over {kv_heads} key/value heads"
		))
		.into());
	}
	let scale = 1.0 / (head_dim as f64).sqrt();
	if batch == 1 && positions == 1 && query.device().is_cpu() {
		return Ok(query.apply_op3_no_bwd(key, value, &DecodeAttention { scale: scale as f32 })?);
	}
	// The query heads of one key/value head are consecutive, so the `(heads, positions)`
	// rows regroup as `(kv_heads, group · positions)`.
	let group = heads / kv_heads;
	let grouped = query.contiguous()?.reshape((batch, kv_heads, group * positions, head_dim))?;
	let mut scores = (grouped.matmul(&key.contiguous()?.t()?)? * scale)?;
	if let Some(mask) = mask {
		scores = scores
			.reshape((batch, kv_heads, group, positions, total))?
			.broadcast_add(mask)?
			.reshape((batch, kv_heads, group * positions, total))?;
	}
	Ok(candle_nn::ops::softmax_last_dim(&scores)?
		.matmul(&value.contiguous()?)?
		.reshape((batch, heads, positions, head_dim))?
		.transpose(1, 2)?
		.reshape((batch, positions, heads * head_dim))?)
}

/// Cached positions × query heads from which the heads run in parallel: below it the
/// work (a few microseconds) is shorter than handing it to the thread pool.
const PARALLEL_FROM: usize = 2048;

/// `softmax(q · kᵀ · scale) · v` for one query position: `q` is `(1, heads, 1, head_dim)`,
/// `k` and `v` are `(1, kv_heads, positions, head_dim)` (any strides with a unit last
/// stride, so narrowed views of a preallocated cache work), the output is
/// `(1, 1, heads · head_dim)`.
pub struct DecodeAttention {
	/// `1 / sqrt(head_dim)`.
	pub scale: f32,
}

/// Element offsets of `(1, a, b, c)` views: where `[0, i, j, 0]` starts.
struct View<'a> {
	data: &'a [f32],
	start: usize,
	stride_head: usize,
	stride_position: usize,
	/// Values in a row (the head width).
	width: usize,
}

impl<'a> View<'a> {
	fn new(storage: &'a CpuStorage, layout: &Layout, what: &str) -> candle_core::Result<Self> {
		let CpuStorage::F32(data) = storage else {
			candle_core::bail!("decode attention takes f32 {what}")
		};
		let stride = layout.stride();
		if layout.dims().len() != 4 || layout.dims()[0] != 1 || stride[3] != 1 {
			candle_core::bail!("decode attention: {what} of shape {:?}", layout.dims())
		}
		Ok(Self {
			data,
			start: layout.start_offset(),
			stride_head: stride[1],
			stride_position: stride[2],
			width: layout.dims()[3],
		})
	}

	fn row(&self, head: usize, position: usize) -> &[f32] {
		let start = self.start + head * self.stride_head + position * self.stride_position;
		&self.data[start..start + self.width]
	}
}

#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
	// Eight independent partial sums: the compiler keeps them in one vector register.
	let mut partial = [0f32; 8];
	for (a, b) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
		for i in 0..8 {
			partial[i] += a[i] * b[i];
		}
	}
	let tail = a.chunks_exact(8).remainder().iter().zip(b.chunks_exact(8).remainder());
	partial.iter().sum::<f32>() + tail.map(|(a, b)| a * b).sum::<f32>()
}

/// The query heads of key/value head `kv` (`queries` and `out`: `group × head_dim`, the
/// group's heads one after the other): each cached key and value is read once for the
/// whole group.
#[inline(always)]
fn attend_group(
	queries: &[f32],
	keys: &View,
	values: &View,
	kv: usize,
	positions: usize,
	scale: f32,
	out: &mut [f32],
) {
	let head_dim = keys.width;
	let group = queries.len() / head_dim;
	// scores[g · positions + t]: query head g of the group against position t.
	let mut scores = vec![0f32; group * positions];
	for t in 0..positions {
		let key = keys.row(kv, t);
		for (g, query) in queries.chunks_exact(head_dim).enumerate() {
			scores[g * positions + t] = dot(query, key) * scale;
		}
	}
	for head in scores.chunks_exact_mut(positions) {
		let max = head.iter().copied().fold(f32::NEG_INFINITY, f32::max);
		let mut total = 0f32;
		for score in head.iter_mut() {
			*score = (*score - max).exp();
			total += *score;
		}
		let inverse = 1.0 / total;
		for score in head.iter_mut() {
			*score *= inverse;
		}
	}
	for t in 0..positions {
		let value = values.row(kv, t);
		for (g, out) in out.chunks_exact_mut(head_dim).enumerate() {
			let weight = scores[g * positions + t];
			for (o, x) in out.iter_mut().zip(value) {
				*o += weight * x;
			}
		}
	}
}

/// [`attend_group`] compiled for AVX2 and FMA (the loops vectorise eight wide).
///
/// # Safety
/// The CPU has AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn attend_group_avx2(
	queries: &[f32],
	keys: &View,
	values: &View,
	kv: usize,
	positions: usize,
	scale: f32,
	out: &mut [f32],
) {
	attend_group(queries, keys, values, kv, positions, scale, out)
}

fn wide_vectors() -> bool {
	#[cfg(target_arch = "x86_64")]
	{
		std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
	}
	#[cfg(not(target_arch = "x86_64"))]
	{
		false
	}
}

impl CustomOp3 for DecodeAttention {
	fn name(&self) -> &'static str {
		"gonka-decode-attention"
	}

	fn cpu_fwd(
		&self,
		q_storage: &CpuStorage,
		q_layout: &Layout,
		k_storage: &CpuStorage,
		k_layout: &Layout,
		v_storage: &CpuStorage,
		v_layout: &Layout,
	) -> candle_core::Result<(CpuStorage, Shape)> {
		let q = View::new(q_storage, q_layout, "queries")?;
		let k = View::new(k_storage, k_layout, "keys")?;
		let v = View::new(v_storage, v_layout, "values")?;
		let &[_, heads, query_positions, head_dim] = q_layout.dims() else { unreachable!() };
		let &[_, kv_heads, positions, key_dim] = k_layout.dims() else { unreachable!() };
		if query_positions != 1
			|| key_dim != head_dim
			|| v_layout.dims() != k_layout.dims()
			|| kv_heads == 0
			|| heads % kv_heads != 0
			|| positions == 0
		{
			candle_core::bail!(
				"decode attention: queries {:?}, keys {:?}, values {:?}",
				q_layout.dims(),
				k_layout.dims(),
				v_layout.dims()
			)
		}
		let group = heads / kv_heads;
		// The query heads of one key/value head are consecutive rows of `q`.
		let queries = q.data[q.start..]
			.get(..heads * q.stride_head)
			.filter(|_| q.stride_head == head_dim)
			.ok_or_else(|| candle_core::Error::Msg("decode attention: strided queries".into()))?;
		let mut out = vec![0f32; heads * head_dim];
		let wide = wide_vectors();
		let scale = self.scale;
		let task = |(kv, out): (usize, &mut [f32])| {
			let queries = &queries[kv * group * head_dim..(kv + 1) * group * head_dim];
			#[cfg(target_arch = "x86_64")]
			if wide {
				// SAFETY: `wide_vectors()` found AVX2 and FMA.
				return unsafe { attend_group_avx2(queries, &k, &v, kv, positions, scale, out) };
			}
			let _ = wide;
			attend_group(queries, &k, &v, kv, positions, scale, out)
		};
		if positions * heads >= PARALLEL_FROM {
			out.par_chunks_mut(group * head_dim).enumerate().for_each(task);
		} else {
			out.chunks_mut(group * head_dim).enumerate().for_each(task);
		}
		Ok((CpuStorage::F32(out), Shape::from((1, 1, heads * head_dim))))
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use candle_core::{Device, Tensor, D};

	fn values(shape: (usize, usize, usize, usize), salt: f32) -> Tensor {
		let count = shape.0 * shape.1 * shape.2 * shape.3;
		let values = (0..count).map(|i| (i as f32 * 0.37 + salt).sin() * 1.7).collect();
		Tensor::from_vec(values, shape, &Device::Cpu).unwrap()
	}

	/// Attention as the textbook writes it: every key/value head copied for each query head
	/// of its group, one head at a time.
	fn reference(q: &Tensor, k: &Tensor, v: &Tensor, mask: Option<&Tensor>) -> Tensor {
		let (batch, heads, positions, head_dim) = q.dims4().unwrap();
		let (_, kv_heads, total, _) = k.dims4().unwrap();
		let group = heads / kv_heads;
		let repeat = |x: &Tensor| {
			let x = x.contiguous().unwrap();
			Tensor::cat(&vec![&x; group], 2)
				.unwrap()
				.reshape((batch, heads, total, head_dim))
				.unwrap()
		};
		let scale = 1.0 / (head_dim as f64).sqrt();
		let mut scores = (q.matmul(&repeat(k).t().unwrap()).unwrap() * scale).unwrap();
		if let Some(mask) = mask {
			scores = scores.broadcast_add(mask).unwrap();
		}
		candle_nn::ops::softmax(&scores, D::Minus1)
			.unwrap()
			.matmul(&repeat(v))
			.unwrap()
			.transpose(1, 2)
			.unwrap()
			.reshape((batch, positions, heads * head_dim))
			.unwrap()
	}

	fn largest_difference(a: &Tensor, b: &Tensor) -> f32 {
		(a - b).unwrap().abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar().unwrap()
	}

	#[test]
	fn decode_attention_matches_the_textbook() {
		let (heads, kv_heads, head_dim, positions, capacity) = (6, 2, 16, 37, 50);
		let q = values((1, heads, 1, head_dim), 0.1);
		// Views of a larger buffer, as the cache hands them out.
		let k_all = values((1, kv_heads, capacity, head_dim), 0.7);
		let v_all = values((1, kv_heads, capacity, head_dim), 2.9);
		let k = k_all.narrow(2, 0, positions).unwrap();
		let v = v_all.narrow(2, 0, positions).unwrap();
		let ours = attend(&q, &k, &v, None).unwrap();
		let difference = largest_difference(&ours, &reference(&q, &k, &v, None));
		assert!(difference < 1e-5, "largest difference {difference}");
		// The same numbers whether the heads run on one thread or several.
		let long_k = values((1, kv_heads, PARALLEL_FROM, head_dim), 0.3);
		let long_v = values((1, kv_heads, PARALLEL_FROM, head_dim), 1.3);
		let ours = attend(&q, &long_k, &long_v, None).unwrap();
		let difference = largest_difference(&ours, &reference(&q, &long_k, &long_v, None));
		assert!(difference < 1e-5, "largest difference {difference} over {PARALLEL_FROM} keys");
	}

	#[test]
	fn grouped_attention_matches_the_textbook_with_a_cache_and_a_mask() {
		let (batch, heads, kv_heads, head_dim) = (2, 6, 2, 16);
		let (cached, positions) = (5, 4);
		let total = cached + positions;
		let q = values((batch, heads, positions, head_dim), 0.4);
		let k = values((batch, kv_heads, total, head_dim), 1.1);
		let v = values((batch, kv_heads, total, head_dim), 2.2);
		let mask: Vec<f32> = (0..positions)
			.flat_map(|i| {
				(0..total).map(move |j| if j > cached + i { f32::NEG_INFINITY } else { 0.0 })
			})
			.collect();
		let mask = Tensor::from_vec(mask, (positions, total), &Device::Cpu).unwrap();
		let ours = attend(&q, &k, &v, Some(&mask)).unwrap();
		assert_eq!(ours.dims(), &[batch, positions, heads * head_dim]);
		let difference = largest_difference(&ours, &reference(&q, &k, &v, Some(&mask)));
		assert!(difference < 1e-5, "largest difference {difference}");
		// Batches of one position take the same path; each batch row attends on its own.
		let one = q.narrow(2, 0, 1).unwrap().contiguous().unwrap();
		let difference = largest_difference(
			&attend(&one, &k, &v, None).unwrap(),
			&reference(&one, &k, &v, None),
		);
		assert!(difference < 1e-5, "largest difference {difference}");
	}

	#[test]
	fn heads_that_do_not_divide_are_refused() {
		let q = values((1, 5, 1, 8), 0.0);
		let k = values((1, 2, 3, 8), 0.0);
		assert!(attend(&q, &k, &k, None).is_err());
	}

	#[test]
	fn decode_attention_rejects_more_than_one_query_position() {
		let device = Device::Cpu;
		let q = Tensor::zeros((1, 2, 3, 4), candle_core::DType::F32, &device).unwrap();
		let k = Tensor::zeros((1, 1, 5, 4), candle_core::DType::F32, &device).unwrap();
		let error = q.apply_op3_no_bwd(&k, &k, &DecodeAttention { scale: 0.5 }).unwrap_err();
		assert!(error.to_string().contains("decode attention"), "{error}");
	}
}
