//! OpenAI's chat completions API as the gateway speaks it: the request it takes, the
//! answers and stream chunks it sends, and its error shape
//! (`{"error":{"message","type","param","code"}}`).
//!
//! Taken: `model`, `messages` (roles `system`, `user`, `assistant`; `content` a string or
//! an array of `{"type":"text","text":…}` parts), `max_tokens` (or
//! `max_completion_tokens`), `temperature` (0–2), `top_p` (0–1], `stream`,
//! `stream_options.include_usage`, `user` (ignored), and the defaults of `n` (1),
//! `presence_penalty` and `frequency_penalty` (0) and `logprobs` (false). Anything else,
//! or another value of those, answers 400 `unsupported_parameter` naming it: the gateway
//! never silently ignores what a client asked for. A client `seed` is refused too: a
//! channel request's seed is the protocol's (`request_seed`), so that validators replay
//! it.

use crate::channel::prompt::{ChatMessage, Role};
use gonka_primitives::inference::{SamplingParams, MAX_TEMPERATURE_MILLI};
use polkadot_sdk::sp_arithmetic::Perbill;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// An error as OpenAI's API answers it, with its HTTP status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
	/// The HTTP status.
	pub status: u16,
	/// What went wrong.
	pub message: String,
	/// OpenAI's error type (`invalid_request_error`, `insufficient_quota`, ...).
	pub kind: &'static str,
	/// The request field at fault.
	pub param: Option<String>,
	/// A machine-readable code.
	pub code: Option<&'static str>,
}

impl ApiError {
	/// 400: the request is malformed or asks for what the gateway does not do.
	pub fn invalid(message: impl Into<String>, param: Option<&str>, code: &'static str) -> Self {
		Self {
			status: 400,
			message: message.into(),
			kind: "invalid_request_error",
			param: param.map(str::to_string),
			code: Some(code),
		}
	}

	/// 400 `unsupported_parameter` for `param`.
	pub fn unsupported(param: &str, why: &str) -> Self {
		Self::invalid(
			format!("`{param}` is not supported: {why}"),
			Some(param),
			"unsupported_parameter",
		)
	}

	/// An error of status `status` and type `kind`.
	pub fn new(
		status: u16,
		kind: &'static str,
		code: &'static str,
		message: impl Into<String>,
	) -> Self {
		Self { status, message: message.into(), kind, param: None, code: Some(code) }
	}

	/// The JSON body.
	pub fn body(&self) -> Value {
		json!({ "error": {
			"message": self.message,
			"type": self.kind,
			"param": self.param,
			"code": self.code,
		}})
	}
}

/// A chat completion request, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct CompletionRequest {
	/// The model's name.
	pub model: String,
	/// The conversation.
	pub messages: Vec<ChatMessage>,
	/// The most completion tokens (`None`: as many as the channel allows).
	pub max_tokens: Option<u32>,
	/// Temperature and nucleus, as the chain writes them.
	pub sampling: SamplingParams,
	/// Whether to stream.
	pub stream: bool,
	/// Whether the stream ends with a usage chunk.
	pub include_usage: bool,
}

fn number(value: &Value, param: &str) -> Result<f64, ApiError> {
	value.as_f64().filter(|number| number.is_finite()).ok_or_else(|| {
		ApiError::invalid(format!("`{param}` must be a number"), Some(param), "invalid_type")
	})
}

fn count(value: &Value, param: &str) -> Result<u32, ApiError> {
	value
		.as_u64()
		.and_then(|count| u32::try_from(count).ok())
		.filter(|count| *count > 0)
		.ok_or_else(|| {
			ApiError::invalid(
				format!("`{param}` must be a positive integer"),
				Some(param),
				"invalid_value",
			)
		})
}

fn content(value: &Value, at: usize) -> Result<String, ApiError> {
	let param = format!("messages[{at}].content");
	match value {
		Value::String(text) => Ok(text.clone()),
		Value::Null => Ok(String::new()),
		Value::Array(parts) => {
			let mut text = String::new();
			for part in parts {
				match (
					part.get("type").and_then(Value::as_str),
					part.get("text").and_then(Value::as_str),
				) {
					(Some("text"), Some(part)) => text.push_str(part),
					_ => return Err(ApiError::unsupported(&param, "only text parts are")),
				}
			}
			Ok(text)
		}
		_ => Err(ApiError::invalid(
			format!("`{param}` must be a string"),
			Some(&param),
			"invalid_type",
		)),
	}
}

fn messages(value: &Value) -> Result<Vec<ChatMessage>, ApiError> {
	let list = value.as_array().ok_or_else(|| {
		ApiError::invalid("`messages` must be an array", Some("messages"), "invalid_type")
	})?;
	list.iter()
		.enumerate()
		.map(|(at, message)| {
			let role = match message.get("role").and_then(Value::as_str) {
				Some("system" | "developer") => Role::System,
				Some("user") => Role::User,
				Some("assistant") => Role::Assistant,
				other => {
					return Err(ApiError::unsupported(
						&format!("messages[{at}].role"),
						&format!("{other:?}: the roles are system, user and assistant"),
					))
				}
			};
			if let Some(key) = message.as_object().and_then(|fields| {
				fields.keys().find(|key| !matches!(key.as_str(), "role" | "content" | "name"))
			}) {
				return Err(ApiError::unsupported(
					&format!("messages[{at}].{key}"),
					"tools are not",
				));
			}
			Ok(ChatMessage::new(role, content(message.get("content").unwrap_or(&Value::Null), at)?))
		})
		.collect()
}

/// Parses and checks a `POST /v1/chat/completions` body.
pub fn parse_request(body: &[u8]) -> Result<CompletionRequest, ApiError> {
	let value: Value = serde_json::from_slice(body).map_err(|error| {
		ApiError::invalid(format!("the body is not JSON: {error}"), None, "invalid_json")
	})?;
	let Value::Object(fields) = value else {
		return Err(ApiError::invalid("the body must be a JSON object", None, "invalid_json"));
	};
	let get = |key: &str| fields.get(key).filter(|value| !value.is_null());
	check_defaults(&fields)?;
	let model = get("model")
		.and_then(Value::as_str)
		.ok_or_else(|| {
			ApiError::invalid("`model` is required", Some("model"), "missing_required_parameter")
		})?
		.to_string();
	let messages = messages(get("messages").ok_or_else(|| {
		ApiError::invalid("`messages` is required", Some("messages"), "missing_required_parameter")
	})?)?;
	let max_tokens = match (get("max_tokens"), get("max_completion_tokens")) {
		(Some(value), _) => Some(count(value, "max_tokens")?),
		(None, Some(value)) => Some(count(value, "max_completion_tokens")?),
		(None, None) => None,
	};
	let temperature = match get("temperature") {
		Some(value) => number(value, "temperature")?,
		None => 1.0,
	};
	let most = f64::from(MAX_TEMPERATURE_MILLI) / 1000.0;
	if !(0.0..=most).contains(&temperature) {
		return Err(ApiError::invalid(
			format!("`temperature` must be between 0 and {most}"),
			Some("temperature"),
			"invalid_value",
		));
	}
	let top_p = match get("top_p") {
		Some(value) => number(value, "top_p")?,
		None => 1.0,
	};
	if !(top_p > 0.0 && top_p <= 1.0) {
		return Err(ApiError::invalid("`top_p` must be in (0, 1]", Some("top_p"), "invalid_value"));
	}
	let stream = match get("stream") {
		Some(value) => value.as_bool().ok_or_else(|| {
			ApiError::invalid("`stream` must be a boolean", Some("stream"), "invalid_type")
		})?,
		None => false,
	};
	let include_usage = match get("stream_options") {
		Some(options) => {
			let options = options.as_object().ok_or_else(|| {
				ApiError::invalid(
					"`stream_options` must be an object",
					Some("stream_options"),
					"invalid_type",
				)
			})?;
			if let Some(key) = options.keys().find(|key| key.as_str() != "include_usage") {
				return Err(ApiError::unsupported(
					&format!("stream_options.{key}"),
					"only include_usage is",
				));
			}
			options.get("include_usage").and_then(Value::as_bool).unwrap_or(false)
		}
		None => false,
	};
	let sampling = SamplingParams {
		temperature_milli: (temperature * 1000.0).round() as u32,
		top_p: Perbill::from_rational((top_p * 1e9).round() as u64, 1_000_000_000u64),
	};
	Ok(CompletionRequest { model, messages, max_tokens, sampling, stream, include_usage })
}

/// Refuses every field the gateway does not take, and every value other than the default
/// of those it takes only at their default.
fn check_defaults(fields: &Map<String, Value>) -> Result<(), ApiError> {
	for (key, value) in fields {
		let default = match key.as_str() {
			"model"
			| "messages"
			| "max_tokens"
			| "max_completion_tokens"
			| "temperature"
			| "top_p"
			| "stream"
			| "stream_options"
			| "user" => true,
			"n" => value.is_null() || value.as_u64() == Some(1),
			"presence_penalty" | "frequency_penalty" => {
				value.is_null() || value.as_f64() == Some(0.0)
			}
			"logprobs" => value.is_null() || value.as_bool() == Some(false),
			"stop" => value.is_null(),
			_ => false,
		};
		if !default {
			let why = match key.as_str() {
				"seed" => "a channel request's seed is drawn by the protocol, so that validators replay it",
				"n" => "one choice per request",
				"stop" => "completions end at the model's end token or max_tokens",
				_ => "the gateway does not implement it",
			};
			return Err(ApiError::unsupported(key, why));
		}
	}
	Ok(())
}

/// `GET /v1/models`'s list.
pub fn models_body(models: &[String], created: u64) -> Value {
	json!({
		"object": "list",
		"data": models.iter().map(|id| json!({
			"id": id, "object": "model", "created": created, "owned_by": "gonka",
		})).collect::<Vec<_>>(),
	})
}

/// Token counts of a completion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
	/// The templated prompt's tokens.
	pub prompt_tokens: u32,
	/// The completion's tokens.
	pub completion_tokens: u32,
	/// Both.
	pub total_tokens: u32,
}

impl Usage {
	/// Of `prompt` and `completion` tokens.
	pub fn new(prompt: u32, completion: u32) -> Self {
		Self {
			prompt_tokens: prompt,
			completion_tokens: completion,
			total_tokens: prompt.saturating_add(completion),
		}
	}
}

/// A stream chunk (`chat.completion.chunk`).
pub fn chunk(id: &str, created: u64, model: &str, delta: Value, finish: Option<&str>) -> Value {
	json!({
		"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
		"choices": [{ "index": 0, "delta": delta, "finish_reason": finish, "logprobs": null }],
	})
}

/// The stream's usage chunk (no choices).
pub fn usage_chunk(id: &str, created: u64, model: &str, usage: Usage) -> Value {
	json!({
		"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
		"choices": [], "usage": usage,
	})
}

/// A whole answer (`chat.completion`).
pub fn completion(
	id: &str,
	created: u64,
	model: &str,
	text: &str,
	finish: &str,
	usage: Usage,
	receipt: Value,
) -> Value {
	json!({
		"id": id, "object": "chat.completion", "created": created, "model": model,
		"choices": [{
			"index": 0,
			"message": { "role": "assistant", "content": text },
			"finish_reason": finish,
			"logprobs": null,
		}],
		"usage": usage,
		"x_gonka": receipt,
	})
}

#[cfg(test)]
mod tests {
	use super::*;

	fn parse(body: Value) -> Result<CompletionRequest, ApiError> {
		parse_request(body.to_string().as_bytes())
	}

	#[test]
	fn a_plain_request_is_taken_with_openais_defaults() {
		let request = parse(json!({
			"model": "m", "messages": [
				{"role": "system", "content": "brief"},
				{"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "text", "text": "!"}]},
			],
			"n": 1, "stream": true, "stream_options": {"include_usage": true}, "user": "u", "stop": null,
		}))
		.unwrap();
		assert_eq!(
			request.messages,
			vec![ChatMessage::new(Role::System, "brief"), ChatMessage::new(Role::User, "hi!")]
		);
		assert_eq!(
			request.sampling,
			SamplingParams { temperature_milli: 1000, top_p: Perbill::one() }
		);
		assert!(request.stream && request.include_usage);
		assert_eq!(request.max_tokens, None);
		let request = parse(
			json!({"model": "m", "messages": [], "temperature": 0, "top_p": 0.5, "max_tokens": 7}),
		)
		.unwrap();
		assert_eq!(
			request.sampling,
			SamplingParams { temperature_milli: 0, top_p: Perbill::from_percent(50) }
		);
		assert_eq!(request.max_tokens, Some(7));
	}

	#[test]
	fn unsupported_fields_answer_400_naming_them() {
		for (body, param) in [
			(json!({"model": "m", "messages": [], "n": 2}), "n"),
			(json!({"model": "m", "messages": [], "seed": 1}), "seed"),
			(json!({"model": "m", "messages": [], "stop": ["\n"]}), "stop"),
			(json!({"model": "m", "messages": [], "logprobs": true}), "logprobs"),
			(json!({"model": "m", "messages": [], "tools": []}), "tools"),
			(
				json!({"model": "m", "messages": [{"role": "tool", "content": "x"}]}),
				"messages[0].role",
			),
			(
				json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]}),
				"messages[0].content",
			),
			(json!({"model": "m", "messages": [], "temperature": 3}), "temperature"),
			(json!({"model": "m", "messages": [], "top_p": 0}), "top_p"),
			(json!({"model": "m", "messages": [], "max_tokens": 0}), "max_tokens"),
			(json!({"messages": []}), "model"),
		] {
			let error = parse(body.clone()).expect_err("refused");
			assert_eq!(error.status, 400, "{body}");
			assert_eq!(error.param.as_deref(), Some(param), "{body}");
			assert_eq!(error.body()["error"]["param"], json!(param));
		}
		assert_eq!(parse_request(b"{").unwrap_err().code, Some("invalid_json"));
	}
}
