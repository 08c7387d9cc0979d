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
    for (n, k) in [(2, 1), (13, 5), (200, 20)] {
        let (count, data) = app.statements_of(query, json!({ "n": n, "k": k })).await;
        assert_eq!(data["branches"]["nodes"].as_array().unwrap().len(), n as usize);
        counts.push(count);
    }
    eprintln!("statements for page sizes (2, 1), (13, 5), (200, 20): {counts:?}");
    // At most one statement per relation hop of the query: the root branches page, its associations, its
    // regions; the associations page, their branches, those branches' regions, their loan statistics, those
    // statistics' regions. Without batching, 200 branches alone would cost 400 look-ups.
    for count in &counts {
        assert!(
            *count <= 8,
            "one statement per relation hop, whatever the page size: {counts:?}"
        );
    }
}
on_both_backends!(nested_lists_cost_the_same_statements_whatever_the_page_size);

async fn a_page_of_branches_with_their_association_is_one_statement(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let with = r#"query($n: Int!) { branches(first: $n) { nodes { code association { code nameFr } } } }"#;
    let without = r#"query($n: Int!) { branches(first: $n) { nodes { code } } }"#;
    for n in [1, 50] {
        let (joined, data) = app.statements_of(with, json!({ "n": n })).await;
        let (alone, plain) = app.statements_of(without, json!({ "n": n })).await;
        let nodes = data["branches"]["nodes"].as_array().unwrap();
        assert_eq!(nodes.len(), n as usize);
        // The same branches, each with its own association.
        let codes: Vec<&serde_json::Value> = nodes.iter().map(|b| &b["code"]).collect();
        let plain_codes: Vec<&serde_json::Value> = plain["branches"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| &b["code"])
            .collect();
        assert_eq!(codes, plain_codes);
        for branch in nodes {
            let code = branch["code"].as_str().unwrap();
            let association = branch["association"]["code"].as_str().unwrap();
            assert!(code.starts_with(association), "{code} is run by {association}");
        }
        assert_eq!(
            joined, alone,
            "the associations are read in the page's own statement ({n} branches)"
        );
    }
}
on_both_backends!(a_page_of_branches_with_their_association_is_one_statement);

/// The quarterly note and the peer statistics run no more statements than they are priced at (`graphql::cost`), for
/// the public and for a partner: what the price promises is what the work is.
async fn the_note_and_peers_run_what_they_are_priced_at(backend: Backend) {
    let mut app = spawn_app(&backend, Fixture::Demo).await;
    let partner = app
        .key_with(observatory_tests::PartnerKind::Fund, None, &["read"])
        .await;
    for key in [None, Some(partner)] {
        app.set_key(key);
        let (note, data) = app
            .statements_of(
                r#"{ quarterlyNote(quarter: "2020-Q4") { figures { value peers { median } } } }"#,
                json!({}),
            )
            .await;
        assert!(data["quarterlyNote"]["figures"].as_array().unwrap().len() > 100);
        let (peers, _) = app
            .statements_of(
                r#"{ peers(period: "2020-Q4", measure: "OSS", dimension: SCALE) { median } }"#,
                json!({}),
            )
            .await;
        eprintln!("statements: quarterlyNote {note}, peers {peers}");
        assert!(note as u64 <= api::graphql::cost::NOTE_STATEMENTS, "{note}");
        assert!(peers as u64 <= api::graphql::cost::PEER_STATEMENTS, "{peers}");
    }
}
on_both_backends!(the_note_and_peers_run_what_they_are_priced_at);
