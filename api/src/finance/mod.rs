//! The associations' quarterly financial statements: the chart of accounts (`chart`), their validation (`validate`),
//! their acceptance, reads and the quarter's release (`store`); here the GraphQL side: `submitStatements`,
//! `releaseQuarter`, `statementSubmissions`, `financialStatements` and `chartOfAccounts`.

pub mod chart;
pub mod peers;
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

/// One value of a reference series.
#[derive(SimpleObject)]
pub struct ReferenceValue {
    /// The series: `INFLATION` or `MARKET_RATE_FUNDS`.
    pub code: String,
    /// The year it is for.
    pub year: i32,
    /// A rate as a decimal: 0.007 is 0.7 %.
    pub value: f64,
    /// Where it comes from.
    pub source: String,
    /// The day it was read from its source.
    pub vintage: crate::scalars::Date,
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

    /// The observatory's reference series the ratios read (`INFLATION`, the annual change of consumer prices, for the
    /// real yield and financial self-sufficiency; `MARKET_RATE_FUNDS`, the market rate of funds, for the subsidy
    /// adjustment), each value with its source and vintage. Public.
    async fn reference_series(&self, ctx: &Context<'_>) -> Result<Vec<ReferenceValue>> {
        use sea_orm::{EntityTrait, QueryOrder};
        Ok(entity::reference_series::Entity::find()
            .order_by_asc(entity::reference_series::Column::Code)
            .order_by_asc(entity::reference_series::Column::Year)
            .all(db(ctx))
            .await?
            .into_iter()
            .map(|r| ReferenceValue {
                code: r.code,
                year: r.year,
                value: r.value,
                source: r.source,
                vintage: crate::scalars::Date(r.vintage),
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

/// A dimension of a peer-group scheme.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "peers::PeerDimension")]
pub enum PeerDimension {
    /// Gross portfolio at the quarter's end: LARGE (1,000 M MAD and more), MEDIUM (100 to 1,000 M), SMALL.
    Scale,
    /// Active clients: LARGE (100,000 and more), MEDIUM (10,000 to 100,000), SMALL.
    Outreach,
    /// Years since founding: NEW (1 to 4), YOUNG (5 to 8), MATURE (over 8).
    Age,
    /// INDIVIDUAL or SOLIDARITY_GROUP when that segment holds half the portfolio or more, else MIXED.
    Methodology,
    /// RURAL when half the active clients or more are rural, else NOT_RURAL.
    RuralFocus,
    /// FSS when the quarter's financial self-sufficiency is 100 % or more, else NON_FSS.
    Sustainability,
    /// The region holding the largest share of the association's portfolio (ISO 3166-2:MA code).
    Region,
}

/// Why a peer group's statistics are withheld.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum PeerSuppression {
    /// Fewer members with a value than this caller may see quartiles of: 5 for the public and associations, 3 for
    /// partners.
    PeerGroupTooSmall,
}

/// A peer group of a scheme's dimension.
#[derive(SimpleObject, Clone)]
pub struct PeerGroup {
    /// The group's code, for example `LARGE` or `MA-06`.
    pub code: String,
    /// Label in French.
    pub label_fr: String,
    /// Label in Arabic.
    pub label_ar: String,
    /// Label in English.
    pub label_en: String,
}

/// An association's place among its peers.
#[derive(SimpleObject)]
pub struct PeerPosition {
    /// The association.
    pub association: String,
    /// Its value of the measure.
    pub value: f64,
    /// Its rank from the lowest value (1).
    pub rank: i32,
    /// Members with a value.
    pub out_of: i32,
    /// Its quartile: 1 holds the lowest values (read the measure's `betterWhen`).
    pub quartile: i32,
}

/// The ratio of sums of a peer group: Σ numerators ÷ Σ denominators of its members.
#[derive(SimpleObject)]
pub struct PeerAggregate {
    /// The group's value.
    pub value: Option<f64>,
    /// Σ numerators.
    pub numerator: f64,
    /// Σ denominators.
    pub denominator: f64,
}

/// One peer group's statistics of one measure.
#[derive(SimpleObject)]
pub struct PeerStatistics {
    /// The measure (catalogue field name).
    pub measure: String,
    /// The group.
    pub group: PeerGroup,
    /// Members with a value of the measure (a statement for every quarter of the period and a denominator that is not
    /// zero).
    pub n: i32,
    /// 25th percentile of the members' values (linear interpolation between order statistics, type 7).
    pub p25: Option<f64>,
    /// Median of the members' values.
    pub median: Option<f64>,
    /// 75th percentile of the members' values.
    pub p75: Option<f64>,
    /// True when the quartiles are withheld from this caller.
    pub suppressed: bool,
    /// Why they are withheld.
    pub reason: Option<PeerSuppression>,
    /// True when the group has fewer than 5 members with a value: shown to partners (from 3) and the observatory,
    /// withheld from the public and associations.
    pub small_group: bool,
    /// The group's ratio of sums: for partners and the observatory only (a group of a few members with one large
    /// one would give that member's ratio almost exactly).
    pub aggregate: Option<PeerAggregate>,
    /// The members' codes: for partners and the observatory only.
    pub members: Option<Vec<String>>,
    /// The position of the association asking (or, for partners and the observatory, of `association`), when it is
    /// a member and the quartiles are shown.
    pub position: Option<PeerPosition>,
}

/// Queries on peer groups.
#[derive(Default)]
pub struct PeerQuery;

#[Object]
impl PeerQuery {
    /// Quartiles of a financial ratio by peer group, as MIX published its benchmarks: for each group of a dimension
    /// of the scheme, the members with a value, the 25th percentile, median and 75th percentile. The public and
    /// associations see the quartiles of groups of 5 members or more, partners from 3, the observatory all (small
    /// groups flagged); the group's ratio of sums and its members are for partners and the observatory. An
    /// association sees its own position; partners and the observatory that of `association`. Memberships are those
    /// stored when the period's last quarter was released.
    async fn peers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A quarter (`2020-Q4`) or a year (`2020`).")] period: Period,
        #[graphql(desc = "The measure: a financial ratio's field or code, for example `operationalSelfSufficiency`.")]
        measure: String,
        #[graphql(desc = "The dimension whose groups to compare.")] dimension: PeerDimension,
        #[graphql(desc = "The peer-group scheme; default `MA-2020`.")] scheme: Option<String>,
        #[graphql(desc = "Partners and the observatory: whose position to give (an association's code).")]
        association: Option<String>,
    ) -> Result<Vec<PeerStatistics>> {
        let period = period.0;
        if period.granularity == Granularity::Month {
            return Err(ApiError::bad_input(format!(
                "peer statistics are quarterly or yearly: `{period}` is a month (write 2020-Q4 or 2020)"
            ))
            .into());
        }
        let caller = scope(ctx);
        let of = match (&association, caller.role) {
            (None, crate::scope::Role::Association) => caller.association_id,
            (None, _) => None,
            (Some(code), crate::scope::Role::Observatory | crate::scope::Role::Partner) => Some(
                crate::store::by_code::<entity::association::Entity, _>(
                    db(ctx),
                    entity::association::Column::Code,
                    "association",
                    code,
                )
                .await?
                .id,
            ),
            (Some(_), _) => {
                return Err(ApiError::Forbidden(
                    "the position of an association is for partners, the observatory and the association itself".into(),
                )
                .into());
            }
        };
        let Some(def) = crate::indicator::catalog::MEASURES
            .iter()
            .find(|m| m.field == measure || m.code == measure)
        else {
            return Err(ApiError::bad_input(format!("`{measure}` is not a measure of `indicatorCatalog`")).into());
        };
        let scheme = scheme.unwrap_or_else(|| peers::DEFAULT_SCHEME.to_owned());
        Ok(peer_statistics(db(ctx), caller, period, def, dimension.into(), &scheme, of, None).await?)
    }
}

/// Each peer group's statistics of a financial ratio over a quarter or year, as `caller` may see them, with `of`'s
/// position: the `peers` query's answer, and the quarterly note's.
/// Each association's parts of every ratio over a period, as a caller's peer statistics read them, and the year's
/// inflation.
pub struct PeerFigures {
    reader: peers::Reader,
    parts: std::collections::HashMap<i32, std::collections::BTreeMap<ratios::Ratio, (f64, f64)>>,
    inflation: Option<f64>,
    /// The groups and members of each scheme's dimension, and the associations' codes, read once for every ratio.
    memo: std::sync::Mutex<PeerMemo>,
}

/// A scheme dimension's groups (in order) and their members.
type Groups = (Vec<PeerGroup>, std::collections::BTreeMap<String, Vec<i32>>);

#[derive(Default)]
struct PeerMemo {
    groups: std::collections::HashMap<(String, peers::PeerDimension), Groups>,
    codes: Option<std::collections::HashMap<i32, String>>,
}

/// Every group of a scheme's dimension at a period's end (the scheme's, or the regions present), with its members.
async fn groups_of(
    db: &sea_orm::DatabaseConnection,
    scheme: &str,
    dimension: peers::PeerDimension,
    period: crate::period::Period,
) -> Result<Groups, ApiError> {
    let rules = peers::rules(db, scheme).await?;
    if rules.is_empty() {
        return Err(ApiError::NotFound(format!("no peer-group scheme `{scheme}`")));
    }
    let members = peers::members(db, scheme, dimension, period).await?;
    let mut groups: Vec<PeerGroup> = rules
        .iter()
        .filter(|r| r.dimension == dimension.code())
        .map(|r| PeerGroup {
            code: r.group_code.clone(),
            label_fr: r.label_fr.clone(),
            label_ar: r.label_ar.clone(),
            label_en: r.label_en.clone(),
        })
        .collect();
    if dimension == peers::PeerDimension::Region {
        use sea_orm::EntityTrait;
        for region in entity::region::Entity::find().all(db).await? {
            if members.contains_key(&region.code) {
                groups.push(PeerGroup {
                    code: region.code.clone(),
                    label_fr: region.name_fr.clone(),
                    label_ar: region.name_ar.clone(),
                    label_en: region.name_en.clone(),
                });
            }
        }
    }
    let mut all = members;
    for group in &groups {
        all.entry(group.code.clone()).or_default();
    }
    Ok((groups, all))
}

impl PeerFigures {
    /// The figures `caller` may compare: everything for the observatory, released quarters for partners, released
    /// quarters as released for the public and associations.
    pub async fn read(
        db: &sea_orm::DatabaseConnection,
        caller: &crate::scope::Scope,
        period: crate::period::Period,
    ) -> Result<PeerFigures, ApiError> {
        let (reader, access, as_released) = match caller.role {
            crate::scope::Role::Observatory => (peers::Reader::Observatory, crate::scope::RowAccess::All, false),
            crate::scope::Role::Partner => (peers::Reader::Partner, crate::scope::RowAccess::Released, false),
            _ => (peers::Reader::Public, crate::scope::RowAccess::Released, true),
        };
        let (parts, inflation) =
            crate::indicator::engine::financial_per_association(db, period, access, as_released).await?;
        Ok(PeerFigures {
            reader,
            parts,
            inflation,
            memo: std::sync::Mutex::default(),
        })
    }
}

#[allow(clippy::too_many_arguments)]
pub async fn peer_statistics(
    db: &sea_orm::DatabaseConnection,
    caller: &crate::scope::Scope,
    period: crate::period::Period,
    def: &'static crate::indicator::catalog::MeasureDef,
    dimension: peers::PeerDimension,
    scheme: &str,
    of: Option<i32>,
    figures: Option<&PeerFigures>,
) -> Result<Vec<PeerStatistics>, ApiError> {
    let Some(ratio) = def.financial() else {
        return Err(ApiError::bad_input(format!(
            "{} is not a financial ratio: peer statistics compare the ratios of the quarterly statements",
            def.field
        )));
    };
    let read;
    let figures = match figures {
        Some(figures) => figures,
        None => {
            read = PeerFigures::read(db, caller, period).await?;
            &read
        }
    };
    let (reader, inflation) = (figures.reader, figures.inflation);
    let parts: std::collections::HashMap<i32, (f64, f64)> = figures
        .parts
        .iter()
        .filter_map(|(a, ratios)| Some((*a, *ratios.get(&ratio)?)))
        .collect();
    let memo_key = (scheme.to_owned(), dimension);
    let known = figures.memo.lock().expect("the memo").groups.get(&memo_key).cloned();
    let (groups, all) = match known {
        Some(groups) => groups,
        None => {
            let read = groups_of(db, scheme, dimension, period).await?;
            figures
                .memo
                .lock()
                .expect("the memo")
                .groups
                .insert(memo_key, read.clone());
            read
        }
    };
    let statistics = peers::statistics(ratio, &all, &parts, inflation, reader, of);
    let known = figures.memo.lock().expect("the memo").codes.clone();
    let codes = match known {
        Some(codes) => codes,
        None => {
            let read = crate::association::store::codes(db).await?;
            figures.memo.lock().expect("the memo").codes = Some(read.clone());
            read
        }
    };
    let code_of = |id: i32| codes.get(&id).cloned().unwrap_or_default();
    Ok(groups
        .into_iter()
        .filter_map(|group| {
            let stats = statistics.iter().find(|s| s.group == group.code)?;
            Some(PeerStatistics {
                measure: def.field.to_owned(),
                group,
                n: stats.n as i32,
                p25: stats.p25,
                median: stats.median,
                p75: stats.p75,
                suppressed: stats.suppressed,
                reason: stats.suppressed.then_some(PeerSuppression::PeerGroupTooSmall),
                small_group: stats.small,
                aggregate: stats.aggregate.map(|(numerator, denominator, value)| PeerAggregate {
                    value,
                    numerator,
                    denominator,
                }),
                members: stats.members.as_ref().map(|m| m.iter().map(|a| code_of(*a)).collect()),
                position: stats.position.map(|p| PeerPosition {
                    association: code_of(p.association),
                    value: p.value,
                    rank: p.rank as i32,
                    out_of: p.out_of as i32,
                    quartile: i32::from(p.quartile),
                }),
            })
        })
        .collect())
}

/// One peer group's statistics of one ratio in one period.
#[derive(SimpleObject)]
pub struct PeerBenchmark {
    /// The quarter or year.
    pub period: Period,
    /// The dimension of the scheme.
    pub dimension: PeerDimension,
    /// The group's statistics, as `peers` gives them to this caller.
    #[graphql(flatten)]
    pub statistics: PeerStatistics,
}

/// Most periods one `peerBenchmarks` request may cover.
pub const MAX_BENCHMARK_PERIODS: usize = 40;

/// Peer statistics over a range of periods.
#[derive(Default)]
pub struct PeerBenchmarkQuery;

#[Object]
impl PeerBenchmarkQuery {
    /// The peer statistics of several financial ratios and dimensions over a range of quarters or years, as `peers`
    /// gives each (the same disclosure rules): what benchmark series and the SDMX dataflow `MICROFINANCE_FIN` read.
    /// At most 40 periods.
    async fn peer_benchmarks(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The periods: QUARTER or YEAR granularity.")] period: crate::indicator::PeriodRange,
        #[graphql(desc = "The financial ratios (catalogue fields or codes).")] measures: Vec<String>,
        #[graphql(desc = "The dimensions whose groups to compare.")] dimensions: Vec<PeerDimension>,
        #[graphql(desc = "The peer-group scheme; default `MA-2020`.")] scheme: Option<String>,
    ) -> Result<Vec<PeerBenchmark>> {
        let periods = period.periods()?;
        if periods.iter().any(|p| p.granularity == Granularity::Month) {
            return Err(ApiError::bad_input("peer statistics are quarterly or yearly: use QUARTER or YEAR").into());
        }
        if periods.len() > MAX_BENCHMARK_PERIODS {
            return Err(ApiError::bad_input(format!(
                "at most {MAX_BENCHMARK_PERIODS} periods of peer statistics at once: shorten the range"
            ))
            .into());
        }
        let defs = measures
            .iter()
            .map(|m| {
                crate::indicator::catalog::MEASURES
                    .iter()
                    .find(|d| d.field == m || d.code == m)
                    .ok_or_else(|| ApiError::bad_input(format!("`{m}` is not a measure of `indicatorCatalog`")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let scheme = scheme.unwrap_or_else(|| peers::DEFAULT_SCHEME.to_owned());
        let caller = scope(ctx);
        let of = caller
            .association_id
            .filter(|_| caller.role == crate::scope::Role::Association);
        let mut out = Vec::new();
        for period in periods {
            let figures = PeerFigures::read(db(ctx), caller, period).await?;
            for dimension in &dimensions {
                for def in &defs {
                    let statistics = peer_statistics(
                        db(ctx),
                        caller,
                        period,
                        def,
                        (*dimension).into(),
                        &scheme,
                        of,
                        Some(&figures),
                    )
                    .await?;
                    out.extend(statistics.into_iter().map(|statistics| PeerBenchmark {
                        period: Period(period),
                        dimension: *dimension,
                        statistics,
                    }));
                }
            }
        }
        Ok(out)
    }
}
