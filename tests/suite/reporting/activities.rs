//! Loans by economic activity: a fourth table of the monthly report that must add up to the loans table, region by
//! region and column by column, to the centime; stored and replaced with the month's other figures.

use super::*;

const ACTIVITY_COLUMNS: &[&str] = &[
    "disbursed_count",
    "disbursed_amount",
    "active_loans",
    "outstanding_amount",
    "par30_amount",
    "repayments_due",
    "repayments_collected",
];

const ACTIVITY_ROWS: &str = "query($filter: ActivityFilter, $asOf: DateTime) { activityStatistics(first: 20, \
                             filter: $filter, asOf: $asOf) { totalCount nodes { region { code } activity \
                             outstandingAmount } } }";

/// The month's loans split into two activities per region (commerce takes the larger half of every column): they add
/// up to the loans exactly, and each row's portfolio at risk stays within its outstanding portfolio.
fn activities_of(month: &Month) -> Vec<Value> {
    let mut rows = Vec::new();
    for region in REGIONS {
        let mut commerce = json!({ "region": region, "activity": "COMMERCE" });
        // Codes are read whatever their case.
        let mut services = json!({ "region": region, "activity": "services" });
        for column in ACTIVITY_COLUMNS {
            let is_count = column.ends_with("_count") || *column == "active_loans";
            let rows = month.loans.iter().filter(|l| l["region"] == *region);
            let (larger, smaller) = if is_count {
                let total: i64 = rows.map(|l| l[*column].as_i64().unwrap()).sum();
                (json!(total - total / 2), json!(total / 2))
            } else {
                let total: i64 = rows.map(|l| centimes(&l[*column])).sum();
                (json!(money(total - total / 2)), json!(money(total / 2)))
            };
            commerce[*column] = larger;
            services[*column] = smaller;
        }
        rows.push(commerce);
        rows.push(services);
    }
    rows
}

fn with_activities(month: &Month, activities: &[Value]) -> Value {
    let mut input = input(ASSOCIATION, month, None);
    input["input"]["activities"] = json!(activities);
    input
}

/// Σ of a column over the association-month's rows of a table.
async fn total(db: &DatabaseConnection, table: &str, column: &str, association_id: i32) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT CAST(COALESCE(SUM({column}), 0) AS BIGINT) AS n FROM {table} WHERE association_id = \
                 {association_id} AND period = {MONTH_YYYYMM}"
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

async fn activities_that_add_up_to_the_loans_are_stored_and_replaced_with_the_month(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let id = association_id(&app.db, ASSOCIATION).await;
    let first = valid_month(21);
    let reply = app
        .graphql(SUBMIT, with_activities(&first, &activities_of(&first)))
        .await;
    assert_eq!(reply.data()["submitReport"]["status"], "ACCEPTED", "{}", reply.body);
    assert_eq!(
        count_rows(&app.db, "activity_stat", id).await,
        4,
        "two activities in each of two regions"
    );
    for column in ACTIVITY_COLUMNS {
        assert_eq!(
            total(&app.db, "activity_stat", column, id).await,
            total(&app.db, "loan_stat", column, id).await,
            "{column}"
        );
    }

    // Partners and the observatory read them as rows; the public reads none.
    let read = |as_of: Option<String>| {
        let app = &app;
        async move {
            let data = app
                .query(
                    ACTIVITY_ROWS,
                    json!({ "filter": { "associations": [ASSOCIATION], "from": MONTH, "to": MONTH }, "asOf": as_of }),
                )
                .await;
            let rows = data["activityStatistics"]["nodes"].as_array().unwrap().clone();
            let outstanding: i64 = rows.iter().map(|r| centimes(&r["outstandingAmount"])).sum();
            (
                data["activityStatistics"]["totalCount"].as_i64().unwrap(),
                rows,
                outstanding,
            )
        }
    };
    let (count, rows, outstanding) = read(None).await;
    assert_eq!(count, 4);
    assert!(
        rows.iter()
            .any(|r| r["activity"] == "SERVICES" && r["region"]["code"] == "MA-10")
    );
    assert_eq!(outstanding, total(&app.db, "loan_stat", "outstanding_amount", id).await);
    let public = app
        .graphql_as(
            None,
            ACTIVITY_ROWS,
            json!({ "filter": { "associations": [ASSOCIATION] } }),
        )
        .await;
    assert_eq!(public.codes(), ["FORBIDDEN"], "{}", public.body);
    let between = chrono::Utc::now().to_rfc3339();

    // A revision replaces the activities with the rest of the month, and keeps the old ones as a revision.
    let second = valid_month(22);
    let reply = app
        .graphql(SUBMIT, with_activities(&second, &activities_of(&second)))
        .await;
    assert_eq!(reply.data()["submitReport"]["revision"], 2, "{}", reply.body);
    assert_eq!(count_rows(&app.db, "activity_stat", id).await, 4);
    assert_eq!(
        total(&app.db, "activity_stat", "outstanding_amount", id).await,
        total(&app.db, "loan_stat", "outstanding_amount", id).await
    );
    assert_eq!(
        count_rows(&app.db, "activity_stat_revision", id).await,
        4,
        "the first revision's rows are kept"
    );
    // Read as they stood before the revision: the first report's activities.
    assert_eq!(read(Some(between)).await.2, outstanding);
    assert_ne!(read(None).await.2, outstanding);

    // The table may be left out: a revision without it leaves the month without activities.
    let third = app.graphql(SUBMIT, input(ASSOCIATION, &valid_month(23), None)).await;
    assert_eq!(third.data()["submitReport"]["revision"], 3, "{}", third.body);
    assert_eq!(count_rows(&app.db, "activity_stat", id).await, 0);
    assert_eq!(count_rows(&app.db, "activity_stat_revision", id).await, 8);
}
on_both_backends!(activities_that_add_up_to_the_loans_are_stored_and_replaced_with_the_month);

async fn an_activity_one_centime_off_the_loans_is_rejected_naming_region_and_column(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let id = association_id(&app.db, ASSOCIATION).await;
    let month = valid_month(24);
    let mut activities = activities_of(&month);
    // MA-10's commerce row: one centime more outstanding than the loans table has.
    let row = activities
        .iter_mut()
        .find(|r| r["region"] == "MA-10" && r["activity"] == "COMMERCE")
        .unwrap();
    row["outstanding_amount"] = json!(money(centimes(&row["outstanding_amount"]) + 1));
    let reply = app.graphql(SUBMIT, with_activities(&month, &activities)).await;
    assert_eq!(
        problems(&reply),
        [(
            "activities".to_owned(),
            0,
            Some("outstanding_amount".to_owned()),
            "ACTIVITY_TOTAL_MISMATCH".to_owned()
        )]
    );
    let message = reply.body["errors"][0]["extensions"]["report"]["errors"][0]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("MA-10"), "{message}");
    assert_eq!(
        count_rows(&app.db, "activity_stat", id).await,
        0,
        "a rejected report stores nothing"
    );
    assert_eq!(count_rows(&app.db, "loan_stat", id).await, 0);

    // An unknown activity and a repeated cell are found at their lines (the reconciliation waits for readable rows).
    let mut activities = activities_of(&month);
    activities[1]["activity"] = json!("FISHING");
    activities.push(activities[0].clone());
    let reply = app.graphql(SUBMIT, with_activities(&month, &activities)).await;
    assert_eq!(
        problems(&reply),
        [
            (
                "activities".to_owned(),
                2,
                Some("activity".to_owned()),
                "UNKNOWN_CODE".to_owned()
            ),
            ("activities".to_owned(), 5, None, "DUPLICATE_CELL".to_owned()),
        ]
    );
}
on_both_backends!(an_activity_one_centime_off_the_loans_is_rejected_naming_region_and_column);

/// The demo's months carry activities that add up to their loans, region by region and column by column; nationally,
/// December 2020's activities sum to the published outstanding portfolio to the centime.
async fn the_demo_activities_add_up_to_the_loans(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let sums = |table: &str| {
        let columns: Vec<String> = ACTIVITY_COLUMNS
            .iter()
            .map(|c| format!("CAST(SUM({c}) AS BIGINT) AS {c}"))
            .collect();
        format!(
            "SELECT association_id, region_id, period, {} FROM {table} GROUP BY association_id, region_id, period",
            columns.join(", ")
        )
    };
    for (one, other) in [
        (sums("activity_stat"), sums("loan_stat")),
        (sums("loan_stat"), sums("activity_stat")),
    ] {
        let row = app
            .db
            .query_one_raw(Statement::from_string(
                app.db.get_database_backend(),
                format!("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM ({one} EXCEPT {other}) d"),
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.try_get::<i64>("", "n").unwrap(), 0);
    }
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT CAST(SUM(outstanding_amount) AS BIGINT) AS n FROM activity_stat WHERE period = 202012".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.try_get::<i64>("", "n").unwrap(),
        802_250_000_000,
        "8,022,500,000.00 MAD"
    );
}
on_both_backends!(the_demo_activities_add_up_to_the_loans);
