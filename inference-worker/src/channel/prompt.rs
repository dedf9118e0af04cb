//! A channel request's prompt: a chat conversation (`messages`), hashed with a salt the
//! gateway draws for each request (amendment 16 of `channels.md`: a guessed prompt cannot
//! be confirmed from the hash the chain sees), and measured in bytes that bound its
//! templated tokens.
//!
//! - **Hash**: `prompt_hash = H("gonka/channel-prompt/v1" ‖ salt ‖ SCALE(messages))`. The
//!   salt travels with the prompt (to the executor, and from it to the sampled validators
//!   and a dispute's jurors), never to the chain.
//! - **Bytes**: `prompt_bytes = Σ (len(role) + len(content) + 4)` over the messages: a turn
//!   of the chat template (`<|im_start|>{role}\n{content}<|im_end|>\n`) has at most that
//!   many tokens (byte-level BPE never makes more tokens than bytes; each control token
//!   is one token and is counted as one byte). The assistant's header after the last turn
//!   is the model's `template_overhead` on chain. So a receipt's `prompt_tokens ≤
//!   prompt_bytes + template_overhead` always holds for an honest executor, which is the
//!   chain's rule for a tail claim (`gonka_primitives::channel::check_receipt`).
//! - **Roles**: `system`, `user`, `assistant` (the ChatML roles). A conversation has at
//!   least one message, at most [`MAX_MESSAGES`], and some text that is not whitespace.

use codec::{Decode, Encode};
use gonka_primitives::{hash_concat, H256};
use serde::{Deserialize, Serialize};

/// The prompt hash's domain.
pub const PROMPT_DOMAIN: &[u8] = b"gonka/channel-prompt/v1";

/// The salt's length.
pub const SALT_BYTES: usize = 32;

/// A request's salt.
pub type Salt = [u8; SALT_BYTES];

/// The bytes [`prompt_bytes`] counts for a turn besides its role and content: the turn's
/// two control tokens, the newline after the role, the newline after the turn.
pub const MESSAGE_FRAME_BYTES: u32 = 4;

/// The most messages in one request.
pub const MAX_MESSAGES: usize = 1_024;

/// Who says a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
	/// Instructions for the assistant.
	#[codec(index = 0)]
	System,
	/// The developer's user.
	#[codec(index = 1)]
	User,
	/// The model, in earlier turns.
	#[codec(index = 2)]
	Assistant,
}

impl Role {
	/// The role's name in the chat template (and in OpenAI's API).
	pub fn name(self) -> &'static str {
		match self {
			Role::System => "system",
			Role::User => "user",
			Role::Assistant => "assistant",
		}
	}
}

/// One message of a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct ChatMessage {
	/// Who says it.
	pub role: Role,
	/// What is said.
	pub content: String,
}

impl ChatMessage {
	/// A message of `role` saying `content`.
	pub fn new(role: Role, content: impl Into<String>) -> Self {
		Self { role, content: content.into() }
	}
}

/// Why a conversation cannot be a request's prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadPrompt {
	/// No message.
	#[error("`messages` is empty")]
	NoMessages,
	/// More than [`MAX_MESSAGES`].
	#[error("more than {MAX_MESSAGES} messages")]
	TooManyMessages,
	/// Every message is empty or whitespace.
	#[error("every message is empty or only whitespace")]
	Blank,
	/// Its [`prompt_bytes`] do not fit in a `u32`.
	#[error("the prompt is too long")]
	TooLong,
}

/// The prompt's bytes as [`prompt_bytes`] counts them, if it can be a request's prompt.
pub fn check(messages: &[ChatMessage]) -> Result<u32, BadPrompt> {
	if messages.is_empty() {
		return Err(BadPrompt::NoMessages);
	}
	if messages.len() > MAX_MESSAGES {
		return Err(BadPrompt::TooManyMessages);
	}
	if messages.iter().all(|message| message.content.trim().is_empty()) {
		return Err(BadPrompt::Blank);
	}
	prompt_bytes(messages).ok_or(BadPrompt::TooLong)
}

/// `Σ (len(role) + len(content) + 4)`: a bound on the templated conversation's tokens
/// before the assistant's header. `None` if it overflows a `u32`.
pub fn prompt_bytes(messages: &[ChatMessage]) -> Option<u32> {
	messages.iter().try_fold(0u32, |total, message| {
		let turn = u32::try_from(message.content.len())
			.ok()?
			.checked_add(message.role.name().len() as u32)?
			.checked_add(MESSAGE_FRAME_BYTES)?;
		total.checked_add(turn)
	})
}

/// `H("gonka/channel-prompt/v1" ‖ salt ‖ SCALE(messages))`.
pub fn prompt_hash(salt: &Salt, messages: &[ChatMessage]) -> H256 {
	H256(hash_concat(&[PROMPT_DOMAIN, salt, &messages.encode()]))
}

/// The conversation as the tokenizer's `(role, content)` turns.
pub fn turns(messages: &[ChatMessage]) -> Vec<(&str, &str)> {
	messages.iter().map(|message| (message.role.name(), message.content.as_str())).collect()
}

/// A fresh salt from the operating system's randomness.
pub fn new_salt() -> Salt {
	use rand_chacha::rand_core::{OsRng, TryRngCore};
	let mut salt = [0u8; SALT_BYTES];
	// The OS's generator fails only on a broken system; a salt of zeroes is still a valid
	// salt (it hides less), so the request goes on.
	if OsRng.try_fill_bytes(&mut salt).is_err() {
		tracing::error!("the operating system gave no randomness for a prompt's salt");
	}
	salt
}

#[cfg(test)]
mod tests {
	use super::*;

	fn user(text: &str) -> ChatMessage {
		ChatMessage::new(Role::User, text)
	}

	#[test]
	fn a_conversation_needs_a_message_with_text() {
		assert_eq!(check(&[]), Err(BadPrompt::NoMessages));
		assert_eq!(
			check(&[user(" \n"), ChatMessage::new(Role::System, "")]),
			Err(BadPrompt::Blank)
		);
		assert_eq!(check(&vec![user("a"); MAX_MESSAGES + 1]), Err(BadPrompt::TooManyMessages));
		assert_eq!(check(&[user("hello")]), Ok(5 + 4 + 4));
	}

	#[test]
	fn prompt_bytes_count_each_turns_role_content_and_frame() {
		let messages = [
			ChatMessage::new(Role::System, "be brief"),
			user("hi"),
			ChatMessage::new(Role::Assistant, ""),
		];
		assert_eq!(prompt_bytes(&messages), Some((6 + 8 + 4) + (4 + 2 + 4) + (9 + 4)));
	}

	#[test]
	fn the_prompt_hash_depends_on_the_salt_and_every_message() {
		let messages = [user("hello")];
		let hash = prompt_hash(&[1; 32], &messages);
		assert_ne!(hash, prompt_hash(&[2; 32], &messages));
		assert_ne!(hash, prompt_hash(&[1; 32], &[user("hello!")]));
		assert_ne!(hash, prompt_hash(&[1; 32], &[ChatMessage::new(Role::System, "hello")]));
		assert_eq!(hash, prompt_hash(&[1; 32], &[user("hello")]));
		assert_ne!(new_salt(), new_salt());
	}
}
