//! Reads of releases.

use crate::error::ApiResult;
use crate::pagination::{Page, PageArgs};
use crate::scope::Scope;
use crate::store::{self, Keyed};
use entity::release::{Entity, Model};
use sea_orm::{ConnectionTrait, EntityTrait};

impl Keyed for Entity {
    fn key(model: &Model) -> i64 {
        model.id as i64
    }
}

pub async fn list<C: ConnectionTrait>(db: &C, page: &PageArgs, with_total: bool) -> ApiResult<Page<Model>> {
    store::page(db, Entity::find(), page, with_total).await
}

/// Releases a month to partners. Audited in the same transaction.
pub async fn release(
    db: &sea_orm::DatabaseConnection,
    actor: &Scope,
    month: crate::period::Month,
    note: String,
) -> ApiResult<Model> {
    use sea_orm::{ActiveModelTrait, ColumnTrait, QueryFilter, Set};
    let txn = crate::db::begin_write(db).await?;
    if Entity::find()
        .filter(entity::release::Column::Period.eq(month.0))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(crate::error::ApiError::Conflict(format!("{month} is released already")));
    }
    let model = entity::release::ActiveModel {
        period: Set(month.0),
        released_at: Set(chrono::Utc::now()),
        released_by: Set(actor.partner_id),
        note: Set(note),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    crate::audit::record(
        &txn,
        actor,
        "release.create",
        "release",
        &month.to_string(),
        serde_json::json!({ "note": model.note }),
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}
