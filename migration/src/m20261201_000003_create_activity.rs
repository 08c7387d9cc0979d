//! The centre's own activity: programmes, their outcomes, training actions.

use crate::ddl::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000003_create_activity"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let programme = Table::create()
            .table("programme")
            .col(pk("id"))
            .col(code("code"))
            .col(text("name_fr"))
            .col(text("name_ar"))
            .col(text("name_en"))
            .col(text("funder"))
            .col(text("partners"))
            .col(
                ColumnDef::new("edition")
                    .integer()
                    .null()
                    .check(Expr::col("edition").gte(1)),
            )
            .col(
                ColumnDef::new("year")
                    .integer()
                    .not_null()
                    .check(Expr::col("year").between(1900, 2100)),
            )
            .col(
                ColumnDef::new("candidates")
                    .integer()
                    .null()
                    .check(Expr::col("candidates").gte(0)),
            )
            .col(text("description"))
            .take();
        let outcome = Table::create()
            .table("programme_outcome")
            .col(pk("id"))
            .col(int("programme_id"))
            .col(one_of(
                "sector",
                &[
                    "AGRICULTURE_LIVESTOCK",
                    "AGRIFOOD",
                    "ARTS_CRAFTS",
                    "HAIRDRESSING_BEAUTY",
                    "LOGISTICS_TRANSPORT",
                    "LEISURE",
                    "EDUCATION_EARLY_CHILDHOOD",
                    "MECHANICS",
                    "HEALTH",
                    "OTHER",
                    "UNSPECIFIED",
                ],
            ))
            .col(one_of("gender", &["FEMALE", "MALE", "UNSPECIFIED"]))
            .col(int_null("region_id"))
            .col(count("beneficiaries"))
            .col(amount("grant_amount"))
            .foreign_key(&mut fk("programme_outcome", "programme_id", "programme"))
            .foreign_key(&mut fk("programme_outcome", "region_id", "region"))
            .take();
        let training = Table::create()
            .table("training_action")
            .col(pk("id"))
            .col(code("code"))
            .col(one_of(
                "format",
                &[
                    "CERTIFIED_TRAINING",
                    "PLANNED_STAFF_TRAINING",
                    "MICRO_ENTREPRENEUR_TRAINING",
                    "TRAINING_ENGINEERING",
                    "LOGISTICAL_SUPPORT",
                    "ELEARNING_ASSOCIATION_STAFF",
                    "ELEARNING_OTHER",
                ],
            ))
            .col(one_of(
                "audience",
                &[
                    "ASSOCIATION_MANAGEMENT",
                    "ASSOCIATION_STAFF",
                    "CENTRE_STAFF",
                    "MICRO_ENTREPRENEURS",
                    "OTHER",
                ],
            ))
            .col(text("topic"))
            .col(one_of("delivery", &["ON_SITE", "REMOTE", "BLENDED"]))
            .col(date("starts_on"))
            .col(date("ends_on"))
            .col(int_null("programme_id"))
            .col(int_null("region_id"))
            .col(count("training_days"))
            .col(count("participants"))
            .col(count("person_days"))
            .check(Expr::col("ends_on").gte(Expr::col("starts_on")))
            .foreign_key(&mut fk("training_action", "programme_id", "programme"))
            .foreign_key(&mut fk("training_action", "region_id", "region"))
            .take();
        create(
            manager,
            vec![programme, outcome, training],
            vec![
                unique("programme_outcome", &["programme_id", "sector", "gender", "region_id"]),
                index("programme", &["year"]),
                index("training_action", &["starts_on"]),
                index("training_action", &["programme_id", "id"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, &["training_action", "programme_outcome", "programme"]).await
    }
}
