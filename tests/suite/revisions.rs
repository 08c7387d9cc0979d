//! Revisions and as-of reads: every accepted revision stays readable. `indicators(asOf:)` and the statistics lists'
//! `asOf:` answer as the data stood at any instant, whatever sequence of revisions came since, and a value of a
//! released month changed after its release is marked `revised`.

use crate::reporting::{ASSOCIATION, Month, valid_month};
use chrono::{DateTime, SecondsFormat, Utc};
use observatory_tests::{Backend, Fixture, Gen, PartnerKind, TestApp, on_both_backends, spawn_app};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Released months of the demo data the tests revise.
const MONTHS: &[&str] = &["2020-05", "2020-06"];

const SUBMIT: &str = "mutation($input: ReportInput!) { submitReport(input: $input) { revision status } }";

/// The sums a user checks of one association-month: active clients, outstanding (MAD) and staff headcount.
type Sums = (i64, f64, i64);

fn sums_of(month: &Month) -> Sums {
    let int = |rows: &[Value], column: &str| rows.iter().map(|r| r[column].as_i64().unwrap()).sum::<i64>();
    let outstanding = month
        .loans
        .iter()
        .map(|l| l["outstanding_amount"].as_str().unwrap().parse::<f64>().unwrap())
        .sum::<f64>();
    (
        int(&month.clients, "active_clients"),
        outstanding,
        int(&month.staff, "headcount"),
    )
}

fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

async fn submit(app: &TestApp, period: &str, month: &Month) {
    let data = app
        .query(
            SUBMIT,
            json!({ "input": {
                "association": ASSOCIATION, "period": period,
                "clients": month.clients, "loans": month.loans, "staff": month.staff,
            }}),
        )
        .await;
    assert_eq!(data["submitReport"]["status"], "ACCEPTED");
}

/// The association's sums per month from `indicators`, as of an instant (now when `None`).
async fn indicator_sums(app: &TestApp, as_of: Option<DateTime<Utc>>) -> BTreeMap<String, Sums> {
    let as_of = as_of.map_or(String::new(), |t| format!(", asOf: \"{}\"", instant(t)));
    let data = app
        .query(
            &format!(
                "{{ indicators(period: {{ from: \"{}\", to: \"{}\" }}, filter: {{ associations: [\"{ASSOCIATION}\"] }}{as_of}) \
                 {{ period activeClients {{ value }} outstandingAmount {{ value }} staff {{ value }} }} }}",
                MONTHS[0],
                MONTHS[MONTHS.len() - 1]
            ),
            json!({}),
        )
        .await;
    data["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["period"].as_str().unwrap().to_owned(),
                (
                    row["activeClients"]["value"].as_f64().unwrap() as i64,
                    row["outstandingAmount"]["value"].as_f64().unwrap(),
                    row["staff"]["value"].as_f64().unwrap() as i64,
                ),
            )
        })
        .collect()
}

/// Every page of a statistics list of the association in the months, as of an instant.
async fn list(app: &TestApp, field: &str, columns: &str, as_of: Option<DateTime<Utc>>) -> Vec<Value> {
    let as_of = as_of.map_or(String::new(), |t| format!(", asOf: \"{}\"", instant(t)));
    let mut rows = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app
            .query(
                &format!(
                    "query($after: String) {{ {field}(first: 500, after: $after{as_of}, filter: {{ associations: \
                     [\"{ASSOCIATION}\"], from: \"{}\", to: \"{}\" }}) {{ nodes {{ period {columns} }} pageInfo {{ \
                     hasNextPage endCursor }} }} }}",
                    MONTHS[0],
                    MONTHS[MONTHS.len() - 1]
                ),
                json!({ "after": after }),
            )
            .await;
        rows.extend(data[field]["nodes"].as_array().unwrap().iter().cloned());
        if !data[field]["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return rows;
        }
        after = data[field]["pageInfo"]["endCursor"].clone();
    }
}

/// The association's sums per month from the three statistics lists, as of an instant.
async fn list_sums(app: &TestApp, as_of: Option<DateTime<Utc>>) -> BTreeMap<String, Sums> {
    let mut sums: BTreeMap<String, Sums> = BTreeMap::new();
    for row in list(app, "clientStatistics", "activeClients", as_of).await {
        sums.entry(row["period"].as_str().unwrap().to_owned()).or_default().0 += row["activeClients"].as_i64().unwrap();
    }
    for row in list(app, "loanStatistics", "outstandingAmount", as_of).await {
        sums.entry(row["period"].as_str().unwrap().to_owned()).or_default().1 +=
            row["outstandingAmount"].as_str().unwrap().parse::<f64>().unwrap();
    }
    for row in list(app, "staffStatistics", "headcount", as_of).await {
        sums.entry(row["period"].as_str().unwrap().to_owned()).or_default().2 += row["headcount"].as_i64().unwrap();
    }
    sums
}

fn assert_close(found: &BTreeMap<String, Sums>, expected: &BTreeMap<String, Sums>, context: &str) {
    assert_eq!(
        found.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "{context}: months"
    );
    for (month, (clients, outstanding, staff)) in expected {
        let got = found[month];
        assert_eq!(got.0, *clients, "{context}: active clients of {month}");
        assert!(
            (got.1 - outstanding).abs() < 0.005,
            "{context}: outstanding of {month}: {} ≠ {outstanding}",
            got.1
        );
        assert_eq!(got.2, *staff, "{context}: staff of {month}");
    }
}

/// Property: after any generated sequence of revisions of two released months, reading as of each instant between
/// them gives exactly the revisions standing then (the demo's figures before the first), in `indicators` and in the
/// lists; without `asOf`, the last ones.
async fn as_of_gives_the_revisions_standing_at_every_instant(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    for seed in [11_u64, 12] {
        let mut g = Gen::new(seed);
        let start = Utc::now();
        let mut expected = indicator_sums(&app, None).await;
        assert_close(
            &list_sums(&app, None).await,
            &expected,
            "the lists agree with indicators",
        );
        let mut history = vec![(start, expected.clone())];
        for step in 0..g.range(3, 6) {
            let period = *g.pick(MONTHS);
            let month = valid_month(seed * 100 + step as u64);
            submit(&app, period, &month).await;
            expected.insert(period.to_owned(), sums_of(&month));
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            history.push((Utc::now(), expected.clone()));
        }
        for (at, standing) in &history {
            let context = format!("seed {seed}, as of {}", instant(*at));
            assert_close(&indicator_sums(&app, Some(*at)).await, standing, &context);
            assert_close(&list_sums(&app, Some(*at)).await, standing, &context);
        }
        let (_, last) = history.last().unwrap();
        assert_close(&indicator_sums(&app, None).await, last, "now");
    }
}
on_both_backends!(as_of_gives_the_revisions_standing_at_every_instant);

/// `revised` per association and month for a measure, as of an instant.
async fn revised(app: &TestApp, as_of: Option<DateTime<Utc>>) -> BTreeMap<(String, String), (bool, bool)> {
    let as_of = as_of.map_or(String::new(), |t| format!(", asOf: \"{}\"", instant(t)));
    let data = app
        .query(
            &format!(
                "{{ indicators(period: {{ from: \"2020-04\", to: \"2020-07\" }}, groupBy: [ASSOCIATION]{as_of}) {{ period \
                 association {{ code }} activeClients {{ revised }} par30Rate {{ revised }} }} }}"
            ),
            json!({}),
        )
        .await;
    data["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                (
                    row["period"].as_str().unwrap().to_owned(),
                    row["association"]["code"].as_str().unwrap().to_owned(),
                ),
                (
                    row["activeClients"]["revised"].as_bool().unwrap(),
                    row["par30Rate"]["revised"].as_bool().unwrap(),
                ),
            )
        })
        .collect()
}

/// A released value changed by a later revision is `revised`, the values it did not change are not, and as of an
/// instant before the revision nothing is; a month released before the revision and read as of before its release
/// is not shown to partners.
async fn a_released_value_changed_later_is_marked_revised(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let before = Utc::now();
    let untouched = revised(&app, None).await;
    // The revision changes PAR30 in 2020-06 but keeps its active clients: the figures of another seed, with the
    // client rows as they stood.
    let clients = list(
        &app,
        "clientStatistics",
        "activeClients newClients region { code } segment gender area",
        None,
    )
    .await
    .into_iter()
    .filter(|row| row["period"] == "2020-06")
    .map(|row| {
        json!({
            "region": row["region"]["code"], "segment": row["segment"], "gender": row["gender"], "area": row["area"],
            "active_clients": row["activeClients"], "new_clients": row["newClients"],
        })
    })
    .collect::<Vec<_>>();
    assert!(!clients.is_empty(), "the demo has {ASSOCIATION} figures in 2020-06");
    let mut month = valid_month(7);
    month.clients = clients;
    submit(&app, "2020-06", &month).await;
    let now = revised(&app, None).await;
    for (key, flags) in &now {
        let (period, association) = key;
        if period == "2020-06" && association == ASSOCIATION {
            assert_eq!(
                *flags,
                (false, true),
                "{key:?}: PAR30 changed after release, active clients did not"
            );
        } else {
            assert_eq!(*flags, untouched[key], "{key:?} is not touched by the revision");
        }
    }
    assert_eq!(
        revised(&app, Some(before)).await,
        untouched,
        "as of before the revision"
    );

    // A partner reading as of before 2020-06 was released sees no 2020-06.
    let partner = app.issue_key(PartnerKind::Ministry, None).await;
    let months = |at: &str| {
        format!(
            "{{ indicators(period: {{ from: \"2020-05\", to: \"2020-06\" }}, asOf: \"{at}\") {{ period activeClients {{ value }} }} }}"
        )
    };
    let periods = |reply: observatory_tests::Reply| {
        reply.data()["indicators"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row["period"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let then = app
        .graphql_as(Some(&partner), &months("2020-07-01T00:00:00Z"), json!({}))
        .await;
    assert_eq!(periods(then), ["2020-05"]);
    let now = app
        .graphql_as(Some(&partner), &months(&instant(Utc::now())), json!({}))
        .await;
    assert_eq!(periods(now), ["2020-05", "2020-06"]);
}
on_both_backends!(a_released_value_changed_later_is_marked_revised);
