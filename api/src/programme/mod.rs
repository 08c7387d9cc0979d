//! Support programmes of the centre and their outcomes.

pub mod store;

use crate::context::{db, loader, wants_total};
use crate::enums::{OutcomeGender, Sector, to_db};
use crate::loader::{ChildKey, Children};
use crate::pagination::{Node, PageArgs, connection};
use crate::region::Region;
use crate::scalars::Money;
use crate::scope::Scope;
use crate::training::{TrainingAction, TrainingActionConnection, TrainingActionsOfProgramme};
use async_graphql::{Context, InputObject, Object, Result};
use entity::enums as db_enums;
use entity::{programme, programme_outcome};
use sea_orm::Select;
use store::OutcomeConditions;

/// A support programme run by the centre with its partners (calls for projects, prizes, grants).
pub struct Programme(pub programme::Model);

impl Node for Programme {
    type Model = programme::Model;
    const KIND: &'static str = "programme";
    fn key(model: &programme::Model) -> i64 {
        model.id as i64
    }
}

connection!(
    ProgrammeConnection,
    ProgrammeEdge,
    Programme,
    "A page of programmes, in registration order.",
    "A programme in a page, with its cursor."
);

/// A support programme run by the centre with its partners (calls for projects, prizes, grants).
#[Object]
impl Programme {
    /// Stable code of the programme, for example `IGA-2020`.
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
    /// Main funder.
    async fn funder(&self) -> &str {
        &self.0.funder
    }
    /// Partners of the programme.
    async fn partners(&self) -> &str {
        &self.0.partners
    }
    /// Edition number, for recurring programmes.
    async fn edition(&self) -> Option<i32> {
        self.0.edition
    }
    /// Year of the edition.
    async fn year(&self) -> i32 {
        self.0.year
    }
    /// Number of candidates, where the programme selects among applicants.
    async fn candidates(&self) -> Option<i32> {
        self.0.candidates
    }
    /// What the programme does.
    async fn description(&self) -> &str {
        &self.0.description
    }

    /// Beneficiaries and grants by sector and gender (and region when known).
    async fn outcomes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Number of items to return (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which to start (an `endCursor` of the same list).")] after: Option<String>,
        #[graphql(desc = "Conditions on the outcomes.")] filter: Option<OutcomeAttributes>,
    ) -> Result<ProgrammeOutcomeConnection> {
        let page = PageArgs::new(ProgrammeOutcome::KIND, first, after.as_deref())?;
        let key = ChildKey::<OutcomesOfProgramme>::new(self.0.id, filter.unwrap_or_default().into(), page);
        Ok(ProgrammeOutcomeConnection(
            loader(ctx).load_one(key).await?.unwrap_or_default(),
        ))
    }

    /// Training actions delivered under this programme.
    async fn training_actions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Number of items to return (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which to start (an `endCursor` of the same list).")] after: Option<String>,
    ) -> Result<TrainingActionConnection> {
        let page = PageArgs::new(TrainingAction::KIND, first, after.as_deref())?;
        let key = ChildKey::<TrainingActionsOfProgramme>::new(self.0.id, Default::default(), page);
        Ok(TrainingActionConnection(
            loader(ctx).load_one(key).await?.unwrap_or_default(),
        ))
    }
}

/// Beneficiaries and grants of a programme in one sector and gender (and region when known).
pub struct ProgrammeOutcome(pub programme_outcome::Model);

impl Node for ProgrammeOutcome {
    type Model = programme_outcome::Model;
    const KIND: &'static str = "programmeOutcome";
    fn key(model: &programme_outcome::Model) -> i64 {
        model.id as i64
    }
}

connection!(
    ProgrammeOutcomeConnection,
    ProgrammeOutcomeEdge,
    ProgrammeOutcome,
    "A page of programme outcomes, in registration order.",
    "A programme outcome in a page, with its cursor."
);

/// Beneficiaries and grants of a programme in one sector and gender (and region when known).
#[Object]
impl ProgrammeOutcome {
    /// The programme.
    async fn programme(&self, ctx: &Context<'_>) -> Result<Programme> {
        load(ctx, self.0.programme_id).await
    }
    /// Sector of the beneficiaries' activity.
    async fn sector(&self) -> Sector {
        self.0.sector.into()
    }
    /// Gender of the beneficiaries, UNSPECIFIED where the source does not say.
    async fn gender(&self) -> OutcomeGender {
        self.0.gender.into()
    }
    /// Region of the beneficiaries; null when the source does not say.
    async fn region(&self, ctx: &Context<'_>) -> Result<Option<Region>> {
        match self.0.region_id {
            Some(id) => Ok(Some(crate::region::load(ctx, id).await?)),
            None => Ok(None),
        }
    }
    /// Beneficiaries (winners, people supported or trained) (count).
    async fn beneficiaries(&self) -> i32 {
        self.0.beneficiaries
    }
    /// Grants awarded (MAD); zero where the programme grants none.
    async fn grant_amount(&self) -> Money {
        Money(self.0.grant_amount)
    }
}

/// Conditions on programme outcomes within a programme.
#[derive(InputObject, Default, Clone)]
pub struct OutcomeAttributes {
    /// Only these sectors.
    pub sectors: Option<Vec<Sector>>,
    /// Only these genders.
    pub genders: Option<Vec<OutcomeGender>>,
}

impl From<OutcomeAttributes> for OutcomeConditions {
    fn from(a: OutcomeAttributes) -> Self {
        OutcomeConditions {
            programmes: None,
            regions: None,
            sectors: to_db::<_, db_enums::Sector>(&a.sectors),
            genders: to_db::<_, db_enums::OutcomeGender>(&a.genders),
        }
    }
}

/// Conditions on programme outcomes.
#[derive(InputObject, Default, Clone)]
pub struct OutcomeFilter {
    /// Only outcomes of these programmes (codes).
    pub programmes: Option<Vec<String>>,
    /// Only outcomes in these regions (ISO codes).
    pub regions: Option<Vec<String>>,
    /// Conditions on sector and gender.
    #[graphql(flatten)]
    pub attributes: OutcomeAttributes,
}

/// Conditions on programmes.
#[derive(InputObject, Default, Clone)]
pub struct ProgrammeFilter {
    /// Only programmes of this year.
    pub year: Option<i32>,
}

/// Outcomes of one programme.
pub struct OutcomesOfProgramme;
impl Children for OutcomesOfProgramme {
    type Entity = programme_outcome::Entity;
    type Filter = OutcomeConditions;
    const PARENT: &'static str = "programme_id";
    fn select(_scope: &Scope, filter: &OutcomeConditions) -> Select<programme_outcome::Entity> {
        store::select_outcomes(filter)
    }
}

/// The programme with this internal id, through the request's loader.
pub async fn load(ctx: &Context<'_>, id: i32) -> Result<Programme> {
    Ok(Programme(
        crate::loader::by_id::<programme::Entity>(ctx, id, "programme").await?,
    ))
}

/// Queries on programmes.
#[derive(Default)]
pub struct ProgrammeQuery;

#[Object]
impl ProgrammeQuery {
    /// One programme by its code. Unknown codes answer NOT_FOUND.
    async fn programme(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Code of the programme, for example `IGA-2020`.")] code: String,
    ) -> Result<Option<Programme>> {
        Ok(Some(Programme(store::by_code(db(ctx), &code).await?)))
    }

    /// Support programmes, in registration order.
    async fn programmes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Number of items to return (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which to start (an `endCursor` of the same list).")] after: Option<String>,
        #[graphql(desc = "Conditions on the programmes.")] filter: Option<ProgrammeFilter>,
    ) -> Result<ProgrammeConnection> {
        let page = PageArgs::new(Programme::KIND, first, after.as_deref())?;
        let year = filter.unwrap_or_default().year;
        Ok(ProgrammeConnection(
            store::list(db(ctx), year, &page, wants_total(ctx)).await?,
        ))
    }

    /// Outcomes of programmes by sector and gender, across programmes.
    async fn programme_outcomes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Number of items to return (default 50, at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor after which to start (an `endCursor` of the same list).")] after: Option<String>,
        #[graphql(desc = "Conditions on the outcomes.")] filter: Option<OutcomeFilter>,
    ) -> Result<ProgrammeOutcomeConnection> {
        let page = PageArgs::new(ProgrammeOutcome::KIND, first, after.as_deref())?;
        let filter = filter.unwrap_or_default();
        let mut conditions: OutcomeConditions = filter.attributes.into();
        conditions.programmes = store::resolve(db(ctx), &filter.programmes).await?;
        conditions.regions = crate::region::resolve(ctx, &filter.regions).await?;
        let rows = store::list_outcomes(db(ctx), &conditions, &page, wants_total(ctx)).await?;
        Ok(ProgrammeOutcomeConnection(rows))
    }
}

pub mod summary;

/// A dimension of the programme aggregates.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "summary::ProgrammeDim")]
pub enum ProgrammeDimension {
    /// The programme.
    Programme,
    /// Sector of the beneficiaries' activity.
    Sector,
    /// Economic activity the beneficiaries' sectors fall under (a code of the `ACTIVITY` code list: AGRIFOOD under
    /// PRODUCTION, ARTS_CRAFTS under CRAFTS, the service trades under SERVICES), as loans are classified.
    Activity,
    /// Gender of the beneficiaries.
    Gender,
    /// Region of the beneficiaries (null where the source does not say).
    Region,
}

/// Conditions on the programme outcomes summed.
#[derive(InputObject, Default, Clone)]
pub struct ProgrammeSummaryFilter {
    /// Only these programmes (codes).
    pub programmes: Option<Vec<String>>,
    /// First programme year included.
    pub from_year: Option<i32>,
    /// Last programme year included.
    pub to_year: Option<i32>,
}

/// Programme outcomes summed over one group, and its share of the answer's beneficiaries (hundredths of a percent).
pub struct ProgrammeIndicatorRow(summary::ProgrammeSummaryRow, Option<i64>);

/// Programme outcomes summed over one group. Dimensions not grouped by are null.
#[Object]
impl ProgrammeIndicatorRow {
    /// The programme, when grouped by PROGRAMME.
    async fn programme(&self, ctx: &Context<'_>) -> Result<Option<Programme>> {
        match self.0.programme {
            Some(id) => Ok(Some(load(ctx, id).await?)),
            None => Ok(None),
        }
    }
    /// The sector, when grouped by SECTOR.
    async fn sector(&self) -> Option<Sector> {
        self.0.sector.map(Into::into)
    }
    /// The economic activity, when grouped by ACTIVITY: its code, parent and labels.
    async fn activity(&self) -> Option<crate::labels::CodeLabel> {
        let code = crate::labels::code_of("ACTIVITY", self.0.activity?)?;
        Some(crate::labels::CodeLabel(code))
    }
    /// The gender, when grouped by GENDER.
    async fn gender(&self) -> Option<OutcomeGender> {
        self.0.gender.map(Into::into)
    }
    /// The region, when grouped by REGION and the source gives it.
    async fn region(&self, ctx: &Context<'_>) -> Result<Option<Region>> {
        match self.0.region {
            Some(id) => Ok(Some(crate::region::load(ctx, id).await?)),
            None => Ok(None),
        }
    }
    /// Beneficiaries (winners, people supported or trained) (count).
    async fn beneficiaries(&self) -> i64 {
        self.0.beneficiaries
    }
    /// Grants awarded (MAD).
    async fn grant_amount(&self) -> Money {
        Money(self.0.grant_amount)
    }
    /// Candidates of the group's programmes (count); null when grouped by sector, activity, gender or region, which
    /// candidates are not recorded by.
    async fn candidates(&self) -> Option<i64> {
        self.0.candidates
    }
    /// Success rate: beneficiaries ÷ candidates × 100 (%); null where candidates are (see `candidates`) or are none.
    async fn success_rate(&self) -> Option<f64> {
        let candidates = self.0.candidates.filter(|c| *c > 0)?;
        Some(self.0.beneficiaries as f64 * 100.0 / candidates as f64)
    }
    /// Average grant: grants ÷ beneficiaries (MAD per beneficiary, to the centime); null without beneficiaries.
    async fn average_grant(&self) -> Option<Money> {
        let (grants, beneficiaries) = (i128::from(self.0.grant_amount), i128::from(self.0.beneficiaries));
        (beneficiaries > 0).then(|| Money(((grants * 2 + beneficiaries) / (beneficiaries * 2)) as i64))
    }
    /// The group's share of the beneficiaries of every row of the answer (%, two decimals). Rounded so that the rows'
    /// shares add up to exactly 100; null when the answer has no beneficiary.
    async fn share(&self) -> Option<f64> {
        self.1.map(|hundredths| hundredths as f64 / 100.0)
    }
}

/// Aggregates of the programmes' outcomes.
#[derive(Default)]
pub struct ProgrammeSummaryQuery;

#[Object]
impl ProgrammeSummaryQuery {
    /// Beneficiaries, grants and candidates summed by programme, sector, activity, gender and region (one row per
    /// group), with each group's success rate, average grant and share of the beneficiaries.
    async fn programme_indicators(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Dimensions to group by.",
            default_with = "vec![ProgrammeDimension::Programme]"
        )]
        group_by: Vec<ProgrammeDimension>,
        #[graphql(desc = "Conditions on the outcomes.")] filter: Option<ProgrammeSummaryFilter>,
    ) -> Result<Vec<ProgrammeIndicatorRow>> {
        let f = filter.unwrap_or_default();
        let mut dims: Vec<summary::ProgrammeDim> = group_by.into_iter().map(Into::into).collect();
        dims.sort();
        dims.dedup();
        let filter = summary::ProgrammeSummaryFilter {
            programmes: store::resolve(db(ctx), &f.programmes).await?,
            from_year: f.from_year,
            to_year: f.to_year,
        };
        let with_candidates =
            ctx.look_ahead().field("candidates").exists() || ctx.look_ahead().field("successRate").exists();
        let rows = summary::summarise(db(ctx), &dims, &filter, with_candidates).await?;
        let beneficiaries: Vec<i64> = rows.iter().map(|r| r.beneficiaries).collect();
        let shares = summary::shares(&beneficiaries);
        Ok(rows
            .into_iter()
            .enumerate()
            .map(|(i, row)| ProgrammeIndicatorRow(row, shares.as_ref().map(|s| s[i])))
            .collect())
    }
}
