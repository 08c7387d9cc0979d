//! `observatory bench --part pricing`: how well a document's price predicts
//! its work. Generated documents over every root field that reads data, every
//! grouping, filter and period span, and every role, are priced as the server
//! prices them, then run one at a time over loopback with the budgets lifted
//! and nothing reused. The run prints the units one millisecond of work is
//! worth on this machine, the measured against the predicted time by kind of
//! document, the worst ratios, and which documents the budgets would refuse.

use super::{BoxError, Client};
use crate::graphql::cost::{self, Caller};
use crate::graphql::types::TypeIndex;
use crate::http::{AppState, HttpLimits};
use crate::indicator::catalog::{Dim, MEASURES};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use std::time::{Duration, Instant};

/// A small deterministic generator (xorshift), so that two runs price the same documents.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// `count` distinct items, in their order.
    fn some<T: Clone>(&mut self, items: &[T], count: usize) -> Vec<T> {
        let mut chosen: Vec<usize> = (0..items.len()).collect();
        for i in 0..chosen.len() {
            let j = i + self.below((chosen.len() - i) as u64) as usize;
            chosen.swap(i, j);
        }
        chosen.truncate(count.min(items.len()));
        chosen.sort();
        chosen.into_iter().map(|i| items[i].clone()).collect()
    }
}

/// What the generated documents may name.
struct Names {
    associations: Vec<String>,
    regions: Vec<String>,
    /// The dataset's last month (`yyyymm`).
    last: i32,
}

/// One `indicators` field: an ordinary request of a dashboard, a BI tool or an SDMX reader.
fn indicators_field(rng: &mut Rng, names: &Names, alias: &str, associations_visible: bool) -> (String, String) {
    let dims: Vec<Dim> = if associations_visible {
        Dim::ALL.to_vec()
    } else {
        Dim::ALL.into_iter().filter(|d| *d != Dim::Association).collect()
    };
    let count = rng.below(4) as usize;
    let mut grouped = rng.some(&dims, count);
    let by_activity = grouped.contains(&Dim::Activity);
    if by_activity {
        // The activity combines with the association and the region only.
        grouped.retain(|d| Dim::WITH_ACTIVITY.contains(d));
    }
    let measures: Vec<&str> = MEASURES
        .iter()
        .filter(|m| grouped.iter().all(|d| m.dims().contains(d)))
        .map(|m| m.field)
        .collect();
    let count = 1 + rng.below(4) as usize;
    let measures = rng.some(&measures, count);
    let (granularity, span) = match rng.below(3) {
        0 => ("MONTH", 1 + rng.below(24) as i32),
        1 => ("QUARTER", 3 * (1 + rng.below(8) as i32)),
        _ => ("YEAR", 12 * (1 + rng.below(2) as i32)),
    };
    let last = crate::period::Month(names.last).shift(-(rng.below(24) as i32));
    let first = last.shift(1 - span);
    let mut filters = Vec::new();
    if rng.chance(30) {
        let count = 1 + rng.below(4) as usize;
        let regions = rng.some(&names.regions, count);
        filters.push(format!("regions: {}", quoted(&regions)));
    }
    if associations_visible && rng.chance(25) {
        let count = 1 + rng.below(5) as usize;
        let associations = rng.some(&names.associations, count);
        filters.push(format!("associations: {}", quoted(&associations)));
    }
    if !by_activity && rng.chance(20) {
        filters.push(format!("segments: [{}]", rng.pick(&["INDIVIDUAL", "SOLIDARITY_GROUP"])));
    }
    if !by_activity && rng.chance(15) {
        filters.push(format!("areas: [{}]", rng.pick(&["URBAN", "RURAL"])));
    }
    let compare = if rng.chance(30) {
        ", compareTo: SAME_PERIOD_PREVIOUS_YEAR"
    } else {
        ""
    };
    let group_by: Vec<&str> = grouped.iter().map(|d| d.name()).collect();
    let keys: String = grouped
        .iter()
        .map(|d| match d {
            Dim::Association => "association { code } ",
            Dim::Region => "region { code } ",
            Dim::Segment => "segment ",
            Dim::Gender => "gender ",
            Dim::Area => "area ",
            Dim::Activity => "activity ",
        })
        .collect();
    let values: String = measures
        .iter()
        .map(|m| {
            if compare.is_empty() {
                format!("{m} {{ value }} ")
            } else {
                format!("{m} {{ value previous changePercent }} ")
            }
        })
        .collect();
    let kind = format!(
        "indicators {}, {} dim(s){}{}",
        granularity.to_lowercase(),
        grouped.len(),
        if filters.is_empty() { "" } else { ", filtered" },
        if compare.is_empty() { "" } else { ", compared" }
    );
    let field = format!(
        r#"{alias}: indicators(period: {{ from: "{}", to: "{}", granularity: {granularity} }}, groupBy: [{}], filter: {{ {} }}{compare}) {{ period {keys}{values}}}"#,
        first,
        last,
        group_by.join(", "),
        filters.join(", ")
    );
    (kind, field)
}

fn quoted(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|i| format!("\"{i}\"")).collect();
    format!("[{}]", items.join(", "))
}

/// A page of one of the lists.
fn list_field(rng: &mut Rng, names: &Names, alias: &str) -> (String, String) {
    let first = *rng.pick(&[10u64, 50, 100, 500]);
    let region = rng.pick(&names.regions).clone();
    let month = crate::period::Month(names.last).shift(-(rng.below(24) as i32));
    let (kind, field) = match rng.below(4) {
        0 => (
            "branches page",
            format!(
                r#"{alias}: branches(first: {first}, filter: {{ regions: ["{region}"] }}) {{ nodes {{ code name association {{ code nameFr }} }} }}"#
            ),
        ),
        1 => (
            "associations page",
            format!(
                r#"{alias}: associations(first: {first}) {{ nodes {{ code nameFr branches(first: 5) {{ totalCount }} }} }}"#
            ),
        ),
        2 => (
            "client statistics page",
            format!(
                r#"{alias}: clientStatistics(first: {first}, filter: {{ from: "{month}", to: "{month}", regions: ["{region}"] }}) {{ totalCount nodes {{ period segment gender area activeClients }} }}"#
            ),
        ),
        _ => (
            "loan statistics page",
            format!(
                r#"{alias}: loanStatistics(first: {first}, filter: {{ from: "{month}", to: "{month}" }}) {{ nodes {{ period segment outstandingAmount par30Amount }} }}"#
            ),
        ),
    };
    (kind.to_owned(), field)
}

/// Who a document is run as.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Public,
    Association,
    Fund,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Public => "public",
            Role::Association => "association",
            Role::Fund => "fund",
        }
    }
}

/// One document priced and measured.
struct Sample {
    role: Role,
    kind: String,
    units: u64,
    /// The price's parts: statements (aggregate and reads), rows read, values written.
    parts: [f64; 3],
    millis: f64,
    document: String,
}

pub async fn run(db: &DatabaseConnection, documents: u64) -> Result<(), BoxError> {
    let backend = db.get_database_backend();
    let text = |row: &sea_orm::QueryResult| row.try_get_by_index::<String>(0).unwrap_or_default();
    let associations: Vec<String> = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT code FROM association ORDER BY id",
        ))
        .await?
        .iter()
        .map(text)
        .collect();
    let regions: Vec<String> = db
        .query_all_raw(Statement::from_string(backend, "SELECT code FROM region ORDER BY id"))
        .await?
        .iter()
        .map(text)
        .collect();
    let last = db
        .query_one_raw(Statement::from_string(backend, "SELECT MAX(period) FROM client_stat"))
        .await?
        .and_then(|row| row.try_get_by_index::<i32>(0).ok())
        .ok_or("the dataset holds no monthly figures")?;
    let names = Names {
        associations: associations.clone(),
        regions,
        last,
    };
    let fund = super::bench_key(db).await?;
    let member = super::association_key(db, &associations[0]).await?;
    let limits = HttpLimits {
        anonymous_per_minute: u32::MAX,
        keyed_per_minute: u32::MAX,
        public_budget: u64::MAX,
        keyed_budget: u64::MAX,
        request_timeout: Duration::from_secs(120),
        ..HttpLimits::default()
    };
    let state = AppState::load(db.clone(), limits).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move { crate::app::serve(listener, state, std::future::pending()).await });
    let types = TypeIndex::from_sdl(&crate::schema::sdl());

    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut samples = Vec::new();
    let mut clients = [
        (Role::Public, Client::connect(address, "").await?),
        (Role::Association, Client::connect(address, &member).await?),
        (Role::Fund, Client::connect(address, &fund).await?),
    ];
    println!(
        "pricing: {documents} generated documents per role on {} associations, {} months up to {}",
        associations.len(),
        24,
        crate::period::Month(last)
    );
    for n in 0..documents {
        let fields = if rng.chance(25) { 2 + rng.below(5) } else { 1 };
        for (role, client) in clients.iter_mut() {
            let role = *role;
            let mut kinds = Vec::new();
            let mut body = Vec::new();
            for f in 0..fields {
                let alias = format!("f{f}");
                let (kind, field) = if rng.chance(80) {
                    indicators_field(&mut rng, &names, &alias, role != Role::Public)
                } else {
                    list_field(&mut rng, &names, &alias)
                };
                kinds.push(kind);
                body.push(field);
            }
            let document = format!("# {n} {}\n{{ {} }}", role.name(), body.join("\n"));
            let kind = if fields == 1 {
                kinds.remove(0)
            } else {
                format!("document of {fields} fields")
            };
            let (units, parts) = price(&document, &types, associations.len() as u64, role)?;
            let started = Instant::now();
            let (status, answer) = client.post(&document).await?;
            let millis = started.elapsed().as_secs_f64() * 1000.0;
            let answer = String::from_utf8_lossy(&answer);
            if status != 200 || answer.starts_with("{\"errors\"") {
                println!(
                    "FAILED ({status}, {millis:.0} ms) as {}: {document}\n{answer}",
                    role.name()
                );
                continue;
            }
            samples.push(Sample {
                role,
                kind,
                units,
                parts,
                millis,
                document,
            });
        }
    }
    // SDMX readers: one region, or one indicator, over two years, every other position empty, on either dataflow.
    for n in 0..documents.div_ceil(4) {
        let flow = crate::sdmx::structure::FLOWS[((n / 2) % 2) as usize];
        let codes: Vec<&str> = MEASURES.iter().filter(|m| flow.carries(m)).map(|m| m.code).collect();
        let empty = ".".repeat(flow.breakdowns.len());
        let key = if n % 2 == 0 {
            format!(".{}.{empty}", rng.pick(&names.regions))
        } else {
            format!("..{}{empty}", rng.pick(&codes))
        };
        let last = crate::period::Month(names.last).shift(-(rng.below(12) as i32));
        let first = last.shift(-23);
        let query = crate::sdmx::data::DataQuery::parse(flow, &key, &names.regions, &[])?;
        let document = query.document(first, last);
        let path = format!("/sdmx/rest/data/{}/{key}?startPeriod={first}&endPeriod={last}", flow.id);
        for (role, client) in clients.iter_mut() {
            let role = *role;
            let (units, parts) = price(&document, &types, associations.len() as u64, role)?;
            let started = Instant::now();
            let (status, answer) = client.get(&path).await?;
            let millis = started.elapsed().as_secs_f64() * 1000.0;
            if status != 200 {
                let answer = String::from_utf8_lossy(&answer);
                println!("FAILED ({status}, {millis:.0} ms) as {}: {path}\n{answer}", role.name());
                continue;
            }
            samples.push(Sample {
                role,
                kind: format!("SDMX {}", if n % 2 == 0 { "one region" } else { "one indicator" }),
                units,
                parts,
                millis,
                document: path.clone(),
            });
        }
    }
    report(&samples);
    Ok(())
}

/// The price of a document as the server computes it for a role, whatever the budget, and its parts.
fn price(document: &str, types: &TypeIndex, associations: u64, role: Role) -> Result<(u64, [f64; 3]), BoxError> {
    let parsed = async_graphql::parser::parse_query(document)?;
    let caller = Caller {
        associations,
        small_groups: role != Role::Fund,
        budget: u64::MAX,
    };
    match cost::check(&parsed, None, &Default::default(), types, caller) {
        Ok(priced) => Ok((
            priced.cost,
            [
                (priced.statements + priced.reads) as f64,
                priced.rows_read as f64,
                priced.values as f64,
            ],
        )),
        Err(refusal) => Err(format!("{document}: {}", refusal.message()).into()),
    }
}

/// The calibration's table.
fn report(samples: &[Sample]) {
    // Units per millisecond: the total units over the total time, so that heavy documents weigh most.
    let units: f64 = samples.iter().map(|s| s.units as f64).sum();
    let millis: f64 = samples.iter().map(|s| s.millis).sum();
    let rate = units / millis.max(1e-9);
    println!(
        "\n1 ms of work ≈ {rate:.0} units on this machine ({} documents)\n",
        samples.len()
    );
    println!(
        "| role | kind | documents | units p50 | predicted ms p50 | measured ms p50 | measured ms max | worst measured ÷ predicted |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    let mut groups: Vec<(Role, String)> = samples.iter().map(|s| (s.role, family(&s.kind))).collect();
    groups.sort_by(|a, b| (a.0.name(), &a.1).cmp(&(b.0.name(), &b.1)));
    groups.dedup();
    for (role, kind) in &groups {
        let mut chosen: Vec<&Sample> = samples
            .iter()
            .filter(|s| s.role == *role && family(&s.kind) == *kind)
            .collect();
        chosen.sort_by_key(|s| s.units);
        let units_p50 = chosen[chosen.len() / 2].units;
        let mut measured: Vec<f64> = chosen.iter().map(|s| s.millis).collect();
        measured.sort_by(f64::total_cmp);
        let worst = chosen
            .iter()
            .map(|s| s.millis / (s.units as f64 / rate))
            .fold(0.0, f64::max);
        println!(
            "| {} | {kind} | {} | {units_p50} | {:.2} | {:.2} | {:.2} | {worst:.2} |",
            role.name(),
            chosen.len(),
            units_p50 as f64 / rate,
            measured[measured.len() / 2],
            measured[measured.len() - 1],
        );
    }
    // Least squares, no intercept: milliseconds from the price's parts, to calibrate the weights.
    let mut normal = [[0.0f64; 4]; 3];
    for sample in samples {
        for (row, x) in normal.iter_mut().zip(sample.parts) {
            for (cell, y) in row.iter_mut().zip(sample.parts) {
                *cell += x * y;
            }
            row[3] += x * sample.millis;
        }
    }
    if let Some([statement, row, value]) = solve(normal) {
        println!(
            "\nfitted: ms ≈ {:.4} × statements + {:.5} × thousand rows read + {:.5} × thousand values written \
             (one statement weighs as {:.0} rows, one value as {:.2} rows)",
            statement,
            row * 1000.0,
            value * 1000.0,
            statement / row,
            value / row
        );
    }
    let ratio = |s: &Sample| s.millis / (s.units as f64 / rate);
    let under = samples
        .iter()
        .max_by(|a, b| ratio(a).total_cmp(&ratio(b)))
        .expect("samples");
    let over = samples
        .iter()
        .min_by(|a, b| ratio(a).total_cmp(&ratio(b)))
        .expect("samples");
    println!(
        "\nworst under-prediction: measured {:.2} ms, predicted {:.2} ms ({:.1}×), {} as {}:\n{}",
        under.millis,
        under.units as f64 / rate,
        ratio(under),
        under.kind,
        under.role.name(),
        under.document
    );
    println!(
        "worst over-prediction: measured {:.2} ms, predicted {:.2} ms ({:.1}× less), {} as {}",
        over.millis,
        over.units as f64 / rate,
        1.0 / ratio(over),
        over.kind,
        over.role.name()
    );
    // Among documents of over 100 ms (where a misprediction matters), the most under-predicted.
    if let Some(heavy) = samples
        .iter()
        .filter(|s| s.millis > 100.0)
        .max_by(|a, b| ratio(a).total_cmp(&ratio(b)))
    {
        println!(
            "worst under-prediction over 100 ms: measured {:.1} ms, predicted {:.1} ms ({:.1}×), {} as {} (parts {:?}):\n{}",
            heavy.millis,
            heavy.units as f64 / rate,
            ratio(heavy),
            heavy.kind,
            heavy.role.name(),
            heavy.parts,
            heavy.document
        );
    }
    let slowest = samples
        .iter()
        .max_by(|a, b| a.millis.total_cmp(&b.millis))
        .expect("samples");
    println!(
        "slowest document: {:.1} ms, {} units, {} as {}",
        slowest.millis,
        slowest.units,
        slowest.kind,
        slowest.role.name()
    );
    for (role, budget) in [
        (Role::Public, cost::PUBLIC_BUDGET),
        (Role::Association, cost::KEYED_BUDGET),
        (Role::Fund, cost::KEYED_BUDGET),
    ] {
        let of_role: Vec<&Sample> = samples.iter().filter(|s| s.role == role).collect();
        let refused: Vec<&&Sample> = of_role.iter().filter(|s| s.units > budget).collect();
        let admitted_slowest = of_role
            .iter()
            .filter(|s| s.units <= budget)
            .map(|s| s.millis)
            .fold(0.0, f64::max);
        println!(
            "{}: budget {budget} units; {} of {} ordinary documents refused; slowest admitted {admitted_slowest:.1} ms",
            role.name(),
            refused.len(),
            of_role.len(),
        );
    }
}

/// A kind without its details, for the table's lines.
fn family(kind: &str) -> String {
    kind.split(',').next().unwrap_or(kind).to_owned()
}

/// Solves three linear equations (an augmented 3 × 4 matrix) by elimination; `None` when singular.
fn solve(mut m: [[f64; 4]; 3]) -> Option<[f64; 3]> {
    for col in 0..3 {
        let pivot = (col..3).max_by(|a, b| m[*a][col].abs().total_cmp(&m[*b][col].abs()))?;
        if m[pivot][col].abs() < 1e-12 {
            return None;
        }
        m.swap(col, pivot);
        let pivot_row = m[col];
        for (index, row) in m.iter_mut().enumerate() {
            if index != col {
                let factor = row[col] / pivot_row[col];
                for (cell, above) in row.iter_mut().zip(pivot_row).skip(col) {
                    *cell -= factor * above;
                }
            }
        }
    }
    Some([m[0][3] / m[0][0], m[1][3] / m[1][1], m[2][3] / m[2][2]])
}
