//! Registering, listing and deactivating a partner's webhooks (at most `MAX_PER_PARTNER` active ones), and the
//! deliveries of one webhook as its owner sees them.

use super::*;

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
