//! Aggregates of the centre's training actions by year, format, audience and delivery.

use crate::error::ApiResult;
use crate::sql::Binder;
use chrono::NaiveDate;
use entity::enums::{Delivery, TrainingAudience, TrainingFormat};
use sea_orm::{ConnectionTrait, DbBackend};

/// A dimension of the training aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TrainingDim {
    Year,
    Format,
    Audience,
    Delivery,
}

/// Conditions on the actions summed.
#[derive(Debug, Clone, Default)]
pub struct TrainingSummaryFilter {
    pub from_year: Option<i32>,
    pub to_year: Option<i32>,
    pub formats: Option<Vec<TrainingFormat>>,
    pub audiences: Option<Vec<TrainingAudience>>,
    pub deliveries: Option<Vec<Delivery>>,
}

/// One group of the training aggregates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainingSummaryRow {
    pub year: Option<i32>,
    pub format: Option<TrainingFormat>,
    pub audience: Option<TrainingAudience>,
    pub delivery: Option<Delivery>,
    pub actions: i64,
    pub training_days: i64,
    pub participants: i64,
    pub person_days: i64,
}

/// The codes of a list of values.
fn codes<T: Copy>(values: &[T], text: fn(T) -> &'static str) -> Vec<&'static str> {
    values.iter().map(|v| text(*v)).collect()
}

fn parse<T: Copy>(all: &[T], text: fn(T) -> &'static str, value: Option<String>) -> Option<T> {
    value.and_then(|v| all.iter().copied().find(|t| text(*t) == v))
}

/// Sums the training actions by the dimensions asked for, in one statement.
pub async fn summarise<C: ConnectionTrait>(
    db: &C,
    group_by: &[TrainingDim],
    filter: &TrainingSummaryFilter,
) -> ApiResult<Vec<TrainingSummaryRow>> {
    let backend = db.get_database_backend();
    let year = match backend {
        DbBackend::Postgres => "CAST(EXTRACT(YEAR FROM starts_on) AS BIGINT)",
        _ => "CAST(substr(starts_on, 1, 4) AS BIGINT)",
    };
    let mut columns = Vec::new();
    for dim in group_by {
        columns.push(match dim {
            TrainingDim::Year => format!("{year} AS year"),
            TrainingDim::Format => "format".into(),
            TrainingDim::Audience => "audience".into(),
            TrainingDim::Delivery => "delivery".into(),
        });
    }
    let mut b = Binder::new(backend);
    let mut conditions = Vec::new();
    // Years beyond the calendar's range hold every action on one side and none on the other.
    let day = |year: i32, month: u32, day: u32| NaiveDate::from_ymd_opt(year, month, day);
    if let Some(from) = filter.from_year {
        conditions.push(match day(from, 1, 1) {
            Some(first) => format!("starts_on >= {}", b.bind(first)),
            None if from > 0 => "1 = 0".into(),
            None => "1 = 1".into(),
        });
    }
    if let Some(to) = filter.to_year {
        conditions.push(match day(to, 12, 31) {
            Some(last) => format!("starts_on <= {}", b.bind(last)),
            None if to > 0 => "1 = 1".into(),
            None => "1 = 0".into(),
        });
    }
    if let Some(v) = &filter.formats {
        conditions.push(b.one_of("format", &codes(v, TrainingFormat::as_str)));
    }
    if let Some(v) = &filter.audiences {
        conditions.push(b.one_of("audience", &codes(v, TrainingAudience::as_str)));
    }
    if let Some(v) = &filter.deliveries {
        conditions.push(b.one_of("delivery", &codes(v, Delivery::as_str)));
    }
    let mut sql = format!(
        "SELECT {}CAST(COUNT(*) AS BIGINT) AS actions, CAST(SUM(training_days) AS BIGINT) AS training_days, \
         CAST(SUM(participants) AS BIGINT) AS participants, CAST(SUM(person_days) AS BIGINT) AS person_days \
         FROM training_action",
        columns.iter().map(|c| format!("{c}, ")).collect::<String>()
    );
    if !conditions.is_empty() {
        sql.push_str(&format!(" WHERE {}", conditions.join(" AND ")));
    }
    if !group_by.is_empty() {
        let positions: Vec<String> = (1..=group_by.len()).map(|i| i.to_string()).collect();
        sql.push_str(&format!(" GROUP BY {0} ORDER BY {0}", positions.join(", ")));
    }
    let rows = db.query_all_raw(b.statement(sql)).await?;
    let mut out = Vec::new();
    for row in rows {
        let actions: i64 = row.try_get("", "actions")?;
        if actions == 0 {
            continue;
        }
        let text = |name: &str| -> ApiResult<Option<String>> { Ok(row.try_get::<Option<String>>("", name)?) };
        out.push(TrainingSummaryRow {
            year: if group_by.contains(&TrainingDim::Year) {
                Some(row.try_get::<i64>("", "year")? as i32)
            } else {
                None
            },
            format: if group_by.contains(&TrainingDim::Format) {
                parse(TrainingFormat::ALL, TrainingFormat::as_str, text("format")?)
            } else {
                None
            },
            audience: if group_by.contains(&TrainingDim::Audience) {
                parse(TrainingAudience::ALL, TrainingAudience::as_str, text("audience")?)
            } else {
                None
            },
            delivery: if group_by.contains(&TrainingDim::Delivery) {
                parse(Delivery::ALL, Delivery::as_str, text("delivery")?)
            } else {
                None
            },
            actions,
            training_days: row.try_get::<Option<i64>>("", "training_days")?.unwrap_or(0),
            participants: row.try_get::<Option<i64>>("", "participants")?.unwrap_or(0),
            person_days: row.try_get::<Option<i64>>("", "person_days")?.unwrap_or(0),
        });
    }
    Ok(out)
}

/// Participants and person-days of training since the centre began, at the end of a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cumulative {
    pub participants: i64,
    pub person_days: i64,
}

/// The running totals since the centre began, at the end of each year from the first published total
/// (`training_history`): the latest published total at or before the year, plus the training actions recorded in the
/// years after it. Years before the first published total have none (their history is not known).
pub async fn cumulative<C: ConnectionTrait>(db: &C, years: &[i32]) -> ApiResult<Vec<(i32, Option<Cumulative>)>> {
    let backend = db.get_database_backend();
    let published: Vec<(i32, Cumulative)> = db
        .query_all_raw(sea_orm::Statement::from_string(
            backend,
            "SELECT year, participants, person_days FROM training_history ORDER BY year",
        ))
        .await?
        .iter()
        .map(|row| {
            Ok((
                row.try_get::<i32>("", "year")?,
                Cumulative {
                    participants: row.try_get("", "participants")?,
                    person_days: row.try_get("", "person_days")?,
                },
            ))
        })
        .collect::<ApiResult<_>>()?;
    let recorded = summarise(db, &[TrainingDim::Year], &TrainingSummaryFilter::default()).await?;
    Ok(years
        .iter()
        .map(|&year| {
            let base = published.iter().rev().find(|(y, _)| *y <= year);
            let total = base.map(|(from, base)| {
                let after = recorded
                    .iter()
                    .filter(|r| r.year.is_some_and(|y| y > *from && y <= year));
                Cumulative {
                    participants: base.participants + after.clone().map(|r| r.participants).sum::<i64>(),
                    person_days: base.person_days + after.map(|r| r.person_days).sum::<i64>(),
                }
            });
            (year, total)
        })
        .collect())
}
