//! The cast of the demo: thirteen fictitious microcredit associations, the
//! profile of each region (weight in the sector, rural share, cities), the
//! partners that exchange data with the observatory and the monthly releases.

use super::util::{date, insert_all, period};
use crate::period::Month;
use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use entity::enums::{AssociationStatus, PartnerKind};
use entity::{association, partner, release};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait, NotSet};
use std::collections::HashMap;

/// A fictitious association and the traits that shape its figures.
pub(crate) struct Association {
    pub code: &'static str,
    pub name_fr: &'static str,
    pub name_ar: &'static str,
    pub name_en: &'static str,
    pub founded: i32,
    pub head_office: &'static str,
    /// Region of the head office; it weighs more in the association's book.
    pub home: &'static str,
    /// Regions served; empty means all twelve.
    pub regions: &'static [&'static str],
    /// Share of the sector's clients, in percent (approximately).
    pub size: f64,
    /// Relative weight of the individual, solidarity-group and very small
    /// enterprise segments in its book.
    pub segments: [f64; 3],
    /// Relative propensity to lend to women and to rural clients.
    pub women: f64,
    pub rural: f64,
    /// Average loan size and portfolio risk relative to the sector.
    pub loan_size: f64,
    pub risk: f64,
    /// Ratio of December 2020 to December 2019 clients (the crisis hit some
    /// associations harder than others).
    pub resilience: f64,
    /// Whether it runs mobile branches (vans visiting rural markets).
    pub mobile: bool,
}

/// The associations, in code order (the order in which they are inserted).
/// Three large ones serve the whole country; the others serve a few regions.
#[rustfmt::skip]
pub(crate) const ASSOCIATIONS: [Association; 13] = [
    Association { code: "ARGANE", name_fr: "Association Argane pour le Microcrédit", name_ar: "جمعية أركان للقروض الصغرى", name_en: "Argane Microcredit Association", founded: 1999, head_office: "Agadir", home: "MA-09", regions: &["MA-07", "MA-08", "MA-09", "MA-10"], size: 5.5, segments: [1.0, 1.1, 0.5], women: 1.05, rural: 1.2, loan_size: 0.88, risk: 1.15, resilience: 0.94, mobile: true },
    Association { code: "ATLAS", name_fr: "Atlas Microfinance Solidaire", name_ar: "جمعية الأطلس للتمويل الأصغر التضامني", name_en: "Atlas Solidarity Microfinance", founded: 1993, head_office: "Casablanca", home: "MA-06", regions: &[], size: 34.0, segments: [1.0, 1.0, 1.0], women: 1.0, rural: 1.0, loan_size: 1.0, risk: 0.9, resilience: 0.965, mobile: true },
    Association { code: "CEDRE", name_fr: "Association Cèdre de Microcrédit", name_ar: "جمعية الأرز للقروض الصغرى", name_en: "Cedar Microcredit Association", founded: 1998, head_office: "Meknès", home: "MA-03", regions: &["MA-01", "MA-02", "MA-03", "MA-04", "MA-05"], size: 5.0, segments: [1.05, 0.9, 1.0], women: 0.95, rural: 1.1, loan_size: 0.95, risk: 1.0, resilience: 0.95, mobile: true },
    Association { code: "DUNE", name_fr: "Association Dunes du Sud pour le Microcrédit", name_ar: "جمعية كثبان الجنوب للقروض الصغرى", name_en: "Southern Dunes Microcredit Association", founded: 2005, head_office: "Laâyoune", home: "MA-11", regions: &["MA-09", "MA-10", "MA-11", "MA-12"], size: 3.0, segments: [1.1, 0.7, 1.4], women: 0.9, rural: 0.7, loan_size: 1.1, risk: 0.95, resilience: 0.97, mobile: true },
    Association { code: "FIGUIER", name_fr: "Association Le Figuier, Microcrédit du Nord", name_ar: "جمعية التينة للقروض الصغرى بالشمال", name_en: "The Fig Tree, Microcredit of the North", founded: 2003, head_office: "Tétouan", home: "MA-01", regions: &["MA-01", "MA-02"], size: 1.8, segments: [1.0, 1.0, 0.8], women: 1.0, rural: 1.0, loan_size: 0.92, risk: 1.1, resilience: 0.94, mobile: false },
    Association { code: "JASMIN", name_fr: "Association Jasmin pour l'Entrepreneuriat Féminin", name_ar: "جمعية الياسمين للمقاولة النسائية", name_en: "Jasmine Association for Women's Entrepreneurship", founded: 2007, head_office: "Casablanca", home: "MA-06", regions: &["MA-04", "MA-06", "MA-07"], size: 1.4, segments: [0.7, 1.8, 0.4], women: 1.6, rural: 0.8, loan_size: 0.8, risk: 1.05, resilience: 0.95, mobile: false },
    Association { code: "MIMOSA", name_fr: "Mimosa Microcrédit Très Petites Entreprises", name_ar: "جمعية الميموزا لتمويل المقاولات الصغيرة جدا", name_en: "Mimosa Microcredit for Very Small Enterprises", founded: 2010, head_office: "Kénitra", home: "MA-04", regions: &["MA-04", "MA-06"], size: 1.0, segments: [1.1, 0.2, 5.0], women: 0.8, rural: 0.5, loan_size: 1.35, risk: 1.1, resilience: 0.93, mobile: false },
    Association { code: "NOUR", name_fr: "Association Nour de Microfinance", name_ar: "جمعية نور للتمويل الأصغر", name_en: "Nour Microfinance Association", founded: 1995, head_office: "Rabat", home: "MA-04", regions: &[], size: 27.0, segments: [1.1, 0.8, 1.2], women: 0.95, rural: 0.9, loan_size: 1.08, risk: 1.0, resilience: 0.96, mobile: true },
    Association { code: "OASIS", name_fr: "Association Oasis Microcrédit Solidaire", name_ar: "جمعية الواحة للقروض الصغرى التضامنية", name_en: "Oasis Solidarity Microcredit Association", founded: 1997, head_office: "Marrakech", home: "MA-07", regions: &[], size: 13.0, segments: [0.9, 1.3, 0.6], women: 1.1, rural: 1.15, loan_size: 0.9, risk: 1.1, resilience: 0.95, mobile: true },
    Association { code: "PALMIER", name_fr: "Association Le Palmier de l'Oriental", name_ar: "جمعية النخلة للقروض الصغرى بالجهة الشرقية", name_en: "The Palm Tree of the Oriental, Microcredit Association", founded: 2008, head_office: "Oujda", home: "MA-02", regions: &["MA-02", "MA-08"], size: 0.8, segments: [1.0, 1.2, 0.5], women: 1.0, rural: 1.2, loan_size: 0.85, risk: 1.2, resilience: 0.92, mobile: false },
    Association { code: "SAFRAN", name_fr: "Association Safran pour le Développement et le Microcrédit", name_ar: "جمعية الزعفران للتنمية والقروض الصغرى", name_en: "Saffron Association for Development and Microcredit", founded: 2001, head_office: "Ouarzazate", home: "MA-08", regions: &["MA-05", "MA-07", "MA-08", "MA-09"], size: 4.0, segments: [0.95, 1.2, 0.5], women: 1.05, rural: 1.4, loan_size: 0.85, risk: 1.05, resilience: 0.955, mobile: true },
    Association { code: "TAFOUKT", name_fr: "Association Tafoukt de Microcrédit", name_ar: "جمعية تافوكت للقروض الصغرى", name_en: "Tafoukt Microcredit Association", founded: 2012, head_office: "Tiznit", home: "MA-09", regions: &["MA-09", "MA-10"], size: 0.5, segments: [0.9, 1.3, 0.3], women: 1.2, rural: 1.3, loan_size: 0.8, risk: 1.25, resilience: 0.93, mobile: false },
    Association { code: "ZELLIGE", name_fr: "Association Zellige de Microcrédit", name_ar: "جمعية الزليج للقروض الصغرى", name_en: "Zellige Microcredit Association", founded: 2000, head_office: "Fès", home: "MA-03", regions: &["MA-01", "MA-03", "MA-04"], size: 2.5, segments: [1.05, 0.9, 1.1], women: 0.95, rural: 0.85, loan_size: 1.0, risk: 0.95, resilience: 0.955, mobile: false },
];

/// A town with its coordinates (degrees).
pub(crate) type Town = (&'static str, f64, f64);

/// The traits of a region that shape the figures of the associations in it.
pub(crate) struct Region {
    pub code: &'static str,
    /// Relative weight in the sector's clients.
    pub weight: f64,
    /// Share of clients living in rural areas.
    pub rural: f64,
    /// Average loan size and portfolio risk relative to the country.
    pub loan_size: f64,
    pub risk: f64,
    /// Cities hosting urban branches, largest first.
    pub cities: &'static [Town],
    /// Small towns and rural centres hosting rural branches.
    pub towns: &'static [Town],
}

/// The regions in code order, MA-01 to MA-12.
#[rustfmt::skip]
pub(crate) const REGIONS: [Region; 12] = [
    Region { code: "MA-01", weight: 10.0, rural: 0.35, loan_size: 1.02, risk: 1.1,
        cities: &[("Tanger", 35.7595, -5.8340), ("Tétouan", 35.5785, -5.3684), ("Al Hoceïma", 35.2517, -3.9372), ("Larache", 35.1932, -6.1557), ("Ksar El Kébir", 35.0017, -5.9055), ("Fnideq", 35.8494, -5.3576)],
        towns: &[("Chefchaouen", 35.1688, -5.2636), ("Ouazzane", 34.7970, -5.5836), ("Asilah", 35.4652, -6.0341), ("Targuist", 34.9386, -4.3170), ("Imzouren", 35.1450, -3.8530)] },
    Region { code: "MA-02", weight: 7.0, rural: 0.30, loan_size: 0.97, risk: 1.0,
        cities: &[("Oujda", 34.6814, -1.9086), ("Nador", 35.1681, -2.9335), ("Berkane", 34.9200, -2.3200), ("Taourirt", 34.4073, -2.8973), ("Guercif", 34.2259, -3.3536)],
        towns: &[("Jerada", 34.3117, -2.1636), ("Driouch", 34.9760, -3.3900), ("Ahfir", 34.9530, -2.1000), ("Zaïo", 34.9400, -2.7300), ("Bouarfa", 32.5300, -1.9650), ("Figuig", 32.1090, -1.2290)] },
    Region { code: "MA-03", weight: 15.0, rural: 0.38, loan_size: 0.98, risk: 0.95,
        cities: &[("Fès", 34.0331, -5.0003), ("Meknès", 33.8935, -5.5473), ("Taza", 34.2100, -4.0100), ("Sefrou", 33.8300, -4.8350), ("Azrou", 33.4340, -5.2210)],
        towns: &[("El Hajeb", 33.6900, -5.3700), ("Ifrane", 33.5333, -5.1100), ("Taounate", 34.5360, -4.6400), ("Missour", 33.0470, -3.9930), ("Boulemane", 33.3620, -4.7300), ("Moulay Yacoub", 34.0870, -5.1800)] },
    Region { code: "MA-04", weight: 11.0, rural: 0.28, loan_size: 1.08, risk: 0.95,
        cities: &[("Rabat", 34.0209, -6.8416), ("Salé", 34.0531, -6.7985), ("Kénitra", 34.2610, -6.5802), ("Témara", 33.9287, -6.9066), ("Khémisset", 33.8240, -6.0660), ("Sidi Kacem", 34.2260, -5.7070)],
        towns: &[("Sidi Slimane", 34.2650, -5.9250), ("Tiflet", 33.8940, -6.3060), ("Souk El Arbaa", 34.6850, -5.9850), ("Rommani", 33.5280, -6.6050), ("Sidi Yahya El Gharb", 34.3050, -6.3050)] },
    Region { code: "MA-05", weight: 8.0, rural: 0.50, loan_size: 0.94, risk: 1.0,
        cities: &[("Béni Mellal", 32.3373, -6.3498), ("Khouribga", 32.8811, -6.9063), ("Khénifra", 32.9394, -5.6675), ("Fquih Ben Salah", 32.5000, -6.6900), ("Kasba Tadla", 32.5980, -6.2680)],
        towns: &[("Azilal", 31.9610, -6.5710), ("Oued Zem", 32.8630, -6.5730), ("Demnate", 31.7320, -7.0010), ("Souk Sebt Oulad Nemma", 32.2950, -6.7000), ("Mrirt", 33.1660, -5.5680), ("El Ksiba", 32.5680, -6.0310)] },
    Region { code: "MA-06", weight: 19.0, rural: 0.22, loan_size: 1.12, risk: 1.05,
        cities: &[("Casablanca", 33.5731, -7.5898), ("Mohammedia", 33.6861, -7.3829), ("El Jadida", 33.2316, -8.5007), ("Settat", 33.0010, -7.6166), ("Berrechid", 33.2655, -7.5875), ("Benslimane", 33.6180, -7.1210)],
        towns: &[("Sidi Bennour", 32.6500, -8.4250), ("Azemmour", 33.2870, -8.3420), ("Ben Ahmed", 33.0660, -7.2460), ("Had Soualem", 33.4230, -7.8500), ("Zemamra", 32.6300, -8.7000), ("Bouskoura", 33.4490, -7.6510)] },
    Region { code: "MA-07", weight: 14.0, rural: 0.45, loan_size: 0.97, risk: 1.25,
        cities: &[("Marrakech", 31.6295, -7.9811), ("Safi", 32.2994, -9.2372), ("Essaouira", 31.5085, -9.7595), ("El Kelaa des Sraghna", 32.0480, -7.4080), ("Youssoufia", 32.2460, -8.5290), ("Ben Guerir", 32.2360, -7.9540)],
        towns: &[("Chichaoua", 31.5440, -8.7640), ("Amizmiz", 31.2130, -8.2400), ("Tahannaout", 31.3510, -7.9510), ("Imintanoute", 31.1740, -8.8540), ("Tamanar", 31.0000, -9.6700), ("Sidi Bou Othmane", 31.9010, -7.9420)] },
    Region { code: "MA-08", weight: 5.0, rural: 0.55, loan_size: 0.92, risk: 1.05,
        cities: &[("Errachidia", 31.9314, -4.4288), ("Ouarzazate", 30.9335, -6.9370), ("Midelt", 32.6852, -4.7451), ("Tinghir", 31.5147, -5.5328), ("Zagora", 30.3320, -5.8380)],
        towns: &[("Erfoud", 31.4330, -4.2330), ("Rissani", 31.2780, -4.2640), ("Goulmima", 31.6940, -4.9590), ("Kelaat M'Gouna", 31.2400, -6.1300), ("Agdz", 30.6970, -6.4480), ("Boumalne Dadès", 31.3700, -5.9900)] },
    Region { code: "MA-09", weight: 6.5, rural: 0.40, loan_size: 1.0, risk: 1.2,
        cities: &[("Agadir", 30.4278, -9.5981), ("Inezgane", 30.3550, -9.5460), ("Aït Melloul", 30.3340, -9.4970), ("Taroudant", 30.4703, -8.8770), ("Tiznit", 29.6974, -9.7316)],
        towns: &[("Ouled Teima", 30.3940, -9.2090), ("Biougra", 30.2150, -9.3710), ("Tata", 29.7430, -7.9730), ("Taliouine", 30.5310, -7.9240), ("Tafraout", 29.7190, -8.9750), ("Aït Baha", 30.0680, -9.1530)] },
    Region { code: "MA-10", weight: 1.5, rural: 0.30, loan_size: 1.0, risk: 1.0,
        cities: &[("Guelmim", 28.9870, -10.0574), ("Tan-Tan", 28.4380, -11.1030), ("Sidi Ifni", 29.3797, -10.1730)],
        towns: &[("Assa", 28.6090, -9.4270), ("Bouizakarne", 29.1770, -9.7170), ("Taghjijt", 29.0560, -9.4280)] },
    Region { code: "MA-11", weight: 1.0, rural: 0.10, loan_size: 1.08, risk: 0.9,
        cities: &[("Laâyoune", 27.1536, -13.2033), ("Es-Semara", 26.7400, -11.6710), ("Boujdour", 26.1260, -14.4840)],
        towns: &[("Tarfaya", 27.9390, -12.9260), ("El Marsa", 27.0900, -13.4100)] },
    Region { code: "MA-12", weight: 0.5, rural: 0.12, loan_size: 1.1, risk: 0.9,
        cities: &[("Dakhla", 23.6848, -15.9580)],
        towns: &[("Aousserd", 22.5550, -14.3290), ("Bir Gandouz", 21.6430, -16.5040)] },
];

impl Association {
    /// Indexes into [`REGIONS`] of the regions it serves.
    pub(crate) fn region_indexes(&self) -> Vec<usize> {
        (0..REGIONS.len())
            .filter(|&r| self.regions.is_empty() || self.regions.contains(&REGIONS[r].code))
            .collect()
    }
}

/// Database ids of the reference rows, by position in the constants above.
pub(crate) struct Ids {
    pub regions: Vec<i32>,
    pub associations: Vec<i32>,
    /// Each association's own partner, which sends its reports.
    pub partners: Vec<i32>,
    pub observatory: i32,
}

impl Ids {
    pub(crate) fn region(&self, code: &str) -> i32 {
        let index = REGIONS.iter().position(|r| r.code == code).expect("known region code");
        self.regions[index]
    }
}

/// Looks up the region ids (seeded by migration) by their codes.
pub(crate) async fn region_ids<C: ConnectionTrait>(db: &C) -> Result<Vec<i32>, DbErr> {
    let by_code: HashMap<String, i32> = entity::region::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.code, r.id))
        .collect();
    REGIONS
        .iter()
        .map(|r| {
            by_code
                .get(r.code)
                .copied()
                .ok_or_else(|| DbErr::RecordNotFound(format!("region {} is missing; run the migrations first", r.code)))
        })
        .collect()
}

/// Inserts the associations and returns their ids in [`ASSOCIATIONS`] order.
pub(crate) async fn insert_associations<C: ConnectionTrait>(db: &C) -> Result<Vec<i32>, DbErr> {
    let rows = ASSOCIATIONS
        .iter()
        .map(|a| association::ActiveModel {
            id: NotSet,
            code: Set(a.code.to_owned()),
            name_fr: Set(a.name_fr.to_owned()),
            name_ar: Set(a.name_ar.to_owned()),
            name_en: Set(Some(a.name_en.to_owned())),
            founded_year: Set(a.founded),
            status: Set(AssociationStatus::Active),
            head_office_city: Set(a.head_office.to_owned()),
        })
        .collect();
    insert_all(db, rows).await?;
    let by_code: HashMap<String, i32> = association::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.code, a.id))
        .collect();
    Ok(ASSOCIATIONS.iter().map(|a| by_code[a.code]).collect())
}

/// The institutional partners: the observatory itself, the supervising
/// ministry, a refinancing fund and the federation of associations.
const INSTITUTIONS: [(&str, &str, PartnerKind); 4] = [
    (
        "OBSERVATORY",
        "Observatoire de la microfinance",
        PartnerKind::Observatory,
    ),
    (
        "MINISTRY-FINANCE",
        "Ministère de l'Économie et des Finances",
        PartnerKind::Ministry,
    ),
    ("JAIDA", "Fonds Jaida", PartnerKind::Fund),
    (
        "FEDERATION",
        "Fédération nationale des associations de microcrédit",
        PartnerKind::Federation,
    ),
];

/// Inserts the partners (institutions, then one per association) and
/// returns the id of the observatory and those of the associations'
/// partners, in [`ASSOCIATIONS`] order.
pub(crate) async fn insert_partners<C: ConnectionTrait>(
    db: &C,
    associations: &[i32],
) -> Result<(i32, Vec<i32>), DbErr> {
    let created_at = Utc.from_utc_datetime(&date(2018, 12, 3).and_time(NaiveTime::MIN));
    let row = |code: &str, name: &str, kind, association_id| partner::ActiveModel {
        id: NotSet,
        code: Set(code.to_owned()),
        name: Set(name.to_owned()),
        kind: Set(kind),
        association_id: Set(association_id),
        created_at: Set(created_at),
    };
    let mut rows: Vec<_> = INSTITUTIONS
        .iter()
        .map(|&(code, name, kind)| row(code, name, kind, None))
        .collect();
    rows.extend(
        ASSOCIATIONS
            .iter()
            .zip(associations)
            .map(|(a, &id)| row(a.code, a.name_fr, PartnerKind::Association, Some(id))),
    );
    insert_all(db, rows).await?;
    let by_code: HashMap<String, i32> = partner::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.code, p.id))
        .collect();
    let find = |code: &str| {
        by_code
            .get(code)
            .copied()
            .ok_or_else(|| DbErr::RecordNotFound(format!("partner {code}")))
    };
    let observatory = find(INSTITUTIONS[0].0)?;
    let partners = ASSOCIATIONS.iter().map(|a| find(a.code)).collect::<Result<_, _>>()?;
    Ok((observatory, partners))
}

/// When the observatory released month `t` (0 = January 2019): about three weeks after the month closed, later
/// during the spring 2020 lockdown.
pub(crate) fn released_at(t: usize) -> DateTime<Utc> {
    let next = Month(period(t)).shift(1);
    let day = if is_lockdown(t) { 28 } else { 20 + (t % 4) as u32 };
    let time = NaiveTime::from_hms_opt(10, 30, 0).expect("valid time");
    Utc.from_utc_datetime(&date(next.year(), next.month(), day).and_time(time))
}

/// Whether month `t` is one of the spring 2020 lockdown (March to May 2020).
fn is_lockdown(t: usize) -> bool {
    (202003..=202005).contains(&period(t))
}

/// Releases demo month `t`, as the observatory did at [`released_at`], and judges the alert rules on it as the
/// release did.
pub(crate) async fn release_month<C: ConnectionTrait>(db: &C, observatory: i32, t: usize) -> Result<(), DbErr> {
    use sea_orm::ActiveModelTrait;
    let p = period(t);
    let note = if is_lockdown(t) {
        format!(
            "Monthly statistics for {}-{:02}; published late because of the COVID-19 lockdown.",
            p / 100,
            p % 100
        )
    } else {
        format!("Monthly statistics for {}-{:02}.", p / 100, p % 100)
    };
    release::ActiveModel {
        id: NotSet,
        period: Set(p),
        released_at: Set(released_at(t)),
        released_by: Set(Some(observatory)),
        note: Set(note),
    }
    .insert(db)
    .await?;
    crate::alert::rules::evaluate(
        db,
        crate::alert::rules::Trigger::Release { month: Month(p) },
        released_at(t),
    )
    .await
    .map_err(|e| match e {
        crate::error::ApiError::Database(e) => e,
        other => DbErr::Custom(format!("judging the alert rules on a demo release: {}", other.detail())),
    })?;
    Ok(())
}
