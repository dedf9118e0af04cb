//! The gateway's channels from the chain (`docs/developer.md`): for each model it keeps a
//! channel open ahead of need, so that steady-state requests never wait for a block.
//!
//! - **Open.** A channel of `committee` slots and `duration` blocks, its price capped at
//!   `price_margin` × the price quoted now, with a deposit of `requests_per_slot` largest
//!   requests per slot at the cap. Its key is fresh (`sr25519`, the seed written to
//!   `channel-<id>.key` in the data directory, mode 0600 on Unix) and proves itself to the
//!   chain (`prove_channel_key`); the account key signs the transaction.
//! - **Use.** Once the committee is drawn and finalized, the channel serves: each member's
//!   worker key and endpoint come from its registration.
//! - **Rotate.** `rotate_before` blocks before the channel ends, the next one is opened;
//!   it takes over once its committee is drawn. The old one ends on its own and each
//!   member settles it.
//! - **Top up.** When the receipts countersigned reach 80% of a channel's deposit, the
//!   gateway tops it up by the opening deposit (once per crossing); the members' larger
//!   allowances count once the top-up is finalized.
//! - **Restart.** The channels whose key files are in the data directory and that the
//!   chain shows open, this account's and not yet ended, are taken up from their journals.

use super::{config::GatewayModel, ChannelSupply, ModelChannel};
use crate::{
	channel::developer::{DeveloperChannel, DeveloperView, Member},
	inference::tokenizer::ChatTokenizer,
};
use gonka_client::{ChainClient, ChannelState, Keypair};
use gonka_primitives::{
	channel::{allowance, max_cost, ChannelId, ChannelTerms},
	HostId,
};
use polkadot_sdk::sp_core::{sr25519, Pair};
use std::{
	collections::BTreeMap,
	path::{Path, PathBuf},
	sync::{Arc, Mutex, RwLock},
};

/// A failure of the supply (logged; tried again at the next look).
#[derive(Debug, thiserror::Error)]
pub enum SupplyError {
	/// The chain.
	#[error(transparent)]
	Chain(Box<gonka_client::Error>),
	/// The data directory.
	#[error("{0}")]
	Local(String),
}

impl From<gonka_client::Error> for SupplyError {
	fn from(error: gonka_client::Error) -> Self {
		SupplyError::Chain(Box::new(error))
	}
}

/// A served model: its configuration, tokenizer, and channels.
struct Served {
	config: GatewayModel,
	name: String,
	tokenizer: Arc<ChatTokenizer>,
	current: Option<Arc<ModelChannel>>,
	next: Option<ChannelId>,
	/// The deposit at which the current channel was last topped up.
	topped_at: u128,
}

/// The channels of every model the gateway serves.
pub struct ChainSupply {
	models: RwLock<Vec<Served>>,
	data_dir: PathBuf,
}

impl ChannelSupply for ChainSupply {
	fn models(&self) -> Vec<String> {
		let models = self.models.read().unwrap_or_else(|poisoned| poisoned.into_inner());
		models.iter().map(|served| served.name.clone()).collect()
	}

	fn channel(&self, model: &str) -> Option<Arc<ModelChannel>> {
		let models = self.models.read().unwrap_or_else(|poisoned| poisoned.into_inner());
		models.iter().find(|served| served.name == model).and_then(|served| served.current.clone())
	}
}

fn key_path(data_dir: &Path, channel: ChannelId) -> PathBuf {
	data_dir.join(format!("channel-{channel}.key"))
}

fn write_secret(path: &Path, seed: &[u8]) -> Result<(), SupplyError> {
	let fail = |error: std::io::Error| SupplyError::Local(format!("{}: {error}", path.display()));
	let mut options = std::fs::OpenOptions::new();
	options.write(true).create(true).truncate(true);
	#[cfg(unix)]
	std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
	let mut file = options.open(path).map_err(fail)?;
	std::io::Write::write_all(&mut file, format!("0x{}", hex::encode(seed)).as_bytes())
		.and_then(|()| file.sync_all())
		.map_err(fail)
}

fn read_key(path: &Path) -> Option<sr25519::Pair> {
	let secret = std::fs::read_to_string(path).ok()?;
	sr25519::Pair::from_string(secret.trim(), None).ok()
}

impl ChainSupply {
	/// The supply of `models` (each with its tokenizer and its name on chain), keeping keys
	/// and journals under `data_dir`.
	pub fn new(
		models: Vec<(GatewayModel, String, Arc<ChatTokenizer>)>,
		data_dir: PathBuf,
	) -> Result<Arc<Self>, SupplyError> {
		std::fs::create_dir_all(&data_dir)
			.map_err(|error| SupplyError::Local(format!("{}: {error}", data_dir.display())))?;
		let models = models
			.into_iter()
			.map(|(config, name, tokenizer)| Served {
				config,
				name,
				tokenizer,
				current: None,
				next: None,
				topped_at: 0,
			})
			.collect();
		Ok(Arc::new(Self { models: RwLock::new(models), data_dir }))
	}

	/// The channel `channel` as a served channel, if its committee is drawn: its book
	/// opened from its journal, its members' keys and endpoints read from the chain.
	async fn serve(
		&self,
		client: &ChainClient,
		channel: ChannelId,
		state: &ChannelState,
		tokenizer: &Arc<ChatTokenizer>,
		name: &str,
	) -> Result<Option<Arc<ModelChannel>>, SupplyError> {
		if state.committee.is_empty() {
			return Ok(None);
		}
		let Some(key) = read_key(&key_path(&self.data_dir, channel)) else {
			return Err(SupplyError::Local(format!("the key of channel {channel} is missing")));
		};
		let (mut members, mut endpoints) = (BTreeMap::new(), BTreeMap::new());
		for host in &state.committee {
			if members.contains_key(host) {
				continue;
			}
			let Some(registered) = client.poc_host(host).await? else { continue };
			let slots = state.committee.iter().filter(|member| *member == host).count() as u32;
			members.insert(
				host.clone(),
				Member {
					worker_key: sr25519::Public::from_raw(registered.worker_key),
					allowance: allowance(slots, state.deposited, state.terms.committee),
				},
			);
			endpoints.insert(host.clone(), registered.endpoint);
		}
		let view = DeveloperView {
			channel,
			genesis_hash: client.genesis_hash(),
			price: state.price,
			template_overhead: state.template_overhead,
			max_request_tokens: state.terms.max_request_tokens,
			members,
		};
		let path = self.data_dir.join(format!("channel-{channel}.log"));
		let book = DeveloperChannel::open(&path, view, key)
			.map_err(|error| SupplyError::Local(error.to_string()))?;
		Ok(Some(Arc::new(ModelChannel {
			name: name.to_string(),
			tokenizer: tokenizer.clone(),
			book: Mutex::new(book),
			endpoints,
		})))
	}

	/// Takes up the channels of the data directory that are still open, this account's.
	pub async fn restore(&self, client: &ChainClient, account: &HostId) -> Result<(), SupplyError> {
		let finalized = client.block_number().await?;
		let mut found: Vec<(ChannelId, ChannelState)> = Vec::new();
		let entries = std::fs::read_dir(&self.data_dir)
			.map_err(|error| SupplyError::Local(format!("{}: {error}", self.data_dir.display())))?;
		for entry in entries.flatten() {
			let name = entry.file_name().to_string_lossy().into_owned();
			let Some(channel) = name
				.strip_prefix("channel-")
				.and_then(|rest| rest.strip_suffix(".key"))
				.and_then(|id| id.parse::<ChannelId>().ok())
			else {
				continue;
			};
			if let Some(state) = client.channel(channel).await? {
				if state.developer == *account && !state.closed && state.ends > finalized {
					found.push((channel, state));
				}
			}
		}
		found.sort_by_key(|(channel, _)| *channel);
		let count = self.models.read().unwrap_or_else(|poisoned| poisoned.into_inner()).len();
		for index in 0..count {
			let (model, tokenizer, name) = {
				let models = self.models.read().unwrap_or_else(|poisoned| poisoned.into_inner());
				let served = &models[index];
				(served.config.model_id, served.tokenizer.clone(), served.name.clone())
			};
			// The latest channel of the model serves.
			if let Some((channel, state)) =
				found.iter().rev().find(|(_, state)| state.terms.model == model)
			{
				let served = self.serve(client, *channel, state, &tokenizer, &name).await?;
				let mut models =
					self.models.write().unwrap_or_else(|poisoned| poisoned.into_inner());
				if let Some(served) = served {
					tracing::info!(channel, model, "a channel taken up from the data directory");
					models[index].current = Some(served);
					models[index].topped_at = state.deposited;
				} else {
					models[index].next = Some(*channel);
				}
			}
		}
		Ok(())
	}

	/// One look at the chain: opens, switches to and tops up each model's channels.
	pub async fn look(&self, client: &ChainClient, account: &Keypair) -> Result<(), SupplyError> {
		let finalized = client.block_number().await?;
		let count = self.models.read().unwrap_or_else(|poisoned| poisoned.into_inner()).len();
		for index in 0..count {
			self.look_at(client, account, finalized, index).await?;
		}
		Ok(())
	}

	async fn look_at(
		&self,
		client: &ChainClient,
		account: &Keypair,
		finalized: u32,
		index: usize,
	) -> Result<(), SupplyError> {
		let (config, name, tokenizer, current, next, topped_at) = {
			let models = self.models.read().unwrap_or_else(|poisoned| poisoned.into_inner());
			let served = &models[index];
			(
				served.config.clone(),
				served.name.clone(),
				served.tokenizer.clone(),
				served.current.clone(),
				served.next,
				served.topped_at,
			)
		};
		// The next channel takes over once its committee is drawn.
		if let Some(next) = next {
			match client.channel(next).await? {
				Some(state) if !state.committee.is_empty() => {
					if let Some(channel) =
						self.serve(client, next, &state, &tokenizer, &name).await?
					{
						tracing::info!(
							channel = next,
							model = config.model_id,
							"a new channel serves"
						);
						let mut models =
							self.models.write().unwrap_or_else(|poisoned| poisoned.into_inner());
						models[index].current = Some(channel);
						models[index].next = None;
						models[index].topped_at = state.deposited;
					}
				}
				Some(_) => {}
				None => {
					let mut models =
						self.models.write().unwrap_or_else(|poisoned| poisoned.into_inner());
					models[index].next = None;
				}
			}
			return Ok(());
		}
		let current_state = match &current {
			Some(channel) => {
				let id = channel
					.book
					.lock()
					.unwrap_or_else(|poisoned| poisoned.into_inner())
					.view()
					.channel;
				client.channel(id).await?.map(|state| (id, state))
			}
			None => None,
		};
		let ends_soon = match &current_state {
			Some((_, state)) => {
				state.closed || state.ends <= finalized.saturating_add(config.rotate_before)
			}
			None => true,
		};
		if ends_soon {
			let opened = self.open(client, account, &config).await?;
			let mut models = self.models.write().unwrap_or_else(|poisoned| poisoned.into_inner());
			models[index].next = Some(opened);
			return Ok(());
		}
		// Top-ups, and the members' allowances once one is finalized.
		if let (Some(channel), Some((id, state))) = (&current, current_state) {
			let spent: u128 = {
				let mut book = channel.book.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
				for (host, member) in book.view().members.clone() {
					let slots =
						state.committee.iter().filter(|member| **member == host).count() as u32;
					let grown = allowance(slots, state.deposited, state.terms.committee);
					if grown > member.allowance {
						book.set_allowance(&host, grown);
					}
				}
				book.view().members.keys().map(|host| book.total(host)).sum()
			};
			if spent.saturating_mul(5) >= state.deposited.saturating_mul(4)
				&& state.deposited <= topped_at
			{
				let amount = self.deposit(client, &config).await?.1;
				client.top_up(account, id, amount).await?;
				tracing::info!(channel = id, amount, "topped up a channel");
				let mut models =
					self.models.write().unwrap_or_else(|poisoned| poisoned.into_inner());
				models[index].topped_at = state.deposited.saturating_add(amount);
			}
		}
		Ok(())
	}

	/// The price cap and deposit of a new channel of `config`'s model.
	async fn deposit(
		&self,
		client: &ChainClient,
		config: &GatewayModel,
	) -> Result<(u128, u128), SupplyError> {
		let quote = client
			.quote_channel(config.model_id, config.committee, config.max_request_tokens)
			.await?
			.ok_or_else(|| {
				SupplyError::Local(format!("model {} has no price on chain", config.model_id))
			})?;
		let cap = quote.price.saturating_mul(u128::from(config.price_margin));
		let largest = max_cost(0, 0, config.max_request_tokens, cap).unwrap_or(u128::MAX);
		let deposit = largest
			.saturating_mul(u128::from(config.requests_per_slot))
			.saturating_mul(u128::from(config.committee))
			.max(quote.min_deposit.saturating_mul(u128::from(config.price_margin)));
		Ok((cap, deposit))
	}

	async fn open(
		&self,
		client: &ChainClient,
		account: &Keypair,
		config: &GatewayModel,
	) -> Result<ChannelId, SupplyError> {
		let (cap, deposit) = self.deposit(client, config).await?;
		let (key, seed) = sr25519::Pair::generate();
		let pending = self.data_dir.join("pending-channel.key");
		write_secret(&pending, &seed)?;
		let terms = ChannelTerms {
			model: config.model_id,
			channel_key: key.public(),
			price_cap: cap,
			committee: config.committee,
			duration: config.duration,
			max_request_tokens: config.max_request_tokens,
		};
		let opened = client.open_channel(account, terms, &key, deposit).await?;
		std::fs::rename(&pending, key_path(&self.data_dir, opened.channel))
			.map_err(|error| SupplyError::Local(format!("{}: {error}", pending.display())))?;
		tracing::info!(
			channel = opened.channel,
			model = config.model_id,
			deposit,
			"opened a channel"
		);
		Ok(opened.channel)
	}
}
