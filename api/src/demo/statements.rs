//! The demo's quarterly financial statements: every association's balance sheet and income statement of each
//! quarter from 2019-Q1 to 2020-Q4, sent through the statements' validation and acceptance like a statement posted
//! over HTTP, then each quarter released.
//!
//! Synthetic, as no association's statements are published: the ratios are plausible for Moroccan microcredit
//! associations, not anyone's. They agree with the monthly rows by construction: the gross portfolio is the
//! quarter-end outstanding, the loans written off are the months' write-offs, the allowance moves by the impairment
//! expense less the write-offs, and equity by the net income. 2020 shows the crisis: interest collected falls during
//! the spring lockdown and the allowance follows the portfolio at risk up, so that impairment weighs on the results
//! and some associations fall below 100 % operational self-sufficiency.

use super::reference::{ASSOCIATIONS, Ids};
use super::stats::Statistics;
use crate::finance::chart::*;
use crate::finance::store::{Acceptance, NewStatement};
use crate::finance::validate::{self, Context, Lines};
use crate::period::{Granularity, Month, Period};
use crate::scope::{Role, Scope};
use chrono::{Datelike, Utc};
use entity::association;
use entity::enums::StaffCategory;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, NotSet, Set};
use std::collections::{BTreeMap, HashMap};

/// Quarters of the demo: 2019-Q1 to 2020-Q4.
pub(crate) const QUARTERS: usize = 8;

/// The quarter `q` (0 = 2019-Q1).
pub(crate) fn quarter(q: usize) -> Period {
    Period::containing(Granularity::Quarter, Month(super::util::period(q * 3)))
}

/// What an association's statements are made from, month by month (`t` = 0 is January 2019).
struct Monthly {
    outstanding: Vec<i64>,
    par30: Vec<i64>,
    write_offs: Vec<i64>,
    network_staff: Vec<i64>,
}

fn monthly(statistics: &Statistics, a: usize) -> Monthly {
    let mut m = Monthly {
        outstanding: Vec::new(),
        par30: Vec::new(),
        write_offs: Vec::new(),
        network_staff: Vec::new(),
    };
    for t in 0..super::util::MONTHS {
        let figures = statistics.month_figures(a, t);
        let sum = |i: usize| figures.loans.iter().map(|(_, v)| v[i]).sum::<i64>();
        m.outstanding.push(sum(3));
        m.par30.push(sum(4));
        m.write_offs.push(sum(6));
        m.network_staff.push(
            figures
                .staff
                .iter()
                .filter(|(c, ..)| *c == StaffCategory::Network)
                .map(|(.., h)| *h)
                .sum(),
        );
    }
    m
}

fn round(x: f64) -> i64 {
    x.round() as i64
}

/// Every quarter's lines of association `a`, in order.
pub(crate) fn statements(statistics: &Statistics, a: usize) -> Vec<Lines> {
    let profile = &ASSOCIATIONS[a];
    let m = monthly(statistics, a);
    // Annual rates, set by the association's profile.
    let yield_rate = 0.235 - 0.035 * (profile.loan_size - 1.0);
    let opex_rate = 0.125 + 0.035 / profile.size.sqrt();
    let cost_of_funds = 0.055;
    let coverage = 0.85 + 0.15 * (profile.resilience - 0.92) / 0.05;
    let capital_ratio = 0.22 + 0.18 * (profile.founded - 1993) as f64 / 17.0;
    let small = profile.size < 3.0;
    // The balance sheet's other items, as shares of the portfolio.
    let assets_of = |glp: i64, late: bool| -> [i64; 7] {
        let g = glp as f64;
        [
            round(g * 0.05),
            round(g * 0.03),
            round(g * if late { 0.025 } else { 0.012 }),
            round(g * 0.008),
            round(g * 0.005),
            round(g * 0.025),
            round(g * 0.004),
        ]
    };
    let total = |glp: i64, allowance: i64, others: &[i64; 7]| glp - allowance + others.iter().sum::<i64>();
    // The opening balance, at the end of 2018.
    let mut allowance = round(m.par30[0] as f64 * coverage);
    let opening_assets = total(m.outstanding[0], allowance, &assets_of(m.outstanding[0], false));
    let mut equity = round(opening_assets as f64 * capital_ratio);
    let donated = round(equity as f64 * 0.35);
    let other_equity = round(equity as f64 * 0.10);
    let mut retained = equity - donated - other_equity;
    let mut year_result = 0i64;
    let mut borrowings = round((opening_assets - equity) as f64 * 0.93);
    let mut liquid = round(m.outstanding[0] as f64 * 0.08);
    let mut glp_before = m.outstanding[0];
    let mut out = Vec::new();
    for q in 0..QUARTERS {
        let (first, last) = (q * 3, q * 3 + 2);
        let year_2020 = q >= 4;
        if q % 4 == 0 {
            retained += year_result;
            year_result = 0;
        }
        let glp = m.outstanding[last];
        // The average of the quarter's four month-ends, from the one before it.
        let avg_glp = (glp_before + m.outstanding[first..=last].iter().sum::<i64>()) as f64 / 4.0;
        let collected = match q {
            5 => 0.72,
            6 => 0.90,
            7 => 0.95,
            _ => 1.0,
        };
        let interest = round(avg_glp * yield_rate / 4.0 * collected);
        let fees = round(interest as f64 * 0.08);
        let investment = round(liquid as f64 * 0.03 / 4.0);
        let other_revenue = round(avg_glp * 0.002);
        let financial_revenue = interest + fees + investment + other_revenue;
        let interest_expense = round(borrowings as f64 * cost_of_funds / 4.0);
        let other_financial = round(borrowings as f64 * 0.0005);
        let financial_expense = interest_expense + other_financial;
        let write_offs: i64 = m.write_offs[first..=last].iter().sum();
        let cover = if year_2020 { coverage * 0.95 } else { coverage };
        let target = round(m.par30[last] as f64 * cover);
        let closing_allowance = target.max(allowance - write_offs);
        let impairment = closing_allowance - allowance + write_offs;
        let recoveries = round(write_offs as f64 * 0.12);
        let opex = round(avg_glp * opex_rate / 4.0 * if year_2020 { 1.03 } else { 1.0 });
        let personnel = round(opex as f64 * 0.62);
        let administrative = opex - personnel;
        let depreciation = round(administrative as f64 * 0.15);
        let noi = financial_revenue - financial_expense - (impairment - recoveries) - opex;
        let donations_operations = if small { round(avg_glp * 0.002) } else { 0 };
        let donations_capital = if small && q % 4 == 1 { round(avg_glp * 0.004) } else { 0 };
        let net_income = noi + donations_operations + donations_capital;
        allowance = closing_allowance;
        equity += net_income;
        year_result += net_income;
        let others = assets_of(glp, year_2020 && q >= 5);
        let assets = total(glp, allowance, &others);
        let liabilities = assets - equity;
        let interest_payable = round(liabilities as f64 * 0.004);
        let other_current = round(liabilities as f64 * 0.03);
        let other_liabilities = round(liabilities as f64 * 0.01);
        let short_term = round(liabilities as f64 * 0.28);
        let long_term = liabilities - interest_payable - other_current - other_liabilities - short_term;
        borrowings = short_term + long_term;
        liquid = others[0] + others[1];
        glp_before = glp;
        let loan_officers = round(m.network_staff[last] as f64 * 0.55);
        let subsidized = if small { round(borrowings as f64 * 0.2) } else { 0 };
        let lines: Lines = [
            (BS_CASH, others[0]),
            (BS_TRADE_INVESTMENTS, others[1]),
            (BS_GROSS_LOAN_PORTFOLIO, glp),
            (BS_IMPAIRMENT_ALLOWANCE, allowance),
            (BS_INTEREST_RECEIVABLE, others[2]),
            (BS_OTHER_RECEIVABLES, others[3]),
            (BS_LONG_TERM_INVESTMENTS, others[4]),
            (BS_NET_FIXED_ASSETS, others[5]),
            (BS_OTHER_ASSETS, others[6]),
            (BS_TOTAL_ASSETS, assets),
            (BS_DEPOSITS, 0),
            (BS_SHORT_TERM_BORROWINGS, short_term),
            (BS_LONG_TERM_BORROWINGS, long_term),
            (BS_INTEREST_PAYABLE, interest_payable),
            (BS_OTHER_CURRENT_LIABILITIES, other_current),
            (BS_OTHER_LIABILITIES, other_liabilities),
            (BS_TOTAL_LIABILITIES, liabilities),
            (BS_DONATED_EQUITY, donated),
            (BS_RETAINED_EARNINGS, retained),
            (BS_CURRENT_YEAR_RESULT, year_result),
            (BS_OTHER_EQUITY, other_equity),
            (BS_TOTAL_EQUITY, equity),
            (IS_INTEREST_ON_LOANS, interest),
            (IS_FEES_ON_LOANS, fees),
            (IS_INVESTMENT_REVENUE, investment),
            (IS_OTHER_OPERATING_REVENUE, other_revenue),
            (IS_FINANCIAL_REVENUE, financial_revenue),
            (IS_INTEREST_EXPENSE_FUNDING, interest_expense),
            (IS_OTHER_FINANCIAL_EXPENSE, other_financial),
            (IS_FINANCIAL_EXPENSE, financial_expense),
            (IS_IMPAIRMENT_EXPENSE, impairment),
            (IS_RECOVERIES, recoveries),
            (IS_PERSONNEL_EXPENSE, personnel),
            (IS_ADMINISTRATIVE_EXPENSE, administrative),
            (IS_DEPRECIATION, depreciation),
            (IS_OPERATING_EXPENSE, opex),
            (IS_NET_OPERATING_INCOME, noi),
            (IS_DONATIONS_LOAN_CAPITAL, donations_capital),
            (IS_DONATIONS_OPERATIONS, donations_operations),
            (IS_OTHER_NON_OPERATING_REVENUE, 0),
            (IS_NON_OPERATING_EXPENSE, 0),
            (IS_TAXES, 0),
            (IS_NET_INCOME, net_income),
            (PF_LOAN_OFFICERS, loan_officers),
            (PF_WRITE_OFFS, write_offs),
            (PF_SUBSIDIZED_FUNDING, subsidized),
            (PF_SUBSIDIZED_FUNDING_INTEREST, round(subsidized as f64 * 0.02 / 4.0)),
            (PF_IN_KIND_SUBSIDY, if small { round(avg_glp * 0.0005) } else { 0 }),
        ]
        .into_iter()
        .collect();
        out.push(lines);
    }
    out
}

/// A statement as the CSV file an association sends.
pub(crate) fn csv(lines: &Lines) -> String {
    let mut text = String::from("line,value\n");
    for line in LINES {
        if let Some(value) = lines.get(line.code) {
            let value = match line.unit {
                LineUnit::Count => value.to_string(),
                LineUnit::Mad => crate::period::centimes_to_text(*value),
            };
            text.push_str(&format!("{},{value}\n", line.code));
        }
    }
    text
}

/// When the demo's statement of quarter `q` arrived: 40 days after the quarter, on time.
fn received_at(q: usize) -> chrono::DateTime<Utc> {
    let day = quarter(q).last_month().last_day() + chrono::Days::new(40);
    day.and_hms_opt(10, 0, 0).expect("a time").and_utc()
}

fn refused(code: &str, q: usize, why: String) -> DbErr {
    DbErr::Custom(format!(
        "the demo's statement of {code} for {} was refused: {why}",
        quarter(q)
    ))
}

/// Sends every association's statements through validation and acceptance (after the monthly reports, which they
/// are checked against), then releases each quarter. Returns the statements accepted.
pub(crate) async fn send_all<C: ConnectionTrait>(db: &C, statistics: &Statistics, ids: &Ids) -> Result<usize, DbErr> {
    let owners: HashMap<i32, association::Model> = association::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let today = Utc::now().date_naive();
    let current = Month(today.year() * 100 + today.month() as i32);
    let mut sent = 0;
    let all: Vec<Vec<Lines>> = (0..ASSOCIATIONS.len()).map(|a| statements(statistics, a)).collect();
    let mut previous: BTreeMap<usize, Lines> = BTreeMap::new();
    for q in 0..QUARTERS {
        for (a, quarters) in all.iter().enumerate() {
            let code = ASSOCIATIONS[a].code;
            let owner = owners
                .get(&ids.associations[a])
                .ok_or_else(|| DbErr::RecordNotFound(format!("association {code}")))?;
            let lines = &quarters[q];
            let text = csv(lines);
            let table =
                crate::submission::table::read_csv(crate::submission::table::Table::Statements, text.as_bytes())
                    .map_err(|e| refused(code, q, e.message().into()))?;
            let m = monthly(statistics, a);
            let (first, last) = (q * 3, q * 3 + 2);
            let context = Context {
                quarter: quarter(q),
                current,
                previous: previous.get(&a).cloned(),
                outstanding: Some(m.outstanding[last]),
                write_offs: Some(m.write_offs[first..=last].iter().sum()),
            };
            let (valid, report) = validate::validate(Some(&table), &context);
            let Some(valid) = valid else {
                return Err(refused(code, q, format!("{:?}", report.errors)));
            };
            if !report.warnings.is_empty() {
                return Err(refused(code, q, format!("warnings {:?}", report.warnings)));
            }
            let statement = NewStatement {
                association: code.to_owned(),
                quarter: quarter(q),
                table: Some(table),
                payload: serde_json::json!({ "format": "csv", "tables": { "statements": text } }).to_string(),
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
            Acceptance {
                actor: &actor,
                owner,
                statement: &statement,
                lines: &valid,
                hash: &crate::submission::store::content_hash(&statement.payload),
                validation: &serde_json::to_string(&report).unwrap_or_default(),
                on_behalf: false,
                received_at: received_at(q),
            }
            .apply(db)
            .await
            .map_err(|e| match e {
                crate::error::ApiError::Database(e) => e,
                other => refused(code, q, other.detail()),
            })?;
            previous.insert(a, valid);
            sent += 1;
        }
        entity::quarter_release::ActiveModel {
            id: NotSet,
            period: Set(quarter(q).last_month().0),
            released_at: Set(received_at(q) + chrono::Days::new(10)),
            released_by: Set(Some(ids.observatory)),
            note: Set(format!("Financial statements of {}.", quarter(q))),
        }
        .insert(db)
        .await?;
        // Released as `finance::store::release` does: the peer groups assigned, the quarterly alert rules judged.
        let failed = |e: crate::error::ApiError| match e {
            crate::error::ApiError::Database(e) => e,
            other => DbErr::Custom(format!("releasing {}: {}", quarter(q), other.detail())),
        };
        crate::finance::peers::assign_quarter(db, quarter(q))
            .await
            .map_err(failed)?;
        crate::alert::rules::evaluate(
            db,
            crate::alert::rules::Trigger::QuarterRelease { quarter: quarter(q) },
            received_at(q) + chrono::Days::new(10),
        )
        .await
        .map_err(failed)?;
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Operational self-sufficiency of one statement: financial revenue ÷ (financial expense + net impairment +
    /// operating expense).
    fn oss(lines: &Lines) -> f64 {
        let get = |code| lines[code] as f64;
        get(IS_FINANCIAL_REVENUE)
            / (get(IS_FINANCIAL_EXPENSE) + get(IS_IMPAIRMENT_EXPENSE) - get(IS_RECOVERIES) + get(IS_OPERATING_EXPENSE))
    }

    #[test]
    fn the_statements_hold_every_identity_and_2020_shows_the_crisis() {
        let statistics = Statistics::generate();
        let mut below = 0;
        for (a, association) in ASSOCIATIONS.iter().enumerate() {
            let quarters = statements(&statistics, a);
            for (q, lines) in quarters.iter().enumerate() {
                for identity in IDENTITIES {
                    let total = lines[identity.total];
                    let sum = identity.sum(|code| lines.get(code).copied()).unwrap();
                    assert_eq!(
                        total,
                        sum,
                        "{} {} {}",
                        ASSOCIATIONS[a].code,
                        quarter(q),
                        identity.text()
                    );
                }
                for line in LINES.iter().filter(|l| !l.signed) {
                    assert!(
                        lines[line.code] >= 0,
                        "{} {} {}",
                        ASSOCIATIONS[a].code,
                        quarter(q),
                        line.code
                    );
                }
            }
            let year = |y: usize| quarters[y * 4..y * 4 + 4].iter().map(oss).sum::<f64>() / 4.0;
            assert!(year(0) > 1.0, "{} in 2019: {}", association.code, year(0));
            if quarters[4..].iter().any(|q| oss(q) < 1.0) {
                below += 1;
            }
        }
        assert!(below >= 2, "{below} associations below 100 % OSS in a quarter of 2020");
    }
}
