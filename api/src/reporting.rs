//! What "reported" means, in one place: the deadline of a month's report, whether a submission was late, the first
//! month anyone reported, each expected association's reporting of a month (missing, on time, late) and the months
//! each association has an accepted report for. Read by submissions, releases, the alert judge and the engine's
//! coverage; below all of them.

use crate::error::{ApiError, ApiResult};
use crate::period::Month;
use crate::scope::{Role, Scope};
use chrono::Utc;
use entity::association;
use entity::enums::SubmissionStatus;
use entity::submission::{self, Entity, Model};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect};

/// Day of the following month by which a month's report is due (inclusive, UTC), unless `REPORT_DEADLINE_DAY`
/// (1 to 28) says otherwise.
pub const DEADLINE_DAY: u32 = 15;

/// The deadline day in force: `REPORT_DEADLINE_DAY` when it is a day from 1 to 28, else [`DEADLINE_DAY`]. Read once.
pub fn deadline_day() -> u32 {
    static DAY: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *DAY.get_or_init(|| {
        std::env::var("REPORT_DEADLINE_DAY")
            .ok()
            .and_then(|v| v.trim().parse::<u32>().ok())
            .filter(|d| (1..=28).contains(d))
            .unwrap_or(DEADLINE_DAY)
    })
}

/// The first month whose report must carry the loans by activity: the month the activities table came in, unless
/// `ACTIVITY_REQUIRED_FROM` (`YYYY-MM`) says otherwise. Before it the table may be left out.
pub const ACTIVITIES_REQUIRED_FROM: Month = Month(202612);

/// The first month whose report must carry the activities table in force: `ACTIVITY_REQUIRED_FROM` when it is a
/// month, else [`ACTIVITIES_REQUIRED_FROM`]. Read once.
pub fn activities_required_from() -> Month {
    static FROM: std::sync::OnceLock<Month> = std::sync::OnceLock::new();
    *FROM.get_or_init(|| {
        std::env::var("ACTIVITY_REQUIRED_FROM")
            .ok()
            .and_then(|v| crate::period::Period::parse(v.trim()).ok())
            .filter(|p| p.granularity == crate::period::Granularity::Month)
            .map(|p| p.first_month())
            .unwrap_or(ACTIVITIES_REQUIRED_FROM)
    })
}

/// The instant after which a month's report is late: the end of day [`deadline_day`] of the following month (UTC).
pub fn deadline(month: Month) -> chrono::DateTime<Utc> {
    let next = month.shift(1);
    chrono::NaiveDate::from_ymd_opt(next.year(), next.month(), deadline_day())
        .and_then(|d| d.succ_opt())
        .expect("valid deadline")
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
}

/// Days after a quarter's last day by which its financial statement is due (inclusive, UTC), unless
/// `STATEMENT_DEADLINE_DAYS` (1 to 365) says otherwise.
pub const STATEMENT_DEADLINE_DAYS: u32 = 45;

/// The statement deadline in force, in days after the quarter's end. Read once.
pub fn statement_deadline_days() -> u32 {
    static DAYS: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *DAYS.get_or_init(|| {
        std::env::var("STATEMENT_DEADLINE_DAYS")
            .ok()
            .and_then(|v| v.trim().parse::<u32>().ok())
            .filter(|d| (1..=365).contains(d))
            .unwrap_or(STATEMENT_DEADLINE_DAYS)
    })
}

/// The instant after which a quarter's statement is late: the end of the quarter's last day plus
/// [`statement_deadline_days`] (UTC). 2020-Q4 is due by 14 February 2021 inclusive.
pub fn statement_deadline(quarter: crate::period::Period) -> chrono::DateTime<Utc> {
    let last_day = quarter.last_month().last_day();
    (last_day + chrono::Days::new(u64::from(statement_deadline_days()) + 1))
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
}

/// The first month any association has an accepted report of: reporting starts there.
pub async fn first_reported_month<C: ConnectionTrait>(db: &C) -> ApiResult<Option<Month>> {
    let first: Option<Option<i32>> = Entity::find()
        .select_only()
        .column_as(submission::Column::Period.min(), "period")
        .filter(submission::Column::Status.eq(SubmissionStatus::Accepted))
        .into_tuple()
        .one(db)
        .await?;
    Ok(first.flatten().map(Month))
}

/// Whether a submission came after its month's deadline.
pub fn is_late(model: &Model) -> bool {
    model.received_at >= deadline(Month(model.period))
}

/// Whether an expected association reported a month, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeliness {
    Missing,
    OnTime,
    Late,
}

/// One expected association's reporting of a month.
#[derive(Debug, Clone)]
pub struct ReportingStatus {
    pub association: association::Model,
    pub timeliness: Timeliness,
    /// Accepted revisions (the current one and those it superseded).
    pub revisions: i64,
    /// When its first accepted revision arrived.
    pub first_received_at: Option<chrono::DateTime<Utc>>,
}

/// Each association expected to report `month` (every active one: closed and merged associations are not
/// expected), with `MISSING`, `ON_TIME` or `LATE` judged on its first accepted revision. The observatory sees every
/// association, an association itself only.
pub async fn reporting_status<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    month: Month,
) -> ApiResult<Vec<ReportingStatus>> {
    let own = visible_association(scope)?;
    let mut expected = association::Entity::find()
        .filter(association::Column::Status.eq(entity::enums::AssociationStatus::Active))
        .order_by_asc(association::Column::Code);
    if let Some(own) = own {
        expected = expected.filter(association::Column::Id.eq(own));
    }
    let expected = expected.all(db).await?;
    #[derive(FromQueryResult)]
    struct Received {
        association_id: i32,
        first: Option<chrono::DateTime<Utc>>,
        revisions: i64,
    }
    let received: std::collections::HashMap<i32, Received> = Entity::find()
        .select_only()
        .column(submission::Column::AssociationId)
        .column_as(submission::Column::ReceivedAt.min(), "first")
        .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "revisions")
        .filter(submission::Column::Period.eq(month.0))
        .filter(submission::Column::Status.is_in([SubmissionStatus::Accepted, SubmissionStatus::Superseded]))
        .group_by(submission::Column::AssociationId)
        .into_model::<Received>()
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.association_id, r))
        .collect();
    let due = deadline(month);
    Ok(expected
        .into_iter()
        .map(|association| {
            let got = received.get(&association.id);
            let first = got.and_then(|r| r.first);
            ReportingStatus {
                timeliness: match first {
                    None => Timeliness::Missing,
                    Some(at) if at < due => Timeliness::OnTime,
                    Some(_) => Timeliness::Late,
                },
                revisions: got.map(|r| r.revisions).unwrap_or(0),
                first_received_at: first,
                association,
            }
        })
        .collect())
}

/// Every association expected to report (active: closed and merged associations are not expected), with the months
/// of `months` it has an accepted report for. One statement, whatever the number of months and associations.
pub async fn accepted_months<C: ConnectionTrait>(
    db: &C,
    months: std::ops::RangeInclusive<Month>,
) -> ApiResult<std::collections::HashMap<i32, std::collections::BTreeSet<i32>>> {
    #[derive(FromQueryResult)]
    struct Reported {
        association_id: i32,
        period: Option<i32>,
    }
    // A left join with its conditions in the ON clause (associations without a report keep a row), which the query
    // builder would write only with a custom join condition: hand SQL, with bound values.
    let mut binder = crate::sql::Binder::new(db.get_database_backend());
    let sql = format!(
        "SELECT a.id AS association_id, s.period AS period FROM association a LEFT JOIN submission s ON \
         s.association_id = a.id AND s.status = {accepted} AND s.period BETWEEN {first} AND {last} WHERE a.status = \
         {active}",
        accepted = binder.bind(SubmissionStatus::Accepted.as_str()),
        first = binder.bind(months.start().0),
        last = binder.bind(months.end().0),
        active = binder.bind(entity::enums::AssociationStatus::Active.as_str()),
    );
    let mut reported: std::collections::HashMap<i32, std::collections::BTreeSet<i32>> =
        std::collections::HashMap::new();
    for row in Reported::find_by_statement(binder.statement(sql)).all(db).await? {
        let months = reported.entry(row.association_id).or_default();
        months.extend(row.period);
    }
    Ok(reported)
}

/// Refuses submissions to callers who may see none: an association sees its own, the observatory all.
pub fn visible_association(scope: &Scope) -> ApiResult<Option<i32>> {
    match (scope.role, scope.association_id) {
        (Role::Observatory, _) => Ok(None),
        (Role::Association, Some(own)) => Ok(Some(own)),
        (role, _) => Err(ApiError::Forbidden(format!(
            "submissions are shown to the association that sent them and to the observatory (this caller's role is \
             {})",
            role.name()
        ))),
    }
}
