//! The weights of the pallet's calls and hooks: the `WeightInfo` trait the runtime
//! implements from the benchmarks (`scripts/benchmarks.sh` writes
//! `runtime/src/weights/pallet_rewards.rs`), and zero weights for test runtimes.

use polkadot_sdk::frame_support::weights::Weight;

/// The weights of the pallet's calls and hooks. The runtime's implementation is generated
/// from the benchmarks (`scripts/benchmarks.sh`).
pub trait WeightInfo {
	/// The `bond` call.
	fn bond() -> Weight;
	/// The `unbond` call.
	fn unbond() -> Weight;
	/// The `withdraw_unbonded` call.
	fn withdraw_unbonded() -> Weight;
	/// The `claim` call.
	fn claim() -> Weight;
	/// The `spend_from_pool` call.
	fn spend_from_pool() -> Weight;
	/// The `set_params` call.
	fn set_params() -> Weight;
	/// The `set_curve` call.
	fn set_curve() -> Weight;
	/// Recording a formation of `n` hosts.
	fn weights_formed(n: u32) -> Weight;
	/// Deciding one host's share in its worst case: the downtime test at its most work,
	/// then paid into a full vesting state (its weight record's drain is added by the
	/// pallet).
	fn distribute_host() -> Weight;
	/// Deciding one host that was INVALID and down: its share withheld, its collateral
	/// slashed for both reasons.
	fn distribute_host_slashed() -> Weight;
	/// Closing an epoch's distribution: the remainder minted to the pool.
	fn close_epoch() -> Weight;
	/// `on_initialize` with nothing to distribute.
	fn on_initialize_idle() -> Weight;
}

/// Zero weights, for test runtimes.
impl WeightInfo for () {
	fn bond() -> Weight {
		Weight::zero()
	}
	fn unbond() -> Weight {
		Weight::zero()
	}
	fn withdraw_unbonded() -> Weight {
		Weight::zero()
	}
	fn claim() -> Weight {
		Weight::zero()
	}
	fn spend_from_pool() -> Weight {
		Weight::zero()
	}
	fn set_params() -> Weight {
		Weight::zero()
	}
	fn set_curve() -> Weight {
		Weight::zero()
	}
	fn weights_formed(_n: u32) -> Weight {
		Weight::zero()
	}
	fn distribute_host() -> Weight {
		Weight::zero()
	}
	fn distribute_host_slashed() -> Weight {
		Weight::zero()
	}
	fn close_epoch() -> Weight {
		Weight::zero()
	}
	fn on_initialize_idle() -> Weight {
		Weight::zero()
	}
}
