//! The page: figures formatted for reading in French, Arabic or English, the charts, and the HTML written by the
//! `minijinja` template `api/templates/dashboard.html` (embedded at compile time, escaped as HTML). Every figure cell
//! carries what it shows as data attributes (`data-measure`, `data-grouping`, `data-group`, `data-kind`, and
//! `data-value`, the answer's number, or `data-suppressed`), so that the page can be checked against `indicators`.

use super::chart::{self, Series};
use super::{BLOCKS, Block, Figure, Figures, Grouping, Row, SECTOR};
use crate::indicator::catalog::{MeasureDef, Unit};
use crate::labels::Language;
use serde::Serialize;

const TEMPLATE: &str = include_str!("../../templates/dashboard.html");

/// Who the page was computed for, as the page says it.
pub struct Viewer<'a> {
    /// The role's name (`PUBLIC`, `PARTNER`, `ASSOCIATION`, `OBSERVATORY`).
    pub role: &'a str,
    /// The signed link's expiry, when the page was opened with one (RFC 3339).
    pub link_expires: Option<String>,
}

/// The whole page.
pub fn page(figures: &Figures, language: Language, viewer: &Viewer<'_>) -> Result<String, minijinja::Error> {
    let mut environment = minijinja::Environment::new();
    environment.add_template("dashboard.html", TEMPLATE)?;
    let blocks: Vec<BlockView> = BLOCKS.iter().map(|b| block(b, figures, language)).collect();
    let any_hidden = blocks
        .iter()
        .flat_map(|b| &b.tables)
        .flat_map(|t| &t.rows)
        .flat_map(|r| r.cells.iter().flatten())
        .any(|c| c.suppressed);
    let t = |fr: &'static str, ar: &'static str, en: &'static str| language.pick(fr, ar, en);
    let month = month_name(figures.month, language);
    let context = minijinja::context! {
        lang => language.code(),
        dir => if language == Language::Ar { "rtl" } else { "ltr" },
        month => figures.month.to_string(),
        title => format!("{} — {month}", t("Tableau de bord mensuel de la microfinance", "اللوحة الشهرية للقروض الصغرى", "Monthly microfinance dashboard")),
        observatory => t("Observatoire de la microfinance", "مرصد القروض الصغرى", "Microfinance Observatory"),
        role_label => t("Données lues avec le rôle", "البيانات مقروءة بصفة", "Figures read with the role"),
        role => viewer.role,
        link_label => t("Lien valable jusqu'au", "الرابط صالح إلى غاية", "Link valid until"),
        link_expires => viewer.link_expires.clone(),
        legend_month => month.clone(),
        legend_year_ago => month_name(figures.month.shift(-12), language),
        hidden_note => hidden_note(language),
        any_hidden => any_hidden,
        missing_note => missing_note(language),
        source_note => t(
            "Source : rapports mensuels des associations de microcrédit, calculés par l'API de l'Observatoire (indicators) avec les règles d'accès et de masquage du rôle ci-dessus.",
            "المصدر: التقارير الشهرية لجمعيات القروض الصغرى، محسوبة بواجهة المرصد (indicators) وفق قواعد الولوج والحجب الخاصة بالصفة أعلاه.",
            "Source: the microcredit associations' monthly reports, computed by the Observatory's API (indicators) with the access and hiding rules of the role above.",
        ),
        blocks => minijinja::Value::from(minijinja::value::Serde(blocks)),
    };
    environment.get_template("dashboard.html")?.render(context)
}

/// What a figure hidden to protect a small group shows.
pub const HIDDEN: &str = "—";

/// What a figure the answer left null (not reported) shows.
pub fn missing(language: Language) -> &'static str {
    language.pick("n.d.", "غ.م", "n/a")
}

/// The note under a page that shows hidden figures: why they are dashes.
pub fn hidden_note(language: Language) -> &'static str {
    language.pick(
        "— : chiffre masqué pour protéger un petit groupe (moins de 3 associations y contribuent).",
        "— : رقم محجوب لحماية مجموعة صغيرة (أقل من 3 جمعيات تساهم فيه).",
        "— : figure hidden to protect a small group (fewer than 3 associations contribute to it).",
    )
}

/// The note under a page on what `missing` means.
pub fn missing_note(language: Language) -> &'static str {
    language.pick(
        "n.d. : pas de chiffre pour cette période.",
        "غ.م : لا رقم لهذه الفترة.",
        "n/a: no figure for this period.",
    )
}

/// One figure cell.
#[derive(Serialize)]
struct Cell {
    text: String,
    measure: &'static str,
    grouping: &'static str,
    group: String,
    kind: &'static str,
    /// The answer's number, written as the shortest text that reads back to it.
    value: Option<String>,
    suppressed: bool,
}

#[derive(Serialize)]
struct TableRow {
    label: String,
    total: bool,
    /// Cells of figures; `None`: a column that does not apply to this row (targets by region).
    cells: Vec<Option<Cell>>,
}

#[derive(Serialize)]
struct Header {
    label: String,
    span: usize,
}

#[derive(Serialize)]
struct Table {
    heading: String,
    headers: Vec<Header>,
    subheads: Vec<String>,
    rows: Vec<TableRow>,
}

#[derive(Serialize)]
struct BlockView {
    id: &'static str,
    title: &'static str,
    chart: Option<String>,
    chart_title: String,
    year_ago_bars: bool,
    tables: Vec<Table>,
}

/// The kinds of figure a measure shows in a broken-down table, by column.
fn kinds(measure: &MeasureDef) -> Vec<&'static str> {
    let mut kinds = vec!["value", "previous", "yearAgo"];
    if measure.target.is_some() {
        kinds.push("target");
    }
    kinds
}

fn kind_label(kind: &str, language: Language) -> &'static str {
    match kind {
        "value" => language.pick("Mois", "الشهر", "Month"),
        "previous" => language.pick("Mois précédent", "الشهر السابق", "Previous month"),
        "yearAgo" => language.pick("Un an avant", "قبل سنة", "A year before"),
        "target" => language.pick("Objectif", "الهدف", "Target"),
        _ => language.pick("Réalisation", "نسبة الإنجاز", "Achieved"),
    }
}

fn cell(
    figure: &Figure,
    measure: &'static MeasureDef,
    grouping: Grouping,
    group: &str,
    kind: &'static str,
    language: Language,
) -> Cell {
    let (value, unit) = match kind {
        "value" => (figure.value, measure.unit),
        "previous" => (figure.previous, measure.unit),
        "yearAgo" => (figure.year_ago, measure.unit),
        "target" => (figure.target, measure.unit),
        _ => (figure.achievement, Unit::Percent),
    };
    let hidden = value.is_none() && figure.suppressed;
    let text = match value {
        Some(value) if unit == Unit::Percent && kind == "achievement" => percent(value, 1, language),
        Some(value) => format(value, unit, language),
        None if hidden => HIDDEN.to_owned(),
        None => missing(language).to_owned(),
    };
    Cell {
        text,
        measure: measure.field,
        grouping: grouping.name(),
        group: group.to_owned(),
        kind,
        value: value.map(|v| v.to_string()),
        suppressed: hidden,
    }
}

/// A measure's label with its unit, as a column or line heading.
fn measure_label(measure: &MeasureDef, language: Language) -> String {
    let label = language.pick(measure.label_fr, measure.label_ar, measure.label_en);
    match measure.unit {
        Unit::Mad => format!("{label} ({})", language.pick("M MAD", "مليون درهم", "MAD m")),
        Unit::Percent => format!("{label} (%)"),
        _ => label.to_owned(),
    }
}

fn block(block: &Block, figures: &Figures, language: Language) -> BlockView {
    let measures = block.measures();
    let mut tables = Vec::new();
    let sector = figures.sector.as_ref();
    if !block.broken_down {
        // One line per measure, sector-wide: the month against its target, the previous month, a year before.
        let columns = ["value", "target", "achievement", "previous", "yearAgo"];
        let rows = measures
            .iter()
            .map(|m| {
                let figure = sector.map(|s| s.figure(m.field)).unwrap_or_default();
                TableRow {
                    label: measure_label(m, language),
                    total: false,
                    cells: columns
                        .iter()
                        .map(|kind| Some(cell(&figure, m, Grouping::Sector, SECTOR, kind, language)))
                        .collect(),
                }
            })
            .collect();
        tables.push(Table {
            heading: Grouping::Sector.heading(language).to_owned(),
            headers: Vec::new(),
            subheads: columns.iter().map(|k| kind_label(k, language).to_owned()).collect(),
            rows,
        });
        let achieved: Vec<Option<f64>> = measures
            .iter()
            .map(|m| sector.and_then(|s| s.figure(m.field).achievement))
            .collect();
        let chart = chart::bars(
            &measures
                .iter()
                .map(|m| language.pick(m.label_fr, m.label_ar, m.label_en).to_owned())
                .collect::<Vec<_>>(),
            &[Series {
                color: chart::MONTH,
                values: achieved,
            }],
            &|v| percent(v, 0, language),
            Some(100.0),
            language == Language::Ar,
        );
        return BlockView {
            id: block.id,
            title: block.title(language),
            chart,
            chart_title: language
                .pick(
                    "Réalisation des objectifs (%)",
                    "نسبة إنجاز الأهداف (%)",
                    "Targets achieved (%)",
                )
                .to_owned(),
            year_ago_bars: false,
            tables,
        };
    }
    for (grouping, rows) in &figures.breakdowns {
        let headers = measures
            .iter()
            .map(|m| Header {
                label: measure_label(m, language),
                span: kinds(m).len(),
            })
            .collect();
        let subheads = measures
            .iter()
            .flat_map(|m| kinds(m).into_iter().map(|k| kind_label(k, language).to_owned()))
            .collect();
        let line = |row: &Row, grouping: Grouping, total: bool| TableRow {
            label: row.label(language).to_owned(),
            total,
            cells: measures
                .iter()
                .flat_map(|m| {
                    let figure = row.figure(m.field);
                    kinds(m)
                        .into_iter()
                        .map(move |kind| Some(cell(&figure, m, grouping, &row.code, kind, language)))
                })
                .collect(),
        };
        let mut lines: Vec<TableRow> = rows.iter().map(|row| line(row, *grouping, false)).collect();
        if let Some(sector) = sector {
            lines.push(line(sector, Grouping::Sector, true));
        }
        tables.push(Table {
            heading: grouping.heading(language).to_owned(),
            headers,
            subheads,
            rows: lines,
        });
    }
    // The chart: the block's first measure by the first breakdown, this month and a year before.
    let first = measures[0];
    let chart = figures.breakdowns.first().and_then(|(_, rows)| {
        let categories: Vec<String> = rows.iter().map(|r| r.label(language).to_owned()).collect();
        let unit = first.unit;
        chart::bars(
            &categories,
            &[
                Series {
                    color: chart::MONTH,
                    values: rows.iter().map(|r| r.figure(first.field).value).collect(),
                },
                Series {
                    color: chart::YEAR_AGO,
                    values: rows.iter().map(|r| r.figure(first.field).year_ago).collect(),
                },
            ],
            &|v| format(v, unit, language),
            None,
            language == Language::Ar,
        )
    });
    let by = figures
        .breakdowns
        .first()
        .map(|(g, _)| g.heading(language))
        .unwrap_or_default();
    BlockView {
        id: block.id,
        title: block.title(language),
        chart,
        chart_title: format!("{} — {by}", measure_label(first, language)),
        year_ago_bars: true,
        tables,
    }
}

/// A figure in its unit, for reading: amounts in millions of MAD with one decimal, counts whole, rates with two
/// decimals.
pub fn format(value: f64, unit: Unit, language: Language) -> String {
    match unit {
        Unit::Mad => number(value / 1_000_000.0, 1, language),
        Unit::Percent => percent(value, 2, language),
        Unit::ClientsPerStaff | Unit::ClientsPerLoanOfficer => number(value, 1, language),
        Unit::Multiple => number(value, 2, language),
        Unit::Count | Unit::MadPerLoan | Unit::MadPerClient => number(value, 0, language),
    }
}

/// A percentage: `8,01 %` in French, `8,01%` in Arabic (the sign kept beside the number when read right to left),
/// `8.01%` in English.
pub fn percent(value: f64, decimals: usize, language: Language) -> String {
    let number = number(value, decimals, language);
    match language {
        Language::Fr => format!("{number}\u{a0}%"),
        Language::Ar | Language::En => format!("{number}%"),
    }
}

/// A number with its thousands grouped: `8 022 500` (narrow no-break spaces) and a decimal comma in French and
/// Arabic, `8,022,500` and a decimal point in English.
pub fn number(value: f64, decimals: usize, language: Language) -> String {
    let text = format!("{:.*}", decimals, value.abs());
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text.as_str(), None),
    };
    let (separator, point) = match language {
        Language::En => (",", "."),
        Language::Fr | Language::Ar => ("\u{202f}", ","),
    };
    let mut grouped = String::new();
    if value < 0.0 && text.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
        grouped.push('−');
    }
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push_str(separator);
        }
        grouped.push(digit);
    }
    if let Some(fraction) = fraction {
        grouped.push_str(point);
        grouped.push_str(fraction);
    }
    grouped
}

/// A month as its readers write it: `décembre 2020`, `دجنبر 2020`, `December 2020`.
pub fn month_name(month: crate::period::Month, language: Language) -> String {
    const FR: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    const AR: [&str; 12] = [
        "يناير",
        "فبراير",
        "مارس",
        "أبريل",
        "ماي",
        "يونيو",
        "يوليوز",
        "غشت",
        "شتنبر",
        "أكتوبر",
        "نونبر",
        "دجنبر",
    ];
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let index = month.month() as usize - 1;
    format!("{} {}", language.pick(FR[index], AR[index], EN[index]), month.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_as_each_language_writes_them() {
        assert_eq!(
            number(8_022_500_000.0, 0, Language::Fr),
            "8\u{202f}022\u{202f}500\u{202f}000"
        );
        assert_eq!(number(8_022_500_000.0, 0, Language::En), "8,022,500,000");
        assert_eq!(number(-1234.567, 2, Language::Fr), "−1\u{202f}234,57");
        assert_eq!(number(-0.001, 1, Language::En), "0.0");
        assert_eq!(number(999.0, 0, Language::En), "999");
        assert_eq!(percent(8.0123, 2, Language::En), "8.01%");
        assert_eq!(percent(8.0123, 2, Language::Fr), "8,01\u{a0}%");
        assert_eq!(percent(8.0123, 2, Language::Ar), "8,01%");
        assert_eq!(format(6_010_000_000.0, Unit::Mad, Language::En), "6,010.0");
    }

    #[test]
    fn months_are_named_in_each_language() {
        let month = crate::period::Month(202012);
        assert_eq!(month_name(month, Language::Fr), "décembre 2020");
        assert_eq!(month_name(month, Language::Ar), "دجنبر 2020");
        assert_eq!(month_name(month, Language::En), "December 2020");
    }
}
