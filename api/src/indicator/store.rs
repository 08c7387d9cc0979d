//! The indicator engine's reads: one aggregate statement per source touched,
//! grouped in SQL by period bucket and the requested dimensions. Nothing here
//! sums fact rows in Rust: the rows read are already one per bucket and group.
//!
//! Client and loan figures are read from a pre-aggregated rollup when the
//! request allows it (see `crate::rollup`): the regional rollup when neither
//! the grouping nor the filter names associations, the association rollup when
//! neither names regions.

use super::catalog::{Agg, Dim, Kind, Source};
use super::cube::{Contributors, Cube, CubeRequest, GroupKey, levels};
use super::hiding::{Decisions, Finest, derive_lattice};
use crate::error::ApiResult;
use crate::period::{Granularity, Month, Period};
use crate::rollup::{self, Level};
use crate::scope::RowAccess;
use crate::sql::Binder;
use entity::enums::{Activity, Area, Gender, Segment};
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement};
use std::collections::HashMap;
use std::sync::Arc;

fn dim_column(dim: Dim) -> &'static str {
    match dim {
        Dim::Association => "association_id",
        Dim::Region => "region_id",
        Dim::Segment => "segment",
        Dim::Gender => "gender",
        Dim::Area => "area",
        Dim::Activity => "activity",
    }
}

/// The table a monthly source is read from for this request.
pub fn table_for(source: Source, request: &CubeRequest) -> &'static str {
    let names_associations = request.group_by.contains(&Dim::Association) || request.filter.associations.is_some();
    let names_regions = request.lattice_dims(source).contains(&Dim::Region) || request.filter.regions.is_some();
    match source.facts() {
        Some(facts) if facts.rollups.is_some() => {
            let names_cells = request
                .lattice_dims(source)
                .iter()
                .any(|d| matches!(d, Dim::Segment | Dim::Gender | Dim::Area))
                || request.filter.segments.is_some()
                || request.filter.genders.is_some()
                || request.filter.areas.is_some();
            // The regional rollup has summed the associations away: contributors cannot be counted from it.
            let counted = request.small_groups.is_some();
            let level = match (
                request.use_rollups && request.derived.as_ref().is_none_or(|d| d.tables.is_empty()),
                names_associations || counted,
                names_regions,
                names_cells,
            ) {
                (true, false, _, _) => Some(Level::Region),
                (true, true, false, false) => Some(Level::AssociationTotal),
                (true, true, false, true) => Some(Level::Association),
                _ => None,
            };
            level
                .and_then(|level| rollup::table(facts, level))
                .unwrap_or(facts.table)
        }
        Some(facts) => facts.table,
        None if source == Source::Targets => "target",
        None => "branch",
    }
}

/// SQL of the first month of a period bucket containing `period` (a `yyyymm` column).
fn bucket_sql(granularity: Granularity) -> &'static str {
    match granularity {
        Granularity::Month => "period",
        Granularity::Quarter => "((period / 100) * 100 + ((period % 100 - 1) / 3) * 3 + 1)",
        Granularity::Year => "((period / 100) * 100 + 1)",
    }
}

/// SQL condition holding a `yyyymm` column to the last month of its period bucket, where stocks are read (`None`:
/// every month is the last of its own).
fn bucket_end_sql(granularity: Granularity) -> Option<&'static str> {
    match granularity {
        Granularity::Month => None,
        Granularity::Quarter => Some("(period % 100) % 3 = 0"),
        Granularity::Year => Some("period % 100 = 12"),
    }
}

/// Column of the contributors of an aggregate (`others`: those other than the caller's association).
fn contributors_alias(agg: Agg, others: bool) -> String {
    format!("{}_{}", if others { "others" } else { "contributors" }, agg.alias())
}

/// The aggregate statement of one monthly source, its values bound.
pub fn monthly_sql(backend: DbBackend, source: Source, aggs: &[Agg], request: &CubeRequest) -> Statement {
    match monthly_statement(backend, source, aggs, request) {
        Monthly::Plain(statement) => statement,
        Monthly::Finest(base) => lattice_sql(base, source, aggs, request),
    }
}

/// A monthly source's statement: the sums by the grouping asked for, or, for a caller whose small groups are hidden,
/// the sums per association at the finest grouping (from which every coarser grouping and its contributors follow).
pub enum Monthly {
    Plain(Statement),
    Finest(Statement),
}

/// Bucket, the grouping's dimensions (for the finest sums: association and the lattice's dimensions) and the sums of
/// `aggs`, with every other aggregate of the source of the same kind (stock or flow): a few more sums cost little
/// beside reading the rows, and the statement's text then depends only on the request's shape (source, table,
/// grouping, filtered dimensions, granularity, access, kinds), never on its values or exact measures, so that the
/// database prepares it once per connection and every request of that shape reuses it.
pub fn monthly_statement(backend: DbBackend, source: Source, aggs: &[Agg], request: &CubeRequest) -> Monthly {
    let mut b = Binder::new(backend);
    let bucket = bucket_sql(request.granularity);
    let end = bucket_end_sql(request.granularity);
    let table = table_for(source, request);
    let shares = match (rollup::level_of(table), source.facts().and_then(|f| f.rollups.as_ref())) {
        (Some(Level::AssociationTotal), Some(rollups)) => rollups.shares,
        _ => &[],
    };
    // The table read, first in the text and in binding order.
    let from = match request.derived.as_ref().and_then(|d| d.tables.get(table)) {
        Some(statement) => format!("({}) AS {table}", b.splice(statement)),
        None => table.to_owned(),
    };
    let select: Vec<String> = statement_aggs(source, aggs)
        .iter()
        .map(|agg| {
            // The association totals keep women and rural clients in columns of their own.
            let (column, condition) = match shares.iter().find(|share| share.column == agg.alias()) {
                Some(share) => (share.column, None),
                None => agg.column_and_condition(),
            };
            let mut when: Vec<&str> = condition.into_iter().collect();
            if agg.kind() == Kind::Stock {
                when.extend(end);
            }
            let summed = if when.is_empty() {
                column.to_owned()
            } else {
                format!("CASE WHEN {} THEN {column} END", when.join(" AND "))
            };
            format!("CAST(SUM({summed}) AS BIGINT) AS {}", agg.alias())
        })
        .collect();
    // Stocks are read at the last month of each period: when only stocks are asked for, only those months are read
    // (a third of the rows by quarter, a twelfth by year).
    let stocks_only = aggs.iter().all(|agg| agg.kind() == Kind::Stock);
    let months = request.periods.iter().flat_map(|p| {
        let n = p.granularity.months();
        let from = if stocks_only { n - 1 } else { 0 };
        (from..n).map(move |i| p.first_month().shift(i).0)
    });
    let mut conditions = vec![b.months("period", months)];
    conditions.extend(request.filter.sql(source.dims(), &mut b));
    conditions.extend(rows_condition(
        &mut b,
        request.access,
        request.derived.as_ref().and_then(|d| d.released.as_deref()),
    ));
    if source == Source::Targets {
        conditions.push(target_level_sql(&target_level(request), None));
    }
    let (dims, finest) = match request.small_groups {
        None => (request.group_by.clone(), false),
        // For a caller who must not see small groups: the sums per association at the finest grouping (one scan of
        // the table), from which every grouping by a subset of the source's dimensions follows, each with the
        // associations contributing a non-zero amount (values are never negative, so an association contributes a
        // non-zero amount to a group exactly when one of its finest sums is).
        Some(_) => {
            let mut dims = vec![Dim::Association];
            dims.extend(request.lattice_dims(source));
            (dims, true)
        }
    };
    let text = format!(
        "SELECT CAST({bucket} AS BIGINT) AS bucket, {}{} FROM {from} WHERE {} GROUP BY {}",
        dims.iter().map(|d| format!("{}, ", dim_column(*d))).collect::<String>(),
        select.join(", "),
        conditions.join(" AND "),
        (1..=dims.len() + 1)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let statement = b.statement(text);
    if finest {
        Monthly::Finest(statement)
    } else {
        Monthly::Plain(statement)
    }
}

/// The breakdown of the targets a request reads: the region, the activity, both or neither, as it groups (or, for
/// callers whose small groups are hidden, as its lattice does) or filters.
pub fn target_level(request: &CubeRequest) -> Vec<Dim> {
    let mut dims = request.lattice_dims(Source::Targets);
    dims.extend(request.filter.dims());
    [Dim::Region, Dim::Activity]
        .into_iter()
        .filter(|d| dims.contains(d))
        .collect()
}

/// The condition holding target rows (of table alias `t`, or unqualified) to a level.
fn target_level_sql(level: &[Dim], alias: Option<&str>) -> String {
    let column = |name: &str| alias.map_or(name.to_owned(), |t| format!("{t}.{name}"));
    [(Dim::Region, "region_id"), (Dim::Activity, "activity")]
        .iter()
        .map(|(dim, name)| {
            if level.contains(dim) {
                format!("{} IS NOT NULL", column(name))
            } else {
                format!("{} IS NULL", column(name))
            }
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// Per period and group of the request's grouping: the associations with client or loan figures (loans by activity
/// for activity targets) (`expected`; at the period's
/// last month for a stock's target), and for each target asked for, those of them with a target for the group in a
/// month of their figures (`covered_` and the target's alias). A group's target is the sum of its associations'
/// targets, shown only when every association with figures in it set one. One statement for every target.
pub fn target_coverage_sql(backend: DbBackend, targets: &[Agg], request: &CubeRequest) -> Statement {
    let mut b = Binder::new(backend);
    let level = target_level(request);
    let tables: &[&crate::facts::Facts] = if level.contains(&Dim::Activity) {
        &[&crate::facts::ACTIVITIES]
    } else {
        &[&crate::facts::LOANS, &crate::facts::CLIENTS]
    };
    let dims = coverage_dims(request);
    let mut keys = vec!["association_id", "period"];
    keys.extend(level.iter().map(|d| dim_column(*d)));
    keys.extend(dims.iter().map(|d| dim_column(*d)));
    keys.sort();
    keys.dedup();
    let months = request.periods.iter().flat_map(|p| {
        let n = p.granularity.months();
        (0..n).map(move |i| p.first_month().shift(i).0)
    });
    let months: Vec<i32> = months.collect();
    let source = if level.contains(&Dim::Activity) {
        Source::Activities
    } else {
        Source::Loans
    };
    // The association-months with figures, from each table (bound in the text's order).
    let figures: Vec<String> = tables
        .iter()
        .map(|facts| {
            let table = facts.table;
            let from = match request.derived.as_ref().and_then(|d| d.tables.get(table)) {
                Some(statement) => format!("({}) AS {table}", b.splice(statement)),
                None => table.to_owned(),
            };
            let mut conditions = vec![b.months("period", months.iter().copied())];
            conditions.extend(request.filter.sql(source.dims(), &mut b));
            conditions.extend(rows_condition(
                &mut b,
                request.access,
                request.derived.as_ref().and_then(|d| d.released.as_deref()),
            ));
            format!(
                "SELECT DISTINCT {} FROM {from} WHERE {}",
                keys.join(", "),
                conditions.join(" AND ")
            )
        })
        .collect();
    let end = bucket_end_sql(request.granularity);
    let when = |stock: bool, condition: &str| match (stock, end) {
        (true, Some(end)) => format!("{end} AND {condition}"),
        _ => condition.to_owned(),
    };
    let mut counts = vec![
        "CAST(COUNT(DISTINCT association_id) AS BIGINT) AS expected".to_owned(),
        format!(
            "CAST(COUNT(DISTINCT CASE WHEN {} THEN association_id END) AS BIGINT) AS expected_stock",
            when(true, "1 = 1")
        ),
    ];
    for target in targets {
        let (_, measure) = target.column_and_condition();
        let mut matches = vec![
            "t.association_id = f.association_id".to_owned(),
            "t.period = f.period".to_owned(),
            format!("t.{}", measure.expect("a target names its measure")),
            target_level_sql(&level, Some("t")),
        ];
        matches.extend(level.iter().map(|d| format!("t.{0} = f.{0}", dim_column(*d))));
        let exists = format!("EXISTS (SELECT 1 FROM target t WHERE {})", matches.join(" AND "));
        counts.push(format!(
            "CAST(COUNT(DISTINCT CASE WHEN {} THEN association_id END) AS BIGINT) AS covered_{}",
            when(target.kind() == Kind::Stock, &exists),
            target.alias()
        ));
    }
    let text = format!(
        "SELECT CAST({} AS BIGINT) AS bucket, {}{} FROM ({}) f GROUP BY {}",
        bucket_sql(request.granularity),
        dims.iter().map(|d| format!("{}, ", dim_column(*d))).collect::<String>(),
        counts.join(", "),
        figures.join(" UNION "),
        (1..=dims.len() + 1)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    b.statement(text)
}

/// The dimensions target coverage is counted by: those of the request's grouping that targets have.
fn coverage_dims(request: &CubeRequest) -> Vec<Dim> {
    request
        .group_by
        .iter()
        .copied()
        .filter(|d| Source::Targets.dims().contains(d))
        .collect()
}

/// Who set a target and who has figures, per target, period and group (see [`target_coverage_sql`]): (covered,
/// expected).
pub type TargetCoverage = HashMap<Agg, HashMap<(Period, GroupKey), (i64, i64)>>;

/// The target coverage of every period and group of the request's grouping, for the targets asked for.
pub async fn target_coverage<C: ConnectionTrait>(
    db: &C,
    targets: &[Agg],
    request: &CubeRequest,
    reads: &Reads,
) -> ApiResult<TargetCoverage> {
    // Every target asked for has an entry: a group without figures has no association to wait for.
    let mut coverage: TargetCoverage = targets.iter().map(|t| (*t, HashMap::new())).collect();
    if targets.is_empty() {
        return Ok(coverage);
    }
    let statement = target_coverage_sql(db.get_database_backend(), targets, request);
    let rows = reads.rows(db, statement).await?;
    let dims = coverage_dims(request);
    for row in rows.iter() {
        let bucket: i64 = row.try_get("", "bucket")?;
        let period = Period::containing(request.granularity, Month(bucket as i32));
        let key = group_key(row, &dims)?;
        for target in targets {
            let expected: i64 = row.try_get(
                "",
                if target.kind() == Kind::Stock {
                    "expected_stock"
                } else {
                    "expected"
                },
            )?;
            let covered: i64 = row.try_get("", &format!("covered_{}", target.alias()))?;
            coverage
                .entry(*target)
                .or_default()
                .insert((period, key), (covered, expected));
        }
    }
    Ok(coverage)
}

/// The aggregates a source's statement sums when `aggs` are asked for: every one of the source of the same kinds
/// (see [`monthly_statement`]).
fn statement_aggs(source: Source, aggs: &[Agg]) -> Vec<Agg> {
    Agg::ALL
        .into_iter()
        .filter(|agg| agg.source() == source && aggs.iter().any(|asked| asked.kind() == agg.kind()))
        .collect()
}

/// The condition on the rows a caller may sum (see [`RowAccess`]), values bound; `released_then`: the months released
/// at an earlier instant the data is read as of.
fn rows_condition(b: &mut Binder, access: RowAccess, released_then: Option<&[i32]>) -> Option<String> {
    match access {
        RowAccess::All => None,
        RowAccess::Released => Some(match released_then {
            None => "period IN (SELECT period FROM release)".into(),
            Some(months) => b.months("period", months.iter().copied()),
        }),
        RowAccess::OwnOnly(own) => Some(format!("association_id = {}", b.bind(own))),
        RowAccess::None => Some("1 = 0".into()),
    }
}

/// Every grouping by a subset of the lattice's dimensions over the finest sums `base`, each with its contributors, in
/// SQL: for a finest statement too large to be read whole (see [`MAX_FINEST_ROWS`]).
fn lattice_sql(mut base: Statement, source: Source, aggs: &[Agg], request: &CubeRequest) -> Statement {
    let lattice = request.lattice_dims(source);
    let small_groups = request.small_groups.unwrap_or(crate::scope::SmallGroups {
        known_association: None,
    });
    let mut measures = Vec::new();
    for agg in aggs {
        let a = agg.alias();
        measures.push(format!("CAST(SUM({a}) AS BIGINT) AS {a}"));
        measures.push(format!(
            "CAST(COUNT(DISTINCT CASE WHEN {a} > 0 THEN association_id END) AS BIGINT) AS {}",
            contributors_alias(*agg, false)
        ));
        if let Some(known) = small_groups.known_association {
            // An integer of the caller's own key, never of the request's text.
            measures.push(format!(
                "CAST(COUNT(DISTINCT CASE WHEN {a} > 0 AND association_id <> {known} THEN association_id END) AS BIGINT) AS {}",
                contributors_alias(*agg, true)
            ));
        }
    }
    let parts: Vec<String> = levels(&lattice)
        .iter()
        .map(|level| {
            let mut select = vec!["bucket".to_owned()];
            let mut group = vec!["bucket"];
            for dim in &lattice {
                let column = dim_column(*dim);
                if level.contains(dim) {
                    select.push(column.to_owned());
                    group.push(column);
                } else {
                    select.push(format!("{} AS {column}", null_of(*dim)));
                }
            }
            select.extend(measures.iter().cloned());
            format!("SELECT {} FROM base GROUP BY {}", select.join(", "), group.join(", "))
        })
        .collect();
    base.sql = format!("WITH base AS MATERIALIZED ({}) {}", base.sql, parts.join(" UNION ALL "));
    base
}

/// A typed null standing for a dimension a coarser grouping does not have.
fn null_of(dim: Dim) -> &'static str {
    match dim {
        Dim::Association | Dim::Region => "CAST(NULL AS INTEGER)",
        Dim::Segment | Dim::Gender | Dim::Area | Dim::Activity => "CAST(NULL AS VARCHAR(32))",
    }
}

/// The aggregate statement of the branch registry: branches open on the last
/// day of each period, one column per period and kind.
fn branch_sql(backend: DbBackend, aggs: &[Agg], request: &CubeRequest) -> Statement {
    let mut b = Binder::new(backend);
    let dims: Vec<&str> = request.group_by.iter().map(|d| dim_column(*d)).collect();
    let mut select: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
    for (i, period) in request.periods.iter().enumerate() {
        let day = b.bind(period.last_month().last_day());
        for agg in aggs {
            let kind = if *agg == Agg::MobileBranches {
                "MOBILE"
            } else {
                "AGENCY"
            };
            select.push(format!(
                "CAST(SUM(CASE WHEN kind = '{kind}' AND opened_on <= {day} AND (closed_on IS NULL OR closed_on > {day}) \
                 THEN 1 ELSE 0 END) AS BIGINT) AS {}_{i}",
                agg.alias()
            ));
        }
    }
    let conditions = request.filter.sql(Source::Branches.dims(), &mut b);
    let mut sql = format!("SELECT {} FROM branch", select.join(", "));
    if !conditions.is_empty() {
        sql.push_str(&format!(" WHERE {}", conditions.join(" AND ")));
    }
    if !dims.is_empty() {
        sql.push_str(&format!(" GROUP BY {}", dims.join(", ")));
    }
    b.statement(sql)
}

fn parse_enum<T: Copy>(all: &[T], text: fn(T) -> &'static str, value: &str) -> Option<T> {
    all.iter().copied().find(|v| text(*v) == value)
}

fn group_key(row: &QueryResult, group_by: &[Dim]) -> ApiResult<GroupKey> {
    let mut key = GroupKey::default();
    // A dimension is null in the rows of a coarser grouping.
    let text = |column: &str| row.try_get::<Option<String>>("", column);
    for dim in group_by {
        match dim {
            Dim::Association => key.association = row.try_get("", "association_id")?,
            Dim::Region => key.region = row.try_get("", "region_id")?,
            Dim::Segment => key.segment = text("segment")?.and_then(|v| parse_enum(Segment::ALL, Segment::as_str, &v)),
            Dim::Gender => key.gender = text("gender")?.and_then(|v| parse_enum(Gender::ALL, Gender::as_str, &v)),
            Dim::Area => key.area = text("area")?.and_then(|v| parse_enum(Area::ALL, Area::as_str, &v)),
            Dim::Activity => {
                key.activity = text("activity")?.and_then(|v| parse_enum(Activity::ALL, Activity::as_str, &v))
            }
        }
    }
    Ok(key)
}

/// Most rows of a source's finest sums per association read to derive its groupings in memory (beyond, SQL derives
/// them): 24 months of a national sector of 13 associations in every cell are about 45,000.
pub const MAX_FINEST_ROWS: usize = 100_000;

/// The finest sums per association of a source's rows (see [`Monthly::Finest`]), for `hiding::derive_lattice`.
fn finest_rows(request: &CubeRequest, source: Source, aggs: &[Agg], rows: &[QueryResult]) -> ApiResult<Vec<Finest>> {
    let lattice = request.lattice_dims(source);
    rows.iter()
        .map(|row| {
            Ok(Finest {
                bucket: row.try_get("", "bucket")?,
                association: row.try_get("", "association_id")?,
                key: group_key(row, &lattice)?,
                values: aggs
                    .iter()
                    .map(|agg| row.try_get::<Option<i64>>("", agg.alias()))
                    .collect::<Result<_, _>>()?,
            })
        })
        .collect()
}

/// The aggregate reads of one request (every `indicators` field of a document): at most `places` statements run at
/// once, whatever the number of fields, so that one document never waits on the pool for connections its own other
/// fields hold; and a statement two fields ask for in the same words (an SDMX document's groupings read the same
/// finest sums) is run once, its rows shared.
#[derive(Clone)]
pub struct Reads {
    places: Arc<tokio::sync::Semaphore>,
    done: Memo<Arc<Vec<QueryResult>>>,
    /// Every grouping derived from a finest statement's rows (`None`: left to SQL).
    lattices: Memo<Option<Arc<Cube>>>,
    /// What hiding decided for an aggregate in a period of such a derived lattice, on every grouping.
    pub decisions: Decisions,
}

/// Values worked out once per request, by the words of the statement they come from.
type Memo<T> = Arc<std::sync::Mutex<HashMap<String, Arc<tokio::sync::OnceCell<T>>>>>;

/// The cell of `key` in a memo, made empty when missing.
fn cell<T>(memo: &Memo<T>, key: &str) -> Arc<tokio::sync::OnceCell<T>> {
    let mut memo = memo.lock().expect("never poisoned: no code panics while holding it");
    match memo.get(key) {
        Some(cell) => cell.clone(),
        None => memo.entry(key.to_owned()).or_default().clone(),
    }
}

impl Reads {
    /// Reads with `places` statements at once (at least one).
    pub fn new(places: usize) -> Reads {
        Reads {
            places: Arc::new(tokio::sync::Semaphore::new(places.max(1))),
            done: Arc::default(),
            lattices: Arc::default(),
            decisions: Decisions::default(),
        }
    }

    /// Every grouping `derive` works out from a finest statement's rows for the aggregates `aggs`: once per request
    /// and set of aggregates (the rows are read once whatever the aggregates).
    async fn lattice<C: ConnectionTrait>(
        &self,
        db: &C,
        statement: Statement,
        aggs: &[Agg],
        derive: impl FnOnce(&[QueryResult]) -> ApiResult<Option<Cube>>,
    ) -> ApiResult<Option<Arc<Cube>>> {
        let cell = cell(&self.lattices, &format!("{} {aggs:?}", crate::sql::key(&statement)));
        cell.get_or_try_init(|| async {
            let rows = self.rows(db, statement).await?;
            Ok::<_, crate::error::ApiError>(derive(&rows)?.map(Arc::new))
        })
        .await
        .cloned()
    }

    /// The rows of a statement: read once per request, in one of its places.
    pub async fn rows<C: ConnectionTrait>(&self, db: &C, statement: Statement) -> ApiResult<Arc<Vec<QueryResult>>> {
        let cell = cell(&self.done, &crate::sql::key(&statement));
        let rows = cell
            .get_or_try_init(|| async {
                let _place = self.place().await;
                let rows = db.query_all_raw(statement).await?;
                Ok::<_, crate::error::ApiError>(Arc::new(rows))
            })
            .await?;
        Ok(rows.clone())
    }

    /// A place for one statement of the request's own (held while it runs).
    pub async fn place(&self) -> tokio::sync::SemaphorePermit<'_> {
        self.places.acquire().await.expect("the semaphore is never closed")
    }
}

impl std::fmt::Debug for Reads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reads")
            .field("places", &self.places.available_permits())
            .finish_non_exhaustive()
    }
}

impl Default for Reads {
    /// Four statements at once: the most sources one `indicators` field reads.
    fn default() -> Self {
        Reads::new(4)
    }
}

/// Runs one statement per source touched and gathers the sums.
pub async fn compute<C: ConnectionTrait>(db: &C, request: &CubeRequest, reads: &Reads) -> ApiResult<Cube> {
    let mut group_by = request.group_by.clone();
    group_by.sort();
    let mut cube = Cube {
        group_by,
        ..Cube::default()
    };
    let mut by_source: HashMap<Source, Vec<Agg>> = HashMap::new();
    for agg in &request.aggs {
        by_source.entry(agg.source()).or_default().push(*agg);
    }
    let mut sources: Vec<_> = by_source.into_iter().collect();
    sources.sort();
    // For a caller whose small groups are hidden, a source's finest sums per association are read first (bounded):
    // every coarser grouping and its contributors are then derived here, in one pass per grouping, rather than by
    // one sorted aggregation per grouping in SQL. A finest statement over the bound (a large sector) is left to SQL.
    let mut derived_here: Vec<Source> = Vec::new();
    let backend = db.get_database_backend();
    if request.small_groups.is_some() {
        let finest: Vec<(Source, Vec<Agg>, Statement)> = sources
            .iter()
            .filter(|(source, _)| *source != Source::Branches)
            .filter_map(
                |(source, aggs)| match monthly_statement(backend, *source, aggs, request) {
                    Monthly::Finest(statement) => Some((*source, aggs.clone(), statement)),
                    Monthly::Plain(_) => None,
                },
            )
            .collect();
        let known = request.small_groups.and_then(|s| s.known_association);
        let derived = futures_util::future::try_join_all(finest.iter().map(|(source, aggs, statement)| {
            let mut bounded = statement.clone();
            bounded.sql = format!("{} LIMIT {}", bounded.sql, MAX_FINEST_ROWS + 1);
            reads.lattice(db, bounded, aggs, move |rows| {
                let mut derived = Cube::default();
                let lattice = request.lattice_dims(*source);
                Ok((rows.len() <= MAX_FINEST_ROWS
                    && derive_lattice(
                        &mut derived,
                        request.granularity,
                        &lattice,
                        aggs,
                        known,
                        &finest_rows(request, *source, aggs, rows)?,
                    ))
                .then_some(derived))
            })
        }))
        .await?;
        for ((source, _, statement), derived) in finest.iter().zip(derived) {
            if let Some(derived) = derived {
                cube.absorb_grouping(&derived, &cube.group_by.clone());
                cube.lattices.insert(*source, derived);
                cube.origins.insert(*source, crate::sql::key(statement));
                derived_here.push(*source);
            }
        }
    }
    let statements: Vec<(Source, Vec<Agg>, Statement)> = sources
        .into_iter()
        .filter(|(source, _)| !derived_here.contains(source))
        .map(|(source, aggs)| {
            let statement = if source == Source::Branches {
                branch_sql(backend, &aggs, request)
            } else {
                monthly_sql(backend, source, &aggs, request)
            };
            (source, aggs, statement)
        })
        .collect();
    // The sources are read concurrently (each on its own pooled connection); each is one statement.
    let results = futures_util::future::try_join_all(
        statements
            .iter()
            .map(|(_, _, statement)| reads.rows(db, statement.clone())),
    )
    .await?;
    for ((source, aggs, _), rows) in statements.iter().zip(results) {
        for row in rows.iter() {
            let key = group_key(row, &request.lattice_dims(*source))?;
            if *source == Source::Branches {
                for (i, period) in request.periods.iter().enumerate() {
                    for agg in aggs {
                        let value: Option<i64> = row.try_get("", &format!("{}_{i}", agg.alias()))?;
                        cube.put(*period, key, *agg, value);
                    }
                }
                continue;
            }
            let bucket: i64 = row.try_get("", "bucket")?;
            let period = Period::containing(request.granularity, Month(bucket as i32));
            for agg in aggs {
                let value: Option<i64> = row.try_get("", agg.alias())?;
                cube.put(period, key, *agg, value);
                if let Some(small_groups) = request.small_groups {
                    let all: i64 = row.try_get("", &contributors_alias(*agg, false))?;
                    let others: i64 = match small_groups.known_association {
                        Some(_) => row.try_get("", &contributors_alias(*agg, true))?,
                        None => all,
                    };
                    cube.contributors
                        .insert((period, key, *agg), Contributors { all, others });
                }
            }
        }
    }
    Ok(cube)
}
