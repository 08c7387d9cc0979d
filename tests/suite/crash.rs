//! `kill -9` during a burst of submissions, then restart: every acknowledged submission is there whole, with its
//! revision and its figures exactly as sent, and nothing is half-written (no association-month with figures but no
//! accepted submission, none with two, rollups equal to the facts).
//!
//! The server runs in a child process (this test binary again, running [`server_until_killed`]) on the test's own
//! database: a SQLite file or a PostgreSQL database of its own. The parent sends the burst over TCP and SIGKILLs
//! the child once part of it is acknowledged, then reads the database with a new connection and starts a server on it
//! again.

use observatory_tests::{Backend, Fixture, Gen, PartnerKind, on_both_backends, spawn_app};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CHILD: &str = "crash::server_until_killed";
const DATABASE_VARIABLE: &str = "CRASH_TEST_DATABASE_URL";
const ADDRESS_VARIABLE: &str = "CRASH_TEST_ADDRESS_FILE";
const REDIS_VARIABLE: &str = "CRASH_TEST_REDIS_URL";
const KEYED_VARIABLE: &str = "CRASH_TEST_KEYED_PER_MINUTE";

/// Run by `a_kill_during_a_burst_of_submissions_loses_nothing_acknowledged` (and the tests of several processes) in a
/// child process: serves the database named by `CRASH_TEST_DATABASE_URL` on a loopback port, written to the file
/// `CRASH_TEST_ADDRESS_FILE`, until killed. Without those variables it does nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run in a child process by crash::a_kill_during_a_burst_of_submissions_loses_nothing_acknowledged"]
async fn server_until_killed() {
    let (Ok(url), Ok(address_file)) = (std::env::var(DATABASE_VARIABLE), std::env::var(ADDRESS_VARIABLE)) else {
        return;
    };
    let db = api::db::connect(&url).await.expect("the database opens");
    // Webhooks to the test's loopback receivers, with attempts short enough for a test.
    // Optionally, rate limits shared through Redis with the other processes (`Server::start_with`).
    let redis_url = std::env::var(REDIS_VARIABLE).ok();
    let keyed_per_minute = std::env::var(KEYED_VARIABLE).ok().and_then(|v| v.parse().ok());
    let limits = api::HttpLimits {
        webhooks: crate::alerts::test_webhooks(),
        processes: if redis_url.is_some() { 2 } else { 1 },
        redis_url,
        keyed_per_minute: keyed_per_minute.unwrap_or(api::HttpLimits::default().keyed_per_minute),
        ..api::HttpLimits::default()
    };
    let state = api::AppState::load(db, limits).await;
    state.deliver_webhooks();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let written = format!("{address_file}.part");
    std::fs::write(&written, address.to_string()).expect("write the address");
    std::fs::rename(&written, &address_file).expect("publish the address");
    api::serve(listener, state, std::future::pending())
        .await
        .expect("serves");
}

/// A server in a child process, killed (SIGKILL) when dropped.
pub(crate) struct Server {
    child: std::process::Child,
    pub(crate) address: std::net::SocketAddr,
}

impl Server {
    pub(crate) async fn start(database_url: &str) -> Server {
        Server::start_with(database_url, None, None).await
    }

    /// A server whose rate limits are shared through Redis at `redis_url` (as one of two processes), with this limit
    /// of requests per minute and key.
    pub(crate) async fn start_with(
        database_url: &str,
        redis_url: Option<&str>,
        keyed_per_minute: Option<u32>,
    ) -> Server {
        static STARTS: AtomicUsize = AtomicUsize::new(0);
        let file: PathBuf = std::env::temp_dir().join(format!(
            "crash-{}-{}.addr",
            std::process::id(),
            STARTS.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_file(&file);
        let mut child = std::process::Command::new(std::env::current_exe().expect("the test binary"))
            .args([CHILD, "--exact", "--ignored", "--nocapture", "--test-threads=1"])
            .env(DATABASE_VARIABLE, database_url)
            .env(ADDRESS_VARIABLE, &file)
            .envs(redis_url.map(|url| (REDIS_VARIABLE, url.to_owned())))
            .envs(keyed_per_minute.map(|limit| (KEYED_VARIABLE, limit.to_string())))
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("the server process starts");
        let started = Instant::now();
        let address = loop {
            if let Ok(text) = std::fs::read_to_string(&file) {
                break text.parse().expect("an address");
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the server process ended before serving: {status}");
            }
            assert!(started.elapsed() < Duration::from_secs(60), "the server did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let _ = std::fs::remove_file(&file);
        Server { child, address }
    }

    /// The server process's id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, and wait for the process to be gone.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One HTTP/1.1 request over a new connection: the status and body, or `None` when the connection failed or broke
/// before a whole answer came back (the server was killed).
pub(crate) async fn request(
    address: std::net::SocketAddr,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> Option<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(address).await.ok()?;
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.ok()?;
    stream.write_all(body).await.ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.ok()?;
    whole_answer(&response)
}

/// The status and body of an HTTP/1.1 answer, when it came whole (as long as its `content-length` says).
pub(crate) fn whole_answer(response: &[u8]) -> Option<(u16, String)> {
    let response = String::from_utf8_lossy(response).into_owned();
    let status = response.get(9..12)?.parse().ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    // A whole answer: as long as it says (the server may die mid-body).
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_owned())
        })
        .and_then(|v| v.parse::<usize>().ok());
    (length == Some(body.len())).then(|| (status, body.to_owned()))
}

const ASSOCIATIONS: &[&str] = &["TAFOUKT", "PALMIER", "MIMOSA", "ATLAS"];
/// Months of the burst: a demo month (so revisions of loaded reports) and two after the demo.
const MONTHS: &[(&str, i32)] = &[("2020-11", 202011), ("2021-01", 202101), ("2021-02", 202102)];
const REGIONS: &[&str] = &["MA-01", "MA-04", "MA-06", "MA-09"];
const SEGMENTS: &[&str] = &["INDIVIDUAL", "SOLIDARITY_GROUP", "VERY_SMALL_ENTERPRISE"];
const GENDERS: &[&str] = &["FEMALE", "MALE"];
const AREAS: &[&str] = &["URBAN", "RURAL"];

/// The figures of one report, as the database holds them (amounts in centimes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Figures {
    clients: BTreeSet<(String, String, String, String, i64, i64)>,
    loans: BTreeSet<(String, String, String, String, Vec<i64>)>,
    staff: BTreeSet<(String, String, i64)>,
}

/// One report of the burst.
struct Report {
    association: &'static str,
    month: (&'static str, i32),
    figures: Figures,
    body: Vec<u8>,
}

fn money(centimes: i64) -> String {
    format!("{}.{:02}", centimes / 100, centimes % 100)
}

const BOUNDARY: &str = "crash-boundary-51d0";

/// A generated report: random cells of a few regions (so cells appear and disappear between revisions), zeros
/// included, sent as the three CSV parts.
fn generate(g: &mut Gen) -> Report {
    let association = *g.pick(ASSOCIATIONS);
    let month = *g.pick(MONTHS);
    let mut figures = Figures::default();
    let mut clients = String::from("region,segment,gender,area,active_clients,new_clients\n");
    let mut loans = String::from(
        "region,segment,gender,area,disbursed_count,disbursed_amount,active_loans,outstanding_amount,par30_amount,\
         par90_amount,write_off_amount,rescheduled_amount,repayments_due,repayments_collected\n",
    );
    let mut regions: Vec<&str> = REGIONS.iter().copied().filter(|_| g.below(2) == 0).collect();
    if regions.is_empty() {
        regions.push(*g.pick(REGIONS));
    }
    for region in regions {
        for segment in SEGMENTS {
            for gender in GENDERS {
                for area in AREAS {
                    if g.below(4) == 0 {
                        continue;
                    }
                    let key = || {
                        (
                            region.to_string(),
                            segment.to_string(),
                            gender.to_string(),
                            area.to_string(),
                        )
                    };
                    let (active, new) = (g.range(0, 900), g.range(0, 40));
                    clients.push_str(&format!("{region},{segment},{gender},{area},{active},{new}\n"));
                    let (k0, k1, k2, k3) = key();
                    figures.clients.insert((k0, k1, k2, k3, active, new));
                    let outstanding = g.range(0, 90_000_000);
                    let par30 = outstanding / 100 * g.range(0, 12);
                    let par90 = par30 / 100 * g.range(0, 100);
                    let due = g.range(0, 900_000);
                    let values = vec![
                        g.range(0, 60),
                        g.range(0, 9_000_000),
                        active + g.range(0, 20),
                        outstanding,
                        par30,
                        par90,
                        g.range(0, 10_000),
                        g.range(0, 50_000),
                        due,
                        due / 100 * g.range(80, 100),
                    ];
                    let cells: Vec<String> = values
                        .iter()
                        .enumerate()
                        .map(|(i, v)| if matches!(i, 0 | 2) { v.to_string() } else { money(*v) })
                        .collect();
                    loans.push_str(&format!("{region},{segment},{gender},{area},{}\n", cells.join(",")));
                    let (k0, k1, k2, k3) = key();
                    figures.loans.insert((k0, k1, k2, k3, values));
                }
            }
        }
    }
    let mut staff = String::from("category,gender,headcount\n");
    for category in ["NETWORK", "HEAD_OFFICE"] {
        for gender in GENDERS {
            let headcount = g.range(0, 40);
            staff.push_str(&format!("{category},{gender},{headcount}\n"));
            figures.staff.insert((category.into(), gender.to_string(), headcount));
        }
    }
    let mut body = Vec::new();
    for (name, content) in [("clients", clients), ("loans", loans), ("staff", staff)] {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}.csv\"\r\n\
                 Content-Type: text/csv\r\n\r\n{content}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    Report {
        association,
        month,
        figures,
        body,
    }
}

async fn rows(db: &DatabaseConnection, sql: String) -> Vec<sea_orm::QueryResult> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("query")
}

/// The figures of one association-month: the fact tables' (`None`), or a superseded submission's in the revision
/// tables.
async fn stored_figures(db: &DatabaseConnection, association: &str, month: i32, superseded: Option<i64>) -> Figures {
    let table = |facts: &str| match superseded {
        None => (facts.to_owned(), String::new()),
        Some(id) => (format!("{facts}_revision"), format!(" AND t.submission_id = {id}")),
    };
    let mut figures = Figures::default();
    let (clients, only) = table("client_stat");
    for row in rows(
        db,
        format!(
            "SELECT r.code AS region, t.segment, t.gender, t.area, t.active_clients, t.new_clients FROM {clients} t \
             JOIN region r ON r.id = t.region_id JOIN association a ON a.id = t.association_id WHERE a.code = \
             '{association}' AND t.period = {month}{only}"
        ),
    )
    .await
    {
        let text = |c: &str| row.try_get::<String>("", c).unwrap();
        let number = |c: &str| row.try_get::<i64>("", c).unwrap();
        figures.clients.insert((
            text("region"),
            text("segment"),
            text("gender"),
            text("area"),
            number("active_clients"),
            number("new_clients"),
        ));
    }
    let (loans, only) = table("loan_stat");
    let values: Vec<&str> = api::facts::LOANS.measures.iter().map(|m| m.column).collect();
    for row in rows(
        db,
        format!(
            "SELECT r.code AS region, t.segment, t.gender, t.area, {} FROM {loans} t JOIN region r ON r.id = \
             t.region_id JOIN association a ON a.id = t.association_id WHERE a.code = '{association}' AND t.period = \
             {month}{only}",
            values.iter().map(|v| format!("t.{v}")).collect::<Vec<_>>().join(", ")
        ),
    )
    .await
    {
        let text = |c: &str| row.try_get::<String>("", c).unwrap();
        figures.loans.insert((
            text("region"),
            text("segment"),
            text("gender"),
            text("area"),
            values.iter().map(|v| row.try_get::<i64>("", v).unwrap()).collect(),
        ));
    }
    let (staff, only) = table("staff_stat");
    for row in rows(
        db,
        format!(
            "SELECT t.category, t.gender, t.headcount FROM {staff} t JOIN association a ON a.id = t.association_id \
             WHERE a.code = '{association}' AND t.period = {month}{only}"
        ),
    )
    .await
    {
        figures.staff.insert((
            row.try_get("", "category").unwrap(),
            row.try_get("", "gender").unwrap(),
            row.try_get("", "headcount").unwrap(),
        ));
    }
    figures
}

async fn count(db: &DatabaseConnection, sql: String) -> i64 {
    rows(db, sql).await[0].try_get::<i64>("", "n").unwrap()
}

/// Every rollup table equals a GROUP BY over the facts, every column, every month.
async fn assert_rollups_equal_facts(db: &DatabaseConnection) {
    use api::rollup::Level;
    for facts in [&api::facts::CLIENTS, &api::facts::LOANS] {
        let measures: Vec<&str> = facts.measures.iter().map(|m| m.column).collect();
        let facts_table = facts.table;
        for level in [Level::Region, Level::Association, Level::AssociationTotal] {
            let rollup = api::rollup::table(facts, level).expect("a rollup");
            let keys: Vec<&str> = match level {
                Level::AssociationTotal => vec!["association_id", "period"],
                Level::Region => vec!["region_id", "period", "segment", "gender", "area"],
                Level::Association => vec!["association_id", "period", "segment", "gender", "area"],
            };
            let keys = keys.join(", ");
            let sums: Vec<String> = measures
                .iter()
                .map(|m| format!("CAST(SUM({m}) AS BIGINT) AS {m}"))
                .collect();
            let (measures, sums) = (measures.join(", "), sums.join(", "));
            let summed = format!("SELECT {keys}, {sums} FROM {facts_table} GROUP BY {keys}");
            let rolled = format!("SELECT {keys}, {measures} FROM {rollup}");
            for (one, other) in [(&summed, &rolled), (&rolled, &summed)] {
                let sql = format!("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM ({one} EXCEPT {other}) d");
                assert_eq!(count(db, sql).await, 0, "{rollup} equals the sums of {facts_table}");
            }
        }
    }
}

async fn a_kill_during_a_burst_of_submissions_loses_nothing_acknowledged(backend: Backend) {
    const BURST: usize = 64;
    const KILL_AFTER: usize = 4;
    let app = spawn_app(&backend, Fixture::Demo).await;
    let key = app.issue_key(PartnerKind::Observatory, None).await;
    let url = app.database_url();
    let mut g = Gen::new(9);
    let reports: Arc<Vec<Report>> = Arc::new((0..BURST).map(|_| generate(&mut g)).collect());

    let server = Arc::new(Mutex::new(Server::start(&url).await));
    let address = server.lock().unwrap().address;
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..BURST)
        .map(|i| {
            let (reports, server, acknowledged, key) =
                (reports.clone(), server.clone(), acknowledged.clone(), key.clone());
            tokio::spawn(async move {
                let report = &reports[i];
                let headers = [
                    ("authorization", format!("Bearer {key}")),
                    ("content-type", format!("multipart/form-data; boundary={BOUNDARY}")),
                    ("idempotency-key", format!("burst-{i}")),
                ];
                let path = format!("/reports/{}/{}", report.association, report.month.0);
                // Acknowledged: 201 with the submission. An overloaded server may also ask to send again (503
                // UNAVAILABLE when no connection frees up in time, 409 CONFLICT after many lost races): not
                // acknowledged, so nothing is promised; any other answer is a failure.
                match request(address, &path, &headers, &report.body).await {
                    Some((201, body)) => {
                        if acknowledged.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER {
                            server.lock().unwrap().kill();
                        }
                        Some(serde_json::from_str::<serde_json::Value>(&body).expect("a submission"))
                    }
                    Some((503 | 409, _)) | None => None,
                    Some((status, body)) => panic!("burst-{i}: {status} {body}"),
                }
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("the request task"));
    }
    server.lock().unwrap().kill();
    let acked: Vec<(usize, serde_json::Value)> = answers
        .into_iter()
        .enumerate()
        .filter_map(|(i, a)| a.map(|a| (i, a)))
        .collect();
    assert!(acked.len() >= KILL_AFTER, "{} acknowledged", acked.len());
    assert!(
        acked.len() < BURST,
        "the server was killed mid-burst: {} of {BURST} acknowledged",
        acked.len()
    );

    // After the crash, with a new connection.
    let db = api::db::connect(&url)
        .await
        .expect("the database opens after the crash");
    #[derive(Debug)]
    struct Stored {
        id: i64,
        association: String,
        period: i32,
        revision: i64,
        status: String,
    }
    let stored: BTreeMap<String, Stored> = rows(
        &db,
        "SELECT s.id, a.code, s.period, CAST(s.revision AS BIGINT) AS revision, s.status, s.idempotency_key FROM \
         submission s JOIN association a ON a.id = s.association_id WHERE s.idempotency_key LIKE 'burst-%'"
            .into(),
    )
    .await
    .into_iter()
    .map(|row| {
        (
            row.try_get::<String>("", "idempotency_key").unwrap(),
            Stored {
                id: row.try_get("", "id").unwrap(),
                association: row.try_get("", "code").unwrap(),
                period: row.try_get::<i32>("", "period").unwrap(),
                revision: row.try_get("", "revision").unwrap(),
                status: row.try_get("", "status").unwrap(),
            },
        )
    })
    .collect();
    // Every acknowledged submission is there, as acknowledged.
    for (i, answer) in &acked {
        let found = stored
            .get(&format!("burst-{i}"))
            .unwrap_or_else(|| panic!("acknowledged burst-{i} ({answer}) is stored"));
        assert_eq!(answer["id"], found.id.to_string(), "burst-{i}");
        assert_eq!(answer["revision"], found.revision, "burst-{i}");
        assert_eq!(answer["association"], found.association, "burst-{i}");
    }
    // Every stored submission of the burst (acknowledged or committed just before the kill) holds its figures
    // exactly as sent: in the fact tables when accepted, in the revision tables when superseded since.
    for (key, found) in &stored {
        let i: usize = key["burst-".len()..].parse().unwrap();
        let report = &reports[i];
        assert_eq!(
            (found.association.as_str(), found.period),
            (report.association, report.month.1),
            "{key}"
        );
        let superseded = match found.status.as_str() {
            "ACCEPTED" => None,
            "SUPERSEDED" => Some(found.id),
            other => panic!("{key} is {other}"),
        };
        let figures = stored_figures(&db, report.association, report.month.1, superseded).await;
        assert_eq!(
            figures, report.figures,
            "{key} ({}) holds its figures as sent",
            found.status
        );
    }
    // Nothing half-written: every association-month with figures has exactly one accepted submission, and its
    // revisions are numbered 1, 2, … without a gap.
    for facts in ["client_stat", "loan_stat", "staff_stat"] {
        let orphans = count(
            &db,
            format!(
                "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM (SELECT DISTINCT association_id, period FROM {facts}) f \
                 WHERE NOT EXISTS (SELECT 1 FROM submission s WHERE s.association_id = f.association_id AND s.period \
                 = f.period AND s.status = 'ACCEPTED')"
            ),
        )
        .await;
        assert_eq!(orphans, 0, "{facts}: no figures without an accepted submission");
    }
    let doubles = count(
        &db,
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM (SELECT association_id, period FROM submission WHERE status = \
         'ACCEPTED' GROUP BY association_id, period HAVING COUNT(*) > 1) d"
            .into(),
    )
    .await;
    assert_eq!(doubles, 0, "no association-month has two accepted submissions");
    let gaps = count(
        &db,
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM (SELECT association_id, period FROM submission GROUP BY \
         association_id, period HAVING MAX(revision) <> COUNT(*) OR MIN(revision) <> 1) d"
            .into(),
    )
    .await;
    assert_eq!(gaps, 0, "revisions are numbered without gaps");
    assert_rollups_equal_facts(&db).await;
    let next = generate(&mut g);
    let last = count(
        &db,
        format!(
            "SELECT CAST(COALESCE(MAX(s.revision), 0) AS BIGINT) AS n FROM submission s JOIN association a ON a.id = \
             s.association_id WHERE a.code = '{}' AND s.period = {}",
            next.association, next.month.1
        ),
    )
    .await;
    db.close().await.ok();

    // A server started again on the database accepts the next revision.
    let restarted = Server::start(&url).await;
    let headers = [
        ("authorization", format!("Bearer {key}")),
        ("content-type", format!("multipart/form-data; boundary={BOUNDARY}")),
    ];
    let path = format!("/reports/{}/{}", next.association, next.month.0);
    let (status, body) = request(restarted.address, &path, &headers, &next.body)
        .await
        .expect("the restarted server answers");
    assert_eq!(status, 201, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        answer["revision"],
        last + 1,
        "the revision after the last one stored: {answer}"
    );
    drop(restarted);
}
on_both_backends!(a_kill_during_a_burst_of_submissions_loses_nothing_acknowledged);
