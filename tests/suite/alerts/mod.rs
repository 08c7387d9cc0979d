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

mod processes;
mod rules;
mod subscriptions;
mod webhooks;

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

/// Waits until one delivery is recorded delivered (or 10 s).
async fn delivered_once(app: &TestApp) {
    let started = Instant::now();
    while count(
        app,
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM webhook_delivery WHERE status = 'DELIVERED'",
    )
    .await
        != 1
    {
        assert!(started.elapsed() < Duration::from_secs(10), "the delivery is recorded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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

/// A connected, acknowledged socket.
async fn initialised(address: SocketAddr) -> Socket {
    let mut socket = connect(address).await;
    send_json(&mut socket, json!({"type": "connection_init"})).await;
    let ack = next_message(&mut socket, Duration::from_secs(10)).await;
    assert_eq!(ack, Some(Ok(json!({"type": "connection_ack"}))));
    socket
}

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

/// The latest month whose report deadline (the 15th of the next month) has passed today.
fn latest_overdue_month() -> String {
    use chrono::Datelike;
    let today = chrono::Utc::now().date_naive();
    let back = if today.day() > 15 { 1 } else { 2 };
    let months = today.year() * 12 + today.month0() as i32 - back;
    format!("{}-{:02}", months / 12, months % 12 + 1)
}
