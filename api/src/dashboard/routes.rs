//! The dashboard's HTTP side: `GET /dashboards/{month}?lang=fr|ar|en` (as the public, with a key in the
//! `Authorization` header, or with a signed link's `key`, `expires` and `signature`) and `POST /dashboards/links`
//! (with a key: a signed link to a month's page). The caller is admitted as every request is
//! (`http::admission::admit`: its key, its rate), and the page's document runs through `http::execution`, as any
//! GraphQL request, with the caller's role.

use super::link::{self, Link};
use super::render::{self, Viewer};
use super::{Figures, document};
use crate::http::AppState;
use crate::http::admission::admit;
use crate::http::execution;
use crate::http::protocol::{MediaType, refuse};
use crate::labels::Language;
use crate::period::{FIRST_REPORTABLE, Month};
use crate::scope::{Role, Scope};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;

/// A refusal of a page (the dashboard's, the note's): its status and a sentence, as plain text.
pub fn refused(status: StatusCode, message: &str) -> Response {
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        format!("{message}\n"),
    )
        .into_response()
}

/// The `lang` parameter of a page: French when absent.
pub fn language(lang: Option<&str>) -> Result<Language, String> {
    match lang {
        None | Some("fr") => Ok(Language::Fr),
        Some("ar") => Ok(Language::Ar),
        Some("en") => Ok(Language::En),
        Some(other) => Err(format!(
            "`{other}` is not a language of the page: use lang=fr, lang=ar or lang=en"
        )),
    }
}

/// A month written `2020-12`, from the first month the observatory holds figures for to the current one.
fn month(text: &str) -> Result<Month, (StatusCode, String)> {
    let bytes = text.as_bytes();
    let well_formed =
        bytes.len() == 7 && bytes[4] == b'-' && bytes.iter().enumerate().all(|(i, b)| i == 4 || b.is_ascii_digit());
    let month = well_formed
        .then(|| Month::new(text[..4].parse().ok()?, text[5..].parse().ok()?))
        .flatten()
        .ok_or_else(|| {
            (
                StatusCode::BAD_REQUEST,
                format!("`{text}` is not a month: write it YYYY-MM, for example /dashboards/2020-12"),
            )
        })?;
    let now = chrono::Utc::now().date_naive();
    let current = Month::new(chrono::Datelike::year(&now), chrono::Datelike::month(&now)).expect("today is a month");
    if month < FIRST_REPORTABLE || month > current {
        return Err((
            StatusCode::NOT_FOUND,
            format!(
                "the observatory holds no figures for {month}: months run from {FIRST_REPORTABLE} to the last month reported"
            ),
        ));
    }
    Ok(month)
}

/// `GET /dashboards/{month}`.
pub async fn page(
    State(state): State<AppState>,
    Path(month_text): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    request: axum::extract::Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let language = match language(params.get("lang").map(String::as_str)) {
        Ok(language) => language,
        Err(message) => return refused(StatusCode::BAD_REQUEST, &message),
    };
    let month = match month(&month_text) {
        Ok(month) => month,
        Err((status, message)) => return refused(status, &message),
    };
    let (scope, decision) = match admit(&state, &parts, MediaType::Json).await {
        Ok(admitted) => admitted,
        Err(refusal) => return refusal,
    };
    let signed = ["key", "expires", "signature"].map(|name| params.get(name));
    let (scope, link_expires) = if signed.iter().any(Option::is_some) {
        if scope.role != Role::Public || parts.headers.contains_key(header::AUTHORIZATION) {
            return refused(
                StatusCode::BAD_REQUEST,
                "send either a key (the Authorization header) or a signed link, not both",
            );
        }
        let [Some(prefix), Some(expires), Some(signature)] = signed else {
            return refused(
                StatusCode::BAD_REQUEST,
                "a signed link has `key`, `expires` and `signature`: use the whole link as it was given",
            );
        };
        let Ok(expires) = expires.parse::<i64>() else {
            return refused(StatusCode::FORBIDDEN, link::Refusal::Forged.message());
        };
        match verify(
            &state,
            Link {
                prefix: prefix.clone(),
                month,
                expires,
            },
            signature,
        )
        .await
        {
            Ok(scope) => (
                scope,
                chrono::DateTime::from_timestamp(expires, 0).map(|at| at.to_rfc3339()),
            ),
            Err(response) => return response,
        }
    } else {
        (scope, None)
    };

    let mut request = async_graphql::Request::new(document(month)).operation_name("Dashboard");
    let parsed = match execution::parse(&state, &mut request) {
        Ok(parsed) => parsed,
        Err((_, message)) => {
            // The document is written here from a checked month: not parsing it is this service's fault.
            tracing::error!(%message, "the dashboard's document did not parse");
            return refused(StatusCode::INTERNAL_SERVER_ERROR, "the dashboard could not be computed");
        }
    };
    let role = scope.role;
    let answer = execution::run(
        &state,
        request,
        parsed,
        scope,
        MediaType::Json,
        decision,
        None,
        language,
    )
    .await;
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
    let mut response = if let Some(first) = value["errors"].as_array().and_then(|e| e.first()) {
        let code = first["extensions"]["code"].as_str().unwrap_or("");
        let status = match code {
            "FORBIDDEN" => StatusCode::FORBIDDEN,
            "UNAUTHENTICATED" => StatusCode::UNAUTHORIZED,
            "BAD_USER_INPUT" | "BAD_REQUEST" => StatusCode::BAD_REQUEST,
            _ if status != StatusCode::OK => status,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        refused(
            status,
            &format!(
                "{code}: {}",
                first["message"]
                    .as_str()
                    .unwrap_or("the dashboard could not be computed")
            ),
        )
    } else {
        let figures = Figures::read(month, &value["data"]);
        if !figures.shown() {
            let whose = if role == Role::Observatory {
                "nothing was reported for it yet"
            } else {
                "it is not released yet, or nothing was reported for it (without a key, and for partners, only released months are shown)"
            };
            refused(StatusCode::NOT_FOUND, &format!("no dashboard for {month}: {whose}"))
        } else {
            let viewer = Viewer {
                role: role.name(),
                link_expires,
            };
            match render::page(&figures, language, &viewer) {
                Ok(html) => (
                    [
                        (
                            header::CONTENT_TYPE,
                            HeaderValue::from_static("text/html; charset=utf-8"),
                        ),
                        // The page needs nothing from any network: everything is inline.
                        (
                            header::CONTENT_SECURITY_POLICY,
                            HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; img-src data:"),
                        ),
                        (header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
                        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
                    ],
                    html,
                )
                    .into_response(),
                Err(error) => {
                    tracing::error!(error = %error, "the dashboard's template failed");
                    refused(StatusCode::INTERNAL_SERVER_ERROR, "the dashboard could not be written")
                }
            }
        }
    };
    response.headers_mut().extend(rate_headers);
    response
}

/// The scope a signed link grants, or the refusal.
async fn verify(state: &AppState, link: Link, signature: &str) -> Result<Scope, Response> {
    match crate::partner::auth::by_prefix(state.db(), &link.prefix).await {
        Ok(Ok((scope, digest))) => match link.verify(&digest, signature, chrono::Utc::now().timestamp()) {
            Ok(()) => Ok(scope),
            Err(refusal) => Err(refused(StatusCode::FORBIDDEN, refusal.message())),
        },
        // An unknown, revoked or expired key signs nothing: the link is refused as not valid, saying no more.
        Ok(Err(_)) => Err(refused(StatusCode::FORBIDDEN, link::Refusal::Forged.message())),
        Err(error) => Err(crate::http::admission::failure(MediaType::Json, error)),
    }
}

/// `POST /dashboards/links` with a key and `{"month": "2020-12", "lang": "ar"}` (`lang` optional): a link to the
/// month's page that grants the key's role for `link::LIFETIME`.
pub async fn create_link(State(state): State<AppState>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    let bad = |message: &str| refuse(StatusCode::BAD_REQUEST, MediaType::Json, "BAD_USER_INPUT", message);
    let (scope, _) = match admit(&state, &parts, MediaType::Json).await {
        Ok(admitted) => admitted,
        Err(refusal) => return refusal,
    };
    let Some(prefix) = scope.key_prefix.clone() else {
        let mut response = refuse(
            StatusCode::UNAUTHORIZED,
            MediaType::Json,
            "UNAUTHENTICATED",
            "a dashboard link grants a key's role: send the key as `Authorization: Bearer <key>` (the public needs no \
             link: open /dashboards/{month})",
        );
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    };
    let Ok(body) = axum::body::to_bytes(body, 4096).await else {
        return bad("the body is a small JSON object: {\"month\": \"2020-12\", \"lang\": \"fr\"}");
    };
    let asked: Value = match serde_json::from_slice(&body) {
        Ok(value @ Value::Object(_)) => value,
        _ => return bad("the body is a JSON object: {\"month\": \"2020-12\", \"lang\": \"fr\"}"),
    };
    let Some(month_text) = asked["month"].as_str() else {
        return bad("say which month: {\"month\": \"2020-12\"}");
    };
    let month = match month(month_text) {
        Ok(month) => month,
        Err((status, message)) => return refuse(status, MediaType::Json, "BAD_USER_INPUT", &message),
    };
    let language = match language(asked["lang"].as_str()) {
        Ok(language) => language,
        Err(message) => return bad(&message),
    };
    let digest = match crate::partner::auth::by_prefix(state.db(), &prefix).await {
        Ok(Ok((_, digest))) => digest,
        Ok(Err(refusal)) => {
            return refuse(
                StatusCode::UNAUTHORIZED,
                MediaType::Json,
                "UNAUTHENTICATED",
                &refusal.message(),
            );
        }
        Err(error) => return crate::http::admission::failure(MediaType::Json, error),
    };
    let expires = chrono::Utc::now().timestamp() + link::LIFETIME;
    let link = Link { prefix, month, expires };
    let body = json!({
        "url": link.path(&digest, language.code()),
        "expiresAt": chrono::DateTime::from_timestamp(expires, 0).map(|at| at.to_rfc3339()),
        "role": scope.role.name(),
    });
    (
        StatusCode::CREATED,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body.to_string(),
    )
        .into_response()
}
