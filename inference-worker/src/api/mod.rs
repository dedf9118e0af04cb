//! The worker's servers, each on a thread of its own so it answers while the duties'
//! thread computes: the PoC proof server other hosts' validators fetch from
//! ([`proofs`], JSON-RPC, with the validators' client), the channels' executor endpoint
//! served beside it ([`channels`]), and the Prometheus metrics' exporter ([`metrics`]).

pub mod channels;
pub mod metrics;
pub mod proofs;
