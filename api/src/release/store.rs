//! Reads of releases.

use crate::error::ApiResult;
use crate::pagination::{Page, PageArgs};
use crate::scope::Scope;
use crate::store::{self, Keyed};
use entity::release::{Entity, Model};
use sea_orm::{ConnectionTrait, EntityTrait};

impl Keyed for Entity {
    fn key(model: &Model) -> i64 {
        model.id as i64
    }
}

pub async fn list<C: ConnectionTrait>(
    db: &C,
    _scope: &Scope,
    page: &PageArgs,
    with_total: bool,
) -> ApiResult<Page<Model>> {
    store::page(db, Entity::find(), page, with_total).await
}
