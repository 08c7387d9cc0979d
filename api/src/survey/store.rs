//! Survey reads: the surveys with their questions, options and nets, the shares printed by a report, and the
//! microdata of a question (respondents with their weight and characteristics, and the options they chose), which
//! never leaves the service raw. Plain functions: a connection in, plain rows out.

use super::estimate::{Group, OptionDef, OptionKind, QuestionDef, Respondent};
use crate::error::ApiResult;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
use sea_orm::{ConnectionTrait, FromQueryResult};
use std::collections::HashMap;

/// A survey's description.
#[derive(Debug, Clone, FromQueryResult)]
pub struct SurveyRow {
    pub id: i32,
    pub code: String,
    pub title_fr: String,
    pub title_ar: String,
    pub title_en: String,
    pub population: String,
    pub unit: String,
    pub fieldwork_from: chrono::NaiveDate,
    pub fieldwork_to: chrono::NaiveDate,
    pub mode: String,
    pub platform: Option<String>,
    pub partners: String,
    pub instrument: Option<String>,
    pub sampling: String,
    pub weighting: String,
    pub respondents: Option<i32>,
    pub data_level: String,
    pub methodology: String,
    pub released_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A question.
#[derive(Debug, Clone, FromQueryResult)]
pub struct QuestionRow {
    pub id: i32,
    pub survey_id: i32,
    pub code: String,
    pub position: i32,
    pub text_fr: String,
    pub text_ar: String,
    pub text_en: String,
    pub kind: String,
    pub universe: String,
    pub source_note: String,
}

/// An option of a question.
#[derive(Debug, Clone, FromQueryResult)]
pub struct OptionRow {
    pub id: i32,
    pub question_id: i32,
    pub code: String,
    pub position: i32,
    pub label_fr: String,
    pub label_ar: String,
    pub label_en: String,
    pub kind: String,
    pub parent: Option<String>,
}

/// A net of a question: its options, comma-separated.
#[derive(Debug, Clone, FromQueryResult)]
pub struct NetRow {
    pub question_id: i32,
    pub code: String,
    pub label_fr: String,
    pub label_ar: String,
    pub label_en: String,
    pub members: String,
}

fn select(table: &str, columns: &[&str]) -> sea_orm::sea_query::SelectStatement {
    let mut select = Query::select();
    for column in columns {
        select.column(Alias::new(*column));
    }
    select.from(Alias::new(table)).to_owned()
}

/// Every survey, in code order.
pub async fn surveys<C: ConnectionTrait>(db: &C) -> ApiResult<Vec<SurveyRow>> {
    let statement = select(
        "survey",
        &[
            "id",
            "code",
            "title_fr",
            "title_ar",
            "title_en",
            "population",
            "unit",
            "fieldwork_from",
            "fieldwork_to",
            "mode",
            "platform",
            "partners",
            "instrument",
            "sampling",
            "weighting",
            "respondents",
            "data_level",
            "methodology",
            "released_at",
        ],
    )
    .order_by(Alias::new("code"), Order::Asc)
    .to_owned();
    Ok(
        SurveyRow::find_by_statement(db.get_database_backend().build(&statement))
            .all(db)
            .await?,
    )
}

/// A survey's questions with their options and nets, in order.
pub async fn questions<C: ConnectionTrait>(
    db: &C,
    survey_id: i32,
) -> ApiResult<Vec<(QuestionRow, Vec<OptionRow>, Vec<NetRow>)>> {
    let backend = db.get_database_backend();
    let questions = QuestionRow::find_by_statement(
        backend.build(
            &select(
                "survey_question",
                &[
                    "id",
                    "survey_id",
                    "code",
                    "position",
                    "text_fr",
                    "text_ar",
                    "text_en",
                    "kind",
                    "universe",
                    "source_note",
                ],
            )
            .and_where(Expr::col(Alias::new("survey_id")).eq(survey_id))
            .order_by(Alias::new("position"), Order::Asc)
            .to_owned(),
        ),
    )
    .all(db)
    .await?;
    let ids: Vec<i32> = questions.iter().map(|q| q.id).collect();
    let options = OptionRow::find_by_statement(
        backend.build(
            &select(
                "survey_option",
                &[
                    "id",
                    "question_id",
                    "code",
                    "position",
                    "label_fr",
                    "label_ar",
                    "label_en",
                    "kind",
                    "parent",
                ],
            )
            .and_where(Expr::col(Alias::new("question_id")).is_in(ids.clone()))
            .order_by(Alias::new("position"), Order::Asc)
            .to_owned(),
        ),
    )
    .all(db)
    .await?;
    let nets = NetRow::find_by_statement(
        backend.build(
            &select(
                "survey_net",
                &["question_id", "code", "label_fr", "label_ar", "label_en", "members"],
            )
            .and_where(Expr::col(Alias::new("question_id")).is_in(ids))
            .order_by(Alias::new("code"), Order::Asc)
            .to_owned(),
        ),
    )
    .all(db)
    .await?;
    Ok(questions
        .into_iter()
        .map(|q| {
            let o = options.iter().filter(|o| o.question_id == q.id).cloned().collect();
            let n = nets.iter().filter(|n| n.question_id == q.id).cloned().collect();
            (q, o, n)
        })
        .collect())
}

/// A question as the estimation reads it.
pub fn definition(question: &QuestionRow, options: &[OptionRow], nets: &[NetRow]) -> QuestionDef {
    QuestionDef {
        code: question.code.clone(),
        multiple: question.kind == "MULTIPLE_CHOICE",
        options: options
            .iter()
            .map(|o| OptionDef {
                code: o.code.clone(),
                kind: match o.kind.as_str() {
                    "OTHER" => OptionKind::Other,
                    "DONT_KNOW" => OptionKind::DontKnow,
                    "REFUSED" => OptionKind::Refused,
                    "NOT_APPLICABLE" => OptionKind::NotApplicable,
                    _ => OptionKind::Substantive,
                },
                parent: o.parent.clone(),
            })
            .collect(),
        nets: nets
            .iter()
            .map(|n| (n.code.clone(), n.members.split(',').map(str::to_owned).collect()))
            .collect(),
    }
}

/// The shares a report printed for a question: option or net code → share (`None`: not printed).
pub async fn published<C: ConnectionTrait>(db: &C, question_id: i32) -> ApiResult<HashMap<String, Option<f64>>> {
    #[derive(FromQueryResult)]
    struct Printed {
        option_code: String,
        share: Option<f64>,
    }
    let statement = select("survey_published", &["option_code", "share"])
        .and_where(Expr::col(Alias::new("question_id")).eq(question_id))
        .to_owned();
    Ok(Printed::find_by_statement(db.get_database_backend().build(&statement))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.option_code, p.share))
        .collect())
}

/// The microdata of a question: the survey's respondents who answered it, and the options each chose.
pub async fn microdata<C: ConnectionTrait>(
    db: &C,
    survey_id: i32,
    question_id: i32,
) -> ApiResult<(Vec<Respondent>, HashMap<i64, Vec<String>>)> {
    #[derive(FromQueryResult)]
    struct Row {
        id: i64,
        weight: f64,
        association_id: Option<i32>,
        region_id: Option<i32>,
        gender: Option<String>,
        area: Option<String>,
        segment: Option<String>,
        activity: Option<String>,
        staff_level: Option<String>,
        option_code: String,
    }
    let statement = Query::select()
        .expr_as(Expr::col((Alias::new("r"), Alias::new("id"))), Alias::new("id"))
        .columns(
            [
                "weight",
                "association_id",
                "region_id",
                "gender",
                "area",
                "segment",
                "activity",
                "staff_level",
            ]
            .map(|c| (Alias::new("r"), Alias::new(c))),
        )
        .expr_as(
            Expr::col((Alias::new("o"), Alias::new("code"))),
            Alias::new("option_code"),
        )
        .from_as(Alias::new("survey_respondent"), Alias::new("r"))
        .inner_join(
            Alias::new("survey_answer"),
            Expr::col((Alias::new("survey_answer"), Alias::new("respondent_id")))
                .equals((Alias::new("r"), Alias::new("id"))),
        )
        .join_as(
            sea_orm::sea_query::JoinType::InnerJoin,
            Alias::new("survey_option"),
            Alias::new("o"),
            Expr::col((Alias::new("o"), Alias::new("id")))
                .equals((Alias::new("survey_answer"), Alias::new("option_id"))),
        )
        .and_where(Expr::col((Alias::new("r"), Alias::new("survey_id"))).eq(survey_id))
        .and_where(Expr::col((Alias::new("o"), Alias::new("question_id"))).eq(question_id))
        .to_owned();
    let rows = Row::find_by_statement(db.get_database_backend().build(&statement))
        .all(db)
        .await?;
    let mut respondents: HashMap<i64, Respondent> = HashMap::new();
    let mut answers: HashMap<i64, Vec<String>> = HashMap::new();
    for row in rows {
        respondents.entry(row.id).or_insert_with(|| Respondent {
            id: row.id,
            weight: row.weight,
            group: Group {
                association: row.association_id,
                region: row.region_id,
                gender: row.gender.clone(),
                area: row.area.clone(),
                segment: row.segment.clone(),
                activity: row.activity.clone(),
                staff_level: row.staff_level.clone(),
            },
        });
        answers.entry(row.id).or_default().push(row.option_code);
    }
    let mut respondents: Vec<Respondent> = respondents.into_values().collect();
    respondents.sort_by_key(|r| r.id);
    Ok((respondents, answers))
}
