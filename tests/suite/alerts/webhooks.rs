//! Webhooks: signed deliveries, retries, a delivery that survives a kill, addresses refused, and the limit of
//! webhooks held under concurrent registrations.

use super::*;

/// A report that raises an alert is delivered once, signed, to the association's own webhook, and to no webhook of
/// a partner that may not see it (a ministry: the month is not released; another association).
async fn a_webhook_receives_the_alert_once_with_a_valid_signature(backend: Backend) {
    let app = app_delivering(&backend).await;
    let own_key = app.issue_key(PartnerKind::Association, Some(ASSOCIATION)).await;
    let (own, own_url) = Receiver::start(&[]).await;
    let own_hook = register(&app, &own_key, &own_url).await;
    let mut others = Vec::new();
    for (kind, association) in [
        (PartnerKind::Ministry, None),
        (PartnerKind::Association, Some("PALMIER")),
    ] {
        let key = app.issue_key(kind, association).await;
        let (receiver, url) = Receiver::start(&[]).await;
        register(&app, &key, &url).await;
        others.push(receiver);
    }
    let sent = Instant::now();
    send(&app, ASSOCIATION, PERIOD, &month_of(7, REGIONS, (8, 12))).await;
    let got = own.wait_for(1).await;
    let latency = sent.elapsed();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let got_later = own.got();
    assert_eq!(got_later.len(), 1, "delivered once: {got_later:?}");
    let delivery = &got[0];
    assert!(signed(delivery), "the signature verifies with the secret: {delivery:?}");
    let body: Value = serde_json::from_str(&delivery.body).unwrap();
    assert_eq!(body["id"], delivery.id.as_str(), "webhook-id is the event's id");
    assert_eq!(body["type"], "ALERT_RAISED");
    assert_eq!(body["alert"]["rule"], PAR30_RULE);
    assert_eq!(body["alert"]["association"], ASSOCIATION);
    assert_eq!(body["alert"]["period"], PERIOD);
    let age = chrono::Utc::now().timestamp() - delivery.timestamp.parse::<i64>().unwrap();
    assert!((0..60).contains(&age), "webhook-timestamp is the sending time");
    for receiver in &others {
        assert!(
            receiver.got().is_empty(),
            "a partner who may not see the alert gets nothing"
        );
    }
    let log = deliveries(&app, &own_key, &own_hook).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["status"], "DELIVERED");
    assert_eq!(log[0]["eventId"], delivery.id.as_str());
    println!("report accepted → webhook delivered: {} ms", latency.as_millis());
}
on_both_backends!(a_webhook_receives_the_alert_once_with_a_valid_signature);

/// A receiver failing twice, then answering 200, gets three attempts of the same event and the log shows them.
async fn a_failing_receiver_gets_three_attempts_and_one_success(backend: Backend) {
    let app = app_delivering(&backend).await;
    let key = app.issue_key(PartnerKind::Association, Some(ASSOCIATION)).await;
    let (receiver, url) = Receiver::start(&[Answer::Status(500), Answer::Status(503), Answer::Status(200)]).await;
    let webhook = register(&app, &key, &url).await;
    send(&app, ASSOCIATION, PERIOD, &month_of(8, REGIONS, (8, 12))).await;
    let got = receiver.wait_for(3).await;
    assert!(
        got.iter().all(|r| r.id == got[0].id && signed(r)),
        "the same event, signed, each time"
    );
    let started = Instant::now();
    let log = loop {
        let log = deliveries(&app, &key, &webhook).await;
        if log.first().is_some_and(|d| d["status"] == "DELIVERED") || started.elapsed() > Duration::from_secs(10) {
            break log;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["status"], "DELIVERED");
    assert_eq!(log[0]["attemptCount"], 3);
    let statuses: Vec<i64> = log[0]["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["statusCode"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, [500, 503, 200]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.got().len(), 3, "nothing more after the success");
}
on_both_backends!(a_failing_receiver_gets_three_attempts_and_one_success);

/// The server that accepted a report is killed (SIGKILL) while its first delivery attempt waits for the receiver;
/// restarted, it delivers the event.
async fn a_delivery_survives_a_kill_between_commit_and_delivery(backend: Backend) {
    let app = app_allowing_loopback(&backend).await;
    let observatory = app.issue_key(PartnerKind::Observatory, None).await;
    let own_key = app.issue_key(PartnerKind::Association, Some(ASSOCIATION)).await;
    let (receiver, url) = Receiver::start(&[Answer::Hang, Answer::Status(200)]).await;
    register(&app, &own_key, &url).await;
    let mut server = crate::crash::Server::start(&app.database_url()).await;
    let month = month_of(9, REGIONS, (8, 12));
    let body = json!({ "query": SUBMIT, "variables": { "input": {
        "association": ASSOCIATION, "period": PERIOD,
        "clients": month.clients, "loans": month.loans, "staff": month.staff,
    }}})
    .to_string();
    let (status, answer) = crate::crash::request(
        server.address,
        "/graphql",
        &[
            ("content-type", "application/json".into()),
            ("authorization", format!("Bearer {observatory}")),
        ],
        body.as_bytes(),
    )
    .await
    .expect("the report is answered");
    assert_eq!(status, 200, "{answer}");
    let first = receiver.wait_for(1).await;
    server.kill();
    let pending = count(
        &app,
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM webhook_delivery WHERE status = 'PENDING'",
    )
    .await;
    assert_eq!(pending, 1, "the killed attempt left the delivery pending");
    let _restarted = crate::crash::Server::start(&app.database_url()).await;
    let got = receiver.wait_for(2).await;
    assert_eq!(got[1].id, first[0].id, "the same event, after the restart");
    assert!(signed(&got[1]));
    delivered_once(&app).await;
}
on_both_backends!(a_delivery_survives_a_kill_between_commit_and_delivery);

/// IPv6 addresses that carry a loopback or private IPv4 address (IPv4-compatible, IPv4-mapped, IPv4-translated,
/// NAT64, 6to4) and Teredo addresses are refused like the IPv4 address itself, and so is port 0 (even where private
/// addresses are allowed); the same forms around a public IPv4 address are accepted.
async fn webhook_addresses_that_carry_a_private_ipv4_are_refused(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Empty).await;
    let ministry = app.issue_key(PartnerKind::Ministry, None).await;
    for url in [
        "http://[::127.0.0.1]/hook",
        "http://[::7f00:1]:8080/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[::ffff:10.0.0.1]/hook",
        "http://[::ffff:0:127.0.0.1]/hook",
        "http://[64:ff9b::7f00:1]/hook",
        "http://[64:ff9b::a9fe:a9fe]/latest",
        "http://[64:ff9b:1::1]/hook",
        "http://[2002:7f00:1::1]/hook",
        "http://[2002:c0a8:101::1]/hook",
        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook",
        "http://[fec0::1]/hook",
    ] {
        let (codes, message) = try_register(&app, &ministry, url).await;
        assert_eq!(codes, ["BAD_USER_INPUT"], "{url}: {message}");
        assert!(message.contains("public addresses only"), "{url}: {message}");
    }
    let (codes, message) = try_register(&app, &ministry, "http://93.184.216.34:0/hook").await;
    assert_eq!(codes, ["BAD_USER_INPUT"], "{message}");
    assert!(message.contains("port 0"), "{message}");
    for url in [
        "http://93.184.216.34/hook",
        "http://[::ffff:93.184.216.34]/hook",
        "http://[2002:5db8:d822::1]/hook",
        "http://[2606:4700:4700::1111]:8443/hook",
    ] {
        let (codes, message) = try_register(&app, &ministry, url).await;
        assert!(codes.is_empty(), "{url} is public: {message}");
    }

    let loopback = app_allowing_loopback(&backend).await;
    let key = loopback.issue_key(PartnerKind::Ministry, None).await;
    let (codes, message) = try_register(&loopback, &key, "http://127.0.0.1:0/hook").await;
    assert_eq!(codes, ["BAD_USER_INPUT"], "{message}");
    assert!(message.contains("port 0"), "{message}");
}
on_both_backends!(webhook_addresses_that_carry_a_private_ipv4_are_refused);

/// A webhook whose URL is a literal loopback address in an IPv6 form (stored before the address check knew the
/// form) is not posted to: the delivery fails at once, and its log says why.
async fn a_webhook_at_a_literal_private_address_is_not_posted_to(backend: Backend) {
    let limits = api::HttpLimits {
        webhooks: api::alert::webhook::Settings {
            allow_private: false,
            ..test_webhooks()
        },
        ..api::HttpLimits::default()
    };
    let app = spawn_app_with(&backend, Fixture::Demo, limits).await;
    quiet_lateness(&app).await;
    let key = app.issue_key(PartnerKind::Association, Some(ASSOCIATION)).await;
    let (receiver, url) = Receiver::start(&[]).await;
    let webhook = register(&app, &key, "http://93.184.216.34/hook").await;
    let mapped = url.replace("127.0.0.1", "[::ffff:127.0.0.1]");
    app.db
        .execute_unprepared(&format!("UPDATE webhook SET url = '{mapped}' WHERE id = {webhook}"))
        .await
        .expect("URL changed");
    app.state.deliver_webhooks();
    send(&app, ASSOCIATION, PERIOD, &month_of(10, REGIONS, (8, 12))).await;
    let started = Instant::now();
    let log = loop {
        let log = deliveries(&app, &key, &webhook).await;
        if log.first().is_some_and(|d| d["status"] != "PENDING") {
            break log;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the delivery ends: {log:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(log[0]["status"], "FAILED", "{log:?}");
    assert_eq!(log[0]["attemptCount"], 1, "not retried: {log:?}");
    let error = log[0]["attempts"][0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("public addresses only"), "{error}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver.got().is_empty(), "the receiver got {:?}", receiver.got());
}
on_both_backends!(a_webhook_at_a_literal_private_address_is_not_posted_to);

/// Thirty concurrent registrations by one partner leave exactly the ten webhooks allowed; the others are refused
/// with `CONFLICT`, saying what to do.
async fn concurrent_registrations_keep_the_limit_of_webhooks(backend: Backend) {
    let app = Arc::new(spawn_app(&backend, Fixture::Empty).await);
    let key = app.issue_key(PartnerKind::Ministry, None).await;
    let tasks: Vec<_> = (0..30)
        .map(|n| {
            let (app, key) = (app.clone(), key.clone());
            tokio::spawn(async move { try_register(&app, &key, &format!("http://93.184.216.34/hook/{n}")).await })
        })
        .collect();
    let mut registered = 0;
    for task in tasks {
        let (codes, message) = task.await.expect("a registration task");
        if codes.is_empty() {
            registered += 1;
        } else {
            assert_eq!(codes, ["CONFLICT"], "{message}");
            assert!(message.contains("delete one first"), "{message}");
        }
    }
    assert_eq!(registered, 10, "registrations that succeeded");
    let listed = app.graphql_as(Some(&key), "{ webhooks { active } }", json!({})).await;
    let active = listed.data()["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["active"] == true)
        .count();
    assert_eq!(active, 10, "active webhooks of the partner");
}
on_both_backends!(concurrent_registrations_keep_the_limit_of_webhooks);
