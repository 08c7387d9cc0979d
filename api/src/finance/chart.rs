//! The chart of accounts of the quarterly financial statements: every line an association reports, its kind (a
//! stock at the quarter's end or a flow over the quarter alone), its unit, whether it is required and may be
//! negative, and the identities that tie the totals to their lines. One place: validation, the templates, the demo
//! and the ratios read it.

/// A stock at the quarter's end, or a flow over the quarter alone (never year to date).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Stock,
    Flow,
}

/// Money in MAD (stored in centimes), or a count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineUnit {
    Mad,
    Count,
}

/// One line of the chart.
#[derive(Debug)]
pub struct Line {
    pub code: &'static str,
    pub label_en: &'static str,
    pub label_fr: &'static str,
    pub kind: LineKind,
    pub unit: LineUnit,
    /// Every statement carries it (the optional ones are for the subsidy adjustments).
    pub required: bool,
    /// Results and the equity that accumulates them may be negative; everything else is 0 or more.
    pub signed: bool,
}

const fn line(
    code: &'static str,
    label_en: &'static str,
    label_fr: &'static str,
    kind: LineKind,
    unit: LineUnit,
    required: bool,
    signed: bool,
) -> Line {
    Line {
        code,
        label_en,
        label_fr,
        kind,
        unit,
        required,
        signed,
    }
}

use LineKind::{Flow, Stock};
use LineUnit::{Count, Mad};

pub const BS_CASH: &str = "BS_CASH";
pub const BS_TRADE_INVESTMENTS: &str = "BS_TRADE_INVESTMENTS";
pub const BS_GROSS_LOAN_PORTFOLIO: &str = "BS_GROSS_LOAN_PORTFOLIO";
pub const BS_IMPAIRMENT_ALLOWANCE: &str = "BS_IMPAIRMENT_ALLOWANCE";
pub const BS_INTEREST_RECEIVABLE: &str = "BS_INTEREST_RECEIVABLE";
pub const BS_OTHER_RECEIVABLES: &str = "BS_OTHER_RECEIVABLES";
pub const BS_LONG_TERM_INVESTMENTS: &str = "BS_LONG_TERM_INVESTMENTS";
pub const BS_NET_FIXED_ASSETS: &str = "BS_NET_FIXED_ASSETS";
pub const BS_OTHER_ASSETS: &str = "BS_OTHER_ASSETS";
pub const BS_TOTAL_ASSETS: &str = "BS_TOTAL_ASSETS";
pub const BS_DEPOSITS: &str = "BS_DEPOSITS";
pub const BS_SHORT_TERM_BORROWINGS: &str = "BS_SHORT_TERM_BORROWINGS";
pub const BS_LONG_TERM_BORROWINGS: &str = "BS_LONG_TERM_BORROWINGS";
pub const BS_INTEREST_PAYABLE: &str = "BS_INTEREST_PAYABLE";
pub const BS_OTHER_CURRENT_LIABILITIES: &str = "BS_OTHER_CURRENT_LIABILITIES";
pub const BS_OTHER_LIABILITIES: &str = "BS_OTHER_LIABILITIES";
pub const BS_TOTAL_LIABILITIES: &str = "BS_TOTAL_LIABILITIES";
pub const BS_DONATED_EQUITY: &str = "BS_DONATED_EQUITY";
pub const BS_RETAINED_EARNINGS: &str = "BS_RETAINED_EARNINGS";
pub const BS_CURRENT_YEAR_RESULT: &str = "BS_CURRENT_YEAR_RESULT";
pub const BS_OTHER_EQUITY: &str = "BS_OTHER_EQUITY";
pub const BS_TOTAL_EQUITY: &str = "BS_TOTAL_EQUITY";
pub const IS_INTEREST_ON_LOANS: &str = "IS_INTEREST_ON_LOANS";
pub const IS_FEES_ON_LOANS: &str = "IS_FEES_ON_LOANS";
pub const IS_INVESTMENT_REVENUE: &str = "IS_INVESTMENT_REVENUE";
pub const IS_OTHER_OPERATING_REVENUE: &str = "IS_OTHER_OPERATING_REVENUE";
pub const IS_FINANCIAL_REVENUE: &str = "IS_FINANCIAL_REVENUE";
pub const IS_INTEREST_EXPENSE_FUNDING: &str = "IS_INTEREST_EXPENSE_FUNDING";
pub const IS_OTHER_FINANCIAL_EXPENSE: &str = "IS_OTHER_FINANCIAL_EXPENSE";
pub const IS_FINANCIAL_EXPENSE: &str = "IS_FINANCIAL_EXPENSE";
pub const IS_IMPAIRMENT_EXPENSE: &str = "IS_IMPAIRMENT_EXPENSE";
pub const IS_RECOVERIES: &str = "IS_RECOVERIES";
pub const IS_PERSONNEL_EXPENSE: &str = "IS_PERSONNEL_EXPENSE";
pub const IS_ADMINISTRATIVE_EXPENSE: &str = "IS_ADMINISTRATIVE_EXPENSE";
pub const IS_DEPRECIATION: &str = "IS_DEPRECIATION";
pub const IS_OPERATING_EXPENSE: &str = "IS_OPERATING_EXPENSE";
pub const IS_NET_OPERATING_INCOME: &str = "IS_NET_OPERATING_INCOME";
pub const IS_DONATIONS_LOAN_CAPITAL: &str = "IS_DONATIONS_LOAN_CAPITAL";
pub const IS_DONATIONS_OPERATIONS: &str = "IS_DONATIONS_OPERATIONS";
pub const IS_OTHER_NON_OPERATING_REVENUE: &str = "IS_OTHER_NON_OPERATING_REVENUE";
pub const IS_NON_OPERATING_EXPENSE: &str = "IS_NON_OPERATING_EXPENSE";
pub const IS_TAXES: &str = "IS_TAXES";
pub const IS_NET_INCOME: &str = "IS_NET_INCOME";
pub const PF_LOAN_OFFICERS: &str = "PF_LOAN_OFFICERS";
pub const PF_WRITE_OFFS: &str = "PF_WRITE_OFFS";
pub const PF_SUBSIDIZED_FUNDING: &str = "PF_SUBSIDIZED_FUNDING";
pub const PF_SUBSIDIZED_FUNDING_INTEREST: &str = "PF_SUBSIDIZED_FUNDING_INTEREST";
pub const PF_IN_KIND_SUBSIDY: &str = "PF_IN_KIND_SUBSIDY";

/// Every line, in the order of the template.
pub static LINES: &[Line] = &[
    line(
        BS_CASH,
        "Cash and due from banks",
        "Caisse et banques",
        Stock,
        Mad,
        true,
        false,
    ),
    line(
        BS_TRADE_INVESTMENTS,
        "Short-term placements",
        "Placements à court terme",
        Stock,
        Mad,
        true,
        false,
    ),
    line(
        BS_GROSS_LOAN_PORTFOLIO,
        "Gross loan portfolio (current, delinquent and renegotiated loans; written-off loans and interest receivable \
         excluded)",
        "Encours brut de crédits",
        Stock,
        Mad,
        true,
        false,
    ),
    line(
        BS_IMPAIRMENT_ALLOWANCE,
        "Impairment loss allowance (a positive amount, deducted)",
        "Provisions pour créances en souffrance",
        Stock,
        Mad,
        true,
        false,
    ),
    line(
        BS_INTEREST_RECEIVABLE,
        "Interest receivable on the loan portfolio",
        "Intérêts courus à recevoir",
        Stock,
        Mad,
        true,
        false,
    ),
    line(
        BS_OTHER_RECEIVABLES,
        "Other receivables",
        "Autres créances",
        Stock,
        Mad,
        true,
        false,
    ),
    line(
        BS_LONG_TERM_INVESTMENTS,
        "Long-term investments",
        "Placements à long terme",
        Stock,
        Mad,
        true,
        false,
    ),
    line(
        BS_NET_FIXED_ASSETS,
        "Net fixed assets",
        "Immobilisations nettes",
        Stock,
        Mad,
        true,
        false,
    ),
    line(
        BS_OTHER_ASSETS,
        "Other assets",
        "Autres actifs",
        Stock,
        Mad,
        true,
        false,
    ),
    line(BS_TOTAL_ASSETS, "Total assets", "Total actif", Stock, Mad, true, false),
    line(
        BS_DEPOSITS,
        "Deposits (zero under law 18-97)",
        "Dépôts",
        Stock,
        Mad,
        true,
        false,
    ),
    line(
        BS_SHORT_TERM_BORROWINGS,
        "Short-term borrowings",
        "Emprunts à court terme",
        Stock,
        Mad,
        true,
        false,
    ),
    line(
        BS_LONG_TERM_BORROWINGS,
        "Long-term borrowings",
        "Emprunts à long terme",
        Stock,
        Mad,
        true,
        false,
    ),
    line(
        BS_INTEREST_PAYABLE,
        "Interest payable on funding liabilities",
        "Intérêts courus à payer",
        Stock,
        Mad,
        true,
        false,
    ),
    line(
        BS_OTHER_CURRENT_LIABILITIES,
        "Accounts payable and other current liabilities",
        "Autres dettes à court terme",
        Stock,
        Mad,
        true,
        false,
    ),
    line(
        BS_OTHER_LIABILITIES,
        "Other liabilities",
        "Autres passifs",
        Stock,
        Mad,
        true,
        false,
    ),
    line(
        BS_TOTAL_LIABILITIES,
        "Total liabilities",
        "Total passif exigible",
        Stock,
        Mad,
        true,
        false,
    ),
    line(
        BS_DONATED_EQUITY,
        "Donated equity (association funds)",
        "Fonds associatifs et dotations",
        Stock,
        Mad,
        true,
        false,
    ),
    line(
        BS_RETAINED_EARNINGS,
        "Prior years' results",
        "Report à nouveau",
        Stock,
        Mad,
        true,
        true,
    ),
    line(
        BS_CURRENT_YEAR_RESULT,
        "Result of the year to date",
        "Résultat de l'exercice",
        Stock,
        Mad,
        true,
        true,
    ),
    line(
        BS_OTHER_EQUITY,
        "Reserves and other equity",
        "Réserves et autres fonds propres",
        Stock,
        Mad,
        true,
        true,
    ),
    line(
        BS_TOTAL_EQUITY,
        "Total equity",
        "Total fonds propres",
        Stock,
        Mad,
        true,
        true,
    ),
    line(
        IS_INTEREST_ON_LOANS,
        "Interest on the loan portfolio (received)",
        "Intérêts sur crédits",
        Flow,
        Mad,
        true,
        false,
    ),
    line(
        IS_FEES_ON_LOANS,
        "Fees and commissions on the loan portfolio",
        "Commissions sur crédits",
        Flow,
        Mad,
        true,
        false,
    ),
    line(
        IS_INVESTMENT_REVENUE,
        "Revenue from investments",
        "Produits des placements",
        Flow,
        Mad,
        true,
        false,
    ),
    line(
        IS_OTHER_OPERATING_REVENUE,
        "Other operating revenue",
        "Autres produits d'exploitation",
        Flow,
        Mad,
        true,
        false,
    ),
    line(
        IS_FINANCIAL_REVENUE,
        "Financial revenue",
        "Produits financiers",
        Flow,
        Mad,
        true,
        false,
    ),
    line(
        IS_INTEREST_EXPENSE_FUNDING,
        "Interest and fees on funding liabilities",
        "Charges d'intérêts sur financements",
        Flow,
        Mad,
        true,
        false,
    ),
    line(
        IS_OTHER_FINANCIAL_EXPENSE,
        "Other financial expense",
        "Autres charges financières",
        Flow,
        Mad,
        true,
        false,
    ),
    line(
        IS_FINANCIAL_EXPENSE,
        "Financial expense",
        "Charges financières",
        Flow,
        Mad,
        true,
        false,
    ),
    line(
        IS_IMPAIRMENT_EXPENSE,
        "Loan impairment expense, gross",
        "Dotations aux provisions sur crédits",
        Flow,
        Mad,
        true,
        false,
    ),
    line(
        IS_RECOVERIES,
        "Recoveries on loans written off",
        "Récupérations sur créances radiées",
        Flow,
        Mad,
        true,
        false,
    ),
    line(
        IS_PERSONNEL_EXPENSE,
        "Personnel expense",
        "Charges de personnel",
        Flow,
        Mad,
        true,
        false,
    ),
    line(
        IS_ADMINISTRATIVE_EXPENSE,
        "Administrative expense (depreciation included)",
        "Charges administratives",
        Flow,
        Mad,
        true,
        false,
    ),
    line(
        IS_DEPRECIATION,
        "Of which depreciation (memo)",
        "Dont dotations aux amortissements",
        Flow,
        Mad,
        true,
        false,
    ),
    line(
        IS_OPERATING_EXPENSE,
        "Operating expense",
        "Charges d'exploitation",
        Flow,
        Mad,
        true,
        false,
    ),
    line(
        IS_NET_OPERATING_INCOME,
        "Net operating income",
        "Résultat d'exploitation",
        Flow,
        Mad,
        true,
        true,
    ),
    line(
        IS_DONATIONS_LOAN_CAPITAL,
        "Donations for loan capital",
        "Dons pour fonds de crédit",
        Flow,
        Mad,
        true,
        false,
    ),
    line(
        IS_DONATIONS_OPERATIONS,
        "Donations for operations",
        "Dons et subventions d'exploitation",
        Flow,
        Mad,
        true,
        false,
    ),
    line(
        IS_OTHER_NON_OPERATING_REVENUE,
        "Other non-operating revenue",
        "Autres produits non courants",
        Flow,
        Mad,
        true,
        false,
    ),
    line(
        IS_NON_OPERATING_EXPENSE,
        "Non-operating expense",
        "Charges non courantes",
        Flow,
        Mad,
        true,
        false,
    ),
    line(IS_TAXES, "Taxes", "Impôts", Flow, Mad, true, false),
    line(IS_NET_INCOME, "Net income", "Résultat net", Flow, Mad, true, true),
    line(
        PF_LOAN_OFFICERS,
        "Loan officers at the quarter's end",
        "Agents de crédit",
        Stock,
        Count,
        true,
        false,
    ),
    line(
        PF_WRITE_OFFS,
        "Loans written off during the quarter",
        "Créances radiées du trimestre",
        Flow,
        Mad,
        true,
        false,
    ),
    line(
        PF_SUBSIDIZED_FUNDING,
        "Funding liabilities at below-market rates",
        "Financements à taux bonifié",
        Stock,
        Mad,
        false,
        false,
    ),
    line(
        PF_SUBSIDIZED_FUNDING_INTEREST,
        "Interest paid on subsidised funding",
        "Intérêts payés sur financements bonifiés",
        Flow,
        Mad,
        false,
        false,
    ),
    line(
        PF_IN_KIND_SUBSIDY,
        "Market value of donated goods and services",
        "Dons en nature (valeur de marché)",
        Flow,
        Mad,
        false,
        false,
    ),
];

/// The line of a code.
pub fn line_of(code: &str) -> Option<&'static Line> {
    LINES.iter().find(|l| l.code == code)
}

/// A total and the lines it adds (+1) or takes away (−1): the total must equal their signed sum exactly.
#[derive(Debug)]
pub struct Identity {
    /// The rule code a failure is reported with.
    pub rule: &'static str,
    pub total: &'static str,
    pub parts: &'static [(i64, &'static str)],
}

/// A total line that differs from its lines.
pub const TOTAL_MISMATCH: &str = "TOTAL_MISMATCH";
/// Total assets that differ from total liabilities plus total equity.
pub const BALANCE_MISMATCH: &str = "BALANCE_MISMATCH";

/// Every identity of the chart, checked exactly (to the centime).
pub static IDENTITIES: &[Identity] = &[
    Identity {
        rule: TOTAL_MISMATCH,
        total: BS_TOTAL_ASSETS,
        parts: &[
            (1, BS_CASH),
            (1, BS_TRADE_INVESTMENTS),
            (1, BS_GROSS_LOAN_PORTFOLIO),
            (-1, BS_IMPAIRMENT_ALLOWANCE),
            (1, BS_INTEREST_RECEIVABLE),
            (1, BS_OTHER_RECEIVABLES),
            (1, BS_LONG_TERM_INVESTMENTS),
            (1, BS_NET_FIXED_ASSETS),
            (1, BS_OTHER_ASSETS),
        ],
    },
    Identity {
        rule: TOTAL_MISMATCH,
        total: BS_TOTAL_LIABILITIES,
        parts: &[
            (1, BS_DEPOSITS),
            (1, BS_SHORT_TERM_BORROWINGS),
            (1, BS_LONG_TERM_BORROWINGS),
            (1, BS_INTEREST_PAYABLE),
            (1, BS_OTHER_CURRENT_LIABILITIES),
            (1, BS_OTHER_LIABILITIES),
        ],
    },
    Identity {
        rule: TOTAL_MISMATCH,
        total: BS_TOTAL_EQUITY,
        parts: &[
            (1, BS_DONATED_EQUITY),
            (1, BS_RETAINED_EARNINGS),
            (1, BS_CURRENT_YEAR_RESULT),
            (1, BS_OTHER_EQUITY),
        ],
    },
    Identity {
        rule: BALANCE_MISMATCH,
        total: BS_TOTAL_ASSETS,
        parts: &[(1, BS_TOTAL_LIABILITIES), (1, BS_TOTAL_EQUITY)],
    },
    Identity {
        rule: TOTAL_MISMATCH,
        total: IS_FINANCIAL_REVENUE,
        parts: &[
            (1, IS_INTEREST_ON_LOANS),
            (1, IS_FEES_ON_LOANS),
            (1, IS_INVESTMENT_REVENUE),
            (1, IS_OTHER_OPERATING_REVENUE),
        ],
    },
    Identity {
        rule: TOTAL_MISMATCH,
        total: IS_FINANCIAL_EXPENSE,
        parts: &[(1, IS_INTEREST_EXPENSE_FUNDING), (1, IS_OTHER_FINANCIAL_EXPENSE)],
    },
    Identity {
        rule: TOTAL_MISMATCH,
        total: IS_OPERATING_EXPENSE,
        parts: &[(1, IS_PERSONNEL_EXPENSE), (1, IS_ADMINISTRATIVE_EXPENSE)],
    },
    Identity {
        rule: TOTAL_MISMATCH,
        total: IS_NET_OPERATING_INCOME,
        parts: &[
            (1, IS_FINANCIAL_REVENUE),
            (-1, IS_FINANCIAL_EXPENSE),
            (-1, IS_IMPAIRMENT_EXPENSE),
            (1, IS_RECOVERIES),
            (-1, IS_OPERATING_EXPENSE),
        ],
    },
    Identity {
        rule: TOTAL_MISMATCH,
        total: IS_NET_INCOME,
        parts: &[
            (1, IS_NET_OPERATING_INCOME),
            (1, IS_DONATIONS_LOAN_CAPITAL),
            (1, IS_DONATIONS_OPERATIONS),
            (1, IS_OTHER_NON_OPERATING_REVENUE),
            (-1, IS_NON_OPERATING_EXPENSE),
            (-1, IS_TAXES),
        ],
    },
];

impl Identity {
    /// The identity as text: `BS_TOTAL_ASSETS = BS_CASH + … − BS_IMPAIRMENT_ALLOWANCE + …`.
    pub fn text(&self) -> String {
        let mut text = format!("{} =", self.total);
        for (index, (sign, part)) in self.parts.iter().enumerate() {
            let op = match (index, sign) {
                (0, 1) => "",
                (0, _) => " −",
                (_, 1) => " +",
                _ => " −",
            };
            text.push_str(&format!("{op} {part}"));
        }
        text
    }

    /// The signed sum of the parts, when every part is given (absent optional lines count as 0).
    pub fn sum(&self, value: impl Fn(&str) -> Option<i64>) -> Option<i64> {
        self.parts
            .iter()
            .try_fold(0i64, |sum, (sign, part)| sum.checked_add(sign * value(part)?))
    }
}

/// The CSV template of a statement: the header and every line with an example value of 0.
pub fn template() -> String {
    let mut text = String::from("line,value\n");
    for line in LINES {
        text.push_str(line.code);
        text.push_str(",0\n");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_identity_names_lines_of_the_chart_and_the_chart_has_no_repeat() {
        for identity in IDENTITIES {
            assert!(line_of(identity.total).is_some(), "{}", identity.total);
            for (_, part) in identity.parts {
                assert!(line_of(part).is_some(), "{part}");
            }
        }
        let mut codes: Vec<&str> = LINES.iter().map(|l| l.code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), LINES.len());
        assert_eq!(
            IDENTITIES[0].text(),
            "BS_TOTAL_ASSETS = BS_CASH + BS_TRADE_INVESTMENTS + BS_GROSS_LOAN_PORTFOLIO − BS_IMPAIRMENT_ALLOWANCE + \
             BS_INTEREST_RECEIVABLE + BS_OTHER_RECEIVABLES + BS_LONG_TERM_INVESTMENTS + BS_NET_FIXED_ASSETS + \
             BS_OTHER_ASSETS"
        );
    }
}
