//! Key authentication: an `Authorization` header in, the caller's scope (or
//! why the key is refused) out. A wrong, expired or revoked key is refused,
//! never downgraded to the public.

use crate::error::ApiError;
use crate::keys;
use crate::scope::Scope;
use chrono::{DateTime, Duration, Utc};
use entity::{api_key, partner};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

/// Why a key was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRefusal {
    Malformed,
    Unknown,
    Revoked,
    Expired(DateTime<Utc>),
}

impl KeyRefusal {
    pub fn message(&self) -> String {
        match self {
            KeyRefusal::Malformed => {
                "the Authorization header must be `Bearer <key>`; send no header to read as the public".into()
            }
            KeyRefusal::Unknown => "the API key is not recognised".into(),
            KeyRefusal::Revoked => "the API key has been revoked: ask the observatory for a new one".into(),
            KeyRefusal::Expired(at) => format!(
                "the API key expired on {}: ask the observatory for a new one",
                at.format("%Y-%m-%d")
            ),
        }
    }
}

/// Compares two hex digests without an early exit.
fn same_digest(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// How long a verified key is trusted without reading it again. A revocation (or expiry written by another
/// process) takes effect everywhere within this bound; in the process that revoked the key, at once.
pub const KEY_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// Most keys remembered at once; the memory is emptied when it is full.
const KEY_CACHE_SIZE: usize = 10_000;

/// A key verified recently: its scope, its expiry, and when it was read.
type Verified = (Scope, Option<DateTime<Utc>>, std::time::Instant);

/// Keys verified in the last `KEY_CACHE_TTL`, by the SHA-256 of their secret.
static VERIFIED: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<String, Verified>>> =
    std::sync::LazyLock::new(Default::default);

/// Forgets a key in this process at once (after its revocation).
pub fn forget(prefix: &str) {
    VERIFIED
        .lock()
        .expect("not poisoned")
        .retain(|_, (scope, _, _)| scope.key_prefix.as_deref() != Some(prefix));
}

/// Turns an `Authorization` header into the caller's scope. No header is the
/// public; a wrong, expired or revoked key is refused, never downgraded. A
/// key verified in the last `KEY_CACHE_TTL` is not read again; otherwise it
/// costs one statement (the key with its partner).
pub async fn authenticate(
    db: &DatabaseConnection,
    header: Option<&str>,
) -> Result<Result<Scope, KeyRefusal>, ApiError> {
    let Some(header) = header else {
        return Ok(Ok(Scope::public()));
    };
    // The scheme is case-insensitive (RFC 9110): `Bearer`, `bearer` and `BEARER` are the same.
    let scheme_ends = header.find(' ').unwrap_or(header.len());
    let (scheme, rest) = header.split_at(scheme_ends);
    let Some(secret) = scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim()) else {
        return Ok(Err(KeyRefusal::Malformed));
    };
    if !secret.starts_with(keys::KEY_MARKER) || secret.len() < keys::PREFIX_LEN {
        return Ok(Err(KeyRefusal::Unknown));
    }
    let digest = keys::hash(secret);
    let now = Utc::now();
    let remembered = VERIFIED.lock().expect("not poisoned").get(&digest).cloned();
    if let Some((scope, expires, read_at)) = remembered
        && read_at.elapsed() < KEY_CACHE_TTL
    {
        return Ok(match expires {
            Some(expires) if expires <= now => Err(KeyRefusal::Expired(expires)),
            _ => Ok(scope),
        });
    }
    let (key, owner) = match standing(db, &secret[..keys::PREFIX_LEN], Some(&digest)).await? {
        Ok(found) => found,
        Err(refusal) => return Ok(Err(refusal)),
    };
    if key.last_used_at.is_none_or(|used| now - used > Duration::minutes(1)) {
        // Last use is kept to the minute: one write per key and minute at most.
        let mut used: api_key::ActiveModel = key.clone().into();
        used.last_used_at = Set(Some(now));
        used.update(db).await?;
    }
    let scope = scope_of(&key, &owner);
    let mut verified = VERIFIED.lock().expect("not poisoned");
    if verified.len() >= KEY_CACHE_SIZE {
        verified.clear();
    }
    verified.insert(digest, (scope.clone(), key.expires_at, std::time::Instant::now()));
    Ok(Ok(scope))
}

/// The scope a key grants its holder.
fn scope_of(key: &api_key::Model, owner: &partner::Model) -> Scope {
    Scope {
        key_prefix: Some(key.prefix.clone()),
        admin: key.scopes.split_whitespace().any(|s| s == "admin"),
        write: key.scopes.split_whitespace().any(|s| s == "write"),
        ..Scope::of_partner(owner)
    }
}

/// A key named by its prefix alone (a signed link carries no secret): the scope it grants and the digest it is
/// stored as, which signs its links; or why it is refused (unknown, revoked, expired), read now, in one statement.
pub async fn by_prefix(db: &DatabaseConnection, prefix: &str) -> Result<Result<(Scope, String), KeyRefusal>, ApiError> {
    Ok(standing(db, prefix, None)
        .await?
        .map(|(key, owner)| (scope_of(&key, &owner), key.hash)))
}

/// The key of a prefix with its partner, read now in one statement, when it stands: known (and, given a digest,
/// stored as it: checked before anything else is said of the key), not revoked, not expired.
async fn standing(
    db: &DatabaseConnection,
    prefix: &str,
    digest: Option<&str>,
) -> Result<Result<(api_key::Model, partner::Model), KeyRefusal>, ApiError> {
    let Some((key, Some(owner))) = api_key::Entity::find()
        .filter(api_key::Column::Prefix.eq(prefix))
        .find_also_related(partner::Entity)
        .one(db)
        .await?
    else {
        return Ok(Err(KeyRefusal::Unknown));
    };
    if digest.is_some_and(|digest| !same_digest(&key.hash, digest)) {
        return Ok(Err(KeyRefusal::Unknown));
    }
    if key.revoked_at.is_some() {
        return Ok(Err(KeyRefusal::Revoked));
    }
    if let Some(expires) = key.expires_at
        && expires <= Utc::now()
    {
        return Ok(Err(KeyRefusal::Expired(expires)));
    }
    Ok(Ok((key, owner)))
}
