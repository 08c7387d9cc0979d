//! Reads of programmes and their outcomes.

use crate::error::ApiResult;
use crate::pagination::{Page, PageArgs};
use crate::store::{self, Keyed};
use entity::enums::{OutcomeGender, Sector};
use entity::{programme, programme_outcome};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Select};

impl Keyed for programme::Entity {
    fn key(model: &programme::Model) -> i64 {
        model.id as i64
    }
}

impl Keyed for programme_outcome::Entity {
    fn key(model: &programme_outcome::Model) -> i64 {
        model.id as i64
    }
}

pub async fn by_code<C: ConnectionTrait>(db: &C, code: &str) -> ApiResult<programme::Model> {
    store::by_code::<programme::Entity, _>(db, programme::Column::Code, "programme", code).await
}

pub async fn list<C: ConnectionTrait>(
    db: &C,
    year: Option<i32>,
    page: &PageArgs,
    with_total: bool,
) -> ApiResult<Page<programme::Model>> {
    let mut select = programme::Entity::find();
    if let Some(year) = year {
        select = select.filter(programme::Column::Year.eq(year));
    }
    store::page(db, select, page, with_total).await
}

/// Turns an optional list of programme codes into ids, refusing unknown codes.
pub async fn resolve<C: ConnectionTrait>(db: &C, codes: &Option<Vec<String>>) -> ApiResult<Option<Vec<i32>>> {
    match codes {
        Some(codes) => Ok(Some(
            store::ids_for_codes::<programme::Entity, _>(
                db,
                programme::Column::Code,
                programme::Column::Id,
                "programme",
                codes,
            )
            .await?,
        )),
        None => Ok(None),
    }
}

/// Conditions on programme outcomes, with codes already turned into ids.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct OutcomeConditions {
    pub programmes: Option<Vec<i32>>,
    pub regions: Option<Vec<i32>>,
    pub sectors: Option<Vec<Sector>>,
    pub genders: Option<Vec<OutcomeGender>>,
}

pub fn select_outcomes(c: &OutcomeConditions) -> Select<programme_outcome::Entity> {
    use programme_outcome::Column;
    let mut condition = Condition::all();
    if let Some(ids) = &c.programmes {
        condition = condition.add(Column::ProgrammeId.is_in(ids.clone()));
    }
    if let Some(ids) = &c.regions {
        condition = condition.add(Column::RegionId.is_in(ids.clone()));
    }
    if let Some(sectors) = &c.sectors {
        condition = condition.add(Column::Sector.is_in(sectors.clone()));
    }
    if let Some(genders) = &c.genders {
        condition = condition.add(Column::Gender.is_in(genders.clone()));
    }
    programme_outcome::Entity::find().filter(condition)
}

pub async fn list_outcomes<C: ConnectionTrait>(
    db: &C,
    conditions: &OutcomeConditions,
    page: &PageArgs,
    with_total: bool,
) -> ApiResult<Page<programme_outcome::Model>> {
    store::page(db, select_outcomes(conditions), page, with_total).await
}
