//! The indicator engine's reads: one aggregate statement per source touched,
//! grouped in SQL by period bucket and the requested dimensions. Nothing here
//! sums fact rows in Rust: the rows read are already one per bucket and group.
//!
//! Client and loan figures are read from a pre-aggregated rollup when the
//! request allows it (see `crate::rollup`): the regional rollup when neither
//! the grouping nor the filter names associations, the association rollup when
//! neither names regions.

use super::catalog::{Agg, Dim, Kind, Source};
use crate::error::ApiResult;
use crate::period::{Granularity, Month, Period};
use crate::scope::{RowAccess, Scope, rows_condition};
use entity::enums::{Area, Gender, Segment};
use sea_orm::{ConnectionTrait, QueryResult, Statement};
use std::collections::{BTreeSet, HashMap};

/// Conditions on the cube's dimensions, with codes already turned into ids.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct CubeFilter {
    pub associations: Option<Vec<i32>>,
    pub regions: Option<Vec<i32>>,
    pub segments: Option<Vec<Segment>>,
    pub genders: Option<Vec<Gender>>,
    pub areas: Option<Vec<Area>>,
}

impl CubeFilter {
    /// The dimensions this filter restricts.
    pub fn dims(&self) -> Vec<Dim> {
        let mut dims = Vec::new();
        if self.associations.is_some() {
            dims.push(Dim::Association);
        }
        if self.regions.is_some() {
            dims.push(Dim::Region);
        }
        if self.segments.is_some() {
            dims.push(Dim::Segment);
        }
        if self.genders.is_some() {
            dims.push(Dim::Gender);
        }
        if self.areas.is_some() {
            dims.push(Dim::Area);
        }
        dims
    }

    fn sql(&self, dims: &[Dim]) -> Vec<String> {
        let ints = |v: &Vec<i32>| v.iter().map(i32::to_string).collect::<Vec<_>>().join(", ");
        let texts = |v: Vec<&str>| v.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", ");
        let mut conditions = Vec::new();
        let mut add = |dim: Dim, condition: String| {
            if dims.contains(&dim) {
                conditions.push(condition);
            }
        };
        if let Some(v) = &self.associations {
            add(Dim::Association, format!("association_id IN ({})", or_none(ints(v))));
        }
        if let Some(v) = &self.regions {
            add(Dim::Region, format!("region_id IN ({})", or_none(ints(v))));
        }
        if let Some(v) = &self.segments {
            add(
                Dim::Segment,
                format!(
                    "segment IN ({})",
                    or_none(texts(v.iter().map(|s| s.as_str()).collect()))
                ),
            );
        }
        if let Some(v) = &self.genders {
            add(
                Dim::Gender,
                format!("gender IN ({})", or_none(texts(v.iter().map(|s| s.as_str()).collect()))),
            );
        }
        if let Some(v) = &self.areas {
            add(
                Dim::Area,
                format!("area IN ({})", or_none(texts(v.iter().map(|s| s.as_str()).collect()))),
            );
        }
        conditions
    }
}

/// An empty IN list matches nothing.
fn or_none(list: String) -> String {
    if list.is_empty() { "NULL".into() } else { list }
}

/// What to compute.
#[derive(Debug, Clone)]
pub struct CubeRequest {
    pub granularity: Granularity,
    /// Every period to compute (those asked for and those compared with).
    pub periods: BTreeSet<Period>,
    pub group_by: Vec<Dim>,
    pub filter: CubeFilter,
    pub aggs: BTreeSet<Agg>,
    /// Read client and loan figures from the rollups when the request allows it.
    pub use_rollups: bool,
    /// Which monthly rows may be summed (released months, one association, everything).
    pub access: RowAccess,
    /// Count the associations behind each group, so that small groups can be suppressed.
    pub count_contributors: bool,
}

/// Associations behind a group: at the period's last month (for stocks) and in any of its months (for flows).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Contributors {
    pub at_end: i64,
    pub any: i64,
}

/// The values of one group: the dimensions it is grouped by, others `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupKey {
    pub association: Option<i32>,
    pub region: Option<i32>,
    pub segment: Option<Segment>,
    pub gender: Option<Gender>,
    pub area: Option<Area>,
}

/// Summed quantities per period and group.
#[derive(Debug, Default, PartialEq)]
pub struct Cube {
    pub cells: HashMap<(Period, GroupKey), HashMap<Agg, i64>>,
    /// Associations behind each group and source, when counted.
    pub contributors: HashMap<(Period, GroupKey, Source), Contributors>,
}

impl Cube {
    pub fn get(&self, period: Period, key: &GroupKey, agg: Agg) -> Option<i64> {
        self.cells
            .get(&(period, *key))
            .and_then(|values| values.get(&agg))
            .copied()
    }

    fn put(&mut self, period: Period, key: GroupKey, agg: Agg, value: Option<i64>) {
        if let Some(value) = value {
            self.cells.entry((period, key)).or_default().insert(agg, value);
        }
    }

    /// Groups with at least one value in the period, in a stable order.
    pub fn groups(&self, period: Period) -> Vec<GroupKey> {
        let mut keys: Vec<GroupKey> = self
            .cells
            .iter()
            .filter(|((p, _), values)| {
                *p == period && values.iter().any(|(agg, v)| agg.source() != Source::Branches || *v > 0)
            })
            .map(|((_, key), _)| *key)
            .collect();
        keys.sort();
        keys
    }
}

fn dim_column(dim: Dim) -> &'static str {
    match dim {
        Dim::Association => "association_id",
        Dim::Region => "region_id",
        Dim::Segment => "segment",
        Dim::Gender => "gender",
        Dim::Area => "area",
    }
}

/// The table a monthly source is read from for this request.
pub fn table_for(source: Source, request: &CubeRequest) -> &'static str {
    let names_associations = request.group_by.contains(&Dim::Association) || request.filter.associations.is_some();
    let names_regions = request.group_by.contains(&Dim::Region) || request.filter.regions.is_some();
    match source {
        Source::Clients | Source::Loans => {
            let facts = if source == Source::Clients {
                "client_stat"
            } else {
                "loan_stat"
            };
            let names_cells = request
                .group_by
                .iter()
                .any(|d| matches!(d, Dim::Segment | Dim::Gender | Dim::Area))
                || request.filter.segments.is_some()
                || request.filter.genders.is_some()
                || request.filter.areas.is_some();
            match (request.use_rollups, names_associations, names_regions, names_cells) {
                (true, false, _, _) => crate::rollup::by_region(facts),
                (true, true, false, false) => crate::rollup::association_total(facts),
                (true, true, false, true) => crate::rollup::by_association(facts),
                _ => facts,
            }
        }
        Source::Staff => "staff_stat",
        Source::Targets => "target",
        Source::Branches => "branch",
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

/// The aggregate statement of one monthly source.
pub fn monthly_sql(source: Source, aggs: &[Agg], request: &CubeRequest) -> String {
    let bucket = bucket_sql(request.granularity);
    let last = request.granularity.months() - 1;
    let dims: Vec<&str> = request.group_by.iter().map(|d| dim_column(*d)).collect();
    let mut select = vec![format!("CAST({bucket} AS BIGINT) AS bucket")];
    select.extend(dims.iter().map(|d| d.to_string()));
    let table = table_for(source, request);
    for agg in aggs {
        let (column, condition) = match agg {
            // The association totals keep women and rural clients in columns of their own.
            Agg::ActiveFemale if crate::rollup::is_total(table) => ("active_female", None),
            Agg::ActiveRural if crate::rollup::is_total(table) => ("active_rural", None),
            other => other.column_and_condition(),
        };
        let mut when: Vec<String> = condition.map(str::to_owned).into_iter().collect();
        if agg.kind() == Kind::Stock {
            when.push(format!("period = {bucket} + {last}"));
        }
        let summed = if when.is_empty() {
            column.to_owned()
        } else {
            format!("CASE WHEN {} THEN {column} END", when.join(" AND "))
        };
        select.push(format!("CAST(SUM({summed}) AS BIGINT) AS {}", agg.alias()));
    }
    if request.count_contributors {
        if crate::rollup::is_regional(table) {
            // A regional rollup cell knows how many associations it sums; summed over cells, the largest of
            // these counts is a lower bound of the group's distinct associations (so suppression errs on the safe side).
            select.push(format!(
                "CAST(MAX(CASE WHEN period = {bucket} + {last} THEN contributors END) AS BIGINT) AS contributors_end"
            ));
            select.push("CAST(MAX(contributors) AS BIGINT) AS contributors_any".into());
        } else {
            select.push(format!(
                "CAST(COUNT(DISTINCT CASE WHEN period = {bucket} + {last} THEN association_id END) AS BIGINT) AS contributors_end"
            ));
            select.push("CAST(COUNT(DISTINCT association_id) AS BIGINT) AS contributors_any".into());
        }
    }
    let months: BTreeSet<i32> = request
        .periods
        .iter()
        .flat_map(|p| (0..p.granularity.months()).map(move |i| p.first_month().shift(i).0))
        .collect();
    let mut conditions = vec![format!(
        "period IN ({})",
        months.iter().map(i32::to_string).collect::<Vec<_>>().join(", ")
    )];
    conditions.extend(request.filter.sql(source.dims()));
    conditions.extend(rows_condition(request.access));
    let group: Vec<String> = (1..=dims.len() + 1).map(|i| i.to_string()).collect();
    format!(
        "SELECT {} FROM {table} WHERE {} GROUP BY {}",
        select.join(", "),
        conditions.join(" AND "),
        group.join(", ")
    )
}

/// The aggregate statement of the branch registry: branches open on the last
/// day of each period, one column per period and kind.
fn branch_sql(aggs: &[Agg], request: &CubeRequest) -> String {
    let dims: Vec<&str> = request.group_by.iter().map(|d| dim_column(*d)).collect();
    let mut select: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
    for (i, period) in request.periods.iter().enumerate() {
        let day = period.last_month().last_day().format("%Y-%m-%d");
        for agg in aggs {
            let kind = if *agg == Agg::MobileBranches {
                "MOBILE"
            } else {
                "AGENCY"
            };
            select.push(format!(
                "CAST(SUM(CASE WHEN kind = '{kind}' AND opened_on <= '{day}' AND (closed_on IS NULL OR closed_on > '{day}') \
                 THEN 1 ELSE 0 END) AS BIGINT) AS {}_{i}",
                agg.alias()
            ));
        }
    }
    let conditions = request.filter.sql(Source::Branches.dims());
    let mut sql = format!("SELECT {} FROM branch", select.join(", "));
    if !conditions.is_empty() {
        sql.push_str(&format!(" WHERE {}", conditions.join(" AND ")));
    }
    if !dims.is_empty() {
        sql.push_str(&format!(" GROUP BY {}", dims.join(", ")));
    }
    sql
}

fn parse_enum<T: Copy>(all: &[T], text: fn(T) -> &'static str, value: &str) -> Option<T> {
    all.iter().copied().find(|v| text(*v) == value)
}

fn group_key(row: &QueryResult, group_by: &[Dim]) -> ApiResult<GroupKey> {
    let mut key = GroupKey::default();
    for dim in group_by {
        match dim {
            Dim::Association => key.association = Some(row.try_get("", "association_id")?),
            Dim::Region => key.region = Some(row.try_get("", "region_id")?),
            Dim::Segment => {
                key.segment = parse_enum(Segment::ALL, Segment::as_str, &row.try_get::<String>("", "segment")?)
            }
            Dim::Gender => key.gender = parse_enum(Gender::ALL, Gender::as_str, &row.try_get::<String>("", "gender")?),
            Dim::Area => key.area = parse_enum(Area::ALL, Area::as_str, &row.try_get::<String>("", "area")?),
        }
    }
    Ok(key)
}

/// Runs one statement per source touched and gathers the sums.
pub async fn compute<C: ConnectionTrait>(db: &C, _scope: &Scope, request: &CubeRequest) -> ApiResult<Cube> {
    let mut cube = Cube::default();
    let mut by_source: HashMap<Source, Vec<Agg>> = HashMap::new();
    for agg in &request.aggs {
        by_source.entry(agg.source()).or_default().push(*agg);
    }
    let mut sources: Vec<_> = by_source.into_iter().collect();
    sources.sort();
    let backend = db.get_database_backend();
    let statements: Vec<(Source, Vec<Agg>, String)> = sources
        .into_iter()
        .map(|(source, aggs)| {
            let sql = if source == Source::Branches {
                branch_sql(&aggs, request)
            } else {
                monthly_sql(source, &aggs, request)
            };
            (source, aggs, sql)
        })
        .collect();
    // The sources are read concurrently (each on its own pooled connection); each is one statement.
    let results = futures_util::future::try_join_all(
        statements
            .iter()
            .map(|(_, _, sql)| db.query_all_raw(Statement::from_string(backend, sql.clone()))),
    )
    .await?;
    for ((source, aggs, _), rows) in statements.iter().zip(results) {
        for row in rows {
            let key = group_key(&row, &request.group_by)?;
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
            }
            if request.count_contributors {
                let at_end: Option<i64> = row.try_get("", "contributors_end")?;
                let any: Option<i64> = row.try_get("", "contributors_any")?;
                let contributors = Contributors {
                    at_end: at_end.unwrap_or(0),
                    any: any.unwrap_or(0),
                };
                cube.contributors.insert((period, key, *source), contributors);
            }
        }
    }
    Ok(cube)
}
