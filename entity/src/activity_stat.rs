//! Monthly loan figures of one association, region and economic activity financed. Amounts are MAD centimes. For
//! each region and month, the activities' figures add up to the loans table's (checked when a report is accepted).
use crate::enums::Activity;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "activity_stat")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub association_id: i32,
    pub region_id: i32,
    pub period: i32,
    pub activity: Activity,
    pub disbursed_count: i64,
    pub disbursed_amount: i64,
    pub active_loans: i64,
    pub outstanding_amount: i64,
    pub par30_amount: i64,
    pub repayments_due: i64,
    pub repayments_collected: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
