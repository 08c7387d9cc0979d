//! The centre's own activity in the demo: the support programmes of 2020
//! with their beneficiaries and grants, and the training actions of 2019 and
//! 2020. The 2020 programme results and the 2020 training totals by format
//! are the published ones; how they divide between individual actions is
//! illustrative.

use super::reference::Ids;
use super::util::{apportion, date, insert_all};
use entity::enums::{Delivery, OutcomeGender, Sector, TrainingAudience, TrainingFormat};
use entity::{programme, programme_outcome, training_action};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait, NotSet};
use std::collections::HashMap;

/// Beneficiaries of a programme in one sector and gender (and region when
/// the programme is regional).
struct Outcome {
    sector: Sector,
    gender: OutcomeGender,
    beneficiaries: i64,
}

struct Programme {
    code: &'static str,
    name_fr: &'static str,
    name_ar: &'static str,
    name_en: &'static str,
    funder: &'static str,
    partners: &'static str,
    edition: Option<i32>,
    candidates: Option<i32>,
    description: &'static str,
    region: Option<&'static str>,
    /// Total grants, centimes, split across the outcomes.
    grants: i64,
    outcomes: &'static [Outcome],
}

const fn outcome(sector: Sector, gender: OutcomeGender, beneficiaries: i64) -> Outcome {
    Outcome {
        sector,
        gender,
        beneficiaries,
    }
}

use OutcomeGender::{Female as F, Male as M, Unspecified as U};

/// The programmes of 2020 with their published results.
const PROGRAMMES: [Programme; 5] = [
    Programme {
        code: "MIN-AJLIKI-2020",
        name_fr: "Min Ajliki : accompagnement des femmes entrepreneures",
        name_ar: "من أجلك: مواكبة النساء المقاولات",
        name_en: "Min Ajliki: support for women entrepreneurs",
        funder: "Association pour la promotion de l'éducation et de la formation à l'étranger (APEFE), Wallonie-Bruxelles",
        partners: "APEFE; Wallonie-Bruxelles International; associations de microcrédit",
        edition: None,
        candidates: None,
        description: "Coaching and training of women running micro-enterprises: 62 women supported in 2020.",
        region: None,
        grants: 0,
        outcomes: &[outcome(Sector::Unspecified, F, 62)],
    },
    Programme {
        code: "MOUAZARA-2020",
        name_fr: "Appel à projets Mouazara : formation de femmes à Fès et El Jadida",
        name_ar: "طلب مشاريع مؤازرة: تكوين النساء بفاس والجديدة",
        name_en: "Mouazara call for projects: training women in Fez and El Jadida",
        funder: "Ministère du Tourisme, de l'Artisanat, du Transport aérien et de l'Économie sociale",
        partners: "Ministère du Tourisme, de l'Artisanat, du Transport aérien et de l'Économie sociale; associations de microcrédit",
        edition: None,
        candidates: None,
        description: "Project selected under the Mouazara call for projects of the social economy: training of 60 women micro-entrepreneurs in Fès and El Jadida.",
        region: None,
        grants: 0,
        outcomes: &[outcome(Sector::Unspecified, F, 60)],
    },
    Programme {
        code: "MICRO-ACTIVITIES-MA06-2020",
        name_fr: "Promotion des micro-activités dans la région Casablanca-Settat",
        name_ar: "إنعاش الأنشطة الصغرى بجهة الدار البيضاء - سطات",
        name_en: "Promotion of micro-activities in Casablanca-Settat",
        funder: "Fondation Mohammed V pour la Solidarité",
        partners: "Fondation Mohammed V pour la Solidarité; associations de microcrédit de la région",
        edition: None,
        candidates: None,
        description: "80 micro-entrepreneurs of the Casablanca-Settat region selected and equipped: 1,900,000.00 MAD of equipment grants.",
        region: Some("MA-06"),
        grants: 190_000_000,
        outcomes: &[outcome(Sector::Unspecified, U, 80)],
    },
    Programme {
        code: "IGA-2020",
        name_fr: "Programme national des activités génératrices de revenus, 6e édition",
        name_ar: "البرنامج الوطني للأنشطة المدرة للدخل، الدورة السادسة",
        name_en: "National income-generating activities programme, 6th edition",
        funder: "Fondation CDG; Fonds Jaida",
        partners: "Fondation CDG; Fonds Jaida; Fédération nationale des associations de microcrédit",
        edition: Some(6),
        candidates: Some(301),
        description: "Grants to clients of microcredit associations for income-generating activities: 301 candidates, 163 winners, 2,700,000.00 MAD of grants.",
        region: None,
        grants: 270_000_000,
        outcomes: &[
            outcome(Sector::AgricultureLivestock, F, 1),
            outcome(Sector::AgricultureLivestock, M, 22),
            outcome(Sector::Agrifood, F, 16),
            outcome(Sector::Agrifood, M, 16),
            outcome(Sector::ArtsCrafts, F, 14),
            outcome(Sector::ArtsCrafts, M, 36),
            outcome(Sector::HairdressingBeauty, F, 7),
            outcome(Sector::HairdressingBeauty, M, 1),
            outcome(Sector::LogisticsTransport, M, 2),
            outcome(Sector::Leisure, M, 1),
            outcome(Sector::EducationEarlyChildhood, F, 1),
            outcome(Sector::Mechanics, M, 10),
            outcome(Sector::Health, F, 1),
            outcome(Sector::Health, M, 2),
            outcome(Sector::Other, F, 9),
            outcome(Sector::Other, M, 24),
        ],
    },
    Programme {
        code: "PRIZE-2020",
        name_fr: "Prix national du micro-entrepreneur, 7e édition",
        name_ar: "الجائزة الوطنية للمقاول الصغير، الدورة السابعة",
        name_en: "National micro-entrepreneur prize, 7th edition",
        funder: "Centre de soutien à la microfinance solidaire",
        partners: "Centre de soutien à la microfinance solidaire; associations de microcrédit",
        edition: Some(7),
        candidates: Some(116),
        description: "Prize rewarding exemplary clients of microcredit associations: 116 candidates, 27 winners.",
        region: None,
        grants: 0,
        outcomes: &[outcome(Sector::Unspecified, U, 27)],
    },
];

/// Relative grant per winner by sector (equipment for transport and
/// mechanics costs more).
fn grant_factor(sector: Sector) -> f64 {
    match sector {
        Sector::LogisticsTransport => 1.4,
        Sector::Mechanics => 1.3,
        Sector::AgricultureLivestock => 1.1,
        Sector::HairdressingBeauty | Sector::EducationEarlyChildhood => 0.9,
        _ => 1.0,
    }
}

/// Inserts the programmes and their outcomes; returns the number of
/// programmes and the programme ids by code.
pub(crate) async fn insert_programmes<C: ConnectionTrait>(
    db: &C,
    ids: &Ids,
) -> Result<(usize, HashMap<String, i32>), DbErr> {
    let rows = PROGRAMMES
        .iter()
        .map(|p| programme::ActiveModel {
            id: NotSet,
            code: Set(p.code.to_owned()),
            name_fr: Set(p.name_fr.to_owned()),
            name_ar: Set(p.name_ar.to_owned()),
            name_en: Set(p.name_en.to_owned()),
            funder: Set(p.funder.to_owned()),
            partners: Set(p.partners.to_owned()),
            edition: Set(p.edition),
            year: Set(2020),
            candidates: Set(p.candidates),
            description: Set(p.description.to_owned()),
        })
        .collect();
    let count = insert_all(db, rows).await?;
    let by_code: HashMap<String, i32> = programme::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.code, p.id))
        .collect();

    let mut outcomes = Vec::new();
    for p in &PROGRAMMES {
        let weights: Vec<f64> = p
            .outcomes
            .iter()
            .map(|o| o.beneficiaries as f64 * grant_factor(o.sector))
            .collect();
        for (o, grant) in p.outcomes.iter().zip(apportion(p.grants, &weights)) {
            outcomes.push(programme_outcome::ActiveModel {
                id: NotSet,
                programme_id: Set(by_code[p.code]),
                sector: Set(o.sector),
                gender: Set(o.gender),
                region_id: Set(p.region.map(|r| ids.region(r))),
                beneficiaries: Set(o.beneficiaries as i32),
                grant_amount: Set(grant),
            });
        }
    }
    insert_all(db, outcomes).await?;
    Ok((count, by_code))
}

/// A published figure of one action, or its relative share of the rest of
/// its format's total.
#[derive(Clone, Copy)]
enum Share {
    Fixed(i64),
    Weight(f64),
}
use Share::{Fixed, Weight};

/// Splits `total` over the shares: fixed values first, the remainder in
/// proportion to the weights.
fn split(total: i64, shares: &[Share]) -> Vec<i64> {
    let fixed: i64 = shares.iter().map(|s| if let Fixed(v) = s { *v } else { 0 }).sum();
    let weights: Vec<f64> = shares
        .iter()
        .map(|s| if let Weight(w) = s { *w } else { 0.0 })
        .collect();
    let rest = apportion(total - fixed, &weights);
    shares
        .iter()
        .zip(rest)
        .map(|(s, r)| if let Fixed(v) = s { *v } else { r })
        .collect()
}

/// One training action: days, participants and person-days as shares of its
/// format's totals.
struct Action {
    audience: TrainingAudience,
    topic: &'static str,
    delivery: Delivery,
    /// Month and day of the first session.
    starts: (u32, u32),
    days: Share,
    participants: Share,
    person_days: Share,
    programme: Option<&'static str>,
    region: Option<&'static str>,
}

/// The actions of one format in one year with the format's totals (days,
/// participants, person-days).
struct Plan {
    year: i32,
    format: TrainingFormat,
    totals: [i64; 3],
    actions: &'static [Action],
}

const fn action(
    audience: TrainingAudience,
    topic: &'static str,
    delivery: Delivery,
    starts: (u32, u32),
    shares: [Share; 3],
) -> Action {
    Action {
        audience,
        topic,
        delivery,
        starts,
        days: shares[0],
        participants: shares[1],
        person_days: shares[2],
        programme: None,
        region: None,
    }
}

const fn for_programme(a: Action, programme: &'static str) -> Action {
    Action {
        programme: Some(programme),
        ..a
    }
}

const fn in_region(a: Action, region: &'static str) -> Action {
    Action {
        region: Some(region),
        ..a
    }
}

use Delivery::{Blended, OnSite, Remote};
use TrainingAudience::{
    AssociationManagement as Management, AssociationStaff as Staff, CentreStaff, MicroEntrepreneurs, Other,
};

const CRISIS: &str = "Crisis management (COVID-19)";
const IMPACT: &str = "Impact-study tools";
const CYBER: &str = "Cyber-security for inclusive finance";
const PROTECTION: &str = "Client protection during the pandemic";
const MARKETING: &str = "Marketing techniques";
const STRATEGY: &str = "Strategic marketing";
const DIGITAL: &str = "Digitalisation";
const CONTROL: &str = "Internal control";
const COLLECTION: &str = "Debt collection";
const RISK: &str = "Risk management";
const STANDARDS: &str = "Universal standards for social performance management";
const EDUCATION: &str = "Financial education";

/// The training plan. Most 2020 actions were delivered remotely; the 2019
/// ones mostly on site.
#[rustfmt::skip]
const PLANS: [Plan; 12] = [
    Plan { year: 2019, format: TrainingFormat::PlannedStaffTraining, totals: [9, 84, 384], actions: &[
        action(Staff, COLLECTION, OnSite, (3, 11), [Weight(5.0), Weight(48.0), Weight(240.0)]),
        action(Management, RISK, OnSite, (11, 18), [Weight(4.0), Weight(36.0), Weight(144.0)]),
    ] },
    Plan { year: 2019, format: TrainingFormat::MicroEntrepreneurTraining, totals: [3, 60, 180], actions: &[
        in_region(action(MicroEntrepreneurs, EDUCATION, OnSite, (4, 8), [Weight(1.0); 3]), "MA-07"),
    ] },
    Plan { year: 2019, format: TrainingFormat::CertifiedTraining, totals: [20, 1, 20], actions: &[
        action(CentreStaff, CONTROL, Blended, (5, 6), [Weight(1.0); 3]),
    ] },
    Plan { year: 2019, format: TrainingFormat::TrainingEngineering, totals: [8, 35, 70], actions: &[
        action(Management, STANDARDS, OnSite, (6, 17), [Weight(1.0); 3]),
    ] },
    Plan { year: 2019, format: TrainingFormat::LogisticalSupport, totals: [6, 120, 360], actions: &[
        in_region(action(Staff, MARKETING, OnSite, (10, 7), [Weight(1.0); 3]), "MA-03"),
    ] },
    Plan { year: 2020, format: TrainingFormat::CertifiedTraining, totals: [64, 2, 128], actions: &[
        action(CentreStaff, RISK, Remote, (1, 13), [Weight(40.0), Weight(1.0), Weight(80.0)]),
        action(CentreStaff, CONTROL, Blended, (9, 14), [Weight(24.0), Weight(1.0), Weight(48.0)]),
    ] },
    Plan { year: 2020, format: TrainingFormat::PlannedStaffTraining, totals: [213, 3_671, 4_455], actions: &[
        action(Management, STRATEGY, OnSite, (2, 10), [Weight(23.0), Weight(241.0), Weight(235.0)]),
        action(Management, CRISIS, Remote, (4, 14), [Weight(12.0), Weight(420.0), Weight(480.0)]),
        action(Staff, PROTECTION, Remote, (5, 5), [Weight(30.0), Weight(760.0), Weight(820.0)]),
        action(Staff, CYBER, Remote, (6, 9), [Weight(20.0), Weight(380.0), Weight(400.0)]),
        action(Staff, COLLECTION, Remote, (7, 6), [Weight(32.0), Weight(610.0), Weight(760.0)]),
        action(Management, RISK, Blended, (9, 15), [Weight(26.0), Weight(290.0), Weight(520.0)]),
        action(Staff, CONTROL, Remote, (10, 5), [Weight(24.0), Weight(340.0), Weight(430.0)]),
        action(Management, STANDARDS, Remote, (10, 19), [Weight(18.0), Weight(210.0), Weight(300.0)]),
        action(Staff, DIGITAL, Remote, (11, 9), [Weight(28.0), Weight(420.0), Weight(510.0)]),
    ] },
    Plan { year: 2020, format: TrainingFormat::MicroEntrepreneurTraining, totals: [98, 1_579, 3_110], actions: &[
        action(MicroEntrepreneurs, EDUCATION, OnSite, (2, 17), [Weight(14.0), Weight(310.0), Weight(620.0)]),
        action(MicroEntrepreneurs, CRISIS, Remote, (5, 18), [Weight(18.0), Weight(520.0), Weight(800.0)]),
        for_programme(action(MicroEntrepreneurs, MARKETING, Remote, (6, 22), [Weight(12.0), Fixed(62), Weight(250.0)]), "MIN-AJLIKI-2020"),
        for_programme(action(MicroEntrepreneurs, DIGITAL, Remote, (7, 13), [Weight(16.0), Fixed(163), Weight(420.0)]), "IGA-2020"),
        action(MicroEntrepreneurs, EDUCATION, Remote, (9, 7), [Weight(20.0), Weight(437.0), Weight(560.0)]),
        for_programme(action(MicroEntrepreneurs, STRATEGY, Remote, (10, 12), [Weight(10.0), Fixed(27), Weight(220.0)]), "PRIZE-2020"),
        in_region(for_programme(action(MicroEntrepreneurs, EDUCATION, Blended, (11, 2), [Fixed(4), Fixed(30), Fixed(120)]), "MOUAZARA-2020"), "MA-03"),
        in_region(for_programme(action(MicroEntrepreneurs, EDUCATION, Blended, (11, 23), [Fixed(4), Fixed(30), Fixed(120)]), "MOUAZARA-2020"), "MA-06"),
    ] },
    Plan { year: 2020, format: TrainingFormat::TrainingEngineering, totals: [210, 1_909, 1_050], actions: &[
        action(Management, IMPACT, Remote, (3, 2), [Weight(45.0), Weight(380.0), Weight(210.0)]),
        action(CentreStaff, DIGITAL, Remote, (4, 20), [Weight(60.0), Weight(520.0), Weight(260.0)]),
        action(Management, STANDARDS, Remote, (7, 1), [Weight(40.0), Weight(410.0), Weight(220.0)]),
        action(Management, EDUCATION, Remote, (9, 21), [Weight(35.0), Weight(329.0), Weight(190.0)]),
        action(Management, PROTECTION, Blended, (11, 16), [Weight(30.0), Weight(270.0), Weight(170.0)]),
    ] },
    Plan { year: 2020, format: TrainingFormat::LogisticalSupport, totals: [65, 1_044, 2_134], actions: &[
        action(Staff, MARKETING, OnSite, (1, 20), [Weight(15.0), Weight(260.0), Weight(540.0)]),
        action(Staff, COLLECTION, Remote, (6, 15), [Weight(18.0), Weight(300.0), Weight(620.0)]),
        action(MicroEntrepreneurs, EDUCATION, Remote, (9, 28), [Weight(17.0), Weight(284.0), Weight(560.0)]),
        action(Staff, CONTROL, Blended, (11, 30), [Weight(15.0), Weight(200.0), Weight(414.0)]),
    ] },
    Plan { year: 2020, format: TrainingFormat::ElearningAssociationStaff, totals: [5_162, 902, 5_162], actions: &[
        action(Staff, PROTECTION, Remote, (4, 27), [Weight(1_400.0), Weight(250.0), Weight(1_400.0)]),
        action(Staff, CYBER, Remote, (6, 1), [Weight(950.0), Weight(170.0), Weight(950.0)]),
        action(Management, RISK, Remote, (7, 6), [Weight(1_050.0), Weight(180.0), Weight(1_050.0)]),
        action(Staff, COLLECTION, Remote, (9, 1), [Weight(1_000.0), Weight(172.0), Weight(1_000.0)]),
        action(Staff, DIGITAL, Remote, (10, 5), [Weight(762.0), Weight(130.0), Weight(762.0)]),
    ] },
    Plan { year: 2020, format: TrainingFormat::ElearningOther, totals: [4, 28, 112], actions: &[
        action(Other, EDUCATION, Remote, (6, 15), [Weight(1.0); 3]),
        action(Other, IMPACT, Remote, (11, 2), [Weight(1.0); 3]),
    ] },
];

/// Inserts the training actions, numbered `TR-<year>-<nnn>` in order of
/// their first session. Person-days are the reported ones, not days ×
/// participants (many participants attend only some sessions).
pub(crate) async fn insert_training<C: ConnectionTrait>(
    db: &C,
    ids: &Ids,
    programmes: &HashMap<String, i32>,
) -> Result<usize, DbErr> {
    let mut actions = Vec::new();
    for plan in &PLANS {
        let column = |f: fn(&Action) -> Share| plan.actions.iter().map(f).collect::<Vec<_>>();
        let days = split(plan.totals[0], &column(|a| a.days));
        let participants = split(plan.totals[1], &column(|a| a.participants));
        let person_days = split(plan.totals[2], &column(|a| a.person_days));
        for (k, a) in plan.actions.iter().enumerate() {
            let starts_on = date(plan.year, a.starts.0, a.starts.1);
            // Sessions run on working days; e-learning stays open to the year end.
            let span = if days[k] > 60 {
                400
            } else {
                ((days[k] * 7 + 4) / 5).max(1) - 1
            };
            let ends_on = (starts_on + chrono::Days::new(span as u64)).min(date(plan.year, 12, 31));
            actions.push((
                starts_on,
                ends_on,
                plan.format,
                a,
                [days[k], participants[k], person_days[k]],
            ));
        }
    }
    actions.sort_by_key(|&(starts_on, _, format, ..)| (starts_on, format));
    let mut serial = HashMap::new();
    let rows = actions
        .into_iter()
        .map(|(starts_on, ends_on, format, a, [days, participants, person_days])| {
            let year = chrono::Datelike::year(&starts_on);
            let number = serial.entry(year).and_modify(|n| *n += 1).or_insert(1);
            training_action::ActiveModel {
                id: NotSet,
                code: Set(format!("TR-{year}-{number:03}")),
                format: Set(format),
                audience: Set(a.audience),
                topic: Set(a.topic.to_owned()),
                delivery: Set(a.delivery),
                starts_on: Set(starts_on),
                ends_on: Set(ends_on),
                programme_id: Set(a.programme.map(|p| programmes[p])),
                region_id: Set(a.region.map(|r| ids.region(r))),
                training_days: Set(days as i32),
                participants: Set(participants as i32),
                person_days: Set(person_days as i32),
            }
        })
        .collect();
    insert_all(db, rows).await
}
