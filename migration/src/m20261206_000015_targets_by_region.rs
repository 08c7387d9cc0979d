//! Targets by region and economic activity, and for repayments collected. A target row is an association's monthly
//! objective for one measure: over all its regions and activities (region and activity null), for one region, for
//! one activity, or for one region and activity. The table is rebuilt (a column's list of values is a check
//! constraint, which SQLite cannot alter), its rows kept.

use crate::ddl::*;
use crate::m20261206_000014_create_activity_stat::ACTIVITIES;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000015_targets_by_region"
    }
}

fn target(measures: &[&'static str], by_region: bool) -> TableCreateStatement {
    let mut table = Table::create();
    table
        .table("target")
        .col(pk64("id"))
        .col(int("association_id"))
        .col(period("period"))
        .col(one_of("measure", measures))
        .col(amount("value"))
        .foreign_key(&mut fk("target", "association_id", "association"));
    if by_region {
        let mut activity = ColumnDef::new("activity");
        activity
            .string_len(32)
            .null()
            .check(Expr::col("activity").is_in(ACTIVITIES.iter().copied()));
        table
            .col(int_null("region_id"))
            .col(activity)
            .foreign_key(&mut fk("target", "region_id", "region"));
    }
    table.take()
}

const BEFORE: &[&str] = &[
    "NEW_CLIENTS",
    "DISBURSED_COUNT",
    "DISBURSED_AMOUNT",
    "OUTSTANDING_AMOUNT",
];
const AFTER: &[&str] = &[
    "NEW_CLIENTS",
    "DISBURSED_COUNT",
    "DISBURSED_AMOUNT",
    "OUTSTANDING_AMOUNT",
    "REPAYMENTS_COLLECTED",
];

/// Rebuilds `target` as `table`, keeping the rows' association, month, measure and value: one script, run on one
/// connection in order (a pooled SQLite connection could otherwise still see the table being replaced).
async fn rebuild(manager: &SchemaManager<'_>, table: TableCreateStatement, unique_key: &str) -> Result<(), DbErr> {
    let backend = manager.get_database_backend();
    let script = [
        "CREATE TABLE target_kept AS SELECT association_id, period, measure, value FROM target".to_owned(),
        "DROP TABLE target".to_owned(),
        backend.build(&table).to_string(),
        format!("CREATE UNIQUE INDEX ux_target_key ON target ({unique_key})"),
        backend.build(&index("target", &["period"])).to_string(),
        "INSERT INTO target (association_id, period, measure, value) \
         SELECT association_id, period, measure, value FROM target_kept"
            .to_owned(),
        "DROP TABLE target_kept".to_owned(),
    ];
    manager.get_connection().execute_unprepared(&script.join(";\n")).await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One objective per association, month, measure, region and activity (null region or activity: all).
        rebuild(
            manager,
            target(AFTER, true),
            "association_id, period, measure, COALESCE(region_id, 0), COALESCE(activity, '')",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Only the objectives over all regions and activities, of the measures the table had, can go back.
        manager
            .get_connection()
            .execute_unprepared(
                "DELETE FROM target WHERE region_id IS NOT NULL OR activity IS NOT NULL \
                 OR measure = 'REPAYMENTS_COLLECTED'",
            )
            .await?;
        rebuild(manager, target(BEFORE, false), "association_id, period, measure").await
    }
}
