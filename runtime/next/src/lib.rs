//! # The Gonka runtime, one version later
//!
//! `gonka-runtime` built with its `next-version` feature: the same code with `spec_version`
//! one higher. The upgrade tests (`node/tests/launch.rs`) authorize its wasm by a
//! compute-weighted proposal and apply it to a running chain, as a real upgrade would be.
//!
//! Natively this crate only carries the blob ([`WASM_BINARY`], `None` under
//! `SKIP_WASM_BUILD`); in its wasm build it is the runtime.

#![cfg_attr(not(feature = "std"), no_std)]

// The wasm build links the runtime, whose API functions the blob exports.
#[cfg(not(feature = "std"))]
pub use gonka_runtime::*;

// The blob built by `build.rs`.
#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));
