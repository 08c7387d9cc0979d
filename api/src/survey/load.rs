//! Loading a survey's microdata: the observatory sends one CSV file, one row per respondent (its identifier, weight,
//! characteristics, and for each question the option codes it chose, joined by `|`, empty when it was not asked).
//! Every problem is listed at once with its line, column and rule; a file with any error stores nothing; a valid one
//! replaces the survey's microdata in one transaction, audited.

use super::store;
use crate::error::{ApiError, ApiResult};
use crate::scope::Scope;
use crate::submission::validate::{Problem, Subject, ValidationReport};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use std::collections::{HashMap, HashSet};

/// Most respondents one file may hold.
pub const MAX_RESPONDENTS: usize = 100_000;

/// The characteristic columns, before the questions'.
pub const COLUMNS: [&str; 9] = [
    "respondent",
    "weight",
    "association",
    "region",
    "gender",
    "area",
    "segment",
    "activity",
    "staff_level",
];

/// One respondent as read.
struct Row {
    weight: f64,
    association: Option<i32>,
    region: Option<i32>,
    text: [Option<String>; 5],
    answers: Vec<i32>,
}

/// Reads, checks and loads a survey's microdata; the respondents stored.
pub async fn load(db: &DatabaseConnection, actor: &Scope, survey_code: &str, csv: &str) -> ApiResult<usize> {
    actor.require_observatory("loading a survey's microdata")?;
    let survey = store::surveys(db)
        .await?
        .into_iter()
        .find(|s| s.code == survey_code)
        .ok_or_else(|| ApiError::NotFound(format!("no survey `{survey_code}`: see `surveys`")))?;
    let questions = store::questions(db, survey.id).await?;
    let associations: HashMap<String, i32> = crate::association::store::codes(db)
        .await?
        .into_iter()
        .map(|(id, code)| (code, id))
        .collect();
    let regions: HashMap<String, i32> = {
        use sea_orm::EntityTrait;
        entity::region::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|r| (r.code, r.id))
            .collect()
    };
    let mut problems: Vec<Problem> = Vec::new();
    let mut problem = |line: usize, column: &str, value: &str, rule: &str, message: String| {
        problems.push(Problem {
            table: "microdata".into(),
            line: Some(line as i32),
            subject: if column.is_empty() { Subject::Row } else { Subject::Cell },
            column: (!column.is_empty()).then(|| column.to_owned()),
            value: (!value.is_empty()).then(|| value.to_owned()),
            rule: rule.into(),
            message,
        });
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(csv.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| ApiError::bad_input(format!("the microdata file cannot be read as CSV: {e}")))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    for column in &header {
        if !COLUMNS.contains(&column.as_str()) && !questions.iter().any(|(q, ..)| &q.code == column) {
            problem(
                1,
                column,
                column,
                "UNKNOWN_COLUMN",
                format!("`{column}` is neither a respondent's characteristic nor a question of {survey_code}"),
            );
        }
    }
    for required in ["respondent", "weight"] {
        if !header.iter().any(|h| h == required) {
            problem(
                1,
                required,
                "",
                "MISSING_COLUMN",
                format!("the file has no `{required}` column"),
            );
        }
    }
    let at = |name: &str| header.iter().position(|h| h == name);
    let mut rows: Vec<Row> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                problem(
                    line,
                    "",
                    "",
                    "MALFORMED_ROW",
                    format!("line {line} cannot be read: {e}"),
                );
                continue;
            }
        };
        if rows.len() >= MAX_RESPONDENTS {
            return Err(ApiError::bad_input(format!(
                "the file has more than {MAX_RESPONDENTS} respondents: split the survey"
            )));
        }
        let cell = |name: &str| at(name).and_then(|i| record.get(i)).map(str::trim).unwrap_or("");
        let id = cell("respondent");
        if id.is_empty() {
            problem(
                line,
                "respondent",
                "",
                "MISSING_VALUE",
                "every respondent has an identifier".into(),
            );
        } else if !seen.insert(id.to_owned()) {
            problem(
                line,
                "respondent",
                id,
                "DUPLICATE_CELL",
                format!("respondent `{id}` appears twice"),
            );
        }
        let weight = match cell("weight").parse::<f64>() {
            Ok(w) if w > 0.0 && w.is_finite() => w,
            _ => {
                problem(
                    line,
                    "weight",
                    cell("weight"),
                    "INVALID_WEIGHT",
                    "a weight is a number above 0 (write 1 for an unweighted survey)".into(),
                );
                1.0
            }
        };
        let mut code_of = |column: &str, known: &HashMap<String, i32>| -> Option<i32> {
            let text = cell(column);
            if text.is_empty() {
                return None;
            }
            let found = known.get(text).copied();
            if found.is_none() {
                problem(
                    line,
                    column,
                    text,
                    "UNKNOWN_CODE",
                    format!("`{text}` is not a known {column} code"),
                );
            }
            found
        };
        let association = code_of("association", &associations);
        let region = code_of("region", &regions);
        let text = ["gender", "area", "segment", "activity", "staff_level"].map(|c| {
            let t = cell(c);
            (!t.is_empty()).then(|| t.to_owned())
        });
        let mut answers = Vec::new();
        for (question, options, _) in &questions {
            let chosen = cell(&question.code);
            if chosen.is_empty() {
                continue;
            }
            let codes: Vec<&str> = chosen.split('|').map(str::trim).collect();
            if question.kind != "MULTIPLE_CHOICE" && codes.len() > 1 {
                problem(
                    line,
                    &question.code,
                    chosen,
                    "TOO_MANY_ANSWERS",
                    format!(
                        "{} is a single-choice question: one option per respondent",
                        question.code
                    ),
                );
            }
            for code in codes {
                match options.iter().find(|o| o.code == code) {
                    Some(option) => answers.push(option.id),
                    None => problem(
                        line,
                        &question.code,
                        code,
                        "UNKNOWN_OPTION",
                        format!(
                            "`{code}` is not an option of {}: the options are {}",
                            question.code,
                            options.iter().map(|o| o.code.as_str()).collect::<Vec<_>>().join(", ")
                        ),
                    ),
                }
            }
        }
        rows.push(Row {
            weight,
            association,
            region,
            text,
            answers,
        });
    }
    if !problems.is_empty() {
        let report = ValidationReport {
            error_count: problems.len(),
            errors: problems,
            ..ValidationReport::default()
        };
        return Err(crate::submission::store::rejection(&report, "microdata file", "survey"));
    }
    let txn = crate::db::begin_write(db).await?;
    let respondents = Query::select()
        .column(Alias::new("id"))
        .from(Alias::new("survey_respondent"))
        .and_where(Expr::col(Alias::new("survey_id")).eq(survey.id))
        .to_owned();
    txn.execute(
        &Query::delete()
            .from_table(Alias::new("survey_answer"))
            .and_where(Expr::col(Alias::new("respondent_id")).in_subquery(respondents))
            .to_owned(),
    )
    .await?;
    txn.execute(
        &Query::delete()
            .from_table(Alias::new("survey_respondent"))
            .and_where(Expr::col(Alias::new("survey_id")).eq(survey.id))
            .to_owned(),
    )
    .await?;
    for row in &rows {
        let [gender, area, segment, activity, staff_level] = row.text.clone();
        let insert = Query::insert()
            .into_table(Alias::new("survey_respondent"))
            .columns(
                [
                    "survey_id",
                    "association_id",
                    "region_id",
                    "gender",
                    "area",
                    "segment",
                    "activity",
                    "staff_level",
                    "weight",
                ]
                .map(Alias::new),
            )
            .values_panic([
                survey.id.into(),
                row.association.into(),
                row.region.into(),
                gender.into(),
                area.into(),
                segment.into(),
                activity.into(),
                staff_level.into(),
                row.weight.into(),
            ])
            .returning_col(Alias::new("id"))
            .to_owned();
        let id: i64 = txn
            .query_one(&insert)
            .await?
            .ok_or_else(|| ApiError::Internal("a respondent's id was not returned".into()))?
            .try_get_by_index(0)?;
        for option in &row.answers {
            txn.execute(
                &Query::insert()
                    .into_table(Alias::new("survey_answer"))
                    .columns([Alias::new("respondent_id"), Alias::new("option_id")])
                    .values_panic([id.into(), (*option).into()])
                    .to_owned(),
            )
            .await?;
        }
    }
    crate::audit::record(
        &txn,
        actor,
        "survey.microdata.load",
        "survey",
        survey_code,
        serde_json::json!({ "respondents": rows.len(), "content_hash": crate::submission::store::content_hash(csv) }),
    )
    .await?;
    txn.commit().await?;
    Ok(rows.len())
}
