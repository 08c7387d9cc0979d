//! Loans by the economic activity they finance: one row per association, region, month and activity (a leaf code of
//! the `ACTIVITY` list), filled by the `activities` table of a monthly report and reconciled with its loans table
//! region by region. Superseded rows move to `activity_stat_revision`, as the other facts' do.

use crate::ddl::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000014_create_activity_stat"
    }
}

/// The activities reported (leaf codes of the list; the groups above them are sums).
pub(crate) const ACTIVITIES: &[&str] = &[
    "AGRICULTURE",
    "LIVESTOCK",
    "COMMERCE",
    "CRAFTS",
    "PRODUCTION",
    "SERVICES",
    "OTHER_IGA",
    "HOUSING",
    "UTILITIES_CONNECTION",
    "UNSPECIFIED",
];

const MEASURES: &[&str] = &[
    "disbursed_count",
    "disbursed_amount",
    "active_loans",
    "outstanding_amount",
    "par30_amount",
    "repayments_due",
    "repayments_collected",
];

fn columns(table: &mut TableCreateStatement) {
    table
        .col(int("association_id"))
        .col(int("region_id"))
        .col(period("period"))
        .col(one_of("activity", ACTIVITIES));
    for measure in MEASURES {
        table.col(amount(measure));
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut facts = Table::create();
        facts.table("activity_stat").col(pk64("id"));
        columns(&mut facts);
        facts
            .check(Expr::col("par30_amount").lte(Expr::col("outstanding_amount")))
            .foreign_key(&mut fk("activity_stat", "association_id", "association"))
            .foreign_key(&mut fk("activity_stat", "region_id", "region"));
        let mut revisions = Table::create();
        revisions
            .table("activity_stat_revision")
            .col(ColumnDef::new("id").big_integer().not_null().primary_key())
            .col(ColumnDef::new("submission_id").big_integer().not_null());
        columns(&mut revisions);
        let indexes = vec![
            unique("activity_stat", &["association_id", "period", "region_id", "activity"]),
            index("activity_stat", &["period"]),
            index("activity_stat_revision", &["association_id", "period", "submission_id"]),
        ];
        create(manager, vec![facts.take(), revisions.take()], indexes).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, &["activity_stat_revision", "activity_stat"]).await
    }
}
