//! Hostile clients: uploads that grow after they arrive, callers who may not report, and slow connections.
//!
//! - Generated hostile workbooks and CSV files (declared counts, dimensions, compression ratios, row counts, long
//!   shared strings) are sent to a server in a child process, anonymously and with a write key, one by one and a few
//!   at once. The server must answer each with a 4xx and never take its resident memory more than
//!   [`CEILING_MIB`] above its idle level (its peak, `VmHWM`, is read from `/proc` after the run).
//! - A caller who may not report is answered before its body is sent, and the connection is closed.
//! - While 20,000 connections send half a request and wait (from two helper processes, each with its own file
//!   limit), the health probe keeps answering.

use observatory_tests::{Backend, Fixture, Gen, PartnerKind, on_both_backends, spawn_app, spawn_app_with};
use std::io::Write;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Most the server's resident memory may rise above its idle level through the hostile uploads.
const CEILING_MIB: u64 = 256;

const BOUNDARY: &str = "hostile-boundary";

fn multipart(name: &str, content: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// A zip of (name, content, deflated) entries.
fn zip_of(entries: &[(&str, Vec<u8>, bool)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, content, deflated) in entries {
        let method = if *deflated {
            zip::CompressionMethod::Deflated
        } else {
            zip::CompressionMethod::Stored
        };
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(method)
            .compression_level(Some(1))
            .large_file(content.len() > u32::MAX as usize / 2);
        zip.start_file(*name, options).unwrap();
        zip.write_all(content).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// A zip whose one large entry is written in pieces (so that a gigabyte of inflated text never sits in the test's
/// memory): the entry `name` is `head`, then `filler` repeated `times`, then `tail`.
fn zip_streamed(
    small: &[(&str, Vec<u8>)],
    name: &str,
    head: &[u8],
    filler: &[u8],
    times: usize,
    tail: &[u8],
) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9));
    for (entry, content) in small {
        zip.start_file(*entry, options).unwrap();
        zip.write_all(content).unwrap();
    }
    zip.start_file(name, options.large_file(true)).unwrap();
    zip.write_all(head).unwrap();
    for _ in 0..times {
        zip.write_all(filler).unwrap();
    }
    zip.write_all(tail).unwrap();
    zip.finish().unwrap().into_inner()
}

const WORKBOOK: &str = "<?xml version=\"1.0\"?><workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" \
    xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheets>\
    <sheet name=\"clients\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>";
const RELS: &str = "<?xml version=\"1.0\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
    <Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/>\
    <Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings\" Target=\"sharedStrings.xml\"/>\
    </Relationships>";
const SHEET_HEAD: &str =
    "<?xml version=\"1.0\"?><worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>";
const SHEET_TAIL: &str = "</sheetData></worksheet>";

/// The parts every hostile workbook shares, with this sheet and these shared strings.
fn workbook_parts(sheet: String, shared: String) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("xl/workbook.xml", WORKBOOK.as_bytes().to_vec()),
        ("xl/_rels/workbook.xml.rels", RELS.as_bytes().to_vec()),
        ("xl/sharedStrings.xml", shared.into_bytes()),
        ("xl/worksheets/sheet1.xml", sheet.into_bytes()),
    ]
}

fn workbook(sheet: String, shared: String) -> Vec<u8> {
    let parts: Vec<(&str, Vec<u8>, bool)> = workbook_parts(sheet, shared)
        .into_iter()
        .map(|(name, content)| (name, content, true))
        .collect();
    zip_of(&parts)
}

fn shared_strings(declared: u64, strings: &[String]) -> String {
    let items: String = strings.iter().map(|s| format!("<si><t>{s}</t></si>")).collect();
    format!(
        "<?xml version=\"1.0\"?><sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" \
         count=\"{declared}\" uniqueCount=\"{declared}\">{items}</sst>"
    )
}

/// One hostile upload: what it is, and its multipart body.
struct Upload {
    what: String,
    body: Vec<u8>,
}

/// Hostile uploads, generated from a seed: each kind the server must bound, with generated sizes.
fn hostile_uploads(g: &mut Gen) -> Vec<Upload> {
    let mut uploads = Vec::new();
    // Shared strings declaring up to 10^12 entries, holding one.
    let declared = 10u64.pow(g.range(6, 12) as u32);
    uploads.push(Upload {
        what: format!("shared strings declaring {declared}"),
        body: multipart(
            "workbook",
            &workbook(
                format!("{SHEET_HEAD}<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c></row>{SHEET_TAIL}"),
                shared_strings(declared, &["region".into()]),
            ),
        ),
    });
    // Two cells at opposite corners of a huge range.
    let (column, row) = (g.range(1_000, 16_383) as u64, g.range(100_000, 1_048_576));
    let corner = format!("{}{row}", api::submission::xlsx::column_name(column as usize));
    uploads.push(Upload {
        what: format!("cells A1 and {corner}"),
        body: multipart(
            "workbook",
            &workbook(
                format!(
                    "{SHEET_HEAD}<row r=\"1\"><c r=\"A1\"><v>1</v></c></row><row r=\"{row}\"><c r=\"{corner}\"><v>1</v></c></row>{SHEET_TAIL}"
                ),
                shared_strings(0, &[]),
            ),
        ),
    });
    // A sheet that inflates to hundreds of megabytes (a comment, so that it is one XML event).
    let megabytes = g.range(256, 1_024) as usize;
    let filler = vec![b'a'; 1024 * 1024];
    let small = workbook_parts(String::new(), shared_strings(0, &[]));
    uploads.push(Upload {
        what: format!("a sheet inflating to {megabytes} MB"),
        body: multipart(
            "workbook",
            &zip_streamed(
                &small[..3],
                "xl/worksheets/sheet1.xml",
                format!("{SHEET_HEAD}<!--").as_bytes(),
                &filler,
                megabytes,
                format!("-->{SHEET_TAIL}").as_bytes(),
            ),
        ),
    });
    // One long shared string shown by many cells.
    let (length, cells) = (g.range(16, 30) as usize * 1024, g.range(50_000, 150_000) as usize);
    let long = "x".repeat(length);
    let mut sheet = String::from(SHEET_HEAD);
    for r in 1..=cells / 10 {
        sheet.push_str(&format!("<row r=\"{r}\">"));
        for c in 0..10 {
            sheet.push_str(&format!(
                "<c r=\"{}{r}\" t=\"s\"><v>0</v></c>",
                api::submission::xlsx::column_name(c)
            ));
        }
        sheet.push_str("</row>");
    }
    sheet.push_str(SHEET_TAIL);
    uploads.push(Upload {
        what: format!("a {} KB shared string shown by {cells} cells", length / 1024),
        body: multipart("workbook", &workbook(sheet, shared_strings(1, &[long]))),
    });
    // Up to the spreadsheet's 1,048,576 rows.
    let rows = g.range(20_000, 1_048_576) as usize;
    let row = "<row><c t=\"inlineStr\"><is><t>x</t></is></c></row>".as_bytes();
    uploads.push(Upload {
        what: format!("{rows} rows"),
        body: multipart(
            "workbook",
            &zip_streamed(
                &small[..3],
                "xl/worksheets/sheet1.xml",
                SHEET_HEAD.as_bytes(),
                row,
                rows,
                SHEET_TAIL.as_bytes(),
            ),
        ),
    });
    // A zip directory declaring more entries than it has.
    let mut declaring = workbook(String::from(SHEET_HEAD) + SHEET_TAIL, shared_strings(0, &[]));
    let end = declaring.len() - 22;
    let entries = g.range(2_000, 65_535) as u16;
    declaring[end + 8..end + 10].copy_from_slice(&entries.to_le_bytes());
    declaring[end + 10..end + 12].copy_from_slice(&entries.to_le_bytes());
    uploads.push(Upload {
        what: format!("a zip directory declaring {entries} entries"),
        body: multipart("workbook", &declaring),
    });
    // CSV files just under the body limit: invalid cells on every row, or one immensely wide header.
    let budget = 5 * 1024 * 1024 - 1024;
    let line = "MA-99,NOT_A_SEGMENT,X,Y,-1,abc\n";
    let mut csv = String::from("region,segment,gender,area,active_clients,new_clients\n");
    while csv.len() + line.len() < budget {
        csv.push_str(line);
    }
    uploads.push(Upload {
        what: format!("a CSV of {} invalid rows", csv.len() / line.len()),
        body: multipart("clients", csv.as_bytes()),
    });
    let allowed_rows = g.range(2_000, 9_999) as usize;
    let mut csv = String::from("region,segment,gender,area,active_clients,new_clients\n");
    for _ in 0..allowed_rows {
        csv.push_str(line);
    }
    uploads.push(Upload {
        what: format!("a CSV of {allowed_rows} invalid rows (within the row bound)"),
        body: multipart("clients", csv.as_bytes()),
    });
    let wide = "a,".repeat(budget / 2);
    uploads.push(Upload {
        what: format!("a CSV header of {} columns", budget / 2),
        body: multipart("clients", wide.as_bytes()),
    });
    uploads
}

/// The server process's resident memory now and at its peak, in KiB (`VmRSS`, `VmHWM`).
fn memory_of(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the server's /proc status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .expect("a memory field")
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// One request over a new connection, its answer read while the body is still being sent (a server may answer and
/// close before reading it): the status and body, or `None` when no whole answer came.
async fn post(address: std::net::SocketAddr, path: &str, key: Option<&str>, body: &[u8]) -> Option<(u16, String)> {
    let stream = tokio::net::TcpStream::connect(address).await.ok()?;
    let (mut reading, mut writing) = stream.into_split();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\ncontent-length: {}\r\n\
         content-type: multipart/form-data; boundary={BOUNDARY}\r\n",
        body.len()
    );
    if let Some(key) = key {
        head.push_str(&format!("authorization: Bearer {key}\r\n"));
    }
    head.push_str("\r\n");
    let mut request = head.into_bytes();
    request.extend_from_slice(body);
    let sending = tokio::spawn(async move {
        let _ = writing.write_all(&request).await;
        writing
    });
    let mut response = Vec::new();
    let _ = reading.read_to_end(&mut response).await;
    sending.abort();
    crate::crash::whole_answer(&response)
}

async fn hostile_uploads_stay_under_the_memory_ceiling(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let key = app
        .key_with(PartnerKind::Association, Some("TAFOUKT"), &["read", "write"])
        .await;
    let server = crate::crash::Server::start(&app.database_url()).await;
    let pid = server.pid();
    let path = "/reports/TAFOUKT/2021-01";
    // Idle: after a first request of each kind has warmed the server up.
    for _ in 0..3 {
        post(
            server.address,
            path,
            Some(&key),
            &multipart("clients", b"region\nMA-01\n"),
        )
        .await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (idle, _) = memory_of(pid);
    let mut g = Gen::new(0x5eed_4057);
    let mut peak_seen = idle;
    for round in 0..2 {
        let uploads = hostile_uploads(&mut g);
        for upload in &uploads {
            for caller in [None, Some(key.as_str())] {
                let started = Instant::now();
                let answer = post(server.address, path, caller, &upload.body).await;
                let (status, body) = answer.unwrap_or_else(|| {
                    panic!(
                        "round {round}, {} ({} bytes): the server gave no answer (did it die?)",
                        upload.what,
                        upload.body.len()
                    )
                });
                match caller {
                    None => assert_eq!(status, 403, "{}: anonymous callers are refused: {body}", upload.what),
                    Some(_) => assert!(
                        (400..500).contains(&status),
                        "{}: refused with a 4xx, not {status}: {}",
                        upload.what,
                        body.chars().take(300).collect::<String>()
                    ),
                }
                assert!(
                    body.len() < 2 * 1024 * 1024,
                    "{}: the answer is {} bytes",
                    upload.what,
                    body.len()
                );
                eprintln!(
                    "{:>8} {:>5} ms {status} {} ({} KB sent) hwm {}",
                    if caller.is_some() { "keyed" } else { "anonymous" },
                    started.elapsed().as_millis(),
                    upload.what,
                    upload.body.len() / 1024,
                    memory_of(pid).1 / 1024
                );
                peak_seen = peak_seen.max(memory_of(pid).0);
            }
        }
        // The same uploads four at once.
        let sent = uploads.iter().map(|upload| {
            let key = key.clone();
            let address = server.address;
            let body = upload.body.clone();
            tokio::spawn(async move { post(address, path, Some(&key), &body).await })
        });
        for answer in futures_util::future::join_all(sent).await {
            let (status, _) = answer.unwrap().expect("an answer");
            assert!((400..500).contains(&status), "refused with a 4xx, not {status}");
        }
    }
    let (_, peak) = memory_of(pid);
    // Memory is given back: freed pages return to the system within moments (those of a reading thread at the latest
    // when the idle thread ends, 10 s after its last report).
    let waited = Instant::now();
    let mut after = memory_of(pid).0;
    while after > idle + 64 * 1024 && waited.elapsed() < Duration::from_secs(15) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        after = memory_of(pid).0;
    }
    eprintln!(
        "server RSS: idle {} MiB, peak {} MiB (highest sampled {} MiB), {} MiB {:.1} s after",
        idle / 1024,
        peak / 1024,
        peak_seen / 1024,
        after / 1024,
        waited.elapsed().as_secs_f64()
    );
    assert!(
        peak <= idle + CEILING_MIB * 1024,
        "the server's memory peaked at {} MiB, more than {CEILING_MIB} MiB above its idle {} MiB",
        peak / 1024,
        idle / 1024
    );
    assert!(
        after <= idle + 64 * 1024,
        "the memory taken by the uploads is given back: {} MiB 15 s after, {} MiB idle",
        after / 1024,
        idle / 1024
    );
    // The server still works.
    let valid = post(server.address, path, Some(&key), &multipart("clients", b"region\n")).await;
    assert!(valid.is_some_and(|(status, _)| status == 400 || status == 422));
}
on_both_backends!(hostile_uploads_stay_under_the_memory_ceiling);

async fn a_caller_who_may_not_report_is_refused_before_sending_the_body(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let address = observatory_tests::serve(&app).await;
    let other = app
        .key_with(PartnerKind::Association, Some("PALMIER"), &["read", "write"])
        .await;
    let ministry = app.issue_key(PartnerKind::Ministry, None).await;
    for key in [None, Some(other), Some(ministry)] {
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let mut head = format!(
            "POST /reports/TAFOUKT/2021-01 HTTP/1.1\r\nhost: {address}\r\ncontent-type: multipart/form-data; \
             boundary={BOUNDARY}\r\ncontent-length: 5000000\r\n"
        );
        if let Some(key) = &key {
            head.push_str(&format!("authorization: Bearer {key}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await.unwrap();
        // Only a first piece of the body is sent; the answer must come without the rest, and the connection close.
        stream.write_all(&[b'x'; 1024]).await.unwrap();
        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
        assert!(
            read.is_ok(),
            "the refusal comes and the connection closes before the body is sent"
        );
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
        assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
        assert!(answer.contains("FORBIDDEN"), "{answer}");
    }
}
on_both_backends!(a_caller_who_may_not_report_is_refused_before_sending_the_body);

/// Run by `the_health_probe_answers_during_a_slow_client_flood` in child processes: opens
/// `SLOW_FLOOD_CONNECTIONS` connections to `SLOW_FLOOD_ADDRESS`, sends half a request on each, and holds them for
/// `SLOW_FLOOD_SECONDS`. Without those variables it does nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run in child processes by hostile::the_health_probe_answers_during_a_slow_client_flood"]
async fn slow_clients() {
    let (Ok(address), Ok(count), Ok(seconds)) = (
        std::env::var("SLOW_FLOOD_ADDRESS"),
        std::env::var("SLOW_FLOOD_CONNECTIONS"),
        std::env::var("SLOW_FLOOD_SECONDS"),
    ) else {
        return;
    };
    let address: std::net::SocketAddr = address.parse().unwrap();
    let count: usize = count.parse().unwrap();
    let hold = Duration::from_secs(seconds.parse().unwrap());
    let until = Instant::now() + Duration::from_secs(60);
    let mut open = Vec::with_capacity(count);
    let mut failed = 0usize;
    // A few hundred connections at a time, each sending half a request line and header.
    while open.len() + failed < count && Instant::now() < until {
        let batch = (count - open.len() - failed).min(200);
        let attempts = (0..batch).map(|_| async move {
            let mut stream = tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(address))
                .await
                .ok()?
                .ok()?;
            let _ = stream
                .write_all(b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-le")
                .await;
            Some(stream)
        });
        for attempt in futures_util::future::join_all(attempts).await {
            match attempt {
                Some(stream) => open.push(stream),
                None => failed += 1,
            }
        }
    }
    println!("slow clients: {} connected, {failed} failed", open.len());
    tokio::time::sleep(hold).await;
}

async fn the_health_probe_answers_during_a_slow_client_flood(backend: Backend) {
    let limits = api::HttpLimits {
        max_connections: 2_000,
        ..api::HttpLimits::default()
    };
    let app = spawn_app_with(&backend, Fixture::Empty, limits).await;
    let address = observatory_tests::serve(&app).await;
    let seconds = 3;
    let mut workers: Vec<std::process::Child> = (0..2)
        .map(|_| {
            std::process::Command::new(std::env::current_exe().expect("the test binary"))
                .args([
                    "hostile::slow_clients",
                    "--exact",
                    "--ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env("SLOW_FLOOD_ADDRESS", address.to_string())
                .env("SLOW_FLOOD_CONNECTIONS", "10000")
                .env("SLOW_FLOOD_SECONDS", seconds.to_string())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("a slow-client process starts")
        })
        .collect();
    let started = Instant::now();
    let mut probes = 0;
    let mut slowest = Duration::ZERO;
    // Probes go on while the flood lasts: until both processes have opened their connections and held them.
    while workers.iter_mut().any(|w| matches!(w.try_wait(), Ok(None))) {
        let asked = Instant::now();
        // A connection attempt lost in a full listen queue is retried by the kernel after 1 s.
        let answer = tokio::time::timeout(
            Duration::from_secs(3),
            observatory_tests::http("127.0.0.1", address, "GET", "/healthz", &[], ""),
        )
        .await;
        let (status, body) = answer.unwrap_or_else(|_| {
            panic!(
                "the health probe got no answer within 3 s, {:.1} s into the flood",
                started.elapsed().as_secs_f64()
            )
        });
        assert_eq!((status, body.as_str()), (200, "ok"));
        slowest = slowest.max(asked.elapsed());
        probes += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut connected = 0;
    for worker in workers {
        let output = worker.wait_with_output().expect("the slow-client process ends");
        let text = String::from_utf8_lossy(&output.stdout);
        connected += text
            .lines()
            .find_map(|l| l.split_once("slow clients: ").map(|(_, rest)| rest))
            .and_then(|l| l.split(' ').next())
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or_else(|| panic!("the slow-client process reports its connections: {text}"));
    }
    eprintln!(
        "{connected} slow connections opened; {probes} health probes during the flood, the slowest {} ms",
        slowest.as_millis()
    );
    assert!(connected >= 19_000, "the flood opened {connected} connections");
    assert!(probes >= 10);
}
on_both_backends!(the_health_probe_answers_during_a_slow_client_flood);

async fn slow_headers_and_slow_bodies_are_cut_off(backend: Backend) {
    let limits = api::HttpLimits {
        header_timeout: Duration::from_secs(1),
        body_grace: Duration::from_secs(1),
        body_min_bytes_per_second: 1024,
        ..api::HttpLimits::default()
    };
    let app = spawn_app_with(&backend, Fixture::Empty, limits).await;
    let address = observatory_tests::serve(&app).await;
    // Half a header, then nothing: the connection is closed after the header timeout.
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n").await.unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    assert!(closed.is_ok(), "a connection with half a header is closed");
    assert!(started.elapsed() < Duration::from_secs(3));
    // A body that trickles: answered 408 once it falls behind the minimum rate.
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(
            b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{",
        )
        .await
        .unwrap();
    let started = Instant::now();
    let reader = tokio::spawn(async move {
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let mut buffer = [0u8; 4096];
                match stream.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => answer.extend_from_slice(&buffer[..n]),
                }
                if answer.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
                let _ = stream.write_all(b" ").await;
            }
        })
        .await;
        String::from_utf8_lossy(&answer).into_owned()
    });
    let answer = reader.await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("TIMEOUT"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(5));
}
on_both_backends!(slow_headers_and_slow_bodies_are_cut_off);

async fn connections_over_the_cap_replace_idle_ones(backend: Backend) {
    let limits = api::HttpLimits {
        max_connections: 16,
        ..api::HttpLimits::default()
    };
    let app = spawn_app_with(&backend, Fixture::Empty, limits).await;
    let address = observatory_tests::serve(&app).await;
    let mut idle = Vec::new();
    for _ in 0..64 {
        idle.push(tokio::net::TcpStream::connect(address).await.unwrap());
    }
    // Every idle connection holds a place; a prompt request still gets through, taking the oldest idle one's.
    for _ in 0..5 {
        let (status, _) = tokio::time::timeout(
            Duration::from_secs(2),
            observatory_tests::http("127.0.0.1", address, "GET", "/healthz", &[], ""),
        )
        .await
        .expect("an answer within 2 s");
        assert_eq!(status, 200);
    }
    // The oldest idle connections were closed by the server.
    let mut closed = 0;
    for stream in &mut idle {
        let mut byte = [0u8; 1];
        if let Ok(Ok(0)) = tokio::time::timeout(Duration::from_millis(50), stream.read(&mut byte)).await {
            closed += 1;
        }
    }
    assert!(closed >= 64 - 16, "{closed} of 64 idle connections closed");
}
on_both_backends!(connections_over_the_cap_replace_idle_ones);
