//! An alert raised or resolved: the outbox that subscriptions and webhooks read.
use crate::enums::AlertEventKind;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "alert_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The event's identifier for receivers (deduplication).
    #[sea_orm(unique)]
    pub uid: String,
    pub alert_id: i64,
    pub kind: AlertEventKind,
    pub occurred_at: DateTimeUtc,
    /// The JSON body delivered to webhooks.
    pub payload: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
