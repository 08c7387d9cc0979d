//! Every problem of a report listed at once, where it is (row, field, line), with nothing stored: planted
//! mistakes, row rules, thousands of problems, moved stocks, whole-month problems, months before 2000.

use super::*;

async fn a_report_with_ten_mistakes_lists_all_ten_and_stores_nothing(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let atlas = association_id(&app.db, "ATLAS").await;
    let foreign_branch = branch::Entity::find()
        .filter(branch::Column::AssociationId.eq(atlas))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .code;
    let mut month = valid_month(2);
    month.clients[1]["region"] = json!("MA-99");
    month.clients[2]["active_clients"] = json!("12a");
    month.clients[3]["new_clients"] = json!(-5);
    month.loans[1]["disbursed_amount"] = json!("100.555");
    month.loans[2]["par90_amount"] = json!("999999999.00");
    month.loans[3]["par30_amount"] = json!("999999999.00");
    month.loans[3]["par90_amount"] = json!("0");
    month.loans[4] = month.loans[0].clone();
    for row in &mut month.staff {
        let headcount = row.as_object_mut().unwrap().remove("headcount").unwrap();
        row["salary"] = headcount;
    }
    let mut variables = input(ASSOCIATION, &month, None);
    variables["input"]["branches"] = json!([{
        "code": foreign_branch, "name": "Agence", "kind": "AGENCY", "region": "MA-09", "area": "URBAN",
        "city": "Tiznit", "opened_on": "2015-03-01",
    }]);
    let reply = app.graphql(SUBMIT, variables).await;
    let s = |v: &str| Some(v.to_owned());
    let mut expected = vec![
        ("clients".to_owned(), 2, s("region"), "UNKNOWN_CODE".to_owned()),
        ("clients".to_owned(), 3, s("active_clients"), "NOT_A_NUMBER".to_owned()),
        ("clients".to_owned(), 4, s("new_clients"), "NEGATIVE".to_owned()),
        (
            "loans".to_owned(),
            2,
            s("disbursed_amount"),
            "TOO_MANY_DECIMALS".to_owned(),
        ),
        ("loans".to_owned(), 3, s("par90_amount"), "PAR90_ABOVE_PAR30".to_owned()),
        (
            "loans".to_owned(),
            4,
            s("par30_amount"),
            "PAR30_ABOVE_OUTSTANDING".to_owned(),
        ),
        ("loans".to_owned(), 5, None, "DUPLICATE_CELL".to_owned()),
        ("staff".to_owned(), 1, s("headcount"), "MISSING_COLUMN".to_owned()),
        ("staff".to_owned(), 1, s("salary"), "UNKNOWN_COLUMN".to_owned()),
        ("branches".to_owned(), 1, s("code"), "OTHER_ASSOCIATION".to_owned()),
    ];
    expected.sort();
    assert_eq!(
        problems(&reply),
        expected,
        "all ten mistakes, each once, where they are"
    );
    let report = &reply.body["errors"][0]["extensions"]["report"]["errors"];
    for problem in report.as_array().unwrap() {
        assert!(
            problem["message"].as_str().is_some_and(|m| m.len() > 20),
            "each problem says what to do: {problem}"
        );
    }
    let id = association_id(&app.db, ASSOCIATION).await;
    for table in ["client_stat", "loan_stat", "staff_stat"] {
        assert_eq!(count_rows(&app.db, table, id).await, 0, "nothing stored in {table}");
    }
    assert!(submissions_of(&app.db, id).await.is_empty(), "no submission stored");
}
on_both_backends!(a_report_with_ten_mistakes_lists_all_ten_and_stores_nothing);

/// Property: a valid report with mistakes planted at generated rows and columns is rejected with exactly those
/// mistakes (each at its row and column, with its rule), and nothing is stored.
async fn planted_mistakes_are_each_reported_where_they_are(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let id = association_id(&app.db, ASSOCIATION).await;
    let mistakes: &[(&str, Value, &str)] = &[
        ("active_clients", json!("x"), "NOT_A_NUMBER"),
        ("active_clients", json!("-1"), "NEGATIVE"),
        ("active_clients", json!("1.5"), "NOT_A_WHOLE_NUMBER"),
        ("active_clients", json!(""), "MISSING_VALUE"),
        ("new_clients", json!("1e3"), "NOT_A_NUMBER"),
        ("segment", json!("GROUP"), "UNKNOWN_CODE"),
        ("gender", json!("F"), "UNKNOWN_CODE"),
        ("area", json!("CITY"), "UNKNOWN_CODE"),
        ("region", json!("MA-13"), "UNKNOWN_CODE"),
    ];
    let loan_mistakes: &[(&str, Value, &str)] = &[
        ("disbursed_amount", json!("12.345"), "TOO_MANY_DECIMALS"),
        ("write_off_amount", json!("-0.01"), "NEGATIVE"),
        ("repayments_due", json!("1 000"), "NOT_A_NUMBER"),
        ("active_loans", json!("ten"), "NOT_A_NUMBER"),
        ("rescheduled_amount", json!(null), "MISSING_VALUE"),
    ];
    let mut g = Gen::new(99);
    for round in 0..12 {
        let mut month = valid_month(100 + round);
        let mut expected = Vec::new();
        let mut rows_used = std::collections::HashSet::new();
        for _ in 0..1 + g.below(4) {
            let loans = g.below(2) == 1;
            let row = g.below(24) as usize;
            if !rows_used.insert((loans, row)) {
                continue;
            }
            let list = if loans { loan_mistakes } else { mistakes };
            let (column, value, rule) = &list[g.below(list.len() as u64) as usize];
            let table = if loans { &mut month.loans } else { &mut month.clients };
            table[row][*column] = value.clone();
            let name = if loans { "loans" } else { "clients" };
            expected.push((
                name.to_owned(),
                row as i64 + 1,
                Some(column.to_string()),
                rule.to_string(),
            ));
        }
        expected.sort();
        let reply = app.graphql(SUBMIT, input(ASSOCIATION, &month, None)).await;
        assert_eq!(problems(&reply), expected, "round {round}");
        assert_eq!(count_rows(&app.db, "client_stat", id).await, 0);
        assert!(submissions_of(&app.db, id).await.is_empty());
    }
}
on_both_backends!(planted_mistakes_are_each_reported_where_they_are);

/// A row with a value that cannot be read is still checked against the rules between its values, on the values that
/// could be read: the sender learns of every problem of the row at once.
async fn a_row_with_a_value_error_is_still_checked_against_its_row_rules(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let mut month = valid_month(84);
    // Row 1: an unreadable amount, and PAR90 above PAR30.
    month.loans[0]["disbursed_amount"] = json!("12a");
    month.loans[0]["par90_amount"] = json!("999999999.00");
    // Row 2: PAR90 unreadable, and PAR30 above the outstanding portfolio.
    month.loans[1]["par90_amount"] = json!("n/a");
    month.loans[1]["par30_amount"] = json!("999999999.00");
    // Row 3: the outstanding portfolio unreadable: PAR90 is still compared with PAR30.
    month.loans[2]["outstanding_amount"] = json!("-5");
    month.loans[2]["par90_amount"] = json!("999999999.00");
    // Row 4: the region unknown, and PAR30 above the outstanding portfolio.
    month.loans[3]["region"] = json!("MA-99");
    month.loans[3]["par30_amount"] = json!("999999999.00");
    month.loans[3]["par90_amount"] = json!("0");
    let reply = app.graphql(SUBMIT, input(ASSOCIATION, &month, None)).await;
    let row =
        |line: i64, column: &str, rule: &str| ("loans".to_owned(), line, Some(column.to_owned()), rule.to_owned());
    let mut expected = vec![
        row(1, "disbursed_amount", "NOT_A_NUMBER"),
        row(1, "par90_amount", "PAR90_ABOVE_PAR30"),
        row(2, "par90_amount", "NOT_A_NUMBER"),
        row(2, "par30_amount", "PAR30_ABOVE_OUTSTANDING"),
        row(3, "outstanding_amount", "NEGATIVE"),
        row(3, "par90_amount", "PAR90_ABOVE_PAR30"),
        row(4, "region", "UNKNOWN_CODE"),
        row(4, "par30_amount", "PAR30_ABOVE_OUTSTANDING"),
    ];
    expected.sort();
    assert_eq!(problems(&reply), expected, "every problem of each row");
}
on_both_backends!(a_row_with_a_value_error_is_still_checked_against_its_row_rules);

/// A report with thousands of problems lists the first 1,000 at most, counts every problem by rule, lists every rule
/// that fired at least once (also one first met after the first 1,000), and says the list was cut.
async fn a_report_with_thousands_of_problems_lists_the_first_thousand_and_counts_every_rule(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let mut g = Gen::new(85);
    let path = format!("/reports/{ASSOCIATION}/{MONTH}");
    let month = valid_month(86);
    // Thousands of client rows with an unknown region, some also with an unreadable count; then a few loan rows with
    // a negative amount, met only after the first thousand problems.
    let rows = 5_000;
    let mut clients = Vec::new();
    let mut unreadable = 0;
    for i in 0..rows {
        let mut row = month.clients[i % month.clients.len()].clone();
        row["region"] = json!(format!("MA-{}", 13 + g.below(80)));
        if g.below(3) == 0 {
            row["active_clients"] = json!("many");
            unreadable += 1;
        }
        clients.push(row);
    }
    let negative = 1 + g.below(5) as usize;
    let mut loans = month.loans.clone();
    for row in loans.iter_mut().take(negative) {
        row["write_off_amount"] = json!("-1.00");
    }
    let parts = vec![
        ("clients", csv(&clients, COLUMNS_CLIENTS, ',').into_bytes()),
        ("loans", csv(&loans, COLUMNS_LOANS, ',').into_bytes()),
        ("staff", csv(&month.staff, COLUMNS_STAFF, ',').into_bytes()),
    ];
    let observatory = key_with(&app, PartnerKind::Observatory, None, &["read", "write"]).await;
    let reply = post_report(&app, Some(&observatory), &path, multipart(&parts), &[]).await;
    assert_eq!(reply.status, 422, "{}", reply.status);
    let report = &reply.body["errors"][0]["extensions"]["report"];
    let listed = report["errors"].as_array().expect("errors listed");
    assert!(listed.len() <= 1_000, "{} problems listed", listed.len());
    assert_eq!(
        report["errorsByRule"],
        json!({ "UNKNOWN_CODE": rows, "NOT_A_NUMBER": unreadable, "NEGATIVE": negative }),
        "every problem counted by rule"
    );
    assert_eq!(report["errorCount"], json!(rows + unreadable + negative));
    assert_eq!(report["truncated"], true);
    for rule in ["UNKNOWN_CODE", "NOT_A_NUMBER", "NEGATIVE"] {
        assert!(
            listed.iter().any(|p| p["rule"] == rule),
            "{rule} is listed at least once"
        );
    }
    let message = reply.message();
    assert!(
        message.contains(&format!("{} problems", rows + unreadable + negative)) && message.contains("1000"),
        "the message gives the count and says the list was cut: {message}"
    );
    let lines: Vec<i64> = listed
        .iter()
        .filter(|p| p["table"] == "clients")
        .map(|p| p["line"].as_i64().unwrap())
        .collect();
    assert!(
        lines.windows(2).all(|w| w[0] <= w[1]),
        "the first problems, in file order"
    );
    assert_eq!(lines.first(), Some(&2), "from the first row on");

    // A report with a few problems lists them all and is not cut.
    let mut few = valid_month(87);
    few.clients[0]["gender"] = json!("W");
    let reply = post_report(&app, Some(&observatory), &path, csv_body(&few), &[]).await;
    let report = &reply.body["errors"][0]["extensions"]["report"];
    assert_eq!(report["errorCount"], 1, "{}", reply.body);
    assert_eq!(report["errorsByRule"], json!({ "UNKNOWN_CODE": 1 }));
    assert_eq!(report["truncated"], false);
    assert_eq!(report["errors"].as_array().unwrap().len(), 1);
}
on_both_backends!(a_report_with_thousands_of_problems_lists_the_first_thousand_and_counts_every_rule);

/// A month's total moving more than 25 % from the previous month is flagged with the total as the report's other
/// figures are written: an amount in MAD with two decimals, a count as a whole number.
async fn a_moved_stock_is_flagged_in_mad_with_two_decimals(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let id = association_id(&app.db, ASSOCIATION).await;
    let previous = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            format!(
                "SELECT CAST(SUM(outstanding_amount) AS BIGINT) AS n FROM loan_stat WHERE association_id = {id} AND \
                 period = 202012"
            ),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    let mut month = valid_month(88);
    let generated: i64 = month.loans.iter().map(|l| centimes(&l["outstanding_amount"])).sum();
    // Scaled so that the outstanding portfolio at least doubles on the month.
    let factor = (2 * previous / generated + 1).max(1);
    for loan in &mut month.loans {
        for column in ["outstanding_amount", "par30_amount", "par90_amount"] {
            loan[column] = json!(mad(centimes(&loan[column]) * factor));
        }
    }
    let now: i64 = month.loans.iter().map(|l| centimes(&l["outstanding_amount"])).sum();
    assert!(
        now as f64 > previous as f64 * 1.25,
        "the portfolio moved: {previous} -> {now}"
    );
    assert!(
        now % 100 != 0 || previous % 100 != 0,
        "the test needs centimes to show them"
    );
    let observatory = key_with(&app, PartnerKind::Observatory, None, &["read", "write"]).await;
    let reply = post_report(
        &app,
        Some(&observatory),
        &format!("/reports/{ASSOCIATION}/{MONTH}"),
        csv_body(&month),
        &[],
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let warnings = reply.body["warnings"].as_array().unwrap();
    let moved = warnings
        .iter()
        .find(|w| w["rule"] == "STOCK_MOVED" && w["column"] == "outstanding_amount")
        .unwrap_or_else(|| panic!("the outstanding portfolio is flagged: {}", reply.body));
    assert_eq!(moved["value"], mad(now), "the total in MAD: {moved}");
    let message = moved["message"].as_str().unwrap();
    assert!(
        message.contains(&mad(previous)) && message.contains(&mad(now)),
        "the message gives both totals in MAD: {message}"
    );
    for w in warnings
        .iter()
        .filter(|w| w["column"] == "active_clients" || w["column"] == "active_loans")
    {
        assert!(
            w["value"].as_str().unwrap().bytes().all(|b| b.is_ascii_digit()),
            "a count: {w}"
        );
    }
}
on_both_backends!(a_moved_stock_is_flagged_in_mad_with_two_decimals);

/// A problem of the whole month (the month itself, or a month's total) or of a whole table has no line, and says what
/// it is about; a problem of a cell, a row or the header keeps its line.
async fn problems_of_the_whole_month_have_no_line(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let month = valid_month(89);
    let mut variables = input(ASSOCIATION, &month, None);
    variables["input"]["period"] = json!(month_from_now(1));
    variables["input"]["staff"] = json!([{ "category": "NETWORK", "gender": "FEMALE", "headcount": 3, "age": 40 }]);
    variables["input"]["clients"][0]["gender"] = json!("W");
    let reply = app.graphql(SUBMIT, variables).await;
    assert_eq!(reply.codes(), ["BAD_USER_INPUT"], "{}", reply.body);
    let listed = reply.body["errors"][0]["extensions"]["report"]["errors"]
        .as_array()
        .unwrap()
        .clone();
    let find = |rule: &str| {
        listed
            .iter()
            .find(|p| p["rule"] == rule)
            .unwrap_or_else(|| panic!("{rule} in {listed:?}"))
            .clone()
    };
    let future = find("MONTH_IN_FUTURE");
    assert!(future.get("line").is_some_and(Value::is_null), "no line: {future}");
    assert_eq!(future["subject"], "MONTH", "{future}");
    assert_eq!(future["table"], "report");
    let cell = find("UNKNOWN_CODE");
    assert_eq!(
        (cell["line"].clone(), cell["subject"].clone()),
        (json!(1), json!("CELL")),
        "the first JSON row"
    );
    let header = find("UNKNOWN_COLUMN");
    assert_eq!(
        (header["line"].clone(), header["subject"].clone()),
        (json!(1), json!("HEADER"))
    );

    // A missing table: a problem of the whole table, without a line.
    let mut parts = csv_parts(&month, ',');
    parts.retain(|(name, _)| *name != "staff");
    let reply = post_report(
        &app,
        Some(&key_with(&app, PartnerKind::Observatory, None, &["read", "write"]).await),
        &format!("/reports/{ASSOCIATION}/{MONTH}"),
        multipart(&parts),
        &[],
    )
    .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    let missing = &reply.body["errors"][0]["extensions"]["report"]["errors"][0];
    assert_eq!(missing["rule"], "MISSING_TABLE", "{missing}");
    assert_eq!(
        (missing["line"].clone(), missing["subject"].clone()),
        (Value::Null, json!("TABLE"))
    );

    // The month's totals moving: warnings of the whole month, through GraphQL.
    let mut month = valid_month(90);
    for loan in &mut month.loans {
        loan["outstanding_amount"] = json!(mad(centimes(&loan["outstanding_amount"]) * 50));
    }
    let reply = app
        .graphql(
            "mutation($input: ReportInput!) { submitReport(input: $input) { warnings { table line subject column \
             value rule } } }",
            input(ASSOCIATION, &month, None),
        )
        .await;
    let warnings = reply.data()["submitReport"]["warnings"].as_array().unwrap().clone();
    let moved = warnings
        .iter()
        .find(|w| w["rule"] == "STOCK_MOVED")
        .unwrap_or_else(|| panic!("a total moved: {warnings:?}"));
    assert_eq!(moved["line"], Value::Null, "{moved}");
    assert_eq!(moved["subject"], "MONTH", "{moved}");

    // A report stored before problems had a subject, with `line: 0` for the month's totals, reads the same way.
    let id = association_id(&app.db, ASSOCIATION).await;
    let stored = submissions_of(&app.db, id).await[0].id;
    let old = r#"{"errors":[],"warnings":[{"table":"loans","line":0,"column":"par30_amount","value":"1.00","rule":"PAR30_RATE_HIGH","message":"the PAR30 rate is 12.0 %"},{"table":"loans","line":3,"column":"active_loans","value":"4","rule":"LOANS_WITHOUT_CLIENTS","message":"line 3 has 4 active loans"}]}"#;
    app.db
        .execute_unprepared(&format!(
            "UPDATE submission SET validation_report = '{old}' WHERE id = {stored}"
        ))
        .await
        .unwrap();
    let data = app
        .query(
            "query($id: ID!) { submission(id: $id) { warnings { line subject rule } } }",
            json!({ "id": stored.to_string() }),
        )
        .await;
    assert_eq!(
        data["submission"]["warnings"],
        json!([
            { "line": null, "subject": "MONTH", "rule": "PAR30_RATE_HIGH" },
            { "line": 3, "subject": "CELL", "rule": "LOANS_WITHOUT_CLIENTS" },
        ])
    );
}
on_both_backends!(problems_of_the_whole_month_have_no_line);

/// A report for a month before 2000-01 is refused before it is read (400 over HTTP, `BAD_USER_INPUT` through the
/// mutation) with a message saying which months may be reported; 2000-01 itself is accepted.
async fn a_report_before_2000_is_refused(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let observatory = key_with(&app, PartnerKind::Observatory, None, &["read", "write"]).await;
    for month in ["1900-01", "1999-12"] {
        let reply = post_report(
            &app,
            Some(&observatory),
            &format!("/reports/{ASSOCIATION}/{month}"),
            csv_body(&valid_month(91)),
            &[],
        )
        .await;
        assert_eq!(reply.status, 400, "{month}: {}", reply.body);
        assert_eq!(reply.codes(), ["BAD_USER_INPUT"]);
        assert!(
            reply.message().contains(month) && reply.message().contains("2000-01"),
            "{}",
            reply.message()
        );
        let mut variables = input(ASSOCIATION, &valid_month(92), None);
        variables["input"]["period"] = json!(month);
        let reply = app.graphql_as(Some(&observatory), SUBMIT, variables).await;
        assert_eq!(reply.codes(), ["BAD_USER_INPUT"], "{month}: {}", reply.body);
        assert!(reply.message().contains("2000-01"), "{}", reply.message());
        assert!(
            reply.body["errors"][0]["extensions"].get("report").is_none(),
            "refused before validation"
        );
    }
    let id = association_id(&app.db, ASSOCIATION).await;
    let stored = submission::Entity::find()
        .filter(submission::Column::AssociationId.eq(id))
        .filter(submission::Column::Period.lt(200001))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, 0, "nothing stored");
    let mut variables = input(ASSOCIATION, &valid_month(93), None);
    variables["input"]["period"] = json!("2000-01");
    let reply = app.graphql_as(Some(&observatory), SUBMIT, variables).await;
    assert_eq!(reply.data()["submitReport"]["period"], "2000-01");
}
on_both_backends!(a_report_before_2000_is_refused);
