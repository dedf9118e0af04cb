//! The channels' books off chain (`gonka_worker::channel`): an executor and a gateway
//! exchanging requests, receipts and vouchers as the endpoint and the gateway will, with
//! the real model where the tokens matter, and the attacks on either side.

mod common;

use common::model_path;
use gonka_primitives::{
	channel::{check_receipt, ChannelMessage, SignedVoucher, SumTree, Voucher, MAX_TAIL},
	inference::SamplingParams,
	HostId, H256,
};
use gonka_worker::{
	channel::{
		developer::{DeveloperChannel, DeveloperView, Fault, Member, SignedRequest},
		executor::{BadVoucher, ChannelView, ExecutorChannel, Payload, Refusal},
		prompt::{self, ChatMessage, Role},
	},
	inference::{
		generate::{generate, generate_from},
		sampler,
		tokenizer::ChatTokenizer,
	},
	model::Llama,
};
use polkadot_sdk::sp_core::{sr25519, Pair};
use std::{collections::BTreeMap, sync::OnceLock};

const GENESIS: H256 = H256::repeat_byte(0x42);
const CHANNEL: u64 = 7;
const PRICE: u128 = 1_000;
const OVERHEAD: u32 = gonka_primitives::inference::SMOLLM2_TEMPLATE_OVERHEAD;
const MAX_REQUEST_TOKENS: u32 = 512;
const END: [u32; 2] = [1, 2];

fn model() -> &'static (Llama, ChatTokenizer) {
	static MODEL: OnceLock<(Llama, ChatTokenizer)> = OnceLock::new();
	MODEL.get_or_init(|| {
		let (model, content) = Llama::load(&model_path(), &candle_core::Device::Cpu).unwrap();
		let tokenizer = ChatTokenizer::from_gguf(&content).unwrap();
		(model, tokenizer)
	})
}

struct Pairing {
	channel_key: sr25519::Pair,
	worker_key: sr25519::Pair,
	host: HostId,
	dir: tempfile::TempDir,
}

impl Pairing {
	fn new() -> Self {
		let worker_key = sr25519::Pair::from_string("//Alice//stash", None).unwrap();
		Self {
			channel_key: sr25519::Pair::from_string("//Charlie//channel//0", None).unwrap(),
			host: HostId::new(sr25519::Pair::from_string("//Alice", None).unwrap().public().0),
			worker_key,
			dir: tempfile::tempdir().unwrap(),
		}
	}

	fn executor_view(&self, allowance: u128) -> ChannelView {
		ChannelView {
			channel: CHANNEL,
			genesis_hash: GENESIS,
			channel_key: self.channel_key.public(),
			price: PRICE,
			template_overhead: OVERHEAD,
			max_request_tokens: MAX_REQUEST_TOKENS,
			allowance,
			ends: 100,
		}
	}

	fn executor(&self, allowance: u128) -> ExecutorChannel {
		ExecutorChannel::open(
			&self.dir.path().join("executor.log"),
			self.executor_view(allowance),
			self.host.clone(),
		)
		.unwrap()
	}

	fn developer(&self, allowance: u128) -> DeveloperChannel {
		let members = BTreeMap::from([(
			self.host.clone(),
			Member { worker_key: self.worker_key.public(), allowance },
		)]);
		let view = DeveloperView {
			channel: CHANNEL,
			genesis_hash: GENESIS,
			price: PRICE,
			template_overhead: OVERHEAD,
			max_request_tokens: MAX_REQUEST_TOKENS,
			members,
		};
		DeveloperChannel::open(&self.dir.path().join("gateway.log"), view, self.channel_key.clone())
			.unwrap()
	}
}

fn ask(text: &str) -> Vec<ChatMessage> {
	vec![ChatMessage::new(Role::User, text)]
}

fn sign(
	developer: &mut DeveloperChannel,
	host: &HostId,
	text: &str,
	max_tokens: u32,
) -> (SignedRequest, Payload) {
	let messages = ask(text);
	let signed = developer
		.request(host, None, 0, &messages, max_tokens, SamplingParams::GREEDY)
		.unwrap()
		.unwrap();
	let payload = Payload {
		request: signed.request.clone(),
		request_signature: signed.signature,
		salt: signed.salt,
		messages,
	};
	(signed, payload)
}

/// Serves a request with a made-up completion of `tokens` ids ending with an end token;
/// returns the voucher the gateway signs for it.
fn serve(
	pairing: &Pairing,
	executor: &mut ExecutorChannel,
	developer: &mut DeveloperChannel,
	text: &str,
	tokens: usize,
) -> SignedVoucher {
	let (signed, payload) = sign(developer, &pairing.host, text, 16);
	executor.admit(&payload, 10).unwrap();
	let mut ids: Vec<u32> = (0..tokens as u32 - 1).map(|i| 100 + i).collect();
	ids.push(END[0]);
	let prompt_tokens = 9;
	let served =
		executor.complete(payload, prompt_tokens, ids.clone(), &END, &pairing.worker_key).unwrap();
	developer
		.accept(&signed.request, served.receipt, &served.signature, &ids, prompt_tokens, &END)
		.unwrap()
		.unwrap()
}

#[test]
fn an_honest_request_streams_the_local_tokens_and_is_receipted_vouchered_and_settled() {
	let (model, tokenizer) = model();
	let pairing = Pairing::new();
	let mut executor = pairing.executor(10_000_000);
	let mut developer = pairing.developer(10_000_000);
	let messages = vec![
		ChatMessage::new(Role::System, "You answer in one word."),
		ChatMessage::new(Role::User, "What is the capital of France?"),
	];
	let signed = developer
		.request(&pairing.host, None, 0, &messages, 12, SamplingParams::GREEDY)
		.unwrap()
		.unwrap();
	let payload = Payload {
		request: signed.request.clone(),
		request_signature: signed.signature,
		salt: signed.salt,
		messages: messages.clone(),
	};
	let admission = executor.admit(&payload, 10).unwrap();

	// The executor: the conversation through the template, the request's seed.
	let prompt_ids = tokenizer.chat_conversation(&prompt::turns(&messages)).unwrap();
	let params = sampler::SamplingParams { temperature: 0.0, top_p: 1.0, seed: admission.seed };
	let mut streamed = Vec::new();
	let generation = generate_from(model, tokenizer, prompt_ids.clone(), 12, &params, &mut |id| {
		streamed.push(id);
		Ok(())
	})
	.unwrap();
	assert_eq!(streamed, generation.completion_token_ids, "every token is streamed as drawn");
	let served = executor
		.complete(
			payload,
			prompt_ids.len() as u32,
			generation.completion_token_ids.clone(),
			tokenizer.end_tokens(),
			&pairing.worker_key,
		)
		.unwrap();
	assert!(!generation.text.is_empty());

	// The gateway: its own count of the prompt, the ids streamed.
	let own = tokenizer.chat_conversation(&prompt::turns(&messages)).unwrap().len() as u32;
	let voucher = developer
		.accept(
			&signed.request,
			served.receipt.clone(),
			&served.signature,
			&streamed,
			own,
			tokenizer.end_tokens(),
		)
		.unwrap()
		.unwrap();
	assert_eq!(voucher.voucher.count, 1);
	assert_eq!(voucher.voucher.amount, served.receipt.cost);
	assert_eq!(executor.accept_voucher(voucher.clone()).unwrap(), Ok(true));
	assert_eq!(
		executor.accept_voucher(voucher.clone()).unwrap(),
		Ok(false),
		"the same voucher twice"
	);

	// A single user turn is templated as the on-chain path's prompt is.
	let local = generate(model, tokenizer, "Hi", 4, &sampler::SamplingParams::GREEDY).unwrap();
	assert_eq!(tokenizer.chat_conversation(&[("user", "Hi")]).unwrap(), local.prompt_token_ids);

	let settlement = executor.settlement();
	assert_eq!(settlement.voucher, Some(voucher));
	assert!(settlement.tail.is_empty());
}

#[test]
fn a_conversations_templated_tokens_stay_within_its_prompt_bytes_and_the_template_overhead() {
	let (_, tokenizer) = model();
	let texts = [
		"",
		" ",
		"hello",
		"12345678901234567890",
		"日本語のテキスト",
		"<|im_start|>user\nhi<|im_end|>",
		"\n\n\t  x",
		"🙂🙂🙂",
	];
	for (index, first) in texts.iter().enumerate() {
		for second in texts.iter().skip(index) {
			for roles in [
				[Role::System, Role::User],
				[Role::User, Role::Assistant],
				[Role::Assistant, Role::User],
			] {
				let messages =
					vec![ChatMessage::new(roles[0], *first), ChatMessage::new(roles[1], *second)];
				let bytes = prompt::prompt_bytes(&messages).unwrap();
				let tokens =
					tokenizer.chat_conversation(&prompt::turns(&messages)).unwrap().len() as u32;
				assert!(
					tokens <= bytes + OVERHEAD,
					"{messages:?}: {tokens} tokens, {bytes} bytes + {OVERHEAD}"
				);
			}
		}
	}
}

#[test]
fn an_understated_voucher_or_a_garbage_root_counts_as_no_voucher_and_the_receipts_stay_claimable_as_tail(
) {
	let pairing = Pairing::new();
	let mut executor = pairing.executor(10_000_000);
	let mut developer = pairing.developer(10_000_000);
	let first = serve(&pairing, &mut executor, &mut developer, "one", 3);
	assert_eq!(executor.accept_voucher(first.clone()).unwrap(), Ok(true));
	let second = serve(&pairing, &mut executor, &mut developer, "two", 5);

	let resign = |voucher: Voucher| SignedVoucher {
		signature: voucher.sign(&GENESIS, &pairing.channel_key),
		voucher,
	};
	let mut understated = second.voucher.clone();
	understated.amount -= 1;
	let mut garbage = second.voucher.clone();
	garbage.root = H256::repeat_byte(9);
	let mut overstated_count = second.voucher.clone();
	overstated_count.count = 3;
	let mut wrong_last = second.voucher.clone();
	wrong_last.last = (0, 0);
	for (bad, why) in [
		(resign(understated), BadVoucher::NotTheReceipts),
		(resign(garbage), BadVoucher::NotTheReceipts),
		(resign(wrong_last), BadVoucher::NotTheReceipts),
		(resign(overstated_count), BadVoucher::Unsigned { count: 3, signed: 2 }),
	] {
		assert_eq!(executor.accept_voucher(bad).unwrap(), Err(why));
	}
	// The voucher counted, again: not a new one.
	assert_eq!(executor.accept_voucher(first.clone()).unwrap(), Ok(false));
	let mut other_key = second.clone();
	other_key.signature = second.voucher.sign(&GENESIS, &pairing.worker_key);
	assert_eq!(executor.accept_voucher(other_key).unwrap(), Err(BadVoucher::BadSignature));

	// Nothing bad counted: the settlement carries the first voucher and the second receipt
	// as a tail claim the chain's rule accepts.
	let settlement = executor.settlement();
	assert_eq!(settlement.voucher, Some(first.clone()));
	assert_eq!(settlement.tail.len(), 1);
	let claim = &settlement.tail[0];
	assert!(claim.request.verify(
		&GENESIS,
		&pairing.channel_key.public(),
		&claim.request_signature
	));
	assert_eq!(check_receipt(&GENESIS, &claim.request, &claim.receipt, PRICE, OVERHEAD), Ok(()));
	assert_eq!(claim.receipt.seq, 1);
	assert!(claim.receipt.nonce > first.voucher.last.0);

	// The honest voucher counts; an older one no longer does.
	assert_eq!(executor.accept_voucher(second.clone()).unwrap(), Ok(true));
	assert_eq!(
		executor.accept_voucher(first).unwrap(),
		Err(BadVoucher::Older { count: 1, counted: 2 })
	);
	assert!(executor.settlement().tail.is_empty());
}

#[test]
fn an_inflated_receipt_is_never_countersigned() {
	let pairing = Pairing::new();
	let mut executor = pairing.executor(10_000_000);
	let mut developer = pairing.developer(10_000_000);
	let (signed, payload) = sign(&mut developer, &pairing.host, "count to three", 8);
	executor.admit(&payload, 10).unwrap();
	let ids = vec![100, 101, END[1]];
	let served = executor.complete(payload, 12, ids.clone(), &END, &pairing.worker_key).unwrap();
	let honest = served.receipt.clone();
	let worker = &pairing.worker_key;
	let resigned = |receipt: &gonka_primitives::channel::Receipt| receipt.sign(&GENESIS, worker);

	// More prompt tokens than the gateway counts (cost matching them).
	let mut inflated = honest.clone();
	inflated.prompt_tokens += 3;
	inflated.cost += 3 * PRICE;
	let fault =
		developer.accept(&signed.request, inflated.clone(), &resigned(&inflated), &ids, 12, &END);
	assert_eq!(fault.unwrap(), Err(Fault::PromptTokens { claimed: 15, actual: 12 }));
	// A cost above its tokens'.
	let mut costly = honest.clone();
	costly.cost += 1;
	let fault =
		developer.accept(&signed.request, costly.clone(), &resigned(&costly), &ids, 12, &END);
	assert!(matches!(fault.unwrap(), Err(Fault::Receipt(_))));
	// More completion tokens than were streamed.
	let mut longer = honest.clone();
	longer.completion_tokens += 1;
	longer.cost += PRICE;
	let fault =
		developer.accept(&signed.request, longer.clone(), &resigned(&longer), &ids, 12, &END);
	assert_eq!(fault.unwrap(), Err(Fault::Output));
	// Another output than the streamed one, or one cut short.
	let fault = developer.accept(
		&signed.request,
		honest.clone(),
		&served.signature,
		&[100, 101, 102],
		12,
		&END,
	);
	assert_eq!(fault.unwrap(), Err(Fault::Output));
	// Another key's signature, another seq.
	let fault = developer.accept(
		&signed.request,
		honest.clone(),
		&honest.sign(&GENESIS, &pairing.channel_key),
		&ids,
		12,
		&END,
	);
	assert_eq!(fault.unwrap(), Err(Fault::BadSignature));
	let mut later = honest.clone();
	later.seq = 1;
	let fault = developer.accept(&signed.request, later.clone(), &resigned(&later), &ids, 12, &END);
	assert_eq!(fault.unwrap(), Err(Fault::Seq { expected: 0, got: 1 }));
	assert_eq!(developer.total(&pairing.host), 0, "nothing was countersigned");
	assert!(developer.voucher(&pairing.host).is_none());

	// The honest receipt is.
	let voucher = developer
		.accept(&signed.request, honest, &served.signature, &ids, 12, &END)
		.unwrap()
		.unwrap();
	assert_eq!(voucher.voucher.amount, 15 * PRICE);
}

#[test]
fn an_executor_refuses_requests_that_are_not_for_it_not_signed_stale_or_not_the_prompt() {
	let pairing = Pairing::new();
	let mut executor = pairing.executor(10_000_000);
	let mut developer = pairing.developer(10_000_000);
	let (_, payload) = sign(&mut developer, &pairing.host, "hello", 8);

	let mut unsigned = payload.clone();
	unsigned.request_signature = payload.request.sign(&GENESIS, &pairing.worker_key);
	assert_eq!(executor.admit(&unsigned, 10), Err(Refusal::BadSignature));
	let other = HostId::new([9; 32]);
	let (_, elsewhere) = sign(&mut developer, &other, "hello", 8);
	assert_eq!(executor.admit(&elsewhere, 10), Err(Refusal::NotForThis));
	let mut changed = payload.clone();
	changed.messages = ask("hello!");
	assert_eq!(executor.admit(&changed, 10), Err(Refusal::NotThePrompt));
	let mut resalted = payload.clone();
	resalted.salt = [0; 32];
	assert_eq!(executor.admit(&resalted, 10), Err(Refusal::NotThePrompt));
	assert_eq!(executor.admit(&payload, 100), Err(Refusal::Ended { ends: 100 }));
	let (_, huge) = sign(&mut developer, &pairing.host, "hello", MAX_REQUEST_TOKENS);
	assert!(matches!(executor.admit(&huge, 10), Err(Refusal::TooLarge { .. })));

	// Taken once; the same (nonce, try) again, or a lower one, is stale.
	let (_, later) = sign(&mut developer, &pairing.host, "later", 8);
	executor.admit(&later, 10).unwrap();
	assert!(matches!(executor.admit(&later, 10), Err(Refusal::Stale { .. })));
	assert!(matches!(executor.admit(&payload, 10), Err(Refusal::Stale { .. })));
}

#[test]
fn an_executor_takes_no_request_beyond_its_allowance_or_its_voucher_lag() {
	let pairing = Pairing::new();
	let mut developer = pairing.developer(u128::MAX);
	// A request of 16 completion tokens after "hi" may cost (2 + 4 + 4 + 9 + 16) × price.
	let most = (2 + 4 + 4 + u128::from(OVERHEAD) + 16) * PRICE;
	let mut executor = pairing.executor(2 * most);
	let (_, first) = sign(&mut developer, &pairing.host, "hi", 16);
	let (_, second) = sign(&mut developer, &pairing.host, "hi", 16);
	let (_, third) = sign(&mut developer, &pairing.host, "hi", 16);
	executor.admit(&first, 10).unwrap();
	executor.admit(&second, 10).unwrap();
	assert_eq!(
		executor.admit(&third, 10),
		Err(Refusal::Allowance { exposure: 2 * most, max_cost: most, allowance: 2 * most })
	);

	// Lag: MAX_TAIL receipts unvouchered and in flight, then no more until a voucher.
	let pairing = Pairing::new();
	let mut executor = pairing.executor(u128::MAX);
	let mut developer = pairing.developer(u128::MAX);
	let mut last = None;
	for _ in 0..MAX_TAIL - 1 {
		let (signed, payload) = sign(&mut developer, &pairing.host, "hi", 16);
		executor.admit(&payload, 10).unwrap();
		let ids = vec![100, END[0]];
		let served = executor.complete(payload, 9, ids.clone(), &END, &pairing.worker_key).unwrap();
		last = Some(
			developer
				.accept(&signed.request, served.receipt, &served.signature, &ids, 9, &END)
				.unwrap()
				.unwrap(),
		);
	}
	let (_, in_flight) = sign(&mut developer, &pairing.host, "hi", 16);
	executor.admit(&in_flight, 10).unwrap();
	let (_, refused) = sign(&mut developer, &pairing.host, "hi", 16);
	assert_eq!(executor.admit(&refused, 10), Err(Refusal::VoucherLag(MAX_TAIL)));
	assert_eq!(
		executor.settlement().tail.len(),
		(MAX_TAIL - 1) as usize,
		"every unvouchered receipt is claimable"
	);
	assert_eq!(executor.accept_voucher(last.unwrap()).unwrap(), Ok(true));
	let (_, next) = sign(&mut developer, &pairing.host, "hi", 16);
	executor.admit(&next, 10).unwrap();
}

#[test]
fn receipts_are_numbered_in_the_order_requests_were_taken() {
	let pairing = Pairing::new();
	let mut executor = pairing.executor(u128::MAX);
	let mut developer = pairing.developer(u128::MAX);
	let (_, first) = sign(&mut developer, &pairing.host, "first", 8);
	let (_, second) = sign(&mut developer, &pairing.host, "second", 8);
	executor.admit(&first, 10).unwrap();
	executor.admit(&second, 10).unwrap();
	let error =
		executor.complete(second, 9, vec![5, END[0]], &END, &pairing.worker_key).unwrap_err();
	assert!(error.to_string().contains("before an earlier one"), "{error}");
	let served = executor.complete(first, 9, vec![5, END[0]], &END, &pairing.worker_key).unwrap();
	assert_eq!(served.receipt.seq, 0);
	assert_eq!(executor.served().len(), 1);
	// A completion that is not complete is not receipted.
	let (_, third) = sign(&mut developer, &pairing.host, "third", 8);
	executor.admit(&third, 10).unwrap();
	assert!(executor.complete(third, 9, vec![5, 6], &END, &pairing.worker_key).is_err());
	assert_eq!(executor.served().len(), 1);
}

#[test]
fn a_restarted_executor_and_gateway_take_up_where_they_stopped() {
	let pairing = Pairing::new();
	let (vouchered, nonces) = {
		let mut executor = pairing.executor(u128::MAX);
		let mut developer = pairing.developer(u128::MAX);
		let first = serve(&pairing, &mut executor, &mut developer, "one", 2);
		executor.accept_voucher(first).unwrap().unwrap();
		let second = serve(&pairing, &mut executor, &mut developer, "two", 4);
		(second, developer.receipts(&pairing.host).iter().map(|r| r.nonce).collect::<Vec<_>>())
	};
	// Killed after the second receipt was synced and its voucher signed, before the
	// executor counted the voucher: both take up their books.
	let mut executor = pairing.executor(u128::MAX);
	let mut developer = pairing.developer(u128::MAX);
	assert_eq!(executor.served().len(), 2);
	assert_eq!(executor.voucher().map(|v| v.voucher.count), Some(1));
	assert_eq!(developer.voucher(&pairing.host), Some(&vouchered));
	assert_eq!(executor.accept_voucher(vouchered.clone()).unwrap(), Ok(true));
	// The gateway never signs a nonce again; the executor takes the next.
	let (_, payload) = sign(&mut developer, &pairing.host, "three", 8);
	assert!(nonces.iter().all(|used| payload.request.nonce > *used));
	executor.admit(&payload, 10).unwrap();
	let served = executor.complete(payload, 9, vec![7, END[0]], &END, &pairing.worker_key).unwrap();
	assert_eq!(served.receipt.seq, 2);
	// Its tree over the three receipts is the voucher the gateway signs.
	let ids = vec![7, END[0]];
	let request = served.payload.request.clone();
	let voucher = developer
		.accept(&request, served.receipt, &served.signature, &ids, 9, &END)
		.unwrap()
		.unwrap();
	let tree = SumTree::from_receipts(executor.served().iter().map(|s| &s.receipt)).unwrap();
	assert_eq!((voucher.voucher.root, voucher.voucher.amount), (tree.root().hash, tree.root().sum));
	assert_eq!(executor.accept_voucher(voucher).unwrap(), Ok(true));
}

/// Attack: the developer closes the channel early and keeps asking (the member settles at
/// the new end; anything served after it is never paid). Rule: the book takes the chain's
/// new end, and refuses requests from it.
#[test]
fn a_channel_closed_early_takes_no_more_requests() {
	let pairing = Pairing::new();
	let mut executor = pairing.executor(u128::MAX);
	let mut developer = pairing.developer(u128::MAX);
	let (_, first) = sign(&mut developer, &pairing.host, "hi", 8);
	executor.admit(&first, 10).unwrap();
	executor.set_view(ChannelView { ends: 12, ..pairing.executor_view(0) });
	assert_eq!(executor.view().allowance, u128::MAX, "an allowance never shrinks");
	let (_, late) = sign(&mut developer, &pairing.host, "hi", 8);
	assert_eq!(executor.admit(&late, 12), Err(Refusal::Ended { ends: 12 }));
}

/// Fault: a receipt the chain would refuse as a tail claim (more prompt tokens than the
/// prompt's bytes and the template allow) voids the whole settlement. Rule: the executor
/// never signs one.
#[test]
fn a_receipt_the_chain_would_refuse_is_never_signed() {
	let pairing = Pairing::new();
	let mut executor = pairing.executor(u128::MAX);
	let mut developer = pairing.developer(u128::MAX);
	// "hi": 10 prompt bytes, so at most 10 + 9 prompt tokens.
	let (_, payload) = sign(&mut developer, &pairing.host, "hi", 8);
	executor.admit(&payload, 10).unwrap();
	let error =
		executor.complete(payload, 20, vec![5, END[0]], &END, &pairing.worker_key).unwrap_err();
	assert!(error.to_string().contains("chain's rule"), "{error}");
	assert!(executor.served().is_empty());
	assert_eq!(executor.in_flight(), 0, "nothing is left in flight");
}
