//! A nested list costs one SQL statement per relation hop, whatever the page size.

use observatory_tests::{Backend, Fixture, on_both_backends, spawn_app};
use serde_json::json;

async fn nested_lists_cost_the_same_statements_whatever_the_page_size(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let query = r#"query($n: Int!, $k: Int!) {
        branches(first: $n) { nodes { code association { code } region { code } } }
        associations(first: $n) { nodes { code branches(first: $k) { totalCount nodes { code region { code } } }
            loanStatistics(first: $k) { nodes { period region { code } } } } } }"#;
    let mut counts = Vec::new();
    for (n, k) in [(2, 1), (13, 5), (400, 50)] {
        app.reset_statements();
        let data = app.query(query, json!({ "n": n, "k": k })).await;
        assert_eq!(data["branches"]["nodes"].as_array().unwrap().len(), n as usize);
        counts.push(app.statements());
    }
    assert_eq!(counts[0], counts[1], "statement counts {counts:?}");
    assert_eq!(counts[1], counts[2], "statement counts {counts:?}");
    // branches page; associations page; association and region look-ups (batched);
    // child branches; child loan statistics.
    assert!(counts[0] <= 6, "one statement per hop, got {}", counts[0]);
}
on_both_backends!(nested_lists_cost_the_same_statements_whatever_the_page_size);
