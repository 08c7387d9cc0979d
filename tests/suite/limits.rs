//! Capacity: no document under the body limit keeps the server busy. Every
//! document is priced before any work that grows with it (fragments with their
//! multiplicity, aliases, page sizes, indicator statements and rows), lists in
//! arguments and variables are bounded, and aggregate work leaves connections
//! for quick requests. Attacked with generated documents, not one example.

use axum::http::StatusCode;
use observatory_tests::{Backend, Fixture, Gen, PartnerKind, Reply, doubling_fragments, spawn_app};
use serde_json::json;
use std::time::{Duration, Instant};

/// The body limit: every generated document stays under it.
const BODY_LIMIT: usize = 256 * 1024;

/// A chain of fragments, each spreading the next `fan` times (through aliases and inline fragments now and then),
/// ending on a cheap leaf: it expands to `fan^levels` leaves.
fn fan_out(rng: &mut Gen, levels: usize, fan: usize) -> String {
    let leaves = [
        "viewer { role }",
        "regions { totalCount }",
        "__typename",
        "indicatorCatalog { code }",
    ];
    let mut document = String::from("query { ...F0 }\n");
    for level in 0..levels {
        let mut body = String::new();
        for copy in 0..fan {
            match rng.below(3) {
                0 => body.push_str(&format!("...F{} ", level + 1)),
                1 => body.push_str(&format!("... on Query {{ ...F{} }} ", level + 1)),
                _ => body.push_str(&format!(
                    "... @include(if: true) {{ ...F{} }} x{level}_{copy}: __typename ",
                    level + 1
                )),
            }
        }
        document.push_str(&format!("fragment F{level} on Query {{ {body}}}\n"));
    }
    let leaf = leaves[rng.below(leaves.len() as u64) as usize];
    document.push_str(&format!("fragment F{levels} on Query {{ {leaf} }}\n"));
    document
}

/// A bound on wall time generous enough for two busy cores: it catches a document whose work grows with what it
/// expands to (2^31 leaves would take hours), not a slow machine. What "refused in milliseconds" means is checked
/// by counting: a refusal runs no SQL statement beyond what the caller's key costs (see `refused_before_work`).
const GENEROUS: Duration = Duration::from_secs(10);

/// The reply, its wall time, and the SQL statements it ran.
async fn timed(app: &observatory_tests::TestApp, key: Option<&str>, document: &str) -> (Reply, Duration, usize) {
    assert!(
        document.len() <= BODY_LIMIT,
        "the generated document stays under the body limit"
    );
    app.reset_statements();
    let started = Instant::now();
    let reply = app.graphql_as(key, document, json!({})).await;
    (reply, started.elapsed(), app.statements())
}

/// A refusal did no work that grows with the document: it ran no more statements than `{ __typename }` sent with a
/// key never used before (authenticating a key, the only work done before pricing; none without a key), so it was
/// decided before execution.
async fn refused_before_work(app: &observatory_tests::TestApp, key: Option<&str>, statements: usize) {
    let fresh = match key {
        Some(_) => Some(app.issue_key(PartnerKind::Fund, None).await),
        None => None,
    };
    let (reply, _, authentication) = timed(app, fresh.as_deref(), "{ __typename }").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(
        statements <= authentication,
        "the refusal ran {statements} statements, authenticating the caller {authentication}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fragment_fan_out_is_refused_in_milliseconds_whatever_its_shape() {
    let app = spawn_app(&Backend::Sqlite, Fixture::Empty).await;
    // The reported document: 31 levels, each spreading the next twice (2^31 leaves), 1.3 KB, anonymous.
    let reported = doubling_fragments(31);
    let (reply, elapsed, statements) = timed(&app, None, &reported).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(reply.codes(), ["BAD_REQUEST"]);
    assert!(reply.message().contains("too costly"), "{}", reply.message());
    refused_before_work(&app, None, statements).await;
    assert!(elapsed < GENEROUS, "refused in {elapsed:?}");

    let mut rng = Gen::new(1);
    let mut slowest = Duration::ZERO;
    for case in 0..60 {
        let levels = 2 + rng.below(60) as usize;
        let fan = 2 + rng.below(5) as usize;
        let document = fan_out(&mut rng, levels, fan);
        let (reply, elapsed, statements) = timed(&app, None, &document).await;
        slowest = slowest.max(elapsed);
        let leaves = (fan as f64).powi(levels as i32);
        if leaves > 1e6 {
            assert_eq!(
                reply.codes(),
                ["BAD_REQUEST"],
                "case {case}: {fan}^{levels} leaves must be refused: {}",
                reply.body
            );
            refused_before_work(&app, None, statements).await;
        } else {
            assert!(
                reply.status == StatusCode::OK || reply.codes() == ["BAD_REQUEST"],
                "case {case}: answered or refused as too costly: {}",
                reply.body
            );
        }
        assert!(elapsed < GENEROUS, "case {case} ({fan}^{levels}) took {elapsed:?}");
    }
    eprintln!("slowest generated fan-out answered in {slowest:?}");

    let cycle = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
    let (reply, _, _) = timed(&app, None, cycle).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.message().contains("spreads itself"), "{}", reply.message());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alias_floods_up_to_the_body_limit_are_answered_or_refused_quickly() {
    let app = spawn_app(&Backend::Sqlite, Fixture::Demo).await;
    let partner = app.issue_key(PartnerKind::Fund, None).await;
    let indicator = r#"indicators(period: { from: "2020-01", to: "2020-12" }, groupBy: [REGION]) {
        period activeClients { value } par30Rate { value numerator denominator } }"#;
    let shapes: Vec<(&str, String)> = vec![
        ("aliased indicators", indicator.to_owned()),
        (
            "aliased lists",
            "regions(first: 12) { nodes { code nameFr branches(first: 5) { totalCount } } }".into(),
        ),
        ("aliased catalogue", "indicatorCatalog { code labelFr formula }".into()),
        ("aliased typename", "__typename".into()),
    ];
    for (what, field) in &shapes {
        for count in [1usize, 10, 200, 2_000, 20_000] {
            let mut document = String::from("{ ");
            for i in 0..count {
                document.push_str(&format!("a{i}: {field} "));
                if document.len() > BODY_LIMIT - 40_000 {
                    break;
                }
            }
            document.push('}');
            for key in [None, Some(partner.as_str())] {
                let (reply, elapsed, statements) = timed(&app, key, &document).await;
                assert!(
                    reply.status == StatusCode::OK || reply.codes() == ["BAD_REQUEST"],
                    "{what} × {count}: {}",
                    reply.text.chars().take(300).collect::<String>()
                );
                if reply.status != StatusCode::OK {
                    refused_before_work(&app, key, statements).await;
                }
                assert!(elapsed < GENEROUS, "{what} × {count} took {elapsed:?}");
            }
        }
    }
    // The reported flood: 200 aliased `indicators`, anonymous.
    let flood: String = (0..200).map(|i| format!("a{i}: {indicator} ")).collect();
    let (reply, elapsed, statements) = timed(&app, None, &format!("{{ {flood} }}")).await;
    assert_eq!(reply.codes(), ["BAD_REQUEST"], "{}", reply.body);
    assert!(
        reply.message().contains("indicators"),
        "the refusal says what to ask less of: {}",
        reply.message()
    );
    refused_before_work(&app, None, statements).await;
    assert!(elapsed < GENEROUS, "refused in {elapsed:?}");

    // One response key repeated: the engine's field-merging check must stay quick.
    let same_key: String = (0..15_000).map(|_| "a: __typename ").collect();
    let (_, elapsed, _) = timed(&app, None, &format!("{{ {same_key} }}")).await;
    assert!(elapsed < GENEROUS, "15,000 identical fields took {elapsed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indicators_are_priced_by_statements_and_rows_and_refusals_say_what_to_narrow() {
    let app = spawn_app(&Backend::Sqlite, Fixture::Demo).await;
    let partner = app.issue_key(PartnerKind::Fund, None).await;
    let everything = r#"{ indicators(period: { from: "2011-01", to: "2020-12" },
        groupBy: [ASSOCIATION, REGION, SEGMENT, GENDER, AREA]) {
        period activeClients { value } outstandingAmount { value } staff { value } branches { value } } }"#;
    let (reply, _, statements) = timed(&app, Some(&partner), everything).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(reply.codes(), ["BAD_REQUEST"]);
    let message = reply.message();
    for advice in ["rows", "fewer dimensions", "coarser granularity", "shorter range"] {
        assert!(message.contains(advice), "the refusal mentions {advice:?}: {message}");
    }
    refused_before_work(&app, Some(&partner), statements).await;

    // The same request as variables is priced the same way.
    let with_variables = r#"query($p: PeriodRange!, $g: [Dimension!]!) { indicators(period: $p, groupBy: $g) {
        period activeClients { value } } }"#;
    let variables = json!({ "p": { "from": "2011-01", "to": "2020-12" },
                            "g": ["ASSOCIATION", "REGION", "SEGMENT", "GENDER", "AREA"] });
    let reply = app.graphql_as(Some(&partner), with_variables, variables).await;
    assert_eq!(reply.codes(), ["BAD_REQUEST"], "{}", reply.body);

    // A dashboard a partner really asks for still runs.
    let dashboard = r#"{ indicators(period: { from: "2020-01", to: "2020-12" }, groupBy: [ASSOCIATION, SEGMENT],
        compareTo: SAME_PERIOD_PREVIOUS_YEAR) { period association { code } segment
        activeClients { value previous } par30Rate { value numerator denominator } disbursedAmount { value target } } }"#;
    let reply = app.graphql_as(Some(&partner), dashboard, json!({})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.message());
    assert!(reply.data()["indicators"].as_array().unwrap().len() > 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_lists_in_arguments_and_variables_are_bad_user_input() {
    let app = spawn_app(&Backend::Sqlite, Fixture::Demo).await;
    let query = "query($codes: [String!]) { clientStatistics(filter: { associations: $codes }) { totalCount } }";
    for items in [1_001usize, 32_800] {
        let codes = vec!["\"X\""; items];
        let literal = format!(
            r#"{{ indicators(period: {{ from: "2020", to: "2020" }}, filter: {{ regions: [{}] }}) {{ period }} }}"#,
            codes.join(",")
        );
        if literal.len() <= BODY_LIMIT {
            let reply = app.graphql_as(None, &literal, json!({})).await;
            assert_eq!(
                reply.codes(),
                ["BAD_USER_INPUT"],
                "{}",
                reply.text.chars().take(300).collect::<String>()
            );
            assert!(reply.message().contains("at most 1000"), "{}", reply.message());
        }
        let list = vec!["X"; items];
        let reply = app.graphql(query, json!({ "codes": list })).await;
        assert_eq!(
            reply.codes(),
            ["BAD_USER_INPUT"],
            "{}",
            reply.text.chars().take(300).collect::<String>()
        );
        assert!(
            reply.message().contains("$codes"),
            "the message names the variable: {}",
            reply.message()
        );
    }
    let fine = vec!["ATLAS"; 1_000];
    let reply = app.graphql(query, json!({ "codes": fine })).await;
    assert_eq!(reply.status, StatusCode::OK, "1,000 codes are accepted: {}", reply.body);
    assert!(reply.data()["clientStatistics"]["totalCount"].as_u64().unwrap() > 0);
}

/// One ordinary `indicators` field: up to 24 months at any granularity (compared with the year before or not), grouped
/// by up to three dimensions, up to four measures, any filters.
fn ordinary_indicators(
    rng: &mut Gen,
    alias: &str,
    catalog: &[(String, Vec<String>)],
    regions: &[String],
    associations: &[String],
) -> String {
    let mut dims: Vec<&str> = vec!["REGION", "SEGMENT", "GENDER", "AREA"];
    if !associations.is_empty() {
        dims.push("ASSOCIATION");
    }
    let mut grouped = Vec::new();
    for _ in 0..rng.below(4) {
        let dim = *rng.pick(&dims);
        dims.retain(|d| *d != dim);
        grouped.push(dim);
    }
    let measures: Vec<&String> = catalog
        .iter()
        .filter(|(_, supported)| grouped.iter().all(|d| supported.iter().any(|s| s == d)))
        .map(|(field, _)| field)
        .collect();
    // Up to four measures, as a dashboard's chart or table shows them.
    let mut selected = String::new();
    for _ in 0..1 + rng.below(4) {
        selected.push_str(&format!("{} {{ value previous }} ", rng.pick(&measures)));
    }
    let (granularity, span) = *rng.pick(&[
        ("MONTH", 1),
        ("MONTH", 24),
        ("QUARTER", 24),
        ("YEAR", 24),
        ("MONTH", 12),
    ]);
    let last = 202012 - rng.below(12) as i64;
    let first_index = (last / 100) * 12 + (last % 100 - 1) - (span - 1);
    let first = format!("{:04}-{:02}", first_index / 12, first_index % 12 + 1);
    let last = format!("{:04}-{:02}", last / 100, last % 100);
    let mut filters = Vec::new();
    if rng.below(3) == 0 {
        filters.push(format!("regions: [\"{}\"]", rng.pick(regions)));
    }
    if !associations.is_empty() && rng.below(3) == 0 {
        filters.push(format!("associations: [\"{}\"]", rng.pick(associations)));
    }
    if rng.below(4) == 0 {
        filters.push("segments: [INDIVIDUAL]".to_owned());
    }
    let compare = if rng.below(2) == 0 {
        ", compareTo: SAME_PERIOD_PREVIOUS_YEAR"
    } else {
        ""
    };
    format!(
        r#"{alias}: indicators(period: {{ from: "{first}", to: "{last}", granularity: {granularity} }},
            groupBy: [{}], filter: {{ {} }}{compare}) {{ period {selected}}}"#,
        grouped.join(", "),
        filters.join(", ")
    )
}

/// What users ordinarily ask is admitted, for the public, an association and a fund: any single `indicators` field
/// over up to 24 months by up to three dimensions, a document of up to six of them, and any SDMX query for one region
/// or one indicator over two years with the other positions empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ordinary_requests_are_admitted_for_every_role() {
    let app = spawn_app(&Backend::Sqlite, Fixture::Demo).await;
    let data = app
        .query(
            "{ indicatorCatalog { code field dimensions granularities } regions(first: 12) { nodes { code } }
               associations(first: 100) { nodes { code } } }",
            json!({}),
        )
        .await;
    let names = |list: &serde_json::Value, field: &str| -> Vec<String> {
        let item = |n: &serde_json::Value| if field.is_empty() { n.clone() } else { n[field].clone() };
        list.as_array()
            .unwrap()
            .iter()
            .map(|n| item(n).as_str().unwrap().to_owned())
            .collect()
    };
    let catalog: Vec<(String, Vec<String>)> = data["indicatorCatalog"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["field"].as_str().unwrap().to_owned(), names(&m["dimensions"], "")))
        .collect();
    // The monthly indicators, which the MICROFINANCE dataflow carries.
    let codes: Vec<String> = data["indicatorCatalog"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["granularities"].as_array().unwrap().iter().any(|g| g == "MONTH"))
        .map(|m| m["code"].as_str().unwrap().to_owned())
        .collect();
    let regions = names(&data["regions"]["nodes"], "code");
    let associations = names(&data["associations"]["nodes"], "code");
    let member = app.issue_key(PartnerKind::Association, Some(&associations[0])).await;
    let fund = app.issue_key(PartnerKind::Fund, None).await;
    let mut rng = Gen::new(17);
    for case in 0..30 {
        let fields = if case % 3 == 0 { 1 + rng.below(6) } else { 1 };
        for (who, key) in [
            ("public", None),
            ("association", Some(member.as_str())),
            ("fund", Some(fund.as_str())),
        ] {
            let groups_by_association: &[String] = if who == "fund" { &associations } else { &[] };
            let document: String = (0..fields)
                .map(|f| ordinary_indicators(&mut rng, &format!("f{f}"), &catalog, &regions, groups_by_association))
                .collect::<Vec<_>>()
                .join("\n");
            let reply = app.graphql_as(key, &format!("{{ {document} }}"), json!({})).await;
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "case {case}, {who}: {}\n{document}",
                reply.text.chars().take(400).collect::<String>()
            );
        }
    }
    for (who, key) in [("public", None), ("fund", Some(fund.as_str()))] {
        for key_text in [
            format!(".{}....", rng.pick(&regions)),
            format!("..{}...", rng.pick(&codes)),
        ] {
            let url = format!("/sdmx/rest/data/MICROFINANCE/{key_text}?startPeriod=2019-01&endPeriod=2020-12");
            let mut request = axum::http::Request::get(&url);
            if let Some(key) = key {
                request = request.header("Authorization", format!("Bearer {key}"));
            }
            let reply = app.send(request.body(axum::body::Body::empty()).unwrap()).await;
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "{who} {url}: {}",
                reply.text.chars().take(400).collect::<String>()
            );
        }
    }
}

/// Two processes' limiters sharing Redis hold one limit between them, whichever process each request reaches; a
/// process whose Redis cannot be reached falls back to its share of the limit and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(redis), ignore = "TEST_REDIS_URL was not set when the tests were built")]
async fn processes_share_one_rate_limit_through_redis() {
    use api::ratelimit::RateLimiter;
    #[cfg(redis)]
    let url = env!("OBSERVATORY_TEST_REDIS_URL");
    #[cfg(not(redis))]
    let url = "redis://TEST_REDIS_URL-was-not-set";
    let key = format!(
        "test-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
    );
    let first = RateLimiter::new(10, 30).shared(url, 2).unwrap();
    let second = RateLimiter::new(10, 30).shared(url, 2).unwrap();
    let mut allowed = 0;
    for i in 0..60 {
        let limiter = if i % 2 == 0 { &first } else { &second };
        if limiter.by_key(&key).await.allowed {
            allowed += 1;
        }
    }
    // A refill of one request every 2 s may add one while the loop runs.
    assert!(
        (30..=31).contains(&allowed),
        "{allowed} of 60 allowed with one limit of 30 shared by two processes"
    );
    assert_eq!((first.shared_up(), second.shared_up()), (Some(true), Some(true)));
    // Redis out of reach: this process enforces half of the limit, its share of two.
    let alone = RateLimiter::new(10, 30).shared("redis://127.0.0.1:1", 2).unwrap();
    let mut allowed = 0;
    for _ in 0..40 {
        if alone.by_key(&key).await.allowed {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 15, "half of the limit while Redis cannot be reached");
    assert_eq!(alone.shared_up(), Some(false));
}
