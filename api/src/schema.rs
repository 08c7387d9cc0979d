//! The GraphQL schema: the merged query root and its limits. Building it needs
//! no database, so the SDL can be exported anywhere.

use crate::alert::{AlertMutation, AlertQuery, AlertSubscription};
use crate::association::AssociationQuery;
use crate::branch::BranchQuery;
use crate::indicator::IndicatorQuery;
use crate::partner::{PartnerMutation, PartnerQuery};
use crate::programme::{ProgrammeQuery, ProgrammeSummaryQuery};
use crate::region::RegionQuery;
use crate::release::ReleaseMutation;
use crate::release::ReleaseQuery;
use crate::statistics::{StatisticsQuery, TargetMutation};
use crate::submission::{SubmissionMutation, SubmissionQuery};
use crate::training::{TrainingQuery, TrainingSummaryQuery};
use async_graphql::{MergedObject, MergedSubscription, SDLExportOptions, Schema};

/// The read API of the microfinance observatory: the Moroccan microfinance sector's associations,
/// regions, branches, monthly statistics, and the centre's training actions and programmes.
#[derive(MergedObject, Default)]
pub struct Query(
    RegionQuery,
    AssociationQuery,
    BranchQuery,
    StatisticsQuery,
    TrainingQuery,
    ProgrammeQuery,
    ReleaseQuery,
    IndicatorQuery,
    TrainingSummaryQuery,
    ProgrammeSummaryQuery,
    PartnerQuery,
    SubmissionQuery,
    crate::labels::LabelQuery,
    AlertQuery,
    crate::finance::StatementQuery,
    crate::finance::PeerQuery,
    crate::finance::PeerBenchmarkQuery,
    crate::note::NoteQuery,
    crate::survey::SurveyQuery,
);

/// Changes: the associations' monthly reports and targets, partners' webhooks, and, reserved to the observatory, partners, keys,
/// releases and alert rules. Every change is audited.
#[derive(MergedObject, Default)]
pub struct Mutation(
    PartnerMutation,
    ReleaseMutation,
    SubmissionMutation,
    TargetMutation,
    AlertMutation,
    crate::finance::StatementMutation,
    crate::survey::SurveyMutation,
);

/// Live events over WebSocket (`graphql-transport-ws` at `/graphql`).
#[derive(MergedSubscription, Default)]
pub struct Subscription(AlertSubscription);

pub type ApiSchema = Schema<Query, Mutation, Subscription>;

/// Builds the schema. Its depth and cost limits are applied before execution, on the document itself, by
/// `crate::graphql::cost` (the engine's own limits would expand fragments first).
pub fn build() -> ApiSchema {
    serving(crate::alert::webhook::Settings::default())
}

/// The schema a server runs: with the settings its webhooks are registered under.
pub fn serving(webhooks: crate::alert::webhook::Settings) -> ApiSchema {
    Schema::build(Query::default(), Mutation::default(), Subscription::default())
        .data(webhooks)
        .data(crate::region::store::Known::default())
        .finish()
}

/// The SDL in a stable order, as committed in `schema.graphql`.
pub fn sdl() -> String {
    build().sdl_with_options(
        SDLExportOptions::new()
            .sorted_fields()
            .sorted_arguments()
            .sorted_enum_items(),
    )
}
