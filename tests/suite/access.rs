//! Partner access: keys, roles, released months only, suppression of small
//! groups, and the limits that keep a public endpoint safe.

use axum::http::{StatusCode, header};
use observatory_tests::{Backend, Fixture, PartnerKind, on_both_backends, spawn_app, spawn_app_with};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use std::fmt;

const RELEASED: &str = "2020-11";
const UNRELEASED: &str = "2020-12";
const OWN: &str = "ATLAS";
const OTHER: &str = "NOUR";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// Refused with FORBIDDEN.
    Forbidden,
    /// Answered, with nothing in it.
    Nothing,
    /// Answered, with figures.
    Figures,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Public,
    Partner,
    Association,
    Observatory,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    /// `clientStatistics` filtered on one association.
    RootList,
    /// `activityStatistics` (loans by activity) filtered on one association.
    ActivityList,
    /// `association(code) { clientStatistics }`.
    Nested,
    /// `region(code) { loanStatistics }`: every association of the region the caller may see.
    RegionList,
    /// `indicators` filtered on one association.
    IndicatorsOfAssociation,
    /// `indicators` sector-wide.
    IndicatorsOfSector,
}

struct Cell {
    role: Role,
    path: Path,
    released: bool,
    own: bool,
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let month = if self.released { "released" } else { "unreleased" };
        let whose = if self.own { "own" } else { "other" };
        write!(f, "{:?} × {:?} × {month} × {whose} association", self.role, self.path)
    }
}

/// What each role sees, as the README's partner table states it.
fn expected(cell: &Cell) -> Seen {
    use Path::*;
    use Seen::*;
    let released = if cell.released { Figures } else { Nothing };
    match cell.role {
        Role::Observatory => Figures,
        Role::Partner => released,
        Role::Public => match cell.path {
            IndicatorsOfSector => released,
            _ => Forbidden,
        },
        Role::Association => match (cell.path, cell.own) {
            (IndicatorsOfSector, _) => released,
            (RegionList, _) => Figures,
            (_, true) => Figures,
            (_, false) => Forbidden,
        },
    }
}

fn query(path: Path, month: &str, association: &str) -> String {
    match path {
        Path::RootList => format!(
            r#"{{ x: clientStatistics(first: 5, filter: {{ associations: ["{association}"], from: "{month}", to: "{month}" }}) {{ totalCount nodes {{ activeClients }} }} }}"#
        ),
        Path::ActivityList => format!(
            r#"{{ x: activityStatistics(first: 5, filter: {{ associations: ["{association}"], from: "{month}", to: "{month}" }}) {{ totalCount nodes {{ outstandingAmount }} }} }}"#
        ),
        Path::Nested => format!(
            r#"{{ association(code: "{association}") {{ x: clientStatistics(first: 5, filter: {{ from: "{month}", to: "{month}" }}) {{ totalCount nodes {{ activeClients }} }} }} }}"#
        ),
        Path::RegionList => format!(
            r#"{{ region(code: "MA-06") {{ x: loanStatistics(first: 5, filter: {{ from: "{month}", to: "{month}" }}) {{ totalCount nodes {{ outstandingAmount }} }} }} }}"#
        ),
        Path::IndicatorsOfAssociation => format!(
            r#"{{ x: indicators(period: {{ from: "{month}", to: "{month}" }}, filter: {{ associations: ["{association}"] }}) {{ activeClients {{ value }} }} }}"#
        ),
        Path::IndicatorsOfSector => format!(
            r#"{{ x: indicators(period: {{ from: "{month}", to: "{month}" }}) {{ activeClients {{ value }} }} }}"#
        ),
    }
}

fn seen(reply: &observatory_tests::Reply) -> Seen {
    if reply.codes().iter().any(|c| c == "FORBIDDEN") {
        return Seen::Forbidden;
    }
    let data = reply.data();
    let x = if data.get("association").is_some() {
        &data["association"]["x"]
    } else if data.get("region").is_some() {
        &data["region"]["x"]
    } else {
        &data["x"]
    };
    let count = match x {
        Value::Array(rows) => rows.len() as u64,
        other => other["totalCount"].as_u64().unwrap(),
    };
    if count == 0 { Seen::Nothing } else { Seen::Figures }
}

async fn every_role_sees_exactly_what_the_access_table_says(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    app.db
        .execute_unprepared("DELETE FROM release WHERE period = 202012")
        .await
        .unwrap();
    let partner = app.issue_key(PartnerKind::Fund, None).await;
    let association = app.issue_key(PartnerKind::Association, Some(OWN)).await;
    let observatory = app.issue_key(PartnerKind::Observatory, None).await;
    let keys = [
        (Role::Public, None),
        (Role::Partner, Some(partner.as_str())),
        (Role::Association, Some(association.as_str())),
        (Role::Observatory, Some(observatory.as_str())),
    ];
    let paths = [
        Path::RootList,
        Path::ActivityList,
        Path::Nested,
        Path::RegionList,
        Path::IndicatorsOfAssociation,
        Path::IndicatorsOfSector,
    ];
    let mut failures = Vec::new();
    let mut cells = 0;
    for (role, key) in keys {
        for path in paths {
            for released in [true, false] {
                for own in [true, false] {
                    let cell = Cell {
                        role,
                        path,
                        released,
                        own,
                    };
                    let month = if released { RELEASED } else { UNRELEASED };
                    let reply = app
                        .graphql_as(key, &query(path, month, if own { OWN } else { OTHER }), json!({}))
                        .await;
                    let got = seen(&reply);
                    cells += 1;
                    if got != expected(&cell) {
                        failures.push(format!(
                            "{cell}: expected {:?}, got {got:?} ({})",
                            expected(&cell),
                            reply.body
                        ));
                    }
                }
            }
        }
    }
    assert_eq!(cells, 96, "4 roles × 6 paths × released or not × own or other");
    assert!(
        failures.is_empty(),
        "{} of {cells} cells differ:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // An association's region list holds its own rows only, released or not.
    let region_list =
        r#"{ region(code: "MA-06") { loanStatistics(filter: { from: "2020-12", to: "2020-12" }) { totalCount } } }"#;
    let own_rows = r#"{ loanStatistics(filter: { associations: ["ATLAS"], regions: ["MA-06"], from: "2020-12", to: "2020-12" }) { totalCount } }"#;
    let seen_by_association = app.graphql_as(Some(&association), region_list, json!({})).await;
    let all_of_its_rows = app.graphql_as(Some(&observatory), own_rows, json!({})).await;
    assert_eq!(
        seen_by_association.data()["region"]["loanStatistics"]["totalCount"],
        all_of_its_rows.data()["loanStatistics"]["totalCount"]
    );
    assert!(all_of_its_rows.data()["loanStatistics"]["totalCount"].as_u64() > Some(0));
}
on_both_backends!(every_role_sees_exactly_what_the_access_table_says);

async fn small_groups_are_suppressed_for_the_public_with_their_complement(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Empty).await;
    let mut statements = vec![
        "INSERT INTO association (code, name_fr, name_ar, founded_year, status, head_office_city) VALUES \
         ('AAA', 'A', 'A', 2000, 'ACTIVE', 'X'), ('BBB', 'B', 'B', 2000, 'ACTIVE', 'X'), \
         ('CCC', 'C', 'C', 2000, 'ACTIVE', 'X'), ('DDD', 'D', 'D', 2000, 'ACTIVE', 'X')"
            .to_owned(),
        "INSERT INTO release (period, released_at, note) VALUES (202012, '2021-01-15 00:00:00+00:00', '')".to_owned(),
    ];
    // MA-01: four associations; MA-02: three (the smallest total); MA-12: two.
    for (region, associations, clients) in [
        ("MA-01", vec!["AAA", "BBB", "CCC", "DDD"], 100),
        ("MA-02", vec!["AAA", "BBB", "CCC"], 10),
        ("MA-12", vec!["AAA", "BBB"], 50),
    ] {
        for association in associations {
            statements.push(format!(
                "INSERT INTO client_stat (association_id, region_id, period, segment, gender, area, active_clients, new_clients) \
                 VALUES ((SELECT id FROM association WHERE code = '{association}'), (SELECT id FROM region WHERE code = '{region}'), \
                 202012, 'INDIVIDUAL', 'FEMALE', 'URBAN', {clients}, 1)"
            ));
        }
    }
    // Only two associations set themselves a target for new clients.
    for association in ["AAA", "BBB"] {
        statements.push(format!(
            "INSERT INTO target (association_id, period, measure, value) \
             VALUES ((SELECT id FROM association WHERE code = '{association}'), 202012, 'NEW_CLIENTS', 5)"
        ));
    }
    for sql in &statements {
        app.db.execute_unprepared(sql).await.unwrap();
    }
    api::rollup::refresh(&app.db, None).await.unwrap();
    let query = r#"{ indicators(period: { from: "2020-12", to: "2020-12" }, groupBy: [REGION]) {
        region { code } activeClients { value suppressed } } }"#;
    let public = app.graphql_as(None, query, json!({})).await;
    let rows: Vec<(String, Value, bool)> = public.data()["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let m = &r["activeClients"];
            (
                r["region"]["code"].as_str().unwrap().to_owned(),
                m["value"].clone(),
                m["suppressed"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("MA-01".to_owned(), json!(400.0), false),
            ("MA-02".to_owned(), Value::Null, true),
            ("MA-12".to_owned(), Value::Null, true),
        ],
        "MA-12 (two associations) is hidden, and so is the smallest other region, so that the sector total minus \
         MA-01 does not give MA-12 back"
    );
    let sector = app
        .graphql_as(
            None,
            r#"{ indicators(period: { from: "2020-12", to: "2020-12" }) { activeClients { value suppressed } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        sector.data()["indicators"][0]["activeClients"],
        json!({ "value": 530.0, "suppressed": false })
    );

    let targets = r#"{ indicators(period: { from: "2020-12", to: "2020-12" }) { newClients { value target } } }"#;
    let public_targets = app.graphql_as(None, targets, json!({})).await;
    assert_eq!(
        public_targets.data()["indicators"][0]["newClients"],
        json!({ "value": 9.0, "target": null }),
        "targets set by two associations are not shown to the public"
    );
    let partner = app.issue_key(PartnerKind::Ministry, None).await;
    let partner_targets = app
        .graphql_as(
            Some(&partner),
            r#"{ indicators(period: { from: "2020-12", to: "2020-12" }) {
                newClients { value target targetCoverage { setting expected } } } }"#,
            json!({}),
        )
        .await;
    let new_clients = &partner_targets.data()["indicators"][0]["newClients"];
    assert_eq!(new_clients["value"], json!(9.0));
    assert_eq!(
        new_clients["target"],
        Value::Null,
        "a sector target is shown only when every association with figures set one: {new_clients}"
    );
    assert_eq!(new_clients["targetCoverage"]["setting"], json!(2));
    assert!(new_clients["targetCoverage"]["expected"].as_i64().unwrap() > 2);
    let by_association = app
        .graphql_as(
            Some(&partner),
            r#"{ indicators(period: { from: "2020-12", to: "2020-12" }, groupBy: [ASSOCIATION]) {
                newClients { target } } }"#,
            json!({}),
        )
        .await;
    let set: f64 = by_association.data()["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["newClients"]["target"].as_f64())
        .sum();
    assert_eq!(set, 10.0, "the two associations' own targets are shown to the partner");
    let seen_by_partner = app.graphql_as(Some(&partner), query, json!({})).await;
    let values: Vec<Value> = seen_by_partner.data()["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["activeClients"]["value"].clone())
        .collect();
    assert_eq!(
        values,
        [json!(400.0), json!(30.0), json!(100.0)],
        "partners see every group"
    );
}
on_both_backends!(small_groups_are_suppressed_for_the_public_with_their_complement);

async fn wrong_expired_and_revoked_keys_are_refused_never_downgraded(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Empty).await;
    let query = "{ viewer { role partner } }";
    let public = app.graphql_as(None, query, json!({})).await;
    assert_eq!(public.data()["viewer"]["role"], "PUBLIC");
    let key = app.issue_key(PartnerKind::Federation, None).await;
    assert_eq!(
        app.graphql_as(Some(&key), query, json!({})).await.data()["viewer"]["role"],
        "PARTNER"
    );
    let lower_case_scheme = app
        .send(
            axum::http::Request::post("/graphql")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::AUTHORIZATION, format!("bearer {key}"))
                .body(axum::body::Body::from(json!({ "query": query }).to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(
        lower_case_scheme.data()["viewer"]["role"],
        "PARTNER",
        "the scheme is case-insensitive"
    );

    let wrong = format!("{}0000", &key[..key.len() - 4]);
    for (sent, words) in [
        (wrong.as_str(), "not recognised"),
        ("mfo_short", "not recognised"),
        ("not-a-key-at-all", "not recognised"),
    ] {
        let reply = app.graphql_as(Some(sent), query, json!({})).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{sent}");
        assert_eq!(reply.codes(), ["UNAUTHENTICATED"]);
        assert!(reply.message().contains(words), "{}", reply.message());
        assert_eq!(reply.headers.get(header::WWW_AUTHENTICATE).unwrap(), "Bearer");
    }
    let basic = app
        .send(
            axum::http::Request::post("/graphql")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::AUTHORIZATION, "Basic dXNlcjpwYXNz")
                .body(axum::body::Body::from(json!({ "query": query }).to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(basic.status, StatusCode::UNAUTHORIZED);
    assert!(basic.message().contains("Bearer"));

    let revoked = app
        .graphql(
            "mutation($p: String!) { revokeApiKey(prefix: $p) { revokedAt } }",
            json!({ "p": &key[..12] }),
        )
        .await;
    assert!(revoked.data()["revokeApiKey"]["revokedAt"].is_string());
    let after = app.graphql_as(Some(&key), query, json!({})).await;
    assert_eq!(
        (after.status, after.codes()),
        (StatusCode::UNAUTHORIZED, vec!["UNAUTHENTICATED".to_owned()])
    );
    assert!(after.message().contains("revoked"));

    let expiring = app.issue_key(PartnerKind::Fund, None).await;
    app.db
        .execute_unprepared(&format!(
            "UPDATE api_key SET expires_at = '2020-01-01 00:00:00+00:00' WHERE prefix = '{}'",
            &expiring[..12]
        ))
        .await
        .unwrap();
    let expired = app.graphql_as(Some(&expiring), query, json!({})).await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert!(
        expired.message().contains("expired on 2020-01-01"),
        "{}",
        expired.message()
    );
}
on_both_backends!(wrong_expired_and_revoked_keys_are_refused_never_downgraded);

async fn only_the_observatory_manages_partners_keys_and_releases_and_all_is_audited(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let partner = app.issue_key(PartnerKind::Ministry, None).await;
    let create =
        r#"mutation { createPartner(input: { code: "CDG", name: "Fondation CDG", kind: FUND }) { code kind } }"#;
    for key in [None, Some(partner.as_str())] {
        let refused = app.graphql_as(key, create, json!({})).await;
        assert_eq!(refused.codes(), ["FORBIDDEN"], "{key:?}");
        assert!(refused.message().contains("reserved to the observatory"));
    }
    let audit_count = || {
        let app = &app;
        async move {
            app.db
                .query_one_raw(sea_orm::Statement::from_string(
                    app.db.get_database_backend(),
                    "SELECT COUNT(*) AS n FROM audit_event",
                ))
                .await
                .unwrap()
                .unwrap()
                .try_get::<i64>("", "n")
                .unwrap()
        }
    };
    let before = audit_count().await;
    assert_eq!(
        app.query(create, json!({})).await["createPartner"],
        json!({ "code": "CDG", "kind": "FUND" })
    );
    let duplicate = app.graphql(create, json!({})).await;
    assert_eq!(duplicate.codes(), ["CONFLICT"]);
    let issued = app
        .query(
            r#"mutation { issueApiKey(input: { partner: "CDG", label: "BI tool", expiresInDays: 90 }) { secret key { prefix scopes expiresAt } } }"#,
            json!({}),
        )
        .await;
    let secret = issued["issueApiKey"]["secret"].as_str().unwrap().to_owned();
    assert_eq!(&secret[..12], issued["issueApiKey"]["key"]["prefix"].as_str().unwrap());
    assert_eq!(
        app.graphql_as(Some(&secret), "{ viewer { role partner } }", json!({}))
            .await
            .data()["viewer"],
        json!({ "role": "PARTNER", "partner": "CDG" })
    );
    let listed = app
        .query(r#"{ apiKeys(partner: "CDG") { prefix label } }"#, json!({}))
        .await;
    assert_eq!(listed["apiKeys"][0]["label"], "BI tool");
    assert!(!listed.to_string().contains(&secret), "secrets are never listed");

    // Releasing a month opens it to partners and the public.
    app.db
        .execute_unprepared("DELETE FROM release WHERE period = 202012")
        .await
        .unwrap();
    let sector = r#"{ indicators(period: { from: "2020-12", to: "2020-12" }) { activeClients { value } } }"#;
    assert_eq!(
        app.graphql_as(None, sector, json!({})).await.data()["indicators"],
        json!([])
    );
    let released = app
        .query(
            // The demo's figures were loaded without reports: releasing them again takes `force` and a note.
            r#"mutation { releasePeriod(period: "2020-12", note: "demo figures, loaded without reports", force: true) { period } }"#,
            json!({}),
        )
        .await;
    assert_eq!(released["releasePeriod"]["period"], "2020-12");
    assert_eq!(
        app.graphql_as(None, sector, json!({})).await.data()["indicators"][0]["activeClients"]["value"],
        868_070.0
    );
    assert_eq!(
        app.graphql(r#"mutation { releasePeriod(period: "2020-12") { period } }"#, json!({}))
            .await
            .codes(),
        ["CONFLICT"]
    );

    assert_eq!(
        audit_count().await - before,
        3,
        "partner created, key issued, month released"
    );
    let actions = app
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT action, target_code, actor_key_prefix FROM audit_event ORDER BY id DESC LIMIT 3",
        ))
        .await
        .unwrap();
    let actions: Vec<(String, String, Option<String>)> = actions
        .iter()
        .map(|r| {
            (
                r.try_get("", "action").unwrap(),
                r.try_get("", "target_code").unwrap(),
                r.try_get("", "actor_key_prefix").unwrap(),
            )
        })
        .collect();
    assert_eq!(actions[0].0, "release.create");
    assert_eq!(
        actions[1],
        ("key.issue".to_owned(), secret[..12].to_owned(), actions[1].2.clone())
    );
    assert_eq!(actions[2].1, "CDG");
    assert!(
        actions.iter().all(|a| a.2.is_some()),
        "each action names the key that made it"
    );
}
on_both_backends!(only_the_observatory_manages_partners_keys_and_releases_and_all_is_audited);

fn nested(depth: usize) -> String {
    let mut query = String::from("code");
    for _ in 0..depth {
        query = format!("association {{ branches(first: 1) {{ nodes {{ {query} }} }} }}");
    }
    format!(r#"{{ branch(code: "ATLAS-MA06-0001") {{ {query} }} }}"#)
}

#[tokio::test]
async fn abusive_queries_are_refused_before_they_run() {
    let app = spawn_app(&Backend::Sqlite, Fixture::Demo).await;
    let deep = app.graphql_as(None, &nested(6), json!({})).await;
    assert_eq!(deep.status, StatusCode::BAD_REQUEST);
    assert_eq!(deep.codes(), ["BAD_REQUEST"]);
    assert!(deep.message().contains("nested too deep"), "{}", deep.message());

    let aliases: String = (0..3000).map(|i| format!("a{i}: regions {{ totalCount }} ")).collect();
    app.reset_statements();
    let many = app.graphql_as(None, &format!("{{ {aliases} }}"), json!({})).await;
    assert_eq!(many.status, StatusCode::BAD_REQUEST);
    assert_eq!(many.codes(), ["BAD_REQUEST"]);
    assert!(many.message().contains("too costly"), "{}", many.message());
    assert_eq!(app.statements(), 0, "refused without running a statement");

    let wide = app
        .graphql_as(
            None,
            "{ branches(first: 500) { nodes { association { branches(first: 500) { nodes { code } } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(wide.status, StatusCode::BAD_REQUEST, "500 × 500 rows cost too much");
    assert_eq!(wide.codes(), ["BAD_REQUEST"]);
    assert_eq!(
        app.graphql_as(None, "{ branches(first: 100000) { totalCount } }", json!({}))
            .await
            .codes(),
        ["BAD_USER_INPUT"]
    );

    let introspection = r#"query IntrospectionQuery { __schema { queryType { name } mutationType { name } types { ...FullType } } }
        fragment FullType on __Type { kind name description fields(includeDeprecated: true) { name args { ...InputValue } type { ...TypeRef } }
          inputFields { ...InputValue } interfaces { ...TypeRef } enumValues(includeDeprecated: true) { name } possibleTypes { ...TypeRef } }
        fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
        fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
          ofType { kind name ofType { kind name ofType { kind name } } } } } } } }"#;
    let reply = app.graphql_as(None, introspection, json!({})).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "the standard introspection query passes the limits: {}",
        reply.message()
    );
    assert!(reply.data()["__schema"]["types"].as_array().unwrap().len() > 50);

    // Introspection has an allowance of its own, apart from the SQL budget: the whole schema once passes for the
    // public, the same several times in one document is refused before any work.
    let repeated = introspection.replacen(
        "__schema { queryType { name } mutationType { name } types { ...FullType } }",
        &(0..4)
            .map(|i| format!("s{i}: __schema {{ types {{ ...FullType }} }}"))
            .collect::<Vec<_>>()
            .join(" "),
        1,
    );
    let reply = app.graphql_as(None, &repeated, json!({})).await;
    assert_eq!(reply.codes(), ["BAD_REQUEST"], "{}", reply.body);
    assert!(reply.message().contains("introspection"), "{}", reply.message());
}

#[tokio::test]
async fn the_rate_limit_answers_429_per_caller_with_its_headers() {
    let limits = api::HttpLimits {
        anonymous_per_minute: 3,
        keyed_per_minute: 5,
        ..api::HttpLimits::default()
    };
    let app = spawn_app_with(&Backend::Sqlite, Fixture::Empty, limits).await;
    let query = "{ regions(first: 1) { totalCount } }";
    for remaining in [2, 1, 0] {
        let reply = app.graphql_as(None, query, json!({})).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.headers["ratelimit-limit"], "3");
        assert_eq!(reply.headers["ratelimit-remaining"], remaining.to_string().as_str());
    }
    let limited = app.graphql_as(None, query, json!({})).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.codes(), ["RATE_LIMITED"]);
    let retry: u64 = limited.headers[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    let keyed = app.graphql(query, json!({})).await;
    assert_eq!(
        keyed.status,
        StatusCode::OK,
        "a caller with a key has its own allowance"
    );
    assert_eq!(keyed.headers["ratelimit-limit"], "5");
    let bad_key = app.graphql_as(Some("mfo_0123456789abcdef"), query, json!({})).await;
    assert_eq!(
        bad_key.status,
        StatusCode::TOO_MANY_REQUESTS,
        "refused keys count against the address"
    );
}
