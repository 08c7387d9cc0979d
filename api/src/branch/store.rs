//! Reads of the branch registry.

use crate::error::ApiResult;
use crate::pagination::{Page, PageArgs};
use crate::store::{self, Keyed};
use entity::branch::{Column, Entity, Model};
use entity::enums::{Area, BranchKind};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Select};

impl Keyed for Entity {
    fn key(model: &Model) -> i64 {
        model.id as i64
    }
}

/// Conditions on branches, with codes already turned into ids.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct BranchConditions {
    pub associations: Option<Vec<i32>>,
    pub regions: Option<Vec<i32>>,
    pub kinds: Option<Vec<BranchKind>>,
    pub areas: Option<Vec<Area>>,
    pub open_on: Option<sea_orm::prelude::Date>,
}

pub fn select(c: &BranchConditions) -> Select<Entity> {
    let mut condition = Condition::all();
    if let Some(ids) = &c.associations {
        condition = condition.add(Column::AssociationId.is_in(ids.clone()));
    }
    if let Some(ids) = &c.regions {
        condition = condition.add(Column::RegionId.is_in(ids.clone()));
    }
    if let Some(kinds) = &c.kinds {
        condition = condition.add(Column::Kind.is_in(kinds.clone()));
    }
    if let Some(areas) = &c.areas {
        condition = condition.add(Column::Area.is_in(areas.clone()));
    }
    if let Some(date) = c.open_on {
        condition = condition.add(Column::OpenedOn.lte(date)).add(
            Condition::any()
                .add(Column::ClosedOn.is_null())
                .add(Column::ClosedOn.gt(date)),
        );
    }
    Entity::find().filter(condition)
}

pub async fn by_code<C: ConnectionTrait>(db: &C, code: &str) -> ApiResult<Model> {
    store::by_code::<Entity, _>(db, Column::Code, "branch", code).await
}

pub async fn list<C: ConnectionTrait>(
    db: &C,
    conditions: &BranchConditions,
    page: &PageArgs,
    with_total: bool,
) -> ApiResult<Page<Model>> {
    store::page(db, select(conditions), page, with_total).await
}
