//! The monthly dashboard as one self-contained HTML page (`GET /dashboards/{month}`): four blocks (targets,
//! disbursements, collections, outstanding), each sector-wide and by every breakdown of `BREAKDOWNS`, each figure
//! against the previous month, the same month a year before and its target where the catalogue has one.
//!
//! Below the HTTP layer the dashboard only writes an `indicators` document (`document`), reads the answer the
//! service's one request pipeline gave it (`Figures::read`) and renders it (`render`, `chart`). It computes no
//! figure and decides no access or hiding of its own: whatever `indicators` answers the caller is what the page shows.

pub mod chart;
pub mod link;
pub mod render;
pub mod routes;

use crate::indicator::catalog::{Dim, MEASURES, MeasureDef};
use crate::labels::Language;
use crate::period::Month;
use serde_json::Value;
use std::collections::HashMap;

/// The breakdowns of every block, in the page's order: each is one more grouping of the same `indicators` fields,
/// and one more table of each block.
pub const BREAKDOWNS: &[Grouping] = &[Grouping::Region, Grouping::Activity];

/// A grouping of the figures: sector-wide, or one of the breakdowns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Grouping {
    Sector,
    Region,
    Activity,
}

impl Grouping {
    /// The name of its fields in the document and of its cells in the page (`data-grouping`).
    pub fn name(self) -> &'static str {
        match self {
            Grouping::Sector => "sector",
            Grouping::Region => "region",
            Grouping::Activity => "activity",
        }
    }

    /// The `groupBy` argument of its `indicators` fields.
    fn group_by(self) -> &'static str {
        match self {
            Grouping::Sector => "[]",
            Grouping::Region => "[REGION]",
            Grouping::Activity => "[ACTIVITY]",
        }
    }

    /// What its rows say about their group.
    fn selection(self) -> &'static str {
        match self {
            Grouping::Sector => "",
            Grouping::Region => "region { code nameFr nameAr nameEn }",
            Grouping::Activity => "activity",
        }
    }

    /// The heading of its tables' first column.
    pub fn heading(self, language: Language) -> &'static str {
        match self {
            Grouping::Sector => language.pick("Ensemble du secteur", "مجموع القطاع", "Whole sector"),
            Grouping::Region => language.pick("Région", "الجهة", "Region"),
            Grouping::Activity => language.pick("Activité économique", "النشاط الاقتصادي", "Economic activity"),
        }
    }

    /// A row's group code and its labels (fr, ar, en), from the row itself or the code lists.
    fn group_of(self, row: &Value) -> Option<(String, [String; 3])> {
        match self {
            Grouping::Sector => Some((SECTOR.to_owned(), ["Maroc".into(), "المغرب".into(), "Morocco".into()])),
            Grouping::Region => {
                let region = &row["region"];
                let text = |field: &str| region[field].as_str().unwrap_or_default().to_owned();
                Some((text("code"), [text("nameFr"), text("nameAr"), text("nameEn")]))
                    .filter(|(code, _)| !code.is_empty())
            }
            Grouping::Activity => {
                let code = row["activity"].as_str()?;
                let labels = crate::labels::code_of("ACTIVITY", code);
                let label = |pick: fn(&crate::labels::Code) -> &'static str| {
                    labels.as_ref().map_or(code.to_owned(), |l| pick(l).to_owned())
                };
                Some((code.to_owned(), [label(|l| l.fr), label(|l| l.ar), label(|l| l.en)]))
            }
        }
    }
}

/// The group code of the sector-wide row (as in SDMX, the total).
pub const SECTOR: &str = "_T";

/// One block of the page.
pub struct Block {
    /// Its identifier in the page (`data-block`).
    pub id: &'static str,
    /// Its title in French, Arabic and English.
    pub title: [&'static str; 3],
    /// The measures it shows (fields of `IndicatorRow`), those of them the catalogue has; empty: every measure the
    /// catalogue sets targets for.
    fields: &'static [&'static str],
    /// Whether it is broken down by `BREAKDOWNS` (else sector-wide only).
    pub broken_down: bool,
}

impl Block {
    /// The block's measures, from the catalogue.
    pub fn measures(&self) -> Vec<&'static MeasureDef> {
        if self.fields.is_empty() {
            MEASURES.iter().filter(|m| m.target.is_some()).collect()
        } else {
            self.fields
                .iter()
                .filter_map(|field| MEASURES.iter().find(|m| m.field == *field))
                .collect()
        }
    }

    pub fn title(&self, language: Language) -> &'static str {
        language.pick(self.title[0], self.title[1], self.title[2])
    }
}

/// The page's blocks, in order. Collections show the amount collected where the catalogue has it as a measure, and
/// the collection rate.
pub const BLOCKS: &[Block] = &[
    Block {
        id: "targets",
        title: [
            "Ciblage : réalisations et objectifs",
            "تحقيق الأهداف: الإنجازات والأهداف",
            "Targets: figures against objectives",
        ],
        fields: &[],
        broken_down: false,
    },
    Block {
        id: "disbursements",
        title: ["Décaissements", "القروض الممنوحة", "Disbursements"],
        fields: &["disbursedCount", "disbursedAmount"],
        broken_down: true,
    },
    Block {
        id: "collections",
        title: ["Recouvrement", "الاستخلاص", "Collections"],
        fields: &["repaymentsCollected", "collectionRate"],
        broken_down: true,
    },
    Block {
        id: "outstanding",
        title: ["Encours", "جاري القروض", "Outstanding portfolio"],
        fields: &["outstandingAmount", "activeLoans", "par30Rate"],
        broken_down: true,
    },
];

/// Every measure some block shows, once, in the blocks' order.
fn all_measures() -> Vec<&'static MeasureDef> {
    let mut measures: Vec<&'static MeasureDef> = Vec::new();
    for block in BLOCKS {
        for measure in block.measures() {
            if !measures.iter().any(|m| m.field == measure.field) {
                measures.push(measure);
            }
        }
    }
    measures
}

/// The groupings the document asks for: sector-wide, then every breakdown.
fn groupings() -> impl Iterator<Item = Grouping> {
    std::iter::once(Grouping::Sector).chain(BREAKDOWNS.iter().copied())
}

/// The comparisons each grouping is asked with, by the suffix of its fields' aliases.
const COMPARISONS: [(&str, &str); 2] = [("", "PREVIOUS_PERIOD"), ("YearAgo", "SAME_PERIOD_PREVIOUS_YEAR")];

/// The `indicators` document of a month's dashboard: for each grouping, one field compared with the previous month
/// (with targets where the measure has them: sector-wide, by region and by activity where set) and one compared with
/// the same month a year before.
pub fn document(month: Month) -> String {
    let measures = all_measures();
    let mut document = String::from("query Dashboard {\n");
    for grouping in groupings() {
        for (suffix, comparison) in COMPARISONS {
            let selection: Vec<String> = measures
                .iter()
                .filter(|m| grouping != Grouping::Activity || m.dims().contains(&Dim::Activity))
                .map(|m| {
                    let parts = match (suffix, grouping, m.target.is_some()) {
                        ("", _, true) => "value previous suppressed target targetAchievement",
                        ("", _, _) => "value previous suppressed",
                        _ => "previous suppressed",
                    };
                    format!("{} {{ {parts} }}", m.field)
                })
                .collect();
            document.push_str(&format!(
                "  {}{suffix}: indicators(period: {{ from: \"{month}\", to: \"{month}\" }}, groupBy: {}, compareTo: \
                 {comparison}) {{ {} {} }}\n",
                grouping.name(),
                grouping.group_by(),
                grouping.selection(),
                selection.join(" ")
            ));
        }
    }
    document.push('}');
    document
}

/// One measure of one group, as `indicators` answered it (`None`: null in the answer).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figure {
    pub value: Option<f64>,
    pub previous: Option<f64>,
    pub year_ago: Option<f64>,
    pub target: Option<f64>,
    pub achievement: Option<f64>,
    /// The value is hidden to protect a small group.
    pub suppressed: bool,
}

/// One group's figures.
#[derive(Debug, Clone)]
pub struct Row {
    /// The group's code (`SECTOR` sector-wide).
    pub code: String,
    /// Its labels in French, Arabic and English.
    pub labels: [String; 3],
    /// By measure field.
    pub figures: HashMap<&'static str, Figure>,
}

impl Row {
    pub fn label(&self, language: Language) -> &str {
        language.pick(&self.labels[0], &self.labels[1], &self.labels[2])
    }

    pub fn figure(&self, field: &str) -> Figure {
        self.figures.get(field).cloned().unwrap_or_default()
    }
}

/// The figures of a month's dashboard, read from the answer to its document.
#[derive(Debug, Clone)]
pub struct Figures {
    pub month: Month,
    /// The sector-wide row, when there is one.
    pub sector: Option<Row>,
    /// The rows of every breakdown, in `BREAKDOWNS`' order, each in the answer's order.
    pub breakdowns: Vec<(Grouping, Vec<Row>)>,
}

impl Figures {
    /// Reads the `data` of the answer to `document(month)`.
    pub fn read(month: Month, data: &Value) -> Figures {
        let measures = all_measures();
        let rows_of = |grouping: Grouping| -> Vec<Row> {
            let mut rows: Vec<Row> = Vec::new();
            for (suffix, _) in COMPARISONS {
                let answer = data[format!("{}{suffix}", grouping.name())].as_array();
                for item in answer.into_iter().flatten() {
                    let Some((code, labels)) = grouping.group_of(item) else {
                        continue;
                    };
                    let index = match rows.iter().position(|r| r.code == code) {
                        Some(index) => index,
                        None => {
                            rows.push(Row {
                                code,
                                labels,
                                figures: HashMap::new(),
                            });
                            rows.len() - 1
                        }
                    };
                    for m in &measures {
                        let answered = &item[m.field];
                        if answered.is_null() {
                            continue;
                        }
                        let figure = rows[index].figures.entry(m.field).or_default();
                        if suffix.is_empty() {
                            figure.value = answered["value"].as_f64();
                            figure.previous = answered["previous"].as_f64();
                            figure.target = answered["target"].as_f64();
                            figure.achievement = answered["targetAchievement"].as_f64();
                            figure.suppressed |= answered["suppressed"].as_bool().unwrap_or(false);
                        } else {
                            figure.year_ago = answered["previous"].as_f64();
                            figure.suppressed |= answered["suppressed"].as_bool().unwrap_or(false);
                        }
                    }
                }
            }
            rows
        };
        let sector = rows_of(Grouping::Sector).into_iter().next();
        let breakdowns = BREAKDOWNS.iter().map(|g| (*g, rows_of(*g))).collect();
        Figures {
            month,
            sector,
            breakdowns,
        }
    }

    /// Whether the caller is shown anything of the month: a figure, or a figure hidden to protect a small group.
    /// A month the caller may not read (not released, for most callers) or that nobody reported shows nothing.
    pub fn shown(&self) -> bool {
        self.sector
            .as_ref()
            .is_some_and(|row| row.figures.values().any(|f| f.value.is_some() || f.suppressed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_asks_every_grouping_with_both_comparisons_and_targets_where_measures_have_them() {
        let document = document(Month(202012));
        let fields = document.matches("indicators(").count();
        assert_eq!(fields, 2 * (1 + BREAKDOWNS.len()));
        assert!(document.contains("sector: indicators(period: { from: \"2020-12\", to: \"2020-12\" }, groupBy: []"));
        assert!(document.contains("regionYearAgo: indicators("));
        assert!(document.contains("compareTo: SAME_PERIOD_PREVIOUS_YEAR"));
        let region_line = document
            .lines()
            .find(|l| l.trim_start().starts_with("region:"))
            .unwrap();
        assert!(
            region_line.contains("disbursedAmount { value previous suppressed target targetAchievement }"),
            "regional targets: {region_line}"
        );
        assert!(
            region_line.contains("par30Rate { value previous suppressed }"),
            "no target for a measure without: {region_line}"
        );
        let activity_line = document
            .lines()
            .find(|l| l.trim_start().starts_with("activity:"))
            .unwrap();
        assert!(
            !activity_line.contains("newClients"),
            "only the measures the loans by activity carry: {activity_line}"
        );
        let sector_line = document
            .lines()
            .find(|l| l.trim_start().starts_with("sector:"))
            .unwrap();
        assert!(sector_line.contains("disbursedAmount { value previous suppressed target targetAchievement }"));
    }

    #[test]
    fn every_block_shows_its_measures_and_activity_rows_read_their_labels() {
        let shown = |id: &str| -> Vec<&str> {
            let block = BLOCKS.iter().find(|b| b.id == id).unwrap();
            block.measures().iter().map(|m| m.field).collect()
        };
        assert_eq!(
            shown("targets"),
            [
                "newClients",
                "disbursedCount",
                "disbursedAmount",
                "outstandingAmount",
                "repaymentsCollected"
            ]
        );
        assert_eq!(shown("disbursements"), ["disbursedCount", "disbursedAmount"]);
        assert!(shown("collections").ends_with(&["collectionRate"]));
        assert_eq!(shown("outstanding"), ["outstandingAmount", "activeLoans", "par30Rate"]);
        let row = serde_json::json!({ "activity": "COMMERCE" });
        let (code, labels) = Grouping::Activity.group_of(&row).unwrap();
        assert_eq!(code, "COMMERCE");
        assert_eq!(labels[2], crate::labels::code_of("ACTIVITY", "COMMERCE").unwrap().en);
    }

    #[test]
    fn a_year_ago_field_fills_the_same_rows() {
        let data = serde_json::json!({
            "sector": [{ "disbursedAmount": { "value": 5.0, "previous": 4.0, "suppressed": false, "target": 10.0, "targetAchievement": 50.0 } }],
            "sectorYearAgo": [{ "disbursedAmount": { "previous": 3.0, "suppressed": false } }],
            "region": [{ "region": { "code": "MA-01", "nameFr": "a", "nameAr": "b", "nameEn": "c" },
                         "disbursedAmount": { "value": null, "previous": null, "suppressed": true } }],
            "regionYearAgo": [],
        });
        let figures = Figures::read(Month(202012), &data);
        assert!(figures.shown());
        let sector = figures.sector.unwrap().figure("disbursedAmount");
        assert_eq!(
            sector,
            Figure {
                value: Some(5.0),
                previous: Some(4.0),
                year_ago: Some(3.0),
                target: Some(10.0),
                achievement: Some(50.0),
                suppressed: false
            }
        );
        let region = &figures.breakdowns[0].1[0];
        assert_eq!(region.label(Language::Ar), "b");
        assert!(region.figure("disbursedAmount").suppressed);
        let nothing = Figures::read(Month(202101), &serde_json::json!({ "sector": [], "sectorYearAgo": [] }));
        assert!(!nothing.shown());
    }
}
