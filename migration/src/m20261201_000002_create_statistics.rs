//! Monthly reported statistics (clients, loans, staff) and targets.

use crate::ddl::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000002_create_statistics"
    }
}

/// The dimension columns and keys shared by the two cell-level fact tables.
fn cell_table(name: &'static str, measures: &[&'static str]) -> TableCreateStatement {
    let mut table = Table::create();
    table
        .table(name)
        .col(pk64("id"))
        .col(int("association_id"))
        .col(int("region_id"))
        .col(period("period"))
        .col(one_of("segment", SEGMENTS))
        .col(one_of("gender", GENDERS))
        .col(one_of("area", AREAS));
    for measure in measures {
        table.col(amount(measure));
    }
    table
        .foreign_key(&mut fk(name, "association_id", "association"))
        .foreign_key(&mut fk(name, "region_id", "region"))
        .take()
}

fn cell_indexes(name: &'static str) -> Vec<IndexCreateStatement> {
    vec![
        unique(
            name,
            &["association_id", "region_id", "period", "segment", "gender", "area"],
        ),
        index(name, &["period"]),
        index(name, &["region_id", "period"]),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let client_stat = cell_table("client_stat", &["active_clients", "new_clients"]);
        let mut loan_stat = cell_table(
            "loan_stat",
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
        loan_stat
            .check(Expr::col("par30_amount").lte(Expr::col("outstanding_amount")))
            .check(Expr::col("par90_amount").lte(Expr::col("par30_amount")));
        let staff_stat = Table::create()
            .table("staff_stat")
            .col(pk64("id"))
            .col(int("association_id"))
            .col(period("period"))
            .col(one_of("category", &["NETWORK", "HEAD_OFFICE", "UNSPECIFIED"]))
            .col(one_of("gender", GENDERS))
            .col(amount("headcount"))
            .foreign_key(&mut fk("staff_stat", "association_id", "association"))
            .take();
        let target = Table::create()
            .table("target")
            .col(pk64("id"))
            .col(int("association_id"))
            .col(period("period"))
            .col(one_of(
                "measure",
                &[
                    "NEW_CLIENTS",
                    "DISBURSED_COUNT",
                    "DISBURSED_AMOUNT",
                    "OUTSTANDING_AMOUNT",
                ],
            ))
            .col(amount("value"))
            .foreign_key(&mut fk("target", "association_id", "association"))
            .take();
        let mut indexes = cell_indexes("client_stat");
        indexes.extend(cell_indexes("loan_stat"));
        indexes.push(unique(
            "staff_stat",
            &["association_id", "period", "category", "gender"],
        ));
        indexes.push(index("staff_stat", &["period"]));
        indexes.push(unique("target", &["association_id", "period", "measure"]));
        indexes.push(index("target", &["period"]));
        create(manager, vec![client_stat, loan_stat, staff_stat, target], indexes).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, &["target", "staff_stat", "loan_stat", "client_stat"]).await
    }
}
