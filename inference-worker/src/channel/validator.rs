//! The validator's side of channels (`channels.md`, section 8): what it checks of a
//! sample's payload before it replays it, and its book of the samples it was drawn for,
//! by verdict period. Network and model aside: [`check_delivery`] judges what an
//! executor served, [`ValidatorBook`] says what is due when.
//!
//! **A payload** is the sample's if its receipt, with the proof served, is the one the
//! sample checks on chain (`evidence_cost`: the leaf whose cost interval holds the tree
//! sample's point under the voucher's root, or the tail receipt at its index among the
//! settlement's tail leaves). Anything else is as good as nothing: the validator asks
//! again, and reports the payload unavailable if it never gets it. A payload whose
//! receipt is the sample's but whose request, prompt or completion does not match it (the
//! request's hash and signature, the chain's receipt rule, the prompt's salted hash and
//! byte count, the output's hash and length) fails with the receipt as evidence, and so
//! does a replay that does not pass.
//!
//! **Timing** (`pallet-channels`, `sampling.rs`): the samples of a settlement included in
//! verdict period `p` (blocks `p·L .. (p+1)·L`) are drawn from the block after it, and
//! answered in period `p + 1`: failures as soon as they are known, passes in parts of at
//! most `MAX_VERDICTS` once every sample of the period is decided (or when the window
//! nears its end). A sample whose payload was asked for and never came by then is
//! reported unavailable; one never asked for (the validator's replays took the window) is
//! left unanswered. Each period's book is a log of its own, deleted once its window has closed.

use super::{
	executor::Delivery,
	log::Log,
	prompt::{self, ChatMessage},
};
use crate::inference::sampler::SamplingParams;
use crate::{Error, Result};
use codec::{Decode, Encode};
use gonka_primitives::{
	channel::{
		challenged_cost, check_receipt, evidence_cost, sample_of, tree_samples, Anchor, ChannelId,
		ChannelMessage, DeliveryAck, DisputeId, FailReason, FailureReport, ReceiptEvidence,
		ReceiptVerdict, SampleOf, SettlementId, SumNode, MAX_VERDICTS, MAX_VERDICT_PARTS,
	},
	HostId, ModelId, H256,
};
use polkadot_sdk::{sp_arithmetic::Perbill, sp_core::sr25519};
use std::{
	collections::{BTreeMap, BTreeSet},
	path::{Path, PathBuf},
};

/// A settlement as its validators check it: its record's commitments and its channel's
/// terms at the block that included it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct SettlementInfo {
	/// The settlement.
	pub settlement: SettlementId,
	/// Its channel.
	pub channel: ChannelId,
	/// The member that settled (it serves the payloads).
	pub executor: HostId,
	/// The block that included it.
	pub at: u32,
	/// Its samples' seed (`sample_seed`, from that block's hash).
	pub seed: H256,
	/// The voucher's root (zero without a voucher).
	pub root: H256,
	/// The receipts the voucher covers.
	pub count: u32,
	/// The cost vouchered before this settlement (its tree samples fall in `from..to`).
	pub from: u128,
	/// The voucher's amount (the tree's total).
	pub to: u128,
	/// The receipts vouchered since the executor's earlier settlement.
	pub receipts: u32,
	/// The executor's validation target when it settled.
	pub target: Perbill,
	/// The tail claims.
	pub tail: u32,
	/// The digest of the tail receipts' leaves.
	pub tails: H256,
	/// The channel's model.
	pub model: ModelId,
	/// The channel's key (it signs the requests).
	pub channel_key: sr25519::Public,
	/// The channel's price per token.
	pub price: u128,
	/// The model's template overhead when the channel opened.
	pub template_overhead: u32,
}

impl SettlementInfo {
	/// What sample `sample` checks (`None` past the settlement's samples): the chain's
	/// rule (`sample_of` over `tree_samples`), from what the record held.
	pub fn sample_of(&self, sample: u32) -> Option<SampleOf> {
		let tree = tree_samples(&self.seed, self.target, self.receipts, self.from, self.to);
		sample_of(&self.seed, sample, tree, self.from, self.to, self.tail)
	}
}

/// What a delivery is checked against: a sample's receipt (as the chain draws it,
/// [`SampleOf`]), or a receipt a developer challenged by its leaf. Encoded as [`SampleOf`]
/// for its first two variants, so books journaled before challenges decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Checks {
	/// A tree sample: the vouchered receipt whose cost interval holds the point.
	#[codec(index = 0)]
	Tree(u128),
	/// A tail sample: the tail receipt at this index.
	#[codec(index = 1)]
	Tail(u32),
	/// A challenged receipt: the vouchered leaf `seq` (a tail leaf is [`Checks::Tail`]).
	#[codec(index = 2)]
	Leaf(u32),
}

impl From<SampleOf> for Checks {
	fn from(what: SampleOf) -> Self {
		match what {
			SampleOf::Tree(point) => Self::Tree(point),
			SampleOf::Tail(index) => Self::Tail(index),
		}
	}
}

impl Checks {
	/// What a developer's challenge of leaf `seq` of a settlement whose voucher covered
	/// `count` receipts and which claimed `tail` more checks: a vouchered leaf below
	/// `count`, tail receipt `seq − count` up to `count + tail` (the chain numbers tail
	/// claims on from the voucher's count), `None` past them.
	pub fn of_leaf(seq: u32, count: u32, tail: u32) -> Option<Self> {
		if seq < count {
			return Some(Self::Leaf(seq));
		}
		let index = seq - count;
		(index < tail).then_some(Self::Tail(index))
	}

	/// What a dispute for `reason` on `sample` of a settlement whose voucher covered
	/// `count` receipts and which claimed `tail` more checks: a developer's challenge its
	/// leaf ([`Checks::of_leaf`]), a validator's report the sample (`sample_of`, the
	/// settlement's rule).
	pub fn of_dispute(
		reason: FailReason,
		sample: u32,
		(count, tail): (u32, u32),
		sample_of: impl FnOnce(u32) -> Option<SampleOf>,
	) -> Option<Self> {
		match reason {
			FailReason::Challenged => Self::of_leaf(sample, count, tail),
			FailReason::Mismatch | FailReason::Unavailable => sample_of(sample).map(Self::from),
		}
	}

	/// The sample this checks, as the chain draws it (`None` for a challenged leaf).
	fn sample(self) -> Option<SampleOf> {
		match self {
			Self::Tree(point) => Some(SampleOf::Tree(point)),
			Self::Tail(index) => Some(SampleOf::Tail(index)),
			Self::Leaf(_) => None,
		}
	}
}

/// What a payload served for a sample is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Checked {
	/// The sample's receipt with a payload that matches it: replay it.
	Sample(ReceiptEvidence),
	/// Not the sample's receipt, or no valid proof of it: as if nothing was served.
	NotTheSample,
	/// The sample's receipt, with a payload that does not match it: a failure.
	Mismatch(ReceiptEvidence, &'static str),
}

/// Judges `delivery`, served for what `what` checks of `info` (a sample, or a challenged
/// leaf), on the chain of `genesis_hash`.
pub fn check_delivery(
	genesis_hash: &H256,
	info: &SettlementInfo,
	what: impl Into<Checks>,
	delivery: &Delivery,
) -> Checked {
	let served = &delivery.served;
	let receipt = &served.receipt;
	let Ok(proof) = delivery.proof.clone().try_into() else { return Checked::NotTheSample };
	let evidence = ReceiptEvidence { receipt: receipt.clone(), proof };
	let (root, to, count, tails) = (&info.root, info.to, info.count, &info.tails);
	let cost = match what.into() {
		// The challenged leaf itself (the proof is folded by the receipt's `seq`: without
		// this an executor could serve an honest neighbour under the same root), one the
		// settlement added (the chain's rule for a challenge).
		Checks::Leaf(seq) => (receipt.seq == seq)
			.then(|| challenged_cost(None, &evidence, root, info.from, to, count, tails))
			.flatten(),
		sample => sample
			.sample()
			.and_then(|sample| evidence_cost(sample, &evidence, root, to, count, tails)),
	};
	if cost.is_none() || receipt.channel != info.channel {
		return Checked::NotTheSample;
	}
	let payload = &served.payload;
	let request = &payload.request;
	let mismatch = |why| Checked::Mismatch(evidence.clone(), why);
	if !request.verify(genesis_hash, &info.channel_key, &payload.request_signature) {
		return mismatch("the request is not signed by the channel's key");
	}
	if request.executor != info.executor {
		return mismatch("the request names another executor");
	}
	if check_receipt(genesis_hash, request, receipt, info.price, info.template_overhead).is_err() {
		return mismatch("the receipt does not follow from the request");
	}
	if prompt::check(&payload.messages).ok() != Some(request.prompt_bytes)
		|| prompt::prompt_hash(&payload.salt, &payload.messages) != request.prompt_hash
	{
		return mismatch("the prompt is not the one the request names");
	}
	if H256(gonka_primitives::hash(&served.token_ids.encode())) != receipt.output_hash
		|| served.token_ids.len() != receipt.completion_tokens as usize
	{
		return mismatch("the completion is not the one the receipt names");
	}
	Checked::Sample(evidence)
}

/// The model as a validator replays it.
pub trait Replayer: Send + Sync + 'static {
	/// Whether it serves (and so replays) `model`.
	fn serves(&self, model: ModelId) -> bool;
	/// The replay similarity of `completion` after the templated `messages`, or why it
	/// fails exactly (the prompt's token count is not `prompt_tokens`, the completion is
	/// not complete or ends where the model goes on, ...).
	fn replay(
		&self,
		messages: &[ChatMessage],
		prompt_tokens: u32,
		completion: &[u32],
		max_tokens: u32,
		params: &SamplingParams,
	) -> Result<std::result::Result<f64, String>>;
}

/// Replays a checked payload: `Ok(None)` if it passes (similarity at least `threshold`),
/// `Ok(Some(why))` if it fails.
pub fn judge(
	replayer: &dyn Replayer,
	delivery: &Delivery,
	threshold: f64,
) -> Result<Option<String>> {
	let served = &delivery.served;
	let request = &served.payload.request;
	let params = crate::engine::sampler_params(&request.sampling, served.receipt.seed);
	let replayed = replayer.replay(
		&served.payload.messages,
		served.receipt.prompt_tokens,
		&served.token_ids,
		request.max_tokens,
		&params,
	)?;
	Ok(match replayed {
		Ok(similarity) if similarity >= threshold => None,
		Ok(similarity) => Some(format!("similarity {similarity:.3} below {threshold:.3}")),
		Err(why) => Some(why),
	})
}

/// The acknowledgement a validator signs once a payload checks out (before it replays).
pub fn delivery_ack(info: &SettlementInfo, sample: u32, evidence: &ReceiptEvidence) -> DeliveryAck {
	DeliveryAck {
		settlement: info.settlement,
		sample,
		seed: info.seed,
		leaf: SumNode::leaf(&evidence.receipt).hash,
	}
}

/// A dispute whose jury this host sits on.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Jury {
	/// The dispute.
	pub dispute: DisputeId,
	/// Its settlement.
	pub info: SettlementInfo,
	/// The sample that failed.
	pub sample: u32,
	/// What the sample (a challenge: its leaf) checks.
	pub what: Checks,
	/// Why it was reported.
	pub reason: FailReason,
	/// The last block its jury votes in.
	pub ends: u32,
}

/// A record of a period's book.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
enum Entry {
	/// A settlement included in the period, seen in a finalized block.
	#[codec(index = 0)]
	Seen { settlement: SettlementId, at: u32 },
	/// Its samples this validator was drawn for.
	#[codec(index = 1)]
	Drawn { info: Box<SettlementInfo>, samples: Vec<(u32, SampleOf)> },
	/// A sample that passed.
	#[codec(index = 2)]
	Passed { settlement: SettlementId, sample: u32 },
	/// A sample that failed: the report to send.
	#[codec(index = 3)]
	Failed { report: Box<FailureReport> },
	/// A part of the period's verdicts, sent (or refused for good).
	#[codec(index = 4)]
	Sent { part: u8, entries: Vec<(SettlementId, u32)> },
	/// A failure reported (or refused for good).
	#[codec(index = 5)]
	Reported { settlement: SettlementId, sample: u32 },
	/// A dispute opened in the period, seen in a finalized block; its jury votes until
	/// `ends`.
	#[codec(index = 6)]
	Dispute { dispute: DisputeId, at: u32, ends: u32 },
	/// This host sits on the dispute's jury.
	#[codec(index = 7)]
	Juror { jury: Box<Jury> },
	/// Done with a dispute: voted, refused, or not on its jury.
	#[codec(index = 8)]
	Voted { dispute: DisputeId },
	/// A sample this validator cannot judge (its own replay failed, or the model's
	/// threshold is unknown): not answered, never reported.
	#[codec(index = 9)]
	Skipped { settlement: SettlementId, sample: u32 },
}

/// One verdict period's book.
struct PeriodBook {
	log: Log<Entry>,
	seen: BTreeMap<SettlementId, u32>,
	drawn: BTreeMap<SettlementId, (SettlementInfo, Vec<(u32, SampleOf)>)>,
	passed: BTreeSet<(SettlementId, u32)>,
	failed: BTreeMap<(SettlementId, u32), FailureReport>,
	skipped: BTreeSet<(SettlementId, u32)>,
	sent: BTreeSet<(SettlementId, u32)>,
	reported: BTreeSet<(SettlementId, u32)>,
	parts: u8,
	disputes: BTreeMap<DisputeId, (u32, u32)>,
	juries: BTreeMap<DisputeId, Jury>,
	voted: BTreeSet<DisputeId>,
}

impl PeriodBook {
	fn open(path: &Path) -> Result<Self> {
		let (log, entries) = Log::open(path)?;
		let mut book = Self {
			log,
			seen: BTreeMap::new(),
			drawn: BTreeMap::new(),
			passed: BTreeSet::new(),
			failed: BTreeMap::new(),
			skipped: BTreeSet::new(),
			sent: BTreeSet::new(),
			reported: BTreeSet::new(),
			parts: 0,
			disputes: BTreeMap::new(),
			juries: BTreeMap::new(),
			voted: BTreeSet::new(),
		};
		for entry in entries {
			book.note(entry);
		}
		Ok(book)
	}

	fn note(&mut self, entry: Entry) {
		match entry {
			Entry::Seen { settlement, at } => {
				self.seen.insert(settlement, at);
			}
			Entry::Drawn { info, samples } => {
				self.drawn.insert(info.settlement, (*info, samples));
			}
			Entry::Passed { settlement, sample } => {
				self.passed.insert((settlement, sample));
			}
			Entry::Failed { report } => {
				self.failed.insert((report.settlement, report.sample), *report);
			}
			Entry::Sent { part, entries } => {
				self.parts = self.parts.max(part.saturating_add(1));
				self.sent.extend(entries);
			}
			Entry::Reported { settlement, sample } => {
				self.reported.insert((settlement, sample));
			}
			Entry::Dispute { dispute, at, ends } => {
				self.disputes.insert(dispute, (at, ends));
			}
			Entry::Juror { jury } => {
				self.juries.insert(jury.dispute, *jury);
			}
			Entry::Voted { dispute } => {
				self.voted.insert(dispute);
			}
			Entry::Skipped { settlement, sample } => {
				self.skipped.insert((settlement, sample));
			}
		}
	}

	fn record(&mut self, entry: Entry) -> Result<()> {
		self.log.append(&entry)?;
		self.note(entry);
		Ok(())
	}

	fn decided(&self, key: &(SettlementId, u32)) -> bool {
		self.passed.contains(key) || self.failed.contains_key(key) || self.skipped.contains(key)
	}

	/// Samples drawn and not decided.
	fn pending(&self) -> impl Iterator<Item = (&SettlementInfo, u32, SampleOf)> {
		self.drawn.values().flat_map(move |(info, samples)| {
			samples
				.iter()
				.filter(move |(sample, _)| !self.decided(&(info.settlement, *sample)))
				.map(move |(sample, what)| (info, *sample, *what))
		})
	}

	fn undrawn(&self) -> impl Iterator<Item = (SettlementId, u32)> + '_ {
		self.seen
			.iter()
			.filter(|(settlement, _)| !self.drawn.contains_key(settlement))
			.map(|(settlement, at)| (*settlement, *at))
	}
}

/// What the validator should send now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Due {
	/// A failed sample's report (its anchor to be set when sent).
	Report(Box<FailureReport>),
	/// A part of a period's passes.
	Verdicts {
		/// The period.
		period: u32,
		/// The part.
		part: u8,
		/// Its entries, in (settlement, sample) order.
		entries: Vec<(SettlementId, u32)>,
	},
}

/// The validator's book of its samples, a log a verdict period under `dir`.
pub struct ValidatorBook {
	dir: PathBuf,
	period_length: u32,
	margin: u32,
	periods: BTreeMap<u32, PeriodBook>,
	/// The samples whose executor was asked for the payload and did not serve it (in
	/// memory: after a restart the validator asks again before it gives one up).
	unserved: BTreeSet<(SettlementId, u32)>,
}

const PREFIX: &str = "verdicts-";
const SUFFIX: &str = ".log";

impl ValidatorBook {
	/// Opens the book under `dir` for verdict periods of `period_length` blocks; passes
	/// are sent and missing payloads given up `margin` blocks before a window ends at the
	/// latest.
	pub fn open(dir: &Path, period_length: u32, margin: u32) -> Result<Self> {
		std::fs::create_dir_all(dir).map_err(Error::io(format!("creating {}", dir.display())))?;
		let mut periods = BTreeMap::new();
		let entries =
			std::fs::read_dir(dir).map_err(Error::io(format!("reading {}", dir.display())))?;
		for entry in entries {
			let entry = entry.map_err(Error::io(format!("reading {}", dir.display())))?;
			let name = entry.file_name();
			let period = name
				.to_str()
				.and_then(|name| name.strip_prefix(PREFIX))
				.and_then(|name| name.strip_suffix(SUFFIX))
				.and_then(|number| number.parse::<u32>().ok());
			if let Some(period) = period {
				periods.insert(period, PeriodBook::open(&entry.path())?);
			}
		}
		let period_length = period_length.max(1);
		Ok(Self {
			dir: dir.to_path_buf(),
			period_length,
			margin,
			periods,
			unserved: BTreeSet::new(),
		})
	}

	/// The verdict period of block `number`.
	pub fn period_of(&self, number: u32) -> u32 {
		number / self.period_length
	}

	fn period(&mut self, period: u32) -> Result<&mut PeriodBook> {
		match self.periods.entry(period) {
			std::collections::btree_map::Entry::Occupied(entry) => Ok(entry.into_mut()),
			std::collections::btree_map::Entry::Vacant(entry) => {
				let path = self.dir.join(format!("{PREFIX}{period}{SUFFIX}"));
				Ok(entry.insert(PeriodBook::open(&path)?))
			}
		}
	}

	/// Notes settlement `settlement`, included in block `at` (once).
	pub fn seen(&mut self, settlement: SettlementId, at: u32) -> Result<()> {
		let period = self.period(at / self.period_length)?;
		if period.seen.contains_key(&settlement) {
			return Ok(());
		}
		period.record(Entry::Seen { settlement, at })
	}

	/// The settlements seen whose samples are not drawn yet: (settlement, block).
	pub fn undrawn(&self) -> Vec<(SettlementId, u32)> {
		self.periods.values().flat_map(PeriodBook::undrawn).collect()
	}

	/// Notes the samples of `info` this validator was drawn for (none: nothing to do).
	pub fn drawn(&mut self, info: SettlementInfo, samples: Vec<(u32, SampleOf)>) -> Result<()> {
		let period = self.period(info.at / self.period_length)?;
		if !period.seen.contains_key(&info.settlement) {
			period.record(Entry::Seen { settlement: info.settlement, at: info.at })?;
		}
		period.record(Entry::Drawn { info: Box::new(info), samples })
	}

	/// The samples drawn and not yet decided.
	pub fn pending(&self) -> Vec<(SettlementInfo, u32, SampleOf)> {
		self.periods
			.values()
			.flat_map(|period| {
				period.pending().map(|(info, sample, what)| (info.clone(), sample, what))
			})
			.collect()
	}

	/// A sample passed its replay.
	pub fn pass(&mut self, info: &SettlementInfo, sample: u32) -> Result<()> {
		let period = self.period(info.at / self.period_length)?;
		if period.decided(&(info.settlement, sample)) {
			return Ok(());
		}
		period.record(Entry::Passed { settlement: info.settlement, sample })
	}

	/// A sample this validator cannot judge: left unanswered (its own replay failed: an
	/// honest executor must not be reported for the validator's own fault).
	pub fn skip(&mut self, info: &SettlementInfo, sample: u32) -> Result<()> {
		let period = self.period(info.at / self.period_length)?;
		if period.decided(&(info.settlement, sample)) {
			return Ok(());
		}
		period.record(Entry::Skipped { settlement: info.settlement, sample })
	}

	/// The settlement `settlement` as drawn, if this book holds it.
	pub fn info(&self, settlement: SettlementId) -> Option<SettlementInfo> {
		self.periods
			.values()
			.find_map(|period| period.drawn.get(&settlement))
			.map(|(info, _)| info.clone())
			.filter(|info| info.executor != HostId::new([0; 32]))
	}

	/// The executor was asked for the payload of `sample` of `settlement` and did not
	/// serve it (or served another): the sample may be given up near the window's end.
	pub fn not_served(&mut self, settlement: SettlementId, sample: u32) {
		self.unserved.insert((settlement, sample));
	}

	/// A sample failed: `report` is due (a mismatch with its evidence, or unavailable).
	pub fn fail(&mut self, info: &SettlementInfo, report: FailureReport) -> Result<()> {
		let period = self.period(info.at / self.period_length)?;
		if period.decided(&(report.settlement, report.sample)) {
			return Ok(());
		}
		period.record(Entry::Failed { report: Box::new(report) })
	}

	/// The first block of period `period`'s verdict window, and the first after it.
	fn window(&self, period: u32) -> (u32, u32) {
		let start = period.saturating_add(1).saturating_mul(self.period_length);
		(start, start.saturating_add(self.period_length))
	}

	/// At finalized block `now`: the samples whose payload never came although the
	/// window nears its end are reported unavailable (and settlements never drawn are
	/// left). Only a payload asked for and not served is: a sample this validator had no
	/// time to ask for (its replays of others took the window) is left unanswered, its own
	/// miss, never the executor's. Returns how many were given up.
	pub fn give_up(&mut self, now: u32) -> Result<u32> {
		let mut given_up = 0u32;
		let periods: Vec<u32> = self.periods.keys().copied().collect();
		for number in periods {
			let (_, end) = self.window(number);
			if now.saturating_add(self.margin) < end {
				continue;
			}
			let unserved = &self.unserved;
			let Some(period) = self.periods.get_mut(&number) else { continue };
			let missing: Vec<(SettlementId, u32)> = period
				.pending()
				.map(|(info, sample, _)| (info.settlement, sample))
				.filter(|key| unserved.contains(key))
				.collect();
			for (settlement, sample) in missing {
				let report = FailureReport {
					settlement,
					anchor: Anchor { number: 0, hash: H256::zero() },
					sample,
					reason: FailReason::Unavailable,
					evidence: None,
				};
				period.record(Entry::Failed { report: Box::new(report) })?;
				given_up = given_up.saturating_add(1);
			}
		}
		Ok(given_up)
	}

	/// What is due at finalized block `now`: each period whose window is open, its unsent
	/// passes once all its samples are decided (or the window nears its end), then its
	/// failures (the passes first: near the window's end, what fits in time is the pay).
	pub fn due(&self, now: u32) -> Vec<Due> {
		let mut due = Vec::new();
		let mut reports = Vec::new();
		for (number, period) in &self.periods {
			let (start, end) = self.window(*number);
			if now < start || now >= end {
				continue;
			}
			for (key, report) in &period.failed {
				if !period.reported.contains(key) {
					reports.push(Due::Report(Box::new(report.clone())));
				}
			}
			let settled = period.pending().next().is_none() && period.undrawn().next().is_none();
			if !settled && now.saturating_add(self.margin) < end {
				continue;
			}
			let unsent: Vec<(SettlementId, u32)> =
				period.passed.iter().filter(|key| !period.sent.contains(*key)).copied().collect();
			let mut part = period.parts;
			for entries in unsent.chunks(MAX_VERDICTS as usize) {
				if part >= MAX_VERDICT_PARTS {
					tracing::error!(period = number, "more passes than a period's parts carry");
					break;
				}
				due.push(Due::Verdicts { period: *number, part, entries: entries.to_vec() });
				part = part.saturating_add(1);
			}
		}
		due.extend(reports);
		due
	}

	/// A part of a period's passes was sent (or refused for good).
	pub fn sent(&mut self, period: u32, part: u8, entries: Vec<(SettlementId, u32)>) -> Result<()> {
		self.period(period)?.record(Entry::Sent { part, entries })
	}

	/// A failure was reported (or refused for good).
	pub fn reported(&mut self, settlement: SettlementId, sample: u32) -> Result<()> {
		let key = (settlement, sample);
		match self.periods.values_mut().find(|period| period.failed.contains_key(&key)) {
			Some(period) if !period.reported.contains(&key) => {
				period.record(Entry::Reported { settlement, sample })
			}
			_ => Ok(()),
		}
	}

	/// Deletes the books of periods whose window closed by block `now` and whose
	/// disputes' juries have stopped voting, and forgets the unserved samples decided
	/// since or pruned.
	pub fn prune(&mut self, now: u32) -> Result<()> {
		let closed: Vec<u32> = self
			.periods
			.iter()
			.filter(|(number, period)| {
				self.window(**number).1 <= now
					&& period.disputes.values().all(|(_, ends)| *ends < now)
			})
			.map(|(number, _)| *number)
			.collect();
		for period in closed {
			self.periods.remove(&period);
			let path = self.dir.join(format!("{PREFIX}{period}{SUFFIX}"));
			std::fs::remove_file(&path)
				.map_err(Error::io(format!("removing {}", path.display())))?;
		}
		let periods = &self.periods;
		self.unserved.retain(|key| {
			periods.values().any(|period| period.drawn.contains_key(&key.0) && !period.decided(key))
		});
		Ok(())
	}

	/// Notes dispute `dispute`, opened in block `at`, whose jury votes until `ends` (once).
	pub fn dispute_seen(&mut self, dispute: DisputeId, at: u32, ends: u32) -> Result<()> {
		let period = self.period(at / self.period_length)?;
		if period.disputes.contains_key(&dispute) {
			return Ok(());
		}
		period.record(Entry::Dispute { dispute, at, ends })
	}

	/// The disputes seen whose jury this host has not looked up: (dispute, block, the
	/// last block its jury votes in).
	pub fn undecided_disputes(&self) -> Vec<(DisputeId, u32, u32)> {
		self.periods
			.values()
			.flat_map(|period| {
				period
					.disputes
					.iter()
					.filter(|(dispute, _)| {
						!period.juries.contains_key(dispute) && !period.voted.contains(dispute)
					})
					.map(|(dispute, (at, ends))| (*dispute, *at, *ends))
			})
			.collect()
	}

	fn period_of_dispute(&mut self, dispute: DisputeId) -> Option<&mut PeriodBook> {
		self.periods.values_mut().find(|period| period.disputes.contains_key(&dispute))
	}

	/// This host sits on `jury`'s dispute (seen before).
	pub fn sit(&mut self, jury: Jury) -> Result<()> {
		match self.period_of_dispute(jury.dispute) {
			Some(period) if !period.juries.contains_key(&jury.dispute) => {
				period.record(Entry::Juror { jury: Box::new(jury) })
			}
			_ => Ok(()),
		}
	}

	/// Done with `dispute`: voted (or refused), or not on its jury.
	pub fn voted(&mut self, dispute: DisputeId) -> Result<()> {
		match self.period_of_dispute(dispute) {
			Some(period) if !period.voted.contains(&dispute) => {
				period.record(Entry::Voted { dispute })
			}
			_ => Ok(()),
		}
	}

	/// The juries this host sits on and has not voted in.
	pub fn juries(&self) -> Vec<Jury> {
		self.periods
			.values()
			.flat_map(|period| {
				period.juries.values().filter(|jury| !period.voted.contains(&jury.dispute))
			})
			.cloned()
			.collect()
	}

	/// The periods with a book (for tests and status).
	pub fn periods(&self) -> Vec<u32> {
		self.periods.keys().copied().collect()
	}
}

/// The verdicts of a part, for the chain.
pub fn verdicts(entries: &[(SettlementId, u32)]) -> Vec<ReceiptVerdict> {
	entries
		.iter()
		.map(|(settlement, sample)| ReceiptVerdict {
			settlement: *settlement,
			sample: *sample,
			pass: true,
		})
		.collect()
}
