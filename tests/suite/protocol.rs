//! The GraphQL and GraphQL-over-HTTP specifications as clients rely on them:
//! field errors as nulls that propagate, keys in query order, media types,
//! one Authorization header, rate limits per client address, a database that
//! is down, and quick answers for quick work while floods run.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use observatory_tests::{Backend, Fixture, PartnerKind, http, on_both_backends, serve, spawn_app, spawn_app_with};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The keys of every object of a response body, in the order they were sent.
fn key_order(text: &str) -> async_graphql::Value {
    serde_json::from_str(text).expect("a JSON body")
}

/// The names selected at the top level of a selection set's text (no aliases, no fragments), in order.
fn top_level_names(selection: &str) -> Vec<String> {
    let (mut names, mut word, mut depth) = (Vec::new(), String::new(), 0);
    for c in selection.chars().chain([' ']) {
        match c {
            '{' | '(' => depth += 1,
            '}' | ')' => depth -= 1,
            c if depth == 0 && (c.is_alphanumeric() || c == '_') => {
                word.push(c);
                continue;
            }
            _ => {}
        }
        if !word.is_empty() {
            names.push(std::mem::take(&mut word));
        }
    }
    names
}

/// A field's text split into its response key and the text of its selection set (after its arguments).
fn key_and_selection(field: &str) -> (String, Option<String>) {
    let (key, rest) = match field.split_once(": ") {
        Some((alias, rest)) if !alias.contains(['(', '{', ' ']) => (alias.to_owned(), rest),
        _ => (top_level_names(field)[0].clone(), field),
    };
    let mut depth = 0;
    for (i, c) in rest.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            '{' if depth == 0 => {
                let inner = rest[i + 1..].trim_end().trim_end_matches('}');
                return (key, Some(inner.to_owned()));
            }
            _ => {}
        }
    }
    (key, None)
}

async fn field_errors_become_nulls_that_propagate_and_keys_keep_the_query_order(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;

    // A non-null field that fails makes its nullable parent null, with the error's path.
    let reply = app
        .graphql_as(
            None,
            r#"{ association(code: "ATLAS") { code loanStatistics(first: 1) { totalCount } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["data"], json!({ "association": null }), "{}", reply.body);
    assert_eq!(reply.codes(), ["FORBIDDEN"]);
    assert_eq!(
        reply.body["errors"][0]["path"],
        json!(["association", "loanStatistics"])
    );

    // A failed nullable field is present as null, aliased or not.
    let reply = app
        .graphql(
            r#"{ missing: association(code: "NOPE") { code } found: association(code: "ATLAS") { code } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        reply.body["data"],
        json!({ "missing": null, "found": { "code": "ATLAS" } }),
        "{}",
        reply.body
    );
    assert_eq!(reply.codes(), ["NOT_FOUND"]);
    assert_eq!(reply.body["errors"][0]["path"], json!(["missing"]));

    // A non-null root field that fails makes `data` null.
    let reply = app
        .graphql_as(None, "{ regions { totalCount } partners { code } }", json!({}))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["data"], Value::Null, "{}", reply.body);
    assert_eq!(reply.codes(), ["FORBIDDEN"]);

    // Keys come back in the order of the query, whatever order the fields finish in: generated selections.
    let fields = [
        "regions(first: 3) { totalCount nodes { nameEn code nameFr } }",
        "viewer { role }",
        "__typename",
        r#"association(code: "NOUR") { nameFr code status }"#,
        "branches(first: 2) { totalCount pageInfo { hasNextPage endCursor } }",
        r#"indicators(period: { from: "2020-12", to: "2020-12" }) { period par30Rate { value denominator numerator } activeClients { value } }"#,
        "indicatorCatalog { unit code }",
    ];
    let mut rng = observatory_tests::Gen::new(5);
    for case in 0..25 {
        let mut order: Vec<usize> = (0..fields.len()).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i as u64 + 1) as usize);
        }
        let seed = rng.number();
        let taken = 2 + (seed % (fields.len() as u64 - 1)) as usize;
        let selection: Vec<String> = order[..taken]
            .iter()
            .enumerate()
            .map(|(i, f)| {
                if (seed >> i) & 1 == 1 {
                    format!("z{case}_{i}: {}", fields[*f])
                } else {
                    fields[*f].to_owned()
                }
            })
            .collect();
        let parts: Vec<(String, Option<String>)> = selection.iter().map(|s| key_and_selection(s)).collect();
        let keys: Vec<String> = parts.iter().map(|(k, _)| k.clone()).collect();
        let reply = app.graphql(&format!("{{ {} }}", selection.join(" ")), json!({})).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let async_graphql::Value::Object(body) = key_order(&reply.text) else {
            panic!("the body is an object: {}", reply.text)
        };
        let Some(async_graphql::Value::Object(data)) = body.get("data") else {
            panic!("data is an object: {}", reply.text)
        };
        let sent: Vec<String> = data.keys().map(|k| k.to_string()).collect();
        assert_eq!(sent, keys, "case {case}: root keys in query order");
        for (key, inner) in &parts {
            let Some(inner) = inner else { continue };
            let object = match &data[&async_graphql::Name::new(key)] {
                async_graphql::Value::List(rows) => rows.first().cloned(),
                other => Some(other.clone()),
            };
            if let Some(async_graphql::Value::Object(object)) = object {
                let sent: Vec<String> = object.keys().map(|k| k.to_string()).collect();
                assert_eq!(
                    sent,
                    top_level_names(inner),
                    "case {case}: keys of `{key}` in query order"
                );
            }
        }
    }
}
on_both_backends!(field_errors_become_nulls_that_propagate_and_keys_keep_the_query_order);

#[tokio::test]
async fn media_types_follow_the_graphql_over_http_specification() {
    let app = spawn_app(&Backend::Sqlite, Fixture::Empty).await;
    let ask = |accept: Option<&'static str>| {
        let mut request = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
        if let Some(accept) = accept {
            request = request.header(header::ACCEPT, accept);
        }
        request.body(Body::from(r#"{"query":"{ __typename }"}"#)).unwrap()
    };
    for (accept, expected) in [
        (None, "application/json"),
        (Some("*/*"), "application/json"),
        (Some("application/*"), "application/json"),
        (Some("application/json"), "application/json"),
        (
            Some("application/graphql-response+json"),
            "application/graphql-response+json",
        ),
        (
            Some("application/json, application/graphql-response+json"),
            "application/graphql-response+json",
        ),
        (
            Some("application/graphql-response+json;q=0, application/json"),
            "application/json",
        ),
    ] {
        let reply = app.send(ask(accept)).await;
        assert_eq!(reply.status, StatusCode::OK, "{accept:?}");
        assert_eq!(reply.content_type, expected, "Accept: {accept:?}");
    }
    let refused = app.send(ask(Some("text/html"))).await;
    assert_eq!(refused.status, StatusCode::NOT_ACCEPTABLE);

    for extensions in ["\"text\"", "1", "true", "[1]"] {
        let body = format!(r#"{{"query":"{{ __typename }}","extensions":{extensions}}}"#);
        let reply = app.post_json(&body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "extensions {extensions}");
        assert_eq!(reply.codes(), ["BAD_REQUEST"]);
    }
}

#[tokio::test]
async fn two_authorization_headers_are_refused() {
    let app = spawn_app(&Backend::Sqlite, Fixture::Empty).await;
    let key = app.issue_key(PartnerKind::Fund, None).await;
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .header(header::AUTHORIZATION, "Bearer mfo_somebody_else")
        .body(Body::from(r#"{"query":"{ viewer { role } }"}"#))
        .unwrap();
    let reply = app.send(request).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.codes(), ["BAD_REQUEST"]);
    assert!(
        reply.message().contains("one `Authorization` header"),
        "{}",
        reply.message()
    );
}

#[tokio::test]
async fn anonymous_rate_limits_count_each_client_address_and_trust_only_configured_proxies() {
    let proxy: std::net::IpAddr = "10.0.0.1".parse().unwrap();
    let limits = api::HttpLimits {
        anonymous_per_minute: 3,
        trusted_proxies: vec![proxy],
        ..api::HttpLimits::default()
    };
    let app = spawn_app_with(&Backend::Sqlite, Fixture::Empty, limits).await;
    async fn status(app: &observatory_tests::TestApp, peer: &str, forwarded: Option<&str>) -> StatusCode {
        let peer: SocketAddr = format!("{peer}:40000").parse().unwrap();
        let mut request = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
        if let Some(forwarded) = forwarded {
            request = request.header("x-forwarded-for", forwarded);
        }
        let request = request.body(Body::from(r#"{"query":"{ __typename }"}"#)).unwrap();
        app.send_from(peer, request).await.status
    }
    for _ in 0..3 {
        assert_eq!(status(&app, "127.0.0.2", None).await, StatusCode::OK);
    }
    assert_eq!(status(&app, "127.0.0.2", None).await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        status(&app, "127.0.0.3", None).await,
        StatusCode::OK,
        "another address has its own allowance"
    );
    assert_eq!(
        status(&app, "127.0.0.2", Some("127.0.0.77")).await,
        StatusCode::TOO_MANY_REQUESTS,
        "X-Forwarded-For from a peer that is not a trusted proxy is ignored"
    );
    for _ in 0..3 {
        assert_eq!(status(&app, "10.0.0.1", Some("192.0.2.9")).await, StatusCode::OK);
    }
    assert_eq!(
        status(&app, "10.0.0.1", Some("192.0.2.9")).await,
        StatusCode::TOO_MANY_REQUESTS,
        "through the trusted proxy, the client it names is counted"
    );
    assert_eq!(
        status(&app, "10.0.0.1", Some("192.0.2.9, 192.0.2.10")).await,
        StatusCode::OK,
        "the nearest untrusted hop is the client"
    );
    assert_eq!(status(&app, "192.0.2.9", None).await, StatusCode::TOO_MANY_REQUESTS);

    // Over real connections, as `observatory serve` runs: each source address has its own bucket.
    let address = serve(&app).await;
    let body = r#"{"query":"{ __typename }"}"#;
    let headers = [("content-type", "application/json")];
    for _ in 0..3 {
        assert_eq!(
            http("127.0.0.4", address, "POST", "/graphql", &headers, body).await.0,
            200
        );
    }
    assert_eq!(
        http("127.0.0.4", address, "POST", "/graphql", &headers, body).await.0,
        429
    );
    assert_eq!(
        http("127.0.0.5", address, "POST", "/graphql", &headers, body).await.0,
        200,
        "a first request from a new address is not limited by another's"
    );
}

#[tokio::test]
async fn an_unreachable_database_answers_503_unavailable_within_two_seconds() {
    let db = api::db::connect_lazy("postgres://postgres@127.0.0.1:1/unreachable")
        .await
        .unwrap();
    let app = api::router(api::AppState::new(db, api::HttpLimits::default()));
    let send = |request: Request<Body>| {
        let app = app.clone();
        async move {
            use tower::ServiceExt;
            let started = Instant::now();
            let response = app.oneshot(request).await.unwrap();
            let status = response.status();
            let bytes = http_body_util::BodyExt::collect(response.into_body())
                .await
                .unwrap()
                .to_bytes();
            (status, String::from_utf8_lossy(&bytes).into_owned(), started.elapsed())
        }
    };
    let (status, _, elapsed) = send(Request::get("/readyz").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(elapsed < Duration::from_secs(2), "readiness answered in {elapsed:?}");

    let graphql = |key: Option<&str>| {
        let mut request = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
        if let Some(key) = key {
            request = request.header(header::AUTHORIZATION, format!("Bearer {key}"));
        }
        request
            .body(Body::from(r#"{"query":"{ regions { totalCount } }"}"#))
            .unwrap()
    };
    for key in [None, Some("mfo_0123456789abcdef0123456789abcdef")] {
        let (status, body, elapsed) = send(graphql(key)).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(body.contains("\"UNAVAILABLE\""), "{body}");
        assert!(
            !body.contains("127.0.0.1"),
            "no connection detail reaches the client: {body}"
        );
        assert!(elapsed < Duration::from_secs(2), "answered in {elapsed:?}");
    }
}

/// Requests that arrive while earlier ones already wait for an unreachable database get their 503 within the same
/// 2 s: none waits for the end of another's wait before starting its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_to_an_unreachable_database_answer_503_within_two_seconds() {
    let db = api::db::connect_lazy("postgres://postgres@127.0.0.1:1/unreachable")
        .await
        .unwrap();
    let app = api::router(api::AppState::new(db, api::HttpLimits::default()));
    let mut requests = Vec::new();
    for n in 0..24 {
        let app = app.clone();
        requests.push(tokio::spawn(async move {
            use tower::ServiceExt;
            let mut request = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
            if n % 3 == 2 {
                request = request.header(header::AUTHORIZATION, "Bearer mfo_0123456789abcdef0123456789abcdef");
            }
            let request = request
                .body(Body::from(r#"{"query":"{ regions { totalCount } }"}"#))
                .unwrap();
            let started = Instant::now();
            let response = app.oneshot(request).await.unwrap();
            (n, response.status(), started.elapsed())
        }));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut slowest = Duration::ZERO;
    for request in requests {
        let (n, status, elapsed) = request.await.unwrap();
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "request {n}");
        assert!(elapsed < Duration::from_secs(2), "request {n} answered in {elapsed:?}");
        slowest = slowest.max(elapsed);
    }
    eprintln!("24 requests over 1.2 s to an unreachable database: the slowest answered 503 in {slowest:?}");
}

/// `serve` on an address another process holds stops with a message that names the address and how to choose
/// another (the `--listen` flag, the `LISTEN_ADDR` variable), not only the system's "Address already in use".
#[tokio::test]
async fn serve_on_a_port_in_use_names_the_address_and_the_flag() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap();
    let message = api::cli::bind(address).await.expect_err("the port is taken");
    for part in [address.to_string().as_str(), "--listen", "LISTEN_ADDR", "in use"] {
        assert!(message.contains(part), "`{part}` in: {message}");
    }
}

/// Latencies of quick requests (`/healthz`, a small list) while flood requests run against a real server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_requests_stay_quick_while_floods_run() {
    let app = spawn_app(&Backend::Sqlite, Fixture::Demo).await;
    let partner = app.issue_key(PartnerKind::Fund, None).await;
    let address = serve(&app).await;

    let bomb = observatory_tests::doubling_fragments(31);
    let indicator = r#"indicators(period: { from: "2019-01", to: "2020-12" }, groupBy: [REGION, SEGMENT]) {
        period activeClients { value } par30Rate { value } disbursedAmount { value } }"#;
    let aliases: String = (0..200).map(|i| format!("a{i}: {indicator} ")).collect();
    let allowed = format!("{{ {indicator} }}");
    let floods: Vec<(Option<String>, String)> = vec![
        (None, bomb),
        (None, format!("{{ {aliases} }}")),
        (Some(partner.clone()), format!("{{ {aliases} }}")),
        (Some(partner.clone()), allowed.clone()),
        (Some(partner.clone()), allowed),
    ];
    // One flood document in flight at a time, each in turn, while quick requests are measured beside it.
    let deadline = Instant::now() + Duration::from_secs(3);
    let flooder = tokio::spawn(async move {
        let mut worst = [Duration::ZERO; 5];
        let mut rounds = 0_u64;
        while Instant::now() < deadline {
            for (i, (key, document)) in floods.iter().enumerate() {
                // Each document differs from the last (a comment), so that none is answered from the cache.
                rounds += 1;
                let body = json!({ "query": format!("{document}\n# {rounds}") }).to_string();
                let auth = key.as_ref().map(|k| format!("Bearer {k}"));
                let mut headers = vec![("content-type", "application/json")];
                if let Some(auth) = &auth {
                    headers.push(("authorization", auth.as_str()));
                }
                let started = Instant::now();
                let (status, _) = http("127.0.1.1", address, "POST", "/graphql", &headers, &body).await;
                worst[i] = worst[i].max(started.elapsed());
                assert!(
                    status == 200 || status == 400 || status == 429,
                    "flood answered {status}"
                );
            }
        }
        worst
    });
    let mut health = Vec::new();
    let mut small = Vec::new();
    let list = r#"{"query":"{ regions { totalCount } }"}"#;
    while Instant::now() < deadline {
        let started = Instant::now();
        let (status, _) = http("127.0.0.1", address, "GET", "/healthz", &[], "").await;
        assert_eq!(status, 200);
        health.push(started.elapsed());
        let started = Instant::now();
        let (status, body) = http(
            "127.0.0.1",
            address,
            "POST",
            "/graphql",
            &[("content-type", "application/json")],
            list,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        small.push(started.elapsed());
        // Under the public rate limit (120 a minute) over the 3 s.
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    // The first three floods are refused before execution; the last two are real work a partner may ask for.
    let worst = flooder.await.unwrap();
    let worst_refused = worst[..3].iter().max().copied().unwrap_or_default();
    let worst_allowed = worst[3..].iter().max().copied().unwrap_or_default();
    health.sort();
    small.sort();
    let at = |v: &[Duration], q: f64| v[((v.len() - 1) as f64 * q) as usize];
    eprintln!(
        "during floods: /healthz p50 {:?} p95 {:?} max {:?}; small query p50 {:?} p95 {:?} max {:?}; slowest refused flood request {worst_refused:?}, slowest allowed \
         indicators request {worst_allowed:?}",
        at(&health, 0.5),
        at(&health, 0.95),
        at(&health, 1.0),
        at(&small, 0.5),
        at(&small, 0.95),
        at(&small, 1.0)
    );
    assert!(
        at(&health, 0.95) < Duration::from_millis(100),
        "/healthz stays under 100 ms: {health:?}"
    );
    assert!(
        worst_refused < Duration::from_secs(1),
        "no refused flood request keeps a worker over 1 s: {worst_refused:?}"
    );
}

/// `{ regions { totalCount } }` and its SHA-256, as a client computes it.
const PERSISTED: &str = "{ regions { totalCount } }";
const PERSISTED_HASH: &str = "1150d7be3bae5f67f964fbb27f26f658606e9cf9a9ee6d9c0ea7e2cac7eeedbe";
/// Another document and its SHA-256.
const OTHER: &str = "{ regions { nodes { code } } }";
const OTHER_HASH: &str = "c2d5de9c8dde5d4caf2d2814d96d9cb490f493188635b0b741f5e0f044152b3a";

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

/// Automatic persisted queries as Apollo and urql clients speak them: a hash the server has not seen asks for the
/// document; sent once with its hash, it then runs by hash alone, over POST and over GET (short, cacheable URLs).
#[tokio::test]
async fn automatic_persisted_queries_learn_a_document_once() {
    let app = spawn_app(&Backend::Sqlite, Fixture::Empty).await;
    let unknown = app
        .post_json(&json!({ "extensions": persisted(PERSISTED_HASH) }).to_string())
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.text);
    assert_eq!(unknown.codes(), ["PERSISTED_QUERY_NOT_FOUND"]);
    assert_eq!(unknown.body["errors"][0]["message"], "PersistedQueryNotFound");

    let learnt = app
        .post_json(&json!({ "query": PERSISTED, "extensions": persisted(PERSISTED_HASH) }).to_string())
        .await;
    assert_eq!(learnt.status, StatusCode::OK, "{}", learnt.text);
    assert_eq!(learnt.data()["regions"]["totalCount"], 12);

    let by_hash = app
        .post_json(&json!({ "extensions": persisted(PERSISTED_HASH) }).to_string())
        .await;
    assert_eq!(by_hash.status, StatusCode::OK, "{}", by_hash.text);
    assert_eq!(by_hash.data(), learnt.data());
    let extensions = persisted(PERSISTED_HASH).to_string();
    let url = format!(
        "/graphql?extensions={}",
        extensions
            .bytes()
            .map(|b| if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            })
            .collect::<String>()
    );
    let get = app.send(Request::get(url).body(Body::empty()).unwrap()).await;
    assert_eq!(get.status, StatusCode::OK, "{}", get.text);
    assert_eq!(get.data(), learnt.data());
    assert!(get.headers.get(header::ETAG).is_some());

    // A hash that is not the document's, or another protocol version, is refused.
    let wrong = app
        .post_json(&json!({ "query": OTHER, "extensions": persisted(PERSISTED_HASH) }).to_string())
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong.codes(), ["BAD_REQUEST"]);
    let version = app
        .post_json(
            &json!({ "extensions": { "persistedQuery": { "version": 2, "sha256Hash": PERSISTED_HASH } } }).to_string(),
        )
        .await;
    assert_eq!(version.status, StatusCode::BAD_REQUEST);
    let neither = app.post_json(&json!({ "variables": {} }).to_string()).await;
    assert_eq!(neither.status, StatusCode::BAD_REQUEST);
    assert_eq!(neither.codes(), ["BAD_REQUEST"]);
}

/// Operation names of requests that failed (an operation the document does not have, a document that does not fit
/// the schema) take none of `/metrics`' 200 operation slots, so an operation that runs later is still counted under its
/// name; and no control character a client sends reaches the exposition text.
#[tokio::test]
async fn metrics_count_only_the_names_of_operations_that_ran() {
    let limits = api::HttpLimits {
        keyed_per_minute: 100_000,
        ..api::HttpLimits::default()
    };
    let app = spawn_app_with(&Backend::Sqlite, Fixture::Empty, limits).await;
    for n in 0..210 {
        let (query, name) = if n % 2 == 0 {
            ("query Real { __typename }".to_owned(), format!("junk{n}\r\nX"))
        } else {
            (format!("query junk{n} {{ nothingHere }}"), format!("junk{n}"))
        };
        let reply = app
            .post_json(&json!({ "query": query, "operationName": name }).to_string())
            .await;
        assert!(!reply.codes().is_empty(), "{name}: {}", reply.text);
    }
    let ran = json!({ "query": "query RegionCount { regions { totalCount } }", "operationName": "RegionCount" });
    let reply = app.post_json(&ran.to_string()).await;
    assert_eq!(reply.data()["regions"]["totalCount"], 12);

    let metrics = app.send(Request::get("/metrics").body(Body::empty()).unwrap()).await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(
        metrics
            .text
            .contains(r#"observatory_graphql_requests_total{operation="RegionCount",outcome="ok"} 1"#),
        "{}",
        metrics.text
    );
    assert!(!metrics.text.contains("junk"), "{}", metrics.text);
    assert!(
        !metrics.text.chars().any(|c| c.is_control() && c != '\n'),
        "a control character in\n{:?}",
        metrics.text
    );
}

/// Sends a document with its hash, as an automatic-persisted-queries client does after `PersistedQueryNotFound`.
async fn send_with_hash(app: &observatory_tests::TestApp, document: &str) -> observatory_tests::Reply {
    let hash = api::http::persisted::sha256_hex(document);
    app.post_json(&json!({ "query": document, "extensions": persisted(&hash) }).to_string())
        .await
}

/// A flood of what anyone may send (unknown hashes, documents that do not parse, documents large enough to fill the
/// remembered bytes) does not make the server forget a document its clients use: a document that does not parse is
/// not remembered at all, and the store makes room by forgetting one-off documents, not everything.
#[tokio::test]
async fn a_flood_of_junk_documents_does_not_evict_a_document_in_use() {
    let limits = api::HttpLimits {
        keyed_per_minute: 100_000,
        ..api::HttpLimits::default()
    };
    let app = spawn_app_with(&Backend::Sqlite, Fixture::Empty, limits).await;
    let by_hash = |hash: String| {
        let app = &app;
        async move {
            app.post_json(&json!({ "extensions": persisted(&hash) }).to_string())
                .await
        }
    };
    let learnt = send_with_hash(&app, PERSISTED).await;
    assert_eq!(learnt.status, StatusCode::OK, "{}", learnt.text);
    let used = by_hash(PERSISTED_HASH.into()).await;
    assert_eq!(used.status, StatusCode::OK, "{}", used.text);

    let broken = "{ regions { totalCount ";
    let reply = send_with_hash(&app, broken).await;
    assert_eq!(reply.codes(), ["GRAPHQL_PARSE_FAILED"]);
    let reply = by_hash(api::http::persisted::sha256_hex(broken)).await;
    assert_eq!(
        reply.codes(),
        ["PERSISTED_QUERY_NOT_FOUND"],
        "a document that does not parse is not remembered"
    );

    for n in 0..200 {
        let reply = by_hash(format!("{n:064x}")).await;
        assert_eq!(reply.codes(), ["PERSISTED_QUERY_NOT_FOUND"]);
        let reply = send_with_hash(&app, &format!("{{ junk{n} ")).await;
        assert_eq!(reply.codes(), ["GRAPHQL_PARSE_FAILED"]);
    }
    // 140 documents of 240 kB: more than the 32 MiB of remembered documents.
    let padding = "x".repeat(240_000);
    for n in 0..140 {
        let reply = send_with_hash(&app, &format!("{{ __typename }} # {n} {padding}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.message());
    }
    let after = by_hash(PERSISTED_HASH.into()).await;
    assert_eq!(
        after.status,
        StatusCode::OK,
        "the document in use is still known: {}",
        after.text
    );
    assert_eq!(after.data()["regions"]["totalCount"], 12);
}

/// In trusted-documents mode, only the listed documents run, by hash or as their exact text.
#[tokio::test]
async fn trusted_documents_mode_runs_only_listed_documents() {
    use api::http::persisted::TrustedDocuments;
    let documents = TrustedDocuments::from_json(&json!({ PERSISTED_HASH: PERSISTED }).to_string()).unwrap();
    let apollo = json!({ "format": "apollo-persisted-query-manifest", "version": 1,
        "operations": [{ "id": OTHER_HASH, "body": OTHER, "name": "Codes", "type": "query" }] });
    assert_eq!(TrustedDocuments::from_json(&apollo.to_string()).unwrap().len(), 1);
    assert!(TrustedDocuments::from_json(&json!({ OTHER_HASH: PERSISTED }).to_string()).is_err());
    assert!(TrustedDocuments::from_json("{}").is_err());

    let limits = api::HttpLimits {
        trusted_documents: Some(std::sync::Arc::new(documents)),
        ..api::HttpLimits::default()
    };
    let app = spawn_app_with(&Backend::Sqlite, Fixture::Empty, limits).await;
    let by_hash = app
        .post_json(&json!({ "extensions": persisted(PERSISTED_HASH) }).to_string())
        .await;
    assert_eq!(by_hash.status, StatusCode::OK, "{}", by_hash.text);
    assert_eq!(by_hash.data()["regions"]["totalCount"], 12);
    let by_text = app.graphql(PERSISTED, json!({})).await;
    assert_eq!(by_text.status, StatusCode::OK, "{}", by_text.text);
    for refused in [
        json!({ "query": OTHER }),
        json!({ "extensions": persisted(OTHER_HASH) }),
        json!({ "query": OTHER, "extensions": persisted(OTHER_HASH) }),
    ] {
        let reply = app.post_json(&refused.to_string()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{refused}");
        assert_eq!(reply.codes(), ["TRUSTED_DOCUMENT_REQUIRED"], "{refused}");
    }
}

/// A document learnt by one process runs by hash alone on another process of the same database: the other reads it
/// once from the shared table and remembers it.
async fn a_persisted_document_learnt_by_one_process_runs_on_another(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Empty).await;
    let other = api::router(api::AppState::load(app.db.clone(), api::HttpLimits::default()).await);
    let post = |router: &axum::Router, body: Value| {
        let request = Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let router = router.clone();
        async move {
            use tower::ServiceExt;
            let response = router.oneshot(request).await.unwrap();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
            serde_json::from_slice::<Value>(&bytes).unwrap()
        }
    };
    let unknown = post(&other, json!({ "extensions": persisted(OTHER_HASH) })).await;
    assert_eq!(unknown["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND");
    let learnt = app
        .post_json(&json!({ "query": OTHER, "extensions": persisted(OTHER_HASH) }).to_string())
        .await;
    assert_eq!(learnt.status, StatusCode::OK, "{}", learnt.text);
    let elsewhere = post(&other, json!({ "extensions": persisted(OTHER_HASH) })).await;
    assert_eq!(&elsewhere["data"], learnt.data(), "{elsewhere}");
}
on_both_backends!(a_persisted_document_learnt_by_one_process_runs_on_another);
