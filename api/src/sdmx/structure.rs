//! The SDMX structures: one dataflow, its data structure definition, its concepts and code lists, with names in
//! French, Arabic and English, written as an SDMX-ML 2.1 structure message.

use crate::indicator::catalog::{MEASURES, Unit};
use crate::labels::CODE_LISTS;
use std::fmt::Write;

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

/// Text with XML's five special characters escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn write_names(out: &mut String, names: &Names) {
    for (lang, name) in ["fr", "ar", "en"].iter().zip(names) {
        let _ = write!(out, "<com:Name xml:lang=\"{lang}\">{}</com:Name>", escape(name));
    }
}

fn concept_ref(id: &str) -> String {
    format!(
        "<str:ConceptIdentity><Ref id=\"{id}\" maintainableParentID=\"{CONCEPTS}\" maintainableParentVersion=\"{VERSION}\" \
         agencyID=\"{AGENCY}\" package=\"conceptscheme\" class=\"Concept\"/></str:ConceptIdentity>"
    )
}

fn enumeration(codelist: &str) -> String {
    format!(
        "<str:LocalRepresentation><str:Enumeration><Ref id=\"{codelist}\" version=\"{VERSION}\" agencyID=\"{AGENCY}\" \
         package=\"codelist\" class=\"Codelist\"/></str:Enumeration></str:LocalRepresentation>"
    )
}

/// The message header.
pub fn header(out: &mut String, prefix: &str, prepared: &str) {
    let _ = write!(
        out,
        "<{prefix}:Header><{prefix}:ID>IREF{}</{prefix}:ID><{prefix}:Test>false</{prefix}:Test>\
         <{prefix}:Prepared>{prepared}</{prefix}:Prepared><{prefix}:Sender id=\"{AGENCY}\"/>",
        prepared.chars().filter(char::is_ascii_digit).collect::<String>()
    );
}

/// The whole structure message: the dataflow, the data structure, the concepts and every code list.
pub fn message(codelists: &[Codelist], prepared: &str) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<mes:Structure \
         xmlns:mes=\"http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message\" \
         xmlns:str=\"http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure\" \
         xmlns:com=\"http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common\" \
         xmlns:xml=\"http://www.w3.org/XML/1998/namespace\">",
    );
    header(&mut out, "mes", prepared);
    out.push_str("</mes:Header><mes:Structures>");
    // Dataflows.
    let _ = write!(
        out,
        "<str:Dataflows><str:Dataflow id=\"{FLOW}\" agencyID=\"{AGENCY}\" version=\"{VERSION}\">"
    );
    write_names(
        &mut out,
        &names(
            "Indicateurs de la microfinance au Maroc",
            "مؤشرات التمويل الأصغر بالمغرب",
            "Microfinance indicators, Morocco",
        ),
    );
    let _ = write!(
        out,
        "<str:Structure><Ref id=\"{DSD}\" version=\"{VERSION}\" agencyID=\"{AGENCY}\" package=\"datastructure\" \
         class=\"DataStructure\"/></str:Structure></str:Dataflow></str:Dataflows>"
    );
    // Code lists.
    out.push_str("<str:Codelists>");
    for list in codelists {
        let _ = write!(
            out,
            "<str:Codelist id=\"{}\" agencyID=\"{AGENCY}\" version=\"{VERSION}\">",
            list.id
        );
        write_names(&mut out, &list.names);
        for (code, names) in &list.codes {
            let _ = write!(out, "<str:Code id=\"{}\">", escape(code));
            write_names(&mut out, names);
            out.push_str("</str:Code>");
        }
        out.push_str("</str:Codelist>");
    }
    out.push_str("</str:Codelists>");
    // Concepts.
    let _ = write!(
        out,
        "<str:Concepts><str:ConceptScheme id=\"{CONCEPTS}\" agencyID=\"{AGENCY}\" version=\"{VERSION}\">"
    );
    write_names(
        &mut out,
        &names(
            "Concepts de la microfinance",
            "مفاهيم التمويل الأصغر",
            "Microfinance concepts",
        ),
    );
    for (id, fr, ar, en) in CONCEPT_NAMES {
        let _ = write!(out, "<str:Concept id=\"{id}\">");
        write_names(&mut out, &names(fr, ar, en));
        out.push_str("</str:Concept>");
    }
    out.push_str("</str:ConceptScheme></str:Concepts>");
    // The data structure.
    let _ = write!(
        out,
        "<str:DataStructures><str:DataStructure id=\"{DSD}\" agencyID=\"{AGENCY}\" version=\"{VERSION}\">"
    );
    write_names(
        &mut out,
        &names(
            "Structure des indicateurs de la microfinance",
            "بنية مؤشرات التمويل الأصغر",
            "Microfinance indicators structure",
        ),
    );
    out.push_str("<str:DataStructureComponents><str:DimensionList id=\"DimensionDescriptor\">");
    for (position, (id, codelist)) in DIMENSIONS.iter().enumerate() {
        let _ = write!(
            out,
            "<str:Dimension id=\"{id}\" position=\"{}\">{}{}</str:Dimension>",
            position + 1,
            concept_ref(id),
            enumeration(codelist)
        );
    }
    let _ = write!(
        out,
        "<str:TimeDimension id=\"TIME_PERIOD\" position=\"{}\">{}<str:LocalRepresentation><str:TextFormat \
         textType=\"ObservationalTimePeriod\"/></str:LocalRepresentation></str:TimeDimension></str:DimensionList>",
        DIMENSIONS.len() + 1,
        concept_ref("TIME_PERIOD")
    );
    out.push_str("<str:AttributeList id=\"AttributeDescriptor\">");
    for (id, representation) in [
        ("UNIT_MEASURE", enumeration("CL_UNIT")),
        (
            "UNIT_MULT",
            "<str:LocalRepresentation><str:TextFormat textType=\"Integer\"/></str:LocalRepresentation>".to_owned(),
        ),
        ("OBS_STATUS", enumeration("CL_OBS_STATUS")),
    ] {
        let _ = write!(
            out,
            "<str:Attribute id=\"{id}\" assignmentStatus=\"Conditional\">{}{representation}<str:AttributeRelationship>\
             <str:PrimaryMeasure><Ref id=\"OBS_VALUE\"/></str:PrimaryMeasure></str:AttributeRelationship></str:Attribute>",
            concept_ref(id)
        );
    }
    let _ = write!(
        out,
        "</str:AttributeList><str:MeasureList id=\"MeasureDescriptor\"><str:PrimaryMeasure id=\"OBS_VALUE\">{}\
         </str:PrimaryMeasure></str:MeasureList></str:DataStructureComponents></str:DataStructure></str:DataStructures>",
        concept_ref("OBS_VALUE")
    );
    out.push_str("</mes:Structures></mes:Structure>\n");
    out
}
