//! The audit trail: who did what, when, to what. Every write and every key
//! management action is recorded inside the transaction that makes it.
//!
//! The actor is the caller's scope (partner and key prefix; the command line
//! puts `cli:<operating-system user>` in the key prefix's place). Writes made
//! by a command-line command run inside [`from_command`], and every record
//! they write notes that command in its detail.

use crate::scope::Scope;
use chrono::Utc;
use entity::audit_event;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, Set};

tokio::task_local! {
    static COMMAND: String;
}

/// Runs `work` so that every audit record it writes notes `command` (the
/// command line that caused it, without secrets) in its detail.
pub async fn from_command<F: std::future::Future>(command: String, work: F) -> F::Output {
    COMMAND.scope(command, work).await
}

/// Records one action of `actor` on `target_kind` / `target_code`, and moves the data's version on (see
/// [`crate::http::cache`]): every write records an event, so no write leaves a reused answer standing.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    actor: &Scope,
    action: &str,
    target_kind: &str,
    target_code: &str,
    mut detail: serde_json::Value,
) -> Result<(), DbErr> {
    if let Ok(command) = COMMAND.try_with(Clone::clone) {
        match detail.as_object_mut() {
            Some(object) => {
                object.insert("command".into(), command.into());
            }
            None => detail = serde_json::json!({ "command": command, "detail": detail }),
        }
    }
    db.execute_unprepared("UPDATE data_version SET version = version + 1 WHERE id = 1")
        .await?;
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
