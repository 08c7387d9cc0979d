//! The survey results' dataflow `SURVEY`: a key (`SURVEY.QUESTION.RESPONSE.REF_AREA.SEX.URBANISATION.STAFF_LEVEL.
//! STATISTIC`) becomes one document of `surveyResults` fields (one per survey and combination of the groupings the
//! key asks for), run through the request pipeline as any query, so that access and the small-base rules are
//! `surveyResults`'; its rows become observations (withheld ones `C`, estimates from fewer than 50 respondents `U`).

use super::data::{Observation, Selection};
use super::structure::{SEX_CODES, SURVEY_STATISTICS, SurveyCodes, URBANISATION_CODES};
use serde_json::Value;

/// A parsed survey key.
#[derive(Debug, Clone)]
pub struct SurveyQuery {
    pub surveys: Vec<String>,
    pub questions: Selection,
    pub responses: Selection,
    pub areas: Selection,
    pub sexes: Selection,
    pub urbanisation: Selection,
    pub staff_levels: Selection,
    pub statistics: Vec<&'static str>,
}

/// The groupings the flow's positions REF_AREA, SEX, URBANISATION and STAFF_LEVEL stand for, in key order.
const GROUPINGS: [Grouping; 4] = [
    ("REGION", "region", &[]),
    ("GENDER", "gender", SEX_CODES),
    ("AREA", "area", URBANISATION_CODES),
    ("STAFF_LEVEL", "staffLevel", &[]),
];

/// A grouping of the survey flow: `surveyResults`' dimension, the row's group field, SDMX ↔ our codes.
type Grouping = (&'static str, &'static str, &'static [(&'static str, &'static str)]);

impl SurveyQuery {
    /// Reads a key of 8 positions (`all` or empty positions: every code and the total).
    pub fn parse(key: &str, codes: &SurveyCodes, regions: &[String]) -> Result<SurveyQuery, String> {
        let parts: Vec<&str> = if key.is_empty() || key == "all" {
            vec![""; 8]
        } else {
            key.split('.').collect()
        };
        if parts.len() != 8 {
            return Err(format!(
                "a key of SURVEY has 8 positions (SURVEY.QUESTION.RESPONSE.REF_AREA.SEX.URBANISATION.STAFF_LEVEL.\
                 STATISTIC), `{key}` has {}",
                parts.len()
            ));
        }
        let ids = |list: &[(String, super::structure::Names)]| list.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>();
        let known_surveys = ids(&codes.surveys);
        let surveys = if parts[0].is_empty() {
            known_surveys.clone()
        } else {
            parts[0]
                .split('+')
                .map(|s| {
                    known_surveys
                        .iter()
                        .find(|k| *k == s)
                        .cloned()
                        .ok_or_else(|| format!("`{s}` is not a survey"))
                })
                .collect::<Result<_, _>>()?
        };
        let of = |part: &str, known: Vec<String>| {
            let known: Vec<&str> = known.iter().map(String::as_str).collect();
            Selection::parse(part, &known)
        };
        let sdmx = |codes: &[(&str, &str)]| codes.iter().map(|(s, _)| s.to_string()).collect::<Vec<_>>();
        let staff: Vec<String> = super::structure::STAFF_LEVELS.iter().map(|s| s.0.to_owned()).collect();
        let known_statistics: Vec<&'static str> = SURVEY_STATISTICS.iter().map(|s| s.0).collect();
        let statistics = if parts[7].is_empty() {
            known_statistics.clone()
        } else {
            parts[7]
                .split('+')
                .map(|s| {
                    known_statistics
                        .iter()
                        .find(|k| **k == s)
                        .copied()
                        .ok_or_else(|| format!("`{s}` is not a statistic ({})", known_statistics.join(", ")))
                })
                .collect::<Result<_, _>>()?
        };
        Ok(SurveyQuery {
            surveys,
            questions: of(parts[1], ids(&codes.questions))?,
            responses: of(parts[2], ids(&codes.responses))?,
            areas: of(parts[3], regions.to_vec())?,
            sexes: of(parts[4], sdmx(SEX_CODES))?,
            urbanisation: of(parts[5], sdmx(URBANISATION_CODES))?,
            staff_levels: of(parts[6], staff)?,
            statistics,
        })
    }

    fn selections(&self) -> [&Selection; 4] {
        [&self.areas, &self.sexes, &self.urbanisation, &self.staff_levels]
    }

    /// The document: for each survey, one `surveyResults` field per combination of totals and groupings the key asks
    /// for.
    pub fn document(&self) -> String {
        let mut fields = vec!["surveys { code fieldworkTo }".to_owned()];
        for (s, survey) in self.surveys.iter().enumerate() {
            for combination in 0..(1u32 << GROUPINGS.len()) {
                let mut group_by = Vec::new();
                let mut possible = true;
                for (bit, ((dimension, _, _), selection)) in GROUPINGS.iter().zip(self.selections()).enumerate() {
                    if combination & (1 << bit) != 0 {
                        possible &= selection.codes.as_ref().is_none_or(|c| !c.is_empty());
                        group_by.push(*dimension);
                    } else {
                        possible &= selection.total;
                    }
                }
                if !possible {
                    continue;
                }
                fields.push(format!(
                    "s{s}_{combination}: surveyResults(survey: \"{survey}\", groupBy: [{}]) {{ question \
                     group {{ region gender area staffLevel }} base weightedBase suppressed lowReliability \
                     options {{ code share ciLow ciHigh }} nets {{ code share ciLow ciHigh }} }}",
                    group_by.join(", ")
                ));
            }
        }
        format!("{{ {} }}", fields.join(" "))
    }

    /// The observations of the document's data, in key then period order.
    pub fn observations(&self, data: &Value) -> Vec<Observation> {
        let years: std::collections::HashMap<String, String> = data["surveys"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                (
                    s["code"].as_str().unwrap_or("").to_owned(),
                    s["fieldworkTo"].as_str().unwrap_or("").chars().take(4).collect(),
                )
            })
            .collect();
        let chosen = |selection: &Selection, code: &str| match code {
            "_T" => selection.total,
            code => selection.codes.as_ref().is_none_or(|c| c.iter().any(|x| x == code)),
        };
        let mut out = Vec::new();
        for (alias, rows) in data.as_object().into_iter().flatten() {
            let Some(index) = alias
                .strip_prefix('s')
                .and_then(|rest| rest.split('_').next())
                .and_then(|i| i.parse::<usize>().ok())
            else {
                continue;
            };
            let survey = &self.surveys[index];
            let period = years.get(survey).cloned().unwrap_or_default();
            for row in rows.as_array().into_iter().flatten() {
                let question = row["question"].as_str().unwrap_or("");
                if !chosen(&self.questions, question) {
                    continue;
                }
                let mut key_groups = Vec::new();
                for (_, field, codes) in GROUPINGS {
                    let ours = row["group"][field].as_str();
                    key_groups.push(match ours {
                        None => "_T".to_owned(),
                        Some(ours) => codes
                            .iter()
                            .find(|(_, o)| *o == ours)
                            .map_or(ours.to_owned(), |(s, _)| s.to_string()),
                    });
                }
                if !key_groups
                    .iter()
                    .zip(self.selections())
                    .all(|(code, selection)| chosen(selection, code))
                {
                    continue;
                }
                let suppressed = row["suppressed"].as_bool().unwrap_or(false);
                let low = row["lowReliability"].as_bool().unwrap_or(false);
                let estimates = row["options"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .chain(row["nets"].as_array().into_iter().flatten());
                for estimate in estimates {
                    let response = estimate["code"].as_str().unwrap_or("");
                    if !chosen(&self.responses, response) {
                        continue;
                    }
                    for statistic in &self.statistics {
                        let (value, unit) = match *statistic {
                            "SHARE" => (estimate["share"].as_f64(), "PC"),
                            "CI_LOW" => (estimate["ciLow"].as_f64(), "PC"),
                            "CI_HIGH" => (estimate["ciHigh"].as_f64(), "PC"),
                            "BASE_N" => (row["base"].as_f64(), "NUMBER"),
                            _ => (row["weightedBase"].as_f64(), "NUMBER"),
                        };
                        if value.is_none() && !suppressed {
                            continue;
                        }
                        let mut key = vec![survey.clone(), question.to_owned(), response.to_owned()];
                        key.extend(key_groups.iter().cloned());
                        key.push((*statistic).to_owned());
                        out.push(Observation {
                            key,
                            period: period.clone(),
                            value,
                            unit,
                            confidential: suppressed,
                            low_reliability: low,
                        });
                    }
                }
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key).then(a.period.cmp(&b.period)));
        out.dedup_by(|a, b| a.key == b.key && a.period == b.period);
        out
    }
}
