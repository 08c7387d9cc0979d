//! Alert rules judged as reports arrive: an alert raised once and following its value, lateness alerts raised and
//! resolved, rules checked on creation, and the public never told of a suppressed group.

use super::*;

/// Generated sequences of reports of one association-month, each above or below the threshold or the same figures
/// again: the rule's one alert for the association and month follows the last value (open above, resolved below),
/// every change of state writes exactly one event, and the same figures again write none.
async fn an_alert_is_raised_once_and_follows_the_value(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    quiet_lateness(&app).await;
    let mut g = Gen::new(11);
    let mut open: Option<bool> = None;
    let mut last: Option<Month> = None;
    let mut first_id: Option<String> = None;
    for step in 0..8 {
        let before = events(&app).await;
        let (month, above) = match (g.below(3), &last) {
            (0, Some(last)) => (last.clone(), open.expect("a report was sent")),
            (1, _) => (month_of(100 + step, REGIONS, (1, 3)), false),
            _ => (month_of(100 + step, REGIONS, (8, 12)), true),
        };
        send(&app, ASSOCIATION, PERIOD, &month).await;
        let alerts = par30_alerts(&app).await;
        let rate = par30_rate(&app).await;
        assert_eq!(
            rate > 5.0,
            above,
            "the generated month's PAR30 ({rate}) is on the intended side"
        );
        let expected_events = match (open, above) {
            (None, false) => 0,
            (Some(was), now) if was == now => 0,
            _ => 1,
        };
        assert_eq!(
            events(&app).await - before,
            expected_events,
            "step {step}: PAR30 {rate:.2} % after {open:?} writes {expected_events} event(s)"
        );
        if open.is_none() && !above {
            assert!(alerts.is_empty(), "a value within the threshold raises nothing");
            continue;
        }
        assert_eq!(alerts.len(), 1, "one alert per rule, association and month: {alerts:?}");
        let alert = &alerts[0];
        let id = alert["id"].as_str().expect("an id").to_owned();
        assert_eq!(
            first_id.get_or_insert(id.clone()),
            &id,
            "raised again, it is the same alert"
        );
        assert_eq!(alert["status"], if above { "OPEN" } else { "RESOLVED" });
        assert!((alert["value"].as_f64().expect("a value") - rate).abs() < 1e-9);
        assert_eq!(alert["threshold"], 5.0);
        assert_eq!(alert["resolvedAt"].is_null(), above);
        open = Some(above);
        last = Some(month);
    }
    assert!(first_id.is_some(), "the generated sequence raised an alert");
}
on_both_backends!(an_alert_is_raised_once_and_follows_the_value);

/// Generated months in which a few associations report a few regions each, with PAR30 mostly above the threshold,
/// released without the others: every alert the public sees (in `alerts` and by subscription) is of a group whose
/// compared figure the public's `indicators` shows too, with the same value; alerts on the groups it hides exist for
/// the observatory only.
async fn the_public_never_receives_an_alert_about_a_suppressed_group(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    quiet_lateness(&app).await;
    app.query(
        "mutation { createAlertRule(input: { code: \"PAR30_ABOVE_5_SEGMENT\", name: \"PAR30 above 5 % in a segment\", \
         measure: \"par30Rate\", scope: SEGMENT, direction: ABOVE, threshold: 5, severity: WARNING }) { code } }",
        json!({}),
    )
    .await;
    let address = serve(&app).await;
    let mut subscriber = subscribe(
        address,
        None,
        "subscription { alertRaised { id period scope region { code } } }",
    )
    .await;
    let mut g = Gen::new(match backend {
        Backend::Sqlite => 5,
        _ => 6,
    });
    let observatory = app.issue_key(PartnerKind::Observatory, None).await;
    let mut hidden = 0;
    let mut shown = 0;
    for (index, period) in ["2021-01", "2021-02", "2021-03", "2021-04"].iter().enumerate() {
        let reporters = 1 + g.below(5) as usize;
        let mut codes: Vec<&str> = CODES.to_vec();
        for n in 0..reporters {
            let code = codes.remove(g.below(codes.len() as u64) as usize);
            let mut regions: BTreeSet<&str> = BTreeSet::new();
            for _ in 0..=g.below(3) {
                regions.insert(*g.pick(ALL_REGIONS));
            }
            let regions: Vec<&str> = regions.into_iter().collect();
            let month = month_of((index * 10 + n) as u64, &regions, (3, 12));
            send(&app, code, period, &month).await;
        }
        app.query(
            "mutation($p: Period!) { releasePeriod(period: $p, force: true, note: \"a test month\") { period } }",
            json!({ "p": period }),
        )
        .await;
        let everything = group_alerts(&app, Some(&observatory), period).await;
        let public = group_alerts(&app, None, period).await;
        for alert in &public {
            let figure = public_figure(&app, alert, period).await;
            let value = alert["value"].as_f64().unwrap();
            assert!(
                figure.is_some_and(|f| (f - value).abs() < 1e-6),
                "{period}: the public sees {alert} but its indicators show {figure:?}"
            );
        }
        let mut received = BTreeSet::new();
        while let Some(Ok(message)) = next_message(&mut subscriber, Duration::from_millis(1_000)).await {
            assert_eq!(message["type"], "next", "{message}");
            received.insert(
                message["payload"]["data"]["alertRaised"]["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        let listed: BTreeSet<String> = public.iter().map(|a| a["id"].as_str().unwrap().to_owned()).collect();
        assert_eq!(
            received, listed,
            "{period}: the public's subscription carries exactly its `alerts`"
        );
        for alert in everything
            .iter()
            .filter(|a| !listed.contains(a["id"].as_str().unwrap()))
        {
            assert!(
                public_figure(&app, alert, period).await.is_none(),
                "{period}: {alert} is withheld from the public although its figure is shown"
            );
            hidden += 1;
        }
        shown += listed.len();
    }
    assert!(
        hidden > 0,
        "the generated months hid no alert: the property was not exercised"
    );
    assert!(
        shown > 0,
        "the generated months showed no alert to the public: the property was not exercised"
    );
}
on_both_backends!(the_public_never_receives_an_alert_about_a_suppressed_group);

/// Rules are the observatory's and are checked; webhooks need a key, a public address and a real secret.
async fn rules_and_webhooks_are_checked(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Empty).await;
    let app = &app;
    let create = |input: Value| async move {
        app.graphql(
            "mutation($input: AlertRuleInput!) { createAlertRule(input: $input) { code scope threshold } }",
            json!({ "input": input }),
        )
        .await
    };
    let rule = json!({ "code": "STAFF_DOWN", "name": "Staff down 10 %", "measure": "staff", "scope": "SECTOR",
                       "comparison": "PREVIOUS_PERIOD_CHANGE", "direction": "BELOW", "threshold": -10,
                       "severity": "INFO" });
    let reply = create(rule.clone()).await;
    assert_eq!(reply.data()["createAlertRule"]["code"], "STAFF_DOWN");
    assert_eq!(create(rule.clone()).await.codes(), ["CONFLICT"]);
    for (field, value) in [
        ("measure", json!("noSuchMeasure")),
        ("scope", json!("REGION")),
        ("code", json!("lower case")),
        ("direction", json!("SIDEWAYS")),
    ] {
        let mut bad = rule.clone();
        bad[field] = value;
        bad["code"] = if field == "code" {
            bad["code"].clone()
        } else {
            json!("OTHER")
        };
        let reply = create(bad).await;
        assert!(
            reply.codes() == ["BAD_USER_INPUT"] || reply.codes() == ["GRAPHQL_VALIDATION_FAILED"],
            "{field}: {}",
            reply.body
        );
    }
    let reply = app
        .graphql_as(
            None,
            "mutation { createAlertRule(input: { code: \"X\", name: \"x\", measure: \"staff\", scope: SECTOR, \
             direction: ABOVE, threshold: 1, severity: INFO }) { code } }",
            json!({}),
        )
        .await;
    assert_eq!(reply.codes(), ["FORBIDDEN"]);
    let rules = app.query("{ alertRules { code active } }", json!({})).await;
    let codes: Vec<&str> = rules["alertRules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    for seeded in [
        "COLLECTION_BELOW_90_REGION",
        "DISBURSEMENTS_DOWN_20_YOY",
        "PAR30_ABOVE_5_ASSOCIATION",
        "PAR30_ABOVE_5_REGION",
        "REPORT_LATE",
        "STAFF_DOWN",
    ] {
        assert!(codes.contains(&seeded), "{seeded} in {codes:?}");
    }

    let ministry = app.issue_key(PartnerKind::Ministry, None).await;
    let hook = |key: Option<String>, url: &'static str, secret: &'static str| async move {
        app.graphql_as(
            key.as_deref(),
            "mutation($url: String!, $secret: String!) { createWebhook(url: $url, secret: $secret) { id } }",
            json!({ "url": url, "secret": secret }),
        )
        .await
        .codes()
    };
    assert_eq!(hook(None, "https://example.org/hook", SECRET).await, ["FORBIDDEN"]);
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.1.1/hook",
        "http://169.254.169.254/latest",
        "http://[::1]/hook",
        "http://[fd00::1]/hook",
        "ftp://example.org/hook",
        "https://user:password@example.org/hook",
        "not a url",
    ] {
        assert_eq!(
            hook(Some(ministry.clone()), url, SECRET).await,
            ["BAD_USER_INPUT"],
            "{url}"
        );
    }
    assert_eq!(
        hook(Some(ministry.clone()), "http://10.1.2.3/hook", "short").await,
        ["BAD_USER_INPUT"]
    );
}
on_both_backends!(rules_and_webhooks_are_checked);

/// A rule code that no rule has, in an `alerts` filter, is an input error naming the code (not an empty list that
/// looks like "no alerts"); known codes still filter.
async fn an_unknown_rule_in_an_alerts_filter_is_named(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Empty).await;
    let query = "query($rules: [String!]) { alerts(filter: { rules: $rules }) { totalCount } }";
    let reply = app
        .graphql(
            query,
            json!({ "rules": ["PAR30_ABOVE_5_ASSOCIATION", "PAR_30_ABOVE_5"] }),
        )
        .await;
    assert_eq!(reply.codes(), ["BAD_USER_INPUT"], "{}", reply.text);
    assert!(reply.message().contains("PAR_30_ABOVE_5"), "{}", reply.message());
    assert!(
        !reply.message().contains("PAR30_ABOVE_5_ASSOCIATION"),
        "{}",
        reply.message()
    );
    let known = app
        .query(query, json!({ "rules": ["PAR30_ABOVE_5_ASSOCIATION"] }))
        .await;
    assert_eq!(known["alerts"]["totalCount"], 0);
}
on_both_backends!(an_unknown_rule_in_an_alerts_filter_is_named);

/// The lateness rule: a month's first report sent after its deadline raises and resolves its alert at once (with the
/// days late); every expected association missing the latest overdue month gets one open alert, which its report
/// resolves; judging again raises nothing twice.
async fn a_missing_report_raises_a_lateness_alert_that_its_report_resolves(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    let lateness = |association: &'static str, period: String| {
        let app = &app;
        async move {
            let data = app
                .query(
                    "query($a: [String!], $p: Period) { alerts(filter: { rules: [\"REPORT_LATE\"], associations: $a, \
                     from: $p, to: $p }) { nodes { status value raisedAt resolvedAt } } }",
                    json!({ "a": [association], "p": period }),
                )
                .await;
            data["alerts"]["nodes"].as_array().unwrap().clone()
        }
    };
    let overdue = latest_overdue_month();
    let before = events(&app).await;
    send(&app, ASSOCIATION, PERIOD, &month_of(20, REGIONS, (1, 3))).await;
    let late = lateness(ASSOCIATION, PERIOD.into()).await;
    assert_eq!(late.len(), 1, "{late:?}");
    assert_eq!(late[0]["status"], "RESOLVED");
    assert_eq!(
        late[0]["raisedAt"], late[0]["resolvedAt"],
        "raised and resolved by the report that ended it"
    );
    let deadline = chrono::DateTime::parse_from_rfc3339("2021-02-16T00:00:00Z").unwrap();
    let days = (chrono::Utc::now() - deadline.with_timezone(&chrono::Utc)).num_hours() as f64 / 24.0;
    assert!(
        (late[0]["value"].as_f64().unwrap() - days).abs() < 0.2,
        "{} days late",
        late[0]["value"]
    );
    let missing = count(
        &app,
        &format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM alert a JOIN alert_rule r ON r.id = a.rule_id WHERE r.code = \
             'REPORT_LATE' AND a.status = 'OPEN' AND a.period = {}",
            overdue.replace('-', "")
        ),
    )
    .await;
    assert_eq!(missing, 13, "every demo association is missing {overdue}");
    assert_eq!(
        events(&app).await - before,
        2 + 13,
        "one raise and one resolution, and 13 raises"
    );

    let before = events(&app).await;
    send(&app, "PALMIER", &overdue, &month_of(21, &["MA-01"], (1, 3))).await;
    let palmier = lateness("PALMIER", overdue.clone()).await;
    assert_eq!(palmier.len(), 1);
    assert_eq!(palmier[0]["status"], "RESOLVED", "its report resolves it");
    assert_eq!(
        events(&app).await - before,
        1,
        "the resolution only: the others' alerts are open already"
    );
    assert_eq!(lateness("ZELLIGE", overdue).await[0]["status"], "OPEN");
}
on_both_backends!(a_missing_report_raises_a_lateness_alert_that_its_report_resolves);
