//! Reporting: associations send their month; every problem of a report is listed at once and a rejected report
//! stores nothing; an accepted one replaces the association-month's figures (revisions, replays, races), and only
//! the association itself (with a `write` key) or the observatory may send it.

use entity::enums::SubmissionStatus;
use entity::{association, audit_event, branch, submission};
use observatory_tests::{Backend, Fixture, Gen, PartnerKind, TestApp, on_both_backends, spawn_app};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, Statement};
use serde_json::{Value, json};
use std::sync::Arc;

/// The association most tests report for: a small one of the demo data, in two regions.
pub(crate) const ASSOCIATION: &str = "TAFOUKT";
const REGIONS: &[&str] = &["MA-09", "MA-10"];
/// A month after the demo data.
const MONTH: &str = "2021-01";
const MONTH_YYYYMM: i32 = 202101;

const SEGMENTS: &[&str] = &["INDIVIDUAL", "SOLIDARITY_GROUP", "VERY_SMALL_ENTERPRISE"];
const GENDERS: &[&str] = &["FEMALE", "MALE"];
const AREAS: &[&str] = &["URBAN", "RURAL"];

/// A small deterministic generator (xorshift64*), so that generated inputs are the same on every run.
/// A key of a new partner of this kind (of `association` for an association partner) with these scopes.
async fn key_with(app: &TestApp, kind: PartnerKind, association: Option<&str>, scopes: &[&str]) -> String {
    app.key_with(kind, association, scopes).await
}

/// A valid month of figures: every cell of the association's regions, amounts with centimes.
#[derive(Clone)]
pub(crate) struct Month {
    pub(crate) clients: Vec<Value>,
    pub(crate) loans: Vec<Value>,
    pub(crate) staff: Vec<Value>,
}

fn money(centimes: i64) -> String {
    format!("{}.{:02}", centimes / 100, centimes % 100)
}

pub(crate) fn valid_month(seed: u64) -> Month {
    month_of(seed, REGIONS, (1, 8))
}

/// A valid month of figures in these regions, each cell's PAR30 between `par30_percent` (low, high) percent of its
/// outstanding portfolio.
pub(crate) fn month_of(seed: u64, regions: &[&str], par30_percent: (i64, i64)) -> Month {
    let mut g = Gen::new(seed);
    let (mut clients, mut loans) = (Vec::new(), Vec::new());
    for region in regions {
        for segment in SEGMENTS {
            for gender in GENDERS {
                for area in AREAS {
                    let active = g.range(100, 900);
                    clients.push(json!({
                        "region": region, "segment": segment, "gender": gender, "area": area,
                        "active_clients": active, "new_clients": g.range(0, 40),
                    }));
                    let outstanding = g.range(1_000_000, 90_000_000);
                    let par30 = outstanding / 100 * g.range(par30_percent.0, par30_percent.1);
                    let par90 = par30 / 2;
                    let due = g.range(100_000, 900_000);
                    loans.push(json!({
                        "region": region, "segment": segment, "gender": gender, "area": area,
                        "disbursed_count": g.range(0, 60), "disbursed_amount": money(g.range(0, 9_000_000)),
                        "active_loans": active + g.range(0, 20), "outstanding_amount": money(outstanding),
                        "par30_amount": money(par30), "par90_amount": money(par90),
                        "write_off_amount": money(g.range(0, 10_000)), "rescheduled_amount": money(g.range(0, 50_000)),
                        "repayments_due": money(due), "repayments_collected": money(due / 100 * g.range(92, 100)),
                    }));
                }
            }
        }
    }
    let staff = ["NETWORK", "HEAD_OFFICE"]
        .iter()
        .flat_map(|category| GENDERS.iter().map(move |gender| (category, gender)))
        .map(|(category, gender)| json!({ "category": category, "gender": gender, "headcount": g.range(3, 40) }))
        .collect();
    Month { clients, loans, staff }
}

impl Month {
    fn active_clients(&self) -> i64 {
        self.clients.iter().map(|c| c["active_clients"].as_i64().unwrap()).sum()
    }
}

const SUBMIT: &str = "mutation($input: ReportInput!) { submitReport(input: $input) { id revision status late onBehalf \
                      sentBy period association { code } warnings { rule } } }";

fn input(association: &str, month: &Month, idempotency_key: Option<&str>) -> Value {
    json!({ "input": {
        "association": association, "period": MONTH,
        "clients": month.clients, "loans": month.loans, "staff": month.staff,
        "idempotencyKey": idempotency_key,
    }})
}

async fn active_clients_in_indicators(app: &TestApp, filter: &str) -> Value {
    let data = app
        .query(
            &format!(
                "{{ indicators(period: {{ from: \"{MONTH}\", to: \"{MONTH}\" }}{filter}) {{ activeClients {{ value }} }} }}"
            ),
            json!({}),
        )
        .await;
    data["indicators"][0]["activeClients"]["value"].clone()
}

async fn count_rows(db: &DatabaseConnection, table: &str, association_id: i32) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM {table} WHERE association_id = {association_id} AND period = \
                 {MONTH_YYYYMM}"
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

async fn association_id(db: &DatabaseConnection, code: &str) -> i32 {
    association::Entity::find()
        .filter(association::Column::Code.eq(code))
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn submissions_of(db: &DatabaseConnection, association_id: i32) -> Vec<submission::Model> {
    submission::Entity::find()
        .filter(submission::Column::AssociationId.eq(association_id))
        .filter(submission::Column::Period.eq(MONTH_YYYYMM))
        .all(db)
        .await
        .unwrap()
}

/// Every rollup equals the sums of the facts for the month.
async fn assert_rollups_match_facts(db: &DatabaseConnection) {
    for (rollup, facts, key) in [
        ("client_stat_by_region", "client_stat", "region_id"),
        ("client_stat_by_association", "client_stat", "association_id"),
        ("loan_stat_by_region", "loan_stat", "region_id"),
        ("loan_stat_by_association", "loan_stat", "association_id"),
    ] {
        let measure = if facts == "client_stat" {
            "active_clients"
        } else {
            "outstanding_amount"
        };
        let sql = format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM (SELECT {key}, segment, gender, area, SUM({measure}) AS s FROM \
             {facts} WHERE period = {MONTH_YYYYMM} GROUP BY {key}, segment, gender, area) f FULL OUTER JOIN (SELECT \
             {key}, segment, gender, area, {measure} AS s FROM {rollup} WHERE period = {MONTH_YYYYMM}) r USING ({key}, \
             segment, gender, area) WHERE f.s IS NULL OR r.s IS NULL OR f.s <> r.s"
        );
        let row = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.try_get::<i64>("", "n").unwrap(), 0, "{rollup} equals the facts");
    }
}

async fn a_valid_month_is_accepted_and_shows_in_indicators(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let own = key_with(&app, PartnerKind::Association, Some(ASSOCIATION), &["read", "write"]).await;
    let month = valid_month(1);
    let reply = app
        .graphql_as(Some(&own), SUBMIT, input(ASSOCIATION, &month, None))
        .await;
    let submission = &reply.data()["submitReport"];
    assert_eq!(submission["status"], "ACCEPTED");
    assert_eq!(submission["revision"], 1);
    assert_eq!(submission["period"], MONTH);
    assert_eq!(submission["association"]["code"], ASSOCIATION);
    assert_eq!(submission["onBehalf"], false, "sent by the association itself");
    assert_eq!(submission["late"], true, "January 2021 was due on 15 February 2021");

    let expected = month.active_clients() as f64;
    let own_figure =
        active_clients_in_indicators(&app, &format!(", filter: {{ associations: [\"{ASSOCIATION}\"] }}")).await;
    assert_eq!(
        own_figure.as_f64(),
        Some(expected),
        "the association's figure is the report's"
    );
    let national = active_clients_in_indicators(&app, "").await;
    assert_eq!(
        national.as_f64(),
        Some(expected),
        "the national figure (read from the rollups) includes it"
    );
    assert_rollups_match_facts(&app.db).await;

    let id = association_id(&app.db, ASSOCIATION).await;
    assert_eq!(count_rows(&app.db, "client_stat", id).await, 24);
    assert_eq!(count_rows(&app.db, "loan_stat", id).await, 24);
    assert_eq!(count_rows(&app.db, "staff_stat", id).await, 4);
    let stored = submissions_of(&app.db, id).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].content_hash.len(), 64, "the payload's SHA-256 is kept");
    assert!(stored[0].payload.contains("\"active_clients\""), "the payload is kept");
    let audited = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("submission.accept"))
        .filter(audit_event::Column::TargetCode.eq(format!("{ASSOCIATION}/{MONTH}")))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(audited, 1, "the acceptance is audited");
}
on_both_backends!(a_valid_month_is_accepted_and_shows_in_indicators);

/// (table, line, column, rule) of each problem of a rejected reply.
fn problems(reply: &observatory_tests::Reply) -> Vec<(String, i64, Option<String>, String)> {
    assert_eq!(reply.codes(), vec!["BAD_USER_INPUT".to_string()], "{}", reply.body);
    let mut problems: Vec<_> = reply.body["errors"][0]["extensions"]["report"]["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("a validation report in extensions.report: {}", reply.body))
        .iter()
        .map(|p| {
            // A problem of a whole table or of the whole month has no line: 0 stands for it here.
            let line = match p["line"].as_i64() {
                Some(line) => {
                    assert!(line >= 1, "a line is counted from 1: {p}");
                    line
                }
                None => {
                    assert!(p["line"].is_null(), "{p}");
                    assert!(
                        p["subject"] == "TABLE" || p["subject"] == "MONTH",
                        "only a problem of a table or of the month has no line: {p}"
                    );
                    0
                }
            };
            (
                p["table"].as_str().unwrap().to_owned(),
                line,
                p["column"].as_str().map(str::to_owned),
                p["rule"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    problems.sort();
    problems
}

async fn a_report_with_ten_mistakes_lists_all_ten_and_stores_nothing(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let atlas = association_id(&app.db, "ATLAS").await;
    let foreign_branch = branch::Entity::find()
        .filter(branch::Column::AssociationId.eq(atlas))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .code;
    let mut month = valid_month(2);
    month.clients[1]["region"] = json!("MA-99");
    month.clients[2]["active_clients"] = json!("12a");
    month.clients[3]["new_clients"] = json!(-5);
    month.loans[1]["disbursed_amount"] = json!("100.555");
    month.loans[2]["par90_amount"] = json!("999999999.00");
    month.loans[3]["par30_amount"] = json!("999999999.00");
    month.loans[3]["par90_amount"] = json!("0");
    month.loans[4] = month.loans[0].clone();
    for row in &mut month.staff {
        let headcount = row.as_object_mut().unwrap().remove("headcount").unwrap();
        row["salary"] = headcount;
    }
    let mut variables = input(ASSOCIATION, &month, None);
    variables["input"]["branches"] = json!([{
        "code": foreign_branch, "name": "Agence", "kind": "AGENCY", "region": "MA-09", "area": "URBAN",
        "city": "Tiznit", "opened_on": "2015-03-01",
    }]);
    let reply = app.graphql(SUBMIT, variables).await;
    let s = |v: &str| Some(v.to_owned());
    let mut expected = vec![
        ("clients".to_owned(), 2, s("region"), "UNKNOWN_CODE".to_owned()),
        ("clients".to_owned(), 3, s("active_clients"), "NOT_A_NUMBER".to_owned()),
        ("clients".to_owned(), 4, s("new_clients"), "NEGATIVE".to_owned()),
        (
            "loans".to_owned(),
            2,
            s("disbursed_amount"),
            "TOO_MANY_DECIMALS".to_owned(),
        ),
        ("loans".to_owned(), 3, s("par90_amount"), "PAR90_ABOVE_PAR30".to_owned()),
        (
            "loans".to_owned(),
            4,
            s("par30_amount"),
            "PAR30_ABOVE_OUTSTANDING".to_owned(),
        ),
        ("loans".to_owned(), 5, None, "DUPLICATE_CELL".to_owned()),
        ("staff".to_owned(), 1, s("headcount"), "MISSING_COLUMN".to_owned()),
        ("staff".to_owned(), 1, s("salary"), "UNKNOWN_COLUMN".to_owned()),
        ("branches".to_owned(), 1, s("code"), "OTHER_ASSOCIATION".to_owned()),
    ];
    expected.sort();
    assert_eq!(
        problems(&reply),
        expected,
        "all ten mistakes, each once, where they are"
    );
    let report = &reply.body["errors"][0]["extensions"]["report"]["errors"];
    for problem in report.as_array().unwrap() {
        assert!(
            problem["message"].as_str().is_some_and(|m| m.len() > 20),
            "each problem says what to do: {problem}"
        );
    }
    let id = association_id(&app.db, ASSOCIATION).await;
    for table in ["client_stat", "loan_stat", "staff_stat"] {
        assert_eq!(count_rows(&app.db, table, id).await, 0, "nothing stored in {table}");
    }
    assert!(submissions_of(&app.db, id).await.is_empty(), "no submission stored");
}
on_both_backends!(a_report_with_ten_mistakes_lists_all_ten_and_stores_nothing);

/// Property: a valid report with mistakes planted at generated rows and columns is rejected with exactly those
/// mistakes (each at its row and column, with its rule), and nothing is stored.
async fn planted_mistakes_are_each_reported_where_they_are(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let id = association_id(&app.db, ASSOCIATION).await;
    let mistakes: &[(&str, Value, &str)] = &[
        ("active_clients", json!("x"), "NOT_A_NUMBER"),
        ("active_clients", json!("-1"), "NEGATIVE"),
        ("active_clients", json!("1.5"), "NOT_A_WHOLE_NUMBER"),
        ("active_clients", json!(""), "MISSING_VALUE"),
        ("new_clients", json!("1e3"), "NOT_A_NUMBER"),
        ("segment", json!("GROUP"), "UNKNOWN_CODE"),
        ("gender", json!("F"), "UNKNOWN_CODE"),
        ("area", json!("CITY"), "UNKNOWN_CODE"),
        ("region", json!("MA-13"), "UNKNOWN_CODE"),
    ];
    let loan_mistakes: &[(&str, Value, &str)] = &[
        ("disbursed_amount", json!("12.345"), "TOO_MANY_DECIMALS"),
        ("write_off_amount", json!("-0.01"), "NEGATIVE"),
        ("repayments_due", json!("1 000"), "NOT_A_NUMBER"),
        ("active_loans", json!("ten"), "NOT_A_NUMBER"),
        ("rescheduled_amount", json!(null), "MISSING_VALUE"),
    ];
    let mut g = Gen::new(99);
    for round in 0..12 {
        let mut month = valid_month(100 + round);
        let mut expected = Vec::new();
        let mut rows_used = std::collections::HashSet::new();
        for _ in 0..1 + g.below(4) {
            let loans = g.below(2) == 1;
            let row = g.below(24) as usize;
            if !rows_used.insert((loans, row)) {
                continue;
            }
            let list = if loans { loan_mistakes } else { mistakes };
            let (column, value, rule) = &list[g.below(list.len() as u64) as usize];
            let table = if loans { &mut month.loans } else { &mut month.clients };
            table[row][*column] = value.clone();
            let name = if loans { "loans" } else { "clients" };
            expected.push((
                name.to_owned(),
                row as i64 + 1,
                Some(column.to_string()),
                rule.to_string(),
            ));
        }
        expected.sort();
        let reply = app.graphql(SUBMIT, input(ASSOCIATION, &month, None)).await;
        assert_eq!(problems(&reply), expected, "round {round}");
        assert_eq!(count_rows(&app.db, "client_stat", id).await, 0);
        assert!(submissions_of(&app.db, id).await.is_empty());
    }
}
on_both_backends!(planted_mistakes_are_each_reported_where_they_are);

async fn a_revision_changes_the_figures(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let first = valid_month(3);
    let second = valid_month(4);
    assert_ne!(first.active_clients(), second.active_clients());
    let one = app.graphql(SUBMIT, input(ASSOCIATION, &first, None)).await;
    assert_eq!(one.data()["submitReport"]["revision"], 1);
    assert_eq!(
        one.data()["submitReport"]["onBehalf"],
        true,
        "the observatory sends on behalf"
    );
    let two = app.graphql(SUBMIT, input(ASSOCIATION, &second, None)).await;
    assert_eq!(two.data()["submitReport"]["revision"], 2);
    let national = active_clients_in_indicators(&app, "").await;
    assert_eq!(
        national.as_f64(),
        Some(second.active_clients() as f64),
        "the revision's figures replace the first"
    );
    assert_rollups_match_facts(&app.db).await;
    let id = association_id(&app.db, ASSOCIATION).await;
    assert_eq!(count_rows(&app.db, "client_stat", id).await, 24, "replaced, not added");
    let mut stored = submissions_of(&app.db, id).await;
    stored.sort_by_key(|s| s.revision);
    assert_eq!(
        stored.iter().map(|s| (s.revision, s.status)).collect::<Vec<_>>(),
        vec![(1, SubmissionStatus::Superseded), (2, SubmissionStatus::Accepted)]
    );
    assert_ne!(
        stored[0].payload, stored[1].payload,
        "the first revision's payload stays readable"
    );
    let listed = app
        .query(
            "{ submissions(filter: { associations: [\"TAFOUKT\"], from: \"2021-01\" }) { totalCount nodes { revision \
             status } } }",
            json!({}),
        )
        .await;
    assert_eq!(listed["submissions"]["totalCount"], 2);
    assert_eq!(listed["submissions"]["nodes"][0]["status"], "SUPERSEDED");
}
on_both_backends!(a_revision_changes_the_figures);

async fn an_idempotent_replay_returns_the_first_answer(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let month = valid_month(5);
    let first = app
        .graphql(SUBMIT, input(ASSOCIATION, &month, Some("jan-2021-a")))
        .await;
    let again = app
        .graphql(SUBMIT, input(ASSOCIATION, &month, Some("jan-2021-a")))
        .await;
    assert_eq!(
        first.data(),
        again.data(),
        "the same key and content answer the first submission again"
    );
    let other = app
        .graphql(SUBMIT, input(ASSOCIATION, &valid_month(6), Some("jan-2021-a")))
        .await;
    assert_eq!(other.codes(), vec!["CONFLICT"], "{}", other.body);
    assert!(other.message().contains("jan-2021-a"), "{}", other.message());
    let id = association_id(&app.db, ASSOCIATION).await;
    assert_eq!(submissions_of(&app.db, id).await.len(), 1, "one submission stored");
    let national = active_clients_in_indicators(&app, "").await;
    assert_eq!(national.as_f64(), Some(month.active_clients() as f64));
}
on_both_backends!(an_idempotent_replay_returns_the_first_answer);

async fn racing_revisions_become_consecutive_revisions(backend: Backend) {
    const RACERS: usize = 8;
    let app = Arc::new(spawn_app(&backend, Fixture::Demo).await);
    let start = Arc::new(tokio::sync::Barrier::new(RACERS));
    let tasks: Vec<_> = (0..RACERS)
        .map(|i| {
            let (app, start) = (app.clone(), start.clone());
            tokio::spawn(async move {
                let month = valid_month(10 + i as u64);
                start.wait().await;
                let reply = app.graphql(SUBMIT, input(ASSOCIATION, &month, None)).await;
                (
                    reply.codes(),
                    reply.body["data"]["submitReport"]["revision"].as_i64(),
                    month,
                )
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    let mut revisions: Vec<i64> = outcomes
        .iter()
        .map(|(codes, revision, _)| {
            assert!(codes.is_empty(), "every racer is accepted: {codes:?}");
            revision.expect("a revision")
        })
        .collect();
    revisions.sort();
    assert_eq!(
        revisions,
        (1..=RACERS as i64).collect::<Vec<_>>(),
        "consecutive, no duplicate"
    );
    let id = association_id(&app.db, ASSOCIATION).await;
    let stored = submissions_of(&app.db, id).await;
    let accepted: Vec<_> = stored
        .iter()
        .filter(|s| s.status == SubmissionStatus::Accepted)
        .collect();
    assert_eq!(accepted.len(), 1, "one accepted revision");
    assert_eq!(
        accepted[0].revision, RACERS as i32,
        "the last revision is the accepted one"
    );
    let last = &outcomes
        .iter()
        .find(|(_, revision, _)| *revision == Some(RACERS as i64))
        .unwrap()
        .2;
    let national = active_clients_in_indicators(&app, "").await;
    assert_eq!(
        national.as_f64(),
        Some(last.active_clients() as f64),
        "the facts are the last revision's"
    );
    assert_eq!(count_rows(&app.db, "client_stat", id).await, 24);
    assert_rollups_match_facts(&app.db).await;
}
on_both_backends!(racing_revisions_become_consecutive_revisions);

/// Property: over every kind of caller and every association, a report is accepted exactly when the caller is the
/// observatory with a key carrying `write`, or an association key with the `write` scope reporting for
/// itself; every other caller gets FORBIDDEN and nothing is stored.
async fn only_the_association_itself_or_the_observatory_may_report(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let targets = ["TAFOUKT", "ATLAS", "PALMIER"];
    let mut callers: Vec<(String, Option<String>, &str)> = vec![
        ("public".into(), None, ""),
        (
            "observatory".into(),
            Some(key_with(&app, PartnerKind::Observatory, None, &["read", "write", "admin"]).await),
            "*",
        ),
        (
            "ministry with write".into(),
            Some(key_with(&app, PartnerKind::Ministry, None, &["read", "write"]).await),
            "",
        ),
        (
            "federation".into(),
            Some(key_with(&app, PartnerKind::Federation, None, &["read", "write"]).await),
            "",
        ),
        (
            "observatory read only".into(),
            Some(key_with(&app, PartnerKind::Observatory, None, &["read"]).await),
            "",
        ),
    ];
    for own in targets {
        callers.push((
            format!("{own} with write"),
            Some(key_with(&app, PartnerKind::Association, Some(own), &["read", "write"]).await),
            own,
        ));
        callers.push((
            format!("{own} read only"),
            Some(key_with(&app, PartnerKind::Association, Some(own), &["read"]).await),
            "",
        ));
    }
    let mut g = Gen::new(7);
    for (name, key, may) in &callers {
        for target in targets {
            let month = valid_month(g.number());
            let reply = app
                .graphql_as(key.as_deref(), SUBMIT, input(target, &month, None))
                .await;
            let allowed = *may == "*" || *may == target;
            if allowed {
                assert!(
                    reply.codes().is_empty(),
                    "{name} may report for {target}: {}",
                    reply.body
                );
            } else {
                assert_eq!(
                    reply.codes(),
                    vec!["FORBIDDEN"],
                    "{name} may not report for {target}: {}",
                    reply.body
                );
            }
        }
    }
    for target in targets {
        let id = association_id(&app.db, target).await;
        assert_eq!(
            submissions_of(&app.db, id).await.len(),
            2,
            "{target}: only the observatory's and its own report were stored"
        );
    }
}
on_both_backends!(only_the_association_itself_or_the_observatory_may_report);

// ---- The HTTP path: multipart CSV files ----

const COLUMNS_CLIENTS: &[&str] = &["region", "segment", "gender", "area", "active_clients", "new_clients"];
const COLUMNS_LOANS: &[&str] = &[
    "region",
    "segment",
    "gender",
    "area",
    "disbursed_count",
    "disbursed_amount",
    "active_loans",
    "outstanding_amount",
    "par30_amount",
    "par90_amount",
    "write_off_amount",
    "rescheduled_amount",
    "repayments_due",
    "repayments_collected",
];
const COLUMNS_STAFF: &[&str] = &["category", "gender", "headcount"];

fn cell_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A table's rows as CSV with this delimiter (the header first, so data rows start on line 2).
fn csv(rows: &[Value], columns: &[&str], delimiter: char) -> String {
    let mut text = columns.join(&delimiter.to_string());
    text.push_str("\r\n");
    for row in rows {
        let cells: Vec<String> = columns.iter().map(|c| cell_text(&row[*c])).collect();
        text.push_str(&cells.join(&delimiter.to_string()));
        text.push_str("\r\n");
    }
    text
}

const BOUNDARY: &str = "report-boundary-7MA69yS2";

/// A multipart body with these (part name, file content) parts.
fn multipart(parts: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, content) in parts {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}.csv\"\r\n\
                 Content-Type: text/csv\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn csv_parts(month: &Month, delimiter: char) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("clients", csv(&month.clients, COLUMNS_CLIENTS, delimiter).into_bytes()),
        ("loans", csv(&month.loans, COLUMNS_LOANS, delimiter).into_bytes()),
        ("staff", csv(&month.staff, COLUMNS_STAFF, delimiter).into_bytes()),
    ]
}

async fn post_report(
    app: &TestApp,
    key: Option<&str>,
    path: &str,
    body: Vec<u8>,
    headers: &[(&str, &str)],
) -> observatory_tests::Reply {
    let mut request =
        axum::http::Request::post(path).header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"));
    if let Some(key) = key {
        request = request.header("authorization", format!("Bearer {key}"));
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.send(request.body(axum::body::Body::from(body)).unwrap()).await
}

async fn a_csv_month_is_accepted_over_http(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let own = key_with(&app, PartnerKind::Association, Some(ASSOCIATION), &["read", "write"]).await;
    let month = valid_month(20);
    // French Excel: semicolons, decimal commas, a BOM.
    let mut parts = csv_parts(&month, ';');
    for (_, content) in &mut parts {
        let text = String::from_utf8(content.clone()).unwrap();
        let mut with_bom = b"\xEF\xBB\xBF".to_vec();
        with_bom.extend_from_slice(text.replace('.', ",").as_bytes());
        *content = with_bom;
    }
    let path = format!("/reports/{ASSOCIATION}/{MONTH}");
    let headers = [("idempotency-key", "tafoukt-2021-01")];
    let reply = post_report(&app, Some(&own), &path, multipart(&parts), &headers).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["revision"], 1);
    assert_eq!(reply.body["status"], "ACCEPTED");
    assert_eq!(reply.body["association"], ASSOCIATION);
    let national = active_clients_in_indicators(&app, "").await;
    assert_eq!(national.as_f64(), Some(month.active_clients() as f64));
    let again = post_report(&app, Some(&own), &path, multipart(&parts), &headers).await;
    assert_eq!(again.status, 201);
    assert_eq!(
        again.body["id"], reply.body["id"],
        "a replay answers the first submission"
    );
    let other = post_report(
        &app,
        Some(&own),
        &path,
        multipart(&csv_parts(&valid_month(21), ',')),
        &headers,
    )
    .await;
    assert_eq!(other.status, 409, "{}", other.body);

    let template = app
        .send(
            axum::http::Request::get("/reports/templates/loans.csv")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(template.status, 200);
    assert!(template.content_type.starts_with("text/csv"));
    assert!(template.text.starts_with(&COLUMNS_LOANS.join(",")), "{}", template.text);
    assert_eq!(template.text.lines().count(), 2, "the header and an example row");
}
on_both_backends!(a_csv_month_is_accepted_over_http);

async fn a_csv_report_with_mistakes_answers_422_with_file_lines(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let mut month = valid_month(22);
    month.clients[0]["gender"] = json!("W");
    month.loans[5]["par30_amount"] = json!("999999999");
    let reply = post_report(
        &app,
        None,
        &format!("/reports/{ASSOCIATION}/{MONTH}"),
        multipart(&csv_parts(&month, ',')),
        &[],
    )
    .await;
    assert_eq!(reply.status, 403, "the public may not report: {}", reply.body);
    let observatory = key_with(&app, PartnerKind::Observatory, None, &["read", "write"]).await;
    let reply = post_report(
        &app,
        Some(&observatory),
        &format!("/reports/{ASSOCIATION}/{MONTH}"),
        multipart(&csv_parts(&month, ',')),
        &[],
    )
    .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    let mut expected = vec![
        (
            "clients".to_owned(),
            2,
            Some("gender".to_owned()),
            "UNKNOWN_CODE".to_owned(),
        ),
        (
            "loans".to_owned(),
            7,
            Some("par30_amount".to_owned()),
            "PAR30_ABOVE_OUTSTANDING".to_owned(),
        ),
    ];
    expected.sort();
    assert_eq!(
        problems(&reply),
        expected,
        "lines are the file's lines (the header is line 1)"
    );
    let id = association_id(&app.db, ASSOCIATION).await;
    assert!(submissions_of(&app.db, id).await.is_empty());
}
on_both_backends!(a_csv_report_with_mistakes_answers_422_with_file_lines);

/// Property: whatever is wrong with the files (generated corruptions of a valid report, wrong encodings, binary
/// files, ragged rows, empty or unknown parts, oversized bodies), the answer is a clear 4xx, never a 500, and a
/// refused report stores nothing.
async fn malformed_reports_never_answer_500(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let id = association_id(&app.db, ASSOCIATION).await;
    let path = format!("/reports/{ASSOCIATION}/{MONTH}");
    let month = valid_month(30);
    let valid = csv_parts(&month, ',');
    let with = |name: &str, content: Vec<u8>| -> Vec<(&'static str, Vec<u8>)> {
        valid
            .iter()
            .map(|(n, c)| (*n, if *n == name { content.clone() } else { c.clone() }))
            .collect()
    };
    let latin1 = {
        let mut text = csv(&month.staff, COLUMNS_STAFF, ',').into_bytes();
        text.extend_from_slice(b"NETWORK,MALE,3\xe9\r\n");
        text
    };
    let ragged = {
        let mut text = csv(&month.clients, COLUMNS_CLIENTS, ',');
        text.push_str("MA-09,INDIVIDUAL,FEMALE\r\n");
        text.into_bytes()
    };
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("latin-1 file", multipart(&with("staff", latin1)), 415, "UTF-8"),
        (
            "binary named .csv",
            multipart(&with("loans", b"PK\x03\x04\x14\x00\x06\x00binary".to_vec())),
            415,
            "binary",
        ),
        ("NUL bytes", multipart(&with("loans", vec![0u8; 64])), 415, "binary"),
        ("ragged row", multipart(&with("clients", ragged)), 400, "line 26"),
        ("empty part", multipart(&with("staff", Vec::new())), 400, "empty"),
        (
            "blank part",
            multipart(&with("staff", b" \r\n\r\n".to_vec())),
            400,
            "empty",
        ),
        (
            "unknown part",
            multipart(&[("cats", b"a,b\n1,2\n".to_vec())]),
            400,
            "unknown part",
        ),
        ("no part", multipart(&[]), 400, "no part"),
        (
            "broken multipart",
            b"--nope\r\nnot multipart".to_vec(),
            400,
            "multipart",
        ),
        (
            "workbook",
            multipart(&[("workbook", b"PK\x03\x04".to_vec())]),
            415,
            "xlsx",
        ),
    ];
    let observatory = key_with(&app, PartnerKind::Observatory, None, &["read", "write"]).await;
    for (name, body, status, words) in cases {
        let reply = post_report(&app, Some(&observatory), &path, body, &[]).await;
        assert_eq!(reply.status, status, "{name}: {}", reply.body);
        assert!(
            reply.message().contains(words),
            "{name}: `{}` names the problem",
            reply.message()
        );
    }
    let huge = vec![b'1'; 5 * 1024 * 1024 + 1];
    let reply = post_report(&app, Some(&observatory), &path, multipart(&with("clients", huge)), &[]).await;
    assert_eq!(reply.status, 413);
    assert!(reply.message().contains("5 MB"), "{}", reply.message());
    let not_multipart = app
        .send(
            axum::http::Request::post(&path)
                .header("authorization", format!("Bearer {observatory}"))
                .header("content-type", "text/csv")
                .body(axum::body::Body::from("region\n"))
                .unwrap(),
        )
        .await;
    assert_eq!(not_multipart.status, 415);

    // Generated corruptions of a valid report: bytes deleted, inserted or replaced at random places.
    let mut g = Gen::new(31);
    let mut accepted = 0;
    let noise: &[&[u8]] = &[
        b"\"",
        b",",
        b";",
        b"\r\n",
        b"\xff",
        b"\x00",
        b"-",
        b"..",
        b"\xc3",
        b"\"\"",
        b"9999999999999999999999",
    ];
    for round in 0..60 {
        let part = g.below(3) as usize;
        let mut content = valid[part].1.clone();
        for _ in 0..1 + g.below(4) {
            let at = g.below(content.len() as u64 + 1) as usize;
            match g.below(3) {
                0 if at < content.len() => {
                    content.remove(at);
                }
                1 if at < content.len() => content[at] = noise[g.below(noise.len() as u64) as usize][0],
                _ => {
                    let bytes = noise[g.below(noise.len() as u64) as usize];
                    content.splice(at..at, bytes.iter().copied());
                }
            }
        }
        let reply = post_report(
            &app,
            Some(&observatory),
            &path,
            multipart(&with(valid[part].0, content)),
            &[],
        )
        .await;
        assert!(
            [201, 400, 415, 422].contains(&reply.status.as_u16()),
            "round {round}: {} {}",
            reply.status,
            reply.body
        );
        assert!(
            !reply.message().is_empty() || reply.status == 201,
            "round {round}: a message"
        );
        if reply.status == 201 {
            accepted += 1;
        }
        assert_eq!(
            submissions_of(&app.db, id).await.len(),
            accepted,
            "round {round}: only accepted reports are stored"
        );
    }
    assert!(
        accepted < 30,
        "most corruptions are refused ({accepted} of 60 accepted)"
    );
}
on_both_backends!(malformed_reports_never_answer_500);

/// Property: over generated submissions of several associations, each association lists exactly its own, the
/// observatory lists all, and every other caller is refused; one submission by id follows the same rule.
async fn submissions_are_shown_to_their_association_and_the_observatory(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let associations = ["TAFOUKT", "PALMIER", "MIMOSA"];
    let mut g = Gen::new(41);
    let mut ids: std::collections::HashMap<&str, Vec<String>> = std::collections::HashMap::new();
    for _ in 0..7 {
        let target = associations[g.below(3) as usize];
        let reply = app.graphql(SUBMIT, input(target, &valid_month(g.number()), None)).await;
        ids.entry(target)
            .or_default()
            .push(reply.data()["submitReport"]["id"].as_str().unwrap().to_owned());
    }
    // Submissions of the months after the demo's (whose own reports are listed too).
    const LIST: &str = "{ submissions(first: 100, filter: { from: \"2021-01\" }) { totalCount nodes { id late sentBy \
                        onBehalf warnings { rule } } } }";
    let all = app.query(LIST, json!({})).await;
    assert_eq!(all["submissions"]["totalCount"], 7, "the observatory sees all");
    assert_eq!(all["submissions"]["nodes"][0]["late"], true);
    assert_eq!(all["submissions"]["nodes"][0]["onBehalf"], true);
    assert!(all["submissions"]["nodes"][0]["sentBy"].is_string(), "who sent it");
    for own in associations {
        let key = key_with(&app, PartnerKind::Association, Some(own), &["read"]).await;
        let listed = app.graphql_as(Some(&key), LIST, json!({})).await;
        let mut seen: Vec<String> = listed.data()["submissions"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_str().unwrap().to_owned())
            .collect();
        seen.sort();
        let mut expected = ids.get(own).cloned().unwrap_or_default();
        expected.sort();
        assert_eq!(seen, expected, "{own} sees its own submissions only");
        for (other, other_ids) in &ids {
            for id in other_ids {
                let one = app
                    .graphql_as(
                        Some(&key),
                        "query($id: ID!) { submission(id: $id) { id } }",
                        json!({ "id": id }),
                    )
                    .await;
                if *other == own {
                    assert_eq!(one.data()["submission"]["id"], json!(id));
                } else {
                    assert_eq!(
                        one.codes(),
                        vec!["NOT_FOUND"],
                        "{own} may not read {other}'s submission"
                    );
                }
            }
        }
    }
    for key in [
        None,
        Some(key_with(&app, PartnerKind::Ministry, None, &["read", "write"]).await),
    ] {
        let listed = app.graphql_as(key.as_deref(), LIST, json!({})).await;
        assert_eq!(listed.codes(), vec!["FORBIDDEN"], "{}", listed.body);
    }
}
on_both_backends!(submissions_are_shown_to_their_association_and_the_observatory);

async fn the_command_line_submits_csv_files_on_behalf(backend: Backend) {
    use clap::Parser;
    let app = spawn_app(&backend, Fixture::Demo).await;
    let dir = std::env::temp_dir().join(format!("report-cli-{}-{}", std::process::id(), backend.name()));
    std::fs::create_dir_all(&dir).unwrap();
    let month = valid_month(50);
    let mut files = Vec::new();
    for (name, content) in csv_parts(&month, ';') {
        let path = dir.join(format!("{name}.csv"));
        std::fs::write(&path, content).unwrap();
        files.push(path.display().to_string());
    }
    let run = |files: Vec<String>| {
        let mut line = vec![
            "observatory".to_owned(),
            "report".into(),
            "submit".into(),
            "--association".into(),
            ASSOCIATION.into(),
            "--month".into(),
            MONTH.into(),
        ];
        line.extend(files);
        let mut cli = api::cli::Cli::try_parse_from(line).expect("command parses");
        let db = app.db.clone();
        async move {
            api::cli::manage(&db, cli.command_or_serve())
                .await
                .map_err(|e| e.to_string())
        }
    };
    // The files in another order: their names say which table each is.
    let mut shuffled = files.clone();
    shuffled.reverse();
    let printed = run(shuffled).await.expect("the report is accepted");
    let view: Value = serde_json::from_str(&printed).expect("the submission as JSON");
    assert_eq!(view["revision"], 1);
    assert_eq!(view["onBehalf"], true);
    let national = active_clients_in_indicators(&app, "").await;
    assert_eq!(national.as_f64(), Some(month.active_clients() as f64));
    let audit = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("submission.accept"))
        .filter(audit_event::Column::TargetCode.eq(format!("{ASSOCIATION}/{MONTH}")))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(audit.actor_key_prefix.unwrap_or_default().starts_with("cli:"));
    assert!(
        audit.detail.contains("report submit --association TAFOUKT"),
        "{}",
        audit.detail
    );

    let mut wrong = month.clone();
    wrong.staff[1]["headcount"] = json!("many");
    std::fs::write(dir.join("staff.csv"), csv(&wrong.staff, COLUMNS_STAFF, ',')).unwrap();
    let refused = run(files).await.expect_err("a rejected report fails");
    assert!(refused.contains("staff line 3, headcount"), "{refused}");
    assert!(refused.contains("NOT_A_NUMBER"), "{refused}");
    std::fs::remove_dir_all(&dir).ok();
}
on_both_backends!(the_command_line_submits_csv_files_on_behalf);

async fn reporting_status_lists_missing_on_time_and_late(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    for association in ["TAFOUKT", "PALMIER"] {
        app.graphql(SUBMIT, input(association, &valid_month(60), None))
            .await
            .data();
    }
    app.graphql(SUBMIT, input("PALMIER", &valid_month(61), None))
        .await
        .data();
    // TAFOUKT's report arrived on 10 February 2021, before the deadline of 15 February.
    let tafoukt = association_id(&app.db, "TAFOUKT").await;
    let on_time = if matches!(backend, Backend::Sqlite) {
        "'2021-02-10 09:00:00+00:00'"
    } else {
        "TIMESTAMPTZ '2021-02-10 09:00:00+00'"
    };
    app.db
        .execute_unprepared(&format!(
            "UPDATE submission SET received_at = {on_time} WHERE association_id = {tafoukt}"
        ))
        .await
        .unwrap();
    // A closed association is not expected.
    app.db
        .execute_unprepared("UPDATE association SET status = 'CLOSED' WHERE code = 'MIMOSA'")
        .await
        .unwrap();
    const STATUS: &str = "{ reportingStatus(period: \"2021-01\") { association { code } status revisions } }";
    let rows = app.query(STATUS, json!({})).await["reportingStatus"].clone();
    let status = |code: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["association"]["code"] == code)
            .cloned()
    };
    assert_eq!(status("TAFOUKT").unwrap()["status"], "ON_TIME");
    assert_eq!(status("PALMIER").unwrap()["status"], "LATE");
    assert_eq!(status("PALMIER").unwrap()["revisions"], 2);
    assert_eq!(status("ATLAS").unwrap()["status"], "MISSING");
    assert_eq!(status("ATLAS").unwrap()["revisions"], 0);
    assert!(status("MIMOSA").is_none(), "a closed association is not expected");
    assert_eq!(rows.as_array().unwrap().len(), 12);

    let own = key_with(&app, PartnerKind::Association, Some("PALMIER"), &["read"]).await;
    let mine = app.graphql_as(Some(&own), STATUS, json!({})).await;
    assert_eq!(
        mine.data()["reportingStatus"].as_array().unwrap().len(),
        1,
        "an association sees its own line"
    );
    assert_eq!(app.graphql_as(None, STATUS, json!({})).await.codes(), vec!["FORBIDDEN"]);
}
on_both_backends!(reporting_status_lists_missing_on_time_and_late);

/// A minimal `.xlsx` workbook with one sheet per (name, rows), cells as inline strings or numbers.
fn workbook(sheets: &[(&str, Vec<Vec<Value>>)]) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut file = |name: &str, content: String| {
        zip.start_file(name, options).unwrap();
        zip.write_all(content.as_bytes()).unwrap();
    };
    let overrides: String = (1..=sheets.len())
        .map(|i| {
            format!(
                "<Override PartName=\"/xl/worksheets/sheet{i}.xml\" \
                 ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"
            )
        })
        .collect();
    file(
        "[Content_Types].xml",
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
             <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
             <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
             <Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>\
             {overrides}</Types>"
        ),
    );
    file(
        "_rels/.rels",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
         <Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/>\
         </Relationships>"
            .into(),
    );
    let sheet_list: String = sheets
        .iter()
        .enumerate()
        .map(|(i, (name, _))| format!("<sheet name=\"{name}\" sheetId=\"{}\" r:id=\"rId{}\"/>", i + 1, i + 1))
        .collect();
    file(
        "xl/workbook.xml",
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" \
             xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheets>{sheet_list}</sheets></workbook>"
        ),
    );
    let rels: String = (1..=sheets.len())
        .map(|i| {
            format!(
                "<Relationship Id=\"rId{i}\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" \
                 Target=\"worksheets/sheet{i}.xml\"/>"
            )
        })
        .collect();
    file(
        "xl/_rels/workbook.xml.rels",
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">{rels}</Relationships>"
        ),
    );
    for (i, (_, rows)) in sheets.iter().enumerate() {
        let mut data = String::new();
        for (r, row) in rows.iter().enumerate() {
            data.push_str(&format!("<row r=\"{}\">", r + 1));
            for (c, cell) in row.iter().enumerate() {
                let reference = format!("{}{}", (b'A' + c as u8) as char, r + 1);
                match cell {
                    Value::Number(n) => data.push_str(&format!("<c r=\"{reference}\"><v>{n}</v></c>")),
                    other => data.push_str(&format!(
                        "<c r=\"{reference}\" t=\"inlineStr\"><is><t>{}</t></is></c>",
                        cell_text(other)
                    )),
                }
            }
            data.push_str("</row>");
        }
        file(
            &format!("xl/worksheets/sheet{}.xml", i + 1),
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">\
                 <sheetData>{data}</sheetData></worksheet>"
            ),
        );
    }
    zip.finish().unwrap().into_inner()
}

fn sheet(rows: &[Value], columns: &[&str]) -> Vec<Vec<Value>> {
    let mut sheet = vec![columns.iter().map(|c| json!(c)).collect::<Vec<_>>()];
    for row in rows {
        sheet.push(
            columns
                .iter()
                .map(|c| match &row[*c] {
                    // Amounts as numbers, as a spreadsheet stores them.
                    Value::String(s) if s.parse::<f64>().is_ok() => json!(s.parse::<f64>().unwrap()),
                    other => other.clone(),
                })
                .collect(),
        );
    }
    sheet
}

async fn an_xlsx_workbook_is_read_like_the_csv_files(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let observatory = key_with(&app, PartnerKind::Observatory, None, &["read", "write"]).await;
    let path = format!("/reports/{ASSOCIATION}/{MONTH}");
    let month = valid_month(70);
    let book = workbook(&[
        ("Instructions", vec![vec![json!("Fill in one sheet per table")]]),
        ("clients", sheet(&month.clients, COLUMNS_CLIENTS)),
        ("loans", sheet(&month.loans, COLUMNS_LOANS)),
        ("staff", sheet(&month.staff, COLUMNS_STAFF)),
    ]);
    let reply = post_report(&app, Some(&observatory), &path, multipart(&[("workbook", book)]), &[]).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let national = active_clients_in_indicators(&app, "").await;
    assert_eq!(
        national.as_f64(),
        Some(month.active_clients() as f64),
        "the workbook's figures are stored"
    );

    let mut wrong = valid_month(71);
    wrong.loans[2]["segment"] = json!("GROUPS");
    let book = workbook(&[
        ("clients", sheet(&wrong.clients, COLUMNS_CLIENTS)),
        ("loans", sheet(&wrong.loans, COLUMNS_LOANS)),
    ]);
    let reply = post_report(&app, Some(&observatory), &path, multipart(&[("workbook", book)]), &[]).await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    let mut expected = vec![
        (
            "loans".to_owned(),
            4,
            Some("segment".to_owned()),
            "UNKNOWN_CODE".to_owned(),
        ),
        ("staff".to_owned(), 0, None, "MISSING_TABLE".to_owned()),
    ];
    expected.sort();
    assert_eq!(problems(&reply), expected, "a sheet's lines are its row numbers");
    let id = association_id(&app.db, ASSOCIATION).await;
    assert_eq!(
        submissions_of(&app.db, id).await.len(),
        1,
        "the rejected workbook stored nothing"
    );

    // Corrupted workbooks: refused with 400 or 415, never a 500.
    let good = workbook(&[("clients", sheet(&month.clients, COLUMNS_CLIENTS))]);
    let mut g = Gen::new(72);
    for round in 0..20 {
        let mut bytes = good.clone();
        for _ in 0..1 + g.below(8) {
            let at = g.below(bytes.len() as u64) as usize;
            bytes[at] = g.number() as u8;
        }
        if round % 5 == 0 {
            bytes.truncate(g.below(bytes.len() as u64) as usize);
        }
        let reply = post_report(&app, Some(&observatory), &path, multipart(&[("workbook", bytes)]), &[]).await;
        assert!(
            [400, 415, 422].contains(&reply.status.as_u16()),
            "round {round}: {} {}",
            reply.status,
            reply.body
        );
    }
}
on_both_backends!(an_xlsx_workbook_is_read_like_the_csv_files);

// Releases wait for the reports; coverage.

/// The demo's thirteen associations.
const DEMO_ASSOCIATIONS: &[&str] = &[
    "ARGANE", "ATLAS", "CEDRE", "DUNE", "FIGUIER", "JASMIN", "MIMOSA", "NOUR", "OASIS", "PALMIER", "SAFRAN", "TAFOUKT",
    "ZELLIGE",
];

/// Sends a valid month for `association` through `submitReport`.
async fn report(app: &TestApp, association: &str, period: &str, seed: u64) {
    let month = valid_month(seed);
    let mut variables = input(association, &month, None);
    variables["input"]["period"] = json!(period);
    app.graphql(SUBMIT, variables).await.data();
}

/// A subset of `codes` chosen by the generator (each kept with probability one half).
fn some_of<'a>(g: &mut Gen, codes: &[&'a str]) -> Vec<&'a str> {
    codes.iter().copied().filter(|_| g.below(2) == 0).collect()
}

const RELEASE: &str = "mutation($p: Period!, $note: String!, $force: Boolean!) { releasePeriod(period: $p, note: $note, \
                       force: $force) { period note } }";

async fn release_events(db: &DatabaseConnection, month: &str) -> Vec<audit_event::Model> {
    audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("release.create"))
        .filter(audit_event::Column::TargetCode.eq(month))
        .all(db)
        .await
        .unwrap()
}

/// For generated months where random associations reported and others were closed or merged: a release without
/// `force` is refused with CONFLICT naming every missing association and no other; `force` without a note is refused;
/// a forced release with a note is stored and its audit event records the note and the missing associations; once
/// every expected association has reported, the month is released without `force`.
async fn releasing_with_a_missing_report_is_refused_and_the_forced_release_is_audited(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let codes = association_codes(&app.db).await;
    assert_eq!(codes.len(), DEMO_ASSOCIATIONS.len());
    let mut g = Gen::new(88);
    let mut closed: Vec<&str> = Vec::new();
    for (round, month) in ["2021-01", "2021-02", "2021-03"].into_iter().enumerate() {
        // Close or merge one more association: it is no longer expected.
        let gone = DEMO_ASSOCIATIONS[g.below(DEMO_ASSOCIATIONS.len() as u64) as usize];
        let status = if g.below(2) == 0 { "CLOSED" } else { "MERGED" };
        app.db
            .execute_unprepared(&format!(
                "UPDATE association SET status = '{status}' WHERE code = '{gone}'"
            ))
            .await
            .unwrap();
        closed.push(gone);
        let reporting = some_of(&mut g, DEMO_ASSOCIATIONS);
        for (i, code) in reporting.iter().enumerate() {
            report(&app, code, month, 300 + round as u64 * 20 + i as u64).await;
        }
        let missing: Vec<&str> = DEMO_ASSOCIATIONS
            .iter()
            .copied()
            .filter(|c| !reporting.contains(c) && !closed.contains(c))
            .collect();
        assert!(!missing.is_empty(), "the generator leaves someone missing");

        let refused = app
            .graphql(RELEASE, json!({ "p": month, "note": "checked", "force": false }))
            .await;
        assert_eq!(refused.codes(), ["CONFLICT"], "{month}: {}", refused.body);
        let message = refused.message();
        let words: Vec<&str> = message.split(|c: char| !c.is_ascii_alphanumeric()).collect();
        for code in DEMO_ASSOCIATIONS {
            assert_eq!(
                words.contains(code),
                missing.contains(code),
                "{month}: {code} is named exactly when it is missing: {message}"
            );
        }
        for note in ["", "   "] {
            let no_note = app
                .graphql(RELEASE, json!({ "p": month, "note": note, "force": true }))
                .await;
            assert_eq!(no_note.codes(), ["BAD_USER_INPUT"], "{}", no_note.body);
        }
        assert!(
            release_events(&app.db, month).await.is_empty(),
            "a refused release is not stored"
        );
        assert_eq!(
            app.query("{ releases(first: 500) { nodes { period } } }", json!({}))
                .await["releases"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["period"] == month)
                .count(),
            0
        );

        let note = format!("released without {} reports: the minister's meeting", missing.len());
        let forced = app
            .query(RELEASE, json!({ "p": month, "note": note, "force": true }))
            .await;
        assert_eq!(forced["releasePeriod"]["period"], month);
        assert_eq!(forced["releasePeriod"]["note"], note.as_str());
        let events = release_events(&app.db, month).await;
        assert_eq!(events.len(), 1);
        let details: Value = serde_json::from_str(&events[0].detail).unwrap();
        assert_eq!(details["note"], note.as_str(), "{details}");
        assert_eq!(details["forced"], true, "{details}");
        assert_eq!(details["missing"], json!(missing), "{details}");
    }

    // Every expected association reported: no force needed, and the audit says nothing was missing.
    let month = "2021-04";
    let expected: Vec<&str> = DEMO_ASSOCIATIONS
        .iter()
        .copied()
        .filter(|c| !closed.contains(c))
        .collect();
    for (i, code) in expected.iter().enumerate() {
        report(&app, code, month, 400 + i as u64).await;
    }
    let released = app
        .query(RELEASE, json!({ "p": month, "note": "", "force": false }))
        .await;
    assert_eq!(released["releasePeriod"]["period"], month);
    let details: Value = serde_json::from_str(&release_events(&app.db, month).await[0].detail).unwrap();
    assert_eq!(details["forced"], false, "{details}");
    assert_eq!(details["missing"], json!([]), "{details}");
}
on_both_backends!(releasing_with_a_missing_report_is_refused_and_the_forced_release_is_audited);

async fn association_codes(db: &DatabaseConnection) -> Vec<String> {
    let mut codes: Vec<String> = association::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.code)
        .collect();
    codes.sort();
    codes
}
/// Coverage: for generated months where random associations reported, each row's `coverage` counts the associations
/// with an accepted report for every month of its period over the associations expected (closed and merged ones are
/// not), by month, by quarter, per association and under an association filter; asking for it costs one statement.
async fn coverage_counts_reporting_over_expected_associations(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let mut g = Gen::new(91);
    app.db
        .execute_unprepared("UPDATE association SET status = 'MERGED' WHERE code = 'DUNE'")
        .await
        .unwrap();
    let expected: Vec<&str> = DEMO_ASSOCIATIONS.iter().copied().filter(|c| *c != "DUNE").collect();
    let months = ["2021-01", "2021-02", "2021-03"];
    let mut reported: Vec<Vec<&str>> = Vec::new();
    for (m, month) in months.iter().enumerate() {
        let mut reporting = some_of(&mut g, DEMO_ASSOCIATIONS);
        if m == 0 {
            // DUNE reported before it merged: it no longer counts.
            reporting.push("DUNE");
        }
        for (i, code) in reporting.iter().enumerate() {
            report(&app, code, month, 500 + m as u64 * 20 + i as u64).await;
        }
        reported.push(reporting);
    }
    let counted = |m: usize| expected.iter().filter(|c| reported[m].contains(c)).count();

    let monthly = "{ indicators(period: { from: \"2021-01\", to: \"2021-03\" }) { period activeClients { value } \
                   coverage { reporting expected } } }";
    let (statements_with, data) = app.statements_of(monthly, json!({})).await;
    let rows = data["indicators"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 3);
    for (m, row) in rows.iter().enumerate() {
        assert_eq!(row["period"], months[m]);
        assert_eq!(
            row["coverage"],
            json!({ "reporting": counted(m), "expected": expected.len() }),
            "{}",
            months[m]
        );
    }
    let (statements_without, _) = app
        .statements_of(&monthly.replace("coverage { reporting expected } ", ""), json!({}))
        .await;
    assert!(
        statements_with <= statements_without + 1,
        "coverage costs one statement per request: {statements_with} against {statements_without}"
    );

    // A quarter counts the associations that reported each of its months.
    let quarterly = app
        .query(
            "{ indicators(period: { from: \"2021-01\", to: \"2021-03\", granularity: QUARTER }) { period activeClients { value } coverage { \
             reporting expected } } }",
            json!({}),
        )
        .await;
    let all_three = expected
        .iter()
        .filter(|c| reported.iter().all(|r| r.contains(c)))
        .count();
    assert_eq!(
        quarterly["indicators"][0]["coverage"],
        json!({ "reporting": all_three, "expected": expected.len() })
    );

    // Per association, and under an association filter.
    let per_association = app
        .query(
            "{ indicators(period: { from: \"2021-02\", to: \"2021-02\" }, groupBy: [ASSOCIATION]) { association { \
             code } activeClients { value } coverage { reporting expected } } }",
            json!({}),
        )
        .await;
    for row in per_association["indicators"].as_array().unwrap() {
        let code = row["association"]["code"].as_str().unwrap();
        let expected_here = usize::from(expected.contains(&code));
        let reporting_here = usize::from(expected.contains(&code) && reported[1].contains(&code));
        assert_eq!(
            row["coverage"],
            json!({ "reporting": reporting_here, "expected": expected_here }),
            "{code}"
        );
    }
    let chosen = ["ATLAS", "CEDRE", "DUNE", "SAFRAN"];
    let filtered = app
        .query(
            "{ indicators(period: { from: \"2021-01\", to: \"2021-01\" }, filter: { associations: [\"ATLAS\", \
             \"CEDRE\", \"DUNE\", \"SAFRAN\"] }) { activeClients { value } coverage { reporting expected } } }",
            json!({}),
        )
        .await;
    {
        let row = &filtered["indicators"][0];
        let chosen_expected: Vec<&str> = chosen.iter().copied().filter(|c| expected.contains(c)).collect();
        assert_eq!(
            row["coverage"],
            json!({
                "reporting": chosen_expected.iter().filter(|c| reported[0].contains(c)).count(),
                "expected": chosen_expected.len(),
            })
        );
    }
}
on_both_backends!(coverage_counts_reporting_over_expected_associations);

// ---- Who may send, what a rejected report says, and which months may be reported ----

/// A report as the multipart CSV body of `POST /reports/...`.
fn csv_body(month: &Month) -> Vec<u8> {
    multipart(&csv_parts(month, ','))
}

/// An observatory key sends reports only with the `write` scope: one without it (read-only, or read and admin) is
/// refused with 403
/// over HTTP and `FORBIDDEN` through the mutation, and stores nothing.
async fn an_observatory_key_without_write_may_not_report(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let read_only = key_with(&app, PartnerKind::Observatory, None, &["read"]).await;
    let path = format!("/reports/{ASSOCIATION}/{MONTH}");
    let admin = key_with(&app, PartnerKind::Observatory, None, &["read", "admin"]).await;
    let reply = post_report(&app, Some(&admin), &path, csv_body(&valid_month(79)), &[]).await;
    assert_eq!(reply.status, 403, "an admin key without write: {}", reply.body);
    let reply = post_report(&app, Some(&read_only), &path, csv_body(&valid_month(80)), &[]).await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    assert_eq!(reply.codes(), ["FORBIDDEN"]);
    assert!(
        reply.message().contains("`write`"),
        "the message names the scope: {}",
        reply.message()
    );
    let reply = app
        .graphql_as(Some(&read_only), SUBMIT, input(ASSOCIATION, &valid_month(81), None))
        .await;
    assert_eq!(reply.codes(), ["FORBIDDEN"], "{}", reply.body);
    assert!(reply.message().contains("`write`"), "{}", reply.message());
    let id = association_id(&app.db, ASSOCIATION).await;
    assert!(submissions_of(&app.db, id).await.is_empty(), "nothing stored");

    for scopes in [&["read", "write"][..], &["read", "write", "admin"][..]] {
        let key = key_with(&app, PartnerKind::Observatory, None, scopes).await;
        let reply = post_report(&app, Some(&key), &path, csv_body(&valid_month(82)), &[]).await;
        assert_eq!(reply.status, 201, "{scopes:?}: {}", reply.body);
        assert_eq!(reply.body["onBehalf"], true);
        let reply = app
            .graphql_as(Some(&key), SUBMIT, input(ASSOCIATION, &valid_month(83), None))
            .await;
        assert_eq!(reply.data()["submitReport"]["status"], "ACCEPTED", "{scopes:?}");
    }
    assert_eq!(submissions_of(&app.db, id).await.len(), 4);
}
on_both_backends!(an_observatory_key_without_write_may_not_report);

/// A row with a value that cannot be read is still checked against the rules between its values, on the values that
/// could be read: the sender learns of every problem of the row at once.
async fn a_row_with_a_value_error_is_still_checked_against_its_row_rules(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let mut month = valid_month(84);
    // Row 1: an unreadable amount, and PAR90 above PAR30.
    month.loans[0]["disbursed_amount"] = json!("12a");
    month.loans[0]["par90_amount"] = json!("999999999.00");
    // Row 2: PAR90 unreadable, and PAR30 above the outstanding portfolio.
    month.loans[1]["par90_amount"] = json!("n/a");
    month.loans[1]["par30_amount"] = json!("999999999.00");
    // Row 3: the outstanding portfolio unreadable: PAR90 is still compared with PAR30.
    month.loans[2]["outstanding_amount"] = json!("-5");
    month.loans[2]["par90_amount"] = json!("999999999.00");
    // Row 4: the region unknown, and PAR30 above the outstanding portfolio.
    month.loans[3]["region"] = json!("MA-99");
    month.loans[3]["par30_amount"] = json!("999999999.00");
    month.loans[3]["par90_amount"] = json!("0");
    let reply = app.graphql(SUBMIT, input(ASSOCIATION, &month, None)).await;
    let row =
        |line: i64, column: &str, rule: &str| ("loans".to_owned(), line, Some(column.to_owned()), rule.to_owned());
    let mut expected = vec![
        row(1, "disbursed_amount", "NOT_A_NUMBER"),
        row(1, "par90_amount", "PAR90_ABOVE_PAR30"),
        row(2, "par90_amount", "NOT_A_NUMBER"),
        row(2, "par30_amount", "PAR30_ABOVE_OUTSTANDING"),
        row(3, "outstanding_amount", "NEGATIVE"),
        row(3, "par90_amount", "PAR90_ABOVE_PAR30"),
        row(4, "region", "UNKNOWN_CODE"),
        row(4, "par30_amount", "PAR30_ABOVE_OUTSTANDING"),
    ];
    expected.sort();
    assert_eq!(problems(&reply), expected, "every problem of each row");
}
on_both_backends!(a_row_with_a_value_error_is_still_checked_against_its_row_rules);

/// A report with thousands of problems lists the first 1,000 at most, counts every problem by rule, lists every rule
/// that fired at least once (also one first met after the first 1,000), and says the list was cut.
async fn a_report_with_thousands_of_problems_lists_the_first_thousand_and_counts_every_rule(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let mut g = Gen::new(85);
    let path = format!("/reports/{ASSOCIATION}/{MONTH}");
    let month = valid_month(86);
    // Thousands of client rows with an unknown region, some also with an unreadable count; then a few loan rows with
    // a negative amount, met only after the first thousand problems.
    let rows = 5_000;
    let mut clients = Vec::new();
    let mut unreadable = 0;
    for i in 0..rows {
        let mut row = month.clients[i % month.clients.len()].clone();
        row["region"] = json!(format!("MA-{}", 13 + g.below(80)));
        if g.below(3) == 0 {
            row["active_clients"] = json!("many");
            unreadable += 1;
        }
        clients.push(row);
    }
    let negative = 1 + g.below(5) as usize;
    let mut loans = month.loans.clone();
    for row in loans.iter_mut().take(negative) {
        row["write_off_amount"] = json!("-1.00");
    }
    let parts = vec![
        ("clients", csv(&clients, COLUMNS_CLIENTS, ',').into_bytes()),
        ("loans", csv(&loans, COLUMNS_LOANS, ',').into_bytes()),
        ("staff", csv(&month.staff, COLUMNS_STAFF, ',').into_bytes()),
    ];
    let observatory = key_with(&app, PartnerKind::Observatory, None, &["read", "write"]).await;
    let reply = post_report(&app, Some(&observatory), &path, multipart(&parts), &[]).await;
    assert_eq!(reply.status, 422, "{}", reply.status);
    let report = &reply.body["errors"][0]["extensions"]["report"];
    let listed = report["errors"].as_array().expect("errors listed");
    assert!(listed.len() <= 1_000, "{} problems listed", listed.len());
    assert_eq!(
        report["errorsByRule"],
        json!({ "UNKNOWN_CODE": rows, "NOT_A_NUMBER": unreadable, "NEGATIVE": negative }),
        "every problem counted by rule"
    );
    assert_eq!(report["errorCount"], json!(rows + unreadable + negative));
    assert_eq!(report["truncated"], true);
    for rule in ["UNKNOWN_CODE", "NOT_A_NUMBER", "NEGATIVE"] {
        assert!(
            listed.iter().any(|p| p["rule"] == rule),
            "{rule} is listed at least once"
        );
    }
    let message = reply.message();
    assert!(
        message.contains(&format!("{} problems", rows + unreadable + negative)) && message.contains("1000"),
        "the message gives the count and says the list was cut: {message}"
    );
    let lines: Vec<i64> = listed
        .iter()
        .filter(|p| p["table"] == "clients")
        .map(|p| p["line"].as_i64().unwrap())
        .collect();
    assert!(
        lines.windows(2).all(|w| w[0] <= w[1]),
        "the first problems, in file order"
    );
    assert_eq!(lines.first(), Some(&2), "from the first row on");

    // A report with a few problems lists them all and is not cut.
    let mut few = valid_month(87);
    few.clients[0]["gender"] = json!("W");
    let reply = post_report(&app, Some(&observatory), &path, csv_body(&few), &[]).await;
    let report = &reply.body["errors"][0]["extensions"]["report"];
    assert_eq!(report["errorCount"], 1, "{}", reply.body);
    assert_eq!(report["errorsByRule"], json!({ "UNKNOWN_CODE": 1 }));
    assert_eq!(report["truncated"], false);
    assert_eq!(report["errors"].as_array().unwrap().len(), 1);
}
on_both_backends!(a_report_with_thousands_of_problems_lists_the_first_thousand_and_counts_every_rule);

/// An amount in MAD with two decimals, from centimes.
fn mad(centimes: i64) -> String {
    format!("{}.{:02}", centimes / 100, centimes % 100)
}

/// Centimes of an amount written `123.45`.
fn centimes(value: &Value) -> i64 {
    let text = value.as_str().expect("an amount as text");
    let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
    whole.parse::<i64>().unwrap() * 100 + format!("{fraction:0<2}").parse::<i64>().unwrap()
}

/// A month's total moving more than 25 % from the previous month is flagged with the total as the report's other
/// figures are written: an amount in MAD with two decimals, a count as a whole number.
async fn a_moved_stock_is_flagged_in_mad_with_two_decimals(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let id = association_id(&app.db, ASSOCIATION).await;
    let previous = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            format!(
                "SELECT CAST(SUM(outstanding_amount) AS BIGINT) AS n FROM loan_stat WHERE association_id = {id} AND \
                 period = 202012"
            ),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    let mut month = valid_month(88);
    let generated: i64 = month.loans.iter().map(|l| centimes(&l["outstanding_amount"])).sum();
    // Scaled so that the outstanding portfolio at least doubles on the month.
    let factor = (2 * previous / generated + 1).max(1);
    for loan in &mut month.loans {
        for column in ["outstanding_amount", "par30_amount", "par90_amount"] {
            loan[column] = json!(mad(centimes(&loan[column]) * factor));
        }
    }
    let now: i64 = month.loans.iter().map(|l| centimes(&l["outstanding_amount"])).sum();
    assert!(
        now as f64 > previous as f64 * 1.25,
        "the portfolio moved: {previous} -> {now}"
    );
    assert!(
        now % 100 != 0 || previous % 100 != 0,
        "the test needs centimes to show them"
    );
    let observatory = key_with(&app, PartnerKind::Observatory, None, &["read", "write"]).await;
    let reply = post_report(
        &app,
        Some(&observatory),
        &format!("/reports/{ASSOCIATION}/{MONTH}"),
        csv_body(&month),
        &[],
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let warnings = reply.body["warnings"].as_array().unwrap();
    let moved = warnings
        .iter()
        .find(|w| w["rule"] == "STOCK_MOVED" && w["column"] == "outstanding_amount")
        .unwrap_or_else(|| panic!("the outstanding portfolio is flagged: {}", reply.body));
    assert_eq!(moved["value"], mad(now), "the total in MAD: {moved}");
    let message = moved["message"].as_str().unwrap();
    assert!(
        message.contains(&mad(previous)) && message.contains(&mad(now)),
        "the message gives both totals in MAD: {message}"
    );
    for w in warnings
        .iter()
        .filter(|w| w["column"] == "active_clients" || w["column"] == "active_loans")
    {
        assert!(
            w["value"].as_str().unwrap().bytes().all(|b| b.is_ascii_digit()),
            "a count: {w}"
        );
    }
}
on_both_backends!(a_moved_stock_is_flagged_in_mad_with_two_decimals);

/// The current month (UTC) as `YYYY-MM`, shifted by `months`.
fn month_from_now(months: i32) -> String {
    use chrono::Datelike;
    let today = chrono::Utc::now().date_naive();
    let index = today.year() * 12 + today.month0() as i32 + months;
    format!("{:04}-{:02}", index.div_euclid(12), index.rem_euclid(12) + 1)
}

/// A problem of the whole month (the month itself, or a month's total) or of a whole table has no line, and says what
/// it is about; a problem of a cell, a row or the header keeps its line.
async fn problems_of_the_whole_month_have_no_line(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let month = valid_month(89);
    let mut variables = input(ASSOCIATION, &month, None);
    variables["input"]["period"] = json!(month_from_now(1));
    variables["input"]["staff"] = json!([{ "category": "NETWORK", "gender": "FEMALE", "headcount": 3, "age": 40 }]);
    variables["input"]["clients"][0]["gender"] = json!("W");
    let reply = app.graphql(SUBMIT, variables).await;
    assert_eq!(reply.codes(), ["BAD_USER_INPUT"], "{}", reply.body);
    let listed = reply.body["errors"][0]["extensions"]["report"]["errors"]
        .as_array()
        .unwrap()
        .clone();
    let find = |rule: &str| {
        listed
            .iter()
            .find(|p| p["rule"] == rule)
            .unwrap_or_else(|| panic!("{rule} in {listed:?}"))
            .clone()
    };
    let future = find("MONTH_IN_FUTURE");
    assert!(future.get("line").is_some_and(Value::is_null), "no line: {future}");
    assert_eq!(future["subject"], "MONTH", "{future}");
    assert_eq!(future["table"], "report");
    let cell = find("UNKNOWN_CODE");
    assert_eq!(
        (cell["line"].clone(), cell["subject"].clone()),
        (json!(1), json!("CELL")),
        "the first JSON row"
    );
    let header = find("UNKNOWN_COLUMN");
    assert_eq!(
        (header["line"].clone(), header["subject"].clone()),
        (json!(1), json!("HEADER"))
    );

    // A missing table: a problem of the whole table, without a line.
    let mut parts = csv_parts(&month, ',');
    parts.retain(|(name, _)| *name != "staff");
    let reply = post_report(
        &app,
        Some(&key_with(&app, PartnerKind::Observatory, None, &["read", "write"]).await),
        &format!("/reports/{ASSOCIATION}/{MONTH}"),
        multipart(&parts),
        &[],
    )
    .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    let missing = &reply.body["errors"][0]["extensions"]["report"]["errors"][0];
    assert_eq!(missing["rule"], "MISSING_TABLE", "{missing}");
    assert_eq!(
        (missing["line"].clone(), missing["subject"].clone()),
        (Value::Null, json!("TABLE"))
    );

    // The month's totals moving: warnings of the whole month, through GraphQL.
    let mut month = valid_month(90);
    for loan in &mut month.loans {
        loan["outstanding_amount"] = json!(mad(centimes(&loan["outstanding_amount"]) * 50));
    }
    let reply = app
        .graphql(
            "mutation($input: ReportInput!) { submitReport(input: $input) { warnings { table line subject column \
             value rule } } }",
            input(ASSOCIATION, &month, None),
        )
        .await;
    let warnings = reply.data()["submitReport"]["warnings"].as_array().unwrap().clone();
    let moved = warnings
        .iter()
        .find(|w| w["rule"] == "STOCK_MOVED")
        .unwrap_or_else(|| panic!("a total moved: {warnings:?}"));
    assert_eq!(moved["line"], Value::Null, "{moved}");
    assert_eq!(moved["subject"], "MONTH", "{moved}");

    // A report stored before problems had a subject, with `line: 0` for the month's totals, reads the same way.
    let id = association_id(&app.db, ASSOCIATION).await;
    let stored = submissions_of(&app.db, id).await[0].id;
    let old = r#"{"errors":[],"warnings":[{"table":"loans","line":0,"column":"par30_amount","value":"1.00","rule":"PAR30_RATE_HIGH","message":"the PAR30 rate is 12.0 %"},{"table":"loans","line":3,"column":"active_loans","value":"4","rule":"LOANS_WITHOUT_CLIENTS","message":"line 3 has 4 active loans"}]}"#;
    app.db
        .execute_unprepared(&format!(
            "UPDATE submission SET validation_report = '{old}' WHERE id = {stored}"
        ))
        .await
        .unwrap();
    let data = app
        .query(
            "query($id: ID!) { submission(id: $id) { warnings { line subject rule } } }",
            json!({ "id": stored.to_string() }),
        )
        .await;
    assert_eq!(
        data["submission"]["warnings"],
        json!([
            { "line": null, "subject": "MONTH", "rule": "PAR30_RATE_HIGH" },
            { "line": 3, "subject": "CELL", "rule": "LOANS_WITHOUT_CLIENTS" },
        ])
    );
}
on_both_backends!(problems_of_the_whole_month_have_no_line);

/// A report for a month before 2000-01 is refused before it is read (400 over HTTP, `BAD_USER_INPUT` through the
/// mutation) with a message saying which months may be reported; 2000-01 itself is accepted.
async fn a_report_before_2000_is_refused(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let observatory = key_with(&app, PartnerKind::Observatory, None, &["read", "write"]).await;
    for month in ["1900-01", "1999-12"] {
        let reply = post_report(
            &app,
            Some(&observatory),
            &format!("/reports/{ASSOCIATION}/{month}"),
            csv_body(&valid_month(91)),
            &[],
        )
        .await;
        assert_eq!(reply.status, 400, "{month}: {}", reply.body);
        assert_eq!(reply.codes(), ["BAD_USER_INPUT"]);
        assert!(
            reply.message().contains(month) && reply.message().contains("2000-01"),
            "{}",
            reply.message()
        );
        let mut variables = input(ASSOCIATION, &valid_month(92), None);
        variables["input"]["period"] = json!(month);
        let reply = app.graphql_as(Some(&observatory), SUBMIT, variables).await;
        assert_eq!(reply.codes(), ["BAD_USER_INPUT"], "{month}: {}", reply.body);
        assert!(reply.message().contains("2000-01"), "{}", reply.message());
        assert!(
            reply.body["errors"][0]["extensions"].get("report").is_none(),
            "refused before validation"
        );
    }
    let id = association_id(&app.db, ASSOCIATION).await;
    let stored = submission::Entity::find()
        .filter(submission::Column::AssociationId.eq(id))
        .filter(submission::Column::Period.lt(200001))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, 0, "nothing stored");
    let mut variables = input(ASSOCIATION, &valid_month(93), None);
    variables["input"]["period"] = json!("2000-01");
    let reply = app.graphql_as(Some(&observatory), SUBMIT, variables).await;
    assert_eq!(reply.data()["submitReport"]["period"], "2000-01");
}
on_both_backends!(a_report_before_2000_is_refused);
