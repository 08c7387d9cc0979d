//! The read API on the demo data: look-ups by code, filtered lists, cursor
//! pagination, relations in both directions, and clear errors for bad input.

use axum::http::StatusCode;
use observatory_tests::{Backend, Fixture, on_both_backends, spawn_app};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use std::collections::HashSet;

fn codes(nodes: &Value) -> Vec<String> {
    nodes
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["code"].as_str().unwrap().to_owned())
        .collect()
}

async fn entities_are_found_by_code_and_unknown_codes_answer_not_found(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let data = app
        .query(
            r#"{ associations(first: 1) { nodes { code nameFr } } region(code: "MA-06") { code nameFr nameAr nameEn } }"#,
            json!({}),
        )
        .await;
    assert_eq!(data["region"]["nameFr"], "Casablanca-Settat");
    assert!(!data["region"]["nameAr"].as_str().unwrap().is_empty());
    let code = data["associations"]["nodes"][0]["code"].as_str().unwrap().to_owned();
    let again = app
        .query(
            "query($c: String!) { association(code: $c) { code nameFr } }",
            json!({ "c": code }),
        )
        .await;
    assert_eq!(again["association"], data["associations"]["nodes"][0]);

    let missing = app
        .graphql(
            r#"{ association(code: "NOPE") { code } region(code: "MA-06") { code } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        missing.status,
        StatusCode::OK,
        "a missing object is a field error, the rest resolves"
    );
    assert_eq!(missing.codes(), ["NOT_FOUND"]);
    assert!(missing.message().contains("NOPE"));
    assert_eq!(missing.body["data"]["association"], Value::Null);
    assert_eq!(missing.body["data"]["region"]["code"], "MA-06");

    for (field, code) in [("branch", "NOPE-1"), ("programme", "NOPE"), ("trainingAction", "NOPE")] {
        let reply = app
            .graphql(&format!(r#"{{ {field}(code: "{code}") {{ code }} }}"#), json!({}))
            .await;
        assert_eq!(reply.codes(), ["NOT_FOUND"], "{field}");
    }
}
on_both_backends!(entities_are_found_by_code_and_unknown_codes_answer_not_found);

async fn pages_follow_cursors_without_gaps_or_repeats(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let query = r#"query($after: String, $filter: BranchFilter) {
        branches(first: 100, after: $after, filter: $filter) {
            totalCount pageInfo { hasNextPage hasPreviousPage endCursor startCursor } nodes { code kind area region { code } } } }"#;
    let filter = json!({ "regions": ["MA-06"], "kinds": ["AGENCY"] });
    let mut seen = HashSet::new();
    let mut after = Value::Null;
    let mut total = None;
    loop {
        let data = app.query(query, json!({ "after": after, "filter": filter })).await;
        let page = &data["branches"];
        total.get_or_insert(page["totalCount"].as_u64().unwrap());
        assert_eq!(page["pageInfo"]["hasPreviousPage"], !after.is_null());
        for node in page["nodes"].as_array().unwrap() {
            assert_eq!(node["region"]["code"], "MA-06");
            assert_eq!(node["kind"], "AGENCY");
            assert!(
                seen.insert(node["code"].as_str().unwrap().to_owned()),
                "no branch appears twice"
            );
        }
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert!(
        seen.len() > 100,
        "the demo has more than one page of agencies in Casablanca-Settat"
    );
    assert_eq!(
        seen.len() as u64,
        total.unwrap(),
        "walking every page yields totalCount branches"
    );
}
on_both_backends!(pages_follow_cursors_without_gaps_or_repeats);

async fn relations_resolve_in_both_directions(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let data = app
        .query(
            r#"{ associations(first: 3) { nodes { code
                    branches(first: 2) { totalCount nodes { code association { code } region { code branches(first: 1) { totalCount } } } }
                    loanStatistics(first: 2, filter: { from: "2020-12", to: "2020-12", segments: [INDIVIDUAL] }) {
                        nodes { period segment association { code } region { code } outstandingAmount } }
                    staffStatistics(first: 1, filter: { from: "2020-12" }) { nodes { period category headcount } }
                    targets(first: 1, filter: { measures: [DISBURSED_AMOUNT] }) { nodes { measure amount count } } } }
                programmes(filter: { year: 2020 }) { totalCount nodes { code outcomes(first: 50) { totalCount nodes { beneficiaries programme { code } } } } } }"#,
            json!({}),
        )
        .await;
    for association in data["associations"]["nodes"].as_array().unwrap() {
        let code = &association["code"];
        assert!(association["branches"]["totalCount"].as_u64().unwrap() > 0);
        for branch in association["branches"]["nodes"].as_array().unwrap() {
            assert_eq!(&branch["association"]["code"], code, "branch → association leads back");
            assert!(
                branch["region"]["branches"]["totalCount"].as_u64().unwrap() > 0,
                "region → branches"
            );
        }
        for stat in association["loanStatistics"]["nodes"].as_array().unwrap() {
            assert_eq!(&stat["association"]["code"], code);
            assert_eq!(stat["period"], "2020-12");
            assert_eq!(stat["segment"], "INDIVIDUAL");
            assert!(
                stat["outstandingAmount"].as_str().unwrap().contains('.'),
                "money is a decimal string"
            );
        }
        assert_eq!(
            association["staffStatistics"]["nodes"][0]["period"]
                .as_str()
                .map(|p| p >= "2020-12"),
            Some(true)
        );
        let target = &association["targets"]["nodes"][0];
        assert_eq!(target["measure"], "DISBURSED_AMOUNT");
        assert!(target["amount"].is_string() && target["count"].is_null());
    }
    assert_eq!(data["programmes"]["totalCount"], 5);
    for programme in data["programmes"]["nodes"].as_array().unwrap() {
        for outcome in programme["outcomes"]["nodes"].as_array().unwrap() {
            assert_eq!(
                outcome["programme"]["code"], programme["code"],
                "programme → outcomes → programme"
            );
        }
    }
}
on_both_backends!(relations_resolve_in_both_directions);

async fn child_lists_page_with_their_own_cursors(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let query = r#"query($after: String) { region(code: "MA-06") { branches(first: 7, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } nodes { code } } } }"#;
    let first = app.query(query, json!({ "after": null })).await;
    let second = app
        .query(
            query,
            json!({ "after": first["region"]["branches"]["pageInfo"]["endCursor"] }),
        )
        .await;
    let a = codes(&first["region"]["branches"]["nodes"]);
    let b = codes(&second["region"]["branches"]["nodes"]);
    assert_eq!((a.len(), b.len()), (7, 7));
    assert!(
        a.iter().all(|code| !b.contains(code)),
        "the second page follows the first"
    );
    assert_eq!(
        first["region"]["branches"]["totalCount"],
        second["region"]["branches"]["totalCount"]
    );
    let everything = app
        .query(
            r#"{ branches(first: 14, filter: { regions: ["MA-06"] }) { nodes { code } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        codes(&everything["branches"]["nodes"]),
        [a, b].concat(),
        "nested and root lists agree"
    );
}
on_both_backends!(child_lists_page_with_their_own_cursors);

async fn bad_input_gets_a_clear_client_error(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            "{ branches(first: 501) { totalCount } }",
            json!({}),
            "BAD_USER_INPUT",
            "between 0 and 500",
        ),
        (
            "{ branches(first: -1) { totalCount } }",
            json!({}),
            "BAD_USER_INPUT",
            "between 0 and 500",
        ),
        (
            r#"{ branches(after: "garbage") { totalCount } }"#,
            json!({}),
            "BAD_USER_INPUT",
            "not a cursor",
        ),
        (
            r#"{ branches(filter: { associations: ["NOPE", "ZILCH"] }) { totalCount } }"#,
            json!({}),
            "BAD_USER_INPUT",
            "NOPE, ZILCH",
        ),
        (
            r#"{ loanStatistics(filter: { regions: ["MA-13"] }) { totalCount } }"#,
            json!({}),
            "BAD_USER_INPUT",
            "MA-13",
        ),
        (
            r#"{ clientStatistics(filter: { from: "2020-12", to: "2020-01" }) { totalCount } }"#,
            json!({}),
            "BAD_USER_INPUT",
            "is after",
        ),
    ];
    for (query, variables, code, words) in cases {
        let reply = app.graphql(query, variables).await;
        assert_eq!(reply.codes(), [code], "{query}: {}", reply.body);
        assert!(reply.message().contains(words), "{query}: {}", reply.message());
    }

    let region_cursor = app
        .query("{ regions(first: 1) { pageInfo { endCursor } } }", json!({}))
        .await;
    let foreign = app
        .graphql(
            "query($after: String) { branches(after: $after) { totalCount } }",
            json!({ "after": region_cursor["regions"]["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(
        foreign.codes(),
        ["BAD_USER_INPUT"],
        "a cursor of another list is refused"
    );

    let bad_month = app
        .graphql(
            "query($f: CellFilter) { clientStatistics(filter: $f) { totalCount } }",
            json!({ "f": { "from": "2020-13" } }),
        )
        .await;
    assert_eq!(bad_month.codes(), ["BAD_USER_INPUT"]);
    assert!(bad_month.message().contains("YYYY-MM"), "{}", bad_month.message());
    let bad_enum = app
        .graphql(r#"{ branches(filter: { kinds: [KIOSK] }) { totalCount } }"#, json!({}))
        .await;
    assert_eq!(bad_enum.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_enum.codes(), ["GRAPHQL_VALIDATION_FAILED"]);
}
on_both_backends!(bad_input_gets_a_clear_client_error);

async fn filters_select_exactly_the_matching_rows(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let data = app
        .query(
            r#"{ clientStatistics(first: 500, filter: { regions: ["MA-10"], from: "2020-11", to: "2020-12", genders: [FEMALE], areas: [RURAL] }) {
                totalCount nodes { period gender area region { code } } } }"#,
            json!({}),
        )
        .await;
    let nodes = data["clientStatistics"]["nodes"].as_array().unwrap();
    assert!(!nodes.is_empty());
    assert_eq!(
        nodes.len() as u64,
        data["clientStatistics"]["totalCount"].as_u64().unwrap()
    );
    for node in nodes {
        assert!(node["period"] == "2020-11" || node["period"] == "2020-12");
        assert_eq!(
            (node["gender"].as_str(), node["area"].as_str()),
            (Some("FEMALE"), Some("RURAL"))
        );
        assert_eq!(node["region"]["code"], "MA-10");
    }
    let open = app
        .query(r#"{ all: branches(filter: { kinds: [MOBILE] }) { totalCount } open: branches(filter: { kinds: [MOBILE], openOn: "2020-12-31" }) { totalCount } }"#, json!({}))
        .await;
    assert!(
        open["open"]["totalCount"].as_u64() < open["all"]["totalCount"].as_u64(),
        "closed mobile branches are left out"
    );
}
on_both_backends!(filters_select_exactly_the_matching_rows);

async fn internal_errors_are_masked(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    app.db.execute_unprepared("DROP TABLE training_action").await.unwrap();
    let reply = app
        .graphql(
            r#"{ trainingAction(code: "TA-1") { code } regions(first: 1) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.codes(), ["INTERNAL"]);
    assert_eq!(reply.message(), "internal error; the incident has been logged");
    assert!(
        !reply.body.to_string().to_lowercase().contains("training_action"),
        "no SQL reaches the client"
    );
    assert_eq!(
        reply.body["data"]["regions"]["totalCount"], 12,
        "the other fields still resolve"
    );
}
on_both_backends!(internal_errors_are_masked);

/// Every branch of the registry with its position, read page by page.
async fn every_branch(app: &observatory_tests::TestApp) -> Vec<(String, f64, f64)> {
    let mut branches = Vec::new();
    let mut after = serde_json::Value::Null;
    loop {
        let data = app
            .query(
                "query($after: String) { branches(first: 500, after: $after) { nodes { code latitude longitude } \
                 pageInfo { hasNextPage endCursor } } }",
                serde_json::json!({ "after": after }),
            )
            .await;
        for node in data["branches"]["nodes"].as_array().unwrap() {
            branches.push((
                node["code"].as_str().unwrap().to_owned(),
                node["latitude"].as_f64().unwrap(),
                node["longitude"].as_f64().unwrap(),
            ));
        }
        if !data["branches"]["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return branches;
        }
        after = data["branches"]["pageInfo"]["endCursor"].clone();
    }
}

/// Property: for generated points and radii, `branchesNear` gives exactly the nearest branches within the radius,
/// nearest first, with their great-circle distance, as a search over the whole registry finds them.
async fn branches_near_a_point_are_the_nearest_within_the_radius(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let branches = every_branch(&app).await;
    assert!(branches.len() > 100);
    let haversine = |a: (f64, f64), b: (f64, f64)| {
        let (p1, p2) = (a.0.to_radians(), b.0.to_radians());
        let (dp, dl) = (p2 - p1, (b.1 - a.1).to_radians());
        let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * 6_371.008_8 * h.sqrt().asin()
    };
    let mut g = observatory_tests::Gen::new(17);
    for _ in 0..12 {
        let (_, lat, lon) = g.pick(&branches).clone();
        let point = (
            lat + g.range(-20, 20) as f64 / 100.0,
            lon + g.range(-20, 20) as f64 / 100.0,
        );
        let radius = *g.pick(&[0.5, 3.0, 15.0, 60.0, 250.0]);
        let first = *g.pick(&[1_i64, 5, 20, 100]);
        let data = app
            .query(
                "query($lat: Float!, $lon: Float!, $r: Float!, $first: Int!) { branchesNear(latitude: $lat, \
                 longitude: $lon, radiusKm: $r, first: $first) { distanceKm branch { code } } }",
                serde_json::json!({ "lat": point.0, "lon": point.1, "r": radius, "first": first }),
            )
            .await;
        let got: Vec<(String, f64)> = data["branchesNear"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["branch"]["code"].as_str().unwrap().to_owned(),
                    n["distanceKm"].as_f64().unwrap(),
                )
            })
            .collect();
        let mut expected: Vec<(String, f64)> = branches
            .iter()
            .map(|(code, lat, lon)| (code.clone(), haversine(point, (*lat, *lon))))
            .filter(|(_, d)| *d <= radius)
            .collect();
        expected.sort_by(|a, b| a.1.total_cmp(&b.1));
        expected.truncate(first as usize);
        assert_eq!(got.len(), expected.len(), "{point:?} within {radius} km, first {first}");
        for ((code, distance), (want_code, want)) in got.iter().zip(&expected) {
            assert!(
                (distance - want).abs() < 1e-6,
                "{code}: {distance} km, expected {want} km"
            );
            // Equal distances may come in either order; otherwise the same branch.
            if (distance - want).abs() < 1e-9 && code != want_code {
                assert!(expected.iter().any(|(c, d)| c == code && (d - distance).abs() < 1e-9));
            }
        }
        assert!(got.windows(2).all(|w| w[0].1 <= w[1].1), "nearest first");
    }
    for (args, what) in [
        ("latitude: 95, longitude: 0", "latitude"),
        ("latitude: 33, longitude: -7, radiusKm: 0", "radiusKm"),
        ("latitude: 33, longitude: -7, radiusKm: 900", "radiusKm"),
        ("latitude: 33, longitude: -7, first: 101", "first"),
    ] {
        let reply = app
            .graphql(
                &format!("{{ branchesNear({args}) {{ distanceKm }} }}"),
                serde_json::json!({}),
            )
            .await;
        assert_eq!(reply.codes(), ["BAD_USER_INPUT"], "{args}");
        assert!(
            reply.body["errors"][0]["message"].as_str().unwrap().contains(what),
            "{}",
            reply.body
        );
    }
}
on_both_backends!(branches_near_a_point_are_the_nearest_within_the_radius);

/// Every value of every code enum of the schema has French, Arabic and English labels in `codeLists`; names and
/// labels follow `Accept-Language` (or `lang`), and answers kept for reuse never mix languages.
async fn labels_cover_every_code_and_follow_the_language(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let lists = app
        .query(
            "{ codeLists { id nameFr nameAr nameEn codes { code labelFr labelAr labelEn } } }",
            json!({}),
        )
        .await;
    for (list, enumeration) in [
        ("SEGMENT", "Segment"),
        ("GENDER", "Gender"),
        ("AREA", "Area"),
        ("BRANCH_KIND", "BranchKind"),
        ("STAFF_CATEGORY", "StaffCategory"),
        ("ASSOCIATION_STATUS", "AssociationStatus"),
    ] {
        let values = app
            .query(
                &format!("{{ __type(name: \"{enumeration}\") {{ enumValues {{ name }} }} }}"),
                json!({}),
            )
            .await;
        let mut schema: Vec<String> = values["__type"]["enumValues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap().to_owned())
            .collect();
        let found = lists["codeLists"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["id"] == list)
            .unwrap_or_else(|| panic!("no code list {list}"));
        let mut labelled: Vec<String> = Vec::new();
        for code in found["codes"].as_array().unwrap() {
            for field in ["labelFr", "labelAr", "labelEn"] {
                assert!(!code[field].as_str().unwrap().is_empty(), "{list} {code}");
            }
            // Arabic labels are written in Arabic script.
            assert!(
                code["labelAr"]
                    .as_str()
                    .unwrap()
                    .chars()
                    .any(|c| ('\u{0600}'..='\u{06FF}').contains(&c))
            );
            labelled.push(code["code"].as_str().unwrap().to_owned());
        }
        schema.sort();
        labelled.sort();
        assert_eq!(labelled, schema, "{list} labels every value of {enumeration}");
    }

    // Economic activities: a hierarchy, every parent a code of the list, three top-level groups.
    let activity = app
        .query("{ codeLists { id codes { code parent labelAr } } }", json!({}))
        .await;
    let codes = activity["codeLists"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == "ACTIVITY")
        .expect("an ACTIVITY code list")["codes"]
        .as_array()
        .unwrap()
        .clone();
    let known: Vec<&str> = codes.iter().map(|c| c["code"].as_str().unwrap()).collect();
    let top: Vec<&str> = codes
        .iter()
        .filter(|c| c["parent"].is_null())
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(top, ["INCOME_GENERATING", "HOUSEHOLD", "UNSPECIFIED"]);
    for code in &codes {
        if let Some(parent) = code["parent"].as_str() {
            assert!(known.contains(&parent), "{code}");
        }
    }
    for (leaf, parent) in [
        ("COMMERCE", "INCOME_GENERATING"),
        ("LIVESTOCK", "AGRICULTURE_LIVESTOCK"),
        ("HOUSING", "HOUSEHOLD"),
        ("UTILITIES_CONNECTION", "HOUSEHOLD"),
    ] {
        assert!(
            codes.iter().any(|c| c["code"] == leaf && c["parent"] == parent),
            "{leaf}"
        );
    }

    let names = |language: Option<&'static str>, query: &'static str| {
        let app = &app;
        async move {
            let mut request = axum::http::Request::post("/graphql")
                .header("content-type", "application/json")
                .header("accept", "application/json");
            if let Some(language) = language {
                request = request.header("accept-language", language);
            }
            let reply = app
                .send(
                    request
                        .body(axum::body::Body::from(json!({ "query": query }).to_string()))
                        .unwrap(),
                )
                .await;
            reply.data().clone()
        }
    };
    let query = "{ associations(first: 20) { nodes { code name nameFr nameAr nameEn } } \
                 codeLists { id codes { code label } } }";
    for (language, field) in [
        (None, "nameFr"),
        (Some("ar"), "nameAr"),
        (Some("en-GB,en;q=0.9"), "nameEn"),
        (Some("de-DE, ar-MA;q=0.9, en;q=0.8"), "nameAr"),
        (Some("de"), "nameFr"),
        (Some("fr;q=0.2, en;q=0.5"), "nameEn"),
    ] {
        // Three times: the third answer is a reused one and must still be in its own language.
        for _ in 0..3 {
            let data = names(language, query).await;
            for node in data["associations"]["nodes"].as_array().unwrap() {
                assert_eq!(node["name"], node[field], "{language:?}: {node}");
                assert_ne!(
                    node["nameEn"], node["nameFr"],
                    "every demo association has an English name"
                );
            }
            let segment = &data["codeLists"][0]["codes"][0]["label"];
            let expected = match field {
                "nameAr" => "القرض الفردي",
                "nameEn" => "Individual loan",
                _ => "Prêt individuel",
            };
            assert_eq!(segment, expected, "{language:?}");
        }
    }
    let forced = names(
        Some("ar"),
        "{ regions { nodes { name(lang: EN) nameEn } } indicatorCatalog { label(lang: FR) labelFr } }",
    )
    .await;
    for region in forced["regions"]["nodes"].as_array().unwrap() {
        assert_eq!(region["name"], region["nameEn"]);
    }
    for measure in forced["indicatorCatalog"].as_array().unwrap() {
        assert_eq!(measure["label"], measure["labelFr"]);
    }
}
on_both_backends!(labels_cover_every_code_and_follow_the_language);
