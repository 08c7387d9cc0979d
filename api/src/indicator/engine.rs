//! The indicator engine: a request (measures, periods, grouping, filter, comparison, access) becomes an answer whose
//! rows carry each measure's value, its parts, comparison, target, revision flag and reporting coverage, with small
//! groups hidden for the callers who must not see them (see `hiding`). The sums are read by `store`; nothing here
//! knows GraphQL: `indicators` (in `mod.rs`) and the alert judge both call it.

use super::catalog::{Agg, Dim, Formula, MeasureDef, Ratio, Source};
use super::cube::{Cube, CubeFilter, CubeRequest, Derived, GroupKey};
use super::hiding::{self, Hidden};
use super::store;
use crate::error::ApiError;
use crate::period::{self, Granularity, Period};
use crate::scope::{RowAccess, SmallGroups};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// Most periods one `indicators` request may cover (20 years of months).
pub const MAX_PERIODS: usize = 240;
/// Most rows (periods × groups) one `indicators` answer may have.
pub const MAX_ROWS: usize = 10_000;

/// The period each row is compared with.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Comparison {
    /// The period just before (the previous month, quarter or year).
    PreviousPeriod,
    /// The same period one year earlier.
    SamePeriodPreviousYear,
}

impl Comparison {
    pub fn of(self, period: Period) -> Period {
        match self {
            Comparison::PreviousPeriod => period.shift(-1),
            Comparison::SamePeriodPreviousYear => period.previous_year(),
        }
    }
}

/// Every period at `granularity` from the one containing `from`'s first month to the one containing `to`'s last,
/// in order.
pub fn periods(granularity: Granularity, from: Period, to: Period) -> Result<Vec<Period>, ApiError> {
    let first = Period::containing(granularity, from.first_month());
    let last = Period::containing(granularity, to.last_month());
    if first > last {
        return Err(ApiError::bad_input(format!("`from` ({from}) is after `to` ({to})")));
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

/// The value of one measure for one row, with its parts, its comparison and its target (`Measure` in the schema,
/// which documents each field).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Measure {
    pub value: Option<f64>,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub previous: Option<f64>,
    pub change: Option<f64>,
    pub change_percent: Option<f64>,
    /// Hidden to protect a small group.
    pub suppressed: bool,
    pub target: Option<f64>,
    pub target_achievement: Option<f64>,
    /// Of the associations with figures in the row's group and period, those that set a target for it (`reporting`):
    /// the target is shown only when all did. `None` when no target was read.
    pub target_coverage: Option<Coverage>,
    /// A figure summed into the value changed after its month's release.
    pub revised: bool,
}

/// Associations that reported a row's period over the associations expected to report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coverage {
    pub reporting: i32,
    pub expected: i32,
}

/// A measure asked for.
#[derive(Debug, Clone, Copy)]
pub struct Selected {
    pub def: &'static MeasureDef,
    /// Its target (or the achievement of it) is read.
    pub target: bool,
}

/// What to compute.
#[derive(Debug, Clone)]
pub struct Request {
    pub granularity: Granularity,
    /// The periods of the rows, in order (see [`periods`]).
    pub periods: Vec<Period>,
    /// Dimensions to group by.
    pub group_by: Vec<Dim>,
    pub filter: CubeFilter,
    pub compare: Option<Comparison>,
    /// The data as it stood at this instant (for callers who see small groups; the others read the data as released
    /// by then); `None`: now.
    pub as_of: Option<DateTime<Utc>>,
    /// Which monthly rows may be summed.
    pub access: RowAccess,
    /// The caller must not see small groups.
    pub small_groups: Option<SmallGroups>,
    /// The dimensions any `indicators` field of the caller's document groups by (`None`: unknown, every one).
    pub document_dims: Option<BTreeSet<Dim>>,
    pub measures: Vec<Selected>,
    /// Whether any measure's `revised` is read.
    pub revised: bool,
    /// Whether the rows' coverage is read.
    pub coverage: bool,
    /// The request's aggregate reads, shared by every field of its document.
    pub reads: store::Reads,
}

/// Who is expected to report, and which months each has an accepted report for: read once per request, for
/// the rows' coverage.
struct Reports {
    /// Expected association → months (`yyyymm`) with an accepted report.
    accepted: HashMap<i32, BTreeSet<i32>>,
    /// The request's `associations` filter.
    only: Option<HashSet<i32>>,
}

impl Reports {
    fn coverage(&self, period: Period, association: Option<i32>) -> Coverage {
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
        Coverage {
            reporting,
            expected: count,
        }
    }
}

/// The financial ratios of an answer's periods and groups (`finance::ratios`), and the inflation of each year.
#[derive(Default)]
struct Finance {
    groups: crate::finance::ratios::Grouped,
    inflation: HashMap<i32, f64>,
}

impl Finance {
    fn sums(&self, period: Period, key: &GroupKey, ratio: Ratio) -> Option<crate::finance::ratios::Sums> {
        if key.dims().iter().any(|d| *d != Dim::Association) {
            return None;
        }
        self.groups
            .get(&(period, key.association))
            .and_then(|ratios| ratios.get(&ratio))
            .copied()
    }
}

/// What every row of one answer shares; each measure of a row is evaluated from it when asked for.
pub struct Answer {
    granularity: Granularity,
    /// The periods of the rows.
    periods: Vec<Period>,
    cube: Cube,
    compare: Option<Comparison>,
    group_by: Vec<Dim>,
    filter_dims: Vec<Dim>,
    /// Grouped or filtered by activity: the loan measures are read from the loans by activity.
    by_activity: bool,
    /// Aggregates hidden to protect small groups. Every field reading one of them is null.
    hidden: Hidden,
    /// Read when coverage is asked for.
    reports: Option<Reports>,
    /// Read when `revised` is asked for and a released month changed after its release: the change of every
    /// aggregate since release (the standing figures minus those at release). A non-zero change is a revised value.
    changes: Option<Cube>,
    /// Per target read, period and group: the associations with figures that set a target, and those with figures.
    target_coverage: store::TargetCoverage,
    /// Read when a financial ratio is asked for.
    finance: Option<Finance>,
    /// The caller must not see small groups: a financial ratio of fewer than `MIN_ASSOCIATIONS` associations is
    /// hidden.
    hides_small_groups: bool,
}

/// Computes an answer: one statement per source touched (and per source again for `revised`), coverage when asked
/// for, then small groups hidden when the caller must not see them.
pub async fn compute<C: ConnectionTrait>(db: &C, request: Request) -> Result<Answer, ApiError> {
    let Request {
        granularity,
        periods,
        mut group_by,
        filter,
        compare,
        as_of,
        access,
        small_groups,
        document_dims,
        measures,
        revised,
        coverage,
        reads,
    } = request;
    group_by.sort();
    group_by.dedup();
    let mut answer = Answer {
        granularity,
        periods,
        cube: Cube::default(),
        compare,
        by_activity: group_by.contains(&Dim::Activity) || filter.activities.is_some(),
        group_by,
        filter_dims: filter.dims(),
        hidden: Hidden::default(),
        reports: None,
        changes: None,
        target_coverage: store::TargetCoverage::new(),
        finance: None,
        hides_small_groups: small_groups.is_some(),
    };
    let mut aggs = BTreeSet::new();
    let mut refused = None;
    for selected in &measures {
        let def = selected.def;
        if let Err(error) = answer.supports(def) {
            refused.get_or_insert(error);
            continue;
        }
        aggs.extend(answer.formula(def).aggs());
        if let Some(target) = def.target
            && answer.targets_apply()
            && selected.target
        {
            aggs.insert(target);
        }
    }
    let financial = measures
        .iter()
        .any(|m| matches!(m.def.formula, Formula::Financial(_)) && answer.supports(m.def).is_ok());
    if let Some(error) = refused.filter(|_| aggs.is_empty() && !financial) {
        // No measure asked for can be computed: there would be no row to carry the field errors.
        return Err(error);
    }
    if answer.by_activity && small_groups.is_some() && filter.activities.is_none() {
        // A region's (or the sector's) total over every activity is the loans table's total: hiding decides it with
        // the loans' groupings, read along (see `hiding::hide`).
        let loans: Vec<Agg> = aggs.iter().map(|agg| agg.of_loans()).collect();
        aggs.extend(loans);
    }
    let periods = &answer.periods;
    let mut all_periods: BTreeSet<Period> = periods.iter().copied().collect();
    if let Some(compare) = compare {
        all_periods.extend(periods.iter().map(|p| compare.of(*p)));
    }
    if measures.iter().any(|m| m.def.formula.opens()) {
        // An average over month-ends opens with the month-end before the period: the previous period's closing.
        let openings: Vec<Period> = all_periods.iter().map(|p| p.shift(-1)).collect();
        all_periods.extend(openings);
    }
    let months = all_periods.first().expect("a range has a period").first_month()
        ..=all_periods.last().expect("a range has a period").last_month();
    // Callers whose small groups are hidden read every month as released; the others the data at `as_of`.
    let place = reads.place().await;
    let vintage = match (as_of, small_groups) {
        (at, Some(_)) => Some(crate::vintage::as_released(db, at, Some(&months)).await?),
        (Some(at), None) => Some(crate::vintage::at(db, at, Some(&months)).await?),
        (None, None) => None,
    };
    drop(place);
    let derived = vintage.as_ref().map(derived);
    let request = CubeRequest {
        granularity,
        periods: all_periods,
        group_by: answer.group_by.clone(),
        filter,
        aggs: aggs.clone(),
        use_rollups: true,
        access,
        small_groups,
        document_dims,
        derived,
    };
    let only: Option<HashSet<i32>> = request
        .filter
        .associations
        .as_ref()
        .map(|ids| ids.iter().copied().collect());
    if !aggs.is_empty() {
        answer.cube = store::compute(db, &request, &reads).await?;
    }
    if financial {
        let periods: Vec<Period> = request.periods.iter().copied().collect();
        answer.finance = Some(
            read_finance(
                db,
                &periods,
                &request,
                match (as_of, small_groups) {
                    (at, Some(_)) => crate::finance::store::Standing::AsReleased(at),
                    (Some(at), None) => crate::finance::store::Standing::At(at),
                    (None, None) => crate::finance::store::Standing::Now,
                },
                &reads,
            )
            .await?,
        );
    }
    let targets: Vec<Agg> = aggs
        .iter()
        .copied()
        .filter(|agg| agg.source() == Source::Targets)
        .collect();
    answer.target_coverage = store::target_coverage(db, &targets, &request, &reads).await?;
    // As released, nothing is revised after its release.
    if small_groups.is_none() && revised {
        let changed = crate::vintage::changed_after_release(db, as_of, &months).await?;
        let tables: HashMap<&'static str, _> = crate::facts::ALL
            .into_iter()
            .filter_map(|facts| crate::vintage::changes(facts, &changed).map(|changes| (facts.table, changes)))
            .collect();
        if !tables.is_empty() {
            let versioned: BTreeSet<Agg> = aggs
                .iter()
                .copied()
                .filter(|agg| agg.source().facts().is_some())
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
            answer.changes = Some(store::compute(db, &changes, &reads).await?);
        }
    }
    let periods = &answer.periods;
    if coverage {
        let months = periods.first().expect("a range has a period").first_month()
            ..=periods.last().expect("a range has a period").last_month();
        let mut accepted = crate::reporting::accepted_months(db, months).await?;
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
        answer.reports = Some(Reports { accepted, only });
    }
    let rows: usize = periods.iter().map(|p| answer.cube.groups(*p).len()).sum();
    if rows > MAX_ROWS {
        return Err(ApiError::bad_input(format!(
            "this answer would have {rows} rows, more than {MAX_ROWS}: group by fewer dimensions, use a coarser \
             granularity or a shorter range, or filter"
        )));
    }
    if small_groups.is_some() {
        answer.hidden = hiding::hide(&answer.cube, &request, &reads.decisions);
    }
    Ok(answer)
}

impl Answer {
    /// The rows: every period × group with data, ordered by period then group.
    pub fn rows(&self) -> Vec<(Period, GroupKey)> {
        self.periods
            .iter()
            .flat_map(|p| {
                let mut keys = self.cube.groups(*p);
                if let Some(finance) = &self.finance {
                    let by_association = self.group_by == [Dim::Association];
                    if by_association || self.group_by.is_empty() {
                        keys.extend(
                            finance
                                .groups
                                .keys()
                                .filter(|(period, _)| period == p)
                                .map(|(_, a)| GroupKey {
                                    association: *a,
                                    ..GroupKey::default()
                                }),
                        );
                        keys.sort();
                        keys.dedup();
                    }
                }
                keys.into_iter().map(move |key| (*p, key))
            })
            .collect()
    }

    /// Associations with an accepted report for every month of the period over those expected to report it: of
    /// `association` when given, of the `associations` filter when given, else of the whole sector.
    pub fn coverage(&self, period: Period, association: Option<i32>) -> Result<Coverage, ApiError> {
        let reports = self
            .reports
            .as_ref()
            .ok_or_else(|| ApiError::Internal("coverage was not read before the rows were made".to_owned()))?;
        Ok(reports.coverage(period, association))
    }

    /// The measure's formula as this answer reads it (over the loans by activity when grouped or filtered by it).
    fn formula(&self, def: &MeasureDef) -> Formula {
        def.formula_for(self.by_activity)
    }

    fn supports(&self, def: &MeasureDef) -> Result<(), ApiError> {
        if matches!(def.formula, Formula::Financial(_)) && self.granularity == Granularity::Month {
            return Err(ApiError::bad_input(format!(
                "{} is computed from the quarterly financial statements: ask it at QUARTER or YEAR granularity",
                def.field
            )));
        }
        let dims = def.dims();
        let asked = || self.group_by.iter().chain(&self.filter_dims);
        if self.by_activity
            && dims.contains(&Dim::Activity)
            && let Some(other) = asked().find(|d| !Dim::WITH_ACTIVITY.contains(d))
        {
            return Err(ApiError::bad_input(format!(
                "{} has no breakdown by {} together with ACTIVITY: the loans by activity are reported by association \
                 and region only, so ACTIVITY combines with ASSOCIATION and REGION",
                def.field,
                other.name()
            )));
        }
        match asked().find(|d| !dims.contains(d)) {
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

    /// Targets exist per association and month, over all its regions and activities or for one region, activity or
    /// both: by association, region and activity, or sector-wide.
    fn targets_apply(&self) -> bool {
        self.group_by
            .iter()
            .chain(&self.filter_dims)
            .all(|d| Dim::WITH_ACTIVITY.contains(d))
    }

    /// Whether a figure summed into a measure's value changed after its month's release.
    fn is_revised(&self, def: &MeasureDef, period: Period, key: &GroupKey) -> bool {
        self.changes.as_ref().is_some_and(|changes| {
            self.formula(def)
                .aggs()
                .into_iter()
                .any(|agg| changes.get(period, key, agg).is_some_and(|change| change != 0))
        })
    }

    /// The value of a measure and, for a ratio, its numerator and denominator.
    fn evaluate(&self, def: &MeasureDef, period: Period, key: &GroupKey) -> (Option<f64>, Option<f64>, Option<f64>) {
        let at = |period: Period, agg: Agg| self.cube.get(period, key, agg).map(|raw| agg.public(raw));
        let get = |agg: Agg| at(period, agg);
        match self.formula(def) {
            Formula::OverAverage { flow, average, outflow } => {
                let months = f64::from(period.granularity.months());
                let (opening, closing) = (at(period.shift(-1), average.stock), get(average.stock));
                let (Some(opening), Some(month_sum), Some(flow)) = (opening, get(average.month_sum), get(flow)) else {
                    return (None, None, None);
                };
                let mean = (opening + month_sum) / (months + 1.0);
                let moved = if outflow {
                    match closing {
                        Some(closing) => opening + flow - closing,
                        None => return (None, None, None),
                    }
                } else {
                    flow
                };
                let annualised = moved * 12.0 / months;
                let value = (mean != 0.0).then(|| annualised / mean * 100.0);
                (value, Some(annualised), Some(mean))
            }
            Formula::Sum(agg) => (get(agg), None, None),
            Formula::Financial(ratio) => {
                let Some(sums) = self.finance.as_ref().and_then(|f| f.sums(period, key, ratio)) else {
                    return (None, None, None);
                };
                let inflation = self
                    .finance
                    .as_ref()
                    .and_then(|f| f.inflation.get(&period.first_month().year()).copied());
                (
                    crate::finance::ratios::value(ratio, sums.numerator, sums.denominator, inflation),
                    Some(sums.numerator),
                    Some(sums.denominator),
                )
            }
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

    /// One measure of one period and group, as an answer shows it: null parts for hidden aggregates, the
    /// comparison, the target and whether it was revised; `None` when there is nothing to show. A measure without
    /// a breakdown by the grouping or filter answers an error.
    pub fn measure(&self, def: &MeasureDef, period: Period, key: &GroupKey) -> Result<Option<Measure>, ApiError> {
        self.supports(def)?;
        // A measure is hidden in a period when any aggregate it reads is.
        let formula = self.formula(def);
        let hidden = |period: Period| {
            if let Formula::Financial(ratio) = formula {
                // A ratio of fewer associations than a small group's is hidden; there is no finer breakdown to
                // difference it from.
                return self.hides_small_groups
                    && self
                        .finance
                        .as_ref()
                        .and_then(|f| f.sums(period, key, ratio))
                        .is_some_and(|s| i64::from(s.contributors) < crate::scope::MIN_ASSOCIATIONS);
            }
            let opening = match formula {
                Formula::OverAverage { average, .. } => self.hidden.contains(period.shift(-1), key, average.stock),
                _ => false,
            };
            opening
                || formula
                    .aggs()
                    .into_iter()
                    .any(|agg| self.hidden.contains(period, key, agg))
        };
        let suppressed = hidden(period);
        let previous = self
            .compare
            .map(|c| c.of(period))
            .filter(|p| !hidden(*p))
            .and_then(|p| self.evaluate(def, p, key).0);
        let (value, numerator, denominator) = self.evaluate(def, period, key);
        if suppressed {
            // The parts of a ratio that are not hidden themselves stay visible.
            let part = |agg: Option<Agg>, part: Option<f64>| {
                part.filter(|_| agg.is_some_and(|agg| !self.hidden.contains(period, key, agg)))
            };
            let (n, d) = match formula {
                Formula::Ratio {
                    numerator: n,
                    denominator: d,
                    ..
                } => (Some(n), Some(d)),
                Formula::Sum(_) | Formula::OverAverage { .. } | Formula::Financial(_) => (None, None),
            };
            return Ok(Some(Measure {
                suppressed: true,
                previous,
                numerator: part(n, numerator),
                denominator: part(d, denominator),
                ..Measure::default()
            }));
        }
        let target_coverage = def
            .target
            .and_then(|agg| self.target_coverage.get(&agg))
            .map(|coverage| {
                let (covered, expected) = coverage.get(&(period, *key)).copied().unwrap_or_default();
                Coverage {
                    reporting: covered as i32,
                    expected: expected as i32,
                }
            });
        let target = match (def.target, target_coverage) {
            (Some(agg), Some(coverage))
                if self.targets_apply()
                    && !self.hidden.contains(period, key, agg)
                    && coverage.reporting == coverage.expected =>
            {
                self.cube.get(period, key, agg).map(|raw| agg.public(raw))
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
        Ok(Some(Measure {
            revised: self.is_revised(def, period, key),
            value,
            numerator,
            denominator,
            previous,
            change,
            change_percent,
            suppressed: false,
            target,
            target_achievement,
            target_coverage,
        }))
    }
}

/// One measure of one month, per group of `group_by`, as `indicators` answers it to a caller with this access (the
/// current data, its comparison, small groups hidden when `small_groups` is given, as in a response of a document
/// grouping by `group_by` alone). Alert rules judge these values.
#[allow(clippy::too_many_arguments)]
pub async fn measure_per_group<C: ConnectionTrait>(
    db: &C,
    def: &'static MeasureDef,
    month: period::Month,
    group_by: Vec<Dim>,
    filter: CubeFilter,
    compare: Option<Comparison>,
    access: RowAccess,
    small_groups: Option<SmallGroups>,
) -> Result<Vec<(GroupKey, Measure)>, ApiError> {
    let period = Period::containing(Granularity::Month, month);
    measure_per_group_at(db, def, period, group_by, filter, compare, access, small_groups).await
}

/// One measure of one period (a month, or a quarter for the financial ratios), per group of `group_by`, as
/// `measure_per_group` gives it.
#[allow(clippy::too_many_arguments)]
pub async fn measure_per_group_at<C: ConnectionTrait>(
    db: &C,
    def: &'static MeasureDef,
    period: Period,
    group_by: Vec<Dim>,
    filter: CubeFilter,
    compare: Option<Comparison>,
    access: RowAccess,
    small_groups: Option<SmallGroups>,
) -> Result<Vec<(GroupKey, Measure)>, ApiError> {
    let answer = compute(
        db,
        Request {
            granularity: period.granularity,
            periods: vec![period],
            document_dims: Some(group_by.iter().copied().collect()),
            group_by,
            filter,
            compare,
            as_of: None,
            access,
            small_groups,
            measures: vec![Selected { def, target: false }],
            revised: false,
            coverage: false,
            reads: store::Reads::default(),
        },
    )
    .await?;
    let mut measures = Vec::new();
    for (period, key) in answer.rows() {
        if let Some(measure) = answer.measure(def, period, &key)? {
            measures.push((key, measure));
        }
    }
    Ok(measures)
}

/// The derived fact tables of a vintage (none when no association-month was replaced since, so that rollups serve),
/// and its released months.
fn derived(vintage: &crate::vintage::Vintage) -> Arc<Derived> {
    Arc::new(Derived {
        tables: if vintage.replaced.is_empty() {
            HashMap::new()
        } else {
            crate::facts::ALL
                .into_iter()
                .map(|facts| (facts.table, crate::vintage::facts(facts, vintage)))
                .collect()
        },
        released: Some(vintage.released.clone()),
    })
}

/// The financial ratios of a request's periods: the association-month figures they read from the monthly rows (one
/// aggregate statement by association and month, with the request's access and vintage), the statements as they
/// stood (`standing`), the reference series, each association's parts, then the sector's or each association's sums.
async fn read_finance<C: ConnectionTrait>(
    db: &C,
    periods: &[Period],
    request: &CubeRequest,
    standing: crate::finance::store::Standing,
    reads: &store::Reads,
) -> Result<Finance, ApiError> {
    use crate::finance::ratios::{self, MonthEnd};
    let periods: Vec<Period> = periods
        .iter()
        .copied()
        .filter(|p| p.granularity != Granularity::Month)
        .collect();
    let (Some(first), Some(last)) = (periods.first(), periods.last()) else {
        return Ok(Finance::default());
    };
    let (from, to) = (first.first_month().shift(-1), last.last_month());
    let mut months = BTreeSet::new();
    let mut month = from;
    while month <= to {
        months.insert(Period::containing(Granularity::Month, month));
        month = month.shift(1);
    }
    let monthly = CubeRequest {
        granularity: Granularity::Month,
        periods: months,
        group_by: vec![Dim::Association],
        filter: CubeFilter {
            associations: request.filter.associations.clone(),
            ..CubeFilter::default()
        },
        aggs: [
            Agg::Outstanding,
            Agg::Par30,
            Agg::ActiveClients,
            Agg::ActiveLoans,
            Agg::WriteOff,
            Agg::Staff,
        ]
        .into_iter()
        .collect(),
        use_rollups: true,
        access: request.access,
        small_groups: None,
        document_dims: None,
        derived: request.derived.clone(),
    };
    let cube = store::compute(db, &monthly, reads).await?;
    let mut month_ends: HashMap<(i32, i32), MonthEnd> = HashMap::new();
    for period in &monthly.periods {
        for key in cube.groups(*period) {
            let Some(association) = key.association else { continue };
            let get = |agg: Agg| cube.get(*period, &key, agg).map(|raw| agg.public(raw));
            month_ends.insert(
                (association, period.start.0),
                MonthEnd {
                    outstanding: get(Agg::Outstanding),
                    par30: get(Agg::Par30),
                    active_clients: get(Agg::ActiveClients),
                    active_loans: get(Agg::ActiveLoans),
                    write_offs: get(Agg::WriteOff),
                    staff: get(Agg::Staff),
                },
            );
        }
    }
    let statements = crate::finance::store::standing_lines(
        db,
        request.access,
        request.filter.associations.as_deref(),
        from.0..=to.0,
        standing,
    )
    .await?;
    let (inflation, market_rate) = crate::finance::store::reference_series(db).await?;
    let per = ratios::per_association(&periods, &statements, &month_ends, &inflation, &market_rate);
    Ok(Finance {
        groups: ratios::group(&per, request.group_by.contains(&Dim::Association)),
        inflation,
    })
}

/// Each association's parts of every financial ratio over one quarter or year, with the year's inflation, for peer
/// statistics: the monthly rows and statements the access allows, as released when `as_released` (for the readers
/// whose small groups are hidden), else as they stand.
pub async fn financial_per_association<C: ConnectionTrait>(
    db: &C,
    period: Period,
    access: RowAccess,
    as_released: bool,
) -> Result<(HashMap<i32, std::collections::BTreeMap<Ratio, (f64, f64)>>, Option<f64>), ApiError> {
    let months = period.first_month().shift(-1)..=period.last_month();
    let vintage = if as_released {
        Some(crate::vintage::as_released(db, None, Some(&months)).await?)
    } else {
        None
    };
    let request = CubeRequest {
        granularity: period.granularity,
        periods: [period].into_iter().collect(),
        group_by: vec![Dim::Association],
        filter: CubeFilter::default(),
        aggs: BTreeSet::new(),
        use_rollups: true,
        access,
        small_groups: None,
        document_dims: None,
        derived: vintage.as_ref().map(derived),
    };
    let standing = if as_released {
        crate::finance::store::Standing::AsReleased(None)
    } else {
        crate::finance::store::Standing::Now
    };
    let finance = read_finance(db, &[period], &request, standing, &store::Reads::default()).await?;
    let inflation = finance.inflation.get(&period.first_month().year()).copied();
    let parts = finance
        .groups
        .into_iter()
        .filter_map(|((_, association), ratios)| {
            Some((
                association?,
                ratios
                    .into_iter()
                    .map(|(ratio, sums)| (ratio, (sums.numerator, sums.denominator)))
                    .collect(),
            ))
        })
        .collect();
    Ok((parts, inflation))
}
