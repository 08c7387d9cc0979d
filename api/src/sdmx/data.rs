//! SDMX data queries: a key and a period range become one `indicators` document, run through the same execution as
//! any GraphQL request (pricing, access, suppression, reuse); its rows become observations.

use super::structure::{AGENCY, Flow, VERSION, header, unit_code};
use super::xml::Xml;
use crate::indicator::catalog::{Dim, MEASURES, MeasureDef};
use crate::period::{Granularity, Month, Period};
use serde_json::Value;

/// What a key position asks for: the total (`_T`), some codes, or both.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    pub total: bool,
    /// SDMX codes; `None`: every code.
    pub codes: Option<Vec<String>>,
}

impl Selection {
    fn all() -> Self {
        Selection {
            total: true,
            codes: None,
        }
    }

    pub(crate) fn parse(part: &str, known: &[&str]) -> Result<Self, String> {
        if part.is_empty() || part == "*" {
            return Ok(Selection::all());
        }
        let mut selection = Selection {
            total: false,
            codes: Some(Vec::new()),
        };
        for code in part.split('+') {
            if code == "_T" {
                selection.total = true;
            } else if known.contains(&code) {
                selection.codes.get_or_insert_with(Vec::new).push(code.to_owned());
            } else {
                return Err(format!("`{code}` is not a code of this position of the key"));
            }
        }
        Ok(selection)
    }

    fn grouped(&self) -> bool {
        self.codes.as_ref().is_none_or(|c| !c.is_empty())
    }
}

/// A breakdown position of the key: its dimension, its selection, SDMX code ↔ the schema's code, its filter field.
type Position<'a> = (
    Dim,
    &'a Selection,
    &'static [(&'static str, &'static str)],
    &'static str,
);

/// A parsed data query.
#[derive(Debug, Clone)]
pub struct DataQuery {
    pub flow: &'static Flow,
    pub frequencies: Vec<Granularity>,
    pub areas: Selection,
    pub indicators: Vec<&'static MeasureDef>,
    /// One selection per breakdown position of the flow.
    pub breakdowns: Vec<Selection>,
    /// The financial flow's peer groups (`_T`: the sector) and statistics.
    pub peer_groups: Selection,
    pub statistics: Vec<&'static str>,
}

/// How a flow's key is written, for messages.
fn key_shape(flow: &Flow) -> String {
    let dimensions = flow.dimensions();
    format!(
        "a key of {} has {} positions ({})",
        flow.id,
        dimensions.len(),
        dimensions.iter().map(|(id, _)| *id).collect::<Vec<_>>().join(".")
    )
}

fn frequency_code(granularity: Granularity) -> &'static str {
    match granularity {
        Granularity::Month => "M",
        Granularity::Quarter => "Q",
        Granularity::Year => "A",
    }
}

/// Checks that a key is written as SDMX keys are: `all`, or the flow's positions separated by `.`, each empty or
/// codes joined by `+`, each code made of letters, digits, `_`, `@`, `$` and `-` (or `*`). The message says what is
/// wrong.
pub fn check_key_syntax(flow: &Flow, key: &str) -> Result<(), String> {
    if key.is_empty() || key == "all" {
        return Ok(());
    }
    let parts: Vec<&str> = key.split('.').collect();
    if parts.len() != flow.dimensions().len() {
        return Err(format!("{}, `{key}` has {}", key_shape(flow), parts.len()));
    }
    for (position, part) in parts.iter().enumerate().filter(|(_, part)| !part.is_empty()) {
        for code in part.split('+') {
            let well_formed = code == "*"
                || (!code.is_empty()
                    && code
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '@' | '$' | '-')));
            if !well_formed {
                return Err(format!(
                    "position {} of the key, `{part}`, is not codes joined by `+` (codes are made of letters, \
                     digits, `_`, `@`, `$` and `-`)",
                    position + 1
                ));
            }
        }
    }
    Ok(())
}

impl DataQuery {
    /// Reads a key (`M.MA-06+_T.PAR30_RATE...`, `all`, or empty positions for every code); `peer_groups` are the
    /// financial flow's peer-group codes.
    pub fn parse(flow: &'static Flow, key: &str, regions: &[String], peer_groups: &[String]) -> Result<Self, String> {
        let positions = flow.dimensions().len();
        let parts: Vec<&str> = if key.is_empty() || key == "all" {
            vec![""; positions]
        } else {
            key.split('.').collect()
        };
        if parts.len() != positions {
            return Err(format!("{}, `{key}` has {}", key_shape(flow), parts.len()));
        }
        let frequencies = if parts[0].is_empty() {
            if flow.financial {
                vec![Granularity::Quarter, Granularity::Year]
            } else {
                vec![Granularity::Month, Granularity::Quarter, Granularity::Year]
            }
        } else {
            parts[0]
                .split('+')
                .map(|f| match f {
                    "M" => Ok(Granularity::Month),
                    "Q" => Ok(Granularity::Quarter),
                    "A" => Ok(Granularity::Year),
                    other => Err(format!("`{other}` is not a frequency (M, Q or A)")),
                })
                .collect::<Result<_, _>>()?
        };
        let region_codes: Vec<&str> = regions.iter().map(String::as_str).collect();
        let indicators = if parts[2].is_empty() {
            MEASURES.iter().filter(|m| flow.carries(m)).collect()
        } else {
            parts[2]
                .split('+')
                .map(|code| match MEASURES.iter().find(|m| m.code == code) {
                    None => Err(format!("`{code}` is not an indicator code")),
                    Some(m) if !flow.carries(m) => Err(format!(
                        "`{code}` is not an indicator of {}: it has no breakdown by {}",
                        flow.id,
                        flow.requires.iter().map(|d| d.name()).collect::<Vec<_>>().join(", ")
                    )),
                    Some(m) => Ok(m),
                })
                .collect::<Result<_, _>>()?
        };
        let sdmx = |codes: &[(&'static str, &'static str)]| codes.iter().map(|(s, _)| *s).collect::<Vec<_>>();
        let (mut peer_selection, mut statistics) = (Selection::all(), Vec::new());
        if flow.financial {
            if frequencies.contains(&Granularity::Month) {
                return Err(format!(
                    "{} is quarterly (Q) and annual (A): the statements are quarterly",
                    flow.id
                ));
            }
            let areas = Selection::parse(parts[1], &region_codes)?;
            if areas.codes.as_ref().is_some_and(|c| !c.is_empty()) {
                return Err(format!("{} is national: REF_AREA is _T", flow.id));
            }
            let groups: Vec<&str> = peer_groups.iter().map(String::as_str).collect();
            peer_selection = Selection::parse(parts[3], &groups)?;
            let known: Vec<&str> = super::structure::STATISTICS.iter().map(|s| s.0).collect();
            statistics = if parts[4].is_empty() || parts[4] == "*" {
                known.clone()
            } else {
                parts[4]
                    .split('+')
                    .map(|code| {
                        known
                            .iter()
                            .find(|k| **k == code)
                            .copied()
                            .ok_or_else(|| format!("`{code}` is not a statistic ({})", known.join(", ")))
                    })
                    .collect::<Result<_, _>>()?
            };
        }
        Ok(DataQuery {
            flow,
            frequencies,
            peer_groups: peer_selection,
            statistics,
            areas: Selection::parse(parts[1], &region_codes)?,
            indicators,
            breakdowns: flow
                .breakdowns
                .iter()
                .zip(&parts[3..])
                .map(|(b, part)| Selection::parse(part, &sdmx(b.codes)))
                .collect::<Result<_, _>>()?,
        })
    }

    /// Each of the breakdown positions with its dimension, its selection and the schema's codes for its SDMX codes.
    fn positions(&self) -> Vec<Position<'_>> {
        let mut positions: Vec<Position<'_>> = vec![(Dim::Region, &self.areas, &[], "regions")];
        positions.extend(
            self.flow
                .breakdowns
                .iter()
                .zip(&self.breakdowns)
                .map(|(b, selection)| (b.dim, selection, b.codes, b.filter)),
        );
        positions
    }

    /// The GraphQL document computing every series asked for, from `first` to `last`: one `indicators` field per
    /// frequency and combination of totals and breakdowns, with the indicators that break down that way.
    pub fn document(&self, first: Month, last: Month) -> String {
        if self.flow.financial {
            return self.financial_document(first, last);
        }
        let mut fields = Vec::new();
        for granularity in &self.frequencies {
            let from = Period::containing(*granularity, first);
            let to = Period::containing(*granularity, last);
            let granularity_name = match granularity {
                Granularity::Month => "MONTH",
                Granularity::Quarter => "QUARTER",
                Granularity::Year => "YEAR",
            };
            let positions = self.positions();
            let row_fields: String = self.flow.breakdowns.iter().map(|b| format!(" {}", b.field)).collect();
            for combination in 0..(1_u32 << positions.len()) {
                let mut group_by = Vec::new();
                let mut filters = Vec::new();
                let mut possible = true;
                for (bit, (dim, selection, codes, filter)) in positions.iter().copied().enumerate() {
                    let grouped = combination & (1 << bit) != 0;
                    if grouped {
                        if !selection.grouped() {
                            possible = false;
                        }
                        group_by.push(dim.name());
                        if let Some(chosen) = &selection.codes {
                            let ours: Vec<String> = chosen
                                .iter()
                                .map(|c| {
                                    codes
                                        .iter()
                                        .find(|(s, _)| s == c)
                                        .map_or(c.clone(), |(_, o)| o.to_string())
                                })
                                .collect();
                            let list = ours
                                .iter()
                                .map(|c| {
                                    if dim == Dim::Region {
                                        format!("\"{c}\"")
                                    } else {
                                        c.clone()
                                    }
                                })
                                .collect::<Vec<_>>()
                                .join(", ");
                            filters.push(format!("{filter}: [{list}]"));
                        }
                    } else if !selection.total {
                        possible = false;
                    }
                }
                if !possible {
                    continue;
                }
                let grouped: Vec<Dim> = positions
                    .iter()
                    .enumerate()
                    .filter(|(bit, _)| combination & (1 << bit) != 0)
                    .map(|(_, p)| p.0)
                    .collect();
                let measures: Vec<String> = self
                    .indicators
                    .iter()
                    .filter(|m| grouped.iter().all(|d| m.dims().contains(d)))
                    .map(|m| format!("{}: {} {{ value suppressed }}", m.code, m.field))
                    .collect();
                if measures.is_empty() {
                    continue;
                }
                fields.push(format!(
                    "{}_{combination}: indicators(period: {{ from: \"{from}\", to: \"{to}\", granularity: \
                     {granularity_name} }}, groupBy: [{}], filter: {{ {} }}) {{ period region {{ code }}{row_fields} {} }}",
                    frequency_code(*granularity),
                    group_by.join(", ").to_uppercase(),
                    filters.join(", "),
                    measures.join(" ")
                ));
            }
        }
        format!("{{ {} }}", fields.join(" "))
    }
}

impl DataQuery {
    /// The peer dimensions the selected peer groups belong to (every one when none is named).
    fn peer_dimensions(&self) -> Vec<&'static str> {
        let all = crate::finance::peers::PeerDimension::ALL.map(|d| d.code());
        match &self.peer_groups.codes {
            None => all.to_vec(),
            Some(codes) => all
                .into_iter()
                .filter(|d| codes.iter().any(|c| c.starts_with(&format!("{d}_"))))
                .collect(),
        }
    }

    /// The financial flow's document: per frequency, the sector's ratios (`indicators`) when `_T` and `AGG` are asked
    /// for, and the peer groups' statistics (`peerBenchmarks`) when groups are.
    fn financial_document(&self, first: Month, last: Month) -> String {
        let mut fields = Vec::new();
        let codes: Vec<&str> = self.indicators.iter().map(|m| m.code).collect();
        for granularity in &self.frequencies {
            let from = Period::containing(*granularity, first);
            let to = Period::containing(*granularity, last);
            let granularity_name = if *granularity == Granularity::Year {
                "YEAR"
            } else {
                "QUARTER"
            };
            let frequency = frequency_code(*granularity);
            let period = format!("period: {{ from: \"{from}\", to: \"{to}\", granularity: {granularity_name} }}");
            if self.peer_groups.total && self.statistics.contains(&"AGG") && !codes.is_empty() {
                let measures: Vec<String> = self
                    .indicators
                    .iter()
                    .map(|m| format!("{}: {} {{ value suppressed }}", m.code, m.field))
                    .collect();
                fields.push(format!(
                    "{frequency}_S: indicators({period}) {{ period {} }}",
                    measures.join(" ")
                ));
            }
            let dimensions = self.peer_dimensions();
            if self.peer_groups.grouped() && !dimensions.is_empty() && !codes.is_empty() {
                fields.push(format!(
                    "{frequency}_P: peerBenchmarks({period}, measures: [{}], dimensions: [{}]) {{ period dimension \
                     measure group {{ code }} n p25 median p75 suppressed aggregate {{ value }} }}",
                    codes.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", "),
                    dimensions.join(", ")
                ));
            }
        }
        format!("{{ {} }}", fields.join(" "))
    }

    /// The financial flow's observations from its document's data, in key then period order: the sector's ratio of
    /// sums under `_T` and `AGG`, and each selected peer group's statistics (quartiles withheld from this caller, and
    /// a group's ratio of sums for the public, are confidential: `C`).
    pub fn financial_observations(&self, data: &Value) -> Vec<Observation> {
        let mut out = Vec::new();
        for (alias, rows) in data.as_object().into_iter().flatten() {
            let frequency = alias.split('_').next().unwrap_or("Q").to_owned();
            for row in rows.as_array().into_iter().flatten() {
                let period = row["period"].as_str().unwrap_or("").to_owned();
                if alias.ends_with("_S") {
                    for measure in &self.indicators {
                        let cell = &row[measure.code];
                        let confidential = cell["suppressed"].as_bool().unwrap_or(false);
                        let value = cell["value"].as_f64();
                        if value.is_none() && !confidential {
                            continue;
                        }
                        out.push(Observation {
                            key: vec![
                                frequency.clone(),
                                "_T".into(),
                                measure.code.to_owned(),
                                "_T".into(),
                                "AGG".into(),
                            ],
                            period: period.clone(),
                            value,
                            unit: unit_code(measure.unit),
                            confidential,
                            low_reliability: false,
                        });
                    }
                    continue;
                }
                let Some(measure) = MEASURES.iter().find(|m| Some(m.field) == row["measure"].as_str()) else {
                    continue;
                };
                let group = format!(
                    "{}_{}",
                    row["dimension"].as_str().unwrap_or(""),
                    row["group"]["code"].as_str().unwrap_or("")
                );
                if self
                    .peer_groups
                    .codes
                    .as_ref()
                    .is_some_and(|codes| !codes.contains(&group))
                {
                    continue;
                }
                let suppressed = row["suppressed"].as_bool().unwrap_or(false);
                for statistic in &self.statistics {
                    let (value, confidential, unit) = match *statistic {
                        "N" => (row["n"].as_f64(), false, "NUMBER"),
                        "AGG" => (
                            row["aggregate"]["value"].as_f64(),
                            row["aggregate"].is_null(),
                            unit_code(measure.unit),
                        ),
                        quartile => (
                            row[match quartile {
                                "P25" => "p25",
                                "P75" => "p75",
                                _ => "median",
                            }]
                            .as_f64(),
                            suppressed,
                            unit_code(measure.unit),
                        ),
                    };
                    if value.is_none() && !confidential {
                        continue;
                    }
                    out.push(Observation {
                        key: vec![
                            frequency.clone(),
                            "_T".into(),
                            measure.code.to_owned(),
                            group.clone(),
                            (*statistic).to_owned(),
                        ],
                        period: period.clone(),
                        value,
                        unit,
                        confidential,
                        low_reliability: false,
                    });
                }
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key).then(a.period.cmp(&b.period)));
        out
    }
}

/// One observation.
#[derive(Debug, Clone)]
pub struct Observation {
    /// Key values in the flow's dimension order: FREQ, REF_AREA, INDICATOR, then its breakdowns.
    pub key: Vec<String>,
    pub period: String,
    pub value: Option<f64>,
    pub unit: &'static str,
    pub confidential: bool,
    /// An estimate from few respondents (a survey's base under 50): status `U`.
    pub low_reliability: bool,
}

impl Observation {
    /// `C` when confidential, `U` when of low reliability, `A` otherwise.
    pub fn status(&self) -> &'static str {
        if self.confidential {
            "C"
        } else if self.low_reliability {
            "U"
        } else {
            "A"
        }
    }
}

/// The observations of an executed document's data, in key then period order.
pub fn observations(flow: &Flow, data: &Value) -> Vec<Observation> {
    let sdmx_of = |codes: &[(&str, &str)], ours: &Value| -> String {
        match ours.as_str() {
            None => "_T".to_owned(),
            Some(ours) => codes
                .iter()
                .find(|(_, o)| *o == ours)
                .map_or(ours.to_owned(), |(s, _)| s.to_string()),
        }
    };
    let mut out = Vec::new();
    for (alias, rows) in data.as_object().into_iter().flatten() {
        let frequency = alias.split('_').next().unwrap_or("M").to_owned();
        for row in rows.as_array().into_iter().flatten() {
            let area = row["region"]["code"].as_str().unwrap_or("_T").to_owned();
            for measure in MEASURES {
                let Some(cell) = row.get(measure.code) else { continue };
                if cell.is_null() {
                    continue;
                }
                let confidential = cell["suppressed"].as_bool().unwrap_or(false);
                let value = cell["value"].as_f64();
                if value.is_none() && !confidential {
                    continue;
                }
                let mut key = vec![frequency.clone(), area.clone(), measure.code.to_owned()];
                key.extend(flow.breakdowns.iter().map(|b| sdmx_of(b.codes, &row[b.field])));
                out.push(Observation {
                    key,
                    period: row["period"].as_str().unwrap_or("").to_owned(),
                    value,
                    unit: unit_code(measure.unit),
                    confidential,
                    low_reliability: false,
                });
            }
        }
    }
    out.sort_by(|a, b| a.key.cmp(&b.key).then(a.period.cmp(&b.period)));
    out
}

/// A value as SDMX writes it: up to 6 decimals, no trailing zeros.
fn number(value: f64) -> String {
    let text = format!("{value:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" { "0".to_owned() } else { text.to_owned() }
}

/// The observations grouped by series (they come sorted by key): each series' first observation, then its observations.
fn series(observations: &[Observation]) -> impl Iterator<Item = (&Observation, &[Observation])> {
    observations
        .chunk_by(|a, b| a.key == b.key)
        .map(|series| (&series[0], series))
}

/// An observation's value as written (`NaN` when confidential) and its status.
fn value_and_status(observation: &Observation) -> (String, &'static str) {
    (observation.value.map_or("NaN".to_owned(), number), observation.status())
}

/// SDMX-ML 2.1 generic data.
pub fn generic_xml(flow: &Flow, observations: &[Observation], prepared: &str) -> String {
    const ROOT: &str = "message:GenericData";
    let mut xml = Xml::message(
        ROOT,
        &[
            (
                "xmlns:message",
                "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message",
            ),
            (
                "xmlns:generic",
                "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/generic",
            ),
            (
                "xmlns:common",
                "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common",
            ),
        ],
    );
    header(&mut xml, "message", prepared);
    xml.open(
        "message:Structure",
        &[("structureID", flow.id), ("dimensionAtObservation", "TIME_PERIOD")],
    )
    .open("common:Structure", &[])
    .empty("Ref", &[("agencyID", AGENCY), ("id", flow.dsd), ("version", VERSION)])
    .close("common:Structure")
    .close("message:Structure")
    .close("message:Header")
    .open("message:DataSet", &[("structureRef", flow.id)]);
    let dimensions = flow.dimensions();
    let value = |xml: &mut Xml, id: &str, value: &str| {
        xml.empty("generic:Value", &[("id", id), ("value", value)]);
    };
    for (first, observations) in series(observations) {
        xml.open("generic:Series", &[]).open("generic:SeriesKey", &[]);
        for ((id, _), code) in dimensions.iter().zip(&first.key) {
            value(&mut xml, id, code);
        }
        xml.close("generic:SeriesKey").open("generic:Attributes", &[]);
        value(&mut xml, "UNIT_MEASURE", first.unit);
        value(&mut xml, "UNIT_MULT", "0");
        xml.close("generic:Attributes");
        for observation in observations {
            let (obs_value, status) = value_and_status(observation);
            xml.open("generic:Obs", &[])
                .empty("generic:ObsDimension", &[("value", &observation.period)])
                .empty("generic:ObsValue", &[("value", &obs_value)])
                .open("generic:Attributes", &[]);
            value(&mut xml, "OBS_STATUS", status);
            xml.close("generic:Attributes").close("generic:Obs");
        }
        xml.close("generic:Series");
    }
    xml.close("message:DataSet");
    xml.finish(ROOT)
}

/// How SDMX-CSV writes codes: the code alone, or `CODE: Label`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvLabels {
    Id,
    Both(crate::labels::Language),
}

/// SDMX-CSV 1.0: `DATAFLOW` first, one line per observation, every column text.
pub fn csv(
    flow: &Flow,
    observations: &[Observation],
    labels: CsvLabels,
    codelists: &[super::structure::Codelist],
    bom: bool,
) -> Vec<u8> {
    let language = match labels {
        CsvLabels::Both(language) => Some(language),
        CsvLabels::Id => None,
    };
    let pick = |names: &super::structure::Names| match language {
        Some(crate::labels::Language::Ar) => names[1].clone(),
        Some(crate::labels::Language::En) => names[2].clone(),
        _ => names[0].clone(),
    };
    let concept = |id: &str| {
        let name = super::structure::CONCEPT_NAMES.iter().find(|c| c.0 == id);
        match (language, name) {
            (Some(_), Some((id, fr, ar, en))) => {
                format!("{id}: {}", pick(&[fr.to_string(), ar.to_string(), en.to_string()]))
            }
            _ => id.to_owned(),
        }
    };
    let coded = |list: &str, code: &str| -> String {
        if language.is_none() {
            return code.to_owned();
        }
        codelists
            .iter()
            .find(|l| l.id == list)
            .and_then(|l| l.codes.iter().find(|(c, _)| c == code))
            .map_or(code.to_owned(), |(_, names)| format!("{code}: {}", pick(names)))
    };
    let mut writer = csv::WriterBuilder::new().from_writer(Vec::new());
    let mut header = vec!["DATAFLOW".to_owned()];
    let dimensions = flow.dimensions();
    header.extend(dimensions.iter().map(|(id, _)| concept(id)));
    for id in ["TIME_PERIOD", "OBS_VALUE", "UNIT_MEASURE", "UNIT_MULT", "OBS_STATUS"] {
        header.push(concept(id));
    }
    let _ = writer.write_record(&header);
    let reference = format!("{AGENCY}:{}({VERSION})", flow.id);
    for observation in observations {
        let mut record = vec![reference.clone()];
        for ((_, list), value) in dimensions.iter().zip(&observation.key) {
            record.push(coded(list, value));
        }
        record.push(observation.period.clone());
        record.push(observation.value.map(number).unwrap_or_default());
        record.push(coded("CL_UNIT", observation.unit));
        record.push("0".to_owned());
        record.push(coded("CL_OBS_STATUS", observation.status()));
        let _ = writer.write_record(&record);
    }
    let mut bytes = if bom { vec![0xEF, 0xBB, 0xBF] } else { Vec::new() };
    bytes.extend(writer.into_inner().unwrap_or_default());
    bytes
}

/// SDMX-ML 2.1 structure-specific data (what clients holding the data structure ask for).
pub fn structure_specific_xml(flow: &Flow, observations: &[Observation], prepared: &str) -> String {
    const ROOT: &str = "message:StructureSpecificData";
    let dsd = flow.dsd;
    let structure = format!("{AGENCY}_{dsd}_{}", VERSION.replace('.', "_"));
    let namespace = format!(
        "urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure={AGENCY}:{dsd}({VERSION}):ObsLevelDim:TIME_PERIOD"
    );
    let mut xml = Xml::message(
        ROOT,
        &[
            (
                "xmlns:message",
                "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message",
            ),
            (
                "xmlns:ss",
                "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/structurespecific",
            ),
            (
                "xmlns:common",
                "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common",
            ),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            ("xmlns:ns1", &namespace),
        ],
    );
    header(&mut xml, "message", prepared);
    xml.open(
        "message:Structure",
        &[
            ("structureID", &structure),
            ("namespace", &namespace),
            ("dimensionAtObservation", "TIME_PERIOD"),
        ],
    )
    .open("common:Structure", &[])
    .empty("Ref", &[("agencyID", AGENCY), ("id", dsd), ("version", VERSION)])
    .close("common:Structure")
    .close("message:Structure")
    .close("message:Header")
    .open(
        "message:DataSet",
        &[
            ("ss:structureRef", &structure),
            ("xsi:type", "ns1:DataSetType"),
            ("ss:dataScope", "DataStructure"),
        ],
    );
    let dimensions = flow.dimensions();
    for (first, observations) in series(observations) {
        let mut attributes: Vec<(&str, &str)> = dimensions
            .iter()
            .zip(&first.key)
            .map(|((id, _), code)| (*id, code.as_str()))
            .collect();
        attributes.extend([("UNIT_MEASURE", first.unit), ("UNIT_MULT", "0")]);
        xml.open("Series", &attributes);
        for observation in observations {
            let (value, status) = value_and_status(observation);
            xml.empty(
                "Obs",
                &[
                    ("TIME_PERIOD", &observation.period),
                    ("OBS_VALUE", &value),
                    ("OBS_STATUS", status),
                ],
            );
        }
        xml.close("Series");
    }
    xml.close("message:DataSet");
    xml.finish(ROOT)
}
