//! The indicator layer: measures × dimensions × periods × comparisons,
//! computed in SQL by the profession's rules (see `catalog` and `store`).

pub mod catalog;
pub mod store;

use crate::association::Association;
use crate::context::{db, scope};
use crate::error::ApiError;
use crate::period::{self, Granularity};
use crate::region::Region;
use crate::scalars::{DateTime, Period};
use crate::scope::MIN_ASSOCIATIONS;
use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject};
use catalog::{Agg, Dim, Formula, MEASURES, MeasureDef, Source};
use entity::enums as db_enums;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use store::{Cube, CubeFilter, CubeRequest, Derived, GroupKey};

/// Most periods one `indicators` request may cover (20 years of months).
pub const MAX_PERIODS: usize = 240;
/// The dimensions any `indicators` field of a request's document groups by, read from the document before it runs.
/// Small groups are hidden on every grouping by a subset of them, the same for every field of the response.
#[derive(Debug, Clone, Default)]
pub struct DocumentGroupings(pub BTreeSet<Dim>);

/// Most rows (periods × groups) one `indicators` answer may have.
pub const MAX_ROWS: usize = 10_000;

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
}

/// The period each row is compared with.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum Comparison {
    /// The period just before (the previous month, quarter or year).
    PreviousPeriod,
    /// The same period one year earlier.
    SamePeriodPreviousYear,
}

impl Comparison {
    pub fn of(self, period: period::Period) -> period::Period {
        match self {
            Comparison::PreviousPeriod => period.shift(-1),
            Comparison::SamePeriodPreviousYear => period.previous_year(),
        }
    }
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
        let granularity: Granularity = self.granularity.into();
        let first = period::Period::containing(granularity, self.from.0.first_month());
        let last = period::Period::containing(granularity, self.to.0.last_month());
        if first > last {
            return Err(ApiError::bad_input(format!(
                "`from` ({}) is after `to` ({})",
                self.from.0, self.to.0
            )));
        }
        let mut periods = vec![first];
        while *periods.last().expect("not empty") < last {
            if periods.len() >= MAX_PERIODS {
                return Err(ApiError::bad_input(format!(
                    "the range covers more than {MAX_PERIODS} periods: use a coarser granularity or a shorter range"
                )));
            }
            periods.push(periods.last().expect("not empty").shift(1));
        }
        Ok(periods)
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
    /// The objective for the period, where targets exist for this measure and this breakdown (by association or
    /// sector-wide): flows sum the monthly targets of the period, stocks take the target of its last month.
    pub target: Option<f64>,
    /// value ÷ target × 100.
    pub target_achievement: Option<f64>,
    /// True when the value is of a released month (or a period containing one) and a figure summed into it changed
    /// after that month's release, by a later revision of a report (up to `asOf` when given). The value as released
    /// is read with `asOf` set to the release's time.
    pub revised: bool,
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

/// Who is expected to report, and which months each has an accepted report for: read once per request, for
/// `IndicatorRow.coverage`.
struct Reports {
    /// Expected association → months (`yyyymm`) with an accepted report.
    accepted: HashMap<i32, BTreeSet<i32>>,
    /// The request's `associations` filter.
    only: Option<HashSet<i32>>,
}

impl Reports {
    fn coverage(&self, period: period::Period, association: Option<i32>) -> ReportingCoverage {
        let months: Vec<i32> = std::iter::successors(Some(period.first_month()), |m| {
            (*m < period.last_month()).then(|| m.shift(1))
        })
        .map(|m| m.0)
        .collect();
        let expected = self
            .accepted
            .iter()
            .filter(|(id, _)| association.is_none_or(|a| a == **id))
            .filter(|(id, _)| self.only.as_ref().is_none_or(|only| only.contains(id)));
        let (mut reporting, mut count) = (0, 0);
        for (_, accepted) in expected {
            count += 1;
            if months.iter().all(|m| accepted.contains(m)) {
                reporting += 1;
            }
        }
        ReportingCoverage {
            reporting,
            expected: count,
        }
    }
}

/// What every row of one response shares.
struct Shared {
    cube: Cube,
    compare: Option<Comparison>,
    group_by: Vec<Dim>,
    filter_dims: Vec<Dim>,
    /// Aggregates (a summed quantity over a period and a group) hidden to protect small groups. Every field
    /// reading one of them is null.
    hidden: store::FastSet<(period::Period, GroupKey, Agg)>,
    /// Read when `coverage` is selected.
    reports: Option<Reports>,
    /// Read when `revised` is selected and a released month changed after its release: the change of every
    /// aggregate since release (the standing figures minus those at release). A non-zero change is a revised value.
    changes: Option<Cube>,
}

impl Shared {
    fn supports(&self, def: &MeasureDef) -> Result<(), ApiError> {
        let dims = def.dims();
        match self
            .group_by
            .iter()
            .chain(&self.filter_dims)
            .find(|d| !dims.contains(d))
        {
            None => Ok(()),
            Some(missing) => Err(ApiError::bad_input(format!(
                "{} has no breakdown by {}: it can be grouped and filtered by {}",
                def.field,
                missing.name(),
                if dims.is_empty() {
                    "nothing".to_owned()
                } else {
                    dims.iter().map(|d| d.name()).collect::<Vec<_>>().join(", ")
                }
            ))),
        }
    }

    /// Targets exist per association and month: by association or sector-wide only.
    fn targets_apply(&self) -> bool {
        self.group_by
            .iter()
            .chain(&self.filter_dims)
            .all(|d| *d == Dim::Association)
    }

    /// Whether a figure summed into a measure's value changed after its month's release.
    fn is_revised(&self, def: &MeasureDef, period: period::Period, key: &GroupKey) -> bool {
        self.changes.as_ref().is_some_and(|changes| {
            def.formula
                .aggs()
                .into_iter()
                .any(|agg| changes.get(period, key, agg).is_some_and(|change| change != 0))
        })
    }

    fn is_hidden(&self, period: period::Period, key: &GroupKey, agg: Agg) -> bool {
        self.hidden.contains(&(period, *key, agg))
    }

    /// Decides, once per aggregate, what a caller who must not see small groups is shown, for every measure and
    /// field that reads it.
    ///
    /// Hiding is decided on every grouping of the source's dimensions at once (sector-wide, by each dimension, by
    /// each pair, ...), the same whichever grouping a request asks for, so that two requests of one document with
    /// the same filter hide the same totals. Primary: an aggregate with fewer than `MIN_ASSOCIATIONS` associations
    /// contributing a non-zero amount. Complementary, until no line of siblings (the groups sharing all dimensions
    /// but one, whose sum is the total without that dimension) gives a hidden one back: under a visible total,
    /// a hidden sibling holding an amount from an association other than the caller's is never the only one (the
    /// smallest other such sibling is hidden, or the total when there is none); under a hidden total, not every
    /// such sibling is visible. A hidden zero, or for an association a figure of its own alone, holds nothing of
    /// anyone else. Each aggregate depends only on its own figures, so the choice does not depend on the measures
    /// selected. Women (rural) clients of a group are the active clients of its women (rural) part and are hidden
    /// as those are. The branch registry is public and never hidden.
    fn suppress(&mut self, request: &CubeRequest) {
        // The groups of every grouping, per period, in a stable order.
        let mut index: store::FastMap<(period::Period, Vec<Dim>), Vec<GroupKey>> = store::FastMap::default();
        for (period, key) in self.cube.cells.keys() {
            index.entry((*period, key.dims())).or_default().push(*key);
        }
        index.values_mut().for_each(|keys| keys.sort());
        let mut hidden = Vec::new();
        for &period in &request.periods {
            let mut clients: Option<BTreeSet<GroupKey>> = None;
            for &agg in request.aggs.iter().filter(|a| a.source() != Source::Branches) {
                let at_level = index
                    .get(&(period, self.group_by.clone()))
                    .map_or(&[][..], |keys| &keys[..]);
                match agg {
                    Agg::ActiveFemale | Agg::ActiveRural => {
                        let clients = clients.get_or_insert_with(|| {
                            self.suppress_one(
                                &index,
                                Agg::ActiveClients,
                                period,
                                &request.lattice_dims(Source::Clients),
                            )
                        });
                        hidden.extend(
                            at_level
                                .iter()
                                .filter(|key| self.cube.get(period, key, agg).is_some())
                                .filter(|key| {
                                    let mut part = **key;
                                    if agg == Agg::ActiveFemale {
                                        part.gender = Some(db_enums::Gender::Female);
                                    } else {
                                        part.area = Some(db_enums::Area::Rural);
                                    }
                                    clients.contains(&part)
                                })
                                .map(|key| (period, *key, agg)),
                        );
                    }
                    _ => hidden.extend(
                        self.suppress_one(&index, agg, period, &request.lattice_dims(agg.source()))
                            .into_iter()
                            .filter(|key| key.dims() == self.group_by)
                            .map(|key| (period, key, agg)),
                    ),
                }
            }
        }
        self.hidden.extend(hidden);
    }

    /// The groups of every grouping by a subset of `dims` hidden for one aggregate in one period.
    fn suppress_one(
        &self,
        index: &store::FastMap<(period::Period, Vec<Dim>), Vec<GroupKey>>,
        agg: Agg,
        period: period::Period,
        dims: &[Dim],
    ) -> BTreeSet<GroupKey> {
        let contributors = |key: &GroupKey| self.cube.contributors(period, key, agg);
        // Only a part from someone else protects a hidden sibling (a zero, or the caller's own figure, does not).
        let protects = |key: &GroupKey| contributors(key).others > 0;
        let mut hidden: BTreeSet<GroupKey> = BTreeSet::new();
        let mut lines: Vec<(GroupKey, Vec<GroupKey>)> = Vec::new();
        for level in store::levels(dims) {
            let members: Vec<GroupKey> = index
                .get(&(period, level.clone()))
                .into_iter()
                .flatten()
                .filter(|key| self.cube.get(period, key, agg).is_some())
                .copied()
                .collect();
            hidden.extend(
                members
                    .iter()
                    .filter(|key| contributors(key).all < MIN_ASSOCIATIONS)
                    .copied(),
            );
            for &dim in &level {
                let mut by_total: BTreeMap<GroupKey, Vec<GroupKey>> = BTreeMap::new();
                for key in &members {
                    by_total.entry(without(*key, dim)).or_default().push(*key);
                }
                lines.extend(by_total);
            }
        }
        let smallest_visible = |line: &[GroupKey], hidden: &BTreeSet<GroupKey>| {
            line.iter()
                .filter(|k| !hidden.contains(k) && protects(k))
                .min_by_key(|k| (self.cube.get(period, k, agg), **k))
                .copied()
        };
        let mut changed = true;
        while changed {
            changed = false;
            for (total, line) in &lines {
                let guarding = line.iter().filter(|k| hidden.contains(k) && protects(k)).count();
                let next = match (hidden.contains(total), guarding) {
                    (false, 1) => Some(smallest_visible(line, &hidden).unwrap_or(*total)),
                    (true, 0) if protects(total) => smallest_visible(line, &hidden),
                    _ => None,
                };
                if let Some(next) = next
                    && hidden.insert(next)
                {
                    changed = true;
                }
            }
        }
        hidden
    }

    fn evaluate(
        &self,
        def: &MeasureDef,
        period: period::Period,
        key: &GroupKey,
    ) -> (Option<f64>, Option<f64>, Option<f64>) {
        let get = |agg: Agg| self.cube.get(period, key, agg).map(|raw| agg.public(raw));
        match def.formula {
            Formula::Sum(agg) => (get(agg), None, None),
            Formula::Ratio {
                numerator,
                denominator,
                percent,
            } => {
                let (n, d) = (get(numerator), get(denominator));
                let value = match (n, d) {
                    (Some(n), Some(d)) if d != 0.0 => Some(if percent { n / d * 100.0 } else { n / d }),
                    _ => None,
                };
                (value, n, d)
            }
        }
    }
}

/// The key with one dimension cleared: the group's siblings along that dimension share it.
fn without(mut key: GroupKey, dim: Dim) -> GroupKey {
    match dim {
        Dim::Association => key.association = None,
        Dim::Region => key.region = None,
        Dim::Segment => key.segment = None,
        Dim::Gender => key.gender = None,
        Dim::Area => key.area = None,
    }
    key
}

/// One period × group of the `indicators` answer. Dimensions not grouped by are null.
pub struct IndicatorRow {
    period: period::Period,
    key: GroupKey,
    shared: Arc<Shared>,
}

impl IndicatorRow {
    fn measure(&self, field: &str) -> Result<Option<Measure>> {
        Ok(self.shared.measure(catalog::measure(field), self.period, &self.key)?)
    }
}

impl Shared {
    /// One measure of one period and group, as a response shows it: null parts for hidden aggregates, the
    /// comparison, the target and whether it was revised.
    fn measure(&self, def: &MeasureDef, period: period::Period, key: &GroupKey) -> Result<Option<Measure>, ApiError> {
        let shared = self;
        shared.supports(def)?;
        // A measure is hidden in a period when any aggregate it reads is.
        let hidden = |period| {
            def.formula
                .aggs()
                .into_iter()
                .any(|agg| shared.is_hidden(period, key, agg))
        };
        let suppressed = hidden(period);
        let previous = shared
            .compare
            .map(|c| c.of(period))
            .filter(|p| !hidden(*p))
            .and_then(|p| shared.evaluate(def, p, key).0);
        let (value, numerator, denominator) = shared.evaluate(def, period, key);
        if suppressed {
            // The parts of a ratio that are not hidden themselves stay visible.
            let part = |agg: Option<Agg>, part: Option<f64>| {
                part.filter(|_| agg.is_some_and(|agg| !shared.is_hidden(period, key, agg)))
            };
            let (n, d) = match def.formula {
                Formula::Ratio {
                    numerator: n,
                    denominator: d,
                    ..
                } => (Some(n), Some(d)),
                Formula::Sum(_) => (None, None),
            };
            return Ok(Some(Measure {
                suppressed: true,
                previous,
                numerator: part(n, numerator),
                denominator: part(d, denominator),
                ..Measure::default()
            }));
        }
        let target = match def.target {
            Some(agg) if shared.targets_apply() && !shared.is_hidden(period, key, agg) => {
                shared.cube.get(period, key, agg).map(|raw| agg.public(raw))
            }
            _ => None,
        };
        if value.is_none() && previous.is_none() && target.is_none() {
            return Ok(None);
        }
        let change = value.zip(previous).map(|(v, p)| v - p);
        let change_percent = if def.is_rate() {
            None
        } else {
            value
                .zip(previous)
                .filter(|(_, p)| *p != 0.0)
                .map(|(v, p)| (v - p) / p.abs() * 100.0)
        };
        let target_achievement = value.zip(target).filter(|(_, t)| *t != 0.0).map(|(v, t)| v / t * 100.0);
        let revised = shared.is_revised(def, period, key);
        Ok(Some(Measure {
            revised,
            value,
            numerator,
            denominator,
            previous,
            change,
            change_percent,
            suppressed: false,
            target,
            target_achievement,
        }))
    }
}

/// One measure of one month, per group of `group_by`, as `indicators` answers it to a caller with this access (the
/// current data, its comparison, small groups hidden when `small_groups` is given, as in a response of a document
/// grouping by `group_by` alone). Alert rules judge these values.
#[allow(clippy::too_many_arguments)]
pub async fn measure_per_group<C: sea_orm::ConnectionTrait>(
    db: &C,
    def: &'static MeasureDef,
    month: period::Month,
    group_by: Vec<Dim>,
    filter: CubeFilter,
    compare: Option<Comparison>,
    access: crate::scope::RowAccess,
    small_groups: Option<crate::scope::SmallGroups>,
) -> Result<Vec<(GroupKey, Measure)>, ApiError> {
    let period = period::Period::containing(Granularity::Month, month);
    let mut periods: BTreeSet<period::Period> = [period].into();
    periods.extend(compare.map(|c| c.of(period)));
    let shared = Shared {
        cube: Cube::default(),
        compare,
        group_by: group_by.clone(),
        filter_dims: filter.dims(),
        hidden: store::FastSet::default(),
        reports: None,
        changes: None,
    };
    shared.supports(def)?;
    let request = CubeRequest {
        granularity: Granularity::Month,
        periods,
        group_by: group_by.clone(),
        filter,
        aggs: def.formula.aggs().into_iter().collect(),
        use_rollups: true,
        access,
        small_groups,
        document_dims: Some(group_by.iter().copied().collect()),
        derived: None,
    };
    let mut request = request;
    if small_groups.is_some() {
        let months = periods_months(&request.periods);
        let vintage = crate::vintage::as_released(db, None, Some(&months)).await?;
        request.derived = Some(derived(db.get_database_backend(), &vintage));
    }
    let mut shared = shared;
    shared.cube = store::compute(db, &request).await?;
    if small_groups.is_some() {
        shared.suppress(&request);
    }
    let mut measures = Vec::new();
    for key in shared.cube.groups(period) {
        if let Some(measure) = shared.measure(def, period, &key)? {
            measures.push((key, measure));
        }
    }
    Ok(measures)
}

/// The months a set of periods covers, first to last.
fn periods_months(periods: &BTreeSet<period::Period>) -> std::ops::RangeInclusive<period::Month> {
    let first = periods.first().map(|p| p.first_month());
    let last = periods.last().map(|p| p.last_month());
    match (first, last) {
        (Some(first), Some(last)) => first..=last,
        _ => period::Month(0)..=period::Month(0),
    }
}

/// The derived fact tables of a vintage (none when no association-month was replaced since, so that rollups serve),
/// and its released months.
fn derived(backend: sea_orm::DbBackend, vintage: &crate::vintage::Vintage) -> Arc<Derived> {
    Arc::new(Derived {
        tables: if vintage.replaced.is_empty() {
            HashMap::new()
        } else {
            crate::vintage::VERSIONED
                .iter()
                .map(|(facts, ..)| {
                    (
                        *facts,
                        crate::vintage::sql(backend, &crate::vintage::facts(facts, vintage)),
                    )
                })
                .collect()
        },
        released: Some(vintage.released.clone()),
    })
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
            /// Associations with an accepted report for every month of the row's period over the associations
            /// expected to report it (the active ones, as `reportingStatus` lists them): of the row's association
            /// when grouped by association, of the `associations` filter when given, else of the whole sector.
            async fn coverage(&self) -> Result<ReportingCoverage> {
                let reports = self.shared.reports.as_ref().ok_or_else(|| {
                    ApiError::Internal("coverage was not read before the rows were made".to_owned())
                })?;
                Ok(reports.coverage(self.period, self.key.association))
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
    par30_amount => "par30Amount", "Portfolio at risk over 30 days at the end of the period (MAD, stock).";
    par30_rate => "par30Rate", "PAR30 ÷ gross outstanding at the end of the period (%, stock).";
    par90_amount => "par90Amount", "Portfolio at risk over 90 days at the end of the period (MAD, stock).";
    par90_rate => "par90Rate", "PAR90 ÷ gross outstanding at the end of the period (%, stock).";
    write_off_amount => "writeOffAmount", "Amount written off during the period (MAD, flow).";
    collection_rate => "collectionRate", "Repayments collected ÷ repayments due during the period (%, flow).";
    branches => "branches", "Fixed agencies open on the last day of the period (count, stock; by association, region and area).";
    mobile_branches => "mobileBranches", "Mobile branches open on the last day of the period (count, stock; by association, region and area).";
    staff => "staff", "Staff members at the end of the period (count, stock; by association and gender).";
    clients_per_staff => "clientsPerStaff", "Active clients ÷ staff members at the end of the period (stock; by association).";
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
    /// Active clients per staff member.
    ClientsPerStaff,
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

/// A measure of the catalogue.
pub struct MeasureInfo(&'static MeasureDef);

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
        let mut group_by: Vec<Dim> = group_by.into_iter().map(Into::into).collect();
        group_by.sort();
        group_by.dedup();
        let filter = filter.unwrap_or_default();
        let cube_filter = CubeFilter {
            associations: crate::association::store::resolve(db(ctx), &filter.associations).await?,
            regions: crate::region::store::resolve(db(ctx), &filter.regions).await?,
            segments: crate::enums::to_db::<_, db_enums::Segment>(&filter.segments),
            genders: crate::enums::to_db::<_, db_enums::Gender>(&filter.genders),
            areas: crate::enums::to_db::<_, db_enums::Area>(&filter.areas),
        };
        let (access, small_groups) = scope(ctx).indicator_access(
            group_by.contains(&Dim::Association),
            cube_filter.associations.as_deref(),
        )?;
        let mut shared = Shared {
            cube: Cube::default(),
            compare: compare_to,
            group_by,
            filter_dims: cube_filter.dims(),
            hidden: store::FastSet::default(),
            reports: None,
            changes: None,
        };

        let selection = ctx.look_ahead();
        let mut aggs = BTreeSet::new();
        let mut refused = None;
        for def in MEASURES {
            let field = selection.field(def.field);
            if !field.exists() {
                continue;
            }
            if let Err(error) = shared.supports(def) {
                refused.get_or_insert(error);
                continue;
            }
            aggs.extend(def.formula.aggs());
            if let Some(target) = def.target
                && shared.targets_apply()
                && (field.field("target").exists() || field.field("targetAchievement").exists())
            {
                aggs.insert(target);
            }
        }
        if let Some(error) = refused.filter(|_| aggs.is_empty()) {
            // No measure asked for can be computed: there would be no row to carry the field errors.
            return Err(error.into());
        }
        let mut all_periods: BTreeSet<period::Period> = periods.iter().copied().collect();
        if let Some(compare) = compare_to {
            all_periods.extend(periods.iter().map(|p| compare.of(*p)));
        }
        let months = all_periods.first().expect("a range has a period").first_month()
            ..=all_periods.last().expect("a range has a period").last_month();
        let as_of = as_of.map(|t| t.0);
        // Callers whose small groups are hidden read every month as released; the others the data at `asOf`.
        let vintage = match (as_of, small_groups) {
            (at, Some(_)) => Some(crate::vintage::as_released(db(ctx), at, Some(&months)).await?),
            (Some(at), None) => Some(crate::vintage::at(db(ctx), at, Some(&months)).await?),
            (None, None) => None,
        };
        let backend = db(ctx).get_database_backend();
        let derived = vintage.as_ref().map(|vintage| derived(backend, vintage));
        let request = CubeRequest {
            granularity: period.granularity.into(),
            periods: all_periods,
            group_by: shared.group_by.clone(),
            filter: cube_filter,
            aggs: aggs.clone(),
            use_rollups: true,
            access,
            small_groups,
            document_dims: ctx.data_opt::<DocumentGroupings>().map(|g| g.0.clone()),
            derived,
        };
        let only: Option<HashSet<i32>> = request
            .filter
            .associations
            .as_ref()
            .map(|ids| ids.iter().copied().collect());
        shared.cube = store::compute(db(ctx), &request).await?;
        // As released, nothing is revised after its release.
        if small_groups.is_none()
            && MEASURES
                .iter()
                .any(|def| selection.field(def.field).field("revised").exists())
        {
            let changed = crate::vintage::changed_after_release(db(ctx), as_of, &months).await?;
            let tables: HashMap<&'static str, String> = crate::vintage::VERSIONED
                .iter()
                .filter_map(|(facts, ..)| {
                    crate::vintage::changes(facts, &changed)
                        .map(|changes| (*facts, crate::vintage::sql(backend, &changes)))
                })
                .collect();
            if !tables.is_empty() {
                let versioned: BTreeSet<Agg> = aggs
                    .iter()
                    .copied()
                    .filter(|agg| matches!(agg.source(), Source::Clients | Source::Loans | Source::Staff))
                    .collect();
                let changes = CubeRequest {
                    aggs: versioned,
                    use_rollups: false,
                    small_groups: None,
                    document_dims: None,
                    derived: Some(Arc::new(Derived {
                        tables,
                        released: vintage.as_ref().map(|v| v.released.clone()),
                    })),
                    ..request.clone()
                };
                shared.changes = Some(store::compute(db(ctx), &changes).await?);
            }
        }
        if selection.field("coverage").exists() {
            let months = periods.first().expect("a range has a period").first_month()
                ..=periods.last().expect("a range has a period").last_month();
            let mut accepted = crate::submission::store::accepted_months(db(ctx), months).await?;
            if let Some(vintage) = &vintage {
                // As of an earlier instant, an association-month whose first report came later was not reported.
                for ((association, month), standing) in &vintage.replaced {
                    if *standing == crate::vintage::Version::Superseded(0)
                        && let Some(months) = accepted.get_mut(association)
                    {
                        months.remove(month);
                    }
                }
            }
            shared.reports = Some(Reports { accepted, only });
        }
        let rows: usize = periods.iter().map(|p| shared.cube.groups(*p).len()).sum();
        if rows > MAX_ROWS {
            return Err(ApiError::bad_input(format!(
                "this answer would have {rows} rows, more than {MAX_ROWS}: group by fewer dimensions, use a coarser \
                 granularity or a shorter range, or filter"
            ))
            .into());
        }
        if small_groups.is_some() {
            shared.suppress(&request);
        }
        let shared = Arc::new(shared);
        Ok(periods
            .into_iter()
            .flat_map(|p| {
                let shared = shared.clone();
                shared.cube.groups(p).into_iter().map(move |key| IndicatorRow {
                    period: p,
                    key,
                    shared: shared.clone(),
                })
            })
            .collect())
    }

    /// Every measure `indicators` offers, with its labels, unit, kind, formula and dimensions.
    async fn indicator_catalog(&self) -> Vec<MeasureInfo> {
        MEASURES.iter().map(MeasureInfo).collect()
    }
}
