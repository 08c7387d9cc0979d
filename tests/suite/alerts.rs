//! Early warning: alert rules judged on each accepted report and release, alerts raised once and resolved, delivered
//! to signed webhooks (retried, surviving a `kill -9`) and to `graphql-transport-ws` subscribers, never revealing a
//! suppressed group to the public.

use crate::reporting::{Month, month_of};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use hmac::{Hmac, Mac};
use observatory_tests::{
    Backend, Fixture, Gen, PartnerKind, TestApp, on_both_backends, serve, spawn_app, spawn_app_with,
};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use std::collections::{BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Webhook settings for tests: loopback receivers allowed, quick retries, short attempts.
pub(crate) fn test_webhooks() -> api::alert::webhook::Settings {
    api::alert::webhook::Settings {
        allow_private: true,
        retry_base: Duration::from_millis(100),
        timeout: Duration::from_secs(1),
        max_attempts: 5,
    }
}

const PAR30_RULE: &str = "PAR30_ABOVE_5_ASSOCIATION";
const ASSOCIATION: &str = "TAFOUKT";
const REGIONS: &[&str] = &["MA-09", "MA-10"];
const PERIOD: &str = "2021-01";
const SECRET: &str = "a-test-secret-of-32-characters!!";

const SUBMIT: &str = "mutation($input: ReportInput!) { submitReport(input: $input) { id revision } }";

/// Sends a month of figures for an association as the observatory.
async fn send(app: &TestApp, association: &str, period: &str, month: &Month) {
    let reply = app
        .graphql(
            SUBMIT,
            json!({ "input": {
                "association": association, "period": period,
                "clients": month.clients, "loans": month.loans, "staff": month.staff,
            }}),
        )
        .await;
    reply.data();
}

/// This test watches one rule: the lateness rule (whose sweep would raise alerts for every association missing the
/// latest month) is turned off.
async fn quiet_lateness(app: &TestApp) {
    app.query(
        r#"mutation { setAlertRuleActive(code: "REPORT_LATE", active: false) { active } }"#,
        json!({}),
    )
    .await;
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.db
        .query_one_raw(Statement::from_string(app.db.get_database_backend(), sql.to_owned()))
        .await
        .expect("counted")
        .expect("a row")
        .try_get::<i64>("", "n")
        .expect("a count")
}

async fn events(app: &TestApp) -> i64 {
    count(app, "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM alert_event").await
}

/// The PAR30 alerts of the test's association and month, as the observatory sees them.
async fn par30_alerts(app: &TestApp) -> Vec<Value> {
    let data = app
        .query(
            "query($rules: [String!], $associations: [String!], $from: Period) { alerts(filter: { rules: $rules, \
             associations: $associations, from: $from, to: $from }) { nodes { id status value threshold raisedAt \
             resolvedAt association { code } period } } }",
            json!({ "rules": [PAR30_RULE], "associations": [ASSOCIATION], "from": PERIOD }),
        )
        .await;
    data["alerts"]["nodes"].as_array().expect("a list").clone()
}

/// The association's PAR30 rate of the month, as `indicators` gives it to the observatory.
async fn par30_rate(app: &TestApp) -> f64 {
    let data = app
        .query(
            "query($a: [String!], $p: Period!) { indicators(period: { from: $p, to: $p }, filter: { associations: $a }) \
             { par30Rate { value } } }",
            json!({ "a": [ASSOCIATION], "p": PERIOD }),
        )
        .await;
    data["indicators"][0]["par30Rate"]["value"].as_f64().expect("a rate")
}

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

/// One request a receiver got.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

/// How a receiver answers its next request.
#[derive(Debug, Clone, Copy)]
enum Answer {
    Status(u16),
    /// Never answers.
    Hang,
}

/// A webhook receiver on a loopback port: it records every request and answers from its script (then 200).
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<Answer>>>,
}

async fn hook(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    receiver.got.lock().unwrap().push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let answer = receiver.script.lock().unwrap().pop_front();
    match answer {
        Some(Answer::Hang) => std::future::pending().await,
        Some(Answer::Status(status)) => StatusCode::from_u16(status).unwrap(),
        None => StatusCode::OK,
    }
}

impl Receiver {
    async fn start(script: &[Answer]) -> (Receiver, String) {
        let receiver = Receiver::default();
        receiver.script.lock().unwrap().extend(script.iter().copied());
        let router = axum::Router::new()
            .route("/hook", axum::routing::post(hook))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.ok() });
        (receiver, format!("http://{address}/hook"))
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits until `n` requests came (or 20 s).
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        let started = Instant::now();
        while self.got().len() < n {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the receiver got {} of {n} requests",
                self.got().len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.got()
    }
}

/// Checks a request's signature as a receiver would: HMAC-SHA256 with the secret over `id.timestamp.body`, in
/// base64 after `v1,`.
fn signed(received: &Received) -> bool {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{}.{}.{}", received.id, received.timestamp, received.body).as_bytes());
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    received.signature.split(' ').any(|s| s == expected)
}

/// Registers a webhook with this key; returns its id.
async fn register(app: &TestApp, key: &str, url: &str) -> String {
    let reply = app
        .graphql_as(
            Some(key),
            "mutation($url: String!, $secret: String!) { createWebhook(url: $url, secret: $secret, events: \
             [ALERT_RAISED]) { id url events active } }",
            json!({ "url": url, "secret": SECRET }),
        )
        .await;
    reply.data()["createWebhook"]["id"].as_str().expect("an id").to_owned()
}

/// The delivery log of a webhook, as its owner reads it.
async fn deliveries(app: &TestApp, key: &str, webhook: &str) -> Vec<Value> {
    let reply = app
        .graphql_as(
            Some(key),
            "query($w: ID!) { webhookDeliveries(webhook: $w) { nodes { eventId eventKind status attemptCount \
             deliveredAt attempts { statusCode error } } } }",
            json!({ "w": webhook }),
        )
        .await;
    reply.data()["webhookDeliveries"]["nodes"].as_array().unwrap().clone()
}

/// The demo, with webhooks to loopback receivers allowed, the lateness rule off.
async fn app_allowing_loopback(backend: &Backend) -> TestApp {
    let limits = api::HttpLimits {
        webhooks: test_webhooks(),
        ..api::HttpLimits::default()
    };
    let app = spawn_app_with(backend, Fixture::Demo, limits).await;
    quiet_lateness(&app).await;
    app
}

/// The same, delivering webhooks from this process.
async fn app_delivering(backend: &Backend) -> TestApp {
    let app = app_allowing_loopback(backend).await;
    app.state.deliver_webhooks();
    app
}

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
    let started = Instant::now();
    while count(
        &app,
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM webhook_delivery WHERE status = 'DELIVERED'",
    )
    .await
        != 1
    {
        assert!(started.elapsed() < Duration::from_secs(10), "the delivery is recorded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
on_both_backends!(a_delivery_survives_a_kill_between_commit_and_delivery);

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A `graphql-transport-ws` client, connected and (when `init` is given) initialised.
async fn connect(address: SocketAddr) -> Socket {
    let mut request = format!("ws://{address}/graphql").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
    let (socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the socket opens");
    assert_eq!(
        response.headers().get("sec-websocket-protocol").unwrap(),
        "graphql-transport-ws"
    );
    socket
}

async fn send_json(socket: &mut Socket, message: Value) {
    socket.send(Message::text(message.to_string())).await.unwrap();
}

/// The next protocol message (pings answered), or `None` after `wait`.
async fn next_message(socket: &mut Socket, wait: Duration) -> Option<Result<Value, u16>> {
    Some(
        next_text(socket, wait)
            .await?
            .map(|text| serde_json::from_str(&text).unwrap()),
    )
}

/// The next protocol message as sent (pings answered), or `None` after `wait`.
async fn next_text(socket: &mut Socket, wait: Duration) -> Option<Result<String, u16>> {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let message = tokio::time::timeout(left, socket.next()).await.ok()??;
        match message {
            Ok(Message::Text(text)) => {
                let value: Value = serde_json::from_str(&text).unwrap();
                if value["type"] == "ping" {
                    send_json(socket, json!({"type": "pong"})).await;
                    continue;
                }
                return Some(Ok(text.to_string()));
            }
            Ok(Message::Close(frame)) => return Some(Err(frame.map(|f| u16::from(f.code)).unwrap_or(1005))),
            Ok(_) => continue,
            Err(_) => return Some(Err(1006)),
        }
    }
}

async fn subscribe(address: SocketAddr, key: Option<&str>, query: &str) -> Socket {
    let mut socket = connect(address).await;
    let payload = match key {
        Some(key) => json!({ "Authorization": format!("Bearer {key}") }),
        None => json!({}),
    };
    send_json(&mut socket, json!({ "type": "connection_init", "payload": payload })).await;
    let ack = next_message(&mut socket, Duration::from_secs(10)).await;
    assert_eq!(ack, Some(Ok(json!({"type": "connection_ack"}))));
    send_json(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": query } }),
    )
    .await;
    // The subscription reads the events committed from the moment it runs (its reader starts on the server a few
    // milliseconds after `subscribe`; the margin is for a loaded machine).
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    socket
}

const RAISED: &str = "subscription($rules: [String!]) { alertRaised(filter: { rules: $rules }) { id rule { code } \
                      association { code } period value status } }";

/// A subscriber (graphql-transport-ws, its key in `connection_init`) receives the alert its report raised; another
/// association's subscriber does not.
async fn a_subscriber_receives_the_alert(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    quiet_lateness(&app).await;
    let address = serve(&app).await;
    let own_key = app.issue_key(PartnerKind::Association, Some(ASSOCIATION)).await;
    let other_key = app.issue_key(PartnerKind::Association, Some("PALMIER")).await;
    let query = RAISED
        .replace("($rules: [String!])", "")
        .replace("$rules", "[\"PAR30_ABOVE_5_ASSOCIATION\"]");
    let mut own = subscribe(address, Some(&own_key), &query).await;
    let mut other = subscribe(address, Some(&other_key), &query).await;
    let sent = Instant::now();
    send(&app, ASSOCIATION, PERIOD, &month_of(10, REGIONS, (8, 12))).await;
    let text = next_text(&mut own, Duration::from_secs(10))
        .await
        .expect("a message")
        .expect("not closed");
    let latency = sent.elapsed();
    let keys = [
        "\"id\"",
        "\"rule\"",
        "\"association\"",
        "\"period\"",
        "\"value\"",
        "\"status\"",
    ];
    let at: Vec<usize> = keys.iter().map(|k| text.rfind(k).expect("every field")).collect();
    assert!(
        at.windows(2).all(|w| w[0] < w[1]),
        "the fields come in the query's order: {text}"
    );
    let message: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(message["type"], "next", "{message}");
    assert_eq!(message["id"], "1");
    let alert = &message["payload"]["data"]["alertRaised"];
    assert_eq!(alert["rule"]["code"], PAR30_RULE);
    assert_eq!(alert["association"]["code"], ASSOCIATION);
    assert_eq!(alert["period"], PERIOD);
    assert_eq!(alert["status"], "OPEN");
    assert!(
        next_message(&mut other, Duration::from_millis(800)).await.is_none(),
        "another association receives nothing"
    );
    send_json(&mut own, json!({"id": "1", "type": "complete"})).await;
    println!("report accepted → subscription message: {} ms", latency.as_millis());
}
on_both_backends!(a_subscriber_receives_the_alert);

/// A subscriber connected to another server process over the same database receives the alert a report accepted by
/// this one raised: events travel through the database, not through one process's memory.
async fn a_subscriber_on_another_process_receives_the_alert(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Demo).await;
    quiet_lateness(&app).await;
    let own_key = app.issue_key(PartnerKind::Association, Some(ASSOCIATION)).await;
    let other = crate::crash::Server::start(&app.database_url()).await;
    let query = RAISED
        .replace("($rules: [String!])", "")
        .replace("$rules", "[\"PAR30_ABOVE_5_ASSOCIATION\"]");
    let mut socket = subscribe(other.address, Some(&own_key), &query).await;
    send(&app, ASSOCIATION, PERIOD, &month_of(12, REGIONS, (8, 12))).await;
    let message = next_message(&mut socket, Duration::from_secs(10))
        .await
        .expect("a message")
        .expect("not closed");
    assert_eq!(message["type"], "next", "{message}");
    assert_eq!(
        message["payload"]["data"]["alertRaised"]["association"]["code"],
        ASSOCIATION
    );
    assert_eq!(message["payload"]["data"]["alertRaised"]["period"], PERIOD);
}
on_both_backends!(a_subscriber_on_another_process_receives_the_alert);

/// The protocol's refusals: a wrong key closes with 4403, `subscribe` before `connection_init` with 4401, an id in use
/// with 4409, a second `connection_init` with 4429; a query over WebSocket and a subscription over HTTP are refused
/// with a GraphQL error.
async fn the_socket_refuses_what_the_protocol_refuses(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Empty).await;
    let address = serve(&app).await;
    let query = "subscription { alertRaised { id } }";

    let mut socket = connect(address).await;
    send_json(
        &mut socket,
        json!({"type": "connection_init", "payload": {"Authorization": "Bearer mfo_wrong"}}),
    )
    .await;
    assert_eq!(next_message(&mut socket, Duration::from_secs(5)).await, Some(Err(4403)));

    let mut socket = connect(address).await;
    send_json(
        &mut socket,
        json!({"id": "1", "type": "subscribe", "payload": {"query": query}}),
    )
    .await;
    assert_eq!(next_message(&mut socket, Duration::from_secs(5)).await, Some(Err(4401)));

    let mut socket = subscribe(address, None, query).await;
    send_json(
        &mut socket,
        json!({"id": "2", "type": "subscribe", "payload": {"query": "{ __typename }"}}),
    )
    .await;
    let refused = next_message(&mut socket, Duration::from_secs(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(refused["type"], "error");
    assert_eq!(refused["id"], "2");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "BAD_REQUEST");
    send_json(
        &mut socket,
        json!({"id": "1", "type": "subscribe", "payload": {"query": query}}),
    )
    .await;
    assert_eq!(next_message(&mut socket, Duration::from_secs(5)).await, Some(Err(4409)));

    let mut socket = subscribe(address, None, query).await;
    send_json(&mut socket, json!({"type": "connection_init"})).await;
    assert_eq!(next_message(&mut socket, Duration::from_secs(5)).await, Some(Err(4429)));

    let mut socket = connect(address).await;
    send_json(&mut socket, json!({"type": "no_such_message"})).await;
    assert_eq!(next_message(&mut socket, Duration::from_secs(5)).await, Some(Err(4400)));

    let reply = app.graphql(query, json!({})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.codes(), ["BAD_REQUEST"]);

    // Limits: a document over the budget is refused before it runs; a socket runs at most 16 subscriptions; an
    // address holds at most 16 sockets.
    let mut socket = subscribe(address, None, query).await;
    let aliases: String = (0..400)
        .map(|i| format!("b{i}: association {{ branches(first: 500) {{ nodes {{ code name city }} }} }} "))
        .collect();
    let costly = format!("subscription {{ alertRaised {{ id {aliases} }} }}");
    send_json(
        &mut socket,
        json!({"id": "costly", "type": "subscribe", "payload": {"query": costly}}),
    )
    .await;
    let refused = next_message(&mut socket, Duration::from_secs(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "BAD_REQUEST", "{refused}");
    for id in 2..=16 {
        send_json(
            &mut socket,
            json!({"id": id.to_string(), "type": "subscribe", "payload": {"query": query}}),
        )
        .await;
    }
    send_json(
        &mut socket,
        json!({"id": "17", "type": "subscribe", "payload": {"query": query}}),
    )
    .await;
    let refused = next_message(&mut socket, Duration::from_secs(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (refused["type"].as_str(), refused["id"].as_str()),
        (Some("error"), Some("17")),
        "{refused}"
    );
    let mut sockets = vec![socket];
    for _ in 1..16 {
        sockets.push(connect(address).await);
    }
    let mut one_too_many = connect(address).await;
    assert_eq!(
        next_message(&mut one_too_many, Duration::from_secs(5)).await,
        Some(Err(4429))
    );
}
on_both_backends!(the_socket_refuses_what_the_protocol_refuses);

/// A connected, acknowledged socket.
async fn initialised(address: SocketAddr) -> Socket {
    let mut socket = connect(address).await;
    send_json(&mut socket, json!({"type": "connection_init"})).await;
    let ack = next_message(&mut socket, Duration::from_secs(10)).await;
    assert_eq!(ack, Some(Ok(json!({"type": "connection_ack"}))));
    socket
}

/// A message over 64 KiB (up to 1 MiB) is answered with the close code 1009, not a reset connection, and a subscription id
/// longer than 128 characters closes the socket with 4400 and a reason, as the protocol closes invalid messages; an
/// id of 128 characters runs.
async fn oversized_messages_and_ids_are_closed_with_their_codes(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Empty).await;
    let address = serve(&app).await;
    let query = "subscription { alertRaised { id } }";
    for size in [64 * 1024, 900 * 1024] {
        let mut socket = initialised(address).await;
        let padding = "x".repeat(size);
        send_json(&mut socket, json!({"type": "ping", "payload": {"padding": padding}})).await;
        assert_eq!(
            next_message(&mut socket, Duration::from_secs(5)).await,
            Some(Err(1009)),
            "a message of {size} bytes"
        );
    }

    let mut socket = initialised(address).await;
    let id = "i".repeat(10_000);
    send_json(
        &mut socket,
        json!({"id": id, "type": "subscribe", "payload": {"query": query}}),
    )
    .await;
    let closed = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .expect("an answer")
        .expect("a message")
        .expect("a close frame, not an error");
    let Message::Close(Some(frame)) = closed else {
        panic!("closed with a frame: {closed:?}")
    };
    assert_eq!(u16::from(frame.code), 4400);
    assert!(frame.reason.contains("128"), "{}", frame.reason);

    let mut socket = initialised(address).await;
    let id = "i".repeat(128);
    send_json(
        &mut socket,
        json!({"id": id, "type": "subscribe", "payload": {"query": query}}),
    )
    .await;
    send_json(&mut socket, json!({"type": "ping"})).await;
    assert_eq!(
        next_message(&mut socket, Duration::from_secs(5)).await,
        Some(Ok(json!({"type": "pong"}))),
        "an id of 128 characters runs"
    );
}
on_both_backends!(oversized_messages_and_ids_are_closed_with_their_codes);

/// When the server shuts down, every open socket gets a close frame (1001, going away) rather than a cut connection,
/// so that clients end their subscriptions cleanly.
async fn subscribers_are_told_when_the_server_shuts_down(backend: Backend) {
    let app = spawn_app(&backend, Fixture::Empty).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(api::serve(listener, app.state.clone(), async {
        let _ = stopped.await;
    }));
    let mut subscribed = subscribe(address, None, "subscription { alertRaised { id } }").await;
    let mut idle = initialised(address).await;
    stop.send(()).unwrap();
    for socket in [&mut subscribed, &mut idle] {
        assert_eq!(
            next_message(socket, Duration::from_secs(5)).await,
            Some(Err(1001)),
            "closed as going away"
        );
    }
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
}
on_both_backends!(subscribers_are_told_when_the_server_shuts_down);

const CODES: &[&str] = &[
    "ARGANE", "ATLAS", "CEDRE", "DUNE", "FIGUIER", "JASMIN", "MIMOSA", "NOUR", "OASIS", "PALMIER", "SAFRAN", "TAFOUKT",
    "ZELLIGE",
];
const ALL_REGIONS: &[&str] = &[
    "MA-01", "MA-02", "MA-03", "MA-04", "MA-05", "MA-06", "MA-07", "MA-08", "MA-09", "MA-10", "MA-11", "MA-12",
];

/// Group alerts (sector, region, segment) of a month, as a caller sees them.
async fn group_alerts(app: &TestApp, key: Option<&str>, period: &str) -> Vec<Value> {
    let reply = app
        .graphql_as(
            key,
            "query($p: Period) { alerts(first: 500, filter: { from: $p, to: $p, scopes: [SECTOR, REGION, SEGMENT] }) \
             { nodes { id scope value rule { code measure comparison } region { code } segment } } }",
            json!({ "p": period }),
        )
        .await;
    reply.data()["alerts"]["nodes"].as_array().unwrap().clone()
}

/// What the public's `indicators` shows of the figure an alert compares: the same quantity, or `None` when hidden.
async fn public_figure(app: &TestApp, alert: &Value, period: &str) -> Option<f64> {
    let measure = alert["rule"]["measure"].as_str().unwrap();
    let (group_by, field) = match alert["scope"].as_str().unwrap() {
        "REGION" => ("[REGION]", "region { code }"),
        "SEGMENT" => ("[SEGMENT]", "segment"),
        _ => ("[]", ""),
    };
    let compare = match alert["rule"]["comparison"].as_str().unwrap() {
        "VALUE" => "",
        "PREVIOUS_PERIOD_CHANGE" => ", compareTo: PREVIOUS_PERIOD",
        _ => ", compareTo: SAME_PERIOD_PREVIOUS_YEAR",
    };
    let query = format!(
        "query($p: Period!) {{ indicators(period: {{ from: $p, to: $p }}, groupBy: {group_by}{compare}) {{ {field} \
         {measure} {{ value change changePercent }} }} }}"
    );
    let reply = app.graphql_as(None, &query, json!({ "p": period })).await;
    let rows = reply.data()["indicators"].as_array().unwrap().clone();
    let row = rows.iter().find(|row| match alert["scope"].as_str().unwrap() {
        "REGION" => row["region"]["code"] == alert["region"]["code"],
        "SEGMENT" => row["segment"] == alert["segment"],
        _ => true,
    })?;
    let figure = &row[measure];
    match alert["rule"]["comparison"].as_str().unwrap() {
        "VALUE" => figure["value"].as_f64(),
        _ if measure.ends_with("Rate") || measure.ends_with("Share") => figure["change"].as_f64(),
        _ => figure["changePercent"].as_f64(),
    }
}

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

/// Registers a webhook with this key on this URL: the error codes and the first message (none when registered).
async fn try_register(app: &TestApp, key: &str, url: &str) -> (Vec<String>, String) {
    let reply = app
        .graphql_as(
            Some(key),
            "mutation($url: String!, $secret: String!) { createWebhook(url: $url, secret: $secret) { id } }",
            json!({ "url": url, "secret": SECRET }),
        )
        .await;
    (reply.codes(), reply.message())
}

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

/// The latest month whose report deadline (the 15th of the next month) has passed today.
fn latest_overdue_month() -> String {
    use chrono::Datelike;
    let today = chrono::Utc::now().date_naive();
    let back = if today.day() > 15 { 1 } else { 2 };
    let months = today.year() * 12 + today.month0() as i32 - back;
    format!("{}-{:02}", months / 12, months % 12 + 1)
}

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
