//! `gonka-worker generate` and `score`: a completion generated locally, and another
//! machine's completion replay-scored as a validator does, with no chain (a host checks
//! its setup, or its GPU against a CPU).

use super::args::{GenerateArgs, SamplingArgs, ScoreArgs};
use crate::inference::{
	generate,
	sampler::SamplingParams,
	score::{score as replay, Claim, Score, Tolerance},
};
use anyhow::Context;

/// The executor's result as `generate --json` prints it.
#[derive(serde::Deserialize)]
struct ClaimFile {
	#[serde(default)]
	prompt_token_ids: Option<Vec<u32>>,
	#[serde(default)]
	prompt_tokens: Option<usize>,
	completion_token_ids: Vec<u32>,
	max_tokens: usize,
	text: String,
}

impl SamplingArgs {
	/// The sampler's parameters (greedy without `--temperature`).
	pub(crate) fn params(&self) -> SamplingParams {
		SamplingParams {
			temperature: self.temperature.unwrap_or(0.0),
			top_p: self.top_p,
			seed: self.seed,
		}
	}
}

/// Generates a completion and prints it (as JSON with `--json`).
pub(crate) fn generate(args: &GenerateArgs) -> anyhow::Result<()> {
	let (model, tokenizer) = args.model.load()?;
	let params = args.sampling.params();
	let generation = generate::generate(&model, &tokenizer, &args.prompt, args.max_tokens, &params)
		.context("generation failed")?;
	if args.json {
		println!("{}", serde_json::to_string(&generation)?);
	} else {
		println!("{}", generation.text);
		tracing::info!(
			prompt_tokens = generation.prompt_token_ids.len(),
			completion_tokens = generation.completion_token_ids.len(),
			prefill_tok_s = format!("{:.1}", generation.prefill_tok_s),
			decode_tok_s = format!("{:.1}", generation.decode_tok_s),
			"generated"
		);
	}
	Ok(())
}

/// Replays the claim and prints its score; a claim that fails an exact check prints the
/// mismatch and exits with status 2.
pub(crate) fn score(args: &ScoreArgs) -> anyhow::Result<()> {
	let raw = if args.claim.as_os_str() == "-" {
		std::io::read_to_string(std::io::stdin()).context("reading the claim")?
	} else {
		std::fs::read_to_string(&args.claim)
			.with_context(|| format!("reading {}", args.claim.display()))?
	};
	let file: ClaimFile = serde_json::from_str(&raw).context("the claim is not valid JSON")?;
	let prompt_tokens = file
		.prompt_tokens
		.or(file.prompt_token_ids.as_ref().map(Vec::len))
		.context("the claim has neither prompt_tokens nor prompt_token_ids")?;
	let (model, tokenizer) = args.model.load()?;
	let claim = Claim {
		prompt: &args.prompt,
		params: args.sampling.params(),
		prompt_tokens,
		completion_token_ids: &file.completion_token_ids,
		max_tokens: file.max_tokens,
		text: &file.text,
	};
	let tolerance = Tolerance { draw: args.draw_tolerance, logit: args.logit_tolerance };
	match replay(&model, &tokenizer, &claim, tolerance)? {
		Ok(score) => println!("{}", score_json(&score, args.distances)),
		Err(mismatch) => {
			println!("{}", serde_json::json!({ "mismatch": mismatch.to_string() }));
			std::process::exit(2);
		}
	}
	Ok(())
}

/// `{positions, passed, similarity, max_distance}`, and every position's distance with
/// `distances`.
fn score_json(score: &Score, distances: bool) -> serde_json::Value {
	let max = score.distances.iter().copied().fold(0.0, f64::max);
	let mut out = serde_json::json!({
		"positions": score.positions,
		"passed": score.passed,
		"similarity": score.similarity,
		"max_distance": max,
	});
	if distances {
		out["distances"] = serde_json::json!(score.distances);
	}
	out
}
