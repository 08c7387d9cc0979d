//! Reused answers: a query over the published data is answered again from memory while the data has not changed.
//! The property attacked: whatever sequence of writes (reports, revisions, releases) two processes over one database
//! make, every answer either process gives equals the answer a process that keeps nothing computes at that moment.

use crate::reporting::{ASSOCIATION, valid_month};
use api::{AppState, HttpLimits};
use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use observatory_tests::{Backend, Fixture, Gen, on_both_backends, spawn_app};
use serde_json::{Value, json};
use tower::ServiceExt;

/// Queries a dashboard repeats; each reads figures that the writes below change.
const QUERIES: &[&str] = &[
    r#"{ indicators(period: { from: "2020-10", to: "2020-12" }) { period activeClients { value } par30Rate { value } } }"#,
    r#"{ indicators(period: { from: "2020", to: "2020", granularity: YEAR }, groupBy: [ASSOCIATION]) { association { code } outstandingAmount { value revised } } }"#,
    r#"{ loanStatistics(first: 5, filter: { associations: ["TAFOUKT"], from: "2020-11", to: "2020-12" }) { totalCount nodes { period par30Amount } } }"#,
    r#"{ releases(first: 3) { nodes { period note } } }"#,
];

const MONTHS: &[&str] = &["2020-11", "2020-12"];

async fn post(router: &axum::Router, key: &str, body: String) -> Value {
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .body(Body::from(body))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

async fn answers_stay_current_across_processes(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let key = app.issue_key(observatory_tests::PartnerKind::Observatory, None).await;
    let limits = || HttpLimits {
        keyed_per_minute: 100_000,
        ..HttpLimits::default()
    };
    // Two processes over the same database, each keeping answers.
    let processes = [
        api::router(AppState::load(app.db.clone(), limits()).await),
        api::router(AppState::load(app.db.clone(), limits()).await),
    ];
    let mut g = Gen::new(41);
    let mut step = 0_u64;
    for _ in 0..14 {
        // Both processes answer every query (keeping the answers), then one of them writes, or nothing happens.
        for process in &processes {
            for query in QUERIES {
                let fresh = api::router(AppState::load(app.db.clone(), limits()).await);
                let expected = post(&fresh, &key, json!({ "query": query }).to_string()).await;
                assert!(expected.get("errors").is_none(), "{expected}");
                let answer = post(process, &key, json!({ "query": query }).to_string()).await;
                assert_eq!(answer, expected, "step {step}: {query}");
            }
        }
        step += 1;
        let writer = g.pick(&processes);
        match g.below(3) {
            0 => {
                let month = valid_month(500 + step);
                let reply = post(
                    writer,
                    &key,
                    json!({
                        "query": "mutation($input: ReportInput!) { submitReport(input: $input) { status } }",
                        "variables": { "input": {
                            "association": ASSOCIATION, "period": g.pick(MONTHS),
                            "clients": month.clients, "loans": month.loans, "staff": month.staff,
                        }},
                    })
                    .to_string(),
                )
                .await;
                assert_eq!(reply["data"]["submitReport"]["status"], "ACCEPTED", "{reply}");
            }
            1 => {
                let reply = post(
                    writer,
                    &key,
                    json!({
                        "query": "mutation($p: Period!, $n: String!) { releasePeriod(period: $p, force: true, note: $n) { period } }",
                        "variables": { "p": format!("2021-{:02}", 1 + step % 9), "n": format!("release {step}") },
                    })
                    .to_string(),
                )
                .await;
                assert!(
                    reply.get("errors").is_none() || reply.to_string().contains("CONFLICT"),
                    "{reply}"
                );
            }
            _ => {}
        }
    }
}
on_both_backends!(answers_stay_current_across_processes);
