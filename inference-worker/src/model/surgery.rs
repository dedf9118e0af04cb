//! GGUF surgery: new model files written from an existing one, without running it — the
//! same model requantized ([`requantize`]) or cut short ([`prune_layers`]), through one
//! GGUF writer. What a host cutting costs would run: the calibration
//! (`docs/verification.md`), the tests and the end-to-end tests' cheating worker
//! (`node/tests/cheaters.rs`) use them.

use super::gguf::read_gguf;
use crate::{error::Unsupported, Error, Result};
use candle_core::{
	quantized::{gguf_file, GgmlDType, QTensor},
	Device,
};
use std::{fs::File, path::Path};

/// Writes `source` (a GGUF file) to `target` with every quantized matrix requantized to
/// `dtype`: same metadata, tokenizer and shapes, cheaper weights. What a host cutting costs
/// would run; the replay calibration (`docs/verification.md`) and the tests use it to
/// measure how far such a model's completions are from the real one's.
pub fn requantize(source: &Path, target: &Path, dtype: GgmlDType) -> Result<()> {
	let device = Device::Cpu;
	let load = |error| Error::LoadModel { path: source.to_owned(), source: error };
	let (content, mut reader) = read_gguf(source)?;
	let mut names: Vec<&String> = content.tensor_infos.keys().collect();
	names.sort();
	let mut tensors = Vec::with_capacity(names.len());
	for name in names {
		let tensor = content.tensor(&mut reader, name, &device).map_err(load)?;
		let tensor = match tensor.dtype() {
			GgmlDType::F32 | GgmlDType::F16 | GgmlDType::BF16 => tensor,
			_ => QTensor::quantize(&tensor.dequantize(&device)?, dtype)?,
		};
		tensors.push((name.as_str(), tensor));
	}
	let metadata: Vec<(&str, &gguf_file::Value)> =
		content.metadata.iter().map(|(key, value)| (key.as_str(), value)).collect();
	write_gguf(target, metadata, &tensors)
}

/// Writes `source` (a GGUF llama model) to `target` without its last `dropped` transformer
/// layers: another, cheaper model with the same tokenizer and vocabulary, whose answers
/// read plausibly but are not the registered model's (a host skipping work). The tests
/// and the cheating test worker use it; refused when it would leave no layer.
pub fn prune_layers(source: &Path, target: &Path, dropped: usize) -> Result<()> {
	let device = Device::Cpu;
	let load = |error| Error::LoadModel { path: source.to_owned(), source: error };
	let (content, mut reader) = read_gguf(source)?;
	let unsupported = |reason| Error::unsupported(source, reason);
	let layers = content
		.metadata
		.get("llama.block_count")
		.and_then(|count| count.to_u32().ok())
		.ok_or_else(|| unsupported(Unsupported::NoBlockCount))? as usize;
	let kept = layers
		.checked_sub(dropped)
		.filter(|kept| *kept > 0)
		.ok_or_else(|| unsupported(Unsupported::NoLayerLeft { dropped, layers }))?;
	let dropped_layer = |name: &str| {
		name.strip_prefix("blk.")
			.and_then(|rest| rest.split('.').next())
			.and_then(|index| index.parse::<usize>().ok())
			.is_some_and(|index| index >= kept)
	};
	let mut names: Vec<&String> =
		content.tensor_infos.keys().filter(|name| !dropped_layer(name)).collect();
	names.sort();
	let mut tensors = Vec::with_capacity(names.len());
	for name in names {
		tensors.push((name.as_str(), content.tensor(&mut reader, name, &device).map_err(load)?));
	}
	let block_count = gguf_file::Value::U32(kept as u32);
	let metadata: Vec<(&str, &gguf_file::Value)> = content
		.metadata
		.iter()
		.map(|(key, value)| {
			(key.as_str(), if key == "llama.block_count" { &block_count } else { value })
		})
		.collect();
	write_gguf(target, metadata, &tensors)
}

/// Writes a GGUF file: `metadata` and `tensors`, each in name order.
fn write_gguf(
	target: &Path,
	mut metadata: Vec<(&str, &gguf_file::Value)>,
	tensors: &[(&str, QTensor)],
) -> Result<()> {
	metadata.sort_by_key(|(key, _)| *key);
	let tensors: Vec<(&str, &QTensor)> =
		tensors.iter().map(|(name, tensor)| (*name, tensor)).collect();
	let mut writer = std::io::BufWriter::new(
		File::create(target).map_err(Error::io(format!("creating {}", target.display())))?,
	);
	gguf_file::write(&mut writer, &metadata, &tensors)?;
	std::io::Write::flush(&mut writer)
		.map_err(Error::io(format!("writing {}", target.display())))?;
	Ok(())
}
