//! `/metrics` in the Prometheus text format (version 0.0.4): GraphQL requests by operation and outcome, their
//! latency histogram by outcome, refusals by reason, and the use of the database pool and of the places for
//! aggregate work. Counted in the process (each process of a deployment is scraped on its own).

use std::collections::BTreeMap;
use std::fmt::Write;
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

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Counts {
    requests: BTreeMap<(String, &'static str), u64>,
    latency: BTreeMap<&'static str, Histogram>,
    refusals: BTreeMap<String, u64>,
}

/// The process's counts.
#[derive(Default)]
pub struct Metrics {
    counts: Mutex<Counts>,
}

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
}

impl Metrics {
    /// Counts one GraphQL request: its operation (empty when it named none or was refused before it was read), its
    /// outcome (`ok`, `errors`, `reused`, `not_modified` or `refused`), the refusal's code, its duration. A name not
    /// counted yet takes one of the places only with `ok` or `reused` (an operation that ran).
    pub fn record(&self, operation: &str, outcome: &'static str, refusal: Option<&str>, seconds: f64) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let operation = if operation.is_empty() { "anonymous" } else { operation };
        // Names are the clients' own words: keep them short.
        let operation = match operation.char_indices().nth(MAX_NAME_CHARS) {
            Some((end, _)) => &operation[..end],
            None => operation,
        };
        let known = operation == "anonymous" || counts.requests.keys().any(|(name, _)| name == operation);
        let ran = matches!(outcome, "ok" | "reused");
        let distinct = counts
            .requests
            .keys()
            .map(|(name, _)| name.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        let name = if known || (ran && distinct < MAX_OPERATIONS) {
            operation
        } else {
            "other"
        };
        *counts.requests.entry((name.to_owned(), outcome)).or_default() += 1;
        let histogram = counts.latency.entry(outcome).or_default();
        histogram.count += 1;
        histogram.sum += seconds;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                histogram.counts[i] += 1;
            }
        }
        if let Some(code) = refusal {
            *counts.refusals.entry(code.to_owned()).or_default() += 1;
        }
    }

    /// The exposition text.
    pub fn render(&self, gauges: &Gauges) -> String {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP observatory_graphql_requests_total GraphQL requests by operation name and outcome (ok, \
             errors, reused, not_modified, refused).\n# TYPE observatory_graphql_requests_total counter"
        );
        for ((operation, outcome), n) in &counts.requests {
            let _ = writeln!(
                out,
                "observatory_graphql_requests_total{{operation=\"{}\",outcome=\"{outcome}\"}} {n}",
                escape(operation)
            );
        }
        let _ = writeln!(
            out,
            "# HELP observatory_graphql_request_duration_seconds Time to answer a GraphQL request, by outcome.\n\
             # TYPE observatory_graphql_request_duration_seconds histogram"
        );
        for (outcome, histogram) in &counts.latency {
            for (bound, n) in BUCKETS.iter().zip(histogram.counts) {
                let _ = writeln!(
                    out,
                    "observatory_graphql_request_duration_seconds_bucket{{outcome=\"{outcome}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "observatory_graphql_request_duration_seconds_bucket{{outcome=\"{outcome}\",le=\"+Inf\"}} {}\n\
                 observatory_graphql_request_duration_seconds_sum{{outcome=\"{outcome}\"}} {}\n\
                 observatory_graphql_request_duration_seconds_count{{outcome=\"{outcome}\"}} {}",
                histogram.count, histogram.sum, histogram.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP observatory_graphql_refusals_total GraphQL requests refused before or instead of running, by \
             error code.\n# TYPE observatory_graphql_refusals_total counter"
        );
        for (code, n) in &counts.refusals {
            let _ = writeln!(
                out,
                "observatory_graphql_refusals_total{{reason=\"{}\"}} {n}",
                escape(code)
            );
        }
        let gauge = |out: &mut String, name: &str, help: &str, value: String| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}");
        };
        gauge(
            &mut out,
            "observatory_db_pool_connections",
            "Open connections of the database pool.",
            gauges.pool_connections.to_string(),
        );
        gauge(
            &mut out,
            "observatory_db_pool_idle",
            "Idle connections of the database pool.",
            gauges.pool_idle.to_string(),
        );
        gauge(
            &mut out,
            "observatory_db_pool_max",
            "Most connections the database pool opens.",
            gauges.pool_max.to_string(),
        );
        gauge(
            &mut out,
            "observatory_aggregate_places_free",
            "Places for aggregate statements not taken (half the pool).",
            gauges.aggregate_places_free.to_string(),
        );
        gauge(
            &mut out,
            "observatory_aggregate_places",
            "Places for aggregate statements.",
            gauges.aggregate_places.to_string(),
        );
        gauge(
            &mut out,
            "observatory_kept_answers",
            "Answers kept for reuse while the data's version has not moved.",
            gauges.kept_answers.to_string(),
        );
        gauge(
            &mut out,
            "observatory_kept_answer_bytes",
            "Bytes of the answers kept for reuse and of their requests (at most 64 MiB).",
            gauges.kept_answer_bytes.to_string(),
        );
        out
    }
}

/// A label value as the text format writes it: backslash, double quote and line feed escaped, any other control
/// character (a carriage return would end the line for some parsers) left out.
fn escape(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            c if c.is_control() => {}
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped_and_control_characters_left_out() {
        assert_eq!(escape("a\\b\"c\nd\re\u{7}f\u{85}g"), r#"a\\b\"c\ndefg"#);
    }
}
