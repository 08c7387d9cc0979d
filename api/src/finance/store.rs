//! Quarterly financial statements: validating one and accepting it as its association-quarter's next revision in one
//! transaction (the lines it replaces kept in `fin_stat_revision`, audited), reading statements and their lines
//! with the caller's access, and releasing a quarter. Plain functions: a connection and a scope in, models out.

use super::validate::{self, Context, Lines};
use crate::error::{ApiError, ApiResult, conflict_if_duplicate};
use crate::period::{Granularity, Month, Period};
use crate::scope::{RowAccess, Scope};
use crate::submission::table::RawTable;
use chrono::{Datelike, Utc};
use entity::association;
use entity::enums::SubmissionStatus;
use entity::statement_submission::{self, Entity, Model};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect, Set, Statement,
};
use std::collections::BTreeMap;

/// A statement as received, to validate and accept.
#[derive(Debug, Clone)]
pub struct NewStatement {
    /// The association's code.
    pub association: String,
    pub quarter: Period,
    /// The `statements` table, when sent.
    pub table: Option<RawTable>,
    /// The payload exactly as received, kept with its hash.
    pub payload: String,
    pub idempotency_key: Option<String>,
}

/// A quarter from its text (`2020-Q4`), or a message saying how to write one.
pub fn quarter(text: &str) -> ApiResult<Period> {
    match Period::parse(text) {
        Ok(period) if period.granularity == Granularity::Quarter => Ok(period),
        _ => Err(ApiError::bad_input(format!(
            "`{text}` is not a quarter: write it YYYY-Qn, for example 2020-Q4"
        ))),
    }
}

/// Sums of one association's monthly rows, for the statement's cross-checks.
async fn monthly<C: ConnectionTrait>(
    db: &C,
    association_id: i32,
    quarter: Period,
) -> ApiResult<(Option<i64>, Option<i64>)> {
    #[derive(FromQueryResult)]
    struct Sums {
        outstanding: Option<i64>,
        write_offs: Option<i64>,
        months: Option<i64>,
    }
    let (first, last) = (quarter.first_month().0, quarter.last_month().0);
    let backend = db.get_database_backend();
    let sums = Sums::find_by_statement(Statement::from_sql_and_values(
        backend,
        format!(
            "SELECT CAST(SUM(CASE WHEN period = $3 THEN outstanding_amount ELSE 0 END) AS BIGINT) AS outstanding, \
             CAST(SUM(write_off_amount) AS BIGINT) AS write_offs, COUNT(DISTINCT period) AS months, \
             CAST(SUM(CASE WHEN period = $3 THEN 1 ELSE 0 END) AS BIGINT) AS last_rows FROM {} \
             WHERE association_id = $1 AND period BETWEEN $2 AND $3",
            crate::facts::LOANS.table
        ),
        [association_id.into(), first.into(), last.into()],
    ))
    .one(db)
    .await?;
    let Some(sums) = sums else { return Ok((None, None)) };
    let months = sums.months.unwrap_or(0);
    let outstanding = (months > 0).then_some(sums.outstanding).flatten();
    let write_offs = (months == 3).then_some(sums.write_offs).flatten();
    Ok((outstanding, write_offs))
}

/// The accepted lines of one association-quarter, if any.
pub async fn lines_of<C: ConnectionTrait>(db: &C, association_id: i32, quarter: Period) -> ApiResult<Option<Lines>> {
    let rows = entity::fin_stat::Entity::find()
        .filter(entity::fin_stat::Column::AssociationId.eq(association_id))
        .filter(entity::fin_stat::Column::Period.eq(quarter.last_month().0))
        .all(db)
        .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        rows.into_iter()
            .filter_map(|r| super::chart::line_of(&r.line).map(|l| (l.code, r.value)))
            .collect(),
    ))
}

/// What validation needs from the database.
pub async fn context<C: ConnectionTrait>(db: &C, association_id: i32, quarter: Period) -> ApiResult<Context> {
    let today = Utc::now().date_naive();
    let previous = lines_of(db, association_id, quarter.shift(-1)).await?;
    let (outstanding, write_offs) = monthly(db, association_id, quarter).await?;
    Ok(Context {
        quarter,
        current: Month(today.year() * 100 + today.month() as i32),
        previous,
        outstanding,
        write_offs,
    })
}

/// Validates a statement and, when it has no error, accepts it as the association-quarter's next revision, in one
/// transaction: the previous accepted revision superseded and its lines kept in `fin_stat_revision`, the quarter's
/// lines replaced, the audit event and the payload with its hash stored. A rejected statement stores nothing. A
/// replay with the same `Idempotency-Key` and content returns the first submission; with other content, `CONFLICT`.
pub async fn submit(db: &DatabaseConnection, actor: &Scope, statement: NewStatement) -> ApiResult<Model> {
    let owner = crate::store::by_code::<association::Entity, _>(
        db,
        association::Column::Code,
        "association",
        &statement.association,
    )
    .await?;
    let on_behalf = actor.may_report_for(owner.id)?;
    if statement.quarter.first_month() < crate::period::FIRST_REPORTABLE {
        return Err(ApiError::bad_input(format!(
            "{} cannot be reported: statements are for the quarters from {} on",
            statement.quarter,
            crate::period::FIRST_REPORTABLE
        )));
    }
    if let Some(key) = &statement.idempotency_key
        && (key.is_empty() || key.len() > 128)
    {
        return Err(ApiError::bad_input("an Idempotency-Key has 1 to 128 characters"));
    }
    let hash = crate::submission::store::content_hash(&statement.payload);
    if let Some(first) = replay(db, owner.id, statement.idempotency_key.as_deref(), &hash).await? {
        return Ok(first);
    }
    let context = context(db, owner.id, statement.quarter).await?;
    let (lines, report) = validate::validate(statement.table.as_ref(), &context);
    let Some(lines) = lines else {
        return Err(crate::submission::store::rejection(&report, "statement", "quarter"));
    };
    let acceptance = Acceptance {
        actor,
        owner: &owner,
        statement: &statement,
        lines: &lines,
        hash: &hash,
        validation: &serde_json::to_string(&report).unwrap_or_default(),
        on_behalf,
        received_at: Utc::now(),
    };
    for _ in 0..20 {
        let txn = crate::db::begin_write(db).await?;
        match acceptance.apply(&txn).await {
            Err(ApiError::Database(error)) if is_unique_violation(&error) => continue,
            Err(error) => return Err(error),
            Ok(model) => {
                txn.commit().await?;
                return Ok(model);
            }
        }
    }
    Err(ApiError::Conflict(format!(
        "{} {} is being revised by other statements at this moment; send it again",
        owner.code, statement.quarter
    )))
}

fn is_unique_violation(error: &DbErr) -> bool {
    matches!(error.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_)))
}

/// The first statement sent with this key, when its content is the same; `CONFLICT` when it differs.
async fn replay<C: ConnectionTrait>(
    db: &C,
    association_id: i32,
    key: Option<&str>,
    hash: &str,
) -> ApiResult<Option<Model>> {
    let Some(key) = key else { return Ok(None) };
    let Some(first) = Entity::find()
        .filter(statement_submission::Column::AssociationId.eq(association_id))
        .filter(statement_submission::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if first.content_hash == hash {
        Ok(Some(first))
    } else {
        Err(ApiError::Conflict(format!(
            "the Idempotency-Key `{key}` was used for another statement (revision {} of {}): use a new key for new \
             content",
            first.revision,
            Period::containing(Granularity::Quarter, Month(first.period))
        )))
    }
}

/// A valid statement to record as its association-quarter's next revision.
pub struct Acceptance<'a> {
    pub actor: &'a Scope,
    pub owner: &'a association::Model,
    pub statement: &'a NewStatement,
    pub lines: &'a Lines,
    pub hash: &'a str,
    /// The validation report (its warnings), as JSON.
    pub validation: &'a str,
    pub on_behalf: bool,
    pub received_at: chrono::DateTime<Utc>,
}

impl Acceptance<'_> {
    /// Records the statement inside the caller's transaction.
    pub async fn apply<C: ConnectionTrait>(&self, txn: &C) -> ApiResult<Model> {
        let (owner, period) = (self.owner, self.statement.quarter.last_month().0);
        if let Some(first) = replay(txn, owner.id, self.statement.idempotency_key.as_deref(), self.hash).await? {
            return Ok(first);
        }
        if txn.get_database_backend() == DbBackend::Postgres {
            // Statements of one association-quarter queue here, so that revision numbers follow one another.
            txn.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_advisory_xact_lock(9, $1)",
                [(owner.id * 1_000_000 + period).into()],
            ))
            .await?;
        }
        let previous = Entity::find()
            .filter(statement_submission::Column::AssociationId.eq(owner.id))
            .filter(statement_submission::Column::Period.eq(period))
            .filter(statement_submission::Column::Status.eq(SubmissionStatus::Accepted))
            .one(txn)
            .await?;
        #[derive(FromQueryResult)]
        struct Last {
            revision: Option<i32>,
        }
        let last = Entity::find()
            .select_only()
            .column_as(statement_submission::Column::Revision.max(), "revision")
            .filter(statement_submission::Column::AssociationId.eq(owner.id))
            .filter(statement_submission::Column::Period.eq(period))
            .into_model::<Last>()
            .one(txn)
            .await?
            .and_then(|l| l.revision)
            .unwrap_or(0);
        let model = statement_submission::ActiveModel {
            association_id: Set(owner.id),
            period: Set(period),
            revision: Set(last + 1),
            status: Set(SubmissionStatus::Accepted),
            content_hash: Set(self.hash.to_owned()),
            submitted_by: Set(self.actor.partner_id),
            received_at: Set(self.received_at),
            validation_report: Set(self.validation.to_owned()),
            payload: Set(self.statement.payload.clone()),
            idempotency_key: Set(self.statement.idempotency_key.clone()),
            on_behalf: Set(self.on_behalf),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        if let Some(previous) = &previous {
            Entity::update_many()
                .col_expr(
                    statement_submission::Column::Status,
                    Expr::value(SubmissionStatus::Superseded.as_str()),
                )
                .filter(statement_submission::Column::Id.eq(previous.id))
                .exec(txn)
                .await?;
        }
        let backend = txn.get_database_backend();
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            "INSERT INTO fin_stat_revision (submission_id, association_id, period, line, value) SELECT $1, \
             association_id, period, line, value FROM fin_stat WHERE association_id = $2 AND period = $3",
            [
                previous.as_ref().map_or(0, |p| p.id).into(),
                owner.id.into(),
                period.into(),
            ],
        ))
        .await?;
        entity::fin_stat::Entity::delete_many()
            .filter(entity::fin_stat::Column::AssociationId.eq(owner.id))
            .filter(entity::fin_stat::Column::Period.eq(period))
            .exec(txn)
            .await?;
        let rows: Vec<entity::fin_stat::ActiveModel> = self
            .lines
            .iter()
            .map(|(line, value)| entity::fin_stat::ActiveModel {
                association_id: Set(owner.id),
                period: Set(period),
                line: Set((*line).to_owned()),
                value: Set(*value),
            })
            .collect();
        entity::fin_stat::Entity::insert_many(rows).exec(txn).await?;
        crate::alert::rules::evaluate(
            txn,
            crate::alert::rules::Trigger::Statement {
                association: owner.id,
                quarter: self.statement.quarter,
            },
            self.received_at,
        )
        .await?;
        let warnings = serde_json::from_str::<crate::submission::validate::ValidationReport>(self.validation)
            .map(|r| r.warnings.len())
            .unwrap_or(0);
        crate::audit::record(
            txn,
            self.actor,
            "statement.accept",
            "statement_submission",
            &format!("{}/{}", owner.code, self.statement.quarter),
            serde_json::json!({
                "submission": model.id,
                "revision": model.revision,
                "on_behalf": self.on_behalf,
                "content_hash": self.hash,
                "warnings": warnings,
                "lines": self.lines.len(),
            }),
        )
        .await?;
        Ok(model)
    }
}

/// Whether a statement came after its quarter's deadline.
pub fn is_late(model: &Model) -> bool {
    model.received_at
        >= crate::reporting::statement_deadline(Period::containing(Granularity::Quarter, Month(model.period)))
}

/// The statements the caller may see, of one association or all, in a range of quarters, latest revision first.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    association: Option<i32>,
    quarters: std::ops::RangeInclusive<Period>,
) -> ApiResult<Vec<Model>> {
    let own = crate::reporting::visible_association(scope)?;
    let mut select = Entity::find().filter(
        statement_submission::Column::Period.between(quarters.start().last_month().0, quarters.end().last_month().0),
    );
    if let Some(own) = own {
        select = select.filter(statement_submission::Column::AssociationId.eq(own));
    }
    if let Some(association) = association {
        select = select.filter(statement_submission::Column::AssociationId.eq(association));
    }
    Ok(select
        .order_by_asc(statement_submission::Column::Period)
        .order_by_asc(statement_submission::Column::AssociationId)
        .order_by_desc(statement_submission::Column::Revision)
        .limit(5_000)
        .all(db)
        .await?)
}

/// The accepted lines of the association-quarters the caller may read: association → quarter (last month) → lines.
/// Partners read released quarters, an association its own, the observatory everything; the public none.
pub async fn lines<C: ConnectionTrait>(
    db: &C,
    access: RowAccess,
    associations: Option<&[i32]>,
    quarters: std::ops::RangeInclusive<i32>,
) -> ApiResult<BTreeMap<i32, BTreeMap<i32, Lines>>> {
    use entity::fin_stat::{Column, Entity as FinStat};
    let mut select = FinStat::find().filter(Column::Period.between(*quarters.start(), *quarters.end()));
    match access {
        RowAccess::All => {}
        RowAccess::Released => {
            let released: Vec<i32> = entity::quarter_release::Entity::find()
                .select_only()
                .column(entity::quarter_release::Column::Period)
                .into_tuple()
                .all(db)
                .await?;
            select = select.filter(Column::Period.is_in(released));
        }
        RowAccess::OwnOnly(own) => select = select.filter(Column::AssociationId.eq(own)),
        RowAccess::None => return Ok(BTreeMap::new()),
    }
    if let Some(ids) = associations {
        select = select.filter(Column::AssociationId.is_in(ids.iter().copied()));
    }
    let mut out: BTreeMap<i32, BTreeMap<i32, Lines>> = BTreeMap::new();
    for row in select.all(db).await? {
        if let Some(line) = super::chart::line_of(&row.line) {
            out.entry(row.association_id)
                .or_default()
                .entry(row.period)
                .or_default()
                .insert(line.code, row.value);
        }
    }
    Ok(out)
}

/// Releases a quarter's statements to partners: refused unless its three months are released and every expected
/// association has an accepted statement for it, or forced with a note (kept in the audit event with what was
/// missing). Audited; `CONFLICT` when released already.
pub async fn release(
    db: &DatabaseConnection,
    actor: &Scope,
    quarter: Period,
    note: String,
    force: bool,
) -> ApiResult<entity::quarter_release::Model> {
    if force && note.trim().is_empty() {
        return Err(ApiError::bad_input(
            "a forced release needs a note saying why the quarter is released without everything",
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    let period = quarter.last_month().0;
    let released_months: Vec<i32> = entity::release::Entity::find()
        .select_only()
        .column(entity::release::Column::Period)
        .filter(entity::release::Column::Period.between(quarter.first_month().0, period))
        .into_tuple()
        .all(&txn)
        .await?;
    let mut missing: Vec<String> = Vec::new();
    let mut month = quarter.first_month();
    while month <= quarter.last_month() {
        if !released_months.contains(&month.0) {
            missing.push(format!("month {month} not released"));
        }
        month = month.shift(1);
    }
    let with_statements: Vec<i32> = Entity::find()
        .select_only()
        .column(statement_submission::Column::AssociationId)
        .filter(statement_submission::Column::Period.eq(period))
        .filter(statement_submission::Column::Status.eq(SubmissionStatus::Accepted))
        .into_tuple()
        .all(&txn)
        .await?;
    let expected = association::Entity::find()
        .filter(association::Column::Status.eq(entity::enums::AssociationStatus::Active))
        .order_by_asc(association::Column::Code)
        .all(&txn)
        .await?;
    missing.extend(
        expected
            .iter()
            .filter(|a| !with_statements.contains(&a.id))
            .map(|a| format!("no statement from {}", a.code)),
    );
    if !missing.is_empty() && !force {
        return Err(ApiError::Conflict(format!(
            "{quarter} cannot be released: {}. Wait for them, or release it with `force: true` and a note saying why",
            missing.join("; ")
        )));
    }
    let model = entity::quarter_release::ActiveModel {
        period: Set(period),
        released_at: Set(Utc::now()),
        released_by: Set(actor.partner_id),
        note: Set(note),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(conflict_if_duplicate(|| format!("{quarter} is released already")))?;
    let memberships = super::peers::assign_quarter(&txn, quarter).await?;
    crate::alert::rules::evaluate(
        &txn,
        crate::alert::rules::Trigger::QuarterRelease { quarter },
        model.released_at,
    )
    .await?;
    crate::audit::record(
        &txn,
        actor,
        "quarter_release.create",
        "quarter_release",
        &quarter.to_string(),
        serde_json::json!({ "note": model.note, "forced": force, "missing": missing, "peer_memberships": memberships }),
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// Which statements a read takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// The current accepted statements.
    Now,
    /// Each association-quarter's statement as it stood at an instant (its last revision received by then).
    At(chrono::DateTime<Utc>),
    /// Each quarter as it stood at its own release (of the quarters released by the instant, or now).
    AsReleased(Option<chrono::DateTime<Utc>>),
}

/// The lines of the association-quarters the caller may read, as they stood (`standing`): association → quarter
/// (last month) → lines. Partners and the public read released quarters (released by the instant, for a read as of
/// one), an association its own, the observatory everything.
pub async fn standing_lines<C: ConnectionTrait>(
    db: &C,
    access: RowAccess,
    associations: Option<&[i32]>,
    quarters: std::ops::RangeInclusive<i32>,
    standing: Standing,
) -> ApiResult<BTreeMap<i32, BTreeMap<i32, Lines>>> {
    if standing == Standing::Now {
        return lines(db, access, associations, quarters).await;
    }
    if access == RowAccess::None {
        return Ok(BTreeMap::new());
    }
    let released: BTreeMap<i32, chrono::DateTime<Utc>> = entity::quarter_release::Entity::find()
        .filter(entity::quarter_release::Column::Period.between(*quarters.start(), *quarters.end()))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.period, r.released_at))
        .collect();
    let instant = match standing {
        Standing::At(at) | Standing::AsReleased(Some(at)) => Some(at),
        _ => None,
    };
    // The instant each quarter is read as of, and whether the caller may read it at all.
    let as_of = |period: i32| -> Option<Option<chrono::DateTime<Utc>>> {
        let release = released.get(&period).copied();
        let visible = match access {
            RowAccess::Released => release.is_some_and(|r| instant.is_none_or(|at| r <= at)),
            _ => true,
        };
        if !visible {
            return None;
        }
        Some(match standing {
            Standing::AsReleased(_) => release.or(instant),
            _ => instant,
        })
    };
    let mut select = Entity::find()
        .filter(statement_submission::Column::Period.between(*quarters.start(), *quarters.end()))
        .filter(statement_submission::Column::Status.is_in([SubmissionStatus::Accepted, SubmissionStatus::Superseded]));
    if let RowAccess::OwnOnly(own) = access {
        select = select.filter(statement_submission::Column::AssociationId.eq(own));
    }
    if let Some(ids) = associations {
        select = select.filter(statement_submission::Column::AssociationId.is_in(ids.iter().copied()));
    }
    // The standing submission of each association-quarter: its last revision received by the instant.
    let mut standing_of: BTreeMap<(i32, i32), Model> = BTreeMap::new();
    for model in select.all(db).await? {
        let Some(at) = as_of(model.period) else { continue };
        if at.is_some_and(|at| model.received_at > at) {
            continue;
        }
        let key = (model.association_id, model.period);
        if standing_of.get(&key).is_none_or(|s| s.revision < model.revision) {
            standing_of.insert(key, model);
        }
    }
    let mut out: BTreeMap<i32, BTreeMap<i32, Lines>> = BTreeMap::new();
    let mut put = |association: i32, period: i32, line: &str, value: i64| {
        if let Some(line) = super::chart::line_of(line) {
            out.entry(association)
                .or_default()
                .entry(period)
                .or_default()
                .insert(line.code, value);
        }
    };
    let current: Vec<(i32, i32)> = standing_of
        .iter()
        .filter(|(_, m)| m.status == SubmissionStatus::Accepted)
        .map(|(key, _)| *key)
        .collect();
    if !current.is_empty() {
        let current: std::collections::HashSet<(i32, i32)> = current.into_iter().collect();
        let rows = entity::fin_stat::Entity::find()
            .filter(entity::fin_stat::Column::Period.between(*quarters.start(), *quarters.end()))
            .all(db)
            .await?;
        for row in rows {
            if current.contains(&(row.association_id, row.period)) {
                put(row.association_id, row.period, &row.line, row.value);
            }
        }
    }
    let superseded: Vec<i64> = standing_of
        .values()
        .filter(|m| m.status == SubmissionStatus::Superseded)
        .map(|m| m.id)
        .collect();
    #[derive(FromQueryResult)]
    struct Kept {
        association_id: i32,
        period: i32,
        line: String,
        value: i64,
    }
    for chunk in superseded.chunks(500) {
        let mut binder = crate::sql::Binder::new(db.get_database_backend());
        let condition = binder.one_of("submission_id", chunk);
        let sql = format!("SELECT association_id, period, line, value FROM fin_stat_revision WHERE {condition}");
        for kept in Kept::find_by_statement(binder.statement(sql)).all(db).await? {
            put(kept.association_id, kept.period, &kept.line, kept.value);
        }
    }
    Ok(out)
}

/// The reference series by year: inflation and the market rate of funds (decimals).
pub async fn reference_series<C: ConnectionTrait>(
    db: &C,
) -> ApiResult<(std::collections::HashMap<i32, f64>, std::collections::HashMap<i32, f64>)> {
    let (mut inflation, mut market) = (std::collections::HashMap::new(), std::collections::HashMap::new());
    for row in entity::reference_series::Entity::find().all(db).await? {
        match row.code.as_str() {
            "INFLATION" => {
                inflation.insert(row.year, row.value);
            }
            "MARKET_RATE_FUNDS" => {
                market.insert(row.year, row.value);
            }
            _ => {}
        }
    }
    Ok((inflation, market))
}

/// How many associations have an accepted statement for the quarter.
pub async fn accepted_count<C: ConnectionTrait>(db: &C, quarter: Period) -> ApiResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(Entity::find()
        .filter(statement_submission::Column::Period.eq(quarter.last_month().0))
        .filter(statement_submission::Column::Status.eq(SubmissionStatus::Accepted))
        .count(db)
        .await?)
}
