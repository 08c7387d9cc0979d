//! Figures as they stood: the client, loan and staff rows of an earlier instant, and what changed in a released month
//! after its release.
//!
//! Every accepted report is a *version* of its association-month: the current one's rows are in the fact tables,
//! superseded ones' rows in the revision tables (`*_stat_revision`, with the submission they came from; `0` for rows
//! loaded without a submission). The version standing at an instant is the last accepted revision received by then.
//! A [`Vintage`] lists the association-months whose current version came later, with the version that stood; from it
//! [`facts`] builds the fact table as it stood, as a derived table that the indicator engine and the lists read
//! in place of the fact table. Reading without a vintage reads the fact tables (and rollups) exactly as before.

use crate::error::ApiResult;
use crate::facts::Facts;
use crate::period::Month;
use chrono::{DateTime, Utc};
use entity::enums::SubmissionStatus;
use entity::{release, submission};
use sea_orm::sea_query::{Alias, Cond, Expr, ExprTrait, Query, SelectStatement, UnionType};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;

/// Which rows of an association-month: the fact table's (its current version) or a superseded version's in the
/// revision table (`0`: rows loaded without a submission).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    Current,
    Superseded(i64),
}

/// The data as it stood at an instant.
#[derive(Debug, Clone)]
pub struct Vintage {
    pub at: DateTime<Utc>,
    /// Association-months (association, month) whose current version arrived after `at`, with the version that
    /// stood then.
    pub replaced: BTreeMap<(i32, i32), Version>,
    /// Months released by `at`.
    pub released: Vec<i32>,
}

/// An association-month's accepted versions, oldest first.
struct History {
    versions: Vec<(i64, DateTime<Utc>)>,
    current: i64,
}

impl History {
    /// The version standing at `at`: the last received by then (superseded, or the current one).
    fn at(&self, at: DateTime<Utc>) -> Version {
        match self.versions.iter().rev().find(|(_, received)| *received <= at) {
            Some((id, _)) if *id == self.current => Version::Current,
            Some((id, _)) => Version::Superseded(*id),
            None => Version::Superseded(0),
        }
    }
}

/// Every association-month's accepted versions in a range of months. One statement.
async fn histories<C: ConnectionTrait>(
    db: &C,
    months: Option<&RangeInclusive<Month>>,
) -> ApiResult<BTreeMap<(i32, i32), History>> {
    #[derive(FromQueryResult)]
    struct Row {
        id: i64,
        association_id: i32,
        period: i32,
        status: SubmissionStatus,
        received_at: DateTime<Utc>,
    }
    let mut select = submission::Entity::find()
        .select_only()
        .columns([
            submission::Column::Id,
            submission::Column::AssociationId,
            submission::Column::Period,
            submission::Column::Status,
            submission::Column::ReceivedAt,
        ])
        .filter(submission::Column::Status.is_in([SubmissionStatus::Accepted, SubmissionStatus::Superseded]))
        .order_by_asc(submission::Column::Revision);
    if let Some(months) = months {
        select = select.filter(submission::Column::Period.between(months.start().0, months.end().0));
    }
    let mut histories: BTreeMap<(i32, i32), History> = BTreeMap::new();
    for row in select.into_model::<Row>().all(db).await? {
        let history = histories.entry((row.association_id, row.period)).or_insert(History {
            versions: Vec::new(),
            current: 0,
        });
        history.versions.push((row.id, row.received_at));
        if row.status == SubmissionStatus::Accepted {
            history.current = row.id;
        }
    }
    Ok(histories)
}

/// Months released by `at` (every released month when `None`), with when.
async fn releases<C: ConnectionTrait>(db: &C, at: Option<DateTime<Utc>>) -> ApiResult<BTreeMap<i32, DateTime<Utc>>> {
    let mut select = release::Entity::find();
    if let Some(at) = at {
        select = select.filter(release::Column::ReleasedAt.lte(at));
    }
    Ok(select
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.period, r.released_at))
        .collect())
}

/// The data of `months` (every month when `None`) as it stood at `at`. Two small statements (submissions and releases), whatever the volume
/// of the facts.
pub async fn at<C: ConnectionTrait>(
    db: &C,
    at: DateTime<Utc>,
    months: Option<&RangeInclusive<Month>>,
) -> ApiResult<Vintage> {
    let replaced = histories(db, months)
        .await?
        .into_iter()
        .filter_map(|(key, history)| match history.at(at) {
            Version::Current => None,
            standing => Some((key, standing)),
        })
        .collect();
    Ok(Vintage {
        at,
        replaced,
        released: releases(db, Some(at)).await?.into_keys().collect(),
    })
}

/// The data as released: every month released by `at` (or now) as it stood at its own release, each
/// association-month in the version that stood then (none when it was first reported later). This is what callers
/// whose small groups are hidden read (the public, and associations looking at the sector): for them a month's
/// figures never change after its release, so no two of their answers, at any two instants, differ by one
/// association's report. Two small statements, as [`at`].
pub async fn as_released<C: ConnectionTrait>(
    db: &C,
    at: Option<DateTime<Utc>>,
    months: Option<&RangeInclusive<Month>>,
) -> ApiResult<Vintage> {
    let releases = releases(db, at).await?;
    let replaced = histories(db, months)
        .await?
        .into_iter()
        .filter_map(|(key, history)| {
            let released_at = releases.get(&key.1)?;
            match history.at(*released_at) {
                Version::Current => None,
                standing => Some((key, standing)),
            }
        })
        .collect();
    Ok(Vintage {
        at: at.unwrap_or_else(Utc::now),
        replaced,
        released: releases.into_keys().collect(),
    })
}

/// What changed in released months after their release, up to `at` (or now): association-months whose standing
/// version then differs from the one at release, with (the version at release, the version standing at `at`).
pub async fn changed_after_release<C: ConnectionTrait>(
    db: &C,
    at: Option<DateTime<Utc>>,
    months: &RangeInclusive<Month>,
) -> ApiResult<BTreeMap<(i32, i32), (Version, Version)>> {
    let releases = releases(db, at).await?;
    if !releases.keys().any(|m| months.contains(&Month(*m))) {
        return Ok(BTreeMap::new());
    }
    Ok(histories(db, Some(months))
        .await?
        .into_iter()
        .filter_map(|((association, month), history)| {
            let released_at = releases.get(&month)?;
            let then = history.at(*released_at);
            let now = at.map_or(Version::Current, |at| history.at(at));
            (then != now).then_some(((association, month), (then, now)))
        })
        .collect())
}

/// The association-months of `keys` (association, month): one condition per month, on the month and its
/// associations.
fn of_months<'a>(keys: impl IntoIterator<Item = &'a (i32, i32)>) -> Cond {
    let mut by_month: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
    for (association, month) in keys {
        by_month.entry(*month).or_default().push(*association);
    }
    by_month.into_iter().fold(Cond::any(), |any, (month, associations)| {
        any.add(
            Expr::col(Alias::new("period"))
                .eq(month)
                .and(Expr::col(Alias::new("association_id")).is_in(associations)),
        )
    })
}

/// The rows of one version of association-months, with the value columns multiplied by `sign`.
fn version_rows(facts: &Facts, version: Version, keys: &[(i32, i32)], sign: i64) -> Option<SelectStatement> {
    if keys.is_empty() {
        return None;
    }
    let mut select = Query::select();
    select.column(Alias::new("id"));
    select.column(Alias::new("association_id"));
    select.column(Alias::new("period"));
    for dimension in facts.dimensions {
        select.column(Alias::new(dimension.column));
    }
    for measure in facts.measures {
        if sign == 1 {
            select.column(Alias::new(measure.column));
        } else {
            select.expr_as(
                Expr::col(Alias::new(measure.column)).mul(sign),
                Alias::new(measure.column),
            );
        }
    }
    match version {
        Version::Current => select.from(Alias::new(facts.table)).cond_where(of_months(keys)),
        Version::Superseded(id) => select.from(Alias::new(facts.revisions)).cond_where(
            Cond::all()
                .add(of_months(keys))
                .add(Expr::col(Alias::new("submission_id")).eq(id)),
        ),
    };
    Some(select.take())
}

/// Unions of row sets (`None` when there is none).
fn union_all(parts: impl IntoIterator<Item = SelectStatement>) -> Option<SelectStatement> {
    let mut parts = parts.into_iter();
    let mut first = parts.next()?;
    for part in parts {
        first.union(UnionType::All, part);
    }
    Some(first)
}

/// A fact table as it stood at the vintage: the current rows of every association-month not replaced since, and
/// the standing version's rows of those that were. Columns as the fact table's; values bound.
pub fn facts(facts: &Facts, vintage: &Vintage) -> SelectStatement {
    let mut current = Query::select();
    current.column(Alias::new("id"));
    for column in facts.columns() {
        current.column(Alias::new(column));
    }
    current.from(Alias::new(facts.table));
    if !vintage.replaced.is_empty() {
        current.cond_where(of_months(vintage.replaced.keys()).not());
    }
    let mut standing: BTreeMap<Version, Vec<(i32, i32)>> = BTreeMap::new();
    for (key, version) in &vintage.replaced {
        standing.entry(*version).or_default().push(*key);
    }
    let earlier = standing
        .into_iter()
        .filter_map(|(version, keys)| version_rows(facts, version, &keys, 1));
    union_all(std::iter::once(current.take()).chain(earlier)).expect("the current rows")
}

/// The change of a fact table after release: for each changed association-month, the rows standing at `at` minus
/// the rows at release (values negated). Summed over a group, a non-zero value is a value that changed.
pub fn changes(facts: &Facts, changed: &BTreeMap<(i32, i32), (Version, Version)>) -> Option<SelectStatement> {
    let mut by_version: BTreeMap<(Version, i64), Vec<(i32, i32)>> = BTreeMap::new();
    for (key, (then, now)) in changed {
        by_version.entry((*now, 1)).or_default().push(*key);
        by_version.entry((*then, -1)).or_default().push(*key);
    }
    union_all(
        by_version
            .into_iter()
            .filter_map(|((version, sign), keys)| version_rows(facts, version, &keys, sign)),
    )
}

/// The months of a set of association-months.
pub fn months_of<V>(keys: &BTreeMap<(i32, i32), V>) -> BTreeSet<i32> {
    keys.keys().map(|(_, m)| *m).collect()
}
