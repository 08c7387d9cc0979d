//! A training action of the centre. Person-days are stored as reported and
//! never recomputed from days and participants.
use crate::enums::{Delivery, TrainingAudience, TrainingFormat};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "training_action")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub code: String,
    pub format: TrainingFormat,
    pub audience: TrainingAudience,
    pub topic: String,
    pub delivery: Delivery,
    pub starts_on: Date,
    pub ends_on: Date,
    pub programme_id: Option<i32>,
    pub region_id: Option<i32>,
    pub training_days: i32,
    pub participants: i32,
    pub person_days: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
