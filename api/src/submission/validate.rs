//! Validation of a monthly report: every problem found at once, each with its table, line, column, value, a
//! stable rule code and a message a clerk can act on. Errors block the report; warnings are kept with it.
//!
//! Pure: what validation needs from the database (regions, the previous month's totals, branch owners) is
//! handed in as [`Context`].

use super::table::{RawReport, RawTable, Table};
use crate::facts::{ACTIVITIES, CLIENTS, LOAN_VALUES, LOANS, Quantity};
use crate::period::Month;
use entity::enums::{Activity, Area, BranchKind, Gender, Segment, StaffCategory};
use sea_orm::Value;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Stable rule codes, part of the public contract.
pub mod rule {
    pub const MISSING_TABLE: &str = "MISSING_TABLE";
    pub const MISSING_COLUMN: &str = "MISSING_COLUMN";
    pub const UNKNOWN_COLUMN: &str = "UNKNOWN_COLUMN";
    pub const MISSING_VALUE: &str = "MISSING_VALUE";
    pub const UNKNOWN_CODE: &str = "UNKNOWN_CODE";
    pub const NOT_A_NUMBER: &str = "NOT_A_NUMBER";
    pub const NOT_A_WHOLE_NUMBER: &str = "NOT_A_WHOLE_NUMBER";
    pub const NEGATIVE: &str = "NEGATIVE";
    pub const TOO_MANY_DECIMALS: &str = "TOO_MANY_DECIMALS";
    pub const TOO_LARGE: &str = "TOO_LARGE";
    pub const NOT_A_DATE: &str = "NOT_A_DATE";
    pub const PAR90_ABOVE_PAR30: &str = "PAR90_ABOVE_PAR30";
    pub const PAR30_ABOVE_OUTSTANDING: &str = "PAR30_ABOVE_OUTSTANDING";
    pub const DUPLICATE_CELL: &str = "DUPLICATE_CELL";
    pub const MONTH_IN_FUTURE: &str = "MONTH_IN_FUTURE";
    pub const MONTH_NOT_OPEN: &str = "MONTH_NOT_OPEN";
    pub const OTHER_ASSOCIATION: &str = "OTHER_ASSOCIATION";
    // Warnings.
    pub const STOCK_MOVED: &str = "STOCK_MOVED";
    pub const PAR30_RATE_HIGH: &str = "PAR30_RATE_HIGH";
    pub const COLLECTION_RATE_LOW: &str = "COLLECTION_RATE_LOW";
    pub const LOANS_WITHOUT_CLIENTS: &str = "LOANS_WITHOUT_CLIENTS";
    pub const ACTIVITY_TOTAL_MISMATCH: &str = "ACTIVITY_TOTAL_MISMATCH";
    pub const ACTIVITIES_MISSING: &str = "ACTIVITIES_MISSING";
}

/// A stock moving more than this share from the previous month is flagged.
pub const STOCK_MOVE_LIMIT: f64 = 0.25;
/// A PAR30 rate above this is flagged.
pub const PAR30_RATE_LIMIT: f64 = 0.10;
/// A collection rate below this is flagged.
pub const COLLECTION_RATE_LIMIT: f64 = 0.90;

/// What a problem of a report is about.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, async_graphql::Enum)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(name = "ReportProblemSubject")]
pub enum Subject {
    /// One cell: the value of `column` on `line`.
    #[default]
    Cell,
    /// One row as a whole (for example a row repeating the cell of another): `line` says which.
    Row,
    /// The header row (line 1 of a file): a column missing, unknown or repeated.
    Header,
    /// A whole table (a table missing from the report): no line.
    Table,
    /// The whole month: the reported month itself (`table` is `report`) or one of the month's totals (`table` and
    /// `column` say which); no line.
    Month,
}

/// One problem of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, async_graphql::SimpleObject)]
#[graphql(name = "ReportProblem")]
pub struct Problem {
    /// The table at fault: `clients`, `loans`, `staff`, `branches`, or `report` for the report as a whole.
    pub table: String,
    /// The line in the file (the header is line 1; for JSON rows, the row's position from 1); `null` for a problem of
    /// a whole table or of the whole month (see `subject`).
    pub line: Option<i32>,
    /// What the problem is about: a cell, a row, the header, a whole table or the whole month.
    #[serde(default)]
    pub subject: Subject,
    /// The column at fault, when one is.
    pub column: Option<String>,
    /// The value at fault, as sent.
    pub value: Option<String>,
    /// The stable rule code, for example `PAR30_ABOVE_OUTSTANDING`.
    pub rule: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// At most this many errors are listed in a validation report; every error is counted (see [`ValidationReport`]).
pub const MAX_LISTED_ERRORS: usize = 1_000;

/// The outcome of validation: errors (blocking) and warnings (kept with the submission).
///
/// A report with more than [`MAX_LISTED_ERRORS`] errors lists that many, in file order, with at least one of every
/// rule that fired (an error of a rule first met after the limit takes the place of a later error of a rule listed
/// more than once), and counts them all in `error_count` and `errors_by_rule`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidationReport {
    /// The errors listed: all of them, or the first [`MAX_LISTED_ERRORS`] when `truncated`.
    pub errors: Vec<Problem>,
    pub warnings: Vec<Problem>,
    /// Every error found, listed or not.
    #[serde(default)]
    pub error_count: usize,
    /// Every error found, counted by rule (each rule that fired).
    #[serde(default)]
    pub errors_by_rule: BTreeMap<String, usize>,
    /// Whether `errors` lists only some of the errors found.
    #[serde(default)]
    pub truncated: bool,
}

/// One cell of client figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCell {
    pub region_id: i32,
    pub segment: Segment,
    pub gender: Gender,
    pub area: Area,
    pub active_clients: i64,
    pub new_clients: i64,
}

/// One cell of loan figures; amounts in centimes, in the order of `facts::LOANS.measures`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoanCell {
    pub region_id: i32,
    pub segment: Segment,
    pub gender: Gender,
    pub area: Area,
    pub values: [i64; LOAN_VALUES],
}

/// The dimension values of a client or loan cell, in the fact tables' order.
fn place(region_id: i32, segment: Segment, gender: Gender, area: Area) -> Vec<Value> {
    vec![region_id.into(), segment.into(), gender.into(), area.into()]
}

impl ClientCell {
    /// The cell as a row of `facts::CLIENTS`: dimensions, then measures, in its order.
    pub fn row(&self) -> Vec<Value> {
        let mut row = place(self.region_id, self.segment, self.gender, self.area);
        row.extend(CLIENTS.measures.iter().map(|m| match m.column {
            "active_clients" => self.active_clients.into(),
            "new_clients" => self.new_clients.into(),
            other => unreachable!("a client measure without a field: {other}"),
        }));
        row
    }
}

/// One cell of loans by economic activity; amounts in centimes, in the order of `facts::ACTIVITIES.measures`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityCell {
    pub region_id: i32,
    pub activity: Activity,
    pub values: Vec<i64>,
}

impl ActivityCell {
    /// The cell as a row of `facts::ACTIVITIES`.
    pub fn row(&self) -> Vec<Value> {
        let mut row = vec![self.region_id.into(), self.activity.into()];
        row.extend(self.values.iter().map(|v| Value::from(*v)));
        row
    }
}

impl StaffCell {
    /// The cell as a row of `facts::STAFF`.
    pub fn row(&self) -> Vec<Value> {
        vec![self.category.into(), self.gender.into(), self.headcount.into()]
    }
}

impl LoanCell {
    /// The cell as a row of `facts::LOANS`.
    pub fn row(&self) -> Vec<Value> {
        let mut row = place(self.region_id, self.segment, self.gender, self.area);
        row.extend(self.values.iter().map(|v| Value::from(*v)));
        row
    }

    /// The value of one measure column of the loans table.
    pub fn get(&self, column: &str) -> i64 {
        let index = LOANS.measures.iter().position(|m| m.column == column);
        self.values[index.expect("a measure of the loans table")]
    }
}

/// One staff headcount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffCell {
    pub category: StaffCategory,
    pub gender: Gender,
    pub headcount: i64,
}

/// A report's figures once valid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    pub clients: Vec<ClientCell>,
    pub loans: Vec<LoanCell>,
    pub staff: Vec<StaffCell>,
    /// Branch rows (validated; the registry itself is kept by the observatory).
    pub branches: usize,
    /// Loans by economic activity (none when the report leaves the table out).
    pub activities: Vec<ActivityCell>,
}

/// Association totals of a month, for the month-on-month warnings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub active_clients: i64,
    pub active_loans: i64,
    pub outstanding_amount: i64,
}

/// What validation needs to know beyond the report.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The reported month.
    pub month: Month,
    /// The current month (UTC): only months that have ended may be reported.
    pub current: Month,
    /// Region codes to ids.
    pub regions: HashMap<String, i32>,
    /// Branch codes registered to other associations.
    pub foreign_branches: HashSet<String>,
    /// The association's totals of the previous month, when it reported one.
    pub previous: Option<Totals>,
    /// The first month whose report must carry the activities table (`reporting::activities_required_from`).
    pub activities_required_from: Month,
}

impl ValidationReport {
    /// A report as stored with a submission. Reports stored before problems had a `subject` wrote `line: 0` for a
    /// problem of a whole table or month: read as no line, about the table or the month.
    pub fn from_stored(text: &str) -> ValidationReport {
        let mut report: ValidationReport = serde_json::from_str(text).unwrap_or_default();
        for problem in report.errors.iter_mut().chain(report.warnings.iter_mut()) {
            if problem.line == Some(0) {
                problem.line = None;
                problem.subject = if problem.rule == rule::MISSING_TABLE {
                    Subject::Table
                } else {
                    Subject::Month
                };
            }
        }
        report
    }
}

impl Default for Month {
    fn default() -> Self {
        Month(200001)
    }
}

/// Collects the problems of a report: every warning, and the errors up to [`MAX_LISTED_ERRORS`] (every error
/// counted by rule), so that a report of a million bad rows takes no more memory than one of a thousand.
#[derive(Default)]
pub(crate) struct Checker {
    errors: Vec<Problem>,
    /// Errors found by rule, listed or not.
    counts: BTreeMap<String, usize>,
    warnings: Vec<Problem>,
}

impl Checker {
    /// Whether any error was found.
    pub(crate) fn has_errors(&self) -> bool {
        !self.counts.is_empty()
    }

    /// Whether an error of `rule` is to be listed; counts it in any case.
    fn admit(&mut self, rule: &str) -> bool {
        let first = match self.counts.get_mut(rule) {
            Some(count) => {
                *count += 1;
                false
            }
            None => {
                self.counts.insert(rule.to_owned(), 1);
                true
            }
        };
        if self.errors.len() < MAX_LISTED_ERRORS {
            return true;
        }
        if !first {
            // Listed already: every rule that fired has at least one error listed.
            return false;
        }
        // A rule first met past the limit takes the place of the last listed error of a rule listed more than once
        // (there is one: far fewer rules than places).
        let mut listed: HashMap<&str, usize> = HashMap::new();
        for problem in &self.errors {
            *listed.entry(problem.rule.as_str()).or_default() += 1;
        }
        let place = self.errors.iter().rposition(|p| listed[p.rule.as_str()] > 1);
        if let Some(place) = place {
            self.errors.remove(place);
        }
        true
    }

    pub(crate) fn push_error(&mut self, problem: Problem) {
        if self.admit(&problem.rule) {
            self.errors.push(problem);
        }
    }

    /// An error of a row: of one of its cells when `column` is given, of the whole row otherwise.
    pub(crate) fn error(&mut self, table: Table, line: usize, column: &str, value: &str, rule: &str, message: String) {
        let subject = if column.is_empty() { Subject::Row } else { Subject::Cell };
        self.error_about(subject, table, line, column, value, rule, message);
    }

    /// An error of the header row (line 1) about `column`.
    fn header_error(&mut self, table: Table, column: &str, value: &str, rule: &str, message: String) {
        self.error_about(Subject::Header, table, 1, column, value, rule, message);
    }

    #[allow(clippy::too_many_arguments)]
    fn error_about(
        &mut self,
        subject: Subject,
        table: Table,
        line: usize,
        column: &str,
        value: &str,
        rule: &str,
        message: String,
    ) {
        if !self.admit(rule) {
            return;
        }
        self.errors.push(Problem {
            table: table.name().into(),
            line: Some(line as i32),
            subject,
            column: (!column.is_empty()).then(|| column.to_owned()),
            value: (!value.is_empty()).then(|| value.to_owned()),
            rule: rule.into(),
            message,
        });
    }

    pub(crate) fn into_report(self) -> ValidationReport {
        let error_count = self.counts.values().sum();
        ValidationReport {
            truncated: error_count > self.errors.len(),
            errors: self.errors,
            warnings: self.warnings,
            error_count,
            errors_by_rule: self.counts,
        }
    }

    /// A warning about a cell of `line`, or about the whole month (one of its totals) without a line.
    pub(crate) fn warning(
        &mut self,
        table: &str,
        line: Option<usize>,
        column: Option<&str>,
        value: Option<String>,
        rule: &str,
        message: String,
    ) {
        self.warnings.push(Problem {
            table: table.into(),
            line: line.map(|l| l as i32),
            subject: if line.is_some() { Subject::Cell } else { Subject::Month },
            column: column.map(str::to_owned),
            value,
            rule: rule.into(),
            message,
        });
    }
}

/// One row being read: its cells by column name.
pub(crate) struct Row<'a> {
    table: Table,
    pub(crate) line: usize,
    cells: HashMap<&'a str, &'a str>,
    /// Columns of the table that are missing from the file: not reported again per row.
    absent: &'a HashSet<&'static str>,
}

impl Row<'_> {
    /// The cell's text, or `None` after reporting it missing (or when the whole column is missing).
    pub(crate) fn text(&self, column: &'static str, check: &mut Checker) -> Option<&str> {
        if self.absent.contains(column) {
            return None;
        }
        match self.cells.get(column).copied().filter(|v| !v.is_empty()) {
            Some(v) => Some(v),
            None => {
                check.error(
                    self.table,
                    self.line,
                    column,
                    "",
                    rule::MISSING_VALUE,
                    format!(
                        "`{column}` is empty on line {}: fill it in (write 0 for none)",
                        self.line
                    ),
                );
                None
            }
        }
    }

    fn code<T: Copy>(&self, column: &'static str, allowed: &[(&str, T)], check: &mut Checker) -> Option<T> {
        let text = self.text(column, check)?;
        let upper = text.to_ascii_uppercase();
        match allowed.iter().find(|(code, _)| *code == upper) {
            Some((_, value)) => Some(*value),
            None => {
                let codes: Vec<&str> = allowed.iter().map(|(c, _)| *c).collect();
                check.error(
                    self.table,
                    self.line,
                    column,
                    text,
                    rule::UNKNOWN_CODE,
                    format!("`{text}` is not a known {column}: use one of {}", codes.join(", ")),
                );
                None
            }
        }
    }

    /// A whole, non-negative count.
    pub(crate) fn count(&self, column: &'static str, check: &mut Checker) -> Option<i64> {
        let text = self.text(column, check)?;
        let centimes = self.number(column, text, check)?;
        if centimes % 100 != 0 {
            check.error(
                self.table,
                self.line,
                column,
                text,
                rule::NOT_A_WHOLE_NUMBER,
                format!("`{column}` is a count: write a whole number, not `{text}`"),
            );
            return None;
        }
        Some(centimes / 100)
    }

    /// An amount in MAD with at most two decimals, returned in centimes.
    pub(crate) fn amount(&self, column: &'static str, check: &mut Checker) -> Option<i64> {
        let text = self.text(column, check)?;
        self.number(column, text, check)
    }

    /// An amount in MAD with at most two decimals that may be negative (a loss), returned in centimes.
    pub(crate) fn signed_amount(&self, column: &'static str, check: &mut Checker) -> Option<i64> {
        let text = self.text(column, check)?;
        match text.strip_prefix('-') {
            Some(magnitude) => self.number(column, magnitude, check).map(|v| -v),
            None => self.number(column, text, check),
        }
    }

    /// A non-negative decimal number with at most two decimals, in hundredths.
    fn number(&self, column: &'static str, text: &str, check: &mut Checker) -> Option<i64> {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let normalized = digits.replace(',', ".");
        let (whole, fraction) = normalized.split_once('.').unwrap_or((&normalized, ""));
        let numeric = !whole.is_empty()
            && whole.bytes().all(|b| b.is_ascii_digit())
            && fraction.bytes().all(|b| b.is_ascii_digit());
        if !numeric {
            check.error(
                self.table,
                self.line,
                column,
                text,
                rule::NOT_A_NUMBER,
                format!(
                    "`{text}` is not a number: write digits with `.` or `,` before the decimals and no thousands \
                     separator, for example 1250.50"
                ),
            );
            return None;
        }
        if negative {
            check.error(
                self.table,
                self.line,
                column,
                text,
                rule::NEGATIVE,
                format!("`{column}` cannot be negative (`{text}`): report the month-end figure, 0 or more"),
            );
            return None;
        }
        if fraction.len() > 2 {
            check.error(
                self.table,
                self.line,
                column,
                text,
                rule::TOO_MANY_DECIMALS,
                format!("`{text}` has more than 2 decimals: round it to the centime, for example 1250.50"),
            );
            return None;
        }
        let value = whole
            .parse::<i64>()
            .ok()
            .and_then(|w| w.checked_mul(100))
            .and_then(|w| w.checked_add(format!("{fraction:0<2}").parse::<i64>().unwrap_or(0)))
            .filter(|v| *v <= i64::MAX / 1_000_000);
        if value.is_none() {
            check.error(
                self.table,
                self.line,
                column,
                text,
                rule::TOO_LARGE,
                format!("`{text}` is too large for `{column}`: check the figure"),
            );
        }
        value
    }
}

const SEGMENT_CODES: &[(&str, Segment)] = &[
    ("INDIVIDUAL", Segment::Individual),
    ("SOLIDARITY_GROUP", Segment::SolidarityGroup),
    ("VERY_SMALL_ENTERPRISE", Segment::VerySmallEnterprise),
];
const GENDER_CODES: &[(&str, Gender)] = &[("FEMALE", Gender::Female), ("MALE", Gender::Male)];
const AREA_CODES: &[(&str, Area)] = &[("URBAN", Area::Urban), ("RURAL", Area::Rural)];
const CATEGORY_CODES: &[(&str, StaffCategory)] = &[
    ("NETWORK", StaffCategory::Network),
    ("HEAD_OFFICE", StaffCategory::HeadOffice),
    ("UNSPECIFIED", StaffCategory::Unspecified),
];
const KIND_CODES: &[(&str, BranchKind)] = &[("AGENCY", BranchKind::Agency), ("MOBILE", BranchKind::Mobile)];

/// Checks the header of a table: missing and unknown columns. Returns the columns missing.
pub(crate) fn check_columns(table: Table, raw: &RawTable, check: &mut Checker) -> HashSet<&'static str> {
    let expected = table.columns();
    let mut seen = HashSet::new();
    for name in &raw.columns {
        let normalized = name.to_ascii_lowercase();
        if !expected.contains(&normalized.as_str()) {
            check.header_error(
                table,
                name,
                name,
                rule::UNKNOWN_COLUMN,
                format!(
                    "`{name}` is not a column of `{}`: the columns are {}",
                    table.name(),
                    expected.join(", ")
                ),
            );
        } else if !seen.insert(normalized.clone()) {
            check.header_error(
                table,
                name,
                name,
                rule::UNKNOWN_COLUMN,
                format!("`{name}` appears twice in the header of `{}`: keep one", table.name()),
            );
        }
    }
    let mut absent = HashSet::new();
    for column in &expected {
        let optional = table == Table::Branches && matches!(*column, "closed_on" | "latitude" | "longitude");
        if !seen.contains(*column) && !optional {
            absent.insert(*column);
            check.header_error(
                table,
                column,
                "",
                rule::MISSING_COLUMN,
                format!(
                    "`{}` has no `{column}` column: add it to the header (see the template)",
                    table.name()
                ),
            );
        }
    }
    absent
}

pub(crate) fn rows<'a>(
    table: Table,
    raw: &'a RawTable,
    absent: &'a HashSet<&'static str>,
) -> impl Iterator<Item = Row<'a>> + 'a {
    let names: Vec<String> = raw.columns.iter().map(|c| c.to_ascii_lowercase()).collect();
    raw.rows.iter().map(move |(line, cells)| {
        let mut map = HashMap::new();
        for (name, cell) in names.iter().zip(cells) {
            if let Some(cell) = cell {
                map.entry(table.columns().iter().copied().find(|c| c == name).unwrap_or(""))
                    .or_insert(cell.as_str());
            }
        }
        Row {
            table,
            line: *line,
            cells: map,
            absent,
        }
    })
}

fn region(row: &Row<'_>, context: &Context, check: &mut Checker) -> Option<i32> {
    let text = row.text("region", check)?;
    match context.regions.get(&text.to_ascii_uppercase()) {
        Some(id) => Some(*id),
        None => {
            let mut codes: Vec<&String> = context.regions.keys().collect();
            codes.sort();
            let codes: Vec<&str> = codes.into_iter().map(String::as_str).collect();
            check.error(
                row.table,
                row.line,
                "region",
                text,
                rule::UNKNOWN_CODE,
                format!("`{text}` is not a region code: use one of {}", codes.join(", ")),
            );
            None
        }
    }
}

type CellKey = (i32, Segment, Gender, Area);

/// The cell dimensions of a client or loan row (all four read so that each is reported).
fn cell_key(row: &Row<'_>, context: &Context, check: &mut Checker) -> Option<CellKey> {
    let region = region(row, context, check);
    let segment = row.code("segment", SEGMENT_CODES, check);
    let gender = row.code("gender", GENDER_CODES, check);
    let area = row.code("area", AREA_CODES, check);
    Some((region?, segment?, gender?, area?))
}

/// A row's portfolio at risk over 30 days is part of its outstanding portfolio (checked on the values that could be
/// read).
fn par30_within_outstanding(row: &Row<'_>, outstanding: Option<i64>, par30: Option<i64>, check: &mut Checker) {
    let (Some(outstanding), Some(par30)) = (outstanding, par30) else {
        return;
    };
    if par30 <= outstanding {
        return;
    }
    let cell = |c: &str| row.cells.get(c).copied().unwrap_or("").to_owned();
    check.error(
        row.table,
        row.line,
        "par30_amount",
        &cell("par30_amount"),
        rule::PAR30_ABOVE_OUTSTANDING,
        format!(
            "par30_amount ({}) is above outstanding_amount ({}): the portfolio at risk is part of the outstanding \
             portfolio",
            cell("par30_amount"),
            cell("outstanding_amount")
        ),
    );
}

pub(crate) fn duplicate(table: Table, line: usize, first: usize, check: &mut Checker) {
    check.error(
        table,
        line,
        "",
        "",
        rule::DUPLICATE_CELL,
        format!("line {line} repeats the cell of line {first}: send one row per cell (sum them, or correct the codes)"),
    );
}

/// Validates a report for `context.month`. Returns the figures when there is no error, and the report in any case.
pub fn validate(report: &RawReport, context: &Context) -> (Option<Figures>, ValidationReport) {
    let mut check = Checker::default();
    if context.month > context.current {
        check.push_error(Problem {
            table: "report".into(),
            line: None,
            subject: Subject::Month,
            column: None,
            value: Some(context.month.to_string()),
            rule: rule::MONTH_IN_FUTURE.into(),
            message: format!("{} is in the future: report a month once it has ended", context.month),
        });
    } else if context.month == context.current {
        check.push_error(Problem {
            table: "report".into(),
            line: None,
            subject: Subject::Month,
            column: None,
            value: Some(context.month.to_string()),
            rule: rule::MONTH_NOT_OPEN.into(),
            message: format!(
                "{} is not open for reporting yet: it opens on the first day of {}",
                context.month,
                context.month.shift(1)
            ),
        });
    }
    for table in Table::ALL.into_iter().filter(|t| t.required()) {
        if !report.contains_key(&table) {
            check.push_error(Problem {
                table: table.name().into(),
                line: None,
                subject: Subject::Table,
                column: None,
                value: None,
                rule: rule::MISSING_TABLE.into(),
                message: format!(
                    "the `{}` table is missing: every report has clients, loans and staff",
                    table.name()
                ),
            });
        }
    }
    if context.month >= context.activities_required_from && !report.contains_key(&Table::Activities) {
        check.push_error(Problem {
            table: Table::Activities.name().into(),
            line: None,
            subject: Subject::Table,
            column: None,
            value: None,
            rule: rule::ACTIVITIES_MISSING.into(),
            message: format!(
                "the `activities` table is missing: from {} every report splits its loans by economic activity, one \
                 row per region and activity (see the template)",
                context.activities_required_from
            ),
        });
    }
    let mut figures = Figures::default();
    let mut client_lines: BTreeMap<CellKey, usize> = BTreeMap::new();
    if let Some(raw) = report.get(&Table::Clients) {
        let absent = check_columns(Table::Clients, raw, &mut check);
        for row in rows(Table::Clients, raw, &absent) {
            let key = cell_key(&row, context, &mut check);
            let active = row.count("active_clients", &mut check);
            let new = row.count("new_clients", &mut check);
            let Some(key) = key else { continue };
            if let Some(first) = client_lines.get(&key) {
                duplicate(Table::Clients, row.line, *first, &mut check);
                continue;
            }
            client_lines.insert(key, row.line);
            if let (Some(active_clients), Some(new_clients)) = (active, new) {
                figures.clients.push(ClientCell {
                    region_id: key.0,
                    segment: key.1,
                    gender: key.2,
                    area: key.3,
                    active_clients,
                    new_clients,
                });
            }
        }
    }
    let mut loan_lines: BTreeMap<CellKey, usize> = BTreeMap::new();
    if let Some(raw) = report.get(&Table::Loans) {
        let absent = check_columns(Table::Loans, raw, &mut check);
        for row in rows(Table::Loans, raw, &absent) {
            let key = cell_key(&row, context, &mut check);
            let mut read = [None; LOAN_VALUES];
            for (value, measure) in read.iter_mut().zip(LOANS.measures) {
                *value = match measure.quantity {
                    Quantity::Count => row.count(measure.column, &mut check),
                    Quantity::Amount => row.amount(measure.column, &mut check),
                };
            }
            // The rules between a row's values are checked on the values that could be read, so that a row with an
            // unreadable value is reported whole.
            let value = |column: &str| {
                LOANS
                    .measures
                    .iter()
                    .position(|m| m.column == column)
                    .and_then(|i| read[i])
            };
            let (outstanding, par30, par90) = (
                value("outstanding_amount"),
                value("par30_amount"),
                value("par90_amount"),
            );
            let cell = |c: &str| row.cells.get(c).copied().unwrap_or("").to_owned();
            if let (Some(par30), Some(par90)) = (par30, par90)
                && par90 > par30
            {
                check.error(
                    Table::Loans,
                    row.line,
                    "par90_amount",
                    &cell("par90_amount"),
                    rule::PAR90_ABOVE_PAR30,
                    format!(
                        "par90_amount ({}) is above par30_amount ({}): a loan overdue more than 90 days is also \
                         overdue more than 30, so PAR90 is part of PAR30",
                        cell("par90_amount"),
                        cell("par30_amount")
                    ),
                );
            }
            par30_within_outstanding(&row, outstanding, par30, &mut check);
            let Some(key) = key else { continue };
            if let Some(first) = loan_lines.get(&key) {
                duplicate(Table::Loans, row.line, *first, &mut check);
                continue;
            }
            loan_lines.insert(key, row.line);
            if let Some(values) = read.iter().copied().collect::<Option<Vec<i64>>>()
                && let Ok(values) = <[i64; LOAN_VALUES]>::try_from(values)
            {
                figures.loans.push(LoanCell {
                    region_id: key.0,
                    segment: key.1,
                    gender: key.2,
                    area: key.3,
                    values,
                });
            }
        }
    }
    if let Some(raw) = report.get(&Table::Staff) {
        let absent = check_columns(Table::Staff, raw, &mut check);
        let mut lines: HashMap<(StaffCategory, Gender), usize> = HashMap::new();
        for row in rows(Table::Staff, raw, &absent) {
            let category = row.code("category", CATEGORY_CODES, &mut check);
            let gender = row.code("gender", GENDER_CODES, &mut check);
            let headcount = row.count("headcount", &mut check);
            let (Some(category), Some(gender)) = (category, gender) else {
                continue;
            };
            if let Some(first) = lines.get(&(category, gender)) {
                duplicate(Table::Staff, row.line, *first, &mut check);
                continue;
            }
            lines.insert((category, gender), row.line);
            if let Some(headcount) = headcount {
                figures.staff.push(StaffCell {
                    category,
                    gender,
                    headcount,
                });
            }
        }
    }
    if let Some(raw) = report.get(&Table::Branches) {
        let absent = check_columns(Table::Branches, raw, &mut check);
        let mut lines: HashMap<String, usize> = HashMap::new();
        for row in rows(Table::Branches, raw, &absent) {
            figures.branches += 1;
            let _ = row.text("name", &mut check);
            let _ = row.text("city", &mut check);
            let _ = row.code("kind", KIND_CODES, &mut check);
            let _ = row.code("area", AREA_CODES, &mut check);
            let _ = region(&row, context, &mut check);
            for column in ["opened_on", "closed_on"] {
                let Some(text) = row.cells.get(column).copied().filter(|t| !t.is_empty()) else {
                    if column == "opened_on" {
                        let _ = row.text("opened_on", &mut check);
                    }
                    continue;
                };
                if crate::period::parse_date(text).is_none() {
                    check.error(
                        Table::Branches,
                        row.line,
                        column,
                        text,
                        rule::NOT_A_DATE,
                        format!("`{text}` is not a date: write it YYYY-MM-DD, for example 2015-03-01"),
                    );
                }
            }
            for (column, limit) in [("latitude", 90.0), ("longitude", 180.0)] {
                let Some(text) = row.cells.get(column).copied().filter(|t| !t.is_empty()) else {
                    continue;
                };
                if !text.parse::<f64>().is_ok_and(|v| v.is_finite() && v.abs() <= limit) {
                    check.error(
                        Table::Branches,
                        row.line,
                        column,
                        text,
                        rule::NOT_A_NUMBER,
                        format!("`{text}` is not a {column}: write decimal degrees, for example 33.5731"),
                    );
                }
            }
            let Some(code) = row.text("code", &mut check) else {
                continue;
            };
            if context.foreign_branches.contains(code) {
                check.error(
                    Table::Branches,
                    row.line,
                    "code",
                    code,
                    rule::OTHER_ASSOCIATION,
                    format!(
                        "branch `{code}` belongs to another association: report only your own branches, or ask the \
                         observatory to transfer it"
                    ),
                );
            }
            if let Some(first) = lines.insert(code.to_owned(), row.line) {
                duplicate(Table::Branches, row.line, first, &mut check);
            }
        }
    }
    if let Some(raw) = report.get(&Table::Activities) {
        let absent = check_columns(Table::Activities, raw, &mut check);
        let codes: Vec<(&str, Activity)> = Activity::ALL.iter().map(|a| (a.as_str(), *a)).collect();
        let mut lines: HashMap<(i32, Activity), usize> = HashMap::new();
        for row in rows(Table::Activities, raw, &absent) {
            let region = region(&row, context, &mut check);
            let activity = row.code("activity", &codes, &mut check);
            let values: Vec<Option<i64>> = ACTIVITIES
                .measures
                .iter()
                .map(|measure| match measure.quantity {
                    Quantity::Count => row.count(measure.column, &mut check),
                    Quantity::Amount => row.amount(measure.column, &mut check),
                })
                .collect();
            let value = |column: &str| {
                let index = ACTIVITIES.measures.iter().position(|m| m.column == column);
                index.and_then(|i| values[i])
            };
            par30_within_outstanding(&row, value("outstanding_amount"), value("par30_amount"), &mut check);
            let (Some(region), Some(activity)) = (region, activity) else {
                continue;
            };
            if let Some(first) = lines.insert((region, activity), row.line) {
                duplicate(Table::Activities, row.line, first, &mut check);
                continue;
            }
            if let Some(values) = values.into_iter().collect::<Option<Vec<i64>>>() {
                figures.activities.push(ActivityCell {
                    region_id: region,
                    activity,
                    values,
                });
            }
        }
        if check.counts.is_empty() {
            reconcile(&figures, context, &mut check);
        }
    }
    if check.counts.is_empty() {
        warn(&figures, context, &client_lines, &loan_lines, &mut check);
    }
    let report = check.into_report();
    (report.errors.is_empty().then_some(figures), report)
}

/// The activities add up to the loans, region by region and column by column, exactly: one error per region and
/// column that does not.
fn reconcile(figures: &Figures, context: &Context, check: &mut Checker) {
    let mut totals: BTreeMap<(i32, &str), (i64, i64)> = BTreeMap::new();
    for cell in &figures.activities {
        for (measure, value) in ACTIVITIES.measures.iter().zip(&cell.values) {
            totals.entry((cell.region_id, measure.column)).or_default().0 += value;
        }
    }
    for cell in &figures.loans {
        for measure in ACTIVITIES.measures {
            totals.entry((cell.region_id, measure.column)).or_default().1 += cell.get(measure.column);
        }
    }
    let codes: HashMap<i32, &str> = context.regions.iter().map(|(code, id)| (*id, code.as_str())).collect();
    for ((region, column), (activities, loans)) in totals {
        if activities == loans {
            continue;
        }
        let text = |total: i64| {
            if crate::facts::is_count(column) {
                total.to_string()
            } else {
                crate::period::centimes_to_text(total)
            }
        };
        let region = codes.get(&region).copied().unwrap_or("?");
        check.push_error(Problem {
            table: Table::Activities.name().into(),
            line: None,
            subject: Subject::Month,
            column: Some(column.into()),
            value: Some(text(activities)),
            rule: rule::ACTIVITY_TOTAL_MISMATCH.into(),
            message: format!(
                "in region {region}, the activities' {column} adds up to {} where the loans table has {}: the \
                 activities of a region must add up to its loans, column by column",
                text(activities),
                text(loans)
            ),
        });
    }
}

fn rate_text(rate: f64) -> String {
    format!("{:.1} %", rate * 100.0)
}

/// Warnings: they never block.
fn warn(
    figures: &Figures,
    context: &Context,
    client_lines: &BTreeMap<CellKey, usize>,
    loan_lines: &BTreeMap<CellKey, usize>,
    check: &mut Checker,
) {
    let totals = Totals {
        active_clients: figures.clients.iter().map(|c| c.active_clients).sum(),
        active_loans: figures.loans.iter().map(|l| l.get("active_loans")).sum(),
        outstanding_amount: figures.loans.iter().map(|l| l.get("outstanding_amount")).sum(),
    };
    if let Some(previous) = context.previous {
        for (table, column, before, now) in [
            (
                "clients",
                "active_clients",
                previous.active_clients,
                totals.active_clients,
            ),
            ("loans", "active_loans", previous.active_loans, totals.active_loans),
            (
                "loans",
                "outstanding_amount",
                previous.outstanding_amount,
                totals.outstanding_amount,
            ),
        ] {
            if before > 0 && ((now - before) as f64 / before as f64).abs() > STOCK_MOVE_LIMIT {
                let change = (now - before) as f64 / before as f64;
                // Amounts are kept in centimes and written in MAD with two decimals, as the report writes them.
                let text = |total: i64| {
                    if crate::facts::is_count(column) {
                        total.to_string()
                    } else {
                        crate::period::centimes_to_text(total)
                    }
                };
                check.warning(
                    table,
                    None,
                    Some(column),
                    Some(text(now)),
                    rule::STOCK_MOVED,
                    format!(
                        "the total of {column} moved {}{} from {}: {} then, {} now: check the figures (a merger, a \
                         correction?)",
                        if change > 0.0 { "+" } else { "" },
                        rate_text(change),
                        context.month.shift(-1),
                        text(before),
                        text(now)
                    ),
                );
            }
        }
    }
    let par30: i64 = figures.loans.iter().map(|l| l.get("par30_amount")).sum();
    if totals.outstanding_amount > 0 {
        let rate = par30 as f64 / totals.outstanding_amount as f64;
        if rate > PAR30_RATE_LIMIT {
            check.warning(
                "loans",
                None,
                Some("par30_amount"),
                Some(crate::period::centimes_to_text(par30)),
                rule::PAR30_RATE_HIGH,
                format!(
                    "the PAR30 rate is {} (above {}): check par30_amount, or explain it to the observatory",
                    rate_text(rate),
                    rate_text(PAR30_RATE_LIMIT)
                ),
            );
        }
    }
    let due: i64 = figures.loans.iter().map(|l| l.get("repayments_due")).sum();
    let collected: i64 = figures.loans.iter().map(|l| l.get("repayments_collected")).sum();
    if due > 0 {
        let rate = collected as f64 / due as f64;
        if rate < COLLECTION_RATE_LIMIT {
            check.warning(
                "loans",
                None,
                Some("repayments_collected"),
                Some(crate::period::centimes_to_text(collected)),
                rule::COLLECTION_RATE_LOW,
                format!(
                    "the collection rate is {} (below {}): check repayments_due and repayments_collected",
                    rate_text(rate),
                    rate_text(COLLECTION_RATE_LIMIT)
                ),
            );
        }
    }
    let active_clients: HashMap<CellKey, i64> = figures
        .clients
        .iter()
        .map(|c| ((c.region_id, c.segment, c.gender, c.area), c.active_clients))
        .collect();
    for loan in &figures.loans {
        let key = (loan.region_id, loan.segment, loan.gender, loan.area);
        if loan.get("active_loans") > 0 && active_clients.get(&key).copied().unwrap_or(0) == 0 {
            let line = loan_lines.get(&key).copied().unwrap_or(0);
            let _ = client_lines;
            check.warning(
                "loans",
                Some(line),
                Some("active_loans"),
                Some(loan.get("active_loans").to_string()),
                rule::LOANS_WITHOUT_CLIENTS,
                format!(
                    "line {line} has {} active loans but the clients table has no active client for the same region, \
                     segment, gender and area: add the clients row",
                    loan.get("active_loans")
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::submission::table::read_csv;

    /// The templates of the required tables (their example rows), without the activities.
    fn report_without_activities() -> RawReport {
        [Table::Clients, Table::Loans, Table::Staff]
            .into_iter()
            .map(|table| {
                (
                    table,
                    read_csv(table, table.template().as_bytes()).expect("a template reads"),
                )
            })
            .collect()
    }

    fn context(month: i32, required_from: i32) -> Context {
        Context {
            month: Month(month),
            current: Month(203001),
            regions: [("MA-06".to_owned(), 6)].into_iter().collect(),
            foreign_branches: HashSet::new(),
            previous: None,
            activities_required_from: Month(required_from),
        }
    }

    fn rules(report: &ValidationReport) -> Vec<&str> {
        report.errors.iter().map(|p| p.rule.as_str()).collect()
    }

    #[test]
    fn the_activities_table_is_required_from_its_month_only() {
        let report = report_without_activities();
        let (_, before) = validate(&report, &context(202611, 202612));
        assert!(
            !rules(&before).contains(&rule::ACTIVITIES_MISSING),
            "{:?}",
            before.errors
        );
        let (figures, from) = validate(&report, &context(202612, 202612));
        assert!(figures.is_none());
        let missing = from
            .errors
            .iter()
            .find(|p| p.rule == rule::ACTIVITIES_MISSING)
            .unwrap_or_else(|| panic!("{:?}", from.errors));
        assert_eq!(
            (missing.table.as_str(), missing.subject),
            ("activities", Subject::Table)
        );
        assert!(missing.message.contains("2026-12"), "{}", missing.message);
    }
}
