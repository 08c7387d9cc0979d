//! The monthly dashboard page: every figure it shows is what `indicators` answers the same caller for the same month
//! and grouping, hidden figures stay hidden, unreleased months stay unseen by the public; partners see their role's
//! figures with their key or a signed link, and expired or changed links are refused; the page renders offline in a
//! real browser.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use observatory_tests::{Backend, Fixture, PartnerKind, Reply, TestApp, on_both_backends, spawn_app};
use serde_json::{Value, json};

const MONTH: &str = "2020-12";
/// The measures the page shows sector-wide against their targets, as `IndicatorRow` fields.
const TARGETED: &[&str] = &["newClients", "disbursedCount", "disbursedAmount", "outstandingAmount"];
/// The measures the page shows by group (with the sector's total). The amount collected is shown where the
/// catalogue has it.
const BROKEN_DOWN: &[&str] = &[
    "disbursedCount",
    "disbursedAmount",
    "repaymentsCollected",
    "collectionRate",
    "outstandingAmount",
    "activeLoans",
    "par30Rate",
];

async fn get(app: &TestApp, path: &str, key: Option<&str>) -> Reply {
    let mut request = Request::get(path);
    if let Some(key) = key {
        request = request.header(header::AUTHORIZATION, format!("Bearer {key}"));
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

/// What `indicators` answers this caller for the month, sector-wide, by region and by activity, compared with the previous month
/// and with the same month a year before.
async fn indicators(app: &TestApp, key: Option<&str>, month: &str) -> Value {
    let catalogue = app.graphql_as(key, "{ indicatorCatalog { field } }", json!({})).await;
    let catalogued = |m: &&&str| {
        catalogue.data()["indicatorCatalog"]
            .as_array()
            .unwrap()
            .iter()
            .any(|entry| entry["field"] == **m)
    };
    let mut shown: Vec<&str> = TARGETED.to_vec();
    shown.extend(BROKEN_DOWN.iter().filter(|m| !TARGETED.contains(m)));
    let sector: Vec<String> = shown
        .iter()
        .filter(catalogued)
        .map(|m| format!("{m} {{ value previous target targetAchievement suppressed }}"))
        .collect();
    let region: Vec<String> = BROKEN_DOWN
        .iter()
        .filter(catalogued)
        .map(|m| format!("{m} {{ value previous target targetAchievement suppressed }}"))
        .collect();
    let query = format!(
        "query($p: PeriodRange!) {{
           sector: indicators(period: $p, compareTo: PREVIOUS_PERIOD) {{ {sector} }}
           sectorYearAgo: indicators(period: $p, compareTo: SAME_PERIOD_PREVIOUS_YEAR) {{ {sector} }}
           region: indicators(period: $p, groupBy: [REGION], compareTo: PREVIOUS_PERIOD) {{
             region {{ code nameFr nameAr nameEn }} {region} }}
           regionYearAgo: indicators(period: $p, groupBy: [REGION], compareTo: SAME_PERIOD_PREVIOUS_YEAR) {{
             region {{ code }} {region} }}
           {activity}
         }}",
        sector = sector.join(" "),
        region = region.join(" "),
        activity = by_activity(&region.join(" ")),
    );
    let reply = app
        .graphql_as(key, &query, json!({ "p": { "from": month, "to": month } }))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.data().clone()
}

/// The text of an HTML page with its character references read.
fn unescape(html: &str) -> String {
    html.replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The fields by economic activity: the same measures as by region.
fn by_activity(measures: &str) -> String {
    format!(
        "activity: indicators(period: $p, groupBy: [ACTIVITY], compareTo: PREVIOUS_PERIOD) {{ activity {measures} }}
         activityYearAgo: indicators(period: $p, groupBy: [ACTIVITY], compareTo: SAME_PERIOD_PREVIOUS_YEAR) {{
           activity {measures} }}"
    )
}

/// A figure cell of the page, read from its data attributes.
#[derive(Debug)]
struct Cell {
    measure: String,
    grouping: String,
    group: String,
    kind: String,
    value: Option<f64>,
    suppressed: bool,
    text: String,
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[start..].find('"')? + start;
    Some(tag[start..end].to_owned())
}

/// Every cell that carries a figure (`data-measure`).
fn cells(html: &str) -> Vec<Cell> {
    html.split("<td ")
        .skip(1)
        .filter_map(|piece| {
            let (tag, rest) = piece.split_once('>')?;
            let measure = attribute(tag, "data-measure")?;
            Some(Cell {
                measure,
                grouping: attribute(tag, "data-grouping").expect("data-grouping"),
                group: attribute(tag, "data-group").expect("data-group"),
                kind: attribute(tag, "data-kind").expect("data-kind"),
                value: attribute(tag, "data-value").map(|v| v.parse().expect("data-value is a number")),
                suppressed: attribute(tag, "data-suppressed").is_some(),
                text: rest.split("</td>").next().unwrap_or_default().to_owned(),
            })
        })
        .collect()
}

/// The answer's figure for a cell: the measure's object and the number of the cell's kind.
fn expected<'a>(answer: &'a Value, cell: &Cell) -> (&'a Value, Option<f64>) {
    let row = |field: &str| -> &'a Value {
        let rows = answer[field].as_array().expect("rows");
        if cell.grouping == "sector" {
            assert_eq!(cell.group, "_T");
            &rows[0]
        } else {
            let group = |r: &&Value| match cell.grouping.as_str() {
                "region" => r["region"]["code"] == cell.group.as_str(),
                "activity" => r["activity"] == cell.group.as_str(),
                other => panic!("unknown grouping {other}"),
            };
            rows.iter()
                .find(group)
                .unwrap_or_else(|| panic!("the page shows a group the answer does not have: {cell:?}"))
        }
    };
    let (field, part) = match cell.kind.as_str() {
        "value" => ("", "value"),
        "previous" => ("", "previous"),
        "target" => ("", "target"),
        "achievement" => ("", "targetAchievement"),
        "yearAgo" => ("YearAgo", "previous"),
        other => panic!("unknown kind {other}"),
    };
    let measure = &row(&format!("{}{field}", cell.grouping))[&cell.measure];
    (measure, measure[part].as_f64())
}

/// Every figure on the page equals the answer's; a hidden figure is a dash without a number. Returns the cells.
fn assert_page_is_the_answer(html: &str, answer: &Value) -> Vec<Cell> {
    let cells = cells(html);
    for cell in &cells {
        let (measure, number) = expected(answer, cell);
        assert_eq!(cell.value, number, "{cell:?} against {measure}");
        if cell.suppressed {
            assert_eq!(measure["suppressed"], true, "{cell:?}");
            assert_eq!(cell.value, None);
            assert_eq!(cell.text, "—", "a hidden figure is shown as a dash");
        }
        if cell.value.is_some() {
            assert!(
                cell.text.chars().any(|c| c.is_ascii_digit()),
                "a figure is written: {cell:?}"
            );
        }
    }
    // Every region the answer has is on the page, with every measure's value.
    for row in answer["region"].as_array().unwrap() {
        let code = row["region"]["code"].as_str().unwrap();
        for (measure, _) in measures_of(row) {
            assert!(
                cells
                    .iter()
                    .any(|c| c.group == code && c.measure == *measure && c.kind == "value"),
                "{code} {measure} is on the page"
            );
        }
    }
    // The sector's targets and their achievement, for every measure the answer has a target for.
    for (measure, figure) in measures_of(&answer["sector"][0]) {
        if figure["target"].is_number() {
            assert!(
                cells
                    .iter()
                    .any(|c| c.group == "_T" && c.measure == *measure && c.kind == "achievement" && c.value.is_some()),
                "{measure}'s target achievement is on the page"
            );
        }
    }
    cells
}

/// Values by region the answer hides.
fn hidden_in_answer(answer: &Value) -> usize {
    answer["region"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(measures_of)
        .filter(|(_, figure)| figure["suppressed"] == true)
        .count()
}

/// The measures of an answer's row: its fields but its group's.
fn measures_of(row: &Value) -> impl Iterator<Item = (&String, &Value)> {
    row.as_object()
        .expect("a row")
        .iter()
        .filter(|(field, _)| !matches!(field.as_str(), "region" | "activity"))
}

/// Values by region the page shows as hidden.
fn hidden_on_page(cells: &[Cell]) -> usize {
    cells
        .iter()
        .filter(|c| c.grouping == "region" && c.kind == "value" && c.suppressed)
        .count()
}

/// Submits a month through `submitReport` (with the observatory's key), not released: three associations in MA-09
/// and MA-10, and one alone in MA-11 (a small group).
async fn report_unreleased_month(app: &TestApp, month: &str) {
    for (seed, association, regions) in [
        (11, "ARGANE", &["MA-09", "MA-10"][..]),
        (12, "ATLAS", &["MA-09", "MA-10"][..]),
        (13, "CEDRE", &["MA-09", "MA-10"][..]),
        (14, "DUNE", &["MA-11"][..]),
    ] {
        let figures = crate::reporting::month_of(seed, regions, (1, 8));
        let reply = app
            .graphql(
                "mutation($input: ReportInput!) { submitReport(input: $input) { status } }",
                json!({ "input": {
                    "association": association, "period": month,
                    "clients": figures.clients, "loans": figures.loans, "staff": figures.staff,
                }}),
            )
            .await;
        assert_eq!(reply.data()["submitReport"]["status"], "ACCEPTED");
    }
}

async fn the_public_page_shows_what_indicators_answers_the_public(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let answer = indicators(&app, None, MONTH).await;
    for (lang, collection_rate) in [
        ("fr", "Taux de recouvrement"),
        ("ar", "نسبة الاستخلاص"),
        ("en", "Collection rate"),
    ] {
        let page = get(&app, &format!("/dashboards/{MONTH}?lang={lang}"), None).await;
        assert_eq!(page.status, StatusCode::OK, "{lang}: {}", page.text);
        assert_eq!(page.content_type, "text/html; charset=utf-8");
        let dir = if lang == "ar" { "rtl" } else { "ltr" };
        assert!(
            page.text.contains(&format!("<html lang=\"{lang}\" dir=\"{dir}\">")),
            "{lang}: {:.300}",
            page.text
        );
        assert!(page.text.contains(collection_rate), "{lang}: the catalogue's label");
        assert!(page.text.contains("data-role=\"public\""));
        let name = match lang {
            "fr" => "nameFr",
            "ar" => "nameAr",
            _ => "nameEn",
        };
        let text = unescape(&page.text);
        for row in answer["region"].as_array().unwrap() {
            assert!(
                text.contains(row["region"][name].as_str().unwrap()),
                "{lang}: {}",
                row["region"]
            );
        }
        let cells = assert_page_is_the_answer(&page.text, &answer);
        assert!(cells.len() > 100, "{} figure cells", cells.len());
        // What the public's answer hides, the page hides: as many hidden values, each a dash.
        assert_eq!(hidden_on_page(&cells), hidden_in_answer(&answer), "{lang}");
        // Nothing on the page reaches out: no external script, stylesheet, font or image.
        for outside in ["<script", "<link", "src=\"http", "url(http", "@import", "@font-face"] {
            assert!(!page.text.contains(outside), "{lang}: {outside}");
        }
        assert!(page.text.contains("<svg"), "{lang}: the charts are inline SVG");
        assert!(page.text.contains("@page { size: A4"));
    }
    // French when no language is asked for.
    let default = get(&app, &format!("/dashboards/{MONTH}"), None).await;
    assert!(default.text.contains("<html lang=\"fr\" dir=\"ltr\">"));

    // A month reported but not released is not shown to the public, and is to the observatory.
    report_unreleased_month(&app, "2021-01").await;
    let public = get(&app, "/dashboards/2021-01", None).await;
    assert_eq!(public.status, StatusCode::NOT_FOUND, "{}", public.text);
    assert!(public.text.contains("not released"), "{}", public.text);
    let observatory_key = app.issue_key(PartnerKind::Observatory, None).await;
    let observatory = get(&app, "/dashboards/2021-01?lang=en", Some(&observatory_key)).await;
    assert_eq!(observatory.status, StatusCode::OK, "{}", observatory.text);
    let observatory_answer = indicators(&app, Some(&observatory_key), "2021-01").await;
    let cells = assert_page_is_the_answer(&observatory.text, &observatory_answer);
    assert!(cells.iter().any(|c| c.kind == "value" && c.value.is_some()));
    assert_eq!(hidden_on_page(&cells), 0, "the observatory reads every figure");

    // Once released, the public sees it with its small group hidden: a dash and a note, never the figure.
    let released = app
        .graphql(
            "mutation { releasePeriod(period: \"2021-01\", force: true, note: \"four associations only\") { period } }",
            json!({}),
        )
        .await;
    assert_eq!(released.data()["releasePeriod"]["period"], "2021-01");
    let public_answer = indicators(&app, None, "2021-01").await;
    let public = get(&app, "/dashboards/2021-01?lang=en", None).await;
    assert_eq!(public.status, StatusCode::OK, "{}", public.text);
    let cells = assert_page_is_the_answer(&public.text, &public_answer);
    let hidden = hidden_on_page(&cells);
    assert!(hidden > 0, "MA-11, one association, is hidden");
    assert_eq!(hidden, hidden_in_answer(&public_answer));
    for cell in cells.iter().filter(|c| c.suppressed) {
        let (known, _) = expected(&observatory_answer, cell);
        assert!(known["value"].is_number(), "the hidden figure exists: {cell:?}");
    }
    assert!(public.text.contains("figure hidden to protect a small group"));

    // Clear refusals.
    for (path, status, says) in [
        ("/dashboards/2020-13", StatusCode::BAD_REQUEST, "is not a month"),
        ("/dashboards/2020-1", StatusCode::BAD_REQUEST, "is not a month"),
        ("/dashboards/december", StatusCode::BAD_REQUEST, "is not a month"),
        ("/dashboards/2020-12?lang=de", StatusCode::BAD_REQUEST, "lang=fr"),
        ("/dashboards/1999-12", StatusCode::NOT_FOUND, "no figures for 1999-12"),
        ("/dashboards/2999-01", StatusCode::NOT_FOUND, "no figures for 2999-01"),
        ("/dashboards/2010-06", StatusCode::NOT_FOUND, "no dashboard for 2010-06"),
    ] {
        let reply = get(&app, path, None).await;
        assert_eq!(reply.status, status, "{path}: {}", reply.text);
        assert!(reply.text.contains(says), "{path}: {}", reply.text);
    }
    let wrong_key = get(&app, "/dashboards/2020-12", Some("mfo_0000")).await;
    assert_eq!(
        wrong_key.status,
        StatusCode::UNAUTHORIZED,
        "a wrong key is never read as the public"
    );
}
on_both_backends!(the_public_page_shows_what_indicators_answers_the_public);

async fn a_partner_sees_its_role_by_key_and_by_signed_link(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let partner = app.issue_key(PartnerKind::Ministry, None).await;
    let answer = indicators(&app, Some(&partner), MONTH).await;
    let public_answer = indicators(&app, None, MONTH).await;

    let by_header = get(&app, &format!("/dashboards/{MONTH}?lang=ar"), Some(&partner)).await;
    assert_eq!(by_header.status, StatusCode::OK, "{}", by_header.text);
    assert!(by_header.text.contains("data-role=\"partner\""));
    let cells = assert_page_is_the_answer(&by_header.text, &answer);
    assert!(cells.iter().all(|c| !c.suppressed), "partners read every breakdown");
    let public_hidden = public_answer["region"]
        .as_array()
        .unwrap()
        .iter()
        .any(|row| measures_of(row).any(|(_, figure)| figure["suppressed"] == true));
    if public_hidden {
        assert_ne!(answer, public_answer, "the partner reads figures the public does not");
    }

    // A link for the partner's key: the page as the partner, opened without the key.
    let asked = app
        .send(
            Request::post("/dashboards/links")
                .header(header::AUTHORIZATION, format!("Bearer {partner}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json!({ "month": MONTH, "lang": "en" }).to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(asked.status, StatusCode::CREATED, "{}", asked.text);
    let url = asked.body["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("/dashboards/2020-12?lang=en&key="), "{url}");
    assert!(!url.contains(&partner), "the link never carries the key itself");
    let expires_at = chrono::DateTime::parse_from_rfc3339(asked.body["expiresAt"].as_str().unwrap()).unwrap();
    let lifetime = expires_at.timestamp() - chrono::Utc::now().timestamp();
    assert!(
        (1..=15 * 60).contains(&lifetime),
        "valid at most 15 minutes: {lifetime} s"
    );
    let by_link = get(&app, &url, None).await;
    assert_eq!(by_link.status, StatusCode::OK, "{}", by_link.text);
    assert!(by_link.text.contains("data-role=\"partner\""));
    assert_page_is_the_answer(&by_link.text, &answer);
    // The same link in another language.
    let arabic = get(&app, &url.replace("lang=en", "lang=ar"), None).await;
    assert_eq!(arabic.status, StatusCode::OK);
    assert!(arabic.text.contains("dir=\"rtl\""));

    // Changed links are refused: another month, a later expiry, another signature.
    let expires = url
        .split("expires=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let signature = url.split("signature=").nth(1).unwrap().to_owned();
    let mut last = signature.clone();
    let flipped = if last.ends_with('0') { '1' } else { '0' };
    last.pop();
    last.push(flipped);
    for tampered in [
        url.replace("/dashboards/2020-12", "/dashboards/2020-11"),
        url.replace(
            &format!("expires={expires}"),
            &format!("expires={}", expires.parse::<i64>().unwrap() + 600),
        ),
        url.replace(&signature, &last),
        url.replace(&format!("&signature={signature}"), ""),
    ] {
        let reply = get(&app, &tampered, None).await;
        assert!(
            matches!(reply.status, StatusCode::FORBIDDEN | StatusCode::BAD_REQUEST),
            "{tampered}: {} {}",
            reply.status,
            reply.text
        );
        assert!(!reply.text.contains("<html"), "{tampered}");
    }
    // A link and a key at once is refused too.
    let both = get(&app, &url, Some(&partner)).await;
    assert_eq!(both.status, StatusCode::BAD_REQUEST);

    // A link whose time is up, signed as the server signs (with the key's stored digest).
    let expired = api::dashboard::link::Link {
        prefix: partner[..12].to_owned(),
        month: api::period::Month(202012),
        expires: chrono::Utc::now().timestamp() - 1,
    };
    let reply = get(&app, &expired.path(&api::keys::hash(&partner), "fr"), None).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
    assert!(reply.text.contains("expired"), "{}", reply.text);
    // A link signed with anything but the key's digest is refused.
    let forged = api::dashboard::link::Link {
        expires: chrono::Utc::now().timestamp() + 60,
        ..expired
    };
    let reply = get(&app, &forged.path(&partner, "fr"), None).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);

    // A partner reads released months only, by key or by link; the observatory's link shows an unreleased month.
    report_unreleased_month(&app, "2021-01").await;
    let unreleased = get(&app, "/dashboards/2021-01", Some(&partner)).await;
    assert_eq!(unreleased.status, StatusCode::NOT_FOUND, "{}", unreleased.text);
    let observatory = app.issue_key(PartnerKind::Observatory, None).await;
    let asked = app
        .send(
            Request::post("/dashboards/links")
                .header(header::AUTHORIZATION, format!("Bearer {observatory}"))
                .body(Body::from(json!({ "month": "2021-01" }).to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(asked.status, StatusCode::CREATED, "{}", asked.text);
    let link = get(&app, asked.body["url"].as_str().unwrap(), None).await;
    assert_eq!(link.status, StatusCode::OK, "{}", link.text);
    assert!(link.text.contains("<html lang=\"fr\""));
    assert_page_is_the_answer(&link.text, &indicators(&app, Some(&observatory), "2021-01").await);

    // Without a key there is no link to ask for.
    let anonymous = app
        .send(
            Request::post("/dashboards/links")
                .body(Body::from(json!({ "month": MONTH }).to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}
on_both_backends!(a_partner_sees_its_role_by_key_and_by_signed_link);

/// The page in a real browser cut off from every network but the loopback: it renders with its figures, its French
/// and Arabic pages are saved as screenshots (`target/artefacts/dashboard-fr.png`, `dashboard-ar.png`), and it prints
/// on A4 pages (`target/artefacts/dashboard-fr.pdf`). Needs
/// Chromium when the tests are built (see `tests/build.rs`): without it the test is reported ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(browser),
    ignore = "no Chromium was found when the tests were built (install the chromium package or set CHROMIUM)"
)]
async fn the_page_renders_offline_in_a_browser() {
    #[cfg(browser)]
    let browser = env!("OBSERVATORY_TEST_CHROMIUM");
    #[cfg(not(browser))]
    let browser = "chromium";
    let app = spawn_app(&Backend::Sqlite, Fixture::Demo).await;
    let answer = indicators(&app, None, MONTH).await;
    let address = observatory_tests::serve(&app).await;
    let artefacts = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("artefacts");
    std::fs::create_dir_all(&artefacts).expect("the artefacts directory");
    let run = |args: Vec<String>| async move {
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(browser)
                .args([
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--hide-scrollbars",
                    // Every request but the loopback's goes to a closed port.
                    "--proxy-server=127.0.0.1:9",
                    "--window-size=1240,1754",
                ])
                .args(args)
                .output()
                .expect("Chromium runs")
        })
        .await
        .unwrap()
    };
    for lang in ["fr", "ar"] {
        let url = format!("http://{address}/dashboards/{MONTH}?lang={lang}");
        let dom = run(vec!["--dump-dom".into(), url.clone()]).await;
        let dom = String::from_utf8_lossy(&dom.stdout).into_owned();
        assert!(dom.contains(&format!("lang=\"{lang}\"")), "{lang}: {dom:.1000}");
        let cells = assert_page_is_the_answer(&dom, &answer);
        assert!(
            cells.len() > 100,
            "{lang}: the browser's page holds the figures ({})",
            cells.len()
        );
        assert!(dom.contains("<svg"), "{lang}: the charts are in the page");
        let file = artefacts.join(format!("dashboard-{lang}.png"));
        let _ = std::fs::remove_file(&file);
        let shot = run(vec![format!("--screenshot={}", file.display()), url]).await;
        let png = std::fs::read(&file)
            .unwrap_or_else(|_| panic!("{lang}: no screenshot: {}", String::from_utf8_lossy(&shot.stderr)));
        assert!(png.starts_with(b"\x89PNG"), "{lang}: a PNG");
        assert!(
            png.len() > 20_000,
            "{lang}: the screenshot shows a page ({} bytes)",
            png.len()
        );
        println!("screenshot of the {lang} dashboard: {}", file.display());
    }
    // Printed, it is A4 pages.
    let pdf_file = artefacts.join("dashboard-fr.pdf");
    let _ = std::fs::remove_file(&pdf_file);
    run(vec![
        "--no-pdf-header-footer".into(),
        format!("--print-to-pdf={}", pdf_file.display()),
        format!("http://{address}/dashboards/{MONTH}?lang=fr"),
    ])
    .await;
    let pdf = String::from_utf8_lossy(&std::fs::read(&pdf_file).expect("a PDF")).into_owned();
    assert!(pdf.starts_with("%PDF"));
    let sizes: Vec<(f64, f64)> = pdf
        .split("/MediaBox [")
        .skip(1)
        .map(|rest| {
            let numbers: Vec<f64> = rest
                .split(']')
                .next()
                .unwrap()
                .split_whitespace()
                .map(|n| n.parse().unwrap())
                .collect();
            (numbers[2], numbers[3])
        })
        .collect();
    assert!(sizes.len() >= 2, "the dashboard takes a few pages: {sizes:?}");
    for (width, height) in sizes {
        // A4 is 210 × 297 mm: 595 × 842 points.
        assert!(
            (width - 595.3).abs() < 1.5 && (height - 841.9).abs() < 1.5,
            "{width} × {height}"
        );
    }
    println!("printed French dashboard: {}", pdf_file.display());
}
