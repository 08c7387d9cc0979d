//! Persisted documents learnt by any process, shared by all (`persisted_document`): a hash one process learnt runs by
//! hash alone on the others. Not data: nothing is audited and the data's version does not move.

use crate::ddl::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000021_create_persisted_documents"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Table::create()
            .table("persisted_document")
            .col(ColumnDef::new("hash").string_len(64).not_null().primary_key())
            .col(ColumnDef::new("text").text().not_null())
            .col(timestamp("learnt_at"))
            .take();
        create(manager, vec![table], vec![index("persisted_document", &["learnt_at"])]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, &["persisted_document"]).await
    }
}
