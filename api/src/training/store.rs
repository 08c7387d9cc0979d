//! Reads of training actions.

use crate::error::ApiResult;
use crate::pagination::{Page, PageArgs};
use crate::store::{self, Keyed};
use entity::enums::{Delivery, TrainingAudience, TrainingFormat};
use entity::training_action::{Column, Entity, Model};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Select};

impl Keyed for Entity {
    fn key(model: &Model) -> i64 {
        model.id as i64
    }
}

/// Conditions on training actions, with codes already turned into ids.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TrainingConditions {
    pub year: Option<i32>,
    pub formats: Option<Vec<TrainingFormat>>,
    pub audiences: Option<Vec<TrainingAudience>>,
    pub deliveries: Option<Vec<Delivery>>,
    pub programmes: Option<Vec<i32>>,
    pub regions: Option<Vec<i32>>,
}

pub fn select(c: &TrainingConditions) -> Select<Entity> {
    let mut condition = Condition::all();
    if let Some(year) = c.year {
        let first = sea_orm::prelude::Date::from_ymd_opt(year, 1, 1);
        let last = sea_orm::prelude::Date::from_ymd_opt(year, 12, 31);
        match (first, last) {
            (Some(first), Some(last)) => condition = condition.add(Column::StartsOn.between(first, last)),
            _ => condition = condition.add(Column::Id.lt(0)),
        }
    }
    if let Some(v) = &c.formats {
        condition = condition.add(Column::Format.is_in(v.clone()));
    }
    if let Some(v) = &c.audiences {
        condition = condition.add(Column::Audience.is_in(v.clone()));
    }
    if let Some(v) = &c.deliveries {
        condition = condition.add(Column::Delivery.is_in(v.clone()));
    }
    if let Some(v) = &c.programmes {
        condition = condition.add(Column::ProgrammeId.is_in(v.clone()));
    }
    if let Some(v) = &c.regions {
        condition = condition.add(Column::RegionId.is_in(v.clone()));
    }
    Entity::find().filter(condition)
}

pub async fn by_code<C: ConnectionTrait>(db: &C, code: &str) -> ApiResult<Model> {
    store::by_code::<Entity, _>(db, Column::Code, "training action", code).await
}

pub async fn list<C: ConnectionTrait>(
    db: &C,
    conditions: &TrainingConditions,
    page: &PageArgs,
    with_total: bool,
) -> ApiResult<Page<Model>> {
    store::page(db, select(conditions), page, with_total).await
}
