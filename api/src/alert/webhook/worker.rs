//! The worker that delivers the outbox: due deliveries taken by a conditional update (one process per attempt),
//! posted, each attempt recorded, failures retried with backoff.

use super::*;

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
