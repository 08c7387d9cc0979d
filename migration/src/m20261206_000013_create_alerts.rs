//! Early warning: alert rules (seeded with the sector's usual warning signs), the alerts they raise, the events of
//! those alerts (the outbox both deliveries read), the partners' webhooks and each delivery with its attempts.

use crate::ddl::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000013_create_alerts"
    }
}

const SCOPES: &[&str] = &["SECTOR", "REGION", "ASSOCIATION", "SEGMENT"];
const COMPARISONS: &[&str] = &["VALUE", "PREVIOUS_PERIOD_CHANGE", "SAME_PERIOD_PREVIOUS_YEAR_CHANGE"];

fn real(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).double().not_null().take()
}

fn flag(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).boolean().not_null().take()
}

/// A seeded rule: code, name, measure, scope, comparison, direction, threshold, severity.
type SeededRule = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    f64,
    &'static str,
);

/// The rules every installation starts with.
const DEFAULT_RULES: &[SeededRule] = &[
    (
        "PAR30_ABOVE_5_REGION",
        "PAR30 rate above 5 % in a region",
        "par30Rate",
        "REGION",
        "VALUE",
        "ABOVE",
        5.0,
        "WARNING",
    ),
    (
        "PAR30_ABOVE_5_ASSOCIATION",
        "PAR30 rate above 5 % at an association",
        "par30Rate",
        "ASSOCIATION",
        "VALUE",
        "ABOVE",
        5.0,
        "WARNING",
    ),
    (
        "COLLECTION_BELOW_90_REGION",
        "Collection rate below 90 % in a region",
        "collectionRate",
        "REGION",
        "VALUE",
        "BELOW",
        90.0,
        "CRITICAL",
    ),
    (
        "DISBURSEMENTS_DOWN_20_YOY",
        "Amount disbursed down 20 % on the same month a year before, sector-wide",
        "disbursedAmount",
        "SECTOR",
        "SAME_PERIOD_PREVIOUS_YEAR_CHANGE",
        "BELOW",
        -20.0,
        "WARNING",
    ),
    (
        "REPORT_LATE",
        "Monthly report missing after its deadline",
        "reportLateness",
        "ASSOCIATION",
        "VALUE",
        "ABOVE",
        0.0,
        "INFO",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let rule = Table::create()
            .table("alert_rule")
            .col(pk("id"))
            .col(code("code"))
            .col(text("name"))
            .col(ColumnDef::new("measure").string_len(64).not_null())
            .col(one_of("scope", SCOPES))
            .col(ColumnDef::new("scope_code").string_len(64).null())
            .col(one_of("comparison", COMPARISONS))
            .col(one_of("direction", &["ABOVE", "BELOW"]))
            .col(real("threshold"))
            .col(one_of("severity", &["INFO", "WARNING", "CRITICAL"]))
            .col(flag("active"))
            .col(timestamp("created_at"))
            .take();
        let alert = Table::create()
            .table("alert")
            .col(pk64("id"))
            .col(int("rule_id"))
            .col(ColumnDef::new("group_key").string_len(128).not_null())
            .col(one_of("scope", SCOPES))
            .col(int_null("association_id"))
            .col(int_null("region_id"))
            .col(ColumnDef::new("segment").string_len(32).null())
            .col(period("period"))
            .col(one_of("status", &["OPEN", "RESOLVED"]))
            .col(ColumnDef::new("value").double().null())
            .col(real("threshold"))
            .col(flag("public"))
            .col(timestamp("raised_at"))
            .col(timestamp_null("resolved_at"))
            .col(timestamp("updated_at"))
            .foreign_key(&mut fk("alert", "rule_id", "alert_rule"))
            .foreign_key(&mut fk("alert", "association_id", "association"))
            .foreign_key(&mut fk("alert", "region_id", "region"))
            .take();
        let event = Table::create()
            .table("alert_event")
            .col(pk64("id"))
            .col(ColumnDef::new("uid").string_len(64).not_null().unique_key())
            .col(ColumnDef::new("alert_id").big_integer().not_null())
            .col(one_of("kind", &["ALERT_RAISED", "ALERT_RESOLVED"]))
            .col(timestamp("occurred_at"))
            .col(ColumnDef::new("payload").text().not_null())
            .foreign_key(&mut fk("alert_event", "alert_id", "alert"))
            .take();
        let webhook = Table::create()
            .table("webhook")
            .col(pk("id"))
            .col(int("partner_id"))
            .col(text("url"))
            .col(text("events"))
            .col(text("secret"))
            .col(flag("active"))
            .col(timestamp("created_at"))
            .foreign_key(&mut fk("webhook", "partner_id", "partner"))
            .take();
        let delivery = Table::create()
            .table("webhook_delivery")
            .col(pk64("id"))
            .col(int("webhook_id"))
            .col(ColumnDef::new("event_id").big_integer().not_null())
            .col(one_of("status", &["PENDING", "DELIVERED", "FAILED"]))
            .col(count("attempts"))
            .col(timestamp("next_attempt_at"))
            .col(timestamp_null("delivered_at"))
            .foreign_key(&mut fk("webhook_delivery", "webhook_id", "webhook"))
            .foreign_key(&mut fk("webhook_delivery", "event_id", "alert_event"))
            .take();
        let attempt = Table::create()
            .table("webhook_attempt")
            .col(pk64("id"))
            .col(ColumnDef::new("delivery_id").big_integer().not_null())
            .col(timestamp("attempted_at"))
            .col(int_null("status_code"))
            .col(ColumnDef::new("error").text().null())
            .col(int("duration_ms"))
            .foreign_key(&mut fk("webhook_attempt", "delivery_id", "webhook_delivery"))
            .take();
        for table in [rule, alert, event, webhook, delivery, attempt] {
            manager.create_table(table).await?;
        }
        let indexes = [
            ("alert_once", "alert", &["rule_id", "group_key", "period"][..], true),
            ("alert_by_period", "alert", &["period"][..], false),
            (
                "webhook_delivery_once",
                "webhook_delivery",
                &["webhook_id", "event_id"][..],
                true,
            ),
            (
                "webhook_delivery_due",
                "webhook_delivery",
                &["status", "next_attempt_at"][..],
                false,
            ),
            (
                "webhook_attempt_by_delivery",
                "webhook_attempt",
                &["delivery_id"][..],
                false,
            ),
            ("alert_event_by_alert", "alert_event", &["alert_id"][..], false),
        ];
        for (name, table, columns, unique) in indexes {
            let mut index = Index::create().name(name).table(table).to_owned();
            for column in columns {
                index.col(*column);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index).await?;
        }
        let mut seed = Query::insert()
            .into_table("alert_rule")
            .columns([
                "code",
                "name",
                "measure",
                "scope",
                "comparison",
                "direction",
                "threshold",
                "severity",
                "active",
                "created_at",
            ])
            .to_owned();
        for (code, name, measure, scope, comparison, direction, threshold, severity) in DEFAULT_RULES {
            seed.values_panic([
                (*code).into(),
                (*name).into(),
                (*measure).into(),
                (*scope).into(),
                (*comparison).into(),
                (*direction).into(),
                (*threshold).into(),
                (*severity).into(),
                true.into(),
                Expr::current_timestamp(),
            ]);
        }
        manager.exec_stmt(seed).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "webhook_attempt",
            "webhook_delivery",
            "webhook",
            "alert_event",
            "alert",
            "alert_rule",
        ] {
            manager.drop_table(Table::drop().table(table).take()).await?;
        }
        Ok(())
    }
}
