//! The acceptance of a valid report, in one write transaction: a replay answered with the first submission, the
//! submission recorded as the month's next revision (the previous one superseded), the association-month's figures
//! replaced (the old ones kept in the revision tables, the rollups withdrawn and contributed), the alert rules
//! judged, the audit event recorded. The commit (through `db::Write`) wakes the outbox readers. Below GraphQL:
//! called by `store::submit` after validation, and by the demo loader.

use super::table::NewReport;
use super::validate::{Figures, ValidationReport};
use crate::error::{ApiError, ApiResult};
use crate::period::Month;
use crate::scope::Scope;
use chrono::Utc;
use entity::association;
use entity::enums::SubmissionStatus;
use entity::submission::{self, Entity, Model};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, QuerySelect, Set, Statement,
};

/// How many times an acceptance that lost a race for its revision number is retried.
const ATTEMPTS: usize = 20;

/// Accepts a valid report as its association-month's next revision, in a transaction of its own: retried when a
/// racing report took the revision number or the idempotency key, `CONFLICT` after 20 attempts.
pub async fn accept(db: &DatabaseConnection, acceptance: Acceptance<'_>) -> ApiResult<Model> {
    // Waits here, holding no connection, rather than in the database holding one.
    let _place = accepting(db.get_database_backend()).acquire().await;
    for _ in 0..ATTEMPTS {
        match attempt(db, &acceptance).await {
            Err(ApiError::Database(error)) if is_unique_violation(&error) => continue,
            outcome => return outcome,
        }
    }
    Err(ApiError::Conflict(format!(
        "{} {} is being revised by other reports at this moment; send it again",
        acceptance.owner.code, acceptance.report.month
    )))
}

/// One attempt at accepting a valid report, in a transaction of its own (rolled back on any error). A unique
/// violation (a racing report took the revision number or the idempotency key) comes back as the database error,
/// for the caller to retry.
async fn attempt(db: &DatabaseConnection, acceptance: &Acceptance<'_>) -> ApiResult<Model> {
    let txn = crate::db::begin_write(db).await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        // Reports of one month queue here. Every acceptance of a month moves the same regional rollup cells (at
        // most 144 a table), in two rounds (`rollup::withdraw`, then `rollup::contribute`): unqueued, two of them
        // would wait on each other's rows anyway and could deadlock, taking those rows in different orders. Other
        // months proceed in parallel. A database lock, so it holds across processes; released at commit or rollback.
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(8, $1)",
            [acceptance.report.month.0.into()],
        ))
        .await?;
    }
    let accepted = acceptance.apply(&txn).await?;
    txn.commit().await?;
    Ok(accepted)
}

/// The acceptance transactions this process runs at once (the rest wait their turn in the process): one on SQLite,
/// which has a single writer anyway; a few on PostgreSQL, where acceptances of one month queue on the month's lock.
/// A burst of reports (a thousand associations sending the same month) then holds at most this many pool
/// connections, waiting on a database lock, so reads keep their connections and no waiting report gives up on the
/// pool. Correctness does not depend on it: the database's transaction and lock order acceptances across processes.
fn accepting(backend: DbBackend) -> &'static tokio::sync::Semaphore {
    static SQLITE: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);
    static SERVER: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);
    match backend {
        DbBackend::Sqlite => &SQLITE,
        _ => &SERVER,
    }
}

fn is_unique_violation(error: &DbErr) -> bool {
    matches!(error.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_)))
}

/// The first submission sent with this key, when there is one and its content is the same; `CONFLICT` when the
/// content differs.
pub(super) async fn replay<C: ConnectionTrait>(
    db: &C,
    association_id: i32,
    key: Option<&str>,
    hash: &str,
) -> ApiResult<Option<Model>> {
    let Some(key) = key else { return Ok(None) };
    let Some(first) = Entity::find()
        .filter(submission::Column::AssociationId.eq(association_id))
        .filter(submission::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if first.content_hash == hash {
        Ok(Some(first))
    } else {
        Err(ApiError::Conflict(format!(
            "the Idempotency-Key `{key}` was used for another report (revision {} of {}): use a new key for new \
             content",
            first.revision,
            Month(first.period)
        )))
    }
}

/// A valid report to record as its association-month's next revision.
pub struct Acceptance<'a> {
    pub actor: &'a Scope,
    pub owner: &'a association::Model,
    pub report: &'a NewReport,
    pub figures: &'a Figures,
    /// SHA-256 of the payload.
    pub hash: &'a str,
    /// The validation report (its warnings), as JSON.
    pub validation: &'a str,
    pub on_behalf: bool,
    pub received_at: chrono::DateTime<Utc>,
}

impl Acceptance<'_> {
    /// Records the report inside the caller's transaction: next revision number, the previous accepted revision
    /// superseded (its figures moved to the revision tables), the association-month's client, loan and staff rows
    /// replaced, the rollups updated, the audit event and the payload with its hash stored. A replay of the same
    /// `Idempotency-Key` answers the first submission and writes nothing.
    pub async fn apply<C: ConnectionTrait>(&self, txn: &C) -> ApiResult<Model> {
        let (owner, report) = (self.owner, self.report);
        if let Some(first) = replay(txn, owner.id, report.idempotency_key.as_deref(), self.hash).await? {
            return Ok(first);
        }
        let previous = self.previous(txn).await?;
        let model = self.record(txn, previous.as_ref()).await?;
        self.replace(txn, previous.as_ref()).await?;
        crate::alert::rules::evaluate(
            txn,
            crate::alert::rules::Trigger::Report {
                association: owner.id,
                month: report.month,
                first: previous.is_none(),
            },
            self.received_at,
        )
        .await?;
        self.audit(txn, &model).await?;
        Ok(model)
    }

    /// The association-month's accepted submission, before this one.
    async fn previous<C: ConnectionTrait>(&self, txn: &C) -> Result<Option<Model>, DbErr> {
        Entity::find()
            .filter(submission::Column::AssociationId.eq(self.owner.id))
            .filter(submission::Column::Period.eq(self.report.month.0))
            .filter(submission::Column::Status.eq(SubmissionStatus::Accepted))
            .one(txn)
            .await
    }

    /// The submission recorded as the month's next revision, and the previous accepted one superseded.
    async fn record<C: ConnectionTrait>(&self, txn: &C, previous: Option<&Model>) -> Result<Model, DbErr> {
        let (owner, month) = (self.owner, self.report.month.0);
        #[derive(FromQueryResult)]
        struct Last {
            revision: Option<i32>,
        }
        let last = Entity::find()
            .select_only()
            .column_as(submission::Column::Revision.max(), "revision")
            .filter(submission::Column::AssociationId.eq(owner.id))
            .filter(submission::Column::Period.eq(month))
            .into_model::<Last>()
            .one(txn)
            .await?
            .and_then(|l| l.revision)
            .unwrap_or(0);
        let model = submission::ActiveModel {
            association_id: Set(owner.id),
            period: Set(month),
            revision: Set(last + 1),
            status: Set(SubmissionStatus::Accepted),
            content_hash: Set(self.hash.to_owned()),
            submitted_by: Set(self.actor.partner_id),
            received_at: Set(self.received_at),
            validation_report: Set(self.validation.to_owned()),
            payload: Set(self.report.payload.clone()),
            idempotency_key: Set(self.report.idempotency_key.clone()),
            on_behalf: Set(self.on_behalf),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        if let Some(previous) = previous {
            Entity::update_many()
                .col_expr(
                    submission::Column::Status,
                    Expr::value(SubmissionStatus::Superseded.as_str()),
                )
                .filter(submission::Column::Id.eq(previous.id))
                .exec(txn)
                .await?;
        }
        Ok(model)
    }

    /// The association-month's figures replaced: the current ones kept in the revision tables (marked with the
    /// submission they came from), withdrawn from the rollups, replaced by the report's, which are then contributed.
    async fn replace<C: ConnectionTrait>(&self, txn: &C, previous: Option<&Model>) -> Result<(), DbErr> {
        let (owner, month) = (self.owner.id, self.report.month.0);
        keep_revision(txn, owner, month, previous.map_or(0, |p| p.id)).await?;
        crate::rollup::withdraw(txn, owner, month).await?;
        replace_figures(txn, owner, month, self.figures).await?;
        crate::rollup::contribute(txn, owner, month).await
    }

    /// The audit event of the acceptance.
    async fn audit<C: ConnectionTrait>(&self, txn: &C, model: &Model) -> Result<(), DbErr> {
        let figures = self.figures;
        let warnings = serde_json::from_str::<ValidationReport>(self.validation)
            .map(|r| r.warnings.len())
            .unwrap_or(0);
        crate::audit::record(
            txn,
            self.actor,
            "submission.accept",
            "submission",
            &format!("{}/{}", self.owner.code, self.report.month),
            serde_json::json!({
                "submission": model.id,
                "revision": model.revision,
                "on_behalf": self.on_behalf,
                "content_hash": self.hash,
                "warnings": warnings,
                "cells": {
                    "clients": figures.clients.len(),
                    "loans": figures.loans.len(),
                    "staff": figures.staff.len(),
                    "activities": figures.activities.len(),
                },
            }),
        )
        .await
    }
}

/// Copies the association-month's current client, loan and staff rows to the revision tables,
/// marked with the submission they came from (`0` for figures loaded without a submission), before a new revision
/// replaces them.
async fn keep_revision<C: ConnectionTrait>(
    db: &C,
    association_id: i32,
    month: i32,
    submission_id: i64,
) -> Result<(), DbErr> {
    for facts in crate::facts::ALL {
        facts.keep_revision(db, association_id, month, submission_id).await?;
    }
    Ok(())
}

/// Replaces the association-month's client, loan and staff rows with the report's.
async fn replace_figures<C: ConnectionTrait>(
    db: &C,
    association_id: i32,
    month: i32,
    figures: &Figures,
) -> Result<(), DbErr> {
    for facts in crate::facts::ALL {
        facts.delete_month(db, association_id, month).await?;
    }
    let (clients, loans, staff) = (&crate::facts::CLIENTS, &crate::facts::LOANS, &crate::facts::STAFF);
    clients
        .insert_month(db, association_id, month, figures.clients.iter().map(|c| c.row()))
        .await?;
    loans
        .insert_month(db, association_id, month, figures.loans.iter().map(|l| l.row()))
        .await?;
    staff
        .insert_month(db, association_id, month, figures.staff.iter().map(|s| s.row()))
        .await?;
    crate::facts::ACTIVITIES
        .insert_month(db, association_id, month, figures.activities.iter().map(|a| a.row()))
        .await
}
