//! Persisted documents: a client may send the SHA-256 of a document instead of its text.
//!
//! - Automatic persisted queries (the protocol Apollo, urql and Relay clients speak): a request carries
//!   `extensions.persistedQuery = { version: 1, sha256Hash }`. With the text too, the hash is checked and the text
//!   remembered; with the hash alone, a remembered text runs, else the answer is the error `PersistedQueryNotFound`
//!   (code `PERSISTED_QUERY_NOT_FOUND`) and the client sends the text once. Over GET, hash-only requests make short
//!   URLs that HTTP caches keep.
//! - Trusted documents (`--trusted-documents FILE`): only the documents listed in the file run, sent by hash or as
//!   text; anything else is refused with `TRUSTED_DOCUMENT_REQUIRED`.
//!
//! Remembered texts are kept in each process and shared through the database (`persisted_document`): a hash that
//! one process learnt runs by hash alone on the others, which read it once and remember it. Only texts that parse
//! are remembered, a full store forgets one document at a time, the least recently used of those sent only once
//! first (see [`Remembered`]), and the shared table keeps the [`MAX_SHARED`] documents learnt last.

use crate::error::code;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// Most documents remembered, and most bytes of their texts: past either, the least recently used are forgotten one by
/// one (and learnt again if a client still sends them).
const MAX_REMEMBERED: usize = 10_000;
const MAX_REMEMBERED_BYTES: usize = 32 << 20;
/// The share of the store (in documents and in bytes) kept for documents used more than once: documents sent once
/// and never again (a flood) only ever push each other out.
const PROTECTED_PERCENT: usize = 80;

/// Most documents the shared table keeps: past it, the ones learnt first are forgotten.
pub const MAX_SHARED: i64 = 10_000;

/// A document another process learnt, by its hash (checked against its text), remembered here from now on.
pub async fn shared(db: &sea_orm::DatabaseConnection, remembered: &Remembered, hash: &str) -> Option<String> {
    use sea_orm::FromQueryResult;
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
    #[derive(FromQueryResult)]
    struct Shared {
        text: String,
    }
    let select = Query::select()
        .column(Alias::new("text"))
        .from(Alias::new("persisted_document"))
        .and_where(Expr::col(Alias::new("hash")).eq(hash))
        .to_owned();
    let found = Shared::find_by_statement(db.get_database_backend().build(&select))
        .one(db)
        .await
        .map_err(|error| tracing::warn!(%error, "the shared persisted documents could not be read"))
        .ok()
        .flatten()?;
    if sha256_hex(&found.text) != hash || async_graphql::parser::parse_query(&found.text).is_err() {
        return None;
    }
    let mut texts = remembered.texts.lock().unwrap_or_else(|e| e.into_inner());
    if !texts.by_hash.contains_key(hash) {
        texts.learn(hash.to_owned(), &found.text);
    }
    Some(found.text)
}

/// Shares a document this process learnt (a text that parses, sent with its hash) with the others; the oldest beyond
/// [`MAX_SHARED`] are forgotten. A failure is logged: the other processes then ask the client, as before.
pub async fn share(db: &sea_orm::DatabaseConnection, hash: &str, text: &str) {
    use sea_orm::ConnectionTrait;
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Order, Query};
    if async_graphql::parser::parse_query(text).is_err() {
        return;
    }
    let insert = Query::insert()
        .into_table(Alias::new("persisted_document"))
        .columns([Alias::new("hash"), Alias::new("text"), Alias::new("learnt_at")])
        .values_panic([hash.into(), text.into(), chrono::Utc::now().into()])
        .on_conflict(OnConflict::column(Alias::new("hash")).do_nothing().to_owned())
        .to_owned();
    let oldest = Query::select()
        .column(Alias::new("hash"))
        .from(Alias::new("persisted_document"))
        .order_by(Alias::new("learnt_at"), Order::Desc)
        .limit(u64::MAX >> 1)
        .offset(MAX_SHARED as u64)
        .to_owned();
    let forget = Query::delete()
        .from_table(Alias::new("persisted_document"))
        .and_where(Expr::col(Alias::new("hash")).in_subquery(oldest))
        .to_owned();
    let outcome = async {
        let inserted = db.execute(&insert).await?.rows_affected();
        if inserted > 0 {
            db.execute(&forget).await?;
        }
        Ok::<(), sea_orm::DbErr>(())
    }
    .await;
    if let Err(error) = outcome {
        tracing::warn!(%error, "a persisted document could not be shared with the other processes");
    }
}

/// The hex SHA-256 of a document's text.
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The documents a deployment allows, by hash.
#[derive(Debug, Default)]
pub struct TrustedDocuments {
    by_hash: HashMap<String, String>,
}

impl TrustedDocuments {
    /// Reads a manifest: either an object of hash → document (GraphQL Code Generator's and Relay's persisted
    /// documents), or Apollo's persisted query manifest (`{ "operations": [{ "id", "body" }] }`). Every hash must be
    /// the SHA-256 of its document.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("the trusted documents file is not JSON: {e}"))?;
        let mut by_hash = HashMap::new();
        let mut add = |id: &str, body: &str| -> Result<(), String> {
            let id = id.strip_prefix("sha256:").unwrap_or(id).to_ascii_lowercase();
            let computed = sha256_hex(body);
            if id != computed {
                return Err(format!(
                    "trusted document `{id}` is not the SHA-256 of its text (which is `{computed}`)"
                ));
            }
            by_hash.insert(id, body.to_owned());
            Ok(())
        };
        match &value {
            serde_json::Value::Object(object) if object.get("operations").is_some_and(|o| o.is_array()) => {
                for operation in object["operations"].as_array().into_iter().flatten() {
                    let (Some(id), Some(body)) = (operation["id"].as_str(), operation["body"].as_str()) else {
                        return Err("each operation of the manifest needs an `id` and a `body`".into());
                    };
                    add(id, body)?;
                }
            }
            serde_json::Value::Object(object) => {
                for (id, body) in object {
                    let Some(body) = body.as_str() else {
                        return Err(format!("trusted document `{id}` is not a string"));
                    };
                    add(id, body)?;
                }
            }
            _ => return Err("the trusted documents file must be a JSON object".into()),
        }
        if by_hash.is_empty() {
            return Err("the trusted documents file lists no document".into());
        }
        Ok(TrustedDocuments { by_hash })
    }

    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }
}

/// Documents learnt from clients, by hash: only documents that parse, in two segments of least-recently-used order.
/// A document learnt enters on probation; used again, it moves to the protected segment. Room is made by forgetting
/// the least recently used document on probation (the protected segment's own least recently used only when
/// probation is empty), so a flood of documents sent once never pushes out the documents clients keep using.
#[derive(Default)]
pub struct Remembered {
    texts: Mutex<Texts>,
}

#[derive(Default)]
struct Texts {
    by_hash: HashMap<String, Entry>,
    /// Hashes on probation and protected, by the time of their last use (a counter).
    probation: BTreeMap<u64, String>,
    protected: BTreeMap<u64, String>,
    probation_bytes: usize,
    protected_bytes: usize,
    clock: u64,
}

struct Entry {
    text: Arc<str>,
    used: u64,
    protected: bool,
}

impl Texts {
    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    /// The text of a hash, marking it used (and protected).
    fn use_text(&mut self, hash: &str) -> Option<Arc<str>> {
        let now = self.tick();
        let entry = self.by_hash.get_mut(hash)?;
        let (text, was, protected) = (entry.text.clone(), entry.used, entry.protected);
        entry.used = now;
        entry.protected = true;
        if protected {
            self.protected.remove(&was);
        } else {
            self.probation.remove(&was);
            self.probation_bytes -= text.len();
            self.protected_bytes += text.len();
        }
        self.protected.insert(now, hash.to_owned());
        self.demote_past_share();
        Some(text)
    }

    /// Moves the protected segment's least recently used documents back to probation while it holds more than its
    /// share.
    fn demote_past_share(&mut self) {
        while self.protected.len() * 100 > MAX_REMEMBERED * PROTECTED_PERCENT
            || self.protected_bytes * 100 > MAX_REMEMBERED_BYTES * PROTECTED_PERCENT
        {
            let Some((used, hash)) = self.protected.pop_first() else {
                break;
            };
            if let Some(entry) = self.by_hash.get_mut(&hash) {
                entry.protected = false;
                self.protected_bytes -= entry.text.len();
                self.probation_bytes += entry.text.len();
            }
            self.probation.insert(used, hash);
        }
    }

    /// Remembers a new document on probation, forgetting the least recently used ones to make room.
    fn learn(&mut self, hash: String, text: &str) {
        if text.len() > MAX_REMEMBERED_BYTES / 4 {
            return;
        }
        while self.by_hash.len() >= MAX_REMEMBERED
            || self.probation_bytes + self.protected_bytes + text.len() > MAX_REMEMBERED_BYTES
        {
            let oldest = match self.probation.pop_first() {
                Some(oldest) => oldest,
                None => match self.protected.pop_first() {
                    Some(oldest) => oldest,
                    None => break,
                },
            };
            if let Some(entry) = self.by_hash.remove(&oldest.1) {
                if entry.protected {
                    self.protected_bytes -= entry.text.len();
                } else {
                    self.probation_bytes -= entry.text.len();
                }
            }
        }
        let now = self.tick();
        self.probation_bytes += text.len();
        self.probation.insert(now, hash.clone());
        self.by_hash.insert(
            hash,
            Entry {
                text: text.into(),
                used: now,
                protected: false,
            },
        );
    }
}

/// Why a persisted request cannot run, with its code.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A hash this process does not know: the client sends the text with it.
    NotFound,
    /// A hash that is not the SHA-256 of the text sent with it, or a malformed `persistedQuery`.
    Invalid(String),
    /// In trusted-documents mode, a document that is not listed.
    NotTrusted,
    /// Neither a text nor a hash.
    Missing,
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::NotFound => code::PERSISTED_QUERY_NOT_FOUND,
            Refusal::Invalid(_) | Refusal::Missing => code::BAD_REQUEST,
            Refusal::NotTrusted => code::TRUSTED_DOCUMENT_REQUIRED,
        }
    }

    pub fn message(&self) -> String {
        match self {
            // The exact text clients look for before sending the document.
            Refusal::NotFound => "PersistedQueryNotFound".into(),
            Refusal::Invalid(message) => message.clone(),
            Refusal::NotTrusted => "this server runs only its trusted documents: send one of them (by its SHA-256 \
                                    in `extensions.persistedQuery.sha256Hash`, or its exact text)"
                .into(),
            Refusal::Missing => "the `query` member is missing (or send `extensions.persistedQuery`)".into(),
        }
    }
}

/// The `sha256Hash` of a request's `extensions.persistedQuery`, if it has one.
pub fn hash_of(extensions: Option<&serde_json::Value>) -> Result<Option<String>, Refusal> {
    let Some(persisted) = extensions.and_then(|e| e.get("persistedQuery")) else {
        return Ok(None);
    };
    if persisted.get("version").and_then(|v| v.as_i64()) != Some(1) {
        return Err(Refusal::Invalid("`extensions.persistedQuery.version` must be 1".into()));
    }
    match persisted.get("sha256Hash").and_then(|h| h.as_str()) {
        Some(hash) if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(Some(hash.to_ascii_lowercase()))
        }
        _ => Err(Refusal::Invalid(
            "`extensions.persistedQuery.sha256Hash` must be the 64 hex digits of the document's SHA-256".into(),
        )),
    }
}

/// The text to run: the request's own, the remembered or trusted one for its hash, or a refusal.
pub fn resolve(
    trusted: Option<&TrustedDocuments>,
    remembered: &Remembered,
    text: Option<String>,
    hash: Option<String>,
) -> Result<String, Refusal> {
    if let Some(trusted) = trusted {
        return match (text, hash) {
            (Some(text), _) => {
                if trusted.by_hash.contains_key(&sha256_hex(&text)) {
                    Ok(text)
                } else {
                    Err(Refusal::NotTrusted)
                }
            }
            (None, Some(hash)) => trusted.by_hash.get(&hash).cloned().ok_or(Refusal::NotTrusted),
            (None, None) => Err(Refusal::Missing),
        };
    }
    match (text, hash) {
        (Some(text), None) => Ok(text),
        (Some(text), Some(hash)) => {
            if sha256_hex(&text) != hash {
                return Err(Refusal::Invalid(
                    "`extensions.persistedQuery.sha256Hash` is not the SHA-256 of the query sent with it".into(),
                ));
            }
            let known = remembered
                .texts
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .use_text(&hash)
                .is_some();
            // Only documents that parse are remembered (parsed outside the lock; the request parses it again).
            if !known && async_graphql::parser::parse_query(&text).is_ok() {
                let mut texts = remembered.texts.lock().unwrap_or_else(|e| e.into_inner());
                if !texts.by_hash.contains_key(&hash) {
                    texts.learn(hash, &text);
                }
            }
            Ok(text)
        }
        (None, Some(hash)) => remembered
            .texts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .use_text(&hash)
            .map(|text| text.to_string())
            .ok_or(Refusal::NotFound),
        (None, None) => Err(Refusal::Missing),
    }
}
