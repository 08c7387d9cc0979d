//! The price of a document, known before any work that grows with it.
//!
//! The price is the work a document is predicted to cost, in work units: one
//! unit is one row an SQL statement reads and sums, or one value written in
//! the answer, and every statement costs `STATEMENT_COST` units more (its
//! round trip and planning). An `indicators` field reads, per source table
//! its measures need, the rows of every month its periods (and comparisons)
//! span, for every association in its filter, at the detail of the table it is
//! read from (a rollup when the grouping and filters allow it, the fact table
//! otherwise); for callers whose small groups are hidden, the fact table, and
//! each grouping by a subset of the document's dimensions summed again from
//! the finest groups. `observatory bench --part pricing` measures how well the
//! units predict time.
//!
//! A document is priced on its syntax tree, in one pass that visits each
//! fragment once (its price is remembered and multiplied by every spread), so
//! a document that would expand exponentially is priced in linear time and
//! refused in milliseconds. Every field counts with its aliases and spreads,
//! and what a list returns is multiplied by its page size (`first`, 50 by
//! default) or by what it can hold. The same pass measures the selection
//! depth and refuses argument and variable lists longer than `MAX_LIST_ITEMS`.

use super::types::{TypeIndex, is_list, named};
use crate::indicator::catalog::{self, Agg, Dim, Source};
use async_graphql::parser::types::{ExecutableDocument, Field, OperationDefinition, Selection, SelectionSet};
use async_graphql::{Name, Value, Variables};
use async_graphql_value::Value as DocumentValue;
use std::collections::{BTreeSet, HashMap};

/// Deepest selection nesting accepted (deep enough for the standard introspection query).
pub const MAX_DEPTH: usize = 16;
/// Highest price of one anonymous request, in work units (see the module's documentation).
pub const PUBLIC_BUDGET: u64 = 7_500_000;
/// Highest price of one request made with a key.
pub const KEYED_BUDGET: u64 = 9_000_000;
/// Highest price of the schema introspection in one request, whoever asks. It is answered from memory, with no
/// SQL, so it has an allowance of its own, kept apart from the budgets above: about three times what GraphiQL's own
/// introspection query costs (about 85,000 with this schema), so that a document repeating it is refused.
pub const INTROSPECTION_BUDGET: u64 = 250_000;
/// Work units of one SQL statement beyond the rows it reads: its round trip, planning, and the field that runs it.
pub const STATEMENT_COST: u64 = 10_000;
/// Work units of one value written in the answer (resolved, checked and serialised).
pub const VALUE_COST: u64 = 20;
/// Most `indicators` fields in one document: an SDMX query for every frequency and breakdown runs 48.
pub const MAX_INDICATORS_FIELDS: u64 = 64;
/// Longest list accepted in an argument or a variable (for example codes in a filter).
pub const MAX_LIST_ITEMS: usize = 1_000;
/// Items priced for a list that has no page size (`first`).
const UNPAGED_LIST: u64 = 100;
/// Statements of a `quarterlyNote`: an aggregate read per source for each of its six groupings, the statements, the
/// reference series and the peer groups (45 measured on the demo for the public, 32 for a partner:
/// `tests/suite/statements.rs`).
pub const NOTE_STATEMENTS: u64 = 60;
/// Statements of a `peers` field: the scheme's rules, the memberships, the releases, the statements and the monthly
/// figures (12 measured for the public, which reads them as released).
pub const PEER_STATEMENTS: u64 = 16;
/// Rows priced for a `surveyResults` field: questions × groups of a survey.
const SURVEY_RESULT_ROWS: u64 = 40;
/// Page size priced when `first` is not given.
const DEFAULT_PAGE: u64 = crate::pagination::DEFAULT_PAGE_SIZE;

/// Regions of the kingdom.
const REGIONS: u64 = 12;
/// Segments, genders and areas of a monthly cell.
const SEGMENTS: u64 = 3;
const GENDERS: u64 = 2;
const AREAS: u64 = 2;
/// Economic activities a loan can finance (the leaf codes of `ACTIVITY`).
const ACTIVITIES: u64 = 10;
/// Staff rows of one association-month (categories × genders).
const STAFF_CELLS: u64 = 6;
/// Branches priced per association.
const BRANCHES_PER_ASSOCIATION: u64 = 200;

/// One finest read of an `indicators` field: its months, associations, the sizes of region, segment, gender and area
/// after its filter, the rows it reads, and the dimensions its measures add to the document's.
type Finest = (u64, u64, [u64; 5], u64, Vec<Dim>);

/// The dimensions of a finest grouping, in the order of a `Finest`'s sizes.
const FINEST_DIMS: [Dim; 5] = [Dim::Region, Dim::Segment, Dim::Gender, Dim::Area, Dim::Activity];

/// What one `indicators` field costs before its selection is written.
struct IndicatorWork {
    /// Rows it can return: periods × groups.
    rows: u64,
    /// SQL statements it runs.
    statements: u64,
    /// Rows its statements read and sum.
    read: u64,
}

/// The price of an accepted document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Priced {
    pub cost: u64,
    /// Aggregate statements it may run (`indicators` sources, training and programme summaries).
    pub statements: u64,
    /// Statements of reads (root fields, pages, relation hops).
    pub reads: u64,
    /// Rows its aggregate statements read and sum (and hiding sums again).
    pub rows_read: u64,
    /// Values it may write.
    pub values: u64,
    /// The dimensions any `indicators` field groups by.
    pub groupings: BTreeSet<Dim>,
}

/// Why a document is refused before it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Its price is over the caller's budget.
    TooCostly { cost: u64, budget: u64, hint: String },
    /// Its selections nest deeper than `MAX_DEPTH`.
    TooDeep { depth: usize },
    /// A list argument or variable is longer than `MAX_LIST_ITEMS`.
    ListTooLong { what: String, items: usize },
    /// A fragment spreads itself, directly or not.
    FragmentCycle { name: String },
    /// More `indicators` fields than `MAX_INDICATORS_FIELDS`.
    TooManyIndicators { fields: u64 },
}

impl Refusal {
    /// The message a client sees.
    pub fn message(&self) -> String {
        match self {
            Refusal::TooCostly { cost, budget, hint } => format!(
                "the query is too costly: it could cost {cost} work units (rows read and summed, values written, \
                 statements run) and one request may cost at most {budget}. {hint}"
            ),
            Refusal::TooDeep { depth } => {
                format!("the query is nested too deep: {depth} levels, at most {MAX_DEPTH}")
            }
            Refusal::ListTooLong { what, items } => format!(
                "{what} holds {items} items; at most {MAX_LIST_ITEMS} are accepted: split the request or filter \
                 less precisely"
            ),
            Refusal::FragmentCycle { name } => format!("fragment `{name}` spreads itself"),
            Refusal::TooManyIndicators { fields } => format!(
                "the document asks for {fields} `indicators` fields (counting aliases and fragment spreads); one \
                 request may hold at most {MAX_INDICATORS_FIELDS}: split it into several requests, or group one \
                 field by more dimensions"
            ),
        }
    }

    /// True when the refusal is about the values sent (a client input error), not about the query's shape.
    pub fn is_input(&self) -> bool {
        matches!(self, Refusal::ListTooLong { .. })
    }
}

/// The price and depth of a selection.
#[derive(Debug, Clone, Copy, Default)]
struct Price {
    cost: u64,
    depth: usize,
    statements: u64,
    /// Statements of reads: one per root field and one per relation hop (the loader batches a hop's parents).
    reads: u64,
    /// Rows the aggregate statements read and sum.
    rows_read: u64,
    /// `indicators` fields.
    indicators: u64,
    /// The price of schema introspection (`__schema`, `__type`), answered from memory with no SQL: counted against
    /// its own allowance, [`INTROSPECTION_BUDGET`].
    introspection: u64,
}

impl Price {
    fn add(&mut self, other: Price) {
        self.cost = self.cost.saturating_add(other.cost);
        self.introspection = self.introspection.saturating_add(other.introspection);
        self.depth = self.depth.max(other.depth);
        self.statements = self.statements.saturating_add(other.statements);
        self.reads = self.reads.saturating_add(other.reads);
        self.rows_read = self.rows_read.saturating_add(other.rows_read);
        self.indicators = self.indicators.saturating_add(other.indicators);
    }

    /// The whole price: values written, statements run and rows read.
    fn total(&self) -> u64 {
        self.cost
            .saturating_mul(VALUE_COST)
            .saturating_add(self.reads.saturating_mul(STATEMENT_COST))
            .saturating_add(self.statements.saturating_mul(STATEMENT_COST))
            .saturating_add(self.rows_read)
    }
}

struct Pricer<'a> {
    document: &'a ExecutableDocument,
    types: &'a TypeIndex,
    variables: &'a Variables,
    defaults: HashMap<Name, Value>,
    /// Associations in the registry: a grouping by association is priced for all of them unless filtered.
    associations: u64,
    fragments: HashMap<Name, Price>,
    visiting: Vec<Name>,
    /// The dimensions any `indicators` field groups by.
    groupings: BTreeSet<Dim>,
    /// The most costly `indicators` field seen, for the refusal's hint.
    largest_indicators: Option<(u64, u64)>,
    /// Whether small groups are hidden from the caller.
    small_groups: bool,
    /// For every finest read of an `indicators` field (callers whose small groups are hidden): its months,
    /// associations, the sizes of region, segment, gender, area and activity after its filter, and the rows it reads. Hiding
    /// sums its groups at the document's finest grouping into every coarser one, priced once the document's
    /// dimensions are all known.
    finest: Vec<Finest>,
    /// The finest reads of callers whose small groups are hidden, by source, months, granularity and filter: fields
    /// that read the same run one statement, and derive and hide its groupings once (`store::Reads`).
    shared: BTreeSet<String>,
}

/// Who a document is priced for.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    /// Associations in the registry: a grouping by association is priced for all of them unless filtered.
    pub associations: u64,
    /// The caller must not see small groups: its `indicators` statements also decide what to hide on every grouping
    /// by a subset of the document's dimensions, which costs more the more dimensions there are.
    pub small_groups: bool,
    /// Highest price accepted.
    pub budget: u64,
}

/// Prices the operation that will run and refuses it when it is over the caller's budget, too deep, or carries a
/// list too long.
pub fn check(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
    types: &TypeIndex,
    caller: Caller,
) -> Result<Priced, Refusal> {
    let Caller {
        associations,
        small_groups,
        budget,
    } = caller;
    for (name, value) in variables.iter() {
        longest_list(value, &format!("variable `${name}`"))?;
    }
    let mut pricer = Pricer {
        document,
        types,
        variables,
        defaults: HashMap::new(),
        associations,
        fragments: HashMap::new(),
        visiting: Vec::new(),
        groupings: BTreeSet::new(),
        largest_indicators: None,
        small_groups,
        finest: Vec::new(),
        shared: BTreeSet::new(),
    };
    // Every fragment is priced once, used or not: validation reads them all.
    let mut total = Price::default();
    for name in document.fragments.keys() {
        let price = pricer.fragment(name)?;
        total.depth = total.depth.max(price.depth);
    }
    let mut operations: Vec<(Option<&str>, &OperationDefinition)> = document
        .operations
        .iter()
        .map(|(name, op)| (name.map(|n| n.as_str()), &op.node))
        .collect();
    if operations.len() > 1
        && let Some(wanted) = operation_name
    {
        operations.retain(|(name, _)| *name == Some(wanted));
    }
    for (_, operation) in operations {
        pricer.defaults = operation
            .variable_definitions
            .iter()
            .filter_map(|d| {
                let default = d.node.default_value.as_ref()?;
                Some((d.node.name.node.clone(), default.node.clone()))
            })
            .collect();
        let root = match operation.ty {
            async_graphql::parser::types::OperationType::Mutation => "Mutation",
            async_graphql::parser::types::OperationType::Subscription => "Subscription",
            _ => "Query",
        };
        total.add(pricer.selection_set(&operation.selection_set.node, Some(root))?);
    }
    if total.depth > MAX_DEPTH {
        return Err(Refusal::TooDeep { depth: total.depth });
    }
    if total.indicators > MAX_INDICATORS_FIELDS {
        return Err(Refusal::TooManyIndicators {
            fields: total.indicators,
        });
    }
    if small_groups {
        // Every grouping by a subset of the document's dimensions is summed from the finest groups.
        let dims: Vec<Dim> = pricer
            .groupings
            .iter()
            .filter(|d| **d != Dim::Association)
            .copied()
            .collect();
        for (months, associations, sizes, read, extra) in &pricer.finest {
            let mut dims = dims.clone();
            dims.extend(
                extra
                    .iter()
                    .filter(|dim| !dims.contains(dim))
                    .copied()
                    .collect::<Vec<_>>(),
            );
            let groups = FINEST_DIMS
                .iter()
                .zip(sizes)
                .filter(|(dim, _)| dims.contains(dim))
                .fold(1u64, |n, (_, size)| n.saturating_mul(*size));
            let finest = months.saturating_mul(*associations).saturating_mul(groups).min(*read);
            total.rows_read = total
                .rows_read
                .saturating_add(finest.saturating_mul(1 << dims.len().min(8)));
        }
    }
    if total.introspection > INTROSPECTION_BUDGET {
        return Err(Refusal::TooCostly {
            cost: total.introspection,
            budget: INTROSPECTION_BUDGET,
            hint: "Ask for the schema once per request (introspection), not several times.".to_owned(),
        });
    }
    let cost = total.total();
    if cost > budget {
        let hint = match pricer.largest_indicators {
            Some((rows, statements)) if rows > crate::indicator::MAX_ROWS as u64 || rows * 20 > budget => format!(
                "`indicators` could return up to {rows} rows ({statements} statements): group by fewer dimensions, \
                 choose a coarser granularity, a shorter range or filters, and select fewer measures."
            ),
            Some(_) => "Ask for fewer `indicators` fields per request (each runs SQL statements), or fewer measures \
                        and dimensions."
                .to_owned(),
            None => "Ask for smaller pages (`first`), fewer fields or fewer aliases per request.".to_owned(),
        };
        return Err(Refusal::TooCostly { cost, budget, hint });
    }
    Ok(Priced {
        cost: cost.saturating_add(total.introspection),
        statements: total.statements,
        reads: total.reads,
        rows_read: total.rows_read,
        values: total.cost,
        groupings: pricer.groupings,
    })
}

/// Refuses a list longer than `MAX_LIST_ITEMS` anywhere in a value.
fn longest_list(value: &Value, what: &str) -> Result<(), Refusal> {
    match value {
        Value::List(items) => {
            if items.len() > MAX_LIST_ITEMS {
                return Err(Refusal::ListTooLong {
                    what: what.to_owned(),
                    items: items.len(),
                });
            }
            items.iter().try_for_each(|item| longest_list(item, what))
        }
        Value::Object(fields) => fields.values().try_for_each(|field| longest_list(field, what)),
        _ => Ok(()),
    }
}

impl Pricer<'_> {
    fn fragment(&mut self, name: &Name) -> Result<Price, Refusal> {
        if let Some(price) = self.fragments.get(name) {
            return Ok(*price);
        }
        let Some(fragment) = self.document.fragments.get(name) else {
            // An unknown fragment: validation refuses it.
            return Ok(Price::default());
        };
        if self.visiting.contains(name) {
            return Err(Refusal::FragmentCycle { name: name.to_string() });
        }
        self.visiting.push(name.clone());
        let on = fragment.node.type_condition.node.on.node.to_string();
        let price = self.selection_set(&fragment.node.selection_set.node, Some(&on));
        self.visiting.pop();
        let price = price?;
        self.fragments.insert(name.clone(), price);
        Ok(price)
    }

    fn selection_set(&mut self, set: &SelectionSet, parent: Option<&str>) -> Result<Price, Refusal> {
        let mut total = Price::default();
        for selection in &set.items {
            for directive in selection.node.directives() {
                for (name, value) in &directive.node.arguments {
                    let value = self.resolve(&value.node);
                    longest_list(
                        &value,
                        &format!("argument `{}` of @{}", name.node, directive.node.name.node),
                    )?;
                }
            }
            let price = match &selection.node {
                Selection::Field(field) => self.field(&field.node, parent)?,
                Selection::FragmentSpread(spread) => self.fragment(&spread.node.fragment_name.node)?,
                Selection::InlineFragment(inline) => {
                    let on = inline.node.type_condition.as_ref().map(|c| c.node.on.node.to_string());
                    self.selection_set(&inline.node.selection_set.node, on.as_deref().or(parent))?
                }
            };
            total.add(price);
        }
        Ok(total)
    }

    /// An argument's value, with variables replaced.
    fn argument(&self, field: &Field, name: &str) -> Option<Value> {
        Some(self.resolve(&field.get_argument(name)?.node))
    }

    /// A value of the document with its variables replaced by what the request sent (or their defaults).
    fn resolve(&self, value: &DocumentValue) -> Value {
        value
            .clone()
            .into_const_with(|name| {
                Ok::<_, std::convert::Infallible>(
                    self.variables
                        .get(&name)
                        .or_else(|| self.defaults.get(&name))
                        .cloned()
                        .unwrap_or(Value::Null),
                )
            })
            .unwrap_or(Value::Null)
    }

    fn field(&mut self, field: &Field, parent: Option<&str>) -> Result<Price, Refusal> {
        for (name, value) in &field.arguments {
            let resolved = self.resolve(&value.node);
            longest_list(&resolved, &format!("argument `{}` of `{}`", name.node, field.name.node))?;
        }
        let name = field.name.node.as_str();
        let ty = parent.and_then(|p| self.types.field(p, name)).cloned();
        let child_type = ty
            .as_ref()
            .map(named)
            .filter(|t| self.types.is_object(t))
            .map(str::to_owned);
        let children = if field.selection_set.node.items.is_empty() {
            Price::default()
        } else if let Some(introspection) = self.introspection_list(name, parent, ty.is_none()) {
            let inner = self.selection_set(&field.selection_set.node, None)?;
            Price {
                cost: inner.cost.saturating_mul(introspection),
                depth: inner.depth,
                statements: inner.statements.saturating_mul(introspection),
                reads: inner.reads,
                rows_read: inner.rows_read,
                indicators: inner.indicators,
                introspection: inner.introspection.saturating_mul(introspection),
            }
        } else {
            self.selection_set(&field.selection_set.node, child_type.as_deref())?
        };
        let mut price = Price {
            cost: 1,
            depth: children.depth + usize::from(!field.selection_set.node.items.is_empty()),
            statements: children.statements,
            reads: children.reads,
            rows_read: children.rows_read,
            indicators: children.indicators,
            introspection: 0,
        };
        let (multiplier, statements) = match (parent, name) {
            (Some("Query"), "indicators") => {
                let work = self.indicators(field);
                let largest = self.largest_indicators.get_or_insert((0, 0));
                if work.rows > largest.0 {
                    *largest = (work.rows, work.statements);
                }
                price.rows_read = price.rows_read.saturating_add(work.read);
                price.indicators = price.indicators.saturating_add(1);
                (work.rows, work.statements)
            }
            (Some("Query"), "trainingIndicators" | "programmeIndicators") => (UNPAGED_LIST, 1),
            // The note reads each of its groupings (six) and, for each financial ratio, the peers' statistics.
            (Some("Query"), "quarterlyNote") => (1, NOTE_STATEMENTS),
            (Some("Query"), "peers") => (1, PEER_STATEMENTS),
            (Some("Query"), "peerBenchmarks") => (UNPAGED_LIST, PEER_STATEMENTS * 8),
            // The survey, its questions, options, nets and codes, then one microdata read per question (a few
            // statements and a few dozen rows: a survey has a handful of questions and its groups are few).
            (Some("Query"), "surveyResults") => (SURVEY_RESULT_ROWS, 8),
            // Surveys are few and small (the bounds of `survey::MAX_*`).
            (Some("Query"), "surveys") => (crate::survey::MAX_SURVEYS, 1),
            (Some("Survey"), "questions") => (crate::survey::MAX_QUESTIONS, 1),
            (Some("SurveyQuestion"), "options") => (crate::survey::MAX_OPTIONS, 0),
            (Some("SurveyQuestion"), "nets") => (crate::survey::MAX_NETS, 0),
            (Some("SurveyResult"), "options") => (crate::survey::MAX_OPTIONS, 0),
            (Some("SurveyResult"), "nets") => (crate::survey::MAX_NETS, 0),
            _ if field.get_argument("first").is_some()
                || child_type.as_deref().is_some_and(|t| t.ends_with("Connection")) =>
            {
                let first = match self.argument(field, "first") {
                    Some(Value::Number(n)) => n.as_u64().unwrap_or(DEFAULT_PAGE),
                    _ => DEFAULT_PAGE,
                };
                // A page larger than the maximum is refused by the list itself, with its own message.
                (first.clamp(1, crate::pagination::MAX_PAGE_SIZE), 0)
            }
            // The items of a connection page were priced by the connection's page size.
            _ if parent.is_some_and(|p| p.ends_with("Connection")) => (1, 0),
            _ if ty.as_ref().is_some_and(is_list) => (UNPAGED_LIST, 0),
            _ => (1, 0),
        };
        let reads = matches!(parent, Some("Query" | "Mutation")) && !name.starts_with("__")
            || field.get_argument("first").is_some()
            || child_type.as_deref().is_some_and(|t| t.ends_with("Connection"));
        price.reads = price.reads.saturating_add(u64::from(reads));
        price.statements = price.statements.saturating_add(statements);
        price.cost = price.cost.saturating_add(children.cost.saturating_mul(multiplier));
        price.introspection = price
            .introspection
            .saturating_add(children.introspection.saturating_mul(multiplier));
        if parent == Some("Query") && matches!(name, "__schema" | "__type") {
            price.introspection = price.introspection.saturating_add(price.cost);
            price.cost = 0;
        }
        Ok(price)
    }

    /// The multiplier of an introspection list field (`__schema { types { fields ... } }`), for fields outside the
    /// schema's own types.
    fn introspection_list(&self, name: &str, parent: Option<&str>, unknown: bool) -> Option<u64> {
        if !unknown || parent.is_some_and(|p| self.types.is_object(p)) && !name.starts_with("__") {
            return None;
        }
        let sizes = &self.types.introspection;
        Some(match name {
            "types" => sizes.types,
            "fields" => sizes.fields,
            "args" => sizes.args,
            "enumValues" => sizes.enum_values,
            "inputFields" => sizes.input_fields,
            "directives" => 8,
            "interfaces" | "possibleTypes" => 1,
            _ => 1,
        })
    }

    /// What one `indicators` field costs: the rows it can return and the work of its statements.
    fn indicators(&mut self, field: &Field) -> IndicatorWork {
        let (periods, months) = match self.argument(field, "period") {
            Some(Value::Object(range)) => period_count(&range).unwrap_or((
                crate::indicator::MAX_PERIODS as u64,
                crate::indicator::MAX_PERIODS as u64,
            )),
            _ => (
                crate::indicator::MAX_PERIODS as u64,
                crate::indicator::MAX_PERIODS as u64,
            ),
        };
        let filter = match self.argument(field, "filter") {
            Some(Value::Object(filter)) => filter,
            _ => Default::default(),
        };
        let filtered = |name: &str, all: u64| match filter.get(name) {
            Some(Value::List(items)) => (items.len() as u64).min(all).max(1),
            _ => all,
        };
        let mut grouped: BTreeSet<Dim> = BTreeSet::new();
        if let Some(Value::List(dims)) = self.argument(field, "groupBy") {
            for dim in &dims {
                let name = match dim {
                    Value::Enum(name) => name.as_str(),
                    Value::String(name) => name.as_str(),
                    _ => continue,
                };
                grouped.extend(Dim::ALL.into_iter().filter(|d| d.name() == name));
            }
        }
        self.groupings.extend(grouped.iter().copied());
        let associations = filtered("associations", self.associations.max(1));
        let cardinality = |dim: Dim| match dim {
            Dim::Association => associations,
            Dim::Region => filtered("regions", REGIONS),
            Dim::Segment => filtered("segments", SEGMENTS),
            Dim::Gender => filtered("genders", GENDERS),
            Dim::Area => filtered("areas", AREAS),
            Dim::Activity => filtered("activities", ACTIVITIES),
        };
        let groups = grouped.iter().fold(1u64, |n, d| n.saturating_mul(cardinality(*d)));
        // A comparison reads (and returns) as many periods again.
        let compared = u64::from(matches!(self.argument(field, "compareTo"), Some(Value::Enum(_))));
        let periods = periods.saturating_mul(1 + compared);
        let months = months.saturating_mul(1 + compared);
        let mut aggs: BTreeSet<Agg> = BTreeSet::new();
        let mut coverage = false;
        self.measure_aggs(&field.selection_set.node, &mut aggs, &mut coverage, 0);
        if grouped.contains(&Dim::Activity) || filter.get(filter_name(Dim::Activity)).is_some() {
            // The loan measures are read from the loans by activity (and, for callers whose small groups are hidden,
            // from the loans too: they decide the totals over every activity).
            let by_activity: Vec<Agg> = aggs.iter().filter_map(|agg| agg.by_activity()).collect();
            if !self.small_groups {
                aggs.retain(|agg| agg.by_activity().is_none());
            }
            aggs.extend(by_activity);
        }
        let sources: BTreeSet<Source> = aggs.iter().map(|a| a.source()).collect();
        // Women's and rural clients' shares are hidden as the gender and area parts they are: those dimensions join
        // the finest grouping.
        let parts = [
            (Dim::Gender, aggs.contains(&Agg::ActiveFemale)),
            (Dim::Area, aggs.contains(&Agg::ActiveRural)),
        ];
        // Figures as they stood at an instant, or as released for callers whose small groups are hidden, are read
        // from the fact tables and their revisions; otherwise the rollups serve what they hold.
        let facts = self.small_groups || matches!(self.argument(field, "asOf"), Some(Value::String(_)));
        let names = |dim: Dim| grouped.contains(&dim) || filter.get(filter_name(dim)).is_some();
        let mut read = 0u64;
        let mut statements = u64::from(coverage);
        let span = format!(
            "{:?} {:?} {:?}",
            self.argument(field, "period"),
            self.argument(field, "compareTo"),
            filter
        );
        for source in &sources {
            // A finest read another field of the document made already costs nothing more.
            if self.small_groups && source.facts().is_some() && !self.shared.insert(format!("{source:?} {span}")) {
                continue;
            }
            statements += 1;
            let per_month = match source {
                Source::Clients | Source::Loans => {
                    // Cells of one month the statement sums: the rows of the table it is read from that match.
                    let cells = [Dim::Segment, Dim::Gender, Dim::Area]
                        .into_iter()
                        .fold(1u64, |n, d| n.saturating_mul(cardinality(d)));
                    let regions = cardinality(Dim::Region);
                    let any_cell = [Dim::Segment, Dim::Gender, Dim::Area].into_iter().any(names);
                    let by_association = names(Dim::Association) || self.small_groups;
                    match (facts, by_association, names(Dim::Region), any_cell) {
                        (true, ..) | (false, true, true, _) => associations * regions * cells,
                        (false, false, _, _) => regions * cells,
                        (false, true, false, false) => associations,
                        (false, true, false, true) => associations * cells,
                    }
                }
                Source::Staff => associations * STAFF_CELLS,
                Source::Activities => associations * cardinality(Dim::Region) * cardinality(Dim::Activity),
                Source::Targets => {
                    // The targets of the level asked for, and the statement finding who set one among the
                    // associations with figures (it reads the month's loan or client rows).
                    statements += 1;
                    let cells = [Dim::Segment, Dim::Gender, Dim::Area]
                        .into_iter()
                        .fold(1u64, |n, d| n.saturating_mul(cardinality(d)));
                    let regions = cardinality(Dim::Region);
                    associations * regions + associations * regions * cells
                }
                Source::Branches => associations * BRANCHES_PER_ASSOCIATION / months.max(1),
            };
            let rows = months.saturating_mul(per_month.max(1));
            read = read.saturating_add(rows);
            if self.small_groups {
                let sizes = FINEST_DIMS.map(cardinality);
                let extra: Vec<Dim> = parts.iter().filter(|(_, part)| *part).map(|(dim, _)| *dim).collect();
                self.finest.push((months, associations, sizes, rows, extra));
            }
        }
        // Hiding small groups sums the finest groups' figures per association into every coarser grouping: priced
        // once the document's dimensions are all known.
        // `coverage` reads the reports in one statement more.
        IndicatorWork {
            rows: periods.saturating_mul(groups),
            statements: statements.max(1),
            read,
        }
    }

    /// The sources read by the measures selected on an `IndicatorRow` (through fragments too).
    fn measure_aggs(&self, set: &SelectionSet, aggs: &mut BTreeSet<Agg>, coverage: &mut bool, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    *coverage |= field.node.name.node.as_str() == "coverage";
                    if let Some(def) = catalog::MEASURES
                        .iter()
                        .find(|m| m.field == field.node.name.node.as_str())
                    {
                        aggs.extend(def.formula.aggs());
                        // Targets are read only when `target` or `targetAchievement` is selected.
                        let wants_target = field.node.selection_set.node.items.iter().any(|item| match &item.node {
                            Selection::Field(sub) => {
                                matches!(sub.node.name.node.as_str(), "target" | "targetAchievement")
                            }
                            _ => true,
                        });
                        if let Some(target) = def.target.filter(|_| wants_target) {
                            aggs.insert(target);
                        }
                    }
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = self.document.fragments.get(&spread.node.fragment_name.node) {
                        self.measure_aggs(&fragment.node.selection_set.node, aggs, coverage, depth + 1);
                    }
                }
                Selection::InlineFragment(inline) => {
                    self.measure_aggs(&inline.node.selection_set.node, aggs, coverage, depth + 1)
                }
            }
        }
    }
}

/// Periods and months of a `PeriodRange` literal, when its values can be read.
fn period_count(range: &async_graphql::indexmap::IndexMap<Name, Value>) -> Option<(u64, u64)> {
    let text = |name: &str| match range.get(name) {
        Some(Value::String(s)) => crate::period::Period::parse(s).ok(),
        _ => None,
    };
    let (from, to) = (text("from")?, text("to")?);
    let granularity = match range.get("granularity") {
        Some(Value::Enum(g)) if g.as_str() == "QUARTER" => crate::period::Granularity::Quarter,
        Some(Value::Enum(g)) if g.as_str() == "YEAR" => crate::period::Granularity::Year,
        _ => crate::period::Granularity::Month,
    };
    let first = crate::period::Period::containing(granularity, from.first_month());
    let last = crate::period::Period::containing(granularity, to.last_month());
    let months = (last.last_month().0 / 100 - first.first_month().0 / 100) * 12
        + (last.last_month().0 % 100 - first.first_month().0 % 100)
        + 1;
    let months = months.max(1) as u64;
    Some((months.div_ceil(granularity.months() as u64), months))
}

/// The `IndicatorFilter` field that names values of a dimension.
fn filter_name(dim: Dim) -> &'static str {
    match dim {
        Dim::Association => "associations",
        Dim::Region => "regions",
        Dim::Segment => "segments",
        Dim::Gender => "genders",
        Dim::Area => "areas",
        Dim::Activity => "activities",
    }
}
