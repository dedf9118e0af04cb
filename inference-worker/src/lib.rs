//! `gonka-worker`: the host's process. This crate holds everything that needs the model
//! and nothing that needs the chain:
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
//! - [`poc`]: Proof of Compute artifacts.
//!
//! CPU is the default device; the `cuda` feature runs the same code on a GPU.

pub mod catalog;
pub mod error;
pub mod generate;
pub mod model;
pub mod poc;
pub mod sampler;
pub mod score;
pub mod tokenizer;

pub use error::{Error, Result};
