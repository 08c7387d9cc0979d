//! Alert rules on the quarterly statements' ratios, judged when a quarter is released (and when a statement of a
//! released quarter is revised): an association's operational self-sufficiency below 100 %, and the sector's risk
//! coverage (the impairment allowance over PAR30) below 100 %.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000019_seed_quarterly_alert_rules"
    }
}

const RULES: &[(&str, &str, &str, &str, f64, &str)] = &[
    (
        "OSS_BELOW_100_ASSOCIATION",
        "Operational self-sufficiency below 100 % at an association (a quarter)",
        "operationalSelfSufficiency",
        "ASSOCIATION",
        100.0,
        "WARNING",
    ),
    (
        "RISK_COVERAGE_BELOW_100_SECTOR",
        "Risk coverage (impairment allowance ÷ PAR30) below 100 % in the sector (a quarter)",
        "riskCoverage",
        "SECTOR",
        100.0,
        "WARNING",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
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
        for (code, name, measure, scope, threshold, severity) in RULES {
            seed.values_panic([
                (*code).into(),
                (*name).into(),
                (*measure).into(),
                (*scope).into(),
                "VALUE".into(),
                "BELOW".into(),
                (*threshold).into(),
                (*severity).into(),
                true.into(),
                Expr::current_timestamp(),
            ]);
        }
        manager.exec_stmt(seed).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The rules' alerts, their events and deliveries go with them.
        let codes = RULES
            .iter()
            .map(|r| format!("'{}'", r.0))
            .collect::<Vec<_>>()
            .join(", ");
        let rules = format!("SELECT id FROM alert_rule WHERE code IN ({codes})");
        let alerts = format!("SELECT id FROM alert WHERE rule_id IN ({rules})");
        let events = format!("SELECT id FROM alert_event WHERE alert_id IN ({alerts})");
        let deliveries = format!("SELECT id FROM webhook_delivery WHERE event_id IN ({events})");
        let db = manager.get_connection();
        for sql in [
            format!("DELETE FROM webhook_attempt WHERE delivery_id IN ({deliveries})"),
            format!("DELETE FROM webhook_delivery WHERE event_id IN ({events})"),
            format!("DELETE FROM alert_event WHERE alert_id IN ({alerts})"),
            format!("DELETE FROM alert WHERE rule_id IN ({rules})"),
            format!("DELETE FROM alert_rule WHERE code IN ({codes})"),
        ] {
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
