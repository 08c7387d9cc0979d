//! The GraphQL over HTTP protocol: which media type to answer with, how a GET
//! or POST request carries its GraphQL request, and how refusals are written.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Media type of GraphQL responses defined by the specification.
pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
/// The legacy media type, the default.
pub const APPLICATION_JSON: &str = "application/json";

/// The response media type chosen from the Accept header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    GraphqlResponse,
    Json,
}

impl MediaType {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::GraphqlResponse => GRAPHQL_RESPONSE_JSON,
            MediaType::Json => APPLICATION_JSON,
        }
    }

    /// Picks the media type as the specification recommends: `application/graphql-response+json` only when the
    /// client names it; `application/json` when it names that, accepts anything (`*/*`, `application/*`) or sends
    /// no Accept header; `None` (406) when it accepts neither.
    pub fn negotiate(headers: &HeaderMap) -> Option<MediaType> {
        let mut accepts = headers.get_all(header::ACCEPT).iter().peekable();
        if accepts.peek().is_none() {
            return Some(MediaType::Json);
        }
        let mut accepted = Vec::new();
        for value in accepts {
            let value = value.to_str().ok()?;
            for part in value.split(',') {
                let mut params = part.split(';');
                let media = params.next().unwrap_or("").trim().to_ascii_lowercase();
                let refused = params.any(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.trim().parse::<f32>().ok())
                        .is_some_and(|q| q <= 0.0)
                });
                if !refused && !media.is_empty() {
                    accepted.push(media);
                }
            }
        }
        if accepted.iter().any(|m| m == GRAPHQL_RESPONSE_JSON) {
            Some(MediaType::GraphqlResponse)
        } else if accepted
            .iter()
            .any(|m| m == APPLICATION_JSON || m == "*/*" || m == "application/*")
        {
            Some(MediaType::Json)
        } else {
            None
        }
    }
}

/// A response that carries only errors (no `data`): the request was refused before execution.
pub fn refuse(status: StatusCode, media: MediaType, code: &str, message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    let mut response = respond(status, media, body.to_string().into_bytes());
    response
        .extensions_mut()
        .insert(super::metrics::Refused(code.to_owned()));
    response
}

/// A response with a JSON body of the negotiated media type.
pub fn respond(status: StatusCode, media: MediaType, body: impl Into<axum::body::Bytes>) -> Response {
    let mut response = (status, body.into()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media.as_str()));
    response
}

/// A GraphQL request as received, before its document is known: the text may be left out when
/// `extensions.persistedQuery` names it (see `persisted`).
#[derive(Debug, Default)]
pub struct Incoming {
    pub query: Option<String>,
    pub operation_name: Option<String>,
    pub variables: Option<Value>,
    pub extensions: Option<Value>,
}

impl Incoming {
    /// The request to run, with its document's text.
    pub fn into_request(self, query: String) -> async_graphql::Request {
        let mut request = async_graphql::Request::new(query);
        if let Some(name) = self.operation_name {
            request = request.operation_name(name);
        }
        if let Some(variables) = self.variables {
            request = request.variables(async_graphql::Variables::from_json(variables));
        }
        request
    }
}

/// Reads a GET request's parameters.
pub fn request_from_query(raw: Option<&str>) -> Result<Incoming, String> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw.unwrap_or("")).map_err(|e| format!("the query string is malformed: {e}"))?;
    let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let mut incoming = Incoming {
        query: get("query"),
        operation_name: get("operationName").filter(|n| !n.is_empty()),
        ..Incoming::default()
    };
    if let Some(variables) = get("variables").filter(|v| !v.is_empty()) {
        let value: Value =
            serde_json::from_str(&variables).map_err(|e| format!("`variables` is not valid JSON: {e}"))?;
        if !value.is_object() && !value.is_null() {
            return Err("`variables` must be a JSON object".into());
        }
        incoming.variables = Some(value).filter(Value::is_object);
    }
    if let Some(extensions) = get("extensions").filter(|v| !v.is_empty()) {
        let value: Value =
            serde_json::from_str(&extensions).map_err(|e| format!("`extensions` is not valid JSON: {e}"))?;
        if !value.is_object() && !value.is_null() {
            return Err("`extensions` must be a JSON object".into());
        }
        incoming.extensions = Some(value).filter(Value::is_object);
    }
    Ok(incoming)
}

/// Reads a POST request's JSON body.
pub fn request_from_body(body: &[u8]) -> Result<Incoming, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("the body is not valid JSON: {e}"))?;
    let mut object = match value {
        Value::Object(object) => object,
        Value::Array(_) => {
            return Err("batched requests (a JSON array) are not supported: send one request per call".into());
        }
        _ => return Err("the body must be a JSON object with a `query` string".into()),
    };
    let mut incoming = Incoming::default();
    match object.remove("query") {
        Some(Value::String(query)) => incoming.query = Some(query),
        Some(Value::Null) | None => {}
        Some(_) => return Err("`query` must be a string".into()),
    }
    match object.remove("operationName") {
        Some(Value::String(name)) => incoming.operation_name = Some(name),
        Some(Value::Null) | None => {}
        Some(_) => return Err("`operationName` must be a string".into()),
    }
    match object.remove("variables") {
        Some(vars @ Value::Object(_)) => incoming.variables = Some(vars),
        Some(Value::Null) | None => {}
        Some(_) => return Err("`variables` must be a JSON object".into()),
    }
    match object.remove("extensions") {
        Some(extensions @ Value::Object(_)) => incoming.extensions = Some(extensions),
        Some(Value::Null) | None => {}
        Some(_) => return Err("`extensions` must be a JSON object".into()),
    }
    Ok(incoming)
}

/// True when the request body is declared as JSON.
pub fn is_json_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case(APPLICATION_JSON)
        })
        .unwrap_or(false)
}

/// The status of a response to a request that was refused before execution (parse, validation, limits): 400 under
/// `application/graphql-response+json`, 200 under the legacy `application/json`.
pub fn request_error_status(media: MediaType) -> StatusCode {
    match media {
        MediaType::GraphqlResponse => StatusCode::BAD_REQUEST,
        MediaType::Json => StatusCode::OK,
    }
}
