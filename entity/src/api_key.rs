//! A partner's API key. Only the SHA-256 hash of the key is stored; the prefix
//! identifies the key in lists and in a leak report.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_key")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub partner_id: i32,
    #[sea_orm(unique)]
    pub prefix: String,
    #[sea_orm(unique)]
    pub hash: String,
    pub label: String,
    /// Space-separated scopes.
    pub scopes: String,
    pub created_at: DateTimeUtc,
    pub expires_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    pub last_used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The partner the key belongs to.
    #[sea_orm(
        belongs_to = "super::partner::Entity",
        from = "Column::PartnerId",
        to = "super::partner::Column::Id"
    )]
    Partner,
}

impl Related<super::partner::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Partner.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
