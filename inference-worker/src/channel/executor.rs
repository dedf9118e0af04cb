//! The executor's side of a channel (`channels.md`, sections 6, 7 and 10): which requests
//! it takes, the receipts it signs, the vouchers it counts and the settlement it sends.
//! Network and model aside: the endpoint calls [`ExecutorChannel::admit`] before it runs a
//! request, [`ExecutorChannel::complete`] with what the model generated (the receipt is
//! journaled and synced before it is returned, so before the gateway sees it), and
//! [`ExecutorChannel::accept_voucher`] for each voucher.
//!
//! **Acceptance** (section 6, amendment 17 cut the routing rule): a request is taken iff
//! - it is for this channel and this executor, and signed by the channel's key;
//! - the channel takes requests (the best block is before its end);
//! - its (nonce, try) is above every one taken before: receipts are numbered in increasing
//!   (nonce, try) order, which a voucher's `last` and the chain's tail rule rely on;
//! - its prompt is a conversation whose salted hash and byte count are the request's, its
//!   sampling valid, and it fits the channel's `max_request_tokens`;
//! - the executor's exposure, the cost of every receipt it signed plus the maximum cost of
//!   every request in flight, stays within its allowance with this one's maximum cost
//!   (402 otherwise): the chain pays at most the allowance;
//! - fewer than `MAX_TAIL` receipts are unvouchered or in flight (429 otherwise): every
//!   receipt the developer does not voucher fits one settlement's tail claims.
//!
//! **Vouchers** (amendment 2): one counts only if its channel key signed it, it names this
//! channel and executor, it covers no fewer receipts than the last one counted and no more
//! than were signed, and its root, amount and `last` are those of the executor's own first
//! `count` receipts. Anything else (an understated amount, a garbage root) counts as no
//! voucher: the receipts stay claimable as tail.

use super::{
	log::Log,
	prompt::{self, ChatMessage, Salt},
	validator::Checks,
};
use crate::{Error, Result};
use codec::{Decode, Encode};
use gonka_primitives::{
	channel::{
		check_receipt, max_cost, request_seed, ChannelId, ChannelMessage, ChannelRequest,
		ChannelSettle, DeliveryAck, FinishReason, Receipt, SignedVoucher, SumNode, SumTree,
		TailClaim, MAX_SAMPLES, MAX_TAIL,
	},
	inference::{completion_end, cost, Ended},
	HostId, H256,
};
use polkadot_sdk::sp_core::sr25519;
use std::{collections::BTreeMap, path::Path};

/// What the executor knows of a channel from the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelView {
	/// The channel.
	pub channel: ChannelId,
	/// The chain's genesis hash (in every signed message).
	pub genesis_hash: H256,
	/// The key that signs the channel's requests and vouchers.
	pub channel_key: sr25519::Public,
	/// The channel's price per token.
	pub price: u128,
	/// The model's template overhead, in tokens.
	pub template_overhead: u32,
	/// The most tokens one request may use (prompt bytes, overhead, completion).
	pub max_request_tokens: u32,
	/// The most the chain pays this executor for the channel.
	pub allowance: u128,
	/// The block at which the channel stops taking requests.
	pub ends: u32,
}

/// A request as the gateway sends it: signed, with its prompt and salt.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Payload {
	/// The request.
	pub request: ChannelRequest,
	/// The channel key's signature of it.
	pub request_signature: sr25519::Signature,
	/// The prompt's salt.
	pub salt: Salt,
	/// The prompt.
	pub messages: Vec<ChatMessage>,
}

/// A request served: what validators fetch (and jurors in a dispute).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Served {
	/// The request with its prompt.
	pub payload: Payload,
	/// The completion's token ids.
	pub token_ids: Vec<u32>,
	/// The receipt.
	pub receipt: Receipt,
	/// The worker key's signature of the receipt.
	pub signature: sr25519::Signature,
}

/// A sample's payload as the executor serves it to the validator drawn for it: the
/// request served and the receipt's proof (its siblings up to the voucher's root for a
/// vouchered receipt, the settlement's tail leaves for a tail one: `ReceiptEvidence`).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Delivery {
	/// The request, its prompt, the completion and the signed receipt.
	pub served: Served,
	/// The receipt's proof.
	pub proof: Vec<SumNode>,
}

/// A validator's signed acknowledgement that it received a sample's payload: it refutes
/// that validator's report of the payload as unavailable (amendment 8).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct SignedAck {
	/// The validator.
	pub validator: HostId,
	/// What it acknowledges.
	pub ack: DeliveryAck,
	/// Its worker key's signature (a duty's).
	pub signature: sr25519::Signature,
}

/// A record of the executor's channel log.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
enum Record {
	/// A receipt signed (and about to be sent).
	#[codec(index = 0)]
	Served(Box<Served>),
	/// A voucher counted.
	#[codec(index = 1)]
	Voucher(SignedVoucher),
	/// A validator's delivery acknowledgement.
	#[codec(index = 2)]
	Ack(SignedAck),
}

/// Why a request is not taken.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
	/// It names another channel or another executor.
	#[error("the request is for another channel or executor")]
	NotForThis,
	/// The channel key did not sign it.
	#[error("the request is not signed by the channel's key")]
	BadSignature,
	/// The channel takes no more requests.
	#[error("the channel ended at block {ends}")]
	Ended {
		/// Its end.
		ends: u32,
	},
	/// Its (nonce, try) is not above the last taken.
	#[error(
		"request ({nonce}, {attempt}) is not above the last taken ({last_nonce}, {last_attempt})"
	)]
	Stale {
		/// The request's nonce.
		nonce: u64,
		/// Its try.
		attempt: u8,
		/// The last taken nonce.
		last_nonce: u64,
		/// Its try.
		last_attempt: u8,
	},
	/// The prompt is not a conversation a request may carry.
	#[error("bad prompt: {0}")]
	BadPrompt(#[from] prompt::BadPrompt),
	/// The prompt's salted hash or byte count is not the request's.
	#[error("the prompt is not the one the request names")]
	NotThePrompt,
	/// Invalid sampling parameters, or no completion token asked for.
	#[error("invalid sampling parameters or max_tokens")]
	BadSampling,
	/// The request may use more tokens than the channel allows one request.
	#[error("the request may use {tokens} tokens; the channel allows {limit}")]
	TooLarge {
		/// Prompt bytes, overhead and completion tokens.
		tokens: u64,
		/// The channel's limit.
		limit: u32,
	},
	/// Taking it could cost more than the executor's allowance (HTTP 402).
	#[error(
		"the allowance {allowance} does not cover {exposure} owed or in flight plus {max_cost}"
	)]
	Allowance {
		/// What is owed and in flight.
		exposure: u128,
		/// The request's maximum cost.
		max_cost: u128,
		/// The allowance.
		allowance: u128,
	},
	/// Too many receipts are unvouchered or in flight (HTTP 429).
	#[error("{0} receipts are unvouchered or in flight: send a voucher first")]
	VoucherLag(u32),
	/// The channel holds as many receipts of this executor as one settlement may carry.
	#[error("{0} receipts in this channel: use another channel")]
	Full(u32),
}

/// A request taken: how to run it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admission {
	/// The sampler's seed.
	pub seed: u64,
	/// The request's maximum cost.
	pub max_cost: u128,
}

/// Why a voucher does not count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadVoucher {
	/// It names another channel or executor.
	#[error("the voucher is for another channel or executor")]
	NotForThis,
	/// The channel key did not sign it.
	#[error("the voucher is not signed by the channel's key")]
	BadSignature,
	/// It covers fewer receipts than a voucher already counted.
	#[error("the voucher covers {count} receipts, fewer than the {counted} already vouchered")]
	Older {
		/// Its count.
		count: u32,
		/// The count already vouchered.
		counted: u32,
	},
	/// It covers receipts this executor never signed.
	#[error("the voucher covers {count} receipts, but only {signed} were signed")]
	Unsigned {
		/// Its count.
		count: u32,
		/// The receipts signed.
		signed: u32,
	},
	/// Its root, amount or last request is not the executor's own receipts'.
	#[error("the voucher's root, amount or last request is not that of the receipts")]
	NotTheReceipts,
}

/// One channel of this executor.
pub struct ExecutorChannel {
	view: ChannelView,
	host: HostId,
	log: Log<Record>,
	served: Vec<Served>,
	voucher: Option<SignedVoucher>,
	/// The cost of every receipt signed.
	owed: u128,
	/// Requests taken and not yet receipted: (nonce, try) → maximum cost.
	in_flight: BTreeMap<(u64, u8), u128>,
	/// The highest (nonce, try) taken.
	last_taken: Option<(u64, u8)>,
	/// Delivery acknowledgements, by (settlement, sample, validator): a sample may have
	/// several validators, each acknowledging its own delivery.
	acks: BTreeMap<(u64, u32, HostId), SignedAck>,
}

impl ExecutorChannel {
	/// Opens the channel's log at `path` (created empty for a new channel) and takes up
	/// its receipts and vouchers.
	pub fn open(path: &Path, view: ChannelView, host: HostId) -> Result<Self> {
		let (log, records) = Log::open(path)?;
		let mut channel = Self {
			view,
			host,
			log,
			served: Vec::new(),
			voucher: None,
			owed: 0,
			in_flight: BTreeMap::new(),
			last_taken: None,
			acks: BTreeMap::new(),
		};
		for record in records {
			match record {
				Record::Served(served) => channel.note_served(*served),
				Record::Voucher(voucher) => channel.voucher = Some(voucher),
				Record::Ack(ack) => {
					let key = (ack.ack.settlement, ack.ack.sample, ack.validator.clone());
					channel.acks.insert(key, ack);
				}
			}
		}
		Ok(channel)
	}

	fn note_served(&mut self, served: Served) {
		self.owed = self.owed.saturating_add(served.receipt.cost);
		let taken = (served.receipt.nonce, served.receipt.attempt);
		self.last_taken = self.last_taken.max(Some(taken));
		self.served.push(served);
	}

	/// The channel as the chain shows it.
	pub fn view(&self) -> &ChannelView {
		&self.view
	}

	/// The chain's view changed: a top-up finalized (the allowance only grows), or the
	/// developer closed the channel early (its end moves closer).
	pub fn set_view(&mut self, view: ChannelView) {
		let allowance = self.view.allowance.max(view.allowance);
		self.view = ChannelView { allowance, ..view };
	}

	/// The receipts signed, by `seq`.
	pub fn served(&self) -> &[Served] {
		&self.served
	}

	/// The receipts signed with `seq` in `from..to`, at most [`MAX_TAIL`] of them (a
	/// developer that lost receipts lost at most the unvouchered ones; it asks again for
	/// more): what a [`ReceiptsQuery`] asks for.
	///
	/// [`ReceiptsQuery`]: gonka_primitives::channel::ReceiptsQuery
	pub fn receipts(&self, from: u32, to: u32) -> &[Served] {
		let end = (to as usize)
			.min(self.served.len())
			.min((from as usize).saturating_add(MAX_TAIL as usize));
		self.served.get(from as usize..end).unwrap_or(&[])
	}

	/// The latest voucher counted.
	pub fn voucher(&self) -> Option<&SignedVoucher> {
		self.voucher.as_ref()
	}

	/// What the receipts signed cost.
	pub fn owed(&self) -> u128 {
		self.owed
	}

	/// The requests taken and not yet receipted or abandoned.
	pub fn in_flight(&self) -> usize {
		self.in_flight.len()
	}

	/// The receipts not covered by the latest voucher.
	pub fn unvouchered(&self) -> u32 {
		let vouchered = self.voucher.as_ref().map_or(0, |signed| signed.voucher.count);
		(self.served.len() as u32).saturating_sub(vouchered)
	}

	/// Takes `payload`'s request at best block `best`, or says why not. A request taken is
	/// in flight until [`Self::complete`] or [`Self::abandon`].
	pub fn admit(&mut self, payload: &Payload, best: u32) -> Result<Admission, Refusal> {
		let request = &payload.request;
		let view = &self.view;
		if request.channel != view.channel || request.executor != self.host {
			return Err(Refusal::NotForThis);
		}
		if !request.verify(&view.genesis_hash, &view.channel_key, &payload.request_signature) {
			return Err(Refusal::BadSignature);
		}
		if best >= view.ends {
			return Err(Refusal::Ended { ends: view.ends });
		}
		let taken = (request.nonce, request.attempt);
		if let Some(last) = self.last_taken.filter(|last| taken <= *last) {
			return Err(Refusal::Stale {
				nonce: taken.0,
				attempt: taken.1,
				last_nonce: last.0,
				last_attempt: last.1,
			});
		}
		let bytes = prompt::check(&payload.messages)?;
		if bytes != request.prompt_bytes
			|| prompt::prompt_hash(&payload.salt, &payload.messages) != request.prompt_hash
		{
			return Err(Refusal::NotThePrompt);
		}
		if request.max_tokens == 0 || !request.sampling.is_valid() {
			return Err(Refusal::BadSampling);
		}
		let tokens = u64::from(request.prompt_bytes)
			+ u64::from(view.template_overhead)
			+ u64::from(request.max_tokens);
		if tokens > u64::from(view.max_request_tokens) {
			return Err(Refusal::TooLarge { tokens, limit: view.max_request_tokens });
		}
		let most =
			max_cost(request.prompt_bytes, view.template_overhead, request.max_tokens, view.price)
				.unwrap_or(u128::MAX);
		let exposure =
			self.in_flight.values().fold(self.owed, |total, cost| total.saturating_add(*cost));
		if exposure.saturating_add(most) > view.allowance {
			return Err(Refusal::Allowance { exposure, max_cost: most, allowance: view.allowance });
		}
		let lag = self.unvouchered().saturating_add(self.in_flight.len() as u32);
		if lag >= MAX_TAIL {
			return Err(Refusal::VoucherLag(lag));
		}
		// One settlement carries at most `MAX_SAMPLES` samples, and a new host's receipts
		// are all sampled: a channel's receipts stay within what one settlement may claim.
		let receipts = (self.served.len() as u32).saturating_add(self.in_flight.len() as u32);
		if receipts >= MAX_SAMPLES {
			return Err(Refusal::Full(receipts));
		}
		self.in_flight.insert(taken, most);
		self.last_taken = Some(taken);
		Ok(Admission {
			seed: request_seed(&view.genesis_hash, view.channel, taken.0, taken.1),
			max_cost: most,
		})
	}

	/// Forgets a request taken that will not be receipted (the model failed, the gateway
	/// left): its nonce stays used.
	pub fn abandon(&mut self, request: &ChannelRequest) {
		self.in_flight.remove(&(request.nonce, request.attempt));
	}

	/// The receipt of a request taken, whose templated prompt had `prompt_tokens` tokens
	/// and whose completion is `token_ids` (ended by one of `end_tokens` or at
	/// `max_tokens`): signed with `worker_key`, journaled and synced, then returned.
	pub fn complete(
		&mut self,
		payload: Payload,
		prompt_tokens: u32,
		token_ids: Vec<u32>,
		end_tokens: &[u32],
		worker_key: &sr25519::Pair,
	) -> Result<Served> {
		let request = &payload.request;
		let taken = (request.nonce, request.attempt);
		let Some(most) = self.in_flight.get(&taken).copied() else {
			return Err(Error::Channel(format!("request {taken:?} was not taken")));
		};
		// Receipts are numbered in (nonce, try) order: one taken earlier and still running
		// would get a later `seq` with a lower (nonce, try).
		if self.in_flight.keys().next() != Some(&taken) {
			self.in_flight.remove(&taken);
			return Err(Error::Channel(format!(
				"request {taken:?} finished before an earlier one: not receipted"
			)));
		}
		let finish = match completion_end(&token_ids, request.max_tokens, end_tokens) {
			Ok(Ended::EndToken) => FinishReason::Stop,
			Ok(Ended::MaxTokens) => FinishReason::Length,
			Err(unfinished) => {
				self.in_flight.remove(&taken);
				return Err(Error::Channel(format!(
					"the completion is not complete: {unfinished:?}"
				)));
			}
		};
		let completion_tokens = token_ids.len() as u32;
		let price = self.view.price;
		let Some(cost) = cost(prompt_tokens, completion_tokens, price).filter(|cost| *cost <= most)
		else {
			self.in_flight.remove(&taken);
			return Err(Error::Channel(format!(
				"{prompt_tokens} prompt and {completion_tokens} completion tokens cost more than \
				 the request's maximum {most}"
			)));
		};
		let receipt = Receipt {
			channel: self.view.channel,
			seq: self.served.len() as u32,
			nonce: request.nonce,
			attempt: request.attempt,
			request_hash: request.hash(),
			prompt_hash: request.prompt_hash,
			output_hash: H256(gonka_primitives::hash(&token_ids.encode())),
			prompt_tokens,
			completion_tokens,
			finish,
			seed: request_seed(&self.view.genesis_hash, self.view.channel, taken.0, taken.1),
			cost,
		};
		// The chain's rule for a tail claim: a receipt it would refuse is never signed (it
		// would void the whole settlement).
		let view = &self.view;
		if let Err(bad) =
			check_receipt(&view.genesis_hash, request, &receipt, view.price, view.template_overhead)
		{
			self.in_flight.remove(&taken);
			return Err(Error::Channel(format!(
				"the receipt would not pass the chain's rule: {bad:?}"
			)));
		}
		let signature = receipt.sign(&self.view.genesis_hash, worker_key);
		let served = Served { payload, token_ids, receipt, signature };
		// Taken out of flight whatever the journal does: a failed append leaves no receipt
		// (the log cuts a partial record), and the next request is not held behind it.
		self.in_flight.remove(&taken);
		self.log.append(&Record::Served(Box::new(served.clone())))?;
		self.note_served(served.clone());
		Ok(served)
	}

	/// Counts `signed` if it is a voucher for this executor's own receipts (and journals
	/// it); `Ok(false)` if it is the voucher already counted.
	pub fn accept_voucher(&mut self, signed: SignedVoucher) -> Result<Result<bool, BadVoucher>> {
		let voucher = &signed.voucher;
		if voucher.channel != self.view.channel || voucher.executor != self.host {
			return Ok(Err(BadVoucher::NotForThis));
		}
		if !voucher.verify(&self.view.genesis_hash, &self.view.channel_key, &signed.signature) {
			return Ok(Err(BadVoucher::BadSignature));
		}
		// The voucher counted, again: answered before rebuilding any tree.
		if self.voucher.as_ref() == Some(&signed) {
			return Ok(Ok(false));
		}
		let counted = self.voucher.as_ref().map_or(0, |counted| counted.voucher.count);
		if voucher.count < counted {
			return Ok(Err(BadVoucher::Older { count: voucher.count, counted }));
		}
		let signed_receipts = self.served.len() as u32;
		if voucher.count > signed_receipts {
			return Ok(Err(BadVoucher::Unsigned { count: voucher.count, signed: signed_receipts }));
		}
		let covered = &self.served[..voucher.count as usize];
		let Some(tree) = SumTree::from_receipts(covered.iter().map(|served| &served.receipt))
		else {
			return Ok(Err(BadVoucher::NotTheReceipts));
		};
		let root = tree.root();
		let last =
			covered.last().map_or((0, 0), |served| (served.receipt.nonce, served.receipt.attempt));
		if root.hash != voucher.root || root.sum != voucher.amount || last != voucher.last {
			return Ok(Err(BadVoucher::NotTheReceipts));
		}
		self.log.append(&Record::Voucher(signed.clone()))?;
		self.voucher = Some(signed);
		Ok(Ok(true))
	}

	/// The payload of a sample of this executor's settlement whose voucher covered `count`
	/// receipts and which claimed `tail` more as tail: for [`Checks::Tree`], the receipt
	/// whose cost interval holds the point in the tree of the first `count` receipts, with
	/// its siblings; for [`Checks::Tail`], that tail receipt with the tail's leaves; for
	/// a challenged leaf ([`Checks::Leaf`]), that vouchered receipt with its siblings.
	/// `None` if the book holds no such receipt.
	pub fn delivery(&self, count: u32, tail: u32, what: impl Into<Checks>) -> Option<Delivery> {
		let (count, tail) = (count as usize, tail as usize);
		let covered = || {
			let covered = self.served.get(..count)?;
			let tree = SumTree::from_receipts(covered.iter().map(|served| &served.receipt))?;
			Some((covered, tree))
		};
		match what.into() {
			Checks::Tree(point) => {
				let (covered, tree) = covered()?;
				let index = tree.leaf_at(point)?;
				let proof = tree.proof(index)?;
				Some(Delivery { served: covered.get(index as usize)?.clone(), proof })
			}
			Checks::Leaf(seq) => {
				let (covered, tree) = covered()?;
				let proof = tree.proof(u64::from(seq))?;
				Some(Delivery { served: covered.get(seq as usize)?.clone(), proof })
			}
			Checks::Tail(index) => {
				let tails = self.served.get(count..count.checked_add(tail)?)?;
				let proof = tails.iter().map(|served| SumNode::leaf(&served.receipt)).collect();
				Some(Delivery { served: tails.get(index as usize)?.clone(), proof })
			}
		}
	}

	/// Keeps a validator's acknowledgement of a delivery (journaled; a validator's first
	/// one of a sample is kept).
	pub fn note_ack(&mut self, ack: SignedAck) -> Result<()> {
		let key = (ack.ack.settlement, ack.ack.sample, ack.validator.clone());
		if self.acks.contains_key(&key) {
			return Ok(());
		}
		self.log.append(&Record::Ack(ack.clone()))?;
		self.acks.insert(key, ack);
		Ok(())
	}

	/// `validator`'s acknowledgement of a sample's delivery, if it sent one.
	pub fn ack(&self, settlement: u64, sample: u32, validator: &HostId) -> Option<&SignedAck> {
		self.acks.get(&(settlement, sample, validator.clone()))
	}

	/// The settlement to send: the latest voucher counted, and the receipts after it as
	/// tail claims (at most `MAX_TAIL`; the acceptance rule keeps them within it).
	pub fn settlement(&self) -> ChannelSettle {
		let vouchered = self.voucher.as_ref().map_or(0, |signed| signed.voucher.count) as usize;
		let tail = self
			.served
			.iter()
			.skip(vouchered)
			.take(MAX_TAIL as usize)
			.map(|served| TailClaim {
				request: served.payload.request.clone(),
				request_signature: served.payload.request_signature,
				receipt: served.receipt.clone(),
			})
			.collect::<Vec<_>>();
		ChannelSettle {
			channel: self.view.channel,
			voucher: self.voucher.clone(),
			tail: tail.try_into().unwrap_or_default(),
		}
	}
}
