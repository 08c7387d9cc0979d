//! The standard financial ratios of microfinance (SEEP, CGAP, MIX), computed from the associations' quarterly
//! statements, their monthly rows and the observatory's reference series, at QUARTER and YEAR granularity.
//!
//! For a period P of m months (3 or 12), AF = 12 ÷ m annualises flows set against stocks. Stocks reported monthly
//! (the gross portfolio, active clients and loans) are averaged over the m + 1 month-ends from the one before P to
//! its last (`Avg_M`); stocks of the statements (assets, equity, borrowings, fixed assets) over the quarter-ends
//! from the one before P to its last (`Avg_Q`, m ÷ 3 + 1 points). A missing opening point is left out of its average
//! (the average of the points present). Each association's parts are computed on its own points; a group's ratio
//! is the sum of its associations' numerators over the sum of their denominators, never a mean of ratios. An
//! association contributes to a period only with a statement for each of its quarters.

use super::chart::*;
use super::validate::Lines;
use crate::period::{Granularity, Month, Period};
use std::collections::{BTreeMap, HashMap};

/// How a ratio's stocks are averaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Averaging {
    /// Over the month-ends from the one before the period to its last (monthly reports).
    Monthly,
    /// Over the quarter-ends from the one before the period to its last (statements).
    Quarterly,
    /// Stocks at the period's end; flows over the period.
    None,
}

/// What a ratio divides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RatioKind {
    FlowOverStock,
    FlowOverFlow,
    StockOverStock,
}

/// Which way is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BetterWhen {
    Higher,
    Lower,
    Neutral,
}

/// A ratio of the catalogue computed from the statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ratio {
    OperationalSelfSufficiency,
    FinancialSelfSufficiency,
    ReturnOnAssets,
    AdjustedReturnOnAssets,
    ReturnOnEquity,
    PortfolioYield,
    RealPortfolioYield,
    OperatingExpenseRatio,
    CostPerClient,
    CostPerLoan,
    FundingExpenseRatio,
    CostOfFunds,
    ImpairmentExpenseRatio,
    LoanLossRate,
    RiskCoverage,
    DebtToEquity,
    CapitalToAssets,
    PortfolioToAssets,
    LiquidRatio,
    BorrowersPerLoanOfficer,
    PersonnelAllocation,
}

/// What the catalogue says of a ratio beyond its formula.
#[derive(Debug, Clone, Copy)]
pub struct About {
    pub numerator: &'static str,
    pub denominator: &'static str,
    pub kind: RatioKind,
    pub annualised: bool,
    pub averaging: Averaging,
    pub better_when: BetterWhen,
    /// The SEEP 2005 category.
    pub category: &'static str,
    /// Value × 100 (a percentage).
    pub percent: bool,
}

impl Ratio {
    pub const ALL: [Ratio; 21] = [
        Ratio::OperationalSelfSufficiency,
        Ratio::FinancialSelfSufficiency,
        Ratio::ReturnOnAssets,
        Ratio::AdjustedReturnOnAssets,
        Ratio::ReturnOnEquity,
        Ratio::PortfolioYield,
        Ratio::RealPortfolioYield,
        Ratio::OperatingExpenseRatio,
        Ratio::CostPerClient,
        Ratio::CostPerLoan,
        Ratio::FundingExpenseRatio,
        Ratio::CostOfFunds,
        Ratio::ImpairmentExpenseRatio,
        Ratio::LoanLossRate,
        Ratio::RiskCoverage,
        Ratio::DebtToEquity,
        Ratio::CapitalToAssets,
        Ratio::PortfolioToAssets,
        Ratio::LiquidRatio,
        Ratio::BorrowersPerLoanOfficer,
        Ratio::PersonnelAllocation,
    ];

    pub fn about(self) -> About {
        use Averaging::{Monthly, None as End, Quarterly};
        use BetterWhen::*;
        use RatioKind::*;
        let about = |numerator, denominator, kind, annualised, averaging, better_when, category, percent| About {
            numerator,
            denominator,
            kind,
            annualised,
            averaging,
            better_when,
            category,
            percent,
        };
        const SUSTAINABILITY: &str = "Sustainability and profitability";
        const ALM: &str = "Asset and liability management";
        const QUALITY: &str = "Portfolio quality";
        const EFFICIENCY: &str = "Efficiency and productivity";
        const EXPENSES: &str = "IS_FINANCIAL_EXPENSE + IS_IMPAIRMENT_EXPENSE − IS_RECOVERIES + IS_OPERATING_EXPENSE";
        match self {
            Ratio::OperationalSelfSufficiency => about(
                "IS_FINANCIAL_REVENUE",
                EXPENSES,
                FlowOverFlow,
                false,
                End,
                Higher,
                SUSTAINABILITY,
                true,
            ),
            Ratio::FinancialSelfSufficiency => about(
                "IS_FINANCIAL_REVENUE",
                "IS_FINANCIAL_EXPENSE + IS_IMPAIRMENT_EXPENSE − IS_RECOVERIES + IS_OPERATING_EXPENSE + ADJ (inflation, subsidised funding, in-kind subsidies)",
                FlowOverFlow,
                false,
                Quarterly,
                Higher,
                SUSTAINABILITY,
                true,
            ),
            Ratio::ReturnOnAssets => about(
                "(IS_NET_OPERATING_INCOME − IS_TAXES) × 12 ÷ m",
                "Avg_Q(BS_TOTAL_ASSETS)",
                FlowOverStock,
                true,
                Quarterly,
                Higher,
                SUSTAINABILITY,
                true,
            ),
            Ratio::AdjustedReturnOnAssets => about(
                "(IS_NET_OPERATING_INCOME − ADJ − IS_TAXES) × 12 ÷ m",
                "Avg_Q(BS_TOTAL_ASSETS)",
                FlowOverStock,
                true,
                Quarterly,
                Higher,
                SUSTAINABILITY,
                true,
            ),
            Ratio::ReturnOnEquity => about(
                "(IS_NET_OPERATING_INCOME − IS_TAXES) × 12 ÷ m",
                "Avg_Q(BS_TOTAL_EQUITY)",
                FlowOverStock,
                true,
                Quarterly,
                Higher,
                SUSTAINABILITY,
                true,
            ),
            Ratio::PortfolioYield => about(
                "(IS_INTEREST_ON_LOANS + IS_FEES_ON_LOANS) × 12 ÷ m",
                "Avg_M(gross outstanding)",
                FlowOverStock,
                true,
                Monthly,
                Neutral,
                ALM,
                true,
            ),
            Ratio::RealPortfolioYield => about(
                "(IS_INTEREST_ON_LOANS + IS_FEES_ON_LOANS) × 12 ÷ m, then (yield − π) ÷ (1 + π)",
                "Avg_M(gross outstanding)",
                FlowOverStock,
                true,
                Monthly,
                Neutral,
                ALM,
                true,
            ),
            Ratio::OperatingExpenseRatio => about(
                "IS_OPERATING_EXPENSE × 12 ÷ m",
                "Avg_M(gross outstanding)",
                FlowOverStock,
                true,
                Monthly,
                Lower,
                EFFICIENCY,
                true,
            ),
            Ratio::CostPerClient => about(
                "IS_OPERATING_EXPENSE × 12 ÷ m",
                "Avg_M(active clients)",
                FlowOverStock,
                true,
                Monthly,
                Lower,
                EFFICIENCY,
                false,
            ),
            Ratio::CostPerLoan => about(
                "IS_OPERATING_EXPENSE × 12 ÷ m",
                "Avg_M(active loans)",
                FlowOverStock,
                true,
                Monthly,
                Lower,
                EFFICIENCY,
                false,
            ),
            Ratio::FundingExpenseRatio => about(
                "IS_FINANCIAL_EXPENSE × 12 ÷ m",
                "Avg_M(gross outstanding)",
                FlowOverStock,
                true,
                Monthly,
                Lower,
                ALM,
                true,
            ),
            Ratio::CostOfFunds => about(
                "IS_INTEREST_EXPENSE_FUNDING × 12 ÷ m",
                "Avg_Q(BS_DEPOSITS + BS_SHORT_TERM_BORROWINGS + BS_LONG_TERM_BORROWINGS)",
                FlowOverStock,
                true,
                Quarterly,
                Lower,
                ALM,
                true,
            ),
            Ratio::ImpairmentExpenseRatio => about(
                "(IS_IMPAIRMENT_EXPENSE − IS_RECOVERIES) × 12 ÷ m",
                "Avg_M(gross outstanding)",
                FlowOverStock,
                true,
                Monthly,
                Lower,
                QUALITY,
                true,
            ),
            Ratio::LoanLossRate => about(
                "(Σ monthly write-offs − IS_RECOVERIES) × 12 ÷ m",
                "Avg_M(gross outstanding)",
                FlowOverStock,
                true,
                Monthly,
                Lower,
                QUALITY,
                true,
            ),
            Ratio::RiskCoverage => about(
                "BS_IMPAIRMENT_ALLOWANCE at the period's end",
                "PAR30 at the period's last month",
                StockOverStock,
                false,
                End,
                Higher,
                QUALITY,
                true,
            ),
            Ratio::DebtToEquity => about(
                "BS_TOTAL_LIABILITIES at the period's end",
                "BS_TOTAL_EQUITY at the period's end",
                StockOverStock,
                false,
                End,
                Neutral,
                ALM,
                false,
            ),
            Ratio::CapitalToAssets => about(
                "BS_TOTAL_EQUITY at the period's end",
                "BS_TOTAL_ASSETS at the period's end",
                StockOverStock,
                false,
                End,
                Higher,
                ALM,
                true,
            ),
            Ratio::PortfolioToAssets => about(
                "BS_GROSS_LOAN_PORTFOLIO at the period's end",
                "BS_TOTAL_ASSETS at the period's end",
                StockOverStock,
                false,
                End,
                Neutral,
                ALM,
                true,
            ),
            Ratio::LiquidRatio => about(
                "BS_CASH + BS_TRADE_INVESTMENTS at the period's end",
                "BS_DEPOSITS + BS_SHORT_TERM_BORROWINGS + BS_INTEREST_PAYABLE + BS_OTHER_CURRENT_LIABILITIES at the period's end",
                StockOverStock,
                false,
                End,
                Neutral,
                ALM,
                true,
            ),
            Ratio::BorrowersPerLoanOfficer => about(
                "active clients at the period's last month",
                "PF_LOAN_OFFICERS at the period's end",
                StockOverStock,
                false,
                End,
                Higher,
                EFFICIENCY,
                false,
            ),
            Ratio::PersonnelAllocation => about(
                "PF_LOAN_OFFICERS at the period's end",
                "staff at the period's last month",
                StockOverStock,
                false,
                End,
                Neutral,
                EFFICIENCY,
                true,
            ),
        }
    }
}

/// One association's month-end figures from its monthly rows (MAD and counts).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MonthEnd {
    pub outstanding: Option<f64>,
    pub par30: Option<f64>,
    pub active_clients: Option<f64>,
    pub active_loans: Option<f64>,
    pub write_offs: Option<f64>,
    pub staff: Option<f64>,
}

/// What the ratios of one association and period are computed from.
pub struct Inputs<'a> {
    pub period: Period,
    /// The statements of the period's quarters, in order (all present).
    pub quarters: Vec<&'a Lines>,
    /// The statement of the quarter before the period, when there is one.
    pub opening: Option<&'a Lines>,
    /// The month-ends from the one before the period to its last (m + 1).
    pub months: Vec<MonthEnd>,
    /// Annual inflation of the period's year (decimal), when known.
    pub inflation: Option<f64>,
    /// The market rate of funds of the period's year (decimal), when known.
    pub market_rate: Option<f64>,
}

fn mad(lines: &Lines, code: &str) -> f64 {
    lines.get(code).copied().unwrap_or(0) as f64 / 100.0
}

fn count(lines: &Lines, code: &str) -> f64 {
    lines.get(code).copied().unwrap_or(0) as f64
}

/// The mean of the points present; `None` without any.
fn mean(points: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    let present: Vec<f64> = points.into_iter().flatten().collect();
    (!present.is_empty()).then(|| present.iter().sum::<f64>() / present.len() as f64)
}

impl Inputs<'_> {
    fn months(&self) -> f64 {
        f64::from(self.period.granularity.months())
    }

    fn annualise(&self) -> f64 {
        12.0 / self.months()
    }

    /// A flow of the statements over the period: the sum of its quarters.
    fn flow(&self, code: &str) -> f64 {
        self.quarters.iter().map(|q| mad(q, code)).sum()
    }

    /// A statement stock at the period's end.
    fn end(&self, code: &str) -> f64 {
        mad(self.quarters.last().expect("a period has a quarter"), code)
    }

    /// Avg_Q: a statement stock averaged over the quarter-ends from the one before the period to its last.
    fn avg_q(&self, stock: impl Fn(&Lines) -> f64) -> f64 {
        let points = std::iter::once(self.opening.map(&stock)).chain(self.quarters.iter().map(|q| Some(stock(q))));
        mean(points).unwrap_or(0.0)
    }

    /// Avg_M: a monthly stock averaged over the month-ends from the one before the period to its last.
    fn avg_m(&self, stock: impl Fn(&MonthEnd) -> Option<f64>) -> Option<f64> {
        mean(self.months.iter().map(stock))
    }

    fn last_month(&self) -> MonthEnd {
        self.months.last().copied().unwrap_or_default()
    }

    /// The adjustments of financial self-sufficiency and adjusted ROA: inflation on the equity not held in fixed
    /// assets, the subsidy of below-market funding, and in-kind subsidies. Inflation and the market rate count as 0
    /// when unknown.
    fn adjustments(&self) -> f64 {
        let share = self.months() / 12.0;
        let inflation = (self.avg_q(|l| mad(l, BS_TOTAL_EQUITY)) - self.avg_q(|l| mad(l, BS_NET_FIXED_ASSETS)))
            * self.inflation.unwrap_or(0.0)
            * share;
        let subsidy = (self.avg_q(|l| mad(l, PF_SUBSIDIZED_FUNDING)) * self.market_rate.unwrap_or(0.0) * share
            - self.flow(PF_SUBSIDIZED_FUNDING_INTEREST))
        .max(0.0);
        inflation + subsidy + self.flow(PF_IN_KIND_SUBSIDY)
    }

    /// The numerator and denominator of a ratio for this association and period (in MAD or counts; a percentage
    /// is the quotient × 100). `None` when a monthly figure it needs is missing.
    pub fn parts(&self, ratio: Ratio) -> Option<(f64, f64)> {
        let af = self.annualise();
        let revenue = self.flow(IS_FINANCIAL_REVENUE);
        let net_impairment = self.flow(IS_IMPAIRMENT_EXPENSE) - self.flow(IS_RECOVERIES);
        let expenses = self.flow(IS_FINANCIAL_EXPENSE) + net_impairment + self.flow(IS_OPERATING_EXPENSE);
        let result = self.flow(IS_NET_OPERATING_INCOME) - self.flow(IS_TAXES);
        let glp = || self.avg_m(|m| m.outstanding);
        let last = self.last_month();
        Some(match ratio {
            Ratio::OperationalSelfSufficiency => (revenue, expenses),
            Ratio::FinancialSelfSufficiency => (revenue, expenses + self.adjustments()),
            Ratio::ReturnOnAssets => (result * af, self.avg_q(|l| mad(l, BS_TOTAL_ASSETS))),
            Ratio::AdjustedReturnOnAssets => (
                (result - self.adjustments()) * af,
                self.avg_q(|l| mad(l, BS_TOTAL_ASSETS)),
            ),
            Ratio::ReturnOnEquity => (result * af, self.avg_q(|l| mad(l, BS_TOTAL_EQUITY))),
            Ratio::PortfolioYield | Ratio::RealPortfolioYield => (
                (self.flow(IS_INTEREST_ON_LOANS) + self.flow(IS_FEES_ON_LOANS)) * af,
                glp()?,
            ),
            Ratio::OperatingExpenseRatio => (self.flow(IS_OPERATING_EXPENSE) * af, glp()?),
            Ratio::CostPerClient => (self.flow(IS_OPERATING_EXPENSE) * af, self.avg_m(|m| m.active_clients)?),
            Ratio::CostPerLoan => (self.flow(IS_OPERATING_EXPENSE) * af, self.avg_m(|m| m.active_loans)?),
            Ratio::FundingExpenseRatio => (self.flow(IS_FINANCIAL_EXPENSE) * af, glp()?),
            Ratio::CostOfFunds => (
                self.flow(IS_INTEREST_EXPENSE_FUNDING) * af,
                self.avg_q(|l| {
                    mad(l, BS_DEPOSITS) + mad(l, BS_SHORT_TERM_BORROWINGS) + mad(l, BS_LONG_TERM_BORROWINGS)
                }),
            ),
            Ratio::ImpairmentExpenseRatio => (net_impairment * af, glp()?),
            Ratio::LoanLossRate => {
                let write_offs: Option<f64> = self.months[1..].iter().map(|m| m.write_offs).sum();
                ((write_offs? - self.flow(IS_RECOVERIES)) * af, glp()?)
            }
            Ratio::RiskCoverage => (self.end(BS_IMPAIRMENT_ALLOWANCE), last.par30?),
            Ratio::DebtToEquity => (self.end(BS_TOTAL_LIABILITIES), self.end(BS_TOTAL_EQUITY)),
            Ratio::CapitalToAssets => (self.end(BS_TOTAL_EQUITY), self.end(BS_TOTAL_ASSETS)),
            Ratio::PortfolioToAssets => (self.end(BS_GROSS_LOAN_PORTFOLIO), self.end(BS_TOTAL_ASSETS)),
            Ratio::LiquidRatio => (
                self.end(BS_CASH) + self.end(BS_TRADE_INVESTMENTS),
                self.end(BS_DEPOSITS)
                    + self.end(BS_SHORT_TERM_BORROWINGS)
                    + self.end(BS_INTEREST_PAYABLE)
                    + self.end(BS_OTHER_CURRENT_LIABILITIES),
            ),
            Ratio::BorrowersPerLoanOfficer => (
                last.active_clients?,
                count(self.quarters.last().expect("a quarter"), PF_LOAN_OFFICERS),
            ),
            Ratio::PersonnelAllocation => (
                count(self.quarters.last().expect("a quarter"), PF_LOAN_OFFICERS),
                last.staff?,
            ),
        })
    }

    /// Whether every point of the averages the ratio reads is present (the opening month-end or quarter-end may be
    /// missing: the average is then of the points present).
    pub fn complete(&self, ratio: Ratio) -> bool {
        match ratio.about().averaging {
            Averaging::Monthly => self.months.iter().all(|m| m.outstanding.is_some()),
            Averaging::Quarterly => self.opening.is_some(),
            Averaging::None => true,
        }
    }
}

/// A ratio's value from its parts: the quotient (× 100 for a percentage); the real yield deflates the nominal one
/// by the year's inflation. `None` for a zero denominator.
pub fn value(ratio: Ratio, numerator: f64, denominator: f64, inflation: Option<f64>) -> Option<f64> {
    if denominator == 0.0 {
        return None;
    }
    let quotient = numerator / denominator;
    match ratio {
        Ratio::RealPortfolioYield => {
            let inflation = inflation?;
            Some((quotient - inflation) / (1.0 + inflation) * 100.0)
        }
        _ if ratio.about().percent => Some(quotient * 100.0),
        _ => Some(quotient),
    }
}

/// Sums of one group's parts for one ratio and period.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sums {
    pub numerator: f64,
    pub denominator: f64,
    /// Associations whose parts are summed.
    pub contributors: u32,
    /// Every contributor's averages had all their points.
    pub complete: bool,
}

/// Every association's parts, per period and ratio.
pub type PerAssociation = HashMap<(Period, i32), BTreeMap<Ratio, ((f64, f64), bool)>>;

/// The quarter-end months of a period, in order.
pub fn quarter_ends(period: Period) -> Vec<Month> {
    let count = period.granularity.months() / 3;
    (0..count).map(|i| period.first_month().shift(3 * i + 2)).collect()
}

/// Every association's parts for every period: `statements` by association and quarter-end month, `months` by
/// association and month, the reference series by year.
pub fn per_association(
    periods: &[Period],
    statements: &BTreeMap<i32, BTreeMap<i32, Lines>>,
    months: &HashMap<(i32, i32), MonthEnd>,
    inflation: &HashMap<i32, f64>,
    market_rate: &HashMap<i32, f64>,
) -> PerAssociation {
    let mut out = PerAssociation::new();
    for period in periods {
        if period.granularity == Granularity::Month {
            continue;
        }
        let ends = quarter_ends(*period);
        for (association, quarters) in statements {
            let Some(lines): Option<Vec<&Lines>> = ends.iter().map(|m| quarters.get(&m.0)).collect() else {
                continue;
            };
            let opening = quarters.get(&period.first_month().shift(-1).0);
            let month_ends: Vec<MonthEnd> = (-1..period.granularity.months())
                .map(|i| {
                    months
                        .get(&(*association, period.first_month().shift(i).0))
                        .copied()
                        .unwrap_or_default()
                })
                .collect();
            let year = period.first_month().year();
            let inputs = Inputs {
                period: *period,
                quarters: lines,
                opening,
                months: month_ends,
                inflation: inflation.get(&year).copied(),
                market_rate: market_rate.get(&year).copied(),
            };
            let parts = Ratio::ALL
                .into_iter()
                .filter_map(|ratio| Some((ratio, (inputs.parts(ratio)?, inputs.complete(ratio)))))
                .collect();
            out.insert((*period, *association), parts);
        }
    }
    out
}

/// Each group's sums per period and ratio: the sector (`None`) or one association.
pub type Grouped = HashMap<(Period, Option<i32>), BTreeMap<Ratio, Sums>>;

/// The associations' parts summed into the sector's, or kept per association (`by_association`).
pub fn group(per: &PerAssociation, by_association: bool) -> Grouped {
    let mut out = Grouped::new();
    // In a fixed order, so that the same figures always sum to the same last digit.
    let mut keys: Vec<&(Period, i32)> = per.keys().collect();
    keys.sort();
    for key in keys {
        let ((period, association), parts) = (key, &per[key]);
        let key = (*period, by_association.then_some(*association));
        let group = out.entry(key).or_default();
        for (ratio, ((numerator, denominator), complete)) in parts {
            let sums = group.entry(*ratio).or_insert(Sums {
                complete: true,
                ..Sums::default()
            });
            sums.numerator += numerator;
            sums.denominator += denominator;
            sums.contributors += 1;
            sums.complete &= complete;
        }
    }
    out
}
