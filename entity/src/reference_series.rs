//! A value of one of the observatory's reference series (annual inflation, the market rate of funds), with where it
//! comes from and when it was read.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "reference_series")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// `INFLATION` or `MARKET_RATE_FUNDS`.
    pub code: String,
    pub year: i32,
    /// A rate as a decimal (0.007 is 0.7 %).
    pub value: f64,
    pub source: String,
    /// The day the value was read from its source.
    pub vintage: Date,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
