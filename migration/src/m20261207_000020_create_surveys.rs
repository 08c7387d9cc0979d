//! Surveys: the observatory's studies (`survey`), their questions with who was asked (`survey_question`), the
//! options of each question, an option possibly nested in another (`survey_option`: "deteriorated severely" inside
//! "deteriorated"), nets grouping options (`survey_net`), the shares as a report printed them where no microdata
//! exists (`survey_published`), and the microdata, which stays with the observatory: one row per respondent with its
//! weight and characteristics (`survey_respondent`), one per option chosen (`survey_answer`).

use crate::ddl::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000020_create_surveys"
    }
}

fn short(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).string_len(64).not_null().take()
}

fn short_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).string_len(64).null().take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let survey = Table::create()
            .table("survey")
            .col(pk("id"))
            .col(code("code"))
            .col(text("title_fr"))
            .col(text("title_ar"))
            .col(text("title_en"))
            .col(one_of(
                "population",
                &[
                    "CLIENTS",
                    "ASSOCIATION_STAFF",
                    "ASSOCIATIONS",
                    "MICRO_ENTREPRENEURS",
                    "OTHER",
                ],
            ))
            .col(one_of("unit", &["PERSON", "INSTITUTION"]))
            .col(date("fieldwork_from"))
            .col(date("fieldwork_to"))
            .col(one_of("mode", &["PHONE", "ONLINE", "FACE_TO_FACE", "MIXED", "UNKNOWN"]))
            .col(ColumnDef::new("platform").text().null())
            .col(text("partners"))
            .col(ColumnDef::new("instrument").text().null())
            .col(one_of(
                "sampling",
                &["CENSUS", "PROBABILITY", "QUOTA", "CONVENIENCE", "UNKNOWN"],
            ))
            .col(one_of("weighting", &["NONE", "DESIGN", "POST_STRATIFIED", "UNKNOWN"]))
            .col(int_null("respondents"))
            .col(one_of("data_level", &["MICRODATA", "PUBLISHED_AGGREGATES"]))
            .col(text("methodology"))
            .col(timestamp_null("released_at"))
            .take();
        let question = Table::create()
            .table("survey_question")
            .col(pk("id"))
            .col(int("survey_id"))
            .col(short("code"))
            .col(int("position"))
            .col(text("text_fr"))
            .col(text("text_ar"))
            .col(text("text_en"))
            .col(one_of(
                "kind",
                &["SINGLE_CHOICE", "MULTIPLE_CHOICE", "SCALE", "NUMERIC"],
            ))
            .col(text("universe"))
            .col(text("source_note"))
            .foreign_key(&mut fk("survey_question", "survey_id", "survey"))
            .take();
        let option = Table::create()
            .table("survey_option")
            .col(pk("id"))
            .col(int("question_id"))
            .col(short("code"))
            .col(int("position"))
            .col(text("label_fr"))
            .col(text("label_ar"))
            .col(text("label_en"))
            .col(one_of(
                "kind",
                &["SUBSTANTIVE", "OTHER", "DONT_KNOW", "REFUSED", "NOT_APPLICABLE"],
            ))
            .col(short_null("parent"))
            .foreign_key(&mut fk("survey_option", "question_id", "survey_question"))
            .take();
        let net = Table::create()
            .table("survey_net")
            .col(pk("id"))
            .col(int("question_id"))
            .col(short("code"))
            .col(text("label_fr"))
            .col(text("label_ar"))
            .col(text("label_en"))
            .col(text("members"))
            .foreign_key(&mut fk("survey_net", "question_id", "survey_question"))
            .take();
        let published = Table::create()
            .table("survey_published")
            .col(pk("id"))
            .col(int("question_id"))
            .col(short("option_code"))
            .col(ColumnDef::new("share").double().null())
            .foreign_key(&mut fk("survey_published", "question_id", "survey_question"))
            .take();
        let respondent = Table::create()
            .table("survey_respondent")
            .col(pk64("id"))
            .col(int("survey_id"))
            .col(int_null("association_id"))
            .col(int_null("region_id"))
            .col(short_null("gender"))
            .col(short_null("area"))
            .col(short_null("segment"))
            .col(short_null("activity"))
            .col(short_null("staff_level"))
            .col(
                ColumnDef::new("weight")
                    .double()
                    .not_null()
                    .check(Expr::col("weight").gt(0)),
            )
            .foreign_key(&mut fk("survey_respondent", "survey_id", "survey"))
            .foreign_key(&mut fk("survey_respondent", "association_id", "association"))
            .foreign_key(&mut fk("survey_respondent", "region_id", "region"))
            .take();
        let answer = Table::create()
            .table("survey_answer")
            .col(ColumnDef::new("respondent_id").big_integer().not_null())
            .col(int("option_id"))
            .primary_key(Index::create().col("respondent_id").col("option_id"))
            .foreign_key(&mut fk("survey_answer", "option_id", "survey_option"))
            .take();
        create(
            manager,
            vec![survey, question, option, net, published, respondent, answer],
            vec![
                unique("survey_question", &["survey_id", "code"]),
                unique("survey_option", &["question_id", "code"]),
                unique("survey_net", &["question_id", "code"]),
                unique("survey_published", &["question_id", "option_code"]),
                index("survey_respondent", &["survey_id"]),
                index("survey_answer", &["option_id"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(
            manager,
            &[
                "survey_answer",
                "survey_respondent",
                "survey_published",
                "survey_net",
                "survey_option",
                "survey_question",
                "survey",
            ],
        )
        .await
    }
}
