//! The indicator layer: each rule on a small hand-computed fixture, the
//! published national figures from `indicators` on the demo data, the cost in
//! statements, and rollups that answer exactly as the facts.

use api::indicator::catalog::{Agg, Dim};
use api::indicator::cube::{CubeFilter, CubeRequest};
use api::indicator::store::{Reads, compute};
use api::period::{Granularity, Month, Period};
use observatory_tests::{Backend, Fixture, TestApp, on_both_backends, spawn_app};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

/// Inserts fixture rows (plain SQL valid on both backends) and brings the rollups in step.
pub(crate) async fn seed(app: &TestApp, statements: &[String]) {
    for sql in statements {
        app.db
            .execute_unprepared(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    api::rollup::refresh(&app.db, None).await.expect("rollups refresh");
}

pub(crate) fn associations(codes: &[&str]) -> String {
    let rows: Vec<String> = codes
        .iter()
        .map(|c| format!("('{c}', '{c}', '{c}', 2000, 'ACTIVE', 'Rabat')"))
        .collect();
    format!(
        "INSERT INTO association (code, name_fr, name_ar, founded_year, status, head_office_city) VALUES {}",
        rows.join(", ")
    )
}

pub(crate) fn cell(association: &str, region: &str, period: i32, segment: &str, gender: &str, area: &str) -> String {
    format!(
        "(SELECT id FROM association WHERE code = '{association}'), (SELECT id FROM region WHERE code = '{region}'), \
         {period}, '{segment}', '{gender}', '{area}'"
    )
}

/// Active and new clients of one cell (individual, women, urban unless said).
pub(crate) fn clients(association: &str, region: &str, period: i32, active: i64, new: i64) -> String {
    format!(
        "INSERT INTO client_stat (association_id, region_id, period, segment, gender, area, active_clients, new_clients) \
         VALUES ({}, {active}, {new})",
        cell(association, region, period, "INDIVIDUAL", "FEMALE", "URBAN")
    )
}

/// Loan figures of one cell, amounts in MAD.
struct Loans {
    disbursed: i64,
    outstanding: i64,
    par30: i64,
    due: i64,
    collected: i64,
}

fn loans(association: &str, region: &str, period: i32, l: Loans) -> String {
    format!(
        "INSERT INTO loan_stat (association_id, region_id, period, segment, gender, area, disbursed_count, disbursed_amount, \
         active_loans, outstanding_amount, par30_amount, par90_amount, write_off_amount, rescheduled_amount, repayments_due, \
         repayments_collected) VALUES ({}, 1, {}, 1, {}, {}, 0, 0, 0, {}, {})",
        cell(association, region, period, "INDIVIDUAL", "FEMALE", "URBAN"),
        l.disbursed * 100,
        l.outstanding * 100,
        l.par30 * 100,
        l.due * 100,
        l.collected * 100
    )
}

fn no_loans() -> Loans {
    Loans {
        disbursed: 0,
        outstanding: 0,
        par30: 0,
        due: 0,
        collected: 0,
    }
}

pub(crate) async fn indicators(app: &TestApp, arguments: &str, selection: &str) -> Vec<Value> {
    let data = app
        .query(
            &format!("{{ indicators({arguments}) {{ period {selection} }} }}"),
            json!({}),
        )
        .await;
    data["indicators"].as_array().unwrap().clone()
}

fn round2(value: &Value) -> f64 {
    (value.as_f64().unwrap_or_else(|| panic!("a number, got {value}")) * 100.0).round() / 100.0
}

async fn a_stock_takes_the_last_month_and_a_flow_sums_its_months(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Empty).await;
    let mut rows = vec![associations(&["AAA"])];
    for (month, active, new) in [
        (202001, 10, 1),
        (202002, 20, 2),
        (202003, 30, 3),
        (202004, 40, 4),
        (202005, 50, 5),
    ] {
        rows.push(clients("AAA", "MA-01", month, active, new));
    }
    seed(&app, &rows).await;

    let quarters = indicators(
        &app,
        r#"period: { from: "2020-Q1", to: "2020-Q2", granularity: QUARTER }"#,
        "activeClients { value } newClients { value }",
    )
    .await;
    assert_eq!(quarters.len(), 2);
    assert_eq!(quarters[0]["period"], "2020-Q1");
    assert_eq!(
        quarters[0]["activeClients"]["value"], 30.0,
        "a stock over a quarter is its last month"
    );
    assert_eq!(
        quarters[0]["newClients"]["value"], 6.0,
        "a flow over a quarter is the sum of its months"
    );
    assert_eq!(
        quarters[1]["activeClients"],
        Value::Null,
        "the quarter's last month is missing: no value, not zero"
    );
    assert_eq!(quarters[1]["newClients"]["value"], 9.0);

    let year = indicators(
        &app,
        r#"period: { from: "2020", to: "2020", granularity: YEAR }"#,
        "activeClients { value } newClients { value }",
    )
    .await;
    assert_eq!(
        year[0]["activeClients"],
        Value::Null,
        "no December figure, no year-end stock"
    );
    assert_eq!(year[0]["newClients"]["value"], 15.0);

    let months = indicators(
        &app,
        r#"period: { from: "2019-12", to: "2020-06" }"#,
        "activeClients { value }",
    )
    .await;
    let periods: Vec<&str> = months.iter().map(|r| r["period"].as_str().unwrap()).collect();
    assert_eq!(
        periods,
        ["2020-01", "2020-02", "2020-03", "2020-04", "2020-05"],
        "months without data have no row"
    );
}
on_both_backends!(a_stock_takes_the_last_month_and_a_flow_sums_its_months);

/// The rescheduled-portfolio rate and the average outstanding per borrower are ratios of sums: over a region, the
/// rescheduled portfolio over the outstanding portfolio (and the outstanding portfolio over the active clients) of
/// every association together, never a mean of the associations' ratios.
async fn rescheduled_rate_and_outstanding_per_borrower_are_ratios_of_sums(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Empty).await;
    let loans = |association: &str, outstanding: i64, rescheduled: i64| {
        format!(
            "INSERT INTO loan_stat (association_id, region_id, period, segment, gender, area, disbursed_count, \
             disbursed_amount, active_loans, outstanding_amount, par30_amount, par90_amount, write_off_amount, \
             rescheduled_amount, repayments_due, repayments_collected) VALUES ({}, 0, 0, 1, {}, 0, 0, 0, {}, 0, 0)",
            cell(association, "MA-01", 202003, "INDIVIDUAL", "FEMALE", "URBAN"),
            outstanding * 100,
            rescheduled * 100
        )
    };
    seed(
        &app,
        &[
            associations(&["AAA", "BBB"]),
            clients("AAA", "MA-01", 202003, 40, 0),
            clients("BBB", "MA-01", 202003, 10, 0),
            loans("AAA", 100_000, 5_000),
            loans("BBB", 20_000, 4_000),
        ],
    )
    .await;
    let selection = "association { code } rescheduledAmount { value } rescheduledRate { value } \
                     averageOutstandingPerBorrower { value }";
    let region = indicators(&app, r#"period: { from: "2020-03", to: "2020-03" }"#, selection).await;
    assert_eq!(region[0]["rescheduledAmount"]["value"], 9_000.0);
    assert_eq!(
        round2(&region[0]["rescheduledRate"]["value"]),
        7.5,
        "9,000 ÷ 120,000, not (5 % + 20 %) ÷ 2"
    );
    assert_eq!(
        region[0]["averageOutstandingPerBorrower"]["value"], 2_400.0,
        "120,000 MAD ÷ 50 clients"
    );
    let catalog = app.query("{ indicatorCatalog { code unit kind } }", json!({})).await;
    let entry = |code: &str| {
        catalog["indicatorCatalog"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["code"] == code)
            .cloned()
            .unwrap()
    };
    assert_eq!(entry("AVERAGE_OUTSTANDING_PER_BORROWER")["unit"], "MAD_PER_CLIENT");
    assert_eq!(entry("RESCHEDULED_RATE")["unit"], "PERCENT");
    assert_eq!(entry("RESCHEDULED_RATE")["kind"], "STOCK");
    let by_association = indicators(
        &app,
        r#"period: { from: "2020-03", to: "2020-03" }, groupBy: [ASSOCIATION]"#,
        selection,
    )
    .await;
    let values: Vec<(String, f64, f64)> = by_association
        .iter()
        .map(|r| {
            (
                r["association"]["code"].as_str().unwrap().to_owned(),
                round2(&r["rescheduledRate"]["value"]),
                round2(&r["averageOutstandingPerBorrower"]["value"]),
            )
        })
        .collect();
    assert_eq!(
        values,
        [("AAA".to_owned(), 5.0, 2_500.0), ("BBB".to_owned(), 20.0, 2_000.0)]
    );
}
on_both_backends!(rescheduled_rate_and_outstanding_per_borrower_are_ratios_of_sums);

async fn a_ratio_is_the_ratio_of_sums_not_the_average_of_ratios(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Empty).await;
    seed(
        &app,
        &[
            associations(&["AAA", "BBB"]),
            loans(
                "AAA",
                "MA-01",
                202012,
                Loans {
                    outstanding: 100,
                    par30: 50,
                    ..no_loans()
                },
            ),
            loans(
                "BBB",
                "MA-01",
                202012,
                Loans {
                    outstanding: 900,
                    par30: 9,
                    ..no_loans()
                },
            ),
        ],
    )
    .await;
    let sector = indicators(
        &app,
        r#"period: { from: "2020-12", to: "2020-12" }"#,
        "par30Rate { value numerator denominator }",
    )
    .await;
    let rate = &sector[0]["par30Rate"];
    assert_eq!(
        (rate["numerator"].as_f64(), rate["denominator"].as_f64()),
        (Some(59.0), Some(1000.0))
    );
    assert_eq!(round2(&rate["value"]), 5.9, "59 ÷ 1,000, not (50 % + 1 %) ÷ 2 = 25.5 %");
    let by_association = indicators(
        &app,
        r#"period: { from: "2020-12", to: "2020-12" }, groupBy: [ASSOCIATION]"#,
        "association { code } par30Rate { value }",
    )
    .await;
    let rates: Vec<f64> = by_association
        .iter()
        .map(|r| round2(&r["par30Rate"]["value"]))
        .collect();
    assert_eq!(rates, [50.0, 1.0]);
}
on_both_backends!(a_ratio_is_the_ratio_of_sums_not_the_average_of_ratios);

async fn comparisons_cross_the_year_boundary_and_rates_change_in_points(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Empty).await;
    seed(
        &app,
        &[
            associations(&["AAA"]),
            clients("AAA", "MA-01", 201901, 80, 0),
            clients("AAA", "MA-01", 201912, 100, 0),
            clients("AAA", "MA-01", 202001, 110, 0),
            loans(
                "AAA",
                "MA-01",
                201912,
                Loans {
                    outstanding: 1000,
                    par30: 10,
                    ..no_loans()
                },
            ),
            loans(
                "AAA",
                "MA-01",
                202001,
                Loans {
                    outstanding: 1000,
                    par30: 30,
                    ..no_loans()
                },
            ),
        ],
    )
    .await;
    let selection =
        "activeClients { value previous change changePercent } par30Rate { value previous change changePercent }";
    let previous = indicators(
        &app,
        r#"period: { from: "2020-01", to: "2020-01" }, compareTo: PREVIOUS_PERIOD"#,
        selection,
    )
    .await;
    let clients = &previous[0]["activeClients"];
    assert_eq!(
        (clients["previous"].as_f64(), clients["change"].as_f64()),
        (Some(100.0), Some(10.0)),
        "2020-01 against 2019-12"
    );
    assert_eq!(round2(&clients["changePercent"]), 10.0);
    let rate = &previous[0]["par30Rate"];
    assert_eq!(
        (
            round2(&rate["value"]),
            round2(&rate["previous"]),
            round2(&rate["change"])
        ),
        (3.0, 1.0, 2.0),
        "points"
    );
    assert_eq!(
        rate["changePercent"],
        Value::Null,
        "a rate's change is in percentage points only"
    );

    let year_ago = indicators(
        &app,
        r#"period: { from: "2020-01", to: "2020-01" }, compareTo: SAME_PERIOD_PREVIOUS_YEAR"#,
        selection,
    )
    .await;
    assert_eq!(year_ago[0]["activeClients"]["previous"], 80.0);
    assert_eq!(round2(&year_ago[0]["activeClients"]["changePercent"]), 37.5);
    assert_eq!(
        year_ago[0]["par30Rate"]["previous"],
        Value::Null,
        "no loan figures for 2019-01"
    );
}
on_both_backends!(comparisons_cross_the_year_boundary_and_rates_change_in_points);

async fn targets_sum_for_flows_and_take_the_last_month_for_stocks(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Empty).await;
    let mut rows = vec![associations(&["AAA"])];
    for (i, month) in [202001, 202002, 202003].into_iter().enumerate() {
        rows.push(loans(
            "AAA",
            "MA-01",
            month,
            Loans {
                disbursed: 90,
                outstanding: 900 * (i as i64 + 1),
                ..no_loans()
            },
        ));
        rows.push(format!(
            "INSERT INTO target (association_id, period, measure, value) VALUES \
             ((SELECT id FROM association WHERE code = 'AAA'), {month}, 'DISBURSED_AMOUNT', 10000), \
             ((SELECT id FROM association WHERE code = 'AAA'), {month}, 'OUTSTANDING_AMOUNT', {})",
            100_000 * (i as i64 + 1)
        ));
    }
    seed(&app, &rows).await;
    let selection =
        "disbursedAmount { value target targetAchievement } outstandingAmount { value target targetAchievement }";
    let quarter = indicators(
        &app,
        r#"period: { from: "2020-Q1", to: "2020-Q1", granularity: QUARTER }, groupBy: [ASSOCIATION]"#,
        selection,
    )
    .await;
    let disbursed = &quarter[0]["disbursedAmount"];
    assert_eq!(
        (disbursed["value"].as_f64(), disbursed["target"].as_f64()),
        (Some(270.0), Some(300.0))
    );
    assert_eq!(round2(&disbursed["targetAchievement"]), 90.0);
    let outstanding = &quarter[0]["outstandingAmount"];
    assert_eq!(
        (outstanding["value"].as_f64(), outstanding["target"].as_f64()),
        (Some(2700.0), Some(3000.0))
    );
    let by_region = indicators(
        &app,
        r#"period: { from: "2020-Q1", to: "2020-Q1", granularity: QUARTER }, groupBy: [REGION]"#,
        selection,
    )
    .await;
    assert_eq!(
        by_region[0]["disbursedAmount"]["target"],
        Value::Null,
        "targets are set per association, not per region"
    );
}
on_both_backends!(targets_sum_for_flows_and_take_the_last_month_for_stocks);

async fn branches_staff_and_clients_per_staff_come_from_their_own_tables(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Empty).await;
    let branch = |code: &str, kind: &str, opened: &str, closed: &str| {
        format!(
            "INSERT INTO branch (code, association_id, region_id, name, kind, area, city, latitude, longitude, opened_on, closed_on) \
             VALUES ('{code}', (SELECT id FROM association WHERE code = 'AAA'), (SELECT id FROM region WHERE code = 'MA-01'), \
             '{code}', '{kind}', 'URBAN', 'Tanger', 35.7, -5.8, '{opened}', {closed})"
        )
    };
    let staff = |gender: &str, headcount: i64| {
        format!(
            "INSERT INTO staff_stat (association_id, period, category, gender, headcount) VALUES \
             ((SELECT id FROM association WHERE code = 'AAA'), 202003, 'NETWORK', '{gender}', {headcount})"
        )
    };
    seed(
        &app,
        &[
            associations(&["AAA"]),
            branch("B1", "AGENCY", "2019-06-01", "NULL"),
            branch("B2", "AGENCY", "2020-03-15", "'2020-07-01'"),
            branch("M1", "MOBILE", "2018-01-01", "'2020-02-10'"),
            staff("FEMALE", 4),
            staff("MALE", 6),
            clients("AAA", "MA-01", 202003, 30, 3),
        ],
    )
    .await;
    let months = indicators(
        &app,
        r#"period: { from: "2020-01", to: "2020-03" }"#,
        "branches { value } mobileBranches { value }",
    )
    .await;
    let counts: Vec<(f64, f64)> = months
        .iter()
        .map(|r| {
            (
                r["branches"]["value"].as_f64().unwrap(),
                r["mobileBranches"]["value"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [(1.0, 1.0), (1.0, 0.0), (2.0, 0.0)],
        "open on the last day of each month"
    );
    let q3 = indicators(
        &app,
        r#"period: { from: "2020-Q3", to: "2020-Q3", granularity: QUARTER }"#,
        "branches { value }",
    )
    .await;
    assert_eq!(
        q3[0]["branches"]["value"], 1.0,
        "closed on 2020-07-01, not counted at the end of Q3"
    );
    let march = indicators(
        &app,
        r#"period: { from: "2020-03", to: "2020-03" }, groupBy: [ASSOCIATION]"#,
        "staff { value } clientsPerStaff { value numerator denominator }",
    )
    .await;
    assert_eq!(march[0]["staff"]["value"], 10.0);
    assert_eq!(march[0]["clientsPerStaff"]["value"], 3.0, "30 clients ÷ 10 staff");
}
on_both_backends!(branches_staff_and_clients_per_staff_come_from_their_own_tables);

async fn a_measure_without_the_requested_breakdown_is_a_field_error(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let reply = app
        .graphql(
            r#"{ indicators(period: { from: "2020-12", to: "2020-12" }, groupBy: [SEGMENT]) {
                segment activeClients { value } staff { value } } }"#,
            json!({}),
        )
        .await;
    assert!(
        !reply.codes().is_empty() && reply.codes().iter().all(|c| c == "BAD_USER_INPUT"),
        "{}",
        reply.body
    );
    assert!(
        reply.message().contains("staff has no breakdown by SEGMENT"),
        "{}",
        reply.message()
    );
    let rows = reply.body["data"]["indicators"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "one row per segment");
    assert!(
        rows.iter()
            .all(|r| r["activeClients"]["value"].is_number() && r["staff"].is_null()),
        "the other fields resolve"
    );

    let filtered = app
        .graphql(
            r#"{ indicators(period: { from: "2020-12", to: "2020-12" }, filter: { regions: ["MA-06"] }) { clientsPerStaff { value } } }"#,
            json!({}),
        )
        .await;
    assert!(
        filtered
            .message()
            .contains("clientsPerStaff has no breakdown by REGION"),
        "{}",
        filtered.message()
    );
}
on_both_backends!(a_measure_without_the_requested_breakdown_is_a_field_error);

async fn the_demo_gives_the_published_2020_figures_and_their_changes_from_2019(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let sector = indicators(
        &app,
        r#"period: { from: "2020", to: "2020", granularity: YEAR }, compareTo: SAME_PERIOD_PREVIOUS_YEAR"#,
        "activeClients { value previous } womenShare { value } ruralShare { value } disbursedAmount { value previous }
         outstandingAmount { value previous change } par30Amount { value previous } par30Rate { value previous change }
         staff { value previous } branches { value previous } mobileBranches { value previous }",
    )
    .await;
    assert_eq!(sector.len(), 1);
    let row = &sector[0];
    let pair = |name: &str| {
        (
            row[name]["value"].as_f64().unwrap(),
            row[name]["previous"].as_f64().unwrap(),
        )
    };
    assert_eq!(pair("activeClients"), (868_070.0, 905_456.0));
    assert_eq!(
        (round2(&row["womenShare"]["value"]), round2(&row["ruralShare"]["value"])),
        (48.0, 33.0)
    );
    assert_eq!(pair("disbursedAmount"), (6_010_000_000.0, 7_040_000_000.0));
    assert_eq!(pair("outstandingAmount"), (8_022_500_000.0, 7_393_000_000.0));
    assert_eq!(
        row["outstandingAmount"]["change"], 629_500_000.0,
        "about 630 M more than 2019"
    );
    assert_eq!(pair("par30Amount"), (642_940_000.0, 231_730_000.0));
    assert_eq!(
        (
            round2(&row["par30Rate"]["value"]),
            round2(&row["par30Rate"]["previous"])
        ),
        (8.01, 3.13)
    );
    assert_eq!(round2(&row["par30Rate"]["change"]), 4.88, "percentage points");
    assert_eq!(pair("staff"), (8_014.0, 7_873.0));
    assert_eq!(pair("branches"), (1_688.0, 1_691.0));
    assert_eq!(pair("mobileBranches"), (121.0, 129.0));

    let by_segment = indicators(
        &app,
        r#"period: { from: "2020", to: "2020", granularity: YEAR }, groupBy: [SEGMENT]"#,
        "segment activeClients { value } outstandingAmount { value }",
    )
    .await;
    let clients: Vec<f64> = by_segment
        .iter()
        .map(|r| r["activeClients"]["value"].as_f64().unwrap())
        .collect();
    assert_eq!(clients, [625_145.0, 236_844.0, 6_081.0]);
    let shares: Vec<f64> = by_segment
        .iter()
        .map(|r| (r["outstandingAmount"]["value"].as_f64().unwrap() / 8_022_500_000.0 * 1000.0).round() / 10.0)
        .collect();
    assert_eq!(
        shares[..2],
        [77.5, 19.2],
        "shares of outstanding in individual and solidarity-group loans"
    );

    let by_area = indicators(
        &app,
        r#"period: { from: "2020", to: "2020", granularity: YEAR }, groupBy: [AREA]"#,
        "area outstandingAmount { value } branches { value } mobileBranches { value }",
    )
    .await;
    assert_eq!(by_area[0]["area"], "URBAN");
    assert_eq!(by_area[0]["branches"]["value"], 979.0);
    assert_eq!(by_area[1]["mobileBranches"]["value"], 94.0);
    assert_eq!(
        (by_area[0]["outstandingAmount"]["value"].as_f64().unwrap() / 8_022_500_000.0 * 100.0).round(),
        66.0
    );
}
on_both_backends!(the_demo_gives_the_published_2020_figures_and_their_changes_from_2019);

async fn the_demo_gives_the_published_training_and_programme_tables(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let data = app
        .query(
            r#"{ training: trainingIndicators(groupBy: [YEAR, FORMAT], filter: { fromYear: 2020, toYear: 2020 }) {
                    year format actions trainingDays participants personDays }
                 iga: programmeIndicators(groupBy: [SECTOR, GENDER], filter: { programmes: ["IGA-2020"] }) {
                    sector gender beneficiaries grantAmount }
                 programmes: programmeIndicators(filter: { fromYear: 2020, toYear: 2020 }) {
                    programme { code } candidates beneficiaries grantAmount successRate averageGrant share }
                 activities: programmeIndicators(groupBy: [ACTIVITY], filter: { programmes: ["IGA-2020"] }) {
                    activity { code parent } beneficiaries share } }"#,
            json!({}),
        )
        .await;
    let training: Vec<(String, i64, i64, i64)> = data["training"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["year"], 2020);
            let n = |k: &str| r[k].as_i64().unwrap();
            (
                r["format"].as_str().unwrap().to_owned(),
                n("trainingDays"),
                n("participants"),
                n("personDays"),
            )
        })
        .collect();
    let published = [
        ("CERTIFIED_TRAINING", 64, 2, 128),
        ("PLANNED_STAFF_TRAINING", 213, 3_671, 4_455),
        ("MICRO_ENTREPRENEUR_TRAINING", 98, 1_579, 3_110),
        ("TRAINING_ENGINEERING", 210, 1_909, 1_050),
        ("LOGISTICAL_SUPPORT", 65, 1_044, 2_134),
        ("ELEARNING_ASSOCIATION_STAFF", 5_162, 902, 5_162),
        ("ELEARNING_OTHER", 4, 28, 112),
    ];
    assert_eq!(training.len(), published.len());
    for (format, days, participants, person_days) in published {
        assert!(
            training.contains(&(format.to_owned(), days, participants, person_days)),
            "{format}: {training:?}"
        );
    }

    let iga = data["iga"].as_array().unwrap();
    let winners = |sector: &str, gender: &str| {
        iga.iter()
            .find(|r| r["sector"] == sector && r["gender"] == gender)
            .map(|r| r["beneficiaries"].as_i64().unwrap())
            .unwrap_or(0)
    };
    assert_eq!(
        (
            winners("AGRICULTURE_LIVESTOCK", "FEMALE"),
            winners("AGRICULTURE_LIVESTOCK", "MALE")
        ),
        (1, 22)
    );
    assert_eq!(
        (winners("ARTS_CRAFTS", "FEMALE"), winners("ARTS_CRAFTS", "MALE")),
        (14, 36)
    );
    assert_eq!((winners("OTHER", "FEMALE"), winners("OTHER", "MALE")), (9, 24));
    assert_eq!(
        iga.iter().map(|r| r["beneficiaries"].as_i64().unwrap()).sum::<i64>(),
        163
    );

    let programme = |code: &str| {
        data["programmes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["programme"]["code"] == code)
            .cloned()
            .unwrap()
    };
    let iga_total = programme("IGA-2020");
    assert_eq!(
        (iga_total["candidates"].as_i64(), iga_total["beneficiaries"].as_i64()),
        (Some(301), Some(163))
    );
    assert_eq!(iga_total["grantAmount"], "2700000.00");
    assert_eq!(programme("MICRO-ACTIVITIES-MA06-2020")["grantAmount"], "1900000.00");
    assert_eq!(programme("PRIZE-2020")["candidates"], 116);
    assert_eq!(programme("PRIZE-2020")["beneficiaries"], 27);
    // 163 winners of 301 candidates; 2,700,000 MAD over 163 winners.
    assert_eq!(round2(&iga_total["successRate"]), 54.15);
    assert_eq!(iga_total["averageGrant"], "16564.42");
    let shares: Vec<f64> = data["programmes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["share"].as_f64().unwrap())
        .collect();
    assert_eq!(
        (shares.iter().sum::<f64>() * 100.0).round(),
        10_000.0,
        "the shares add up to 100 %: {shares:?}"
    );

    // Winners roll up to the economic activities their sectors fall under, as loans are classified.
    let activities = data["activities"].as_array().unwrap();
    let activity = |code: &str| {
        activities
            .iter()
            .find(|r| r["activity"]["code"] == code)
            .unwrap_or_else(|| panic!("no {code} in {activities:?}"))
            .clone()
    };
    assert_eq!(activity("CRAFTS")["beneficiaries"], 14 + 36, "ARTS_CRAFTS");
    assert_eq!(activity("AGRICULTURE_LIVESTOCK")["beneficiaries"], 1 + 22);
    assert_eq!(
        activity("AGRICULTURE_LIVESTOCK")["activity"]["parent"],
        "INCOME_GENERATING"
    );
    assert_eq!(activity("OTHER_IGA")["beneficiaries"], 9 + 24, "OTHER");
    let sector_total = |sectors: &[&str]| -> i64 {
        iga.iter()
            .filter(|r| sectors.contains(&r["sector"].as_str().unwrap()))
            .map(|r| r["beneficiaries"].as_i64().unwrap())
            .sum()
    };
    let services = [
        "HAIRDRESSING_BEAUTY",
        "LOGISTICS_TRANSPORT",
        "LEISURE",
        "EDUCATION_EARLY_CHILDHOOD",
        "MECHANICS",
        "HEALTH",
    ];
    assert_eq!(
        activity("SERVICES")["beneficiaries"].as_i64(),
        Some(sector_total(&services))
    );
    assert_eq!(
        activities
            .iter()
            .map(|r| r["beneficiaries"].as_i64().unwrap())
            .sum::<i64>(),
        163
    );
    let shares: f64 = activities.iter().map(|r| r["share"].as_f64().unwrap()).sum();
    assert_eq!((shares * 100.0).round(), 10_000.0);
}
on_both_backends!(the_demo_gives_the_published_training_and_programme_tables);

async fn an_indicator_request_costs_one_statement_per_table_touched(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let everything = "activeClients { value } newClients { value target } womenShare { value } ruralShare { value }
        disbursedCount { value target } disbursedAmount { value target targetAchievement } averageDisbursedLoan { value }
        activeLoans { value } outstandingAmount { value target } averageOutstandingLoan { value } par30Amount { value }
        par30Rate { value } par90Amount { value } par90Rate { value } writeOffAmount { value } collectionRate { value }
        branches { value } mobileBranches { value } staff { value } clientsPerStaff { value }";
    let cases = [
        (
            r#"period: { from: "2020-12", to: "2020-12" }"#,
            "activeClients { value }",
            1,
        ),
        (
            r#"period: { from: "2020-12", to: "2020-12" }"#,
            "activeClients { value } womenShare { value }",
            1,
        ),
        (
            r#"period: { from: "2019-01", to: "2020-12" }, groupBy: [ASSOCIATION], compareTo: PREVIOUS_PERIOD"#,
            everything,
            // Clients, loans, staff, branches, targets, and who set the targets among the associations with figures.
            6,
        ),
        (
            r#"period: { from: "2019", to: "2020", granularity: YEAR }, groupBy: [ASSOCIATION], compareTo: SAME_PERIOD_PREVIOUS_YEAR"#,
            everything,
            6,
        ),
    ];
    let count = |arguments: &str, selection: &str| {
        let query = format!("{{ indicators({arguments}) {{ period {selection} }} }}");
        let app = &app;
        async move {
            let (statements, data) = app.statements_of(&query, json!({})).await;
            (statements, data["indicators"].as_array().unwrap().len())
        }
    };
    for (arguments, selection, tables) in cases {
        let (statements, rows) = count(arguments, selection).await;
        assert!(rows > 0);
        assert_eq!(
            statements, tables,
            "{arguments} {selection}: one statement per table touched (and one for who set the targets)"
        );
    }
    let (statements, rows) = count(
        r#"period: { from: "2019-Q1", to: "2020-Q4", granularity: QUARTER }, groupBy: [REGION, SEGMENT], filter: { associations: ["ATLAS", "NOUR"] }"#,
        "region { code } segment par30Rate { value } outstandingAmount { value previous }",
    )
    .await;
    assert_eq!(rows, 8 * 12 * 3, "8 quarters × 12 regions × 3 segments");
    assert_eq!(
        statements, 3,
        "association codes, loan figures, region look-ups: {rows} rows"
    );
}
on_both_backends!(an_indicator_request_costs_one_statement_per_table_touched);

async fn rollups_answer_exactly_as_the_fact_tables(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let aggs = [
        Agg::ActiveClients,
        Agg::ActiveFemale,
        Agg::ActiveRural,
        Agg::NewClients,
        Agg::DisbursedCount,
        Agg::DisbursedAmount,
        Agg::Outstanding,
        Agg::Par30,
        Agg::Par90,
        Agg::RepaymentsDue,
        Agg::RepaymentsCollected,
    ];
    let request = |granularity: Granularity, group_by: Vec<Dim>, filter: CubeFilter, use_rollups: bool| {
        let months = match granularity {
            Granularity::Month => (0..24).map(|i| Month(201901).shift(i)).collect::<Vec<_>>(),
            _ => vec![Month(201901), Month(202001), Month(201904), Month(202010)],
        };
        CubeRequest {
            granularity,
            periods: months.into_iter().map(|m| Period::containing(granularity, m)).collect(),
            group_by,
            filter,
            aggs: aggs.into_iter().collect(),
            use_rollups,
            access: api::scope::RowAccess::All,
            small_groups: None,
            document_dims: None,
            derived: None,
        }
    };
    let regions = CubeFilter {
        regions: Some(vec![6, 7]),
        ..CubeFilter::default()
    };
    let cases = vec![
        (Granularity::Month, vec![], CubeFilter::default()),
        (Granularity::Quarter, vec![Dim::Region], CubeFilter::default()),
        (
            Granularity::Year,
            vec![Dim::Segment, Dim::Gender, Dim::Area],
            CubeFilter::default(),
        ),
        (Granularity::Month, vec![Dim::Association], CubeFilter::default()),
        (
            Granularity::Quarter,
            vec![Dim::Association, Dim::Segment],
            CubeFilter::default(),
        ),
        (Granularity::Year, vec![Dim::Segment], regions),
    ];
    for (granularity, group_by, filter) in cases {
        let facts = compute(
            &app.db,
            &request(granularity, group_by.clone(), filter.clone(), false),
            &Reads::default(),
        )
        .await
        .unwrap();
        let rollups = compute(
            &app.db,
            &request(granularity, group_by.clone(), filter.clone(), true),
            &Reads::default(),
        )
        .await
        .unwrap();
        assert!(!facts.cells.is_empty());
        assert_eq!(facts, rollups, "{granularity:?} by {group_by:?}");
    }

    // A write to the facts, refreshed inside its transaction, keeps the rollups exact; unrefreshed, they would differ.
    let sector = request(Granularity::Month, vec![], CubeFilter::default(), true);
    let txn = api::db::begin_write(&app.db).await.unwrap();
    txn.execute_unprepared(
        "UPDATE loan_stat SET outstanding_amount = outstanding_amount + 12345 WHERE period = 202012",
    )
    .await
    .unwrap();
    let stale = compute(&txn, &sector, &Reads::default()).await.unwrap();
    let facts = compute(
        &txn,
        &CubeRequest {
            use_rollups: false,
            ..sector.clone()
        },
        &Reads::default(),
    )
    .await
    .unwrap();
    assert_ne!(stale, facts, "the comparison notices a rollup out of step");
    api::rollup::refresh(&txn, Some(&[202012])).await.unwrap();
    txn.commit().await.unwrap();
    assert_eq!(compute(&app.db, &sector, &Reads::default()).await.unwrap(), facts);
}
on_both_backends!(rollups_answer_exactly_as_the_fact_tables);

#[tokio::test]
async fn the_catalogue_describes_every_measure_of_an_indicator_row() {
    let app = spawn_app(&Backend::Sqlite, Fixture::Empty).await;
    let data = app
        .graphql_as(
            None,
            "{ indicatorCatalog { code field labelFr labelAr labelEn unit kind formula formulaFr formulaAr dimensions hasTarget } }",
            json!({}),
        )
        .await;
    let catalogue = data.data()["indicatorCatalog"].as_array().unwrap().clone();
    let row_fields = app
        .graphql_as(
            None,
            r#"{ __type(name: "IndicatorRow") { fields { name type { name } } } }"#,
            json!({}),
        )
        .await;
    let measures: Vec<String> = row_fields.data()["__type"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["type"]["name"] == "Measure")
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect();
    let described: Vec<String> = catalogue
        .iter()
        .map(|m| m["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        described, measures,
        "one catalogue entry per measure field, in the same order"
    );
    for entry in &catalogue {
        for label in ["labelFr", "labelAr", "labelEn", "formula", "formulaFr", "formulaAr"] {
            assert!(!entry[label].as_str().unwrap().is_empty(), "{} {label}", entry["code"]);
        }
        for arabic in ["labelAr", "formulaAr"] {
            let text = entry[arabic].as_str().unwrap();
            assert!(
                text.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)),
                "{arabic}: {text}"
            );
        }
    }
    let entry = |code: &str| catalogue.iter().find(|m| m["code"] == code).unwrap().clone();
    assert_eq!(entry("PAR30_RATE")["unit"], "PERCENT");
    assert_eq!(entry("PAR30_RATE")["kind"], "STOCK");
    assert_eq!(entry("DISBURSED_AMOUNT")["kind"], "FLOW");
    assert_eq!(entry("DISBURSED_AMOUNT")["hasTarget"], true);
    assert_eq!(entry("STAFF")["dimensions"], json!(["ASSOCIATION", "GENDER"]));
    assert_eq!(
        entry("BRANCHES")["dimensions"],
        json!(["ASSOCIATION", "REGION", "AREA"])
    );
    assert_eq!(entry("CLIENTS_PER_STAFF")["dimensions"], json!(["ASSOCIATION"]));
    assert_eq!(entry("WOMEN_SHARE")["dimensions"].as_array().unwrap().len(), 5);
}

/// The loan measures by economic activity, read from the loans by activity, split the loans table's figures exactly:
/// a region's activities add up to the region, the sector's activities to the sector, and a filter on activities
/// sums only those.
async fn loan_measures_by_activity_add_up_to_the_loans_tables_figures(backend: Backend) {
    let mut app = spawn_app(&backend, Fixture::Demo).await;
    let partner = app.issue_key(observatory_tests::PartnerKind::Ministry, None).await;
    app.set_key(Some(partner));
    let selection = "region { code } activity disbursedCount { value } disbursedAmount { value } activeLoans { value } \
                     outstandingAmount { value } par30Rate { numerator denominator value } \
                     repaymentsCollected { value } collectionRate { numerator denominator }";
    let period = r#"period: { from: "2020-12", to: "2020-12" }"#;
    let fields = [
        ("disbursedCount", "value"),
        ("disbursedAmount", "value"),
        ("activeLoans", "value"),
        ("outstandingAmount", "value"),
        ("par30Rate", "numerator"),
        ("repaymentsCollected", "value"),
        ("collectionRate", "denominator"),
    ];
    let by_region_activity = indicators(&app, &format!("{period}, groupBy: [REGION, ACTIVITY]"), selection).await;
    let by_region = indicators(&app, &format!("{period}, groupBy: [REGION]"), selection).await;
    let by_activity = indicators(&app, &format!("{period}, groupBy: [ACTIVITY]"), selection).await;
    let sector = indicators(&app, period, selection).await;
    assert_eq!(by_region.len(), 12, "every region has loans");
    assert!(by_region_activity.len() > 12 * 5, "{} rows", by_region_activity.len());
    assert_eq!(by_activity.len(), 9, "the demo finances every activity but UNSPECIFIED");
    let sum = |rows: &[Value], field: &str, part: &str| -> f64 {
        rows.iter().map(|r| r[field][part].as_f64().unwrap_or(0.0)).sum()
    };
    for region in &by_region {
        let code = &region["region"]["code"];
        assert!(region["activity"].is_null());
        let activities: Vec<Value> = by_region_activity
            .iter()
            .filter(|r| &r["region"]["code"] == code)
            .cloned()
            .collect();
        for (field, part) in fields {
            let whole = region[field][part].as_f64().unwrap();
            assert!(
                (sum(&activities, field, part) - whole).abs() < 0.005,
                "{code} {field}: activities {} vs region {whole}",
                sum(&activities, field, part)
            );
        }
    }
    for (field, part) in fields {
        let whole = sector[0][field][part].as_f64().unwrap();
        assert!((sum(&by_activity, field, part) - whole).abs() < 0.005, "{field}");
        assert!((sum(&by_region, field, part) - whole).abs() < 0.005, "{field}");
    }
    // Ratios stay ratios of sums.
    for row in &by_activity {
        let rate = &row["par30Rate"];
        let expected = rate["numerator"].as_f64().unwrap() / rate["denominator"].as_f64().unwrap() * 100.0;
        assert!((rate["value"].as_f64().unwrap() - expected).abs() < 1e-9);
    }
    // One cell read against the stored rows.
    let stored: i64 = {
        let row = app
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                app.db.get_database_backend(),
                "SELECT CAST(SUM(outstanding_amount) AS BIGINT) AS total FROM activity_stat \
                 WHERE period = 202012 AND activity = 'COMMERCE' \
                 AND region_id = (SELECT id FROM region WHERE code = 'MA-06')",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get("", "total").unwrap()
    };
    let cell = by_region_activity
        .iter()
        .find(|r| r["region"]["code"] == "MA-06" && r["activity"] == "COMMERCE")
        .expect("Casablanca-Settat commerce");
    assert_eq!(
        (cell["outstandingAmount"]["value"].as_f64().unwrap() * 100.0).round() as i64,
        stored
    );
    // A filter on activities sums only those.
    let two = indicators(
        &app,
        &format!("{period}, filter: {{ activities: [COMMERCE, SERVICES] }}"),
        selection,
    )
    .await;
    let expected: f64 = by_activity
        .iter()
        .filter(|r| r["activity"] == "COMMERCE" || r["activity"] == "SERVICES")
        .map(|r| r["disbursedAmount"]["value"].as_f64().unwrap())
        .sum();
    assert!((two[0]["disbursedAmount"]["value"].as_f64().unwrap() - expected).abs() < 0.005);
}
on_both_backends!(loan_measures_by_activity_add_up_to_the_loans_tables_figures);

/// ACTIVITY combines with ASSOCIATION and REGION only, and only for the measures the loans by activity carry: other
/// requests answer a field error naming what is possible, and the other fields still resolve.
async fn activity_breakdowns_the_loans_by_activity_cannot_give_are_field_errors(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let reply = app
        .graphql(
            r#"{ indicators(period: { from: "2020-12", to: "2020-12" }, groupBy: [ACTIVITY]) {
                activity activeClients { value } outstandingAmount { value } } }"#,
            json!({}),
        )
        .await;
    assert!(
        reply.message().contains("activeClients has no breakdown by ACTIVITY"),
        "{}",
        reply.message()
    );
    let rows = reply.body["data"]["indicators"].as_array().unwrap();
    assert_eq!(
        rows.len(),
        9,
        "the demo finances every activity but UNSPECIFIED: {}",
        reply.body
    );
    assert!(rows.iter().all(|r| r["outstandingAmount"]["value"].is_number()));

    let reply = app
        .graphql(
            r#"{ indicators(period: { from: "2020-12", to: "2020-12" }, groupBy: [SEGMENT], filter: { activities: [CRAFTS] }) {
                segment disbursedAmount { value } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(reply.codes(), vec!["BAD_USER_INPUT".to_owned()], "{}", reply.body);
    assert!(
        reply
            .message()
            .contains("disbursedAmount has no breakdown by SEGMENT together with ACTIVITY"),
        "{}",
        reply.message()
    );
    let catalog = app.query("{ indicatorCatalog { field dimensions } }", json!({})).await;
    let with_activity: Vec<&str> = catalog["indicatorCatalog"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["dimensions"].as_array().unwrap().iter().any(|d| d == "ACTIVITY"))
        .map(|m| m["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        with_activity,
        [
            "disbursedCount",
            "disbursedAmount",
            "averageDisbursedLoan",
            "activeLoans",
            "outstandingAmount",
            "averageOutstandingLoan",
            "par30Amount",
            "par30Rate",
            "repaymentsDue",
            "repaymentsCollected",
            "collectionRate"
        ]
    );
}
on_both_backends!(activity_breakdowns_the_loans_by_activity_cannot_give_are_field_errors);

/// A region's target is the sum of the targets the associations set for that region, shown only when every
/// association with figures there set one (`targetCoverage` says how many did); the sector's is the sum of the
/// associations' own; repayments collected have targets too.
async fn regional_targets_sum_the_associations_and_wait_for_every_one(backend: Backend) {
    let mut app = spawn_app(&backend, Fixture::Demo).await;
    let partner = app.issue_key(observatory_tests::PartnerKind::Ministry, None).await;
    app.set_key(Some(partner));
    let selection = "region { code } disbursedAmount { value target targetCoverage { setting expected } } \
                     repaymentsCollected { value target targetAchievement } outstandingAmount { target }";
    let month = r#"period: { from: "2020-12", to: "2020-12" }"#;
    let stored = |sql: String| {
        let db = &app.db;
        async move {
            let row = db
                .query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql))
                .await
                .unwrap()
                .unwrap();
            row.try_get::<Option<i64>>("", "total").unwrap().unwrap_or(0)
        }
    };
    let by_region = indicators(&app, &format!("{month}, groupBy: [REGION]"), selection).await;
    assert_eq!(by_region.len(), 12);
    for row in &by_region {
        let code = row["region"]["code"].as_str().unwrap();
        let set = stored(format!(
            "SELECT CAST(SUM(value) AS BIGINT) AS total FROM target WHERE period = 202012 \
             AND measure = 'DISBURSED_AMOUNT' AND activity IS NULL \
             AND region_id = (SELECT id FROM region WHERE code = '{code}')"
        ))
        .await;
        assert!(set > 0, "{code} has regional targets");
        let coverage = &row["disbursedAmount"]["targetCoverage"];
        assert_eq!(coverage["setting"], coverage["expected"], "{code}: {row}");
        assert_eq!(
            (row["disbursedAmount"]["target"].as_f64().unwrap() * 100.0).round() as i64,
            set,
            "{code}"
        );
        assert!(row["repaymentsCollected"]["target"].is_number(), "{row}");
    }
    // The sector's target is the associations' own targets, which their regional targets add up to.
    let sector = indicators(&app, month, selection).await;
    let regions: f64 = by_region
        .iter()
        .map(|r| r["disbursedAmount"]["target"].as_f64().unwrap())
        .sum();
    let own = stored(
        "SELECT CAST(SUM(value) AS BIGINT) AS total FROM target WHERE period = 202012 \
         AND measure = 'DISBURSED_AMOUNT' AND region_id IS NULL AND activity IS NULL"
            .to_owned(),
    )
    .await;
    let sector_target = sector[0]["disbursedAmount"]["target"].as_f64().unwrap();
    assert_eq!((sector_target * 100.0).round() as i64, own);
    assert!(
        (regions - sector_target).abs() < 0.005,
        "{regions} against {sector_target}"
    );
    let collected = &sector[0]["repaymentsCollected"];
    let achievement = collected["value"].as_f64().unwrap() / collected["target"].as_f64().unwrap() * 100.0;
    assert!((collected["targetAchievement"].as_f64().unwrap() - achievement).abs() < 1e-9);
    // A quarter's flow target sums its months.
    let quarter = indicators(
        &app,
        r#"period: { from: "2020-Q4", to: "2020-Q4", granularity: QUARTER }, groupBy: [REGION], filter: { regions: ["MA-06"] }"#,
        selection,
    )
    .await;
    let q4 = stored(
        "SELECT CAST(SUM(value) AS BIGINT) AS total FROM target WHERE period BETWEEN 202010 AND 202012 \
         AND measure = 'DISBURSED_AMOUNT' AND activity IS NULL \
         AND region_id = (SELECT id FROM region WHERE code = 'MA-06')"
            .to_owned(),
    )
    .await;
    assert_eq!(
        (quarter[0]["disbursedAmount"]["target"].as_f64().unwrap() * 100.0).round() as i64,
        q4
    );
    // One association without its Casablanca-Settat target: that region's target waits for it, the others stand.
    app.db
        .execute_unprepared(
            "DELETE FROM target WHERE period = 202012 AND measure = 'DISBURSED_AMOUNT' \
             AND region_id = (SELECT id FROM region WHERE code = 'MA-06') \
             AND association_id = (SELECT MIN(association_id) FROM target WHERE period = 202012 \
             AND region_id = (SELECT id FROM region WHERE code = 'MA-06'))",
        )
        .await
        .unwrap();
    let after = indicators(&app, &format!("{month}, groupBy: [REGION]"), selection).await;
    for (before, now) in by_region.iter().zip(&after) {
        let coverage = &now["disbursedAmount"]["targetCoverage"];
        if now["region"]["code"] == "MA-06" {
            assert!(now["disbursedAmount"]["target"].is_null(), "{now}");
            assert_eq!(
                coverage["setting"].as_i64().unwrap() + 1,
                coverage["expected"].as_i64().unwrap(),
                "{now}"
            );
        } else {
            assert_eq!(now["disbursedAmount"]["target"], before["disbursedAmount"]["target"]);
        }
    }
}
on_both_backends!(regional_targets_sum_the_associations_and_wait_for_every_one);

/// The write-off ratio and client turnover are annualised over the average of the month-ends from the one before
/// the period to its last, computed by hand here, and differ from the common wrong rules (opening plus closing ÷ 2,
/// not annualised).
async fn write_off_ratio_and_client_turnover_annualise_over_the_average_of_month_ends(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Empty).await;
    // September (the quarter's opening) to December 2020: outstanding, write-offs (MAD), active and new clients.
    let months = [
        (202009, 800, 0, 90, 0),
        (202010, 1_000, 10, 100, 15),
        (202011, 1_600, 30, 110, 20),
        (202012, 1_400, 20, 105, 5),
    ];
    let mut statements = vec![associations(&["AAA"])];
    for (period, outstanding, write_off, active, new) in months {
        statements.push(clients("AAA", "MA-06", period, active, new));
        statements.push(format!(
            "INSERT INTO loan_stat (association_id, region_id, period, segment, gender, area, disbursed_count, \
             disbursed_amount, active_loans, outstanding_amount, par30_amount, par90_amount, write_off_amount, \
             rescheduled_amount, repayments_due, repayments_collected) VALUES ({}, 0, 0, 1, {}, 0, 0, {}, 0, 0, 0)",
            cell("AAA", "MA-06", period, "INDIVIDUAL", "FEMALE", "URBAN"),
            outstanding * 100,
            write_off * 100
        ));
    }
    seed(&app, &statements).await;
    let selection = "writeOffRatio { value numerator denominator } clientTurnover { value numerator denominator }";
    let quarter = indicators(
        &app,
        r#"period: { from: "2020-Q4", to: "2020-Q4", granularity: QUARTER }"#,
        selection,
    )
    .await;
    let ratio = &quarter[0]["writeOffRatio"];
    // (10 + 30 + 20) × 12 ÷ 3 = 240; (800 + 1,000 + 1,600 + 1,400) ÷ 4 = 1,200.
    assert_eq!(ratio["numerator"], 240.0);
    assert_eq!(ratio["denominator"], 1_200.0);
    assert_eq!(
        ratio["value"], 20.0,
        "not 240 ÷ ((800 + 1,400) ÷ 2) = 21.8, nor 60 ÷ 1,200 = 5"
    );
    let turnover = &quarter[0]["clientTurnover"];
    // Left: 90 + 40 − 105 = 25, × 4 = 100; (90 + 100 + 110 + 105) ÷ 4 = 101.25.
    assert_eq!(turnover["numerator"], 100.0);
    assert_eq!(turnover["denominator"], 101.25);
    assert!((turnover["value"].as_f64().unwrap() - 100.0 / 101.25 * 100.0).abs() < 1e-9);
    let december = indicators(&app, r#"period: { from: "2020-12", to: "2020-12" }"#, selection).await;
    // A month: 20 × 12 = 240 over (1,600 + 1,400) ÷ 2 = 1,500; clients: (110 + 5 − 105) × 12 = 120 over 107.5.
    assert_eq!(december[0]["writeOffRatio"]["value"], 16.0);
    assert!((december[0]["clientTurnover"]["value"].as_f64().unwrap() - 120.0 / 107.5 * 100.0).abs() < 1e-9);
    // September has no month-end before it: no average, no value.
    let september = indicators(&app, r#"period: { from: "2020-09", to: "2020-09" }"#, selection).await;
    assert!(
        september.iter().all(|r| r["writeOffRatio"]["value"].is_null()),
        "{september:?}"
    );
}
on_both_backends!(write_off_ratio_and_client_turnover_annualise_over_the_average_of_month_ends);

/// Training since the centre began: the published total at the end of 2020 (70,995 participants, 160,979
/// person-days), plus the actions recorded after it; no total for years before the first published one.
async fn cumulative_training_runs_from_the_published_total(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let query =
        r#"{ trainingIndicators(groupBy: [YEAR]) { year participants cumulativeParticipants cumulativePersonDays } }"#;
    let rows = app.query(query, json!({})).await["trainingIndicators"].clone();
    let year = |rows: &Value, y: i64| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["year"] == y)
            .cloned()
            .unwrap_or_else(|| panic!("{y} in {rows}"))
    };
    assert_eq!(year(&rows, 2020)["cumulativeParticipants"], 70_995);
    assert_eq!(year(&rows, 2020)["cumulativePersonDays"], 160_979);
    assert!(
        year(&rows, 2019)["cumulativeParticipants"].is_null(),
        "no published total before 2020"
    );
    app.db
        .execute_unprepared(
            "INSERT INTO training_action (code, format, audience, topic, delivery, starts_on, ends_on, training_days, \
             participants, person_days) VALUES ('T-2021-1', 'PLANNED_STAFF_TRAINING', 'ASSOCIATION_STAFF', \
             'Risk management', 'ON_SITE', '2021-03-01', '2021-03-03', 3, 100, 250)",
        )
        .await
        .unwrap();
    let rows = app.query(query, json!({})).await["trainingIndicators"].clone();
    assert_eq!(year(&rows, 2021)["cumulativeParticipants"], 70_995 + 100);
    assert_eq!(year(&rows, 2021)["cumulativePersonDays"], 160_979 + 250);
    assert_eq!(
        year(&rows, 2020)["cumulativeParticipants"],
        70_995,
        "a later action leaves 2020 as published"
    );
    let by_format = app
        .query(
            r#"{ trainingIndicators(groupBy: [YEAR, FORMAT]) { cumulativeParticipants } }"#,
            json!({}),
        )
        .await;
    assert!(
        by_format["trainingIndicators"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["cumulativeParticipants"].is_null()),
        "running totals are of the whole activity, year by year"
    );
}
on_both_backends!(cumulative_training_runs_from_the_published_total);

/// An association sets its year's targets (over all its regions, by region, for repayments collected) with its
/// `write` key; they replace the year's earlier ones and are what `indicators` sums. A target that does not read is
/// refused naming it, and nothing is stored; another association's key is refused.
async fn an_association_sets_its_years_targets_by_region(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let nour = app
        .key_with(observatory_tests::PartnerKind::Association, Some("NOUR"), &["write"])
        .await;
    let other = app
        .key_with(observatory_tests::PartnerKind::Association, Some("ATLAS"), &["write"])
        .await;
    // January 2021 is not released: the observatory reads it.
    let partner = app.issue_key(observatory_tests::PartnerKind::Observatory, None).await;
    let set = |targets: &str| {
        format!(
            r#"mutation {{ setTargets(association: "NOUR", year: 2021, targets: [{targets}]) {{ year targets }} }}"#
        )
    };
    let targets = r#"{ month: 1, measure: DISBURSED_AMOUNT, amount: "1000.50" },
        { month: 1, measure: DISBURSED_AMOUNT, region: "MA-06", amount: "600" },
        { month: 1, measure: DISBURSED_AMOUNT, region: "MA-07", amount: "400.50" },
        { month: 1, measure: REPAYMENTS_COLLECTED, amount: "900" },
        { month: 2, measure: NEW_CLIENTS, count: 10 }"#;
    let reply = app.graphql_as(Some(&nour), &set(targets), json!({})).await;
    assert_eq!(reply.data()["setTargets"], json!({ "year": 2021, "targets": 5 }));
    let (app, partner) = (&app, &partner);
    let read = |group_by: &str| {
        let query = format!(
            r#"{{ indicators(period: {{ from: "2021-01", to: "2021-01" }}, groupBy: [{group_by}],
                 filter: {{ associations: ["NOUR"] }}) {{ region {{ code }} disbursedAmount {{ target }}
                 repaymentsCollected {{ target }} }} }}"#
        );
        async move { app.graphql_as(Some(partner), &query, json!({})).await.data()["indicators"].clone() }
    };
    let own = read("ASSOCIATION").await;
    assert_eq!(own[0]["disbursedAmount"]["target"], 1000.5, "{own}");
    assert_eq!(own[0]["repaymentsCollected"]["target"], 900.0);
    let regions = read("REGION").await;
    let region = |code: &str| {
        regions
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["region"]["code"] == code)
            .cloned()
    };
    assert_eq!(
        region("MA-06").unwrap()["disbursedAmount"]["target"],
        600.0,
        "{regions}"
    );
    assert_eq!(region("MA-07").unwrap()["disbursedAmount"]["target"], 400.5);
    // Problems are named and nothing is stored.
    for (bad, field) in [
        (r#"{ month: 13, measure: NEW_CLIENTS, count: 1 }"#, "targets[1].month"),
        (r#"{ month: 1, measure: NEW_CLIENTS, amount: "5" }"#, "targets[1].count"),
        (
            r#"{ month: 1, measure: DISBURSED_AMOUNT, region: "MA-99", amount: "5" }"#,
            "targets[1].region",
        ),
        (
            r#"{ month: 1, measure: NEW_CLIENTS, count: 1 }, { month: 1, measure: NEW_CLIENTS, count: 2 }"#,
            "targets[2].month",
        ),
    ] {
        let reply = app.graphql_as(Some(&nour), &set(bad), json!({})).await;
        assert_eq!(reply.codes(), vec!["BAD_USER_INPUT".to_owned()], "{}", reply.body);
        assert!(reply.message().contains(field), "{field}: {}", reply.message());
    }
    assert_eq!(
        read("ASSOCIATION").await[0]["disbursedAmount"]["target"],
        1000.5,
        "a refused set stores nothing"
    );
    let forbidden = app.graphql_as(Some(&other), &set(targets), json!({})).await;
    assert_eq!(forbidden.codes(), vec!["FORBIDDEN".to_owned()], "{}", forbidden.body);
    // A new set replaces the year.
    let reply = app
        .graphql_as(
            Some(&nour),
            &set(r#"{ month: 1, measure: DISBURSED_AMOUNT, amount: "2000" }"#),
            json!({}),
        )
        .await;
    assert_eq!(reply.data()["setTargets"]["targets"], 1);
    assert_eq!(read("ASSOCIATION").await[0]["disbursedAmount"]["target"], 2000.0);
    assert!(
        read("REGION")
            .await
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["disbursedAmount"]["target"].is_null())
    );
}
on_both_backends!(an_association_sets_its_years_targets_by_region);
