//! The worker's Prometheus metrics, served at `http://<metrics_listen>/metrics` by the
//! Polkadot SDK's `substrate-prometheus-endpoint` (the collator's own exporter):
//!
//! | metric | type | what |
//! |---|---|---|
//! | `gonka_worker_poc_nonces_total` | counter | PoC nonces computed (nonces/s: its rate) |
//! | `gonka_worker_poc_commitments_total` | counter | PoC commitments the pool accepted |
//! | `gonka_worker_poc_verdicts_total{verdict}` | counter | other hosts' commitments judged `valid` / `invalid` in batches sent |
//! | `gonka_worker_tokens_total` | counter | completion tokens generated for results sent (tokens/s: its rate) |
//! | `gonka_worker_jobs_total{kind}` | counter | duties sent: `finish`, `validate`, `vote`, `missing` |
//! | `gonka_worker_failures_total{kind}` | counter | `refused` duties, `node` losses, `dropped` jobs |
//! | `gonka_worker_finalized_block` | gauge | the newest finalized block seen |
//! | `gonka_worker_chain_lag_blocks` | gauge | finalized blocks the inference duties have not handled yet |

use crate::{
	duty::{inference::Progress, poc::PocProgress},
	Error, Result,
};
use polkadot_sdk::substrate_prometheus_endpoint::{
	init_prometheus, register, Counter, CounterVec, Gauge, Opts, PrometheusError, Registry, U64,
};

/// The worker's metrics.
#[derive(Clone)]
pub struct Metrics {
	nonces: Counter<U64>,
	commitments: Counter<U64>,
	verdicts: CounterVec<U64>,
	tokens: Counter<U64>,
	jobs: CounterVec<U64>,
	failures: CounterVec<U64>,
	finalized: Gauge<U64>,
	lag: Gauge<U64>,
}

fn counter(name: &str, help: &str, registry: &Registry) -> Result<Counter<U64>, PrometheusError> {
	register(Counter::new(name, help)?, registry)
}

fn counters(
	name: &str,
	help: &str,
	label: &str,
	registry: &Registry,
) -> Result<CounterVec<U64>, PrometheusError> {
	register(CounterVec::new(Opts::new(name, help), &[label])?, registry)
}

fn gauge(name: &str, help: &str, registry: &Registry) -> Result<Gauge<U64>, PrometheusError> {
	register(Gauge::new(name, help)?, registry)
}

impl Metrics {
	/// The metrics, registered in `registry`.
	pub fn new(registry: &Registry) -> Result<Self, PrometheusError> {
		Ok(Self {
			nonces: counter("gonka_worker_poc_nonces_total", "PoC nonces computed", registry)?,
			commitments: counter(
				"gonka_worker_poc_commitments_total",
				"PoC commitments the pool accepted",
				registry,
			)?,
			verdicts: counters(
				"gonka_worker_poc_verdicts_total",
				"Other hosts' PoC commitments judged, by verdict",
				"verdict",
				registry,
			)?,
			tokens: counter(
				"gonka_worker_tokens_total",
				"Completion tokens generated for results sent",
				registry,
			)?,
			jobs: counters(
				"gonka_worker_jobs_total",
				"Inference duties sent, by kind",
				"kind",
				registry,
			)?,
			failures: counters(
				"gonka_worker_failures_total",
				"Refused duties, node losses and dropped jobs",
				"kind",
				registry,
			)?,
			finalized: gauge(
				"gonka_worker_finalized_block",
				"The newest finalized block seen",
				registry,
			)?,
			lag: gauge(
				"gonka_worker_chain_lag_blocks",
				"Finalized blocks the inference duties have not handled yet",
				registry,
			)?,
		})
	}

	/// Counts an inference step.
	pub fn inference(&self, progress: &Progress) {
		self.tokens.inc_by(progress.tokens);
		for (kind, count) in [
			("finish", progress.finished),
			("validate", progress.validated),
			("vote", progress.voted),
			("missing", progress.missing),
		] {
			self.jobs.with_label_values(&[kind]).inc_by(u64::from(count));
		}
		self.failures.with_label_values(&["refused"]).inc_by(u64::from(progress.refused));
		self.failures.with_label_values(&["dropped"]).inc_by(u64::from(progress.dropped));
	}

	/// Counts a PoC step.
	pub fn poc(&self, progress: &PocProgress) {
		self.nonces.inc_by(progress.computed);
		self.commitments.inc_by(u64::from(progress.committed));
		self.verdicts.with_label_values(&["valid"]).inc_by(u64::from(progress.judged_valid));
		self.verdicts.with_label_values(&["invalid"]).inc_by(u64::from(progress.judged_invalid));
	}

	/// Counts a lost node.
	pub fn node_lost(&self) {
		self.failures.with_label_values(&["node"]).inc();
	}

	/// The newest finalized block and the next block the inference duties will handle.
	pub fn chain(&self, finalized: u32, next_block: Option<u32>) {
		self.finalized.set(u64::from(finalized));
		let handled = next_block.map_or(finalized, |next| next.saturating_sub(1));
		self.lag.set(u64::from(finalized.saturating_sub(handled)));
	}
}

/// Serves `registry` at `http://<listen>/metrics` from a thread of its own.
pub fn serve(listen: &str, registry: Registry) -> Result<std::net::SocketAddr> {
	// Bound here first, so that a taken port is an error the operator sees at start.
	let address = std::net::TcpListener::bind(listen)
		.and_then(|listener| listener.local_addr())
		.map_err(|error| Error::Poc(format!("metrics: cannot listen on {listen}: {error}")))?;
	std::thread::Builder::new()
		.name("metrics".into())
		.spawn(move || {
			let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
			match runtime {
				Ok(runtime) => {
					if let Err(error) = runtime.block_on(init_prometheus(address, registry)) {
						tracing::error!(%address, %error, "the metrics server stopped");
					}
				}
				Err(error) => tracing::error!(%error, "the metrics server cannot start"),
			}
		})
		.map_err(Error::io("starting the metrics thread"))?;
	tracing::info!(%address, "serving metrics at /metrics");
	Ok(address)
}
