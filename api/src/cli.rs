//! The command line: `serve` (the default), `migrate`, `demo`, `schema`, and
//! configuration by flags and environment.

use crate::http::{AppState, HttpLimits};
use crate::scope::Scope;
use clap::{Parser, Subcommand, ValueEnum};
use migration::{Migrator, MigratorTrait};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Microfinance Observatory API: the data-exchange service of a national microfinance observatory.
#[derive(Parser, Debug)]
#[command(name = "observatory", version, about)]
pub struct Cli {
    /// Database URL: `sqlite://FILE?mode=rwc` (embedded) or `postgres://USER@HOST/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = crate::db::DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,

    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the API (the default): migrates the database, loads the demo data into an empty one.
    Serve(ServeArgs),
    /// Apply (or revert) the schema migrations.
    Migrate {
        #[arg(value_enum, default_value_t = MigrateAction::Up)]
        action: MigrateAction,
    },
    /// Load the demo data (the Moroccan sector of 2019-2020) into an empty database.
    Demo {
        /// Delete every existing row first, then load.
        #[arg(long)]
        reset: bool,
    },
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Measure the reference queries through HTTP and as raw SQL, and the acceptance of reports, on a synthetic
    /// dataset (replaces the database's content with the dataset; use a database of its own).
    Bench(crate::bench::BenchArgs),
    /// Register and list partners.
    #[command(subcommand)]
    Partner(PartnerCommand),
    /// Issue, list and revoke API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Send an association's monthly report on its behalf (the observatory's operators).
    #[command(subcommand)]
    Report(ReportCommand),
    /// List, add, activate and deactivate alert rules.
    #[command(subcommand)]
    Rule(RuleCommand),
}

#[derive(Subcommand, Debug)]
pub enum RuleCommand {
    /// List the alert rules.
    List,
    /// Add an alert rule (judged from the next accepted report or release on).
    Add {
        /// New code: capital letters, digits and underscores.
        #[arg(long)]
        code: String,
        /// What the rule watches, in words.
        #[arg(long)]
        name: String,
        /// A field of `IndicatorRow` (`par30Rate`, `collectionRate`, ...) or `reportLateness`.
        #[arg(long)]
        measure: String,
        /// SECTOR, REGION, ASSOCIATION or SEGMENT.
        #[arg(long)]
        scope: String,
        /// One region, association or segment code the rule is limited to.
        #[arg(long)]
        scope_code: Option<String>,
        /// VALUE, PREVIOUS_PERIOD_CHANGE or SAME_PERIOD_PREVIOUS_YEAR_CHANGE.
        #[arg(long, default_value = "VALUE")]
        comparison: String,
        /// ABOVE or BELOW.
        #[arg(long)]
        direction: String,
        /// The threshold, in the measure's unit (percent for rates), or in percent (points for rates) for a change.
        #[arg(long, allow_negative_numbers = true)]
        threshold: f64,
        /// INFO, WARNING or CRITICAL.
        #[arg(long, default_value = "WARNING")]
        severity: String,
    },
    /// Judge a rule again from the next report or release on.
    Activate {
        /// The rule's code.
        code: String,
    },
    /// Stop judging a rule (its alerts stay readable).
    Deactivate {
        /// The rule's code.
        code: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// Validate and accept a month's CSV files (clients, loans, staff, optionally branches): prints the submission,
    /// or every problem of a rejected report.
    Submit {
        /// Code of the association.
        #[arg(long)]
        association: String,
        /// The month, `YYYY-MM`.
        #[arg(long)]
        month: String,
        /// Makes the command safe to re-run: the same key and files answer the first submission again.
        #[arg(long)]
        idempotency_key: Option<String>,
        /// The CSV files, named after their table (`clients.csv`, `loans.csv`, `staff.csv`, `branches.csv`), or
        /// else given in that order.
        #[arg(required = true, num_args = 3..=4)]
        files: Vec<std::path::PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum PartnerCommand {
    /// Register a partner.
    Add {
        /// Stable code (letters, digits, '-' or '_').
        #[arg(long)]
        code: String,
        /// Name of the partner.
        #[arg(long)]
        name: String,
        /// Kind of partner: it decides the role of its keys.
        #[arg(long, value_enum)]
        kind: PartnerKindArg,
        /// Code of the association, for an association partner.
        #[arg(long)]
        association: Option<String>,
    },
    /// List partners.
    List,
}

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Issue a key for a partner; the key is printed once and stored only as a hash.
    Issue {
        /// Code of the partner.
        #[arg(long)]
        partner: String,
        /// What the key is for.
        #[arg(long, default_value = "issued from the command line")]
        label: String,
        /// Days until the key expires (none: it does not expire).
        #[arg(long)]
        expires_in_days: Option<i64>,
        /// Scopes (repeatable): read, write, admin.
        #[arg(long = "scope", default_value = "read")]
        scopes: Vec<String>,
    },
    /// List keys (prefixes, never secrets).
    List {
        /// Only the keys of this partner.
        #[arg(long)]
        partner: Option<String>,
    },
    /// Revoke a key at once.
    Revoke {
        /// The key's prefix (its first 12 characters).
        prefix: String,
    },
}

/// Kind of partner, on the command line.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum PartnerKindArg {
    Ministry,
    Fund,
    Federation,
    Association,
    Observatory,
    Other,
}

impl From<PartnerKindArg> for entity::enums::PartnerKind {
    fn from(kind: PartnerKindArg) -> Self {
        use entity::enums::PartnerKind as K;
        match kind {
            PartnerKindArg::Ministry => K::Ministry,
            PartnerKindArg::Fund => K::Fund,
            PartnerKindArg::Federation => K::Federation,
            PartnerKindArg::Association => K::Association,
            PartnerKindArg::Observatory => K::Observatory,
            PartnerKindArg::Other => K::Other,
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Revert every migration (drops all tables).
    Down,
    /// Revert everything, then apply everything.
    Fresh,
    /// List migrations and whether they are applied.
    Status,
}

#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on (`HOST:PORT`, the host an IP address). Read only when serving,
    /// so that a bad value does not break the other subcommands.
    #[arg(long, env = "LISTEN_ADDR", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Do not load the demo data into an empty database.
    #[arg(long, env = "NO_DEMO")]
    pub no_demo: bool,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = HttpLimits::default().max_body_bytes)]
    pub max_body_bytes: usize,
    /// Requests per minute from one address without a key (and for refused keys).
    #[arg(long, env = "ANONYMOUS_PER_MINUTE", default_value_t = HttpLimits::default().anonymous_per_minute)]
    pub anonymous_per_minute: u32,
    /// Requests per minute with one key.
    #[arg(long, env = "KEYED_PER_MINUTE", default_value_t = HttpLimits::default().keyed_per_minute)]
    pub keyed_per_minute: u32,
    /// Redis shared by every process behind one address, for the rate limits (for example redis://127.0.0.1:6379);
    /// without it each process keeps its own buckets.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,
    /// How many processes serve behind one address: while Redis cannot be reached, each enforces this share of the
    /// rate limits.
    #[arg(long, env = "PROCESSES", default_value_t = 1)]
    pub processes: u32,
    /// A PostgreSQL read replica (hot standby) that answers queries in the primary's place; repeat for several
    /// (`REPLICA_URLS`: comma-separated). Writes, key checks and the alert hub stay on the primary.
    #[arg(long = "replica-url", env = "REPLICA_URLS", value_delimiter = ',')]
    pub replica_urls: Vec<String>,
    /// Lag, in milliseconds, beyond which a replica leaves the rotation until it catches up.
    #[arg(long, env = "REPLICA_MAX_LAG_MS", default_value_t = crate::replica::DEFAULT_MAX_LAG.as_millis() as u64)]
    pub replica_max_lag_ms: u64,
    /// The database's own address when `--database-url` names a connection pooler in transaction mode (PgBouncer):
    /// the alert subscriptions' `LISTEN` opens its session there.
    #[arg(long, env = "DIRECT_DATABASE_URL")]
    pub direct_url: Option<String>,
    /// Addresses of reverse proxies whose `X-Forwarded-For` header names the client (comma-separated); requests
    /// from any other peer are rate-limited under the peer's own address.
    #[arg(long = "trusted-proxy", env = "TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Highest price of one request without a key (fields, pages, reads and aggregate statements; see the README).
    #[arg(long, env = "PUBLIC_BUDGET", default_value_t = HttpLimits::default().public_budget)]
    pub public_budget: u64,
    /// Highest price of one request with a key.
    #[arg(long, env = "KEYED_BUDGET", default_value_t = HttpLimits::default().keyed_budget)]
    pub keyed_budget: u64,
    /// Web origins whose pages may call the API from a browser (comma-separated, for example
    /// `https://dashboard.example`); CORS preflights from them are answered. None by default.
    #[arg(long = "cors-origin", env = "CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Run only the documents listed in this JSON file (hash → document, or an Apollo persisted query manifest),
    /// sent by their SHA-256 or as their exact text; anything else is refused.
    #[arg(long, env = "TRUSTED_DOCUMENTS")]
    pub trusted_documents: Option<std::path::PathBuf>,
    /// Deliver webhooks to loopback and private addresses too (tests, closed networks); refused by default.
    #[arg(long, env = "WEBHOOK_ALLOW_PRIVATE")]
    pub webhook_allow_private: bool,
    /// Delay before a failed webhook delivery is retried, in milliseconds; each further retry waits twice as long
    /// (at most an hour).
    #[arg(long, env = "WEBHOOK_RETRY_BASE_MS", default_value_t = HttpLimits::default().webhooks.retry_base.as_millis() as u64)]
    pub webhook_retry_base_ms: u64,
    /// Longest one webhook delivery attempt may take, in milliseconds.
    #[arg(long, env = "WEBHOOK_TIMEOUT_MS", default_value_t = HttpLimits::default().webhooks.timeout.as_millis() as u64)]
    pub webhook_timeout_ms: u64,
    /// Attempts before a webhook delivery is given up.
    #[arg(long, env = "WEBHOOK_MAX_ATTEMPTS", default_value_t = HttpLimits::default().webhooks.max_attempts)]
    pub webhook_max_attempts: i32,
    /// Longest a GraphQL request may run, in seconds.
    #[arg(long, env = "REQUEST_TIMEOUT_SECS", default_value_t = HttpLimits::default().request_timeout.as_secs())]
    pub request_timeout_secs: u64,
    /// Most connections open at once; a connection over the limit replaces the one that has waited longest without
    /// sending a request, or is answered 503 when every connection is answering one. Keep it below the process's
    /// open-file limit (`ulimit -n`).
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = HttpLimits::default().max_connections)]
    pub max_connections: usize,
    /// Longest a client may take to send a request's headers, in seconds; the connection is closed after it.
    #[arg(long, env = "HEADER_TIMEOUT_SECS", default_value_t = HttpLimits::default().header_timeout.as_secs())]
    pub header_timeout_secs: u64,
    /// Slowest average rate of a request body, in bytes per second, once its first 10 seconds have passed; a slower
    /// body is answered 408.
    #[arg(long, env = "BODY_MIN_BYTES_PER_SECOND", default_value_t = HttpLimits::default().body_min_bytes_per_second)]
    pub body_min_bytes_per_second: u64,
}

impl ServeArgs {
    /// The address to listen on, or a clear error naming the bad value.
    pub fn listen_addr(&self) -> Result<SocketAddr, String> {
        self.listen.trim().parse().map_err(|_| {
            format!(
                "LISTEN_ADDR (or --listen) '{}' is not an address to listen on: write IP:PORT, for example \
                 127.0.0.1:8080 or 0.0.0.0:8080",
                self.listen
            )
        })
    }
}

impl Cli {
    /// The subcommand to run: `serve`, with its arguments from the environment and defaults, when none is given.
    pub fn command_or_serve(&mut self) -> Command {
        self.command
            .take()
            .unwrap_or_else(|| Command::Serve(ServeArgs::default()))
    }
}

impl Default for ServeArgs {
    /// The `serve` arguments from the environment and defaults, for a bare `observatory`.
    fn default() -> Self {
        match Cli::parse_from(["observatory", "serve"]).command {
            Some(Command::Serve(args)) => args,
            _ => unreachable!("`serve` parses as the serve command"),
        }
    }
}

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long the demo key printed at start-up stays valid.
const DEMO_KEY_LIFETIME_HOURS: i64 = 24;

pub async fn run(mut cli: Cli) -> Result<(), BoxError> {
    // A benchmark sends thousands of requests: it logs progress, not each request.
    let quiet = matches!(cli.command, Some(Command::Bench(_)));
    init_logging(cli.log_format, quiet);
    match cli.command_or_serve() {
        Command::Schema => {
            print!("{}", crate::schema::sdl());
            Ok(())
        }
        Command::Migrate { action } => {
            let db = crate::db::connect(&cli.database_url).await?;
            match action {
                MigrateAction::Up => Migrator::up(&db, None).await?,
                MigrateAction::Down => Migrator::down(&db, None).await?,
                MigrateAction::Fresh => Migrator::fresh(&db).await?,
                MigrateAction::Status => Migrator::status(&db).await?,
            }
            Ok(())
        }
        Command::Demo { reset } => {
            let db = crate::db::connect(&cli.database_url).await?;
            Migrator::up(&db, None).await?;
            if reset {
                let txn = crate::db::begin_write(&db).await?;
                crate::demo::clear(&txn).await?;
                txn.commit().await?;
            } else if has_data(&db).await? {
                return Err(
                    "the database already holds data: use `demo --reset` to replace it with the demo data".into(),
                );
            }
            load_demo(&db).await
        }
        Command::Serve(args) => serve(&cli.database_url, args).await,
        command @ (Command::Partner(_) | Command::Key(_) | Command::Report(_) | Command::Rule(_)) => {
            let db = crate::db::connect(&cli.database_url).await?;
            Migrator::up(&db, None).await?;
            print!("{}", manage(&db, command).await?);
            Ok(())
        }
        Command::Bench(args) => {
            let db = crate::db::connect(&cli.database_url).await?;
            Migrator::up(&db, None).await?;
            crate::bench::run(db, args).await
        }
    }
}

/// The operating-system user running the command line (`USER`, else `LOGNAME`, else "unknown").
pub fn os_user() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

/// The actor of the command line's writes: the observatory, recorded as
/// `cli:<user>` in the audit trail's key-prefix column (32 characters at most).
pub fn cli_actor() -> Scope {
    Scope {
        key_prefix: Some(format!("cli:{}", os_user()).chars().take(32).collect()),
        ..Scope::observatory()
    }
}

/// Runs a `partner` or `key` command on an open database and returns what it
/// prints on standard output. Its writes are audited with [`cli_actor`] and
/// the command (without any secret).
pub async fn manage(db: &DatabaseConnection, command: Command) -> Result<String, BoxError> {
    let (description, work): (String, futures_util::future::BoxFuture<'_, Result<String, BoxError>>) = match command {
        Command::Partner(command) => (describe_partner(&command), Box::pin(partner_command(db, command))),
        Command::Key(command) => (describe_key(&command), Box::pin(key_command(db, command))),
        Command::Report(command) => (describe_report(&command), Box::pin(report_command(db, command))),
        Command::Rule(command) => (describe_rule(&command), Box::pin(rule_command(db, command))),
        _ => return Err("only `partner`, `key`, `report` and `rule` commands write through the command line".into()),
    };
    crate::audit::from_command(description, work).await
}

fn describe_rule(command: &RuleCommand) -> String {
    match command {
        RuleCommand::List => "rule list".into(),
        RuleCommand::Add { code, .. } => format!("rule add --code {code}"),
        RuleCommand::Activate { code } => format!("rule activate {code}"),
        RuleCommand::Deactivate { code } => format!("rule deactivate {code}"),
    }
}

/// A stored vocabulary's value from its name on the command line (any case).
fn vocabulary<T: Copy>(all: &[T], name: fn(T) -> &'static str, what: &str, text: &str) -> Result<T, BoxError> {
    all.iter()
        .copied()
        .find(|v| name(*v).eq_ignore_ascii_case(text.trim()))
        .ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|v| name(*v)).collect();
            format!("{what} `{text}` is not one of {}", names.join(", ")).into()
        })
}

async fn rule_command(db: &DatabaseConnection, command: RuleCommand) -> Result<String, BoxError> {
    use entity::enums::{AlertComparison, AlertDirection, AlertScope, AlertSeverity};
    let line = |r: &entity::alert_rule::Model| {
        format!(
            "{}\t{}\t{}\t{}{}\t{} {} {}\t{}\t{}\n",
            r.code,
            if r.active { "active" } else { "inactive" },
            r.measure,
            r.scope.as_str(),
            r.scope_code.as_ref().map(|c| format!(":{c}")).unwrap_or_default(),
            r.comparison.as_str(),
            r.direction.as_str(),
            r.threshold,
            r.severity.as_str(),
            r.name
        )
    };
    let actor = cli_actor();
    match command {
        RuleCommand::List => Ok(crate::alert::store::rules(db)
            .await
            .map_err(|e| e.detail())?
            .iter()
            .map(line)
            .collect()),
        RuleCommand::Add {
            code,
            name,
            measure,
            scope,
            scope_code,
            comparison,
            direction,
            threshold,
            severity,
        } => {
            let input = crate::alert::AlertRuleInput {
                code,
                name,
                measure,
                scope: vocabulary(AlertScope::ALL, AlertScope::as_str, "scope", &scope)?.into(),
                scope_code,
                comparison: vocabulary(AlertComparison::ALL, AlertComparison::as_str, "comparison", &comparison)?
                    .into(),
                direction: vocabulary(AlertDirection::ALL, AlertDirection::as_str, "direction", &direction)?.into(),
                threshold,
                severity: vocabulary(AlertSeverity::ALL, AlertSeverity::as_str, "severity", &severity)?.into(),
            };
            let rule = crate::alert::store::create_rule(db, &actor, input)
                .await
                .map_err(|e| e.detail())?;
            Ok(line(&rule))
        }
        RuleCommand::Activate { code } => Ok(line(
            &crate::alert::store::set_rule_active(db, &actor, &code, true)
                .await
                .map_err(|e| e.detail())?,
        )),
        RuleCommand::Deactivate { code } => Ok(line(
            &crate::alert::store::set_rule_active(db, &actor, &code, false)
                .await
                .map_err(|e| e.detail())?,
        )),
    }
}

fn describe_report(command: &ReportCommand) -> String {
    let ReportCommand::Submit {
        association,
        month,
        files,
        ..
    } = command;
    let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    format!(
        "report submit --association {association} --month {month} {}",
        files.join(" ")
    )
}

async fn report_command(db: &DatabaseConnection, command: ReportCommand) -> Result<String, BoxError> {
    use crate::submission::table::{self, Table};
    let ReportCommand::Submit {
        association,
        month,
        idempotency_key,
        files,
    } = command;
    let month = match crate::period::Period::parse(&month) {
        Ok(p) if p.granularity == crate::period::Granularity::Month => p.start,
        _ => return Err(format!("--month `{month}` is not a month: write it YYYY-MM, for example 2021-01").into()),
    };
    let named: Vec<Option<Table>> = files
        .iter()
        .map(|f| f.file_stem().and_then(|s| s.to_str()).and_then(Table::from_name))
        .collect();
    let all_named = named.iter().all(Option::is_some);
    let mut tables = table::RawReport::new();
    let mut texts = serde_json::Map::new();
    for (index, file) in files.iter().enumerate() {
        let table = if all_named {
            named[index]
        } else {
            Table::ALL.get(index).copied()
        }
        .ok_or("give the files clients, loans, staff and optionally branches and activities")?;
        if tables.contains_key(&table) {
            return Err(format!("two files for `{}`", table.name()).into());
        }
        let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let raw = table::read_csv(table, &bytes).map_err(|e| format!("{}: {}", file.display(), e.message()))?;
        tables.insert(table, raw);
        texts.insert(table.name().into(), String::from_utf8_lossy(&bytes).into_owned().into());
    }
    let report = crate::submission::table::NewReport {
        association,
        month,
        tables,
        payload: serde_json::json!({ "format": "csv", "tables": texts }).to_string(),
        idempotency_key,
    };
    match crate::submission::store::submit(db, &cli_actor(), report).await {
        Ok(model) => {
            let view = crate::submission::view(db, &model)
                .await
                .map_err(|e| e.public_message())?;
            Ok(format!("{}\n", serde_json::to_string_pretty(&view)?))
        }
        Err(crate::error::ApiError::Rejected { message, report }) => {
            let mut text = message;
            for problem in report["errors"].as_array().into_iter().flatten() {
                text.push_str(&format!(
                    "\n  {} line {}{}: {} ({})",
                    problem["table"].as_str().unwrap_or(""),
                    problem["line"],
                    problem["column"].as_str().map(|c| format!(", {c}")).unwrap_or_default(),
                    problem["message"].as_str().unwrap_or(""),
                    problem["rule"].as_str().unwrap_or("")
                ));
            }
            Err(text.into())
        }
        Err(error) => Err(error.public_message().into()),
    }
}

fn describe_partner(command: &PartnerCommand) -> String {
    match command {
        PartnerCommand::Add {
            code,
            kind,
            association,
            ..
        } => {
            let association = association
                .as_deref()
                .map(|a| format!(" --association {a}"))
                .unwrap_or_default();
            let kind = format!("{kind:?}").to_lowercase();
            format!("partner add --code {code} --kind {kind}{association}")
        }
        PartnerCommand::List => "partner list".into(),
    }
}

fn describe_key(command: &KeyCommand) -> String {
    match command {
        KeyCommand::Issue {
            partner,
            expires_in_days,
            scopes,
            ..
        } => {
            let expires = expires_in_days
                .map(|d| format!(" --expires-in-days {d}"))
                .unwrap_or_default();
            format!(
                "key issue --partner {partner}{expires} --scope {}",
                scopes.join(" --scope ")
            )
        }
        KeyCommand::List { .. } => "key list".into(),
        KeyCommand::Revoke { prefix } => format!("key revoke {}", crate::partner::store::key_prefix_of(prefix)),
    }
}

async fn partner_command(db: &DatabaseConnection, command: PartnerCommand) -> Result<String, BoxError> {
    use crate::partner::store;
    use std::fmt::Write;
    let mut out = String::new();
    match command {
        PartnerCommand::Add {
            code,
            name,
            kind,
            association,
        } => {
            let new = store::NewPartner {
                code,
                name,
                kind: kind.into(),
                association,
            };
            let partner = store::create_partner(db, &cli_actor(), new)
                .await
                .map_err(|e| e.detail())?;
            writeln!(out, "partner {} registered ({})", partner.code, partner.kind.as_str())?;
        }
        PartnerCommand::List => {
            for partner in store::list_partners(db).await.map_err(|e| e.detail())? {
                writeln!(
                    out,
                    "{:<24} {:<12} {}",
                    partner.code,
                    partner.kind.as_str(),
                    partner.name
                )?;
            }
        }
    }
    Ok(out)
}

async fn key_command(db: &DatabaseConnection, command: KeyCommand) -> Result<String, BoxError> {
    use crate::partner::store;
    use std::fmt::Write;
    let mut out = String::new();
    match command {
        KeyCommand::Issue {
            partner,
            label,
            expires_in_days,
            scopes,
        } => {
            if expires_in_days.is_some_and(|d| !(1..=3650).contains(&d)) {
                return Err("--expires-in-days must be between 1 and 3650".into());
            }
            let expires_at = expires_in_days.map(|d| chrono::Utc::now() + chrono::Duration::days(d));
            let new = store::NewKey {
                partner,
                label,
                expires_at,
                scopes,
            };
            let (key, secret) = store::issue_key(db, &cli_actor(), new).await.map_err(|e| e.detail())?;
            // The note goes to standard error now, the secret to standard output when the command ends: the note
            // names no key, so that a script reading the first `mfo_` of the whole output gets the secret.
            eprintln!(
                "key issued (scopes: {}); its secret, printed on standard output, is shown once: send it as \
                 `Authorization: Bearer <key>`",
                key.scopes
            );
            writeln!(out, "{secret}")?;
        }
        KeyCommand::List { partner } => {
            for (key, owner) in store::list_keys(db, partner.as_deref()).await.map_err(|e| e.detail())? {
                let state = match (key.revoked_at, key.expires_at) {
                    (Some(at), _) => format!("revoked {}", at.format("%Y-%m-%d")),
                    (None, Some(at)) if at <= chrono::Utc::now() => format!("expired {}", at.format("%Y-%m-%d")),
                    (None, Some(at)) => format!("expires {}", at.format("%Y-%m-%d")),
                    (None, None) => "active".into(),
                };
                let used = key
                    .last_used_at
                    .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or("never".into());
                writeln!(
                    out,
                    "{}  {:<20} {:<18} last used {:<16} {}  {}",
                    key.prefix, owner, state, used, key.scopes, key.label
                )?;
            }
        }
        KeyCommand::Revoke { prefix } => {
            // Given a whole secret by mistake, only its prefix is used and shown.
            let key = store::revoke_key(db, &cli_actor(), &prefix)
                .await
                .map_err(|e| e.detail())?;
            writeln!(out, "key {} revoked", key.prefix)?;
        }
    }
    Ok(out)
}

fn init_logging(format: LogFormat, quiet_requests: bool) {
    use tracing_subscriber::EnvFilter;
    let default = if quiet_requests {
        "info,sea_orm=warn,sqlx=warn,api::http=warn"
    } else {
        "info,sea_orm=warn,sqlx=warn"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(ansi);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

async fn has_data(db: &DatabaseConnection) -> Result<bool, BoxError> {
    Ok(entity::association::Entity::find().count(db).await? > 0)
}

async fn load_demo(db: &DatabaseConnection) -> Result<(), BoxError> {
    let started = Instant::now();
    let txn = crate::db::begin_write(db).await?;
    let summary = crate::load_demo(&txn).await?;
    txn.commit().await?;
    tracing::info!(
        associations = summary.associations,
        branches = summary.branches,
        client_rows = summary.client_rows,
        loan_rows = summary.loan_rows,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "demo data loaded"
    );
    Ok(())
}

/// What a `serve` start did to the database before serving.
#[derive(Debug, Default)]
pub struct StartUp {
    /// This start found the database empty and loaded the demo data.
    pub demo_loaded: bool,
    /// The secret of the demo key issued because the demo data was loaded (shown once).
    pub demo_key: Option<String>,
    /// Prefixes of the expired demo keys deleted.
    pub purged_demo_keys: Vec<String>,
}

/// Prepares a database for serving: migrates it, loads the demo data into an
/// empty one (unless `no_demo`), and only then issues a short-lived demo key
/// for the observatory; expired demo keys are deleted on every start.
pub async fn start_up(db: &DatabaseConnection, no_demo: bool) -> Result<StartUp, BoxError> {
    Migrator::up(db, None).await?;
    let mut started = StartUp::default();
    let actor = cli_actor();
    crate::audit::from_command("serve".into(), async {
        started.purged_demo_keys = crate::partner::store::purge_expired_demo_keys(db, &actor)
            .await
            .map_err(|e| e.detail())?;
        if !no_demo && !has_data(db).await? {
            tracing::info!("empty database: loading the demo data");
            load_demo(db).await?;
            started.demo_loaded = true;
            started.demo_key = crate::partner::store::issue_demo_key(db, &actor, DEMO_KEY_LIFETIME_HOURS)
                .await
                .map_err(|e| e.detail())?;
        }
        Ok::<_, BoxError>(())
    })
    .await?;
    Ok(started)
}

async fn serve(database_url: &str, args: ServeArgs) -> Result<(), BoxError> {
    let listen = args.listen_addr()?;
    if !args.replica_urls.is_empty() && !database_url.starts_with("postgres") {
        return Err("read replicas (--replica-url) need a PostgreSQL primary (--database-url postgres://...)".into());
    }
    let db = crate::db::connect(database_url).await?;
    let started = start_up(&db, args.no_demo).await?;
    if !started.purged_demo_keys.is_empty() {
        tracing::info!(keys = ?started.purged_demo_keys, "expired demo keys deleted");
    }
    match (started.demo_loaded, started.demo_key) {
        (_, Some(key)) => tracing::info!(
            key = %key,
            "demo key for the observatory role (valid 24 hours): send it as `Authorization: Bearer <key>`"
        ),
        (true, None) => tracing::info!("no observatory partner in the demo data: no demo key issued"),
        (false, None) => {}
    }
    let limits = HttpLimits {
        max_body_bytes: args.max_body_bytes,
        request_timeout: Duration::from_secs(args.request_timeout_secs),
        anonymous_per_minute: args.anonymous_per_minute,
        keyed_per_minute: args.keyed_per_minute,
        redis_url: args.redis_url.clone(),
        processes: args.processes,
        replicas: match args.replica_urls.as_slice() {
            [] => None,
            urls => {
                let replicas =
                    crate::replica::Replicas::connect(urls, Duration::from_millis(args.replica_max_lag_ms)).await?;
                tracing::info!(?replicas, "queries go to the read replicas in rotation");
                Some(std::sync::Arc::new(replicas))
            }
        },
        direct_url: args.direct_url.clone(),
        trusted_proxies: args.trusted_proxies.clone(),
        public_budget: args.public_budget,
        keyed_budget: args.keyed_budget,
        cors_origins: args
            .cors_origins
            .iter()
            .map(|origin| {
                axum::http::HeaderValue::from_str(origin.trim().trim_end_matches('/'))
                    .map_err(|_| format!("CORS origin '{origin}' is not a valid header value"))
            })
            .collect::<Result<_, _>>()?,
        max_connections: args.max_connections.max(1),
        header_timeout: Duration::from_secs(args.header_timeout_secs.max(1)),
        body_min_bytes_per_second: args.body_min_bytes_per_second,
        body_grace: HttpLimits::default().body_grace,
        report_places: HttpLimits::default().report_places,
        webhooks: crate::alert::webhook::Settings {
            allow_private: args.webhook_allow_private,
            retry_base: Duration::from_millis(args.webhook_retry_base_ms),
            timeout: Duration::from_millis(args.webhook_timeout_ms.max(1)),
            max_attempts: args.webhook_max_attempts.max(1),
        },
        trusted_documents: match &args.trusted_documents {
            None => None,
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read the trusted documents file {}: {e}", path.display()))?;
                let documents = crate::http::persisted::TrustedDocuments::from_json(&text)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                tracing::info!(documents = documents.len(), "only trusted documents run");
                Some(std::sync::Arc::new(documents))
            }
        },
    };
    let state = AppState::load(db.clone(), limits).await;
    state.deliver_webhooks();
    let listener = bind(listen).await?;
    let address = listener.local_addr()?;
    tracing::info!("serving the API on http://{address}/graphql; GraphiQL at http://{address}/graphiql");
    crate::app::serve(listener, state.clone(), shutdown_signal()).await?;
    // The WebSockets were told to close (1001) when the signal came: let their close frames go out.
    state.sockets_closed(Duration::from_secs(2)).await;
    db.close().await?;
    tracing::info!("stopped");
    Ok(())
}

/// The listener `serve` serves on, or why it cannot listen there, naming the address and how to choose another.
pub async fn bind(listen: SocketAddr) -> Result<tokio::net::TcpListener, String> {
    tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|error| cannot_listen(listen, &error))
}

fn cannot_listen(listen: SocketAddr, error: &std::io::Error) -> String {
    let why = match error.kind() {
        std::io::ErrorKind::AddrInUse => {
            "the address is already in use (another server, or another `observatory serve`)"
        }
        std::io::ErrorKind::AddrNotAvailable => "the IP address is not one of this machine's",
        std::io::ErrorKind::PermissionDenied => "ports below 1024 need privileges",
        _ => "the system refused it",
    };
    format!(
        "cannot listen on {listen}: {why} ({error}); choose another address with --listen HOST:PORT (or the \
         LISTEN_ADDR environment variable), for example --listen 127.0.0.1:8081"
    )
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received: finishing in-flight requests");
}
