//! Opening the database and beginning write transactions.
//!
//! SQLite is opened in WAL mode with `synchronous=FULL`, a busy timeout and a
//! pool of several connections; write transactions begin IMMEDIATE so that
//! concurrent writers queue instead of failing with "database is locked".
//!
//! Every write goes through [`begin_write`]: its [`Write::commit`] tells this
//! process's outbox readers (subscriptions, webhook deliveries) that a commit
//! may have written events, so no write path signals by hand.

use sea_orm::prelude::async_trait;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use sea_orm::{ExecResult, QueryResult, Statement};
use std::sync::LazyLock;
use std::time::Duration;
use tokio::sync::watch;

/// Default database: a SQLite file in the working directory, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://observatory.db?mode=rwc";

/// How long a SQLite connection waits for a lock before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a request waits for a SQLite connection: the file is local, so a
/// wait means queueing behind other requests, not an unreachable database.
const SQLITE_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a request waits for a PostgreSQL connection (from the pool, or a
/// new one) before answering `UNAVAILABLE`: a server that is down is
/// reported within this time, not after the request's own timeout. A request
/// that arrives while a shared read of the data's version is in flight takes
/// that read's `UNAVAILABLE` (see `http::cache::Versions`) rather than waiting
/// for a read of its own after it, so a 503 comes within 2 s.
pub const SERVER_ACQUIRE_TIMEOUT: Duration = Duration::from_millis(1500);

/// Statements each PostgreSQL connection keeps prepared. Statements take their values as parameters, so their
/// number is that of the request shapes in use (source, table, grouping, filtered dimensions, granularity), a few
/// hundred at most: with room for them all, a statement is parsed once per connection and then only bound.
const STATEMENT_CACHE: usize = 1024;

/// Opens the database and connects at once (fails if it cannot be reached).
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    Database::connect(options(url)).await
}

/// Opens a pool that connects on first use, so that a server can start while
/// its database is down; requests then answer `UNAVAILABLE` until it is back.
pub async fn connect_lazy(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = options(url);
    options.connect_lazy(true);
    Database::connect(options).await
}

fn options(url: &str) -> ConnectOptions {
    let mut options = ConnectOptions::new(url);
    options.sqlx_logging(false);
    if url.starts_with("sqlite:") {
        options.acquire_timeout(SQLITE_ACQUIRE_TIMEOUT);
        options.max_connections(pool_size(DbBackend::Sqlite)).min_connections(1);
        options.map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .foreign_keys(true)
                .create_if_missing(true)
        });
    } else {
        options
            .max_connections(pool_size(DbBackend::Postgres))
            .min_connections(1)
            .connect_timeout(SERVER_ACQUIRE_TIMEOUT)
            .acquire_timeout(SERVER_ACQUIRE_TIMEOUT);
        options.map_sqlx_postgres_opts(|o| o.statement_cache_capacity(STATEMENT_CACHE));
    }
    options
}

/// Begins a write transaction (IMMEDIATE on SQLite).
pub async fn begin_write(db: &DatabaseConnection) -> Result<Write, DbErr> {
    let sqlite = db.get_database_backend() == DbBackend::Sqlite;
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: sqlite.then_some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
    .map(Write)
}

/// A write transaction. Its commit signals this process's outbox readers; dropped without a commit, it rolls back.
pub struct Write(DatabaseTransaction);

impl Write {
    /// Commits, then tells this process's outbox readers to look for new events.
    pub async fn commit(self) -> Result<(), DbErr> {
        self.0.commit().await?;
        COMMITS.send_modify(|count| *count = count.wrapping_add(1));
        Ok(())
    }

    /// Rolls back.
    pub async fn rollback(self) -> Result<(), DbErr> {
        self.0.rollback().await
    }
}

impl std::ops::Deref for Write {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        &self.0
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Write {
    fn get_database_backend(&self) -> DbBackend {
        self.0.get_database_backend()
    }
    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.0.execute_raw(stmt).await
    }
    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.0.execute_unprepared(sql).await
    }
    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.0.query_one_raw(stmt).await
    }
    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.0.query_all_raw(stmt).await
    }
}

/// Counts this process's committed writes.
static COMMITS: LazyLock<watch::Sender<u64>> = LazyLock::new(|| watch::channel(0).0);

/// A receiver of this process's commits: the outbox readers wait on it between their polls.
pub fn commits() -> watch::Receiver<u64> {
    COMMITS.subscribe()
}

/// The PostgreSQL notification channel on which a commit that wrote outbox events tells other processes.
pub const OUTBOX_CHANNEL: &str = "observatory_alert_events";

/// Checks that the database answers.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}

/// Connections in a pool of this backend.
pub fn pool_size(backend: DbBackend) -> u32 {
    match backend {
        DbBackend::Sqlite => 4,
        _ => 16,
    }
}
