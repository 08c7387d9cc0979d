//! Training actions of the centre.

pub mod store;

use crate::context::{db, wants_total};
use crate::enums::{Delivery, TrainingAudience, TrainingFormat, to_db};
use crate::loader::Children;
use crate::pagination::{Node, PageArgs, connection};
use crate::programme::Programme;
use crate::region::Region;
use crate::scalars::Date;
use crate::scope::Scope;
use async_graphql::{Context, InputObject, Object, Result};
use entity::enums as db_enums;
use entity::training_action;
use sea_orm::Select;
use store::TrainingConditions;

/// A training action of the centre: a course, an e-learning session, engineering or logistical support.
pub struct TrainingAction(pub training_action::Model);

impl Node for TrainingAction {
    type Model = training_action::Model;
    const KIND: &'static str = "trainingAction";
    fn key(model: &training_action::Model) -> i64 {
        model.id as i64
    }
}

connection!(
    TrainingActionConnection,
    TrainingActionEdge,
    TrainingAction,
    "A page of training actions, in registration order.",
    "A training action in a page, with its cursor."
);

/// A training action of the centre: a course, an e-learning session, engineering or logistical support.
#[Object]
impl TrainingAction {
    /// Stable code of the action, for example `TR-2020-001`.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Format of the action.
    async fn format(&self) -> TrainingFormat {
        self.0.format.into()
    }
    /// Who the action was for.
    async fn audience(&self) -> TrainingAudience {
        self.0.audience.into()
    }
    /// Topic of the action.
    async fn topic(&self) -> &str {
        &self.0.topic
    }
    /// On site, remote or blended.
    async fn delivery(&self) -> Delivery {
        self.0.delivery.into()
    }
    /// First day.
    async fn starts_on(&self) -> Date {
        Date(self.0.starts_on)
    }
    /// Last day.
    async fn ends_on(&self) -> Date {
        Date(self.0.ends_on)
    }
    /// Programme the action belongs to, if any.
    async fn programme(&self, ctx: &Context<'_>) -> Result<Option<Programme>> {
        match self.0.programme_id {
            Some(id) => Ok(Some(crate::programme::load(ctx, id).await?)),
            None => Ok(None),
        }
    }
    /// Region where the action took place, if it took place in one region.
    async fn region(&self, ctx: &Context<'_>) -> Result<Option<Region>> {
        match self.0.region_id {
            Some(id) => Ok(Some(crate::region::load(ctx, id).await?)),
            None => Ok(None),
        }
    }
    /// Training days delivered (days).
    async fn training_days(&self) -> i32 {
        self.0.training_days
    }
    /// Participants (count).
    async fn participants(&self) -> i32 {
        self.0.participants
    }
    /// Person-days of training as reported by the centre (not recomputed from days × participants).
    async fn person_days(&self) -> i32 {
        self.0.person_days
    }
}

/// Conditions on training actions.
#[derive(InputObject, Default, Clone)]
pub struct TrainingFilter {
    /// Only actions that started in this year.
    pub year: Option<i32>,
    /// Only these formats.
    pub formats: Option<Vec<TrainingFormat>>,
    /// Only these audiences.
    pub audiences: Option<Vec<TrainingAudience>>,
    /// Only these deliveries.
    pub deliveries: Option<Vec<Delivery>>,
    /// Only actions of these programmes (codes).
    pub programmes: Option<Vec<String>>,
    /// Only actions in these regions (ISO codes).
    pub regions: Option<Vec<String>>,
}

/// Training actions of one programme.
pub struct TrainingActionsOfProgramme;
impl Children for TrainingActionsOfProgramme {
    type Entity = training_action::Entity;
    type Filter = TrainingConditions;
    const PARENT: &'static str = "programme_id";
    fn select(_scope: &Scope, filter: &TrainingConditions) -> Select<training_action::Entity> {
        store::select(filter)
    }
}

/// Queries on training actions.
#[derive(Default)]
pub struct TrainingQuery;

#[Object]
impl TrainingQuery {
    /// One training action by its code. Unknown codes answer NOT_FOUND.
    async fn training_action(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Code of the action, for example `TR-2020-001`.")] code: String,
    ) -> Result<Option<TrainingAction>> {
        Ok(Some(TrainingAction(store::by_code(db(ctx), &code).await?)))
    }

    /// Training actions of the centre, in registration order.
    async fn training_actions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Number of items to return (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which to start (an `endCursor` of the same list).")] after: Option<String>,
        #[graphql(desc = "Conditions on the actions.")] filter: Option<TrainingFilter>,
    ) -> Result<TrainingActionConnection> {
        let page = PageArgs::new(TrainingAction::KIND, first, after.as_deref())?;
        let f = filter.unwrap_or_default();
        let conditions = TrainingConditions {
            year: f.year,
            formats: to_db::<_, db_enums::TrainingFormat>(&f.formats),
            audiences: to_db::<_, db_enums::TrainingAudience>(&f.audiences),
            deliveries: to_db::<_, db_enums::Delivery>(&f.deliveries),
            programmes: crate::programme::store::resolve(db(ctx), &f.programmes).await?,
            regions: crate::region::resolve(ctx, &f.regions).await?,
        };
        Ok(TrainingActionConnection(
            store::list(db(ctx), &conditions, &page, wants_total(ctx)).await?,
        ))
    }
}

pub mod summary;

/// A dimension of the training aggregates.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "summary::TrainingDim")]
pub enum TrainingDimension {
    /// Year the action started.
    Year,
    /// Format of the action.
    Format,
    /// Audience of the action.
    Audience,
    /// Delivery of the action.
    Delivery,
}

/// Conditions on the training actions summed.
#[derive(InputObject, Default, Clone)]
pub struct TrainingSummaryFilter {
    /// First year included (actions that started in it or later).
    pub from_year: Option<i32>,
    /// Last year included.
    pub to_year: Option<i32>,
    /// Only these formats.
    pub formats: Option<Vec<TrainingFormat>>,
    /// Only these audiences.
    pub audiences: Option<Vec<TrainingAudience>>,
    /// Only these deliveries.
    pub deliveries: Option<Vec<Delivery>>,
}

/// Training actions summed over one group. Dimensions not grouped by are null.
#[derive(async_graphql::SimpleObject)]
pub struct TrainingIndicatorRow {
    /// Year the actions started, when grouped by YEAR.
    pub year: Option<i32>,
    /// Format, when grouped by FORMAT.
    pub format: Option<TrainingFormat>,
    /// Audience, when grouped by AUDIENCE.
    pub audience: Option<TrainingAudience>,
    /// Delivery, when grouped by DELIVERY.
    pub delivery: Option<Delivery>,
    /// Number of training actions (count).
    pub actions: i64,
    /// Training days delivered (days).
    pub training_days: i64,
    /// Participants (count).
    pub participants: i64,
    /// Person-days of training as reported (days; not recomputed from days × participants).
    pub person_days: i64,
    /// Participants since the centre began (2008), at the end of the row's year: the latest published total at or
    /// before it plus the actions recorded after. Only when grouped by YEAR alone and filtered by years only; null for
    /// years before the first published total (the end of 2020: 70,995).
    pub cumulative_participants: Option<i64>,
    /// Person-days of training since the centre began, at the end of the row's year, as `cumulativeParticipants`
    /// (end of 2020: 160,979).
    pub cumulative_person_days: Option<i64>,
}

/// Aggregates of the centre's training activity.
#[derive(Default)]
pub struct TrainingSummaryQuery;

#[Object]
impl TrainingSummaryQuery {
    /// Training actions summed by year, format, audience and delivery (one row per group, in group order).
    async fn training_indicators(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Dimensions to group by.", default_with = "vec![TrainingDimension::Year]")] group_by: Vec<
            TrainingDimension,
        >,
        #[graphql(desc = "Conditions on the actions.")] filter: Option<TrainingSummaryFilter>,
    ) -> Result<Vec<TrainingIndicatorRow>> {
        let f = filter.unwrap_or_default();
        let mut dims: Vec<summary::TrainingDim> = group_by.into_iter().map(Into::into).collect();
        dims.sort();
        dims.dedup();
        let filter = summary::TrainingSummaryFilter {
            from_year: f.from_year,
            to_year: f.to_year,
            formats: to_db::<_, db_enums::TrainingFormat>(&f.formats),
            audiences: to_db::<_, db_enums::TrainingAudience>(&f.audiences),
            deliveries: to_db::<_, db_enums::Delivery>(&f.deliveries),
        };
        let rows = summary::summarise(db(ctx), &dims, &filter).await?;
        // Running totals make sense for the whole activity year by year.
        let yearly = dims == [summary::TrainingDim::Year]
            && filter.formats.is_none()
            && filter.audiences.is_none()
            && filter.deliveries.is_none();
        let cumulative = if yearly {
            let years: Vec<i32> = rows.iter().filter_map(|r| r.year).collect();
            summary::cumulative(db(ctx), &years).await?
        } else {
            Vec::new()
        };
        let since = |year: Option<i32>| {
            cumulative
                .iter()
                .find(|(y, _)| Some(*y) == year)
                .and_then(|(_, total)| *total)
        };
        Ok(rows
            .into_iter()
            .map(|r| TrainingIndicatorRow {
                cumulative_participants: since(r.year).map(|c| c.participants),
                cumulative_person_days: since(r.year).map(|c| c.person_days),
                year: r.year,
                format: r.format.map(Into::into),
                audience: r.audience.map(Into::into),
                delivery: r.delivery.map(Into::into),
                actions: r.actions,
                training_days: r.training_days,
                participants: r.participants,
                person_days: r.person_days,
            })
            .collect())
    }
}
