//! The weights of the runtime's own pallets, generated from their benchmarks on this
//! runtime's wasm by `scripts/benchmarks.sh` (never edited by hand; `docs/benchmarks.md`
//! reports them against the block limits).

pub mod pallet_channels;
pub mod pallet_inference;
pub mod pallet_models;
pub mod pallet_poc;
pub mod pallet_rewards;
