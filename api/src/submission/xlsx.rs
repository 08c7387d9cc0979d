//! Reading an `.xlsx` workbook with every size bounded before it is reached.
//!
//! A workbook is a zip of XML parts that may declare anything: a billion shared strings, a cell at XFD1048576, an
//! entry that inflates a thousandfold. This reader trusts no declared number. The zip's central directory is checked
//! before the archive is opened (one end record, no zip64, a bounded number of entries); each part is inflated as a
//! stream through a byte budget; the XML is read event by event; and shared strings, sheets, rows, columns and cells
//! are counted as they arrive, so the file is refused at the first bound it crosses. Nothing is allocated from a
//! count the file states, and no range is made dense: a row holds the cells it has.

use super::table::{Malformed, RawReport, RawTable, Table};
use quick_xml::events::{BytesStart, Event};
use std::collections::BTreeMap;
use std::io::{BufReader, Read};

/// The bounds a workbook must stay within.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// Entries in the zip.
    pub entries: usize,
    /// Bytes of one XML part once inflated.
    pub part_bytes: u64,
    /// Bytes of all the parts read, once inflated.
    pub inflated_bytes: u64,
    /// Sheets listed by the workbook.
    pub sheets: usize,
    /// Shared strings, and their total bytes.
    pub shared_strings: usize,
    pub shared_string_bytes: usize,
    /// Rows of one sheet, columns of one row, and cells of the whole workbook (empty ones not counted).
    pub rows: usize,
    pub columns: usize,
    pub cells: usize,
    /// Bytes of one cell's text, and of every cell's text in the workbook (a shared string counts each time a
    /// cell shows it).
    pub cell_bytes: usize,
    pub text_bytes: usize,
}

/// The bounds of a monthly report: far above the largest real report (a few hundred rows per table), far below what
/// would strain the server.
pub const BOUNDS: Bounds = Bounds {
    entries: 1_000,
    part_bytes: 16 * 1024 * 1024,
    inflated_bytes: 48 * 1024 * 1024,
    sheets: 64,
    shared_strings: 200_000,
    shared_string_bytes: 16 * 1024 * 1024,
    rows: super::table::MAX_ROWS,
    columns: super::table::MAX_COLUMNS,
    cells: 200_000,
    cell_bytes: 32 * 1024,
    text_bytes: 32 * 1024 * 1024,
};

/// Why a workbook was refused: not a workbook at all (415), or beyond a bound or badly shaped (400).
fn not_a_workbook(detail: impl std::fmt::Display) -> Malformed {
    Malformed::Encoding(format!(
        "the workbook cannot be read as an .xlsx file ({detail}): save it from Excel or LibreOffice as \"Excel \
         Workbook (.xlsx)\", or send CSV parts"
    ))
}

fn too_big(detail: impl std::fmt::Display) -> Malformed {
    Malformed::Shape(format!(
        "the workbook is larger than a monthly report can be: {detail}; send one month of one association"
    ))
}

/// Reads an `.xlsx` report within [`BOUNDS`]: the sheets named after the tables (other sheets are ignored), each
/// sheet's first row its header, a row's line its row number in the sheet, dates as `YYYY-MM-DD`.
pub fn read_report(bytes: &[u8]) -> Result<RawReport, Malformed> {
    if bytes.is_empty() {
        return Err(Malformed::Shape("the `workbook` part is empty".into()));
    }
    read(bytes, &BOUNDS)
}

/// Reads the sheets named after the report's tables (other sheets are ignored). A sheet's first row is its header;
/// a row's line is its row number in the sheet. Numbers formatted as dates are read as `YYYY-MM-DD`.
pub fn read(bytes: &[u8], bounds: &Bounds) -> Result<RawReport, Malformed> {
    check_directory(bytes, bounds)?;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(not_a_workbook)?;
    let mut budget = Budget {
        left: bounds.inflated_bytes,
        part: bounds.part_bytes,
    };
    let workbook_path = officedocument(&mut archive, &mut budget)?.unwrap_or_else(|| "xl/workbook.xml".into());
    let base = workbook_path
        .rsplit_once('/')
        .map(|(dir, _)| dir.to_owned())
        .unwrap_or_default();
    let rels_path = format!(
        "{base}/_rels/{}.rels",
        workbook_path.rsplit('/').next().unwrap_or("workbook.xml")
    );
    let (sheets, date1904) = workbook_sheets(&mut archive, &mut budget, &workbook_path, bounds)?;
    let targets = relationships(&mut archive, &mut budget, &rels_path)?;
    let mut shared = None;
    let mut styles = None;
    for (kind, target) in targets.values() {
        let path = resolve(&base, target);
        if kind.ends_with("/sharedStrings") {
            shared = Some(path);
        } else if kind.ends_with("/styles") {
            styles = Some(path);
        }
    }
    let shared = match shared {
        Some(path) => shared_strings(&mut archive, &mut budget, &path, bounds)?,
        None => Vec::new(),
    };
    let dates = match styles {
        Some(path) => date_styles(&mut archive, &mut budget, &path)?,
        None => Vec::new(),
    };
    let mut report = RawReport::new();
    let mut cells = Tally::default();
    for (name, id) in sheets {
        let Some(table) = Table::from_name(name.trim().to_ascii_lowercase().as_str()) else {
            continue;
        };
        if report.contains_key(&table) {
            return Err(Malformed::Shape(format!(
                "the workbook has two sheets named {}: keep one",
                table.name()
            )));
        }
        let Some((_, target)) = targets.get(&id) else {
            return Err(not_a_workbook(format!("the sheet `{name}` has no part")));
        };
        let path = resolve(&base, target);
        let sheet = Sheet {
            table,
            shared: &shared,
            dates: &dates,
            date1904,
            bounds,
        };
        let raw = sheet.read(&mut archive, &mut budget, &path, &mut cells)?;
        report.insert(table, raw);
    }
    if report.is_empty() {
        return Err(Malformed::Shape(
            "the workbook has no sheet named clients, loans, staff or branches: name each sheet after its table".into(),
        ));
    }
    Ok(report)
}

/// The end of central directory record is found once, in the file's last 64 KiB, and its counts are checked
/// against the file itself before the zip reader sees them. Zip64 is refused: a report is a few megabytes.
fn check_directory(bytes: &[u8], bounds: &Bounds) -> Result<(), Malformed> {
    const END: &[u8] = b"PK\x05\x06";
    const ZIP64_LOCATOR: &[u8] = b"PK\x06\x07";
    if !bytes.starts_with(b"PK\x03\x04") && !bytes.starts_with(END) {
        return Err(not_a_workbook("it is not a zip file"));
    }
    let tail_start = bytes.len().saturating_sub(22 + 65_535);
    let tail = &bytes[tail_start..];
    let ends: Vec<usize> = tail
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == END)
        .map(|(i, _)| i)
        .collect();
    let [end] = ends[..] else {
        return Err(not_a_workbook("its zip directory is missing or repeated"));
    };
    if tail.windows(4).any(|w| w == ZIP64_LOCATOR) {
        return Err(not_a_workbook("it is a zip64 archive"));
    }
    let record = &tail[end..];
    if record.len() < 22 {
        return Err(not_a_workbook("its zip directory is cut"));
    }
    let u16_at = |at: usize| u16::from_le_bytes([record[at], record[at + 1]]) as u64;
    let u32_at = |at: usize| u32::from_le_bytes([record[at], record[at + 1], record[at + 2], record[at + 3]]) as u64;
    let (entries_here, entries, size, offset) = (u16_at(8), u16_at(10), u32_at(12), u32_at(16));
    let end_at = (tail_start + end) as u64;
    if entries_here != entries || entries as usize > bounds.entries || offset + size > end_at || size < 46 * entries {
        return Err(not_a_workbook(format!(
            "its zip directory is inconsistent or lists more than {} entries",
            bounds.entries
        )));
    }
    Ok(())
}

/// Bytes left to inflate, for the whole workbook and for each part.
struct Budget {
    left: u64,
    part: u64,
}

type Archive<'a> = zip::ZipArchive<std::io::Cursor<&'a [u8]>>;

/// One entry of the archive, inflated as it is read.
type Entry<'a, 'b> = zip::read::ZipFile<'b, std::io::Cursor<&'a [u8]>>;

/// One part as an XML reader that inflates as it is read and stops at the budget. `None` when the part is missing.
fn open<'a, 'b>(
    archive: &'b mut Archive<'a>,
    budget: &mut Budget,
    path: &str,
) -> Result<Option<Part<'a, 'b>>, Malformed> {
    let file = match archive.by_name(path) {
        Ok(file) => file,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(error) => return Err(not_a_workbook(error)),
    };
    let allowed = budget.part.min(budget.left);
    let counted = Counted {
        inner: file,
        read: 0,
        allowed,
    };
    let mut reader = quick_xml::Reader::from_reader(BufReader::with_capacity(64 * 1024, counted));
    reader.config_mut().check_end_names = false;
    Ok(Some(Part {
        reader,
        buffer: Vec::new(),
        budget_before: budget.left,
    }))
}

/// A part being read: its XML reader and the budget it draws on.
struct Part<'a, 'b> {
    reader: quick_xml::Reader<BufReader<Counted<Entry<'a, 'b>>>>,
    buffer: Vec<u8>,
    budget_before: u64,
}

/// Counts inflated bytes and fails past the allowance (an `io::Error` the XML reader passes on).
struct Counted<R> {
    inner: R,
    read: u64,
    allowed: u64,
}

const OVER_BUDGET: &str = "over the inflated size budget";

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let room = (self.allowed.saturating_sub(self.read) + 1).min(buf.len() as u64) as usize;
        let n = self.inner.read(&mut buf[..room])?;
        self.read += n as u64;
        if self.read > self.allowed {
            return Err(std::io::Error::other(OVER_BUDGET));
        }
        Ok(n)
    }
}

impl Part<'_, '_> {
    /// The next event, owned by the part's buffer. Errors name the bound crossed or the damage.
    fn next(&mut self) -> Result<Event<'_>, Malformed> {
        self.buffer.clear();
        match self.reader.read_event_into(&mut self.buffer) {
            Ok(event) => Ok(event),
            Err(quick_xml::Error::Io(error)) if error.to_string().contains(OVER_BUDGET) => Err(too_big(format!(
                "its parts inflate beyond {} MB",
                self.budget_before.min(BOUNDS.part_bytes) / (1024 * 1024)
            ))),
            Err(error) => Err(not_a_workbook(format!("damaged XML: {error}"))),
        }
    }

    /// Bytes inflated so far.
    fn inflated(&self) -> u64 {
        self.reader.get_ref().get_ref().read
    }

    fn close(self, budget: &mut Budget) {
        budget.left = budget.left.saturating_sub(self.inflated());
    }
}

/// An attribute's value by local name.
fn attribute(element: &BytesStart<'_>, name: &str) -> Option<String> {
    element.attributes().flatten().find_map(|a| {
        (a.key.local_name().as_ref() == name).then(|| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map(|v| v.into_owned())
                .unwrap_or_else(|_| a.value.clone().into_owned())
        })
    })
}

/// An attribute's value by qualified name (`r:id`), falling back to the local name `id` in a relationship namespace.
fn relationship_id(element: &BytesStart<'_>) -> Option<String> {
    element.attributes().flatten().find_map(|a| {
        let key: &str = a.key.as_ref();
        (key.ends_with(":id") && key != "xml:id").then(|| a.value.clone().into_owned())
    })
}

fn local(element: &BytesStart<'_>) -> String {
    element.local_name().as_ref().to_owned()
}

/// The workbook part named by the package's relationships.
fn officedocument(archive: &mut Archive<'_>, budget: &mut Budget) -> Result<Option<String>, Malformed> {
    let targets = relationships(archive, budget, "_rels/.rels")?;
    Ok(targets
        .into_values()
        .find(|(kind, _)| kind.ends_with("/officeDocument"))
        .map(|(_, target)| resolve("", &target)))
}

/// A relationship target as a path in the zip: relative to the source part's folder, or absolute from the root.
fn resolve(base: &str, target: &str) -> String {
    let joined = match target.strip_prefix('/') {
        Some(absolute) => absolute.to_owned(),
        None if base.is_empty() => target.to_owned(),
        None => format!("{base}/{target}"),
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

/// A relationships part: id → (type, target). At most the zip's entry bound of relationships are kept.
fn relationships(
    archive: &mut Archive<'_>,
    budget: &mut Budget,
    path: &str,
) -> Result<BTreeMap<String, (String, String)>, Malformed> {
    let mut found = BTreeMap::new();
    let Some(mut part) = open(archive, budget, path)? else {
        return Ok(found);
    };
    loop {
        match part.next()? {
            Event::Start(e) | Event::Empty(e) if local(&e) == "Relationship" => {
                if let (Some(id), Some(kind), Some(target)) =
                    (attribute(&e, "Id"), attribute(&e, "Type"), attribute(&e, "Target"))
                {
                    found.insert(id, (kind, target));
                    if found.len() > BOUNDS.entries {
                        return Err(too_big(format!("more than {} relationships", BOUNDS.entries)));
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    part.close(budget);
    Ok(found)
}

/// The sheets in workbook order, (name, relationship id), and whether dates count from 1904.
fn workbook_sheets(
    archive: &mut Archive<'_>,
    budget: &mut Budget,
    path: &str,
    bounds: &Bounds,
) -> Result<(Vec<(String, String)>, bool), Malformed> {
    let Some(mut part) = open(archive, budget, path)? else {
        return Err(not_a_workbook("it has no workbook part"));
    };
    let mut sheets = Vec::new();
    let mut date1904 = false;
    loop {
        match part.next()? {
            Event::Start(e) | Event::Empty(e) => match local(&e).as_str() {
                "sheet" => {
                    let (Some(name), Some(id)) = (attribute(&e, "name"), relationship_id(&e)) else {
                        continue;
                    };
                    sheets.push((name, id));
                    if sheets.len() > bounds.sheets {
                        return Err(too_big(format!("more than {} sheets", bounds.sheets)));
                    }
                }
                "workbookPr" => {
                    date1904 = matches!(attribute(&e, "date1904").as_deref(), Some("1" | "true"));
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    part.close(budget);
    Ok((sheets, date1904))
}

/// Text of a run of XML text events and references (`&amp;`, `&#233;`).
fn push_text(into: &mut String, event: &Event<'_>) {
    match event {
        Event::Text(text) => into.push_str(&text.xml10_content()),
        Event::CData(data) => into.push_str(&data.xml10_content()),
        Event::GeneralRef(reference) => {
            if let Ok(Some(c)) = reference.resolve_char_ref() {
                into.push(c);
            } else if let Some(s) = quick_xml::escape::resolve_predefined_entity(reference) {
                into.push_str(s);
            }
        }
        _ => {}
    }
}

/// The shared strings, counted and measured as they are read (the part's declared counts are not read).
fn shared_strings(
    archive: &mut Archive<'_>,
    budget: &mut Budget,
    path: &str,
    bounds: &Bounds,
) -> Result<Vec<String>, Malformed> {
    let mut strings = Vec::new();
    let Some(mut part) = open(archive, budget, path)? else {
        return Ok(strings);
    };
    let mut bytes = 0usize;
    let mut current: Option<String> = None;
    // Inside `<t>` of the item itself or of a rich-text run; phonetic runs (`<rPh>`) are not part of the value.
    let (mut in_text, mut in_phonetic) = (false, false);
    loop {
        let event = part.next()?;
        match &event {
            Event::Start(e) => match local(e).as_str() {
                "si" => current = Some(String::new()),
                "t" => in_text = true,
                "rPh" => in_phonetic = true,
                _ => {}
            },
            Event::Empty(e) if local(e) == "si" => {
                strings.push(String::new());
            }
            Event::End(e) => match e.local_name().as_ref() {
                "si" => {
                    let text = current.take().unwrap_or_default();
                    bytes += text.len();
                    strings.push(text);
                }
                "t" => in_text = false,
                "rPh" => in_phonetic = false,
                _ => {}
            },
            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) if in_text && !in_phonetic => {
                if let Some(text) = current.as_mut() {
                    push_text(text, &event);
                    if bytes + text.len() > bounds.shared_string_bytes {
                        return Err(too_big(format!(
                            "its shared strings exceed {} MB",
                            bounds.shared_string_bytes / (1024 * 1024)
                        )));
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
        if strings.len() > bounds.shared_strings {
            return Err(too_big(format!("more than {} shared strings", bounds.shared_strings)));
        }
    }
    part.close(budget);
    Ok(strings)
}

/// For each cell style (`s` attribute), whether its number format shows a date.
fn date_styles(archive: &mut Archive<'_>, budget: &mut Budget, path: &str) -> Result<Vec<bool>, Malformed> {
    let mut styles = Vec::new();
    let Some(mut part) = open(archive, budget, path)? else {
        return Ok(styles);
    };
    let mut custom: BTreeMap<u32, bool> = BTreeMap::new();
    let mut in_cell_xfs = false;
    loop {
        let event = part.next()?;
        let opens = matches!(event, Event::Start(_));
        match event {
            Event::Start(e) | Event::Empty(e) => match local(&e).as_str() {
                "numFmt" => {
                    if let (Some(id), Some(code)) = (attribute(&e, "numFmtId"), attribute(&e, "formatCode"))
                        && let Ok(id) = id.parse::<u32>()
                        && custom.len() < BOUNDS.entries
                    {
                        custom.insert(id, is_date_format(&code));
                    }
                }
                "cellXfs" => in_cell_xfs = opens,
                "xf" if in_cell_xfs => {
                    let id = attribute(&e, "numFmtId")
                        .and_then(|v| v.parse::<u32>().ok())
                        .unwrap_or(0);
                    let date = custom.get(&id).copied().unwrap_or(matches!(id, 14..=22 | 45..=47));
                    styles.push(date);
                    if styles.len() > BOUNDS.cells {
                        return Err(too_big(format!("more than {} cell styles", BOUNDS.cells)));
                    }
                }
                _ => {}
            },
            Event::End(e) if e.local_name().as_ref() == "cellXfs" => in_cell_xfs = false,
            Event::Eof => break,
            _ => {}
        }
    }
    part.close(budget);
    Ok(styles)
}

/// Whether a custom number format shows a date: it has a day, month or year code outside quotes and brackets.
fn is_date_format(code: &str) -> bool {
    let mut quoted = false;
    let mut bracket = false;
    let mut escaped = false;
    for c in code.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            '[' if !quoted => bracket = true,
            ']' if !quoted => bracket = false,
            'd' | 'D' | 'm' | 'M' | 'y' | 'Y' if !quoted && !bracket => return true,
            _ => {}
        }
    }
    false
}

/// A cell reference's column, from 0 (`C7` → 2). `None` when the reference has no letters.
fn column_of(reference: &str) -> Option<usize> {
    let letters: Vec<u8> = reference.bytes().take_while(u8::is_ascii_alphabetic).collect();
    if letters.is_empty() || letters.len() > 3 {
        return None;
    }
    Some(
        letters
            .iter()
            .fold(0usize, |n, l| n * 26 + (l.to_ascii_uppercase() - b'A' + 1) as usize)
            - 1,
    )
}

/// A cell reference's row, from 1 (`C7` → 7).
fn row_of(reference: &str) -> Option<usize> {
    reference
        .trim_start_matches(|c: char| c.is_ascii_alphabetic())
        .parse()
        .ok()
}

/// The column name of a 0-based index, for messages (`0` → `A`).
pub fn column_name(mut index: usize) -> String {
    let mut name = Vec::new();
    loop {
        name.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

/// A serial day number as a date (`YYYY-MM-DD`), in the 1900 or 1904 system.
fn serial_date(serial: f64, date1904: bool) -> Option<String> {
    if !serial.is_finite() || !(0.0..3_000_000.0).contains(&serial) {
        return None;
    }
    let epoch = if date1904 {
        chrono::NaiveDate::from_ymd_opt(1904, 1, 1)?
    } else {
        // Day 60 is the 29 February 1900 that never was: later days count from the day before the 31 December 1899.
        chrono::NaiveDate::from_ymd_opt(1899, 12, 30)?
    };
    let days = serial.floor() as i64 + i64::from(!date1904 && serial < 60.0);
    epoch
        .checked_add_signed(chrono::Duration::days(days))
        .map(|d| d.format("%Y-%m-%d").to_string())
}

/// Cells read so far in the workbook, and the bytes of their text.
#[derive(Default)]
struct Tally {
    cells: usize,
    bytes: usize,
}

/// One sheet to read.
struct Sheet<'s> {
    table: Table,
    shared: &'s [String],
    dates: &'s [bool],
    date1904: bool,
    bounds: &'s Bounds,
}

/// A cell being read: its type, style and the text of its value.
#[derive(Default)]
struct Cell {
    column: usize,
    kind: Option<String>,
    style: Option<usize>,
    value: String,
    inline: String,
}

impl Sheet<'_> {
    fn read(
        &self,
        archive: &mut Archive<'_>,
        budget: &mut Budget,
        path: &str,
        cells: &mut Tally,
    ) -> Result<RawTable, Malformed> {
        let what = self.table.name();
        let Some(mut part) = open(archive, budget, path)? else {
            return Err(not_a_workbook(format!("the sheet {what} has no part")));
        };
        let bounds = self.bounds;
        let mut raw = RawTable::default();
        let mut header: Option<usize> = None;
        let mut rows = 0usize;
        let mut row: Vec<(usize, String)> = Vec::new();
        let mut row_number = 0usize;
        let mut cell: Option<Cell> = None;
        let (mut in_value, mut in_inline) = (false, false);
        loop {
            let event = part.next()?;
            match &event {
                Event::Start(e) | Event::Empty(e) => {
                    let empty = matches!(event, Event::Empty(_));
                    match local(e).as_str() {
                        "row" => {
                            row_number = attribute(e, "r").and_then(|r| r.parse().ok()).unwrap_or(row_number + 1);
                            row.clear();
                            rows += 1;
                            if rows > bounds.rows + 1 {
                                return Err(too_big(format!("the {what} sheet has more than {} rows", bounds.rows)));
                            }
                            if empty {
                                row_number = row_number.max(1);
                            }
                        }
                        "c" => {
                            let reference = attribute(e, "r");
                            let column = match reference.as_deref() {
                                Some(r) => {
                                    if let Some(number) = row_of(r)
                                        && number != row_number
                                        && row.is_empty()
                                    {
                                        row_number = number;
                                    }
                                    column_of(r).ok_or_else(|| {
                                        not_a_workbook(format!("the {what} sheet has a cell reference `{r}`"))
                                    })?
                                }
                                None => row.last().map(|(c, _)| c + 1).unwrap_or(0),
                            };
                            if column >= bounds.columns {
                                return Err(too_big(format!(
                                    "the {what} sheet has a value in column {} (row {row_number}); a report has at \
                                     most {} columns",
                                    column_name(column),
                                    bounds.columns
                                )));
                            }
                            let next = Cell {
                                column,
                                kind: attribute(e, "t"),
                                style: attribute(e, "s").and_then(|s| s.parse().ok()),
                                ..Cell::default()
                            };
                            if empty {
                                self.finish(next, &mut row, cells)?;
                            } else {
                                cell = Some(next);
                            }
                        }
                        "v" if !empty => in_value = true,
                        "is" if !empty => in_inline = true,
                        _ => {}
                    }
                }
                Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                    if let Some(current) = cell.as_mut() {
                        if in_value {
                            push_text(&mut current.value, &event);
                        } else if in_inline {
                            push_text(&mut current.inline, &event);
                        }
                        if current.value.len() + current.inline.len() > bounds.cell_bytes {
                            return Err(too_big(format!(
                                "the {what} sheet has a cell longer than 32 KB (row {row_number})"
                            )));
                        }
                    }
                }
                Event::End(e) => match e.local_name().as_ref() {
                    "v" => in_value = false,
                    "is" => in_inline = false,
                    "c" => {
                        if let Some(done) = cell.take() {
                            self.finish(done, &mut row, cells)?;
                        }
                    }
                    "row" => {
                        self.end_row(&mut raw, &mut header, row_number, &mut row)?;
                    }
                    _ => {}
                },
                Event::Eof => break,
                _ => {}
            }
        }
        part.close(budget);
        Ok(raw)
    }

    /// A cell's text as the validation reads it, stored in its row when not empty.
    fn finish(&self, cell: Cell, row: &mut Vec<(usize, String)>, cells: &mut Tally) -> Result<(), Malformed> {
        let bounds = self.bounds;
        let text = match cell.kind.as_deref() {
            Some("s") => {
                let index: usize = cell
                    .value
                    .trim()
                    .parse()
                    .map_err(|_| not_a_workbook("a shared string index is not a number"))?;
                let shared = self
                    .shared
                    .get(index)
                    .ok_or_else(|| not_a_workbook("a cell names a shared string that does not exist"))?;
                // Measured before it is copied: one long string shown by many cells is refused, not copied.
                if shared.len() > bounds.cell_bytes || cells.bytes + shared.len() > bounds.text_bytes {
                    return Err(self.too_much_text());
                }
                shared.clone()
            }
            Some("inlineStr") => cell.inline,
            Some("str" | "d") => cell.value,
            Some("b") => match cell.value.trim() {
                "1" => "TRUE".into(),
                "0" => "FALSE".into(),
                other => other.to_owned(),
            },
            Some("e") => format!("#{}", cell.value.trim().trim_start_matches('#')),
            _ => {
                let raw = cell.value.trim();
                match raw.parse::<f64>() {
                    Ok(number) => {
                        let date = cell.style.and_then(|s| self.dates.get(s)).copied().unwrap_or(false);
                        match date.then(|| serial_date(number, self.date1904)).flatten() {
                            Some(date) => date,
                            None => number.to_string(),
                        }
                    }
                    Err(_) => raw.to_owned(),
                }
            }
        };
        let text = text.trim().to_owned();
        if text.is_empty() {
            return Ok(());
        }
        cells.cells += 1;
        cells.bytes += text.len();
        if cells.cells > bounds.cells {
            return Err(too_big(format!("more than {} cells", bounds.cells)));
        }
        if text.len() > bounds.cell_bytes || cells.bytes > bounds.text_bytes {
            return Err(self.too_much_text());
        }
        row.push((cell.column, text));
        Ok(())
    }

    fn too_much_text(&self) -> Malformed {
        too_big(format!(
            "a cell's text is longer than {} KB or the cells' text exceeds {} MB",
            self.bounds.cell_bytes / 1024,
            self.bounds.text_bytes / (1024 * 1024)
        ))
    }

    /// A finished row: the header (the first row with a value), or a data row (skipped when empty).
    fn end_row(
        &self,
        raw: &mut RawTable,
        header: &mut Option<usize>,
        line: usize,
        row: &mut Vec<(usize, String)>,
    ) -> Result<(), Malformed> {
        if row.is_empty() && header.is_none() {
            return Ok(());
        }
        let Some(_) = header else {
            let width = row.iter().map(|(c, _)| c + 1).max().unwrap_or(0);
            let mut columns = vec![String::new(); width];
            for (column, text) in row.drain(..) {
                columns[column] = text;
            }
            raw.columns = columns;
            *header = Some(line);
            return Ok(());
        };
        if row.is_empty() {
            return Ok(());
        }
        let width = raw.columns.len();
        if row.iter().any(|(c, _)| *c >= width) {
            return Err(Malformed::Shape(format!(
                "the `{}` sheet has a ragged row: row {line} has values right of the last header column",
                self.table.name()
            )));
        }
        let mut cells = vec![Some(String::new()); width];
        for (column, text) in row.drain(..) {
            cells[column] = Some(text);
        }
        raw.rows.push((line, cells));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_and_dates() {
        assert_eq!(column_of("A1"), Some(0));
        assert_eq!(column_of("AB12"), Some(27));
        assert_eq!(column_of("XFD1048576"), Some(16_383));
        assert_eq!(column_name(27), "AB");
        assert_eq!(row_of("XFD1048576"), Some(1_048_576));
        assert_eq!(serial_date(42064.0, false).as_deref(), Some("2015-03-01"));
        assert_eq!(serial_date(40602.0, true).as_deref(), Some("2015-03-01"));
        assert!(is_date_format("yyyy-mm-dd"));
        assert!(!is_date_format("#,##0.00\" MAD\""));
        assert_eq!(resolve("xl", "worksheets/sheet1.xml"), "xl/worksheets/sheet1.xml");
        assert_eq!(resolve("xl", "/xl/worksheets/sheet1.xml"), "xl/worksheets/sheet1.xml");
        assert_eq!(resolve("xl", "../xl/sharedStrings.xml"), "xl/sharedStrings.xml");
    }
}
