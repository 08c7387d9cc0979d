//! Admission: who is asking and whether they may ask now. The caller's address
//! (the peer, or the client named by a trusted proxy), its key, and the rate
//! limits of each.

use super::AppState;
use super::protocol::{MediaType, refuse};
use crate::error::{ApiError, code};
use crate::ratelimit::Decision;
use crate::scope::Scope;
use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use std::net::{IpAddr, SocketAddr};

/// The address requests are counted under: the peer's, or, when the peer is a trusted proxy, the last address of
/// `X-Forwarded-For` that is not itself a trusted proxy. A request without a peer (a test driving the router
/// directly) counts as `local`.
pub fn client_address(parts: &Parts, trusted_proxies: &[IpAddr]) -> String {
    let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
        return "local".into();
    };
    let peer = peer.ip().to_canonical();
    if !trusted_proxies.contains(&peer) {
        return peer.to_string();
    }
    let forwarded: Vec<IpAddr> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
        .map(|ip| ip.to_canonical())
        .collect();
    forwarded
        .iter()
        .rev()
        .find(|ip| !trusted_proxies.contains(ip))
        .unwrap_or(&peer)
        .to_string()
}

/// Adds the rate-limit headers of a decision.
pub fn with_rate_headers(mut response: Response, decision: Decision) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        ("ratelimit-limit", decision.limit as u64),
        ("ratelimit-remaining", decision.remaining as u64),
        ("ratelimit-reset", decision.reset_seconds),
    ] {
        headers.insert(name, HeaderValue::from(value));
    }
    if !decision.allowed {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(decision.reset_seconds));
    }
    response
}

/// The one `Authorization` header, if any; two or more are refused (which one should win is not ours to guess).
fn authorization(headers: &HeaderMap) -> Result<Option<&HeaderValue>, &'static str> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err("send one `Authorization` header, not several");
    }
    Ok(first)
}

/// The caller's scope and rate-limit decision, or the response refusing the request.
pub async fn admit(state: &AppState, parts: &Parts, media: MediaType) -> Result<(Scope, Decision), Response> {
    let inner = &state.inner;
    let address = client_address(parts, &inner.limits.trusted_proxies);
    let by_address = || inner.rate.by_address(&address);

    let too_many = |decision: Decision| {
        let message = format!(
            "too many requests: at most {} a minute; retry in {} s",
            decision.limit, decision.reset_seconds
        );
        with_rate_headers(
            refuse(StatusCode::TOO_MANY_REQUESTS, media, code::RATE_LIMITED, &message),
            decision,
        )
    };
    let header = match authorization(&parts.headers) {
        Ok(header) => header,
        Err(message) => return Err(refuse(StatusCode::BAD_REQUEST, media, code::BAD_REQUEST, message)),
    };
    let Some(header) = header else {
        let decision = by_address().await;
        return if decision.allowed {
            Ok((Scope::public(), decision))
        } else {
            Err(too_many(decision))
        };
    };
    let header = header.to_str().unwrap_or("");
    match crate::partner::auth::authenticate(&inner.db, Some(header)).await {
        Ok(Ok(scope)) => {
            let decision = inner.rate.by_key(scope.key_prefix.as_deref().unwrap_or_default()).await;
            if decision.allowed {
                Ok((scope, decision))
            } else {
                Err(too_many(decision))
            }
        }
        Ok(Err(refusal)) => {
            let decision = by_address().await;
            if !decision.allowed {
                return Err(too_many(decision));
            }
            tracing::info!(address, reason = %refusal.message(), "API key refused");
            let mut response = refuse(
                StatusCode::UNAUTHORIZED,
                media,
                code::UNAUTHENTICATED,
                &refusal.message(),
            );
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            Err(with_rate_headers(response, decision))
        }
        Err(error) => Err(failure(media, error)),
    }
}

/// The response to an error met before execution: 503 when the database is unreachable, else 500.
pub fn failure(media: MediaType, error: ApiError) -> Response {
    let code = error.code();
    let status = if code == code::INTERNAL {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut response = refuse(status, media, code, &error.public_message());
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
    }
    response
}

/// The scope of an `Authorization` value sent outside the HTTP headers (a WebSocket's `connection_init`): a wrong,
/// expired or revoked key is refused with its reason.
pub async fn authenticate_value(state: &AppState, value: Option<&str>) -> Result<Scope, String> {
    let Some(value) = value else {
        return Ok(Scope::public());
    };
    match crate::partner::auth::authenticate(&state.inner.db, Some(value)).await {
        Ok(Ok(scope)) => Ok(scope),
        Ok(Err(refusal)) => Err(refusal.message()),
        Err(error) => Err(error.public_message()),
    }
}

/// Counts one operation of a caller against its rate limit (its key's, or its address's without a key), as an HTTP
/// request would be; the refusal's message when the limit is reached.
pub async fn count_operation(state: &AppState, scope: &Scope, address: &str) -> Result<(), String> {
    let inner = &state.inner;
    let decision = match &scope.key_prefix {
        Some(prefix) => inner.rate.by_key(prefix).await,
        None => inner.rate.by_address(address).await,
    };
    if decision.allowed {
        Ok(())
    } else {
        Err(format!(
            "too many requests: at most {} a minute; retry in {} s",
            decision.limit, decision.reset_seconds
        ))
    }
}
