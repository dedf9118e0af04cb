//! The tokenizer, rebuilt from what the GGUF file carries (`tokenizer.ggml.*`: the BPE
//! vocabulary, its merges and the token types), so the model file alone fixes the token
//! ids, and the chat template.
//!
//! SmolLM's pre-tokenizer (`tokenizer.ggml.pre = "smollm"`) splits every digit on its own,
//! then applies GPT-2's byte-level split. Control tokens (`<|im_start|>`, ...) are only
//! ever produced by the template: text in a prompt is always encoded as text, so a prompt
//! cannot forge a turn of the conversation.

use crate::{Error, Result};
use candle_core::quantized::gguf_file;
use tokenizers::{
	decoders::DecoderWrapper,
	models::bpe::{Vocab, BPE},
	pre_tokenizers::{
		byte_level::ByteLevel, digits::Digits, sequence::Sequence, PreTokenizerWrapper,
	},
	AddedToken, Tokenizer,
};

/// GGUF token type of control tokens (llama.cpp's `LLAMA_TOKEN_TYPE_CONTROL`).
const CONTROL: i32 = 3;

/// A model's tokenizer and chat template.
pub struct ChatTokenizer {
	inner: Tokenizer,
	im_start: u32,
	im_end: u32,
	/// Tokens that end a completion.
	end: Vec<u32>,
}

fn metadata<'a>(content: &'a gguf_file::Content, key: &str) -> Result<&'a gguf_file::Value> {
	content
		.metadata
		.get(key)
		.ok_or_else(|| Error::Tokenizer(format!("the model file has no `{key}`")))
}

fn strings(content: &gguf_file::Content, key: &str) -> Result<Vec<String>> {
	metadata(content, key)?
		.to_vec()
		.and_then(|values| values.iter().map(|value| value.to_string().cloned()).collect())
		.map_err(|error| Error::Tokenizer(format!("`{key}`: {error}")))
}

impl ChatTokenizer {
	/// The tokenizer stored in a GGUF file's metadata.
	pub fn from_gguf(content: &gguf_file::Content) -> Result<Self> {
		let kind = metadata(content, "tokenizer.ggml.model")?.to_string()?;
		let pre = metadata(content, "tokenizer.ggml.pre")?.to_string()?;
		if kind != "gpt2" || pre != "smollm" {
			return Err(Error::Tokenizer(format!(
				"tokenizer `{kind}` with pre-tokenizer `{pre}` is not supported \
				 (supported: `gpt2` with `smollm`)"
			)));
		}
		let tokens = strings(content, "tokenizer.ggml.tokens")?;
		let types: Vec<i32> = metadata(content, "tokenizer.ggml.token_type")?
			.to_vec()
			.and_then(|values| values.iter().map(|value| value.to_i32()).collect())
			.map_err(|error| Error::Tokenizer(format!("`tokenizer.ggml.token_type`: {error}")))?;
		if types.len() != tokens.len() {
			return Err(Error::Tokenizer(format!(
				"{} tokens but {} token types",
				tokens.len(),
				types.len()
			)));
		}
		let merges = strings(content, "tokenizer.ggml.merges")?
			.into_iter()
			.map(|merge| {
				merge
					.split_once(' ')
					.map(|(left, right)| (left.to_owned(), right.to_owned()))
					.ok_or_else(|| Error::Tokenizer(format!("malformed merge `{merge}`")))
			})
			.collect::<Result<Vec<_>>>()?;
		let vocab: Vocab =
			tokens.iter().enumerate().map(|(id, token)| (token.clone(), id as u32)).collect();
		let bpe = BPE::builder()
			.vocab_and_merges(vocab, merges)
			.build()
			.map_err(|error| Error::Tokenizer(error.to_string()))?;
		let mut inner = Tokenizer::new(bpe);
		inner.with_pre_tokenizer(Some(PreTokenizerWrapper::Sequence(Sequence::new(vec![
			PreTokenizerWrapper::Digits(Digits::new(true)),
			PreTokenizerWrapper::ByteLevel(ByteLevel::new(false, true, true)),
		]))));
		inner.with_decoder(Some(DecoderWrapper::ByteLevel(ByteLevel::default())));
		let control: Vec<AddedToken> = tokens
			.iter()
			.zip(&types)
			.filter(|(_, kind)| **kind == CONTROL)
			.map(|(token, _)| AddedToken::from(token.clone(), true))
			.collect();
		inner
			.add_special_tokens(control)
			.map_err(|error| Error::Tokenizer(format!("control tokens: {error}")))?;
		let eos = match content.metadata.get("tokenizer.ggml.eos_token_id") {
			Some(eos) => Some(eos.to_u32()?),
			None => None,
		};
		Self::new(inner, eos)
	}

	/// A `tokenizer.json` (Hugging Face's format) with the ChatML template's tokens.
	pub fn from_file(path: &std::path::Path) -> Result<Self> {
		let inner = Tokenizer::from_file(path)
			.map_err(|error| Error::Tokenizer(format!("{}: {error}", path.display())))?;
		Self::new(inner, None)
	}

	/// Writes the tokenizer as a `tokenizer.json`.
	pub fn save(&self, path: &std::path::Path) -> Result<()> {
		self.inner
			.save(path, false)
			.map_err(|error| Error::Tokenizer(format!("writing {}: {error}", path.display())))
	}

	fn new(mut inner: Tokenizer, eos: Option<u32>) -> Result<Self> {
		// Text is text: control tokens come from the template only.
		inner.set_encode_special_tokens(true);
		let id = |token: &str| {
			inner
				.token_to_id(token)
				.ok_or_else(|| Error::Tokenizer(format!("the vocabulary has no `{token}`")))
		};
		let im_start = id("<|im_start|>")?;
		let im_end = id("<|im_end|>")?;
		let mut end = vec![im_end];
		end.extend(eos);
		if let Some(end_of_text) = inner.token_to_id("<|endoftext|>") {
			end.push(end_of_text);
		}
		end.sort_unstable();
		end.dedup();
		Ok(Self { inner, im_start, im_end, end })
	}

	/// Token ids of plain text (no control tokens are recognised in it).
	pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
		self.inner
			.encode(text, false)
			.map(|encoding| encoding.get_ids().to_vec())
			.map_err(|error| Error::Tokenizer(error.to_string()))
	}

	/// The chat template around one user turn, with no system prompt:
	/// `<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n`.
	/// A blank prompt is refused by the rule the chain applies to requests
	/// (`gonka_primitives::inference::prompt_text`), so the chain never assigns one.
	pub fn chat_prompt(&self, prompt: &str) -> Result<Vec<u32>> {
		if gonka_primitives::inference::prompt_text(prompt.as_bytes()).is_err() {
			return Err(Error::EmptyPrompt);
		}
		self.chat_conversation(&[("user", prompt)])
	}

	/// The chat template (ChatML) around a conversation of `(role, content)` turns, then
	/// the assistant's header: `<|im_start|>{role}\n{content}<|im_end|>\n` for each turn,
	/// then `<|im_start|>assistant\n`. The control tokens come from the template only: a
	/// turn's role and content are encoded as text. Each turn therefore has at most
	/// `role + content + 4` tokens ([`crate::channel::prompt::prompt_bytes`] counts them
	/// so), the header at most the chain's template overhead (tested).
	pub fn chat_conversation(&self, turns: &[(&str, &str)]) -> Result<Vec<u32>> {
		let mut ids = Vec::new();
		for (role, content) in turns {
			ids.push(self.im_start);
			ids.extend(self.encode(&format!("{role}\n{content}"))?);
			ids.push(self.im_end);
			ids.extend(self.encode("\n")?);
		}
		ids.push(self.im_start);
		ids.extend(self.encode("assistant\n")?);
		Ok(ids)
	}

	/// The text of `ids`, control tokens left out.
	pub fn decode(&self, ids: &[u32]) -> Result<String> {
		self.inner.decode(ids, true).map_err(|error| Error::Tokenizer(error.to_string()))
	}

	/// Whether `id` ends a completion.
	pub fn is_end(&self, id: u32) -> bool {
		self.end.binary_search(&id).is_ok()
	}

	/// The tokens that end a completion, in ascending order: the chain's record of the
	/// model must name the same (`end_tokens`).
	pub fn end_tokens(&self) -> &[u32] {
		&self.end
	}

	/// The token that ends the assistant's turn (`<|im_end|>`).
	pub fn end_of_turn(&self) -> u32 {
		self.im_end
	}

	/// The number of tokens in the vocabulary.
	pub fn vocab_size(&self) -> usize {
		self.inner.get_vocab_size(true)
	}
}
