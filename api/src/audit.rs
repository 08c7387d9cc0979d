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
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, Set, Statement};

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
///
/// The version moved is that of the write's stream ([`stream`]), so that writes of different streams (two months'
/// reports, a report and a key revocation) do not wait on one row until they commit.
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
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "INSERT INTO data_stream (stream, version) VALUES ($1, 1) \
         ON CONFLICT (stream) DO UPDATE SET version = data_stream.version + 1",
        [stream(target_kind, target_code).into()],
    ))
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

/// The stream of versions a write on `target_kind` / `target_code` moves: the kind, with the period when the code ends
/// with one (`ASSOC/2020-06` gives `submission/2020-06`), so that each month's reports and each quarter's statements
/// have a row of their own. Streams are as many as kinds times periods, so the version's sum stays a small read.
pub fn stream(target_kind: &str, target_code: &str) -> String {
    match target_code.rsplit_once('/') {
        Some((_, period)) => format!("{target_kind}/{period}"),
        None => target_kind.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::stream;

    #[test]
    fn a_period_gives_its_own_stream_and_other_writes_share_their_kind() {
        assert_eq!(stream("submission", "AMOS/2020-06"), "submission/2020-06");
        assert_eq!(
            stream("statement_submission", "AMOS/2020-Q4"),
            "statement_submission/2020-Q4"
        );
        assert_eq!(stream("api_key", "ab12cd34"), "api_key");
        assert_ne!(
            stream("submission", "AMOS/2020-06"),
            stream("submission", "AMOS/2020-07")
        );
    }
}
