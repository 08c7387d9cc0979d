//! Reference data: the centre's training totals since it began (2008), as published, one row per year a total is
//! known. The running totals of later years add the training actions recorded since. Seeded with the published end of
//! 2020: 70,995 beneficiaries and 160,979 person-days of training.

use crate::ddl::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000016_create_training_history"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Table::create()
            .table("training_history")
            .col(pk("id"))
            .col(int("year"))
            .col(amount("participants"))
            .col(amount("person_days"))
            .col(text("source"))
            .take();
        create(manager, vec![table], vec![unique("training_history", &["year"])]).await?;
        let insert = Query::insert()
            .into_table("training_history")
            .columns(["year", "participants", "person_days", "source"])
            .values_panic([
                2020.into(),
                70_995.into(),
                160_979.into(),
                "Centre Mohammed VI de Soutien à la Microfinance Solidaire, rapport d'activité 2020: cumul depuis 2008"
                    .into(),
            ])
            .to_owned();
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, &["training_history"]).await
    }
}
