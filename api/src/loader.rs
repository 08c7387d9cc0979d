//! The per-request DataLoader: batches look-ups by id and per-parent pages so
//! that a nested list costs one statement per relation hop, whatever its size.

use crate::error::ApiError;
use crate::pagination::{Page, PageArgs};
use crate::scope::Scope;
use crate::store::{self, Keyed};
use async_graphql::dataloader::Loader;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter, Select};
use std::collections::HashMap;
use std::hash::Hash;
use std::marker::PhantomData;

/// The loader of one request. It keeps what it loaded for the rest of the request, and takes rows a statement read
/// with their parents (a page of branches joined to their associations) so that they cost no statement of their own.
pub type RequestLoader = async_graphql::dataloader::DataLoader<DbLoader, async_graphql::dataloader::HashMapCache>;

/// The loader of one request: `spawn` runs its batch tasks.
pub fn loader<S, R>(db: DatabaseConnection, scope: Scope, spawn: S) -> RequestLoader
where
    S: Fn(futures_util::future::BoxFuture<'static, ()>) -> R + Send + Sync + 'static,
{
    async_graphql::dataloader::DataLoader::with_cache(
        DbLoader { db, scope },
        spawn,
        async_graphql::dataloader::HashMapCache::default(),
    )
}

/// Loads rows for one request, with that request's scope.
pub struct DbLoader {
    pub db: DatabaseConnection,
    pub scope: Scope,
}

/// An entity that can be loaded by id in batches.
pub trait ById: Keyed {
    fn id_column() -> Self::Column;
}

impl ById for entity::association::Entity {
    fn id_column() -> entity::association::Column {
        entity::association::Column::Id
    }
}

impl ById for entity::region::Entity {
    fn id_column() -> entity::region::Column {
        entity::region::Column::Id
    }
}

impl ById for entity::programme::Entity {
    fn id_column() -> entity::programme::Column {
        entity::programme::Column::Id
    }
}

/// Key of a row loaded by id.
pub struct Id<E>(pub i32, PhantomData<fn() -> E>);

impl<E> Id<E> {
    pub fn new(id: i32) -> Self {
        Id(id, PhantomData)
    }
}
impl<E> Clone for Id<E> {
    fn clone(&self) -> Self {
        Id::new(self.0)
    }
}
impl<E> PartialEq for Id<E> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl<E> Eq for Id<E> {}
impl<E> Hash for Id<E> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state)
    }
}

impl<E> Loader<Id<E>> for DbLoader
where
    E: ById + 'static,
    E::Model: FromQueryResult + Send + Sync + Clone,
{
    type Value = E::Model;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Id<E>]) -> Result<HashMap<Id<E>, E::Model>, Self::Error> {
        let rows = E::find()
            .filter(E::id_column().is_in(keys.iter().map(|k| k.0)))
            .all(&self.db)
            .await
            .map_err(ApiError::from)?;
        Ok(rows.into_iter().map(|m| (Id::new(E::key(&m) as i32), m)).collect())
    }
}

/// The row with this id, through the request's loader. A missing row is an
/// internal error: ids come from foreign keys.
pub async fn by_id<E>(ctx: &async_graphql::Context<'_>, id: i32, what: &str) -> async_graphql::Result<E::Model>
where
    E: ById + 'static,
    E::Model: FromQueryResult + Send + Sync + Clone,
{
    let model = ctx.data_unchecked::<RequestLoader>().load_one(Id::<E>::new(id)).await?;
    Ok(model.ok_or_else(|| ApiError::Internal(format!("{what} {id} is referenced but missing")))?)
}

/// A child list of a parent row (for example an association's branches).
pub trait Children: Send + Sync + 'static {
    type Entity: Keyed;
    /// Filters on the child list, shared by all parents of one request field.
    type Filter: Clone + Hash + Eq + Send + Sync + 'static;
    /// Column of the child table that holds the parent's id.
    const PARENT: &'static str;
    fn select(scope: &Scope, filter: &Self::Filter) -> Select<Self::Entity>;
}

/// Key of one parent's page of a child list.
pub struct ChildKey<R: Children> {
    pub parent: i32,
    pub filter: R::Filter,
    pub page: PageArgs,
}

impl<R: Children> ChildKey<R> {
    pub fn new(parent: i32, filter: R::Filter, page: PageArgs) -> Self {
        ChildKey { parent, filter, page }
    }
}
impl<R: Children> Clone for ChildKey<R> {
    fn clone(&self) -> Self {
        ChildKey {
            parent: self.parent,
            filter: self.filter.clone(),
            page: self.page,
        }
    }
}
impl<R: Children> PartialEq for ChildKey<R> {
    fn eq(&self, other: &Self) -> bool {
        self.parent == other.parent && self.filter == other.filter && self.page == other.page
    }
}
impl<R: Children> Eq for ChildKey<R> {}
impl<R: Children> Hash for ChildKey<R> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.parent.hash(state);
        self.filter.hash(state);
        self.page.hash(state);
    }
}

impl<R> Loader<ChildKey<R>> for DbLoader
where
    R: Children,
    <R::Entity as EntityTrait>::Model: FromQueryResult + Send + Sync + Clone,
{
    type Value = Page<<R::Entity as EntityTrait>::Model>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[ChildKey<R>]) -> Result<HashMap<ChildKey<R>, Self::Value>, Self::Error> {
        let mut groups: HashMap<(R::Filter, PageArgs), Vec<i32>> = HashMap::new();
        for key in keys {
            groups
                .entry((key.filter.clone(), key.page))
                .or_default()
                .push(key.parent);
        }
        let mut loaded = HashMap::new();
        for ((filter, page), parents) in groups {
            let select = R::select(&self.scope, &filter);
            let pages = store::child_pages(&self.db, select, R::PARENT, &parents, &page).await?;
            for (parent, rows) in pages {
                loaded.insert(ChildKey::new(parent, filter.clone(), page), rows);
            }
        }
        Ok(loaded)
    }
}
