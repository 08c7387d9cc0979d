//! An SDMX REST 2.1 subset at `/sdmx/rest`, for BI tools and statisticians (Power BI's SDMX connector, Excel,
//! `sdmx1`, `pysdmx`): the structure (one dataflow, its data structure, concepts and code lists) and the data,
//! computed by the `indicators` query through the same execution, access rules and suppression as GraphQL.

pub mod data;
pub mod structure;
pub mod survey;
pub mod xml;

use crate::http::AppState;
use crate::http::protocol::MediaType;
use crate::labels::Language;
use crate::period::{Month, Period};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use entity::region;
use sea_orm::{ColumnTrait, EntityTrait, QueryOrder};
use std::collections::HashMap;

/// The SDMX REST routes, merged into the whole router by `crate::app::router`.
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/sdmx/rest/data/{flow}", get(data_all))
        .route("/sdmx/rest/data/{flow}/{key}", get(data_with_key))
        .route("/sdmx/rest/dataflow/{*path}", get(structure))
        .route("/sdmx/rest/datastructure/{*path}", get(structure))
        .route("/sdmx/rest/codelist/{*path}", get(structure))
        .route("/sdmx/rest/conceptscheme/{*path}", get(structure))
}

const STRUCTURE_XML: &str = "application/vnd.sdmx.structure+xml; version=2.1";
const STRUCTURE_SPECIFIC_XML: &str = "application/vnd.sdmx.structurespecificdata+xml; version=2.1";
const GENERIC_XML: &str = "application/vnd.sdmx.genericdata+xml; version=2.1";
const SDMX_CSV: &str = "application/vnd.sdmx.data+csv; version=1.0.0; charset=utf-8";

/// An SDMX error: the status and a line of text.
fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        format!("{message}\n"),
    )
        .into_response()
}

fn prepared() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The regions, as (code, fr, ar, en), in code order.
async fn regions(state: &AppState) -> Result<Vec<(String, String, String, String)>, Response> {
    region::Entity::find()
        .order_by_asc(region::Column::Code)
        .all(state.db())
        .await
        .map(|rows| {
            rows.into_iter()
                .map(|r| (r.code, r.name_fr, r.name_ar, r.name_en))
                .collect()
        })
        .map_err(|e| {
            tracing::error!(error = %e, "SDMX structure read failed");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the database is unavailable; retry shortly",
            )
        })
}

/// The peer groups of the default scheme, as SDMX codes (`SCALE_LARGE`, `REGION_MA-06`) with their names: the
/// scheme's groups, and a group for each region.
async fn peer_groups(
    state: &AppState,
    regions: &[(String, String, String, String)],
) -> Result<Vec<(String, structure::Names)>, Response> {
    let rules = crate::finance::peers::rules(state.db(), crate::finance::peers::DEFAULT_SCHEME)
        .await
        .map_err(|e| {
            tracing::error!(error = ?e, "SDMX peer groups read failed");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the database is unavailable; retry shortly",
            )
        })?;
    let mut groups: Vec<(String, structure::Names)> = rules
        .into_iter()
        .map(|r| {
            (
                format!("{}_{}", r.dimension, r.group_code),
                [r.label_fr, r.label_ar, r.label_en],
            )
        })
        .collect();
    groups.extend(regions.iter().map(|(code, fr, ar, en)| {
        (
            format!("REGION_{code}"),
            [
                format!("Région : {fr}"),
                format!("الجهة: {ar}"),
                format!("Region: {en}"),
            ],
        )
    }));
    Ok(groups)
}

/// The released surveys' codes, their questions' and their responses' (options and nets), with their names.
async fn survey_codes(state: &AppState) -> Result<structure::SurveyCodes, Response> {
    let failed = |e: crate::error::ApiError| {
        tracing::error!(error = ?e, "SDMX survey codes read failed");
        error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the database is unavailable; retry shortly",
        )
    };
    let mut codes = structure::SurveyCodes::default();
    let mut seen = std::collections::HashSet::new();
    for survey in crate::survey::store::surveys(state.db()).await.map_err(failed)? {
        if survey.released_at.is_none() {
            continue;
        }
        codes.surveys.push((
            survey.code.clone(),
            [
                survey.title_fr.clone(),
                survey.title_ar.clone(),
                survey.title_en.clone(),
            ],
        ));
        for (question, options, nets) in crate::survey::store::questions(state.db(), survey.id)
            .await
            .map_err(failed)?
        {
            if seen.insert(("Q", question.code.clone())) {
                codes
                    .questions
                    .push((question.code, [question.text_fr, question.text_ar, question.text_en]));
            }
            for option in options {
                if seen.insert(("R", option.code.clone())) {
                    codes
                        .responses
                        .push((option.code, [option.label_fr, option.label_ar, option.label_en]));
                }
            }
            for net in nets {
                if seen.insert(("R", net.code.clone())) {
                    codes
                        .responses
                        .push((net.code, [net.label_fr, net.label_ar, net.label_en]));
                }
            }
        }
    }
    Ok(codes)
}

/// `GET /sdmx/rest/{dataflow|datastructure|codelist|conceptscheme}/...`: the whole structure message (the dataflow
/// with everything it references), whichever of its artefacts is asked for.
pub async fn structure(State(state): State<AppState>, Path(path): Path<String>) -> Response {
    let ids: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    // agency / id / version, each optional; `all` and `latest` match anything.
    let ours = [
        structure::MICROFINANCE.id,
        structure::MICROFINANCE.dsd,
        structure::MICROFINANCE_ACT.id,
        structure::MICROFINANCE_ACT.dsd,
        structure::MICROFINANCE_FIN.id,
        structure::MICROFINANCE_FIN.dsd,
        "CL_PEER_GROUP",
        "CL_STATISTIC",
        structure::SURVEY.id,
        structure::SURVEY.dsd,
        "CL_SURVEY",
        "CL_SURVEY_QUESTION",
        "CL_RESPONSE",
        "CL_STAFF_LEVEL",
        "CL_SURVEY_STATISTIC",
        structure::CONCEPTS,
        "CL_ACTIVITY",
        "CL_FREQ",
        "CL_REF_AREA",
        "CL_INDICATOR",
        "CL_SEGMENT",
        "CL_SEX",
        "CL_URBANISATION",
        "CL_UNIT",
        "CL_OBS_STATUS",
    ];
    let agency_ok = ids.first().is_none_or(|a| matches!(*a, "all" | structure::AGENCY));
    let id_ok = ids.get(1).is_none_or(|id| *id == "all" || ours.contains(id));
    let version_ok = ids
        .get(2)
        .is_none_or(|v| matches!(*v, "all" | "latest" | structure::VERSION));
    if !(agency_ok && id_ok && version_ok) {
        return error(StatusCode::NOT_FOUND, "NoResultsFound: no such structure here");
    }
    let regions = match regions(&state).await {
        Ok(regions) => regions,
        Err(response) => return response,
    };
    let peer_groups = match peer_groups(&state, &regions).await {
        Ok(groups) => groups,
        Err(response) => return response,
    };
    let surveys = match survey_codes(&state).await {
        Ok(codes) => codes,
        Err(response) => return response,
    };
    let message = structure::message(&structure::codelists(&regions, &peer_groups, &surveys), &prepared());
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(STRUCTURE_XML))],
        message,
    )
        .into_response()
}

/// `GET /sdmx/rest/data/{flow}/{key}?startPeriod&endPeriod`.
pub async fn data_with_key(
    State(state): State<AppState>,
    Path((flow, key)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
    request: axum::extract::Request,
) -> Response {
    data(state, flow, key, params, request).await
}

/// `GET /sdmx/rest/data/{flow}`: every series.
pub async fn data_all(
    State(state): State<AppState>,
    Path(flow): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    request: axum::extract::Request,
) -> Response {
    data(state, flow, "all".into(), params, request).await
}

/// The output format a data request asks for.
#[derive(Clone, Copy)]
enum Format {
    Generic,
    StructureSpecific,
    Csv {
        labels: data::CsvLabels,
        file: bool,
        bom: bool,
    },
}

impl Format {
    /// What distinguishes this representation in its entity tag.
    fn tag(self) -> String {
        match self {
            Format::Generic => "generic".into(),
            Format::StructureSpecific => "specific".into(),
            Format::Csv { labels, file, bom } => format!(
                "csv-{}{}{}",
                match labels {
                    data::CsvLabels::Id => "id".to_owned(),
                    data::CsvLabels::Both(language) => language.code().to_owned(),
                },
                if file { "-file" } else { "" },
                if bom { "-bom" } else { "" }
            ),
        }
    }
}

/// The format asked for, or why it is not served (a message for 501).
fn format(headers: &HeaderMap, params: &HashMap<String, String>, language: Language) -> Result<Format, &'static str> {
    if let Some(format) = params.get("format") {
        return match format.as_str() {
            "csvfilewithlabels" | "csvfile" => {
                let language = match params.get("lang").map(String::as_str) {
                    Some("ar") => Language::Ar,
                    Some("en") => Language::En,
                    Some("fr") => Language::Fr,
                    _ => language,
                };
                Ok(Format::Csv {
                    labels: if format == "csvfile" {
                        data::CsvLabels::Id
                    } else {
                        data::CsvLabels::Both(language)
                    },
                    file: true,
                    bom: params.get("bom").is_some_and(|b| b == "include"),
                })
            }
            "genericdata" => Ok(Format::Generic),
            "structurespecificdata" => Ok(Format::StructureSpecific),
            _ => Err("this format is not served: use csvfilewithlabels"),
        };
    }
    let accept = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    if accept.trim().is_empty() {
        return Ok(Format::Generic);
    }
    // The served type of highest quality (`q`), a specific type before a wildcard of the same quality, else the
    // first; a type with `q=0` is refused by the client and never chosen.
    let mut best: Option<(f32, bool, Format)> = None;
    for range in accept.split(',') {
        let mut pieces = range.split(';');
        let media = pieces.next().unwrap_or_default().trim().to_ascii_lowercase();
        let (mut quality, mut version, mut labels_both, mut file) = (1.0_f32, None, false, false);
        for parameter in pieces {
            let Some((name, value)) = parameter.split_once('=') else {
                continue;
            };
            let value = value.trim().trim_matches('"').to_ascii_lowercase();
            match name.trim().to_ascii_lowercase().as_str() {
                "q" => quality = value.parse().unwrap_or(0.0),
                "version" => version = Some(value),
                "labels" => labels_both = value == "both",
                "file" => file = value == "true",
                _ => {}
            }
        }
        if quality.is_nan() || quality <= 0.0 {
            continue;
        }
        let version_is = |accepted: &[&str]| version.as_deref().is_none_or(|v| accepted.contains(&v));
        let (format, specific) = match media.as_str() {
            "application/vnd.sdmx.genericdata+xml" if version_is(&["2.1"]) => (Format::Generic, true),
            "application/vnd.sdmx.structurespecificdata+xml" if version_is(&["2.1"]) => {
                (Format::StructureSpecific, true)
            }
            "application/vnd.sdmx.data+csv" if version_is(&["1.0.0", "1.0"]) => (
                Format::Csv {
                    labels: if labels_both {
                        data::CsvLabels::Both(language)
                    } else {
                        data::CsvLabels::Id
                    },
                    file,
                    bom: false,
                },
                true,
            ),
            "application/xml" | "text/xml" => (Format::Generic, true),
            "application/*" | "*/*" => (Format::Generic, false),
            _ => continue,
        };
        if best
            .as_ref()
            .is_none_or(|(q, was_specific, _)| quality > *q || (quality == *q && specific && !was_specific))
        {
            best = Some((quality, specific, format));
        }
    }
    best.map(|(_, _, format)| format).ok_or(
        "this format is not served: ask for SDMX-ML 2.1 (application/vnd.sdmx.genericdata+xml or \
         application/vnd.sdmx.structurespecificdata+xml) or SDMX-CSV 1.0 (application/vnd.sdmx.data+csv)",
    )
}

/// A parsed data query: the indicators' flows, or the survey results'.
enum Parsed {
    Indicators(data::DataQuery),
    Survey(survey::SurveyQuery),
}

async fn data(
    state: AppState,
    flow: String,
    key: String,
    params: HashMap<String, String>,
    request: axum::extract::Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let Some(flow) = structure::Flow::named(&flow) else {
        return error(
            StatusCode::NOT_FOUND,
            "NoResultsFound: the dataflows are MICROFINANCE, MICROFINANCE_ACT, MICROFINANCE_FIN and SURVEY",
        );
    };
    let (scope, decision) = match crate::http::admission::admit(&state, &parts, MediaType::Json).await {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    let language =
        Language::from_accept_language(parts.headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()));
    let format = match format(&parts.headers, &params, language) {
        Ok(format) => format,
        Err(message) => return error(StatusCode::NOT_IMPLEMENTED, &format!("NotImplemented: {message}")),
    };
    if let Err(message) = data::check_key_syntax(flow, &key) {
        return error(StatusCode::BAD_REQUEST, &format!("SyntaxError: {message}"));
    }
    let regions = match regions(&state).await {
        Ok(regions) => regions,
        Err(response) => return response,
    };
    let codes: Vec<String> = regions.iter().map(|r| r.0.clone()).collect();
    let peer_groups = match peer_groups(&state, &regions).await {
        Ok(groups) => groups,
        Err(response) => return response,
    };
    let peer_codes: Vec<String> = peer_groups.iter().map(|(code, _)| code.clone()).collect();
    let surveys = match survey_codes(&state).await {
        Ok(codes) => codes,
        Err(response) => return response,
    };
    let parsed_query = if flow.survey {
        survey::SurveyQuery::parse(&key, &surveys, &codes).map(Parsed::Survey)
    } else {
        data::DataQuery::parse(flow, &key, &codes, &peer_codes).map(Parsed::Indicators)
    };
    let query = match parsed_query {
        Ok(query) => query,
        Err(message) => return error(StatusCode::NOT_FOUND, &format!("NoResultsFound: {message}")),
    };
    let period = |name: &str| match params.get(name) {
        None => Ok(None),
        Some(text) => Period::parse(text)
            .map(Some)
            .map_err(|_| format!("SyntaxError: {name} `{text}` is not a period (2020-12, 2020-Q4 or 2020)")),
    };
    let (start, end) = match (period("startPeriod"), period("endPeriod")) {
        (Ok(start), Ok(end)) => (start, end),
        (Err(message), _) | (_, Err(message)) => return error(StatusCode::BAD_REQUEST, &message),
    };
    let last = match end {
        Some(end) => end.last_month(),
        None => latest_release(&state).await,
    };
    let first = start.map_or(last.shift(-23), |s| s.first_month());
    if first > last {
        return error(StatusCode::BAD_REQUEST, "SemanticError: startPeriod is after endPeriod");
    }
    let document = match &query {
        Parsed::Indicators(query) => query.document(first, last),
        Parsed::Survey(query) => query.document(),
    };
    let mut request = async_graphql::Request::new(document);
    let parsed = match crate::http::execution::parse(&state, &mut request) {
        Ok(parsed) => parsed,
        Err((_, message)) => {
            // The document is written here from a checked key: not parsing it is this service's fault.
            tracing::error!(%message, "an SDMX query's document did not parse");
            return error(StatusCode::INTERNAL_SERVER_ERROR, "the query could not be run");
        }
    };
    // Asked as a conditional GET, so that the answer carries the entity tag of the GraphQL answer it comes from.
    let conditional = crate::http::execution::Conditional { if_none_match: None };
    let answer = crate::http::execution::run(
        &state,
        request,
        parsed,
        scope,
        MediaType::Json,
        decision,
        Some(conditional),
        language,
    )
    .await;
    let status = answer.status();
    let cache_headers: Vec<(header::HeaderName, HeaderValue)> = [header::CACHE_CONTROL, header::VARY]
        .into_iter()
        .filter_map(|name| answer.headers().get(&name).cloned().map(|value| (name, value)))
        .collect();
    // The representation's own tag: the data's tag with the format (one resource, several representations).
    let etag = answer
        .headers()
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(|tag| format!("{}-{}\"", tag.trim_end_matches('"'), format.tag()));
    if let Some(etag) = &etag
        && crate::http::cache::matches(parts.headers.get(header::IF_NONE_MATCH), etag)
    {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        add_cache_headers(&mut response, etag, &cache_headers);
        return response;
    }
    let body = axum::body::to_bytes(answer.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    if let Some(first_error) = value["errors"].as_array().and_then(|e| e.first()) {
        let code = first_error["extensions"]["code"].as_str().unwrap_or("");
        let status = match code {
            "FORBIDDEN" => StatusCode::FORBIDDEN,
            "UNAUTHENTICATED" => StatusCode::UNAUTHORIZED,
            _ if status != StatusCode::OK => status,
            _ => StatusCode::BAD_REQUEST,
        };
        return error(
            status,
            &format!(
                "{code}: {}",
                first_error["message"].as_str().unwrap_or("the query was refused")
            ),
        );
    }
    let observations = match &query {
        Parsed::Survey(query) => query.observations(&value["data"]),
        Parsed::Indicators(query) if flow.financial => query.financial_observations(&value["data"]),
        Parsed::Indicators(_) => data::observations(flow, &value["data"]),
    };
    if observations.is_empty() {
        return error(
            StatusCode::NOT_FOUND,
            "NoResultsFound: no observation matches this query",
        );
    }
    let mut response = match format {
        Format::Generic => (
            [(header::CONTENT_TYPE, HeaderValue::from_static(GENERIC_XML))],
            data::generic_xml(flow, &observations, &prepared()),
        )
            .into_response(),
        Format::StructureSpecific => (
            [(header::CONTENT_TYPE, HeaderValue::from_static(STRUCTURE_SPECIFIC_XML))],
            data::structure_specific_xml(flow, &observations, &prepared()),
        )
            .into_response(),
        Format::Csv { labels, file, bom } => {
            let codelists = structure::codelists(&regions, &peer_groups, &surveys);
            let body = data::csv(flow, &observations, labels, &codelists, bom);
            let mut response = (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(if bom { "text/csv; charset=utf-8" } else { SDMX_CSV }),
                )],
                body,
            )
                .into_response();
            if file {
                response.headers_mut().insert(
                    header::CONTENT_DISPOSITION,
                    HeaderValue::from_str(&format!("attachment; filename=\"{}.csv\"", flow.id.to_lowercase()))
                        .expect("a flow id is a header value"),
                );
            }
            response
        }
    };
    if let Some(etag) = &etag {
        add_cache_headers(&mut response, etag, &cache_headers);
    }
    response
}

/// `ETag`, with the `Cache-Control` and `Vary` of the GraphQL answer the data came from.
fn add_cache_headers(response: &mut Response, etag: &str, cache_headers: &[(header::HeaderName, HeaderValue)]) {
    if let Ok(value) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    for (name, value) in cache_headers {
        response.headers_mut().insert(name.clone(), value.clone());
    }
}

/// The last released month (the current month when none is).
async fn latest_release(state: &AppState) -> Month {
    use sea_orm::QuerySelect;
    let latest: Option<i32> = entity::release::Entity::find()
        .select_only()
        .column_as(entity::release::Column::Period.max(), "period")
        .into_tuple::<Option<i32>>()
        .one(state.db())
        .await
        .ok()
        .flatten()
        .flatten();
    latest.map(Month).unwrap_or_else(|| {
        use chrono::Datelike;
        let today = chrono::Utc::now().date_naive();
        Month(today.year() * 100 + today.month() as i32)
    })
}
