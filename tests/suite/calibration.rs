//! The demo data reproduces the published national figures of 2019 and 2020
//! (report of the Centre Mohammed VI de Soutien à la Microfinance Solidaire),
//! recomputed here from the API's own rows. Money is compared in centimes.

use observatory_tests::{Backend, Fixture, TestApp, on_both_backends, spawn_app};
use serde_json::{Value, json};
use std::collections::HashMap;

/// Every node of a list, following the cursors.
async fn all_nodes(app: &TestApp, field: &str, filter_type: &str, filter: Value, selection: &str) -> Vec<Value> {
    let query = format!(
        "query($after: String, $filter: {filter_type}) {{ {field}(first: 500, after: $after, filter: $filter) {{
            pageInfo {{ hasNextPage endCursor }} nodes {{ {selection} }} }} }}"
    );
    let mut nodes = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app.query(&query, json!({ "after": after, "filter": filter })).await;
        let page = &data[field];
        nodes.extend(page["nodes"].as_array().unwrap().iter().cloned());
        if page["pageInfo"]["hasNextPage"] != true {
            return nodes;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

/// "1234.56" → 123456 centimes.
fn centimes(value: &Value) -> i64 {
    let text = value.as_str().expect("money is a string");
    let (whole, cents) = text.split_once('.').expect("two decimals");
    whole.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap()
}

fn mad(amount: i64) -> i64 {
    amount * 100
}

/// Sums `measure` of the nodes by the value of `key` (and in total under "").
fn sums(nodes: &[Value], key: &str, measure: impl Fn(&Value) -> i64) -> HashMap<String, i64> {
    let mut out = HashMap::new();
    for node in nodes {
        let value = measure(node);
        *out.entry(String::new()).or_insert(0) += value;
        if !key.is_empty() {
            *out.entry(node[key].as_str().unwrap_or("").to_owned()).or_insert(0) += value;
        }
    }
    out
}

fn percent(part: i64, whole: i64) -> f64 {
    (part as f64 / whole as f64 * 10_000.0).round() / 100.0
}

async fn clients_at(app: &TestApp, month: &str) -> Vec<Value> {
    all_nodes(
        app,
        "clientStatistics",
        "CellFilter",
        json!({ "from": month, "to": month }),
        "segment gender area activeClients",
    )
    .await
}

async fn loans_in(app: &TestApp, from: &str, to: &str) -> Vec<Value> {
    all_nodes(
        app,
        "loanStatistics",
        "CellFilter",
        json!({ "from": from, "to": to }),
        "period segment area disbursedAmount outstandingAmount par30Amount",
    )
    .await
}

async fn the_demo_reproduces_the_published_client_and_portfolio_figures(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let active = |n: &Value| n["activeClients"].as_i64().unwrap();

    let clients_2019 = clients_at(&app, "2019-12").await;
    assert_eq!(sums(&clients_2019, "", active)[""], 905_456, "active clients, end 2019");

    let clients_2020 = clients_at(&app, "2020-12").await;
    let by_segment = sums(&clients_2020, "segment", active);
    assert_eq!(by_segment[""], 868_070, "active clients, end 2020");
    assert_eq!(by_segment["INDIVIDUAL"], 625_145);
    assert_eq!(by_segment["SOLIDARITY_GROUP"], 236_844);
    assert_eq!(by_segment["VERY_SMALL_ENTERPRISE"], 6_081);
    let women = sums(&clients_2020, "gender", active)["FEMALE"];
    let rural = sums(&clients_2020, "area", active)["RURAL"];
    assert_eq!(percent(women, 868_070), 48.0, "share of women");
    assert_eq!(percent(rural, 868_070), 33.0, "share of rural clients");

    let loans_2019 = loans_in(&app, "2019", "2019").await;
    let loans_2020 = loans_in(&app, "2020", "2020").await;
    assert_eq!(
        sums(&loans_2019, "", |n| centimes(&n["disbursedAmount"]))[""],
        mad(7_040_000_000),
        "disbursed 2019"
    );
    assert_eq!(
        sums(&loans_2020, "", |n| centimes(&n["disbursedAmount"]))[""],
        mad(6_010_000_000),
        "disbursed 2020"
    );

    let december = |nodes: &[Value], month: &str| -> Vec<Value> {
        nodes.iter().filter(|n| n["period"] == month).cloned().collect()
    };
    let dec_2019 = december(&loans_2019, "2019-12");
    let dec_2020 = december(&loans_2020, "2020-12");
    let outstanding = |n: &Value| centimes(&n["outstandingAmount"]);
    let par30 = |n: &Value| centimes(&n["par30Amount"]);
    assert_eq!(
        sums(&dec_2019, "", outstanding)[""],
        mad(7_393_000_000),
        "outstanding, end 2019"
    );
    let by_segment = sums(&dec_2020, "segment", outstanding);
    assert_eq!(by_segment[""], mad(8_022_500_000), "outstanding, end 2020");
    assert_eq!(
        by_segment["INDIVIDUAL"],
        mad(6_217_437_500),
        "77.5 % in individual loans"
    );
    assert_eq!(
        by_segment["SOLIDARITY_GROUP"],
        mad(1_540_320_000),
        "19.2 % in solidarity-group loans"
    );
    assert_eq!(
        sums(&dec_2020, "area", outstanding)["URBAN"],
        mad(5_294_850_000),
        "66 % urban"
    );
    let par_2019 = sums(&dec_2019, "", par30)[""];
    let par_2020 = sums(&dec_2020, "", par30)[""];
    assert_eq!(par_2019, mad(231_730_000), "PAR30, end 2019");
    assert_eq!(par_2020, mad(642_940_000), "PAR30, end 2020");
    assert_eq!(percent(par_2019, mad(7_393_000_000)), 3.13);
    assert_eq!(percent(par_2020, mad(8_022_500_000)), 8.01);
}
on_both_backends!(the_demo_reproduces_the_published_client_and_portfolio_figures);

async fn the_demo_reproduces_the_published_staff_and_branch_figures(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    for (month, network, head_office, unspecified, total) in
        [("2019-12", 7_089, 784, 0, 7_873), ("2020-12", 7_087, 804, 123, 8_014)]
    {
        let staff = all_nodes(
            &app,
            "staffStatistics",
            "StaffFilter",
            json!({ "from": month, "to": month }),
            "category headcount",
        )
        .await;
        let by_category = sums(&staff, "category", |n| n["headcount"].as_i64().unwrap());
        assert_eq!(by_category[""], total, "staff at {month}");
        assert_eq!(by_category["NETWORK"], network);
        assert_eq!(by_category["HEAD_OFFICE"], head_office);
        assert_eq!(by_category.get("UNSPECIFIED").copied().unwrap_or(0), unspecified);
    }
    let count = |filter: Value| {
        let app = &app;
        async move {
            app.query(
                "query($f: BranchFilter) { branches(filter: $f) { totalCount } }",
                json!({ "f": filter }),
            )
            .await["branches"]["totalCount"]
                .as_i64()
                .unwrap()
        }
    };
    assert_eq!(
        count(json!({ "openOn": "2019-12-31", "kinds": ["AGENCY"] })).await,
        1_691
    );
    assert_eq!(count(json!({ "openOn": "2019-12-31", "kinds": ["MOBILE"] })).await, 129);
    assert_eq!(
        count(json!({ "openOn": "2020-12-31", "kinds": ["AGENCY"] })).await,
        1_688
    );
    assert_eq!(
        count(json!({ "openOn": "2020-12-31", "kinds": ["AGENCY"], "areas": ["URBAN"] })).await,
        979
    );
    assert_eq!(count(json!({ "openOn": "2020-12-31", "kinds": ["MOBILE"] })).await, 121);
    assert_eq!(
        count(json!({ "openOn": "2020-12-31", "kinds": ["MOBILE"], "areas": ["RURAL"] })).await,
        94
    );
}
on_both_backends!(the_demo_reproduces_the_published_staff_and_branch_figures);

async fn the_demo_reproduces_the_2020_training_and_programme_tables(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let actions = all_nodes(
        &app,
        "trainingActions",
        "TrainingFilter",
        json!({ "year": 2020 }),
        "format trainingDays participants personDays",
    )
    .await;
    let field = |name: &'static str| move |n: &Value| n[name].as_i64().unwrap();
    let days = sums(&actions, "format", field("trainingDays"));
    let participants = sums(&actions, "format", field("participants"));
    let person_days = sums(&actions, "format", field("personDays"));
    let published = [
        ("CERTIFIED_TRAINING", 64, 2, 128),
        ("PLANNED_STAFF_TRAINING", 213, 3_671, 4_455),
        ("MICRO_ENTREPRENEUR_TRAINING", 98, 1_579, 3_110),
        ("TRAINING_ENGINEERING", 210, 1_909, 1_050),
        ("LOGISTICAL_SUPPORT", 65, 1_044, 2_134),
        ("ELEARNING_ASSOCIATION_STAFF", 5_162, 902, 5_162),
        ("ELEARNING_OTHER", 4, 28, 112),
    ];
    for (format, d, p, pd) in published {
        assert_eq!(
            (days[format], participants[format], person_days[format]),
            (d, p, pd),
            "{format}"
        );
    }

    let programme = |code: &'static str| {
        let app = &app;
        async move {
            let data = app
                .query(
                    "query($c: String!) { programme(code: $c) { candidates year outcomes(first: 100) { totalCount
                        nodes { sector gender beneficiaries grantAmount region { code } } } } }",
                    json!({ "c": code }),
                )
                .await;
            data["programme"].clone()
        }
    };
    let iga = programme("IGA-2020").await;
    assert_eq!(iga["candidates"], 301);
    let outcomes = iga["outcomes"]["nodes"].as_array().unwrap().clone();
    let winners = |n: &Value| n["beneficiaries"].as_i64().unwrap();
    assert_eq!(sums(&outcomes, "", winners)[""], 163, "163 winners of 301 candidates");
    assert_eq!(sums(&outcomes, "", |n| centimes(&n["grantAmount"]))[""], mad(2_700_000));
    let table = [
        ("AGRICULTURE_LIVESTOCK", 1, 22),
        ("AGRIFOOD", 16, 16),
        ("ARTS_CRAFTS", 14, 36),
        ("HAIRDRESSING_BEAUTY", 7, 1),
        ("LOGISTICS_TRANSPORT", 0, 2),
        ("LEISURE", 0, 1),
        ("EDUCATION_EARLY_CHILDHOOD", 1, 0),
        ("MECHANICS", 0, 10),
        ("HEALTH", 1, 2),
        ("OTHER", 9, 24),
    ];
    for (sector, women, men) in table {
        let count = |gender: &str| {
            outcomes
                .iter()
                .filter(|n| n["sector"] == sector && n["gender"] == gender)
                .map(winners)
                .sum::<i64>()
        };
        assert_eq!((count("FEMALE"), count("MALE")), (women, men), "{sector}");
    }

    let micro = programme("MICRO-ACTIVITIES-MA06-2020").await;
    let micro_outcomes = micro["outcomes"]["nodes"].as_array().unwrap().clone();
    assert_eq!(sums(&micro_outcomes, "", winners)[""], 80);
    assert_eq!(
        sums(&micro_outcomes, "", |n| centimes(&n["grantAmount"]))[""],
        mad(1_900_000)
    );
    assert!(micro_outcomes.iter().all(|n| n["region"]["code"] == "MA-06"));

    let women_only = |p: &Value| -> (i64, bool) {
        let nodes = p["outcomes"]["nodes"].as_array().unwrap();
        (
            nodes.iter().map(winners).sum(),
            nodes.iter().all(|n| n["gender"] == "FEMALE"),
        )
    };
    assert_eq!(women_only(&programme("MIN-AJLIKI-2020").await), (62, true));
    assert_eq!(women_only(&programme("MOUAZARA-2020").await), (60, true));
    let prize = programme("PRIZE-2020").await;
    assert_eq!(prize["candidates"], 116);
    assert_eq!(
        prize["outcomes"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(winners)
            .sum::<i64>(),
        27
    );
}
on_both_backends!(the_demo_reproduces_the_2020_training_and_programme_tables);
