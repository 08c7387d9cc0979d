//! Read replicas: PostgreSQL hot standbys that answer read-only requests in the primary's place.
//!
//! - **What goes where.** A query (over HTTP, SDMX, the note and the dashboard, all through `http::execution::run`)
//!   runs on a replica in rotation, chosen in turn; writes, report acceptance, key checks, the alert hub's `LISTEN`
//!   and webhook deliveries stay on the primary. The data's version and the answer are read on the same replica.
//! - **Lag.** A monitor reads, every [`WATCH_EVERY`], the primary's WAL position and each replica's replayed
//!   position. A replica that has replayed everything has no lag; one that is behind lags by the age of the last
//!   transaction it replayed. A replica lagging more than the allowed lag, or not answering, leaves the rotation
//!   until it is back. A replica enters the rotation only once it has replayed what the primary held at the first
//!   look (the schema and data this process started with). `/metrics` exports each replica's lag, its bytes behind
//!   and whether it is in rotation.
//! - **Reading one's own writes.** After a mutation (or a report) by a key, the primary's WAL position is recorded for
//!   that key in `caller_write`, on the primary, so every process sees it. A keyed caller's query then runs on a
//!   replica only when the monitor has seen that replica replay past the position; otherwise on the primary. The
//!   anonymous public never writes, so its queries cost the primary nothing.

use crate::http::cache::Versions;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::time::Duration;

/// How often the monitor reads the replicas' positions.
pub const WATCH_EVERY: Duration = Duration::from_millis(500);

/// Default lag beyond which a replica leaves the rotation.
pub const DEFAULT_MAX_LAG: Duration = Duration::from_secs(5);

/// One replica: its pool, its shared version reads, and what the monitor last saw of it.
pub struct Replica {
    /// `host:port` of its URL (no user or password), for logs and metrics.
    pub name: String,
    pub db: DatabaseConnection,
    /// Reads of the data's version on this replica (a version read on one replica serves only answers read there).
    pub versions: Versions,
    /// WAL position replayed (bytes from the start), −1 until seen.
    replayed: AtomicI64,
    /// Bytes of WAL behind the primary at the last look.
    behind: AtomicI64,
    /// Lag at the last look, in milliseconds (−1: behind, with no replayed transaction to tell by how long).
    lag_ms: AtomicI64,
    /// Whether it answered the last look.
    answering: AtomicBool,
    in_rotation: AtomicBool,
}

impl Replica {
    /// A request found this replica unreachable: out of the rotation until the monitor sees it answer again.
    pub fn failed(&self) {
        self.answering.store(false, Ordering::Relaxed);
        if self.in_rotation.swap(false, Ordering::AcqRel) {
            tracing::warn!(replica = %self.name, "replica out of rotation: a request found it unreachable");
        }
    }
}

/// What `/metrics` shows of one replica.
pub struct Seen {
    pub name: String,
    /// Whether it answered the monitor's last look.
    pub answering: bool,
    pub lag_seconds: f64,
    pub behind_bytes: i64,
    pub in_rotation: bool,
}

/// The configured replicas.
pub struct Replicas {
    list: Vec<Arc<Replica>>,
    max_lag: Duration,
    next: AtomicUsize,
    /// The primary's position at the monitor's first look (−1 before it): a replica comes into rotation only once it
    /// has replayed that far, so that it holds the schema and data this process started with (its migrations).
    floor: AtomicI64,
}

impl std::fmt::Debug for Replicas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replicas")
            .field(
                "replicas",
                &self.list.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            )
            .field("max_lag", &self.max_lag)
            .finish()
    }
}

/// `host:port` of a database URL, without its user, password or database.
fn name_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    rest.split(['/', '?']).next().unwrap_or(rest).to_owned()
}

impl Replicas {
    /// Opens a pool for each replica URL (connecting on first use, so that a replica that is down does not stop the
    /// server starting), none in rotation until the monitor has seen it.
    pub async fn connect(urls: &[String], max_lag: Duration) -> Result<Replicas, DbErr> {
        let mut list = Vec::new();
        for url in urls {
            if !url.starts_with("postgres") {
                return Err(DbErr::Custom(format!(
                    "replica '{}' is not a PostgreSQL URL: replicas are PostgreSQL hot standbys",
                    name_of(url)
                )));
            }
            list.push(Arc::new(Replica {
                name: name_of(url),
                db: crate::db::connect_lazy(url).await?,
                versions: Versions::default(),
                replayed: AtomicI64::new(-1),
                behind: AtomicI64::new(0),
                lag_ms: AtomicI64::new(0),
                answering: AtomicBool::new(false),
                in_rotation: AtomicBool::new(false),
            }));
        }
        Ok(Replicas {
            list,
            max_lag,
            next: AtomicUsize::new(0),
            floor: AtomicI64::new(-1),
        })
    }

    /// Watches the replicas against `primary` until the returned handle is aborted.
    pub fn watch(self: &Arc<Self>, primary: DatabaseConnection) -> tokio::task::JoinHandle<()> {
        let replicas = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let Some(replicas) = replicas.upgrade() else { return };
                replicas.look(&primary).await;
                drop(replicas);
                tokio::time::sleep(WATCH_EVERY).await;
            }
        })
    }

    /// One look at every replica's position against the primary's.
    pub async fn look(&self, primary: &DatabaseConnection) {
        let Ok(Some(primary_at)) =
            position(primary, "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint AS at").await
        else {
            return;
        };
        let floor = match self
            .floor
            .compare_exchange(-1, primary_at, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => primary_at,
            Err(floor) => floor,
        };
        for replica in &self.list {
            let seen = replica
                .db
                .query_one_raw(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint AS replayed, \
                     EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 AS age",
                ))
                .await;
            let seen = match seen {
                Ok(Some(row)) => row
                    .try_get::<Option<i64>>("", "replayed")
                    .ok()
                    .flatten()
                    .zip(row.try_get::<Option<f64>>("", "age").ok()),
                _ => None,
            };
            let was = replica.in_rotation.load(Ordering::Relaxed);
            let now = match seen {
                Some((replayed, age)) => {
                    let behind = (primary_at - replayed).max(0);
                    let lag = lag_of(behind, age);
                    replica.replayed.store(replayed, Ordering::Release);
                    replica.behind.store(behind, Ordering::Relaxed);
                    replica
                        .lag_ms
                        .store(lag.map_or(-1, |lag| (lag * 1000.0) as i64), Ordering::Relaxed);
                    replayed >= floor && lag.is_some_and(|lag| lag <= self.max_lag.as_secs_f64())
                }
                None => false,
            };
            replica.answering.store(seen.is_some(), Ordering::Relaxed);
            replica.in_rotation.store(now, Ordering::Release);
            if was != now {
                if now {
                    tracing::info!(replica = %replica.name, "replica in rotation");
                } else {
                    tracing::warn!(
                        replica = %replica.name,
                        lag_ms = replica.lag_ms.load(Ordering::Relaxed),
                        reachable = seen.is_some(),
                        "replica out of rotation: lagging beyond {} s or not answering",
                        self.max_lag.as_secs_f64()
                    );
                }
            }
        }
    }

    /// A replica in rotation that has replayed at least `needs` (a caller's last write), taken in turn; `None` when
    /// none has: the primary answers.
    pub fn choose(&self, needs: Option<i64>) -> Option<Arc<Replica>> {
        let count = self.list.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..count).map(|i| &self.list[(start + i) % count]).find_map(|replica| {
            let ready = replica.in_rotation.load(Ordering::Acquire)
                && needs.is_none_or(|needs| replica.replayed.load(Ordering::Acquire) >= needs);
            ready.then(|| replica.clone())
        })
    }

    /// What `/metrics` shows.
    pub fn seen(&self) -> Vec<Seen> {
        self.list
            .iter()
            .map(|r| Seen {
                name: r.name.clone(),
                answering: r.answering.load(Ordering::Relaxed),
                lag_seconds: match r.lag_ms.load(Ordering::Relaxed) {
                    -1 => -1.0,
                    ms => ms as f64 / 1000.0,
                },
                behind_bytes: r.behind.load(Ordering::Relaxed),
                in_rotation: r.in_rotation.load(Ordering::Relaxed),
            })
            .collect()
    }
}

/// A replica's lag in seconds, from the bytes of WAL it has not replayed and the age of the last transaction it
/// replayed: none when it has replayed everything; that age when it is behind; unknown (`None`) when it is behind
/// but has replayed no transaction since it started, so its age cannot be told.
fn lag_of(behind: i64, age: Option<f64>) -> Option<f64> {
    if behind == 0 {
        Some(0.0)
    } else {
        age.map(|age| age.max(0.0))
    }
}

async fn position(db: &DatabaseConnection, sql: &str) -> Result<Option<i64>, DbErr> {
    Ok(db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await?
        .and_then(|row| row.try_get::<i64>("", "at").ok()))
}

/// Records that the key `prefix` has just written: the primary's WAL position now (after the write's commit) is the
/// position a replica must have replayed to answer this key.
pub async fn wrote(primary: &DatabaseConnection, prefix: &str) -> Result<(), DbErr> {
    primary
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO caller_write (key_prefix, position, written_at) \
             VALUES ($1, (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint, now()) \
             ON CONFLICT (key_prefix) DO UPDATE SET position = EXCLUDED.position, written_at = EXCLUDED.written_at",
            [prefix.into()],
        ))
        .await
        .map(|_| ())
}

/// The position a replica must have replayed to answer the key `prefix` (its last write), read on the primary.
pub async fn needs(primary: &DatabaseConnection, prefix: &str) -> Result<Option<i64>, DbErr> {
    Ok(primary
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT position FROM caller_write WHERE key_prefix = $1",
            [prefix.into()],
        ))
        .await?
        .and_then(|row| row.try_get::<i64>("", "position").ok()))
}

#[cfg(test)]
mod tests {
    use super::{lag_of, name_of};

    #[test]
    fn a_replica_behind_lags_by_the_age_of_what_it_replayed_last_and_is_unknown_without_it() {
        assert_eq!(
            lag_of(0, None),
            Some(0.0),
            "all replayed: no lag, however old the last transaction"
        );
        assert_eq!(lag_of(0, Some(3_600.0)), Some(0.0));
        assert_eq!(lag_of(8_192, Some(2.5)), Some(2.5));
        assert_eq!(lag_of(8_192, Some(-0.01)), Some(0.0), "clocks a little apart");
        assert_eq!(
            lag_of(8_192, None),
            None,
            "behind, with nothing replayed to date it: unknown"
        );
    }

    #[test]
    fn a_replica_is_named_without_its_credentials() {
        assert_eq!(
            name_of("postgres://app:secret@10.0.0.2:5433/observatory"),
            "10.0.0.2:5433"
        );
        assert_eq!(
            name_of("postgres://127.0.0.1:5433/db?sslmode=disable"),
            "127.0.0.1:5433"
        );
        assert_eq!(name_of("postgresql://replica"), "replica");
    }
}
