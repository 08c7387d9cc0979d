//! Microcredit associations: object, queries and child lists.

pub mod store;

use crate::branch::{Branch, BranchAttributes, BranchConnection, BranchesOfAssociation};
use crate::context::{db, loader, scope, wants_total};
use crate::enums::{AssociationStatus, to_db};
use crate::loader::ChildKey;
use crate::pagination::{Node, PageArgs, connection};
use crate::statistics::{
    CellAttributes, ClientStatistic, ClientStatisticConnection, ClientStatsOfAssociation, LoanStatistic,
    LoanStatisticConnection, LoanStatsOfAssociation, StaffAttributes, StaffOfAssociation, StaffStatistic,
    StaffStatisticConnection, Target, TargetAttributes, TargetConnection, TargetsOfAssociation,
};
use async_graphql::{Context, InputObject, Object, Result};
use entity::association;

/// A microcredit association (AMC) that reports its monthly figures to the observatory.
pub struct Association(pub association::Model);

impl Node for Association {
    type Model = association::Model;
    const KIND: &'static str = "association";
    fn key(model: &association::Model) -> i64 {
        model.id as i64
    }
}

connection!(
    AssociationConnection,
    AssociationEdge,
    Association,
    "A page of associations, in registration order (the order of their ids).",
    "An association in a page, with its cursor."
);

/// A microcredit association (AMC) that reports its monthly figures to the observatory.
#[Object]
impl Association {
    /// Stable code of the association, for example `ATLAS`.
    async fn code(&self) -> &str {
        &self.0.code
    }

    /// `nameFr`, `nameAr`, `nameEn`, `name(lang)`.
    #[graphql(flatten)]
    async fn names(&self) -> crate::labels::Names<'_> {
        crate::labels::Names {
            fr: &self.0.name_fr,
            ar: &self.0.name_ar,
            en: self.0.name_en.as_deref().unwrap_or(&self.0.name_fr),
        }
    }

    /// Year the association was founded.
    async fn founded_year(&self) -> i32 {
        self.0.founded_year
    }

    /// Whether the association is active, merged or closed.
    async fn status(&self) -> AssociationStatus {
        self.0.status.into()
    }

    /// City of the head office.
    async fn head_office_city(&self) -> &str {
        &self.0.head_office_city
    }

    /// The association's branches, in registration order.
    async fn branches(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Number of items to return (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which to start (an `endCursor` of the same list).")] after: Option<String>,
        #[graphql(desc = "Conditions on the branches.")] filter: Option<BranchAttributes>,
    ) -> Result<BranchConnection> {
        let page = PageArgs::new(Branch::KIND, first, after.as_deref())?;
        let key = ChildKey::<BranchesOfAssociation>::new(self.0.id, filter.unwrap_or_default().into(), page);
        Ok(BranchConnection(loader(ctx).load_one(key).await?.unwrap_or_default()))
    }

    /// The association's monthly client statistics.
    async fn client_statistics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Number of items to return (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which to start (an `endCursor` of the same list).")] after: Option<String>,
        #[graphql(desc = "Conditions on the statistics.")] filter: Option<CellAttributes>,
    ) -> Result<ClientStatisticConnection> {
        scope(ctx).check_rows_of(self.0.id, "client statistics")?;
        let page = PageArgs::new(ClientStatistic::KIND, first, after.as_deref())?;
        let key = ChildKey::<ClientStatsOfAssociation>::new(self.0.id, filter.unwrap_or_default().try_into()?, page);
        Ok(ClientStatisticConnection(
            loader(ctx).load_one(key).await?.unwrap_or_default(),
        ))
    }

    /// The association's monthly loan and portfolio statistics.
    async fn loan_statistics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Number of items to return (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which to start (an `endCursor` of the same list).")] after: Option<String>,
        #[graphql(desc = "Conditions on the statistics.")] filter: Option<CellAttributes>,
    ) -> Result<LoanStatisticConnection> {
        scope(ctx).check_rows_of(self.0.id, "loan statistics")?;
        let page = PageArgs::new(LoanStatistic::KIND, first, after.as_deref())?;
        let key = ChildKey::<LoanStatsOfAssociation>::new(self.0.id, filter.unwrap_or_default().try_into()?, page);
        Ok(LoanStatisticConnection(
            loader(ctx).load_one(key).await?.unwrap_or_default(),
        ))
    }

    /// The association's month-end staff headcount.
    async fn staff_statistics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Number of items to return (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which to start (an `endCursor` of the same list).")] after: Option<String>,
        #[graphql(desc = "Conditions on the staff figures.")] filter: Option<StaffAttributes>,
    ) -> Result<StaffStatisticConnection> {
        scope(ctx).check_rows_of(self.0.id, "staff figures")?;
        let page = PageArgs::new(StaffStatistic::KIND, first, after.as_deref())?;
        let key = ChildKey::<StaffOfAssociation>::new(self.0.id, filter.unwrap_or_default().try_into()?, page);
        Ok(StaffStatisticConnection(
            loader(ctx).load_one(key).await?.unwrap_or_default(),
        ))
    }

    /// The association's monthly objectives.
    async fn targets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Number of items to return (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which to start (an `endCursor` of the same list).")] after: Option<String>,
        #[graphql(desc = "Conditions on the targets.")] filter: Option<TargetAttributes>,
    ) -> Result<TargetConnection> {
        scope(ctx).check_rows_of(self.0.id, "targets")?;
        let page = PageArgs::new(Target::KIND, first, after.as_deref())?;
        let key = ChildKey::<TargetsOfAssociation>::new(self.0.id, filter.unwrap_or_default().try_into()?, page);
        Ok(TargetConnection(loader(ctx).load_one(key).await?.unwrap_or_default()))
    }
}

/// Conditions on associations.
#[derive(InputObject, Default)]
pub struct AssociationFilter {
    /// Only associations in these states.
    pub statuses: Option<Vec<AssociationStatus>>,
}

/// Queries on associations.
#[derive(Default)]
pub struct AssociationQuery;

#[Object]
impl AssociationQuery {
    /// One association by its code. Unknown codes answer NOT_FOUND.
    async fn association(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Code of the association, for example `ATLAS`.")] code: String,
    ) -> Result<Option<Association>> {
        Ok(Some(Association(store::by_code(db(ctx), &code).await?)))
    }

    /// Associations, in registration order (the order of their ids).
    async fn associations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Number of items to return (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which to start (an `endCursor` of the same list).")] after: Option<String>,
        #[graphql(desc = "Conditions on the associations.")] filter: Option<AssociationFilter>,
    ) -> Result<AssociationConnection> {
        let page = PageArgs::new(Association::KIND, first, after.as_deref())?;
        let statuses = to_db(&filter.unwrap_or_default().statuses);
        Ok(AssociationConnection(
            store::list(db(ctx), &statuses, &page, wants_total(ctx)).await?,
        ))
    }
}

/// The association with this internal id, through the request's loader.
pub async fn load(ctx: &Context<'_>, id: i32) -> Result<Association> {
    Ok(Association(
        crate::loader::by_id::<association::Entity>(ctx, id, "association").await?,
    ))
}
