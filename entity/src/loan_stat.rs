//! Monthly loan and portfolio figures of one association, region, segment,
//! gender and area. Amounts are MAD centimes (exact integers on every backend).
use crate::enums::{Area, Gender, Segment};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "loan_stat")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub association_id: i32,
    pub region_id: i32,
    pub period: i32,
    pub segment: Segment,
    pub gender: Gender,
    pub area: Area,
    /// Flow: loans disbursed in the month.
    pub disbursed_count: i64,
    /// Flow: amount disbursed in the month, centimes.
    pub disbursed_amount: i64,
    /// Stock: loans outstanding at month end.
    pub active_loans: i64,
    /// Stock: gross outstanding portfolio at month end, centimes.
    pub outstanding_amount: i64,
    /// Stock: outstanding balance of loans more than 30 days overdue, centimes.
    pub par30_amount: i64,
    /// Stock: outstanding balance of loans more than 90 days overdue, centimes.
    pub par90_amount: i64,
    /// Flow: amount written off in the month, centimes.
    pub write_off_amount: i64,
    /// Stock: outstanding balance of rescheduled loans at month end, centimes.
    pub rescheduled_amount: i64,
    /// Flow: repayments falling due in the month, centimes.
    pub repayments_due: i64,
    /// Flow: repayments collected in the month, centimes.
    pub repayments_collected: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
