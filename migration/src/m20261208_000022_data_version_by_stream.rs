//! The data's version kept per stream of writes: one row per stream (reports of one month, statements of one quarter,
//! keys, releases, ...), which its writes increase. The version is the sum of the rows, so it still moves with every
//! write, and writes of different streams no longer wait on one row. The old one-row counter is carried over as the
//! stream `all`, so that the version keeps growing from where it was (entity tags already given stay unique).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_000022_data_version_by_stream"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("data_stream")
                    .col(ColumnDef::new("stream").string_len(64).not_null().primary_key())
                    .col(ColumnDef::new("version").big_integer().not_null())
                    .take(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared("INSERT INTO data_stream (stream, version) SELECT 'all', version FROM data_version")
            .await?;
        manager.drop_table(Table::drop().table("data_version").take()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("data_version")
                    .col(ColumnDef::new("id").integer().not_null().primary_key())
                    .col(ColumnDef::new("version").big_integer().not_null())
                    .take(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO data_version (id, version) SELECT 1, COALESCE(SUM(version), 0) + 1 FROM data_stream",
            )
            .await?;
        manager.drop_table(Table::drop().table("data_stream").take()).await
    }
}
