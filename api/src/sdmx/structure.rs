//! The SDMX structures: three dataflows (the indicators by segment, sex and urbanisation; the loan indicators by
//! economic activity; the financial ratios by peer group and statistic), their data structure definitions, concepts
//! and code lists, with names in French, Arabic and English, written as an SDMX-ML 2.1 structure message.

use super::xml::Xml;
use crate::indicator::catalog::{Dim, MEASURES, MeasureDef, Unit};
use crate::labels::CODE_LISTS;

pub const AGENCY: &str = "OBSERVATORY";
pub const CONCEPTS: &str = "CS_MICROFINANCE";
pub const VERSION: &str = "1.0";

/// Labels in French, Arabic and English.
pub type Names = [String; 3];

fn names(fr: &str, ar: &str, en: &str) -> Names {
    [fr.to_owned(), ar.to_owned(), en.to_owned()]
}

/// A code list of the structure.
pub struct Codelist {
    pub id: &'static str,
    pub names: Names,
    pub codes: Vec<(String, Names)>,
}

/// A breakdown position of a dataflow's key, after FREQ, REF_AREA and INDICATOR.
#[derive(Debug)]
pub struct Breakdown {
    /// The concept (the key position's id) and its code list.
    pub concept: &'static str,
    pub codelist: &'static str,
    /// The indicators' dimension it is.
    pub dim: Dim,
    /// SDMX code ↔ the schema's code.
    pub codes: &'static [(&'static str, &'static str)],
    /// The `IndicatorFilter` field naming its codes, and the `IndicatorRow` field giving a row's code.
    pub filter: &'static str,
    pub field: &'static str,
}

/// A dataflow and its data structure.
#[derive(Debug)]
pub struct Flow {
    pub id: &'static str,
    pub dsd: &'static str,
    /// Names of the dataflow and of its data structure (fr, ar, en).
    pub names: [&'static str; 3],
    pub structure_names: [&'static str; 3],
    pub breakdowns: &'static [Breakdown],
    /// The breakdowns every indicator of the flow must have (the others are `_T` where an indicator lacks them).
    pub requires: &'static [Dim],
    /// The financial ratios' flow: its indicators are the ratios of the quarterly statements, its key ends with the
    /// peer group and the statistic (`PEER_GROUP`, `STATISTIC`) rather than breakdowns.
    pub financial: bool,
    /// The survey results' flow: its key is `SURVEY_POSITIONS`.
    pub survey: bool,
}

/// The indicators by segment, sex and urbanisation: `FREQ.REF_AREA.INDICATOR.SEGMENT.SEX.URBANISATION`.
pub const MICROFINANCE: Flow = Flow {
    id: "MICROFINANCE",
    dsd: "DSD_MICROFINANCE",
    names: [
        "Indicateurs de la microfinance au Maroc",
        "مؤشرات التمويل الأصغر بالمغرب",
        "Microfinance indicators, Morocco",
    ],
    structure_names: [
        "Structure des indicateurs de la microfinance",
        "بنية مؤشرات التمويل الأصغر",
        "Microfinance indicators structure",
    ],
    breakdowns: &[
        Breakdown {
            concept: "SEGMENT",
            codelist: "CL_SEGMENT",
            dim: Dim::Segment,
            codes: SEGMENT_CODES,
            filter: "segments",
            field: "segment",
        },
        Breakdown {
            concept: "SEX",
            codelist: "CL_SEX",
            dim: Dim::Gender,
            codes: SEX_CODES,
            filter: "genders",
            field: "gender",
        },
        Breakdown {
            concept: "URBANISATION",
            codelist: "CL_URBANISATION",
            dim: Dim::Area,
            codes: URBANISATION_CODES,
            filter: "areas",
            field: "area",
        },
    ],
    requires: &[],
    financial: false,
    survey: false,
};

/// The loan indicators by economic activity financed: `FREQ.REF_AREA.INDICATOR.ACTIVITY`. A flow of its own, so that
/// the key of `MICROFINANCE` keeps its six positions (and the queries saved against it keep working).
pub const MICROFINANCE_ACT: Flow = Flow {
    id: "MICROFINANCE_ACT",
    dsd: "DSD_MICROFINANCE_ACT",
    names: [
        "Prêts de la microfinance par activité financée, Maroc",
        "قروض التمويل الأصغر حسب النشاط الممول بالمغرب",
        "Microfinance loans by economic activity financed, Morocco",
    ],
    structure_names: [
        "Structure des prêts par activité financée",
        "بنية القروض حسب النشاط الممول",
        "Loans by economic activity structure",
    ],
    breakdowns: &[Breakdown {
        concept: "ACTIVITY",
        codelist: "CL_ACTIVITY",
        dim: Dim::Activity,
        codes: ACTIVITY_CODES,
        filter: "activities",
        field: "activity",
    }],
    requires: &[Dim::Activity],
    financial: false,
    survey: false,
};

/// The financial ratios of the quarterly statements, sector-wide and by peer group:
/// `FREQ.REF_AREA.INDICATOR.PEER_GROUP.STATISTIC` (FREQ Q or A; REF_AREA `_T`; PEER_GROUP `_T` for the sector or a
/// scheme's group, `SCALE_LARGE`; STATISTIC `AGG`, the ratio of sums, or `P25`, `MEDIAN`, `P75`, `N`).
pub const MICROFINANCE_FIN: Flow = Flow {
    id: "MICROFINANCE_FIN",
    dsd: "DSD_MICROFINANCE_FIN",
    names: [
        "Ratios financiers des associations de microcrédit, Maroc",
        "النسب المالية لجمعيات القروض الصغرى بالمغرب",
        "Financial ratios of the microcredit associations, Morocco",
    ],
    structure_names: [
        "Structure des ratios financiers",
        "بنية النسب المالية",
        "Financial ratios structure",
    ],
    breakdowns: &[],
    requires: &[],
    financial: true,
    survey: false,
};

/// The positions of the financial flow's key after INDICATOR, with their code lists.
pub const FINANCIAL_POSITIONS: [(&str, &str); 2] = [("PEER_GROUP", "CL_PEER_GROUP"), ("STATISTIC", "CL_STATISTIC")];

/// The statistics of the financial flow: SDMX code and labels.
pub const STATISTICS: [(&str, &str, &str, &str); 5] = [
    ("AGG", "Ratio des sommes", "نسبة المجاميع", "Ratio of sums"),
    ("P25", "25e centile", "المئين 25", "25th percentile"),
    ("MEDIAN", "Médiane", "الوسيط", "Median"),
    ("P75", "75e centile", "المئين 75", "75th percentile"),
    ("N", "Nombre d'associations", "عدد الجمعيات", "Number of associations"),
];

/// The survey results: `SURVEY.QUESTION.RESPONSE.REF_AREA.SEX.URBANISATION.STAFF_LEVEL.STATISTIC` (STATISTIC `SHARE`,
/// `CI_LOW`, `CI_HIGH`, `BASE_N`, `BASE_W`), the time period the fieldwork's year.
pub const SURVEY: Flow = Flow {
    id: "SURVEY",
    dsd: "DSD_SURVEY",
    names: [
        "Résultats des enquêtes de l'Observatoire",
        "نتائج استطلاعات المرصد",
        "Results of the Observatory's surveys",
    ],
    structure_names: [
        "Structure des résultats d'enquête",
        "بنية نتائج الاستطلاعات",
        "Survey results structure",
    ],
    breakdowns: &[],
    requires: &[],
    financial: false,
    survey: true,
};

/// The survey flow's key positions and their code lists.
pub const SURVEY_POSITIONS: [(&str, &str); 8] = [
    ("SURVEY", "CL_SURVEY"),
    ("QUESTION", "CL_SURVEY_QUESTION"),
    ("RESPONSE", "CL_RESPONSE"),
    ("REF_AREA", "CL_REF_AREA"),
    ("SEX", "CL_SEX"),
    ("URBANISATION", "CL_URBANISATION"),
    ("STAFF_LEVEL", "CL_STAFF_LEVEL"),
    ("STATISTIC", "CL_SURVEY_STATISTIC"),
];

/// The survey flow's statistics: SDMX code and labels.
pub const SURVEY_STATISTICS: [(&str, &str, &str, &str); 5] = [
    (
        "SHARE",
        "Part des répondants (%)",
        "نسبة المجيبين (%)",
        "Share of respondents (%)",
    ),
    (
        "CI_LOW",
        "Borne basse de l'intervalle à 95 %",
        "الحد الأدنى لمجال الثقة 95 %",
        "Lower bound of the 95 % interval",
    ),
    (
        "CI_HIGH",
        "Borne haute de l'intervalle à 95 %",
        "الحد الأعلى لمجال الثقة 95 %",
        "Upper bound of the 95 % interval",
    ),
    (
        "BASE_N",
        "Base (répondants)",
        "القاعدة (المجيبون)",
        "Base (respondents)",
    ),
    ("BASE_W", "Base pondérée", "القاعدة المرجحة", "Weighted base"),
];

/// The staff levels of staff surveys, SDMX code and labels.
pub const STAFF_LEVELS: [(&str, &str, &str, &str); 3] = [
    ("TOP_MANAGEMENT", "Direction", "الإدارة العليا", "Top management"),
    (
        "MIDDLE_MANAGEMENT_BACK_OFFICE",
        "Encadrement intermédiaire (back office)",
        "الأطر الوسطى (المكاتب الخلفية)",
        "Middle management (back office)",
    ),
    (
        "FRONT_OFFICE",
        "Front office (terrain)",
        "المكاتب الأمامية (الميدان)",
        "Front office (field staff)",
    ),
];

/// The codes of the surveys, their questions and responses (options and nets), with their names.
#[derive(Debug, Clone, Default)]
pub struct SurveyCodes {
    pub surveys: Vec<(String, Names)>,
    pub questions: Vec<(String, Names)>,
    pub responses: Vec<(String, Names)>,
}

/// Every dataflow.
pub const FLOWS: [&Flow; 4] = [&MICROFINANCE, &MICROFINANCE_ACT, &MICROFINANCE_FIN, &SURVEY];

impl Flow {
    /// The dimensions of the data structure, in key order (the time dimension comes after them): id and code list.
    pub fn dimensions(&self) -> Vec<(&'static str, &'static str)> {
        if self.survey {
            return SURVEY_POSITIONS.to_vec();
        }
        let mut dimensions = vec![
            ("FREQ", "CL_FREQ"),
            ("REF_AREA", "CL_REF_AREA"),
            ("INDICATOR", "CL_INDICATOR"),
        ];
        dimensions.extend(self.breakdowns.iter().map(|b| (b.concept, b.codelist)));
        if self.financial {
            dimensions.extend(FINANCIAL_POSITIONS);
        }
        dimensions
    }

    /// Whether the flow carries a measure: the financial ratios of the quarterly statements are the financial flow's
    /// alone; the other flows carry the indicators with the breakdowns they require.
    pub fn carries(&self, measure: &MeasureDef) -> bool {
        if self.survey || measure.financial().is_some() != self.financial {
            return false;
        }
        let dims = measure.dims();
        self.requires.iter().all(|d| dims.contains(d))
    }

    /// The flow a dataflow reference names (`MICROFINANCE`, `OBSERVATORY,MICROFINANCE_ACT,1.0`, ...).
    pub fn named(reference: &str) -> Option<&'static Flow> {
        FLOWS
            .into_iter()
            .find(|flow| reference.split(',').any(|part| part == flow.id))
    }
}

/// The unit code of a measure's unit.
pub fn unit_code(unit: Unit) -> &'static str {
    match unit {
        Unit::Count => "NUMBER",
        Unit::Mad => "MAD",
        Unit::Percent => "PC",
        Unit::MadPerLoan => "MAD_PER_LOAN",
        Unit::MadPerClient => "MAD_PER_CLIENT",
        Unit::ClientsPerStaff => "CLIENTS_PER_STAFF",
        Unit::Multiple => "RATIO",
        Unit::ClientsPerLoanOfficer => "CLIENTS_PER_LOAN_OFFICER",
    }
}

/// Codes of one of the schema's code lists (`labels::CODE_LISTS`), under the SDMX codes given for them.
fn from_labels(list: &str, sdmx_codes: &[(&str, &str)]) -> Vec<(String, Names)> {
    let (_, _, _, _, codes) = CODE_LISTS.iter().find(|(id, ..)| *id == list).expect("a code list");
    sdmx_codes
        .iter()
        .map(|(sdmx, ours)| {
            let code = codes.iter().find(|c| c.code == *ours).expect("a code");
            (sdmx.to_string(), names(code.fr, code.ar, code.en))
        })
        .collect()
}

/// SDMX code ↔ the schema's code, for the breakdown dimensions.
pub const SEGMENT_CODES: &[(&str, &str)] = &[
    ("INDIVIDUAL", "INDIVIDUAL"),
    ("SOLIDARITY_GROUP", "SOLIDARITY_GROUP"),
    ("VERY_SMALL_ENTERPRISE", "VERY_SMALL_ENTERPRISE"),
];
pub const SEX_CODES: &[(&str, &str)] = &[("F", "FEMALE"), ("M", "MALE")];
pub const URBANISATION_CODES: &[(&str, &str)] = &[("U", "URBAN"), ("R", "RURAL")];
/// The leaf codes of the `ACTIVITY` code list, the same in SDMX.
pub const ACTIVITY_CODES: &[(&str, &str)] = &[
    ("AGRICULTURE", "AGRICULTURE"),
    ("LIVESTOCK", "LIVESTOCK"),
    ("COMMERCE", "COMMERCE"),
    ("CRAFTS", "CRAFTS"),
    ("PRODUCTION", "PRODUCTION"),
    ("SERVICES", "SERVICES"),
    ("OTHER_IGA", "OTHER_IGA"),
    ("HOUSING", "HOUSING"),
    ("UTILITIES_CONNECTION", "UTILITIES_CONNECTION"),
    ("UNSPECIFIED", "UNSPECIFIED"),
];

fn total(what: &str) -> (String, Names) {
    (
        "_T".to_owned(),
        names(&format!("Total ({what})"), "المجموع", &format!("Total ({what})")),
    )
}

/// Every code list, regions given as (code, fr, ar, en), and the peer groups as (SDMX code, names).
pub fn codelists(
    regions: &[(String, String, String, String)],
    peer_groups: &[(String, Names)],
    surveys: &SurveyCodes,
) -> Vec<Codelist> {
    let with_total = |what: &str, mut codes: Vec<(String, Names)>| {
        codes.insert(0, total(what));
        codes
    };
    let mut areas = vec![(
        "_T".to_owned(),
        names("Maroc (ensemble)", "المغرب (المجموع)", "Morocco (total)"),
    )];
    areas.extend(
        regions
            .iter()
            .map(|(code, fr, ar, en)| (code.clone(), names(fr, ar, en))),
    );
    vec![
        Codelist {
            id: "CL_FREQ",
            names: names("Fréquence", "التردد", "Frequency"),
            codes: vec![
                ("M".into(), names("Mensuel", "شهري", "Monthly")),
                ("Q".into(), names("Trimestriel", "فصلي", "Quarterly")),
                ("A".into(), names("Annuel", "سنوي", "Annual")),
            ],
        },
        Codelist {
            id: "CL_REF_AREA",
            names: names("Zone de référence", "المنطقة المرجعية", "Reference area"),
            codes: areas,
        },
        Codelist {
            id: "CL_INDICATOR",
            names: names("Indicateur", "المؤشر", "Indicator"),
            codes: MEASURES
                .iter()
                .map(|m| (m.code.to_owned(), names(m.label_fr, m.label_ar, m.label_en)))
                .collect(),
        },
        Codelist {
            id: "CL_SEGMENT",
            names: names("Segment", "الشريحة", "Segment"),
            codes: with_total("segments", from_labels("SEGMENT", SEGMENT_CODES)),
        },
        Codelist {
            id: "CL_SEX",
            names: names("Sexe", "الجنس", "Sex"),
            codes: with_total("sexes", from_labels("GENDER", SEX_CODES)),
        },
        Codelist {
            id: "CL_URBANISATION",
            names: names("Milieu", "الوسط", "Degree of urbanisation"),
            codes: with_total("areas", from_labels("AREA", URBANISATION_CODES)),
        },
        Codelist {
            id: "CL_ACTIVITY",
            names: names("Activité financée", "النشاط الممول", "Economic activity financed"),
            codes: with_total("activities", from_labels("ACTIVITY", ACTIVITY_CODES)),
        },
        Codelist {
            id: "CL_UNIT",
            names: names("Unité", "الوحدة", "Unit"),
            codes: vec![
                ("NUMBER".into(), names("Nombre", "عدد", "Number")),
                ("MAD".into(), names("Dirhams", "درهم", "Moroccan dirhams")),
                ("PC".into(), names("Pourcentage", "نسبة مئوية", "Percent")),
                (
                    "MAD_PER_LOAN".into(),
                    names("Dirhams par prêt", "درهم لكل قرض", "Dirhams per loan"),
                ),
                (
                    "MAD_PER_CLIENT".into(),
                    names("Dirhams par client", "درهم لكل زبون", "Dirhams per borrower"),
                ),
                (
                    "CLIENTS_PER_STAFF".into(),
                    names("Clients par employé", "زبناء لكل مستخدم", "Clients per staff member"),
                ),
                (
                    "RATIO".into(),
                    names("Nombre de fois", "عدد المرات", "Times (a plain ratio)"),
                ),
                (
                    "CLIENTS_PER_LOAN_OFFICER".into(),
                    names(
                        "Clients par agent de crédit",
                        "زبناء لكل مكلف بالقروض",
                        "Clients per loan officer",
                    ),
                ),
            ],
        },
        Codelist {
            id: "CL_PEER_GROUP",
            names: names("Groupe de pairs", "مجموعة الأقران", "Peer group"),
            codes: with_total("all associations", peer_groups.to_vec()),
        },
        Codelist {
            id: "CL_STATISTIC",
            names: names("Statistique", "الإحصائية", "Statistic"),
            codes: STATISTICS
                .iter()
                .map(|(code, fr, ar, en)| (code.to_string(), names(fr, ar, en)))
                .collect(),
        },
        Codelist {
            id: "CL_SURVEY",
            names: names("Enquête", "الاستطلاع", "Survey"),
            codes: surveys.surveys.clone(),
        },
        Codelist {
            id: "CL_SURVEY_QUESTION",
            names: names("Question", "السؤال", "Question"),
            codes: surveys.questions.clone(),
        },
        Codelist {
            id: "CL_RESPONSE",
            names: names("Réponse", "الجواب", "Response"),
            codes: surveys.responses.clone(),
        },
        Codelist {
            id: "CL_STAFF_LEVEL",
            names: names("Niveau du personnel", "مستوى المستخدمين", "Staff level"),
            codes: with_total(
                "staff levels",
                STAFF_LEVELS
                    .iter()
                    .map(|(code, fr, ar, en)| (code.to_string(), names(fr, ar, en)))
                    .collect(),
            ),
        },
        Codelist {
            id: "CL_SURVEY_STATISTIC",
            names: names("Statistique d'enquête", "إحصائية الاستطلاع", "Survey statistic"),
            codes: SURVEY_STATISTICS
                .iter()
                .map(|(code, fr, ar, en)| (code.to_string(), names(fr, ar, en)))
                .collect(),
        },
        Codelist {
            id: "CL_OBS_STATUS",
            names: names("Statut de l'observation", "وضعية الملاحظة", "Observation status"),
            codes: vec![
                ("A".into(), names("Normal", "عادي", "Normal value")),
                (
                    "U".into(),
                    names(
                        "Peu fiable (moins de 50 répondants)",
                        "ضعيف الموثوقية (أقل من 50 مجيبا)",
                        "Low reliability (fewer than 50 respondents)",
                    ),
                ),
                (
                    "C".into(),
                    names(
                        "Confidentiel (petit groupe)",
                        "سري (مجموعة صغيرة)",
                        "Confidential (small group)",
                    ),
                ),
            ],
        },
    ]
}

/// The concepts: every dimension, attribute and the measure.
pub const CONCEPT_NAMES: &[(&str, &str, &str, &str)] = &[
    ("FREQ", "Fréquence", "التردد", "Frequency"),
    ("REF_AREA", "Zone de référence", "المنطقة المرجعية", "Reference area"),
    ("INDICATOR", "Indicateur", "المؤشر", "Indicator"),
    ("SEGMENT", "Segment", "الشريحة", "Segment"),
    ("SEX", "Sexe", "الجنس", "Sex"),
    ("URBANISATION", "Milieu", "الوسط", "Degree of urbanisation"),
    (
        "ACTIVITY",
        "Activité financée",
        "النشاط الممول",
        "Economic activity financed",
    ),
    ("PEER_GROUP", "Groupe de pairs", "مجموعة الأقران", "Peer group"),
    ("SURVEY", "Enquête", "الاستطلاع", "Survey"),
    ("QUESTION", "Question", "السؤال", "Question"),
    ("RESPONSE", "Réponse", "الجواب", "Response"),
    ("STAFF_LEVEL", "Niveau du personnel", "مستوى المستخدمين", "Staff level"),
    ("STATISTIC", "Statistique", "الإحصائية", "Statistic"),
    ("TIME_PERIOD", "Période", "الفترة", "Time period"),
    ("OBS_VALUE", "Valeur", "القيمة", "Observation value"),
    ("UNIT_MEASURE", "Unité", "الوحدة", "Unit of measure"),
    ("UNIT_MULT", "Multiplicateur d'unité", "مضاعف الوحدة", "Unit multiplier"),
    (
        "OBS_STATUS",
        "Statut de l'observation",
        "وضعية الملاحظة",
        "Observation status",
    ),
];

/// The message header of every SDMX-ML message: its identifier, made from the instant it was prepared, and the sender.
pub fn header(xml: &mut Xml, prefix: &str, prepared: &str) {
    let id: String = prepared.chars().filter(char::is_ascii_digit).collect();
    let tag = |name: &str| format!("{prefix}:{name}");
    xml.open(&tag("Header"), &[])
        .text(&tag("ID"), &[], &format!("IREF{id}"))
        .text(&tag("Test"), &[], "false")
        .text(&tag("Prepared"), &[], prepared)
        .empty(&tag("Sender"), &[("id", AGENCY)]);
}

/// The names of an item in French, Arabic and English.
fn write_names(xml: &mut Xml, names: &Names) {
    for (lang, name) in ["fr", "ar", "en"].iter().zip(names) {
        xml.text("com:Name", &[("xml:lang", lang)], name);
    }
}

/// The concept a component stands for.
fn concept_ref(xml: &mut Xml, id: &str) {
    xml.open("str:ConceptIdentity", &[])
        .empty(
            "Ref",
            &[
                ("id", id),
                ("maintainableParentID", CONCEPTS),
                ("maintainableParentVersion", VERSION),
                ("agencyID", AGENCY),
                ("package", "conceptscheme"),
                ("class", "Concept"),
            ],
        )
        .close("str:ConceptIdentity");
}

/// A component's values: a code list.
fn enumeration(xml: &mut Xml, codelist: &str) {
    xml.open("str:LocalRepresentation", &[])
        .open("str:Enumeration", &[])
        .empty(
            "Ref",
            &[
                ("id", codelist),
                ("version", VERSION),
                ("agencyID", AGENCY),
                ("package", "codelist"),
                ("class", "Codelist"),
            ],
        )
        .close("str:Enumeration")
        .close("str:LocalRepresentation");
}

/// A component's values: text of a type.
fn text_format(xml: &mut Xml, text_type: &str) {
    xml.open("str:LocalRepresentation", &[])
        .empty("str:TextFormat", &[("textType", text_type)])
        .close("str:LocalRepresentation");
}

/// A maintainable artefact of the agency, opened, with its names.
fn maintainable(xml: &mut Xml, element: &str, id: &str, names: &Names) {
    xml.open(element, &[("id", id), ("agencyID", AGENCY), ("version", VERSION)]);
    write_names(xml, names);
}

/// The whole structure message: the dataflow, the data structure, the concepts and every code list.
pub fn message(codelists: &[Codelist], prepared: &str) -> String {
    const ROOT: &str = "mes:Structure";
    let mut xml = Xml::message(
        ROOT,
        &[
            ("xmlns:mes", "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message"),
            (
                "xmlns:str",
                "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure",
            ),
            ("xmlns:com", "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common"),
            ("xmlns:xml", "http://www.w3.org/XML/1998/namespace"),
        ],
    );
    header(&mut xml, "mes", prepared);
    xml.close("mes:Header").open("mes:Structures", &[]);
    // Dataflows.
    xml.open("str:Dataflows", &[]);
    for flow in FLOWS {
        let [fr, ar, en] = flow.names;
        maintainable(&mut xml, "str:Dataflow", flow.id, &names(fr, ar, en));
        xml.open("str:Structure", &[])
            .empty(
                "Ref",
                &[
                    ("id", flow.dsd),
                    ("version", VERSION),
                    ("agencyID", AGENCY),
                    ("package", "datastructure"),
                    ("class", "DataStructure"),
                ],
            )
            .close("str:Structure")
            .close("str:Dataflow");
    }
    xml.close("str:Dataflows");
    // Code lists.
    xml.open("str:Codelists", &[]);
    for list in codelists {
        maintainable(&mut xml, "str:Codelist", list.id, &list.names);
        for (code, names) in &list.codes {
            xml.open("str:Code", &[("id", code)]);
            write_names(&mut xml, names);
            xml.close("str:Code");
        }
        xml.close("str:Codelist");
    }
    xml.close("str:Codelists");
    // Concepts.
    xml.open("str:Concepts", &[]);
    let scheme_names = names(
        "Concepts de la microfinance",
        "مفاهيم التمويل الأصغر",
        "Microfinance concepts",
    );
    maintainable(&mut xml, "str:ConceptScheme", CONCEPTS, &scheme_names);
    for (id, fr, ar, en) in CONCEPT_NAMES {
        xml.open("str:Concept", &[("id", id)]);
        write_names(&mut xml, &names(fr, ar, en));
        xml.close("str:Concept");
    }
    xml.close("str:ConceptScheme").close("str:Concepts");
    // The data structures.
    xml.open("str:DataStructures", &[]);
    for flow in FLOWS {
        data_structure(&mut xml, flow);
    }
    xml.close("str:DataStructures").close("mes:Structures");
    xml.finish(ROOT)
}

/// One data structure definition: its dimensions, time dimension, attributes and measure.
fn data_structure(xml: &mut Xml, flow: &Flow) {
    let [fr, ar, en] = flow.structure_names;
    maintainable(xml, "str:DataStructure", flow.dsd, &names(fr, ar, en));
    let dimensions = flow.dimensions();
    xml.open("str:DataStructureComponents", &[])
        .open("str:DimensionList", &[("id", "DimensionDescriptor")]);
    for (position, (id, codelist)) in dimensions.iter().enumerate() {
        xml.open(
            "str:Dimension",
            &[("id", id), ("position", &(position + 1).to_string())],
        );
        concept_ref(xml, id);
        enumeration(xml, codelist);
        xml.close("str:Dimension");
    }
    let time_position = (dimensions.len() + 1).to_string();
    xml.open(
        "str:TimeDimension",
        &[("id", "TIME_PERIOD"), ("position", &time_position)],
    );
    concept_ref(xml, "TIME_PERIOD");
    text_format(xml, "ObservationalTimePeriod");
    xml.close("str:TimeDimension").close("str:DimensionList");
    xml.open("str:AttributeList", &[("id", "AttributeDescriptor")]);
    for id in ["UNIT_MEASURE", "UNIT_MULT", "OBS_STATUS"] {
        xml.open("str:Attribute", &[("id", id), ("assignmentStatus", "Conditional")]);
        concept_ref(xml, id);
        match id {
            "UNIT_MEASURE" => enumeration(xml, "CL_UNIT"),
            "UNIT_MULT" => text_format(xml, "Integer"),
            _ => enumeration(xml, "CL_OBS_STATUS"),
        }
        xml.open("str:AttributeRelationship", &[])
            .open("str:PrimaryMeasure", &[])
            .empty("Ref", &[("id", "OBS_VALUE")])
            .close("str:PrimaryMeasure")
            .close("str:AttributeRelationship")
            .close("str:Attribute");
    }
    xml.close("str:AttributeList")
        .open("str:MeasureList", &[("id", "MeasureDescriptor")])
        .open("str:PrimaryMeasure", &[("id", "OBS_VALUE")]);
    concept_ref(xml, "OBS_VALUE");
    xml.close("str:PrimaryMeasure")
        .close("str:MeasureList")
        .close("str:DataStructureComponents")
        .close("str:DataStructure");
}
