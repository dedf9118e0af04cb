//! The weight matrices of the forward pass and which kernels multiply them: a quantized
//! GGUF matrix on our AVX2 kernels ([`super::kernel`]) or candle's `QMatMul`, a dense
//! safetensors matrix in its own dtype; and the projections that share an input (query,
//! key and value; gate and up) stacked into one product.

use super::kernel;
use crate::Result;
use candle_core::{
	quantized::{QMatMul, QTensor},
	DType, Module, Tensor,
};

/// Which CPU kernels run the quantized matrix products. Both compute the same products of
/// the same quantized numbers; they sum in different orders, so results differ in the
/// last bits, as between two hosts' machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CpuKernels {
	/// Ours ([`kernel`]) where they apply (Q4_1 and Q8_0 on x86-64 with AVX2, FMA and
	/// F16C), candle's otherwise. Several times faster; the default.
	#[default]
	Native,
	/// candle's `QMatMul` for every matrix: what a CPU without AVX2 runs. The calibration
	/// (docs/verification.md) measures honest hosts on the two against each other.
	Candle,
}

/// A weight matrix `(out, in)`: quantized, with our AVX2 kernels for Q4_1 and Q8_0 on x86
/// CPUs (see [`kernel`]) and candle's `QMatMul` for everything else; or dense (f32, f16,
/// bf16: safetensors models), multiplied in its own dtype.
pub(crate) enum Matrix {
	Kernel(kernel::KernelMatrix),
	Candle(QMatMul),
	Dense(Tensor),
}

impl Matrix {
	/// A quantized matrix on `kernels`.
	pub(crate) fn new(tensor: QTensor, kernels: CpuKernels) -> Result<Self> {
		if kernels == CpuKernels::Candle {
			return Ok(Self::Candle(QMatMul::from_qtensor(tensor)?));
		}
		Ok(match kernel::KernelMatrix::from_qtensor(&tensor)? {
			Some(matrix) => Self::Kernel(matrix),
			None => Self::Candle(QMatMul::from_qtensor(tensor)?),
		})
	}

	/// `x · Wᵀ`, f32 in and out.
	pub(crate) fn forward(&self, x: &Tensor) -> Result<Tensor> {
		Ok(match self {
			Self::Kernel(matrix) => x.contiguous()?.apply_op1_no_bwd(matrix)?,
			Self::Candle(matrix) => matrix.forward(x)?,
			Self::Dense(weights) => x
				.to_dtype(weights.dtype())?
				.broadcast_matmul(&weights.t()?)?
				.to_dtype(DType::F32)?,
		})
	}
}

/// Matrices applied to the same input (query, key and value; gate and up): one product
/// over their stacked rows where our kernel runs them — each output is computed as it
/// would be alone, so the numbers are the same, with one pass over the activations and
/// one hand-off to the threads instead of several.
pub(crate) enum Projections {
	Fused { matrix: Matrix, widths: Vec<usize> },
	Separate(Vec<Matrix>),
}

impl Projections {
	/// Quantized matrices on `kernels`, stacked when our kernel runs them all.
	pub(crate) fn new(tensors: Vec<QTensor>, kernels: CpuKernels) -> Result<Self> {
		let ours = match kernels {
			CpuKernels::Native => tensors
				.iter()
				.map(kernel::KernelMatrix::from_qtensor)
				.collect::<candle_core::Result<Option<Vec<_>>>>()?,
			CpuKernels::Candle => None,
		};
		if let Some(matrix) = ours.and_then(kernel::KernelMatrix::stack) {
			let widths = tensors.iter().map(|tensor| tensor.shape().dims()[0]).collect();
			return Ok(Self::Fused { matrix: Matrix::Kernel(matrix), widths });
		}
		let matrices = tensors.into_iter().map(|tensor| Matrix::new(tensor, kernels));
		Ok(Self::Separate(matrices.collect::<Result<_>>()?))
	}

	/// Dense matrices of one dtype, stacked into one product.
	pub(crate) fn dense(matrices: Vec<Tensor>) -> candle_core::Result<Self> {
		let widths =
			matrices.iter().map(|matrix| matrix.dim(0)).collect::<candle_core::Result<_>>()?;
		Ok(Self::Fused { matrix: Matrix::Dense(Tensor::cat(&matrices, 0)?), widths })
	}

	/// Every projection of `x`, in the order they were given.
	pub(crate) fn forward(&self, x: &Tensor) -> Result<Vec<Tensor>> {
		match self {
			Self::Fused { matrix, widths } => {
				let all = matrix.forward(x)?;
				let mut start = 0;
				let mut parts = Vec::with_capacity(widths.len());
				for &width in widths {
					parts.push(all.narrow(candle_core::D::Minus1, start, width)?);
					start += width;
				}
				Ok(parts)
			}
			Self::Separate(matrices) => matrices.iter().map(|matrix| matrix.forward(x)).collect(),
		}
	}
}
