//! A microcredit association (AMC) that reports to the observatory.
use crate::enums::AssociationStatus;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "association")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub code: String,
    pub name_fr: String,
    pub name_ar: String,
    /// English name; `None` until registered.
    pub name_en: Option<String>,
    pub founded_year: i32,
    pub status: AssociationStatus,
    pub head_office_city: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
