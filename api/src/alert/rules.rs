//! Alert rules judged on the data: inside the transaction that accepts a report or releases a month, each active
//! rule's measure is computed for the groups the change touches, by the indicator engine, and compared with its
//! threshold. A breach raises the rule's one alert for the group and month (or reopens it); a value back within the
//! threshold resolves it. Every transition writes an event and, for each webhook whose owner may see it, a
//! delivery: the outbox that `super::hub` and `super::webhook` read after the commit.

use crate::error::ApiResult;
use crate::indicator::catalog::{Dim, MEASURES, MeasureDef};
use crate::indicator::cube::{CubeFilter, GroupKey};
use crate::indicator::engine::{Comparison, Measure, measure_per_group_at};
use crate::period::{Granularity, Month, Period};
use crate::scope::{AlertFacts, RowAccess, Scope, SmallGroups};
use chrono::{DateTime, Utc};
use entity::enums::{
    AlertComparison, AlertDirection, AlertEventKind, AlertScope, AlertStatus, DeliveryStatus, Segment,
};
use entity::{alert, alert_event, alert_rule, association, partner, region, release, webhook, webhook_delivery};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};
use std::collections::{BTreeSet, HashMap};

/// The measure of the lateness rule: days since the deadline of a month's report that has not arrived (or had not
/// when it arrived late).
pub const LATENESS: &str = "reportLateness";

/// What a rule judges.
#[derive(Debug, Clone, Copy)]
pub enum Judged {
    /// A measure of the catalogue.
    Measure(&'static MeasureDef),
    /// Days a report is overdue.
    Lateness,
}

/// The catalogue measure or lateness a rule names, if any.
pub fn judged(measure: &str) -> Option<Judged> {
    if measure == LATENESS {
        return Some(Judged::Lateness);
    }
    MEASURES.iter().find(|m| m.field == measure).map(Judged::Measure)
}

/// The dimension a scope groups by.
pub fn dimension(scope: AlertScope) -> Option<Dim> {
    match scope {
        AlertScope::Sector => None,
        AlertScope::Region => Some(Dim::Region),
        AlertScope::Association => Some(Dim::Association),
        AlertScope::Segment => Some(Dim::Segment),
    }
}

/// What set a judgement off.
#[derive(Debug, Clone, Copy)]
pub enum Trigger {
    /// An association's report of a month was accepted (`first`: its first report of the month, not a revision).
    Report {
        association: i32,
        month: Month,
        first: bool,
    },
    /// The observatory released a month.
    Release { month: Month },
    /// An association's statement of a quarter was accepted.
    Statement { association: i32, quarter: Period },
    /// The observatory released a quarter's statements.
    QuarterRelease { quarter: Period },
}

impl Trigger {
    /// The quarter, for the triggers of the quarterly statements.
    fn quarter(self) -> Option<Period> {
        match self {
            Trigger::Statement { quarter, .. } | Trigger::QuarterRelease { quarter } => Some(quarter),
            Trigger::Report { .. } | Trigger::Release { .. } => None,
        }
    }
}

/// Whether a rule judges a financial ratio of the quarterly statements (judged on quarters, when they are released
/// and when a released quarter's statement is revised).
pub fn quarterly(rule: &alert_rule::Model) -> bool {
    matches!(judged(&rule.measure), Some(Judged::Measure(def)) if def.financial().is_some())
}

/// The month a comparison reads besides the judged one, and the months whose judgement a change of `month` moves.
fn affected(month: Month, comparison: AlertComparison) -> Vec<Month> {
    match comparison {
        AlertComparison::Value => vec![month],
        AlertComparison::PreviousPeriodChange => vec![month, month.shift(1)],
        AlertComparison::SamePeriodPreviousYearChange => vec![month, month.shift(12)],
    }
}

fn comparison(rule: &alert_rule::Model) -> Option<Comparison> {
    match rule.comparison {
        AlertComparison::Value => None,
        AlertComparison::PreviousPeriodChange => Some(Comparison::PreviousPeriod),
        AlertComparison::SamePeriodPreviousYearChange => Some(Comparison::SamePeriodPreviousYear),
    }
}

/// The quantity a rule compares with its threshold: the value, or its change (percentage points for rates and
/// shares, percent for counts and amounts, as `Measure.change` and `Measure.changePercent` give them).
pub fn compared(rule: &alert_rule::Model, def: &MeasureDef, measure: &Measure) -> Option<f64> {
    match rule.comparison {
        AlertComparison::Value => measure.value,
        _ if def.is_rate() => measure.change,
        _ => measure.change_percent,
    }
}

/// Whether a compared quantity breaches a rule's threshold.
pub fn breaches(rule: &alert_rule::Model, quantity: f64) -> bool {
    match rule.direction {
        AlertDirection::Above => quantity > rule.threshold,
        AlertDirection::Below => quantity < rule.threshold,
    }
}

/// The identity of a group within a rule and month.
fn group_key(key: &GroupKey) -> String {
    if let Some(a) = key.association {
        format!("ASSOCIATION:{a}")
    } else if let Some(r) = key.region {
        format!("REGION:{r}")
    } else if let Some(s) = key.segment {
        format!("SEGMENT:{}", s.as_str())
    } else {
        "SECTOR".into()
    }
}

/// One verdict: a rule on a group and month.
struct Verdict {
    rule: usize,
    month: Month,
    key: GroupKey,
    /// The compared quantity.
    value: f64,
    breach: bool,
    public: bool,
    /// Only raises a missing alert; an existing one is left as it is (the lateness sweep).
    raise_only: bool,
}

/// Judges the active rules on what `trigger` changed, at instant `at` (the report's reception or the release), inside
/// the caller's transaction. Returns the number of events written (alerts raised or resolved).
pub async fn evaluate<C: ConnectionTrait>(db: &C, trigger: Trigger, at: DateTime<Utc>) -> ApiResult<usize> {
    let rules: Vec<alert_rule::Model> = alert_rule::Entity::find()
        .filter(alert_rule::Column::Active.eq(true))
        .all(db)
        .await?;
    if rules.is_empty() {
        return Ok(0);
    }
    let mut codes = LazyCodes::default();
    let month = match trigger {
        Trigger::Report { month, .. } | Trigger::Release { month } => month,
        // A quarter's alerts are kept under its last month.
        Trigger::Statement { quarter, .. } | Trigger::QuarterRelease { quarter } => quarter.last_month(),
    };
    let released: BTreeSet<i32> = match trigger.quarter() {
        None => {
            let mut candidates: BTreeSet<i32> = [month.0, month.shift(1).0, month.shift(12).0].into();
            candidates.extend(lateness_month(at).map(|m| m.0));
            release::Entity::find()
                .filter(release::Column::Period.is_in(candidates.iter().copied()))
                .all(db)
                .await?
                .into_iter()
                .map(|r| r.period)
                .collect()
        }
        // A quarter counts as released when its statements are.
        Some(quarter) => entity::quarter_release::Entity::find()
            .filter(entity::quarter_release::Column::Period.eq(quarter.last_month().0))
            .all(db)
            .await?
            .into_iter()
            .map(|r| r.period)
            .collect(),
    };
    let mut verdicts = Vec::new();
    for (index, rule) in rules.iter().enumerate() {
        let Some(Judged::Measure(def)) = judged(&rule.measure) else {
            continue;
        };
        // Monthly rules on months, quarterly rules on quarters.
        if quarterly(rule) != trigger.quarter().is_some() {
            continue;
        }
        let jobs: Vec<(Month, Option<i32>)> = match (trigger, rule.scope) {
            // Quarters are judged once released (every group, every association), and again when a statement of a
            // released quarter is revised.
            (Trigger::QuarterRelease { .. }, _) => vec![(month, None)],
            (Trigger::Statement { .. }, _) if !released.contains(&month.0) => Vec::new(),
            (Trigger::Statement { association, .. }, AlertScope::Association) => vec![(month, Some(association))],
            (Trigger::Statement { .. }, _) => vec![(month, None)],
            (Trigger::Report { association, .. }, AlertScope::Association) => affected(month, rule.comparison)
                .into_iter()
                .map(|m| (m, Some(association)))
                .collect(),
            // Groups are judged on released months only (a month in the making is partial): at its release, and
            // again when a report revises it.
            (_, AlertScope::Association) => Vec::new(),
            (Trigger::Release { .. }, _) => vec![(month, None)],
            (Trigger::Report { .. }, _) => affected(month, rule.comparison)
                .into_iter()
                .filter(|m| released.contains(&m.0))
                .map(|m| (m, None))
                .collect(),
        };
        for (judged_month, association) in jobs {
            let known = match rule.scope_code {
                Some(_) => Some(codes.get(db).await?),
                None => None,
            };
            let Some(filter) = rule_filter(rule, association, known) else {
                continue;
            };
            let group_by: Vec<Dim> = dimension(rule.scope).into_iter().collect();
            let judged_period = match trigger.quarter() {
                Some(quarter) => quarter,
                None => Period::containing(Granularity::Month, judged_month),
            };
            let values = measure_per_group_at(
                db,
                def,
                judged_period,
                group_by.clone(),
                filter.clone(),
                comparison(rule),
                RowAccess::All,
                None,
            )
            .await?;
            // What the public would be shown of the same figures, in an answer grouped the same way.
            let public: HashMap<GroupKey, Measure> = if rule.scope == AlertScope::Association {
                HashMap::new()
            } else {
                measure_per_group_at(
                    db,
                    def,
                    judged_period,
                    group_by,
                    filter,
                    comparison(rule),
                    RowAccess::Released,
                    Some(SmallGroups {
                        known_association: None,
                    }),
                )
                .await?
                .into_iter()
                .collect()
            };
            for (key, measure) in values {
                let Some(value) = compared(rule, def, &measure) else {
                    continue;
                };
                // Public only when the public is shown this very figure: a month's figures as released, never a
                // later report's effect on them.
                let public = public.get(&key).and_then(|m| compared(rule, def, m)) == Some(value);
                verdicts.push(Verdict {
                    rule: index,
                    month: judged_month,
                    key,
                    value,
                    breach: breaches(rule, value),
                    public,
                    raise_only: false,
                });
            }
        }
    }
    if let Some(index) = rules
        .iter()
        .position(|r| matches!(judged(&r.measure), Some(Judged::Lateness)))
        .filter(|_| trigger.quarter().is_none())
    {
        lateness(db, &rules[index], index, trigger, at, &mut codes, &mut verdicts).await?;
    }
    // The alerts standing for the rules and months judged, read at once.
    let rule_ids: BTreeSet<i32> = verdicts.iter().map(|v| rules[v.rule].id).collect();
    let months: BTreeSet<i32> = verdicts.iter().map(|v| v.month.0).collect();
    let mut standing: Standing = if verdicts.is_empty() {
        HashMap::new()
    } else {
        alert::Entity::find()
            .filter(alert::Column::RuleId.is_in(rule_ids))
            .filter(alert::Column::Period.is_in(months))
            .all(db)
            .await?
            .into_iter()
            .map(|a| ((a.rule_id, a.group_key.clone(), a.period), a))
            .collect()
    };
    let mut outbox = Outbox::default();
    for verdict in verdicts {
        let rule = &rules[verdict.rule];
        record(
            db,
            rule,
            &verdict,
            at,
            &released,
            &mut codes,
            &mut standing,
            &mut outbox,
        )
        .await?;
    }
    Ok(outbox.deliver(db).await?)
}

/// The latest month whose report deadline has passed at `at`.
fn lateness_month(at: DateTime<Utc>) -> Option<Month> {
    use chrono::Datelike;
    let current = Month(at.year() * 100 + at.month() as i32);
    (1..=2)
        .map(|back| current.shift(-back))
        .find(|m| crate::reporting::deadline(*m) <= at)
}

/// Days from a deadline to an instant, to the tenth.
fn days_after(deadline: DateTime<Utc>, at: DateTime<Utc>) -> f64 {
    ((at - deadline).num_seconds() as f64 / 86_400.0 * 10.0).round() / 10.0
}

/// The lateness rule: a month's first report that arrives after its deadline was missing until then (its alert is
/// raised if it was not yet, and resolved); expected associations without a report of the latest month whose
/// deadline has passed (from the first month anyone reported on) have their alert raised.
async fn lateness<C: ConnectionTrait>(
    db: &C,
    rule: &alert_rule::Model,
    index: usize,
    trigger: Trigger,
    at: DateTime<Utc>,
    codes: &mut LazyCodes,
    verdicts: &mut Vec<Verdict>,
) -> ApiResult<()> {
    // The one association the rule is limited to, if any (none known: no association).
    let only = match &rule.scope_code {
        Some(code) => Some(codes.get(db).await?.association_ids.get(code).copied().unwrap_or(0)),
        None => None,
    };
    let applies =
        |association: i32| rule.scope == AlertScope::Association && only.is_none_or(|only| only == association);
    let key = |association: i32| GroupKey {
        association: Some(association),
        ..GroupKey::default()
    };
    if let Trigger::Report {
        association,
        month,
        first: true,
    } = trigger
    {
        let deadline = crate::reporting::deadline(month);
        if at > deadline && applies(association) {
            let value = days_after(deadline, at);
            // Missing until now, then in: raised (when no earlier judgement raised it), then resolved.
            for breach in [true, false] {
                verdicts.push(Verdict {
                    rule: index,
                    month,
                    key: key(association),
                    value,
                    breach,
                    public: false,
                    raise_only: false,
                });
            }
        }
    }
    // Months before the first one anyone reported were not expected.
    let first_reported = crate::reporting::first_reported_month(db).await?;
    if let Some(month) = lateness_month(at).filter(|m| first_reported.is_some_and(|first| *m >= first)) {
        // Expected associations (active ones) without an accepted report of the month, and without this rule's alert
        // for it yet: usually none, in one statement whatever the number of associations.
        // Text with bound values: the builder does not say the concatenated group key.
        let mut b = crate::sql::Binder::new(db.get_database_backend());
        let sql = format!(
            "SELECT a.id AS id FROM association a WHERE a.status = 'ACTIVE' AND NOT EXISTS (SELECT 1 FROM submission s \
             WHERE s.association_id = a.id AND s.period = {m} AND s.status = 'ACCEPTED') AND NOT EXISTS (SELECT 1 FROM \
             alert x WHERE x.rule_id = {rule} AND x.period = {m2} AND x.group_key = 'ASSOCIATION:' || CAST(a.id AS TEXT)) \
             ORDER BY a.id",
            m = b.bind(month.0),
            rule = b.bind(rule.id),
            m2 = b.bind(month.0),
        );
        let missing = db.query_all_raw(b.statement(sql)).await?;
        let deadline = crate::reporting::deadline(month);
        for row in missing {
            let id: i32 = row.try_get("", "id")?;
            if applies(id) {
                verdicts.push(Verdict {
                    rule: index,
                    month,
                    key: key(id),
                    value: days_after(deadline, at),
                    breach: true,
                    public: false,
                    raise_only: true,
                });
            }
        }
    }
    Ok(())
}

/// The condition a rule's scope code puts on the groups (`None`: the rule does not apply to this association).
fn rule_filter(rule: &alert_rule::Model, association: Option<i32>, codes: Option<&Codes>) -> Option<CubeFilter> {
    let mut filter = CubeFilter::default();
    if let Some(id) = association {
        filter.associations = Some(vec![id]);
    }
    let (Some(code), Some(codes)) = (&rule.scope_code, codes) else {
        return Some(filter);
    };
    match rule.scope {
        AlertScope::Sector => {}
        AlertScope::Association => {
            let id = codes.association_ids.get(code).copied()?;
            if association.is_some_and(|a| a != id) {
                return None;
            }
            filter.associations = Some(vec![id]);
        }
        AlertScope::Region => filter.regions = Some(vec![codes.region_ids.get(code).copied()?]),
        AlertScope::Segment => {
            filter.segments = Some(vec![Segment::ALL.iter().copied().find(|s| s.as_str() == code)?]);
        }
    }
    Some(filter)
}

/// Association and region codes: all of them when a rule's scope code needs them, else one by one for the events
/// written (an acceptance among thousands of associations reads the one it raises an alert on).
#[derive(Default)]
pub struct LazyCodes {
    all: Option<Codes>,
    associations: HashMap<i32, String>,
    regions: HashMap<i32, String>,
}

impl LazyCodes {
    async fn get<C: ConnectionTrait>(&mut self, db: &C) -> Result<&Codes, DbErr> {
        if self.all.is_none() {
            self.all = Some(Codes::read(db).await?);
        }
        Ok(self.all.as_ref().expect("read just now"))
    }

    /// The codes of an alert's association and region.
    async fn of<C: ConnectionTrait>(
        &mut self,
        db: &C,
        alert: &alert::Model,
    ) -> Result<(Option<String>, Option<String>), DbErr> {
        if let Some(id) = alert.association_id
            && !self.associations.contains_key(&id)
            && let Some(found) = association::Entity::find_by_id(id).one(db).await?
        {
            self.associations.insert(id, found.code);
        }
        if let Some(id) = alert.region_id
            && !self.regions.contains_key(&id)
            && let Some(found) = region::Entity::find_by_id(id).one(db).await?
        {
            self.regions.insert(id, found.code);
        }
        Ok((
            alert.association_id.and_then(|id| self.associations.get(&id).cloned()),
            alert.region_id.and_then(|id| self.regions.get(&id).cloned()),
        ))
    }
}

/// Association and region codes by id, and back.
#[derive(Default)]
pub struct Codes {
    pub associations: HashMap<i32, String>,
    pub association_ids: HashMap<String, i32>,
    pub regions: HashMap<i32, String>,
    pub region_ids: HashMap<String, i32>,
}

impl Codes {
    pub async fn read<C: ConnectionTrait>(db: &C) -> Result<Codes, DbErr> {
        let mut codes = Codes::default();
        for a in association::Entity::find().all(db).await? {
            codes.association_ids.insert(a.code.clone(), a.id);
            codes.associations.insert(a.id, a.code);
        }
        for r in region::Entity::find().all(db).await? {
            codes.region_ids.insert(r.code.clone(), r.id);
            codes.regions.insert(r.id, r.code);
        }
        Ok(codes)
    }
}

/// Events written by one judgement, to be turned into deliveries.
#[derive(Default)]
struct Outbox {
    events: Vec<(alert_event::Model, AlertFacts)>,
}

/// The alerts standing, by rule, group key and month.
type Standing = HashMap<(i32, String, i32), alert::Model>;

/// Applies one verdict to the rule's alert for the group and month: raise, reopen, update or resolve.
#[allow(clippy::too_many_arguments)]
async fn record<C: ConnectionTrait>(
    db: &C,
    rule: &alert_rule::Model,
    verdict: &Verdict,
    at: DateTime<Utc>,
    released: &BTreeSet<i32>,
    codes: &mut LazyCodes,
    standing: &mut Standing,
    outbox: &mut Outbox,
) -> Result<(), DbErr> {
    let key = group_key(&verdict.key);
    let identity = (rule.id, key.clone(), verdict.month.0);
    let existing = standing.get(&identity).cloned();
    if verdict.raise_only && existing.is_some() {
        return Ok(());
    }
    let open = existing.as_ref().is_some_and(|a| a.status == AlertStatus::Open);
    let kind = match (verdict.breach, &existing, open) {
        (true, None, _) | (true, Some(_), false) => Some(AlertEventKind::AlertRaised),
        (false, Some(_), true) => Some(AlertEventKind::AlertResolved),
        _ => None,
    };
    let model = match existing {
        None if verdict.breach => {
            alert::ActiveModel {
                rule_id: Set(rule.id),
                group_key: Set(key),
                scope: Set(rule.scope),
                association_id: Set(verdict.key.association),
                region_id: Set(verdict.key.region),
                segment: Set(verdict.key.segment.map(|s| s.as_str().to_owned())),
                period: Set(verdict.month.0),
                status: Set(AlertStatus::Open),
                value: Set(Some(verdict.value)),
                threshold: Set(rule.threshold),
                public: Set(verdict.public),
                raised_at: Set(at),
                resolved_at: Set(None),
                updated_at: Set(at),
                ..Default::default()
            }
            .insert(db)
            .await?
        }
        None => return Ok(()),
        Some(existing) => {
            let mut active: alert::ActiveModel = existing.clone().into();
            active.value = Set(Some(verdict.value));
            active.public = Set(verdict.public);
            active.threshold = Set(rule.threshold);
            active.updated_at = Set(at);
            match kind {
                Some(AlertEventKind::AlertRaised) => {
                    active.status = Set(AlertStatus::Open);
                    active.resolved_at = Set(None);
                }
                Some(AlertEventKind::AlertResolved) => {
                    active.status = Set(AlertStatus::Resolved);
                    active.resolved_at = Set(Some(at));
                }
                None if existing.value == Some(verdict.value) && existing.public == verdict.public => return Ok(()),
                None => {}
            }
            active.update(db).await?
        }
    };
    standing.insert(identity, model.clone());
    let Some(kind) = kind else { return Ok(()) };
    let uid = event_uid();
    let (association_code, region_code) = codes.of(db, &model).await?;
    let payload = super::payload(
        &uid,
        kind,
        at,
        &model,
        rule,
        association_code.as_deref(),
        region_code.as_deref(),
    );
    let event = alert_event::ActiveModel {
        uid: Set(uid),
        alert_id: Set(model.id),
        kind: Set(kind),
        occurred_at: Set(at),
        payload: Set(payload.to_string()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let facts = AlertFacts {
        association_id: model.association_id,
        sector: model.scope == AlertScope::Sector,
        public: model.public,
        released: released.contains(&model.period),
    };
    outbox.events.push((event, facts));
    Ok(())
}

/// A new event identifier: `evt_` and 128 random bits in hex.
fn event_uid() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("evt_{hex}")
}

impl Outbox {
    /// One pending delivery per event and active webhook whose owner may see the alert and asked for its kind.
    async fn deliver<C: ConnectionTrait>(self, db: &C) -> Result<usize, DbErr> {
        if self.events.is_empty() {
            return Ok(0);
        }
        if db.get_database_backend() == sea_orm::DbBackend::Postgres {
            // Delivered to every listening process when this transaction commits (`super::hub`).
            // The channel is a constant of ours: no value of a client's reaches this text.
            db.execute_unprepared(&format!("SELECT pg_notify('{}', '')", crate::db::OUTBOX_CHANNEL))
                .await?;
        }
        let hooks = active_webhooks(db).await?;
        let now = Utc::now();
        for (event, facts) in &self.events {
            for (hook, owner) in &hooks {
                let wanted = hook.events.split(',').any(|k| k.trim() == event.kind.as_str());
                if wanted && Scope::of_partner(owner).sees_alert(facts) {
                    webhook_delivery::ActiveModel {
                        webhook_id: Set(hook.id),
                        event_id: Set(event.id),
                        status: Set(DeliveryStatus::Pending),
                        attempts: Set(0),
                        next_attempt_at: Set(now),
                        delivered_at: Set(None),
                        ..Default::default()
                    }
                    .insert(db)
                    .await?;
                }
            }
        }
        Ok(self.events.len())
    }
}

/// Active webhooks with their owners.
async fn active_webhooks<C: ConnectionTrait>(db: &C) -> Result<Vec<(webhook::Model, partner::Model)>, DbErr> {
    let hooks = webhook::Entity::find()
        .filter(webhook::Column::Active.eq(true))
        .all(db)
        .await?;
    if hooks.is_empty() {
        return Ok(Vec::new());
    }
    let owners: HashMap<i32, partner::Model> = partner::Entity::find()
        .filter(partner::Column::Id.is_in(hooks.iter().map(|h| h.partner_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    Ok(hooks
        .into_iter()
        .filter_map(|h| owners.get(&h.partner_id).cloned().map(|p| (h, p)))
        .collect())
}
