//! Month-end headcount of one association by category and gender.
use crate::enums::{Gender, StaffCategory};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_stat")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub association_id: i32,
    pub period: i32,
    pub category: StaffCategory,
    pub gender: Gender,
    pub headcount: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
