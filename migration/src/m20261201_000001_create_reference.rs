//! Regions, associations and the branch registry.

use crate::ddl::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000001_create_reference"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let region = Table::create()
            .table("region")
            .col(pk("id"))
            .col(code("code"))
            .col(text("name_fr"))
            .col(text("name_ar"))
            .col(text("name_en"))
            .take();
        let association = Table::create()
            .table("association")
            .col(pk("id"))
            .col(code("code"))
            .col(text("name_fr"))
            .col(text("name_ar"))
            .col(
                ColumnDef::new("founded_year")
                    .integer()
                    .not_null()
                    .check(Expr::col("founded_year").between(1900, 2100)),
            )
            .col(one_of("status", &["ACTIVE", "MERGED", "CLOSED"]))
            .col(text("head_office_city"))
            .take();
        let branch = Table::create()
            .table("branch")
            .col(pk("id"))
            .col(code("code"))
            .col(int("association_id"))
            .col(int("region_id"))
            .col(text("name"))
            .col(one_of("kind", &["AGENCY", "MOBILE"]))
            .col(one_of("area", AREAS))
            .col(text("city"))
            .col(
                ColumnDef::new("latitude")
                    .double()
                    .not_null()
                    .check(Expr::col("latitude").between(-90, 90)),
            )
            .col(
                ColumnDef::new("longitude")
                    .double()
                    .not_null()
                    .check(Expr::col("longitude").between(-180, 180)),
            )
            .col(date("opened_on"))
            .col(date_null("closed_on"))
            .check(
                Expr::col("closed_on")
                    .is_null()
                    .or(Expr::col("closed_on").gte(Expr::col("opened_on"))),
            )
            .foreign_key(&mut fk("branch", "association_id", "association"))
            .foreign_key(&mut fk("branch", "region_id", "region"))
            .take();
        create(
            manager,
            vec![region, association, branch],
            vec![
                index("branch", &["association_id", "id"]),
                index("branch", &["region_id", "id"]),
                index("branch", &["kind", "area"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, &["branch", "association", "region"]).await
    }
}
