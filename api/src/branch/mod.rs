//! The branch registry: object, queries and filters.

pub mod store;

use crate::association::Association;
use crate::context::{db, wants_total};
use crate::enums::{Area, BranchKind, to_db};
use crate::loader::Children;
use crate::pagination::{Node, PageArgs, connection};
use crate::region::Region;
use crate::scalars::Date;
use crate::scope::Scope;
use async_graphql::{Context, InputObject, Object, Result};
use entity::{branch, enums as db_enums};
use sea_orm::Select;

/// A point of sale of an association: a fixed agency or a mobile branch.
pub struct Branch(pub branch::Model);

impl Node for Branch {
    type Model = branch::Model;
    const KIND: &'static str = "branch";
    fn key(model: &branch::Model) -> i64 {
        model.id as i64
    }
}

connection!(
    BranchConnection,
    BranchEdge,
    Branch,
    "A page of branches, in registration order.",
    "A branch in a page, with its cursor."
);

/// A point of sale of an association: a fixed agency or a mobile branch.
#[Object]
impl Branch {
    /// Stable code of the branch, for example `ATLAS-MA06-0012`.
    async fn code(&self) -> &str {
        &self.0.code
    }

    /// Name of the branch.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The association that runs the branch.
    async fn association(&self, ctx: &Context<'_>) -> Result<Association> {
        crate::association::load(ctx, self.0.association_id).await
    }

    /// The region the branch is located in.
    async fn region(&self, ctx: &Context<'_>) -> Result<Region> {
        crate::region::load(ctx, self.0.region_id).await
    }

    /// Fixed agency or mobile branch.
    async fn kind(&self) -> BranchKind {
        self.0.kind.into()
    }

    /// Urban or rural location.
    async fn area(&self) -> Area {
        self.0.area.into()
    }

    /// City or locality.
    async fn city(&self) -> &str {
        &self.0.city
    }

    /// Latitude in decimal degrees (WGS 84).
    async fn latitude(&self) -> f64 {
        self.0.latitude
    }

    /// Longitude in decimal degrees (WGS 84).
    async fn longitude(&self) -> f64 {
        self.0.longitude
    }

    /// Date the branch opened.
    async fn opened_on(&self) -> Date {
        Date(self.0.opened_on)
    }

    /// Date the branch closed; null while it is open.
    async fn closed_on(&self) -> Option<Date> {
        self.0.closed_on.map(Date)
    }
}

/// A branch near a point, with its distance.
#[derive(async_graphql::SimpleObject)]
pub struct NearbyBranch {
    /// The branch.
    pub branch: Branch,
    /// Great-circle distance from the point asked about, in km.
    pub distance_km: f64,
}

/// Most branches `branchesNear` returns at once.
pub const MAX_NEAR: i32 = 100;
/// Largest radius `branchesNear` searches, in km.
pub const MAX_RADIUS_KM: f64 = 500.0;

/// Conditions on a branch's own attributes.
#[derive(InputObject, Default, Clone)]
pub struct BranchAttributes {
    /// Only these kinds.
    pub kinds: Option<Vec<BranchKind>>,
    /// Only these areas.
    pub areas: Option<Vec<Area>>,
    /// Only branches open on this date (opened on or before it and not closed by then).
    pub open_on: Option<Date>,
}

/// Conditions on branches.
#[derive(InputObject, Default, Clone)]
pub struct BranchFilter {
    /// Only branches of these associations (codes).
    pub associations: Option<Vec<String>>,
    /// Only branches in these regions (ISO codes).
    pub regions: Option<Vec<String>>,
    /// Conditions on the branch itself.
    #[graphql(flatten)]
    pub attributes: BranchAttributes,
}

impl From<BranchAttributes> for store::BranchConditions {
    fn from(a: BranchAttributes) -> Self {
        store::BranchConditions {
            associations: None,
            regions: None,
            kinds: to_db::<_, db_enums::BranchKind>(&a.kinds),
            areas: to_db::<_, db_enums::Area>(&a.areas),
            open_on: a.open_on.map(|d| d.0),
        }
    }
}

/// Branches of one association.
pub struct BranchesOfAssociation;
impl Children for BranchesOfAssociation {
    type Entity = branch::Entity;
    type Filter = store::BranchConditions;
    const PARENT: &'static str = "association_id";
    fn select(_scope: &Scope, filter: &Self::Filter) -> Select<branch::Entity> {
        store::select(filter)
    }
}

/// Branches in one region.
pub struct BranchesOfRegion;
impl Children for BranchesOfRegion {
    type Entity = branch::Entity;
    type Filter = store::BranchConditions;
    const PARENT: &'static str = "region_id";
    fn select(_scope: &Scope, filter: &Self::Filter) -> Select<branch::Entity> {
        store::select(filter)
    }
}

/// Queries on the branch registry.
#[derive(Default)]
pub struct BranchQuery;

#[Object]
impl BranchQuery {
    /// One branch by its code. Unknown codes answer NOT_FOUND.
    async fn branch(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Code of the branch.")] code: String,
    ) -> Result<Option<Branch>> {
        Ok(Some(Branch(store::by_code(db(ctx), &code).await?)))
    }

    /// Branches within a radius of a point (for example a phone's position), nearest first, each with its distance.
    /// Works the same on every database backend.
    async fn branches_near(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Latitude of the point, decimal degrees (WGS 84), from -90 to 90.")] latitude: f64,
        #[graphql(desc = "Longitude of the point, decimal degrees (WGS 84), from -180 to 180.")] longitude: f64,
        #[graphql(desc = "Search radius in km, above 0 and at most 500.", default = 10.0)] radius_km: f64,
        #[graphql(desc = "Number of branches to return (default 20, at most 100).", default = 20)] first: i32,
        #[graphql(desc = "Conditions on the branches.")] filter: Option<BranchFilter>,
    ) -> Result<Vec<NearbyBranch>> {
        if !(-90.0..=90.0).contains(&latitude) || !(-180.0..=180.0).contains(&longitude) {
            return Err(crate::error::ApiError::bad_input(format!(
                "({latitude}, {longitude}) is not a position: latitude runs from -90 to 90, longitude from -180 to 180"
            ))
            .into());
        }
        if !(radius_km > 0.0 && radius_km <= MAX_RADIUS_KM) {
            return Err(crate::error::ApiError::bad_input(format!(
                "radiusKm must be above 0 and at most {MAX_RADIUS_KM} (got {radius_km})"
            ))
            .into());
        }
        if !(1..=MAX_NEAR).contains(&first) {
            return Err(crate::error::ApiError::bad_input(format!("first must be from 1 to {MAX_NEAR}")).into());
        }
        let filter = filter.unwrap_or_default();
        let mut conditions: store::BranchConditions = filter.attributes.into();
        conditions.associations = crate::association::store::resolve(db(ctx), &filter.associations).await?;
        conditions.regions = crate::region::resolve(ctx, &filter.regions).await?;
        Ok(
            store::near(db(ctx), &conditions, (latitude, longitude), radius_km, first as usize)
                .await?
                .into_iter()
                .map(|(branch, distance_km)| NearbyBranch {
                    branch: Branch(branch),
                    distance_km,
                })
                .collect(),
        )
    }

    /// The branch registry, filtered, in registration order.
    async fn branches(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Number of items to return (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which to start (an `endCursor` of the same list).")] after: Option<String>,
        #[graphql(desc = "Conditions on the branches.")] filter: Option<BranchFilter>,
    ) -> Result<BranchConnection> {
        let page = PageArgs::new(Branch::KIND, first, after.as_deref())?;
        let filter = filter.unwrap_or_default();
        let mut conditions: store::BranchConditions = filter.attributes.into();
        conditions.associations = crate::association::store::resolve(db(ctx), &filter.associations).await?;
        conditions.regions = crate::region::resolve(ctx, &filter.regions).await?;
        // Branches shown with their association are read with it, in one statement; the loader then has it.
        let look = ctx.look_ahead();
        if look.field("nodes").field("association").exists()
            || look.field("edges").field("node").field("association").exists()
        {
            let (page, associations) =
                store::list_with_associations(db(ctx), &conditions, &page, wants_total(ctx)).await?;
            crate::context::loader(ctx)
                .feed_many(
                    associations
                        .into_iter()
                        .map(|a| (crate::loader::Id::<entity::association::Entity>::new(a.id), a)),
                )
                .await;
            return Ok(BranchConnection(page));
        }
        Ok(BranchConnection(
            store::list(db(ctx), &conditions, &page, wants_total(ctx)).await?,
        ))
    }
}
