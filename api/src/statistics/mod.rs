//! Monthly reported statistics: clients, loans and portfolio, staff, targets.
//!
//! Each row is one reported cell. Stocks are month-end values; flows cover
//! the month. Aggregates across cells and periods are the job of the
//! indicator layer, which applies the stock and flow rules.

pub mod store;
pub mod targets;

use crate::association::Association;
use crate::context::{db, scope, wants_total};
use crate::enums::{Activity, Area, Gender, Segment, StaffCategory, TargetMeasure, to_db};
use crate::error::ApiError;
use crate::loader::Children;
use crate::pagination::{Node, PageArgs, connection};
use crate::period::Month;
use crate::region::Region;
use crate::scalars::{DateTime, Money, Period};
use crate::scope::Scope;
use async_graphql::{Context, InputObject, Object, Result};
use entity::enums as db_enums;
use entity::{activity_stat, client_stat, loan_stat, staff_stat, target};
use sea_orm::Select;
use store::{CellConditions, MonthRange};

/// A list's selection, read as the data stood at `as_of` when given.
async fn as_of_vintage<E: sea_orm::EntityTrait>(
    ctx: &Context<'_>,
    select: Select<E>,
    as_of: Option<DateTime>,
) -> Result<Select<E>, ApiError> {
    Ok(match as_of {
        Some(at) => store::as_of(select, scope(ctx), &crate::vintage::at(db(ctx), at.0, None).await?),
        None => select,
    })
}

/// A page of client or loan cells (both tables share the dimension columns) the caller may see, as they stood at
/// `as_of` when given.
async fn cells<E>(
    ctx: &Context<'_>,
    what: &str,
    page: &PageArgs,
    filter: Option<CellFilter>,
    as_of: Option<DateTime>,
) -> Result<crate::pagination::Page<E::Model>>
where
    E: crate::store::Keyed,
    E::Model: sea_orm::FromQueryResult + Send + Sync,
{
    let conditions = filter.unwrap_or_default().conditions(ctx).await?;
    scope(ctx).check_rows(what, &conditions.associations)?;
    let select = as_of_vintage(ctx, store::select_cells::<E>(scope(ctx), &conditions), as_of).await?;
    Ok(crate::store::page(db(ctx), select, page, wants_total(ctx)).await?)
}

fn range(from: Option<Period>, to: Option<Period>) -> Result<MonthRange, ApiError> {
    MonthRange::new(from.map(|p| p.0.first_month()), to.map(|p| p.0.last_month()))
}

/// Conditions on the dimensions of a monthly statistic.
#[derive(InputObject, Default, Clone)]
pub struct CellAttributes {
    /// First period included (a month, quarter or year; default: no lower bound).
    pub from: Option<Period>,
    /// Last period included (a month, quarter or year; default: no upper bound).
    pub to: Option<Period>,
    /// Only these segments.
    pub segments: Option<Vec<Segment>>,
    /// Only these genders.
    pub genders: Option<Vec<Gender>>,
    /// Only these areas.
    pub areas: Option<Vec<Area>>,
}

impl TryFrom<CellAttributes> for CellConditions {
    type Error = ApiError;
    fn try_from(a: CellAttributes) -> Result<Self, ApiError> {
        Ok(CellConditions {
            associations: None,
            regions: None,
            months: range(a.from, a.to)?,
            segments: to_db::<_, db_enums::Segment>(&a.segments),
            genders: to_db::<_, db_enums::Gender>(&a.genders),
            areas: to_db::<_, db_enums::Area>(&a.areas),
        })
    }
}

/// Conditions on monthly client or loan statistics.
#[derive(InputObject, Default, Clone)]
pub struct CellFilter {
    /// Only these associations (codes).
    pub associations: Option<Vec<String>>,
    /// Only these regions (ISO codes).
    pub regions: Option<Vec<String>>,
    /// Conditions on month, segment, gender and area.
    #[graphql(flatten)]
    pub attributes: CellAttributes,
}

impl CellFilter {
    async fn conditions(self, ctx: &Context<'_>) -> Result<CellConditions> {
        let mut conditions: CellConditions = self.attributes.try_into()?;
        conditions.associations = crate::association::store::resolve(db(ctx), &self.associations).await?;
        conditions.regions = crate::region::resolve(ctx, &self.regions).await?;
        Ok(conditions)
    }
}

/// Conditions on loans by activity.
#[derive(InputObject, Default, Clone)]
pub struct ActivityFilter {
    /// Only these associations (codes).
    pub associations: Option<Vec<String>>,
    /// Only these regions (ISO codes).
    pub regions: Option<Vec<String>>,
    /// First period included (a month, quarter or year; default: no lower bound).
    pub from: Option<Period>,
    /// Last period included (a month, quarter or year; default: no upper bound).
    pub to: Option<Period>,
    /// Only these activities.
    pub activities: Option<Vec<Activity>>,
}

/// Conditions on staff figures.
#[derive(InputObject, Default, Clone)]
pub struct StaffAttributes {
    /// First period included (a month, quarter or year).
    pub from: Option<Period>,
    /// Last period included (a month, quarter or year).
    pub to: Option<Period>,
    /// Only these categories.
    pub categories: Option<Vec<StaffCategory>>,
    /// Only these genders.
    pub genders: Option<Vec<Gender>>,
}

impl TryFrom<StaffAttributes> for store::StaffConditions {
    type Error = ApiError;
    fn try_from(a: StaffAttributes) -> Result<Self, ApiError> {
        Ok(store::StaffConditions {
            associations: None,
            months: range(a.from, a.to)?,
            categories: to_db::<_, db_enums::StaffCategory>(&a.categories),
            genders: to_db::<_, db_enums::Gender>(&a.genders),
        })
    }
}

/// Conditions on staff figures, across associations.
#[derive(InputObject, Default, Clone)]
pub struct StaffFilter {
    /// Only these associations (codes).
    pub associations: Option<Vec<String>>,
    /// Conditions on month, category and gender.
    #[graphql(flatten)]
    pub attributes: StaffAttributes,
}

/// Conditions on targets.
#[derive(InputObject, Default, Clone)]
pub struct TargetAttributes {
    /// First period included (a month, quarter or year).
    pub from: Option<Period>,
    /// Last period included (a month, quarter or year).
    pub to: Option<Period>,
    /// Only these measures.
    pub measures: Option<Vec<TargetMeasure>>,
}

impl TryFrom<TargetAttributes> for store::TargetConditions {
    type Error = ApiError;
    fn try_from(a: TargetAttributes) -> Result<Self, ApiError> {
        Ok(store::TargetConditions {
            associations: None,
            months: range(a.from, a.to)?,
            measures: to_db::<_, db_enums::TargetMeasure>(&a.measures),
        })
    }
}

/// Conditions on targets, across associations.
#[derive(InputObject, Default, Clone)]
pub struct TargetFilter {
    /// Only these associations (codes).
    pub associations: Option<Vec<String>>,
    /// Conditions on month and measure.
    #[graphql(flatten)]
    pub attributes: TargetAttributes,
}

/// Declares a child list of statistics under a parent column.
macro_rules! children {
    ($name:ident, $doc:literal, $entity:ty, $filter:ty, $parent:literal, $select:path) => {
        #[doc = $doc]
        pub struct $name;
        impl Children for $name {
            type Entity = $entity;
            type Filter = $filter;
            const PARENT: &'static str = $parent;
            fn select(scope: &Scope, filter: &Self::Filter) -> Select<$entity> {
                $select(scope, filter)
            }
        }
    };
}

children!(
    ClientStatsOfAssociation,
    "Client statistics of one association.",
    client_stat::Entity,
    CellConditions,
    "association_id",
    store::select_cells
);
children!(
    ClientStatsOfRegion,
    "Client statistics of one region.",
    client_stat::Entity,
    CellConditions,
    "region_id",
    store::select_cells
);
children!(
    LoanStatsOfAssociation,
    "Loan statistics of one association.",
    loan_stat::Entity,
    CellConditions,
    "association_id",
    store::select_cells
);
children!(
    LoanStatsOfRegion,
    "Loan statistics of one region.",
    loan_stat::Entity,
    CellConditions,
    "region_id",
    store::select_cells
);
children!(
    StaffOfAssociation,
    "Staff figures of one association.",
    staff_stat::Entity,
    store::StaffConditions,
    "association_id",
    store::select_staff
);
children!(
    TargetsOfAssociation,
    "Targets of one association.",
    target::Entity,
    store::TargetConditions,
    "association_id",
    store::select_targets
);

/// Declares a node type for a monthly statistic table.
macro_rules! stat_node {
    ($node:ident, $model:ty, $kind:literal) => {
        impl Node for $node {
            type Model = $model;
            const KIND: &'static str = $kind;
            fn key(model: &$model) -> i64 {
                model.id
            }
        }
    };
}

/// Client figures of one association in one region, month, segment, gender and area.
pub struct ClientStatistic(pub client_stat::Model);
stat_node!(ClientStatistic, client_stat::Model, "clientStatistic");
connection!(
    ClientStatisticConnection,
    ClientStatisticEdge,
    ClientStatistic,
    "A page of monthly client statistics, in the order they were recorded.",
    "A monthly client statistic in a page, with its cursor."
);

/// Client figures of one association in one region, month, segment, gender and area.
#[Object]
impl ClientStatistic {
    /// Month of the figures.
    async fn period(&self) -> Period {
        Period::month(Month(self.0.period))
    }
    /// Reporting association.
    async fn association(&self, ctx: &Context<'_>) -> Result<Association> {
        crate::association::load(ctx, self.0.association_id).await
    }
    /// Region of the clients.
    async fn region(&self, ctx: &Context<'_>) -> Result<Region> {
        crate::region::load(ctx, self.0.region_id).await
    }
    /// Lending methodology.
    async fn segment(&self) -> Segment {
        self.0.segment.into()
    }
    /// Gender of the clients.
    async fn gender(&self) -> Gender {
        self.0.gender.into()
    }
    /// Urban or rural clients.
    async fn area(&self) -> Area {
        self.0.area.into()
    }
    /// Active clients: clients with a loan outstanding at month end (count, stock).
    async fn active_clients(&self) -> i64 {
        self.0.active_clients
    }
    /// Clients who received their first loan during the month (count, flow).
    async fn new_clients(&self) -> i64 {
        self.0.new_clients
    }
}

/// Loan and portfolio figures of one association in one region, month, segment, gender and area.
pub struct LoanStatistic(pub loan_stat::Model);
stat_node!(LoanStatistic, loan_stat::Model, "loanStatistic");
connection!(
    LoanStatisticConnection,
    LoanStatisticEdge,
    LoanStatistic,
    "A page of monthly loan statistics, in the order they were recorded.",
    "A monthly loan statistic in a page, with its cursor."
);

/// Loan and portfolio figures of one association in one region, month, segment, gender and area.
#[Object]
impl LoanStatistic {
    /// Month of the figures.
    async fn period(&self) -> Period {
        Period::month(Month(self.0.period))
    }
    /// Reporting association.
    async fn association(&self, ctx: &Context<'_>) -> Result<Association> {
        crate::association::load(ctx, self.0.association_id).await
    }
    /// Region of the loans.
    async fn region(&self, ctx: &Context<'_>) -> Result<Region> {
        crate::region::load(ctx, self.0.region_id).await
    }
    /// Lending methodology.
    async fn segment(&self) -> Segment {
        self.0.segment.into()
    }
    /// Gender of the borrowers.
    async fn gender(&self) -> Gender {
        self.0.gender.into()
    }
    /// Urban or rural borrowers.
    async fn area(&self) -> Area {
        self.0.area.into()
    }
    /// Loans disbursed during the month (count, flow).
    async fn disbursed_count(&self) -> i64 {
        self.0.disbursed_count
    }
    /// Amount disbursed during the month (MAD, flow).
    async fn disbursed_amount(&self) -> Money {
        Money(self.0.disbursed_amount)
    }
    /// Loans outstanding at month end (count, stock).
    async fn active_loans(&self) -> i64 {
        self.0.active_loans
    }
    /// Gross outstanding portfolio at month end (MAD, stock).
    async fn outstanding_amount(&self) -> Money {
        Money(self.0.outstanding_amount)
    }
    /// Portfolio at risk over 30 days: whole outstanding balance of loans with an instalment more than 30 days overdue (MAD, stock).
    async fn par30_amount(&self) -> Money {
        Money(self.0.par30_amount)
    }
    /// Portfolio at risk over 90 days (MAD, stock).
    async fn par90_amount(&self) -> Money {
        Money(self.0.par90_amount)
    }
    /// Amount written off during the month (MAD, flow).
    async fn write_off_amount(&self) -> Money {
        Money(self.0.write_off_amount)
    }
    /// Outstanding balance of rescheduled loans at month end (MAD, stock).
    async fn rescheduled_amount(&self) -> Money {
        Money(self.0.rescheduled_amount)
    }
    /// Repayments falling due during the month (MAD, flow).
    async fn repayments_due(&self) -> Money {
        Money(self.0.repayments_due)
    }
    /// Repayments collected during the month (MAD, flow).
    async fn repayments_collected(&self) -> Money {
        Money(self.0.repayments_collected)
    }
}

/// Month-end headcount of one association by category and gender.
pub struct StaffStatistic(pub staff_stat::Model);
stat_node!(StaffStatistic, staff_stat::Model, "staffStatistic");
connection!(
    StaffStatisticConnection,
    StaffStatisticEdge,
    StaffStatistic,
    "A page of monthly staff figures, in the order they were recorded.",
    "A monthly staff figure in a page, with its cursor."
);

/// Month-end headcount of one association by category and gender.
#[Object]
impl StaffStatistic {
    /// Month of the figure.
    async fn period(&self) -> Period {
        Period::month(Month(self.0.period))
    }
    /// Reporting association.
    async fn association(&self, ctx: &Context<'_>) -> Result<Association> {
        crate::association::load(ctx, self.0.association_id).await
    }
    /// Where the staff work.
    async fn category(&self) -> StaffCategory {
        self.0.category.into()
    }
    /// Gender of the staff.
    async fn gender(&self) -> Gender {
        self.0.gender.into()
    }
    /// Staff members at month end (count, stock).
    async fn headcount(&self) -> i64 {
        self.0.headcount
    }
}

/// An association's objective for one measure in one month.
pub struct Target(pub target::Model);
stat_node!(Target, target::Model, "target");
connection!(
    TargetConnection,
    TargetEdge,
    Target,
    "A page of monthly targets, in the order they were recorded.",
    "A monthly target in a page, with its cursor."
);

fn is_amount(measure: db_enums::TargetMeasure) -> bool {
    targets::is_amount(measure)
}

/// An association's objective for one measure in one month.
#[Object]
impl Target {
    /// Month the objective applies to.
    async fn period(&self) -> Period {
        Period::month(Month(self.0.period))
    }
    /// Association that set the objective.
    async fn association(&self, ctx: &Context<'_>) -> Result<Association> {
        crate::association::load(ctx, self.0.association_id).await
    }
    /// Measure the objective is set for.
    async fn measure(&self) -> TargetMeasure {
        self.0.measure.into()
    }
    /// The region the objective is for; null when it is for all the association's regions.
    async fn region(&self, ctx: &Context<'_>) -> Result<Option<crate::region::Region>> {
        match self.0.region_id {
            Some(id) => Ok(Some(crate::region::load(ctx, id).await?)),
            None => Ok(None),
        }
    }
    /// The economic activity the objective is for; null when it is for all activities.
    async fn activity(&self) -> Option<Activity> {
        self.0.activity.map(Into::into)
    }
    /// The objective, for measures counted in units (new clients, loans); null for amounts.
    async fn count(&self) -> Option<i64> {
        (!is_amount(self.0.measure)).then_some(self.0.value)
    }
    /// The objective in MAD, for amount measures; null for counts.
    async fn amount(&self) -> Option<Money> {
        is_amount(self.0.measure).then_some(Money(self.0.value))
    }
}

/// Loan figures of one association in one region and month, for one economic activity financed.
pub struct ActivityStatistic(pub activity_stat::Model);
stat_node!(ActivityStatistic, activity_stat::Model, "activityStatistic");
connection!(
    ActivityStatisticConnection,
    ActivityStatisticEdge,
    ActivityStatistic,
    "A page of monthly loan statistics by activity, in the order they were recorded.",
    "A monthly loan statistic by activity in a page, with its cursor."
);

/// Loan figures of one association in one region and month, for one economic activity financed. For each
/// association, region and month, the activities add up to the loan statistics, column by column.
#[Object]
impl ActivityStatistic {
    /// Month of the figures.
    async fn period(&self) -> Period {
        Period::month(Month(self.0.period))
    }
    /// Reporting association.
    async fn association(&self, ctx: &Context<'_>) -> Result<Association> {
        crate::association::load(ctx, self.0.association_id).await
    }
    /// Region of the loans.
    async fn region(&self, ctx: &Context<'_>) -> Result<Region> {
        crate::region::load(ctx, self.0.region_id).await
    }
    /// The economic activity financed.
    async fn activity(&self) -> Activity {
        self.0.activity.into()
    }
    /// Loans disbursed during the month (count, flow).
    async fn disbursed_count(&self) -> i64 {
        self.0.disbursed_count
    }
    /// Amount disbursed during the month (MAD, flow).
    async fn disbursed_amount(&self) -> Money {
        Money(self.0.disbursed_amount)
    }
    /// Loans outstanding at month end (count, stock).
    async fn active_loans(&self) -> i64 {
        self.0.active_loans
    }
    /// Gross outstanding principal at month end (MAD, stock).
    async fn outstanding_amount(&self) -> Money {
        Money(self.0.outstanding_amount)
    }
    /// Outstanding balance of loans with an instalment more than 30 days overdue, at month end (MAD, stock).
    async fn par30_amount(&self) -> Money {
        Money(self.0.par30_amount)
    }
    /// Repayments due during the month (MAD, flow).
    async fn repayments_due(&self) -> Money {
        Money(self.0.repayments_due)
    }
    /// Repayments collected during the month (MAD, flow).
    async fn repayments_collected(&self) -> Money {
        Money(self.0.repayments_collected)
    }
}

/// Queries on the monthly statistics.
#[derive(Default)]
pub struct StatisticsQuery;

#[Object]
impl StatisticsQuery {
    /// Monthly client statistics, one row per association, region, month, segment, gender and area.
    async fn client_statistics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Number of items to return (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which to start (an `endCursor` of the same list).")] after: Option<String>,
        #[graphql(desc = "Conditions on the statistics.")] filter: Option<CellFilter>,
        #[graphql(
            desc = "Rows as they stood at this instant: each association-month as its last report accepted by then \
                    gave it (none when it had not reported yet), and only the months released by then for callers \
                    who see released months. Without it, the current rows."
        )]
        as_of: Option<DateTime>,
    ) -> Result<ClientStatisticConnection> {
        let page = PageArgs::new(ClientStatistic::KIND, first, after.as_deref())?;
        let rows = cells::<client_stat::Entity>(ctx, "client statistics", &page, filter, as_of).await?;
        Ok(ClientStatisticConnection(rows))
    }

    /// Monthly loan and portfolio statistics, one row per association, region, month, segment, gender and area.
    async fn loan_statistics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Number of items to return (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which to start (an `endCursor` of the same list).")] after: Option<String>,
        #[graphql(desc = "Conditions on the statistics.")] filter: Option<CellFilter>,
        #[graphql(
            desc = "Rows as they stood at this instant: each association-month as its last report accepted by then \
                    gave it (none when it had not reported yet), and only the months released by then for callers \
                    who see released months. Without it, the current rows."
        )]
        as_of: Option<DateTime>,
    ) -> Result<LoanStatisticConnection> {
        let page = PageArgs::new(LoanStatistic::KIND, first, after.as_deref())?;
        let rows = cells::<loan_stat::Entity>(ctx, "loan statistics", &page, filter, as_of).await?;
        Ok(LoanStatisticConnection(rows))
    }

    /// Monthly loan statistics by economic activity financed, one row per association, region, month and activity
    /// (from the reports' `activities` tables).
    async fn activity_statistics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Number of items to return (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which to start (an `endCursor` of the same list).")] after: Option<String>,
        #[graphql(desc = "Conditions on the statistics.")] filter: Option<ActivityFilter>,
        #[graphql(
            desc = "Rows as they stood at this instant: each association-month as its last report accepted by then \
                    gave it (none when it had not reported yet), and only the months released by then for callers \
                    who see released months. Without it, the current rows."
        )]
        as_of: Option<DateTime>,
    ) -> Result<ActivityStatisticConnection> {
        let page = PageArgs::new(ActivityStatistic::KIND, first, after.as_deref())?;
        let filter = filter.unwrap_or_default();
        let conditions = store::ActivityConditions {
            associations: crate::association::store::resolve(db(ctx), &filter.associations).await?,
            regions: crate::region::resolve(ctx, &filter.regions).await?,
            months: range(filter.from, filter.to)?,
            activities: to_db::<_, db_enums::Activity>(&filter.activities),
        };
        scope(ctx).check_rows("loan statistics by activity", &conditions.associations)?;
        let select = as_of_vintage(ctx, store::select_activities(scope(ctx), &conditions), as_of).await?;
        let rows = crate::store::page(db(ctx), select, &page, wants_total(ctx)).await?;
        Ok(ActivityStatisticConnection(rows))
    }

    /// Month-end staff headcount, one row per association, month, category and gender.
    async fn staff_statistics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Number of items to return (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which to start (an `endCursor` of the same list).")] after: Option<String>,
        #[graphql(desc = "Conditions on the staff figures.")] filter: Option<StaffFilter>,
        #[graphql(
            desc = "Rows as they stood at this instant: each association-month as its last report accepted by then \
                    gave it (none when it had not reported yet), and only the months released by then for callers \
                    who see released months. Without it, the current rows."
        )]
        as_of: Option<DateTime>,
    ) -> Result<StaffStatisticConnection> {
        let page = PageArgs::new(StaffStatistic::KIND, first, after.as_deref())?;
        let filter = filter.unwrap_or_default();
        let mut conditions: store::StaffConditions = filter.attributes.try_into()?;
        conditions.associations = crate::association::store::resolve(db(ctx), &filter.associations).await?;
        scope(ctx).check_rows("staff figures", &conditions.associations)?;
        let rows = crate::store::page(
            db(ctx),
            as_of_vintage(ctx, store::select_staff(scope(ctx), &conditions), as_of).await?,
            &page,
            wants_total(ctx),
        )
        .await?;
        Ok(StaffStatisticConnection(rows))
    }

    /// Monthly objectives of the associations.
    async fn targets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Number of items to return (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which to start (an `endCursor` of the same list).")] after: Option<String>,
        #[graphql(desc = "Conditions on the targets.")] filter: Option<TargetFilter>,
    ) -> Result<TargetConnection> {
        let page = PageArgs::new(Target::KIND, first, after.as_deref())?;
        let filter = filter.unwrap_or_default();
        let mut conditions: store::TargetConditions = filter.attributes.try_into()?;
        conditions.associations = crate::association::store::resolve(db(ctx), &filter.associations).await?;
        scope(ctx).check_rows("targets", &conditions.associations)?;
        let rows = crate::store::page(
            db(ctx),
            store::select_targets(scope(ctx), &conditions),
            &page,
            wants_total(ctx),
        )
        .await?;
        Ok(TargetConnection(rows))
    }
}

/// One monthly objective of an association, as set by `setTargets`.
#[derive(InputObject)]
pub struct TargetInput {
    /// Month of the year (1 to 12).
    pub month: i32,
    /// Measure the objective is for.
    pub measure: TargetMeasure,
    /// Region code (`MA-06`) the objective is for; none: all the association's regions.
    pub region: Option<String>,
    /// Economic activity the objective is for; none: all activities.
    pub activity: Option<Activity>,
    /// The objective, for measures counted in units (new clients, loans disbursed).
    pub count: Option<i64>,
    /// The objective in MAD, for amount measures (amount disbursed, gross outstanding, repayments collected).
    pub amount: Option<Money>,
}

/// The targets stored by `setTargets`.
#[derive(async_graphql::SimpleObject)]
pub struct TargetsSet {
    /// The association's code.
    pub association: String,
    /// The year whose targets were replaced.
    pub year: i32,
    /// How many monthly targets the year now has.
    pub targets: i32,
}

/// Setting targets.
#[derive(Default)]
pub struct TargetMutation;

#[Object]
impl TargetMutation {
    /// Sets an association's monthly targets for a year, replacing every target it had for that year (over all its
    /// regions, by region and by activity) in one transaction: an association key with the `write` scope for its own
    /// association, or an observatory key with `write` for any. A group's target in `indicators` is the sum of its
    /// associations' targets for it, shown when every association with figures there set one. A target that does
    /// not read (a month outside 1 to 12, an unknown region, a count for an amount measure, the same month, measure,
    /// region and activity twice) answers `BAD_USER_INPUT` naming it (`targets[3].amount`) and stores nothing.
    /// Audited.
    async fn set_targets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Code of the association.")] association: String,
        #[graphql(desc = "The year (2019, 2020, ...).")] year: i32,
        #[graphql(desc = "Every monthly target of the year; an empty list removes them.")] targets: Vec<TargetInput>,
    ) -> Result<TargetsSet> {
        let mut rows = Vec::with_capacity(targets.len());
        for (i, t) in targets.into_iter().enumerate() {
            let measure: db_enums::TargetMeasure = t.measure.into();
            let value = match (targets::is_amount(measure), t.count, t.amount) {
                (false, Some(count), None) if count >= 0 => count,
                (true, None, Some(amount)) => amount.0,
                (false, Some(_), None) => {
                    return Err(ApiError::bad_input(format!("targets[{}].count: a count is 0 or more", i + 1)).into());
                }
                (amount, ..) => {
                    let (field, other) = if amount {
                        ("amount", "count")
                    } else {
                        ("count", "amount")
                    };
                    return Err(ApiError::bad_input(format!(
                        "targets[{}].{field}: {} is set with `{field}` alone (not `{other}`)",
                        i + 1,
                        measure.as_str()
                    ))
                    .into());
                }
            };
            rows.push(targets::NewTarget {
                month: t.month,
                measure,
                region: t.region,
                activity: t.activity.map(Into::into),
                value,
            });
        }
        let count = targets::set(db(ctx), scope(ctx), &association, year, rows).await?;
        Ok(TargetsSet {
            association,
            year,
            targets: count as i32,
        })
    }
}
