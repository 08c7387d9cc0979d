//! Surveys, served as statistics offices serve them: `surveys` (each study with its population, fieldwork, mode,
//! sampling, weighting, respondents, level of data, questions, options and nets) and `surveyResults` (for each
//! question and group: the base, the shares with their counts and 95 % Wilson intervals, nets, the share a report left
//! unaccounted, and the small-base rules). Estimation is `estimate`'s, reads `store`'s.

pub mod ddi;
pub mod estimate;
pub mod load;
pub mod store;

use crate::context::{db, scope};
use crate::error::ApiError;
use crate::scalars::{Date, DateTime};
use crate::scope::Role;
use async_graphql::{Context, Enum, Object, Result, SimpleObject};
use estimate::{Dimension, GroupResult, Reader, Reason};

/// Most surveys the observatory holds (the bound `surveys` is priced at).
pub const MAX_SURVEYS: u64 = 20;
/// Most questions of a survey.
pub const MAX_QUESTIONS: u64 = 60;
/// Most options of a question.
pub const MAX_OPTIONS: u64 = 30;
/// Most nets of a question.
pub const MAX_NETS: u64 = 10;

/// A dimension survey results are grouped by, where the survey holds it.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "estimate::Dimension")]
pub enum SurveyDimension {
    /// The respondent's association (the per-association reports): the association sees its own, partners all, the
    /// public none.
    Association,
    /// The region.
    Region,
    /// The respondent's gender.
    Gender,
    /// Urban or rural.
    Area,
    /// The lending methodology of the respondent's loan.
    Segment,
    /// The economic activity.
    Activity,
    /// Staff surveys: TOP_MANAGEMENT, MIDDLE_MANAGEMENT_BACK_OFFICE or FRONT_OFFICE.
    StaffLevel,
}

/// Why a survey result is withheld.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "estimate::Reason")]
pub enum SurveySuppression {
    /// Fewer than 30 respondents in the base (withheld from the public and associations).
    LowBase,
    /// An institution survey's group of fewer than 5 institutions.
    FewInstitutions,
    /// Withheld so that a withheld sibling cannot be worked out from the total and the other groups.
    Complementary,
}

/// An option of a question.
#[derive(SimpleObject, Clone)]
pub struct SurveyOption {
    /// The option's code.
    pub code: String,
    /// Label in French.
    pub label_fr: String,
    /// Label in Arabic.
    pub label_ar: String,
    /// Label in English.
    pub label_en: String,
    /// SUBSTANTIVE, OTHER, DONT_KNOW, REFUSED or NOT_APPLICABLE (the last three are outside the base).
    pub kind: String,
    /// The option it is nested in ("deteriorated severely" inside "deteriorated"), if any.
    pub parent: Option<String>,
}

/// A net: options counted together.
#[derive(SimpleObject, Clone)]
pub struct SurveyNet {
    /// The net's code.
    pub code: String,
    /// Label in French.
    pub label_fr: String,
    /// Label in Arabic.
    pub label_ar: String,
    /// Label in English.
    pub label_en: String,
    /// The options it counts.
    pub members: Vec<String>,
}

/// A question of a survey.
#[derive(SimpleObject, Clone)]
pub struct SurveyQuestion {
    /// The question's code.
    pub code: String,
    /// Its place in the questionnaire.
    pub position: i32,
    /// The question in French.
    pub text_fr: String,
    /// The question in Arabic.
    pub text_ar: String,
    /// The question in English.
    pub text_en: String,
    /// SINGLE_CHOICE, MULTIPLE_CHOICE, SCALE or NUMERIC.
    pub r#type: String,
    /// Who was asked.
    pub universe: String,
    /// Where its figures come from (for published aggregates: the report and what it printed).
    pub source_note: String,
    /// Its options, in order.
    pub options: Vec<SurveyOption>,
    /// Its nets.
    pub nets: Vec<SurveyNet>,
}

/// A survey of the observatory.
pub struct Survey(store::SurveyRow);

/// A survey of the observatory: the study and its questionnaire.
#[Object]
impl Survey {
    /// The survey's code, for example `COVID-CLIENTS-2020`.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Title in French.
    async fn title_fr(&self) -> &str {
        &self.0.title_fr
    }
    /// Title in Arabic.
    async fn title_ar(&self) -> &str {
        &self.0.title_ar
    }
    /// Title in English.
    async fn title_en(&self) -> &str {
        &self.0.title_en
    }
    /// Who the survey is of: CLIENTS, ASSOCIATION_STAFF, ASSOCIATIONS, MICRO_ENTREPRENEURS or OTHER.
    async fn population(&self) -> &str {
        &self.0.population
    }
    /// PERSON or INSTITUTION.
    async fn unit(&self) -> &str {
        &self.0.unit
    }
    /// The first day of fieldwork.
    async fn fieldwork_from(&self) -> Date {
        Date(self.0.fieldwork_from)
    }
    /// The last day of fieldwork.
    async fn fieldwork_to(&self) -> Date {
        Date(self.0.fieldwork_to)
    }
    /// PHONE, ONLINE, FACE_TO_FACE, MIXED or UNKNOWN.
    async fn mode(&self) -> &str {
        &self.0.mode
    }
    /// The platform that ran it, if known.
    async fn platform(&self) -> Option<&str> {
        self.0.platform.as_deref()
    }
    /// The partners that ran it.
    async fn partners(&self) -> &str {
        &self.0.partners
    }
    /// The instrument (questionnaire) it used, if known.
    async fn instrument(&self) -> Option<&str> {
        self.0.instrument.as_deref()
    }
    /// CENSUS, PROBABILITY, QUOTA, CONVENIENCE or UNKNOWN.
    async fn sampling(&self) -> &str {
        &self.0.sampling
    }
    /// NONE, DESIGN, POST_STRATIFIED or UNKNOWN.
    async fn weighting(&self) -> &str {
        &self.0.weighting
    }
    /// Respondents, when known.
    async fn respondents(&self) -> Option<i32> {
        self.0.respondents
    }
    /// MICRODATA or PUBLISHED_AGGREGATES (the shares a report printed, without respondents).
    async fn data_level(&self) -> &str {
        &self.0.data_level
    }
    /// How it was run and estimated.
    async fn methodology(&self) -> &str {
        &self.0.methodology
    }
    /// When its results were released (null: not yet; only the observatory sees them).
    async fn released_at(&self) -> Option<DateTime> {
        self.0.released_at.map(DateTime)
    }
    /// Its questions, with their options and nets.
    async fn questions(&self, ctx: &Context<'_>) -> Result<Vec<SurveyQuestion>> {
        Ok(store::questions(db(ctx), self.0.id)
            .await?
            .into_iter()
            .map(|(q, options, nets)| SurveyQuestion {
                code: q.code,
                position: q.position,
                text_fr: q.text_fr,
                text_ar: q.text_ar,
                text_en: q.text_en,
                r#type: q.kind,
                universe: q.universe,
                source_note: q.source_note,
                options: options
                    .into_iter()
                    .map(|o| SurveyOption {
                        code: o.code,
                        label_fr: o.label_fr,
                        label_ar: o.label_ar,
                        label_en: o.label_en,
                        kind: o.kind,
                        parent: o.parent,
                    })
                    .collect(),
                nets: nets
                    .into_iter()
                    .map(|n| SurveyNet {
                        code: n.code,
                        label_fr: n.label_fr,
                        label_ar: n.label_ar,
                        label_en: n.label_en,
                        members: n.members.split(',').map(str::to_owned).collect(),
                    })
                    .collect(),
            })
            .collect())
    }
}

/// The group of a survey result: the dimensions grouped by (the others null).
#[derive(SimpleObject, Default)]
pub struct SurveyGroup {
    /// The association's code.
    pub association: Option<String>,
    /// The region's ISO code.
    pub region: Option<String>,
    /// FEMALE or MALE.
    pub gender: Option<String>,
    /// URBAN or RURAL.
    pub area: Option<String>,
    /// The segment.
    pub segment: Option<String>,
    /// The activity.
    pub activity: Option<String>,
    /// The staff level.
    pub staff_level: Option<String>,
}

/// An estimate of one option or net.
#[derive(SimpleObject)]
pub struct SurveyEstimate {
    /// The option's or net's code.
    pub code: String,
    /// Percent of the weighted base (a published share as printed); null when not printed or withheld.
    pub share: Option<f64>,
    /// Respondents who chose it (unweighted); null for published shares and when withheld.
    pub count: Option<i64>,
    /// Lower bound of the 95 % Wilson interval over the effective base; null without microdata or for a census.
    pub ci_low: Option<f64>,
    /// Upper bound of the 95 % Wilson interval.
    pub ci_high: Option<f64>,
}

/// One question's result for one group.
#[derive(SimpleObject)]
pub struct SurveyResult {
    /// The question's code.
    pub question: String,
    /// MICRODATA (estimated from the respondents) or PUBLISHED (the shares a report printed, sector only).
    pub source: String,
    /// The group; all null for the whole survey.
    pub group: SurveyGroup,
    /// Respondents in the base (in the question's universe, with a substantive answer); null when unknown or withheld.
    pub base: Option<i64>,
    /// The base's weight.
    pub weighted_base: Option<f64>,
    /// The effective base (Σw)² ÷ Σw², which the intervals use.
    pub effective_base: Option<f64>,
    /// Respondents in the universe who answered "don't know" or refused (outside the base).
    pub non_response: Option<i64>,
    /// True for a multiple-choice question: the shares may sum above 100.
    pub multiple_response: bool,
    /// For published single-choice shares that do not add up: 100 − their sum, never spread over the options.
    pub unaccounted_share: Option<f64>,
    /// True when the group's shares, counts and base are withheld from this caller.
    pub suppressed: bool,
    /// Why they are withheld.
    pub reason: Option<SurveySuppression>,
    /// Fewer than 30 respondents in the base: withheld from the public and associations, shown flagged to partners
    /// and the observatory.
    pub below_minimum_base: bool,
    /// Fewer than 50 respondents in the base: read with care.
    pub low_reliability: bool,
    /// Each option's estimate, in the questionnaire's order.
    pub options: Vec<SurveyEstimate>,
    /// Each net's estimate (when `includeNets`).
    pub nets: Vec<SurveyEstimate>,
}

fn estimates(list: Vec<(String, estimate::Estimate)>) -> Vec<SurveyEstimate> {
    list.into_iter()
        .map(|(code, e)| SurveyEstimate {
            code,
            share: e.share,
            count: e.count.map(|c| c as i64),
            ci_low: e.ci_low,
            ci_high: e.ci_high,
        })
        .collect()
}

/// Queries on surveys.
#[derive(Default)]
pub struct SurveyQuery;

#[Object]
impl SurveyQuery {
    /// The observatory's surveys (released ones; the observatory also sees those not released yet).
    async fn surveys(&self, ctx: &Context<'_>) -> Result<Vec<Survey>> {
        let observatory = scope(ctx).role == Role::Observatory;
        Ok(store::surveys(db(ctx))
            .await?
            .into_iter()
            .filter(|s| observatory || s.released_at.is_some())
            .map(Survey)
            .collect())
    }

    /// Survey results: for each question asked (every question when none is named) and each group of `groupBy`,
    /// the base, each option's share (weighted), count and 95 % Wilson interval, the nets and the unaccounted share.
    /// Groups of fewer than 30 respondents are withheld from the public and associations (with the smallest sibling,
    /// so that no total minus the visible groups gives one back), shown flagged to partners and the observatory;
    /// results by association follow the monthly rows' access. Published shares (no microdata) exist for the whole
    /// survey only.
    async fn survey_results(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The survey's code.")] survey: String,
        #[graphql(desc = "The questions' codes; every question when absent.")] questions: Option<Vec<String>>,
        #[graphql(desc = "Dimensions to group by; none for the whole survey.", default)] group_by: Vec<SurveyDimension>,
        #[graphql(desc = "Give the nets too.", default = true)] include_nets: bool,
        #[graphql(desc = "Count \"don't know\" and refusals in the base.", default)] include_non_response: bool,
    ) -> Result<Vec<SurveyResult>> {
        let caller = scope(ctx);
        let dims: Vec<Dimension> = group_by.into_iter().map(Into::into).collect();
        let found = store::surveys(db(ctx))
            .await?
            .into_iter()
            .find(|s| s.code == survey)
            .filter(|s| caller.role == Role::Observatory || s.released_at.is_some())
            .ok_or_else(|| ApiError::NotFound(format!("no released survey `{survey}`: see `surveys`")))?;
        let own = match (caller.role, dims.contains(&Dimension::Association)) {
            (_, false) | (Role::Observatory | Role::Partner, true) => None,
            (Role::Association, true) => caller.association_id,
            (_, true) => {
                return Err(ApiError::Forbidden(
                    "survey results by association are for partners, the observatory and each association for itself"
                        .into(),
                )
                .into());
            }
        };
        let reader = match caller.role {
            Role::Observatory | Role::Partner => Reader::Partner,
            _ => Reader::Public,
        };
        let all = store::questions(db(ctx), found.id).await?;
        if let Some(asked) = &questions
            && let Some(unknown) = asked.iter().find(|c| !all.iter().any(|(q, ..)| &q.code == *c))
        {
            return Err(ApiError::bad_input(format!("`{unknown}` is not a question of {survey}")).into());
        }
        let codes = crate::association::store::codes(db(ctx)).await?;
        let regions: std::collections::HashMap<i32, String> = {
            use sea_orm::EntityTrait;
            entity::region::Entity::find()
                .all(db(ctx))
                .await?
                .into_iter()
                .map(|r| (r.id, r.code))
                .collect()
        };
        let mut out = Vec::new();
        for (question, options, nets) in &all {
            if questions.as_ref().is_some_and(|asked| !asked.contains(&question.code)) {
                continue;
            }
            let definition = store::definition(question, options, nets);
            let (respondents, answers) = store::microdata(db(ctx), found.id, question.id).await?;
            let (source, mut results): (&str, Vec<GroupResult>) = if respondents.is_empty() {
                if !dims.is_empty() {
                    if questions.is_some() {
                        return Err(ApiError::bad_input(format!(
                            "{} has the shares a report printed for the whole survey only: ask it without groupBy",
                            question.code
                        ))
                        .into());
                    }
                    continue;
                }
                let printed = store::published(db(ctx), question.id).await?;
                ("PUBLISHED", vec![estimate::from_published(&definition, &printed)])
            } else {
                let mut results = estimate::from_microdata(
                    &definition,
                    &respondents,
                    &answers,
                    &dims,
                    include_non_response,
                    found.sampling == "CENSUS",
                );
                estimate::hide(&mut results, &dims, reader, found.unit == "INSTITUTION");
                ("MICRODATA", results)
            };
            if let Some(own) = own {
                results.retain(|r| r.group.association == Some(own));
            }
            for result in results {
                let group = &result.group;
                out.push(SurveyResult {
                    question: question.code.clone(),
                    source: source.to_owned(),
                    group: SurveyGroup {
                        association: group.association.and_then(|a| codes.get(&a).cloned()),
                        region: group.region.and_then(|r| regions.get(&r).cloned()),
                        gender: group.gender.clone(),
                        area: group.area.clone(),
                        segment: group.segment.clone(),
                        activity: group.activity.clone(),
                        staff_level: group.staff_level.clone(),
                    },
                    base: result.base.map(|b| b as i64),
                    weighted_base: result.weighted_base,
                    effective_base: result.effective_base,
                    non_response: result.non_response.map(|n| n as i64),
                    multiple_response: definition.multiple,
                    unaccounted_share: result.unaccounted_share,
                    suppressed: result.suppressed,
                    reason: result.reason.map(|r: Reason| r.into()),
                    below_minimum_base: result.below_minimum_base,
                    low_reliability: result.low_reliability,
                    options: estimates(result.options),
                    nets: if include_nets {
                        estimates(result.nets)
                    } else {
                        Vec::new()
                    },
                });
            }
        }
        Ok(out)
    }
}

/// Loading survey microdata.
#[derive(Default)]
pub struct SurveyMutation;

#[Object]
impl SurveyMutation {
    /// Loads a survey's microdata (an observatory key with `admin`): a CSV text with a header `respondent,weight`,
    /// optionally `association,region,gender,area,segment,activity,staff_level`, and a column per question holding
    /// the option codes a respondent chose (joined by `|` for a multiple-choice question; empty when not asked).
    /// Every problem is listed at once (`BAD_USER_INPUT` with `extensions.report.errors`: line, column, rule): unknown
    /// options or codes, a missing or non-positive weight, several answers to a single-choice question, a repeated
    /// respondent; a file with any of them stores nothing. A valid file replaces the survey's microdata in one
    /// transaction, audited. Answers the respondents stored.
    async fn load_survey_microdata(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The survey's code.")] survey: String,
        #[graphql(desc = "The CSV text, at most 100,000 respondents.")] csv: String,
    ) -> Result<i32> {
        Ok(load::load(db(ctx), scope(ctx), &survey, &csv).await? as i32)
    }
}
