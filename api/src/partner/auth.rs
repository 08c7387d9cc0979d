//! Key authentication: an `Authorization` header in, the caller's scope (or
//! why the key is refused) out. A wrong, expired or revoked key is refused,
//! never downgraded to the public.

use crate::error::ApiError;
use crate::keys;
use crate::scope::{Role, Scope};
use chrono::{DateTime, Duration, Utc};
use entity::enums::PartnerKind;
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

/// Turns an `Authorization` header into the caller's scope. No header is the
/// public; a wrong, expired or revoked key is refused, never downgraded.
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
    let prefix = &secret[..keys::PREFIX_LEN];
    let Some(key) = api_key::Entity::find()
        .filter(api_key::Column::Prefix.eq(prefix))
        .one(db)
        .await?
    else {
        return Ok(Err(KeyRefusal::Unknown));
    };
    if !same_digest(&key.hash, &keys::hash(secret)) {
        return Ok(Err(KeyRefusal::Unknown));
    }
    let Some(owner) = partner::Entity::find_by_id(key.partner_id).one(db).await? else {
        return Ok(Err(KeyRefusal::Unknown));
    };
    if key.revoked_at.is_some() {
        return Ok(Err(KeyRefusal::Revoked));
    }
    let now = Utc::now();
    if let Some(expires) = key.expires_at
        && expires <= now
    {
        return Ok(Err(KeyRefusal::Expired(expires)));
    }
    if key.last_used_at.is_none_or(|used| now - used > Duration::minutes(1)) {
        // Last use is kept to the minute: one write per key and minute at most.
        let mut used: api_key::ActiveModel = key.clone().into();
        used.last_used_at = Set(Some(now));
        used.update(db).await?;
    }
    let role = match owner.kind {
        PartnerKind::Observatory => Role::Observatory,
        PartnerKind::Association => Role::Association,
        _ => Role::Partner,
    };
    Ok(Ok(Scope {
        role,
        partner_id: Some(owner.id),
        association_id: owner.association_id,
        key_prefix: Some(key.prefix),
        admin: key.scopes.split_whitespace().any(|s| s == "admin"),
        write: key.scopes.split_whitespace().any(|s| s == "write"),
    }))
}
