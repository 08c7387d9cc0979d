//! Reads of the association table.

use crate::error::ApiResult;
use crate::pagination::{Page, PageArgs};
use crate::store::{self, Keyed};
use entity::association::{Column, Entity, Model};
use entity::enums::AssociationStatus;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

impl Keyed for Entity {
    fn key(model: &Model) -> i64 {
        model.id as i64
    }
}

pub async fn by_code<C: ConnectionTrait>(db: &C, code: &str) -> ApiResult<Model> {
    store::by_code::<Entity, _>(db, Column::Code, "association", code).await
}

pub async fn list<C: ConnectionTrait>(
    db: &C,
    statuses: &Option<Vec<AssociationStatus>>,
    page: &PageArgs,
    with_total: bool,
) -> ApiResult<Page<Model>> {
    let mut select = Entity::find();
    if let Some(statuses) = statuses {
        select = select.filter(Column::Status.is_in(statuses.clone()));
    }
    store::page(db, select, page, with_total).await
}

/// Turns an optional list of association codes into ids, refusing unknown codes.
pub async fn resolve<C: ConnectionTrait>(db: &C, codes: &Option<Vec<String>>) -> ApiResult<Option<Vec<i32>>> {
    match codes {
        Some(codes) => Ok(Some(
            store::ids_for_codes::<Entity, _>(db, Column::Code, Column::Id, "association", codes).await?,
        )),
        None => Ok(None),
    }
}

/// Every association's code by id.
pub async fn codes<C: ConnectionTrait>(db: &C) -> ApiResult<std::collections::HashMap<i32, String>> {
    use sea_orm::EntityTrait;
    Ok(entity::association::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.code))
        .collect())
}
