//! The measures partners can ask for: how each is computed, in which unit,
//! whether it is a stock or a flow, and which dimensions break it down.

use crate::facts::{Facts, Quantity};
pub use crate::finance::ratios::Ratio;

/// A dimension of the indicator cube.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dim {
    Association,
    Region,
    Segment,
    Gender,
    Area,
    /// The economic activity financed (a leaf code of the `ACTIVITY` list): read from the loans by activity.
    Activity,
}

impl Dim {
    pub const ALL: [Dim; 6] = [
        Dim::Association,
        Dim::Region,
        Dim::Segment,
        Dim::Gender,
        Dim::Area,
        Dim::Activity,
    ];
    /// The dimensions the loans by activity combine with the activity.
    pub const WITH_ACTIVITY: [Dim; 3] = [Dim::Association, Dim::Region, Dim::Activity];

    pub fn name(self) -> &'static str {
        match self {
            Dim::Association => "ASSOCIATION",
            Dim::Region => "REGION",
            Dim::Segment => "SEGMENT",
            Dim::Gender => "GENDER",
            Dim::Area => "AREA",
            Dim::Activity => "ACTIVITY",
        }
    }
}

/// Stock (month-end value) or flow (total over the period).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Stock,
    Flow,
}

/// Unit of a measure's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Mad,
    Percent,
    MadPerLoan,
    MadPerClient,
    ClientsPerStaff,
    /// A plain quotient (2.5 means two and a half times).
    Multiple,
    ClientsPerLoanOfficer,
}

/// Where a summed quantity is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    Clients,
    Loans,
    Staff,
    Branches,
    Targets,
    /// The loans by economic activity: for each association, region and month, the loans table's figures split by
    /// activity.
    Activities,
}

impl Source {
    /// The fact table the source's rows are (targets and branches are not monthly facts).
    pub fn facts(self) -> Option<&'static Facts> {
        match self {
            Source::Clients => Some(&crate::facts::CLIENTS),
            Source::Loans => Some(&crate::facts::LOANS),
            Source::Staff => Some(&crate::facts::STAFF),
            Source::Activities => Some(&crate::facts::ACTIVITIES),
            Source::Branches | Source::Targets => None,
        }
    }

    /// Dimensions the source's rows carry.
    pub fn dims(self) -> &'static [Dim] {
        match self {
            Source::Clients | Source::Loans => &[Dim::Association, Dim::Region, Dim::Segment, Dim::Gender, Dim::Area],
            Source::Activities => &Dim::WITH_ACTIVITY,
            Source::Staff => &[Dim::Association, Dim::Gender],
            Source::Branches => &[Dim::Association, Dim::Region, Dim::Area],
            Source::Targets => &Dim::WITH_ACTIVITY,
        }
    }
}

/// A quantity summed in SQL: one column of one source, optionally restricted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Agg {
    ActiveClients,
    ActiveFemale,
    ActiveRural,
    NewClients,
    DisbursedCount,
    DisbursedAmount,
    ActiveLoans,
    Outstanding,
    Par30,
    Par90,
    WriteOff,
    Rescheduled,
    RepaymentsDue,
    RepaymentsCollected,
    Staff,
    Agencies,
    MobileBranches,
    TargetNewClients,
    TargetDisbursedCount,
    TargetDisbursedAmount,
    TargetOutstanding,
    TargetRepaymentsCollected,
    /// The month-end outstanding summed over the months of a period (for its average).
    OutstandingMonthSum,
    /// The month-end active clients summed over the months of a period (for its average).
    ActiveClientsMonthSum,
    ActivityDisbursedCount,
    ActivityDisbursedAmount,
    ActivityActiveLoans,
    ActivityOutstanding,
    ActivityPar30,
    ActivityRepaymentsDue,
    ActivityRepaymentsCollected,
}

impl Agg {
    /// Every aggregate.
    pub const ALL: [Agg; 31] = [
        Agg::ActiveClients,
        Agg::ActiveFemale,
        Agg::ActiveRural,
        Agg::NewClients,
        Agg::DisbursedCount,
        Agg::DisbursedAmount,
        Agg::ActiveLoans,
        Agg::Outstanding,
        Agg::Par30,
        Agg::Par90,
        Agg::WriteOff,
        Agg::Rescheduled,
        Agg::RepaymentsDue,
        Agg::RepaymentsCollected,
        Agg::Staff,
        Agg::Agencies,
        Agg::MobileBranches,
        Agg::TargetNewClients,
        Agg::TargetDisbursedCount,
        Agg::TargetDisbursedAmount,
        Agg::TargetOutstanding,
        Agg::TargetRepaymentsCollected,
        Agg::OutstandingMonthSum,
        Agg::ActiveClientsMonthSum,
        Agg::ActivityDisbursedCount,
        Agg::ActivityDisbursedAmount,
        Agg::ActivityActiveLoans,
        Agg::ActivityOutstanding,
        Agg::ActivityPar30,
        Agg::ActivityRepaymentsDue,
        Agg::ActivityRepaymentsCollected,
    ];

    /// The same quantity read from the loans by activity, for the loan aggregates that table carries.
    pub fn by_activity(self) -> Option<Agg> {
        use Agg::*;
        Some(match self {
            DisbursedCount => ActivityDisbursedCount,
            DisbursedAmount => ActivityDisbursedAmount,
            ActiveLoans => ActivityActiveLoans,
            Outstanding => ActivityOutstanding,
            Par30 => ActivityPar30,
            RepaymentsDue => ActivityRepaymentsDue,
            RepaymentsCollected => ActivityRepaymentsCollected,
            _ => return None,
        })
    }

    /// The loans table's aggregate a loans-by-activity aggregate splits (itself otherwise).
    pub fn of_loans(self) -> Agg {
        Agg::ALL
            .into_iter()
            .find(|agg| agg.by_activity() == Some(self))
            .unwrap_or(self)
    }

    pub fn source(self) -> Source {
        use Agg::*;
        match self {
            ActiveClients | ActiveFemale | ActiveRural | NewClients | ActiveClientsMonthSum => Source::Clients,
            DisbursedCount | DisbursedAmount | ActiveLoans | Outstanding | Par30 | Par90 | WriteOff | Rescheduled
            | RepaymentsDue | RepaymentsCollected | OutstandingMonthSum => Source::Loans,
            Staff => Source::Staff,
            Agencies | MobileBranches => Source::Branches,
            TargetNewClients
            | TargetDisbursedCount
            | TargetDisbursedAmount
            | TargetOutstanding
            | TargetRepaymentsCollected => Source::Targets,
            ActivityDisbursedCount
            | ActivityDisbursedAmount
            | ActivityActiveLoans
            | ActivityOutstanding
            | ActivityPar30
            | ActivityRepaymentsDue
            | ActivityRepaymentsCollected => Source::Activities,
        }
    }

    /// Column name in SQL results.
    pub fn alias(self) -> &'static str {
        use Agg::*;
        match self {
            ActiveClients => "active_clients",
            ActiveFemale => "active_female",
            ActiveRural => "active_rural",
            NewClients => "new_clients",
            DisbursedCount => "disbursed_count",
            DisbursedAmount => "disbursed_amount",
            ActiveLoans => "active_loans",
            Outstanding => "outstanding_amount",
            Par30 => "par30_amount",
            Par90 => "par90_amount",
            WriteOff => "write_off_amount",
            Rescheduled => "rescheduled_amount",
            RepaymentsDue => "repayments_due",
            RepaymentsCollected => "repayments_collected",
            Staff => "headcount",
            Agencies => "agencies",
            MobileBranches => "mobile_branches",
            TargetNewClients => "target_new_clients",
            TargetDisbursedCount => "target_disbursed_count",
            TargetDisbursedAmount => "target_disbursed_amount",
            TargetOutstanding => "target_outstanding",
            TargetRepaymentsCollected => "target_repayments_collected",
            OutstandingMonthSum => "outstanding_month_sum",
            ActiveClientsMonthSum => "active_clients_month_sum",
            ActivityDisbursedCount => "activity_disbursed_count",
            ActivityDisbursedAmount => "activity_disbursed_amount",
            ActivityActiveLoans => "activity_active_loans",
            ActivityOutstanding => "activity_outstanding_amount",
            ActivityPar30 => "activity_par30_amount",
            ActivityRepaymentsDue => "activity_repayments_due",
            ActivityRepaymentsCollected => "activity_repayments_collected",
        }
    }

    /// The summed column and the condition on the row (for monthly sources).
    pub fn column_and_condition(self) -> (&'static str, Option<&'static str>) {
        use Agg::*;
        match self {
            ActiveFemale => ("active_clients", Some("gender = 'FEMALE'")),
            ActiveRural => ("active_clients", Some("area = 'RURAL'")),
            TargetNewClients => ("value", Some("measure = 'NEW_CLIENTS'")),
            TargetDisbursedCount => ("value", Some("measure = 'DISBURSED_COUNT'")),
            TargetDisbursedAmount => ("value", Some("measure = 'DISBURSED_AMOUNT'")),
            TargetOutstanding => ("value", Some("measure = 'OUTSTANDING_AMOUNT'")),
            TargetRepaymentsCollected => ("value", Some("measure = 'REPAYMENTS_COLLECTED'")),
            OutstandingMonthSum => ("outstanding_amount", None),
            ActiveClientsMonthSum => ("active_clients", None),
            other if other.source() == Source::Activities => (other.of_loans().alias(), None),
            other => (other.alias(), None),
        }
    }

    pub fn kind(self) -> Kind {
        use Agg::*;
        match self.of_loans() {
            NewClients
            | DisbursedCount
            | DisbursedAmount
            | WriteOff
            | RepaymentsDue
            | RepaymentsCollected
            | TargetNewClients
            | TargetDisbursedCount
            | TargetDisbursedAmount
            | TargetRepaymentsCollected
            | OutstandingMonthSum
            | ActiveClientsMonthSum => Kind::Flow,
            _ => Kind::Stock,
        }
    }

    /// True when stored in centimes: the measure's quantity in its fact table, and the amount targets.
    pub fn is_money(self) -> bool {
        match self.source().facts() {
            Some(facts) => {
                let column = self.column_and_condition().0;
                facts.measure(column).map(|m| m.quantity) == Some(Quantity::Amount)
            }
            None => matches!(
                self,
                Agg::TargetDisbursedAmount | Agg::TargetOutstanding | Agg::TargetRepaymentsCollected
            ),
        }
    }

    /// The value in its public unit (MAD for money, the count otherwise).
    pub fn public(self, raw: i64) -> f64 {
        if self.is_money() {
            raw as f64 / 100.0
        } else {
            raw as f64
        }
    }
}

/// How a measure's value is obtained from summed quantities.
#[derive(Debug, Clone, Copy)]
pub enum Formula {
    Sum(Agg),
    /// numerator ÷ denominator, both summed after grouping; × 100 when `percent`.
    Ratio {
        numerator: Agg,
        denominator: Agg,
        percent: bool,
    },
    /// A rate over a period's average stock, annualised: the numerator × 12 ÷ m (m months in the period) ÷ the
    /// average of the m + 1 month-ends from the one before the period to its last (`Average`), × 100. The numerator
    /// is a flow summed over the period (`outflow: None`), or the stock's outflow: the opening stock plus the flow
    /// minus the closing stock (clients who left).
    OverAverage {
        flow: Agg,
        average: Average,
        outflow: bool,
    },
    /// A financial ratio of the quarterly statements (with the monthly rows and reference series it reads),
    /// computed by `finance::ratios` at QUARTER and YEAR granularity.
    Financial(Ratio),
}

/// The average of a stock over the m + 1 month-ends from the one before a period to its last: the opening stock (the
/// previous period's closing) plus the month-ends of the period, ÷ (m + 1).
#[derive(Debug, Clone, Copy)]
pub struct Average {
    /// The stock (at a period's last month).
    pub stock: Agg,
    /// The stock summed over the months of a period.
    pub month_sum: Agg,
}

impl Formula {
    pub fn aggs(&self) -> Vec<Agg> {
        match *self {
            Formula::Sum(agg) => vec![agg],
            Formula::Ratio {
                numerator, denominator, ..
            } => vec![numerator, denominator],
            Formula::OverAverage { flow, average, .. } => vec![flow, average.stock, average.month_sum],
            Formula::Financial(_) => Vec::new(),
        }
    }

    /// Whether the formula reads the period before each period too (the opening stock of an average).
    pub fn opens(&self) -> bool {
        matches!(self, Formula::OverAverage { .. })
    }

    /// The same formula over the loans by activity, when that table carries every quantity it reads.
    pub fn by_activity(self) -> Option<Formula> {
        Some(match self {
            Formula::Sum(agg) => Formula::Sum(agg.by_activity()?),
            Formula::Ratio {
                numerator,
                denominator,
                percent,
            } => Formula::Ratio {
                numerator: numerator.by_activity()?,
                denominator: denominator.by_activity()?,
                percent,
            },
            Formula::OverAverage { .. } | Formula::Financial(_) => return None,
        })
    }
}

/// One measure of the catalogue.
#[derive(Debug)]
pub struct MeasureDef {
    /// Field name in `IndicatorRow`.
    pub field: &'static str,
    pub code: &'static str,
    pub label_fr: &'static str,
    pub label_ar: &'static str,
    pub label_en: &'static str,
    pub unit: Unit,
    pub kind: Kind,
    pub formula_text: &'static str,
    pub formula: Formula,
    pub target: Option<Agg>,
    /// Dimensions allowed when fewer than the sources carry make sense (clients per staff by gender does not).
    pub only: Option<&'static [Dim]>,
}

impl MeasureDef {
    /// Dimensions that break the measure down: those every source it reads carries, and the activity when the
    /// loans by activity carry every quantity it reads.
    pub fn dims(&self) -> Vec<Dim> {
        let aggs = self.formula.aggs();
        Dim::ALL
            .into_iter()
            .filter(|d| {
                aggs.iter().all(|a| a.source().dims().contains(d))
                    || (*d == Dim::Activity && self.formula.by_activity().is_some())
            })
            .filter(|d| self.only.is_none_or(|only| only.contains(d)))
            .collect()
    }

    /// The formula as read for a request grouped or filtered by `dims`: over the loans by activity when the activity
    /// is among them.
    pub fn formula_for(&self, by_activity: bool) -> Formula {
        match (by_activity, self.formula.by_activity()) {
            (true, Some(formula)) => formula,
            _ => self.formula,
        }
    }

    pub fn is_rate(&self) -> bool {
        self.unit == Unit::Percent
    }
}

use Agg::*;

macro_rules! measure {
    ($field:literal, $code:literal, $fr:literal, $ar:literal, $en:literal, $unit:ident, $kind:ident, $text:literal, $formula:expr, $target:expr) => {
        MeasureDef {
            field: $field,
            code: $code,
            label_fr: $fr,
            label_ar: $ar,
            label_en: $en,
            unit: Unit::$unit,
            kind: Kind::$kind,
            formula_text: $text,
            formula: $formula,
            target: $target,
            only: None,
        }
    };
    ($field:literal, $code:literal, $fr:literal, $ar:literal, $en:literal, $unit:ident, $kind:ident, $text:literal, $formula:expr, $target:expr, only $only:expr) => {
        MeasureDef {
            only: Some($only),
            ..measure!($field, $code, $fr, $ar, $en, $unit, $kind, $text, $formula, $target)
        }
    };
}

const fn ratio(numerator: Agg, denominator: Agg, percent: bool) -> Formula {
    Formula::Ratio {
        numerator,
        denominator,
        percent,
    }
}

/// Every measure, in the order of `IndicatorRow`.
pub static MEASURES: &[MeasureDef] = &[
    measure!(
        "activeClients",
        "ACTIVE_CLIENTS",
        "Clients actifs",
        "الزبناء النشيطون",
        "Active clients",
        Count,
        Stock,
        "Clients with a loan outstanding at the end of the period.",
        Formula::Sum(ActiveClients),
        None
    ),
    measure!(
        "newClients",
        "NEW_CLIENTS",
        "Nouveaux clients",
        "الزبناء الجدد",
        "New clients",
        Count,
        Flow,
        "Clients who received their first loan during the period.",
        Formula::Sum(NewClients),
        Some(TargetNewClients)
    ),
    measure!(
        "womenShare",
        "WOMEN_SHARE",
        "Part des femmes",
        "نسبة النساء",
        "Share of women",
        Percent,
        Stock,
        "Active women clients ÷ active clients × 100, at the end of the period.",
        ratio(ActiveFemale, ActiveClients, true),
        None
    ),
    measure!(
        "ruralShare",
        "RURAL_SHARE",
        "Part du rural",
        "نسبة الوسط القروي",
        "Share of rural clients",
        Percent,
        Stock,
        "Active rural clients ÷ active clients × 100, at the end of the period.",
        ratio(ActiveRural, ActiveClients, true),
        None
    ),
    measure!(
        "disbursedCount",
        "DISBURSED_COUNT",
        "Nombre de prêts décaissés",
        "عدد القروض الممنوحة",
        "Loans disbursed",
        Count,
        Flow,
        "Loans disbursed during the period.",
        Formula::Sum(DisbursedCount),
        Some(TargetDisbursedCount)
    ),
    measure!(
        "disbursedAmount",
        "DISBURSED_AMOUNT",
        "Montant décaissé",
        "مبلغ القروض الممنوحة",
        "Amount disbursed",
        Mad,
        Flow,
        "Amount disbursed during the period, MAD.",
        Formula::Sum(DisbursedAmount),
        Some(TargetDisbursedAmount)
    ),
    measure!(
        "averageDisbursedLoan",
        "AVERAGE_DISBURSED_LOAN",
        "Prêt moyen décaissé",
        "متوسط القرض الممنوح",
        "Average loan disbursed",
        MadPerLoan,
        Flow,
        "Amount disbursed ÷ loans disbursed during the period, MAD per loan.",
        ratio(DisbursedAmount, DisbursedCount, false),
        None
    ),
    measure!(
        "activeLoans",
        "ACTIVE_LOANS",
        "Prêts actifs",
        "القروض الجارية",
        "Active loans",
        Count,
        Stock,
        "Loans outstanding at the end of the period.",
        Formula::Sum(ActiveLoans),
        None
    ),
    measure!(
        "outstandingAmount",
        "OUTSTANDING_AMOUNT",
        "Encours brut",
        "جاري القروض الإجمالي",
        "Gross outstanding portfolio",
        Mad,
        Stock,
        "Gross outstanding principal at the end of the period, MAD.",
        Formula::Sum(Outstanding),
        Some(TargetOutstanding)
    ),
    measure!(
        "averageOutstandingLoan",
        "AVERAGE_OUTSTANDING_LOAN",
        "Encours moyen par prêt",
        "متوسط الجاري لكل قرض",
        "Average outstanding per loan",
        MadPerLoan,
        Stock,
        "Gross outstanding ÷ active loans at the end of the period, MAD per loan.",
        ratio(Outstanding, ActiveLoans, false),
        None
    ),
    measure!(
        "averageOutstandingPerBorrower",
        "AVERAGE_OUTSTANDING_PER_BORROWER",
        "Encours moyen par client",
        "متوسط الجاري لكل زبون",
        "Average outstanding per borrower",
        MadPerClient,
        Stock,
        "Gross outstanding ÷ active clients at the end of the period, MAD per borrower.",
        ratio(Outstanding, ActiveClients, false),
        None
    ),
    measure!(
        "par30Amount",
        "PAR30_AMOUNT",
        "Portefeuille à risque > 30 jours",
        "المحفظة المعرضة للخطر أكثر من 30 يوما",
        "Portfolio at risk over 30 days",
        Mad,
        Stock,
        "Outstanding balance of loans with an instalment more than 30 days overdue, at the end of the period, MAD.",
        Formula::Sum(Par30),
        None
    ),
    measure!(
        "par30Rate",
        "PAR30_RATE",
        "Taux de PAR 30",
        "نسبة المحفظة المعرضة للخطر (30 يوما)",
        "PAR30 rate",
        Percent,
        Stock,
        "Portfolio at risk over 30 days ÷ gross outstanding × 100, at the end of the period.",
        ratio(Par30, Outstanding, true),
        None
    ),
    measure!(
        "par90Amount",
        "PAR90_AMOUNT",
        "Portefeuille à risque > 90 jours",
        "المحفظة المعرضة للخطر أكثر من 90 يوما",
        "Portfolio at risk over 90 days",
        Mad,
        Stock,
        "Outstanding balance of loans with an instalment more than 90 days overdue, at the end of the period, MAD.",
        Formula::Sum(Par90),
        None
    ),
    measure!(
        "par90Rate",
        "PAR90_RATE",
        "Taux de PAR 90",
        "نسبة المحفظة المعرضة للخطر (90 يوما)",
        "PAR90 rate",
        Percent,
        Stock,
        "Portfolio at risk over 90 days ÷ gross outstanding × 100, at the end of the period.",
        ratio(Par90, Outstanding, true),
        None
    ),
    measure!(
        "rescheduledAmount",
        "RESCHEDULED_AMOUNT",
        "Portefeuille rééchelonné",
        "المحفظة المعاد جدولتها",
        "Rescheduled portfolio",
        Mad,
        Stock,
        "Outstanding balance of rescheduled (renegotiated) loans at the end of the period, MAD.",
        Formula::Sum(Rescheduled),
        None
    ),
    measure!(
        "rescheduledRate",
        "RESCHEDULED_RATE",
        "Taux de portefeuille rééchelonné",
        "نسبة المحفظة المعاد جدولتها",
        "Rescheduled portfolio rate",
        Percent,
        Stock,
        "Rescheduled portfolio ÷ gross outstanding × 100, at the end of the period.",
        ratio(Rescheduled, Outstanding, true),
        None
    ),
    measure!(
        "writeOffAmount",
        "WRITE_OFF_AMOUNT",
        "Créances passées en perte",
        "الديون المشطوبة",
        "Amount written off",
        Mad,
        Flow,
        "Amount written off during the period, MAD.",
        Formula::Sum(WriteOff),
        None
    ),
    measure!(
        "writeOffRatio",
        "WRITE_OFF_RATIO",
        "Taux de passage en perte",
        "نسبة الديون المشطوبة",
        "Write-off ratio",
        Percent,
        Flow,
        "Amount written off during the period × 12 ÷ m (m months in the period) ÷ the average gross outstanding of the \
         m + 1 month-ends from the one before the period to its last × 100: annualised.",
        Formula::OverAverage {
            flow: WriteOff,
            average: Average {
                stock: Outstanding,
                month_sum: OutstandingMonthSum,
            },
            outflow: false,
        },
        None
    ),
    measure!(
        "clientTurnover",
        "CLIENT_TURNOVER",
        "Taux de rotation de la clientèle",
        "نسبة دوران الزبناء",
        "Client turnover",
        Percent,
        Flow,
        "(Active clients at the end of the month before the period + new clients during the period − active clients \
         at its end) × 12 ÷ m (m months in the period) ÷ the average active clients of the m + 1 month-ends from the \
         one before the period to its last × 100: clients who left, annualised.",
        Formula::OverAverage {
            flow: NewClients,
            average: Average {
                stock: ActiveClients,
                month_sum: ActiveClientsMonthSum,
            },
            outflow: true,
        },
        None
    ),
    measure!(
        "repaymentsDue",
        "REPAYMENTS_DUE",
        "Remboursements dus",
        "الأقساط المستحقة",
        "Repayments due",
        Mad,
        Flow,
        "Principal and interest falling due during the period, MAD.",
        Formula::Sum(RepaymentsDue),
        None
    ),
    measure!(
        "repaymentsCollected",
        "REPAYMENTS_COLLECTED",
        "Remboursements encaissés",
        "الأقساط المستخلصة",
        "Repayments collected",
        Mad,
        Flow,
        "Repayments collected during the period, MAD.",
        Formula::Sum(RepaymentsCollected),
        Some(TargetRepaymentsCollected)
    ),
    measure!(
        "collectionRate",
        "COLLECTION_RATE",
        "Taux de recouvrement",
        "نسبة الاستخلاص",
        "Collection rate",
        Percent,
        Flow,
        "Repayments collected ÷ repayments due during the period × 100.",
        ratio(RepaymentsCollected, RepaymentsDue, true),
        None
    ),
    measure!(
        "branches",
        "BRANCHES",
        "Agences fixes",
        "الوكالات الثابتة",
        "Fixed branches",
        Count,
        Stock,
        "Fixed agencies open on the last day of the period (branch registry).",
        Formula::Sum(Agencies),
        None
    ),
    measure!(
        "mobileBranches",
        "MOBILE_BRANCHES",
        "Agences mobiles",
        "الوكالات المتنقلة",
        "Mobile branches",
        Count,
        Stock,
        "Mobile branches open on the last day of the period (branch registry).",
        Formula::Sum(MobileBranches),
        None
    ),
    measure!(
        "staff",
        "STAFF",
        "Effectif",
        "عدد المستخدمين",
        "Staff",
        Count,
        Stock,
        "Staff members at the end of the period.",
        Formula::Sum(Staff),
        None
    ),
    measure!(
        "clientsPerStaff",
        "CLIENTS_PER_STAFF",
        "Clients par employé",
        "عدد الزبناء لكل مستخدم",
        "Clients per staff member",
        ClientsPerStaff,
        Stock,
        "Active clients ÷ staff members at the end of the period.",
        ratio(ActiveClients, Staff, false),
        None,
        only & [Dim::Association]
    ),
    measure!(
        "operationalSelfSufficiency",
        "OSS",
        "Autosuffisance opérationnelle",
        "الاكتفاء الذاتي التشغيلي",
        "Operational self-sufficiency",
        Percent,
        Flow,
        "Financial revenue ÷ (financial expense + net impairment loss + operating expense) × 100, over the period (statements; QUARTER and YEAR).",
        Formula::Financial(Ratio::OperationalSelfSufficiency),
        None,
        only & [Dim::Association]
    ),
    measure!(
        "financialSelfSufficiency",
        "FSS",
        "Autosuffisance financière",
        "الاكتفاء الذاتي المالي",
        "Financial self-sufficiency",
        Percent,
        Flow,
        "Financial revenue ÷ (financial expense + net impairment loss + operating expense + adjustments) × 100; adjustments: (Avg_Q(equity) − Avg_Q(net fixed assets)) × inflation × m ÷ 12, plus max(0, Avg_Q(subsidised funding) × market rate × m ÷ 12 − interest paid on it), plus in-kind subsidies (statements; QUARTER and YEAR).",
        Formula::Financial(Ratio::FinancialSelfSufficiency),
        None,
        only & [Dim::Association]
    ),
    measure!(
        "returnOnAssets",
        "ROA",
        "Rendement des actifs",
        "العائد على الأصول",
        "Return on assets",
        Percent,
        Flow,
        "(Net operating income − taxes) × 12 ÷ m ÷ the average total assets of the quarter-ends from the one before the period to its last × 100 (statements; QUARTER and YEAR).",
        Formula::Financial(Ratio::ReturnOnAssets),
        None,
        only & [Dim::Association]
    ),
    measure!(
        "adjustedReturnOnAssets",
        "AROA",
        "Rendement ajusté des actifs",
        "العائد المعدل على الأصول",
        "Adjusted return on assets",
        Percent,
        Flow,
        "(Net operating income − the self-sufficiency adjustments − taxes) × 12 ÷ m ÷ the average total assets of the quarter-ends from the one before the period to its last × 100 (statements; QUARTER and YEAR).",
        Formula::Financial(Ratio::AdjustedReturnOnAssets),
        None,
        only & [Dim::Association]
    ),
    measure!(
        "returnOnEquity",
        "ROE",
        "Rendement des fonds propres",
        "العائد على الأموال الذاتية",
        "Return on equity",
        Percent,
        Flow,
        "(Net operating income − taxes) × 12 ÷ m ÷ the average total equity of the quarter-ends from the one before the period to its last × 100 (statements; QUARTER and YEAR).",
        Formula::Financial(Ratio::ReturnOnEquity),
        None,
        only & [Dim::Association]
    ),
    measure!(
        "portfolioYield",
        "YIELD_NOMINAL",
        "Rendement nominal du portefeuille",
        "المردودية الاسمية للمحفظة",
        "Nominal portfolio yield",
        Percent,
        Flow,
        "(Interest + fees on the loan portfolio) × 12 ÷ m ÷ the average gross outstanding of the month-ends from the one before the period to its last × 100 (statements and monthly reports; QUARTER and YEAR).",
        Formula::Financial(Ratio::PortfolioYield),
        None,
        only & [Dim::Association]
    ),
    measure!(
        "realPortfolioYield",
        "YIELD_REAL",
        "Rendement réel du portefeuille",
        "المردودية الحقيقية للمحفظة",
        "Real portfolio yield",
        Percent,
        Flow,
        "(Nominal yield − inflation) ÷ (1 + inflation) × 100, with the year's inflation (reference series INFLATION); numerator and denominator are the nominal yield's (QUARTER and YEAR).",
        Formula::Financial(Ratio::RealPortfolioYield),
        None,
        only & [Dim::Association]
    ),
    measure!(
        "operatingExpenseRatio",
        "OPEX_RATIO",
        "Ratio de charges d'exploitation",
        "نسبة مصاريف الاستغلال",
        "Operating expense ratio",
        Percent,
        Flow,
        "Operating expense × 12 ÷ m ÷ the average gross outstanding of the month-ends from the one before the period to its last × 100 (QUARTER and YEAR).",
        Formula::Financial(Ratio::OperatingExpenseRatio),
        None,
        only & [Dim::Association]
    ),
    measure!(
        "costPerClient",
        "COST_PER_CLIENT",
        "Coût par client",
        "التكلفة لكل زبون",
        "Cost per client",
        MadPerClient,
        Flow,
        "Operating expense × 12 ÷ m ÷ the average active clients of the month-ends from the one before the period to its last (MAD per client per year; QUARTER and YEAR).",
        Formula::Financial(Ratio::CostPerClient),
        None,
        only & [Dim::Association]
    ),
    measure!(
        "costPerLoan",
        "COST_PER_LOAN",
        "Coût par prêt",
        "التكلفة لكل قرض",
        "Cost per loan",
        MadPerLoan,
        Flow,
        "Operating expense × 12 ÷ m ÷ the average active loans of the month-ends from the one before the period to its last (MAD per loan per year; QUARTER and YEAR).",
        Formula::Financial(Ratio::CostPerLoan),
        None,
        only & [Dim::Association]
    ),
    measure!(
        "fundingExpenseRatio",
        "FUNDING_EXPENSE_RATIO",
        "Ratio de charges financières",
        "نسبة المصاريف المالية",
        "Funding expense ratio",
        Percent,
        Flow,
        "Financial expense × 12 ÷ m ÷ the average gross outstanding of the month-ends from the one before the period to its last × 100 (QUARTER and YEAR).",
        Formula::Financial(Ratio::FundingExpenseRatio),
        None,
        only & [Dim::Association]
    ),
    measure!(
        "costOfFunds",
        "COST_OF_FUNDS",
        "Coût des ressources",
        "تكلفة الموارد",
        "Cost of funds",
        Percent,
        Flow,
        "Interest and fees on funding liabilities × 12 ÷ m ÷ the average deposits and borrowings of the quarter-ends from the one before the period to its last × 100 (QUARTER and YEAR).",
        Formula::Financial(Ratio::CostOfFunds),
        None,
        only & [Dim::Association]
    ),
    measure!(
        "impairmentExpenseRatio",
        "IMPAIRMENT_EXPENSE_RATIO",
        "Ratio de coût du risque",
        "نسبة تكلفة المخاطر",
        "Impairment expense ratio",
        Percent,
        Flow,
        "(Impairment expense − recoveries) × 12 ÷ m ÷ the average gross outstanding of the month-ends from the one before the period to its last × 100 (QUARTER and YEAR).",
        Formula::Financial(Ratio::ImpairmentExpenseRatio),
        None,
        only & [Dim::Association]
    ),
    measure!(
        "loanLossRate",
        "LOAN_LOSS_RATE",
        "Taux de perte sur prêts",
        "معدل الخسارة على القروض",
        "Loan loss rate",
        Percent,
        Flow,
        "(Amount written off in the monthly reports − recoveries) × 12 ÷ m ÷ the average gross outstanding of the month-ends from the one before the period to its last × 100 (QUARTER and YEAR).",
        Formula::Financial(Ratio::LoanLossRate),
        None,
        only & [Dim::Association]
    ),
    measure!(
        "riskCoverage",
        "RISK_COVERAGE",
        "Taux de couverture du risque",
        "نسبة تغطية المخاطر",
        "Risk coverage ratio",
        Percent,
        Stock,
        "Impairment loss allowance at the period's end ÷ PAR30 at its last month × 100 (QUARTER and YEAR).",
        Formula::Financial(Ratio::RiskCoverage),
        None,
        only & [Dim::Association]
    ),
    measure!(
        "debtToEquity",
        "DEBT_TO_EQUITY",
        "Ratio d'endettement",
        "نسبة المديونية",
        "Debt to equity",
        Multiple,
        Stock,
        "Total liabilities ÷ total equity at the period's end (times; QUARTER and YEAR).",
        Formula::Financial(Ratio::DebtToEquity),
        None,
        only & [Dim::Association]
    ),
    measure!(
        "capitalToAssets",
        "CAPITAL_TO_ASSETS",
        "Fonds propres sur actifs",
        "الأموال الذاتية إلى الأصول",
        "Capital to assets",
        Percent,
        Stock,
        "Total equity ÷ total assets at the period's end × 100 (QUARTER and YEAR).",
        Formula::Financial(Ratio::CapitalToAssets),
        None,
        only & [Dim::Association]
    ),
    measure!(
        "portfolioToAssets",
        "PORTFOLIO_TO_ASSETS",
        "Portefeuille sur actifs",
        "المحفظة إلى الأصول",
        "Portfolio to assets",
        Percent,
        Stock,
        "Gross loan portfolio ÷ total assets at the period's end × 100 (statements; QUARTER and YEAR).",
        Formula::Financial(Ratio::PortfolioToAssets),
        None,
        only & [Dim::Association]
    ),
    measure!(
        "liquidRatio",
        "LIQUID_RATIO",
        "Ratio de liquidité",
        "نسبة السيولة",
        "Liquid ratio",
        Percent,
        Stock,
        "(Cash + short-term placements) ÷ (deposits + short-term borrowings + interest payable + other current liabilities) at the period's end × 100 (QUARTER and YEAR).",
        Formula::Financial(Ratio::LiquidRatio),
        None,
        only & [Dim::Association]
    ),
    measure!(
        "borrowersPerLoanOfficer",
        "BORROWERS_PER_LOAN_OFFICER",
        "Emprunteurs par agent de crédit",
        "عدد المقترضين لكل مكلف بالقروض",
        "Borrowers per loan officer",
        ClientsPerLoanOfficer,
        Stock,
        "Active clients at the period's last month ÷ loan officers at its end (statements; QUARTER and YEAR).",
        Formula::Financial(Ratio::BorrowersPerLoanOfficer),
        None,
        only & [Dim::Association]
    ),
    measure!(
        "personnelAllocation",
        "PERSONNEL_ALLOCATION",
        "Part des agents de crédit",
        "نسبة المكلفين بالقروض",
        "Personnel allocation ratio",
        Percent,
        Stock,
        "Loan officers at the period's end ÷ staff at its last month × 100 (QUARTER and YEAR).",
        Formula::Financial(Ratio::PersonnelAllocation),
        None,
        only & [Dim::Association]
    ),
];

pub fn measure(field: &str) -> &'static MeasureDef {
    MEASURES
        .iter()
        .find(|m| m.field == field)
        .expect("measure of the catalogue")
}

/// How each measure is computed, in French and Arabic (the English words are the catalogue's `formula_text`).
pub const FORMULAS_FR_AR: &[(&str, &str, &str)] = &[
    (
        "ACTIVE_CLIENTS",
        "Clients ayant un prêt en cours à la fin de la période.",
        "الزبناء الذين لديهم قرض جار في نهاية الفترة.",
    ),
    (
        "NEW_CLIENTS",
        "Clients ayant reçu leur premier prêt pendant la période.",
        "الزبناء الذين حصلوا على أول قرض لهم خلال الفترة.",
    ),
    (
        "WOMEN_SHARE",
        "Clientes actives ÷ clients actifs × 100, à la fin de la période.",
        "الزبونات النشيطات ÷ الزبناء النشيطون × 100، في نهاية الفترة.",
    ),
    (
        "RURAL_SHARE",
        "Clients actifs ruraux ÷ clients actifs × 100, à la fin de la période.",
        "الزبناء النشيطون بالوسط القروي ÷ الزبناء النشيطون × 100، في نهاية الفترة.",
    ),
    (
        "DISBURSED_COUNT",
        "Prêts décaissés pendant la période.",
        "القروض الممنوحة خلال الفترة.",
    ),
    (
        "DISBURSED_AMOUNT",
        "Montant décaissé pendant la période, en dirhams.",
        "المبلغ الممنوح خلال الفترة، بالدرهم.",
    ),
    (
        "AVERAGE_DISBURSED_LOAN",
        "Montant décaissé ÷ prêts décaissés pendant la période, en dirhams par prêt.",
        "المبلغ الممنوح ÷ القروض الممنوحة خلال الفترة، بالدرهم لكل قرض.",
    ),
    (
        "ACTIVE_LOANS",
        "Prêts en cours à la fin de la période.",
        "القروض الجارية في نهاية الفترة.",
    ),
    (
        "OUTSTANDING_AMOUNT",
        "Capital restant dû brut à la fin de la période, en dirhams.",
        "الرأسمال الإجمالي المتبقي في نهاية الفترة، بالدرهم.",
    ),
    (
        "AVERAGE_OUTSTANDING_LOAN",
        "Encours brut ÷ prêts en cours à la fin de la période, en dirhams par prêt.",
        "الجاري الإجمالي ÷ القروض الجارية في نهاية الفترة، بالدرهم لكل قرض.",
    ),
    (
        "AVERAGE_OUTSTANDING_PER_BORROWER",
        "Encours brut ÷ clients actifs à la fin de la période, en dirhams par client.",
        "الجاري الإجمالي ÷ الزبناء النشيطون في نهاية الفترة، بالدرهم لكل زبون.",
    ),
    (
        "PAR30_AMOUNT",
        "Encours des prêts ayant une échéance impayée depuis plus de 30 jours, à la fin de la période, en dirhams.",
        "جاري القروض التي لها قسط غير مؤدى منذ أكثر من 30 يوما، في نهاية الفترة، بالدرهم.",
    ),
    (
        "PAR30_RATE",
        "Portefeuille à risque à plus de 30 jours ÷ encours brut × 100, à la fin de la période.",
        "المحفظة المعرضة للخطر أكثر من 30 يوما ÷ الجاري الإجمالي × 100، في نهاية الفترة.",
    ),
    (
        "PAR90_AMOUNT",
        "Encours des prêts ayant une échéance impayée depuis plus de 90 jours, à la fin de la période, en dirhams.",
        "جاري القروض التي لها قسط غير مؤدى منذ أكثر من 90 يوما، في نهاية الفترة، بالدرهم.",
    ),
    (
        "PAR90_RATE",
        "Portefeuille à risque à plus de 90 jours ÷ encours brut × 100, à la fin de la période.",
        "المحفظة المعرضة للخطر أكثر من 90 يوما ÷ الجاري الإجمالي × 100، في نهاية الفترة.",
    ),
    (
        "RESCHEDULED_AMOUNT",
        "Encours des prêts rééchelonnés (renégociés) à la fin de la période, en dirhams.",
        "جاري القروض المعاد جدولتها (المعاد التفاوض بشأنها) في نهاية الفترة، بالدرهم.",
    ),
    (
        "RESCHEDULED_RATE",
        "Portefeuille rééchelonné ÷ encours brut × 100, à la fin de la période.",
        "المحفظة المعاد جدولتها ÷ الجاري الإجمالي × 100، في نهاية الفترة.",
    ),
    (
        "WRITE_OFF_AMOUNT",
        "Montant passé en perte pendant la période, en dirhams.",
        "المبلغ المشطوب خلال الفترة، بالدرهم.",
    ),
    (
        "WRITE_OFF_RATIO",
        "Créances passées en perte pendant la période × 12 ÷ m (m mois dans la période) ÷ l'encours brut moyen des \
         m + 1 fins de mois, de celle qui précède la période à la dernière × 100 : annualisé.",
        "الديون المشطوبة خلال الفترة × 12 ÷ m (عدد أشهر الفترة) ÷ متوسط جاري القروض الإجمالي في نهايات الأشهر m + 1، من \
         نهاية الشهر السابق للفترة إلى آخر شهر فيها × 100: على أساس سنوي.",
    ),
    (
        "CLIENT_TURNOVER",
        "(Clients actifs à la fin du mois précédant la période + nouveaux clients de la période − clients actifs à sa \
         fin) × 12 ÷ m ÷ la moyenne des clients actifs des m + 1 fins de mois, de celle qui précède la période à la \
         dernière × 100 : les clients sortis, annualisé.",
        "(الزبناء النشيطون في نهاية الشهر السابق للفترة + الزبناء الجدد خلال الفترة − الزبناء النشيطون في نهايتها) × 12 ÷ m \
         ÷ متوسط الزبناء النشيطين في نهايات الأشهر m + 1، من نهاية الشهر السابق للفترة إلى آخر شهر فيها × 100: الزبناء \
         المغادرون، على أساس سنوي.",
    ),
    (
        "REPAYMENTS_DUE",
        "Échéances (principal et intérêts) arrivant à terme pendant la période, en MAD.",
        "الأقساط (الأصل والفوائد) المستحقة خلال الفترة، بالدرهم.",
    ),
    (
        "REPAYMENTS_COLLECTED",
        "Remboursements encaissés pendant la période, en MAD.",
        "الأقساط المستخلصة خلال الفترة، بالدرهم.",
    ),
    (
        "COLLECTION_RATE",
        "Remboursements encaissés ÷ remboursements dus pendant la période × 100.",
        "الأقساط المستخلصة ÷ الأقساط المستحقة خلال الفترة × 100.",
    ),
    (
        "BRANCHES",
        "Agences fixes ouvertes le dernier jour de la période (registre des points de vente).",
        "الوكالات الثابتة المفتوحة في آخر يوم من الفترة (سجل نقاط البيع).",
    ),
    (
        "MOBILE_BRANCHES",
        "Agences mobiles ouvertes le dernier jour de la période (registre des points de vente).",
        "الوكالات المتنقلة المفتوحة في آخر يوم من الفترة (سجل نقاط البيع).",
    ),
    (
        "STAFF",
        "Effectif du personnel à la fin de la période.",
        "عدد المستخدمين في نهاية الفترة.",
    ),
    (
        "CLIENTS_PER_STAFF",
        "Clients actifs ÷ effectif du personnel à la fin de la période.",
        "الزبناء النشيطون ÷ عدد المستخدمين في نهاية الفترة.",
    ),
    (
        "OSS",
        "Produits financiers ÷ (charges financières + dotations nettes aux provisions + charges d'exploitation) × 100, sur la période (états financiers ; trimestre et année).",
        "الإيرادات المالية ÷ (المصاريف المالية + صافي مخصصات انخفاض القيمة + مصاريف الاستغلال) × 100، خلال الفترة (القوائم المالية؛ ربع سنة وسنة).",
    ),
    (
        "FSS",
        "Produits financiers ÷ (charges financières + dotations nettes aux provisions + charges d'exploitation + ajustements) × 100 ; ajustements : (moyenne trimestrielle des fonds propres − moyenne des immobilisations nettes) × inflation × m ÷ 12, plus max(0, moyenne des financements bonifiés × taux du marché × m ÷ 12 − intérêts payés), plus dons en nature.",
        "الإيرادات المالية ÷ (المصاريف المالية + صافي المخصصات + مصاريف الاستغلال + التعديلات) × 100؛ التعديلات: (متوسط الأموال الذاتية − متوسط الأصول الثابتة الصافية) × التضخم × m ÷ 12، زائد max(0، متوسط التمويلات المدعمة × سعر السوق × m ÷ 12 − الفوائد المؤداة)، زائد الهبات العينية.",
    ),
    (
        "ROA",
        "(Résultat d'exploitation − impôts) × 12 ÷ m ÷ moyenne du total actif des fins de trimestre, de celle qui précède la période à sa dernière × 100.",
        "(نتيجة الاستغلال − الضرائب) × 12 ÷ m ÷ متوسط مجموع الأصول في نهايات الأرباع، من التي تسبق الفترة إلى آخرها × 100.",
    ),
    (
        "AROA",
        "(Résultat d'exploitation − ajustements de l'autosuffisance financière − impôts) × 12 ÷ m ÷ moyenne trimestrielle du total actif × 100.",
        "(نتيجة الاستغلال − تعديلات الاكتفاء الذاتي المالي − الضرائب) × 12 ÷ m ÷ متوسط مجموع الأصول الربعي × 100.",
    ),
    (
        "ROE",
        "(Résultat d'exploitation − impôts) × 12 ÷ m ÷ moyenne trimestrielle des fonds propres × 100.",
        "(نتيجة الاستغلال − الضرائب) × 12 ÷ m ÷ متوسط الأموال الذاتية الربعي × 100.",
    ),
    (
        "YIELD_NOMINAL",
        "(Intérêts + commissions sur crédits) × 12 ÷ m ÷ moyenne de l'encours brut des fins de mois, de celle qui précède la période à sa dernière × 100.",
        "(الفوائد + العمولات على القروض) × 12 ÷ m ÷ متوسط المبلغ الجاري الإجمالي في نهايات الأشهر، من التي تسبق الفترة إلى آخرها × 100.",
    ),
    (
        "YIELD_REAL",
        "(Rendement nominal − inflation) ÷ (1 + inflation) × 100, avec l'inflation de l'année (série de référence INFLATION).",
        "(المردودية الاسمية − التضخم) ÷ (1 + التضخم) × 100، بتضخم السنة (السلسلة المرجعية INFLATION).",
    ),
    (
        "OPEX_RATIO",
        "Charges d'exploitation × 12 ÷ m ÷ moyenne mensuelle de l'encours brut × 100.",
        "مصاريف الاستغلال × 12 ÷ m ÷ المتوسط الشهري للمبلغ الجاري الإجمالي × 100.",
    ),
    (
        "COST_PER_CLIENT",
        "Charges d'exploitation × 12 ÷ m ÷ moyenne mensuelle des clients actifs (MAD par client et par an).",
        "مصاريف الاستغلال × 12 ÷ m ÷ المتوسط الشهري للزبناء النشيطين (درهم لكل زبون في السنة).",
    ),
    (
        "COST_PER_LOAN",
        "Charges d'exploitation × 12 ÷ m ÷ moyenne mensuelle des prêts actifs (MAD par prêt et par an).",
        "مصاريف الاستغلال × 12 ÷ m ÷ المتوسط الشهري للقروض النشيطة (درهم لكل قرض في السنة).",
    ),
    (
        "FUNDING_EXPENSE_RATIO",
        "Charges financières × 12 ÷ m ÷ moyenne mensuelle de l'encours brut × 100.",
        "المصاريف المالية × 12 ÷ m ÷ المتوسط الشهري للمبلغ الجاري الإجمالي × 100.",
    ),
    (
        "COST_OF_FUNDS",
        "Charges d'intérêts sur financements × 12 ÷ m ÷ moyenne trimestrielle des dépôts et emprunts × 100.",
        "فوائد التمويلات × 12 ÷ m ÷ المتوسط الربعي للودائع والاقتراضات × 100.",
    ),
    (
        "IMPAIRMENT_EXPENSE_RATIO",
        "(Dotations aux provisions − récupérations) × 12 ÷ m ÷ moyenne mensuelle de l'encours brut × 100.",
        "(مخصصات انخفاض القيمة − المسترجعات) × 12 ÷ m ÷ المتوسط الشهري للمبلغ الجاري الإجمالي × 100.",
    ),
    (
        "LOAN_LOSS_RATE",
        "(Montants radiés des rapports mensuels − récupérations) × 12 ÷ m ÷ moyenne mensuelle de l'encours brut × 100.",
        "(المبالغ المشطوبة في التقارير الشهرية − المسترجعات) × 12 ÷ m ÷ المتوسط الشهري للمبلغ الجاري الإجمالي × 100.",
    ),
    (
        "RISK_COVERAGE",
        "Provisions pour créances en souffrance à la fin de la période ÷ PAR30 du dernier mois × 100.",
        "مخصصات الديون المتعثرة في نهاية الفترة ÷ المحفظة المعرضة للخطر 30 يوما في آخر شهر × 100.",
    ),
    (
        "DEBT_TO_EQUITY",
        "Total du passif exigible ÷ total des fonds propres à la fin de la période (en nombre de fois).",
        "مجموع الخصوم ÷ مجموع الأموال الذاتية في نهاية الفترة (عدد المرات).",
    ),
    (
        "CAPITAL_TO_ASSETS",
        "Total des fonds propres ÷ total actif à la fin de la période × 100.",
        "مجموع الأموال الذاتية ÷ مجموع الأصول في نهاية الفترة × 100.",
    ),
    (
        "PORTFOLIO_TO_ASSETS",
        "Encours brut de crédits ÷ total actif à la fin de la période × 100 (états financiers).",
        "المبلغ الجاري الإجمالي للقروض ÷ مجموع الأصول في نهاية الفترة × 100 (القوائم المالية).",
    ),
    (
        "LIQUID_RATIO",
        "(Caisse et banques + placements à court terme) ÷ (dépôts + emprunts à court terme + intérêts courus à payer + autres dettes à court terme) à la fin de la période × 100.",
        "(النقد + التوظيفات قصيرة الأجل) ÷ (الودائع + الاقتراضات قصيرة الأجل + الفوائد المستحقة + الخصوم الجارية الأخرى) في نهاية الفترة × 100.",
    ),
    (
        "BORROWERS_PER_LOAN_OFFICER",
        "Clients actifs du dernier mois ÷ agents de crédit à la fin de la période.",
        "الزبناء النشيطون في آخر شهر ÷ المكلفون بالقروض في نهاية الفترة.",
    ),
    (
        "PERSONNEL_ALLOCATION",
        "Agents de crédit à la fin de la période ÷ effectif du dernier mois × 100.",
        "المكلفون بالقروض في نهاية الفترة ÷ عدد المستخدمين في آخر شهر × 100.",
    ),
];

impl MeasureDef {
    /// The financial ratio, when the measure is one.
    pub fn financial(&self) -> Option<Ratio> {
        match self.formula {
            Formula::Financial(ratio) => Some(ratio),
            _ => None,
        }
    }

    /// The granularities `indicators` computes the measure at.
    pub fn granularities(&self) -> Vec<crate::period::Granularity> {
        use crate::period::Granularity::*;
        match self.formula {
            Formula::Financial(_) => vec![Quarter, Year],
            _ => vec![Month, Quarter, Year],
        }
    }

    /// Whether a flow set against a stock is annualised.
    pub fn annualised(&self) -> bool {
        match self.formula {
            Formula::Financial(ratio) => ratio.about().annualised,
            Formula::OverAverage { .. } => true,
            _ => false,
        }
    }

    /// How the stocks it reads are averaged.
    pub fn averaging(&self) -> crate::finance::ratios::Averaging {
        use crate::finance::ratios::Averaging;
        match self.formula {
            Formula::Financial(ratio) => ratio.about().averaging,
            Formula::OverAverage { .. } => Averaging::Monthly,
            _ => Averaging::None,
        }
    }

    /// Which way is better.
    pub fn better_when(&self) -> crate::finance::ratios::BetterWhen {
        use crate::finance::ratios::BetterWhen;
        match (self.formula, self.code) {
            (Formula::Financial(ratio), _) => ratio.about().better_when,
            (_, "PAR30_RATE" | "PAR90_RATE" | "RESCHEDULED_RATE" | "WRITE_OFF_RATIO" | "CLIENT_TURNOVER") => {
                BetterWhen::Lower
            }
            (_, "COLLECTION_RATE") => BetterWhen::Higher,
            _ => BetterWhen::Neutral,
        }
    }

    /// How the measure is computed, in French, Arabic and English.
    pub fn formulas(&self) -> (&'static str, &'static str, &'static str) {
        let (fr, ar) = FORMULAS_FR_AR
            .iter()
            .find(|(code, ..)| *code == self.code)
            .map_or(("", ""), |(_, fr, ar)| (*fr, *ar));
        (fr, ar, self.formula_text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_monthly_aggregate_sums_a_measure_of_its_fact_table() {
        for agg in Agg::ALL {
            let Some(facts) = agg.source().facts() else { continue };
            let column = agg.column_and_condition().0;
            assert!(
                facts.measure(column).is_some(),
                "{agg:?} sums {column}, not a measure of {}",
                facts.table
            );
            let dims: Vec<&str> = agg.source().dims().iter().map(|d| d.name()).collect();
            assert!(!dims.is_empty(), "{agg:?}");
        }
        // A loan quantity read by activity is the same quantity: stock or flow, count or money alike.
        for agg in Agg::ALL {
            if let Some(split) = agg.by_activity() {
                assert_eq!(split.source(), Source::Activities);
                assert_eq!(split.of_loans(), agg);
                assert_eq!(
                    (split.kind(), split.is_money()),
                    (agg.kind(), agg.is_money()),
                    "{split:?}"
                );
            }
        }
        assert!(Agg::Outstanding.is_money() && Agg::TargetOutstanding.is_money());
        assert!(!Agg::ActiveLoans.is_money() && !Agg::ActiveFemale.is_money() && !Agg::TargetNewClients.is_money());
    }
}
