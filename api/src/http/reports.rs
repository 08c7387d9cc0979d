//! The reporting paths: `POST /reports/{association}/{month}` (a `multipart/form-data` report: CSV parts
//! `clients`, `loans`, `staff` and optional `branches`) and `GET /reports/templates/{table}.csv`.
//!
//! Answers: 201 with the submission, 422 with the validation report (every problem at once), 413 over
//! [`MAX_REPORT_BYTES`], 415 for what is not multipart, not CSV text or not a workbook, 400 for a malformed report (a ragged row,
//! an empty or unknown part), 401/403/409/429 as elsewhere. Errors have the GraphQL error shape
//! (`errors[0].message`, `errors[0].extensions.code`, and `extensions.report` for a rejected report).

use super::AppState;
use super::admission::{admit, with_rate_headers};
use super::protocol::{MediaType, refuse, respond};
use crate::error::{ApiError, code};
use crate::period::{Granularity, Period};
use crate::submission::store;
use crate::submission::table::NewReport;
use crate::submission::table::{self, Malformed, RawReport, Table};
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Largest report accepted: 5 MB.
pub const MAX_REPORT_BYTES: usize = 5 * 1024 * 1024;

fn bad_request(message: &str) -> Response {
    refuse(StatusCode::BAD_REQUEST, MediaType::Json, code::BAD_REQUEST, message)
}

fn unsupported(message: &str) -> Response {
    refuse(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        MediaType::Json,
        code::UNSUPPORTED_MEDIA_TYPE,
        message,
    )
}

fn too_large() -> Response {
    refuse(
        StatusCode::PAYLOAD_TOO_LARGE,
        MediaType::Json,
        code::PAYLOAD_TOO_LARGE,
        &format!("the report exceeds the 5 MB limit ({MAX_REPORT_BYTES} bytes): send one month of one association"),
    )
}

/// The response to an error of the store.
pub fn error_response(error: ApiError) -> Response {
    let status = match &error {
        ApiError::BadUserInput(_) => StatusCode::BAD_REQUEST,
        ApiError::Rejected { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        ApiError::NotFound(_) => StatusCode::NOT_FOUND,
        ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
        ApiError::Conflict(_) => StatusCode::CONFLICT,
        ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        ApiError::Database(_) | ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let code = error.code();
    let report = match &error {
        ApiError::Rejected { report, .. } => Some(report.clone()),
        _ => None,
    };
    let mut extensions = json!({ "code": code });
    if let Some(report) = report {
        extensions["report"] = report;
    }
    let body = json!({ "errors": [{ "message": error.public_message(), "extensions": extensions }] });
    respond(status, MediaType::Json, body.to_string().into_bytes())
}

/// `POST /reports/{association}/{month}`.
///
/// Who may send is decided from the path and the key before any byte of the body is read: a caller who may not
/// report for the association (or a request whose month, media type or declared length is refused) is answered at
/// once and the connection closed, while the body is still arriving. A report is then received and read in one of
/// the server's few report places, so that the memory reports take is bounded whatever the number of senders.
pub async fn submit(
    State(state): State<AppState>,
    Path((association, month)): Path<(String, String)>,
    request: axum::extract::Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let (scope, decision) = match admit(&state, &parts, MediaType::Json).await {
        Ok(admitted) => admitted,
        Err(refused) => return closing(refused),
    };
    let answer = receive(&state, scope, association, month, parts, body).await;
    with_rate_headers(answer, decision)
}

/// A refusal answered before the body was read: the connection is closed rather than drained.
fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// The request's parts before the body: the month, and the caller's right to report for the association.
async fn before_the_body(
    state: &AppState,
    scope: &crate::scope::Scope,
    association: &str,
    month: &str,
    parts: &axum::http::request::Parts,
) -> Result<Period, Response> {
    let period = match Period::parse(month) {
        Ok(period) if matches!(period.granularity, Granularity::Month | Granularity::Quarter) => period,
        _ => {
            return Err(bad_request(&format!(
                "`{month}` is neither a month nor a quarter: write a month's report's period YYYY-MM (2021-01) and a \
                 statement's YYYY-Qn (2020-Q4)"
            )));
        }
    };
    let owner = crate::store::by_code::<entity::association::Entity, _>(
        &state.inner.db,
        entity::association::Column::Code,
        "association",
        association,
    )
    .await
    .map_err(error_response)?;
    scope.may_report_for(owner.id).map_err(error_response)?;
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.to_ascii_lowercase().starts_with("multipart/form-data") {
        return Err(unsupported(if period.granularity == Granularity::Quarter {
            "send the statement as multipart/form-data with one part `statements`, a CSV file (line,value), or one \
             `workbook`"
        } else {
            "send the report as multipart/form-data with the parts clients, loans, staff (and optionally branches), \
             each a CSV file"
        }));
    }
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > MAX_REPORT_BYTES) {
        return Err(too_large());
    }
    Ok(period)
}

/// The parts of a report as sent: CSV files by table, or one workbook.
enum Sent {
    Csv(Vec<(Table, axum::body::Bytes)>),
    Workbook(axum::body::Bytes),
}

async fn receive(
    state: &AppState,
    scope: crate::scope::Scope,
    association: String,
    month: String,
    parts: axum::http::request::Parts,
    body: Body,
) -> Response {
    let period = match before_the_body(state, &scope, &association, &month, &parts).await {
        Ok(period) => period,
        Err(refused) => return closing(refused),
    };
    let idempotency_key = match parts.headers.get("idempotency-key").map(|v| v.to_str()) {
        None => None,
        Some(Ok(key)) => Some(key.trim().to_owned()),
        Some(Err(_)) => return closing(bad_request("the Idempotency-Key header must be visible ASCII")),
    };
    // One of the report places, held while the report is received, read and checked.
    let Ok(_place) = state.inner.reports.acquire().await else {
        return error_response(ApiError::Internal("the report places are closed".into()));
    };
    let bytes = match axum::body::to_bytes(body, MAX_REPORT_BYTES).await {
        Ok(bytes) => bytes,
        Err(error) if super::serve::is_too_slow(&error) => return closing(too_slow()),
        Err(_) => return closing(too_large()),
    };
    let sent = match parts_of(parts, bytes).await {
        Ok(sent) => sent,
        Err(refused) => return refused,
    };
    // Reading files is work for a blocking thread, not for the threads that answer requests.
    let read = tokio::task::spawn_blocking(move || read_sent(sent)).await;
    let (mut tables, payload) = match read {
        Ok(Ok(read)) => read,
        Ok(Err(Malformed::Encoding(message))) => return unsupported(&message),
        Ok(Err(Malformed::Shape(message))) => return bad_request(&message),
        Err(_) => return error_response(ApiError::Internal("reading a report failed".into())),
    };
    if period.granularity == Granularity::Quarter {
        if let Some(other) = tables.keys().find(|t| **t != Table::Statements) {
            return bad_request(&format!(
                "a quarter takes its financial statement alone: the `{}` table belongs to a month's report, sent to \
                 /reports/{{association}}/YYYY-MM",
                other.name()
            ));
        }
        let statement = crate::finance::store::NewStatement {
            association,
            quarter: period,
            table: tables.remove(&Table::Statements),
            payload,
            idempotency_key,
        };
        return match crate::finance::store::submit(&state.inner.db, &scope, statement).await {
            Ok(model) => {
                state.wrote(&scope).await;
                match crate::finance::view(&state.inner.db, &model).await {
                    Ok(view) => respond(StatusCode::CREATED, MediaType::Json, view.to_string().into_bytes()),
                    Err(error) => error_response(error),
                }
            }
            Err(error) => error_response(error),
        };
    }
    if tables.remove(&Table::Statements).is_some() {
        return bad_request(
            "the `statements` table is a quarter's financial statement: send it alone to /reports/{association}/YYYY-Qn",
        );
    }
    let month = period.start;
    let report = NewReport {
        association,
        month,
        tables,
        payload,
        idempotency_key,
    };
    match store::submit(&state.inner.db, &scope, report).await {
        Ok(model) => {
            state.wrote(&scope).await;
            match crate::submission::view(&state.inner.db, &model).await {
                Ok(view) => respond(StatusCode::CREATED, MediaType::Json, view.to_string().into_bytes()),
                Err(error) => error_response(error),
            }
        }
        Err(error) => error_response(error),
    }
}

fn too_slow() -> Response {
    refuse(
        StatusCode::REQUEST_TIMEOUT,
        MediaType::Json,
        code::TIMEOUT,
        "the report arrived too slowly: send it again over a faster connection",
    )
}

/// The multipart body's parts: CSV files by table, or one workbook.
async fn parts_of(parts: axum::http::request::Parts, bytes: axum::body::Bytes) -> Result<Sent, Response> {
    let request = axum::extract::Request::from_parts(parts, Body::from(bytes));
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|rejection| bad_request(&format!("the multipart body cannot be read: {}", rejection.body_text())))?;
    let mut files: Vec<(Table, axum::body::Bytes)> = Vec::new();
    let mut workbook: Option<axum::body::Bytes> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => {
                return Err(bad_request(&format!(
                    "the multipart body is malformed: {}",
                    error.body_text()
                )));
            }
        };
        let name = field.name().unwrap_or("").to_owned();
        if name == "workbook" {
            if !files.is_empty() || workbook.is_some() {
                return Err(bad_request(
                    "send either one `workbook` part or the CSV parts, not both",
                ));
            }
            match field.bytes().await {
                Ok(data) => workbook = Some(data),
                Err(error) => {
                    return Err(bad_request(&format!(
                        "the `workbook` part cannot be read: {}",
                        error.body_text()
                    )));
                }
            }
            continue;
        }
        if workbook.is_some() {
            return Err(bad_request(
                "send either one `workbook` part or the CSV parts, not both",
            ));
        }
        let Some(table) = Table::from_name(&name) else {
            return Err(bad_request(&format!(
                "unknown part `{name}`: a month's parts are clients, loans, staff and, optionally, branches and \
                 activities; a quarter's is statements"
            )));
        };
        if files.iter().any(|(t, _)| *t == table) {
            return Err(bad_request(&format!(
                "the `{name}` part is sent twice: send each table once"
            )));
        }
        match field.bytes().await {
            Ok(data) => files.push((table, data)),
            Err(error) => {
                return Err(bad_request(&format!(
                    "the `{name}` part cannot be read: {}",
                    error.body_text()
                )));
            }
        }
    }
    match workbook {
        Some(data) => Ok(Sent::Workbook(data)),
        None if files.is_empty() => Err(bad_request(
            "the report has no part: send clients, loans and staff as CSV files, or one workbook",
        )),
        None => Ok(Sent::Csv(files)),
    }
}

/// The tables of what was sent, and the payload kept with the submission.
fn read_sent(sent: Sent) -> Result<(RawReport, String), Malformed> {
    match sent {
        Sent::Workbook(data) => {
            let tables = crate::submission::xlsx::read_report(&data)?;
            use base64::Engine;
            let payload =
                json!({ "format": "xlsx", "workbook": base64::engine::general_purpose::STANDARD.encode(&data) });
            Ok((tables, payload.to_string()))
        }
        Sent::Csv(files) => {
            let mut tables = RawReport::new();
            let mut texts = serde_json::Map::new();
            for (table, data) in files {
                tables.insert(table, table::read_csv(table, &data)?);
                texts.insert(
                    table.name().to_owned(),
                    String::from_utf8_lossy(&data).into_owned().into(),
                );
            }
            Ok((tables, json!({ "format": "csv", "tables": texts }).to_string()))
        }
    }
}

/// `GET /reports/templates/{table}.csv`: the header and one example row.
pub async fn template(Path(file): Path<String>) -> Response {
    let table = file.strip_suffix(".csv").and_then(Table::from_name);
    let Some(table) = table else {
        return refuse(
            StatusCode::NOT_FOUND,
            MediaType::Json,
            code::NOT_FOUND,
            "no such template: use clients.csv, loans.csv, staff.csv, branches.csv, activities.csv or statements.csv",
        );
    };
    let mut response = (StatusCode::OK, table.template()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(disposition) = HeaderValue::from_str(&format!("attachment; filename=\"{}.csv\"", table.name())) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    response
}
