//! One received quarterly financial statement of an association, kept in full.
use crate::enums::SubmissionStatus;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "statement_submission")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub association_id: i32,
    /// The quarter, as its last month (`yyyymm`: 2020-Q4 is 202012).
    pub period: i32,
    pub revision: i32,
    pub status: SubmissionStatus,
    /// SHA-256 of the payload, hex.
    pub content_hash: String,
    pub submitted_by: Option<i32>,
    pub received_at: DateTimeUtc,
    /// JSON validation report.
    pub validation_report: String,
    /// The payload exactly as received.
    pub payload: String,
    /// The `Idempotency-Key` it was sent with, if any (unique per association).
    pub idempotency_key: Option<String>,
    /// Sent by the observatory on behalf of the association.
    pub on_behalf: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
