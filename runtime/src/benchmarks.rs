//! The pallets benchmarked on this runtime's wasm (`frame-omni-bencher`, run by
//! `scripts/benchmarks.sh`); the `Benchmark` runtime API in `apis` dispatches to them.

polkadot_sdk::frame_benchmarking::define_benchmarks!(
	[pallet_poc, crate::Poc]
	[pallet_models, crate::Models]
	[pallet_inference, crate::Inference]
	[pallet_rewards, crate::Rewards]
	[pallet_channels, crate::Channels]
);
