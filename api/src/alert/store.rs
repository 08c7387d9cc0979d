//! Reads of alerts and rules, and the observatory's changes to rules. Plain functions: a connection and a scope in,
//! models out.

use super::rules::{Judged, dimension, judged};
use super::{AlertFilter, AlertRuleInput, AlertView};
use crate::error::{ApiError, ApiResult, conflict_if_duplicate};
use crate::pagination::{Page, PageArgs};
use crate::scope::Scope;
use crate::store::{self, Keyed};
use entity::enums::{AlertScope, AlertSeverity, AlertStatus};
use entity::{alert, alert_rule};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use std::collections::HashMap;

impl Keyed for alert::Entity {
    fn key(model: &alert::Model) -> i64 {
        model.id
    }
}

/// An alert filter with its codes resolved to ids: the same conditions for the `alerts` list (in SQL) and the
/// `alertRaised` subscription (in memory).
#[derive(Debug, Clone, Default)]
pub struct Conditions {
    pub status: Option<AlertStatus>,
    pub severities: Option<Vec<AlertSeverity>>,
    pub rules: Option<Vec<String>>,
    pub scopes: Option<Vec<AlertScope>>,
    pub associations: Option<Vec<i32>>,
    pub regions: Option<Vec<i32>>,
    pub from: Option<i32>,
    pub to: Option<i32>,
}

impl Conditions {
    /// Resolves the filter's codes (an unknown rule, association or region code answers `BAD_USER_INPUT` naming it)
    /// and months.
    pub async fn resolve<C: ConnectionTrait>(db: &C, filter: AlertFilter) -> ApiResult<Conditions> {
        if let Some(codes) = &filter.rules {
            store::ids_for_codes::<alert_rule::Entity, _>(
                db,
                alert_rule::Column::Code,
                alert_rule::Column::Id,
                "alert rule",
                codes,
            )
            .await?;
        }
        let month = |p: Option<crate::scalars::Period>, first: bool| {
            p.map(|p| if first { p.0.first_month().0 } else { p.0.last_month().0 })
        };
        Ok(Conditions {
            status: filter.status.map(Into::into),
            severities: crate::enums::to_db(&filter.severities),
            rules: filter.rules,
            scopes: crate::enums::to_db(&filter.scopes),
            associations: crate::association::store::resolve(db, &filter.associations).await?,
            regions: crate::region::store::resolve(db, &filter.regions).await?,
            from: month(filter.from, true),
            to: month(filter.to, false),
        })
    }

    /// Whether an alert meets the conditions.
    pub fn matches(&self, view: &AlertView) -> bool {
        let (alert, rule) = (&view.alert, &view.rule);
        let within = |list: &Option<Vec<i32>>, value: Option<i32>| {
            list.as_ref().is_none_or(|l| value.is_some_and(|v| l.contains(&v)))
        };
        self.status.is_none_or(|s| s == alert.status)
            && self.severities.as_ref().is_none_or(|l| l.contains(&rule.severity))
            && self.rules.as_ref().is_none_or(|l| l.contains(&rule.code))
            && self.scopes.as_ref().is_none_or(|l| l.contains(&alert.scope))
            && within(&self.associations, alert.association_id)
            && within(&self.regions, alert.region_id)
            && self.from.is_none_or(|m| alert.period >= m)
            && self.to.is_none_or(|m| alert.period <= m)
    }
}

/// Every rule, in code order.
pub async fn rules<C: ConnectionTrait>(db: &C) -> ApiResult<Vec<alert_rule::Model>> {
    Ok(alert_rule::Entity::find()
        .order_by_asc(alert_rule::Column::Code)
        .all(db)
        .await?)
}

/// A page of the alerts `scope` may see that meet the conditions, with their rules.
pub async fn alerts<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    conditions: &Conditions,
    page: &PageArgs,
    with_total: bool,
) -> ApiResult<Page<AlertView>> {
    let mut select = alert::Entity::find();
    if let Some(condition) = scope.alerts_condition() {
        select = select.filter(condition);
    }
    if let Some(status) = conditions.status {
        select = select.filter(alert::Column::Status.eq(status));
    }
    if let Some(scopes) = &conditions.scopes {
        select = select.filter(alert::Column::Scope.is_in(scopes.iter().copied()));
    }
    if let Some(ids) = &conditions.associations {
        select = select.filter(alert::Column::AssociationId.is_in(ids.iter().copied()));
    }
    if let Some(ids) = &conditions.regions {
        select = select.filter(alert::Column::RegionId.is_in(ids.iter().copied()));
    }
    if let Some(from) = conditions.from {
        select = select.filter(alert::Column::Period.gte(from));
    }
    if let Some(to) = conditions.to {
        select = select.filter(alert::Column::Period.lte(to));
    }
    if conditions.rules.is_some() || conditions.severities.is_some() {
        let mut rules = alert_rule::Entity::find();
        if let Some(codes) = &conditions.rules {
            rules = rules.filter(alert_rule::Column::Code.is_in(codes.iter().cloned()));
        }
        if let Some(severities) = &conditions.severities {
            rules = rules.filter(alert_rule::Column::Severity.is_in(severities.iter().copied()));
        }
        let ids: Vec<i32> = rules.all(db).await?.into_iter().map(|r| r.id).collect();
        select = select.filter(alert::Column::RuleId.is_in(ids));
    }
    let page = store::page(db, select, page, with_total).await?;
    let rules: HashMap<i32, alert_rule::Model> = alert_rule::Entity::find()
        .filter(alert_rule::Column::Id.is_in(page.items.iter().map(|a| a.rule_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    Ok(page.filter_map(|alert| {
        let rule = rules.get(&alert.rule_id)?.clone();
        Some(AlertView { alert, rule })
    }))
}

/// Checks a new rule: a new code, a measure of the catalogue (or lateness, on associations, by value) that has a
/// breakdown by the scope's dimension, a scope code that exists, a finite threshold.
async fn check_rule<C: ConnectionTrait>(db: &C, input: &AlertRuleInput) -> ApiResult<()> {
    let code_ok = !input.code.is_empty()
        && input.code.len() <= 64
        && input
            .code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if !code_ok {
        return Err(ApiError::bad_input(format!(
            "`code` `{}` must be 1 to 64 capital letters, digits and underscores",
            input.code
        )));
    }
    if input.name.trim().is_empty() || input.name.len() > 200 {
        return Err(ApiError::bad_input(
            "`name` must say what the rule watches, in 1 to 200 characters",
        ));
    }
    if !input.threshold.is_finite() {
        return Err(ApiError::bad_input("`threshold` must be a finite number"));
    }
    let scope: AlertScope = input.scope.into();
    match judged(&input.measure) {
        None => {
            return Err(ApiError::bad_input(format!(
                "`measure` `{}` is neither a field of `IndicatorRow` (see `indicatorCatalog`) nor `{}`",
                input.measure,
                super::rules::LATENESS
            )));
        }
        Some(Judged::Lateness) => {
            if scope != AlertScope::Association || input.comparison != crate::enums::AlertComparison::Value {
                return Err(ApiError::bad_input(format!(
                    "`{}` is judged per association, by value: use scope ASSOCIATION and comparison VALUE",
                    super::rules::LATENESS
                )));
            }
        }
        Some(Judged::Measure(def)) => {
            if let Some(dim) = dimension(scope)
                && !def.dims().contains(&dim)
            {
                return Err(ApiError::bad_input(format!(
                    "{} has no breakdown by {}: choose another scope",
                    def.field,
                    dim.name()
                )));
            }
        }
    }
    if let Some(code) = &input.scope_code {
        let known = match scope {
            AlertScope::Sector => {
                return Err(ApiError::bad_input("a SECTOR rule has no `scopeCode`"));
            }
            AlertScope::Region => crate::region::store::by_code(db, code).await.map(|_| ()),
            AlertScope::Association => crate::association::store::by_code(db, code).await.map(|_| ()),
            AlertScope::Segment => entity::enums::Segment::ALL
                .iter()
                .any(|s| s.as_str() == code)
                .then_some(())
                .ok_or_else(|| ApiError::bad_input(format!("`scopeCode` `{code}` is not a segment"))),
        };
        known?;
    }
    Ok(())
}

/// Creates a rule. Audited.
pub async fn create_rule(
    db: &sea_orm::DatabaseConnection,
    actor: &Scope,
    input: AlertRuleInput,
) -> ApiResult<alert_rule::Model> {
    check_rule(db, &input).await?;
    let txn = crate::db::begin_write(db).await?;
    let code = input.code.clone();
    let model = alert_rule::ActiveModel {
        code: Set(input.code),
        name: Set(input.name.trim().to_owned()),
        measure: Set(input.measure),
        scope: Set(input.scope.into()),
        scope_code: Set(input.scope_code),
        comparison: Set(input.comparison.into()),
        direction: Set(input.direction.into()),
        threshold: Set(input.threshold),
        severity: Set(input.severity.into()),
        active: Set(true),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(conflict_if_duplicate(|| {
        format!("an alert rule `{code}` exists already")
    }))?;
    crate::audit::record(
        &txn,
        actor,
        "alert_rule.create",
        "alert_rule",
        &model.code,
        serde_json::json!({
            "measure": model.measure,
            "scope": model.scope.as_str(),
            "scope_code": model.scope_code,
            "comparison": model.comparison.as_str(),
            "direction": model.direction.as_str(),
            "threshold": model.threshold,
            "severity": model.severity.as_str(),
        }),
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// Turns a rule on or off. Audited.
pub async fn set_rule_active(
    db: &sea_orm::DatabaseConnection,
    actor: &Scope,
    code: &str,
    active: bool,
) -> ApiResult<alert_rule::Model> {
    let txn = crate::db::begin_write(db).await?;
    let rule = store::by_code::<alert_rule::Entity, _>(&txn, alert_rule::Column::Code, "alert rule", code).await?;
    let mut changed: alert_rule::ActiveModel = rule.into();
    changed.active = Set(active);
    let model = changed.update(&txn).await?;
    crate::audit::record(
        &txn,
        actor,
        if active {
            "alert_rule.activate"
        } else {
            "alert_rule.deactivate"
        },
        "alert_rule",
        code,
        serde_json::json!({}),
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}
