//! GraphQL beyond the engine: the schema's types as the pricing and the
//! response completion read them, the price of a document, and the
//! specification's response shape.

pub mod complete;
pub mod cost;
pub mod types;
