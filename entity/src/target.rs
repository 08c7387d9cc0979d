//! An association's monthly objective for one measure. A yearly objective is
//! stored as its twelve monthly targets. Amounts are centimes, counts are counts.
use crate::enums::TargetMeasure;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "target")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub association_id: i32,
    pub period: i32,
    pub measure: TargetMeasure,
    pub value: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
