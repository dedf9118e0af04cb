//! `gonka-worker`: the host's process.
//!
//! - [`catalog`]: the models a worker knows how to obtain offline, and their digests;
//! - [`model`]: a llama-family forward pass on candle that returns the logits of every
//!   position and exposes the hidden state after every layer (PoC needs the hook, replay
//!   scoring needs every position);
//! - [`tokenizer`]: the BPE tokenizer rebuilt from the GGUF's own vocabulary and merges,
//!   and the chat template;
//! - [`sampler`]: the seeded, replayable sampler;
//! - [`score`]: replay scoring of another executor's completion;
//! - [`generate`]: local generation with a KV cache;
//! - [`poc`]: Proof of Compute artifacts;
//! - [`duty`]: the host's duties on chain (inference and PoC) as job logic over chain,
//!   model and peer traits, with journals on disk that survive restarts, and the PoC
//!   proof server;
//! - [`run`]: `gonka-worker run`, the duties against a node;
//! - [`host`]: the `register`, `status` and `infer` commands;
//! - [`metrics`]: the worker's Prometheus metrics;
//! - [`watch`]: a network's progress, block by block, for people;
//! - `cheats` (`test-cheats` feature only): the model files a cheating host would run.
//!
//! CPU is the default device; the `cuda` feature runs the same code on a GPU.

pub mod catalog;
#[cfg(feature = "test-cheats")]
pub mod cheats;
pub mod config;
pub mod duty;
pub mod error;
pub mod generate;
pub mod host;
pub mod metrics;
pub mod model;
pub mod poc;
pub mod run;
pub mod sampler;
pub mod score;
pub mod tokenizer;
pub mod watch;

pub use error::{Error, Result};
