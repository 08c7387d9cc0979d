//! Partners, API keys and authentication: plain sea-orm, shared by the command
//! line and the observatory's mutations. Every change is audited in its own
//! transaction.

use crate::audit;
use crate::error::{ApiError, ApiResult};
use crate::keys;
use crate::scope::{Role, Scope};
use chrono::{DateTime, Duration, Utc};
use entity::enums::PartnerKind;
use entity::{api_key, association, partner};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;

/// A new partner.
#[derive(Debug, Clone)]
pub struct NewPartner {
    pub code: String,
    pub name: String,
    pub kind: PartnerKind,
    /// Code of the association, for an association partner.
    pub association: Option<String>,
}

/// A key to issue.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub partner: String,
    pub label: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub scopes: Vec<String>,
}

/// Scopes a key may carry.
pub const SCOPES: &[&str] = &["read", "write", "admin"];

fn valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub async fn create_partner(db: &DatabaseConnection, actor: &Scope, new: NewPartner) -> ApiResult<partner::Model> {
    if !valid_code(&new.code) {
        return Err(ApiError::bad_input(format!(
            "partner code '{}' must be 1 to 64 letters, digits, '-' or '_'",
            new.code
        )));
    }
    if new.name.trim().is_empty() {
        return Err(ApiError::bad_input("a partner needs a name"));
    }
    let txn = crate::db::begin_write(db).await?;
    let association_id = match (&new.association, new.kind) {
        (Some(code), PartnerKind::Association) => Some(
            crate::store::by_code::<association::Entity, _>(&txn, association::Column::Code, "association", code)
                .await
                .map_err(|_| ApiError::bad_input(format!("unknown association code: {code}")))?
                .id,
        ),
        (None, PartnerKind::Association) => {
            return Err(ApiError::bad_input(
                "an ASSOCIATION partner needs the code of its association",
            ));
        }
        (Some(_), _) => {
            return Err(ApiError::bad_input(
                "only an ASSOCIATION partner is linked to an association",
            ));
        }
        (None, _) => None,
    };
    if partner::Entity::find()
        .filter(partner::Column::Code.eq(&new.code))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(ApiError::Conflict(format!(
            "a partner with the code '{}' exists already",
            new.code
        )));
    }
    let model = partner::ActiveModel {
        code: Set(new.code.clone()),
        name: Set(new.name.trim().to_owned()),
        kind: Set(new.kind),
        association_id: Set(association_id),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let detail = json!({ "name": model.name, "kind": model.kind.as_str(), "association": new.association });
    audit::record(&txn, actor, "partner.create", "partner", &model.code, detail).await?;
    txn.commit().await?;
    Ok(model)
}

/// Issues a key; returns the stored key and the secret, shown once.
pub async fn issue_key(db: &DatabaseConnection, actor: &Scope, new: NewKey) -> ApiResult<(api_key::Model, String)> {
    if let Some(unknown) = new.scopes.iter().find(|s| !SCOPES.contains(&s.as_str())) {
        return Err(ApiError::bad_input(format!(
            "unknown scope '{unknown}': use {}",
            SCOPES.join(", ")
        )));
    }
    if new.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(ApiError::bad_input("a key cannot expire in the past"));
    }
    let txn = crate::db::begin_write(db).await?;
    let owner =
        crate::store::by_code::<partner::Entity, _>(&txn, partner::Column::Code, "partner", &new.partner).await?;
    let generated = keys::generate().map_err(|e| ApiError::Internal(format!("no random source: {e}")))?;
    let now = Utc::now();
    let scopes = if new.scopes.is_empty() {
        "read".to_owned()
    } else {
        new.scopes.join(" ")
    };
    let model = api_key::ActiveModel {
        partner_id: Set(owner.id),
        prefix: Set(generated.prefix),
        hash: Set(generated.hash),
        label: Set(new.label),
        scopes: Set(scopes),
        created_at: Set(now),
        expires_at: Set(new.expires_at),
        revoked_at: Set(None),
        last_used_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let detail =
        json!({ "partner": owner.code, "label": model.label, "scopes": model.scopes, "expires_at": model.expires_at });
    audit::record(&txn, actor, "key.issue", "api_key", &model.prefix, detail).await?;
    txn.commit().await?;
    Ok((model, generated.secret))
}

pub async fn revoke_key(db: &DatabaseConnection, actor: &Scope, prefix: &str) -> ApiResult<api_key::Model> {
    let txn = crate::db::begin_write(db).await?;
    let key = api_key::Entity::find()
        .filter(api_key::Column::Prefix.eq(prefix))
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no key has the prefix '{prefix}'")))?;
    if key.revoked_at.is_some() {
        return Err(ApiError::Conflict(format!("the key '{prefix}' is revoked already")));
    }
    let mut active: api_key::ActiveModel = key.into();
    active.revoked_at = Set(Some(Utc::now()));
    let key = active.update(&txn).await?;
    audit::record(&txn, actor, "key.revoke", "api_key", prefix, json!({})).await?;
    txn.commit().await?;
    Ok(key)
}

/// The code of the partner with this id.
pub async fn partner_code<C: ConnectionTrait>(db: &C, id: i32) -> ApiResult<String> {
    partner::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|p| p.code)
        .ok_or_else(|| ApiError::Internal(format!("partner {id} is referenced but missing")))
}

pub async fn list_partners<C: ConnectionTrait>(db: &C) -> ApiResult<Vec<partner::Model>> {
    Ok(partner::Entity::find()
        .order_by_asc(partner::Column::Code)
        .all(db)
        .await?)
}

pub async fn list_keys<C: ConnectionTrait>(
    db: &C,
    partner_code: Option<&str>,
) -> ApiResult<Vec<(api_key::Model, String)>> {
    let partners = list_partners(db).await?;
    let mut select = api_key::Entity::find().order_by_asc(api_key::Column::Id);
    if let Some(code) = partner_code {
        let owner = partners
            .iter()
            .find(|p| p.code == code)
            .ok_or_else(|| ApiError::NotFound(format!("no partner has the code '{code}'")))?;
        select = select.filter(api_key::Column::PartnerId.eq(owner.id));
    }
    let keys = select.all(db).await?;
    Ok(keys
        .into_iter()
        .map(|k| {
            let code = partners
                .iter()
                .find(|p| p.id == k.partner_id)
                .map(|p| p.code.clone())
                .unwrap_or_default();
            (k, code)
        })
        .collect())
}

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
    }))
}

/// Issues a short-lived key for the observatory partner, if there is one, and
/// returns the secret (shown once, stored only as a hash).
pub async fn issue_demo_key(db: &DatabaseConnection, lifetime_hours: i64) -> ApiResult<Option<String>> {
    let Some(observatory) = partner::Entity::find()
        .filter(partner::Column::Kind.eq(PartnerKind::Observatory))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let new = NewKey {
        partner: observatory.code,
        label: "demo key issued at start-up".into(),
        expires_at: Some(Utc::now() + Duration::hours(lifetime_hours)),
        scopes: vec!["read".into(), "write".into(), "admin".into()],
    };
    let (_, secret) = issue_key(db, &Scope::observatory(), new).await?;
    Ok(Some(secret))
}
