//! Partners and API keys: plain sea-orm, shared by the command line and the
//! observatory's mutations. Every change is audited in its own transaction.
//! Racing duplicates answer `CONFLICT`: unique violations are mapped where the
//! row is written, and a key is revoked by one conditional update.

use crate::audit;
use crate::error::{ApiError, ApiResult, conflict_if_duplicate};
use crate::keys;
use crate::scope::Scope;
use chrono::{DateTime, Duration, Utc};
use entity::enums::PartnerKind;
use entity::{api_key, association, partner};
use sea_orm::sea_query::Expr;
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
    .await
    .map_err(conflict_if_duplicate(|| {
        format!("a partner with the code '{}' exists already", new.code)
    }))?;
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
    .await
    .map_err(conflict_if_duplicate(|| {
        "a key with the same prefix exists already: issue the key again".to_owned()
    }))?;
    let detail =
        json!({ "partner": owner.code, "label": model.label, "scopes": model.scopes, "expires_at": model.expires_at });
    audit::record(&txn, actor, "key.issue", "api_key", &model.prefix, detail).await?;
    txn.commit().await?;
    Ok((model, generated.secret))
}

/// Revokes a key by its prefix. Given a whole secret, only its prefix is used
/// (and only the prefix appears in answers). One conditional update: of
/// callers racing to revoke the same key, exactly one is acknowledged and
/// audited; the others get `CONFLICT`.
pub async fn revoke_key(db: &DatabaseConnection, actor: &Scope, prefix: &str) -> ApiResult<api_key::Model> {
    let prefix = key_prefix_of(prefix);
    let txn = crate::db::begin_write(db).await?;
    let revoked = api_key::Entity::update_many()
        .col_expr(api_key::Column::RevokedAt, Expr::value(Some(Utc::now())))
        .filter(api_key::Column::Prefix.eq(prefix))
        .filter(api_key::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    let key = api_key::Entity::find()
        .filter(api_key::Column::Prefix.eq(prefix))
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no key has the prefix '{prefix}'")))?;
    if revoked == 0 {
        return Err(ApiError::Conflict(format!("the key '{prefix}' is revoked already")));
    }
    audit::record(&txn, actor, "key.revoke", "api_key", prefix, json!({})).await?;
    txn.commit().await?;
    super::auth::forget(prefix);
    Ok(key)
}

/// The prefix of a key, given its prefix or (by mistake) its whole secret: at
/// most the first `keys::PREFIX_LEN` characters, never more of a secret.
pub fn key_prefix_of(text: &str) -> &str {
    let text = text.trim();
    match text.char_indices().nth(keys::PREFIX_LEN) {
        Some((end, _)) => &text[..end],
        None => text,
    }
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

/// Label of the keys `serve` issues when it loads the demo data.
pub const DEMO_KEY_LABEL: &str = "demo key issued at start-up";

/// Issues a short-lived key for the observatory partner, if there is one, and
/// returns the secret (shown once, stored only as a hash).
pub async fn issue_demo_key(db: &DatabaseConnection, actor: &Scope, lifetime_hours: i64) -> ApiResult<Option<String>> {
    let Some(observatory) = partner::Entity::find()
        .filter(partner::Column::Kind.eq(PartnerKind::Observatory))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let new = NewKey {
        partner: observatory.code,
        label: DEMO_KEY_LABEL.into(),
        expires_at: Some(Utc::now() + Duration::hours(lifetime_hours)),
        scopes: vec!["read".into(), "write".into(), "admin".into()],
    };
    let (_, secret) = issue_key(db, actor, new).await?;
    Ok(Some(secret))
}

/// Deletes the demo keys that have expired; returns their prefixes. Audited.
pub async fn purge_expired_demo_keys(db: &DatabaseConnection, actor: &Scope) -> ApiResult<Vec<String>> {
    let txn = crate::db::begin_write(db).await?;
    let expired = api_key::Entity::find()
        .filter(api_key::Column::Label.eq(DEMO_KEY_LABEL))
        .filter(api_key::Column::ExpiresAt.lte(Utc::now()))
        .order_by_asc(api_key::Column::Id)
        .all(&txn)
        .await?;
    if expired.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i32> = expired.iter().map(|k| k.id).collect();
    api_key::Entity::delete_many()
        .filter(api_key::Column::Id.is_in(ids))
        .exec(&txn)
        .await?;
    let prefixes: Vec<String> = expired.into_iter().map(|k| k.prefix).collect();
    for prefix in &prefixes {
        audit::record(
            &txn,
            actor,
            "key.purge",
            "api_key",
            prefix,
            json!({ "reason": "expired demo key" }),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(prefixes)
}
