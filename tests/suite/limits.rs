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

async fn timed(app: &observatory_tests::TestApp, key: Option<&str>, document: &str) -> (Reply, Duration) {
    assert!(
        document.len() <= BODY_LIMIT,
        "the generated document stays under the body limit"
    );
    let started = Instant::now();
    let reply = app.graphql_as(key, document, json!({})).await;
    (reply, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fragment_fan_out_is_refused_in_milliseconds_whatever_its_shape() {
    let app = spawn_app(&Backend::Sqlite, Fixture::Empty).await;
    // The reported document: 31 levels, each spreading the next twice (2^31 leaves), 1.3 KB, anonymous.
    let reported = doubling_fragments(31);
    let (reply, elapsed) = timed(&app, None, &reported).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(reply.codes(), ["BAD_REQUEST"]);
    assert!(reply.message().contains("too costly"), "{}", reply.message());
    assert!(elapsed < Duration::from_secs(1), "refused in {elapsed:?}");

    let mut rng = Gen::new(1);
    let mut slowest = Duration::ZERO;
    for case in 0..60 {
        let levels = 2 + rng.below(60) as usize;
        let fan = 2 + rng.below(5) as usize;
        let document = fan_out(&mut rng, levels, fan);
        let (reply, elapsed) = timed(&app, None, &document).await;
        slowest = slowest.max(elapsed);
        let leaves = (fan as f64).powi(levels as i32);
        if leaves > 1e6 {
            assert_eq!(
                reply.codes(),
                ["BAD_REQUEST"],
                "case {case}: {fan}^{levels} leaves must be refused: {}",
                reply.body
            );
        } else {
            assert!(
                reply.status == StatusCode::OK || reply.codes() == ["BAD_REQUEST"],
                "case {case}: answered or refused as too costly: {}",
                reply.body
            );
        }
        assert!(
            elapsed < Duration::from_secs(1),
            "case {case} ({fan}^{levels}) took {elapsed:?}"
        );
    }
    eprintln!("slowest generated fan-out answered in {slowest:?}");

    let cycle = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
    let (reply, _) = timed(&app, None, cycle).await;
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
                let (reply, elapsed) = timed(&app, key, &document).await;
                assert!(
                    reply.status == StatusCode::OK || reply.codes() == ["BAD_REQUEST"],
                    "{what} × {count}: {}",
                    reply.text.chars().take(300).collect::<String>()
                );
                assert!(elapsed < Duration::from_secs(1), "{what} × {count} took {elapsed:?}");
            }
        }
    }
    // The reported flood: 200 aliased `indicators`, anonymous.
    let flood: String = (0..200).map(|i| format!("a{i}: {indicator} ")).collect();
    let (reply, elapsed) = timed(&app, None, &format!("{{ {flood} }}")).await;
    assert_eq!(reply.codes(), ["BAD_REQUEST"], "{}", reply.body);
    assert!(
        reply.message().contains("indicators"),
        "the refusal says what to ask less of: {}",
        reply.message()
    );
    assert!(elapsed < Duration::from_millis(500), "refused in {elapsed:?}");

    // One response key repeated: the engine's field-merging check must stay quick.
    let same_key: String = (0..15_000).map(|_| "a: __typename ").collect();
    let (_, elapsed) = timed(&app, None, &format!("{{ {same_key} }}")).await;
    assert!(
        elapsed < Duration::from_secs(1),
        "15,000 identical fields took {elapsed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indicators_are_priced_by_statements_and_rows_and_refusals_say_what_to_narrow() {
    let app = spawn_app(&Backend::Sqlite, Fixture::Demo).await;
    let partner = app.issue_key(PartnerKind::Fund, None).await;
    let everything = r#"{ indicators(period: { from: "2011-01", to: "2020-12" },
        groupBy: [ASSOCIATION, REGION, SEGMENT, GENDER, AREA]) {
        period activeClients { value } outstandingAmount { value } staff { value } branches { value } } }"#;
    let started = Instant::now();
    let reply = app.graphql_as(Some(&partner), everything, json!({})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(reply.codes(), ["BAD_REQUEST"]);
    let message = reply.message();
    for advice in ["rows", "fewer dimensions", "coarser granularity", "shorter range"] {
        assert!(message.contains(advice), "the refusal mentions {advice:?}: {message}");
    }
    assert!(started.elapsed() < Duration::from_millis(500));

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
