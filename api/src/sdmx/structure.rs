//! The SDMX structures: one dataflow, its data structure definition, its concepts and code lists, with names in
//! French, Arabic and English, written as an SDMX-ML 2.1 structure message.

use super::xml::Xml;
use crate::indicator::catalog::{MEASURES, Unit};
use crate::labels::CODE_LISTS;

pub const AGENCY: &str = "OBSERVATORY";
pub const FLOW: &str = "MICROFINANCE";
pub const DSD: &str = "DSD_MICROFINANCE";
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

/// The dimensions of the data structure, in key order (the time dimension comes after them).
pub const DIMENSIONS: [(&str, &str); 6] = [
    ("FREQ", "CL_FREQ"),
    ("REF_AREA", "CL_REF_AREA"),
    ("INDICATOR", "CL_INDICATOR"),
    ("SEGMENT", "CL_SEGMENT"),
    ("SEX", "CL_SEX"),
    ("URBANISATION", "CL_URBANISATION"),
];

/// The unit code of a measure's unit.
pub fn unit_code(unit: Unit) -> &'static str {
    match unit {
        Unit::Count => "NUMBER",
        Unit::Mad => "MAD",
        Unit::Percent => "PC",
        Unit::MadPerLoan => "MAD_PER_LOAN",
        Unit::MadPerClient => "MAD_PER_CLIENT",
        Unit::ClientsPerStaff => "CLIENTS_PER_STAFF",
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

fn total(what: &str) -> (String, Names) {
    (
        "_T".to_owned(),
        names(&format!("Total ({what})"), "المجموع", &format!("Total ({what})")),
    )
}

/// Every code list, regions given as (code, fr, ar, en).
pub fn codelists(regions: &[(String, String, String, String)]) -> Vec<Codelist> {
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
            ],
        },
        Codelist {
            id: "CL_OBS_STATUS",
            names: names("Statut de l'observation", "وضعية الملاحظة", "Observation status"),
            codes: vec![
                ("A".into(), names("Normal", "عادي", "Normal value")),
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
    let flow_names = names(
        "Indicateurs de la microfinance au Maroc",
        "مؤشرات التمويل الأصغر بالمغرب",
        "Microfinance indicators, Morocco",
    );
    maintainable(&mut xml, "str:Dataflow", FLOW, &flow_names);
    xml.open("str:Structure", &[])
        .empty(
            "Ref",
            &[
                ("id", DSD),
                ("version", VERSION),
                ("agencyID", AGENCY),
                ("package", "datastructure"),
                ("class", "DataStructure"),
            ],
        )
        .close("str:Structure")
        .close("str:Dataflow")
        .close("str:Dataflows");
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
    // The data structure.
    xml.open("str:DataStructures", &[]);
    let structure_names = names(
        "Structure des indicateurs de la microfinance",
        "بنية مؤشرات التمويل الأصغر",
        "Microfinance indicators structure",
    );
    maintainable(&mut xml, "str:DataStructure", DSD, &structure_names);
    xml.open("str:DataStructureComponents", &[])
        .open("str:DimensionList", &[("id", "DimensionDescriptor")]);
    for (position, (id, codelist)) in DIMENSIONS.iter().enumerate() {
        xml.open(
            "str:Dimension",
            &[("id", id), ("position", &(position + 1).to_string())],
        );
        concept_ref(&mut xml, id);
        enumeration(&mut xml, codelist);
        xml.close("str:Dimension");
    }
    let time_position = (DIMENSIONS.len() + 1).to_string();
    xml.open(
        "str:TimeDimension",
        &[("id", "TIME_PERIOD"), ("position", &time_position)],
    );
    concept_ref(&mut xml, "TIME_PERIOD");
    text_format(&mut xml, "ObservationalTimePeriod");
    xml.close("str:TimeDimension").close("str:DimensionList");
    xml.open("str:AttributeList", &[("id", "AttributeDescriptor")]);
    for id in ["UNIT_MEASURE", "UNIT_MULT", "OBS_STATUS"] {
        xml.open("str:Attribute", &[("id", id), ("assignmentStatus", "Conditional")]);
        concept_ref(&mut xml, id);
        match id {
            "UNIT_MEASURE" => enumeration(&mut xml, "CL_UNIT"),
            "UNIT_MULT" => text_format(&mut xml, "Integer"),
            _ => enumeration(&mut xml, "CL_OBS_STATUS"),
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
    concept_ref(&mut xml, "OBS_VALUE");
    xml.close("str:PrimaryMeasure")
        .close("str:MeasureList")
        .close("str:DataStructureComponents")
        .close("str:DataStructure")
        .close("str:DataStructures")
        .close("mes:Structures");
    xml.finish(ROOT)
}
