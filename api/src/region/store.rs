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

/// The regions' codes and ids, read once and then answered from memory: the 12 regions are reference data, seeded
/// by a migration and never written by the service. One per schema (so one per database).
#[derive(Default)]
pub struct Known(tokio::sync::OnceCell<Vec<(String, i32)>>);

impl Known {
    /// Turns an optional list of region codes into ids, refusing unknown codes, as `resolve` does without a
    /// statement once the table is read.
    pub async fn resolve<C: ConnectionTrait>(
        &self,
        db: &C,
        codes: &Option<Vec<String>>,
    ) -> ApiResult<Option<Vec<i32>>> {
        let Some(codes) = codes else { return Ok(None) };
        let known = self
            .0
            .get_or_try_init(|| async {
                let rows = Entity::find().all(db).await?;
                Ok::<_, crate::error::ApiError>(rows.into_iter().map(|row| (row.code, row.id)).collect())
            })
            .await?;
        store::ids_of("region", codes, known.iter().map(|(code, id)| (code.as_str(), *id))).map(Some)
    }
}
