//! The developer's side of a channel, as its gateway keeps it (`channels.md`, sections 6
//! and 10): the nonces it signs requests with, the receipts it checked and the vouchers
//! it signed for each committee member. Network and model aside: the gateway calls
//! [`DeveloperChannel::request`] to sign a request, then [`DeveloperChannel::accept`] with
//! the receipt, the token ids it was streamed and its own count of the prompt's tokens;
//! a receipt that passes is appended to the member's sum tree and a new voucher is
//! signed, journaled and synced before it is returned.
//!
//! **A receipt is countersigned only if** the member's worker key signed it; it answers
//! the request at the channel's terms (`gonka_primitives::channel::check_receipt`: ids,
//! hashes, seed, the stop rule's counts, cost at the channel's price within the request's
//! maximum); its `output_hash` is the hash of the ids streamed and its completion count
//! their number, ended as the model's end tokens say (an end token last and no earlier
//! one, or exactly `max_tokens`); its prompt count is the gateway's own tokenizer's; its
//! `seq` is the next of that member; and the member's total stays within its allowance.
//! A bad receipt is never signed: an executor that inflates one is not paid for it
//! unless it claims it as tail, where the chain checks it the same way and validators
//! replay it.
//!
//! **Nonces** are reserved in blocks of [`NONCE_BLOCK`] in the journal before any of them
//! is signed, so a restarted gateway never signs a nonce twice.

use super::{
	log::Log,
	prompt::{self, BadPrompt, ChatMessage, Salt},
};
use crate::Result;
use codec::{Decode, Encode};
use gonka_primitives::{
	channel::{
		check_receipt, BadReceipt, ChannelId, ChannelMessage, ChannelRequest, Receipt,
		SignedVoucher, SumTree, Voucher,
	},
	inference::{completion_end, SamplingParams},
	HostId, H256,
};
use polkadot_sdk::sp_core::{sr25519, Pair};
use std::{collections::BTreeMap, path::Path};

/// Nonces reserved in the journal at a time.
pub const NONCE_BLOCK: u64 = 64;

/// What the gateway knows of a channel from the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeveloperView {
	/// The channel.
	pub channel: ChannelId,
	/// The chain's genesis hash.
	pub genesis_hash: H256,
	/// The channel's price per token.
	pub price: u128,
	/// The model's template overhead, in tokens.
	pub template_overhead: u32,
	/// The most tokens one request may use.
	pub max_request_tokens: u32,
	/// The committee: each member's worker key and allowance.
	pub members: BTreeMap<HostId, Member>,
}

/// A committee member as the chain shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
	/// The key that signs its receipts.
	pub worker_key: sr25519::Public,
	/// The most the chain pays it for the channel.
	pub allowance: u128,
}

/// A request signed for an executor, with the prompt and salt it carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedRequest {
	/// The request.
	pub request: ChannelRequest,
	/// The channel key's signature.
	pub signature: sr25519::Signature,
	/// The prompt's salt.
	pub salt: Salt,
}

/// Why a receipt is not countersigned.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Fault {
	/// The executor is not a member of the committee.
	#[error("not a committee member")]
	NotAMember,
	/// Its worker key did not sign the receipt.
	#[error("the receipt is not signed by the executor's worker key")]
	BadSignature,
	/// It does not answer the request at the channel's terms.
	#[error("the receipt does not answer the request: {0:?}")]
	Receipt(BadReceipt),
	/// Its output hash or completion count is not that of the tokens streamed, or they do
	/// not end as a completion must.
	#[error("the receipt's output is not the tokens streamed")]
	Output,
	/// Its prompt count is not the gateway's.
	#[error("the receipt counts {claimed} prompt tokens; the prompt has {actual}")]
	PromptTokens {
		/// The receipt's.
		claimed: u32,
		/// The gateway's own count.
		actual: u32,
	},
	/// Its `seq` is not the member's next.
	#[error("receipt seq {got}, expected {expected}")]
	Seq {
		/// The member's next.
		expected: u32,
		/// The receipt's.
		got: u32,
	},
	/// The member's receipts would cost more than its allowance.
	#[error("the receipts would cost {total}, above the allowance {allowance}")]
	Allowance {
		/// Their total with this one.
		total: u128,
		/// The member's allowance.
		allowance: u128,
	},
}

/// A record of the gateway's channel log.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
enum Record {
	/// Nonces below this are reserved (signed or not).
	#[codec(index = 0)]
	NoncesBelow(u64),
	/// A receipt countersigned, and the voucher that covers it.
	#[codec(index = 1)]
	Accepted { receipt: Box<Receipt>, voucher: Box<SignedVoucher> },
}

#[derive(Default)]
struct Book {
	receipts: Vec<Receipt>,
	total: u128,
	voucher: Option<SignedVoucher>,
}

/// One channel of the gateway.
pub struct DeveloperChannel {
	view: DeveloperView,
	key: sr25519::Pair,
	log: Log<Record>,
	next_nonce: u64,
	reserved: u64,
	books: BTreeMap<HostId, Book>,
}

impl DeveloperChannel {
	/// Opens the channel's log at `path` (created empty for a new channel) and takes up
	/// its nonces, receipts and vouchers. `key` is the channel key.
	pub fn open(path: &Path, view: DeveloperView, key: sr25519::Pair) -> Result<Self> {
		let (log, records) = Log::open(path)?;
		let mut channel =
			Self { view, key, log, next_nonce: 0, reserved: 0, books: BTreeMap::new() };
		for record in records {
			match record {
				Record::NoncesBelow(below) => channel.reserved = channel.reserved.max(below),
				Record::Accepted { receipt, voucher } => {
					let book = channel.books.entry(voucher.voucher.executor.clone()).or_default();
					book.total = book.total.saturating_add(receipt.cost);
					book.receipts.push(*receipt);
					book.voucher = Some(*voucher);
				}
			}
		}
		// Every nonce reserved before may have been signed: none is used again.
		channel.next_nonce = channel.reserved;
		Ok(channel)
	}

	/// The channel as the chain shows it.
	pub fn view(&self) -> &DeveloperView {
		&self.view
	}

	/// The latest voucher signed for `executor`.
	pub fn voucher(&self, executor: &HostId) -> Option<&SignedVoucher> {
		self.books.get(executor).and_then(|book| book.voucher.as_ref())
	}

	/// What `executor`'s countersigned receipts cost.
	pub fn total(&self, executor: &HostId) -> u128 {
		self.books.get(executor).map_or(0, |book| book.total)
	}

	/// The receipts countersigned for `executor`, by `seq`.
	pub fn receipts(&self, executor: &HostId) -> &[Receipt] {
		self.books.get(executor).map_or(&[], |book| &book.receipts)
	}

	/// Signs a request for `executor` (try `attempt` of a new nonce when `nonce` is
	/// `None`, else try `attempt` of that nonce, sent elsewhere before) asking for at most
	/// `max_tokens` tokens after `messages`.
	pub fn request(
		&mut self,
		executor: &HostId,
		nonce: Option<u64>,
		attempt: u8,
		messages: &[ChatMessage],
		max_tokens: u32,
		sampling: SamplingParams,
	) -> Result<Result<SignedRequest, BadPrompt>> {
		let prompt_bytes = match prompt::check(messages) {
			Ok(bytes) => bytes,
			Err(bad) => return Ok(Err(bad)),
		};
		let nonce = match nonce {
			Some(nonce) => nonce,
			None => {
				if self.next_nonce >= self.reserved {
					let below = self.next_nonce.saturating_add(NONCE_BLOCK);
					self.log.append(&Record::NoncesBelow(below))?;
					self.reserved = below;
				}
				let nonce = self.next_nonce;
				self.next_nonce = nonce.saturating_add(1);
				nonce
			}
		};
		let salt = prompt::new_salt();
		let request = ChannelRequest {
			channel: self.view.channel,
			nonce,
			attempt,
			executor: executor.clone(),
			prompt_hash: prompt::prompt_hash(&salt, messages),
			prompt_bytes,
			max_tokens,
			sampling,
		};
		let signature = request.sign(&self.view.genesis_hash, &self.key);
		Ok(Ok(SignedRequest { request, signature, salt }))
	}

	/// Checks `receipt` (signed `signature`) for `request`, given the completion's
	/// `token_ids` as streamed, the prompt's token count by the gateway's own tokenizer and
	/// the model's `end_tokens`: if it passes, appends it to the member's tree and returns
	/// the new voucher, journaled and synced.
	pub fn accept(
		&mut self,
		request: &ChannelRequest,
		receipt: Receipt,
		signature: &sr25519::Signature,
		token_ids: &[u32],
		prompt_tokens: u32,
		end_tokens: &[u32],
	) -> Result<Result<SignedVoucher, Fault>> {
		let view = &self.view;
		let executor = &request.executor;
		let Some(member) = view.members.get(executor) else { return Ok(Err(Fault::NotAMember)) };
		if !receipt.verify(&view.genesis_hash, &member.worker_key, signature) {
			return Ok(Err(Fault::BadSignature));
		}
		if let Err(bad) =
			check_receipt(&view.genesis_hash, request, &receipt, view.price, view.template_overhead)
		{
			return Ok(Err(Fault::Receipt(bad)));
		}
		let output = H256(gonka_primitives::hash(&token_ids.encode()));
		let ended = completion_end(token_ids, request.max_tokens, end_tokens).is_ok();
		if output != receipt.output_hash
			|| receipt.completion_tokens as usize != token_ids.len()
			|| !ended
		{
			return Ok(Err(Fault::Output));
		}
		if receipt.prompt_tokens != prompt_tokens {
			return Ok(Err(Fault::PromptTokens {
				claimed: receipt.prompt_tokens,
				actual: prompt_tokens,
			}));
		}
		let book = self.books.entry(executor.clone()).or_default();
		let expected = book.receipts.len() as u32;
		if receipt.seq != expected {
			return Ok(Err(Fault::Seq { expected, got: receipt.seq }));
		}
		let total = book.total.saturating_add(receipt.cost);
		if total > member.allowance {
			return Ok(Err(Fault::Allowance { total, allowance: member.allowance }));
		}
		let mut receipts = book.receipts.clone();
		receipts.push(receipt.clone());
		let Some(tree) = SumTree::from_receipts(&receipts) else {
			return Ok(Err(Fault::Allowance { total: u128::MAX, allowance: member.allowance }));
		};
		let root = tree.root();
		let voucher = Voucher {
			channel: view.channel,
			executor: executor.clone(),
			count: receipts.len() as u32,
			root: root.hash,
			amount: root.sum,
			last: (receipt.nonce, receipt.attempt),
		};
		let signed =
			SignedVoucher { signature: voucher.sign(&view.genesis_hash, &self.key), voucher };
		self.log.append(&Record::Accepted {
			receipt: Box::new(receipt.clone()),
			voucher: Box::new(signed.clone()),
		})?;
		book.receipts = receipts;
		book.total = total;
		book.voucher = Some(signed.clone());
		Ok(Ok(signed))
	}

	/// A member's allowance grew (a top-up finalized).
	pub fn set_allowance(&mut self, executor: &HostId, allowance: u128) {
		if let Some(member) = self.view.members.get_mut(executor) {
			member.allowance = member.allowance.max(allowance);
		}
	}

	/// The channel key's public half.
	pub fn key(&self) -> sr25519::Public {
		self.key.public()
	}
}
