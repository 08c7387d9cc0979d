//! Webhooks: the URLs partners register, the signature of each delivery, and the worker that delivers the outbox
//! with retries.
//!
//! A delivery row is written in the transaction that raised or resolved the alert, so a committed event is never
//! lost: the worker (in every serving process) takes due deliveries by a conditional update (one process per
//! attempt), posts the event, and records the attempt. A failure is retried after 1, 2, 4, ... times the base delay,
//! up to the last attempt. A process that dies during an attempt leaves the delivery due again once the attempt's
//! time is up, so the event is delivered after a restart (at least once: receivers deduplicate by `webhook-id`).

use crate::enums::{AlertEventKind, DeliveryStatus as DeliveryStatusValue};
use crate::error::{ApiError, ApiResult};
use crate::pagination::{Node, Page, PageArgs, connection};
use crate::scalars::DateTime;
use crate::scope::{Role, Scope};
use crate::store::{self, Keyed};
use async_graphql::{ID, Object};
use base64::Engine;
use chrono::Utc;
use entity::enums::DeliveryStatus;
use entity::{alert_event, webhook, webhook_attempt, webhook_delivery};
use hmac::{Hmac, Mac};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

mod policy;
mod registry;
mod signing;
mod worker;

pub use policy::*;
pub use registry::*;
pub use signing::*;
pub use worker::*;

/// A URL that receives the alert events its partner may see.
pub struct Webhook(pub webhook::Model);

/// A URL that receives the alert events its partner may see.
#[Object]
impl Webhook {
    /// The webhook's identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Where events are posted.
    async fn url(&self) -> &str {
        &self.0.url
    }
    /// The kinds of event delivered.
    async fn events(&self) -> Vec<AlertEventKind> {
        self.0
            .events
            .split(',')
            .filter_map(|k| entity::enums::AlertEventKind::ALL.iter().find(|v| v.as_str() == k))
            .map(|k| (*k).into())
            .collect()
    }
    /// False once deleted: nothing more is delivered.
    async fn active(&self) -> bool {
        self.0.active
    }
    /// When it was registered.
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }
}

/// One event to deliver to one webhook, with every attempt.
pub struct WebhookDelivery(pub DeliveryView);

impl Node for WebhookDelivery {
    type Model = DeliveryView;
    const KIND: &'static str = "webhookDelivery";
    fn key(model: &DeliveryView) -> i64 {
        model.delivery.id
    }
}

connection!(
    WebhookDeliveryConnection,
    WebhookDeliveryEdge,
    WebhookDelivery,
    "A page of a webhook's deliveries, oldest first.",
    "A delivery in a page, with its cursor."
);

/// One event to deliver to one webhook, with every attempt.
#[Object]
impl WebhookDelivery {
    /// The event's identifier, sent as `webhook-id` (the same on every attempt: deduplicate by it).
    async fn event_id(&self) -> &str {
        &self.0.event.uid
    }
    /// What happened.
    async fn event_kind(&self) -> AlertEventKind {
        self.0.event.kind.into()
    }
    /// When the event happened.
    async fn occurred_at(&self) -> DateTime {
        DateTime(self.0.event.occurred_at)
    }
    /// The JSON body posted.
    async fn body(&self) -> &str {
        &self.0.event.payload
    }
    /// Where the delivery stands.
    async fn status(&self) -> DeliveryStatusValue {
        self.0.delivery.status.into()
    }
    /// Attempts made (or under way).
    async fn attempt_count(&self) -> i32 {
        self.0.delivery.attempts
    }
    /// When the next attempt is due, while pending.
    async fn next_attempt_at(&self) -> Option<DateTime> {
        (self.0.delivery.status == DeliveryStatus::Pending).then_some(DateTime(self.0.delivery.next_attempt_at))
    }
    /// When the receiver accepted it.
    async fn delivered_at(&self) -> Option<DateTime> {
        self.0.delivery.delivered_at.map(DateTime)
    }
    /// Every finished attempt, in order.
    async fn attempts(&self) -> Vec<WebhookAttempt> {
        self.0.attempts.iter().cloned().map(WebhookAttempt).collect()
    }
}

/// One attempt at a delivery.
pub struct WebhookAttempt(pub webhook_attempt::Model);

/// One attempt at a delivery.
#[Object]
impl WebhookAttempt {
    /// When it ended.
    async fn attempted_at(&self) -> DateTime {
        DateTime(self.0.attempted_at)
    }
    /// The receiver's HTTP status; null when no answer came.
    async fn status_code(&self) -> Option<i32> {
        self.0.status_code
    }
    /// Why no answer came (unreachable, timed out).
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    /// How long it took, in milliseconds.
    async fn duration_ms(&self) -> i32 {
        self.0.duration_ms
    }
}
