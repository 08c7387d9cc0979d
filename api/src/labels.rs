//! Labels in French, Arabic and English: the languages, the request's preferred one (`Accept-Language`, or a `lang`
//! argument), and the labels of every code list.

use async_graphql::{Context, Enum, Object, SimpleObject};

/// A language labels are given in.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
pub enum Language {
    /// French (the default).
    #[default]
    Fr,
    /// Arabic.
    Ar,
    /// English.
    En,
}

impl Language {
    pub fn code(self) -> &'static str {
        match self {
            Language::Fr => "fr",
            Language::Ar => "ar",
            Language::En => "en",
        }
    }

    /// The preferred language of an `Accept-Language` header: the supported language with the highest weight
    /// (`fr`, `ar`, `en`, with any region: `ar-MA`), French when none is supported.
    pub fn from_accept_language(header: Option<&str>) -> Language {
        let Some(header) = header else {
            return Language::default();
        };
        let mut best: Option<(f32, Language)> = None;
        for item in header.split(',') {
            let mut parts = item.trim().split(';');
            let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let weight = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let language = match tag.split('-').next().unwrap_or("") {
                "fr" => Language::Fr,
                "ar" => Language::Ar,
                "en" => Language::En,
                _ => continue,
            };
            if weight > 0.0 && best.is_none_or(|(w, _)| weight > w) {
                best = Some((weight, language));
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }

    /// The language of a field: its `lang` argument, else the request's `Accept-Language`.
    pub fn chosen(ctx: &Context<'_>, lang: Option<Language>) -> Language {
        lang.or_else(|| ctx.data_opt::<Preferred>().map(|p| p.0))
            .unwrap_or_default()
    }

    /// One of three labels.
    pub fn pick<'a>(self, fr: &'a str, ar: &'a str, en: &'a str) -> &'a str {
        match self {
            Language::Fr => fr,
            Language::Ar => ar,
            Language::En => en,
        }
    }
}

/// A name in French, Arabic and English: the `nameFr`, `nameAr`, `nameEn` and `name(lang)` fields that associations,
/// regions, programmes and code lists carry, written once and flattened into each.
pub struct Names<'a> {
    pub fr: &'a str,
    pub ar: &'a str,
    /// The English name (the French one where no English name is registered).
    pub en: &'a str,
}

/// A name in French, Arabic and English.
#[Object]
impl Names<'_> {
    /// Name in French.
    async fn name_fr(&self) -> &str {
        self.fr
    }

    /// Name in Arabic.
    async fn name_ar(&self) -> &str {
        self.ar
    }

    /// Name in English (the French name where no English one is registered).
    async fn name_en(&self) -> &str {
        self.en
    }

    /// Name in the language asked for, else the one the request's `Accept-Language` prefers (French by default).
    async fn name(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Language of the name; default: from `Accept-Language`.")] lang: Option<Language>,
    ) -> &str {
        Language::chosen(ctx, lang).pick(self.fr, self.ar, self.en)
    }
}

/// The language a request prefers (from `Accept-Language`), put in the request's data by the HTTP layer.
#[derive(Debug, Clone, Copy)]
pub struct Preferred(pub Language);

/// A code with its labels.
#[derive(Debug, Clone, Copy)]
pub struct Code {
    pub code: &'static str,
    /// The code this one falls under, in a hierarchical list.
    pub parent: Option<&'static str>,
    pub fr: &'static str,
    pub ar: &'static str,
    pub en: &'static str,
}

const fn code(code: &'static str, fr: &'static str, ar: &'static str, en: &'static str) -> Code {
    Code {
        code,
        parent: None,
        fr,
        ar,
        en,
    }
}

/// A code under `parent`.
const fn under(parent: &'static str, code: &'static str, fr: &'static str, ar: &'static str, en: &'static str) -> Code {
    Code {
        code,
        parent: Some(parent),
        fr,
        ar,
        en,
    }
}

/// One code of a list, by the list's and the code's identifiers.
pub fn code_of(list: &str, code: &str) -> Option<Code> {
    CODE_LISTS
        .iter()
        .find(|(id, ..)| *id == list)
        .and_then(|(.., codes)| codes.iter().find(|c| c.code == code).copied())
}

/// Every code list of the schema (regions, read from the database, aside), with its labels.
pub const CODE_LISTS: &[(&str, &str, &str, &str, &[Code])] = &[
    (
        "SEGMENT",
        "Segment",
        "الشريحة",
        "Segment",
        &[
            code("INDIVIDUAL", "Prêt individuel", "القرض الفردي", "Individual loan"),
            code(
                "SOLIDARITY_GROUP",
                "Groupe solidaire",
                "المجموعة التضامنية",
                "Solidarity group",
            ),
            code(
                "VERY_SMALL_ENTERPRISE",
                "Très petite entreprise (TPE)",
                "المقاولة الصغيرة جدا",
                "Very small enterprise",
            ),
        ],
    ),
    (
        "GENDER",
        "Sexe",
        "الجنس",
        "Sex",
        &[
            code("FEMALE", "Femmes", "النساء", "Women"),
            code("MALE", "Hommes", "الرجال", "Men"),
        ],
    ),
    (
        "AREA",
        "Milieu",
        "الوسط",
        "Area",
        &[
            code("URBAN", "Urbain", "حضري", "Urban"),
            code("RURAL", "Rural", "قروي", "Rural"),
        ],
    ),
    (
        "BRANCH_KIND",
        "Type de point de vente",
        "نوع نقطة البيع",
        "Branch kind",
        &[
            code("AGENCY", "Agence fixe", "وكالة ثابتة", "Fixed agency"),
            code("MOBILE", "Agence mobile", "وكالة متنقلة", "Mobile branch"),
        ],
    ),
    (
        "STAFF_CATEGORY",
        "Catégorie de personnel",
        "فئة المستخدمين",
        "Staff category",
        &[
            code("NETWORK", "Réseau", "الشبكة", "Network"),
            code("HEAD_OFFICE", "Siège", "المقر الرئيسي", "Head office"),
            code("UNSPECIFIED", "Non précisé", "غير محدد", "Unspecified"),
        ],
    ),
    (
        "ASSOCIATION_STATUS",
        "Statut de l'association",
        "وضعية الجمعية",
        "Association status",
        &[
            code("ACTIVE", "Active", "نشيطة", "Active"),
            code("MERGED", "Fusionnée", "مدمجة", "Merged"),
            code("CLOSED", "Fermée", "مغلقة", "Closed"),
        ],
    ),
    (
        "ACTIVITY",
        "Activité économique",
        "النشاط الاقتصادي",
        "Economic activity",
        &[
            code(
                "INCOME_GENERATING",
                "Activités génératrices de revenus",
                "الأنشطة المدرة للدخل",
                "Income-generating activities",
            ),
            under(
                "INCOME_GENERATING",
                "AGRICULTURE_LIVESTOCK",
                "Agriculture et élevage",
                "الفلاحة وتربية الماشية",
                "Agriculture and livestock",
            ),
            under(
                "AGRICULTURE_LIVESTOCK",
                "AGRICULTURE",
                "Agriculture",
                "الفلاحة",
                "Agriculture",
            ),
            under(
                "AGRICULTURE_LIVESTOCK",
                "LIVESTOCK",
                "Élevage",
                "تربية الماشية",
                "Livestock",
            ),
            under("INCOME_GENERATING", "COMMERCE", "Commerce", "التجارة", "Commerce"),
            under(
                "INCOME_GENERATING",
                "CRAFTS",
                "Artisanat",
                "الصناعة التقليدية",
                "Crafts",
            ),
            under("INCOME_GENERATING", "PRODUCTION", "Production", "الإنتاج", "Production"),
            under("INCOME_GENERATING", "SERVICES", "Services", "الخدمات", "Services"),
            under(
                "INCOME_GENERATING",
                "OTHER_IGA",
                "Autres activités génératrices de revenus",
                "أنشطة أخرى مدرة للدخل",
                "Other income-generating activities",
            ),
            code("HOUSEHOLD", "Besoins du ménage", "حاجيات الأسرة", "Household needs"),
            under("HOUSEHOLD", "HOUSING", "Logement", "السكن", "Housing"),
            under(
                "HOUSEHOLD",
                "UTILITIES_CONNECTION",
                "Raccordement à l'eau et à l'électricité",
                "الربط بشبكتي الماء والكهرباء",
                "Water and electricity connection",
            ),
            code("UNSPECIFIED", "Non précisé", "غير محدد", "Unspecified"),
        ],
    ),
];

/// One code of a code list with its labels.
pub struct CodeLabel(pub Code);

/// One code of a code list with its labels.
#[Object]
impl CodeLabel {
    /// The code, as the schema's enums and filters write it.
    async fn code(&self) -> &str {
        self.0.code
    }
    /// The code this one falls under in a hierarchical list (`ACTIVITY`: `COMMERCE` falls under
    /// `INCOME_GENERATING`); null for a top-level code and in flat lists.
    async fn parent(&self) -> Option<&str> {
        self.0.parent
    }
    /// Label in French.
    async fn label_fr(&self) -> &str {
        self.0.fr
    }
    /// Label in Arabic.
    async fn label_ar(&self) -> &str {
        self.0.ar
    }
    /// Label in English.
    async fn label_en(&self) -> &str {
        self.0.en
    }
    /// Label in the language asked for, else the one the request's `Accept-Language` prefers (French by default).
    async fn label(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Language of the label; default: from `Accept-Language`.")] lang: Option<Language>,
    ) -> &str {
        Language::chosen(ctx, lang).pick(self.0.fr, self.0.ar, self.0.en)
    }
}

/// A code list: its name, labels and codes.
#[derive(SimpleObject)]
pub struct CodeList {
    /// Identifier of the list, for example `SEGMENT`.
    pub id: &'static str,
    /// `nameFr`, `nameAr`, `nameEn`, `name(lang)`.
    #[graphql(flatten)]
    pub names: Names<'static>,
    /// The codes, with their labels.
    pub codes: Vec<CodeLabel>,
}

/// Queries on the code lists.
#[derive(Default)]
pub struct LabelQuery;

#[Object]
impl LabelQuery {
    /// Every code list of the schema (segments, genders, areas, branch kinds, staff categories, association
    /// statuses, economic activities) with French, Arabic and English labels. Regions have their names on `Region`.
    async fn code_lists(&self) -> Vec<CodeList> {
        CODE_LISTS
            .iter()
            .map(|(id, fr, ar, en, codes)| CodeList {
                id,
                names: Names { fr, ar, en },
                codes: codes.iter().map(|c| CodeLabel(*c)).collect(),
            })
            .collect()
    }
}
