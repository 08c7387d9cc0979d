//! Webhooks: the URLs partners register, the signature of each delivery, and the worker that delivers the outbox
//! with retries.
//!
//! A delivery row is written in the transaction that raised or resolved the alert, so a committed event is never
//! lost: the worker (in every serving process) takes due deliveries by a conditional update (one process per
//! attempt), posts the event, and records the attempt. A failure is retried after 1, 2, 4, ... times the base delay,
//! up to the last attempt. A process that dies during an attempt leaves the delivery due again once the attempt's
//! time is up, so the event is delivered after a restart (at least once: receivers deduplicate by `webhook-id`).

use crate::enums::{AlertEventKind, DeliveryStatus as DeliveryStatusValue};
use crate::error::{ApiError, ApiResult};
use crate::pagination::{Node, Page, PageArgs, connection};
use crate::scalars::DateTime;
use crate::scope::{Role, Scope};
use crate::store::{self, Keyed};
use async_graphql::{ID, Object};
use base64::Engine;
use chrono::Utc;
use entity::enums::DeliveryStatus;
use entity::{alert_event, webhook, webhook_attempt, webhook_delivery};
use hmac::{Hmac, Mac};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Most active webhooks one partner may have.
pub const MAX_PER_PARTNER: u64 = 10;

/// How webhooks are delivered.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Accept URLs that resolve to loopback or private addresses (tests, closed networks); refused by default.
    pub allow_private: bool,
    /// Delay before the first retry; each further retry waits twice as long (at most an hour).
    pub retry_base: Duration,
    /// Longest one attempt may take.
    pub timeout: Duration,
    /// Attempts before a delivery is given up.
    pub max_attempts: i32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            allow_private: false,
            retry_base: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
            max_attempts: 8,
        }
    }
}

impl Settings {
    /// The wait after a failed attempt (`attempts` made so far).
    fn backoff(&self, attempts: i32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1).clamp(0, 20) as u32);
        self.retry_base.saturating_mul(factor).min(Duration::from_secs(3_600))
    }

    /// How long a process holds a delivery it attempts: after this, another process (or this one, restarted) may
    /// attempt it again.
    fn lease(&self) -> Duration {
        self.timeout + Duration::from_secs(2)
    }
}

/// Whether an address is one a webhook may reach: not loopback, private, link-local, shared (CGNAT), multicast,
/// unspecified or reserved. An IPv6 address that carries an IPv4 address (IPv4-mapped, IPv4-compatible,
/// IPv4-translated, NAT64 and 6to4 forms) is judged by the IPv4 address it carries; Teredo, local-use NAT64,
/// site-local and discard-only addresses are never public.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && v4.octets()[2] == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_ipv4(v6) {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || (s[0] == 0x2001 && s[1] == 0)
                || (s[0] == 0x0064 && s[1] == 0xff9b)
                || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]))
        }
    }
}

/// The IPv4 address an IPv6 address carries, in the forms whose traffic reaches that IPv4 address: IPv4-mapped
/// (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), IPv4-translated (`::ffff:0:a.b.c.d`), NAT64 with the
/// well-known prefix (`64:ff9b::a.b.c.d`) and 6to4 (`2002:aabb:ccdd::/48`).
fn embedded_ipv4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let join = |high: u16, low: u16| Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
    match v6.segments() {
        [0, 0, 0, 0, 0, 0xffff, high, low]
        | [0, 0, 0, 0, 0, 0, high, low]
        | [0, 0, 0, 0, 0xffff, 0, high, low]
        | [0x0064, 0xff9b, 0, 0, 0, 0, high, low] => Some(join(high, low)),
        [0x2002, high, low, ..] => Some(join(high, low)),
        _ => None,
    }
}

/// Why an attempt must not be made to this URL: port 0, or (unless private addresses are allowed) a host that is a
/// literal address that is not public. Host names are checked when they resolve (see `PublicOnly`).
fn unreachable_url(settings: &Settings, url: &reqwest::Url) -> Option<String> {
    if url.port() == Some(0) {
        return Some("port 0 cannot be reached".into());
    }
    if settings.allow_private {
        return None;
    }
    let host = url.host_str()?;
    let ip: IpAddr = host.trim_start_matches('[').trim_end_matches(']').parse().ok()?;
    (!is_public(ip)).then(|| {
        format!("{ip} is a loopback, private or reserved address: webhooks are delivered to public addresses only")
    })
}

/// Checks a URL a partner registers: http or https, a host, no credentials, and (unless allowed) only public
/// addresses behind the host.
async fn check_url(settings: &Settings, text: &str) -> ApiResult<reqwest::Url> {
    let url = reqwest::Url::parse(text)
        .map_err(|e| ApiError::bad_input(format!("`url` is not a URL ({e}): give an absolute https URL")))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(ApiError::bad_input(format!(
            "`url` must use https (or http), not `{}`",
            url.scheme()
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ApiError::bad_input(
            "`url` must not carry credentials: receivers check the signature instead",
        ));
    }
    if text.len() > 2_000 {
        return Err(ApiError::bad_input("`url` is longer than 2,000 characters"));
    }
    let Some(host) = url.host_str() else {
        return Err(ApiError::bad_input("`url` has no host"));
    };
    if url.port() == Some(0) {
        return Err(ApiError::bad_input(
            "`url` names port 0, which cannot be reached: give the receiver's port, or none for the scheme's default",
        ));
    }
    if settings.allow_private {
        return Ok(url);
    }
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = url.port_or_known_default().unwrap_or(443);
    let addresses: Vec<SocketAddr> =
        tokio::time::timeout(Duration::from_secs(5), tokio::net::lookup_host((host, port)))
            .await
            .map_err(|_| ApiError::bad_input(format!("the host `{host}` of `url` did not resolve in time")))?
            .map_err(|_| ApiError::bad_input(format!("the host `{host}` of `url` does not resolve")))?
            .collect();
    if addresses.is_empty() {
        return Err(ApiError::bad_input(format!(
            "the host `{host}` of `url` does not resolve"
        )));
    }
    if let Some(private) = addresses.iter().find(|a| !is_public(a.ip())) {
        return Err(ApiError::bad_input(format!(
            "the host `{host}` of `url` resolves to {}, a loopback, private or reserved address: webhooks are \
             delivered to public addresses only",
            private.ip()
        )));
    }
    Ok(url)
}

/// Registers a webhook for the caller's partner. Audited.
pub async fn create(
    db: &DatabaseConnection,
    actor: &Scope,
    settings: &Settings,
    url: &str,
    events: &[AlertEventKind],
    secret: &str,
) -> ApiResult<webhook::Model> {
    let Some(partner_id) = actor.partner_id.filter(|_| actor.role != Role::Public) else {
        return Err(ApiError::Forbidden(
            "webhooks belong to a partner: send the request with your key".into(),
        ));
    };
    if !(16..=256).contains(&secret.chars().count()) {
        return Err(ApiError::bad_input(
            "`secret` must have 16 to 256 characters (for example 32 random bytes in base64)",
        ));
    }
    if events.is_empty() {
        return Err(ApiError::bad_input("`events` must name at least one kind of event"));
    }
    let url = check_url(settings, url).await?;
    let mut kinds: Vec<&str> = events
        .iter()
        .map(|e| entity::enums::AlertEventKind::from(*e).as_str())
        .collect();
    kinds.sort();
    kinds.dedup();
    let txn = crate::db::begin_write(db).await?;
    // Registrations of one partner take turns, so that the count below stays true until the insert commits: on
    // PostgreSQL by locking the partner's row, on SQLite by the write transaction itself (one writer at a time).
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        entity::partner::Entity::find_by_id(partner_id)
            .lock_exclusive()
            .one(&txn)
            .await?;
    }
    let active = webhook::Entity::find()
        .filter(webhook::Column::PartnerId.eq(partner_id))
        .filter(webhook::Column::Active.eq(true))
        .count(&txn)
        .await?;
    if active >= MAX_PER_PARTNER {
        return Err(ApiError::Conflict(format!(
            "this partner has {active} active webhooks, the most allowed: delete one first"
        )));
    }
    let model = webhook::ActiveModel {
        partner_id: Set(partner_id),
        url: Set(url.to_string()),
        events: Set(kinds.join(",")),
        secret: Set(secret.to_owned()),
        active: Set(true),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    crate::audit::record(
        &txn,
        actor,
        "webhook.create",
        "webhook",
        &model.id.to_string(),
        serde_json::json!({ "url": model.url, "events": model.events }),
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// The webhook with this id, if the caller owns it (or is the observatory).
async fn owned<C: ConnectionTrait>(db: &C, actor: &Scope, id: i32) -> ApiResult<webhook::Model> {
    let found = webhook::Entity::find_by_id(id).one(db).await?;
    match found {
        Some(hook) if actor.role == Role::Observatory || Some(hook.partner_id) == actor.partner_id => Ok(hook),
        _ => Err(ApiError::NotFound(format!(
            "no webhook {id} among this key's partner's webhooks"
        ))),
    }
}

/// Stops a webhook. Audited.
pub async fn deactivate(db: &DatabaseConnection, actor: &Scope, id: i32) -> ApiResult<webhook::Model> {
    require_key(actor)?;
    let txn = crate::db::begin_write(db).await?;
    let hook = owned(&txn, actor, id).await?;
    let mut changed: webhook::ActiveModel = hook.into();
    changed.active = Set(false);
    let model = changed.update(&txn).await?;
    crate::audit::record(
        &txn,
        actor,
        "webhook.delete",
        "webhook",
        &id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

fn require_key(actor: &Scope) -> ApiResult<()> {
    match actor.role {
        Role::Public => Err(ApiError::Forbidden(
            "webhooks belong to a partner: send the request with your key".into(),
        )),
        _ => Ok(()),
    }
}

/// The caller's webhooks (every one for the observatory), in creation order.
pub async fn list<C: ConnectionTrait>(db: &C, actor: &Scope) -> ApiResult<Vec<webhook::Model>> {
    require_key(actor)?;
    let mut select = webhook::Entity::find().order_by_asc(webhook::Column::Id);
    if actor.role != Role::Observatory {
        select = select.filter(webhook::Column::PartnerId.eq(actor.partner_id.unwrap_or(0)));
    }
    Ok(select.all(db).await?)
}

/// A webhook id from its `ID`.
pub fn parse_id(id: &ID) -> ApiResult<i32> {
    id.parse::<i32>()
        .map_err(|_| ApiError::bad_input(format!("`{}` is not a webhook id: pass `Webhook.id`", id.as_str())))
}

impl Keyed for webhook_delivery::Entity {
    fn key(model: &webhook_delivery::Model) -> i64 {
        model.id
    }
}

/// A delivery with its event and attempts.
#[derive(Debug, Clone)]
pub struct DeliveryView {
    pub delivery: webhook_delivery::Model,
    pub event: alert_event::Model,
    pub attempts: Vec<webhook_attempt::Model>,
}

/// A page of one webhook's deliveries.
pub async fn deliveries<C: ConnectionTrait>(
    db: &C,
    actor: &Scope,
    webhook_id: i32,
    status: Option<DeliveryStatus>,
    page: &PageArgs,
    with_total: bool,
) -> ApiResult<Page<DeliveryView>> {
    require_key(actor)?;
    owned(db, actor, webhook_id).await?;
    let mut select = webhook_delivery::Entity::find().filter(webhook_delivery::Column::WebhookId.eq(webhook_id));
    if let Some(status) = status {
        select = select.filter(webhook_delivery::Column::Status.eq(status));
    }
    let page = store::page(db, select, page, with_total).await?;
    let events: HashMap<i64, alert_event::Model> = alert_event::Entity::find()
        .filter(alert_event::Column::Id.is_in(page.items.iter().map(|d| d.event_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    let mut attempts: HashMap<i64, Vec<webhook_attempt::Model>> = HashMap::new();
    for attempt in webhook_attempt::Entity::find()
        .filter(webhook_attempt::Column::DeliveryId.is_in(page.items.iter().map(|d| d.id)))
        .order_by_asc(webhook_attempt::Column::Id)
        .all(db)
        .await?
    {
        attempts.entry(attempt.delivery_id).or_default().push(attempt);
    }
    Ok(page.filter_map(|delivery| {
        let event = events.get(&delivery.event_id)?.clone();
        let attempts = attempts.remove(&delivery.id).unwrap_or_default();
        Some(DeliveryView {
            delivery,
            event,
            attempts,
        })
    }))
}

/// The signature of a delivery: HMAC-SHA256 with the secret over `<id>.<timestamp>.<body>`, in base64, after `v1,`.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

/// Resolves host names to their public addresses only, so that a name that resolves to a private address after it
/// was registered is not reached either. (A URL whose host is a literal address is not resolved: `unreachable_url`
/// checks it before each attempt.)
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found.into_iter().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(format!("{} resolves to no public address", name.as_str()).into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// One due delivery taken by this process.
struct Taken {
    delivery: webhook_delivery::Model,
    hook: webhook::Model,
    event: alert_event::Model,
}

/// Delivers the outbox until the process ends: every serving process runs one.
pub fn spawn(db: DatabaseConnection, settings: Settings) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut builder = reqwest::Client::builder()
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("microfinance-observatory-webhooks/", env!("CARGO_PKG_VERSION")));
        if !settings.allow_private {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        let client = match builder.build() {
            Ok(client) => client,
            Err(error) => {
                tracing::error!(%error, "webhook deliveries cannot start: no HTTP client");
                return;
            }
        };
        let mut commits = crate::db::commits();
        loop {
            let taken = match take_due(&db, &settings).await {
                Ok(taken) => taken,
                Err(error) => {
                    tracing::warn!(%error, "webhook deliveries could not read the outbox");
                    Vec::new()
                }
            };
            if taken.is_empty() {
                let wait = next_due(&db).await.unwrap_or(IDLE).min(IDLE);
                tokio::select! {
                    _ = commits.changed() => {}
                    _ = tokio::time::sleep(wait) => {}
                }
                continue;
            }
            futures_util::future::join_all(taken.into_iter().map(|t| attempt(&db, &client, &settings, t))).await;
        }
    })
}

/// Longest the worker sleeps without looking at the outbox (other processes' events, retries).
const IDLE: Duration = Duration::from_secs(1);
/// Most deliveries one process attempts at once.
const BATCH: u64 = 16;

/// How long until the next pending delivery is due.
async fn next_due(db: &DatabaseConnection) -> Option<Duration> {
    let next = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
        .order_by_asc(webhook_delivery::Column::NextAttemptAt)
        .one(db)
        .await
        .ok()??;
    Some((next.next_attempt_at - Utc::now()).to_std().unwrap_or(Duration::ZERO))
}

/// Takes the due deliveries this process will attempt: each by a conditional update that only one process wins,
/// which counts the attempt and holds the delivery for the attempt's time.
async fn take_due(db: &DatabaseConnection, settings: &Settings) -> Result<Vec<Taken>, sea_orm::DbErr> {
    let now = Utc::now();
    let due = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
        .filter(webhook_delivery::Column::NextAttemptAt.lte(now))
        .order_by_asc(webhook_delivery::Column::NextAttemptAt)
        .limit(BATCH)
        .all(db)
        .await?;
    let mut taken = Vec::new();
    let until = now + chrono::Duration::from_std(settings.lease()).unwrap_or_default();
    for delivery in due {
        let won = webhook_delivery::Entity::update_many()
            .col_expr(
                webhook_delivery::Column::Attempts,
                Expr::col(webhook_delivery::Column::Attempts).add(1),
            )
            .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(until))
            .filter(webhook_delivery::Column::Id.eq(delivery.id))
            .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
            .filter(webhook_delivery::Column::Attempts.eq(delivery.attempts))
            .exec(db)
            .await?
            .rows_affected
            == 1;
        if !won {
            continue;
        }
        let (Some(hook), Some(event)) = (
            webhook::Entity::find_by_id(delivery.webhook_id).one(db).await?,
            alert_event::Entity::find_by_id(delivery.event_id).one(db).await?,
        ) else {
            continue;
        };
        taken.push(Taken {
            delivery: webhook_delivery::Model {
                attempts: delivery.attempts + 1,
                ..delivery
            },
            hook,
            event,
        });
    }
    Ok(taken)
}

/// Posts one event and records the attempt.
async fn attempt(db: &DatabaseConnection, client: &reqwest::Client, settings: &Settings, taken: Taken) {
    let Taken { delivery, hook, event } = taken;
    let started = std::time::Instant::now();
    let refused = reqwest::Url::parse(&hook.url)
        .map_err(|_| "the webhook's URL is not a URL".to_owned())
        .and_then(|url| unreachable_url(settings, &url).map_or(Ok(()), Err))
        .err();
    let outcome = if let Some(refused) = &refused {
        Err(refused.clone())
    } else if hook.active {
        let timestamp = Utc::now().timestamp();
        client
            .post(&hook.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", &event.uid)
            .header("webhook-timestamp", timestamp.to_string())
            .header(
                "webhook-signature",
                signature(&hook.secret, &event.uid, timestamp, event.payload.as_bytes()),
            )
            .body(event.payload.clone())
            .send()
            .await
            .map(|response| response.status().as_u16())
            .map_err(|error| describe(&error))
    } else {
        Err("the webhook was deleted".to_owned())
    };
    let elapsed = started.elapsed();
    let delivered = matches!(outcome, Ok(status) if (200..300).contains(&status));
    let now = Utc::now();
    let (status, next) = match (delivered, &outcome) {
        (true, _) => (DeliveryStatus::Delivered, now),
        (false, _) if delivery.attempts >= settings.max_attempts || !hook.active || refused.is_some() => {
            (DeliveryStatus::Failed, now)
        }
        (false, _) => (
            DeliveryStatus::Pending,
            now + chrono::Duration::from_std(settings.backoff(delivery.attempts)).unwrap_or_default(),
        ),
    };
    let recorded = async {
        let txn = crate::db::begin_write(db).await?;
        webhook_attempt::ActiveModel {
            delivery_id: Set(delivery.id),
            attempted_at: Set(now),
            status_code: Set(outcome.as_ref().ok().map(|s| *s as i32)),
            error: Set(outcome.as_ref().err().cloned()),
            duration_ms: Set(elapsed.as_millis().min(i32::MAX as u128) as i32),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        webhook_delivery::Entity::update_many()
            .col_expr(webhook_delivery::Column::Status, Expr::value(status.as_str()))
            .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(next))
            .col_expr(
                webhook_delivery::Column::DeliveredAt,
                Expr::value(delivered.then_some(now)),
            )
            .filter(webhook_delivery::Column::Id.eq(delivery.id))
            .exec(&txn)
            .await?;
        txn.commit().await
    }
    .await;
    match (&outcome, recorded) {
        (_, Err(error)) => tracing::warn!(%error, delivery = delivery.id, "a webhook attempt could not be recorded"),
        (Ok(code), Ok(())) => tracing::info!(
            delivery = delivery.id,
            event = %event.uid,
            attempt = delivery.attempts,
            status = code,
            elapsed_ms = elapsed.as_millis() as u64,
            "webhook attempt"
        ),
        (Err(error), Ok(())) => tracing::info!(
            delivery = delivery.id,
            event = %event.uid,
            attempt = delivery.attempts,
            error = %error,
            "webhook attempt failed"
        ),
    }
}

/// An attempt's failure in words, for the delivery log (no internal detail beyond the network's).
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "the receiver did not answer in time".into()
    } else if error.is_connect() {
        "the receiver could not be reached".into()
    } else {
        "the request failed before an answer".into()
    }
}

/// A URL that receives the alert events its partner may see.
pub struct Webhook(pub webhook::Model);

/// A URL that receives the alert events its partner may see.
#[Object]
impl Webhook {
    /// The webhook's identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Where events are posted.
    async fn url(&self) -> &str {
        &self.0.url
    }
    /// The kinds of event delivered.
    async fn events(&self) -> Vec<AlertEventKind> {
        self.0
            .events
            .split(',')
            .filter_map(|k| entity::enums::AlertEventKind::ALL.iter().find(|v| v.as_str() == k))
            .map(|k| (*k).into())
            .collect()
    }
    /// False once deleted: nothing more is delivered.
    async fn active(&self) -> bool {
        self.0.active
    }
    /// When it was registered.
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }
}

/// One event to deliver to one webhook, with every attempt.
pub struct WebhookDelivery(pub DeliveryView);

impl Node for WebhookDelivery {
    type Model = DeliveryView;
    const KIND: &'static str = "webhookDelivery";
    fn key(model: &DeliveryView) -> i64 {
        model.delivery.id
    }
}

connection!(
    WebhookDeliveryConnection,
    WebhookDeliveryEdge,
    WebhookDelivery,
    "A page of a webhook's deliveries, oldest first.",
    "A delivery in a page, with its cursor."
);

/// One event to deliver to one webhook, with every attempt.
#[Object]
impl WebhookDelivery {
    /// The event's identifier, sent as `webhook-id` (the same on every attempt: deduplicate by it).
    async fn event_id(&self) -> &str {
        &self.0.event.uid
    }
    /// What happened.
    async fn event_kind(&self) -> AlertEventKind {
        self.0.event.kind.into()
    }
    /// When the event happened.
    async fn occurred_at(&self) -> DateTime {
        DateTime(self.0.event.occurred_at)
    }
    /// The JSON body posted.
    async fn body(&self) -> &str {
        &self.0.event.payload
    }
    /// Where the delivery stands.
    async fn status(&self) -> DeliveryStatusValue {
        self.0.delivery.status.into()
    }
    /// Attempts made (or under way).
    async fn attempt_count(&self) -> i32 {
        self.0.delivery.attempts
    }
    /// When the next attempt is due, while pending.
    async fn next_attempt_at(&self) -> Option<DateTime> {
        (self.0.delivery.status == DeliveryStatus::Pending).then_some(DateTime(self.0.delivery.next_attempt_at))
    }
    /// When the receiver accepted it.
    async fn delivered_at(&self) -> Option<DateTime> {
        self.0.delivery.delivered_at.map(DateTime)
    }
    /// Every finished attempt, in order.
    async fn attempts(&self) -> Vec<WebhookAttempt> {
        self.0.attempts.iter().cloned().map(WebhookAttempt).collect()
    }
}

/// One attempt at a delivery.
pub struct WebhookAttempt(pub webhook_attempt::Model);

/// One attempt at a delivery.
#[Object]
impl WebhookAttempt {
    /// When it ended.
    async fn attempted_at(&self) -> DateTime {
        DateTime(self.0.attempted_at)
    }
    /// The receiver's HTTP status; null when no answer came.
    async fn status_code(&self) -> Option<i32> {
        self.0.status_code
    }
    /// Why no answer came (unreachable, timed out).
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    /// How long it took, in milliseconds.
    async fn duration_ms(&self) -> i32 {
        self.0.duration_ms
    }
}
