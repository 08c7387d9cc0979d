//! Answers reused while the data has not changed.
//!
//! An answer is kept only for a request that comes again ([`Seen`]): the first time a request comes it is worked
//! out without reading the data's version (over GET, whose entity tag needs the version, it is always read).
//!
//! Every write transaction moves the data's version on (one row of `data_stream`, the write's stream, increased by
//! `audit::record`, which every write calls; the version is the rows' sum). A query over the published data (indicators, registries, statistics, releases, programmes and
//! training; not keys, partners or submissions) that succeeded is kept with the version read before it ran, keyed by
//! its text, operation, variables and the caller's access; the same request under the same version gets the same
//! bytes without running again. The version is read from the database on every request, so several processes over
//! one PostgreSQL never serve an answer older than the last committed write. Reading the version before running is
//! what makes this safe: the answer then holds every write the version counts (and maybe later ones, which the next
//! version reads again).
//!
//! The answers are held in a [`moka`] cache of 64 MiB (keys and answers counted; an answer over 1 MiB is not kept):
//! when it is full, its TinyLFU admission keeps a new answer only in place of answers whose requests come less often,
//! so the requests a dashboard repeats keep their place against a stream of requests that come twice and no more.

use crate::scope::Scope;
use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use std::collections::HashSet;
use std::hash::BuildHasher;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

/// Root fields whose answers depend only on the data and the caller's access.
const REUSABLE_ROOTS: &[&str] = &[
    "__typename",
    "__schema",
    "__type",
    "activityStatistics",
    "association",
    "associations",
    "branch",
    "branches",
    "branchesNear",
    "chartOfAccounts",
    "codeLists",
    "clientStatistics",
    "indicatorCatalog",
    "indicators",
    "loanStatistics",
    "peerBenchmarks",
    "peers",
    "programme",
    "programmeIndicators",
    "programmeOutcomes",
    "programmes",
    "quarterReleases",
    "quarterlyNote",
    "referenceSeries",
    "region",
    "regions",
    "releases",
    "staffStatistics",
    "surveyResults",
    "surveys",
    "targets",
    "trainingAction",
    "trainingActions",
    "trainingIndicators",
];

/// Answers larger than this are not kept.
const MAX_ANSWER_BYTES: usize = 1 << 20;
/// Bytes of keys and answers kept in all.
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
    let Some(op) = crate::graphql::operation(document, operation) else {
        return false;
    };
    op.ty == OperationType::Query
        && op.selection_set.node.items.iter().all(|item| match &item.node {
            Selection::Field(field) => REUSABLE_ROOTS.contains(&field.node.name.node.as_str()),
            _ => false,
        })
}

/// The data's version now: the sum of the streams' versions (`data_stream`, see `audit::record`), in one statement, so
/// from one snapshot. Each committed write increases one row, so the sum grows with every write, and two reads give
/// the same sum only when they saw the same writes.
async fn read_version(db: &DatabaseConnection) -> Result<Option<i64>, sea_orm::DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) AS version FROM data_stream",
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

/// The answers kept, of the newest version seen: a [`moka`] cache bounded by weight (the key's bytes and the answer's,
/// [`MAX_TOTAL_BYTES`] in all), whose TinyLFU admission decides, once it is full, whether a new answer is kept in
/// place of others: only when its request is asked for more often than theirs, so a burst of requests that do not
/// come back cannot push out the answers a dashboard keeps asking for.
///
/// Each answer is kept with the version it was computed under and is only ever served for that version. When a newer
/// version is seen (by a lookup or a put), the older answers are dropped. Entries are keyed by the request alone, so
/// how often a request is asked for, which admission weighs, outlives the writes that move the version on.
pub struct Cache {
    answers: moka::sync::Cache<Key, (i64, axum::body::Bytes)>,
    /// The newest version seen.
    newest: AtomicI64,
}

impl Default for Cache {
    fn default() -> Self {
        Cache::with_capacity(MAX_TOTAL_BYTES)
    }
}

impl Cache {
    /// A cache holding up to `bytes` of keys and answers.
    fn with_capacity(bytes: usize) -> Self {
        Cache {
            answers: moka::sync::Cache::builder()
                .max_capacity(bytes as u64)
                .weigher(|key: &Key, (_, answer): &(i64, axum::body::Bytes)| {
                    u32::try_from(key.size() + answer.len()).unwrap_or(u32::MAX)
                })
                .build(),
            newest: AtomicI64::new(i64::MIN),
        }
    }

    /// Notes a version read; when it is newer than any seen, every older answer is dropped.
    fn saw(&self, version: i64) {
        if self.newest.fetch_max(version, Ordering::SeqCst) < version {
            self.answers.invalidate_all();
        }
    }

    /// The answer kept for this key under this version.
    pub fn get(&self, version: i64, key: &Key) -> Option<axum::body::Bytes> {
        self.saw(version);
        self.answers
            .get(key)
            .and_then(|(kept, answer)| (kept == version).then_some(answer))
    }

    /// Keeps an answer computed after reading `version`. A newer version drops every older answer; an answer of an
    /// older version than the newest seen is not kept. The weight counted is the key's bytes and the answer's, so
    /// that many long documents with short answers cannot grow the cache past its bound either.
    pub fn put(&self, version: i64, key: Key, answer: axum::body::Bytes) {
        if answer.len() > MAX_ANSWER_BYTES || key.size() + answer.len() > MAX_TOTAL_BYTES {
            return;
        }
        self.saw(version);
        if self.newest.load(Ordering::SeqCst) != version {
            return;
        }
        self.answers.insert(key.clone(), (version, answer));
        // A newer version seen meanwhile may have dropped the older answers just before this one was inserted: drop
        // it too (it would never be served for the newer version, only hold memory).
        if self.newest.load(Ordering::SeqCst) != version {
            self.answers.invalidate(&key);
        }
    }

    /// Bytes held (keys and answers), once the cache's pending upkeep (evictions, answers dropped) has run.
    pub fn bytes(&self) -> u64 {
        self.answers.run_pending_tasks();
        self.answers.weighted_size()
    }

    /// Answers held, once the cache's pending upkeep has run.
    pub fn entries(&self) -> u64 {
        self.answers.run_pending_tasks();
        self.answers.entry_count()
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
            assert!(
                cache.bytes() <= MAX_TOTAL_BYTES as u64,
                "{} bytes after {i}",
                cache.bytes()
            );
        }
        assert!(cache.bytes() > 0);
    }

    #[test]
    fn an_answer_is_served_for_its_own_version_only() {
        let cache = Cache::default();
        let answer = axum::body::Bytes::from_static(b"{\"data\":{}}");
        cache.put(1, key("{ regions { totalCount } }".into()), answer.clone());
        assert_eq!(
            cache.get(1, &key("{ regions { totalCount } }".into())),
            Some(answer.clone())
        );
        assert_eq!(cache.entries(), 1);
        // A newer version drops it, and an answer of an older version than the newest seen is not kept.
        assert_eq!(cache.get(2, &key("{ regions { totalCount } }".into())), None);
        assert_eq!(cache.entries(), 0);
        assert_eq!(cache.bytes(), 0);
        cache.put(1, key("{ regions { totalCount } }".into()), answer.clone());
        assert_eq!(cache.get(1, &key("{ regions { totalCount } }".into())), None);
        assert_eq!(cache.entries(), 0);
        // Answers over the bound for one answer are not kept.
        let large = axum::body::Bytes::from(vec![b' '; MAX_ANSWER_BYTES + 1]);
        cache.put(2, key("{ indicators { period } }".into()), large);
        assert_eq!(cache.entries(), 0);
    }

    #[test]
    fn answers_asked_for_often_win_their_place_among_one_offs() {
        // Room for about 100 answers of 1 kB, filled first with answers never asked for again.
        let cache = Cache::with_capacity(100 * 1_100);
        let answer = axum::body::Bytes::from(vec![b' '; 1_000]);
        let once = |n: usize| key(format!("{{ regions {{ totalCount }} }} # once {n}"));
        for n in 0..200 {
            cache.put(1, once(n), answer.clone());
        }
        // Then ten requests come again and again among a stream of one-offs; each is kept when not found.
        let hot: Vec<Key> = (0..10)
            .map(|i| key(format!("{{ regions {{ totalCount }} }} # hot {i}")))
            .collect();
        for round in 0..50 {
            for key in &hot {
                if cache.get(1, key).is_none() {
                    cache.put(1, key.clone(), answer.clone());
                }
            }
            // More one-offs between two asks than the cache holds: recency alone would have dropped the ten.
            for n in 0..150 {
                cache.put(1, once(1_000 + round * 150 + n), answer.clone());
            }
        }
        let kept = hot.iter().filter(|key| cache.get(1, key).is_some()).count();
        assert_eq!(kept, hot.len(), "{kept} of the answers asked for often are kept");
        assert!(cache.bytes() <= 100 * 1_100);
    }
}
