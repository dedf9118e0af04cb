//! # Gonka chain client
//!
//! What a host's worker (and any Rust program) needs to talk to a Gonka node over RPC, with
//! calls, events, storage and runtime APIs **generated at compile time** from the runtime's
//! metadata (`client/metadata.scale`, kept equal to the runtime by
//! `runtime/tests/metadata.rs`; subxt also checks each call against the node's metadata
//! before sending it):
//!
//! - read the Proof-of-Compute state through `PocApi` ([`ChainClient::epoch`]) and requests
//!   through `InferenceApi` ([`ChainClient::request_view`], [`ChainClient::validators`]);
//! - submit the workers' **duty transactions**: PoC ([`ChainClient::commit_poc`],
//!   [`ChainClient::send_poc_validations`]) and inference ([`ChainClient::finish`],
//!   [`ChainClient::validate`], [`ChainClient::vote`], [`ChainClient::report_missing`]):
//!   transactions with no transaction signer and no fee, whose call carries a payload signed
//!   by the host's registered worker key. The runtime accepts them through the call's
//!   `#[pallet::authorize]` rule (the `AuthorizeCall` extension), which checks the
//!   signature, the phase or request state, and a per-host budget;
//! - submit **signed** transactions of accounts: a host's registration
//!   ([`ChainClient::register_host`]) and a developer's request ([`ChainClient::request`]).
//!
//! A duty transaction is a version-5 *general* transaction: the runtime's transaction
//! extensions with no signature. subxt builds general transactions through its signing
//! path, which attaches the signature to a `VerifySignature` extension; the Gonka runtime
//! has no such extension, so the account and signature given there are unused and the
//! encoded transaction carries none ([`ChainClient::submit_duty`]).

use gonka_primitives::{
	channel::{
		ChannelId, ChannelSettle, ChannelTerms, ChannelWaiver, DeliveryAck, DisputeId, FailReason,
		FailureReport, MissedSamples, ReceiptVerdicts, ReceiptVote, SampleOf, SettlementId,
	},
	duty::{
		Duty, InferenceFinish, InferenceValidation, InvalidationVote, MissingValidation, PocCommit,
		PocValidation,
	},
	inference::{RequestId, SamplingParams},
	EpochIndex, HostId, ModelId, H256,
};
use polkadot_sdk::{
	sp_arithmetic::Perbill,
	sp_core::{sr25519, Get},
};
use subxt::{
	transactions::{DefaultParams, Payload},
	OnlineClient, PolkadotConfig,
};

/// The runtime's calls, events, storage and runtime APIs, generated from
/// `client/metadata.scale`.
///
/// The channels' messages are the primitives' own types (`subxt::utils::Static`: encoded
/// with their SCALE codec), so what a worker or gateway builds and signs is what is sent
/// (the runtime's block numbers are `u32`).
#[subxt::subxt(
	runtime_metadata_path = "metadata.scale",
	substitute_type(
		path = "gonka_primitives::channel::ChannelTerms<B>",
		with = "::subxt::utils::Static<::gonka_primitives::channel::ChannelTerms<u32>>"
	),
	substitute_type(
		path = "gonka_primitives::channel::ChannelSettle",
		with = "::subxt::utils::Static<::gonka_primitives::channel::ChannelSettle>"
	),
	substitute_type(
		path = "gonka_primitives::channel::ChannelWaiver",
		with = "::subxt::utils::Static<::gonka_primitives::channel::ChannelWaiver>"
	),
	substitute_type(
		path = "gonka_primitives::channel::ReceiptVerdicts",
		with = "::subxt::utils::Static<::gonka_primitives::channel::ReceiptVerdicts>"
	),
	substitute_type(
		path = "gonka_primitives::channel::FailureReport",
		with = "::subxt::utils::Static<::gonka_primitives::channel::FailureReport>"
	),
	substitute_type(
		path = "gonka_primitives::channel::FailReason",
		with = "::subxt::utils::Static<::gonka_primitives::channel::FailReason>"
	),
	substitute_type(
		path = "gonka_primitives::channel::ReceiptVote",
		with = "::subxt::utils::Static<::gonka_primitives::channel::ReceiptVote>"
	),
	substitute_type(
		path = "gonka_primitives::channel::DeliveryAck",
		with = "::subxt::utils::Static<::gonka_primitives::channel::DeliveryAck>"
	),
	substitute_type(
		path = "gonka_primitives::channel::ReceiptChallenge",
		with = "::subxt::utils::Static<::gonka_primitives::channel::ReceiptChallenge>"
	),
	substitute_type(
		path = "gonka_primitives::channel::SampleOf",
		with = "::subxt::utils::Static<::gonka_primitives::channel::SampleOf>"
	),
	substitute_type(
		path = "gonka_primitives::channel::MissedSamples",
		with = "::subxt::utils::Static<::gonka_primitives::channel::MissedSamples>"
	)
)]
pub mod runtime {}

// The macro above reads the file without telling cargo: this makes the crate rebuild when
// the metadata changes (else the code stays generated from the old metadata).
const _: &[u8] = include_bytes!("../metadata.scale");

use runtime::runtime_types;

pub use runtime::channels::events::{
	ChannelClosed, ChannelFinalized, ChannelOpened, ChannelSettled, ChannelToppedUp,
	CommitteeDrawn, DisputeOpened, SettlementClosed, VerdictsSubmitted,
};
pub use runtime::{
	inference::events::{
		RequestAssigned, RequestClosed, RequestFinished, RequestReassigned, RequestSubmitted,
		ValidationMissed, ValidationReported, ValidatorPaid, VoteOpened, Voted,
	},
	poc::events::{PocCommitted, PocValidationsSubmitted},
};
/// The subxt this client is built on (its event and block types, for callers that read
/// blocks through [`ChainClient::api`]).
pub use subxt;
/// Accounts as the generated code has them.
pub use subxt::utils::AccountId32;
/// A developer's or host's account key, to sign transactions (`subxt-signer`), and the
/// secret URI it is made from (`//Alice`, a mnemonic, or a 0x-hex seed).
pub use subxt_signer::{sr25519::Keypair, SecretUri};

/// What went wrong talking to the chain.
#[derive(Debug, thiserror::Error)]
pub enum Error {
	/// The RPC connection, a runtime call or the transaction pool failed.
	#[error("chain: {0}")]
	Chain(#[from] subxt::Error),
	/// The node answered with something this client does not understand (another runtime?).
	#[error("unexpected answer from the node: {0}")]
	Unexpected(String),
	/// The transaction was included but its dispatch failed.
	#[error("the transaction failed on chain: {0}")]
	Failed(String),
}

fn chain(error: impl Into<subxt::Error>) -> Error {
	Error::Chain(error.into())
}

/// The phase of an epoch (`pallet_poc::Phase`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
	/// Hosts compute PoC nonces and commit to them.
	Generation,
	/// The blocks between generation and validation.
	ValidationDelay,
	/// Validators check samples of the others' nonces and vote.
	Validation,
	/// The rest of the epoch: inference.
	Inference,
}

impl From<runtime_types::pallet_poc::types::Phase> for Phase {
	fn from(phase: runtime_types::pallet_poc::types::Phase) -> Self {
		use runtime_types::pallet_poc::types::Phase as P;
		match phase {
			P::Generation => Phase::Generation,
			P::ValidationDelay => Phase::ValidationDelay,
			P::Validation => Phase::Validation,
			P::Inference => Phase::Inference,
		}
	}
}

/// The epoch in progress as the chain reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Epoch {
	/// The epoch's index.
	pub index: EpochIndex,
	/// Its first block.
	pub start: u32,
	/// Its length in blocks.
	pub length: u32,
	/// Blocks of PoC generation (`G`).
	pub generation: u32,
	/// Blocks between generation and validation (`D`).
	pub validation_delay: u32,
	/// Blocks of PoC validation (`V`).
	pub validation: u32,
	/// The epoch seed (the hash of the block before `start`).
	pub seed: H256,
	/// The phase of the next block: the one a duty sent now is checked against.
	pub next_block_phase: Phase,
}

/// A transaction in a finalized block, with the events of its dispatch.
pub struct Included {
	/// The block that includes it.
	pub block_hash: H256,
	/// The events its dispatch emitted.
	pub events: subxt::extrinsics::ExtrinsicEvents<PolkadotConfig>,
}

/// How often [`Client::drawn_executor`] reads a queued request again.
const DRAW_POLL: core::time::Duration = core::time::Duration::from_millis(500);
/// How long [`Client::drawn_executor`] waits for a request's draw.
pub const DRAW_WAIT: core::time::Duration = core::time::Duration::from_secs(120);

/// A developer's request as the chain accepted it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submitted {
	/// The request's id.
	pub request: RequestId,
	/// The host drawn to execute it.
	pub executor: HostId,
	/// The price per token it pays.
	pub price: u128,
	/// The escrow held until it finishes.
	pub escrow: u128,
}

/// A request, as `InferenceApi::request` shows it.
pub type RequestView = runtime_types::pallet_inference::runtime_api::RequestView<u32>;
/// A host as `InferenceApi::host` shows it.
pub type HostInferenceView = runtime_types::pallet_inference::runtime_api::HostInferenceView;
/// A request's status.
pub type RequestStatus = runtime_types::pallet_inference::types::RequestStatus;
/// How a request closed.
pub type Outcome = runtime_types::pallet_inference::types::Outcome;

/// A model's Proof-of-Compute parameters (`pallet_models::PocParams`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PocParams {
	/// Input positions per nonce.
	pub seq_len: u32,
	/// The L2 distance above which a recomputed artifact is a mismatch.
	pub dist_threshold: Perbill,
	/// The mismatch rate an honest host is allowed.
	pub p_mismatch: Perbill,
	/// The binomial test's significance.
	pub p_value: Perbill,
}

/// A model as the chain's registry has it, as a worker needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelView {
	/// Its display name.
	pub name: String,
	/// sha256 of the weights file every host must serve.
	pub weights_digest: [u8; 32],
	/// Whether hosts may serve it and commit PoC for it in the epoch in progress.
	pub approved: bool,
	/// Its PoC parameters in force.
	pub poc: PocParams,
	/// The tokens that end its completions, ascending.
	pub end_tokens: Vec<u32>,
	/// The replay similarity a completion needs to pass validation.
	pub validation_threshold: Perbill,
}

/// A host's PoC commitment for a model in an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Commitment {
	/// Nonces committed.
	pub count: u64,
	/// Merkle root of their artifacts.
	pub root: H256,
}

/// A registered host as `PocApi::host` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PocHost {
	/// The key its worker signs duties with.
	pub worker_key: [u8; 32],
	/// Where other workers fetch its PoC proofs.
	pub endpoint: String,
	/// The models it serves.
	pub models: Vec<ModelId>,
	/// Its voting power in the epoch in progress.
	pub voting_power: u128,
}

/// A channel as the chain shows it (`ChannelsApi::channel`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelState {
	/// Who opened it.
	pub developer: HostId,
	/// Its terms.
	pub terms: ChannelTerms<u32>,
	/// The block that opened it.
	pub opened: u32,
	/// The first block in which it takes no request.
	pub ends: u32,
	/// The block that finalizes it.
	pub finalizes: u32,
	/// Its price per token.
	pub price: u128,
	/// The escrow deposited, top-ups included.
	pub deposited: u128,
	/// Whether the developer closed it early.
	pub closed: bool,
	/// The model's template overhead, fixed when it opened.
	pub template_overhead: u32,
	/// What its committee was paid so far.
	pub settled: u128,
	/// The host of each slot (empty until drawn).
	pub committee: Vec<HostId>,
}

/// A settlement whose verdict window is open (`ChannelsApi::settlement`): what its
/// validators check a sample's payload against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettlementView {
	/// The channel.
	pub channel: ChannelId,
	/// The committee member that settled.
	pub executor: HostId,
	/// The block that included it.
	pub at: u32,
	/// The voucher's root (zero without a voucher).
	pub root: H256,
	/// The receipts the voucher covers.
	pub count: u32,
	/// The cost vouchered before this settlement.
	pub from: u128,
	/// The receipts vouchered since the executor's earlier settlement (its tree samples
	/// are drawn from them).
	pub receipts: u32,
	/// The executor's validation target when it settled.
	pub target: Perbill,
	/// The voucher's amount.
	pub to: u128,
	/// The tail claims (leaves `count..count + tail`).
	pub tail: u32,
	/// The digest of the tail receipts' leaves.
	pub tails: H256,
	/// One bit a sample, set once it is answered.
	pub answered: Vec<u8>,
}

/// A dispute whose jury's window has not ended (`ChannelsApi::dispute`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisputeView {
	/// The settlement.
	pub settlement: SettlementId,
	/// The sample that failed (a challenge: the receipt's leaf).
	pub sample: u32,
	/// The executor of the receipt.
	pub executor: HostId,
	/// Who reported it.
	pub reporter: HostId,
	/// Why it failed.
	pub reason: FailReason,
	/// The block that included the report.
	pub at: u32,
}

/// What a validator did with a verdict period's samples (`PeriodMarks`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeriodMarkView {
	/// It answered some: it is not shown missed for the period.
	Answered,
	/// It was shown missed: the samples shown so far, (settlement, sample) in order.
	Reported(Vec<(SettlementId, u32)>),
}

impl SettlementView {
	/// Whether sample `sample` is answered.
	pub fn is_answered(&self, sample: u32) -> bool {
		is_answered(&self.answered, sample)
	}
}

/// Whether sample `sample` is answered in a settlement's answered bits (a bit a sample, as
/// `SettlementView::answered` and `ChainClient::settlement_answers` give them).
pub fn is_answered(answered: &[u8], sample: u32) -> bool {
	answered.get((sample / 8) as usize).is_some_and(|byte| byte & (1 << (sample % 8)) != 0)
}

/// What opening a channel takes now (`ChannelsApi::quote_channel`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChannelQuote {
	/// The model's price per token now.
	pub price: u128,
	/// The channel's fee.
	pub fee: u128,
	/// The least deposit at that price.
	pub min_deposit: u128,
}

/// A client of one Gonka node.
#[derive(Clone)]
pub struct ChainClient {
	api: OnlineClient<PolkadotConfig>,
}

impl ChainClient {
	/// Connects to a node's RPC endpoint: `wss://` anywhere, `ws://` on this machine only
	/// (subxt refuses unencrypted connections to other hosts).
	pub async fn connect(url: &str) -> Result<Self, Error> {
		Ok(Self::new(OnlineClient::from_url(url).await.map_err(chain)?))
	}

	/// A client over a connection made elsewhere.
	pub fn new(api: OnlineClient<PolkadotConfig>) -> Self {
		Self { api }
	}

	/// The underlying subxt client.
	pub fn api(&self) -> &OnlineClient<PolkadotConfig> {
		&self.api
	}

	/// The chain's genesis hash: every duty payload is signed with it, so a signature is
	/// worthless on any other chain.
	pub fn genesis_hash(&self) -> H256 {
		H256(self.api.genesis_hash().0)
	}

	/// The epoch in progress at the best finalized block, or `None` before the first epoch.
	pub async fn epoch(&self) -> Result<Option<Epoch>, Error> {
		let at = self.api.at_current_block().await.map_err(chain)?;
		let call = runtime::runtime_apis().poc_api().epoch();
		Ok(at.runtime_apis().call(call).await.map_err(chain)?.map(epoch_view))
	}

	/// The epoch in progress at finalized block `number` (its phase: the next block's).
	pub async fn epoch_at(&self, number: u32) -> Result<Option<Epoch>, Error> {
		let at = self.api.at_block(u64::from(number)).await.map_err(chain)?;
		let call = runtime::runtime_apis().poc_api().epoch();
		Ok(at.runtime_apis().call(call).await.map_err(chain)?.map(epoch_view))
	}

	/// A request with its status, accounting and (while kept) payloads, at the best
	/// finalized block; `None` if there is no such request (or it was pruned).
	pub async fn request_view(&self, request: RequestId) -> Result<Option<RequestView>, Error> {
		let at = self.api.at_current_block().await.map_err(chain)?;
		let call = runtime::runtime_apis().inference_api().request(request);
		at.runtime_apis().call(call).await.map_err(chain)
	}

	/// A host as inference sees it at the best finalized block: reputation, its record in
	/// the epoch in progress, and its pending work balance over the unsettled epochs.
	pub async fn inference_host(&self, host: &HostId) -> Result<HostInferenceView, Error> {
		let at = self.api.at_current_block().await.map_err(chain)?;
		let call = runtime::runtime_apis().inference_api().host(account(host));
		at.runtime_apis().call(call).await.map_err(chain)
	}

	/// The registered hosts the hash rule samples to validate a finished request (the
	/// executor's worker never is one); `None` if the request is unknown, unfinished, or
	/// was finished in the best finalized block itself (the sample needs that block's hash).
	pub async fn validators(&self, request: RequestId) -> Result<Option<Vec<HostId>>, Error> {
		let at = self.api.at_current_block().await.map_err(chain)?;
		let call = runtime::runtime_apis().inference_api().validators(request);
		let validators = at.runtime_apis().call(call).await.map_err(chain)?;
		Ok(validators.map(|hosts| hosts.into_iter().map(|host| HostId::new(host.0)).collect()))
	}

	/// A model of the registry, `None` if there is no such model.
	pub async fn model(&self, model: ModelId) -> Result<Option<ModelView>, Error> {
		let at = self.api.at_current_block().await.map_err(chain)?;
		let address = runtime::storage().models().registry();
		let Some(value) = at.storage().try_fetch(address, (model,)).await.map_err(chain)? else {
			return Ok(None);
		};
		Ok(Some(model_view(value.decode().map_err(chain)?)))
	}

	/// Every model of the registry (any status), by id.
	pub async fn models(&self) -> Result<Vec<(ModelId, ModelView)>, Error> {
		let at = self.api.at_current_block().await.map_err(chain)?;
		let address = runtime::storage().models().registry();
		let mut entries = at.storage().iter(address, ()).await.map_err(chain)?;
		let mut models = Vec::new();
		while let Some(entry) = entries.next().await {
			let entry = entry.map_err(chain)?;
			let (model,) = entry.key().map_err(chain)?.decode().map_err(chain)?;
			models.push((model, model_view(entry.value().decode().map_err(chain)?)));
		}
		models.sort_by_key(|(model, _)| *model);
		Ok(models)
	}

	/// A registered host, `None` if `host` is not one.
	pub async fn poc_host(&self, host: &HostId) -> Result<Option<PocHost>, Error> {
		let at = self.api.at_current_block().await.map_err(chain)?;
		let call = runtime::runtime_apis().poc_api().host(account(host));
		let Some(view) = at.runtime_apis().call(call).await.map_err(chain)? else {
			return Ok(None);
		};
		Ok(Some(PocHost {
			worker_key: view.worker_key,
			endpoint: String::from_utf8_lossy(&view.endpoint).into_owned(),
			models: view.models,
			voting_power: view.voting_power,
		}))
	}

	/// A host's commitment for a model in an epoch still kept.
	pub async fn commitment(
		&self,
		epoch: EpochIndex,
		host: &HostId,
		model: ModelId,
	) -> Result<Option<Commitment>, Error> {
		let at = self.api.at_current_block().await.map_err(chain)?;
		let call = runtime::runtime_apis().poc_api().commitment(epoch, account(host), model);
		let commitment = at.runtime_apis().call(call).await.map_err(chain)?;
		Ok(commitment.map(|c| Commitment { count: c.count, root: H256(c.root.0) }))
	}

	/// The hosts that committed PoC for a model in an epoch, sorted by account: the roster
	/// the chain builds from the end of the epoch's generation, a few models per block.
	/// `None` until every roster of the epoch is built (the chain refuses validation
	/// batches until then).
	pub async fn roster(
		&self,
		epoch: EpochIndex,
		model: ModelId,
	) -> Result<Option<Vec<HostId>>, Error> {
		let at = self.api.at_current_block().await.map_err(chain)?;
		let built = at
			.storage()
			.try_fetch(runtime::storage().poc().rosters_built(), ())
			.await
			.map_err(chain)?;
		let built = match built {
			Some(value) => Some(value.decode().map_err(chain)?),
			None => None,
		};
		if built != Some(epoch) {
			return Ok(None);
		}
		let address = runtime::storage().poc().tallies();
		let Some(value) = at.storage().try_fetch(address, (epoch, model)).await.map_err(chain)?
		else {
			return Ok(Some(Vec::new()));
		};
		let roster = value.decode().map_err(chain)?;
		Ok(Some(roster.0.into_iter().map(|(host, _)| HostId::new(host.0)).collect()))
	}

	/// A host's PoC weight in force for a model.
	pub async fn poc_weight(&self, host: &HostId, model: ModelId) -> Result<u64, Error> {
		let at = self.api.at_current_block().await.map_err(chain)?;
		let call = runtime::runtime_apis().poc_api().poc_weight(account(host), model);
		at.runtime_apis().call(call).await.map_err(chain)
	}

	/// The hash of finalized block `number`.
	pub async fn block_hash(&self, number: u32) -> Result<H256, Error> {
		let at = self.api.at_block(u64::from(number)).await.map_err(chain)?;
		Ok(H256(at.block_hash().0))
	}

	/// The number of the best finalized block.
	pub async fn block_number(&self) -> Result<u32, Error> {
		let at = self.api.at_current_block().await.map_err(chain)?;
		u32::try_from(at.block_number())
			.map_err(|_| Error::Unexpected("a block number beyond u32".into()))
	}

	/// The escrow a request would hold in the next block, `None` if the model is not
	/// approved or the request cannot be priced.
	pub async fn quote(
		&self,
		model: ModelId,
		prompt_bytes: u32,
		max_tokens: u32,
	) -> Result<Option<u128>, Error> {
		let at = self.api.at_current_block().await.map_err(chain)?;
		let call = runtime::runtime_apis().inference_api().quote(model, prompt_bytes, max_tokens);
		at.runtime_apis().call(call).await.map_err(chain)
	}

	/// A live channel at the best finalized block; `None` if there is none by that id (or
	/// it was pruned).
	pub async fn channel(&self, channel: ChannelId) -> Result<Option<ChannelState>, Error> {
		self.channel_at(channel, None).await
	}

	/// A live channel at finalized block `number` (the best finalized if `None`).
	pub async fn channel_at(
		&self,
		channel: ChannelId,
		number: Option<u32>,
	) -> Result<Option<ChannelState>, Error> {
		let call = runtime::runtime_apis().channels_api().channel(channel);
		let view = match number {
			Some(number) => {
				let at = self.api.at_block(u64::from(number)).await.map_err(chain)?;
				at.runtime_apis().call(call).await.map_err(chain)?
			}
			None => {
				let at = self.api.at_current_block().await.map_err(chain)?;
				at.runtime_apis().call(call).await.map_err(chain)?
			}
		};
		Ok(view.map(|view| {
			let info = view.info;
			ChannelState {
				developer: HostId::new(info.developer.0),
				terms: info.terms.0,
				opened: info.opened,
				ends: info.ends,
				finalizes: info.finalizes,
				price: info.price,
				deposited: info.deposited,
				closed: matches!(
					info.status,
					runtime_types::pallet_channels::types::ChannelStatus::Closed
				),
				template_overhead: info.template_overhead,
				settled: info.settled,
				committee: view.committee.into_iter().map(|host| HostId::new(host.0)).collect(),
			}
		}))
	}

	/// Every channel whose committee is drawn, with its committee, at the best finalized
	/// block (the live channels: records are pruned once finalized).
	pub async fn live_channels(&self) -> Result<Vec<(ChannelId, Vec<HostId>)>, Error> {
		let at = self.api.at_current_block().await.map_err(chain)?;
		let address = runtime::storage().channels().committees();
		let mut entries = at.storage().iter(address, ()).await.map_err(chain)?;
		let mut channels = Vec::new();
		while let Some(entry) = entries.next().await {
			let entry = entry.map_err(chain)?;
			let (channel,) = entry.key().map_err(chain)?.decode().map_err(chain)?;
			let committee = entry.value().decode().map_err(chain)?;
			channels
				.push((channel, committee.0.into_iter().map(|host| HostId::new(host.0)).collect()));
		}
		channels.sort_by_key(|(channel, _)| *channel);
		Ok(channels)
	}

	/// The receipts `host`'s settlements of `channel` covered so far (`None`: it settled
	/// none), at the best finalized block.
	pub async fn channel_settled(
		&self,
		channel: ChannelId,
		host: &HostId,
	) -> Result<Option<u32>, Error> {
		let at = self.api.at_current_block().await.map_err(chain)?;
		let call = runtime::runtime_apis().channels_api().settled(channel, account(host));
		Ok(at.runtime_apis().call(call).await.map_err(chain)?.map(|settled| settled.receipts))
	}

	/// The longest channel that may be opened now, in blocks: the rule governance set
	/// (`Params::max_channel_blocks`) within the runtime's bound (`MaxChannelBlocks`).
	pub async fn max_channel_blocks(&self) -> Result<u32, Error> {
		let at = self.api.at_current_block().await.map_err(chain)?;
		let params = at
			.storage()
			.fetch(runtime::storage().channels().params(), ())
			.await
			.map_err(chain)?
			.decode()
			.map_err(chain)?;
		let bound = at
			.constants()
			.entry(runtime::constants().channels().max_channel_blocks())
			.map_err(|error| Error::Chain(error.into()))?;
		Ok(params.max_channel_blocks.min(bound))
	}

	/// The channels' verdict period, in blocks (`VerdictPeriod`).
	pub async fn verdict_period(&self) -> Result<u32, Error> {
		let at = self.api.at_current_block().await.map_err(chain)?;
		at.constants()
			.entry(runtime::constants().channels().verdict_period())
			.map_err(|error| Error::Chain(error.into()))
	}

	/// A settlement whose verdict window is open, at the best finalized block.
	pub async fn settlement(
		&self,
		settlement: SettlementId,
	) -> Result<Option<SettlementView>, Error> {
		let at = self.api.at_current_block().await.map_err(chain)?;
		let call = runtime::runtime_apis().channels_api().settlement(settlement);
		let record = at.runtime_apis().call(call).await.map_err(chain)?;
		Ok(record.map(|record| SettlementView {
			channel: record.channel,
			executor: HostId::new(record.executor.0),
			at: record.at,
			root: record.root,
			count: record.count,
			from: record.from,
			receipts: record.receipts,
			target: Perbill::from_parts(record.target.0),
			to: record.to,
			tail: record.tail,
			tails: record.tails,
			answered: record.answered.0,
		}))
	}

	/// A dispute whose jury's window is open, at the best finalized block.
	pub async fn dispute(&self, dispute: DisputeId) -> Result<Option<DisputeView>, Error> {
		let at = self.api.at_current_block().await.map_err(chain)?;
		let call = runtime::runtime_apis().channels_api().dispute(dispute);
		let record = at.runtime_apis().call(call).await.map_err(chain)?;
		Ok(record.map(|record| DisputeView {
			settlement: record.settlement,
			sample: record.sample,
			executor: HostId::new(record.executor.0),
			reporter: HostId::new(record.reporter.0),
			reason: record.reason.0,
			at: record.at,
		}))
	}

	/// Whether `host` sits on the jury of `dispute`, at the best finalized block.
	pub async fn sits_on(&self, dispute: DisputeId, host: &HostId) -> Result<bool, Error> {
		let at = self.api.at_current_block().await.map_err(chain)?;
		let call = runtime::runtime_apis().channels_api().sits_on(dispute, account(host));
		at.runtime_apis().call(call).await.map_err(chain)
	}

	/// The blocks after its report a dispute takes votes in: `(JuryWindow,
	/// UnavailableWindow)` (the long window of `FailReason::long_window`'s reasons).
	pub async fn jury_windows(&self) -> Result<(u32, u32), Error> {
		let at = self.api.at_current_block().await.map_err(chain)?;
		let constants = runtime::constants().channels();
		let jury =
			at.constants().entry(constants.jury_window()).map_err(|e| Error::Chain(e.into()))?;
		let unavailable = at
			.constants()
			.entry(constants.unavailable_window())
			.map_err(|e| Error::Chain(e.into()))?;
		Ok((jury, unavailable))
	}

	/// A juror's vote on a dispute, signed with its worker key; returns once the pool took
	/// it.
	pub async fn vote_receipt(
		&self,
		juror: &HostId,
		vote: &ReceiptVote,
		worker: &sr25519::Pair,
	) -> Result<H256, Error> {
		let signature = vote.sign(&self.genesis_hash(), juror, worker);
		let call = runtime::transactions().channels().vote_receipt(
			account(juror),
			subxt::utils::Static(*vote),
			sr25519_signature(&signature),
		);
		self.send_duty(&call).await
	}

	/// The samples of `settlement` the hash rule draws `validator` for, with what each
	/// checks, at the best finalized block (empty until the block after the settlement's,
	/// and once its window closed).
	pub async fn samples_for(
		&self,
		settlement: SettlementId,
		validator: &HostId,
	) -> Result<Vec<(u32, SampleOf)>, Error> {
		let at = self.api.at_current_block().await.map_err(chain)?;
		let call =
			runtime::runtime_apis().channels_api().samples_for(settlement, account(validator));
		let samples = at.runtime_apis().call(call).await.map_err(chain)?;
		Ok(samples.into_iter().map(|(sample, what)| (sample, what.0)).collect())
	}

	/// A validator's verdicts (a part of a period's), signed with its worker key; returns
	/// once the pool took it (a validator's duties race its window's end: it does not wait
	/// for each to be finalized).
	pub async fn submit_verdicts(
		&self,
		validator: &HostId,
		verdicts: &ReceiptVerdicts,
		worker: &sr25519::Pair,
	) -> Result<H256, Error> {
		let signature = verdicts.sign(&self.genesis_hash(), validator, worker);
		let call = runtime::transactions().channels().submit_verdicts(
			account(validator),
			subxt::utils::Static(verdicts.clone()),
			sr25519_signature(&signature),
		);
		self.send_duty(&call).await
	}

	/// Every registered host, at the best finalized block.
	pub async fn hosts(&self) -> Result<Vec<HostId>, Error> {
		let at = self.api.at_current_block().await.map_err(chain)?;
		let address = runtime::storage().poc().hosts();
		let mut entries = at.storage().iter(address, ()).await.map_err(chain)?;
		let mut hosts = Vec::new();
		while let Some(entry) = entries.next().await {
			let (account,) = entry.map_err(chain)?.key().map_err(chain)?.decode().map_err(chain)?;
			hosts.push(HostId::new(account.0));
		}
		hosts.sort_unstable();
		Ok(hosts)
	}

	/// A settlement's answered samples (a bit a sample) while its record is kept: through
	/// its window and the report period after it (`Settlements`), at the best finalized
	/// block.
	pub async fn settlement_answers(
		&self,
		settlement: SettlementId,
	) -> Result<Option<Vec<u8>>, Error> {
		let at = self.api.at_current_block().await.map_err(chain)?;
		let address = runtime::storage().channels().settlements();
		let Some(value) = at.storage().try_fetch(address, (settlement,)).await.map_err(chain)?
		else {
			return Ok(None);
		};
		Ok(Some(value.decode().map_err(chain)?.answered.0))
	}

	/// What `validator` did with verdict period `period`'s samples, while it is noted
	/// (`PeriodMarks`), at the best finalized block.
	pub async fn period_mark(
		&self,
		period: u32,
		validator: &HostId,
	) -> Result<Option<PeriodMarkView>, Error> {
		use runtime::runtime_types::pallet_channels::types::PeriodMark;
		let at = self.api.at_current_block().await.map_err(chain)?;
		let address = runtime::storage().channels().period_marks();
		let key = (period, account(validator));
		let Some(value) = at.storage().try_fetch(address, key).await.map_err(chain)? else {
			return Ok(None);
		};
		Ok(Some(match value.decode().map_err(chain)? {
			PeriodMark::Answered(_) => PeriodMarkView::Answered,
			PeriodMark::Reported(shown) => PeriodMarkView::Reported(shown.0),
		}))
	}

	/// A host's report of a validator's unanswered samples of a verdict period, signed
	/// with its worker key; returns once the pool took it.
	pub async fn report_missed_samples(
		&self,
		reporter: &HostId,
		missed: &MissedSamples,
		worker: &sr25519::Pair,
	) -> Result<H256, Error> {
		let signature = missed.sign(&self.genesis_hash(), reporter, worker);
		let call = runtime::transactions().channels().report_missed_samples(
			account(reporter),
			subxt::utils::Static(missed.clone()),
			sr25519_signature(&signature),
		);
		self.send_duty(&call).await
	}

	/// A validator's report of a sample it failed, signed with its worker key; returns once
	/// the pool took it.
	pub async fn report_failure(
		&self,
		validator: &HostId,
		report: &FailureReport,
		worker: &sr25519::Pair,
	) -> Result<H256, Error> {
		let signature = report.sign(&self.genesis_hash(), validator, worker);
		let call = runtime::transactions().channels().report_failure(
			account(validator),
			subxt::utils::Static(report.clone()),
			sr25519_signature(&signature),
		);
		self.send_duty(&call).await
	}

	/// Ends an unavailable payload's dispute with the reporter's signed delivery
	/// acknowledgement (anyone holding it may send it); waits until it is in a finalized
	/// block and succeeded.
	pub async fn refute_unavailable(
		&self,
		dispute: DisputeId,
		ack: &DeliveryAck,
		signature: &sr25519::Signature,
	) -> Result<Included, Error> {
		let call = runtime::transactions().channels().refute_unavailable(
			dispute,
			subxt::utils::Static(ack.clone()),
			sr25519_signature(signature),
		);
		self.submit_duty(&call).await
	}

	/// The most `host` may be paid from `channel`, at the best finalized block.
	pub async fn channel_allowance(
		&self,
		channel: ChannelId,
		host: &HostId,
	) -> Result<u128, Error> {
		let at = self.api.at_current_block().await.map_err(chain)?;
		let call = runtime::runtime_apis().channels_api().allowance(channel, account(host));
		at.runtime_apis().call(call).await.map_err(chain)
	}

	/// What opening a channel of `committee` slots on `model`, with requests of at most
	/// `max_request_tokens`, takes now; `None` if the model has no price.
	pub async fn quote_channel(
		&self,
		model: ModelId,
		committee: u8,
		max_request_tokens: u32,
	) -> Result<Option<ChannelQuote>, Error> {
		let at = self.api.at_current_block().await.map_err(chain)?;
		let call = runtime::runtime_apis().channels_api().quote_channel(
			model,
			committee,
			max_request_tokens,
		);
		let quote = at.runtime_apis().call(call).await.map_err(chain)?;
		Ok(quote.map(|quote| ChannelQuote {
			price: quote.price,
			fee: quote.fee,
			min_deposit: quote.min_deposit,
		}))
	}

	/// Opens a channel with `terms` (whose `channel_key` is `key`'s public half), signed by
	/// `developer`'s account, which holds `deposit` and pays the fee. Waits until it is in
	/// a finalized block; returns its `ChannelOpened` event.
	pub async fn open_channel(
		&self,
		developer: &Keypair,
		terms: ChannelTerms<u32>,
		key: &sr25519::Pair,
		deposit: u128,
	) -> Result<ChannelOpened, Error> {
		let account = HostId::new(developer.public_key().0);
		let proof =
			gonka_primitives::channel::prove_channel_key(&self.genesis_hash(), &account, key);
		let call = runtime::transactions().channels().open_channel(
			subxt::utils::Static(terms),
			proof.0,
			deposit,
		);
		let included = self.submit_signed(&call, developer).await?;
		included
			.events
			.find_first::<ChannelOpened>()
			.ok_or_else(|| Error::Unexpected("no ChannelOpened event".into()))?
			.map_err(chain)
	}

	/// Adds `amount` to a channel's escrow, signed by its developer.
	pub async fn top_up(
		&self,
		developer: &Keypair,
		channel: ChannelId,
		amount: u128,
	) -> Result<Included, Error> {
		let call = runtime::transactions().channels().top_up(channel, amount);
		self.submit_signed(&call, developer).await
	}

	/// Ends a channel now, signed by its developer.
	pub async fn close_channel(
		&self,
		developer: &Keypair,
		channel: ChannelId,
	) -> Result<Included, Error> {
		let call = runtime::transactions().channels().close_channel(channel);
		self.submit_signed(&call, developer).await
	}

	/// The developer's challenge of a receipt of one of its channel's settlements (the
	/// receipt with its proof: `challenge_receipt`); holds `ChallengeFee` and `JURY_SIZE`
	/// times the receipt's cost until its jury decides. Waits until it is in a finalized
	/// block and succeeded.
	pub async fn challenge_receipt(
		&self,
		developer: &Keypair,
		challenge: &gonka_primitives::channel::ReceiptChallenge,
	) -> Result<Included, Error> {
		let call = runtime::transactions()
			.channels()
			.challenge_receipt(subxt::utils::Static(challenge.clone()));
		self.submit_signed(&call, developer).await
	}

	/// A committee member's settlement of a channel, signed with its worker key; waits
	/// until it is in a finalized block and succeeded.
	pub async fn settle(
		&self,
		executor: &HostId,
		settle: &ChannelSettle,
		worker: &sr25519::Pair,
	) -> Result<Included, Error> {
		let signature = settle.sign(&self.genesis_hash(), executor, worker);
		let call = runtime::transactions().channels().settle(
			account(executor),
			subxt::utils::Static(settle.clone()),
			sr25519_signature(&signature),
		);
		self.submit_duty(&call).await
	}

	/// A committee member's waiver of an ended channel, signed with its worker key; waits
	/// until it is in a finalized block and succeeded.
	pub async fn waive_channel(
		&self,
		member: &HostId,
		waiver: &ChannelWaiver,
		worker: &sr25519::Pair,
	) -> Result<Included, Error> {
		let signature = waiver.sign(&self.genesis_hash(), member, worker);
		let call = runtime::transactions().channels().waive_channel(
			account(member),
			subxt::utils::Static(*waiver),
			sr25519_signature(&signature),
		);
		self.submit_duty(&call).await
	}

	/// Signs `commit` with the host's worker key and submits it; waits until it is in a
	/// finalized block and succeeded.
	pub async fn commit_poc(
		&self,
		host: &HostId,
		commit: &PocCommit,
		worker: &sr25519::Pair,
	) -> Result<Included, Error> {
		self.submit_duty(&self.commit_call(host, commit, worker)).await
	}

	/// Signs `commit` with the host's worker key and hands it to the node's transaction
	/// pool: returns as soon as the pool accepted it (valid for the next block), without
	/// waiting for a block, so that a worker goes on computing nonces meanwhile. Whether it
	/// was included shows in [`ChainClient::commitment`].
	pub async fn send_poc_commit(
		&self,
		host: &HostId,
		commit: &PocCommit,
		worker: &sr25519::Pair,
	) -> Result<H256, Error> {
		self.send_duty(&self.commit_call(host, commit, worker)).await
	}

	fn commit_call(
		&self,
		host: &HostId,
		commit: &PocCommit,
		worker: &sr25519::Pair,
	) -> impl Payload {
		let signature = commit.sign(&self.genesis_hash(), host, worker);
		runtime::transactions().poc().commit_poc(
			account(host),
			runtime_types::gonka_primitives::duty::PocCommit {
				epoch: commit.epoch,
				model: commit.model,
				count: commit.count,
				root: subxt::utils::H256(commit.root.0),
			},
			sr25519_signature(&signature),
		)
	}

	/// Signs a validator's batch of verdicts with its worker key and hands it to the
	/// node's transaction pool: returns as soon as the pool accepted it, without waiting
	/// for a block (a validator's duties go on meanwhile, and a batch the pool drops at the
	/// end of validation cannot hold them up). Whether it was included shows in the
	/// chain's tallies.
	pub async fn send_poc_validations<MaxVerdicts: Get<u32>>(
		&self,
		validator: &HostId,
		validation: &PocValidation<MaxVerdicts>,
		worker: &sr25519::Pair,
	) -> Result<H256, Error> {
		use runtime_types::gonka_primitives::duty::{PocValidation, Verdict};
		let signature = validation.sign(&self.genesis_hash(), validator, worker);
		let verdicts = validation
			.verdicts
			.iter()
			.map(|verdict| Verdict { host: account(&verdict.host), valid: verdict.valid })
			.collect();
		let batch = PocValidation {
			epoch: validation.epoch,
			model: validation.model,
			verdicts: runtime_types::bounded_collections::bounded_vec::BoundedVec(verdicts),
		};
		let call = runtime::transactions().poc().submit_poc_validations(
			account(validator),
			batch,
			sr25519_signature(&signature),
		);
		self.send_duty(&call).await
	}

	/// The executor's result for a request assigned to it, signed with its worker key;
	/// waits until it is in a finalized block and succeeded.
	pub async fn finish<MaxTokens: Get<u32>, MaxText: Get<u32>>(
		&self,
		executor: &HostId,
		result: &InferenceFinish<MaxTokens, MaxText>,
		worker: &sr25519::Pair,
	) -> Result<Included, Error> {
		use runtime_types::bounded_collections::bounded_vec::BoundedVec;
		let signature = result.sign(&self.genesis_hash(), executor, worker);
		let payload = runtime_types::gonka_primitives::duty::InferenceFinish {
			request: result.request,
			token_ids: BoundedVec(result.token_ids.to_vec()),
			text: BoundedVec(result.text.to_vec()),
			prompt_tokens: result.prompt_tokens,
		};
		let call = runtime::transactions().inference().finish(
			account(executor),
			payload,
			sr25519_signature(&signature),
		);
		self.submit_duty(&call).await
	}

	/// A sampled validator's replay similarity for a finished request, signed with its
	/// worker key; waits until it is in a finalized block and succeeded.
	pub async fn validate(
		&self,
		validator: &HostId,
		report: &InferenceValidation,
		worker: &sr25519::Pair,
	) -> Result<Included, Error> {
		let signature = report.sign(&self.genesis_hash(), validator, worker);
		let payload = runtime_types::gonka_primitives::duty::InferenceValidation {
			request: report.request,
			similarity: runtime_types::sp_arithmetic::per_things::Perbill(
				report.similarity.deconstruct(),
			),
		};
		let call = runtime::transactions().inference().validate(
			account(validator),
			payload,
			sr25519_signature(&signature),
		);
		self.submit_duty(&call).await
	}

	/// A host's vote in a request's invalidation vote, signed with its worker key; waits
	/// until it is in a finalized block and succeeded.
	pub async fn vote(
		&self,
		voter: &HostId,
		ballot: &InvalidationVote,
		worker: &sr25519::Pair,
	) -> Result<Included, Error> {
		let signature = ballot.sign(&self.genesis_hash(), voter, worker);
		let payload = runtime_types::gonka_primitives::duty::InvalidationVote {
			request: ballot.request,
			invalid: ballot.invalid,
		};
		let call = runtime::transactions().inference().vote(
			account(voter),
			payload,
			sr25519_signature(&signature),
		);
		self.submit_duty(&call).await
	}

	/// Shows that a sampled validator did not report on a request in time, signed with the
	/// reporting host's worker key; waits until it is in a finalized block and succeeded.
	pub async fn report_missing(
		&self,
		reporter: &HostId,
		claim: &MissingValidation,
		worker: &sr25519::Pair,
	) -> Result<Included, Error> {
		let signature = claim.sign(&self.genesis_hash(), reporter, worker);
		let payload = runtime_types::gonka_primitives::duty::MissingValidation {
			request: claim.request,
			validator: account(&claim.validator),
		};
		let call = runtime::transactions().inference().report_missing(
			account(reporter),
			payload,
			sr25519_signature(&signature),
		);
		self.submit_duty(&call).await
	}

	/// Registers the signer as a host: its worker key (with the key's proof that the host
	/// holds it), the endpoint that serves its PoC proofs, and the models it serves. The
	/// deposit is held on its account.
	pub async fn register_host(
		&self,
		host: &Keypair,
		worker: &sr25519::Pair,
		endpoint: &[u8],
		models: &[ModelId],
	) -> Result<Included, Error> {
		let proof = self.key_proof(host, worker);
		let call = runtime::transactions().poc().register_host(
			polkadot_sdk::sp_core::Pair::public(worker).0,
			proof.0,
			endpoint.to_vec(),
			models.to_vec(),
		);
		self.submit_signed(&call, host).await
	}

	/// Changes a registered host's worker key (with its proof), endpoint and models,
	/// signed by the host.
	pub async fn update_host(
		&self,
		host: &Keypair,
		worker: &sr25519::Pair,
		endpoint: &[u8],
		models: &[ModelId],
	) -> Result<Included, Error> {
		let proof = self.key_proof(host, worker);
		let call = runtime::transactions().poc().update_host(
			Some((polkadot_sdk::sp_core::Pair::public(worker).0, proof.0)),
			Some(endpoint.to_vec()),
			Some(models.to_vec()),
		);
		self.submit_signed(&call, host).await
	}

	/// The worker key's proof that the host account `host` holds it on this chain.
	fn key_proof(&self, host: &Keypair, worker: &sr25519::Pair) -> sr25519::Signature {
		let account = HostId::new(host.public_key().0);
		gonka_primitives::duty::prove_key_ownership(&self.genesis_hash(), &account, worker)
	}

	/// A developer's inference request, signed by its account, which holds the escrow.
	/// Waits until it is in a finalized block, then until its executor is drawn (in the
	/// next block, unless the chain's timer budget is spent) and that is finalized too;
	/// returns its id and executor. A request whose draw found no host (every host of
	/// the model left) expired refunded: [`Error::Failed`].
	pub async fn request(
		&self,
		developer: &Keypair,
		model: ModelId,
		prompt: &[u8],
		max_tokens: u32,
		sampling: SamplingParams,
	) -> Result<Submitted, Error> {
		let call = runtime::transactions().inference().request(
			model,
			runtime_types::bounded_collections::bounded_vec::BoundedVec(prompt.to_vec()),
			max_tokens,
			runtime_types::gonka_primitives::inference::SamplingParams {
				temperature_milli: sampling.temperature_milli,
				top_p: runtime_types::sp_arithmetic::per_things::Perbill(
					sampling.top_p.deconstruct(),
				),
			},
		);
		let included = self.submit_signed(&call, developer).await?;
		let submitted = included
			.events
			.find_first::<RequestSubmitted>()
			.ok_or_else(|| Error::Unexpected("no RequestSubmitted event".into()))?
			.map_err(chain)?;
		let executor = self.drawn_executor(submitted.request).await?;
		Ok(Submitted {
			request: submitted.request,
			executor,
			price: submitted.price,
			escrow: submitted.escrow,
		})
	}

	/// The executor drawn for `request`, once a finalized block shows it: the request has
	/// left `Queued`. Gives up after [`DRAW_WAIT`] (the chain draws in the next block
	/// unless its timer budget is spent), saying the request is on chain.
	pub async fn drawn_executor(&self, request: RequestId) -> Result<HostId, Error> {
		let deadline = tokio::time::Instant::now() + DRAW_WAIT;
		loop {
			let view = self
				.request_view(request)
				.await?
				.ok_or_else(|| Error::Unexpected(format!("request {request} is unknown")))?;
			match view.request.status {
				RequestStatus::Queued if tokio::time::Instant::now() < deadline => {
					tokio::time::sleep(DRAW_POLL).await
				}
				RequestStatus::Queued => {
					return Err(Error::Unexpected(format!(
						"request {request} is on chain, its escrow held, but no executor was \
						 drawn within {DRAW_WAIT:?}; it is drawn later or expires refunded"
					)));
				}
				// Expired undrawn: the executor is still the developer's placeholder.
				RequestStatus::Closed(Outcome::Expired)
					if view.request.attempt == 0
						&& view.request.executor == view.request.developer =>
				{
					return Err(Error::Failed(format!(
						"request {request} expired before an executor was drawn (no host of \
						 the model could be); its escrow was refunded"
					)));
				}
				_ => return Ok(HostId::new(view.request.executor.0)),
			}
		}
	}

	/// Signs `call` with `signer`'s account and submits it; waits until it is in a
	/// finalized block and succeeded.
	pub async fn submit_signed<Call: Payload>(
		&self,
		call: &Call,
		signer: &Keypair,
	) -> Result<Included, Error> {
		let at = self.api.at_current_block().await.map_err(chain)?;
		let progress = at
			.transactions()
			.sign_and_submit_then_watch_default(call, signer)
			.await
			.map_err(chain)?;
		Self::finalized(progress).await
	}

	/// Submits `call` as a duty transaction: a general (version 5) transaction with the
	/// runtime's extensions and no signature, valid only through the call's `authorize`
	/// rule. Waits until it is in a finalized block and succeeded.
	pub async fn submit_duty<Call: Payload>(&self, call: &Call) -> Result<Included, Error> {
		let at = self.api.at_current_block().await.map_err(chain)?;
		let submittable = Self::duty_transaction(&at, call)?;
		Self::finalized(submittable.submit_and_watch().await.map_err(chain)?).await
	}

	/// As [`ChainClient::submit_duty`], returning once the node's pool accepted the
	/// transaction (its hash), without waiting for a block.
	pub async fn send_duty<Call: Payload>(&self, call: &Call) -> Result<H256, Error> {
		let at = self.api.at_current_block().await.map_err(chain)?;
		let submittable = Self::duty_transaction(&at, call)?;
		Ok(H256(submittable.submit().await.map_err(chain)?.0))
	}

	// The client's one error type, as every method here returns it.
	#[allow(clippy::result_large_err)]
	fn duty_transaction<Call: Payload, C: subxt::client::OnlineClientAtBlockT<PolkadotConfig>>(
		at: &subxt::client::ClientAtBlock<PolkadotConfig, C>,
		call: &Call,
	) -> Result<subxt::transactions::SubmittableTransaction<PolkadotConfig, C>, Error> {
		let mut tx = at
			.transactions()
			.create_v5_signable_offline(call, DefaultParams::default_params())
			.map_err(chain)?;
		// No `VerifySignature` extension in the runtime: neither is encoded.
		let unused_account = AccountId32([0; 32]);
		let unused_signature = subxt::utils::MultiSignature::Sr25519([0; 64]);
		tx.sign_with_account_and_signature(&unused_account, &unused_signature).map_err(chain)
	}

	/// Waits for a submitted transaction's finalized block and its dispatch's success.
	async fn finalized<C: subxt::client::OnlineClientAtBlockT<PolkadotConfig>>(
		progress: subxt::transactions::TransactionProgress<PolkadotConfig, C>,
	) -> Result<Included, Error> {
		let in_block = progress.wait_for_finalized().await.map_err(chain)?;
		let block_hash = H256(in_block.block_hash().0);
		let events = in_block.wait_for_success().await.map_err(|error| match error {
			subxt::error::TransactionEventsError::ExtrinsicFailed(dispatch) => {
				Error::Failed(dispatch.to_string())
			}
			other => chain(other),
		})?;
		Ok(Included { block_hash, events })
	}
}

type EpochAnswer =
	(runtime_types::pallet_poc::types::EpochInfo<u32>, runtime_types::pallet_poc::types::Phase);

fn epoch_view((info, phase): EpochAnswer) -> Epoch {
	Epoch {
		index: info.index,
		start: info.start,
		length: info.params.epoch_length,
		generation: info.params.poc_generation,
		validation_delay: info.params.validation_delay,
		validation: info.params.poc_validation,
		seed: H256(info.seed.0),
		next_block_phase: phase.into(),
	}
}

type ModelAnswer = runtime_types::pallet_models::types::ModelInfo<u128>;

fn model_view(info: ModelAnswer) -> ModelView {
	use runtime_types::pallet_models::types::ModelStatus;
	let record = info.record;
	let poc = record.poc;
	ModelView {
		name: String::from_utf8_lossy(&record.name.0).into_owned(),
		weights_digest: record.weights_digest,
		approved: matches!(info.status, ModelStatus::Approved),
		poc: PocParams {
			seq_len: poc.seq_len,
			dist_threshold: Perbill::from_parts(poc.dist_threshold.0),
			p_mismatch: Perbill::from_parts(poc.p_mismatch.0),
			p_value: Perbill::from_parts(poc.p_value.0),
		},
		end_tokens: record.end_tokens.0,
		validation_threshold: Perbill::from_parts(record.validation_threshold.0),
	}
}

fn account(host: &HostId) -> AccountId32 {
	let bytes: &[u8; 32] = host.as_ref();
	AccountId32(*bytes)
}

/// Signatures and public keys are byte arrays in the metadata.
fn sr25519_signature(signature: &sr25519::Signature) -> [u8; 64] {
	signature.0
}
