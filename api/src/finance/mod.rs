//! The associations' quarterly financial statements: the chart of accounts (`chart`), their validation (`validate`),
//! their acceptance, reads and the quarter's release (`store`); here the GraphQL side: `submitStatements`,
//! `releaseQuarter`, `statementSubmissions`, `financialStatements` and `chartOfAccounts`.

pub mod chart;
pub mod ratios;
pub mod store;
pub mod validate;

use crate::context::{db, scope};
use crate::error::ApiError;
use crate::period::{Granularity, Month};
use crate::scalars::{DateTime, Money, Period};
use crate::submission::SubmissionStatus;
use crate::submission::validate::{Problem, ValidationReport};
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use entity::statement_submission;

fn quarter_of(period: i32) -> crate::period::Period {
    crate::period::Period::containing(Granularity::Quarter, Month(period))
}

/// A quarter asked for as a `Period`, which must be a quarter.
fn quarter(period: Period) -> Result<crate::period::Period, ApiError> {
    if period.0.granularity != Granularity::Quarter {
        return Err(ApiError::bad_input(format!(
            "statements are quarterly: `{}` is not a quarter (write it YYYY-Qn, for example 2020-Q4)",
            period.0
        )));
    }
    Ok(period.0)
}

/// A received quarterly financial statement of an association: one revision of an association-quarter.
pub struct StatementSubmission(pub statement_submission::Model);

/// A received quarterly financial statement of an association: one revision of an association-quarter.
#[Object]
impl StatementSubmission {
    /// Identifier of the statement submission.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The reporting association.
    async fn association(&self, ctx: &Context<'_>) -> Result<crate::association::Association> {
        crate::association::load(ctx, self.0.association_id).await
    }
    /// The reported quarter, for example `2020-Q4`.
    async fn quarter(&self) -> Period {
        Period(quarter_of(self.0.period))
    }
    /// Revision number within the association-quarter: 1 for the first statement, then 2, 3, ...
    async fn revision(&self) -> i32 {
        self.0.revision
    }
    /// State of the statement.
    async fn status(&self) -> SubmissionStatus {
        self.0.status.into()
    }
    /// When it was received.
    async fn received_at(&self) -> DateTime {
        DateTime(self.0.received_at)
    }
    /// When the quarter's statement was due: the end of the 45th day after the quarter (UTC) unless configured
    /// otherwise (`STATEMENT_DEADLINE_DAYS`).
    async fn deadline(&self) -> DateTime {
        DateTime(crate::reporting::statement_deadline(quarter_of(self.0.period)))
    }
    /// Received after the deadline.
    async fn late(&self) -> bool {
        store::is_late(&self.0)
    }
    /// Warnings of validation (cross-checks with the monthly reports and the quarter before; they never block).
    async fn warnings(&self) -> Vec<Problem> {
        ValidationReport::from_stored(&self.0.validation_report).warnings
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

/// A stock at the quarter's end, or a flow over the quarter alone.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum StatementLineKind {
    /// A balance at the quarter's end.
    Stock,
    /// A total over the quarter alone (never year to date).
    Flow,
}

/// One line of the chart of accounts.
#[derive(SimpleObject)]
pub struct ChartLine {
    /// The line's code, as sent in the `line` column.
    pub code: String,
    /// What the line holds, in English.
    pub label_en: String,
    /// What the line holds, in French.
    pub label_fr: String,
    /// A stock at the quarter's end or a flow over the quarter.
    pub kind: StatementLineKind,
    /// Whether the value is a count (loan officers) rather than MAD.
    pub is_count: bool,
    /// Whether every statement must carry it.
    pub required: bool,
    /// Whether it may be negative (results and the equity that accumulates them).
    pub signed: bool,
}

/// A total and the lines it must equal, to the centime.
#[derive(SimpleObject)]
pub struct ChartIdentity {
    /// The rule code a failure is reported with: `TOTAL_MISMATCH` or `BALANCE_MISMATCH`.
    pub rule: String,
    /// The identity, for example `BS_TOTAL_LIABILITIES = BS_DEPOSITS + …`.
    pub text: String,
}

/// The chart of accounts of the quarterly statements.
#[derive(SimpleObject)]
pub struct ChartOfAccounts {
    /// Every line, in template order.
    pub lines: Vec<ChartLine>,
    /// Every identity checked when a statement arrives.
    pub identities: Vec<ChartIdentity>,
}

/// One line of an accepted statement.
#[derive(SimpleObject)]
pub struct StatementLine {
    /// The line's code in the chart of accounts.
    pub line: String,
    /// The amount, for money lines.
    pub amount: Option<Money>,
    /// The count, for count lines (loan officers).
    pub count: Option<i64>,
}

/// An association's accepted statement of one quarter.
pub struct FinancialStatement {
    association_id: i32,
    period: i32,
    lines: validate::Lines,
}

/// An association's accepted statement of one quarter (the current revision).
#[Object]
impl FinancialStatement {
    /// The association.
    async fn association(&self, ctx: &Context<'_>) -> Result<crate::association::Association> {
        crate::association::load(ctx, self.association_id).await
    }
    /// The quarter.
    async fn quarter(&self) -> Period {
        Period(quarter_of(self.period))
    }
    /// Its lines, in the chart's order.
    async fn lines(&self) -> Vec<StatementLine> {
        chart::LINES
            .iter()
            .filter_map(|line| {
                let value = *self.lines.get(line.code)?;
                let count = line.unit == chart::LineUnit::Count;
                Some(StatementLine {
                    line: line.code.to_owned(),
                    amount: (!count).then_some(Money(value)),
                    count: count.then_some(value),
                })
            })
            .collect()
    }
}

/// A quarter whose statements are released to partners.
#[derive(SimpleObject)]
pub struct QuarterRelease {
    /// The released quarter.
    pub quarter: Period,
    /// When it was released.
    pub released_at: DateTime,
    /// Note on the release.
    pub note: String,
}

/// One line of a statement as sent through GraphQL: the line's code and its value as decimal text.
#[derive(InputObject)]
pub struct StatementLineInput {
    /// The line's code in the chart of accounts, for example `BS_CASH`.
    pub line: String,
    /// The value, as decimal text in MAD with at most two decimals (`1250000.50`), or a whole count for
    /// `PF_LOAN_OFFICERS`; results may be negative.
    pub value: String,
}

/// An association's financial statement of one quarter.
#[derive(InputObject)]
pub struct StatementInput {
    /// Code of the reporting association.
    pub association: String,
    /// The quarter, for example `2020-Q4`.
    pub quarter: Period,
    /// Every line of the chart (optional ones may be left out): flows over the quarter alone, stocks at its end.
    pub lines: Vec<StatementLineInput>,
    /// Makes the request safe to retry: the same key with the same content returns the first answer again; with
    /// other content, `CONFLICT`.
    pub idempotency_key: Option<String>,
}

impl StatementInput {
    fn into_statement(self) -> Result<store::NewStatement, ApiError> {
        let quarter = quarter(self.quarter)?;
        let rows: Vec<serde_json::Map<String, serde_json::Value>> = self
            .lines
            .into_iter()
            .map(|l| {
                let mut row = serde_json::Map::new();
                row.insert("line".into(), l.line.into());
                row.insert("value".into(), l.value.into());
                row
            })
            .collect();
        let table = crate::submission::table::read_json(&rows);
        let payload = serde_json::json!({ "format": "json", "tables": { "statements": rows } }).to_string();
        Ok(store::NewStatement {
            association: self.association,
            quarter,
            table: Some(table),
            payload,
            idempotency_key: self.idempotency_key,
        })
    }
}

/// A statement submission as JSON, as `POST /reports/{association}/{quarter}` answers it.
pub async fn view(
    db: &sea_orm::DatabaseConnection,
    model: &statement_submission::Model,
) -> Result<serde_json::Value, ApiError> {
    use sea_orm::EntityTrait;
    let association = entity::association::Entity::find_by_id(model.association_id)
        .one(db)
        .await?
        .map(|a| a.code)
        .unwrap_or_default();
    let report = ValidationReport::from_stored(&model.validation_report);
    let quarter = quarter_of(model.period);
    Ok(serde_json::json!({
        "id": model.id.to_string(),
        "association": association,
        "quarter": quarter.to_string(),
        "revision": model.revision,
        "status": model.status.as_str(),
        "receivedAt": model.received_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "deadline": crate::reporting::statement_deadline(quarter).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "late": store::is_late(model),
        "onBehalf": model.on_behalf,
        "contentHash": model.content_hash,
        "warnings": report.warnings,
    }))
}

/// Queries on financial statements.
#[derive(Default)]
pub struct StatementQuery;

#[Object]
impl StatementQuery {
    /// The chart of accounts of the quarterly statements: every line and every identity checked. Public.
    async fn chart_of_accounts(&self) -> ChartOfAccounts {
        ChartOfAccounts {
            lines: chart::LINES
                .iter()
                .map(|l| ChartLine {
                    code: l.code.into(),
                    label_en: l.label_en.into(),
                    label_fr: l.label_fr.into(),
                    kind: match l.kind {
                        chart::LineKind::Stock => StatementLineKind::Stock,
                        chart::LineKind::Flow => StatementLineKind::Flow,
                    },
                    is_count: l.unit == chart::LineUnit::Count,
                    required: l.required,
                    signed: l.signed,
                })
                .collect(),
            identities: chart::IDENTITIES
                .iter()
                .map(|i| ChartIdentity {
                    rule: i.rule.into(),
                    text: i.text(),
                })
                .collect(),
        }
    }

    /// Quarterly statements received (every revision, latest first within an association-quarter): an association
    /// sees its own, the observatory all. At most 5,000.
    async fn statement_submissions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this association (code).")] association: Option<String>,
        #[graphql(desc = "First quarter included, for example `2020-Q1`.")] from: Period,
        #[graphql(desc = "Last quarter included, for example `2020-Q4`.")] to: Period,
    ) -> Result<Vec<StatementSubmission>> {
        let (from, to) = (quarter(from)?, quarter(to)?);
        let association = match association {
            Some(code) => Some(
                crate::store::by_code::<entity::association::Entity, _>(
                    db(ctx),
                    entity::association::Column::Code,
                    "association",
                    &code,
                )
                .await?
                .id,
            ),
            None => None,
        };
        Ok(store::list(db(ctx), scope(ctx), association, from..=to)
            .await?
            .into_iter()
            .map(StatementSubmission)
            .collect())
    }

    /// The associations' accepted statements (their current revision): partners read released quarters, an
    /// association its own, the observatory everything. The public reads the ratios of the sector through
    /// `indicators` instead.
    async fn financial_statements(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only these associations (codes).")] associations: Option<Vec<String>>,
        #[graphql(desc = "First quarter included, for example `2020-Q1`.")] from: Period,
        #[graphql(desc = "Last quarter included, for example `2020-Q4`.")] to: Period,
    ) -> Result<Vec<FinancialStatement>> {
        let (from, to) = (quarter(from)?, quarter(to)?);
        let caller = scope(ctx);
        caller.check_rows("financial statements", &None)?;
        let ids = match &associations {
            Some(codes) => Some(
                crate::store::ids_for_codes::<entity::association::Entity, _>(
                    db(ctx),
                    entity::association::Column::Code,
                    entity::association::Column::Id,
                    "association",
                    codes,
                )
                .await?,
            ),
            None => None,
        };
        let lines = store::lines(
            db(ctx),
            caller.row_access(),
            ids.as_deref(),
            from.last_month().0..=to.last_month().0,
        )
        .await?;
        Ok(lines
            .into_iter()
            .flat_map(|(association_id, quarters)| {
                quarters.into_iter().map(move |(period, lines)| FinancialStatement {
                    association_id,
                    period,
                    lines,
                })
            })
            .collect())
    }

    /// Quarters whose statements are released to partners.
    async fn quarter_releases(&self, ctx: &Context<'_>) -> Result<Vec<QuarterRelease>> {
        use sea_orm::{EntityTrait, QueryOrder};
        Ok(entity::quarter_release::Entity::find()
            .order_by_asc(entity::quarter_release::Column::Period)
            .all(db(ctx))
            .await?
            .into_iter()
            .map(|r| QuarterRelease {
                quarter: Period(quarter_of(r.period)),
                released_at: DateTime(r.released_at),
                note: r.note,
            })
            .collect())
    }
}

/// Sending statements and releasing quarters.
#[derive(Default)]
pub struct StatementMutation;

#[Object]
impl StatementMutation {
    /// Sends an association's financial statement of one quarter (an association key with `write` for its own
    /// association, or an observatory key with `write` on behalf of any). Every problem is reported at once: a
    /// statement whose totals do not add up, or whose assets differ from liabilities plus equity by a centime, is
    /// rejected with `BAD_USER_INPUT`, the line, column and rule in `extensions.report`, and nothing is stored.
    /// Cross-checks with the monthly reports and the quarter before are warnings. An accepted statement becomes the
    /// association-quarter's next revision. Audited.
    async fn submit_statements(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The statement: association, quarter and its lines.")] input: StatementInput,
    ) -> Result<StatementSubmission> {
        let statement = input.into_statement()?;
        Ok(StatementSubmission(
            store::submit(db(ctx), scope(ctx), statement).await?,
        ))
    }

    /// Releases a quarter's statements to partners (an observatory key with the `admin` scope). Refused with
    /// `CONFLICT`, naming what is missing, unless the quarter's three months are released and every expected
    /// association's statement is in, or `force` is true with a `note` saying why. Audited.
    async fn release_quarter(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The quarter to release, for example `2020-Q4`.")] quarter: Period,
        #[graphql(desc = "Note on the release; required (not blank) with `force`.", default)] note: String,
        #[graphql(desc = "Release without every month or statement; needs a `note`.", default)] force: bool,
    ) -> Result<QuarterRelease> {
        let actor = scope(ctx);
        actor.require_observatory("releasing a quarter")?;
        let quarter = self::quarter(quarter)?;
        let model = store::release(db(ctx), actor, quarter, note, force).await?;
        Ok(QuarterRelease {
            quarter: Period(quarter),
            released_at: DateTime(model.released_at),
            note: model.note,
        })
    }
}
