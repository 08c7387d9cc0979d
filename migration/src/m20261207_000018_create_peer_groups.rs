//! Peer groups: the observatory's versioned schemes (`peer_scheme`), the thresholds of each group as data
//! (`peer_rule`: for a dimension, the group an association falls in when its measure is within [lower, upper)), and
//! each association's membership per scheme, dimension and quarter (`peer_membership`), stored when a quarter is
//! released so that history is reproducible. Seeded with the scheme `MA-2020`.

use crate::ddl::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000018_create_peer_groups"
    }
}

fn short(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).string_len(64).not_null().take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let scheme = Table::create()
            .table("peer_scheme")
            .col(pk("id"))
            .col(code("code"))
            .col(int("version"))
            .col(text("description"))
            .take();
        let rule = Table::create()
            .table("peer_rule")
            .col(pk("id"))
            .col(short("scheme"))
            .col(one_of(
                "dimension",
                &[
                    "SCALE",
                    "OUTREACH",
                    "AGE",
                    "METHODOLOGY",
                    "RURAL_FOCUS",
                    "SUSTAINABILITY",
                    "REGION",
                ],
            ))
            .col(short("group_code"))
            .col(int("position"))
            .col(text("label_fr"))
            .col(text("label_ar"))
            .col(text("label_en"))
            .col(ColumnDef::new("lower").double().null())
            .col(ColumnDef::new("upper").double().null())
            .take();
        let membership = Table::create()
            .table("peer_membership")
            .col(short("scheme"))
            .col(int("association_id"))
            .col(period("period"))
            .col(short("dimension"))
            .col(short("group_code"))
            .primary_key(
                Index::create()
                    .col("scheme")
                    .col("period")
                    .col("dimension")
                    .col("association_id"),
            )
            .foreign_key(&mut fk("peer_membership", "association_id", "association"))
            .take();
        create(
            manager,
            vec![scheme, rule, membership],
            vec![unique("peer_rule", &["scheme", "dimension", "group_code"])],
        )
        .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table("peer_scheme")
                    .columns(["code", "version", "description"])
                    .values_panic([
                        "MA-2020".into(),
                        1.into(),
                        "Peer groups of Moroccan microcredit associations: scale (gross portfolio), outreach (active \
                         clients), age (years since founding), methodology (the segment holding half the portfolio), \
                         rural focus (rural share of clients), sustainability (financial self-sufficiency) and main \
                         region (the region holding the largest share of the portfolio)"
                            .into(),
                    ])
                    .to_owned(),
            )
            .await?;
        let mut rules = Query::insert()
            .into_table("peer_rule")
            .columns([
                "scheme",
                "dimension",
                "group_code",
                "position",
                "label_fr",
                "label_ar",
                "label_en",
                "lower",
                "upper",
            ])
            .to_owned();
        let none = Option::<f64>::None;
        let rows: &[(&str, &str, &str, &str, &str, Option<f64>, Option<f64>)] = &[
            (
                "SCALE",
                "LARGE",
                "Grande taille",
                "كبيرة الحجم",
                "Large",
                Some(1.0e9),
                None,
            ),
            (
                "SCALE",
                "MEDIUM",
                "Taille moyenne",
                "متوسطة الحجم",
                "Medium",
                Some(1.0e8),
                Some(1.0e9),
            ),
            (
                "SCALE",
                "SMALL",
                "Petite taille",
                "صغيرة الحجم",
                "Small",
                None,
                Some(1.0e8),
            ),
            (
                "OUTREACH",
                "LARGE",
                "Large portée",
                "انتشار واسع",
                "Large outreach",
                Some(100_000.0),
                None,
            ),
            (
                "OUTREACH",
                "MEDIUM",
                "Portée moyenne",
                "انتشار متوسط",
                "Medium outreach",
                Some(10_000.0),
                Some(100_000.0),
            ),
            (
                "OUTREACH",
                "SMALL",
                "Portée réduite",
                "انتشار محدود",
                "Small outreach",
                None,
                Some(10_000.0),
            ),
            (
                "AGE",
                "NEW",
                "Nouvelle (1 à 4 ans)",
                "حديثة (1 إلى 4 سنوات)",
                "New (1 to 4 years)",
                None,
                Some(5.0),
            ),
            (
                "AGE",
                "YOUNG",
                "Jeune (5 à 8 ans)",
                "فتية (5 إلى 8 سنوات)",
                "Young (5 to 8 years)",
                Some(5.0),
                Some(9.0),
            ),
            (
                "AGE",
                "MATURE",
                "Mature (plus de 8 ans)",
                "ناضجة (أكثر من 8 سنوات)",
                "Mature (over 8 years)",
                Some(9.0),
                None,
            ),
            (
                "METHODOLOGY",
                "INDIVIDUAL",
                "Prêts individuels",
                "قروض فردية",
                "Individual lending",
                Some(0.5),
                None,
            ),
            (
                "METHODOLOGY",
                "SOLIDARITY_GROUP",
                "Groupes solidaires",
                "مجموعات تضامنية",
                "Solidarity groups",
                Some(0.5),
                None,
            ),
            ("METHODOLOGY", "MIXED", "Mixte", "مختلطة", "Mixed", None, None),
            (
                "RURAL_FOCUS",
                "RURAL",
                "À dominante rurale",
                "قروية أساسا",
                "Mainly rural",
                Some(0.5),
                None,
            ),
            (
                "RURAL_FOCUS",
                "NOT_RURAL",
                "À dominante urbaine",
                "حضرية أساسا",
                "Mainly urban",
                None,
                Some(0.5),
            ),
            (
                "SUSTAINABILITY",
                "FSS",
                "Autosuffisante",
                "مكتفية ذاتيا",
                "Financially self-sufficient",
                Some(1.0),
                None,
            ),
            (
                "SUSTAINABILITY",
                "NON_FSS",
                "Non autosuffisante",
                "غير مكتفية ذاتيا",
                "Not self-sufficient",
                None,
                Some(1.0),
            ),
        ];
        for (position, (dimension, group, fr, ar, en, lower, upper)) in rows.iter().enumerate() {
            rules.values_panic([
                "MA-2020".into(),
                (*dimension).into(),
                (*group).into(),
                (position as i32).into(),
                (*fr).into(),
                (*ar).into(),
                (*en).into(),
                lower.or(none).into(),
                upper.or(none).into(),
            ]);
        }
        manager.exec_stmt(rules).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, &["peer_membership", "peer_rule", "peer_scheme"]).await
    }
}
