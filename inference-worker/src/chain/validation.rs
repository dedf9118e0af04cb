//! The validator's duty over channels (`docs/channels.md`, "Validation off chain"), on a
//! thread of its own with its own connection: it follows finalized blocks for
//! settlements (`ChannelSettled`) of other hosts, asks the chain which of their samples
//! it is drawn for (`samples_for`, from the block after the settlement's), fetches each
//! sample's payload from the executor's endpoint (`channel_payload`, signed with its
//! worker key; asked again at every poll until the window nears its end), checks it
//! against the settlement ([`check_delivery`]), acknowledges it (`channel_ack`), replays
//! it (one replay a poll: what is due is sent between replays) and answers in the verdict
//! window: passes in parts (`submit_verdicts`), failures with their receipt
//! (`report_failure`), a payload asked for and never served as unavailable.
//!
//! **Juries**: for each dispute another host opened (`DisputeOpened`: a validator's
//! mismatch or unavailable payload, or a developer's challenge, whose `sample` is the
//! receipt's leaf: `Checks::Leaf`), it asks the chain whether it sits on the jury
//! (`sits_on`, from the block after the report's); if so, it fetches the payload as a
//! juror (`PayloadAccess` naming the dispute; the executor serves a challenged leaf with
//! its proof), checks and replays it, and votes (`vote_receipt`): invalid if the replay
//! fails, the payload does not match its receipt, or the executor never served it before
//! the jury's window nears its end (an unavailable payload's and a challenge's window is
//! the long one, `FailReason::long_window`: an executor briefly offline serves it when
//! back).
//!
//! Its book ([`ValidatorBook`]) and the next block to follow are journaled under its
//! directory, so a restart carries on where it stopped: nothing decided is replayed
//! again, nothing sent is sent again (and a duty the chain refuses is not retried).
//!
//! [`check_delivery`]: crate::channel::validator::check_delivery

use super::{chain, unexpected};
use crate::{
	api::channels::{ExecutorClient, GateFuture, KeyFuture, SampleGate, SampleGrant},
	channel::{
		executor::SignedAck,
		validator::{
			check_delivery, delivery_ack, judge, verdicts, Checked, Checks, Due, Jury, Replayer,
			SettlementInfo, ValidatorBook,
		},
	},
	duty::SubmitError,
	Error,
};
use codec::{Decode, Encode};
use gonka_client::{ChainClient, ChannelSettled, DisputeOpened, SettlementView};
use gonka_primitives::{
	channel::{
		sample_of, sample_seed, tree_samples, Anchor, ChannelId, ChannelMessage, DisputeId,
		FailReason, FailureReport, PayloadAccess, ReceiptVerdicts, ReceiptVote, SampleOf,
		SettlementId,
	},
	duty::Duty,
	HostId, ModelId, H256,
};
use polkadot_sdk::{sp_arithmetic::Perbill, sp_core::sr25519};
use std::{
	collections::BTreeMap,
	path::PathBuf,
	sync::{Arc, Mutex},
	time::Duration,
};

/// The blocks before a verdict window's end at which passes are sent and payloads never
/// served are reported unavailable, whatever is still pending: room for the duties to be
/// included before the window closes.
pub const MARGIN: u32 = 10;

/// What the validator's thread holds.
pub struct ChannelValidator {
	/// The host.
	pub host: HostId,
	/// Its worker key.
	pub worker_key: sr25519::Pair,
	/// The model it replays with.
	pub replayer: Arc<dyn Replayer>,
	/// Its journal's directory.
	pub dir: PathBuf,
}

/// Runs `validator`'s duty against the node at `node` on a thread of its own,
/// reconnecting with a backoff, polling every `poll`.
pub fn validate(node: String, validator: ChannelValidator, poll: Duration) -> std::io::Result<()> {
	let state = (node, validator);
	super::on_thread(
		"channel-validator",
		"the channels' validator",
		state,
		move |(node, validator)| Box::pin(run(node.as_str(), &*validator, poll)),
	)
}

async fn run(
	node: &str,
	validator: &ChannelValidator,
	poll: Duration,
) -> Result<(), gonka_client::Error> {
	let client = ChainClient::connect(node).await?;
	let period = client.verdict_period().await?;
	let mut book =
		ValidatorBook::open(&validator.dir, period, MARGIN.min(period / 2)).map_err(unexpected)?;
	let windows = client.jury_windows().await?;
	let head = client.block_number().await?;
	// Nothing older than two verdict periods and the longest jury can still be answered
	// (and a node keeps the state of recent blocks only): after a long outage the
	// validator starts there.
	let oldest = head.saturating_sub(period.saturating_mul(2).saturating_add(windows.1));
	let mut next = super::read_next(&validator.dir).map_or(head, |next| next.max(oldest));
	let mut thresholds = Thresholds::default();
	loop {
		let finalized = client.block_number().await?;
		while next <= finalized {
			follow(&client, validator, &mut book, next, windows).await?;
			next = next.saturating_add(1);
			super::write_next(&validator.dir, next).map_err(unexpected)?;
		}
		draw(&client, validator, &mut book, finalized).await?;
		check(&client, validator, &mut book, &mut thresholds).await?;
		// Fetches and replays take time: what is due is judged at the block now.
		let finalized = client.block_number().await?;
		book.give_up(finalized).map_err(unexpected)?;
		send(&client, validator, &mut book, finalized).await?;
		sit(&client, validator, &mut book, finalized).await?;
		deliberate(&client, validator, &mut book, &mut thresholds, finalized).await?;
		book.prune(finalized).map_err(unexpected)?;
		tokio::time::sleep(poll).await;
	}
}

/// Notes the settlements of other hosts and the validators' disputes included in block
/// `number` (`windows`: the chain's jury windows).
async fn follow(
	client: &ChainClient,
	validator: &ChannelValidator,
	book: &mut ValidatorBook,
	number: u32,
	windows: (u32, u32),
) -> Result<(), gonka_client::Error> {
	let at = client.api().at_block(u64::from(number)).await.map_err(chain)?;
	let events = at.events().fetch().await.map_err(chain)?;
	let me = *AsRef::<[u8; 32]>::as_ref(&validator.host);
	for event in events.iter() {
		let event = event.map_err(chain)?;
		if event.pallet_name() != "Channels" {
			continue;
		}
		if let Some(settled) = event.decode_fields_as::<ChannelSettled>() {
			let settled = settled.map_err(chain)?;
			if settled.executor.0 != me {
				book.seen(settled.settlement, number).map_err(unexpected)?;
			}
		} else if let Some(opened) = event.decode_fields_as::<DisputeOpened>() {
			let opened = opened.map_err(chain)?;
			// An unavailable payload's and a developer's challenge vote for the long window.
			let window = if opened.reason.0.long_window() { windows.1 } else { windows.0 };
			if opened.reporter.0 != me {
				let ends = number.saturating_add(window);
				book.dispute_seen(opened.dispute, number, ends).map_err(unexpected)?;
			}
		}
	}
	Ok(())
}

/// The chain's validation threshold of each model, read once.
#[derive(Default)]
struct Thresholds(BTreeMap<ModelId, f64>);

impl Thresholds {
	async fn of(
		&mut self,
		client: &ChainClient,
		model: ModelId,
	) -> Result<Option<f64>, gonka_client::Error> {
		if let Some(threshold) = self.0.get(&model) {
			return Ok(Some(*threshold));
		}
		let Some(view) = client.model(model).await? else { return Ok(None) };
		let threshold = f64::from(view.validation_threshold.deconstruct()) / 1e9;
		self.0.insert(model, threshold);
		Ok(Some(threshold))
	}
}

/// A settlement with nothing for this validator (its record gone, or of a model it does
/// not serve): noted drawn with no sample.
fn nothing(settlement: SettlementId, at: u32) -> SettlementInfo {
	SettlementInfo {
		settlement,
		channel: 0,
		executor: HostId::new([0; 32]),
		at,
		seed: H256::zero(),
		root: H256::zero(),
		count: 0,
		from: 0,
		to: 0,
		receipts: 0,
		target: Default::default(),
		tail: 0,
		tails: H256::zero(),
		model: 0,
		channel_key: sr25519::Public::from_raw([0; 32]),
		price: 0,
		template_overhead: 0,
	}
}

/// Draws the samples of every settlement seen in a block before `finalized`.
async fn draw(
	client: &ChainClient,
	validator: &ChannelValidator,
	book: &mut ValidatorBook,
	finalized: u32,
) -> Result<(), gonka_client::Error> {
	for (settlement, at) in book.undrawn() {
		if at >= finalized {
			continue;
		}
		let read = match settlement_info(client, settlement).await {
			Ok(read) => read,
			Err(error) => {
				tracing::warn!(settlement, %error, "cannot read a settlement (asked again)");
				continue;
			}
		};
		let (info, samples) = match read {
			Some((info, _)) if validator.replayer.serves(info.model) => {
				let samples = client.samples_for(settlement, &validator.host).await?;
				(info, samples)
			}
			_ => (nothing(settlement, at), Vec::new()),
		};
		if !samples.is_empty() {
			tracing::info!(settlement, samples = samples.len(), "drawn to validate a settlement");
		}
		book.drawn(info, samples).map_err(unexpected)?;
	}
	Ok(())
}

/// A settlement as its validators check it: its record, and its channel at its block.
pub async fn settlement_info(
	client: &ChainClient,
	settlement: SettlementId,
) -> Result<Option<(SettlementInfo, SettlementView)>, gonka_client::Error> {
	let Some(record) = client.settlement(settlement).await? else { return Ok(None) };
	let Some(channel) = client.channel_at(record.channel, Some(record.at)).await? else {
		return Ok(None);
	};
	let hash = client.block_hash(record.at).await?;
	let info = SettlementInfo {
		settlement,
		channel: record.channel,
		executor: record.executor.clone(),
		at: record.at,
		seed: sample_seed(&client.genesis_hash(), &hash, settlement),
		root: record.root,
		count: record.count,
		from: record.from,
		to: record.to,
		receipts: record.receipts,
		target: record.target,
		tail: record.tail,
		tails: record.tails,
		model: channel.terms.model,
		channel_key: channel.terms.channel_key,
		price: channel.price,
		template_overhead: channel.template_overhead,
	};
	Ok(Some((info, record)))
}

/// Fetches and checks the pending samples, and replays the first one served: one replay a
/// poll, so that what is due (passes near the window's end, failures) is sent between
/// replays rather than after all of them.
async fn check(
	client: &ChainClient,
	validator: &ChannelValidator,
	book: &mut ValidatorBook,
	thresholds: &mut Thresholds,
) -> Result<(), gonka_client::Error> {
	let genesis = client.genesis_hash();
	let mut executors = Executors::default();
	for (info, sample, what) in book.pending() {
		let Some(threshold) = thresholds.of(client, info.model).await? else {
			tracing::warn!(model = info.model, "no such model on chain: its samples are skipped");
			book.skip(&info, sample).map_err(unexpected)?;
			continue;
		};
		let Some(executor) = executors.get(client, &info.executor).await? else {
			// No endpoint, or none that answers: asked for and not served.
			book.not_served(info.settlement, sample);
			continue;
		};
		let access = PayloadAccess {
			settlement: info.settlement,
			sample,
			validator: validator.host.clone(),
			dispute: None,
		};
		let signature = access.sign(&genesis, &validator.worker_key);
		let delivery = match fetch(executor, &access, &signature).await {
			Ok(delivery) => delivery,
			Err(error) => {
				tracing::info!(settlement = info.settlement, sample, %error, "no payload yet");
				book.not_served(info.settlement, sample);
				continue;
			}
		};
		let mut replayed = false;
		let failure = match check_delivery(&genesis, &info, what, &delivery) {
			Checked::NotTheSample => {
				tracing::warn!(
					settlement = info.settlement,
					sample,
					"the payload served is not the sample's"
				);
				book.not_served(info.settlement, sample);
				continue;
			}
			Checked::Mismatch(evidence, why) => Some((evidence, why.to_string())),
			Checked::Sample(evidence) => {
				let ack = delivery_ack(&info, sample, &evidence);
				let signed = SignedAck {
					validator: validator.host.clone(),
					signature: ack.sign(&genesis, &validator.host, &validator.worker_key),
					ack,
				};
				if let Err(error) = executor.ack(&signed).await {
					tracing::info!(settlement = info.settlement, sample, %error, "the acknowledgement was not kept");
				}
				replayed = true;
				match judge(validator.replayer.as_ref(), &delivery, threshold) {
					Ok(judged) => judged.map(|why| (evidence, why)),
					// The validator's own failure, not the executor's: left unanswered.
					Err(error) => {
						tracing::error!(settlement = info.settlement, sample, %error, "cannot replay a sample: skipped");
						book.skip(&info, sample).map_err(unexpected)?;
						return Ok(());
					}
				}
			}
		};
		match failure {
			None => {
				tracing::info!(settlement = info.settlement, sample, "a sample passed");
				book.pass(&info, sample).map_err(unexpected)?;
			}
			Some((evidence, why)) => {
				tracing::warn!(settlement = info.settlement, sample, %why, "a sample failed");
				let report = FailureReport {
					settlement: info.settlement,
					anchor: Anchor { number: 0, hash: H256::zero() },
					sample,
					reason: FailReason::Mismatch,
					evidence: Some(evidence),
				};
				book.fail(&info, report).map_err(unexpected)?;
			}
		}
		if replayed {
			break;
		}
	}
	Ok(())
}

/// How long a validator or juror waits for one payload: an executor that answers slowly
/// does not hold up the other samples (it is asked again at the next poll).
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

async fn fetch(
	executor: &ExecutorClient,
	access: &PayloadAccess,
	signature: &sr25519::Signature,
) -> Result<crate::channel::executor::Delivery, String> {
	match tokio::time::timeout(FETCH_TIMEOUT, executor.payload(access, signature)).await {
		Ok(Ok(delivery)) => Ok(delivery),
		Ok(Err(error)) => Err(error.to_string()),
		Err(_) => Err(format!("no answer within {FETCH_TIMEOUT:?}")),
	}
}

/// Connections to executors' endpoints, for one poll.
#[derive(Default)]
struct Executors(BTreeMap<HostId, Option<ExecutorClient>>);

impl Executors {
	async fn get(
		&mut self,
		client: &ChainClient,
		executor: &HostId,
	) -> Result<Option<&ExecutorClient>, gonka_client::Error> {
		if !self.0.contains_key(executor) {
			let endpoint = client.poc_host(executor).await?.map(|host| host.endpoint);
			let connected = match endpoint {
				Some(endpoint) => ExecutorClient::connect(&endpoint).await.ok(),
				None => None,
			};
			self.0.insert(executor.clone(), connected);
		}
		Ok(self.0.get(executor).and_then(Option::as_ref))
	}
}

/// Looks up the juries of the disputes seen before `finalized`.
async fn sit(
	client: &ChainClient,
	validator: &ChannelValidator,
	book: &mut ValidatorBook,
	finalized: u32,
) -> Result<(), gonka_client::Error> {
	for (dispute, at, ends) in book.undecided_disputes() {
		if at >= finalized {
			continue;
		}
		match jury(client, validator, book, dispute, ends).await? {
			Some(jury) => {
				tracing::info!(dispute, settlement = jury.info.settlement, "sits on a jury");
				book.sit(jury).map_err(unexpected)?;
			}
			None => book.voted(dispute).map_err(unexpected)?,
		}
	}
	Ok(())
}

/// The jury of `dispute` if this host sits on it and can judge it. The settlement is the
/// one this validator noted when it was included (the chain shows a settlement only while
/// its window is open; a jury runs past it), else the chain's. `ends`: the last block its
/// jury votes in, noted when the dispute was seen.
async fn jury(
	client: &ChainClient,
	validator: &ChannelValidator,
	book: &ValidatorBook,
	dispute: DisputeId,
	ends: u32,
) -> Result<Option<Jury>, gonka_client::Error> {
	let Some(record) = client.dispute(dispute).await? else { return Ok(None) };
	if !client.sits_on(dispute, &validator.host).await? {
		return Ok(None);
	}
	let info = match book.info(record.settlement) {
		Some(info) => info,
		None => match settlement_info(client, record.settlement).await? {
			Some((info, _)) => info,
			None => {
				tracing::warn!(dispute, "sits on a jury whose settlement it never saw");
				return Ok(None);
			}
		},
	};
	if !validator.replayer.serves(info.model) {
		return Ok(None);
	}
	// A developer's challenge names its leaf (`sample` is its `seq`), a report its sample.
	let counts = (info.count, info.tail);
	let what = Checks::of_dispute(record.reason, record.sample, counts, |s| info.sample_of(s));
	let Some(what) = what else { return Ok(None) };
	Ok(Some(Jury { dispute, info, sample: record.sample, what, reason: record.reason, ends }))
}

/// Judges each jury's payload and votes: once judged, or as unavailable when the window
/// nears its end without it.
async fn deliberate(
	client: &ChainClient,
	validator: &ChannelValidator,
	book: &mut ValidatorBook,
	thresholds: &mut Thresholds,
	finalized: u32,
) -> Result<(), gonka_client::Error> {
	let genesis = client.genesis_hash();
	let mut executors = Executors::default();
	for jury in book.juries() {
		if finalized > jury.ends {
			book.voted(jury.dispute).map_err(unexpected)?;
			continue;
		}
		let Some(threshold) = thresholds.of(client, jury.info.model).await? else {
			book.voted(jury.dispute).map_err(unexpected)?;
			continue;
		};
		let judged = match executors.get(client, &jury.info.executor).await? {
			Some(executor) => judge_as_juror(executor, validator, &jury, &genesis, threshold).await,
			None => Judged::NotServed,
		};
		let invalid = match judged {
			Judged::Invalid(invalid) => invalid,
			Judged::Abstain => {
				book.voted(jury.dispute).map_err(unexpected)?;
				continue;
			}
			// Never served: invalid once the window nears its end.
			Judged::NotServed if finalized.saturating_add(MARGIN) >= jury.ends => true,
			Judged::NotServed => continue,
		};
		let vote = ReceiptVote {
			dispute: jury.dispute,
			anchor: Anchor { number: finalized, hash: client.block_hash(finalized).await? },
			settlement: jury.info.settlement,
			sample: jury.sample,
			invalid,
		};
		let sent = client.vote_receipt(&validator.host, &vote, &validator.worker_key).await;
		if done(super::submitted(sent), "vote_receipt").map_err(unexpected)? {
			tracing::info!(dispute = jury.dispute, invalid, "voted on a dispute");
		}
		book.voted(jury.dispute).map_err(unexpected)?;
	}
	Ok(())
}

/// A juror's judgement of the disputed sample's payload.
async fn judge_as_juror(
	executor: &ExecutorClient,
	validator: &ChannelValidator,
	jury: &Jury,
	genesis: &H256,
	threshold: f64,
) -> Judged {
	let access = PayloadAccess {
		settlement: jury.info.settlement,
		sample: jury.sample,
		validator: validator.host.clone(),
		dispute: Some(jury.dispute),
	};
	let signature = access.sign(genesis, &validator.worker_key);
	let delivery = match fetch(executor, &access, &signature).await {
		Ok(delivery) => delivery,
		Err(error) => {
			tracing::info!(dispute = jury.dispute, %error, "no payload for the jury yet");
			return Judged::NotServed;
		}
	};
	match check_delivery(genesis, &jury.info, jury.what, &delivery) {
		Checked::NotTheSample => Judged::NotServed,
		Checked::Mismatch(_, why) => {
			tracing::info!(
				dispute = jury.dispute,
				why,
				"the disputed payload does not match its receipt"
			);
			Judged::Invalid(true)
		}
		Checked::Sample(_) => match judge(validator.replayer.as_ref(), &delivery, threshold) {
			Ok(judged) => {
				if let Some(why) = &judged {
					tracing::info!(dispute = jury.dispute, %why, "the disputed receipt fails its replay");
				}
				Judged::Invalid(judged.is_some())
			}
			Err(error) => {
				tracing::error!(dispute = jury.dispute, %error, "cannot replay: abstains");
				Judged::Abstain
			}
		},
	}
}

/// A juror's judgement.
enum Judged {
	/// Whether the receipt is invalid.
	Invalid(bool),
	/// Nothing that is the sample's was served (yet).
	NotServed,
	/// The juror cannot replay (its own failure): it does not vote.
	Abstain,
}

/// Sends what is due at `finalized`.
async fn send(
	client: &ChainClient,
	validator: &ChannelValidator,
	book: &mut ValidatorBook,
	finalized: u32,
) -> Result<(), gonka_client::Error> {
	let due = book.due(finalized);
	if due.is_empty() {
		return Ok(());
	}
	let anchor = Anchor { number: finalized, hash: client.block_hash(finalized).await? };
	for duty in due {
		match duty {
			Due::Report(mut report) => {
				report.anchor = anchor;
				let (settlement, sample) = (report.settlement, report.sample);
				let sent = client.report_failure(&validator.host, &report, &validator.worker_key);
				if done(super::submitted(sent.await), "report_failure").map_err(unexpected)? {
					tracing::info!(settlement, sample, reason = ?report.reason, "reported a failed sample");
				}
				book.reported(settlement, sample).map_err(unexpected)?;
			}
			Due::Verdicts { period, part, entries } => {
				// Samples another validator answered first count nothing: left out (the
				// pool refuses a batch mostly of them).
				let mut answered = BTreeMap::new();
				let mut fresh = Vec::new();
				for (settlement, sample) in &entries {
					if !answered.contains_key(settlement) {
						answered.insert(*settlement, client.settlement(*settlement).await?);
					}
					let open = answered.get(settlement).and_then(Option::as_ref);
					if open.is_some_and(|record| !record.is_answered(*sample)) {
						fresh.push((*settlement, *sample));
					}
				}
				if fresh.is_empty() {
					book.sent(period, part, entries).map_err(unexpected)?;
					continue;
				}
				let batch = ReceiptVerdicts {
					period,
					anchor,
					part,
					entries: verdicts(&fresh).try_into().unwrap_or_default(),
				};
				let sent = client.submit_verdicts(&validator.host, &batch, &validator.worker_key);
				if done(super::submitted(sent.await), "submit_verdicts").map_err(unexpected)? {
					tracing::info!(period, part, passes = fresh.len(), "sent verdicts");
					book.sent(period, part, entries).map_err(unexpected)?;
				} else {
					// Refused (another validator's answers racing it, say): the part's
					// number is spent, its passes are due again, filtered anew, in the
					// next part (at most `MAX_VERDICT_PARTS` a period).
					book.sent(period, part, Vec::new()).map_err(unexpected)?;
				}
			}
		}
	}
	Ok(())
}

/// `Ok(true)`: sent; `Ok(false)`: refused for good (not sent again); `Err`: the node is
/// unavailable (sent again next poll).
fn done(outcome: Result<(), SubmitError>, duty: &'static str) -> Result<bool, String> {
	match outcome {
		Ok(()) => Ok(true),
		Err(SubmitError::Refused(reason)) => {
			tracing::warn!(duty, %reason, "the chain refused a validator's duty");
			Ok(false)
		}
		Err(SubmitError::Unavailable(reason)) => Err(reason),
	}
}

/// What an executor keeps of each of its settlements, to serve its payloads to juries
/// after the chain stops showing the settlement (its window closed; a jury runs past it).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct SettlementBasis {
	/// The channel.
	pub channel: ChannelId,
	/// The executor.
	pub executor: HostId,
	/// The block that included it.
	pub at: u32,
	/// Its sample seed.
	pub seed: H256,
	/// The receipts its voucher covers.
	pub count: u32,
	/// Its tail claims.
	pub tail: u32,
	/// The cost vouchered before it.
	pub from: u128,
	/// Its voucher's amount.
	pub to: u128,
	/// The receipts it vouchered since the executor's earlier settlement.
	pub receipts: u32,
	/// The executor's validation target then.
	pub target: Perbill,
}

impl SettlementBasis {
	fn of(record: &SettlementView, seed: H256) -> Self {
		Self {
			channel: record.channel,
			executor: record.executor.clone(),
			at: record.at,
			seed,
			count: record.count,
			tail: record.tail,
			from: record.from,
			to: record.to,
			receipts: record.receipts,
			target: record.target,
		}
	}

	/// What sample `sample` checks (the chain's rule).
	pub fn sample_of(&self, sample: u32) -> Option<SampleOf> {
		let tree = tree_samples(&self.seed, self.target, self.receipts, self.from, self.to);
		sample_of(&self.seed, sample, tree, self.from, self.to, self.tail)
	}
}

/// How long an executor keeps a settlement's basis, in blocks after it: past its verdict
/// window, its second round and the longest jury (a few hundred blocks on every chain
/// this runtime configures).
pub const BASIS_BLOCKS: u32 = 5_000;

/// The executor's [`SampleGate`] over the chain: a sample's grant from the settlement's
/// record (or, once the chain no longer shows it, the basis the executor kept of it), the
/// chain's `samples_for` or `sits_on`, and the asker's registered worker key.
pub struct ChainGate {
	node: String,
	host: HostId,
	dir: PathBuf,
	client: Mutex<Option<ChainClient>>,
}

impl ChainGate {
	/// A gate of `host` reading the node at `node` (connected at first use, again after a
	/// failure), keeping its settlements' bases under `dir`.
	pub fn new(node: String, host: HostId, dir: PathBuf) -> Self {
		Self { node, host, dir, client: Mutex::new(None) }
	}

	async fn client(&self) -> Result<ChainClient, gonka_client::Error> {
		let cached = self.client.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
		if let Some(client) = cached {
			return Ok(client);
		}
		let client = ChainClient::connect(&self.node).await?;
		*self.client.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(client.clone());
		Ok(client)
	}

	fn path(&self, settlement: SettlementId) -> PathBuf {
		self.dir.join(format!("settlement-{settlement}.scale"))
	}

	/// The basis kept of `settlement`, if any.
	pub fn kept(&self, settlement: SettlementId) -> Option<SettlementBasis> {
		let bytes = std::fs::read(self.path(settlement)).ok()?;
		SettlementBasis::decode(&mut bytes.as_slice()).ok()
	}

	fn keep(&self, settlement: SettlementId, basis: &SettlementBasis) -> crate::Result<()> {
		std::fs::create_dir_all(&self.dir)
			.map_err(Error::io(format!("creating {}", self.dir.display())))?;
		let path = self.path(settlement);
		let temporary = path.with_extension("tmp");
		std::fs::write(&temporary, basis.encode())
			.map_err(Error::io(format!("writing {}", temporary.display())))?;
		std::fs::rename(&temporary, &path)
			.map_err(Error::io(format!("writing {}", path.display())))?;
		// The bases of settlements long past go.
		let entries = std::fs::read_dir(&self.dir)
			.map_err(Error::io(format!("reading {}", self.dir.display())))?;
		for entry in entries.flatten() {
			let old = std::fs::read(entry.path())
				.ok()
				.and_then(|bytes| SettlementBasis::decode(&mut bytes.as_slice()).ok());
			if old.is_some_and(|old| old.at.saturating_add(BASIS_BLOCKS) < basis.at) {
				let _ = std::fs::remove_file(entry.path());
			}
		}
		Ok(())
	}

	/// The basis of `settlement`: the chain's record while it shows it (kept if it is this
	/// host's), else the one kept.
	pub async fn basis(
		&self,
		settlement: SettlementId,
	) -> Result<Option<SettlementBasis>, gonka_client::Error> {
		let client = self.client().await?;
		let Some(record) = client.settlement(settlement).await? else {
			return Ok(self.kept(settlement));
		};
		let hash = client.block_hash(record.at).await?;
		let basis =
			SettlementBasis::of(&record, sample_seed(&client.genesis_hash(), &hash, settlement));
		if basis.executor == self.host && self.kept(settlement).is_none() {
			self.keep(settlement, &basis).map_err(unexpected)?;
		}
		Ok(Some(basis))
	}

	async fn read(
		&self,
		settlement: SettlementId,
		sample: u32,
		validator: HostId,
		dispute: Option<DisputeId>,
	) -> Result<Option<SampleGrant>, gonka_client::Error> {
		let client = self.client().await?;
		let Some(basis) = self.basis(settlement).await? else { return Ok(None) };
		let what: Option<Checks> = match dispute {
			// A validator: the chain draws it for the sample (while the window is open).
			None => client
				.samples_for(settlement, &validator)
				.await?
				.into_iter()
				.find(|(drawn, _)| *drawn == sample)
				.map(|(_, what)| what.into()),
			// A juror: it sits on the jury of that dispute on the sample (a developer's
			// challenge: on the leaf, `sample` its `seq`).
			Some(dispute) => match client.dispute(dispute).await? {
				Some(open)
					if open.settlement == settlement
						&& open.sample == sample
						&& client.sits_on(dispute, &validator).await? =>
				{
					let counts = (basis.count, basis.tail);
					Checks::of_dispute(open.reason, sample, counts, |s| basis.sample_of(s))
				}
				_ => None,
			},
		};
		let Some(what) = what else { return Ok(None) };
		Ok(Some(SampleGrant {
			genesis_hash: client.genesis_hash(),
			channel: basis.channel,
			executor: basis.executor,
			count: basis.count,
			tail: basis.tail,
			what,
			seed: basis.seed,
		}))
	}

	fn forget_client<T>(&self, read: &Result<T, gonka_client::Error>) {
		if read.is_err() {
			*self.client.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
		}
	}
}

impl SampleGate for ChainGate {
	fn worker_key(&self, host: HostId) -> KeyFuture<'_> {
		Box::pin(async move {
			let read = async {
				let client = self.client().await?;
				let registered = client.poc_host(&host).await?;
				Ok::<_, gonka_client::Error>(registered.map(|registered| {
					(sr25519::Public::from_raw(registered.worker_key), client.genesis_hash())
				}))
			}
			.await;
			self.forget_client(&read);
			read.map_err(|error| error.to_string())
		})
	}

	fn grant(
		&self,
		settlement: SettlementId,
		sample: u32,
		validator: HostId,
		dispute: Option<DisputeId>,
	) -> GateFuture<'_> {
		Box::pin(async move {
			let read = self.read(settlement, sample, validator, dispute).await;
			self.forget_client(&read);
			read.map_err(|error| error.to_string())
		})
	}
}
