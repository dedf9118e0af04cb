//! `gonka-worker`: the host's command line. The commands live in [`gonka_worker::cli`].

use clap::Parser;
use gonka_worker::cli::{self, Cli};

fn main() -> anyhow::Result<()> {
	// The cheating worker's build (`test-cheats`, `gonka-worker-cheats`) also links this
	// binary; left in target/ by an interrupted `gonka_build`, it must not run as the
	// honest worker.
	if cfg!(feature = "test-cheats") {
		anyhow::bail!(
			"this gonka-worker was built with the test-cheats feature; rebuild it \
			 (`source scripts/env.sh && gonka_build`), or run gonka-worker-cheats for a test"
		);
	}
	cli::init_logging();
	Cli::parse().run()
}
