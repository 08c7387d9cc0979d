//! What a resolver may take from the GraphQL context: the request's store
//! handle, scope and loader. Resolvers never open connections themselves.

use crate::loader::RequestLoader;
use crate::scope::Scope;
use async_graphql::Context;
use sea_orm::DatabaseConnection;

/// Per-request data put into every GraphQL request by the HTTP handler.
pub struct RequestData {
    pub db: DatabaseConnection,
    pub scope: Scope,
}

pub fn db<'a>(ctx: &Context<'a>) -> &'a DatabaseConnection {
    &ctx.data_unchecked::<RequestData>().db
}

pub fn scope<'a>(ctx: &Context<'a>) -> &'a Scope {
    &ctx.data_unchecked::<RequestData>().scope
}

pub fn loader<'a>(ctx: &Context<'a>) -> &'a RequestLoader {
    ctx.data_unchecked::<RequestLoader>()
}

/// True when the client selected `totalCount` on the connection being resolved.
pub fn wants_total(ctx: &Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
}
