//! # Gonka chain client
//!
//! What a host's worker (and any Rust program) needs to talk to a Gonka node over RPC:
//!
//! - read the Proof-of-Compute state through the `PocApi` runtime API: the epoch in
//!   progress and the phase the next block is in ([`ChainClient::epoch`]);
//! - submit the workers' **duty transactions** ([`ChainClient::commit_poc`],
//!   [`ChainClient::submit_poc_validations`]): transactions with no transaction signer and
//!   no fee, whose call carries a payload signed by the host's registered worker key. The
//!   runtime accepts them through the call's `#[pallet::authorize]` rule (the
//!   `AuthorizeCall` extension), which checks the signature, the phase and a per-host
//!   budget.
//!
//! A duty transaction is a version-5 *general* transaction: the runtime's transaction
//! extensions with no signature. subxt builds general transactions through its signing
//! path, which attaches the signature to a `VerifySignature` extension; the Gonka runtime
//! has no such extension, so the account and signature given there are unused and the
//! encoded transaction carries none ([`ChainClient::duty_transaction`]).

use gonka_primitives::{
	duty::{Duty, PocCommit, PocValidation},
	EpochIndex, HostId, ModelId, H256,
};
use polkadot_sdk::sp_core::{sr25519, Get};
use subxt::{
	dynamic::{self, At, Value},
	events::DecodeAsEvent,
	ext::{scale_decode::DecodeAsType, scale_value::ValueDef},
	transactions::{DefaultParams, Payload},
	utils::AccountId32,
	OnlineClient, PolkadotConfig,
};

/// What went wrong talking to the chain.
#[derive(Debug, thiserror::Error)]
pub enum Error {
	/// The RPC connection, a runtime call or the transaction pool failed.
	#[error("chain: {0}")]
	Chain(#[from] subxt::Error),
	/// The node answered with something this client does not understand (another runtime?).
	#[error("unexpected answer from the node: {0}")]
	Unexpected(String),
	/// The duty transaction was included but its dispatch failed.
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

/// The epoch in progress as the chain reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Epoch {
	/// The epoch's index.
	pub index: EpochIndex,
	/// Its first block.
	pub start: u32,
	/// Its length in blocks.
	pub length: u32,
	/// The epoch seed (the hash of the block before `start`).
	pub seed: H256,
	/// The phase of the next block: the one a duty sent now is checked against.
	pub next_block_phase: Phase,
}

/// `Poc::PocCommitted`, decoded from a block's events.
#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
pub struct PocCommitted {
	/// The host whose worker committed.
	pub host: AccountId32,
	/// The epoch of the commitment.
	pub epoch: EpochIndex,
	/// The model it computed PoC for.
	pub model: ModelId,
	/// How many nonces it committed to.
	pub count: u64,
	/// The Merkle root of its nonces.
	pub root: subxt::utils::H256,
}

impl DecodeAsEvent for PocCommitted {
	fn is_event(pallet: &str, event: &str) -> bool {
		pallet == "Poc" && event == "PocCommitted"
	}
}

/// `Poc::PocValidationsSubmitted`, decoded from a block's events.
#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
pub struct PocValidationsSubmitted {
	/// The validating host.
	pub validator: AccountId32,
	/// The epoch of the batch.
	pub epoch: EpochIndex,
	/// The model.
	pub model: ModelId,
	/// How many hosts it judged.
	pub verdicts: u32,
}

impl DecodeAsEvent for PocValidationsSubmitted {
	fn is_event(pallet: &str, event: &str) -> bool {
		pallet == "Poc" && event == "PocValidationsSubmitted"
	}
}

/// A duty transaction in a finalized block, with the events of its dispatch.
pub struct Included {
	/// The block that includes it.
	pub block_hash: H256,
	/// The events its dispatch emitted.
	pub events: subxt::extrinsics::ExtrinsicEvents<PolkadotConfig>,
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
		let call = dynamic::runtime_api_call::<_, Value>("PocApi", "epoch", ());
		let value = at.runtime_apis().call(call).await.map_err(chain)?;
		decode_epoch(&value)
	}

	/// Signs `commit` with the host's worker key and submits it; waits until it is in a
	/// finalized block and succeeded.
	pub async fn commit_poc(
		&self,
		host: &HostId,
		commit: &PocCommit,
		worker: &sr25519::Pair,
	) -> Result<Included, Error> {
		let signature = commit.sign(&self.genesis_hash(), worker);
		let call = dynamic::transaction(
			"Poc",
			"commit_poc",
			(account_value(host), commit_value(commit), bytes_value(&signature.0)),
		);
		self.submit_duty(&call).await
	}

	/// Signs a validator's batch of verdicts with its worker key and submits it; waits
	/// until it is in a finalized block and succeeded.
	pub async fn submit_poc_validations<MaxVerdicts: Get<u32>>(
		&self,
		validator: &HostId,
		validation: &PocValidation<MaxVerdicts>,
		worker: &sr25519::Pair,
	) -> Result<Included, Error> {
		let signature = validation.sign(&self.genesis_hash(), worker);
		let verdicts = validation.verdicts.iter().map(|verdict| {
			Value::named_composite([
				("host", account_value(&verdict.host)),
				("valid", Value::bool(verdict.valid)),
			])
		});
		let batch = Value::named_composite([
			("epoch", Value::u128(validation.epoch.into())),
			("model", Value::u128(validation.model.into())),
			("verdicts", Value::unnamed_composite(verdicts)),
		]);
		let call = dynamic::transaction(
			"Poc",
			"submit_poc_validations",
			(account_value(validator), batch, bytes_value(&signature.0)),
		);
		self.submit_duty(&call).await
	}

	/// Submits `call` as a duty transaction: a general (version 5) transaction with the
	/// runtime's extensions and no signature, valid only through the call's `authorize`
	/// rule. Waits until it is in a finalized block and succeeded.
	pub async fn submit_duty<Call: Payload>(&self, call: &Call) -> Result<Included, Error> {
		let at = self.api.at_current_block().await.map_err(chain)?;
		let mut tx = at
			.transactions()
			.create_v5_signable_offline(call, DefaultParams::default_params())
			.map_err(chain)?;
		// No `VerifySignature` extension in the runtime: neither is encoded.
		let unused_account = AccountId32([0; 32]);
		let unused_signature = subxt::utils::MultiSignature::Sr25519([0; 64]);
		let submittable = tx
			.sign_with_account_and_signature(&unused_account, &unused_signature)
			.map_err(chain)?;
		let in_block = submittable
			.submit_and_watch()
			.await
			.map_err(chain)?
			.wait_for_finalized()
			.await
			.map_err(chain)?;
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

fn account_value(account: &HostId) -> Value {
	let bytes: &[u8; 32] = account.as_ref();
	bytes_value(bytes)
}

fn bytes_value(bytes: &[u8]) -> Value {
	Value::from_bytes(bytes)
}

fn commit_value(commit: &PocCommit) -> Value {
	Value::named_composite([
		("epoch", Value::u128(commit.epoch.into())),
		("model", Value::u128(commit.model.into())),
		("count", Value::u128(commit.count.into())),
		("root", bytes_value(commit.root.as_bytes())),
	])
}

fn unexpected(what: &str, value: &Value<impl core::fmt::Debug>) -> Error {
	Error::Unexpected(format!("{what}: {value:?}"))
}

fn number<T: TryFrom<u128>>(value: &Value<impl core::fmt::Debug>, field: &str) -> Result<T, Error> {
	value
		.at(field)
		.and_then(|field| field.as_u128())
		.and_then(|number| T::try_from(number).ok())
		.ok_or_else(|| unexpected(field, value))
}

/// The bytes of a byte array, or of a newtype around one (`H256`).
fn bytes_of<C>(value: &Value<C>) -> Option<Vec<u8>> {
	let ValueDef::Composite(composite) = &value.value else { return None };
	let mut fields = composite.values();
	match (fields.next(), fields.next()) {
		// A newtype: the bytes are its one field.
		(Some(inner), None) if matches!(inner.value, ValueDef::Composite(_)) => bytes_of(inner),
		_ => composite
			.values()
			.map(|byte| byte.as_u128().and_then(|byte| u8::try_from(byte).ok()))
			.collect(),
	}
}

/// Decodes `PocApi::epoch`'s `Option<(EpochInfo, Phase)>`.
fn decode_epoch<C: core::fmt::Debug>(value: &Value<C>) -> Result<Option<Epoch>, Error> {
	let ValueDef::Variant(option) = &value.value else {
		return Err(unexpected("epoch: not an Option", value));
	};
	match option.name.as_str() {
		"None" => return Ok(None),
		"Some" => {}
		_ => return Err(unexpected("epoch: not an Option", value)),
	}
	let pair = option.values.values().next().ok_or_else(|| unexpected("epoch", value))?;
	let (info, phase) = match (pair.at(0), pair.at(1)) {
		(Some(info), Some(phase)) => (info, phase),
		_ => return Err(unexpected("epoch: not a pair", value)),
	};
	let params = info.at("params").ok_or_else(|| unexpected("params", info))?;
	let seed: [u8; 32] = info
		.at("seed")
		.and_then(bytes_of)
		.and_then(|seed| seed.try_into().ok())
		.ok_or_else(|| unexpected("seed", info))?;
	let ValueDef::Variant(phase) = &phase.value else {
		return Err(unexpected("phase", phase));
	};
	let next_block_phase = match phase.name.as_str() {
		"Generation" => Phase::Generation,
		"ValidationDelay" => Phase::ValidationDelay,
		"Validation" => Phase::Validation,
		"Inference" => Phase::Inference,
		other => return Err(Error::Unexpected(format!("unknown phase {other}"))),
	};
	Ok(Some(Epoch {
		index: number(info, "index")?,
		start: number(info, "start")?,
		length: number(params, "epoch_length")?,
		seed: H256(seed),
		next_block_phase,
	}))
}
