//! The inference duties' state on disk: the next finalized block to handle, the jobs
//! waiting, the duties sent, and who reported on this host's own requests. Written after
//! every change to a temporary file, synced to disk, and renamed over the old one, the
//! directory synced after the rename: a killed worker or a power loss leaves either the
//! state before a change or after it, never half of one.
//!
//! A journal that does not parse all the same (a disk that lost a write) is moved aside to
//! `<file>.corrupt` with an error in the log, and the worker starts from an empty state, as
//! a new worker does: it takes up the chain from the newest finalized block, and every duty
//! it sends again is one the chain refuses (each duty is once per request and host; a PoC
//! commitment's count must grow, a host validates a model once), so none is included twice.
//!
//! A duty is recorded as sent once the chain included it *or refused it* (a refusal means
//! the chain does not want it: already done, out of its window). A worker killed between
//! sending a duty and recording it sends it again after its restart; the chain refuses the
//! copy (each duty is once per request and host), and the refusal records it. No duty is
//! included twice, and none is lost.

use crate::{Error, Result};
use gonka_primitives::{inference::RequestId, HostId};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::{
	collections::{BTreeMap, BTreeSet},
	io::Write,
	path::{Path, PathBuf},
};

/// The inference journal's file in the data directory.
pub const JOURNAL_FILE: &str = "inference-journal.json";

/// The PoC journal's file in the data directory.
pub const POC_JOURNAL_FILE: &str = "poc-journal.json";

/// A job of the inference duties.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Job {
	/// Execute a request assigned to this host and send `finish`.
	Execute(RequestId),
	/// Another host finished a request: find out whether the hash rule samples this host.
	Check(RequestId),
	/// Replay a result this host is sampled for and send `validate`.
	Validate(RequestId),
	/// Re-check a result in an invalidation vote and send `vote`.
	Vote(RequestId),
	/// One of this host's requests closed: show the sampled validators that did not report.
	ShowMissing(RequestId),
	/// Show that a validator (its account bytes) did not report on a request.
	Missing(RequestId, [u8; 32]),
}

impl Job {
	/// The request the job is about.
	pub fn request(&self) -> RequestId {
		match *self {
			Job::Execute(r)
			| Job::Check(r)
			| Job::Validate(r)
			| Job::Vote(r)
			| Job::ShowMissing(r)
			| Job::Missing(r, _) => r,
		}
	}
}

/// What is kept.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
	/// The next finalized block to handle; `None` before the first (a new worker starts at
	/// the newest finalized block, with no backlog).
	pub next_block: Option<u32>,
	/// Jobs waiting to run.
	pub jobs: BTreeSet<Job>,
	/// Duties sent (included or refused), until their request closes.
	pub sent: BTreeSet<Job>,
	/// This host's finished requests still open, with the validators that reported.
	pub own: BTreeMap<RequestId, BTreeSet<[u8; 32]>>,
}

/// A state and the file it lives in (the inference duties' [`State`] by default; the PoC
/// duties keep theirs the same way).
#[derive(Debug)]
pub struct Journal<S = State> {
	path: PathBuf,
	/// The state as last saved (or to be saved).
	pub state: S,
}

impl<S: Serialize + DeserializeOwned + Default> Journal<S> {
	/// Opens the journal at `path`: empty if the file does not exist, and empty, the file
	/// moved aside to [`corrupt_path`], if it does not parse.
	pub fn open(path: &Path) -> Result<Self> {
		let fail = |error: std::io::Error| Error::Journal {
			path: path.to_path_buf(),
			reason: error.to_string(),
		};
		let state = match std::fs::read(path) {
			Ok(bytes) => match serde_json::from_slice(&bytes) {
				Ok(state) => state,
				Err(error) => {
					let aside = corrupt_path(path);
					std::fs::rename(path, &aside).map_err(fail)?;
					tracing::error!(
						journal = %path.display(),
						moved_to = %aside.display(),
						"the journal does not parse ({error}; {} bytes): moved aside, starting \
						 from an empty state (the chain refuses any duty sent again)",
						bytes.len()
					);
					S::default()
				}
			},
			Err(error) if error.kind() == std::io::ErrorKind::NotFound => S::default(),
			Err(error) => return Err(fail(error)),
		};
		Ok(Self { path: path.to_path_buf(), state })
	}

	/// Writes the state durably: a temporary file beside the journal, synced, renamed over
	/// it, and the directory synced so that the rename survives a power loss.
	pub fn save(&self) -> Result<()> {
		let fail = |error: std::io::Error| Error::Journal {
			path: self.path.clone(),
			reason: error.to_string(),
		};
		let bytes = serde_json::to_vec_pretty(&self.state).map_err(|error| Error::Journal {
			path: self.path.clone(),
			reason: error.to_string(),
		})?;
		let temporary = self.path.with_extension("tmp");
		let mut file = std::fs::File::create(&temporary).map_err(fail)?;
		file.write_all(&bytes).and_then(|()| file.sync_all()).map_err(fail)?;
		drop(file);
		std::fs::rename(&temporary, &self.path).map_err(fail)?;
		let directory = match self.path.parent() {
			Some(parent) if !parent.as_os_str().is_empty() => parent,
			_ => Path::new("."),
		};
		std::fs::File::open(directory).and_then(|directory| directory.sync_all()).map_err(fail)
	}
}

/// Where a journal that does not parse is moved: `<file>.corrupt` beside it (an older one
/// there is replaced).
pub fn corrupt_path(path: &Path) -> PathBuf {
	let mut name = path.file_name().unwrap_or_default().to_os_string();
	name.push(".corrupt");
	path.with_file_name(name)
}

impl Journal<State> {
	/// Forgets everything about a closed request but its own-request tracking.
	pub fn forget(&mut self, request: RequestId) {
		self.state.jobs.retain(|job| job.request() != request);
		self.state.sent.retain(|job| job.request() != request);
	}
}

/// An account's bytes, as the journal keeps them.
pub fn bytes(host: &HostId) -> [u8; 32] {
	*AsRef::<[u8; 32]>::as_ref(host)
}
