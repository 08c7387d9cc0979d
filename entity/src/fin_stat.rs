//! One line of an association's accepted quarterly financial statement: money in MAD centimes, counts in units.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fin_stat")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub association_id: i32,
    /// The quarter, as its last month (`yyyymm`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub period: i32,
    /// The line's code in the chart of accounts.
    #[sea_orm(primary_key, auto_increment = false)]
    pub line: String,
    pub value: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
