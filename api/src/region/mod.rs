//! Regions of Morocco: object, queries and child lists.

pub mod store;

use crate::branch::{Branch, BranchAttributes, BranchConnection, BranchesOfRegion};
use crate::context::{db, loader, scope, wants_total};
use crate::loader::ChildKey;
use crate::pagination::{Node, PageArgs, connection};
use crate::statistics::{
    CellAttributes, ClientStatistic, ClientStatisticConnection, ClientStatsOfRegion, LoanStatistic,
    LoanStatisticConnection, LoanStatsOfRegion,
};
use async_graphql::{Context, Object, Result};
use entity::region;

/// Turns an optional list of region codes from a request into ids, refusing unknown codes: from the schema's
/// `store::Known` table when it has one, else with a statement.
pub async fn resolve(ctx: &Context<'_>, codes: &Option<Vec<String>>) -> crate::error::ApiResult<Option<Vec<i32>>> {
    match ctx.data_opt::<store::Known>() {
        Some(known) => known.resolve(db(ctx), codes).await,
        None => store::resolve(db(ctx), codes).await,
    }
}

/// One of the 12 regions of Morocco (administrative division of 2015).
pub struct Region(pub region::Model);

impl Node for Region {
    type Model = region::Model;
    const KIND: &'static str = "region";
    fn key(model: &region::Model) -> i64 {
        model.id as i64
    }
}

connection!(
    RegionConnection,
    RegionEdge,
    Region,
    "A page of regions, in the order they were registered (MA-01 to MA-12 as seeded).",
    "A region in a page, with its cursor."
);

/// One of the 12 regions of Morocco (administrative division of 2015).
#[Object]
impl Region {
    /// ISO 3166-2:MA code, from `MA-01` (Tanger-Tétouan-Al Hoceïma) to `MA-12` (Dakhla-Oued Ed-Dahab).
    async fn code(&self) -> &str {
        &self.0.code
    }

    /// `nameFr`, `nameAr`, `nameEn`, `name(lang)`.
    #[graphql(flatten)]
    async fn names(&self) -> crate::labels::Names<'_> {
        crate::labels::Names {
            fr: &self.0.name_fr,
            ar: &self.0.name_ar,
            en: &self.0.name_en,
        }
    }

    /// Branches located in this region, ordered by registration.
    async fn branches(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Number of items to return (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which to start (an `endCursor` of the same list).")] after: Option<String>,
        #[graphql(desc = "Conditions on the branches.")] filter: Option<BranchAttributes>,
    ) -> Result<BranchConnection> {
        let page = PageArgs::new(Branch::KIND, first, after.as_deref())?;
        let key = ChildKey::<BranchesOfRegion>::new(self.0.id, filter.unwrap_or_default().into(), page);
        Ok(BranchConnection(loader(ctx).load_one(key).await?.unwrap_or_default()))
    }

    /// Monthly client statistics reported for this region, by association, segment, gender and area.
    async fn client_statistics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Number of items to return (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which to start (an `endCursor` of the same list).")] after: Option<String>,
        #[graphql(desc = "Conditions on the statistics.")] filter: Option<CellAttributes>,
    ) -> Result<ClientStatisticConnection> {
        scope(ctx).check_rows("client statistics", &None)?;
        let page = PageArgs::new(ClientStatistic::KIND, first, after.as_deref())?;
        let key = ChildKey::<ClientStatsOfRegion>::new(self.0.id, filter.unwrap_or_default().try_into()?, page);
        Ok(ClientStatisticConnection(
            loader(ctx).load_one(key).await?.unwrap_or_default(),
        ))
    }

    /// Monthly loan and portfolio statistics reported for this region.
    async fn loan_statistics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Number of items to return (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which to start (an `endCursor` of the same list).")] after: Option<String>,
        #[graphql(desc = "Conditions on the statistics.")] filter: Option<CellAttributes>,
    ) -> Result<LoanStatisticConnection> {
        scope(ctx).check_rows("loan statistics", &None)?;
        let page = PageArgs::new(LoanStatistic::KIND, first, after.as_deref())?;
        let key = ChildKey::<LoanStatsOfRegion>::new(self.0.id, filter.unwrap_or_default().try_into()?, page);
        Ok(LoanStatisticConnection(
            loader(ctx).load_one(key).await?.unwrap_or_default(),
        ))
    }
}

/// Queries on regions.
#[derive(Default)]
pub struct RegionQuery;

#[Object]
impl RegionQuery {
    /// One region by its ISO 3166-2 code (for example `MA-06`). Unknown codes answer NOT_FOUND.
    async fn region(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "ISO 3166-2:MA code, for example `MA-06`.")] code: String,
    ) -> Result<Option<Region>> {
        Ok(Some(Region(store::by_code(db(ctx), &code).await?)))
    }

    /// All regions, in the order they were registered (MA-01 to MA-12 as seeded).
    async fn regions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Number of items to return (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which to start (an `endCursor` of the same list).")] after: Option<String>,
    ) -> Result<RegionConnection> {
        let page = PageArgs::new(Region::KIND, first, after.as_deref())?;
        let rows = store::list(db(ctx), &page, wants_total(ctx)).await?;
        Ok(RegionConnection(rows))
    }
}

/// The region with this internal id, through the request's loader.
pub async fn load(ctx: &Context<'_>, id: i32) -> Result<Region> {
    Ok(Region(crate::loader::by_id::<region::Entity>(ctx, id, "region").await?))
}
