//! An append-only record log on disk: the channels' journals. Each record is its SCALE
//! encoding in hex on a line of its own, appended and synced to disk before the call
//! returns (an executor syncs a receipt before it sends it; a gateway a voucher before it
//! sends it). Records are never rewritten, so a channel's thousands of receipts cost one
//! append each, not a rewrite of the whole state.
//!
//! A crash mid-append leaves a last line without its newline: it is dropped (and cut from
//! the file) when the log is opened, as the record was never acknowledged to anyone. A
//! complete line that does not decode is a disk that lost data: the log refuses to open,
//! and says where, rather than let an executor number receipts again from an older state
//! (two receipts for one `seq`) or a gateway sign nonces twice.

use crate::{Error, Result};
use codec::{Decode, Encode};
use std::{
	fs::{File, OpenOptions},
	io::{Read, Seek, SeekFrom, Write},
	marker::PhantomData,
	path::{Path, PathBuf},
};

/// A log of records `R`.
#[derive(Debug)]
pub struct Log<R> {
	path: PathBuf,
	file: File,
	records: PhantomData<R>,
}

impl<R: Encode + Decode> Log<R> {
	/// Opens (or creates) the log at `path` and reads its records, oldest first.
	pub fn open(path: &Path) -> Result<(Self, Vec<R>)> {
		let fail = |reason: String| Error::Journal { path: path.to_path_buf(), reason };
		if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
			std::fs::create_dir_all(parent).map_err(|error| fail(error.to_string()))?;
		}
		let mut file = OpenOptions::new()
			.read(true)
			.append(true)
			.create(true)
			.open(path)
			.map_err(|error| fail(error.to_string()))?;
		let mut text = String::new();
		file.read_to_string(&mut text).map_err(|error| fail(error.to_string()))?;
		let mut records = Vec::new();
		let mut kept = 0usize;
		for (number, line) in text.split_inclusive('\n').enumerate() {
			let Some(body) = line.strip_suffix('\n') else {
				tracing::warn!(
					log = %path.display(),
					"the last record was cut short by a crash (never acknowledged): dropped"
				);
				break;
			};
			let record = hex::decode(body)
				.ok()
				.and_then(|bytes| R::decode(&mut bytes.as_slice()).ok())
				.ok_or_else(|| fail(format!("record {} does not decode", number + 1)))?;
			records.push(record);
			kept += line.len();
		}
		if kept < text.len() {
			file.set_len(kept as u64).map_err(|error| fail(error.to_string()))?;
			file.sync_all().map_err(|error| fail(error.to_string()))?;
		}
		file.seek(SeekFrom::End(0)).map_err(|error| fail(error.to_string()))?;
		if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
			File::open(parent)
				.and_then(|directory| directory.sync_all())
				.map_err(|error| fail(error.to_string()))?;
		}
		Ok((Self { path: path.to_path_buf(), file, records: PhantomData }, records))
	}

	/// Appends `record` and syncs it to disk. If that fails, the file is cut back to its
	/// length before (no partial record for the next one to be appended to).
	pub fn append(&mut self, record: &R) -> Result<()> {
		let mut line = hex::encode(record.encode());
		line.push('\n');
		let fail = |error: std::io::Error| Error::Journal {
			path: self.path.clone(),
			reason: error.to_string(),
		};
		let before = self.file.metadata().map_err(fail)?.len();
		let written = self.file.write_all(line.as_bytes()).and_then(|()| self.file.sync_data());
		if let Err(error) = written {
			let _ = self.file.set_len(before).and_then(|()| self.file.sync_data());
			return Err(fail(error));
		}
		Ok(())
	}

	/// Where the log lives.
	pub fn path(&self) -> &Path {
		&self.path
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn records_survive_a_reopen_in_order() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("a/log");
		let (mut log, records) = Log::<(u32, String)>::open(&path).unwrap();
		assert!(records.is_empty());
		log.append(&(1, "one".into())).unwrap();
		log.append(&(2, "two".into())).unwrap();
		drop(log);
		let (mut log, records) = Log::<(u32, String)>::open(&path).unwrap();
		assert_eq!(records, vec![(1, "one".into()), (2, "two".into())]);
		log.append(&(3, "three".into())).unwrap();
		let (_, records) = Log::<(u32, String)>::open(&path).unwrap();
		assert_eq!(records.len(), 3);
	}

	#[test]
	fn a_record_cut_short_by_a_crash_is_dropped_and_the_log_goes_on() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("log");
		let (mut log, _) = Log::<u64>::open(&path).unwrap();
		log.append(&7).unwrap();
		drop(log);
		let whole = hex::encode(8u64.encode());
		std::fs::OpenOptions::new()
			.append(true)
			.open(&path)
			.unwrap()
			.write_all(&whole.as_bytes()[..5])
			.unwrap();
		let (mut log, records) = Log::<u64>::open(&path).unwrap();
		assert_eq!(records, vec![7]);
		log.append(&9).unwrap();
		let (_, records) = Log::<u64>::open(&path).unwrap();
		assert_eq!(records, vec![7, 9]);
	}

	#[test]
	fn a_complete_record_that_does_not_decode_refuses_the_log() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("log");
		std::fs::write(&path, format!("{}\nzz\n", hex::encode(1u64.encode()))).unwrap();
		let error = Log::<u64>::open(&path).unwrap_err().to_string();
		assert!(error.contains("record 2 does not decode"), "{error}");
	}
}
