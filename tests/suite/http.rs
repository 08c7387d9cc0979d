//! GraphQL over HTTP conformance: methods, media types, status codes, limits.

use api::HttpLimits;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use observatory_tests::{Backend, Fixture, spawn_app, spawn_app_with};
use serde_json::json;
use std::time::Duration;

const QUERY: &str = "{ regions(first: 2) { totalCount nodes { code } } }";

fn post(accept: Option<&str>, content_type: &str, body: String) -> Request<Body> {
    let mut builder = Request::post("/graphql").header(header::CONTENT_TYPE, content_type);
    if let Some(accept) = accept {
        builder = builder.header(header::ACCEPT, accept);
    }
    builder.body(Body::from(body)).unwrap()
}

fn get(query_string: &str) -> Request<Body> {
    Request::get(format!("/graphql?{query_string}"))
        .header(header::ACCEPT, "application/graphql-response+json")
        .body(Body::empty())
        .unwrap()
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn a_query_over_post_answers_with_the_graphql_response_media_type() {
    let app = spawn_app(&Backend::Sqlite, Fixture::Empty).await;
    let reply = app.graphql(QUERY, json!({})).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.content_type, "application/graphql-response+json");
    assert_eq!(reply.data()["regions"]["totalCount"], 12);
    assert_eq!(reply.data()["regions"]["nodes"][0]["code"], "MA-01");
}

#[tokio::test]
async fn the_response_media_type_follows_the_accept_header() {
    let app = spawn_app(&Backend::Sqlite, Fixture::Empty).await;
    let body = json!({ "query": QUERY }).to_string();
    let json_only = app
        .send(post(Some("application/json"), "application/json", body.clone()))
        .await;
    assert_eq!(
        (json_only.status, json_only.content_type.as_str()),
        (StatusCode::OK, "application/json")
    );
    let no_accept = app.send(post(None, "application/json", body.clone())).await;
    assert_eq!(
        no_accept.content_type, "application/json",
        "a request without Accept gets application/json"
    );
    let html = app.send(post(Some("text/html"), "application/json", body)).await;
    assert_eq!(html.status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(html.codes(), ["NOT_ACCEPTABLE"]);
}

#[tokio::test]
async fn a_validation_error_is_400_under_graphql_response_json_and_200_under_json() {
    let app = spawn_app(&Backend::Sqlite, Fixture::Empty).await;
    let body = json!({ "query": "{ regions { nodes { population } } }" }).to_string();
    let strict = app
        .send(post(
            Some("application/graphql-response+json"),
            "application/json",
            body.clone(),
        ))
        .await;
    assert_eq!(strict.status, StatusCode::BAD_REQUEST);
    assert!(
        strict.body.get("data").is_none(),
        "a request error carries no data entry: {}",
        strict.body
    );
    assert_eq!(strict.codes(), ["GRAPHQL_VALIDATION_FAILED"]);
    assert!(strict.message().contains("population"), "{}", strict.message());
    let legacy = app.send(post(Some("application/json"), "application/json", body)).await;
    assert_eq!(legacy.status, StatusCode::OK);
    assert_eq!(legacy.codes(), ["GRAPHQL_VALIDATION_FAILED"]);
}

#[tokio::test]
async fn a_document_that_does_not_parse_is_a_parse_error() {
    let app = spawn_app(&Backend::Sqlite, Fixture::Empty).await;
    let reply = app.graphql("{ regions { ", json!({})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.codes(), ["GRAPHQL_PARSE_FAILED"]);
}

#[tokio::test]
async fn a_query_over_get_is_served_and_a_mutation_over_get_is_405() {
    let app = spawn_app(&Backend::Sqlite, Fixture::Empty).await;
    let reply = app.send(get(&format!("query={}", encode(QUERY)))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.data()["regions"]["totalCount"], 12);

    let with_variables = app
        .send(get(&format!(
            "query={}&variables={}",
            encode("query($code: String!) { region(code: $code) { nameEn } }"),
            encode(r#"{"code":"MA-06"}"#)
        )))
        .await;
    assert_eq!(
        with_variables.data()["region"]["nameEn"]
            .as_str()
            .map(|s| s.contains("Casablanca")),
        Some(true)
    );

    let mutation = app
        .send(get(&format!("query={}", encode("mutation { anything }"))))
        .await;
    assert_eq!(mutation.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(mutation.headers.get(header::ALLOW).unwrap(), "POST");
    assert_eq!(mutation.codes(), ["METHOD_NOT_ALLOWED"]);
}

#[tokio::test]
async fn batched_arrays_malformed_json_and_missing_queries_are_refused_with_400() {
    let app = spawn_app(&Backend::Sqlite, Fixture::Empty).await;
    let batch = app
        .post_json(&json!([{ "query": QUERY }, { "query": QUERY }]).to_string())
        .await;
    assert_eq!(batch.status, StatusCode::BAD_REQUEST);
    assert!(batch.message().contains("batched"), "{}", batch.message());
    let malformed = app.post_json("{\"query\": ").await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.codes(), ["BAD_REQUEST"]);
    assert!(malformed.message().contains("not valid JSON"));
    let missing = app.post_json("{\"variables\": {}}").await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(missing.message().contains("query"));
    let bad_variables = app
        .post_json(&json!({ "query": QUERY, "variables": [1] }).to_string())
        .await;
    assert_eq!(bad_variables.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let app = spawn_app(&Backend::Sqlite, Fixture::Empty).await;
    let reply = app
        .send(post(Some("application/json"), "text/plain", QUERY.to_owned()))
        .await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(reply.codes(), ["UNSUPPORTED_MEDIA_TYPE"]);
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let limits = HttpLimits {
        max_body_bytes: 1024,
        ..HttpLimits::default()
    };
    let app = spawn_app_with(&Backend::Sqlite, Fixture::Empty, limits).await;
    let padding = " ".repeat(2048);
    let reply = app
        .post_json(&json!({ "query": format!("{{ regions {{ totalCount }} {padding} }}") }).to_string())
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.codes(), ["PAYLOAD_TOO_LARGE"]);
    let small = app.graphql(QUERY, json!({})).await;
    assert_eq!(small.status, StatusCode::OK, "requests under the limit still pass");
}

#[tokio::test]
async fn a_request_that_runs_too_long_is_stopped_with_503() {
    let limits = HttpLimits {
        request_timeout: Duration::from_millis(1),
        ..HttpLimits::default()
    };
    let app = spawn_app_with(&Backend::Sqlite, Fixture::Demo, limits).await;
    let heavy = "{ loanStatistics(first: 300) { totalCount nodes { outstandingAmount association { code
        branches(first: 20) { totalCount nodes { code region { code } } } } } } }";
    let reply = app.graphql(heavy, json!({})).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.codes(), ["TIMEOUT"]);
    assert!(reply.headers.get(header::RETRY_AFTER).is_some());
}

#[tokio::test]
async fn other_methods_are_405_and_health_and_readiness_answer() {
    let app = spawn_app(&Backend::Sqlite, Fixture::Empty).await;
    let put = app
        .send(
            Request::builder()
                .method(Method::PUT)
                .uri("/graphql")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(put.status, StatusCode::METHOD_NOT_ALLOWED);
    let health = app.send(Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(health.status, StatusCode::OK);
    let ready = app.send(Request::get("/readyz").body(Body::empty()).unwrap()).await;
    assert_eq!(ready.status, StatusCode::OK);
    let graphiql = app.send(Request::get("/graphiql").body(Body::empty()).unwrap()).await;
    assert_eq!(graphiql.status, StatusCode::OK);
    assert!(graphiql.body.as_str().is_some_and(|html| html.contains("GraphiQL")));
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = spawn_app(&Backend::Sqlite, Fixture::Empty).await;
    app.db.clone().close().await.unwrap();
    let ready = app.send(Request::get("/readyz").body(Body::empty()).unwrap()).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
}

/// Answers are compressed when the client accepts it (gzip or brotli) and read back to the same JSON; a client that
/// does not ask gets them plain.
#[tokio::test]
async fn answers_are_compressed_when_the_client_accepts_it() {
    use std::io::Read;
    let app = spawn_app(&Backend::Sqlite, Fixture::Demo).await;
    let query =
        json!({ "query": "{ branches(first: 500) { nodes { code name city latitude longitude } } }" }).to_string();
    let send = |encoding: Option<&'static str>| {
        let mut request = Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json");
        if let Some(encoding) = encoding {
            request = request.header(header::ACCEPT_ENCODING, encoding);
        }
        request.body(Body::from(query.clone())).unwrap()
    };
    let plain = app.send(send(None)).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert!(plain.headers.get(header::CONTENT_ENCODING).is_none());
    let raw = |request: Request<Body>| {
        let router = app.router.clone();
        async move {
            use tower::ServiceExt;
            let response = router.oneshot(request).await.unwrap();
            let encoding = response.headers()[header::CONTENT_ENCODING]
                .to_str()
                .unwrap()
                .to_owned();
            let bytes = http_body_util::BodyExt::collect(response.into_body())
                .await
                .unwrap()
                .to_bytes();
            (encoding, bytes.to_vec())
        }
    };
    let (encoding, gzip) = raw(send(Some("gzip"))).await;
    assert_eq!(encoding, "gzip");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gzip[..])
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, plain.text);
    assert!(
        gzip.len() * 3 < plain.text.len(),
        "{} bytes compressed to {}",
        plain.text.len(),
        gzip.len()
    );
    let (encoding, br) = raw(send(Some("br;q=1.0, gzip;q=0.8"))).await;
    assert_eq!(encoding, "br");
    let mut text = String::new();
    brotli::Decompressor::new(&br[..], 4096)
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, plain.text);
}

/// A configured web origin gets its preflight answered and may read answers; another origin gets no CORS grant, and
/// with no origin configured nothing is granted.
#[tokio::test]
async fn cors_grants_configured_origins_only() {
    let limits = HttpLimits {
        cors_origins: vec![header::HeaderValue::from_static("https://dashboard.example")],
        ..HttpLimits::default()
    };
    let app = spawn_app_with(&Backend::Sqlite, Fixture::Empty, limits).await;
    let preflight = |origin: &str| {
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/graphql")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization, content-type")
            .body(Body::empty())
            .unwrap()
    };
    let granted = app.send(preflight("https://dashboard.example")).await;
    assert_eq!(granted.status, StatusCode::OK);
    assert_eq!(
        granted.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://dashboard.example"
    );
    let methods = granted.headers[header::ACCESS_CONTROL_ALLOW_METHODS].to_str().unwrap();
    assert!(methods.contains("POST") && methods.contains("GET"), "{methods}");
    let allowed = granted.headers[header::ACCESS_CONTROL_ALLOW_HEADERS]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(
        allowed.contains("authorization") && allowed.contains("content-type"),
        "{allowed}"
    );
    let other = app.send(preflight("https://elsewhere.example")).await;
    assert!(other.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    let answer = app
        .send(
            Request::post("/graphql")
                .header(header::ORIGIN, "https://dashboard.example")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json!({ "query": QUERY }).to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://dashboard.example"
    );
    assert!(
        answer.headers[header::ACCESS_CONTROL_EXPOSE_HEADERS]
            .to_str()
            .unwrap()
            .to_lowercase()
            .contains("etag")
    );

    let closed = spawn_app(&Backend::Sqlite, Fixture::Empty).await;
    let refused = closed.send(preflight("https://dashboard.example")).await;
    assert!(refused.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}

/// `/metrics` counts GraphQL requests by operation and outcome, their latencies and refusals by reason, in the
/// Prometheus text format, with the database pool's use and the process's memory.
#[tokio::test]
async fn metrics_count_requests_by_operation_outcome_and_refusal() {
    let app = spawn_app(&Backend::Sqlite, Fixture::Empty).await;
    let named = json!({ "query": "query Regions { regions { totalCount } }", "operationName": "Regions" }).to_string();
    // The first two are worked out (the answer is kept when the request comes again), the third reuses it.
    for _ in 0..3 {
        assert_eq!(app.post_json(&named).await.status, StatusCode::OK);
    }
    assert_eq!(app.post_json("{not json").await.status, StatusCode::BAD_REQUEST);
    let unknown = app.graphql("{ nothingHere }", json!({})).await;
    assert_eq!(unknown.codes(), ["GRAPHQL_VALIDATION_FAILED"]);

    let reply = app.send(Request::get("/metrics").body(Body::empty()).unwrap()).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply.content_type.starts_with("text/plain; version=0.0.4"),
        "{}",
        reply.content_type
    );
    let value = |line_start: &str| -> f64 {
        reply
            .text
            .lines()
            .find(|l| l.starts_with(line_start))
            .unwrap_or_else(|| panic!("no `{line_start}` in\n{}", reply.text))
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(
        value(r#"observatory_graphql_requests_total{operation="Regions",outcome="ok"}"#),
        2.0
    );
    assert_eq!(
        value(r#"observatory_graphql_requests_total{operation="Regions",outcome="reused"}"#),
        1.0
    );
    assert_eq!(
        value(r#"observatory_graphql_refusals_total{reason="BAD_REQUEST"}"#),
        1.0
    );
    // A document that does not fit the schema is answered by the engine: an answer with errors, not a refusal.
    assert_eq!(
        value(r#"observatory_graphql_requests_total{operation="anonymous",outcome="errors"}"#),
        1.0
    );
    let total: f64 = ["ok", "reused", "refused", "errors"]
        .iter()
        .map(|o| {
            value(&format!(
                r#"observatory_graphql_request_duration_seconds_count{{outcome="{o}"}}"#
            ))
        })
        .sum();
    assert_eq!(total, 5.0);
    assert_eq!(
        value(r#"observatory_graphql_request_duration_seconds_bucket{outcome="ok",le="+Inf"}"#),
        2.0
    );
    assert_eq!(value("observatory_db_pool_max "), 4.0);
    assert!(value("observatory_db_pool_connections ") >= 1.0);
    assert_eq!(value("observatory_aggregate_places "), 2.0);
    // The process's own figures: the test process holds at least its own code in memory.
    if cfg!(target_os = "linux") {
        assert!(value("process_resident_memory_bytes ") > 1_000_000.0);
        assert!(value("process_open_fds ") >= 1.0);
    }
}

/// GraphiQL renders in a real browser cut off from every network but the loopback, and runs a query against the
/// server (its schema introspection): everything it needs comes from the binary. Needs Chromium when the tests are
/// built (`CHROMIUM`, else `chromium` on the path; see `tests/build.rs`): without it the test is reported ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(browser),
    ignore = "no Chromium was found when the tests were built (install the chromium package or set CHROMIUM)"
)]
async fn graphiql_renders_and_runs_a_query_offline_in_a_browser() {
    #[cfg(browser)]
    let browser = env!("OBSERVATORY_TEST_CHROMIUM");
    #[cfg(not(browser))]
    let browser = "chromium";
    let app = spawn_app(&Backend::Sqlite, Fixture::Empty).await;
    let address = observatory_tests::serve(&app).await;
    let url = format!("http://{address}/graphiql");
    let dom = tokio::task::spawn_blocking(move || {
        std::process::Command::new(browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                // Every request but the loopback's goes to a closed port: no CDN can answer.
                "--proxy-server=127.0.0.1:9",
                "--virtual-time-budget=15000",
                "--dump-dom",
                &url,
            ])
            .output()
            .expect("Chromium runs")
    })
    .await
    .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("class=\"graphiql-container\""),
        "GraphiQL rendered: {dom:.2000}"
    );
    assert!(!dom.contains("Loading GraphiQL"), "{dom:.2000}");
    let metrics = app.send(Request::get("/metrics").body(Body::empty()).unwrap()).await;
    assert!(
        metrics
            .text
            .contains(r#"observatory_graphql_requests_total{operation="IntrospectionQuery",outcome="ok"}"#),
        "the browser ran GraphiQL's schema query: {}",
        metrics.text
    );
    for asset in [
        "graphiql.min.js",
        "graphiql.min.css",
        "react.production.min.js",
        "react-dom.production.min.js",
    ] {
        let reply = app
            .send(
                Request::get(format!("/graphiql/3.8.3/{asset}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{asset}");
        assert!(
            reply.headers[header::CACHE_CONTROL]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
    }
}
