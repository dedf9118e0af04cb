//! `gonka-worker`: the host's process, by layer.
//!
//! - [`model`]: a llama-family forward pass on candle that returns the logits of every
//!   position and exposes the hidden state after every layer (PoC needs the hook, replay
//!   scoring needs every position), loading GGUF and safetensors models, and the GGUF
//!   surgery tools (requantize, prune layers);
//! - [`inference`]: the tokenizer and chat template, the seeded replayable sampler, local
//!   generation with a KV cache, and replay scoring of another executor's completion;
//! - [`poc`]: Proof of Compute artifacts;
//! - [`engine`]: the loaded model as the duties' engine (execute, replay, prove);
//! - [`duty`]: the host's duties on chain (inference and PoC) as job logic over chain,
//!   model and peer traits, with journals on disk that survive restarts;
//! - [`channel`]: inference channels off chain (`docs/channels.md`): the prompt format,
//!   the executor's and the developer's books of a channel, their journals;
//! - [`chain`]: the duties' chain over a node (`gonka-client`), signed with the worker key;
//! - [`gateway`]: the developer's gateway, an OpenAI-compatible HTTP API over channels;
//! - [`api`]: the servers: the PoC proof server (and its client) and the Prometheus
//!   metrics;
//! - [`cli`]: the commands (`run`, `register`, `status`, `infer`, `watch`, `generate`,
//!   `score`, `poc`, `model`, `key`), the only place `anyhow` is used;
//! - [`catalog`]: the models a worker knows how to obtain offline, and their digests;
//! - [`config`]: what `worker.toml` holds;
//! - [`error`]: the library's typed errors;
//! - `cheats` (`test-cheats` feature only, in the `gonka-worker-cheats` binary): the lazy
//!   executor of the end-to-end tests.
//!
//! CPU is the default device; the `cuda` feature runs the same code on a GPU.

pub mod api;
pub mod catalog;
pub mod chain;
pub mod channel;
#[cfg(feature = "test-cheats")]
pub mod cheats;
pub mod cli;
pub mod config;
pub mod duty;
pub mod engine;
pub mod error;
pub mod gateway;
pub mod inference;
pub mod model;
pub mod poc;

pub use error::{Error, Result};
