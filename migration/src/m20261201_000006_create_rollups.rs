//! Pre-aggregated rollups of the client and loan statistics: per region
//! (summed over associations, with the number of associations summed) and per
//! association (summed over regions), each still by month, segment, gender and
//! area; and association totals per month (summed over every cell, with the
//! women and rural clients kept apart). The API keeps them exact inside the
//! same write transaction as the facts.

use crate::ddl::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000006_create_rollups"
    }
}

const CLIENT_MEASURES: &[&str] = &["active_clients", "new_clients"];
const LOAN_MEASURES: &[&str] = &[
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
];

/// Association totals per month: (table, measures).
const TOTALS: &[(&str, &[&str])] = &[
    ("client_stat_association_total", CLIENT_MEASURES),
    ("loan_stat_association_total", LOAN_MEASURES),
];

/// (rollup table, key column, parent table, measures)
const ROLLUPS: &[(&str, &str, &str, &[&str])] = &[
    ("client_stat_by_region", "region_id", "region", CLIENT_MEASURES),
    (
        "client_stat_by_association",
        "association_id",
        "association",
        CLIENT_MEASURES,
    ),
    ("loan_stat_by_region", "region_id", "region", LOAN_MEASURES),
    (
        "loan_stat_by_association",
        "association_id",
        "association",
        LOAN_MEASURES,
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut tables = Vec::new();
        let mut indexes = Vec::new();
        for (name, key, parent, measures) in ROLLUPS {
            let mut table = Table::create();
            table
                .table(*name)
                .col(pk64("id"))
                .col(int(key))
                .col(period("period"))
                .col(one_of("segment", SEGMENTS))
                .col(one_of("gender", GENDERS))
                .col(one_of("area", AREAS));
            for measure in measures.iter() {
                table.col(amount(measure));
            }
            if *key == "region_id" {
                // Number of associations summed into the cell, for small-group suppression.
                table.col(amount("contributors"));
            }
            table.foreign_key(&mut fk(name, key, parent));
            tables.push(table.take());
            indexes.push(unique(name, &[key, "period", "segment", "gender", "area"]));
            indexes.push(index(name, &["period"]));
        }
        for (name, measures) in TOTALS {
            let mut table = Table::create();
            table
                .table(*name)
                .col(pk64("id"))
                .col(int("association_id"))
                .col(period("period"));
            for measure in measures.iter() {
                table.col(amount(measure));
            }
            if *name == "client_stat_association_total" {
                // Null where the association reported no women (no rural) clients, as a sum over no rows is.
                table.col(
                    ColumnDef::new("active_female")
                        .big_integer()
                        .null()
                        .check(Expr::col("active_female").gte(0)),
                );
                table.col(
                    ColumnDef::new("active_rural")
                        .big_integer()
                        .null()
                        .check(Expr::col("active_rural").gte(0)),
                );
            }
            table.foreign_key(&mut fk(name, "association_id", "association"));
            tables.push(table.take());
            indexes.push(unique(name, &["period", "association_id"]));
        }
        create(manager, tables, indexes).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut names: Vec<&'static str> = TOTALS.iter().rev().map(|(name, _)| *name).collect();
        names.extend(ROLLUPS.iter().rev().map(|(name, ..)| *name));
        drop(manager, &names).await
    }
}
