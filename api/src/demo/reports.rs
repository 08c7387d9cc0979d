//! The demo's monthly reports: every association sends each of the 24
//! months as the CSV files of the report templates, read, validated and
//! accepted by the same code as a report sent over HTTP, so that the demo's
//! figures are reports like any other (`reportingStatus`, coverage,
//! `submissions`, revisions and `asOf` all have something to show).
//!
//! Each report is sent by the association's own partner a few days after
//! the month closed, before the deadline, with two exceptions:
//!
//! - [`LATE`]: one association sent December 2020 on the third day after
//!   the deadline (still before the month's release);
//! - [`REVISED`]: one association's first report of a released month had
//!   its PAR90 figures in the PAR30 column; it sent the month again, with
//!   the right figures, a few days after the observatory had released it.
//!   The current figures are the right ones (the published figures hold);
//!   the month as released (`asOf` its release) shows the mistake, and its
//!   PAR30 measures are `revised`.

use super::reference::{ASSOCIATIONS, Ids, REGIONS, released_at};
use super::stats::{MonthFigures, Statistics};
use super::util::{MONTHS, period, unit};
use crate::apportion::largest_remainder;
use crate::facts::{ACTIVITIES, LOAN_VALUES, LOANS, Quantity};
use crate::period::{Month, centimes_to_text};
use crate::scope::{Role, Scope};
use crate::submission::accept::Acceptance;
use crate::submission::store;
use crate::submission::table::{self, NewReport, RawReport, Table};
use crate::submission::validate::{self, Context, Totals};
use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc};
use entity::association;
use entity::enums::Activity;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait};
use std::collections::{BTreeMap, HashMap};

/// The association that sent a month late, and the month (index from January 2019): PALMIER, December 2020.
pub(crate) const LATE: (&str, usize) = ("PALMIER", 23);
/// How long after the deadline the late report arrived (on the third day after it, in the morning).
const LATE_BY: Duration = Duration::hours(2 * 24 + 9);

/// The association-month whose first report was wrong and was revised after the month's release: OASIS, June 2020
/// (its PAR30 amounts were its PAR90 amounts, so the released national PAR30 of June 2020 was too low).
pub(crate) const REVISED: (&str, usize) = ("OASIS", 17);
/// How long after the month's release the revision arrived (six days, in the afternoon).
const REVISED_AFTER_RELEASE: Duration = Duration::minutes((6 * 24 + 4) * 60 + 15);

/// What the reports put in the fact tables.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Sent {
    /// Reports accepted, revisions included.
    pub reports: usize,
    /// Current `client_stat`, `loan_stat` and `staff_stat` rows.
    pub client_rows: usize,
    pub loan_rows: usize,
    pub staff_rows: usize,
    /// Months released (each when the observatory released it, between the reports).
    pub releases: usize,
}

/// One report to send.
struct Planned {
    association: usize,
    month: usize,
    received_at: DateTime<Utc>,
    /// The first, wrong report of [`REVISED`].
    mistaken: bool,
}

/// The first instant after month `t`.
fn month_end(t: usize) -> DateTime<Utc> {
    let next = Month(period(t)).shift(1);
    let first = chrono::NaiveDate::from_ymd_opt(next.year(), next.month(), 1).expect("a first day of a month");
    Utc.from_utc_datetime(&first.and_time(NaiveTime::MIN))
}

/// Every report of the demo, in the order received (which is month order: a month's reports, its revision if any,
/// then the next month's).
fn plan() -> Vec<Planned> {
    let index = |code: &str| {
        ASSOCIATIONS
            .iter()
            .position(|a| a.code == code)
            .expect("a demo association")
    };
    let (late, revised) = ((index(LATE.0), LATE.1), (index(REVISED.0), REVISED.1));
    let mut plan = Vec::new();
    for month in 0..MONTHS {
        let (opens, due) = (month_end(month), crate::reporting::deadline(Month(period(month))));
        for association in 0..ASSOCIATIONS.len() {
            // Somewhere between a tenth and nine tenths of the time allowed, to the second.
            let window = (due - opens).num_seconds() as f64;
            let share = 0.1 + 0.8 * unit("received", &[association, month]);
            let on_time = opens + Duration::seconds((window * share) as i64);
            let received_at = if (association, month) == late {
                due + LATE_BY
            } else {
                on_time
            };
            let mistaken = (association, month) == revised;
            plan.push(Planned {
                association,
                month,
                received_at,
                mistaken,
            });
            if mistaken {
                plan.push(Planned {
                    association,
                    month,
                    received_at: released_at(month) + REVISED_AFTER_RELEASE,
                    mistaken: false,
                });
            }
        }
    }
    plan.sort_by_key(|p| (p.received_at, p.month, p.association, !p.mistaken));
    debug_assert!(
        plan.windows(2).all(|w| w[0].month <= w[1].month),
        "the demo's reports arrive in month order"
    );
    plan
}

/// One table as the CSV file of its template: the header, then one line per row.
fn csv(table: Table, rows: impl Iterator<Item = Vec<String>>) -> String {
    let mut text = table.columns().join(",");
    text.push('\n');
    for row in rows {
        text.push_str(&row.join(","));
        text.push('\n');
    }
    text
}

/// How the demo splits each region's loans by the activity financed, per mille: commerce and services 57 %, crafts
/// 17 %, agriculture and livestock 16 %, as the sector reported for the end of 2015; the rest is the demo's
/// assumption.
const ACTIVITY_WEIGHTS: [(Activity, i64); 9] = [
    (Activity::Commerce, 330),
    (Activity::Services, 240),
    (Activity::Crafts, 170),
    (Activity::Agriculture, 110),
    (Activity::Livestock, 50),
    (Activity::Production, 40),
    (Activity::OtherIga, 20),
    (Activity::Housing, 30),
    (Activity::UtilitiesConnection, 10),
];

/// One region's loan totals (in the order of `facts::ACTIVITIES.measures`) split by activity with the demo's weights,
/// every column to the unit, so that the activities add up to the loans exactly; the portfolio at risk of an activity
/// in proportion to its outstanding, so that it never exceeds it.
pub(crate) fn split_by_activity(sums: &[i64]) -> Vec<(Activity, Vec<i64>)> {
    let at = |column: &str| {
        let measures = ACTIVITIES.measures.iter();
        measures
            .clone()
            .position(|m| m.column == column)
            .expect("an activity measure")
    };
    let weights: Vec<i64> = ACTIVITY_WEIGHTS.iter().map(|(_, w)| *w).collect();
    let mut columns: Vec<Vec<i64>> = sums
        .iter()
        .map(|total| largest_remainder(*total, &weights).expect("positive weights"))
        .collect();
    let (outstanding, par30) = (at("outstanding_amount"), at("par30_amount"));
    columns[par30] = largest_remainder(sums[par30], &columns[outstanding]).unwrap_or_else(|| vec![0; weights.len()]);
    ACTIVITY_WEIGHTS
        .iter()
        .enumerate()
        .map(|(a, (activity, _))| (*activity, columns.iter().map(|column| column[a]).collect()))
        .collect()
}

/// The activities file's rows: each region's loans split by activity ([`split_by_activity`]).
fn activity_rows(loans: &[(super::stats::Place, [i64; LOAN_VALUES])]) -> Vec<Vec<String>> {
    let measures = ACTIVITIES.measures;
    let mut regions: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for ((region, ..), values) in loans {
        let sums = regions.entry(region).or_insert_with(|| vec![0; measures.len()]);
        for (sum, measure) in sums.iter_mut().zip(measures) {
            let index = LOANS.measures.iter().position(|m| m.column == measure.column);
            *sum += values[index.expect("a loans measure")];
        }
    }
    let mut rows = Vec::new();
    for (region, sums) in regions {
        for (activity, values) in split_by_activity(&sums) {
            let mut row = vec![region.to_owned(), activity.as_str().to_owned()];
            for (measure, value) in measures.iter().zip(values) {
                row.push(match measure.quantity {
                    Quantity::Count => value.to_string(),
                    Quantity::Amount => centimes_to_text(value),
                });
            }
            rows.push(row);
        }
    }
    rows
}

/// The clients, loans, staff and activities files of an association's month.
fn files(figures: &MonthFigures) -> [(Table, String); 4] {
    let place = |(region, segment, gender, area): &super::stats::Place| {
        vec![
            region.to_string(),
            segment.as_str().to_owned(),
            gender.as_str().to_owned(),
            area.as_str().to_owned(),
        ]
    };
    let clients = figures.clients.iter().map(|(p, values)| {
        let mut row = place(p);
        row.extend(values.iter().map(i64::to_string));
        row
    });
    let loans = figures.loans.iter().map(|(p, values)| {
        let mut row = place(p);
        for (measure, value) in crate::facts::LOANS.measures.iter().zip(values) {
            row.push(match measure.quantity {
                Quantity::Count => value.to_string(),
                Quantity::Amount => centimes_to_text(*value),
            });
        }
        row
    });
    let staff = figures.staff.iter().map(|(category, gender, headcount)| {
        vec![
            category.as_str().to_owned(),
            gender.as_str().to_owned(),
            headcount.to_string(),
        ]
    });
    [
        (Table::Clients, csv(Table::Clients, clients)),
        (Table::Loans, csv(Table::Loans, loans)),
        (Table::Staff, csv(Table::Staff, staff)),
        (
            Table::Activities,
            csv(Table::Activities, activity_rows(&figures.loans).into_iter()),
        ),
    ]
}

/// An association's month totals, which validation compares the next month with.
fn totals(figures: &MonthFigures) -> Totals {
    Totals {
        active_clients: figures.clients.iter().map(|(_, v)| v[0]).sum(),
        active_loans: figures.loans.iter().map(|(_, v)| v[2]).sum(),
        outstanding_amount: figures.loans.iter().map(|(_, v)| v[3]).sum(),
    }
}

/// A demo report that the submission path refused: a bug of the demo generator.
fn refused(code: &str, month: usize, why: String) -> DbErr {
    DbErr::Custom(format!(
        "the demo's report of {code} for {} was refused: {why}",
        Month(period(month))
    ))
}

/// Sends every report of the demo, inside the caller's transaction, through the acceptance of
/// [`crate::submission::store`], and releases each month when the observatory released it, between the reports, so
/// that the alert rules judge 2020 as it unfolded. Expects the associations, their partners and the regions to exist, and no
/// statistics yet.
pub(crate) async fn send_all<C: ConnectionTrait>(db: &C, statistics: &Statistics, ids: &Ids) -> Result<Sent, DbErr> {
    let owners: HashMap<i32, association::Model> = association::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let regions: HashMap<String, i32> = REGIONS
        .iter()
        .zip(&ids.regions)
        .map(|(r, id)| (r.code.to_owned(), *id))
        .collect();
    let today = Utc::now().date_naive();
    let current = Month(today.year() * 100 + today.month() as i32);
    let mut sent = Sent::default();
    let mut released = 0;
    for planned in plan() {
        while released < MONTHS && released_at(released) <= planned.received_at {
            super::reference::release_month(db, ids.observatory, released).await?;
            released += 1;
        }
        let (a, t) = (planned.association, planned.month);
        let code = ASSOCIATIONS[a].code;
        let owner = owners
            .get(&ids.associations[a])
            .ok_or_else(|| DbErr::RecordNotFound(format!("association {code}")))?;
        let mut figures = statistics.month_figures(a, t);
        if !planned.mistaken {
            sent.client_rows += figures.clients.len();
            sent.loan_rows += figures.loans.len();
            sent.staff_rows += figures.staff.len();
        } else {
            // The PAR90 amounts typed into the PAR30 column.
            for (_, values) in &mut figures.loans {
                values[4] = values[5];
            }
        }
        let files = files(&figures);
        let mut tables = RawReport::new();
        for (table, text) in &files {
            let raw = table::read_csv(*table, text.as_bytes()).map_err(|e| refused(code, t, e.message().into()))?;
            tables.insert(*table, raw);
        }
        let context = Context {
            month: Month(period(t)),
            current,
            regions: regions.clone(),
            foreign_branches: Default::default(),
            previous: (t > 0).then(|| totals(&statistics.month_figures(a, t - 1))),
            activities_required_from: crate::reporting::activities_required_from(),
        };
        let (valid, validation) = validate::validate(&tables, &context);
        let Some(valid) = valid else {
            return Err(refused(code, t, format!("{:?}", validation.errors)));
        };
        let texts: serde_json::Map<String, serde_json::Value> = files
            .iter()
            .map(|(table, text)| (table.name().to_owned(), text.clone().into()))
            .collect();
        let report = NewReport {
            association: code.to_owned(),
            month: Month(period(t)),
            tables,
            payload: serde_json::json!({ "format": "csv", "tables": texts }).to_string(),
            idempotency_key: None,
        };
        let actor = Scope {
            role: Role::Association,
            partner_id: Some(ids.partners[a]),
            association_id: Some(owner.id),
            key_prefix: None,
            admin: false,
            write: true,
        };
        let on_behalf = actor
            .may_report_for(owner.id)
            .map_err(|e| refused(code, t, e.detail()))?;
        let validation = serde_json::to_string(&validation).map_err(|e| refused(code, t, e.to_string()))?;
        Acceptance {
            actor: &actor,
            owner,
            report: &report,
            figures: &valid,
            hash: &store::content_hash(&report.payload),
            validation: &validation,
            on_behalf,
            received_at: planned.received_at,
        }
        .apply(db)
        .await
        .map_err(|e| match e {
            crate::error::ApiError::Database(e) => e,
            other => refused(code, t, other.detail()),
        })?;
        sent.reports += 1;
    }
    for t in released..MONTHS {
        super::reference::release_month(db, ids.observatory, t).await?;
    }
    sent.releases = MONTHS;
    Ok(sent)
}
