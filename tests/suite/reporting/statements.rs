//! Quarterly financial statements as reports: every identity of the chart checked to the centime (a statement whose
//! assets differ from liabilities plus equity by 0.01 MAD is rejected naming the line, column and rule, and nothing is
//! stored), the demo's statements passing every identity without a warning, cross-checks that warn without
//! blocking, revisions and replays, the quarter's release, and who reads what.

use super::*;

const QUARTER: &str = "2020-Q4";

/// The chart's identities, read from `chartOfAccounts`: the total, and each part with its sign.
async fn identities(app: &TestApp) -> Vec<(String, Vec<(i64, String)>)> {
    let chart = app
        .query("{ chartOfAccounts { identities { text } } }", json!({}))
        .await;
    chart["chartOfAccounts"]["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let text = i["text"].as_str().unwrap();
            let (total, parts) = text.split_once(" = ").unwrap();
            let mut sign = 1;
            let mut terms = Vec::new();
            for word in parts.split_whitespace() {
                match word {
                    "+" => sign = 1,
                    "−" => sign = -1,
                    code => terms.push((sign, code.to_owned())),
                }
            }
            (total.to_owned(), terms)
        })
        .collect()
}

/// An association's accepted statement of a quarter, as the partners read it: line → centimes (or count).
async fn statement(app: &TestApp, association: &str, quarter: &str) -> Vec<(String, i64)> {
    let data = app
        .query(
            "query($a: [String!], $q: Period!) { financialStatements(associations: $a, from: $q, to: $q) { \
             lines { line amount count } } }",
            json!({ "a": [association], "q": quarter }),
        )
        .await;
    data["financialStatements"][0]["lines"]
        .as_array()
        .unwrap_or_else(|| panic!("a statement of {association} {quarter}: {data}"))
        .iter()
        .map(|l| {
            let value = match l["amount"].as_str() {
                Some(amount) => {
                    let negative = amount.starts_with('-');
                    let (whole, cents) = amount.trim_start_matches('-').split_once('.').unwrap();
                    let v = whole.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap();
                    if negative { -v } else { v }
                }
                None => l["count"].as_i64().unwrap(),
            };
            (l["line"].as_str().unwrap().to_owned(), value)
        })
        .collect()
}

fn csv(lines: &[(String, i64)]) -> Vec<u8> {
    let mut text = String::from("line,value\n");
    for (line, value) in lines {
        if line == "PF_LOAN_OFFICERS" {
            text.push_str(&format!("{line},{value}\n"));
        } else {
            let sign = if *value < 0 { "-" } else { "" };
            text.push_str(&format!("{line},{sign}{}\n", money(value.abs())));
        }
    }
    text.into_bytes()
}

fn adjust(lines: &mut [(String, i64)], line: &str, by: i64) {
    let entry = lines.iter_mut().find(|(l, _)| l == line).unwrap();
    entry.1 += by;
}

async fn stored(app: &TestApp, sql: &str) -> i64 {
    let row = app
        .db
        .query_one_raw(Statement::from_string(app.db.get_database_backend(), sql.to_owned()))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

async fn a_centime_off_balance_is_rejected_naming_the_rule_and_nothing_is_stored(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let own = key_with(&app, PartnerKind::Association, Some(ASSOCIATION), &["read", "write"]).await;
    let path = format!("/reports/{ASSOCIATION}/{QUARTER}");
    let mut lines = statement(&app, ASSOCIATION, QUARTER).await;
    let count = "SELECT COUNT(*) FROM statement_submission";
    let (submissions, rows) = (
        stored(&app, count).await,
        stored(&app, "SELECT COUNT(*) FROM fin_stat_revision").await,
    );
    // One centime more cash, and the total assets with it: the assets no longer equal liabilities plus equity.
    adjust(&mut lines, "BS_CASH", 1);
    adjust(&mut lines, "BS_TOTAL_ASSETS", 1);
    let reply = post_report(&app, Some(&own), &path, multipart(&[("statements", csv(&lines))]), &[]).await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    let errors = reply.body["errors"][0]["extensions"]["report"]["errors"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let at = lines.iter().position(|(l, _)| l == "BS_TOTAL_ASSETS").unwrap() as i64 + 2;
    assert_eq!(errors[0]["rule"], "BALANCE_MISMATCH");
    assert_eq!(errors[0]["line"], at, "the total's line in the file");
    assert_eq!(errors[0]["column"], "value");
    assert_eq!(errors[0]["table"], "statements");
    assert!(
        errors[0]["message"].as_str().unwrap().contains("0.01 MAD"),
        "{}",
        errors[0]
    );
    // A total that differs from its lines by a centime: the total's rule.
    adjust(&mut lines, "BS_TOTAL_ASSETS", -1);
    let reply = post_report(&app, Some(&own), &path, multipart(&[("statements", csv(&lines))]), &[]).await;
    assert_eq!(reply.status, 422);
    let rules: Vec<&str> = reply.body["errors"][0]["extensions"]["report"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, vec!["TOTAL_MISMATCH"], "{}", reply.body);
    // Unknown, missing and negative lines, all at once.
    adjust(&mut lines, "BS_CASH", -1);
    let mut broken = lines.clone();
    broken.retain(|(l, _)| l != "IS_TAXES");
    broken.push(("BS_GOODWILL".into(), 100));
    let other_assets = broken.iter().find(|(l, _)| l == "BS_OTHER_ASSETS").unwrap().1;
    adjust(&mut broken, "BS_OTHER_ASSETS", -other_assets - 5);
    let reply = post_report(&app, Some(&own), &path, multipart(&[("statements", csv(&broken))]), &[]).await;
    assert_eq!(reply.status, 422);
    let rules: Vec<String> = reply.body["errors"][0]["extensions"]["report"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["rule"].as_str().unwrap().to_owned())
        .collect();
    for rule in ["UNKNOWN_CODE", "MISSING_LINE", "NEGATIVE"] {
        assert!(rules.iter().any(|r| r == rule), "{rule} in {rules:?}");
    }
    // The same through GraphQL.
    let mut through_graphql = lines.clone();
    adjust(&mut through_graphql, "BS_CASH", 1);
    adjust(&mut through_graphql, "BS_TOTAL_ASSETS", 1);
    let input: Vec<Value> = through_graphql
        .iter()
        .map(|(line, value)| {
            let text = if line == "PF_LOAN_OFFICERS" {
                value.to_string()
            } else {
                format!("{}{}", if *value < 0 { "-" } else { "" }, money(value.abs()))
            };
            json!({ "line": line, "value": text })
        })
        .collect();
    let mutation = "mutation($input: StatementInput!) { submitStatements(input: $input) { revision } }";
    let reply = app
        .graphql_as(
            Some(&own),
            mutation,
            json!({ "input": { "association": ASSOCIATION, "quarter": QUARTER, "lines": input } }),
        )
        .await;
    assert_eq!(reply.codes(), vec!["BAD_USER_INPUT"], "{}", reply.body);
    assert_eq!(
        reply.body["errors"][0]["extensions"]["report"]["errors"][0]["rule"],
        "BALANCE_MISMATCH"
    );
    assert_eq!(stored(&app, count).await, submissions, "nothing stored");
    assert_eq!(stored(&app, "SELECT COUNT(*) FROM fin_stat_revision").await, rows);
    // Sent right, it is the quarter's next revision, and a replay answers it again.
    let headers = [("idempotency-key", "tafoukt-2020-q4")];
    let reply = post_report(
        &app,
        Some(&own),
        &path,
        multipart(&[("statements", csv(&lines))]),
        &headers,
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["revision"], 2);
    assert_eq!(reply.body["quarter"], QUARTER);
    assert_eq!(
        reply.body["warnings"],
        json!([]),
        "the demo's own figures raise no warning"
    );
    let again = post_report(
        &app,
        Some(&own),
        &path,
        multipart(&[("statements", csv(&lines))]),
        &headers,
    )
    .await;
    assert_eq!(again.body["id"], reply.body["id"]);
    assert_eq!(
        stored(&app, "SELECT COUNT(*) FROM fin_stat_revision").await,
        rows + lines.len() as i64,
        "the revision keeps the lines it replaced"
    );
    // Another association may not send it.
    let other = key_with(&app, PartnerKind::Association, Some("ATLAS"), &["read", "write"]).await;
    let reply = post_report(
        &app,
        Some(&other),
        &path,
        multipart(&[("statements", csv(&lines))]),
        &[],
    )
    .await;
    assert_eq!(reply.status, 403, "{}", reply.body);
}
on_both_backends!(a_centime_off_balance_is_rejected_naming_the_rule_and_nothing_is_stored);

/// The demo's 104 statements were accepted on time without a warning, and every identity of the chart holds in the
/// lines the partners read.
async fn the_demo_statements_pass_every_identity_without_a_warning(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let data = app
        .query(
            r#"{ statementSubmissions(from: "2019-Q1", to: "2020-Q4") { status late warnings { rule } } }"#,
            json!({}),
        )
        .await;
    let submissions = data["statementSubmissions"].as_array().unwrap();
    assert_eq!(submissions.len(), 13 * 8);
    for s in submissions {
        assert_eq!(s["status"], "ACCEPTED");
        assert_eq!(s["late"], false);
        assert_eq!(s["warnings"], json!([]), "{s}");
    }
    let identities = identities(&app).await;
    assert_eq!(identities.len(), 9);
    let all = app
        .query(
            r#"{ financialStatements(from: "2019-Q1", to: "2020-Q4") { association { code } quarter lines { line amount } } }"#,
            json!({}),
        )
        .await;
    let statements = all["financialStatements"].as_array().unwrap();
    assert_eq!(statements.len(), 13 * 8);
    for s in statements {
        let value = |code: &str| -> i64 {
            let amount = s["lines"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["line"] == code)
                .and_then(|l| l["amount"].as_str())
                .unwrap_or("0.00")
                .to_owned();
            let negative = amount.starts_with('-');
            let (whole, cents) = amount.trim_start_matches('-').split_once('.').unwrap();
            let v = whole.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap();
            if negative { -v } else { v }
        };
        for (total, parts) in &identities {
            let sum: i64 = parts.iter().map(|(sign, part)| sign * value(part)).sum();
            assert_eq!(
                value(total),
                sum,
                "{} {} {total}",
                s["association"]["code"],
                s["quarter"]
            );
        }
    }
}
on_both_backends!(the_demo_statements_pass_every_identity_without_a_warning);

/// Cross-checks warn and never block: a portfolio 2 % off the monthly outstanding, equity that does not follow the
/// net income.
async fn cross_checks_warn_without_blocking(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let own = key_with(&app, PartnerKind::Association, Some(ASSOCIATION), &["read", "write"]).await;
    let mut lines = statement(&app, ASSOCIATION, QUARTER).await;
    let glp = lines.iter().find(|(l, _)| l == "BS_GROSS_LOAN_PORTFOLIO").unwrap().1;
    let moved = glp / 50;
    adjust(&mut lines, "BS_GROSS_LOAN_PORTFOLIO", moved);
    adjust(&mut lines, "BS_CASH", -moved);
    adjust(&mut lines, "BS_OTHER_EQUITY", 100);
    adjust(&mut lines, "BS_TOTAL_EQUITY", 100);
    adjust(&mut lines, "BS_LONG_TERM_BORROWINGS", -100);
    adjust(&mut lines, "BS_TOTAL_LIABILITIES", -100);
    let path = format!("/reports/{ASSOCIATION}/{QUARTER}");
    let reply = post_report(&app, Some(&own), &path, multipart(&[("statements", csv(&lines))]), &[]).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let rules: Vec<&str> = reply.body["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        vec!["GLP_DIFFERS_FROM_MONTHLY", "EQUITY_DISCONTINUITY"],
        "{}",
        reply.body
    );
}
on_both_backends!(cross_checks_warn_without_blocking);

/// A quarter is released once its months are and every statement is in, or forced with a note; partners read
/// released quarters only, an association its own, the public none.
async fn partners_read_released_quarters_and_the_public_no_statement(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let own = key_with(&app, PartnerKind::Association, Some(ASSOCIATION), &["read", "write"]).await;
    let partner = key_with(&app, PartnerKind::Ministry, None, &["read"]).await;
    let mut lines = statement(&app, ASSOCIATION, QUARTER).await;
    lines.iter_mut().for_each(|(l, v)| {
        if l.starts_with("IS_") {
            *v = 0;
        }
    });
    let path = format!("/reports/{ASSOCIATION}/2021-Q1");
    let reply = post_report(&app, Some(&own), &path, multipart(&[("statements", csv(&lines))]), &[]).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let read = |key: Option<String>| {
        let app = &app;
        async move {
            app.graphql_as(
                key.as_deref(),
                r#"{ financialStatements(from: "2021-Q1", to: "2021-Q1") { association { code } } }"#,
                json!({}),
            )
            .await
        }
    };
    assert_eq!(
        read(Some(own.clone())).await.data()["financialStatements"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        read(Some(partner.clone())).await.data()["financialStatements"],
        json!([])
    );
    assert_eq!(read(None).await.codes(), vec!["FORBIDDEN"]);
    let release = r#"mutation($force: Boolean!, $note: String!) { releaseQuarter(quarter: "2021-Q1", force: $force, note: $note) { quarter } }"#;
    let refused = app.graphql(release, json!({ "force": false, "note": "" })).await;
    assert_eq!(refused.codes(), vec!["CONFLICT"]);
    assert!(
        refused.message().contains("2021-01 not released"),
        "{}",
        refused.message()
    );
    assert!(
        refused.message().contains("no statement from ATLAS"),
        "{}",
        refused.message()
    );
    let forced = app
        .graphql(release, json!({ "force": true, "note": "one statement, for the test" }))
        .await;
    assert_eq!(forced.data()["releaseQuarter"]["quarter"], "2021-Q1");
    assert_eq!(
        read(Some(partner)).await.data()["financialStatements"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
on_both_backends!(partners_read_released_quarters_and_the_public_no_statement);

/// A revision of a released quarter's statement: the current figures move, `asOf` an instant before it gives the
/// figures as they stood, and the public keeps reading the quarter as released.
async fn a_revised_statement_keeps_its_past_readable(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let own = key_with(&app, PartnerKind::Association, Some(ASSOCIATION), &["read", "write"]).await;
    let oss = |filter: &'static str, as_of: Option<String>| {
        let app = &app;
        async move {
            let as_of = as_of.map(|t| format!(", asOf: \"{t}\"")).unwrap_or_default();
            let data = app
                .query(
                    &format!(
                        r#"{{ indicators(period: {{ from: "2020-Q4", to: "2020-Q4", granularity: QUARTER }}{filter}{as_of})
                           {{ operationalSelfSufficiency {{ value numerator }} }} }}"#
                    ),
                    json!({}),
                )
                .await;
            data["indicators"][0]["operationalSelfSufficiency"].clone()
        }
    };
    let mine = ", filter: { associations: [\"TAFOUKT\"] }";
    let before = oss(mine, None).await;
    let sector_before = oss("", None).await;
    let public_before = app
        .graphql_as(
            None,
            r#"{ indicators(period: { from: "2020-Q4", to: "2020-Q4", granularity: QUARTER }) { operationalSelfSufficiency { value } } }"#,
            json!({}),
        )
        .await
        .data()["indicators"][0]["operationalSelfSufficiency"]["value"]
        .clone();
    let instant = chrono::Utc::now().to_rfc3339();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let mut lines = statement(&app, ASSOCIATION, QUARTER).await;
    // 1,000.00 MAD more interest: revenue, income and equity move with it; borrowings balance the sheet.
    for line in [
        "IS_INTEREST_ON_LOANS",
        "IS_FINANCIAL_REVENUE",
        "IS_NET_OPERATING_INCOME",
        "IS_NET_INCOME",
        "BS_CURRENT_YEAR_RESULT",
        "BS_TOTAL_EQUITY",
    ] {
        adjust(&mut lines, line, 100_000);
    }
    adjust(&mut lines, "BS_LONG_TERM_BORROWINGS", -100_000);
    adjust(&mut lines, "BS_TOTAL_LIABILITIES", -100_000);
    let path = format!("/reports/{ASSOCIATION}/{QUARTER}");
    let reply = post_report(&app, Some(&own), &path, multipart(&[("statements", csv(&lines))]), &[]).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let after = oss(mine, None).await;
    assert!(
        (after["numerator"].as_f64().unwrap() - before["numerator"].as_f64().unwrap() - 1_000.0).abs() < 1e-6,
        "{before} {after}"
    );
    assert_eq!(
        oss(mine, Some(instant.clone())).await,
        before,
        "as it stood before the revision"
    );
    assert_ne!(oss("", None).await, sector_before);
    let public_after = app
        .graphql_as(
            None,
            r#"{ indicators(period: { from: "2020-Q4", to: "2020-Q4", granularity: QUARTER }) { operationalSelfSufficiency { value } } }"#,
            json!({}),
        )
        .await
        .data()["indicators"][0]["operationalSelfSufficiency"]["value"]
        .clone();
    assert_eq!(public_after, public_before, "the public reads the quarter as released");
}
on_both_backends!(a_revised_statement_keeps_its_past_readable);

/// A statement sent as a workbook's `statements` sheet is read like the CSV file; a month's table sent for a quarter,
/// or the statements sent for a month, are refused naming where each belongs.
async fn a_statement_workbook_is_read_like_the_csv_file(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let own = key_with(&app, PartnerKind::Association, Some(ASSOCIATION), &["read", "write"]).await;
    let lines = statement(&app, ASSOCIATION, QUARTER).await;
    let mut rows = vec![vec![json!("line"), json!("value")]];
    for (line, value) in &lines {
        let text = if line == "PF_LOAN_OFFICERS" {
            value.to_string()
        } else {
            format!("{}{}", if *value < 0 { "-" } else { "" }, money(value.abs()))
        };
        rows.push(vec![json!(line), json!(text)]);
    }
    let book = workbook(&[("statements", rows)]);
    let path = format!("/reports/{ASSOCIATION}/{QUARTER}");
    let reply = post_report(&app, Some(&own), &path, multipart(&[("workbook", book)]), &[]).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["revision"], 2);
    assert_eq!(statement(&app, ASSOCIATION, QUARTER).await, lines);
    let mixed = post_report(
        &app,
        Some(&own),
        &path,
        multipart(&[("statements", csv(&lines)), ("clients", b"region\n".to_vec())]),
        &[],
    )
    .await;
    assert_eq!(mixed.status, 400, "{}", mixed.body);
    let monthly = post_report(
        &app,
        Some(&own),
        &format!("/reports/{ASSOCIATION}/2021-01"),
        multipart(&[("statements", csv(&lines))]),
        &[],
    )
    .await;
    assert_eq!(monthly.status, 400, "{}", monthly.body);
    let template = app
        .send(
            axum::http::Request::get("/reports/templates/statements.csv")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(template.status, 200);
    assert!(
        template.text.starts_with("line,value\nBS_CASH,0\n"),
        "{}",
        template.text
    );
    assert_eq!(
        template.text.lines().count(),
        49,
        "the header and the 48 lines of the chart"
    );
}
on_both_backends!(a_statement_workbook_is_read_like_the_csv_file);
