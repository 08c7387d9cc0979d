//! The alert events of every process, passed to this process's subscriptions.
//!
//! Events are read from the outbox (`alert_event`), never handed over in memory by the writer: a report accepted by
//! another process over the same database reaches this process's subscribers too. One reader per process runs
//! while someone subscribes: it reads the events after the last one it passed on as soon as a write of this process
//! commits (`crate::db::commits`), on PostgreSQL as soon as any process's write commits (a `NOTIFY` on
//! `crate::db::OUTBOX_CHANNEL`, sent in the transaction that wrote the events), and every quarter of a second
//! otherwise.

use super::{Alert, AlertView, store::Conditions};
use crate::scope::{AlertFacts, Scope};
use entity::enums::{AlertEventKind, AlertScope};
use entity::{alert, alert_event, alert_rule, release};
use futures_util::Stream;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;

/// How often the reader looks for other processes' events (without notifications: on SQLite, or while the
/// notification connection is lost).
const POLL: Duration = Duration::from_millis(250);
/// Events kept for a subscriber that reads slowly; beyond this, it misses the oldest.
const BACKLOG: usize = 1_024;

/// An event as subscriptions see it.
#[derive(Debug)]
pub struct Event {
    pub kind: AlertEventKind,
    pub view: AlertView,
    pub facts: AlertFacts,
}

/// This process's subscriptions to alert events.
#[derive(Clone)]
pub struct Hub {
    db: DatabaseConnection,
    /// The database's own address when `db` goes through a pooler in transaction mode (`LISTEN` needs a session).
    direct_url: Option<String>,
    sender: broadcast::Sender<Arc<Event>>,
    /// Whether the reader runs.
    reading: Arc<Mutex<bool>>,
}

impl Hub {
    pub fn new(db: DatabaseConnection, direct_url: Option<String>) -> Hub {
        Hub {
            db,
            direct_url,
            sender: broadcast::channel(BACKLOG).0,
            reading: Arc::new(Mutex::new(false)),
        }
    }

    /// The alerts raised from now on that `scope` may see and that meet `conditions`.
    pub fn raised(&self, scope: Scope, conditions: Conditions) -> impl Stream<Item = Alert> + use<> {
        let receiver = self.sender.subscribe();
        self.start();
        futures_util::stream::unfold(receiver, move |mut receiver| {
            let (scope, conditions) = (scope.clone(), conditions.clone());
            async move {
                loop {
                    match receiver.recv().await {
                        Ok(event) => {
                            if event.kind == AlertEventKind::AlertRaised
                                && scope.sees_alert(&event.facts)
                                && conditions.matches(&event.view)
                            {
                                return Some((Alert(event.view.clone()), receiver));
                            }
                        }
                        Err(broadcast::error::RecvError::Lagged(missed)) => {
                            tracing::warn!(missed, "a subscriber read too slowly and missed alert events");
                        }
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            }
        })
    }

    /// Starts the reader unless it runs.
    fn start(&self) {
        let mut reading = self.reading.lock().expect("not poisoned");
        if *reading {
            return;
        }
        *reading = true;
        let hub = self.clone();
        tokio::spawn(async move { hub.read().await });
    }

    /// Reads the outbox while someone subscribes.
    async fn read(self) {
        let mut last = match alert_event::Entity::find()
            .select_only()
            .column_as(alert_event::Column::Id.max(), "id")
            .into_tuple::<Option<i64>>()
            .one(&self.db)
            .await
        {
            Ok(last) => last.flatten().unwrap_or(0),
            Err(error) => {
                tracing::warn!(%error, "alert subscriptions could not read the outbox");
                0
            }
        };
        let mut commits = crate::db::commits();
        let mut notifications = self.listen().await;
        loop {
            {
                let mut reading = self.reading.lock().expect("not poisoned");
                if self.sender.receiver_count() == 0 {
                    *reading = false;
                    return;
                }
            }
            match self.events_after(last).await {
                Ok(events) => {
                    for (id, event) in events {
                        last = id;
                        let _ = self.sender.send(Arc::new(event));
                    }
                }
                Err(error) => tracing::warn!(%error, "alert subscriptions could not read the outbox"),
            }
            let notified = tokio::select! {
                _ = commits.changed() => Ok(()),
                _ = tokio::time::sleep(POLL) => Ok(()),
                notified = next_notification(&mut notifications) => notified,
            };
            if let Err(error) = notified {
                tracing::warn!(%error, "alert notifications stopped: reading the outbox every {} ms", POLL.as_millis());
                notifications = None;
            }
        }
    }

    /// On PostgreSQL, a connection listening to `crate::db::OUTBOX_CHANNEL`: taken from the pool while the reader
    /// runs, or opened to the direct address when one is configured (behind a pooler in transaction mode, a pooled
    /// connection's session, and its `LISTEN`, would be shared).
    async fn listen(&self) -> Option<sea_orm::sqlx::postgres::PgListener> {
        if self.db.get_database_backend() != sea_orm::DbBackend::Postgres {
            return None;
        }
        let pool = self.db.get_postgres_connection_pool();
        let listening = async {
            let mut listener = match &self.direct_url {
                Some(url) => sea_orm::sqlx::postgres::PgListener::connect(url).await?,
                None => sea_orm::sqlx::postgres::PgListener::connect_with(pool).await?,
            };
            listener.listen(crate::db::OUTBOX_CHANNEL).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        };
        match listening.await {
            Ok(listener) => Some(listener),
            Err(error) => {
                tracing::warn!(%error, "alert notifications unavailable: reading the outbox every {} ms", POLL.as_millis());
                None
            }
        }
    }

    /// The events after `last`, in order, with their alerts and rules.
    async fn events_after(&self, last: i64) -> Result<Vec<(i64, Event)>, sea_orm::DbErr> {
        let events = alert_event::Entity::find()
            .filter(alert_event::Column::Id.gt(last))
            .order_by_asc(alert_event::Column::Id)
            .limit(256)
            .all(&self.db)
            .await?;
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let alerts: HashMap<i64, alert::Model> = alert::Entity::find()
            .filter(alert::Column::Id.is_in(events.iter().map(|e| e.alert_id)))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        let rules: HashMap<i32, alert_rule::Model> = alert_rule::Entity::find()
            .all(&self.db)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        let periods: BTreeSet<i32> = alerts.values().map(|a| a.period).collect();
        let released: BTreeSet<i32> = release::Entity::find()
            .filter(release::Column::Period.is_in(periods))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|r| r.period)
            .collect();
        Ok(events
            .into_iter()
            .filter_map(|event| {
                let alert = alerts.get(&event.alert_id)?.clone();
                let rule = rules.get(&alert.rule_id)?.clone();
                let facts = AlertFacts {
                    association_id: alert.association_id,
                    sector: alert.scope == AlertScope::Sector,
                    public: alert.public,
                    released: released.contains(&alert.period),
                };
                Some((
                    event.id,
                    Event {
                        kind: event.kind,
                        view: AlertView { alert, rule },
                        facts,
                    },
                ))
            })
            .collect())
    }
}

/// The next notification, or never without a listener.
async fn next_notification(
    listener: &mut Option<sea_orm::sqlx::postgres::PgListener>,
) -> Result<(), sea_orm::sqlx::Error> {
    match listener {
        Some(listener) => listener.recv().await.map(|_| ()),
        None => std::future::pending().await,
    }
}
