//! An association's monthly objective for one measure: over all its regions and activities, or for one region, one
//! economic activity, or both (`region_id`, `activity`). A yearly objective is stored as its twelve monthly targets.
//! Amounts are centimes, counts are counts.
use crate::enums::{Activity, TargetMeasure};
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
    /// The region the objective is for; null: all the association's regions.
    pub region_id: Option<i32>,
    /// The economic activity the objective is for; null: all activities.
    pub activity: Option<Activity>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
