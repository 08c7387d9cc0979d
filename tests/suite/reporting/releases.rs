//! Reporting status (missing, on time, late), releases refused while a report is missing (and forced ones
//! audited), and the coverage of reporting over the expected associations.

use super::*;

async fn reporting_status_lists_missing_on_time_and_late(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    for association in ["TAFOUKT", "PALMIER"] {
        app.graphql(SUBMIT, input(association, &valid_month(60), None))
            .await
            .data();
    }
    app.graphql(SUBMIT, input("PALMIER", &valid_month(61), None))
        .await
        .data();
    // TAFOUKT's report arrived on 10 February 2021, before the deadline of 15 February.
    let tafoukt = association_id(&app.db, "TAFOUKT").await;
    let on_time = if matches!(backend, Backend::Sqlite) {
        "'2021-02-10 09:00:00+00:00'"
    } else {
        "TIMESTAMPTZ '2021-02-10 09:00:00+00'"
    };
    app.db
        .execute_unprepared(&format!(
            "UPDATE submission SET received_at = {on_time} WHERE association_id = {tafoukt}"
        ))
        .await
        .unwrap();
    // A closed association is not expected.
    app.db
        .execute_unprepared("UPDATE association SET status = 'CLOSED' WHERE code = 'MIMOSA'")
        .await
        .unwrap();
    const STATUS: &str = "{ reportingStatus(period: \"2021-01\") { association { code } status revisions } }";
    let rows = app.query(STATUS, json!({})).await["reportingStatus"].clone();
    let status = |code: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["association"]["code"] == code)
            .cloned()
    };
    assert_eq!(status("TAFOUKT").unwrap()["status"], "ON_TIME");
    assert_eq!(status("PALMIER").unwrap()["status"], "LATE");
    assert_eq!(status("PALMIER").unwrap()["revisions"], 2);
    assert_eq!(status("ATLAS").unwrap()["status"], "MISSING");
    assert_eq!(status("ATLAS").unwrap()["revisions"], 0);
    assert!(status("MIMOSA").is_none(), "a closed association is not expected");
    assert_eq!(rows.as_array().unwrap().len(), 12);

    let own = key_with(&app, PartnerKind::Association, Some("PALMIER"), &["read"]).await;
    let mine = app.graphql_as(Some(&own), STATUS, json!({})).await;
    assert_eq!(
        mine.data()["reportingStatus"].as_array().unwrap().len(),
        1,
        "an association sees its own line"
    );
    assert_eq!(app.graphql_as(None, STATUS, json!({})).await.codes(), vec!["FORBIDDEN"]);
}
on_both_backends!(reporting_status_lists_missing_on_time_and_late);

/// For generated months where random associations reported and others were closed or merged: a release without
/// `force` is refused with CONFLICT naming every missing association and no other; `force` without a note is refused;
/// a forced release with a note is stored and its audit event records the note and the missing associations; once
/// every expected association has reported, the month is released without `force`.
async fn releasing_with_a_missing_report_is_refused_and_the_forced_release_is_audited(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let codes = association_codes(&app.db).await;
    assert_eq!(codes.len(), DEMO_ASSOCIATIONS.len());
    let mut g = Gen::new(88);
    let mut closed: Vec<&str> = Vec::new();
    for (round, month) in ["2021-01", "2021-02", "2021-03"].into_iter().enumerate() {
        // Close or merge one more association: it is no longer expected.
        let gone = DEMO_ASSOCIATIONS[g.below(DEMO_ASSOCIATIONS.len() as u64) as usize];
        let status = if g.below(2) == 0 { "CLOSED" } else { "MERGED" };
        app.db
            .execute_unprepared(&format!(
                "UPDATE association SET status = '{status}' WHERE code = '{gone}'"
            ))
            .await
            .unwrap();
        closed.push(gone);
        let reporting = some_of(&mut g, DEMO_ASSOCIATIONS);
        for (i, code) in reporting.iter().enumerate() {
            report(&app, code, month, 300 + round as u64 * 20 + i as u64).await;
        }
        let missing: Vec<&str> = DEMO_ASSOCIATIONS
            .iter()
            .copied()
            .filter(|c| !reporting.contains(c) && !closed.contains(c))
            .collect();
        assert!(!missing.is_empty(), "the generator leaves someone missing");

        let refused = app
            .graphql(RELEASE, json!({ "p": month, "note": "checked", "force": false }))
            .await;
        assert_eq!(refused.codes(), ["CONFLICT"], "{month}: {}", refused.body);
        let message = refused.message();
        let words: Vec<&str> = message.split(|c: char| !c.is_ascii_alphanumeric()).collect();
        for code in DEMO_ASSOCIATIONS {
            assert_eq!(
                words.contains(code),
                missing.contains(code),
                "{month}: {code} is named exactly when it is missing: {message}"
            );
        }
        for note in ["", "   "] {
            let no_note = app
                .graphql(RELEASE, json!({ "p": month, "note": note, "force": true }))
                .await;
            assert_eq!(no_note.codes(), ["BAD_USER_INPUT"], "{}", no_note.body);
        }
        assert!(
            release_events(&app.db, month).await.is_empty(),
            "a refused release is not stored"
        );
        assert_eq!(
            app.query("{ releases(first: 500) { nodes { period } } }", json!({}))
                .await["releases"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["period"] == month)
                .count(),
            0
        );

        let note = format!("released without {} reports: the minister's meeting", missing.len());
        let forced = app
            .query(RELEASE, json!({ "p": month, "note": note, "force": true }))
            .await;
        assert_eq!(forced["releasePeriod"]["period"], month);
        assert_eq!(forced["releasePeriod"]["note"], note.as_str());
        let events = release_events(&app.db, month).await;
        assert_eq!(events.len(), 1);
        let details: Value = serde_json::from_str(&events[0].detail).unwrap();
        assert_eq!(details["note"], note.as_str(), "{details}");
        assert_eq!(details["forced"], true, "{details}");
        assert_eq!(details["missing"], json!(missing), "{details}");
    }

    // Every expected association reported: no force needed, and the audit says nothing was missing.
    let month = "2021-04";
    let expected: Vec<&str> = DEMO_ASSOCIATIONS
        .iter()
        .copied()
        .filter(|c| !closed.contains(c))
        .collect();
    for (i, code) in expected.iter().enumerate() {
        report(&app, code, month, 400 + i as u64).await;
    }
    let released = app
        .query(RELEASE, json!({ "p": month, "note": "", "force": false }))
        .await;
    assert_eq!(released["releasePeriod"]["period"], month);
    let details: Value = serde_json::from_str(&release_events(&app.db, month).await[0].detail).unwrap();
    assert_eq!(details["forced"], false, "{details}");
    assert_eq!(details["missing"], json!([]), "{details}");
}
on_both_backends!(releasing_with_a_missing_report_is_refused_and_the_forced_release_is_audited);

/// Coverage: for generated months where random associations reported, each row's `coverage` counts the associations
/// with an accepted report for every month of its period over the associations expected (closed and merged ones are
/// not), by month, by quarter, per association and under an association filter; asking for it costs one statement.
async fn coverage_counts_reporting_over_expected_associations(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let mut g = Gen::new(91);
    app.db
        .execute_unprepared("UPDATE association SET status = 'MERGED' WHERE code = 'DUNE'")
        .await
        .unwrap();
    let expected: Vec<&str> = DEMO_ASSOCIATIONS.iter().copied().filter(|c| *c != "DUNE").collect();
    let months = ["2021-01", "2021-02", "2021-03"];
    let mut reported: Vec<Vec<&str>> = Vec::new();
    for (m, month) in months.iter().enumerate() {
        let mut reporting = some_of(&mut g, DEMO_ASSOCIATIONS);
        if m == 0 {
            // DUNE reported before it merged: it no longer counts.
            reporting.push("DUNE");
        }
        for (i, code) in reporting.iter().enumerate() {
            report(&app, code, month, 500 + m as u64 * 20 + i as u64).await;
        }
        reported.push(reporting);
    }
    let counted = |m: usize| expected.iter().filter(|c| reported[m].contains(c)).count();

    let monthly = "{ indicators(period: { from: \"2021-01\", to: \"2021-03\" }) { period activeClients { value } \
                   coverage { reporting expected } } }";
    let (statements_with, data) = app.statements_of(monthly, json!({})).await;
    let rows = data["indicators"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 3);
    for (m, row) in rows.iter().enumerate() {
        assert_eq!(row["period"], months[m]);
        assert_eq!(
            row["coverage"],
            json!({ "reporting": counted(m), "expected": expected.len() }),
            "{}",
            months[m]
        );
    }
    let (statements_without, _) = app
        .statements_of(&monthly.replace("coverage { reporting expected } ", ""), json!({}))
        .await;
    assert!(
        statements_with <= statements_without + 1,
        "coverage costs one statement per request: {statements_with} against {statements_without}"
    );

    // A quarter counts the associations that reported each of its months.
    let quarterly = app
        .query(
            "{ indicators(period: { from: \"2021-01\", to: \"2021-03\", granularity: QUARTER }) { period activeClients { value } coverage { \
             reporting expected } } }",
            json!({}),
        )
        .await;
    let all_three = expected
        .iter()
        .filter(|c| reported.iter().all(|r| r.contains(c)))
        .count();
    assert_eq!(
        quarterly["indicators"][0]["coverage"],
        json!({ "reporting": all_three, "expected": expected.len() })
    );

    // Per association, and under an association filter.
    let per_association = app
        .query(
            "{ indicators(period: { from: \"2021-02\", to: \"2021-02\" }, groupBy: [ASSOCIATION]) { association { \
             code } activeClients { value } coverage { reporting expected } } }",
            json!({}),
        )
        .await;
    for row in per_association["indicators"].as_array().unwrap() {
        let code = row["association"]["code"].as_str().unwrap();
        let expected_here = usize::from(expected.contains(&code));
        let reporting_here = usize::from(expected.contains(&code) && reported[1].contains(&code));
        assert_eq!(
            row["coverage"],
            json!({ "reporting": reporting_here, "expected": expected_here }),
            "{code}"
        );
    }
    let chosen = ["ATLAS", "CEDRE", "DUNE", "SAFRAN"];
    let filtered = app
        .query(
            "{ indicators(period: { from: \"2021-01\", to: \"2021-01\" }, filter: { associations: [\"ATLAS\", \
             \"CEDRE\", \"DUNE\", \"SAFRAN\"] }) { activeClients { value } coverage { reporting expected } } }",
            json!({}),
        )
        .await;
    {
        let row = &filtered["indicators"][0];
        let chosen_expected: Vec<&str> = chosen.iter().copied().filter(|c| expected.contains(c)).collect();
        assert_eq!(
            row["coverage"],
            json!({
                "reporting": chosen_expected.iter().filter(|c| reported[0].contains(c)).count(),
                "expected": chosen_expected.len(),
            })
        );
    }
}
on_both_backends!(coverage_counts_reporting_over_expected_associations);
