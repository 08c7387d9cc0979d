//! Completes an executed response as the GraphQL specification writes it.
//!
//! The engine resolves a selection's fields concurrently and leaves out a field
//! whose resolver failed. The specification wants the response's keys in the
//! order of the query, a failed field present as `null`, and a `null` in a
//! non-null position to make its parent `null` (up to the nearest nullable
//! field, or `data` itself). This pass walks the operation's selections beside
//! the data and rebuilds every object in that order, with those nulls.

use super::types::{TypeIndex, named};
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{
    BaseType, ExecutableDocument, Field, OperationDefinition, OperationType, Selection, SelectionSet, Type,
};
use async_graphql::{Name, PathSegment, Value, Variables};
use async_graphql_value::Value as DocumentValue;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// A `null` reached a non-null position: the enclosing nullable position becomes `null`.
struct Null;

/// One step of a response path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Step {
    Key(String),
    Index(usize),
}

/// The fields of an object's selections, grouped by response key in query order.
type Collected<'a> = Rc<Vec<(Name, Vec<&'a Field>)>>;

struct Completer<'a> {
    document: &'a ExecutableDocument,
    types: &'a TypeIndex,
    variables: &'a Variables,
    /// Paths of the field errors.
    failed: HashSet<Vec<Step>>,
    /// Every proper prefix of an error path.
    above_failure: HashSet<Vec<Step>>,
    /// Whether paths are followed (only a response with field errors needs them).
    tracking: bool,
    /// The fields collected for each group of selection sets on a type: every item of a list has the same.
    collected: RefCell<HashMap<(Vec<usize>, &'a str), Collected<'a>>>,
}

/// Rebuilds `data` in query order with the specification's nulls. `errors` are the response's field errors.
pub fn complete(
    data: Value,
    document: &ExecutableDocument,
    operation: &OperationDefinition,
    variables: &Variables,
    types: &TypeIndex,
    errors: &[async_graphql::ServerError],
) -> Value {
    let mut failed = HashSet::new();
    let mut above_failure = HashSet::new();
    for error in errors {
        let path: Vec<Step> = error
            .path
            .iter()
            .map(|s| match s {
                PathSegment::Field(key) => Step::Key(key.clone()),
                PathSegment::Index(i) => Step::Index(*i),
            })
            .collect();
        for end in 0..path.len() {
            above_failure.insert(path[..end].to_vec());
        }
        failed.insert(path);
    }
    let completer = Completer {
        document,
        types,
        variables,
        tracking: !failed.is_empty(),
        failed,
        above_failure,
        collected: RefCell::default(),
    };
    let root = match operation.ty {
        OperationType::Mutation => "Mutation",
        OperationType::Subscription => "Subscription",
        OperationType::Query => "Query",
    };
    let mut path = Vec::new();
    let data = match data {
        Value::Null => Value::Object(IndexMap::new()),
        other => other,
    };
    completer
        .object(data, root, &[&operation.selection_set.node], &mut path)
        .unwrap_or(Value::Null)
}

impl<'a> Completer<'a> {
    /// True when a directive `@skip`/`@include` leaves the selection out.
    fn excluded(&self, selection: &Selection) -> bool {
        selection.directives().iter().any(|directive| {
            let condition = directive
                .node
                .get_argument("if")
                .map(|v| match &v.node {
                    DocumentValue::Boolean(b) => *b,
                    DocumentValue::Variable(name) => matches!(self.variables.get(name), Some(Value::Boolean(true))),
                    _ => false,
                })
                .unwrap_or(false);
            match directive.node.name.node.as_str() {
                "skip" => condition,
                "include" => !condition,
                _ => false,
            }
        })
    }

    /// The fields of the selections on an object of type `on`, grouped by response key in query order.
    fn collect(
        &self,
        sets: &[&'a SelectionSet],
        on: &str,
        into: &mut IndexMap<Name, Vec<&'a Field>>,
        visited: &mut HashSet<&'a str>,
    ) {
        for set in sets {
            for selection in &set.items {
                if self.excluded(&selection.node) {
                    continue;
                }
                match &selection.node {
                    Selection::Field(field) => {
                        into.entry(field.node.response_key().node.clone())
                            .or_default()
                            .push(&field.node);
                    }
                    Selection::FragmentSpread(spread) => {
                        let name = spread.node.fragment_name.node.as_str();
                        if !visited.insert(name) {
                            continue;
                        }
                        if let Some(fragment) = self.document.fragments.get(&spread.node.fragment_name.node)
                            && self.applies(fragment.node.type_condition.node.on.node.as_str(), on)
                        {
                            self.collect(&[&fragment.node.selection_set.node], on, into, visited);
                        }
                    }
                    Selection::InlineFragment(inline) => {
                        let applies = inline
                            .node
                            .type_condition
                            .as_ref()
                            .is_none_or(|c| self.applies(c.node.on.node.as_str(), on));
                        if applies {
                            self.collect(&[&inline.node.selection_set.node], on, into, visited);
                        }
                    }
                }
            }
        }
    }

    /// The schema has object types only: a condition applies to its own type (or to a type this pass does not know).
    fn applies(&self, condition: &str, on: &str) -> bool {
        condition == on || !self.types.is_object(condition)
    }

    /// The fields of `sets` on an object of type `on`, collected once per response.
    fn fields(&self, sets: &[&'a SelectionSet], on: &'a str) -> Collected<'a> {
        let key = (sets.iter().map(|s| *s as *const SelectionSet as usize).collect(), on);
        if let Some(known) = self.collected.borrow().get(&key) {
            return known.clone();
        }
        let mut fields = IndexMap::new();
        self.collect(sets, on, &mut fields, &mut HashSet::new());
        let fields: Collected<'a> = Rc::new(fields.into_iter().collect());
        self.collected.borrow_mut().insert(key, fields.clone());
        fields
    }

    fn object(
        &self,
        value: Value,
        on: &'a str,
        sets: &[&'a SelectionSet],
        path: &mut Vec<Step>,
    ) -> Result<Value, Null> {
        let Value::Object(mut values) = value else {
            return Ok(value);
        };
        let fields = self.fields(sets, on);
        let mut completed = IndexMap::with_capacity(fields.len());
        for (key, group) in fields.iter() {
            let field = group[0];
            let name = field.name.node.as_str();
            if self.tracking {
                path.push(Step::Key(key.to_string()));
            }
            let value = values.swap_remove(key);
            let result = match self.types.field(on, name) {
                // Introspection and `__typename` are answered whole by the engine.
                None => Ok(value.unwrap_or(Value::Null)),
                Some(ty) => {
                    let failed = self.tracking && self.failed.contains(path.as_slice());
                    let below = self.tracking && self.above_failure.contains(path.as_slice());
                    match value {
                        // Left out without an error below it: nothing to put back.
                        None if !failed && !below => {
                            if self.tracking {
                                path.pop();
                            }
                            continue;
                        }
                        // Its resolver failed: null where the type allows it.
                        None if ty.nullable => Ok(Value::Null),
                        None => Err(Null),
                        Some(value) => {
                            let sets: Vec<&SelectionSet> = group.iter().map(|f| &f.selection_set.node).collect();
                            self.value(value, ty, &sets, path)
                        }
                    }
                }
            };
            if self.tracking {
                path.pop();
            }
            completed.insert(key.clone(), result?);
        }
        Ok(Value::Object(completed))
    }

    fn value(
        &self,
        value: Value,
        ty: &'a Type,
        sets: &[&'a SelectionSet],
        path: &mut Vec<Step>,
    ) -> Result<Value, Null> {
        let completed = match (&ty.base, value) {
            (BaseType::Named(name), Value::Null)
                if self.tracking && self.types.is_object(name) && self.above_failure.contains(path.as_slice()) =>
            {
                // Every field of the object failed: the object is there, its fields are null.
                self.object(Value::Object(IndexMap::new()), name, sets, path)
            }
            (_, Value::Null) => Ok(Value::Null),
            (BaseType::List(inner), Value::List(items)) => {
                let mut completed = Vec::with_capacity(items.len());
                let mut result = Ok(());
                for (i, item) in items.into_iter().enumerate() {
                    if self.tracking {
                        path.push(Step::Index(i));
                    }
                    let item = self.value(item, inner, sets, path);
                    if self.tracking {
                        path.pop();
                    }
                    match item {
                        Ok(item) => completed.push(item),
                        Err(null) => {
                            result = Err(null);
                            break;
                        }
                    }
                }
                result.map(|()| Value::List(completed))
            }
            (BaseType::Named(_), value @ Value::Object(_)) if self.types.is_object(named(ty)) => {
                self.object(value, named(ty), sets, path)
            }
            (_, value) => Ok(value),
        };
        match completed {
            Ok(Value::Null) | Err(Null) if !ty.nullable => Err(Null),
            Err(Null) => Ok(Value::Null),
            ok => ok,
        }
    }
}
