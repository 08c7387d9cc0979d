//! The branch registry: fixed agencies and mobile branches of each association.
//! A branch counts at a date when it opened on or before it and has not closed.
use crate::enums::{Area, BranchKind};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "branch")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub code: String,
    pub association_id: i32,
    pub region_id: i32,
    pub name: String,
    pub kind: BranchKind,
    pub area: Area,
    pub city: String,
    pub latitude: f64,
    pub longitude: f64,
    pub opened_on: Date,
    pub closed_on: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The association that runs the branch.
    #[sea_orm(
        belongs_to = "super::association::Entity",
        from = "Column::AssociationId",
        to = "super::association::Column::Id"
    )]
    Association,
}

impl Related<super::association::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Association.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
