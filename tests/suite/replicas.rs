//! Read replicas (`--replica-url`), against a real streaming replica of the PostgreSQL test server that replays on
//! purpose about a second late (`.ci/replica.sh 5434 1s`): queries go to it, yet no answer is newer than the version
//! it is tagged with, a caller reads its own writes at once, and a replica lagging beyond the allowed lag leaves the
//! rotation with its lag in `/metrics`.

#![cfg_attr(not(replica), allow(dead_code, unused_imports))]

use api::HttpLimits;
use api::replica::Replicas;
use axum::body::Body;
use axum::http::{Request, header};
use observatory_tests::{Backend, Fixture, TestApp, app_on, fresh_database, postgres_url_for};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The replica server (`TEST_REPLICA_URL` when the tests were built).
#[cfg(replica)]
const REPLICA_SERVER: &str = env!("OBSERVATORY_TEST_REPLICA_URL");
#[cfg(not(replica))]
const REPLICA_SERVER: &str = "";

/// The replica server's URL for the test database `cleanup` names.
fn replica_of(cleanup: &observatory_tests::Cleanup) -> String {
    let own = cleanup.url();
    let (_, name) = own.rsplit_once('/').expect("a database name");
    postgres_url_for(REPLICA_SERVER, name)
}

/// The app over a fresh database, with the replica (allowed `max_lag`) answering its queries once it holds the
/// database: waits until the replica answers the monitor, and with `in_rotation` until it is in rotation.
async fn app_with_replica(max_lag: Duration, in_rotation: bool) -> (TestApp, Arc<Replicas>) {
    let backend = Backend::postgres().expect("TEST_DATABASE_URL was set when the tests were built");
    let (db, cleanup) = fresh_database(&backend, Fixture::Empty).await;
    let replicas = Arc::new(
        Replicas::connect(&[replica_of(&cleanup)], max_lag)
            .await
            .expect("the replica's pool opens"),
    );
    let limits = HttpLimits {
        replicas: Some(replicas.clone()),
        ..HttpLimits::default()
    };
    let app = app_on(&backend, db, cleanup, limits).await;
    let began = Instant::now();
    while !replicas.seen()[0].answering || (in_rotation && !replicas.seen()[0].in_rotation) {
        assert!(
            began.elapsed() < Duration::from_secs(60),
            "the replica never came into rotation"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (app, replicas)
}

/// An anonymous GET of the released months' count: the count, and the version its entity tag names (none when the
/// answer was not tagged: a write committed while it ran).
async fn released_anonymously(app: &TestApp) -> (u64, Option<u64>) {
    let request = Request::get("/graphql?query=%7B%20releases%20%7B%20totalCount%20%7D%20%7D")
        .header(header::ACCEPT, "application/json")
        .body(Body::empty())
        .unwrap();
    let reply = app.send(request).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let count = reply.body["data"]["releases"]["totalCount"].as_u64().expect("a count");
    let version = reply.headers.get(header::ETAG).map(|tag| {
        let tag = tag.to_str().unwrap().trim_matches('"');
        u64::from_str_radix(tag.split('-').next().unwrap(), 16).expect("a hexadecimal version")
    });
    (count, version)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(replica), ignore = "TEST_REPLICA_URL was not set when the tests were built")]
async fn a_delayed_replica_answers_never_newer_than_their_version_nor_older_than_the_callers_write() {
    let (app, _replicas) = app_with_replica(Duration::from_secs(30), true).await;
    // Each release is one write (one step of the data's version): tagged answers of version v must all count
    // v − base releases, whichever database answered.
    let mut bases = std::collections::BTreeSet::new();
    let mut stale = 0;
    for month in 1..=8 {
        let period = format!("2020-{month:02}");
        app.query(
            "mutation($p: Period!) { releasePeriod(period: $p, note: \"checked\") { period } }",
            json!({ "p": period }),
        )
        .await;
        // The writer reads its own write at once, though the replica replays a second late.
        let own = app.query("{ releases { totalCount } }", json!({})).await;
        assert_eq!(
            own["releases"]["totalCount"], month,
            "the writer sees its release of {period}"
        );
        for _ in 0..5 {
            let (count, version) = released_anonymously(&app).await;
            assert!(count <= month, "no answer counts a release not made yet");
            stale += usize::from(count < month);
            if let Some(version) = version {
                bases.insert(version - count);
            }
        }
    }
    assert!(
        stale > 0,
        "the public's reads came from the delayed replica (some did not count the last release yet)"
    );
    assert_eq!(
        bases.len(),
        1,
        "every tagged answer counts exactly the writes its version counts: {bases:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(replica), ignore = "TEST_REPLICA_URL was not set when the tests were built")]
async fn a_replica_lagging_beyond_the_allowed_lag_leaves_the_rotation_and_metrics_show_it() {
    // Other tests write to the same server all along, so a replica a second late may never be in rotation with
    // 200 ms allowed: wait only until it answers.
    let (app, replicas) = app_with_replica(Duration::from_millis(200), false).await;
    app.query(
        "mutation { releasePeriod(period: \"2020-01\", note: \"checked\") { period } }",
        json!({}),
    )
    .await;
    let began = Instant::now();
    // Until the release is replayed, a second later, the replica is behind and its last replayed transaction a
    // second old at least.
    tokio::time::sleep(Duration::from_millis(2 * api::replica::WATCH_EVERY.as_millis() as u64)).await;
    assert!(
        !replicas.seen()[0].in_rotation,
        "a replica a second behind stays in rotation with 200 ms allowed (after {:?})",
        began.elapsed()
    );
    // Out of rotation, the primary answers the public: the release is counted at once.
    let (count, _) = released_anonymously(&app).await;
    assert_eq!(count, 1, "the primary answers while the replica lags");
    let metrics = app
        .send(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .text;
    let name = &replicas.seen()[0].name;
    assert!(
        metrics.contains(&format!("observatory_replica_in_rotation{{replica=\"{name}\"}} 0")),
        "{metrics}"
    );
    let lag: f64 = metrics
        .lines()
        .find_map(|line| line.strip_prefix(&format!("observatory_replica_lag_seconds{{replica=\"{name}\"}} ")))
        .expect("the replica's lag is exported")
        .parse()
        .unwrap();
    assert!(lag > 0.2, "the exported lag is beyond the allowed 200 ms: {lag}");
}

/// A replica that cannot be reached never enters the rotation: the primary answers every query, and `/metrics` says
/// the replica is out. Needs no real replica.
async fn an_unreachable_replica_is_never_chosen(backend: Backend) {
    let (db, cleanup) = fresh_database(&backend, Fixture::Demo).await;
    let replicas = Arc::new(
        Replicas::connect(
            &["postgres://postgres@127.0.0.1:1/nowhere".to_owned()],
            Duration::from_secs(5),
        )
        .await
        .expect("a lazy pool opens without its server"),
    );
    let limits = HttpLimits {
        replicas: Some(replicas.clone()),
        ..HttpLimits::default()
    };
    let app = app_on(&backend, db, cleanup, limits).await;
    for _ in 0..3 {
        let data = app.query("{ regions { totalCount } }", json!({})).await;
        assert_eq!(data["regions"]["totalCount"], 12);
        let (_, version) = released_anonymously(&app).await;
        assert!(version.is_some(), "the primary's answers are tagged");
        tokio::time::sleep(api::replica::WATCH_EVERY).await;
    }
    let seen = &replicas.seen()[0];
    assert!(
        !seen.in_rotation && !seen.answering,
        "the unreachable replica stays out of rotation"
    );
    let metrics = app
        .send(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .text;
    assert!(
        metrics.contains("observatory_replica_in_rotation{replica=\"127.0.0.1:1\"} 0"),
        "{metrics}"
    );
}

mod an_unreachable_replica_is_never_chosen {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[cfg_attr(not(postgres), ignore = "TEST_DATABASE_URL was not set when the tests were built")]
    async fn postgres() {
        let backend = observatory_tests::Backend::postgres()
            .expect("TEST_DATABASE_URL was set when the tests were built and must be set to run them");
        super::an_unreachable_replica_is_never_chosen(backend).await;
    }
}
