//! The financial ratios of the quarterly statements: each ratio on a hand-computed fixture, against the values the
//! common wrong rules would give (opening plus closing ÷ 2, not annualised, gross impairment); the sector as a ratio
//! of sums; every ratio answering on the demo at QUARTER and YEAR; the field error at MONTH.

use super::indicators::{associations, cell, clients, indicators, seed};
use observatory_tests::{Backend, Fixture, PartnerKind, on_both_backends, spawn_app};
use serde_json::{Value, json};

/// One statement line of an association's quarter (`period`: the quarter's last month), in MAD.
fn line(association: &str, period: i32, line: &str, mad: f64) -> String {
    format!(
        "INSERT INTO fin_stat (association_id, period, line, value) VALUES \
         ((SELECT id FROM association WHERE code = '{association}'), {period}, '{line}', {})",
        (mad * 100.0).round() as i64
    )
}

fn close(value: &Value, expected: f64, what: &str) {
    let got = value
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: a number, got {value}"));
    assert!((got - expected).abs() < 1e-6, "{what}: {got}, expected {expected}");
}

const RATIOS: &[&str] = &[
    "operationalSelfSufficiency",
    "financialSelfSufficiency",
    "returnOnAssets",
    "adjustedReturnOnAssets",
    "returnOnEquity",
    "portfolioYield",
    "realPortfolioYield",
    "operatingExpenseRatio",
    "costPerClient",
    "costPerLoan",
    "fundingExpenseRatio",
    "costOfFunds",
    "impairmentExpenseRatio",
    "loanLossRate",
    "riskCoverage",
    "debtToEquity",
    "capitalToAssets",
    "portfolioToAssets",
    "liquidRatio",
    "borrowersPerLoanOfficer",
    "personnelAllocation",
];

/// 2020-Q4 of one association, computed by hand: m = 3, so flows against stocks are × 4; the monthly stocks are
/// averaged over September to December (800, 1,000, 1,600, 1,400: 1,200), the statements' over the ends of Q3 and Q4.
async fn every_ratio_follows_its_formula_on_a_hand_computed_quarter(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Empty).await;
    let mut rows = vec![associations(&["AAA", "BBB"])];
    // Month-ends: outstanding, PAR30, write-offs, active clients (and loans), staff.
    for (period, outstanding, par30, write_off, active) in [
        (202009, 800, 40, 0, 90),
        (202010, 1_000, 50, 10, 100),
        (202011, 1_600, 70, 30, 110),
        (202012, 1_400, 100, 20, 105),
    ] {
        rows.push(clients("AAA", "MA-06", period, active, 0));
        rows.push(format!(
            "INSERT INTO loan_stat (association_id, region_id, period, segment, gender, area, disbursed_count, \
             disbursed_amount, active_loans, outstanding_amount, par30_amount, par90_amount, write_off_amount, \
             rescheduled_amount, repayments_due, repayments_collected) VALUES ({}, 0, 0, {active}, {}, {}, 0, {}, 0, 0, 0)",
            cell("AAA", "MA-06", period, "INDIVIDUAL", "FEMALE", "URBAN"),
            outstanding * 100,
            par30 * 100,
            write_off * 100
        ));
        rows.push(format!(
            "INSERT INTO staff_stat (association_id, period, category, gender, headcount) VALUES \
             ((SELECT id FROM association WHERE code = 'AAA'), {period}, 'NETWORK', 'FEMALE', 10)"
        ));
    }
    for (code, value) in [
        ("BS_TOTAL_ASSETS", 2_000.0),
        ("BS_TOTAL_EQUITY", 500.0),
        ("BS_NET_FIXED_ASSETS", 100.0),
        ("BS_SHORT_TERM_BORROWINGS", 300.0),
        ("BS_LONG_TERM_BORROWINGS", 1_000.0),
        ("PF_SUBSIDIZED_FUNDING", 200.0),
    ] {
        rows.push(line("AAA", 202009, code, value));
    }
    for (code, value) in [
        ("IS_INTEREST_ON_LOANS", 60.0),
        ("IS_FEES_ON_LOANS", 6.0),
        ("IS_INVESTMENT_REVENUE", 2.0),
        ("IS_OTHER_OPERATING_REVENUE", 2.0),
        ("IS_FINANCIAL_REVENUE", 70.0),
        ("IS_INTEREST_EXPENSE_FUNDING", 18.0),
        ("IS_OTHER_FINANCIAL_EXPENSE", 2.0),
        ("IS_FINANCIAL_EXPENSE", 20.0),
        ("IS_IMPAIRMENT_EXPENSE", 15.0),
        ("IS_RECOVERIES", 5.0),
        ("IS_PERSONNEL_EXPENSE", 18.0),
        ("IS_ADMINISTRATIVE_EXPENSE", 12.0),
        ("IS_OPERATING_EXPENSE", 30.0),
        ("IS_NET_OPERATING_INCOME", 10.0),
        ("IS_TAXES", 0.0),
        ("IS_NET_INCOME", 10.0),
        ("BS_CASH", 50.0),
        ("BS_TRADE_INVESTMENTS", 30.0),
        ("BS_GROSS_LOAN_PORTFOLIO", 1_400.0),
        ("BS_IMPAIRMENT_ALLOWANCE", 80.0),
        ("BS_NET_FIXED_ASSETS", 140.0),
        ("BS_TOTAL_ASSETS", 2_400.0),
        ("BS_DEPOSITS", 0.0),
        ("BS_SHORT_TERM_BORROWINGS", 400.0),
        ("BS_LONG_TERM_BORROWINGS", 1_200.0),
        ("BS_INTEREST_PAYABLE", 10.0),
        ("BS_OTHER_CURRENT_LIABILITIES", 40.0),
        ("BS_TOTAL_LIABILITIES", 1_890.0),
        ("BS_TOTAL_EQUITY", 510.0),
        ("PF_SUBSIDIZED_FUNDING", 200.0),
        ("PF_SUBSIDIZED_FUNDING_INTEREST", 1.0),
    ] {
        rows.push(line("AAA", 202012, code, value));
    }
    // Loan officers are a count, stored in units.
    rows.push(
        "INSERT INTO fin_stat (association_id, period, line, value) VALUES \
         ((SELECT id FROM association WHERE code = 'AAA'), 202012, 'PF_LOAN_OFFICERS', 5)"
            .to_owned(),
    );
    // A second association, for the sector: revenue 30 against expenses 10 + 40 (OSS 60 %).
    for (code, value) in [
        ("IS_FINANCIAL_REVENUE", 30.0),
        ("IS_FINANCIAL_EXPENSE", 10.0),
        ("IS_OPERATING_EXPENSE", 40.0),
    ] {
        rows.push(line("BBB", 202012, code, value));
    }
    seed(&app, &rows).await;
    let selection: String = RATIOS
        .iter()
        .map(|r| format!("{r} {{ value numerator denominator }}"))
        .collect::<Vec<_>>()
        .join(" ");
    let quarter = r#"period: { from: "2020-Q4", to: "2020-Q4", granularity: QUARTER }"#;
    let rows = indicators(
        &app,
        &format!("{quarter}, filter: {{ associations: [\"AAA\"] }}"),
        &selection,
    )
    .await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r = &rows[0];
    let value = |field: &str| r[field]["value"].clone();
    // OSS: 70 ÷ (20 + (15 − 5) + 30); with the gross impairment it would be 70 ÷ 65 = 107.7 %.
    close(&value("operationalSelfSufficiency"), 70.0 / 60.0 * 100.0, "OSS");
    close(&r["operationalSelfSufficiency"]["denominator"], 60.0, "OSS denominator");
    // FSS: inflation (505 − 120) × 0.7 % × 3 ÷ 12 = 0.67375; subsidy 200 × 4.53 % × 3 ÷ 12 − 1 = 1.265.
    let adjustments = 385.0 * 0.007 * 0.25 + (200.0 * 0.0453 * 0.25 - 1.0);
    close(
        &value("financialSelfSufficiency"),
        70.0 / (60.0 + adjustments) * 100.0,
        "FSS",
    );
    // ROA: 10 × 4 ÷ (2,000 + 2,400) ÷ 2 = 1.82 %; not annualised 0.45 %, over the closing assets 1.67 %.
    close(&value("returnOnAssets"), 40.0 / 2_200.0 * 100.0, "ROA");
    close(&r["returnOnAssets"]["numerator"], 40.0, "ROA numerator");
    close(&r["returnOnAssets"]["denominator"], 2_200.0, "ROA denominator");
    close(
        &value("adjustedReturnOnAssets"),
        (10.0 - adjustments) * 4.0 / 2_200.0 * 100.0,
        "AROA",
    );
    close(&value("returnOnEquity"), 40.0 / 505.0 * 100.0, "ROE");
    // Yield: 66 × 4 ÷ 1,200 = 22 %; over (800 + 1,400) ÷ 2 it would be 24 %, not annualised 5.5 %.
    close(&value("portfolioYield"), 22.0, "yield");
    close(&r["portfolioYield"]["denominator"], 1_200.0, "yield denominator");
    close(
        &value("realPortfolioYield"),
        (0.22 - 0.007) / 1.007 * 100.0,
        "real yield",
    );
    close(&value("operatingExpenseRatio"), 10.0, "OPEX ratio");
    // Average active clients (and loans): (90 + 100 + 110 + 105) ÷ 4 = 101.25.
    close(&value("costPerClient"), 120.0 / 101.25, "cost per client");
    close(&value("costPerLoan"), 120.0 / 101.25, "cost per loan");
    close(
        &value("fundingExpenseRatio"),
        80.0 / 1_200.0 * 100.0,
        "funding expense ratio",
    );
    // Cost of funds: 18 × 4 ÷ (1,300 + 1,600) ÷ 2.
    close(&value("costOfFunds"), 72.0 / 1_450.0 * 100.0, "cost of funds");
    // Net impairment (15 − 5) × 4 ÷ 1,200, not the gross 15.
    close(
        &value("impairmentExpenseRatio"),
        40.0 / 1_200.0 * 100.0,
        "impairment expense ratio",
    );
    // Write-offs of the monthly reports: (60 − 5) × 4 ÷ 1,200.
    close(&value("loanLossRate"), 220.0 / 1_200.0 * 100.0, "loan loss rate");
    close(&value("riskCoverage"), 80.0, "risk coverage");
    close(&value("debtToEquity"), 1_890.0 / 510.0, "debt to equity");
    close(&value("capitalToAssets"), 510.0 / 2_400.0 * 100.0, "capital to assets");
    close(
        &value("portfolioToAssets"),
        1_400.0 / 2_400.0 * 100.0,
        "portfolio to assets",
    );
    close(&value("liquidRatio"), 80.0 / 450.0 * 100.0, "liquid ratio");
    close(
        &value("borrowersPerLoanOfficer"),
        105.0 / 5.0,
        "borrowers per loan officer",
    );
    close(&value("personnelAllocation"), 50.0, "personnel allocation");
    // The sector: a ratio of sums, (70 + 30) ÷ (60 + 50) = 90.9 %, not the mean of 116.7 % and 60 % (88.3 %).
    let sector = indicators(
        &app,
        quarter,
        "operationalSelfSufficiency { value numerator denominator }",
    )
    .await;
    close(
        &sector[0]["operationalSelfSufficiency"]["value"],
        100.0 / 110.0 * 100.0,
        "sector OSS",
    );
    // A ratio asked by month names the granularities it is computed for; the other fields still answer.
    let reply = app
        .graphql(
            r#"{ indicators(period: { from: "2020-12", to: "2020-12" }) { period activeClients { value } operationalSelfSufficiency { value } } }"#,
            json!({}),
        )
        .await;
    let message = reply.message();
    assert!(message.contains("QUARTER") && message.contains("YEAR"), "{message}");
    assert_eq!(reply.body["data"]["indicators"][0]["activeClients"]["value"], 105.0);
    // The inflation and market rate used above are the reference series, with their sources.
    let series = app
        .query("{ referenceSeries { code year value source vintage } }", json!({}))
        .await;
    let of = |code: &str| {
        series["referenceSeries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["code"] == code && v["year"] == 2020)
            .cloned()
            .unwrap()
    };
    assert_eq!(of("INFLATION")["value"], 0.007);
    assert!(
        of("INFLATION")["source"]
            .as_str()
            .unwrap()
            .contains("Haut-Commissariat au Plan")
    );
    assert_eq!(of("MARKET_RATE_FUNDS")["value"], 0.0453);
    assert!(
        of("MARKET_RATE_FUNDS")["source"]
            .as_str()
            .unwrap()
            .contains("Bank Al-Maghrib")
    );
}
on_both_backends!(every_ratio_follows_its_formula_on_a_hand_computed_quarter);

/// Every ratio answers on the demo for 2020-Q4 and 2020: the sector for the public, each association for a partner.
async fn every_ratio_answers_on_the_demo_for_the_sector_and_each_association(backend: Backend) {
    let mut app = spawn_app(&backend, Fixture::Demo).await;
    let partner = app.key_with(PartnerKind::Ministry, None, &["read"]).await;
    app.set_key(None);
    let selection: String = RATIOS
        .iter()
        .map(|r| format!("{r} {{ value suppressed }}"))
        .collect::<Vec<_>>()
        .join(" ");
    for granularity in ["QUARTER", "YEAR"] {
        let period = format!(r#"period: {{ from: "2020-Q4", to: "2020-Q4", granularity: {granularity} }}"#);
        let sector = indicators(&app, &period, &selection).await;
        assert_eq!(sector.len(), 1, "{sector:?}");
        for ratio in RATIOS {
            assert!(
                sector[0][ratio]["value"].is_number(),
                "{granularity} {ratio}: {}",
                sector[0]
            );
        }
        app.set_key(Some(partner.clone()));
        let each = indicators(&app, &format!("{period}, groupBy: [ASSOCIATION]"), &selection).await;
        app.set_key(None);
        assert_eq!(each.len(), 13, "{each:?}");
        for row in &each {
            for ratio in RATIOS {
                assert!(row[ratio]["value"].is_number(), "{granularity} {ratio}: {row}");
            }
        }
    }
}
on_both_backends!(every_ratio_answers_on_the_demo_for_the_sector_and_each_association);

fn type7(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() as f64 - 1.0) * p + 1.0;
    let below = h.floor() as usize;
    let at = |i: usize| sorted[(i - 1).min(sorted.len() - 1)];
    at(below) + (h - below as f64) * (at(below + 1) - at(below))
}

/// Peer quartiles on the demo, for every dimension and reader: the partner's quartiles are the type-7 quartiles of
/// the members' own values in its `indicators` by association, and its ratio of sums theirs; the public and an
/// association see quartiles only from 5 members and never the members or the ratio of sums, partners from 3; an
/// association sees its own position.
async fn peer_quartiles_follow_the_members_values_and_the_disclosure_rules(backend: Backend) {
    let mut app = spawn_app(&backend, Fixture::Demo).await;
    let partner = app.key_with(PartnerKind::Fund, None, &["read"]).await;
    let member = app.key_with(PartnerKind::Association, Some("TAFOUKT"), &["read"]).await;
    app.set_key(Some(partner.clone()));
    let own = indicators(
        &app,
        r#"period: { from: "2020-Q4", to: "2020-Q4", granularity: QUARTER }, groupBy: [ASSOCIATION]"#,
        "association { code } operationalSelfSufficiency { value numerator denominator }",
    )
    .await;
    let value_of = |code: &str| {
        own.iter()
            .find(|r| r["association"]["code"] == code)
            .map(|r| r["operationalSelfSufficiency"].clone())
            .unwrap()
    };
    let query = |dimension: &str| {
        format!(
            r#"{{ peers(period: "2020-Q4", measure: "operationalSelfSufficiency", dimension: {dimension}) {{
                 group {{ code }} n p25 median p75 suppressed reason smallGroup members
                 aggregate {{ value numerator denominator }} position {{ association rank outOf quartile value }} }} }}"#
        )
    };
    let mut shown_to_partner_only = 0;
    for dimension in [
        "SCALE",
        "OUTREACH",
        "AGE",
        "METHODOLOGY",
        "RURAL_FOCUS",
        "SUSTAINABILITY",
        "REGION",
    ] {
        let partner_view = app.graphql_as(Some(&partner), &query(dimension), json!({})).await;
        let public_view = app.graphql_as(None, &query(dimension), json!({})).await;
        let member_view = app.graphql_as(Some(&member), &query(dimension), json!({})).await;
        let groups = partner_view.data()["peers"].as_array().unwrap().clone();
        for (i, group) in groups.iter().enumerate() {
            let n = group["n"].as_u64().unwrap() as usize;
            let members: Vec<String> = group["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_str().unwrap().to_owned())
                .collect();
            assert_eq!(members.len(), n, "{dimension} {group}");
            let mut values: Vec<f64> = members.iter().map(|m| value_of(m)["value"].as_f64().unwrap()).collect();
            values.sort_by(f64::total_cmp);
            if n >= 3 {
                for (field, p) in [("p25", 0.25), ("median", 0.5), ("p75", 0.75)] {
                    close(&group[field], type7(&values, p), &format!("{dimension} {field}"));
                }
                let (numerator, denominator) = members.iter().fold((0.0, 0.0), |(n, d), m| {
                    let v = value_of(m);
                    (
                        n + v["numerator"].as_f64().unwrap(),
                        d + v["denominator"].as_f64().unwrap(),
                    )
                });
                close(
                    &group["aggregate"]["value"],
                    numerator / denominator * 100.0,
                    "ratio of sums",
                );
            } else {
                assert!(
                    group["median"].is_null() && group["suppressed"] == true,
                    "{dimension} {group}"
                );
                assert_eq!(group["reason"], "PEER_GROUP_TOO_SMALL");
            }
            assert_eq!(group["smallGroup"], n < 5);
            for view in [&public_view, &member_view] {
                let seen = &view.data()["peers"][i];
                assert_eq!(seen["n"], group["n"]);
                assert!(seen["members"].is_null() && seen["aggregate"].is_null(), "{seen}");
                if n >= 5 {
                    assert_eq!(seen["median"], group["median"], "{dimension}: the released figures");
                } else {
                    assert!(
                        seen["p25"].is_null() && seen["median"].is_null() && seen["p75"].is_null(),
                        "{seen}"
                    );
                    assert_eq!(seen["suppressed"], true);
                }
            }
            if (3..5).contains(&n) {
                shown_to_partner_only += 1;
            }
            let mine = &member_view.data()["peers"][i]["position"];
            if n >= 5 && members.iter().any(|m| m == "TAFOUKT") {
                assert_eq!(mine["association"], "TAFOUKT");
                let rank = mine["rank"].as_u64().unwrap() as usize;
                assert_eq!(values[rank - 1], mine["value"].as_f64().unwrap());
            } else {
                assert!(mine.is_null(), "{dimension}: {mine}");
            }
        }
    }
    assert!(shown_to_partner_only > 0, "the demo has groups of 3 or 4");
    let month = app
        .graphql_as(
            Some(&partner),
            r#"{ peers(period: "2020-12", measure: "operationalSelfSufficiency", dimension: SCALE) { n } }"#,
            json!({}),
        )
        .await;
    assert_eq!(month.codes(), vec!["BAD_USER_INPUT"]);
    let other = app
        .graphql_as(
            Some(&member),
            r#"{ peers(period: "2020-Q4", measure: "OSS", dimension: SCALE, association: "ATLAS") { n } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        other.codes(),
        vec!["FORBIDDEN"],
        "an association sees no one else's position"
    );
}
on_both_backends!(peer_quartiles_follow_the_members_values_and_the_disclosure_rules);

/// The quarterly note gives, for each figure of its layout, exactly what `indicators` gives the same caller for the
/// quarter, the one before and the same quarter a year before (hidden where `indicators` hides it), and the
/// financial section's peer quartiles as `peers` gives them.
async fn the_quarterly_note_is_what_indicators_and_peers_answer(backend: Backend) {
    let mut app = spawn_app(&backend, Fixture::Demo).await;
    let partner = app.key_with(PartnerKind::Ministry, None, &["read"]).await;
    for key in [None, Some(partner)] {
        app.set_key(key.clone());
        let note = app
            .query(
                r#"{ quarterlyNote(quarter: "2020-Q4") { layout quarter coverage { reporting expected }
                     statementsCoverage { reporting expected }
                     figures { section measure { field unit } dimension group { code } value previousQuarter
                       sameQuarterPreviousYear changeFromPreviousQuarter suppressed peers { group { code } n median } } } }"#,
                json!({}),
            )
            .await["quarterlyNote"]
            .clone();
        assert_eq!(note["layout"], "QN-1");
        assert_eq!(note["coverage"], json!({ "reporting": 13, "expected": 13 }));
        assert_eq!(note["statementsCoverage"], json!({ "reporting": 13, "expected": 13 }));
        let figures = note["figures"].as_array().unwrap();
        let mut asked: std::collections::BTreeMap<(String, String), Vec<&Value>> = Default::default();
        for figure in figures {
            let key = (
                figure["measure"]["field"].as_str().unwrap().to_owned(),
                figure["dimension"].as_str().unwrap_or("").to_owned(),
            );
            asked.entry(key).or_default().push(figure);
        }
        assert!(asked.len() >= 40, "{}", asked.len());
        for ((field, dimension), figures) in &asked {
            let group_field = match dimension.as_str() {
                "" => String::new(),
                "REGION" => "region { code }".into(),
                other => other.to_lowercase(),
            };
            let rows = indicators(
                &app,
                &format!(
                    r#"period: {{ from: "2019-Q4", to: "2020-Q4", granularity: QUARTER }}, groupBy: [{dimension}]"#
                ),
                &format!("{group_field} {field} {{ value suppressed }}"),
            )
            .await;
            let code_of = |row: &Value| -> String {
                match dimension.as_str() {
                    "" => String::new(),
                    "REGION" => row["region"]["code"].as_str().unwrap().to_owned(),
                    other => row[other.to_lowercase()].as_str().unwrap().to_owned(),
                }
            };
            for figure in figures {
                let code = figure["group"]["code"].as_str().unwrap_or("").to_owned();
                let at = |period: &str| {
                    rows.iter()
                        .find(|r| r["period"] == period && code_of(r) == code)
                        .map(|r| r[field.as_str()].clone())
                        .unwrap_or(Value::Null)
                };
                let now = at("2020-Q4");
                assert_eq!(figure["value"], now["value"], "{field} {dimension} {code}");
                assert_eq!(
                    figure["suppressed"],
                    now["suppressed"].as_bool().unwrap_or(false),
                    "{field} {code}"
                );
                assert_eq!(
                    figure["previousQuarter"],
                    at("2020-Q3")["value"],
                    "{field} {dimension} {code}"
                );
                assert_eq!(
                    figure["sameQuarterPreviousYear"],
                    at("2019-Q4")["value"],
                    "{field} {code}"
                );
                if figure["measure"]["unit"] == "PERCENT"
                    && let (Some(v), Some(p)) = (now["value"].as_f64(), at("2020-Q3")["value"].as_f64())
                {
                    close(&figure["changeFromPreviousQuarter"], v - p, "points");
                }
            }
        }
        let oss = figures
            .iter()
            .find(|f| f["measure"]["field"] == "operationalSelfSufficiency")
            .unwrap();
        let peers = app
            .query(
                r#"{ peers(period: "2020-Q4", measure: "operationalSelfSufficiency", dimension: SCALE) { group { code } n median } }"#,
                json!({}),
            )
            .await;
        assert_eq!(oss["peers"], peers["peers"], "{key:?}");
    }
}
on_both_backends!(the_quarterly_note_is_what_indicators_and_peers_answer);

/// The quarterly alert rules are judged when a quarter is released: an alert on each association whose operational
/// self-sufficiency is below 100 % in a quarter, and on the sector when its risk coverage is, with the values
/// `indicators` gives, and none elsewhere.
async fn quarterly_alerts_follow_the_ratios(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let ratios = indicators(
        &app,
        r#"period: { from: "2019-Q1", to: "2020-Q4", granularity: QUARTER }, groupBy: [ASSOCIATION]"#,
        "association { code } operationalSelfSufficiency { value }",
    )
    .await;
    let sector = indicators(
        &app,
        r#"period: { from: "2019-Q1", to: "2020-Q4", granularity: QUARTER }"#,
        "riskCoverage { value }",
    )
    .await;
    let alerts = app
        .query(
            r#"{ alerts(first: 500, filter: { rules: ["OSS_BELOW_100_ASSOCIATION", "RISK_COVERAGE_BELOW_100_SECTOR"] }) {
                 nodes { rule { code } association { code } period status value } } }"#,
            json!({}),
        )
        .await["alerts"]["nodes"]
        .as_array()
        .unwrap()
        .clone();
    let find = |rule: &str, association: Option<&str>, period: &str| {
        alerts.iter().find(|a| {
            a["rule"]["code"] == rule && a["association"]["code"].as_str() == association && a["period"] == period
        })
    };
    let mut below = 0;
    for row in &ratios {
        let value = row["operationalSelfSufficiency"]["value"].as_f64().unwrap();
        let code = row["association"]["code"].as_str().unwrap();
        let alert = find("OSS_BELOW_100_ASSOCIATION", Some(code), row["period"].as_str().unwrap());
        if value < 100.0 {
            below += 1;
            let alert = alert.unwrap_or_else(|| panic!("an alert for {row}"));
            assert_eq!(alert["status"], "OPEN");
            close(&alert["value"], value, "the alert's value");
        } else {
            assert!(alert.is_none(), "{row}");
        }
    }
    assert!(below > 0, "2020 has associations below 100 %");
    for row in &sector {
        let value = row["riskCoverage"]["value"].as_f64().unwrap();
        let alert = find("RISK_COVERAGE_BELOW_100_SECTOR", None, row["period"].as_str().unwrap());
        assert_eq!(alert.is_some(), value < 100.0, "{row}");
    }
}
on_both_backends!(quarterly_alerts_follow_the_ratios);
