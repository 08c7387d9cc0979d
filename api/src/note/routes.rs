//! The note's HTTP side: `GET /notes/{quarter}.csv` (one row per figure and peer statistic) and
//! `GET /notes/{quarter}?lang=fr|ar|en` (the page). The caller is admitted as every request is (its key in the
//! `Authorization` header, or the public), and the note's one `quarterlyNote` document runs through
//! `http::execution`, as any GraphQL request, with the caller's role: the CSV and the page show what that answer
//! holds, nothing else.

use crate::http::AppState;
use crate::http::admission::admit;
use crate::http::execution;
use crate::http::protocol::MediaType;
use crate::labels::Language;
use crate::period::{Granularity, Period};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::HashMap;

/// The fields of a figure the CSV and the page read.
pub const FIGURE_FIELDS: &str = "section measure { code field unit labelFr labelAr labelEn betterWhen } dimension \
    group { code labelFr labelAr labelEn } value previousQuarter sameQuarterPreviousYear changeFromPreviousQuarter \
    changeFromPreviousYear suppressed peers { group { code labelFr labelAr labelEn } n p25 median p75 suppressed \
    smallGroup aggregate { value } }";

/// The note's document for a quarter.
pub fn document(quarter: Period) -> String {
    format!(
        "query QuarterlyNote {{ quarterlyNote(quarter: \"{quarter}\") {{ layout quarter peerScheme \
         coverage {{ reporting expected }} statementsCoverage {{ reporting expected }} figures {{ {FIGURE_FIELDS} }} }} }}"
    )
}

pub use crate::dashboard::routes::{language, refused};

/// A quarter written `2020-Q4`.
fn quarter(text: &str) -> Result<Period, String> {
    match Period::parse(text) {
        Ok(period) if period.granularity == Granularity::Quarter => Ok(period),
        _ => Err(format!(
            "`{text}` is not a quarter: write it YYYY-Qn, for example /notes/2020-Q4"
        )),
    }
}

/// The note's answer to the caller: its `quarterlyNote` data, the caller's role and the rate-limit headers, or
/// the refusal.
pub struct Answered {
    pub note: Value,
    pub role: crate::scope::Role,
    pub rate_headers: Vec<(HeaderName, HeaderValue)>,
}

/// A page's document answered for the caller: its data, the caller's role and the rate-limit headers, or the
/// refusal (as plain text, with the status the error's code calls for).
pub struct Ran {
    pub data: Value,
    pub role: crate::scope::Role,
    pub rate_headers: Vec<(HeaderName, HeaderValue)>,
}

/// Admits the caller as every request is and runs a document through the request pipeline with its role: the
/// note's page and CSV, and the surveys' codebooks, read what it answers.
pub async fn run_document(
    state: &AppState,
    parts: &axum::http::request::Parts,
    document: String,
    operation: &str,
    language: Language,
) -> Result<Ran, Response> {
    let (scope, decision) = admit(state, parts, MediaType::Json).await?;
    let mut request = async_graphql::Request::new(document).operation_name(operation);
    let parsed = match execution::parse(state, &mut request) {
        Ok(parsed) => parsed,
        Err((_, message)) => {
            tracing::error!(%message, operation, "a page's document did not parse");
            return Err(refused(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be computed",
            ));
        }
    };
    let role = scope.role;
    let answer = execution::run(state, request, parsed, scope, MediaType::Json, decision, None, language).await;
    let status = answer.status();
    let rate_headers: Vec<_> = answer
        .headers()
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("ratelimit") || *name == header::RETRY_AFTER)
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let body = axum::body::to_bytes(answer.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    let value: Value = serde_json::from_slice(&body).unwrap_or_default();
    if let Some(first) = value["errors"].as_array().and_then(|e| e.first()) {
        let code = first["extensions"]["code"].as_str().unwrap_or("");
        let status = match code {
            "FORBIDDEN" => StatusCode::FORBIDDEN,
            "UNAUTHENTICATED" => StatusCode::UNAUTHORIZED,
            "NOT_FOUND" => StatusCode::NOT_FOUND,
            "BAD_USER_INPUT" | "BAD_REQUEST" => StatusCode::BAD_REQUEST,
            _ if status != StatusCode::OK => status,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let mut response = refused(
            status,
            &format!(
                "{code}: {}",
                first["message"].as_str().unwrap_or("the page could not be computed")
            ),
        );
        response.headers_mut().extend(rate_headers);
        return Err(response);
    }
    Ok(Ran {
        data: value["data"].clone(),
        role,
        rate_headers,
    })
}

/// Admits the caller and runs the note's document through the request pipeline.
pub async fn answer(
    state: &AppState,
    parts: &axum::http::request::Parts,
    quarter: Period,
    language: Language,
) -> Result<Answered, Response> {
    let Ran {
        data,
        role,
        rate_headers,
    } = run_document(state, parts, document(quarter), "QuarterlyNote", language).await?;
    let note = data["quarterlyNote"].clone();
    // A quarter with reports has active clients; the branch registry alone is no note.
    let shown = note["figures"].as_array().is_some_and(|figures| {
        figures
            .iter()
            .any(|f| f["measure"]["code"] == "ACTIVE_CLIENTS" && f["group"].is_null() && f["value"].is_number())
    });
    if !shown {
        let whose = if role == crate::scope::Role::Observatory {
            "nothing was reported for it yet"
        } else {
            "it is not released yet, or nothing was reported for it (without a key, and for partners, only released \
             quarters are shown)"
        };
        return Err(refused(
            StatusCode::NOT_FOUND,
            &format!("no note for {quarter}: {whose}"),
        ));
    }
    Ok(Answered {
        note,
        role,
        rate_headers,
    })
}

/// `GET /notes/{quarter}.csv` and `GET /notes/{quarter}`.
pub async fn note(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    request: axum::extract::Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let (text, csv) = match file.strip_suffix(".csv") {
        Some(text) => (text, true),
        None => (file.as_str(), false),
    };
    let quarter = match quarter(text) {
        Ok(quarter) => quarter,
        Err(message) => return refused(StatusCode::BAD_REQUEST, &message),
    };
    let language = match language(params.get("lang").map(String::as_str)) {
        Ok(language) => language,
        Err(message) => return refused(StatusCode::BAD_REQUEST, &message),
    };
    let answered = match answer(&state, &parts, quarter, language).await {
        Ok(answered) => answered,
        Err(refusal) => return refusal,
    };
    let mut response = if csv {
        (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/csv; charset=utf-8"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
            ],
            to_csv(&answered.note),
        )
            .into_response()
    } else {
        super::page::respond(&answered, quarter, language)
    };
    response.headers_mut().extend(answered.rate_headers);
    response
}

/// The CSV's header.
pub const CSV_HEADER: &str = "section,measure,dimension,group,statistic,value,previous_quarter,\
    same_quarter_previous_year,change_from_previous_quarter,change_from_previous_year,unit,suppressed";

/// A cell: numbers as JSON writes them, text quoted when it must be.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) if text.contains([',', '"', '\n']) => format!("\"{}\"", text.replace('"', "\"\"")),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The note as CSV: one row per figure (`statistic` VALUE), then, for the financial ratios, one row per peer group and
/// statistic (N, P25, MEDIAN, P75, and AGGREGATE for the readers who see it), `dimension` PEER_GROUP and `group` the
/// scheme's dimension and group (`SCALE:LARGE`).
pub fn to_csv(note: &Value) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    for figure in note["figures"].as_array().into_iter().flatten() {
        let measure = &figure["measure"];
        let row = [
            figure["section"].clone(),
            measure["code"].clone(),
            figure["dimension"].clone(),
            figure["group"]["code"].clone(),
            Value::from("VALUE"),
            figure["value"].clone(),
            figure["previousQuarter"].clone(),
            figure["sameQuarterPreviousYear"].clone(),
            figure["changeFromPreviousQuarter"].clone(),
            figure["changeFromPreviousYear"].clone(),
            measure["unit"].clone(),
            figure["suppressed"].clone(),
        ];
        out.push_str(&row.iter().map(cell).collect::<Vec<_>>().join(","));
        out.push('\n');
        for peer in figure["peers"].as_array().into_iter().flatten() {
            let group = Value::from(format!(
                "{}:{}",
                super::PEER_DIMENSION.code(),
                peer["group"]["code"].as_str().unwrap_or("")
            ));
            let mut statistics = vec![
                ("N", peer["n"].clone()),
                ("P25", peer["p25"].clone()),
                ("MEDIAN", peer["median"].clone()),
                ("P75", peer["p75"].clone()),
            ];
            if !peer["aggregate"].is_null() {
                statistics.push(("AGGREGATE", peer["aggregate"]["value"].clone()));
            }
            for (statistic, value) in statistics {
                let row = [
                    figure["section"].clone(),
                    measure["code"].clone(),
                    Value::from("PEER_GROUP"),
                    group.clone(),
                    Value::from(statistic),
                    value,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    if statistic == "N" {
                        Value::from("COUNT")
                    } else {
                        measure["unit"].clone()
                    },
                    peer["suppressed"].clone(),
                ];
                out.push_str(&row.iter().map(cell).collect::<Vec<_>>().join(","));
                out.push('\n');
            }
        }
    }
    out
}
