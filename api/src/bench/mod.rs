//! `observatory bench`: measures the four reference queries through the HTTP
//! router (latency over loopback, throughput under concurrent load) next to
//! the raw SQL of the same aggregation on the fact tables, then the acceptance
//! of reports (`acceptance`), and prints a table of each.

pub mod acceptance;
pub mod dataset;
mod pricing;

use crate::http::{AppState, HttpLimits};
use crate::indicator::catalog::{Agg, Dim, Source};
use crate::indicator::cube::{CubeFilter, CubeRequest};
use crate::indicator::store::monthly_sql;
use crate::period::{Granularity, Month, Period};
use dataset::Scale;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Options of a benchmark run.
#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// Dataset size.
    #[arg(long, value_enum, default_value_t = Scale::National)]
    pub scale: Scale,
    /// Sequential requests per query for the latency figures.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..))]
    pub requests: u64,
    /// Concurrent loopback connections for the throughput figure.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub concurrency: u64,
    /// Seconds of concurrent load per query.
    #[arg(long, default_value_t = 3)]
    pub load_seconds: u64,
    /// Regenerate the dataset even when the database already holds it.
    #[arg(long)]
    pub regenerate: bool,
    /// Replace the database's content even when it holds data other than a benchmark dataset (its associations,
    /// reports, partners and keys are all deleted). Without it, such a database is refused.
    #[arg(long)]
    pub replace: bool,
    /// Which benchmarks to run.
    #[arg(long, value_enum, default_value_t = Part::All)]
    pub part: Part,
    /// Reports accepted one after another for the acceptance latency (revisions of the dataset's last month).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..))]
    pub revisions: u64,
    /// Associations sending the month after the dataset at once (benchmark reporters are registered up to this
    /// number when the dataset has fewer associations).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub reporters: u64,
    /// Generated documents per role for the pricing calibration.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub documents: u64,
}

/// The benchmarks a run measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// The reference queries, then the acceptance of reports.
    All,
    /// The four reference queries.
    Queries,
    /// Accepting reports: one after another, and many associations at once.
    Acceptance,
    /// How well prices predict work: generated documents priced, then run.
    Pricing,
}

struct Case {
    name: &'static str,
    query: &'static str,
    raw: Vec<Statement>,
}

fn request(granularity: Granularity, months: &[i32], group_by: Vec<Dim>, aggs: &[Agg]) -> CubeRequest {
    CubeRequest {
        granularity,
        periods: months
            .iter()
            .map(|m| Period::containing(granularity, Month(*m)))
            .collect(),
        group_by,
        filter: CubeFilter::default(),
        aggs: aggs.iter().copied().collect(),
        use_rollups: false,
        access: crate::scope::RowAccess::All,
        small_groups: None,
        document_dims: None,
        derived: None,
    }
}

/// The raw SQL of an indicator request on the fact tables, one statement per source.
fn raw_sql(backend: DbBackend, request: &CubeRequest) -> Vec<Statement> {
    let mut sources: Vec<Source> = request.aggs.iter().map(|a| a.source()).collect();
    sources.dedup();
    sources
        .into_iter()
        .map(|source| {
            let aggs: Vec<Agg> = request.aggs.iter().copied().filter(|a| a.source() == source).collect();
            monthly_sql(backend, source, &aggs, request)
        })
        .collect()
}

fn cases(backend: DbBackend) -> Vec<Case> {
    let quarters: Vec<i32> = (0..8).map(|i| Month(201901).shift(i * 3).0).collect();
    let mut q1 = raw_sql(
        backend,
        &request(
            Granularity::Month,
            &[201912, 202012],
            vec![Dim::Segment],
            &[Agg::ActiveClients, Agg::Outstanding, Agg::Par30],
        ),
    );
    q1.extend(raw_sql(
        backend,
        &request(
            Granularity::Year,
            &[201901, 202001],
            vec![Dim::Segment],
            &[Agg::DisbursedAmount],
        ),
    ));
    vec![
        Case {
            name: "Q1 dashboard 2020-12 vs 2019-12 by segment + YTD disbursed",
            query: r#"{ dashboard: indicators(period: { from: "2020-12", to: "2020-12" }, groupBy: [SEGMENT], compareTo: SAME_PERIOD_PREVIOUS_YEAR) {
                segment activeClients { value previous change } outstandingAmount { value previous change } par30Rate { value previous change } }
              ytd: indicators(period: { from: "2020-01", to: "2020-12", granularity: YEAR }, groupBy: [SEGMENT], compareTo: SAME_PERIOD_PREVIOUS_YEAR) {
                segment disbursedAmount { value previous changePercent } } }"#,
            raw: q1,
        },
        Case {
            name: "Q2 PAR30 rate and outstanding by region and quarter, 2019-2020",
            query: r#"{ indicators(period: { from: "2019-Q1", to: "2020-Q4", granularity: QUARTER }, groupBy: [REGION]) {
                period region { code } par30Rate { value } outstandingAmount { value } } }"#,
            raw: raw_sql(
                backend,
                &request(
                    Granularity::Quarter,
                    &quarters,
                    vec![Dim::Region],
                    &[Agg::Outstanding, Agg::Par30],
                ),
            ),
        },
        Case {
            name: "Q3 first 50 branches of a region with their association",
            query: r#"{ branches(first: 50, filter: { regions: ["MA-06"] }) { nodes { code name association { code nameFr } } } }"#,
            raw: vec![Statement::from_string(
                backend,
                "SELECT b.id, b.code, b.name, a.code AS association_code, a.name_fr FROM branch b \
                JOIN association a ON a.id = b.association_id WHERE b.region_id = (SELECT id FROM region WHERE code = 'MA-06') \
                ORDER BY b.id LIMIT 51",
            )],
        },
        Case {
            name: "Q4 every association: 2020-12 clients, outstanding, PAR30 rate",
            query: r#"{ indicators(period: { from: "2020-12", to: "2020-12" }, groupBy: [ASSOCIATION]) {
                association { code } activeClients { value } outstandingAmount { value } par30Rate { value } } }"#,
            raw: raw_sql(
                backend,
                &request(
                    Granularity::Month,
                    &[202012],
                    vec![Dim::Association],
                    &[Agg::ActiveClients, Agg::Outstanding, Agg::Par30],
                ),
            ),
        },
    ]
}

/// A keep-alive HTTP/1.1 connection posting GraphQL requests with a partner's key.
struct Client {
    reader: BufReader<TcpStream>,
    address: std::net::SocketAddr,
    key: String,
}

impl Client {
    async fn connect(address: std::net::SocketAddr, key: &str) -> std::io::Result<Client> {
        let stream = TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        Ok(Client {
            reader: BufReader::new(stream),
            address,
            key: key.to_owned(),
        })
    }

    /// Posts a query (anonymously when the key is empty); returns the status and the body.
    async fn post(&mut self, query: &str) -> std::io::Result<(u16, Vec<u8>)> {
        let body = serde_json::json!({ "query": query }).to_string();
        let head = format!(
            "POST /graphql HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Accept: application/graphql-response+json\r\n{}Content-Length: {}\r\n\r\n",
            self.address,
            self.authorization(),
            body.len()
        );
        let stream = self.reader.get_mut();
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        self.answer().await
    }

    /// Gets a path (with the key unless it is empty); returns the status and the body.
    async fn get(&mut self, path: &str) -> std::io::Result<(u16, Vec<u8>)> {
        let head = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\n{}\r\n",
            self.address,
            self.authorization()
        );
        self.reader.get_mut().write_all(head.as_bytes()).await?;
        self.answer().await
    }

    fn authorization(&self) -> String {
        if self.key.is_empty() {
            String::new()
        } else {
            format!("Authorization: Bearer {}\r\n", self.key)
        }
    }

    /// Reads one answer: its status and its body (of a `Content-Length`).
    async fn answer(&mut self) -> std::io::Result<(u16, Vec<u8>)> {
        let mut line = String::new();
        self.reader.read_line(&mut line).await?;
        let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let mut length = 0usize;
        loop {
            line.clear();
            self.reader.read_line(&mut line).await?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).await?;
        Ok((status, body))
    }
}

fn percentile(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index].as_secs_f64() * 1000.0
}

/// A key of a fund partner (released data, every breakdown), valid one day.
async fn bench_key(db: &DatabaseConnection) -> Result<String, BoxError> {
    key_of(db, "BENCHMARK", entity::enums::PartnerKind::Fund, None).await
}

/// A key of an association's own partner (its own months, the sector with small groups hidden), valid one day.
async fn association_key(db: &DatabaseConnection, association: &str) -> Result<String, BoxError> {
    let code = format!("BENCHMARK-{association}");
    key_of(db, &code, entity::enums::PartnerKind::Association, Some(association)).await
}

/// A read key of a benchmark partner, created when missing, valid one day.
async fn key_of(
    db: &DatabaseConnection,
    code: &str,
    kind: entity::enums::PartnerKind,
    association: Option<&str>,
) -> Result<String, BoxError> {
    use crate::partner::store;
    let observatory = crate::scope::Scope::observatory();
    if !store::list_partners(db)
        .await
        .map_err(|e| e.detail())?
        .iter()
        .any(|p| p.code == code)
    {
        let partner = store::NewPartner {
            code: code.into(),
            name: "Benchmark client".into(),
            kind,
            association: association.map(Into::into),
        };
        store::create_partner(db, &observatory, partner)
            .await
            .map_err(|e| e.detail())?;
    }
    let key = store::NewKey {
        partner: code.into(),
        label: "benchmark".into(),
        expires_at: Some(chrono::Utc::now() + chrono::Duration::days(1)),
        scopes: vec!["read".into()],
    };
    Ok(store::issue_key(db, &observatory, key).await.map_err(|e| e.detail())?.1)
}

/// Statements run and time spent in the database, counted by the connection's metric callback.
#[derive(Default)]
struct SqlTime {
    statements: std::sync::atomic::AtomicU64,
    micros: std::sync::atomic::AtomicU64,
}

impl SqlTime {
    fn take(&self) -> (u64, f64) {
        use std::sync::atomic::Ordering::SeqCst;
        (
            self.statements.swap(0, SeqCst),
            self.micros.swap(0, SeqCst) as f64 / 1000.0,
        )
    }
}

pub async fn run(db: DatabaseConnection, args: BenchArgs) -> Result<(), BoxError> {
    if args.regenerate || !dataset::present(&db, args.scale).await? {
        if let Some((count, example)) = dataset::other_data(&db).await?
            && !args.replace
        {
            return Err(format!(
                "this database holds data other than a benchmark dataset ({count} associations, {example} among \
                 them), which generating the dataset would delete: point --database-url at an empty database, or \
                 pass --replace"
            )
            .into());
        }
        tracing::info!(scale = ?args.scale, "generating the benchmark dataset");
        dataset::generate(&db, args.scale).await?;
    }
    let backend = format!("{:?}", db.get_database_backend()).to_lowercase();
    let rows_per_table = args.scale.institutions() * 12 * 12 * 120;
    println!(
        "\nscale: {:?} ({} institutions × 12 regions × 120 months; {} rows per monthly table) on {backend}",
        args.scale,
        args.scale.institutions(),
        rows_per_table
    );
    if matches!(args.part, Part::All | Part::Queries) {
        queries(&db, &args).await?;
    }
    if matches!(args.part, Part::All | Part::Acceptance) {
        acceptance::run(&db, args.scale, args.revisions, args.reporters).await?;
    }
    if args.part == Part::Pricing {
        pricing::run(&db, args.documents).await?;
    }
    Ok(())
}

/// The four reference queries: latency, throughput and the raw SQL's time.
async fn queries(db: &DatabaseConnection, args: &BenchArgs) -> Result<(), BoxError> {
    let key = bench_key(db).await?;
    let mut db = db.clone();
    let sql = std::sync::Arc::new(SqlTime::default());
    let counted = sql.clone();
    db.set_metric_callback(move |info| {
        use std::sync::atomic::Ordering::SeqCst;
        counted.statements.fetch_add(1, SeqCst);
        counted.micros.fetch_add(info.elapsed.as_micros() as u64, SeqCst);
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    // The benchmark measures capacity: its own requests are not rate limited.
    let limits = HttpLimits {
        anonymous_per_minute: u32::MAX,
        keyed_per_minute: u32::MAX,
        ..HttpLimits::default()
    };
    let state = AppState::load(db.clone(), limits).await;
    tokio::spawn(async move { crate::app::serve(listener, state, std::future::pending()).await });

    println!(
        "as a fund partner; latency: {} sequential requests over one keep-alive loopback connection; \
         throughput: {} connections for {} s\n",
        args.requests, args.concurrency, args.load_seconds
    );
    println!(
        "| query | computed p50 ms | of which in SQL ms (statements) | reused p50 ms | reused p95 ms | reused req/s | raw SQL p50 ms (facts) |\n|---|---:|---:|---:|---:|---:|---:|"
    );
    for case in cases(db.get_database_backend()) {
        let mut client = Client::connect(address, &key).await?;
        let (status, body) = client.post(case.query).await?;
        let text = String::from_utf8_lossy(&body);
        if status != 200 || text.contains("\"errors\"") {
            return Err(format!("{}: answered {status}: {text}", case.name).into());
        }
        // Computed: the answer worked out each time (a new comment makes each document new to the cache).
        let mut computed = Vec::with_capacity(args.requests as usize);
        sql.take();
        for i in 0..args.requests {
            let query = format!("{}\n# {i}", case.query);
            let started = Instant::now();
            client.post(&query).await?;
            computed.push(started.elapsed());
        }
        let (statements, sql_ms) = sql.take();
        // Reused: the same request again while the data has not changed, as a dashboard refreshing sends it.
        for _ in 0..10 {
            client.post(case.query).await?;
        }
        let mut latencies = Vec::with_capacity(args.requests as usize);
        for _ in 0..args.requests {
            let started = Instant::now();
            client.post(case.query).await?;
            latencies.push(started.elapsed());
        }
        let deadline = Instant::now() + Duration::from_secs(args.load_seconds);
        let started = Instant::now();
        let mut workers = Vec::new();
        for _ in 0..args.concurrency {
            let query = case.query;
            let key = key.clone();
            workers.push(tokio::spawn(async move {
                let mut client = Client::connect(address, &key).await?;
                let mut done = 0u64;
                while Instant::now() < deadline {
                    client.post(query).await?;
                    done += 1;
                }
                Ok::<u64, std::io::Error>(done)
            }));
        }
        let mut total = 0;
        for worker in workers {
            total += worker.await??;
        }
        let throughput = total as f64 / started.elapsed().as_secs_f64();
        let mut raw = Vec::new();
        let raw_runs = args.requests.clamp(5, 50);
        for _ in 0..raw_runs {
            let started = Instant::now();
            for statement in &case.raw {
                db.query_all_raw(statement.clone()).await?;
            }
            raw.push(started.elapsed());
        }
        let n = args.requests as f64;
        println!(
            "| {} | {:.2} | {:.2} ({:.1}) | {:.3} | {:.3} | {:.0} | {:.2} |",
            case.name,
            percentile(&mut computed, 0.5),
            sql_ms / n,
            statements as f64 / n,
            percentile(&mut latencies, 0.5),
            percentile(&mut latencies, 0.95),
            throughput,
            percentile(&mut raw, 0.5),
        );
    }
    println!(
        "\nWhere the time goes: \"computed\" requests work the answer out (a document new to the server each time); \
         \"of which in SQL\" is the time inside database calls per computed request (the rest is HTTP, the key, \
         pricing, execution and writing the answer). \"Reused\" requests repeat a document while the data has not \
         changed: one statement reads the data's version and the kept answer is sent."
    );
    Ok(())
}
