//! `gonka-node`: the Gonka parachain collator.
//!
//! A thin binary over the Polkadot SDK's `polkadot-omni-node-lib`, which provides collator
//! mode (with an embedded or external relay chain client), the relay-free `--dev` mode and
//! the standard subcommands. What this crate adds:
//!
//! - the chains it knows by name, built from the runtime's genesis presets with the runtime
//!   wasm embedded in this binary ([`chain_spec`]);
//! - a fixed runtime resolver (Aura with sr25519 keys, `u32` block numbers), so that starting
//!   the node does not first have to execute the runtime to inspect its metadata.

mod chain_spec;

use polkadot_sdk::polkadot_omni_node_lib::{
	chain_spec::ChainSpec,
	run,
	runtime::{AuraConsensusId, BlockNumber, Consensus, Runtime, RuntimeResolver},
	CliConfig, RunConfig,
};

/// Names, versions and links shown by `--help` and `--version`.
struct GonkaCli;

impl CliConfig for GonkaCli {
	fn impl_version() -> String {
		env!("CARGO_PKG_VERSION").to_string()
	}

	fn author() -> String {
		env!("CARGO_PKG_AUTHORS").to_string()
	}

	fn support_url() -> String {
		format!("{}/issues", env!("CARGO_PKG_REPOSITORY"))
	}

	fn copyright_start_year() -> u16 {
		2026
	}
}

/// Every chain this binary runs uses the Gonka runtime: Aura with sr25519 authority keys
/// and `u32` block numbers.
struct GonkaRuntimeResolver;

impl RuntimeResolver for GonkaRuntimeResolver {
	fn runtime(&self, _chain_spec: &dyn ChainSpec) -> polkadot_sdk::sc_cli::Result<Runtime> {
		Ok(Runtime::Omni(BlockNumber::U32, Consensus::Aura(AuraConsensusId::Sr25519)))
	}
}

// The error type is the SDK's `sc_cli::Error`, returned once, at exit.
#[allow(clippy::result_large_err)]
fn main() -> polkadot_sdk::sc_cli::Result<()> {
	let config =
		RunConfig::new(Box::new(GonkaRuntimeResolver), Box::new(chain_spec::GonkaChainSpecLoader));
	run::<GonkaCli>(config)
}
