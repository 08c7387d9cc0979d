//! The quarterly note: the observatory's quarter in one fixed, versioned layout (`QN-1`) of figures, each with its
//! previous quarter, the same quarter a year before and its changes: outreach, lending, portfolio, network and
//! productivity, and financial performance (the sector's ratios of sums with their peer quartiles).
//!
//! The note computes no figure of its own: each grouping of the layout is one `indicators` request to the engine,
//! with the caller's access and small-group hiding (every grouping of the note counted as the document's, so hiding
//! decides the same cells whichever figure reads them), and the peer statistics are `peers`'. The page
//! (`GET /notes/{quarter}`) and the CSV (`GET /notes/{quarter}.csv`) run a `quarterlyNote` document through the
//! service's request pipeline.

pub mod page;
pub mod routes;

use crate::context::{db, scope};
use crate::error::ApiError;
use crate::finance::PeerStatistics;
use crate::indicator::catalog::{Dim, MeasureDef};
use crate::indicator::cube::{CubeFilter, GroupKey};
use crate::indicator::{Dimension, MeasureInfo, ReportingCoverage, engine};
use crate::period::{Granularity, Period};
use crate::scalars::Period as PeriodScalar;
use async_graphql::{Context, Enum, Object, Result, SimpleObject};
use std::collections::{BTreeSet, HashMap};

/// The layout's version: a figure is added or moved only in a new version.
pub const LAYOUT: &str = "QN-1";

/// A section of the note.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum NoteSection {
    /// Clients at the quarter's end, new clients of the quarter.
    Outreach,
    /// Loans disbursed during the quarter.
    Lending,
    /// The portfolio at the quarter's end, its quality and collections.
    Portfolio,
    /// Branches, staff and productivity.
    Network,
    /// The financial statements' ratios: the sector's ratio of sums and the peer quartiles.
    FinancialPerformance,
}

impl NoteSection {
    pub const ALL: [NoteSection; 5] = [
        NoteSection::Outreach,
        NoteSection::Lending,
        NoteSection::Portfolio,
        NoteSection::Network,
        NoteSection::FinancialPerformance,
    ];

    pub fn code(self) -> &'static str {
        match self {
            NoteSection::Outreach => "OUTREACH",
            NoteSection::Lending => "LENDING",
            NoteSection::Portfolio => "PORTFOLIO",
            NoteSection::Network => "NETWORK",
            NoteSection::FinancialPerformance => "FINANCIAL_PERFORMANCE",
        }
    }

    /// The title in French, Arabic and English.
    pub fn titles(self) -> [&'static str; 3] {
        match self {
            NoteSection::Outreach => ["Portée", "الانتشار", "Outreach"],
            NoteSection::Lending => ["Octroi de crédits", "منح القروض", "Lending"],
            NoteSection::Portfolio => ["Portefeuille", "المحفظة", "Portfolio"],
            NoteSection::Network => ["Réseau et productivité", "الشبكة والإنتاجية", "Network and productivity"],
            NoteSection::FinancialPerformance => ["Performance financière", "الأداء المالي", "Financial performance"],
        }
    }
}

/// One line of the layout: a measure of the catalogue, sector-wide (`by: None`) or by one dimension.
#[derive(Debug, Clone, Copy)]
pub struct Line {
    pub section: NoteSection,
    pub field: &'static str,
    pub by: &'static [Option<Dim>],
}

use Dim::{Activity, Area, Gender, Region, Segment};
use NoteSection::*;

const TOTAL: &[Option<Dim>] = &[None];

/// The layout QN-1, in the note's order.
pub const LINES: &[Line] = &[
    Line {
        section: Outreach,
        field: "activeClients",
        by: &[None, Some(Segment), Some(Gender), Some(Area)],
    },
    Line {
        section: Outreach,
        field: "womenShare",
        by: TOTAL,
    },
    Line {
        section: Outreach,
        field: "ruralShare",
        by: TOTAL,
    },
    Line {
        section: Outreach,
        field: "newClients",
        by: TOTAL,
    },
    Line {
        section: Lending,
        field: "disbursedCount",
        by: &[None, Some(Segment), Some(Activity), Some(Region)],
    },
    Line {
        section: Lending,
        field: "disbursedAmount",
        by: &[None, Some(Segment), Some(Activity), Some(Region)],
    },
    Line {
        section: Lending,
        field: "averageDisbursedLoan",
        by: TOTAL,
    },
    Line {
        section: Portfolio,
        field: "outstandingAmount",
        by: &[None, Some(Segment), Some(Activity), Some(Region), Some(Area)],
    },
    Line {
        section: Portfolio,
        field: "par30Rate",
        by: &[None, Some(Segment), Some(Activity), Some(Region)],
    },
    Line {
        section: Portfolio,
        field: "par90Rate",
        by: &[None, Some(Segment), Some(Region)],
    },
    Line {
        section: Portfolio,
        field: "rescheduledRate",
        by: TOTAL,
    },
    Line {
        section: Portfolio,
        field: "writeOffRatio",
        by: TOTAL,
    },
    Line {
        section: Portfolio,
        field: "collectionRate",
        by: TOTAL,
    },
    Line {
        section: Network,
        field: "branches",
        by: &[None, Some(Area)],
    },
    Line {
        section: Network,
        field: "mobileBranches",
        by: &[None, Some(Area)],
    },
    Line {
        section: Network,
        field: "staff",
        by: &[None, Some(Gender)],
    },
    Line {
        section: Network,
        field: "clientsPerStaff",
        by: TOTAL,
    },
    Line {
        section: Network,
        field: "borrowersPerLoanOfficer",
        by: TOTAL,
    },
    Line {
        section: FinancialPerformance,
        field: "operationalSelfSufficiency",
        by: TOTAL,
    },
    Line {
        section: FinancialPerformance,
        field: "financialSelfSufficiency",
        by: TOTAL,
    },
    Line {
        section: FinancialPerformance,
        field: "returnOnAssets",
        by: TOTAL,
    },
    Line {
        section: FinancialPerformance,
        field: "adjustedReturnOnAssets",
        by: TOTAL,
    },
    Line {
        section: FinancialPerformance,
        field: "returnOnEquity",
        by: TOTAL,
    },
    Line {
        section: FinancialPerformance,
        field: "portfolioYield",
        by: TOTAL,
    },
    Line {
        section: FinancialPerformance,
        field: "realPortfolioYield",
        by: TOTAL,
    },
    Line {
        section: FinancialPerformance,
        field: "operatingExpenseRatio",
        by: TOTAL,
    },
    Line {
        section: FinancialPerformance,
        field: "costPerClient",
        by: TOTAL,
    },
    Line {
        section: FinancialPerformance,
        field: "fundingExpenseRatio",
        by: TOTAL,
    },
    Line {
        section: FinancialPerformance,
        field: "costOfFunds",
        by: TOTAL,
    },
    Line {
        section: FinancialPerformance,
        field: "impairmentExpenseRatio",
        by: TOTAL,
    },
    Line {
        section: FinancialPerformance,
        field: "writeOffRatio",
        by: TOTAL,
    },
    Line {
        section: FinancialPerformance,
        field: "loanLossRate",
        by: TOTAL,
    },
    Line {
        section: FinancialPerformance,
        field: "riskCoverage",
        by: TOTAL,
    },
    Line {
        section: FinancialPerformance,
        field: "debtToEquity",
        by: TOTAL,
    },
    Line {
        section: FinancialPerformance,
        field: "capitalToAssets",
        by: TOTAL,
    },
    Line {
        section: FinancialPerformance,
        field: "portfolioToAssets",
        by: TOTAL,
    },
    Line {
        section: FinancialPerformance,
        field: "liquidRatio",
        by: TOTAL,
    },
];

/// The peer dimension the note's financial section compares: scale.
pub const PEER_DIMENSION: crate::finance::peers::PeerDimension = crate::finance::peers::PeerDimension::Scale;

/// The group of a figure: its dimension's code and labels.
#[derive(SimpleObject, Clone, Debug, PartialEq)]
pub struct NoteGroup {
    /// The group's code: a region's ISO code, a segment, gender, area or activity code.
    pub code: String,
    /// Label in French.
    pub label_fr: String,
    /// Label in Arabic.
    pub label_ar: String,
    /// Label in English.
    pub label_en: String,
}

/// One figure of the note.
pub struct NoteFigure {
    pub section: NoteSection,
    pub def: &'static MeasureDef,
    pub by: Option<Dim>,
    pub group: Option<NoteGroup>,
    pub value: Option<f64>,
    pub previous_quarter: Option<f64>,
    pub previous_year: Option<f64>,
    pub suppressed: bool,
    pub peers: Option<Vec<PeerStatistics>>,
}

/// The change from `before` to `value`: percentage points for rates and shares, per cent for amounts, counts and
/// other quotients.
pub fn change(def: &MeasureDef, value: Option<f64>, before: Option<f64>) -> Option<f64> {
    let (value, before) = (value?, before?);
    if def.is_rate() {
        Some(value - before)
    } else if before == 0.0 {
        None
    } else {
        Some((value - before) / before.abs() * 100.0)
    }
}

/// One figure of the note: a measure for the sector or one group, at the quarter's end or over it.
#[Object]
impl NoteFigure {
    /// The section it belongs to.
    async fn section(&self) -> NoteSection {
        self.section
    }
    /// The measure (`indicatorCatalog`'s entry: labels, unit, formula).
    async fn measure(&self) -> MeasureInfo {
        MeasureInfo::of(self.def)
    }
    /// The dimension of the group; null for the sector.
    async fn dimension(&self) -> Option<Dimension> {
        self.by.map(Into::into)
    }
    /// The group; null for the sector.
    async fn group(&self) -> Option<&NoteGroup> {
        self.group.as_ref()
    }
    /// The value in the quarter; null when not reported or hidden.
    async fn value(&self) -> Option<f64> {
        self.value
    }
    /// The value in the quarter before.
    async fn previous_quarter(&self) -> Option<f64> {
        self.previous_quarter
    }
    /// The value in the same quarter a year before.
    async fn same_quarter_previous_year(&self) -> Option<f64> {
        self.previous_year
    }
    /// The change from the previous quarter: percentage points for rates and shares, per cent for amounts and counts.
    async fn change_from_previous_quarter(&self) -> Option<f64> {
        change(self.def, self.value, self.previous_quarter)
    }
    /// The change from the same quarter a year before: points for rates and shares, per cent for amounts and counts.
    async fn change_from_previous_year(&self) -> Option<f64> {
        change(self.def, self.value, self.previous_year)
    }
    /// True when the value is hidden to protect a small group.
    async fn suppressed(&self) -> bool {
        self.suppressed
    }
    /// For the financial ratios: the quartiles of the peer groups by scale, as `peers` gives them to this caller.
    async fn peers(&self) -> Option<&Vec<PeerStatistics>> {
        self.peers.as_ref()
    }
}

/// Associations with an accepted statement for the quarter over the associations expected to report.
#[derive(SimpleObject)]
pub struct StatementsCoverage {
    /// Expected associations with an accepted statement.
    pub reporting: i32,
    /// Associations expected to report (the active ones).
    pub expected: i32,
}

/// The quarterly note.
pub struct QuarterlyNote {
    pub quarter: Period,
    pub scheme: String,
    pub coverage: ReportingCoverage,
    pub statements: StatementsCoverage,
    pub figures: Vec<NoteFigure>,
}

/// The observatory's quarterly note, in the fixed layout `QN-1`.
#[Object]
impl QuarterlyNote {
    /// The layout's version (`QN-1`): figures are added or moved only in a new version.
    async fn layout(&self) -> &str {
        LAYOUT
    }
    /// The quarter.
    async fn quarter(&self) -> PeriodScalar {
        PeriodScalar(self.quarter)
    }
    /// The peer-group scheme of the financial section.
    async fn peer_scheme(&self) -> &str {
        &self.scheme
    }
    /// Associations with an accepted monthly report for every month of the quarter over those expected.
    async fn coverage(&self) -> &ReportingCoverage {
        &self.coverage
    }
    /// Associations with an accepted statement for the quarter over those expected.
    async fn statements_coverage(&self) -> &StatementsCoverage {
        &self.statements
    }
    /// Every figure, in the layout's order (section, measure, then the sector before its groups).
    async fn figures(&self, #[graphql(desc = "Only this section.")] section: Option<NoteSection>) -> Vec<&NoteFigure> {
        self.figures
            .iter()
            .filter(|f| section.is_none_or(|s| s == f.section))
            .collect()
    }
}

/// The labels of a group.
fn group_of(key: &GroupKey, regions: &HashMap<i32, entity::region::Model>) -> Option<NoteGroup> {
    let coded = |list: &str, code: &str| {
        crate::labels::code_of(list, code).map(|c| NoteGroup {
            code: code.to_owned(),
            label_fr: c.fr.to_owned(),
            label_ar: c.ar.to_owned(),
            label_en: c.en.to_owned(),
        })
    };
    if let Some(id) = key.region {
        let region = regions.get(&id)?;
        return Some(NoteGroup {
            code: region.code.clone(),
            label_fr: region.name_fr.clone(),
            label_ar: region.name_ar.clone(),
            label_en: region.name_en.clone(),
        });
    }
    if let Some(segment) = key.segment {
        return coded("SEGMENT", segment.as_str());
    }
    if let Some(gender) = key.gender {
        return coded("GENDER", gender.as_str());
    }
    if let Some(area) = key.area {
        return coded("AREA", area.as_str());
    }
    if let Some(activity) = key.activity {
        return coded("ACTIVITY", activity.as_str());
    }
    None
}

/// Computes the note for the caller.
pub async fn compute(
    db: &sea_orm::DatabaseConnection,
    caller: &crate::scope::Scope,
    quarter: Period,
    scheme: &str,
    reads: crate::indicator::store::Reads,
) -> Result<QuarterlyNote, ApiError> {
    use sea_orm::EntityTrait;
    let (access, small_groups) = caller.indicator_access(false, None)?;
    let note_dims: BTreeSet<Dim> = LINES.iter().flat_map(|l| l.by.iter().flatten().copied()).collect();
    let periods = engine::periods(Granularity::Quarter, quarter.shift(-4), quarter)?;
    let regions: HashMap<i32, entity::region::Model> = entity::region::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let groupings: Vec<Option<Dim>> = {
        let mut all: Vec<Option<Dim>> = vec![None];
        all.extend(note_dims.iter().map(|d| Some(*d)));
        all
    };
    let mut by_grouping: HashMap<Option<Dim>, engine::Answer> = HashMap::new();
    let mut coverage = ReportingCoverage {
        reporting: 0,
        expected: 0,
    };
    for grouping in groupings {
        let measures: Vec<engine::Selected> = LINES
            .iter()
            .filter(|l| l.by.contains(&grouping))
            .map(|l| engine::Selected {
                def: crate::indicator::catalog::measure(l.field),
                target: false,
            })
            .collect();
        if measures.is_empty() {
            continue;
        }
        let answer = engine::compute(
            db,
            engine::Request {
                granularity: Granularity::Quarter,
                periods: periods.clone(),
                group_by: grouping.into_iter().collect(),
                filter: CubeFilter::default(),
                compare: None,
                as_of: None,
                access,
                small_groups,
                document_dims: Some(note_dims.clone()),
                measures,
                revised: false,
                coverage: grouping.is_none(),
                reads: reads.clone(),
            },
        )
        .await?;
        if grouping.is_none() {
            let engine::Coverage { reporting, expected } = answer.coverage(quarter, None)?;
            coverage = ReportingCoverage { reporting, expected };
        }
        by_grouping.insert(grouping, answer);
    }
    let peer_figures = crate::finance::PeerFigures::read(db, caller, quarter).await?;
    let mut figures = Vec::new();
    for line in LINES {
        let def = crate::indicator::catalog::measure(line.field);
        for grouping in line.by {
            let Some(answer) = by_grouping.get(grouping) else {
                continue;
            };
            let mut keys: Vec<GroupKey> = answer
                .rows()
                .into_iter()
                .filter(|(p, _)| *p == quarter)
                .map(|(_, k)| k)
                .collect();
            keys.sort();
            for key in keys {
                let at = |period: Period| answer.measure(def, period, &key).ok().flatten();
                let now = at(quarter);
                if now.is_none() && grouping.is_some() {
                    continue;
                }
                let peers = match (line.section, def.financial()) {
                    (NoteSection::FinancialPerformance, Some(_)) => Some(
                        crate::finance::peer_statistics(
                            db,
                            caller,
                            quarter,
                            def,
                            PEER_DIMENSION,
                            scheme,
                            caller.association_id,
                            Some(&peer_figures),
                        )
                        .await?,
                    ),
                    _ => None,
                };
                figures.push(NoteFigure {
                    section: line.section,
                    def,
                    by: *grouping,
                    group: group_of(&key, &regions),
                    value: now.as_ref().and_then(|m| m.value),
                    previous_quarter: at(quarter.shift(-1)).and_then(|m| m.value),
                    previous_year: at(quarter.shift(-4)).and_then(|m| m.value),
                    suppressed: now.as_ref().is_some_and(|m| m.suppressed),
                    peers,
                });
            }
        }
    }
    let expected = entity::association::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .filter(|a| a.status == entity::enums::AssociationStatus::Active)
        .count() as i32;
    let with_statements = crate::finance::store::accepted_count(db, quarter).await? as i32;
    Ok(QuarterlyNote {
        quarter,
        scheme: scheme.to_owned(),
        coverage,
        statements: StatementsCoverage {
            reporting: with_statements,
            expected,
        },
        figures,
    })
}

/// Queries of the quarterly note.
#[derive(Default)]
pub struct NoteQuery;

#[Object]
impl NoteQuery {
    /// The observatory's quarterly note in the fixed layout `QN-1`: outreach, lending, portfolio, network and
    /// productivity, and financial performance (the sector's ratios with the peer quartiles by scale). Each figure
    /// comes with the previous quarter, the same quarter a year before and its changes; the note's coverage of the
    /// monthly reports and of the statements. The figures are `indicators`' and `peers`' for this caller (released
    /// quarters, small groups hidden for the public).
    async fn quarterly_note(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The quarter, for example `2020-Q4`.")] quarter: PeriodScalar,
        #[graphql(desc = "The peer-group scheme of the financial section; default `MA-2020`.")] peer_scheme: Option<
            String,
        >,
    ) -> Result<QuarterlyNote> {
        if quarter.0.granularity != Granularity::Quarter {
            return Err(ApiError::bad_input(format!(
                "the note is quarterly: `{}` is not a quarter (write it YYYY-Qn, for example 2020-Q4)",
                quarter.0
            ))
            .into());
        }
        let scheme = peer_scheme.unwrap_or_else(|| crate::finance::peers::DEFAULT_SCHEME.to_owned());
        let reads = ctx
            .data_opt::<crate::indicator::store::Reads>()
            .cloned()
            .unwrap_or_default();
        Ok(compute(db(ctx), scope(ctx), quarter.0, &scheme, reads).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_names_a_measure_with_its_breakdowns() {
        for line in LINES {
            let def = crate::indicator::catalog::MEASURES
                .iter()
                .find(|m| m.field == line.field)
                .unwrap_or_else(|| panic!("{} is not in the catalogue", line.field));
            for dim in line.by.iter().flatten() {
                assert!(
                    def.dims().contains(dim),
                    "{} has no breakdown by {}",
                    line.field,
                    dim.name()
                );
            }
        }
    }
}
