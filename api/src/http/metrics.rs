//! `/metrics` in the Prometheus text format (version 0.0.4): GraphQL requests by operation and outcome, their
//! latency histogram by outcome, refusals by reason, the use of the database pool and of the places for aggregate
//! work, and the process's own figures (memory, CPU time, open files; on Linux). Counted in the process (each
//! process of a deployment is scraped on its own). The counting and the text are the `prometheus` crate's; what is
//! ours is which operation names are counted under their own name.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};
use std::collections::HashSet;
use std::sync::Mutex;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Distinct operation names counted; requests of further names are counted under `other`. A name takes a place only
/// when an operation of that name ran without errors (so it is a name in a valid document): the names of failed
/// requests are counted under `other` unless an operation of that name ran before.
const MAX_OPERATIONS: usize = 200;
/// Characters of an operation name kept in the counts.
const MAX_NAME_CHARS: usize = 100;

/// How a GraphQL request ended, set on its response by the code that answered it.
#[derive(Debug, Clone, Copy)]
pub struct Outcome(pub &'static str);

/// A GraphQL request refused with this code (set by `protocol::refuse`).
#[derive(Debug, Clone)]
pub struct Refused(pub String);

/// The operation a GraphQL request named (set once it is read).
#[derive(Debug, Clone)]
pub struct OperationName(pub String);

/// The database pool and the aggregate places at the moment of a scrape.
pub struct Gauges {
    pub pool_connections: u32,
    pub pool_idle: usize,
    pub pool_max: u32,
    pub aggregate_places_free: usize,
    pub aggregate_places: u32,
    /// Answers kept for reuse, and the bytes of their keys and bodies.
    pub kept_answers: u64,
    pub kept_answer_bytes: u64,
    /// Rate limits shared through Redis: 1 when Redis answers, 0 when this process falls back to its own share, −1
    /// when not configured.
    pub rate_limits_shared: i64,
    /// The read replicas as the monitor last saw them.
    pub replicas: Vec<crate::replica::Seen>,
}

/// The gauges' names and help, in the order of [`Gauges`]' fields.
const GAUGES: [(&str, &str); 8] = [
    (
        "observatory_db_pool_connections",
        "Open connections of the database pool.",
    ),
    ("observatory_db_pool_idle", "Idle connections of the database pool."),
    ("observatory_db_pool_max", "Most connections the database pool opens."),
    (
        "observatory_aggregate_places_free",
        "Places for aggregate statements not taken (half the pool).",
    ),
    ("observatory_aggregate_places", "Places for aggregate statements."),
    (
        "observatory_kept_answers",
        "Answers kept for reuse while the data's version has not moved.",
    ),
    (
        "observatory_kept_answer_bytes",
        "Bytes of the answers kept for reuse and of their requests (at most 64 MiB).",
    ),
    (
        "observatory_rate_limits_shared",
        "1 while the rate limits are shared through Redis, 0 while this process enforces its own share because Redis \
         cannot be reached, -1 when no Redis is configured.",
    ),
];

/// The process's counts.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    refusals: IntCounterVec,
    gauges: [IntGauge; GAUGES.len()],
    /// Each replica's lag, bytes behind and rotation, by its `host:port`.
    replica_lag: prometheus::GaugeVec,
    replica_behind: IntGaugeVec,
    replica_in_rotation: IntGaugeVec,
    /// The operation names counted under their own name.
    names: Mutex<HashSet<String>>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "observatory_graphql_requests_total",
                "GraphQL requests by operation name and outcome (ok, errors, reused, not_modified, refused).",
            ),
            &["operation", "outcome"],
        )
        .expect("a valid counter");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "observatory_graphql_request_duration_seconds",
                "Time to answer a GraphQL request, by outcome.",
            )
            .buckets(BUCKETS.to_vec()),
            &["outcome"],
        )
        .expect("a valid histogram");
        let refusals = IntCounterVec::new(
            Opts::new(
                "observatory_graphql_refusals_total",
                "GraphQL requests refused before or instead of running, by error code.",
            ),
            &["reason"],
        )
        .expect("a valid counter");
        let gauges = GAUGES.map(|(name, help)| IntGauge::new(name, help).expect("a valid gauge"));
        let replica_lag = prometheus::GaugeVec::new(
            Opts::new(
                "observatory_replica_lag_seconds",
                "How far a read replica's replay is behind the primary, in seconds (0 when it has replayed everything, -1 when \
                 it is behind with no replayed transaction to tell by how long).",
            ),
            &["replica"],
        )
        .expect("a valid gauge");
        let replica_behind = IntGaugeVec::new(
            Opts::new(
                "observatory_replica_behind_bytes",
                "Bytes of WAL a read replica has not replayed yet.",
            ),
            &["replica"],
        )
        .expect("a valid gauge");
        let replica_in_rotation = IntGaugeVec::new(
            Opts::new(
                "observatory_replica_in_rotation",
                "1 while a read replica answers queries, 0 while it lags beyond the allowed lag or does not answer.",
            ),
            &["replica"],
        )
        .expect("a valid gauge");
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(refusals.clone()),
            Box::new(replica_lag.clone()),
            Box::new(replica_behind.clone()),
            Box::new(replica_in_rotation.clone()),
        ]
        .into_iter()
        .chain(
            gauges
                .iter()
                .map(|g| Box::new(g.clone()) as Box<dyn prometheus::core::Collector>),
        ) {
            registry.register(collector).expect("distinct metric names");
        }
        #[cfg(target_os = "linux")]
        registry
            .register(Box::new(prometheus::process_collector::ProcessCollector::for_self()))
            .expect("the process metrics registered once");
        Metrics {
            registry,
            requests,
            latency,
            refusals,
            gauges,
            replica_lag,
            replica_behind,
            replica_in_rotation,
            names: Mutex::new(HashSet::new()),
        }
    }
}

impl Metrics {
    /// Counts one GraphQL request: its operation (empty when it named none or was refused before it was read), its
    /// outcome (`ok`, `errors`, `reused`, `not_modified` or `refused`), the refusal's code, its duration. A name not
    /// counted yet takes one of the places only with `ok` or `reused` (an operation that ran).
    pub fn record(&self, operation: &str, outcome: &'static str, refusal: Option<&str>, seconds: f64) {
        let name = self.counted_name(operation, matches!(outcome, "ok" | "reused"));
        self.requests.with_label_values(&[name.as_str(), outcome]).inc();
        self.latency.with_label_values(&[outcome]).observe(seconds);
        if let Some(code) = refusal {
            self.refusals.with_label_values(&[clean(code).as_str()]).inc();
        }
    }

    /// The name a request is counted under: its operation's (short, without control characters), `anonymous`, or
    /// `other` once the places are taken.
    fn counted_name(&self, operation: &str, ran: bool) -> String {
        if operation.is_empty() {
            return "anonymous".into();
        }
        // Names are the clients' own words: keep them short.
        let operation = match operation.char_indices().nth(MAX_NAME_CHARS) {
            Some((end, _)) => &operation[..end],
            None => operation,
        };
        let operation = clean(operation);
        let mut names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        if names.contains(&operation) || (ran && names.len() < MAX_OPERATIONS && names.insert(operation.clone())) {
            operation
        } else {
            "other".into()
        }
    }

    /// The exposition text.
    pub fn render(&self, gauges: &Gauges) -> String {
        let values = [
            i64::from(gauges.pool_connections),
            gauges.pool_idle as i64,
            i64::from(gauges.pool_max),
            gauges.aggregate_places_free as i64,
            i64::from(gauges.aggregate_places),
            gauges.kept_answers as i64,
            gauges.kept_answer_bytes as i64,
            gauges.rate_limits_shared,
        ];
        for (gauge, value) in self.gauges.iter().zip(values) {
            gauge.set(value);
        }
        for replica in &gauges.replicas {
            let name = [replica.name.as_str()];
            self.replica_lag.with_label_values(&name).set(replica.lag_seconds);
            self.replica_behind.with_label_values(&name).set(replica.behind_bytes);
            self.replica_in_rotation
                .with_label_values(&name)
                .set(i64::from(replica.in_rotation));
        }
        let mut text = Vec::new();
        if let Err(error) = TextEncoder::new().encode(&self.registry.gather(), &mut text) {
            tracing::error!(%error, "the metrics could not be written");
        }
        String::from_utf8(text).unwrap_or_default()
    }
}

/// A label value without control characters (the text format escapes a line feed, but a carriage return would end
/// the line for some parsers).
fn clean(value: &str) -> String {
    value.chars().filter(|c| !c.is_control()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped_and_control_characters_left_out() {
        let metrics = Metrics::default();
        metrics.record("a\\b\"c\nd\re\u{7}f\u{85}g", "ok", None, 0.01);
        let text = metrics.render(&Gauges {
            pool_connections: 1,
            pool_idle: 1,
            pool_max: 4,
            aggregate_places_free: 2,
            aggregate_places: 2,
            kept_answers: 0,
            kept_answer_bytes: 0,
            rate_limits_shared: -1,
            replicas: Vec::new(),
        });
        assert!(
            text.contains(r#"observatory_graphql_requests_total{operation="a\\b\"cdefg",outcome="ok"} 1"#),
            "{text}"
        );
        assert!(text.contains("observatory_db_pool_max 4"), "{text}");
    }

    #[test]
    fn names_beyond_the_places_are_counted_as_other() {
        let metrics = Metrics::default();
        for i in 0..MAX_OPERATIONS + 5 {
            metrics.record(&format!("Op{i}"), "ok", None, 0.001);
        }
        metrics.record("Failed", "errors", None, 0.001);
        assert_eq!(metrics.names.lock().unwrap().len(), MAX_OPERATIONS);
        assert_eq!(metrics.requests.with_label_values(&["other", "ok"]).get(), 5);
        assert_eq!(metrics.requests.with_label_values(&["other", "errors"]).get(), 1);
        assert_eq!(metrics.requests.with_label_values(&["Op0", "ok"]).get(), 1);
    }
}
