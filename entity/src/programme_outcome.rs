//! Beneficiaries and grants of a programme by sector and gender (and region
//! when known). Grant amounts are centimes.
use crate::enums::{OutcomeGender, Sector};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "programme_outcome")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub programme_id: i32,
    pub sector: Sector,
    pub gender: OutcomeGender,
    pub region_id: Option<i32>,
    pub beneficiaries: i32,
    pub grant_amount: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
