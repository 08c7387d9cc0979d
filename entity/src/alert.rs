//! One rule's finding on one group and month: raised once, resolved when the value comes back.
use crate::enums::{AlertScope, AlertStatus};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "alert")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub rule_id: i32,
    /// `SECTOR`, `REGION:<id>`, `ASSOCIATION:<id>` or `SEGMENT:<code>`: with the rule and month, the alert's identity.
    pub group_key: String,
    /// The rule's scope when the alert was raised.
    pub scope: AlertScope,
    pub association_id: Option<i32>,
    pub region_id: Option<i32>,
    pub segment: Option<String>,
    pub period: i32,
    pub status: AlertStatus,
    /// The compared quantity when last evaluated (the value, or its change).
    pub value: Option<f64>,
    pub threshold: f64,
    /// The public may see it: the figures it compares are not hidden from the public.
    pub public: bool,
    pub raised_at: DateTimeUtc,
    pub resolved_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
