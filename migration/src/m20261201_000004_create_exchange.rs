//! Exchange and access: partners, API keys, releases, submissions, audit trail.

use crate::ddl::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000004_create_exchange"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let partner = Table::create()
            .table("partner")
            .col(pk("id"))
            .col(code("code"))
            .col(text("name"))
            .col(one_of(
                "kind",
                &["MINISTRY", "FUND", "FEDERATION", "ASSOCIATION", "OBSERVATORY", "OTHER"],
            ))
            .col(int_null("association_id"))
            .col(timestamp("created_at"))
            .check(
                Expr::col("kind")
                    .ne("ASSOCIATION")
                    .or(Expr::col("association_id").is_not_null()),
            )
            .foreign_key(&mut fk("partner", "association_id", "association"))
            .take();
        let api_key = Table::create()
            .table("api_key")
            .col(pk("id"))
            .col(int("partner_id"))
            .col(ColumnDef::new("prefix").string_len(32).not_null().unique_key())
            .col(ColumnDef::new("hash").string_len(64).not_null().unique_key())
            .col(text("label"))
            .col(text("scopes"))
            .col(timestamp("created_at"))
            .col(timestamp_null("expires_at"))
            .col(timestamp_null("revoked_at"))
            .col(timestamp_null("last_used_at"))
            .foreign_key(&mut fk("api_key", "partner_id", "partner"))
            .take();
        let release = Table::create()
            .table("release")
            .col(pk("id"))
            .col(period("period").unique_key())
            .col(timestamp("released_at"))
            .col(int_null("released_by"))
            .col(text("note"))
            .foreign_key(&mut fk("release", "released_by", "partner"))
            .take();
        let submission = Table::create()
            .table("submission")
            .col(pk64("id"))
            .col(int("association_id"))
            .col(period("period"))
            .col(
                ColumnDef::new("revision")
                    .integer()
                    .not_null()
                    .check(Expr::col("revision").gte(1)),
            )
            .col(one_of("status", &["RECEIVED", "ACCEPTED", "REJECTED", "SUPERSEDED"]))
            .col(ColumnDef::new("content_hash").string_len(64).not_null())
            .col(int_null("submitted_by"))
            .col(timestamp("received_at"))
            .col(ColumnDef::new("validation_report").text().not_null())
            .col(ColumnDef::new("payload").text().not_null())
            .foreign_key(&mut fk("submission", "association_id", "association"))
            .foreign_key(&mut fk("submission", "submitted_by", "partner"))
            .take();
        let audit = Table::create()
            .table("audit_event")
            .col(pk64("id"))
            .col(timestamp("occurred_at"))
            .col(int_null("actor_partner_id"))
            .col(ColumnDef::new("actor_key_prefix").string_len(32).null())
            .col(text("action"))
            .col(text("target_kind"))
            .col(text("target_code"))
            .col(ColumnDef::new("detail").text().not_null())
            .foreign_key(&mut fk("audit_event", "actor_partner_id", "partner"))
            .take();
        create(
            manager,
            vec![partner, api_key, release, submission, audit],
            vec![
                index("api_key", &["partner_id"]),
                unique("submission", &["association_id", "period", "revision"]),
                index("submission", &["period"]),
                index("audit_event", &["occurred_at"]),
                index("audit_event", &["target_kind", "target_code"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, &["audit_event", "submission", "release", "api_key", "partner"]).await
    }
}
