//! Where each key last wrote: the primary's WAL position after its last write, so that its reads go to a read replica
//! only once the replica has replayed that far (read replicas are PostgreSQL's; the table stays empty on SQLite).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_000023_create_caller_write"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("caller_write")
                    .col(ColumnDef::new("key_prefix").string_len(32).not_null().primary_key())
                    .col(ColumnDef::new("position").big_integer().not_null())
                    .col(ColumnDef::new("written_at").timestamp_with_time_zone().not_null())
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("caller_write").take()).await
    }
}
