//! GraphQL enums. Each mirrors a stored vocabulary of the entity crate and
//! converts to and from it (the entity crate knows nothing of GraphQL).

use async_graphql::Enum;
use entity::enums as db;

/// The economic activity a loan finances (the leaf codes of the `ACTIVITY` code list; `codeLists` gives each one's
/// parent and labels).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "db::Activity")]
pub enum Activity {
    /// Crop farming.
    Agriculture,
    /// Livestock farming.
    Livestock,
    /// Trade.
    Commerce,
    /// Crafts and manual trades.
    Crafts,
    /// Production and processing.
    Production,
    /// Services.
    Services,
    /// Other income-generating activities.
    OtherIga,
    /// Buying, building or renovating a dwelling.
    Housing,
    /// Water and electricity connections of a dwelling.
    UtilitiesConnection,
    /// Not specified by the association.
    Unspecified,
}

/// Lending methodology.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "db::Segment")]
pub enum Segment {
    /// Individual loans.
    Individual,
    /// Loans to solidarity groups whose members guarantee each other.
    SolidarityGroup,
    /// Loans to very small enterprises (TPE).
    VerySmallEnterprise,
}

/// Gender of a client or staff member.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "db::Gender")]
pub enum Gender {
    /// Women.
    Female,
    /// Men.
    Male,
}

/// Urban or rural location of a client or branch.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "db::Area")]
pub enum Area {
    /// Urban area.
    Urban,
    /// Rural area.
    Rural,
}

/// Kind of point of sale.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "db::BranchKind")]
pub enum BranchKind {
    /// A fixed agency.
    Agency,
    /// A mobile branch (vehicle or itinerant counter).
    Mobile,
}

/// Life-cycle state of an association.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "db::AssociationStatus")]
pub enum AssociationStatus {
    /// Operating and reporting.
    Active,
    /// Merged into another association.
    Merged,
    /// Closed.
    Closed,
}

/// Where a staff member works.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "db::StaffCategory")]
pub enum StaffCategory {
    /// In the branch network (points of sale).
    Network,
    /// At the head office.
    HeadOffice,
    /// Not assigned by the source: kept so that published totals stay as published.
    Unspecified,
}

/// Measure an association sets itself an objective for.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "db::TargetMeasure")]
pub enum TargetMeasure {
    /// New clients in the month (count, flow).
    NewClients,
    /// Loans disbursed in the month (count, flow).
    DisbursedCount,
    /// Amount disbursed in the month (MAD, flow).
    DisbursedAmount,
    /// Gross outstanding portfolio at month end (MAD, stock).
    OutstandingAmount,
    /// Repayments collected in the month (MAD, flow).
    RepaymentsCollected,
}

/// Format of a training action of the centre.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "db::TrainingFormat")]
pub enum TrainingFormat {
    /// Certified (diploma) training.
    CertifiedTraining,
    /// Specific and planned training for association staff.
    PlannedStaffTraining,
    /// Training of micro-entrepreneurs.
    MicroEntrepreneurTraining,
    /// Training engineering (design of curricula and material).
    TrainingEngineering,
    /// Logistical support to training organised by others.
    LogisticalSupport,
    /// E-learning platform, association staff.
    ElearningAssociationStaff,
    /// E-learning platform, other learners.
    ElearningOther,
}

/// Audience of a training action.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "db::TrainingAudience")]
pub enum TrainingAudience {
    /// Senior and middle management of associations.
    AssociationManagement,
    /// Back-office and front-office staff of associations.
    AssociationStaff,
    /// The centre's own staff.
    CentreStaff,
    /// Micro-entrepreneurs.
    MicroEntrepreneurs,
    /// Any other audience.
    Other,
}

/// How a training action was delivered.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "db::Delivery")]
pub enum Delivery {
    /// In a room, in person.
    OnSite,
    /// At a distance.
    Remote,
    /// Partly on site, partly remote.
    Blended,
}

/// Economic sector of a programme beneficiary's activity.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "db::Sector")]
pub enum Sector {
    /// Agriculture and livestock.
    AgricultureLivestock,
    /// Agrifood.
    Agrifood,
    /// Arts and crafts.
    ArtsCrafts,
    /// Hairdressing and beauty.
    HairdressingBeauty,
    /// Logistics and transport.
    LogisticsTransport,
    /// Leisure.
    Leisure,
    /// Education and early childhood.
    EducationEarlyChildhood,
    /// Mechanics.
    Mechanics,
    /// Health.
    Health,
    /// Another named sector.
    Other,
    /// The source does not give the sector.
    Unspecified,
}

/// Gender of programme beneficiaries, where the source gives it.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "db::OutcomeGender")]
pub enum OutcomeGender {
    /// Women.
    Female,
    /// Men.
    Male,
    /// The source does not give the gender.
    Unspecified,
}

/// Converts a list of GraphQL enum values to stored values.
pub fn to_db<G: Copy, D: From<G>>(values: &Option<Vec<G>>) -> Option<Vec<D>> {
    values.as_ref().map(|v| v.iter().map(|g| D::from(*g)).collect())
}

/// The groups an alert rule judges its measure on.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "db::AlertScope")]
pub enum AlertScope {
    /// The whole sector (national totals).
    Sector,
    /// Each region.
    Region,
    /// Each association.
    Association,
    /// Each segment, sector-wide.
    Segment,
}

/// What an alert rule compares with its threshold.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "db::AlertComparison")]
pub enum AlertComparison {
    /// The month's value itself.
    Value,
    /// The change from the previous month: percentage points for rates and shares, percent for counts and amounts.
    PreviousPeriodChange,
    /// The change from the same month a year before: percentage points for rates and shares, percent for counts
    /// and amounts.
    SamePeriodPreviousYearChange,
}

/// Which side of the threshold raises an alert.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "db::AlertDirection")]
pub enum AlertDirection {
    /// An alert is raised when the compared quantity is above the threshold.
    Above,
    /// An alert is raised when the compared quantity is below the threshold.
    Below,
}

/// How serious an alert is.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "db::AlertSeverity")]
pub enum AlertSeverity {
    /// Worth knowing.
    Info,
    /// Worth watching.
    Warning,
    /// Worth acting on.
    Critical,
}

/// Whether an alert's condition still holds.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "db::AlertStatus")]
pub enum AlertStatus {
    /// The last judgement breached the threshold.
    Open,
    /// The value came back within the threshold (or the late report arrived).
    Resolved,
}

/// What happened to an alert, as webhooks deliver it.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "db::AlertEventKind")]
pub enum AlertEventKind {
    /// An alert was raised (or raised again after it had been resolved).
    AlertRaised,
    /// An alert was resolved.
    AlertResolved,
}

/// Where a webhook delivery stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "db::DeliveryStatus")]
pub enum DeliveryStatus {
    /// Not delivered yet: an attempt is due or under way.
    Pending,
    /// The receiver answered with a 2xx status.
    Delivered,
    /// Given up after the last attempt.
    Failed,
}
