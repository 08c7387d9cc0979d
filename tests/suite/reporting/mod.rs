//! Reporting: associations send their month; every problem of a report is listed at once and a rejected report
//! stores nothing; an accepted one replaces the association-month's figures (revisions, replays, races), and only
//! the association itself (with a `write` key) or the observatory may send it.

use entity::enums::SubmissionStatus;
use entity::{association, audit_event, branch, submission};
use observatory_tests::{Backend, Fixture, Gen, PartnerKind, TestApp, on_both_backends, spawn_app};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, Statement};
use serde_json::{Value, json};
use std::sync::Arc;

mod acceptance;
mod activities;
mod files;
mod releases;
mod statements;
mod validation;

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

// ---- Who may send, what a rejected report says, and which months may be reported ----

/// A report as the multipart CSV body of `POST /reports/...`.
fn csv_body(month: &Month) -> Vec<u8> {
    multipart(&csv_parts(month, ','))
}

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

/// The current month (UTC) as `YYYY-MM`, shifted by `months`.
fn month_from_now(months: i32) -> String {
    use chrono::Datelike;
    let today = chrono::Utc::now().date_naive();
    let index = today.year() * 12 + today.month0() as i32 + months;
    format!("{:04}-{:02}", index.div_euclid(12), index.rem_euclid(12) + 1)
}
