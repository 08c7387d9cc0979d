//! One event to deliver to one webhook, retried until delivered or given up.
use crate::enums::DeliveryStatus;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_delivery")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub webhook_id: i32,
    pub event_id: i64,
    /// `FAILED`: given up after the last attempt.
    pub status: DeliveryStatus,
    pub attempts: i32,
    /// When the next attempt is due (while one is under way: when it is given up as lost).
    pub next_attempt_at: DateTimeUtc,
    pub delivered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
