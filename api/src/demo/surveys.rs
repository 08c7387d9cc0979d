//! The observatory's two 2020 surveys, as the activity report published them: the associations' clients (June) and
//! staff (August). Respondents, sampling and weighting were not published, so both are published aggregates: each
//! share as printed, a figure the report does not print left null (never a remainder), the nested "deteriorated
//! severely" inside "deteriorated".
//!
//! One question's shares are complete (the clients' main income source: 77 + 15 + 7 + 1 = 100): for it, synthetic
//! microdata of 1,000 respondents spread over the associations, regions, genders and areas exercise the breakdowns,
//! intervals and small-base rules. It is invented, documented so, and reproduces the published sector shares exactly.

use super::reference::{ASSOCIATIONS, Ids, REGIONS};
use sea_orm::sea_query::{Alias, Query};
use sea_orm::{ConnectionTrait, DbErr};

/// (code, fr, ar, en, kind, parent, printed share).
type Option_ = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<f64>,
);
/// (code, fr, ar, en, members).
type Net = (&'static str, &'static str, &'static str, &'static str, &'static str);
/// (code, fr, ar, en, kind, universe, source note, options, nets).
type Question = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [Option_],
    &'static [Net],
);

const S: &str = "SUBSTANTIVE";
const CLIENTS_NOTE: &str = "Rapport d'activité 2020 du Centre, enquête auprès des clients des AMC (11-25 juin 2020)";
const STAFF_NOTE: &str =
    "Rapport d'activité 2020 du Centre, diagnostic stratégique auprès du personnel des AMC (3-12 août 2020)";

const CLIENT_QUESTIONS: &[Question] = &[
    (
        "HOUSEHOLD_SITUATION",
        "Situation financière du ménage des micro-entrepreneurs, du fait de la pandémie",
        "الوضعية المالية لأسر المقاولين الصغار بسبب الجائحة",
        "Household financial situation of the micro-entrepreneurs, because of the pandemic",
        "SINGLE_CHOICE",
        "All clients interviewed",
        CLIENTS_NOTE,
        &[(
            "DETERIORATED",
            "Détériorée",
            "تدهورت",
            "Deteriorated",
            S,
            None,
            Some(94.0),
        )],
        &[],
    ),
    (
        "COPING",
        "Principal moyen de faire face, avant tout",
        "الوسيلة الرئيسية للمواجهة",
        "Main way of coping, first and foremost",
        "SINGLE_CHOICE",
        "All clients interviewed",
        CLIENTS_NOTE,
        &[
            (
                "USED_SAVINGS",
                "Utilisation de l'épargne",
                "استعمال الادخار",
                "Used savings",
                S,
                None,
                Some(62.0),
            ),
            (
                "STOPPED_REPAYING",
                "Arrêt ou renoncement au remboursement des prêts",
                "التوقف عن سداد القروض",
                "Stopped or forwent repaying loans",
                S,
                None,
                Some(24.0),
            ),
        ],
        &[],
    ),
    (
        "INCOME_SOURCE",
        "Principale source de revenu",
        "المصدر الرئيسي للدخل",
        "Most important income source",
        "SINGLE_CHOICE",
        "All clients interviewed",
        CLIENTS_NOTE,
        &[
            (
                "FELL_SHARPLY",
                "Forte baisse",
                "انخفاض كبير",
                "Fell sharply",
                S,
                None,
                Some(77.0),
            ),
            (
                "FELL_LESS",
                "Baisse moins forte",
                "انخفاض أقل",
                "Fell less",
                S,
                None,
                Some(15.0),
            ),
            ("STABLE", "Stable", "مستقر", "Stable", S, None, Some(7.0)),
            (
                "IMPROVED_SLIGHTLY",
                "Légère amélioration",
                "تحسن طفيف",
                "Improved slightly",
                S,
                None,
                Some(1.0),
            ),
        ],
        &[("FELL", "Baisse", "انخفاض", "Fell", "FELL_SHARPLY,FELL_LESS")],
    ),
    (
        "LIQUIDITY",
        "Accès à la liquidité pendant la pandémie",
        "الولوج إلى السيولة خلال الجائحة",
        "Access to liquidity during the pandemic",
        "SINGLE_CHOICE",
        "All clients interviewed",
        CLIENTS_NOTE,
        &[
            (
                "NORMAL",
                "Resté normal",
                "بقي عاديا",
                "Stayed normal",
                S,
                None,
                Some(71.0),
            ),
            (
                "SIGNIFICANT_DIFFICULTIES",
                "Difficultés importantes",
                "صعوبات كبيرة",
                "Significant difficulties",
                S,
                None,
                Some(27.0),
            ),
        ],
        &[],
    ),
    (
        "EXPECTATIONS",
        "Ce que les clients attendent de leur AMC",
        "ما ينتظره الزبناء من جمعياتهم",
        "What clients expect from their association",
        "SINGLE_CHOICE",
        "All clients interviewed",
        CLIENTS_NOTE,
        &[
            (
                "PREVENTION_INFORMATION",
                "Plus d'information sur la prévention et la protection",
                "مزيد من المعلومات حول الوقاية والحماية",
                "More information on prevention and protection",
                S,
                None,
                Some(38.0),
            ),
            (
                "SHORT_DEFERRAL",
                "Court report des échéances",
                "تأجيل قصير للأقساط",
                "A short deferral of instalments",
                S,
                None,
                Some(24.0),
            ),
            (
                "EXEMPTION",
                "Exonération pour une période",
                "إعفاء لمدة",
                "Exemption for a period",
                S,
                None,
                Some(21.0),
            ),
            (
                "RESCHEDULING",
                "Rééchelonnement du prêt en cours",
                "إعادة جدولة القرض الجاري",
                "Rescheduling of the current loan",
                S,
                None,
                Some(7.0),
            ),
            (
                "EMERGENCY_LOAN",
                "Un nouveau prêt d'urgence à court terme",
                "قرض استعجالي جديد قصير الأجل",
                "A new short-term emergency loan",
                S,
                None,
                Some(5.0),
            ),
        ],
        &[(
            "REPAYMENT_RELIEF",
            "Allègement des remboursements",
            "تخفيف السداد",
            "Repayment relief",
            "SHORT_DEFERRAL,EXEMPTION,RESCHEDULING",
        )],
    ),
];

const STAFF_QUESTIONS: &[Question] = &[
    (
        "AMC_FINANCIAL_SITUATION",
        "Situation financière des AMC",
        "الوضعية المالية للجمعيات",
        "Financial situation of the associations",
        "SINGLE_CHOICE",
        "All staff interviewed",
        STAFF_NOTE,
        &[
            (
                "DETERIORATED",
                "Détériorée",
                "تدهورت",
                "Deteriorated",
                S,
                None,
                Some(81.0),
            ),
            (
                "DETERIORATED_SEVERELY",
                "Fortement détériorée",
                "تدهورت بشدة",
                "Deteriorated severely",
                S,
                Some("DETERIORATED"),
                Some(21.0),
            ),
        ],
        &[],
    ),
    (
        "PAR_DURING_CRISIS",
        "Portefeuille à risque pendant la crise",
        "المحفظة المعرضة للمخاطر خلال الأزمة",
        "Portfolio at risk during the crisis",
        "SINGLE_CHOICE",
        "All staff interviewed",
        STAFF_NOTE,
        &[("ROSE", "En hausse", "ارتفعت", "Rose", S, None, Some(97.0))],
        &[],
    ),
    (
        "MOST_AFFECTED_ACTIVITY",
        "Activité la plus touchée",
        "النشاط الأكثر تضررا",
        "Activity most affected",
        "SINGLE_CHOICE",
        "All staff interviewed",
        "Rapport d'activité 2020 du Centre, diagnostic stratégique auprès du personnel des AMC (3-12 août 2020); the \
         share for small trade is missing from the report's text and is left null",
        &[
            (
                "AGRICULTURE",
                "Agriculture",
                "الفلاحة",
                "Agriculture",
                S,
                None,
                Some(44.0),
            ),
            (
                "SMALL_TRADE",
                "Petit commerce",
                "التجارة الصغيرة",
                "Small trade",
                S,
                None,
                None,
            ),
            ("SERVICES", "Services", "الخدمات", "Services", S, None, Some(9.0)),
        ],
        &[],
    ),
    (
        "REPAYMENT_DISCIPLINE",
        "Évolution du respect des engagements de remboursement par les clients",
        "تطور احترام الزبناء لالتزامات السداد",
        "Change in clients' respect of their repayment commitments",
        "SINGLE_CHOICE",
        "All staff interviewed",
        STAFF_NOTE,
        &[
            (
                "FELL_SHARPLY",
                "Forte baisse",
                "انخفاض كبير",
                "Fell sharply",
                S,
                None,
                Some(70.0),
            ),
            (
                "FELL_SLIGHTLY",
                "Baisse à peine perceptible",
                "انخفاض طفيف",
                "Fell barely noticeably",
                S,
                None,
                Some(25.0),
            ),
        ],
        &[("FELL", "Baisse", "انخفاض", "Fell", "FELL_SHARPLY,FELL_SLIGHTLY")],
    ),
];

/// (code, titles fr/ar/en, population, fieldwork dates, mode, partners, instrument, questions).
type SurveySeed = (
    &'static str,
    [&'static str; 3],
    &'static str,
    (chrono::NaiveDate, chrono::NaiveDate),
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static [Question],
);

/// The regions of the nationwide associations' synthetic respondents, in turn.
const NATIONWIDE_CYCLE: [&str; 20] = [
    "MA-06", "MA-06", "MA-06", "MA-07", "MA-07", "MA-04", "MA-04", "MA-05", "MA-03", "MA-02", "MA-01", "MA-08",
    "MA-09", "MA-10", "MA-06", "MA-07", "MA-04", "MA-09", "MA-03", "MA-12",
];

/// Synthetic respondents of the clients' income-source question.
pub const SYNTHETIC_RESPONDENTS: usize = 1_000;

async fn insert_returning<C: ConnectionTrait>(
    db: &C,
    table: &str,
    columns: &[&str],
    values: Vec<sea_orm::Value>,
) -> Result<i64, DbErr> {
    let statement = Query::insert()
        .into_table(Alias::new(table))
        .columns(columns.iter().map(|c| Alias::new(*c)))
        .values_panic(values.into_iter().map(Into::into))
        .returning_col(Alias::new("id"))
        .to_owned();
    let row = db
        .query_one(&statement)
        .await?
        .ok_or_else(|| DbErr::Custom(format!("no id returned by {table}")))?;
    row.try_get_by_index::<i64>(0)
        .or_else(|_| row.try_get_by_index::<i32>(0).map(i64::from))
}

/// Inserts both surveys, released, and the synthetic microdata. Returns the respondents inserted.
pub(crate) async fn insert<C: ConnectionTrait>(db: &C, ids: &Ids) -> Result<usize, DbErr> {
    let date = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).expect("a date");
    let released = chrono::NaiveDate::from_ymd_opt(2021, 3, 31)
        .and_then(|d| d.and_hms_opt(9, 0, 0))
        .expect("an instant")
        .and_utc();
    let surveys: [SurveySeed; 2] = [
        (
            "COVID-CLIENTS-2020",
            [
                "Enquête auprès des clients des AMC sur l'impact de la COVID-19",
                "استطلاع زبناء جمعيات القروض الصغرى حول أثر كوفيد-19",
                "Survey of the associations' clients on the impact of COVID-19",
            ],
            "CLIENTS",
            (date(2020, 6, 11), date(2020, 6, 25)),
            "UNKNOWN",
            "Centre Mohammed VI de Soutien à la Microfinance Solidaire, Social Performance Task Force, the associations",
            Some("SPTF COVID-19 Client Interview Tool (very likely; the report does not name it)"),
            CLIENT_QUESTIONS,
        ),
        (
            "COVID-STAFF-2020",
            [
                "Diagnostic stratégique auprès du personnel des AMC",
                "تشخيص استراتيجي لدى مستخدمي جمعيات القروض الصغرى",
                "Strategic diagnosis among the associations' staff",
            ],
            "ASSOCIATION_STAFF",
            (date(2020, 8, 3), date(2020, 8, 12)),
            "ONLINE",
            "Centre Mohammed VI de Soutien à la Microfinance Solidaire, Social Performance Task Force",
            None,
            STAFF_QUESTIONS,
        ),
    ];
    let mut income_source_options: Vec<(String, i64)> = Vec::new();
    let mut clients_survey = 0;
    for (code, titles, population, (from, to), mode, partners, instrument, questions) in surveys {
        let survey = insert_returning(
            db,
            "survey",
            &[
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
            vec![
                code.into(),
                titles[0].into(),
                titles[1].into(),
                titles[2].into(),
                population.into(),
                "PERSON".into(),
                from.into(),
                to.into(),
                mode.into(),
                Some("Validata").into(),
                partners.into(),
                instrument.into(),
                "UNKNOWN".into(),
                "UNKNOWN".into(),
                Option::<i32>::None.into(),
                "PUBLISHED_AGGREGATES".into(),
                "As published in the Centre's 2020 activity report: shares of respondents, without their number, \
                 sampling or weighting. A sector report and one report per association were produced."
                    .into(),
                released.into(),
            ],
        )
        .await?;
        if code == "COVID-CLIENTS-2020" {
            clients_survey = survey;
        }
        for (position, (q_code, fr, ar, en, kind, universe, note, options, nets)) in questions.iter().enumerate() {
            let question = insert_returning(
                db,
                "survey_question",
                &[
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
                vec![
                    (survey as i32).into(),
                    (*q_code).into(),
                    (position as i32 + 1).into(),
                    (*fr).into(),
                    (*ar).into(),
                    (*en).into(),
                    (*kind).into(),
                    (*universe).into(),
                    (*note).into(),
                ],
            )
            .await?;
            for (o_position, (o_code, o_fr, o_ar, o_en, o_kind, parent, share)) in options.iter().enumerate() {
                let option = insert_returning(
                    db,
                    "survey_option",
                    &[
                        "question_id",
                        "code",
                        "position",
                        "label_fr",
                        "label_ar",
                        "label_en",
                        "kind",
                        "parent",
                    ],
                    vec![
                        (question as i32).into(),
                        (*o_code).into(),
                        (o_position as i32 + 1).into(),
                        (*o_fr).into(),
                        (*o_ar).into(),
                        (*o_en).into(),
                        (*o_kind).into(),
                        parent.map(str::to_owned).into(),
                    ],
                )
                .await?;
                insert_returning(
                    db,
                    "survey_published",
                    &["question_id", "option_code", "share"],
                    vec![(question as i32).into(), (*o_code).into(), (*share).into()],
                )
                .await?;
                if *q_code == "INCOME_SOURCE" && code == "COVID-CLIENTS-2020" {
                    income_source_options.push(((*o_code).to_owned(), option));
                }
            }
            for (n_code, n_fr, n_ar, n_en, members) in nets.iter() {
                insert_returning(
                    db,
                    "survey_net",
                    &["question_id", "code", "label_fr", "label_ar", "label_en", "members"],
                    vec![
                        (question as i32).into(),
                        (*n_code).into(),
                        (*n_fr).into(),
                        (*n_ar).into(),
                        (*n_en).into(),
                        (*members).into(),
                    ],
                )
                .await?;
            }
        }
    }
    // The synthetic respondents: spread over the associations by their size (the smallest get fewer than 30), over
    // their regions, genders and areas, each answering the income-source question so that the sector shares are
    // exactly the published 77, 15, 7 and 1 %.
    let sizes: Vec<f64> = ASSOCIATIONS.iter().map(|a| a.size).collect();
    let total: f64 = sizes.iter().sum();
    let mut quotas: Vec<usize> = sizes
        .iter()
        .map(|s| ((s / total) * SYNTHETIC_RESPONDENTS as f64).floor() as usize)
        .collect();
    let short = SYNTHETIC_RESPONDENTS - quotas.iter().sum::<usize>();
    quotas[1] += short;
    let answer_of = |i: usize| match i % 100 {
        0..=76 => "FELL_SHARPLY",
        77..=91 => "FELL_LESS",
        92..=98 => "STABLE",
        _ => "IMPROVED_SLIGHTLY",
    };
    let mut i = 0;
    for (a, quota) in quotas.iter().enumerate() {
        let association = &ASSOCIATIONS[a];
        for k in 0..*quota {
            // A regional association's respondents are mostly from its home region; the nationwide ones' follow a
            // cycle that leaves the Saharan regions few, so that some regions fall under the minimum base.
            let region_code = if association.regions.is_empty() {
                NATIONWIDE_CYCLE[k % NATIONWIDE_CYCLE.len()]
            } else if k % 10 < 7 {
                association.home
            } else {
                association.regions[(k / 10) % association.regions.len()]
            };
            let region = REGIONS
                .iter()
                .position(|r| r.code == region_code)
                .map(|p| ids.regions[p])
                .expect("a region");
            let respondent = insert_returning(
                db,
                "survey_respondent",
                &["survey_id", "association_id", "region_id", "gender", "area", "weight"],
                vec![
                    (clients_survey as i32).into(),
                    ids.associations[a].into(),
                    region.into(),
                    if (k * 7 + a) % 2 == 0 { "FEMALE" } else { "MALE" }.into(),
                    if (k * 3 + a) % 3 == 0 { "RURAL" } else { "URBAN" }.into(),
                    1.0_f64.into(),
                ],
            )
            .await?;
            let option = income_source_options
                .iter()
                .find(|(code, _)| code == answer_of(i))
                .map(|(_, id)| *id)
                .expect("an option");
            let statement = Query::insert()
                .into_table(Alias::new("survey_answer"))
                .columns([Alias::new("respondent_id"), Alias::new("option_id")])
                .values_panic([respondent.into(), (option as i32).into()])
                .to_owned();
            db.execute(&statement).await?;
            i += 1;
        }
    }
    Ok(i)
}
