//! A support programme run by the centre with its partners.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "programme")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub code: String,
    pub name_fr: String,
    pub name_ar: String,
    pub name_en: String,
    pub funder: String,
    pub partners: String,
    pub edition: Option<i32>,
    pub year: i32,
    pub candidates: Option<i32>,
    pub description: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
