//! The weights of the pallet's calls, `authorize` rules and hook steps: the [`WeightInfo`]
//! trait, which the runtime implements with the weights generated from the benchmarks
//! (`benchmarking.rs`, `scripts/benchmarks.sh`), and zero weights for test runtimes.

use polkadot_sdk::frame_support::weights::Weight;

/// The weights of the pallet's calls and hooks. The runtime's implementation is generated
/// from the benchmarks (`scripts/benchmarks.sh`).
pub trait WeightInfo {
	fn register_host() -> Weight;
	fn update_host() -> Weight;
	fn leave() -> Weight;
	fn set_epoch_params() -> Weight;
	fn commit_poc() -> Weight;
	/// Validating a `commit_poc` transaction (its `authorize` rule).
	fn authorize_commit_poc() -> Weight;
	/// A batch of `n` verdicts.
	fn submit_poc_validations(n: u32) -> Weight;
	/// Validating a batch of `n` verdicts (its `authorize` rule).
	fn authorize_submit_poc_validations(n: u32) -> Weight;
	/// A step of the formation's judging: `n` commitments of one model judged, its roster
	/// and its executor roster of `MaxHosts` hosts read (in `on_initialize`, within
	/// `HookBudget`).
	fn form_weights(n: u32) -> Weight;
	/// A step of carrying the weights over: `n` chunks of the executor rosters read, each
	/// host's registration checked.
	fn carry_weights(n: u32) -> Weight;
	/// Removing a model's executor roster of `MaxRosterChunks` chunks (a model without a
	/// next roster), or checking one that has one.
	fn retire_roster() -> Weight;
	/// Putting a model's next executor roster of `MaxRosterChunks` chunks in force in place
	/// of one as long.
	fn install_roster() -> Weight;
	/// Capping the consensus weights of `n` hosts (they become the next powers).
	fn cap_weights(n: u32) -> Weight;
	/// A step of writing the next generation of voting power: `n` hosts' powers written,
	/// then the generation put in force.
	fn write_power(n: u32) -> Weight;
	/// A step of pruning an epoch that left the retention window: `n` records removed (in
	/// `on_initialize`, within `HookBudget`).
	fn prune_epoch(n: u32) -> Weight;
	/// A step of building the validation rosters: `n` commitments of one model added to its
	/// roster, which may hold `MaxHosts` hosts (in `on_initialize`, within `HookBudget`).
	fn open_validation(n: u32) -> Weight;
	/// `on_initialize` in a block that starts an epoch.
	fn on_initialize_epoch_start() -> Weight;
	/// `on_initialize` in any other block.
	fn on_initialize_idle() -> Weight;
	/// A step of pruning the generations of voting power no longer held: one generation no
	/// longer kept and `n` of its records removed (in `on_initialize`, within `HookBudget`).
	fn prune_power_generation(n: u32) -> Weight;
}

/// Zero weights, for test runtimes of other pallets that need PoC but not its weights.
impl WeightInfo for () {
	fn register_host() -> Weight {
		Default::default()
	}
	fn update_host() -> Weight {
		Default::default()
	}
	fn leave() -> Weight {
		Default::default()
	}
	fn set_epoch_params() -> Weight {
		Default::default()
	}
	fn commit_poc() -> Weight {
		Default::default()
	}
	fn authorize_commit_poc() -> Weight {
		Default::default()
	}
	fn submit_poc_validations(_n: u32) -> Weight {
		Default::default()
	}
	fn authorize_submit_poc_validations(_n: u32) -> Weight {
		Default::default()
	}
	fn form_weights(_n: u32) -> Weight {
		Default::default()
	}
	fn carry_weights(_n: u32) -> Weight {
		Default::default()
	}
	fn retire_roster() -> Weight {
		Default::default()
	}
	fn install_roster() -> Weight {
		Default::default()
	}
	fn cap_weights(_n: u32) -> Weight {
		Default::default()
	}
	fn write_power(_n: u32) -> Weight {
		Default::default()
	}
	fn prune_epoch(_n: u32) -> Weight {
		Default::default()
	}
	fn open_validation(_n: u32) -> Weight {
		Default::default()
	}
	fn on_initialize_epoch_start() -> Weight {
		Default::default()
	}
	fn on_initialize_idle() -> Weight {
		Default::default()
	}
	fn prune_power_generation(_n: u32) -> Weight {
		Default::default()
	}
}
