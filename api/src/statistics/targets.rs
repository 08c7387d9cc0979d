//! Setting an association's targets for a year: every monthly objective of the year at once (over all its regions,
//! by region, by activity), replacing the year's earlier ones in one transaction, audited. Plain data below the
//! resolver: the GraphQL inputs become [`NewTarget`]s.

use crate::error::{ApiError, ApiResult};
use crate::scope::Scope;
use entity::enums::{Activity, TargetMeasure};
use entity::{association, region, target};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, NotSet, QueryFilter};
use std::collections::{BTreeSet, HashMap};

/// Most targets one year of one association may have: 12 months × 5 measures × 13 regions (or all) × 11 activities
/// (or all) is 8,580.
pub const MAX_TARGETS: usize = 10_000;

/// One objective as sent: its month of the year (1 to 12), measure, region code and activity (none: all), and its
/// value (a count, or MAD centimes for an amount measure).
#[derive(Debug, Clone)]
pub struct NewTarget {
    pub month: i32,
    pub measure: TargetMeasure,
    pub region: Option<String>,
    pub activity: Option<Activity>,
    pub value: i64,
}

/// Whether a measure's objective is an amount (MAD) rather than a count.
pub fn is_amount(measure: TargetMeasure) -> bool {
    matches!(
        measure,
        TargetMeasure::DisbursedAmount | TargetMeasure::OutstandingAmount | TargetMeasure::RepaymentsCollected
    )
}

/// Replaces every target of `association` for `year` with `targets`, after checking each (the first problem found is
/// answered, naming the target by its position from 1 and its field); audited. Returns how many were stored.
pub async fn set(
    db: &sea_orm::DatabaseConnection,
    actor: &Scope,
    association_code: &str,
    year: i32,
    targets: Vec<NewTarget>,
) -> ApiResult<usize> {
    let owner =
        crate::store::by_code::<association::Entity, _>(db, association::Column::Code, "association", association_code)
            .await?;
    actor.may_report_for(owner.id)?;
    let first = crate::period::FIRST_REPORTABLE.year();
    if !(first..=first + 100).contains(&year) {
        return Err(ApiError::bad_input(format!(
            "targets are set for years from {first}: {year} is not one"
        )));
    }
    if targets.len() > MAX_TARGETS {
        return Err(ApiError::bad_input(format!(
            "{} targets are more than one year may have ({MAX_TARGETS}): send each month, measure, region and \
             activity once",
            targets.len()
        )));
    }
    let regions: HashMap<String, i32> = region::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.code, r.id))
        .collect();
    let mut seen = BTreeSet::new();
    let mut rows = Vec::with_capacity(targets.len());
    for (i, t) in targets.iter().enumerate() {
        let at = |field: &str, why: String| ApiError::bad_input(format!("targets[{}].{field}: {why}", i + 1));
        if !(1..=12).contains(&t.month) {
            return Err(at("month", format!("{} is not a month of the year (1 to 12)", t.month)));
        }
        let region_id = match &t.region {
            None => None,
            Some(code) => Some(
                *regions
                    .get(code)
                    .ok_or_else(|| at("region", format!("`{code}` is not a region code (MA-01 to MA-12)")))?,
            ),
        };
        if !seen.insert((t.month, t.measure, region_id, t.activity)) {
            return Err(at(
                "month",
                format!(
                    "a second target for {year}-{:02}, {}, {} and {}: send each once",
                    t.month,
                    t.measure.as_str(),
                    t.region.as_deref().unwrap_or("all regions"),
                    t.activity.map_or("all activities", |a| a.as_str())
                ),
            ));
        }
        rows.push(target::ActiveModel {
            id: NotSet,
            association_id: Set(owner.id),
            period: Set(year * 100 + t.month),
            measure: Set(t.measure),
            value: Set(t.value),
            region_id: Set(region_id),
            activity: Set(t.activity),
        });
    }
    let count = rows.len();
    let txn = crate::db::begin_write(db).await?;
    target::Entity::delete_many()
        .filter(target::Column::AssociationId.eq(owner.id))
        .filter(target::Column::Period.between(year * 100 + 1, year * 100 + 12))
        .exec(&*txn)
        .await?;
    for chunk in rows.chunks(500) {
        target::Entity::insert_many(chunk.to_vec()).exec(&*txn).await?;
    }
    crate::audit::record(
        &*txn,
        actor,
        "targets.set",
        "association",
        association_code,
        serde_json::json!({ "year": year, "targets": count }),
    )
    .await?;
    txn.commit().await?;
    Ok(count)
}
