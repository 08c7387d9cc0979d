//! The audit trail: who did what, when, to what. Every write and every key
//! management action is recorded inside the transaction that makes it.

use crate::scope::Scope;
use chrono::Utc;
use entity::audit_event;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, Set};

/// Records one action of `actor` on `target_kind` / `target_code`.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    actor: &Scope,
    action: &str,
    target_kind: &str,
    target_code: &str,
    detail: serde_json::Value,
) -> Result<(), DbErr> {
    audit_event::ActiveModel {
        occurred_at: Set(Utc::now()),
        actor_partner_id: Set(actor.partner_id),
        actor_key_prefix: Set(actor.key_prefix.clone()),
        action: Set(action.to_owned()),
        target_kind: Set(target_kind.to_owned()),
        target_code: Set(target_code.to_owned()),
        detail: Set(detail.to_string()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|_| ())
}
