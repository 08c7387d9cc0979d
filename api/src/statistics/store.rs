//! Reads of the monthly statistics tables.

use crate::error::{ApiError, ApiResult};
use crate::period::Month;
use crate::scope::{Scope, rows_condition};
use crate::store::Keyed;
use crate::vintage::Vintage;
use entity::enums::{Activity, Area, Gender, Segment, StaffCategory, TargetMeasure};
use entity::{activity_stat, client_stat, loan_stat, staff_stat, target};
use sea_orm::sea_query::{Alias, Expr, ExprTrait};
use sea_orm::{Condition, EntityTrait, QueryFilter, QueryTrait, Select};

macro_rules! keyed {
    ($($entity:path),+) => {$(
        impl Keyed for $entity {
            fn key(model: &<$entity as EntityTrait>::Model) -> i64 {
                model.id
            }
        }
    )+};
}
keyed!(
    activity_stat::Entity,
    client_stat::Entity,
    loan_stat::Entity,
    staff_stat::Entity,
    target::Entity
);

/// An inclusive range of months; either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct MonthRange {
    pub from: Option<Month>,
    pub to: Option<Month>,
}

impl MonthRange {
    pub fn new(from: Option<Month>, to: Option<Month>) -> ApiResult<Self> {
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            return Err(ApiError::bad_input(format!("`from` ({from}) is after `to` ({to})")));
        }
        Ok(MonthRange { from, to })
    }

    fn condition(&self) -> Condition {
        let mut condition = Condition::all();
        if let Some(from) = self.from {
            condition = condition.add(column("period").gte(from.0));
        }
        if let Some(to) = self.to {
            condition = condition.add(column("period").lte(to.0));
        }
        condition
    }
}

fn column(name: &'static str) -> Expr {
    Expr::col(Alias::new(name))
}

fn one_of<T: Copy>(
    condition: Condition,
    name: &'static str,
    values: &Option<Vec<T>>,
    text: fn(T) -> &'static str,
) -> Condition {
    match values {
        Some(values) => condition.add(column(name).is_in(values.iter().map(|v| text(*v)))),
        None => condition,
    }
}

fn ids(condition: Condition, name: &'static str, values: &Option<Vec<i32>>) -> Condition {
    match values {
        Some(values) => condition.add(column(name).is_in(values.iter().copied())),
        None => condition,
    }
}

/// Conditions on client and loan cells, with codes already turned into ids.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct CellConditions {
    pub associations: Option<Vec<i32>>,
    pub regions: Option<Vec<i32>>,
    pub months: MonthRange,
    pub segments: Option<Vec<Segment>>,
    pub genders: Option<Vec<Gender>>,
    pub areas: Option<Vec<Area>>,
}

/// The rows of a per-association monthly table the scope may read.
fn visible(scope: &Scope) -> Condition {
    rows_condition(scope.row_access(), None)
}

/// Selects client or loan cells (both tables share the dimension columns).
pub fn select_cells<E: EntityTrait>(scope: &Scope, c: &CellConditions) -> Select<E> {
    let mut condition = c.months.condition().add(visible(scope));
    condition = ids(condition, "association_id", &c.associations);
    condition = ids(condition, "region_id", &c.regions);
    condition = one_of(condition, "segment", &c.segments, Segment::as_str);
    condition = one_of(condition, "gender", &c.genders, Gender::as_str);
    condition = one_of(condition, "area", &c.areas, Area::as_str);
    E::find().filter(condition)
}

/// Conditions on loans by activity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ActivityConditions {
    pub associations: Option<Vec<i32>>,
    pub regions: Option<Vec<i32>>,
    pub months: MonthRange,
    pub activities: Option<Vec<Activity>>,
}

pub fn select_activities(scope: &Scope, c: &ActivityConditions) -> Select<activity_stat::Entity> {
    let mut condition = c.months.condition().add(visible(scope));
    condition = ids(condition, "association_id", &c.associations);
    condition = ids(condition, "region_id", &c.regions);
    condition = one_of(condition, "activity", &c.activities, Activity::as_str);
    activity_stat::Entity::find().filter(condition)
}

/// Conditions on staff figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct StaffConditions {
    pub associations: Option<Vec<i32>>,
    pub months: MonthRange,
    pub categories: Option<Vec<StaffCategory>>,
    pub genders: Option<Vec<Gender>>,
}

pub fn select_staff(scope: &Scope, c: &StaffConditions) -> Select<staff_stat::Entity> {
    let mut condition = c.months.condition().add(visible(scope));
    condition = ids(condition, "association_id", &c.associations);
    condition = one_of(condition, "category", &c.categories, StaffCategory::as_str);
    condition = one_of(condition, "gender", &c.genders, Gender::as_str);
    staff_stat::Entity::find().filter(condition)
}

/// Conditions on targets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TargetConditions {
    pub associations: Option<Vec<i32>>,
    pub months: MonthRange,
    pub measures: Option<Vec<TargetMeasure>>,
}

pub fn select_targets(scope: &Scope, c: &TargetConditions) -> Select<target::Entity> {
    let mut condition = c.months.condition().add(visible(scope));
    condition = ids(condition, "association_id", &c.associations);
    condition = one_of(condition, "measure", &c.measures, TargetMeasure::as_str);
    target::Entity::find().filter(condition)
}

/// A selection of client, loan or staff rows read as the data stood at `vintage`: the fact table replaced by its
/// state then, and only the months released then for callers who see released months.
pub fn as_of<E: EntityTrait>(select: Select<E>, scope: &Scope, vintage: &Vintage) -> Select<E> {
    let table = E::default().table_name();
    let mut select = select;
    select = select.filter(rows_condition(scope.row_access(), Some(&vintage.released)));
    if !vintage.replaced.is_empty() {
        QueryTrait::query(&mut select).from_clear().from_subquery(
            crate::vintage::facts(crate::facts::Facts::of_table(table).expect("a fact table"), vintage),
            Alias::new(table),
        );
    }
    select
}
