//! The associations' quarterly financial statements: the submissions (kept in full, revised like monthly reports), the
//! accepted lines of each association-quarter (`fin_stat`: one row per line of the chart of accounts) and the lines
//! each revision replaced (`fin_stat_revision`), the quarters released to partners (`quarter_release`), and the
//! observatory's reference series (inflation, the market rate of funds) with their source and vintage, seeded with
//! 2019 and 2020: inflation 0.2 % and 0.7 % (HCP), the banks' average lending rate 4.99 % and 4.53 % (Bank
//! Al-Maghrib), the shadow price of subsidised funding.
//!
//! A quarter is written as its last month (`yyyymm`: 2020-Q4 is 202012), so that the monthly rows' access rules
//! read it as they read a month.

use crate::ddl::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000017_create_statements"
    }
}

/// A quarter, written as its last month: `yyyymm` with the month 3, 6, 9 or 12.
fn quarter(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .integer()
        .not_null()
        .check(
            Expr::col(name)
                .between(190003, 299912)
                .and(Expr::col(name).modulo(100).is_in([3, 6, 9, 12])),
        )
        .take()
}

/// A line of the chart of accounts: upper-case letters and underscores.
fn line(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).string_len(64).not_null().take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let submission = Table::create()
            .table("statement_submission")
            .col(pk64("id"))
            .col(int("association_id"))
            .col(quarter("period"))
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
            .col(ColumnDef::new("idempotency_key").string_len(128).null())
            .col(ColumnDef::new("on_behalf").boolean().not_null().default(false))
            .foreign_key(&mut fk("statement_submission", "association_id", "association"))
            .foreign_key(&mut fk("statement_submission", "submitted_by", "partner"))
            .take();
        let lines = Table::create()
            .table("fin_stat")
            .col(int("association_id"))
            .col(quarter("period"))
            .col(line("line"))
            .col(ColumnDef::new("value").big_integer().not_null())
            .primary_key(Index::create().col("association_id").col("period").col("line"))
            .foreign_key(&mut fk("fin_stat", "association_id", "association"))
            .take();
        let revisions = Table::create()
            .table("fin_stat_revision")
            .col(pk64("id"))
            .col(ColumnDef::new("submission_id").big_integer().not_null())
            .col(int("association_id"))
            .col(quarter("period"))
            .col(line("line"))
            .col(ColumnDef::new("value").big_integer().not_null())
            .take();
        let release = Table::create()
            .table("quarter_release")
            .col(pk("id"))
            .col(quarter("period"))
            .col(timestamp("released_at"))
            .col(int_null("released_by"))
            .col(text("note"))
            .foreign_key(&mut fk("quarter_release", "released_by", "partner"))
            .take();
        let series = Table::create()
            .table("reference_series")
            .col(pk("id"))
            .col(line("code"))
            .col(int("year"))
            .col(ColumnDef::new("value").double().not_null())
            .col(text("source"))
            .col(date("vintage"))
            .take();
        let mut seed = Query::insert()
            .into_table("reference_series")
            .columns(["code", "year", "value", "source", "vintage"])
            .to_owned();
        let inflation =
            "Haut-Commissariat au Plan: indice des prix à la consommation, variation de la moyenne annuelle";
        let rate = "Bank Al-Maghrib, enquête trimestrielle sur les taux débiteurs: taux débiteur global moyen de l'année \
                    (2020: 4.53 %, 46 points de base sous 2019)";
        for (code, year, value, source) in [
            ("INFLATION", 2019, 0.002, inflation),
            ("INFLATION", 2020, 0.007, inflation),
            ("MARKET_RATE_FUNDS", 2019, 0.0499, rate),
            ("MARKET_RATE_FUNDS", 2020, 0.0453, rate),
        ] {
            seed.values_panic([
                code.into(),
                year.into(),
                value.into(),
                source.into(),
                sea_orm_migration::sea_orm::prelude::Date::from_ymd_opt(2026, 12, 6)
                    .expect("a date")
                    .into(),
            ]);
        }
        create(
            manager,
            vec![submission, lines, revisions, release, series],
            vec![
                unique("statement_submission", &["association_id", "period", "revision"]),
                unique("statement_submission", &["association_id", "idempotency_key"]),
                index("fin_stat", &["period"]),
                index("fin_stat_revision", &["association_id", "period"]),
                unique("quarter_release", &["period"]),
                unique("reference_series", &["code", "year"]),
            ],
        )
        .await?;
        manager.exec_stmt(seed).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(
            manager,
            &[
                "reference_series",
                "quarter_release",
                "fin_stat_revision",
                "fin_stat",
                "statement_submission",
            ],
        )
        .await
    }
}
