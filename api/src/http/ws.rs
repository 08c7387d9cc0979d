//! GraphQL subscriptions over WebSocket, in the `graphql-transport-ws` protocol (the one graphql-ws, Apollo Client
//! and urql speak), at `/graphql`.
//!
//! - The client offers the `graphql-transport-ws` subprotocol; any other is closed with 4406.
//! - Its first message is `connection_init`, within 10 s (else 4408); a key goes in its payload as
//!   `{"Authorization": "Bearer <key>"}` (also `authorization`, or under `headers`). A wrong, expired or revoked key
//!   closes the socket with 4403; no key is the public role. A second `connection_init` closes with 4429.
//! - `subscribe` before the acknowledgement closes with 4401; an id in use closes with 4409; a message that is not
//!   one of the protocol's, or an id longer than [`MAX_ID_CHARS`], closes with 4400.
//! - Only subscription operations run here (queries and mutations go over HTTP). Each is priced like an HTTP
//!   request, against the caller's budget, and counted against its rate limit; a socket runs at most
//!   [`MAX_OPERATIONS`] at once, one client address holds at most [`MAX_SOCKETS_PER_CLIENT`] sockets, and messages
//!   are at most 64 KiB (a larger one closes the socket with 1009).
//! - When the server shuts down, every socket is closed with 1001 (going away).

use super::AppState;
use super::admission;
use crate::context::RequestData;
use crate::error::code;
use crate::scope::Scope;
use async_graphql::parser::types::OperationType;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::mpsc;

/// The subprotocol spoken.
pub const PROTOCOL: &str = "graphql-transport-ws";
/// Subscriptions one socket may run at once.
pub const MAX_OPERATIONS: usize = 16;
/// Sockets one client address may hold at once.
pub const MAX_SOCKETS_PER_CLIENT: usize = 16;
/// Largest message accepted: a larger one closes the socket with 1009.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Largest message or frame read at all. Messages between [`MAX_MESSAGE_BYTES`] and this are read whole, so that the
/// socket can be closed with 1009 in order; a larger one is cut off while it is read (the close frame is still sent,
/// but the client may see the connection reset first).
const MAX_READ_BYTES: usize = 1024 * 1024;
/// Longest subscription id accepted, in characters.
pub const MAX_ID_CHARS: usize = 128;
/// Longest wait for `connection_init`.
const INIT_WAIT: Duration = Duration::from_secs(10);
/// How often the server pings an idle client.
const KEEP_ALIVE: Duration = Duration::from_secs(30);

/// Open sockets per client address, in this process, and the signal that closes them all at shutdown.
pub struct Sockets {
    open: Mutex<HashMap<String, usize>>,
    closing: tokio::sync::watch::Sender<bool>,
}

impl Default for Sockets {
    fn default() -> Self {
        Sockets {
            open: Mutex::default(),
            closing: tokio::sync::watch::Sender::new(false),
        }
    }
}

/// One socket counted against its client address until dropped.
struct Counted<'a> {
    sockets: &'a Sockets,
    client: String,
}

impl Sockets {
    fn enter(&self, client: String) -> Option<Counted<'_>> {
        let mut open = self.open.lock().expect("not poisoned");
        let count = open.entry(client.clone()).or_default();
        if *count >= MAX_SOCKETS_PER_CLIENT {
            return None;
        }
        *count += 1;
        Some(Counted { sockets: self, client })
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        let mut open = self.sockets.open.lock().expect("not poisoned");
        if let Some(count) = open.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.client);
            }
        }
    }
}

impl Sockets {
    /// Closes every open socket (and any opened from now on) with 1001, going away.
    pub fn close_all(&self) {
        self.closing.send_replace(true);
    }

    /// Waits until no socket is open, or `within` has passed.
    pub async fn closed(&self, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        while !self.open.lock().expect("not poisoned").is_empty() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl AppState {
    /// Closes every WebSocket of this process with 1001 (going away): called when the server shuts down.
    pub fn close_sockets(&self) {
        self.inner.sockets.close_all();
    }

    /// Waits until the sockets closed by [`AppState::close_sockets`] have sent their close frames (at most `within`).
    pub async fn sockets_closed(&self, within: Duration) {
        self.inner.sockets.closed(within).await;
    }
}

/// Whether a request asks for a WebSocket.
pub fn is_upgrade(parts: &Parts) -> bool {
    parts
        .headers
        .get(axum::http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Answers a WebSocket handshake on `/graphql`.
pub async fn upgrade(state: &AppState, mut parts: Parts) -> Response {
    let upgrade =
        match <WebSocketUpgrade as axum::extract::FromRequestParts<AppState>>::from_request_parts(&mut parts, state)
            .await
        {
            Ok(upgrade) => upgrade,
            Err(rejection) => return rejection.into_response(),
        };
    let client = admission::client_address(&parts, &state.inner.limits.trusted_proxies);
    // The handshake counts as a request (and a key sent in its headers must be a good one).
    let scope = match admission::admit(state, &parts, super::protocol::MediaType::Json).await {
        Ok((scope, _)) => scope,
        Err(refused) => return refused,
    };
    let offered = parts
        .headers
        .get_all(axum::http::header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == PROTOCOL);
    // Names in subscriptions' answers follow the handshake's `Accept-Language`, as over HTTP.
    let language = crate::labels::Language::from_accept_language(
        parts
            .headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let state = state.clone();
    upgrade
        .protocols([PROTOCOL])
        .max_message_size(MAX_READ_BYTES)
        .max_frame_size(MAX_READ_BYTES)
        .on_upgrade(move |socket| async move {
            if !offered {
                close(socket, 4406, "Subprotocol not acceptable: speak graphql-transport-ws").await;
                return;
            }
            let Some(_counted) = state.inner.sockets.enter(client.clone()) else {
                close(socket, 4429, "Too many sockets from this address").await;
                return;
            };
            if *state.inner.sockets.closing.borrow() {
                close(socket, 1001, GOING_AWAY).await;
                return;
            }
            Connection::new(state.clone(), client, scope, language)
                .run(socket)
                .await;
        })
}

/// The reason sent with 1001 at shutdown.
const GOING_AWAY: &str = "Going away: the server is shutting down, reconnect shortly";

async fn close(mut socket: WebSocket, code: u16, reason: &'static str) {
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        })))
        .await;
}

/// A message of a running operation, written.
struct Outgoing {
    id: String,
    /// Its operation is over (`error` or `complete`).
    last: bool,
    text: String,
}

/// What the connection task learns from the socket and from its operations.
enum Step {
    Incoming(Option<Result<Message, axum::Error>>),
    Outgoing(Option<Outgoing>),
    KeepAlive,
    InitTimedOut,
    ShuttingDown,
}

/// One socket's state.
struct Connection {
    state: AppState,
    client: String,
    /// The scope of a key sent with the handshake's headers, used when `connection_init` carries none.
    handshake: Scope,
    scope: Option<Scope>,
    /// The language the handshake's `Accept-Language` prefers.
    language: crate::labels::Language,
    running: HashMap<String, tokio::task::JoinHandle<()>>,
}

impl Connection {
    fn new(state: AppState, client: String, handshake: Scope, language: crate::labels::Language) -> Self {
        Connection {
            state,
            client,
            handshake,
            scope: None,
            language,
            running: HashMap::new(),
        }
    }

    async fn run(mut self, socket: WebSocket) {
        let (mut sink, mut stream) = socket.split();
        let (out, mut outgoing) = mpsc::channel::<Outgoing>(64);
        let init_deadline = tokio::time::sleep(INIT_WAIT);
        tokio::pin!(init_deadline);
        let mut keep_alive = tokio::time::interval(KEEP_ALIVE);
        keep_alive.tick().await;
        let mut shutdown = self.state.inner.sockets.closing.subscribe();
        let too_big = || Some((1009, format!("Message too big: at most {MAX_MESSAGE_BYTES} bytes")));
        let closing = loop {
            let step = tokio::select! {
                message = stream.next() => Step::Incoming(message),
                message = outgoing.recv() => Step::Outgoing(message),
                _ = keep_alive.tick() => Step::KeepAlive,
                _ = &mut init_deadline, if self.scope.is_none() => Step::InitTimedOut,
                _ = shutdown.wait_for(|closing| *closing) => Step::ShuttingDown,
            };
            match step {
                Step::ShuttingDown => break Some((1001, GOING_AWAY.to_owned())),
                Step::InitTimedOut => break Some((4408, "Connection initialisation timeout".to_owned())),
                Step::KeepAlive => {
                    if sink.send(text(&json!({"type": "ping"}))).await.is_err() {
                        break None;
                    }
                }
                Step::Outgoing(Some(message)) => {
                    if message.last {
                        self.running.remove(&message.id);
                    }
                    if sink.send(Message::Text(message.text.into())).await.is_err() {
                        break None;
                    }
                }
                Step::Outgoing(None) => break None,
                // A message or frame over `MAX_READ_BYTES` (the only error the socket reports by its limits): told
                // with 1009 all the same.
                Step::Incoming(Some(Err(error))) if error.to_string().contains("Space limit exceeded") => {
                    break too_big();
                }
                Step::Incoming(None | Some(Err(_))) => break None,
                Step::Incoming(Some(Ok(message))) => {
                    let body = match message {
                        Message::Text(body) if body.len() > MAX_MESSAGE_BYTES => break too_big(),
                        Message::Binary(body) if body.len() > MAX_MESSAGE_BYTES => break too_big(),
                        Message::Text(body) => body.to_string(),
                        Message::Binary(_) => break Some((4400, "Send messages as text".to_owned())),
                        Message::Close(_) => break None,
                        Message::Ping(_) | Message::Pong(_) => continue,
                    };
                    match self.handle(&body, &out).await {
                        Ok(replies) => {
                            let mut failed = false;
                            for reply in replies {
                                if sink.send(text(&reply)).await.is_err() {
                                    failed = true;
                                    break;
                                }
                            }
                            if failed {
                                break None;
                            }
                        }
                        Err(close) => break Some(close),
                    }
                }
            }
        };
        for (_, task) in self.running.drain() {
            task.abort();
        }
        if let Some((code, reason)) = closing {
            let _ = sink
                .send(Message::Close(Some(CloseFrame {
                    code,
                    reason: reason.into(),
                })))
                .await;
        }
    }

    /// Handles one client message: the replies to send now, or the close code and reason.
    async fn handle(&mut self, body: &str, out: &mpsc::Sender<Outgoing>) -> Result<Vec<Value>, (u16, String)> {
        let invalid = |why: &str| (4400, format!("Invalid message: {why}"));
        let message: Value = serde_json::from_str(body).map_err(|_| invalid("not JSON"))?;
        let kind = message
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("no `type`"))?;
        match kind {
            "connection_init" => {
                if self.scope.is_some() {
                    return Err((4429, "Too many initialisation requests".into()));
                }
                let scope = match message.get("payload").and_then(authorization) {
                    Some(key) => admission::authenticate_value(&self.state, Some(&key))
                        .await
                        .map_err(|reason| {
                            tracing::info!(address = %self.client, %reason, "API key refused on a WebSocket");
                            (4403, "Forbidden".to_owned())
                        })?,
                    None => self.handshake.clone(),
                };
                self.scope = Some(scope);
                Ok(vec![json!({"type": "connection_ack"})])
            }
            "ping" => Ok(vec![json!({"type": "pong"})]),
            "pong" => Ok(Vec::new()),
            "subscribe" => {
                let Some(scope) = self.scope.clone() else {
                    return Err((4401, "Unauthorized".into()));
                };
                let id = message
                    .get("id")
                    .and_then(Value::as_str)
                    .filter(|id| !id.is_empty())
                    .ok_or_else(|| invalid("`subscribe` needs an `id`"))?
                    .to_owned();
                if id.chars().count() > MAX_ID_CHARS {
                    return Err(invalid(&format!("`id` is longer than {MAX_ID_CHARS} characters")));
                }
                self.running.retain(|_, task| !task.is_finished());
                if self.running.contains_key(&id) {
                    return Err((4409, format!("Subscriber for {id} already exists")));
                }
                let payload = message.get("payload").cloned().unwrap_or(Value::Null);
                match self.start(&id, payload, scope, out.clone()).await {
                    Ok(task) => {
                        self.running.insert(id, task);
                        Ok(Vec::new())
                    }
                    Err(errors) => Ok(vec![json!({"id": id, "type": "error", "payload": errors})]),
                }
            }
            "complete" => {
                if let Some(id) = message.get("id").and_then(Value::as_str)
                    && let Some(task) = self.running.remove(id)
                {
                    task.abort();
                }
                Ok(Vec::new())
            }
            other => Err(invalid(&format!("unknown type `{other}`"))),
        }
    }

    /// Checks and starts one subscription; its messages go to `out`. Refusals come back as GraphQL errors.
    async fn start(
        &mut self,
        id: &str,
        payload: Value,
        scope: Scope,
        out: mpsc::Sender<Outgoing>,
    ) -> Result<tokio::task::JoinHandle<()>, Value> {
        let refuse = |code: &str, message: String| json!([{"message": message, "extensions": {"code": code}}]);
        if self.running.len() >= MAX_OPERATIONS {
            return Err(refuse(
                code::BAD_REQUEST,
                format!("a socket runs at most {MAX_OPERATIONS} subscriptions at once: complete one first"),
            ));
        }
        if let Err(refused) = admission::count_operation(&self.state, &scope, &self.client).await {
            return Err(refuse(code::RATE_LIMITED, refused));
        }
        let request: async_graphql::Request = serde_json::from_value(payload).map_err(|e| {
            refuse(
                code::BAD_REQUEST,
                format!("the `subscribe` payload is not a GraphQL request: {e}"),
            )
        })?;
        let mut request = request;
        let document =
            super::execution::parse(&self.state, &mut request).map_err(|(code, message)| refuse(code, message))?;
        let operation = crate::graphql::operation(&document, request.operation_name.as_deref())
            .ok_or_else(|| refuse(code::BAD_REQUEST, "the document has no such operation".into()))?;
        if operation.ty != OperationType::Subscription {
            return Err(refuse(
                code::BAD_REQUEST,
                "only subscriptions run over WebSocket: send queries and mutations over HTTP".into(),
            ));
        }
        let inner = &self.state.inner;
        let price = super::execution::price(&self.state, &document, &request, &scope)
            .map_err(|(code, message)| refuse(code, message))?;
        let db = inner.db.clone();
        let loader = crate::loader::loader(db.clone(), scope.clone(), tokio::spawn);
        tracing::info!(role = scope.role.name(), id, "subscription started");
        let places = price.statements.min(inner.heavy_places as u64) as usize;
        let request = super::execution::with_data(request, &price, places, self.language)
            .data(RequestData { db, scope })
            .data(loader)
            .data(inner.hub.clone());
        let schema = inner.schema.clone();
        let id = id.to_owned();
        let state = self.state.clone();
        let name = request.operation_name.clone();
        let variables = request.variables.clone();
        Ok(tokio::spawn(async move {
            let mut responses = std::pin::pin!(schema.execute_stream(request));
            let mut first = true;
            let quoted = serde_json::to_string(&id).unwrap_or_default();
            while let Some(mut response) = responses.next().await {
                super::execution::add_codes(&mut response.errors);
                // Written from the response itself, so that its keys keep the order of the query.
                let failed = first && response.is_err() && response.data == async_graphql::Value::Null;
                let payload = if failed {
                    serde_json::to_string(&response.errors)
                } else {
                    // In the query's order, with the specification's nulls, as over HTTP.
                    let data = std::mem::take(&mut response.data);
                    let data = match crate::graphql::operation(&document, name.as_deref()) {
                        Some(op) => crate::graphql::complete::complete(
                            data,
                            &document,
                            op,
                            &variables,
                            &state.inner.types,
                            &response.errors,
                        ),
                        None => data,
                    };
                    serde_json::to_string(&super::execution::Body {
                        data: Some(&data),
                        errors: &response.errors,
                    })
                }
                .unwrap_or_default();
                let kind = if failed { "error" } else { "next" };
                first = false;
                let message = Outgoing {
                    id: id.clone(),
                    last: failed,
                    text: format!(r#"{{"id":{quoted},"type":"{kind}","payload":{payload}}}"#),
                };
                if out.send(message).await.is_err() || failed {
                    return;
                }
            }
            let _ = out
                .send(Outgoing {
                    text: format!(r#"{{"id":{quoted},"type":"complete"}}"#),
                    id,
                    last: true,
                })
                .await;
        }))
    }
}

fn text(value: &Value) -> Message {
    Message::Text(value.to_string().into())
}

/// The key a `connection_init` payload carries, as an `Authorization` header value.
fn authorization(payload: &Value) -> Option<String> {
    let object = payload.as_object()?;
    let find = |object: &serde_json::Map<String, Value>| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            .and_then(|(_, v)| v.as_str().map(str::to_owned))
    };
    find(object).or_else(|| object.get("headers").and_then(Value::as_object).and_then(find))
}
