//! Validation of a quarterly financial statement: every problem at once, with its line, column, value and a stable
//! rule code, as monthly reports are checked. Errors (an unknown or repeated line, a value that does not read, a
//! required line missing, an identity of the chart that does not hold to the centime) reject the statement;
//! warnings (the portfolio against the monthly rows, write-offs, the continuity of equity and of the allowance) are
//! kept with it and never block. Pure: what it needs from the database comes in a [`Context`].

use super::chart::{self, LineUnit};
use crate::period::{Month, Period};
use crate::submission::table::{RawTable, Table};
use crate::submission::validate::{Checker, Problem, Subject, ValidationReport, check_columns, duplicate, rows, rule};
use std::collections::{BTreeMap, HashMap};

/// Rule codes of statements, beside the monthly reports' (part of the public contract).
pub mod rules {
    pub use super::chart::{BALANCE_MISMATCH, TOTAL_MISMATCH};
    pub const MISSING_LINE: &str = "MISSING_LINE";
    pub const QUARTER_NOT_ENDED: &str = "QUARTER_NOT_ENDED";
    pub const DEPRECIATION_ABOVE_ADMINISTRATIVE: &str = "DEPRECIATION_ABOVE_ADMINISTRATIVE";
    // Warnings.
    pub const GLP_DIFFERS_FROM_MONTHLY: &str = "GLP_DIFFERS_FROM_MONTHLY";
    pub const WRITE_OFFS_DIFFER: &str = "WRITE_OFFS_DIFFER";
    pub const EQUITY_DISCONTINUITY: &str = "EQUITY_DISCONTINUITY";
    pub const ALLOWANCE_DISCONTINUITY: &str = "ALLOWANCE_DISCONTINUITY";
}

/// The portfolio may differ from the monthly rows' outstanding by this share before a warning.
pub const GLP_TOLERANCE: f64 = 0.01;

/// The lines of an accepted statement: code → value (centimes for money, units for counts).
pub type Lines = BTreeMap<&'static str, i64>;

/// What validation needs from the database.
#[derive(Debug, Clone)]
pub struct Context {
    /// The quarter reported.
    pub quarter: Period,
    /// The current month: a quarter can be reported once its last month has ended.
    pub current: Month,
    /// The association's accepted statement of the quarter before, if any.
    pub previous: Option<Lines>,
    /// Σ outstanding over the association's monthly rows at the quarter's last month, when reported.
    pub outstanding: Option<i64>,
    /// Σ write-offs over the association's monthly rows of the quarter's three months, when all three are reported.
    pub write_offs: Option<i64>,
}

fn mad(centimes: i64) -> String {
    crate::period::centimes_to_text(centimes)
}

/// Checks a statement; its lines when it has no error.
pub fn validate(raw: Option<&RawTable>, context: &Context) -> (Option<Lines>, ValidationReport) {
    let table = Table::Statements;
    let mut check = Checker::default();
    if context.quarter.last_month() >= context.current {
        check.push_error(Problem {
            table: "report".into(),
            line: None,
            subject: Subject::Month,
            column: None,
            value: Some(context.quarter.to_string()),
            rule: rules::QUARTER_NOT_ENDED.into(),
            message: format!(
                "{} has not ended: a quarter's statement is sent after its last month, {}",
                context.quarter,
                context.quarter.last_month()
            ),
        });
    }
    let Some(raw) = raw else {
        check.push_error(Problem {
            table: table.name().into(),
            line: None,
            subject: Subject::Table,
            column: None,
            value: None,
            rule: rule::MISSING_TABLE.into(),
            message: "the statement is missing: send the `statements` table (columns line,value; see \
                      /reports/templates/statements.csv)"
                .into(),
        });
        return (None, check.into_report());
    };
    let absent = check_columns(table, raw, &mut check);
    let mut lines: Lines = BTreeMap::new();
    let mut at: HashMap<&'static str, (usize, String)> = HashMap::new();
    for row in rows(table, raw, &absent) {
        let Some(code) = row.text("line", &mut check) else {
            continue;
        };
        let upper = code.to_ascii_uppercase();
        let Some(line) = chart::line_of(&upper) else {
            check.error(
                table,
                row.line,
                "line",
                code,
                rule::UNKNOWN_CODE,
                format!(
                    "`{code}` is not a line of the chart of accounts: see /reports/templates/statements.csv for the \
                     lines"
                ),
            );
            continue;
        };
        if let Some((first, _)) = at.get(line.code) {
            duplicate(table, row.line, *first, &mut check);
            continue;
        }
        let value = match (line.unit, line.signed) {
            (LineUnit::Count, _) => row.count("value", &mut check),
            (LineUnit::Mad, true) => row.signed_amount("value", &mut check),
            (LineUnit::Mad, false) => row.amount("value", &mut check),
        };
        let text = row.text("value", &mut Checker::default()).unwrap_or("").to_owned();
        at.insert(line.code, (row.line, text));
        if let Some(value) = value {
            lines.insert(line.code, value);
        }
    }
    for line in chart::LINES.iter().filter(|l| l.required) {
        if !at.contains_key(line.code) {
            check.push_error(Problem {
                table: table.name().into(),
                line: None,
                subject: Subject::Table,
                column: Some("line".into()),
                value: Some(line.code.into()),
                rule: rules::MISSING_LINE.into(),
                message: format!(
                    "the statement has no `{}` line ({}): add it, with 0 when there is none",
                    line.code, line.label_en
                ),
            });
        }
    }
    // Optional lines left out count as 0; a required line missing or unreadable was reported already.
    let value = |code: &str| match lines.get(code) {
        Some(v) => Some(*v),
        None if chart::line_of(code).is_some_and(|l| !l.required) => Some(0),
        None => None,
    };
    for identity in chart::IDENTITIES {
        let (Some(total), Some(sum)) = (value(identity.total), identity.sum(value)) else {
            continue;
        };
        if total != sum {
            let (line, text) = at.get(identity.total).cloned().unwrap_or_default();
            check.error(
                table,
                line,
                "value",
                &text,
                identity.rule,
                format!(
                    "{} is {} but {} gives {}: a difference of {} MAD. The identity must hold to the centime",
                    identity.total,
                    mad(total),
                    identity.text(),
                    mad(sum),
                    mad((total - sum).abs())
                ),
            );
        }
    }
    if let (Some(depreciation), Some(administrative)) =
        (value(chart::IS_DEPRECIATION), value(chart::IS_ADMINISTRATIVE_EXPENSE))
        && depreciation > administrative
    {
        let (line, text) = at.get(chart::IS_DEPRECIATION).cloned().unwrap_or_default();
        check.error(
            table,
            line,
            "value",
            &text,
            rules::DEPRECIATION_ABOVE_ADMINISTRATIVE,
            format!(
                "IS_DEPRECIATION ({}) is part of IS_ADMINISTRATIVE_EXPENSE ({}) and cannot exceed it",
                mad(depreciation),
                mad(administrative)
            ),
        );
    }
    if check.has_errors() {
        return (None, check.into_report());
    }
    warnings(&lines, context, &at, &mut check);
    (Some(lines), check.into_report())
}

/// The warnings of a statement without errors: the monthly rows and the quarter before.
fn warnings(lines: &Lines, context: &Context, at: &HashMap<&'static str, (usize, String)>, check: &mut Checker) {
    let table = Table::Statements.name();
    let get = |code: &str| lines.get(code).copied().unwrap_or(0);
    let mut warn = |code: &'static str, rule: &str, message: String| {
        let (line, text) = at.get(code).cloned().unwrap_or_default();
        check.warning(table, Some(line), Some("value"), Some(text), rule, message);
    };
    let glp = get(chart::BS_GROSS_LOAN_PORTFOLIO);
    if let Some(outstanding) = context.outstanding {
        let differs = if outstanding == 0 {
            glp != 0
        } else {
            ((glp - outstanding) as f64 / outstanding as f64).abs() > GLP_TOLERANCE
        };
        if differs {
            warn(
                chart::BS_GROSS_LOAN_PORTFOLIO,
                rules::GLP_DIFFERS_FROM_MONTHLY,
                format!(
                    "BS_GROSS_LOAN_PORTFOLIO ({}) differs by more than {} % from the outstanding of the monthly report \
                     of {} ({}): check both",
                    mad(glp),
                    GLP_TOLERANCE * 100.0,
                    context.quarter.last_month(),
                    mad(outstanding)
                ),
            );
        }
    }
    let write_offs = get(chart::PF_WRITE_OFFS);
    if let Some(monthly) = context.write_offs
        && monthly != write_offs
    {
        warn(
            chart::PF_WRITE_OFFS,
            rules::WRITE_OFFS_DIFFER,
            format!(
                "PF_WRITE_OFFS ({}) differs from the write-offs of the quarter's monthly reports ({})",
                mad(write_offs),
                mad(monthly)
            ),
        );
    }
    let Some(previous) = &context.previous else {
        return;
    };
    let before = |code: &str| previous.get(code).copied().unwrap_or(0);
    let equity = get(chart::BS_TOTAL_EQUITY);
    let expected = before(chart::BS_TOTAL_EQUITY) + get(chart::IS_NET_INCOME);
    if equity != expected {
        warn(
            chart::BS_TOTAL_EQUITY,
            rules::EQUITY_DISCONTINUITY,
            format!(
                "BS_TOTAL_EQUITY ({}) is not the previous quarter's ({}) plus IS_NET_INCOME ({}), which gives {}",
                mad(equity),
                mad(before(chart::BS_TOTAL_EQUITY)),
                mad(get(chart::IS_NET_INCOME)),
                mad(expected)
            ),
        );
    }
    let allowance = get(chart::BS_IMPAIRMENT_ALLOWANCE);
    let expected =
        before(chart::BS_IMPAIRMENT_ALLOWANCE) + get(chart::IS_IMPAIRMENT_EXPENSE) - get(chart::PF_WRITE_OFFS);
    if allowance != expected {
        warn(
            chart::BS_IMPAIRMENT_ALLOWANCE,
            rules::ALLOWANCE_DISCONTINUITY,
            format!(
                "BS_IMPAIRMENT_ALLOWANCE ({}) is not the previous quarter's ({}) plus IS_IMPAIRMENT_EXPENSE ({}) minus \
                 PF_WRITE_OFFS ({}), which gives {}",
                mad(allowance),
                mad(before(chart::BS_IMPAIRMENT_ALLOWANCE)),
                mad(get(chart::IS_IMPAIRMENT_EXPENSE)),
                mad(write_offs),
                mad(expected)
            ),
        );
    }
}
