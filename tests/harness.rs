//! Test harness: a fresh database per test, on SQLite always and on PostgreSQL
//! when `TEST_DATABASE_URL` is set, and the real router driven without a socket.
//!
//! Tests that need the demo data get a copy of a demo database built once per
//! test run (a file copy on SQLite, `CREATE DATABASE ... TEMPLATE` on
//! PostgreSQL), so every test still starts from its own fresh database.

use api::partner::store::{self, NewKey, NewPartner};
use api::{AppState, HttpLimits};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
pub use entity::enums::PartnerKind;
use http_body_util::BodyExt;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::OnceCell;
use tower::ServiceExt;

/// Which database a test runs on.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    /// PostgreSQL when `TEST_DATABASE_URL` is set.
    pub fn postgres() -> Option<Backend> {
        std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .map(Backend::Postgres)
    }

    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }
}

/// Initial content of a test database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fixture {
    /// Migrated, with the regions and nothing else.
    Empty,
    /// Migrated and loaded with the demo data.
    Demo,
}

static NEXT: AtomicUsize = AtomicUsize::new(0);
static SQLITE_DEMO: OnceCell<PathBuf> = OnceCell::const_new();
static POSTGRES_DEMO: OnceCell<String> = OnceCell::const_new();

fn unique_name() -> String {
    format!("obs_t{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst))
}

/// A connection pooler in transaction mode (PgBouncer) in front of the PostgreSQL test server, when
/// `TEST_POOLER_URL` is set when the tests run (`postgres://user@host:port/database`, as `TEST_DATABASE_URL`): the
/// tests' connections to their databases then go through it, as a deployment behind PgBouncer does.
pub fn pooler() -> Option<String> {
    std::env::var("TEST_POOLER_URL").ok().filter(|url| !url.is_empty())
}

fn sqlite_url(path: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// Server URL of a PostgreSQL URL with another database name.
pub fn postgres_url_for(base: &str, database: &str) -> String {
    let (server, _) = base.rsplit_once('/').expect("TEST_DATABASE_URL has a database name");
    format!("{server}/{database}")
}

async fn fill(db: &DatabaseConnection, fixture: Fixture) {
    Migrator::up(db, None).await.expect("migrations apply");
    if fixture == Fixture::Demo {
        let txn = api::db::begin_write(db).await.expect("begin");
        api::load_demo(&txn).await.expect("demo data loads");
        txn.commit().await.expect("commit");
    }
}

async fn sqlite_demo_template() -> PathBuf {
    SQLITE_DEMO
        .get_or_init(|| async {
            let path = std::env::temp_dir().join(format!("{}_template.db", unique_name()));
            let db = api::db::connect(&sqlite_url(&path)).await.expect("sqlite opens");
            fill(&db, Fixture::Demo).await;
            db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
                .await
                .expect("checkpoint");
            db.close().await.expect("close");
            path
        })
        .await
        .clone()
}

async fn postgres_demo_template(base: &str) -> String {
    POSTGRES_DEMO
        .get_or_init(|| async {
            let name = format!("{}_template", unique_name());
            let admin = api::db::connect(base).await.expect("postgres reachable");
            drop_databases_of_finished_runs(&admin).await;
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create template");
            admin.close().await.ok();
            let db = api::db::connect(&postgres_url_for(base, &name))
                .await
                .expect("template opens");
            fill(&db, Fixture::Demo).await;
            db.close().await.expect("close");
            name
        })
        .await
        .clone()
}

/// Drops the test databases that earlier, finished test processes left behind (an interrupted run, a template).
async fn drop_databases_of_finished_runs(admin: &DatabaseConnection) {
    let Ok(rows) = admin
        .query_all_raw(sea_orm::Statement::from_string(
            admin.get_database_backend(),
            "SELECT datname FROM pg_database WHERE datname LIKE 'obs\\_t%'",
        ))
        .await
    else {
        return;
    };
    for row in rows {
        let Ok(name) = row.try_get::<String>("", "datname") else {
            continue;
        };
        let pid = name
            .trim_start_matches("obs_t")
            .split('_')
            .next()
            .and_then(|p| p.parse::<u32>().ok());
        let finished =
            pid.is_some_and(|pid| pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists());
        if finished {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        }
    }
}

/// Opens a fresh database for one test.
pub async fn fresh_database(backend: &Backend, fixture: Fixture) -> (DatabaseConnection, Cleanup) {
    match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
            if fixture == Fixture::Demo {
                std::fs::copy(sqlite_demo_template().await, &path).expect("copy demo database");
            }
            let db = api::db::connect(&sqlite_url(&path)).await.expect("sqlite opens");
            if fixture == Fixture::Empty {
                fill(&db, fixture).await;
            }
            (db, Cleanup::Sqlite(path))
        }
        Backend::Postgres(base) => {
            let name = unique_name();
            let admin = api::db::connect(base).await.expect("postgres reachable");
            let create = match fixture {
                Fixture::Demo => format!("CREATE DATABASE {name} TEMPLATE {}", postgres_demo_template(base).await),
                Fixture::Empty => format!("CREATE DATABASE {name}"),
            };
            admin.execute_unprepared(&create).await.expect("create test database");
            admin.close().await.ok();
            // Through the pooler when one is given; the database is created and dropped directly.
            let db = api::db::connect(&postgres_url_for(pooler().as_deref().unwrap_or(base), &name))
                .await
                .expect("test database opens");
            if fixture == Fixture::Empty {
                fill(&db, fixture).await;
            }
            (
                db,
                Cleanup::Postgres {
                    base: base.clone(),
                    name,
                },
            )
        }
    }
}

/// Removes a test database when the test ends.
pub enum Cleanup {
    Sqlite(PathBuf),
    Postgres { base: String, name: String },
}

impl Cleanup {
    /// The URL of the database this removes, for another process to open it.
    pub fn url(&self) -> String {
        match self {
            Cleanup::Sqlite(path) => sqlite_url(path),
            Cleanup::Postgres { base, name } => postgres_url_for(base, name),
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        match self {
            Cleanup::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Postgres { base, name } => {
                let (base, name) = (base.clone(), name.clone());
                let _ = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .ok()?;
                    runtime.block_on(async {
                        let admin = api::db::connect(&base).await.ok()?;
                        admin
                            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .await
                            .ok()?;
                        admin.close().await.ok()
                    })
                })
                .join();
            }
        }
    }
}

/// The application under test.
pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub db: DatabaseConnection,
    pub backend: Backend,
    /// The key sent by `graphql` and `query`: an observatory key unless changed with `set_key`.
    key: Option<String>,
    statements: Arc<AtomicUsize>,
    _cleanup: Cleanup,
}

/// A response as a test sees it.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
    /// The body as sent, for what parsing loses (the order of keys).
    pub text: String,
}

impl Reply {
    /// The `extensions.code` of every error.
    pub fn codes(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["extensions"]["code"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The first error message, or "" when there is none.
    pub fn message(&self) -> String {
        self.body["errors"][0]["message"].as_str().unwrap_or("").to_owned()
    }

    /// The data, asserting there were no errors.
    pub fn data(&self) -> &Value {
        assert!(self.body.get("errors").is_none(), "unexpected errors: {}", self.body);
        &self.body["data"]
    }
}

pub async fn spawn_app(backend: &Backend, fixture: Fixture) -> TestApp {
    spawn_app_with(backend, fixture, HttpLimits::default()).await
}

pub async fn spawn_app_with(backend: &Backend, fixture: Fixture, limits: HttpLimits) -> TestApp {
    let (db, cleanup) = fresh_database(backend, fixture).await;
    app_on(backend, db, cleanup, limits).await
}

/// The application over a database opened by `fresh_database` (for a test that needs the database's name first).
pub async fn app_on(
    backend: &Backend,
    mut db: DatabaseConnection,
    cleanup: Cleanup,
    mut limits: HttpLimits,
) -> TestApp {
    if let (Backend::Postgres(_), Some(_)) = (backend, pooler()) {
        // Behind the pooler, the alert hub listens on a session of its own, as a deployment's `--direct-url` gives.
        limits.direct_url.get_or_insert_with(|| cleanup.url());
    }
    let statements = Arc::new(AtomicUsize::new(0));
    let counter = statements.clone();
    let print = std::env::var("TEST_PRINT_SQL").is_ok();
    db.set_metric_callback(move |info| {
        counter.fetch_add(1, Ordering::SeqCst);
        if print {
            eprintln!(
                "SQL {:?} {}",
                info.elapsed,
                info.statement.sql.chars().take(160).collect::<String>()
            );
        }
    });
    let state = AppState::load(db.clone(), limits).await;
    let router = api::router(state.clone());
    let mut app = TestApp {
        router,
        state,
        db,
        backend: backend.clone(),
        key: None,
        statements,
        _cleanup: cleanup,
    };
    app.key = Some(app.issue_key(PartnerKind::Observatory, None).await);
    app
}

impl TestApp {
    /// Registers a partner of this kind (for an association partner, of the association with this code) and
    /// returns a new key of it; observatory keys carry the `write` and `admin` scopes.
    pub async fn issue_key(&self, kind: PartnerKind, association: Option<&str>) -> String {
        let scopes: &[&str] = if kind == PartnerKind::Observatory {
            &["read", "write", "admin"]
        } else {
            &["read"]
        };
        self.key_with(kind, association, scopes).await
    }

    /// Registers a partner of this kind (of the association with this code, for an association partner) and returns
    /// a new key of it with these scopes.
    pub async fn key_with(&self, kind: PartnerKind, association: Option<&str>, scopes: &[&str]) -> String {
        let code = format!("TEST-{}", NEXT.fetch_add(1, Ordering::SeqCst));
        let actor = api::scope::Scope::observatory();
        let partner = NewPartner {
            code: code.clone(),
            name: code.clone(),
            kind,
            association: association.map(str::to_owned),
        };
        store::create_partner(&self.db, &actor, partner)
            .await
            .expect("partner created");
        let key = NewKey {
            partner: code,
            label: "test".into(),
            expires_at: None,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
        };
        store::issue_key(&self.db, &actor, key).await.expect("key issued").1
    }

    /// The URL of the test's database (a SQLite file, or a PostgreSQL database of its own), for a server in another
    /// process.
    pub fn database_url(&self) -> String {
        self._cleanup.url()
    }

    /// The key `graphql` and `query` send from now on (`None`: the public).
    pub fn set_key(&mut self, key: Option<String>) {
        self.key = key;
    }

    /// Sends any HTTP request to the router, as if from this peer address.
    pub async fn send_from(&self, peer: std::net::SocketAddr, mut request: Request<Body>) -> Reply {
        request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
        self.send(request).await
    }

    /// Sends any HTTP request to the router.
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.expect("router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(text.clone()));
        Reply {
            status,
            content_type,
            headers,
            body,
            text,
        }
    }

    /// POSTs a GraphQL query with variables, asking for `application/graphql-response+json`.
    pub async fn graphql(&self, query: &str, variables: Value) -> Reply {
        let body = json!({ "query": query, "variables": variables }).to_string();
        self.post_json(&body).await
    }

    /// POSTs a raw JSON body to `/graphql` with the current key.
    pub async fn post_json(&self, body: &str) -> Reply {
        self.post_json_as(self.key.as_deref(), body).await
    }

    /// POSTs a raw JSON body to `/graphql` with this key (`None`: no Authorization header).
    pub async fn post_json_as(&self, key: Option<&str>, body: &str) -> Reply {
        let mut request = Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/graphql-response+json");
        if let Some(key) = key {
            request = request.header(header::AUTHORIZATION, format!("Bearer {key}"));
        }
        self.send(request.body(Body::from(body.to_owned())).expect("request"))
            .await
    }

    /// POSTs a GraphQL query with this key (`None`: the public).
    pub async fn graphql_as(&self, key: Option<&str>, query: &str, variables: Value) -> Reply {
        self.post_json_as(key, &json!({ "query": query, "variables": variables }).to_string())
            .await
    }

    /// SQL statements a successful query costs, beyond what authenticating the request costs.
    pub async fn statements_of(&self, query: &str, variables: Value) -> (usize, Value) {
        // A document not sent before, so that no answer kept and no version read counts in the baseline.
        let baseline = format!("{{ __typename }} # baseline {}", NEXT.fetch_add(1, Ordering::SeqCst));
        self.query(&baseline, json!({})).await;
        self.reset_statements();
        let baseline = format!("{{ __typename }} # baseline {}", NEXT.fetch_add(1, Ordering::SeqCst));
        self.query(&baseline, json!({})).await;
        let baseline = self.statements();
        self.reset_statements();
        let data = self.query(query, variables).await;
        (self.statements() - baseline, data)
    }

    /// Runs a query that must succeed and returns its data.
    pub async fn query(&self, query: &str, variables: Value) -> Value {
        let reply = self.graphql(query, variables).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.data().clone()
    }

    /// SQL statements run since the last reset.
    pub fn statements(&self) -> usize {
        self.statements.load(Ordering::SeqCst)
    }

    pub fn reset_statements(&self) {
        self.statements.store(0, Ordering::SeqCst);
    }
}

/// Declares a test that runs on SQLite and, when configured, on PostgreSQL: the PostgreSQL variant is reported as
/// ignored when `TEST_DATABASE_URL` was not set at build time (see `build.rs`), never as a silent pass.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(
                not(postgres),
                ignore = "TEST_DATABASE_URL was not set when the tests were built"
            )]
            async fn postgres() {
                let backend = $crate::Backend::postgres()
                    .expect("TEST_DATABASE_URL was set when the tests were built and must be set to run them");
                super::$name(backend).await;
            }
        }
    };
}

/// Serves the app's router on a loopback port, as `observatory serve` does (with each peer's address), until the
/// test ends.
pub async fn serve(app: &TestApp) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let address = listener.local_addr().expect("local address");
    let state = app.state.clone();
    tokio::spawn(async move {
        api::serve(listener, state, std::future::pending()).await.ok();
    });
    address
}

/// One HTTP/1.1 request over a new connection from a loopback address of the test's choice (`127.0.0.1`,
/// `127.0.0.2`, ...): the status and the body.
pub async fn http(
    from: &str,
    address: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(std::net::SocketAddr::new(from.parse().expect("an IPv4 address"), 0))
        .expect("bind the client address");
    let mut stream = socket.connect(address).await.expect("connect");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.expect("send head");
    stream.write_all(body.as_bytes()).await.expect("send body");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read response");
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// A small deterministic generator for generated test inputs, so that a failing case can be reproduced from its seed.
pub struct Gen(u64);

impl Gen {
    pub fn new(seed: u64) -> Self {
        Gen(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn number(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.number() % n
    }

    /// A number in `low..=high`.
    pub fn range(&mut self, low: i64, high: i64) -> i64 {
        low + self.below((high - low + 1) as u64) as i64
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// The document of a fragment fan-out: `levels` fragments, each spreading the next twice, ending on
/// `viewer { role }`. It expands to 2^levels fields in about 40 bytes a level.
pub fn doubling_fragments(levels: usize) -> String {
    let mut document = String::from("query { ...F0 }\n");
    for level in 0..levels {
        document.push_str(&format!(
            "fragment F{level} on Query {{ ...F{} ...F{} }}\n",
            level + 1,
            level + 1
        ));
    }
    document.push_str(&format!("fragment F{levels} on Query {{ viewer {{ role }} }}\n"));
    document
}
