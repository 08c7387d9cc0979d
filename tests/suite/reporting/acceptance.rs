//! A valid month accepted and shown in the indicators; revisions, idempotent replays and races; who may send a
//! report and who may see the submissions.

use super::*;

async fn a_valid_month_is_accepted_and_shows_in_indicators(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let own = key_with(&app, PartnerKind::Association, Some(ASSOCIATION), &["read", "write"]).await;
    let month = valid_month(1);
    let reply = app
        .graphql_as(Some(&own), SUBMIT, input(ASSOCIATION, &month, None))
        .await;
    let submission = &reply.data()["submitReport"];
    assert_eq!(submission["status"], "ACCEPTED");
    assert_eq!(submission["revision"], 1);
    assert_eq!(submission["period"], MONTH);
    assert_eq!(submission["association"]["code"], ASSOCIATION);
    assert_eq!(submission["onBehalf"], false, "sent by the association itself");
    assert_eq!(submission["late"], true, "January 2021 was due on 15 February 2021");

    let expected = month.active_clients() as f64;
    let own_figure =
        active_clients_in_indicators(&app, &format!(", filter: {{ associations: [\"{ASSOCIATION}\"] }}")).await;
    assert_eq!(
        own_figure.as_f64(),
        Some(expected),
        "the association's figure is the report's"
    );
    let national = active_clients_in_indicators(&app, "").await;
    assert_eq!(
        national.as_f64(),
        Some(expected),
        "the national figure (read from the rollups) includes it"
    );
    assert_rollups_match_facts(&app.db).await;

    let id = association_id(&app.db, ASSOCIATION).await;
    assert_eq!(count_rows(&app.db, "client_stat", id).await, 24);
    assert_eq!(count_rows(&app.db, "loan_stat", id).await, 24);
    assert_eq!(count_rows(&app.db, "staff_stat", id).await, 4);
    let stored = submissions_of(&app.db, id).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].content_hash.len(), 64, "the payload's SHA-256 is kept");
    assert!(stored[0].payload.contains("\"active_clients\""), "the payload is kept");
    let audited = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("submission.accept"))
        .filter(audit_event::Column::TargetCode.eq(format!("{ASSOCIATION}/{MONTH}")))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(audited, 1, "the acceptance is audited");
}
on_both_backends!(a_valid_month_is_accepted_and_shows_in_indicators);

async fn a_revision_changes_the_figures(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let first = valid_month(3);
    let second = valid_month(4);
    assert_ne!(first.active_clients(), second.active_clients());
    let one = app.graphql(SUBMIT, input(ASSOCIATION, &first, None)).await;
    assert_eq!(one.data()["submitReport"]["revision"], 1);
    assert_eq!(
        one.data()["submitReport"]["onBehalf"],
        true,
        "the observatory sends on behalf"
    );
    let two = app.graphql(SUBMIT, input(ASSOCIATION, &second, None)).await;
    assert_eq!(two.data()["submitReport"]["revision"], 2);
    let national = active_clients_in_indicators(&app, "").await;
    assert_eq!(
        national.as_f64(),
        Some(second.active_clients() as f64),
        "the revision's figures replace the first"
    );
    assert_rollups_match_facts(&app.db).await;
    let id = association_id(&app.db, ASSOCIATION).await;
    assert_eq!(count_rows(&app.db, "client_stat", id).await, 24, "replaced, not added");
    let mut stored = submissions_of(&app.db, id).await;
    stored.sort_by_key(|s| s.revision);
    assert_eq!(
        stored.iter().map(|s| (s.revision, s.status)).collect::<Vec<_>>(),
        vec![(1, SubmissionStatus::Superseded), (2, SubmissionStatus::Accepted)]
    );
    assert_ne!(
        stored[0].payload, stored[1].payload,
        "the first revision's payload stays readable"
    );
    let listed = app
        .query(
            "{ submissions(filter: { associations: [\"TAFOUKT\"], from: \"2021-01\" }) { totalCount nodes { revision \
             status } } }",
            json!({}),
        )
        .await;
    assert_eq!(listed["submissions"]["totalCount"], 2);
    assert_eq!(listed["submissions"]["nodes"][0]["status"], "SUPERSEDED");
}
on_both_backends!(a_revision_changes_the_figures);

async fn an_idempotent_replay_returns_the_first_answer(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let month = valid_month(5);
    let first = app
        .graphql(SUBMIT, input(ASSOCIATION, &month, Some("jan-2021-a")))
        .await;
    let again = app
        .graphql(SUBMIT, input(ASSOCIATION, &month, Some("jan-2021-a")))
        .await;
    assert_eq!(
        first.data(),
        again.data(),
        "the same key and content answer the first submission again"
    );
    let other = app
        .graphql(SUBMIT, input(ASSOCIATION, &valid_month(6), Some("jan-2021-a")))
        .await;
    assert_eq!(other.codes(), vec!["CONFLICT"], "{}", other.body);
    assert!(other.message().contains("jan-2021-a"), "{}", other.message());
    let id = association_id(&app.db, ASSOCIATION).await;
    assert_eq!(submissions_of(&app.db, id).await.len(), 1, "one submission stored");
    let national = active_clients_in_indicators(&app, "").await;
    assert_eq!(national.as_f64(), Some(month.active_clients() as f64));
}
on_both_backends!(an_idempotent_replay_returns_the_first_answer);

async fn racing_revisions_become_consecutive_revisions(backend: Backend) {
    const RACERS: usize = 8;
    let app = Arc::new(spawn_app(&backend, Fixture::Demo).await);
    let start = Arc::new(tokio::sync::Barrier::new(RACERS));
    let tasks: Vec<_> = (0..RACERS)
        .map(|i| {
            let (app, start) = (app.clone(), start.clone());
            tokio::spawn(async move {
                let month = valid_month(10 + i as u64);
                start.wait().await;
                let reply = app.graphql(SUBMIT, input(ASSOCIATION, &month, None)).await;
                (
                    reply.codes(),
                    reply.body["data"]["submitReport"]["revision"].as_i64(),
                    month,
                )
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    let mut revisions: Vec<i64> = outcomes
        .iter()
        .map(|(codes, revision, _)| {
            assert!(codes.is_empty(), "every racer is accepted: {codes:?}");
            revision.expect("a revision")
        })
        .collect();
    revisions.sort();
    assert_eq!(
        revisions,
        (1..=RACERS as i64).collect::<Vec<_>>(),
        "consecutive, no duplicate"
    );
    let id = association_id(&app.db, ASSOCIATION).await;
    let stored = submissions_of(&app.db, id).await;
    let accepted: Vec<_> = stored
        .iter()
        .filter(|s| s.status == SubmissionStatus::Accepted)
        .collect();
    assert_eq!(accepted.len(), 1, "one accepted revision");
    assert_eq!(
        accepted[0].revision, RACERS as i32,
        "the last revision is the accepted one"
    );
    let last = &outcomes
        .iter()
        .find(|(_, revision, _)| *revision == Some(RACERS as i64))
        .unwrap()
        .2;
    let national = active_clients_in_indicators(&app, "").await;
    assert_eq!(
        national.as_f64(),
        Some(last.active_clients() as f64),
        "the facts are the last revision's"
    );
    assert_eq!(count_rows(&app.db, "client_stat", id).await, 24);
    assert_rollups_match_facts(&app.db).await;
}
on_both_backends!(racing_revisions_become_consecutive_revisions);

/// Property: over every kind of caller and every association, a report is accepted exactly when the caller is the
/// observatory with a key carrying `write`, or an association key with the `write` scope reporting for
/// itself; every other caller gets FORBIDDEN and nothing is stored.
async fn only_the_association_itself_or_the_observatory_may_report(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let targets = ["TAFOUKT", "ATLAS", "PALMIER"];
    let mut callers: Vec<(String, Option<String>, &str)> = vec![
        ("public".into(), None, ""),
        (
            "observatory".into(),
            Some(key_with(&app, PartnerKind::Observatory, None, &["read", "write", "admin"]).await),
            "*",
        ),
        (
            "ministry with write".into(),
            Some(key_with(&app, PartnerKind::Ministry, None, &["read", "write"]).await),
            "",
        ),
        (
            "federation".into(),
            Some(key_with(&app, PartnerKind::Federation, None, &["read", "write"]).await),
            "",
        ),
        (
            "observatory read only".into(),
            Some(key_with(&app, PartnerKind::Observatory, None, &["read"]).await),
            "",
        ),
    ];
    for own in targets {
        callers.push((
            format!("{own} with write"),
            Some(key_with(&app, PartnerKind::Association, Some(own), &["read", "write"]).await),
            own,
        ));
        callers.push((
            format!("{own} read only"),
            Some(key_with(&app, PartnerKind::Association, Some(own), &["read"]).await),
            "",
        ));
    }
    let mut g = Gen::new(7);
    for (name, key, may) in &callers {
        for target in targets {
            let month = valid_month(g.number());
            let reply = app
                .graphql_as(key.as_deref(), SUBMIT, input(target, &month, None))
                .await;
            let allowed = *may == "*" || *may == target;
            if allowed {
                assert!(
                    reply.codes().is_empty(),
                    "{name} may report for {target}: {}",
                    reply.body
                );
            } else {
                assert_eq!(
                    reply.codes(),
                    vec!["FORBIDDEN"],
                    "{name} may not report for {target}: {}",
                    reply.body
                );
            }
        }
    }
    for target in targets {
        let id = association_id(&app.db, target).await;
        assert_eq!(
            submissions_of(&app.db, id).await.len(),
            2,
            "{target}: only the observatory's and its own report were stored"
        );
    }
}
on_both_backends!(only_the_association_itself_or_the_observatory_may_report);

/// Property: over generated submissions of several associations, each association lists exactly its own, the
/// observatory lists all, and every other caller is refused; one submission by id follows the same rule.
async fn submissions_are_shown_to_their_association_and_the_observatory(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let associations = ["TAFOUKT", "PALMIER", "MIMOSA"];
    let mut g = Gen::new(41);
    let mut ids: std::collections::HashMap<&str, Vec<String>> = std::collections::HashMap::new();
    for _ in 0..7 {
        let target = associations[g.below(3) as usize];
        let reply = app.graphql(SUBMIT, input(target, &valid_month(g.number()), None)).await;
        ids.entry(target)
            .or_default()
            .push(reply.data()["submitReport"]["id"].as_str().unwrap().to_owned());
    }
    // Submissions of the months after the demo's (whose own reports are listed too).
    const LIST: &str = "{ submissions(first: 100, filter: { from: \"2021-01\" }) { totalCount nodes { id late sentBy \
                        onBehalf warnings { rule } } } }";
    let all = app.query(LIST, json!({})).await;
    assert_eq!(all["submissions"]["totalCount"], 7, "the observatory sees all");
    assert_eq!(all["submissions"]["nodes"][0]["late"], true);
    assert_eq!(all["submissions"]["nodes"][0]["onBehalf"], true);
    assert!(all["submissions"]["nodes"][0]["sentBy"].is_string(), "who sent it");
    for own in associations {
        let key = key_with(&app, PartnerKind::Association, Some(own), &["read"]).await;
        let listed = app.graphql_as(Some(&key), LIST, json!({})).await;
        let mut seen: Vec<String> = listed.data()["submissions"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_str().unwrap().to_owned())
            .collect();
        seen.sort();
        let mut expected = ids.get(own).cloned().unwrap_or_default();
        expected.sort();
        assert_eq!(seen, expected, "{own} sees its own submissions only");
        for (other, other_ids) in &ids {
            for id in other_ids {
                let one = app
                    .graphql_as(
                        Some(&key),
                        "query($id: ID!) { submission(id: $id) { id } }",
                        json!({ "id": id }),
                    )
                    .await;
                if *other == own {
                    assert_eq!(one.data()["submission"]["id"], json!(id));
                } else {
                    assert_eq!(
                        one.codes(),
                        vec!["NOT_FOUND"],
                        "{own} may not read {other}'s submission"
                    );
                }
            }
        }
    }
    for key in [
        None,
        Some(key_with(&app, PartnerKind::Ministry, None, &["read", "write"]).await),
    ] {
        let listed = app.graphql_as(key.as_deref(), LIST, json!({})).await;
        assert_eq!(listed.codes(), vec!["FORBIDDEN"], "{}", listed.body);
    }
}
on_both_backends!(submissions_are_shown_to_their_association_and_the_observatory);

/// An observatory key sends reports only with the `write` scope: one without it (read-only, or read and admin) is
/// refused with 403
/// over HTTP and `FORBIDDEN` through the mutation, and stores nothing.
async fn an_observatory_key_without_write_may_not_report(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let read_only = key_with(&app, PartnerKind::Observatory, None, &["read"]).await;
    let path = format!("/reports/{ASSOCIATION}/{MONTH}");
    let admin = key_with(&app, PartnerKind::Observatory, None, &["read", "admin"]).await;
    let reply = post_report(&app, Some(&admin), &path, csv_body(&valid_month(79)), &[]).await;
    assert_eq!(reply.status, 403, "an admin key without write: {}", reply.body);
    let reply = post_report(&app, Some(&read_only), &path, csv_body(&valid_month(80)), &[]).await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    assert_eq!(reply.codes(), ["FORBIDDEN"]);
    assert!(
        reply.message().contains("`write`"),
        "the message names the scope: {}",
        reply.message()
    );
    let reply = app
        .graphql_as(Some(&read_only), SUBMIT, input(ASSOCIATION, &valid_month(81), None))
        .await;
    assert_eq!(reply.codes(), ["FORBIDDEN"], "{}", reply.body);
    assert!(reply.message().contains("`write`"), "{}", reply.message());
    let id = association_id(&app.db, ASSOCIATION).await;
    assert!(submissions_of(&app.db, id).await.is_empty(), "nothing stored");

    for scopes in [&["read", "write"][..], &["read", "write", "admin"][..]] {
        let key = key_with(&app, PartnerKind::Observatory, None, scopes).await;
        let reply = post_report(&app, Some(&key), &path, csv_body(&valid_month(82)), &[]).await;
        assert_eq!(reply.status, 201, "{scopes:?}: {}", reply.body);
        assert_eq!(reply.body["onBehalf"], true);
        let reply = app
            .graphql_as(Some(&key), SUBMIT, input(ASSOCIATION, &valid_month(83), None))
            .await;
        assert_eq!(reply.data()["submitReport"]["status"], "ACCEPTED", "{scopes:?}");
    }
    assert_eq!(submissions_of(&app.db, id).await.len(), 4);
}
on_both_backends!(an_observatory_key_without_write_may_not_report);
