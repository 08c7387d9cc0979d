//! Reads of the branch registry.

use crate::error::ApiResult;
use crate::pagination::{Page, PageArgs};
use crate::store::{self, Keyed};
use entity::branch::{Column, Entity, Model};
use entity::enums::{Area, BranchKind};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};

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

/// The same page with the association of each branch, read in the same statement (a join).
pub async fn list_with_associations<C: ConnectionTrait>(
    db: &C,
    conditions: &BranchConditions,
    page: &PageArgs,
    with_total: bool,
) -> ApiResult<(Page<Model>, Vec<entity::association::Model>)> {
    let total = if with_total {
        Some(select(conditions).count(db).await?)
    } else {
        None
    };
    let mut rows = select(conditions);
    if let Some(after) = page.after {
        rows = rows.filter(Column::Id.gt(after));
    }
    let rows = rows
        .find_also_related(entity::association::Entity)
        .order_by_asc(Column::Id)
        .limit(page.first + 1)
        .all(db)
        .await?;
    let (branches, associations): (Vec<Model>, Vec<Option<entity::association::Model>>) = rows.into_iter().unzip();
    Ok((
        Page::from_rows(branches, page, total),
        associations.into_iter().flatten().collect(),
    ))
}

/// Mean radius of the Earth, in km.
const EARTH_RADIUS_KM: f64 = 6_371.008_8;

/// Great-circle distance between two points given in decimal degrees, in km (haversine).
pub fn distance_km(from: (f64, f64), to: (f64, f64)) -> f64 {
    let (lat1, lon1) = (from.0.to_radians(), from.1.to_radians());
    let (lat2, lon2) = (to.0.to_radians(), to.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// The `first` branches within `radius_km` of a point, nearest first (ties by registration order), with their
/// distance. One statement: a bounding box around the point in SQL (the same on SQLite and PostgreSQL, with no
/// spatial extension), the exact distance in Rust.
pub async fn near<C: ConnectionTrait>(
    db: &C,
    conditions: &BranchConditions,
    point: (f64, f64),
    radius_km: f64,
    first: usize,
) -> ApiResult<Vec<(Model, f64)>> {
    let (latitude, longitude) = point;
    let degrees_of_latitude = radius_km / (EARTH_RADIUS_KM * std::f64::consts::PI / 180.0);
    let mut select = select(conditions)
        .filter(Column::Latitude.between(latitude - degrees_of_latitude, latitude + degrees_of_latitude));
    // Degrees of longitude shrink towards the poles; near a pole, or across the antimeridian, every longitude.
    let cos = (latitude.abs() + degrees_of_latitude).min(90.0).to_radians().cos();
    if cos > 0.01 {
        let degrees_of_longitude = degrees_of_latitude / cos;
        if longitude - degrees_of_longitude >= -180.0 && longitude + degrees_of_longitude <= 180.0 {
            select = select
                .filter(Column::Longitude.between(longitude - degrees_of_longitude, longitude + degrees_of_longitude));
        }
    }
    let mut found: Vec<(Model, f64)> = select
        .all(db)
        .await?
        .into_iter()
        .map(|branch| {
            let distance = distance_km(point, (branch.latitude, branch.longitude));
            (branch, distance)
        })
        .filter(|(_, distance)| *distance <= radius_km)
        .collect();
    found.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.id.cmp(&b.0.id)));
    found.truncate(first);
    Ok(found)
}
