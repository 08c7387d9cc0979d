//! GraphQL beyond the engine: the schema's types as the pricing and the
//! response completion read them, the price of a document, and the
//! specification's response shape.

pub mod complete;
pub mod cost;
pub mod documents;
pub mod types;

use async_graphql::parser::types::{ExecutableDocument, OperationDefinition};

/// The operation a request runs: the one named, or the only one.
pub fn operation<'d>(document: &'d ExecutableDocument, name: Option<&str>) -> Option<&'d OperationDefinition> {
    document
        .operations
        .iter()
        .find(|(op_name, _)| name.is_none() || op_name.map(|n| n.as_str()) == name)
        .map(|(_, op)| &op.node)
}
