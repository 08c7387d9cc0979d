//! Submissions: validating a report and accepting it in one transaction, and reading submissions back. Plain
//! functions: a connection and a scope in, models out; no GraphQL or HTTP here.

use super::table::RawReport;
use super::validate::{self, Context, Figures, Totals, ValidationReport};
use crate::error::{ApiError, ApiResult};
use crate::pagination::{Page, PageArgs};
use crate::period::Month;
use crate::reporting::visible_association;
use crate::scope::Scope;
use crate::store::{self, Keyed};
use chrono::{Datelike, Utc};
use entity::enums::SubmissionStatus;
use entity::submission::{self, Entity, Model};
use entity::{association, branch, client_stat, loan_stat, region, staff_stat};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect, Set, Statement,
};
use sha2::{Digest, Sha256};

impl Keyed for Entity {
    fn key(model: &Model) -> i64 {
        model.id
    }
}

/// How many times an acceptance that lost a race for its revision number is retried.
const ATTEMPTS: usize = 20;

/// A report to accept.
#[derive(Debug, Clone)]
pub struct NewReport {
    /// The association's code.
    pub association: String,
    pub month: Month,
    pub tables: RawReport,
    /// The payload exactly as received (CSV texts or JSON rows, as a JSON document), kept with its hash.
    pub payload: String,
    pub idempotency_key: Option<String>,
}

/// SHA-256 of a payload, hex.
pub fn content_hash(payload: &str) -> String {
    Sha256::digest(payload.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What validation needs from the database for one association and month (and the branch codes the report names).
pub async fn context<C: ConnectionTrait>(
    db: &C,
    association_id: i32,
    month: Month,
    branch_codes: Vec<String>,
) -> ApiResult<Context> {
    let today = Utc::now().date_naive();
    let regions = region::Entity::find().all(db).await?;
    #[derive(FromQueryResult)]
    struct Code {
        code: String,
    }
    let mut foreign_branches = std::collections::HashSet::new();
    for chunk in branch_codes.chunks(1_000) {
        let found = branch::Entity::find()
            .select_only()
            .column(branch::Column::Code)
            .filter(branch::Column::AssociationId.ne(association_id))
            .filter(branch::Column::Code.is_in(chunk.iter().cloned()))
            .into_model::<Code>()
            .all(db)
            .await?;
        foreign_branches.extend(found.into_iter().map(|b| b.code));
    }
    let previous = month.shift(-1).0;
    #[derive(FromQueryResult)]
    struct Sum {
        total: Option<i64>,
    }
    let sum = |sql: String| async move {
        Sum::find_by_statement(Statement::from_string(db.get_database_backend(), sql))
            .one(db)
            .await
            .map(|s| s.and_then(|s| s.total))
    };
    let clients = sum(format!(
        "SELECT CAST(SUM(active_clients) AS BIGINT) AS total FROM client_stat WHERE association_id = {association_id} \
         AND period = {previous}"
    ))
    .await?;
    let loans = sum(format!(
        "SELECT CAST(SUM(active_loans) AS BIGINT) AS total FROM loan_stat WHERE association_id = {association_id} \
         AND period = {previous}"
    ))
    .await?;
    let outstanding = sum(format!(
        "SELECT CAST(SUM(outstanding_amount) AS BIGINT) AS total FROM loan_stat WHERE association_id = \
         {association_id} AND period = {previous}"
    ))
    .await?;
    let previous = (clients.is_some() || loans.is_some()).then(|| Totals {
        active_clients: clients.unwrap_or(0),
        active_loans: loans.unwrap_or(0),
        outstanding_amount: outstanding.unwrap_or(0),
    });
    Ok(Context {
        month,
        current: Month(today.year() * 100 + today.month() as i32),
        regions: regions.into_iter().map(|r| (r.code, r.id)).collect(),
        foreign_branches,
        previous,
    })
}

/// The message of a rejected report.
fn rejection(report: &ValidationReport) -> ApiError {
    let count = report.error_count;
    let message = if report.truncated {
        format!(
            "the report was rejected with {count} problems; nothing was stored: `extensions.report.errors` lists the \
             first {} (every rule at least once) and `extensions.report.errorsByRule` counts them all; fix them and \
             send the whole month again",
            report.errors.len()
        )
    } else {
        format!(
            "the report was rejected with {count} problem{}; nothing was stored: see `extensions.report.errors`, fix \
             every line listed and send the whole month again",
            if count == 1 { "" } else { "s" }
        )
    };
    ApiError::Rejected {
        message,
        report: serde_json::to_value(report).unwrap_or_default(),
    }
}

/// Validates a report and, when it has no error, accepts it as the association-month's next revision, all in one
/// transaction: the previous accepted revision is superseded, the month's client, loan and staff rows of the
/// association are replaced, the month's rollups refreshed, the audit event and the payload with its hash stored.
/// A rejected report stores nothing. A replay with the same `Idempotency-Key` and content returns the first
/// submission; with other content, `CONFLICT`.
pub async fn submit(db: &DatabaseConnection, actor: &Scope, report: NewReport) -> ApiResult<Model> {
    let owner =
        store::by_code::<association::Entity, _>(db, association::Column::Code, "association", &report.association)
            .await?;
    let on_behalf = actor.may_report_for(owner.id)?;
    if report.month < crate::period::FIRST_REPORTABLE {
        return Err(ApiError::bad_input(format!(
            "{} cannot be reported: reports are for the months from {} to the last month that has ended",
            report.month,
            crate::period::FIRST_REPORTABLE
        )));
    }
    if let Some(key) = &report.idempotency_key
        && (key.is_empty() || key.len() > 128)
    {
        return Err(ApiError::bad_input("an Idempotency-Key has 1 to 128 characters"));
    }
    let hash = content_hash(&report.payload);
    if let Some(first) = replay(db, owner.id, report.idempotency_key.as_deref(), &hash).await? {
        return Ok(first);
    }
    let context = context(db, owner.id, report.month, branch_codes(&report.tables)).await?;
    let (figures, validation) = validate::validate(&report.tables, &context);
    let Some(figures) = figures else {
        return Err(rejection(&validation));
    };
    let warnings = serde_json::to_string(&validation).unwrap_or_default();
    // Waits here, holding no connection, rather than in the database holding one.
    let _place = accepting(db.get_database_backend()).acquire().await;
    for _ in 0..ATTEMPTS {
        match accept(db, actor, &owner, &report, &figures, &hash, &warnings, on_behalf).await {
            Ok(outcome) => return outcome,
            Err(error) if is_unique_violation(&error) => continue,
            Err(error) => return Err(error.into()),
        }
    }
    Err(ApiError::Conflict(format!(
        "{} {} is being revised by other reports at this moment; send it again",
        owner.code, report.month
    )))
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

/// The branch codes a report names, without repeats.
fn branch_codes(tables: &RawReport) -> Vec<String> {
    let Some(branches) = tables.get(&super::table::Table::Branches) else {
        return Vec::new();
    };
    let Some(column) = branches.columns.iter().position(|c| c.eq_ignore_ascii_case("code")) else {
        return Vec::new();
    };
    let mut codes: Vec<String> = branches
        .rows
        .iter()
        .filter_map(|(_, cells)| cells.get(column).cloned().flatten())
        .filter(|c| !c.is_empty())
        .collect();
    codes.sort();
    codes.dedup();
    codes
}

fn is_unique_violation(error: &DbErr) -> bool {
    matches!(error.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_)))
}

/// The first submission sent with this key, when there is one and its content is the same; `CONFLICT` when the
/// content differs.
async fn replay<C: ConnectionTrait>(
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

/// One attempt at accepting a valid report, in a transaction of its own. A unique violation (a racing report took
/// the revision number or the idempotency key) comes back as the database error, for the caller to retry.
#[allow(clippy::too_many_arguments)]
async fn accept(
    db: &DatabaseConnection,
    actor: &Scope,
    owner: &association::Model,
    report: &NewReport,
    figures: &Figures,
    hash: &str,
    validation: &str,
    on_behalf: bool,
) -> Result<ApiResult<Model>, DbErr> {
    let txn = crate::db::begin_write(db).await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        // Reports of one month queue here. Every acceptance of a month moves the same regional rollup cells (at
        // most 144 a table), in two rounds (`rollup::withdraw`, then `rollup::contribute`): unqueued, two of them
        // would wait on each other's rows anyway and could deadlock, taking those rows in different orders. Other
        // months proceed in parallel. A database lock, so it holds across processes; released at commit or rollback.
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock(8, {})", report.month.0))
            .await?;
    }
    let accepted = Acceptance {
        actor,
        owner,
        report,
        figures,
        hash,
        validation,
        on_behalf,
        received_at: Utc::now(),
    }
    .apply(&txn)
    .await?;
    if accepted.is_ok() {
        txn.commit().await?;
    }
    Ok(accepted)
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
    pub async fn apply<C: ConnectionTrait>(&self, txn: &C) -> Result<ApiResult<Model>, DbErr> {
        let (owner, report, figures, hash) = (self.owner, self.report, self.figures, self.hash);
        let month = report.month.0;
        match replay(txn, owner.id, report.idempotency_key.as_deref(), hash).await {
            Ok(Some(first)) => return Ok(Ok(first)),
            Ok(None) => {}
            Err(ApiError::Database(e)) => return Err(e),
            Err(other) => return Ok(Err(other)),
        }
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
        let previous = Entity::find()
            .filter(submission::Column::AssociationId.eq(owner.id))
            .filter(submission::Column::Period.eq(month))
            .filter(submission::Column::Status.eq(SubmissionStatus::Accepted))
            .one(txn)
            .await?;
        let model = submission::ActiveModel {
            association_id: Set(owner.id),
            period: Set(month),
            revision: Set(last + 1),
            status: Set(SubmissionStatus::Accepted),
            content_hash: Set(hash.to_owned()),
            submitted_by: Set(self.actor.partner_id),
            received_at: Set(self.received_at),
            validation_report: Set(self.validation.to_owned()),
            payload: Set(report.payload.clone()),
            idempotency_key: Set(report.idempotency_key.clone()),
            on_behalf: Set(self.on_behalf),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        if let Some(previous) = &previous {
            Entity::update_many()
                .col_expr(
                    submission::Column::Status,
                    Expr::value(SubmissionStatus::Superseded.as_str()),
                )
                .filter(submission::Column::Id.eq(previous.id))
                .exec(txn)
                .await?;
        }
        keep_revision(txn, owner.id, month, previous.as_ref().map_or(0, |p| p.id)).await?;
        crate::rollup::withdraw(txn, owner.id, month).await?;
        replace_figures(txn, owner.id, month, figures).await?;
        crate::rollup::contribute(txn, owner.id, month).await?;
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
        let warnings = serde_json::from_str::<ValidationReport>(self.validation)
            .map(|r| r.warnings.len())
            .unwrap_or(0);
        crate::audit::record(
            txn,
            self.actor,
            "submission.accept",
            "submission",
            &format!("{}/{}", owner.code, Month(month)),
            serde_json::json!({
                "submission": model.id,
                "revision": model.revision,
                "on_behalf": self.on_behalf,
                "content_hash": hash,
                "warnings": warnings,
                "cells": { "clients": figures.clients.len(), "loans": figures.loans.len(), "staff": figures.staff.len() },
            }),
        )
        .await?;
        Ok(Ok(model))
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
    for (facts, revisions, ..) in crate::vintage::VERSIONED {
        let columns = crate::vintage::columns(facts).join(", ");
        db.execute_unprepared(&format!(
            "INSERT INTO {revisions} (id, submission_id, {columns}) SELECT id, {submission_id}, {columns} FROM \
             {facts} WHERE association_id = {association_id} AND period = {month}"
        ))
        .await?;
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
    client_stat::Entity::delete_many()
        .filter(client_stat::Column::AssociationId.eq(association_id))
        .filter(client_stat::Column::Period.eq(month))
        .exec(db)
        .await?;
    loan_stat::Entity::delete_many()
        .filter(loan_stat::Column::AssociationId.eq(association_id))
        .filter(loan_stat::Column::Period.eq(month))
        .exec(db)
        .await?;
    staff_stat::Entity::delete_many()
        .filter(staff_stat::Column::AssociationId.eq(association_id))
        .filter(staff_stat::Column::Period.eq(month))
        .exec(db)
        .await?;
    if !figures.clients.is_empty() {
        client_stat::Entity::insert_many(figures.clients.iter().map(|c| client_stat::ActiveModel {
            association_id: Set(association_id),
            region_id: Set(c.region_id),
            period: Set(month),
            segment: Set(c.segment),
            gender: Set(c.gender),
            area: Set(c.area),
            active_clients: Set(c.active_clients),
            new_clients: Set(c.new_clients),
            ..Default::default()
        }))
        .exec(db)
        .await?;
    }
    if !figures.loans.is_empty() {
        loan_stat::Entity::insert_many(figures.loans.iter().map(|l| {
            let v = l.values;
            loan_stat::ActiveModel {
                association_id: Set(association_id),
                region_id: Set(l.region_id),
                period: Set(month),
                segment: Set(l.segment),
                gender: Set(l.gender),
                area: Set(l.area),
                disbursed_count: Set(v[0]),
                disbursed_amount: Set(v[1]),
                active_loans: Set(v[2]),
                outstanding_amount: Set(v[3]),
                par30_amount: Set(v[4]),
                par90_amount: Set(v[5]),
                write_off_amount: Set(v[6]),
                rescheduled_amount: Set(v[7]),
                repayments_due: Set(v[8]),
                repayments_collected: Set(v[9]),
                ..Default::default()
            }
        }))
        .exec(db)
        .await?;
    }
    if !figures.staff.is_empty() {
        staff_stat::Entity::insert_many(figures.staff.iter().map(|s| staff_stat::ActiveModel {
            association_id: Set(association_id),
            period: Set(month),
            category: Set(s.category),
            gender: Set(s.gender),
            headcount: Set(s.headcount),
            ..Default::default()
        }))
        .exec(db)
        .await?;
    }
    Ok(())
}

/// Which submissions to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Association codes.
    pub associations: Option<Vec<String>>,
    pub months: Option<std::ops::RangeInclusive<Month>>,
    pub statuses: Option<Vec<SubmissionStatus>>,
}

/// Submissions the caller may see, in the order they were received.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    filter: &Filter,
    page: &PageArgs,
    with_total: bool,
) -> ApiResult<Page<Model>> {
    let own = visible_association(scope)?;
    let mut select = Entity::find();
    if let Some(own) = own {
        select = select.filter(submission::Column::AssociationId.eq(own));
    }
    if let Some(codes) = &filter.associations {
        let ids = store::ids_for_codes::<association::Entity, _>(
            db,
            association::Column::Code,
            association::Column::Id,
            "association",
            codes,
        )
        .await?;
        select = select.filter(submission::Column::AssociationId.is_in(ids));
    }
    if let Some(months) = &filter.months {
        select = select.filter(submission::Column::Period.between(months.start().0, months.end().0));
    }
    if let Some(statuses) = &filter.statuses {
        select = select.filter(submission::Column::Status.is_in(statuses.iter().copied()));
    }
    store::page(db, select, page, with_total).await
}

/// One submission, if the caller may see it.
pub async fn get<C: ConnectionTrait>(db: &C, scope: &Scope, id: i64) -> ApiResult<Model> {
    let own = visible_association(scope)?;
    Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|m| own.is_none_or(|own| own == m.association_id))
        .ok_or_else(|| ApiError::NotFound(format!("no submission {id} is visible to this caller")))
}

/// The latest submissions first, for a month's overview.
pub async fn of_month<C: ConnectionTrait>(db: &C, association_id: i32, month: Month) -> ApiResult<Vec<Model>> {
    Ok(Entity::find()
        .filter(submission::Column::AssociationId.eq(association_id))
        .filter(submission::Column::Period.eq(month.0))
        .order_by_desc(submission::Column::Revision)
        .all(db)
        .await?)
}
