//! The tables of a monthly report, their columns, and reading them from CSV
//! (UTF-8, an optional BOM, comma or semicolon, a header row) or from JSON rows.
//! Reading only checks the shape (encoding, one header, rows as long as the
//! header); every value is checked later, all at once, by `validate`.

use crate::facts::Facts;
use crate::period::Month;
use serde::Serialize;
use std::collections::BTreeMap;

/// One table of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Table {
    Clients,
    Loans,
    Staff,
    Branches,
    Activities,
    /// The quarterly financial statement (`line,value`): sent for a quarter, never with a month's tables.
    Statements,
}

impl Table {
    /// The tables of a monthly report.
    pub const ALL: [Table; 5] = [
        Table::Clients,
        Table::Loans,
        Table::Staff,
        Table::Branches,
        Table::Activities,
    ];

    /// The part, sheet and input-field name of the table.
    pub fn name(self) -> &'static str {
        match self {
            Table::Clients => "clients",
            Table::Loans => "loans",
            Table::Staff => "staff",
            Table::Branches => "branches",
            Table::Activities => "activities",
            Table::Statements => "statements",
        }
    }

    pub fn from_name(name: &str) -> Option<Table> {
        Table::ALL
            .into_iter()
            .chain([Table::Statements])
            .find(|t| t.name() == name)
    }

    /// Whether every report must carry this table (branches and activities may be left out).
    pub fn required(self) -> bool {
        !matches!(self, Table::Branches | Table::Activities | Table::Statements)
    }

    /// The fact table the report table fills (branches are checked, not stored as facts).
    pub fn facts(self) -> Option<&'static Facts> {
        Facts::of_report(self.name())
    }

    /// The columns, in template order: a fact table's dimensions then measures.
    pub fn columns(self) -> Vec<&'static str> {
        match self.facts() {
            Some(facts) => facts.fields(),
            None if self == Table::Statements => vec!["line", "value"],
            None => vec![
                "code",
                "name",
                "kind",
                "region",
                "area",
                "city",
                "latitude",
                "longitude",
                "opened_on",
                "closed_on",
            ],
        }
    }

    /// An example row, in column order, for the template.
    pub fn example(self) -> &'static [&'static str] {
        match self {
            Table::Clients => &["MA-06", "INDIVIDUAL", "FEMALE", "RURAL", "1250", "85"],
            Table::Loans => &[
                "MA-06",
                "INDIVIDUAL",
                "FEMALE",
                "RURAL",
                "90",
                "450000.00",
                "1180",
                "5300000.00",
                "212000.00",
                "95000.50",
                "12000.00",
                "30000.00",
                "610000.00",
                "587500.00",
            ],
            Table::Staff => &["NETWORK", "FEMALE", "42"],
            Table::Statements => &["BS_CASH", "1250000.00"],
            // The loans example's row, financing commerce: the two tables reconcile.
            Table::Activities => &[
                "MA-06",
                "COMMERCE",
                "90",
                "450000.00",
                "1180",
                "5300000.00",
                "212000.00",
                "610000.00",
                "587500.00",
            ],
            Table::Branches => &[
                "AMC-CAS-001",
                "Agence Derb Sultan",
                "AGENCY",
                "MA-06",
                "URBAN",
                "Casablanca",
                "33.5731",
                "-7.5898",
                "2015-03-01",
                "",
            ],
        }
    }

    /// The CSV template: the header and one example row.
    pub fn template(self) -> String {
        if self == Table::Statements {
            return crate::finance::chart::template();
        }
        format!("{}\n{}\n", self.columns().join(","), self.example().join(","))
    }
}

/// Most data rows of one table in a report (CSV file, sheet or JSON rows): a monthly report has a few hundred.
pub const MAX_ROWS: usize = 10_000;

/// Longest line of a CSV file, in bytes.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Most columns of one table in a report (the widest table has 14).
pub const MAX_COLUMNS: usize = 64;

/// One table as read: its columns as named by the sender and its rows with their line numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawTable {
    /// Column names as sent (trimmed), in order.
    pub columns: Vec<String>,
    /// Each data row: the line it starts on (the header is line 1; for JSON, the row's position from 1) and its
    /// cells, one per column (`None` for a JSON row without the column).
    pub rows: Vec<(usize, Vec<Option<String>>)>,
}

/// The tables of one report.
pub type RawReport = BTreeMap<Table, RawTable>;

/// A report as received, to validate and accept.
#[derive(Debug, Clone)]
pub struct NewReport {
    /// The association's code.
    pub association: String,
    pub month: Month,
    pub tables: RawReport,
    /// The payload exactly as received (CSV texts or JSON rows, as a JSON document), kept with its hash.
    pub payload: String,
    pub idempotency_key: Option<String>,
}

/// Why a file could not be read at all (before any value is checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Malformed {
    /// Not text: a binary file, or not UTF-8 (HTTP 415).
    Encoding(String),
    /// Text, but not a table this service can read (HTTP 400).
    Shape(String),
}

impl Malformed {
    pub fn message(&self) -> &str {
        match self {
            Malformed::Encoding(m) | Malformed::Shape(m) => m,
        }
    }
}

/// Reads one CSV file of `table`. A UTF-8 BOM is skipped; the delimiter is the header's `;` or `,` (whichever
/// it has more of); every row must have as many cells as the header.
pub fn read_csv(table: Table, bytes: &[u8]) -> Result<RawTable, Malformed> {
    let what = table.name();
    if bytes.is_empty() {
        return Err(Malformed::Shape(format!(
            "the `{what}` file is empty: send its header row and one row per cell"
        )));
    }
    if bytes.contains(&0) || bytes.starts_with(b"PK\x03\x04") {
        return Err(Malformed::Encoding(format!(
            "the `{what}` file is not a CSV text file (it looks binary, for example a spreadsheet saved under a .csv \
             name): save it as \"CSV UTF-8\""
        )));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        Malformed::Encoding(format!(
            "the `{what}` file is not UTF-8 text (invalid byte at offset {}): save it as \"CSV UTF-8\"",
            e.valid_up_to()
        ))
    })?;
    if text.trim().is_empty() {
        return Err(Malformed::Shape(format!(
            "the `{what}` file is empty: send its header row and one row per cell"
        )));
    }
    // A line longer than any report's is refused before it is split into cells (a row of millions of cells would
    // take far more memory than its bytes).
    if let Some((index, _)) = text
        .split('\n')
        .enumerate()
        .find(|(_, line)| line.len() > MAX_LINE_BYTES)
    {
        return Err(Malformed::Shape(format!(
            "the `{what}` file's line {} is longer than {} KB: a report's lines are a few hundred bytes",
            index + 1,
            MAX_LINE_BYTES / 1024
        )));
    }
    let header_line = text.lines().next().unwrap_or("");
    let delimiter = if header_line.matches(';').count() > header_line.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(false)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let mut raw = RawTable::default();
    // The line a record starts on, counted from its byte offset (quoted cells may span lines).
    // A record's position may point at the line end before it (after a `\r`), so line ends there are skipped.
    // Records come in file order, so the count goes on from the previous record's offset: the file is scanned once.
    let bytes = text.as_bytes();
    let (mut counted_to, mut lines_before) = (0usize, 0usize);
    let mut line_at = |byte: u64| {
        let mut at = (byte as usize).min(bytes.len());
        while at < bytes.len() && matches!(bytes[at], b'\r' | b'\n') {
            at += 1;
        }
        if at < counted_to {
            (counted_to, lines_before) = (0, 0);
        }
        lines_before += bytes[counted_to..at].iter().filter(|b| **b == b'\n').count();
        counted_to = at;
        lines_before + 1
    };
    for (index, record) in records.by_ref().enumerate() {
        let record = record.map_err(|e| match e.kind() {
            csv::ErrorKind::UnequalLengths { pos, expected_len, len } => Malformed::Shape(format!(
                "the `{what}` file has a ragged row: line {} has {len} cells where the header has {expected_len}",
                pos.as_ref().map(|p| line_at(p.byte())).unwrap_or(index + 1)
            )),
            _ => Malformed::Shape(format!("the `{what}` file cannot be read as CSV: {e}")),
        })?;
        let line = record.position().map(|p| line_at(p.byte())).unwrap_or(index + 1);
        if record.len() > MAX_COLUMNS {
            return Err(Malformed::Shape(format!(
                "the `{what}` file has {} columns on line {line}; a report table has at most {MAX_COLUMNS}",
                record.len()
            )));
        }
        if raw.rows.len() >= MAX_ROWS {
            return Err(Malformed::Shape(format!(
                "the `{what}` file has more than {MAX_ROWS} rows: send one month of one association"
            )));
        }
        let cells: Vec<String> = record.iter().map(|c| c.trim().to_owned()).collect();
        if index == 0 {
            raw.columns = cells;
            continue;
        }
        if cells.iter().all(String::is_empty) {
            continue;
        }
        raw.rows.push((line, cells.into_iter().map(Some).collect()));
    }
    Ok(raw)
}

/// Reads JSON rows of `table` (each an object of column to value; numbers and strings accepted). A row's line is
/// its position in the list, from 1; columns are those any row names, in first-seen order.
pub fn read_json(rows: &[serde_json::Map<String, serde_json::Value>]) -> RawTable {
    let mut raw = RawTable::default();
    for row in rows {
        for key in row.keys() {
            if !raw.columns.iter().any(|c| c == key) {
                raw.columns.push(key.clone());
            }
        }
    }
    for (index, row) in rows.iter().enumerate() {
        let cells = raw
            .columns
            .iter()
            .map(|column| {
                row.get(column).and_then(|value| match value {
                    serde_json::Value::Null => None,
                    serde_json::Value::String(s) => Some(s.trim().to_owned()),
                    other => Some(other.to_string()),
                })
            })
            .collect();
        raw.rows.push((index + 1, cells));
    }
    raw
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_has_a_value_per_column_and_every_fact_table_a_report_table() {
        for table in Table::ALL {
            assert_eq!(table.columns().len(), table.example().len(), "{}", table.name());
        }
        for facts in crate::facts::ALL {
            assert!(Table::from_name(facts.report).is_some(), "{}", facts.table);
        }
    }

    #[test]
    fn rows_carry_the_line_they_start_on() {
        let raw = read_csv(
            Table::Staff,
            b"category,gender,headcount\r\nNETWORK,FEMALE,3\r\n\"HEAD\nOFFICE\",MALE,2\nX,Y,1\n",
        )
        .unwrap();
        let lines: Vec<usize> = raw.rows.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, vec![2, 3, 5]);
        let ragged = read_csv(Table::Staff, b"category,gender,headcount\nNETWORK,FEMALE,3\nNETWORK\n").unwrap_err();
        assert!(ragged.message().contains("line 3 has 1 cells"), "{}", ragged.message());
    }
}
