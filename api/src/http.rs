//! HTTP: the GraphQL-over-HTTP handler, GraphiQL, health and readiness.
//!
//! The handler follows the GraphQL over HTTP specification: POST with a JSON
//! body, GET for queries only (405 for a mutation), both response media types
//! with the status codes the specification gives each, batched arrays refused,
//! a body limit answered with 413 and an execution timeout.

use crate::context::RequestData;
use crate::error::code;
use crate::loader::DbLoader;
use crate::ratelimit::{Decision, RateLimiter};
use crate::schema::ApiSchema;
use crate::scope::Scope;
use async_graphql::dataloader::DataLoader;
use async_graphql::parser::types::OperationType;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};
use tower_http::trace::TraceLayer;

/// Media type of GraphQL responses defined by the specification.
pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
/// The legacy media type, still accepted.
pub const APPLICATION_JSON: &str = "application/json";

/// Limits of the HTTP layer.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Longest a GraphQL request may run.
    pub request_timeout: Duration,
    /// Requests per minute from one address without a key.
    pub anonymous_per_minute: u32,
    /// Requests per minute with one key.
    pub keyed_per_minute: u32,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max_body_bytes: 256 * 1024,
            request_timeout: Duration::from_secs(10),
            anonymous_per_minute: 120,
            keyed_per_minute: 1_200,
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    schema: ApiSchema,
    db: DatabaseConnection,
    limits: HttpLimits,
    rate: RateLimiter,
}

impl AppState {
    pub fn new(db: DatabaseConnection, limits: HttpLimits) -> Self {
        let rate = RateLimiter::default();
        AppState {
            inner: Arc::new(Inner {
                schema: crate::schema::build(),
                db,
                limits,
                rate,
            }),
        }
    }
}

/// Adds the rate-limit headers of a decision.
fn with_rate_headers(mut response: Response, decision: Decision) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        ("ratelimit-limit", decision.limit as u64),
        ("ratelimit-remaining", decision.remaining as u64),
        ("ratelimit-reset", decision.reset_seconds),
    ] {
        headers.insert(name, HeaderValue::from(value));
    }
    if !decision.allowed {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(decision.reset_seconds));
    }
    response
}

/// The caller's scope and rate-limit decision, or the response refusing the request.
async fn admit(
    state: &AppState,
    parts: &axum::http::request::Parts,
    media: MediaType,
) -> Result<(Scope, Decision), Response> {
    let inner = &state.inner;
    let address = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip().to_string())
        .unwrap_or_else(|| "local".into());
    let by_address = || {
        inner
            .rate
            .check(&format!("address:{address}"), inner.limits.anonymous_per_minute)
    };
    let too_many = |decision: Decision| {
        let message = format!(
            "too many requests: at most {} a minute; retry in {} s",
            decision.limit, decision.reset_seconds
        );
        with_rate_headers(
            refuse(StatusCode::TOO_MANY_REQUESTS, media, code::RATE_LIMITED, &message),
            decision,
        )
    };
    let Some(header) = parts.headers.get(header::AUTHORIZATION) else {
        let decision = by_address();
        return if decision.allowed {
            Ok((Scope::public(), decision))
        } else {
            Err(too_many(decision))
        };
    };
    let header = header.to_str().unwrap_or("");
    match crate::partner::auth::authenticate(&inner.db, Some(header)).await {
        Ok(Ok(scope)) => {
            let identity = format!("key:{}", scope.key_prefix.clone().unwrap_or_default());
            let decision = inner.rate.check(&identity, inner.limits.keyed_per_minute);
            if decision.allowed {
                Ok((scope, decision))
            } else {
                Err(too_many(decision))
            }
        }
        Ok(Err(refusal)) => {
            let decision = by_address();
            if !decision.allowed {
                return Err(too_many(decision));
            }
            tracing::info!(address, reason = %refusal.message(), "API key refused");
            let mut response = refuse(
                StatusCode::UNAUTHORIZED,
                media,
                code::UNAUTHENTICATED,
                &refusal.message(),
            );
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            Err(with_rate_headers(response, decision))
        }
        Err(error) => Err(refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            media,
            code::INTERNAL,
            &error.public_message(),
        )),
    }
}

/// The whole router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/graphql", get(graphql).post(graphql))
        .route("/graphiql", get(graphiql))
        .route("/", get(|| async { Redirect::temporary("/graphiql") }))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn readyz(State(state): State<AppState>) -> Response {
    match crate::db::ping(&state.inner.db).await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

async fn graphiql() -> Html<&'static str> {
    Html(include_str!("graphiql.html"))
}

/// The response media type chosen from the Accept header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MediaType {
    GraphqlResponse,
    Json,
}

impl MediaType {
    fn as_str(self) -> &'static str {
        match self {
            MediaType::GraphqlResponse => GRAPHQL_RESPONSE_JSON,
            MediaType::Json => APPLICATION_JSON,
        }
    }

    /// Picks the media type: `application/graphql-response+json` when accepted
    /// (also through `*/*` or `application/*`), else `application/json`; a
    /// request without Accept is treated as asking for `application/json`.
    fn negotiate(headers: &HeaderMap) -> Option<MediaType> {
        let Some(accept) = headers.get(header::ACCEPT) else {
            return Some(MediaType::Json);
        };
        let accept = accept.to_str().ok()?;
        let accepted: Vec<&str> = accept
            .split(',')
            .filter(|part| {
                !part
                    .split(';')
                    .skip(1)
                    .any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"))
            })
            .map(|part| part.split(';').next().unwrap_or("").trim())
            .collect();
        if accepted
            .iter()
            .any(|m| m.eq_ignore_ascii_case(GRAPHQL_RESPONSE_JSON) || *m == "*/*" || *m == "application/*")
        {
            Some(MediaType::GraphqlResponse)
        } else if accepted.iter().any(|m| m.eq_ignore_ascii_case(APPLICATION_JSON)) {
            Some(MediaType::Json)
        } else {
            None
        }
    }
}

/// A response that carries only errors (no `data`): the request was refused before execution.
fn refuse(status: StatusCode, media: MediaType, code: &str, message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    respond(status, media, &body)
}

fn respond(status: StatusCode, media: MediaType, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media.as_str()));
    response
}

/// Reads a GET request's parameters.
fn request_from_query(raw: Option<&str>) -> Result<async_graphql::Request, String> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw.unwrap_or("")).map_err(|e| format!("the query string is malformed: {e}"))?;
    let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let query = get("query").ok_or("the `query` parameter is missing")?;
    let mut request = async_graphql::Request::new(query);
    if let Some(name) = get("operationName").filter(|n| !n.is_empty()) {
        request = request.operation_name(name);
    }
    if let Some(variables) = get("variables").filter(|v| !v.is_empty()) {
        let value: Value =
            serde_json::from_str(&variables).map_err(|e| format!("`variables` is not valid JSON: {e}"))?;
        if !value.is_object() && !value.is_null() {
            return Err("`variables` must be a JSON object".into());
        }
        request = request.variables(async_graphql::Variables::from_json(value));
    }
    Ok(request)
}

/// Reads a POST request's JSON body.
fn request_from_body(body: &[u8]) -> Result<async_graphql::Request, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("the body is not valid JSON: {e}"))?;
    let object = match value {
        Value::Object(object) => object,
        Value::Array(_) => {
            return Err("batched requests (a JSON array) are not supported: send one request per call".into());
        }
        _ => return Err("the body must be a JSON object with a `query` string".into()),
    };
    let query = match object.get("query") {
        Some(Value::String(query)) => query.clone(),
        Some(_) => return Err("`query` must be a string".into()),
        None => return Err("the `query` member is missing".into()),
    };
    let mut request = async_graphql::Request::new(query);
    match object.get("operationName") {
        Some(Value::String(name)) => request = request.operation_name(name.clone()),
        Some(Value::Null) | None => {}
        Some(_) => return Err("`operationName` must be a string".into()),
    }
    match object.get("variables") {
        Some(Value::Object(vars)) => {
            request = request.variables(async_graphql::Variables::from_json(Value::Object(vars.clone())))
        }
        Some(Value::Null) | None => {}
        Some(_) => return Err("`variables` must be a JSON object".into()),
    }
    Ok(request)
}

fn is_json_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case(APPLICATION_JSON)
        })
        .unwrap_or(false)
}

/// Gives every error a code: async-graphql's own request errors (validation,
/// limits, variables) and argument errors come without one.
fn add_codes(errors: &mut [Value]) {
    for error in errors {
        let has_path = error.get("path").is_some();
        let message = error.get("message").and_then(Value::as_str).unwrap_or("").to_owned();
        let Some(object) = error.as_object_mut() else { continue };
        let extensions = object.entry("extensions").or_insert_with(|| json!({}));
        if extensions.get("code").is_some() {
            continue;
        }
        let code = if message.contains("nested too deep") || message.contains("too complex") {
            code::BAD_REQUEST
        } else if has_path {
            code::BAD_USER_INPUT
        } else {
            code::GRAPHQL_VALIDATION_FAILED
        };
        if let Some(ext) = extensions.as_object_mut() {
            ext.insert("code".into(), Value::String(code.into()));
        }
    }
}

/// Executes a request together with its DataLoader's batch tasks, in one task.
///
/// The loader's batch tasks are not spawned on the runtime: they are polled
/// here, and only once the execution can make no more progress on its own.
/// By then every resolver that can ask for a key has asked, so a batch holds
/// every key of its wave: a nested list costs one statement per relation hop,
/// whatever its length and however busy the other worker threads are.
pub async fn execute(
    schema: &ApiSchema,
    request: async_graphql::Request,
    db: DatabaseConnection,
    scope: Scope,
) -> async_graphql::Response {
    let (spawn, mut spawned) = tokio::sync::mpsc::unbounded_channel::<BoxFuture<'static, ()>>();
    let loader = DataLoader::new(
        DbLoader {
            db: db.clone(),
            scope: scope.clone(),
        },
        move |task| {
            let _ = spawn.send(task);
        },
    )
    .delay(Duration::ZERO);
    let execution = schema.execute(request.data(RequestData { db, scope }).data(loader));
    let mut execution = std::pin::pin!(execution);
    let mut tasks = FuturesUnordered::new();
    let flag = Arc::new(WakeFlag::default());
    std::future::poll_fn(move |cx| {
        flag.outer.register(cx.waker());
        loop {
            flag.woken.store(false, Ordering::SeqCst);
            let waker = futures_util::task::waker_ref(&flag);
            if let Poll::Ready(response) = execution.as_mut().poll(&mut std::task::Context::from_waker(&waker)) {
                return Poll::Ready(response);
            }
            while let Poll::Ready(Some(task)) = spawned.poll_recv(cx) {
                tasks.push(task);
            }
            if flag.woken.load(Ordering::SeqCst) {
                continue;
            }
            while let Poll::Ready(Some(())) = tasks.poll_next_unpin(cx) {}
            if !flag.woken.load(Ordering::SeqCst) {
                return Poll::Pending;
            }
        }
    })
    .await
}

/// Records that the execution was woken, and passes the wake-up on.
#[derive(Default)]
struct WakeFlag {
    woken: AtomicBool,
    outer: futures_util::task::AtomicWaker,
}

impl futures_util::task::ArcWake for WakeFlag {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        arc_self.woken.store(true, Ordering::SeqCst);
        arc_self.outer.wake();
    }
}

async fn graphql(State(state): State<AppState>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    let (method, headers, raw_query) = (&parts.method, &parts.headers, parts.uri.query().map(str::to_owned));
    let started = Instant::now();
    let Some(media) = MediaType::negotiate(headers) else {
        return refuse(
            StatusCode::NOT_ACCEPTABLE,
            MediaType::Json,
            code::NOT_ACCEPTABLE,
            "accept application/graphql-response+json or application/json",
        );
    };
    let limits = &state.inner.limits;
    let (scope, decision) = match admit(&state, &parts, media).await {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    let parsed = if method == Method::GET {
        request_from_query(raw_query.as_deref())
    } else {
        if !is_json_content_type(headers) {
            return refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                media,
                code::UNSUPPORTED_MEDIA_TYPE,
                "send the request body as application/json",
            );
        }
        let bytes: Bytes = match axum::body::to_bytes(body, limits.max_body_bytes).await {
            Ok(bytes) => bytes,
            Err(_) => {
                return refuse(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    media,
                    code::PAYLOAD_TOO_LARGE,
                    &format!("the request body exceeds {} bytes", limits.max_body_bytes),
                );
            }
        };
        request_from_body(&bytes)
    };
    let mut request = match parsed {
        Ok(request) => request,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, media, code::BAD_REQUEST, &message),
    };

    let name = request.operation_name.clone();
    let operation_type = match request.parsed_query() {
        Ok(document) => document
            .operations
            .iter()
            .find(|(op_name, _)| name.is_none() || op_name.map(|n| n.as_str()) == name.as_deref())
            .map(|(_, op)| op.node.ty),
        Err(error) => {
            let status = if media == MediaType::Json {
                StatusCode::OK
            } else {
                StatusCode::BAD_REQUEST
            };
            return refuse(
                status,
                media,
                code::GRAPHQL_PARSE_FAILED,
                &format!("the query is not valid GraphQL: {error}"),
            );
        }
    };
    if *method == Method::GET && operation_type == Some(OperationType::Mutation) {
        let mut response = refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            media,
            code::METHOD_NOT_ALLOWED,
            "mutations are only accepted over POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }

    let role = scope.role.name();
    let operation = request.operation_name.clone().unwrap_or_default();
    let execution = execute(&state.inner.schema, request, state.inner.db.clone(), scope);
    let executed = tokio::time::timeout(limits.request_timeout, execution).await;
    let Ok(response) = executed else {
        tracing::warn!(
            operation,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "GraphQL request timed out"
        );
        let mut response = refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            media,
            code::TIMEOUT,
            &format!(
                "the request took longer than {} s; ask for less data per request",
                limits.request_timeout.as_secs()
            ),
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        return response;
    };

    let mut body = serde_json::to_value(&response).unwrap_or_else(|_| json!({}));
    let mut errors = body
        .get_mut("errors")
        .and_then(Value::as_array_mut)
        .map(std::mem::take)
        .unwrap_or_default();
    add_codes(&mut errors);
    let request_error = response.data == async_graphql::Value::Null
        && !errors.is_empty()
        && errors.iter().all(|e| e.get("path").is_none());
    let status = if request_error && media == MediaType::GraphqlResponse {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    if let Some(object) = body.as_object_mut() {
        if request_error {
            object.remove("data");
        }
        if !errors.is_empty() {
            object.insert("errors".into(), Value::Array(errors.clone()));
        }
    }
    tracing::info!(
        operation,
        role,
        status = status.as_u16(),
        errors = errors.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "GraphQL request"
    );
    with_rate_headers(respond(status, media, &body), decision)
}
