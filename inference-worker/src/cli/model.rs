//! `gonka-worker model fetch` and `model verify` (the catalogue's model files), and how
//! the local commands load the model they run (`--model`, `--device`, `--threads`).

use super::{args::ModelArgs, rayon_threads};
use crate::{catalog, inference::tokenizer::ChatTokenizer, model::Llama};
use std::path::Path;

/// Downloads the catalogue's `model` into `data_dir`, checks it and prints its path.
pub fn fetch(model: &str, data_dir: &Path) -> anyhow::Result<()> {
	let known = catalog::find(model)?;
	let path = catalog::fetch(known, data_dir)?;
	println!("{}", path.display());
	Ok(())
}

/// Checks the file at `path` is the catalogue's `model` and prints its digest.
pub fn verify(path: &Path, model: &str) -> anyhow::Result<()> {
	let known = catalog::find(model)?;
	catalog::verify(known, path)?;
	println!("{}: sha256 {} ({model})", path.display(), known.sha256);
	Ok(())
}

impl ModelArgs {
	/// Sizes the CPU thread pools, opens the device and loads the model and its tokenizer.
	pub(crate) fn load(&self) -> anyhow::Result<(Llama, ChatTokenizer)> {
		rayon_threads(self.threads)?;
		let device = self.device.open()?;
		Ok(crate::model::open(&self.model, &device)?)
	}
}
