//! Replay calibration (`docs/verification.md`): how far honest completions are from the
//! validator's own picks, and how far a cheaper model's are, so that the tolerance and the
//! model's `validation_threshold` can be chosen between them.
//!
//! ```text
//! cargo run --example replay_calibration -- MODEL.gguf [TOKENS]
//! ```
//!
//! For every prompt and sampling setting it generates a completion with the KV cache
//! (as an executor does) from four models: the real one; the real one on candle's kernels
//! (an honest host whose CPU has no AVX2: the same numbers summed in another order); the
//! same weights requantized to Q8_0 (numerically near, not the file) and to Q4_0 (a host
//! cutting costs); then replay-scores each with the real model on our kernels in one pass
//! (as a validator does).

use candle_core::{quantized::GgmlDType, Device};
use gonka_worker::{
	inference::{
		generate::generate,
		sampler::SamplingParams,
		score::{score, Claim, Tolerance},
		tokenizer::ChatTokenizer,
	},
	model::{requantize, CpuKernels, Llama},
};
use std::path::{Path, PathBuf};

const PROMPTS: [&str; 8] = [
	"Tell me about the history of bread.",
	"Write a short poem about the sea.",
	"Explain how a bicycle stays upright.",
	"What should I pack for a week of hiking?",
	"Give me three ideas for a birthday party.",
	"Why is the sky blue?",
	"Describe your favourite city in a few sentences.",
	"How do I make a good cup of tea?",
];
const SEEDS: [u64; 3] = [1, 2, 3];
const DRAW_TOLERANCES: [f64; 6] = [1e-3, 3e-3, 1e-2, 2e-2, 3e-2, 5e-2];
const LOGIT_TOLERANCES: [f64; 5] = [0.05, 0.1, 0.2, 0.3, 0.5];

struct Variant {
	name: &'static str,
	model: Llama,
	tokenizer: ChatTokenizer,
	/// Per completion: its positions' distances.
	sampled: Vec<Vec<f64>>,
	greedy: Vec<Vec<f64>>,
}

fn main() -> anyhow::Result<()> {
	let mut args = std::env::args().skip(1);
	let path = PathBuf::from(args.next().expect("usage: replay_calibration MODEL.gguf [TOKENS]"));
	let tokens: usize = args.next().map_or(Ok(48), |t| t.parse())?;
	let dir = tempfile::tempdir()?;
	let (real, real_tokenizer) = load(&path, CpuKernels::Native)?;
	let mut variants = variants(&path, dir.path())?;
	let settings: Vec<SamplingParams> = SEEDS
		.iter()
		.enumerate()
		.map(|(i, seed)| SamplingParams {
			temperature: if i % 2 == 0 { 0.7 } else { 1.0 },
			top_p: if i == 1 { 1.0 } else { 0.95 },
			seed: *seed,
		})
		.chain([SamplingParams::GREEDY])
		.collect();
	for prompt in PROMPTS {
		for params in &settings {
			for variant in &mut variants {
				let generation =
					generate(&variant.model, &variant.tokenizer, prompt, tokens, params)?;
				let claim = Claim {
					prompt,
					params: *params,
					prompt_tokens: generation.prompt_token_ids.len(),
					completion_token_ids: &generation.completion_token_ids,
					max_tokens: tokens,
					text: &generation.text,
				};
				let scored = score(&real, &real_tokenizer, &claim, Tolerance::default())?
					.map_err(|mismatch| anyhow::anyhow!("{mismatch}"))?;
				if params.is_greedy() {
					variant.greedy.push(scored.distances);
				} else {
					variant.sampled.push(scored.distances);
				}
			}
		}
		eprintln!("done: {prompt}");
	}
	println!("tokens per completion: {tokens}; {} prompts", PROMPTS.len());
	print_tables(&variants);
	Ok(())
}

/// The GGUF model at `path` and its tokenizer, on the CPU with `kernels`.
fn load(path: &Path, kernels: CpuKernels) -> anyhow::Result<(Llama, ChatTokenizer)> {
	let (model, content) = Llama::load_with(path, &Device::Cpu, kernels)?;
	Ok((model, ChatTokenizer::from_gguf(&content)?))
}

/// The four executors: the real model on both kernel sets, and requantized to Q8_0 and
/// Q4_0 (files written in `dir`).
fn variants(path: &Path, dir: &Path) -> anyhow::Result<Vec<Variant>> {
	let mut variants = Vec::new();
	for (name, dtype, kernels) in [
		("real", None, CpuKernels::Native),
		("real, candle's kernels", None, CpuKernels::Candle),
		("Q8_0", Some(GgmlDType::Q8_0), CpuKernels::Native),
		("Q4_0", Some(GgmlDType::Q4_0), CpuKernels::Native),
	] {
		let (model, tokenizer) = match dtype {
			None => load(path, kernels)?,
			Some(dtype) => {
				let target = dir.join(format!("{name}.gguf"));
				requantize(path, &target, dtype)?;
				load(&target, kernels)?
			}
		};
		variants.push(Variant { name, model, tokenizer, sampled: Vec::new(), greedy: Vec::new() });
	}
	Ok(variants)
}

/// One table per kind of decoding: per executor, its distances and the similarity at
/// each tolerance.
fn print_tables(variants: &[Variant]) {
	for (kind, tolerances, unit) in [
		("sampled", &DRAW_TOLERANCES[..], "cumulative probability"),
		("greedy", &LOGIT_TOLERANCES[..], "logits"),
	] {
		println!("\n{kind} decoding (distance in {unit})");
		print!("| model | completions | positions | p99 distance | max distance |");
		for tolerance in tolerances {
			print!(" ε = {tolerance}: positions passing, similarity min–max |");
		}
		println!();
		for variant in variants {
			let completions = if kind == "sampled" { &variant.sampled } else { &variant.greedy };
			print_row(variant.name, completions, tolerances);
		}
	}
}

/// An executor's row: its completions' distances, and at each tolerance the positions
/// passing and the lowest and highest similarity.
fn print_row(name: &str, completions: &[Vec<f64>], tolerances: &[f64]) {
	let mut all: Vec<f64> = completions.iter().flatten().copied().collect();
	all.sort_by(f64::total_cmp);
	let quantile = |q: f64| {
		let index = ((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1));
		all.get(index).copied().unwrap_or(0.0)
	};
	print!(
		"| {} | {} | {} | {:.4} | {:.4} |",
		name,
		completions.len(),
		all.len(),
		quantile(0.99),
		all.last().copied().unwrap_or(0.0)
	);
	for tolerance in tolerances {
		let passing = all.iter().filter(|d| **d <= *tolerance).count();
		let similarities: Vec<f64> = completions
			.iter()
			.filter(|c| !c.is_empty())
			.map(|c| c.iter().filter(|d| **d <= *tolerance).count() as f64 / c.len() as f64)
			.collect();
		let lowest = similarities.iter().copied().fold(1.0, f64::min);
		let highest = similarities.iter().copied().fold(0.0, f64::max);
		print!(
			" {:.2}%, {lowest:.3}–{highest:.3} |",
			passing as f64 * 100.0 / all.len().max(1) as f64
		);
	}
	println!();
}
