//! Acceptance benchmarks: one association's month (every cell of the clients, loans and staff tables) validated and
//! accepted through `submission::store::submit`, one after another, with the rollups kept exact; and many
//! associations sending the same month at once, every report accepted, with the throughput.

use super::BoxError;
use super::dataset::Scale;
use crate::period::Month;
use crate::rollup::Level;
use crate::scope::Scope;
use crate::submission::store;
use crate::submission::table::{self, NewReport, RawReport, Table};
use entity::enums::SubmissionStatus;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, TransactionTrait};
use serde_json::{Map, Value, json};
use std::time::{Duration, Instant};

/// The month revised one report after another: the dataset's last, released month.
const REVISED: i32 = 202012;
/// The month sent by every association at once: the month after the dataset.
const SENT_AT_ONCE: i32 = 202101;
/// The months sent at once by a third of the associations each.
const SPREAD_OVER: [i32; 3] = [202102, 202103, 202104];

const SEGMENTS: &[&str] = &["INDIVIDUAL", "SOLIDARITY_GROUP", "VERY_SMALL_ENTERPRISE"];
const GENDERS: &[&str] = &["FEMALE", "MALE"];
const AREAS: &[&str] = &["URBAN", "RURAL"];

fn money(centimes: i64) -> String {
    format!("{}.{:02}", centimes / 100, centimes % 100)
}

/// A valid report of every cell: each region × segment × gender × area in the clients and loans tables, every
/// staff category × gender, and each region's loans split by activity as the demo splits them; values drawn from
/// `seed`.
fn full_report(association: &str, month: i32, regions: &[String], seed: u64) -> NewReport {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut draw = |low: i64, high: i64| {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        low + (state.wrapping_mul(0x2545_F491_4F6C_DD1D) % (high - low + 1) as u64) as i64
    };
    let (mut clients, mut loans, mut staff) = (Vec::new(), Vec::new(), Vec::new());
    let row = |value: Value| -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!("rows are objects"),
        }
    };
    let mut activities = Vec::new();
    for region in regions {
        // The region's loan totals, in the order of the activities table's measures.
        let mut sums = [0i64; 7];
        for segment in SEGMENTS {
            for gender in GENDERS {
                for area in AREAS {
                    let active = draw(50, 1_000);
                    clients.push(row(json!({
                        "region": region, "segment": segment, "gender": gender, "area": area,
                        "active_clients": active, "new_clients": draw(0, 40),
                    })));
                    let outstanding = active * draw(400_000, 600_000);
                    let par30 = outstanding / 1_000 * draw(0, 80);
                    let due = outstanding / 10;
                    let (disbursed_count, disbursed_amount) = (draw(5, 45), draw(2_500_000, 30_000_000));
                    let (active_loans, collected) = (active + draw(0, 20), due / 100 * draw(90, 100));
                    for (sum, value) in sums.iter_mut().zip([
                        disbursed_count,
                        disbursed_amount,
                        active_loans,
                        outstanding,
                        par30,
                        due,
                        collected,
                    ]) {
                        *sum += value;
                    }
                    loans.push(row(json!({
                        "region": region, "segment": segment, "gender": gender, "area": area,
                        "disbursed_count": disbursed_count, "disbursed_amount": money(disbursed_amount),
                        "active_loans": active_loans, "outstanding_amount": money(outstanding),
                        "par30_amount": money(par30), "par90_amount": money(par30 / 3),
                        "write_off_amount": money(par30 / 60), "rescheduled_amount": money(outstanding / 50),
                        "repayments_due": money(due), "repayments_collected": money(collected),
                    })));
                }
            }
        }
        for (activity, values) in crate::demo::reports::split_by_activity(&sums) {
            let mut cells = json!({ "region": region, "activity": activity.as_str() });
            for (measure, value) in crate::facts::ACTIVITIES.measures.iter().zip(values) {
                cells[measure.column] = match measure.quantity {
                    crate::facts::Quantity::Count => json!(value),
                    crate::facts::Quantity::Amount => json!(money(value)),
                };
            }
            activities.push(row(cells));
        }
    }
    for category in ["NETWORK", "HEAD_OFFICE"] {
        for gender in GENDERS {
            staff.push(row(
                json!({ "category": category, "gender": gender, "headcount": draw(5, 45) }),
            ));
        }
    }
    let mut tables = RawReport::new();
    let mut payload = Map::new();
    for (which, rows) in [
        (Table::Clients, clients),
        (Table::Loans, loans),
        (Table::Staff, staff),
        (Table::Activities, activities),
    ] {
        tables.insert(which, table::read_json(&rows));
        payload.insert(
            which.name().into(),
            Value::Array(rows.into_iter().map(Value::Object).collect()),
        );
    }
    NewReport {
        association: association.to_owned(),
        month: Month(month),
        tables,
        payload: json!({ "format": "json", "tables": payload }).to_string(),
        idempotency_key: None,
    }
}

fn percentile(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index].as_secs_f64() * 1000.0
}

async fn codes(db: &DatabaseConnection, sql: &str) -> Result<Vec<String>, BoxError> {
    Ok(db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql.to_owned()))
        .await?
        .iter()
        .map(|r| r.try_get::<String>("", "code"))
        .collect::<Result<_, _>>()?)
}

/// Removes the benchmark reporters (`RPT…`) with everything their reports wrote, and rebuilds the rollups of the
/// month they sent, in one transaction: the dataset keeps the associations it was generated with (13 at national
/// scale), so that the query benchmarks that follow read it as generated.
async fn remove_reporters(db: &DatabaseConnection) -> Result<(), BoxError> {
    let ids = "SELECT id FROM association WHERE code LIKE 'RPT%'";
    let alerts = format!("SELECT id FROM alert WHERE association_id IN ({ids})");
    let events = format!("SELECT id FROM alert_event WHERE alert_id IN ({alerts})");
    let mut statements = vec![
        format!("DELETE FROM webhook_delivery WHERE event_id IN ({events})"),
        format!("DELETE FROM alert_event WHERE alert_id IN ({alerts})"),
        format!("DELETE FROM alert WHERE association_id IN ({ids})"),
    ];
    let facts = crate::facts::ALL;
    let revisions = facts.iter().map(|f| f.revisions);
    let rollups = facts
        .iter()
        .flat_map(|f| [Level::Association, Level::AssociationTotal].map(|level| crate::rollup::table(f, level)));
    let tables = revisions
        .chain(facts.iter().map(|f| f.table))
        .chain(rollups.flatten())
        .chain(["target", "branch", "submission"]);
    for table in tables {
        statements.push(format!("DELETE FROM {table} WHERE association_id IN ({ids})"));
    }
    statements.push("DELETE FROM association WHERE code LIKE 'RPT%'".into());
    let txn = crate::db::begin_write(db).await?;
    for sql in statements {
        txn.execute_unprepared(&sql).await?;
    }
    crate::rollup::refresh(
        &txn,
        Some(&[SENT_AT_ONCE, SPREAD_OVER[0], SPREAD_OVER[1], SPREAD_OVER[2]]),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Registers benchmark reporters (`RPT0001`, ...) until the database has `count` associations.
async fn reporters(db: &DatabaseConnection, count: usize) -> Result<Vec<String>, BoxError> {
    let mut all = codes(db, "SELECT code FROM association ORDER BY code").await?;
    if all.len() < count {
        let missing = count - all.len();
        let txn = crate::db::begin_write(db).await?;
        for chunk in (1..=missing).collect::<Vec<_>>().chunks(500) {
            let rows: Vec<String> = chunk
                .iter()
                .map(|i| format!("('RPT{i:04}', 'Reporter {i}', 'مؤسسة {i}', 2000, 'ACTIVE', 'Rabat')"))
                .collect();
            txn.execute_unprepared(&format!(
                "INSERT INTO association (code, name_fr, name_ar, founded_year, status, head_office_city) VALUES {}",
                rows.join(", ")
            ))
            .await?;
        }
        txn.commit().await?;
        all = codes(db, "SELECT code FROM association ORDER BY code").await?;
    }
    all.truncate(count);
    Ok(all)
}

/// Runs both acceptance benchmarks and prints their tables. `revisions`: reports accepted one after another;
/// `reporters`: associations sending the same month at once.
pub async fn run(
    db: &DatabaseConnection,
    scale: Scale,
    revisions: u64,
    reporters_at_once: u64,
) -> Result<(), BoxError> {
    let regions = codes(db, "SELECT code FROM region ORDER BY code").await?;
    let institutions = codes(db, "SELECT code FROM association WHERE code LIKE 'INST%' ORDER BY code").await?;
    let observatory = Scope::observatory();
    println!(
        "\nacceptance: a whole month of one association ({} client and {} loan cells, 4 staff rows, {} activity rows) \
         validated and accepted by `submission::store::submit`, rollups kept exact; {} institutions",
        regions.len() * 12,
        regions.len() * 12,
        regions.len() * 9,
        institutions.len()
    );
    println!("\n| case | reports | p50 ms | p95 ms | max ms | reports/s |\n|---|---:|---:|---:|---:|---:|");

    // One after another: revisions of the dataset's last month, each institution in turn.
    let mut latencies = Vec::new();
    let started = Instant::now();
    for i in 0..revisions + 3 {
        let association = &institutions[i as usize % institutions.len()];
        let report = full_report(association, REVISED, &regions, i + 1);
        let began = Instant::now();
        let accepted = store::submit(db, &observatory, report)
            .await
            .map_err(|e| format!("{association} {}: {}", Month(REVISED), e.detail()))?;
        if i >= 3 {
            latencies.push(began.elapsed());
        }
        if accepted.status != SubmissionStatus::Accepted {
            return Err(format!("{association}: not accepted").into());
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "| revision of {} (released), one after another ({scale:?} scale) | {} | {:.1} | {:.1} | {:.1} | {:.0} |",
        Month(REVISED),
        latencies.len(),
        percentile(&mut latencies, 0.5),
        percentile(&mut latencies, 0.95),
        percentile(&mut latencies, 1.0),
        (revisions + 3) as f64 / elapsed
    );

    // For comparison: rebuilding the whole month's rollups from the facts, as a bulk load does (rolled back).
    let mut rebuilds = Vec::new();
    for _ in 0..3 {
        let txn = db.begin().await?;
        let began = Instant::now();
        crate::rollup::refresh(&txn, Some(&[REVISED])).await?;
        rebuilds.push(began.elapsed());
        txn.rollback().await?;
    }
    println!(
        "| for comparison: rebuilding {}'s six rollups from the facts (`rollup::refresh`) | {} | {:.1} | {:.1} | {:.1} | |",
        Month(REVISED),
        rebuilds.len(),
        percentile(&mut rebuilds, 0.5),
        percentile(&mut rebuilds, 0.95),
        percentile(&mut rebuilds, 1.0),
    );

    // All at once: every reporter sends the month after the dataset; then every reporter sends one of the three
    // months after it, a third of them each, so that months proceed side by side.
    let senders = reporters(db, reporters_at_once as usize).await?;
    let mut outcome = burst(db, &senders, &regions, |_| SENT_AT_ONCE).await;
    if outcome.is_ok() {
        outcome = burst(db, &senders, &regions, |i| SPREAD_OVER[i % SPREAD_OVER.len()]).await;
    }
    remove_reporters(db).await?;
    outcome
}

/// Every sender sends `month_of(its index)` at once, each a report of its own; prints the burst's row. An error when
/// a report was refused or an association lacks its accepted month.
async fn burst(
    db: &DatabaseConnection,
    senders: &[String],
    regions: &[String],
    month_of: impl Fn(usize) -> i32,
) -> Result<(), BoxError> {
    let observatory = Scope::observatory();
    let reports: Vec<NewReport> = senders
        .iter()
        .enumerate()
        .map(|(i, code)| full_report(code, month_of(i), regions, 1_000_000 + i as u64))
        .collect();
    let mut months: Vec<i32> = (0..senders.len()).map(&month_of).collect();
    months.sort_unstable();
    months.dedup();
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(reports.len() + 1));
    let mut tasks = Vec::new();
    for report in reports {
        let (db, start, observatory) = (db.clone(), start.clone(), observatory.clone());
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            let began = Instant::now();
            let outcome = store::submit(&db, &observatory, report).await;
            (outcome.map(|m| m.status).map_err(|e| e.detail()), began.elapsed())
        }));
    }
    start.wait().await;
    let started = Instant::now();
    let (mut latencies, mut refused) = (Vec::new(), Vec::new());
    for task in tasks {
        let (outcome, latency) = task.await?;
        match outcome {
            Ok(SubmissionStatus::Accepted) => latencies.push(latency),
            Ok(other) => refused.push(format!("{other:?}")),
            Err(e) => refused.push(e),
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    if latencies.is_empty() {
        return Err(format!("no report accepted (first refusal: {:?})", refused.first()).into());
    }
    let mut missing = 0;
    for (i, code) in senders.iter().enumerate() {
        let accepted = db
            .query_one_raw(Statement::from_sql_and_values(
                db.get_database_backend(),
                "SELECT 1 AS one FROM submission s JOIN association a ON a.id = s.association_id \
                 WHERE a.code = $1 AND s.period = $2 AND s.status = 'ACCEPTED'",
                [code.clone().into(), month_of(i).into()],
            ))
            .await?;
        missing += usize::from(accepted.is_none());
    }
    let sent = months
        .iter()
        .map(|m| Month(*m).to_string())
        .collect::<Vec<_>>()
        .join(", ");
    println!(
        "| {} associations sending {sent} at once: {} accepted, {} refused (wall {:.1} s) | {} | {:.1} | {:.1} | {:.1} | {:.1} |",
        senders.len(),
        latencies.len(),
        refused.len(),
        elapsed,
        latencies.len(),
        percentile(&mut latencies, 0.5),
        percentile(&mut latencies, 0.95),
        percentile(&mut latencies, 1.0),
        latencies.len() as f64 / elapsed
    );
    if !refused.is_empty() || missing > 0 {
        return Err(format!(
            "{} reports refused (first: {:?}); {missing} associations without their accepted month ({sent})",
            refused.len(),
            refused.first(),
        )
        .into());
    }
    Ok(())
}
