//! Superseded figures: when a report replaces an association-month's client, loan or staff rows, the rows it
//! replaces move here with the submission they came from (0 for figures loaded without a submission), so that the
//! data can be read as it stood at any earlier time. Rows keep the id they had in the fact table.

use crate::ddl::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000009_create_revisions"
    }
}

/// A superseded row: the fact table's id (not generated here) and the submission whose figures it was.
fn revision_table(name: &'static str) -> TableCreateStatement {
    let mut table = Table::create();
    table
        .table(name)
        .col(ColumnDef::new("id").big_integer().not_null().primary_key())
        .col(ColumnDef::new("submission_id").big_integer().not_null())
        .col(int("association_id"))
        .col(period("period"));
    table.take()
}

fn cell_revisions(name: &'static str, measures: &[&'static str]) -> TableCreateStatement {
    let mut table = revision_table(name);
    table
        .col(int("region_id"))
        .col(one_of("segment", SEGMENTS))
        .col(one_of("gender", GENDERS))
        .col(one_of("area", AREAS));
    for measure in measures {
        table.col(amount(measure));
    }
    table.take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let clients = cell_revisions("client_stat_revision", &["active_clients", "new_clients"]);
        let loans = cell_revisions(
            "loan_stat_revision",
            &[
                "disbursed_count",
                "disbursed_amount",
                "active_loans",
                "outstanding_amount",
                "par30_amount",
                "par90_amount",
                "write_off_amount",
                "rescheduled_amount",
                "repayments_due",
                "repayments_collected",
            ],
        );
        let mut staff = revision_table("staff_stat_revision");
        staff
            .col(one_of("category", &["NETWORK", "HEAD_OFFICE", "UNSPECIFIED"]))
            .col(one_of("gender", GENDERS))
            .col(amount("headcount"));
        let indexes = ["client_stat_revision", "loan_stat_revision", "staff_stat_revision"]
            .into_iter()
            .map(|table| index(table, &["association_id", "period", "submission_id"]))
            .collect();
        create(manager, vec![clients, loans, staff.take()], indexes).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(
            manager,
            &["staff_stat_revision", "loan_stat_revision", "client_stat_revision"],
        )
        .await
    }
}
