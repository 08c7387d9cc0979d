//! The GraphQL schema: the merged query root and its limits. Building it needs
//! no database, so the SDL can be exported anywhere.

use crate::association::AssociationQuery;
use crate::branch::BranchQuery;
use crate::indicator::IndicatorQuery;
use crate::partner::{PartnerMutation, PartnerQuery};
use crate::programme::{ProgrammeQuery, ProgrammeSummaryQuery};
use crate::region::RegionQuery;
use crate::release::ReleaseMutation;
use crate::release::ReleaseQuery;
use crate::statistics::StatisticsQuery;
use crate::submission::{SubmissionMutation, SubmissionQuery};
use crate::training::{TrainingQuery, TrainingSummaryQuery};
use async_graphql::{EmptySubscription, MergedObject, SDLExportOptions, Schema};

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
);

/// Changes: the associations' monthly reports, and, reserved to the observatory, partners, keys and releases. Every
/// change is audited.
#[derive(MergedObject, Default)]
pub struct Mutation(PartnerMutation, ReleaseMutation, SubmissionMutation);

pub type ApiSchema = Schema<Query, Mutation, EmptySubscription>;

/// Builds the schema. Its depth and cost limits are applied before execution, on the document itself, by
/// `crate::graphql::cost` (the engine's own limits would expand fragments first).
pub fn build() -> ApiSchema {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription).finish()
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
