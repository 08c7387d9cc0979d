//! The branch registry of the demo: fixed agencies and mobile units of each
//! association in each region it serves, with the openings and closures
//! that bring the national counts to the published figures (1,691 agencies
//! and 129 mobile units at the end of 2019; 1,688 agencies, 979 of them
//! urban, and 121 mobile units, 94 of them rural, at the end of 2020).

use super::reference::{ASSOCIATIONS, Ids, REGIONS, Town};
use super::stats::Statistics;
use super::util::{apportion, date, jitter, pick, unit};
use chrono::NaiveDate;
use entity::branch;
use entity::enums::{Area, BranchKind};
use sea_orm::{ActiveValue::Set, NotSet};
use std::collections::HashMap;

const URBAN: usize = 0;
const RURAL: usize = 1;
/// Month index of December 2019 in the statistics.
const DECEMBER_2019: usize = 11;

/// What happened to a branch over the demo years.
#[derive(Clone, Copy, PartialEq)]
enum Fate {
    /// Open at the end of 2019 and 2020.
    Open,
    /// Open at the end of 2019, closed during 2020.
    ClosedIn2020,
    /// Opened during 2020.
    OpenedIn2020,
    /// Closed during 2019 (kept in the registry as history).
    ClosedIn2019,
}

/// National number of branches of each kind, area and fate.
const GROUPS: [(BranchKind, usize, Fate, i64); 15] = [
    (BranchKind::Agency, URBAN, Fate::Open, 970),
    (BranchKind::Agency, URBAN, Fate::ClosedIn2020, 15),
    (BranchKind::Agency, URBAN, Fate::OpenedIn2020, 9),
    (BranchKind::Agency, URBAN, Fate::ClosedIn2019, 5),
    (BranchKind::Agency, RURAL, Fate::Open, 696),
    (BranchKind::Agency, RURAL, Fate::ClosedIn2020, 10),
    (BranchKind::Agency, RURAL, Fate::OpenedIn2020, 13),
    (BranchKind::Agency, RURAL, Fate::ClosedIn2019, 3),
    (BranchKind::Mobile, URBAN, Fate::Open, 25),
    (BranchKind::Mobile, URBAN, Fate::ClosedIn2020, 4),
    (BranchKind::Mobile, URBAN, Fate::OpenedIn2020, 2),
    (BranchKind::Mobile, RURAL, Fate::Open, 90),
    (BranchKind::Mobile, RURAL, Fate::ClosedIn2020, 10),
    (BranchKind::Mobile, RURAL, Fate::OpenedIn2020, 4),
    (BranchKind::Mobile, RURAL, Fate::ClosedIn2019, 2),
];

/// A branch before numbering.
struct Draft {
    pair: usize,
    kind: BranchKind,
    area: usize,
    town: Town,
    opened_on: NaiveDate,
    closed_on: Option<NaiveDate>,
}

/// A day of the year drawn from the given months.
fn day_in(year: i32, months: &[u32], key: &[usize]) -> NaiveDate {
    let month = months[pick("month", key, 0, months.len() as i64 - 1) as usize];
    date(year, month, pick("day", key, 1, 28) as u32)
}

/// Opening and closing dates for a branch of the given fate. Agencies open
/// from the year after the association's founding; mobile units, a newer
/// channel, from 2008.
fn dates(fate: Fate, kind: BranchKind, founded: i32, key: &[usize]) -> (NaiveDate, Option<NaiveDate>) {
    let first = (founded + 1).max(if kind == BranchKind::Mobile { 2008 } else { 1994 });
    let last = match fate {
        Fate::Open => 2019,
        Fate::ClosedIn2020 => 2018,
        Fate::ClosedIn2019 | Fate::OpenedIn2020 => 2017,
    };
    let all_months: Vec<u32> = (1..=12).collect();
    let opened = day_in(
        pick("opened", key, first.min(last) as i64, last as i64) as i32,
        &all_months,
        key,
    );
    match fate {
        Fate::Open => (opened, None),
        Fate::ClosedIn2019 => (opened, Some(day_in(2019, &all_months, &[key, &[1]].concat()))),
        // Closures cluster after the lockdown, when some agencies were merged.
        Fate::ClosedIn2020 => (
            opened,
            Some(day_in(2020, &[3, 6, 7, 8, 9, 10, 11, 12], &[key, &[1]].concat())),
        ),
        Fate::OpenedIn2020 => (day_in(2020, &[1, 2, 7, 9, 10, 11, 12], key), None),
    }
}

/// A town of the region for a branch: urban branches favour the largest
/// cities, rural ones spread over the small towns.
fn town(region: usize, area: usize, key: &[usize]) -> Town {
    let towns = if area == URBAN {
        REGIONS[region].cities
    } else {
        REGIONS[region].towns
    };
    let weights: Vec<f64> = (0..towns.len())
        .map(|k| {
            if area == URBAN {
                1.0 / (k as f64 + 1.0).powf(0.8)
            } else {
                1.0
            }
        })
        .collect();
    let total: f64 = weights.iter().sum();
    let mut draw = unit("town", key) * total;
    for (k, w) in weights.iter().enumerate() {
        if draw < *w {
            return towns[k];
        }
        draw -= w;
    }
    towns[towns.len() - 1]
}

/// Builds the branch rows. Every association has at least one agency in
/// each region it serves; the rest follow its clients in each area, and only
/// associations running mobile units get mobile branches.
pub(crate) fn rows(stats: &Statistics, ids: &Ids) -> Vec<branch::ActiveModel> {
    let pairs = &stats.pairs;
    let mut drafts = Vec::new();
    for (g, &(kind, area, fate, count)) in GROUPS.iter().enumerate() {
        let weights: Vec<f64> = (0..pairs.len())
            .map(|p| {
                let eligible = kind == BranchKind::Agency || ASSOCIATIONS[pairs[p].association].mobile;
                let spread = if fate == Fate::Open { 0.1 } else { 0.6 };
                if eligible {
                    stats.clients(p, area, DECEMBER_2019) as f64 * jitter("branches", &[g, p], spread)
                } else {
                    0.0
                }
            })
            .collect();
        // The first group (urban agencies open throughout) gives each pair one.
        let floor = i64::from(g == 0);
        let shares = apportion(count - floor * pairs.len() as i64, &weights);
        for (p, share) in shares.into_iter().enumerate() {
            for k in 0..(share + floor) as usize {
                let key = [g, p, k];
                let founded = ASSOCIATIONS[pairs[p].association].founded;
                let (opened_on, closed_on) = dates(fate, kind, founded, &key);
                drafts.push(Draft {
                    pair: p,
                    kind,
                    area,
                    town: town(pairs[p].region, area, &key),
                    opened_on,
                    closed_on,
                });
            }
        }
    }
    drafts.sort_by_key(|d| (d.pair, d.opened_on));

    let mut serial: HashMap<usize, usize> = HashMap::new();
    let mut same_name: HashMap<(usize, String), usize> = HashMap::new();
    drafts
        .into_iter()
        .map(|d| {
            let pair = &pairs[d.pair];
            let number = serial.entry(d.pair).and_modify(|n| *n += 1).or_insert(1);
            let (city, latitude, longitude) = d.town;
            let prefix = if d.kind == BranchKind::Agency {
                "Agence"
            } else {
                "Unité mobile"
            };
            let base = format!("{prefix} {city}");
            let nth = same_name
                .entry((pair.association, base.clone()))
                .and_modify(|n| *n += 1)
                .or_insert(1);
            let name = if *nth == 1 { base } else { format!("{base} {nth}") };
            let key = [d.pair, *number];
            let offset = |axis: usize| 0.03 * (2.0 * unit("coordinates", &[&key[..], &[axis]].concat()) - 1.0);
            let round = |x: f64| (x * 1e5).round() / 1e5;
            branch::ActiveModel {
                id: NotSet,
                code: Set(format!(
                    "{}-{}-{:04}",
                    ASSOCIATIONS[pair.association].code,
                    REGIONS[pair.region].code.replace('-', ""),
                    number
                )),
                association_id: Set(ids.associations[pair.association]),
                region_id: Set(ids.regions[pair.region]),
                name: Set(name),
                kind: Set(d.kind),
                area: Set(Area::ALL[d.area]),
                city: Set(city.to_owned()),
                latitude: Set(round(latitude + offset(0))),
                longitude: Set(round(longitude + offset(1))),
                opened_on: Set(d.opened_on),
                closed_on: Set(d.closed_on),
            }
        })
        .collect()
}
