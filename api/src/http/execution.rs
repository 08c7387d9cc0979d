//! Execution: a request that was admitted and parsed is priced, run with its
//! DataLoader inside the time limit, and its response completed as the
//! GraphQL specification writes it.

use super::AppState;
use super::admission::with_rate_headers;
use super::protocol::{MediaType, refuse, request_error_status, respond};
use crate::context::RequestData;
use crate::error::code;
use crate::graphql::cost;
use crate::ratelimit::Decision;
use crate::schema::ApiSchema;
use crate::scope::{Role, Scope};
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{ServerError, Value};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use sea_orm::DatabaseConnection;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

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
    let loader = crate::loader::loader(db.clone(), scope.clone(), move |task| {
        let _ = spawn.send(task);
    })
    .delay(Duration::ZERO);
    let execution = schema.execute(request.data(RequestData { db, scope }).data(loader));
    let mut execution = std::pin::pin!(execution);
    let mut tasks = FuturesUnordered::new();
    let flag = Arc::new(WakeFlag::default());
    std::future::poll_fn(move |cx| {
        flag.outer.register(cx.waker());
        for _ in 0..MAX_POLLS_BEFORE_YIELD {
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
        // Still woken after many rounds: give the worker back to the runtime. Tokio resources answer "not yet" once
        // the task's cooperative budget is spent, and the budget is renewed only when the task yields; looping here
        // instead would spin forever.
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}

/// Rounds of polling the execution before the task yields to the runtime.
const MAX_POLLS_BEFORE_YIELD: usize = 64;

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

/// A response body: `data` is left out when the request failed before execution.
#[derive(Serialize)]
pub(super) struct Body<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) data: Option<&'a Value>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub(super) errors: &'a [ServerError],
}

/// Gives every error a code: the engine's own request errors (validation, variables) and argument errors come
/// without one.
pub(super) fn add_codes(errors: &mut [ServerError]) {
    for error in errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            let code = if error.path.is_empty() {
                code::GRAPHQL_VALIDATION_FAILED
            } else {
                code::BAD_USER_INPUT
            };
            extensions.set("code", code);
        }
    }
}

/// Prices a parsed document for the caller, as every transport does before running it: the price, or the refusal's
/// code and message.
pub fn price(
    state: &AppState,
    document: &ExecutableDocument,
    request: &async_graphql::Request,
    scope: &Scope,
) -> Result<cost::Priced, (&'static str, String)> {
    let limits = &state.inner.limits;
    let budget = if scope.role == Role::Public {
        limits.public_budget
    } else {
        limits.keyed_budget
    };
    cost::check(
        document,
        request.operation_name.as_deref(),
        &request.variables,
        &state.inner.types,
        cost::Caller {
            associations: state.associations(),
            small_groups: matches!(scope.role, Role::Public | Role::Association),
            budget,
        },
    )
    .map_err(|refusal| {
        let code = if refusal.is_input() {
            code::BAD_USER_INPUT
        } else {
            code::BAD_REQUEST
        };
        (code, refusal.message())
    })
}

/// The data every transport gives a priced request: the groupings its document asks for (hiding decides them all at
/// once), its aggregate reads (`places` statements at once) and its language. The caller's database handle, scope
/// and loader come with the execution (`execute` over HTTP and SDMX; a subscription spawns its loader's batches on
/// the runtime, since its resolvers run again at each event, long after the request was admitted).
pub fn with_data(
    request: async_graphql::Request,
    price: &cost::Priced,
    places: usize,
    language: crate::labels::Language,
) -> async_graphql::Request {
    request
        .data(crate::indicator::DocumentGroupings(price.groupings.clone()))
        .data(crate::indicator::store::Reads::new(places))
        .data(crate::labels::Preferred(language))
}

/// The request's document, parsed once per text (`graphql::documents`) and set into the request; a document that
/// does not parse is refused with `GRAPHQL_PARSE_FAILED`. Every transport parses here.
pub fn parse(
    state: &AppState,
    request: &mut async_graphql::Request,
) -> Result<Arc<ExecutableDocument>, (&'static str, String)> {
    state.inner.documents.parse(request).map_err(|error| {
        (
            code::GRAPHQL_PARSE_FAILED,
            format!("the query is not valid GraphQL: {}", error.message),
        )
    })
}

/// Prices, runs and answers a request whose `document` was parsed by `parse`.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    state: &AppState,
    request: async_graphql::Request,
    document: Arc<ExecutableDocument>,
    scope: Scope,
    media: MediaType,
    decision: Decision,
    conditional: Option<Conditional>,
    language: crate::labels::Language,
) -> Response {
    let started = Instant::now();
    let inner = &state.inner;
    let limits = &inner.limits;
    // An answer of the data's current version, when this request was answered before.
    // Only a request seen before is looked up and kept (a first one reads no version); over GET the entity tag needs
    // the version whatever.
    let reusable = super::cache::reusable(&document, request.operation_name.as_deref())
        .then(|| super::cache::Key::new(&request, &scope, language))
        .filter(|key| conditional.is_some() || inner.seen.again(key));
    // The database that answers: a replica for a query when replicas are configured and one has replayed the
    // caller's own last write (`crate::replica`), else the primary. The version is read where the answer is.
    let query = crate::graphql::operation(&document, request.operation_name.as_deref())
        .is_some_and(|op| op.ty == OperationType::Query);
    let replica = match &limits.replicas {
        Some(replicas) if query => {
            let needs = match &scope.key_prefix {
                // A caller whose last write cannot be read is answered by the primary.
                Some(prefix) => crate::replica::needs(&inner.db, prefix).await.unwrap_or(Some(i64::MAX)),
                None => None,
            };
            replicas.choose(needs)
        }
        _ => None,
    };
    let (mut db, mut versions) = match &replica {
        Some(replica) => (&replica.db, &replica.versions),
        None => (&inner.db, &inner.versions),
    };
    let mut read = match &reusable {
        Some(_) => Some(versions.current(db).await),
        None => None,
    };
    if replica.is_some() && matches!(read, Some(super::cache::Read::Unavailable)) {
        // The replica stopped answering since the monitor last saw it: the primary answers.
        (db, versions) = (&inner.db, &inner.versions);
        read = Some(versions.current(db).await);
    }
    let version = match read {
        Some(read) => match read {
            super::cache::Read::Version(version) => Some(version),
            super::cache::Read::Unavailable => {
                return refuse(
                    StatusCode::SERVICE_UNAVAILABLE,
                    media,
                    code::UNAVAILABLE,
                    crate::error::UNAVAILABLE_MESSAGE,
                );
            }
            super::cache::Read::Failed => None,
        },
        None => None,
    };
    // Over GET, the answer's entity tag: a client that holds it gets 304 without a body.
    let etag = match (&reusable, version, &conditional) {
        (Some(key), Some(version), Some(_)) => Some(key.etag(version)),
        _ => None,
    };
    if let (Some(etag), Some(conditional)) = (&etag, &conditional)
        && super::cache::matches(conditional.if_none_match.as_ref(), etag)
    {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        response
            .extensions_mut()
            .insert(super::metrics::Outcome("not_modified"));
        http_cache_headers(&mut response, etag, scope.role == Role::Public);
        return with_rate_headers(response, decision);
    }
    if let (Some(key), Some(version)) = (&reusable, version)
        && let Some(answer) = inner.answers.get(version, key)
    {
        tracing::info!(
            operation = request.operation_name.as_deref().unwrap_or_default(),
            role = scope.role.name(),
            status = 200,
            reused = true,
            elapsed_us = started.elapsed().as_micros() as u64,
            "GraphQL request"
        );
        let mut response = respond(StatusCode::OK, media, answer);
        response.extensions_mut().insert(super::metrics::Outcome("reused"));
        if let Some(etag) = &etag {
            http_cache_headers(&mut response, etag, scope.role == Role::Public);
        }
        return with_rate_headers(response, decision);
    }
    let price = match price(state, &document, &request, &scope) {
        Ok(price) => price,
        Err((code, message)) => {
            tracing::info!(
                role = scope.role.name(),
                reason = %message,
                elapsed_us = started.elapsed().as_micros() as u64,
                "GraphQL request refused before execution"
            );
            return with_rate_headers(refuse(request_error_status(media), media, code, &message), decision);
        }
    };

    // Aggregate statements take places among half the pool's connections (one per statement that may run at once),
    // so quick work always finds a connection; the document's own statements share the places it holds.
    let places = price.statements.min(inner.heavy_places as u64) as u32;
    let request = with_data(request, &price, places as usize, language);
    let role = scope.role.name();
    let public = scope.role == Role::Public;
    let operation_name = request.operation_name.clone().unwrap_or_default();
    let variables = request.variables.clone();
    let executed = tokio::time::timeout(limits.request_timeout, async {
        let _places = if places > 0 {
            Some(
                inner
                    .heavy
                    .acquire_many(places)
                    .await
                    .expect("the semaphore is never closed"),
            )
        } else {
            None
        };
        execute(&inner.schema, request, db.clone(), scope.clone()).await
    })
    .await;
    let Ok(mut response) = executed else {
        tracing::warn!(
            operation = operation_name,
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

    add_codes(&mut response.errors);
    let request_error = response.data == Value::Null && response.errors.iter().all(|e| e.path.is_empty());
    let request_error = request_error && !response.errors.is_empty();
    let data = if request_error {
        None
    } else {
        let data = std::mem::take(&mut response.data);
        Some(
            match crate::graphql::operation(
                &document,
                Some(&operation_name).filter(|n| !n.is_empty()).map(|n| n.as_str()),
            ) {
                Some(op) => {
                    crate::graphql::complete::complete(data, &document, op, &variables, &inner.types, &response.errors)
                }
                None => data,
            },
        )
    };
    let unavailable = response
        .errors
        .iter()
        .any(|e| e.extensions.as_ref().and_then(|x| x.get("code")) == Some(&Value::from(code::UNAVAILABLE)));
    if unavailable && let Some(replica) = &replica {
        // The replica stopped answering since the monitor last saw it: the next requests go elsewhere at once.
        replica.failed();
    }
    let status = if unavailable {
        StatusCode::SERVICE_UNAVAILABLE
    } else if request_error {
        request_error_status(media)
    } else {
        StatusCode::OK
    };
    let body = Body {
        data: data.as_ref(),
        errors: &response.errors,
    };
    let bytes = axum::body::Bytes::from(serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec()));
    let response_ok = response.errors.is_empty();
    if !query {
        state.wrote(&scope).await;
    }
    // The answer is exactly the version's when no write was committed while it ran: the version, read again after
    // the work, has not moved. Only then is it kept and tagged, so no kept answer is newer than its version says.
    let settled = match (&reusable, version) {
        (Some(_), Some(version)) if status == StatusCode::OK && response_ok => {
            matches!(versions.current(db).await, super::cache::Read::Version(after) if after == version)
        }
        _ => false,
    };
    if let (Some(key), Some(version)) = (reusable, version)
        && settled
    {
        inner.answers.put(version, key, bytes.clone());
    }
    tracing::info!(
        operation = operation_name,
        role,
        status = status.as_u16(),
        errors = response.errors.len(),
        cost = price.cost,
        reused = false,
        elapsed_us = started.elapsed().as_micros() as u64,
        "GraphQL request"
    );
    let mut response = respond(status, media, bytes);
    response
        .extensions_mut()
        .insert(super::metrics::Outcome(if response_ok { "ok" } else { "errors" }));
    if let Some(etag) = etag.filter(|_| settled) {
        http_cache_headers(&mut response, &etag, public);
    }
    with_rate_headers(response, decision)
}

/// What a GET request says about the answer it already holds.
pub struct Conditional {
    pub if_none_match: Option<HeaderValue>,
}

/// `ETag`, `Cache-Control` (public for the anonymous public's answers, private with a key; always revalidated) and
/// `Vary` of a reusable answer over GET.
fn http_cache_headers(response: &mut Response, etag: &str, public: bool) {
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if public {
            "public, no-cache"
        } else {
            "private, no-cache"
        }),
    );
    headers.insert(
        header::VARY,
        HeaderValue::from_static("Accept, Accept-Encoding, Accept-Language, Authorization"),
    );
}
