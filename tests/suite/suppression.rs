//! Small-cell protection holds within one response. On copies of the demo data
//! with small groups on every dimension, the public's and an association's
//! `indicators` answers are checked against the true figures (read with a
//! partner key, per association) over many groupings: every aggregate a visible
//! field reveals has at least three associations contributing a non-zero amount,
//! no field reveals an aggregate another field says is suppressed, and no parent
//! total in the same response minus the visible siblings gives a hidden one back.
//! The check reads the JSON generically: it knows only which aggregate each field
//! of each measure reads.

use observatory_tests::{Backend, Fixture, PartnerKind, TestApp, on_both_backends, spawn_app, spawn_app_with};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap, HashSet};

/// The dimensions the public may group by, in the order of a `Key`.
const DIMS: [&str; 5] = ["REGION", "SEGMENT", "GENDER", "AREA", "ACTIVITY"];

/// One measure and the aggregate (a sum over a group) each of its fields reads.
struct MeasureSpec {
    field: &'static str,
    /// For a sum: the aggregate its value is.
    sum: Option<&'static str>,
    /// For a ratio: its numerator and denominator aggregates.
    ratio: Option<(&'static str, &'static str)>,
    /// The aggregate of its target.
    target: Option<&'static str>,
    /// Dimensions (of `DIMS`) it can be grouped and filtered by.
    dims: &'static [&'static str],
}

/// The dimensions of a client or loan cell.
const ALL: &[&str] = &["REGION", "SEGMENT", "GENDER", "AREA"];
/// The loan measures the loans by activity carry also break down by activity (with the region only).
const WITH_ACTIVITY: &[&str] = &["REGION", "SEGMENT", "GENDER", "AREA", "ACTIVITY"];

const fn sum(field: &'static str, agg: &'static str, target: Option<&'static str>) -> MeasureSpec {
    MeasureSpec {
        field,
        sum: Some(agg),
        ratio: None,
        target,
        dims: ALL,
    }
}

const fn ratio(field: &'static str, numerator: &'static str, denominator: &'static str) -> MeasureSpec {
    MeasureSpec {
        field,
        sum: None,
        ratio: Some((numerator, denominator)),
        target: None,
        dims: ALL,
    }
}

/// A measure also broken down by activity.
const fn by_activity(spec: MeasureSpec) -> MeasureSpec {
    MeasureSpec {
        dims: WITH_ACTIVITY,
        ..spec
    }
}

const MEASURES: &[MeasureSpec] = &[
    sum("activeClients", "activeClients", None),
    sum("newClients", "newClients", Some("targetNewClients")),
    ratio("womenShare", "activeFemale", "activeClients"),
    ratio("ruralShare", "activeRural", "activeClients"),
    by_activity(sum("disbursedCount", "disbursedCount", Some("targetDisbursedCount"))),
    by_activity(sum("disbursedAmount", "disbursedAmount", Some("targetDisbursedAmount"))),
    by_activity(ratio("averageDisbursedLoan", "disbursedAmount", "disbursedCount")),
    by_activity(sum("activeLoans", "activeLoans", None)),
    by_activity(sum("outstandingAmount", "outstanding", Some("targetOutstanding"))),
    by_activity(ratio("averageOutstandingLoan", "outstanding", "activeLoans")),
    by_activity(sum("par30Amount", "par30", None)),
    by_activity(ratio("par30Rate", "par30", "outstanding")),
    sum("par90Amount", "par90", None),
    ratio("par90Rate", "par90", "outstanding"),
    sum("writeOffAmount", "writeOff", None),
    by_activity(ratio("collectionRate", "collected", "due")),
    MeasureSpec {
        field: "staff",
        sum: Some("staff"),
        ratio: None,
        target: None,
        dims: &["GENDER"],
    },
];

/// A group: the value of each of `DIMS` (None when not grouped by it).
type Key = [Option<String>; 5];
/// An aggregate: period, group, aggregate name.
type AggKey = (String, Key, &'static str);

fn key_of(row: &Value) -> Key {
    let text = |v: &Value| v.as_str().map(str::to_owned);
    [
        text(&row["region"]["code"]),
        text(&row["segment"]),
        text(&row["gender"]),
        text(&row["area"]),
        text(&row["activity"]),
    ]
}

fn project(key: &Key, dims: &[&str]) -> Key {
    let mut out = key.clone();
    for (i, dim) in DIMS.iter().enumerate() {
        if !dims.contains(dim) {
            out[i] = None;
        }
    }
    out
}

/// The period before ("2020-01" → "2019-12", "2020-Q1" → "2019-Q4", "2020" → "2019").
fn previous(period: &str) -> String {
    if let Some((year, quarter)) = period.split_once("-Q") {
        let (y, q): (i32, i32) = (year.parse().unwrap(), quarter.parse().unwrap());
        return if q == 1 {
            format!("{}-Q4", y - 1)
        } else {
            format!("{y}-Q{}", q - 1)
        };
    }
    if let Some((year, month)) = period.split_once('-') {
        let (y, m): (i32, i32) = (year.parse().unwrap(), month.parse().unwrap());
        return if m == 1 {
            format!("{}-12", y - 1)
        } else {
            format!("{y}-{:02}", m - 1)
        };
    }
    (period.parse::<i32>().unwrap() - 1).to_string()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 0.005 + b.abs() * 1e-12
}

/// The true figures of one aggregate.
#[derive(Debug, Default, Clone, Copy)]
struct Truth {
    value: f64,
    /// Associations contributing a non-zero amount.
    contributors: usize,
    /// The calling association's own part.
    own: f64,
    /// Associations other than the caller contributing a non-zero amount.
    others: usize,
}

/// One request shape.
struct Shape {
    group_by: Vec<&'static str>,
    filter: Option<(&'static str, &'static str)>,
    from: &'static str,
    to: &'static str,
    granularity: &'static str,
}

impl Shape {
    fn dims(&self) -> Vec<&'static str> {
        let mut dims = self.group_by.clone();
        if let Some((dim, _)) = self.filter {
            dims.push(dim);
        }
        dims
    }

    fn measures(&self) -> Vec<&'static MeasureSpec> {
        MEASURES
            .iter()
            .filter(|m| self.dims().iter().all(|d| m.dims.contains(d)))
            .collect()
    }

    fn filter_arg(&self) -> String {
        match self.filter {
            None => String::new(),
            Some(("REGION", values)) => format!(", filter: {{ regions: {values} }}"),
            Some(("SEGMENT", values)) => format!(", filter: {{ segments: {values} }}"),
            Some(("GENDER", values)) => format!(", filter: {{ genders: {values} }}"),
            Some(("AREA", values)) => format!(", filter: {{ areas: {values} }}"),
            Some(("ACTIVITY", values)) => format!(", filter: {{ activities: {values} }}"),
            Some(other) => panic!("no filter {other:?}"),
        }
    }

    fn field(&self, alias: &str, group_by: &[&str], from: &str, compare: bool, association: bool) -> String {
        let mut dims: Vec<&str> = group_by.to_vec();
        if association {
            dims.push("ASSOCIATION");
        }
        let measures: Vec<String> = self
            .measures()
            .iter()
            .map(|m| {
                format!(
                    "{} {{ value numerator denominator previous target suppressed }}",
                    m.field
                )
            })
            .collect();
        format!(
            r#"{alias}: indicators(period: {{ from: "{from}", to: "{}", granularity: {} }}, groupBy: [{}]{}{}) {{
                period association {{ code }} region {{ code }} segment gender area activity {} }}"#,
            self.to,
            self.granularity,
            dims.join(", "),
            self.filter_arg(),
            if compare { ", compareTo: PREVIOUS_PERIOD" } else { "" },
            measures.join(" ")
        )
    }

    /// The caller's document: the request, and the same request without each grouped dimension (its parent totals).
    fn document(&self) -> String {
        let mut fields = vec![self.field("main", &self.group_by, self.from, true, false)];
        for dim in &self.group_by {
            let parent: Vec<&str> = self.group_by.iter().copied().filter(|d| d != dim).collect();
            fields.push(self.field(&format!("without_{dim}"), &parent, self.from, true, false));
        }
        format!("{{ {} }}", fields.join("\n"))
    }

    /// The true figures, per association, over the requested periods and those compared with.
    fn truth_document(&self) -> String {
        let mut fields = vec![self.field("truth", &self.group_by, &previous(self.from), false, true)];
        let targeted = |d: &&str| ["REGION", "ACTIVITY"].contains(d);
        if self.filter.iter().all(|(d, _)| targeted(d)) {
            // Targets exist per association, sector-wide and by region (and by activity, which no fixture sets):
            // read at the level of the fields without the activity.
            let group_by: Vec<&str> = self
                .group_by
                .iter()
                .copied()
                .filter(|d| targeted(d) && *d != "ACTIVITY")
                .collect();
            fields.push(self.field("targets", &group_by, &previous(self.from), false, true));
        }
        format!("{{ {} }}", fields.join("\n"))
    }
}

/// What one response shows: the aggregates its visible fields reveal (with their value where a field carries it).
#[derive(Default)]
struct Shown {
    /// Aggregates a visible field gives exactly.
    exact: HashMap<AggKey, f64>,
    /// Aggregates a visible field depends on (a ratio reveals its parts once one of them is known).
    revealed: HashSet<AggKey>,
    /// For each measure a field says is suppressed: the aggregates it reads, one of which at least is hidden.
    suppressed: Vec<Vec<AggKey>>,
    /// Period × group positions shown (the group's row, or the row comparing with it).
    positions: HashSet<(String, Key)>,
}

fn read_response(data: &Value, shape: &Shape, shown: &mut Shown) {
    let mut fields = vec!["main".to_owned()];
    fields.extend(shape.group_by.iter().map(|d| format!("without_{d}")));
    for alias in fields {
        for row in data[&alias]
            .as_array()
            .unwrap_or_else(|| panic!("{alias} rows: {data}"))
        {
            let period = row["period"].as_str().unwrap().to_owned();
            let before = previous(&period);
            let key = key_of(row);
            shown.positions.insert((period.clone(), key.clone()));
            shown.positions.insert((before.clone(), key.clone()));
            for m in shape.measures() {
                let v = &row[m.field];
                if v.is_null() {
                    continue;
                }
                let mut exact = |p: &str, agg: &'static str, field: &Value| {
                    if let Some(x) = field.as_f64() {
                        shown.exact.insert((p.to_owned(), key.clone(), agg), x);
                        shown.revealed.insert((p.to_owned(), key.clone(), agg));
                    }
                };
                if let Some(agg) = m.sum {
                    exact(&period, agg, &v["value"]);
                    exact(&before, agg, &v["previous"]);
                }
                if let Some(agg) = m.target {
                    exact(&period, agg, &v["target"]);
                }
                if let Some((n, d)) = m.ratio {
                    exact(&period, n, &v["numerator"]);
                    exact(&period, d, &v["denominator"]);
                    for (p, field) in [(&period, &v["value"]), (&before, &v["previous"])] {
                        if !field.is_null() {
                            shown.revealed.insert((p.clone(), key.clone(), n));
                            shown.revealed.insert((p.clone(), key.clone(), d));
                        }
                    }
                }
                if v["suppressed"] == json!(true) {
                    // A suppressed sum hides its aggregate; a suppressed ratio at least one of its parts.
                    let aggs: Vec<&'static str> = m
                        .sum
                        .into_iter()
                        .chain(m.ratio.into_iter().flat_map(|(n, d)| [n, d]))
                        .collect();
                    shown
                        .suppressed
                        .push(aggs.into_iter().map(|agg| (period.clone(), key.clone(), agg)).collect());
                }
            }
        }
    }
}

/// True figures of every aggregate at the level of the request and of its parents, from a per-association answer.
fn read_truth(data: &Value, shape: &Shape, own: Option<&str>) -> HashMap<AggKey, Truth> {
    let mut levels: Vec<Vec<&str>> = vec![shape.group_by.clone()];
    for dim in &shape.group_by {
        levels.push(shape.group_by.iter().copied().filter(|d| d != dim).collect());
    }
    let mut truth: HashMap<AggKey, Truth> = HashMap::new();
    let rows = data["truth"].as_array().unwrap().iter().map(|row| (row, false));
    let targets = data["targets"].as_array().into_iter().flatten().map(|row| (row, true));
    for (row, targets_only) in rows.chain(targets) {
        let period = row["period"].as_str().unwrap().to_owned();
        let association = row["association"]["code"].as_str().unwrap();
        let key = key_of(row);
        let mut parts: HashMap<&'static str, f64> = HashMap::new();
        for m in shape.measures() {
            let v = &row[m.field];
            let mut put = |agg: &'static str, field: &Value| {
                if let Some(x) = field.as_f64() {
                    parts.insert(agg, x);
                }
            };
            if let Some(agg) = m.sum {
                put(agg, &v["value"]);
            }
            if let Some((n, d)) = m.ratio {
                put(n, &v["numerator"]);
                put(d, &v["denominator"]);
            }
            if let Some(agg) = m.target {
                put(agg, &v["target"]);
            }
        }
        for (agg, x) in parts {
            if targets_only != agg.starts_with("target") {
                continue;
            }
            let keys: BTreeSet<Key> = levels.iter().map(|level| project(&key, level)).collect();
            for group in keys {
                let t = truth.entry((period.clone(), group, agg)).or_default();
                t.value += x;
                t.contributors += usize::from(x != 0.0);
                if own == Some(association) {
                    t.own += x;
                } else {
                    t.others += usize::from(x != 0.0);
                }
            }
        }
    }
    truth
}

/// Every way the response could give a hidden aggregate back, checked against the truth.
fn check(shape: &Shape, shown: &Shown, truth: &HashMap<AggKey, Truth>, caller: &str) -> Vec<String> {
    let mut failures = Vec::new();
    let context = |what: String| {
        format!(
            "{caller}, by {:?}{} {}..{} {}: {what}",
            shape.group_by,
            shape.filter_arg(),
            shape.from,
            shape.to,
            shape.granularity
        )
    };
    // (a), (c): what a visible field reveals has three non-zero contributors, and is not said to be suppressed.
    for agg in &shown.revealed {
        // No association's row carries it: nothing was contributed.
        let t = truth.get(agg).copied().unwrap_or_default();
        if t.contributors < 3 {
            failures.push(context(format!(
                "{agg:?} = {} is visible with {} non-zero contributor(s)",
                t.value, t.contributors
            )));
        }
    }
    for aggs in &shown.suppressed {
        if aggs.iter().all(|agg| shown.revealed.contains(agg)) {
            failures.push(context(format!(
                "{aggs:?} is suppressed in one field and visible in others"
            )));
        }
    }
    for (agg, x) in &shown.exact {
        assert!(
            close(*x, truth.get(agg).map_or(0.0, |t| t.value)),
            "{}",
            context(format!("{agg:?}: shown {x}, true {:?}", truth.get(agg)))
        );
    }
    // What must not be given back: a small figure (one or two associations with a non-zero amount); for an
    // association, which knows its own figures, the part of a single other association (with three contributors,
    // each learns the sum of the other two: that is the threshold's own allowance).
    let sensitive = |t: &Truth| {
        if caller == "public" {
            (1..3).contains(&t.contributors)
        } else {
            t.others == 1
        }
    };
    // (b): along every grouped dimension, a visible parent total minus the visible siblings.
    for dim in &shape.group_by {
        let parent_dims: Vec<&str> = shape.group_by.iter().copied().filter(|d| d != dim).collect();
        let mut lines: HashMap<AggKey, Vec<(&Key, &Truth)>> = HashMap::new();
        for ((period, key, agg), t) in truth {
            let at_level = DIMS
                .iter()
                .enumerate()
                .all(|(i, d)| key[i].is_some() == shape.group_by.contains(d));
            if at_level {
                lines
                    .entry((period.clone(), project(key, &parent_dims), agg))
                    .or_default()
                    .push((key, t));
            }
        }
        for ((period, parent_key, agg), members) in lines {
            let parent_at = (period.clone(), parent_key.clone(), agg);
            let Some(parent) = shown.exact.get(&parent_at) else {
                // A hidden total must not be the sum of its visible parts (and the caller's own).
                let t = truth.get(&parent_at).copied().unwrap_or_default();
                let given_back = members.iter().all(|(key, m)| {
                    m.value == m.own || shown.exact.contains_key(&(period.clone(), (*key).clone(), agg))
                });
                if shown.positions.contains(&(period.clone(), parent_key.clone())) && sensitive(&t) && given_back {
                    failures.push(context(format!(
                        "{agg:?} of {parent_key:?} in {period} is hidden, but the sum of its visible parts along {dim} gives it back"
                    )));
                }
                continue;
            };
            let mut rest = *parent;
            let mut hidden = Vec::new();
            for (key, t) in members {
                match shown.exact.get(&(period.clone(), key.clone(), agg)) {
                    Some(x) => rest -= x,
                    None => {
                        // What the caller knows of a hidden part: its own figure.
                        rest -= t.own;
                        if shown.positions.contains(&(period.clone(), key.clone())) {
                            hidden.push((key, t));
                        }
                    }
                }
            }
            // Every hidden figure holding another association's amount (a hidden zero, or for an association a
            // hidden figure of its own alone, tells nothing of anyone else).
            for (key, t) in hidden {
                if sensitive(t) && close(rest, t.value - t.own) {
                    failures.push(context(format!(
                        "{agg:?} of {key:?} in {period} is hidden, but the total without {dim} minus the visible parts \
                         gives it back: {rest}"
                    )));
                }
            }
        }
    }
    failures
}

/// Demo data changed by `statements`, so that groups are small on every dimension.
async fn fixture(backend: &Backend, statements: &[String]) -> TestApp {
    // The documents hold a field and its parent totals with every measure: more than the default budgets allow.
    let limits = api::HttpLimits {
        public_budget: u64::MAX,
        keyed_budget: u64::MAX,
        ..api::HttpLimits::default()
    };
    let app = spawn_app_with(backend, Fixture::Demo, limits).await;
    for sql in statements {
        app.db
            .execute_unprepared(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    // The public reads each month as released; the truth is read by a partner, who reads the data as it stands. The
    // demo's reports that came after their month's release are dated at the release, so that both read the same data.
    app.db
        .execute_unprepared(
            "UPDATE submission SET received_at = (SELECT released_at FROM release WHERE release.period = submission.period) \
             WHERE received_at > (SELECT released_at FROM release WHERE release.period = submission.period)",
        )
        .await
        .expect("reports dated at the release");
    api::rollup::refresh(&app.db, None).await.expect("rollups refresh");
    app
}

use sea_orm::ConnectionTrait;

fn association(code: &str) -> String {
    format!("(SELECT id FROM association WHERE code = '{code}')")
}

fn region(code: &str) -> String {
    format!("(SELECT id FROM region WHERE code = '{code}')")
}

const CODES: [&str; 13] = [
    "ARGANE", "ATLAS", "CEDRE", "DUNE", "FIGUIER", "JASMIN", "MIMOSA", "NOUR", "OASIS", "PALMIER", "SAFRAN", "TAFOUKT",
    "ZELLIGE",
];
const SEGMENTS: [&str; 3] = ["INDIVIDUAL", "SOLIDARITY_GROUP", "VERY_SMALL_ENTERPRISE"];
const GENDERS: [&str; 2] = ["FEMALE", "MALE"];
const AREAS: [&str; 2] = ["URBAN", "RURAL"];

/// Pseudo-random draws below `n` from a seed (a linear congruential generator): the same fixtures on every run.
fn draws(seed: u64) -> impl FnMut(usize) -> usize {
    let mut state = seed;
    move |n: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as usize) % n
    }
}

/// The fixtures: the demo as is, the issue's reproduction, and pseudo-random small groups.
fn fixtures() -> Vec<Vec<String>> {
    let both = |condition: String| {
        vec![
            format!("DELETE FROM client_stat WHERE {condition}"),
            format!("DELETE FROM loan_stat WHERE {condition}"),
        ]
    };
    let mut reproduction = Vec::new();
    // Region MA-12 reduced to two associations.
    reproduction.extend(both(format!(
        "region_id = {} AND association_id NOT IN ({}, {})",
        region("MA-12"),
        association("DUNE"),
        association("ATLAS")
    )));
    // A segment × area cell with one contributor.
    reproduction.extend(both(format!(
        "segment = 'VERY_SMALL_ENTERPRISE' AND area = 'RURAL' AND association_id <> {}",
        association("ATLAS")
    )));
    // One association the only non-zero contributor to new clients in some cells.
    reproduction.push(format!(
        "UPDATE client_stat SET new_clients = 0 WHERE gender = 'MALE' AND area = 'URBAN' AND association_id <> {}",
        association("NOUR")
    ));
    // Targets for new clients set by two associations, women staff reported by two.
    reproduction.push(format!(
        "DELETE FROM target WHERE measure = 'NEW_CLIENTS' AND association_id NOT IN ({}, {})",
        association("ATLAS"),
        association("NOUR")
    ));
    reproduction.push(format!(
        "DELETE FROM staff_stat WHERE gender = 'FEMALE' AND association_id NOT IN ({}, {})",
        association("ATLAS"),
        association("DUNE")
    ));
    let mut all = vec![Vec::new(), reproduction];
    for seed in [7u64, 1234] {
        let mut next = draws(seed);
        let mut statements = Vec::new();
        for _ in 0..3 {
            let r = format!("MA-{:02}", 1 + next(12));
            let (a, b) = (CODES[next(13)], CODES[next(13)]);
            statements.extend(both(format!(
                "region_id = {} AND association_id NOT IN ({}, {})",
                region(&r),
                association(a),
                association(b)
            )));
            let (s, g, z) = (SEGMENTS[next(3)], GENDERS[next(2)], AREAS[next(2)]);
            statements.extend(both(format!(
                "segment = '{s}' AND gender = '{g}' AND area = '{z}' AND association_id <> {}",
                association(CODES[next(13)])
            )));
            let column = ["new_clients", "active_clients"][next(2)];
            if column == "new_clients" {
                statements.push(format!(
                    "UPDATE client_stat SET new_clients = 0 WHERE segment = '{}' AND association_id NOT IN ({}, {})",
                    SEGMENTS[next(3)],
                    association(CODES[next(13)]),
                    association(CODES[next(13)])
                ));
            }
            statements.push(format!(
                "UPDATE loan_stat SET par90_amount = 0, write_off_amount = 0 WHERE area = '{}' AND (association_id + period) % {} <> 0",
                AREAS[next(2)],
                2 + next(3)
            ));
        }
        all.push(statements);
    }
    all
}

/// Every subset of the dimensions, with granularities, filters and ranges varied along.
fn shapes() -> Vec<Shape> {
    let mut shapes = Vec::new();
    for subset in 0..16usize {
        let group_by: Vec<&str> = DIMS
            .iter()
            .enumerate()
            .filter(|(i, _)| subset & (1 << i) != 0)
            .map(|(_, d)| *d)
            .collect();
        let (from, to, granularity) = match subset % 3 {
            0 => ("2020-11", "2020-12", "MONTH"),
            1 => ("2020-Q3", "2020-Q4", "QUARTER"),
            _ => ("2019", "2020", "YEAR"),
        };
        let filter = match subset % 4 {
            1 => Some(("REGION", r#"["MA-12", "MA-11", "MA-01"]"#)),
            3 => Some(("SEGMENT", r#"[INDIVIDUAL, VERY_SMALL_ENTERPRISE]"#)),
            _ => None,
        };
        shapes.push(Shape {
            group_by,
            filter,
            from,
            to,
            granularity,
        });
    }
    shapes
}

async fn no_combination_of_visible_fields_gives_a_hidden_aggregate_back(backend: Backend) {
    let mut failures = Vec::new();
    for (n, statements) in fixtures().iter().enumerate() {
        let app = fixture(&backend, statements).await;
        let partner = app.issue_key(PartnerKind::Ministry, None).await;
        let dune = app.issue_key(PartnerKind::Association, Some("DUNE")).await;
        for shape in shapes() {
            let truth_reply = app.graphql_as(Some(&partner), &shape.truth_document(), json!({})).await;
            let truth_data = truth_reply.data();
            for (caller, key) in [("public", None), ("DUNE", Some(dune.as_str()))] {
                let reply = app.graphql_as(key, &shape.document(), json!({})).await;
                let mut shown = Shown::default();
                read_response(reply.data(), &shape, &mut shown);
                let truth = read_truth(truth_data, &shape, key.map(|_| caller));
                failures.extend(
                    check(&shape, &shown, &truth, caller)
                        .into_iter()
                        .map(|f| format!("fixture {n}: {f}")),
                );
            }
        }
    }
    let count = failures.len();
    let sample: BTreeSet<&String> = failures.iter().take(30).collect();
    assert!(
        failures.is_empty(),
        "{count} disclosures, for example:\n{}",
        sample.into_iter().cloned().collect::<Vec<_>>().join("\n")
    );
}
on_both_backends!(no_combination_of_visible_fields_gives_a_hidden_aggregate_back);

/// The activities the demo finances (every leaf code but UNSPECIFIED, which the fixtures use as a mark).
fn activities() -> Vec<&'static str> {
    entity::enums::Activity::ALL
        .iter()
        .filter(|a| **a != entity::enums::Activity::Unspecified)
        .map(|a| a.as_str())
        .collect()
}

/// Moves one activity's loans into another, for the rows matching `condition`: the activities still add up to the
/// loans table, region by region, and the moved activity keeps only the other rows' contributors.
fn move_activity(from: &str, to: &str, condition: &str) -> Vec<String> {
    let same = "x.association_id = activity_stat.association_id AND x.region_id = activity_stat.region_id \
                AND x.period = activity_stat.period";
    let sets: Vec<String> = api::facts::ACTIVITIES
        .measures
        .iter()
        .map(|m| m.column)
        .map(|c| format!("{c} = {c} + (SELECT x.{c} FROM activity_stat x WHERE {same} AND x.activity = '{from}')"))
        .collect();
    let both = format!(
        "EXISTS (SELECT 1 FROM activity_stat x WHERE {same} AND x.activity = '{from}') \
         AND EXISTS (SELECT 1 FROM activity_stat x WHERE {same} AND x.activity = '{to}')"
    );
    vec![
        // Marks the rows to move from while both exist (the second statement then reads the marked ones).
        format!(
            "UPDATE activity_stat SET activity = 'UNSPECIFIED' WHERE activity = '{from}' AND {condition} AND {}",
            both.replace(&format!("x.activity = '{from}'"), "x.activity = activity_stat.activity")
        ),
        format!(
            "UPDATE activity_stat SET {} WHERE activity = '{to}' AND {condition} AND EXISTS (SELECT 1 FROM activity_stat x \
             WHERE {same} AND x.activity = 'UNSPECIFIED')",
            sets.join(", ")
                .replace(&format!("x.activity = '{from}'"), "x.activity = 'UNSPECIFIED'")
        ),
        format!("DELETE FROM activity_stat WHERE activity = 'UNSPECIFIED' AND {condition}"),
    ]
}

/// Fixtures for the activity groupings, the loans by activity adding up to the loans table throughout: the demo as
/// is, a region reduced to two associations in every table, and activities left to one or two associations.
fn activity_fixtures() -> Vec<Vec<String>> {
    let everywhere = |condition: String| {
        ["client_stat", "loan_stat", "activity_stat"]
            .iter()
            .map(|table| format!("DELETE FROM {table} WHERE {condition}"))
            .collect::<Vec<_>>()
    };
    let mut reproduction = everywhere(format!(
        "region_id = {} AND association_id NOT IN ({}, {})",
        region("MA-12"),
        association("DUNE"),
        association("ATLAS")
    ));
    // Livestock financed by two associations, crafts in one region by one.
    reproduction.extend(move_activity(
        "LIVESTOCK",
        "AGRICULTURE",
        &format!(
            "association_id NOT IN ({}, {})",
            association("NOUR"),
            association("DUNE")
        ),
    ));
    reproduction.extend(move_activity(
        "CRAFTS",
        "COMMERCE",
        &format!(
            "region_id = {} AND association_id <> {}",
            region("MA-06"),
            association("ATLAS")
        ),
    ));
    let mut all = vec![Vec::new(), reproduction];
    for seed in [11u64, 4321] {
        let mut next = draws(seed);
        let activities = activities();
        let mut statements = Vec::new();
        for _ in 0..3 {
            let r = format!("MA-{:02}", 1 + next(12));
            let (a, b) = (CODES[next(13)], CODES[next(13)]);
            statements.extend(everywhere(format!(
                "region_id = {} AND association_id NOT IN ({}, {})",
                region(&r),
                association(a),
                association(b)
            )));
            let (from, to) = (activities[next(activities.len())], activities[next(activities.len())]);
            if from != to {
                let r = format!("MA-{:02}", 1 + next(12));
                let condition = if next(2) == 0 {
                    format!(
                        "association_id NOT IN ({}, {})",
                        association(CODES[next(13)]),
                        association(CODES[next(13)])
                    )
                } else {
                    format!(
                        "region_id = {} AND association_id <> {}",
                        region(&r),
                        association(CODES[next(13)])
                    )
                };
                statements.extend(move_activity(from, to, &condition));
            }
        }
        all.push(statements);
    }
    all
}

/// The activity groupings, with granularities, filters and ranges varied along.
fn activity_shapes() -> Vec<Shape> {
    let shape = |group_by: &[&'static str], filter, (from, to, granularity)| Shape {
        group_by: group_by.to_vec(),
        filter,
        from,
        to,
        granularity,
    };
    let month = ("2020-11", "2020-12", "MONTH");
    let quarter = ("2020-Q3", "2020-Q4", "QUARTER");
    let year = ("2019", "2020", "YEAR");
    vec![
        shape(&["ACTIVITY"], None, month),
        shape(&["REGION", "ACTIVITY"], None, month),
        shape(&["REGION", "ACTIVITY"], None, year),
        shape(
            &["REGION", "ACTIVITY"],
            Some(("REGION", r#"["MA-12", "MA-06", "MA-01"]"#)),
            quarter,
        ),
        shape(
            &["REGION", "ACTIVITY"],
            Some(("ACTIVITY", "[LIVESTOCK, CRAFTS, COMMERCE]")),
            month,
        ),
        shape(&["ACTIVITY"], Some(("REGION", r#"["MA-12", "MA-06"]"#)), quarter),
    ]
}

/// Hiding holds across the loans and the loans by activity: in one document, a region's (or the sector's) total read
/// from the loans table, minus its visible activities, never gives back a hidden activity (or its sum), for the
/// public and for an association; every visible activity figure has three contributors.
async fn no_total_from_the_loans_minus_visible_activities_gives_a_hidden_one_back(backend: Backend) {
    let mut failures = Vec::new();
    let mut hidden = 0;
    for (n, statements) in activity_fixtures().iter().enumerate() {
        let app = fixture(&backend, statements).await;
        let partner = app.issue_key(PartnerKind::Ministry, None).await;
        let dune = app.issue_key(PartnerKind::Association, Some("DUNE")).await;
        for shape in activity_shapes() {
            let truth_reply = app.graphql_as(Some(&partner), &shape.truth_document(), json!({})).await;
            assert!(truth_reply.body["errors"].is_null(), "{}", truth_reply.body);
            let truth_data = truth_reply.data();
            for (caller, key) in [("public", None), ("DUNE", Some(dune.as_str()))] {
                let reply = app.graphql_as(key, &shape.document(), json!({})).await;
                assert!(reply.body["errors"].is_null(), "{}", reply.body);
                let mut shown = Shown::default();
                read_response(reply.data(), &shape, &mut shown);
                hidden += shown.suppressed.len();
                let truth = read_truth(truth_data, &shape, key.map(|_| caller));
                failures.extend(
                    check(&shape, &shown, &truth, caller)
                        .into_iter()
                        .map(|f| format!("fixture {n}: {f}")),
                );
            }
        }
    }
    assert!(hidden > 50, "the fixtures do hide activity figures: {hidden}");
    let count = failures.len();
    let sample: BTreeSet<&String> = failures.iter().take(30).collect();
    assert!(
        failures.is_empty(),
        "{count} disclosures, for example:\n{}",
        sample.into_iter().cloned().collect::<Vec<_>>().join("\n")
    );
}
on_both_backends!(no_total_from_the_loans_minus_visible_activities_gives_a_hidden_one_back);

/// The issue's figures: on the unmodified demo data, no public `newClients` cell comes from fewer than three
/// associations with new clients.
async fn public_new_clients_cells_have_three_non_zero_contributors(backend: Backend) {
    // The finest public grouping (four dimensions) is over the default anonymous budget: an operator may raise it.
    let limits = api::HttpLimits {
        public_budget: u64::MAX,
        ..api::HttpLimits::default()
    };
    let app = spawn_app_with(&backend, Fixture::Demo, limits).await;
    let period = r#"period: { from: "2020-07", to: "2020-12" }"#;
    let fields = "period region { code } segment gender area newClients { value }";
    let public = app
        .graphql_as(
            None,
            &format!("{{ indicators({period}, groupBy: [REGION, SEGMENT, GENDER, AREA]) {{ {fields} }} }}"),
            json!({}),
        )
        .await;
    let truth = app
        .query(
            &format!(
                "{{ indicators({period}, groupBy: [ASSOCIATION, REGION, SEGMENT, GENDER, AREA]) {{ {fields} }} }}"
            ),
            json!({}),
        )
        .await;
    let mut contributors: HashMap<(String, Key), usize> = HashMap::new();
    for row in truth["indicators"].as_array().unwrap() {
        if row["newClients"]["value"].as_f64().unwrap_or(0.0) != 0.0 {
            *contributors
                .entry((row["period"].as_str().unwrap().to_owned(), key_of(row)))
                .or_default() += 1;
        }
    }
    let mut small = [0usize; 3];
    for row in public.data()["indicators"].as_array().unwrap() {
        if row["newClients"]["value"].is_number() {
            let n = contributors
                .get(&(row["period"].as_str().unwrap().to_owned(), key_of(row)))
                .copied()
                .unwrap_or(0);
            if n < 3 {
                small[n] += 1;
            }
        }
    }
    assert_eq!(
        small,
        [0, 0, 0],
        "public newClients cells with 0, 1 and 2 non-zero contributors"
    );
}
on_both_backends!(public_new_clients_cells_have_three_non_zero_contributors);

/// An `indicators` answer has at most `MAX_ROWS` rows: beyond, the request is refused with what to narrow.
async fn an_answer_of_more_than_max_rows_is_refused_with_what_to_narrow(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    // Fourteen months: priced within a key's budget (the price counts every possible group), while the demo's
    // actual cells (about 800 a month) make more than `MAX_ROWS` rows.
    let query = |granularity: &str| {
        format!(
            r#"{{ indicators(period: {{ from: "2019-11", to: "2020-12", granularity: {granularity} }},
                groupBy: [ASSOCIATION, REGION, SEGMENT, GENDER, AREA]) {{ period activeClients {{ value }} }} }}"#
        )
    };
    let monthly = app.graphql(&query("MONTH"), json!({})).await;
    assert_eq!(monthly.codes(), ["BAD_USER_INPUT"], "{}", monthly.body);
    let message = monthly.message();
    assert!(
        message.contains(&api::indicator::MAX_ROWS.to_string())
            && ["fewer dimensions", "coarser granularity", "shorter range", "filter"]
                .iter()
                .all(|hint| message.contains(hint)),
        "{message}"
    );
    let yearly = app.graphql(&query("YEAR"), json!({})).await;
    let rows = yearly.data()["indicators"].as_array().unwrap().len();
    assert!(rows > 0 && rows <= api::indicator::MAX_ROWS, "{rows} rows");
}
on_both_backends!(an_answer_of_more_than_max_rows_is_refused_with_what_to_narrow);

/// Reports of generated figures for the instants property: every segment, gender and area cell of each region.
fn instant_report(g: &mut observatory_tests::Gen, regions: &[&str]) -> Vec<u8> {
    let mut clients = String::from("region,segment,gender,area,active_clients,new_clients\n");
    let mut loans = String::from(
        "region,segment,gender,area,disbursed_count,disbursed_amount,active_loans,outstanding_amount,par30_amount,\
         par90_amount,write_off_amount,rescheduled_amount,repayments_due,repayments_collected\n",
    );
    for region in regions {
        for segment in SEGMENTS {
            for gender in GENDERS {
                for area in AREAS {
                    let (active, new) = (g.range(1, 900), g.range(0, 40));
                    clients.push_str(&format!("{region},{segment},{gender},{area},{active},{new}\n"));
                    let outstanding = g.range(1_000, 90_000_000);
                    let par30 = outstanding / 100 * g.range(0, 12);
                    let due = g.range(100, 900_000);
                    loans.push_str(&format!(
                        "{region},{segment},{gender},{area},{},{},{},{outstanding},{par30},{},0,0,{due},{}\n",
                        g.range(1, 60),
                        g.range(1_000, 9_000_000),
                        active,
                        par30 / 2,
                        due / 100 * g.range(80, 100),
                    ));
                }
            }
        }
    }
    let staff = "category,gender,headcount\nNETWORK,FEMALE,3\nNETWORK,MALE,2\n".to_string();
    let mut body = Vec::new();
    for (name, content) in [("clients", clients), ("loans", loans), ("staff", staff)] {
        body.extend_from_slice(
            format!(
                "--instants\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}.csv\"\r\n\
                 Content-Type: text/csv\r\n\r\n{content}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(b"--instants--\r\n");
    body
}

/// The cells of one `indicators` answer: (group, measure) → value (hidden ones absent), and its coverage by group.
type Cells = (HashMap<(String, &'static str), f64>, HashMap<String, Value>);

const INSTANT_MEASURES: [&str; 4] = ["activeClients", "outstandingAmount", "disbursedAmount", "par30Amount"];

fn cells_of(rows: &Value, group_by: &[&str]) -> Cells {
    let mut cells = HashMap::new();
    let mut coverage = HashMap::new();
    for row in rows.as_array().into_iter().flatten() {
        let group: String = std::iter::once(row["period"].to_string())
            .chain(group_by.iter().map(|dim| match *dim {
                "REGION" => row["region"]["code"].to_string(),
                "ASSOCIATION" => row["association"]["code"].to_string(),
                other => row[other.to_ascii_lowercase()].to_string(),
            }))
            .collect::<Vec<_>>()
            .join("/");
        for measure in INSTANT_MEASURES {
            if let Some(value) = row[measure]["value"].as_f64() {
                cells.insert((group.clone(), measure), value);
            }
        }
        coverage.insert(group, row["coverage"].clone());
    }
    (cells, coverage)
}

fn instants_query(period: &str, group_by: &[&str], as_of: Option<&str>) -> String {
    let dims: Vec<String> = group_by.iter().map(|d| d.to_string()).collect();
    let selection: String = INSTANT_MEASURES.iter().map(|m| format!("{m} {{ value }} ")).collect();
    format!(
        "{{ indicators(period: {period}, groupBy: [{}]{}) {{ period region {{ code }} association {{ code }} segment \
         gender area coverage {{ reporting expected }} {selection} }} }}",
        dims.join(", "),
        as_of.map(|t| format!(", asOf: \"{t}\"")).unwrap_or_default()
    )
}

/// Hiding holds across instants: after a forced release, late reports and revisions arrive one by one. The public's
/// answers read at every instant (now, and `asOf` each earlier instant), for the same period, granularity and
/// grouping, are compared two by two: no visible cell differs between two of them by one association's figure in
/// that cell (read by the observatory, per association, at any of the instants), and the coverage the public is told
/// does not move.
async fn no_two_public_answers_at_two_instants_give_one_associations_figure(backend: Backend) {
    const ASSOCIATIONS: [&str; 8] = [
        "ARGANE", "ATLAS", "CEDRE", "DUNE", "FIGUIER", "JASMIN", "MIMOSA", "NOUR",
    ];
    const REGIONS: [&str; 3] = ["MA-01", "MA-04", "MA-06"];
    let periods = [
        ("{ from: \"2021-01\", to: \"2021-01\" }", "MONTH"),
        (
            "{ from: \"2021-Q1\", to: \"2021-Q1\", granularity: QUARTER }",
            "QUARTER",
        ),
    ];
    let groupings: [&[&str]; 4] = [&[], &["REGION"], &["SEGMENT"], &["REGION", "GENDER"]];
    let mut compared = 0usize;
    for seed in 0..3u64 {
        let mut g = observatory_tests::Gen::new(0x1257_a175 + seed);
        let limits = api::HttpLimits {
            public_budget: u64::MAX,
            keyed_budget: u64::MAX,
            ..api::HttpLimits::default()
        };
        let app = spawn_app_with(&backend, Fixture::Demo, limits).await;
        let writer = app.issue_key(PartnerKind::Observatory, None).await;
        let send = |association: &str, body: Vec<u8>| {
            let request = axum::http::Request::post(format!("/reports/{association}/2021-01"))
                .header("content-type", "multipart/form-data; boundary=instants")
                .header("authorization", format!("Bearer {writer}"))
                .body(axum::body::Body::from(body))
                .unwrap();
            app.send(request)
        };
        let regions_of = |g: &mut observatory_tests::Gen| -> Vec<&'static str> {
            let chosen: Vec<&str> = REGIONS.iter().copied().filter(|_| g.below(3) != 0).collect();
            if chosen.is_empty() { vec![REGIONS[0]] } else { chosen }
        };
        // Three to five associations report before the release; the rest come late.
        let early = 3 + g.below(3) as usize;
        let mut reported = Vec::new();
        for association in &ASSOCIATIONS[..early] {
            let regions = regions_of(&mut g);
            let reply = send(association, instant_report(&mut g, &regions)).await;
            assert_eq!(reply.status, 201, "{}", reply.body);
            reported.push(*association);
        }
        app.query(
            r#"mutation { releasePeriod(period: "2021-01", note: "forced for the test", force: true) { period } }"#,
            json!({}),
        )
        .await;
        let mut instants = Vec::new();
        for step in 0..5 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            instants.push(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            // A late first report, or a revision of one already sent.
            let association = if step % 2 == 0 && reported.len() < ASSOCIATIONS.len() {
                ASSOCIATIONS[reported.len()]
            } else {
                *g.pick(&reported)
            };
            let regions = regions_of(&mut g);
            let reply = send(association, instant_report(&mut g, &regions)).await;
            assert_eq!(reply.status, 201, "{}", reply.body);
            if !reported.contains(&association) {
                reported.push(association);
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        instants.push(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
        for (period, granularity) in periods {
            for group_by in groupings {
                // Every association's figure in every cell, at every instant.
                let mut figures: Vec<(String, &'static str, f64)> = Vec::new();
                let mut by_association = vec!["ASSOCIATION"];
                by_association.extend_from_slice(group_by);
                for instant in &instants {
                    let data = app
                        .query(&instants_query(period, &by_association, Some(instant)), json!({}))
                        .await;
                    for ((group, measure), value) in cells_of(&data["indicators"], &by_association).0 {
                        // The association's part of the group the public sees: its key without the association.
                        let mut parts: Vec<&str> = group.split('/').collect();
                        parts.remove(1);
                        figures.push((parts.join("/"), measure, value));
                    }
                }
                // The public's answers: now, and as of every instant.
                let mut answers: Vec<(String, Cells)> = Vec::new();
                for as_of in instants.iter().map(Some).chain(std::iter::once(None)) {
                    let reply = app
                        .graphql_as(
                            None,
                            &instants_query(period, group_by, as_of.map(String::as_str)),
                            json!({}),
                        )
                        .await;
                    answers.push((
                        as_of.cloned().unwrap_or_else(|| "now".into()),
                        cells_of(&reply.data()["indicators"], group_by),
                    ));
                }
                for (i, (at_i, (cells_i, coverage_i))) in answers.iter().enumerate() {
                    for (at_j, (cells_j, coverage_j)) in &answers[i + 1..] {
                        for (cell, value_i) in cells_i {
                            let Some(value_j) = cells_j.get(cell) else { continue };
                            compared += 1;
                            let difference = (value_i - value_j).abs();
                            if difference < 0.005 {
                                continue;
                            }
                            let one = figures.iter().find(|(group, measure, figure)| {
                                *group == cell.0 && *measure == cell.1 && (figure - difference).abs() < 0.005
                            });
                            assert!(
                                one.is_none(),
                                "seed {seed}, {granularity} by {group_by:?}: {:?} at {at_i} minus at {at_j} is {difference}, \
                                 one association's figure",
                                cell
                            );
                        }
                        assert_eq!(
                            coverage_i, coverage_j,
                            "seed {seed}, {granularity} by {group_by:?}: the public's coverage moved between {at_i} and {at_j}"
                        );
                    }
                }
            }
        }
    }
    assert!(compared > 100, "only {compared} visible cells were compared");
}
on_both_backends!(no_two_public_answers_at_two_instants_give_one_associations_figure);

/// Fields of one document whose sums come from the same statement (same source, grouping and kinds) each get their
/// own aggregates: a field answers the same in the company of others as alone, whichever runs first.
async fn a_field_answers_the_same_alone_and_beside_fields_sharing_its_statement(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let fields = [
        r#"sector: indicators(period: { from: "2020-12", to: "2020-12" }) { newClients { value target } }"#,
        r#"region: indicators(period: { from: "2020-12", to: "2020-12" }, groupBy: [REGION]) {
             region { code } disbursedAmount { value target } }"#,
        r#"clients: indicators(period: { from: "2020-12", to: "2020-12" }, groupBy: [REGION]) {
             region { code } activeClients { value } }"#,
        r#"women: indicators(period: { from: "2020-12", to: "2020-12" }, groupBy: [REGION]) {
             region { code } womenShare { value numerator } }"#,
        r#"activity: indicators(period: { from: "2020-12", to: "2020-12" }, groupBy: [ACTIVITY]) {
             activity disbursedAmount { value } }"#,
    ];
    let alias = |field: &str| field.split(':').next().unwrap().to_owned();
    let mut alone = serde_json::Map::new();
    for field in fields {
        let reply = app.graphql_as(None, &format!("{{ {field} }}"), json!({})).await;
        alone.insert(alias(field), reply.data()[alias(field)].clone());
    }
    // Every field has figures to compare, targets included.
    assert!(
        alone["sector"][0]["newClients"]["target"].is_number(),
        "{}",
        alone["sector"]
    );
    assert!(
        alone["women"][0]["womenShare"]["value"].is_number(),
        "{}",
        alone["women"]
    );
    for order in [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [1, 0, 3, 2, 4]] {
        let document: Vec<&str> = order.iter().map(|i| fields[*i]).collect();
        let reply = app
            .graphql_as(None, &format!("{{ {} }}", document.join("\n")), json!({}))
            .await;
        for field in fields {
            assert_eq!(
                reply.data()[alias(field)],
                alone[&alias(field)],
                "{} beside the others (order {order:?})",
                alias(field)
            );
        }
    }
}
on_both_backends!(a_field_answers_the_same_alone_and_beside_fields_sharing_its_statement);
