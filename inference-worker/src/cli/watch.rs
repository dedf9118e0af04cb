//! `gonka-worker watch`: a network's progress as a person follows it. Every finalized block
//! is read once, in order; a line is printed for each phase of each epoch and for each
//! event of Gonka's pallets (PoC, models and governance, inference, channels, rewards): the
//! nonces each host committed and the weight it was judged to, requests and their results,
//! validations, votes, channels and their settlements, verdicts and disputes, and the
//! epoch's rewards. Accounts are shown by their dev names
//! (`alice`) when they are the dev keys, else by a short SS58 address. A lost connection is
//! retried; blocks finalized meanwhile are still shown, none twice.

// The client's one error type, as its methods return it.
#![allow(clippy::result_large_err)]

use super::{host::gnk, runtime};
use gonka_client::{runtime, ChainClient, Keypair, Phase, SecretUri};
use gonka_primitives::EpochIndex;
use polkadot_sdk::sp_core::crypto::{AccountId32, Ss58Codec};
use std::{str::FromStr, time::Duration};

/// Display names of accounts.
pub struct Names(Vec<([u8; 32], String)>);

impl Names {
	/// The dev keys (`//Alice` … `//Ferdie`) by their lower-case names.
	pub fn dev() -> Self {
		let names = ["Alice", "Bob", "Charlie", "Dave", "Eve", "Ferdie"]
			.iter()
			.filter_map(|name| {
				let uri = SecretUri::from_str(&format!("//{name}")).ok()?;
				let key = Keypair::from_uri(&uri).ok()?;
				Some((key.public_key().0, name.to_lowercase()))
			})
			.collect();
		Names(names)
	}

	/// An account's display name.
	pub fn of(&self, account: &[u8; 32]) -> String {
		if let Some((_, name)) = self.0.iter().find(|(key, _)| key == account) {
			return name.clone();
		}
		let address = AccountId32::new(*account).to_ss58check();
		let (head, tail) = (&address[..6], &address[address.len() - 4..]);
		format!("{head}…{tail}")
	}
}

fn phase_name(phase: Phase) -> &'static str {
	match phase {
		Phase::Generation => "PoC generation",
		Phase::ValidationDelay => "validation delay",
		Phase::Validation => "PoC validation",
		Phase::Inference => "inference",
	}
}

/// What one finalized block says, as lines; `phase` is the epoch and phase last shown.
pub async fn block_lines(
	client: &ChainClient,
	number: u32,
	names: &Names,
	phase: &mut Option<(EpochIndex, Phase)>,
) -> Result<Vec<String>, gonka_client::Error> {
	let mut lines = Vec::new();
	let at = client.api().at_block(u64::from(number)).await.map_err(chain)?;
	let events = at.events().fetch().await.map_err(chain)?;
	for event in events.iter() {
		let event = event.map_err(chain)?;
		if let Some(line) = describe(&event, names)? {
			lines.push(format!("#{number} {line}"));
		}
	}
	if let Some(epoch) = client.epoch_at(number).await? {
		let now = (epoch.index, epoch.next_block_phase);
		if *phase != Some(now) {
			let next = number.saturating_add(1);
			let end = epoch.start.saturating_add(epoch.length).saturating_sub(1);
			lines.push(format!(
				"#{next} ── epoch {} · {} (epoch blocks #{}–#{end}) ──",
				epoch.index,
				phase_name(epoch.next_block_phase),
				epoch.start,
			));
			*phase = Some(now);
		}
	}
	Ok(lines)
}

fn chain(error: impl Into<gonka_client::subxt::Error>) -> gonka_client::Error {
	gonka_client::Error::Chain(error.into())
}

type Event<'a> = gonka_client::subxt::events::Event<'a, gonka_client::subxt::PolkadotConfig>;

/// Decodes `event` as `E` if it is one: `Some(Ok(e))`, `None` for another event.
fn decode<E: gonka_client::subxt::events::DecodeAsEvent>(
	event: &Event<'_>,
) -> Option<Result<E, gonka_client::Error>> {
	event.decode_fields_as::<E>().map(|decoded| decoded.map_err(chain))
}

/// Returns `Ok(Some(text))` from the enclosing function for the first event type `event`
/// decodes as, its fields bound to the name given.
macro_rules! lines {
	($event:expr; $($kind:ty => |$e:ident| $text:expr;)*) => {
		$(if let Some($e) = decode::<$kind>($event) {
			let $e = $e?;
			return Ok(Some($text));
		})*
	};
}

/// One line for an event of Gonka's pallets, `None` for the others.
pub fn describe(event: &Event<'_>, names: &Names) -> Result<Option<String>, gonka_client::Error> {
	for pallet in [poc_line, inference_line, channels_line, rewards_line, models_line] {
		if let Some(line) = pallet(event, names)? {
			return Ok(Some(line));
		}
	}
	// The pallets' other events (parameter changes, pruning) by name only.
	Ok(match event.pallet_name() {
		"Poc" | "Models" | "Inference" | "Channels" | "Rewards" => {
			Some(format!("{}.{}", event.pallet_name(), event.event_name()))
		}
		_ => None,
	})
}

/// A PoC pallet event's line: epochs, hosts, commitments, verdicts, weights.
fn poc_line(event: &Event<'_>, names: &Names) -> Result<Option<String>, gonka_client::Error> {
	use runtime::poc::events as poc;
	let name = |account: &gonka_client::AccountId32| names.of(&account.0);
	lines! {
		event;
		poc::EpochStarted => |e| format!("epoch {} started", e.index);
		poc::HostRegistered => |e| format!("host {} registered (models {:?})", name(&e.host), e.models);
		poc::HostUpdated => |e| format!("host {} updated (models {:?})", name(&e.host), e.models);
		poc::HostLeft => |e| format!("host {} left", name(&e.host));
		poc::PocCommitted => |e| format!(
			"{} committed {} PoC nonces (epoch {}, model {})", name(&e.host), e.count, e.epoch, e.model);
		poc::PocValidationsSubmitted => |e| format!(
			"{} sent PoC verdicts on {} host(s) (epoch {}, model {})",
			name(&e.validator), e.verdicts, e.epoch, e.model);
		poc::PocJudged => |e| format!(
			"{} PoC {:?}: weight {} (epoch {}, model {})",
			name(&e.host), e.outcome, e.weight, e.epoch, e.model);
		poc::WeightsFormed => |e| format!(
			"weights of epoch {} in force: {} host(s), voting power {}", e.epoch, e.hosts, e.total_power);
		poc::WeightsCarriedOver => |e| format!(
			"epoch {} accepted no host: the previous weights stay", e.epoch);
	}
	Ok(None)
}

/// An inference pallet event's line: requests, results, validations, votes, settlements.
fn inference_line(event: &Event<'_>, names: &Names) -> Result<Option<String>, gonka_client::Error> {
	use runtime::inference::events as inf;
	let name = |account: &gonka_client::AccountId32| names.of(&account.0);
	lines! {
		event;
		inf::RequestSubmitted => |e| format!(
			"request {} from {} (model {}): escrow {}",
			e.request, name(&e.developer), e.model, gnk(e.escrow));
		inf::RequestAssigned => |e| format!(
			"request {}: executor {}", e.request, name(&e.executor));
		inf::RequestReassigned => |e| format!(
			"request {}: {} missed it, reassigned to {}", e.request, name(&e.from), name(&e.to));
		inf::RequestFinished => |e| format!(
			"request {} answered by {}: {} + {} tokens, cost {}, refund {}",
			e.request, name(&e.executor), e.prompt_tokens, e.completion_tokens, gnk(e.cost),
			gnk(e.refund));
		inf::ValidationReported => |e| format!(
			"request {} validated by {}: similarity {:.3}, {}",
			e.request, name(&e.validator), f64::from(e.similarity.0) / 1e9,
			if e.passed { "passed" } else { "FAILED" });
		inf::ValidationMissed => |e| format!(
			"request {}: validator {} missed its validation", e.request, name(&e.validator));
		inf::VoteOpened => |e| format!("request {}: invalidation vote opened by {}", e.request, name(&e.by));
		inf::Voted => |e| format!(
			"request {}: {} voted {} with power {}",
			e.request, name(&e.voter), if e.invalid { "invalid" } else { "valid" }, e.power);
		inf::RequestClosed => |e| format!(
			"request {} closed: {:?}, {} refunded to the developer", e.request, e.outcome, gnk(e.refund));
		inf::ValidatorPaid => |e| format!(
			"request {}: validator {} earned {}", e.request, name(&e.validator), gnk(e.amount));
		inf::Missed => |e| format!("{} missed request {}", name(&e.host), e.request);
		inf::TimerCharged => |e| format!(
			"request {}: its timer cost {} from its deposit", e.request, gnk(e.amount));
		inf::ReportRejected => |e| format!(
			"request {}: {}'s failing report rejected, fined {} (epoch {})",
			e.request, name(&e.reporter), gnk(e.fine), e.epoch);
		inf::HostInvalid => |e| format!("{} is INVALID in epoch {}", name(&e.host), e.epoch);
		inf::PriceChanged => |e| format!("model {} price: {} per token", e.model, gnk(e.price));
		inf::WorkSettled => |e| format!(
			"epoch {} work of {}: {} {}", e.epoch, name(&e.host), gnk(e.amount),
			if e.forfeited { "forfeited" } else { "paid" });
		inf::EpochSettled => |e| format!("epoch {} inference settled", e.epoch);
	}
	Ok(None)
}

/// A channels pallet event's line: channels opened, drawn, topped up, closed, settled and
/// finalized; each settlement's samples, verdicts and close; disputes, votes and outcomes;
/// second rounds, missed samples and forfeited passes.
fn channels_line(event: &Event<'_>, names: &Names) -> Result<Option<String>, gonka_client::Error> {
	use runtime::channels::events as ch;
	let name = |account: &gonka_client::AccountId32| names.of(&account.0);
	lines! {
		event;
		ch::ChannelOpened => |e| format!(
			"channel {} opened by {} (model {}): deposit {}, {} per token, until #{}",
			e.channel, name(&e.developer), e.model, gnk(e.deposit), gnk(e.price), e.ends);
		ch::CommitteeDrawn => |e| format!(
			"channel {}: committee {}",
			e.channel, e.committee.iter().map(&name).collect::<Vec<_>>().join(", "));
		ch::ChannelToppedUp => |e| format!(
			"channel {} topped up by {}: {} deposited", e.channel, gnk(e.amount), gnk(e.deposited));
		ch::ChannelClosed => |e| format!("channel {} closed: ends at #{}", e.channel, e.ends);
		ch::ChannelSettled => |e| format!(
			"channel {}: {} settled {} receipt(s) + {} tail as settlement {}, paid {}",
			e.channel, name(&e.executor), e.receipts, e.tail, e.settlement, gnk(e.paid));
		ch::SettlementSampled => |e| format!(
			"settlement {}: target {:.3}%, validators' share {}",
			e.settlement, f64::from(e.target.0) / 1e7, gnk(e.share));
		ch::VerdictsSubmitted => |e| format!(
			"{} sent channel verdicts (period {}, part {}): {} passed, earned {}",
			name(&e.validator), e.period, e.part, e.passes, gnk(e.paid));
		ch::SettlementClosed => |e| format!(
			"settlement {} closed: {} passed, {} failed", e.settlement, e.passes, e.fails);
		ch::ChannelWaived => |e| format!("channel {}: {} waived it", e.channel, name(&e.member));
		ch::ChannelFinalized => |e| format!(
			"channel {} finalized: {} refunded to the developer", e.channel, gnk(e.refund));
		ch::DisputeOpened => |e| format!(
			"dispute {} on settlement {} sample {}: {:?}, reported by {}",
			e.dispute, e.settlement, e.sample, e.reason.0, name(&e.reporter));
		ch::JurorVoted => |e| format!(
			"dispute {}: {} voted {}", e.dispute, name(&e.juror),
			if e.invalid { "invalid" } else { "valid" });
		ch::DisputeEnded => |e| format!(
			"dispute {} ended: {:?}, refund {}, bounty {}, fine {}",
			e.dispute, e.outcome, gnk(e.refund), gnk(e.bounty), gnk(e.fine));
		ch::SecondRoundEnded => |e| format!(
			"settlement {}: second round ended, {} answer(s)", e.settlement, e.answers);
		ch::SamplesMissed => |e| format!(
			"{} missed {} sample(s) of period {} (shown by {})",
			name(&e.validator), e.samples, e.period, name(&e.reporter));
		ch::PassForfeited => |e| format!(
			"dispute {}: {}'s contradicted pass fined {}", e.dispute, name(&e.validator), gnk(e.fine));
	}
	Ok(None)
}

/// A rewards pallet event's line: epoch rewards, vesting claims, slashes, the pool.
fn rewards_line(event: &Event<'_>, names: &Names) -> Result<Option<String>, gonka_client::Error> {
	use runtime::rewards::events as rew;
	let name = |account: &gonka_client::AccountId32| names.of(&account.0);
	lines! {
		event;
		rew::EpochRewardScheduled => |e| format!(
			"epoch {} reward scheduled: {} for {} host(s)", e.epoch, gnk(e.reward), e.hosts);
		rew::HostRewarded => |e| format!(
			"epoch {} reward to {}: {} (vesting over {} epochs)",
			e.epoch, name(&e.host), gnk(e.amount), e.vesting_epochs);
		rew::RewardWithheld => |e| format!(
			"epoch {} reward of {} withheld: {} ({:?})", e.epoch, name(&e.host), gnk(e.amount), e.reason);
		rew::EpochRewarded => |e| format!(
			"epoch {} rewarded: {} minted, {} to hosts, {} to the community pool",
			e.epoch, gnk(e.reward), gnk(e.paid), gnk(e.to_pool));
		rew::Claimed => |e| format!("{} claimed {} of vested rewards", name(&e.host), gnk(e.amount));
		rew::Slashed => |e| format!(
			"{} slashed {} ({:?}, epoch {})", name(&e.host), gnk(e.amount), e.reason, e.epoch);
		rew::PoolSpent => |e| format!("community pool paid {} to {}", gnk(e.amount), name(&e.to));
	}
	Ok(None)
}

/// A models pallet event's line: governance proposals and votes, model changes.
fn models_line(event: &Event<'_>, names: &Names) -> Result<Option<String>, gonka_client::Error> {
	use runtime::models::events as gov;
	let name = |account: &gonka_client::AccountId32| names.of(&account.0);
	lines! {
		event;
		gov::Proposed => |e| format!(
			"proposal {} by {}: voting until #{}, {} voter(s), power {}",
			e.index, name(&e.proposer), e.end, e.voters, e.total_power);
		gov::Voted => |e| format!(
			"proposal {}: {} voted {:?} with power {}", e.index, name(&e.voter), e.vote, e.power);
		gov::Closed => |e| format!("proposal {} closed: {:?}", e.index, e.outcome);
		gov::Executed => |e| format!("proposal {} executed: {:?}", e.index, e.result);
		gov::ModelRegistered => |e| format!("model {} registered (approved from the next epoch)", e.model);
		gov::ModelApproved => |e| format!("model {} approved from epoch {}", e.model, e.epoch);
		gov::ModelUpdated => |e| format!("model {} updated from epoch {}", e.model, e.epoch);
		gov::ModelRetired => |e| format!("model {} retired", e.model);
	}
	Ok(None)
}

/// Follows `node`'s finalized blocks from `from` (the newest when `None`) and passes each
/// line to `out`, until `out` returns `false`. Reconnects when the node goes away.
pub async fn watch(
	node: &str,
	from: Option<u32>,
	names: &Names,
	mut out: impl FnMut(&str) -> bool,
) -> anyhow::Result<()> {
	let mut next = from;
	let mut phase = None;
	let mut warned = false;
	loop {
		let client = match ChainClient::connect(node).await {
			Ok(client) => client,
			Err(error) => {
				if !warned {
					tracing::warn!(%error, node, "no node yet; retrying every second");
					warned = true;
				}
				tokio::time::sleep(Duration::from_secs(1)).await;
				continue;
			}
		};
		warned = false;
		'follow: loop {
			let Ok(finalized) = client.block_number().await else { break 'follow };
			let first = *next.get_or_insert(finalized);
			for number in first..=finalized {
				match block_lines(&client, number, names, &mut phase).await {
					Ok(lines) => {
						for line in &lines {
							if !out(line) {
								return Ok(());
							}
						}
						next = Some(number.saturating_add(1));
					}
					Err(error) => {
						tracing::warn!(%error, block = number, "reading a block failed; reconnecting");
						break 'follow;
					}
				}
			}
			tokio::time::sleep(Duration::from_millis(500)).await;
		}
		tokio::time::sleep(Duration::from_secs(1)).await;
	}
}

/// `gonka-worker watch`: prints `node`'s progress from block `from` (the newest finalized
/// one when `None`), one line at a time, until standard output goes away.
pub(crate) fn watch_command(node: &str, from: Option<u32>) -> anyhow::Result<()> {
	let names = Names::dev();
	runtime()?.block_on(watch(node, from, &names, |line| {
		use std::io::Write;
		let mut stdout = std::io::stdout().lock();
		writeln!(stdout, "{line}").and_then(|()| stdout.flush()).is_ok()
	}))
}
