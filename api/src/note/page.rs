//! The note as a page: not written yet, the CSV and `quarterlyNote` serve its figures.

use super::routes::{Answered, refused};
use crate::labels::Language;
use crate::period::Period;
use axum::http::StatusCode;
use axum::response::Response;

/// The page of an answered note.
pub fn respond(_answered: &Answered, quarter: Period, _language: Language) -> Response {
    refused(
        StatusCode::NOT_IMPLEMENTED,
        &format!("the page of {quarter} is not served yet: read /notes/{quarter}.csv"),
    )
}
