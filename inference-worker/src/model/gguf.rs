//! Loading a GGUF model file: its shape from the metadata ([`LlamaConfig`]), its weights
//! kept in the file's quantization, one [`Layer`] per `blk.<i>.*` group.

use super::{
	layer::{Attention, Layer, Mlp, RmsNorm, RopeStyle},
	llama::{Llama, LlamaConfig},
	matrix::{CpuKernels, Matrix, Projections},
};
use crate::{error::Unsupported, Error, Result};
use candle_core::{
	quantized::{gguf_file, QTensor},
	Device,
};
use std::{
	fs::File,
	io::{BufReader, Read, Seek},
	path::Path,
};

impl LlamaConfig {
	/// The shape a GGUF file's metadata gives (`llama.*`).
	pub(crate) fn from_gguf(content: &gguf_file::Content) -> Result<Self, Unsupported> {
		let get = |key: &str| {
			content.metadata.get(key).ok_or_else(|| Unsupported::MissingMetadata(key.into()))
		};
		let architecture =
			get("general.architecture")?.to_string().map_err(Unsupported::MetadataType)?;
		if architecture != "llama" {
			return Err(Unsupported::Architecture(architecture.clone()));
		}
		let number = |key: &str| -> Result<usize, Unsupported> {
			get(key)?
				.to_u32()
				.map(|value| value as usize)
				.map_err(|error| Unsupported::Metadata { key: key.into(), error })
		};
		let float = |key: &str| -> Result<f32, Unsupported> {
			get(key)?.to_f32().map_err(|error| Unsupported::Metadata { key: key.into(), error })
		};
		let hidden = number("llama.embedding_length")?;
		let heads = number("llama.attention.head_count")?;
		let kv_heads = number("llama.attention.head_count_kv")?;
		if heads == 0 || kv_heads == 0 || hidden % heads != 0 || heads % kv_heads != 0 {
			return Err(Unsupported::Heads { heads, kv_heads, hidden });
		}
		let head_dim = hidden / heads;
		if number("llama.rope.dimension_count")? != head_dim {
			return Err(Unsupported::PartialRotary);
		}
		Ok(Self {
			layers: number("llama.block_count")?,
			hidden,
			heads,
			kv_heads,
			head_dim,
			vocab: number("llama.vocab_size").or_else(|_| {
				get("tokenizer.ggml.tokens")?
					.to_vec()
					.map(Vec::len)
					.map_err(Unsupported::MetadataType)
			})?,
			context: number("llama.context_length")?,
			rms_eps: f64::from(float("llama.attention.layer_norm_rms_epsilon")?),
			rope_base: float("llama.rope.freq_base").unwrap_or(10_000.0),
		})
	}
}

impl Llama {
	/// Loads a GGUF model file onto `device`.
	pub fn load(path: &Path, device: &Device) -> Result<(Self, gguf_file::Content)> {
		Self::load_with(path, device, CpuKernels::default())
	}

	/// [`Llama::load`] with a choice of CPU kernels.
	pub fn load_with(
		path: &Path,
		device: &Device,
		kernels: CpuKernels,
	) -> Result<(Self, gguf_file::Content)> {
		// candle reads these once to dequantize every matrix: that would silently change the
		// numerics the model file fixes, and every PoC and replay comparison with them.
		for variable in ["CANDLE_DEQUANTIZE_ALL", "CANDLE_DEQUANTIZE_ALL_F16"] {
			if std::env::var_os(variable).is_some_and(|value| !value.is_empty() && value != "0") {
				return Err(Error::unsupported(path, Unsupported::DequantizeAll(variable)));
			}
		}
		let (content, mut reader) = read_gguf(path)?;
		let model =
			Self::from_gguf(path, &content, &mut reader, device, kernels).map_err(|error| {
				match error {
					Error::Tensor(source) => Error::LoadModel { path: path.to_owned(), source },
					other => other,
				}
			})?;
		Ok((model, content))
	}

	fn from_gguf<R: Read + Seek>(
		path: &Path,
		content: &gguf_file::Content,
		reader: &mut R,
		device: &Device,
		kernels: CpuKernels,
	) -> Result<Self> {
		let unsupported = |reason| Error::unsupported(path, reason);
		let config = LlamaConfig::from_gguf(content).map_err(unsupported)?;
		let mut tensor = |name: &str| content.tensor(reader, name, device);
		let embeddings_q = tensor("token_embd.weight")?;
		let embeddings = embeddings_q.dequantize(device)?;
		if embeddings.dims2()? != (config.vocab, config.hidden) {
			return Err(unsupported(Unsupported::EmbeddingShape(embeddings.shape().clone())));
		}
		let norm = tensor("output_norm.weight")?.dequantize(device)?;
		let output = match tensor("output.weight") {
			Ok(output) => Matrix::new(output, kernels)?,
			// Tied embeddings: the output projection is the embedding table.
			Err(_) if !content.tensor_infos.contains_key("output.weight") => {
				Matrix::new(embeddings_q, kernels)?
			}
			Err(error) => return Err(error.into()),
		};
		let layers = (0..config.layers)
			.map(|i| layer(&config, i, &mut tensor, device, kernels))
			.collect::<Result<_>>()?;
		Ok(Self::new(config, embeddings, layers, norm, output, device)?)
	}
}

/// Layer `i` of a GGUF file, its tensors read by `tensor`.
fn layer(
	config: &LlamaConfig,
	i: usize,
	tensor: &mut impl FnMut(&str) -> candle_core::Result<QTensor>,
	device: &Device,
	kernels: CpuKernels,
) -> Result<Layer> {
	let mut weight = |part: &str| tensor(&format!("blk.{i}.{part}.weight"));
	let qkv =
		Projections::new(vec![weight("attn_q")?, weight("attn_k")?, weight("attn_v")?], kernels)?;
	let gate_up = Projections::new(vec![weight("ffn_gate")?, weight("ffn_up")?], kernels)?;
	let attention_output = Matrix::new(weight("attn_output")?, kernels)?;
	let down = Matrix::new(weight("ffn_down")?, kernels)?;
	let attention_norm = RmsNorm::new(weight("attn_norm")?.dequantize(device)?, config.rms_eps);
	let mlp_norm = RmsNorm::new(weight("ffn_norm")?.dequantize(device)?, config.rms_eps);
	Ok(Layer {
		attention: Attention::new(
			attention_norm,
			qkv,
			attention_output,
			config,
			RopeStyle::Interleaved,
		),
		mlp: Mlp::new(mlp_norm, gate_up, down),
	})
}

/// Opens `path` for reading; a missing file is [`Error::MissingModelFile`].
pub(crate) fn open_model_file(path: &Path) -> Result<File> {
	File::open(path).map_err(|source| match source.kind() {
		std::io::ErrorKind::NotFound => Error::MissingModelFile { path: path.to_owned() },
		_ => Error::io(format!("opening {}", path.display()))(source),
	})
}

/// A GGUF file's header (metadata and tensor index) and the reader its tensors are read
/// from.
pub(crate) fn read_gguf(path: &Path) -> Result<(gguf_file::Content, BufReader<File>)> {
	let mut reader = BufReader::new(open_model_file(path)?);
	let content = gguf_file::Content::read(&mut reader)
		.map_err(|source| Error::LoadModel { path: path.to_owned(), source })?;
	Ok((content, reader))
}
