//! Submissions remember the `Idempotency-Key` they were sent with: one per association and key, so that a replay
//! finds the first answer.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000007_add_submission_idempotency_key"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("submission")
                    .add_column(ColumnDef::new("idempotency_key").string_len(128).null())
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_submission_association_id_idempotency_key")
                    .table("submission")
                    .col("association_id")
                    .col("idempotency_key")
                    .unique()
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ux_submission_association_id_idempotency_key")
                    .table("submission")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(Table::alter().table("submission").drop_column("idempotency_key").take())
            .await
    }
}
