//! SDMX for BI tools and statisticians: the structure, data in SDMX-ML and SDMX-CSV as the real clients ask for it
//! (the Power BI connector's exact requests, Excel's URL), the same figures and suppression as `indicators`, and the
//! Python clients `sdmx1` and `pysdmx` run against a live server.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use observatory_tests::{Backend, Fixture, PartnerKind, TestApp, on_both_backends, spawn_app};
use serde_json::json;

async fn get(app: &TestApp, url: &str, headers: &[(&str, &str)]) -> observatory_tests::Reply {
    let mut request = Request::get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

const PAR30: &str = "/sdmx/rest/data/MICROFINANCE/M._T.PAR30_RATE._T._T._T?startPeriod=2020-10&endPeriod=2020-12";

/// The three requests of the Power BI SDMX connector give comma-separated SDMX-CSV 1.0 whose first line starts with
/// `DATAFLOW` (the connector reads the separator at the 9th character), with `CODE: Label` in the language asked for
/// (Arabic intact), and values equal to `indicators`.
async fn power_bi_requests_give_sdmx_csv_with_labels(backend: Backend) {
    let mut app = spawn_app(&backend, Fixture::Demo).await;
    app.set_key(None);
    let truth = app
        .query(
            r#"{ indicators(period: { from: "2020-10", to: "2020-12" }) { period par30Rate { value } } }"#,
            json!({}),
        )
        .await;
    for accept in [
        "application/vnd.sdmx.data+csv;file=true;labels=both",
        "application/vnd.sdmx.data+csv;labels=id",
    ] {
        for language in ["en", "fr", "ar"] {
            let reply = get(&app, PAR30, &[("accept", accept), ("accept-language", language)]).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
            assert!(!reply.text.starts_with('\u{feff}'), "no BOM on the connector's path");
            let first = reply.text.lines().next().unwrap();
            assert!(first.starts_with("DATAFLOW"), "{first}");
            assert_eq!(
                first.chars().nth(8),
                Some(','),
                "the separator is the 9th character: {first}"
            );
            let lines: Vec<&str> = reply.text.lines().skip(1).collect();
            assert_eq!(lines.len(), 3, "{}", reply.text);
            for (line, row) in lines.iter().zip(truth["indicators"].as_array().unwrap()) {
                let cells: Vec<&str> = line.split(',').collect();
                assert_eq!(cells[0], "OBSERVATORY:MICROFINANCE(1.0)");
                assert_eq!(cells[7], row["period"].as_str().unwrap());
                let value: f64 = cells[8].parse().unwrap();
                assert!(
                    (value - row["par30Rate"]["value"].as_f64().unwrap()).abs() < 1e-5,
                    "{line}"
                );
                if accept.contains("labels=both") {
                    let expected = match language {
                        "ar" => "INDICATOR: المؤشر",
                        "fr" => "INDICATOR: Indicateur",
                        _ => "INDICATOR: Indicator",
                    };
                    assert!(first.contains(expected), "{first}");
                    assert!(cells[3].starts_with("PAR30_RATE: "), "{line}");
                    if language == "ar" {
                        assert!(
                            cells[3].chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)),
                            "{line}"
                        );
                    }
                } else {
                    assert_eq!(cells[3], "PAR30_RATE", "{line}");
                }
            }
            if accept.contains("file=true") {
                assert!(
                    reply.headers[header::CONTENT_DISPOSITION]
                        .to_str()
                        .unwrap()
                        .contains("attachment")
                );
            }
        }
    }
}
on_both_backends!(power_bi_requests_give_sdmx_csv_with_labels);

/// Excel's download URL gives a CSV file with a BOM, so that Arabic opens intact; SDMX-ML is the default; unknown
/// codes answer 404 and an unsupported format 501; small groups stay hidden as in `indicators`.
async fn excel_sdmx_ml_errors_and_suppression(backend: Backend) {
    let mut app = spawn_app(&backend, Fixture::Demo).await;
    app.set_key(None);
    let excel = get(
        &app,
        &format!("{PAR30}&format=csvfilewithlabels&lang=ar&bom=include"),
        &[],
    )
    .await;
    assert_eq!(excel.status, StatusCode::OK);
    assert!(excel.text.starts_with('\u{feff}'), "a BOM for Excel");
    assert!(excel.text.contains("المؤشر"), "{}", excel.text);
    assert!(
        excel.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("attachment")
    );

    let xml = get(&app, PAR30, &[]).await;
    assert_eq!(xml.status, StatusCode::OK);
    assert!(xml.text.starts_with("<?xml"), "{}", &xml.text[..100]);
    assert!(xml.text.contains("<message:GenericData"));
    assert_eq!(xml.text.matches("<generic:Obs>").count(), 3);

    let structure = get(
        &app,
        "/sdmx/rest/dataflow/OBSERVATORY/MICROFINANCE/latest?references=all",
        &[],
    )
    .await;
    assert_eq!(structure.status, StatusCode::OK);
    for part in [
        "<str:Dataflow id=\"MICROFINANCE\"",
        "<str:TimeDimension id=\"TIME_PERIOD\"",
        "xml:lang=\"ar\"",
    ] {
        assert!(structure.text.contains(part), "{part}");
    }
    let unknown = get(&app, "/sdmx/rest/data/MICROFINANCE/M.XX-99.PAR30_RATE._T._T._T", &[]).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let none = get(
        &app,
        "/sdmx/rest/data/MICROFINANCE/M._T.PAR30_RATE._T._T._T?startPeriod=2010-01&endPeriod=2010-12",
        &[],
    )
    .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    let csv2 = get(
        &app,
        PAR30,
        &[("accept", "application/vnd.sdmx.data+csv;version=2.0.0")],
    )
    .await;
    assert_eq!(csv2.status, StatusCode::NOT_IMPLEMENTED);

    // Every code of every position, with totals, for a month: an ordinary request, answered.
    let everything = get(
        &app,
        "/sdmx/rest/data/MICROFINANCE/M..ACTIVE_CLIENTS...?startPeriod=2020-12&endPeriod=2020-12",
        &[],
    )
    .await;
    assert_eq!(everything.status, StatusCode::OK, "{}", everything.text);
    assert!(everything.text.contains("ACTIVE_CLIENTS"), "{}", everything.text);
    // Every indicator, every frequency and every breakdown over ten years: refused as GraphQL refuses it, before
    // any work.
    let started = std::time::Instant::now();
    let too_much = get(&app, "/sdmx/rest/data/MICROFINANCE/all?startPeriod=2011-01", &[]).await;
    assert_eq!(too_much.status, StatusCode::BAD_REQUEST, "{}", too_much.text);
    assert!(too_much.text.contains("too costly"), "{}", too_much.text);
    assert!(started.elapsed() < std::time::Duration::from_millis(500));

    // Every region × segment cell of a month: what the public sees there equals what `indicators` shows it,
    // confidential cells included (no value, status C).
    let key = "/sdmx/rest/data/MICROFINANCE/M.MA-01+MA-02+MA-03+MA-04+MA-05+MA-06+MA-07+MA-08+MA-09+MA-10+MA-11+MA-12.\
               ACTIVE_CLIENTS.INDIVIDUAL+SOLIDARITY_GROUP+VERY_SMALL_ENTERPRISE._T._T?startPeriod=2020-12&endPeriod=2020-12";
    let csv = get(&app, key, &[("accept", "application/vnd.sdmx.data+csv;labels=id")]).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
    let graphql = app
        .query(
            r#"{ indicators(period: { from: "2020-12", to: "2020-12" }, groupBy: [REGION, SEGMENT]) {
                region { code } segment activeClients { value suppressed } } }"#,
            json!({}),
        )
        .await;
    let (mut hidden, mut shown) = (0, 0);
    for row in graphql["indicators"].as_array().unwrap() {
        let prefix = format!(
            "OBSERVATORY:MICROFINANCE(1.0),M,{},ACTIVE_CLIENTS,{},_T,_T,2020-12,",
            row["region"]["code"].as_str().unwrap(),
            row["segment"].as_str().unwrap()
        );
        let line = csv
            .text
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no {prefix}"));
        if row["activeClients"]["suppressed"].as_bool().unwrap() {
            hidden += 1;
            assert!(line.ends_with(",,NUMBER,0,C"), "{line}");
        } else {
            shown += 1;
            let value = row["activeClients"]["value"].as_f64().unwrap();
            assert!(line.starts_with(&format!("{prefix}{value},")), "{line} vs {value}");
        }
    }
    // (Every region of the demo data has at least three associations in each segment, so here all are shown.)
    assert_eq!(hidden + shown, 36, "{hidden} hidden, {shown} shown");
}
on_both_backends!(excel_sdmx_ml_errors_and_suppression);

/// The Python clients partners use, `sdmx1` and `pysdmx` (which validates SDMX-ML against the SDMX 2.1 schemas),
/// read the structure and the data from a live server (`tests/clients/sdmx_clients.py`). Needs `SDMX_PYTHON`, a
/// Python with both, when the tests are built (`.ci/run` makes one): without it the test is reported ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(sdmx_clients),
    ignore = "SDMX_PYTHON (a Python with sdmx1 and pysdmx[data,xml]) was not set when the tests were built"
)]
async fn sdmx1_and_pysdmx_read_structure_and_data() {
    #[cfg(sdmx_clients)]
    let python = env!("OBSERVATORY_TEST_SDMX_PYTHON");
    #[cfg(not(sdmx_clients))]
    let python = "python3";
    let app = spawn_app(&Backend::Sqlite, Fixture::Demo).await;
    let address = observatory_tests::serve(&app).await;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("clients/sdmx_clients.py");
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .arg(script)
            .arg(format!("http://{address}"))
            .output()
            .expect("Python runs")
    })
    .await
    .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout);
    eprintln!("{printed}");
    assert!(
        output.status.success(),
        "{printed}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(printed.trim_end().ends_with("ok"));
}

/// SDMX answers carry an entity tag per representation: the same one again gets 304 until a write changes the data;
/// another format of the same data does not match it.
async fn sdmx_answers_revalidate_with_their_etag(backend: Backend) {
    let mut app = spawn_app(&backend, Fixture::Demo).await;
    let csv = [("accept", "application/vnd.sdmx.data+csv;labels=id")];
    app.set_key(None);
    let first = get(&app, PAR30, &csv).await;
    assert_eq!(first.status, StatusCode::OK);
    let tag = first.headers[header::ETAG].to_str().unwrap().to_owned();
    assert_eq!(first.headers[header::CACHE_CONTROL], "public, no-cache");
    let again = get(&app, PAR30, &[csv[0], ("if-none-match", tag.as_str())]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.text.is_empty());
    let xml = get(&app, PAR30, &[("if-none-match", tag.as_str())]).await;
    assert_eq!(xml.status, StatusCode::OK, "another representation has its own tag");
    assert_ne!(xml.headers[header::ETAG].to_str().unwrap(), tag);
    let observatory = app.issue_key(observatory_tests::PartnerKind::Observatory, None).await;
    app.set_key(Some(observatory));
    app.query(
        r#"mutation { releasePeriod(period: "2021-03", force: true, note: "etag test") { period } }"#,
        json!({}),
    )
    .await;
    app.set_key(None);
    let after = get(&app, PAR30, &[csv[0], ("if-none-match", tag.as_str())]).await;
    assert_eq!(after.status, StatusCode::OK);
    assert_ne!(after.headers[header::ETAG].to_str().unwrap(), tag);
}
on_both_backends!(sdmx_answers_revalidate_with_their_etag);

/// A key that is not a key (wrong number of positions, an empty code between `+`, characters no SDMX code has) is a
/// syntax error, 400, not "no results"; a well-formed key with an unknown code still finds nothing (404).
async fn malformed_keys_are_syntax_errors(backend: Backend) {
    let mut app = spawn_app(&backend, Fixture::Demo).await;
    app.set_key(None);
    for key in [
        "M._T.PAR30_RATE._T._T",
        "M._T.PAR30_RATE._T._T._T._T",
        "M++Q._T.PAR30_RATE._T._T._T",
        "M._T.PAR30_RATE+._T._T._T",
        "M._T.PAR30%20RATE._T._T._T",
        "M._T.PAR30_RATE%3B._T._T._T",
    ] {
        let reply = get(
            &app,
            &format!("/sdmx/rest/data/MICROFINANCE/{key}?startPeriod=2020-12"),
            &[],
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{key}: {}", reply.text);
        assert!(reply.text.starts_with("SyntaxError: "), "{key}: {}", reply.text);
    }
    let unknown = get(
        &app,
        "/sdmx/rest/data/MICROFINANCE/M._T.NO_SUCH_INDICATOR._T._T._T",
        &[],
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text);
    assert!(unknown.text.starts_with("NoResultsFound: "), "{}", unknown.text);
}
on_both_backends!(malformed_keys_are_syntax_errors);

/// `Accept` is read as HTTP defines it: the acceptable type of highest quality is served, a type with `q=0` never,
/// and a request that accepts none of the formats served (SDMX-JSON, SDMX-CSV 2.0) answers 501, as documented.
async fn accept_chooses_among_the_formats_served(backend: Backend) {
    let mut app = spawn_app(&backend, Fixture::Demo).await;
    app.set_key(None);
    for (accept, expected) in [
        ("application/vnd.sdmx.data+json", None),
        ("application/vnd.sdmx.data+json;version=1.0.0", None),
        ("application/vnd.sdmx.data+csv;q=0", None),
        ("application/vnd.sdmx.data+csv;version=2.0.0", None),
        (
            "application/vnd.sdmx.data+csv;q=0, application/vnd.sdmx.genericdata+xml;version=2.1",
            Some("<message:GenericData"),
        ),
        (
            "application/vnd.sdmx.structurespecificdata+xml;version=2.1;q=0, application/vnd.sdmx.data+csv",
            Some("DATAFLOW,"),
        ),
        (
            "application/vnd.sdmx.genericdata+xml;q=0.5, application/vnd.sdmx.data+csv;q=0.9",
            Some("DATAFLOW,"),
        ),
        (
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            Some("<message:GenericData"),
        ),
        ("*/*", Some("<message:GenericData")),
    ] {
        let reply = get(&app, PAR30, &[("accept", accept)]).await;
        match expected {
            None => {
                assert_eq!(reply.status, StatusCode::NOT_IMPLEMENTED, "{accept}: {}", reply.text);
                assert!(reply.text.starts_with("NotImplemented: "), "{accept}: {}", reply.text);
            }
            Some(start) => {
                assert_eq!(reply.status, StatusCode::OK, "{accept}: {}", reply.text);
                assert!(reply.text.contains(start), "{accept}: {}", &reply.text[..200]);
            }
        }
    }
}
on_both_backends!(accept_chooses_among_the_formats_served);

/// The second dataflow, `MICROFINANCE_ACT` (`FREQ.REF_AREA.INDICATOR.ACTIVITY`), carries the loan indicators by
/// economic activity with the same figures and hiding as `indicators` grouped by ACTIVITY; its `_T` activity is the
/// loans table's figure; `MICROFINANCE` keeps its six positions; the structure describes both.
async fn the_activity_dataflow_gives_indicators_by_activity(backend: Backend) {
    let mut app = spawn_app(&backend, Fixture::Demo).await;
    app.set_key(None);
    let truth = app
        .query(
            r#"{ byActivity: indicators(period: { from: "2020-12", to: "2020-12" }, groupBy: [REGION, ACTIVITY],
                   filter: { regions: ["MA-06", "MA-12"] }) {
                   region { code } activity disbursedAmount { value suppressed } par30Rate { value suppressed } }
                 total: indicators(period: { from: "2020-12", to: "2020-12" }, groupBy: [REGION],
                   filter: { regions: ["MA-06", "MA-12"] }) { region { code } disbursedAmount { value } } }"#,
            json!({}),
        )
        .await;
    let url = "/sdmx/rest/data/MICROFINANCE_ACT/M.MA-06+MA-12.DISBURSED_AMOUNT+PAR30_RATE.\
               ?startPeriod=2020-12&endPeriod=2020-12&format=csvfile";
    let reply = get(&app, url, &[]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let mut lines = reply.text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "DATAFLOW,FREQ,REF_AREA,INDICATOR,ACTIVITY,TIME_PERIOD,OBS_VALUE,UNIT_MEASURE,UNIT_MULT,OBS_STATUS"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let mut compared = 0;
    for row in truth["byActivity"].as_array().unwrap() {
        for (code, field) in [("DISBURSED_AMOUNT", "disbursedAmount"), ("PAR30_RATE", "par30Rate")] {
            let line = rows
                .iter()
                .find(|r| {
                    r[2] == row["region"]["code"].as_str().unwrap()
                        && r[3] == code
                        && r[4] == row["activity"].as_str().unwrap()
                })
                .unwrap_or_else(|| panic!("{row} {code} in\n{}", reply.text));
            assert_eq!(line[0], "OBSERVATORY:MICROFINANCE_ACT(1.0)");
            if row[field]["suppressed"] == json!(true) {
                assert_eq!((line[6], line[9]), ("", "C"), "{line:?}");
            } else {
                let value: f64 = line[6].parse().unwrap();
                assert!(
                    (value - row[field]["value"].as_f64().unwrap()).abs() < 1e-6,
                    "{line:?} {row}"
                );
                compared += 1;
            }
        }
    }
    assert!(compared > 20, "{compared} observations compared");
    for row in truth["total"].as_array().unwrap() {
        let line = rows
            .iter()
            .find(|r| r[2] == row["region"]["code"].as_str().unwrap() && r[3] == "DISBURSED_AMOUNT" && r[4] == "_T")
            .expect("the total over every activity");
        let value: f64 = line[6].parse().unwrap();
        assert!((value - row["disbursedAmount"]["value"].as_f64().unwrap()).abs() < 1e-6);
    }
    // The first dataflow's keys keep six positions; a key of the wrong length or an indicator without an activity
    // breakdown says what the flow accepts.
    let six = get(
        &app,
        "/sdmx/rest/data/MICROFINANCE/M._T.DISBURSED_AMOUNT._T._T._T?startPeriod=2020-12",
        &[],
    )
    .await;
    assert_eq!(six.status, StatusCode::OK, "{}", six.text);
    let short = get(
        &app,
        "/sdmx/rest/data/MICROFINANCE_ACT/M._T.DISBURSED_AMOUNT._T._T._T",
        &[],
    )
    .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert!(
        short.text.contains("FREQ.REF_AREA.INDICATOR.ACTIVITY"),
        "{}",
        short.text
    );
    let clients = get(&app, "/sdmx/rest/data/MICROFINANCE_ACT/M._T.ACTIVE_CLIENTS._T", &[]).await;
    assert_eq!(clients.status, StatusCode::NOT_FOUND);
    assert!(clients.text.contains("no breakdown by ACTIVITY"), "{}", clients.text);
    let structure = get(&app, "/sdmx/rest/dataflow/OBSERVATORY/MICROFINANCE_ACT/latest", &[]).await;
    assert_eq!(structure.status, StatusCode::OK);
    for id in [
        r#"Dataflow id="MICROFINANCE""#,
        r#"Dataflow id="MICROFINANCE_ACT""#,
        r#"DataStructure id="DSD_MICROFINANCE_ACT""#,
        r#"Codelist id="CL_ACTIVITY""#,
        r#"Code id="UTILITIES_CONNECTION""#,
    ] {
        assert!(structure.text.contains(id), "{id}");
    }
}
on_both_backends!(the_activity_dataflow_gives_indicators_by_activity);

/// The third dataflow, `MICROFINANCE_FIN` (`FREQ.REF_AREA.INDICATOR.PEER_GROUP.STATISTIC`), carries the financial
/// ratios: under `_T` and `AGG` the sector's ratio of sums as `indicators` gives it, under a peer group the
/// statistics `peers` gives the same caller (withheld ones, and a group's ratio of sums for the public, `C`).
async fn the_financial_dataflow_gives_ratios_and_peer_statistics(backend: Backend) {
    let mut app = spawn_app(&backend, Fixture::Demo).await;
    let partner = app.key_with(PartnerKind::Fund, None, &["read"]).await;
    for key in [None, Some(partner)] {
        app.set_key(key.clone());
        let truth = app
            .query(
                r#"{ sector: indicators(period: { from: "2020-Q4", to: "2020-Q4", granularity: QUARTER }) {
                       operationalSelfSufficiency { value } riskCoverage { value } }
                     peers(period: "2020-Q4", measure: "OSS", dimension: SCALE) {
                       group { code } n p25 median p75 suppressed aggregate { value } } }"#,
                json!({}),
            )
            .await;
        let url = "/sdmx/rest/data/MICROFINANCE_FIN/Q._T.OSS+RISK_COVERAGE..AGG+MEDIAN+P25+P75+N\
                   ?startPeriod=2020-Q4&endPeriod=2020-Q4&format=csvfile";
        let bearer = key.as_ref().map(|k| format!("Bearer {k}"));
        let headers: Vec<(&str, &str)> = bearer.iter().map(|b| ("authorization", b.as_str())).collect();
        let reply = get(&app, url, &headers).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let mut lines = reply.text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "DATAFLOW,FREQ,REF_AREA,INDICATOR,PEER_GROUP,STATISTIC,TIME_PERIOD,OBS_VALUE,UNIT_MEASURE,UNIT_MULT,OBS_STATUS"
        );
        let rows: Vec<Vec<String>> = lines.map(|l| l.split(',').map(str::to_owned).collect()).collect();
        let find = |indicator: &str, group: &str, statistic: &str| {
            rows.iter()
                .find(|r| r[3] == indicator && r[4] == group && r[5] == statistic && r[6] == "2020-Q4")
                .cloned()
                .unwrap_or_else(|| panic!("{indicator} {group} {statistic} in\n{}", reply.text))
        };
        let number = |row: &[String]| row[7].parse::<f64>().unwrap_or_else(|_| panic!("a value in {row:?}"));
        let sector = &truth["sector"][0];
        assert!(
            (number(&find("OSS", "_T", "AGG")) - sector["operationalSelfSufficiency"]["value"].as_f64().unwrap()).abs()
                < 1e-5
        );
        assert!(
            (number(&find("RISK_COVERAGE", "_T", "AGG")) - sector["riskCoverage"]["value"].as_f64().unwrap()).abs()
                < 1e-5
        );
        for group in truth["peers"].as_array().unwrap() {
            let code = format!("SCALE_{}", group["group"]["code"].as_str().unwrap());
            assert_eq!(number(&find("OSS", &code, "N")), group["n"].as_f64().unwrap());
            for (statistic, field) in [("P25", "p25"), ("MEDIAN", "median"), ("P75", "p75")] {
                let row = find("OSS", &code, statistic);
                if group["suppressed"] == json!(true) {
                    assert_eq!((row[7].as_str(), row[10].as_str()), ("", "C"), "{row:?}");
                } else {
                    assert!((number(&row) - group[field].as_f64().unwrap()).abs() < 1e-5, "{row:?}");
                }
            }
            let aggregate = find("OSS", &code, "AGG");
            match group["aggregate"]["value"].as_f64() {
                Some(value) => assert!((number(&aggregate) - value).abs() < 1e-5),
                None => assert_eq!(aggregate[10], "C", "the public never reads a group's ratio of sums"),
            }
        }
        if key.is_none() {
            assert!(rows.iter().any(|r| r[10] == "C"), "the public has withheld statistics");
        }
    }
    let monthly = get(&app, "/sdmx/rest/data/MICROFINANCE_FIN/M._T.OSS.._T", &[]).await;
    assert_eq!(monthly.status, StatusCode::NOT_FOUND);
    assert!(
        monthly.text.contains("quarterly (Q) and annual (A)"),
        "{}",
        monthly.text
    );
    let structure = get(&app, "/sdmx/rest/dataflow/OBSERVATORY/MICROFINANCE_FIN/latest", &[]).await;
    for id in [
        r#"Dataflow id="MICROFINANCE_FIN""#,
        r#"DataStructure id="DSD_MICROFINANCE_FIN""#,
        r#"Codelist id="CL_PEER_GROUP""#,
        r#"Code id="SCALE_LARGE""#,
        r#"Codelist id="CL_STATISTIC""#,
        r#"Code id="MEDIAN""#,
    ] {
        assert!(structure.text.contains(id), "{id}");
    }
}
on_both_backends!(the_financial_dataflow_gives_ratios_and_peer_statistics);

/// The fourth dataflow, `SURVEY` (`SURVEY.QUESTION.RESPONSE.REF_AREA.SEX.URBANISATION.STAFF_LEVEL.STATISTIC`), gives
/// what `surveyResults` gives the same caller: shares, interval bounds and bases, withheld groups `C`, estimates from
/// fewer than 50 respondents `U`.
async fn the_survey_dataflow_gives_survey_results(backend: Backend) {
    let mut app = spawn_app(&backend, Fixture::Demo).await;
    app.set_key(None);
    let truth = app
        .query(
            r#"{ surveyResults(survey: "COVID-CLIENTS-2020", questions: ["INCOME_SOURCE"], groupBy: [REGION]) {
                 group { region } base suppressed lowReliability options { code share ciLow ciHigh } } }"#,
            json!({}),
        )
        .await;
    let url = "/sdmx/rest/data/SURVEY/COVID-CLIENTS-2020.INCOME_SOURCE..._T._T._T.SHARE+CI_LOW+CI_HIGH+BASE_N\
               ?format=csvfile";
    let reply = get(&app, url, &[]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let mut lines = reply.text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "DATAFLOW,SURVEY,QUESTION,RESPONSE,REF_AREA,SEX,URBANISATION,STAFF_LEVEL,STATISTIC,TIME_PERIOD,OBS_VALUE,\
         UNIT_MEASURE,UNIT_MULT,OBS_STATUS"
    );
    let rows: Vec<Vec<String>> = lines.map(|l| l.split(',').map(str::to_owned).collect()).collect();
    let mut compared = 0;
    for group in truth["surveyResults"].as_array().unwrap() {
        let region = group["group"]["region"].as_str().unwrap();
        for option in group["options"].as_array().unwrap() {
            let code = option["code"].as_str().unwrap();
            for (statistic, value) in [
                ("SHARE", &option["share"]),
                ("CI_LOW", &option["ciLow"]),
                ("BASE_N", &group["base"]),
            ] {
                let row = rows
                    .iter()
                    .find(|r| r[3] == code && r[4] == region && r[8] == statistic)
                    .unwrap_or_else(|| panic!("{code} {region} {statistic} in\n{}", reply.text));
                assert_eq!(row[9], "2020");
                let status = if group["suppressed"] == json!(true) {
                    "C"
                } else if group["lowReliability"] == json!(true) {
                    "U"
                } else {
                    "A"
                };
                assert_eq!(row[13], status, "{row:?}");
                match value.as_f64() {
                    Some(v) => assert!((row[10].parse::<f64>().unwrap() - v).abs() < 1e-5, "{row:?}"),
                    None => assert_eq!(row[10], "", "{row:?}"),
                }
                compared += 1;
            }
        }
    }
    assert!(compared > 100, "{compared}");
    assert!(rows.iter().any(|r| r[13] == "C") && rows.iter().any(|r| r[13] == "U"));
    let structure = get(&app, "/sdmx/rest/dataflow/OBSERVATORY/SURVEY/latest", &[]).await;
    for id in [
        r#"Dataflow id="SURVEY""#,
        r#"DataStructure id="DSD_SURVEY""#,
        r#"Codelist id="CL_RESPONSE""#,
        r#"Code id="FELL_SHARPLY""#,
        r#"Codelist id="CL_SURVEY_STATISTIC""#,
        r#"Code id="U""#,
    ] {
        assert!(structure.text.contains(id), "{id}");
    }
    let short = get(&app, "/sdmx/rest/data/SURVEY/COVID-CLIENTS-2020.INCOME_SOURCE", &[]).await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
}
on_both_backends!(the_survey_dataflow_gives_survey_results);
