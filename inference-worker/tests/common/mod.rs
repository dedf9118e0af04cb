//! The default model's file for the integration tests: fetched once into
//! `$GONKA_MODEL_DIR` (default `~/.cache/gonka/models`) by `scripts/test.sh`, fetched here
//! if missing.

use gonka_worker::catalog::{self, SMOLLM2_135M};
use std::{path::PathBuf, sync::OnceLock};

/// The checked path of SmolLM2-135M-Instruct Q4_1.
pub fn model_path() -> PathBuf {
	static PATH: OnceLock<PathBuf> = OnceLock::new();
	PATH.get_or_init(|| {
		let dir = std::env::var_os("GONKA_MODEL_DIR").map(PathBuf::from).unwrap_or_else(|| {
			PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/gonka/models")
		});
		catalog::fetch(&SMOLLM2_135M, &dir).expect("the default model")
	})
	.clone()
}
