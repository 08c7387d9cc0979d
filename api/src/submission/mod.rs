//! Monthly reports of the associations: the `submitReport` mutation, the `submissions` and `submission` queries.
//! `table` reads CSV files and JSON rows, `validate` checks them, `store` accepts and reads submissions.

pub mod accept;
pub mod store;
pub mod table;
pub mod validate;
pub mod xlsx;

use crate::context::{db, scope, wants_total};
use crate::error::ApiError;
use crate::pagination::{Node, PageArgs, connection};
use crate::period::{Granularity, Month};
use crate::scalars::{DateTime, Period};
use async_graphql::{
    Context, Enum, ID, InputObject, InputValueError, InputValueResult, Object, Result, Scalar, ScalarType, Value,
};
use entity::enums as db_enums;
use entity::submission;
use table::{RawReport, Table};
use validate::{Problem, ValidationReport};

/// State of a received monthly report.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "db_enums::SubmissionStatus")]
pub enum SubmissionStatus {
    /// Received, not yet checked.
    Received,
    /// Checked and accepted: its figures are the association-month's current ones.
    Accepted,
    /// Rejected by validation.
    Rejected,
    /// Accepted once, then replaced by a later revision (its figures stay in its payload).
    Superseded,
}

/// One row of a report table as a JSON object: column name (snake_case, as in the CSV header) to value (a string
/// or a number), for example `{"region": "MA-06", "segment": "INDIVIDUAL", "active_clients": 1250}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRow(pub serde_json::Map<String, serde_json::Value>);

/// One row of a report table as a JSON object: column name (snake_case, as in the CSV header) to value (a string
/// or a number), for example `{"region": "MA-06", "segment": "INDIVIDUAL", "active_clients": 1250}`.
#[Scalar(name = "ReportRow")]
impl ScalarType for ReportRow {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value.into_json() {
            Ok(serde_json::Value::Object(map)) => Ok(ReportRow(map)),
            _ => Err(InputValueError::custom(
                "a report row is an object of column name to value, for example {\"region\": \"MA-06\"}",
            )),
        }
    }

    fn to_value(&self) -> Value {
        Value::from_json(serde_json::Value::Object(self.0.clone())).unwrap_or(Value::Null)
    }
}

/// An association's report of one month, as JSON rows (the same columns as the CSV files).
#[derive(InputObject)]
pub struct ReportInput {
    /// Code of the reporting association.
    pub association: String,
    /// The reported month, for example `2021-01`.
    pub period: Period,
    /// Client figures: one row per region, segment, gender and area.
    pub clients: Vec<ReportRow>,
    /// Loan and portfolio figures: one row per region, segment, gender and area.
    pub loans: Vec<ReportRow>,
    /// Staff headcounts: one row per category and gender.
    pub staff: Vec<ReportRow>,
    /// Branches (optional).
    pub branches: Option<Vec<ReportRow>>,
    /// Loans by economic activity financed (optional): one row per region and activity, adding up region by region
    /// to the loans rows, column by column.
    pub activities: Option<Vec<ReportRow>>,
    /// Makes the request safe to retry: the same key with the same content returns the first answer again; with
    /// other content, `CONFLICT`.
    pub idempotency_key: Option<String>,
}

/// The month of a `Period` that must be a month.
pub fn month_of(period: Period) -> Result<Month, ApiError> {
    if period.0.granularity != Granularity::Month {
        return Err(ApiError::bad_input(format!(
            "reports are monthly: `{}` is not a month (write it YYYY-MM)",
            period.0
        )));
    }
    Ok(period.0.start)
}

impl ReportInput {
    /// The tables and the payload kept with the submission (the rows as sent, as a JSON document).
    fn into_report(self) -> Result<table::NewReport, ApiError> {
        let month = month_of(self.period)?;
        let mut tables = RawReport::new();
        let mut payload = serde_json::Map::new();
        let mut add = |table: Table, rows: Vec<ReportRow>| {
            let rows: Vec<_> = rows.into_iter().map(|r| r.0).collect();
            tables.insert(table, table::read_json(&rows));
            payload.insert(
                table.name().into(),
                serde_json::Value::Array(rows.into_iter().map(serde_json::Value::Object).collect()),
            );
        };
        add(Table::Clients, self.clients);
        add(Table::Loans, self.loans);
        add(Table::Staff, self.staff);
        if let Some(branches) = self.branches {
            add(Table::Branches, branches);
        }
        if let Some(activities) = self.activities {
            add(Table::Activities, activities);
        }
        Ok(table::NewReport {
            association: self.association,
            month,
            tables,
            payload: serde_json::json!({ "format": "json", "tables": payload }).to_string(),
            idempotency_key: self.idempotency_key,
        })
    }
}

/// A submission as JSON, as `POST /reports/...` and the command line answer it.
pub async fn view(db: &sea_orm::DatabaseConnection, model: &submission::Model) -> Result<serde_json::Value, ApiError> {
    use sea_orm::EntityTrait;
    let association = entity::association::Entity::find_by_id(model.association_id)
        .one(db)
        .await?
        .map(|a| a.code)
        .unwrap_or_default();
    let sent_by = match model.submitted_by {
        Some(id) => Some(crate::partner::store::partner_code(db, id).await?),
        None => None,
    };
    let report = ValidationReport::from_stored(&model.validation_report);
    Ok(serde_json::json!({
        "id": model.id.to_string(),
        "association": association,
        "period": Month(model.period).to_string(),
        "revision": model.revision,
        "status": model.status.as_str(),
        "receivedAt": model.received_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "deadline": crate::reporting::deadline(Month(model.period)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "late": crate::reporting::is_late(model),
        "sentBy": sent_by,
        "onBehalf": model.on_behalf,
        "contentHash": model.content_hash,
        "warnings": report.warnings,
    }))
}

/// A received monthly report of an association: one revision of an association-month.
pub struct Submission(pub submission::Model);

impl Node for Submission {
    type Model = submission::Model;
    const KIND: &'static str = "submission";
    fn key(model: &submission::Model) -> i64 {
        model.id
    }
}

connection!(
    SubmissionConnection,
    SubmissionEdge,
    Submission,
    "A page of submissions, in the order they were received.",
    "A submission in a page, with its cursor."
);

impl Submission {
    fn report(&self) -> ValidationReport {
        ValidationReport::from_stored(&self.0.validation_report)
    }
}

/// A received monthly report of an association: one revision of an association-month.
#[Object]
impl Submission {
    /// Identifier of the submission.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The reporting association.
    async fn association(&self, ctx: &Context<'_>) -> Result<crate::association::Association> {
        crate::association::load(ctx, self.0.association_id).await
    }
    /// The reported month.
    async fn period(&self) -> Period {
        Period::month(Month(self.0.period))
    }
    /// Revision number within the association-month: 1 for the first report, then 2, 3, ...
    async fn revision(&self) -> i32 {
        self.0.revision
    }
    /// State of the submission.
    async fn status(&self) -> SubmissionStatus {
        self.0.status.into()
    }
    /// When it was received.
    async fn received_at(&self) -> DateTime {
        DateTime(self.0.received_at)
    }
    /// When the month's report was due: the end of day 15 of the following month (UTC) unless configured otherwise.
    async fn deadline(&self) -> DateTime {
        DateTime(crate::reporting::deadline(Month(self.0.period)))
    }
    /// Received after the deadline.
    async fn late(&self) -> bool {
        crate::reporting::is_late(&self.0)
    }
    /// Warnings of validation (they never block a report).
    async fn warnings(&self) -> Vec<Problem> {
        self.report().warnings
    }
    /// Code of the partner whose key sent it (`null` when sent from the observatory's command line).
    async fn sent_by(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        match self.0.submitted_by {
            Some(id) => Ok(Some(crate::partner::store::partner_code(db(ctx), id).await?)),
            None => Ok(None),
        }
    }
    /// Sent by the observatory on behalf of the association.
    async fn on_behalf(&self) -> bool {
        self.0.on_behalf
    }
    /// SHA-256 of the payload as received, hex.
    async fn content_hash(&self) -> &str {
        &self.0.content_hash
    }
}

/// Whether an expected association reported a month.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum Timeliness {
    /// No accepted report yet.
    Missing,
    /// First reported by the deadline.
    OnTime,
    /// First reported after the deadline.
    Late,
}

/// One expected association's reporting of a month.
pub struct ReportingStatus(crate::reporting::ReportingStatus);

/// One expected association's reporting of a month.
#[Object]
impl ReportingStatus {
    /// The association expected to report.
    async fn association(&self) -> crate::association::Association {
        crate::association::Association(self.0.association.clone())
    }
    /// Missing, on time or late (judged on its first accepted report).
    async fn status(&self) -> Timeliness {
        match self.0.timeliness {
            crate::reporting::Timeliness::Missing => Timeliness::Missing,
            crate::reporting::Timeliness::OnTime => Timeliness::OnTime,
            crate::reporting::Timeliness::Late => Timeliness::Late,
        }
    }
    /// Accepted revisions of the month (the current one and those it superseded).
    async fn revisions(&self) -> i32 {
        self.0.revisions as i32
    }
    /// When its first accepted report arrived.
    async fn first_received_at(&self) -> Option<DateTime> {
        self.0.first_received_at.map(DateTime)
    }
}

/// Which submissions to list.
#[derive(InputObject, Default)]
pub struct SubmissionFilter {
    /// Only these associations (codes).
    pub associations: Option<Vec<String>>,
    /// First month included.
    pub from: Option<Period>,
    /// Last month included.
    pub to: Option<Period>,
    /// Only submissions in these states.
    pub statuses: Option<Vec<SubmissionStatus>>,
}

/// Queries on submissions.
#[derive(Default)]
pub struct SubmissionQuery;

#[Object]
impl SubmissionQuery {
    /// Monthly reports received: an association sees its own, the observatory all.
    async fn submissions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which submissions to list.")] filter: Option<SubmissionFilter>,
        #[graphql(desc = "Number of items to return (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which to start (an `endCursor` of the same list).")] after: Option<String>,
    ) -> Result<SubmissionConnection> {
        let page = PageArgs::new(Submission::KIND, first, after.as_deref())?;
        let filter = filter.unwrap_or_default();
        let from = filter.from.map(|p| p.0.first_month()).unwrap_or(Month(190001));
        let to = filter.to.map(|p| p.0.last_month()).unwrap_or(Month(299912));
        let filter = store::Filter {
            associations: filter.associations,
            months: Some(from..=to),
            statuses: filter
                .statuses
                .map(|s| s.into_iter().map(db_enums::SubmissionStatus::from).collect()),
        };
        Ok(SubmissionConnection(
            store::list(db(ctx), scope(ctx), &filter, &page, wants_total(ctx)).await?,
        ))
    }

    /// Each association expected to report a month (closed and merged associations are not) with `MISSING`,
    /// `ON_TIME` or `LATE`; the deadline is day 15 of the following month unless configured otherwise. The
    /// observatory sees every association, an association itself only.
    async fn reporting_status(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The month, for example `2021-01`.")] period: Period,
    ) -> Result<Vec<ReportingStatus>> {
        let month = month_of(period)?;
        Ok(crate::reporting::reporting_status(db(ctx), scope(ctx), month)
            .await?
            .into_iter()
            .map(ReportingStatus)
            .collect())
    }

    /// One submission by its id (an association sees its own, the observatory all).
    async fn submission(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The submission's id.")] id: ID,
    ) -> Result<Submission> {
        let id: i64 = id
            .parse()
            .map_err(|_| ApiError::bad_input(format!("`{}` is not a submission id", id.0)))?;
        Ok(Submission(store::get(db(ctx), scope(ctx), id).await?))
    }
}

/// Sending monthly reports.
#[derive(Default)]
pub struct SubmissionMutation;

#[Object]
impl SubmissionMutation {
    /// Sends an association's monthly report (an association key with the `write` scope for its own association,
    /// or an observatory key with `write` on behalf of any; a key without `write` is `FORBIDDEN`). Every problem is reported at once: a rejected report answers
    /// `BAD_USER_INPUT` with the validation report in `extensions.report` and stores nothing. An accepted report
    /// becomes the association-month's next revision and replaces its figures. Audited.
    async fn submit_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The report: association, month and the rows of each table.")] input: ReportInput,
    ) -> Result<Submission> {
        let report = input.into_report()?;
        Ok(Submission(store::submit(db(ctx), scope(ctx), report).await?))
    }
}
