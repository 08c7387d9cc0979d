//! The one error type of the API and its single mapping to GraphQL errors.
//!
//! Every error a client can cause carries a stable `extensions.code`. Database
//! and other internal failures are logged with their cause and reach the client
//! only as a generic message with the code `INTERNAL`.

use async_graphql::ErrorExtensions;
use sea_orm::DbErr;

/// Stable error codes, part of the public contract.
pub mod code {
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
    pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const CONFLICT: &str = "CONFLICT";
    pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
    pub const NOT_ACCEPTABLE: &str = "NOT_ACCEPTABLE";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
    pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    pub const TIMEOUT: &str = "TIMEOUT";
    pub const UNAVAILABLE: &str = "UNAVAILABLE";
    pub const INTERNAL: &str = "INTERNAL";
    pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
    pub const TRUSTED_DOCUMENT_REQUIRED: &str = "TRUSTED_DOCUMENT_REQUIRED";
}

/// Message a client sees for any internal failure.
pub const INTERNAL_MESSAGE: &str = "internal error; the incident has been logged";

/// Message a client sees while the database cannot be reached.
pub const UNAVAILABLE_MESSAGE: &str = "the database is unavailable; retry shortly";

/// An error of the API. It deliberately has no `Display`: the only way to a
/// client is `From<ApiError> for async_graphql::Error`, which masks internals.
#[derive(Debug)]
pub enum ApiError {
    /// The client sent a value the API cannot use (unknown code, bad cursor, ...).
    BadUserInput(String),
    /// A report that failed validation: `BAD_USER_INPUT`, with the validation report (every problem) in
    /// `extensions.report`.
    Rejected { message: String, report: serde_json::Value },
    /// The client asked for a single object that does not exist.
    NotFound(String),
    /// The caller may not see or do this.
    Forbidden(String),
    /// The request conflicts with the stored state.
    Conflict(String),
    /// The database cannot be reached (connection refused, pool timed out). The
    /// message is the client's; the cause is logged.
    Unavailable(String),
    /// The database failed; never shown to the client.
    Database(DbErr),
    /// Any other internal failure; never shown to the client.
    Internal(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn bad_input(message: impl Into<String>) -> Self {
        ApiError::BadUserInput(message.into())
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadUserInput(_) | ApiError::Rejected { .. } => code::BAD_USER_INPUT,
            ApiError::NotFound(_) => code::NOT_FOUND,
            ApiError::Forbidden(_) => code::FORBIDDEN,
            ApiError::Conflict(_) => code::CONFLICT,
            ApiError::Unavailable(_) => code::UNAVAILABLE,
            ApiError::Database(_) | ApiError::Internal(_) => code::INTERNAL,
        }
    }

    /// The full text, for logs.
    pub fn detail(&self) -> String {
        match self {
            ApiError::BadUserInput(m)
            | ApiError::Rejected { message: m, .. }
            | ApiError::NotFound(m)
            | ApiError::Forbidden(m)
            | ApiError::Conflict(m)
            | ApiError::Unavailable(m) => m.clone(),
            ApiError::Database(e) => format!("database error: {e}"),
            ApiError::Internal(m) => format!("internal error: {m}"),
        }
    }

    /// The text a client may see: the message for client errors, a generic
    /// one for internal errors (which are logged here with their cause).
    pub fn public_message(&self) -> String {
        match self {
            ApiError::Database(_) | ApiError::Internal(_) => {
                tracing::error!(error = %self.detail(), "internal error");
                INTERNAL_MESSAGE.to_owned()
            }
            other => other.detail(),
        }
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        let code = error.code();
        let report = match &error {
            ApiError::Rejected { report, .. } => async_graphql::Value::from_json(report.clone()).ok(),
            _ => None,
        };
        async_graphql::Error::new(error.public_message()).extend_with(|_, ext| {
            ext.set("code", code);
            if let Some(report) = report {
                ext.set("report", report);
            }
        })
    }
}

impl From<DbErr> for ApiError {
    /// A database that cannot be reached is `Unavailable` (the client may retry);
    /// any other database failure is internal.
    fn from(error: DbErr) -> Self {
        if is_connection_failure(&error) {
            tracing::warn!(error = %error, "database unavailable");
            ApiError::Unavailable(UNAVAILABLE_MESSAGE.to_owned())
        } else {
            ApiError::Database(error)
        }
    }
}

/// Whether a database error means the database could not be reached, rather
/// than that a statement failed: no connection from the pool in time, a
/// connection refused or lost, an I/O or TLS failure.
pub fn is_connection_failure(error: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as SqlxError;
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            matches!(
                e.as_ref(),
                SqlxError::Io(_)
                    | SqlxError::Tls(_)
                    | SqlxError::PoolTimedOut
                    | SqlxError::PoolClosed
                    | SqlxError::WorkerCrashed
            ) || is_server_going_away(e.as_ref())
        }
        _ => false,
    }
}

/// PostgreSQL's own word that it cannot serve: a connection exception (SQLSTATE
/// class 08) or a server shutting down or starting (57P01, 57P02, 57P03).
fn is_server_going_away(error: &sea_orm::sqlx::Error) -> bool {
    let sea_orm::sqlx::Error::Database(e) = error else {
        return false;
    };
    e.code()
        .is_some_and(|c| c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03"))
}

/// For a write that may race a duplicate: a unique-constraint violation becomes
/// `Conflict` with the message `what_exists` gives; any other error is classified
/// as usual. Used at the call site, where the message can name what exists.
pub fn conflict_if_duplicate(what_exists: impl FnOnce() -> String) -> impl FnOnce(DbErr) -> ApiError {
    move |error| match error.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => ApiError::Conflict(what_exists()),
        _ => ApiError::from(error),
    }
}
