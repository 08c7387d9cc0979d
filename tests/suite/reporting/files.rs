//! Reports as files: CSV parts over HTTP, `.xlsx` workbooks, malformed files that never answer 500, and the command
//! line that sends CSV files on an association's behalf.

use super::*;

async fn a_csv_month_is_accepted_over_http(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let own = key_with(&app, PartnerKind::Association, Some(ASSOCIATION), &["read", "write"]).await;
    let month = valid_month(20);
    // French Excel: semicolons, decimal commas, a BOM.
    let mut parts = csv_parts(&month, ';');
    for (_, content) in &mut parts {
        let text = String::from_utf8(content.clone()).unwrap();
        let mut with_bom = b"\xEF\xBB\xBF".to_vec();
        with_bom.extend_from_slice(text.replace('.', ",").as_bytes());
        *content = with_bom;
    }
    let path = format!("/reports/{ASSOCIATION}/{MONTH}");
    let headers = [("idempotency-key", "tafoukt-2021-01")];
    let reply = post_report(&app, Some(&own), &path, multipart(&parts), &headers).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["revision"], 1);
    assert_eq!(reply.body["status"], "ACCEPTED");
    assert_eq!(reply.body["association"], ASSOCIATION);
    let national = active_clients_in_indicators(&app, "").await;
    assert_eq!(national.as_f64(), Some(month.active_clients() as f64));
    let again = post_report(&app, Some(&own), &path, multipart(&parts), &headers).await;
    assert_eq!(again.status, 201);
    assert_eq!(
        again.body["id"], reply.body["id"],
        "a replay answers the first submission"
    );
    let other = post_report(
        &app,
        Some(&own),
        &path,
        multipart(&csv_parts(&valid_month(21), ',')),
        &headers,
    )
    .await;
    assert_eq!(other.status, 409, "{}", other.body);

    let template = app
        .send(
            axum::http::Request::get("/reports/templates/loans.csv")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(template.status, 200);
    assert!(template.content_type.starts_with("text/csv"));
    assert!(template.text.starts_with(&COLUMNS_LOANS.join(",")), "{}", template.text);
    assert_eq!(template.text.lines().count(), 2, "the header and an example row");
}
on_both_backends!(a_csv_month_is_accepted_over_http);

async fn a_csv_report_with_mistakes_answers_422_with_file_lines(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let mut month = valid_month(22);
    month.clients[0]["gender"] = json!("W");
    month.loans[5]["par30_amount"] = json!("999999999");
    let reply = post_report(
        &app,
        None,
        &format!("/reports/{ASSOCIATION}/{MONTH}"),
        multipart(&csv_parts(&month, ',')),
        &[],
    )
    .await;
    assert_eq!(reply.status, 403, "the public may not report: {}", reply.body);
    let observatory = key_with(&app, PartnerKind::Observatory, None, &["read", "write"]).await;
    let reply = post_report(
        &app,
        Some(&observatory),
        &format!("/reports/{ASSOCIATION}/{MONTH}"),
        multipart(&csv_parts(&month, ',')),
        &[],
    )
    .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    let mut expected = vec![
        (
            "clients".to_owned(),
            2,
            Some("gender".to_owned()),
            "UNKNOWN_CODE".to_owned(),
        ),
        (
            "loans".to_owned(),
            7,
            Some("par30_amount".to_owned()),
            "PAR30_ABOVE_OUTSTANDING".to_owned(),
        ),
    ];
    expected.sort();
    assert_eq!(
        problems(&reply),
        expected,
        "lines are the file's lines (the header is line 1)"
    );
    let id = association_id(&app.db, ASSOCIATION).await;
    assert!(submissions_of(&app.db, id).await.is_empty());
}
on_both_backends!(a_csv_report_with_mistakes_answers_422_with_file_lines);

/// Property: whatever is wrong with the files (generated corruptions of a valid report, wrong encodings, binary
/// files, ragged rows, empty or unknown parts, oversized bodies), the answer is a clear 4xx, never a 500, and a
/// refused report stores nothing.
async fn malformed_reports_never_answer_500(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let id = association_id(&app.db, ASSOCIATION).await;
    let path = format!("/reports/{ASSOCIATION}/{MONTH}");
    let month = valid_month(30);
    let valid = csv_parts(&month, ',');
    let with = |name: &str, content: Vec<u8>| -> Vec<(&'static str, Vec<u8>)> {
        valid
            .iter()
            .map(|(n, c)| (*n, if *n == name { content.clone() } else { c.clone() }))
            .collect()
    };
    let latin1 = {
        let mut text = csv(&month.staff, COLUMNS_STAFF, ',').into_bytes();
        text.extend_from_slice(b"NETWORK,MALE,3\xe9\r\n");
        text
    };
    let ragged = {
        let mut text = csv(&month.clients, COLUMNS_CLIENTS, ',');
        text.push_str("MA-09,INDIVIDUAL,FEMALE\r\n");
        text.into_bytes()
    };
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("latin-1 file", multipart(&with("staff", latin1)), 415, "UTF-8"),
        (
            "binary named .csv",
            multipart(&with("loans", b"PK\x03\x04\x14\x00\x06\x00binary".to_vec())),
            415,
            "binary",
        ),
        ("NUL bytes", multipart(&with("loans", vec![0u8; 64])), 415, "binary"),
        ("ragged row", multipart(&with("clients", ragged)), 400, "line 26"),
        ("empty part", multipart(&with("staff", Vec::new())), 400, "empty"),
        (
            "blank part",
            multipart(&with("staff", b" \r\n\r\n".to_vec())),
            400,
            "empty",
        ),
        (
            "unknown part",
            multipart(&[("cats", b"a,b\n1,2\n".to_vec())]),
            400,
            "unknown part",
        ),
        ("no part", multipart(&[]), 400, "no part"),
        (
            "broken multipart",
            b"--nope\r\nnot multipart".to_vec(),
            400,
            "multipart",
        ),
        (
            "workbook",
            multipart(&[("workbook", b"PK\x03\x04".to_vec())]),
            415,
            "xlsx",
        ),
    ];
    let observatory = key_with(&app, PartnerKind::Observatory, None, &["read", "write"]).await;
    for (name, body, status, words) in cases {
        let reply = post_report(&app, Some(&observatory), &path, body, &[]).await;
        assert_eq!(reply.status, status, "{name}: {}", reply.body);
        assert!(
            reply.message().contains(words),
            "{name}: `{}` names the problem",
            reply.message()
        );
    }
    let huge = vec![b'1'; 5 * 1024 * 1024 + 1];
    let reply = post_report(&app, Some(&observatory), &path, multipart(&with("clients", huge)), &[]).await;
    assert_eq!(reply.status, 413);
    assert!(reply.message().contains("5 MB"), "{}", reply.message());
    let not_multipart = app
        .send(
            axum::http::Request::post(&path)
                .header("authorization", format!("Bearer {observatory}"))
                .header("content-type", "text/csv")
                .body(axum::body::Body::from("region\n"))
                .unwrap(),
        )
        .await;
    assert_eq!(not_multipart.status, 415);

    // Generated corruptions of a valid report: bytes deleted, inserted or replaced at random places.
    let mut g = Gen::new(31);
    let mut accepted = 0;
    let noise: &[&[u8]] = &[
        b"\"",
        b",",
        b";",
        b"\r\n",
        b"\xff",
        b"\x00",
        b"-",
        b"..",
        b"\xc3",
        b"\"\"",
        b"9999999999999999999999",
    ];
    for round in 0..60 {
        let part = g.below(3) as usize;
        let mut content = valid[part].1.clone();
        for _ in 0..1 + g.below(4) {
            let at = g.below(content.len() as u64 + 1) as usize;
            match g.below(3) {
                0 if at < content.len() => {
                    content.remove(at);
                }
                1 if at < content.len() => content[at] = noise[g.below(noise.len() as u64) as usize][0],
                _ => {
                    let bytes = noise[g.below(noise.len() as u64) as usize];
                    content.splice(at..at, bytes.iter().copied());
                }
            }
        }
        let reply = post_report(
            &app,
            Some(&observatory),
            &path,
            multipart(&with(valid[part].0, content)),
            &[],
        )
        .await;
        assert!(
            [201, 400, 415, 422].contains(&reply.status.as_u16()),
            "round {round}: {} {}",
            reply.status,
            reply.body
        );
        assert!(
            !reply.message().is_empty() || reply.status == 201,
            "round {round}: a message"
        );
        if reply.status == 201 {
            accepted += 1;
        }
        assert_eq!(
            submissions_of(&app.db, id).await.len(),
            accepted,
            "round {round}: only accepted reports are stored"
        );
    }
    assert!(
        accepted < 30,
        "most corruptions are refused ({accepted} of 60 accepted)"
    );
}
on_both_backends!(malformed_reports_never_answer_500);

async fn the_command_line_submits_csv_files_on_behalf(backend: Backend) {
    use clap::Parser;
    let app = spawn_app(&backend, Fixture::Demo).await;
    let dir = std::env::temp_dir().join(format!("report-cli-{}-{}", std::process::id(), backend.name()));
    std::fs::create_dir_all(&dir).unwrap();
    let month = valid_month(50);
    let mut files = Vec::new();
    for (name, content) in csv_parts(&month, ';') {
        let path = dir.join(format!("{name}.csv"));
        std::fs::write(&path, content).unwrap();
        files.push(path.display().to_string());
    }
    let run = |files: Vec<String>| {
        let mut line = vec![
            "observatory".to_owned(),
            "report".into(),
            "submit".into(),
            "--association".into(),
            ASSOCIATION.into(),
            "--month".into(),
            MONTH.into(),
        ];
        line.extend(files);
        let mut cli = api::cli::Cli::try_parse_from(line).expect("command parses");
        let db = app.db.clone();
        async move {
            api::cli::manage(&db, cli.command_or_serve())
                .await
                .map_err(|e| e.to_string())
        }
    };
    // The files in another order: their names say which table each is.
    let mut shuffled = files.clone();
    shuffled.reverse();
    let printed = run(shuffled).await.expect("the report is accepted");
    let view: Value = serde_json::from_str(&printed).expect("the submission as JSON");
    assert_eq!(view["revision"], 1);
    assert_eq!(view["onBehalf"], true);
    let national = active_clients_in_indicators(&app, "").await;
    assert_eq!(national.as_f64(), Some(month.active_clients() as f64));
    let audit = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("submission.accept"))
        .filter(audit_event::Column::TargetCode.eq(format!("{ASSOCIATION}/{MONTH}")))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(audit.actor_key_prefix.unwrap_or_default().starts_with("cli:"));
    assert!(
        audit.detail.contains("report submit --association TAFOUKT"),
        "{}",
        audit.detail
    );

    let mut wrong = month.clone();
    wrong.staff[1]["headcount"] = json!("many");
    std::fs::write(dir.join("staff.csv"), csv(&wrong.staff, COLUMNS_STAFF, ',')).unwrap();
    let refused = run(files).await.expect_err("a rejected report fails");
    assert!(refused.contains("staff line 3, headcount"), "{refused}");
    assert!(refused.contains("NOT_A_NUMBER"), "{refused}");
    std::fs::remove_dir_all(&dir).ok();
}
on_both_backends!(the_command_line_submits_csv_files_on_behalf);

async fn an_xlsx_workbook_is_read_like_the_csv_files(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let observatory = key_with(&app, PartnerKind::Observatory, None, &["read", "write"]).await;
    let path = format!("/reports/{ASSOCIATION}/{MONTH}");
    let month = valid_month(70);
    let book = workbook(&[
        ("Instructions", vec![vec![json!("Fill in one sheet per table")]]),
        ("clients", sheet(&month.clients, COLUMNS_CLIENTS)),
        ("loans", sheet(&month.loans, COLUMNS_LOANS)),
        ("staff", sheet(&month.staff, COLUMNS_STAFF)),
    ]);
    let reply = post_report(&app, Some(&observatory), &path, multipart(&[("workbook", book)]), &[]).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let national = active_clients_in_indicators(&app, "").await;
    assert_eq!(
        national.as_f64(),
        Some(month.active_clients() as f64),
        "the workbook's figures are stored"
    );

    let mut wrong = valid_month(71);
    wrong.loans[2]["segment"] = json!("GROUPS");
    let book = workbook(&[
        ("clients", sheet(&wrong.clients, COLUMNS_CLIENTS)),
        ("loans", sheet(&wrong.loans, COLUMNS_LOANS)),
    ]);
    let reply = post_report(&app, Some(&observatory), &path, multipart(&[("workbook", book)]), &[]).await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    let mut expected = vec![
        (
            "loans".to_owned(),
            4,
            Some("segment".to_owned()),
            "UNKNOWN_CODE".to_owned(),
        ),
        ("staff".to_owned(), 0, None, "MISSING_TABLE".to_owned()),
    ];
    expected.sort();
    assert_eq!(problems(&reply), expected, "a sheet's lines are its row numbers");
    let id = association_id(&app.db, ASSOCIATION).await;
    assert_eq!(
        submissions_of(&app.db, id).await.len(),
        1,
        "the rejected workbook stored nothing"
    );

    // Corrupted workbooks: refused with 400 or 415, never a 500.
    let good = workbook(&[("clients", sheet(&month.clients, COLUMNS_CLIENTS))]);
    let mut g = Gen::new(72);
    for round in 0..20 {
        let mut bytes = good.clone();
        for _ in 0..1 + g.below(8) {
            let at = g.below(bytes.len() as u64) as usize;
            bytes[at] = g.number() as u8;
        }
        if round % 5 == 0 {
            bytes.truncate(g.below(bytes.len() as u64) as usize);
        }
        let reply = post_report(&app, Some(&observatory), &path, multipart(&[("workbook", bytes)]), &[]).await;
        assert!(
            [400, 415, 422].contains(&reply.status.as_u16()),
            "round {round}: {} {}",
            reply.status,
            reply.body
        );
    }
}
on_both_backends!(an_xlsx_workbook_is_read_like_the_csv_files);
