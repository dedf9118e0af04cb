//! The weights of the pallet's calls and of its epoch-start work: the `WeightInfo` trait
//! the runtime implements from the benchmarks (`runtime/src/weights/pallet_models.rs`).

use polkadot_sdk::frame_support::weights::Weight;

/// The weights of the pallet's calls and hooks, from its benchmarks.
pub trait WeightInfo {
	/// Registering a model.
	fn register_model() -> Weight;
	/// Updating a model's record.
	fn update_model() -> Weight;
	/// Retiring a model.
	fn retire_model() -> Weight;
	/// Setting governance's rules.
	fn set_governance_params() -> Weight;
	/// A proposal opened (its snapshot costs the same for any number of hosts).
	fn propose() -> Weight;
	/// A vote (the worst case: a changed vote).
	fn vote() -> Weight;
	/// Closing a proposal on which `n` hosts voted (the call's own weight apart).
	fn close(n: u32) -> Weight;
	/// Applying `n` scheduled registry changes at an epoch start.
	fn on_epoch_start(n: u32) -> Weight;
}

/// No weight at all: for tests, which check behaviour, not weights.
impl WeightInfo for () {
	fn register_model() -> Weight {
		Weight::zero()
	}
	fn update_model() -> Weight {
		Weight::zero()
	}
	fn retire_model() -> Weight {
		Weight::zero()
	}
	fn set_governance_params() -> Weight {
		Weight::zero()
	}
	fn propose() -> Weight {
		Weight::zero()
	}
	fn vote() -> Weight {
		Weight::zero()
	}
	fn close(_n: u32) -> Weight {
		Weight::zero()
	}
	fn on_epoch_start(_n: u32) -> Weight {
		Weight::zero()
	}
}
