//! Rollups kept by accepted reports: after any sequence of revisions, every rollup table is, row for row and column
//! for column, the GROUP BY of the fact tables, and `indicators` answers the same from the rollups as from the facts.

use api::indicator::catalog::{Agg, Dim};
use api::indicator::cube::{CubeFilter, CubeRequest};
use api::indicator::store::{Reads, compute};
use api::period::{Granularity, Month, Period};
use observatory_tests::{Backend, Fixture, Gen, TestApp, on_both_backends, spawn_app};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Demo associations the revisions are sent for (a few, so that association-months are revised again and again).
const ASSOCIATIONS: &[&str] = &["TAFOUKT", "ATLAS", "OASIS", "ZELLIGE"];
/// Regions the generated cells fall in (a few, so that associations share regional cells, and one association is
/// now and then a cell's only contributor).
const REGIONS: &[&str] = &["MA-01", "MA-05", "MA-09", "MA-12"];
/// Months revised: two of the demo data (released, filled by every demo association) and two after it (filled only
/// by the reports sent here).
const MONTHS: &[(&str, i32)] = &[
    ("2020-11", 202011),
    ("2020-12", 202012),
    ("2021-01", 202101),
    ("2021-02", 202102),
];
const SEGMENTS: &[&str] = &["INDIVIDUAL", "SOLIDARITY_GROUP", "VERY_SMALL_ENTERPRISE"];
const GENDERS: &[&str] = &["FEMALE", "MALE"];
const AREAS: &[&str] = &["URBAN", "RURAL"];

const REVISIONS: usize = 100;
/// Reports sent at once in each round.
const AT_ONCE: usize = 4;

const SUBMIT: &str = "mutation($input: ReportInput!) { submitReport(input: $input) { revision status } }";

fn money(centimes: i64) -> String {
    format!("{}.{:02}", centimes / 100, centimes % 100)
}

/// A small value, zero one time in four.
fn value(g: &mut Gen, high: i64) -> i64 {
    if g.below(4) == 0 { 0 } else { g.range(1, high) }
}

/// A valid report of a generated shape: one to three of [`REGIONS`], each cell present with probability about
/// two thirds (client and loan cells chosen apart), values often zero, and now and then a cell of zeros only.
fn generated_report(g: &mut Gen, association: &str, period: &str) -> Value {
    let (mut clients, mut loans) = (Vec::new(), Vec::new());
    let regions: Vec<&str> = {
        let mut chosen: Vec<&str> = REGIONS.iter().copied().filter(|_| g.below(3) == 0).collect();
        if chosen.is_empty() {
            chosen.push(*g.pick(REGIONS));
        }
        chosen
    };
    for region in &regions {
        for segment in SEGMENTS {
            for gender in GENDERS {
                for area in AREAS {
                    let zeros = g.below(10) == 0;
                    if g.below(3) != 0 {
                        let (active, new) = if zeros { (0, 0) } else { (value(g, 900), value(g, 40)) };
                        clients.push(json!({
                            "region": region, "segment": segment, "gender": gender, "area": area,
                            "active_clients": active, "new_clients": new,
                        }));
                    }
                    if g.below(3) != 0 {
                        let mut amounts = [0i64; 10];
                        if !zeros {
                            let outstanding = value(g, 90_000_000);
                            let par30 = if outstanding == 0 { 0 } else { g.range(0, outstanding) };
                            let par90 = if par30 == 0 { 0 } else { g.range(0, par30) };
                            let due = value(g, 900_000);
                            amounts = [
                                value(g, 60),
                                value(g, 9_000_000),
                                value(g, 900),
                                outstanding,
                                par30,
                                par90,
                                value(g, 10_000),
                                value(g, 50_000),
                                due,
                                if due == 0 { 0 } else { g.range(0, due) },
                            ];
                        }
                        loans.push(json!({
                            "region": region, "segment": segment, "gender": gender, "area": area,
                            "disbursed_count": amounts[0], "disbursed_amount": money(amounts[1]),
                            "active_loans": amounts[2], "outstanding_amount": money(amounts[3]),
                            "par30_amount": money(amounts[4]), "par90_amount": money(amounts[5]),
                            "write_off_amount": money(amounts[6]), "rescheduled_amount": money(amounts[7]),
                            "repayments_due": money(amounts[8]), "repayments_collected": money(amounts[9]),
                        }));
                    }
                }
            }
        }
    }
    // A report has at least one client and one loan row.
    let region = regions[0];
    if clients.is_empty() {
        clients.push(json!({
            "region": region, "segment": "INDIVIDUAL", "gender": "FEMALE", "area": "RURAL",
            "active_clients": 0, "new_clients": 0,
        }));
    }
    if loans.is_empty() {
        loans.push(json!({
            "region": region, "segment": "INDIVIDUAL", "gender": "FEMALE", "area": "RURAL",
            "disbursed_count": 0, "disbursed_amount": "0", "active_loans": 0, "outstanding_amount": "0",
            "par30_amount": "0", "par90_amount": "0", "write_off_amount": "0", "rescheduled_amount": "0",
            "repayments_due": "0", "repayments_collected": "0",
        }));
    }
    let staff: Vec<Value> = ["NETWORK", "HEAD_OFFICE"]
        .iter()
        .flat_map(|category| GENDERS.iter().map(move |gender| (category, gender)))
        .map(|(category, gender)| json!({ "category": category, "gender": gender, "headcount": value(g, 40) }))
        .collect();
    json!({ "input": {
        "association": association, "period": period,
        "clients": clients, "loans": loans, "staff": staff,
    }})
}

/// A rollup table, its fact table, its key columns and each column with the SQL that sums it over the facts.
type Expected = (
    &'static str,
    &'static str,
    Vec<&'static str>,
    Vec<(&'static str, String)>,
);

/// Every rollup table and the same content computed from the facts, written independently of the code under test.
fn expectations() -> Vec<Expected> {
    let client: Vec<&str> = vec!["active_clients", "new_clients"];
    let loan: Vec<&str> = vec![
        "disbursed_count",
        "disbursed_amount",
        "active_loans",
        "outstanding_amount",
        "par30_amount",
        "par90_amount",
        "write_off_amount",
        "rescheduled_amount",
        "repayments_due",
        "repayments_collected",
    ];
    let sums = |measures: &[&'static str]| -> Vec<(&'static str, String)> {
        measures
            .iter()
            .map(|m| (*m, format!("CAST(SUM({m}) AS BIGINT)")))
            .collect()
    };
    let cell = ["segment", "gender", "area"];
    let with = |first: &'static str| -> Vec<&'static str> {
        let mut keys = vec![first, "period"];
        keys.extend(cell.iter().copied());
        keys
    };
    let contributors = (
        "contributors",
        "CAST(COUNT(DISTINCT association_id) AS BIGINT)".to_owned(),
    );
    let mut client_totals = sums(&client);
    client_totals.push((
        "active_female",
        "CAST(SUM(CASE WHEN gender = 'FEMALE' THEN active_clients END) AS BIGINT)".into(),
    ));
    client_totals.push((
        "active_rural",
        "CAST(SUM(CASE WHEN area = 'RURAL' THEN active_clients END) AS BIGINT)".into(),
    ));
    let mut client_regional = sums(&client);
    client_regional.push(contributors.clone());
    let mut loan_regional = sums(&loan);
    loan_regional.push(contributors);
    vec![
        (
            "client_stat_by_region",
            "client_stat",
            with("region_id"),
            client_regional,
        ),
        (
            "client_stat_by_association",
            "client_stat",
            with("association_id"),
            sums(&client),
        ),
        (
            "client_stat_association_total",
            "client_stat",
            vec!["association_id", "period"],
            client_totals,
        ),
        ("loan_stat_by_region", "loan_stat", with("region_id"), loan_regional),
        (
            "loan_stat_by_association",
            "loan_stat",
            with("association_id"),
            sums(&loan),
        ),
        (
            "loan_stat_association_total",
            "loan_stat",
            vec!["association_id", "period"],
            sums(&loan),
        ),
    ]
}

/// A row read back as text: every key and value, `NULL` for a null.
type Row = Vec<String>;

async fn rows(db: &DatabaseConnection, sql: String, keys: &[&str], columns: &[&str]) -> Vec<Row> {
    let found = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql.clone()))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    found
        .iter()
        .map(|row| {
            let mut out = Row::new();
            for key in keys {
                out.push(match *key {
                    "segment" | "gender" | "area" => row.try_get::<String>("", key).unwrap(),
                    _ => row.try_get::<i32>("", key).unwrap().to_string(),
                });
            }
            for column in columns {
                out.push(
                    row.try_get::<Option<i64>>("", column)
                        .unwrap()
                        .map_or("NULL".to_owned(), |v| v.to_string()),
                );
            }
            out
        })
        .collect()
}

/// Asserts that every rollup table equals the GROUP BY of its facts (restricted to `months`, or whole), exactly:
/// the same set of keys, every column equal. Returns the regional rollups' keys, to follow cells appearing and
/// disappearing.
async fn assert_rollups_equal_facts(db: &DatabaseConnection, months: Option<&[i32]>, when: &str) -> BTreeSet<Row> {
    let only = months.map_or("1 = 1".to_owned(), |m| {
        format!(
            "period IN ({})",
            m.iter().map(i32::to_string).collect::<Vec<_>>().join(", ")
        )
    });
    let mut regional = BTreeSet::new();
    for (rollup, facts, keys, columns) in expectations() {
        let key_list = keys.join(", ");
        let names: Vec<&str> = columns.iter().map(|(c, _)| *c).collect();
        let stored = rows(
            db,
            format!(
                "SELECT {key_list}, {} FROM {rollup} WHERE {only} ORDER BY {key_list}",
                names.join(", ")
            ),
            &keys,
            &names,
        )
        .await;
        let sums: Vec<String> = columns.iter().map(|(c, sql)| format!("{sql} AS {c}")).collect();
        let expected = rows(
            db,
            format!(
                "SELECT {key_list}, {} FROM {facts} WHERE {only} GROUP BY {key_list} ORDER BY {key_list}",
                sums.join(", ")
            ),
            &keys,
            &names,
        )
        .await;
        let stored_set: BTreeSet<&Row> = stored.iter().collect();
        let expected_set: BTreeSet<&Row> = expected.iter().collect();
        let extra: Vec<_> = stored_set.difference(&expected_set).take(5).collect();
        let missing: Vec<_> = expected_set.difference(&stored_set).take(5).collect();
        assert!(
            extra.is_empty() && missing.is_empty() && stored.len() == expected.len(),
            "{when}: {rollup} differs from the GROUP BY of {facts} (columns {key_list}, {}): rows only in the rollup \
             {extra:?}, rows only in the facts {missing:?}",
            names.join(", ")
        );
        if rollup.ends_with("_by_region") {
            regional.extend(stored.iter().map(|r| {
                let mut key = vec![rollup.to_owned()];
                key.extend(r[..keys.len()].iter().cloned());
                key
            }));
        }
    }
    regional
}

/// The same `indicators` cube read from the rollups and from the facts, over the revised months, for groupings that
/// pick each rollup.
async fn assert_indicators_read_alike(db: &DatabaseConnection) {
    let aggs = [
        Agg::ActiveClients,
        Agg::ActiveFemale,
        Agg::ActiveRural,
        Agg::NewClients,
        Agg::DisbursedCount,
        Agg::DisbursedAmount,
        Agg::ActiveLoans,
        Agg::Outstanding,
        Agg::Par30,
        Agg::Par90,
        Agg::WriteOff,
        Agg::RepaymentsDue,
        Agg::RepaymentsCollected,
    ];
    let request = |granularity: Granularity, group_by: Vec<Dim>, use_rollups: bool| CubeRequest {
        granularity,
        periods: MONTHS
            .iter()
            .map(|(_, m)| Period::containing(granularity, Month(*m)))
            .collect(),
        group_by,
        filter: CubeFilter::default(),
        aggs: aggs.into_iter().collect(),
        use_rollups,
        access: api::scope::RowAccess::All,
        small_groups: None,
        document_dims: None,
        derived: None,
    };
    for (granularity, group_by) in [
        (Granularity::Month, vec![]),
        (Granularity::Month, vec![Dim::Region]),
        (
            Granularity::Quarter,
            vec![Dim::Region, Dim::Segment, Dim::Gender, Dim::Area],
        ),
        (Granularity::Month, vec![Dim::Association]),
        (Granularity::Month, vec![Dim::Association, Dim::Gender, Dim::Area]),
        (Granularity::Year, vec![Dim::Association, Dim::Segment]),
    ] {
        let facts = compute(db, &request(granularity, group_by.clone(), false), &Reads::default())
            .await
            .unwrap();
        let rollups = compute(db, &request(granularity, group_by.clone(), true), &Reads::default())
            .await
            .unwrap();
        assert!(!facts.cells.is_empty(), "{granularity:?} by {group_by:?} has figures");
        assert_eq!(
            facts, rollups,
            "{granularity:?} by {group_by:?}: rollups read as the facts"
        );
    }
}

/// Property: after each round of reports (a few sent at once, for random associations and months, with cells that
/// appear, disappear and hold zeros), every rollup equals the GROUP BY of the facts for the months touched; after a
/// hundred revisions, every rollup equals it whole, and `indicators` reads the same from the rollups as from the
/// facts.
async fn a_rollup_equals_the_facts_after_a_hundred_random_revisions(backend: Backend) {
    let app: Arc<TestApp> = Arc::new(spawn_app(&backend, Fixture::Demo).await);
    let mut g = Gen::new(8);
    let mut regional = assert_rollups_equal_facts(&app.db, None, "the demo data").await;
    let (mut appeared, mut disappeared) = (0usize, 0usize);
    let mut sent = 0;
    while sent < REVISIONS {
        let mut months = BTreeSet::new();
        let mut round = Vec::new();
        for _ in 0..AT_ONCE.min(REVISIONS - sent) {
            let association = *g.pick(ASSOCIATIONS);
            let (period, month) = *g.pick(MONTHS);
            months.insert(month);
            let variables = generated_report(&mut g, association, period);
            let app = app.clone();
            round.push(tokio::spawn(async move {
                let reply = app.graphql(SUBMIT, variables).await;
                (association, period, reply)
            }));
            sent += 1;
        }
        for task in round {
            let (association, period, reply) = task.await.unwrap();
            assert_eq!(
                reply.body["data"]["submitReport"]["status"], "ACCEPTED",
                "{association} {period}: {}",
                reply.body
            );
        }
        let months: Vec<i32> = months.into_iter().collect();
        let now = assert_rollups_equal_facts(&app.db, Some(&months), &format!("after {sent} revisions")).await;
        let before: BTreeSet<Row> = regional
            .iter()
            .filter(|k| months.iter().any(|m| k[2] == m.to_string()))
            .cloned()
            .collect();
        appeared += now.difference(&before).count();
        disappeared += before.difference(&now).count();
        regional.retain(|k| !months.iter().any(|m| k[2] == m.to_string()));
        regional.extend(now);
    }
    assert!(
        appeared > 0 && disappeared > 0,
        "the revisions made regional cells appear ({appeared}) and disappear ({disappeared})"
    );
    let zero_cells = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM client_stat WHERE period >= 202011 AND active_clients = 0 AND \
             new_clients = 0"
                .to_owned(),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert!(zero_cells > 0, "some reported cells hold only zeros");
    assert_rollups_equal_facts(&app.db, None, "after every revision").await;
    assert_indicators_read_alike(&app.db).await;
}
on_both_backends!(a_rollup_equals_the_facts_after_a_hundred_random_revisions);
