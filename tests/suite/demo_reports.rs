//! The demo's months arrive as reports through the acceptance path: every expected association reported each of
//! the 24 months on time except one late report, coverage is full, and one released month was revised (the month as
//! released, read `asOf` its release, differs from the current figures, which are marked `revised`).

use observatory_tests::{Backend, Fixture, TestApp, on_both_backends, spawn_app};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

/// The demo's associations.
const ASSOCIATIONS: usize = 13;

/// The 24 demo months, `2019-01` to `2020-12`.
fn months() -> Vec<String> {
    (0..24)
        .map(|t| format!("{}-{:02}", 2019 + t / 12, t % 12 + 1))
        .collect()
}

/// `yyyymm` as `yyyy-mm`.
fn month_text(yyyymm: i32) -> String {
    format!("{}-{:02}", yyyymm / 100, yyyymm % 100)
}

async fn sum(app: &TestApp, sql: &str) -> i64 {
    let row = app
        .db
        .query_one_raw(Statement::from_string(app.db.get_database_backend(), sql.to_owned()))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "total").unwrap()
}

async fn every_demo_month_was_reported_on_time_but_one(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let (late_code, late_month) = api::demo::LATE_REPORT;
    let (revised_code, revised_month) = api::demo::REVISED_REPORT;
    let mut late_seen = 0;
    for month in months() {
        let data = app
            .query(
                "query($p: Period!) { reportingStatus(period: $p) { association { code } status revisions \
                 firstReceivedAt } }",
                json!({ "p": month }),
            )
            .await;
        let rows = data["reportingStatus"].as_array().unwrap();
        assert_eq!(rows.len(), ASSOCIATIONS, "{month}: every demo association is expected");
        for row in rows {
            let code = row["association"]["code"].as_str().unwrap();
            let is_late = code == late_code && month == month_text(late_month);
            late_seen += usize::from(is_late);
            let expected = if is_late { "LATE" } else { "ON_TIME" };
            assert_eq!(row["status"], expected, "{month} {code}: {row}");
            let revisions = if code == revised_code && month == month_text(revised_month) {
                2
            } else {
                1
            };
            assert_eq!(row["revisions"], revisions, "{month} {code}");
            let received = row["firstReceivedAt"].as_str().unwrap();
            assert!(
                received[..7] > *month,
                "{month} {code}: reported after the month ended ({received})"
            );
        }
    }
    assert_eq!(late_seen, 1, "the late report is one of the demo's");
}
on_both_backends!(every_demo_month_was_reported_on_time_but_one);

async fn the_demo_submissions_are_the_associations_own_with_one_revision(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let data = app
        .query(
            "{ submissions(first: 500) { totalCount nodes { association { code } period revision status late \
             onBehalf sentBy receivedAt deadline } } }",
            json!({}),
        )
        .await;
    let nodes = data["submissions"]["nodes"].as_array().unwrap();
    assert_eq!(
        data["submissions"]["totalCount"],
        ASSOCIATIONS * 24 + 1,
        "a report per association and month, and one revision"
    );
    assert_eq!(nodes.len(), ASSOCIATIONS * 24 + 1);
    let (late_code, late_month) = api::demo::LATE_REPORT;
    let (revised_code, revised_month) = api::demo::REVISED_REPORT;
    let mut late = Vec::new();
    for node in nodes {
        let code = node["association"]["code"].as_str().unwrap();
        assert_eq!(node["sentBy"], code, "sent by the association's own partner: {node}");
        assert_eq!(node["onBehalf"], false, "{node}");
        if node["late"] == true {
            late.push((
                code.to_owned(),
                node["period"].as_str().unwrap().to_owned(),
                node["revision"].as_i64().unwrap(),
            ));
        }
    }
    late.sort();
    assert_eq!(
        late,
        vec![
            (revised_code.to_owned(), month_text(revised_month), 2),
            (late_code.to_owned(), month_text(late_month), 1),
        ],
        "late: the late report, and the revision sent after the month's release"
    );
    let received: Vec<&str> = nodes.iter().map(|n| n["receivedAt"].as_str().unwrap()).collect();
    assert!(
        received.windows(2).all(|w| w[0] <= w[1]),
        "listed in the order received, which is month order"
    );

    let revised = app
        .query(
            "query($a: String!, $p: Period!) { submissions(filter: { associations: [$a], from: $p, to: $p }) { \
             totalCount nodes { revision status receivedAt } } releases(first: 100) { nodes { period releasedAt } } }",
            json!({ "a": revised_code, "p": month_text(revised_month) }),
        )
        .await;
    let versions = revised["submissions"]["nodes"].as_array().unwrap();
    assert_eq!(revised["submissions"]["totalCount"], 2);
    assert_eq!(
        versions
            .iter()
            .map(|v| (v["revision"].clone(), v["status"].clone()))
            .collect::<Vec<_>>(),
        vec![(json!(1), json!("SUPERSEDED")), (json!(2), json!("ACCEPTED"))]
    );
    let released_at = revised["releases"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["period"] == month_text(revised_month))
        .unwrap()["releasedAt"]
        .as_str()
        .unwrap()
        .to_owned();
    let (first, second) = (
        versions[0]["receivedAt"].as_str().unwrap(),
        versions[1]["receivedAt"].as_str().unwrap(),
    );
    assert!(
        first < released_at.as_str() && released_at.as_str() < second,
        "the month was released ({released_at}) between its first report ({first}) and the revision ({second})"
    );
}
on_both_backends!(the_demo_submissions_are_the_associations_own_with_one_revision);

/// The revised month: its current national PAR30 is the facts' (the generator's true figures), marked `revised`; read
/// as it stood at its release, it is the first report's, lower by the revised association's PAR30 difference, enough to
/// move the national PAR30 rate by more than half a point. The months around it are not revised.
async fn the_revised_month_shows_as_released_and_as_revised(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let (code, month) = api::demo::REVISED_REPORT;
    let period = month_text(month);
    const PAR30: &str = "query($p: Period!, $at: DateTime) { indicators(period: { from: $p, to: $p }, asOf: $at) { \
                         par30Amount { value revised } par30Rate { value revised } } }";
    let released_at = app
        .query("{ releases(first: 100) { nodes { period releasedAt } } }", json!({}))
        .await["releases"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["period"] == period.as_str())
        .unwrap()["releasedAt"]
        .clone();
    let now = app.query(PAR30, json!({ "p": period })).await["indicators"][0].clone();
    let then = app.query(PAR30, json!({ "p": period, "at": released_at })).await["indicators"][0].clone();

    let national = sum(
        &app,
        &format!("SELECT CAST(SUM(par30_amount) AS BIGINT) AS total FROM loan_stat WHERE period = {month}"),
    )
    .await;
    let own = sum(
        &app,
        &format!(
            "SELECT CAST(SUM(l.par30_amount) AS BIGINT) AS total FROM loan_stat l JOIN association a ON a.id = \
             l.association_id WHERE a.code = '{code}' AND l.period = {month}"
        ),
    )
    .await;
    let first_report = sum(
        &app,
        &format!(
            "SELECT CAST(SUM(r.par30_amount) AS BIGINT) AS total FROM loan_stat_revision r JOIN submission s ON s.id \
             = r.submission_id JOIN association a ON a.id = s.association_id WHERE a.code = '{code}' AND s.period = \
             {month} AND s.revision = 1"
        ),
    )
    .await;
    let mad = |centimes: i64| centimes as f64 / 100.0;
    assert_eq!(now["par30Amount"]["value"].as_f64(), Some(mad(national)), "{now}");
    assert_eq!(
        then["par30Amount"]["value"].as_f64(),
        Some(mad(national - own + first_report)),
        "as released: the first report's PAR30 in place of the revision's: {then}"
    );
    assert!(first_report < own, "the first report understated PAR30");
    let (rate_now, rate_then) = (
        now["par30Rate"]["value"].as_f64().unwrap(),
        then["par30Rate"]["value"].as_f64().unwrap(),
    );
    assert!(
        rate_now - rate_then > 0.5,
        "the revision moves the national PAR30 rate visibly: {rate_then} % as released, {rate_now} % now"
    );
    assert_eq!(now["par30Amount"]["revised"], true, "{now}");
    assert_eq!(now["par30Rate"]["revised"], true, "{now}");

    for other in [month_text(month - 1), month_text(month + 1)] {
        let row = app.query(PAR30, json!({ "p": other })).await["indicators"][0].clone();
        assert_eq!(row["par30Amount"]["revised"], false, "{other}: {row}");
    }
}
on_both_backends!(the_revised_month_shows_as_released_and_as_revised);

/// Coverage of the demo months is complete: every month, every year and every association reported.
async fn demo_coverage_is_complete(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let full = json!({ "reporting": ASSOCIATIONS, "expected": ASSOCIATIONS });
    for granularity in ["MONTH", "QUARTER", "YEAR"] {
        let data = app
            .query(
                &format!(
                    "{{ indicators(period: {{ from: \"2019-01\", to: \"2020-12\", granularity: {granularity} }}) {{ \
                     period activeClients {{ value }} coverage {{ reporting expected }} }} }}"
                ),
                json!({}),
            )
            .await;
        let rows = data["indicators"].as_array().unwrap();
        let expected_rows = match granularity {
            "MONTH" => 24,
            "QUARTER" => 8,
            _ => 2,
        };
        assert_eq!(rows.len(), expected_rows, "{granularity}");
        for row in rows {
            assert_eq!(row["coverage"], full, "{granularity} {}", row["period"]);
        }
    }
    let per_association = app
        .query(
            "{ indicators(period: { from: \"2020-12\", to: \"2020-12\" }, groupBy: [ASSOCIATION]) { association { code } \
             activeClients { value } \
             coverage { reporting expected } } }",
            json!({}),
        )
        .await;
    let rows = per_association["indicators"].as_array().unwrap();
    assert_eq!(rows.len(), ASSOCIATIONS);
    for row in rows {
        assert_eq!(row["coverage"], json!({ "reporting": 1, "expected": 1 }), "{row}");
    }
}
on_both_backends!(demo_coverage_is_complete);
