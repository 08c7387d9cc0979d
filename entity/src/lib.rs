//! sea-orm entities of the microfinance observatory.
//!
//! This crate knows nothing of GraphQL or HTTP: the API crate builds its own
//! wire types from these models. Money is stored as integer MAD centimes and
//! months as `yyyymm` integers, so sums and comparisons are exact and fast on
//! SQLite and PostgreSQL alike.

pub mod enums;

pub mod activity_stat;
pub mod alert;
pub mod alert_event;
pub mod alert_rule;
pub mod api_key;
pub mod association;
pub mod audit_event;
pub mod branch;
pub mod client_stat;
pub mod fin_stat;
pub mod loan_stat;
pub mod partner;
pub mod programme;
pub mod programme_outcome;
pub mod quarter_release;
pub mod reference_series;
pub mod region;
pub mod release;
pub mod staff_stat;
pub mod statement_submission;
pub mod submission;
pub mod target;
pub mod training_action;
pub mod webhook;
pub mod webhook_attempt;
pub mod webhook_delivery;
