//! `gonka-worker`: the host's command line. The commands live in [`gonka_worker::cli`].

use clap::Parser;
use gonka_worker::cli::{self, Cli};

fn main() -> anyhow::Result<()> {
	cli::init_logging();
	Cli::parse().run()
}
