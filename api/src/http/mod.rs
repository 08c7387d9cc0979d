//! HTTP: the router, the GraphQL-over-HTTP handler, GraphiQL, health and readiness.
//!
//! The handler follows the GraphQL over HTTP specification: POST with a JSON
//! body, GET for queries only (405 for a mutation), both response media types
//! with the status codes the specification gives each, batched arrays refused,
//! a body limit answered with 413 and an execution timeout. It is split in
//! three: `protocol` (media types, reading requests, writing refusals),
//! `admission` (address, key, rate limits) and `execution` (price, run,
//! complete the response).

pub mod admission;
pub mod cache;
pub mod execution;
pub mod metrics;
pub mod persisted;
pub mod protocol;
pub mod reports;
pub mod serve;
pub mod ws;

use crate::error::code;
use crate::graphql::types::TypeIndex;
use crate::ratelimit::RateLimiter;
use crate::schema::ApiSchema;
use async_graphql::parser::types::OperationType;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use protocol::{MediaType, refuse};
use sea_orm::DatabaseConnection;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tower_http::trace::TraceLayer;

pub use execution::execute;
pub use protocol::{APPLICATION_JSON, GRAPHQL_RESPONSE_JSON};

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
    /// Redis shared by every process for the rate limits (`None`: each process keeps its own buckets).
    pub redis_url: Option<String>,
    /// How many processes share the limits: each enforces this share of them while Redis cannot be reached.
    pub processes: u32,
    /// Read replicas that answer queries (`crate::replica`); none by default.
    pub replicas: Option<Arc<crate::replica::Replicas>>,
    /// The database's own address when the main URL names a connection pooler in transaction mode: the alert hub's
    /// `LISTEN` needs a session of its own.
    pub direct_url: Option<String>,
    /// Proxies whose `X-Forwarded-For` names the client (requests from any other peer are counted under the peer).
    pub trusted_proxies: Vec<IpAddr>,
    /// Highest price of one request without a key (see `crate::graphql::cost`).
    pub public_budget: u64,
    /// Highest price of one request with a key.
    pub keyed_budget: u64,
    /// Web origins (`https://dashboard.example`) whose pages may call the API from a browser (CORS); none by
    /// default.
    pub cors_origins: Vec<HeaderValue>,
    /// When set, only these documents run (sent by hash or as text).
    pub trusted_documents: Option<Arc<persisted::TrustedDocuments>>,
    /// How webhooks are registered and delivered.
    pub webhooks: crate::alert::webhook::Settings,
    /// Most connections open at once (see `serve`).
    pub max_connections: usize,
    /// Longest a client may take to send a request's headers, from the connection's opening or the previous answer.
    pub header_timeout: Duration,
    /// Time a request body may take before it must keep up `body_min_bytes_per_second` on average.
    pub body_grace: Duration,
    /// Slowest average rate of a request body once `body_grace` has passed.
    pub body_min_bytes_per_second: u64,
    /// Reports read and checked at once (the rest wait, holding only their connection).
    pub report_places: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max_body_bytes: 256 * 1024,
            request_timeout: Duration::from_secs(10),
            anonymous_per_minute: 120,
            keyed_per_minute: 1_200,
            redis_url: None,
            processes: 1,
            replicas: None,
            direct_url: None,
            trusted_proxies: Vec::new(),
            public_budget: crate::graphql::cost::PUBLIC_BUDGET,
            keyed_budget: crate::graphql::cost::KEYED_BUDGET,
            cors_origins: Vec::new(),
            trusted_documents: None,
            webhooks: crate::alert::webhook::Settings::default(),
            max_connections: 4_096,
            header_timeout: Duration::from_secs(10),
            body_grace: Duration::from_secs(10),
            body_min_bytes_per_second: 16 * 1024,
            report_places: 2,
        }
    }
}

/// Longest the readiness check and a request's wait for the database last before answering 503.
pub const DATABASE_WAIT: Duration = Duration::from_millis(1_500);

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    schema: ApiSchema,
    types: TypeIndex,
    db: DatabaseConnection,
    limits: HttpLimits,
    rate: RateLimiter,
    /// Places for requests that run aggregate statements: half the pool, so quick work always finds a connection.
    heavy: tokio::sync::Semaphore,
    heavy_places: u32,
    /// Associations in the registry (0 until counted), to price `indicators` grouped by association.
    associations: AtomicU64,
    /// Answers of the data's newest version, the requests that come most often kept first.
    answers: cache::Cache,
    /// Requests seen recently: an answer is kept only for a request that comes again.
    seen: cache::Seen,
    /// Reads of the data's version, shared by concurrent requests.
    versions: cache::Versions,
    /// Documents learnt from clients by their hash (automatic persisted queries).
    remembered: persisted::Remembered,
    /// Parsed documents by their text.
    documents: crate::graphql::documents::Documents,
    /// Requests counted for `/metrics`.
    metrics: metrics::Metrics,
    /// Alert events passed to this process's subscriptions.
    hub: crate::alert::hub::Hub,
    /// Open WebSockets per client address.
    sockets: ws::Sockets,
    /// Places for reports being received and checked (`HttpLimits::report_places`).
    reports: tokio::sync::Semaphore,
}

impl AppState {
    /// The database connection.
    pub fn db(&self) -> &DatabaseConnection {
        &self.inner.db
    }

    pub fn new(db: DatabaseConnection, limits: HttpLimits) -> Self {
        let schema = crate::schema::serving(limits.webhooks.clone());
        let rate = RateLimiter::new(limits.anonymous_per_minute, limits.keyed_per_minute);
        let rate = match &limits.redis_url {
            Some(url) => rate.shared(url, limits.processes).unwrap_or_else(|message| {
                tracing::error!(%message, "the rate limits stay in this process");
                RateLimiter::new(limits.anonymous_per_minute, limits.keyed_per_minute)
            }),
            None => rate,
        };
        let types = TypeIndex::from_sdl(&schema.sdl());
        let heavy_places = (crate::db::pool_size(db.get_database_backend()) / 2).max(1);
        let heavy = tokio::sync::Semaphore::new(heavy_places as usize);
        let hub = crate::alert::hub::Hub::new(db.clone(), limits.direct_url.clone());
        if let Some(replicas) = &limits.replicas {
            replicas.watch(db.clone());
        }
        let reports = tokio::sync::Semaphore::new(limits.report_places.max(1));
        AppState {
            inner: Arc::new(Inner {
                schema,
                types,
                db,
                limits,
                rate,
                heavy,
                heavy_places,
                associations: AtomicU64::new(0),
                answers: cache::Cache::default(),
                seen: cache::Seen::default(),
                versions: cache::Versions::default(),
                remembered: persisted::Remembered::default(),
                documents: Default::default(),
                metrics: metrics::Metrics::default(),
                hub,
                sockets: ws::Sockets::default(),
                reports,
            }),
        }
    }
}

impl AppState {
    /// The state, with the sizes pricing needs read from the database first (and again every five minutes while the
    /// state lives). `new` alone prices as if the sector had 100 associations.
    pub async fn load(db: DatabaseConnection, limits: HttpLimits) -> Self {
        let state = AppState::new(db, limits);
        state.count_associations().await;
        let weak = Arc::downgrade(&state.inner);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(SIZES_LIFETIME).await;
                let Some(inner) = weak.upgrade() else { break };
                AppState { inner }.count_associations().await;
            }
        });
        state
    }

    /// Starts delivering the webhook outbox from this process, until the state is dropped.
    pub fn deliver_webhooks(&self) {
        let worker = crate::alert::webhook::spawn(self.inner.db.clone(), self.inner.limits.webhooks.clone());
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            while weak.strong_count() > 0 {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            worker.abort();
        });
    }

    /// After a write by a keyed caller, when replicas answer queries: records the primary's position, so that the
    /// caller's next reads come from a replica only once it has replayed the write (`crate::replica`). A failure is
    /// logged; the caller's reads may then come from a replica that has not replayed it yet.
    pub(crate) async fn wrote(&self, scope: &crate::scope::Scope) {
        if self.inner.limits.replicas.is_none() {
            return;
        }
        if let Some(prefix) = &scope.key_prefix
            && let Err(error) = crate::replica::wrote(&self.inner.db, prefix).await
        {
            tracing::warn!(%error, "the caller's write position could not be recorded: its reads may come from a replica");
        }
    }

    async fn count_associations(&self) {
        use sea_orm::{EntityTrait, PaginatorTrait};
        let counted =
            tokio::time::timeout(DATABASE_WAIT, entity::association::Entity::find().count(&self.inner.db)).await;
        if let Ok(Ok(count)) = counted {
            self.inner.associations.store(count, Ordering::Relaxed);
        }
    }

    /// Associations `indicators` grouped by association is priced for.
    fn associations(&self) -> u64 {
        match self.inner.associations.load(Ordering::Relaxed) {
            0 => 100,
            counted => counted,
        }
    }
}

/// How often the sizes used for pricing are read again.
const SIZES_LIFETIME: Duration = Duration::from_secs(300);

/// The routes served here: GraphQL over HTTP, GraphiQL, health, metrics, reports and the monthly dashboard
/// (`crate::dashboard::routes`). SDMX adds its own, and `crate::app::router` merges them.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/graphql", get(graphql).post(graphql))
        .route("/graphiql", get(graphiql))
        .route("/graphiql/3.8.3/{file}", get(graphiql_asset))
        .route("/", get(|| async { Redirect::temporary("/graphiql") }))
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics_text))
        .route("/readyz", get(readyz))
        .route(
            "/reports/{association}/{month}",
            axum::routing::post(reports::submit).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/reports/templates/{file}", get(reports::template))
        .route(
            "/dashboards/links",
            axum::routing::post(crate::dashboard::routes::create_link),
        )
        .route("/dashboards/{month}", get(crate::dashboard::routes::page))
        .route("/notes/{file}", get(crate::note::routes::note))
        .route("/ddi/{file}", get(crate::survey::ddi::codebook))
}

/// Every transport's routes wrapped in what they all share: request tracing, the configured CORS, and compression
/// (gzip or brotli, when the client accepts it).
pub fn with_layers(routes: Router<AppState>, state: AppState) -> Router {
    let router = routes.layer(TraceLayer::new_for_http());
    let router = match cors(&state.inner.limits.cors_origins) {
        Some(cors) => router.layer(cors),
        None => router,
    };
    router
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(state)
}

/// Cross-origin requests from the configured web origins: their preflights are answered, and their pages may read
/// the answers and the caching and rate headers.
fn cors(origins: &[HeaderValue]) -> Option<tower_http::cors::CorsLayer> {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins.iter().cloned()))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::ACCEPT,
                header::ACCEPT_LANGUAGE,
                header::IF_NONE_MATCH,
                header::HeaderName::from_static("idempotency-key"),
            ])
            .expose_headers([
                header::ETAG,
                header::RETRY_AFTER,
                header::HeaderName::from_static("ratelimit-limit"),
                header::HeaderName::from_static("ratelimit-remaining"),
                header::HeaderName::from_static("ratelimit-reset"),
            ])
            .max_age(Duration::from_secs(3600)),
    )
}

async fn readyz(State(state): State<AppState>) -> Response {
    match tokio::time::timeout(DATABASE_WAIT, crate::db::ping(&state.inner.db)).await {
        Ok(Ok(())) => (StatusCode::OK, "ready").into_response(),
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
        Err(_) => {
            tracing::warn!("readiness check timed out");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

async fn graphiql() -> Html<&'static str> {
    Html(include_str!("../graphiql.html"))
}

/// GraphiQL 3.8.3 and React 18.3.1, served from the binary (the files of their npm packages, with their licences in
/// `api/assets/graphiql/`): the playground works with no internet access. The version is in the path, so browsers
/// keep them for good.
async fn graphiql_asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let (body, media): (&'static [u8], &'static str) = match file.as_str() {
        "graphiql.min.js" => (
            include_bytes!("../../assets/graphiql/graphiql.min.js"),
            "text/javascript; charset=utf-8",
        ),
        "graphiql.min.css" => (
            include_bytes!("../../assets/graphiql/graphiql.min.css"),
            "text/css; charset=utf-8",
        ),
        "react.production.min.js" => (
            include_bytes!("../../assets/graphiql/react.production.min.js"),
            "text/javascript; charset=utf-8",
        ),
        "react-dom.production.min.js" => (
            include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
            "text/javascript; charset=utf-8",
        ),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(media)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        body,
    )
        .into_response()
}

/// The Prometheus exposition of this process's counts.
async fn metrics_text(State(state): State<AppState>) -> Response {
    let inner = &state.inner;
    let (pool_connections, pool_idle) = match inner.db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            let pool = inner.db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => {
            let pool = inner.db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
    };
    let text = inner.metrics.render(&metrics::Gauges {
        pool_connections,
        pool_idle,
        pool_max: crate::db::pool_size(inner.db.get_database_backend()),
        aggregate_places_free: inner.heavy.available_permits(),
        aggregate_places: inner.heavy_places,
        kept_answer_bytes: inner.answers.bytes(),
        kept_answers: inner.answers.entries(),
        rate_limits_shared: inner.rate.shared_up().map_or(-1, i64::from),
        replicas: inner.limits.replicas.as_ref().map(|r| r.seen()).unwrap_or_default(),
    });
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}

/// Answers a GraphQL request and counts it for `/metrics`.
async fn graphql(State(state): State<AppState>, request: axum::extract::Request) -> Response {
    let started = std::time::Instant::now();
    let response = answer_graphql(&state, request).await;
    let extensions = response.extensions();
    let refused = extensions.get::<metrics::Refused>().map(|r| r.0.as_str());
    let outcome = match (refused, extensions.get::<metrics::Outcome>()) {
        (Some(_), _) => "refused",
        (None, Some(outcome)) => outcome.0,
        (None, None) => "ok",
    };
    let operation = extensions
        .get::<metrics::OperationName>()
        .map(|o| o.0.as_str())
        .unwrap_or("");
    state
        .inner
        .metrics
        .record(operation, outcome, refused, started.elapsed().as_secs_f64());
    response
}

async fn answer_graphql(state: &AppState, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    if parts.method == Method::GET && ws::is_upgrade(&parts) {
        return ws::upgrade(state, parts).await;
    }
    let Some(media) = MediaType::negotiate(&parts.headers) else {
        return refuse(
            StatusCode::NOT_ACCEPTABLE,
            MediaType::Json,
            code::NOT_ACCEPTABLE,
            "accept application/graphql-response+json or application/json",
        );
    };
    let (scope, decision) = match admission::admit(state, &parts, media).await {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    let limits = &state.inner.limits;
    let parsed = if parts.method == Method::GET {
        protocol::request_from_query(parts.uri.query())
    } else {
        if !protocol::is_json_content_type(&parts.headers) {
            return refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                media,
                code::UNSUPPORTED_MEDIA_TYPE,
                "send the request body as application/json",
            );
        }
        let bytes: Bytes = match axum::body::to_bytes(body, limits.max_body_bytes).await {
            Ok(bytes) => bytes,
            Err(error) if serve::is_too_slow(&error) => {
                let mut response = refuse(
                    StatusCode::REQUEST_TIMEOUT,
                    media,
                    code::TIMEOUT,
                    "the request body arrived too slowly: send it again over a faster connection",
                );
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
                return response;
            }
            Err(_) => {
                return refuse(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    media,
                    code::PAYLOAD_TOO_LARGE,
                    &format!("the request body exceeds {} bytes", limits.max_body_bytes),
                );
            }
        };
        protocol::request_from_body(&bytes)
    };
    let mut incoming = match parsed {
        Ok(incoming) => incoming,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, media, code::BAD_REQUEST, &message),
    };
    // The document: the text sent, or the one its persisted hash names (learnt here, or by another process).
    let hash = persisted::hash_of(incoming.extensions.as_ref());
    let known_hash: Option<String> = hash.as_ref().ok().cloned().flatten();
    let sent_text = incoming.query.is_some();
    let text = hash.and_then(|hash| {
        persisted::resolve(
            limits.trusted_documents.as_deref(),
            &state.inner.remembered,
            incoming.query.take(),
            hash,
        )
    });
    let text = match (text, &known_hash) {
        (Err(persisted::Refusal::NotFound), Some(hash)) if limits.trusted_documents.is_none() => {
            persisted::shared(&state.inner.db, &state.inner.remembered, hash)
                .await
                .ok_or(persisted::Refusal::NotFound)
        }
        (Ok(text), Some(hash)) if sent_text && limits.trusted_documents.is_none() => {
            persisted::share(&state.inner.db, hash, &text).await;
            Ok(text)
        }
        (text, _) => text,
    };
    let mut request = match text {
        Ok(text) => incoming.into_request(text),
        Err(refusal) => {
            let status = match refusal {
                persisted::Refusal::NotFound | persisted::Refusal::NotTrusted => protocol::request_error_status(media),
                _ => StatusCode::BAD_REQUEST,
            };
            return refuse(status, media, refusal.code(), &refusal.message());
        }
    };

    let name = request.operation_name.clone();
    let document = match execution::parse(state, &mut request) {
        Ok(document) => document,
        Err((code, message)) => return refuse(protocol::request_error_status(media), media, code, &message),
    };
    let operation_type = crate::graphql::operation(&document, name.as_deref()).map(|op| op.ty);
    if operation_type == Some(OperationType::Subscription) {
        return refuse(
            StatusCode::BAD_REQUEST,
            media,
            code::BAD_REQUEST,
            "subscriptions run over WebSocket: connect to /graphql with the graphql-transport-ws protocol",
        );
    }
    if parts.method == Method::GET && operation_type == Some(OperationType::Mutation) {
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
    let conditional = (parts.method == Method::GET).then(|| execution::Conditional {
        if_none_match: parts.headers.get(header::IF_NONE_MATCH).cloned(),
    });
    let language = crate::labels::Language::from_accept_language(
        parts.headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()),
    );
    let mut response = execution::run(state, request, document, scope, media, decision, conditional, language).await;
    if let Some(name) = name {
        response.extensions_mut().insert(metrics::OperationName(name));
    }
    response
}
