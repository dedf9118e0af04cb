//! `gonka-worker key generate`: a new worker key, its secret seed written to a file only
//! its owner can read (never over an existing one), its public key printed (`register`
//! registers it, with the key's proof of ownership).

use anyhow::Context;
use polkadot_sdk::sp_core::{crypto::Ss58Codec, sr25519, Pair};
use std::path::Path;

/// Writes a new key's seed to `out` and prints its public key (SS58, then hex).
pub fn generate(out: &Path) -> anyhow::Result<()> {
	let (pair, seed) = sr25519::Pair::generate();
	let mut options = std::fs::OpenOptions::new();
	options.write(true).create_new(true);
	#[cfg(unix)]
	std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
	let mut file = options
		.open(out)
		.with_context(|| format!("{}: not overwriting a key file", out.display()))?;
	std::io::Write::write_all(&mut file, format!("0x{}\n", hex::encode(seed)).as_bytes())?;
	println!("{}", pair.public().to_ss58check());
	println!("0x{}", hex::encode(pair.public().0));
	Ok(())
}
