//! The indicator layer: measures × dimensions × periods × comparisons, computed in SQL by the profession's rules
//! (see `catalog` and `store`) by the engine (`engine`, with small groups hidden by `hiding`). This module holds
//! the GraphQL side: `indicators` turns its arguments into an engine request and wraps the answer.

pub mod catalog;
pub mod cube;
pub mod engine;
pub mod hiding;
pub mod store;

use crate::association::Association;
use crate::context::{db, scope};
use crate::error::ApiError;
use crate::period;
use crate::region::Region;
use crate::scalars::{DateTime, Period};
use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject};
use catalog::{Dim, MEASURES, MeasureDef};
use cube::{CubeFilter, GroupKey};
use engine::Answer;
use entity::enums as db_enums;
use std::collections::BTreeSet;
use std::sync::Arc;

pub use engine::{MAX_PERIODS, MAX_ROWS};

/// The dimensions any `indicators` field of a request's document groups by, read from the document before it runs.
/// Small groups are hidden on every grouping by a subset of them, the same for every field of the response.
#[derive(Debug, Clone, Default)]
pub struct DocumentGroupings(pub BTreeSet<Dim>);

/// Length of the periods rows are computed for.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "Granularity", remote = "crate::period::Granularity")]
pub enum GranularityValue {
    /// Calendar months (`2020-12`).
    Month,
    /// Calendar quarters (`2020-Q4`).
    Quarter,
    /// Calendar years (`2020`).
    Year,
}

/// A dimension indicators can be grouped and filtered by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "catalog::Dim")]
pub enum Dimension {
    /// The reporting association.
    Association,
    /// The region (ISO 3166-2:MA).
    Region,
    /// The lending methodology.
    Segment,
    /// The clients' (or staff's) gender.
    Gender,
    /// Urban or rural.
    Area,
    /// The economic activity financed, for the loan measures the loans by activity carry (`indicatorCatalog` lists
    /// them); combines with ASSOCIATION and REGION only.
    Activity,
}

/// The period each row is compared with.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "engine::Comparison")]
pub enum Comparison {
    /// The period just before (the previous month, quarter or year).
    PreviousPeriod,
    /// The same period one year earlier.
    SamePeriodPreviousYear,
}

/// A range of whole periods at a granularity.
#[derive(InputObject, Clone, Copy)]
pub struct PeriodRange {
    /// First period (a month, quarter or year); the whole period at the granularity that contains its first month is covered.
    pub from: Period,
    /// Last period (a month, quarter or year); the whole period at the granularity that contains its last month is covered.
    pub to: Period,
    /// Length of the periods of the rows.
    #[graphql(default_with = "GranularityValue::Month")]
    pub granularity: GranularityValue,
}

impl PeriodRange {
    /// Every period of the range, in order.
    pub fn periods(&self) -> Result<Vec<period::Period>, ApiError> {
        engine::periods(self.granularity.into(), self.from.0, self.to.0)
    }
}

/// Conditions on the dimensions of indicators.
#[derive(InputObject, Default, Clone)]
pub struct IndicatorFilter {
    /// Only these associations (codes).
    pub associations: Option<Vec<String>>,
    /// Only these regions (ISO codes).
    pub regions: Option<Vec<String>>,
    /// Only these segments.
    pub segments: Option<Vec<crate::enums::Segment>>,
    /// Only these genders.
    pub genders: Option<Vec<crate::enums::Gender>>,
    /// Only these areas.
    pub areas: Option<Vec<crate::enums::Area>>,
    /// Only these economic activities (loan measures read from the loans by activity).
    pub activities: Option<Vec<crate::enums::Activity>>,
}

/// The value of one measure for one row, with its parts, its comparison and its target.
#[derive(SimpleObject, Debug, Clone, Default, PartialEq)]
pub struct Measure {
    /// The value in the measure's unit (see `indicatorCatalog`); null when not reported or suppressed.
    /// Rates and shares are percentages: 8.01 means 8.01 %.
    pub value: Option<f64>,
    /// For ratios: the summed numerator (for example ΣPAR30 in MAD).
    pub numerator: Option<f64>,
    /// For ratios: the summed denominator (for example Σoutstanding in MAD).
    pub denominator: Option<f64>,
    /// The value in the comparison period (`compareTo`); null without a comparison or without data then.
    pub previous: Option<f64>,
    /// value − previous: absolute for counts and amounts, percentage points for rates and shares.
    pub change: Option<f64>,
    /// (value − previous) ÷ previous × 100, for counts and amounts; null for rates and shares (see `change`).
    pub change_percent: Option<f64>,
    /// True when the value is hidden to protect a small group.
    pub suppressed: bool,
    /// The objective for the period, where targets exist for this measure (`indicatorCatalog`'s `hasTarget`) and
    /// this breakdown (by association, region and activity, or sector-wide): the sum of the targets the associations
    /// with figures in the group set for it (flows sum the period's monthly targets, stocks take its last month's),
    /// null unless every one of them set one (`targetCoverage`).
    pub target: Option<f64>,
    /// value ÷ target × 100.
    pub target_achievement: Option<f64>,
    /// Of the associations with figures in the row's group and period, how many set a target for it (`reporting`)
    /// and how many there are (`expected`): the group's target is the sum of its associations' targets, shown only
    /// when every one of them set one. Null when `target` is not asked for or the measure has no targets.
    pub target_coverage: Option<TargetCoverage>,
    /// True when the value is of a released month (or a period containing one) and a figure summed into it changed
    /// after that month's release, by a later revision of a report (up to `asOf` when given). The value as released
    /// is read with `asOf` set to the release's time.
    pub revised: bool,
}

impl From<engine::Measure> for Measure {
    fn from(measure: engine::Measure) -> Self {
        let engine::Measure {
            value,
            numerator,
            denominator,
            previous,
            change,
            change_percent,
            suppressed,
            target,
            target_achievement,
            target_coverage,
            revised,
        } = measure;
        Measure {
            value,
            numerator,
            denominator,
            previous,
            change,
            change_percent,
            suppressed,
            target,
            target_achievement,
            target_coverage: target_coverage.map(|engine::Coverage { reporting, expected }| TargetCoverage {
                setting: reporting,
                expected,
            }),
            revised,
        }
    }
}

/// The associations that set a target for a group and period, over those with figures in it.
#[derive(SimpleObject, Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetCoverage {
    /// Associations with figures in the group and period that set a target for that group in a month of their
    /// figures (for a region: a target for that region; sector-wide: a target over all their regions).
    pub setting: i32,
    /// Associations with figures of the measure in the group and period.
    pub expected: i32,
}

/// Associations that reported a row's period over the associations expected to report it.
#[derive(SimpleObject, Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportingCoverage {
    /// Expected associations with an accepted report for every month of the period.
    pub reporting: i32,
    /// Associations expected to report the period: the active ones (closed and merged associations are not
    /// expected), of the row's association when grouped by association, of the `associations` filter when given.
    pub expected: i32,
}

/// One period × group of the `indicators` answer. Dimensions not grouped by are null.
pub struct IndicatorRow {
    period: period::Period,
    key: GroupKey,
    answer: Arc<Answer>,
}

impl IndicatorRow {
    fn measure(&self, field: &str) -> Result<Option<Measure>> {
        Ok(self
            .answer
            .measure(catalog::measure(field), self.period, &self.key)?
            .map(Into::into))
    }
}

/// Declares the measure fields of `IndicatorRow`, each documented from the catalogue's words.
macro_rules! measure_fields {
    ($($name:ident => $field:literal, $doc:literal;)+) => {
        /// One period × group of the `indicators` answer: the group's dimensions (null when not grouped by) and the
        /// measures asked for. Only the measures selected are computed.
        #[Object]
        impl IndicatorRow {
            /// The period of the row, at the requested granularity.
            async fn period(&self) -> Period {
                Period(self.period)
            }
            /// The association of the group, when grouped by ASSOCIATION.
            async fn association(&self, ctx: &Context<'_>) -> Result<Option<Association>> {
                match self.key.association {
                    Some(id) => Ok(Some(crate::association::load(ctx, id).await?)),
                    None => Ok(None),
                }
            }
            /// The region of the group, when grouped by REGION.
            async fn region(&self, ctx: &Context<'_>) -> Result<Option<Region>> {
                match self.key.region {
                    Some(id) => Ok(Some(crate::region::load(ctx, id).await?)),
                    None => Ok(None),
                }
            }
            /// The segment of the group, when grouped by SEGMENT.
            async fn segment(&self) -> Option<crate::enums::Segment> {
                self.key.segment.map(Into::into)
            }
            /// The gender of the group, when grouped by GENDER.
            async fn gender(&self) -> Option<crate::enums::Gender> {
                self.key.gender.map(Into::into)
            }
            /// The area of the group, when grouped by AREA.
            async fn area(&self) -> Option<crate::enums::Area> {
                self.key.area.map(Into::into)
            }
            /// The economic activity financed, when grouped by ACTIVITY (`codeLists` gives its labels and parent).
            async fn activity(&self) -> Option<crate::enums::Activity> {
                self.key.activity.map(Into::into)
            }
            /// Associations with an accepted report for every month of the row's period over the associations
            /// expected to report it (the active ones, as `reportingStatus` lists them): of the row's association
            /// when grouped by association, of the `associations` filter when given, else of the whole sector.
            async fn coverage(&self) -> Result<ReportingCoverage> {
                let engine::Coverage { reporting, expected } = self.answer.coverage(self.period, self.key.association)?;
                Ok(ReportingCoverage { reporting, expected })
            }
            $(
                #[doc = $doc]
                async fn $name(&self) -> Result<Option<Measure>> {
                    self.measure($field)
                }
            )+
        }
    };
}

measure_fields! {
    active_clients => "activeClients", "Active clients at the end of the period (count, stock).";
    new_clients => "newClients", "New clients during the period (count, flow); has targets.";
    women_share => "womenShare", "Share of women among active clients at the end of the period (%, stock).";
    rural_share => "ruralShare", "Share of rural clients among active clients at the end of the period (%, stock).";
    disbursed_count => "disbursedCount", "Loans disbursed during the period (count, flow); has targets.";
    disbursed_amount => "disbursedAmount", "Amount disbursed during the period (MAD, flow); has targets.";
    average_disbursed_loan => "averageDisbursedLoan", "Amount disbursed ÷ loans disbursed (MAD per loan, flow).";
    active_loans => "activeLoans", "Loans outstanding at the end of the period (count, stock).";
    outstanding_amount => "outstandingAmount", "Gross outstanding portfolio at the end of the period (MAD, stock); has targets.";
    average_outstanding_loan => "averageOutstandingLoan", "Gross outstanding ÷ active loans at the end of the period (MAD per loan, stock).";
    average_outstanding_per_borrower => "averageOutstandingPerBorrower", "Gross outstanding ÷ active clients at the end of the period (MAD per borrower, stock).";
    par30_amount => "par30Amount", "Portfolio at risk over 30 days at the end of the period (MAD, stock).";
    par30_rate => "par30Rate", "PAR30 ÷ gross outstanding at the end of the period (%, stock).";
    par90_amount => "par90Amount", "Portfolio at risk over 90 days at the end of the period (MAD, stock).";
    par90_rate => "par90Rate", "PAR90 ÷ gross outstanding at the end of the period (%, stock).";
    rescheduled_amount => "rescheduledAmount", "Outstanding balance of rescheduled (renegotiated) loans at the end of the period (MAD, stock).";
    rescheduled_rate => "rescheduledRate", "Rescheduled portfolio ÷ gross outstanding at the end of the period (%, stock).";
    write_off_amount => "writeOffAmount", "Amount written off during the period (MAD, flow).";
    write_off_ratio => "writeOffRatio", "Amount written off, annualised (× 12 ÷ months of the period), ÷ the average gross outstanding of the month-ends from the one before the period to its last (%; numerator: the annualised write-offs, denominator: the average outstanding).";
    client_turnover => "clientTurnover", "Clients who left (active clients at the end of the month before the period + new clients − active clients at its end), annualised, ÷ the average active clients of the month-ends from the one before the period to its last (%; numerator and denominator as for writeOffRatio).";
    repayments_due => "repaymentsDue", "Principal and interest falling due during the period (MAD, flow).";
    repayments_collected => "repaymentsCollected", "Repayments collected during the period (MAD, flow).";
    collection_rate => "collectionRate", "Repayments collected ÷ repayments due during the period (%, flow).";
    branches => "branches", "Fixed agencies open on the last day of the period (count, stock; by association, region and area).";
    mobile_branches => "mobileBranches", "Mobile branches open on the last day of the period (count, stock; by association, region and area).";
    staff => "staff", "Staff members at the end of the period (count, stock; by association and gender).";
    clients_per_staff => "clientsPerStaff", "Active clients ÷ staff members at the end of the period (stock; by association).";
    operational_self_sufficiency => "operationalSelfSufficiency", "Operational self-sufficiency: Financial revenue ÷ (financial expense + net impairment loss + operating expense) × 100, over the period (statements; QUARTER and YEAR).";
    financial_self_sufficiency => "financialSelfSufficiency", "Financial self-sufficiency: Financial revenue ÷ (financial expense + net impairment loss + operating expense + adjustments) × 100; adjustments: (Avg_Q(equity) − Avg_Q(net fixed assets)) × inflation × m ÷ 12, plus max(0, Avg_Q(subsidised funding) × market rate × m ÷ 12 − interest paid on it), plus in-kind subsidies (statements; QUARTER and YEAR).";
    return_on_assets => "returnOnAssets", "Return on assets: (Net operating income − taxes) × 12 ÷ m ÷ the average total assets of the quarter-ends from the one before the period to its last × 100 (statements; QUARTER and YEAR).";
    adjusted_return_on_assets => "adjustedReturnOnAssets", "Adjusted return on assets: (Net operating income − the self-sufficiency adjustments − taxes) × 12 ÷ m ÷ the average total assets of the quarter-ends from the one before the period to its last × 100 (statements; QUARTER and YEAR).";
    return_on_equity => "returnOnEquity", "Return on equity: (Net operating income − taxes) × 12 ÷ m ÷ the average total equity of the quarter-ends from the one before the period to its last × 100 (statements; QUARTER and YEAR).";
    portfolio_yield => "portfolioYield", "Nominal portfolio yield: (Interest + fees on the loan portfolio) × 12 ÷ m ÷ the average gross outstanding of the month-ends from the one before the period to its last × 100 (statements and monthly reports; QUARTER and YEAR).";
    real_portfolio_yield => "realPortfolioYield", "Real portfolio yield: (Nominal yield − inflation) ÷ (1 + inflation) × 100, with the year's inflation (reference series INFLATION); numerator and denominator are the nominal yield's (QUARTER and YEAR).";
    operating_expense_ratio => "operatingExpenseRatio", "Operating expense ratio: Operating expense × 12 ÷ m ÷ the average gross outstanding of the month-ends from the one before the period to its last × 100 (QUARTER and YEAR).";
    cost_per_client => "costPerClient", "Cost per client: Operating expense × 12 ÷ m ÷ the average active clients of the month-ends from the one before the period to its last (MAD per client per year; QUARTER and YEAR).";
    cost_per_loan => "costPerLoan", "Cost per loan: Operating expense × 12 ÷ m ÷ the average active loans of the month-ends from the one before the period to its last (MAD per loan per year; QUARTER and YEAR).";
    funding_expense_ratio => "fundingExpenseRatio", "Funding expense ratio: Financial expense × 12 ÷ m ÷ the average gross outstanding of the month-ends from the one before the period to its last × 100 (QUARTER and YEAR).";
    cost_of_funds => "costOfFunds", "Cost of funds: Interest and fees on funding liabilities × 12 ÷ m ÷ the average deposits and borrowings of the quarter-ends from the one before the period to its last × 100 (QUARTER and YEAR).";
    impairment_expense_ratio => "impairmentExpenseRatio", "Impairment expense ratio: (Impairment expense − recoveries) × 12 ÷ m ÷ the average gross outstanding of the month-ends from the one before the period to its last × 100 (QUARTER and YEAR).";
    loan_loss_rate => "loanLossRate", "Loan loss rate: (Amount written off in the monthly reports − recoveries) × 12 ÷ m ÷ the average gross outstanding of the month-ends from the one before the period to its last × 100 (QUARTER and YEAR).";
    risk_coverage => "riskCoverage", "Risk coverage ratio: Impairment loss allowance at the period's end ÷ PAR30 at its last month × 100 (QUARTER and YEAR).";
    debt_to_equity => "debtToEquity", "Debt to equity: Total liabilities ÷ total equity at the period's end (times; QUARTER and YEAR).";
    capital_to_assets => "capitalToAssets", "Capital to assets: Total equity ÷ total assets at the period's end × 100 (QUARTER and YEAR).";
    portfolio_to_assets => "portfolioToAssets", "Portfolio to assets: Gross loan portfolio ÷ total assets at the period's end × 100 (statements; QUARTER and YEAR).";
    liquid_ratio => "liquidRatio", "Liquid ratio: (Cash + short-term placements) ÷ (deposits + short-term borrowings + interest payable + other current liabilities) at the period's end × 100 (QUARTER and YEAR).";
    borrowers_per_loan_officer => "borrowersPerLoanOfficer", "Borrowers per loan officer: Active clients at the period's last month ÷ loan officers at its end (statements; QUARTER and YEAR).";
    personnel_allocation => "personnelAllocation", "Personnel allocation ratio: Loan officers at the period's end ÷ staff at its last month × 100 (QUARTER and YEAR).";
}

/// Unit of a measure's value.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "catalog::Unit")]
pub enum MeasureUnit {
    /// A number of clients, loans, branches or people.
    Count,
    /// Moroccan dirhams.
    Mad,
    /// A percentage (8.01 means 8.01 %).
    Percent,
    /// Moroccan dirhams per loan.
    MadPerLoan,
    /// Moroccan dirhams per borrower (active client).
    MadPerClient,
    /// Active clients per staff member.
    ClientsPerStaff,
    /// A plain quotient: 2.5 means two and a half times.
    Multiple,
    /// Active clients per loan officer.
    ClientsPerLoanOfficer,
}

/// Stock or flow.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "catalog::Kind")]
pub enum MeasureKind {
    /// A value at a date: over a quarter or year, the value of its last month.
    Stock,
    /// A total over time: over a quarter or year, the sum of its months.
    Flow,
}

/// How a measure's stocks are averaged.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::finance::ratios::Averaging")]
pub enum Averaging {
    /// Over the month-ends from the one before the period to its last (m + 1 points, from the monthly reports).
    Monthly,
    /// Over the quarter-ends from the one before the period to its last (m ÷ 3 + 1 points, from the statements).
    Quarterly,
    /// Not averaged: stocks at the period's end, flows over the period.
    None,
}

/// Which way a measure is better.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::finance::ratios::BetterWhen")]
pub enum BetterWhen {
    /// Higher is better (self-sufficiency, risk coverage).
    Higher,
    /// Lower is better (portfolio at risk, costs).
    Lower,
    /// Neither: read it in context.
    Neutral,
}

/// What a ratio divides.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::finance::ratios::RatioKind")]
pub enum RatioKind {
    /// A flow over an (averaged) stock: annualised.
    FlowOverStock,
    /// A flow over a flow of the same period.
    FlowOverFlow,
    /// A stock over a stock at the same date.
    StockOverStock,
}

/// A measure of the catalogue.
pub struct MeasureInfo(&'static MeasureDef);

impl MeasureInfo {
    pub fn of(def: &'static MeasureDef) -> MeasureInfo {
        MeasureInfo(def)
    }
}

/// A measure partners can ask `indicators` for.
#[Object]
impl MeasureInfo {
    /// Stable code of the measure, for example `PAR30_RATE`.
    async fn code(&self) -> &str {
        self.0.code
    }
    /// Name of the field in `IndicatorRow`, for example `par30Rate`.
    async fn field(&self) -> &str {
        self.0.field
    }
    /// Label in French.
    async fn label_fr(&self) -> &str {
        self.0.label_fr
    }
    /// Label in Arabic.
    async fn label_ar(&self) -> &str {
        self.0.label_ar
    }
    /// Label in English.
    async fn label_en(&self) -> &str {
        self.0.label_en
    }
    /// Label in the language asked for, else the one the request's `Accept-Language` prefers (French by default).
    async fn label(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Language of the label; default: from `Accept-Language`.")] lang: Option<
            crate::labels::Language,
        >,
    ) -> &str {
        crate::labels::Language::chosen(ctx, lang).pick(self.0.label_fr, self.0.label_ar, self.0.label_en)
    }
    /// Unit of the value.
    async fn unit(&self) -> MeasureUnit {
        self.0.unit.into()
    }
    /// Stock or flow.
    async fn kind(&self) -> MeasureKind {
        self.0.kind.into()
    }
    /// How the value is computed, in words, in English.
    async fn formula(&self) -> &str {
        self.0.formula_text
    }
    /// How the value is computed, in French.
    async fn formula_fr(&self) -> &str {
        self.0.formulas().0
    }
    /// How the value is computed, in Arabic.
    async fn formula_ar(&self) -> &str {
        self.0.formulas().1
    }
    /// How the value is computed, in the language asked for, else the one the request's `Accept-Language` prefers
    /// (French by default).
    async fn formula_in(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Language of the text; default: from `Accept-Language`.")] lang: Option<
            crate::labels::Language,
        >,
    ) -> &str {
        let (fr, ar, en) = self.0.formulas();
        crate::labels::Language::chosen(ctx, lang).pick(fr, ar, en)
    }
    /// Dimensions the measure can be grouped and filtered by.
    async fn dimensions(&self) -> Vec<Dimension> {
        self.0.dims().into_iter().map(Into::into).collect()
    }
    /// True when associations set targets for this measure (`Measure.target`).
    async fn has_target(&self) -> bool {
        self.0.target.is_some()
    }
    /// The granularities `indicators` computes it at: the financial ratios of the quarterly statements at QUARTER
    /// and YEAR only (a MONTH request answers a field error naming them).
    async fn granularities(&self) -> Vec<GranularityValue> {
        self.0.granularities().into_iter().map(Into::into).collect()
    }
    /// Whether a flow set against a stock is annualised (× 12 ÷ the months of the period).
    async fn annualised(&self) -> bool {
        self.0.annualised()
    }
    /// How the stocks it reads are averaged over the period.
    async fn averaging(&self) -> Averaging {
        self.0.averaging().into()
    }
    /// Which way is better (for reading a peer quartile: quartile 1 holds the lowest values).
    async fn better_when(&self) -> BetterWhen {
        self.0.better_when().into()
    }
    /// For the financial ratios: the numerator, in the chart of accounts' line codes.
    async fn numerator(&self) -> Option<&str> {
        self.0.financial().map(|r| r.about().numerator)
    }
    /// For the financial ratios: the denominator, in the chart of accounts' line codes.
    async fn denominator(&self) -> Option<&str> {
        self.0.financial().map(|r| r.about().denominator)
    }
    /// For the financial ratios: what it divides.
    async fn ratio_kind(&self) -> Option<RatioKind> {
        self.0.financial().map(|r| r.about().kind.into())
    }
    /// For the financial ratios: the SEEP (2005) category it belongs to.
    async fn category(&self) -> Option<&str> {
        self.0.financial().map(|r| r.about().category)
    }
}

/// Queries on indicators.
#[derive(Default)]
pub struct IndicatorQuery;

#[Object]
impl IndicatorQuery {
    /// Measures grouped by the dimensions asked for, over a range of periods, optionally compared with earlier
    /// periods: one row per period × group, ordered by period then group. Stocks take the value of the period's last
    /// month, flows sum its months, ratios divide sums (never average ratios). A period without data has no row, and
    /// a measure without data is null, never zero. A measure that has no breakdown by a requested dimension answers
    /// a field error; the other fields still resolve.
    async fn indicators(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The periods to compute, as whole months, quarters or years.")] period: PeriodRange,
        #[graphql(desc = "Dimensions to group by; none for sector-wide totals.", default)] group_by: Vec<Dimension>,
        #[graphql(desc = "Conditions on the dimensions.")] filter: Option<IndicatorFilter>,
        #[graphql(desc = "Period to compare each row with (fills `previous`, `change`, `changePercent`).")]
        compare_to: Option<Comparison>,
        #[graphql(
            desc = "Answer as the data stood at this instant: each association-month as its last report accepted by \
                    then gave it (none when it had not reported yet), and only the months released by then for \
                    callers who see released months. Without it, the current data."
        )]
        as_of: Option<DateTime>,
    ) -> Result<Vec<IndicatorRow>> {
        let periods = period.periods()?;
        let group_by: Vec<Dim> = group_by.into_iter().map(Into::into).collect();
        let filter = filter.unwrap_or_default();
        let filter = CubeFilter {
            associations: crate::association::store::resolve(db(ctx), &filter.associations).await?,
            regions: crate::region::resolve(ctx, &filter.regions).await?,
            segments: crate::enums::to_db::<_, db_enums::Segment>(&filter.segments),
            genders: crate::enums::to_db::<_, db_enums::Gender>(&filter.genders),
            areas: crate::enums::to_db::<_, db_enums::Area>(&filter.areas),
            activities: crate::enums::to_db::<_, db_enums::Activity>(&filter.activities),
        };
        let (access, small_groups) =
            scope(ctx).indicator_access(group_by.contains(&Dim::Association), filter.associations.as_deref())?;
        let selection = ctx.look_ahead();
        let measures = MEASURES
            .iter()
            .filter(|def| selection.field(def.field).exists())
            .map(|def| {
                let field = selection.field(def.field);
                engine::Selected {
                    def,
                    target: field.field("target").exists()
                        || field.field("targetAchievement").exists()
                        || field.field("targetCoverage").exists(),
                }
            })
            .collect();
        let request = engine::Request {
            granularity: period.granularity.into(),
            periods,
            group_by,
            filter,
            compare: compare_to.map(Into::into),
            as_of: as_of.map(|t| t.0),
            access,
            small_groups,
            document_dims: ctx.data_opt::<DocumentGroupings>().map(|g| g.0.clone()),
            measures,
            revised: MEASURES
                .iter()
                .any(|def| selection.field(def.field).field("revised").exists()),
            coverage: selection.field("coverage").exists(),
            reads: ctx.data_opt::<store::Reads>().cloned().unwrap_or_default(),
        };
        let answer = Arc::new(engine::compute(db(ctx), request).await?);
        Ok(answer
            .rows()
            .into_iter()
            .map(|(period, key)| IndicatorRow {
                period,
                key,
                answer: answer.clone(),
            })
            .collect())
    }

    /// Every measure `indicators` offers, with its labels, unit, kind, formula and dimensions.
    async fn indicator_catalog(&self) -> Vec<MeasureInfo> {
        MEASURES.iter().map(MeasureInfo).collect()
    }
}
