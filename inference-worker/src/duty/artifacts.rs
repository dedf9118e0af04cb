//! A host's PoC artifacts on disk: one file per (epoch, model) in the data directory's
//! `poc/` folder, `e<epoch>-m<model>.artifacts`, holding the artifacts of nonces `0, 1, …`
//! in order, 24 bytes each. The Merkle tree is a function of them ([`MerkleTree`] over
//! `H(n ‖ artifact_n)`), rebuilt in memory when a commitment is served, so the file is
//! the only state a restarted worker needs to serve what it committed.
//!
//! Appends are written at the count the caller knows and synced before the commitment
//! that covers them is sent; a torn last record (a kill in the middle of a write) is
//! dropped when the file is read, and recomputed.
//!
//! [`MerkleTree`]: gonka_primitives::merkle::MerkleTree

use crate::{Error, Result};
use gonka_primitives::{EpochIndex, ModelId};
use std::{
	io::{Seek, SeekFrom, Write},
	path::{Path, PathBuf},
};

/// The folder of PoC artifact files in the data directory.
pub const POC_DIR: &str = "poc";

/// Bytes of one artifact.
pub const ARTIFACT_BYTES: usize = 2 * crate::poc::ARTIFACT_COORDINATES;

/// The folder of artifact files.
#[derive(Clone, Debug)]
pub struct ArtifactStore {
	dir: PathBuf,
}

impl ArtifactStore {
	/// The store in `dir`, created if missing.
	pub fn open(dir: &Path) -> Result<Self> {
		std::fs::create_dir_all(dir).map_err(Error::io(format!("creating {}", dir.display())))?;
		Ok(Self { dir: dir.to_path_buf() })
	}

	fn path(&self, epoch: EpochIndex, model: ModelId) -> PathBuf {
		self.dir.join(format!("e{epoch}-m{model}.artifacts"))
	}

	/// The artifacts kept for `(epoch, model)`, whole records only (none if no file).
	pub fn load(&self, epoch: EpochIndex, model: ModelId) -> Result<Vec<[u8; ARTIFACT_BYTES]>> {
		let path = self.path(epoch, model);
		let bytes = match std::fs::read(&path) {
			Ok(bytes) => bytes,
			Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
			Err(error) => return Err(Error::io(format!("reading {}", path.display()))(error)),
		};
		Ok(bytes
			.chunks_exact(ARTIFACT_BYTES)
			.map(|chunk| {
				let mut artifact = [0u8; ARTIFACT_BYTES];
				artifact.copy_from_slice(chunk);
				artifact
			})
			.collect())
	}

	/// Writes `artifacts` as nonces `from, from + 1, …` (dropping anything after `from`)
	/// and syncs the file.
	pub fn append(
		&self,
		epoch: EpochIndex,
		model: ModelId,
		from: u64,
		artifacts: &[[u8; ARTIFACT_BYTES]],
	) -> Result<()> {
		let path = self.path(epoch, model);
		let fail = Error::io(format!("writing {}", path.display()));
		let write = || -> std::io::Result<()> {
			let mut file =
				std::fs::OpenOptions::new().create(true).write(true).truncate(false).open(&path)?;
			let offset = from.saturating_mul(ARTIFACT_BYTES as u64);
			file.set_len(offset)?;
			file.seek(SeekFrom::Start(offset))?;
			file.write_all(&artifacts.concat())?;
			file.sync_data()
		};
		write().map_err(fail)
	}

	/// Deletes the files of epochs before `epoch`.
	pub fn prune_before(&self, epoch: EpochIndex) -> Result<()> {
		let entries = std::fs::read_dir(&self.dir)
			.map_err(Error::io(format!("listing {}", self.dir.display())))?;
		for entry in entries.flatten() {
			let name = entry.file_name();
			let Some(older) = name
				.to_str()
				.and_then(|name| name.strip_prefix('e'))
				.and_then(|rest| rest.split_once('-'))
				.and_then(|(number, _)| number.parse::<EpochIndex>().ok())
			else {
				continue;
			};
			if older < epoch {
				std::fs::remove_file(entry.path())
					.map_err(Error::io(format!("deleting {}", entry.path().display())))?;
			}
		}
		Ok(())
	}
}
