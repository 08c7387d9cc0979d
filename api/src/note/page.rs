//! The quarterly note as one self-contained HTML page (`GET /notes/{quarter}?lang=fr|ar|en`), in French, Arabic
//! (right to left) or English, printable on A4: the layout's sections in order, each measure's sector figure with its
//! groups as rows under it, each figure with the previous quarter, the same quarter a year before and the changes; the
//! financial section's peer quartiles by scale; and a few inline SVG charts (the dashboard's `chart`). Numbers are
//! written by the dashboard's `render::format`, `percent` and `number`, the HTML by the `minijinja` template
//! `api/templates/note.html` (embedded at compile time, escaped as HTML).
//!
//! The page shows the `quarterlyNote` answer the caller was given and nothing else. Every figure cell carries what it
//! shows as data attributes: `data-section` and `data-measure` (the section's and the measure's codes),
//! `data-dimension` and `data-group` (`_T` for the sector; `SCALE` and the peer group for the peer statistics),
//! `data-kind` (the answer's field: `value`, `previousQuarter`, `sameQuarterPreviousYear`,
//! `changeFromPreviousQuarter`, `changeFromPreviousYear`, or the peer statistic `n`, `p25`, `median`, `p75`,
//! `aggregate`), and `data-value` (the answer's number as its JSON wrote it) or `data-suppressed`, so that the page can
//! be checked against `quarterlyNote`.

use super::routes::{Answered, refused};
use super::{NoteSection, PEER_DIMENSION};
use crate::dashboard::SECTOR;
use crate::dashboard::chart::{self, Series};
use crate::dashboard::render::{HIDDEN, format, hidden_note, missing, missing_note, number, percent};
use crate::indicator::catalog::Unit;
use crate::labels::Language;
use crate::period::Period;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use plotters::style::RGBColor;
use serde::Serialize;
use serde_json::Value;

const TEMPLATE: &str = include_str!("../../templates/note.html");

/// The colour of the previous quarter's bars (the quarter's and the year before's are the dashboard's).
const PREVIOUS: RGBColor = RGBColor(120, 166, 210);

/// The headline ratios charted in the financial section, against the quarter before and the year before, with a line
/// at 100 % (costs covered, risk covered).
const HEADLINE_RATIOS: &[&str] = &["operationalSelfSufficiency", "financialSelfSufficiency", "riskCoverage"];

/// The breakdowns charted: section, measure field, dimension; the quarter against the same quarter a year before.
const BREAKDOWN_CHARTS: &[(NoteSection, &str, &str)] = &[
    (NoteSection::Lending, "disbursedAmount", "ACTIVITY"),
    (NoteSection::Portfolio, "outstandingAmount", "REGION"),
];

/// A figure's numbers, in the table's order of columns.
const FIGURE_KINDS: [&str; 5] = [
    "value",
    "previousQuarter",
    "changeFromPreviousQuarter",
    "sameQuarterPreviousYear",
    "changeFromPreviousYear",
];

/// A peer group's statistics, in the table's order of columns (`aggregate` for the readers given it).
const PEER_KINDS: [&str; 5] = ["n", "p25", "median", "p75", "aggregate"];

/// The page of an answered note, with the dashboard's headers: nothing is fetched from any network.
pub fn respond(answered: &Answered, quarter: Period, language: Language) -> Response {
    match page(&answered.note, quarter, language, answered.role.name()) {
        Ok(html) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                ),
                // The page needs nothing from any network: everything is inline.
                (
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; img-src data:"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
                (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
            ],
            html,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(error = %error, "the note's template failed");
            refused(StatusCode::INTERNAL_SERVER_ERROR, "the note could not be written")
        }
    }
}

/// A quarter as its readers write it: `T4 2020`, `الفصل الرابع 2020`, `Q4 2020`.
pub fn quarter_name(quarter: Period, language: Language) -> String {
    let index = (quarter.first_month().month() as usize - 1) / 3;
    let year = quarter.first_month().year();
    match language {
        Language::Fr => format!("T{} {year}", index + 1),
        Language::En => format!("Q{} {year}", index + 1),
        Language::Ar => {
            const ORDINALS: [&str; 4] = ["الأول", "الثاني", "الثالث", "الرابع"];
            format!("الفصل {} {year}", ORDINALS[index])
        }
    }
}

/// The catalogue's unit of a measure, from its name in the answer.
fn unit(measure: &Value) -> Unit {
    match measure["unit"].as_str().unwrap_or_default() {
        "MAD" => Unit::Mad,
        "PERCENT" => Unit::Percent,
        "MAD_PER_LOAN" => Unit::MadPerLoan,
        "MAD_PER_CLIENT" => Unit::MadPerClient,
        "CLIENTS_PER_STAFF" => Unit::ClientsPerStaff,
        "CLIENTS_PER_LOAN_OFFICER" => Unit::ClientsPerLoanOfficer,
        "MULTIPLE" => Unit::Multiple,
        _ => Unit::Count,
    }
}

/// One of an object's three labels (`labelFr`, `labelAr`, `labelEn`).
fn label(object: &Value, language: Language) -> String {
    let field = language.pick("labelFr", "labelAr", "labelEn");
    object[field].as_str().unwrap_or_default().to_owned()
}

/// A measure's label with its unit.
fn measure_label(measure: &Value, language: Language) -> String {
    let name = label(measure, language);
    match unit(measure) {
        Unit::Mad => format!("{name} ({})", language.pick("M MAD", "مليون درهم", "MAD m")),
        Unit::MadPerLoan | Unit::MadPerClient => format!("{name} ({})", language.pick("MAD", "درهم", "MAD")),
        Unit::Percent => format!("{name} (%)"),
        _ => name,
    }
}

/// The heading of a breakdown's rows: `par segment`, `حسب الجهة`, `by economic activity`.
fn dimension_label(dimension: &str, language: Language) -> String {
    let name = if dimension == "REGION" {
        language.pick("région", "الجهة", "region").to_owned()
    } else {
        crate::labels::CODE_LISTS
            .iter()
            .find(|(id, ..)| *id == dimension)
            .map(|(_, fr, ar, en, _)| language.pick(fr, ar, en))
            .map_or_else(|| dimension.to_lowercase(), |name| name.to_lowercase())
    };
    format!("{} {name}", language.pick("par", "حسب", "by"))
}

/// Numbers kept left to right in Arabic text, their signs beside them.
fn isolated(text: String, language: Language) -> String {
    if language == Language::Ar {
        format!("\u{2066}{text}\u{2069}")
    } else {
        text
    }
}

/// A change: percentage points for rates and shares, per cent for the rest, with its sign.
fn change_text(change: f64, unit: Unit, language: Language) -> String {
    if unit == Unit::Percent {
        format!(
            "{} {}",
            isolated(signed(number(change, 2, language), change), language),
            language.pick("pt", "نقطة", "pp")
        )
    } else {
        isolated(signed(percent(change, 1, language), change), language)
    }
}

/// A plus before a positive number (a negative one has its minus).
fn signed(text: String, value: f64) -> String {
    if value > 0.0 && text.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
        format!("+{text}")
    } else {
        text
    }
}

/// One figure cell.
#[derive(Serialize)]
struct Cell {
    text: String,
    section: String,
    measure: String,
    dimension: String,
    group: String,
    kind: &'static str,
    /// The answer's number, as its JSON wrote it.
    value: Option<String>,
    suppressed: bool,
    /// `better` or `worse` for a change, as the measure's `betterWhen` reads it.
    class: &'static str,
}

/// A cell of the answer's `object` (a figure, or one peer group's statistics of a figure): the number of `kind`, or
/// why there is none.
fn cell(object: &Value, figure: &Value, dimension: &str, group: &str, kind: &'static str, language: Language) -> Cell {
    let measure = &figure["measure"];
    let answered = &object[kind];
    let answered = if kind == "aggregate" {
        &answered["value"]
    } else {
        answered
    };
    let number_of = answered.as_f64();
    let unit = unit(measure);
    let hidden = number_of.is_none() && object["suppressed"] == true;
    let text = match number_of {
        Some(value) if kind.starts_with("change") => change_text(value, unit, language),
        Some(value) if kind == "n" => number(value, 0, language),
        Some(value) => isolated(format(value, unit, language), language),
        None if hidden => HIDDEN.to_owned(),
        None => missing(language).to_owned(),
    };
    // A change that rounds to nothing is neither better nor worse.
    let moved = kind.starts_with("change") && text.bytes().any(|b| (b'1'..=b'9').contains(&b));
    let class = match (moved, number_of, measure["betterWhen"].as_str()) {
        (true, Some(change), Some("HIGHER")) if change > 0.0 => "better",
        (true, Some(change), Some("HIGHER")) if change < 0.0 => "worse",
        (true, Some(change), Some("LOWER")) if change < 0.0 => "better",
        (true, Some(change), Some("LOWER")) if change > 0.0 => "worse",
        _ => "",
    };
    Cell {
        text,
        section: figure["section"].as_str().unwrap_or_default().to_owned(),
        measure: measure["code"].as_str().unwrap_or_default().to_owned(),
        dimension: dimension.to_owned(),
        group: group.to_owned(),
        kind,
        value: match answered {
            Value::Number(number) => Some(number.to_string()),
            _ => None,
        },
        suppressed: hidden,
        class,
    }
}

/// A line of a section's table: a measure (its sector figure), the heading of a breakdown, or a group.
#[derive(Serialize)]
struct Line {
    label: String,
    /// `measure`, `dimension` or `group`.
    kind: &'static str,
    /// The figure's cells; `None`: no figure (a measure whose sector figure is not in the answer).
    cells: Vec<Option<Cell>>,
}

/// A line of the peer table: one group of one ratio.
#[derive(Serialize)]
struct PeerLine {
    /// The ratio's label, on the first of its groups' lines (`span` lines).
    ratio: Option<String>,
    span: usize,
    group: String,
    small: bool,
    cells: Vec<Cell>,
}

#[derive(Serialize)]
struct Chart {
    svg: String,
    caption: String,
    /// The legend: a colour and what it shows, per series.
    legend: Vec<(String, String)>,
}

#[derive(Serialize)]
struct SectionView {
    code: &'static str,
    title: &'static str,
    charts: Vec<Chart>,
    lines: Vec<Line>,
    peers: Vec<PeerLine>,
}

/// The answer's figures of a section, in its order.
fn figures_of(note: &Value, section: NoteSection) -> Vec<&Value> {
    note["figures"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["section"] == section.code())
        .collect()
}

fn hex(color: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", color.0, color.1, color.2)
}

/// The lines of a section's table: each measure's sector figure, then its groups under the heading of their
/// breakdown, in the answer's order.
fn lines(figures: &[&Value], language: Language) -> Vec<Line> {
    let mut measures: Vec<&str> = Vec::new();
    for figure in figures {
        let code = figure["measure"]["code"].as_str().unwrap_or_default();
        if !measures.contains(&code) {
            measures.push(code);
        }
    }
    let mut lines = Vec::new();
    for code in measures {
        let of_measure: Vec<&Value> = figures
            .iter()
            .copied()
            .filter(|f| f["measure"]["code"] == code)
            .collect();
        let measure = &of_measure[0]["measure"];
        let sector = of_measure.iter().find(|f| f["dimension"].is_null());
        lines.push(Line {
            label: measure_label(measure, language),
            kind: "measure",
            cells: FIGURE_KINDS
                .iter()
                .map(|kind| sector.map(|figure| cell(figure, figure, SECTOR, SECTOR, kind, language)))
                .collect(),
        });
        let mut dimension = "";
        for figure in of_measure.iter().filter(|f| !f["dimension"].is_null()) {
            let this = figure["dimension"].as_str().unwrap_or_default();
            if this != dimension {
                dimension = this;
                lines.push(Line {
                    label: dimension_label(dimension, language),
                    kind: "dimension",
                    cells: Vec::new(),
                });
            }
            let group = figure["group"]["code"].as_str().unwrap_or_default();
            lines.push(Line {
                label: label(&figure["group"], language),
                kind: "group",
                cells: FIGURE_KINDS
                    .iter()
                    .map(|kind| Some(cell(figure, figure, dimension, group, kind, language)))
                    .collect(),
            });
        }
    }
    lines
}

/// The peer table's lines: each ratio's groups, with the aggregate's column when the answer gives any.
fn peer_lines(figures: &[&Value], aggregates: bool, language: Language) -> Vec<PeerLine> {
    let kinds = if aggregates { &PEER_KINDS[..] } else { &PEER_KINDS[..4] };
    let mut lines = Vec::new();
    for figure in figures.iter().filter(|f| f["dimension"].is_null()) {
        let measure = &figure["measure"];
        let peers = figure["peers"].as_array().map(Vec::as_slice).unwrap_or_default();
        for (i, peer) in peers.iter().enumerate() {
            let group = peer["group"]["code"].as_str().unwrap_or_default();
            lines.push(PeerLine {
                ratio: (i == 0).then(|| measure_label(measure, language)),
                span: peers.len(),
                group: label(&peer["group"], language),
                small: peer["smallGroup"] == true && peer["suppressed"] != true,
                cells: kinds
                    .iter()
                    .map(|kind| cell(peer, figure, PEER_DIMENSION.code(), group, kind, language))
                    .collect(),
            });
        }
    }
    lines
}

/// A chart's category as its label area holds it: the table under the chart has the whole label.
fn shortened(label: String) -> String {
    const LONGEST: usize = 34;
    if label.chars().count() <= LONGEST {
        label
    } else {
        let kept: String = label.chars().take(LONGEST - 1).collect();
        format!("{}…", kept.trim_end())
    }
}

/// The charts of a section.
fn charts(section: NoteSection, figures: &[&Value], quarter: Period, language: Language) -> Vec<Chart> {
    let rtl = language == Language::Ar;
    let legend = |series: &[(RGBColor, Period)]| -> Vec<(String, String)> {
        series
            .iter()
            .map(|(color, period)| (hex(*color), quarter_name(*period, language)))
            .collect()
    };
    let mut charts = Vec::new();
    if section == NoteSection::FinancialPerformance {
        let headline: Vec<&Value> = HEADLINE_RATIOS
            .iter()
            .filter_map(|field| {
                figures
                    .iter()
                    .copied()
                    .find(|f| f["measure"]["field"] == *field && f["dimension"].is_null())
            })
            .collect();
        let series = |kind: &str, color: RGBColor| Series {
            color,
            values: headline.iter().map(|f| f[kind].as_f64()).collect(),
        };
        let svg = chart::bars(
            &headline
                .iter()
                .map(|f| label(&f["measure"], language))
                .collect::<Vec<_>>(),
            &[
                series("value", chart::MONTH),
                series("previousQuarter", PREVIOUS),
                series("sameQuarterPreviousYear", chart::YEAR_AGO),
            ],
            &|v| isolated(percent(v, 1, language), language),
            Some(100.0),
            rtl,
        );
        if let Some(svg) = svg {
            charts.push(Chart {
                svg,
                caption: language
                    .pick(
                        "Ratios clés du secteur (%) : le trimestre, le précédent et un an avant",
                        "النسب الرئيسية للقطاع (%): الفصل والفصل السابق وقبل سنة",
                        "The sector's headline ratios (%): the quarter, the one before and a year before",
                    )
                    .to_owned(),
                legend: legend(&[
                    (chart::MONTH, quarter),
                    (PREVIOUS, quarter.shift(-1)),
                    (chart::YEAR_AGO, quarter.shift(-4)),
                ]),
            });
        }
    }
    for (_, field, dimension) in BREAKDOWN_CHARTS.iter().filter(|(s, ..)| *s == section) {
        let groups: Vec<&Value> = figures
            .iter()
            .copied()
            .filter(|f| f["measure"]["field"] == *field && f["dimension"] == *dimension)
            .collect();
        let Some(first) = groups.first() else {
            continue;
        };
        let measure = &first["measure"];
        let unit = unit(measure);
        let svg = chart::bars(
            &groups
                .iter()
                .map(|f| shortened(label(&f["group"], language)))
                .collect::<Vec<_>>(),
            &[
                Series {
                    color: chart::MONTH,
                    values: groups.iter().map(|f| f["value"].as_f64()).collect(),
                },
                Series {
                    color: chart::YEAR_AGO,
                    values: groups.iter().map(|f| f["sameQuarterPreviousYear"].as_f64()).collect(),
                },
            ],
            &|v| isolated(format(v, unit, language), language),
            None,
            rtl,
        );
        if let Some(svg) = svg {
            charts.push(Chart {
                svg,
                caption: format!(
                    "{} — {}",
                    measure_label(measure, language),
                    dimension_label(dimension, language)
                ),
                legend: legend(&[(chart::MONTH, quarter), (chart::YEAR_AGO, quarter.shift(-4))]),
            });
        }
    }
    charts
}

/// The whole page of a `quarterlyNote` answer, read with `role`.
pub fn page(note: &Value, quarter: Period, language: Language, role: &str) -> Result<String, minijinja::Error> {
    let mut environment = minijinja::Environment::new();
    environment.add_template("note.html", TEMPLATE)?;
    let aggregates = note["figures"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|f| f["peers"].as_array().into_iter().flatten())
        .any(|p| !p["aggregate"].is_null());
    let sections: Vec<SectionView> = NoteSection::ALL
        .iter()
        .map(|section| {
            let figures = figures_of(note, *section);
            let [fr, ar, en] = section.titles();
            SectionView {
                code: section.code(),
                title: language.pick(fr, ar, en),
                charts: charts(*section, &figures, quarter, language),
                lines: lines(&figures, language),
                peers: peer_lines(&figures, aggregates, language),
            }
        })
        .collect();
    let any_hidden = sections
        .iter()
        .flat_map(|s| &s.lines)
        .flat_map(|l| l.cells.iter().flatten())
        .any(|c| c.suppressed);
    let peers_hidden = sections
        .iter()
        .flat_map(|s| &s.peers)
        .flat_map(|l| &l.cells)
        .any(|c| c.suppressed);
    let any_peers = sections.iter().any(|s| !s.peers.is_empty());
    let small_groups = sections.iter().flat_map(|s| &s.peers).any(|l| l.small);
    let t = |fr: &'static str, ar: &'static str, en: &'static str| language.pick(fr, ar, en);
    let coverage = |field: &str| {
        let of = &note[field];
        (
            of["reporting"].as_i64().unwrap_or_default(),
            of["expected"].as_i64().unwrap_or_default(),
        )
    };
    let (reports, reports_expected) = coverage("coverage");
    let (statements, statements_expected) = coverage("statementsCoverage");
    let name = quarter_name(quarter, language);
    let scheme = note["peerScheme"].as_str().unwrap_or_default();
    let columns: Vec<String> = vec![
        name.clone(),
        quarter_name(quarter.shift(-1), language),
        t("Variation trimestrielle", "التغير الفصلي", "Quarterly change").to_owned(),
        quarter_name(quarter.shift(-4), language),
        t("Variation sur un an", "التغير السنوي", "Year-on-year change").to_owned(),
    ];
    let mut peer_columns: Vec<&str> = vec![
        t("n", "العدد", "n"),
        t("P25", "الربيع الأول", "P25"),
        t("Médiane", "الوسيط", "Median"),
        t("P75", "الربيع الثالث", "P75"),
    ];
    if aggregates {
        peer_columns.push(t("Ratio des sommes", "نسبة المجاميع", "Ratio of sums"));
    }
    let context = minijinja::context! {
        lang => language.code(),
        dir => if language == Language::Ar { "rtl" } else { "ltr" },
        quarter => quarter.to_string(),
        layout => note["layout"].as_str().unwrap_or_default(),
        title => format!("{} — {name}", t("Note trimestrielle de la microfinance", "المذكرة الفصلية للقروض الصغرى", "Quarterly microfinance note")),
        observatory => t("Observatoire de la microfinance", "مرصد القروض الصغرى", "Microfinance Observatory"),
        role_label => t("Données lues avec le rôle", "البيانات مقروءة بصفة", "Figures read with the role"),
        role => role,
        reports => reports,
        reports_expected => reports_expected,
        reports_text => match language {
            Language::Fr => format!("Rapports mensuels : {reports} associations sur {reports_expected} attendues ont un rapport accepté pour chaque mois du trimestre."),
            Language::Ar => format!("التقارير الشهرية: {reports} جمعية من أصل {reports_expected} منتظرة لها تقرير مقبول عن كل شهر من الفصل."),
            Language::En => format!("Monthly reports: {reports} of the {reports_expected} associations expected have an accepted report for every month of the quarter."),
        },
        statements => statements,
        statements_expected => statements_expected,
        statements_text => match language {
            Language::Fr => format!("États financiers : {statements} associations sur {statements_expected} attendues ont un état accepté pour le trimestre."),
            Language::Ar => format!("القوائم المالية: {statements} جمعية من أصل {statements_expected} منتظرة لها قوائم مقبولة عن الفصل."),
            Language::En => format!("Financial statements: {statements} of the {statements_expected} associations expected have an accepted statement for the quarter."),
        },
        indicator_heading => t("Indicateur", "المؤشر", "Indicator"),
        columns => columns,
        peers_title => format!("{} ({scheme})", t("Quartiles des pairs par taille", "ربيعيات النظراء حسب الحجم", "Peer quartiles by scale")),
        ratio_heading => t("Ratio", "النسبة", "Ratio"),
        scale_heading => t("Taille", "الحجم", "Scale"),
        peer_columns => peer_columns,
        peers_note => t(
            "Pairs : n = associations du groupe ayant une valeur ; P25, médiane et P75 = quartiles de leurs valeurs.",
            "النظراء: العدد = جمعيات الفئة التي لها قيمة؛ الربيع الأول والوسيط والربيع الثالث = ربيعيات قيمها.",
            "Peers: n = the group's associations with a value; P25, median and P75 = the quartiles of their values.",
        ),
        any_peers => any_peers,
        peers_hidden => peers_hidden,
        peers_hidden_note => t(
            "— (pairs) : quartiles non communiqués pour un groupe trop petit (moins de 5 associations pour le public et les associations, moins de 3 pour les partenaires).",
            "— (النظراء): ربيعيات غير منشورة لفئة صغيرة جدا (أقل من 5 جمعيات للعموم والجمعيات، وأقل من 3 للشركاء).",
            "— (peers): quartiles withheld for a group too small (fewer than 5 associations for the public and associations, fewer than 3 for partners).",
        ),
        small_groups => small_groups,
        small_note => t(
            "* groupe de moins de 5 associations.",
            "* فئة تضم أقل من 5 جمعيات.",
            "* a group of fewer than 5 associations.",
        ),
        changes_note => t(
            "Variations : en points de pourcentage (pt) pour les taux et les parts, en pourcentage pour les montants, les effectifs et les autres rapports ; en vert quand l'indicateur s'améliore, en rouge quand il se dégrade.",
            "التغيرات: بالنقط المئوية (نقطة) للنسب والحصص، وبالنسبة المئوية للمبالغ والأعداد وباقي النسب؛ بالأخضر عندما يتحسن المؤشر وبالأحمر عندما يتراجع.",
            "Changes: in percentage points (pp) for rates and shares, in per cent for amounts, counts and other quotients; green when the indicator improves, red when it worsens.",
        ),
        hidden_note => hidden_note(language),
        any_hidden => any_hidden,
        missing_note => missing_note(language),
        empty_section => t("Aucun chiffre pour ce trimestre.", "لا أرقام لهذا الفصل.", "No figure for this quarter."),
        source_note => t(
            "Source : rapports mensuels et états financiers trimestriels des associations, calculés par l'API de l'Observatoire (quarterlyNote) avec les règles d'accès et de masquage du rôle ci-dessus.",
            "المصدر: التقارير الشهرية والقوائم المالية الفصلية للجمعيات، محسوبة بواجهة المرصد (quarterlyNote) وفق قواعد الولوج والحجب الخاصة بالصفة أعلاه.",
            "Source: the associations' monthly reports and quarterly financial statements, computed by the Observatory's API (quarterlyNote) with the access and hiding rules of the role above.",
        ),
        layout_note => format!("{} {}", t("Disposition", "التصميم", "Layout"), note["layout"].as_str().unwrap_or_default()),
        sections => minijinja::Value::from(minijinja::value::Serde(sections)),
    };
    environment.get_template("note.html")?.render(context)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn figure(field: &str, code: &str, unit: &str, dimension: Value, group: Value, value: Value) -> Value {
        json!({
            "section": "OUTREACH",
            "measure": { "code": code, "field": field, "unit": unit, "labelFr": "Clients actifs",
                         "labelAr": "الزبناء النشيطون", "labelEn": "Active clients", "betterWhen": "HIGHER" },
            "dimension": dimension, "group": group, "value": value, "previousQuarter": 5.0,
            "sameQuarterPreviousYear": null, "changeFromPreviousQuarter": 0.1 + 0.2,
            "changeFromPreviousYear": null, "suppressed": value.is_null(), "peers": null
        })
    }

    #[test]
    fn every_cell_says_what_it_shows_hidden_figures_are_dashes_and_missing_ones_na() {
        let note = json!({
            "layout": "QN-1", "quarter": "2020-Q4", "peerScheme": "MA-2020",
            "coverage": { "reporting": 12, "expected": 13 }, "statementsCoverage": { "reporting": 11, "expected": 13 },
            "figures": [
                figure("activeClients", "ACTIVE_CLIENTS", "COUNT", Value::Null, Value::Null, json!(868070.0)),
                figure("activeClients", "ACTIVE_CLIENTS", "COUNT", json!("AREA"),
                       json!({ "code": "RURAL", "labelFr": "Rural", "labelAr": "قروي", "labelEn": "Rural" }), Value::Null),
            ]
        });
        let quarter = Period::parse("2020-Q4").unwrap();
        let html = page(&note, quarter, Language::En, "public").unwrap();
        assert!(html.contains("<html lang=\"en\" dir=\"ltr\">"));
        assert!(html.contains(
            "data-section=\"OUTREACH\" data-measure=\"ACTIVE_CLIENTS\" data-dimension=\"_T\" data-group=\"_T\" data-kind=\"value\" \
             data-value=\"868070.0\">868,070<"
        ));
        assert!(html.contains("data-kind=\"changeFromPreviousQuarter\" data-value=\"0.30000000000000004\""));
        assert!(
            html.contains(
                "data-dimension=\"AREA\" data-group=\"RURAL\" data-kind=\"value\" data-suppressed=\"true\">—<"
            )
        );
        // A missing figure is `n/a`, its slash escaped as HTML.
        assert!(html.contains("data-kind=\"sameQuarterPreviousYear\">n&#x2f;a<"));
        assert!(html.contains("figure hidden to protect a small group"));
        assert!(html.contains("12 of the 13 associations expected"));
        assert!(html.contains("by area"));
        let arabic = page(&note, quarter, Language::Ar, "public").unwrap();
        assert!(arabic.contains("dir=\"rtl\""));
        assert!(arabic.contains("الفصل الرابع 2020"));
    }

    #[test]
    fn quarters_and_changes_are_written_as_each_language_does() {
        let quarter = Period::parse("2020-Q3").unwrap();
        assert_eq!(quarter_name(quarter, Language::Fr), "T3 2020");
        assert_eq!(quarter_name(quarter, Language::En), "Q3 2020");
        assert_eq!(quarter_name(quarter.shift(-1), Language::Ar), "الفصل الثاني 2020");
        assert_eq!(change_text(-0.265, Unit::Percent, Language::En), "−0.27 pp");
        assert_eq!(change_text(7.278, Unit::Count, Language::Fr), "+7,3\u{a0}%");
        assert_eq!(change_text(0.0, Unit::Count, Language::En), "0.0%");
    }
}
