//! The client and loan statistics' cell key leads with the association and the month, so that one
//! association-month's rows (what a report replaces, and what its rollup update reads) are found from the key
//! alone, whatever the number of months and associations stored. Same columns, same uniqueness, in the order
//! association, month, region, segment, gender, area.

use crate::ddl::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000010_cell_key_by_association_month"
    }
}

const TABLES: &[&str] = &["client_stat", "loan_stat"];
const BEFORE: &[&str] = &["association_id", "region_id", "period", "segment", "gender", "area"];
const AFTER: &[&str] = &["association_id", "period", "region_id", "segment", "gender", "area"];

/// Creates the key in the order `to`, then drops the one in the order `from`: the cells stay unique throughout.
async fn rekey(manager: &SchemaManager<'_>, from: &[&'static str], to: &[&'static str]) -> Result<(), DbErr> {
    for table in TABLES {
        manager.create_index(unique(table, to)).await?;
        let old = unique(table, from);
        let name = old.get_index_spec().get_name().expect("a named index").to_owned();
        manager
            .drop_index(Index::drop().name(name).table(*table).to_owned())
            .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rekey(manager, BEFORE, AFTER).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rekey(manager, AFTER, BEFORE).await
    }
}
