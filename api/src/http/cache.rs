//! Answers reused while the data has not changed.
//!
//! An answer is kept only for a request that comes again ([`Seen`]): the first time a request comes it is worked
//! out without reading the data's version (over GET, whose entity tag needs the version, it is always read).
//!
//! Every write transaction moves the data's version on (`data_version`, increased by `audit::record`, which every
//! write calls). A query over the published data (indicators, registries, statistics, releases, programmes and
//! training; not keys, partners or submissions) that succeeded is kept with the version read before it ran, keyed by
//! its text, operation, variables and the caller's access; the same request under the same version gets the same
//! bytes without running again. The version is read from the database on every request, so several processes over
//! one PostgreSQL never serve an answer older than the last committed write. Reading the version before running is
//! what makes this safe: the answer then holds every write the version counts (and maybe later ones, which the next
//! version reads again).

use crate::scope::Scope;
use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::sync::Mutex;

/// Root fields whose answers depend only on the data and the caller's access.
const REUSABLE_ROOTS: &[&str] = &[
    "__typename",
    "__schema",
    "__type",
    "association",
    "associations",
    "branch",
    "branches",
    "branchesNear",
    "codeLists",
    "clientStatistics",
    "indicatorCatalog",
    "indicators",
    "loanStatistics",
    "programme",
    "programmeIndicators",
    "programmeOutcomes",
    "programmes",
    "region",
    "regions",
    "releases",
    "staffStatistics",
    "targets",
    "trainingAction",
    "trainingActions",
    "trainingIndicators",
];

/// Answers larger than this are not kept.
const MAX_ANSWER_BYTES: usize = 1 << 20;
/// When the answers kept reach this many bytes, they are dropped and the cache starts again.
const MAX_TOTAL_BYTES: usize = 64 << 20;

/// What identifies one answer under one version.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    query: String,
    operation: Option<String>,
    variables: String,
    /// The caller's language (`Accept-Language`) and access: role, partner, association and scopes (all anonymous
    /// callers share one).
    caller: String,
}

impl Key {
    /// Bytes the key holds.
    fn size(&self) -> usize {
        self.query.len() + self.operation.as_ref().map_or(0, String::len) + self.variables.len() + self.caller.len()
    }

    /// The entity tag of this request's answer under a version: the same request under the same version has the
    /// same answer.
    pub fn etag(&self, version: i64) -> String {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        for part in [
            &self.query,
            self.operation.as_deref().unwrap_or(""),
            &self.variables,
            &self.caller,
        ] {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part.as_bytes());
        }
        let digest = hash.finalize();
        let hex: String = digest[..10].iter().map(|b| format!("{b:02x}")).collect();
        format!("\"{version:x}-{hex}\"")
    }

    pub fn new(request: &async_graphql::Request, scope: &Scope, language: crate::labels::Language) -> Self {
        Key {
            query: request.query.clone(),
            operation: request.operation_name.clone(),
            variables: serde_json::to_string(&request.variables).unwrap_or_default(),
            caller: format!(
                "{}/{}/{:?}/{:?}/{}{}",
                language.code(),
                scope.role.name(),
                scope.partner_id,
                scope.association_id,
                scope.admin,
                scope.write
            ),
        }
    }
}

/// Whether a request's answer may be kept: a query (not a mutation or subscription) whose every root field is one of
/// [`REUSABLE_ROOTS`], selected directly (fragments at the root are not looked into, and not kept).
pub fn reusable(document: &ExecutableDocument, operation: Option<&str>) -> bool {
    let Some(op) = super::execution::operation(document, operation) else {
        return false;
    };
    op.ty == OperationType::Query
        && op.selection_set.node.items.iter().all(|item| match &item.node {
            Selection::Field(field) => REUSABLE_ROOTS.contains(&field.node.name.node.as_str()),
            _ => false,
        })
}

/// The data's version now. One statement on the one-row `data_version` table.
async fn read_version(db: &DatabaseConnection) -> Result<Option<i64>, sea_orm::DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM data_version WHERE id = 1",
        ))
        .await?;
    Ok(row.and_then(|row| row.try_get::<i64>("", "version").ok()))
}

/// What a version read gave: the version, or whether the database could not be reached.
#[derive(Debug, Clone, Copy)]
pub enum Read {
    Version(i64),
    /// The database cannot be reached.
    Unavailable,
    /// Any other failure: the request is worked out without reusing anything.
    Failed,
}

/// Reads of the data's version, shared by the requests that wait for one.
///
/// A request needs a read that *starts after it arrived*: that read sees every write committed before the request,
/// exactly as a read of its own would. While one read is in flight, the requests arriving meanwhile wait for the
/// next one, which starts as soon as it ends and serves them all. So under load the database answers one version
/// read at a time instead of one per request, and no answer is older than the last write committed before its
/// request arrived.
#[derive(Default)]
pub struct Versions {
    state: Mutex<Reads>,
    finished: tokio::sync::Notify,
}

#[derive(Default)]
struct Reads {
    /// Reads started so far (the last one may still be in flight).
    started: u64,
    /// The last read finished, and what it gave.
    finished: u64,
    value: Option<Read>,
    reading: bool,
}

impl Versions {
    /// The data's version, from a read that started after this call.
    pub async fn current(&self, db: &DatabaseConnection) -> Read {
        let (need, in_flight) = {
            let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            (state.started + 1, state.reading)
        };
        loop {
            let notified = self.finished.notified();
            tokio::pin!(notified);
            let mine = {
                let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
                if state.finished >= need
                    && let Some(value) = state.value
                {
                    return value;
                }
                // The read in flight when this request arrived ended after it, finding the database unreachable: so
                // it is now, and a read of this request's own would only wait as long again.
                if in_flight && state.finished + 1 >= need && matches!(state.value, Some(Read::Unavailable)) {
                    return Read::Unavailable;
                }
                if state.reading {
                    notified.as_mut().enable();
                    None
                } else {
                    state.started += 1;
                    state.reading = true;
                    Some(state.started)
                }
            };
            match mine {
                None => notified.await,
                Some(number) => {
                    // Should this request be dropped mid-read (its client gone), the guard lets the next one read.
                    let mut guard = ReadGuard {
                        versions: self,
                        number,
                        value: None,
                    };
                    let value = match read_version(db).await {
                        Ok(Some(version)) => Read::Version(version),
                        Ok(None) => Read::Failed,
                        Err(error) => match crate::error::ApiError::from(error) {
                            crate::error::ApiError::Unavailable(_) => Read::Unavailable,
                            _ => Read::Failed,
                        },
                    };
                    guard.value = Some(value);
                    return value;
                }
            }
        }
    }
}

/// Ends a version read: records what it gave (nothing when it was abandoned) and wakes the requests waiting.
struct ReadGuard<'a> {
    versions: &'a Versions,
    number: u64,
    value: Option<Read>,
}

impl Drop for ReadGuard<'_> {
    fn drop(&mut self) {
        let mut state = self.versions.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(value) = self.value {
            state.finished = self.number;
            state.value = Some(value);
        }
        state.reading = false;
        drop(state);
        self.versions.finished.notify_waiters();
    }
}

/// Requests seen recently, by a hash of their key, so that an answer is kept only for a request that comes again:
/// the first time a request comes, its answer is not kept and the data's version is not read for it. A workload where
/// nothing repeats then keeps nothing and reads no version, and the memory this costs is bounded: two generations of
/// at most [`SEEN_PER_GENERATION`] hashes (the older one forgotten when the newer fills).
pub struct Seen {
    hasher: std::hash::RandomState,
    generations: Mutex<(HashSet<u64>, HashSet<u64>)>,
}

/// Hashes remembered per generation.
pub const SEEN_PER_GENERATION: usize = 50_000;

impl Default for Seen {
    fn default() -> Self {
        Seen {
            hasher: std::hash::RandomState::new(),
            generations: Mutex::new((HashSet::new(), HashSet::new())),
        }
    }
}

impl Seen {
    /// Whether this request was seen before; notes it either way.
    pub fn again(&self, key: &Key) -> bool {
        let hash = self.hasher.hash_one(key);
        let mut generations = self.generations.lock().unwrap_or_else(|e| e.into_inner());
        let (newer, older) = &mut *generations;
        let seen = newer.contains(&hash) || older.contains(&hash);
        newer.insert(hash);
        if newer.len() >= SEEN_PER_GENERATION {
            *older = std::mem::take(newer);
        }
        seen
    }
}

/// The answers of one version.
#[derive(Default)]
pub struct Cache {
    inner: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    version: i64,
    answers: HashMap<Key, axum::body::Bytes>,
    bytes: usize,
}

impl Cache {
    /// The answer kept for this key under this version.
    pub fn get(&self, version: i64, key: &Key) -> Option<axum::body::Bytes> {
        let entries = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if entries.version != version {
            return None;
        }
        entries.answers.get(key).cloned()
    }

    /// Keeps an answer computed after reading `version`. A newer version drops every older answer; an answer of an
    /// older version than the one kept is not kept. The bytes counted are the key's and the answer's, so that many
    /// long documents with short answers cannot grow the cache past its bound either.
    pub fn put(&self, version: i64, key: Key, answer: axum::body::Bytes) {
        let size = key.size() + answer.len();
        if answer.len() > MAX_ANSWER_BYTES || size > MAX_TOTAL_BYTES {
            return;
        }
        let mut entries = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if version < entries.version {
            return;
        }
        if version > entries.version || entries.bytes + size > MAX_TOTAL_BYTES {
            entries.answers.clear();
            entries.bytes = 0;
            entries.version = version;
        }
        let replaced = entries.answers.get(&key).map(|previous| key.size() + previous.len());
        entries.bytes += size;
        entries.answers.insert(key, answer);
        if let Some(replaced) = replaced {
            entries.bytes -= replaced;
        }
    }

    /// Bytes held (keys and answers).
    pub fn bytes(&self) -> usize {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).bytes
    }
}

/// Whether an `If-None-Match` header names this entity tag (or `*`).
pub fn matches(if_none_match: Option<&axum::http::HeaderValue>, etag: &str) -> bool {
    let Some(value) = if_none_match.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    value
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(query: String) -> Key {
        Key {
            query,
            operation: None,
            variables: String::new(),
            caller: "public".into(),
        }
    }

    #[test]
    fn long_documents_with_short_answers_stay_within_the_bound() {
        let cache = Cache::default();
        for i in 0..400 {
            let document = format!("{{ regions {{ totalCount }} }} # {i} {}", "x".repeat(256 * 1024));
            cache.put(1, key(document), axum::body::Bytes::from_static(b"{}"));
            assert!(cache.bytes() <= MAX_TOTAL_BYTES, "{} bytes after {i}", cache.bytes());
        }
        // What is kept is still found, under its version only.
        let last = format!("{{ regions {{ totalCount }} }} # {} {}", 399, "x".repeat(256 * 1024));
        assert!(cache.get(1, &key(last.clone())).is_some());
        assert!(cache.get(2, &key(last)).is_none());
    }
}
