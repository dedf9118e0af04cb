//! Hosted mode (`[[api_keys]]` in the gateway's configuration, `docs/developer.md`): the
//! gateway answers only requests that carry one of its API keys (`Authorization: Bearer
//! <key>`, as OpenAI's clients send their `api_key`), each key with limits of its own.
//!
//! - **Hashed at rest**: the configuration names each key by its hash (`key_hash`: the
//!   BLAKE2b-256 of the key, hex); neither it nor the data directory ever holds a key.
//!   `gonka-worker gateway-key --name NAME` makes a key and prints it once, with its
//!   configuration entry. A key is 32 random bytes, so a plain hash of it cannot be
//!   searched back.
//! - **401 `invalid_api_key`**: no key, or one the configuration does not list (every
//!   route, `/v1/models` too, as OpenAI's API does).
//! - **429 `rate_limit_exceeded`**: the key started `requests_per_minute` requests in the
//!   last 60 seconds already.
//! - **429 `insufficient_quota`**: the request's maximum cost (at the channel's price)
//!   does not fit in what the key has left of `max_spend` (in the smallest unit of GNK),
//!   counting the maximum cost of its requests in flight: requests at once cannot
//!   overspend. What each key spent (a receipt's cost, once the gateway signs its
//!   voucher, whether or not the client is still there) is journaled (`api-keys.log` in
//!   the data directory), so a restart forgets no spending. A request that ends without a
//!   receipt costs the key nothing (its executor may still claim it as a tail receipt:
//!   the account pays that, the key is not charged).
//!
//! Without `[[api_keys]]` the gateway is open to whoever reaches its address (the default:
//! it listens on 127.0.0.1).

use super::{config::ApiKeyConfig, openai::ApiError};
use crate::{channel::log::Log, Error, Result};
use codec::{Decode, Encode};
use std::{
	collections::{BTreeMap, VecDeque},
	path::Path,
	sync::{Arc, Mutex},
	time::{Duration, Instant},
};

/// The journal of the keys' spending, in the gateway's data directory.
pub const SPENT_FILE: &str = "api-keys.log";

/// The window `requests_per_minute` counts in.
const MINUTE: Duration = Duration::from_secs(60);

/// A key's hash, as the configuration names it.
pub type KeyHash = [u8; 32];

/// The hash the configuration names `key` by.
pub fn hash_key(key: &str) -> KeyHash {
	gonka_primitives::hash(key.as_bytes())
}

/// A new API key: `gk-` and 32 random bytes in hex.
pub fn new_key() -> Result<String> {
	use rand_chacha::rand_core::{OsRng, TryRngCore};
	let mut bytes = [0u8; 32];
	// Unlike a salt, a guessable key is no key at all: no key without the OS's randomness.
	OsRng.try_fill_bytes(&mut bytes).map_err(|error| {
		Error::Channel(format!("the operating system gave no randomness for a key: {error}"))
	})?;
	Ok(format!("gk-{}", hex::encode(bytes)))
}

/// One spending, journaled.
#[derive(Encode, Decode)]
struct Spent {
	key: KeyHash,
	cost: u128,
}

struct KeyState {
	name: String,
	requests_per_minute: u32,
	max_spend: Option<u128>,
	started: VecDeque<Instant>,
	spent: u128,
	/// The maximum cost of its requests in flight.
	reserved: u128,
}

/// The hosted mode's keys, their limits and their spending.
pub struct ApiKeys {
	keys: Mutex<BTreeMap<KeyHash, KeyState>>,
	journal: Mutex<Log<Spent>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
	mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Parses a `key_hash` (64 hex digits).
pub fn parse_hash(text: &str) -> Option<KeyHash> {
	let bytes = hex::decode(text.strip_prefix("0x").unwrap_or(text)).ok()?;
	bytes.try_into().ok()
}

impl ApiKeys {
	/// The keys of `configs` (whose hashes `GatewayConfig::load` checked), with what each
	/// spent as the journal under `data_dir` says; `None` without keys (the open mode).
	pub fn open(configs: &[ApiKeyConfig], data_dir: &Path) -> Result<Option<Arc<Self>>> {
		if configs.is_empty() {
			return Ok(None);
		}
		let mut keys = BTreeMap::new();
		for config in configs {
			let hash = parse_hash(&config.key_hash).ok_or_else(|| {
				Error::Channel(format!("api key `{}`: key_hash is not 64 hex digits", config.name))
			})?;
			keys.insert(
				hash,
				KeyState {
					name: config.name.clone(),
					requests_per_minute: config.requests_per_minute,
					max_spend: config.max_spend.map(u128::from),
					started: VecDeque::new(),
					spent: 0,
					reserved: 0,
				},
			);
		}
		std::fs::create_dir_all(data_dir).map_err(Error::io("the gateway's data directory"))?;
		let (journal, spent) = Log::<Spent>::open(&data_dir.join(SPENT_FILE))?;
		for Spent { key, cost } in spent {
			// A key removed from the configuration keeps its lines, unread.
			if let Some(state) = keys.get_mut(&key) {
				state.spent = state.spent.saturating_add(cost);
			}
		}
		Ok(Some(Arc::new(Self { keys: Mutex::new(keys), journal: Mutex::new(journal) })))
	}

	/// The key of a request's `Authorization` header, if it is one of the keys (every
	/// route checks it first).
	pub fn check(&self, authorization: Option<&str>) -> std::result::Result<KeyHash, ApiError> {
		let key = authorization
			.and_then(|value| value.trim().split_once(char::is_whitespace))
			.filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
			.map(|(_, key)| key.trim())
			.filter(|key| !key.is_empty())
			.ok_or_else(|| {
				invalid_key("no API key: send `Authorization: Bearer <key>` (the client's api_key)")
			})?;
		let hash = hash_key(key);
		if !lock(&self.keys).contains_key(&hash) {
			return Err(invalid_key("the API key is not one of this gateway's"));
		}
		Ok(hash)
	}

	/// Admits a completion for `hash` (a key [`Self::check`] found) at `now`: within its
	/// rate and with spending room left; the request is counted in its rate
	/// ([`Self::reserve`] holds its maximum cost once it is known).
	pub fn admit(&self, hash: KeyHash, now: Instant) -> std::result::Result<(), ApiError> {
		let mut keys = lock(&self.keys);
		let Some(state) = keys.get_mut(&hash) else {
			return Err(invalid_key("the API key is not one of this gateway's"));
		};
		if state.max_spend.is_some_and(|most| state.spent.saturating_add(state.reserved) >= most) {
			return Err(quota(state, 0));
		}
		while state.started.front().is_some_and(|at| now.duration_since(*at) >= MINUTE) {
			state.started.pop_front();
		}
		if state.started.len() >= state.requests_per_minute as usize {
			return Err(ApiError::new(
				429,
				"requests",
				"rate_limit_exceeded",
				format!(
					"the API key `{}` may start {} requests a minute",
					state.name, state.requests_per_minute
				),
			));
		}
		state.started.push_back(now);
		Ok(())
	}

	/// Holds `most` (a request's maximum cost) of `key`'s room until the request ends:
	/// refused if its spending, its requests in flight and this one would pass
	/// `max_spend`. The [`Reservation`] charges the receipt's cost, or frees the room if
	/// dropped without one.
	pub fn reserve(
		self: &Arc<Self>,
		key: KeyHash,
		most: u128,
	) -> std::result::Result<Reservation, ApiError> {
		let mut keys = lock(&self.keys);
		let Some(state) = keys.get_mut(&key) else {
			return Err(invalid_key("the API key is not one of this gateway's"));
		};
		let after = state.spent.saturating_add(state.reserved).saturating_add(most);
		if state.max_spend.is_some_and(|limit| after > limit) {
			return Err(quota(state, most));
		}
		state.reserved = state.reserved.saturating_add(most);
		Ok(Reservation { keys: self.clone(), key, most, done: false })
	}

	/// Frees `most` of `key`'s room and notes `cost` spent (journaled; counted even if
	/// the journal fails, which is logged).
	fn settle(&self, key: &KeyHash, most: u128, cost: u128) {
		if cost > 0 {
			if let Err(error) = lock(&self.journal).append(&Spent { key: *key, cost }) {
				tracing::error!(%error, cost, "an API key's spending was not journaled");
			}
		}
		if let Some(state) = lock(&self.keys).get_mut(key) {
			state.reserved = state.reserved.saturating_sub(most);
			state.spent = state.spent.saturating_add(cost);
		}
	}

	/// What `key` spent so far.
	pub fn spent(&self, key: &KeyHash) -> Option<u128> {
		lock(&self.keys).get(key).map(|state| state.spent)
	}
}

fn invalid_key(message: &str) -> ApiError {
	ApiError::new(401, "invalid_request_error", "invalid_api_key", message)
}

fn quota(state: &KeyState, most: u128) -> ApiError {
	ApiError::new(
		429,
		"insufficient_quota",
		"insufficient_quota",
		format!(
			"the API key `{}` has no room for this request: {} spent, {} in flight, this one \
			 may cost {most}, its limit is {}",
			state.name,
			state.spent,
			state.reserved,
			state.max_spend.unwrap_or(u128::MAX)
		),
	)
}

/// A request's hold on its key's spending room ([`ApiKeys::reserve`]).
pub struct Reservation {
	keys: Arc<ApiKeys>,
	key: KeyHash,
	most: u128,
	done: bool,
}

impl Reservation {
	/// The request's receipt cost `cost` (its voucher signed): charged to the key.
	pub fn charge(mut self, cost: u128) {
		self.done = true;
		self.keys.settle(&self.key, self.most, cost);
	}
}

impl Drop for Reservation {
	fn drop(&mut self) {
		if !self.done {
			self.keys.settle(&self.key, self.most, 0);
		}
	}
}
