//! A quarter whose financial statements the observatory has released to partners.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "quarter_release")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The quarter, as its last month (`yyyymm`).
    #[sea_orm(unique)]
    pub period: i32,
    pub released_at: DateTimeUtc,
    pub released_by: Option<i32>,
    pub note: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
