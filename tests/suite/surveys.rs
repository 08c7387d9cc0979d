//! Surveys: the 2020 surveys give back every share the activity report printed, exactly, with the nets the options
//! allow and the share a question left unaccounted (never a remainder spread over the options, a missing figure left
//! null); the synthetic microdata's breakdowns follow the small-base rules for each reader and the monthly rows'
//! access by association.

use observatory_tests::{Backend, Fixture, PartnerKind, on_both_backends, spawn_app};
use serde_json::{Value, json};

const RESULTS: &str = "question source base unaccountedShare suppressed reason belowMinimumBase lowReliability
    group { association gender area } options { code share count ciLow ciHigh } nets { code share }";

/// The published figures of the 2020 activity report: survey, question, option or net, share (`None`: not printed).
const PUBLISHED: &[(&str, &str, &str, Option<f64>)] = &[
    ("COVID-CLIENTS-2020", "HOUSEHOLD_SITUATION", "DETERIORATED", Some(94.0)),
    ("COVID-CLIENTS-2020", "COPING", "USED_SAVINGS", Some(62.0)),
    ("COVID-CLIENTS-2020", "COPING", "STOPPED_REPAYING", Some(24.0)),
    ("COVID-CLIENTS-2020", "INCOME_SOURCE", "FELL_SHARPLY", Some(77.0)),
    ("COVID-CLIENTS-2020", "INCOME_SOURCE", "FELL_LESS", Some(15.0)),
    ("COVID-CLIENTS-2020", "INCOME_SOURCE", "STABLE", Some(7.0)),
    ("COVID-CLIENTS-2020", "INCOME_SOURCE", "IMPROVED_SLIGHTLY", Some(1.0)),
    ("COVID-CLIENTS-2020", "LIQUIDITY", "NORMAL", Some(71.0)),
    (
        "COVID-CLIENTS-2020",
        "LIQUIDITY",
        "SIGNIFICANT_DIFFICULTIES",
        Some(27.0),
    ),
    (
        "COVID-CLIENTS-2020",
        "EXPECTATIONS",
        "PREVENTION_INFORMATION",
        Some(38.0),
    ),
    ("COVID-CLIENTS-2020", "EXPECTATIONS", "SHORT_DEFERRAL", Some(24.0)),
    ("COVID-CLIENTS-2020", "EXPECTATIONS", "EXEMPTION", Some(21.0)),
    ("COVID-CLIENTS-2020", "EXPECTATIONS", "RESCHEDULING", Some(7.0)),
    ("COVID-CLIENTS-2020", "EXPECTATIONS", "EMERGENCY_LOAN", Some(5.0)),
    (
        "COVID-STAFF-2020",
        "AMC_FINANCIAL_SITUATION",
        "DETERIORATED",
        Some(81.0),
    ),
    (
        "COVID-STAFF-2020",
        "AMC_FINANCIAL_SITUATION",
        "DETERIORATED_SEVERELY",
        Some(21.0),
    ),
    ("COVID-STAFF-2020", "PAR_DURING_CRISIS", "ROSE", Some(97.0)),
    ("COVID-STAFF-2020", "MOST_AFFECTED_ACTIVITY", "AGRICULTURE", Some(44.0)),
    ("COVID-STAFF-2020", "MOST_AFFECTED_ACTIVITY", "SMALL_TRADE", None),
    ("COVID-STAFF-2020", "MOST_AFFECTED_ACTIVITY", "SERVICES", Some(9.0)),
    ("COVID-STAFF-2020", "REPAYMENT_DISCIPLINE", "FELL_SHARPLY", Some(70.0)),
    ("COVID-STAFF-2020", "REPAYMENT_DISCIPLINE", "FELL_SLIGHTLY", Some(25.0)),
];

async fn results(app: &observatory_tests::TestApp, key: Option<&str>, arguments: &str) -> observatory_tests::Reply {
    app.graphql_as(
        key,
        &format!("{{ surveyResults({arguments}) {{ {RESULTS} }} }}"),
        json!({}),
    )
    .await
}

async fn the_2020_surveys_give_every_published_share_exactly(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let mut by_survey: std::collections::HashMap<&str, Vec<Value>> = Default::default();
    for survey in ["COVID-CLIENTS-2020", "COVID-STAFF-2020"] {
        let reply = results(&app, None, &format!("survey: \"{survey}\"")).await;
        by_survey.insert(survey, reply.data()["surveyResults"].as_array().unwrap().clone());
    }
    for (survey, question, option, share) in PUBLISHED {
        let row = by_survey[survey]
            .iter()
            .find(|r| r["question"] == *question)
            .unwrap_or_else(|| panic!("{survey} {question}"));
        let found = row["options"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["code"] == *option)
            .unwrap_or_else(|| panic!("{option} of {question}"));
        assert_eq!(found["share"].as_f64(), *share, "{survey} {question} {option}");
    }
    let find = |survey: &str, question: &str| {
        by_survey[survey]
            .iter()
            .find(|r| r["question"] == question)
            .unwrap()
            .clone()
    };
    // Nets where the options allow; the unaccounted share where the printed shares fall short of 100, and none where a
    // figure is missing.
    let net = |row: &Value, code: &str| {
        row["nets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["code"] == code)
            .unwrap()["share"]
            .clone()
    };
    assert_eq!(net(&find("COVID-CLIENTS-2020", "INCOME_SOURCE"), "FELL"), 92.0);
    assert_eq!(
        net(&find("COVID-CLIENTS-2020", "EXPECTATIONS"), "REPAYMENT_RELIEF"),
        52.0
    );
    assert_eq!(net(&find("COVID-STAFF-2020", "REPAYMENT_DISCIPLINE"), "FELL"), 95.0);
    for (survey, question, unaccounted) in [
        ("COVID-CLIENTS-2020", "HOUSEHOLD_SITUATION", json!(6.0)),
        ("COVID-CLIENTS-2020", "COPING", json!(14.0)),
        ("COVID-CLIENTS-2020", "LIQUIDITY", json!(2.0)),
        ("COVID-CLIENTS-2020", "EXPECTATIONS", json!(5.0)),
        ("COVID-CLIENTS-2020", "INCOME_SOURCE", Value::Null),
        ("COVID-STAFF-2020", "AMC_FINANCIAL_SITUATION", json!(19.0)),
        ("COVID-STAFF-2020", "MOST_AFFECTED_ACTIVITY", Value::Null),
        ("COVID-STAFF-2020", "REPAYMENT_DISCIPLINE", json!(5.0)),
    ] {
        assert_eq!(
            find(survey, question)["unaccountedShare"],
            unaccounted,
            "{survey} {question}"
        );
    }
    let income = find("COVID-CLIENTS-2020", "INCOME_SOURCE");
    assert_eq!(income["source"], "MICRODATA");
    assert_eq!(income["base"], 1000);
    let published = find("COVID-STAFF-2020", "PAR_DURING_CRISIS");
    assert_eq!(
        (published["source"].as_str(), &published["base"]),
        (Some("PUBLISHED"), &Value::Null)
    );
    assert!(published["options"][0]["ciLow"].is_null(), "no base, no interval");
    let surveys = app
        .query(
            "{ surveys { code respondents sampling weighting dataLevel questions { code options { code parent } } } }",
            json!({}),
        )
        .await;
    let staff = &surveys["surveys"][1];
    assert_eq!(staff["code"], "COVID-STAFF-2020");
    assert!(staff["respondents"].is_null());
    assert_eq!(
        (staff["sampling"].as_str(), staff["weighting"].as_str()),
        (Some("UNKNOWN"), Some("UNKNOWN"))
    );
    assert_eq!(staff["questions"][0]["options"][1]["parent"], "DETERIORATED");
}
on_both_backends!(the_2020_surveys_give_every_published_share_exactly);

/// The synthetic microdata by gender and area and by association: groups of fewer than 30 are withheld from the
/// public with a sibling so that none is given back by the total, partners see every group flagged, each group's
/// shares are the microdata's; by association, the public is refused and an association sees its own only.
async fn breakdowns_follow_the_small_base_rules_and_access(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let partner = app.key_with(PartnerKind::Fund, None, &["read"]).await;
    let member = app.key_with(PartnerKind::Association, Some("TAFOUKT"), &["read"]).await;
    let arguments = r#"survey: "COVID-CLIENTS-2020", questions: ["INCOME_SOURCE"], groupBy: [ASSOCIATION]"#;
    let by_association = results(&app, Some(&partner), arguments).await;
    let groups = by_association.data()["surveyResults"].as_array().unwrap().clone();
    assert_eq!(groups.len(), 13);
    let total: i64 = groups.iter().map(|g| g["base"].as_i64().unwrap()).sum();
    assert_eq!(total, 1000);
    let small: Vec<&Value> = groups.iter().filter(|g| g["base"].as_i64().unwrap() < 30).collect();
    assert!(
        !small.is_empty(),
        "the demo has associations of fewer than 30 respondents"
    );
    for g in &groups {
        assert_eq!(g["belowMinimumBase"], g["base"].as_i64().unwrap() < 30, "{g}");
        assert_eq!(g["suppressed"], false, "partners see every group");
        let counts: i64 = g["options"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["count"].as_i64().unwrap())
            .sum();
        assert_eq!(counts, g["base"].as_i64().unwrap());
    }
    assert_eq!(results(&app, None, arguments).await.codes(), vec!["FORBIDDEN"]);
    let own = results(&app, Some(&member), arguments).await;
    let own = own.data()["surveyResults"].as_array().unwrap().clone();
    assert_eq!(own.len(), 1);
    assert_eq!(own[0]["group"]["association"], "TAFOUKT");
    // By gender and area for the public: every group of fewer than 30 is withheld, and no line of siblings keeps a
    // single withheld group.
    let arguments = r#"survey: "COVID-CLIENTS-2020", questions: ["INCOME_SOURCE"], groupBy: [GENDER, AREA]"#;
    let public = results(&app, None, arguments).await.data()["surveyResults"]
        .as_array()
        .unwrap()
        .clone();
    let seen = results(&app, Some(&partner), arguments).await.data()["surveyResults"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(public.len(), seen.len());
    for (p, s) in public.iter().zip(&seen) {
        assert_eq!(p["group"], s["group"]);
        if s["base"].as_i64().unwrap() < 30 {
            assert!(
                p["suppressed"] == true && p["options"][0]["share"].is_null() && p["base"].is_null(),
                "{p}"
            );
        } else if p["suppressed"] == false {
            assert_eq!(p["options"], s["options"]);
        }
    }
    // By region, where some regions have few respondents: each is withheld from the public for its base, and the
    // smallest region shown beside it is withheld too, so that the whole survey minus the regions shown does not give
    // it back.
    let arguments = r#"survey: "COVID-CLIENTS-2020", questions: ["INCOME_SOURCE"], groupBy: [REGION]"#;
    let by_region = app
        .graphql_as(
            None,
            &format!("{{ surveyResults({arguments}) {{ suppressed reason base group {{ region }} }} }}"),
            json!({}),
        )
        .await
        .data()["surveyResults"]
        .as_array()
        .unwrap()
        .clone();
    let sizes = app
        .graphql_as(
            Some(&partner),
            &format!("{{ surveyResults({arguments}) {{ base group {{ region }} }} }}"),
            json!({}),
        )
        .await
        .data()["surveyResults"]
        .as_array()
        .unwrap()
        .clone();
    let low: Vec<&Value> = by_region.iter().filter(|r| r["reason"] == "LOW_BASE").collect();
    let complementary: Vec<&Value> = by_region.iter().filter(|r| r["reason"] == "COMPLEMENTARY").collect();
    assert!(!low.is_empty(), "{by_region:?}");
    assert_ne!(low.len() + complementary.len(), 1, "never a single withheld region");
    for (shown, size) in by_region.iter().zip(&sizes) {
        let base = size["base"].as_i64().unwrap();
        assert_eq!(shown["reason"] == "LOW_BASE", base < 30, "{shown} {size}");
    }
    if low.len() == 1 {
        let smallest_shown = sizes
            .iter()
            .filter(|s| s["base"].as_i64().unwrap() >= 30)
            .map(|s| s["base"].as_i64().unwrap())
            .min()
            .unwrap();
        let hidden_sibling = sizes
            .iter()
            .zip(&by_region)
            .find(|(_, r)| r["reason"] == "COMPLEMENTARY")
            .map(|(s, _)| s["base"].as_i64().unwrap())
            .unwrap();
        assert_eq!(
            hidden_sibling, smallest_shown,
            "the smallest sibling is withheld with it"
        );
    }
    // The whole survey and a missing question.
    let refused = results(
        &app,
        None,
        r#"survey: "COVID-CLIENTS-2020", questions: ["COPING"], groupBy: [GENDER]"#,
    )
    .await;
    assert_eq!(refused.codes(), vec!["BAD_USER_INPUT"]);
    assert!(refused.message().contains("whole survey only"), "{}", refused.message());
    let unknown = results(&app, None, r#"survey: "COVID-CLIENTS-2020", questions: ["NOPE"]"#).await;
    assert_eq!(unknown.codes(), vec!["BAD_USER_INPUT"]);
}
on_both_backends!(breakdowns_follow_the_small_base_rules_and_access);

/// The observatory loads a survey's microdata: a file with any problem is refused whole, each problem with its line,
/// column and rule, and stores nothing; a valid one replaces the microdata (audited), and the results are estimated
/// from it with its weights; no one else may load.
async fn microdata_is_loaded_whole_or_not_at_all(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let partner = app.key_with(PartnerKind::Fund, None, &["read", "write"]).await;
    let load = "mutation($csv: String!) { loadSurveyMicrodata(survey: \"COVID-STAFF-2020\", csv: $csv) }";
    let bad = "respondent,weight,region,REPAYMENT_DISCIPLINE,SHOE_SIZE\n\
               1,1,MA-06,FELL_SHARPLY,42\n\
               2,0,MA-99,FELL_SHARPLY|FELL_SLIGHTLY,41\n\
               2,2,MA-06,NEVER,40\n";
    let reply = app.graphql(load, json!({ "csv": bad })).await;
    assert_eq!(reply.codes(), vec!["BAD_USER_INPUT"], "{}", reply.body);
    let rules: Vec<(i64, String)> = reply.body["errors"][0]["extensions"]["report"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_i64().unwrap(), e["rule"].as_str().unwrap().to_owned()))
        .collect();
    for expected in [
        (1, "UNKNOWN_COLUMN"),
        (3, "INVALID_WEIGHT"),
        (3, "UNKNOWN_CODE"),
        (3, "TOO_MANY_ANSWERS"),
        (4, "DUPLICATE_CELL"),
        (4, "UNKNOWN_OPTION"),
    ] {
        assert!(
            rules.contains(&(expected.0, expected.1.to_owned())),
            "{expected:?} in {rules:?}"
        );
    }
    let published = results(
        &app,
        None,
        r#"survey: "COVID-STAFF-2020", questions: ["REPAYMENT_DISCIPLINE"]"#,
    )
    .await;
    assert_eq!(
        published.data()["surveyResults"][0]["source"],
        "PUBLISHED",
        "nothing was stored"
    );
    // Weights 1, 2, 3 and 2: FELL_SHARPLY weighs 3 of 8, 37.5 %; the effective base is 64 ÷ 18.
    let good = "respondent,weight,REPAYMENT_DISCIPLINE\n1,1,FELL_SHARPLY\n2,2,FELL_SHARPLY\n3,3,FELL_SLIGHTLY\n4,2,FELL_SLIGHTLY\n";
    let reply = app.graphql(load, json!({ "csv": good })).await;
    assert_eq!(reply.data()["loadSurveyMicrodata"], 4);
    let seen = app
        .query(
            &format!(
                "{{ surveyResults(survey: \"COVID-STAFF-2020\", questions: [\"REPAYMENT_DISCIPLINE\"]) {{ {RESULTS} effectiveBase }} }}"
            ),
            json!({}),
        )
        .await["surveyResults"][0]
        .clone();
    assert_eq!(seen["source"], "MICRODATA");
    assert_eq!(seen["base"], 4);
    assert_eq!(seen["belowMinimumBase"], true);
    assert_eq!(seen["options"][0]["share"], 37.5);
    assert!((seen["effectiveBase"].as_f64().unwrap() - 64.0 / 18.0).abs() < 1e-9);
    assert!(
        (seen["options"][0]["ciLow"].as_f64().unwrap() - 8.50).abs() < 0.01,
        "{seen}"
    );
    assert!(
        (seen["options"][0]["ciHigh"].as_f64().unwrap() - 79.48).abs() < 0.01,
        "{seen}"
    );
    let public = results(
        &app,
        None,
        r#"survey: "COVID-STAFF-2020", questions: ["REPAYMENT_DISCIPLINE"]"#,
    )
    .await;
    let public = &public.data()["surveyResults"][0];
    assert_eq!(
        (public["suppressed"].as_bool(), public["reason"].as_str()),
        (Some(true), Some("LOW_BASE"))
    );
    assert!(public["options"][0]["share"].is_null());
    let refused = app.graphql_as(Some(&partner), load, json!({ "csv": good })).await;
    assert_eq!(refused.codes(), vec!["FORBIDDEN"]);
}
on_both_backends!(microdata_is_loaded_whole_or_not_at_all);

/// Each survey's study and questionnaire as DDI-Codebook 2.5: the study's titles, fieldwork and methods, one variable
/// per question with its categories and the shares (and counts) the caller may read.
async fn each_survey_has_a_ddi_codebook(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let get = |path: &'static str| {
        let app = &app;
        async move {
            app.send(axum::http::Request::get(path).body(axum::body::Body::empty()).unwrap())
                .await
        }
    };
    let reply = get("/ddi/COVID-CLIENTS-2020.xml").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(reply.content_type.starts_with("application/xml"));
    for part in [
        r#"<codeBook xmlns="ddi:codebook:2_5""#,
        "<IDNo>COVID-CLIENTS-2020</IDNo>",
        r#"<collDate date="2020-06-11" event="start">"#,
        r#"<var ID="V3" name="INCOME_SOURCE""#,
        "<catValu>FELL_SHARPLY</catValu>",
        r#"<catStat type="percent">77</catStat><catStat type="freq">770</catStat>"#,
        r#"<catStat type="percent">71</catStat></catgry>"#,
        "</codeBook>",
    ] {
        assert!(reply.text.contains(part), "{part} in {}", reply.text);
    }
    let staff = get("/ddi/COVID-STAFF-2020.xml").await;
    assert!(staff.text.contains("<catValu>SMALL_TRADE</catValu>"), "{}", staff.text);
    assert_eq!(get("/ddi/NOPE.xml").await.status, 404);
    assert_eq!(get("/ddi/COVID-CLIENTS-2020.json").await.status, 404);
}
on_both_backends!(each_survey_has_a_ddi_codebook);
