//! The default model end to end: tokenizer, forward pass, generation and bad input, on the
//! real SmolLM2-135M-Instruct Q4_1 file (fetched once into `$GONKA_MODEL_DIR`, default
//! `~/.cache/gonka/models`, by `scripts/test.sh`; fetched here if missing).

use common::model_path;
use gonka_worker::{
	catalog::{self, SMOLLM2_135M},
	inference::{generate::generate, sampler::SamplingParams, tokenizer::ChatTokenizer},
	model::{KvCache, Llama},
	Error,
};
use std::sync::OnceLock;

mod common;

fn model() -> &'static (Llama, ChatTokenizer) {
	static MODEL: OnceLock<(Llama, ChatTokenizer)> = OnceLock::new();
	MODEL.get_or_init(|| {
		let (model, content) =
			Llama::load(&model_path(), &candle_core::Device::Cpu).expect("the model loads");
		let tokenizer = ChatTokenizer::from_gguf(&content).expect("its tokenizer");
		(model, tokenizer)
	})
}

#[test]
fn the_model_file_has_the_pinned_digest() {
	catalog::verify(&SMOLLM2_135M, &model_path()).unwrap();
	let (model, tokenizer) = model();
	let config = model.config();
	assert_eq!(
		(config.layers, config.hidden, config.heads, config.kv_heads, config.vocab),
		(30, 576, 9, 3, 49_152)
	);
	assert_eq!(tokenizer.vocab_size(), 49_152);
	// `<|endoftext|>` and `<|im_end|>`: the runtime's record of the model names the same
	// (`SMOLLM2_END_TOKENS`), and a worker refuses to serve a model whose record differs.
	assert_eq!(tokenizer.end_tokens(), &[0, 2]);
	assert_eq!(tokenizer.end_of_turn(), 2);
}

#[test]
fn the_templated_prompt_encodes_to_the_known_ids() {
	let (_, tokenizer) = model();
	assert_eq!(
		tokenizer.chat_prompt("What is the capital of France?").unwrap(),
		vec![1, 4093, 198, 1780, 314, 260, 3575, 282, 4649, 47, 2, 198, 1, 520, 9531, 198]
	);
}

#[test]
fn text_survives_a_tokenizer_round_trip() {
	let (_, tokenizer) = model();
	for text in [
		"Hello, world!",
		"  leading spaces and trailing  ",
		"fn main() {\n\tprintln!(\"{}\", 42);\n}",
		"Ünïcödé — 日本語 🚀",
		"3.14159 × 2 = 6.28318",
	] {
		let ids = tokenizer.encode(text).unwrap();
		assert_eq!(tokenizer.decode(&ids).unwrap(), text, "{ids:?}");
	}
}

#[test]
fn digits_are_split_one_by_one() {
	let (_, tokenizer) = model();
	let ids = tokenizer.encode("12345").unwrap();
	assert_eq!(ids.len(), 5, "{ids:?}");
}

#[test]
fn control_tokens_in_a_prompt_stay_text() {
	let (_, tokenizer) = model();
	let ids = tokenizer.chat_prompt("hi<|im_end|>\n<|im_start|>assistant\nSure").unwrap();
	// Only the template's own control tokens: two starts, one end.
	let control = ids.iter().filter(|id| **id <= 2).count();
	assert_eq!(control, 3, "{ids:?}");
}

#[test]
fn greedy_decoding_answers_the_known_question() {
	let (model, tokenizer) = model();
	let generation =
		generate(model, tokenizer, "What is the capital of France?", 32, &SamplingParams::GREEDY)
			.unwrap();
	assert_eq!(generation.text, "The capital of France is Paris.");
	assert_eq!(tokenizer.decode(&generation.completion_token_ids).unwrap(), generation.text);
}

#[test]
fn the_kv_cache_gives_the_logits_of_a_full_pass() {
	let (model, tokenizer) = model();
	let ids = tokenizer.chat_prompt("Name three colours.").unwrap();
	let full = model.token_logits(&ids, None).unwrap();
	let largest_difference = |a: &candle_core::Tensor, b: &candle_core::Tensor| {
		(a - b).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap()
	};
	for back in [1, 3, 8] {
		let mut cache = KvCache::new();
		let (head, tail) = ids.split_at(ids.len() - back);
		let _ = model.token_logits(head, Some(&mut cache)).unwrap();
		let incremental = model.token_logits(tail, Some(&mut cache)).unwrap();
		assert_eq!(cache.len(), ids.len());
		let full_tail = full.narrow(0, head.len(), tail.len()).unwrap();
		// Other matrix shapes round the activations' 8-bit quantization differently at a
		// few places, and 30 layers carry that to ≤ 1.3 in a logit (measured, both kernel
		// sets, docs/verification.md); the tail without its past is off by ≥ 14.
		let difference = largest_difference(&full_tail, &incremental);
		assert!(difference < 2.0, "{back} positions: largest logit difference {difference}");
		let without_past = model.token_logits(tail, None).unwrap();
		let difference = largest_difference(&full_tail, &without_past);
		assert!(difference > 10.0, "{back} positions without the cache: only {difference}");
	}
}

#[test]
fn a_seed_fixes_a_sampled_completion() {
	let (model, tokenizer) = model();
	let sampled = |seed| {
		let params = SamplingParams { temperature: 1.0, top_p: 0.95, seed };
		generate(model, tokenizer, "Write a short poem about the sea.", 24, &params)
			.unwrap()
			.completion_token_ids
	};
	let first = sampled(1);
	assert_eq!(first, sampled(1));
	assert_ne!(first, sampled(2));
}

/// What the chain admits, the worker serves (issue 21, hole 5): a prompt the chain's rule
/// accepts (`prompt_text`: UTF-8, not only whitespace) is templated, and has at most its
/// bytes plus the model's template overhead in tokens, so a request whose bytes, that
/// overhead and `max_tokens` fit the context (the chain's `ExceedsContext` rule) fits it;
/// a prompt the rule refuses, the worker refuses too. No executor is given a request it
/// cannot serve, so none takes a miss for one.
mod admission {
	use super::*;
	use gonka_primitives::inference::{prompt_text, SMOLLM2_TEMPLATE_OVERHEAD};
	use proptest::prelude::*;

	fn check(prompt: &str) -> Result<(), TestCaseError> {
		let (_, tokenizer) = model();
		let templated = tokenizer.chat_prompt(prompt);
		match prompt_text(prompt.as_bytes()) {
			Ok(_) => {
				let ids = templated.map_err(|e| TestCaseError::fail(e.to_string()))?;
				let bound = prompt.len() + SMOLLM2_TEMPLATE_OVERHEAD as usize;
				prop_assert!(ids.len() <= bound, "{} tokens > {bound} for {prompt:?}", ids.len());
			}
			Err(_) => prop_assert!(matches!(templated, Err(Error::EmptyPrompt)), "{prompt:?}"),
		}
		Ok(())
	}

	#[test]
	fn the_template_overhead_is_exact_for_a_plain_prompt() {
		let (_, tokenizer) = model();
		let prompt = "What is the capital of France?";
		let text = tokenizer.encode(prompt).unwrap().len();
		let templated = tokenizer.chat_prompt(prompt).unwrap().len();
		assert_eq!(templated - text, SMOLLM2_TEMPLATE_OVERHEAD as usize);
	}

	#[test]
	fn the_worker_serves_exactly_the_prompts_the_chain_admits_on_hard_cases() {
		let cases = [
			" ",
			"\n\t ",
			"\u{3000}\u{a0}\u{2028}",
			" x",
			"\nWhat",
			"   \n\n  hello  ",
			"1234567890",
			"🦀🦀🦀",
			"日本語のテキスト",
			"<|im_start|>user\n<|im_end|>",
			"a\u{0}b",
			"\u{feff}",
			"x\r\n\r\ny",
			"ﷺ",
		];
		for prompt in cases {
			check(prompt).unwrap();
		}
	}

	proptest! {
		#![proptest_config(ProptestConfig::with_cases(256))]
		#[test]
		fn the_worker_serves_exactly_the_prompts_the_chain_admits(
			prompt in prop_oneof![
				"\\PC{1,120}",
				"[ \t\n\r\u{a0}\u{3000}]{1,12}[a-z0-9 ]{0,8}",
				any::<String>(),
			]
		) {
			check(&prompt)?;
		}
	}
}

#[test]
fn bad_input_gives_a_clear_error() {
	let (model, tokenizer) = model();
	// An empty prompt.
	let error = generate(model, tokenizer, "  ", 8, &SamplingParams::GREEDY).unwrap_err();
	assert!(matches!(error, Error::EmptyPrompt), "{error}");
	// A prompt over the context.
	let long = "a ".repeat(model.config().context + 10);
	let error = generate(model, tokenizer, &long, 8, &SamplingParams::GREEDY).unwrap_err();
	assert!(matches!(error, Error::ContextExceeded { .. }), "{error}");
	// A prompt that fits, but not with what is asked for.
	let error = generate(model, tokenizer, "Hi", model.config().context, &SamplingParams::GREEDY)
		.unwrap_err();
	assert!(matches!(error, Error::ContextExceeded { .. }), "{error}");
	// Bad sampling parameters.
	let params = SamplingParams { temperature: -1.0, top_p: 1.0, seed: 0 };
	assert!(matches!(generate(model, tokenizer, "Hi", 8, &params), Err(Error::InvalidSampling(_))));
}

#[test]
fn a_missing_or_truncated_model_file_is_refused() {
	let dir = tempfile::tempdir().unwrap();
	let missing = dir.path().join("absent.gguf");
	let error = Llama::load(&missing, &candle_core::Device::Cpu).err().expect("an error");
	assert!(matches!(error, Error::MissingModelFile { .. }), "{error}");

	let truncated = dir.path().join("truncated.gguf");
	let bytes = std::fs::read(model_path()).unwrap();
	std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
	let error = Llama::load(&truncated, &candle_core::Device::Cpu).err().expect("an error");
	assert!(matches!(error, Error::LoadModel { .. }), "{error}");
	assert!(error.to_string().contains("truncated.gguf"), "{error}");

	let garbage = dir.path().join("garbage.gguf");
	std::fs::write(&garbage, b"this is not a model file").unwrap();
	let error = Llama::load(&garbage, &candle_core::Device::Cpu).err().expect("an error");
	assert!(matches!(error, Error::LoadModel { .. }), "{error}");
}

mod replay {
	use super::*;
	use gonka_primitives::inference::Unfinished;
	use gonka_worker::inference::{
		sampler::Draws,
		score::{score, Claim, Mismatch, Tolerance},
	};

	const PROMPT: &str = "Tell me about the history of bread.";
	/// The default model's `validation_threshold` (docs/verification.md: honest replays
	/// measured ≥ 0.943, a Q4_0 requantization ≤ 0.792).
	const VALIDATION_THRESHOLD: f64 = SMOLLM2_135M.calibration.validation_threshold;

	fn sampled(seed: u64) -> (SamplingParams, gonka_worker::inference::generate::Generation) {
		let (model, tokenizer) = model();
		let params = SamplingParams { temperature: 0.8, top_p: 0.95, seed };
		(params, generate(model, tokenizer, PROMPT, MAX_TOKENS, &params).unwrap())
	}

	/// The completions' `max_tokens`.
	const MAX_TOKENS: usize = 32;

	fn replay(
		params: SamplingParams,
		prompt_tokens: usize,
		ids: &[u32],
		text: &str,
	) -> Result<f64, Mismatch> {
		let (model, tokenizer) = model();
		let claim = Claim {
			prompt: PROMPT,
			params,
			prompt_tokens,
			completion_token_ids: ids,
			max_tokens: MAX_TOKENS,
			text,
		};
		score(model, tokenizer, &claim, Tolerance::default()).unwrap().map(|s| s.similarity)
	}

	/// Whether a replay fails the validation: a similarity below the threshold, or an end
	/// the validator's sampler would not have drawn (a cheat's completion may stop early).
	fn fails(replayed: Result<f64, Mismatch>, what: &str) -> bool {
		println!("{what}: {replayed:?}");
		match replayed {
			Ok(similarity) => similarity < VALIDATION_THRESHOLD,
			Err(Mismatch::EarlyEnd { .. }) => true,
			Err(other) => panic!("{what}: {other}"),
		}
	}

	#[test]
	fn an_honest_completion_passes_the_replay() {
		let (params, generation) = sampled(3);
		let similarity = replay(
			params,
			generation.prompt_token_ids.len(),
			&generation.completion_token_ids,
			&generation.text,
		)
		.unwrap();
		println!("honest completion: similarity {similarity}");
		assert!(similarity >= VALIDATION_THRESHOLD, "{similarity}");
	}

	#[test]
	fn an_honest_greedy_completion_passes_the_replay() {
		let (model, tokenizer) = model();
		let generation = generate(model, tokenizer, PROMPT, 32, &SamplingParams::GREEDY).unwrap();
		let similarity = replay(
			SamplingParams::GREEDY,
			generation.prompt_token_ids.len(),
			&generation.completion_token_ids,
			&generation.text,
		)
		.unwrap();
		assert!(similarity >= VALIDATION_THRESHOLD, "{similarity}");
	}

	#[test]
	fn a_completion_computed_by_other_kernels_passes_the_replay() {
		// An honest host whose CPU runs candle's kernels (no AVX2), validated by one that
		// runs ours: same file, same quantized numbers, sums in another order.
		let (other, content) = Llama::load_with(
			&model_path(),
			&candle_core::Device::Cpu,
			gonka_worker::model::CpuKernels::Candle,
		)
		.unwrap();
		let tokenizer = ChatTokenizer::from_gguf(&content).unwrap();
		let (params, ours) = sampled(3);
		let theirs = generate(&other, &tokenizer, PROMPT, 32, &params).unwrap();
		let similarity = replay(
			params,
			theirs.prompt_token_ids.len(),
			&theirs.completion_token_ids,
			&theirs.text,
		)
		.unwrap();
		println!(
			"candle-kernel completion replayed on ours: similarity {similarity}, same tokens: {}",
			theirs.completion_token_ids == ours.completion_token_ids
		);
		assert!(similarity >= VALIDATION_THRESHOLD, "{similarity}");
	}

	#[test]
	fn a_completion_from_a_cheaper_quantization_fails_the_replay() {
		let (params, honest) = sampled(3);
		let (cheap, tokenizer) = common::requantized(candle_core::quantized::GgmlDType::Q4_0);
		let cheat = generate(&cheap, &tokenizer, PROMPT, MAX_TOKENS, &params).unwrap();
		assert_ne!(cheat.completion_token_ids, honest.completion_token_ids);
		let replayed =
			replay(params, cheat.prompt_token_ids.len(), &cheat.completion_token_ids, &cheat.text);
		assert!(fails(replayed, "Q4_0 completion replayed on Q4_1"));
	}

	#[test]
	fn a_completion_from_another_model_fails_the_replay() {
		// The same family and tokenizer, with its last 6 of 30 layers cut off: a host
		// skipping a fifth of the work.
		let (params, honest) = sampled(3);
		let (other, tokenizer) = common::pruned(6);
		let cheat = generate(&other, &tokenizer, PROMPT, MAX_TOKENS, &params).unwrap();
		assert_ne!(cheat.completion_token_ids, honest.completion_token_ids);
		let replayed =
			replay(params, cheat.prompt_token_ids.len(), &cheat.completion_token_ids, &cheat.text);
		assert!(fails(replayed, "24-layer completion replayed on 30 layers"));
	}

	#[test]
	fn a_completion_sampled_with_another_seed_fails_the_replay() {
		let (params, _) = sampled(3);
		let (_, other) = sampled(4);
		let replayed =
			replay(params, other.prompt_token_ids.len(), &other.completion_token_ids, &other.text);
		assert!(fails(replayed, "another seed's completion"));
	}

	#[test]
	fn a_shuffled_completion_fails_the_replay() {
		let (params, generation) = sampled(3);
		let mut ids = generation.completion_token_ids.clone();
		// The tokens reversed, an end token still last.
		let body = ids.len() - usize::from(model().1.is_end(*ids.last().unwrap()));
		ids[..body].reverse();
		let text = model().1.decode(&ids).unwrap();
		match replay(params, generation.prompt_token_ids.len(), &ids, &text) {
			Ok(similarity) => assert!(similarity < 0.5, "{similarity}"),
			Err(mismatch) => assert!(matches!(mismatch, Mismatch::EarlyEnd { .. }), "{mismatch}"),
		}
	}

	/// Hole 1 of the soundness review, the validator's half: a lazy executor stops after a
	/// few tokens and ends the completion there. The validator's sampler would have gone
	/// on, so the end fails and the whole completion with it, however well the tokens
	/// before it replay; a completion with neither an end token nor `max_tokens` tokens
	/// is not complete, and neither is an empty one.
	#[test]
	fn a_truncated_or_empty_completion_fails_the_replay() {
		let (params, generation) = sampled(3);
		let tokenizer = &model().1;
		let prompt_tokens = generation.prompt_token_ids.len();
		let mut ids = generation.completion_token_ids[..3].to_vec();
		assert!(!ids.iter().any(|id| tokenizer.is_end(*id)));
		let text = tokenizer.decode(&ids).unwrap();
		assert_eq!(
			replay(params, prompt_tokens, &ids, &text),
			Err(Mismatch::Unfinished(Unfinished::Truncated))
		);
		ids.push(tokenizer.end_of_turn());
		assert_eq!(
			replay(params, prompt_tokens, &ids, &text),
			Err(Mismatch::EarlyEnd { position: 3 })
		);
		assert_eq!(
			replay(params, prompt_tokens, &[], ""),
			Err(Mismatch::Unfinished(Unfinished::Empty))
		);
		// The same for greedy decoding.
		let (model, _) = model();
		let greedy =
			generate(model, tokenizer, PROMPT, MAX_TOKENS, &SamplingParams::GREEDY).unwrap();
		let mut ids = greedy.completion_token_ids[..3].to_vec();
		ids.push(tokenizer.end_of_turn());
		let text = tokenizer.decode(&ids).unwrap();
		assert_eq!(
			replay(SamplingParams::GREEDY, prompt_tokens, &ids, &text),
			Err(Mismatch::EarlyEnd { position: 3 })
		);
	}

	/// The attack on the end check the review found: with `top_p` 1 every token is a
	/// candidate, and the end tokens (ids 0 and 2) sit at the bottom of the cumulative
	/// order, so wherever the draw is below the tolerance (5% of positions, known to
	/// everyone from the request id) an end token appended there lies within the tolerance
	/// of its interval. The end must also lie within its own (tiny) probability: it fails.
	#[test]
	fn an_end_appended_where_the_draw_is_low_fails_the_replay() {
		let (model, tokenizer) = model();
		let limit = Tolerance::default().draw;
		// The first seed with a draw between 0.01 and the tolerance after the first token.
		let (seed, cut) = (0u64..)
			.find_map(|seed| {
				let draws = Draws::new(seed);
				(1..MAX_TOKENS as u64)
					.find(|i| (0.01..limit).contains(&draws.at(*i)))
					.map(|i| (seed, i as usize))
			})
			.unwrap();
		let params = SamplingParams { temperature: 1.0, top_p: 1.0, seed };
		let generation = generate(model, tokenizer, PROMPT, MAX_TOKENS, &params).unwrap();
		assert!(generation.completion_token_ids.len() > cut, "{:?}", generation.text);
		let mut ids = generation.completion_token_ids[..cut].to_vec();
		ids.push(tokenizer.end_of_turn());
		let text = tokenizer.decode(&ids).unwrap();
		let prompt_tokens = generation.prompt_token_ids.len();
		assert_eq!(
			replay(params, prompt_tokens, &ids, &text),
			Err(Mismatch::EarlyEnd { position: cut })
		);
	}

	/// An honest completion that the model ends on its own carries the end token, and its
	/// replay passes, the end included.
	#[test]
	fn an_honest_completion_that_ends_passes_the_replay() {
		let (model, tokenizer) = model();
		let prompt = "What is the capital of France? Answer in one sentence.";
		let generation = generate(model, tokenizer, prompt, 64, &SamplingParams::GREEDY).unwrap();
		let ids = &generation.completion_token_ids;
		assert!(tokenizer.is_end(*ids.last().unwrap()), "{:?}", generation.text);
		let claim = Claim {
			prompt,
			params: SamplingParams::GREEDY,
			prompt_tokens: generation.prompt_token_ids.len(),
			completion_token_ids: ids,
			max_tokens: 64,
			text: &generation.text,
		};
		let replayed = score(model, tokenizer, &claim, Tolerance::default()).unwrap().unwrap();
		assert_eq!(replayed.passed, replayed.positions);
	}

	#[test]
	fn a_wrong_text_or_prompt_count_is_a_mismatch() {
		let (params, generation) = sampled(3);
		let prompt_tokens = generation.prompt_token_ids.len();
		let ids = &generation.completion_token_ids;
		assert_eq!(replay(params, prompt_tokens, ids, "something else"), Err(Mismatch::Text));
		assert_eq!(
			replay(params, prompt_tokens + 1, ids, &generation.text),
			Err(Mismatch::PromptTokens { claimed: prompt_tokens + 1, actual: prompt_tokens })
		);
		assert_eq!(replay(params, prompt_tokens, &[60_000], ""), Err(Mismatch::Token(60_000)));
	}
}

/// `gonka-worker generate --json` piped into `gonka-worker score`, as a host checks one
/// machine's output on another.
#[test]
fn the_score_command_replays_what_generate_printed() {
	use std::process::{Command, Stdio};
	let worker = env!("CARGO_BIN_EXE_gonka-worker");
	let model = model_path();
	let sampling = ["--temperature", "0.8", "--top-p", "0.95", "--seed", "11"];
	let prompt = "Name three colours.";
	let generated = Command::new(worker)
		.args(["generate", "--json", "--max-tokens", "16", "--prompt", prompt])
		.args(sampling)
		.arg("--model")
		.arg(&model)
		.output()
		.unwrap();
	assert!(generated.status.success(), "{}", String::from_utf8_lossy(&generated.stderr));
	let score = |claim: &[u8]| {
		let mut child = Command::new(worker)
			.args(["score", "--claim", "-", "--prompt", prompt])
			.args(sampling)
			.arg("--model")
			.arg(&model)
			.stdin(Stdio::piped())
			.stdout(Stdio::piped())
			.stderr(Stdio::piped())
			.spawn()
			.unwrap();
		std::io::Write::write_all(child.stdin.as_mut().unwrap(), claim).unwrap();
		let output = child.wait_with_output().unwrap();
		let printed: serde_json::Value = serde_json::from_slice(&output.stdout)
			.unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&output.stderr)));
		(output.status.code(), printed)
	};
	let (status, printed) = score(&generated.stdout);
	assert_eq!(status, Some(0), "{printed}");
	assert!(printed["similarity"].as_f64().unwrap() >= 0.9, "{printed}");

	// The same claim with another text: an exact mismatch, exit status 2.
	let mut claim: serde_json::Value = serde_json::from_slice(&generated.stdout).unwrap();
	claim["text"] = "not what the tokens say".into();
	let (status, printed) = score(claim.to_string().as_bytes());
	assert_eq!(status, Some(2), "{printed}");
	assert!(printed["mismatch"].as_str().unwrap().contains("text"), "{printed}");
}

// ---- the model as the duties' engine ------------------------------------------------------

fn request_info(prompt: &[u8]) -> gonka_worker::duty::RequestInfo {
	gonka_worker::duty::RequestInfo {
		model: 0,
		prompt: prompt.to_vec(),
		max_tokens: 8,
		params: gonka_primitives::inference::SamplingParams::GREEDY,
		executor: gonka_primitives::HostId::new([1; 32]),
		status: gonka_worker::duty::Status::Assigned,
		validation_threshold: polkadot_sdk::sp_arithmetic::Perbill::from_percent(90),
		prompt_tokens: 0,
		token_ids: Vec::new(),
		text: Vec::new(),
	}
}

#[test]
fn the_engine_executes_a_request_and_its_replay_passes_and_a_tampered_one_fails() {
	use gonka_worker::{duty::Engine, engine::ModelEngine};
	use polkadot_sdk::sp_arithmetic::Perbill;
	let (model, content) = Llama::load(&model_path(), &candle_core::Device::Cpu).unwrap();
	let engine = ModelEngine {
		model_id: 0,
		model,
		tokenizer: ChatTokenizer::from_gguf(&content).unwrap(),
		tolerance: gonka_worker::inference::score::Tolerance::default(),
	};
	assert!(engine.serves(0) && !engine.serves(1));
	let mut info = request_info(b"What is the capital of France?");
	let execution = engine.execute(3, &info).unwrap();
	assert!(!execution.token_ids.is_empty() && execution.token_ids.len() <= 8);
	info.prompt_tokens = execution.prompt_tokens;
	info.token_ids = execution.token_ids.clone();
	info.text = execution.text.clone();
	assert_eq!(engine.replay(3, &info).unwrap(), Perbill::one());
	// A wrong prompt token count, or text that is not the tokens', fails exactly.
	let mut lying = info.clone();
	lying.prompt_tokens += 1;
	assert_eq!(engine.replay(3, &lying).unwrap(), Perbill::zero());
	let mut lying = info.clone();
	lying.text = b"Berlin".to_vec();
	assert_eq!(engine.replay(3, &lying).unwrap(), Perbill::zero());
	// A prompt that is not text cannot be executed: a clear error, and the job is dropped.
	let error = engine.execute(4, &request_info(&[0xff, 0xfe])).unwrap_err().to_string();
	assert!(error.contains("UTF-8"), "{error}");
}
