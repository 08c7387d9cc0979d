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

/// Over GET, a reusable answer carries an entity tag from the data's version: presenting it gets 304 without a
/// body until a write changes the data, then 200 with a new tag. Anonymous answers may be kept by shared caches,
/// keyed ones only privately; both are revalidated.
async fn get_answers_carry_an_etag_and_revalidate(backend: Backend) {
    let mut app = spawn_app(&backend, Fixture::Demo).await;
    let key = app.issue_key(observatory_tests::PartnerKind::Observatory, None).await;
    let path = "/graphql?query=%7B%20regions%20%7B%20totalCount%20%7D%20%7D";
    let get = |key: Option<&str>, tag: Option<&str>| {
        let mut request = Request::get(path).header(header::ACCEPT, "application/json");
        if let Some(key) = key {
            request = request.header(header::AUTHORIZATION, format!("Bearer {key}"));
        }
        if let Some(tag) = tag {
            request = request.header(header::IF_NONE_MATCH, tag);
        }
        request.body(Body::empty()).unwrap()
    };
    for caller in [None, Some(key.as_str())] {
        let first = app.send(get(caller, None)).await;
        assert_eq!(first.status, 200, "{}", first.text);
        let tag = first.headers[header::ETAG].to_str().unwrap().to_owned();
        let control = first.headers[header::CACHE_CONTROL].to_str().unwrap();
        assert_eq!(
            control,
            if caller.is_none() {
                "public, no-cache"
            } else {
                "private, no-cache"
            }
        );
        assert!(first.headers[header::VARY].to_str().unwrap().contains("Authorization"));
        let again = app.send(get(caller, Some(&tag))).await;
        assert_eq!(again.status, 304);
        assert!(again.text.is_empty());
        assert_eq!(again.headers[header::ETAG].to_str().unwrap(), tag);
        let other = app.send(get(caller, Some("\"0-other\""))).await;
        assert_eq!(other.status, 200);

        // A write anywhere moves the version on: the old tag no longer matches.
        app.set_key(Some(key.clone()));
        app.query(
            "mutation { createPartner(input: { code: \"ETAG-PARTNER-X\", name: \"x\", kind: FUND }) { code } }"
                .replace("X", if caller.is_none() { "1" } else { "2" })
                .as_str(),
            json!({}),
        )
        .await;
        let after = app.send(get(caller, Some(&tag))).await;
        assert_eq!(after.status, 200, "{}", after.text);
        assert_ne!(after.headers[header::ETAG].to_str().unwrap(), tag);
    }
    // POST answers carry no tag.
    let post = app.graphql("{ regions { totalCount } }", json!({})).await;
    assert!(post.headers.get(header::ETAG).is_none());
}
on_both_backends!(get_answers_carry_an_etag_and_revalidate);

/// Property under concurrency: with many requests in flight sharing version reads, no request that began after a
/// write was committed (by another process) gets an answer without it.
async fn concurrent_requests_never_miss_a_write_committed_before_they_began(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let key = app.issue_key(observatory_tests::PartnerKind::Observatory, None).await;
    let limits = || HttpLimits {
        keyed_per_minute: 1_000_000,
        ..HttpLimits::default()
    };
    let reader = api::router(AppState::load(app.db.clone(), limits()).await);
    let writer = api::router(AppState::load(app.db.clone(), limits()).await);
    let count = r#"{ releases(first: 1) { totalCount } }"#;
    let before = post(&reader, &key, json!({ "query": count }).to_string()).await["data"]["releases"]["totalCount"]
        .as_i64()
        .unwrap();
    let started = std::time::Instant::now();
    let mut readers = Vec::new();
    for _ in 0..8 {
        let (reader, key) = (reader.clone(), key.clone());
        readers.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            while started.elapsed() < std::time::Duration::from_millis(1500) {
                let asked = started.elapsed();
                let answer = post(&reader, &key, json!({ "query": count }).to_string()).await;
                seen.push((asked, answer["data"]["releases"]["totalCount"].as_i64().unwrap()));
            }
            seen
        }));
    }
    // Releases of months not yet released, each acknowledged before the next; when each was acknowledged.
    let mut committed = Vec::new();
    for (i, month) in ["2021-01", "2021-02", "2021-03", "2021-04", "2021-05", "2021-06"]
        .iter()
        .enumerate()
    {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        let reply = post(
            &writer,
            &key,
            json!({
                "query": "mutation($p: Period!) { releasePeriod(period: $p, force: true, note: \"test\") { period } }",
                "variables": { "p": month },
            })
            .to_string(),
        )
        .await;
        assert!(reply.get("errors").is_none(), "{reply}");
        committed.push((started.elapsed(), before + i as i64 + 1));
    }
    let mut checked = 0;
    for reader in readers {
        for (asked, total) in reader.await.unwrap() {
            let floor = committed
                .iter()
                .filter(|(at, _)| *at < asked)
                .map(|(_, total)| *total)
                .max()
                .unwrap_or(before);
            assert!(
                total >= floor,
                "a request begun at {asked:?} saw {total} releases, {floor} were committed"
            );
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} requests ran");
}
on_both_backends!(concurrent_requests_never_miss_a_write_committed_before_they_began);

/// A GraphQL query over the demo's indicators, told apart from the others by `n` (a comment: each `n` is another
/// request, with the same answer).
fn indicators(n: usize) -> String {
    format!(
        r#"{{ indicators(period: {{ from: "2020-12", to: "2020-12" }}) {{ period activeClients {{ value }} }} }} # {n}"#
    )
}

/// A figure of `/metrics`: the sum of the lines that start with `prefix`.
async fn metric(router: &axum::Router, prefix: &str) -> f64 {
    let response = router
        .clone()
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8_lossy(&bytes)
        .lines()
        .filter(|line| line.starts_with(prefix))
        .map(|line| line.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum()
}

/// Kept answers earn their place: under requests that never come again the server keeps nothing, and when a few
/// requests come again among many that come once, those few are answered from memory and only they are kept.
async fn only_requests_that_come_again_are_kept(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let key = app.issue_key(observatory_tests::PartnerKind::Observatory, None).await;
    let limits = HttpLimits {
        keyed_per_minute: 1_000_000,
        ..HttpLimits::default()
    };
    let router = api::router(AppState::load(app.db.clone(), limits).await);
    let reused = r#"observatory_graphql_requests_total{operation="anonymous",outcome="reused"}"#;
    let mut n = 0;
    let mut once = || {
        n += 1;
        indicators(n)
    };

    // Nothing repeats: nothing is kept, nothing reused.
    for _ in 0..200 {
        let answer = post(&router, &key, json!({ "query": once() }).to_string()).await;
        assert!(answer.get("errors").is_none(), "{answer}");
    }
    assert_eq!(metric(&router, "observatory_kept_answers ").await, 0.0);
    assert_eq!(metric(&router, "observatory_kept_answer_bytes ").await, 0.0);
    assert_eq!(metric(&router, reused).await, 0.0);

    // Three requests come five times each among 150 that come once: each is kept the second time it comes and
    // reused from the third, with the answer it had when worked out; nothing else is kept.
    let repeated = [1_000_001, 1_000_002, 1_000_003].map(indicators);
    let mut first = Vec::new();
    for round in 0..5 {
        for (i, query) in repeated.iter().enumerate() {
            for _ in 0..10 {
                post(&router, &key, json!({ "query": once() }).to_string()).await;
            }
            let answer = post(&router, &key, json!({ "query": query }).to_string()).await;
            assert!(answer.get("errors").is_none(), "{answer}");
            if round == 0 {
                first.push(answer);
            } else {
                assert_eq!(answer, first[i], "round {round}: {query}");
            }
        }
    }
    assert_eq!(metric(&router, reused).await, 9.0);
    assert_eq!(metric(&router, "observatory_kept_answers ").await, 3.0);
    let bytes = metric(&router, "observatory_kept_answer_bytes ").await;
    let answers: usize = first.iter().map(|answer| answer.to_string().len()).sum();
    let requests: usize = repeated.iter().map(String::len).sum();
    assert!(
        bytes >= answers as f64 && bytes <= (answers + requests + 3 * 200) as f64,
        "{bytes} bytes kept for three answers of {answers} bytes"
    );
}
on_both_backends!(only_requests_that_come_again_are_kept);
