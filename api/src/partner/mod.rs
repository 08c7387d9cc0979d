//! Partners and their API keys.

use crate::keys;
use chrono::{Duration, Utc};
use entity::enums::PartnerKind;
use entity::{api_key, partner};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set};

/// How long a demo key issued at start-up stays valid.
pub const DEMO_KEY_LIFETIME_HOURS: i64 = 24;

/// Issues a short-lived key for the observatory partner, if there is one,
/// and returns the secret (shown once, stored only as a hash).
pub async fn issue_demo_key(db: &DatabaseConnection) -> Result<Option<String>, DbErr> {
    let Some(observatory) = partner::Entity::find()
        .filter(partner::Column::Kind.eq(PartnerKind::Observatory))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let key = keys::generate().map_err(|e| DbErr::Custom(format!("no random source: {e}")))?;
    let now = Utc::now();
    api_key::ActiveModel {
        partner_id: Set(observatory.id),
        prefix: Set(key.prefix),
        hash: Set(key.hash),
        label: Set("demo key issued at start-up".into()),
        scopes: Set("read write admin".into()),
        created_at: Set(now),
        expires_at: Set(Some(now + Duration::hours(DEMO_KEY_LIFETIME_HOURS))),
        revoked_at: Set(None),
        last_used_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(Some(key.secret))
}
