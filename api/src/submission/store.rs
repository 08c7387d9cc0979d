//! Submissions: validating a report and accepting it in one transaction, and reading submissions back. Plain
//! functions: a connection and a scope in, models out; no GraphQL or HTTP here.

use super::table::{NewReport, RawReport};
use super::validate::{self, Context, Totals, ValidationReport};
use crate::error::{ApiError, ApiResult};
use crate::pagination::{Page, PageArgs};
use crate::period::Month;
use crate::reporting::visible_association;
use crate::scope::Scope;
use crate::store::{self, Keyed};
use chrono::{Datelike, Utc};
use entity::enums::SubmissionStatus;
use entity::submission::{self, Entity, Model};
use entity::{association, branch, region};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect,
};
use sha2::{Digest, Sha256};

impl Keyed for Entity {
    fn key(model: &Model) -> i64 {
        model.id
    }
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
    // The association's total of one column of a fact table in the previous month.
    let sum = |table: &'static str, column: &'static str| async move {
        let select = Query::select()
            .expr_as(
                Expr::col(Alias::new(column)).sum().cast_as("BIGINT"),
                Alias::new("total"),
            )
            .from(Alias::new(table))
            .and_where(Expr::col(Alias::new("association_id")).eq(association_id))
            .and_where(Expr::col(Alias::new("period")).eq(previous))
            .to_owned();
        Sum::find_by_statement(db.get_database_backend().build(&select))
            .one(db)
            .await
            .map(|s| s.and_then(|s| s.total))
    };
    let (clients, loans) = (crate::facts::CLIENTS.table, crate::facts::LOANS.table);
    let clients = sum(clients, "active_clients").await?;
    let outstanding = sum(loans, "outstanding_amount").await?;
    let loans = sum(loans, "active_loans").await?;
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
        activities_required_from: crate::reporting::activities_required_from(),
    })
}

/// The message of a rejected report (`what`: report or statement; `period`: month or quarter).
pub(crate) fn rejection(report: &ValidationReport, what: &str, period: &str) -> ApiError {
    let count = report.error_count;
    let message = if report.truncated {
        format!(
            "the {what} was rejected with {count} problems; nothing was stored: `extensions.report.errors` lists the \
             first {} (every rule at least once) and `extensions.report.errorsByRule` counts them all; fix them and \
             send the whole {period} again",
            report.errors.len()
        )
    } else {
        format!(
            "the {what} was rejected with {count} problem{}; nothing was stored: see `extensions.report.errors`, fix \
             every line listed and send the whole {period} again",
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
    if let Some(first) = super::accept::replay(db, owner.id, report.idempotency_key.as_deref(), &hash).await? {
        return Ok(first);
    }
    let context = context(db, owner.id, report.month, branch_codes(&report.tables)).await?;
    let (figures, validation) = validate::validate(&report.tables, &context);
    let Some(figures) = figures else {
        return Err(rejection(&validation, "report", "month"));
    };
    let warnings = serde_json::to_string(&validation).unwrap_or_default();
    super::accept::accept(
        db,
        super::accept::Acceptance {
            actor,
            owner: &owner,
            report: &report,
            figures: &figures,
            hash: &hash,
            validation: &warnings,
            on_behalf,
            received_at: Utc::now(),
        },
    )
    .await
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
