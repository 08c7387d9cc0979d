//! Schema migrations, one change per file, each with a real `down`.
//!
//! Migrations spell out their own column lists and allowed values instead of
//! reading them from the entity crate: a migration is a frozen record of one
//! change and must not move when the entities do.

pub use sea_orm_migration::prelude::*;

mod ddl;
mod m20261201_000001_create_reference;
mod m20261201_000002_create_statistics;
mod m20261201_000003_create_activity;
mod m20261201_000004_create_exchange;
mod m20261201_000005_seed_regions;
mod m20261201_000006_create_rollups;
mod m20261202_000007_add_submission_idempotency_key;
mod m20261202_000008_add_submission_on_behalf;
mod m20261203_000009_create_revisions;
mod m20261204_000010_cell_key_by_association_month;
mod m20261204_000011_create_data_version;
mod m20261205_000012_add_association_name_en;
mod m20261206_000013_create_alerts;
mod m20261206_000014_create_activity_stat;
mod m20261206_000015_targets_by_region;
mod m20261206_000016_create_training_history;
mod m20261207_000017_create_statements;
mod m20261207_000018_create_peer_groups;
mod m20261207_000019_seed_quarterly_alert_rules;
mod m20261207_000020_create_surveys;
mod m20261207_000021_create_persisted_documents;
mod m20261208_000022_data_version_by_stream;
mod m20261208_000023_create_caller_write;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261201_000001_create_reference::Migration),
            Box::new(m20261201_000002_create_statistics::Migration),
            Box::new(m20261201_000003_create_activity::Migration),
            Box::new(m20261201_000004_create_exchange::Migration),
            Box::new(m20261201_000005_seed_regions::Migration),
            Box::new(m20261201_000006_create_rollups::Migration),
            Box::new(m20261202_000007_add_submission_idempotency_key::Migration),
            Box::new(m20261202_000008_add_submission_on_behalf::Migration),
            Box::new(m20261203_000009_create_revisions::Migration),
            Box::new(m20261204_000010_cell_key_by_association_month::Migration),
            Box::new(m20261204_000011_create_data_version::Migration),
            Box::new(m20261205_000012_add_association_name_en::Migration),
            Box::new(m20261206_000013_create_alerts::Migration),
            Box::new(m20261206_000014_create_activity_stat::Migration),
            Box::new(m20261206_000015_targets_by_region::Migration),
            Box::new(m20261206_000016_create_training_history::Migration),
            Box::new(m20261207_000017_create_statements::Migration),
            Box::new(m20261207_000018_create_peer_groups::Migration),
            Box::new(m20261207_000019_seed_quarterly_alert_rules::Migration),
            Box::new(m20261207_000020_create_surveys::Migration),
            Box::new(m20261207_000021_create_persisted_documents::Migration),
            Box::new(m20261208_000022_data_version_by_stream::Migration),
            Box::new(m20261208_000023_create_caller_write::Migration),
        ]
    }
}
