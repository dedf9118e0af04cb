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
//!
//! **Lost receipts** (`channels.md`, section 10): a receipt the gateway never saw (it
//! restarted mid-stream, or the stream broke after the executor journaled the receipt)
//! leaves a gap before the member's next `seq`. The gateway asks the member for the
//! receipts in the gap ([`DeveloperChannel::receipts_query`], signed by the channel key)
//! and [`DeveloperChannel::recover`] countersigns each that answers a request the channel
//! key signed for that member, with the prompt the request hashed, under every check a
//! receipt streamed passes: a lost receipt costs the developer its price, not the tail
//! fee, and the member's later receipts are countersigned again. Only a request the book
//! journaled as sent to that member ([`DeveloperChannel::request`]) and not declined by it,
//! answered, or refused is recovered, and every receipt's (nonce, try) is above the
//! member's last: a member cannot be paid twice for one request, nor for one it said it
//! did not take, nor for a receipt the gateway refused.

use super::{
	executor::Served,
	log::Log,
	prompt::{self, BadPrompt, ChatMessage, Salt},
};
use crate::Result;
use codec::{Decode, Encode};
use gonka_primitives::{
	channel::{
		check_receipt, BadReceipt, ChannelId, ChannelMessage, ChannelRequest, Receipt,
		ReceiptsQuery, SignedVoucher, SumTree, Voucher,
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
	/// A lost receipt's request is not one the channel key signed for the member, or its
	/// prompt is not the one the request hashed.
	#[error("the receipt's request is not one the channel key signed, with its prompt")]
	Request,
	/// A lost receipt's request is not one the gateway sent to the member and still waits
	/// for: answered already, declined by the member, or its receipt refused.
	#[error("the receipt's request is not one sent to the member and unanswered")]
	NotOpen,
	/// Its (nonce, try) is not above the member's last receipt's.
	#[error("the receipt's (nonce, try) is not above the member's last receipt's")]
	Order,
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

impl Fault {
	/// Whether the receipt proves its member cheated (it is not asked again), rather than
	/// what a lost receipt (`Seq`) or an allowance the gateway has not seen grow explains.
	pub fn proves_cheating(&self) -> bool {
		!matches!(self, Fault::Seq { .. } | Fault::Allowance { .. })
	}
}

/// A try of a request: the member it was sent to, its nonce and try.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Encode, Decode)]
struct Try {
	executor: HostId,
	nonce: u64,
	attempt: u8,
}

impl Try {
	fn of(request: &ChannelRequest) -> Self {
		Try { executor: request.executor.clone(), nonce: request.nonce, attempt: request.attempt }
	}
}

/// Closes `executor`'s tries up to its receipt for (`nonce`, `attempt`): that one is
/// answered, and those below it never will be (a receipt must come above the last).
fn close_answered(open: &mut std::collections::BTreeSet<Try>, executor: &HostId, last: (u64, u8)) {
	open.retain(|open| open.executor != *executor || (open.nonce, open.attempt) > last);
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
	/// A request signed for a member, about to be sent.
	#[codec(index = 2)]
	Sent(Try),
	/// A member said it does not take a request.
	#[codec(index = 3)]
	Declined(Try),
	/// A member's receipt for a request was refused (it proved the member cheated).
	#[codec(index = 4)]
	Refused(Try),
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
	/// The tries sent and not yet answered, declined or refused: the only ones a lost
	/// receipt may answer.
	open: std::collections::BTreeSet<Try>,
	/// A journal written before tries were journaled (session 37): a lost receipt of a
	/// nonce below this may answer any try not answered (the (nonce, try) order still
	/// refuses a copy of an answered one).
	untracked_below: u64,
}

impl DeveloperChannel {
	/// Opens the channel's log at `path` (created empty for a new channel) and takes up
	/// its nonces, receipts and vouchers. `key` is the channel key.
	pub fn open(path: &Path, view: DeveloperView, key: sr25519::Pair) -> Result<Self> {
		let (log, records) = Log::open(path)?;
		let mut channel = Self {
			view,
			key,
			log,
			next_nonce: 0,
			reserved: 0,
			books: BTreeMap::new(),
			open: Default::default(),
			untracked_below: 0,
		};
		let tracked = records.iter().any(|record| matches!(record, Record::Sent(_)));
		for record in records {
			match record {
				Record::NoncesBelow(below) => channel.reserved = channel.reserved.max(below),
				Record::Sent(sent) => {
					channel.open.insert(sent);
				}
				Record::Declined(done) | Record::Refused(done) => {
					channel.open.remove(&done);
				}
				Record::Accepted { receipt, voucher } => {
					let last = (receipt.nonce, receipt.attempt);
					close_answered(&mut channel.open, &voucher.voucher.executor, last);
					let book = channel.books.entry(voucher.voucher.executor.clone()).or_default();
					book.total = book.total.saturating_add(receipt.cost);
					book.receipts.push(*receipt);
					book.voucher = Some(*voucher);
				}
			}
		}
		// Every nonce reserved before may have been signed: none is used again.
		channel.next_nonce = channel.reserved;
		if !tracked {
			channel.untracked_below = channel.reserved;
		}
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
	/// `max_tokens` tokens after `messages`, and journals it as sent (synced) before it
	/// returns it.
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
		let sent = Try::of(&request);
		self.log.append(&Record::Sent(sent.clone()))?;
		self.open.insert(sent);
		Ok(Ok(SignedRequest { request, signature, salt }))
	}

	/// Notes (journaled) that `request`'s member said it does not take it: no receipt for
	/// it is ever countersigned.
	pub fn declined(&mut self, request: &ChannelRequest) -> Result<()> {
		self.close(Record::Declined, request)
	}

	/// Notes (journaled) that the receipt `request`'s member streamed was refused for
	/// proving it cheated: no receipt for it is ever countersigned.
	pub fn refused(&mut self, request: &ChannelRequest) -> Result<()> {
		self.close(Record::Refused, request)
	}

	/// Closes `request`'s try, journaled as `record`.
	fn close(&mut self, record: fn(Try) -> Record, request: &ChannelRequest) -> Result<()> {
		let done = Try::of(request);
		self.log.append(&record(done.clone()))?;
		self.open.remove(&done);
		Ok(())
	}

	/// The latest voucher of `receipt`'s member if `receipt` is countersigned already (a
	/// lost receipt another task recovered first).
	pub fn countersigned(&self, executor: &HostId, receipt: &Receipt) -> Option<&SignedVoucher> {
		let book = self.books.get(executor)?;
		(book.receipts.get(receipt.seq as usize) == Some(receipt)).then_some(book.voucher.as_ref()?)
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
		if let Err(fault) =
			self.check(request, &receipt, signature, token_ids, prompt_tokens, end_tokens)
		{
			return Ok(Err(fault));
		}
		self.append(&request.executor, receipt)
	}

	/// The query for `executor`'s receipts from the next this book expects up to `seq`
	/// `to` (exclusive), signed by the channel key: what the gateway asks a member for
	/// the receipts it lost (`channel_receipts`).
	pub fn receipts_query(
		&self,
		executor: &HostId,
		to: u32,
	) -> (ReceiptsQuery, sr25519::Signature) {
		let query = ReceiptsQuery {
			channel: self.view.channel,
			executor: executor.clone(),
			from: self.receipts(executor).len() as u32,
			to,
		};
		let signature = query.sign(&self.view.genesis_hash, &self.key);
		(query, signature)
	}

	/// Countersigns receipts the gateway lost, as `executor` served them
	/// (`channel_receipts`), `prompt_tokens[i]` being the gateway's own count of
	/// `served[i]`'s prompt: in `seq` order from the member's next (those already
	/// countersigned are skipped), each for a request the channel key signed for that
	/// member, with the prompt its request hashed, passing every check of
	/// [`Self::accept`]. Stops at the first that does not; returns the latest voucher
	/// signed, if any, and the fault that stopped it, if any.
	pub fn recover(
		&mut self,
		executor: &HostId,
		served: &[Served],
		prompt_tokens: &[u32],
		end_tokens: &[u32],
	) -> Result<(Option<SignedVoucher>, Option<Fault>)> {
		let mut voucher = None;
		for (one, &counted) in served.iter().zip(prompt_tokens) {
			let expected = self.receipts(executor).len() as u32;
			if one.receipt.seq < expected {
				continue;
			}
			let payload = &one.payload;
			let request = &payload.request;
			if !self.open.contains(&Try::of(request)) && request.nonce >= self.untracked_below {
				return Ok((voucher, Some(Fault::NotOpen)));
			}
			let ours = request.channel == self.view.channel
				&& request.executor == *executor
				&& request.verify(
					&self.view.genesis_hash,
					&self.key.public(),
					&payload.request_signature,
				) && prompt::prompt_hash(&payload.salt, &payload.messages)
				== request.prompt_hash
				&& prompt::check(&payload.messages) == Ok(request.prompt_bytes);
			if !ours {
				return Ok((voucher, Some(Fault::Request)));
			}
			let checked = self.check(
				request,
				&one.receipt,
				&one.signature,
				&one.token_ids,
				counted,
				end_tokens,
			);
			if let Err(fault) = checked {
				return Ok((voucher, Some(fault)));
			}
			match self.append(executor, one.receipt.clone())? {
				Ok(signed) => voucher = Some(signed),
				Err(fault) => return Ok((voucher, Some(fault))),
			}
		}
		Ok((voucher, None))
	}

	/// Whether `receipt` (signed `signature`) answers `request` at the channel's terms,
	/// with the output `token_ids` and the prompt count `prompt_tokens`.
	fn check(
		&self,
		request: &ChannelRequest,
		receipt: &Receipt,
		signature: &sr25519::Signature,
		token_ids: &[u32],
		prompt_tokens: u32,
		end_tokens: &[u32],
	) -> std::result::Result<(), Fault> {
		let view = &self.view;
		let member = view.members.get(&request.executor).ok_or(Fault::NotAMember)?;
		if !receipt.verify(&view.genesis_hash, &member.worker_key, signature) {
			return Err(Fault::BadSignature);
		}
		check_receipt(&view.genesis_hash, request, receipt, view.price, view.template_overhead)
			.map_err(Fault::Receipt)?;
		let output = H256(gonka_primitives::hash(&token_ids.encode()));
		let ended = completion_end(token_ids, request.max_tokens, end_tokens).is_ok();
		if output != receipt.output_hash
			|| receipt.completion_tokens as usize != token_ids.len()
			|| !ended
		{
			return Err(Fault::Output);
		}
		if receipt.prompt_tokens != prompt_tokens {
			return Err(Fault::PromptTokens {
				claimed: receipt.prompt_tokens,
				actual: prompt_tokens,
			});
		}
		Ok(())
	}

	/// Appends a checked `receipt` to `executor`'s tree if it is the member's next and
	/// within its allowance: the new voucher, journaled and synced.
	fn append(
		&mut self,
		executor: &HostId,
		receipt: Receipt,
	) -> Result<Result<SignedVoucher, Fault>> {
		let view = &self.view;
		let Some(member) = view.members.get(executor) else { return Ok(Err(Fault::NotAMember)) };
		let book = self.books.entry(executor.clone()).or_default();
		let expected = book.receipts.len() as u32;
		if receipt.seq != expected {
			return Ok(Err(Fault::Seq { expected, got: receipt.seq }));
		}
		if book
			.receipts
			.last()
			.is_some_and(|last| (last.nonce, last.attempt) >= (receipt.nonce, receipt.attempt))
		{
			return Ok(Err(Fault::Order));
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
		close_answered(&mut self.open, executor, (receipt.nonce, receipt.attempt));
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
