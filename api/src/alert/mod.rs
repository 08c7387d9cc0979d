//! Early warning: alert rules, the alerts they raise on each accepted report and release, and their delivery to
//! partners by GraphQL subscription and signed webhooks.
//!
//! - `rules`: judging the rules inside the writing transaction, and the outbox (events, deliveries) it writes;
//! - `store`: reads and the observatory's and partners' writes (rules, webhooks);
//! - `hub`: the events of every process, read from the outbox, passed to this process's subscriptions;
//! - `webhook`: addresses partners may register, signatures, and the delivery worker with its retries.

pub mod hub;
pub mod rules;
pub mod store;
pub mod webhook;

use crate::context::{db, scope, wants_total};
use crate::enums::{
    AlertComparison, AlertDirection, AlertEventKind, AlertScope, AlertSeverity, AlertStatus, DeliveryStatus, Segment,
};
use crate::error::ApiError;
use crate::pagination::{Node, PageArgs, connection};
use crate::period::Month;
use crate::scalars::{DateTime, Period};
use async_graphql::{Context, ID, InputObject, Object, Result, Subscription};
use entity::{alert, alert_rule};
use futures_util::Stream;

/// An alert with the rule that raised it.
#[derive(Debug, Clone)]
pub struct AlertView {
    pub alert: alert::Model,
    pub rule: alert_rule::Model,
}

/// One rule's finding on one group (the sector, a region, an association or a segment) and month: raised once when
/// the compared quantity first breaches the threshold, resolved when it comes back within it.
pub struct Alert(pub AlertView);

impl Node for Alert {
    type Model = AlertView;
    const KIND: &'static str = "alert";
    fn key(model: &AlertView) -> i64 {
        model.alert.id
    }
}

connection!(
    AlertConnection,
    AlertEdge,
    Alert,
    "A page of alerts, in the order they were first raised.",
    "An alert in a page, with its cursor."
);

/// One rule's finding on one group (the sector, a region, an association or a segment) and month: raised once when
/// the compared quantity first breaches the threshold, resolved when it comes back within it.
#[Object]
impl Alert {
    /// The alert's identifier.
    async fn id(&self) -> ID {
        ID(self.0.alert.id.to_string())
    }
    /// The rule that raised it.
    async fn rule(&self) -> AlertRule {
        AlertRule(self.0.rule.clone())
    }
    /// The rule's severity.
    async fn severity(&self) -> AlertSeverity {
        self.0.rule.severity.into()
    }
    /// The measure judged: a field of `IndicatorRow` (`par30Rate`), or `reportLateness` (days a report is overdue).
    async fn measure(&self) -> &str {
        &self.0.rule.measure
    }
    /// The kind of group.
    async fn scope(&self) -> AlertScope {
        self.0.alert.scope.into()
    }
    /// The association, for an alert on an association.
    async fn association(&self, ctx: &Context<'_>) -> Result<Option<crate::association::Association>> {
        match self.0.alert.association_id {
            Some(id) => Ok(Some(crate::association::load(ctx, id).await?)),
            None => Ok(None),
        }
    }
    /// The region, for an alert on a region.
    async fn region(&self, ctx: &Context<'_>) -> Result<Option<crate::region::Region>> {
        match self.0.alert.region_id {
            Some(id) => Ok(Some(crate::region::load(ctx, id).await?)),
            None => Ok(None),
        }
    }
    /// The segment, for an alert on a segment.
    async fn segment(&self) -> Option<Segment> {
        self.0
            .alert
            .segment
            .as_deref()
            .and_then(|s| entity::enums::Segment::ALL.iter().find(|v| v.as_str() == s))
            .map(|s| (*s).into())
    }
    /// The month judged, or the quarter for a rule on a financial ratio of the quarterly statements.
    async fn period(&self) -> Period {
        Period(judged_period(&self.0.rule, self.0.alert.period))
    }
    /// Open while the last judgement breached the threshold.
    async fn status(&self) -> AlertStatus {
        self.0.alert.status.into()
    }
    /// The compared quantity at the last judgement: the value, or its change (see the rule's `comparison`); for
    /// lateness, days after the deadline.
    async fn value(&self) -> Option<f64> {
        self.0.alert.value
    }
    /// The threshold it was compared with.
    async fn threshold(&self) -> f64 {
        self.0.alert.threshold
    }
    /// When the alert was first raised (the instant of the report or release that raised it).
    async fn raised_at(&self) -> DateTime {
        DateTime(self.0.alert.raised_at)
    }
    /// When it was resolved; null while open.
    async fn resolved_at(&self) -> Option<DateTime> {
        self.0.alert.resolved_at.map(DateTime)
    }
    /// When it was last judged with a different result.
    async fn updated_at(&self) -> DateTime {
        DateTime(self.0.alert.updated_at)
    }
}

/// A condition on a measure that raises alerts, judged whenever a report is accepted (on the association's groups)
/// or a month released (on the sector, regions and segments).
pub struct AlertRule(pub alert_rule::Model);

/// A condition on a measure that raises alerts, judged whenever a report is accepted (on the association's groups)
/// or a month released (on the sector, regions and segments).
#[Object]
impl AlertRule {
    /// The rule's code, for example `PAR30_ABOVE_5_REGION`.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// What the rule watches, in words.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The measure judged: a field of `IndicatorRow` (`par30Rate`), or `reportLateness` (days a report is overdue).
    async fn measure(&self) -> &str {
        &self.0.measure
    }
    /// The groups the measure is judged on.
    async fn scope(&self) -> AlertScope {
        self.0.scope.into()
    }
    /// The one region, association or segment code the rule is limited to; null for every group of its scope.
    async fn scope_code(&self) -> Option<&str> {
        self.0.scope_code.as_deref()
    }
    /// What is compared with the threshold.
    async fn comparison(&self) -> AlertComparison {
        self.0.comparison.into()
    }
    /// Which side of the threshold raises an alert.
    async fn direction(&self) -> AlertDirection {
        self.0.direction.into()
    }
    /// The threshold, in the measure's unit (percent for rates: 5 means 5 %), or in percent (percentage points for
    /// rates) for a change.
    async fn threshold(&self) -> f64 {
        self.0.threshold
    }
    /// How serious its alerts are.
    async fn severity(&self) -> AlertSeverity {
        self.0.severity.into()
    }
    /// Inactive rules are not judged; their alerts stay readable.
    async fn active(&self) -> bool {
        self.0.active
    }
    /// When the rule was created.
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }
}

/// Conditions on alerts.
#[derive(InputObject, Default, Clone)]
pub struct AlertFilter {
    /// Only open (or only resolved) alerts.
    pub status: Option<AlertStatus>,
    /// Only alerts of these severities.
    pub severities: Option<Vec<AlertSeverity>>,
    /// Only alerts of these rules (codes).
    pub rules: Option<Vec<String>>,
    /// Only alerts on these kinds of group.
    pub scopes: Option<Vec<AlertScope>>,
    /// Only alerts on these associations (codes).
    pub associations: Option<Vec<String>>,
    /// Only alerts on these regions (ISO codes).
    pub regions: Option<Vec<String>>,
    /// Only alerts of this month or later.
    pub from: Option<Period>,
    /// Only alerts of this month or earlier.
    pub to: Option<Period>,
}

/// A rule to create.
#[derive(InputObject)]
pub struct AlertRuleInput {
    /// A new code: capital letters, digits and underscores (1 to 64).
    pub code: String,
    /// What the rule watches, in words.
    pub name: String,
    /// A field of `IndicatorRow` (see `indicatorCatalog`), or `reportLateness`.
    pub measure: String,
    /// The groups the measure is judged on.
    pub scope: AlertScope,
    /// Limit the rule to one region (ISO code), association (code) or segment (`INDIVIDUAL`, ...), per its scope.
    pub scope_code: Option<String>,
    /// What is compared with the threshold.
    #[graphql(default_with = "AlertComparison::Value")]
    pub comparison: AlertComparison,
    /// Which side of the threshold raises an alert.
    pub direction: AlertDirection,
    /// The threshold (see `AlertRule.threshold`).
    pub threshold: f64,
    /// How serious its alerts are.
    pub severity: AlertSeverity,
}

/// Queries on alert rules, alerts and webhooks.
#[derive(Default)]
pub struct AlertQuery;

#[Object]
impl AlertQuery {
    /// Every alert rule, active or not, in code order.
    async fn alert_rules(&self, ctx: &Context<'_>) -> Result<Vec<AlertRule>> {
        Ok(store::rules(db(ctx)).await?.into_iter().map(AlertRule).collect())
    }

    /// Alerts the caller may see, in the order they were first raised: the observatory every alert; partners those
    /// of released months; an association its own and the sector's; the public those of released months on the
    /// sector, regions and segments whose figures it may see (never a small group's).
    async fn alerts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions on the alerts.")] filter: Option<AlertFilter>,
        #[graphql(desc = "Number of items to return (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which to start (an `endCursor` of the same list).")] after: Option<String>,
    ) -> Result<AlertConnection> {
        let page = PageArgs::new(Alert::KIND, first, after.as_deref())?;
        let filter = store::Conditions::resolve(db(ctx), filter.unwrap_or_default()).await?;
        Ok(AlertConnection(
            store::alerts(db(ctx), scope(ctx), &filter, &page, wants_total(ctx)).await?,
        ))
    }

    /// The caller's webhooks (the observatory: every partner's), active or not. Needs a key.
    async fn webhooks(&self, ctx: &Context<'_>) -> Result<Vec<webhook::Webhook>> {
        Ok(webhook::list(db(ctx), scope(ctx))
            .await?
            .into_iter()
            .map(webhook::Webhook)
            .collect())
    }

    /// The delivery log of one of the caller's webhooks: one line per event, with every attempt, newest events last.
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The webhook's `id`.")] webhook: ID,
        #[graphql(desc = "Only deliveries in this state.")] status: Option<DeliveryStatus>,
        #[graphql(desc = "Number of items to return (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which to start (an `endCursor` of the same list).")] after: Option<String>,
    ) -> Result<webhook::WebhookDeliveryConnection> {
        let page = PageArgs::new(webhook::WebhookDelivery::KIND, first, after.as_deref())?;
        let id = webhook::parse_id(&webhook)?;
        Ok(webhook::WebhookDeliveryConnection(
            webhook::deliveries(db(ctx), scope(ctx), id, status.map(Into::into), &page, wants_total(ctx)).await?,
        ))
    }
}

/// Managing alert rules (the observatory) and webhooks (any partner with a key).
#[derive(Default)]
pub struct AlertMutation;

#[Object]
impl AlertMutation {
    /// Creates an alert rule (an observatory key with the `admin` scope). It is judged from the next accepted report
    /// or release on; past months are not judged again. Audited.
    async fn create_alert_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The rule.")] input: AlertRuleInput,
    ) -> Result<AlertRule> {
        let actor = scope(ctx);
        actor.require_observatory("managing alert rules")?;
        Ok(AlertRule(store::create_rule(db(ctx), actor, input).await?))
    }

    /// Turns an alert rule on or off (an observatory key with the `admin` scope). Audited.
    async fn set_alert_rule_active(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The rule's code.")] code: String,
        #[graphql(desc = "True to judge the rule, false to stop.")] active: bool,
    ) -> Result<AlertRule> {
        let actor = scope(ctx);
        actor.require_observatory("managing alert rules")?;
        Ok(AlertRule(store::set_rule_active(db(ctx), actor, &code, active).await?))
    }

    /// Registers a URL that receives the alert events the caller's organisation may see, as signed JSON POSTs (see
    /// the README: `webhook-id`, `webhook-timestamp`, `webhook-signature`). The URL must be `https` or `http`, and
    /// its host must not resolve to a loopback, private or link-local address. At most 10 active webhooks per
    /// partner. Audited.
    async fn create_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Where to POST events, for example `https://alerts.example.ma/observatory`.")] url: String,
        #[graphql(desc = "The kinds of event to deliver (default: both).")] events: Option<Vec<AlertEventKind>>,
        #[graphql(desc = "The signing secret (16 to 256 characters); keep it, it is never shown again.")]
        secret: String,
    ) -> Result<webhook::Webhook> {
        let settings = ctx
            .data::<webhook::Settings>()
            .map_err(|_| ApiError::Internal("webhook settings missing from the schema data".into()))?;
        let events = events.unwrap_or_else(|| vec![AlertEventKind::AlertRaised, AlertEventKind::AlertResolved]);
        Ok(webhook::Webhook(
            webhook::create(db(ctx), scope(ctx), settings, &url, &events, &secret).await?,
        ))
    }

    /// Stops a webhook: no delivery is made to it any more; its log stays readable. Audited.
    async fn delete_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The webhook's `id`.")] id: ID,
    ) -> Result<webhook::Webhook> {
        let id = webhook::parse_id(&id)?;
        Ok(webhook::Webhook(webhook::deactivate(db(ctx), scope(ctx), id).await?))
    }
}

/// Live events, over WebSocket (the `graphql-transport-ws` protocol at `/graphql`; the key goes in the
/// `connection_init` payload as `{"Authorization": "Bearer <key>"}`).
#[derive(Default)]
pub struct AlertSubscription;

#[Subscription]
impl AlertSubscription {
    /// Each alert raised (or raised again) from now on that the caller may see (the same rule as `alerts`) and that
    /// matches the filter, as soon as the report or release that raised it is committed.
    async fn alert_raised(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions on the alerts.")] filter: Option<AlertFilter>,
    ) -> Result<impl Stream<Item = Alert> + use<>> {
        let hub = ctx
            .data::<hub::Hub>()
            .map_err(|_| ApiError::Internal("the alert hub is missing from the request data".into()))?;
        let conditions = store::Conditions::resolve(db(ctx), filter.unwrap_or_default()).await?;
        Ok(hub.raised(scope(ctx).clone(), conditions))
    }
}

/// The JSON body of an event, as webhooks receive it.
pub fn payload(
    uid: &str,
    kind: entity::enums::AlertEventKind,
    at: chrono::DateTime<chrono::Utc>,
    alert: &alert::Model,
    rule: &alert_rule::Model,
    association: Option<&str>,
    region: Option<&str>,
) -> serde_json::Value {
    let time = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    serde_json::json!({
        "id": uid,
        "type": kind.as_str(),
        "occurredAt": time(at),
        "alert": {
            "id": alert.id.to_string(),
            "rule": rule.code,
            "severity": rule.severity.as_str(),
            "measure": rule.measure,
            "comparison": rule.comparison.as_str(),
            "direction": rule.direction.as_str(),
            "scope": alert.scope.as_str(),
            "association": association,
            "region": region,
            "segment": alert.segment,
            "period": judged_period(rule, alert.period).to_string(),
            "status": alert.status.as_str(),
            "value": alert.value,
            "threshold": alert.threshold,
            "raisedAt": time(alert.raised_at),
            "resolvedAt": alert.resolved_at.map(time),
        }
    })
}

/// The period an alert judged: its month, or the quarter ending that month for a rule on a financial ratio.
fn judged_period(rule: &alert_rule::Model, month: i32) -> crate::period::Period {
    let granularity = if rules::quarterly(rule) {
        crate::period::Granularity::Quarter
    } else {
        crate::period::Granularity::Month
    };
    crate::period::Period::containing(granularity, Month(month))
}
