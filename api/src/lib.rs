//! The microfinance observatory's API: GraphQL schema, HTTP server, command
//! line. This is the only crate that knows axum and GraphQL; storage models
//! live in the `entity` crate and the schema history in `migration`.

// The merged query object resolves through many nested async bodies.
#![recursion_limit = "256"]

pub mod alert;
pub mod app;
pub mod apportion;
pub mod audit;
pub mod bench;
pub mod cli;
pub mod dashboard;
pub mod db;
pub mod demo;
pub mod error;
pub mod facts;
pub mod finance;
pub mod graphql;
pub mod http;
pub mod keys;
pub mod labels;
pub mod partner;
pub mod period;
pub mod ratelimit;
pub mod replica;
pub mod reporting;
pub mod rollup;
pub mod schema;
pub mod scope;
pub mod sdmx;
pub mod sql;
pub mod vintage;

mod context;
mod enums;
mod loader;
pub mod note;
mod pagination;
mod scalars;
mod store;
pub mod survey;

mod association;
mod branch;
pub mod indicator;
mod programme;
mod region;
mod release;
mod statistics;
pub mod submission;
mod training;

pub use app::{router, serve};
pub use http::{AppState, HttpLimits};

/// Loads the demo dataset inside the caller's transaction. Its reports keep
/// the rollups exact as they are accepted; they are then rewritten once, month
/// by month, so that each month's rollup rows sit together on disk.
pub async fn load_demo<C: sea_orm::ConnectionTrait>(db: &C) -> Result<demo::Summary, sea_orm::DbErr> {
    let summary = demo::load(db).await?;
    rollup::refresh(db, None).await?;
    Ok(summary)
}

/// The allocator of every binary built on this crate. mimalloc returns freed pages to the system shortly after a
/// request lets go of them, where the system allocator keeps a large request's peak for the life of the process.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
