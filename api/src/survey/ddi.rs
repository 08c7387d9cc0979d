//! A survey's study and questionnaire as DDI-Codebook 2.5 XML (`GET /ddi/{survey}.xml`): the study description
//! (titles, producers, fieldwork dates, nation, unit, universe, kind of data, sampling, mode, instrument, weighting,
//! methodology) and one variable per question with its text, universe and categories, each with the share (and count
//! where microdata exists) the caller may read for the whole survey. The document runs `surveys` and `surveyResults`
//! through the request pipeline with the caller's role, as every page does.

use crate::http::AppState;
use crate::labels::Language;
use crate::note::routes::{Ran, refused, run_document};
use crate::sdmx::xml::Xml;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// The namespace of DDI-Codebook 2.5.
pub const NAMESPACE: &str = "ddi:codebook:2_5";

fn document(survey: &str) -> String {
    format!(
        "query Codebook {{ surveys {{ code titleFr titleAr titleEn population unit fieldworkFrom fieldworkTo mode \
         platform partners instrument sampling weighting respondents dataLevel methodology questions {{ code textFr \
         textAr textEn type universe sourceNote options {{ code labelFr labelAr labelEn kind parent }} }} }} \
         surveyResults(survey: \"{survey}\") {{ question source base suppressed options {{ code share count }} }} }}"
    )
}

/// `GET /ddi/{survey}.xml`.
pub async fn codebook(
    State(state): State<AppState>,
    Path(file): Path<String>,
    request: axum::extract::Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let Some(code) = file
        .strip_suffix(".xml")
        .filter(|c| !c.is_empty() && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_'))
    else {
        return refused(
            StatusCode::NOT_FOUND,
            "no such codebook: ask /ddi/{survey}.xml, for example /ddi/COVID-CLIENTS-2020.xml",
        );
    };
    let Ran { data, rate_headers, .. } =
        match run_document(&state, &parts, document(code), "Codebook", Language::En).await {
            Ok(ran) => ran,
            Err(refusal) => return refusal,
        };
    let Some(survey) = data["surveys"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["code"] == code)
    else {
        return refused(StatusCode::NOT_FOUND, &format!("no released survey `{code}`"));
    };
    let mut response = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml; charset=utf-8"),
        )],
        write(survey, &data["surveyResults"]),
    )
        .into_response();
    response.headers_mut().extend(rate_headers);
    response
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The codebook of a survey from its description and its results for the whole survey.
pub fn write(survey: &Value, results: &Value) -> String {
    const ROOT: &str = "codeBook";
    let code = text(&survey["code"]);
    let mut xml = Xml::message(
        ROOT,
        &[
            ("xmlns", NAMESPACE),
            ("xmlns:xml", "http://www.w3.org/XML/1998/namespace"),
            ("version", "2.5"),
            ("ID", &code),
        ],
    );
    let titles = |xml: &mut Xml| {
        xml.text("titl", &[("xml:lang", "en")], &text(&survey["titleEn"]))
            .text("parTitl", &[("xml:lang", "fr")], &text(&survey["titleFr"]))
            .text("parTitl", &[("xml:lang", "ar")], &text(&survey["titleAr"]));
    };
    xml.open("docDscr", &[]).open("citation", &[]).open("titlStmt", &[]);
    titles(&mut xml);
    xml.close("titlStmt")
        .open("prodStmt", &[])
        .text("producer", &[], "Microfinance Observatory API")
        .close("prodStmt")
        .close("citation")
        .close("docDscr");
    xml.open("stdyDscr", &[]).open("citation", &[]).open("titlStmt", &[]);
    titles(&mut xml);
    xml.text("IDNo", &[], &code)
        .close("titlStmt")
        .open("prodStmt", &[])
        .text("producer", &[], &text(&survey["partners"]))
        .close("prodStmt")
        .close("citation");
    let (from, to) = (text(&survey["fieldworkFrom"]), text(&survey["fieldworkTo"]));
    xml.open("stdyInfo", &[])
        .open("sumDscr", &[])
        .text("collDate", &[("date", from.as_str()), ("event", "start")], &from)
        .text("collDate", &[("date", to.as_str()), ("event", "end")], &to)
        .text("nation", &[("abbr", "MA")], "Morocco")
        .text("anlyUnit", &[], &text(&survey["unit"]))
        .text("universe", &[], &text(&survey["population"]))
        .text("dataKind", &[], &text(&survey["dataLevel"]))
        .close("sumDscr")
        .close("stdyInfo");
    xml.open("method", &[]).open("dataColl", &[]);
    xml.text("sampProc", &[], &text(&survey["sampling"]))
        .text("collMode", &[], &text(&survey["mode"]));
    if !survey["instrument"].is_null() {
        xml.text("resInstru", &[], &text(&survey["instrument"]));
    }
    xml.text("weight", &[], &text(&survey["weighting"]))
        .close("dataColl")
        .text("notes", &[], &text(&survey["methodology"]))
        .close("method")
        .close("stdyDscr");
    xml.open("dataDscr", &[]);
    for (index, question) in survey["questions"].as_array().into_iter().flatten().enumerate() {
        let q_code = text(&question["code"]);
        let result = results
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["question"] == question["code"]);
        let id = format!("V{}", index + 1);
        let mut attributes = vec![("ID", id.as_str()), ("name", q_code.as_str())];
        let responses = if question["type"] == "MULTIPLE_CHOICE" {
            "multiple"
        } else {
            "single"
        };
        attributes.push(("representationType", "text"));
        xml.open("var", &attributes)
            .text("labl", &[("xml:lang", "en")], &text(&question["textEn"]))
            .text("labl", &[("xml:lang", "fr")], &text(&question["textFr"]))
            .text("labl", &[("xml:lang", "ar")], &text(&question["textAr"]))
            .open("qstn", &[("responseDomainType", "category")])
            .text("qstnLit", &[], &text(&question["textEn"]))
            .close("qstn")
            .text("universe", &[], &text(&question["universe"]));
        if let Some(base) = result.and_then(|r| r["base"].as_i64()) {
            xml.text("sumStat", &[("type", "vald")], &base.to_string());
        }
        xml.text(
            "txt",
            &[],
            &format!("{responses} response; {}", text(&question["sourceNote"])),
        );
        for option in question["options"].as_array().into_iter().flatten() {
            let estimate = result.and_then(|r| {
                r["options"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|o| o["code"] == option["code"])
            });
            xml.open("catgry", &[])
                .text("catValu", &[], &text(&option["code"]))
                .text("labl", &[("xml:lang", "en")], &text(&option["labelEn"]))
                .text("labl", &[("xml:lang", "fr")], &text(&option["labelFr"]))
                .text("labl", &[("xml:lang", "ar")], &text(&option["labelAr"]));
            if let Some(share) = estimate.and_then(|e| e["share"].as_f64()) {
                xml.text("catStat", &[("type", "percent")], &format!("{share}"));
            }
            if let Some(count) = estimate.and_then(|e| e["count"].as_i64()) {
                xml.text("catStat", &[("type", "freq")], &count.to_string());
            }
            xml.close("catgry");
        }
        xml.close("var");
    }
    xml.close("dataDscr");
    xml.finish(ROOT)
}
