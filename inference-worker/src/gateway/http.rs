//! The gateway's HTTP server (hyper): `GET /v1/models`, `POST /v1/chat/completions`
//! (a JSON answer, or with `"stream": true` Server-Sent Events: `chat.completion.chunk`
//! objects, the first with the assistant's role, then the text as it comes, then one with
//! the finish reason and the receipt in `x_gonka`, then the usage chunk if
//! `stream_options.include_usage`, then `data: [DONE]`). An error after the stream
//! started is a `data: {"error":…}` event before `[DONE]`, as OpenAI's clients expect.
//! Bodies above [`MAX_BODY_BYTES`] answer 413; other paths 404; all errors in OpenAI's
//! shape. In hosted mode every route needs an API key, and a completion its key's rate
//! and spending room (`keys`).

use super::{
	keys,
	openai::{self, ApiError},
	Event, Gateway,
};
use crate::{Error, Result};
use bytes::Bytes;
use gonka_primitives::channel::FinishReason;
use http_body_util::{combinators::BoxBody, BodyExt, Full, Limited, StreamBody};
use hyper::{
	body::{Frame, Incoming},
	Method, Request, Response,
};
use serde_json::{json, Value};
use std::{convert::Infallible, net::SocketAddr, sync::Arc, time::SystemTime};

/// The largest request body read.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

type Body = BoxBody<Bytes, Infallible>;

/// The gateway's HTTP server, on a thread of its own; stopped when dropped.
pub struct GatewayServer {
	address: SocketAddr,
	stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl GatewayServer {
	/// Listens on `listen` (e.g. `127.0.0.1:8080`) and serves `gateway`.
	pub fn start(listen: &str, gateway: Arc<Gateway>) -> Result<Self> {
		let (started, receiver) = std::sync::mpsc::channel();
		let (stop, stopped) = tokio::sync::oneshot::channel();
		let listen = listen.to_string();
		std::thread::Builder::new()
			.name("gateway-http".into())
			.spawn(move || {
				let runtime =
					match tokio::runtime::Builder::new_current_thread().enable_all().build() {
						Ok(runtime) => runtime,
						Err(error) => {
							let _ = started.send(Err(Error::io("the gateway's runtime")(error)));
							return;
						}
					};
				runtime.block_on(serve(listen, gateway, started, stopped));
			})
			.map_err(Error::io("starting the gateway's thread"))?;
		let address =
			receiver.recv().map_err(|_| Error::Channel("the gateway's thread ended".into()))??;
		tracing::info!(%address, "the gateway serves the OpenAI-compatible API");
		Ok(Self { address, stop: Some(stop) })
	}

	/// The address it listens on.
	pub fn address(&self) -> SocketAddr {
		self.address
	}
}

impl Drop for GatewayServer {
	fn drop(&mut self) {
		if let Some(stop) = self.stop.take() {
			let _ = stop.send(());
		}
	}
}

async fn serve(
	listen: String,
	gateway: Arc<Gateway>,
	started: std::sync::mpsc::Sender<Result<SocketAddr>>,
	mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
	let listener = match tokio::net::TcpListener::bind(&listen).await {
		Ok(listener) => listener,
		Err(error) => {
			let _ = started
				.send(Err(Error::io(format!("the gateway cannot listen on {listen}"))(error)));
			return;
		}
	};
	let Ok(address) = listener.local_addr() else { return };
	let _ = started.send(Ok(address));
	loop {
		let (socket, _) = tokio::select! {
			accepted = listener.accept() => match accepted {
				Ok(accepted) => accepted,
				Err(error) => {
					tracing::warn!(%error, "the gateway did not accept a connection");
					tokio::time::sleep(std::time::Duration::from_millis(100)).await;
					continue;
				},
			},
			_ = &mut stopped => return,
		};
		let gateway = gateway.clone();
		tokio::spawn(async move {
			let service =
				hyper::service::service_fn(move |request| handle(gateway.clone(), request));
			let _ = hyper::server::conn::http1::Builder::new()
				.serve_connection(hyper_util::rt::TokioIo::new(socket), service)
				.await;
		});
	}
}

fn json_response(status: u16, body: &Value) -> Response<Body> {
	Response::builder()
		.status(status)
		.header("content-type", "application/json")
		.body(Full::new(Bytes::from(body.to_string())).boxed())
		.unwrap_or_else(|_| Response::new(Full::new(Bytes::new()).boxed()))
}

fn error_response(error: &ApiError) -> Response<Body> {
	json_response(error.status, &error.body())
}

fn now() -> u64 {
	SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |since| since.as_secs())
}

async fn handle(
	gateway: Arc<Gateway>,
	request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
	let (method, path) = (request.method().clone(), request.uri().path().to_string());
	let authorization = request
		.headers()
		.get(hyper::header::AUTHORIZATION)
		.and_then(|value| value.to_str().ok())
		.map(str::to_string);
	// Hosted mode: every route needs a key (before anything is read).
	let key = match gateway.keys().map(|keys| keys.check(authorization.as_deref())).transpose() {
		Ok(key) => key,
		Err(error) => return Ok(error_response(&error)),
	};
	Ok(match (method, path.as_str()) {
		(Method::GET, "/v1/models") => {
			json_response(200, &openai::models_body(&gateway.models(), now()))
		}
		(Method::POST, "/v1/chat/completions") => {
			if let (Some(keys), Some(key)) = (gateway.keys(), key) {
				if let Err(error) = keys.admit(key, std::time::Instant::now()) {
					return Ok(error_response(&error));
				}
			}
			let body = match Limited::new(request.into_body(), MAX_BODY_BYTES).collect().await {
				Ok(collected) => collected.to_bytes(),
				Err(_) => {
					return Ok(error_response(&ApiError::new(
						413,
						"invalid_request_error",
						"request_too_large",
						format!("the body is larger than {MAX_BODY_BYTES} bytes"),
					)))
				}
			};
			match chat(&gateway, &body, key).await {
				Ok(response) => response,
				Err(error) => error_response(&error),
			}
		}
		(_, path) => error_response(&ApiError::new(
			404,
			"invalid_request_error",
			"not_found",
			format!(
				"no route {path}: the gateway serves GET /v1/models and POST /v1/chat/completions"
			),
		)),
	})
}

fn finish_reason(finish: FinishReason) -> &'static str {
	match finish {
		FinishReason::Stop => "stop",
		FinishReason::Length => "length",
	}
}

async fn chat(
	gateway: &Arc<Gateway>,
	body: &[u8],
	key: Option<keys::KeyHash>,
) -> Result<Response<Body>, ApiError> {
	let request = openai::parse_request(body)?;
	let (model, stream, include_usage) =
		(request.model.clone(), request.stream, request.include_usage);
	let mut events = gateway.complete(request, key).await?;
	let id = format!("chatcmpl-{}", hex::encode(&crate::channel::prompt::new_salt()[..12]));
	let created = now();
	if !stream {
		let mut text = String::new();
		while let Some(event) = events.recv().await {
			match event {
				Event::Text(more) => text.push_str(&more),
				Event::Done { finish, usage, receipt } => {
					let body = openai::completion(
						&id,
						created,
						&model,
						&text,
						finish_reason(finish),
						usage,
						receipt,
					);
					return Ok(json_response(200, &body));
				}
				Event::Error(error) => return Err(error),
			}
		}
		return Err(ApiError::new(
			502,
			"api_error",
			"bad_gateway",
			"the completion ended without a receipt",
		));
	}
	let (frames, receiver) = tokio::sync::mpsc::unbounded_channel::<Bytes>();
	let data = |value: &Value| Bytes::from(format!("data: {value}\n\n"));
	let _ = frames.send(data(&openai::chunk(
		&id,
		created,
		&model,
		json!({"role": "assistant", "content": ""}),
		None,
	)));
	tokio::spawn(async move {
		while let Some(event) = events.recv().await {
			match event {
				Event::Text(more) => {
					let _ = frames.send(data(&openai::chunk(
						&id,
						created,
						&model,
						json!({"content": more}),
						None,
					)));
				}
				Event::Done { finish, usage, receipt } => {
					let mut last =
						openai::chunk(&id, created, &model, json!({}), Some(finish_reason(finish)));
					last["x_gonka"] = receipt;
					let _ = frames.send(data(&last));
					if include_usage {
						let _ =
							frames.send(data(&openai::usage_chunk(&id, created, &model, usage)));
					}
					break;
				}
				Event::Error(error) => {
					let _ = frames.send(data(&error.body()));
					break;
				}
			}
		}
		let _ = frames.send(Bytes::from_static(b"data: [DONE]\n\n"));
	});
	let body = StreamBody::new(futures::stream::unfold(receiver, |mut receiver| async move {
		receiver.recv().await.map(|bytes| (Ok::<_, Infallible>(Frame::data(bytes)), receiver))
	}));
	Ok(Response::builder()
		.status(200)
		.header("content-type", "text/event-stream")
		.header("cache-control", "no-cache")
		.body(BodyExt::boxed(body))
		.unwrap_or_else(|_| Response::new(Full::new(Bytes::new()).boxed())))
}
