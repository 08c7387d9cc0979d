//! Demonstration data for the observatory.
//!
//! [`load`] fills an empty database (apart from the regions, which the
//! migrations seed) with a complete, coherent two-year picture of a
//! microfinance sector modelled on Morocco's in 2019 and 2020: thirteen
//! fictitious microcredit associations, their branch registry, monthly
//! client, loan and staff statistics from January 2019 to December 2020
//! (sent as the associations' monthly reports, see `reports`), their
//! monthly targets, the observatory's releases and partners, and the
//! centre's programmes and training actions.
//!
//! The associations are invented, but the national aggregates are the
//! sector's published figures and add up exactly: active clients, amounts
//! disbursed, gross outstanding and portfolio at risk, staff, branches,
//! training and programme results. Everything below the national level
//! (how the totals divide between associations, regions and months) is
//! synthetic yet deterministic: the same data comes out on every run and on
//! every database backend. The months follow the shape of 2020: disbursements
//! and repayments collapse during the spring lockdown, portfolio at risk and
//! rescheduled loans climb, and the second half recovers.
//!
//! It serves developers and testers who need realistic volumes and shapes,
//! and demonstrations of the API to partners, without exposing any real
//! association's reports.

mod activity;
mod branches;
mod reference;
pub(crate) mod reports;
mod statements;
mod stats;
mod surveys;
mod util;

use entity::{
    api_key, association, audit_event, branch, partner, programme, programme_outcome, release, submission, target,
    training_action,
};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, sea_query::Query};

/// The association that reported a month after its deadline, and the month (`yyyymm`): PALMIER, 2020-12.
pub const LATE_REPORT: (&str, i32) = (reports::LATE.0, 202012);
/// The association-month whose first report (PAR90 amounts in the PAR30 column) was replaced, after the month's
/// release, by a revision with the right figures: OASIS, 2020-06.
pub const REVISED_REPORT: (&str, i32) = (reports::REVISED.0, 202006);

/// Rows inserted by [`load`], by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Microcredit associations (13).
    pub associations: usize,
    /// Branch registry rows, including branches closed in 2019 or 2020.
    pub branches: usize,
    /// Monthly reports accepted: every association's 24 months, and one revision.
    pub reports: usize,
    /// `client_stat` rows: every association, region served, segment, gender, area and month.
    pub client_rows: usize,
    /// `loan_stat` rows, on the same cells as `client_rows`.
    pub loan_rows: usize,
    /// `staff_stat` rows: every association, month, category and gender.
    pub staff_rows: usize,
    /// `target` rows: every association, month and measure.
    pub target_rows: usize,
    /// Training actions of 2019 and 2020.
    pub training_actions: usize,
    /// Support programmes of 2020.
    pub programmes: usize,
    /// Released months (all 24).
    pub releases: usize,
    /// Quarterly financial statements accepted: every association's 8 quarters, 2019-Q1 to 2020-Q4.
    pub statements: usize,
    /// Synthetic respondents of the 2020 clients' survey (its income-source question).
    pub survey_respondents: usize,
}

/// Inserts the whole demo dataset. Expects the regions (seeded by migration) and no other rows.
///
/// Partners are the observatory, the ministry, a refinancing fund, the
/// federation and one partner per association. The client, loan and staff
/// statistics arrive as reports: each association's partner sends its 24
/// months as CSV files, accepted (validation, submission, revision, rollups,
/// audit event) by the same code as a report sent over HTTP; see
/// [`LATE_REPORT`] and [`REVISED_REPORT`] for the two that stand out. Each
/// of the 24 months is released by the observatory. No API keys are created.
/// Run it inside a transaction: on error nothing should be kept.
pub async fn load<C: ConnectionTrait>(db: &C) -> Result<Summary, DbErr> {
    let regions = reference::region_ids(db).await?;
    let associations = reference::insert_associations(db).await?;
    let (observatory, partners) = reference::insert_partners(db, &associations).await?;
    let ids = reference::Ids {
        regions,
        associations,
        partners,
        observatory,
    };

    let statistics = stats::Statistics::generate();
    let branches = util::insert_all(db, branches::rows(&statistics, &ids)).await?;
    let sent = reports::send_all(db, &statistics, &ids).await?;
    let statements = statements::send_all(db, &statistics, &ids).await?;
    let survey_respondents = surveys::insert(db, &ids).await?;
    let target_rows = util::insert_all(db, statistics.target_rows(&ids)).await?;
    let (programmes, programme_ids) = activity::insert_programmes(db, &ids).await?;
    let training_actions = activity::insert_training(db, &ids, &programme_ids).await?;

    Ok(Summary {
        associations: ids.associations.len(),
        branches,
        reports: sent.reports,
        client_rows: sent.client_rows,
        loan_rows: sent.loan_rows,
        staff_rows: sent.staff_rows,
        target_rows,
        training_actions,
        programmes,
        releases: sent.releases,
        statements,
        survey_respondents,
    })
}

/// Deletes every row of every table except `region`, `alert_rule` (seeded by migration) and the migrations table,
/// children first.
///
/// This empties reported data, keys, submissions and the audit trail as
/// well as the demo rows, so it must only be run on a demonstration or test
/// database.
pub async fn clear<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    for table in ["webhook_attempt", "webhook_delivery", "webhook", "alert_event", "alert"] {
        db.execute(&Query::delete().from_table(table).take()).await?;
    }
    for table in crate::rollup::tables() {
        db.execute(&Query::delete().from_table(table).take()).await?;
    }
    for facts in crate::facts::ALL {
        db.execute(&Query::delete().from_table(facts.revisions).take()).await?;
    }
    for table in [
        "persisted_document",
        "survey_answer",
        "survey_respondent",
        "survey_published",
        "survey_net",
        "survey_option",
        "survey_question",
        "survey",
        "peer_membership",
        "fin_stat_revision",
        "fin_stat",
        "statement_submission",
        "quarter_release",
    ] {
        db.execute(&Query::delete().from_table(table).take()).await?;
    }
    audit_event::Entity::delete_many().exec(db).await?;
    submission::Entity::delete_many().exec(db).await?;
    api_key::Entity::delete_many().exec(db).await?;
    release::Entity::delete_many().exec(db).await?;
    partner::Entity::delete_many().exec(db).await?;
    training_action::Entity::delete_many().exec(db).await?;
    programme_outcome::Entity::delete_many().exec(db).await?;
    programme::Entity::delete_many().exec(db).await?;
    target::Entity::delete_many().exec(db).await?;
    for facts in crate::facts::ALL {
        db.execute(&Query::delete().from_table(facts.table).take()).await?;
    }
    branch::Entity::delete_many().exec(db).await?;
    association::Entity::delete_many().exec(db).await?;
    Ok(())
}
