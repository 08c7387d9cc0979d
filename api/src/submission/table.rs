//! The tables of a monthly report, their columns, and reading them from CSV
//! (UTF-8, an optional BOM, comma or semicolon, a header row) or from JSON rows.
//! Reading only checks the shape (encoding, one header, rows as long as the
//! header); every value is checked later, all at once, by `validate`.

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
}

impl Table {
    pub const ALL: [Table; 4] = [Table::Clients, Table::Loans, Table::Staff, Table::Branches];

    /// The part, sheet and input-field name of the table.
    pub fn name(self) -> &'static str {
        match self {
            Table::Clients => "clients",
            Table::Loans => "loans",
            Table::Staff => "staff",
            Table::Branches => "branches",
        }
    }

    pub fn from_name(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Whether every report must carry this table.
    pub fn required(self) -> bool {
        self != Table::Branches
    }

    /// The columns, in template order.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Table::Clients => &["region", "segment", "gender", "area", "active_clients", "new_clients"],
            Table::Loans => &[
                "region",
                "segment",
                "gender",
                "area",
                "disbursed_count",
                "disbursed_amount",
                "active_loans",
                "outstanding_amount",
                "par30_amount",
                "par90_amount",
                "write_off_amount",
                "rescheduled_amount",
                "repayments_due",
                "repayments_collected",
            ],
            Table::Staff => &["category", "gender", "headcount"],
            Table::Branches => &[
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

    /// Whether a value column holds a whole count (the other value columns of the loans file are amounts in MAD).
    pub fn is_count(column: &str) -> bool {
        column.ends_with("_count") || column == "active_loans"
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
        format!("{}\n{}\n", self.columns().join(","), self.example().join(","))
    }
}

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

/// Reads an `.xlsx` workbook whose sheets are named after the tables (other sheets are ignored). A sheet's first
/// row is its header; a row's line is its row number in the sheet. Dates are read as `YYYY-MM-DD`.
pub fn read_xlsx(bytes: &[u8]) -> Result<RawReport, Malformed> {
    let not_a_workbook = |detail: String| {
        Malformed::Encoding(format!(
            "the workbook cannot be read as an .xlsx file ({detail}): save it from Excel or LibreOffice as \"Excel \
             Workbook (.xlsx)\", or send CSV parts"
        ))
    };
    if bytes.is_empty() {
        return Err(Malformed::Shape("the `workbook` part is empty".into()));
    }
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_workbook(bytes)));
    let sheets = match read {
        Ok(Ok(Err(ragged))) => return Err(ragged),
        Ok(Ok(Ok(sheets))) => sheets,
        Ok(Err(detail)) => return Err(not_a_workbook(detail)),
        Err(_) => return Err(not_a_workbook("its content is damaged".into())),
    };
    if sheets.is_empty() {
        return Err(Malformed::Shape(
            "the workbook has no sheet named clients, loans, staff or branches: name each sheet after its table".into(),
        ));
    }
    Ok(sheets)
}

/// The sheets read (or a ragged row), or why the file is not a workbook.
fn read_workbook(bytes: &[u8]) -> Result<Result<RawReport, Malformed>, String> {
    use calamine::{Data, Reader, Xlsx};
    let mut workbook: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).map_err(|e| e.to_string())?;
    let mut report = RawReport::new();
    for name in workbook.sheet_names() {
        let Some(table) = Table::from_name(name.trim().to_ascii_lowercase().as_str()) else {
            continue;
        };
        let range = workbook.worksheet_range(&name).map_err(|e| e.to_string())?;
        let first_row = range.start().map(|(row, _)| row as usize).unwrap_or(0);
        let mut raw = RawTable::default();
        for (index, row) in range.rows().enumerate() {
            let cells: Vec<String> = row
                .iter()
                .map(|cell| match cell {
                    Data::Empty => String::new(),
                    Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_owned(),
                    Data::Int(i) => i.to_string(),
                    Data::Float(f) => f.to_string(),
                    Data::Bool(b) => b.to_string().to_ascii_uppercase(),
                    Data::DateTime(d) => d
                        .as_datetime()
                        .map(|d| d.date().format("%Y-%m-%d").to_string())
                        .unwrap_or_else(|| d.as_f64().to_string()),
                    Data::Error(e) => format!("#{e:?}"),
                })
                .collect();
            if index == 0 {
                let mut columns = cells;
                while columns.last().is_some_and(String::is_empty) {
                    columns.pop();
                }
                raw.columns = columns;
                continue;
            }
            if cells.iter().all(String::is_empty) {
                continue;
            }
            let line = first_row + index + 1;
            if cells.iter().skip(raw.columns.len()).any(|c| !c.is_empty()) {
                return Ok(Err(Malformed::Shape(format!(
                    "the `{}` sheet has a ragged row: row {line} has values right of the last header column",
                    table.name()
                ))));
            }
            let mut cells: Vec<Option<String>> = cells.into_iter().map(Some).collect();
            cells.resize(raw.columns.len(), Some(String::new()));
            raw.rows.push((line, cells));
        }
        report.insert(table, raw);
    }
    Ok(Ok(report))
}

#[cfg(test)]
mod tests {
    use super::*;

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
