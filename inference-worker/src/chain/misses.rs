//! The executor's reports of its settlements' lazy validators (`docs/channels.md`, "Lazy
//! validators"; the rules are [`crate::channel::misses`]), on a thread of its own with its
//! own connection: it follows finalized blocks for this host's settlements
//! (`ChannelSettled`), asks the chain, from the block after each, which samples it draws
//! every registered host for (`samples_for`) and journals the draws; in the verdict period
//! two after a settlement's, it shows each validator that answered nothing of that period
//! missed (`report_missed_samples`), at most `MAX_MISS_REPORTS` reports a poll (the chain's
//! `MaxMissReportsPerBlock`).
//!
//! A report the chain refuses (the validator answered, the samples were shown by another
//! reporter first) is sent again only once the validator's mark changed (another report's
//! samples landed: what is left gets a new place in the pool); the next block to follow is
//! journaled, so a restart carries on where it stopped.

use super::{chain, unexpected};
use crate::{
	channel::misses::{missed, Drawn, Mark, MissBook},
	duty::SubmitError,
};
use gonka_client::{ChainClient, ChannelSettled, PeriodMarkView};
use gonka_primitives::{channel::SettlementId, HostId};
use polkadot_sdk::sp_core::sr25519;
use std::{collections::BTreeMap, path::PathBuf, time::Duration};

/// The most reports sent a poll: the chain takes as many a block.
pub const MAX_MISS_REPORTS: usize = 8;

/// What the reporter's thread holds.
pub struct MissReporter {
	/// The host.
	pub host: HostId,
	/// Its worker key.
	pub worker_key: sr25519::Pair,
	/// Its journals' directory.
	pub dir: PathBuf,
}

/// Runs `reporter`'s duty against the node at `node` on a thread of its own, reconnecting
/// with a backoff, polling every `poll`.
pub fn report(node: String, reporter: MissReporter, poll: Duration) -> std::io::Result<()> {
	let state = (node, reporter);
	super::on_thread(
		"channel-misses",
		"the channels' miss reporter",
		state,
		move |(node, reporter)| Box::pin(run(node.as_str(), &*reporter, poll)),
	)
}

/// (period, validator) → the samples shown before when this reporter last sent its report.
type Sent = BTreeMap<(u32, HostId), usize>;

async fn run(
	node: &str,
	reporter: &MissReporter,
	poll: Duration,
) -> Result<(), gonka_client::Error> {
	let client = ChainClient::connect(node).await?;
	let length = client.verdict_period().await?.max(1);
	let mut book = MissBook::open(&reporter.dir).map_err(unexpected)?;
	let head = client.block_number().await?;
	// A settlement's draws show until its window closes (the end of the period after its
	// own): after an outage, the blocks of the period before the head's on.
	let oldest = (head / length).saturating_sub(1).saturating_mul(length);
	let mut next = super::read_next(&reporter.dir).map_or(head, |next| next.max(oldest));
	let mut sent = Sent::new();
	loop {
		let finalized = client.block_number().await?;
		// A settlement's draws show from the block after its own.
		while next < finalized {
			follow(&client, reporter, &mut book, next, length).await?;
			next = next.saturating_add(1);
			super::write_next(&reporter.dir, next).map_err(unexpected)?;
		}
		let now = finalized / length;
		for period in book.periods() {
			if now > period.saturating_add(2) {
				book.forget(period).map_err(unexpected)?;
				sent.retain(|(of, _), _| *of != period);
			} else if now == period.saturating_add(2) {
				report_period(&client, reporter, &book, period, &mut sent).await?;
			}
		}
		tokio::time::sleep(poll).await;
	}
}

/// Notes the draws of this host's settlements included in block `number`.
async fn follow(
	client: &ChainClient,
	reporter: &MissReporter,
	book: &mut MissBook,
	number: u32,
	length: u32,
) -> Result<(), gonka_client::Error> {
	let at = client.api().at_block(u64::from(number)).await.map_err(chain)?;
	let events = at.events().fetch().await.map_err(chain)?;
	let me = *AsRef::<[u8; 32]>::as_ref(&reporter.host);
	let mut hosts = None;
	for settled in events.find::<ChannelSettled>() {
		let settled = settled.map_err(chain)?;
		let period = number / length;
		if settled.executor.0 != me || book.has(period, settled.settlement) {
			continue;
		}
		// The channel's model: a validator that does not serve it misses none of its
		// samples (the chain refuses a report that shows one: `NotServing`).
		let model = client.channel_at(settled.channel, Some(number)).await?.map(|c| c.terms.model);
		if hosts.is_none() {
			hosts = Some(client.hosts().await?);
		}
		let mut by = Vec::new();
		for validator in hosts.iter().flatten().filter(|host| **host != reporter.host) {
			let serves = client
				.poc_host(validator)
				.await?
				.is_some_and(|view| model.is_some_and(|model| view.models.contains(&model)));
			if !serves {
				continue;
			}
			let samples = client.samples_for(settled.settlement, validator).await?;
			if !samples.is_empty() {
				by.push((
					validator.clone(),
					samples.into_iter().map(|(sample, _)| sample).collect(),
				));
			}
		}
		book.note(period, Drawn { settlement: settled.settlement, by }).map_err(unexpected)?;
	}
	Ok(())
}

/// Whether the pool's answer says the report is already there, or one in its place (the
/// same validator's report of the period by another executor): `1012`–`1014` (already
/// imported, a temporary ban of what was just imported, priority too low). Not a lost node.
fn pending(reason: &str) -> bool {
	["1012", "1013", "1014", "priority is too low", "already imported", "temporarily banned"]
		.iter()
		.any(|code| reason.to_lowercase().contains(code))
}

/// Sends the reports of verdict period `period`'s misses (in the period two after it).
async fn report_period(
	client: &ChainClient,
	reporter: &MissReporter,
	book: &MissBook,
	period: u32,
	sent: &mut Sent,
) -> Result<(), gonka_client::Error> {
	let mut answers: BTreeMap<SettlementId, Option<Vec<u8>>> = BTreeMap::new();
	let mut reports = 0;
	for (validator, drawn) in book.drawn(period) {
		if reports >= MAX_MISS_REPORTS {
			break;
		}
		let mark = match client.period_mark(period, &validator).await? {
			None => Mark::None,
			Some(PeriodMarkView::Answered) => Mark::Answered,
			Some(PeriodMarkView::Reported(before)) => Mark::Reported(before),
		};
		let before = match &mark {
			Mark::Reported(before) => before.len(),
			_ => 0,
		};
		if sent.get(&(period, validator.clone())) == Some(&before) {
			continue;
		}
		for (settlement, _) in &drawn {
			if !answers.contains_key(settlement) {
				answers.insert(*settlement, client.settlement_answers(*settlement).await?);
			}
		}
		// A record pruned shows nothing: its samples count as answered.
		let answered = |settlement: SettlementId, sample: u32| {
			answers
				.get(&settlement)
				.and_then(Option::as_ref)
				.is_none_or(|bits| gonka_client::is_answered(bits, sample))
		};
		let Some(report) = missed(period, &validator, &drawn, &mark, answered) else {
			sent.insert((period, validator), before);
			continue;
		};
		reports += 1;
		let shown = report.samples.len();
		let outcome = super::submitted(
			client.report_missed_samples(&reporter.host, &report, &reporter.worker_key).await,
		);
		match outcome {
			Ok(()) => {
				tracing::info!(period, %validator, samples = shown, "reported a validator's missed samples")
			}
			Err(SubmitError::Refused(reason)) => {
				tracing::info!(period, %validator, %reason, "a report of missed samples was refused")
			}
			Err(SubmitError::Unavailable(reason)) if pending(&reason) => {
				tracing::info!(period, %validator, %reason, "a report of the validator's misses is pending")
			}
			Err(SubmitError::Unavailable(reason)) => return Err(unexpected(reason)),
		}
		sent.insert((period, validator), before);
	}
	Ok(())
}
