//! Synthetic datasets for benchmarks: a national scale (13 institutions) and a
//! large scale (1,000 institutions), 12 regions, 10 years of months, every
//! cell of the monthly tables filled. Generated inside the database with
//! portable `INSERT ... SELECT` statements (recursive CTEs and `VALUES`), so
//! that tens of millions of rows load in minutes on PostgreSQL.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use std::time::Instant;

/// Size of a benchmark dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scale {
    /// 13 institutions × 12 regions × 10 years.
    National,
    /// 1,000 institutions × 12 regions × 10 years (about 17 million rows per monthly table).
    Large,
}

impl Scale {
    pub fn institutions(self) -> i64 {
        match self {
            Scale::National => 13,
            Scale::Large => 1_000,
        }
    }
}

/// First year of the dataset; it covers ten years up to 2020.
pub const FIRST_YEAR: i32 = 2011;
/// Institutions inserted per statement, so that progress shows and no statement is huge.
const CHUNK: i64 = 50;

const MONTHS_CTE: &str = "WITH RECURSIVE months(m) AS (SELECT 0 UNION ALL SELECT m + 1 FROM months WHERE m < 119)";
const PERIOD: &str = "(2011 + m / 12) * 100 + (m % 12) + 1";
const CELLS: &str = "CROSS JOIN (VALUES ('INDIVIDUAL', 1), ('SOLIDARITY_GROUP', 2), ('VERY_SMALL_ENTERPRISE', 3)) s \
    CROSS JOIN (VALUES ('FEMALE', 1), ('MALE', 2)) g CROSS JOIN (VALUES ('URBAN', 1), ('RURAL', 2)) ar";
/// A deterministic pseudo-random number in 0..1000 per cell.
const HASH: &str = "((CAST(a.id AS BIGINT) * 7919 + r.id * 104729 + m * 31 + s.column2 * 131 + g.column2 * 17 + ar.column2 * 7) % 1000)";

/// True when the database already holds this dataset.
pub async fn present(db: &DatabaseConnection, scale: Scale) -> Result<bool, DbErr> {
    let backend = db.get_database_backend();
    let count = |sql: &str| Statement::from_string(backend, sql.to_owned());
    let institutions = db
        .query_one_raw(count("SELECT COUNT(*) AS n FROM association WHERE code LIKE 'INST%'"))
        .await?
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    let cells = db
        .query_one_raw(count("SELECT COUNT(*) AS n FROM loan_stat WHERE period = 202012"))
        .await?
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    Ok(institutions == scale.institutions() && cells == scale.institutions() * 12 * 12)
}

/// Associations other than the benchmark's own (`INST…` institutions, `RPT…` reporters): their number and one code,
/// when there are any.
pub async fn other_data(db: &DatabaseConnection) -> Result<Option<(i64, String)>, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n, MIN(code) AS example FROM association WHERE code NOT LIKE 'INST%' AND code NOT LIKE \
             'RPT%'",
        ))
        .await?;
    let Some(row) = row else { return Ok(None) };
    let count: i64 = row.try_get("", "n")?;
    let example: Option<String> = row.try_get("", "example")?;
    Ok(example.filter(|_| count > 0).map(|example| (count, example)))
}

/// Replaces every row with the dataset, then rebuilds the rollups and statistics.
pub async fn generate(db: &DatabaseConnection, scale: Scale) -> Result<(), DbErr> {
    let started = Instant::now();
    let backend = db.get_database_backend();
    let txn = crate::db::begin_write(db).await?;
    crate::demo::clear(&txn).await?;
    let n = scale.institutions();
    txn.execute_unprepared(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) \
         INSERT INTO association (code, name_fr, name_ar, founded_year, status, head_office_city) \
         SELECT 'INST' || CAST(10000 + i AS TEXT), 'Institution ' || CAST(i AS TEXT), 'مؤسسة ' || CAST(i AS TEXT), \
         1990 + i % 30, 'ACTIVE', 'Rabat' FROM n"
    ))
    .await?;
    let date = |d: &str| {
        if backend == DbBackend::Postgres {
            format!("CAST('{d}' AS DATE)")
        } else {
            format!("'{d}'")
        }
    };
    let instant = if backend == DbBackend::Postgres {
        "CAST('2021-01-15 00:00:00+00' AS TIMESTAMPTZ)"
    } else {
        "'2021-01-15 00:00:00+00:00'"
    };
    txn.execute_unprepared(&format!(
        "{MONTHS_CTE} INSERT INTO release (period, released_at, note) SELECT {PERIOD}, {instant}, 'benchmark' FROM months"
    ))
    .await?;
    txn.execute_unprepared(&format!(
        "WITH RECURSIVE k(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM k WHERE j < 3) \
         INSERT INTO branch (code, association_id, region_id, name, kind, area, city, latitude, longitude, opened_on) \
         SELECT a.code || '-' || r.code || '-' || CAST(j AS TEXT), a.id, r.id, 'Agence ' || a.code || ' ' || CAST(j AS TEXT), \
         CASE WHEN j = 3 THEN 'MOBILE' ELSE 'AGENCY' END, CASE WHEN (a.id + r.id + j) % 3 = 0 THEN 'RURAL' ELSE 'URBAN' END, \
         r.name_fr, 31.5, -7.5, {} FROM association a CROSS JOIN region r CROSS JOIN k",
        date("2010-01-01")
    ))
    .await?;
    txn.execute_unprepared(&format!(
        "{MONTHS_CTE} INSERT INTO staff_stat (association_id, period, category, gender, headcount) \
         SELECT a.id, {PERIOD}, c.column1, g.column1, 5 + (a.id * 13 + m * 7 + c.column2 * 3 + g.column2) % 40 \
         FROM association a CROSS JOIN months CROSS JOIN (VALUES ('NETWORK', 1), ('HEAD_OFFICE', 2)) c \
         CROSS JOIN (VALUES ('FEMALE', 1), ('MALE', 2)) g"
    ))
    .await?;
    let (first, max_id) = {
        let row = txn
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT MIN(id) AS lo, MAX(id) AS hi FROM association",
            ))
            .await?
            .ok_or_else(|| DbErr::Custom("no institution inserted".into()))?;
        (
            row.try_get::<i32>("", "lo")? as i64,
            row.try_get::<i32>("", "hi")? as i64,
        )
    };
    let mut low = first;
    while low <= max_id {
        let high = (low + CHUNK - 1).min(max_id);
        let chunk = format!(
            "FROM association a CROSS JOIN region r CROSS JOIN months {CELLS} WHERE a.id BETWEEN {low} AND {high}"
        );
        txn.execute_unprepared(&format!(
            "{MONTHS_CTE} INSERT INTO client_stat (association_id, region_id, period, segment, gender, area, active_clients, \
             new_clients) SELECT a.id, r.id, {PERIOD}, s.column1, g.column1, ar.column1, 50 + {HASH}, 1 + {HASH} % 20 {chunk}"
        ))
        .await?;
        txn.execute_unprepared(&format!(
            "{MONTHS_CTE}, cells AS (SELECT a.id AS association_id, r.id AS region_id, {PERIOD} AS period, s.column1 AS segment, \
             g.column1 AS gender, ar.column1 AS area, {HASH} AS h {chunk}), \
             sized AS (SELECT *, (50 + h) * (400000 + h * 200) AS outstanding FROM cells), \
             risky AS (SELECT *, outstanding * (h % 90) / 1000 AS par30 FROM sized) \
             INSERT INTO loan_stat (association_id, region_id, period, segment, gender, area, disbursed_count, disbursed_amount, \
             active_loans, outstanding_amount, par30_amount, par90_amount, write_off_amount, rescheduled_amount, repayments_due, \
             repayments_collected) \
             SELECT association_id, region_id, period, segment, gender, area, 5 + h % 40, (5 + h % 40) * (500000 + h * 300), \
             50 + h, outstanding, par30, par30 / 3, par30 / 60, outstanding * (h % 50) / 1000, outstanding / 10, \
             outstanding / 10 * (900 + h % 100) / 1000 FROM risky"
        ))
        .await?;
        tracing::info!(
            institutions = high - first + 1,
            of = n,
            elapsed_s = started.elapsed().as_secs(),
            "facts generated"
        );
        low = high + 1;
    }
    crate::rollup::refresh(&txn, None).await?;
    txn.commit().await?;
    db.execute_unprepared("ANALYZE").await?;
    tracing::info!(elapsed_s = started.elapsed().as_secs(), "benchmark dataset ready");
    Ok(())
}
