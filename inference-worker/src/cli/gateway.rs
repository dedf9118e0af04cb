//! `gonka-worker gateway`: the developer's OpenAI-compatible gateway over inference
//! channels (`docs/developer.md`), for as long as the process lives. It loads each
//! model's tokenizer from its file, checks it against the chain's record (the name the
//! API serves it by, the end tokens), takes up the channels of its data directory, serves
//! the API, and looks at the chain every `poll_ms` to open, rotate and top up channels;
//! a lost node is reconnected with a backoff.

use super::host::account_key;
use crate::gateway::{
	config::GatewayConfig, http::GatewayServer, keys::ApiKeys, supply::ChainSupply, Gateway,
};
use gonka_client::ChainClient;
use gonka_primitives::HostId;
use std::{sync::Arc, time::Duration};

/// `gonka-worker gateway-key --name NAME`: a new API key for the hosted mode, printed once
/// with the configuration entry that names it by its hash.
pub fn new_key(name: &str) -> anyhow::Result<()> {
	let key = crate::gateway::keys::new_key()?;
	let hash = hex::encode(crate::gateway::keys::hash_key(&key));
	eprintln!("the key (give it to its user; the gateway keeps only its hash):");
	println!("{key}");
	eprintln!("\nits entry in the gateway's configuration:");
	let name = toml::Value::String(name.to_string());
	eprintln!(
		"[[api_keys]]\nname = {name}\nkey_hash = \"{hash}\"\nrequests_per_minute = 60\n\
		 # max_spend = 1000000000  # in the smallest unit of GNK (1 GNK)"
	);
	Ok(())
}

/// Runs the gateway of `config` until the process ends.
pub async fn gateway(config: GatewayConfig) -> anyhow::Result<()> {
	let account = account_key(&config.account_key_file)?;
	let account_id = HostId::new(account.public_key().0);
	let client = ChainClient::connect(&config.node).await?;
	let longest = client.max_channel_blocks().await?;
	let mut models = Vec::new();
	for model in &config.models {
		// The chain would refuse every channel of it (`BadDuration`): say so now, not in
		// a warning at each look.
		if model.duration > longest {
			anyhow::bail!(
				"model {}: a channel of {} blocks (`duration`) is longer than this chain allows \
				 ({longest} blocks)",
				model.model_id,
				model.duration
			);
		}
		let tokenizer = crate::model::tokenizer(&model.model_file)?;
		let Some(record) = client.model(model.model_id).await? else {
			anyhow::bail!("model {} is not in the chain's registry", model.model_id);
		};
		if record.end_tokens != tokenizer.end_tokens() {
			anyhow::bail!(
				"{}: its tokenizer ends completions with {:?}, the chain's record of model {} with {:?}",
				model.model_file.display(),
				tokenizer.end_tokens(),
				model.model_id,
				record.end_tokens
			);
		}
		models.push((model.clone(), record.name, Arc::new(tokenizer)));
	}
	let supply = ChainSupply::new(models, config.data_dir.clone())?;
	supply.restore(&client, &account_id).await?;
	let keys = ApiKeys::open(&config.api_keys, &config.data_dir)?;
	let hosted = keys.is_some();
	let server = GatewayServer::start(&config.listen, Gateway::hosted(supply.clone(), keys))?;
	println!(
		"gateway: http://{}/v1{}",
		server.address(),
		if hosted {
			format!(" (hosted: {} API keys)", config.api_keys.len())
		} else {
			String::new()
		}
	);
	let poll = Duration::from_millis(config.poll_ms);
	let mut client = Some(client);
	let mut backoff = Duration::from_secs(1);
	loop {
		let connected = match client.take() {
			Some(client) => client,
			None => match ChainClient::connect(&config.node).await {
				Ok(client) => client,
				Err(error) => {
					tracing::warn!(%error, retry_in = ?backoff, "the gateway cannot reach the node");
					tokio::time::sleep(backoff).await;
					backoff = (backoff * 2).min(Duration::from_secs(30));
					continue;
				}
			},
		};
		backoff = Duration::from_secs(1);
		match supply.look(&connected, &account).await {
			Ok(()) => client = Some(connected),
			Err(crate::gateway::supply::SupplyError::Chain(error)) => {
				tracing::warn!(%error, "the gateway's look at the chain failed");
			}
			Err(error) => tracing::error!(%error, "the gateway's channels"),
		}
		if client.is_none() {
			// Reconnect at once after a chain error.
			continue;
		}
		tokio::time::sleep(poll).await;
	}
}
