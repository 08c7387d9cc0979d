//! Reads of releases.

use crate::error::{ApiError, ApiResult, conflict_if_duplicate};
use crate::pagination::{Page, PageArgs};
use crate::period::Month;
use crate::scope::Scope;
use crate::store::{self, Keyed};
use chrono::Datelike;
use entity::release::{Entity, Model};
use sea_orm::{ConnectionTrait, EntityTrait};
use std::ops::RangeInclusive;

impl Keyed for Entity {
    fn key(model: &Model) -> i64 {
        model.id as i64
    }
}

pub async fn list<C: ConnectionTrait>(db: &C, page: &PageArgs, with_total: bool) -> ApiResult<Page<Model>> {
    store::page(db, Entity::find(), page, with_total).await
}

/// The first month the observatory can hold data for: no release before it.
pub const FIRST_RELEASABLE: Month = Month(200001);

/// The months that may be released today: from [`FIRST_RELEASABLE`] to the current month (UTC).
pub fn releasable(today: chrono::NaiveDate) -> RangeInclusive<Month> {
    FIRST_RELEASABLE..=Month(today.year() * 100 + today.month() as i32)
}

/// Releases a month to partners. Audited in the same transaction. A month
/// outside [`releasable`] is refused; a month released already (also by a
/// racing request) answers `CONFLICT`. A month with missing reports (an
/// association expected to report it, as `reportingStatus` judges, without an
/// accepted report) answers `CONFLICT` naming them, unless `force` is given with
/// a note that is not blank; a forced release records the note and the missing
/// associations in its audit event.
pub async fn release(
    db: &sea_orm::DatabaseConnection,
    actor: &Scope,
    month: Month,
    note: String,
    force: bool,
) -> ApiResult<Model> {
    use sea_orm::{ActiveModelTrait, ColumnTrait, QueryFilter, Set};
    if force && note.trim().is_empty() {
        return Err(ApiError::bad_input(
            "a forced release needs a note saying why the month is released without every report",
        ));
    }
    let allowed = releasable(chrono::Utc::now().date_naive());
    if !allowed.contains(&month) {
        return Err(ApiError::bad_input(format!(
            "{month} cannot be released: releases run from {} to the current month, {}",
            allowed.start(),
            allowed.end()
        )));
    }
    let txn = crate::db::begin_write(db).await?;
    if Entity::find()
        .filter(entity::release::Column::Period.eq(month.0))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(ApiError::Conflict(format!("{month} is released already")));
    }
    let missing = missing_reports(&txn, month).await?;
    if !missing.is_empty() && !force {
        return Err(ApiError::Conflict(format!(
            "{month} cannot be released: {} expected association{} sent no accepted report for it: {}. Wait for \
             their reports, or release it with `force: true` and a note saying why",
            missing.len(),
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", ")
        )));
    }
    let model = entity::release::ActiveModel {
        period: Set(month.0),
        released_at: Set(chrono::Utc::now()),
        released_by: Set(actor.partner_id),
        note: Set(note),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(conflict_if_duplicate(|| format!("{month} is released already")))?;
    crate::alert::rules::evaluate(&txn, crate::alert::rules::Trigger::Release { month }, model.released_at).await?;
    crate::audit::record(
        &txn,
        actor,
        "release.create",
        "release",
        &month.to_string(),
        serde_json::json!({ "note": model.note, "forced": force, "missing": missing }),
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// The codes of the associations expected to report `month` that have no accepted report for it, in code order:
/// the `MISSING` lines of `reportingStatus`.
pub async fn missing_reports<C: ConnectionTrait>(db: &C, month: Month) -> ApiResult<Vec<String>> {
    use crate::reporting::{Timeliness, reporting_status};
    Ok(reporting_status(db, &Scope::observatory(), month)
        .await?
        .into_iter()
        .filter(|s| s.timeliness == Timeliness::Missing)
        .map(|s| s.association.code)
        .collect())
}
