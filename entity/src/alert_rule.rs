//! A condition on a measure that raises alerts: the measure, the groups it is judged on, the comparison, the
//! threshold and the severity.
use crate::enums::{AlertComparison, AlertDirection, AlertScope, AlertSeverity};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "alert_rule")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    /// A catalogue measure's field name (`par30Rate`), or `reportLateness`.
    pub measure: String,
    /// The groups the measure is judged on.
    pub scope: AlertScope,
    /// One region, association or segment code the rule is limited to.
    pub scope_code: Option<String>,
    pub comparison: AlertComparison,
    pub direction: AlertDirection,
    pub threshold: f64,
    pub severity: AlertSeverity,
    pub active: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
