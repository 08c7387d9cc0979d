//! Reads of the region table.

use crate::error::ApiResult;
use crate::pagination::{Page, PageArgs};
use crate::store::{self, Keyed};
use entity::region::{Column, Entity, Model};
use sea_orm::{ConnectionTrait, EntityTrait};

impl Keyed for Entity {
    fn key(model: &Model) -> i64 {
        model.id as i64
    }
}

pub async fn by_code<C: ConnectionTrait>(db: &C, code: &str) -> ApiResult<Model> {
    store::by_code::<Entity, _>(db, Column::Code, "region", code).await
}

pub async fn list<C: ConnectionTrait>(db: &C, page: &PageArgs, with_total: bool) -> ApiResult<Page<Model>> {
    store::page(db, Entity::find(), page, with_total).await
}

pub async fn ids_for_codes<C: ConnectionTrait>(db: &C, codes: &[String]) -> ApiResult<Vec<i32>> {
    store::ids_for_codes::<Entity, _>(db, Column::Code, Column::Id, "region", codes).await
}

/// Turns an optional list of region codes into ids, refusing unknown codes.
pub async fn resolve<C: ConnectionTrait>(db: &C, codes: &Option<Vec<String>>) -> ApiResult<Option<Vec<i32>>> {
    match codes {
        Some(codes) => Ok(Some(ids_for_codes(db, codes).await?)),
        None => Ok(None),
    }
}
