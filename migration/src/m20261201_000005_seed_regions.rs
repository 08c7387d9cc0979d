//! Reference data: the 12 regions of Morocco since the 2015 territorial
//! division, with their ISO 3166-2:MA codes and names in French, Arabic and
//! English. Every regional statistic points at one of these rows.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000005_seed_regions"
    }
}

/// Code, French, Arabic and English name of each region.
const REGIONS: [(&str, &str, &str, &str); 12] = [
    (
        "MA-01",
        "Tanger-Tétouan-Al Hoceïma",
        "طنجة - تطوان - الحسيمة",
        "Tangier-Tetouan-Al Hoceima",
    ),
    ("MA-02", "L'Oriental", "الشرق", "Oriental"),
    ("MA-03", "Fès-Meknès", "فاس - مكناس", "Fez-Meknes"),
    (
        "MA-04",
        "Rabat-Salé-Kénitra",
        "الرباط - سلا - القنيطرة",
        "Rabat-Sale-Kenitra",
    ),
    (
        "MA-05",
        "Béni Mellal-Khénifra",
        "بني ملال - خنيفرة",
        "Beni Mellal-Khenifra",
    ),
    (
        "MA-06",
        "Casablanca-Settat",
        "الدار البيضاء - سطات",
        "Casablanca-Settat",
    ),
    ("MA-07", "Marrakech-Safi", "مراكش - آسفي", "Marrakesh-Safi"),
    ("MA-08", "Drâa-Tafilalet", "درعة - تافيلالت", "Draa-Tafilalet"),
    ("MA-09", "Souss-Massa", "سوس - ماسة", "Souss-Massa"),
    ("MA-10", "Guelmim-Oued Noun", "كلميم - واد نون", "Guelmim-Oued Noun"),
    (
        "MA-11",
        "Laâyoune-Sakia El Hamra",
        "العيون - الساقية الحمراء",
        "Laayoune-Sakia El Hamra",
    ),
    (
        "MA-12",
        "Dakhla-Oued Ed-Dahab",
        "الداخلة - وادي الذهب",
        "Dakhla-Oued Ed-Dahab",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut insert = Query::insert();
        insert
            .into_table("region")
            .columns(["code", "name_fr", "name_ar", "name_en"]);
        for (code, name_fr, name_ar, name_en) in REGIONS {
            insert.values_panic([code.into(), name_fr.into(), name_ar.into(), name_en.into()]);
        }
        manager.execute(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let delete = Query::delete()
            .from_table("region")
            .and_where(Expr::col("code").is_in(REGIONS.map(|(code, ..)| code)))
            .take();
        manager.execute(delete).await
    }
}
