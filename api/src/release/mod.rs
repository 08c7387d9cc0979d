//! Released months: the periods the observatory has opened to partners.

pub mod store;

use crate::context::{db, scope, wants_total};
use crate::pagination::{Node, PageArgs, connection};
use crate::period::Month;
use crate::scalars::{DateTime, Period};
use async_graphql::{Context, Object, Result};
use entity::release;

/// A month whose statistics the observatory has checked and released to partners.
pub struct Release(pub release::Model);

impl Node for Release {
    type Model = release::Model;
    const KIND: &'static str = "release";
    fn key(model: &release::Model) -> i64 {
        model.id as i64
    }
}

connection!(
    ReleaseConnection,
    ReleaseEdge,
    Release,
    "A page of released months, in the order they were released.",
    "A released month in a page, with its cursor."
);

/// A month whose statistics the observatory has checked and released to partners.
#[Object]
impl Release {
    /// The released month.
    async fn period(&self) -> Period {
        Period::month(Month(self.0.period))
    }
    /// When it was released.
    async fn released_at(&self) -> DateTime {
        DateTime(self.0.released_at)
    }
    /// Note of the observatory on the release.
    async fn note(&self) -> &str {
        &self.0.note
    }
}

/// Queries on releases.
#[derive(Default)]
pub struct ReleaseQuery;

#[Object]
impl ReleaseQuery {
    /// Months released to partners.
    async fn releases(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Number of items to return (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which to start (an `endCursor` of the same list).")] after: Option<String>,
    ) -> Result<ReleaseConnection> {
        let page = PageArgs::new(Release::KIND, first, after.as_deref())?;
        Ok(ReleaseConnection(store::list(db(ctx), &page, wants_total(ctx)).await?))
    }
}

/// The observatory's release workflow.
#[derive(Default)]
pub struct ReleaseMutation;

#[Object]
impl ReleaseMutation {
    /// Releases a month to partners and the public (an observatory key with the `admin` scope). Audited. A month
    /// with missing reports (an association expected to report it, as `reportingStatus` lists it, without an
    /// accepted report) is refused with `CONFLICT` naming them, unless `force` is true and a `note` says why; the
    /// audit event of a forced release records the note and the missing associations.
    async fn release_period(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The month to release, for example `2021-01`.")] period: Period,
        #[graphql(desc = "Note on the release; required (not blank) with `force`.", default)] note: String,
        #[graphql(
            desc = "Release even though expected associations have not reported the month; needs a `note`.",
            default
        )]
        force: bool,
    ) -> Result<Release> {
        let actor = scope(ctx);
        actor.require_observatory("releasing a month")?;
        if period.0.granularity != crate::period::Granularity::Month {
            return Err(crate::error::ApiError::bad_input(format!(
                "releases are monthly: `{}` is not a month",
                period.0
            ))
            .into());
        }
        Ok(Release(
            store::release(db(ctx), actor, period.0.start, note, force).await?,
        ))
    }
}
