//! The quarterly note's page: every figure it shows is what `quarterlyNote` answers the same caller for the same
//! quarter, number for number, and every figure of the answer is on it, in French, Arabic (right to left) and
//! English, for the public and a partner; the CSV has one row per figure; bad quarters and languages are refused and
//! a quarter nobody reported is not found; the page renders offline in a real browser.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use observatory_tests::{Backend, Fixture, PartnerKind, Reply, TestApp, on_both_backends, spawn_app};
use serde_json::{Value, json};
use std::collections::HashMap;

const QUARTER: &str = "2020-Q4";
/// The figure's numbers a page shows, by the answer's field.
const FIGURE_KINDS: [&str; 5] = [
    "value",
    "previousQuarter",
    "changeFromPreviousQuarter",
    "sameQuarterPreviousYear",
    "changeFromPreviousYear",
];
/// A peer group's numbers a page shows, by the answer's field (`aggregate` only to the readers given it).
const PEER_KINDS: [&str; 5] = ["n", "p25", "median", "p75", "aggregate"];
const LANGUAGES: [(&str, api::labels::Language); 3] = [
    ("fr", api::labels::Language::Fr),
    ("ar", api::labels::Language::Ar),
    ("en", api::labels::Language::En),
];

async fn get(app: &TestApp, path: &str, key: Option<&str>) -> Reply {
    let mut request = Request::get(path);
    if let Some(key) = key {
        request = request.header(header::AUTHORIZATION, format!("Bearer {key}"));
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

/// What `quarterlyNote` answers this caller, with every field of a figure.
async fn quarterly_note(app: &TestApp, key: Option<&str>, quarter: &str) -> Value {
    let query = format!(
        r#"{{ quarterlyNote(quarter: "{quarter}") {{ layout quarter peerScheme coverage {{ reporting expected }}
             statementsCoverage {{ reporting expected }}
             figures {{ section measure {{ code field unit labelFr labelAr labelEn betterWhen }} dimension
               group {{ code labelFr labelAr labelEn }} value previousQuarter sameQuarterPreviousYear
               changeFromPreviousQuarter changeFromPreviousYear suppressed
               peers {{ group {{ code labelFr labelAr labelEn }} n p25 median p75 suppressed smallGroup
                        aggregate {{ value }} }} }} }} }}"#
    );
    let reply = app.graphql_as(key, &query, json!({})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.data()["quarterlyNote"].clone()
}

/// The text of an HTML page with its character references read.
fn unescape(html: &str) -> String {
    html.replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&#x2f;", "/")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A figure cell of the page, read from its data attributes.
#[derive(Debug)]
struct Cell {
    section: String,
    measure: String,
    dimension: String,
    group: String,
    kind: String,
    /// `data-value` as written.
    value: Option<String>,
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
                section: attribute(tag, "data-section").expect("data-section"),
                measure,
                dimension: attribute(tag, "data-dimension").expect("data-dimension"),
                group: attribute(tag, "data-group").expect("data-group"),
                kind: attribute(tag, "data-kind").expect("data-kind"),
                value: attribute(tag, "data-value"),
                suppressed: attribute(tag, "data-suppressed").is_some(),
                text: rest.split("</td>").next().unwrap_or_default().to_owned(),
            })
        })
        .collect()
}

/// The key of a figure: its section, measure, dimension and group (`_T` for the sector).
fn key_of(figure: &Value) -> (String, String, String, String) {
    let text = |value: &Value| value.as_str().unwrap_or("_T").to_owned();
    (
        text(&figure["section"]),
        text(&figure["measure"]["code"]),
        text(&figure["dimension"]),
        text(&figure["group"]["code"]),
    )
}

/// Every cell of the page is the answer's number, written as the answer's JSON wrote it (a hidden one a dash, a
/// missing one `n/a` in the page's language), and every number of the answer is on the page, once. Returns the cells.
fn assert_page_is_the_note(html: &str, note: &Value, language: api::labels::Language) -> Vec<Cell> {
    let figures = note["figures"].as_array().expect("figures");
    let mut by_key: HashMap<_, &Value> = HashMap::new();
    for figure in figures {
        assert!(
            by_key.insert(key_of(figure), figure).is_none(),
            "one figure per key: {figure}"
        );
    }
    let aggregates = figures
        .iter()
        .flat_map(|f| f["peers"].as_array().into_iter().flatten())
        .any(|p| !p["aggregate"].is_null());
    let cells = cells(html);
    let mut seen: HashMap<(String, String, String, String, String), usize> = HashMap::new();
    for cell in &cells {
        *seen
            .entry((
                cell.section.clone(),
                cell.measure.clone(),
                cell.dimension.clone(),
                cell.group.clone(),
                cell.kind.clone(),
            ))
            .or_default() += 1;
        let (object, answered) = if FIGURE_KINDS.contains(&cell.kind.as_str()) {
            let figure = by_key
                .get(&(
                    cell.section.clone(),
                    cell.measure.clone(),
                    cell.dimension.clone(),
                    cell.group.clone(),
                ))
                .unwrap_or_else(|| panic!("the page shows a figure the answer does not have: {cell:?}"));
            (*figure, &figure[cell.kind.as_str()])
        } else {
            assert!(PEER_KINDS.contains(&cell.kind.as_str()), "{cell:?}");
            assert_eq!(cell.dimension, "SCALE", "{cell:?}");
            let figure = by_key
                .get(&(cell.section.clone(), cell.measure.clone(), "_T".into(), "_T".into()))
                .unwrap_or_else(|| panic!("peers of a ratio the answer does not have: {cell:?}"));
            let peer = figure["peers"]
                .as_array()
                .and_then(|peers| peers.iter().find(|p| p["group"]["code"] == cell.group.as_str()))
                .unwrap_or_else(|| panic!("a peer group the answer does not have: {cell:?}"));
            let answered = if cell.kind == "aggregate" {
                &peer["aggregate"]["value"]
            } else {
                &peer[cell.kind.as_str()]
            };
            (peer, answered)
        };
        match answered {
            Value::Number(number) => {
                assert_eq!(cell.value.as_deref(), Some(number.to_string().as_str()), "{cell:?}");
                assert!(!cell.suppressed, "{cell:?}");
                assert!(
                    cell.text.chars().any(|c| c.is_ascii_digit()),
                    "a figure is written: {cell:?}"
                );
            }
            Value::Null => {
                assert_eq!(cell.value, None, "{cell:?}");
                if cell.suppressed {
                    assert_eq!(object["suppressed"], true, "{cell:?}");
                    assert_eq!(cell.text, "—", "a hidden figure is a dash");
                } else {
                    assert_eq!(
                        unescape(&cell.text),
                        api::dashboard::render::missing(language),
                        "{cell:?}"
                    );
                }
            }
            other => panic!("{cell:?}: not a number: {other}"),
        }
    }
    // Every number of the answer is on the page, once.
    for figure in figures {
        let (section, measure, dimension, group) = key_of(figure);
        for kind in FIGURE_KINDS {
            let key = (
                section.clone(),
                measure.clone(),
                dimension.clone(),
                group.clone(),
                kind.to_owned(),
            );
            assert_eq!(seen.get(&key), Some(&1), "{key:?} is on the page once");
        }
        for peer in figure["peers"].as_array().into_iter().flatten() {
            let group = peer["group"]["code"].as_str().unwrap().to_owned();
            for kind in PEER_KINDS.iter().filter(|k| aggregates || **k != "aggregate") {
                let key = (
                    section.clone(),
                    measure.clone(),
                    "SCALE".to_owned(),
                    group.clone(),
                    kind.to_string(),
                );
                assert_eq!(seen.get(&key), Some(&1), "{key:?} is on the page once");
            }
        }
    }
    let peers: usize = figures.iter().map(|f| f["peers"].as_array().map_or(0, Vec::len)).sum();
    assert_eq!(
        cells.len(),
        figures.len() * FIGURE_KINDS.len() + peers * if aggregates { 5 } else { 4 },
        "nothing else on the page is a figure"
    );
    cells
}

async fn the_note_page_shows_what_quarterly_note_answers(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let partner = app.issue_key(PartnerKind::Ministry, None).await;
    let mut peers_seen = Vec::new();
    for (key, role) in [(None, "public"), (Some(partner.as_str()), "partner")] {
        let note = quarterly_note(&app, key, QUARTER).await;
        let figures = note["figures"].as_array().unwrap();
        assert!(figures.len() > 100, "{} figures", figures.len());
        for (lang, language) in LANGUAGES {
            let page = get(&app, &format!("/notes/{QUARTER}?lang={lang}"), key).await;
            assert_eq!(page.status, StatusCode::OK, "{role} {lang}: {}", page.text);
            assert_eq!(page.content_type, "text/html; charset=utf-8");
            for (name, value) in [
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
                ),
                (header::CACHE_CONTROL, "private, no-store"),
                (header::REFERRER_POLICY, "no-referrer"),
            ] {
                assert_eq!(page.headers[&name], value, "{role} {lang}: {name}");
            }
            let dir = if lang == "ar" { "rtl" } else { "ltr" };
            assert!(
                page.text.contains(&format!("<html lang=\"{lang}\" dir=\"{dir}\">")),
                "{role} {lang}: {:.300}",
                page.text
            );
            assert!(page.text.contains(&format!("data-role=\"{role}\"")), "{role} {lang}");
            let cells = assert_page_is_the_note(&page.text, &note, language);
            assert!(cells.len() > 500, "{role} {lang}: {} figure cells", cells.len());
            peers_seen.push((role, cells.iter().filter(|c| c.kind == "aggregate").count()));
            let text = unescape(&page.text);
            // The sections in the layout's order, with their titles in the page's language.
            let mut at = 0;
            for section in api::note::NoteSection::ALL {
                let [fr, ar, en] = section.titles();
                let title = language.pick(fr, ar, en);
                let found = text[at..]
                    .find(&format!(
                        "<section class=\"block\" data-section=\"{}\">",
                        section.code()
                    ))
                    .unwrap_or_else(|| panic!("{lang}: {} after the sections before it", section.code()));
                at += found;
                assert!(text[at..].contains(&format!("<h2>{title}</h2>")), "{lang}: {title}");
            }
            // The labels of the measures and groups are the answer's, in the page's language.
            let label = language.pick("labelFr", "labelAr", "labelEn");
            for figure in figures {
                assert!(
                    text.contains(figure["measure"][label].as_str().unwrap()),
                    "{lang}: {}",
                    figure["measure"]
                );
                if let Some(group) = figure["group"][label].as_str() {
                    assert!(text.contains(group), "{lang}: {group}");
                }
            }
            // The coverage of the reports and of the statements.
            for (field, coverage) in [("coverage", "reports"), ("statementsCoverage", "statements")] {
                let of = &note[field];
                assert!(
                    page.text.contains(&format!(
                        "data-coverage=\"{coverage}\" data-reporting=\"{}\" data-expected=\"{}\"",
                        of["reporting"], of["expected"]
                    )),
                    "{lang}: {field} {of}"
                );
            }
            // Nothing on the page reaches out: no external script, stylesheet, font or image.
            for outside in ["<script", "<link", "src=\"http", "url(http", "@import", "@font-face"] {
                assert!(!page.text.contains(outside), "{lang}: {outside}");
            }
            assert!(
                page.text.matches("<svg").count() >= 3,
                "{lang}: the charts are inline SVG"
            );
            assert!(page.text.contains("@page { size: A4"));
            if lang == "en" {
                assert!(text.contains(
                    "the associations' monthly reports and quarterly financial statements, computed by the \
                     Observatory's API"
                ));
                let oss = figures
                    .iter()
                    .find(|f| f["measure"]["code"] == "OSS" && f["dimension"].is_null())
                    .unwrap();
                let shown = cells
                    .iter()
                    .find(|c| c.measure == "OSS" && c.group == "_T" && c.kind == "value")
                    .unwrap();
                assert_eq!(shown.text, format!("{:.2}%", oss["value"].as_f64().unwrap()));
            }
        }
        // The public is not given the quartiles of groups under 5 members: a dash and a note.
        let page = get(&app, &format!("/notes/{QUARTER}?lang=en"), key).await;
        let withheld = cells(&page.text)
            .into_iter()
            .filter(|c| c.dimension == "SCALE" && c.suppressed && ["p25", "median", "p75"].contains(&c.kind.as_str()))
            .count();
        let hidden_in_answer = figures
            .iter()
            .flat_map(|f| f["peers"].as_array().into_iter().flatten())
            .filter(|p| p["suppressed"] == true)
            .count();
        assert_eq!(withheld, hidden_in_answer * 3, "{role}: p25, median and p75 of each");
        if role == "public" {
            assert!(withheld > 0, "the demo's large and small groups are under 5 members");
            assert!(page.text.contains("quartiles withheld for a group too small"));
        }

        // The CSV: the header, then one VALUE row per figure, in the answer's order, with its numbers.
        let csv = get(&app, &format!("/notes/{QUARTER}.csv"), key).await;
        assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
        assert!(csv.content_type.starts_with("text/csv"), "{}", csv.content_type);
        let mut lines = csv.text.lines();
        assert_eq!(
            lines.next(),
            Some(
                "section,measure,dimension,group,statistic,value,previous_quarter,same_quarter_previous_year,\
                 change_from_previous_quarter,change_from_previous_year,unit,suppressed"
            )
        );
        let rows: Vec<Vec<&str>> = lines
            .map(|line| line.split(',').collect::<Vec<_>>())
            .filter(|row| row[4] == "VALUE")
            .collect();
        assert_eq!(rows.len(), figures.len(), "{role}: one VALUE row per figure");
        let written = |value: &Value| match value {
            Value::Null => String::new(),
            other => other.to_string(),
        };
        for (row, figure) in rows.iter().zip(figures) {
            let (section, measure, dimension, group) = key_of(figure);
            let or_total = |text: &str| {
                if text.is_empty() {
                    "_T".to_owned()
                } else {
                    text.to_owned()
                }
            };
            assert_eq!(
                (row[0].to_owned(), row[1].to_owned(), or_total(row[2]), or_total(row[3])),
                (section, measure, dimension, group)
            );
            assert_eq!(row[5], written(&figure["value"]), "{row:?}");
            assert_eq!(row[6], written(&figure["previousQuarter"]), "{row:?}");
            assert_eq!(row[7], written(&figure["sameQuarterPreviousYear"]), "{row:?}");
        }
    }
    // Partners are given the peer groups' ratio of sums, the public is not.
    assert!(
        peers_seen
            .iter()
            .all(|(role, aggregates)| (*role == "partner") == (*aggregates > 0)),
        "{peers_seen:?}"
    );

    // Clear refusals, for the page and the CSV.
    for (path, status, says) in [
        ("/notes/2020-Q4?lang=de", StatusCode::BAD_REQUEST, "lang=fr"),
        ("/notes/2020-Q4.csv?lang=xx", StatusCode::BAD_REQUEST, "lang=fr"),
        ("/notes/2020-Q5", StatusCode::BAD_REQUEST, "is not a quarter"),
        ("/notes/2020-12", StatusCode::BAD_REQUEST, "is not a quarter"),
        ("/notes/2020", StatusCode::BAD_REQUEST, "is not a quarter"),
        ("/notes/december.csv", StatusCode::BAD_REQUEST, "is not a quarter"),
        ("/notes/2021-Q4", StatusCode::NOT_FOUND, "no note for 2021-Q4"),
        ("/notes/2021-Q4?lang=ar", StatusCode::NOT_FOUND, "no note for 2021-Q4"),
        ("/notes/2021-Q4.csv", StatusCode::NOT_FOUND, "no note for 2021-Q4"),
    ] {
        for key in [None, Some(partner.as_str())] {
            let reply = get(&app, path, key).await;
            assert_eq!(reply.status, status, "{path}: {}", reply.text);
            assert!(reply.text.contains(says), "{path}: {}", reply.text);
            assert!(!reply.text.contains("<html"), "{path}");
        }
    }
    let wrong_key = get(&app, "/notes/2020-Q4", Some("mfo_0000")).await;
    assert_eq!(
        wrong_key.status,
        StatusCode::UNAUTHORIZED,
        "a wrong key is never read as the public"
    );
}
on_both_backends!(the_note_page_shows_what_quarterly_note_answers);

/// The page in a real browser cut off from every network but the loopback: it renders with its figures, its French
/// and Arabic pages are saved as screenshots (`target/artefacts/note-fr.png`, `note-ar.png`), and it prints on A4
/// pages (`target/artefacts/note-fr.pdf`). Needs Chromium when the tests are built (see `tests/build.rs`): without it
/// the test is reported ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(browser),
    ignore = "no Chromium was found when the tests were built (install the chromium package or set CHROMIUM)"
)]
async fn the_note_page_renders_offline_in_a_browser() {
    #[cfg(browser)]
    let browser = env!("OBSERVATORY_TEST_CHROMIUM");
    #[cfg(not(browser))]
    let browser = "chromium";
    let app = spawn_app(&Backend::Sqlite, Fixture::Demo).await;
    let note = quarterly_note(&app, None, QUARTER).await;
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
    for (lang, language) in [("fr", api::labels::Language::Fr), ("ar", api::labels::Language::Ar)] {
        let url = format!("http://{address}/notes/{QUARTER}?lang={lang}");
        let dom = run(vec!["--dump-dom".into(), url.clone()]).await;
        let dom = String::from_utf8_lossy(&dom.stdout).into_owned();
        assert!(dom.contains(&format!("lang=\"{lang}\"")), "{lang}: {dom:.1000}");
        let cells = assert_page_is_the_note(&dom, &note, language);
        assert!(
            cells.len() > 500,
            "{lang}: the browser's page holds the figures ({})",
            cells.len()
        );
        assert!(dom.contains("<svg"), "{lang}: the charts are in the page");
        let file = artefacts.join(format!("note-{lang}.png"));
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
        println!("screenshot of the {lang} note: {}", file.display());
    }
    // Printed, it is A4 pages.
    let pdf_file = artefacts.join("note-fr.pdf");
    let _ = std::fs::remove_file(&pdf_file);
    run(vec![
        "--no-pdf-header-footer".into(),
        format!("--print-to-pdf={}", pdf_file.display()),
        format!("http://{address}/notes/{QUARTER}?lang=fr"),
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
    assert!(sizes.len() >= 2, "the note takes a few pages: {sizes:?}");
    for (width, height) in sizes {
        // A4 is 210 × 297 mm: 595 × 842 points.
        assert!(
            (width - 595.3).abs() < 1.5 && (height - 841.9).abs() < 1.5,
            "{width} × {height}"
        );
    }
    println!("printed French note: {}", pdf_file.display());
}
