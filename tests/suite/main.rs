//! The integration suite: the real router, without a socket, on a fresh
//! database per test (SQLite always, PostgreSQL when `TEST_DATABASE_URL` is set).

mod access;
mod alerts;
mod calibration;
mod crash;
mod dashboard;
mod demo_reports;
mod finance;
mod hostile;
mod http;
mod indicators;
mod limits;
mod migrations;
mod note_page;
mod protocol;
mod reads;
mod replicas;
mod reporting;
mod reuse;
mod revisions;
mod rollups;
mod schema;
mod sdmx;
mod statements;
mod suppression;
mod surveys;
mod writes;
