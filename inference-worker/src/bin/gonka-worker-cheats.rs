//! `gonka-worker-cheats`: `gonka-worker` with the cheat modes of the `test-cheats` feature
//! (`[cheat]` in worker.toml), for the end-to-end tests that must catch them. Built only by
//! `scripts/env.sh`'s `gonka_build`, as a build of this package alone; never shipped.

use clap::Parser;
use gonka_worker::cli::{self, Cli};

fn main() -> anyhow::Result<()> {
	cli::init_logging();
	Cli::parse().run()
}
