//! Monthly client figures of one association, region, segment, gender and area.
//! `period` is the month as `yyyymm` (202012 for December 2020).
use crate::enums::{Area, Gender, Segment};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "client_stat")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub association_id: i32,
    pub region_id: i32,
    pub period: i32,
    pub segment: Segment,
    pub gender: Gender,
    pub area: Area,
    /// Stock: clients with a loan outstanding at month end.
    pub active_clients: i64,
    /// Flow: clients who took their first loan during the month.
    pub new_clients: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
