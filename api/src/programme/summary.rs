//! Aggregates of programme outcomes by programme, sector, gender and region.

use crate::error::ApiResult;
use crate::sql::Binder;
use entity::enums::{OutcomeGender, Sector};
use sea_orm::ConnectionTrait;
use std::collections::HashMap;

/// A dimension of the programme aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProgrammeDim {
    Programme,
    Sector,
    Activity,
    Gender,
    Region,
}

/// Conditions on the outcomes summed.
#[derive(Debug, Clone, Default)]
pub struct ProgrammeSummaryFilter {
    pub programmes: Option<Vec<i32>>,
    pub from_year: Option<i32>,
    pub to_year: Option<i32>,
}

/// One group of the programme aggregates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgrammeSummaryRow {
    pub programme: Option<i32>,
    pub sector: Option<Sector>,
    /// The `ACTIVITY` code the group's sectors fall under.
    pub activity: Option<&'static str>,
    pub gender: Option<OutcomeGender>,
    pub region: Option<i32>,
    pub beneficiaries: i64,
    pub grant_amount: i64,
    /// Candidates of the programmes of the group; only when grouped by programme alone or not at all.
    pub candidates: Option<i64>,
}

/// ` WHERE …` of the filter (nothing without one), its values bound to `b`.
fn conditions(b: &mut Binder, filter: &ProgrammeSummaryFilter, id: &str) -> String {
    let mut conditions = Vec::new();
    if let Some(ids) = &filter.programmes {
        conditions.push(b.one_of(id, ids));
    }
    if let Some(from) = filter.from_year {
        conditions.push(format!("p.year >= {}", b.bind(from)));
    }
    if let Some(to) = filter.to_year {
        conditions.push(format!("p.year <= {}", b.bind(to)));
    }
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    }
}

fn parse<T: Copy>(all: &[T], text: fn(T) -> &'static str, value: Option<String>) -> Option<T> {
    value.and_then(|v| all.iter().copied().find(|t| text(*t) == v))
}

/// The economic activity (a code of the `ACTIVITY` list) a programme sector falls under, so that programme winners
/// and loans roll up alike.
pub fn activity_of(sector: Sector) -> &'static str {
    match sector {
        Sector::AgricultureLivestock => "AGRICULTURE_LIVESTOCK",
        Sector::Agrifood => "PRODUCTION",
        Sector::ArtsCrafts => "CRAFTS",
        Sector::HairdressingBeauty
        | Sector::LogisticsTransport
        | Sector::Leisure
        | Sector::EducationEarlyChildhood
        | Sector::Mechanics
        | Sector::Health => "SERVICES",
        Sector::Other => "OTHER_IGA",
        Sector::Unspecified => "UNSPECIFIED",
    }
}

/// The activity of a sector column, in SQL (codes are constants of this module).
fn activity_sql() -> String {
    let cases: String = Sector::ALL
        .iter()
        .map(|s| format!(" WHEN '{}' THEN '{}'", s.as_str(), activity_of(*s)))
        .collect();
    format!("CASE o.sector{cases} END AS activity")
}

/// Sums beneficiaries and grants by the dimensions asked for (one statement), and
/// the programmes' candidates when asked (one more statement on the programme table).
pub async fn summarise<C: ConnectionTrait>(
    db: &C,
    group_by: &[ProgrammeDim],
    filter: &ProgrammeSummaryFilter,
    with_candidates: bool,
) -> ApiResult<Vec<ProgrammeSummaryRow>> {
    let backend = db.get_database_backend();
    let columns: Vec<String> = group_by
        .iter()
        .map(|d| match d {
            ProgrammeDim::Programme => "o.programme_id".into(),
            ProgrammeDim::Sector => "o.sector".into(),
            ProgrammeDim::Activity => activity_sql(),
            ProgrammeDim::Gender => "o.gender".into(),
            ProgrammeDim::Region => "o.region_id".into(),
        })
        .collect();
    let mut b = Binder::new(backend);
    let mut sql = format!(
        "SELECT {}CAST(SUM(o.beneficiaries) AS BIGINT) AS beneficiaries, CAST(SUM(o.grant_amount) AS BIGINT) AS grant_amount \
         FROM programme_outcome o JOIN programme p ON p.id = o.programme_id{}",
        columns.iter().map(|c| format!("{c}, ")).collect::<String>(),
        conditions(&mut b, filter, "o.programme_id")
    );
    if !columns.is_empty() {
        let positions: Vec<String> = (1..=columns.len()).map(|i| i.to_string()).collect();
        sql.push_str(&format!(" GROUP BY {0} ORDER BY {0}", positions.join(", ")));
    }
    let has = |d: ProgrammeDim| group_by.contains(&d);
    let mut rows = Vec::new();
    for row in db.query_all_raw(b.statement(sql)).await? {
        let Some(beneficiaries) = row.try_get::<Option<i64>>("", "beneficiaries")? else {
            continue;
        };
        rows.push(ProgrammeSummaryRow {
            programme: if has(ProgrammeDim::Programme) {
                row.try_get("", "programme_id")?
            } else {
                None
            },
            sector: if has(ProgrammeDim::Sector) {
                parse(Sector::ALL, Sector::as_str, row.try_get("", "sector")?)
            } else {
                None
            },
            activity: if has(ProgrammeDim::Activity) {
                let code: Option<String> = row.try_get("", "activity")?;
                Sector::ALL
                    .iter()
                    .map(|s| activity_of(*s))
                    .find(|a| code.as_deref() == Some(*a))
            } else {
                None
            },
            gender: if has(ProgrammeDim::Gender) {
                parse(OutcomeGender::ALL, OutcomeGender::as_str, row.try_get("", "gender")?)
            } else {
                None
            },
            region: if has(ProgrammeDim::Region) {
                row.try_get("", "region_id")?
            } else {
                None
            },
            beneficiaries,
            grant_amount: row.try_get::<Option<i64>>("", "grant_amount")?.unwrap_or(0),
            candidates: None,
        });
    }
    if with_candidates && group_by.iter().all(|d| *d == ProgrammeDim::Programme) {
        let by_programme = has(ProgrammeDim::Programme);
        let mut b = Binder::new(backend);
        let sql = format!(
            "SELECT {}CAST(SUM(p.candidates) AS BIGINT) AS candidates FROM programme p{}{}",
            if by_programme { "p.id AS programme_id, " } else { "" },
            conditions(&mut b, filter, "p.id"),
            if by_programme { " GROUP BY p.id" } else { "" }
        );
        let mut candidates: HashMap<Option<i32>, Option<i64>> = HashMap::new();
        for row in db.query_all_raw(b.statement(sql)).await? {
            let id: Option<i32> = if by_programme {
                row.try_get("", "programme_id")?
            } else {
                None
            };
            candidates.insert(id, row.try_get("", "candidates")?);
        }
        for row in &mut rows {
            row.candidates = candidates.get(&row.programme).copied().flatten();
        }
    }
    Ok(rows)
}

/// Each value's share of their total, in hundredths of a percent, rounded so that the shares add up to exactly
/// 100 % (`apportion::largest_remainder`). `None` when the total is zero.
pub fn shares(values: &[i64]) -> Option<Vec<i64>> {
    crate::apportion::largest_remainder(10_000, values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_to_exactly_one_hundred_percent() {
        let shares = shares(&[62, 60, 80, 163, 27]).unwrap();
        assert_eq!(shares, vec![1582, 1530, 2041, 4158, 689]);
        assert_eq!(shares.iter().sum::<i64>(), 10_000);
    }

    #[test]
    fn every_sector_falls_under_an_activity_of_the_code_list() {
        for sector in Sector::ALL {
            let activity = activity_of(*sector);
            assert!(
                crate::labels::code_of("ACTIVITY", activity).is_some(),
                "{sector:?} → {activity}"
            );
        }
    }
}
